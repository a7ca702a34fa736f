// SPDX-License-Identifier: GPL-2.0
/*
 * C model of the in-tree IPVS "mh" scheduler: see mh_model.h.
 *
 * Written from the scheduler's semantics (design.md section 2) as an
 * independent second implementation; the Rust core is tested against it.
 */
#include "mh_model.h"

#include <stdlib.h>
#include <string.h>

#define MODEL_EINVAL 22

static const uint32_t model_primes[10] = {
	251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071,
};

/* Per-destination permutation state during a build. */
struct model_setup {
	uint32_t offset;
	uint32_t skip;
	uint32_t perm;
	int turns;		/* signed, like the kernel's */
};

struct mh_model {
	uint32_t size;		/* M, a prime */
	int bits;		/* tab_index / 2 */
	int v6;			/* service family */
	int gcd;
	int rshift;
	struct mh_model_key hash1;
	struct mh_model_key hash2;
	const struct mh_model_dest **lookup;	/* M entries, NULL = empty */
	const struct mh_model_dest *dests;	/* list of the last good build */
	struct model_setup *setup;		/* up to M destinations */
	uint64_t *taken;			/* bitmap of M bits */
};

/* ---- hsiphash, 64-bit flavour ---------------------------------------- */

struct sip_state {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl64(uint64_t x, unsigned int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline void sip_round(struct sip_state *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13) ^ s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16) ^ s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21) ^ s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17) ^ s->v2;
	s->v2 = rotl64(s->v2, 32);
}

static inline uint64_t load_le(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	/* Fixed-size copies compile to single loads. */
	if (n == 8) {
		memcpy(&x, p, 8);
	} else if (n >= 4) {
		uint32_t lo;
		size_t k;

		memcpy(&lo, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		lo = __builtin_bswap32(lo);
#endif
		x = lo;
		for (k = 4; k < n; k++)
			x |= (uint64_t)p[k] << (8 * k);
		return x;
	} else {
		size_t k;

		for (k = 0; k < n; k++)
			x |= (uint64_t)p[k] << (8 * k);
		return x;
	}
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/*
 * Out of line on purpose: on x86_64 the kernel's hsiphash() of a 4-byte
 * stack variable calls the exported generic __hsiphash_unaligned().
 */
__attribute__((noinline))
uint32_t mh_model_hsiphash(const void *data, size_t len,
			   const struct mh_model_key *key)
{
	const uint8_t *p = data;
	size_t whole = len & ~(size_t)7;
	uint64_t last = (uint64_t)len << 56;
	struct sip_state s = {
		0x736f6d6570736575ULL ^ key->word[0],
		0x646f72616e646f6dULL ^ key->word[1],
		0x6c7967656e657261ULL ^ key->word[0],
		0x7465646279746573ULL ^ key->word[1],
	};
	size_t i;

	for (i = 0; i < whole; i += 8) {
		uint64_t m = load_le(p + i, 8);

		s.v3 ^= m;
		sip_round(&s);
		s.v0 ^= m;
	}
	last |= load_le(p + whole, len - whole);

	s.v3 ^= last;
	sip_round(&s);
	s.v0 ^= last;
	s.v2 ^= 0xff;
	sip_round(&s);
	sip_round(&s);
	sip_round(&s);
	return (uint32_t)((s.v0 ^ s.v1) ^ (s.v2 ^ s.v3));
}

/* ---- the scheduler's hash -------------------------------------------- */

static inline uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint32_t model_hashkey(int v6, const uint8_t *addr,
				     uint16_t port_be,
				     const struct mh_model_key *key,
				     uint32_t offset)
{
	/* Fold in host order: XOR commutes with the byte swap. */
	uint32_t fold = be32_at(addr);
	const uint8_t *pb = (const uint8_t *)&port_be;
	unsigned int v;

	if (v6)
		fold ^= be32_at(addr + 4) ^ be32_at(addr + 8) ^
			be32_at(addr + 12);
	/* port_be holds the port in network order: its first byte is high. */
	v = offset + ((unsigned int)pb[0] << 8 | pb[1]) + fold;
	return mh_model_hsiphash(&v, sizeof(v), key);
}

uint32_t mh_model_hashkey(int v6, const uint8_t addr[16], uint16_t port_be,
			  const struct mh_model_key *key, uint32_t offset)
{
	return model_hashkey(v6, addr, port_be, key, offset);
}

/* ---- table size, weights --------------------------------------------- */

uint32_t mh_model_prime(int tab_index)
{
	if (tab_index < 8 || tab_index > 17)
		return 0;
	return model_primes[tab_index - 8];
}

static unsigned int euclid(unsigned int a, unsigned int b)
{
	while (b) {
		unsigned int r = a % b;

		a = b;
		b = r;
	}
	return a;
}

static int highest_bit(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

static int weights_gcd(const struct mh_model_dest *d, uint32_t n)
{
	int g = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		int w = d[i].last_weight;

		if (w <= 0)
			continue;
		g = g > 0 ? (int)euclid((unsigned int)w, (unsigned int)g) : w;
	}
	return g;
}

static int weights_shift(const struct mh_model_dest *d, uint32_t n, int g,
			 int bits)
{
	int top = 0;
	int shift;
	uint32_t i;

	if (g < 1)
		return 0;
	for (i = 0; i < n; i++)
		if (d[i].last_weight > top)
			top = d[i].last_weight;
	shift = highest_bit((unsigned int)(top / g)) - bits;
	return shift > 0 ? shift : 0;
}

/* ---- building -------------------------------------------------------- */

struct mh_model *mh_model_new(int tab_index, int v6)
{
	uint32_t size = mh_model_prime(tab_index);
	struct mh_model *m;

	if (!size)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->size = size;
	m->bits = tab_index / 2;
	m->v6 = v6;
	m->hash1.word[0] = m->hash1.word[1] = 2654435761ULL;
	m->hash2.word[0] = m->hash2.word[1] = 2654446892ULL;
	m->lookup = calloc(size, sizeof(*m->lookup));
	m->setup = calloc(size, sizeof(*m->setup));
	m->taken = calloc((size + 63) / 64, sizeof(*m->taken));
	if (!m->lookup || !m->setup || !m->taken) {
		mh_model_free(m);
		return NULL;
	}
	return m;
}

void mh_model_free(struct mh_model *m)
{
	if (!m)
		return;
	free(m->lookup);
	free(m->setup);
	free(m->taken);
	free(m);
}

static void model_permutate(struct mh_model *m,
			    const struct mh_model_dest *dests, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct model_setup *st = &m->setup[i];
		const struct mh_model_dest *d = &dests[i];
		int lw = d->last_weight;
		int t;

		st->offset = model_hashkey(m->v6, d->addr, d->port, &m->hash1,
					   0) % m->size;
		st->skip = model_hashkey(m->v6, d->addr, d->port, &m->hash2,
					 0) % (m->size - 1) + 1;
		st->perm = st->offset;
		/* Signed division and arithmetic shift, as the kernel's int. */
		t = (lw / m->gcd) >> m->rshift;
		st->turns = t ? t : (lw != 0);
	}
}

static inline int bit_test(const uint64_t *map, uint32_t bit)
{
	return (map[bit / 64] >> (bit % 64)) & 1;
}

static inline void bit_set(uint64_t *map, uint32_t bit)
{
	map[bit / 64] |= 1ULL << (bit % 64);
}

static void model_populate(struct mh_model *m,
			   const struct mh_model_dest *dests, uint32_t n)
{
	uint32_t filled = 0;
	int run = 0;

	memset(m->taken, 0, (m->size + 63) / 64 * sizeof(*m->taken));
	/* Rounds over the list; a turn-less destination is passed over. */
	while (filled < m->size) {
		uint32_t i = 0;

		while (i < n) {
			struct model_setup *st = &m->setup[i];
			uint32_t c;

			if (st->turns < 1) {
				i++;
				continue;
			}
			c = st->perm;
			while (bit_test(m->taken, c)) {
				st->perm += st->skip;
				if (st->perm >= m->size)
					st->perm -= m->size;
				c = st->perm;
			}
			bit_set(m->taken, c);
			/* The kernel swaps references only on a change. */
			if (m->lookup[c] != &dests[i])
				m->lookup[c] = &dests[i];
			if (++filled == m->size)
				return;
			if (++run >= st->turns) {
				run = 0;
				i++;
			}
		}
	}
}

int mh_model_build(struct mh_model *m, const struct mh_model_dest *dests,
		   uint32_t n)
{
	uint32_t c;

	/* The kernel updates gcd and shift before it checks the count. */
	m->gcd = weights_gcd(dests, n);
	m->rshift = weights_shift(dests, n, m->gcd, m->bits);
	if (n > m->size)
		return -MODEL_EINVAL;
	m->dests = dests;
	if (m->gcd < 1) {
		for (c = 0; c < m->size; c++)
			m->lookup[c] = NULL;
		return 0;
	}
	model_permutate(m, dests, n);
	model_populate(m, dests, n);
	return 0;
}

void mh_model_slots(const struct mh_model *m, int32_t *out)
{
	uint32_t c;

	for (c = 0; c < m->size; c++)
		out[c] = m->lookup[c] ? (int32_t)(m->lookup[c] - m->dests) : -1;
}

int mh_model_gcd(const struct mh_model *m)
{
	return m->gcd;
}

int mh_model_rshift(const struct mh_model *m)
{
	return m->rshift;
}

/* ---- lookup ---------------------------------------------------------- */

static inline int unavailable(const struct mh_model_dest *d)
{
	return d->weight <= 0 || (d->flags & MH_MODEL_DEST_OVERLOAD);
}

static inline const struct mh_model_dest *
model_get(const struct mh_model *m, const uint8_t *addr, uint16_t port_be)
{
	uint32_t c = model_hashkey(m->v6, addr, port_be, &m->hash1, 0) %
		     m->size;
	const struct mh_model_dest *d = m->lookup[c];

	return d && !unavailable(d) ? d : NULL;
}

static inline const struct mh_model_dest *
model_get_fallback(const struct mh_model *m, const uint8_t *addr,
		   uint16_t port_be)
{
	uint32_t first = model_hashkey(m->v6, addr, port_be, &m->hash1, 0) %
			 m->size;
	const struct mh_model_dest *d = m->lookup[first];
	uint32_t step;

	if (!d)
		return NULL;
	if (!unavailable(d))
		return d;
	/* Rehash with offsets first, first+1, ... until an empty slot. */
	for (step = 0; step < m->size; step++) {
		uint32_t off = (step + first) % m->size;
		uint32_t c = model_hashkey(m->v6, addr, port_be, &m->hash1,
					   off) % m->size;

		d = m->lookup[c];
		if (!d)
			return NULL;
		if (!unavailable(d))
			return d;
	}
	return NULL;
}

static inline int32_t model_index(const struct mh_model *m,
				  const struct mh_model_dest *d)
{
	return d ? (int32_t)(d - m->dests) : -1;
}

int32_t mh_model_lookup(const struct mh_model *m, const uint8_t addr[16],
			uint16_t port_be, int fallback)
{
	const struct mh_model_dest *d = fallback ?
		model_get_fallback(m, addr, port_be) :
		model_get(m, addr, port_be);

	return model_index(m, d);
}

uint64_t mh_model_bench_lookups(const struct mh_model *m,
				const uint8_t (*addrs)[16],
				const uint16_t *ports_be, size_t count,
				int fallback)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < count; i++) {
		const struct mh_model_dest *d = fallback ?
			model_get_fallback(m, addrs[i], ports_be[i]) :
			model_get(m, addrs[i], ports_be[i]);

		sum += (uint64_t)(model_index(m, d) + 1);
	}
	return sum;
}

uint64_t mh_model_bench_hsiphash(const uint32_t *vals, size_t count)
{
	static const struct mh_model_key key = {
		{ 2654435761ULL, 2654435761ULL }
	};
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < count; i++)
		sum += mh_model_hsiphash(&vals[i], sizeof(vals[i]), &key);
	return sum;
}
