// SPDX-License-Identifier: GPL-2.0

//! The order-independent variant (sched flag-3): with the canonical order
//! the table depends only on the set of destinations; with the default
//! (C) order it depends on the order they were added in.

mod common;

use common::{build, family, Rng};
use proptest::prelude::*;
use userspace_tests::maglev::{
    canonical_cmp, sort_canonical_by_key, sort_canonical_keyed, Addr, Dest, Family, Slot, TableSize,
};

/// The table as destination identities (address, port), so that tables
/// built from differently ordered lists can be compared.
fn owners(size: TableSize, dests: &[Dest]) -> Vec<Option<(Addr, u16)>> {
    let t = build::<u16>(size, dests).expect("builds");
    t.slots
        .iter()
        .map(|s| s.index().map(|i| (dests[i].addr, dests[i].port)))
        .collect()
}

proptest! {
    #![proptest_config(common::config(200))]

    #[test]
    fn canonical_order_ignores_insertion_order(
        index in 8u32..=13,
        dests in family().prop_flat_map(|f| common::unique_dests(f, any::<u16>(), 0..=50, 0..=120)),
        seed: u64,
    ) {
        let size = TableSize::new(index).expect("valid index");
        let mut a = dests.clone();
        let mut b = dests;
        Rng(seed | 1).shuffle(&mut b);
        sort_canonical_by_key(&mut a, |d| *d);
        sort_canonical_by_key(&mut b, |d| *d);
        prop_assert_eq!(&a, &b);
        prop_assert!(owners(size, &a) == owners(size, &b));
    }

    /// The one sort of the canonical order (the module's, mh-tool's and the
    /// tests'): any input, duplicates too, comes out as core's stable sort
    /// by `canonical_cmp` orders it, by value, through indices, or with
    /// the keys read beforehand (as a build sorts), items and keys alike.
    /// Lists already in order, in reverse order (which the sort finds in a
    /// pass) and one swap away from either (which it must not take for
    /// sorted) come out alike.
    #[test]
    fn sort_canonical_by_key_sorts(
        dests in family().prop_flat_map(|f| common::unique_dests(f, any::<u16>(), 0..=50, 0..=150)),
        dups in 0usize..20,
        seed: u64,
        arrangement in 0u8..5,
    ) {
        let mut v = dests.clone();
        v.extend(dests.iter().take(dups).copied());
        let mut rng = Rng(seed | 1);
        rng.shuffle(&mut v);
        let mut expect = v.clone();
        expect.sort_by(canonical_cmp);
        if arrangement > 0 {
            v.clone_from(&expect);
            if arrangement % 2 == 0 {
                v.reverse();
            }
            if arrangement > 2 && v.len() > 1 {
                let n = v.len() as u64;
                let (i, j) = (rng.below(n) as usize, rng.below(n) as usize);
                v.swap(i, j);
            }
        }
        let mut idx: Vec<usize> = (0..v.len()).collect();
        sort_canonical_by_key(&mut idx, |&i| v[i]);
        let by_index: Vec<Dest> = idx.iter().map(|&i| v[i]).collect();
        let mut keyed: Vec<usize> = (0..v.len()).collect();
        let mut keys = v.clone();
        sort_canonical_keyed(&mut keyed, &mut keys);
        let by_keys: Vec<Dest> = keyed.iter().map(|&i| v[i]).collect();
        sort_canonical_by_key(&mut v, |d| *d);
        prop_assert_eq!(&v, &expect);
        prop_assert_eq!(&by_index, &expect);
        prop_assert_eq!(&by_keys, &expect);
        prop_assert_eq!(&keys, &expect);
    }

    /// The address order key the canonical order compares orders as
    /// `Addr`'s `Ord`, whatever the families: equal prefixes too, down to
    /// equal addresses, and IPv6 addresses as small as IPv4 ones.
    #[test]
    fn address_order_key_orders_as_ord(
        a: [u8; 16],
        b: [u8; 16],
        fa: bool,
        fb: bool,
        same in 0usize..=16,
        small: bool,
    ) {
        let addr = |v6: bool, x: [u8; 16]| {
            if v6 {
                let mut x = x;
                if small {
                    x[..12].fill(0);
                }
                Addr::V6(x)
            } else {
                Addr::V4([x[0], x[1], x[2], x[3]])
            }
        };
        let mut b = b;
        b[..same].copy_from_slice(&a[..same]);
        let (x, y) = (addr(fa, a), addr(fb, b));
        prop_assert_eq!(x.order_key().cmp(&y.order_key()), x.cmp(&y));
    }

    #[test]
    fn canonical_cmp_is_a_total_order(x in common::unique_dests(Family::Inet6, any::<u16>(), 0..=50, 0..=3)) {
        for a in &x {
            prop_assert_eq!(canonical_cmp(a, a), core::cmp::Ordering::Equal);
            for b in &x {
                prop_assert_eq!(canonical_cmp(a, b), canonical_cmp(b, a).reverse());
            }
        }
    }
}

#[test]
fn ipv4_sorts_before_ipv6_then_by_bytes_then_port() {
    let d = |addr, port| Dest {
        addr,
        port,
        last_weight: 1,
    };
    let mut v = vec![
        d(Addr::V6([0; 16]), 1),
        d(Addr::V4([10, 0, 0, 2]), 80),
        d(Addr::V4([10, 0, 0, 1]), 443),
        d(Addr::V4([10, 0, 0, 1]), 80),
    ];
    sort_canonical_by_key(&mut v, |d| *d);
    let order: Vec<_> = v.iter().map(|x| (x.addr, x.port)).collect();
    assert_eq!(
        order,
        vec![
            (Addr::V4([10, 0, 0, 1]), 80),
            (Addr::V4([10, 0, 0, 1]), 443),
            (Addr::V4([10, 0, 0, 2]), 80),
            (Addr::V6([0; 16]), 1),
        ]
    );
}

/// The default (C) order gives a different table for a different insertion
/// order: two directors configured differently disagree. Canonical order
/// fixes that for the same lists.
#[test]
fn default_order_depends_on_insertion_order() {
    let size = TableSize::new(8).expect("valid index");
    let dests: Vec<Dest> = (0..3u8)
        .map(|i| Dest {
            addr: Addr::V4([10, 0, 1, i + 1]),
            port: 80,
            last_weight: 1,
        })
        .collect();
    let mut reversed = dests.clone();
    reversed.reverse();

    let a = owners(size, &dests);
    let b = owners(size, &reversed);
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    eprintln!(
        "default order: {differ} of {} slots differ between insertion orders",
        size.slots()
    );
    assert!(differ > 0, "expected the list order to matter");

    let (mut ca, mut cb) = (dests, reversed);
    sort_canonical_by_key(&mut ca, |d| *d);
    sort_canonical_by_key(&mut cb, |d| *d);
    assert!(owners(size, &ca) == owners(size, &cb));
}
