// SPDX-License-Identifier: GPL-2.0

//! The services that use this scheduler, for the read-only debugfs view.

use super::{bindings, rcu_box::RcuBox, registration::Scheduler, service::Service};
use core::{fmt, ptr::NonNull};
use kernel::{prelude::*, sync::rcu};

/// A service on the registry.
///
/// # Invariants
///
/// The service is live while it is on the registry: `init_service` adds it
/// and `done_service` removes it before IPVS frees it.
struct ServicePtr(NonNull<bindings::ip_vs_service>);

// SAFETY: Only the pointer moves between threads; the service is shared by
// IPVS between CPUs anyway.
unsafe impl Send for ServicePtr {}

kernel::sync::global_lock! {
    // SAFETY: `init` runs in `Registration::register`, before IPVS can call
    // any callback that uses the registry.
    unsafe(uninit) static SERVICES: Mutex<KVec<ServicePtr>> = KVec::new();
}

/// Makes the registry usable; called once per module load.
///
/// # Safety
///
/// Must be called exactly once, before any other function of this module.
pub(super) unsafe fn init() {
    // SAFETY: Guaranteed by the caller.
    unsafe { SERVICES.init() };
}

/// Adds a service that starts using the scheduler.
pub(super) fn add(svc: NonNull<bindings::ip_vs_service>) -> Result {
    // INVARIANT: Called from `init_service` with a live service.
    SERVICES.lock().push(ServicePtr(svc), GFP_KERNEL)?;
    Ok(())
}

/// Removes a service that stops using the scheduler.
pub(super) fn remove(svc: NonNull<bindings::ip_vs_service>) {
    SERVICES.lock().retain(|s| s.0 != svc);
}

/// Frees the registry's memory when the scheduler goes away (the static
/// itself is never dropped).
pub(super) fn clear() {
    *SERVICES.lock() = KVec::new();
}

/// Calls `f` for every service with the table in force, if any.
pub(crate) fn for_each_service<S: Scheduler>(
    mut f: impl FnMut(&Service<'_>, Option<&S::Table>) -> fmt::Result,
) -> fmt::Result {
    let services = SERVICES.lock();
    for svc in services.iter() {
        let _read = rcu::read_lock();
        // SAFETY: By the type invariant the service is live while it is on
        // the registry, whose lock we hold.
        let service = unsafe { Service::from_raw(svc.0) };
        // SAFETY: Inside an RCU read-side critical section.
        let table = NonNull::new(unsafe { bindings::ip_vs_mh_rs_sched_data(svc.0.as_ptr()) });
        // SAFETY: Tables are published by `rebuild` and freed only after a
        // grace period; the RCU read lock is held.
        let table = table.map(|t| unsafe { RcuBox::<S::Table>::borrow(t) });
        f(&service, table)?;
    }
    Ok(())
}
