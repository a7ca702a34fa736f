// SPDX-License-Identifier: GPL-2.0

//! The packet being scheduled: what the hash is computed from.

use super::bindings;
use crate::maglev::{Addr, Family};
use core::ptr::NonNull;

/// A packet that starts a new connection, with its parsed IP header.
///
/// # Invariants
///
/// `skb` and `iph` point to the live packet and header that IPVS passed to
/// `schedule`, for the duration of that call.
pub(crate) struct Packet<'a> {
    skb: NonNull<bindings::sk_buff>,
    iph: &'a bindings::ip_vs_iphdr,
}

impl<'a> Packet<'a> {
    /// # Safety
    ///
    /// `skb` and `iph` must be the arguments of a `schedule` callback, and
    /// the returned value must not outlive that call.
    pub(super) unsafe fn from_raw(
        skb: NonNull<bindings::sk_buff>,
        iph: &'a bindings::ip_vs_iphdr,
    ) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self { skb, iph }
    }

    /// Whether this packet is an ICMP error about the reverse direction:
    /// the client is then the destination of the embedded header.
    fn is_inverse(&self) -> bool {
        // `ip_vs_iph_inverse()`, read directly: it is on the path of every
        // new connection, and the header is this packet's own.
        i64::from(self.iph.hdr_flags) & i64::from(bindings::IP_VS_HDR_INVERSE) != 0
    }

    /// The client address the table is looked up with.
    pub(crate) fn client_addr(&self, family: Family) -> Addr {
        let addr = if self.is_inverse() {
            &self.iph.daddr
        } else {
            &self.iph.saddr
        };
        // SAFETY: `nf_inet_addr` is a 16-byte union of plain integers: any
        // bit pattern is a valid byte array.
        let bytes: [u8; 16] = unsafe { core::mem::transmute_copy(addr) };
        Addr::from_nf_inet_addr(family, &bytes)
    }

    /// The client port in host order for TCP, UDP and SCTP, else 0; also 0
    /// when the packet is too short to hold ports (as the C scheduler does).
    pub(crate) fn client_port(&self) -> u16 {
        let proto = i64::from(self.iph.protocol);
        // Plain comparisons: kernel builds would call out of line for an
        // iterator over an array.
        let is = |p| i64::from(p) == proto;
        if !(is(bindings::IPPROTO_TCP) || is(bindings::IPPROTO_UDP) || is(bindings::IPPROTO_SCTP)) {
            return 0;
        }
        let Ok(offset) = i32::try_from(self.iph.len) else {
            return 0;
        };
        let mut ports = [0u16; 2];
        // SAFETY: By the type invariant `skb` is live; `ports` has room for
        // the two ports the helper copies.
        let ok =
            unsafe { bindings::ip_vs_mh_rs_ports(self.skb.as_ptr(), offset, ports.as_mut_ptr()) };
        if !ok {
            return 0;
        }
        let port = if self.is_inverse() {
            ports[1]
        } else {
            ports[0]
        };
        u16::from_be(port)
    }
}
