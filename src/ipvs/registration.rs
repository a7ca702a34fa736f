// SPDX-License-Identifier: GPL-2.0

//! Registers a scheduler with IPVS, and keeps each service's table: built
//! off to the side on every configuration change (or kept when nothing it
//! was built from changed), published in `svc->sched_data` with one RCU
//! pointer store, its destination references dropped when it is replaced
//! (as the C scheduler does) and its memory freed after a grace period.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h)

use super::{
    bindings,
    callbacks,
    dest::Dest,
    dests::{
        Dests,
        Handover,
        Lineup, //
    },
    home::Claim,
    locked::{
        LockedService,
        SchedData, //
    },
    packet::Packet,
    rcu_box::{
        ReadSide,
        Reserved, //
    },
    service::Service, //
};
use core::{
    ffi::CStr,
    fmt,
    ptr::NonNull, //
};
use kernel::{
    error::to_result,
    new_mutex,
    prelude::*,
    sync::{
        rcu,
        Mutex, //
    },
    types::Opaque,
    ThisModule, //
};

/// A scheduler written in safe Rust.
pub(crate) trait Scheduler: Send + Sync + Sized + 'static {
    /// The per-service lookup table.
    ///
    /// A replaced table is dropped in an RCU callback, in softirq context,
    /// once no reader can see it: its `Drop` must neither sleep nor take a
    /// lock that sleeps.
    type Table: Send + Sync;

    /// Keeps the table in force, `current`, when a new one would come out
    /// the same, or builds a new one for the service's destinations (a
    /// [`Lineup`] of them, which the table may put in another order). Runs
    /// in process context under the service's configuration mutex, and may
    /// sleep.
    fn build<'a>(
        &self,
        svc: &LockedService<'a>,
        current: Option<Current<'_, Self::Table>>,
    ) -> Result<Build<'a, Self::Table>>;

    /// Picks the destination for a new connection from the table in force.
    /// Runs in any context (softirq for forwarded packets, process context
    /// for locally generated ones), inside an RCU read-side critical
    /// section. `None` makes IPVS drop the packet.
    fn schedule<'t>(
        svc: &Service,
        current: Current<'t, Self::Table>,
        packet: &Packet<'_>,
    ) -> Option<&'t Dest>;
}

/// What [`Scheduler::build`] decided.
pub(crate) enum Build<'a, T> {
    /// A new table, and its destinations in its order.
    New(T, Lineup<'a>),
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
pub(super) struct Installed<T> {
    dests: Dests,
    table: T,
}

impl<T> Installed<T> {
    pub(super) fn current(&self) -> Current<'_, T> {
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

/// A scheduler registered with IPVS under a name, with the services that
/// use it. Unregisters on drop.
///
/// IPVS finds it through its `struct ip_vs_scheduler`; the callbacks find
/// it in the home it claimed (see [`super::home`]). Several registrations,
/// of one scheduler type or of several, live side by side, each with its own
/// name and home.
///
/// # Invariants
///
/// From the end of its initialisation until `drop`, `sched` is registered
/// with IPVS, `claim` holds its home for `sched`'s callbacks, and the value
/// does not move (pinned). It is dropped only once no service is bound to
/// it: IPVS holds a reference on the module for every bound service, and
/// the module drops it when it is unloaded.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<S: Scheduler> {
    scheduler: S,
    name: &'static CStr,
    #[pin]
    services: Mutex<KVec<ServicePtr>>,
    claim: Claim,
    #[pin]
    sched: Opaque<bindings::ip_vs_scheduler>,
}

// SAFETY: IPVS reads `sched` from any CPU and calls the callbacks there;
// they only read it. The rest is `S` (`Send + Sync`), a mutex and a claim.
unsafe impl<S: Scheduler> Sync for Registration<S> {}
// SAFETY: Dropping (unregistering) from another thread is fine.
unsafe impl<S: Scheduler> Send for Registration<S> {}

impl<S: Scheduler> Registration<S> {
    /// Registers `scheduler` with IPVS as `name` on behalf of `module`. On
    /// failure (another scheduler of that name, such as the C `mh`, is
    /// loaded) nothing stays registered and the reason is logged.
    pub(crate) fn new(
        module: &'static ThisModule,
        name: &'static CStr,
        scheduler: S,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(&this in Self {
            scheduler,
            name,
            services <- new_mutex!(KVec::new()),
            // Before `sched`: its callbacks are compiled for this home.
            claim: Claim::new(this.as_ptr().cast_const().cast())?,
            // Last: once registered, IPVS may call back at once.
            sched <- Opaque::try_ffi_init(move |sched: *mut bindings::ip_vs_scheduler| {
                // SAFETY: `claim` is initialised (fields are initialised in
                // order) and only read here.
                let home = unsafe { (*this.as_ptr()).claim.index() };
                let calls = callbacks::for_home::<S>(home).ok_or(EBUSY)?;
                // SAFETY: `sched` is valid for writes and will not move (the
                // registration is pinned), so the list head may point to
                // itself; all-zero is a valid `ip_vs_scheduler`.
                unsafe {
                    sched.write_bytes(0, 1);
                    (*sched).n_list.next = &raw mut (*sched).n_list;
                    (*sched).n_list.prev = &raw mut (*sched).n_list;
                    (*sched).name = name.as_char_ptr().cast_mut();
                    (*sched).module = module.as_ptr().cast();
                    (*sched).init_service = Some(calls.init_service);
                    (*sched).done_service = Some(calls.done_service);
                    (*sched).add_dest = Some(calls.dest_changed);
                    (*sched).del_dest = Some(calls.dest_changed);
                    (*sched).upd_dest = Some(calls.dest_changed);
                    (*sched).schedule = Some(calls.schedule);
                }
                // SAFETY: `sched` is fully initialised and stays at this
                // address until `drop` unregisters it.
                let registered = to_result(unsafe { bindings::register_ip_vs_scheduler(sched) });
                if let Err(e) = registered {
                    pr_err!(
                        "cannot register scheduler {} (error {}): is the C ip_vs_mh loaded?\n",
                        name.to_str().unwrap_or("?"),
                        e.to_errno()
                    );
                }
                // INVARIANT: On success, registered with its home claimed; on
                // failure nothing is registered and the registration is not
                // made (no drop, no unregistration; the claim is given back).
                registered
            }),
        })
    }

    /// The registered scheduler.
    pub(crate) fn scheduler(&self) -> &S {
        &self.scheduler
    }

    /// The name `ipvsadm -s` uses.
    pub(crate) fn name(&self) -> &'static CStr {
        self.name
    }

    /// Binds a service (`init_service`): it goes on the registry and gets
    /// its first table. On error it is neither.
    pub(super) fn bind(&self, svc: &mut LockedService<'_>) -> Result {
        let ptr = NonNull::from(svc.service()).cast::<bindings::ip_vs_service>();
        self.services.lock().push(ServicePtr(ptr), GFP_KERNEL)?;
        let built = {
            let mut slot = svc.bind_sched_data::<Installed<S::Table>>();
            self.rebuild_slot(&mut slot)
        };
        if built.is_err() {
            self.unbind(svc);
        }
        built
    }

    /// Unbinds a service (`done_service`): off the registry, table retired.
    pub(super) fn unbind(&self, svc: &mut LockedService<'_>) {
        let ptr = NonNull::from(svc.service()).cast::<bindings::ip_vs_service>();
        self.services.lock().retain(|s| s.0 != ptr);
        // SAFETY: The service was bound to this scheduler, whose tables are
        // in `sched_data`.
        let mut slot = unsafe { svc.sched_data::<Installed<S::Table>>() };
        if let Some(old) = slot.replace(None) {
            // SAFETY: Unpublished with no successor: every reference goes.
            old.retire(|old| unsafe { old.dests.release_except(&Handover::none()) });
        }
    }

    /// Builds and publishes a table for a bound service (or keeps the one in
    /// force); on error the table in force stays.
    pub(super) fn rebuild(&self, svc: &mut LockedService<'_>) -> Result {
        // SAFETY: A service bound to this scheduler keeps its tables in
        // `sched_data` (`bind` cleared what another scheduler left).
        let mut slot = unsafe { svc.sched_data::<Installed<S::Table>>() };
        self.rebuild_slot(&mut slot)
    }

    fn rebuild_slot(&self, slot: &mut SchedData<'_, '_, Installed<S::Table>>) -> Result {
        let current = slot.current().map(Installed::current);
        let Build::New(table, lineup) = self.scheduler.build(slot.service(), current)? else {
            return Ok(());
        };
        // Everything that can fail comes first: nothing is held before.
        let handover = Handover::new(current.map(|c| c.dests), &lineup)?;
        let place = Reserved::new()?;
        // SAFETY: `handover` was made for this lineup and the table in force,
        // which the new one replaces right below.
        let dests = unsafe { Dests::hold(lineup, &handover) };
        let new = place.init(Installed { dests, table });
        if let Some(old) = slot.replace(Some(new)) {
            // SAFETY: Its successor, made with `handover`, was just published.
            old.retire(|old| unsafe { old.dests.release_except(&handover) });
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
        // SAFETY: By the type invariant `sched` is registered and no service
        // is bound to it.
        unsafe { bindings::unregister_ip_vs_scheduler(self.sched.get()) };
        // Tables retired with `call_rcu` must be freed before the module's
        // code goes away. The claim is given back after this, when the
        // fields are dropped.
        // SAFETY: `rcu_barrier` may be called from any sleepable context; a
        // registration is dropped in process context (module init or exit).
        unsafe { bindings::rcu_barrier() };
    }
}
