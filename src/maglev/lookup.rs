// SPDX-License-Identifier: GPL-2.0

//! Choosing a destination for a client.

use super::key::{
    hash_input,
    hash_input_at,
    Addr,
    HASH1, //
};
use super::modulus::Modulus;
use super::populate::Populated;
use super::size::TableSize;
use super::slot::Slot;

/// Which destinations may take new connections.
pub trait Availability {
    /// Whether destination `dest` (an index into the build's destination
    /// list) is available: see [`available`].
    fn is_available(&self, dest: usize) -> bool;
}

/// Whether a destination with this current weight and overload flag may
/// take new connections, as the C scheduler decides it: a positive weight
/// and not overloaded (`IP_VS_DEST_F_OVERLOAD`).
#[inline(always)]
pub const fn available(weight: i32, overloaded: bool) -> bool {
    weight > 0 && !overloaded
}

/// Which destinations of a table own at least one slot: asked only on the
/// slow path of a fallback lookup, so a caller can answer from its table
/// without copying anything on the common path.
pub trait SlotOwners {
    /// How far the build's first round got ([`Populated::reached`]): no
    /// destination from there on owns a slot.
    fn reached(&self) -> usize;
    /// Whether destination `dest` owns a slot.
    fn owns(&self, dest: usize) -> bool;
}

/// Which destinations of a table own at least one slot: what a build found
/// ([`Populated`]) and the last weights it was built from.
#[derive(Clone, Copy, Debug)]
pub struct Owners<'a> {
    /// The build's result.
    pub built: Populated,
    /// The last weights, in table order.
    pub last_weights: &'a [i32],
}

impl SlotOwners for Owners<'_> {
    #[inline(always)]
    fn reached(&self) -> usize {
        self.built.reached
    }

    #[inline(always)]
    fn owns(&self, dest: usize) -> bool {
        self.last_weights
            .get(dest)
            .is_some_and(|&lw| self.built.owns_slot(dest, lw))
    }
}

/// The slot a client hashes to first: `hash_key(addr, port, HASH1, 0) % M`.
#[cfg(maglev_full)]
#[inline(always)]
pub fn first_slot(size: TableSize, addr: &Addr, port: u16) -> u32 {
    rehash(size.modulus(), hash_input(addr, port), 0)
}

/// The slot the client whose hash input is `input` hashes to with `offset`.
#[inline(always)]
fn rehash(m: Modulus, input: u32, offset: u32) -> u32 {
    m.rem(hash_input_at(input, &HASH1, offset))
}

/// The destination for a client at `addr` (with `port`, host order; 0 when
/// the service does not hash the port), or `None` ("no destination
/// available").
///
/// Without `fallback` (`mh-fallback` off) the first slot decides: an empty
/// slot or an unavailable destination gives `None`. With `fallback`, an
/// unavailable first choice is followed by the same rehash sequence as C:
/// for `offset` in `0..M`, the slot `hash_key(addr, port, HASH1,
/// (offset + first) % M) % M`, stopping at the first empty slot (`None`) or
/// available destination.
///
/// `slots` must be a table built for `size`, and `owners` what that build
/// found. With `fallback` and no available destination owning a slot, the
/// answer comes at once instead of after up to M hash computations: the
/// same answer as C's.
#[inline]
pub fn lookup<S: Slot, O: SlotOwners + ?Sized, A: Availability + ?Sized>(
    slots: &[S],
    size: TableSize,
    owners: &O,
    addr: &Addr,
    port: u16,
    fallback: bool,
    avail: &A,
) -> Option<usize> {
    // Only this number goes on to the slow path: the address itself need
    // not be kept in memory for it.
    let input = hash_input(addr, port);
    let m = size.modulus();
    let ihash = rehash(m, input, 0);
    let first = slot_at(slots, ihash)?;
    if avail.is_available(first) {
        return Some(first);
    }
    if !fallback {
        return None;
    }
    fallback_scan(slots, m, ihash, owners, input, avail)
}

/// The rest of a fallback lookup, kept out of line so that the common path
/// above stays small: it is the rare, slow path. With nothing available it
/// answers before the first rehash.
#[cold]
#[inline(never)]
fn fallback_scan<S: Slot, O: SlotOwners + ?Sized, A: Availability + ?Sized>(
    slots: &[S],
    m: Modulus,
    ihash: u32,
    owners: &O,
    input: u32,
    avail: &A,
) -> Option<usize> {
    // The rehash sequence can only end at a destination that owns a slot.
    if !(0..owners.reached()).any(|i| owners.owns(i) && avail.is_available(i)) {
        return None;
    }
    for offset in 0..m.get() {
        // offset, ihash < m <= 131071: the sum cannot wrap (wrapping_add
        // only spares the kernel's overflow check).
        let roffset = m.rem(offset.wrapping_add(ihash));
        let d = slot_at(slots, rehash(m, input, roffset))?;
        if avail.is_available(d) {
            return Some(d);
        }
    }
    None
}

/// The destination in slot `i`, or `None` if the slot is empty.
#[inline(always)]
fn slot_at<S: Slot>(slots: &[S], i: u32) -> Option<usize> {
    slots.get(usize::try_from(i).ok()?)?.index()
}
