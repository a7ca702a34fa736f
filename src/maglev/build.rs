// SPDX-License-Identifier: GPL-2.0

//! A whole table build, as every user of the core makes it (the module,
//! `mh-tool`, the tests): the destinations put in table order, each one's
//! permutation and last weight laid out in that order, then the slots.

use super::dest::Dest;
use super::error::Error;
use super::order::sort_canonical_keyed;
use super::permutation::Permutation;
use super::populate::{
    populate,
    Cursor,
    Populated,
    Scratch, //
};
use super::size::TableSize;
use super::slot::{
    EmptySlots,
    Slot, //
};

/// The caller's buffers for one build, all in table order: what the build
/// lays out for each destination, the scratch, and the table.
pub struct Layout<'a, S> {
    /// Each destination's permutation (one per destination).
    pub perms: &'a mut [Permutation],
    /// Each destination's last weight (one per destination).
    pub last_weights: &'a mut [i32],
    /// The build's scratch.
    pub scratch: Scratch<'a>,
    /// The table (`size.slots()` long), empty.
    pub slots: EmptySlots<'a, S>,
}

impl<'a, S> Layout<'a, S> {
    /// The buffers: one permutation, last weight and cursor per destination,
    /// the list of free slots ([`free_list_len`](super::free_list_len)
    /// entries), the slots.
    pub fn new(
        perms: &'a mut [Permutation],
        last_weights: &'a mut [i32],
        cursors: &'a mut [Cursor],
        free: &'a mut [u32],
        slots: EmptySlots<'a, S>,
    ) -> Self {
        Layout {
            perms,
            last_weights,
            scratch: Scratch { cursors, free },
            slots,
        }
    }
}

/// Builds the table of `items`, destinations of any type that `dest`
/// describes (and `last_weight` reads the last weight of, which is what
/// changes between builds).
///
/// The items are first put in table order: left as given (IPVS list order,
/// as the C scheduler takes them) when `canonical` is `None`, or else
/// sorted into the canonical order ([`sort_canonical_keyed`]), with
/// `canonical` as the buffer for their keys (one per item). Then, in that
/// order, each one's permutation (the one `known` returns for it, carried
/// over from an earlier table, or else computed) and last weight go into
/// `out`, and the slots are populated ([`populate`]). In list order, an
/// item whose permutation is known is not described at all: only its last
/// weight is read. Buffers of the wrong length are [`Error::BufferSize`],
/// and nothing is written then.
pub fn build<T, S: Slot>(
    size: TableSize,
    canonical: Option<&mut [Dest]>,
    items: &mut [T],
    dest: impl Fn(&T) -> Dest,
    last_weight: impl Fn(&T) -> i32,
    mut known: impl FnMut(&mut T) -> Option<Permutation>,
    out: Layout<'_, S>,
) -> Result<Populated, Error> {
    let n = items.len();
    if out.perms.len() != n
        || out.last_weights.len() != n
        || canonical.as_ref().is_some_and(|k| k.len() != n)
    {
        return Err(Error::BufferSize);
    }
    let places = out.perms.iter_mut().zip(out.last_weights.iter_mut());
    if let Some(keys) = canonical {
        // Each destination is read once, and sorted by what was read.
        for (key, item) in keys.iter_mut().zip(items.iter()) {
            *key = dest(item);
        }
        sort_canonical_keyed(items, keys);
        for ((item, (perm, lw)), key) in items.iter_mut().zip(places).zip(keys.iter()) {
            *perm = known(item).unwrap_or_else(|| Permutation::new(size, &key.addr, key.port));
            *lw = key.last_weight;
        }
    } else {
        for (item, (perm, lw)) in items.iter_mut().zip(places) {
            *perm = known(item).unwrap_or_else(|| {
                let d = dest(item);
                Permutation::new(size, &d.addr, d.port)
            });
            *lw = last_weight(item);
        }
    }
    populate(size, out.perms, out.last_weights, out.scratch, out.slots)
}
