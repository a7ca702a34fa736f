// SPDX-License-Identifier: GPL-2.0

//! Building a table: each destination's permutation, then the rounds that
//! fill every slot.

use super::dest::{
    Dest,
    DestState, //
};
use super::error::Error;
use super::key::{
    hash_key,
    HASH1,
    HASH2, //
};
use super::size::TableSize;
use super::slot::Slot;
use super::weights::{
    turns,
    weights,
    Weights, //
};
use core::borrow::Borrow;

/// Builds the table for `dests` in list order, exactly like the C scheduler
/// (`ip_vs_mh_permutate` followed by `ip_vs_mh_populate`).
///
/// `slots.len()` must be `size.slots()` and `states.len()` must be
/// `dests.len()`, else [`Error::BufferSize`]. More destinations than slots,
/// or than `S` can index, is [`Error::TooManyDests`]. On error nothing is
/// written.
///
/// When no destination has a positive last weight (or there is none), every
/// slot is [`Slot::EMPTY`] and `Ok` is returned, as in C. Otherwise every
/// slot holds an index into `dests`, and `states` tells each destination's
/// permutation and slot count.
///
/// `slots` itself records which slots are taken, so no scratch memory is
/// needed.
pub fn populate<S: Slot, D: Borrow<Dest>>(
    size: TableSize,
    dests: &[D],
    states: &mut [DestState],
    slots: &mut [S],
) -> Result<Weights, Error> {
    let m = size.slots();
    if usize::try_from(m).ok() != Some(slots.len()) || states.len() != dests.len() {
        return Err(Error::BufferSize);
    }
    if dests.len() > slots.len() || dests.len() > S::MAX_DESTS {
        return Err(Error::TooManyDests);
    }

    let w = weights(dests, size);
    slots.fill(S::EMPTY);
    states.fill(DestState::default());
    if w.gcd < 1 {
        return Ok(w);
    }
    permutate(size, w, dests, states);
    fill(m, states, slots)?;
    Ok(w)
}

/// Each destination's first slot, stride and turns.
fn permutate<D: Borrow<Dest>>(size: TableSize, w: Weights, dests: &[D], states: &mut [DestState]) {
    for (d, st) in dests.iter().zip(states.iter_mut()) {
        let d = d.borrow();
        let offset = size.modulus().rem(hash_key(&d.addr, d.port, &HASH1, 0));
        *st = DestState {
            offset,
            // In 1..M: with M prime, every stride visits every slot.
            skip: size
                .skip_modulus()
                .rem(hash_key(&d.addr, d.port, &HASH2, 0))
                .wrapping_add(1),
            perm: offset,
            turns: turns(d.last_weight, w),
            slots: 0,
        };
    }
}

/// Rounds over the destinations in order until all `m` slots are taken; in
/// each round a destination claims `turns` slots in a row, each time its next
/// preferred free slot.
///
/// `slots` starts all empty and doubles as the map of taken slots.
fn fill<S: Slot>(m: u32, states: &mut [DestState], slots: &mut [S]) -> Result<(), Error> {
    let mut filled: u32 = 0;
    loop {
        let before = filled;
        for (i, st) in states.iter_mut().enumerate() {
            let slot = S::from_index(i);
            for _ in 0..st.turns {
                let c = claim(m, st, slots)?;
                // `claim` returned a free slot, so `c` is in bounds.
                if let Some(s) = slots.get_mut(c) {
                    *s = slot;
                }
                // Both count claimed slots, at most m: they cannot wrap.
                st.slots = st.slots.wrapping_add(1);
                filled = filled.wrapping_add(1);
                if filled == m {
                    return Ok(());
                }
            }
        }
        if filled == before {
            // No destination has turns: C would spin forever, but this
            // cannot happen when gcd >= 1. Leave the rest empty.
            return Ok(());
        }
    }
}

/// Advances `st.perm` along the destination's permutation to its next free
/// slot and returns that slot. `m` is prime and `1 <= skip < m`, so a free
/// slot is always found while the table is not full.
///
/// Builds are bound by these probes. Each step `perm += skip (mod m)`
/// depends on the previous one, so the probes are walked as two interleaved
/// sequences (even and odd steps, each advancing by `2 * skip mod m`) that
/// the processor can advance in parallel; they are still tested in
/// permutation order, so the result is the same.
#[inline(always)]
fn claim<S: Slot>(m: u32, st: &mut DestState, slots: &[S]) -> Result<usize, Error> {
    let one = Step::new(m, st.skip);
    let two = Step::new(m, one.advance(st.skip));
    let mut even = st.perm;
    let mut odd = one.advance(even);
    // Written out rather than as a loop over `[even, odd]`: kernel builds do
    // not inline core's array iterator, which costs a call per probe.
    loop {
        if let Some(c) = free_slot(slots, even)? {
            st.perm = even;
            return Ok(c);
        }
        if let Some(c) = free_slot(slots, odd)? {
            st.perm = odd;
            return Ok(c);
        }
        even = two.advance(even);
        odd = two.advance(odd);
    }
}

/// `Some(perm as index)` when that slot is free.
#[inline(always)]
fn free_slot<S: Slot>(slots: &[S], perm: u32) -> Result<Option<usize>, Error> {
    let c = usize::try_from(perm).map_err(|_| Error::BufferSize)?;
    // c < m == slots.len() always; refuse rather than panic.
    Ok((*slots.get(c).ok_or(Error::BufferSize)? == S::EMPTY).then_some(c))
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
