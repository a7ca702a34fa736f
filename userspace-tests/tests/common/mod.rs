// SPDX-License-Identifier: GPL-2.0

//! Helpers shared by the test files: conversions between the core's types
//! and the C model's, availability, table builds, and proptest strategies.

// Each test file uses a different subset.
#![allow(dead_code)]

pub mod fixture;

use proptest::prelude::*;
use userspace_tests::maglev::{Addr, Dest, Error, Family, OwnedTable, Slot, TableSize};
use userspace_tests::oracle::{CDest, DEST_OVERLOAD};

/// The core's view of a C destination in a service of `family`.
pub fn core_dest(family: Family, d: &CDest) -> Dest {
    Dest {
        addr: Addr::from_nf_inet_addr(family, &d.addr),
        port: u16::from_be(d.port_be),
        last_weight: d.last_weight,
    }
}

/// The core's view of a C destination list.
pub fn core_dests(family: Family, dests: &[CDest]) -> Vec<Dest> {
    dests.iter().map(|d| core_dest(family, d)).collect()
}

/// Destinations with distinct (address, port), as IPVS guarantees: `count`
/// candidates with ports from `ports` and last weights from `weights`,
/// those that repeat an (address, port) dropped.
pub fn unique_dests(
    fam: Family,
    ports: impl Strategy<Value = u16>,
    weights: std::ops::RangeInclusive<i32>,
    count: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = Vec<Dest>> {
    prop::collection::vec((raw_addr_of(fam), ports, weights), count).prop_map(move |v| {
        let mut seen = std::collections::BTreeSet::new();
        v.into_iter()
            .filter(|(raw, port, _)| seen.insert((*raw, *port)))
            .map(|(raw, port, w)| Dest {
                addr: Addr::from_nf_inet_addr(fam, &raw),
                port,
                last_weight: w,
            })
            .collect()
    })
}

/// Builds a core table of slot type `S`, in the order given.
pub fn build<S: Slot>(size: TableSize, dests: &[Dest]) -> Result<OwnedTable<S>, Error> {
    OwnedTable::build(size, dests)
}

/// A table as destination indices, -1 for empty (the C model's form).
pub fn as_i32<S: Slot>(slots: &[S]) -> Vec<i32> {
    slots
        .iter()
        .map(|s| s.index().map_or(-1, |i| i as i32))
        .collect()
}

/// Slots per destination, from a table in C form.
pub fn counts(slots: &[i32], n: usize) -> Vec<u32> {
    let mut c = vec![0u32; n];
    for &s in slots {
        if let Ok(i) = usize::try_from(s) {
            c[i] += 1;
        }
    }
    c
}

/// A C destination with the given address bytes, host-order port and weights.
pub fn cdest(addr: [u8; 16], port: u16, weight: i32, last_weight: i32) -> CDest {
    CDest {
        addr,
        port_be: port.to_be(),
        weight,
        last_weight,
        flags: 0,
    }
}

/// Raw bytes of an IPv4 address (the rest of `nf_inet_addr` zero).
pub fn v4(a: [u8; 4]) -> [u8; 16] {
    let mut raw = [0u8; 16];
    raw[..4].copy_from_slice(&a);
    raw
}

/// A deterministic, distinct IPv4 destination address for index `i`.
pub fn v4_host(i: u32) -> [u8; 16] {
    let [_, b, c, d] = (0x0a00_0000 | (i + 1)).to_be_bytes();
    v4([10, b, c, d])
}

/// Small deterministic PRNG for tests that are not proptests (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

// ---- proptest strategies ------------------------------------------------

/// Proptest settings: `cases` cases; failures are kept next to the test
/// file (`tests/NAME.regressions`) and replayed first on later runs.
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    }
}

/// Raw address bytes: IPv4 (12 zero bytes after) or IPv6.
pub fn raw_addr() -> impl Strategy<Value = [u8; 16]> {
    prop_oneof![any::<[u8; 4]>().prop_map(v4), any::<[u8; 16]>(),]
}

/// Raw address bytes of the given family.
pub fn raw_addr_of(family: Family) -> BoxedStrategy<[u8; 16]> {
    match family {
        Family::Inet => any::<[u8; 4]>().prop_map(v4).boxed(),
        Family::Inet6 => any::<[u8; 16]>().boxed(),
    }
}

/// A service family.
pub fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::Inet), Just(Family::Inet6)]
}

/// Weights as IPVS allows them (0..=i32::MAX), biased to the edges and to
/// small values, with an occasional negative one to pin C's signed
/// arithmetic.
pub fn weight() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => Just(0),
        1 => Just(i32::MAX),
        8 => 1..=10i32,
        4 => 1..=100_000i32,
        2 => 0..=i32::MAX,
        1 => -1000..=-1i32,
        1 => Just(i32::MIN),
    ]
}

/// One destination of a service of `family`: random port, weights and
/// overload flag. Addresses are mostly of the service's family, sometimes
/// of the other one (tunnelled mixed-family destinations).
pub fn cdest_strategy(family: Family) -> impl Strategy<Value = CDest> {
    let addr = prop_oneof![8 => raw_addr_of(family), 1 => raw_addr()];
    (
        addr,
        any::<u16>(),
        weight(),
        weight(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(addr, port, weight, last_weight, overload)| CDest {
            addr,
            port_be: port.to_be(),
            weight,
            last_weight,
            flags: if overload { DEST_OVERLOAD } else { 0 },
        })
}

/// A client: raw address (of `family`) and host-order port.
pub fn client(family: Family) -> impl Strategy<Value = ([u8; 16], u16)> {
    (raw_addr_of(family), any::<u16>())
}
