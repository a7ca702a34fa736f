// SPDX-License-Identifier: GPL-2.0

//! Table sizes chosen per service by name, in the text of the module
//! parameter `service_tab_index`: for clients that can only name `mh`
//! (keepalived), the module gives the services listed there their own size.
//!
//! The text is a list of entries separated by commas or blanks, each
//! `SERVICE=INDEX`, where SERVICE is `tcp:ADDR:PORT`, `udp:...` or
//! `sctp:...` (an IPv6 address in brackets) or `fwm:MARK`, and INDEX is a
//! table index as `tab_index` takes it (8 to 17):
//!
//! ```text
//! tcp:10.0.0.1:80=16,udp:[2001:db8::53]:53=9,fwm:7=10
//! ```
//!
//! Parsing allocates nothing: [`size_entries`] yields the entries one by
//! one, and the caller keeps them.

use super::{
    Addr,
    TableSize, //
};
use core::{
    fmt,
    net::{
        IpAddr,
        SocketAddr, //
    },
};

/// A transport protocol IPVS balances, by its name in an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `tcp` (IPPROTO_TCP, 6).
    Tcp,
    /// `udp` (IPPROTO_UDP, 17).
    Udp,
    /// `sctp` (IPPROTO_SCTP, 132).
    Sctp,
}

impl Protocol {
    /// The IP protocol number, as IPVS keeps it in a service.
    pub const fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// A virtual service as an entry names it: as IPVS identifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceKey {
    /// A service on a protocol, virtual address and port.
    Addr {
        /// Its protocol.
        protocol: Protocol,
        /// Its virtual address (its family is the service's).
        addr: Addr,
        /// Its virtual port, in host order.
        port: u16,
    },
    /// A firewall-mark service (`ipvsadm -f MARK`).
    Fwmark(u32),
}

impl ServiceKey {
    /// Whether this names the service of `protocol` (its number), `addr`,
    /// `port` and `fwmark` (0 for a service that is not a fwmark one), as
    /// IPVS keeps them.
    pub fn names(&self, protocol: u16, addr: &Addr, port: u16, fwmark: u32) -> bool {
        match *self {
            ServiceKey::Fwmark(mark) => fwmark != 0 && mark == fwmark,
            ServiceKey::Addr {
                protocol: p,
                addr: a,
                port: pt,
            } => fwmark == 0 && p.number() == protocol && a == *addr && pt == port,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ServiceKey::Fwmark(mark) => write!(f, "fwm:{mark}"),
            ServiceKey::Addr {
                protocol,
                addr,
                port,
            } => {
                let ip = match addr {
                    Addr::V4(a) => IpAddr::from(a),
                    Addr::V6(a) => IpAddr::from(a),
                };
                write!(f, "{}:{}", protocol.name(), SocketAddr::new(ip, port))
            }
        }
    }
}

/// One entry: a service and the table size it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeEntry {
    /// The service.
    pub service: ServiceKey,
    /// Its table size.
    pub size: TableSize,
}

/// The entry as it is written (`tcp:10.0.0.1:80=16`): what reading the
/// parameter back shows.
impl fmt::Display for SizeEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.service, self.size.index())
    }
}

/// What is wrong with an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizeEntryProblem {
    /// No `=INDEX`.
    NoIndex,
    /// The index is not a number.
    IndexNotANumber,
    /// The index is a number outside 8 to 17.
    IndexOutOfRange(u32),
    /// The protocol is not `tcp`, `udp`, `sctp` or `fwm`.
    UnknownProtocol,
    /// The address and port do not read as `ADDR:PORT` or `[ADDR6]:PORT`.
    BadAddress,
    /// The firewall mark is not a number from 1 to 4294967295.
    BadFwmark,
    /// The same service was named before in the list.
    Repeated,
}

/// An entry the parameter refuses, by its place in the list (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeEntryError {
    /// The entry's place in the list, from 1.
    pub entry: usize,
    /// What is wrong with it.
    pub problem: SizeEntryProblem,
}

impl fmt::Display for SizeEntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: ", self.entry)?;
        match self.problem {
            SizeEntryProblem::NoIndex => f.write_str("no '=INDEX' after the service"),
            SizeEntryProblem::IndexNotANumber => f.write_str("the index is not a number"),
            SizeEntryProblem::IndexOutOfRange(index) => write!(
                f,
                "index {index} is out of range: it must be {} to {}",
                TableSize::MIN_INDEX,
                TableSize::MAX_INDEX
            ),
            SizeEntryProblem::UnknownProtocol => {
                f.write_str("the service must start with tcp:, udp:, sctp: or fwm:")
            }
            SizeEntryProblem::BadAddress => {
                f.write_str("the service's address and port must read ADDR:PORT or [ADDR6]:PORT")
            }
            SizeEntryProblem::BadFwmark => f.write_str("the firewall mark must be 1 to 4294967295"),
            SizeEntryProblem::Repeated => f.write_str("the service is named twice"),
        }
    }
}

/// The entries of `text` in order, each parsed or refused; a caller that
/// keeps them reports an entry that names a service again with
/// [`SizeEntryProblem::Repeated`] (see [`SizeEntryError`]).
pub fn size_entries(text: &str) -> impl Iterator<Item = Result<SizeEntry, SizeEntryError>> + '_ {
    text.split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|entry| !entry.is_empty())
        .enumerate()
        .map(|(n, entry)| {
            parse_entry(entry).map_err(|problem| SizeEntryError {
                entry: n.wrapping_add(1),
                problem,
            })
        })
}

fn parse_entry(entry: &str) -> Result<SizeEntry, SizeEntryProblem> {
    let (service, index) = entry.rsplit_once('=').ok_or(SizeEntryProblem::NoIndex)?;
    let index: u32 = index
        .parse()
        .map_err(|_| SizeEntryProblem::IndexNotANumber)?;
    let size = TableSize::new(index).map_err(|_| SizeEntryProblem::IndexOutOfRange(index))?;
    let (protocol, rest) = service
        .split_once(':')
        .ok_or(SizeEntryProblem::UnknownProtocol)?;
    let service = if protocol.eq_ignore_ascii_case("fwm") {
        match rest.parse::<u32>() {
            Ok(mark) if mark != 0 => ServiceKey::Fwmark(mark),
            _ => return Err(SizeEntryProblem::BadFwmark),
        }
    } else {
        let protocol = Protocol::parse(protocol).ok_or(SizeEntryProblem::UnknownProtocol)?;
        let at: SocketAddr = rest.parse().map_err(|_| SizeEntryProblem::BadAddress)?;
        let addr = match at.ip() {
            IpAddr::V4(a) => Addr::V4(a.octets()),
            IpAddr::V6(a) => Addr::V6(a.octets()),
        };
        ServiceKey::Addr {
            protocol,
            addr,
            port: at.port(),
        }
    };
    Ok(SizeEntry { service, size })
}
