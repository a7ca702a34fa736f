// SPDX-License-Identifier: GPL-2.0

//! Table summaries: how many slots each destination owns, its share of the
//! table, and how many slots a change of the destination list moves.
//!
//! [`count_slots`] counts each destination's slots from a table. Shares are
//! exact fractions ([`Share`]) with integer rounding, so they can be printed
//! in the kernel, which has no floating point.

#[cfg(maglev_full)]
use super::dest::Dest;
#[cfg(maglev_full)]
use super::key::Addr;
use super::size::TableSize;
use super::slot::Slot;
#[cfg(maglev_full)]
use core::borrow::Borrow;
use core::fmt;

/// A part of a whole, typically slots of a table: `part` of `whole`.
///
/// Displays as a percentage with two decimals, rounded to nearest
/// (`"24.98%"`); a share of an empty whole displays as `"0.00%"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    /// The counted part (for example a destination's slots).
    pub part: u32,
    /// The whole it is a part of (for example M).
    pub whole: u32,
}

impl Share {
    /// `part` of `whole`.
    #[cfg(maglev_full)]
    pub const fn new(part: u32, whole: u32) -> Self {
        Share { part, whole }
    }

    /// `part` of the slots of a table of `size`.
    pub const fn of_table(part: u32, size: TableSize) -> Self {
        Share {
            part,
            whole: size.slots(),
        }
    }

    /// `part * scale / whole`, rounded to nearest (halves up); 0 when
    /// `whole` is 0, `u32::MAX` when the result does not fit.
    pub fn scaled(self, scale: u32) -> u32 {
        let whole = u64::from(self.whole);
        // Both products fit: u32 * u32 < 2^64, and whole / 2 < 2^32.
        let num = u64::from(self.part)
            .wrapping_mul(u64::from(scale))
            .wrapping_add(whole / 2);
        match num.checked_div(whole) {
            Some(q) => u32::try_from(q).unwrap_or(u32::MAX),
            None => 0,
        }
    }

    /// The share in hundredths of a percent (10000 is 100%), rounded.
    pub fn basis_points(self) -> u32 {
        self.scaled(10_000)
    }

    /// The share in parts per million, rounded.
    #[cfg(maglev_full)]
    pub fn per_million(self) -> u32 {
        self.scaled(1_000_000)
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bp = self.basis_points();
        write!(f, "{}.{:02}%", bp / 100, bp % 100)
    }
}

/// Counts the slots of each destination of a table: `counts[i]` becomes the
/// number of slots naming destination `i` (every entry is overwritten).
///
/// Returns the number of slots that name no destination in `counts`: the
/// empty slots, plus (never in a built table) slots naming an index at or
/// past `counts.len()`. Never panics.
pub fn count_slots<S: Slot>(slots: &[S], counts: &mut [u32]) -> u32 {
    counts.fill(0);
    let mut unnamed: u32 = 0;
    for slot in slots {
        match slot.index().and_then(|i| counts.get_mut(i)) {
            Some(c) => *c = c.saturating_add(1),
            None => unnamed = unnamed.saturating_add(1),
        }
    }
    unnamed
}

/// The identity of the destination a slot names: its address and port, or
/// `None` for an empty slot (or an index past the end of `dests`).
#[cfg(maglev_full)]
fn owner<S: Slot, D: Borrow<Dest>>(slot: S, dests: &[D]) -> Option<(Addr, u16)> {
    let d = dests.get(slot.index()?)?.borrow();
    Some((d.addr, d.port))
}

/// The number of slots whose destination changes between two tables: the
/// connections hashed to those slots would go to another real server (or to
/// none, or from none to one).
///
/// Destinations are compared by identity, address and port, so the two
/// destination arrays may hold them in any order (a destination reweighted
/// between the tables keeps its identity). The tables are compared slot by
/// slot; slots past the end of the shorter table count as empty (tables of
/// different sizes share no meaning slot by slot, but the count stays
/// defined). `old_slots` and `new_slots` may use different slot types.
/// Never panics.
#[cfg(maglev_full)]
pub fn moved_slots<S: Slot, T: Slot, A: Borrow<Dest>, B: Borrow<Dest>>(
    old_slots: &[S],
    old_dests: &[A],
    new_slots: &[T],
    new_dests: &[B],
) -> u32 {
    let mut moved: u32 = 0;
    let mut old = old_slots.iter();
    let mut new = new_slots.iter();
    loop {
        let (o, n) = match (old.next(), new.next()) {
            (None, None) => return moved,
            (o, n) => (
                o.and_then(|&s| owner(s, old_dests)),
                n.and_then(|&s| owner(s, new_dests)),
            ),
        };
        if o != n {
            moved = moved.saturating_add(1);
        }
    }
}
