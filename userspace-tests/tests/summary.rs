// SPDX-License-Identifier: GPL-2.0

//! Table summaries: shares and their rounding, slot counts against the
//! build's own, and moved slots against a direct comparison.

mod common;

use common::{build, family, v4_host, Rng};
use proptest::prelude::*;
use userspace_tests::maglev::{
    count_slots, moved_slots, sort_canonical_by_key, Addr, Dest, Family, Share, Slot, TableSize,
};

fn dest(addr: Addr, port: u16, last_weight: i32) -> Dest {
    Dest {
        addr,
        port,
        last_weight,
    }
}

/// `n` IPv4 destinations of port 80 with equal weights.
fn equal_dests(n: u32) -> Vec<Dest> {
    (0..n)
        .map(|i| dest(Addr::from_nf_inet_addr(Family::Inet, &v4_host(i)), 80, 1))
        .collect()
}

/// The moved-slot count written out directly: owners compared slot by slot.
fn moved_direct<S: Slot>(a: &[S], ad: &[Dest], b: &[S], bd: &[Dest]) -> u32 {
    let owner = |s: Option<&S>, d: &[Dest]| {
        s.and_then(|s| s.index())
            .and_then(|i| d.get(i))
            .map(|d| (d.addr, d.port))
    };
    (0..a.len().max(b.len()))
        .filter(|&i| owner(a.get(i), ad) != owner(b.get(i), bd))
        .count() as u32
}

#[test]
fn share_rounding_and_display() {
    let cases = [
        (1, 3, 3333, 333_333, "33.33%"),
        (2, 3, 6667, 666_667, "66.67%"),
        (0, 0, 0, 0, "0.00%"),
        (5, 0, 0, 0, "0.00%"),
        (4093, 4093, 10_000, 1_000_000, "100.00%"),
        (1, 4093, 2, 244, "0.02%"),
        (1, 20_000, 1, 50, "0.01%"),
        (1, 20_001, 0, 50, "0.00%"),
        (u32::MAX, u32::MAX, 10_000, 1_000_000, "100.00%"),
    ];
    for (part, whole, bp, ppm, text) in cases {
        let s = Share::new(part, whole);
        assert_eq!(s.basis_points(), bp, "{part}/{whole}");
        assert_eq!(s.per_million(), ppm, "{part}/{whole}");
        assert_eq!(s.to_string(), text, "{part}/{whole}");
    }
    // More than the whole: still defined, saturating at u32::MAX.
    assert_eq!(Share::new(3, 2).to_string(), "150.00%");
    assert_eq!(Share::new(u32::MAX, 1).scaled(u32::MAX), u32::MAX);
    let size = TableSize::new(8).expect("valid index");
    assert_eq!(Share::of_table(251, size), Share::new(251, 251));
}

#[test]
fn slot_counts_agree_with_the_build() {
    let mut rng = Rng(11);
    for index in TableSize::MIN_INDEX..=TableSize::MAX_INDEX {
        let size = TableSize::new(index).expect("valid index");
        let dests: Vec<Dest> = (0..40)
            .map(|i| {
                dest(
                    Addr::from_nf_inet_addr(Family::Inet, &v4_host(i)),
                    80,
                    rng.below(4) as i32,
                )
            })
            .collect();
        let t = build::<u32>(size, &dests).expect("builds");
        let mut counts = vec![u32::MAX; dests.len()];
        let unnamed = count_slots(&t.slots, &mut counts);
        // A plain count of each index, to check against.
        let mut plain = vec![0u32; dests.len()];
        for slot in &t.slots {
            if let Some(i) = slot.index() {
                plain[i] += 1;
            }
        }
        assert_eq!(counts, plain, "index {index}");
        let any_weight = dests.iter().any(|d| d.last_weight > 0);
        assert_eq!(unnamed, if any_weight { 0 } else { size.slots() });
        // The shares add up to 100%, within rounding.
        let total: u32 = counts
            .iter()
            .map(|&c| Share::of_table(c, size).basis_points())
            .sum();
        if any_weight {
            assert!(
                total.abs_diff(10_000) <= dests.len() as u32 / 2 + 1,
                "{total}"
            );
        }
    }
}

#[test]
fn count_slots_with_a_short_counts_buffer() {
    let slots = [0u16, 1, 2, u16::EMPTY, 1];
    let mut counts = [9u32; 2];
    // Index 2 and the empty slot name nothing in `counts`.
    assert_eq!(count_slots(&slots, &mut counts), 2);
    assert_eq!(counts, [1, 2]);
    assert_eq!(count_slots::<u16>(&[], &mut counts), 0);
    assert_eq!(counts, [0, 0]);
}

#[test]
fn a_share_of_the_table_is_slots_over_m() {
    let size = TableSize::DEFAULT;
    assert_eq!(Share::of_table(409, size), Share::new(409, 4093));
    assert_eq!(Share::of_table(409, size).to_string(), "9.99%");
}

#[test]
fn removing_one_of_ten_moves_about_a_tenth() {
    // The removed destination's own tenth must move; a few of the others'
    // slots move too, fewer as M grows (M / N = 25, 409, 6552 here).
    // Measured: at most 16.3%, 11.3% and 10.3% of the slots.
    for (index, max_ppm) in [(8, 170_000), (12, 115_000), (16, 104_000)] {
        let size = TableSize::new(index).expect("valid index");
        let all = equal_dests(10);
        let before = build::<u16>(size, &all).expect("builds");
        for k in 0..all.len() {
            let mut rest = all.clone();
            rest.remove(k);
            let after = build::<u16>(size, &rest).expect("builds");
            let moved = moved_slots(&before.slots, &all, &after.slots, &rest);
            let own = before.slot_counts()[k];
            assert!(own.abs_diff(size.slots() / 10) <= 1, "index {index}");
            assert!(moved >= own, "index {index}, removed {k}");
            let share = Share::of_table(moved, size).per_million();
            assert!(
                share <= max_ppm,
                "index {index}, removed {k}: {share} ppm moved"
            );
        }
    }
}

#[test]
fn moved_slots_edge_cases() {
    let size = TableSize::new(8).expect("valid index");
    let dests = equal_dests(5);
    let t = build::<u16>(size, &dests).expect("builds");
    let empty = vec![u16::EMPTY; 251];
    let none: [Dest; 0] = [];
    assert_eq!(moved_slots(&t.slots, &dests, &t.slots, &dests), 0);
    assert_eq!(moved_slots(&t.slots, &dests, &empty, &none), 251);
    assert_eq!(moved_slots(&empty, &none, &empty, &none), 0);
    // Different lengths: the missing slots read as empty.
    assert_eq!(moved_slots(&t.slots, &dests, &t.slots[..200], &dests), 51);
    assert_eq!(
        moved_slots::<u16, u16, Dest, Dest>(&[], &none, &[], &none),
        0
    );
    // Different slot types.
    let wide = build::<u32>(size, &dests).expect("builds");
    assert_eq!(moved_slots(&t.slots, &dests, &wide.slots, &dests), 0);
    // A reweighted destination keeps its identity: only slots that change
    // hands count.
    let mut heavier = dests.clone();
    heavier[0].last_weight = 2;
    let h = build::<u16>(size, &heavier).expect("builds");
    assert_eq!(
        moved_slots(&t.slots, &dests, &h.slots, &heavier),
        moved_direct(&t.slots, &dests, &h.slots, &heavier)
    );
    assert!(moved_slots(&t.slots, &dests, &h.slots, &heavier) > 0);
}

proptest! {
    #![proptest_config(common::config(64))]

    /// Against the direct comparison, for arbitrary pairs of tables, and
    /// symmetric.
    #[test]
    fn moved_slots_matches_direct_count(
        index in 8u32..=11,
        (a, b) in family().prop_flat_map(|f| (common::unique_dests(f, 0..4u16, 0..=20, 0..=30), common::unique_dests(f, 0..4u16, 0..=20, 0..=30))),
    ) {
        let size = TableSize::new(index).expect("valid index");
        let ta = build::<u16>(size, &a).expect("builds");
        let tb = build::<u16>(size, &b).expect("builds");
        let m = moved_slots(&ta.slots, &a, &tb.slots, &b);
        prop_assert_eq!(m, moved_direct(&ta.slots, &a, &tb.slots, &b));
        prop_assert_eq!(m, moved_slots(&tb.slots, &b, &ta.slots, &a));
    }

    /// Destination array order does not matter: with flag-3 a permuted
    /// configuration moves nothing.
    #[test]
    fn canonical_reorder_moves_nothing(
        dests in family().prop_flat_map(|f| common::unique_dests(f, 0..4u16, 0..=20, 0..=30)),
        seed: u64,
    ) {
        let size = TableSize::new(9).expect("valid index");
        let mut a = dests.clone();
        let mut b = dests;
        Rng(seed | 1).shuffle(&mut b);
        sort_canonical_by_key(&mut a, |d| *d);
        let ta = build::<u16>(size, &a).expect("builds");
        // The same table, described with the shuffled array.
        let remapped: Vec<u16> = ta
            .slots
            .iter()
            .map(|s| {
                s.index().map_or(u16::EMPTY, |i| {
                    b.iter().position(|d| *d == a[i]).expect("present") as u16
                })
            })
            .collect();
        prop_assert_eq!(moved_slots(&ta.slots, &a, &remapped, &b), 0);
    }
}
