// SPDX-License-Identifier: GPL-2.0

//! Exact remainders by a fixed divisor without a division instruction.
//!
//! Lookups take `hash % M` for one of ten fixed primes. The C scheduler
//! gets a multiply-and-shift from the compiler because M is a build-time
//! constant; here M is chosen at run time, so the reciprocal is computed
//! once per table size instead (Lemire, Kaser and Kurz, "Faster Remainder
//! by Direct Computation", 2019: with a 64-bit reciprocal the result is
//! exact for every 32-bit dividend and divisor).

use core::num::NonZeroU32;

/// A divisor with its precomputed reciprocal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modulus {
    // INVARIANT: `magic == ceil(2^64 / d)` (0 for d == 1, the wrapped value).
    d: NonZeroU32,
    magic: u64,
}

impl Modulus {
    /// Precomputes the reciprocal of `d`.
    pub const fn new(d: NonZeroU32) -> Self {
        // floor((2^64 - 1) / d) + 1 == ceil(2^64 / d) for every d > 1; it
        // wraps to 0 for d == 1, which still yields the right remainder, 0.
        let magic = match u64::MAX.checked_div(d.get() as u64) {
            Some(q) => q.wrapping_add(1),
            None => 0,
        };
        Modulus { d, magic }
    }

    /// The divisor.
    pub const fn get(self) -> u32 {
        self.d.get()
    }

    /// `n % self.get()`, exactly.
    #[inline(always)]
    pub const fn rem(self, n: u32) -> u32 {
        // The low 64 bits of magic * n hold the fractional part of n / d;
        // scaling it by d gives the remainder in the high 64 bits.
        let frac = self.magic.wrapping_mul(n as u64);
        // A 64 x 32-bit product cannot overflow 128 bits; `wrapping_mul`
        // avoids an overflow-check call on kernels that enable them.
        ((frac as u128).wrapping_mul(self.d.get() as u128) >> 64) as u32
    }
}
