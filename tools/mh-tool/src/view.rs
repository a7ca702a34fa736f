// SPDX-License-Identifier: GPL-2.0

//! A director's live state as the kernel shows it: the module's debugfs
//! view (`/sys/kernel/debug/ip_vs_mh/tables`), read on the director or from
//! a saved copy. It gives what `ipvsadm` does not: each server's last
//! weight, and the order the table was built in.

use crate::args::parse_addr_port;
use crate::maglev::{Family, Flags};
use crate::report::BuildStats;
use crate::service::{parse_index, parse_weight, DestSpec, Service};
use crate::UsageError;

/// One service of a view, with the table in force.
#[derive(Clone, Debug)]
pub struct ViewService {
    /// How the view names it: `TCP 10.0.0.100:80 netns 4026531840`,
    /// `UDP [fd00::1]:53 netns ...`, `FWM 7 netns ...` (the network
    /// namespace's inode number, as `/proc/PID/ns/net` shows it).
    pub label: String,
    /// The scheduler the service is bound to (`mh`, or `mh-8` .. `mh-17`
    /// for a table size of its own); views older than those names have
    /// none.
    pub scheduler: Option<String>,
    /// The service as the table was built: destinations in table order,
    /// with their current and last weights; with the canonical order
    /// (flag-3 or the module parameter `canonical_order`) as `flag-3`.
    pub service: Service,
    /// The digest the kernel reported for its table.
    pub digest: u64,
    /// The order as the view describes it (`list`, `canonical (flag-3)`,
    /// ...).
    pub order: String,
    /// The kernel's build counters (none in views older than them).
    pub builds: Option<BuildStats>,
}

/// The services of a view that have a table, in the view's order.
pub fn parse_view(name: &str, text: &str) -> Result<Vec<ViewService>, UsageError> {
    let mut services: Vec<ViewService> = Vec::new();
    // The service being read: label, flags, then its table's lines.
    let mut current: Option<Partial> = None;
    for (n, line) in text.lines().enumerate() {
        let bad = |msg: String| UsageError(format!("--view {name}: line {}: {msg}", n + 1));
        let Some(line) = line
            .strip_prefix("  ")
            .map(str::trim_end)
            .or_else(|| line.starts_with("service ").then_some(line))
        else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(bad(format!("not a line of the ip_vs_mh view: '{line}'")));
        };
        if let Some(rest) = line.strip_prefix("service ") {
            if let Some(done) = current.take() {
                services.extend(done.finish().map_err(bad)?);
            }
            let (label, flags) = rest
                .rsplit_once(" flags ")
                .ok_or_else(|| bad("service line without flags".to_string()))?;
            let flags = Flags::parse(flags).map_err(|e| bad(e.to_string()))?;
            let (label, scheduler) = match label.rsplit_once(" scheduler ") {
                Some((label, name)) => (label, Some(name)),
                None => (label, None),
            };
            current = Some(Partial::new(label, scheduler, flags));
            continue;
        }
        let Some(svc) = current.as_mut() else {
            return Err(bad("table lines before any service line".to_string()));
        };
        if line == "no table" {
            svc.no_table = true;
        } else if let Some(rest) = line.strip_prefix("table: ") {
            svc.table(rest).map_err(bad)?;
        } else if let Some(rest) = line.strip_prefix("digest: ") {
            let hex = rest.strip_prefix("0x").unwrap_or(rest);
            svc.digest = Some(
                u64::from_str_radix(hex, 16).map_err(|_| bad(format!("bad digest '{rest}'")))?,
            );
        } else if let Some(rest) = line.strip_prefix("dest ") {
            svc.dest(rest).map_err(bad)?;
        } else {
            return Err(bad(format!("unknown line '{line}'")));
        }
    }
    if let Some(done) = current.take() {
        let end = text.lines().count();
        services.extend(
            done.finish()
                .map_err(|msg| UsageError(format!("--view {name}: line {end}: {msg}")))?,
        );
    }
    Ok(services)
}

/// The service of a view named `label`, or its only one.
pub fn select<'a>(
    name: &str,
    services: &'a [ViewService],
    label: Option<&str>,
) -> Result<&'a ViewService, UsageError> {
    let labels = || {
        services
            .iter()
            .map(|s| format!("'{}'", s.label))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match label {
        // The whole label, or without its `netns N` part when only one
        // namespace has that service.
        Some(l) => {
            let mut hits = services
                .iter()
                .filter(|s| s.label == l || s.label.split(" netns ").next() == Some(l));
            match (hits.next(), hits.next()) {
                (Some(one), None) => Ok(one),
                (None, _) => Err(UsageError(format!(
                    "--view {name}: no service '{l}' (it has: {})",
                    labels()
                ))),
                (Some(_), Some(_)) => Err(UsageError(format!(
                    "--view {name}: '{l}' is in several namespaces: name one (one of {})",
                    labels()
                ))),
            }
        }
        None => match services {
            [one] => Ok(one),
            [] => Err(UsageError(format!(
                "--view {name}: no service with a table"
            ))),
            _ => Err(UsageError(format!(
                "--view {name}: several services, pick one with --service (one of {})",
                labels()
            ))),
        },
    }
}

/// A service whose lines are being read.
struct Partial {
    label: String,
    scheduler: Option<String>,
    flags: Flags,
    no_table: bool,
    index: Option<u32>,
    order: Option<String>,
    builds: Option<BuildStats>,
    digest: Option<u64>,
    dests: Vec<DestSpec>,
}

impl Partial {
    fn new(label: &str, scheduler: Option<&str>, flags: Flags) -> Self {
        Partial {
            label: label.to_string(),
            scheduler: scheduler.map(str::to_string),
            flags,
            no_table: false,
            index: None,
            order: None,
            builds: None,
            digest: None,
            dests: Vec::new(),
        }
    }

    /// `4093 slots (index 12), order: list, rebuilds: ...`.
    fn table(&mut self, rest: &str) -> Result<(), String> {
        let index = rest
            .split_once("(index ")
            .and_then(|(_, r)| r.split_once(')'))
            .map(|(i, _)| i)
            .ok_or_else(|| format!("table line without '(index N)': '{rest}'"))?;
        self.index = Some(parse_index(index)?.index());
        let order = rest
            .split_once("order: ")
            .map(|(_, r)| r.split(", rebuilds").next().unwrap_or(r))
            .ok_or_else(|| format!("table line without 'order:': '{rest}'"))?;
        self.order = Some(order.to_string());
        self.builds = build_stats(rest)?;
        Ok(())
    }

    /// `10.0.1.6:53 weight 2 last-weight 2 turns 2 slots 630 share 15.39%`.
    fn dest(&mut self, rest: &str) -> Result<(), String> {
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let [endpoint, "weight", weight, "last-weight", last, ..] = fields[..] else {
            return Err(format!(
                "dest line without endpoint, weight and last-weight: '{rest}'"
            ));
        };
        let (ip, port) = parse_addr_port(endpoint)?;
        self.dests.push(DestSpec {
            ip,
            port,
            weight: parse_weight("weight", weight)?,
            last_weight: parse_weight("last weight", last)?,
            overload: false,
        });
        Ok(())
    }

    /// The service, or nothing for one without a table.
    fn finish(self) -> Result<Option<ViewService>, String> {
        if self.no_table {
            return Ok(None);
        }
        let missing = |what: &str| format!("service '{}' has no {what} line", self.label);
        let index = self.index.ok_or_else(|| missing("table:"))?;
        let order = self.order.clone().ok_or_else(|| missing("table:"))?;
        let digest = self.digest.ok_or_else(|| missing("digest:"))?;
        let family = if self.label.contains('[') {
            Family::Inet6
        } else {
            match self.dests.first() {
                Some(d) if d.ip.is_ipv6() && self.label.starts_with("FWM ") => Family::Inet6,
                _ => Family::Inet,
            }
        };
        let mut flags = self.flags;
        flags.canonical = order.starts_with("canonical");
        let size = parse_index(&index.to_string())?;
        Ok(Some(ViewService {
            label: self.label,
            scheduler: self.scheduler,
            service: Service {
                size,
                family,
                flags,
                dests: self.dests,
            },
            digest,
            order,
            builds: self.builds,
        }))
    }
}

/// `rebuilds: N, kept: K, last build: T us` of a table line, if there (a
/// view shows all three or none).
fn build_stats(line: &str) -> Result<Option<BuildStats>, String> {
    let field = |name: &str| {
        line.split(", ")
            .find_map(|f| f.strip_prefix(name))
            .map(|v| {
                v.trim_end_matches(" us")
                    .parse::<u64>()
                    .map_err(|_| format!("bad {}'{v}'", name))
            })
            .transpose()
    };
    match (
        field("rebuilds: ")?,
        field("kept: ")?,
        field("last build: ")?,
    ) {
        (Some(builds), Some(kept), Some(last_build_us)) => Ok(Some(BuildStats {
            builds,
            kept,
            last_build_us,
        })),
        (None, None, None) => Ok(None),
        _ => Err(format!(
            "table line with some of rebuilds, kept and last build, not all: '{line}'"
        )),
    }
}
