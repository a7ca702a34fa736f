// SPDX-License-Identifier: GPL-2.0

//! hsiphash against the kernel's own test vectors, and the core's hash of
//! addresses against the C model.

mod common;

use common::{client, family};
use proptest::prelude::*;
use userspace_tests::maglev::{hash_key, hsiphash, hsiphash_u32, Addr, HashKey, HASH1, HASH2};
use userspace_tests::oracle;

/// The key of the kernel's siphash KUnit test: bytes 0x00..0x0f.
const TEST_KEY: HashKey = HashKey([0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908]);

/// The 64-bit `hsiphash` vectors of the kernel's siphash KUnit test
/// (lib/tests/siphash_kunit.c): entry `i` is the hash of the bytes
/// `0, 1, ..., i - 1` under [`TEST_KEY`].
const VECTORS: [u32; 64] = [
    0x050fc4dc, 0x7d57ca93, 0x4dc7d44d, 0xe7ddf7fb, 0x88d38328, 0x49533b67, 0xc59f22a7, 0x9bb11140,
    0x8d299a8e, 0x6c063de4, 0x92ff097f, 0xf94dc352, 0x57b4d9a2, 0x1229ffa7, 0xc0f95d34, 0x2a519956,
    0x7d908b66, 0x63dbd80c, 0xb473e63e, 0x8d297d1c, 0xa6cce040, 0x2b45f844, 0xa320872e, 0xdae6c123,
    0x67349c8c, 0x705b0979, 0xca9913a5, 0x4ade3b35, 0xef6cd00d, 0x4ab1e1f4, 0x43c5e663, 0x8c21d1bc,
    0x16a7b60d, 0x7a8ff9bf, 0x1f2a753e, 0xbf186b91, 0xada26206, 0xa3c33057, 0xae3a36a1, 0x7b108392,
    0x99e41531, 0x3f1ad944, 0xc8138825, 0xc28949a6, 0xfaf8876b, 0x9f042196, 0x68b1d623, 0x8b5114fd,
    0xdf074c46, 0x12cc86b3, 0x0a52098f, 0x9d292f9a, 0xa2f41f12, 0x43a71ed0, 0x73f0bce6, 0x70a7e980,
    0x243c6d75, 0xfdb71513, 0xa67d8a08, 0xb7e8f148, 0xf7a644ee, 0x0f1837f2, 0x4b6694e0, 0xb7bbb3a8,
];

fn input() -> [u8; 65] {
    core::array::from_fn(|i| i as u8)
}

#[test]
fn kernel_vectors_all_lengths() {
    let buf = input();
    for (len, &want) in VECTORS.iter().enumerate() {
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
    for (len, &want) in VECTORS.iter().enumerate() {
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
    assert_eq!(hsiphash_u32(0x0302_0100, &TEST_KEY), VECTORS[4]);
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
