// SPDX-License-Identifier: GPL-2.0

//! Bindings for `<net/ip_vs.h>` and this module's C helpers.
//!
//! Generated at build time by bindgen against the target kernel's headers
//! and configuration (struct layouts differ between kernels), see `Kbuild`.

#![allow(
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    dead_code,
    unsafe_op_in_unsafe_fn,
    unreachable_pub,
    missing_docs,
    improper_ctypes,
    clippy::all,
    clippy::as_underscore,
    clippy::cast_lossless,
    clippy::ptr_as_ptr,
    clippy::ref_as_ptr,
    clippy::undocumented_unsafe_blocks
)]
// bindgen's bitfield accessors transmute; the lint exists from rustc 1.88
// only (the kernel's own bindings crate does the same).
#![cfg_attr(not(CONFIG_RUSTC_HAS_UNNECESSARY_TRANSMUTES), allow(unknown_lints))]
#![allow(unnecessary_transmutes)]

use kernel::ffi;
// IPVS's lists (`svc->destinations`) are walked with the kernel crate's
// `CList`, which needs its own `list_head` type in the structs.
pub(crate) use kernel::bindings::list_head;

include!(concat!(
    env!("IP_VS_MH_RS_GENERATED"),
    "/ipvs/bindings_generated.rs"
));
