// SPDX-License-Identifier: GPL-2.0

//! The read-only view of an IPVS destination, a real server
//! (`struct ip_vs_dest`).
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h)

use super::{
    addr_bytes,
    bindings,
    read_once::read_once, //
};
use crate::maglev::{
    self,
    Addr,
    Family, //
};
use kernel::types::Opaque;

/// An IPVS destination (real server).
///
/// # Invariants
///
/// A `&Dest` points to a live `struct ip_vs_dest`: its holder has a
/// reference on it, or holds `svc->ipvs->service_mutex` with it on the
/// service's list, or is an RCU reader that found it in a table published
/// while such a reference was held (IPVS frees destinations with
/// `call_rcu`, and only once no reference is left). IPVS writes `weight`
/// and `last_weight` under `service_mutex`, and `flags` (the overload bit)
/// under `dest->dst_lock` from the connection paths, while packets are
/// scheduled on any CPU; address and port are set when the destination is
/// created and never change.
#[repr(transparent)]
pub(crate) struct Dest(Opaque<bindings::ip_vs_dest>);

// SAFETY: `Dest` only reads IPVS's object, which IPVS shares between CPUs
// itself; every field that changes is read with `read_once`.
unsafe impl Sync for Dest {}

impl Dest {
    pub(super) fn as_ptr(&self) -> *mut bindings::ip_vs_dest {
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
        // an aligned `atomic_t` that `__ip_vs_update_dest` sets under
        // `service_mutex` and C readers read with `atomic_read`.
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
        // an aligned `unsigned int` that `__ip_vs_dest_update_overload`
        // rewrites under `dest->dst_lock` (from the connection paths, in any
        // context) and that C schedulers read without the lock, as this does.
        let flags = unsafe { read_once(&raw const (*self.as_ptr()).flags) };
        flags & bindings::IP_VS_DEST_F_OVERLOAD != 0
    }

    /// Whether new connections may go to it, as the C scheduler decides.
    #[inline(always)]
    pub(crate) fn is_available(&self) -> bool {
        maglev::available(self.weight(), self.overloaded())
    }
}
