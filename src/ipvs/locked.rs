// SPDX-License-Identifier: GPL-2.0

//! The writer's view of a service: what the configuration callbacks may
//! read and change while they hold the service's configuration mutex.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h)

use super::{
    bindings,
    dest::Dest,
    rcu_box::{
        self,
        RcuBox,
        Retired, //
    },
    service::Service, //
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    interop::list::clist_create,
    prelude::*, //
};

/// A service whose configuration cannot change while this view exists:
/// the callback that made it holds `svc->ipvs->service_mutex`, which
/// serialises every configuration change of the services of one network
/// namespace (services of other namespaces change concurrently).
///
/// # Invariants
///
/// `svc` is live and its `ipvs->service_mutex` is held for `'a`, and no
/// other `LockedService` of it exists meanwhile, so `&mut self` is the
/// writer's exclusive access to `sched_data`.
pub(crate) struct LockedService<'a> {
    svc: &'a Service,
}

impl<'a> LockedService<'a> {
    /// # Safety
    ///
    /// `svc` must be live for `'a`, the caller must hold
    /// `svc->ipvs->service_mutex` for `'a` (IPVS calls `init_service`,
    /// `done_service`, `add_dest`, `del_dest` and `upd_dest` with it held),
    /// and it must make no other `LockedService` of `svc` during `'a`.
    pub(super) unsafe fn new(svc: *mut bindings::ip_vs_service) -> Self {
        // SAFETY: Guaranteed by the caller: live for `'a`.
        let svc = unsafe { Service::from_raw(svc) };
        // INVARIANT: Guaranteed by the caller.
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
    /// IPVS adds each at the head. They stay on the list, and live, while
    /// the mutex is held.
    pub(crate) fn destinations(&self) -> impl Iterator<Item = &'a Dest> {
        // SAFETY: The list head is initialised with the service. IPVS links
        // and unlinks its entries, `ip_vs_dest`s by `n_list` (`Dest` is
        // their transparent wrapper), only under the mutex held for `'a`.
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

    /// The slot of a service that is being bound to the scheduler whose
    /// objects are `T`. It may still hold what another scheduler left there
    /// (after `ipvsadm -E`, rr's list pointer): that is not ours to free, so
    /// it is forgotten and the slot starts empty.
    pub(super) fn bind_sched_data<T: Send + Sync>(&mut self) -> SchedData<'_, 'a, T> {
        // SAFETY: The service is live and we hold the mutex under which
        // `sched_data` is written; a null pointer is always valid there.
        unsafe {
            bindings::ip_vs_mh_rs_publish_sched_data(self.svc.as_ptr(), core::ptr::null_mut())
        };
        // INVARIANT: `sched_data` is null.
        SchedData {
            locked: self,
            _t: PhantomData,
        }
    }

    /// The slot of a service bound to the scheduler whose objects are `T`.
    ///
    /// # Safety
    ///
    /// `sched_data` must hold null or a pointer made by
    /// [`RcuBox::<T>::into_raw`].
    pub(super) unsafe fn sched_data<T: Send + Sync>(&mut self) -> SchedData<'_, 'a, T> {
        // INVARIANT: Guaranteed by the caller; `&mut self` keeps the mutex
        // held and makes this the only slot of the service.
        SchedData {
            locked: self,
            _t: PhantomData,
        }
    }
}

/// The table slot of a service, `svc->sched_data`, seen by its writer.
///
/// # Invariants
///
/// `sched_data` holds null or a pointer made by [`RcuBox::<T>::into_raw`];
/// `locked` (borrowed mutably, so this is the service's only slot) holds the
/// mutex while this value lives.
pub(super) struct SchedData<'s, 'a, T: Send + Sync> {
    locked: &'s mut LockedService<'a>,
    _t: PhantomData<T>,
}

impl<'a, T: Send + Sync> SchedData<'_, 'a, T> {
    /// The service, for reading its configuration.
    pub(super) fn service(&self) -> &LockedService<'a> {
        self.locked
    }

    fn load(&self) -> *mut c_void {
        // SAFETY: The service is live and we hold the mutex under which
        // `sched_data` is written (the helper's `rcu_dereference_protected`
        // has lockdep check that).
        unsafe { bindings::ip_vs_mh_rs_sched_data_locked(self.locked.svc.as_ptr()) }
    }

    /// The object in force, borrowed for as long as this slot is: it cannot
    /// be held across [`SchedData::replace`], which retires it.
    pub(super) fn current(&self) -> Option<&T> {
        // SAFETY: By the type invariant the pointer is null or ours, and it
        // is only unpublished through `&mut self`, under the mutex we hold.
        unsafe { rcu_box::borrow_locked(self.load()) }
    }

    /// Publishes `new` (or nothing) with one RCU pointer store, and returns
    /// the object it replaces, which readers may still see.
    #[must_use = "the replaced object must be retired, or it leaks"]
    pub(super) fn replace(&mut self, new: Option<RcuBox<T>>) -> Option<Retired<T>> {
        let old = NonNull::new(self.load());
        let new = new.map_or(core::ptr::null_mut(), RcuBox::into_raw);
        // SAFETY: The service is live and we hold the mutex; `new` is null
        // or a fully built object (`rcu_assign_pointer` orders its
        // initialisation before the store).
        unsafe { bindings::ip_vs_mh_rs_publish_sched_data(self.locked.svc.as_ptr(), new) };
        // INVARIANT: `sched_data` holds null or `new`, made by `into_raw`.
        // SAFETY: `old` was made by `into_raw` (type invariant) and has just
        // been unpublished by the only slot of the service.
        old.map(|old| unsafe { Retired::from_raw(old) })
    }
}
