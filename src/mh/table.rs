// SPDX-License-Identifier: GPL-2.0

//! One immutable lookup table of a service.

use crate::ipvs::{DestRef, DestRefs, LockedService};
use crate::maglev::{self, Addr, Availability, Dest, DestState, Slot, TableSize};
use kernel::{
    alloc::flags::__GFP_NOWARN,
    prelude::*,
    time::{Delta, Instant, Monotonic},
};

/// Slot storage: 2 bytes per slot up to 65535 destinations, else 4.
enum Slots {
    Narrow(KVVec<u16>),
    Wide(KVVec<u32>),
}

/// A built Maglev table: slots index into `dests`, which holds one
/// reference per destination (not one per slot as the C scheduler does).
pub(crate) struct Table {
    size: TableSize,
    canonical: bool,
    dests: DestRefs,
    /// What the table was built from, in the order of `dests`.
    specs: KVec<Dest>,
    states: KVec<DestState>,
    slots: Slots,
    /// Tables built for this service so far, this one included.
    rebuilds: u64,
    build_time: Delta,
}

/// Allocates a vector of `n` copies of `value`. A failure is reported (and
/// the previous table kept) by the caller, so the allocator stays quiet.
fn filled<T: Copy>(value: T, n: usize) -> Result<KVVec<T>> {
    Ok(KVVec::from_elem(value, n, GFP_KERNEL | __GFP_NOWARN)?)
}

impl Table {
    /// Builds the table for the service's current destinations.
    pub(crate) fn build(
        svc: &LockedService<'_>,
        size: TableSize,
        previous: Option<&Table>,
    ) -> Result<Self> {
        let start = Instant::<Monotonic>::now();
        let n = svc.num_dests();
        let m = size.slots() as usize;
        if n > m {
            // As in C: more destinations than slots cannot be scheduled.
            return Err(EINVAL);
        }
        let canonical = svc.service().sched_flags().flag3;
        let mut dests = svc.hold_destinations()?;
        if canonical {
            dests.sort_unstable_by(|a, b| maglev::canonical_cmp(&spec(a), &spec(b)));
        }
        let mut specs = KVec::with_capacity(n, GFP_KERNEL | __GFP_NOWARN)?;
        for dest in dests.as_slice() {
            specs.push(spec(dest), GFP_KERNEL)?;
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
        Ok(Self {
            size,
            canonical,
            dests,
            specs,
            states,
            slots,
            rebuilds: previous.map_or(1, |p| p.rebuilds.wrapping_add(1)),
            build_time: start.elapsed(),
        })
    }

    /// The destination references this table holds.
    pub(crate) fn dests(&self) -> &DestRefs {
        &self.dests
    }

    /// The table size.
    pub(crate) fn size(&self) -> TableSize {
        self.size
    }

    /// Whether the destinations are in canonical order (flag-3).
    pub(crate) fn canonical(&self) -> bool {
        self.canonical
    }

    /// Tables built for the service so far, and how long this one took.
    pub(crate) fn build_stats(&self) -> (u64, Delta) {
        (self.rebuilds, self.build_time)
    }

    /// Per destination: the reference, what the table was built from, and
    /// the build's result.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&DestRef, &Dest, &DestState)> {
        self.dests
            .as_slice()
            .iter()
            .zip(self.specs.iter())
            .zip(self.states.iter())
            .map(|((d, spec), state)| (d, spec, state))
    }

    /// The digest operators compare across directors (see `maglev::digest`).
    pub(crate) fn digest(&self) -> u64 {
        match &self.slots {
            Slots::Narrow(s) => maglev::table_digest(self.size, &self.specs, s),
            Slots::Wide(s) => maglev::table_digest(self.size, &self.specs, s),
        }
    }

    /// The destination for a client, or `None` ("no destination available").
    pub(crate) fn lookup(&self, addr: &Addr, port: u16, fallback: bool) -> Option<&DestRef> {
        let index = match &self.slots {
            Slots::Narrow(s) => maglev::lookup(s, self.size, addr, port, fallback, self),
            Slots::Wide(s) => maglev::lookup(s, self.size, addr, port, fallback, self),
        }?;
        self.dests.as_slice().get(index)
    }
}

impl Availability for Table {
    #[inline]
    fn is_available(&self, dest: usize) -> bool {
        self.dests
            .as_slice()
            .get(dest)
            .is_some_and(DestRef::is_available)
    }

    #[inline]
    fn any_available(&self) -> bool {
        self.dests
            .as_slice()
            .iter()
            .zip(self.states.iter())
            .any(|(dest, state)| state.slots > 0 && dest.is_available())
    }
}

/// What the core needs to know of a destination.
fn spec(dest: &DestRef) -> Dest {
    Dest {
        addr: dest.addr(),
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
