// SPDX-License-Identifier: GPL-2.0

//! The order-independent variant (sched flag-3, or the module parameter
//! `canonical_order`): a canonical destination order, so that directors
//! configured in different orders build the same table.
//!
//! [`sort_canonical_by_key`] is the one place that order is made: the kernel
//! module sorts its destination references with it, `mh-tool` its
//! destination list, the tests their inputs.

use super::dest::Dest;
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

/// Sorts `items` into the canonical order of the destinations `key` gives
/// for them ([`canonical_cmp`]), in place, without allocating.
///
/// A heapsort: O(n log n) comparisons whatever the input, no allocation,
/// and no panic path besides slice bounds checks (core's slice sorts can
/// abort on an inconsistent order, a path objtool does not accept in every
/// kernel build). Not stable, which does not matter for distinct
/// destinations: the canonical order of a set is unique.
pub fn sort_canonical_by_key<T>(items: &mut [T], key: impl Fn(&T) -> Dest) {
    let before = |items: &[T], i: usize, j: usize| match (items.get(i), items.get(j)) {
        (Some(a), Some(b)) => canonical_cmp(&key(a), &key(b)) == Ordering::Less,
        _ => false,
    };
    let n = items.len();
    // A max-heap first, then the largest moved behind the shrinking heap.
    let mut start = n / 2;
    while start > 0 {
        start -= 1;
        sift_down(items, start, n, &before);
    }
    let mut end = n;
    while end > 1 {
        end -= 1;
        items.swap(0, end);
        sift_down(items, 0, end, &before);
    }
}

/// Moves `items[root]` down the heap `items[..end]` until both children
/// are not greater.
fn sift_down<T>(
    items: &mut [T],
    mut root: usize,
    end: usize,
    before: &impl Fn(&[T], usize, usize) -> bool,
) {
    loop {
        // root < end <= items.len() <= isize::MAX: 2 * root + 2 cannot wrap.
        let left = root.wrapping_mul(2).wrapping_add(1);
        if left >= end {
            return;
        }
        let right = left.wrapping_add(1);
        let child = if right < end && before(items, left, right) {
            right
        } else {
            left
        };
        if !before(items, root, child) {
            return;
        }
        items.swap(root, child);
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
