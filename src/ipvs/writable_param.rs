// SPDX-License-Identifier: GPL-2.0

//! A module parameter that root can rewrite at run time
//! (`/sys/module/<module>/parameters/<name>`, mode 0644) and whose value the
//! scheduler parses from text: what `module!`'s parameters (read once, at
//! load, integers and bool) do not offer.
//!
//! `src/helpers.c` declares each one (`device_param_cb`), naming the value
//! and the operations defined here; the kernel calls those under the
//! module's parameter mutex (`kernel_param_lock`), at load and for every
//! write or read through sysfs, and readers here take that same mutex.
//!
//! A bad value written through sysfs is refused (`EINVAL`, one line in the
//! kernel log saying why) and the old value stays. A bad value given at
//! load is kept aside until the module initialises, which then fails the
//! load with one line ([`WritableParam::go_live`]); refused at once, the
//! kernel would print a second, less precise line of its own.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h)

use super::bindings;
use crate::mh::ServiceSizes;
use core::{
    cell::UnsafeCell,
    fmt::{
        self,
        Write, //
    },
};
use kernel::{
    ffi::{
        c_char,
        c_int,
        c_void, //
    },
    prelude::*,
};

/// What a writable parameter holds: a value read from its text.
pub(crate) trait ParamValue: Sized {
    /// Why a text is refused.
    type Error: fmt::Display;

    /// The value `text` gives (blanks around it already trimmed).
    fn parse(text: &str) -> Result<Self, Self::Error>;

    /// Writes the value back as text (what reading the sysfs file shows,
    /// without its final newline).
    fn show(&self, f: &mut dyn Write) -> fmt::Result;
}

/// A parameter's value and the state of the module it belongs to.
struct State<T: ParamValue> {
    /// `None` until a value is given (the parameter then means "empty").
    value: Option<T>,
    /// The error of a bad value given at load, for [`WritableParam::go_live`].
    load_error: Option<T::Error>,
    /// The module is initialised: refuse bad values as they come.
    live: bool,
}

/// A writable module parameter of type `T` (see the module's docs).
///
/// # Invariants
///
/// `state` is read and written only under the module's parameter mutex
/// (`kernel_param_lock(THIS_MODULE)`): by the operations below, which the
/// kernel calls holding it (`parse_one` at load, `param_attr_store` and
/// `param_attr_show` through sysfs), and by [`WritableParam::with`] and
/// [`WritableParam::go_live`], which take it. `free`, the last access, runs
/// when the module is freed, after its sysfs files are gone.
pub(crate) struct WritableParam<T: ParamValue> {
    state: UnsafeCell<State<T>>,
}

// SAFETY: Every access to `state` holds the module's parameter mutex (type
// invariant), so one thread at a time sees it, and `T` may move between
// threads.
unsafe impl<T: ParamValue + Send> Sync for WritableParam<T> where T::Error: Send {}

/// Holds the module's parameter mutex while it lives.
struct ParamLock;

impl ParamLock {
    fn new() -> Self {
        // SAFETY: Takes `kernel_param_lock(THIS_MODULE)`, a sleeping mutex:
        // callers run in process context (module init, the IPVS
        // configuration path under `service_mutex`, which no parameter
        // operation takes, so the order is always service_mutex first).
        unsafe { bindings::ip_vs_mh_rs_param_lock() };
        Self
    }
}

impl Drop for ParamLock {
    fn drop(&mut self) {
        // SAFETY: `new` took the mutex, and this is its only release.
        unsafe { bindings::ip_vs_mh_rs_param_unlock() };
    }
}

impl<T: ParamValue> WritableParam<T> {
    /// A parameter with no value given.
    pub(crate) const fn new() -> Self {
        Self {
            state: UnsafeCell::new(State {
                value: None,
                load_error: None,
                live: false,
            }),
        }
    }

    /// Calls `f` with the current value (`None`: none given), holding the
    /// parameter mutex; `f` must not sleep for long (writers wait).
    pub(crate) fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let _lock = ParamLock::new();
        // SAFETY: The mutex is held (type invariant).
        let state = unsafe { &*self.state.get() };
        f(state.value.as_ref())
    }

    /// At module init: fails with the error of a bad value given at load
    /// (one line in the kernel log, naming the parameter `name`); from then
    /// on a bad value is refused when it is written.
    pub(crate) fn go_live(&self, name: &str) -> Result {
        let _lock = ParamLock::new();
        // SAFETY: The mutex is held (type invariant).
        let state = unsafe { &mut *self.state.get() };
        if let Some(error) = state.load_error.take() {
            pr_err!("{}: {}\n", name, format_args!("{error}"));
            return Err(EINVAL);
        }
        state.live = true;
        Ok(())
    }

    /// The `kernel_param_ops` of this parameter type.
    pub(crate) const fn ops() -> bindings::kernel_param_ops {
        bindings::kernel_param_ops {
            flags: 0,
            set: Some(set::<T>),
            get: Some(get::<T>),
            free: Some(free::<T>),
        }
    }
}

/// The parameter a `kernel_param` names.
///
/// # Safety
///
/// `kp` must be a parameter declared in `src/helpers.c` with a
/// `WritableParam<T>` as its argument, and the parameter mutex must be held
/// or the module being freed (see [`WritableParam`]'s invariant).
unsafe fn state_of<'a, T: ParamValue>(kp: *const bindings::kernel_param) -> &'a mut State<T> {
    // SAFETY: Guaranteed by the caller: `arg` is the `WritableParam<T>`, a
    // static of this module, accessed by one thread at a time.
    unsafe {
        let param = (*kp).__bindgen_anon_1.arg.cast::<WritableParam<T>>();
        &mut *(*param).state.get()
    }
}

/// `kernel_param_ops.set`: a value given at load or written through sysfs.
///
/// # Safety
///
/// Called by the kernel only, as `moduleparam.h` says: `val` is a
/// NUL-terminated string (or null), `kp` this module's parameter (see
/// [`state_of`]), the parameter mutex held.
unsafe extern "C" fn set<T: ParamValue>(
    val: *const c_char,
    kp: *const bindings::kernel_param,
) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let state = unsafe { state_of::<T>(kp) };
    // SAFETY: Guaranteed by the caller: the kernel_param of `src/helpers.c`,
    // whose name is a NUL-terminated string of the module.
    let name = unsafe { CStr::from_char_ptr((*kp).name) }
        .to_str()
        .unwrap_or("?");
    let text = if val.is_null() {
        Ok("")
    } else {
        // SAFETY: Guaranteed by the caller: a NUL-terminated string that
        // lives for the call.
        unsafe { CStr::from_char_ptr(val) }.to_str()
    };
    let Ok(text) = text else {
        if state.live {
            pr_err!("{}: the value must be text (UTF-8)\n", name);
        }
        return EINVAL.to_errno();
    };
    match T::parse(text.trim()) {
        Ok(value) => {
            // The last value given wins, at load as later.
            state.value = Some(value);
            state.load_error = None;
            0
        }
        Err(error) if state.live => {
            pr_err!("{}: {}\n", name, format_args!("{error}"));
            EINVAL.to_errno()
        }
        Err(error) => {
            state.load_error = Some(error);
            0
        }
    }
}

/// Writes into a byte buffer, refusing what does not fit.
struct Bounded<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `kernel_param_ops.get`: the value as text, for a read through sysfs.
///
/// # Safety
///
/// Called by the kernel only: `buffer` is a page (`PAGE_SIZE` bytes), `kp`
/// this module's parameter, the parameter mutex held.
unsafe extern "C" fn get<T: ParamValue>(
    buffer: *mut c_char,
    kp: *const bindings::kernel_param,
) -> c_int {
    // SAFETY: Guaranteed by the caller.
    let state = unsafe { state_of::<T>(kp) };
    // SAFETY: Guaranteed by the caller: the kernel's page-sized buffer,
    // writable and ours for the call.
    let buf =
        unsafe { core::slice::from_raw_parts_mut(buffer.cast::<u8>(), kernel::page::PAGE_SIZE) };
    let mut out = Bounded { buf, len: 0 };
    let shown = state
        .value
        .as_ref()
        .map_or(Ok(()), |value| value.show(&mut out))
        .and_then(|()| out.write_str("\n"));
    match shown {
        Ok(()) => c_int::try_from(out.len).unwrap_or(0),
        Err(_) => ENOSPC.to_errno(),
    }
}

/// `kernel_param_ops.free`: the value goes with the module.
///
/// # Safety
///
/// Called by the kernel only, when it frees the module: `arg` is the
/// `WritableParam<T>` (see [`state_of`]), nothing else reads it any more.
unsafe extern "C" fn free<T: ParamValue>(arg: *mut c_void) {
    // SAFETY: Guaranteed by the caller.
    let state = unsafe { &mut *(*arg.cast::<WritableParam<T>>()).state.get() };
    state.value = None;
    state.load_error = None;
}

/// `service_tab_index`: table sizes per service for `mh` (see
/// [`ServiceSizes`]).
// C names: `src/helpers.c` gives it to `module_param_cb` as the argument.
#[no_mangle]
pub(crate) static ip_vs_mh_rs_service_tab_index: WritableParam<ServiceSizes> = WritableParam::new();

/// Its operations, named by `src/helpers.c`.
#[no_mangle]
static ip_vs_mh_rs_service_tab_index_ops: bindings::kernel_param_ops =
    WritableParam::<ServiceSizes>::ops();
