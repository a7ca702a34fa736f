// SPDX-License-Identifier: GPL-2.0

// Known answers of the table digest (encoding version 1), included
// (`include!`) by the userspace tests (userspace-tests/tests/digest.rs) and
// by the module's KUnit suite (src/kunit.rs). Changing one means the
// encoding changed: bump DIGEST_VERSION and update tools/mh-tool/README.md.
// The includer brings `Addr` and `Dest` into scope.

/// The five destinations of fixtures/example-v4.mhfx, in list order.
const EXAMPLE_V4: [Dest; 5] = [
    Dest {
        addr: Addr::V4([10, 0, 1, 5]),
        port: 8080,
        last_weight: 1,
    },
    Dest {
        addr: Addr::V4([10, 0, 1, 4]),
        port: 8080,
        last_weight: 3,
    },
    Dest {
        addr: Addr::V4([10, 0, 1, 3]),
        port: 8080,
        last_weight: 2,
    },
    Dest {
        addr: Addr::V4([10, 0, 1, 2]),
        port: 8080,
        last_weight: 2,
    },
    Dest {
        addr: Addr::V4([10, 0, 1, 1]),
        port: 8080,
        last_weight: 1,
    },
];

/// `[2001:db8::1]:443`, `[2001:db8::2]:443`, `[2001:db8::3]:443`, weight 1.
const EXAMPLE_V6: [Dest; 3] = [
    Dest {
        addr: Addr::V6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        port: 443,
        last_weight: 1,
    },
    Dest {
        addr: Addr::V6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
        port: 443,
        last_weight: 1,
    },
    Dest {
        addr: Addr::V6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]),
        port: 443,
        last_weight: 1,
    },
];

/// No positive weight: every slot empty (the message is 0x01, M as 4
/// big-endian bytes, then M zero bytes; checked with an independent
/// SipHash-2-4 in Python).
const ALL_EMPTY: [Dest; 1] = [Dest {
    addr: Addr::V4([10, 0, 0, 1]),
    port: 80,
    last_weight: 0,
}];

/// (table index, destinations, digest).
const DIGEST_KNOWN_ANSWERS: [(u32, &[Dest], u64); 4] = [
    (8, &EXAMPLE_V4, 0xac7b_515b_4096_c49a),
    (12, &EXAMPLE_V4, 0x17b6_60b3_0960_15cb),
    (8, &EXAMPLE_V6, 0x3605_60a8_93d4_f476),
    (8, &ALL_EMPTY, 0xdbee_5dce_9f9d_b6ed),
];
