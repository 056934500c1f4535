/*
 * count.h - the counting stage: tokenizer batches -> a thread's tables.
 *
 * A counter is one thread's: its term table, one gram counter per order
 * (grams.h), its pairs (pairs.h), and the last tokens of the open segment.
 * It is a cs_tok_sink; the pipeline points a tokenizer at the counter of
 * the thread that runs it.
 */
#ifndef CS_COUNT_H
#define CS_COUNT_H

#include <stdint.h>

#include "grams.h"
#include "pairs.h"
#include "table.h"
#include "tokenize.h"

typedef struct cs_counter {
    cs_table *terms;                    /* owned */
    cs_partmap *parts;                  /* owned; the partition of each term id */
    cs_grams *grams[CS_NGRAM_MAX + 1];  /* owned; [n] for gram_min <= n <= gram_max */
    int gram_min, gram_max;             /* gram_max < 2: no grams */
    uint64_t next_doc, doc_step;        /* document ids: unique across counters */
    uint64_t doc;                       /* the open document */
    int64_t sign;                       /* +1 counts, -1 takes back */
    unsigned hist_len;                  /* tokens of the open segment kept (<= gram_max) */
    uint32_t hist_id[CS_NGRAM_MAX];
    /* Hashes of a batch's tokens, computed before the lookups so that
     * those can be prefetched (owned). */
    uint64_t *term_hash;                /* [CS_BATCH_EVENTS] */
    uint64_t hash_mask;                 /* term hashes are ANDed with it: all ones, but
                                           tests clear bits to make terms collide (not
                                           with a vocabulary: its hashes are unmasked) */
    cs_pairs *pairs;                    /* owned; either scope's pairs, else NULL */
    /* Window co-occurrence (cs_counter_set_window), else window = 0. */
    int window;                         /* W */
    uint64_t weight[CS_WINDOW_MAX + 1]; /* [d]: units a pair d apart adds */
    uint64_t seg_pos;                   /* positions of the open segment so far */
    uint32_t win_id[CS_WINDOW_MAX];     /* [position % 32]: the last W positions; */
    uint64_t win_hash[CS_WINDOW_MAX];   /* CS_NO_TERM marks a hole */
    /* Document co-occurrence (cs_counter_set_vocab), else vocab = NULL. */
    const cs_strset *vocab;             /* borrowed; pairs keyed by its indices */
    cs_partmap *vocab_parts;            /* owned; the partition of each index's term */
    uint32_t *doc_terms;                /* owned; vocab indices seen in the open document */
    uint32_t n_doc_terms, cap_doc_terms;
    uint64_t *seen_in;                  /* owned; [index]: the document that last saw it */
    int pairs_only;                     /* count document pairs and nothing else */
    /* A small vocabulary's pairs are counted in a dense upper triangle,
     * [pair (i, j), i < j], and moved into `pairs` by cs_counter_flush (and
     * before a cell could overflow); NULL: straight into `pairs`. */
    int32_t *tri;                       /* owned */
    uint64_t tri_docs;                  /* documents added since the last move */
    /* cs_counter_set_budget's, for pairs made after it (second pass) */
    size_t budget_buffers, budget_runs;
    size_t budget_terms;                /* its term table's: past it at a document's start,
                                           a new generation (table.h); 0: none */
    cs_spill_file *terms_file;          /* borrowed: where the generations go */
    int budget_kinds;                   /* orders, and 1 for pairs now or later */
    cs_spill *spill;                    /* borrowed; NULL: no budget */
    int thread;
} cs_counter;

#define CS_NO_TERM UINT32_MAX

/* A memory budget for c's term table (`terms` bytes: past them, at the
 * start of a document, the table's entries are spilled as a generation,
 * "t<thread>-terms", and it starts empty: table.h), and for its n-grams
 * and pairs (after cs_counter_set_window or _set_vocab, before counting):
 * their buffers take at most `buffers` bytes
 * together (and no more than without a budget: 128 MiB for all orders, the
 * pairs' default), and the runs they hold at most `runs`, shared evenly by the
 * orders and the pairs (also when pairs_later: pairs that a second pass
 * will count, with cs_counter_set_vocab(.., 1), which gives them their
 * part); past that a kind's runs are written to its file in sp
 * ("t<thread>-grams<n>", "t<thread>-pairs"). */
void cs_counter_set_budget(cs_counter *c, size_t terms, size_t buffers, size_t runs,
                           int pairs_later, cs_spill *sp, int thread);

/* Document ids of this counter: first_doc, first_doc + doc_step, ...; give
 * each thread a distinct first_doc in 1..doc_step so no two counters share
 * an id (0 means "no document" in a table entry). */
void cs_counter_init(cs_counter *c, int ngram_min, int ngram_max, uint64_t first_doc,
                     uint64_t doc_step);
void cs_counter_free(cs_counter *c);

/* Also counts window co-occurrence: every two positions i < j of a segment
 * at most w apart (1 <= w <= CS_WINDOW_MAX) holding different terms add
 * weight[j - i] units to their pair: 1, or with harmonic lcm(1..w) / (j - i)
 * (so 1/(j - i) in units of 1/lcm(1..w), an exact integer). A pair's two ids
 * are ordered by their terms' hashes (by their bytes on a tie), so a pair is
 * one key in every thread. */
void cs_counter_set_window(cs_counter *c, int w, int harmonic);

/* Also counts document co-occurrence: each document adds 1 unit to the
 * pair of every two different terms of v it holds (ids: their indices,
 * the lower first). pairs_only: count nothing else (a second pass, once
 * the terms are counted and v chosen from them). */
void cs_counter_set_vocab(cs_counter *c, const cs_strset *v, int pairs_only);

/* lcm(1..w): the units of one occurrence under --weight harmonic. */
uint64_t cs_harmonic_unit(int w);

/* cs_tok_sink: ctx is a cs_counter. Terms are counted at once; gram and
 * pair occurrences may wait in their buffers until cs_counter_flush. */
void cs_counter_consume(void *ctx, const cs_tok_batch *b);

/* Sorts every waiting gram and pair occurrence into runs: call it before
 * the runs are read. */
void cs_counter_flush(cs_counter *c);

/* Frees the partition of each term id (c->parts) once no term will be
 * counted and no run made: the merge translates ids through its remap
 * (reduce.h), and a byte a local id is a quarter of that again. */
void cs_counter_drop_parts(cs_counter *c);

#endif
