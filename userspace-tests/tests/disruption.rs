// SPDX-License-Identifier: GPL-2.0

//! Disruption when one of N destinations is removed: how many slots of the
//! *other* destinations change owner (their connections would move).
//!
//! Run with `--nocapture` to see the measurements.

mod common;

use common::{as_i32, build, v4_host};
use userspace_tests::maglev::{Addr, Dest, Family, TableSize};

struct Measure {
    /// Mean share of the remaining destinations' slots that moved.
    mean: f64,
    /// Worst share over the removals measured.
    max: f64,
    /// Share of all slots that changed owner (including the removed
    /// destination's, which must move).
    mean_total: f64,
}

/// Removes each destination in `removed` in turn from a list of `n` equal
/// destinations and compares the tables.
fn measure(index: u32, n: u32, removed: impl Iterator<Item = u32>) -> Measure {
    let size = TableSize::new(index).expect("valid index");
    let m = size.slots() as usize;
    let all: Vec<Dest> = (0..n)
        .map(|i| Dest {
            addr: Addr::from_nf_inet_addr(Family::Inet, &v4_host(i)),
            port: 80,
            last_weight: 1,
        })
        .collect();
    let before = as_i32(&build::<u16>(size, &all).expect("builds").slots);
    let (mut sum, mut max, mut sum_total, mut runs) = (0.0, 0.0f64, 0.0, 0);
    for k in removed {
        let mut rest = all.clone();
        rest.remove(k as usize);
        // Map the new indices back to the original destination ids.
        let after: Vec<i32> = as_i32(&build::<u16>(size, &rest).expect("builds").slots)
            .into_iter()
            .map(|i| if i >= k as i32 { i + 1 } else { i })
            .collect();
        let kept = before.iter().filter(|&&b| b != k as i32).count();
        let moved = before
            .iter()
            .zip(&after)
            .filter(|(&b, &a)| b != k as i32 && a != b)
            .count();
        let changed = before.iter().zip(&after).filter(|(b, a)| a != b).count();
        let share = moved as f64 / kept as f64;
        sum += share;
        max = max.max(share);
        sum_total += changed as f64 / m as f64;
        runs += 1;
    }
    let m = Measure {
        mean: sum / runs as f64,
        max,
        mean_total: sum_total / runs as f64,
    };
    eprintln!(
        "disruption N={n} M={}: other destinations' slots moved: mean {:.3}%, max {:.3}% \
         ({runs} removals); all slots changed: mean {:.3}% (the removed one's share is {:.3}%)",
        size.slots(),
        100.0 * m.mean,
        100.0 * m.max,
        100.0 * m.mean_total,
        100.0 / n as f64,
    );
    m
}

// Bounds: Maglev does not promise zero movement for the survivors (classic
// consistent hashing would), only little, shrinking as M/N grows; the paper
// recommends M > 100 N. See userspace-tests/README.md for the measured
// values these bounds were set against.

#[test]
fn remove_one_of_100_m4093() {
    // M/N = 41, below the paper's guidance: more movement is expected.
    let m = measure(12, 100, 0..100);
    assert!(m.mean < 0.05, "mean share {}", m.mean);
    assert!(m.max < 0.06, "max share {}", m.max);
}

#[test]
fn remove_one_of_100_m65521() {
    // M/N = 655: within the paper's guidance.
    let m = measure(16, 100, (0..100).step_by(9));
    // design.md (section 3) quotes the paper at about 0.6% of entries
    // moving when one backend fails; we measure about that. Some margin.
    assert!(m.mean < 0.01, "mean share {}", m.mean);
    assert!(m.max < 0.012, "max share {}", m.max);
}
