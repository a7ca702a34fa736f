// SPDX-License-Identifier: GPL-2.0

//! The `mh` scheduler: IPVS callbacks in safe Rust over the hashing core.
//!
//! Scheduler flags, as `ipvsadm -b` names them for `mh`:
//! flag-1 `mh-fallback`, flag-2 `mh-port`, flag-3 order-independent table
//! (destinations in a canonical order instead of IPVS list order).

#![forbid(unsafe_code)]

mod service_sizes;
mod summary;
mod table;

use crate::{
    ipvs::{
        self,
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
pub(crate) use service_sizes::ServiceSizes;
pub(crate) use table::{
    Order,
    Table, //
};

/// The name IPVS knows the scheduler by, as the C one.
pub(crate) const NAME: &CStr = c"mh";

/// The schedulers of one table size each, for services that choose their
/// own: `mh-8` (251 slots) to `mh-17` (131071 slots), named after the index
/// `CONFIG_IP_VS_MH_TAB_INDEX` takes. The module's aliases (`ip_vs_mh-8`
/// ...) let `ipvsadm -s mh-16` load it, and must follow this list.
pub(crate) const SIZED: [(&CStr, TableSize); 10] = [
    (c"mh-8", size(8)),
    (c"mh-9", size(9)),
    (c"mh-10", size(10)),
    (c"mh-11", size(11)),
    (c"mh-12", size(12)),
    (c"mh-13", size(13)),
    (c"mh-14", size(14)),
    (c"mh-15", size(15)),
    (c"mh-16", size(16)),
    (c"mh-17", size(17)),
];

/// The table size of index `index`, at compile time.
const fn size(index: u32) -> TableSize {
    match TableSize::new(index) {
        Ok(size) => size,
        // Evaluated at compile time: a bad index fails the build.
        Err(_) => panic!("SIZED names only valid table indices"),
    }
}

/// The Maglev hashing scheduler, with what was chosen at load time.
pub(crate) struct Mh {
    size: TableSize,
    /// Services named in `service_tab_index` get the size it gives them
    /// (`mh` only: a sized name is the size it says).
    by_service: bool,
    /// Every table in canonical order (module parameter `canonical_order`),
    /// whatever the services' flags.
    canonical_order: bool,
}

impl Mh {
    /// `mh`: table size `size` but for the services `service_tab_index`
    /// names; `canonical_order` makes every service's table
    /// order-independent.
    pub(crate) fn new(size: TableSize, canonical_order: bool) -> Self {
        Self {
            size,
            by_service: true,
            canonical_order,
        }
    }

    /// A scheduler of one table size for every service (`mh-8` ...).
    pub(crate) fn sized(size: TableSize, canonical_order: bool) -> Self {
        Self {
            by_service: false,
            ..Self::new(size, canonical_order)
        }
    }

    /// The table size of services that `service_tab_index` does not name.
    pub(crate) fn size(&self) -> TableSize {
        self.size
    }

    /// The size of `svc`'s next table.
    fn size_of(&self, svc: &Service) -> TableSize {
        if !self.by_service {
            return self.size;
        }
        ipvs::SERVICE_TAB_INDEX
            .with(|sizes| sizes.and_then(|sizes| sizes.size_for(svc)))
            .unwrap_or(self.size)
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
        Table::build(self.size_of(svc.service()), order, svc, current)
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

/// Writes the summary of every service that uses the scheduler `reg` (the
/// debugfs view).
pub(crate) fn write_tables(reg: &Registration<Mh>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    reg.for_each_service(|svc, current| summary::write(f, reg.name(), svc, current))
}
