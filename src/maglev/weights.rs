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
/// Non-positive last weights are ignored, as in C.
pub fn weights(last_weights: &[i32], size: TableSize) -> Weights {
    let mut g: u32 = 0;
    let mut max: u32 = 0;
    for &w in last_weights {
        // Negative weights fail the conversion and are skipped like 0.
        if let Ok(w) = u32::try_from(w) {
            if w > 0 {
                g = if g > 0 { gcd(w, g) } else { w };
                max = max.max(w);
            }
        }
    }
    let Some(ratio) = max.checked_div(g) else {
        // No positive weight: the table will be emptied.
        return Weights { gcd: 0, rshift: 0 };
    };
    Weights {
        // g divides a positive i32, so it fits.
        gcd: i32::try_from(g).unwrap_or(i32::MAX),
        rshift: fls(ratio).saturating_sub(size.bits()),
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
    if w.gcd == 1 && w.rshift == 0 {
        // The usual case, weights with no common factor and a small ratio:
        // the weight itself (0 for one below 1), without the division.
        return u32::try_from(last_weight).unwrap_or(0);
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
