// SPDX-License-Identifier: GPL-2.0

//! The per-service summary shown in debugfs: what operators compare across
//! directors (the digest) and what each destination got.

use super::Table;
use crate::{
    ipvs::{
        Current,
        Service, //
    },
    maglev::{
        Addr,
        Share, //
    },
};
use core::{
    ffi::CStr,
    fmt,
    net::{
        Ipv4Addr,
        Ipv6Addr, //
    },
};
use kernel::{
    alloc::flags::__GFP_NOWARN,
    prelude::*, //
};

/// An address and port, as ipvsadm prints them.
struct Endpoint(Addr, u16);

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Addr::V4(a) => write!(f, "{}:{}", Ipv4Addr::from(a), self.1),
            Addr::V6(a) => write!(f, "[{}]:{}", Ipv6Addr::from(a), self.1),
        }
    }
}

/// Writes one service's summary; `scheduler` is the name it was bound by.
pub(crate) fn write(
    f: &mut fmt::Formatter<'_>,
    scheduler: &CStr,
    svc: &Service,
    current: Option<Current<'_, Table>>,
) -> fmt::Result {
    if svc.fwmark() != 0 {
        write!(f, "service FWM {}", svc.fwmark())?;
    } else {
        write!(
            f,
            "service {} {}",
            svc.protocol_name(),
            Endpoint(svc.addr(), svc.port())
        )?;
    }
    writeln!(
        f,
        " netns {} scheduler {} flags {}",
        svc.netns(),
        scheduler.to_str().unwrap_or("?"),
        svc.flags()
    )?;
    let Some(Current { table, dests }) = current else {
        return f.write_str("  no table\n");
    };
    let (builds, kept, build_time) = table.build_stats();
    writeln!(
        f,
        "  table: {} slots (index {}), order: {}, rebuilds: {}, kept: {}, last build: {} us",
        table.size().slots(),
        table.size().index(),
        table.order(),
        builds,
        kept,
        build_time.as_micros_ceil()
    )?;
    writeln!(f, "  digest: {:#018x}", table.digest(dests))?;
    // The view runs inside an RCU read-side section: no sleeping allocation.
    // A read that cannot get the memory fails rather than show wrong counts.
    let mut counts =
        KVec::from_elem(0u32, dests.len(), GFP_NOWAIT | __GFP_NOWARN).map_err(|_| fmt::Error)?;
    table.count_slots(&mut counts);
    for ((dest, last_weight, turns), &slots) in table.entries(dests).zip(counts.iter()) {
        writeln!(
            f,
            "  dest {} weight {} last-weight {} turns {} slots {} share {}",
            Endpoint(dest.addr(dests.family()), dest.port()),
            dest.weight(),
            last_weight,
            turns,
            slots,
            Share::of_table(slots, table.size())
        )?;
    }
    Ok(())
}
