// SPDX-License-Identifier: GPL-2.0

//! hsiphash against the kernel's own test vectors, and the core's hash of
//! addresses against the C model.

mod common;

use common::{client, family};
use proptest::prelude::*;
use userspace_tests::maglev::{hash_key, hsiphash, hsiphash_u32, Addr, HashKey, HASH1, HASH2};
use userspace_tests::oracle;

include!("../../tests/vectors/hsiphash.rs");

fn input() -> [u8; 65] {
    core::array::from_fn(|i| i as u8)
}

#[test]
fn kernel_vectors_all_lengths() {
    let buf = input();
    for (len, &want) in HSIPHASH_VECTORS.iter().enumerate() {
        assert_eq!(hsiphash(&buf[..len], &TEST_KEY), want, "Rust, length {len}");
        assert_eq!(
            oracle::hsiphash(&buf[..len], &TEST_KEY),
            want,
            "C model, length {len}"
        );
    }
}

#[test]
fn kernel_vectors_unaligned() {
    // The kernel test also hashes from an odd address.
    let mut buf = [0u8; 65];
    buf[1..].copy_from_slice(&input()[..64]);
    for (len, &want) in HSIPHASH_VECTORS.iter().enumerate() {
        assert_eq!(hsiphash(&buf[1..=len], &TEST_KEY), want, "length {len}");
        assert_eq!(
            oracle::hsiphash(&buf[1..=len], &TEST_KEY),
            want,
            "C model, length {len}"
        );
    }
}

#[test]
fn kernel_vector_u32_fast_path() {
    // hsiphash_1u32(0x03020100) is the hash of bytes 0, 1, 2, 3.
    assert_eq!(hsiphash_u32(0x0302_0100, &TEST_KEY), HSIPHASH_VECTORS[4]);
}

#[test]
fn scheduler_keys() {
    assert_eq!(HASH1.0, [2654435761, 2654435761]);
    assert_eq!(HASH2.0, [2654446892, 2654446892]);
}

#[test]
fn fold_of_addresses() {
    assert_eq!(Addr::V4([10, 0, 0, 1]).fold(), 0x0a00_0001);
    let mut v6 = [0u8; 16];
    v6[0..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v6[12..16].copy_from_slice(&[0, 0, 0, 1]);
    assert_eq!(Addr::V6(v6).fold(), 0x2001_0db8 ^ 1);
}

proptest! {
    #![proptest_config(common::config(2000))]

    #[test]
    fn u32_fast_path_equals_generic(v: u32, k0: u64, k1: u64) {
        let key = HashKey([k0, k1]);
        prop_assert_eq!(hsiphash_u32(v, &key), hsiphash(&v.to_le_bytes(), &key));
    }

    #[test]
    fn generic_matches_c_model(data in prop::collection::vec(any::<u8>(), 0..300), k0: u64, k1: u64) {
        let key = HashKey([k0, k1]);
        prop_assert_eq!(hsiphash(&data, &key), oracle::hsiphash(&data, &key));
    }

    #[test]
    fn hash_key_matches_c_model(
        fam in family(),
        (raw, port) in client(userspace_tests::maglev::Family::Inet6),
        offset: u32,
        second: bool,
    ) {
        let key = if second { HASH2 } else { HASH1 };
        let addr = Addr::from_nf_inet_addr(fam, &raw);
        let v6 = fam == userspace_tests::maglev::Family::Inet6;
        prop_assert_eq!(
            hash_key(&addr, port, &key, offset),
            oracle::hashkey(v6, &raw, port, &key, offset)
        );
    }
}
