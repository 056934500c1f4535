/*
 * pairs.h - co-occurrence pairs counted by sorting: occurrences -> sorted runs.
 *
 * A pair occurrence is two 32-bit ids (a, b) and a signed weight in units.
 * Window scope makes about five of them a token, and nearly every one is a
 * key no cache holds: looked up one by one in a hash table, each cost a
 * random access (bench/NOTES.md, 21). Here they wait in a buffer instead;
 * a full buffer is radix-sorted by its key, a << 32 | b, and summed into a
 * run: its keys in order with their sums. A counter ends with a few runs
 * (past a cap, runs merge k at a time, each read in sequence).
 *
 * The ids are a counter's own (local term ids, or vocabulary indices); the
 * reducer translates each run to global ids and groups it by partition
 * (cs_pairs_split), then sorts and sums each partition over all runs of all
 * counters (cs_pairs_sum_runs). Sorted runs are also what a memory budget
 * can write to disk.
 *
 * Sums are exact and 128 bits wide in the end (harmonic weights reach 2^47
 * units an occurrence), but a pair is 16 bytes: memory is most of the
 * cost here (first touches of fresh pages included), and a 64-bit sum
 * nearly always suffices. In a counter's runs a sum that would leave int64
 * is simply cut: the key appears again with the rest. A summed run has
 * distinct keys, and the rare sum outside int64 sits in its `big` list.
 */
#ifndef CS_PAIRS_H
#define CS_PAIRS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* A pair and a sum of its weights (an occurrence: its weight). */
typedef struct cs_pair {
    uint64_t key;  /* a << 32 | b */
    int64_t units; /* never INT64_MIN, except CS_PAIR_BIG in a summed run */
} cs_pair;

/* In a summed run: the sum is in the run's big list. */
#define CS_PAIR_BIG INT64_MIN

typedef struct cs_pair_big {
    uint64_t key;
    __int128 units;
} cs_pair_big;

typedef struct cs_pair_run {
    cs_pair *v;       /* owned */
    size_t n;
    cs_pair_big *big; /* owned; summed runs: the sums outside int64, by key */
    size_t n_big;
} cs_pair_run;

/* The sum of pair i of a summed run. */
static inline __int128 cs_pair_units(const cs_pair_run *r, size_t i)
{
    if (CS_LIKELY(r->v[i].units != CS_PAIR_BIG))
        return r->v[i].units;
    size_t lo = 0, hi = r->n_big; /* a binary search: such sums are rare */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->big[mid].key < r->v[i].key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return r->big[lo].units;
}

typedef struct cs_pairs {
    cs_pair *occ, *tmp;     /* owned; cap items each (tmp: the sort's other half) */
    size_t n, cap;
    size_t max;             /* occurrences buffered before a sort, at most: init
                               sets the default, tests lower it */
    cs_pair_run *runs;      /* owned; sorted runs (the newest half merged
                               into one when they reach a cap) */
    size_t n_runs;
    cs_pair_run summed;     /* owned; cs_pairs_finish's */
} cs_pairs;

void cs_pairs_init(cs_pairs *s);
void cs_pairs_free(cs_pairs *s);

/* Sorts the buffer into a run (growing the buffer instead while it is
 * below max). Called by cs_pairs_add when the buffer is full. */
void cs_pairs_sort_buffer(cs_pairs *s);

/* Adds `units` (nonzero, |units| < 2^62) to pair (a, b). */
static inline void cs_pairs_add(cs_pairs *s, uint32_t a, uint32_t b, int64_t units)
{
    if (CS_UNLIKELY(s->n == s->cap))
        cs_pairs_sort_buffer(s);
    cs_pair *o = &s->occ[s->n++];
    o->key = (uint64_t)a << 32 | b;
    o->units = units;
}

/* Sorts what the buffer holds into a run and frees the buffer: call it
 * before s->runs are read. s stays usable. */
void cs_pairs_flush(cs_pairs *s);

/* Everything added so far, as one summed run (distinct keys in order, none
 * summing to 0; valid until the next call). s stays usable. For tests: the
 * reducer sums runs by partition instead. */
const cs_pair_run *cs_pairs_finish(cs_pairs *s);

/* Translates the pairs of each of s's runs (cs_pairs_flush first) to
 * global ids through remap (remap[id]: a global term id, partition <<
 * CS_ID_BITS | index) and groups them by the partition of the first id, in
 * place: out[r * CS_N_PARTS + p] (s->n_runs * CS_N_PARTS of them) is
 * borrowed from s, valid until s changes, and holds keys index_a << 32 |
 * global b, in no order. */
void cs_pairs_split(cs_pairs *s, const uint32_t *remap, cs_pair_run *out);

/* The pairs of src[0..n_src) sorted and summed into one summed run,
 * without those that sum to 0 (new arrays, owned by the caller; the
 * sources are only read). *scratch: room the sort grows as it needs
 * (*scratch_cap pairs twice) and keeps for the next call, so that its pages
 * are touched once (free it after the last call). */
cs_pair_run cs_pairs_sum_runs(const cs_pair_run *src, size_t n_src, cs_pair **scratch,
                              size_t *scratch_cap);

/* Frees what a run owns. */
void cs_pair_run_free(cs_pair_run *r);

#endif
