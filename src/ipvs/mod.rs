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
mod writable_param;

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
pub(crate) use writable_param::{
    ip_vs_mh_rs_service_tab_index as SERVICE_TAB_INDEX,
    ParamValue, //
};

// `addr_bytes` copies the union by its size.
kernel::static_assert!(
    core::mem::size_of::<bindings::nf_inet_addr>() == 16,
    "union nf_inet_addr is 16 bytes"
);

/// The 16 bytes of a `union nf_inet_addr`, as IPVS stores an address.
///
/// Read as its four 32-bit words: the packet path then hashes an IPv4
/// address from one load, not four byte loads.
#[inline(always)]
fn addr_bytes(addr: &bindings::nf_inet_addr) -> [u8; 16] {
    // SAFETY: `all` spans the whole union (16 bytes, asserted above), whose
    // members are all plain integers: any bit pattern is a valid `[u32; 4]`,
    // and the reference makes all 16 bytes readable.
    let words = unsafe { addr.all };
    let mut bytes = [0u8; 16];
    for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    bytes
}
