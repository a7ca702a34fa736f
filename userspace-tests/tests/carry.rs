// SPDX-License-Identifier: GPL-2.0

//! Carrying permutations over from the table in force, as the module does:
//! whatever the change, the table built with carried permutations is the
//! table a fresh build gives, and `Carry` only ever names an index that
//! holds the destination it was asked for.

mod common;

use common::{family, unique_dests};
use proptest::prelude::*;
use userspace_tests::maglev::{
    build, free_list_len, Carry, Cursor, Dest, EmptySlots, Layout, OwnedTable, Permutation,
    TableSize,
};

/// A table built from `items` with the permutations `previous` (the table
/// in force, in its order) already has, found with `Carry`; returns the
/// table and how many permutations were carried.
fn rebuild(
    size: TableSize,
    canonical: bool,
    items: &mut [Dest],
    previous: &OwnedTable<u16>,
    previous_dests: &[Dest],
) -> (Vec<u16>, usize) {
    let n = items.len();
    let mut perms = vec![Permutation::default(); n];
    let mut last_weights = vec![0; n];
    let mut cursors = vec![Cursor::default(); n];
    let mut free = vec![0; free_list_len(size)];
    let mut slots = vec![0u16; size.slots() as usize];
    let mut keys = vec![Dest::default(); n];
    let mut carry = Carry::new(previous_dests);
    let mut carried = 0;
    build(
        size,
        canonical.then_some(&mut keys[..]),
        items,
        |d| *d,
        |d| d.last_weight,
        |d| {
            let j = carry.find(|old| old.addr == d.addr && old.port == d.port)?;
            assert!(previous_dests[j].addr == d.addr && previous_dests[j].port == d.port);
            carried += 1;
            previous.perms.get(j).copied()
        },
        Layout::new(
            &mut perms,
            &mut last_weights,
            &mut cursors,
            &mut free,
            EmptySlots::clear(&mut slots),
        ),
    )
    .expect("builds");
    (slots, carried)
}

proptest! {
    #![proptest_config(common::config(400))]

    /// Any change IPVS can make between two builds (servers added at the
    /// head, removed anywhere, reweighted, an old one back from the trash,
    /// the order mode switched): carried permutations give the fresh table.
    #[test]
    fn carried_permutations_give_the_fresh_table(
        index in 8u32..=13,
        (_fam, dests) in family().prop_flat_map(|f| (Just(f), unique_dests(f, any::<u16>(), 0..=20, 2..=60))),
        adds in 0usize..4,
        removes in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        reweights in prop::collection::vec((any::<prop::sample::Index>(), 0i32..50), 0..4),
        back_from_trash: Option<prop::sample::Index>,
        was_canonical: bool,
        is_canonical: bool,
    ) {
        let size = TableSize::new(index).expect("valid index");
        // The table in force: the first destinations, in table order.
        let split = dests.len() / 2;
        let mut old_items = dests[split..].to_vec();
        let mut order: Vec<usize> = (0..old_items.len()).collect();
        let old = OwnedTable::<u16>::build_from(size, was_canonical, &mut order, |&i| old_items[i])
            .expect("builds");
        let old_dests: Vec<Dest> = order.iter().map(|&i| old_items[i]).collect();
        // The change, on the list (newest first).
        for r in removes {
            if old_items.len() > 1 {
                old_items.remove(r.index(old_items.len()));
            }
        }
        for (i, w) in reweights {
            let k = i.index(old_items.len());
            old_items[k].last_weight = w;
        }
        if let Some(i) = back_from_trash {
            let d = old_items.remove(i.index(old_items.len()));
            old_items.insert(0, d);
        }
        for d in dests[..split].iter().take(adds) {
            old_items.insert(0, *d);
        }
        let mut items = old_items.clone();
        let (slots, carried) = rebuild(size, is_canonical, &mut items, &old, &old_dests);
        let mut fresh_items = old_items;
        let mut fresh_order: Vec<usize> = (0..fresh_items.len()).collect();
        let fresh = OwnedTable::<u16>::build_from(size, is_canonical, &mut fresh_order, |&i| fresh_items[i])
            .expect("builds");
        fresh_items = fresh_order.iter().map(|&i| fresh_items[i]).collect();
        prop_assert_eq!(&items, &fresh_items);
        prop_assert!(slots == fresh.slots, "carried permutations built another table");
        // Without a reordering, everything kept carries over.
        if was_canonical == is_canonical && back_from_trash.is_none() && !is_canonical {
            prop_assert!(carried + adds.min(split) >= items.len(), "carried {} of {}", carried, items.len());
        }
    }
}
