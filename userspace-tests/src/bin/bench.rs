// SPDX-License-Identifier: GPL-2.0

//! Benchmark: the Rust core against the C model of the in-tree scheduler,
//! side by side in one run. Prints a markdown table.
//!
//! Usage: `cargo run --release --bin bench` (`-- --quick` for a smoke run).
//!
//! Every figure is the median of several timed runs. Both sides run the same
//! loop over the same inputs: the C loops are in C, so no foreign call is
//! timed per item.

use std::hint::black_box;
use std::time::{Duration, Instant};
use userspace_tests::maglev::{
    hsiphash_u32, lookup, Addr, Availability, Dest, Family, OwnedTable, Owners, Slot, TableSize,
    HASH1,
};
use userspace_tests::oracle::{self, CAvail, CDest, Model, DEST_OVERLOAD};

/// Timing settings.
struct Plan {
    /// Timed runs per figure (the median is reported).
    runs: usize,
    /// Minimum duration of one timed run.
    min_run: Duration,
}

/// Nanoseconds per item: median over `plan.runs` runs of `f`, where one
/// call of `f` processes `items` items. Calls are repeated within a run
/// until it lasts `plan.min_run`.
fn time_per_item(plan: &Plan, items: usize, mut f: impl FnMut() -> u64) -> f64 {
    // Warm up caches and branch predictors.
    black_box(f());
    let mut samples = Vec::with_capacity(plan.runs);
    for _ in 0..plan.runs {
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed() < plan.min_run {
            black_box(f());
            calls += 1;
        }
        let ns = start.elapsed().as_nanos() as f64;
        samples.push(ns / (calls as f64 * items as f64));
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Deterministic inputs (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// `n` IPv4 destinations on port 80, all with weight 1.
fn destinations(n: usize) -> Vec<CDest> {
    (0..n as u32)
        .map(|i| {
            let mut addr = [0u8; 16];
            addr[..4].copy_from_slice(&(0x0a00_0000 + i + 1).to_be_bytes());
            CDest {
                addr,
                port_be: 80u16.to_be(),
                weight: 1,
                last_weight: 1,
                flags: 0,
            }
        })
        .collect()
}

fn core_dests(dests: &[CDest]) -> Vec<Dest> {
    dests
        .iter()
        .map(|d| Dest {
            addr: Addr::from_nf_inet_addr(Family::Inet, &d.addr),
            port: u16::from_be(d.port_be),
            last_weight: d.last_weight,
        })
        .collect()
}

/// Clients: random IPv4 addresses and ports.
struct Clients {
    addrs: Vec<Addr>,
    raw: Vec<[u8; 16]>,
    ports: Vec<u16>,
    ports_be: Vec<u16>,
}

fn clients(n: usize, rng: &mut Rng) -> Clients {
    let mut c = Clients {
        addrs: Vec::new(),
        raw: Vec::new(),
        ports: Vec::new(),
        ports_be: Vec::new(),
    };
    for _ in 0..n {
        let x = rng.next();
        let a = (x as u32).to_be_bytes();
        let port = (x >> 32) as u16;
        let mut raw = [0u8; 16];
        raw[..4].copy_from_slice(&a);
        c.addrs.push(Addr::V4(a));
        c.raw.push(raw);
        c.ports.push(port);
        c.ports_be.push(port.to_be());
    }
    c
}

/// Every destination available, without reading anything.
struct Always;

impl Availability for Always {
    fn is_available(&self, _dest: usize) -> bool {
        true
    }
}

#[inline(never)]
fn rust_lookups<S: Slot, A: Availability>(
    slots: &[S],
    size: TableSize,
    owners: Owners<'_>,
    c: &Clients,
    fallback: bool,
    avail: &A,
) -> u64 {
    let mut sum = 0u64;
    for (addr, &port) in c.addrs.iter().zip(&c.ports) {
        let d = lookup(slots, size, &owners, addr, port, fallback, avail);
        sum += d.map_or(0, |i| i as u64 + 1);
    }
    sum
}

#[inline(never)]
fn rust_hashes(vals: &[u32]) -> u64 {
    vals.iter()
        .map(|&v| u64::from(hsiphash_u32(v, &HASH1)))
        .sum()
}

/// One row of the report.
struct Row {
    what: String,
    rust: String,
    c: String,
    ratio: Option<f64>,
}

fn row_ns(what: impl Into<String>, rust: f64, c: f64) -> Row {
    Row {
        what: what.into(),
        rust: format_ns(rust),
        c: format_ns(c),
        ratio: Some(rust / c),
    }
}

fn format_ns(ns: f64) -> String {
    if ns >= 100_000.0 {
        format!("{:.1} us", ns / 1000.0)
    } else if ns >= 100.0 {
        format!("{ns:.0} ns")
    } else {
        format!("{ns:.1} ns")
    }
}

/// A table built by both implementations for lookup benchmarks.
struct Service {
    size: TableSize,
    model: Model,
    table: OwnedTable<u16>,
}

fn service(index: u32, n: usize) -> Service {
    let size = TableSize::new(index).expect("valid index");
    let cd = destinations(n);
    let mut model = Model::new(index, false).expect("C model");
    assert_eq!(model.build(cd.clone()), 0);
    let table = OwnedTable::build(size, &core_dests(&cd)).expect("builds");
    Service { size, model, table }
}

/// Marks every `1/share`-th destination overloaded (share in percent).
fn set_unavailable(model: &mut Model, percent: usize) {
    let dests = model.dests_mut();
    let n = dests.len();
    let count = (n * percent).div_ceil(100);
    for (i, d) in dests.iter_mut().enumerate() {
        // Spread the unavailable ones over the list.
        let hit = (i * count) / n != ((i + 1) * count) / n;
        d.flags = if hit { DEST_OVERLOAD } else { 0 };
    }
}

fn lookup_rows(plan: &Plan, rows: &mut Vec<Row>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let c = clients(4096, &mut rng);
    let items = c.addrs.len();

    for (index, n) in [(12, 100), (16, 100)] {
        let s = service(index, n);
        // Availability as the adapter reads it: the destinations' weight
        // and flags at lookup time (the overload flag changes without a
        // rebuild).
        let avail = CAvail(s.model.dests());
        let r = time_per_item(plan, items, || {
            rust_lookups(
                black_box(&s.table.slots),
                s.size,
                s.table.owners(),
                &c,
                false,
                &avail,
            )
        });
        let cc = time_per_item(plan, items, || {
            s.model.bench_lookups(black_box(&c.raw), &c.ports_be, false)
        });
        rows.push(row_ns(
            format!("lookup, plain (M={}, N={n})", s.size.slots()),
            r,
            cc,
        ));
    }

    // The core's own share of a lookup: the same, with an availability
    // check that costs nothing (the C model cannot skip its check).
    {
        let s = service(12, 100);
        let r = time_per_item(plan, items, || {
            rust_lookups(
                black_box(&s.table.slots),
                s.size,
                s.table.owners(),
                &c,
                false,
                &Always,
            )
        });
        rows.push(Row {
            what: format!(
                "lookup, plain, availability not read (M={}, N=100)",
                s.size.slots()
            ),
            rust: format_ns(r),
            c: "n/a".to_string(),
            ratio: None,
        });
    }

    for percent in [1, 50, 100] {
        let mut s = service(12, 100);
        set_unavailable(&mut s.model, percent);
        // The C side of the 100% row runs M hashes per lookup: fewer items.
        let take = if percent == 100 { 256 } else { items };
        let sub = Clients {
            addrs: c.addrs[..take].to_vec(),
            raw: c.raw[..take].to_vec(),
            ports: c.ports[..take].to_vec(),
            ports_be: c.ports_be[..take].to_vec(),
        };
        let avail = CAvail(s.model.dests());
        let r = time_per_item(plan, take, || {
            rust_lookups(
                black_box(&s.table.slots),
                s.size,
                s.table.owners(),
                &sub,
                true,
                &avail,
            )
        });
        let cc = time_per_item(plan, take, || {
            s.model
                .bench_lookups(black_box(&sub.raw), &sub.ports_be, true)
        });
        rows.push(row_ns(
            format!(
                "lookup, mh-fallback, {percent}% unavailable (M={}, N=100)",
                s.size.slots()
            ),
            r,
            cc,
        ));
    }
}

fn hash_row(plan: &Plan, rows: &mut Vec<Row>) {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let vals: Vec<u32> = (0..4096).map(|_| rng.next() as u32).collect();
    let r = time_per_item(plan, vals.len(), || rust_hashes(black_box(&vals)));
    let c = time_per_item(plan, vals.len(), || {
        oracle::bench_hsiphash(black_box(&vals))
    });
    rows.push(row_ns("one bare hsiphash of a u32 (SipHash-1-3)", r, c));
}

fn build_rows(plan: &Plan, rows: &mut Vec<Row>) {
    for index in [12, 16, 17] {
        for n in [2, 10, 100, 1000] {
            let size = TableSize::new(index).expect("valid index");
            let cd = destinations(n);
            let core = core_dests(&cd);
            let mut items = core.clone();
            let mut table = OwnedTable::<u16>::build(size, &core).expect("builds");
            let mut model = Model::new(index, false).expect("C model");
            model.build(cd.clone());
            // A fresh build, every permutation hashed, as C does.
            let r = time_per_item(plan, 1, || {
                table
                    .rebuild(false, black_box(&mut items), |d| *d)
                    .map_or(0, |()| table.built.weights.gcd as u64)
            });
            let c = time_per_item(plan, 1, || model.rebuild() as u64);
            rows.push(row_ns(
                format!("table build (M={}, N={n})", size.slots()),
                r,
                c,
            ));
        }
    }
}

fn memory_rows(rows: &mut Vec<Row>) {
    for index in [12, 16, 17] {
        let m = TableSize::new(index).expect("valid index").slots() as usize;
        let n = 100;
        // Rust: u16 slots plus one destination reference (8 bytes) per
        // destination in the table's own array.
        let rust = 2 * m + 8 * n;
        // C: one destination pointer (8 bytes) per slot.
        let c = 8 * m;
        rows.push(Row {
            what: format!("bytes per table, kept (M={m}, N={n})"),
            rust: format!("{rust}"),
            c: format!("{c}"),
            ratio: Some(rust as f64 / c as f64),
        });
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = if quick {
        Plan {
            runs: 3,
            min_run: Duration::from_millis(5),
        }
    } else {
        Plan {
            runs: 9,
            min_run: Duration::from_millis(60),
        }
    };
    let mut rows = Vec::new();
    hash_row(&plan, &mut rows);
    lookup_rows(&plan, &mut rows);
    build_rows(&plan, &mut rows);
    memory_rows(&mut rows);

    println!("| Measurement | Rust core | C model | Rust/C |");
    println!("|---|---:|---:|---:|");
    for r in &rows {
        let ratio = r
            .ratio
            .map_or_else(|| "n/a".to_string(), |x| format!("{x:.2}"));
        println!("| {} | {} | {} | {ratio} |", r.what, r.rust, r.c);
    }
    println!();
    println!(
        "Median of {} runs of at least {} ms each; times per lookup, per hash, per build.",
        plan.runs,
        plan.min_run.as_millis()
    );
}
