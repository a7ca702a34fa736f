// SPDX-License-Identifier: GPL-2.0

//! What the core knows about a destination.

use super::key::Addr;

/// What the core needs to know about one destination (by default an
/// all-zero one, which fills buffers before a build writes them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
