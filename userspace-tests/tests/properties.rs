// SPDX-License-Identifier: GPL-2.0

//! Properties of the tables the core builds (Rust core alone).

mod common;

use common::{as_i32, build, cdest, core_dests, counts, v4_host};
use proptest::prelude::*;
use userspace_tests::maglev::{
    lookup, turns, weights, Addr, Dest, Family, Slot, TableSize, Weights,
};
use userspace_tests::oracle::CAvail;

fn dests_with(weights: &[i32]) -> Vec<Dest> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| Dest {
            addr: Addr::from_nf_inet_addr(Family::Inet, &v4_host(i as u32)),
            port: 80,
            last_weight: w,
        })
        .collect()
}

fn size(index: u32) -> TableSize {
    TableSize::new(index).expect("valid index")
}

proptest! {
    #![proptest_config(common::config(300))]

    /// Every slot is taken as soon as one last weight is positive; else
    /// every slot is empty.
    #[test]
    fn full_or_empty(index in 8u32..=14, ws in prop::collection::vec(-3i32..=20, 0..=200)) {
        let s = size(index);
        let t = build::<u16>(s, &dests_with(&ws)).expect("builds");
        let empty = t.slots.iter().filter(|&&x| x == u16::EMPTY).count();
        if ws.iter().any(|&w| w > 0) {
            prop_assert_eq!(empty, 0);
            let total: u32 = t.slot_counts().iter().sum();
            prop_assert_eq!(total, s.slots());
        } else {
            prop_assert_eq!(empty, s.slots() as usize);
        }
    }

    /// Equal weights give slot counts that differ by at most one.
    #[test]
    fn equal_weights_balance(index in 8u32..=15, n in 1usize..=250, w in 1..=i32::MAX) {
        let s = size(index);
        let t = build::<u16>(s, &dests_with(&vec![w; n])).expect("builds");
        let c = counts(&as_i32(&t.slots), n);
        let (lo, hi) = (c.iter().min().unwrap(), c.iter().max().unwrap());
        prop_assert!(hi - lo <= 1, "counts from {} to {}", lo, hi);
    }

    /// Each destination gets `turns` slots per complete round: counts
    /// follow the weight ratios.
    #[test]
    fn counts_follow_turns(index in 8u32..=15, ws in prop::collection::vec(0i32..=1000, 1..=60)) {
        prop_assume!(ws.iter().any(|&w| w > 0));
        let s = size(index);
        let t = build::<u16>(s, &dests_with(&ws)).expect("builds");
        let c = counts(&as_i32(&t.slots), ws.len());
        let per_round: u32 = (0..ws.len()).map(|i| t.turns(i)).sum();
        // Complete rounds before the table filled up.
        let rounds = s.slots() / per_round;
        let from_table = t.slot_counts();
        for i in 0..ws.len() {
            let tr = t.turns(i);
            prop_assert_eq!(tr, turns(ws[i], t.built.weights));
            prop_assert_eq!(from_table[i], c[i]);
            prop_assert!(
                tr * rounds <= c[i] && c[i] <= tr * (rounds + 1),
                "dest {} turns {} got {} after {} rounds", i, tr, c[i], rounds
            );
        }
    }
}

#[test]
fn weights_and_turns_examples() {
    // gcd 2, max/gcd = 3 fits in 6 bits: no shift.
    let w = weights(&[2, 4, 6, 0], size(12));
    assert_eq!(w, Weights { gcd: 2, rshift: 0 });
    assert_eq!([2, 4, 6, 0].map(|x| turns(x, w)), [1, 2, 3, 0]);

    // max/gcd = 1000 needs 10 bits; index 8 keeps 4: shift by 6.
    let w = weights(&[1, 1000], size(8));
    assert_eq!(w, Weights { gcd: 1, rshift: 6 });
    // 1 >> 6 is 0 but the weight is not: one turn, as in C.
    assert_eq!([1, 1000].map(|x| turns(x, w)), [1, 15]);

    // No positive weight: no gcd, no table.
    assert_eq!(weights(&[0, -5], size(12)), Weights { gcd: 0, rshift: 0 });
    assert_eq!(weights(&[], size(12)), Weights { gcd: 0, rshift: 0 });

    // i32::MAX with 1: ratio 2^31 - 1 uses 31 bits.
    let w = weights(&[1, i32::MAX], size(17));
    assert_eq!(
        w,
        Weights {
            gcd: 1,
            rshift: 31 - 8
        }
    );
}

#[test]
fn weight_ratio_in_table() {
    let s = size(12);
    let t = build::<u16>(s, &dests_with(&[1, 2, 3])).expect("builds");
    let c = counts(&as_i32(&t.slots), 3);
    // 4093 = 682 rounds of 6 slots, plus one partial round of 1 slot.
    assert_eq!(c, vec![683, 1364, 2046]);
}

/// A destination quiesced with weight 0 keeps its slots (its last weight
/// still counts); its clients get no destination unless mh-fallback.
#[test]
fn quiesced_destination() {
    let s = size(10);
    let mut cd: Vec<_> = (0..4).map(|i| cdest(v4_host(i), 80, 1, 1)).collect();
    cd[2].weight = 0;
    let dests = core_dests(Family::Inet, &cd);
    let t = build::<u16>(s, &dests).expect("builds");
    assert!(t.slot_counts()[2] > 200);
    let avail = CAvail(&cd);
    let mut seen = 0;
    for i in 0..2000u32 {
        let addr = Addr::V4((0xc000_0200 + i).to_be_bytes());
        let plain = lookup(&t.slots, s, &t.owners(), &addr, 0, false, &avail);
        let fb = lookup(&t.slots, s, &t.owners(), &addr, 0, true, &avail);
        match plain {
            Some(d) => assert_eq!(fb, Some(d)),
            None => {
                seen += 1;
                assert!(fb.is_some_and(|d| d != 2), "fallback picks another");
            }
        }
    }
    assert!(seen > 0, "some clients hashed to the quiesced destination");
}
