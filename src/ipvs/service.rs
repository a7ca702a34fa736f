// SPDX-License-Identifier: GPL-2.0

//! The read-only view of an IPVS virtual service (`struct ip_vs_service`)
//! that the packet path and the debugfs view use.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h)

use super::{
    addr_bytes,
    bindings,
    rcu_box::{
        self,
        ReadSide, //
    },
    read_once::read_once, //
};
use crate::maglev::{
    Addr,
    Family,
    Flags, //
};
use kernel::types::Opaque;

/// An IPVS virtual service.
///
/// # Invariants
///
/// A `&Service` points to a live `struct ip_vs_service`. IPVS writes its
/// `flags` (`ip_vs_edit_service`), its destination list, `num_dests` and
/// `sched_data` under the per-namespace configuration mutex
/// `svc->ipvs->service_mutex`, while packets are scheduled on any CPU;
/// address, port, protocol, family, firewall mark and `ipvs` are set before
/// the service is bound to a scheduler and never change afterwards.
#[repr(transparent)]
pub(crate) struct Service(Opaque<bindings::ip_vs_service>);

impl Service {
    /// # Safety
    ///
    /// `ptr` must point to a service that stays live for `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::ip_vs_service) -> &'a Self {
        // CAST: `Service` is a transparent wrapper of the C struct.
        // INVARIANT: Guaranteed by the caller.
        // SAFETY: Guaranteed by the caller.
        unsafe { &*ptr.cast::<Self>() }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::ip_vs_service {
        self.0.get()
    }

    /// The service's address family, which decides how every address of
    /// the service (client or destination) is hashed.
    pub(crate) fn family(&self) -> Family {
        // SAFETY: By the type invariant the service is live and `af` never
        // changes once it is bound.
        let af = unsafe { (*self.as_ptr()).af };
        if u32::from(af) == bindings::AF_INET6 {
            Family::Inet6
        } else {
            Family::Inet
        }
    }

    /// The service's protocol number (`IPPROTO_TCP`, ...).
    pub(crate) fn protocol(&self) -> u16 {
        // SAFETY: As for `family`.
        unsafe { (*self.as_ptr()).protocol }
    }

    /// The protocol's name, as ipvsadm prints it.
    pub(crate) fn protocol_name(&self) -> &'static str {
        let is = |p| i64::from(self.protocol()) == i64::from(p);
        if is(bindings::IPPROTO_TCP) {
            "TCP"
        } else if is(bindings::IPPROTO_UDP) {
            "UDP"
        } else if is(bindings::IPPROTO_SCTP) {
            "SCTP"
        } else {
            "?"
        }
    }

    /// The virtual address.
    pub(crate) fn addr(&self) -> Addr {
        // SAFETY: As for `family`.
        let addr = unsafe { &(*self.as_ptr()).addr };
        Addr::from_nf_inet_addr(self.family(), &addr_bytes(addr))
    }

    /// The virtual port, in host order.
    pub(crate) fn port(&self) -> u16 {
        // SAFETY: As for `family`.
        u16::from_be(unsafe { (*self.as_ptr()).port })
    }

    /// The inode number of the service's network namespace, as
    /// `/proc/PID/ns/net` and `ip netns` name it: directors in different
    /// namespaces of one host keep apart in the debugfs view.
    pub(crate) fn netns(&self) -> u32 {
        // SAFETY: By the type invariant the service is live; `ipvs` is set
        // when IPVS creates the service, and the namespace (with its
        // `netns_ipvs` and inode number) outlives every service in it.
        unsafe { (*(*(*self.as_ptr()).ipvs).net).ns.inum }
    }

    /// The firewall mark of a fwmark service, else 0.
    pub(crate) fn fwmark(&self) -> u32 {
        // SAFETY: As for `family`.
        unsafe { (*self.as_ptr()).fwmark }
    }

    /// The scheduler flags (`ipvsadm -b`).
    #[inline(always)]
    pub(crate) fn flags(&self) -> Flags {
        // SAFETY: The service is live (type invariant); `flags` is an aligned
        // `unsigned int` that `ip_vs_edit_service` rewrites with one store
        // under `svc->ipvs->service_mutex`, maybe not held here: a racing
        // read sees the old or the new value (see `read_once`).
        let bits = unsafe { read_once(&raw const (*self.as_ptr()).flags) };
        Flags {
            fallback: bits & bindings::IP_VS_SVC_F_SCHED1 != 0,
            port: bits & bindings::IP_VS_SVC_F_SCHED2 != 0,
            canonical: bits & bindings::IP_VS_SVC_F_SCHED3 != 0,
        }
    }

    /// The object published in `sched_data`, for an RCU reader.
    ///
    /// # Safety
    ///
    /// `sched_data` must hold null or a pointer made by
    /// [`rcu_box::RcuBox::<T>::into_raw`] (the service is bound to the
    /// scheduler whose objects are `T`).
    #[inline(always)]
    pub(super) unsafe fn published<'g, T: Send + Sync>(
        &self,
        rcu: &'g ReadSide<'_>,
    ) -> Option<&'g T> {
        // `rcu_dereference`: through the C helper where the kernel checks
        // RCU usage (CONFIG_PROVE_RCU, the debug kernel), else the
        // READ_ONCE it is there, without a call per new connection (x86-64
        // orders the dependent loads without a barrier).
        #[cfg(CONFIG_PROVE_RCU)]
        // SAFETY: The service is live; the helper is `rcu_dereference`,
        // called inside the read-side section `rcu` proves.
        let ptr = unsafe { bindings::ip_vs_mh_rs_sched_data(self.as_ptr()) };
        #[cfg(not(CONFIG_PROVE_RCU))]
        // SAFETY: The service is live, and `sched_data` is an aligned
        // pointer that the writer publishes with `rcu_assign_pointer`
        // under `svc->ipvs->service_mutex`; this is the load
        // `rcu_dereference` makes, inside the read-side section `rcu` proves.
        let ptr = unsafe { read_once(&raw const (*self.as_ptr()).sched_data) };
        // SAFETY: `ptr` is null or ours (guaranteed by the caller), loaded
        // in that section.
        unsafe { rcu_box::borrow_published(ptr, rcu) }
    }
}
