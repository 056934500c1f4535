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
 */
#include "count.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Lookups issued this many tokens ahead: slots first, entries half-way.
 * Far enough to cover a memory miss with the work of the tokens between,
 * near enough that the prefetched lines are still in L1/L2. */
#ifndef PREFETCH_SLOT /* -D to experiment */
#define PREFETCH_SLOT 16
#define PREFETCH_ENTRY 8
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
    c->gram_min = ngram_min < 2 ? 2 : ngram_min;
    c->gram_max = ngram_max;
    for (int n = c->gram_min; n <= c->gram_max; n++)
        c->grams[n] = cs_table_new((unsigned)n);
    c->next_doc = first_doc;
    c->doc_step = doc_step;
    c->sign = 1;
    c->term_hash = cs_xmalloc(CS_BATCH_EVENTS * sizeof *c->term_hash);
    /* zeroed: the prefetch may read slots of grams that did not form */
    c->gram_hash = cs_xcalloc((size_t)CS_BATCH_EVENTS * (size_t)(n_orders(c) + 1),
                              sizeof *c->gram_hash);
}

void cs_counter_free(cs_counter *c)
{
    cs_table_free(c->terms);
    for (int n = 0; n <= CS_NGRAM_MAX; n++)
        cs_table_free(c->grams[n]);
    free(c->term_hash);
    free(c->gram_hash);
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
            if (ids)
                ids[0] = ids[1];
            hashes[0] = hashes[1];
        } else if (len == 3) {
            if (ids) {
                ids[0] = ids[1];
                ids[1] = ids[2];
            }
            hashes[0] = hashes[1];
            hashes[1] = hashes[2];
        } else {
            for (unsigned k = 1; k < len; k++) {
                if (ids)
                    ids[k - 1] = ids[k];
                hashes[k - 1] = hashes[k];
            }
        }
        len--;
    }
    if (ids)
        ids[len] = id;
    hashes[len] = h;
    return len + 1;
}

static inline int resets_history(unsigned kind)
{
    return kind != CS_EV_TOKEN; /* a hole, a segment or document boundary */
}

/* Pass 1: the hash of every token and of every gram ending at it. Grams
 * are hashed from their terms' hashes, not ids: the same in every thread. */
static uint32_t hash_batch(cs_counter *c, const cs_tok_batch *b)
{
    const int orders = n_orders(c);
    uint64_t hist[CS_NGRAM_MAX];
    unsigned len = c->hist_len;
    memcpy(hist, c->hist_hash, len * sizeof *hist);
    uint32_t j = 0;
    for (uint32_t i = 0; i < b->n_events; i++) {
        if (resets_history(b->kind[i])) {
            len = 0;
            continue;
        }
        uint64_t h = XXH3_64bits(b->bytes + b->off[i], b->len[i]);
        c->term_hash[j] = h;
        if (orders) {
            len = push(NULL, hist, len, (unsigned)c->gram_max, 0, h);
            uint64_t *gh = c->gram_hash + (size_t)j * (size_t)orders;
            for (int k = 0; k < orders && (unsigned)(c->gram_min + k) <= len; k++) {
                unsigned n = (unsigned)(c->gram_min + k);
                gh[k] = XXH3_64bits(hist + len - n, n * sizeof *hist);
            }
        }
        j++;
    }
    return j;
}

/* always_inline: GCC otherwise finds a function that only prefetches "pure"
 * and deletes the calls (its result is unused). */
__attribute__((always_inline)) static inline void prefetch(const cs_counter *c, uint32_t j,
                                                          uint32_t n_tokens, int entry)
{
    if (j >= n_tokens)
        return;
    const int orders = n_orders(c);
    if (entry)
        cs_table_prefetch_entry(c->terms, c->term_hash[j]);
    else
        cs_table_prefetch_slot(c->terms, c->term_hash[j]);
    /* grams that may not form (too little history) prefetch harmlessly */
    for (int k = 0; k < orders; k++) {
        const cs_table *t = c->grams[c->gram_min + k];
        uint64_t h = c->gram_hash[(size_t)j * (size_t)orders + (size_t)k];
        if (entry)
            cs_table_prefetch_entry(t, h);
        else
            cs_table_prefetch_slot(t, h);
    }
}

void cs_counter_consume(void *ctx, const cs_tok_batch *b)
{
    cs_counter *c = ctx;
    const uint32_t n_tokens = hash_batch(c, b);
    const int orders = n_orders(c);
    /* gram_hash slots of tokens whose grams do not form hold stale values:
     * only the prefetch reads them, and a wrong prefetch is only wasted. */
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
                const uint64_t *gh = c->gram_hash + (size_t)j * (size_t)orders;
                for (int k = 0; k < orders && (unsigned)(c->gram_min + k) <= c->hist_len; k++) {
                    unsigned n = (unsigned)(c->gram_min + k);
                    cs_gram *g = cs_table_gram(c->grams[n], gh[k], c->hist_id + c->hist_len - n,
                                               &is_new);
                    cs_cnt_add(&g->c, c->sign, c->doc);
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
