// SPDX-License-Identifier: GPL-2.0

//! Building a table: rounds over the destinations, each claiming its next
//! preferred free slots, until every slot is taken.

use super::error::Error;
use super::permutation::Permutation;
use super::size::TableSize;
use super::slot::Slot;
use super::weights::{
    turns,
    weights,
    Weights, //
};

/// One destination's scratch during a build: the slot its next probe
/// starts from, and how many slots it claims per round.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cursor {
    next: u32,
    turns: u32,
}

/// What a build found out besides the slots (by default: an empty table's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Populated {
    /// The weight scaling.
    pub weights: Weights,
    /// How far the first round got: the table filled up before destination
    /// `reached`, so it and those after it own no slot (all destinations
    /// when the first round completed, none when the table is empty).
    pub reached: usize,
}

impl Populated {
    /// Whether destination `dest` (with `last_weight`) owns at least one
    /// slot: the first round reached it and it has turns. Every destination
    /// the first round gives a turn keeps that slot.
    pub fn owns_slot(&self, dest: usize, last_weight: i32) -> bool {
        dest < self.reached && turns(last_weight, self.weights) > 0
    }
}

/// The number of 64-bit words of the map of taken slots that a build of
/// `size` needs.
pub const fn taken_words(size: TableSize) -> usize {
    (size.slots() as usize).div_ceil(64)
}

/// What a build needs besides its inputs and the table: one cursor per
/// destination and the map of taken slots ([`taken_words`] long). Their
/// contents do not matter; the build overwrites them.
pub struct Scratch<'a> {
    /// One per destination.
    pub cursors: &'a mut [Cursor],
    /// At least [`taken_words`] words.
    pub taken: &'a mut [u64],
}

/// Builds the table of destinations with permutations `perms` and last
/// weights `last_weights` (both in table order), exactly as the C scheduler
/// does (`ip_vs_mh_populate`).
///
/// `slots.len()` must be `size.slots()`, `last_weights` and
/// `scratch.cursors` as long as `perms`, and `scratch.taken` at least
/// [`taken_words`] long, else [`Error::BufferSize`]. More destinations than
/// slots, or than `S` can index, is [`Error::TooManyDests`]; a permutation
/// that is not one of `size` ([`Permutation::new`]) is
/// [`Error::BadPermutation`]. On error nothing is written.
///
/// Every slot is written once, whatever `slots` held: with an index into
/// the destinations, or [`Slot::EMPTY`] when no destination has a positive
/// last weight (or there is none), as in C.
pub fn populate<S: Slot>(
    size: TableSize,
    perms: &[Permutation],
    last_weights: &[i32],
    scratch: Scratch<'_>,
    slots: &mut [S],
) -> Result<Populated, Error> {
    let m = size.slots();
    let n = perms.len();
    let words = taken_words(size);
    if usize::try_from(m).ok() != Some(slots.len())
        || last_weights.len() != n
        || scratch.cursors.len() != n
        || scratch.taken.len() < words
    {
        return Err(Error::BufferSize);
    }
    if n > slots.len() || n > S::MAX_DESTS {
        return Err(Error::TooManyDests);
    }
    // A stride of 0 or of M would never reach a free slot.
    if perms
        .iter()
        .any(|p| p.offset >= m || p.skip == 0 || p.skip >= m)
    {
        return Err(Error::BadPermutation);
    }

    let w = weights(last_weights, size);
    if w.gcd < 1 {
        slots.fill(S::EMPTY);
        return Ok(Populated {
            weights: w,
            reached: 0,
        });
    }
    let taken = &mut scratch.taken[..words];
    taken.fill(0);
    for ((c, p), &lw) in scratch.cursors.iter_mut().zip(perms).zip(last_weights) {
        *c = Cursor {
            next: p.offset,
            turns: turns(lw, w),
        };
    }
    let reached = fill(m, perms, scratch.cursors, taken, slots)?;
    Ok(Populated {
        weights: w,
        reached,
    })
}

/// Rounds over the destinations in order until all `m` slots are taken; in
/// each round a destination claims `turns` slots in a row, each time its
/// next preferred free slot. Returns how far the first round got.
fn fill<S: Slot>(
    m: u32,
    perms: &[Permutation],
    cursors: &mut [Cursor],
    taken: &mut [u64],
    slots: &mut [S],
) -> Result<usize, Error> {
    let mut filled: u32 = 0;
    let mut first_round = true;
    loop {
        let before = filled;
        for (i, (c, p)) in cursors.iter_mut().zip(perms).enumerate() {
            let slot = S::from_index(i);
            for _ in 0..c.turns {
                let s = claim(m, p.skip, c, taken)?;
                // `claim` returned a free slot, below m == slots.len().
                if let Some(v) = slots.get_mut(s) {
                    *v = slot;
                }
                // Both count claimed slots, at most m: they cannot wrap.
                filled = filled.wrapping_add(1);
                if filled == m {
                    return Ok(if first_round {
                        i.wrapping_add(1)
                    } else {
                        cursors.len()
                    });
                }
            }
        }
        first_round = false;
        if filled == before {
            // No destination has turns: C would spin forever, but this
            // cannot happen when gcd >= 1. The rest stays empty.
            for (s, v) in slots.iter_mut().enumerate() {
                if !is_taken(taken, s)? {
                    *v = S::EMPTY;
                }
            }
            return Ok(cursors.len());
        }
    }
}

/// Advances the cursor along the destination's permutation (stride `skip`)
/// to its next free slot, marks it taken and returns it. `m` is prime and
/// `1 <= skip < m`, so a free slot is found while the table is not full.
///
/// Builds are bound by these probes. Each step `next += skip (mod m)`
/// depends on the previous one, so the probes are walked as two interleaved
/// sequences (even and odd steps, each advancing by `2 * skip mod m`) that
/// the processor can advance in parallel; they are still tested in
/// permutation order, so the result is the same.
#[inline(always)]
fn claim(m: u32, skip: u32, c: &mut Cursor, taken: &mut [u64]) -> Result<usize, Error> {
    let one = Step::new(m, skip);
    let two = Step::new(m, one.advance(skip));
    let mut even = c.next;
    let mut odd = one.advance(even);
    // Written out rather than as a loop over `[even, odd]`: kernel builds do
    // not inline core's array iterator, which costs a call per probe.
    loop {
        if let Some(s) = take(taken, even)? {
            c.next = even;
            return Ok(s);
        }
        if let Some(s) = take(taken, odd)? {
            c.next = odd;
            return Ok(s);
        }
        even = two.advance(even);
        odd = two.advance(odd);
    }
}

/// Marks slot `probe` taken and returns it, or `None` if it already was.
#[inline(always)]
fn take(taken: &mut [u64], probe: u32) -> Result<Option<usize>, Error> {
    let s = usize::try_from(probe).map_err(|_| Error::BufferSize)?;
    let word = taken.get_mut(s / 64).ok_or(Error::BufferSize)?;
    let bit = 1u64 << (s % 64);
    if *word & bit != 0 {
        return Ok(None);
    }
    *word |= bit;
    Ok(Some(s))
}

/// Whether slot `s` is taken; an error past the end of the map.
#[inline(always)]
fn is_taken(taken: &[u64], s: usize) -> Result<bool, Error> {
    let word = taken.get(s / 64).ok_or(Error::BufferSize)?;
    Ok(word & (1u64 << (s % 64)) != 0)
}

/// Adding a stride modulo m without division.
#[derive(Clone, Copy)]
struct Step {
    // INVARIANT: 1 <= stride < m, back == m - stride.
    stride: u32,
    back: u32,
}

impl Step {
    /// The step by `stride` (`1 <= stride < m`) modulo `m`.
    #[inline(always)]
    fn new(m: u32, stride: u32) -> Self {
        Step {
            stride,
            back: m.wrapping_sub(stride),
        }
    }

    /// `(perm + stride) % m` for `perm < m`.
    ///
    /// The sum passes m exactly when `perm >= m - stride`; deciding that
    /// from the old value lets the comparison and both candidates be
    /// computed at once. Neither operation can wrap under the invariant.
    #[inline(always)]
    fn advance(self, perm: u32) -> u32 {
        if perm >= self.back {
            perm.wrapping_sub(self.back)
        } else {
            perm.wrapping_add(self.stride)
        }
    }
}
