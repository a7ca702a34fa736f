// SPDX-License-Identifier: GPL-2.0

//! The hashing core's checks inside the kernel: a KUnit suite that runs
//! when a test build of the module (`make IP_VS_MH_RS_KUNIT=y`) is loaded
//! on a kernel with CONFIG_KUNIT=y. The production module has none of it.
//!
//! The same vectors as the userspace tests (`tests/vectors/`), the same
//! table properties, built with the kernel's allocator and run with the
//! kernel's Rust settings (overflow checks on, panics being oopses).

use kernel::prelude::kunit_tests;

#[kunit_tests(ip_vs_mh_core)]
mod tests {
    use crate::maglev::{
        self,
        Addr,
        Availability,
        Dest,
        HashKey,
        Slot,
        TableSize, //
    };
    use kernel::{
        alloc::flags::__GFP_NOWARN,
        prelude::*, //
    };

    include!("../tests/vectors/hsiphash.rs");
    include!("../tests/vectors/digest.rs");

    /// A table of `dests` at `size`, in the kernel's memory.
    struct Built {
        slots: KVVec<u16>,
        last_weights: KVec<i32>,
        built: maglev::Populated,
    }

    impl Built {
        /// Slots per destination.
        fn counts(&self) -> Result<KVec<u32>> {
            let mut counts = KVec::from_elem(0, self.last_weights.len(), GFP_KERNEL)?;
            maglev::count_slots(&self.slots, &mut counts);
            Ok(counts)
        }

        fn turns(&self, dest: usize) -> u32 {
            maglev::turns(self.last_weights[dest], self.built.weights)
        }

        fn owners(&self) -> maglev::Owners<'_> {
            maglev::Owners {
                built: self.built,
                last_weights: &self.last_weights,
            }
        }
    }

    fn build(size: TableSize, dests: &[Dest]) -> Result<Built> {
        let n = dests.len();
        let mut items = KVec::with_capacity(n, GFP_KERNEL)?;
        items.extend_from_slice(dests, GFP_KERNEL)?;
        let mut perms = KVec::from_elem(maglev::Permutation::default(), n, GFP_KERNEL)?;
        let mut last_weights = KVec::from_elem(0, n, GFP_KERNEL)?;
        let mut cursors = KVec::from_elem(maglev::Cursor::default(), n, GFP_KERNEL)?;
        let mut free = KVec::from_elem(0, maglev::free_list_len(size), GFP_KERNEL)?;
        let mut slots = KVVec::from_elem(u16::EMPTY, size.slots() as usize, GFP_KERNEL)?;
        let out = maglev::Layout::new(
            &mut perms,
            &mut last_weights,
            &mut cursors,
            &mut free,
            // Allocated filled with EMPTY just above.
            maglev::EmptySlots::filled(&mut slots),
        );
        let built = maglev::build(
            size,
            None,
            &mut items,
            |d| *d,
            |d| d.last_weight,
            |_| None,
            out,
        )
        .map_err(|_| EINVAL)?;
        Ok(Built {
            slots,
            last_weights,
            built,
        })
    }

    /// `n` IPv4 destinations 10.0.x.y:80 with the given last weights.
    fn dests(weights: &[i32]) -> Result<KVec<Dest>> {
        let mut v = KVec::with_capacity(weights.len(), GFP_KERNEL)?;
        for (i, &w) in weights.iter().enumerate() {
            let i = u8::try_from(i).map_err(|_| EINVAL)?;
            v.push(
                Dest {
                    addr: Addr::V4([10, 0, 1, i]),
                    port: 80,
                    last_weight: w,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(v)
    }

    /// Every destination available but those listed.
    struct AllBut<'a>(&'a [usize]);

    impl Availability for AllBut<'_> {
        fn is_available(&self, dest: usize) -> bool {
            !self.0.contains(&dest)
        }
    }

    #[test]
    fn hsiphash_matches_the_kernels_own_vectors() {
        let mut buf = [0u8; 64];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
        for (len, &want) in HSIPHASH_VECTORS.iter().enumerate() {
            assert_eq!(maglev::hsiphash(&buf[..len], &TEST_KEY), want);
        }
        // The 4-byte form the scheduler hashes with.
        assert_eq!(
            maglev::hsiphash_u32(0x0302_0100, &TEST_KEY),
            HSIPHASH_VECTORS[4]
        );
    }

    #[test]
    fn digests_are_the_known_answers() -> Result {
        for (index, dests, want) in DIGEST_KNOWN_ANSWERS {
            let size = TableSize::new(index).map_err(|_| EINVAL)?;
            let t = build(size, dests)?;
            assert_eq!(maglev::table_digest(size, dests, &t.slots), want);
        }
        Ok(())
    }

    #[test]
    fn every_slot_is_taken_in_proportion_to_the_weights() -> Result {
        // 4093 = 682 rounds of 6 slots and one slot more.
        let size = TableSize::new(12).map_err(|_| EINVAL)?;
        let t = build(size, &dests(&[1, 2, 3])?)?;
        assert!(!t.slots.contains(&u16::EMPTY));
        let mut counts = [0u32; 3];
        assert_eq!(maglev::count_slots(&t.slots, &mut counts), 0);
        assert_eq!(counts, [683, 1364, 2046]);
        Ok(())
    }

    #[test]
    fn equal_weights_differ_by_one_slot_at_most_at_every_size() -> Result {
        let ten = dests(&[7; 10])?;
        for index in TableSize::MIN_INDEX..=TableSize::MAX_INDEX {
            let size = TableSize::new(index).map_err(|_| EINVAL)?;
            let counts = build(size, &ten)?.counts()?;
            let lo = counts.iter().copied().min().unwrap_or(0);
            let hi = counts.iter().copied().max().unwrap_or(0);
            assert!(hi - lo <= 1);
            assert_eq!(counts.iter().sum::<u32>(), size.slots());
        }
        Ok(())
    }

    #[test]
    fn extreme_weights_under_overflow_checks() -> Result {
        // The largest weight IPVS takes beside the smallest, at the largest
        // table: gcd 1, a shift of 31 - 8 bits, no arithmetic overflow.
        let size = TableSize::new(17).map_err(|_| EINVAL)?;
        let d = dests(&[i32::MAX, 1, 0, -1])?;
        let w = maglev::weights(&[i32::MAX, 1, 0, -1], size);
        assert_eq!((w.gcd, w.rshift), (1, 31 - size.bits()));
        let t = build(size, &d)?;
        // Turns 255 and 1: 511 rounds of 256 slots, then 255 more for the
        // first (the numbers C and mh-tool give).
        assert_eq!([t.turns(0), t.turns(1)], [255, 1]);
        assert_eq!(t.counts()?[..], [130_560, 511, 0, 0]);
        for n in [0, 1, size.slots() - 1, size.slots(), u32::MAX] {
            assert_eq!(size.modulus().rem(n), n % size.slots());
        }
        Ok(())
    }

    #[test]
    fn lookups_skip_unavailable_servers_only_with_fallback() -> Result {
        let size = TableSize::new(10).map_err(|_| EINVAL)?;
        let d = dests(&[1, 1, 1, 1])?;
        let t = build(size, &d)?;
        let quiesced = AllBut(&[2]);
        let nothing = AllBut(&[0, 1, 2, 3]);
        let (mut none, mut moved) = (0, 0);
        for i in 0..2000u32 {
            let addr = Addr::V4((0xc000_0200 + i).to_be_bytes());
            let plain = maglev::lookup(&t.slots, size, &t.owners(), &addr, 0, false, &quiesced);
            let fallback = maglev::lookup(&t.slots, size, &t.owners(), &addr, 0, true, &quiesced);
            assert!(fallback.is_some() && fallback != Some(2));
            match plain {
                Some(p) => assert_eq!(fallback, Some(p)),
                None => {
                    none += 1;
                    moved += usize::from(fallback.is_some());
                }
            }
            let all_out = maglev::lookup(&t.slots, size, &t.owners(), &addr, 0, true, &nothing);
            assert!(all_out.is_none());
        }
        // About a quarter of the clients were on the quiesced server.
        assert!(none > 300 && none < 700 && moved == none);
        Ok(())
    }

    #[test]
    fn canonical_order_ignores_insertion_order() -> Result {
        let size = TableSize::new(9).map_err(|_| EINVAL)?;
        let mut a = dests(&[1, 2, 3, 4, 5])?;
        let mut b = KVec::with_capacity(a.len(), GFP_KERNEL)?;
        for d in a.iter().rev() {
            b.push(*d, GFP_KERNEL)?;
        }
        let listed = (build(size, &a)?, build(size, &b)?);
        assert!(listed.0.slots[..] != listed.1.slots[..] || a.len() < 2);
        maglev::sort_canonical_by_key(&mut a[..], |d| *d);
        maglev::sort_canonical_by_key(&mut b[..], |d| *d);
        let (ta, tb) = (build(size, &a)?, build(size, &b)?);
        assert_eq!(
            maglev::table_digest(size, &a, &ta.slots),
            maglev::table_digest(size, &b, &tb.slots)
        );
        Ok(())
    }

    #[test]
    fn impossible_tables_fail_cleanly() {
        let size = TableSize::DEFAULT;
        // More destinations than slots, and buffers of the wrong length:
        // errors, nothing written, no panic.
        let perms = [maglev::Permutation::new(size, &EXAMPLE_V4[0].addr, 80); 2];
        let mut cursors = [maglev::Cursor::default(); 2];
        let mut free = [0u32; 1];
        let mut short = [u16::EMPTY; 3];
        let scratch = maglev::Scratch {
            cursors: &mut cursors,
            free: &mut free,
        };
        assert!(maglev::populate(
            size,
            &perms,
            &[1, 1],
            scratch,
            maglev::EmptySlots::filled(&mut short)
        )
        .is_err());
        assert!(short.iter().all(|&s| s == u16::EMPTY));
        // An allocation the kernel cannot satisfy is an error, not an oops.
        let huge = KVVec::<u64>::with_capacity(usize::MAX / 16, GFP_KERNEL | __GFP_NOWARN);
        assert!(huge.is_err());
    }
}
