// SPDX-License-Identifier: GPL-2.0

//! Heap objects that RCU readers find through a published pointer
//! (`svc->sched_data`), freed only after a grace period.
//!
//! An object is an [`RcuBox`] while it is being built, a published raw
//! pointer while it is in force, and a [`Retired`] once it has been
//! unpublished and only readers that started earlier may still see it.
//! Borrows of a published object are tied to a [`ReadSide`] (an RCU
//! read-side critical section) or to the writer's lock (see
//! [`super::service::SchedData`]), so no borrow can outlive what keeps the
//! object alive.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    prelude::*,
    sync::rcu,
    types::{
        NotThreadSafe,
        Opaque, //
    }, //
};

#[repr(C)]
struct Inner<T> {
    head: Opaque<bindings::callback_head>,
    value: T,
}

/// A `T` on the heap that can be published to RCU readers.
pub(super) struct RcuBox<T: Send + Sync>(KBox<Inner<T>>);

impl<T: Send + Sync> RcuBox<T> {
    /// Moves `value` to the heap.
    pub(super) fn new(value: T) -> Result<Self> {
        let inner = Inner {
            head: Opaque::uninit(),
            value,
        };
        Ok(Self(KBox::new(inner, GFP_KERNEL)?))
    }

    /// Gives up ownership for publication: the pointer is what readers load.
    pub(super) fn into_raw(self) -> *mut c_void {
        KBox::into_raw(self.0).cast()
    }
}

/// Proof that the current context is inside an RCU read-side critical
/// section for `'a`; borrows of published objects are tied to it.
pub(super) struct ReadSide<'a> {
    _section: PhantomData<&'a ()>,
    // A read-side section belongs to the CPU that entered it.
    _not_send: NotThreadSafe,
}

impl<'a> ReadSide<'a> {
    /// The section a guard holds.
    pub(super) fn of(_guard: &'a rcu::Guard) -> Self {
        Self {
            _section: PhantomData,
            _not_send: NotThreadSafe,
        }
    }

    /// The section the caller is in without holding a guard of its own.
    ///
    /// # Safety
    ///
    /// The caller must be inside an RCU read-side critical section that
    /// lasts at least `'a` (IPVS calls `schedule` inside one).
    pub(super) unsafe fn assume() -> Self {
        Self {
            _section: PhantomData,
            _not_send: NotThreadSafe,
        }
    }
}

/// Borrows the value behind a published pointer for an RCU reader.
///
/// # Safety
///
/// `ptr` must be null or have come from [`RcuBox::<T>::into_raw`] and have
/// been loaded (with `rcu_dereference`) inside the section `_rcu` proves:
/// it is then freed, at the earliest, after that section ends.
pub(super) unsafe fn borrow_published<'g, T: Send + Sync>(
    ptr: *mut c_void,
    _rcu: &'g ReadSide<'_>,
) -> Option<&'g T> {
    let inner = NonNull::new(ptr.cast::<Inner<T>>())?;
    // SAFETY: Guaranteed by the caller: `inner` is a live `Inner<T>` for `'g`.
    Some(unsafe { &(*inner.as_ptr()).value })
}

/// Borrows the value behind a published pointer for the writer.
///
/// # Safety
///
/// `ptr` must be null or have come from [`RcuBox::<T>::into_raw`], and the
/// caller must hold the lock under which it is unpublished for `'a`.
pub(super) unsafe fn borrow_locked<'a, T: Send + Sync>(ptr: *mut c_void) -> Option<&'a T> {
    let inner = NonNull::new(ptr.cast::<Inner<T>>())?;
    // SAFETY: Guaranteed by the caller: only the lock holder retires it.
    Some(unsafe { &(*inner.as_ptr()).value })
}

/// An object that has been unpublished: readers that loaded the pointer
/// before may still be using it, so it is only read until
/// [`Retired::drop_after_grace_period`] hands it to RCU.
///
/// # Invariants
///
/// `inner` came from [`RcuBox::into_raw`], is no longer published, and is
/// owned by this value (nobody else frees it).
pub(super) struct Retired<T: Send + Sync> {
    inner: NonNull<Inner<T>>,
}

impl<T: Send + Sync> Retired<T> {
    /// Takes ownership of an unpublished pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must have come from [`RcuBox::<T>::into_raw`], must no longer be
    /// published, and must not be owned by anyone else.
    pub(super) unsafe fn from_raw(ptr: NonNull<c_void>) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self { inner: ptr.cast() }
    }

    /// The value, shared with the readers that may still see it.
    pub(super) fn get(&self) -> &T {
        // SAFETY: By the type invariant `inner` is live until it is given
        // to RCU, which consumes `self`.
        unsafe { &(*self.inner.as_ptr()).value }
    }

    /// Frees the object once every RCU reader that may still see it is
    /// done. `T`'s drop then runs in the RCU callback, in softirq context:
    /// it must neither sleep nor take locks that sleep.
    pub(super) fn drop_after_grace_period(self) {
        let inner = self.inner.as_ptr();
        // SAFETY: By the type invariant we own `inner` and it is live; the
        // callback takes it back exactly once, after a grace period.
        unsafe { bindings::call_rcu((*inner).head.get(), Some(Self::free_rcu)) };
    }

    /// # Safety
    ///
    /// Called by RCU with the head of an `Inner<T>` given to `call_rcu`.
    unsafe extern "C" fn free_rcu(head: *mut bindings::callback_head) {
        // `head` is the first field of the `#[repr(C)]` `Inner<T>`.
        let inner = head.cast::<Inner<T>>();
        // SAFETY: `drop_after_grace_period` gave up this box for us, and no
        // reader can see it any more.
        drop(unsafe { KBox::from_raw(inner) });
    }
}
