// SPDX-License-Identifier: GPL-2.0

//! The `mh` scheduler: IPVS callbacks in safe Rust over the hashing core.
//!
//! Scheduler flags, as `ipvsadm -b` names them for `mh`:
//! flag-1 `mh-fallback`, flag-2 `mh-port`, flag-3 order-independent table
//! (destinations in a canonical order instead of IPVS list order).

#![forbid(unsafe_code)]

mod summary;
mod table;

use crate::{
    ipvs::{
        Build,
        Current,
        Dest,
        LockedService,
        Packet,
        Registration,
        Scheduler,
        Service, //
    },
    maglev::TableSize, //
};
use core::{
    ffi::CStr,
    fmt, //
};
use kernel::prelude::*;
pub(crate) use table::{
    Order,
    Table, //
};

/// The name IPVS knows the scheduler by, as the C one.
pub(crate) const NAME: &CStr = c"mh";

/// The Maglev hashing scheduler, with what was chosen at load time.
pub(crate) struct Mh {
    size: TableSize,
    /// Every table in canonical order (module parameter `canonical_order`),
    /// whatever the services' flags.
    canonical_order: bool,
}

impl Mh {
    /// The scheduler with table size `size`; `canonical_order` makes every
    /// service's table order-independent.
    pub(crate) fn new(size: TableSize, canonical_order: bool) -> Self {
        Self {
            size,
            canonical_order,
        }
    }

    /// The table size.
    pub(crate) fn size(&self) -> TableSize {
        self.size
    }

    /// Whether every table is in canonical order (`canonical_order=1`).
    pub(crate) fn canonical_order(&self) -> bool {
        self.canonical_order
    }
}

impl Scheduler for Mh {
    type Table = Table;

    fn build<'a>(
        &self,
        svc: &LockedService<'a>,
        current: Option<Current<'_, Table>>,
    ) -> Result<Build<'a, Table>> {
        let order = Order::new(svc.service().flags().canonical, self.canonical_order);
        Table::build(self.size, order, svc, current)
    }

    // Inlined into the IPVS callback: one call less per new connection.
    #[inline(always)]
    fn schedule<'t>(
        svc: &Service,
        current: Current<'t, Table>,
        packet: &Packet<'_>,
    ) -> Option<&'t Dest> {
        let flags = svc.flags();
        let port = if flags.port { packet.client_port() } else { 0 };
        let addr = packet.client_addr(current.dests.family());
        current
            .table
            .lookup(current.dests, &addr, port, flags.fallback)
    }
}

/// Writes the summary of every service that uses `mh` (the debugfs view).
pub(crate) fn write_tables(reg: &Registration<Mh>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    reg.for_each_service(|svc, current| summary::write(f, svc, current))
}
