// SPDX-License-Identifier: GPL-2.0

//! Views of an IPVS virtual service (`struct ip_vs_service`).
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h)

use super::{
    addr_bytes,
    bindings,
    dest::Dest,
    rcu_box::{
        self,
        RcuBox,
        ReadSide,
        Retired, //
    }, //
};
use crate::maglev::{
    Addr,
    Family,
    Flags, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    interop::list::clist_create,
    prelude::*,
    types::Opaque, //
};

/// An IPVS virtual service.
///
/// # Invariants
///
/// A `&Service` points to a live `struct ip_vs_service`. IPVS writes its
/// fields concurrently: `flags` (`ipvsadm -E`), the destination list and
/// `sched_data` under the configuration mutex (`__ip_vs_mutex`) while
/// packets are scheduled on other CPUs; address, port, protocol, family and
/// firewall mark are set before the service is bound to a scheduler and
/// never change.
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

    /// The service's protocol number (IPPROTO_TCP, ...).
    pub(crate) fn protocol(&self) -> u16 {
        // SAFETY: As for `family`.
        unsafe { (*self.as_ptr()).protocol }
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
        // FIXME(read_once): `atomic_load` when it inlines (it is a call of
        // a C helper without CONFIG_RUST_INLINE_HELPERS, on every new
        // connection); this volatile read stands for READ_ONCE.
        // SAFETY: By the type invariant the service is live; `flags` is an
        // aligned integer that `ip_vs_edit_service` rewrites with a single
        // store under `__ip_vs_mutex`, so a racing read gives the old or the
        // new value.
        let bits = unsafe { core::ptr::read_volatile(&raw const (*self.as_ptr()).flags) };
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
    /// [`RcuBox::<T>::into_raw`] (the service is bound to the scheduler
    /// whose objects are `T`).
    #[inline(always)]
    pub(super) unsafe fn published<'g, T: Send + Sync>(
        &self,
        rcu: &'g ReadSide<'_>,
    ) -> Option<&'g T> {
        // SAFETY: The service is live; the helper is `rcu_dereference`,
        // called inside the section `rcu` proves.
        let ptr = unsafe { bindings::ip_vs_mh_rs_sched_data(self.as_ptr()) };
        // SAFETY: `ptr` is null or ours (guaranteed by the caller), loaded
        // in that section.
        unsafe { rcu_box::borrow_published(ptr, rcu) }
    }
}

/// A service whose configuration cannot change while this view exists:
/// the callback that made it holds the IPVS configuration mutex.
///
/// # Invariants
///
/// `svc` is live and `__ip_vs_mutex` is held for `'a`.
pub(crate) struct LockedService<'a> {
    svc: &'a Service,
}

impl<'a> LockedService<'a> {
    /// # Safety
    ///
    /// The caller must hold `__ip_vs_mutex` for `'a`.
    pub(super) unsafe fn new(svc: &'a Service) -> Self {
        // INVARIANT: `svc` is live for `'a`; the caller holds the mutex.
        Self { svc }
    }

    /// The service.
    pub(crate) fn service(&self) -> &'a Service {
        self.svc
    }

    /// The number of destinations.
    pub(crate) fn num_dests(&self) -> usize {
        // SAFETY: By the type invariant the service is live and `num_dests`
        // is only written under the mutex we hold.
        let n = unsafe { (*self.svc.as_ptr()).num_dests };
        usize::try_from(n).unwrap_or(0)
    }

    /// The destinations in the service's list order: newest first, since
    /// IPVS adds each at the head.
    pub(super) fn destinations(&self) -> impl Iterator<Item = &'a Dest> {
        // SAFETY: The head is initialised with the service, and IPVS links
        // and unlinks entries (`ip_vs_dest`s by `n_list`; `Dest` is their
        // transparent wrapper) only under the mutex we hold for `'a`.
        let list = unsafe {
            clist_create!(
                &raw mut (*self.svc.as_ptr()).destinations,
                Dest,
                bindings::ip_vs_dest,
                n_list
            )
        };
        list.iter()
    }

    /// The writer's access to `sched_data`.
    ///
    /// # Safety
    ///
    /// `sched_data` must hold null or a pointer made by
    /// [`RcuBox::<T>::into_raw`] (the service is bound, or being bound, to
    /// the scheduler whose objects are `T`).
    pub(super) unsafe fn sched_data<T: Send + Sync>(&self) -> SchedData<'_, T> {
        // INVARIANT: Guaranteed by the caller; the mutex is held for as long
        // as `self` is borrowed.
        SchedData {
            svc: self.svc,
            _t: PhantomData,
        }
    }

    /// Forgets what `sched_data` holds without freeing it: after
    /// `ipvsadm -E` it may still hold the previous scheduler's data (rr
    /// keeps a list pointer there), which is not ours to free.
    pub(super) fn forget_foreign_sched_data(&self) {
        // SAFETY: The service is live and we hold the mutex under which
        // `sched_data` is written; a null pointer is always valid there.
        unsafe {
            bindings::ip_vs_mh_rs_publish_sched_data(self.svc.as_ptr(), core::ptr::null_mut())
        };
    }
}

/// The table slot of a service, `svc->sched_data`, seen by its writer.
///
/// # Invariants
///
/// `sched_data` holds null or a pointer made by [`RcuBox::<T>::into_raw`],
/// and the configuration mutex is held while this value lives.
pub(super) struct SchedData<'s, T: Send + Sync> {
    svc: &'s Service,
    _t: PhantomData<T>,
}

impl<T: Send + Sync> SchedData<'_, T> {
    fn load(&self) -> *mut c_void {
        // SAFETY: The service is live and we hold the mutex under which
        // `sched_data` is written (`rcu_dereference_protected`).
        unsafe { bindings::ip_vs_mh_rs_sched_data_locked(self.svc.as_ptr()) }
    }

    /// The object in force, borrowed for as long as this slot is: it cannot
    /// be held across [`SchedData::replace`], which retires it.
    pub(super) fn current(&self) -> Option<&T> {
        // SAFETY: By the type invariant the pointer is null or ours, and it
        // is unpublished only through `&mut self`, under the mutex we hold.
        unsafe { rcu_box::borrow_locked(self.load()) }
    }

    /// Publishes `new` (or nothing) with one RCU pointer store, and returns
    /// the object it replaces, which readers may still see.
    pub(super) fn replace(&mut self, new: Option<RcuBox<T>>) -> Option<Retired<T>> {
        let old = NonNull::new(self.load());
        let new = new.map_or(core::ptr::null_mut(), RcuBox::into_raw);
        // SAFETY: The service is live and we hold the mutex; `new` is null
        // or a fully built object (`rcu_assign_pointer` orders its
        // initialisation before the store).
        unsafe { bindings::ip_vs_mh_rs_publish_sched_data(self.svc.as_ptr(), new) };
        // INVARIANT: `sched_data` holds null or `new`, made by `into_raw`.
        // SAFETY: `old` was made by `into_raw` (type invariant) and has just
        // been unpublished; only this slot's owner took it out.
        old.map(|old| unsafe { Retired::from_raw(old) })
    }
}
