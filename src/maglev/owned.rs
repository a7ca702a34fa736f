// SPDX-License-Identifier: GPL-2.0

//! Tables that own their buffers: the userspace face of [`build`] (for
//! `mh-tool` and the tests; the module lays its buffers out itself).

use super::build::{
    build,
    Layout, //
};
use super::dest::Dest;
use super::error::Error;
use super::key::Addr;
use super::lookup::{
    lookup,
    Availability,
    Owners, //
};
use super::permutation::Permutation;
use super::populate::{
    taken_words,
    Cursor,
    Populated,
    Scratch, //
};
use super::size::TableSize;
use super::slot::Slot;
use super::summary::count_slots;
use super::weights::turns;
use alloc::{
    vec,
    vec::Vec, //
};

/// A built table with what it was built from, in table order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedTable<S> {
    /// The table size.
    pub size: TableSize,
    /// Each destination's permutation.
    pub perms: Vec<Permutation>,
    /// Each destination's last weight.
    pub last_weights: Vec<i32>,
    /// The slots: indices into the destinations.
    pub slots: Vec<S>,
    /// What the build found out.
    pub built: Populated,
}

impl<S: Slot> OwnedTable<S> {
    /// The table of `dests` in the order given (IPVS list order; see
    /// [`OwnedTable::build_from`] for the canonical one).
    pub fn build(size: TableSize, dests: &[Dest]) -> Result<Self, Error> {
        let mut items = dests.to_vec();
        Self::build_from(size, false, &mut items, |d| *d)
    }

    /// The table of `items`, put in table order first (canonical order when
    /// `canonical`), as [`build`] does.
    pub fn build_from<T>(
        size: TableSize,
        canonical: bool,
        items: &mut [T],
        dest: impl Fn(&T) -> Dest,
    ) -> Result<Self, Error> {
        let n = items.len();
        let mut perms = vec![Permutation::default(); n];
        let mut last_weights = vec![0; n];
        let mut cursors = vec![Cursor::default(); n];
        let mut taken = vec![0; taken_words(size)];
        let mut slots = vec![S::EMPTY; size.slots() as usize];
        let built = build(
            size,
            canonical,
            items,
            dest,
            |_| None,
            Layout {
                perms: &mut perms,
                last_weights: &mut last_weights,
                scratch: Scratch {
                    cursors: &mut cursors,
                    taken: &mut taken,
                },
                slots: &mut slots,
            },
        )?;
        Ok(OwnedTable {
            size,
            perms,
            last_weights,
            slots,
            built,
        })
    }

    /// Which destinations own a slot.
    pub fn owners(&self) -> Owners<'_> {
        Owners {
            built: self.built,
            last_weights: &self.last_weights,
        }
    }

    /// Slots each destination owns.
    pub fn slot_counts(&self) -> Vec<u32> {
        let mut counts = vec![0; self.perms.len()];
        count_slots(&self.slots, &mut counts);
        counts
    }

    /// Slots destination `dest` claims per round.
    pub fn turns(&self, dest: usize) -> u32 {
        self.last_weights
            .get(dest)
            .map_or(0, |&lw| turns(lw, self.built.weights))
    }

    /// The destination for a client ([`lookup`]).
    pub fn lookup<A: Availability + ?Sized>(
        &self,
        addr: &Addr,
        port: u16,
        fallback: bool,
        avail: &A,
    ) -> Option<usize> {
        lookup(
            &self.slots,
            self.size,
            self.owners(),
            addr,
            port,
            fallback,
            avail,
        )
    }
}
