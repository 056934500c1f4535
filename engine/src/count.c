/*
 * count.c - tokenizer events -> exact counts (see count.h).
 *
 * DESIGN
 * A term is hashed once (XXH3, inlined) and looked up once in the
 * thread's term table; its local id goes into the segment history, and the
 * partition its hash gives into the counter's cs_partmap. Under a budget
 * the table starts a new generation between documents (table.h): a term
 * then has one local id a generation. An n-gram
 * occurrence is the ids of its n terms and its document, sent to the
 * cs_grams of its order (grams.c), which counts by sorting; document ids
 * are never reused, and the pipeline never interleaves two documents on
 * one counter, which is what doc_count relies on there.
 *
 * Co-occurrence pairs go to a cs_pairs (pairs.c), which counts them by
 * sorting too: a pair is two ids and a weight in units (pairs have no
 * doc_count). For window scope the counter keeps the ids of the last W
 * positions of the open segment in a ring; an excluded token holds a
 * position (CS_NO_TERM) without a term.
 */
#include "count.h"

#include <assert.h>
#include <stdio.h>
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

/* Gram buffers of a counter, all orders together: 128 MiB (half of it
 * the sort's other half); --ngrams 1-16 does not hold 15 times the memory
 * of 1-2. */
#ifndef GRAM_BUFFER_BYTES /* -DGRAM_BUFFER_BYTES=.. to experiment */
#define GRAM_BUFFER_BYTES ((size_t)128 << 20)
#endif

static int n_orders(const cs_counter *c)
{
    return c->gram_max >= c->gram_min ? c->gram_max - c->gram_min + 1 : 0;
}

void cs_counter_init(cs_counter *c, int ngram_min, int ngram_max, uint64_t first_doc,
                     uint64_t doc_step)
{
    memset(c, 0, sizeof *c);
    c->terms = cs_table_new(1);
    c->parts = cs_xcalloc(1, sizeof *c->parts);
    c->gram_min = ngram_min < 2 ? 2 : ngram_min;
    c->gram_max = ngram_max;
    for (int n = c->gram_min; n <= c->gram_max; n++) {
        c->grams[n] = cs_xmalloc(sizeof *c->grams[n]);
        cs_grams_init(c->grams[n], (unsigned)n, c->parts, GRAM_BUFFER_BYTES / (size_t)n_orders(c));
    }
    c->next_doc = first_doc;
    c->doc_step = doc_step;
    c->sign = 1;
    c->hash_mask = UINT64_MAX;
    c->term_hash = cs_xmalloc(CS_BATCH_EVENTS * sizeof *c->term_hash);
}

void cs_counter_free(cs_counter *c)
{
    cs_table_free(c->terms);
    for (int n = 0; n <= CS_NGRAM_MAX; n++) {
        cs_grams_free(c->grams[n]);
        free(c->grams[n]);
    }
    cs_pairs_free(c->pairs);
    free(c->pairs);
    cs_partmap_free(c->parts);
    free(c->parts);
    cs_partmap_free(c->vocab_parts);
    free(c->vocab_parts);
    free(c->doc_terms);
    free(c->seen_in);
    free(c->tri);
    free(c->term_hash);
    memset(c, 0, sizeof *c);
}

/* A vocabulary's pairs are counted in a dense triangle of int32 cells up to
 * this size (64 MiB: 5,793 terms; the default --cooc-vocab 5000 takes
 * 50 MB a thread): a document's pairs are then increments along rows,
 * many times cheaper than sending each pair to the sort (bench/NOTES.md,
 * 18, measured when pairs were hashed and sorted). */
#ifndef TRI_MAX_BYTES
#define TRI_MAX_BYTES ((uint64_t)64 << 20)
#endif

static inline uint64_t tri_cells(uint64_t n)
{
    return n * (n - 1) / 2;
}

/* Whether n terms' triangle is used: within TRI_MAX_BYTES, and under a
 * budget, within the runs' share (what the pairs would take otherwise). */
static int tri_fits(const cs_counter *c, uint64_t n)
{
    const uint64_t bytes = n >= 2 ? tri_cells(n) * sizeof *c->tri : UINT64_MAX;
    return bytes <= TRI_MAX_BYTES && (!c->spill || bytes <= c->budget_runs);
}

/* Where row i of the upper triangle starts (rows one after the other):
 * pair (i, j), i < j < n, is cell tri_row(n, i) + j - i - 1. */
static inline uint64_t tri_row(uint64_t n, uint64_t i)
{
    return i * (2 * n - i - 1) / 2;
}

/* The pair counter, for either scope: its ids' partitions are in parts. */
static void init_pairs(cs_counter *c, const cs_partmap *parts)
{
    assert(!c->pairs);
    c->pairs = cs_xmalloc(sizeof *c->pairs);
    cs_pairs_init(c->pairs, parts);
}

/* The pairs' part of a budget (cs_counter_set_budget): `buffer` bytes for
 * their buffer, and the runs' share of one kind. */
static void budget_pairs(cs_counter *c, size_t buffer)
{
    char name[64];
    cs_pairs_set_buffer(c->pairs, buffer);
    snprintf(name, sizeof name, "t%d-pairs", c->thread);
    cs_pairs_set_spill(c->pairs, cs_spill_file_new(c->spill, name),
                       c->budget_runs / (size_t)c->budget_kinds);
}

void cs_counter_set_budget(cs_counter *c, size_t terms, size_t buffers, size_t runs,
                           int pairs_later, cs_spill *sp, int thread)
{
    const int orders = n_orders(c);
    char tname[64];
    snprintf(tname, sizeof tname, "t%d-terms", thread);
    c->budget_terms = terms;
    c->terms_file = cs_spill_file_new(sp, tname);
    c->budget_buffers = buffers;
    c->budget_runs = runs;
    c->budget_kinds = orders + (c->pairs || pairs_later);
    c->spill = sp;
    c->thread = thread;
    /* Never more than without a budget: larger buffers would change the
     * measured trade-off of run size against merge work (bench/NOTES.md, 24). */
    size_t gram_buffers = c->pairs ? buffers / 2 : buffers;
    if (gram_buffers > GRAM_BUFFER_BYTES)
        gram_buffers = GRAM_BUFFER_BYTES;
    char name[64];
    for (int n = c->gram_min; n <= c->gram_max; n++) {
        cs_grams_set_buffer(c->grams[n], gram_buffers / (size_t)orders);
        snprintf(name, sizeof name, "t%d-grams%d", thread, n);
        cs_grams_set_spill(c->grams[n], cs_spill_file_new(sp, name),
                           runs / (size_t)c->budget_kinds);
    }
    if (c->pairs)
        budget_pairs(c, orders ? buffers / 2 : buffers);
    if (c->tri && !tri_fits(c, cs_strset_size(c->vocab))) { /* set before the budget */
        free(c->tri);
        c->tri = NULL;
    }
}

void cs_counter_set_vocab(cs_counter *c, const cs_strset *v, int pairs_only)
{
    assert(!c->window);
    /* A pair's partition comes from its vocabulary hash, unmasked: it must
     * be that of the term's hash in the merged term table. */
    assert(c->hash_mask == UINT64_MAX);
    c->vocab_parts = cs_xcalloc(1, sizeof *c->vocab_parts);
    init_pairs(c, c->vocab_parts);
    c->vocab = v;
    c->pairs_only = pairs_only;
    const uint64_t n = cs_strset_size(v);
    c->seen_in = cs_xcalloc(n + 1, sizeof *c->seen_in);
    for (uint64_t i = 0; i < n; i++)
        cs_partmap_set(c->vocab_parts, (uint32_t)i, cs_part_of(cs_strset_hash(v, (uint32_t)i)));
    if (tri_fits(c, n))
        c->tri = cs_xcalloc((size_t)tri_cells(n), sizeof *c->tri); /* pages zeroed as touched */
    /* The pairs of a second pass: the gram buffers are gone (flushed),
     * and the runs' share was cut for them (pairs_later). */
    if (c->spill && pairs_only)
        budget_pairs(c, c->budget_buffers);
}

uint64_t cs_harmonic_unit(int w)
{
    uint64_t l = 1;
    for (uint64_t d = 2; d <= (uint64_t)w; d++) {
        uint64_t a = l, b = d;
        while (b) { /* gcd */
            uint64_t t = a % b;
            a = b;
            b = t;
        }
        l = l / a * d;
    }
    return l;
}

void cs_counter_set_window(cs_counter *c, int w, int harmonic)
{
    assert(w >= 1 && w <= CS_WINDOW_MAX);
    init_pairs(c, c->parts);
    c->window = w;
    const uint64_t unit = harmonic ? cs_harmonic_unit(w) : 1;
    for (int d = 1; d <= w; d++)
        c->weight[d] = harmonic ? unit / (uint64_t)d : 1;
}

/* Keeps the newest `max` ids of a history; returns the new length. */
static inline unsigned push(uint32_t *ids, unsigned len, unsigned max, uint32_t id)
{
    if (len == max) {
        /* Written out for bigrams and trigrams: GCC turns the loop into a
         * memmove call, a cost per token. */
        if (len == 2) {
            ids[0] = ids[1];
        } else if (len == 3) {
            ids[0] = ids[1];
            ids[1] = ids[2];
        } else {
            for (unsigned k = 1; k < len; k++)
                ids[k - 1] = ids[k];
        }
        len--;
    }
    ids[len] = id;
    return len + 1;
}

/* Pass 1: the hash of every token, so that its lookup can be prefetched a
 * few tokens ahead of it. */
static uint32_t hash_batch(cs_counter *c, const cs_tok_batch *b)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < b->n_events; i++)
        if (b->kind[i] == CS_EV_TOKEN)
            c->term_hash[j++] = XXH3_64bits(b->bytes + b->off[i], b->len[i]) & c->hash_mask;
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

static void tri_move(cs_counter *c);

void cs_counter_flush(cs_counter *c)
{
    if (c->tri)
        tri_move(c);
    for (int n = c->gram_min; n <= c->gram_max; n++)
        cs_grams_flush(c->grams[n]);
    if (c->pairs)
        cs_pairs_flush(c->pairs);
}

void cs_counter_drop_parts(cs_counter *c)
{
    cs_partmap_free(c->parts);
}

/* Whether term `a` comes before term `b` (local ids, two different terms
 * with one hash h) in bytes order. Both lie on h's probe chain in the term
 * table. Two terms sharing a 64-bit hash is a 2^-64 event per pair: this
 * only makes the pair's id order exact in every case, so that the merge can
 * trust it. */
static int tie_before(const cs_counter *c, uint64_t h, uint32_t a, uint32_t b)
{
    const cs_part *p = &c->terms->part[cs_part_of(h)];
    const cs_term *ea = NULL, *eb = NULL;
    for (uint32_t s = cs_slot_of(h, p->mask); p->slots[s].idx1; s = (s + 1) & p->mask) {
        const cs_term *e = cs_part_entry(p, sizeof(cs_term), p->slots[s].idx1 - 1);
        if (e->hash == h && e->id == a)
            ea = e;
        else if (e->hash == h && e->id == b)
            eb = e;
    }
    assert(ea && eb);
    const uint32_t n = ea->len < eb->len ? ea->len : eb->len;
    const int d = memcmp(cs_term_bytes(ea), cs_term_bytes(eb), n);
    return d < 0 || (d == 0 && ea->len < eb->len);
}

/* The pairs of the term at the next position of the segment (id, h) with
 * the terms of the W positions before it; then it joins the window. */
static inline void window_pairs(cs_counter *c, uint32_t id, uint64_t h)
{
    const uint64_t pos = c->seg_pos++;
    const uint32_t back = pos < (uint64_t)c->window ? (uint32_t)pos : (uint32_t)c->window;
    for (uint32_t d = 1; d <= back; d++) {
        const unsigned k = (unsigned)((pos - d) % CS_WINDOW_MAX);
        const uint32_t other = c->win_id[k];
        if (other == CS_NO_TERM || other == id)
            continue; /* a hole, or the same term: no pair */
        const uint64_t oh = c->win_hash[k];
        /* The lower hash first (on a tie, the lower bytes): the same order
         * in every thread, so a pair is one key everywhere. Hash order is a
         * coin toss: chosen with a mask, not a branch. */
        uint32_t swap = oh < h;
        if (CS_UNLIKELY(oh == h))
            swap = (uint32_t)tie_before(c, h, other, id);
        const uint32_t mask = 0u - swap, flip = (id ^ other) & mask;
        cs_pairs_add(c->pairs, id ^ flip, other ^ flip, c->sign * (int64_t)c->weight[d]);
    }
    c->win_id[pos % CS_WINDOW_MAX] = id;
    c->win_hash[pos % CS_WINDOW_MAX] = h;
}

/* Document scope: a token of the open document (hash h). */
static inline void doc_term(cs_counter *c, uint64_t h, const uint8_t *p, uint32_t len)
{
    const int64_t i = cs_strset_find(c->vocab, h, p, len);
    if (i < 0 || c->seen_in[i] == c->doc)
        return;
    c->seen_in[i] = c->doc;
    if (c->n_doc_terms == c->cap_doc_terms) {
        c->cap_doc_terms = c->cap_doc_terms ? c->cap_doc_terms * 2 : 64;
        c->doc_terms = cs_xrealloc(c->doc_terms, c->cap_doc_terms * sizeof *c->doc_terms);
    }
    c->doc_terms[c->n_doc_terms++] = (uint32_t)i;
}

static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Moves the triangle's counts into the pair counter. */
static void tri_move(cs_counter *c)
{
    const uint64_t n = cs_strset_size(c->vocab);
    for (uint64_t i = 0; i + 1 < n; i++) {
        int32_t *row = c->tri + tri_row(n, i);
        for (uint64_t j = i + 1; j < n; j++)
            if (row[j - i - 1]) {
                cs_pairs_add(c->pairs, (uint32_t)i, (uint32_t)j, row[j - i - 1]);
                row[j - i - 1] = 0;
            }
    }
    c->tri_docs = 0;
}

/* Document scope: the open document ends; each two of its terms make a pair. */
static void doc_pairs(cs_counter *c)
{
    const uint32_t n = c->n_doc_terms;
    if (n >= 2)
        qsort(c->doc_terms, n, sizeof *c->doc_terms, cmp_u32);
    if (c->tri) {
        /* A cell moves at most +-1 a document: move them all before one
         * could pass INT32_MAX. */
        if (++c->tri_docs == INT32_MAX)
            tri_move(c);
        for (uint32_t a = 0; a + 1 < n; a++) {
            const uint32_t i = c->doc_terms[a];
            int32_t *row = c->tri + tri_row(cs_strset_size(c->vocab), i);
            for (uint32_t b = a + 1; b < n; b++)
                row[c->doc_terms[b] - i - 1] += (int32_t)c->sign;
        }
        c->n_doc_terms = 0;
        return;
    }
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = a + 1; b < n; b++)
            cs_pairs_add(c->pairs, c->doc_terms[a], c->doc_terms[b], c->sign);
    c->n_doc_terms = 0;
}

/* A document begins: a fresh id, and no history, window or terms. */
static inline void open_doc(cs_counter *c)
{
    c->doc = c->next_doc;
    c->next_doc += c->doc_step;
    c->hist_len = 0;
    c->seg_pos = 0;
    c->n_doc_terms = 0;
}

/* The second pass of --cooc doc: document pairs only. */
static void consume_doc_pairs(cs_counter *c, const cs_tok_batch *b)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < b->n_events; i++) {
        switch (b->kind[i]) {
        case CS_EV_TOKEN:
            doc_term(c, c->term_hash[j++], b->bytes + b->off[i], b->len[i]);
            break;
        case CS_EV_DOC_BEGIN:
            open_doc(c);
            break;
        case CS_EV_DOC_END:
            doc_pairs(c);
            break;
        default:
            break;
        }
    }
}

void cs_counter_consume(void *ctx, const cs_tok_batch *b)
{
    cs_counter *c = ctx;
    const uint32_t n_tokens = hash_batch(c, b);
    if (c->pairs_only) {
        consume_doc_pairs(c, b);
        return;
    }
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
            if (is_new) /* a gram's or pair's partition: its first term's */
                cs_partmap_set(c->parts, e->id, cs_part_of(h));
            if (orders) {
                c->hist_len = push(c->hist_id, c->hist_len, (unsigned)c->gram_max, e->id);
                const uint64_t doc = c->doc | (c->sign < 0 ? CS_DOC_NEG : 0);
                for (int k = 0; k < orders && (unsigned)(c->gram_min + k) <= c->hist_len; k++) {
                    const unsigned n = (unsigned)(c->gram_min + k);
                    cs_grams_add(c->grams[n], c->hist_id + c->hist_len - n, doc);
                }
            }
            if (c->window)
                window_pairs(c, e->id, h);
            else if (c->vocab)
                doc_term(c, h, b->bytes + b->off[i], b->len[i]);
            j++;
            break;
        }
        case CS_EV_HOLE: /* no n-gram holds it; it holds a window position */
            c->hist_len = 0;
            if (c->window)
                c->win_id[c->seg_pos++ % CS_WINDOW_MAX] = CS_NO_TERM;
            break;
        case CS_EV_SEG_END:
            c->hist_len = 0;
            c->seg_pos = 0;
            break;
        case CS_EV_DOC_END:
            c->hist_len = 0;
            c->seg_pos = 0;
            if (c->vocab)
                doc_pairs(c);
            break;
        case CS_EV_DOC_BEGIN:
            /* Between documents, a table past its share starts a new
             * generation: no document's terms span two (table.h). */
            if (c->budget_terms && cs_table_gen_bytes(c->terms) > c->budget_terms &&
                c->terms->next_id - c->terms->gen_first_id >= CS_GEN_MIN_TERMS &&
                c->terms->next_id < CS_GEN_MAX_ID)
                cs_table_new_generation(c->terms, c->terms_file);
            open_doc(c);
            break;
        }
    }
}
