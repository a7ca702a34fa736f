// SPDX-License-Identifier: GPL-2.0

//! Userspace build of the `ip_vs_mh` hashing core, for tests and benchmarks.
//!
//! [`maglev`] is the very source the kernel module compiles (no copy), built
//! here as `no_std` like in the kernel. [`oracle`] binds the independent C
//! model of the in-tree scheduler (`oracle/mh_model.c`). [`fixture`] reads
//! golden fixtures and evaluates them with both.

#![no_std]
#![warn(
    missing_docs,
    rust_2018_idioms,
    clippy::cast_lossless,
    clippy::as_underscore
)]

extern crate alloc;

#[path = "../../src/maglev/mod.rs"]
pub mod maglev;

pub mod fixture;
pub mod oracle;
