// SPDX-License-Identifier: GPL-2.0

//! Counted references to IPVS destinations (`struct ip_vs_dest`).

use super::bindings;
use crate::maglev::{Addr, Family};
use core::{
    ptr::NonNull,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{alloc::kvec::PushError, prelude::*};

/// One destination of a service, on which this module holds a reference.
///
/// # Invariants
///
/// `self.0` points to a live `struct ip_vs_dest` on which this module holds
/// one reference (taken with `ip_vs_dest_hold`) for as long as the
/// [`DestRefs`] that contains it has not released its references; the
/// destination's memory itself is freed by IPVS only after an RCU grace
/// period that starts after the release.
pub(crate) struct DestRef {
    dest: NonNull<bindings::ip_vs_dest>,
    /// The service's address family decides how the address is hashed.
    family: Family,
}

// SAFETY: The fields of `ip_vs_dest` that `DestRef` reads are atomics or are
// only written under the IPVS configuration mutex before the destination is
// published; IPVS itself shares destinations between CPUs.
unsafe impl Send for DestRef {}
// SAFETY: See `Send`: every accessor only reads.
unsafe impl Sync for DestRef {}

impl DestRef {
    /// Takes a reference on `dest`.
    ///
    /// # Safety
    ///
    /// `dest` must point to a live destination of a service, and the caller
    /// must hold the IPVS configuration mutex.
    pub(super) unsafe fn hold(dest: NonNull<bindings::ip_vs_dest>, family: Family) -> Self {
        // SAFETY: The caller guarantees `dest` is live.
        unsafe { bindings::ip_vs_mh_rs_dest_hold(dest.as_ptr()) };
        // INVARIANT: The reference was just taken.
        Self { dest, family }
    }

    fn raw(&self) -> &bindings::ip_vs_dest {
        // SAFETY: By the type invariant the destination is live.
        unsafe { self.dest.as_ref() }
    }

    /// The address, as the service's family hashes it.
    pub(crate) fn addr(&self) -> Addr {
        let addr = &self.raw().addr;
        // SAFETY: `nf_inet_addr` is a 16-byte union of plain integers: any
        // bit pattern is a valid byte array.
        let bytes: [u8; 16] = unsafe { core::mem::transmute_copy(addr) };
        Addr::from_nf_inet_addr(self.family, &bytes)
    }

    /// The port, in host byte order.
    pub(crate) fn port(&self) -> u16 {
        u16::from_be(self.raw().port)
    }

    /// The current weight.
    #[inline]
    pub(crate) fn weight(&self) -> i32 {
        // SAFETY: By the type invariant the destination is live. `weight` is
        // an `atomic_t`, which `atomic_read()` reads with `READ_ONCE()`.
        unsafe { read_once(&raw const (*self.dest.as_ptr()).weight.counter) }
    }

    /// The latest non-zero weight, which decides the destination's slots.
    pub(crate) fn last_weight(&self) -> i32 {
        // SAFETY: As for `weight`.
        unsafe { read_once(&raw const (*self.dest.as_ptr()).last_weight.counter) }
    }

    /// Whether new connections may go to this destination: a positive weight
    /// and not overloaded, as the C scheduler decides it.
    #[inline]
    pub(crate) fn is_available(&self) -> bool {
        self.weight() > 0 && {
            // SAFETY: By the type invariant the destination is live; IPVS
            // updates `flags` concurrently, and C reads it with `READ_ONCE()`.
            let flags = unsafe { read_once(&raw const (*self.dest.as_ptr()).flags) };
            flags & bindings::IP_VS_DEST_F_OVERLOAD == 0
        }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::ip_vs_dest {
        self.dest.as_ptr()
    }
}

/// `READ_ONCE()`: one read the compiler may neither tear, merge nor repeat.
///
/// Read here rather than through C helpers: these reads are on the path of
/// every new connection, and a call per read costs more than the read.
///
/// # Safety
///
/// `p` must be valid for reads and properly aligned.
#[inline(always)]
unsafe fn read_once<T: Copy>(p: *const T) -> T {
    // SAFETY: Guaranteed by the caller.
    unsafe { core::ptr::read_volatile(p) }
}

/// The destinations of one table, each held once.
///
/// References are dropped either by [`DestRefs::release`], when a table is
/// retired (readers may still look at the pointers until a grace period has
/// passed, as in the C scheduler), or on drop if that never happened (a
/// table that was never published).
pub(crate) struct DestRefs {
    refs: KVec<DestRef>,
    released: AtomicBool,
}

impl DestRefs {
    /// An empty set with room for `n` destinations.
    pub(super) fn with_capacity(n: usize) -> Result<Self> {
        Ok(Self {
            refs: KVec::with_capacity(n, GFP_KERNEL)?,
            released: AtomicBool::new(false),
        })
    }

    /// Takes a reference on `dest` and appends it, within the capacity.
    ///
    /// # Safety
    ///
    /// `dest` must point to a live destination of a service, and the caller
    /// must hold the IPVS configuration mutex.
    pub(super) unsafe fn push_held(
        &mut self,
        dest: NonNull<bindings::ip_vs_dest>,
        family: Family,
    ) -> Result {
        if self.refs.len() >= self.refs.capacity() {
            // The list holds more destinations than the service counts.
            return Err(EINVAL);
        }
        // SAFETY: Guaranteed by the caller.
        let held = unsafe { DestRef::hold(dest, family) };
        self.refs
            .push_within_capacity(held)
            .map_err(|PushError(held)| {
                // SAFETY: `held` owns the reference taken just above.
                unsafe { bindings::ip_vs_mh_rs_dest_put(held.as_ptr()) };
                EINVAL
            })
    }

    /// The destinations, in table order.
    pub(crate) fn as_slice(&self) -> &[DestRef] {
        &self.refs
    }

    /// Reorders the destinations before the table is built.
    pub(crate) fn sort_unstable_by(
        &mut self,
        compare: impl FnMut(&DestRef, &DestRef) -> core::cmp::Ordering,
    ) {
        self.refs.sort_unstable_by(compare);
    }

    /// Drops the references now; the memory goes later, with the table.
    pub(super) fn release(&self) {
        if self.released.swap(true, Ordering::Relaxed) {
            return;
        }
        for dest in self.refs.iter() {
            // SAFETY: By the type invariant of `DestRef` we hold one
            // reference on each destination; `released` makes sure it is
            // dropped once.
            unsafe { bindings::ip_vs_mh_rs_dest_put(dest.as_ptr()) };
        }
    }
}

impl Drop for DestRefs {
    fn drop(&mut self) {
        self.release();
    }
}
