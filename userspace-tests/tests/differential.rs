// SPDX-License-Identifier: GPL-2.0

//! Differential tests: the Rust core against the C model of the in-tree
//! scheduler, on random services. Tables must be identical slot for slot
//! (with u16 and u32 slots) and every lookup must pick the same destination,
//! with and without mh-fallback, with and without mh-port.

mod common;

use common::{as_i32, build, cdest_strategy, client, core_dests, family};
use proptest::prelude::*;
use userspace_tests::maglev::{lookup, Addr, Error, Family, TableSize};
use userspace_tests::oracle::{CAvail, CDest, Model, DEST_OVERLOAD};

/// How to override the random availability, to reach the fallback paths.
#[derive(Clone, Copy, Debug)]
enum Outage {
    /// Keep the random weights and flags.
    AsIs,
    /// Overload every destination: nothing is available.
    All,
    /// Overload all but one destination.
    AllButOne(usize),
    /// Overload every other destination.
    Half,
}

fn outage() -> impl Strategy<Value = Outage> {
    prop_oneof![
        4 => Just(Outage::AsIs),
        1 => Just(Outage::All),
        2 => any::<usize>().prop_map(Outage::AllButOne),
        1 => Just(Outage::Half),
    ]
}

fn apply(outage: Outage, dests: &mut [CDest]) {
    let n = dests.len().max(1);
    for (i, d) in dests.iter_mut().enumerate() {
        let overload = match outage {
            Outage::AsIs => continue,
            Outage::All => true,
            Outage::AllButOne(k) => i != k % n,
            Outage::Half => i % 2 == 0,
        };
        d.flags = if overload { DEST_OVERLOAD } else { 0 };
    }
}

/// A random service and the clients to look up.
#[derive(Clone, Debug)]
struct Service {
    index: u32,
    family: Family,
    dests: Vec<CDest>,
    clients: Vec<([u8; 16], u16)>,
    /// mh-port: hash the client port too.
    port_flag: bool,
}

fn service(
    indices: std::ops::RangeInclusive<u32>,
    max_dests: usize,
    clients: usize,
) -> impl Strategy<Value = Service> {
    (indices, family(), outage(), any::<bool>()).prop_flat_map(
        move |(index, family, outage, port_flag)| {
            let dests = prop::collection::vec(cdest_strategy(family), 0..=max_dests).prop_map(
                move |mut d| {
                    apply(outage, &mut d);
                    d
                },
            );
            (dests, prop::collection::vec(client(family), clients)).prop_map(
                move |(dests, clients)| Service {
                    index,
                    family,
                    dests,
                    clients,
                    port_flag,
                },
            )
        },
    )
}

fn check(svc: &Service) -> Result<(), TestCaseError> {
    let Service {
        index,
        family: fam,
        ref dests,
        ref clients,
        port_flag,
    } = *svc;
    let size = TableSize::new(index).expect("valid index");
    let mut model = Model::new(index, fam == Family::Inet6).expect("C model");
    let rc = model.build(dests.clone());
    let core = core_dests(fam, dests);
    let t16 = build::<u16>(size, &core);
    let t32 = build::<u32>(size, &core);

    if rc != 0 {
        prop_assert_eq!(rc, -22);
        prop_assert_eq!(t16.err(), Some(Error::TooManyDests));
        prop_assert_eq!(t32.err(), Some(Error::TooManyDests));
        return Ok(());
    }
    let (t16, t32) = match (t16, t32) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            return Err(TestCaseError::fail(format!(
                "C built a table, Rust refused: {:?} {:?}",
                a.err(),
                b.err()
            )))
        }
    };

    let (gcd, rshift) = model.weights();
    prop_assert_eq!(
        (t16.built.weights.gcd, t16.built.weights.rshift as i32),
        (gcd, rshift)
    );
    let c_slots = model.slots();
    prop_assert!(as_i32(&t16.slots) == c_slots, "u16 table differs from C");
    prop_assert!(as_i32(&t32.slots) == c_slots, "u32 table differs from C");
    prop_assert_eq!(&t16.perms, &t32.perms);
    prop_assert_eq!(t16.built, t32.built);
    prop_assert_eq!(t16.slot_counts(), t32.slot_counts());

    let avail = CAvail(model.dests());
    for &(raw, port) in clients {
        let port = if port_flag { port } else { 0 };
        let addr = Addr::from_nf_inet_addr(fam, &raw);
        for fallback in [false, true] {
            let c = model.lookup(&raw, port, fallback);
            let r16 = lookup(
                &t16.slots,
                size,
                &t16.owners(),
                &addr,
                port,
                fallback,
                &avail,
            );
            let r32 = lookup(
                &t32.slots,
                size,
                &t32.owners(),
                &addr,
                port,
                fallback,
                &avail,
            );
            prop_assert_eq!(r16, c, "u16 lookup, fallback {}", fallback);
            prop_assert_eq!(r32, c, "u32 lookup, fallback {}", fallback);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(common::config(1500))]

    /// Small tables, up to 300 destinations (more than M = 251 at index 8,
    /// so the -EINVAL path is compared too).
    #[test]
    fn small_tables(
        svc in service(8..=13, 300, 32)
    ) {
        check(&svc)?;
    }
}

proptest! {
    #![proptest_config(common::config(48))]

    /// Large tables (M = 16381 .. 131071), few cases.
    #[test]
    fn large_tables(
        svc in service(14..=17, 400, 16)
    ) {
        check(&svc)?;
    }
}

proptest! {
    #![proptest_config(common::config(1000))]

    /// Few destinations with small weights: the common shapes, where
    /// turns and partial rounds matter most.
    #[test]
    fn few_small_weights(
        index in 8u32..=17,
        fam in family(),
        dests in prop::collection::vec(
            (cdest_strategy(Family::Inet), 0..=5i32, 0..=5i32).prop_map(|(mut d, w, lw)| {
                d.weight = w;
                d.last_weight = lw;
                d
            }),
            0..=6,
        ),
        clients in prop::collection::vec(client(Family::Inet6), 16),
        port_flag: bool,
    ) {
        check(&Service { index, family: fam, dests, clients, port_flag })?;
    }
}

proptest! {
    #![proptest_config(common::config(300))]

    /// Negative last weights (IPVS refuses them, but C's signed arithmetic
    /// defines the result): with gcd 8, a weight in -7..=-1 gets one turn.
    #[test]
    fn negative_weights(
        index in 8u32..=12,
        lws in prop::collection::vec(prop_oneof![(0..=3i32).prop_map(|k| 8 * k), -7..=-1i32], 1..=8),
        clients in prop::collection::vec(client(Family::Inet), 8),
    ) {
        let dests = lws
            .iter()
            .enumerate()
            .map(|(i, &lw)| common::cdest(common::v4_host(i as u32), 80, 1, lw))
            .collect();
        check(&Service { index, family: Family::Inet, dests, clients, port_flag: false })?;
    }
}

/// Every table size, one fixed service: a quick, deterministic smoke check.
#[test]
fn every_size_fixed_service() {
    let dests: Vec<CDest> = (0..10)
        .map(|i| common::cdest(common::v4_host(i), 80, 1 + i as i32, 1 + i as i32))
        .collect();
    let clients: Vec<([u8; 16], u16)> = (0..64u32)
        .map(|i| (common::v4_host(1000 + i), 1024 + i as u16))
        .collect();
    for index in TableSize::MIN_INDEX..=TableSize::MAX_INDEX {
        let svc = Service {
            index,
            family: Family::Inet,
            dests: dests.clone(),
            clients: clients.clone(),
            port_flag: true,
        };
        check(&svc).expect("agrees with C");
    }
}

/// Services of many destinations at the largest table size: the build lists
/// the last free slots reading whole words while every destination index
/// has its slot type's top bit clear (up to 32768 destinations in `u16`
/// slots, any number in `u32` ones), one slot at a time above that.
#[test]
fn many_destinations() {
    let clients: Vec<([u8; 16], u16)> = (0..64u32)
        .map(|i| (common::v4_host(1_000_000 + i), 1024 + i as u16))
        .collect();
    for n in [32_768u32, 32_769, 40_000] {
        let dests: Vec<CDest> = (0..n)
            .map(|i| common::cdest(common::v4_host(i), 80, 1, 1 + (i % 3) as i32))
            .collect();
        let svc = Service {
            index: TableSize::MAX_INDEX,
            family: Family::Inet,
            dests,
            clients: clients.clone(),
            port_flag: false,
        };
        check(&svc).expect("agrees with C");
    }
}
