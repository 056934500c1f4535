/*
 * pairs.c - pair occurrences -> sorted, summed runs (see pairs.h).
 *
 * DESIGN
 * The sort is an LSD radix sort on the 64-bit key in digits of 10 and 11
 * bits laid out so that no digit straddles the two ids (a's digits start at
 * bit 32): with ids under 2^22 (a few million terms a thread) the top digit
 * of each id is constant and skipped, so a sort makes four passes. All
 * digits' histograms come from one read of the input. 8-bit digits (six
 * passes, 256 write streams) were 5-10% slower in the count phase.
 *
 * A run is summed as it is made (equal keys are adjacent after the sort),
 * and runs merge k at a time, each read once from start to end: every pass
 * over pair data here is sequential, which is the point of the module.
 * Memory is the other point: pages touched for the first time cost more
 * than the sorting on this machine's VM (bench/NOTES.md, 21), so pairs are
 * 16 bytes, runs are never copied to be merged, and sort buffers are kept
 * and used again.
 */
#include "pairs.h"

#include <assert.h>
#include <stddef.h>
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

void cs_pair_run_free(cs_pair_run *r)
{
    free(r->v);
    free(r->big);
    memset(r, 0, sizeof *r);
}

void cs_pairs_free(cs_pairs *s)
{
    free(s->occ);
    free(s->tmp);
    for (size_t i = 0; i < s->n_runs; i++)
        cs_pair_run_free(&s->runs[i]);
    free(s->runs);
    cs_pair_run_free(&s->summed);
    memset(s, 0, sizeof *s);
}

typedef struct seg {
    const cs_pair *v;
    size_t n;
} seg;

/* Sorts the n pairs of the segments in[0..n_in) by key into a or b, and
 * returns which holds them: the first pass reads the segments, later ones
 * go from a to b and back. The inputs are only read. */
static cs_pair *radix_sort(const seg *in, size_t n_in, size_t n, cs_pair *a, cs_pair *b)
{
    assert(n < UINT32_MAX);
    static __thread uint32_t count[N_DIGITS][BUCKETS];
    memset(count, 0, sizeof count);
    for (size_t j = 0; j < n_in; j++)
        for (size_t i = 0; i < in[j].n; i++) {
            const uint64_t k = in[j].v[i].key;
            for (int d = 0; d < N_DIGITS; d++)
                count[d][(k >> digit_shift[d]) & ((1u << digit_bits[d]) - 1)]++;
        }
    cs_pair *dst = a, *other = b;
    int first = 1;
    for (int d = 0; d < N_DIGITS && n; d++) {
        const unsigned shift = digit_shift[d];
        const uint64_t mask = (1u << digit_bits[d]) - 1;
        uint32_t *pos = count[d];
        uint32_t sum = 0, most = 0;
        for (unsigned k = 0; k < BUCKETS; k++) {
            const uint32_t c = pos[k];
            most = c > most ? c : most;
            pos[k] = sum;
            sum += c;
        }
        if (most == n)
            continue; /* one bucket holds every pair: the pass would move nothing */
        /* The source: the segments on the first pass, else the last output. */
        const seg one = {other, n};
        const seg *src = first ? in : &one;
        const size_t n_src = first ? n_in : 1;
        for (size_t j = 0; j < n_src; j++)
            for (size_t i = 0; i < src[j].n; i++) {
                const cs_pair e = src[j].v[i];
                dst[pos[(e.key >> shift) & mask]++] = e;
            }
        first = 0;
        cs_pair *x = dst;
        dst = other;
        other = x;
    }
    if (first) { /* no pass ran: the pairs are in order already */
        cs_pair *t = dst;
        for (size_t j = 0; j < n_in; t += in[j].n, j++)
            memcpy(t, in[j].v, in[j].n * sizeof *t);
        return dst;
    }
    return other;
}

/* Adds x to the sum in *acc; 0 (and *acc unchanged) when the sum would
 * leave int64 or be INT64_MIN, which marks a big sum in summed runs. */
static inline int add_fits(int64_t *acc, int64_t x)
{
    int64_t t;
    if (__builtin_add_overflow(*acc, x, &t) || t == INT64_MIN)
        return 0;
    *acc = t;
    return 1;
}

/* Sums the pairs of v[0..n), sorted, into out (room for n): equal keys add
 * up, cut where a sum would leave int64; sums of 0 are dropped. Returns the
 * pairs written (v and out may be the same array). */
static size_t sum_cut(const cs_pair *v, size_t n, cs_pair *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        cs_pair acc = v[i++];
        for (; i < n && v[i].key == acc.key; i++)
            if (!add_fits(&acc.units, v[i].units)) {
                out[m++] = acc; /* nonzero: it was about to overflow */
                acc.units = v[i].units;
            }
        if (acc.units)
            out[m++] = acc;
    }
    return m;
}

/* Runs kept, at most: past that the newest half merge into one. A merge
 * of k runs reads and writes each pair once (a heap picks the next key:
 * log2 k comparisons). Runs are otherwise left for the reducer, which sorts
 * a partition of all runs of all threads at once: merging a thread's runs
 * first removed only a fifth of the pairs (different buffers share few
 * pairs) at the cost of writing them all again, into fresh pages
 * (bench/NOTES.md, 21). */
#define RUNS_MAX 32

static inline uint64_t head_key(const cs_pair_run *runs, const size_t *pos, uint32_t i)
{
    return runs[i].v[pos[i]].key;
}

/* Restores the heap order below slot at (runs' next keys, smallest first). */
static void sift_down(uint32_t *heap, size_t n, size_t at, const cs_pair_run *runs,
                      const size_t *pos)
{
    const uint32_t x = heap[at];
    const uint64_t kx = head_key(runs, pos, x);
    for (;;) {
        size_t c = 2 * at + 1;
        if (c >= n)
            break;
        if (c + 1 < n && head_key(runs, pos, heap[c + 1]) < head_key(runs, pos, heap[c]))
            c++;
        if (kx <= head_key(runs, pos, heap[c]))
            break;
        heap[at] = heap[c];
        at = c;
    }
    heap[at] = x;
}

/* s's runs from `from` on, merged into one (frees them); sums cut as in
 * sum_cut. */
static void merge_runs(cs_pairs *s, size_t from)
{
    const size_t k = s->n_runs - from;
    assert(k >= 2 && k <= RUNS_MAX);
    cs_pair_run *runs = s->runs + from;
    size_t total = 0, pos[RUNS_MAX] = {0};
    uint32_t heap[RUNS_MAX];
    size_t hn = 0;
    for (size_t i = 0; i < k; i++) {
        total += runs[i].n;
        if (runs[i].n)
            heap[hn++] = (uint32_t)i;
    }
    for (size_t i = hn / 2; i-- > 0;)
        sift_down(heap, hn, i, runs, pos);
    /* Room for all; the pages past what equal keys leave unused are never
     * touched, so they cost address space only (no shrinking copy). */
    cs_pair_run r = {cs_xhuge((total + 1) * sizeof *r.v), 0, NULL, 0};
    while (hn) {
        uint32_t top = heap[0];
        cs_pair acc = runs[top].v[pos[top]];
        for (;;) {
            if (++pos[top] == runs[top].n)
                heap[0] = heap[--hn];
            if (hn)
                sift_down(heap, hn, 0, runs, pos);
            if (!hn || head_key(runs, pos, heap[0]) != acc.key)
                break;
            top = heap[0];
            if (!add_fits(&acc.units, runs[top].v[pos[top]].units)) {
                r.v[r.n++] = acc;
                acc.units = runs[top].v[pos[top]].units;
            }
        }
        if (acc.units)
            r.v[r.n++] = acc;
    }
    for (size_t i = 0; i < k; i++)
        cs_pair_run_free(&runs[i]);
    runs[0] = r;
    s->n_runs = from + 1;
}

/* The buffer, sorted and summed, becomes the newest run. */
static void push_buffer(cs_pairs *s)
{
    if (!s->n)
        return;
    const seg in = {s->occ, s->n};
    const cs_pair *o = radix_sort(&in, 1, s->n, s->tmp, s->occ);
    cs_pair_run r = {cs_xhuge(s->n * sizeof *r.v), 0, NULL, 0}; /* as in merge_runs */
    r.n = sum_cut(o, s->n, r.v);
    s->n = 0;
    if (s->n_runs == RUNS_MAX)
        merge_runs(s, RUNS_MAX / 2);
    if (!s->runs)
        s->runs = cs_xmalloc(RUNS_MAX * sizeof *s->runs);
    s->runs[s->n_runs++] = r;
}

void cs_pairs_sort_buffer(cs_pairs *s)
{
    assert(s->max >= 1);
    if (s->cap < s->max) {
        s->cap = s->cap ? s->cap * 2 : PAIRS_MIN;
        if (s->cap > s->max)
            s->cap = s->max;
        cs_pair *occ = cs_xhuge(s->cap * sizeof *occ);
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

void cs_pairs_flush(cs_pairs *s)
{
    push_buffer(s);
    /* The buffers are not needed again before more is added. */
    free(s->occ);
    free(s->tmp);
    s->occ = s->tmp = NULL;
    s->cap = 0;
}

const cs_pair_run *cs_pairs_finish(cs_pairs *s)
{
    cs_pairs_flush(s);
    cs_pair *scratch = NULL;
    size_t cap = 0;
    cs_pair_run_free(&s->summed);
    s->summed = cs_pairs_sum_runs(s->runs, s->n_runs, &scratch, &cap);
    free(scratch);
    return &s->summed;
}

/* The partition of a translated pair rides in the key's top bits (above
 * index_a, under 2^CS_ID_BITS) while split_run moves it. */
#define PART_SHIFT (64 - CS_PART_BITS)
_Static_assert(32 + CS_ID_BITS <= PART_SHIFT, "index_a and the partition overlap");

/* Run r translated and grouped by partition in place (see cs_pairs_split). */
static void split_run(cs_pair_run *r, const uint32_t *remap, cs_pair_run *out)
{
    cs_pair *v = r->v;
    size_t next[CS_N_PARTS] = {0}, end[CS_N_PARTS];
    const uint32_t index_mask = (1u << CS_ID_BITS) - 1;
    for (size_t i = 0; i < r->n; i++) {
        const uint32_t a = remap[v[i].key >> 32], b = remap[(uint32_t)v[i].key];
        assert(a != UINT32_MAX && b != UINT32_MAX); /* doc scope: a vocabulary term never counted */
        const uint64_t p = a >> CS_ID_BITS;
        v[i].key = p << PART_SHIFT | (uint64_t)(a & index_mask) << 32 | b;
        next[p]++;
    }
    size_t at = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        out[p] = (cs_pair_run){v + at, next[p], NULL, 0};
        next[p] = at;
        at += out[p].n;
        end[p] = at;
    }
    /* In place, a cycle at a time (American flag sort): each pair is moved
     * straight to the next free place of its partition, its tag cleared. */
    const uint64_t untag = ((uint64_t)1 << PART_SHIFT) - 1;
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        while (next[p] < end[p]) {
            cs_pair e = v[next[p]];
            unsigned q = (unsigned)(e.key >> PART_SHIFT);
            while (q != p) {
                const cs_pair t = v[next[q]];
                e.key &= untag;
                v[next[q]++] = e;
                e = t;
                q = (unsigned)(e.key >> PART_SHIFT);
            }
            e.key &= untag;
            v[next[p]++] = e;
        }
}

void cs_pairs_split(cs_pairs *s, const uint32_t *remap, cs_pair_run *out)
{
    assert(!s->n); /* flushed */
    for (size_t r = 0; r < s->n_runs; r++)
        split_run(&s->runs[r], remap, out + r * CS_N_PARTS);
}

cs_pair_run cs_pairs_sum_runs(const cs_pair_run *src, size_t n_src, cs_pair **scratch,
                              size_t *scratch_cap)
{
    size_t n = 0;
    seg *in = cs_xmalloc((n_src + 1) * sizeof *in);
    for (size_t i = 0; i < n_src; i++) {
        assert(!src[i].n_big); /* a counter's runs, not summed ones */
        in[i] = (seg){src[i].v, src[i].n};
        n += src[i].n;
    }
    if (*scratch_cap < n) {
        free(*scratch);
        *scratch_cap = n + n / 4;
        *scratch = cs_xhuge(2 * *scratch_cap * sizeof **scratch);
    }
    const cs_pair *v = radix_sort(in, n_src, n, *scratch, *scratch + *scratch_cap);
    free(in);
    /* Room for every pair; only those left after summing are touched. */
    cs_pair_run r = {cs_xhuge((n + 1) * sizeof *r.v), 0, NULL, 0};
    size_t cap_big = 0;
    for (size_t i = 0; i < n;) {
        const uint64_t key = v[i].key;
        __int128 sum = 0;
        for (; i < n && v[i].key == key; i++)
            sum += v[i].units;
        if (!sum)
            continue;
        if (sum > INT64_MIN && sum <= INT64_MAX) {
            r.v[r.n++] = (cs_pair){key, (int64_t)sum};
            continue;
        }
        if (r.n_big == cap_big) {
            cap_big = cap_big ? 2 * cap_big : 16;
            r.big = cs_xrealloc(r.big, cap_big * sizeof *r.big);
        }
        r.big[r.n_big++] = (cs_pair_big){key, sum};
        r.v[r.n++] = (cs_pair){key, CS_PAIR_BIG};
    }
    return r;
}
