// SPDX-License-Identifier: GPL-2.0

//! The command line: clap parses it with the grammar of [`crate::cli`], and
//! this module checks the values and says what is asked for. Every error is
//! one line ([`UsageError`]), clap's own ones included.

use crate::cli::{self, Cli};
use crate::service::{
    family_name, family_of, parse_family, parse_file, parse_index, parse_port, parse_weight,
    DestSpec, Flags, Service, ServiceSpec,
};
use crate::view::{parse_view, select, ViewService};
use crate::UsageError;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use std::net::IpAddr;

/// What the command line asks for.
#[derive(Clone, Debug)]
pub enum Invocation {
    /// Print this text (help, or the version).
    Text(String),
    /// `summary`, with the digest the kernel reported when the service
    /// came from a `--view`.
    Summary(Service, Option<u64>, Format),
    /// `lookup` with its clients.
    Lookup(Service, Vec<Client>, Format),
    /// `plan` with its changes.
    Plan(Service, Plan),
    /// `compare` of two directors' services.
    Compare(Box<[Director; 2]>, Sampling, Format),
    /// `view`: every service of a director's view.
    View(View, Format),
    /// `metrics` of a director's view.
    Metrics(View),
}

/// How a report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Text,
    /// JSON (the schema: README.md).
    Json,
}

impl From<&cli::Output> for Format {
    fn from(o: &cli::Output) -> Self {
        if o.json {
            Format::Json
        } else {
            Format::Text
        }
    }
}

/// A director's whole view: the file, and its services that have a table.
#[derive(Clone, Debug)]
pub struct View {
    /// The view file.
    pub file: String,
    /// Its services, in the view's order.
    pub services: Vec<ViewService>,
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

fn err<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// The commands, as the errors list them.
const COMMANDS: &str = "summary, lookup, plan, compare, view or metrics";

/// Parses the arguments (without the program name).
pub fn parse(argv: &[String]) -> Result<Invocation, UsageError> {
    let args = std::iter::once("mh-tool").chain(argv.iter().map(String::as_str));
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return clap_outcome(&e, argv),
    };
    let parsed = Cli::from_arg_matches(&matches).map_err(|e| one_line(&e, argv))?;
    let sub = |name: &str| matches.subcommand_matches(name);
    match parsed.command {
        cli::Command::Summary { service, output } => {
            let (svc, digest) = service_of(&service)?;
            Ok(Invocation::Summary(svc, digest, Format::from(&output)))
        }
        cli::Command::Lookup {
            service,
            clients,
            output,
        } => {
            let (svc, _) = service_of(&service)?;
            if clients.is_empty() {
                return err("lookup needs at least one --client ADDR[:PORT]");
            }
            let clients = clients
                .iter()
                .map(|c| parse_client(c, &svc))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Invocation::Lookup(svc, clients, Format::from(&output)))
        }
        cli::Command::Plan {
            service,
            changes: _,
            sampling,
        } => {
            let (svc, _) = service_of(&service)?;
            let changes = sub("plan").map_or_else(|| Ok(Vec::new()), changes_in_order)?;
            if changes.is_empty() {
                return err("plan needs at least one --add, --remove or --reweight");
            }
            let sampling = sampling_of(&sampling)?;
            Ok(Invocation::Plan(svc, Plan { changes, sampling }))
        }
        cli::Command::Compare {
            views,
            services,
            sampling,
            output,
        } => {
            let [a, b] = &views[..] else {
                return err("compare needs two --view FILE, one per director");
            };
            // One --service for both views, or one for each.
            let (la, lb) = match &services[..] {
                [] => (None, None),
                [l] => (Some(l.as_str()), Some(l.as_str())),
                [l, m] => (Some(l.as_str()), Some(m.as_str())),
                _ => return err("compare takes one --service, or one per --view"),
            };
            let directors = [read_director(a, la)?, read_director(b, lb)?];
            let sampling = sampling_of(&sampling)?;
            Ok(Invocation::Compare(
                Box::new(directors),
                sampling,
                Format::from(&output),
            ))
        }
        cli::Command::View { view, output } => {
            Ok(Invocation::View(read_view(&view)?, Format::from(&output)))
        }
        cli::Command::Metrics { view } => Ok(Invocation::Metrics(read_view(&view)?)),
    }
}

/// What clap's error means: help or the version to print, or a usage
/// error in one line.
fn clap_outcome(e: &clap::Error, argv: &[String]) -> Result<Invocation, UsageError> {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            Ok(Invocation::Text(e.render().to_string()))
        }
        _ => Err(one_line(e, argv)),
    }
}

/// A clap error in one line, in the words of this tool's other errors.
fn one_line(e: &clap::Error, argv: &[String]) -> UsageError {
    let context = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    // The option as the user wrote it: "--index <N>" is shown as "--index".
    let option =
        || context(ContextKind::InvalidArg).map(|a| a.split(' ').next().unwrap_or("").to_string());
    let command = argv.iter().find(|a| !a.starts_with('-'));
    let msg = match (e.kind(), option()) {
        (ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand, _) => {
            format!("missing command: {COMMANDS} (mh-tool --help for help)")
        }
        (ErrorKind::InvalidSubcommand, _) => format!(
            "unknown command '{}' (expected {COMMANDS})",
            context(ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        (ErrorKind::UnknownArgument, Some(arg)) => {
            let what = if arg.starts_with('-') {
                "unknown option"
            } else {
                "unexpected argument"
            };
            // Where the argument is (as `--name` or `--name=VALUE`).
            let at = argv.iter().position(|a| {
                *a == arg
                    || a.strip_prefix(arg.as_str())
                        .is_some_and(|r| r.starts_with('='))
            });
            match command {
                Some(cmd) if argv.iter().position(|a| a == cmd) < at => {
                    format!("{what} '{arg}' for {cmd} (mh-tool {cmd} --help for help)")
                }
                _ => format!("{what} '{arg}' before the command (mh-tool --help for help)"),
            }
        }
        (ErrorKind::ArgumentConflict, Some(arg)) => format!("option {arg} given twice"),
        (ErrorKind::InvalidValue | ErrorKind::NoEquals, Some(arg)) => {
            format!("option {arg} needs a value")
        }
        _ => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("bad command line");
            format!(
                "{} (mh-tool --help for help)",
                first.strip_prefix("error: ").unwrap_or(first)
            )
        }
    };
    UsageError(msg)
}

/// `plan`'s `--add`, `--remove` and `--reweight`, checked, in the order
/// given across the three.
fn changes_in_order(m: &ArgMatches) -> Result<Vec<(String, Change)>, UsageError> {
    let mut given: Vec<(usize, &str, &String)> = Vec::new();
    for name in ["add", "remove", "reweight"] {
        if let (Some(values), Some(at)) = (m.get_many::<String>(name), m.indices_of(name)) {
            given.extend(at.zip(values).map(|(i, v)| (i, name, v)));
        }
    }
    given.sort_by_key(|&(i, _, _)| i);
    given
        .into_iter()
        .map(|(_, name, value)| {
            let at = format!("--{name} {value}");
            let bad = |msg: String| UsageError(format!("{at}: {msg}"));
            let change = match name {
                "add" => {
                    let (ip, port, w) = parse_addr_port_weight(value, false).map_err(bad)?;
                    let weight = w.unwrap_or(1);
                    Change::Add(DestSpec {
                        ip,
                        port,
                        weight,
                        last_weight: weight,
                        overload: false,
                    })
                }
                "remove" => {
                    let (ip, port) = parse_addr_port(value).map_err(bad)?;
                    Change::Remove(ip, port)
                }
                _ => {
                    let (ip, port, w) = parse_addr_port_weight(value, true).map_err(bad)?;
                    Change::Reweight(ip, port, w.unwrap_or(0))
                }
            };
            Ok((at, change))
        })
        .collect()
}

/// `--sample` and `--seed`, checked.
fn sampling_of(s: &cli::SamplingArgs) -> Result<Sampling, UsageError> {
    let sample = match &s.sample {
        None => DEFAULT_SAMPLE,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|&n| n <= MAX_SAMPLE)
            .ok_or_else(|| {
                UsageError(format!(
                    "--sample {v}: bad sample size (expected 0 to {MAX_SAMPLE})"
                ))
            })?,
    };
    let seed = match &s.seed {
        None => 1,
        Some(v) => parse_u64(v).ok_or_else(|| {
            UsageError(format!("--seed {v}: bad seed (expected a 64-bit number)"))
        })?,
    };
    Ok(Sampling { sample, seed })
}

/// The service the options describe, with the kernel's digest when it
/// came from a `--view`.
fn service_of(a: &cli::ServiceArgs) -> Result<(Service, Option<u64>), UsageError> {
    let mut spec = ServiceSpec::default();
    let at = |name: &str, value: &str| format!("--{name} {value}");
    if let Some(v) = &a.index {
        spec.size =
            Some(parse_index(v).map_err(|e| UsageError(format!("{}: {e}", at("index", v))))?);
    }
    if let Some(v) = &a.family {
        spec.family =
            Some(parse_family(v).map_err(|e| UsageError(format!("{}: {e}", at("af", v))))?);
    }
    if let Some(v) = &a.flags {
        spec.flags =
            Some(Flags::parse(v).map_err(|e| UsageError(format!("{}: {e}", at("flags", v))))?);
    }
    for v in &a.dests {
        let at = at("dest", v);
        let d = parse_dest(v).map_err(|e| UsageError(format!("{at}: {e}")))?;
        spec.push_dest(d, &at)?;
    }
    match &a.view {
        None => {
            if a.service.is_some() {
                return err("--service picks a service of a --view");
            }
            Ok((spec_service(spec, a.file.as_deref())?, None))
        }
        Some(view) => {
            if a.file.is_some() || spec != ServiceSpec::default() {
                return err("--view gives the whole service: no --dest, --file, --index, --af or --flags with it");
            }
            let d = read_director(view, a.service.as_deref())?;
            Ok((d.view.service, Some(d.view.digest)))
        }
    }
}

/// The service of `--dest`s or a `--file` (whose lines the command line's
/// options override).
fn spec_service(cli: ServiceSpec, file: Option<&str>) -> Result<Service, UsageError> {
    let context = match &file {
        Some(path) => format!("--file {path}: "),
        None => "--dest: ".to_string(),
    };
    let spec = match file {
        Some(path) => {
            if !cli.dests.is_empty() {
                return err("--dest and --file cannot be combined");
            }
            let text = std::fs::read_to_string(path)
                .map_err(|e| UsageError(format!("--file {path}: cannot read: {e}")))?;
            cli.or(parse_file(path, &text)?)
        }
        None => cli,
    };
    spec.finish(&context)
}

/// The services of the view in `file`.
fn read_view(file: &str) -> Result<View, UsageError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| UsageError(format!("--view {file}: cannot read: {e}")))?;
    Ok(View {
        file: file.to_string(),
        services: parse_view(file, &text)?,
    })
}

/// The service `label` (or the only one) of the view in `file`.
fn read_director(file: &str, label: Option<&str>) -> Result<Director, UsageError> {
    let v = read_view(file)?;
    let view = select(file, &v.services, label)?.clone();
    Ok(Director { file: v.file, view })
}

/// Default number of sampled flows of `plan`.
pub const DEFAULT_SAMPLE: u32 = 10_000;
/// Largest `--sample`.
pub const MAX_SAMPLE: u32 = 10_000_000;

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
