/*
 * pairs.c - pair occurrences -> sorted, summed runs (see pairs.h).
 *
 * DESIGN
 * The sort is an LSD radix sort on the 64-bit key in digits of 10 and 11
 * bits laid out so that no digit straddles the two ids (a's digits start at
 * bit 32): with ids under 2^22 (a few million terms a thread) the top digit
 * of each id is constant and skipped, so a sort makes four passes. All
 * digits' histograms come from one read of the input. 2048 buckets a pass
 * keep the write streams few enough for the write-combining buffers; 8-bit
 * digits would need six passes.
 *
 * A run is summed as it is made (equal keys are adjacent after the sort),
 * and two runs merge by walking both: every pass over pair data here is
 * sequential, which is the point of the module.
 */
#include "pairs.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

/* Occurrences buffered before a sort: 4 Mi, 64 MiB and as much again to
 * sort into, a thread. The buffer starts at PAIRS_MIN and doubles, so a
 * small corpus pays nothing. */
#ifndef PAIRS_MAX /* -DPAIRS_MAX=.. to experiment */
#define PAIRS_MAX ((size_t)1 << 22)
#endif
#define PAIRS_MIN ((size_t)1 << 12)

#define N_DIGITS 6
static const unsigned digit_shift[N_DIGITS] = {0, 11, 22, 32, 43, 54};
static const unsigned digit_bits[N_DIGITS] = {11, 11, 10, 11, 11, 10};
#define BUCKETS 2048

void cs_pairs_init(cs_pairs *s)
{
    memset(s, 0, sizeof *s);
    s->max = PAIRS_MAX;
}

void cs_pairs_free(cs_pairs *s)
{
    free(s->occ);
    free(s->tmp);
    for (size_t i = 0; i < s->n_runs; i++)
        free(s->runs[i].v);
    free(s->runs);
    memset(s, 0, sizeof *s);
}

/* Sorts n items of `stride` bytes, each led by its uint64_t key, from a
 * (through b); returns the array that holds them sorted (a or b). Inlined
 * with a constant stride, so each copy is a few word moves. */
typedef uint64_t __attribute__((may_alias)) word; /* items are cs_pair_occ or cs_pair */

__attribute__((always_inline)) static inline void *radix_sort(void *a, void *b, size_t n,
                                                              const size_t stride)
{
    assert(n < UINT32_MAX);
    static __thread uint32_t count[N_DIGITS][BUCKETS];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        const uint64_t k = *(const word *)((const uint8_t *)a + i * stride);
        for (int d = 0; d < N_DIGITS; d++)
            count[d][(k >> digit_shift[d]) & ((1u << digit_bits[d]) - 1)]++;
    }
    uint8_t *src = a, *dst = b;
    for (int d = 0; d < N_DIGITS; d++) {
        const unsigned shift = digit_shift[d];
        const uint64_t mask = (1u << digit_bits[d]) - 1;
        uint32_t *pos = count[d];
        /* One bucket holds every item: the pass would move nothing. */
        if (n == 0 || pos[(*(const word *)src >> shift) & mask] == n)
            continue;
        uint32_t sum = 0;
        for (unsigned k = 0; k < BUCKETS; k++) {
            const uint32_t c = pos[k];
            pos[k] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            const word *s = (const word *)(src + i * stride);
            word *t = (word *)(dst + (size_t)pos[(s[0] >> shift) & mask]++ * stride);
            for (size_t w = 0; w < stride / 8; w++)
                t[w] = s[w];
        }
        uint8_t *x = src;
        src = dst;
        dst = x;
    }
    return src;
}

static inline void pair_add(cs_pair *p, uint64_t lo, int64_t hi)
{
    const unsigned __int128 v = ((unsigned __int128)(uint64_t)p->hi << 64 | p->lo) +
                                ((unsigned __int128)(uint64_t)hi << 64 | lo);
    p->lo = (uint64_t)v;
    p->hi = (int64_t)(uint64_t)(v >> 64);
}

static inline int pair_zero(const cs_pair *p)
{
    return p->lo == 0 && p->hi == 0;
}

size_t cs_pairs_sort_sum(cs_pair *v, cs_pair *tmp, size_t n)
{
    const cs_pair *s = radix_sort(v, tmp, n, sizeof(cs_pair));
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        cs_pair sum = s[i];
        for (i++; i < n && s[i].key == sum.key; i++)
            pair_add(&sum, s[i].lo, s[i].hi);
        if (!pair_zero(&sum))
            v[out++] = sum; /* out <= i - 1: never over an item still to read */
    }
    return out;
}

/* Two runs into one, summed; frees both. */
static cs_pair_run merge_runs(cs_pair_run x, cs_pair_run y)
{
    /* Room for both; the pages past what equal keys leave unused are never
     * touched, so they cost address space only (no shrinking copy). */
    cs_pair_run r = {cs_xhuge((x.n + y.n + 1) * sizeof *r.v), 0};
    size_t i = 0, j = 0;
    while (i < x.n && j < y.n) {
        if (x.v[i].key < y.v[j].key) {
            r.v[r.n++] = x.v[i++];
        } else if (y.v[j].key < x.v[i].key) {
            r.v[r.n++] = y.v[j++];
        } else {
            cs_pair p = x.v[i++];
            pair_add(&p, y.v[j].lo, y.v[j].hi);
            j++;
            if (!pair_zero(&p))
                r.v[r.n++] = p;
        }
    }
    memcpy(r.v + r.n, x.v + i, (x.n - i) * sizeof *r.v);
    r.n += x.n - i;
    memcpy(r.v + r.n, y.v + j, (y.n - j) * sizeof *r.v);
    r.n += y.n - j;
    free(x.v);
    free(y.v);
    return r;
}

/* Merges the two newest runs into one. */
static void merge_top(cs_pairs *s)
{
    assert(s->n_runs >= 2);
    s->runs[s->n_runs - 2] = merge_runs(s->runs[s->n_runs - 2], s->runs[s->n_runs - 1]);
    s->n_runs--;
}

/* The buffer, sorted and summed, becomes the newest run; runs of about one
 * size merge (the older at most twice the newer), so sizes fall
 * geometrically from the oldest and there are O(log n) of them. */
static void push_buffer(cs_pairs *s)
{
    if (!s->n)
        return;
    const cs_pair_occ *o = radix_sort(s->occ, s->tmp, s->n, sizeof(cs_pair_occ));
    cs_pair_run r = {cs_xhuge(s->n * sizeof *r.v), 0}; /* as in merge_runs: no shrinking */
    for (size_t i = 0; i < s->n;) {
        const uint64_t key = o[i].key;
        __int128 sum = 0;
        for (; i < s->n && o[i].key == key; i++)
            sum += o[i].units;
        if (sum) {
            cs_pair *p = &r.v[r.n++];
            p->key = key;
            p->lo = (uint64_t)sum;
            p->hi = (int64_t)(sum >> 64);
        }
    }
    s->n = 0;
    if (s->n_runs == s->cap_runs) {
        s->cap_runs = s->cap_runs ? s->cap_runs * 2 : 16;
        s->runs = cs_xrealloc(s->runs, s->cap_runs * sizeof *s->runs);
    }
    s->runs[s->n_runs++] = r;
    while (s->n_runs >= 2 && s->runs[s->n_runs - 2].n <= 2 * s->runs[s->n_runs - 1].n)
        merge_top(s);
}

void cs_pairs_sort_buffer(cs_pairs *s)
{
    assert(s->max >= 1);
    if (s->cap < s->max) {
        s->cap = s->cap ? s->cap * 2 : PAIRS_MIN;
        if (s->cap > s->max)
            s->cap = s->max;
        cs_pair_occ *occ = cs_xhuge(s->cap * sizeof *occ);
        memcpy(occ, s->occ, s->n * sizeof *occ);
        free(s->occ);
        free(s->tmp);
        s->occ = occ;
        s->tmp = cs_xhuge(s->cap * sizeof *s->tmp);
        if (s->n < s->cap)
            return;
    }
    push_buffer(s);
}

const cs_pair_run *cs_pairs_finish(cs_pairs *s)
{
    push_buffer(s);
    while (s->n_runs >= 2)
        merge_top(s);
    if (!s->n_runs) {
        if (!s->cap_runs) {
            s->cap_runs = 1;
            s->runs = cs_xmalloc(sizeof *s->runs);
        }
        s->runs[s->n_runs++] = (cs_pair_run){cs_xmalloc(sizeof(cs_pair)), 0};
    }
    /* The buffers are not needed again before more is added. */
    free(s->occ);
    free(s->tmp);
    s->occ = s->tmp = NULL;
    s->cap = 0;
    return &s->runs[0];
}

void cs_pairs_split(cs_pairs *s, const uint32_t *remap, cs_pair_run *out)
{
    cs_pair_run *r = (cs_pair_run *)cs_pairs_finish(s);
    size_t n_in[CS_N_PARTS] = {0};
    for (size_t i = 0; i < r->n; i++)
        n_in[remap[r->v[i].key >> 32] >> CS_ID_BITS]++;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        out[p].v = cs_xhuge((n_in[p] ? n_in[p] : 1) * sizeof *out[p].v);
        out[p].n = 0;
    }
    const uint32_t index_mask = (1u << CS_ID_BITS) - 1;
    for (size_t i = 0; i < r->n; i++) {
        const cs_pair *e = &r->v[i];
        const uint32_t a = remap[e->key >> 32], b = remap[(uint32_t)e->key];
        assert(a != UINT32_MAX && b != UINT32_MAX); /* doc scope: a vocabulary term never counted */
        cs_pair *d = &out[a >> CS_ID_BITS].v[out[a >> CS_ID_BITS].n++];
        d->key = (uint64_t)(a & index_mask) << 32 | b;
        d->lo = e->lo;
        d->hi = e->hi;
    }
    free(r->v);
    s->n_runs = 0;
}
