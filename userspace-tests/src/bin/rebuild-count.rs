// SPDX-License-Identifier: GPL-2.0

//! A table rebuild of the Rust core, repeated, for counting its
//! instructions under callgrind: the userspace view of the in-kernel
//! benchmark's rebuild row, to try a change of the core in seconds instead
//! of a guest boot.
//!
//! Usage: `rebuild-count INDEX N WEIGHT REBUILDS`: a table of index INDEX
//! (12: 4093 slots, 16: 65521) over the benchmark's N servers
//! (10.2.x.y:53, listed newest first as IPVS lists them, so the first one
//! added is last), that last one of weight WEIGHT and the others of
//! weight 1, built once and then rebuilt REBUILDS times from the same
//! inputs. `scripts/rebuild-count.sh` runs it under callgrind twice and
//! prints the instructions of one rebuild (the difference, divided).
//!
//! Build it with `--profile kernel-opt` (opt-level 2, as the kernel builds
//! the module): the compiler makes other choices at opt-level 3.

use std::hint::black_box;
use std::process::ExitCode;
use userspace_tests::maglev::{Addr, Dest, Family, OwnedTable, TableSize};

/// The benchmark's servers (`bench/guest_bench.py`: `dest("10.2", k)`,
/// port 53), in table order; the last has `weight`.
fn servers(n: u32, weight: i32) -> Vec<Dest> {
    (0..n)
        .map(|i| {
            // IPVS lists the newest first: server k = n - 1 - i.
            let k = n - 1 - i;
            let mut addr = [0u8; 16];
            addr[..4].copy_from_slice(&[10, 2, (k / 250) as u8, (k % 250 + 1) as u8]);
            Dest {
                addr: Addr::from_nf_inet_addr(Family::Inet, &addr),
                port: 53,
                last_weight: if k == 0 { weight } else { 1 },
            }
        })
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [index, n, weight, rebuilds] => (
            index
                .parse::<u32>()
                .ok()
                .and_then(|i| TableSize::new(i).ok()),
            n.parse::<u32>().ok(),
            weight.parse::<i32>().ok(),
            rebuilds.parse::<usize>().ok(),
        ),
        _ => (None, None, None, None),
    };
    let (Some(size), Some(n), Some(weight), Some(rebuilds)) = parsed else {
        eprintln!("usage: rebuild-count INDEX N WEIGHT REBUILDS (index 8 to 17)");
        return ExitCode::from(2);
    };
    let mut dests = servers(n, weight);
    let mut table = match OwnedTable::<u16>::build_from(size, false, &mut dests.clone(), |d| *d) {
        Ok(table) => table,
        Err(e) => {
            eprintln!("rebuild-count: the table cannot be built: {e:?}");
            return ExitCode::FAILURE;
        }
    };
    for _ in 0..rebuilds {
        if let Err(e) = table.rebuild(false, black_box(&mut dests), |d| *d) {
            eprintln!("rebuild-count: a rebuild failed: {e:?}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
