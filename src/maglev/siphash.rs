// SPDX-License-Identifier: GPL-2.0

//! `hsiphash` as 64-bit kernels compute it.
//!
//! On 64-bit kernels `hsiphash` is SipHash-1-3 (one compression round per
//! 8-byte block, three finalization rounds) with two 64-bit key words, and
//! its 64-bit result is truncated to 32 bits. The IPVS `mh` scheduler hashes
//! with it, so every director must compute exactly this function.

use super::key::HashKey;

/// The four SipHash state words and the SipRound over them: the one
/// implementation behind `hsiphash` here and the digest's SipHash-2-4
/// ([`super::digest::SipHash24`]), which differ only in how many rounds
/// they run.
#[derive(Clone, Copy, Debug)]
pub(super) struct SipState {
    pub(super) v0: u64,
    pub(super) v1: u64,
    pub(super) v2: u64,
    pub(super) v3: u64,
}

impl SipState {
    /// Initial state: the SipHash constants ("somepseudorandomlygeneratedbytes")
    /// mixed with the key words.
    #[inline(always)]
    pub(super) const fn new(k0: u64, k1: u64) -> Self {
        SipState {
            v0: 0x736f_6d65_7073_6575 ^ k0,
            v1: 0x646f_7261_6e64_6f6d ^ k1,
            v2: 0x6c79_6765_6e65_7261 ^ k0,
            v3: 0x7465_6462_7974_6573 ^ k1,
        }
    }

    /// One SipRound.
    #[inline(always)]
    pub(super) fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13) ^ self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16) ^ self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21) ^ self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17) ^ self.v2;
        self.v2 = self.v2.rotate_left(32);
    }

    /// The XOR of the four words, SipHash's 64-bit result.
    #[inline(always)]
    pub(super) const fn fold(&self) -> u64 {
        self.v0 ^ self.v1 ^ self.v2 ^ self.v3
    }
}

/// SipHash-1-3 as `hsiphash` runs it.
#[derive(Clone, Copy)]
struct State(SipState);

impl State {
    #[inline(always)]
    fn new(key: &HashKey) -> Self {
        let [k0, k1] = key.0;
        State(SipState::new(k0, k1))
    }

    /// Absorbs one full 8-byte block (one compression round).
    #[inline(always)]
    fn compress(&mut self, m: u64) {
        self.0.v3 ^= m;
        self.0.round();
        self.0.v0 ^= m;
    }

    /// Absorbs the last block `b` (length in the top byte, tail bytes below)
    /// and finalizes with three rounds.
    #[inline(always)]
    fn finish(mut self, b: u64) -> u32 {
        self.compress(b);
        self.0.v2 ^= 0xff;
        self.0.round();
        self.0.round();
        self.0.round();
        // The kernel returns the 64-bit value through a u32: keep the low half.
        self.0.fold() as u32
    }
}

/// Reads up to 8 bytes as a little-endian integer (missing bytes are zero).
#[cfg(maglev_full)]
#[inline(always)]
fn le_bytes(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte))
}

/// `hsiphash(data, len, key)` of a 64-bit kernel, for any length.
#[cfg(maglev_full)]
pub fn hsiphash(data: &[u8], key: &HashKey) -> u32 {
    let mut state = State::new(key);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        state.compress(le_bytes(block));
    }
    // Only the low byte of the length is kept, as in the reference.
    let b = ((data.len() as u64) << 56) | le_bytes(blocks.remainder());
    state.finish(b)
}

/// `hsiphash` of the 4 little-endian bytes of `v` (the kernel's
/// `hsiphash_1u32`); equal to `hsiphash(&v.to_le_bytes(), key)`.
#[inline(always)]
pub fn hsiphash_u32(v: u32, key: &HashKey) -> u32 {
    State::new(key).finish((4u64 << 56) | u64::from(v))
}
