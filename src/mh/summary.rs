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
        self,
        Addr, //
    },
};
use core::{
    fmt,
    net::{
        Ipv4Addr,
        Ipv6Addr, //
    },
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
    svc: &Service,
    current: Option<Current<'_, Table>>,
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
    writeln!(f, " netns {} flags {}", svc.netns(), svc.flags())?;
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
    writeln!(f, "  digest: {:#018x}", table.digest())?;
    for (dest, spec, state) in table.entries(dests) {
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
