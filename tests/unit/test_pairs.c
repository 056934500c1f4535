/* test_pairs.c - pairs counted by sorting (pairs.c) against a plain count:
 * every occurrence appended to a list, the list sorted with qsort and equal
 * keys summed in 128 bits. Whatever the buffer size (1: a run per
 * occurrence, so thousands of runs, merged level by level), the run is the
 * same; weights that cancel leave no pair; sums past 64 bits are exact; the
 * radix sort sees ids in every digit it is given; and partition p of the
 * runs, translated by a remap and summed, holds that partition's pairs;
 * under a budget, runs whose merge would pass it are left unmerged. */
#include <stdlib.h>
#include <string.h>

#include "pairs.h"
#include "table.h"
#include "testhelp.h"

typedef struct {
    uint64_t key;
    __int128 units;
} occ;

static int cmp_occ(const void *a, const void *b)
{
    const occ *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static uint64_t rng(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 11;
}

/* The plain count: distinct keys in order with nonzero sums. */
static size_t reference(occ *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_occ);
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        occ s = v[i];
        for (i++; i < n && v[i].key == s.key; i++)
            s.units += v[i].units;
        if (s.units)
            v[out++] = s;
    }
    return out;
}

static int same_run(const cs_pair_run *r, const occ *v, size_t n)
{
    if (r->n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (r->v[i].key != v[i].key || cs_pair_units(r, i) != v[i].units)
            return 0;
    return 1;
}

/* The partitions of the ids of the counter init_pairs made last. */
static cs_partmap parts;

/* A counter of pairs whose ids below id_max name terms of partition
 * id % CS_N_PARTS, buffering max occurrences. */
static void init_pairs(cs_pairs *s, uint32_t id_max, size_t max)
{
    cs_partmap_free(&parts);
    for (uint32_t id = 0; id < id_max; id++)
        cs_partmap_set(&parts, id, id % CS_N_PARTS);
    cs_pairs_init(s, &parts);
    s->max = max;
}

/* n occurrences of ids below id_max (skewed: small ids are frequent), a
 * share of them negative, weights up to max_w. */
static occ *make_occ(uint64_t seed, size_t n, uint32_t id_max, int64_t max_w)
{
    occ *v = malloc(n * sizeof *v);
    if (!v)
        abort();
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = (uint32_t)(rng(&x) % id_max), b = (uint32_t)(rng(&x) % id_max);
        if (rng(&x) % 2) { /* skew toward small ids: repeats */
            a %= 64;
            b %= 64;
        }
        int64_t w = 1 + (int64_t)(rng(&x) % (uint64_t)max_w);
        if (rng(&x) % 8 == 0)
            w = -w;
        v[i] = (occ){(uint64_t)a << 32 | b, w};
    }
    return v;
}

static void test_against_reference(uint32_t id_max, int64_t max_w)
{
    const size_t n = 30000;
    occ *v = make_occ(id_max ^ (uint64_t)max_w, n, id_max, max_w);
    occ *ref = malloc(n * sizeof *ref);
    if (!ref)
        abort();
    memcpy(ref, v, n * sizeof *v);
    const size_t n_ref = reference(ref, n);
    const size_t sizes[] = {1, 3, 1000, 1u << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        cs_pairs s;
        init_pairs(&s, id_max, sizes[k]);
        for (size_t i = 0; i < n; i++)
            cs_pairs_add(&s, (uint32_t)(v[i].key >> 32), (uint32_t)v[i].key, (int64_t)v[i].units);
        CHECK_MSG(same_run(cs_pairs_finish(&s), ref, n_ref), "ids < %u, weights <= %lld, buffer %zu",
                  id_max, (long long)max_w, sizes[k]);
        /* Still usable after finish: adding everything again doubles every sum. */
        for (size_t i = 0; i < n; i++)
            cs_pairs_add(&s, (uint32_t)(v[i].key >> 32), (uint32_t)v[i].key, (int64_t)v[i].units);
        const cs_pair_run *r = cs_pairs_finish(&s);
        int doubled = r->n == n_ref;
        for (size_t i = 0; doubled && i < n_ref; i++)
            doubled = cs_pair_units(r, i) == 2 * ref[i].units;
        CHECK_MSG(doubled, "added twice, buffer %zu", sizes[k]);
        cs_pairs_free(&s);
    }
    free(v);
    free(ref);
}

/* Occurrences that cancel leave nothing, in one buffer and across runs. */
static void test_cancel(void)
{
    for (size_t max = 1; max <= 4096; max *= 64) {
        cs_pairs s;
        init_pairs(&s, 4000, max);
        for (int round = 0; round < 2; round++)
            for (uint32_t i = 0; i < 500; i++)
                cs_pairs_add(&s, i, i * 7 + 1, round ? -(int64_t)i - 1 : (int64_t)i + 1);
        cs_pairs_add(&s, 3, 4, 5);
        const cs_pair_run *r = cs_pairs_finish(&s);
        CHECK_MSG(r->n == 1 && r->v[0].key == ((uint64_t)3 << 32 | 4) && cs_pair_units(r, 0) == 5,
                  "cancelled pairs gone, buffer %zu", max);
        cs_pairs_free(&s);
    }
}

/* A pair seen 2^20 times at 2^47 units sums to 2^67: past 64 bits, in one
 * buffer (cut within a run) and across runs, beside pairs that fit; a sum
 * of exactly INT64_MIN is big too (that value marks big sums). */
static void test_carry(void)
{
    for (size_t max = 1000; max <= (1u << 21); max *= 2048) {
        cs_pairs s;
        init_pairs(&s, 8, max);
        const int64_t w = (int64_t)1 << 47;
        for (uint32_t i = 0; i < (1u << 20); i++) {
            cs_pairs_add(&s, 1, 2, w);
            cs_pairs_add(&s, 0, i % 5, 1);
            cs_pairs_add(&s, 7, 7, -w);
            if (i < (1u << 15))
                cs_pairs_add(&s, 5, 5, -w * 2); /* 2^15 * -2^48 = INT64_MIN */
        }
        const cs_pair_run *r = cs_pairs_finish(&s);
        CHECK_MSG(r->n == 8 && r->n_big == 3, "buffer %zu: %zu pairs, %zu big", max, r->n, r->n_big);
        CHECK(r->n == 8 && r->v[5].key == ((uint64_t)1 << 32 | 2) && cs_pair_units(r, 5) == (__int128)1 << 67);
        CHECK(r->n == 8 && cs_pair_units(r, 6) == INT64_MIN && cs_pair_units(r, 7) == -((__int128)1 << 67));
        CHECK(r->n == 8 && cs_pair_units(r, 0) == 209716 && cs_pair_units(r, 4) == 209715);
        for (uint32_t i = 0; i < (1u << 20); i++)
            cs_pairs_add(&s, 1, 2, -w);
        r = cs_pairs_finish(&s);
        CHECK(r->n == 7 && r->n_big == 2);
        cs_pairs_free(&s);
    }
}

typedef struct {
    cs_pair *v;
    size_t n;
} collected;

static void collect(void *ctx, const cs_pair *v, size_t n)
{
    collected *c = ctx;
    memcpy(c->v + c->n, v, n * sizeof *v);
    c->n += n;
}

/* A partition of every run, translated through a remap that agrees with
 * the partitions (ids in partition id % 64, as global ids say), then summed:
 * each partition's pairs, in the order of their translated keys. Read a
 * few at a time (cs_pairs_part_each), the same pairs; summed in two slices
 * of keys and appended (cs_pair_run_append), the same run. */
static void test_parts(void)
{
    const uint32_t n_ids = 1000;
    cs_pairs s;
    init_pairs(&s, n_ids, 100);
    uint32_t *remap = malloc(n_ids * sizeof *remap);
    occ *v = malloc(20000 * sizeof *v);
    if (!remap || !v)
        abort();
    for (uint32_t i = 0; i < n_ids; i++)
        remap[i] = (i % CS_N_PARTS) << CS_ID_BITS | (i * 37 % 5000);
    uint64_t x = 7;
    for (size_t i = 0; i < 20000; i++) {
        uint32_t a = (uint32_t)(rng(&x) % n_ids), b = (uint32_t)(rng(&x) % n_ids);
        cs_pairs_add(&s, a, b, 1);
        /* the partition on top, for the reference's order */
        v[i] = (occ){(uint64_t)(remap[a] >> CS_ID_BITS) << 58 |
                         (uint64_t)(remap[a] & ((1u << CS_ID_BITS) - 1)) << 32 | remap[b],
                     1};
    }
    const size_t n_ref = reference(v, 20000);
    cs_pairs_flush(&s);
    CHECK(s.n_runs > 1);
    size_t total = 0, at = 0;
    int ok = 1;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        const size_t n = cs_pairs_part_n(&s, p);
        cs_pair *buf = malloc((2 * n + 2) * sizeof *buf);
        if (!buf)
            abort();
        const size_t got = cs_pairs_part_get(&s, p, remap, buf, NULL);
        ok = ok && got == n;
        collected c = {malloc((n + 1) * sizeof *c.v), 0};
        if (!c.v)
            abort();
        cs_pairs_part_each(&s, p, remap, NULL, collect, &c);
        ok = ok && c.n == n && !memcmp(c.v, buf, n * sizeof *buf);
        /* two slices: keys below the median key, and the rest */
        const uint64_t mid = n ? buf[n / 2].key : 0;
        size_t lo = 0;
        for (size_t i = 0; i < n; i++)
            if (c.v[i].key < mid) {
                const cs_pair swap = c.v[lo];
                c.v[lo++] = c.v[i];
                c.v[i] = swap;
            }
        cs_pair *tmp = malloc((n + 1) * sizeof *tmp);
        if (!tmp)
            abort();
        cs_pair_run first = cs_pairs_sum(c.v, tmp, lo), rest = cs_pairs_sum(c.v + lo, tmp, n - lo);
        cs_pair_run_append(&first, &rest);
        cs_pair_run sum = cs_pairs_sum(buf, buf + n + 1, got);
        ok = ok && first.n == sum.n && rest.n == 0 && !rest.v;
        for (size_t i = 0; ok && i < sum.n; i++)
            ok = first.v[i].key == sum.v[i].key && cs_pair_units(&first, i) == cs_pair_units(&sum, i);
        cs_pair_run_free(&first);
        free(tmp);
        free(c.v);
        for (size_t i = 0; ok && i < sum.n; i++, at++)
            ok = at < n_ref && v[at].key == ((uint64_t)p << 58 | sum.v[i].key) &&
                 cs_pair_units(&sum, i) == v[at].units;
        total += sum.n;
        cs_pair_run_free(&sum);
        free(buf);
    }
    CHECK(ok && total == n_ref);
    cs_pairs_free(&s);
    free(remap);
    free(v);
}

/* Thousands of runs (a buffer of one occurrence) spilled under a budget:
 * merged FAN_IN at a time when the merge fits the runs' share, left to the
 * reducer when it would not (levels 0); the same pairs either way. */
static void test_merge_under_budget(void)
{
    const size_t n = 30000;
    occ *v = make_occ(99, n, 5000, 7), *ref = malloc(n * sizeof *ref);
    if (!ref)
        abort();
    memcpy(ref, v, n * sizeof *v);
    const size_t n_ref = reference(ref, n);
    cs_spill *sp = cs_spill_new(NULL);
    const size_t over[] = {(size_t)1 << 40, 256};
    for (int k = 0; k < 2; k++) {
        cs_pairs s;
        init_pairs(&s, 5000, 1);
        cs_pairs_set_spill(&s, cs_spill_file_new(sp, k ? "t1-pairs" : "t0-pairs"), over[k]);
        for (size_t i = 0; i < n; i++)
            cs_pairs_add(&s, (uint32_t)(v[i].key >> 32), (uint32_t)v[i].key, (int64_t)v[i].units);
        cs_pairs_flush(&s);
        const unsigned levels = cs_pairs_levels(&s);
        CHECK_MSG(k ? levels == 0 : levels >= 1, "over %zu: %u levels", over[k], levels);
        CHECK_MSG(same_run(cs_pairs_finish(&s), ref, n_ref), "over %zu", over[k]);
        cs_pairs_free(&s);
    }
    CHECK(!cs_spill_error(sp));
    cs_spill_free(sp);
    free(v);
    free(ref);
}

int main(void)
{
    test_against_reference(100, 1);
    test_against_reference(5000, 60);
    test_against_reference(1u << 24, 3); /* ids in the third digit of each half */
    test_against_reference(1u << 24, (int64_t)1 << 47);
    test_cancel();
    test_carry();
    test_parts();
    test_merge_under_budget();
    cs_partmap_free(&parts);
    return TEST_REPORT();
}
