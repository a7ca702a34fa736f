// SPDX-License-Identifier: GPL-2.0

//! The Maglev hashing core of the IPVS `mh` scheduler.
//!
//! Pure computation, bit-exact with the in-tree C scheduler
//! (`net/netfilter/ipvs/ip_vs_mh.c`): the same hash of addresses and ports,
//! the same table for the same ordered destination list, and the same
//! destination for every client. It uses `core` only: no allocation (callers
//! pass every buffer), no floating point, no kernel types, no `unsafe`, and
//! no panic on any input.
//!
//! Tables hold small destination indices rather than pointers, so a table
//! costs 2 bytes per slot with [`u16`] slots.
//!
//! Hashing is `hsiphash` as 64-bit kernels compute it (SipHash-1-3). On
//! 32-bit kernels the C scheduler's `hsiphash` is HalfSipHash-1-3, so their
//! tables differ from 64-bit ones; this core matches 64-bit directors only.
//! Like C, it hashes a 32-bit value in native byte order, so it also
//! matches C on big-endian 64-bit kernels.

#![forbid(unsafe_code)]

pub mod dest;
pub mod digest;
pub mod error;
pub mod flags;
pub mod key;
pub mod lookup;
pub mod modulus;
pub mod order;
pub mod populate;
pub mod siphash;
pub mod size;
pub mod slot;
pub mod summary;
pub mod weights;

pub use dest::{
    Dest,
    DestState, //
};
pub use digest::{
    siphash24,
    table_digest,
    SipHash24,
    DIGEST_KEY,
    DIGEST_VERSION, //
};
pub use error::Error;
pub use flags::{
    Flags,
    UnknownFlag, //
};
pub use key::{
    hash_key,
    Addr,
    Family,
    HashKey,
    HASH1,
    HASH2, //
};
pub use lookup::{
    available,
    first_slot,
    lookup,
    Availability, //
};
pub use modulus::Modulus;
pub use order::{
    canonical_cmp,
    sort_canonical_by_key, //
};
pub use populate::populate;
pub use siphash::{
    hsiphash,
    hsiphash_u32, //
};
pub use size::TableSize;
pub use slot::Slot;
pub use summary::{
    count_slots,
    dest_share,
    moved_slots,
    Share, //
};
pub use weights::{
    gcd,
    turns,
    weights,
    Weights, //
};
