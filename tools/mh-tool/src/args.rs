// SPDX-License-Identifier: GPL-2.0

//! The command line, parsed by hand: `mh-tool COMMAND [OPTIONS]`, options
//! as `--name VALUE` or `--name=VALUE`.

use crate::service::{
    family_name, family_of, parse_family, parse_file, parse_index, parse_port, parse_weight,
    DestSpec, Flags, Service, ServiceSpec,
};
use crate::view::{parse_view, select, ViewService};
use crate::UsageError;
use std::net::IpAddr;

/// The help text (`-h`, `--help`, `help`).
pub const HELP: &str = "\
mh-tool: IPVS Maglev (mh) tables offline, exactly as the ip_vs_mh scheduler
builds them: per-destination shares, the table digest, lookups, and what a
change would move.

Usage: mh-tool <COMMAND> [OPTIONS]
       mh-tool summary --dest 10.0.0.1:80 --dest 10.0.0.2:80:2
       mh-tool lookup --file service.mhfx --client 192.0.2.1:40000
       mh-tool plan --file service.mhfx --remove 10.0.0.2:80
       mh-tool compare --view director1.tables --view director2.tables

Commands:
  summary   Table size, flags, order, each destination's turns, slots and
            share, and the table digest
  lookup    The real server each client is scheduled to
  plan      Apply changes to a copy of the service: share of slots and of
            sampled client flows that would move, old and new digests
  compare   Two directors' tables (their --view): equal digests, or which
            servers differ in order or weight, and the share of slots and
            of sampled client flows that change server on a failover
            between them
  help      Print this help

Service options (every command):
  --dest ADDR:PORT[:WEIGHT[:LAST_WEIGHT]]
                    A real server; repeat for each one, in the service's list
                    order: newest first, as IPVS keeps them and
                    `ipvsadm -Ln --nosort` prints them. IPv6 as [ADDR]:PORT.
                    WEIGHT defaults to 1; LAST_WEIGHT (the last non-zero
                    weight, which shapes the table) to WEIGHT
  --file FILE       Read the service from FILE instead of --dest: lines
                    `index N`, `af inet|inet6`, `flags LIST` and
                    `dest ADDR PORT WEIGHT LAST_WEIGHT OVERLOAD` (the
                    userspace-tests fixture format); options given on the
                    command line override the file's
  --index N         Table size index, 8 to 17 (CONFIG_IP_VS_MH_TAB_INDEX or
                    the module's tab_index) [default: 12, 4093 slots]
  --af inet|inet6   The service's family [default: the first destination's]
  --flags LIST      Comma-separated scheduler flags: mh-port, mh-fallback,
                    flag-3 (order-independent table), or none [default: none]
  --view FILE       Read the service from a director's live state instead:
                    FILE is /sys/kernel/debug/ip_vs_mh/tables there, or a
                    saved copy of it (last weights and the order the table
                    was built in included; summary also checks the kernel's
                    digest). compare takes two
  --service LABEL   The service of a --view, as the view names it
                    ('TCP 10.0.0.100:80', with 'netns N' when several
                    namespaces have it); needed when a view holds several.
                    compare takes one for both views or one per view

lookup options:
  --client ADDR[:PORT]
                    A client's source address and port (IPv6 as
                    [ADDR]:PORT); repeat. The port is hashed only with
                    mh-port. Weight 0 or overload makes a server unavailable

plan and compare options:
  --sample N        Random client flows to sample [default: 10000]
  --seed S          Seed of the sample [default: 1]

plan options (changes are applied in the order given):
  --add ADDR:PORT[:WEIGHT]      Add a real server at the list head, as IPVS
                                does [default weight: 1]
  --remove ADDR:PORT            Remove a real server
  --reweight ADDR:PORT:WEIGHT   Set a weight; 0 keeps the last weight (and
                                so the table), as IPVS does

Other options:
  -h, --help        Print this help
  -V, --version     Print the version

Exit status: 0 on success, 2 on a usage or input error (one line on stderr).
";

/// What the command line asks for.
#[derive(Clone, Debug)]
pub enum Invocation {
    /// Print this text.
    Help(String),
    /// Print the version.
    Version,
    /// `summary`, with the digest the kernel reported when the service
    /// came from a `--view`.
    Summary(Service, Option<u64>),
    /// `lookup` with its clients.
    Lookup(Service, Vec<Client>),
    /// `plan` with its changes.
    Plan(Service, Plan),
    /// `compare` of two directors' services.
    Compare(Box<[Director; 2]>, Sampling),
}

/// One side of a `compare`: a service read from a director's view.
#[derive(Clone, Debug)]
pub struct Director {
    /// The view file, for the report.
    pub file: String,
    /// The service and the kernel's digest.
    pub view: ViewService,
}

/// How many client flows to sample, and from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sampling {
    /// Client flows to sample.
    pub sample: u32,
    /// Seed of the sample.
    pub seed: u64,
}

/// A client to look up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// Source address.
    pub ip: IpAddr,
    /// Source port (0 when not given).
    pub port: u16,
    /// As given on the command line.
    pub text: String,
}

/// A change to the destination list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Add a destination at the list head.
    Add(DestSpec),
    /// Remove the destination at this address and port.
    Remove(IpAddr, u16),
    /// Set the weight of the destination at this address and port.
    Reweight(IpAddr, u16, i32),
}

/// The changes of a `plan` and how to sample flows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Changes in the order given, each with its option as typed
    /// (`--add 10.0.0.1:80:2`), for messages.
    pub changes: Vec<(String, Change)>,
    /// The flow sample.
    pub sampling: Sampling,
}

/// The subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Summary,
    Lookup,
    Plan,
    Compare,
}

fn err<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// Parses the arguments (without the program name).
pub fn parse(argv: &[String]) -> Result<Invocation, UsageError> {
    let Some(first) = argv.first() else {
        return err("missing command: summary, lookup, plan or compare (mh-tool --help for help)");
    };
    let cmd = match first.as_str() {
        "-h" | "--help" | "help" => return Ok(Invocation::Help(HELP.to_string())),
        "-V" | "--version" => return Ok(Invocation::Version),
        "summary" => Command::Summary,
        "lookup" => Command::Lookup,
        "plan" => Command::Plan,
        "compare" => Command::Compare,
        s if s.starts_with('-') => {
            return err(format!(
                "unknown option '{s}' before the command (mh-tool --help for help)"
            ))
        }
        s => {
            return err(format!(
                "unknown command '{s}' (expected summary, lookup, plan or compare)"
            ))
        }
    };

    let mut cli = ServiceSpec::default();
    let mut file: Option<String> = None;
    let mut clients: Vec<String> = Vec::new();
    let mut changes: Vec<(String, Change)> = Vec::new();
    let mut sample: Option<u32> = None;
    let mut seed: Option<u64> = None;
    let mut views: Vec<String> = Vec::new();
    let mut labels: Vec<String> = Vec::new();

    let mut rest = argv[1..].iter();
    while let Some(arg) = rest.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Invocation::Help(HELP.to_string()));
        }
        if arg == "-V" || arg == "--version" {
            return Ok(Invocation::Version);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let known = match name {
            "--index" | "--af" | "--flags" | "--dest" | "--file" => cmd != Command::Compare,
            "--view" | "--service" => true,
            "--client" => cmd == Command::Lookup,
            "--add" | "--remove" | "--reweight" => cmd == Command::Plan,
            "--sample" | "--seed" => matches!(cmd, Command::Plan | Command::Compare),
            _ => false,
        };
        if !known {
            let what = if name.starts_with('-') {
                "unknown option"
            } else {
                "unexpected argument"
            };
            return err(format!(
                "{what} '{arg}' for {} (mh-tool --help for help)",
                cmd_name(cmd)
            ));
        }
        let value = match inline {
            Some(v) => v,
            None => match rest.next() {
                Some(v) => v.clone(),
                None => return err(format!("option {name} needs a value")),
            },
        };
        let at = format!("{name} {value}");
        let bad = |msg: String| UsageError(format!("{at}: {msg}"));
        match name {
            "--index" => set_once(&mut cli.size, parse_index(&value).map_err(bad)?, name)?,
            "--af" => set_once(&mut cli.family, parse_family(&value).map_err(bad)?, name)?,
            "--flags" => set_once(
                &mut cli.flags,
                Flags::parse(&value).map_err(|e| bad(e.to_string()))?,
                name,
            )?,
            "--dest" => {
                let d = parse_dest(&value).map_err(bad)?;
                cli.push_dest(d, &at)?;
            }
            "--file" => set_once(&mut file, value, name)?,
            "--view" => views.push(value),
            "--service" => labels.push(value),
            "--client" => clients.push(value),
            "--add" => {
                let (ip, port, w) = parse_addr_port_weight(&value, false).map_err(bad)?;
                let weight = w.unwrap_or(1);
                let d = DestSpec {
                    ip,
                    port,
                    weight,
                    last_weight: weight,
                    overload: false,
                };
                changes.push((at.clone(), Change::Add(d)));
            }
            "--remove" => {
                let (ip, port) = parse_addr_port(&value).map_err(bad)?;
                changes.push((at.clone(), Change::Remove(ip, port)));
            }
            "--reweight" => {
                let (ip, port, w) = parse_addr_port_weight(&value, true).map_err(bad)?;
                changes.push((at.clone(), Change::Reweight(ip, port, w.unwrap_or(0))));
            }
            "--sample" => {
                let n = value
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| n <= MAX_SAMPLE)
                    .ok_or_else(|| bad(format!("bad sample size (expected 0 to {MAX_SAMPLE})")))?;
                set_once(&mut sample, n, name)?;
            }
            "--seed" => {
                let s = parse_u64(&value)
                    .ok_or_else(|| bad("bad seed (expected a 64-bit number)".to_string()))?;
                set_once(&mut seed, s, name)?;
            }
            _ => unreachable!("every known option is handled"),
        }
    }

    let sampling = Sampling {
        sample: sample.unwrap_or(DEFAULT_SAMPLE),
        seed: seed.unwrap_or(1),
    };
    if cmd == Command::Compare {
        let [a, b] = &views[..] else {
            return err("compare needs two --view FILE, one per director");
        };
        // One --service for both views, or one for each.
        let (la, lb) = match &labels[..] {
            [] => (None, None),
            [l] => (Some(l.as_str()), Some(l.as_str())),
            [l, m] => (Some(l.as_str()), Some(m.as_str())),
            _ => return err("compare takes one --service, or one per --view"),
        };
        let a = read_view(a, la)?;
        let b = read_view(b, lb)?;
        return Ok(Invocation::Compare(Box::new([a, b]), sampling));
    }
    let label = match &labels[..] {
        [] => None,
        [l] => Some(l.as_str()),
        _ => return err("option --service given twice"),
    };
    let (svc, kernel_digest) = match &views[..] {
        [] => {
            if label.is_some() {
                return err("--service picks a service of a --view");
            }
            (service_of(cli, file)?, None)
        }
        [view] => {
            if file.is_some() || cli != ServiceSpec::default() {
                return err("--view gives the whole service: no --dest, --file, --index, --af or --flags with it");
            }
            let d = read_view(view, label)?;
            (d.view.service, Some(d.view.digest))
        }
        _ => {
            return err(format!(
                "{} takes one --view (compare takes two)",
                cmd_name(cmd)
            ))
        }
    };

    match cmd {
        Command::Summary => Ok(Invocation::Summary(svc, kernel_digest)),
        Command::Lookup => {
            if clients.is_empty() {
                return err("lookup needs at least one --client ADDR[:PORT]");
            }
            let clients = clients
                .iter()
                .map(|c| parse_client(c, &svc))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Invocation::Lookup(svc, clients))
        }
        Command::Plan => {
            if changes.is_empty() {
                return err("plan needs at least one --add, --remove or --reweight");
            }
            Ok(Invocation::Plan(svc, Plan { changes, sampling }))
        }
        Command::Compare => unreachable!("handled above"),
    }
}

/// The service of `--dest`s or a `--file` (whose lines the command line's
/// options override).
fn service_of(cli: ServiceSpec, file: Option<String>) -> Result<Service, UsageError> {
    let context = match &file {
        Some(path) => format!("--file {path}: "),
        None => "--dest: ".to_string(),
    };
    let spec = match file {
        Some(path) => {
            if !cli.dests.is_empty() {
                return err("--dest and --file cannot be combined");
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| UsageError(format!("--file {path}: cannot read: {e}")))?;
            cli.or(parse_file(&path, &text)?)
        }
        None => cli,
    };
    spec.finish(&context)
}

/// The service `label` (or the only one) of the view in `file`.
fn read_view(file: &str, label: Option<&str>) -> Result<Director, UsageError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| UsageError(format!("--view {file}: cannot read: {e}")))?;
    let services = parse_view(file, &text)?;
    let view = select(file, &services, label)?.clone();
    Ok(Director {
        file: file.to_string(),
        view,
    })
}

/// Default number of sampled flows of `plan`.
pub const DEFAULT_SAMPLE: u32 = 10_000;
/// Largest `--sample`.
pub const MAX_SAMPLE: u32 = 10_000_000;

fn cmd_name(cmd: Command) -> &'static str {
    match cmd {
        Command::Summary => "summary",
        Command::Lookup => "lookup",
        Command::Plan => "plan",
        Command::Compare => "compare",
    }
}

/// Sets an option that may be given once.
fn set_once<T>(slot: &mut Option<T>, value: T, name: &str) -> Result<(), UsageError> {
    if slot.is_some() {
        return err(format!("option {name} given twice"));
    }
    *slot = Some(value);
    Ok(())
}

/// A decimal or `0x` hexadecimal `u64`.
fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Splits `ADDR`, `ADDR:REST`, `[ADDR6]` or `[ADDR6]:REST` into the
/// address and what follows its colon.
fn split_addr(s: &str) -> Result<(IpAddr, Option<&str>), String> {
    if let Some(inner) = s.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else {
            return Err(format!("missing ']' in '{s}'"));
        };
        let ip = addr
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("bad IPv6 address '{addr}'"))?;
        return match after {
            "" => Ok((IpAddr::V6(ip), None)),
            _ => match after.strip_prefix(':') {
                Some(rest) => Ok((IpAddr::V6(ip), Some(rest))),
                None => Err(format!("expected ':' after ']' in '{s}'")),
            },
        };
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok((ip, None));
    }
    match s.split_once(':') {
        Some((addr, rest)) => match addr.parse::<std::net::Ipv4Addr>() {
            Ok(ip) => Ok((IpAddr::V4(ip), Some(rest))),
            // Colons in what follows: most likely IPv6 without brackets.
            Err(_) if rest.contains(':') && !addr.contains('.') => Err(format!(
                "bad address in '{s}' (IPv6 with a port needs brackets: [ADDR]:PORT)"
            )),
            Err(_) => Err(format!("bad address '{addr}'")),
        },
        None => Err(format!("bad address '{s}'")),
    }
}

/// `ADDR:PORT[:WEIGHT[:LAST_WEIGHT]]`, as `--dest` takes it.
pub fn parse_dest(s: &str) -> Result<DestSpec, String> {
    let (ip, rest) = split_addr(s)?;
    let Some(rest) = rest else {
        return Err(
            "missing port (expected ADDR:PORT[:WEIGHT[:LAST_WEIGHT]], IPv6 as [ADDR]:PORT)"
                .to_string(),
        );
    };
    let fields: Vec<&str> = rest.split(':').collect();
    if fields.len() > 3 {
        return Err("too many fields (expected ADDR:PORT[:WEIGHT[:LAST_WEIGHT]])".to_string());
    }
    let port = parse_port(fields[0])?;
    let weight = match fields.get(1) {
        Some(w) => parse_weight("weight", w)?,
        None => 1,
    };
    let last_weight = match fields.get(2) {
        Some(w) => parse_weight("last weight", w)?,
        None => weight,
    };
    Ok(DestSpec {
        ip,
        port,
        weight,
        last_weight,
        overload: false,
    })
}

/// `ADDR:PORT` (IPv6 as `[ADDR]:PORT`), as ipvsadm and the kernel's view
/// print an endpoint.
pub fn parse_addr_port(s: &str) -> Result<(IpAddr, u16), String> {
    let (ip, rest) = split_addr(s)?;
    match rest {
        None => Err("missing port (expected ADDR:PORT, IPv6 as [ADDR]:PORT)".to_string()),
        Some(p) if p.contains(':') => {
            Err("too many fields (expected ADDR:PORT, IPv6 as [ADDR]:PORT)".to_string())
        }
        Some(p) => Ok((ip, parse_port(p)?)),
    }
}

/// `ADDR:PORT:WEIGHT`, the weight optional unless `required`.
fn parse_addr_port_weight(s: &str, required: bool) -> Result<(IpAddr, u16, Option<i32>), String> {
    let (ip, rest) = split_addr(s)?;
    let form = if required {
        "ADDR:PORT:WEIGHT"
    } else {
        "ADDR:PORT[:WEIGHT]"
    };
    let Some(rest) = rest else {
        return Err(format!("missing port (expected {form})"));
    };
    let fields: Vec<&str> = rest.split(':').collect();
    match fields[..] {
        [p] if !required => Ok((ip, parse_port(p)?, None)),
        [p, w] => Ok((ip, parse_port(p)?, Some(parse_weight("weight", w)?))),
        [_] => Err(format!("missing weight (expected {form})")),
        _ => Err(format!("too many fields (expected {form})")),
    }
}

/// `ADDR[:PORT]` of a client of `svc`.
fn parse_client(s: &str, svc: &Service) -> Result<Client, UsageError> {
    let bad = |msg: String| UsageError(format!("--client {s}: {msg}"));
    let (ip, rest) = split_addr(s).map_err(bad)?;
    let port = match rest {
        None => 0,
        Some(p) if p.contains(':') => {
            return Err(bad(
                "too many fields (expected ADDR[:PORT], IPv6 as [ADDR]:PORT)".to_string(),
            ))
        }
        Some(p) => parse_port(p).map_err(bad)?,
    };
    if family_of(ip) != svc.family {
        return Err(bad(format!(
            "an {} client, but the service is {}",
            family_name(family_of(ip)),
            family_name(svc.family)
        )));
    }
    Ok(Client {
        ip,
        port,
        text: s.to_string(),
    })
}
