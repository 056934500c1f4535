/*
 * pairs.h - co-occurrence pairs counted by sorting: occurrences -> sorted runs.
 *
 * A pair occurrence is two 32-bit ids (a, b) and a signed weight in units.
 * Window scope makes about five of them a token, and nearly every one is a
 * key no cache holds: looked up one by one in a hash table, each cost a
 * random access (bench/NOTES.md, 21). Here they wait in a buffer instead;
 * a full buffer is radix-sorted by its key, a << 32 | b, and collapsed into
 * a run: its distinct keys in key order with their 128-bit sums. Runs are
 * merged as they pile up, two of about one size into one (as a binary
 * counter carries), so each occurrence is touched O(log(n / buffer)) times,
 * always in sequence, and a counter ends with one run.
 *
 * The ids are a counter's own (local term ids, or vocabulary indices); the
 * reducer translates a run to global ids and splits it by partition
 * (cs_pairs_split), then sorts and sums each partition over all counters
 * (reduce.c). Sorted runs are also what a memory budget can write to disk.
 */
#ifndef CS_PAIRS_H
#define CS_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* A distinct pair and its sum of weights (signed, 128 bits: harmonic
 * weights reach 2^47 units an occurrence). */
typedef struct cs_pair {
    uint64_t key; /* a << 32 | b */
    uint64_t lo;
    int64_t hi;
} cs_pair;

static inline __int128 cs_pair_units(const cs_pair *p)
{
    return (__int128)((unsigned __int128)(uint64_t)p->hi << 64 | p->lo);
}

typedef struct cs_pair_run {
    cs_pair *v; /* owned */
    size_t n;
} cs_pair_run;

/* One occurrence, as it waits in the buffer. */
typedef struct cs_pair_occ {
    uint64_t key;
    int64_t units;
} cs_pair_occ;

typedef struct cs_pairs {
    cs_pair_occ *occ, *tmp; /* owned; cap items each (tmp: the sort's other half) */
    size_t n, cap;
    size_t max;             /* occurrences buffered before a sort, at most: init
                               sets the default, tests lower it */
    cs_pair_run *runs;      /* owned; oldest (largest) first */
    size_t n_runs, cap_runs;
} cs_pairs;

void cs_pairs_init(cs_pairs *s);
void cs_pairs_free(cs_pairs *s);

/* Sorts the buffer into a run (growing the buffer instead while it is
 * below max). Called by cs_pairs_add when the buffer is full. */
void cs_pairs_sort_buffer(cs_pairs *s);

/* Adds `units` (nonzero) to pair (a, b). */
static inline void cs_pairs_add(cs_pairs *s, uint32_t a, uint32_t b, int64_t units)
{
    if (CS_UNLIKELY(s->n == s->cap))
        cs_pairs_sort_buffer(s);
    cs_pair_occ *o = &s->occ[s->n++];
    o->key = (uint64_t)a << 32 | b;
    o->units = units;
}

/* Everything added so far, as one run (s->runs[0]; pairs whose weights
 * summed to 0 are gone). s stays usable. */
const cs_pair_run *cs_pairs_finish(cs_pairs *s);

/* Moves s's pairs (cs_pairs_finish first) out into out[CS_N_PARTS],
 * translated to global ids through remap (remap[id]: a global term id,
 * partition << CS_ID_BITS | index) and split by the partition of the first
 * id. Each out[p] holds keys index_a << 32 | global b, in no order; s is
 * left empty. */
void cs_pairs_split(cs_pairs *s, const uint32_t *remap, cs_pair_run *out);

/* Sorts v[0..n) by key (a stable LSD radix sort through tmp, which must
 * hold n), then sums the weights of each key into one pair, dropping those
 * whose sum is 0. Returns the pairs left, in v. */
size_t cs_pairs_sort_sum(cs_pair *v, cs_pair *tmp, size_t n);

#endif
