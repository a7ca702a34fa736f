// SPDX-License-Identifier: GPL-2.0

//! The destinations of a table, and the counted references
//! (`ip_vs_dest_hold`) that keep them while the table is in force.
//!
//! A new table's destinations are first a [`Lineup`]: the service's list,
//! not held, which the scheduler may put in another order. The adapter then
//! turns it into [`Dests`] without allocating: a destination the table in
//! force already holds keeps that reference (the old table hands it over),
//! only the others are held afresh, and the old table, when it is retired,
//! drops only the references it does not hand over. As in the C scheduler,
//! a change costs reference operations only for what it changed.

use super::{
    bindings,
    dest::Dest,
    locked::LockedService, //
};
use crate::maglev::{
    Carry,
    Family, //
};
use core::{
    marker::PhantomData,
    ops::Deref,
    ptr::{
        self,
        NonNull, //
    }, //
};
use kernel::{
    prelude::*,
    sync::atomic::{
        AtomicFlag,
        Relaxed, //
    },
};

/// A destination of a [`Lineup`] or of a [`Dests`].
///
/// # Invariants
///
/// `0` points to a live destination: in a [`Lineup`], because it is on the
/// service's list and `svc->ipvs->service_mutex` is held; in a [`Dests`],
/// while it holds its references, and for the RCU readers of the table it
/// belongs to until a grace period after that (see [`Dest`]); only such
/// readers reach a `Dests` once its references are dropped. It is neither
/// `Clone` nor `Copy`: a reordering keeps one entry per destination.
#[repr(transparent)]
pub(crate) struct HeldDest(NonNull<Dest>);

impl Deref for HeldDest {
    type Target = Dest;

    fn deref(&self) -> &Dest {
        // SAFETY: By the type invariant the destination is live for whoever
        // can reach this `HeldDest`.
        unsafe { self.0.as_ref() }
    }
}

/// The destinations of a table being built, in table order (the service's
/// list order until the scheduler reorders them). None is held yet: they
/// are live because `svc->ipvs->service_mutex` is held for `'a`.
pub(crate) struct Lineup<'a> {
    family: Family,
    list: KVec<HeldDest>,
    _mutex: PhantomData<&'a Dest>,
}

impl<'a> Lineup<'a> {
    /// The service's destinations, in list order.
    pub(crate) fn of(svc: &LockedService<'a>) -> Result<Self> {
        let mut list = KVec::with_capacity(svc.num_dests(), GFP_KERNEL)?;
        for dest in svc.destinations() {
            // INVARIANT: `dest` is on the list, and the mutex is held for
            // `'a`, as long as the lineup lives. More destinations on the
            // list than the service counts: refuse rather than grow.
            list.push_within_capacity(HeldDest(NonNull::from(dest)))
                .map_err(|_| EINVAL)?;
        }
        Ok(Self {
            family: svc.service().family(),
            list,
            _mutex: PhantomData,
        })
    }

    /// The service's family, in which the addresses are hashed.
    pub(crate) fn family(&self) -> Family {
        self.family
    }

    /// The destinations, to put them in table order.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [HeldDest] {
        &mut self.list
    }
}

/// Which destinations pass from the table in force to its successor.
pub(super) enum Handover {
    /// None: the old table drops every reference, the new one takes its own.
    Nothing,
    /// All of them, each at the same index (the successor has the same
    /// destinations in the same order: a change of weights only).
    Everything,
    /// Those marked: one bit per index of each table.
    Marked { from_old: Bits, to_new: Bits },
}

/// One bit per index, all clear at first: in a word of its own up to 64
/// indices (the usual service: nothing allocated), else allocated.
pub(super) enum Bits {
    /// Up to 64 indices: bit `i` of the word.
    Word(u64),
    /// More: bit `i % 64` of word `i / 64`.
    Words(KVec<u64>),
}

impl Bits {
    /// Bits for `n` indices.
    fn new(n: usize) -> Result<Self> {
        if n <= 64 {
            return Ok(Self::Word(0));
        }
        Ok(Self::Words(KVec::from_elem(
            0u64,
            n.div_ceil(64),
            GFP_KERNEL,
        )?))
    }

    /// Sets bit `i` (an index past the bits is ignored).
    fn set(&mut self, i: usize) {
        let word = match self {
            Self::Word(w) => (i < 64).then_some(w),
            Self::Words(words) => words.get_mut(i / 64),
        };
        if let Some(w) = word {
            *w |= 1u64 << (i % 64);
        }
    }

    /// Whether bit `i` is set (false past the bits).
    fn test(&self, i: usize) -> bool {
        let word = match self {
            Self::Word(w) => (i < 64).then_some(*w),
            Self::Words(words) => words.get(i / 64).copied(),
        };
        word.is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }
}

impl Handover {
    /// Nothing passes on: the old table drops every reference.
    pub(super) fn none() -> Self {
        Self::Nothing
    }

    /// Finds the destinations of `lineup` (in its final order) that the
    /// table in force, `old`, holds, by identity. One missed (a reordering)
    /// is only held afresh while the old reference is dropped: the count
    /// stays right either way.
    pub(super) fn new(old: Option<&Dests>, lineup: &Lineup<'_>) -> Result<Self> {
        let Some(old) = old else {
            return Ok(Self::none());
        };
        // A change of weights keeps every destination where it was: then
        // nothing is allocated, and holding and releasing are no walks.
        if old.list.len() == lineup.list.len()
            && old
                .list
                .iter()
                .zip(lineup.list.iter())
                .all(|(o, n)| o.0 == n.0)
        {
            return Ok(Self::Everything);
        }
        let mut from_old = Bits::new(old.list.len())?;
        let mut to_new = Bits::new(lineup.list.len())?;
        let mut carry = Carry::new(&old.list[..]);
        for (i, dest) in lineup.list.iter().enumerate() {
            if let Some(j) = carry.find(|h| ptr::eq(h.0.as_ptr(), dest.0.as_ptr())) {
                from_old.set(j);
                to_new.set(i);
            }
        }
        Ok(Self::Marked { from_old, to_new })
    }

    /// Whether the successor takes over the reference to its destination
    /// `i`.
    fn passes_to_new(&self, i: usize) -> bool {
        match self {
            Self::Nothing => false,
            Self::Everything => true,
            Self::Marked { to_new, .. } => to_new.test(i),
        }
    }

    /// Whether the old table's destination `j` passes on.
    fn passes_from_old(&self, j: usize) -> bool {
        match self {
            Self::Nothing => false,
            Self::Everything => true,
            Self::Marked { from_old, .. } => from_old.test(j),
        }
    }
}

/// The destinations of a table in force, each held once, in table order.
///
/// # Invariants
///
/// Until `released` is set, one reference is held on every destination of
/// `list`: taken by [`Dests::hold`], or handed over by the table this one
/// replaced (whose retirement, right after this one is published, gives up
/// exactly those). Once `released` is set, only RCU readers that found the
/// table before it was unpublished reach this value.
pub(crate) struct Dests {
    family: Family,
    list: KVec<HeldDest>,
    released: AtomicFlag,
}

// SAFETY: The destinations are IPVS's shared objects (see `Dest`); the list
// is never changed once made, and `released` is atomic.
unsafe impl Send for Dests {}
// SAFETY: See `Send`.
unsafe impl Sync for Dests {}

impl Dests {
    /// The lineup's destinations, held: a fresh reference for each one the
    /// handover does not pass on. Cannot fail.
    ///
    /// # Safety
    ///
    /// `handover` must have been made for this lineup and the table in
    /// force, and the caller must publish the new table in place of that one
    /// and retire the old one with `handover` before anything else happens
    /// to either: only then do the passed-on references become this value's.
    pub(super) unsafe fn hold(lineup: Lineup<'_>, handover: &Handover) -> Self {
        // With `Everything` nothing is held afresh: no walk at all.
        if !matches!(handover, Handover::Everything) {
            for (i, dest) in lineup.list.iter().enumerate() {
                if !handover.passes_to_new(i) {
                    // SAFETY: The destination is live: it is on the service's
                    // list and `svc->ipvs->service_mutex` is held.
                    unsafe { bindings::ip_vs_mh_rs_dest_hold(dest.as_ptr()) };
                }
            }
        }
        // INVARIANT: Every entry is held now, or its reference is the old
        // table's until its retirement, which the caller does next, hands it
        // over (`release_except`).
        Self {
            family: lineup.family,
            list: lineup.list,
            released: AtomicFlag::new(false),
        }
    }

    /// The service's family, in which the addresses are hashed.
    pub(crate) fn family(&self) -> Family {
        self.family
    }

    /// The number of destinations.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// The destinations, in table order.
    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[HeldDest] {
        &self.list
    }

    /// Destination `i` of the table order.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<&Dest> {
        self.list.get(i).map(|d| &**d)
    }

    /// Drops the references the successor does not take over (all of them
    /// with [`Handover::none`]); the memory goes later, with the table.
    ///
    /// # Safety
    ///
    /// `handover` must be the one made for the successor that was published
    /// in place of this table (or [`Handover::none`] when none was), and the
    /// caller must not reach the destinations through `self` afterwards:
    /// only RCU readers that found the table before it was unpublished may.
    pub(super) unsafe fn release_except(&self, handover: &Handover) {
        if self.released.xchg(true, Relaxed) {
            return;
        }
        // With `Everything` nothing is dropped: no walk at all.
        if matches!(handover, Handover::Everything) {
            return;
        }
        for (j, dest) in self.list.iter().enumerate() {
            if !handover.passes_from_old(j) {
                // SAFETY: By the type invariant one reference is held on
                // each destination until `released` is set, which we just
                // did; the successor holds the ones passed on.
                unsafe { bindings::ip_vs_mh_rs_dest_put(dest.as_ptr()) };
            }
        }
    }
}

impl Drop for Dests {
    fn drop(&mut self) {
        // A published table was released when it was retired; this drops
        // the references of one that never got that far.
        // SAFETY: Nothing reaches the destinations after the drop, and no
        // successor took any over.
        unsafe { self.release_except(&Handover::none()) };
    }
}
