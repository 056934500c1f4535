/*
 * pairs.c - pair occurrences -> sorted, summed, packed runs (see pairs.h).
 *
 * DESIGN
 * The sort is an LSD radix sort on the 64-bit key in digits of at most 12
 * bits laid out so that no digit straddles the two ids (a's digits start at
 * bit 32), as few as the largest id needs: with ids under 2^24 (millions of
 * terms a thread) a sort makes four passes. All digits' histograms come
 * from one read of the input. 8-bit digits (six passes, 256 write streams)
 * were 5-10% slower in the count phase.
 *
 * A buffer becomes a run in four sequential passes: sort, sum equal keys
 * (in place), group by partition (a stable counting sort into the other
 * half of the buffer), pack. Packing: within a partition, pairs are in key
 * order, so a pair with the previous pair's a stores only the growth of b
 * (a varint, the low bit 0); one with a new a stores the growth of a (low
 * bit 1) and b itself; then the units, zigzag-coded. Frequent terms have
 * many partners with close ids, and most units are 1: about 3 bytes a pair.
 *
 * Memory is the point of packing: pages touched for the first time cost
 * more than the sorting on this machine's VM (bench/NOTES.md, 21-22).
 */
#include "pairs.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Occurrences buffered before a sort: 4 Mi, 64 MiB and as much again to
 * sort into, a thread. The buffer starts at PAIRS_MIN and doubles, so a
 * small corpus pays nothing. */
#ifndef PAIRS_MAX /* -DPAIRS_MAX=.. to experiment */
#define PAIRS_MAX ((size_t)1 << 22)
#endif
#define PAIRS_MIN ((size_t)1 << 12)

/* Runs merge FAN_IN at a time: a new run has level 0, and whenever the
 * newest FAN_IN runs share a level they merge into one run of the next
 * level, so a pair is merged again only every FAN_IN-fold growth (work
 * O(n log n), at most FAN_IN - 1 runs a level). Under a budget, once such
 * a merge would pass it (merge_fits), no run is merged again: the runs
 * stay as they are for the reducer. Merging is a loss where it
 * was measured: the reducer sorts a partition of all runs of all threads
 * at once anyway, and different buffers share few pairs, so a merge writes
 * nearly everything again (1 GiB, 70 runs a thread: 37.5 s merging 32 at a
 * time, 34.9 s never; bench/NOTES.md, 23). It only bounds the number of
 * runs of very large inputs: 256 runs are 2^30 occurrences a thread. */
#ifndef FAN_IN /* -DFAN_IN=.. to experiment */
#define FAN_IN 256
#endif

#define PACKED_MAX CS_PAIR_PACKED_MAX

/* Digits of at most 12 bits (4,096 buckets), laid out per id (radix_sort). */
#define DIGIT_MAX 12
#define N_DIGITS 6 /* 3 an id: 32 bits */
#define BUCKETS (1u << DIGIT_MAX)

void cs_pairs_init(cs_pairs *s, const cs_partmap *parts)
{
    memset(s, 0, sizeof *s);
    s->max = PAIRS_MAX;
    s->parts = parts;
}

void cs_pair_run_free(cs_pair_run *r)
{
    free(r->v);
    free(r->big);
    memset(r, 0, sizeof *r);
}

void cs_pairs_free(cs_pairs *s)
{
    if (!s)
        return;
    free(s->occ);
    free(s->tmp);
    for (size_t i = 0; i < s->n_runs; i++)
        cs_pack_free(&s->runs[i]);
    free(s->runs);
    cs_pair_run_free(&s->summed);
    memset(s, 0, sizeof *s);
}

/* Sorts a[0..n) by key, through b; returns which of the two holds them.
 * Both ids of a key are under 2^id_bits: each is cut into as few digits
 * of at most DIGIT_MAX bits as it needs, of even widths, and no digit
 * straddles the two ids. A digit in which every key agrees (one bucket
 * holds all) costs no pass. */
static cs_pair *radix_sort(cs_pair *a, cs_pair *b, size_t n, unsigned id_bits)
{
    assert(n < UINT32_MAX && id_bits <= 32);
    if (n <= 32) { /* a few pairs (most partitions of a small run): no histograms */
        for (size_t i = 1; i < n; i++) {
            const cs_pair x = a[i];
            size_t j = i;
            for (; j > 0 && a[j - 1].key > x.key; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
        return a;
    }
    unsigned shift[N_DIGITS], width[N_DIGITS], nd = 0;
    const unsigned per_id = id_bits ? (id_bits + DIGIT_MAX - 1) / DIGIT_MAX : 1;
    const unsigned w = id_bits ? (id_bits + per_id - 1) / per_id : 1;
    for (unsigned half = 0; half < 2; half++)
        for (unsigned k = 0; k < per_id; k++) {
            shift[nd] = half * 32 + k * w;
            width[nd++] = k * w + w <= id_bits ? w : id_bits - k * w;
        }
    static __thread uint32_t count[N_DIGITS][BUCKETS];
    for (unsigned d = 0; d < nd; d++)
        memset(count[d], 0, ((size_t)1 << width[d]) * sizeof **count);
    for (size_t i = 0; i < n; i++)
        for (unsigned d = 0; d < nd; d++)
            count[d][(a[i].key >> shift[d]) & ((1u << width[d]) - 1)]++;
    for (unsigned d = 0; d < nd && n; d++) {
        const uint64_t mask = (1u << width[d]) - 1;
        uint32_t *pos = count[d];
        uint32_t sum = 0, most = 0;
        for (unsigned k = 0; k <= mask; k++) {
            const uint32_t c = pos[k];
            most = c > most ? c : most;
            pos[k] = sum;
            sum += c;
        }
        if (most == n)
            continue; /* one bucket holds every pair: the pass would move nothing */
        for (size_t i = 0; i < n; i++)
            b[pos[(a[i].key >> shift[d]) & mask]++] = a[i];
        cs_pair *x = a;
        a = b;
        b = x;
    }
    return a;
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

/* Sums the pairs of v[0..n), sorted, in place: equal keys add up, cut
 * where a sum would leave int64; sums of 0 are dropped. Returns the pairs
 * left. */
static size_t sum_cut(cs_pair *v, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        cs_pair acc = v[i++];
        for (; i < n && v[i].key == acc.key; i++)
            if (!add_fits(&acc.units, v[i].units)) {
                v[m++] = acc; /* nonzero: it was about to overflow */
                acc.units = v[i].units;
            }
        if (acc.units)
            v[m++] = acc; /* m < i: never over a pair still to read */
    }
    return m;
}

uint8_t *cs_pairs_pack_one(uint8_t *d, uint64_t *prev, uint64_t key, int64_t units)
{
    const uint32_t a = (uint32_t)(key >> 32), b = (uint32_t)key;
    const uint32_t pa = (uint32_t)(*prev >> 32), pb = (uint32_t)*prev;
    assert(key >= *prev);
    if (a == pa) {
        d = cs_put_varint(d, (uint64_t)(b - pb) << 1);
    } else {
        d = cs_put_varint(d, (uint64_t)(a - pa) << 1 | 1);
        d = cs_put_varint(d, b);
    }
    *prev = key;
    return cs_put_varint(d, cs_zigzag(units));
}

/* Packs v[0..n) (sorted by key) at d; returns the end. */
static uint8_t *pack(uint8_t *d, const cs_pair *v, size_t n)
{
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++)
        d = cs_pairs_pack_one(d, &prev, v[i].key, v[i].units);
    return d;
}

/* Decodes the pair at q, after the pair (*a, *b) (local ids; updated),
 * into *out, translated through remap (NULL: local ids kept, key
 * a << 32 | b; else index of a in partition p << 32 | global b); returns
 * where the next pair starts. */
static inline const uint8_t *decode(const uint8_t *q, uint32_t *a, uint32_t *b,
                                    const uint32_t *remap, unsigned p, cs_pair *out)
{
    uint64_t x, z;
    q = cs_get_varint(q, &x);
    if (x & 1) {
        *a += (uint32_t)(x >> 1);
        q = cs_get_varint(q, &z);
        *b = (uint32_t)z;
    } else {
        *b += (uint32_t)(x >> 1);
    }
    q = cs_get_varint(q, &z);
    out->units = cs_unzigzag(z);
    if (remap) {
        const uint32_t ga = remap[*a], gb = remap[*b];
        /* doc scope: a vocabulary term never counted would be UINT32_MAX */
        assert(ga != UINT32_MAX && gb != UINT32_MAX && ga >> CS_ID_BITS == p);
        (void)p;
        out->key = (uint64_t)(ga & ((1u << CS_ID_BITS) - 1)) << 32 | gb;
    } else {
        out->key = (uint64_t)*a << 32 | *b;
    }
    return q;
}

/* Unpacks partition p of run r (read back into disk if spilled) into out,
 * translated through remap (decode); returns how many. */
static size_t unpack(const cs_pack *r, unsigned p, const uint32_t *remap, cs_pair *out,
                     cs_buf *disk)
{
    if (!r->n[p])
        return 0;
    const uint8_t *q = cs_pack_part(r, p, disk), *start = q;
    if (!q)
        return 0; /* cs_spill keeps the error; no table is written */
    uint32_t a = 0, b = 0;
    for (uint32_t i = 0; i < r->n[p]; i++)
        q = decode(q, &a, &b, remap, p, &out[i]);
    assert(q == start + (r->off[p + 1] - r->off[p]));
    (void)start;
    return r->n[p];
}

/* Packs the n pairs of v (sorted) as partition p of run r, after those of
 * the partitions before it; *cap is the room r's bytes have. Room is made
 * for this partition's worst case only: a run is a few bytes a pair, and
 * the worst case of all of it could be more address space than the kernel
 * grants. */
static void pack_part(cs_pack *r, size_t *cap, unsigned p, const cs_pair *v, size_t n)
{
    assert(n < UINT32_MAX);
    const size_t used = r->off[p]; /* off[0] is 0 */
    if (used + n * PACKED_MAX + 1 > *cap) {
        *cap = (used + n * PACKED_MAX + 1) * 2;
        r->bytes = cs_xrealloc(r->bytes, *cap);
    }
    r->n[p] = (uint32_t)n;
    r->off[p + 1] = (size_t)(pack(r->bytes + used, v, n) - r->bytes);
}

/* A run whose CS_N_PARTS partitions pack_part has packed: its bytes cut to
 * their size (the shrinking realloc of a mapping moves no byte). */
static cs_pack end_pack(cs_pack r)
{
    r.bytes = cs_xrealloc(r.bytes, r.off[CS_N_PARTS] + 1);
    return r;
}

/* The run of v[0..n) (sorted and summed), grouped by partition through
 * tmp (room for n). */
static cs_pack make_pack(const cs_pairs *s, const cs_pair *v, size_t n, cs_pair *tmp)
{
    size_t count[CS_N_PARTS] = {0}, at[CS_N_PARTS], sum = 0;
    const uint8_t *part_of = s->parts->part;
    for (size_t i = 0; i < n; i++) {
        assert((v[i].key >> 32) < s->parts->n_ids);
        count[part_of[v[i].key >> 32]]++;
    }
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        at[p] = sum;
        sum += count[p];
    }
    for (size_t i = 0; i < n; i++)
        tmp[at[part_of[v[i].key >> 32]]++] = v[i];
    cs_pack r;
    memset(&r, 0, sizeof r);
    size_t cap = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        pack_part(&r, &cap, p, tmp, count[p]);
        tmp += count[p];
    }
    return end_pack(r);
}

static void push_run(cs_pairs *s, cs_pack r);

/* s's runs from `from` on, merged into one of level `level`, a partition
 * at a time. */
/* The most pairs one partition holds over s's runs from `from` on. */
static size_t largest_part(const cs_pairs *s, size_t from)
{
    size_t most = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        size_t n = 0;
        for (size_t i = from; i < s->n_runs; i++)
            n += s->runs[i].n[p];
        most = n > most ? n : most;
    }
    return most;
}

static void merge_runs(cs_pairs *s, size_t from, unsigned level)
{
    assert(s->n_runs - from >= 2);
    const size_t most = largest_part(s, from);
    cs_pair *a = cs_xhuge((2 * most + 2) * sizeof *a), *b = a + most + 1;
    const unsigned bits = cs_partmap_bits(s->parts);
    cs_pack r;
    memset(&r, 0, sizeof r);
    r.level = level;
    size_t cap = 0;
    cs_buf disk = {0};
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        size_t n = 0;
        for (size_t i = from; i < s->n_runs; i++)
            n += unpack(&s->runs[i], p, NULL, a + n, &disk);
        cs_pair *v = radix_sort(a, b, n, bits);
        pack_part(&r, &cap, p, v, sum_cut(v, n));
    }
    free(a);
    cs_buf_free(&disk);
    for (size_t i = from; i < s->n_runs; i++)
        cs_pack_free(&s->runs[i]);
    s->n_runs = from;
    push_run(s, end_pack(r));
}

int cs_pairs_part_valid(const uint8_t *q, size_t len, uint32_t n, unsigned p,
                        const cs_partmap *parts)
{
    const uint8_t *end = q + len;
    uint64_t a = 0, b = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x, z;
        if (!(q = cs_get_varint_checked(q, end, &x)))
            return 0;
        if (x & 1) {
            a += x >> 1; /* keys in order: a new a grows */
            if (!(x >> 1) || !(q = cs_get_varint_checked(q, end, &b)))
                return 0;
        } else {
            b += x >> 1;
        }
        if (!(q = cs_get_varint_checked(q, end, &z)))
            return 0;
        const int64_t u = cs_unzigzag(z);
        if (a >= parts->n_ids || b >= parts->n_ids || parts->part[a] != p || !u || u == INT64_MIN)
            return 0;
    }
    return q == end;
}

void cs_pairs_add_run(cs_pairs *s, cs_pack r)
{
    push_run(s, r);
}

/* Whether merging s's runs from `from` on (merge_runs) stays within the
 * runs' share of a budget: it holds the largest partition of all of them
 * twice, unpacked, and the merged run, about as large as they are packed.
 * A spilled run is merged with the others by the reducer, which reads
 * every run a partition at a time: under a budget, the merge is left to
 * it when it would pass the share (at 1 GiB and --memory 256M, 256 runs'
 * merge took 1.3 GB). */
static int merge_fits(const cs_pairs *s, size_t from)
{
    if (!s->spill)
        return 1;
    size_t packed = 0;
    for (size_t i = from; i < s->n_runs; i++)
        packed += s->runs[i].off[CS_N_PARTS];
    return 2 * largest_part(s, from) * sizeof(cs_pair) + packed <= s->spill_over;
}

static void push_run(cs_pairs *s, cs_pack r)
{
    if (s->n_runs == s->cap_runs) {
        s->cap_runs = s->cap_runs ? 2 * s->cap_runs : FAN_IN;
        s->runs = cs_xrealloc(s->runs, s->cap_runs * sizeof *s->runs);
    }
    s->runs[s->n_runs++] = r;
    /* Levels fall from the oldest run to the newest: the newest FAN_IN
     * share one when the first of them has the newest's. */
    if (s->n_runs >= FAN_IN && !s->unmerged && s->runs[s->n_runs - FAN_IN].level == r.level) {
        s->unmerged = !merge_fits(s, s->n_runs - FAN_IN);
        if (!s->unmerged) {
            merge_runs(s, s->n_runs - FAN_IN, r.level + 1);
            return; /* which pushed the merged run, and spilled what it had to */
        }
    }
    cs_spill_when_over(s->spill, s->runs, s->n_runs, sizeof *s->runs, s->spill_over);
}

void cs_pairs_set_buffer(cs_pairs *s, size_t max_bytes)
{
    assert(!s->cap); /* before the first occurrence */
    const size_t fit = max_bytes / (2 * sizeof(cs_pair));
    s->max = fit < PAIRS_MIN ? PAIRS_MIN : fit > PAIRS_MAX ? PAIRS_MAX : fit;
}

void cs_pairs_set_spill(cs_pairs *s, cs_spill_file *f, size_t over)
{
    s->spill = f;
    s->spill_over = over;
}

/* The buffer, sorted, summed and packed, becomes the newest run. */
static void push_buffer(cs_pairs *s)
{
    if (!s->n)
        return;
    cs_pair *v = radix_sort(s->occ, s->tmp, s->n, cs_partmap_bits(s->parts));
    const size_t n = sum_cut(v, s->n);
    s->n = 0;
    push_run(s, make_pack(s, v, n, v == s->occ ? s->tmp : s->occ));
}

void cs_pairs_sort_buffer(cs_pairs *s)
{
    assert(s->max >= 1);
    if (s->cap < s->max) {
        s->cap = s->cap ? s->cap * 2 : PAIRS_MIN;
        if (s->cap > s->max)
            s->cap = s->max;
        cs_pair *occ = cs_xhuge(s->cap * sizeof *occ);
        if (s->n)
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

unsigned cs_pairs_levels(const cs_pairs *s)
{
    unsigned most = 0;
    for (size_t i = 0; s && i < s->n_runs; i++)
        most = s->runs[i].level > most ? s->runs[i].level : most;
    return most;
}

size_t cs_pairs_part_n(const cs_pairs *s, unsigned p)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_runs; i++)
        n += s->runs[i].n[p];
    return n;
}

size_t cs_pairs_part_get(const cs_pairs *s, unsigned p, const uint32_t *remap, cs_pair *out,
                         cs_buf *disk)
{
    assert(!s->n); /* flushed */
    size_t n = 0;
    for (size_t i = 0; i < s->n_runs; i++)
        n += unpack(&s->runs[i], p, remap, out + n, disk);
    return n;
}

/* The n pairs of one run's partition p at q (as cs_pack_part gives it),
 * as cs_pairs_part_each gives them. */
static void decode_part(const uint8_t *q, uint32_t n, unsigned p, const uint32_t *remap,
                        cs_pair_each each, void *ctx)
{
    enum { CHUNK = 256 };
    cs_pair v[CHUNK];
    uint32_t a = 0, b = 0;
    for (uint32_t done = 0; done < n;) {
        const uint32_t k = n - done < CHUNK ? n - done : CHUNK;
        for (uint32_t i = 0; i < k; i++)
            q = decode(q, &a, &b, remap, p, &v[i]);
        each(ctx, v, k);
        done += k;
    }
}

void cs_pairs_part_each(const cs_pairs *s, unsigned p, const uint32_t *remap, cs_buf *disk,
                        cs_pair_each each, void *ctx)
{
    assert(!s->n); /* flushed */
    for (size_t i = 0; i < s->n_runs; i++) {
        const cs_pack *r = &s->runs[i];
        if (!r->n[p])
            continue;
        const uint8_t *q = cs_pack_part(r, p, disk);
        if (q) /* (NULL: cs_spill keeps the error; no table is written) */
            decode_part(q, r->n[p], p, remap, each, ctx);
    }
}

void cs_pairs_put_each(const uint8_t *q, size_t n, cs_pair_each each, void *ctx)
{
    enum { CHUNK = 256 };
    cs_pair v[CHUNK];
    uint32_t a = CS_PAIR_NO_A;
    for (size_t done = 0; done < n;) {
        const size_t k = n - done < CHUNK ? n - done : CHUNK;
        for (size_t i = 0; i < k; i++) {
            uint64_t x, z;
            q = cs_get_varint(q, &x);
            if (x & 1) {
                a = (uint32_t)(x >> 1);
                q = cs_get_varint(q, &x);
                x <<= 1;
            }
            q = cs_get_varint(q, &z);
            v[i].key = (uint64_t)a << 32 | (uint32_t)(x >> 1);
            v[i].units = cs_unzigzag(z);
        }
        each(ctx, v, k);
        done += k;
    }
}

void cs_pair_run_append(cs_pair_run *dst, cs_pair_run *src)
{
    assert(!dst->n || !src->n || dst->v[dst->n - 1].key < src->v[0].key);
    if (!dst->v) {
        *dst = *src;
        memset(src, 0, sizeof *src);
        return;
    }
    dst->v = cs_xrealloc(dst->v, (dst->n + src->n + 1) * sizeof *dst->v);
    memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
    dst->n += src->n;
    if (src->n_big) {
        dst->big = cs_xrealloc(dst->big, (dst->n_big + src->n_big) * sizeof *dst->big);
        memcpy(dst->big + dst->n_big, src->big, src->n_big * sizeof *src->big);
        dst->n_big += src->n_big;
    }
    cs_pair_run_free(src);
}

/* The pairs of two sequences sorted by key, a[0..na) and b[0..nb), summed
 * into a summed run (read by merging them). */
static cs_pair_run sum_sorted(const cs_pair *a, size_t na, const cs_pair *b, size_t nb)
{
    /* Room for every pair; only those left after summing are touched. */
    cs_pair_run r = {cs_xhuge((na + nb + 1) * sizeof *r.v), 0, NULL, 0};
    size_t cap_big = 0, i = 0, j = 0;
    while (i < na || j < nb) {
        const uint64_t key = j == nb || (i < na && a[i].key <= b[j].key) ? a[i].key : b[j].key;
        __int128 sum = 0;
        for (; i < na && a[i].key == key; i++)
            sum += a[i].units;
        for (; j < nb && b[j].key == key; j++)
            sum += b[j].units;
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

cs_pair_run cs_pairs_sum(cs_pair *v, cs_pair *tmp, size_t n)
{
    return cs_pairs_sum_from(v, 0, tmp, n);
}

cs_pair_run cs_pairs_sum_from(cs_pair *v, size_t n_sorted, cs_pair *tmp, size_t n)
{
    for (size_t i = 1; i < n_sorted; i++) /* the caller's promise (an assert: one compare) */
        assert(v[i - 1].key <= v[i].key);
    /* global ids: the partition in the top bits */
    const cs_pair *b = radix_sort(v + n_sorted, tmp, n - n_sorted, 32);
    return sum_sorted(v, n_sorted, b, n - n_sorted);
}

const cs_pair_run *cs_pairs_finish(cs_pairs *s)
{
    cs_pairs_flush(s);
    size_t n = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        n += cs_pairs_part_n(s, p);
    cs_pair *a = cs_xmalloc((2 * n + 2) * sizeof *a), *b = a + n + 1;
    size_t at = 0;
    cs_buf disk = {0};
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        at += cs_pairs_part_get(s, p, NULL, a + at, &disk);
    cs_buf_free(&disk);
    cs_pair_run_free(&s->summed);
    s->summed = cs_pairs_sum(a, b, at);
    free(a);
    return &s->summed;
}
