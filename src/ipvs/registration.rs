// SPDX-License-Identifier: GPL-2.0

//! Registers a scheduler with IPVS and turns its C callbacks into calls of
//! the safe [`Scheduler`] trait.
//!
//! Tables are immutable once published: every configuration change builds a
//! new one off to the side, publishes it in `svc->sched_data` with one RCU
//! pointer store, drops the old table's destination references (as the C
//! scheduler does) and frees its memory after a grace period.

use super::{
    bindings,
    dest::{DestRef, DestRefs},
    packet::Packet,
    rcu_box::RcuBox,
    registry,
    service::{LockedService, Service},
};
use core::{ffi::CStr, marker::PhantomData, ptr::NonNull};
use kernel::{error::to_result, ffi, prelude::*, sync::rcu, types::Opaque, ThisModule};

/// A scheduler written in safe Rust.
pub(crate) trait Scheduler: 'static {
    /// The name `ipvsadm -s` uses.
    const NAME: &'static CStr;

    /// The per-service lookup table.
    type Table: Send + Sync;

    /// Builds a table for the service's current destinations (runs under
    /// the IPVS configuration mutex, may sleep). `previous` is the table in
    /// force, if any.
    fn build(svc: &LockedService<'_>, previous: Option<&Self::Table>) -> Result<Self::Table>;

    /// The destination references a table holds.
    fn dests(table: &Self::Table) -> &DestRefs;

    /// Picks the destination for a new connection (runs in softirq context
    /// under RCU). `None` makes IPVS drop the packet.
    fn schedule<'t>(
        svc: &Service<'_>,
        table: &'t Self::Table,
        packet: &Packet<'_>,
    ) -> Option<&'t DestRef>;
}

/// A registered scheduler; unregisters on drop.
///
/// # Invariants
///
/// `sched` is registered with IPVS and does not move (the value is pinned).
pub(crate) struct Registration<S: Scheduler> {
    sched: Opaque<bindings::ip_vs_scheduler>,
    _scheduler: PhantomData<S>,
}

// SAFETY: IPVS serialises registration; after that the struct is only read.
unsafe impl<S: Scheduler> Sync for Registration<S> {}
// SAFETY: Dropping (unregistering) from another thread is fine.
unsafe impl<S: Scheduler> Send for Registration<S> {}

impl<S: Scheduler> Registration<S> {
    /// Registers `S` with IPVS on behalf of `module`.
    pub(crate) fn register(module: &'static ThisModule) -> Result<Pin<KBox<Self>>> {
        let reg = KBox::new(
            Self {
                sched: Opaque::zeroed(),
                _scheduler: PhantomData,
            },
            GFP_KERNEL,
        )?;
        let sched = reg.sched.get();
        // SAFETY: `sched` points to zeroed memory we own; the box does not
        // move again, so the list head may point to itself.
        unsafe {
            (*sched).n_list.next = &raw mut (*sched).n_list;
            (*sched).n_list.prev = &raw mut (*sched).n_list;
            (*sched).name = S::NAME.as_char_ptr().cast_mut();
            (*sched).module = module.as_ptr().cast();
            (*sched).init_service = Some(init_service::<S>);
            (*sched).done_service = Some(done_service::<S>);
            (*sched).add_dest = Some(dest_changed::<S>);
            (*sched).del_dest = Some(dest_changed::<S>);
            (*sched).upd_dest = Some(dest_changed::<S>);
            (*sched).schedule = Some(schedule::<S>);
        }
        // SAFETY: Called once per module load, before IPVS can call back.
        unsafe { registry::init() };
        // SAFETY: `sched` is fully initialised and stays at this address
        // until `drop` unregisters it.
        to_result(unsafe { bindings::register_ip_vs_scheduler(sched) })?;
        // INVARIANT: Registered just above; the box is pinned from here on.
        Ok(KBox::into_pin(reg))
    }
}

impl<S: Scheduler> Drop for Registration<S> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `sched` is registered. IPVS holds a
        // module reference per service using it, so none is left here.
        unsafe { bindings::unregister_ip_vs_scheduler(self.sched.get()) };
        registry::clear();
        // Tables retired with `call_rcu` must be freed before the module's
        // code goes away.
        rcu::rcu_barrier();
    }
}

/// The table in force for `svc`, if any.
///
/// # Safety
///
/// The caller must hold the IPVS configuration mutex, and `svc->sched_data`
/// must be null or hold a pointer made by `RcuBox::<S::Table>::into_raw`.
unsafe fn current_table<S: Scheduler>(svc: &Service<'_>) -> Option<NonNull<ffi::c_void>> {
    // SAFETY: Guaranteed by the caller.
    NonNull::new(unsafe { bindings::ip_vs_mh_rs_sched_data_locked(svc.as_ptr()) })
}

/// Builds and publishes a new table; the old one stays in force on error.
///
/// # Safety
///
/// As for [`current_table`], and `svc` must be a live service.
unsafe fn rebuild<S: Scheduler>(svc: NonNull<bindings::ip_vs_service>) -> Result {
    // SAFETY: The caller holds the mutex and `svc` is live.
    let locked = unsafe { LockedService::from_raw(svc) };
    // SAFETY: Guaranteed by the caller.
    let old = unsafe { current_table::<S>(locked.service()) };
    // SAFETY: Under the mutex nobody else frees the table in force.
    let previous = old.map(|p| unsafe { RcuBox::<S::Table>::borrow(p) });
    let table = RcuBox::new(S::build(&locked, previous)?)?;
    // SAFETY: The pointer comes from `into_raw`; readers load it with
    // `rcu_dereference` and `schedule` only borrows it.
    unsafe { bindings::ip_vs_mh_rs_publish_sched_data(svc.as_ptr(), table.into_raw()) };
    if let Some(old) = old {
        // SAFETY: Unpublished just above; we are its only owner now.
        retire::<S>(unsafe { RcuBox::from_raw(old) });
    }
    Ok(())
}

/// Drops a retired table's destination references now and its memory after
/// a grace period: RCU readers may still be looking at it.
fn retire<S: Scheduler>(table: RcuBox<S::Table>) {
    S::dests(table.get()).release();
    table.drop_after_grace_period();
}

/// # Safety
///
/// Called by IPVS with a live service, under the configuration mutex.
unsafe extern "C" fn init_service<S: Scheduler>(svc: *mut bindings::ip_vs_service) -> ffi::c_int {
    let Some(svc) = NonNull::new(svc) else {
        return EINVAL.to_errno();
    };
    // `sched_data` may still hold the previous scheduler's data after
    // `ipvsadm -E` (rr keeps a list pointer there): it is not a table.
    // SAFETY: `svc` is live and we hold the configuration mutex.
    unsafe { bindings::ip_vs_mh_rs_publish_sched_data(svc.as_ptr(), core::ptr::null_mut()) };
    // SAFETY: Called by IPVS under the mutex with a live service.
    if let Err(e) = unsafe { rebuild::<S>(svc) } {
        return e.to_errno();
    }
    if let Err(e) = registry::add(svc) {
        // SAFETY: As above; undoes the `rebuild`.
        unsafe { done_service::<S>(svc.as_ptr()) };
        return e.to_errno();
    }
    0
}

/// # Safety
///
/// Called by IPVS with a live service, under the configuration mutex.
unsafe extern "C" fn done_service<S: Scheduler>(svc: *mut bindings::ip_vs_service) {
    let Some(svc) = NonNull::new(svc) else {
        return;
    };
    registry::remove(svc);
    // SAFETY: `svc` is live; `sched_data` was set by `rebuild`.
    let service = unsafe { Service::from_raw(svc) };
    // SAFETY: As above, under the mutex.
    let Some(old) = (unsafe { current_table::<S>(&service) }) else {
        return;
    };
    // SAFETY: `svc` is live.
    unsafe { bindings::ip_vs_mh_rs_publish_sched_data(svc.as_ptr(), core::ptr::null_mut()) };
    // SAFETY: Unpublished just above; we are its only owner now.
    retire::<S>(unsafe { RcuBox::from_raw(old) });
}

/// Called for add, delete and update of a destination: all rebuild.
///
/// # Safety
///
/// Called by IPVS with a live service, under the configuration mutex.
unsafe extern "C" fn dest_changed<S: Scheduler>(
    svc: *mut bindings::ip_vs_service,
    _dest: *mut bindings::ip_vs_dest,
) -> ffi::c_int {
    let Some(svc) = NonNull::new(svc) else {
        return EINVAL.to_errno();
    };
    // SAFETY: Called by IPVS under the mutex with a live service whose
    // `sched_data` was set by `init_service`.
    match unsafe { rebuild::<S>(svc) } {
        Ok(()) => 0,
        Err(e) => {
            // IPVS ignores this callback's result: say it here.
            pr_warn!(
                "rebuilding the table failed ({:?}): the previous table stays in force\n",
                e
            );
            e.to_errno()
        }
    }
}

/// # Safety
///
/// Called by IPVS in an RCU read-side critical section with a live service,
/// packet and parsed header.
unsafe extern "C" fn schedule<S: Scheduler>(
    svc: *mut bindings::ip_vs_service,
    skb: *const bindings::sk_buff,
    iph: *mut bindings::ip_vs_iphdr,
) -> *mut bindings::ip_vs_dest {
    let (Some(svc), Some(skb), Some(iph)) = (
        NonNull::new(svc),
        NonNull::new(skb.cast_mut()),
        NonNull::new(iph),
    ) else {
        return core::ptr::null_mut();
    };
    // SAFETY: IPVS passes a live service for the duration of the call.
    let service = unsafe { Service::from_raw(svc) };
    // SAFETY: As above; `rcu_dereference` inside the helper.
    let table = NonNull::new(unsafe { bindings::ip_vs_mh_rs_sched_data(svc.as_ptr()) });
    let dest = table.and_then(|table| {
        // SAFETY: Published by `rebuild`; we are inside an RCU read-side
        // critical section, so it is not freed before we return.
        let table = unsafe { RcuBox::<S::Table>::borrow(table) };
        // SAFETY: `iph` is live for the call.
        let iph = unsafe { iph.as_ref() };
        // SAFETY: Both are this call's arguments.
        let packet = unsafe { Packet::from_raw(skb, iph) };
        S::schedule(&service, table, &packet).map(DestRef::as_ptr)
    });
    dest.unwrap_or_else(|| {
        // SAFETY: `svc` is live; the message is a static C string.
        unsafe {
            bindings::ip_vs_scheduler_err(svc.as_ptr(), c"no destination available".as_char_ptr())
        };
        core::ptr::null_mut()
    })
}
