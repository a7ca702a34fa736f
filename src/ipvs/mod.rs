// SPDX-License-Identifier: GPL-2.0

//! The thin adapter between IPVS (C) and the scheduler (safe Rust).
//!
//! Every `unsafe` block of the module lives under this directory: IPVS's
//! objects are wrapped in views here ([`Service`], [`LockedService`],
//! [`Dest`], [`Packet`]), registrations find their callbacks' state here,
//! tables are published with RCU here, and destination references are
//! taken and dropped here. The scheduler itself ([`crate::mh`]) only sees
//! the safe API of this module.

mod bindings;
mod callbacks;
mod dest;
mod dests;
mod home;
mod locked;
mod packet;
mod rcu_box;
mod read_once;
mod registration;
mod service;

pub(crate) use dest::Dest;
pub(crate) use dests::{
    Dests,
    HeldDest,
    Lineup, //
};
pub(crate) use locked::LockedService;
pub(crate) use packet::Packet;
pub(crate) use registration::{
    Build,
    Current,
    Registration,
    Scheduler, //
};
pub(crate) use service::Service;

// `addr_bytes` copies the union by its size.
kernel::static_assert!(
    core::mem::size_of::<bindings::nf_inet_addr>() == 16,
    "union nf_inet_addr is 16 bytes"
);

/// The 16 bytes of a `union nf_inet_addr`, as IPVS stores an address.
fn addr_bytes(addr: &bindings::nf_inet_addr) -> [u8; 16] {
    // SAFETY: `nf_inet_addr` is a union of plain integers whose size is 16
    // bytes (asserted above): any bit pattern is a valid byte array, and the
    // reference makes all 16 readable.
    unsafe { core::mem::transmute_copy(addr) }
}
