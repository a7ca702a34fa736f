// SPDX-License-Identifier: GPL-2.0

//! The Maglev hashing core of the IPVS `mh` scheduler.
//!
//! Pure computation, bit-exact with the in-tree C scheduler
//! (`net/netfilter/ipvs/ip_vs_mh.c`): the same hash of addresses and ports,
//! the same table for the same ordered destination list, and the same
//! destination for every client. No floating point, no kernel types, no
//! `unsafe`, and no panic on any input.
//!
//! Tables hold small destination indices rather than pointers, so a table
//! costs 2 bytes per slot with [`u16`] slots.
//!
//! Hashing is `hsiphash` as 64-bit kernels compute it (SipHash-1-3). On
//! 32-bit kernels the C scheduler's `hsiphash` is HalfSipHash-1-3, so their
//! tables differ from 64-bit ones; this core matches 64-bit directors only.
//! Like C, it hashes a 32-bit value in native byte order, so it also
//! matches C on big-endian 64-bit kernels.
//!
//! # Two faces
//!
//! The kernel face is what the module calls: it uses `core` only and
//! allocates nothing (callers pass every buffer). The full face, compiled
//! with `--cfg maglev_full` (by `mh-tool`, the userspace tests and the KUnit
//! test build), adds what only they use: parsing, the generic `hsiphash`,
//! SipHash-2-4 in one call, the digest of a destination slice, the
//! comparison of two tables and the lines of a service file. `--cfg
//! maglev_alloc` (userspace only) adds `OwnedTable`, built on the including
//! crate's `alloc`. The module's production build compiles none of it.

#![forbid(unsafe_code)]

mod build;
mod carry;
mod dest;
mod digest;
mod error;
mod flags;
mod key;
mod lookup;
mod modulus;
mod order;
#[cfg(maglev_alloc)]
mod owned;
mod permutation;
mod populate;
#[cfg(maglev_full)]
mod service_file;
mod service_sizes;
mod siphash;
mod size;
mod slot;
mod summary;
mod weights;

// The kernel face: what the module names.
pub use build::{
    build,
    Layout, //
};
pub use carry::Carry;
pub use dest::Dest;
pub use digest::table_digest_by;
pub use flags::Flags;
pub use key::{
    Addr,
    Family, //
};
pub use lookup::{
    available,
    lookup,
    Availability,
    Owners,
    SlotOwners, //
};
pub use order::find_canonical;
pub use permutation::Permutation;
pub use populate::{
    free_list_len,
    Cursor,
    Populated, //
};
pub use service_sizes::{
    size_entries,
    SizeEntry,
    SizeEntryError,
    SizeEntryProblem, //
};
pub use size::TableSize;
pub use slot::{
    EmptySlots,
    Slot, //
};
pub use summary::{
    count_slots,
    Share, //
};
pub use weights::turns;

// The full face: the rest of the API, for userspace and the KUnit suite.
#[cfg(maglev_full)]
pub use digest::{
    siphash24,
    table_digest,
    SipHash24,
    DIGEST_KEY,
    DIGEST_VERSION, //
};
#[cfg(maglev_full)]
pub use error::Error;
#[cfg(maglev_full)]
pub use flags::UnknownFlag;
#[cfg(maglev_full)]
pub use key::{
    hash_key,
    HashKey,
    HASH1,
    HASH2, //
};
#[cfg(maglev_full)]
pub use lookup::first_slot;
#[cfg(maglev_full)]
pub use modulus::Modulus;
#[cfg(maglev_full)]
pub use order::{
    canonical_cmp,
    sort_canonical_by_key,
    sort_canonical_keyed, //
};
#[cfg(maglev_alloc)]
pub use owned::OwnedTable;
#[cfg(maglev_full)]
pub use populate::{
    populate,
    Scratch, //
};
#[cfg(maglev_full)]
pub use service_file::service_file_lines;
#[cfg(maglev_full)]
pub use service_sizes::{
    Protocol,
    ServiceKey, //
};
#[cfg(maglev_full)]
pub use siphash::{
    hsiphash,
    hsiphash_u32, //
};
#[cfg(maglev_full)]
pub use summary::moved_slots;
#[cfg(maglev_full)]
pub use weights::{
    gcd,
    weights,
    Weights, //
};
