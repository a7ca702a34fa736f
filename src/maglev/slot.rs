// SPDX-License-Identifier: GPL-2.0

//! Slot storage: a small index into the destination array.

/// A table slot: the index of a destination, or [`Slot::EMPTY`].
///
/// A narrow slot type keeps the table small (2 bytes per slot for `u16`
/// instead of one 8-byte pointer per slot in C).
pub trait Slot: Copy + Eq {
    /// The value of a slot that holds no destination.
    const EMPTY: Self;
    /// How many destinations this type can index (indices `0..MAX_DESTS`).
    const MAX_DESTS: usize;
    /// The slot for destination `i`; [`Slot::EMPTY`] if `i >= MAX_DESTS`.
    fn from_index(i: usize) -> Self;
    /// The slot for destination `i` where `i < MAX_DESTS` is known (a
    /// build checks it once for all its destinations): `i`'s low bits,
    /// without [`Slot::from_index`]'s check on every claim.
    fn from_known_index(i: usize) -> Self;
    /// The destination index held, or `None` for an empty slot.
    fn index(self) -> Option<usize>;
    /// Indices below this have the type's top bit clear, which
    /// [`Slot::EMPTY`] (all ones) has set.
    const TOP_BIT_CLEAR_BELOW: usize;
    /// Whether any slot of `chunk` has its top bit set: with every index
    /// held below [`Slot::TOP_BIT_CLEAR_BELOW`], whether any is empty. The
    /// slots are read a machine word at a time, not one by one.
    fn any_top_bit(chunk: &[Self; WORD_CHUNK]) -> bool;
}

/// Slots per [`Slot::any_top_bit`] check: 32 bytes of `u16` slots, 64 of
/// `u32`.
pub const WORD_CHUNK: usize = 16;

/// Slots of an unsigned integer type: the largest value marks an empty
/// slot, every smaller one is a destination index. The table never holds
/// more than 131071 destinations, so an index fits `usize` on every kernel
/// target.
macro_rules! unsigned_slot {
    ($($t:ty)*) => {$(
        impl Slot for $t {
            const EMPTY: Self = <$t>::MAX;
            const MAX_DESTS: usize = <$t>::MAX as usize;
            const TOP_BIT_CLEAR_BELOW: usize = 1 << (<$t>::BITS - 1);

            #[inline(always)]
            fn any_top_bit(chunk: &[Self; WORD_CHUNK]) -> bool {
                const PER_WORD: usize = (u64::BITS / <$t>::BITS) as usize;
                // The top bit of each slot's place in a word.
                const TOPS: u64 = u64::MAX / (<$t>::MAX as u64) << (<$t>::BITS - 1);
                // Little-endian lanes from adjacent slots: the compiler
                // reads each word with one load (word by word: merged into
                // one expression, the reads would be split up again).
                chunk.chunks_exact(PER_WORD).any(|word| {
                    word.iter().rev().fold(0u64, |w, &v| w << <$t>::BITS | u64::from(v)) & TOPS != 0
                })
            }

            #[inline(always)]
            fn from_index(i: usize) -> Self {
                match <$t>::try_from(i) {
                    Ok(v) => v,
                    Err(_) => Self::EMPTY,
                }
            }

            #[inline(always)]
            fn from_known_index(i: usize) -> Self {
                // The caller knows `i` fits: the cast keeps it whole.
                i as $t
            }

            #[inline(always)]
            fn index(self) -> Option<usize> {
                if self == Self::EMPTY {
                    None
                } else {
                    usize::try_from(self).ok()
                }
            }
        }
    )*};
}
unsigned_slot!(u16 u32);

/// A table every slot of which is [`Slot::EMPTY`]: what a build starts
/// from.
///
/// A build writes only the slots it claims, so the table must be empty
/// first. Emptying it is a write of every slot, which a table just
/// allocated filled with [`Slot::EMPTY`] has had already: such a table is
/// taken as it is ([`EmptySlots::filled`]), a used one is emptied
/// (`EmptySlots::clear`), so no table is written whole twice.
pub struct EmptySlots<'a, S>(&'a mut [S]);

impl<'a, S: Slot> EmptySlots<'a, S> {
    /// Empties `slots`, whatever they hold (userspace: the module builds
    /// only into fresh tables).
    #[cfg(maglev_full)]
    pub fn clear(slots: &'a mut [S]) -> Self {
        slots.fill(S::EMPTY);
        EmptySlots(slots)
    }

    /// Slots made empty by their caller: allocated filled with
    /// [`Slot::EMPTY`], and not written since. Not checked (that would read
    /// every slot again): a slot that is not empty counts as claimed, so
    /// the table would come out wrong, and a build that ran out of empty
    /// slots would not end. For anything else, `EmptySlots::clear`.
    pub fn filled(slots: &'a mut [S]) -> Self {
        EmptySlots(slots)
    }

    /// The slots, for the build to fill.
    pub(super) fn into_slice(self) -> &'a mut [S] {
        self.0
    }
}
