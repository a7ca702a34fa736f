// SPDX-License-Identifier: GPL-2.0

//! A virtual service as the tool sees it (table size, family, flags,
//! destinations in list order), reading one from a file, and building its
//! table with the shared core.

use crate::maglev::{
    available, first_slot, table_digest, Addr, Availability, Dest, Family, OwnedTable, Slot,
    TableSize,
};
use crate::UsageError;
use std::net::{IpAddr, SocketAddr};

/// The scheduler flags of a service (`ipvsadm -b`): the core's.
pub use crate::maglev::Flags;

/// One real server of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestSpec {
    /// Its address.
    pub ip: IpAddr,
    /// Its port.
    pub port: u16,
    /// The current weight (0 or more): 0 means no new connections.
    pub weight: i32,
    /// The latest non-zero weight, which shapes the table (IPVS
    /// `last_weight`; equal to `weight` unless the weight was set to 0).
    pub last_weight: i32,
    /// The overload flag (only from files).
    pub overload: bool,
}

impl DestSpec {
    /// Whether the scheduler may choose it: weight > 0 and not overloaded
    /// (the core's rule, [`crate::maglev::available`]).
    pub fn available(&self) -> bool {
        available(self.weight, self.overload)
    }

    /// `ADDR:PORT`, or `[ADDR]:PORT` for IPv6.
    pub fn endpoint(&self) -> String {
        endpoint(self.ip, self.port)
    }

    /// Whether this is the server at `ip`, `port`.
    pub fn is(&self, ip: IpAddr, port: u16) -> bool {
        self.ip == ip && self.port == port
    }
}

/// `ADDR:PORT`, or `[ADDR]:PORT` for IPv6.
pub fn endpoint(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// The `union nf_inet_addr` bytes of an address (the core's
/// [`Addr::nf_inet_addr`](crate::maglev::Addr::nf_inet_addr)).
pub fn raw_ip(ip: IpAddr) -> [u8; 16] {
    crate::maglev::Addr::nf_inet_addr(ip)
}

/// The family of an address.
pub fn family_of(ip: IpAddr) -> Family {
    match ip {
        IpAddr::V4(_) => Family::Inet,
        IpAddr::V6(_) => Family::Inet6,
    }
}

/// A family as `ipvsadm` and the fixture files name it.
pub fn family_name(f: Family) -> &'static str {
    match f {
        Family::Inet => "inet",
        Family::Inet6 => "inet6",
    }
}

/// Parses `inet` or `inet6`.
pub fn parse_family(s: &str) -> Result<Family, String> {
    match s {
        "inet" | "ipv4" | "4" => Ok(Family::Inet),
        "inet6" | "ipv6" | "6" => Ok(Family::Inet6),
        _ => Err(format!("unknown family '{s}' (expected inet or inet6)")),
    }
}

/// Parses a table index, 8 to 17.
pub fn parse_index(s: &str) -> Result<TableSize, String> {
    let range = format!("{} to {}", TableSize::MIN_INDEX, TableSize::MAX_INDEX);
    let n: u32 = s
        .parse()
        .map_err(|_| format!("bad table index '{s}' (expected {range})"))?;
    TableSize::new(n).map_err(|_| format!("table index {n} out of range ({range})"))
}

/// Parses a port, 0 to 65535.
pub fn parse_port(s: &str) -> Result<u16, String> {
    match s.parse::<u64>() {
        Ok(p) => u16::try_from(p).map_err(|_| format!("port {s} out of range (0 to 65535)")),
        Err(_) => Err(format!("bad port '{s}' (expected 0 to 65535)")),
    }
}

/// Parses a weight as IPVS accepts it: 0 to 2147483647.
pub fn parse_weight(what: &str, s: &str) -> Result<i32, String> {
    match s.parse::<u64>() {
        Ok(w) => {
            i32::try_from(w).map_err(|_| format!("{what} {s} out of range (0 to {})", i32::MAX))
        }
        Err(_) => Err(format!("bad {what} '{s}' (expected 0 to {})", i32::MAX)),
    }
}

/// Parses an address.
pub fn parse_ip(s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| format!("bad address '{s}'"))
}

/// A service being assembled from the command line or a file: every field
/// may still be missing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceSpec {
    /// `--index` / `index`.
    pub size: Option<TableSize>,
    /// `--af` / `af`.
    pub family: Option<Family>,
    /// `--flags` / `flags`.
    pub flags: Option<Flags>,
    /// Destinations in list order.
    pub dests: Vec<DestSpec>,
}

impl ServiceSpec {
    /// Appends a destination; `context` names where it came from, for the
    /// duplicate error.
    pub fn push_dest(&mut self, d: DestSpec, context: &str) -> Result<(), UsageError> {
        if self.dests.iter().any(|o| o.is(d.ip, d.port)) {
            return Err(UsageError(format!(
                "{context}: duplicate destination {}",
                d.endpoint()
            )));
        }
        self.dests.push(d);
        Ok(())
    }

    /// Fills what is missing here from `other` (command-line options win
    /// over a file's lines).
    pub fn or(self, other: ServiceSpec) -> ServiceSpec {
        ServiceSpec {
            size: self.size.or(other.size),
            family: self.family.or(other.family),
            flags: self.flags.or(other.flags),
            dests: if self.dests.is_empty() {
                other.dests
            } else {
                self.dests
            },
        }
    }

    /// The service, with defaults: index 12, the first destination's family
    /// (else inet), no flags. Fails with more destinations than slots;
    /// `context` (where the destinations came from) prefixes the message.
    pub fn finish(self, context: &str) -> Result<Service, UsageError> {
        let size = self.size.unwrap_or(TableSize::DEFAULT);
        let family = self
            .family
            .or_else(|| self.dests.first().map(|d| family_of(d.ip)))
            .unwrap_or(Family::Inet);
        let svc = Service {
            size,
            family,
            flags: self.flags.unwrap_or_default(),
            dests: self.dests,
        };
        svc.check_count(context)?;
        Ok(svc)
    }
}

/// Reads a service file: the `userspace-tests/fixtures/*.mhfx` format
/// (`index`, `af`, `flags` and `dest` lines; `source`, `client` and `x-`
/// lines are accepted and ignored), so a fixture is valid input.
pub fn parse_file(name: &str, text: &str) -> Result<ServiceSpec, UsageError> {
    let mut spec = ServiceSpec::default();
    for (n, key, rest) in crate::maglev::service_file_lines(text) {
        let at = format!("--file {name}: line {n}");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let bad = |msg: String| UsageError(format!("{at}: {msg}"));
        match key {
            "index" => spec.size = Some(parse_index(rest).map_err(bad)?),
            "af" => spec.family = Some(parse_family(rest).map_err(bad)?),
            "flags" => spec.flags = Some(Flags::parse(rest).map_err(|e| bad(e.to_string()))?),
            "dest" => {
                let d = file_dest(&fields).map_err(bad)?;
                spec.push_dest(d, &at)?;
            }
            "source" | "client" => {}
            k if k.starts_with("x-") => {}
            _ => return Err(bad(format!("unknown key '{key}'"))),
        }
    }
    Ok(spec)
}

/// `dest ADDR PORT [WEIGHT [LAST_WEIGHT [OVERLOAD]]]` (fixtures give all
/// five).
fn file_dest(fields: &[&str]) -> Result<DestSpec, String> {
    let usage = "expected: dest ADDR PORT WEIGHT LAST_WEIGHT OVERLOAD";
    let (&addr, &port) = match fields {
        [a, p, ..] if fields.len() <= 5 => (a, p),
        _ => return Err(usage.to_string()),
    };
    let weight = match fields.get(2) {
        Some(w) => parse_weight("weight", w)?,
        None => 1,
    };
    let last_weight = match fields.get(3) {
        Some(w) => parse_weight("last weight", w)?,
        None => weight,
    };
    let overload = match fields.get(4).copied() {
        None | Some("0") => false,
        Some("1") => true,
        Some(o) => return Err(format!("bad overload '{o}' (expected 0 or 1)")),
    };
    Ok(DestSpec {
        ip: parse_ip(addr)?,
        port: parse_port(port)?,
        weight,
        last_weight,
        overload,
    })
}

/// A complete service.
#[derive(Clone, Debug)]
pub struct Service {
    /// The table size.
    pub size: TableSize,
    /// The service's family: addresses are hashed as this family reads
    /// them.
    pub family: Family,
    /// The scheduler flags.
    pub flags: Flags,
    /// Destinations in list order (newest first).
    pub dests: Vec<DestSpec>,
}

impl Service {
    /// Fails (as the kernel does, with `-EINVAL`) when there are more
    /// destinations than slots; `context` prefixes the message.
    pub fn check_count(&self, context: &str) -> Result<(), UsageError> {
        let m = self.size.slots();
        if self.dests.len() > m as usize {
            return Err(UsageError(format!(
                "{context}{} destinations, more than the {m} slots of table index {}",
                self.dests.len(),
                self.size.index()
            )));
        }
        Ok(())
    }

    /// The position of the server at `ip`, `port` in the list.
    pub fn find(&self, ip: IpAddr, port: u16) -> Option<usize> {
        self.dests.iter().position(|d| d.is(ip, port))
    }

    /// Builds the table, in list order or (with `flag-3`) canonical order.
    pub fn build(&self) -> Result<Table, UsageError> {
        let core: Vec<Dest> = self
            .dests
            .iter()
            .map(|d| Dest {
                addr: Addr::from_nf_inet_addr(self.family, &raw_ip(d.ip)),
                port: d.port,
                last_weight: d.last_weight,
            })
            .collect();
        // The core puts the destinations in table order (list order, or
        // canonical order with flag-3) and builds the table.
        let mut order: Vec<usize> = (0..core.len()).collect();
        let table =
            OwnedTable::build_from(self.size, self.flags.canonical, &mut order, |&i| core[i])
                .map_err(|e| UsageError(format!("cannot build the table: {e}")))?;
        let dests: Vec<Dest> = order.iter().map(|&i| core[i]).collect();
        let specs: Vec<DestSpec> = order.iter().map(|&i| self.dests[i]).collect();
        let counts = table.slot_counts();
        Ok(Table {
            family: self.family,
            flags: self.flags,
            dests,
            specs,
            counts,
            table,
        })
    }
}

/// A built table. Destinations are in build order: list order, or
/// canonical order with `flag-3`.
#[derive(Clone, Debug)]
pub struct Table {
    /// The service's family.
    pub family: Family,
    /// The service's flags.
    pub flags: Flags,
    /// The core's view of each destination, in build order.
    pub dests: Vec<Dest>,
    /// The destinations as given, in build order.
    pub specs: Vec<DestSpec>,
    /// Slots per destination.
    pub counts: Vec<u32>,
    /// The table the core built (size, slots, weights, turns).
    pub table: OwnedTable<u32>,
}

/// Where one client goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The slot the client hashes to.
    pub slot: u32,
    /// The destination owning that slot (build order), if any.
    pub owner: Option<usize>,
    /// The destination chosen (build order), or `None`: "no destination
    /// available".
    pub chosen: Option<usize>,
}

impl Table {
    /// The table digest ([`crate::maglev::table_digest`]).
    pub fn digest(&self) -> u64 {
        table_digest(self.table.size, &self.dests, &self.table.slots)
    }

    /// Where a client at `ip` with source port `port` goes. The port is
    /// hashed only with `mh-port`, as in the kernel.
    pub fn lookup(&self, ip: IpAddr, port: u16) -> Decision {
        let addr = Addr::from_nf_inet_addr(self.family, &raw_ip(ip));
        let port = if self.flags.port { port } else { 0 };
        let slot = first_slot(self.table.size, &addr, port);
        let owner = self.table.slots.get(slot as usize).and_then(|s| s.index());
        let chosen = self.table.lookup(&addr, port, self.flags.fallback, self);
        Decision {
            slot,
            owner,
            chosen,
        }
    }

    /// Slots that name no destination.
    pub fn empty_slots(&self) -> u32 {
        self.table
            .slots
            .iter()
            .filter(|s| s.index().is_none())
            .count() as u32
    }
}

impl Availability for Table {
    fn is_available(&self, dest: usize) -> bool {
        self.specs.get(dest).is_some_and(DestSpec::available)
    }
}
