// SPDX-License-Identifier: GPL-2.0

//! IPVS real servers (`struct ip_vs_dest`) and the counted references a
//! table holds on them.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h)

use super::{
    addr_bytes,
    bindings,
    service::LockedService, //
};
use crate::maglev::{
    self,
    Addr,
    Family, //
};
use core::{
    ops::Deref,
    ptr::NonNull, //
};
use kernel::{
    prelude::*,
    sync::atomic::{
        AtomicFlag,
        Relaxed, //
    },
    types::Opaque, //
};

/// An IPVS destination (real server).
///
/// # Invariants
///
/// A `&Dest` points to a live `struct ip_vs_dest`: its holder has a
/// reference on it, or holds the configuration mutex with it on a
/// service's list, or is an RCU reader that found it in a table published
/// when the reference was held (IPVS frees destinations with `call_rcu`).
/// IPVS writes `weight` and `last_weight` under the configuration mutex,
/// and `flags` (the overload bit) under `dst_lock` from the connection
/// paths, while packets are scheduled on other CPUs; address and port are
/// set when the destination is created and never change.
#[repr(transparent)]
pub(crate) struct Dest(Opaque<bindings::ip_vs_dest>);

// SAFETY: `Dest` only reads IPVS's object, which IPVS shares between CPUs
// itself; every racy field is read with READ_ONCE semantics.
unsafe impl Sync for Dest {}

impl Dest {
    fn as_ptr(&self) -> *mut bindings::ip_vs_dest {
        self.0.get()
    }

    /// The address, as the service's `family` hashes it.
    pub(crate) fn addr(&self, family: Family) -> Addr {
        // SAFETY: By the type invariant the destination is live and its
        // address never changes.
        let addr = unsafe { &(*self.as_ptr()).addr };
        Addr::from_nf_inet_addr(family, &addr_bytes(addr))
    }

    /// The port, in host byte order.
    pub(crate) fn port(&self) -> u16 {
        // SAFETY: As for `addr`.
        u16::from_be(unsafe { (*self.as_ptr()).port })
    }

    /// The current weight.
    #[inline(always)]
    pub(crate) fn weight(&self) -> i32 {
        // SAFETY: By the type invariant the destination is live; `weight` is
        // an aligned `atomic_t` that `__ip_vs_update_dest` sets under the
        // configuration mutex and `atomic_read` reads with READ_ONCE.
        unsafe { read_once(&raw const (*self.as_ptr()).weight.counter) }
    }

    /// The latest non-zero weight, which decides the destination's slots.
    pub(crate) fn last_weight(&self) -> i32 {
        // SAFETY: As for `weight`.
        unsafe { read_once(&raw const (*self.as_ptr()).last_weight.counter) }
    }

    /// Whether IPVS marked it overloaded (connection thresholds).
    #[inline(always)]
    pub(crate) fn overloaded(&self) -> bool {
        // SAFETY: By the type invariant the destination is live; `flags` is
        // an aligned integer that `ip_vs_dest_update_overload` rewrites under
        // `dst_lock` from the connection paths (softirq), which C schedulers
        // read without the lock, as this does.
        let flags = unsafe { read_once(&raw const (*self.as_ptr()).flags) };
        flags & bindings::IP_VS_DEST_F_OVERLOAD != 0
    }

    /// Whether new connections may go to it, as the C scheduler decides.
    #[inline(always)]
    pub(crate) fn is_available(&self) -> bool {
        maglev::available(self.weight(), self.overloaded())
    }

    pub(super) fn as_raw(&self) -> *mut bindings::ip_vs_dest {
        self.as_ptr()
    }
}

/// READ_ONCE: one load the compiler may neither tear, merge nor repeat.
///
/// FIXME(read_once): `kernel::sync::atomic::atomic_load` when it inlines;
/// without CONFIG_RUST_INLINE_HELPERS (neither Debian's GCC-built kernel nor
/// a clang kernel whose LLVM differs from rustc's can have it) it is a C
/// call, on the path of every new connection.
///
/// # Safety
///
/// `p` must be valid for reads and properly aligned.
#[inline(always)]
unsafe fn read_once<T: Copy>(p: *const T) -> T {
    // SAFETY: Guaranteed by the caller.
    unsafe { core::ptr::read_volatile(p) }
}

/// A destination on which a [`Dests`] holds a reference.
///
/// # Invariants
///
/// `0` points to a live destination while the owning [`Dests`] holds its
/// references, and for RCU readers of the table it belongs to afterwards
/// (see [`Dest`]). It is neither `Clone` nor `Copy`: reordering a slice of
/// them keeps one reference per destination.
#[repr(transparent)]
pub(crate) struct HeldDest(NonNull<Dest>);

impl Deref for HeldDest {
    type Target = Dest;

    fn deref(&self) -> &Dest {
        // SAFETY: By the type invariant the destination is live while a
        // `&self` can exist.
        unsafe { self.0.as_ref() }
    }
}

/// The destinations a table is built from, each held once, in table order.
///
/// References are dropped either by [`Dests::release`] when the table is
/// retired (RCU readers may still look at the pointers until a grace period
/// has passed, as in the C scheduler), or on drop if that never happened (a
/// table that was never published).
///
/// # Invariants
///
/// Until `released` is set, one reference (`ip_vs_dest_hold`) is held on
/// every destination of `list`.
pub(crate) struct Dests {
    family: Family,
    list: KVec<HeldDest>,
    released: AtomicFlag,
}

// SAFETY: The destinations are IPVS's shared objects (see `Dest`); the list
// itself is only changed through `&mut self`, and `released` is atomic.
unsafe impl Send for Dests {}
// SAFETY: See `Send`.
unsafe impl Sync for Dests {}

impl Dests {
    /// Takes a reference on every destination of `svc`, in list order.
    pub(super) fn hold_all(svc: &LockedService<'_>) -> Result<Self> {
        let n = svc.num_dests();
        // INVARIANT: Empty, nothing held yet.
        let mut dests = Self {
            family: svc.service().family(),
            list: KVec::with_capacity(n, GFP_KERNEL)?,
            released: AtomicFlag::new(false),
        };
        for dest in svc.destinations() {
            // The list holds more destinations than the service counts:
            // refuse rather than grow (the capacity is all we may hold).
            if dests.list.len() >= n {
                return Err(EINVAL);
            }
            // SAFETY: `dest` is live: it is on the service's list and the
            // mutex is held.
            unsafe { bindings::ip_vs_mh_rs_dest_hold(dest.as_raw()) };
            // INVARIANT: The reference just taken is recorded at once.
            if dests
                .list
                .push_within_capacity(HeldDest(NonNull::from(dest)))
                .is_err()
            {
                // SAFETY: Undoes the hold above: not recorded, not owned.
                unsafe { bindings::ip_vs_mh_rs_dest_put(dest.as_raw()) };
                return Err(EINVAL);
            }
        }
        Ok(dests)
    }

    /// The service's family, in which the addresses are hashed.
    pub(crate) fn family(&self) -> Family {
        self.family
    }

    /// The destinations, in table order.
    #[inline(always)]
    pub(crate) fn as_slice(&self) -> &[HeldDest] {
        &self.list
    }

    /// The destinations, to put them in another order.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [HeldDest] {
        &mut self.list
    }

    /// Destination `i` of the table order.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<&Dest> {
        self.list.get(i).map(|d| &**d)
    }

    /// Whether both hold the same destination objects in the same order.
    pub(crate) fn same_as(&self, other: &Dests) -> bool {
        self.list.len() == other.list.len()
            && self
                .list
                .iter()
                .zip(other.list.iter())
                .all(|(a, b)| a.0 == b.0)
    }

    /// Drops the references now; the memory goes later, with the table.
    pub(super) fn release(&self) {
        if self.released.xchg(true, Relaxed) {
            return;
        }
        for dest in self.list.iter() {
            // SAFETY: By the type invariant one reference is held on each
            // destination until `released` is set, which we just did.
            unsafe { bindings::ip_vs_mh_rs_dest_put(dest.as_raw()) };
        }
    }
}

impl Drop for Dests {
    fn drop(&mut self) {
        self.release();
    }
}
