// SPDX-License-Identifier: GPL-2.0

//! Where IPVS's callbacks find the registration they belong to.
//!
//! IPVS passes the callbacks a service, not the scheduler, and the service
//! does not lead to it at the two moments that matter: `init_service` runs
//! before `ip_vs_bind_scheduler` points `svc->scheduler` at the scheduler,
//! and `done_service` after `ip_vs_unbind_scheduler` has cleared it. So
//! every registration claims a home of its own here before it registers,
//! and registers callbacks compiled for that home alone (see
//! [`super::callbacks`]); it gives the home back after it has unregistered.
//!
//! The homes are a fixed pool owned by this file. Nobody chooses one: a
//! claim takes the first free home with a compare-exchange, so a live
//! registration's home can be neither taken nor cleared by another, and only
//! the [`Claim`] its registration owns gives it back.

use core::{
    ffi::c_void,
    ptr, //
};
use kernel::{
    prelude::*,
    sync::atomic::{
        Acquire,
        Atomic,
        Release, //
    },
};

/// How many registrations can live at once.
pub(super) const HOMES: usize = 16;

/// Each home holds null (free) or the address of the registration that
/// claimed it.
static HOME: [Atomic<*const c_void>; HOMES] = [const { Atomic::new(ptr::null()) }; HOMES];

/// A home claimed by one registration.
///
/// # Invariants
///
/// `HOME[index]` holds `owner` from the claim until this value is dropped,
/// and only that drop clears it.
pub(super) struct Claim {
    index: usize,
    owner: *const c_void,
}

// SAFETY: A claim is a pool index and an address that is only compared,
// never dereferenced.
unsafe impl Send for Claim {}
// SAFETY: See `Send`.
unsafe impl Sync for Claim {}

impl Claim {
    /// Claims the first free home for `owner`; `EBUSY` when all are taken.
    pub(super) fn new(owner: *const c_void) -> Result<Self> {
        for (index, home) in HOME.iter().enumerate() {
            // Release: a callback that finds `owner` (Acquire) sees the
            // registration as it was initialised before the claim.
            if home.cmpxchg(ptr::null(), owner, Release).is_ok() {
                // INVARIANT: The compare-exchange stored `owner` in a free home.
                return Ok(Self { index, owner });
            }
        }
        Err(EBUSY)
    }

    /// The home's index, which selects the callbacks compiled for it.
    pub(super) fn index(&self) -> usize {
        self.index
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        // By the type invariant the home holds `owner` and nobody else
        // clears it, so this cannot fail.
        let _ = HOME[self.index].cmpxchg(self.owner, ptr::null(), Release);
    }
}

/// The registration in home `index`, or `None` if the home is free.
///
/// # Safety
///
/// The caller must be a callback compiled for home `index` and `T`. Only
/// the registration of type `T` holding that home registers such callbacks,
/// and IPVS calls them only while it holds a reference on that
/// registration's module (taken by `ip_vs_scheduler_get` before
/// `init_service`, and kept by every service bound to the scheduler), so the
/// module cannot be unloaded and the registration is live and pinned.
pub(super) unsafe fn get<'a, T>(index: usize) -> Option<&'a T> {
    let owner = HOME.get(index)?.load(Acquire);
    // SAFETY: Guaranteed by the caller: null or the live, pinned `T` that
    // claimed the home.
    unsafe { owner.cast::<T>().as_ref() }
}
