// SPDX-License-Identifier: GPL-2.0

//! Which destinations of a new table were in the table before it, so that
//! what was computed for them (their permutation) and what holds them (a
//! reference, in the module) carries over instead of being done again.

/// How far past where it is expected a destination is looked for: the
/// destinations a change removed in a row, at most.
const WINDOW: usize = 8;

/// Walks the previous table's destinations alongside the new table's, both
/// in table order.
///
/// One configuration change adds destinations at the head of IPVS's list
/// (or at their canonical place) and removes others anywhere, so the two
/// orders agree apart from those: each destination is looked for just past
/// the one found before it, and one that is not there counts as new. A
/// destination missed that way (a reordering) is only computed and held
/// afresh, as the C scheduler does for every one; nothing is ever matched
/// wrongly, since `find` only returns an index its predicate accepted.
pub struct Carry<'a, K> {
    old: &'a [K],
    next: usize,
}

impl<'a, K> Carry<'a, K> {
    /// Starts before the first destination of the previous table `old`.
    pub fn new(old: &'a [K]) -> Self {
        Carry { old, next: 0 }
    }

    /// The index in the previous table of the next destination of the new
    /// one, which `is` recognises, or `None` if it is not near where the
    /// walk is.
    pub fn find(&mut self, is: impl Fn(&K) -> bool) -> Option<usize> {
        // Where it is expected, first, before the window is set up: a
        // change of weights, or any change but at its one place, leaves
        // every destination there.
        let found = if self.old.get(self.next).is_some_and(&is) {
            self.next
        } else {
            let end = self.next.saturating_add(WINDOW).min(self.old.len());
            (self.next.saturating_add(1)..end).find(|&j| self.old.get(j).is_some_and(&is))?
        };
        self.next = found.saturating_add(1);
        Some(found)
    }
}
