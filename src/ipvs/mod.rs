// SPDX-License-Identifier: GPL-2.0

//! The thin adapter between IPVS (C) and the scheduler (safe Rust).
//!
//! Every `unsafe` block of the module lives under this directory: raw
//! pointers from IPVS are turned into safe views ([`Service`], [`DestRef`],
//! [`Packet`]) here, tables are published with RCU here, and the scheduler
//! itself ([`crate::mh`]) only sees the safe API of this module.

mod bindings;
mod dest;
mod packet;
mod rcu_box;
mod registration;
mod registry;
mod service;

pub(crate) use dest::{DestRef, DestRefs};
pub(crate) use packet::Packet;
pub(crate) use registration::{Registration, Scheduler};
pub(crate) use registry::for_each_service;
pub(crate) use service::{LockedService, Service};
