// SPDX-License-Identifier: GPL-2.0

//! Tables that own their buffers: the userspace face of [`build`] (for
//! `mh-tool` and the tests; the module lays its buffers out itself).

use super::{
    build, count_slots, free_list_len, lookup, turns, Addr, Availability, Cursor, Dest, EmptySlots,
    Error, Layout, Owners, Permutation, Populated, Slot, TableSize,
};
use alloc::{vec, vec::Vec};

/// A built table with what it was built from, in table order.
#[derive(Clone, Debug)]
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
    cursors: Vec<Cursor>,
    free: Vec<u32>,
    /// The destinations' keys for a canonical build (empty otherwise).
    keys: Vec<Dest>,
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
        let mut table = OwnedTable {
            keys: if canonical {
                vec![Dest::default(); n]
            } else {
                Vec::new()
            },
            size,
            perms: vec![Permutation::default(); n],
            last_weights: vec![0; n],
            slots: vec![S::EMPTY; size.slots() as usize],
            built: Populated::default(),
            cursors: vec![Cursor::default(); n],
            free: vec![0; free_list_len(size)],
        };
        table.rebuild(canonical, items, dest)?;
        Ok(table)
    }

    /// Builds the table again for `items` (as many as the first build had),
    /// in its buffers: what a benchmark times. `canonical` must be what the
    /// first build had, or the keys' buffer is the wrong length
    /// ([`Error::BufferSize`]).
    pub fn rebuild<T>(
        &mut self,
        canonical: bool,
        items: &mut [T],
        dest: impl Fn(&T) -> Dest,
    ) -> Result<(), Error> {
        let keys = canonical.then_some(&mut self.keys[..]);
        let out = Layout::new(
            &mut self.perms,
            &mut self.last_weights,
            &mut self.cursors,
            &mut self.free,
            EmptySlots::clear(&mut self.slots),
        );
        self.built = build(
            self.size,
            keys,
            items,
            &dest,
            |d| dest(d).last_weight,
            |_| None,
            out,
        )?;
        Ok(())
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
            &self.owners(),
            addr,
            port,
            fallback,
            avail,
        )
    }
}
