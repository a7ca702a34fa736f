// SPDX-License-Identifier: GPL-2.0

//! The reports: `summary`, `lookup`, `plan` and `compare`.

use crate::args::{Change, Client, Director, Plan, Sampling};
use crate::maglev::{moved_slots, Family, Share};
use crate::service::{family_name, DestSpec, Service, Table};
use crate::UsageError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
fn order_text(t: &Table) -> &'static str {
    if t.flags.canonical {
        "canonical (flag-3: sorted by address, port, last weight)"
    } else {
        "list order (as given: newest first)"
    }
}

/// One line describing the service, for `lookup` and `plan`.
fn service_line(svc: &Service, t: &Table) -> String {
    format!(
        "service: {}, {} slots (index {}), flags {}, {}",
        family_name(svc.family),
        svc.size.slots(),
        svc.size.index(),
        svc.flags,
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
pub fn summary(svc: &Service, kernel_digest: Option<u64>) -> Result<String, UsageError> {
    let t = svc.build()?;
    let mut out = String::new();
    let m = svc.size.slots();
    line(
        &mut out,
        format!("table size:   {m} slots (index {})", svc.size.index()),
    );
    line(
        &mut out,
        format!("family:       {}", family_name(svc.family)),
    );
    line(&mut out, format!("flags:        {}", svc.flags));
    line(&mut out, format!("order:        {}", order_text(&t)));
    line(
        &mut out,
        format!(
            "weights:      gcd {}, shift {}",
            t.table.built.weights.gcd, t.table.built.weights.rshift
        ),
    );
    line(&mut out, format!("destinations: {}", t.specs.len()));
    let empty = t.empty_slots();
    line(
        &mut out,
        format!(
            "empty slots:  {empty}{}",
            if empty == m {
                " (no destination has a positive last weight)"
            } else {
                ""
            }
        ),
    );
    if !t.specs.is_empty() {
        line(&mut out, "");
        let rows: Vec<Vec<String>> = t
            .specs
            .iter()
            .zip(&t.counts)
            .enumerate()
            .map(|(i, (d, &slots))| {
                vec![
                    i.to_string(),
                    d.ip.to_string(),
                    d.port.to_string(),
                    d.weight.to_string(),
                    d.last_weight.to_string(),
                    t.table.turns(i).to_string(),
                    slots.to_string(),
                    Share::of_table(slots, svc.size).to_string(),
                    availability(d).to_string(),
                ]
            })
            .collect();
        grid(
            &mut out,
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
        line(&mut out, "");
    }
    if let Some(kernel) = kernel_digest {
        let verdict = if kernel == t.digest() {
            "the same as computed here"
        } else {
            "DIFFERENT from the one computed here"
        };
        line(&mut out, format!("view digest: {kernel:#018x} ({verdict})"));
    }
    line(&mut out, format!("digest: {:#018x}", t.digest()));
    Ok(out)
}

/// Whether a destination takes new connections, and if not why.
fn availability(d: &DestSpec) -> &'static str {
    match (d.weight > 0, d.overload) {
        (true, false) => "yes",
        (false, false) => "no (weight 0)",
        (true, true) => "no (overloaded)",
        (false, true) => "no (weight 0, overloaded)",
    }
}

/// `lookup`: the real server of each client.
pub fn lookup(svc: &Service, clients: &[Client]) -> Result<String, UsageError> {
    let t = svc.build()?;
    let mut out = String::new();
    line(&mut out, service_line(svc, &t));
    line(&mut out, format!("digest: {:#018x}", t.digest()));
    line(
        &mut out,
        if svc.flags.port {
            "client ports are hashed (mh-port)"
        } else {
            "client ports are not hashed (no mh-port): port 0 is hashed"
        },
    );
    line(&mut out, "");
    let rows: Vec<Vec<String>> = clients
        .iter()
        .map(|c| {
            let d = t.lookup(c.ip, c.port);
            let server = d
                .chosen
                .map_or_else(|| "none".to_string(), |i| t.specs[i].endpoint());
            let owner = d.owner.map(|i| t.specs[i].endpoint());
            let note = match (d.owner, d.chosen, owner) {
                (None, _, _) => "empty slot: no destination available".to_string(),
                (Some(o), Some(c), _) if o == c => String::new(),
                (Some(_), Some(_), Some(owner)) => {
                    format!("mh-fallback: slot owner {owner} unavailable")
                }
                (Some(_), None, Some(owner)) if svc.flags.fallback => {
                    format!("slot owner {owner} unavailable, and no fallback found")
                }
                (Some(_), None, Some(owner)) => {
                    format!("slot owner {owner} unavailable (no mh-fallback)")
                }
                (Some(_), _, None) => String::new(),
            };
            vec![c.text.clone(), d.slot.to_string(), server, note]
        })
        .collect();
    grid(
        &mut out,
        &["client", "slot", "real server", "note"],
        &[false, true, false, false],
        &rows,
    );
    Ok(out)
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

/// What a sample of client flows does between two tables.
struct FlowSample {
    /// Flows whose real server (or lack of one) differs.
    changed: u32,
    /// Flows with no real server in the first table.
    lost_before: u32,
    /// Flows with no real server in the second table.
    lost_after: u32,
}

/// Looks up `sampling.sample` random client flows of `family` (random
/// addresses, ephemeral ports, from SplitMix64 seeded with `sampling.seed`)
/// in both tables, each with its service's flags and availability; `None`
/// for an empty sample.
fn sample_flows(family: Family, sampling: Sampling, a: &Table, b: &Table) -> Option<FlowSample> {
    if sampling.sample == 0 {
        return None;
    }
    let mut rng = SplitMix64(sampling.seed);
    let mut f = FlowSample {
        changed: 0,
        lost_before: 0,
        lost_after: 0,
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
        f.lost_before += u32::from(before.is_none());
        f.lost_after += u32::from(after.is_none());
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
    line(&mut out, service_line(svc, &old));
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
            if f.lost_before > 0 || f.lost_after > 0 {
                line(
                    &mut out,
                    format!(
                        "no server:    {} sampled flows before, {} after \
                         (\"no destination available\")",
                        f.lost_before, f.lost_after
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
pub fn compare(directors: &[Director; 2], sampling: Sampling) -> Result<String, UsageError> {
    let [a, b] = directors;
    let (sa, sb) = (&a.view.service, &b.view.service);
    let (ta, tb) = (sa.build()?, sb.build()?);
    let mut out = String::new();
    for (name, d, t) in [("A", a, &ta), ("B", b, &tb)] {
        let check = if d.view.digest == t.digest() {
            "as computed here"
        } else {
            "NOT as computed here"
        };
        line(
            &mut out,
            format!(
                "director {name}: {}: {}, {} destinations, {} slots (index {}), flags {}, order {}, digest {:#018x} ({check})",
                d.file,
                d.view.label,
                d.view.service.dests.len(),
                d.view.service.size.slots(),
                d.view.service.size.index(),
                d.view.service.flags,
                d.view.order,
                d.view.digest
            ),
        );
    }
    if sa.family != sb.family || sa.size != sb.size {
        line(
            &mut out,
            "the directors' tables differ in family or size: no client is scheduled alike by design",
        );
    }
    if ta.digest() == tb.digest() {
        line(
            &mut out,
            "equal digests: both directors send every client to the same real server",
        );
        return Ok(out);
    }
    line(
        &mut out,
        "digests differ: some clients go to different real servers on the two directors",
    );

    // Which servers differ: only on one side, in weight, in position.
    let rows = differences(&ta, &tb);
    if !rows.is_empty() {
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
    let m = sa.size.slots().max(sb.size.slots());
    let moved = moved_slots(&ta.table.slots, &ta.dests, &tb.table.slots, &tb.dests);
    line(
        &mut out,
        format!("slots differing: {moved} of {m} ({})", Share::new(moved, m)),
    );
    match sample_flows(sa.family, sampling, &ta, &tb) {
        Some(f) => line(
            &mut out,
            format!(
                "flows differing: {} of {} sampled client flows ({}), seed {}: a failover between the directors moves them",
                f.changed,
                sampling.sample,
                Share::new(f.changed, sampling.sample),
                sampling.seed
            ),
        ),
        None => line(&mut out, "flows differing: not sampled (--sample 0)"),
    }
    Ok(out)
}

/// The servers whose table position (build order, from 1) or last weight
/// differs between the tables, or that only one has; the others are left
/// out.
fn differences(a: &Table, b: &Table) -> Vec<Vec<String>> {
    let dash = || "-".to_string();
    let pos = |t: &Table, d: &DestSpec| t.specs.iter().position(|s| s.is(d.ip, d.port));
    let mut rows = Vec::new();
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
        let text = |p: Option<usize>| p.map_or_else(dash, |i| (i + 1).to_string());
        let wtext = |w: Option<i32>| w.map_or_else(dash, |w| w.to_string());
        rows.push(vec![
            d.endpoint(),
            text(pa),
            text(pb),
            wtext(lw(a, pa)),
            wtext(lw(b, pb)),
        ]);
    }
    rows
}
