// SPDX-License-Identifier: GPL-2.0

//! One immutable lookup table of a service.

use crate::{
    ipvs::{
        self,
        Build,
        Current,
        Dests, //
    },
    maglev::{
        self,
        Addr,
        Availability,
        DestState,
        Slot,
        TableSize, //
    },
};
use core::fmt;
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
/// with (one reference per destination, held by the adapter, not one per
/// slot as the C scheduler does).
pub(crate) struct Table {
    size: TableSize,
    order: Order,
    /// What the table was built from, in table order.
    specs: KVec<maglev::Dest>,
    states: KVec<DestState>,
    slots: Slots,
    /// Tables built for this service so far, this one included.
    builds: u64,
    /// Destination changes since this table was built that left every input
    /// of it unchanged, so it stayed in force.
    kept: Atomic<u64>,
    build_time: Delta,
}

/// Allocates a vector of `n` copies of `value`. A failure is reported (and
/// the previous table kept) by the caller, so the allocator stays quiet.
fn filled<T: Copy>(value: T, n: usize) -> Result<KVVec<T>> {
    Ok(KVVec::from_elem(value, n, GFP_KERNEL | __GFP_NOWARN)?)
}

impl Table {
    /// Builds the table for `dests` (put in `order` first), or keeps
    /// `current` when it was built from exactly the same inputs: the same
    /// destinations in the same order with the same last weights, table size
    /// and order. A weight set to 0 and back (quiesce and unquiesce), a
    /// threshold or a forwarding method change then costs a comparison, not
    /// a build; the table is the one C would build.
    pub(crate) fn build(
        size: TableSize,
        order: Order,
        dests: &mut Dests,
        current: Option<Current<'_, Table>>,
    ) -> Result<Build<Table>> {
        let start = Instant::<Monotonic>::now();
        let n = dests.as_slice().len();
        let m = size.slots() as usize;
        if n > m {
            // As in C: more destinations than slots cannot be scheduled.
            return Err(EINVAL);
        }
        let family = dests.family();
        if order.is_canonical() {
            maglev::sort_canonical_by_key(dests.as_mut_slice(), |d| spec(d, family));
        }
        let mut specs = KVec::with_capacity(n, GFP_KERNEL | __GFP_NOWARN)?;
        for dest in dests.as_slice() {
            specs.push(spec(dest, family), GFP_KERNEL)?;
        }
        if let Some(current) = current {
            let table = current.table;
            if table.size == size
                && table.order == order
                && table.specs[..] == specs[..]
                && current.dests.same_as(dests)
            {
                table.kept.add(1, Relaxed);
                return Ok(Build::Keep);
            }
        }
        let mut states = KVec::from_elem(DestState::default(), n, GFP_KERNEL | __GFP_NOWARN)?;
        let slots = if n <= u16::MAX_DESTS {
            let mut slots = filled(u16::EMPTY, m)?;
            maglev::populate(size, &specs, &mut states, &mut slots).map_err(to_error)?;
            Slots::Narrow(slots)
        } else {
            let mut slots = filled(u32::EMPTY, m)?;
            maglev::populate(size, &specs, &mut states, &mut slots).map_err(to_error)?;
            Slots::Wide(slots)
        };
        Ok(Build::New(Self {
            size,
            order,
            specs,
            states,
            slots,
            builds: current.map_or(1, |c| c.table.builds.wrapping_add(1)),
            kept: Atomic::new(0),
            build_time: start.elapsed(),
        }))
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

    /// Per destination of `dests` (the table's own): the destination, what
    /// the table was built from, and the build's result.
    pub(crate) fn entries<'a>(
        &'a self,
        dests: &'a Dests,
    ) -> impl Iterator<Item = (&'a ipvs::Dest, &'a maglev::Dest, &'a DestState)> {
        dests
            .as_slice()
            .iter()
            .zip(self.specs.iter())
            .zip(self.states.iter())
            .map(|((d, spec), state)| (&**d, spec, state))
    }

    /// The digest operators compare across directors (see `maglev::digest`).
    pub(crate) fn digest(&self) -> u64 {
        match &self.slots {
            Slots::Narrow(s) => maglev::table_digest(self.size, &self.specs, s),
            Slots::Wide(s) => maglev::table_digest(self.size, &self.specs, s),
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
        let (size, states) = (self.size, &self.states[..]);
        let index = match &self.slots {
            Slots::Narrow(s) => maglev::lookup(s, size, states, addr, port, fallback, dests),
            Slots::Wide(s) => maglev::lookup(s, size, states, addr, port, fallback, dests),
        }?;
        dests.get(index)
    }
}

impl Availability for Dests {
    #[inline(always)]
    fn is_available(&self, dest: usize) -> bool {
        self.get(dest).is_some_and(ipvs::Dest::is_available)
    }
}

/// What the core needs to know of a destination.
fn spec(dest: &ipvs::Dest, family: maglev::Family) -> maglev::Dest {
    maglev::Dest {
        addr: dest.addr(family),
        port: dest.port(),
        last_weight: dest.last_weight(),
    }
}

fn to_error(e: maglev::Error) -> Error {
    match e {
        maglev::Error::BadTableIndex | maglev::Error::TooManyDests | maglev::Error::BufferSize => {
            EINVAL
        }
    }
}
