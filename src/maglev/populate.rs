// SPDX-License-Identifier: GPL-2.0

//! Building a table: rounds over the destinations, each claiming its next
//! preferred free slots, until every slot is taken.
//!
//! The result is exactly C's, found with less work. A destination claims
//! the first free slot along its permutation: C walks there through a
//! bitmap of taken slots from the destination's last claim on. Here the
//! table itself is the map (a slot is free while it is
//! [`Slot::EMPTY`]), so a probe is one compare, and a walk starts just past
//! the last claim, which the destination took itself. While many slots are
//! free a walk ends within a few probes; once few are left it needs about
//! M / free, and without a change most of a build's probes would be spent
//! there. So once [`free_list_len`] slots are free, the build lists them
//! and gives each claim the listed slot that comes first in the
//! destination's permutation: a slot's place there is
//! `(slot - offset) * skip^-1 mod M`, and every free slot lies past the
//! destination's last claim in that order (the walk found each slot before
//! it taken), so the first one listed is the one the walk would reach.

use super::error::Error;
use super::permutation::Permutation;
use super::size::TableSize;
use super::slot::{
    EmptySlots,
    Slot, //
};
use super::weights::{
    plain_turns,
    turns,
    Weights,
    WeightsSeen, //
};
use core::num::NonZeroU64;

mod spelled;

/// One destination's scratch during a build: the slot its walk last
/// reached (the one it claimed last, or one step before its first
/// preference), its stride as a step and what brings a step that left the
/// table back into it (see [`Stride`]), how many slots it claims per round,
/// how many destinations from it on claim one each (0 unless it does), and
/// the inverse of its skip modulo M (0 until the build needs it).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cursor {
    last: u32,
    stride: Stride,
    turns: u32,
    ones: u32,
    inverse: u32,
}

/// A destination's walk through its permutation: slot after slot, `skip`
/// apart modulo M.
///
/// Stepping by `skip` or back by `M - skip` reaches the same slot, and a
/// step that leaves the table costs a second one, so the walk steps by the
/// shorter of the two: it leaves the table on at most half of its steps
/// (on a quarter, on average) instead of on up to all of them.
#[derive(Clone, Copy, Debug, Default)]
struct Stride {
    /// `skip` or `skip - M`: in `(-M/2, M/2]`.
    step: i32,
    /// `-M` when stepping forward, `M` when back.
    wrap: i32,
}

impl Stride {
    /// The stride of `skip` for `m` slots (`0 < skip < m < 2^31`).
    fn new(skip: u32, m: u32) -> Self {
        // Both below 2^31: the casts keep them, the differences fit.
        let (skip, m) = (skip as i32, m as i32);
        if skip <= m.wrapping_sub(skip) {
            Stride {
                step: skip,
                wrap: m.wrapping_neg(),
            }
        } else {
            Stride {
                step: skip.wrapping_sub(m),
                wrap: m,
            }
        }
    }

    /// The step and the wrap as offsets to add to a slot index (two's
    /// complement: adding one wrapping subtracts its magnitude).
    #[inline(always)]
    fn offsets(self) -> (usize, usize) {
        (self.step as isize as usize, self.wrap as isize as usize)
    }
}

/// The slot one step before the first of permutation `p` of `m` slots:
/// where the walk that first probes `p.offset` starts. Stepping by `skip`
/// or by `skip - m` is the same modulo `m`, so this is `offset - skip`.
fn before_first(p: &Permutation, m: u32) -> u32 {
    // offset < m and 0 < skip < m (checked by the caller), so the sum is
    // below 2m < 2^32 and one subtraction brings it below m.
    let at = p.offset.wrapping_add(m.wrapping_sub(p.skip));
    if at >= m {
        at.wrapping_sub(m)
    } else {
        at
    }
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

/// How many free slots the build lists once few are left: half the square
/// root of M. Looking through the list costs a key (`RankOrder`) per
/// listed slot and claim, walking fewer probes per claim the further a
/// destination has come along its permutation (every slot behind it is
/// taken). Builds at M = 4093 and 65521 under callgrind, lists of a third
/// to one and a half times the square root: half was best or within 1%
/// of it at 10, 100 and 1000 destinations.
pub const fn free_list_len(size: TableSize) -> usize {
    let m = size.slots();
    let mut r = 1;
    while (r + 1) * (r + 1) <= m {
        r += 1;
    }
    (r / 2) as usize
}

/// What a build needs besides its inputs and the table: one cursor per
/// destination and the list of the last free slots ([`free_list_len`]
/// long). Their contents do not matter; the build overwrites them.
pub struct Scratch<'a> {
    /// One per destination.
    pub cursors: &'a mut [Cursor],
    /// At least [`free_list_len`] entries.
    pub free: &'a mut [u32],
}

/// Builds the table of destinations with permutations `perms` and last
/// weights `last_weights` (both in table order), exactly as the C scheduler
/// does (`ip_vs_mh_populate`).
///
/// `slots.len()` must be `size.slots()`, `last_weights` and
/// `scratch.cursors` as long as `perms`, and `scratch.free` at least
/// [`free_list_len`] long, else [`Error::BufferSize`]. More destinations
/// than slots, or than `S` can index, is [`Error::TooManyDests`]; a
/// permutation that is not one of `size` ([`Permutation::new`]) is
/// [`Error::BadPermutation`]. On error nothing is written.
///
/// Every slot is claimed by a destination, or stays [`Slot::EMPTY`] when no
/// destination has a positive last weight (or there is none), as in C.
pub fn populate<S: Slot>(
    size: TableSize,
    perms: &[Permutation],
    last_weights: &[i32],
    scratch: Scratch<'_>,
    slots: EmptySlots<'_, S>,
) -> Result<Populated, Error> {
    let slots = slots.into_slice();
    let m = size.slots();
    let n = perms.len();
    let listed = free_list_len(size);
    if usize::try_from(m).ok() != Some(slots.len())
        || last_weights.len() != n
        || scratch.cursors.len() != n
        || scratch.free.len() < listed
    {
        return Err(Error::BufferSize);
    }
    if n > slots.len() || n > S::MAX_DESTS {
        return Err(Error::TooManyDests);
    }
    // One pass lays out every cursor and reads the weights. The turns it
    // gives are those of plain weights (the usual case, no division); a
    // second pass mends them otherwise.
    let mut seen = WeightsSeen::default();
    for ((c, p), &lw) in scratch.cursors.iter_mut().zip(perms).zip(last_weights) {
        // A stride of 0 or of M would never reach a free slot.
        if p.offset >= m || p.skip == 0 || p.skip >= m {
            return Err(Error::BadPermutation);
        }
        seen.add(lw);
        *c = Cursor {
            last: before_first(p, m),
            stride: Stride::new(p.skip, m),
            turns: plain_turns(lw),
            ones: 0,
            inverse: 0,
        };
    }
    let w = seen.weights(size);
    if w.gcd < 1 {
        return Ok(Populated {
            weights: w,
            reached: 0,
        });
    }
    if !w.is_plain() {
        for (c, &lw) in scratch.cursors.iter_mut().zip(last_weights) {
            c.turns = turns(lw, w);
        }
    }
    let free = Free {
        list: &mut scratch.free[..listed],
        len: 0,
    };
    let reached = fill(m, perms, scratch.cursors, free, slots)?;
    Ok(Populated {
        weights: w,
        reached,
    })
}

/// Rounds over the destinations in order until all `m` slots are taken; in
/// each round a destination claims `turns` slots in a row, each time its
/// next preferred free slot: by walking its permutation while more than
/// `free.list.len()` slots are free, from the list after that. Returns how
/// far the first round got.
fn fill<S: Slot>(
    m: u32,
    perms: &[Permutation],
    cursors: &mut [Cursor],
    mut free: Free<'_>,
    slots: &mut [S],
) -> Result<usize, Error> {
    // The list is shorter than the table (free_list_len), so the last
    // claims always come from it.
    let listed = u32::try_from(free.list.len()).unwrap_or(m);
    let Some(resume) = walk_rounds(cursors, m.saturating_sub(listed), slots) else {
        // No destination has turns: C would spin forever, but this cannot
        // happen when gcd >= 1. The rest stays empty.
        return Ok(cursors.len());
    };
    free.collect(slots, cursors.len())?;
    let mut filled = m.saturating_sub(listed);
    let mut first_round = resume.first_round;
    let (mut from, mut turns_done) = (resume.dest, resume.turns_done);
    loop {
        let before = filled;
        for (i, (c, p)) in cursors.iter_mut().zip(perms).enumerate().skip(from) {
            let slot = S::from_index(i);
            for _ in turns_done..c.turns {
                let s = free.first_in(m, p, c)?;
                *slots.get_mut(s).ok_or(Error::BufferSize)? = slot;
                // Counts claimed slots, at most m: no overflow.
                filled = filled.wrapping_add(1);
                if filled == m {
                    return Ok(if first_round {
                        i.wrapping_add(1)
                    } else {
                        cursors.len()
                    });
                }
            }
            turns_done = 0;
        }
        (from, first_round) = (0, false);
        if filled == before {
            return Ok(cursors.len());
        }
    }
}

/// Where the walks stopped: the destination whose turn it was, how many of
/// its claims this round it had made, and whether in the first round.
struct Resume {
    dest: usize,
    turns_done: u32,
    first_round: bool,
}

/// The rounds while slots are claimed by walking: `claims` of them, from an
/// empty table. `None` if no destination has turns.
///
/// Whole rounds run without counting single claims: this loop is where a
/// build spends most of its instructions, so it is kept to what a claim
/// needs (and with equal weights, every destination claiming one slot per
/// round, to less).
fn walk_rounds<S: Slot>(cursors: &mut [Cursor], claims: u32, slots: &mut [S]) -> Option<Resume> {
    // At most 2^31 turns for each of at most 2^17 destinations: no wrap.
    let per_round = cursors
        .iter()
        .fold(0u64, |sum, c| sum.wrapping_add(u64::from(c.turns)));
    if per_round == 0 {
        return None;
    }
    // Each destination that claims one slot per round learns how many in a
    // row from it on do (a run), so that a round takes a run in one tight
    // loop and enters the turns loop only for the others.
    let mut ones = 0u32;
    for c in cursors.iter_mut().rev() {
        // At most 2^17 destinations: no wrap.
        ones = if c.turns == 1 {
            ones.wrapping_add(1)
        } else {
            0
        };
        c.ones = ones;
    }
    // Whole rounds first, then the last, partial one.
    let rounds = u64::from(claims) / per_round;
    let mut left = u64::from(claims) % per_round;
    let first_round = rounds == 0;
    if spelled::whole_rounds(cursors, slots, rounds) {
        // At most 12 destinations, each with turns: spelled out.
    } else if cursors
        .first()
        .is_some_and(|c| c.ones as usize == cursors.len())
    {
        // With equal weights (the usual case) the whole list is one run:
        // its rounds skip even the run's bookkeeping, which with few
        // destinations would cost as much as a claim.
        // The first index, hidden from the compiler: known to be 0, every
        // group's first index is a multiple of eight, and the compiler then
        // makes the seven others with a copy and an OR each instead of one
        // LEA (one instruction more per claim).
        let first = core::hint::black_box(0);
        for _ in 0..rounds {
            claim_run(slots, cursors, first);
        }
    } else {
        whole_rounds(cursors, slots, rounds);
    }
    // The last, partial round (`left` < `per_round`: it ends in this round).
    for (i, c) in cursors.iter_mut().enumerate() {
        let (slot, stride) = (S::from_known_index(i), c.stride);
        let mut at = c.last as usize;
        for t in 0..c.turns {
            if left == 0 {
                // As above.
                c.last = at as u32;
                return Some(Resume {
                    dest: i,
                    turns_done: t,
                    first_round,
                });
            }
            at = claim(slots, at, stride, slot);
            left = left.wrapping_sub(1);
        }
        // As above.
        c.last = at as u32;
    }
    // Not reached: fewer claims were left than the round has turns.
    Some(Resume {
        dest: cursors.len(),
        turns_done: 0,
        first_round: false,
    })
}

/// `rounds` rounds in which every destination claims all its turns, run by
/// run (see `walk_rounds`). The rounds loop lives here, beside the walks,
/// so that its count stays in a register.
fn whole_rounds<S: Slot>(cursors: &mut [Cursor], slots: &mut [S], rounds: u64) {
    for _ in 0..rounds {
        let mut i = 0usize;
        // A run (perhaps empty), then the destination after it, which
        // claims some other number of slots per round.
        while let Some(ones) = cursors.get(i).map(|c| c.ones as usize) {
            // A run ends within the destinations: no wrap.
            let end = i.wrapping_add(ones);
            let Some(run) = cursors.get_mut(i..end) else {
                return;
            };
            claim_run(slots, run, i);
            let Some(c) = cursors.get_mut(end) else {
                break;
            };
            let (slot, stride) = (S::from_known_index(end), c.stride);
            let mut at = c.last as usize;
            for _ in 0..c.turns {
                at = claim(slots, at, stride, slot);
            }
            // Below m, the table size, which is a u32: the cast keeps it.
            c.last = at as u32;
            // Destination indices: no wrap.
            i = end.wrapping_add(1);
        }
    }
}

/// The destinations of `run`, `first` and those after it, claim one slot
/// each, in order.
///
/// Eight at a time, each group spelled out: within a group the destination
/// indices are the first's plus constants, so a claim costs no loop
/// counting of its own (with few probes per claim, that counting is a good
/// part of a claim's instructions). The kernel builds with opt-level 2,
/// which keeps a loop over a group written as one. Rebuilds at M = 4093 and
/// 65521 under callgrind at opt-level 2: 2-4% fewer instructions than one
/// at a time, and fewer than with groups of four or a spelled-out rest.
#[inline(always)]
fn claim_run<S: Slot>(slots: &mut [S], run: &mut [Cursor], first: usize) {
    let mut groups = run.chunks_exact_mut(8);
    let mut i = first;
    for group in &mut groups {
        if let [c0, c1, c2, c3, c4, c5, c6, c7] = group {
            claim_one(slots, c0, i);
            claim_one(slots, c1, i.wrapping_add(1));
            claim_one(slots, c2, i.wrapping_add(2));
            claim_one(slots, c3, i.wrapping_add(3));
            claim_one(slots, c4, i.wrapping_add(4));
            claim_one(slots, c5, i.wrapping_add(5));
            claim_one(slots, c6, i.wrapping_add(6));
            claim_one(slots, c7, i.wrapping_add(7));
        }
        // Destination indices: no wrap.
        i = i.wrapping_add(8);
    }
    for (k, c) in groups.into_remainder().iter_mut().enumerate() {
        claim_one(slots, c, i.wrapping_add(k));
    }
}

/// Destination `i` (of cursor `c`) claims one slot, from where its walk
/// last stopped.
#[inline(always)]
fn claim_one<S: Slot>(slots: &mut [S], c: &mut Cursor, i: usize) {
    // Below m, the table size, which is a u32: the cast keeps it.
    c.last = claim(slots, c.last as usize, c.stride, S::from_known_index(i)) as u32;
}

/// Walks a permutation with `stride` from the slot after `at` to the first
/// free slot, gives it `slot`, and returns it: the next walk starts past
/// it. The table size is prime and the stride not a multiple of it, so the
/// walk ends while a slot is free (the caller claims fewer slots than the
/// table has).
#[inline(always)]
fn claim<S: Slot>(slots: &mut [S], mut at: usize, stride: Stride, slot: S) -> usize {
    let (step, wrap) = stride.offsets();
    loop {
        at = at.wrapping_add(step);
        // `at` was in the table; a step takes it at most once out of it:
        // to below 2m going forward, or below zero (a huge index) going
        // back. Either is past the table's end, where one wrap brings it
        // back.
        let v = match slots.get_mut(at) {
            Some(v) => v,
            None => {
                at = at.wrapping_add(wrap);
                match slots.get_mut(at) {
                    Some(v) => v,
                    // Not reached (see above). Leaving here, rather than
                    // stepping again, lets the wrap go straight back to
                    // the probe: three instructions instead of four.
                    None => return at,
                }
            }
        };
        if *v == S::EMPTY {
            *v = slot;
            return at;
        }
    }
}

/// The last free slots, once few are left (see the module documentation).
struct Free<'a> {
    list: &'a mut [u32],
    len: usize,
}

impl Free<'_> {
    /// Lists the empty slots of `slots`, of a table of `n` destinations (no
    /// more than the list holds: the caller counted them).
    fn collect<S: Slot>(&mut self, slots: &[S], n: usize) -> Result<(), Error> {
        if n <= S::TOP_BIT_CLEAR_BELOW {
            // Every index held has the top bit clear, so a chunk without
            // one set has no empty slot; the check reads whole words.
            self.collect_by(slots, S::any_top_bit)
        } else {
            // A chunk of a length known here, so its checks are unrolled.
            self.collect_by(slots, |chunk: &[S; 8]| chunk.contains(&S::EMPTY))
        }
    }

    /// Lists the empty slots of `slots`, chunk by chunk of `C`: almost every
    /// slot is taken, so each chunk is first checked as a whole with
    /// `may_hold_empty`, and only one that may hold an empty slot is read
    /// slot by slot.
    fn collect_by<S: Slot, const C: usize>(
        &mut self,
        slots: &[S],
        may_hold_empty: impl Fn(&[S; C]) -> bool,
    ) -> Result<(), Error> {
        let chunks = slots.chunks_exact(C);
        let tail = chunks.remainder();
        for (k, chunk) in chunks.enumerate() {
            if chunk.try_into().map_or(true, &may_hold_empty) {
                // Below slots.len(): no overflow.
                self.list_empty(chunk, k.wrapping_mul(C))?;
            }
        }
        self.list_empty(tail, slots.len().wrapping_sub(tail.len()))
    }

    /// Lists the empty slots of `part`, which starts at slot `first`.
    ///
    /// Kept out of line: inlined, its reads of single slots would be
    /// merged with the chunk check's, which then no longer reads whole
    /// words.
    #[inline(never)]
    fn list_empty<S: Slot>(&mut self, part: &[S], first: usize) -> Result<(), Error> {
        for (j, &v) in part.iter().enumerate() {
            if v == S::EMPTY {
                // Below the table's length <= u32::MAX: no overflow.
                let s = first.wrapping_add(j);
                *self.list.get_mut(self.len).ok_or(Error::BufferSize)? =
                    u32::try_from(s).map_err(|_| Error::BufferSize)?;
                self.len = self.len.wrapping_add(1);
            }
        }
        Ok(())
    }

    /// Takes the free slot that comes first in the permutation `p` (of
    /// which `c` is the cursor) off the list and returns it.
    fn first_in(&mut self, m: u32, p: &Permutation, c: &mut Cursor) -> Result<usize, Error> {
        if c.inverse == 0 {
            c.inverse = inverse(p.skip, m);
        }
        let order = RankOrder::new(m, p.offset, c.inverse).ok_or(Error::BufferSize)?;
        let mut best = (u64::MAX, 0);
        let list = self.list.get(..self.len).ok_or(Error::BufferSize)?;
        for (k, &s) in list.iter().enumerate() {
            let key = order.key(s);
            if key < best.0 {
                best = (key, k);
            }
        }
        let (_, k) = best;
        let last = self.len.checked_sub(1).ok_or(Error::BufferSize)?;
        let s = *self.list.get(k).ok_or(Error::BufferSize)?;
        self.list.swap(k, last);
        self.len = last;
        Ok(s as usize)
    }
}

/// Keys that order a permutation's slots as the permutation does, at the
/// cost of a multiplication and an addition per slot.
///
/// A slot's place is `(slot - offset) * skip^-1 mod m`; with `x = slot +
/// m - offset` (in `[1, 2m)`, the same residue) it is `m` times the
/// fraction of `x * skip^-1 / m`. The key is that fraction in 64-bit fixed
/// point: `x * k mod 2^64` with `k = ceil(skip^-1 * 2^64 / m)`. Rounding
/// `k` up adds less than `x < 2m` to the exact `place * 2^64 / m`, which
/// never reaches the next place (`2^64 / m` further: `2m < 2^64 / m` for
/// `m < 2^31`) nor wraps past `2^64` (the last place is `2^64 / m` short
/// of it). So keys compare as places do, and none are equal.
#[derive(Clone, Copy)]
struct RankOrder {
    k: u64,
    /// `(m - offset) * k`, wrapping: what the key adds to `slot * k`.
    shift: u64,
}

impl RankOrder {
    /// The order of the permutation starting at `offset` whose skip has
    /// inverse `inverse` modulo `m` (`0 < inverse < m`, `offset < m`, `m`
    /// prime); `None` if `m` is 0.
    fn new(m: u32, offset: u32, inverse: u32) -> Option<Self> {
        let m = NonZeroU64::new(u64::from(m))?;
        // floor(inverse * 2^64 / m) in two steps of 32 bits: inverse and
        // each remainder are below m < 2^32, so each dividend fits. m is
        // prime and does not divide inverse, so the quotient is never exact
        // and its ceiling is the floor plus one.
        let high = u64::from(inverse) << 32;
        let (q1, r1) = (high / m, high % m);
        let q2 = (r1 << 32) / m;
        let k = (q1 << 32 | q2).wrapping_add(1);
        let shift = m.get().wrapping_sub(u64::from(offset)).wrapping_mul(k);
        Some(RankOrder { k, shift })
    }

    /// The key of `slot` (below m): smaller for a slot earlier in the
    /// permutation.
    #[inline(always)]
    fn key(self, slot: u32) -> u64 {
        u64::from(slot)
            .wrapping_mul(self.k)
            .wrapping_add(self.shift)
    }
}

/// `x^-1 mod m` for a prime `m` and `0 < x < m < 2^31` (extended
/// Euclid, in 32-bit arithmetic: a build asks it once per destination).
fn inverse(x: u32, m: u32) -> u32 {
    let (mut r0, mut r1) = (m, x);
    let (mut t0, mut t1) = (0i32, 1i32);
    // The remainders fall and the coefficients stay within (-m, m), so
    // nothing can overflow; the casts keep values below 2^31.
    while let Some(q) = r0.checked_div(r1) {
        (r0, r1) = (r1, r0.wrapping_sub(q.wrapping_mul(r1)));
        (t0, t1) = (t1, t0.wrapping_sub((q as i32).wrapping_mul(t1)));
    }
    if t0 < 0 {
        t0.wrapping_add(m as i32) as u32
    } else {
        t0 as u32
    }
}
