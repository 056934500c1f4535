/*
 * pairs.h - co-occurrence pairs counted by sorting: occurrences -> packed runs.
 *
 * A pair occurrence is two 32-bit ids (a, b) and a signed weight in units.
 * Window scope makes about five of them a token, and nearly every one is a
 * key no cache holds: looked up one by one in a hash table, each cost a
 * random access (bench/NOTES.md, 21). Here they wait in a buffer instead;
 * a full buffer is radix-sorted by its key, a << 32 | b, summed, and packed
 * into a run: for each of the CS_N_PARTS partitions (the partition of term
 * a in the merged term table, known from its hash), that partition's pairs
 * in key order, delta- and varint-coded (about 3 bytes a pair instead of
 * 16: memory is most of the cost here, first touches of fresh pages
 * included; NOTES, 22). Runs are merged only past hundreds a thread
 * (pairs.c, FAN_IN).
 *
 * The ids are a counter's own (local term ids, or vocabulary indices). The
 * reducer takes partition p of every run of every counter, translated to
 * global ids (cs_pairs_part_get), and sorts and sums them at once
 * (cs_pairs_sum): partitions are independent. Runs past the counter's
 * share of the memory budget are written to disk (cs_pairs_set_spill) and
 * read back there one partition at a time.
 *
 * Sums are exact and 128 bits wide in the end (harmonic weights reach 2^47
 * units an occurrence), but a pair is 16 bytes: a 64-bit sum nearly always
 * suffices. In a counter's runs a sum that would leave int64 is simply cut:
 * the key appears again with the rest. A summed run has distinct keys, and
 * the rare sum outside int64 sits in its `big` list.
 */
#ifndef CS_PAIRS_H
#define CS_PAIRS_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "spill.h"
#include "table.h"

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

/* Pairs with distinct keys in order, summed. */
typedef struct cs_pair_run {
    cs_pair *v;       /* owned */
    size_t n;
    cs_pair_big *big; /* owned; the sums outside int64, by key */
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
    assert(lo < r->n_big && r->big[lo].key == r->v[i].key);
    return r->big[lo].units;
}

void cs_pair_run_free(cs_pair_run *r);

typedef struct cs_pairs {
    cs_pair *occ, *tmp;     /* owned; cap items each (tmp: the sort's other half) */
    size_t n, cap;
    size_t max;             /* occurrences buffered before a sort, at most: init
                               sets the default, tests lower it */
    const cs_partmap *parts; /* borrowed: the partition of each id's term */
    cs_pack *runs;          /* owned; oldest first (merged as pairs.c says) */
    size_t n_runs, cap_runs;
    cs_spill_file *spill;   /* borrowed; NULL: runs stay in memory */
    size_t spill_over;      /* runs in memory past these bytes are spilled */
    int unmerged;           /* a merge of runs would have passed the budget: none is
                               made from then on (pairs.c, merge_fits) */
    cs_pair_run summed;     /* owned; cs_pairs_finish's */
} cs_pairs;

/* parts must give the partition of every id before a pair holds it, and
 * outlive s. */
void cs_pairs_init(cs_pairs *s, const cs_partmap *parts);
void cs_pairs_free(cs_pairs *s); /* NULL is a no-op */

/* The most the buffer and its sort may take (at least PAIRS_MIN pairs, at
 * most the default). Before the first occurrence. */
void cs_pairs_set_buffer(cs_pairs *s, size_t max_bytes);

/* Runs held in memory past `over` bytes are written to f (spill.h). A
 * spill that fails leaves them in memory (f's cs_spill keeps the error). */
void cs_pairs_set_spill(cs_pairs *s, cs_spill_file *f, size_t over);

/* Sorts the buffer into a run (growing the buffer instead while it is
 * below max). Called by cs_pairs_add when the buffer is full. */
void cs_pairs_sort_buffer(cs_pairs *s);

/* Adds `units` (nonzero, and not INT64_MIN, which marks big sums) to
 * pair (a, b); a's partition must be set. */
static inline void cs_pairs_add(cs_pairs *s, uint32_t a, uint32_t b, int64_t units)
{
    assert(units != 0 && units != INT64_MIN);
    if (CS_UNLIKELY(s->n == s->cap))
        cs_pairs_sort_buffer(s);
    cs_pair *o = &s->occ[s->n++];
    o->key = (uint64_t)a << 32 | b;
    o->units = units;
}

/* Packs what the buffer holds into a run and frees the buffer: call it
 * before the runs are read. s stays usable. */
void cs_pairs_flush(cs_pairs *s);

/* Bytes a packed pair takes at most: 5 for a's growth (33 bits), 5 for b,
 * 10 for the units. */
#define CS_PAIR_PACKED_MAX 20

/* Packs one pair of a run at d (the run's format: keys in order, each
 * after *prev, which it updates; start it at 0 for each partition);
 * returns the end. A key may repeat: the reducer sums its units. For a
 * run made elsewhere (a state file, state.c). */
uint8_t *cs_pairs_pack_one(uint8_t *d, uint64_t *prev, uint64_t key, int64_t units);

/* Whether q[0..len) reads as partition p of a run of n pairs over the
 * ids of parts, keys in order (as cs_grams_part_valid, for runs read from
 * a file). */
int cs_pairs_part_valid(const uint8_t *q, size_t len, uint32_t n, unsigned p,
                        const cs_partmap *parts);

/* Makes r (a pack of local ids, as cs_pairs_pack_one writes them, with
 * s's partitions) s's newest run. */
void cs_pairs_add_run(cs_pairs *s, cs_pack r);

/* The most merges behind any of s's runs (0: none; NULL s: 0). */
unsigned cs_pairs_levels(const cs_pairs *s);

/* Pairs that partition p holds over all of s's runs (flushed), at most
 * (a pair cut in two counts twice). */
size_t cs_pairs_part_n(const cs_pairs *s, unsigned p);

/* Writes partition p's pairs of all of s's runs to out (room for
 * cs_pairs_part_n), in no order, translated to global ids through remap
 * (remap[id]: partition << CS_ID_BITS | index in the merged term table):
 * keys index_a << 32 | global b, a being in partition p. Spilled runs are
 * read back through disk. Returns how many. */
size_t cs_pairs_part_get(const cs_pairs *s, unsigned p, const uint32_t *remap, cs_pair *out,
                         cs_buf *disk);

/* Partition p of s's runs (flushed), translated as cs_pairs_part_get does,
 * a few pairs at a time (each sees them run after run, in no order): for
 * a merge in slices, which keeps the pairs of one range of keys each time
 * (pipeline.c). disk: as cs_pairs_part_get's. */
typedef void (*cs_pair_each)(void *ctx, const cs_pair *v, size_t n);
void cs_pairs_part_each(const cs_pairs *s, unsigned p, const uint32_t *remap, cs_buf *disk,
                        cs_pair_each each, void *ctx);

/* Translated pairs (keys index of a << 32 | global b) in no order, packed
 * for a while: the pair merge sorts a partition too large for its share
 * into slices with them, a pass over the runs (pipeline.c). A pair with
 * the previous pair's a stores b << 1 (a varint); one with a new a stores
 * a << 1 | 1 and b; then the units, zigzag-coded. A run's pairs come a
 * by a, so most store only b: about 5 bytes a pair. *prev_a starts at
 * CS_PAIR_NO_A (a stream's first pair has a new a). */
#define CS_PAIR_NO_A UINT32_MAX
#define CS_PAIR_PUT_MAX 20 /* bytes a pair at most */
static inline uint8_t *cs_pair_put(uint8_t *d, uint32_t *prev_a, const cs_pair *x)
{
    const uint32_t a = (uint32_t)(x->key >> 32), b = (uint32_t)x->key;
    if (a == *prev_a) {
        d = cs_put_varint(d, (uint64_t)b << 1);
    } else {
        d = cs_put_varint(d, (uint64_t)a << 1 | 1);
        d = cs_put_varint(d, b);
        *prev_a = a;
    }
    return cs_put_varint(d, cs_zigzag(x->units));
}

/* The n pairs cs_pair_put wrote from q on, a few at a time. */
void cs_pairs_put_each(const uint8_t *q, size_t n, cs_pair_each each, void *ctx);

/* Moves src's pairs (and big sums) after dst's, every key of src after
 * every key of dst's (slices of one partition, in order); src is left
 * empty. dst empty: takes src over. */
void cs_pair_run_append(cs_pair_run *dst, cs_pair_run *src);

/* Sorts v[0..n) (through tmp, room for n; both are overwritten) and sums
 * it into a summed run (new arrays, owned by the caller), without the
 * keys that sum to 0. */
cs_pair_run cs_pairs_sum(cs_pair *v, cs_pair *tmp, size_t n);

/* The same when v[0..n_sorted) is in key order already (a state's pairs,
 * merged first: pipeline.c): only the rest is sorted, then the two are
 * read by merging them. */
cs_pair_run cs_pairs_sum_from(cs_pair *v, size_t n_sorted, cs_pair *tmp, size_t n);

/* Everything added so far, as one summed run of local ids (valid until
 * the next call). s stays usable. For tests. */
const cs_pair_run *cs_pairs_finish(cs_pairs *s);

#endif
