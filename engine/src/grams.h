/*
 * grams.h - n-grams counted by sorting: occurrences -> packed runs, and
 * partition p of every counter's runs -> partition p of the merged table.
 *
 * An n-gram occurrence is n local term ids and its document. Looked up one
 * at a time in a hash table, each one was a random access into tables of
 * tens of millions of keys, the largest cost of counting n-grams
 * (bench/NOTES.md, 11 and 16). Here occurrences wait in a buffer; a full
 * buffer is grouped by the partition of its first term (cs_partmap: the
 * partition that term has in the merged table), each partition is sorted
 * by ids and summed, and each summed gram is packed in a few bytes: a run.
 * Pairs take the same road (pairs.h); grams add doc_count.
 *
 * doc_count. A counter's documents come one after another, so in a sorted
 * buffer the occurrences of a gram are in document order, and its distinct
 * documents are counted where the document changes. Only a buffer's first
 * and last documents can also be in another run of the counter: a document
 * open when its buffer was cut (a long one can span many runs). So a
 * summed gram says whether it holds its run's first document (F) and its
 * last (L), and a run knows those two document ids. Merging, where an
 * entry with L is followed by one of the same gram with F of the same
 * document, that document was counted twice. Document ids are never
 * shared between counters, so the test needs no counter id.
 *
 * The reducer (cs_grams_merge_part) takes partition p of every run of every
 * counter, translates the ids to global ids, sorts and sums them into
 * partition p of the merged gram table. Runs past the counter's share of
 * the memory budget are written to disk (cs_grams_set_spill) and read back
 * there one partition at a time.
 */
#ifndef CS_GRAMS_H
#define CS_GRAMS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "spill.h"
#include "table.h"

/* A document id with its sign: bit 63 set when the document is being
 * taken back (counted with sign -1). */
#define CS_DOC_NEG (1ull << 63)

/* A run: its summed grams packed by partition (pk.n[p] in partition p, in
 * id order), in memory or spilled (spill.h), and the documents it can share
 * with the runs before and after it. */
typedef struct cs_gram_run {
    cs_pack pk;
    uint64_t first_doc, last_doc; /* its first and last documents, with CS_DOC_NEG */
} cs_gram_run;

typedef struct cs_grams {
    unsigned order;              /* n */
    unsigned stride;             /* bytes a buffered occurrence: n ids and a document word */
    uint8_t *occ, *tmp;          /* owned; cap occurrences each (tmp: the sort's other half) */
    size_t n, cap;
    size_t max;                  /* occurrences buffered before a sort, at most: init
                                    sets the default, tests lower it */
    uint64_t first_doc, last_doc;/* the buffer's first and newest documents (CS_DOC_NEG) */
    uint32_t doc_ord;            /* documents in the buffer before the newest */
    const cs_partmap *parts;     /* borrowed: the partition of each id's term */
    cs_gram_run *runs;           /* owned; oldest first */
    size_t n_runs, cap_runs;
    cs_spill_file *spill;        /* borrowed; NULL: runs stay in memory */
    size_t spill_over;           /* runs in memory past these bytes are spilled */
    int sorted;                  /* its one run stays in id order through the remap, as
                                    src[0] of a merge: the merge sorts only the rest (a
                                    state merged first, whose term partitions became
                                    the merged ones; pipeline.c) */
} cs_grams;

/* Grams of `order` (2..CS_NGRAM_MAX) ids; parts must give the partition
 * of every id before a gram holds it, and outlive g. max_bytes: the most
 * the buffer and its sort may take. */
void cs_grams_init(cs_grams *g, unsigned order, const cs_partmap *parts, size_t max_bytes);
void cs_grams_free(cs_grams *g); /* NULL is a no-op; leaves g empty (freeing it again is
                                    a no-op too) */

/* The most the buffer and its sort may take, as init's max_bytes. Before
 * the first occurrence. */
void cs_grams_set_buffer(cs_grams *g, size_t max_bytes);

/* Runs held in memory past `over` bytes are written to f (spill.h). A
 * spill that fails leaves them in memory (f's cs_spill keeps the error). */
void cs_grams_set_spill(cs_grams *g, cs_spill_file *f, size_t over);

/* Sorts the buffer into a run (growing the buffer instead while it is
 * below max). Called by cs_grams_add when the buffer is full. */
void cs_grams_sort_buffer(cs_grams *g);

/* One occurrence of the gram `ids` in document `doc` (an id of the
 * counter's, with CS_DOC_NEG when taken back). A counter's documents must
 * come one after another: ids never seen before, the newest never left
 * and come back to. */
static inline void cs_grams_add(cs_grams *g, const uint32_t *ids, uint64_t doc)
{
    if (CS_UNLIKELY(g->n == g->cap))
        cs_grams_sort_buffer(g);
    if (CS_UNLIKELY(g->n == 0)) {
        g->first_doc = g->last_doc = doc;
        g->doc_ord = 0;
    } else if (doc != g->last_doc) {
        g->last_doc = doc;
        g->doc_ord++;
    }
    uint32_t *w = (uint32_t *)(g->occ + g->n++ * g->stride);
    for (unsigned k = 0; k < g->order; k++)
        w[k] = ids[k];
    w[g->order] = g->doc_ord | (uint32_t)(doc >> 32 & 0x80000000u);
}

/* Packs what the buffer holds into a run and frees the buffer: call it
 * before the runs are read. g stays usable. */
void cs_grams_flush(cs_grams *g);

/* A packed gram takes at most: its header, 5 bytes an id, 5 for the count
 * and 5 for count - doc_count (both within 32 bits). */
#define CS_GRAM_PACKED_MAX(order) (1 + 5 * (size_t)(order) + 10)

/* Packs one summed gram of a run made elsewhere (a state file, state.c) at
 * d, after the gram prev (order ids, updated; zero them at the start of
 * each partition): grams of a partition in id order, a gram may repeat
 * (the merge sums it). count and docs: within int32 (the merge holds a
 * run's counts in 32 bits), no F or L flag. Returns the end. */
uint8_t *cs_grams_pack_one(uint8_t *d, uint32_t *prev, const uint32_t *ids, unsigned order,
                           int64_t count, int64_t docs);

/* Makes r (packed by cs_grams_pack_one, local ids of g's partitions;
 * first_doc and last_doc 0: no document shared with another run) g's
 * newest run. */
void cs_grams_add_run(cs_grams *g, cs_gram_run r);

/* Whether q[0..len) reads as partition p of a run of n grams of `order`
 * over the ids of parts as cs_grams_pack_one writes it: every varint
 * inside it, no F or L flag, ids known and in order, a first id in
 * partition p, counts within 32 bits. For runs read from a file (a
 * state): the merge trusts what it unpacks. */
int cs_grams_part_valid(const uint8_t *q, size_t len, uint32_t n, unsigned p, unsigned order,
                        const cs_partmap *parts);

/* Memory a merging thread keeps from one partition to the next (its pages
 * are touched once). Zero it before the first use; cs_grams_scratch_free
 * after the last. */
typedef struct cs_grams_scratch {
    uint8_t *buf;
    size_t cap;
    cs_buf disk;      /* a spilled partition, read back */
    size_t max_bytes; /* the caller's: buf's bound (0: none), about: buf is grown a quarter
                         past what a slice needs, and a slice holds at least min_slice items
                         and all of one first id and bucket of its second (grams.c) */
    size_t min_slice; /* items a slice may hold whatever max_bytes says (0: 4096; tests
                         go lower) */
    uint32_t *first;  /* owned; items by first id, when a partition is sliced */
    size_t n_first;
    uint64_t slices;  /* the slices of the partitions merged in more than one */
} cs_grams_scratch;

void cs_grams_scratch_free(cs_grams_scratch *s);

/* Which summed grams cs_grams_merge_part writes: those for which keep
 * returns nonzero (ids global, or local without remap). It sees every
 * summed gram but those counted 0 in all (count and doc_count), in id
 * order. */
typedef int (*cs_gram_keep)(void *ctx, const uint32_t *ids, int64_t count, int64_t docs);

/* Sums partition p of every run of src[0..n_src) (flushed; all of one
 * order) into out (in slices, each decoding the runs again, when the
 * partition's items pass scratch->max_bytes: grams.c, plan_slices), a partition of a merged gram table (cs_gram entries of
 * out_stride bytes, as cs_table_new makes them for that order): each gram
 * once, its ids translated through remap[s] (remap[s][local id]: the
 * global id, of partition p for the first id), with its count and
 * doc_count; a gram whose count and doc_count both sum to 0 is left out,
 * and so is one that keep (NULL: keep all) turns down. Into an empty out
 * the grams go in id order and out gets room for every item of the runs
 * (at least every gram), unless it has entries already (malloc'd: a room
 * for a few, grown as needed when keep keeps few of them); a second call
 * on the same runs with another keep appends those it keeps (grams the
 * first left out). remap NULL keeps local
 * ids (one counter: tests). No two sources may share a document id
 * (cs_counter_init gives each thread its own). */
void cs_grams_merge_part(cs_grams *const *src, int n_src, const uint32_t *const *remap, unsigned p,
                         cs_part *out, size_t out_stride, cs_grams_scratch *scratch,
                         cs_gram_keep keep, void *ctx);

#endif
