// SPDX-License-Identifier: GPL-2.0

//! The core's API contract: sizes, errors, slot types, and no panic on any
//! input.

mod common;

use common::{build, v4_host};
use proptest::prelude::*;
use std::num::NonZeroU32;
use userspace_tests::maglev::{
    free_list_len, lookup, populate, Addr, Availability, Cursor, Dest, EmptySlots, Error, Family,
    Modulus, Owners, Permutation, Populated, Scratch, Slot, TableSize, Weights,
};
use userspace_tests::oracle::{self, CAvail};

fn dest(i: u32, w: i32) -> Dest {
    Dest {
        addr: Addr::from_nf_inet_addr(Family::Inet, &v4_host(i)),
        port: 80,
        last_weight: w,
    }
}

#[test]
fn table_sizes() {
    assert_eq!(TableSize::new(7), Err(Error::BadTableIndex));
    assert_eq!(TableSize::new(18), Err(Error::BadTableIndex));
    assert_eq!(TableSize::new(u32::MAX), Err(Error::BadTableIndex));
    for (i, index) in (TableSize::MIN_INDEX..=TableSize::MAX_INDEX).enumerate() {
        let s = TableSize::new(index).expect("valid index");
        assert_eq!(s.index(), index);
        assert_eq!(s.slots(), TableSize::PRIMES[i]);
        assert_eq!(s.slots(), oracle::prime(index as i32));
        assert_eq!(s.bits(), index / 2);
    }
    assert_eq!(
        TableSize::DEFAULT,
        TableSize::new(TableSize::DEFAULT_INDEX).unwrap()
    );
    assert_eq!(TableSize::DEFAULT.slots(), 4093);
}

fn perms(s: TableSize, dests: &[Dest]) -> Vec<Permutation> {
    dests
        .iter()
        .map(|d| Permutation::new(s, &d.addr, d.port))
        .collect()
}

/// `populate` with scratch buffers of the given lengths: cursors and
/// free-list entries.
fn populate_with(
    s: TableSize,
    perms: &[Permutation],
    last_weights: &[i32],
    (cursors, free): (usize, usize),
    slots: EmptySlots<'_, u16>,
) -> Result<Populated, Error> {
    let mut cursors = vec![Cursor::default(); cursors];
    let mut free = vec![0u32; free];
    let scratch = Scratch {
        cursors: &mut cursors,
        free: &mut free,
    };
    populate(s, perms, last_weights, scratch, slots)
}

#[test]
fn buffer_sizes_are_checked() {
    let s = TableSize::new(8).unwrap();
    let dests = [dest(0, 1), dest(1, 1)];
    let p = perms(s, &dests);
    let lw = [1, 1];
    let free = free_list_len(s);
    assert_eq!(free, 7);
    let fits = (2, free);
    let mut short = vec![0u16; 250];
    let mut slots = vec![7u16; 251];
    assert_eq!(
        populate_with(s, &p, &lw, fits, EmptySlots::clear(&mut short)),
        Err(Error::BufferSize)
    );
    for scratch in [(1, free), (3, free), (2, free - 1)] {
        assert_eq!(
            populate_with(s, &p, &lw, scratch, EmptySlots::filled(&mut slots)),
            Err(Error::BufferSize)
        );
    }
    assert_eq!(
        populate_with(s, &p, &lw[..1], fits, EmptySlots::filled(&mut slots)),
        Err(Error::BufferSize)
    );
    // A permutation that no destination of this size has.
    for bad in [(251, 1), (0, 0), (0, 251)] {
        let bad = Permutation {
            offset: bad.0,
            skip: bad.1,
        };
        assert_eq!(
            populate_with(s, &[bad, p[1]], &lw, fits, EmptySlots::filled(&mut slots)),
            Err(Error::BadPermutation)
        );
    }
    // Nothing was written on error (the slots were taken as they were,
    // not emptied).
    assert!(slots.iter().all(|&x| x == 7));
    assert!(populate_with(s, &p, &lw, fits, EmptySlots::clear(&mut slots)).is_ok());
    assert!(!slots.contains(&u16::EMPTY));
}

#[test]
fn too_many_dests() {
    // More destinations than slots: -EINVAL in C.
    let s = TableSize::new(8).unwrap();
    let dests: Vec<Dest> = (0..252).map(|i| dest(i, 1)).collect();
    assert_eq!(build::<u32>(s, &dests).err(), Some(Error::TooManyDests));
    assert!(build::<u32>(s, &dests[..251]).is_ok());

    // More than u16 slots can index, though the table could hold them.
    let s = TableSize::new(17).unwrap();
    let dests: Vec<Dest> = (0..65536).map(|i| dest(i, 1)).collect();
    assert_eq!(build::<u16>(s, &dests).err(), Some(Error::TooManyDests));
    assert!(build::<u16>(s, &dests[..65535]).is_ok());
    let t = build::<u32>(s, &dests).expect("u32 slots index them all");
    assert!(t.slot_counts().iter().all(|&c| c >= 1));
}

#[test]
fn no_positive_weight_empties_the_table() {
    let s = TableSize::new(9).unwrap();
    for dests in [vec![], vec![dest(0, 0), dest(1, 0)], vec![dest(0, -4)]] {
        let p = perms(s, &dests);
        let lw: Vec<i32> = dests.iter().map(|d| d.last_weight).collect();
        let fits = (dests.len(), free_list_len(s));
        let mut slots = vec![3u16; 509];
        let built = populate_with(s, &p, &lw, fits, EmptySlots::clear(&mut slots)).expect("builds");
        assert_eq!(
            built,
            Populated {
                weights: Weights { gcd: 0, rshift: 0 },
                reached: 0
            }
        );
        assert!(slots.iter().all(|&x| x == u16::EMPTY));
        let avail = CAvail(&[]);
        let owners = Owners {
            built,
            last_weights: &lw,
        };
        assert_eq!(
            lookup(&slots, s, &owners, &Addr::V4([1, 2, 3, 4]), 0, true, &avail),
            None
        );
    }
}

#[test]
fn slot_types() {
    assert_eq!(u16::from_index(0).index(), Some(0));
    assert_eq!(u16::from_index(65534).index(), Some(65534));
    assert_eq!(u16::from_index(65535), u16::EMPTY);
    assert_eq!(u16::from_index(usize::MAX), u16::EMPTY);
    assert_eq!(u16::EMPTY.index(), None);
    assert_eq!(u16::MAX_DESTS, 65535);
    assert_eq!(u32::from_index(131070).index(), Some(131070));
    assert_eq!(u32::EMPTY.index(), None);
}

/// Availability that answers yes for everything.
struct All;

impl Availability for All {
    fn is_available(&self, _: usize) -> bool {
        true
    }
}

/// Availability that answers no for everything.
struct Nothing;

impl Availability for Nothing {
    fn is_available(&self, _: usize) -> bool {
        false
    }
}

proptest! {
    #![proptest_config(common::config(500))]

    /// Arbitrary buffer lengths, slot contents and table sizes: errors or
    /// answers, never a panic (the test harness would catch one).
    #[test]
    fn never_panics(
        index in 0u32..=20,
        n in 0usize..=300,
        n_states in 0usize..=300,
        n_slots in 0usize..=600,
        junk in prop::collection::vec(any::<u16>(), 0..=600),
        ws in prop::collection::vec(any::<i32>(), 300),
        addr: [u8; 4],
        port: u16,
        fallback: bool,
    ) {
        let Ok(s) = TableSize::new(index) else {
            prop_assert!(!(8..=17).contains(&index));
            return Ok(());
        };
        let dests: Vec<Dest> = (0..n).map(|i| dest(i as u32, ws[i])).collect();
        let p = perms(s, &dests);
        let lw: Vec<i32> = ws[..n_states.min(n)].to_vec();
        let mut slots = vec![0u16; n_slots];
        let r = populate_with(
            s,
            &p,
            &lw,
            (n_states, free_list_len(s)),
            EmptySlots::clear(&mut slots),
        );
        if n_slots != s.slots() as usize || n_states != n {
            prop_assert_eq!(r, Err(Error::BufferSize));
        }
        // Lookups on junk tables of any length, with any build result,
        // stay in bounds; indices returned are slot contents, so the caller
        // checks them anyway.
        let a = Addr::V4(addr);
        let built = r.unwrap_or(Populated {
            weights: Weights { gcd: 1, rshift: 0 },
            reached: n,
        });
        let owners = Owners {
            built,
            last_weights: &lw,
        };
        let _ = lookup(&junk, s, &owners, &a, port, fallback, &All);
        let _ = lookup(&junk, s, &owners, &a, port, fallback, &Nothing);
        let _ = lookup(&slots, s, &owners, &a, port, fallback, &All);
    }
}

proptest! {
    #![proptest_config(common::config(3000))]

    /// The division-free remainder is exact for every table modulus and
    /// skip modulus.
    #[test]
    fn modulus_is_exact(n: u32, index in 8u32..=17) {
        let s = TableSize::new(index).unwrap();
        prop_assert_eq!(s.modulus().rem(n), n % s.slots());
        prop_assert_eq!(s.skip_modulus().rem(n), n % (s.slots() - 1));
    }

    #[test]
    fn modulus_any_divisor(n: u32, d in 1u32..) {
        let m = Modulus::new(NonZeroU32::new(d).unwrap());
        prop_assert_eq!(m.rem(n), n % d);
    }
}

#[test]
fn modulus_edges() {
    for d in [
        1u32,
        2,
        3,
        250,
        251,
        65520,
        65521,
        131071,
        u32::MAX - 1,
        u32::MAX,
    ] {
        let m = Modulus::new(NonZeroU32::new(d).unwrap());
        assert_eq!(m.get(), d);
        for n in [
            0u32,
            1,
            d - 1,
            d,
            d.wrapping_add(1),
            u32::MAX,
            u32::MAX - 1,
            u32::MAX / 2,
        ] {
            assert_eq!(m.rem(n), n % d, "{n} % {d}");
        }
        // Every multiple of d, and its neighbours, up to u32::MAX.
        let mut k = d as u64;
        while k <= u32::MAX as u64 && d >= 65521 {
            for n in [k - 1, k, k + 1] {
                if let Ok(n) = u32::try_from(n) {
                    assert_eq!(m.rem(n), n % d, "{n} % {d}");
                }
            }
            k += d as u64;
        }
    }
}
