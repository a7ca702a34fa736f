// SPDX-License-Identifier: GPL-2.0

//! The table digest: SipHash-2-4 against an independent implementation,
//! the documented encoding, equal digests for equal tables (whatever the
//! destination order), different digests after any change, and a known
//! answer that pins the encoding.

mod common;

use common::{build, family, raw_addr_of, v4_host, Rng};
use proptest::prelude::*;
use userspace_tests::maglev::{
    siphash24, sort_canonical_by_key, table_digest, Addr, Dest, Family, SipHash24, Slot, TableSize,
    DIGEST_KEY, DIGEST_VERSION,
};

/// The reference SipHash-2-4 of the standard library (deprecated only
/// because it is not the default hasher any more).
#[allow(deprecated)]
fn std_siphash24(key: &[u8; 16], data: &[u8]) -> u64 {
    use std::hash::Hasher;
    let k0 = u64::from_le_bytes(key[..8].try_into().expect("8 bytes"));
    let k1 = u64::from_le_bytes(key[8..].try_into().expect("8 bytes"));
    let mut h = std::hash::SipHasher::new_with_keys(k0, k1);
    h.write(data);
    h.finish()
}

/// The digest's message, written out from the encoding documented in
/// `src/maglev/digest.rs` and `tools/mh-tool/README.md`.
fn message<S: Slot>(size: TableSize, dests: &[Dest], slots: &[S]) -> Vec<u8> {
    let mut msg = vec![DIGEST_VERSION];
    msg.extend_from_slice(&size.slots().to_be_bytes());
    for s in slots {
        match s.index().map(|i| dests.get(i)) {
            None => msg.push(0x00),
            Some(None) => msg.push(0xff),
            Some(Some(d)) => {
                match d.addr {
                    Addr::V4(a) => {
                        msg.push(0x04);
                        msg.extend_from_slice(&a);
                    }
                    Addr::V6(a) => {
                        msg.push(0x06);
                        msg.extend_from_slice(&a);
                    }
                }
                msg.extend_from_slice(&d.port.to_be_bytes());
                msg.extend_from_slice(&d.last_weight.to_be_bytes());
            }
        }
    }
    msg
}

/// The digest of the table built from `dests` in the order given.
fn digest_of(size: TableSize, dests: &[Dest]) -> u64 {
    let t = build::<u16>(size, dests).expect("builds");
    table_digest(size, dests, &t.slots)
}

/// What each slot names: (address, port, last weight), the content the
/// digest covers.
fn named(size: TableSize, dests: &[Dest]) -> Vec<Option<(Addr, u16, i32)>> {
    let t = build::<u16>(size, dests).expect("builds");
    t.slots
        .iter()
        .map(|s| {
            s.index()
                .map(|i| (dests[i].addr, dests[i].port, dests[i].last_weight))
        })
        .collect()
}

fn dest(addr: Addr, port: u16, last_weight: i32) -> Dest {
    Dest {
        addr,
        port,
        last_weight,
    }
}

/// The fixed configuration of the known-answer test (the destinations of
/// `fixtures/example-v4.mhfx`).
fn example_v4() -> Vec<Dest> {
    [(5, 1), (4, 3), (3, 2), (2, 2), (1, 1)]
        .into_iter()
        .map(|(host, w)| dest(Addr::V4([10, 0, 1, host]), 8080, w))
        .collect()
}

#[test]
fn siphash24_reference_vectors() {
    // The SipHash paper's example (appendix A) and the first entry of the
    // reference vectors: key 00..0f, message 00..0e and the empty message.
    let key: [u8; 16] = core::array::from_fn(|i| i as u8);
    let msg: Vec<u8> = (0..15).collect();
    assert_eq!(siphash24(&key, &msg), 0xa129_ca61_49be_45e5);
    assert_eq!(siphash24(&key, &[]), 0x726f_db47_dd0e_0e31);
    // Every length of the reference vectors, against std's SipHash-2-4.
    let data: Vec<u8> = (0..64).collect();
    for n in 0..=data.len() {
        assert_eq!(
            siphash24(&key, &data[..n]),
            std_siphash24(&key, &data[..n]),
            "length {n}"
        );
    }
}

#[test]
fn siphash24_incremental_writes_equal_one_write() {
    let mut rng = Rng(0x5eed);
    for _ in 0..500 {
        let key: [u8; 16] = core::array::from_fn(|_| rng.next_u64() as u8);
        let len = rng.below(300) as usize;
        let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        let mut h = SipHash24::new(&key);
        let mut rest = &data[..];
        while !rest.is_empty() {
            let n = (rng.below(20) as usize).min(rest.len());
            h.write(&rest[..n]);
            rest = &rest[n..];
        }
        assert_eq!(h.finish(), std_siphash24(&key, &data));
        // finish() leaves the hasher as it was.
        assert_eq!(h.finish(), siphash24(&key, &data));
    }
}

#[test]
fn digest_follows_the_documented_encoding() {
    assert_eq!(&DIGEST_KEY, b"ip_vs_mh.digest1");
    assert_eq!(DIGEST_VERSION, 1);
    let size = TableSize::new(8).expect("valid index");
    let mut rng = Rng(7);
    for n in [0usize, 1, 2, 5, 40] {
        let dests: Vec<Dest> = (0..n)
            .map(|i| {
                let addr = if i % 2 == 0 {
                    Addr::V4([10, 1, 0, i as u8])
                } else {
                    Addr::V6(core::array::from_fn(|b| (b + i) as u8))
                };
                dest(addr, 1000 + i as u16, rng.below(5) as i32)
            })
            .collect();
        let t = build::<u16>(size, &dests).expect("builds");
        let msg = message(size, &dests, &t.slots);
        assert_eq!(
            table_digest(size, &dests, &t.slots),
            std_siphash24(&DIGEST_KEY, &msg),
            "{n} destinations"
        );
    }
}

include!("../../tests/vectors/digest.rs");

#[test]
fn known_answer() {
    for (index, dests, want) in DIGEST_KNOWN_ANSWERS {
        let size = TableSize::new(index).expect("valid index");
        assert_eq!(digest_of(size, dests), want, "index {index}, {dests:?}");
    }
    // The same table as the fixture's.
    assert_eq!(&example_v4()[..], &EXAMPLE_V4[..]);
}

#[test]
fn same_config_same_digest_for_every_slot_type() {
    for index in TableSize::MIN_INDEX..=TableSize::MAX_INDEX {
        let size = TableSize::new(index).expect("valid index");
        let dests: Vec<Dest> = (0..30)
            .map(|i| {
                dest(
                    Addr::from_nf_inet_addr(Family::Inet, &v4_host(i)),
                    80,
                    1 + (i % 3) as i32,
                )
            })
            .collect();
        let a = build::<u16>(size, &dests).expect("builds");
        let b = build::<u32>(size, &dests).expect("builds");
        let da = table_digest(size, &dests, &a.slots);
        assert_eq!(da, table_digest(size, &dests, &b.slots));
        assert_eq!(da, digest_of(size, &dests));
    }
}

#[test]
fn table_size_is_part_of_the_digest() {
    // All slots empty: the tables differ only in M.
    let none: [Dest; 0] = [];
    let a = digest_of(TableSize::new(8).expect("valid"), &none);
    let b = digest_of(TableSize::new(9).expect("valid"), &none);
    assert_ne!(a, b);
}

#[test]
fn odd_tables_do_not_panic() {
    let size = TableSize::new(8).expect("valid index");
    let dests = example_v4();
    // Indices past the end of `dests`, a short and an empty table.
    let dangling = vec![7u16; 251];
    let short = vec![0u16; 3];
    let d1 = table_digest(size, &dests, &dangling);
    let d2 = table_digest(size, &dests, &short);
    let d3 = table_digest::<u16, Dest>(size, &dests, &[]);
    assert_ne!(d1, d2);
    assert_ne!(d2, d3);
    assert_ne!(d1, digest_of(size, &dests));
}

proptest! {
    #![proptest_config(common::config(64))]

    /// With flag-3 (canonical order) any insertion order gives the same
    /// digest.
    #[test]
    fn canonical_order_same_digest(
        index in 8u32..=12,
        dests in family().prop_flat_map(|f| common::unique_dests(f, any::<u16>(), 0..=20, 1..=60)),
        seed: u64,
    ) {
        let size = TableSize::new(index).expect("valid index");
        let mut a = dests.clone();
        let mut b = dests;
        Rng(seed | 1).shuffle(&mut b);
        sort_canonical_by_key(&mut a, |d| *d);
        sort_canonical_by_key(&mut b, |d| *d);
        prop_assert_eq!(digest_of(size, &a), digest_of(size, &b));
    }

    /// The digest hashes what the slots name, not the indices: the same
    /// table described with the destination array in another order has the
    /// same digest.
    #[test]
    fn destination_array_order_does_not_matter(
        index in 8u32..=12,
        dests in family().prop_flat_map(|f| common::unique_dests(f, any::<u16>(), 0..=20, 1..=60)),
        seed: u64,
    ) {
        let size = TableSize::new(index).expect("valid index");
        let t = build::<u16>(size, &dests).expect("builds");
        // perm[new] = old: the new array holds dests[perm[new]].
        let mut perm: Vec<usize> = (0..dests.len()).collect();
        Rng(seed | 1).shuffle(&mut perm);
        let mut inverse = vec![0usize; perm.len()];
        for (new, &old) in perm.iter().enumerate() {
            inverse[old] = new;
        }
        let shuffled: Vec<Dest> = perm.iter().map(|&i| dests[i]).collect();
        let remapped: Vec<u16> = t
            .slots
            .iter()
            .map(|s| s.index().map_or(u16::EMPTY, |i| inverse[i] as u16))
            .collect();
        prop_assert_eq!(
            table_digest(size, &dests, &t.slots),
            table_digest(size, &shuffled, &remapped)
        );
    }

    /// Any single change an operator can make (add a destination at the
    /// list head, remove one that owns slots, give one that owns slots
    /// another positive weight) changes the digest; and in general digests
    /// are equal exactly when the slots name the same destinations.
    #[test]
    fn any_single_change_changes_the_digest(
        index in 8u32..=12,
        (fam, dests) in family().prop_flat_map(|f| (Just(f), common::unique_dests(f, any::<u16>(), 0..=20, 1..=40))),
        change in 0u8..3,
        pick: u64,
        new_weight in 1..=20i32,
        canonical: bool,
        extra in raw_addr_of(Family::Inet6),
        extra_port: u16,
    ) {
        let size = TableSize::new(index).expect("valid index");
        let before = dests.clone();
        let mut after = dests;
        let t = build::<u16>(size, &before).expect("builds");
        let owning: Vec<usize> = (0..before.len()).filter(|&i| t.slot_counts()[i] > 0).collect();
        match change {
            0 => {
                let d = dest(Addr::from_nf_inet_addr(fam, &extra), extra_port, new_weight);
                prop_assume!(!before.iter().any(|b| b.addr == d.addr && b.port == d.port));
                after.insert(0, d);
            }
            1 => {
                prop_assume!(!owning.is_empty());
                after.remove(owning[(pick % owning.len() as u64) as usize]);
            }
            _ => {
                prop_assume!(!owning.is_empty());
                let i = owning[(pick % owning.len() as u64) as usize];
                prop_assume!(after[i].last_weight != new_weight);
                after[i].last_weight = new_weight;
            }
        }
        if canonical {
            sort_canonical_by_key(&mut after, |d| *d);
        }
        let mut before = before;
        if canonical {
            sort_canonical_by_key(&mut before, |d| *d);
        }
        let differs = named(size, &before) != named(size, &after);
        if canonical && change == 0 {
            // Sorted in, a new destination can come after others that
            // fill the whole table in the first round and get no slot.
            prop_assume!(differs);
        }
        prop_assert!(differs);
        prop_assert_ne!(digest_of(size, &before), digest_of(size, &after));
    }

    /// Digests agree exactly when the tables name the same destinations,
    /// for arbitrary pairs of small configurations (often equal ones).
    #[test]
    fn digest_equality_is_table_equality(
        a in common::unique_dests(Family::Inet, any::<u16>(), 0..=20, 0..=4),
        b in common::unique_dests(Family::Inet, any::<u16>(), 0..=20, 0..=4),
        same_set: bool,
        seed: u64,
    ) {
        let size = TableSize::new(8).expect("valid index");
        let b = if same_set {
            let mut b = a.clone();
            Rng(seed | 1).shuffle(&mut b);
            b
        } else {
            b
        };
        prop_assert_eq!(
            named(size, &a) == named(size, &b),
            digest_of(size, &a) == digest_of(size, &b)
        );
    }
}

#[test]
fn destinations_without_slots_are_not_hashed() {
    // A destination added with weight 0 (last weight 0) owns no slot: the
    // table, and so the digest, are those of the list without it.
    let size = TableSize::new(10).expect("valid index");
    let dests: Vec<Dest> = (0..10)
        .map(|i| dest(Addr::from_nf_inet_addr(Family::Inet, &v4_host(i)), 80, 5))
        .collect();
    let mut with_idle = dests.clone();
    with_idle.insert(0, dest(Addr::V4([192, 0, 2, 1]), 80, 0));
    assert_eq!(digest_of(size, &dests), digest_of(size, &with_idle));
}
