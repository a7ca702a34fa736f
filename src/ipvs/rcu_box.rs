// SPDX-License-Identifier: GPL-2.0

//! A heap object that readers find through an RCU-protected pointer and
//! that is freed only after a grace period.

use super::bindings;
use core::ptr::NonNull;
use kernel::{prelude::*, types::Opaque};

#[repr(C)]
struct Inner<T> {
    head: Opaque<bindings::callback_head>,
    value: T,
}

/// An owned `T` that can be handed to RCU readers as a raw pointer.
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

    /// Gives up ownership; the pointer is what readers load.
    pub(super) fn into_raw(self) -> *mut core::ffi::c_void {
        KBox::into_raw(self.0).cast()
    }

    /// Borrows the value behind a pointer made by [`RcuBox::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`RcuBox::into_raw`] and must not be freed while
    /// the returned reference lives (an RCU read-side critical section, or
    /// the writer's lock, ensures it).
    pub(super) unsafe fn borrow<'a>(ptr: NonNull<core::ffi::c_void>) -> &'a T {
        // SAFETY: Guaranteed by the caller.
        unsafe { &(*ptr.as_ptr().cast::<Inner<T>>()).value }
    }

    /// Takes ownership back.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`RcuBox::into_raw`], and no one else may take
    /// ownership of it.
    pub(super) unsafe fn from_raw(ptr: NonNull<core::ffi::c_void>) -> Self {
        // SAFETY: Guaranteed by the caller.
        Self(unsafe { KBox::from_raw(ptr.as_ptr().cast::<Inner<T>>()) })
    }

    /// Borrows the value.
    pub(super) fn get(&self) -> &T {
        &self.0.value
    }

    /// Frees the object once every RCU reader that may still see it is done.
    pub(super) fn drop_after_grace_period(self) {
        let inner = KBox::into_raw(self.0);
        // SAFETY: `inner` is a live allocation that nobody else frees; the
        // callback takes it back exactly once, after a grace period.
        unsafe { bindings::call_rcu((*inner).head.get(), Some(Self::free_rcu)) };
    }

    /// # Safety
    ///
    /// Called by RCU with the head of an `Inner<T>` given to `call_rcu`.
    unsafe extern "C" fn free_rcu(head: *mut bindings::callback_head) {
        // `head` is the first field of the `#[repr(C)]` `Inner<T>`.
        let inner = head.cast::<Inner<T>>();
        // SAFETY: `drop_after_grace_period` leaked this box for us.
        drop(unsafe { KBox::from_raw(inner) });
    }
}
