// SPDX-License-Identifier: GPL-2.0

//! The `mh` scheduler: IPVS callbacks in safe Rust over the hashing core.
//!
//! Scheduler flags, as `ipvsadm -b` names them for `mh`:
//! flag-1 `mh-fallback`, flag-2 `mh-port`, flag-3 order-independent table
//! (destinations in a canonical order instead of IPVS list order).

#![forbid(unsafe_code)]

mod summary;
mod table;

use crate::ipvs::{self, DestRef, DestRefs, LockedService, Packet, Scheduler, Service};
use core::{ffi::CStr, fmt};
use kernel::prelude::*;
pub(crate) use table::Table;

/// The Maglev hashing scheduler.
pub(crate) struct Mh;

impl Scheduler for Mh {
    const NAME: &'static CStr = c"mh";

    type Table = Table;

    fn build(svc: &LockedService<'_>, previous: Option<&Table>) -> Result<Table> {
        Table::build(svc, crate::table_size(), previous)
    }

    fn dests(table: &Table) -> &DestRefs {
        table.dests()
    }

    // Inlined into the IPVS callback: one call less per new connection.
    #[inline(always)]
    fn schedule<'t>(
        svc: &Service<'_>,
        table: &'t Table,
        packet: &Packet<'_>,
    ) -> Option<&'t DestRef> {
        let flags = svc.sched_flags();
        let family = svc.family();
        let port = if flags.flag2 { packet.client_port() } else { 0 };
        table.lookup(&packet.client_addr(family), port, flags.flag1)
    }
}

/// Writes the summary of every service that uses `mh` (the debugfs view).
pub(crate) fn write_tables(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    ipvs::for_each_service::<Mh>(|svc, table| summary::write(f, svc, table))
}
