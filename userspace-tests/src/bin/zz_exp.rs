use std::hint::black_box;
use std::time::Instant;
use userspace_tests::maglev::*;

#[inline(never)]
fn hashes(addrs: &[Addr], ports: &[u16]) -> u64 {
    addrs
        .iter()
        .zip(ports)
        .map(|(a, &p)| u64::from(hash_key(a, p, &HASH1, 0)))
        .sum()
}
#[inline(never)]
fn hash_mod(addrs: &[Addr], ports: &[u16], s: TableSize) -> u64 {
    addrs
        .iter()
        .zip(ports)
        .map(|(a, &p)| u64::from(first_slot(s, a, p)))
        .sum()
}
#[inline(never)]
fn hash_mod_div(addrs: &[Addr], ports: &[u16], m: u32) -> u64 {
    addrs
        .iter()
        .zip(ports)
        .map(|(a, &p)| u64::from(hash_key(a, p, &HASH1, 0) % m))
        .sum()
}
#[inline(never)]
fn slot_only(addrs: &[Addr], ports: &[u16], s: TableSize, slots: &[u16]) -> u64 {
    addrs
        .iter()
        .zip(ports)
        .map(|(a, &p)| {
            slots
                .get(first_slot(s, a, p) as usize)
                .map_or(0, |&x| u64::from(x))
        })
        .sum()
}
struct All;
impl Availability for All {
    fn is_available(&self, _: usize) -> bool {
        true
    }
    fn any_available(&self) -> bool {
        true
    }
}
struct W<'a>(&'a [i32]);
impl Availability for W<'_> {
    #[inline]
    fn is_available(&self, i: usize) -> bool {
        self.0.get(i).is_some_and(|&w| w > 0)
    }
    fn any_available(&self) -> bool {
        true
    }
}
#[inline(never)]
fn lk_all(addrs: &[Addr], ports: &[u16], s: TableSize, slots: &[u16]) -> u64 {
    addrs
        .iter()
        .zip(ports)
        .map(|(a, &p)| lookup(slots, s, a, p, false, &All).map_or(0, |x| x as u64 + 1))
        .sum()
}
#[inline(never)]
fn lk_w(addrs: &[Addr], ports: &[u16], s: TableSize, slots: &[u16], w: &[i32]) -> u64 {
    addrs
        .iter()
        .zip(ports)
        .map(|(a, &p)| lookup(slots, s, a, p, false, &W(w)).map_or(0, |x| x as u64 + 1))
        .sum()
}
fn t(name: &str, n: usize, mut f: impl FnMut() -> u64) {
    let mut v = vec![];
    for _ in 0..9 {
        let st = Instant::now();
        let mut c = 0;
        while st.elapsed().as_millis() < 50 {
            black_box(f());
            c += 1;
        }
        v.push(st.elapsed().as_nanos() as f64 / (c * n) as f64);
    }
    v.sort_by(f64::total_cmp);
    println!("{name}: {:.2} ns", v[4]);
}
fn main() {
    let n = 4096;
    let mut x = 0x9e3779b97f4a7c15u64;
    let mut addrs = vec![];
    let mut ports = vec![];
    for _ in 0..n {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let y = x.wrapping_mul(0x2545f4914f6cdd1d);
        addrs.push(Addr::V4((y as u32).to_be_bytes()));
        ports.push((y >> 32) as u16);
    }
    let s = TableSize::DEFAULT;
    let dests: Vec<Dest> = (0..100u32)
        .map(|i| Dest {
            addr: Addr::V4((0x0a000001 + i).to_be_bytes()),
            port: 80,
            last_weight: 1,
        })
        .collect();
    let mut slots = vec![0u16; 4093];
    let mut st = vec![DestState::default(); 100];
    populate(s, &dests, &mut st, &mut slots).unwrap();
    let w = vec![1i32; 100];
    let vals: Vec<u32> = addrs.iter().map(|a| a.fold()).collect();
    t("bare hsiphash_u32", n, || {
        vals.iter()
            .map(|&v| u64::from(hsiphash_u32(v, &HASH1)))
            .sum()
    });
    t("hash_key", n, || hashes(black_box(&addrs), &ports));
    t("hash+fastmod", n, || hash_mod(black_box(&addrs), &ports, s));
    t("hash+div", n, || {
        hash_mod_div(black_box(&addrs), &ports, black_box(4093))
    });
    t("hash+mod+slot", n, || {
        slot_only(black_box(&addrs), &ports, s, &slots)
    });
    t("lookup All", n, || {
        lk_all(black_box(&addrs), &ports, s, &slots)
    });
    t("lookup weights", n, || {
        lk_w(black_box(&addrs), &ports, s, &slots, &w)
    });
}
