/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A C model of the in-tree IPVS "mh" scheduler (Linux 4.18+), written from
 * its documented semantics to serve as a test oracle and benchmark baseline
 * for the Rust core. It keeps the C scheduler's data layout where that
 * matters for speed: one destination pointer per slot, a separate bitmap of
 * taken slots during a build, hashing through an out-of-line generic
 * hsiphash, destinations read through their pointer at lookup time.
 *
 * Not thread-safe; no RCU, no reference counting.
 */
#ifndef MH_MODEL_H
#define MH_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Destination flag: overloaded (IP_VS_DEST_F_OVERLOAD), so unavailable. */
#define MH_MODEL_DEST_OVERLOAD 0x1u

/* An hsiphash key as 64-bit kernels store it: two 64-bit words. */
struct mh_model_key {
	uint64_t word[2];
};

/* One real server, laid out for the model (not the kernel's struct). */
struct mh_model_dest {
	uint8_t addr[16];	/* union nf_inet_addr bytes, network order */
	uint16_t port;		/* network order, as IPVS keeps it */
	int32_t weight;		/* current weight; <= 0 means unavailable */
	int32_t last_weight;	/* latest non-zero weight; shapes the table */
	uint32_t flags;		/* MH_MODEL_DEST_OVERLOAD */
};

struct mh_model;

/* 64-bit kernel hsiphash (SipHash-1-3, truncated to 32 bits). */
uint32_t mh_model_hsiphash(const void *data, size_t len,
			   const struct mh_model_key *key);

/* The scheduler's hash of an address (read in family v6 or v4) and port. */
uint32_t mh_model_hashkey(int v6, const uint8_t addr[16], uint16_t port_be,
			  const struct mh_model_key *key, uint32_t offset);

/* Table size for CONFIG_IP_VS_MH_TAB_INDEX-like index, 0 if out of range. */
uint32_t mh_model_prime(int tab_index);

/* A model for one service; NULL on a bad index or no memory. */
struct mh_model *mh_model_new(int tab_index, int v6);
void mh_model_free(struct mh_model *m);

/*
 * Rebuilds the table from dests[0..n) in list order. The model keeps
 * pointers into dests: the array must outlive its use by lookups.
 * Returns 0, or -22 (-EINVAL) when n exceeds the table size, in which case
 * the previous table is kept, as in the kernel.
 */
int mh_model_build(struct mh_model *m, const struct mh_model_dest *dests,
		   uint32_t n);

/* Copies the table out as destination indices, -1 for an empty slot. */
void mh_model_slots(const struct mh_model *m, int32_t *out);

/* gcd and shift of the last build. */
int mh_model_gcd(const struct mh_model *m);
int mh_model_rshift(const struct mh_model *m);

/* Destination index for a client, or -1 ("no destination available"). */
int32_t mh_model_lookup(const struct mh_model *m, const uint8_t addr[16],
			uint16_t port_be, int fallback);

/* Benchmark loops, so that no foreign call is timed per item. */
uint64_t mh_model_bench_lookups(const struct mh_model *m,
				const uint8_t (*addrs)[16],
				const uint16_t *ports_be, size_t count,
				int fallback);
uint64_t mh_model_bench_hsiphash(const uint32_t *vals, size_t count);

#endif /* MH_MODEL_H */
