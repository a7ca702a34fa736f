// SPDX-License-Identifier: GPL-2.0

//! Safe bindings to the C model of the in-tree scheduler (`oracle/mh_model.c`).

use crate::maglev::{Addr, HashKey};
use alloc::vec::Vec;
use core::ptr::NonNull;

/// The model's flag for an overloaded destination.
pub const DEST_OVERLOAD: u32 = 0x1;

/// `struct mh_model_key`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CKey {
    /// The two key words.
    pub word: [u64; 2],
}

/// `struct mh_model_dest`: one destination as the C model sees it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CDest {
    /// `union nf_inet_addr` bytes, network order.
    pub addr: [u8; 16],
    /// Port, network order (as IPVS keeps it).
    pub port_be: u16,
    /// Current weight (`<= 0`: unavailable).
    pub weight: i32,
    /// Latest non-zero weight.
    pub last_weight: i32,
    /// [`DEST_OVERLOAD`] or 0.
    pub flags: u32,
}

impl CDest {
    /// Whether the C model considers this destination available (the C
    /// model's own rule, mirrored for Rust-side checks of the model).
    pub fn available(&self) -> bool {
        self.weight > 0 && self.flags & DEST_OVERLOAD == 0
    }
}

/// The Rust core's view of the availability of C-model destinations: the
/// core's own rule ([`crate::maglev::available`]) over their current weight
/// and overload flag, as the kernel adapter reads `struct ip_vs_dest`.
pub struct CAvail<'a>(pub &'a [CDest]);

impl crate::maglev::Availability for CAvail<'_> {
    fn is_available(&self, dest: usize) -> bool {
        self.0
            .get(dest)
            .is_some_and(|d| crate::maglev::available(d.weight, d.flags & DEST_OVERLOAD != 0))
    }
}

#[repr(C)]
struct RawModel {
    _private: [u8; 0],
}

extern "C" {
    fn mh_model_hsiphash(data: *const u8, len: usize, key: *const CKey) -> u32;
    fn mh_model_hashkey(v6: i32, addr: *const u8, port_be: u16, key: *const CKey, off: u32) -> u32;
    fn mh_model_prime(tab_index: i32) -> u32;
    fn mh_model_new(tab_index: i32, v6: i32) -> *mut RawModel;
    fn mh_model_free(m: *mut RawModel);
    fn mh_model_build(m: *mut RawModel, dests: *const CDest, n: u32) -> i32;
    fn mh_model_slots(m: *const RawModel, out: *mut i32);
    fn mh_model_gcd(m: *const RawModel) -> i32;
    fn mh_model_rshift(m: *const RawModel) -> i32;
    fn mh_model_lookup(m: *const RawModel, addr: *const u8, port_be: u16, fallback: i32) -> i32;
    fn mh_model_bench_lookups(
        m: *const RawModel,
        addrs: *const [u8; 16],
        ports_be: *const u16,
        count: usize,
        fallback: i32,
    ) -> u64;
    fn mh_model_bench_hsiphash(vals: *const u32, count: usize) -> u64;
}

/// Converts the core's key to the model's.
pub fn ckey(key: &HashKey) -> CKey {
    CKey { word: key.0 }
}

/// The model's `hsiphash`.
pub fn hsiphash(data: &[u8], key: &HashKey) -> u32 {
    let k = ckey(key);
    // SAFETY: `data` is valid for `data.len()` bytes and `k` is a live key.
    unsafe { mh_model_hsiphash(data.as_ptr(), data.len(), &k) }
}

/// The model's hash of a raw address read in family `v6`, and a port in
/// host order.
pub fn hashkey(v6: bool, raw: &[u8; 16], port: u16, key: &HashKey, offset: u32) -> u32 {
    let k = ckey(key);
    // SAFETY: `raw` is 16 readable bytes and `k` is a live key.
    unsafe { mh_model_hashkey(i32::from(v6), raw.as_ptr(), port.to_be(), &k, offset) }
}

/// The model's table size for `index`, 0 if out of range.
pub fn prime(index: i32) -> u32 {
    // SAFETY: a pure function of its argument.
    unsafe { mh_model_prime(index) }
}

/// The 16 raw bytes of an address, as `union nf_inet_addr` holds them.
pub fn raw_addr(addr: &Addr) -> [u8; 16] {
    match addr {
        Addr::V4(a) => {
            let mut raw = [0u8; 16];
            raw[..4].copy_from_slice(a);
            raw
        }
        Addr::V6(a) => *a,
    }
}

/// One service's table in the C model.
pub struct Model {
    // INVARIANT: a live model from `mh_model_new`, freed only in `drop`.
    raw: NonNull<RawModel>,
    // The model points into this list (kept unmoved while it does).
    dests: Vec<CDest>,
    size: u32,
}

impl Model {
    /// A model of table index `index` for a service of family `v6`.
    pub fn new(index: u32, v6: bool) -> Option<Self> {
        let index = i32::try_from(index).ok()?;
        // SAFETY: any arguments are accepted; NULL means refused.
        let raw = NonNull::new(unsafe { mh_model_new(index, i32::from(v6)) })?;
        Some(Model {
            raw,
            dests: Vec::new(),
            size: prime(index),
        })
    }

    /// Number of slots.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// Rebuilds the table from `dests` (list order). Returns the C result:
    /// 0 or -22 (-EINVAL, table kept).
    pub fn build(&mut self, dests: Vec<CDest>) -> i32 {
        let n = u32::try_from(dests.len()).unwrap_or(u32::MAX);
        let old = core::mem::replace(&mut self.dests, dests);
        // SAFETY: `self.raw` is live; `self.dests` holds `n` entries and
        // stays in place (the Vec is not touched) until the next build,
        // which replaces it only after C has let go of the old one.
        let rc = unsafe { mh_model_build(self.raw.as_ptr(), self.dests.as_ptr(), n) };
        if rc != 0 {
            // C still points into the previous list.
            self.dests = old;
        }
        rc
    }

    /// Rebuilds the table from the current list (after `dests_mut` changes,
    /// or to time a build without copying the list).
    pub fn rebuild(&mut self) -> i32 {
        let n = u32::try_from(self.dests.len()).unwrap_or(u32::MAX);
        // SAFETY: as in `build`; the list stays where it is.
        unsafe { mh_model_build(self.raw.as_ptr(), self.dests.as_ptr(), n) }
    }

    /// The destinations of the last successful build.
    pub fn dests(&self) -> &[CDest] {
        &self.dests
    }

    /// Mutable access to the destinations, to change weights or flags
    /// without a rebuild (as IPVS does for the overload flag).
    pub fn dests_mut(&mut self) -> &mut [CDest] {
        &mut self.dests
    }

    /// The table as destination indices, -1 for empty slots.
    pub fn slots(&self) -> Vec<i32> {
        let mut out = alloc::vec![0i32; self.size as usize];
        // SAFETY: `out` has room for the model's `size` entries.
        unsafe { mh_model_slots(self.raw.as_ptr(), out.as_mut_ptr()) };
        out
    }

    /// (gcd, rshift) of the last build.
    pub fn weights(&self) -> (i32, i32) {
        // SAFETY: `self.raw` is live.
        unsafe {
            (
                mh_model_gcd(self.raw.as_ptr()),
                mh_model_rshift(self.raw.as_ptr()),
            )
        }
    }

    /// The destination index for a client (port in host order).
    pub fn lookup(&self, raw: &[u8; 16], port: u16, fallback: bool) -> Option<usize> {
        // SAFETY: `self.raw` is live and its destination pointers point into
        // `self.dests`; `raw` is 16 readable bytes.
        let i = unsafe {
            mh_model_lookup(
                self.raw.as_ptr(),
                raw.as_ptr(),
                port.to_be(),
                i32::from(fallback),
            )
        };
        usize::try_from(i).ok()
    }

    /// Runs lookups for every (address, network-order port) pair in C and
    /// returns the sum of (index + 1) (0 for none).
    pub fn bench_lookups(&self, addrs: &[[u8; 16]], ports_be: &[u16], fallback: bool) -> u64 {
        let n = addrs.len().min(ports_be.len());
        // SAFETY: both arrays have at least `n` entries; see `lookup`.
        unsafe {
            mh_model_bench_lookups(
                self.raw.as_ptr(),
                addrs.as_ptr(),
                ports_be.as_ptr(),
                n,
                i32::from(fallback),
            )
        }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: `self.raw` came from `mh_model_new` and is freed once.
        unsafe { mh_model_free(self.raw.as_ptr()) }
    }
}

/// Sum of the C model's `hsiphash` over each value's 4 native-order bytes
/// (the kernel's generic out-of-line call with `HASH1`).
pub fn bench_hsiphash(vals: &[u32]) -> u64 {
    // SAFETY: `vals` is valid for `vals.len()` entries.
    unsafe { mh_model_bench_hsiphash(vals.as_ptr(), vals.len()) }
}
