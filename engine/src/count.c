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

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

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
}

void cs_counter_free(cs_counter *c)
{
    cs_table_free(c->terms);
    for (int n = 0; n <= CS_NGRAM_MAX; n++)
        cs_table_free(c->grams[n]);
    memset(c, 0, sizeof *c);
}

static inline void add_token(cs_counter *c, const uint8_t *p, uint32_t len)
{
    uint64_t h = XXH3_64bits(p, len);
    int is_new;
    cs_term *e = cs_table_term(c->terms, h, p, len, 1, &is_new);
    cs_cnt_add(&e->c, c->sign, c->doc);
    if (c->gram_max < 2)
        return;
    /* Keep at most gram_max tokens: the newest is at hist_len - 1. */
    if (c->hist_len == (unsigned)c->gram_max) {
        for (unsigned k = 1; k < c->hist_len; k++) {
            c->hist_id[k - 1] = c->hist_id[k];
            c->hist_hash[k - 1] = c->hist_hash[k];
        }
        c->hist_len--;
    }
    c->hist_id[c->hist_len] = e->id;
    c->hist_hash[c->hist_len] = h;
    c->hist_len++;
    for (int n = c->gram_min; n <= c->gram_max && (unsigned)n <= c->hist_len; n++) {
        unsigned first = c->hist_len - (unsigned)n;
        uint64_t gh = XXH3_64bits(c->hist_hash + first, (size_t)n * sizeof(uint64_t));
        cs_gram *g = cs_table_gram(c->grams[n], gh, c->hist_id + first, &is_new);
        cs_cnt_add(&g->c, c->sign, c->doc);
    }
}

void cs_counter_consume(void *ctx, const cs_tok_batch *b)
{
    cs_counter *c = ctx;
    for (uint32_t i = 0; i < b->n_events; i++) {
        switch (b->kind[i]) {
        case CS_EV_TOKEN:
            add_token(c, b->bytes + b->off[i], b->len[i]);
            break;
        case CS_EV_HOLE:
        case CS_EV_SEG_END:
            c->hist_len = 0;
            break;
        case CS_EV_DOC_BEGIN:
            c->doc = c->next_doc;
            c->next_doc += c->doc_step;
            c->hist_len = 0;
            break;
        case CS_EV_DOC_END:
            c->hist_len = 0;
            break;
        }
    }
}
