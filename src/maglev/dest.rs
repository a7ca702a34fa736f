// SPDX-License-Identifier: GPL-2.0

//! What the core knows about a destination, and what a build computes for it.

use super::key::Addr;

/// What the core needs to know about one destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dest {
    /// The destination's address, read in the service's family (see
    /// [`Addr::from_nf_inet_addr`]).
    pub addr: Addr,
    /// The destination's port, in host order.
    pub port: u16,
    /// The latest non-zero weight (IPVS `last_weight`): the table keeps a
    /// destination's share while its weight is temporarily 0.
    pub last_weight: i32,
}

/// Per-destination result and scratch of a build.
///
/// The caller provides one per destination, in the same order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DestState {
    /// First preferred slot: `hash(HASH1) % M`.
    pub offset: u32,
    /// Probe stride: `hash(HASH2) % (M - 1) + 1`.
    pub skip: u32,
    /// The slot the next probe starts from.
    pub perm: u32,
    /// Slots claimed per round (0: the destination takes no slot).
    pub turns: u32,
    /// Slots this destination got.
    pub slots: u32,
}
