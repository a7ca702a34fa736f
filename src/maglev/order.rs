// SPDX-License-Identifier: GPL-2.0

//! The order-independent variant (sched flag-3, or the module parameter
//! `canonical_order`): a canonical destination order, so that directors
//! configured in different orders build the same table.
//!
//! [`canonical_cmp`] is the one definition of that order, and one sort
//! makes it (a pass that finds a list already in that order or in its
//! reverse, else a heapsort): through [`sort_canonical_keyed`] for a table
//! build (the kernel module's destination references, `mh-tool`'s list),
//! through [`sort_canonical_by_key`] where no buffer for the keys is at
//! hand.

use super::dest::Dest;
use core::cmp::Ordering;

/// Total order by (family, address bytes, port, last weight).
///
/// IPVS never holds two destinations with the same address and port in one
/// service, so in practice the first three fields decide.
pub fn canonical_cmp(a: &Dest, b: &Dest) -> Ordering {
    // `Addr` orders IPv4 before IPv6, then by bytes in network order, as
    // its order key does, faster.
    a.addr
        .order_key()
        .cmp(&b.addr.order_key())
        .then(a.port.cmp(&b.port))
        .then(a.last_weight.cmp(&b.last_weight))
}

/// Sorts `items` into the canonical order of the destinations `key` gives
/// for them ([`canonical_cmp`]), in place, without allocating.
///
/// A list in that order or its reverse takes one pass; otherwise a
/// heapsort: O(n log n) comparisons whatever the input, no allocation,
/// and no panic path besides slice bounds checks (core's slice sorts can
/// abort on an inconsistent order, a path objtool does not accept in every
/// kernel build). Not stable, which does not matter for distinct
/// destinations: the canonical order of a set is unique. Each comparison
/// asks `key` twice; [`sort_canonical_keyed`] asks once per item.
#[cfg(maglev_full)]
pub fn sort_canonical_by_key<T, K: Fn(&T) -> Dest>(items: &mut [T], key: K) {
    sort(&mut ByKey { items, key });
}

/// Sorts `items` into the canonical order of `keys`, their destinations
/// (`keys[i]` describes `items[i]`), moving both alike: the order
/// [`sort_canonical_by_key`] gives, with each destination read once, before
/// the sort. Slices of different lengths are left as they are.
pub fn sort_canonical_keyed<T>(items: &mut [T], keys: &mut [Dest]) {
    if items.len() == keys.len() {
        sort(&mut Keyed { items, keys });
    }
}

/// What a heapsort sorts: `len` elements, compared and swapped by index.
trait Heap {
    fn len(&self) -> usize;
    /// Whether element `i` comes before element `j` (false out of bounds).
    fn before(&self, i: usize, j: usize) -> bool;
    fn swap(&mut self, i: usize, j: usize);
}

#[cfg(maglev_full)]
struct ByKey<'a, T, K> {
    items: &'a mut [T],
    key: K,
}

#[cfg(maglev_full)]
impl<T, K: Fn(&T) -> Dest> Heap for ByKey<'_, T, K> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn before(&self, i: usize, j: usize) -> bool {
        match (self.items.get(i), self.items.get(j)) {
            (Some(a), Some(b)) => canonical_cmp(&(self.key)(a), &(self.key)(b)) == Ordering::Less,
            _ => false,
        }
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.items.swap(i, j);
    }
}

/// Items and their keys, equally long.
struct Keyed<'a, T> {
    items: &'a mut [T],
    keys: &'a mut [Dest],
}

impl<T> Heap for Keyed<'_, T> {
    fn len(&self) -> usize {
        self.keys.len()
    }

    fn before(&self, i: usize, j: usize) -> bool {
        match (self.keys.get(i), self.keys.get(j)) {
            (Some(a), Some(b)) => canonical_cmp(a, b) == Ordering::Less,
            _ => false,
        }
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.items.swap(i, j);
        self.keys.swap(i, j);
    }
}

/// Sorts `heap` ascending.
///
/// Servers are mostly configured in address order, and IPVS lists the
/// newest first, so a service's list is often the canonical order
/// reversed (or the order itself): one pass finds either, in n - 1
/// comparisons where the heapsort makes about 2n log2 n. Only a strictly
/// monotonic list is taken as sorted; anything else (equal keys included)
/// goes to the heapsort, so the result is what the heapsort alone gives.
fn sort(heap: &mut impl Heap) {
    let n = heap.len();
    // Both walks stop at the first pair out of their order, so an unsorted
    // list costs a few comparisons more than the heapsort alone.
    if (1..n).all(|i| heap.before(i.wrapping_sub(1), i)) {
        return;
    }
    if (1..n).all(|i| heap.before(i, i.wrapping_sub(1))) {
        // 0 <= i < n / 2: n - 1 - i cannot wrap.
        for i in 0..n / 2 {
            heap.swap(i, n.wrapping_sub(1).wrapping_sub(i));
        }
        return;
    }
    heapsort(heap);
}

/// Sorts `heap` ascending: a max-heap first, then the largest moved behind
/// the shrinking heap.
fn heapsort(heap: &mut impl Heap) {
    let n = heap.len();
    let mut start = n / 2;
    while start > 0 {
        start -= 1;
        sift_down(heap, start, n);
    }
    let mut end = n;
    while end > 1 {
        end -= 1;
        heap.swap(0, end);
        sift_down(heap, 0, end);
    }
}

/// Moves element `root` down the heap of the first `end` elements until
/// both children are not greater.
fn sift_down(heap: &mut impl Heap, mut root: usize, end: usize) {
    loop {
        // root < end <= len <= isize::MAX: 2 * root + 2 cannot wrap.
        let left = root.wrapping_mul(2).wrapping_add(1);
        if left >= end {
            return;
        }
        let right = left.wrapping_add(1);
        let child = if right < end && heap.before(left, right) {
            right
        } else {
            left
        };
        if !heap.before(root, child) {
            return;
        }
        heap.swap(root, child);
        root = child;
    }
}

/// The index of `key` among `n` destinations in canonical order, which `at`
/// gives by index: a binary search, `None` when `key` is not there (or `at`
/// gives nothing for an index it was asked about).
pub fn find_canonical(n: usize, at: impl Fn(usize) -> Option<Dest>, key: &Dest) -> Option<usize> {
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        // lo < hi <= n: neither the midpoint nor lo + 1 can wrap.
        let mid = lo.wrapping_add(hi.wrapping_sub(lo) / 2);
        match canonical_cmp(&at(mid)?, key) {
            Ordering::Less => lo = mid.wrapping_add(1),
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Some(mid),
        }
    }
    None
}
