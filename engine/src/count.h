/*
 * count.h - the counting stage: tokenizer batches -> a thread's tables.
 *
 * A counter is one thread's: its term table, one gram table per order, and
 * the last tokens of the open segment. It is a cs_tok_sink; the pipeline
 * points a tokenizer at the counter of the thread that runs it.
 */
#ifndef CS_COUNT_H
#define CS_COUNT_H

#include <stdint.h>

#include "table.h"
#include "tokenize.h"

typedef struct cs_counter {
    cs_table *terms;                    /* owned */
    cs_table *grams[CS_NGRAM_MAX + 1];  /* owned; [n] for gram_min <= n <= gram_max */
    int gram_min, gram_max;             /* gram_max < 2: no grams */
    uint64_t next_doc, doc_step;        /* document ids: unique across counters */
    uint64_t doc;                       /* the open document */
    int64_t sign;                       /* +1 counts, -1 takes back */
    unsigned hist_len;                  /* tokens of the open segment kept (<= gram_max) */
    uint32_t hist_id[CS_NGRAM_MAX];
    uint64_t hist_hash[CS_NGRAM_MAX];
    /* Hashes of a batch's tokens, computed before the lookups so that
     * those can be prefetched (owned). */
    uint64_t *term_hash;                /* [CS_BATCH_EVENTS] */
    uint32_t pend_max;                  /* occurrences per order before a flush, at
                                           most (also bounded by count.c's budget);
                                           init sets the default, tests lower it */
    /* Gram occurrences waiting to be added, per order (see count.c). */
    struct cs_gram_buf {
        uint8_t *items, *tmp;           /* owned; cap items of stride bytes each */
        uint32_t n, cap, max, stride;   /* max: this order's share of the budget */
    } pend[CS_NGRAM_MAX + 1];
} cs_counter;

/* Document ids of this counter: first_doc, first_doc + doc_step, ...; give
 * each thread a distinct first_doc in 1..doc_step so no two counters share
 * an id (0 means "no document" in a table entry). */
void cs_counter_init(cs_counter *c, int ngram_min, int ngram_max, uint64_t first_doc,
                     uint64_t doc_step);
void cs_counter_free(cs_counter *c);

/* cs_tok_sink: ctx is a cs_counter. Terms are counted at once; gram
 * occurrences may wait in the counter until cs_counter_flush. */
void cs_counter_consume(void *ctx, const cs_tok_batch *b);

/* Adds every waiting gram occurrence to the tables: call it before the
 * tables are read. */
void cs_counter_flush(cs_counter *c);

#endif
