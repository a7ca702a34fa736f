// SPDX-License-Identifier: GPL-2.0

//! `READ_ONCE()` for the fields IPVS writes while the scheduler reads them
//! (weights, flags, the published table).

/// Integers and raw pointers, read with one machine load: every bit pattern
/// is valid and an aligned access is never torn.
pub(super) trait Word: Copy {}

impl Word for i32 {}
impl Word for u32 {}
impl<T> Word for *mut T {}

/// One load that the compiler may neither tear, merge nor repeat: the
/// kernel's `READ_ONCE()`.
///
/// FIXME(read_once): `kernel::sync::atomic::atomic_load` once it inlines;
/// without CONFIG_RUST_INLINE_HELPERS (which neither Debian's GCC-built
/// kernels nor a clang kernel whose LLVM differs from rustc's can have) it
/// is a call into C, on the path of every new connection.
///
/// # Safety
///
/// `p` must be valid for reads and properly aligned.
#[inline(always)]
pub(super) unsafe fn read_once<T: Word>(p: *const T) -> T {
    // SAFETY: `p` is valid for reads and aligned (guaranteed by the caller),
    // and every bit pattern is a `T` (`T: Word`). A racing store is a data
    // race under Rust's model that the LKMM allows for a volatile load of an
    // aligned machine word: READ_ONCE().
    unsafe { core::ptr::read_volatile(p) }
}
