// SPDX-License-Identifier: GPL-2.0

//! Heap objects that RCU readers find through a published pointer
//! (`svc->sched_data`), freed only after a grace period.
//!
//! An object's memory is first [`Reserved`] (so that the step that fills it
//! cannot fail), then it is an [`RcuBox`], a published raw pointer while it
//! is in force, and a [`Retired`] once it has been unpublished and only
//! readers that started earlier may still see it. Borrows of a published
//! object are tied to a [`ReadSide`] (an RCU read-side critical section) or
//! to the writer's lock (see [`super::locked::SchedData`]), so no borrow
//! can outlive what keeps the object alive.
//!
//! C header: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h)

use core::{
    marker::PhantomData,
    mem::MaybeUninit,
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

/// Heap memory for a `T` that will be published to RCU readers.
pub(super) struct Reserved<T: Send + Sync>(KBox<MaybeUninit<Inner<T>>>);

impl<T: Send + Sync> Reserved<T> {
    /// Allocates the memory.
    pub(super) fn new() -> Result<Self> {
        Ok(Self(KBox::new_uninit(GFP_KERNEL)?))
    }

    /// Moves `value` into the memory; cannot fail.
    pub(super) fn init(self, value: T) -> RcuBox<T> {
        RcuBox(KBox::write(
            self.0,
            Inner {
                head: Opaque::uninit(),
                value,
            },
        ))
    }
}

/// A `T` on the heap that can be published to RCU readers.
pub(super) struct RcuBox<T: Send + Sync>(KBox<Inner<T>>);

impl<T: Send + Sync> RcuBox<T> {
    /// Gives up ownership for publication: the pointer is what readers load.
    pub(super) fn into_raw(self) -> *mut c_void {
        KBox::into_raw(self.0).cast()
    }
}

/// Proof that the current context is inside an RCU read-side critical
/// section for `'a`; borrows of published objects are tied to it.
pub(super) struct ReadSide<'a> {
    _section: PhantomData<&'a ()>,
    // A read-side section is the current task's: the proof must not move
    // to another thread.
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
    /// lasts at least `'a` (IPVS calls `schedule` inside one, in softirq
    /// context for forwarded packets and in process context for locally
    /// generated ones).
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
/// before may still be using it, so nothing but [`Retired::retire`] may be
/// done with it, which frees it after a grace period. It gives out no
/// reference that could outlive that.
///
/// # Invariants
///
/// `inner` came from [`RcuBox::into_raw`], is no longer published, and is
/// owned by this value (nobody else frees it).
#[must_use = "an unpublished object must be retired, or it leaks"]
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

    /// Lets `last_look` see the object once more (the owner's last chance
    /// to give up what it holds, while readers may still be using it), and
    /// frees it once every RCU reader that may still see it is done. `T`'s
    /// drop then runs in the RCU callback, in softirq context: it must
    /// neither sleep nor take locks that sleep.
    pub(super) fn retire(self, last_look: impl FnOnce(&T)) {
        let inner = self.inner.as_ptr();
        // SAFETY: By the type invariant we own `inner` and it is live until
        // it is handed to RCU below; the borrow cannot leave the closure.
        last_look(unsafe { &(*inner).value });
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
        // SAFETY: `retire` gave up this box for us, and no reader can see it
        // any more.
        drop(unsafe { KBox::from_raw(inner) });
    }
}
