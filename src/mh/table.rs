// SPDX-License-Identifier: GPL-2.0

//! One immutable lookup table of a service.

use crate::{
    ipvs::{
        self,
        Build,
        Current,
        Dests,
        HeldDest,
        Lineup,
        LockedService, //
    },
    maglev::{
        self,
        Addr,
        Availability,
        Carry,
        Cursor,
        EmptySlots,
        Layout,
        Owners,
        Permutation,
        Populated,
        Slot,
        SlotOwners,
        TableSize, //
    },
};
use core::{
    fmt,
    ptr, //
};
use kernel::{
    alloc::flags::__GFP_NOWARN,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
    time::{
        Delta,
        Instant,
        Monotonic, //
    },
};

/// Slot storage: 2 bytes per slot up to 65535 destinations, else 4.
enum Slots {
    Narrow(KVVec<u16>),
    Wide(KVVec<u32>),
}

/// The order a table's destinations are taken in, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// IPVS list order (newest first), as the C scheduler.
    List,
    /// Canonical order (address, port, last weight): directors configured
    /// in different orders agree.
    Canonical {
        /// The service has flag-3.
        flag: bool,
        /// The module parameter `canonical_order` is set.
        parameter: bool,
    },
}

impl Order {
    /// The order for a service with (or without) flag-3, under the module
    /// parameter.
    pub(crate) fn new(flag: bool, parameter: bool) -> Self {
        if flag || parameter {
            Order::Canonical { flag, parameter }
        } else {
            Order::List
        }
    }

    fn is_canonical(self) -> bool {
        matches!(self, Order::Canonical { .. })
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Order::List => f.write_str("list"),
            Order::Canonical { flag, parameter } => {
                f.write_str("canonical (")?;
                if flag {
                    f.write_str("flag-3")?;
                }
                if flag && parameter {
                    f.write_str(", ")?;
                }
                if parameter {
                    f.write_str("module parameter canonical_order")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// A built Maglev table: slots index into the destinations it was built
/// with (the adapter holds one reference per destination, not one per slot
/// as the C scheduler does).
///
/// Per destination it keeps only what lookups, the next build and the view
/// need: the permutation (carried over to the next table of the service, so
/// that a change hashes only the destinations it adds) and the last weight
/// it was built from.
pub(crate) struct Table {
    size: TableSize,
    order: Order,
    perms: KVec<Permutation>,
    last_weights: KVec<i32>,
    built: Populated,
    slots: Slots,
    /// Tables built for this service so far, this one included.
    builds: u64,
    /// Destination changes since this table was built that left every input
    /// of it unchanged, so it stayed in force.
    kept: Atomic<u64>,
    build_time: Delta,
}

/// What the core needs to know of a destination.
fn spec(dest: &ipvs::Dest, family: maglev::Family) -> maglev::Dest {
    maglev::Dest {
        addr: dest.addr(family),
        port: dest.port(),
        last_weight: dest.last_weight(),
    }
}

/// Allocations of a build: a failure is reported (and the previous table
/// kept) by the caller, so the allocator stays quiet.
fn flags() -> kernel::alloc::Flags {
    GFP_KERNEL | __GFP_NOWARN
}

impl Table {
    /// Keeps `current` when a new table would come out the same (see
    /// [`Table::unchanged`]), or builds the table of the service's
    /// destinations, put in `order`.
    ///
    /// A weight set to 0 and back (quiesce and unquiesce), a threshold or a
    /// forwarding method change then costs a walk over the destinations,
    /// not a build, and nothing is allocated or held. A real change hashes
    /// only the destinations it adds (the others' permutations carry over);
    /// the table is the one C would build.
    pub(crate) fn build<'a>(
        size: TableSize,
        order: Order,
        svc: &LockedService<'a>,
        current: Option<Current<'_, Table>>,
    ) -> Result<Build<'a, Table>> {
        let start = Instant::<Monotonic>::now();
        if let Some(current) = current {
            if current.table.unchanged(size, order, svc, current.dests) {
                current.table.kept.add(1, Relaxed);
                return Ok(Build::Keep);
            }
        }
        let mut lineup = Lineup::of(svc)?;
        let n = lineup.as_mut_slice().len();
        if n > size.slots() as usize {
            // As in C: more destinations than slots cannot be scheduled.
            return Err(EINVAL);
        }
        let mut perms = KVec::from_elem(Permutation::default(), n, flags())?;
        let mut last_weights = KVec::from_elem(0, n, flags())?;
        let mut inputs = Inputs {
            size,
            order,
            lineup: &mut lineup,
            previous: current.filter(|c| c.table.size == size),
            perms: &mut perms,
            last_weights: &mut last_weights,
        };
        let (slots, built) = if n <= u16::MAX_DESTS {
            inputs.populate(Slots::Narrow)?
        } else {
            inputs.populate(Slots::Wide)?
        };
        let table = Self {
            size,
            order,
            perms,
            last_weights,
            built,
            slots,
            builds: current.map_or(1, |c| c.table.builds.wrapping_add(1)),
            kept: Atomic::new(0),
            build_time: start.elapsed(),
        };
        Ok(Build::New(table, lineup))
    }

    /// Whether a table built now would be this one: the same size and
    /// order, and the service's destinations are this table's, with the same
    /// last weights (address and port never change), each where this table
    /// has it. Nothing is allocated or held.
    fn unchanged(
        &self,
        size: TableSize,
        order: Order,
        svc: &LockedService<'_>,
        dests: &Dests,
    ) -> bool {
        if self.size != size || self.order != order || svc.num_dests() != dests.len() {
            return false;
        }
        let same = |held: &ipvs::Dest, lw: i32, dest: &ipvs::Dest| {
            ptr::eq(held, dest) && lw == dest.last_weight()
        };
        if !order.is_canonical() {
            // In list order the table's order is the list's: one walk of
            // both side by side.
            let mut table = dests.as_slice().iter().zip(self.last_weights.iter());
            return svc
                .destinations()
                .all(|dest| table.next().is_some_and(|(held, &lw)| same(held, lw, dest)))
                && table.next().is_none();
        }
        let family = dests.family();
        let holds = |i: usize, dest: &ipvs::Dest| dests.get(i).is_some_and(|d| ptr::eq(d, dest));
        let mut listed = 0;
        for dest in svc.destinations() {
            // The table is sorted, so look the destination up there: first
            // where it is when the list is that order reversed (IPVS lists
            // the newest first, and servers are mostly added in address
            // order) or that order itself, by identity, and only then by a
            // binary search.
            let reversed = dests.len().checked_sub(listed + 1);
            let at = reversed
                .filter(|&i| holds(i, dest))
                .or_else(|| Some(listed).filter(|&i| holds(i, dest)))
                .or_else(|| {
                    let key = spec(dest, family);
                    maglev::find_canonical(dests.len(), |i| self.spec_at(dests, i), &key)
                });
            let found = at.and_then(|i| Some((dests.get(i)?, *self.last_weights.get(i)?)));
            if !found.is_some_and(|(held, lw)| same(held, lw, dest)) {
                return false;
            }
            listed += 1;
        }
        listed == dests.len()
    }

    /// What destination `i` was when the table was built.
    fn spec_at(&self, dests: &Dests, i: usize) -> Option<maglev::Dest> {
        let dest = dests.get(i)?;
        Some(maglev::Dest {
            addr: dest.addr(dests.family()),
            port: dest.port(),
            last_weight: *self.last_weights.get(i)?,
        })
    }

    /// The table size.
    pub(crate) fn size(&self) -> TableSize {
        self.size
    }

    /// The order the destinations were taken in.
    pub(crate) fn order(&self) -> Order {
        self.order
    }

    /// Tables built for the service so far, changes that kept this one, and
    /// how long this one took to build.
    pub(crate) fn build_stats(&self) -> (u64, u64, Delta) {
        (self.builds, self.kept.load(Relaxed), self.build_time)
    }

    /// Per destination of `dests` (the table's own): the destination, the
    /// last weight the table was built from and its turns.
    pub(crate) fn entries<'a>(
        &'a self,
        dests: &'a Dests,
    ) -> impl Iterator<Item = (&'a ipvs::Dest, i32, u32)> {
        dests
            .as_slice()
            .iter()
            .zip(self.last_weights.iter())
            .map(|(d, &lw)| (&**d, lw, maglev::turns(lw, self.built.weights)))
    }

    /// Counts each destination's slots into `counts` (one per destination).
    pub(crate) fn count_slots(&self, counts: &mut [u32]) {
        match &self.slots {
            Slots::Narrow(s) => maglev::count_slots(s, counts),
            Slots::Wide(s) => maglev::count_slots(s, counts),
        };
    }

    /// The digest operators compare across directors (see
    /// `maglev::table_digest_by`); `dests` are the table's own.
    pub(crate) fn digest(&self, dests: &Dests) -> u64 {
        let dest = |i| self.spec_at(dests, i);
        match &self.slots {
            Slots::Narrow(s) => maglev::table_digest_by(self.size, s, dest),
            Slots::Wide(s) => maglev::table_digest_by(self.size, s, dest),
        }
    }

    /// The destination for a client, or `None` ("no destination
    /// available"); `dests` are the table's own.
    #[inline(always)]
    pub(crate) fn lookup<'d>(
        &self,
        dests: &'d Dests,
        addr: &Addr,
        port: u16,
        fallback: bool,
    ) -> Option<&'d ipvs::Dest> {
        let index = match &self.slots {
            Slots::Narrow(s) => maglev::lookup(s, self.size, self, addr, port, fallback, dests),
            Slots::Wide(s) => maglev::lookup(s, self.size, self, addr, port, fallback, dests),
        }?;
        dests.get(index)
    }

    /// Which of the table's destinations own a slot.
    fn owners(&self) -> Owners<'_> {
        Owners {
            built: self.built,
            last_weights: &self.last_weights,
        }
    }
}

/// What a new table is built from, and the buffers that become its own.
struct Inputs<'l, 'a> {
    size: TableSize,
    order: Order,
    lineup: &'l mut Lineup<'a>,
    /// The table in force, if it has the same size: its permutations carry
    /// over to the destinations it shares with the new one.
    previous: Option<Current<'l, Table>>,
    perms: &'l mut [Permutation],
    last_weights: &'l mut [i32],
}

impl Inputs<'_, '_> {
    /// Puts the lineup in table order and builds the slots into a new slot
    /// array of type `S`, which `wrap` makes the table's.
    fn populate<S: Slot>(&mut self, wrap: fn(KVVec<S>) -> Slots) -> Result<(Slots, Populated)> {
        let (size, family) = (self.size, self.lineup.family());
        let mut slots = KVVec::from_elem(S::EMPTY, size.slots() as usize, flags())?;
        let mut cursors = KVec::from_elem(Cursor::default(), self.perms.len(), flags())?;
        let mut free = KVec::from_elem(0, maglev::free_list_len(size), flags())?;
        let mut carry = self
            .previous
            .map(|p| (Carry::new(p.dests.as_slice()), p.table));
        let known = |dest: &mut HeldDest| {
            let (carry, old) = carry.as_mut()?;
            let j = carry.find(|held| ptr::eq::<ipvs::Dest>(&**held, &**dest))?;
            old.perms.get(j).copied()
        };
        let out = Layout::new(
            self.perms,
            self.last_weights,
            &mut cursors,
            &mut free,
            // Allocated filled with EMPTY just above.
            EmptySlots::filled(&mut slots),
        );
        let items = self.lineup.as_mut_slice();
        let mut keys = KVec::new();
        if self.order.is_canonical() {
            keys = KVec::from_elem(maglev::Dest::default(), items.len(), flags())?;
        }
        let canonical = self.order.is_canonical().then_some(&mut keys[..]);
        let built = maglev::build(
            size,
            canonical,
            items,
            |d| spec(d, family),
            |d| d.last_weight(),
            known,
            out,
        )
        .map_err(|_| EINVAL)?;
        Ok((wrap(slots), built))
    }
}

/// Asked only on the slow path of a fallback lookup, so nothing is read
/// for it on the common one.
impl SlotOwners for Table {
    fn reached(&self) -> usize {
        self.owners().reached()
    }

    fn owns(&self, dest: usize) -> bool {
        self.owners().owns(dest)
    }
}

impl Availability for Dests {
    #[inline(always)]
    fn is_available(&self, dest: usize) -> bool {
        self.get(dest).is_some_and(ipvs::Dest::is_available)
    }
}
