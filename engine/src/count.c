/*
 * count.c - tokenizer events -> exact counts (see count.h).
 *
 * DESIGN
 * A term is hashed once (XXH3, inlined) and looked up once; its local id and
 * hash go into the segment history. An n-gram is keyed by the ids of its n
 * terms and hashed from their term hashes, so the same n-gram has the same
 * hash, hence the same partition, in every thread's table whatever the local
 * ids are; the reducer relies on that. doc_count: an entry remembers the last
 * document that counted it, and a document id is never reused, so a key is
 * counted once per document even when the document is fed in pieces (the
 * pipeline never interleaves two documents on one counter).
 *
 * Gram occurrences are not looked up one by one as they come: each goes to
 * a buffer of its order as (hash, document and sign, ids), and a full
 * buffer is sorted by the hash's top 16 bits (a stable radix sort) and then
 * added in that order. Partition and slot are both taken from the top of
 * the hash (cs_slot_of), so the sorted batch sweeps each partition's slot
 * array from start to end instead of jumping across it, and new keys are
 * appended in that order too. Random lookups into gram tables were the
 * largest cost of counting n-grams; the sweep cut the count phase by a
 * quarter (1-2) to a half (1-3) (bench/NOTES.md, 11). The radix sort is
 * stable: a key's occurrences stay in document order, which the doc_count
 * of cs_cnt_add relies on.
 */
#include "count.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Lookups issued this many tokens ahead: slots first, entries half-way.
 * Far enough to cover a memory miss with the work of the tokens between,
 * near enough that the prefetched lines are still in L1/L2. */
#ifndef PREFETCH_SLOT /* -DPREFETCH_SLOT=.. -DPREFETCH_ENTRY=.. to experiment */
#define PREFETCH_SLOT 16
#endif
#ifndef PREFETCH_ENTRY
#define PREFETCH_ENTRY 8
#endif

/* Gram occurrences per order buffered before a sorted flush. A buffer
 * starts small (a small corpus pays nothing) and doubles up to PEND_MAX
 * items (4096 a partition, enough for a batch to sweep each slot array in
 * steps shorter than a page) or its share of PEND_BYTES for all orders, so
 * that --ngrams 1-16 does not hold 15 times the memory of 1-2. Sorting
 * needs as much again. */
#define PEND_MIN (1u << 12)
#ifndef PEND_MAX /* -DPEND_MAX=.. -DPEND_BYTES=.. to experiment */
#define PEND_MAX (1u << 18)
#endif
#ifndef PEND_BYTES
#define PEND_BYTES ((size_t)16 << 20)
#endif

/* A waiting gram occurrence; items are `stride` bytes apart (8-aligned). */
typedef struct pend_item {
    uint64_t hash;
    uint64_t doc; /* the document, with the sign in bit 63 (set: -1) */
    uint32_t ids[];
} pend_item;
#define PEND_NEG (1ull << 63)

static inline pend_item *item_at(uint8_t *items, size_t stride, uint32_t i)
{
    return (pend_item *)(items + (size_t)i * stride);
}

static int n_orders(const cs_counter *c)
{
    return c->gram_max >= c->gram_min ? c->gram_max - c->gram_min + 1 : 0;
}

void cs_counter_init(cs_counter *c, int ngram_min, int ngram_max, uint64_t first_doc,
                     uint64_t doc_step)
{
    memset(c, 0, sizeof *c);
    c->terms = cs_table_new(1);
    c->gram_min = ngram_min < 2 ? 2 : ngram_min;
    c->gram_max = ngram_max;
    for (int n = c->gram_min; n <= c->gram_max; n++) {
        struct cs_gram_buf *q = &c->pend[n];
        c->grams[n] = cs_table_new((unsigned)n);
        q->stride = (uint32_t)((sizeof(pend_item) + (unsigned)n * sizeof(uint32_t) + 7) & ~7u);
        size_t share = PEND_BYTES / (size_t)n_orders(c) / q->stride;
        q->max = share < PEND_MIN ? PEND_MIN : share > PEND_MAX ? PEND_MAX : (uint32_t)share;
    }
    c->next_doc = first_doc;
    c->doc_step = doc_step;
    c->sign = 1;
    c->pend_max = PEND_MAX;
    c->term_hash = cs_xmalloc(CS_BATCH_EVENTS * sizeof *c->term_hash);
}

void cs_counter_free(cs_counter *c)
{
    cs_table_free(c->terms);
    for (int n = 0; n <= CS_NGRAM_MAX; n++) {
        cs_table_free(c->grams[n]);
        free(c->pend[n].items);
        free(c->pend[n].tmp);
    }
    free(c->term_hash);
    memset(c, 0, sizeof *c);
}

/* Keeps the newest gram_max entries of a history; returns the new length. */
static inline unsigned push(uint32_t *ids, uint64_t *hashes, unsigned len, unsigned max,
                            uint32_t id, uint64_t h)
{
    if (len == max) {
        /* Written out for bigrams and trigrams: GCC turns the loop into
         * two memmove calls, a cost per token. */
        if (len == 2) {
            ids[0] = ids[1];
            hashes[0] = hashes[1];
        } else if (len == 3) {
            ids[0] = ids[1];
            ids[1] = ids[2];
            hashes[0] = hashes[1];
            hashes[1] = hashes[2];
        } else {
            for (unsigned k = 1; k < len; k++) {
                ids[k - 1] = ids[k];
                hashes[k - 1] = hashes[k];
            }
        }
        len--;
    }
    ids[len] = id;
    hashes[len] = h;
    return len + 1;
}

/* Pass 1: the hash of every token, so that its lookup can be prefetched a
 * few tokens ahead of it. */
static uint32_t hash_batch(cs_counter *c, const cs_tok_batch *b)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < b->n_events; i++)
        if (b->kind[i] == CS_EV_TOKEN)
            c->term_hash[j++] = XXH3_64bits(b->bytes + b->off[i], b->len[i]);
    return j;
}

/* always_inline: GCC otherwise finds a function that only prefetches "pure"
 * and deletes the calls (its result is unused). */
__attribute__((always_inline)) static inline void prefetch(const cs_counter *c, uint32_t j,
                                                          uint32_t n_tokens, int entry)
{
    if (j >= n_tokens)
        return;
    if (entry)
        cs_table_prefetch_entry(c->terms, c->term_hash[j]);
    else
        cs_table_prefetch_slot(c->terms, c->term_hash[j]);
}

/* Stable LSD radix sort of n items of `stride` bytes by hash bits 48..63,
 * from a to b and back. */
static void sort_top16(uint8_t *a, uint8_t *b, uint32_t n, size_t stride)
{
    for (unsigned shift = 48; shift < 64; shift += 8) {
        uint32_t pos[256] = {0};
        for (uint32_t i = 0; i < n; i++)
            pos[(item_at(a, stride, i)->hash >> shift) & 0xFF]++;
        uint32_t sum = 0;
        for (unsigned d = 0; d < 256; d++) {
            uint32_t k = pos[d];
            pos[d] = sum;
            sum += k;
        }
        for (uint32_t i = 0; i < n; i++) {
            const pend_item *e = item_at(a, stride, i);
            memcpy(item_at(b, stride, pos[(e->hash >> shift) & 0xFF]++), e, stride);
        }
        uint8_t *t = a;
        a = b;
        b = t;
    }
}

/* Adds the waiting occurrences of order n to its table, in hash order. */
static void add_pending(cs_counter *c, int n)
{
    struct cs_gram_buf *q = &c->pend[n];
    if (!q->n)
        return;
    sort_top16(q->items, q->tmp, q->n, q->stride); /* two passes: back in items */
    cs_table *t = c->grams[n];
    /* Room for every item first (cs_table_reserve says why): items of a
     * partition are contiguous now. */
    for (uint32_t i = 0, j; i < q->n; i = j) {
        const unsigned p = cs_part_of(item_at(q->items, q->stride, i)->hash);
        for (j = i + 1; j < q->n && cs_part_of(item_at(q->items, q->stride, j)->hash) == p; j++)
            ;
        cs_table_reserve(t, p, t->part[p].n + (j - i));
    }
    for (uint32_t i = 0; i < q->n; i++) {
        if (i + PREFETCH_SLOT < q->n) /* ahead in the sweep: the misses overlap */
            cs_table_prefetch_slot(t, item_at(q->items, q->stride, i + PREFETCH_SLOT)->hash);
        if (i + PREFETCH_ENTRY < q->n)
            cs_table_prefetch_entry(t, item_at(q->items, q->stride, i + PREFETCH_ENTRY)->hash);
        const pend_item *e = item_at(q->items, q->stride, i);
        int is_new;
        cs_gram *g = cs_table_gram(t, e->hash, e->ids, &is_new);
        cs_cnt_add(&g->c, (e->doc & PEND_NEG) ? -1 : 1, e->doc & ~PEND_NEG);
    }
    q->n = 0;
}

void cs_counter_flush(cs_counter *c)
{
    for (int n = c->gram_min; n <= c->gram_max; n++)
        add_pending(c, n);
}

static inline void pend_gram(cs_counter *c, int n, uint64_t h, const uint32_t *ids)
{
    struct cs_gram_buf *q = &c->pend[n];
    if (CS_UNLIKELY(q->n == q->cap)) {
        assert(c->pend_max >= 1);
        const uint32_t max = q->max < c->pend_max ? q->max : c->pend_max;
        if (q->cap < max) {
            q->cap = q->cap ? q->cap * 2 : PEND_MIN;
            if (q->cap > max)
                q->cap = max;
            q->items = cs_xrealloc(q->items, (size_t)q->cap * q->stride);
            free(q->tmp);
            q->tmp = cs_xmalloc((size_t)q->cap * q->stride);
        } else {
            add_pending(c, n);
        }
    }
    pend_item *e = item_at(q->items, q->stride, q->n++);
    e->hash = h;
    e->doc = c->doc | (c->sign < 0 ? PEND_NEG : 0);
    memcpy(e->ids, ids, (size_t)n * sizeof *ids);
}

void cs_counter_consume(void *ctx, const cs_tok_batch *b)
{
    cs_counter *c = ctx;
    const uint32_t n_tokens = hash_batch(c, b);
    const int orders = n_orders(c);
    for (uint32_t j = 0; j < PREFETCH_SLOT && j < n_tokens; j++)
        prefetch(c, j, n_tokens, 0);
    uint32_t j = 0;
    for (uint32_t i = 0; i < b->n_events; i++) {
        switch (b->kind[i]) {
        case CS_EV_TOKEN: {
            prefetch(c, j + PREFETCH_SLOT, n_tokens, 0);
            prefetch(c, j + PREFETCH_ENTRY, n_tokens, 1);
            const uint64_t h = c->term_hash[j];
            int is_new;
            cs_term *e = cs_table_term(c->terms, h, b->bytes + b->off[i], b->len[i], 1, &is_new);
            cs_cnt_add(&e->c, c->sign, c->doc);
            if (orders) {
                c->hist_len = push(c->hist_id, c->hist_hash, c->hist_len, (unsigned)c->gram_max,
                                   e->id, h);
                /* A gram is hashed from its terms' hashes, not ids: the same
                 * in every thread, so it lands in the same partition. */
                for (int k = 0; k < orders && (unsigned)(c->gram_min + k) <= c->hist_len; k++) {
                    const unsigned n = (unsigned)(c->gram_min + k), at = c->hist_len - n;
                    pend_gram(c, (int)n, XXH3_64bits(c->hist_hash + at, n * sizeof *c->hist_hash),
                              c->hist_id + at);
                }
            }
            j++;
            break;
        }
        case CS_EV_HOLE:
        case CS_EV_SEG_END:
        case CS_EV_DOC_END:
            c->hist_len = 0;
            break;
        case CS_EV_DOC_BEGIN:
            c->doc = c->next_doc;
            c->next_doc += c->doc_step;
            c->hist_len = 0;
            break;
        }
    }
}
