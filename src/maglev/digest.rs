// SPDX-License-Identifier: GPL-2.0

//! A 64-bit digest of a built table, for operators to compare directors.
//!
//! Two directors schedule every client alike when their tables name the same
//! destination in every slot. [`table_digest`] condenses that mapping into 64
//! bits: equal tables give equal digests whatever the order of the
//! destination arrays they were built from, and different tables give
//! different digests except with negligible probability (it is a keyed hash,
//! not a cryptographic commitment: it detects accidents, not adversaries).
//!
//! # Encoding (version 1)
//!
//! The digest is SipHash-2-4 ([`SipHash24`]) with the fixed key
//! [`DIGEST_KEY`], the 16 ASCII bytes `ip_vs_mh.digest1` (`k0` and `k1` are
//! its two halves read as little-endian `u64`s, as in the SipHash reference),
//! over this message:
//!
//! | Field | Bytes |
//! | --- | --- |
//! | version | 1 byte: [`DIGEST_VERSION`] (`0x01`) |
//! | M | 4 bytes: the table size ([`TableSize::slots`]), big-endian |
//! | slot 0, 1, ..., in order | one record per slot |
//!
//! Each slot's record names what the slot holds:
//!
//! | Slot holds | Record |
//! | --- | --- |
//! | nothing ([`Slot::EMPTY`]) | `0x00` |
//! | an IPv4 destination | `0x04`, 4 address bytes, port (2 bytes, big-endian), last weight (4 bytes, big-endian two's complement) |
//! | an IPv6 destination | `0x06`, 16 address bytes, port (2 bytes, big-endian), last weight (4 bytes, big-endian two's complement) |
//! | an index past the end of `dests` | `0xff` (never in a table [`populate`] built) |
//!
//! The address is the destination's [`Addr`] as the core sees it, i.e. read
//! in the service's family, in network byte order. Every record starts with
//! a tag that fixes its length, so the message decodes unambiguously.
//!
//! What is hashed is the destination a slot names, not its index, so the
//! order of `dests` does not matter. Including the last weight means that
//! two directors whose tables coincide but whose weights differ (1:1 on one,
//! 2:2 on the other) get different digests: their next change would build
//! different tables. Current weights and overload flags are not part of the
//! table and not hashed; destinations that own no slot are not hashed.
//!
//! [`populate`]: super::populate

use super::dest::Dest;
use super::key::Addr;
use super::siphash::SipState;
use super::size::TableSize;
use super::slot::Slot;
#[cfg(maglev_full)]
use core::borrow::Borrow;

/// The version byte that starts the digested message.
pub const DIGEST_VERSION: u8 = 1;

/// The SipHash-2-4 key of [`table_digest`]: the ASCII bytes
/// `ip_vs_mh.digest1`.
pub const DIGEST_KEY: [u8; 16] = *b"ip_vs_mh.digest1";

/// Record tag of an empty slot.
const TAG_EMPTY: u8 = 0x00;
/// Record tag of an IPv4 destination.
const TAG_V4: u8 = 0x04;
/// Record tag of an IPv6 destination.
const TAG_V6: u8 = 0x06;
/// Record tag of a slot whose index names no destination.
const TAG_DANGLING: u8 = 0xff;

/// The 64-bit digest of a table (encoding: see the [module
/// documentation](self)).
///
/// `slots` is a table built for `size`; `dest(i)` names destination `i` of
/// the build (what the slots index), or `None` past the last one. Every
/// slot is hashed, in order, as the destination it names. Never fails and
/// never panics: a slot naming no destination is hashed as a distinct
/// marker, and a `slots` slice of the wrong length is hashed as it is.
///
/// Cost: one pass over the table, 11 bytes hashed per IPv4 slot and 23 per
/// IPv6 slot (1.4 MB at M = 131071 with IPv4).
pub fn table_digest_by<S: Slot>(
    size: TableSize,
    slots: &[S],
    dest: impl Fn(usize) -> Option<Dest>,
) -> u64 {
    let mut h = SipHash24::new(&DIGEST_KEY);
    h.write(&[DIGEST_VERSION]);
    h.write(&size.slots().to_be_bytes());
    for slot in slots {
        match slot.index() {
            None => h.write(&[TAG_EMPTY]),
            Some(i) => match dest(i) {
                Some(d) => write_dest(&mut h, &d),
                None => h.write(&[TAG_DANGLING]),
            },
        }
    }
    h.finish()
}

/// [`table_digest_by`] of a table built from `dests`.
#[cfg(maglev_full)]
pub fn table_digest<S: Slot, D: Borrow<Dest>>(size: TableSize, dests: &[D], slots: &[S]) -> u64 {
    table_digest_by(size, slots, |i| dests.get(i).map(|d| *d.borrow()))
}

/// Appends the record of a slot that names `d`.
fn write_dest(h: &mut SipHash24, d: &Dest) {
    match &d.addr {
        Addr::V4(a) => {
            h.write(&[TAG_V4]);
            h.write(a);
        }
        Addr::V6(a) => {
            h.write(&[TAG_V6]);
            h.write(a);
        }
    }
    h.write(&d.port.to_be_bytes());
    h.write(&d.last_weight.to_be_bytes());
}

/// SipHash-2-4 (Aumasson and Bernstein, 2012) with a 64-bit result,
/// computed incrementally: [`write`](Self::write) any number of byte slices,
/// then [`finish`](Self::finish). The result depends only on the
/// concatenation of the slices.
///
/// This is the standard SipHash (two compression rounds, four finalization
/// rounds), not the kernel's `hsiphash` that places destinations.
#[derive(Clone, Copy, Debug)]
pub struct SipHash24 {
    state: SipState,
    // INVARIANT: `ntail < 8`; `tail` holds the `ntail` bytes not yet
    // compressed, little-endian, and is zero above them.
    tail: u64,
    ntail: u32,
    /// Bytes written so far (only the low byte enters the hash).
    len: u64,
}

impl SipHash24 {
    /// A hasher keyed with the 16 bytes `key` (`k0` = bytes 0..8 and `k1` =
    /// bytes 8..16, each little-endian).
    pub const fn new(key: &[u8; 16]) -> Self {
        let k0 = u64::from_le_bytes([
            key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
        ]);
        let k1 = u64::from_le_bytes([
            key[8], key[9], key[10], key[11], key[12], key[13], key[14], key[15],
        ]);
        SipHash24 {
            state: SipState::new(k0, k1),
            tail: 0,
            ntail: 0,
            len: 0,
        }
    }

    /// Appends `bytes` to the message.
    pub fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // ntail < 8, so the shift is below 64.
            self.tail |= u64::from(b).wrapping_shl(self.ntail.wrapping_mul(8));
            self.ntail = self.ntail.wrapping_add(1);
            if self.ntail == 8 {
                self.compress(self.tail);
                self.tail = 0;
                self.ntail = 0;
            }
        }
        // The length is only used modulo 256.
        self.len = self.len.wrapping_add(bytes.len() as u64);
    }

    /// The SipHash-2-4 of everything written so far (the hasher is left
    /// unchanged, so more may be written afterwards).
    pub fn finish(&self) -> u64 {
        let mut s = *self;
        s.compress(self.tail | self.len.wrapping_shl(56));
        s.state.v2 ^= 0xff;
        s.state.round();
        s.state.round();
        s.state.round();
        s.state.round();
        s.state.fold()
    }

    /// Absorbs one 8-byte block with two rounds.
    #[inline(always)]
    fn compress(&mut self, m: u64) {
        self.state.v3 ^= m;
        self.state.round();
        self.state.round();
        self.state.v0 ^= m;
    }
}

/// SipHash-2-4 of `data` under `key` in one call.
#[cfg(maglev_full)]
pub fn siphash24(key: &[u8; 16], data: &[u8]) -> u64 {
    let mut h = SipHash24::new(key);
    h.write(data);
    h.finish()
}
