// SPDX-License-Identifier: GPL-2.0

//! The thin adapter between IPVS (C) and the scheduler (safe Rust).
//!
//! Every `unsafe` block of the module lives under this directory: IPVS's
//! objects are wrapped in transparent views ([`Service`], [`Dest`],
//! [`Packet`]) here, tables are published with RCU here, destination
//! references are taken and dropped here, and the scheduler itself
//! ([`crate::mh`]) only sees the safe API of this module.

mod bindings;
mod dest;
mod packet;
mod rcu_box;
mod registration;
mod service;

pub(crate) use dest::{
    Dest,
    Dests, //
};
pub(crate) use packet::Packet;
pub(crate) use registration::{
    Build,
    Current,
    Home,
    Registration,
    Scheduler, //
};
pub(crate) use service::{
    LockedService,
    Service, //
};

/// The 16 bytes of a `union nf_inet_addr`, as IPVS stores an address.
fn addr_bytes(addr: &bindings::nf_inet_addr) -> [u8; 16] {
    // SAFETY: `nf_inet_addr` is a 16-byte union of plain integers: any bit
    // pattern is a valid byte array, and the reference makes it readable.
    unsafe { core::mem::transmute_copy(addr) }
}
