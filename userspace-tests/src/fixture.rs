// SPDX-License-Identifier: GPL-2.0

//! Parser for golden fixtures (`fixtures/*.mhfx`); the format is described
//! in `userspace-tests/README.md`.

use crate::maglev::{table_digest, Addr, Dest, Family, Flags, OwnedTable, TableSize};
use crate::oracle::{CAvail, CDest, Model, DEST_OVERLOAD};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, SocketAddr};

/// One expected scheduling decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Client address bytes (`union nf_inet_addr`).
    pub addr: [u8; 16],
    /// Client port in host order (hashed only with `mh-port`).
    pub port: u16,
    /// Expected destination index in the fixture's list, or `None`.
    pub expect: Option<usize>,
    /// Line number, for messages.
    pub line: usize,
}

/// A parsed fixture.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// Where the expected values come from.
    pub source: String,
    /// Table index (`CONFIG_IP_VS_MH_TAB_INDEX`).
    pub index: u32,
    /// Service family.
    pub family: Family,
    /// Service flags.
    pub flags: Flags,
    /// Destinations in `svc->destinations` order.
    pub dests: Vec<CDest>,
    /// Expected scheduling decisions.
    pub probes: Vec<Probe>,
}

/// A parse error with its line.
#[derive(Debug)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

fn err<T>(line: usize, msg: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        msg: msg.into(),
    })
}

/// The `union nf_inet_addr` bytes of an address (the core's
/// [`Addr::nf_inet_addr`](crate::maglev::Addr::nf_inet_addr)).
pub fn raw_ip(ip: IpAddr) -> [u8; 16] {
    crate::maglev::Addr::nf_inet_addr(ip)
}

fn parse_num<T: core::str::FromStr>(line: usize, what: &str, s: &str) -> Result<T, ParseError> {
    s.parse()
        .or_else(|_| err(line, format!("bad {what}: {s:?}")))
}

fn parse_ip(line: usize, s: &str) -> Result<[u8; 16], ParseError> {
    s.parse::<IpAddr>()
        .map(raw_ip)
        .or_else(|_| err(line, format!("bad address: {s:?}")))
}

/// Parses a fixture from its text.
pub fn parse(text: &str) -> Result<Fixture, ParseError> {
    let mut source = None;
    let mut index = None;
    let mut family = None;
    let mut flags = None;
    let mut dests = Vec::new();
    // Client lines are resolved after all destinations are known.
    let mut clients: Vec<(usize, [u8; 16], u16, String)> = Vec::new();

    for (line, key, rest) in crate::maglev::service_file_lines(text) {
        let fields: Vec<&str> = rest.split_whitespace().collect();
        match key {
            "source" => source = Some(rest.to_string()),
            "index" => index = Some(parse_num::<u32>(line, "index", rest)?),
            "af" => {
                family = Some(match rest {
                    "inet" => Family::Inet,
                    "inet6" => Family::Inet6,
                    _ => return err(line, format!("af must be inet or inet6, not {rest:?}")),
                })
            }
            "flags" => match Flags::parse(rest) {
                Ok(f) => flags = Some(f),
                Err(e) => return err(line, e.to_string()),
            },
            "dest" => {
                let [addr, port, weight, last_weight, overload] = fields[..] else {
                    return err(line, "dest needs: addr port weight last_weight overload");
                };
                dests.push(CDest {
                    addr: parse_ip(line, addr)?,
                    port_be: parse_num::<u16>(line, "port", port)?.to_be(),
                    weight: parse_num(line, "weight", weight)?,
                    last_weight: parse_num(line, "last_weight", last_weight)?,
                    flags: match overload {
                        "0" => 0,
                        "1" => DEST_OVERLOAD,
                        _ => return err(line, "overload must be 0 or 1"),
                    },
                });
            }
            "client" => {
                let [addr, port, expect] = fields[..] else {
                    return err(line, "client needs: addr port expected");
                };
                clients.push((
                    line,
                    parse_ip(line, addr)?,
                    parse_num(line, "port", port)?,
                    expect.to_string(),
                ));
            }
            k if k.starts_with("x-") => {} // extension fields: ignored
            _ => return err(line, format!("unknown key {key:?}")),
        }
    }

    let mut probes = Vec::new();
    for (line, addr, port, expect) in clients {
        let expect = resolve(line, &expect, &dests)?;
        probes.push(Probe {
            addr,
            port,
            expect,
            line,
        });
    }
    let end = text.lines().count();
    Ok(Fixture {
        source: source.map_or_else(|| err(end, "missing source"), Ok)?,
        index: index.map_or_else(|| err(end, "missing index"), Ok)?,
        family: family.map_or_else(|| err(end, "missing af"), Ok)?,
        flags: flags.unwrap_or_default(),
        dests,
        probes,
    })
}

/// An expected result: `none`, a list index, or the destination's
/// `addr:port` / `[addr6]:port`.
fn resolve(line: usize, s: &str, dests: &[CDest]) -> Result<Option<usize>, ParseError> {
    if s == "none" {
        return Ok(None);
    }
    if let Ok(i) = s.parse::<usize>() {
        if i >= dests.len() {
            return err(line, format!("destination index {i} out of range"));
        }
        return Ok(Some(i));
    }
    let Ok(sa) = s.parse::<SocketAddr>() else {
        return err(
            line,
            format!("expected none, an index or addr:port, not {s:?}"),
        );
    };
    let raw = raw_ip(sa.ip());
    let mut hits = dests
        .iter()
        .enumerate()
        .filter(|(_, d)| d.addr == raw && u16::from_be(d.port_be) == sa.port());
    match (hits.next(), hits.next()) {
        (Some((i, _)), None) => Ok(Some(i)),
        (None, _) => err(line, format!("no destination {s}")),
        (Some(_), Some(_)) => err(line, format!("destination {s} is listed twice")),
    }
}

/// The destination chosen for one probe, as an index into the fixture's
/// list, by each implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The Rust core's choice.
    pub rust: Option<usize>,
    /// The C model's choice.
    pub c: Option<usize>,
}

/// A fixture's service built by both: the core's table and the C model's,
/// from the destinations in table order (the canonical one with `flag-3`).
struct Both {
    /// `order[i]`: the fixture's index of the i-th destination as built.
    order: Vec<usize>,
    /// The core's view of each destination, in the fixture's order.
    core: Vec<Dest>,
    /// The destinations as the C model has them, in table order.
    cdests: Vec<CDest>,
    table: OwnedTable<u16>,
    model: Model,
}

fn build_both(f: &Fixture) -> Result<Both, String> {
    let size = TableSize::new(f.index).map_err(|e| format!("index {}: {e}", f.index))?;
    let core: Vec<Dest> = f
        .dests
        .iter()
        .map(|d| Dest {
            addr: Addr::from_nf_inet_addr(f.family, &d.addr),
            port: u16::from_be(d.port_be),
            last_weight: d.last_weight,
        })
        .collect();
    // The core puts them in table order.
    let mut order: Vec<usize> = (0..core.len()).collect();
    let table = OwnedTable::build_from(size, f.flags.canonical, &mut order, |&i| core[i])
        .map_err(|e| format!("Rust build: {e}"))?;
    let cdests: Vec<CDest> = order.iter().map(|&i| f.dests[i]).collect();
    let mut model = Model::new(f.index, f.family == Family::Inet6).ok_or("C model")?;
    let rc = model.build(cdests.clone());
    if rc != 0 {
        return Err(format!("C model build: {rc}"));
    }
    Ok(Both {
        order,
        core,
        cdests,
        table,
        model,
    })
}

/// Scheduling decisions for every probe of `f`.
///
/// With `flag-3` both build from the canonical order and the answers are
/// mapped back to the fixture's list.
pub fn decide(f: &Fixture) -> Result<Vec<Decision>, String> {
    let b = build_both(f)?;
    let avail = CAvail(&b.cdests);
    let back = |i: Option<usize>| i.and_then(|i| b.order.get(i).copied());
    Ok(f.probes
        .iter()
        .map(|p| {
            let port = if f.flags.port { p.port } else { 0 };
            let addr = Addr::from_nf_inet_addr(f.family, &p.addr);
            let rust = b.table.lookup(&addr, port, f.flags.fallback, &avail);
            let c = b.model.lookup(&p.addr, port, f.flags.fallback);
            Decision {
                rust: back(rust),
                c: back(c),
            }
        })
        .collect())
}

/// The digest (`maglev::table_digest`) of the table the C model builds for
/// the fixture's service: the whole table of an independent implementation
/// of the C scheduler, to compare with a director's digest. With `flag-3`
/// the model builds from the canonical order, as the module does.
pub fn c_digest(f: &Fixture) -> Result<u64, String> {
    let b = build_both(f)?;
    let slots: Vec<u32> = b
        .model
        .slots()
        .iter()
        .map(|&s| u32::try_from(s).unwrap_or(u32::MAX))
        .collect();
    let built: Vec<Dest> = b.order.iter().map(|&i| b.core[i]).collect();
    Ok(table_digest(b.table.size, &built, &slots))
}
