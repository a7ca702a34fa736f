// SPDX-License-Identifier: GPL-2.0

//! Table sizes: the ten primes the C scheduler offers.

use super::error::Error;
use super::modulus::Modulus;
use core::num::NonZeroU32;

/// Size of a lookup table, chosen by index like `CONFIG_IP_VS_MH_TAB_INDEX`.
///
/// The slot count is a prime, so that every skip in `1..M` visits every slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableSize {
    // INVARIANT: `MIN_INDEX <= index <= MAX_INDEX`, `slots` is its prime and
    // `skip_mod` is `slots - 1`.
    index: u32,
    slots: Modulus,
    skip_mod: Modulus,
}

impl TableSize {
    /// Smallest index (251 slots).
    pub const MIN_INDEX: u32 = 8;
    /// Largest index (131071 slots).
    pub const MAX_INDEX: u32 = 17;
    /// The kernel's default index (4093 slots).
    #[cfg(maglev_full)]
    pub const DEFAULT_INDEX: u32 = 12;
    /// Slot counts for indices `MIN_INDEX..=MAX_INDEX`, in order.
    pub const PRIMES: [u32; 10] = [
        251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
    ];
    /// The table size for [`Self::DEFAULT_INDEX`].
    #[cfg(maglev_full)]
    pub const DEFAULT: TableSize = match Self::new(Self::DEFAULT_INDEX) {
        Ok(size) => size,
        // Evaluated at compile time: a bad index would fail the build.
        Err(_) => panic!("the default index is valid"),
    };
    const _ONE_PRIME_PER_INDEX: () = assert!(
        Self::PRIMES.len() == (Self::MAX_INDEX - Self::MIN_INDEX + 1) as usize,
        "PRIMES has one entry per index"
    );

    /// The table size for `index`, or [`Error::BadTableIndex`] outside
    /// `MIN_INDEX..=MAX_INDEX`.
    pub const fn new(index: u32) -> Result<Self, Error> {
        if index < Self::MIN_INDEX || index > Self::MAX_INDEX {
            return Err(Error::BadTableIndex);
        }
        // In bounds by the check above, so the indexing cannot panic.
        let slots = Self::PRIMES[(index - Self::MIN_INDEX) as usize];
        match (
            NonZeroU32::new(slots),
            NonZeroU32::new(slots.wrapping_sub(1)),
        ) {
            (Some(slots), Some(skip_mod)) => Ok(TableSize {
                index,
                slots: Modulus::new(slots),
                skip_mod: Modulus::new(skip_mod),
            }),
            _ => Err(Error::BadTableIndex),
        }
    }

    /// The index this size was made from.
    pub const fn index(self) -> u32 {
        self.index
    }

    /// The number of slots M (a prime).
    pub const fn slots(self) -> u32 {
        self.slots.get()
    }

    /// M as a divisor: `size.modulus().rem(h)` is `h % M`.
    pub const fn modulus(self) -> Modulus {
        self.slots
    }

    /// `M - 1`, the divisor of the skip hash (skips are in `1..M`).
    pub const fn skip_modulus(self) -> Modulus {
        self.skip_mod
    }

    /// `IP_VS_MH_TAB_BITS`: the number of weight bits kept before shifting.
    pub const fn bits(self) -> u32 {
        self.index / 2
    }
}
