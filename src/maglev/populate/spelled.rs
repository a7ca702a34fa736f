// SPDX-License-Identifier: GPL-2.0

//! Whole rounds over a few destinations, spelled out for each count from 1
//! to 12.
//!
//! With the count known where the code is written, each destination's walk
//! position stays in a register from one round to the next instead of in
//! its cursor, a round is straight-line code with no loop over the
//! destinations, and each slot value is a constant. Rebuilds at M = 4093
//! under callgrind (`scripts/rebuild-count.sh`), equal weights / one weight
//! of 2: 10 destinations 8% / 13% fewer instructions than the general
//! rounds, 12 destinations 9% / 12%. Beyond 12 the positions no longer fit
//! x86-64's registers and the gain fades (spelled out up to 16: 14
//! destinations 1% / 5%, 16 with equal weights 0.5% more), while the code
//! grows with the square of the largest count (one walk per destination per
//! count: 78 walks, about 9 KiB of x86-64 code).

use super::{
    claim,
    Cursor, //
};
use crate::maglev::slot::Slot;

/// Rounds over the destinations of one count, `$k` their indices in order:
/// returns `true` from the enclosing function if `$cursors` has that count,
/// after running `$rounds` whole rounds (or `false` at once if a
/// destination has no turns, which the general rounds handle).
macro_rules! rounds_of_count {
    ($cursors:ident, $slots:ident, $rounds:ident; $($k:literal)+) => {
        if let Ok(cursors) = <&mut [Cursor; [$($k),+].len()]>::try_from(&mut *$cursors) {
            if cursors.iter().any(|c| c.turns == 0) {
                return false;
            }
            // Below m, a u32: the casts keep them.
            let mut at = [$(cursors[$k].last as usize),+];
            for _ in 0..$rounds {
                $(
                    // At least one turn (checked above), so the count can
                    // be tested after each claim.
                    let mut turns = cursors[$k].turns;
                    loop {
                        at[$k] = claim($slots, at[$k], cursors[$k].stride, S::from_known_index($k));
                        turns = turns.wrapping_sub(1);
                        if turns == 0 {
                            break;
                        }
                    }
                )+
            }
            $(cursors[$k].last = at[$k] as u32;)+
            return true;
        }
    };
}

/// One `rounds_of_count!` for each prefix of the indices given: counts 1
/// to the number of indices.
macro_rules! rounds_of_each_count {
    ($cursors:ident, $slots:ident, $rounds:ident; [$($done:literal)*] $next:literal $($rest:literal)*) => {
        rounds_of_count!($cursors, $slots, $rounds; $($done)* $next);
        rounds_of_each_count!($cursors, $slots, $rounds; [$($done)* $next] $($rest)*);
    };
    ($cursors:ident, $slots:ident, $rounds:ident; [$($done:literal)*]) => {};
}

/// `rounds` rounds in which every destination of `cursors` claims all its
/// turns, as the general rounds do, if there are at most 12 destinations
/// and each has turns; returns whether it ran them (else nothing changed).
pub(super) fn whole_rounds<S: Slot>(cursors: &mut [Cursor], slots: &mut [S], rounds: u64) -> bool {
    // The module builds a table of so few destinations with `u16` slots
    // (the narrowest type that holds them); for a wider type, this
    // constant test leaves the spelled rounds out of its build's code.
    if S::MAX_DESTS > <u16 as Slot>::MAX_DESTS {
        return false;
    }
    rounds_of_each_count!(cursors, slots, rounds; [] 0 1 2 3 4 5 6 7 8 9 10 11);
    false
}
