// SPDX-License-Identifier: GPL-2.0

//! Each destination's permutation of the slots: where its probes start and
//! how far each one steps.

use super::key::{
    hash_key,
    Addr,
    HASH1,
    HASH2, //
};
use super::size::TableSize;

/// A destination's permutation: it prefers slot `offset`, then every
/// `skip`-th slot after it, modulo M (`ip_vs_mh_permutate`).
///
/// It depends only on the destination's address, port and the service's
/// family, and on the table size, so a table may carry it over to the next
/// one built for the same service instead of hashing again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Permutation {
    /// First preferred slot: `hash(HASH1) % M`.
    pub offset: u32,
    /// Probe stride: `hash(HASH2) % (M - 1) + 1`, in `1..M`; with M prime,
    /// every stride visits every slot.
    pub skip: u32,
}

impl Permutation {
    /// The permutation of the destination at `addr`, `port` (host order;
    /// `addr` read in the service's family) in a table of `size`.
    pub fn new(size: TableSize, addr: &Addr, port: u16) -> Self {
        Permutation {
            offset: size.modulus().rem(hash_key(addr, port, &HASH1, 0)),
            // The remainder is below M - 1, so adding 1 cannot wrap.
            skip: size
                .skip_modulus()
                .rem(hash_key(addr, port, &HASH2, 0))
                .wrapping_add(1),
        }
    }
}
