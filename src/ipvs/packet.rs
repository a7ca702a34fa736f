// SPDX-License-Identifier: GPL-2.0

//! The packet being scheduled: what the hash is computed from.
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use super::{
    addr_bytes,
    bindings, //
};
use crate::maglev::{
    Addr,
    Family, //
};
use core::ptr::NonNull;

/// A packet that starts a new connection, with its parsed IP header.
///
/// # Invariants
///
/// `skb` and `iph` point to the live packet and header that IPVS passed to
/// `schedule`, for `'a`, the duration of that call; the caller owns the
/// packet for that time, so its length and data pointers do not change.
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
    #[inline(always)]
    fn is_inverse(&self) -> bool {
        // `ip_vs_iph_inverse()`, read directly: it is on the path of every
        // new connection, and the header is this packet's own.
        i64::from(self.iph.hdr_flags) & i64::from(bindings::IP_VS_HDR_INVERSE) != 0
    }

    /// The client address the table is looked up with.
    #[inline(always)]
    pub(crate) fn client_addr(&self, family: Family) -> Addr {
        let addr = if self.is_inverse() {
            &self.iph.daddr
        } else {
            &self.iph.saddr
        };
        Addr::from_nf_inet_addr(family, &addr_bytes(addr))
    }

    /// The client port in host order for TCP, UDP and SCTP, else 0; also 0
    /// when the packet is too short to hold ports (as the C scheduler does).
    #[inline(always)]
    pub(crate) fn client_port(&self) -> u16 {
        let proto = i64::from(self.iph.protocol);
        // Plain comparisons: kernel builds would call out of line for an
        // iterator over an array.
        let is = |p| i64::from(p) == proto;
        if !(is(bindings::IPPROTO_TCP) || is(bindings::IPPROTO_UDP) || is(bindings::IPPROTO_SCTP)) {
            return 0;
        }
        let Some([src, dst]) = self.ports(self.iph.len) else {
            return 0;
        };
        u16::from_be(if self.is_inverse() { dst } else { src })
    }

    /// The two 16-bit ports (network order) at `offset`, as
    /// `skb_header_pointer` finds them: read in place when they lie in the
    /// linear part of the packet, the common case, else copied by a C
    /// helper from the fragments; `None` if the packet is too short.
    #[inline(always)]
    fn ports(&self, start: u32) -> Option<[u16; 2]> {
        let skb = self.skb.as_ptr();
        // SAFETY: By the type invariant the packet is live and its caller's
        // for the call: `len`, `data_len` and `data` do not change under us.
        let (len, data_len, data) = unsafe { ((*skb).len, (*skb).data_len, (*skb).data) };
        // `skb_headlen()`: the bytes in the linear area.
        let linear = len.wrapping_sub(data_len);
        if start <= linear && linear - start >= 4 {
            // SAFETY: The 4 bytes at `data + start` are in the linear area
            // (`start + 4 <= linear`), which `data` points to; they may be
            // unaligned.
            let bytes: [u8; 4] =
                unsafe { core::ptr::read_unaligned(data.add(start as usize).cast::<[u8; 4]>()) };
            return Some([
                u16::from_ne_bytes([bytes[0], bytes[1]]),
                u16::from_ne_bytes([bytes[2], bytes[3]]),
            ]);
        }
        self.ports_copied(start)
    }

    /// The ports when they are not in the linear area: the helper copies
    /// them with `skb_header_pointer` (or says the packet is too short).
    #[cold]
    #[inline(never)]
    fn ports_copied(&self, start: u32) -> Option<[u16; 2]> {
        let offset = i32::try_from(start).ok()?;
        let mut ports = [0u16; 2];
        // SAFETY: By the type invariant the packet is live; `ports` has room
        // for the two ports the helper copies.
        let ok =
            unsafe { bindings::ip_vs_mh_rs_ports(self.skb.as_ptr(), offset, ports.as_mut_ptr()) };
        ok.then_some(ports)
    }
}
