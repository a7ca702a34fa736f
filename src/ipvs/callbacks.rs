// SPDX-License-Identifier: GPL-2.0

//! IPVS's C callbacks, turned into calls of a [`Registration`].
//!
//! The configuration callbacks are compiled once per home (see
//! [`super::home`]), so each finds the registration that registered it;
//! `schedule` needs none, since the table is in the service.

use super::{
    bindings,
    home::{
        self,
        HOMES, //
    },
    locked::LockedService,
    packet::Packet,
    rcu_box::ReadSide,
    registration::{
        Installed,
        Registration,
        Scheduler, //
    },
    service::Service, //
};
use core::ptr::NonNull;
use kernel::{
    error::from_result,
    ffi::c_int,
    prelude::*, //
};

/// The callbacks a registration puts in its `struct ip_vs_scheduler`.
pub(super) struct Callbacks {
    pub(super) init_service: unsafe extern "C" fn(*mut bindings::ip_vs_service) -> c_int,
    pub(super) done_service: unsafe extern "C" fn(*mut bindings::ip_vs_service),
    pub(super) dest_changed:
        unsafe extern "C" fn(*mut bindings::ip_vs_service, *mut bindings::ip_vs_dest) -> c_int,
    pub(super) schedule: unsafe extern "C" fn(
        *mut bindings::ip_vs_service,
        *const bindings::sk_buff,
        *mut bindings::ip_vs_iphdr,
    ) -> *mut bindings::ip_vs_dest,
}

impl Callbacks {
    const fn of<S: Scheduler, const HOME: usize>() -> Self {
        Self {
            init_service: init_service::<S, HOME>,
            done_service: done_service::<S, HOME>,
            dest_changed: dest_changed::<S, HOME>,
            schedule: schedule::<S>,
        }
    }
}

/// The callbacks compiled for home `home`, for a `Registration<S>`.
macro_rules! callbacks_per_home {
    ($($home:literal)*) => {
        pub(super) fn for_home<S: Scheduler>(home: usize) -> Option<Callbacks> {
            match home {
                $($home => Some(Callbacks::of::<S, $home>()),)*
                _ => None,
            }
        }
        kernel::static_assert!([$($home),*].len() == HOMES, "one set of callbacks per home");
    };
}
callbacks_per_home!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);

/// The registration of home `HOME`.
///
/// # Safety
///
/// Only a callback compiled for `HOME` and `S` may call this (see
/// [`home::get`]).
unsafe fn registration<'a, S: Scheduler, const HOME: usize>() -> Result<&'a Registration<S>> {
    // SAFETY: Guaranteed by the caller.
    unsafe { home::get::<Registration<S>>(HOME) }.ok_or(ENODEV)
}

/// # Safety
///
/// Called by IPVS (`ip_vs_bind_scheduler`) with a live service, holding
/// `svc->ipvs->service_mutex`.
unsafe extern "C" fn init_service<S: Scheduler, const HOME: usize>(
    svc: *mut bindings::ip_vs_service,
) -> c_int {
    from_result(|| {
        // SAFETY: This callback is compiled for `HOME` and `S`.
        let reg = unsafe { registration::<S, HOME>() }?;
        // SAFETY: IPVS passes a live service and holds its mutex for the
        // call; this is the call's only view of it.
        let mut svc = unsafe { LockedService::new(svc) };
        reg.bind(&mut svc)?;
        Ok(0)
    })
}

/// # Safety
///
/// Called by IPVS (`ip_vs_unbind_scheduler`) with a live service that was
/// bound to this scheduler, holding `svc->ipvs->service_mutex`.
unsafe extern "C" fn done_service<S: Scheduler, const HOME: usize>(
    svc: *mut bindings::ip_vs_service,
) {
    // SAFETY: This callback is compiled for `HOME` and `S`.
    if let Ok(reg) = unsafe { registration::<S, HOME>() } {
        // SAFETY: IPVS passes a live service and holds its mutex for the
        // call; this is the call's only view of it.
        let mut svc = unsafe { LockedService::new(svc) };
        reg.unbind(&mut svc);
    }
}

/// Called for add, delete and update of a destination.
///
/// # Safety
///
/// Called by IPVS with a live service bound to this scheduler, holding
/// `svc->ipvs->service_mutex`.
unsafe extern "C" fn dest_changed<S: Scheduler, const HOME: usize>(
    svc: *mut bindings::ip_vs_service,
    _dest: *mut bindings::ip_vs_dest,
) -> c_int {
    from_result(|| {
        // SAFETY: This callback is compiled for `HOME` and `S`.
        let reg = unsafe { registration::<S, HOME>() }?;
        // SAFETY: IPVS passes a live service and holds its mutex for the
        // call; this is the call's only view of it.
        let mut svc = unsafe { LockedService::new(svc) };
        reg.rebuild(&mut svc).inspect_err(|e| {
            // IPVS ignores this callback's result: say it here.
            pr_warn!(
                "rebuilding the table failed (error {}): the previous table stays in force\n",
                e.to_errno()
            );
        })?;
        Ok(0)
    })
}

/// # Safety
///
/// Called by IPVS (`ip_vs_schedule`) in any context, inside an RCU
/// read-side critical section, with a live service bound to this
/// scheduler, its packet and the parsed header.
unsafe extern "C" fn schedule<S: Scheduler>(
    svc: *mut bindings::ip_vs_service,
    skb: *const bindings::sk_buff,
    iph: *mut bindings::ip_vs_iphdr,
) -> *mut bindings::ip_vs_dest {
    // SAFETY: IPVS passes a live service for the duration of the call.
    let service = unsafe { Service::from_raw(svc) };
    // SAFETY: IPVS schedules inside an RCU read-side critical section that
    // lasts for the call.
    let rcu = unsafe { ReadSide::assume() };
    // SAFETY: The service is bound to this scheduler, whose tables are in
    // `sched_data`.
    let installed = unsafe { service.published::<Installed<S::Table>>(&rcu) };
    let dest = installed.and_then(|installed| {
        // SAFETY: `skb` and `iph` are this call's live arguments (IPVS never
        // passes null ones).
        let packet = unsafe { Packet::from_raw(NonNull::new_unchecked(skb.cast_mut()), &*iph) };
        S::schedule(service, installed.current(), &packet)
    });
    match dest {
        Some(dest) => dest.as_ptr(),
        None => {
            // SAFETY: `svc` is live; the message is a static C string.
            unsafe {
                bindings::ip_vs_scheduler_err(svc, c"no destination available".as_char_ptr())
            };
            core::ptr::null_mut()
        }
    }
}
