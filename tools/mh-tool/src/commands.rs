// SPDX-License-Identifier: GPL-2.0

//! The reports: `summary`, `lookup`, `plan`, `compare` and `view`. Each but
//! `plan` is found as data first ([`crate::report`]), then printed as text
//! here, or as JSON.

use crate::args::{Change, Client, Director, Format, Plan, Sampling, View};
use crate::maglev::{moved_slots, Family, Share};
use crate::report::{
    ClientReport, CompareReport, DestReport, Difference, Digest, DirectorReport, FlowsReport,
    LookupReport, ServiceReport, SummaryReport, TableInfo, ViewReport,
};
use crate::service::{DestSpec, Service, Table};
use crate::UsageError;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `report` as text (`text` prints it) or as JSON.
fn print<R: Serialize>(format: Format, report: &R, text: impl Fn(&R) -> String) -> String {
    match format {
        Format::Text => text(report),
        Format::Json => {
            // Serializing these types cannot fail: no map has non-string
            // keys, and every float is finite.
            let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
            out.push('\n');
            out
        }
    }
}

/// Appends one line.
fn line(out: &mut String, text: impl AsRef<str>) {
    out.push_str(text.as_ref());
    out.push('\n');
}

/// A text table: a header row and rows, columns separated by two spaces,
/// the columns marked in `right` right-aligned, indented by two spaces.
fn grid(out: &mut String, header: &[&str], right: &[bool], rows: &[Vec<String>]) {
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&width)
            .zip(right)
            .map(|((cell, &w), &r)| {
                if r {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        line(out, format!("  {}", cells.join("  ").trim_end()));
    }
}

/// How the table orders destinations.
fn order_text(canonical: bool) -> &'static str {
    if canonical {
        "canonical (flag-3: sorted by address, port, last weight)"
    } else {
        "list order (as given: newest first)"
    }
}

/// One line describing the service, for `lookup` and `plan`.
fn service_line(t: &TableInfo) -> String {
    format!(
        "service: {}, {} slots (index {}), flags {}, {}",
        t.family,
        t.slots,
        t.index,
        t.flags,
        if t.flags.canonical {
            "canonical order"
        } else {
            "list order"
        }
    )
}

/// `summary`: the table size, flags, order, each destination's weights,
/// turns, slots and share, and the digest; with the digest a kernel
/// reported for the same service (`--view`), whether it is the same.
pub fn summary(
    svc: &Service,
    kernel_digest: Option<u64>,
    format: Format,
) -> Result<String, UsageError> {
    let t = svc.build()?;
    let report = SummaryReport {
        table: TableInfo::of(svc.size, svc.family, &t),
        destinations: DestReport::all(svc.size, &t),
        digest: Digest(t.digest()),
        view_digest: kernel_digest.map(Digest),
    };
    Ok(print(format, &report, summary_text))
}

fn summary_text(r: &SummaryReport) -> String {
    let mut out = String::new();
    let t = &r.table;
    line(
        &mut out,
        format!("table size:   {} slots (index {})", t.slots, t.index),
    );
    line(&mut out, format!("family:       {}", t.family));
    line(&mut out, format!("flags:        {}", t.flags));
    line(
        &mut out,
        format!("order:        {}", order_text(t.flags.canonical)),
    );
    line(
        &mut out,
        format!("weights:      gcd {}, shift {}", t.gcd, t.shift),
    );
    line(&mut out, format!("destinations: {}", r.destinations.len()));
    line(
        &mut out,
        format!(
            "empty slots:  {}{}",
            t.empty_slots,
            if t.empty_slots == t.slots {
                " (no destination has a positive last weight)"
            } else {
                ""
            }
        ),
    );
    if !r.destinations.is_empty() {
        line(&mut out, "");
        dest_grid(&mut out, &r.destinations);
        line(&mut out, "");
    }
    if let Some(kernel) = r.view_digest {
        let verdict = if kernel == r.digest {
            "the same as computed here"
        } else {
            "DIFFERENT from the one computed here"
        };
        line(&mut out, format!("view digest: {kernel} ({verdict})"));
    }
    line(&mut out, format!("digest: {}", r.digest));
    out
}

/// The destinations' table: weights, turns, slots, share, availability.
fn dest_grid(out: &mut String, dests: &[DestReport]) {
    let rows: Vec<Vec<String>> = dests
        .iter()
        .map(|d| {
            vec![
                d.position.to_string(),
                d.address.clone(),
                d.port.to_string(),
                d.weight.to_string(),
                d.last_weight.to_string(),
                d.turns.to_string(),
                d.slots.to_string(),
                d.share_text.clone(),
                d.unavailable_because
                    .map_or_else(|| "yes".to_string(), |why| format!("no ({why})")),
            ]
        })
        .collect();
    grid(
        out,
        &[
            "#",
            "address",
            "port",
            "weight",
            "last weight",
            "turns",
            "slots",
            "share",
            "available",
        ],
        &[true, false, true, true, true, true, true, true, false],
        &rows,
    );
}

/// `lookup`: the real server of each client.
pub fn lookup(svc: &Service, clients: &[Client], format: Format) -> Result<String, UsageError> {
    let t = svc.build()?;
    let clients = clients
        .iter()
        .map(|c| {
            let d = t.lookup(c.ip, c.port);
            let owner = d.owner.map(|i| t.specs[i].endpoint());
            let note = match (d.owner, d.chosen, &owner) {
                (None, _, _) => Some("empty slot: no destination available".to_string()),
                (Some(o), Some(c), _) if o == c => None,
                (Some(_), Some(_), Some(owner)) => {
                    Some(format!("mh-fallback: slot owner {owner} unavailable"))
                }
                (Some(_), None, Some(owner)) if svc.flags.fallback => Some(format!(
                    "slot owner {owner} unavailable, and no fallback found"
                )),
                (Some(_), None, Some(owner)) => {
                    Some(format!("slot owner {owner} unavailable (no mh-fallback)"))
                }
                (Some(_), _, None) => None,
            };
            ClientReport {
                client: c.text.clone(),
                slot: d.slot,
                server: d.chosen.map(|i| t.specs[i].endpoint()),
                owner,
                note,
            }
        })
        .collect();
    let report = LookupReport {
        table: TableInfo::of(svc.size, svc.family, &t),
        digest: Digest(t.digest()),
        ports_hashed: svc.flags.port,
        clients,
    };
    Ok(print(format, &report, lookup_text))
}

fn lookup_text(r: &LookupReport) -> String {
    let mut out = String::new();
    line(&mut out, service_line(&r.table));
    line(&mut out, format!("digest: {}", r.digest));
    line(
        &mut out,
        if r.ports_hashed {
            "client ports are hashed (mh-port)"
        } else {
            "client ports are not hashed (no mh-port): port 0 is hashed"
        },
    );
    line(&mut out, "");
    let rows: Vec<Vec<String>> = r
        .clients
        .iter()
        .map(|c| {
            vec![
                c.client.clone(),
                c.slot.to_string(),
                c.server.clone().unwrap_or_else(|| "none".to_string()),
                c.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    grid(
        &mut out,
        &["client", "slot", "real server", "note"],
        &[false, true, false, false],
        &rows,
    );
    out
}

/// Applies `plan`'s changes to a copy of `svc`, as IPVS would.
pub fn apply(svc: &Service, plan: &Plan) -> Result<Service, UsageError> {
    let mut new = svc.clone();
    for (at, change) in &plan.changes {
        let missing = || UsageError(format!("{at}: no such destination"));
        match *change {
            Change::Add(d) => {
                if new.find(d.ip, d.port).is_some() {
                    return Err(UsageError(format!(
                        "{at}: duplicate destination {}",
                        d.endpoint()
                    )));
                }
                // IPVS adds at the head of the list.
                new.dests.insert(0, d);
                new.check_count(&format!("{at}: "))?;
            }
            Change::Remove(ip, port) => {
                let i = new.find(ip, port).ok_or_else(missing)?;
                new.dests.remove(i);
            }
            Change::Reweight(ip, port, w) => {
                let i = new.find(ip, port).ok_or_else(missing)?;
                let d = &mut new.dests[i];
                d.weight = w;
                // IPVS keeps the last non-zero weight.
                if w != 0 {
                    d.last_weight = w;
                }
            }
        }
    }
    Ok(new)
}

/// A small deterministic generator (SplitMix64) for the flow sample.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The server a client goes to, by identity (or `None`).
fn server_of(t: &Table, ip: IpAddr, port: u16) -> Option<(IpAddr, u16)> {
    t.lookup(ip, port)
        .chosen
        .map(|i| (t.specs[i].ip, t.specs[i].port))
}

/// Looks up `sampling.sample` random client flows of `family` (random
/// addresses, ephemeral ports, from SplitMix64 seeded with `sampling.seed`)
/// in both tables, each with its service's flags and availability; `None`
/// for an empty sample.
fn sample_flows(family: Family, sampling: Sampling, a: &Table, b: &Table) -> Option<FlowsReport> {
    if sampling.sample == 0 {
        return None;
    }
    let mut rng = SplitMix64(sampling.seed);
    let mut f = FlowsReport {
        sampled: sampling.sample,
        seed: sampling.seed,
        changed: 0,
        no_server_before: 0,
        no_server_after: 0,
    };
    for _ in 0..sampling.sample {
        let ip = match family {
            Family::Inet => IpAddr::V4(Ipv4Addr::from(rng.next() as u32)),
            Family::Inet6 => {
                let hi = u128::from(rng.next()) << 64;
                IpAddr::V6(Ipv6Addr::from(hi | u128::from(rng.next())))
            }
        };
        // An ephemeral source port.
        let port = 1024 + (rng.next() % (65536 - 1024)) as u16;
        let (before, after) = (server_of(a, ip, port), server_of(b, ip, port));
        f.changed += u32::from(before != after);
        f.no_server_before += u32::from(before.is_none());
        f.no_server_after += u32::from(after.is_none());
    }
    Some(f)
}

/// `plan`: what the changes would move.
pub fn plan(svc: &Service, plan: &Plan) -> Result<String, UsageError> {
    let new_svc = apply(svc, plan)?;
    let old = svc.build()?;
    let new = new_svc.build()?;
    let m = svc.size.slots();
    let mut out = String::new();
    line(
        &mut out,
        service_line(&TableInfo::of(svc.size, svc.family, &old)),
    );
    for (at, _) in &plan.changes {
        line(&mut out, format!("change: {at}"));
    }
    line(
        &mut out,
        format!(
            "destinations: {} -> {}",
            svc.dests.len(),
            new_svc.dests.len()
        ),
    );
    line(&mut out, "");

    // Each server's weight and slots before and after, new list first,
    // then the removed ones.
    let slots_of = |t: &Table, d: &DestSpec| {
        t.specs
            .iter()
            .position(|s| s.is(d.ip, d.port))
            .map(|i| t.counts[i])
    };
    let weight_text = |d: &DestSpec| {
        if d.weight == d.last_weight {
            d.weight.to_string()
        } else {
            format!("{} (last {})", d.weight, d.last_weight)
        }
    };
    let dash = || "-".to_string();
    let mut rows = Vec::new();
    for d in &new_svc.dests {
        let before = svc.find(d.ip, d.port).map(|i| &svc.dests[i]);
        rows.push(vec![
            d.endpoint(),
            before.map_or_else(dash, weight_text),
            weight_text(d),
            before
                .and_then(|b| slots_of(&old, b))
                .map_or_else(dash, |s| s.to_string()),
            slots_of(&new, d).map_or_else(dash, |s| s.to_string()),
        ]);
    }
    for d in &svc.dests {
        if new_svc.find(d.ip, d.port).is_none() {
            rows.push(vec![
                d.endpoint(),
                weight_text(d),
                dash(),
                slots_of(&old, d).map_or_else(dash, |s| s.to_string()),
                dash(),
            ]);
        }
    }
    grid(
        &mut out,
        &[
            "real server",
            "old weight",
            "new weight",
            "old slots",
            "new slots",
        ],
        &[false, true, true, true, true],
        &rows,
    );
    line(&mut out, "");

    let moved = moved_slots(&old.table.slots, &old.dests, &new.table.slots, &new.dests);
    line(
        &mut out,
        format!(
            "slots moved:  {moved} of {m} ({})",
            Share::of_table(moved, svc.size)
        ),
    );
    match sample_flows(svc.family, plan.sampling, &old, &new) {
        Some(f) => {
            line(
                &mut out,
                format!(
                    "flows moved:  {} of {} sampled client flows ({}), seed {}",
                    f.changed,
                    plan.sampling.sample,
                    Share::new(f.changed, plan.sampling.sample),
                    plan.sampling.seed
                ),
            );
            if f.no_server_before > 0 || f.no_server_after > 0 {
                line(
                    &mut out,
                    format!(
                        "no server:    {} sampled flows before, {} after \
                         (\"no destination available\")",
                        f.no_server_before, f.no_server_after
                    ),
                );
            }
        }
        None => line(&mut out, "flows moved:  not sampled (--sample 0)"),
    }
    line(&mut out, format!("old digest:   {:#018x}", old.digest()));
    line(&mut out, format!("new digest:   {:#018x}", new.digest()));
    Ok(out)
}

/// `compare`: whether two directors schedule every client alike, and if
/// not, why and how much differs.
pub fn compare(
    directors: &[Director; 2],
    sampling: Sampling,
    format: Format,
) -> Result<String, UsageError> {
    let [a, b] = directors;
    let (sa, sb) = (&a.view.service, &b.view.service);
    let (ta, tb) = (sa.build()?, sb.build()?);
    let director = |d: &Director, t: &Table| DirectorReport {
        file: d.file.clone(),
        service: d.view.label.clone(),
        destinations: d.view.service.dests.len(),
        table: TableInfo::of(d.view.service.size, d.view.service.family, t),
        view_order: d.view.order.clone(),
        digest: Digest(d.view.digest),
        digest_as_computed: d.view.digest == t.digest(),
    };
    let equal = ta.digest() == tb.digest();
    let report = CompareReport {
        directors: [director(a, &ta), director(b, &tb)],
        same_family_and_size: sa.family == sb.family && sa.size == sb.size,
        equal_digests: equal,
        differences: if equal {
            Vec::new()
        } else {
            differences(&ta, &tb)
        },
        slots_differing: moved_slots(&ta.table.slots, &ta.dests, &tb.table.slots, &tb.dests),
        slots: sa.size.slots().max(sb.size.slots()),
        flows: if equal {
            None
        } else {
            sample_flows(sa.family, sampling, &ta, &tb)
        },
    };
    Ok(print(format, &report, |r| compare_text(r, sampling)))
}

fn compare_text(r: &CompareReport, sampling: Sampling) -> String {
    let mut out = String::new();
    for (name, d) in ["A", "B"].iter().zip(&r.directors) {
        let check = as_computed(d.digest_as_computed);
        line(
            &mut out,
            format!(
                "director {name}: {}: {}, {} destinations, {} slots (index {}), flags {}, order {}, digest {} ({check})",
                d.file,
                d.service,
                d.destinations,
                d.table.slots,
                d.table.index,
                d.table.flags,
                d.view_order,
                d.digest
            ),
        );
    }
    if !r.same_family_and_size {
        line(
            &mut out,
            "the directors' tables differ in family or size: no client is scheduled alike by design",
        );
    }
    if r.equal_digests {
        line(
            &mut out,
            "equal digests: both directors send every client to the same real server",
        );
        return out;
    }
    line(
        &mut out,
        "digests differ: some clients go to different real servers on the two directors",
    );
    if !r.differences.is_empty() {
        let dash = || "-".to_string();
        let text = |v: Option<String>| v.unwrap_or_else(dash);
        let rows: Vec<Vec<String>> = r
            .differences
            .iter()
            .map(|d| {
                vec![
                    d.server.clone(),
                    text(d.position_a.map(|p| p.to_string())),
                    text(d.position_b.map(|p| p.to_string())),
                    text(d.last_weight_a.map(|w| w.to_string())),
                    text(d.last_weight_b.map(|w| w.to_string())),
                ]
            })
            .collect();
        line(&mut out, "");
        grid(
            &mut out,
            &[
                "real server",
                "position A",
                "position B",
                "last weight A",
                "last weight B",
            ],
            &[false, true, true, true, true],
            &rows,
        );
        line(&mut out, "");
    }
    line(
        &mut out,
        format!(
            "slots differing: {} of {} ({})",
            r.slots_differing,
            r.slots,
            Share::new(r.slots_differing, r.slots)
        ),
    );
    match r.flows {
        Some(f) => line(
            &mut out,
            format!(
                "flows differing: {} of {} sampled client flows ({}), seed {}: a failover between the directors moves them",
                f.changed,
                f.sampled,
                Share::new(f.changed, f.sampled),
                f.seed
            ),
        ),
        None if sampling.sample == 0 => line(&mut out, "flows differing: not sampled (--sample 0)"),
        None => {}
    }
    out
}

/// Whether a view's digest is the table's computed here, in words.
fn as_computed(equal: bool) -> &'static str {
    if equal {
        "as computed here"
    } else {
        "NOT as computed here"
    }
}

/// The servers whose table position (build order, from 1) or last weight
/// differs between the tables, or that only one has; the others are left
/// out.
fn differences(a: &Table, b: &Table) -> Vec<Difference> {
    let pos = |t: &Table, d: &DestSpec| t.specs.iter().position(|s| s.is(d.ip, d.port));
    let mut found = Vec::new();
    let mut seen: Vec<&DestSpec> = Vec::new();
    for d in a.specs.iter().chain(&b.specs) {
        if seen.iter().any(|s| s.is(d.ip, d.port)) {
            continue;
        }
        seen.push(d);
        let (pa, pb) = (pos(a, d), pos(b, d));
        let lw = |t: &Table, p: Option<usize>| p.map(|i| t.specs[i].last_weight);
        if pa == pb && lw(a, pa) == lw(b, pb) {
            continue;
        }
        found.push(Difference {
            server: d.endpoint(),
            position_a: pa.map(|i| i + 1),
            position_b: pb.map(|i| i + 1),
            last_weight_a: lw(a, pa),
            last_weight_b: lw(b, pb),
        });
    }
    found
}

/// `view`: every service of a director's view, each checked against the
/// table computed here from the view's inputs.
pub fn view(v: &View, format: Format) -> Result<String, UsageError> {
    let report = view_report(v)?;
    Ok(print(format, &report, view_text))
}

/// The data of `view` (and of `metrics`).
pub fn view_report(v: &View) -> Result<ViewReport, UsageError> {
    let services = v
        .services
        .iter()
        .map(|s| {
            let t = s.service.build()?;
            let (service, netns) = match s.label.split_once(" netns ") {
                Some((service, netns)) => (service.to_string(), Some(netns.to_string())),
                None => (s.label.clone(), None),
            };
            Ok(ServiceReport {
                service,
                netns,
                scheduler: s.scheduler.clone(),
                table: TableInfo::of(s.service.size, s.service.family, &t),
                view_order: s.order.clone(),
                digest: Digest(s.digest),
                digest_as_computed: s.digest == t.digest(),
                builds: s.builds,
                destinations: DestReport::all(s.service.size, &t),
            })
        })
        .collect::<Result<Vec<_>, UsageError>>()?;
    Ok(ViewReport {
        file: v.file.clone(),
        services,
    })
}

fn view_text(r: &ViewReport) -> String {
    let mut out = String::new();
    let n = r.services.len();
    line(
        &mut out,
        format!(
            "{}: {n} {} with a table",
            r.file,
            if n == 1 { "service" } else { "services" }
        ),
    );
    for s in &r.services {
        line(&mut out, "");
        let netns = s
            .netns
            .as_ref()
            .map_or_else(String::new, |n| format!(" netns {n}"));
        let scheduler = s.scheduler.as_deref().unwrap_or("mh");
        line(
            &mut out,
            format!("service {}{netns} ({scheduler})", s.service),
        );
        let t = &s.table;
        line(
            &mut out,
            format!(
                "  table: {} slots (index {}), flags {}, order {}, {} destinations, {} empty slots",
                t.slots,
                t.index,
                t.flags,
                s.view_order,
                s.destinations.len(),
                t.empty_slots
            ),
        );
        if let Some(b) = s.builds {
            line(
                &mut out,
                format!(
                    "  builds: {}, kept: {}, last build: {} us",
                    b.builds, b.kept, b.last_build_us
                ),
            );
        }
        let check = as_computed(s.digest_as_computed);
        line(&mut out, format!("  digest: {} ({check})", s.digest));
        if !s.destinations.is_empty() {
            dest_grid(&mut out, &s.destinations);
        }
    }
    out
}
