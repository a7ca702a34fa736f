// SPDX-License-Identifier: GPL-2.0

//! The order-independent variant (sched flag-3): a canonical destination
//! order, so that directors configured in different orders build the same
//! table.

use super::dest::Dest;
use core::borrow::Borrow;
use core::cmp::Ordering;

/// Total order by (family, address bytes, port, last weight).
///
/// IPVS never holds two destinations with the same address and port in one
/// service, so in practice the first three fields decide.
pub fn canonical_cmp(a: &Dest, b: &Dest) -> Ordering {
    // `Addr` orders IPv4 before IPv6, then by bytes in network order.
    a.addr
        .cmp(&b.addr)
        .then(a.port.cmp(&b.port))
        .then(a.last_weight.cmp(&b.last_weight))
}

/// Sorts destinations into the canonical order, in place (no allocation).
pub fn sort_canonical<D: Borrow<Dest>>(dests: &mut [D]) {
    dests.sort_unstable_by(|a, b| canonical_cmp(a.borrow(), b.borrow()));
}
