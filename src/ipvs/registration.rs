// SPDX-License-Identifier: GPL-2.0

//! Registers a scheduler with IPVS and turns its C callbacks into calls of
//! the safe [`Scheduler`] trait.
//!
//! Tables are immutable once published: every configuration change builds a
//! new one off to the side (or keeps the one in force when nothing it was
//! built from changed), publishes it in `svc->sched_data` with one RCU
//! pointer store, drops the old table's destination references (as the C
//! scheduler does) and frees its memory after a grace period.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h)

use super::{
    bindings,
    dest::{
        Dest,
        Dests, //
    },
    packet::Packet,
    rcu_box::{
        RcuBox,
        ReadSide,
        Retired, //
    },
    service::{
        LockedService,
        Service, //
    }, //
};
use core::{
    ffi::CStr,
    fmt,
    ptr::NonNull, //
};
use kernel::{
    error::{
        from_result,
        to_result, //
    },
    ffi::c_int,
    new_mutex,
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Release, //
        },
        rcu,
        Mutex, //
    },
    types::Opaque,
    ThisModule, //
};

/// A scheduler written in safe Rust.
pub(crate) trait Scheduler: Send + Sync + Sized + 'static {
    /// The name `ipvsadm -s` uses.
    const NAME: &'static CStr;

    /// The per-service lookup table.
    type Table: Send + Sync;

    /// Where this scheduler's registration records itself (see [`Home`]).
    fn home() -> &'static Home<Self>;

    /// Builds a table for the service's destinations `dests` (held, in the
    /// service's list order, which `build` may change), or keeps the table
    /// in force, `current`, when it would come out the same. Runs under the
    /// IPVS configuration mutex and may sleep.
    fn build(
        &self,
        svc: &LockedService<'_>,
        dests: &mut Dests,
        current: Option<Current<'_, Self::Table>>,
    ) -> Result<Build<Self::Table>>;

    /// Picks the destination for a new connection from the table in force.
    /// Runs in softirq context under RCU. `None` makes IPVS drop the packet.
    fn schedule<'t>(
        svc: &Service,
        current: Current<'t, Self::Table>,
        packet: &Packet<'_>,
    ) -> Option<&'t Dest>;
}

/// What [`Scheduler::build`] decided.
pub(crate) enum Build<T> {
    /// A new table, for the destinations as `build` left them.
    New(T),
    /// The table in force stays: nothing it depends on changed.
    Keep,
}

/// A table in force and the destinations it indexes.
pub(crate) struct Current<'t, T> {
    /// The table.
    pub(crate) table: &'t T,
    /// Its destinations, in table order.
    pub(crate) dests: &'t Dests,
}

impl<T> Clone for Current<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Current<'_, T> {}

/// What `svc->sched_data` points to: a table with its destinations.
struct Installed<T> {
    dests: Dests,
    table: T,
}

impl<T> Installed<T> {
    fn current(&self) -> Current<'_, T> {
        Current {
            table: &self.table,
            dests: &self.dests,
        }
    }
}

/// A service on the registry of a [`Registration`].
///
/// # Invariants
///
/// The service is live while it is on the registry: `init_service` adds it
/// and `done_service` removes it before IPVS frees it.
struct ServicePtr(NonNull<bindings::ip_vs_service>);

// SAFETY: Only the pointer moves between threads; IPVS shares the service
// between CPUs itself.
unsafe impl Send for ServicePtr {}

/// A registered scheduler and its state: the scheduler itself (with what
/// was chosen at load time) and the services that use it. Unregisters on
/// drop.
///
/// IPVS finds it through its `struct ip_vs_scheduler`; the callbacks find
/// it in [`Scheduler::home`] (see [`Home`] for why not through the
/// service).
///
/// # Invariants
///
/// `sched` is registered with IPVS (and `S::home()` points here) from the
/// end of its initialisation until `drop`, and does not move (pinned).
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<S: Scheduler> {
    scheduler: S,
    #[pin]
    services: Mutex<KVec<ServicePtr>>,
    #[pin]
    sched: Opaque<bindings::ip_vs_scheduler>,
}

// SAFETY: IPVS reads `sched` from any CPU and calls the callbacks there;
// they only read it. The rest is `S` (`Send + Sync`) and a mutex.
unsafe impl<S: Scheduler> Sync for Registration<S> {}
// SAFETY: Dropping (unregistering) from another thread is fine.
unsafe impl<S: Scheduler> Send for Registration<S> {}

/// Where a [`Registration`] of `S` is while it is registered.
///
/// The callbacks cannot find it through the service: IPVS calls
/// `init_service` before it points `svc->scheduler` at the scheduler and
/// `done_service` after it has cleared that pointer, and `schedule` may run
/// while `ipvsadm -E` clears it (only the destination callbacks see it set).
/// So the registration records its address here, one slot per scheduler
/// type, set before it is registered and cleared after it is unregistered.
pub(crate) struct Home<S: Scheduler>(Atomic<*const Registration<S>>);

impl<S: Scheduler> Home<S> {
    /// Empty: nothing registered.
    pub(crate) const fn new() -> Self {
        Self(Atomic::new(core::ptr::null()))
    }

    fn get(&self) -> Option<&Registration<S>> {
        let reg = self.0.load(Acquire);
        // SAFETY: Non-null only from just before registration until after
        // unregistration (type invariant of `Registration`), and callbacks
        // run only while the scheduler is registered; it is pinned.
        unsafe { reg.as_ref() }
    }
}

impl<S: Scheduler> Registration<S> {
    /// Registers `scheduler` with IPVS on behalf of `module`. On failure
    /// (another scheduler of that name, such as the C `mh`, is loaded)
    /// nothing stays registered and the reason is logged.
    pub(crate) fn new(module: &'static ThisModule, scheduler: S) -> impl PinInit<Self, Error> {
        try_pin_init!(&this in Self {
            scheduler,
            services <- new_mutex!(KVec::new()),
            // Last: once registered, IPVS may call back at once.
            sched <- Opaque::try_ffi_init(move |sched: *mut bindings::ip_vs_scheduler| {
                // SAFETY: `sched` is valid for writes and will not move (the
                // registration is pinned), so the list head may point to
                // itself; all-zero is a valid `ip_vs_scheduler`.
                unsafe {
                    sched.write_bytes(0, 1);
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
                // `init_service` may run as soon as the scheduler is listed.
                S::home().0.store(this.as_ptr().cast_const(), Release);
                // SAFETY: `sched` is fully initialised and stays at this
                // address until `drop` unregisters it.
                let registered = to_result(unsafe { bindings::register_ip_vs_scheduler(sched) });
                if let Err(e) = registered {
                    S::home().0.store(core::ptr::null(), Release);
                    pr_err!(
                        "cannot register scheduler {} (error {}): is the C ip_vs_mh loaded?\n",
                        S::NAME.to_str().unwrap_or("?"),
                        e.to_errno()
                    );
                }
                // INVARIANT: On success, registered and recorded in `home`; on
                // failure nothing is registered, and the registration is not
                // made (no drop, no unregistration).
                registered
            }),
        })
    }

    /// The registered scheduler.
    pub(crate) fn scheduler(&self) -> &S {
        &self.scheduler
    }

    /// Builds and publishes a table for `svc` (or keeps the one in force);
    /// on error the table in force stays.
    fn rebuild(&self, svc: &LockedService<'_>) -> Result {
        // SAFETY: A service bound to this scheduler keeps its tables in
        // `sched_data` (`init_service` clears what another scheduler left).
        let mut slot = unsafe { svc.sched_data::<Installed<S::Table>>() };
        let mut dests = Dests::hold_all(svc)?;
        let built =
            self.scheduler
                .build(svc, &mut dests, slot.current().map(Installed::current))?;
        let Build::New(table) = built else {
            return Ok(());
        };
        let new = RcuBox::new(Installed { dests, table })?;
        if let Some(old) = slot.replace(Some(new)) {
            retire(old);
        }
        Ok(())
    }

    /// Calls `f` for every service that uses the scheduler, with the table
    /// in force, if any (the debugfs view).
    pub(crate) fn for_each_service(
        &self,
        mut f: impl FnMut(&Service, Option<Current<'_, S::Table>>) -> fmt::Result,
    ) -> fmt::Result {
        let services = self.services.lock();
        for svc in services.iter() {
            let guard = rcu::read_lock();
            let rcu = ReadSide::of(&guard);
            // SAFETY: By the type invariant of `ServicePtr` the service is
            // live while it is on the registry, whose lock we hold.
            let service = unsafe { Service::from_raw(svc.0.as_ptr()) };
            // SAFETY: A service on the registry is bound to this scheduler.
            let installed = unsafe { service.published::<Installed<S::Table>>(&rcu) };
            f(service, installed.map(Installed::current))?;
        }
        Ok(())
    }
}

#[pinned_drop]
impl<S: Scheduler> PinnedDrop for Registration<S> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant `sched` is registered. IPVS holds a
        // module reference per service using it, so none is left here.
        unsafe { bindings::unregister_ip_vs_scheduler(self.sched.get()) };
        S::home().0.store(core::ptr::null(), Release);
        // Tables retired with `call_rcu` must be freed before the module's
        // code goes away.
        rcu::rcu_barrier();
    }
}

/// Drops a retired table's destination references now and its memory after
/// a grace period: RCU readers may still be looking at it.
fn retire<T: Send + Sync>(old: Retired<Installed<T>>) {
    old.get().dests.release();
    old.drop_after_grace_period();
}

/// # Safety
///
/// Called by IPVS with a live service, under the configuration mutex.
unsafe extern "C" fn init_service<S: Scheduler>(svc: *mut bindings::ip_vs_service) -> c_int {
    from_result(|| {
        let reg = S::home().get().ok_or(ENODEV)?;
        // SAFETY: IPVS passes a live service and holds the mutex.
        let svc = unsafe { LockedService::new(Service::from_raw(svc)) };
        svc.forget_foreign_sched_data();
        reg.services
            .lock()
            .push(ServicePtr(NonNull::from(svc.service()).cast()), GFP_KERNEL)?;
        if let Err(e) = reg.rebuild(&svc) {
            unregister_service(reg, &svc);
            return Err(e);
        }
        Ok(0)
    })
}

/// Takes a service off the registry and retires its table.
fn unregister_service<S: Scheduler>(reg: &Registration<S>, svc: &LockedService<'_>) {
    let ptr = NonNull::from(svc.service()).cast::<bindings::ip_vs_service>();
    reg.services.lock().retain(|s| s.0 != ptr);
    // SAFETY: The service was bound to this scheduler, whose tables are in
    // `sched_data`.
    let mut slot = unsafe { svc.sched_data::<Installed<S::Table>>() };
    if let Some(old) = slot.replace(None) {
        retire(old);
    }
}

/// # Safety
///
/// Called by IPVS with a live service that was bound to `S`, under the
/// mutex.
unsafe extern "C" fn done_service<S: Scheduler>(svc: *mut bindings::ip_vs_service) {
    // SAFETY: IPVS passes a live service and holds the mutex.
    let svc = unsafe { LockedService::new(Service::from_raw(svc)) };
    if let Some(reg) = S::home().get() {
        unregister_service(reg, &svc);
    }
}

/// Called for add, delete and update of a destination.
///
/// # Safety
///
/// Called by IPVS with a live service bound to `S`, under the mutex.
unsafe extern "C" fn dest_changed<S: Scheduler>(
    svc: *mut bindings::ip_vs_service,
    _dest: *mut bindings::ip_vs_dest,
) -> c_int {
    from_result(|| {
        let reg = S::home().get().ok_or(ENODEV)?;
        // SAFETY: IPVS passes a live service and holds the mutex.
        let svc = unsafe { LockedService::new(Service::from_raw(svc)) };
        reg.rebuild(&svc).inspect_err(|e| {
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
/// Called by IPVS in an RCU read-side critical section with a live service
/// bound to `S`, its packet and the parsed header.
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
    // SAFETY: The service is bound to `S`, whose tables are in `sched_data`.
    let installed = unsafe { service.published::<Installed<S::Table>>(&rcu) };
    let dest = installed.and_then(|installed| {
        // SAFETY: `skb` and `iph` are this call's live arguments (IPVS never
        // passes null ones).
        let packet = unsafe { Packet::from_raw(NonNull::new_unchecked(skb.cast_mut()), &*iph) };
        S::schedule(service, installed.current(), &packet)
    });
    match dest {
        Some(dest) => dest.as_raw(),
        None => {
            // SAFETY: `svc` is live; the message is a static C string.
            unsafe {
                bindings::ip_vs_scheduler_err(svc, c"no destination available".as_char_ptr())
            };
            core::ptr::null_mut()
        }
    }
}
