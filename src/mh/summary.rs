// SPDX-License-Identifier: GPL-2.0

//! The per-service summary shown in debugfs: what operators compare across
//! directors (the digest) and what each destination got.

use super::Table;
use crate::ipvs::Service;
use crate::maglev::{self, Addr};
use core::{
    fmt,
    net::{Ipv4Addr, Ipv6Addr},
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

fn protocol_name(protocol: u16) -> &'static str {
    match protocol {
        6 => "TCP",
        17 => "UDP",
        132 => "SCTP",
        _ => "?",
    }
}

/// Writes one service's summary.
pub(crate) fn write(
    f: &mut fmt::Formatter<'_>,
    svc: &Service<'_>,
    table: Option<&Table>,
) -> fmt::Result {
    if svc.fwmark() != 0 {
        write!(f, "service FWM {}", svc.fwmark())?;
    } else {
        write!(
            f,
            "service {} {}",
            protocol_name(svc.protocol()),
            Endpoint(svc.addr(), svc.port())
        )?;
    }
    let flags = svc.sched_flags();
    let names = [
        (flags.flag1, "mh-fallback"),
        (flags.flag2, "mh-port"),
        (flags.flag3, "flag-3"),
    ];
    f.write_str(" flags ")?;
    let mut first = true;
    for (_, name) in names.iter().filter(|(on, _)| *on) {
        if !first {
            f.write_str(",")?;
        }
        f.write_str(name)?;
        first = false;
    }
    if first {
        f.write_str("none")?;
    }
    f.write_str("\n")?;
    let Some(table) = table else {
        return f.write_str("  no table\n");
    };
    let (rebuilds, build_time) = table.build_stats();
    let order = if table.canonical() {
        "canonical (flag-3)"
    } else {
        "list"
    };
    writeln!(
        f,
        "  table: {} slots (index {}), order: {}, rebuilds: {}, last build: {} us",
        table.size().slots(),
        table.size().index(),
        order,
        rebuilds,
        build_time.as_micros_ceil()
    )?;
    writeln!(f, "  digest: {:#018x}", table.digest())?;
    for (dest, spec, state) in table.entries() {
        writeln!(
            f,
            "  dest {} weight {} last-weight {} turns {} slots {} share {}",
            Endpoint(spec.addr, spec.port),
            dest.weight(),
            spec.last_weight,
            state.turns,
            state.slots,
            maglev::dest_share(state, table.size())
        )?;
    }
    Ok(())
}
