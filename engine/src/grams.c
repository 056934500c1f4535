/*
 * grams.c - gram occurrences -> sorted, summed, packed runs -> merged
 * partitions (see grams.h).
 *
 * DESIGN
 * A buffer becomes a run in three passes: a stable counting sort of the
 * occurrences by the partition of their first id (into the other half of
 * the buffer), then, partition by partition, an LSD radix sort by ids and
 * one pass that sums and packs. Sorting a partition at a time keeps each
 * sort within a slice of 1/64 of the buffer, which the caches hold.
 *
 * Radix digits are at most 12 bits, as few as the largest id needs (ids
 * under 2^24: two a term, four passes for bigrams); all histograms come
 * from one read, and a digit on which every key agrees costs no pass. The
 * merge sorts global ids, partition << CS_ID_BITS | index: the index bits
 * that occur and the partition bits, which are constant in the first id.
 *
 * Packing: within a partition grams are in id order, so an entry stores
 * the position k of its first id that differs from the previous entry's,
 * with its F and L flags, in one byte; then the growth of that id and the
 * ids after it as varints; then the count and count - doc_count, zigzag
 * coded (mostly 1 and 0). A bigram takes about 5 bytes, against 40 for the
 * hash table entry it replaces.
 *
 * Counts in a run are sums of at most `max` occurrences, so the merge
 * holds them in 32 bits; its sums are 64-bit.
 */
#include "grams.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Occurrences buffered before a sort: at most GRAMS_MAX (4 Mi, 48 MiB of
 * bigrams and as much again to sort into), fewer when the budget that
 * init is given says so. The buffer starts at GRAMS_MIN and doubles, so a
 * small corpus pays nothing. */
#ifndef GRAMS_MAX /* -DGRAMS_MAX=.. to experiment */
#define GRAMS_MAX ((size_t)1 << 22)
#endif
#define GRAMS_MIN ((size_t)1 << 12)

/* The document word of an occurrence: bit 31 the sign, the rest the
 * document's rank in its buffer. */
#define DOC_NEG 0x80000000u
#define DOC_ORD 0x7FFFFFFFu

/* A merge item: the ids, then run << 2 | F << 1 | L, count, doc_count. */
#define TAG_F 2u
#define TAG_L 1u

#define DIGIT_MAX 12
#define BUCKETS (1u << DIGIT_MAX)
#define MAX_DIGITS (4 * CS_NGRAM_MAX) /* 3 for an id's index bits, 1 for its partition */
#define HIST_DIGITS 8                 /* histograms taken in one read */

#define PACKED_MAX(order) CS_GRAM_PACKED_MAX(order)

void cs_grams_init(cs_grams *g, unsigned order, const cs_partmap *parts, size_t max_bytes)
{
    assert(order >= 2 && order <= CS_NGRAM_MAX);
    memset(g, 0, sizeof *g);
    g->order = order;
    g->stride = 4 * (order + 1);
    g->parts = parts;
    cs_grams_set_buffer(g, max_bytes);
}

void cs_grams_set_buffer(cs_grams *g, size_t max_bytes)
{
    assert(!g->cap); /* before the first occurrence */
    const size_t fit = max_bytes / (2 * g->stride);
    g->max = fit < GRAMS_MIN ? GRAMS_MIN : fit > GRAMS_MAX ? GRAMS_MAX : fit;
}

void cs_grams_free(cs_grams *g)
{
    if (!g)
        return;
    free(g->occ);
    free(g->tmp);
    for (size_t i = 0; i < g->n_runs; i++)
        cs_pack_free(&g->runs[i].pk);
    free(g->runs);
    memset(g, 0, sizeof *g);
}

void cs_grams_scratch_free(cs_grams_scratch *s)
{
    free(s->buf);
    free(s->first);
    cs_buf_free(&s->disk);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ */
/* sorting                                                              */

typedef struct digit {
    unsigned word, shift, width;
} digit;

/* Appends the digits of bits [from, from + bits) of id word `word`: as few
 * of at most DIGIT_MAX bits as they need, of near-equal widths. */
static void add_digits(digit *d, unsigned *nd, unsigned word, unsigned from, unsigned bits)
{
    if (!bits)
        return;
    const unsigned per = (bits + DIGIT_MAX - 1) / DIGIT_MAX, w = (bits + per - 1) / per;
    for (unsigned k = 0; k < per; k++) {
        assert(*nd < MAX_DIGITS);
        d[*nd].word = word;
        d[*nd].shift = from + k * w;
        d[(*nd)++].width = k * w + w <= bits ? w : bits - k * w;
    }
}

static unsigned bit_length(uint32_t x)
{
    return x ? 32u - (unsigned)__builtin_clz(x) : 0;
}

/* Digits, least significant first, for ids whose index bits (under
 * CS_ID_BITS) OR to lo and whose bits above OR to hi: lexicographic order
 * of the ids. */
static unsigned layout(digit *d, unsigned order, uint32_t lo, uint32_t hi)
{
    unsigned nd = 0;
    for (unsigned k = order; k-- > 0;) {
        add_digits(d, &nd, k, 0, bit_length(lo));
        add_digits(d, &nd, k, CS_ID_BITS, bit_length(hi));
    }
    return nd;
}

static inline const uint32_t *item(const uint8_t *v, size_t i, unsigned stride)
{
    return (const uint32_t *)(v + i * stride);
}

static inline int ids_cmp(const uint32_t *a, const uint32_t *b, unsigned order)
{
    for (unsigned k = 0; k < order; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* One pass of the sort: a[i] to b[pos[digit]++]. always_inline, and
 * called with constant strides: a memcpy of unknown size is a call per
 * item. */
__attribute__((always_inline)) static inline void scatter(const uint8_t *a, uint8_t *b, size_t n,
                                                          unsigned stride, digit d, uint32_t *pos)
{
    const uint32_t mask = (1u << d.width) - 1;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *x = a + i * stride;
        const uint32_t id = ((const uint32_t *)x)[d.word];
        memcpy(b + (size_t)pos[(id >> d.shift) & mask]++ * stride, x, stride);
    }
}

/* Sorts the n items of a (stride bytes, ids first) by their `order` ids,
 * through b; returns which of the two holds them. */
static uint8_t *radix_sort(uint8_t *a, uint8_t *b, size_t n, unsigned stride, unsigned order,
                           const digit *d, unsigned nd)
{
    if (n <= 32) { /* most partitions of a small buffer: no histograms */
        uint32_t x[CS_NGRAM_MAX + 3];
        for (size_t i = 1; i < n; i++) {
            memcpy(x, a + i * stride, stride);
            size_t j = i;
            for (; j > 0 && ids_cmp(item(a, j - 1, stride), x, order) > 0; j--)
                memcpy(a + j * stride, a + (j - 1) * stride, stride);
            memcpy(a + j * stride, x, stride);
        }
        return a;
    }
    static __thread uint32_t count[HIST_DIGITS][BUCKETS];
    for (unsigned d0 = 0; d0 < nd; d0 += HIST_DIGITS) {
        /* A digit's histogram does not depend on the items' order: those
         * of HIST_DIGITS digits come from one read. */
        const unsigned g = nd - d0 < HIST_DIGITS ? nd - d0 : HIST_DIGITS;
        for (unsigned k = 0; k < g; k++)
            memset(count[k], 0, ((size_t)1 << d[d0 + k].width) * sizeof **count);
        for (size_t i = 0; i < n; i++) {
            const uint32_t *x = item(a, i, stride);
            for (unsigned k = 0; k < g; k++) {
                const digit dk = d[d0 + k];
                count[k][(x[dk.word] >> dk.shift) & ((1u << dk.width) - 1)]++;
            }
        }
        for (unsigned k = 0; k < g; k++) {
            uint32_t *pos = count[k], sum = 0, most = 0;
            for (uint32_t v = 0; v < (1u << d[d0 + k].width); v++) {
                const uint32_t c = pos[v];
                most = c > most ? c : most;
                pos[v] = sum;
                sum += c;
            }
            if (most == n)
                continue; /* one bucket holds every item: the pass would move nothing */
            switch (stride) {
            case 12: scatter(a, b, n, 12, d[d0 + k], pos); break;
            case 16: scatter(a, b, n, 16, d[d0 + k], pos); break;
            case 20: scatter(a, b, n, 20, d[d0 + k], pos); break;
            case 24: scatter(a, b, n, 24, d[d0 + k], pos); break;
            default: scatter(a, b, n, stride, d[d0 + k], pos); break;
            }
            uint8_t *t = a;
            a = b;
            b = t;
        }
    }
    return a;
}

/* ------------------------------------------------------------------ */
/* runs                                                                 */

static void push_run(cs_grams *g, cs_gram_run r);

/* Packs one summed gram at d after the gram prev (updated): the position
 * k of its first id that differs, with its flags; the growth of that id
 * and the ids after it; count and count - docs. */
static uint8_t *pack_one(uint8_t *d, uint32_t *prev, const uint32_t *ids, unsigned order,
                         unsigned flags, int64_t count, int64_t docs)
{
    unsigned k = 0;
    while (k + 1 < order && ids[k] == prev[k])
        k++;
    assert(ids[k] >= prev[k]);
    d = cs_put_varint(d, k << 2 | flags);
    d = cs_put_varint(d, ids[k] - prev[k]);
    for (unsigned j = k + 1; j < order; j++)
        d = cs_put_varint(d, ids[j]);
    d = cs_put_varint(d, cs_zigzag(count));
    d = cs_put_varint(d, cs_zigzag(count - docs));
    memcpy(prev, ids, order * sizeof *ids);
    return d;
}

uint8_t *cs_grams_pack_one(uint8_t *d, uint32_t *prev, const uint32_t *ids, unsigned order,
                           int64_t count, int64_t docs)
{
    assert(count >= INT32_MIN && count <= INT32_MAX && docs >= INT32_MIN && docs <= INT32_MAX);
    return pack_one(d, prev, ids, order, 0, count, docs);
}

int cs_grams_part_valid(const uint8_t *q, size_t len, uint32_t n, unsigned p, unsigned order,
                        const cs_partmap *parts)
{
    const uint8_t *end = q + len;
    uint32_t ids[CS_NGRAM_MAX] = {0};
    if (order < 2 || order > CS_NGRAM_MAX)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x, z, c, d;
        /* No F or L flag; ids in order (the id that differs first grows,
         * unless it is the last: a gram written in pieces repeats). */
        if (!(q = cs_get_varint_checked(q, end, &x)) || (x >> 2) >= order || (x & 3) ||
            !(q = cs_get_varint_checked(q, end, &z)) || z > UINT32_MAX - ids[x >> 2] ||
            (!z && (x >> 2) + 1 < order && i > 0))
            return 0;
        const unsigned k = (unsigned)(x >> 2);
        ids[k] += (uint32_t)z;
        for (unsigned j = k + 1; j < order; j++) {
            if (!(q = cs_get_varint_checked(q, end, &z)) || z > UINT32_MAX)
                return 0;
            ids[j] = (uint32_t)z;
        }
        for (unsigned j = 0; j < order; j++)
            if (ids[j] >= parts->n_ids)
                return 0;
        if (parts->part[ids[0]] != p || !(q = cs_get_varint_checked(q, end, &c)) ||
            !(q = cs_get_varint_checked(q, end, &d)))
            return 0;
        const int64_t count = cs_unzigzag(c), docs = count - cs_unzigzag(d);
        if (count < INT32_MIN || count > INT32_MAX || docs < INT32_MIN || docs > INT32_MAX)
            return 0;
    }
    return q == end;
}

void cs_grams_add_run(cs_grams *g, cs_gram_run r)
{
    push_run(g, r);
}

/* Packs the n occurrences of v (sorted by ids), summed, at d; the buffer's
 * newest document has rank last_ord. Returns the end; *n_out: entries. */
static uint8_t *pack(uint8_t *d, const uint8_t *v, size_t n, unsigned stride, unsigned order,
                     uint32_t last_ord, uint32_t *n_out)
{
    uint32_t prev[CS_NGRAM_MAX] = {0};
    uint32_t m = 0;
    for (size_t i = 0; i < n; m++) {
        const uint32_t *ids = item(v, i, stride);
        int64_t count = 0, docs = 0;
        uint32_t ord = UINT32_MAX;
        for (; i < n && !ids_cmp(item(v, i, stride), ids, order); i++) {
            const uint32_t w = item(v, i, stride)[order];
            const int64_t sign = (w & DOC_NEG) ? -1 : 1;
            count += sign;
            if ((w & DOC_ORD) != ord) { /* occurrences are in document order */
                ord = w & DOC_ORD;
                docs += sign;
            }
        }
        const unsigned f = (ids[order] & DOC_ORD) == 0, l = ord == last_ord;
        d = pack_one(d, prev, ids, order, f << 1 | l, count, docs);
    }
    *n_out = m;
    return d;
}

static void push_run(cs_grams *g, cs_gram_run r)
{
    if (g->n_runs == g->cap_runs) {
        g->cap_runs = g->cap_runs ? 2 * g->cap_runs : 16;
        g->runs = cs_xrealloc(g->runs, g->cap_runs * sizeof *g->runs);
    }
    g->runs[g->n_runs++] = r;
    cs_spill_when_over(g->spill, &g->runs[0].pk, g->n_runs, sizeof *g->runs, g->spill_over);
}

void cs_grams_set_spill(cs_grams *g, cs_spill_file *f, size_t over)
{
    g->spill = f;
    g->spill_over = over;
}

/* a[i] to b[at[partition of its first id]++]; as scatter. */
__attribute__((always_inline)) static inline void part_scatter(const uint8_t *a, uint8_t *b, size_t n,
                                                               unsigned stride,
                                                               const uint8_t *part_of, size_t *at)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *x = a + i * stride;
        memcpy(b + at[part_of[((const uint32_t *)x)[0]]]++ * stride, x, stride);
    }
}

/* The buffer, grouped by partition, sorted, summed and packed, becomes the
 * newest run. */
static void push_buffer(cs_grams *g)
{
    if (!g->n)
        return;
    const unsigned st = g->stride, order = g->order;
    const uint8_t *part_of = g->parts->part;
    size_t count[CS_N_PARTS] = {0}, at[CS_N_PARTS], sum = 0;
    for (size_t i = 0; i < g->n; i++) {
        assert(item(g->occ, i, st)[0] < g->parts->n_ids);
        count[part_of[item(g->occ, i, st)[0]]]++;
    }
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        at[p] = sum;
        sum += count[p];
    }
    switch (st) {
    case 12: part_scatter(g->occ, g->tmp, g->n, 12, part_of, at); break;
    case 16: part_scatter(g->occ, g->tmp, g->n, 16, part_of, at); break;
    default: part_scatter(g->occ, g->tmp, g->n, st, part_of, at); break;
    }
    digit d[MAX_DIGITS];
    const uint32_t id_max = (uint32_t)(g->parts->n_ids - 1), low = (1u << CS_ID_BITS) - 1;
    const unsigned nd = layout(d, order, id_max > low ? low : id_max, id_max >> CS_ID_BITS);
    cs_gram_run r;
    memset(&r, 0, sizeof r);
    r.first_doc = g->first_doc;
    r.last_doc = g->last_doc;
    size_t cap = 0, start = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        const size_t k = count[p];
        /* Room for this partition's worst case only (see pairs.c's pack_part). */
        if (r.pk.off[p] + k * PACKED_MAX(order) + 1 > cap) {
            cap = (r.pk.off[p] + k * PACKED_MAX(order) + 1) * 2;
            r.pk.bytes = cs_xrealloc(r.pk.bytes, cap);
        }
        const uint8_t *v = radix_sort(g->tmp + start * st, g->occ + start * st, k, st, order, d, nd);
        r.pk.off[p + 1] = (size_t)(pack(r.pk.bytes + r.pk.off[p], v, k, st, order, g->doc_ord,
                                        &r.pk.n[p]) -
                                   r.pk.bytes);
        start += k;
    }
    r.pk.bytes = cs_xrealloc(r.pk.bytes, r.pk.off[CS_N_PARTS] + 1);
    g->n = 0;
    push_run(g, r);
}

void cs_grams_sort_buffer(cs_grams *g)
{
    assert(g->max >= 1 && g->max <= DOC_ORD);
    if (g->cap < g->max) {
        g->cap = g->cap ? g->cap * 2 : GRAMS_MIN;
        if (g->cap > g->max)
            g->cap = g->max;
        uint8_t *occ = cs_xhuge(g->cap * g->stride);
        if (g->n)
            memcpy(occ, g->occ, g->n * g->stride);
        free(g->occ);
        free(g->tmp);
        g->occ = occ;
        g->tmp = cs_xhuge(g->cap * g->stride);
        if (g->n < g->cap)
            return;
    }
    push_buffer(g);
}

void cs_grams_flush(cs_grams *g)
{
    push_buffer(g);
    /* The buffers are not needed again before more is added. */
    free(g->occ);
    free(g->tmp);
    g->occ = g->tmp = NULL;
    g->cap = 0;
}

/* ------------------------------------------------------------------ */
/* merging                                                              */

/* A partition too large for the scratch (cs_grams_scratch.max_bytes) is
 * merged in slices: ranges of slice_key, which grows with the ids in
 * their order (the first id, then a bucket of the second), so that the
 * slices, merged one after the other, give the grams in id order as one
 * merge would. Each slice decodes every run of the partition again and
 * keeps its own items. The ranges come from counting the items of each
 * first id, and, for a first id with more items than a slice holds (a
 * frequent first term: "the" heads a tenth of the bigrams of its
 * partition), of each bucket of its second id. */
#define SLICE_MIN 4096 /* items: a heavy first id's buckets take 4 KB, n / SLICE_MIN at most */

static inline uint64_t slice_key(const uint32_t *ids)
{
    return (uint64_t)ids[0] << 32 | cs_id_bucket(ids[1]);
}

enum { SLICE_ALL, SLICE_COUNT, SLICE_COUNT_HEAVY, SLICE_RANGE };

typedef struct slicer {
    int mode;
    uint32_t base;     /* the first ids' smallest possible: counts are at [first - base] */
    uint32_t **first;  /* COUNT: items by first id (grown here); *n_first entries */
    size_t *n_first;
    const uint32_t *heavy; /* COUNT_HEAVY: [first - base]: 1 + its row of `second`, or 0 */
    size_t n_heavy;        /* COUNT_HEAVY: heavy's entries */
    uint32_t *second;  /* COUNT_HEAVY: [row * CS_ID_BUCKETS + cs_id_bucket] items */
    uint64_t from, to; /* RANGE: the slice, [from, to) of slice_key */
    size_t room;       /* ALL, RANGE: the items the buffer holds */
} slicer;

static void count_first(const slicer *sl, uint32_t f)
{
    if (CS_UNLIKELY(f >= *sl->n_first)) {
        const size_t was = *sl->n_first, now = f + 1 > 2 * was ? f + 1 : 2 * was;
        *sl->first = cs_xrealloc(*sl->first, now * sizeof **sl->first);
        memset(*sl->first + was, 0, (now - was) * sizeof **sl->first);
        *sl->n_first = now;
    }
    (*sl->first)[f]++;
}

/* Unpacks partition p of run r (read back into disk if spilled) as merge
 * items (stride ist) at out, ids translated through remap (NULL: kept;
 * parts checks the partition), the run's number `run` in their tags; ORs
 * the ids' low and high bits into *lo and *hi. Only the items of sl's
 * range, or none when sl counts. Returns how many it wrote. */
static size_t unpack(const cs_gram_run *r, unsigned p, unsigned order, const uint32_t *remap,
                     const cs_partmap *parts, uint32_t run, uint8_t *out, size_t room,
                     unsigned ist, uint32_t *lo, uint32_t *hi, cs_buf *disk, const slicer *sl)
{
    if (!r->pk.n[p])
        return 0;
    const uint8_t *q = cs_pack_part(&r->pk, p, disk), *start = q;
    if (!q)
        return 0; /* cs_spill keeps the error; no table is written */
    (void)parts;
    uint32_t ids[CS_NGRAM_MAX] = {0};
    const uint32_t low = (1u << CS_ID_BITS) - 1;
    /* A slice's first ids (the first of its last key may have items past
     * it: they are told by the whole key). */
    const uint32_t f_from = (uint32_t)(sl->from >> 32), f_to = (uint32_t)((sl->to - 1) >> 32);
    /* remap is read at random, far larger than the caches: its reads are
     * what unpacking waits for. Items are decoded BATCH at a time, the
     * reads of their first ids issued ahead (a first id changes only
     * where k = 0), then those of the other ids of the items that stay
     * (a slice's: the rest are never translated further). */
    enum { BATCH = 32 };
    struct {
        uint32_t ids[CS_NGRAM_MAX];
        uint32_t g0, tag;
        int32_t count, docs;
    } b[BATCH];
    uint32_t g0 = 0;
    size_t n = 0;
    for (uint32_t i0 = 0; i0 < r->pk.n[p]; i0 += BATCH) {
        const unsigned nb = r->pk.n[p] - i0 < BATCH ? r->pk.n[p] - i0 : BATCH;
        unsigned new_first = 0; /* bit t: item t has a new first id */
        for (unsigned t = 0; t < nb; t++) {
            uint64_t x, z;
            q = cs_get_varint(q, &x);
            const unsigned k = (unsigned)(x >> 2);
            assert(k < order);
            q = cs_get_varint(q, &z);
            ids[k] += (uint32_t)z;
            for (unsigned j = k + 1; j < order; j++) {
                q = cs_get_varint(q, &z);
                ids[j] = (uint32_t)z;
            }
            memcpy(b[t].ids, ids, sizeof ids); /* all CS_NGRAM_MAX: a copy of `order` is a call */
            b[t].tag = (uint32_t)(x & 3);
            q = cs_get_varint(q, &z);
            const int64_t count = cs_unzigzag(z);
            q = cs_get_varint(q, &z);
            b[t].count = (int32_t)count;
            b[t].docs = (int32_t)(count - cs_unzigzag(z));
            if (k == 0 || i0 + t == 0) {
                new_first |= 1u << t;
                if (remap)
                    __builtin_prefetch(&remap[ids[0]]);
            }
        }
        unsigned stay = 0; /* bit t: item t is unpacked */
        for (unsigned t = 0; t < nb; t++) {
            if (new_first >> t & 1) {
                g0 = remap ? remap[b[t].ids[0]] : b[t].ids[0];
                assert(g0 != UINT32_MAX);
                assert(remap ? g0 >> CS_ID_BITS == p : parts->part[g0] == p);
            }
            b[t].g0 = g0;
            if (sl->mode == SLICE_COUNT) {
                count_first(sl, g0 - sl->base);
                continue;
            }
            if ((sl->mode == SLICE_RANGE && (g0 < f_from || g0 > f_to)) ||
                (sl->mode == SLICE_COUNT_HEAVY &&
                 (g0 - sl->base >= sl->n_heavy || !sl->heavy[g0 - sl->base])))
                continue;
            stay |= 1u << t;
            for (unsigned j = 1; remap && j < order; j++)
                __builtin_prefetch(&remap[b[t].ids[j]]);
        }
        for (; stay; stay &= stay - 1) {
            const unsigned t = (unsigned)__builtin_ctz(stay);
            uint32_t g[CS_NGRAM_MAX];
            g[0] = b[t].g0;
            for (unsigned j = 1; j < order; j++) {
                g[j] = remap ? remap[b[t].ids[j]] : b[t].ids[j];
                assert(g[j] != UINT32_MAX);
            }
            if (sl->mode == SLICE_COUNT_HEAVY) {
                const uint32_t row = sl->heavy[g[0] - sl->base] - 1;
                sl->second[(size_t)row * CS_ID_BUCKETS + cs_id_bucket(g[1])]++;
                continue;
            }
            if (sl->mode == SLICE_RANGE) {
                const uint64_t key = slice_key(g);
                if (key < sl->from || key >= sl->to)
                    continue;
            }
            /* More than planned only if a run read back now that could
             * not be before (or the reverse): the spill keeps the error,
             * and no table is written. */
            if (CS_UNLIKELY(n == room))
                continue;
            uint32_t *w = (uint32_t *)(out + n++ * ist);
            for (unsigned j = 0; j < order; j++) {
                w[j] = g[j];
                *lo |= g[j] & low;
                *hi |= g[j] >> CS_ID_BITS;
            }
            w[order] = run << 2 | b[t].tag;
            w[order + 1] = (uint32_t)b[t].count;
            w[order + 2] = (uint32_t)b[t].docs;
        }
    }
    assert(q == start + (r->pk.off[p + 1] - r->pk.off[p]));
    (void)start;
    return n;
}

/* Unpacks partition p of every run (as unpack, through sl) into a; the
 * items of a sorted src[0] first, *n_sorted of them. Returns how many. */
static size_t unpack_all(cs_grams *const *src, int n_src, const uint32_t *const *remap,
                         unsigned p, unsigned order, unsigned ist, uint8_t *a, uint32_t *lo,
                         uint32_t *hi, size_t *n_sorted, cs_buf *disk, const slicer *sl)
{
    uint32_t run = 0, lo0 = 0, hi0 = 0;
    size_t at = 0;
    *n_sorted = 0;
    for (int s = 0; s < n_src; s++) {
        /* The radix digits are sized to the ids of the items sorted: a
         * sorted src[0]'s are left out (lo0, hi0: not used). */
        const int sorted = s == 0 && src[0]->sorted;
        for (size_t r = 0; r < src[s]->n_runs; r++, run++)
            at += unpack(&src[s]->runs[r], p, order, remap ? remap[s] : NULL, src[s]->parts, run,
                         a ? a + at * ist : NULL, a ? sl->room - at : 0, ist, sorted ? &lo0 : lo,
                         sorted ? &hi0 : hi, disk, sl);
        if (sorted)
            *n_sorted = at; /* in id order already: only the rest is sorted */
    }
    return at;
}

/* Slice bounds as plan_slices makes them: c[0 .. n) so far (room for
 * cap), the items of the slice open, the most of a slice closed. */
typedef struct cutter {
    uint64_t *c;
    size_t n, cap, in, biggest, max;
} cutter;

/* Adds `items` at slice key `key` (keys in order): a cut before it if the
 * slice open holds any and would pass max. */
static void add_to_slice(cutter *t, size_t items, uint64_t key)
{
    if (t->in && items && t->in + items > t->max) { /* (no slice of no item at the end) */
        if (t->n + 1 >= t->cap)
            t->c = cs_xrealloc(t->c, (t->cap *= 2) * sizeof *t->c);
        t->c[t->n++] = key;
        t->biggest = t->in > t->biggest ? t->in : t->biggest;
        t->in = 0;
    }
    t->in += items;
}

/* The slices of partition p when its n items pass max a slice: their
 * bounds in (*cuts)[0 .. n_slices] (owned by the caller), so that each
 * holds at most max items, but for one first id and bucket of its second
 * that has more alone. *biggest: the most items in a slice. */
static size_t plan_slices(cs_grams *const *src, int n_src, const uint32_t *const *remap,
                          unsigned p, unsigned order, unsigned ist, size_t max,
                          cs_grams_scratch *scratch, uint64_t **cuts, size_t *biggest)
{
    const uint32_t base = remap ? p << CS_ID_BITS : 0;
    if (scratch->n_first)
        memset(scratch->first, 0, scratch->n_first * sizeof *scratch->first);
    slicer sl = {.mode = SLICE_COUNT, .base = base, .first = &scratch->first,
                 .n_first = &scratch->n_first};
    uint32_t lo = 0, hi = 0;
    size_t n_sorted;
    unpack_all(src, n_src, remap, p, order, ist, NULL, &lo, &hi, &n_sorted, &scratch->disk, &sl);
    const uint32_t *first = scratch->first;
    const size_t nf = scratch->n_first;
    uint32_t *heavy = cs_xcalloc(nf + 1, sizeof *heavy), n_heavy = 0;
    for (size_t f = 0; f < nf; f++)
        if (first[f] > max)
            heavy[f] = ++n_heavy;
    uint32_t *second = NULL;
    if (n_heavy) {
        second = cs_xcalloc((size_t)n_heavy * CS_ID_BUCKETS, sizeof *second);
        sl = (slicer){.mode = SLICE_COUNT_HEAVY, .base = base, .heavy = heavy, .n_heavy = nf,
                      .second = second};
        unpack_all(src, n_src, remap, p, order, ist, NULL, &lo, &hi, &n_sorted, &scratch->disk,
                   &sl);
    }
    uint64_t *c = cs_xmalloc(16 * sizeof *c);
    c[0] = 0;
    cutter ct = {c, 1, 16, 0, 0, max};
    for (size_t f = 0; f < nf; f++) {
        const uint64_t at = (uint64_t)(base + (uint32_t)f) << 32;
        if (!heavy[f]) {
            add_to_slice(&ct, first[f], at);
            continue;
        }
        const uint32_t *h = second + (size_t)(heavy[f] - 1) * CS_ID_BUCKETS;
        for (uint32_t b = 0; b < CS_ID_BUCKETS; b++)
            add_to_slice(&ct, h[b], at | b);
    }
    *biggest = ct.in > ct.biggest ? ct.in : ct.biggest;
    ct.c[ct.n] = UINT64_MAX;
    free(heavy);
    free(second);
    *cuts = ct.c;
    return ct.n;
}

void cs_grams_merge_part(cs_grams *const *src, int n_src, const uint32_t *const *remap, unsigned p,
                         cs_part *out, size_t out_stride, cs_grams_scratch *scratch,
                         cs_gram_keep keep, void *ctx)
{
    assert(n_src >= 1 && (out->entries || !out->n));
    const unsigned order = src[0]->order, ist = 4 * (order + 3);
    size_t n = 0, n_runs = 0;
    for (int s = 0; s < n_src; s++) {
        assert(src[s]->order == order && !src[s]->n); /* flushed */
        n_runs += src[s]->n_runs;
        for (size_t r = 0; r < src[s]->n_runs; r++)
            n += src[s]->runs[r].pk.n[p];
    }
    if (!n)
        return;
    assert(n_runs < (1u << 30) && n <= UINT32_MAX);
    /* One slice, or as many as the scratch's bound needs. */
    size_t max = scratch->max_bytes ? scratch->max_bytes / (2 * ist) : SIZE_MAX;
    const size_t least = scratch->min_slice ? scratch->min_slice : SLICE_MIN;
    if (max < least)
        max = least;
    uint64_t whole[2] = {0, UINT64_MAX}, *cuts = whole;
    size_t n_slices = 1, biggest = n;
    if (n > max)
        n_slices = plan_slices(src, n_src, remap, p, order, ist, max, scratch, &cuts, &biggest);
    if (n_slices > 1)
        scratch->slices += n_slices;
    const size_t need = (2 * biggest + 1) * ist;
    if (need > scratch->cap) {
        free(scratch->buf);
        scratch->cap = need + need / 4; /* room to grow, within the bound */
        if (scratch->max_bytes && scratch->cap > scratch->max_bytes)
            scratch->cap = need > scratch->max_bytes ? need : scratch->max_bytes;
        scratch->buf = cs_xhuge(scratch->cap);
    }
    uint8_t *a = scratch->buf, *b = a + biggest * ist;
    /* bound[2 * run]: its first document, [2 * run + 1]: its last;
     * src_of[run]: its source. Runs are numbered source by source. */
    uint64_t *bound = cs_xmalloc(2 * n_runs * sizeof *bound);
    int *src_of = cs_xmalloc(n_runs * sizeof *src_of);
    for (int s = 0, run = 0; s < n_src; s++)
        for (size_t r = 0; r < src[s]->n_runs; r++, run++) {
            bound[2 * run] = src[s]->runs[r].first_doc;
            bound[2 * run + 1] = src[s]->runs[r].last_doc;
            src_of[run] = s;
        }
    /* Room for every item (there are fewer grams when runs share some);
     * only the entries written are touched. A second call finds room for
     * what the first left out; a smaller room the caller gave is grown. */
    if (!out->entries) {
        out->entries = cs_xhuge(n * out_stride);
        out->cap = (uint32_t)n;
    }
    uint32_t m = out->n;
    for (size_t sc = 0; sc < n_slices; sc++) {
        const slicer sl = {.mode = n_slices > 1 ? SLICE_RANGE : SLICE_ALL,
                           .from = cuts[sc],
                           .to = cuts[sc + 1],
                           .room = biggest};
        uint32_t lo = 0, hi = 0;
        size_t n_sorted;
        const size_t at = unpack_all(src, n_src, remap, p, order, ist, a, &lo, &hi, &n_sorted,
                                     &scratch->disk, &sl);
        /* Fewer when a spilled run could not be read back: cs_spill keeps
         * the error, and no table is written. */
        assert(at <= biggest && (!n_sorted || src[0]->n_runs == 1));
        for (size_t i = 1; i < n_sorted; i++) /* the caller's promise (an assert: one compare) */
            assert(ids_cmp(item(a, i - 1, ist), item(a, i, ist), order) <= 0);
        digit d[MAX_DIGITS];
        const unsigned nd = layout(d, order, lo, hi);
        /* Two sequences in id order, read by merging them: sa (src[0]'s,
         * when sorted; its items first on equal ids) and sb (the rest,
         * sorted here, stably). */
        const uint8_t *sa = a, *const sa_end = a + n_sorted * ist;
        const uint8_t *sb = radix_sort(a + n_sorted * ist, b, at - n_sorted, ist, order, d, nd);
        const uint8_t *const sb_end = sb + (at - n_sorted) * ist;
#define FROM_A()                                                                                   \
    (sa < sa_end && (sb == sb_end || ids_cmp((const uint32_t *)sa, (const uint32_t *)sb, order) <= 0))
        while (sa < sa_end || sb < sb_end) {
            const uint32_t *first = (const uint32_t *)(FROM_A() ? sa : sb), *prev = NULL;
            int64_t count = 0, docs = 0;
            while (sa < sa_end || sb < sb_end) {
                const int from_a = FROM_A(); /* (sa and sb can be the same address: one empty) */
                const uint32_t *w = (const uint32_t *)(from_a ? sa : sb);
                if (ids_cmp(w, first, order))
                    break;
                if (from_a)
                    sa += ist;
                else
                    sb += ist;
                count += (int32_t)w[order + 1];
                docs += (int32_t)w[order + 2];
                /* The sort is stable: a counter's entries of this gram are
                 * in run order, so a document cut between two of its runs
                 * is in the entry before with L and in the next with F.
                 * (Threads never share document ids; states have none, 0
                 * in every bound, and no F or L: the source test is what
                 * keeps two sources apart.) */
                const uint32_t ra = prev ? prev[order] >> 2 : 0, rb = w[order] >> 2;
                if (prev && (prev[order] & TAG_L) && (w[order] & TAG_F) &&
                    src_of[ra] == src_of[rb]) {
                    const uint64_t doc = bound[2 * ra + 1];
                    if (doc == bound[2 * rb])
                        docs -= (doc & CS_DOC_NEG) ? -1 : 1;
                }
                prev = w;
            }
            if ((!count && !docs) || (keep && !keep(ctx, first, count, docs)))
                continue;
            if (CS_UNLIKELY(m == out->cap)) { /* a room the caller gave (reduce.c: a cut) */
                out->cap = out->cap < n / 2 ? 2 * out->cap : (uint32_t)n;
                out->entries = cs_xrealloc(out->entries, (size_t)out->cap * out_stride);
            }
            cs_gram *e = (cs_gram *)(out->entries + (size_t)m++ * out_stride);
            e->count = count;
            e->docs = docs;
            memcpy(e->ids, first, order * sizeof *first);
        }
#undef FROM_A
    }
    if (cuts != whole)
        free(cuts);
    free(bound);
    free(src_of);
    out->n = m;
}
