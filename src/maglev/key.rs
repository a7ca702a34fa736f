// SPDX-License-Identifier: GPL-2.0

//! Addresses, hash keys and the `mh` hash of an address and port.

use super::siphash::hsiphash_u32;

/// Address family of a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

/// An address as IPVS stores it, in network byte order (by default
/// 0.0.0.0, which fills buffers before a build writes them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Addr {
    /// An IPv4 address.
    V4([u8; 4]),
    /// An IPv6 address.
    V6([u8; 16]),
}

impl Default for Addr {
    fn default() -> Self {
        Addr::V4([0; 4])
    }
}

impl Addr {
    /// Reads a raw `union nf_inet_addr` the way the C scheduler does: by the
    /// *service's* family, not the address's own.
    ///
    /// This matters for mixed-family services (a tunnelled IPv6 destination in
    /// an IPv4 service hashes its first 4 bytes only; an IPv4 destination in
    /// an IPv6 service hashes all 16 bytes, which fold to the same value when
    /// the unused 12 bytes are zero, as IPVS keeps them).
    pub const fn from_nf_inet_addr(family: Family, raw: &[u8; 16]) -> Addr {
        match family {
            Family::Inet => Addr::V4([raw[0], raw[1], raw[2], raw[3]]),
            Family::Inet6 => Addr::V6(*raw),
        }
    }

    /// The `union nf_inet_addr` bytes IPVS would store for `ip` (an IPv4
    /// address in the first 4 bytes, the rest zero).
    #[cfg(maglev_full)]
    pub fn nf_inet_addr(ip: core::net::IpAddr) -> [u8; 16] {
        match ip {
            core::net::IpAddr::V4(a) => {
                let mut raw = [0u8; 16];
                raw[..4].copy_from_slice(&a.octets());
                raw
            }
            core::net::IpAddr::V6(a) => a.octets(),
        }
    }

    /// The family of this address.
    #[cfg(maglev_full)]
    pub const fn family(&self) -> Family {
        match self {
            Addr::V4(_) => Family::Inet,
            Addr::V6(_) => Family::Inet6,
        }
    }

    /// A key that orders addresses as `Ord` does (IPv4 before IPv6, then by
    /// bytes in network order), compared in a few instructions where `Ord`
    /// compares byte arrays: the family, then the address as a number.
    #[inline(always)]
    pub const fn order_key(&self) -> (bool, u128) {
        match self {
            Addr::V4(a) => (false, u32::from_be_bytes(*a) as u128),
            Addr::V6(a) => (true, u128::from_be_bytes(*a)),
        }
    }

    /// The 32-bit value the scheduler hashes, in host order: the IPv4 address,
    /// or the XOR of the four 32-bit words of an IPv6 address.
    #[inline(always)]
    pub const fn fold(&self) -> u32 {
        match self {
            Addr::V4(a) => u32::from_be_bytes(*a),
            // XOR commutes with the byte swap, so folding the words in host
            // order gives ntohl() of the fold in network order.
            Addr::V6(a) => {
                u32::from_be_bytes([a[0], a[1], a[2], a[3]])
                    ^ u32::from_be_bytes([a[4], a[5], a[6], a[7]])
                    ^ u32::from_be_bytes([a[8], a[9], a[10], a[11]])
                    ^ u32::from_be_bytes([a[12], a[13], a[14], a[15]])
            }
        }
    }
}

/// An `hsiphash` key: two machine words on 64-bit kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashKey(pub [u64; 2]);

/// The key that places clients and gives each destination its first slot.
///
/// A fixed constant in the C scheduler, so that every director agrees.
pub const HASH1: HashKey = HashKey([2654435761, 2654435761]);

/// The key that gives each destination its skip (probe stride).
pub const HASH2: HashKey = HashKey([2654446892, 2654446892]);

/// The scheduler's hash of an address and port (`ip_vs_mh_hashkey`).
///
/// `port` is in host order. `addr` must be read in the service's family (see
/// [`Addr::from_nf_inet_addr`]). The sum wraps like the C `unsigned int`.
#[inline(always)]
pub fn hash_key(addr: &Addr, port: u16, key: &HashKey, offset: u32) -> u32 {
    hash_input_at(hash_input(addr, port), key, offset)
}

/// What [`hash_key`] hashes before its offset is added: the folded address
/// plus the port (wrapping), computed once for all of a client's hashes.
#[inline(always)]
pub fn hash_input(addr: &Addr, port: u16) -> u32 {
    u32::from(port).wrapping_add(addr.fold())
}

/// [`hash_key`] of the client whose [`hash_input`] is `input`.
#[inline(always)]
pub fn hash_input_at(input: u32, key: &HashKey, offset: u32) -> u32 {
    let v = offset.wrapping_add(input);
    // C hashes the bytes of `v` as they lie in memory, i.e. in native order,
    // and hsiphash reads them as little-endian. A no-op on little-endian.
    hsiphash_u32(u32::from_le_bytes(v.to_ne_bytes()), key)
}
