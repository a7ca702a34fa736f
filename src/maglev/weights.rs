// SPDX-License-Identifier: GPL-2.0

//! How weights become turns: the gcd of the weights and a shift that keeps
//! the largest ratio within `TableSize::bits()` bits.

use super::size::TableSize;

/// The weight scaling of a build, as C computes it (by default: no
/// positive weight).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Weights {
    /// gcd of all positive last weights; 0 if there is none.
    pub gcd: i32,
    /// Right shift applied to `last_weight / gcd`.
    pub rshift: u32,
}

impl Weights {
    /// The usual case, weights with no common factor and a small ratio:
    /// each destination's turns are its weight ([`plain_turns`]).
    pub fn is_plain(self) -> bool {
        self.gcd == 1 && self.rshift == 0
    }
}

/// A destination's turns when the weights are plain ([`Weights::is_plain`]):
/// the weight itself (0 for one below 1), without a division.
#[inline(always)]
pub fn plain_turns(last_weight: i32) -> u32 {
    u32::try_from(last_weight).unwrap_or(0)
}

/// Greatest common divisor (Euclid). `gcd(a, 0) == a`.
pub const fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        let r = a % b;
        a = b;
        b = r;
    }
    a
}

/// Position of the most significant set bit, 1-based; 0 for 0 (`fls`).
const fn fls(x: u32) -> u32 {
    u32::BITS - x.leading_zeros()
}

/// The gcd of the positive `last_weights` and the shift that keeps
/// `max_weight / gcd` within `size.bits()` bits.
///
/// Non-positive last weights are ignored, as in C. (A build reads them in
/// its own pass, with [`WeightsSeen`]; this is for the tests and tools.)
#[cfg(maglev_full)]
pub fn weights(last_weights: &[i32], size: TableSize) -> Weights {
    let mut seen = WeightsSeen::default();
    for &w in last_weights {
        seen.add(w);
    }
    seen.weights(size)
}

/// The last weights seen so far, one at a time: what [`weights`] needs of
/// them (a build folds this into its pass over the destinations).
#[derive(Clone, Copy, Debug, Default)]
pub struct WeightsSeen {
    gcd: u32,
    max: u32,
}

impl WeightsSeen {
    /// Takes last weight `w` into account.
    #[inline(always)]
    pub fn add(&mut self, w: i32) {
        // Negative weights fail the conversion and are skipped like 0.
        if let Ok(w) = u32::try_from(w) {
            if w > 0 {
                // Once the gcd is 1 it stays 1: no more divisions.
                self.gcd = match self.gcd {
                    0 => w,
                    1 => 1,
                    g => gcd(w, g),
                };
                self.max = self.max.max(w);
            }
        }
    }

    /// The weight scaling of the weights seen, for a table of `size`.
    pub fn weights(self, size: TableSize) -> Weights {
        let Some(ratio) = self.max.checked_div(self.gcd) else {
            // No positive weight: the table will be emptied.
            return Weights { gcd: 0, rshift: 0 };
        };
        Weights {
            // The gcd divides a positive i32, so it fits.
            gcd: i32::try_from(self.gcd).unwrap_or(i32::MAX),
            rshift: fls(ratio).saturating_sub(size.bits()),
        }
    }
}

/// Slots a destination claims per round: `(last_weight / gcd) >> rshift`,
/// or 1 if that is 0 while `last_weight` is not.
///
/// Returns 0 where C's signed `turns` would be below 1 (the destination is
/// skipped either way), and 0 when `w.gcd < 1` (C builds no table then).
pub fn turns(last_weight: i32, w: Weights) -> u32 {
    if w.gcd < 1 {
        return 0;
    }
    if w.is_plain() {
        return plain_turns(last_weight);
    }
    // gcd >= 1, so neither division by zero nor overflow can happen.
    let ratio = last_weight.checked_div(w.gcd).unwrap_or(0);
    // An arithmetic shift, like C's on a signed int; a shift of 32 or more is
    // undefined in C and never computed there (rshift <= 31 - bits).
    let shifted = ratio.checked_shr(w.rshift).unwrap_or(ratio >> 31);
    let t = if shifted != 0 {
        shifted
    } else {
        i32::from(last_weight != 0)
    };
    u32::try_from(t).unwrap_or(0)
}
