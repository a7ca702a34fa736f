// SPDX-License-Identifier: GPL-2.0

//! A whole table build, as every user of the core makes it (the module,
//! `mh-tool`, the tests): the destinations put in table order, each one's
//! permutation and last weight laid out in that order, then the slots.

use super::dest::Dest;
use super::error::Error;
use super::order::sort_canonical_by_key;
use super::permutation::Permutation;
use super::populate::{
    populate,
    Cursor,
    Populated,
    Scratch, //
};
use super::size::TableSize;
use super::slot::Slot;

/// The caller's buffers for one build, all in table order: what the build
/// lays out for each destination, the scratch, and the table.
pub struct Layout<'a, S> {
    /// Each destination's permutation (one per destination).
    pub perms: &'a mut [Permutation],
    /// Each destination's last weight (one per destination).
    pub last_weights: &'a mut [i32],
    /// The build's scratch.
    pub scratch: Scratch<'a>,
    /// The table (`size.slots()` long).
    pub slots: &'a mut [S],
}

impl<'a, S> Layout<'a, S> {
    /// The buffers: one permutation, last weight and cursor per destination,
    /// [`taken_words`](super::taken_words) words of scratch, the slots.
    pub fn new(
        perms: &'a mut [Permutation],
        last_weights: &'a mut [i32],
        cursors: &'a mut [Cursor],
        taken: &'a mut [u64],
        slots: &'a mut [S],
    ) -> Self {
        Layout {
            perms,
            last_weights,
            scratch: Scratch { cursors, taken },
            slots,
        }
    }
}

/// Builds the table of `items`, destinations of any type that `dest`
/// describes.
///
/// The items are first put in table order: left as given (IPVS list order,
/// as the C scheduler takes them) or, when `canonical`, sorted into the
/// canonical order ([`sort_canonical_by_key`]). Then, in that order, each
/// one's permutation (the one `known` returns for it, carried over from an
/// earlier table, or else computed) and last weight go into `out`, and the
/// slots are populated ([`populate`]). Buffers of the wrong length are
/// [`Error::BufferSize`], and nothing is written then.
pub fn build<T, S: Slot>(
    size: TableSize,
    canonical: bool,
    items: &mut [T],
    dest: impl Fn(&T) -> Dest,
    mut known: impl FnMut(&mut T) -> Option<Permutation>,
    out: Layout<'_, S>,
) -> Result<Populated, Error> {
    if out.perms.len() != items.len() || out.last_weights.len() != items.len() {
        return Err(Error::BufferSize);
    }
    if canonical {
        sort_canonical_by_key(items, &dest);
    }
    for ((item, perm), lw) in items
        .iter_mut()
        .zip(out.perms.iter_mut())
        .zip(out.last_weights.iter_mut())
    {
        let d = dest(item);
        *perm = known(item).unwrap_or_else(|| Permutation::new(size, &d.addr, d.port));
        *lw = d.last_weight;
    }
    populate(size, out.perms, out.last_weights, out.scratch, out.slots)
}
