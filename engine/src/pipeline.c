/*
 * pipeline.c - cs_count: inputs -> counted tables -> CSV. The only file with
 * OpenMP parallel regions, but for state.c's packing of a state's
 * partitions.
 *
 * DESIGN
 * Counting: one task per input. A mapped plain input is cut at document
 * boundaries into views of ~chunk_size bytes, one task each, no copy; a
 * view's pages are given back to the kernel as it is read (cs_map_release:
 * a plain view over 4 MiB, such as a whole file under --doc-sep file, is
 * fed in pieces for it; a JSONL view once counted, a record over 4 MiB as
 * it is read: cs_jsonl_text_mapped), so a large file does not stay in the
 * process's memory whole, and nor does a mapped zstd shard (reader.c); the
 * end of a document longer than 4 MiB is searched the same way
 * (cs_cut_first_mapped). Left resident: a page that straddles two views,
 * and the JSONL views under 4 MiB that the input task has scanned
 * ahead for line numbers while they wait for a thread. Any
 * other input (zstd, pipes) is decompressed sequentially by its input task
 * into a buffer; each time the buffer holds whole documents they become a
 * chunk task, the buffer going with the task and a fresh one from the pool
 * taking its place. When the pool is empty the input task counts the chunk
 * itself: that is the back-pressure that bounds memory to about
 * (3 x threads + inputs in flight) x chunk_size. Every task counts into the
 * table of the thread that runs it (tied tasks, no scheduling point inside a
 * chunk), so counting takes no lock.
 *
 * A document longer than a chunk is fed in pieces, in order, through one
 * streaming tokenizer by its input task, with no task created meanwhile, so
 * no other document interleaves on that thread's table (doc_count relies on
 * it). A JSONL record cannot be fed before it is checked whole: in a
 * buffered input, one longer than 4 MiB is written to a raw file in the
 * spill folder as it is read (the input task's thread's spool), then mapped
 * and counted inline as a plain file's long record is, its pages given
 * back: a record of any length, never in memory whole.
 *
 * All or nothing per input: a zstd shard that fails to decode has already
 * been partly counted. The input task then waits for its chunks and replays
 * the same reads of the shard, counting them inline with sign -1; counts
 * are sums, so the shard's contribution becomes exactly zero. The bad shard
 * costs a second read; good shards cost nothing extra. A pipe cannot be
 * read again, so a decode error there ends the run.
 *
 * Each thread's counter holds n-gram occurrences back in buffers (count.c:
 * up to 128 MiB for all orders, sorting included) and pair occurrences in
 * a buffer of 64 MiB, twice for sorting (pairs.c; a small --cooc doc
 * vocabulary adds its pair triangle, up to 64 MiB); both are sorted into
 * packed runs as they fill. When every task has run, each thread sorts
 * what its counter still holds, still inside the count phase.
 *
 * --memory: each thread's share of the budget goes a quarter to its term
 * table, a quarter to its gram and pair buffers and half to the runs it
 * holds; a counter whose runs of one kind pass their part writes them to
 * its file in a temporary folder (spill.h), and the merge reads them back
 * a partition at a time; a term table past its part is written there too,
 * at the next document's start, and starts empty (table.h, generations).
 * A spill that fails stops the reading (stopped_before) and the run (no
 * table); the folder is removed on every return (and by the CLI on a
 * signal).
 * When the merged n-gram tables or window pairs would pass a quarter of
 * the budget and --top or --min-count can cut them, their merge is lean
 * (merge_grams_lean, merge_pairs): it keeps only the keys that can be
 * rows (grams: under a bar it raises as it goes; pairs: in a second
 * merge). A gram partition past a thread's share of the budget is merged in
 * slices (grams.c), and merged terms past a quarter of it go to disk but
 * for their first two bytes (reduce.h). Before the term merge,
 * the runs still in memory are written out when they would crowd the
 * merge (spill_for_merge), and the gram merge's scratch takes what the
 * budget leaves beside the map of term ids (remap: 4 bytes a local id)
 * and the grams kept (merge_scratch); so does the merge of pairs, whose
 * partitions past it are merged in slices too (merge_pair_runs). The rows
 * are not bounded yet.
 *
 * Co-occurrence: window pairs are counted with the terms into each
 * thread's packed runs (about 3 bytes a distinct pair of a buffer); after
 * the term merge each partition of all runs is sorted and summed
 * (merge_pair_runs: the runs are freed after the last partition, so the
 * peak holds the runs and the summed pairs, 16 bytes each, together; a
 * lean merge keeps the runs until its last merge, one or two, and the
 * pairs at its cut only), then each term's margin is summed (merge_pairs). Document pairs
 * need their vocabulary first: from --cooc-terms it is known before
 * counting; for --cooc-vocab the inputs are read a second time once the
 * terms are merged (second_pass), counting pairs and nothing else.
 *
 * --state and merge (state.h): a state read from disk is one more merge
 * source, before the threads' counters (source(), n_sources()); the inputs
 * it has counted are dropped from the run's list before counting
 * (state_open), --retract files are appended to it and counted with sign
 * -1 (input_sign). The new state is written as the merge goes: every gram
 * summed passes through a sink into it before --top or --min-count decide
 * what the merged table keeps (merge_grams), then the pairs; it is
 * renamed into place after the tables' commit (state_commit). A merge
 * reads states only: its threads count nothing.
 *
 * Merging: partition p of every thread's term table is merged by one task
 * into the first thread's partition p (terms assign global ids); then a
 * task per order and partition sorts and sums that partition of every
 * thread's gram runs (merge_grams), then the pairs. With --top or
 * --min-count 2+, grams counted once are left out of the merge (counted,
 * and with --top binned by their first two key bytes); with --top the
 * runs are kept (through the pair merge too) until write_tables knows
 * whether the top reaches count 1, and if it does, a second merge adds
 * those it can reach (reduce.h, CS_PICK_*); its time counts as writing. Rows are sorted per
 * partition in parallel and merged in order by the writer, a table at a
 * time (write_tables).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "count.h"
#include "csv.h"
#include "jsonl.h"
#include "reader.h"
#include "reduce.h"
#include "rowrun.h"
#include "state.h"
#include "summary.h"
#include "tokenize.h"

/* Sets of pair margins summed at once, 8 bytes a term each: the threads
 * that sum them (merge_pairs), or share them (merge_pair_runs). */
#define MARGIN_THREADS 4
/* Bad records printed per input; the rest are counted and summarised. */
#define DIAGS_PER_INPUT 100

typedef struct diag {
    size_t input;
    uint64_t line, offset;
    cs_diag_kind kind;
    const char *why; /* static */
} diag;

/* One per thread, allocated by its thread, aligned to a cache line so two
 * threads' counters never share one. */
typedef struct worker {
    cs_counter counter;
    cs_tok *tok_ext;   /* documents given by the caller (file, JSONL) */
    cs_tok *tok_lines; /* line/blank documents */
    cs_buf scratch;    /* JSONL unescaping */
    cs_spill_file *spool; /* a long JSONL record of a buffered input (spool_write);
                             NULL until one; the spill's */
    cs_tok_stats st;
    diag *diags;
    size_t n_diags, cap_diags;
} __attribute__((aligned(CS_CACHE_LINE))) worker;

typedef struct pbuf {
    struct pbuf *next;
    size_t cap;
    uint8_t *data;
} pbuf;

/* A lean merge of one order's grams (merge_grams_lean). */
typedef struct lean {
    uint64_t bar;                   /* the rank a gram needs to be kept (cs_gram_rank) */
    uint64_t hist[CS_HIST_MAX + 1]; /* the counts of every gram counted */
    uint64_t kept_hist[CS_HIST_MAX + 1]; /* ... of those kept, in the partitions done */
    uint64_t kept, next_raise;
    uint8_t done[CS_N_PARTS];
    unsigned n_done;
    omp_lock_t lock;                /* over all of the above but bar's reads */
} lean;

typedef struct run {
    const cs_options *opt;
    cs_tok_config cfg_ext, cfg_lines;
    cs_strset *stopwords;
    cs_strset *vocab;  /* --cooc doc: its terms (from --cooc-terms, or chosen after pass 1) */
    uint32_t *vocab_gid; /* owned; [vocab index]: its global term id (UINT32_MAX: a listed
                            term the corpus never held), once the terms are merged */
    struct stat *seen; /* owned; two passes: each input as it was before the first */
    const uint8_t *skip; /* [input]: not read again (the second pass of --cooc doc) */
    cs_input_list inputs;
    cs_in_result *in;
    int nt;
    worker **w;
    size_t chunk;    /* bytes per chunk of a mapped input */
    size_t buf_size; /* bytes per decoding buffer: chunk, at least 4 */
    /* buffer pool */
    pbuf *free_bufs;
    int n_bufs, max_bufs;
    /* first error that stops the run (--strict, stdin), in input order */
    size_t stop_input; /* SIZE_MAX: none */
    uint64_t stop_pos;
    cs_error stop_err;
    cs_spill *spill; /* the runs written to disk under --memory, long JSONL records */
    size_t spool_failed; /* the input whose long JSONL record met the spill's error; SIZE_MAX */
    uint64_t spool_failed_line;
    uint64_t budget; /* --memory, in bytes */
    unsigned pair_levels; /* merges a pair goes through (merge_pair_runs) */
    /* A lean merge: of the grams, [order] (merge_grams_lean; owned), and of
     * the pairs, the cut it made, which write_tables takes as it is
     * (merge_pairs). */
    struct lean *lean[CS_NGRAM_MAX + 1];
    int lean_pairs;
    uint64_t pair_floor;
    /* The slices a lean pair merge's first pass planned for partition p,
     * which its second reads the same runs with (merge_pair_runs). */
    struct pair_plan {
        uint64_t *cuts; /* owned; NULL: none kept */
        size_t n, biggest;
    } pair_plan[CS_N_PARTS];
    /* Without --top, under a budget the merged n-grams or window pairs would
     * not fit: what the merge summed, written out (merge_grams_rows,
     * merge_pairs), then the rows made of it (rows_of_sums), as runs on
     * disk; [order] ([CS_PAIRS]: the pairs) NULL otherwise. */
    cs_rowrun **sums[CS_NGRAM_MAX + 1];  /* owned; [order][thread]: the summed grams
                                            ([CS_PAIRS]: window pairs) written out, until
                                            rows_of_sums makes them rows (NULL: none) */
    cs_spill_file **sum_files;           /* owned (the files: the spill); [thread] */
    cs_rows *row_runs[CS_NGRAM_MAX + 1]; /* owned */
    size_t n_row_runs[CS_NGRAM_MAX + 1], cap_row_runs[CS_NGRAM_MAX + 1];
    unsigned char to_rows[CS_NGRAM_MAX + 1]; /* [order]: merged by merge_grams_rows
                                                ([CS_PAIRS]: merge_pairs) into rows */
    cs_spill_file **row_spill[CS_NGRAM_MAX + 1]; /* owned (the files: the spill); [order]: the
                                                    threads' files of its runs, then fan_in's */
    uint64_t rows_out;   /* runs of rows written out (make_rows, rows_of_sums) */
    uint64_t row_merges; /* merges of runs of rows into one before a table's (fan_in) */
    unsigned order_passes[CS_NGRAM_MAX + 1], pair_passes; /* merges of each order's runs */
    uint64_t merge_slices; /* the slices of gram and pair partitions merged in slices */
    /* --state and corpusstat merge (state.h) */
    cs_options eff;    /* the options in force: the caller's, with a merge's
                          tables' kinds taken from its states */
    cs_state **states; /* owned; read states: merge sources after the threads' counters */
    int n_states;
    cs_state *next;    /* owned; the state this run writes (its counts: m) */
    cs_state_input *fresh; /* owned; [input]: a new input as it was before counting */
    uint64_t already;  /* inputs not read: the state had counted them */
    size_t first_retract; /* inputs from here on are retracted: counted with sign -1 */
    int lock_fd;       /* --state DIR/.lock, held for the run; -1 */
    char *state_tmp;   /* owned; the new state file until it is renamed into place */
    cs_tmp_path *state_tmp_reg; /* owned; state_tmp on the list a signal removes */
    cs_state_writer *sw; /* owned; writing state_tmp as the merge goes */
    /* progress */
    uint64_t done, total;
    double t0;
    uint64_t last_report_ms; /* since t0 */
} run;

typedef struct chunk {
    size_t input;
    const uint8_t *data;
    size_t len;
    pbuf *owner;         /* released after counting; NULL for views of a mapping */
    uint64_t first_line; /* JSONL: line number of data[0] */
    uint64_t offset;     /* decoded byte offset of data[0] */
    uint64_t progress;   /* input bytes this chunk stands for (mapped inputs) */
    int64_t sign;
    int view;            /* data is part of a file mapping, read once: given back as read */
} chunk;

/* ------------------------------------------------------------------ */
/* small shared state                                                   */

/* This process's VmRSS and VmHWM (its peak), in kB; -1 when unknown. */
static void vm_kb(long *rss, long *hwm)
{
    *rss = *hwm = -1;
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "VmRSS: %ld", rss);
        sscanf(line, "VmHWM: %ld", hwm);
    }
    if (f)
        fclose(f);
}

/* CORPUSSTAT_TRACE set: a line on stderr at each step of the run, with
 * the time since the start, the resident set now and at its peak, and the
 * heap in use (what malloc holds for the program, not what it keeps
 * freed): to see where a budget's memory goes (bench/NOTES.md). */
static void trace(const run *r, const char *what)
{
    static int on = -1;
    if (on < 0)
        on = getenv("CORPUSSTAT_TRACE") != NULL;
    if (!on)
        return;
    long rss, hwm;
    vm_kb(&rss, &hwm);
    const struct mallinfo2 mi = mallinfo2();
    fprintf(stderr, "trace %8.2f s  rss %6ld MB  peak %6ld MB  heap %6zu MB  %s\n",
            cs_now() - r->t0, rss >> 10, hwm >> 10, (mi.uordblks + mi.hblkhd) >> 20, what);
}

static pbuf *pool_get(run *r, int force)
{
    pbuf *b = NULL;
    int alloc = 0;
#pragma omp critical(cs_pool)
    {
        if (r->free_bufs) {
            b = r->free_bufs;
            r->free_bufs = b->next;
        } else if (force || r->n_bufs < r->max_bufs) {
            r->n_bufs++;
            alloc = 1;
        }
    }
    if (alloc) {
        b = cs_xmalloc(sizeof *b);
        b->cap = r->buf_size;
        b->data = cs_xmalloc(b->cap);
    }
    return b;
}

static void pool_put(run *r, pbuf *b)
{
    if (!b)
        return;
    if (b->cap != r->buf_size) { /* grown for a long JSONL line: do not keep it */
        free(b->data);
        free(b);
#pragma omp critical(cs_pool)
        r->n_bufs--;
        return;
    }
#pragma omp critical(cs_pool)
    {
        b->next = r->free_bufs;
        r->free_bufs = b;
    }
}

static void progress_add(run *r, uint64_t n)
{
    if (!n)
        return;
    uint64_t done = __atomic_add_fetch(&r->done, n, __ATOMIC_RELAXED);
    if (!r->opt->on_progress)
        return;
    double now = cs_now() - r->t0;
    uint64_t ms = (uint64_t)(now * 1000);
    /* A few reports a second: one thread wins each slot. */
    uint64_t last = __atomic_load_n(&r->last_report_ms, __ATOMIC_RELAXED);
    if (ms < last + 250 ||
        !__atomic_compare_exchange_n(&r->last_report_ms, &last, ms, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED))
        return;
#pragma omp critical(cs_progress)
    r->opt->on_progress(r->opt->user, done, r->total, now);
}

/* Inputs after the first stopping error need no work. */
static int stopped_before(run *r, size_t input)
{
    /* A spill that failed stops the run too: what is left would not be
     * written. */
    return __atomic_load_n(&r->stop_input, __ATOMIC_RELAXED) < input || cs_spill_error(r->spill);
}

/* Records an error that stops the run; the first in input order wins.
 * `pos` orders errors within an input: the decoded byte offset where it was
 * found. The message shows `line`, or `offset` (compressed for zstd). */
static void stop_at(run *r, size_t input, uint64_t pos, uint64_t line, uint64_t offset,
                    int has_offset, const char *prefix, const char *why)
{
#pragma omp critical(cs_stop)
    if (input < r->stop_input || (input == r->stop_input && pos < r->stop_pos)) {
        cs_error_set(&r->stop_err, CS_ERR_INPUT, r->inputs.v[input].path, "%s%s", prefix, why);
        r->stop_err.line = line;
        r->stop_err.offset = offset;
        r->stop_err.has_offset = has_offset;
        __atomic_store_n(&r->stop_input, input, __ATOMIC_RELAXED);
        r->stop_pos = pos;
    }
}

static void add_diag(worker *w, size_t input, uint64_t line, uint64_t offset, cs_diag_kind kind,
                     const char *why)
{
    if (w->n_diags == w->cap_diags) {
        w->cap_diags = w->cap_diags ? w->cap_diags * 2 : 64;
        w->diags = cs_xrealloc(w->diags, w->cap_diags * sizeof *w->diags);
    }
    w->diags[w->n_diags++] = (diag){input, line, offset, kind, why};
}

static worker *me(run *r)
{
    return r->w[omp_get_thread_num()];
}

/* The merge's sources: the states read, then the threads' counters. A
 * state first: its term partitions become the merged ones as they are
 * (cs_merge_terms_part), the largest table is not inserted again, and
 * its grams stay in id order through the remap, so the gram merge sorts
 * only the threads' (cs_grams.sorted). */
static int n_sources(const run *r)
{
    return r->nt + r->n_states;
}

static cs_counter *source(const run *r, int s)
{
    return s < r->n_states ? &r->states[s]->counter : &r->w[s - r->n_states]->counter;
}

/* -1 for an input being retracted (--retract: counted to be taken out of
 * a state), else 1. */
static int64_t input_sign(const run *r, size_t input)
{
    return input >= r->first_retract ? -1 : 1;
}

/* *a += sign * b, field by field. */
static void add_tok_stats(cs_tok_stats *a, const cs_tok_stats *b, int64_t sign)
{
    a->documents += sign * b->documents;
    a->segments += sign * b->segments;
    a->tokens += sign * b->tokens;
    a->excluded += sign * b->excluded;
    a->long_dropped += sign * b->long_dropped;
    a->invalid_utf8 += sign * b->invalid_utf8;
}

/* Moves a tokenizer's stats into its thread's totals and its input's. */
static void take_stats(run *r, worker *w, cs_tok *t, size_t input, int64_t sign)
{
    cs_tok_stats s = cs_tok_take_stats(t);
    add_tok_stats(&w->st, &s, sign);
    if (s.documents)
        __atomic_add_fetch(&r->in[input].documents, sign * s.documents, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* counting a chunk of whole documents (serial; any thread)             */

/* A mapped file's pages count in the process's memory once read: a view
 * longer than this (a whole file under --doc-sep file, a long document or
 * record) is read in pieces of this much, each given back once read. */
#define VIEW_PIECE ((size_t)4 << 20)

/* The first LF in p[0..n), or NULL; in a view longer than a piece, the
 * pages searched are given back as the search passes them. */
static const uint8_t *line_end(const uint8_t *p, size_t n, int view)
{
    if (!view || n <= VIEW_PIECE)
        return memchr(p, '\n', n);
    size_t given = 0;
    for (size_t at = 0; at < n; at += VIEW_PIECE) {
        const size_t k = n - at < VIEW_PIECE ? n - at : VIEW_PIECE;
        const uint8_t *nl = memchr(p + at, '\n', k);
        if (nl)
            return nl;
        cs_map_release_upto(p, &given, at + k); /* the line is longer than a piece */
    }
    return NULL;
}

/* A record's text as cs_jsonl_text_mapped hands it over: the document
 * begins with the first piece, once the record is known to be good. */
typedef struct {
    cs_tok *tok;
    int begun;
} text_feed;

static void feed_text(void *ctx, const uint8_t *p, size_t n)
{
    text_feed *f = ctx;
    if (!f->begun) {
        cs_tok_doc_begin(f->tok);
        f->begun = 1;
    }
    cs_tok_feed(f->tok, p, n);
}

static void count_jsonl(run *r, worker *w, const chunk *c)
{
    const uint8_t *p = c->data, *end = c->data + c->len;
    uint64_t line = c->first_line, off = c->offset;
    while (p < end) {
        const uint8_t *nl = line_end(p, (size_t)(end - p), c->view);
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *why = NULL;
        text_feed f = {w->tok_ext, 0};
        cs_jsonl_result res;
        if (c->view && n > VIEW_PIECE) {
            /* A record longer than a piece: checked, then its text read,
             * a piece at a time, never resident whole. */
            res = cs_jsonl_text_mapped(p, n, r->opt->text_field, &w->scratch, VIEW_PIECE,
                                       feed_text, &f, &why);
        } else {
            const uint8_t *text;
            size_t text_len;
            res = cs_jsonl_text(p, n, r->opt->text_field, &w->scratch, &text, &text_len, &why);
            if (res == CS_JSONL_OK)
                feed_text(&f, text, text_len);
        }
        if (res == CS_JSONL_OK) {
            if (!f.begun) /* an empty text handed over in no piece: still a document */
                cs_tok_doc_begin(w->tok_ext);
            cs_tok_doc_end(w->tok_ext);
        }
        if (res == CS_JSONL_BAD) {
            __atomic_add_fetch(&r->in[c->input].bad_records, c->sign, __ATOMIC_RELAXED);
            if (c->sign > 0 && input_sign(r, c->input) > 0) { /* (reported when counted) */
                add_diag(w, c->input, line, off, CS_DIAG_BAD_RECORD, why);
                if (r->opt->strict)
                    stop_at(r, c->input, off, line, off, 1, "bad record: ", why);
            }
        }
        p += n + (nl != NULL);
        off += n + (nl != NULL);
        line++;
    }
}

static void feed(cs_tok *t, const chunk *c)
{
    if (!c->view) {
        cs_tok_feed(t, c->data, c->len);
        return;
    }
    size_t given = 0;
    for (size_t off = 0; off < c->len; off += VIEW_PIECE) {
        const size_t k = c->len - off < VIEW_PIECE ? c->len - off : VIEW_PIECE;
        cs_tok_feed(t, c->data + off, k);
        cs_map_release_upto(c->data, &given, off + k);
    }
}

static void count_chunk(run *r, const chunk *c)
{
    worker *w = me(r);
    if (!stopped_before(r, c->input)) {
        const cs_input *in = &r->inputs.v[c->input];
        w->counter.sign = c->sign;
        cs_tok *t;
        if (in->format == CS_FORMAT_JSONL) {
            t = w->tok_ext;
            cs_tok_reset(t);
            count_jsonl(r, w, c);
            if (c->view)
                cs_map_release(c->data, c->len);
        } else if (r->opt->doc_sep == CS_DOCSEP_FILE) {
            t = w->tok_ext;
            cs_tok_reset(t);
            cs_tok_doc_begin(t);
            feed(t, c);
            cs_tok_doc_end(t);
        } else {
            t = w->tok_lines;
            cs_tok_reset(t);
            feed(t, c);
            cs_tok_finish(t);
        }
        take_stats(r, w, t, c->input, c->sign);
    }
    progress_add(r, c->progress);
    pool_put(r, c->owner);
}

/* Runs the chunk as a task on any thread. (Counting inline, when there is
 * no buffer to spare or while taking a shard back, calls count_chunk.) */
static void dispatch(run *r, chunk c)
{
#pragma omp task default(none) firstprivate(r, c)
    count_chunk(r, &c);
}

static uint64_t count_lines(const uint8_t *p, size_t n)
{
    uint64_t k = 0;
    const uint8_t *end = p + n;
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        k++;
        p++;
    }
    return k;
}

static cs_cut_mode cut_mode(const run *r, const cs_input *in)
{
    if (in->format == CS_FORMAT_JSONL)
        return CS_CUT_JSONL;
    switch (r->opt->doc_sep) {
    case CS_DOCSEP_LINE: return CS_CUT_LINE;
    case CS_DOCSEP_BLANK: return CS_CUT_BLANK;
    default: return CS_CUT_NONE;
    }
}

/* ------------------------------------------------------------------ */
/* a mapped plain input: views, no copies                              */

static void input_mapped(run *r, size_t idx, const uint8_t *p, size_t n)
{
    const cs_input *in = &r->inputs.v[idx];
    cs_cut_mode mode = cut_mode(r, in);
    r->in[idx].decoded = n;
    uint64_t off = 0, line = 1;
    if (in->format == CS_FORMAT_JSONL && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        off = 3; /* a BOM opens the file, not the first record */
    if (mode == CS_CUT_NONE) {
        dispatch(r, (chunk){.input = idx, .data = p, .len = n, .first_line = 1, .progress = n,
                            .sign = input_sign(r, idx), .view = 1});
        return;
    }
    progress_add(r, off);
    while (off < n) {
        if (stopped_before(r, idx))
            return;
        size_t len = n - off, c = len;
        /* Look for a boundary in a window of one chunk; widen it for a
         * document longer than that. */
        for (size_t win = r->chunk; win < len; win *= 2) {
            if (win > VIEW_PIECE) {
                /* No boundary in VIEW_PIECE bytes: a long document. Its
                 * end, searched forward, its pages given back as read
                 * (feeding reads them again, from the page cache): a
                 * document larger than memory is never resident whole.
                 * The first boundary is one, whatever the line at off. */
                c = cs_cut_first_mapped(p + off, len, mode);
                c = c ? c : len;
                break;
            }
            c = cs_cut(p + off, win, mode, 0);
            if (c)
                break;
            c = len;
        }
        chunk ch = {.input = idx, .data = p + off, .len = c, .first_line = line, .offset = off,
                    .progress = c, .sign = input_sign(r, idx), .view = 1};
        if (mode == CS_CUT_JSONL) {
            /* a piece at a time, each given back: a record may be longer
             * than memory */
            size_t given = 0;
            for (size_t at = 0; at < c; at += VIEW_PIECE) {
                const size_t k = c - at < VIEW_PIECE ? c - at : VIEW_PIECE;
                line += count_lines(p + off + at, k);
                if (c > VIEW_PIECE)
                    cs_map_release_upto(p + off, &given, at + k);
            }
        }
        dispatch(r, ch);
        off += c;
    }
}

/* ------------------------------------------------------------------ */
/* a decoded or piped input: buffers                                    */

/* The oversized document an input task is streaming, if any. */
typedef struct stream_state {
    cs_tok *tok;  /* owned; made on first use (most inputs never need one) */
    const cs_tok_config *cfg;
    int open;     /* a document is being fed */
    size_t input;
    int64_t sign;
    int external; /* documents begin and end with the stream (file, JSONL) */
} stream_state;

/* Feeds n bytes of the document (opening it first if need be), then closes
 * it when `close` says so. Counts go to the running thread's counter: no
 * task is created while a document is open, so that thread never changes. */
static void stream(run *r, stream_state *s, const uint8_t *p, size_t n, int close)
{
    worker *w = me(r);
    if (!s->tok)
        s->tok = cs_tok_new(s->cfg);
    w->counter.sign = s->sign;
    cs_tok_set_sink(s->tok, cs_counter_consume, &w->counter);
    if (!s->open) {
        cs_tok_reset(s->tok);
        if (s->external)
            cs_tok_doc_begin(s->tok);
        s->open = 1;
    }
    cs_tok_feed(s->tok, p, n);
    if (close) {
        if (s->external)
            cs_tok_doc_end(s->tok);
        else
            cs_tok_finish(s->tok);
        s->open = 0;
    }
    take_stats(r, w, s->tok, s->input, s->sign);
}

/* A JSONL record of a buffered input longer than a piece, on its way to
 * the running thread's spool file (spool_write), then counted from there
 * (spool_count). No task is created while a record is open (it ends at
 * the first line end the reads bring, where it is counted at once), so
 * the thread stays the same and the file holds one record at a time. */
typedef struct spool_state {
    int open;       /* a record is being written */
    uint64_t line;  /* its line number */
    uint64_t off;   /* its decoded offset */
} spool_state;

/* Appends n bytes of the record. A write that fails (a full disk) keeps
 * its error in the spill, which stops the reading and fails the run; the
 * record is named in the message (spill_failed), since a run without
 * --memory writes nothing else there. */
static void spool_write(run *r, size_t idx, const spool_state *sp, const uint8_t *p, size_t n)
{
    worker *w = me(r);
    if (!w->spool) {
        char name[32];
        snprintf(name, sizeof name, "t%d-record", omp_get_thread_num());
        w->spool = cs_spill_file_raw(r->spill, name);
    }
    const int ok_before = !cs_spill_error(r->spill);
    if (cs_spill_append(w->spool, p, n) != 0 && ok_before) {
#pragma omp critical(cs_spool_failed)
        if (r->spool_failed == SIZE_MAX) {
            r->spool_failed = idx;
            r->spool_failed_line = sp->line;
        }
    }
}

/* The record is whole in the spool: mapped and counted inline, as a long
 * record of a mapped input is (its pages given back as read), then the
 * file is emptied. Not counted when the spool could not be written. */
static void spool_count(run *r, size_t idx, const spool_state *sp, int64_t sign)
{
    cs_spill_file *f = me(r)->spool;
    const size_t n = (size_t)cs_spill_file_size(f);
    if (!cs_spill_error(r->spill)) {
        void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, cs_spill_file_fd(f), 0);
        if (m == MAP_FAILED)
            cs_out_of_memory("a mapping of a long JSONL record");
        madvise(m, n, MADV_SEQUENTIAL);
        cs_map_slot *slot = cs_map_track(m, n, cs_spill_file_path(f));
        chunk ch = {.input = idx, .data = m, .len = n, .first_line = sp->line,
                    .offset = sp->off, .sign = sign, .view = 1};
        count_chunk(r, &ch);
        cs_map_untrack(slot);
        munmap(m, n);
    }
    cs_spill_file_rewind(f);
}

/* Reads input idx through buffers and counts it with `sign`. Returns 0 at
 * the end of input, -1 on a read or decode error (*why, *err_off); *reads
 * is the number of reads done before.
 *
 * Taking a shard back (sign -1) runs this again with max_reads = the first
 * pass's *reads, everything counted inline. Both passes then read the same
 * bytes into buffers of the same sizes (a buffer grown for a long JSONL
 * line is never swapped for a pool one), so they cut the same chunks,
 * stream the same pieces and spool the same records, and stop at the same
 * byte: every count of the first pass is matched by one of the second. */
static int input_buffered(run *r, size_t idx, cs_source *src, int64_t sign, uint64_t max_reads,
                          uint64_t *reads, const char **why, uint64_t *err_off)
{
    const cs_input *in = &r->inputs.v[idx];
    const cs_cut_mode mode = cut_mode(r, in);
    const int external = (mode == CS_CUT_NONE || mode == CS_CUT_JSONL);
    const int replay = max_reads != UINT64_MAX; /* a take-back: inline, no progress */
    pbuf *b = pool_get(r, 1);
    size_t len = 0;       /* bytes in b, always < b->cap between reads */
    uint64_t base = 0;    /* decoded offset of b->data[0] */
    uint64_t line = 1;    /* JSONL line number of b->data[0] */
    uint64_t consumed = 0;
    int bom_checked = (in->format != CS_FORMAT_JSONL);
    spool_state sp = {0}; /* JSONL: a record too long to hold, being spooled */
    int emitted = 0, rc = 0, at_end = 0;
    stream_state ss = {NULL, external ? &r->cfg_ext : &r->cfg_lines, 0, idx, sign, external};
    *reads = 0;
    while (!at_end && *reads < max_reads && !stopped_before(r, idx)) {
        size_t got = 0;
        if (cs_source_read(src, b->data + len, b->cap - len, &got, why, err_off) < 0) {
            rc = -1;
            break;
        }
        ++*reads;
        uint64_t now = cs_source_consumed(src);
        if (!replay)
            progress_add(r, now - consumed);
        consumed = now;
        len += got;
        at_end = (got == 0);
        if (!bom_checked && (len >= 3 || at_end)) {
            bom_checked = 1;
            if (len >= 3 && memcmp(b->data, "\xEF\xBB\xBF", 3) == 0) {
                memmove(b->data, b->data + 3, len - 3);
                len -= 3;
                base += 3;
            }
        }
        if (!bom_checked)
            continue; /* fewer than 3 bytes so far: wait for more */
        size_t start = 0;
        if (sp.open) {
            /* the rest of a long record, up to its end if it is here */
            const uint8_t *nl = memchr(b->data, '\n', len);
            start = nl ? (size_t)(nl - b->data) + 1 : len;
            spool_write(r, idx, &sp, b->data, start);
            if (nl || at_end) {
                spool_count(r, idx, &sp, sign);
                sp.open = 0;
                line += (nl != NULL);
            }
        }
        if (ss.open) {
            /* the rest of an oversized document, up to its end if it is here */
            size_t c = at_end ? len : cs_cut_first(b->data, len, mode);
            size_t n = c ? c : len;
            stream(r, &ss, b->data, n, 0);
            start = n;
            /* cs_cut_first only finds ends of documents; the idle check
             * guards the return to fresh tokenizers all the same. */
            if (c && (at_end || cs_tok_idle(ss.tok)))
                stream(r, &ss, NULL, 0, 1);
        }
        if (!ss.open && start < len) {
            size_t c = cs_cut(b->data + start, len - start, mode, at_end);
            if (c) {
                chunk ch = {.input = idx, .data = b->data + start, .len = c, .first_line = line,
                            .offset = base + start, .sign = sign};
                if (mode == CS_CUT_JSONL)
                    line += count_lines(b->data + start, c);
                size_t tail = len - start - c;
                pbuf *nb = (!replay && b->cap == r->buf_size) ? pool_get(r, 0) : NULL;
                if (nb) {
                    memcpy(nb->data, b->data + start + c, tail);
                    ch.owner = b;
                    dispatch(r, ch);
                    b = nb;
                    base += start + c;
                    len = tail;
                    start = 0;
                } else {
                    count_chunk(r, &ch);
                    start += c;
                }
                emitted = 1;
            }
        }
        if (at_end && mode == CS_CUT_NONE && !emitted && !ss.open) {
            /* an empty file is still one document */
            chunk ch = {.input = idx, .data = b->data, .first_line = 1, .offset = base,
                        .sign = sign};
            count_chunk(r, &ch);
        }
        if (start == 0 && len == b->cap) {
            /* a full buffer and no boundary: an oversized document */
            if (mode != CS_CUT_JSONL) {
                stream(r, &ss, b->data, len, 0);
                emitted = 1;
                start = len;
            } else if (b->cap < VIEW_PIECE) {
                b->cap = b->cap < VIEW_PIECE / 2 ? b->cap * 2 : VIEW_PIECE;
                b->data = cs_xrealloc(b->data, b->cap);
            } else {
                /* a record longer than a piece: to the spool, its end
                 * searched in what the next reads bring */
                sp = (spool_state){.open = 1, .line = line, .off = base};
                spool_write(r, idx, &sp, b->data, len);
                start = len;
            }
        }
        memmove(b->data, b->data + start, len - start);
        base += start;
        len -= start;
        if (b->cap > r->buf_size && len < r->buf_size && !sp.open) {
            /* The long record is behind: back to a buffer of the pool's
             * size, which chunks can take again (a grown one is counted
             * inline) and the pool can keep. (The take-back shrinks it at
             * the same read.) */
            b->cap = r->buf_size;
            b->data = cs_xrealloc(b->data, b->cap);
        }
    }
    /* A document still open at an error or where a take-back stops stays
     * open: the first pass never finished it either. So does a record
     * being spooled: never counted. */
    if (ss.open && at_end)
        stream(r, &ss, NULL, 0, 1);
    if (sp.open)
        cs_spill_file_rewind(me(r)->spool);
    cs_tok_free(ss.tok);
    pool_put(r, b);
    r->in[idx].decoded = base + len;
    return rc;
}

static void input_task(run *r, size_t idx)
{
    const cs_input *in = &r->inputs.v[idx];
    cs_in_result *res = &r->in[idx];
    if (r->skip && r->skip[idx]) {
        progress_add(r, in->size); /* as its first reading did */
        return;
    }
    if (stopped_before(r, idx))
        return;
    const char *why = in->error;
    cs_source *src = why ? NULL : cs_source_open(in, &why);
    if (!src) {
        res->status = CS_IN_UNREADABLE;
        res->error = cs_xstrdup(why);
        add_diag(me(r), idx, 0, 0, CS_DIAG_UNREADABLE, NULL);
        if (r->opt->strict || in->is_stdin)
            stop_at(r, idx, 0, 0, 0, 0, "", why);
        progress_add(r, in->size);
        return;
    }
    const uint8_t *p;
    size_t n;
    if (cs_source_view(src, &p, &n)) {
        input_mapped(r, idx, p, n);
#pragma omp taskwait
        cs_source_close(src);
        return;
    }
    uint64_t reads = 0, err_off = 0;
    const int64_t sign = input_sign(r, idx);
    int rc = input_buffered(r, idx, src, sign, UINT64_MAX, &reads, &why, &err_off);
#pragma omp taskwait
    const uint64_t decoded = res->decoded;
    const int is_zst = cs_source_is_zst(src), rereadable = cs_source_is_mapped(src);
    cs_source_close(src);
    if (rc == 0)
        return;
    res->status = CS_IN_UNDECODABLE;
    res->error_offset = err_off;
    res->has_offset = 1;
    size_t elen = strlen(why) + 8;
    res->error = cs_xmalloc(elen);
    snprintf(res->error, elen, "%s%s", is_zst ? "zstd: " : "", why);
    /* A shard retracted was reported when it was counted; under --strict it
     * could not have been counted (it stopped that run). */
    if (sign > 0)
        add_diag(me(r), idx, 0, err_off, CS_DIAG_UNDECODABLE, NULL);
    if ((r->opt->strict && sign > 0) || !rereadable) {
        /* A pipe or stdin cannot be read again to take its counts back. */
        stop_at(r, idx, decoded, 0, err_off, 1, "", res->error);
        return;
    }
    /* Take the shard back: count what was counted again, with the other sign. */
    const char *why2;
    uint64_t reads2 = 0, off2;
    src = cs_source_open(in, &why2);
    if (src) {
        input_buffered(r, idx, src, -sign, reads, &reads2, &why2, &off2);
        cs_source_close(src);
    }
    if (!src || reads2 != reads || res->decoded != decoded) /* it changed under us */
        stop_at(r, idx, decoded, 0, err_off, 1, "",
                "changed while being read; cannot take back its partial counts");
    res->decoded = decoded;
}

/* Called by every thread of a parallel region: one task per input (those
 * not skipped), then each thread sorts what its counter still holds into
 * runs (count.c), still inside the count phase: the single's barrier has
 * run every task by then. */
static void count_inputs(run *r)
{
#pragma omp single
    for (size_t i = 0; i < r->inputs.n; i++) {
#pragma omp task default(none) firstprivate(r, i)
        input_task(r, i);
    }
    cs_counter_flush(&r->w[omp_get_thread_num()]->counter);
}

/* ------------------------------------------------------------------ */
/* output                                                               */

static void write_rows(cs_csv *w, const cs_merged *m, unsigned order, cs_rows *src, size_t n,
                       uint64_t top)
{
    cs_rowmerge g;
    cs_rowmerge_init(&g, m, order, src, n);
    const cs_row *row;
    char lead[16] = "";
    int lead_len = order > 1 ? snprintf(lead, sizeof lead, "%u,", order) : 0;
    for (uint64_t k = 0; k < top && (row = cs_rowmerge_next(&g)) != NULL; k++)
        cs_csv_row(w, lead, (size_t)lead_len, row->key, row->len, row->count, row->docs);
    cs_rowmerge_free(&g);
}

/* cooc.csv rows: term_a,term_b,count,pmi,npmi,llr. */
static void write_pairs(cs_csv *w, const cs_merged *m, cs_rows *src, size_t n, uint64_t top)
{
    cs_rowmerge g;
    cs_rowmerge_init(&g, m, CS_PAIRS, src, n);
    const cs_row *row;
    for (uint64_t k = 0; k < top && (row = cs_rowmerge_next(&g)) != NULL; k++) {
        const uint8_t *a = row->key, *b = (const uint8_t *)memchr(a, 0, row->len) + 1; /* a NUL b */
        const uint32_t la = (uint32_t)(b - 1 - a), lb = row->len - la - 1;
        cs_csv_field(w, &a, &la, 1);
        cs_csv_raw(w, ",", 1);
        cs_csv_field(w, &b, &lb, 1);
        cs_csv_raw(w, ",", 1);
        const unsigned __int128 units = cs_row_units(row);
        if (m->unit == 1)
            cs_csv_u128(w, units);
        else /* harmonic: a decimal; the whole part exact, so only the fraction rounds */
            cs_csv_double(w, (double)(units / m->unit) + (double)(units % m->unit) / (double)m->unit);
        const double *ms = cs_rowmerge_measure(&g);
        for (int i = 0; i < 3; i++) {
            cs_csv_raw(w, ",", 1);
            cs_csv_double(w, ms[i]);
        }
        cs_csv_raw(w, "\n", 1);
    }
    cs_rowmerge_free(&g);
}

/* Errors name the file as the user will look for it: under -o DIR. */
static void output_error(cs_error *err, const run *r, const char *name, const char *what, int e)
{
    char path[4096], buf[256];
    snprintf(path, sizeof path, "%s/%s", r->opt->out_dir, name);
    /* strerror_r: two files may fail at once, on two threads (GNU form) */
    cs_error_set(err, CS_ERR_OUTPUT, path, "%s: %s", what, strerror_r(e, buf, sizeof buf));
}

/* The first-two-bytes bucket that the `need` smallest keys of a histogram
 * by their first two bytes reach: CS_TIE_ALL when they are fewer. */
static unsigned tie_bucket(const uint64_t *hist, uint64_t need)
{
    uint64_t sum = 0;
    for (unsigned b = 0; b < CS_TIE_ALL; b++)
        if ((sum += hist[b]) >= need)
            return b;
    return CS_TIE_ALL;
}

/* For each table k with need[k] > 0 (its top has room for only need[k] of
 * the rows counted floor[k], fewer than there are): the first-two-bytes
 * bucket that the need[k] smallest of them reach (cs_tie_hist_part), into
 * tie_max[k]. A table at a time: each thread adds into its own histogram
 * (512 KiB a thread). */
static void tie_cuts(const cs_merged *m, const unsigned *order, int n_tabs, const uint64_t *floor,
                     const uint64_t *need, unsigned *tie_max, int nt)
{
    enum { B = CS_TIE_ALL + 1 };
    uint64_t *hist = NULL;
    for (int k = 0; k < n_tabs; k++) {
        if (!need[k])
            continue;
        if (!hist)
            hist = cs_xmalloc((size_t)nt * B * sizeof *hist);
        memset(hist, 0, (size_t)nt * B * sizeof *hist);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) default(none) \
    shared(m, order, floor, hist, k)
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            cs_tie_hist_part(m, order[k], p, floor[k], hist + (size_t)omp_get_thread_num() * B);
        for (int t = 1; t < nt; t++) /* the threads' into the first's */
            for (unsigned b = 0; b < B; b++)
                hist[b] += hist[(size_t)t * B + b];
        tie_max[k] = tie_bucket(hist, need[k]);
    }
    free(hist);
}

typedef struct row_maker row_maker;
static void merge_grams(run *r, cs_merged *m, const unsigned *orders, int n,
                        const cs_gram_pick *pick, uint64_t *hist, uint64_t *once, int first,
                        row_maker *makers);
static void free_gram_runs(run *r);
static uint64_t rows_room(const run *r, const cs_merged *m);
static void make_rows(run *r, const cs_merged *m, unsigned order, uint64_t floor,
                      unsigned tie_max, uint64_t room, cs_spill_file *const *files,
                      cs_rows *rows);
static void fan_in(run *r, const cs_merged *m, unsigned order);
static void free_row_runs(run *r, unsigned order);
static void rows_of_sums(run *r, cs_merged *m);

/* Where --top K cuts a table whose count histogram (cs_count_hist_part) is
 * hist, rows counted under min_count left out: the floor, the smallest
 * count a row of the top can have. *need > 0 when more rows are counted
 * exactly the floor than the top has room for: only the need smallest
 * keys of those can be rows (cs_tie_hist_part). */
static uint64_t top_floor(const uint64_t *hist, uint64_t top, uint64_t min_count, uint64_t *need)
{
    uint64_t floor = min_count, t = cs_top_threshold(hist, top), above = 0;
    if (t > floor)
        floor = t;
    for (uint64_t c = floor + 1; c <= CS_HIST_MAX; c++)
        above += hist[c];
    *need = floor >= 1 && floor < CS_HIST_MAX &&
                    above < top /* always, when the floor is the top's: a guard */ &&
                    hist[floor] > top - above
                ? top - above
                : 0;
    return floor;
}

/* The first error reading back a spilled run or a state's (their messages
 * name the file), or NULL. */
static const char *read_error(const run *r)
{
    const char *e = cs_spill_error(r->spill);
    for (int k = 0; !e && k < r->n_states; k++)
        e = cs_state_read_error(r->states[k]);
    return e;
}

/* The run ends on a spill error (cs_spill_error's message names the
 * folder or file): no table is written. */
static cs_status spill_failed(run *r, cs_error *err)
{
    if (r->spool_failed != SIZE_MAX && cs_spill_error(r->spill))
        cs_error_set(err, CS_ERR_OUTPUT, NULL,
                     "%s (writing a JSONL record longer than 4 MiB there, to read it: %s, "
                     "line %" PRIu64 ")",
                     cs_spill_error(r->spill), r->inputs.v[r->spool_failed].path,
                     r->spool_failed_line);
    else
        cs_error_set(err, CS_ERR_OUTPUT, NULL, "%s", read_error(r));
    return CS_ERR_OUTPUT;
}

/* Merged terms on disk: holds those the rows of the n-grams and pairs
 * will need (their keys, their ties, the pairs' measures), as
 * cs_rows_part will make them (floor, tie_max); the terms' own rows read
 * their partition back whole. */
static void hold_row_terms(run *r, cs_merged *m, const unsigned *order, int n_tabs,
                           const uint64_t *floor, const unsigned *tie_max)
{
    uint64_t **want = cs_xmalloc(CS_N_PARTS * sizeof *want);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        want[p] = cs_xcalloc(((size_t)m->vocab[p].n + 63) / 64 + 1, sizeof **want);
    const int n_tasks = (n_tabs - 1) * (int)CS_N_PARTS, nt = r->nt;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) default(none) \
    shared(m, order, floor, tie_max, want, n_tasks)
    for (int i = 0; i < n_tasks; i++) {
        const int k = 1 + i / (int)CS_N_PARTS; /* [0]: the terms */
        cs_rows_want_terms(m, order[k], (unsigned)i % CS_N_PARTS, floor[k], tie_max[k], want);
    }
#pragma omp parallel num_threads(nt) default(none) shared(m, want)
    {
        cs_buf buf = {0};
#pragma omp for schedule(dynamic, 1)
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            cs_vocab_hold_part(m, p, want[p], &buf); /* an error: the spill keeps it */
        cs_buf_free(&buf);
    }
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        free(want[p]);
    free(want);
}

static cs_status write_tables(run *r, cs_merged *m, int dirfd, cs_summary *sum, cs_error *err)
{
    const cs_options *o = r->opt;
    int gmin = o->ngram_min < 2 ? 2 : o->ngram_min;
    int n_orders = o->ngram_max >= gmin ? o->ngram_max - gmin + 1 : 0;
    /* The tables: [0] terms, [1..n_orders] n-grams of order gmin.., then
     * the pairs when there are any. */
    unsigned order[CS_NGRAM_MAX + 2];
    int n_tabs = 0;
    order[n_tabs++] = 1;
    for (int k = 0; k < n_orders; k++)
        order[n_tabs++] = (unsigned)(gmin + k);
    const int pair_tab = m->pairs ? n_tabs : -1;
    if (m->pairs)
        order[n_tabs++] = CS_PAIRS;
    cs_rows(*rows)[CS_N_PARTS] = cs_xcalloc((size_t)n_tabs, sizeof *rows);
    const int n_tasks = n_tabs * (int)CS_N_PARTS;
    int nt = r->nt;
    /* With --top, rows counted less than the top's smallest count need no
     * sorting: find that count per table from a histogram of counts (of a
     * lean merge's grams: the merge's, of all it saw). */
    uint64_t *floor = cs_xcalloc((size_t)n_tabs, sizeof *floor);
    unsigned *tie_max = cs_xcalloc((size_t)n_tabs, sizeof *tie_max);
    uint64_t *need = cs_xcalloc((size_t)n_tabs, sizeof *need);
    for (int k = 0; k < n_tabs; k++) {
        floor[k] = k == pair_tab && r->lean_pairs ? r->pair_floor : o->min_count;
        tie_max[k] = CS_TIE_ALL;
    }
    /* Grams counted once that the merge left out and the top reaches. */
    unsigned add_orders[CS_NGRAM_MAX];
    cs_gram_pick add[CS_NGRAM_MAX];
    int n_add = 0;
    if (o->top != UINT64_MAX) {
        uint64_t *hist = cs_xcalloc((size_t)n_tasks * (CS_HIST_MAX + 1), sizeof *hist);
        /* [k]: the lean merge of table k, NULL: none (its histogram is the
         * merge's); pairs merged lean are cut already (merge_pairs). */
        const lean *ln[CS_NGRAM_MAX + 2] = {NULL};
        int skip[CS_NGRAM_MAX + 2] = {0};
        for (int k = 0; k < n_tabs; k++) {
            ln[k] = k != 0 && k != pair_tab ? r->lean[order[k]] : NULL;
            skip[k] = ln[k] || (k == pair_tab && r->lean_pairs);
        }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) default(none) \
    shared(hist, m, order, n_tasks, skip)
        for (int i = 0; i < n_tasks; i++)
            if (!skip[i / (int)CS_N_PARTS])
                cs_count_hist_part(m, order[i / (int)CS_N_PARTS], (unsigned)i % CS_N_PARTS,
                                   hist + (size_t)i * (CS_HIST_MAX + 1));
        for (int k = 0; k < n_tabs; k++) {
            if (k == pair_tab && r->lean_pairs)
                continue;
            uint64_t *sum_k = hist + (size_t)k * CS_N_PARTS * (CS_HIST_MAX + 1);
            const lean *l = ln[k];
            if (l)
                memcpy(sum_k, l->hist, sizeof l->hist);
            for (unsigned p = 1; !l && p < CS_N_PARTS; p++)
                for (unsigned c = 0; c <= CS_HIST_MAX; c++)
                    sum_k[c] += sum_k[(size_t)p * (CS_HIST_MAX + 1) + c];
            /* Grams counted once, left out by the merge (CS_PICK_LEAVE; a
             * lean merge's, in its histogram already, may leave them out
             * too: m->once_hist). */
            uint64_t left = 0;
            for (unsigned p = 0; !l && k != 0 && k != pair_tab && p < CS_N_PARTS; p++)
                left += m->left[order[k]][p];
            sum_k[1] += left;
            uint64_t lean_once = 0;
            for (unsigned b = 0; l && m->once_hist[order[k]] && b <= CS_TIE_ALL; b++)
                lean_once += m->once_hist[order[k]][b];
            floor[k] = top_floor(sum_k, o->top, o->min_count, &need[k]);
            /* Not pairs: a bucket of their histogram holds more than one
             * count, so the tie cut cannot tell them apart. */
            if (k == pair_tab)
                need[k] = 0;
            if (left + lean_once && m->once_hist[order[k]] && floor[k] <= 1) {
                /* The top holds fewer than K rows counted twice or more:
                 * it reaches count 1, whose grams the merge left out. */
                uint64_t above1 = 0;
                for (uint64_t c = 2; c <= CS_HIST_MAX; c++)
                    above1 += sum_k[c];
                assert(above1 < o->top);
                add_orders[n_add] = order[k];
                add[n_add++] = (cs_gram_pick){
                    .mode = CS_PICK_ADD,
                    .tie_max = tie_bucket(m->once_hist[order[k]], o->top - above1)};
            }
        }
        free(hist);
        if (n_add && !read_error(r)) /* (a read error: no table, below) */
            merge_grams(r, m, add_orders, n_add, add, NULL, NULL, 0, NULL);
        tie_cuts(m, order, n_tabs, floor, need, tie_max, nt);
    }
    trace(r, "top's cut found");
    free_gram_runs(r); /* kept for the grams counted once until now */
    cs_merged_drop_remap(m); /* every run is merged */
    rows_of_sums(r, m);
    free(need);
    if (cs_vocab_on_disk(m))
        hold_row_terms(r, m, order, n_tabs, floor, tie_max);
    trace(r, "row terms held");
    /* Each table's rows are made just before it is written and freed after
     * it, so that the rows of one table are in memory at a time (with 1-3
     * grams and pairs, about --top rows each: all at once, 217 MB at 1 GiB
     * and --top 1000000). The files one after another: the merges of the
     * rows and the formatting, serial within a file, took 0.2 s of 40 at
     * 1 GiB side by side. */
    const uint64_t room = rows_room(r, m);
    cs_spill_file **row_files = cs_xmalloc((size_t)nt * sizeof *row_files);
    for (int t = 0; t < nt; t++) {
        char name[32];
        snprintf(name, sizeof name, "t%d-rows", t);
        row_files[t] = cs_spill_file_scratch(r->spill, name);
    }
    cs_status st = CS_OK;
    const uint8_t bom[3] = {0xEF, 0xBB, 0xBF};
    enum { F_TERMS, F_NGRAMS, F_COOC, N_FILES };
    static const char *const names[N_FILES] = {"terms.csv", "ngrams.csv", "cooc.csv"};
    int files[N_FILES], n_files = 0;
    files[n_files++] = F_TERMS;
    if (n_orders)
        files[n_files++] = F_NGRAMS;
    if (m->pairs)
        files[n_files++] = F_COOC;
    for (int i = 0; i < n_files && st == CS_OK; i++) {
        const int f = files[i];
        /* its tables: [first, last) */
        const int first = f == F_TERMS ? 0 : f == F_NGRAMS ? 1 : pair_tab;
        const int last = f == F_TERMS ? 1 : f == F_NGRAMS ? 1 + n_orders : pair_tab + 1;
        cs_csv w;
        int e = cs_csv_open(&w, dirfd, names[f]);
        if (e) {
            output_error(err, r, names[f], "cannot create", e);
            st = CS_ERR_OUTPUT;
            break;
        }
        if (o->bom)
            cs_csv_raw(&w, bom, 3);
        if (f == F_TERMS)
            cs_csv_raw(&w, "term,count,doc_count\n", 21);
        else if (f == F_NGRAMS)
            cs_csv_raw(&w, "n,ngram,count,doc_count\n", 24);
        else
            cs_csv_raw(&w, "term_a,term_b,count,pmi,npmi,llr\n", 33);
        for (int k = first; k < last && st == CS_OK; k++) {
            /* A run the second merge could not read back, or merged terms
             * the rows would need: no rows (their terms are not held), and
             * no table. */
            if (read_error(r)) {
                st = spill_failed(r, err);
                break;
            }
            cs_rows *src = rows[k];
            size_t n_src = CS_N_PARTS;
            uint64_t types = 0;
            const unsigned ord = order[k];
            if (k != 0 && r->to_rows[ord]) {
                /* made of what the merge summed (merge_grams_rows,
                 * merge_pairs) */
                fan_in(r, m, ord);
                src = r->row_runs[ord];
                n_src = r->n_row_runs[ord];
                for (unsigned p = 0; p < CS_N_PARTS; p++)
                    types += m->left[ord][p];
            } else {
                make_rows(r, m, ord, floor[k], tie_max[k], room, row_files, rows[k]);
                for (unsigned p = 0; p < CS_N_PARTS; p++)
                    types += rows[k][p].types;
            }
            /* the term rows' partitions not read back: no table either */
            if (read_error(r)) {
                st = spill_failed(r, err);
                break;
            }
            if (k == 0)
                sum->types = types;
            else if (k == pair_tab)
                sum->cooc_pairs = types;
            else
                sum->gram_types[order[k]] = types;
            if (k == pair_tab)
                write_pairs(&w, m, src, n_src, o->top);
            else
                write_rows(&w, m, order[k], src, n_src, o->top);
            for (unsigned p = 0; p < CS_N_PARTS; p++)
                cs_rows_free(&rows[k][p]);
            for (int t = 0; t < nt; t++)
                cs_spill_file_rewind(row_files[t]);
            if (k != 0)
                free_row_runs(r, ord);
            /* a run written out that could not be read back: the table
             * ends early, and is not written */
            if (read_error(r))
                st = spill_failed(r, err);
        }
        e = cs_csv_close(&w);
        if (e && st == CS_OK) {
            output_error(err, r, names[f], "cannot write", e);
            st = CS_ERR_OUTPUT;
        }
    }
    free(floor);
    free(tie_max);
    for (int k = 0; k < n_tabs; k++)
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            cs_rows_free(&rows[k][p]);
    free(rows);
    free(row_files); /* (the spill owns them) */
    return st;
}

/* The rows of table `order` (cs_rows_part's of floor, tie_max and --top),
 * a partition at a time, into rows[0..CS_N_PARTS). Those made past `room`
 * go out as runs (rowrun.h) as soon as they are made, those made first
 * stay: without --top, a table's rows are every key of it (1.7 GB at 128
 * MiB of 1-3 grams), and with it, about --top rows (60 MB a million). A run
 * that cannot be written stays in memory; the spill's error then fails
 * the run. files: one a thread. */
static void make_rows(run *r, const cs_merged *m, unsigned order, uint64_t floor,
                      unsigned tie_max, uint64_t room, cs_spill_file *const *files,
                      cs_rows *rows)
{
    const uint64_t top = r->opt->top;
    uint64_t held = 0;
    int out = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(r->nt) default(none) \
    shared(rows, m, order, floor, tie_max, top, room, held, files) reduction(+ : out)
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_rows *rw = &rows[p];
        cs_rows_part(m, order, p, floor, tie_max, top, rw);
        const uint64_t bytes = cs_rows_bytes(rw);
        if (__atomic_add_fetch(&held, bytes, __ATOMIC_RELAXED) > room && rw->n &&
            cs_rowrun_spill(files[omp_get_thread_num()], m, rw, CS_ROWRUN_BLOCK) == 0) {
            __atomic_sub_fetch(&held, bytes, __ATOMIC_RELAXED);
            out++;
        }
    }
    r->rows_out += (uint64_t)out;
    char what[64];
    snprintf(what, sizeof what, "a table's rows made, %d partitions written out", out);
    trace(r, what);
}

/* The buckets of a pick's histogram (reduce.h). */
static size_t pick_bins(int mode)
{
    return mode == CS_PICK_TOP ? CS_HIST_MAX + 1 : CS_TIE_ALL + 1;
}

static void lean_part_done(run *r, cs_merged *m, unsigned order, unsigned p);

/* The most the grams kept by the lean merges of orders[0..n) hold: each
 * order's cap (merge_grams_lean), up to the budget (0: none lean). */
static uint64_t lean_bytes(const run *r, const cs_merged *m, const unsigned *orders, int n)
{
    uint64_t kept = 0;
    for (int k = 0; k < n; k++) {
        const lean *l = r->lean[orders[k]];
        const uint64_t stride = m->grams[orders[k]]->stride;
        if (l)
            kept += l->next_raise > r->budget / stride ? r->budget : l->next_raise * stride;
    }
    return kept < r->budget ? kept : r->budget;
}

/* The scratch of a merge's threads, all together, beside what the merge
 * holds (`held`: the terms, the remap above all, 4 bytes a local id, a
 * term seen in many generations having an id in each; and the merged
 * tables): what the budget leaves beside it and a sixteenth for the rest,
 * at most a quarter, at least a sixteenth. When `held` passes the budget
 * on its own (a --top whose keys alone pass it), `over`: for the n-gram
 * merge a quarter still, since each slice reads every run's partition
 * again, and a smaller scratch would make the merge many times slower for
 * a bound it cannot keep (at 128 MiB, --top 1000000 and --memory 32M, a
 * 64th of the budget took the run from 12 s to 75); for pairs, whose
 * slices read only their own pairs (pair_deal), a sixteenth. */
static uint64_t merge_share(const run *r, uint64_t held, uint64_t over)
{
    held += r->budget / 16;
    if (held >= r->budget)
        return over;
    const uint64_t left = r->budget - held;
    return left > r->budget / 4 ? r->budget / 4 : left < r->budget / 16 ? r->budget / 16 : left;
}

/* The gram merge's scratch (merge_grams), all threads: merge_share beside
 * the terms and the grams a lean merge keeps (up to its cap an order) or a
 * quarter of the budget for the merged tables. */
static uint64_t merge_scratch(const run *r, const cs_merged *m, const unsigned *orders, int n)
{
    const uint64_t kept = lean_bytes(r, m, orders, n);
    return merge_share(r, cs_merged_term_bytes(m) + (kept > r->budget / 4 ? kept : r->budget / 4),
                       r->budget / 4);
}

/* A thread's summed grams of one n-gram order, or its summed window
 * pairs, counted --min-count or more, written out as the merge hands them
 * over (merge_grams_rows, merge_pairs). */
struct row_maker {
    cs_rowrun_writer w;
    uint64_t min_count;          /* grams */
    unsigned __int128 min_units; /* pairs: --min-count in units (0: 1, any pair counted) */
};

/* CS_PICK_ROWS' sink (reduce.h). */
static void gather_row(void *ctx, unsigned p, const uint32_t *ids, unsigned order, int64_t count,
                       int64_t docs)
{
    (void)p;
    row_maker *k = ctx;
    if ((uint64_t)count >= k->min_count) /* (count > 0) */
        cs_rowrun_put_gram(&k->w, ids, order, count, docs);
}

/* Merges every source's gram runs of orders[0..n) into m (terms merged
 * first): a task per order and partition, each thread keeping its scratch
 * from task to task. pick[k] says which grams of orders[k] stay (reduce.h;
 * CS_PICK_ROWS: makers[t] makes thread t's rows, written out at the end);
 * its histogram, when its mode has one and hist is not NULL, is summed over
 * the threads into hist + k * bins (pick_bins; all orders' picks of one
 * mode; each thread adds into its own: up to 512 KiB an order); so is the
 * histogram of the grams counted once a TOP pick leaves out, into
 * once + k * (CS_TIE_ALL + 1), when once is not NULL. first: the
 * first merge of these runs, which the state being written sees. The runs
 * stay (free_gram_runs). */
static void merge_grams(run *r, cs_merged *m, const unsigned *orders, int n,
                        const cs_gram_pick *pick, uint64_t *hist, uint64_t *once, int first,
                        row_maker *makers)
{
    const int nt = r->nt, n_tasks = n * (int)CS_N_PARTS, ns = n_sources(r);
    const size_t bins = pick_bins(pick[0].mode);
    cs_grams ***src = cs_xcalloc((size_t)n, sizeof *src);
    for (int k = 0; k < n; k++) {
        assert(pick[k].mode == pick[0].mode);
        src[k] = cs_xmalloc((size_t)ns * sizeof **src);
        for (int s = 0; s < ns; s++)
            src[k][s] = source(r, s)->grams[orders[k]];
        r->order_passes[orders[k]]++;
    }
    cs_state_writer *sw = first ? r->sw : NULL;
    /* [thread][k][bin] */
    uint64_t *th = hist ? cs_xcalloc((size_t)nt * (size_t)n * bins, sizeof *th) : NULL;
    const size_t once_bins = CS_TIE_ALL + 1;
    uint64_t *th1 = once ? cs_xcalloc((size_t)nt * (size_t)n * once_bins, sizeof *th1) : NULL;
    /* A thread's merge scratch holds two copies of the items of a
     * partition (or of a slice of it: grams.c) at most. */
    const size_t scratch_bytes = (size_t)(merge_scratch(r, m, orders, n) / (uint64_t)nt);
    uint64_t slices = 0;
#pragma omp parallel num_threads(nt) default(none) shared(r, m, src, orders, n, n_tasks, pick, \
                                                         th, bins, th1, once_bins, sw, \
                                                         scratch_bytes, makers) \
    reduction(+ : slices)
    {
        cs_grams_scratch scratch = {.max_bytes = scratch_bytes};
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < n_tasks; i++) {
            const int k = i / (int)CS_N_PARTS;
            cs_gram_pick pk = pick[k];
            const size_t at = (size_t)omp_get_thread_num() * (size_t)n + (size_t)k;
            pk.hist = th ? th + at * bins : NULL;
            pk.once = th1 ? th1 + at * once_bins : NULL;
            if (makers)
                pk.rows_ctx = &makers[omp_get_thread_num()];
            cs_merge_grams_part(m, src[k], orders[k], (unsigned)i % CS_N_PARTS, &scratch, &pk,
                                sw ? cs_state_writer_gram : NULL, sw);
            if (sw)
                cs_state_writer_gram_part_done(sw, orders[k], (unsigned)i % CS_N_PARTS);
            if (pk.mode == CS_PICK_TOP)
                lean_part_done(r, m, orders[k], (unsigned)i % CS_N_PARTS);
            if ((unsigned)i % CS_N_PARTS == CS_N_PARTS - 1)
                trace(r, "partition 63 of an order merged");
        }
        slices += scratch.slices;
        cs_grams_scratch_free(&scratch);
    }
    r->merge_slices += slices;
    for (int k = 0; th && k < n; k++)
        for (int t = 0; t < nt; t++)
            for (size_t b = 0; b < bins; b++)
                hist[(size_t)k * bins + b] += th[((size_t)t * (size_t)n + (size_t)k) * bins + b];
    free(th);
    for (int k = 0; th1 && k < n; k++)
        for (int t = 0; t < nt; t++)
            for (size_t b = 0; b < once_bins; b++)
                once[(size_t)k * once_bins + b] +=
                    th1[((size_t)t * (size_t)n + (size_t)k) * once_bins + b];
    free(th1);
    for (int k = 0; k < n; k++)
        free(src[k]);
    free(src);
    for (int k = 0; sw && k < n; k++)
        cs_state_writer_grams_done(sw, orders[k]);
}

/* Before the merges (of terms first), the threads' counters drop the
 * partition of each term id (count.h), and the runs they still hold in
 * memory (the last of each kind, under its share) are written out when
 * they and the map of term ids would pass half the budget: the merge's
 * scratch takes a quarter (merge_grams) and the keys a lean merge keeps
 * about a quarter more. Each merged partition then reads them back as it
 * reads the others. */
static void spill_for_merge(run *r, const cs_merged *m)
{
    const int ns = n_sources(r);
    for (int t = 0; t < r->nt; t++)
        cs_counter_drop_parts(&r->w[t]->counter);
    uint64_t held = m->remap_bytes;
    for (int s = 0; s < ns; s++) {
        const cs_counter *c = source(r, s);
        for (int g = 0; g <= CS_NGRAM_MAX; g++)
            for (size_t i = 0; c->grams[g] && i < c->grams[g]->n_runs; i++) {
                const cs_pack *pk = &c->grams[g]->runs[i].pk;
                held += pk->bytes ? pk->off[CS_N_PARTS] : 0;
            }
        for (size_t i = 0; c->pairs && i < c->pairs->n_runs; i++)
            held += c->pairs->runs[i].bytes ? c->pairs->runs[i].off[CS_N_PARTS] : 0;
    }
    if (held <= r->budget / 2)
        return;
    /* A counter's files are its own: one thread each. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(r->nt) default(none) shared(r, ns)
    for (int s = 0; s < ns; s++) {
        cs_counter *c = source(r, s);
        for (int g = 0; g <= CS_NGRAM_MAX; g++)
            if (c->grams[g] && c->grams[g]->n_runs)
                cs_spill_when_over(c->grams[g]->spill, &c->grams[g]->runs[0].pk,
                                   c->grams[g]->n_runs, sizeof *c->grams[g]->runs, 0);
        if (c->pairs)
            cs_spill_when_over(c->pairs->spill, c->pairs->runs, c->pairs->n_runs,
                               sizeof *c->pairs->runs, 0);
    }
}

/* The runs of rows a table's merge reads at once at most (fan_in): each
 * holds a block, raw and compressed, about 2 x CS_ROWRUN_BLOCK with its
 * buffer's slack, and they share an eighth of the budget: 170 at 256M. At
 * least 4: a tiny budget (the tests') merges in several levels. */
static size_t fan_in_cap(const run *r)
{
    const uint64_t cap = r->budget / 8 / (3 * CS_ROWRUN_BLOCK);
    return cap < 4 ? 4 : cap > 4096 ? 4096 : (size_t)cap;
}

static int by_bytes(const void *a, const void *b)
{
    const uint64_t x = ((const cs_rows *)a)->disk->bytes, y = ((const cs_rows *)b)->disk->bytes;
    return (x > y) - (x < y);
}

/* Merges order's runs of rows (rows_of_sums) into fewer until the
 * table's merge can read them all at once (fan_in_cap): each step merges
 * the fewest runs, the smallest, that bring them down to the cap, so that
 * a row is read and written again as seldom as it can be. The runs come out
 * in the same order whatever the grouping: the rows' order is total. The
 * runs merged keep their disk until the table is written (free_row_runs). */
static void fan_in(run *r, const cs_merged *m, unsigned order)
{
    const size_t cap = fan_in_cap(r);
    cs_rows *runs = r->row_runs[order];
    size_t n = r->n_row_runs[order];
    if (n <= cap)
        return;
    char name[32];
    snprintf(name, sizeof name, "rows%u-merged", order);
    cs_spill_file *f = r->row_spill[order][r->nt] = cs_spill_file_scratch(r->spill, name);
    while (n > cap && !read_error(r)) {
        const size_t k = n - cap + 1 < cap ? n - cap + 1 : cap;
        qsort(runs, n, sizeof *runs, by_bytes);
        cs_rowmerge g;
        cs_rowmerge_init(&g, m, order, runs, k);
        cs_rows out;
        const int e = cs_rowrun_merge(f, &g, CS_ROWRUN_BLOCK, &out);
        cs_rowmerge_free(&g);
        if (e) /* the spill keeps the error: no table */
            break;
        for (size_t i = 0; i < k; i++)
            cs_rows_free(&runs[i]);
        runs[0] = out;
        memmove(runs + 1, runs + k, (n - k) * sizeof *runs);
        n -= k - 1;
        r->row_merges++;
    }
    r->n_row_runs[order] = n;
    trace(r, "runs of rows merged to the fan-in");
}

/* Frees what the merge of `order` summed and wrote out for its rows
 * (makers_end; [CS_PAIRS]: the pairs'), if anything. */
static void free_sums(run *r, unsigned order)
{
    for (int t = 0; r->sums[order] && t < r->nt; t++) {
        cs_rowrun_free(r->sums[order][t]);
        free(r->sums[order][t]);
    }
    free(r->sums[order]);
    r->sums[order] = NULL;
}

/* Frees order's runs of rows (rows_of_sums) and what was summed for them, and
 * gives their disk back. */
static void free_row_runs(run *r, unsigned order)
{
    for (size_t i = 0; i < r->n_row_runs[order]; i++)
        cs_rows_free(&r->row_runs[order][i]);
    free(r->row_runs[order]);
    r->row_runs[order] = NULL;
    r->n_row_runs[order] = r->cap_row_runs[order] = 0;
    free_sums(r, order);
    for (int t = 0; r->row_spill[order] && t <= r->nt; t++)
        if (r->row_spill[order][t])
            cs_spill_file_rewind(r->row_spill[order][t]);
    free(r->row_spill[order]);
    r->row_spill[order] = NULL;
}

/* Whether a merged table of `bytes` at most goes lean: a cut can keep
 * fewer keys than all (--top, --min-count 2 and up), and the table could
 * pass a quarter of the budget. */
static int goes_lean(const run *r, uint64_t bytes)
{
    return (r->opt->top != UINT64_MAX || r->opt->min_count >= 2) && bytes > r->budget / 4;
}

/* The most the merged gram tables of orders[0..n) hold: an entry of its
 * table's stride a gram, and at most as many grams as the runs hold. */
static uint64_t gram_table_bytes(const run *r, const cs_merged *m, const unsigned *orders, int n)
{
    uint64_t bytes = 0;
    for (int k = 0; k < n; k++)
        for (int s = 0; s < n_sources(r); s++) {
            const cs_grams *g = source(r, s)->grams[orders[k]];
            for (size_t i = 0; i < g->n_runs; i++)
                for (unsigned p = 0; p < CS_N_PARTS; p++)
                    bytes += (uint64_t)g->runs[i].pk.n[p] * m->grams[orders[k]]->stride;
        }
    return bytes;
}

/* Whether the gram merge is lean (merge_grams_lean). */
static int grams_go_lean(const run *r, const cs_merged *m, const unsigned *orders, int n)
{
    return goes_lean(r, gram_table_bytes(r, m, orders, n));
}

/* Whether the grams are made into rows as they merge (merge_grams_rows):
 * no --top, and the merged tables could pass a quarter of the budget. */
static int grams_go_to_rows(const run *r, const cs_merged *m, const unsigned *orders, int n)
{
    return r->opt->top == UINT64_MAX && gram_table_bytes(r, m, orders, n) > r->budget / 4;
}

/* The gram merge under a budget its tables would not fit: rather than
 * every gram, the merged tables keep those that can be rows, about --top
 * an order, in one merge of the runs. Each order has a bar (reduce.h,
 * CS_PICK_TOP), at first --min-count; with --top, once the grams kept in
 * the partitions done pass their cap, it rises to the rank of the K-th
 * best of them (K = --top) and those partitions are pruned to it
 * (lean_raise). A gram ranked below the K-th of a set of grams cannot be a
 * row, and every gram the top could reach is still kept, so the counts'
 * histogram of all grams (lean.hist) and the tie cut of write_tables,
 * made on the grams kept, give the rows of the whole table. may_add: the
 * top may reach count 1. Then, if the grams kept can fit half the budget,
 * the grams counted once are left out (their caps: else the budget cannot
 * hold the top's grams anyway, and one merge is cheaper than two), and
 * counted in m->once_hist, for write_tables to add those the top reaches
 * (CS_PICK_ADD); returns whether it left out some that the top reaches,
 * which write_tables then reads the runs again for (free_gram_runs). */
static int merge_grams_lean(run *r, cs_merged *m, const unsigned *orders, int n, int may_add)
{
    const cs_options *o = r->opt;
    cs_gram_pick pick[CS_NGRAM_MAX];
    for (int k = 0; k < n; k++) {
        lean *l = r->lean[orders[k]] = cs_xcalloc(1, sizeof *l);
        omp_init_lock(&l->lock);
        l->bar = cs_gram_rank(o->min_count, 0xFFFF);
        /* A cap that holds the top and half as much again, or the quarter
         * of the budget the orders share: raising the bar costs a pass
         * over the grams kept, so each raise waits for them to grow by
         * half. */
        const uint64_t share = r->budget / 4 / (uint64_t)n / m->grams[orders[k]]->stride;
        const uint64_t cap = o->top > UINT64_MAX / 2 ? UINT64_MAX : o->top + o->top / 2;
        l->next_raise = cap > share ? cap : share;
        pick[k] = (cs_gram_pick){.mode = CS_PICK_TOP, .tie_max = CS_TIE_ALL, .bar = &l->bar};
    }
    uint64_t *hist = cs_xcalloc((size_t)n * pick_bins(CS_PICK_TOP), sizeof *hist);
    /* (the histograms of the grams counted once: one a thread and order,
     * and their sums) */
    const uint64_t once_bytes = (uint64_t)(r->nt + 1) * (uint64_t)n * (CS_TIE_ALL + 1) * 8;
    const int leave = may_add && lean_bytes(r, m, orders, n) + once_bytes <= r->budget / 2;
    uint64_t *once = leave ? cs_xcalloc((size_t)n * (CS_TIE_ALL + 1), sizeof *once) : NULL;
    merge_grams(r, m, orders, n, pick, hist, once, 1, NULL);
    for (int k = 0; k < n; k++) {
        lean *l = r->lean[orders[k]];
        memcpy(l->hist, hist + (size_t)k * pick_bins(CS_PICK_TOP), sizeof l->hist);
        omp_destroy_lock(&l->lock);
        if (once) {
            uint64_t *h = m->once_hist[orders[k]] = cs_xmalloc((CS_TIE_ALL + 1) * sizeof *h);
            memcpy(h, once + (size_t)k * (CS_TIE_ALL + 1), (CS_TIE_ALL + 1) * sizeof *h);
        }
    }
    free(once);
    free(hist);
    /* The grams counted once are wanted again only when the top of some
     * order reaches count 1 (write_tables); else the runs can go now. */
    int reach = 0;
    for (int k = 0; leave && k < n; k++) {
        uint64_t need;
        reach |= top_floor(r->lean[orders[k]]->hist, o->top, o->min_count, &need) <= 1;
    }
    return reach;
}

/* A writer a thread for what a merge sums (row_maker), on the thread's
 * file of sums (t<thread>-sums, made on the first call); the caller sets
 * the makers' min_count or min_units. */
static row_maker *makers_new(run *r)
{
    if (!r->sum_files) {
        r->sum_files = cs_xcalloc((size_t)r->nt, sizeof *r->sum_files);
        for (int t = 0; t < r->nt; t++) {
            char name[32];
            snprintf(name, sizeof name, "t%d-sums", t);
            r->sum_files[t] = cs_spill_file_scratch(r->spill, name);
        }
    }
    row_maker *mk = cs_xcalloc((size_t)r->nt, sizeof *mk);
    for (int t = 0; t < r->nt; t++)
        cs_rowrun_writer_init(&mk[t].w, r->sum_files[t], CS_ROWRUN_BLOCK);
    return mk;
}

/* Ends and frees makers_new's writers: what they wrote is order's sums,
 * which rows_of_sums makes rows of ([CS_PAIRS]: the pairs'). */
static void makers_end(run *r, row_maker *mk, unsigned order)
{
    r->to_rows[order] = 1;
    cs_rowrun **sums = r->sums[order] = cs_xcalloc((size_t)r->nt, sizeof *sums);
    for (int t = 0; t < r->nt; t++)
        cs_rowrun_writer_end(&mk[t].w, &sums[t]); /* an error: the spill keeps it */
    free(mk);
}

/* Without --top, under a budget the merged n-grams would not fit (every
 * gram counted --min-count or more is a row), the merge keeps none: each
 * thread writes the grams it sums out as they come (row_maker: their ids,
 * not their bytes), an order at a time, and rows_of_sums makes them into
 * sorted runs of rows once the remap is freed: the rows need the bytes of
 * every term, and the two together took most of the budget (at 1 GiB,
 * 101 and 115 MB of 256). write_tables merges the runs of rows. */
static void merge_grams_rows(run *r, cs_merged *m, const unsigned *orders, int n)
{
    const int nt = r->nt;
    const uint64_t min_count = r->opt->min_count > 1 ? r->opt->min_count : 1;
    for (int k = 0; k < n && !read_error(r); k++) {
        row_maker *mk = makers_new(r);
        for (int t = 0; t < nt; t++)
            mk[t].min_count = min_count;
        const cs_gram_pick pick = {
            .mode = CS_PICK_ROWS, .tie_max = CS_TIE_ALL, .rows = gather_row};
        merge_grams(r, m, &orders[k], 1, &pick, NULL, NULL, 1, mk);
        makers_end(r, mk, orders[k]);
    }
}

/* A thread's rows before they go out as a run (rows_of_sums): its share of
 * a quarter of the budget, at least ROWS_MIN (a run costs a few KB besides
 * its rows, and a tiny budget would make a run of every few rows). */
#define ROWS_MIN ((size_t)1 << 20)

/* Makes the summed grams and window pairs merge_grams_rows and
 * merge_pairs wrote out into runs of sorted rows (r->row_runs; a pair's
 * measures from the margins the pair merge summed), with every term's
 * bytes held (not their counts:
 * 16 bytes a term less, 87 MB at 1 GiB) and given back after. A task per
 * order and thread's run of grams: they are read back and gathered
 * (cs_rowbuf) until they pass the room, then made into rows and written out
 * as a run. */
static void rows_of_sums(run *r, cs_merged *m)
{
    const int nt = r->nt;
    unsigned orders[CS_NGRAM_MAX + 1];
    int n_orders = 0;
    for (unsigned g = 0; g <= CS_NGRAM_MAX; g++) /* [CS_PAIRS]: window pairs */
        if (r->sums[g])
            orders[n_orders++] = g;
    if (!n_orders)
        return;
    const int disk = cs_vocab_on_disk(m);
    if (disk) {
#pragma omp parallel num_threads(nt) default(none) shared(m)
        {
            cs_buf buf = {0};
#pragma omp for schedule(dynamic, 1)
            for (unsigned p = 0; p < CS_N_PARTS; p++)
                cs_vocab_hold_bytes(m, p, &buf); /* an error: the spill keeps it */
            cs_buf_free(&buf);
        }
        trace(r, "terms held for the rows");
    }
    const size_t room = r->budget / 4 / (uint64_t)nt > ROWS_MIN
                            ? (size_t)(r->budget / 4 / (uint64_t)nt)
                            : ROWS_MIN;
    for (int k = 0; k < n_orders; k++) {
        const unsigned order = orders[k];
        cs_spill_file **files = r->row_spill[order] =
            cs_xcalloc((size_t)nt + 1, sizeof *r->row_spill[order]);
        for (int t = 0; t < nt; t++) {
            char name[32];
            snprintf(name, sizeof name, "t%d-rows%u", t, order);
            files[t] = cs_spill_file_scratch(r->spill, name);
        }
    }
    const int n_tasks = n_orders * nt;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) default(none) \
    shared(r, m, orders, n_tasks, room, nt)
    for (int i = 0; i < n_tasks; i++) {
        const unsigned order = orders[i / nt];
        const cs_rowrun *sums = r->sums[order][i % nt];
        if (!sums || read_error(r))
            continue;
        cs_spill_file *f = r->row_spill[order][omp_get_thread_num()];
        cs_rowrun_reader rd;
        cs_rowrun_reader_init(&rd, sums, order);
        cs_rowbuf b;
        cs_rowbuf_init(&b, order);
        uint32_t ids[CS_NGRAM_MAX];
        int64_t count, docs;
        unsigned __int128 units;
        for (int more = 1; more && !read_error(r);) { /* (an error: no table) */
            if (order == CS_PAIRS) {
                more = cs_rowrun_next_pair(&rd, &ids[0], &ids[1], &units);
                if (more)
                    cs_rowbuf_add_pair(&b, m, ids[0], ids[1], units);
            } else {
                more = cs_rowrun_next_gram(&rd, ids, &count, &docs);
                if (more)
                    cs_rowbuf_add(&b, m, ids, count, docs);
            }
            if (b.n && (!more || cs_rowbuf_bytes(&b) > room)) {
                cs_rows rows;
                cs_rowbuf_rows(&b, m, &rows);
                /* one that cannot be written is dropped: the spill keeps the
                 * error, and no table is written */
                const int e = cs_rowrun_spill(f, m, &rows, CS_ROWRUN_BLOCK);
#pragma omp critical(rows_of_sums)
                if (!e) {
                    size_t *n = &r->n_row_runs[order], *cap = &r->cap_row_runs[order];
                    if (*n == *cap) {
                        *cap = 2 * *cap + 16;
                        r->row_runs[order] =
                            cs_xrealloc(r->row_runs[order], *cap * sizeof *r->row_runs[order]);
                    }
                    r->row_runs[order][(*n)++] = rows;
                    r->rows_out++;
                }
                if (e)
                    cs_rows_free(&rows);
                cs_rowbuf_clear(&b);
            }
        }
        cs_rowbuf_free(&b);
        cs_rowrun_reader_free(&rd);
    }
    /* the summed grams are spent, and the terms go back to disk */
    for (int k = 0; k < n_orders; k++)
        free_sums(r, orders[k]);
    for (int t = 0; t < nt; t++)
        cs_spill_file_rewind(r->sum_files[t]);
    for (unsigned p = 0; disk && p < CS_N_PARTS; p++)
        cs_vocab_hold_part(m, p, NULL, NULL);
    trace(r, "rows made of the summed grams and pairs");
}

/* Raises the bar of `order` to the rank of the K-th best gram kept in the
 * partitions done, and prunes them to it (called by one thread at a time,
 * while the others merge other partitions). */
static void lean_raise(run *r, cs_merged *m, unsigned order)
{
    lean *l = r->lean[order];
    /* The top's cut of the grams kept, as write_tables makes it of all. */
    uint64_t need;
    const uint64_t c = top_floor(l->kept_hist, r->opt->top, 0, &need);
    unsigned b = CS_TIE_ALL; /* all those counted c */
    if (need) { /* of those counted c, only the `need` best */
        uint64_t *tie = cs_xcalloc(CS_TIE_ALL + 1, sizeof *tie);
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            if (l->done[p])
                cs_tie_hist_part(m, order, p, c, tie);
        b = tie_bucket(tie, need);
        free(tie);
    }
    const uint64_t bar = c >= 1 ? cs_gram_rank(c, b) : 0;
    trace(r, "raising a lean merge's bar");
    if (bar > l->bar) {
        __atomic_store_n(&l->bar, bar, __ATOMIC_RELAXED);
        uint64_t removed[CS_HIST_MAX + 1] = {0};
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            if (l->done[p])
                cs_prune_grams_part(m, order, p, bar, removed);
        for (unsigned k = 0; k <= CS_HIST_MAX; k++) {
            l->kept_hist[k] -= removed[k];
            l->kept -= removed[k];
        }
    }
    if (l->next_raise < l->kept + l->kept / 2)
        l->next_raise = l->kept + l->kept / 2;
}

/* A lean merge has merged partition p of `order`: its grams join those
 * kept, and past the cap, the bar rises (lean_raise); after the last
 * partition, it rises to the top's own cut, leaving about K grams. */
static void lean_part_done(run *r, cs_merged *m, unsigned order, unsigned p)
{
    lean *l = r->lean[order];
    uint64_t h[CS_HIST_MAX + 1] = {0};
    cs_count_hist_part(m, order, p, h);
    omp_set_lock(&l->lock);
    l->done[p] = 1;
    l->n_done++;
    for (unsigned c = 0; c <= CS_HIST_MAX; c++) {
        l->kept_hist[c] += h[c];
        l->kept += h[c];
    }
    if (r->opt->top != UINT64_MAX && (l->kept > l->next_raise || l->n_done == CS_N_PARTS))
        lean_raise(r, m, order);
    omp_unset_lock(&l->lock);
}

/* Frees every source's gram runs (the merge is done with them). */
static void free_gram_runs(run *r)
{
    const int nt = r->nt, ns = n_sources(r);
#pragma omp parallel for schedule(static, 1) num_threads(nt) default(none) shared(r, ns)
    for (int s = 0; s < ns; s++)
        for (int k = 0; k <= CS_NGRAM_MAX; k++)
            cs_grams_free(source(r, s)->grams[k]);
}

/* ------------------------------------------------------------------ */
/* co-occurrence                                                        */

/* What merge_pair_runs keeps of the summed pairs: all; their count
 * histogram and the terms' margins, and the pairs at a bar when it has one
 * (a lean merge's first, merge_pairs); those counted the cut or more (its
 * second, when the first's bar could not keep them). */
enum { PAIRS_KEEP, PAIRS_HIST, PAIRS_CUT };

/* Keeps of the summed pairs of pr those counted `count` or more (units of
 * m), in a room their size; returns how many others are counted (> 0). */
static uint64_t cut_pairs(cs_pair_run *pr, const cs_merged *m, uint64_t count)
{
    const cs_i128 min = (cs_i128)count * (cs_i128)m->unit;
    size_t kept = 0;
    uint64_t left = 0;
    for (size_t i = 0; i < pr->n; i++) {
        const cs_i128 u = cs_pair_units(pr, i);
        if (u > 0 && u >= min)
            pr->v[kept++] = pr->v[i];
        else
            left += u > 0;
    }
    /* (the big list stays: it is looked up by key) */
    cs_pair *v = cs_xmalloc((kept + 1) * sizeof *v);
    memcpy(v, pr->v, kept * sizeof *v);
    free(pr->v);
    pr->v = v;
    pr->n = kept;
    return left;
}

/* Sums the margins each of na threads added up (acc[t]) into acc[0],
 * which becomes m->margin; frees the others. Margins are sums of integers:
 * the same at any thread count. (One pass of adds a set: a few ms for
 * millions of terms.) */
static void sum_margins(cs_merged *m, cs_margins *acc, int na)
{
    const size_t n_terms = (size_t)m->term_base[CS_N_PARTS];
    for (int t = 1; t < na; t++)
        cs_margins_sum(&acc[0], &acc[t], n_terms);
    m->total = cs_margins_seal(&acc[0], n_terms);
    m->margin = acc[0];
}

/* Slices of a pair partition too large for a thread's share of the
 * budget: ranges of the merged key (index of a << 32 | global b), cut
 * between a's, and for an a with more pairs than a slice holds, between
 * buckets of b (table.h, cs_id_bucket, as grams.c cuts a gram's second
 * id). */

/* Pairs counted by the index of a (first pass), then, for the a's past a
 * slice (heavy[a] >= 0: their row), by the bucket of b (second pass). */
typedef struct pair_census {
    uint64_t *per_a;
    const int32_t *heavy; /* NULL in the first pass */
    uint64_t *per_b;      /* [row * CS_ID_BUCKETS + bucket] */
} pair_census;

static void census_pairs(void *ctx, const cs_pair *v, size_t n)
{
    pair_census *c = ctx;
    for (size_t i = 0; i < n; i++) {
        const uint32_t a = (uint32_t)(v[i].key >> 32);
        if (!c->heavy)
            c->per_a[a]++;
        else if (c->heavy[a] >= 0)
            c->per_b[(size_t)c->heavy[a] * CS_ID_BUCKETS + cs_id_bucket((uint32_t)v[i].key)]++;
    }
}

typedef struct pair_slice {
    uint64_t from, to; /* keys in [from, to) */
    cs_pair *v;
    size_t n, room;
} pair_slice;

static void gather_pairs(void *ctx, const cs_pair *v, size_t n)
{
    pair_slice *s = ctx;
    for (size_t i = 0; i < n; i++)
        /* (more than the census counted only when a run it could not
         * read back reads now: the spill keeps the error, no table) */
        if (v[i].key >= s->from && v[i].key < s->to && s->n < s->room)
            s->v[s->n++] = v[i];
}

/* Partition p of every source's runs, translated (each as
 * cs_pairs_part_each gives them). */
static void each_pair(run *r, const uint32_t *const *remap, unsigned p, cs_buf *disk,
                      cs_pair_each each, void *ctx)
{
    for (int s = 0; s < n_sources(r); s++)
        if (source(r, s)->pairs)
            cs_pairs_part_each(source(r, s)->pairs, p, remap[s], disk, each, ctx);
}

/* A partition's pairs dealt to its slices in one pass over the runs, so
 * that each slice reads only its own (reading every run again for each
 * slice read 47 GB back at 1 GiB, bench/NOTES.md 34): packed (cs_pair_put)
 * into a group of consecutive slices each, CS_N_PARTS groups at most, and
 * written to the thread's scratch file as one pack whenever the groups
 * pass `room` bytes. A group of several slices is read once a slice. */
typedef struct pair_deal {
    const uint64_t *cuts; /* the slices (plan_pair_slices) */
    size_t n_slices, at;  /* at: the slice of the last pair, which most follow */
    unsigned n_groups;
    cs_buf grp[CS_N_PARTS];
    uint32_t n[CS_N_PARTS], prev_a[CS_N_PARTS];
    size_t held, room;
    cs_spill_file *file; /* a scratch file of the thread's */
    cs_pack *packs;      /* written to file */
    size_t n_packs, cap_packs;
} pair_deal;

static unsigned deal_group(const pair_deal *d, size_t slice)
{
    return (unsigned)(slice * d->n_groups / d->n_slices);
}

/* Empties the groups in memory; frees their buffers when together they
 * grew past twice the room (a source in key order, a state's, fills one
 * group after another: each would keep the room's size). */
static void deal_clear(pair_deal *d)
{
    size_t cap = 0;
    for (unsigned g = 0; g < CS_N_PARTS; g++) {
        cap += d->grp[g].cap;
        d->grp[g].len = 0;
        d->n[g] = 0;
        d->prev_a[g] = CS_PAIR_NO_A;
    }
    for (unsigned g = 0; cap > 2 * d->room && g < CS_N_PARTS; g++)
        cs_buf_free(&d->grp[g]);
    d->held = 0;
}

/* The groups in memory go to the scratch file as one pack. When that
 * cannot be written, they are dropped: the spill keeps the error, and the
 * run writes no table (keeping them would only grow the memory to the end
 * of the merge). */
static void deal_flush(pair_deal *d)
{
    const uint8_t *part[CS_N_PARTS];
    size_t len[CS_N_PARTS];
    for (unsigned g = 0; g < CS_N_PARTS; g++) {
        part[g] = d->grp[g].data;
        len[g] = d->grp[g].len;
    }
    if (d->n_packs == d->cap_packs) {
        d->cap_packs = d->cap_packs ? 2 * d->cap_packs : 8;
        d->packs = cs_xrealloc(d->packs, d->cap_packs * sizeof *d->packs);
    }
    if (cs_spill_parts(d->file, part, len, d->n, &d->packs[d->n_packs]) == 0)
        d->n_packs++;
    deal_clear(d);
}

static void deal_pairs(void *ctx, const cs_pair *v, size_t n)
{
    pair_deal *d = ctx;
    for (size_t i = 0; i < n; i++) {
        const uint64_t key = v[i].key;
        if (key < d->cuts[d->at] || key >= d->cuts[d->at + 1]) {
            size_t lo = 0, hi = d->n_slices; /* cuts[lo] <= key < cuts[hi] */
            while (hi - lo > 1) {
                const size_t mid = lo + (hi - lo) / 2;
                if (d->cuts[mid] <= key)
                    lo = mid;
                else
                    hi = mid;
            }
            d->at = lo;
        }
        const unsigned g = deal_group(d, d->at);
        cs_buf *b = &d->grp[g];
        cs_buf_reserve(b, CS_PAIR_PUT_MAX);
        const size_t len = (size_t)(cs_pair_put(b->data + b->len, &d->prev_a[g], &v[i]) - b->data);
        d->held += len - b->len;
        b->len = len;
        d->n[g]++;
    }
    if (d->held > d->room)
        deal_flush(d);
}

/* Deals partition p into the slices cuts[0..n_slices]. */
static void deal_part(run *r, const uint32_t *const *remap, unsigned p, cs_buf *disk,
                      const uint64_t *cuts, size_t n_slices, pair_deal *d)
{
    d->cuts = cuts;
    d->n_slices = n_slices;
    d->at = 0;
    d->n_groups = n_slices < CS_N_PARTS ? (unsigned)n_slices : CS_N_PARTS;
    deal_clear(d);
    each_pair(r, remap, p, disk, deal_pairs, d);
}

/* The pairs dealt to a slice, into s (its key range picks them from its
 * group's). */
static void dealt_pairs(const pair_deal *d, size_t slice, cs_buf *disk, pair_slice *s)
{
    const unsigned g = deal_group(d, slice);
    for (size_t k = 0; k < d->n_packs; k++) {
        if (!d->packs[k].n[g])
            continue;
        const uint8_t *q = cs_pack_part(&d->packs[k], g, disk);
        if (q) /* (NULL: cs_spill keeps the error; no table is written) */
            cs_pairs_put_each(q, d->packs[k].n[g], gather_pairs, s);
    }
    if (d->n[g])
        cs_pairs_put_each(d->grp[g].data, d->n[g], gather_pairs, s);
}

/* After the partition: its packs are dead, and the file's disk is given
 * back. The groups keep their memory for the next partition. */
static void deal_done(pair_deal *d)
{
    for (size_t k = 0; k < d->n_packs; k++)
        cs_pack_free(&d->packs[k]);
    d->n_packs = 0;
    if (d->file)
        cs_spill_file_rewind(d->file);
    deal_clear(d);
}

static void deal_free(pair_deal *d)
{
    deal_done(d);
    for (unsigned g = 0; g < CS_N_PARTS; g++)
        cs_buf_free(&d->grp[g]);
    free(d->packs);
}

/* Cuts partition p of the pairs into slices of `max` pairs at most (but
 * an a, or an a and a bucket of b, with more): *cuts (malloc'd) gets
 * 0 = cuts[0] < ... < cuts[n] = UINT64_MAX, *biggest the most pairs in one
 * slice; returns n. Two passes over the runs' partition p. */
static size_t plan_pair_slices(run *r, const cs_merged *m, const uint32_t *const *remap,
                               unsigned p, size_t max, cs_buf *disk, uint64_t **cuts,
                               size_t *biggest)
{
    const uint32_t n_a = m->vocab[p].n;
    pair_census c = {cs_xcalloc((size_t)n_a + 1, sizeof *c.per_a), NULL, NULL};
    each_pair(r, remap, p, disk, census_pairs, &c);
    int32_t *heavy = cs_xmalloc(((size_t)n_a + 1) * sizeof *heavy);
    int32_t n_heavy = 0;
    for (uint32_t a = 0; a < n_a; a++)
        heavy[a] = c.per_a[a] > max ? n_heavy++ : -1;
    if (n_heavy) {
        c.heavy = heavy;
        c.per_b = cs_xcalloc((size_t)n_heavy * CS_ID_BUCKETS, sizeof *c.per_b);
        each_pair(r, remap, p, disk, census_pairs, &c);
    }
    size_t n = 0, cap = 16, acc = 0;
    uint64_t *cut = cs_xmalloc(cap * sizeof *cut);
    cut[n++] = 0;
    *biggest = 0;
#define CUT_AT(key, count)                                                                         \
    do {                                                                                           \
        if (acc && acc + (count) > max) {                                                          \
            if (n + 2 > cap)                                                                       \
                cut = cs_xrealloc(cut, (cap *= 2) * sizeof *cut);                                  \
            cut[n++] = (key);                                                                      \
            *biggest = acc > *biggest ? acc : *biggest;                                            \
            acc = 0;                                                                               \
        }                                                                                          \
        acc += (count);                                                                            \
    } while (0)
    for (uint32_t a = 0; a < n_a; a++) {
        if (heavy[a] < 0) {
            if (c.per_a[a])
                CUT_AT((uint64_t)a << 32, c.per_a[a]);
            continue;
        }
        for (unsigned k = 0; k < CS_ID_BUCKETS; k++) {
            const uint64_t cb = c.per_b[(size_t)heavy[a] * CS_ID_BUCKETS + k];
            if (cb)
                CUT_AT((uint64_t)a << 32 | cs_id_bucket_start(k), cb);
        }
    }
#undef CUT_AT
    *biggest = acc > *biggest ? acc : *biggest;
    cut[n] = UINT64_MAX;
    free(c.per_a);
    free(c.per_b);
    free(heavy);
    *cuts = cut;
    return n;
}

/* A thread's share of the budget for the merge of a pair partition, in
 * bytes: merge_share over the threads, beside the terms, the n-grams
 * merged before, the margins and a quarter of the budget for the merged
 * pairs. A slice takes three quarters
 * of it (the slice, the sort's second copy and the summed pairs, 16 bytes
 * a pair: SLICE_BYTES), and the pairs dealt to the slices (pair_deal) the
 * last quarter (`room` an eighth: their buffers grow by doubling, and are
 * freed when they pass twice the room). A slice holds at least
 * PAIR_SLICE_MIN pairs, and the room is an eighth of what such a slice
 * takes. */
#define PAIR_SLICE_MIN 1024
#define SLICE_BYTES (4 * sizeof(cs_pair)) /* bytes of the share a slice's pair */

/* What the pair merge holds beside its scratch: the terms, the n-grams
 * merged before it (a lean merge's: the rows' candidates) and n_margins
 * sets of margins. */
static uint64_t pair_held(const cs_merged *m, int n_margins)
{
    uint64_t held = cs_merged_term_bytes(m) +
                    (uint64_t)n_margins * m->term_base[CS_N_PARTS] * sizeof(uint64_t);
    for (unsigned n = 2; n <= CS_NGRAM_MAX; n++)
        for (unsigned p = 0; m->grams[n] && p < CS_N_PARTS; p++) {
            const cs_part *part = &m->grams[n]->part[p];
            held += (uint64_t)part->cap * m->grams[n]->stride +
                    (part->slots ? ((uint64_t)part->mask + 1) * sizeof *part->slots : 0);
        }
    return held;
}

static size_t pair_share(const run *r, const cs_merged *m, int n_margins)
{
    return (size_t)(merge_share(r, pair_held(m, n_margins) + r->budget / 4, r->budget / 16) /
                    (uint64_t)r->nt);
}

/* What a table's rows may hold in memory while it is written: merge_share
 * beside the merged tables and terms (a sixteenth of the budget when they
 * pass it on their own). The partitions made past it are written out as
 * runs (write_tables), and the merge of the rows reads them back a block
 * at a time. */
static uint64_t rows_room(const run *r, const cs_merged *m)
{
    uint64_t held = pair_held(m, m->margin.lo != NULL);
    for (unsigned p = 0; m->pairs && p < CS_N_PARTS; p++)
        held += m->pairs[p].n * sizeof *m->pairs[p].v;
    return merge_share(r, held, r->budget / 16);
}

/* Sets of margins the pair merge's threads add into (merge_pair_runs). */
static int margin_sets(const run *r, const cs_merged *m)
{
    const int tight = (uint64_t)r->nt * m->term_base[CS_N_PARTS] * sizeof(uint64_t) >
                      r->budget / 4;
    return tight ? 1 : r->nt < MARGIN_THREADS ? r->nt : MARGIN_THREADS;
}

/* A bar for the first merge of a lean pair merge (merge_pairs): besides
 * the histogram and the margins, it keeps the pairs counted at least `bar`
 * (a count), which only rises: the histogram of the pairs summed so far
 * (`hist`, all threads') is of a subset of the pairs, each with its final
 * count (a slice sums all of a key's occurrences), so the top's floor from
 * it is at most the floor of all. What the top needs is then kept by the
 * one merge. The bar starts at 2: the pairs counted once, most of them,
 * are never kept (the first slices, before the histogram knows the top,
 * would keep them all: 96 MB at 1 GiB), and a top that reaches count 1
 * takes the second merge. When what is kept passes `cap` bytes (a
 * top that reaches low counts), it gives up: `gave_up`, and the second
 * merge cuts as before. */
typedef struct pair_bar {
    uint64_t bar;              /* a count; read and raised atomically */
    uint64_t kept, cap;        /* bytes kept, atomically; the most */
    int gave_up;               /* atomically */
    uint64_t left[CS_N_PARTS]; /* pairs counted (units > 0) and not kept */
    /* Under lock (or the partition's thread's, until done): the histogram
     * so far, the partitions merged (done), and the lowest bar each
     * partition's kept pairs were cut at. */
    omp_lock_t lock;
    uint64_t hist[CS_HIST_MAX + 1];
    int done[CS_N_PARTS];
    uint64_t cut_at[CS_N_PARTS];
} pair_bar;

/* Adds a summed slice's histogram (h) to the bar's and raises the bar to
 * the top's floor in it; returns the bar. */
static uint64_t bar_raise(pair_bar *b, const cs_options *o, const uint64_t *h)
{
    omp_set_lock(&b->lock);
    for (unsigned c = 0; c <= CS_HIST_MAX; c++)
        b->hist[c] += h[c];
    uint64_t need, at = top_floor(b->hist, o->top, o->min_count, &need);
    if (at > b->bar)
        __atomic_store_n(&b->bar, at, __ATOMIC_RELAXED);
    at = b->bar;
    omp_unset_lock(&b->lock);
    return at;
}

/* Partition p's kept pairs cut to `bar` (a count) when some were cut at
 * less: their bytes off kept. */
static void bar_cut(pair_bar *b, cs_merged *m, unsigned p, uint64_t bar)
{
    if (b->cut_at[p] >= bar || !m->pairs[p].n)
        return;
    const size_t before = m->pairs[p].n;
    b->left[p] += cut_pairs(&m->pairs[p], m, bar);
    b->cut_at[p] = bar;
    __atomic_sub_fetch(&b->kept, (before - m->pairs[p].n) * sizeof(cs_pair), __ATOMIC_RELAXED);
}

/* What is kept passed half the cap: the partitions merged, and the
 * caller's own (p, not done: its thread's), are cut to the bar as it is
 * now, those cut at less before. (As the n-gram merge's lean_raise: the
 * first partitions kept what a low bar let through.) Still past the cap,
 * the bar gives up, and what they kept is freed at once (the second merge
 * will keep the pairs at the cut). */
static void bar_prune(pair_bar *b, cs_merged *m, unsigned p)
{
    omp_set_lock(&b->lock);
    const uint64_t now = __atomic_load_n(&b->bar, __ATOMIC_RELAXED);
    for (unsigned q = 0; q < CS_N_PARTS; q++)
        if (b->done[q] || q == p)
            bar_cut(b, m, q, now);
    if (__atomic_load_n(&b->kept, __ATOMIC_RELAXED) > b->cap) {
        __atomic_store_n(&b->gave_up, 1, __ATOMIC_RELAXED);
        for (unsigned q = 0; q < CS_N_PARTS; q++)
            if (b->done[q] || q == p)
                cs_pair_run_free(&m->pairs[q]);
    }
    omp_unset_lock(&b->lock);
}

/* Merges every source's pairs into m->pairs: a task per partition takes
 * that partition of every source's runs, translated through remap[source],
 * and sorts and sums them (in a buffer each thread keeps for its tasks);
 * a partition past a thread's share of the budget (pair_share) in
 * slices (plan_pair_slices; HIST keeps its plans for CUT, which reads the
 * same runs), which a pass over the runs deals the pairs to (pair_deal).
 * `mode` says what
 * stays (PAIRS_*). The first merge of the runs (KEEP, HIST) hands each
 * summed slice to the state being written. HIST adds each slice's counts
 * into hist (CS_HIST_MAX + 1 buckets) and its pairs into the margins,
 * keeps the pairs at the bar when there is one (merge_pairs frees the runs
 * then), and leaves the runs; the others free them. HIST with makers keeps
 * none: each thread writes the pairs it sums, counted --min-count or more,
 * out (row_maker, for rows_of_sums), counts the types in m->left and frees
 * the runs; its hist may be NULL (no histogram: the rows are every pair). The margins take 8 bytes a term
 * each: MARGIN_THREADS sets of them at most (one when the budget is
 * tight), thread t adding into set t % na, under its lock when the threads
 * are more. */
static void merge_pair_runs(run *r, cs_merged *m, const uint32_t *const *remap, int mode,
                            uint64_t floor, uint64_t *hist, pair_bar *bar, row_maker *makers)
{
    const int ns = n_sources(r), nt = r->nt;
    const size_t n_terms = (size_t)m->term_base[CS_N_PARTS];
    const int na = margin_sets(r, m);
    for (int s = 0; s < ns; s++) { /* merges a spilled pair goes through: a thread's, then this */
        const unsigned levels = 1 + cs_pairs_levels(source(r, s)->pairs);
        r->pair_levels = levels > r->pair_levels ? levels : r->pair_levels;
    }
    r->pair_passes++;
    cs_state_writer *sw = mode != PAIRS_CUT ? r->sw : NULL;
    cs_margins *acc = NULL;
    omp_lock_t lock[MARGIN_THREADS];
    uint64_t *th = NULL;
    assert(!bar || hist); /* the bar rises with the histogram */
    if (mode == PAIRS_HIST) {
        acc = cs_xcalloc((size_t)na, sizeof *acc);
        for (int a = 0; a < na; a++) {
            cs_margins_init(&acc[a], n_terms);
            omp_init_lock(&lock[a]);
        }
        if (hist) /* (NULL: the rows' merge, whose rows are every pair) */
            th = cs_xcalloc((size_t)nt * (CS_HIST_MAX + 1), sizeof *th);
    }
    const size_t share = pair_share(r, m, mode == PAIRS_HIST ? na : m->margin.lo != NULL);
    size_t max = share / SLICE_BYTES;
    max = max < PAIR_SLICE_MIN ? PAIR_SLICE_MIN : max;
    cs_spill_file **scratch = cs_xcalloc((size_t)nt, sizeof *scratch);
    for (int t = 0; t < nt; t++) {
        char name[32];
        snprintf(name, sizeof name, "t%d-slices%u", t, r->pair_passes); /* a file a merge */
        scratch[t] = cs_spill_file_scratch(r->spill, name);
    }
    uint64_t slices = 0, most = 0;
#pragma omp parallel num_threads(nt) default(none) \
    shared(r, m, remap, ns, mode, floor, sw, acc, th, lock, nt, na, share, max, scratch, bar, \
           makers) reduction(+ : slices) reduction(max : most)
    {
        cs_pair *buf = NULL;
        size_t cap = 0;
        cs_buf disk = {0};
        const int t = omp_get_thread_num();
        uint64_t *ph = bar ? cs_xmalloc((CS_HIST_MAX + 1) * sizeof *ph) : NULL; /* a slice's */
        pair_deal deal = {.room = max * SLICE_BYTES / 8, .file = scratch[t]};
#pragma omp for schedule(dynamic, 1)
        for (unsigned p = 0; p < CS_N_PARTS; p++) {
            size_t n = 0;
            for (int s = 0; s < ns; s++) /* no pairs: a merge's threads count nothing */
                n += source(r, s)->pairs ? cs_pairs_part_n(source(r, s)->pairs, p) : 0;
            uint64_t whole[2] = {0, UINT64_MAX}, *cuts = whole;
            size_t n_slices = 1, biggest = n;
            struct pair_plan *plan = &r->pair_plan[p];
            if (n > max) {
                if (plan->cuts && plan->biggest <= max) {
                    /* the first pass's slices still fit: spares the
                     * planning's reads of the runs */
                    cuts = plan->cuts;
                    n_slices = plan->n;
                    biggest = plan->biggest;
                    plan->cuts = NULL;
                } else {
                    n_slices = plan_pair_slices(r, m, remap, p, max, &disk, &cuts, &biggest);
                }
                if (n_slices == 1)
                    biggest = n; /* read whole below, every run (a read may fail) */
                else
                    deal_part(r, remap, p, &disk, cuts, n_slices, &deal);
            }
            slices += n_slices > 1 ? n_slices : 0;
            most = n_slices > most ? n_slices : most;
            if (!buf || biggest > cap) {
                free(buf);
                cap = n_slices > 1 ? biggest : biggest + biggest / 4;
                buf = cs_xhuge((2 * cap + 2) * sizeof *buf);
            }
            uint64_t left = 0;
            for (size_t sc = 0; sc < n_slices; sc++) {
                size_t got = 0, n_sorted = 0;
                if (n_slices == 1) {
                    for (int s = 0; s < ns; s++) {
                        if (source(r, s)->pairs)
                            got += cs_pairs_part_get(source(r, s)->pairs, p, remap[s], buf + got,
                                                     &disk);
                        if (s == 0 && r->n_states)
                            n_sorted = got; /* a state merged first: in key order (source()) */
                    }
                } else {
                    pair_slice ps = {cuts[sc], cuts[sc + 1], buf, 0, biggest};
                    dealt_pairs(&deal, sc, &disk, &ps);
                    got = ps.n;
                }
                cs_pair_run piece = cs_pairs_sum_from(buf, n_sorted, buf + cap + 1, got);
                assert(piece.n < UINT32_MAX); /* row indices are 32-bit */
                if (sw)
                    cs_state_writer_pairs_piece(sw, p, &piece);
                if (mode == PAIRS_HIST) {
                    cs_pair_run kept = m->pairs[p]; /* the partition's slices before */
                    m->pairs[p] = piece; /* what the histogram and the margins read */
                    if (th) {
                        uint64_t *mine = th + (size_t)t * (CS_HIST_MAX + 1);
                        if (bar)
                            memset(ph, 0, (CS_HIST_MAX + 1) * sizeof *ph);
                        cs_count_hist_part(m, CS_PAIRS, p, bar ? ph : mine);
                        for (unsigned c = 0; bar && c <= CS_HIST_MAX; c++)
                            mine[c] += ph[c];
                    }
                    if (nt > na)
                        omp_set_lock(&lock[t % na]);
                    cs_pair_margins_part(m, p, &acc[t % na]);
                    if (nt > na)
                        omp_unset_lock(&lock[t % na]);
                    if (makers) { /* out, for rows_of_sums */
                        for (size_t i = 0; i < piece.n; i++) {
                            const __int128 u = cs_pair_units(&piece, i);
                            if (u <= 0)
                                continue; /* (a shard taken back) */
                            left++; /* the types */
                            if ((unsigned __int128)u >= makers[t].min_units)
                                cs_rowrun_put_pair(&makers[t].w,
                                                   p << CS_ID_BITS |
                                                       (uint32_t)(piece.v[i].key >> 32),
                                                   (uint32_t)piece.v[i].key,
                                                   (unsigned __int128)u);
                        }
                    }
                    if (bar && !__atomic_load_n(&bar->gave_up, __ATOMIC_RELAXED)) {
                        const uint64_t now = bar_raise(bar, r->opt, ph);
                        bar->left[p] += cut_pairs(&m->pairs[p], m, now);
                        if (!kept.n || now < bar->cut_at[p])
                            bar->cut_at[p] = now; /* the lowest its kept pairs were cut at */
                        piece = m->pairs[p];
                        m->pairs[p] = kept;
                        const uint64_t bytes = piece.n * sizeof *piece.v;
                        cs_pair_run_append(&m->pairs[p], &piece); /* (empties piece) */
                        if (__atomic_add_fetch(&bar->kept, bytes, __ATOMIC_RELAXED) > bar->cap / 2)
                            bar_prune(bar, m, p);
                    } else {
                        cs_pair_run_free(&m->pairs[p]);
                        m->pairs[p] = kept; /* (none, or freed after the merge) */
                    }
                } else {
                    if (mode == PAIRS_CUT)
                        left += cut_pairs(&piece, m, floor);
                    cs_pair_run_append(&m->pairs[p], &piece);
                }
            }
            assert(m->pairs[p].n < UINT32_MAX);
            if (mode == PAIRS_CUT || makers)
                m->left[CS_PAIRS][p] = left;
            if (bar) {
                omp_set_lock(&bar->lock);
                bar->done[p] = 1;
                omp_unset_lock(&bar->lock);
            }
            if (sw)
                cs_state_writer_pairs_part_done(sw, p);
            free(plan->cuts); /* (a first pass's plan that does not fit) */
            plan->cuts = NULL;
            if (mode == PAIRS_HIST && !makers && n_slices > 1)
                *plan = (struct pair_plan){cuts, n_slices, biggest}; /* for the second */
            else if (cuts != whole)
                free(cuts);
            deal_done(&deal);
        }
        free(buf);
        free(ph);
        cs_buf_free(&disk);
        deal_free(&deal);
#pragma omp for schedule(static, 1)
        for (int s = 0; s < ns; s++)
            if (mode != PAIRS_HIST || makers)
                cs_pairs_free(source(r, s)->pairs); /* the runs */
    }
    r->merge_slices += slices;
    free(scratch); /* (the files are the spill's) */
    char what[96];
    snprintf(what, sizeof what, "pairs merged: %" PRIu64 " slices, %" PRIu64 " at most a partition",
             slices, most);
    trace(r, what);
    if (mode == PAIRS_HIST) {
        for (int i = 0; th && i < nt; i++)
            for (unsigned c = 0; c <= CS_HIST_MAX; c++)
                hist[c] += th[(size_t)i * (CS_HIST_MAX + 1) + c];
        for (int a = 0; a < na; a++)
            omp_destroy_lock(&lock[a]);
        sum_margins(m, acc, na);
        free(acc);
    }
    free(th);
}

/* The most the merged window pairs hold: 16 bytes a summed pair, at most
 * as many as the runs hold. */
static uint64_t pair_bytes(const run *r)
{
    uint64_t bytes = 0;
    for (int s = 0; s < n_sources(r); s++)
        for (unsigned p = 0; source(r, s)->pairs && p < CS_N_PARTS; p++)
            bytes += (uint64_t)cs_pairs_part_n(source(r, s)->pairs, p) * sizeof(cs_pair);
    return bytes;
}

/* Whether the window pairs are merged lean (merge_pairs). */
static int pairs_go_lean(const run *r)
{
    return goes_lean(r, pair_bytes(r));
}

/* Merges the sources' window pairs into m (terms merged first) and sums
 * each term's margin for the measures. Lean, as the grams (merge_grams_lean):
 * a first merge for the count histogram and the margins, which need every
 * pair, keeping the pairs at a bar (pair_bar) when the budget leaves room
 * for them; then they are cut to write_tables' cut (r->pair_floor; no tie
 * cut for pairs, whose histogram buckets hold many counts), or, when the
 * bar gave up, had no room or the cut is at count 1, a second merge keeps
 * those at the cut.
 * Otherwise one merge, then a pass over the pairs for the margins: a task
 * per pair partition, adding into its thread's own margins. */
static void merge_pairs(run *r, cs_merged *m)
{
    const cs_options *o = r->opt;
    const int nt = r->nt;
    cs_merged_add_pairs(m, o->weight == CS_WEIGHT_HARMONIC ? cs_harmonic_unit(o->window) : 1);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        m->term_base[p + 1] = m->term_base[p] + m->vocab[p].n;
    const uint32_t *const *remap = (const uint32_t *const *)m->remap;
    if (o->top == UINT64_MAX && pair_bytes(r) > r->budget / 4) {
        /* Without --top, every pair counted --min-count or more is a row:
         * the merge keeps none, sums the margins (the rows' measures need
         * them all) and writes the pairs out for rows_of_sums. As the rows
         * of pairs held (rows_part): a --min-count of 0 keeps a harmonic
         * pair counted less than 1, one of 1 does not. */
        row_maker *mk = makers_new(r);
        const unsigned __int128 min_units =
            o->min_count ? (unsigned __int128)o->min_count * m->unit : 1;
        for (int t = 0; t < nt; t++)
            mk[t].min_units = min_units;
        merge_pair_runs(r, m, remap, PAIRS_HIST, 0, NULL, NULL, mk); /* (no histogram) */
        makers_end(r, mk, CS_PAIRS);
        trace(r, "pairs merged into rows");
        return;
    }
    if (pairs_go_lean(r)) {
        uint64_t *hist = cs_xcalloc(CS_HIST_MAX + 1, sizeof *hist);
        /* The bar's cap: what the budget leaves beside what the merge holds,
         * its scratch and a sixteenth; none worth having (below a sixteenth:
         * the n-grams merged before fill the budget), no bar. */
        const int na = margin_sets(r, m);
        const uint64_t needs = pair_held(m, na) + (uint64_t)pair_share(r, m, na) * (uint64_t)nt +
                               r->budget / 16;
        pair_bar *bar = NULL;
        if (needs + r->budget / 16 <= r->budget) {
            bar = cs_xcalloc(1, sizeof *bar);
            bar->cap = r->budget - needs;
            bar->bar = 2;
            omp_init_lock(&bar->lock);
        }
        merge_pair_runs(r, m, remap, PAIRS_HIST, 0, hist, bar, NULL);
        if (bar)
            omp_destroy_lock(&bar->lock);
        uint64_t need;
        r->pair_floor = o->top == UINT64_MAX ? o->min_count
                                             : top_floor(hist, o->top, o->min_count, &need);
        free(hist);
        r->lean_pairs = 1;
        const char *why = !bar ? "no room for a pairs' bar"
                          : bar->gave_up ? "the pairs' bar gave up"
                          : r->pair_floor < 2 ? "the top reaches pairs counted once" : NULL;
        if (!why) { /* the bar kept what the top needs */
            for (unsigned p = 0; p < CS_N_PARTS; p++)
                m->left[CS_PAIRS][p] = bar->left[p] + cut_pairs(&m->pairs[p], m, r->pair_floor);
            for (int s = 0; s < n_sources(r); s++)
                cs_pairs_free(source(r, s)->pairs); /* the runs */
            free(bar);
            trace(r, "pairs merged lean under a bar, in one merge");
            return;
        }
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            cs_pair_run_free(&m->pairs[p]);
        char what[96];
        snprintf(what, sizeof what, "%s: a second merge cuts", why);
        trace(r, what);
        free(bar);
        merge_pair_runs(r, m, remap, PAIRS_CUT, r->pair_floor, NULL, NULL, NULL);
        return;
    }
    merge_pair_runs(r, m, remap, PAIRS_KEEP, 0, NULL, NULL, NULL);
    const size_t n_terms = (size_t)m->term_base[CS_N_PARTS];
    /* 8 bytes a term per thread: a few threads are enough for a pass
     * over the pairs, and bound that memory on machines with many cores. */
    const int na = nt < MARGIN_THREADS ? nt : MARGIN_THREADS;
    cs_margins *acc = cs_xcalloc((size_t)na, sizeof *acc);
    for (int a = 0; a < na; a++) /* (made here: OpenMP may give fewer threads) */
        cs_margins_init(&acc[a], n_terms);
#pragma omp parallel num_threads(na) default(none) shared(m, acc)
    {
        cs_margins *mine = &acc[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            cs_pair_margins_part(m, p, mine);
    }
    sum_margins(m, acc, na); /* thread 0's margins become the sums */
    free(acc);
}

/* --cooc doc with --cooc-vocab reads every input twice: each must be a
 * regular file (a pipe or stdin cannot be read again; opening a FIFO a
 * second time would wait for a writer forever). Records how each looked,
 * so that second_pass can tell one that changed in between. */
static cs_status check_rereadable(run *r, cs_error *err)
{
    r->seen = cs_xcalloc(r->inputs.n + 1, sizeof *r->seen);
    for (size_t i = 0; i < r->inputs.n; i++) {
        const cs_input *in = &r->inputs.v[i];
        if (in->error)
            continue; /* unreadable: reported and skipped in the first pass */
        if (in->is_stdin || stat(in->path, &r->seen[i]) != 0 || !S_ISREG(r->seen[i].st_mode)) {
            cs_error_set(err, CS_ERR_USAGE, in->is_stdin ? NULL : in->path,
                         "--cooc doc reads its inputs twice (once to find the top "
                         "--cooc-vocab terms), and %s cannot be read twice: give the terms "
                         "with --cooc-terms FILE, or the input as a regular file",
                         in->is_stdin ? "stdin" : "this input (not a regular file)");
            return CS_ERR_USAGE;
        }
    }
    return CS_OK;
}

/* The input that is not as check_rereadable saw it, or SIZE_MAX. */
static size_t changed_input(const run *r)
{
    for (size_t i = 0; i < r->inputs.n; i++) {
        const struct stat *a = &r->seen[i];
        struct stat b;
        if (r->inputs.v[i].error)
            continue;
        if (stat(r->inputs.v[i].path, &b) != 0 || b.st_dev != a->st_dev || b.st_ino != a->st_ino ||
            b.st_size != a->st_size || b.st_mtim.tv_sec != a->st_mtim.tv_sec ||
            b.st_mtim.tv_nsec != a->st_mtim.tv_nsec)
            return i;
    }
    return SIZE_MAX;
}

static void add_to_vocab(void *v, const uint8_t *p, size_t n)
{
    cs_strset_add(v, p, n);
}

/* The second pass of --cooc doc with --cooc-vocab: the vocabulary is the
 * top terms by doc_count, known only now, so every input that counted is
 * read again, its documents' vocabulary terms paired and nothing else
 * counted. What the first pass recorded per input and per thread (stats,
 * diagnostics) is kept as it was; an input that reads differently now
 * (another size, other documents, an error) changed between the passes,
 * and its pairs would not match its terms: the run stops. */
static cs_status second_pass(run *r, cs_error *err)
{
    const size_t n_in = r->inputs.n;
    cs_in_result *first = cs_xmalloc((n_in + 1) * sizeof *first);
    uint8_t *skip = cs_xcalloc(n_in + 1, 1);
    for (size_t i = 0; i < n_in; i++) {
        first[i] = r->in[i];
        skip[i] = r->in[i].status != CS_IN_OK;
        r->in[i] = (cs_in_result){0};
    }
    struct {
        cs_tok_stats st;
        size_t n_diags;
    } *saved = cs_xmalloc((size_t)r->nt * sizeof *saved);
    for (int t = 0; t < r->nt; t++) {
        saved[t].st = r->w[t]->st;
        saved[t].n_diags = r->w[t]->n_diags;
        cs_counter_set_vocab(&r->w[t]->counter, r->vocab, 1);
    }
    r->skip = skip; /* progress goes on: the total counted both readings */
    int nt = r->nt;
    run *rp = r;
#pragma omp parallel num_threads(nt) default(none) shared(rp)
    count_inputs(rp);
    r->skip = NULL;
    size_t changed = changed_input(r); /* rewritten in place, even at the same size */
    for (size_t i = 0; i < n_in; i++) {
        const cs_in_result *a = &first[i], *b = &r->in[i];
        if (!skip[i] && changed == SIZE_MAX &&
            (b->status != CS_IN_OK || b->decoded != a->decoded || b->documents != a->documents ||
             b->bad_records != a->bad_records))
            changed = i;
        free(b->error);
        r->in[i] = first[i];
    }
    for (int t = 0; t < r->nt; t++) { /* the first pass's stats and diagnostics */
        worker *w = r->w[t];
        w->st = saved[t].st;
        w->n_diags = saved[t].n_diags;
    }
    free(saved);
    free(first);
    free(skip);
    if (cs_spill_error(r->spill)) /* which stopped the reading: not a changed input */
        return spill_failed(r, err);
    if (r->stop_input != SIZE_MAX) {
        *err = r->stop_err;
        return CS_ERR_INPUT;
    }
    if (changed != SIZE_MAX) {
        cs_error_set(err, CS_ERR_INPUT, r->inputs.v[changed].path,
                     "changed while being read twice for --cooc doc (its second reading differs)");
        return CS_ERR_INPUT;
    }
    return CS_OK;
}

/* --cooc doc, after the terms are merged: the vocabulary (the top terms by
 * doc_count unless --cooc-terms gave it), the second pass if it needs one,
 * then the pairs merged and their measures' totals set. */
static cs_status merge_doc_pairs(run *r, cs_merged *m, uint64_t documents, cs_error *err)
{
    if (!r->vocab && !r->eff.n_merge) { /* (a merge's pairs are all in its states) */
        uint32_t n;
        uint32_t *gids = cs_top_terms_by_docs(m, r->opt->cooc_vocab, &n);
        r->vocab = cs_strset_new();
        for (uint32_t i = 0; i < n; i++) { /* index i: gids[i] */
            uint32_t len;
            const uint8_t *key = cs_merged_bytes(m, gids[i], &len);
            cs_strset_add(r->vocab, key, len);
        }
        r->vocab_gid = gids;
        if (n >= 2) { /* else no pair: no need to read anything again */
            cs_status st = second_pass(r, err);
            if (st != CS_OK)
                return st;
        }
    }
    cs_merged_add_pairs(m, 1);
    m->total = (unsigned __int128)documents; /* margins: the terms' doc_count */
    int any = 0;
    for (int s = 0; s < n_sources(r); s++)
        any |= source(r, s)->pairs != NULL;
    if (!any)
        return CS_OK; /* a vocabulary of fewer than two terms: no pair, no second pass */
    /* Vocabulary index -> global term id (r->vocab_gid), the same remap
     * for every thread; a state's pairs hold its term ids. */
    const uint32_t **remap = cs_xmalloc((size_t)n_sources(r) * sizeof *remap);
    for (int s = 0; s < n_sources(r); s++)
        remap[s] = s < r->n_states ? m->remap[s] : r->vocab_gid;
    merge_pair_runs(r, m, remap, PAIRS_KEEP, 0, NULL, NULL, NULL);
    free(remap);
    return CS_OK;
}

/* ------------------------------------------------------------------ */
/* state                                                                */

/* DIR/name, owned by the caller. */
static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = cs_xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* --state DIR and -o OUT one inside the other (or the same) would lose one
 * of them: the output folder is replaced as a whole at the commit. staged:
 * the staging folder beside OUT (it exists: OUT's real parent). */
/* p made absolute and free of links and dots, whether or not it exists:
 * realpath(3) of its deepest existing folder, with the rest appended.
 * Owned by the caller; NULL when even "." cannot be resolved. */
static char *abs_path(const char *p)
{
    char *real = realpath(p, NULL);
    if (real || !*p)
        return real;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    const char *slash = memrchr(p, '/', n);
    char *parent = slash ? (slash == p ? cs_xstrdup("/") : strndup(p, (size_t)(slash - p)))
                         : cs_xstrdup(".");
    char *up = abs_path(parent);
    free(parent);
    if (!up)
        return NULL;
    const char *base = slash ? slash + 1 : p;
    const size_t lb = n - (size_t)(base - p), lu = strlen(up);
    char *out = cs_xmalloc(lu + lb + 2);
    memcpy(out, up, lu);
    size_t at = lu;
    if (!(lb == 1 && base[0] == '.')) { /* (".." cannot be resolved without the folder) */
        if (at == 0 || out[at - 1] != '/')
            out[at++] = '/';
        memcpy(out + at, base, lb);
        at += lb;
    }
    out[at] = 0;
    free(up);
    return out;
}

static cs_status state_apart(const char *state_dir, const char *staged, const char *out,
                             cs_error *err)
{
    char *st = abs_path(state_dir), *sp = realpath(staged, NULL);
    cs_status rc = CS_OK;
    if (st && sp) {
        const char *base = strrchr(out, '/');
        base = base ? base + 1 : out;
        char *slash = strrchr(sp, '/');
        *slash = 0; /* sp: OUT's real parent */
        size_t n = strlen(sp) + strlen(base) + 2;
        char *o = cs_xmalloc(n);
        snprintf(o, n, "%s/%s", sp, base);
        const size_t ls = strlen(st), lo = strlen(o);
        if ((ls == lo && !memcmp(st, o, ls)) || (ls > lo && !memcmp(st, o, lo) && st[lo] == '/') ||
            (lo > ls && !memcmp(st, o, ls) && o[ls] == '/')) {
            cs_error_set(err, CS_ERR_USAGE, state_dir,
                         "--state and -o %s are one inside the other: the output folder is "
                         "replaced as a whole, so keep the state beside it",
                         out);
            rc = CS_ERR_USAGE;
        }
        free(o);
    }
    free(st);
    free(sp);
    return rc;
}

/* The state folder of --state: made if missing, and locked for the run
 * (two runs adding to one state would each write what the other misses). */
static cs_status state_lock(run *r, cs_error *err)
{
    const char *dir = r->eff.state_dir;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        cs_error_set(err, CS_ERR_OUTPUT, dir, "cannot make the --state folder: %s",
                     strerror(errno));
        return CS_ERR_OUTPUT;
    }
    char *lock = path_in(dir, ".lock");
    r->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    free(lock);
    if (r->lock_fd < 0) {
        cs_error_set(err, CS_ERR_OUTPUT, dir, "cannot use the --state folder: %s",
                     strerror(errno));
        return CS_ERR_OUTPUT;
    }
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        cs_error_set(err, CS_ERR_OUTPUT, dir,
                     "another corpusstat run is using this --state folder: wait for it to end");
        return CS_ERR_OUTPUT;
    }
    r->state_tmp = path_in(dir, CS_STATE_FILE ".new");
    unlink(r->state_tmp); /* a run killed while writing it left it */
    r->state_tmp_reg = cs_tmp_track(r->state_tmp, 0);
    return CS_OK;
}

/* corpusstat merge: reads the states, checks that they can be combined,
 * and takes the tables' kinds from them. */
static cs_status merge_open(run *r, cs_error *err)
{
    cs_options *o = &r->eff;
    r->states = cs_xcalloc(o->n_merge, sizeof *r->states);
    for (size_t k = 0; k < o->n_merge; k++) {
        struct stat sb;
        const char *arg = o->merge[k];
        char *file = stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode) ? path_in(arg, CS_STATE_FILE)
                                                                : cs_xstrdup(arg);
        r->states[k] = cs_state_read(file, r->nt, err);
        free(file);
        if (!r->states[k])
            return CS_ERR_INPUT;
        r->n_states++;
        char diff[1200];
        if (cs_state_settings_diff(r->states[0]->settings, r->states[k]->settings, diff,
                                   sizeof diff)) {
            cs_error_set(err, CS_ERR_USAGE, r->states[k]->file,
                         "was counted with other settings than %s: %s; states combine only "
                         "when counted alike",
                         r->states[0]->file, diff);
            return CS_ERR_USAGE;
        }
    }
    const cs_state_shape sh = r->states[0]->shape;
    o->ngram_min = sh.ngram_min;
    o->ngram_max = sh.ngram_max;
    o->cooc = (cs_cooc)sh.cooc;
    o->window = sh.window ? sh.window : o->window;
    o->weight = (cs_weight)sh.weight;
    o->cooc_terms_path = NULL;
    r->next = cs_state_new(r->states[0]->settings, sh);
    /* An input in two states would be counted twice: by its bytes (one
     * file copied to two machines) or by its path. */
    cs_strset *paths = cs_strset_new(), *bytes = cs_strset_new();
    int *owner = NULL; /* [bytes index]: the state that holds those bytes */
    size_t cap_owner = 0;
    cs_status st = CS_OK;
    for (int k = 0; k < r->n_states && st == CS_OK; k++) {
        const cs_state *a = r->states[k];
        cs_state_totals *t = &r->next->tot;
        add_tok_stats(&t->tok, &a->tot.tok, 1);
        t->bad_records += a->tot.bad_records;
        t->undecodable += a->tot.undecodable;
        t->bytes_on_disk += a->tot.bytes_on_disk;
        t->bytes_decoded += a->tot.bytes_decoded;
        for (size_t i = 0; i < a->n_inputs && st == CS_OK; i++) {
            const cs_state_input *in = &a->inputs[i];
            uint64_t id[3] = {in->hash_lo, in->hash_hi, in->size};
            const size_t n_paths = cs_strset_size(paths), n_bytes = cs_strset_size(bytes);
            uint32_t pi = cs_strset_add(paths, (const uint8_t *)in->path, strlen(in->path));
            uint32_t bi = cs_strset_add(bytes, (const uint8_t *)id, sizeof id);
            if (bi == n_bytes) {
                if (bi >= cap_owner) {
                    cap_owner = cap_owner ? 2 * cap_owner : 1024;
                    owner = cs_xrealloc(owner, cap_owner * sizeof *owner);
                }
                owner[bi] = k;
            }
            /* (two files of one state with the same bytes were counted
             * twice by one run, as a recount would count them) */
            if (pi < n_paths || (bi < n_bytes && owner[bi] != k)) {
                cs_error_set(err, CS_ERR_USAGE, in->path,
                             "is counted in %s and, %s, in an earlier state of the list: "
                             "states combine only when no input is in two of them",
                             a->file, pi < n_paths ? "by its path" : "by its bytes");
                st = CS_ERR_USAGE;
            }
            cs_state_add_input(r->next, in);
        }
    }
    cs_strset_free(paths);
    cs_strset_free(bytes);
    free(owner);
    if (st == CS_OK && o->state_dir) {
        st = state_lock(r, err);
        char *file = path_in(o->state_dir, CS_STATE_FILE);
        if (st == CS_OK && access(file, F_OK) == 0) {
            cs_error_set(err, CS_ERR_USAGE, file,
                         "exists: a merge writes its state into a --state folder that holds "
                         "none yet");
            st = CS_ERR_USAGE;
        }
        free(file);
    }
    return st;
}

/* count --state DIR: reads the state there (none yet: an empty one),
 * checks that it was counted alike and that its files are as they were,
 * and leaves out of the run the inputs it has counted. */
static cs_status state_open(run *r, cs_error *err)
{
    cs_options *o = &r->eff;
    cs_status st = state_lock(r, err);
    if (st != CS_OK)
        return st;
    char *settings = cs_state_settings(o, r->stopwords, r->vocab);
    r->next = cs_state_new(settings, cs_state_shape_of(o));
    free(settings);
    char *file = path_in(o->state_dir, CS_STATE_FILE);
    if (access(file, F_OK) == 0) {
        cs_state *old = cs_state_read(file, r->nt, err);
        if (!old) {
            free(file);
            return CS_ERR_INPUT;
        }
        r->states = cs_xcalloc(1, sizeof *r->states);
        r->states[r->n_states++] = old;
        char diff[1200];
        if (cs_state_settings_diff(old->settings, r->next->settings, diff, sizeof diff)) {
            cs_error_set(err, CS_ERR_USAGE, file,
                         "was counted with other settings: %s (the state's, then this run's); "
                         "run with the state's options, or count into another --state folder",
                         diff);
            free(file);
            return CS_ERR_USAGE;
        }
        r->next->tot = old->tot;
        for (size_t i = 0; i < old->n_inputs; i++)
            cs_state_add_input(r->next, &old->inputs[i]);
    }
    free(file);
    /* --retract: out of the manifest first, so that the files it names
     * (changed or vanished since, or to be withdrawn) are not checked. */
    const size_t n_ret = o->n_retract;
    cs_state_input *ret = cs_xcalloc(n_ret + 1, sizeof *ret);
    char **counted = cs_xcalloc(n_ret + 1, sizeof *counted);
    cs_strset *gone = cs_strset_new();
    for (size_t k = 0; k < n_ret && st == CS_OK; k++) {
        st = cs_state_retract(r->next, o->retract[k], &ret[k], &counted[k], err);
        if (st == CS_OK)
            cs_strset_add(gone, (const uint8_t *)ret[k].path, strlen(ret[k].path));
    }
    const size_t n = r->inputs.n;
    uint8_t *already = cs_xcalloc(n + 1, 1);
    r->fresh = cs_xcalloc(n + n_ret + 1, sizeof *r->fresh);
    if (st == CS_OK)
        st = cs_state_check_inputs(r->next, r->inputs.v, n, already, r->fresh, err);
    /* Counted already, or being retracted: out of the run's list (and its
     * summary's). */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *real = r->fresh[i].path;
        if (already[i] || (real && cs_strset_has(gone, (const uint8_t *)real, strlen(real)))) {
            free(r->inputs.v[i].path);
            free(r->inputs.v[i].error);
            free(r->fresh[i].path);
            r->already += already[i];
            continue;
        }
        r->inputs.v[k] = r->inputs.v[i];
        r->fresh[k++] = r->fresh[i];
    }
    r->inputs.n = k;
    free(already);
    cs_strset_free(gone);
    /* The retracted files, counted last with sign -1. */
    if (st == CS_OK && n_ret) {
        /* From their realpaths: never "-" or "@LIST", each one regular file
         * (cs_state_retract). */
        const char **paths = cs_xmalloc((n_ret + 1) * sizeof *paths);
        for (size_t i = 0; i < n_ret; i++)
            paths[i] = ret[i].path;
        cs_input_list more = {0};
        cs_inputs_expand(paths, n_ret, o->format, NULL, 0, &more);
        free(paths);
        assert(more.n == n_ret);
        r->inputs.v = cs_xrealloc(r->inputs.v, (k + n_ret + 1) * sizeof *r->inputs.v);
        r->first_retract = k;
        for (size_t i = 0; i < n_ret; i++) {
            /* read as what was counted: a backup named x.jsonl.zst.orig is zstd JSONL */
            cs_input_classify_as(&more.v[i], counted[i], o->format);
            r->inputs.v[k + i] = more.v[i];
            r->fresh[k + i] = ret[i];
            ret[i].path = NULL;
        }
        r->inputs.n = r->inputs.cap = k + n_ret;
        free(more.v);
    }
    for (size_t i = 0; i < n_ret; i++) {
        free(ret[i].path);
        free(counted[i]);
    }
    free(ret);
    free(counted);
    if (st != CS_OK)
        return st;
    /* The new inputs' fingerprints, before they are read: a file that
     * changes while it is counted is caught after (state_add_inputs). One
     * that cannot be read is left without: the reading reports it as
     * unreadable, and it stays out of the list. */
    const int nt = r->nt;
    cs_state_input *fresh = r->fresh;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) default(none) shared(fresh, k)
    for (size_t i = 0; i < k; i++) /* (the retracted ones have theirs) */
        if (fresh[i].path && cs_file_hash(fresh[i].path, &fresh[i].hash_lo, &fresh[i].hash_hi)) {
            free(fresh[i].path);
            fresh[i].path = NULL;
        }
    return CS_OK;
}

/* After counting: the new inputs go into the state's list (those that
 * could not be opened stay out, to be counted when they can), if each is
 * still as it was fingerprinted; and the run's totals into its totals. */
static cs_status state_add_inputs(run *r, const cs_summary *sum, cs_error *err)
{
    cs_state_totals *t = &r->next->tot;
    for (size_t i = 0; i < r->inputs.n; i++) {
        const cs_state_input *f = &r->fresh[i];
        const int64_t sign = input_sign(r, i);
        struct stat sb;
        if (sign < 0 && r->in[i].status == CS_IN_UNREADABLE) {
            cs_error_set(err, CS_ERR_INPUT, r->inputs.v[i].path, "cannot be read to retract it: %s",
                         r->in[i].error);
            return CS_ERR_INPUT;
        }
        if (r->in[i].status == CS_IN_UNREADABLE)
            continue;
        if (!f->path) { /* not fingerprinted, yet read: it was not readable a moment ago */
            cs_error_set(err, CS_ERR_INPUT, r->inputs.v[i].path,
                         "could not be read to fingerprint it for the state, then was read: "
                         "run again");
            return CS_ERR_INPUT;
        }
        if (stat(f->path, &sb) != 0 || !cs_state_input_same_stamp(f, &sb)) {
            cs_error_set(err, CS_ERR_INPUT, r->inputs.v[i].path,
                         "changed while it was being counted: the state cannot say which "
                         "bytes it holds; run again");
            return CS_ERR_INPUT;
        }
        if (sign > 0)
            cs_state_add_input(r->next, f);
        t->bytes_on_disk += (uint64_t)sign * f->size;
        t->bytes_decoded += (uint64_t)sign * r->in[i].decoded;
        t->undecodable += (uint64_t)sign * (r->in[i].status == CS_IN_UNDECODABLE);
    }
    add_tok_stats(&t->tok, &sum->tok, 1);
    for (size_t i = 0; i < r->inputs.n; i++)
        t->bad_records += r->in[i].bad_records; /* (a retracted input's are negative) */
    return CS_OK;
}

/* The new state, beside the old until the tables are committed: written
 * as the merge goes (state.h), finished here. */
static cs_status state_error(run *r, int e, cs_error *err)
{
    cs_error_set(err, CS_ERR_OUTPUT, r->state_tmp,
                 "cannot write the state: %s (the state and the tables are left as they were)",
                 strerror(e));
    return CS_ERR_OUTPUT;
}

/* After the tables' commit: the new state replaces the old. Until this
 * rename the old state stands, and a run over the same inputs counts the
 * new ones again: the tables and the state never disagree for good. */
/* Renames the new state into place, the tables being in theirs: `file`
 * is its final path, made before (nothing is allocated once the tables
 * are in place, so running out of memory always means no table written). */
static cs_status state_commit(run *r, const char *file, cs_error *err)
{
    int e = rename(r->state_tmp, file) == 0 ? 0 : errno;
    if (!e) {
        int dfd = open(r->eff.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        return CS_OK;
    }
    cs_error_set(err, CS_ERR_OUTPUT, r->state_tmp,
                 "the tables are written, but the state could not be renamed into place: %s "
                 "(it still holds the counts before this run)",
                 strerror(e));
    return CS_ERR_OUTPUT;
}

/* ------------------------------------------------------------------ */
/* the run                                                              */

static int diag_cmp(const void *a, const void *b)
{
    const diag *x = a, *y = b;
    if (x->input != y->input)
        return x->input < y->input ? -1 : 1;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return 0;
}

/* Hands the skips to the caller in input order, a few per input. */
static void report_diags(run *r)
{
    size_t n = 0;
    for (int t = 0; t < r->nt; t++)
        n += r->w[t]->n_diags;
    diag *all = cs_xmalloc((n + 1) * sizeof *all);
    n = 0;
    for (int t = 0; t < r->nt; t++) {
        if (r->w[t]->n_diags)
            memcpy(all + n, r->w[t]->diags, r->w[t]->n_diags * sizeof *all);
        n += r->w[t]->n_diags;
    }
    qsort(all, n, sizeof *all, diag_cmp);
    size_t shown = 0, hidden = 0;
    for (size_t i = 0; i < n; i++) {
        const diag *d = &all[i];
        const cs_input *in = &r->inputs.v[d->input];
        const cs_in_result *res = &r->in[d->input];
        if (i == 0 || all[i - 1].input != d->input)
            shown = hidden = 0;
        cs_diag out = {d->kind, in->path, d->line, d->offset, 0, d->why};
        if (d->kind == CS_DIAG_BAD_RECORD) {
            if (res->status == CS_IN_UNDECODABLE)
                continue; /* the shard was taken back whole */
            out.has_offset = 1;
            if (shown++ >= DIAGS_PER_INPUT)
                hidden++;
            else if (r->opt->on_diag)
                r->opt->on_diag(r->opt->user, &out);
        } else {
            out.message = res->error;
            out.has_offset = res->has_offset;
            out.offset = res->error_offset;
            if (r->opt->on_diag)
                r->opt->on_diag(r->opt->user, &out);
        }
        if (hidden && (i + 1 == n || all[i + 1].input != d->input) && r->opt->on_diag) {
            cs_diag more = {CS_DIAG_SUPPRESSED, in->path, hidden, 0, 0, "more bad records"};
            r->opt->on_diag(r->opt->user, &more);
        }
    }
    free(all);
}

/* Under a --memory given, hands the memory a phase has freed (buffers,
 * runs, merged term partitions, the merge's scratch) back to the system
 * before the next phase grows: glibc keeps freed heap pages for reuse, and
 * they would count in the peak. It costs time (0.4 s at 128 MiB with
 * window pairs, as the rows fault their pages in again): not without a
 * budget asked for (bench/NOTES.md, 30). */
static void give_back(const run *r)
{
    if (r->opt->memory)
        malloc_trim(0);
}

/* The peak RSS: VmHWM, this program's own. getrusage's ru_maxrss is only
 * the fallback: Linux carries the parent's peak into it across fork and
 * exec, so a run started by a large process (a test runner holding tables)
 * reported that process's peak. */
static uint64_t peak_rss(void)
{
    long rss, hwm;
    vm_kb(&rss, &hwm);
    if (hwm >= 0)
        return (uint64_t)hwm * 1024;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024;
}

cs_status cs_count(const cs_options *opt, const char *const *inputs, size_t n_inputs,
                   cs_error *err)
{
    cs_status st = cs_options_check(opt, err);
    if (st != CS_OK)
        return st;
    double t0 = cs_now();
    cs_tok_global_init();

    run r;
    memset(&r, 0, sizeof r);
    r.eff = *opt;
    r.opt = opt = &r.eff; /* a merge takes the tables' kinds from its states */
    r.lock_fd = -1;
    r.first_retract = SIZE_MAX;
    r.nt = opt->threads > 0 ? opt->threads : omp_get_num_procs();
    r.t0 = t0;
    r.stop_input = SIZE_MAX;
    r.spool_failed = SIZE_MAX;
    r.chunk = opt->chunk_size;
    /* A buffer holds at least a BOM and a code point. */
    r.buf_size = opt->chunk_size < 4 ? 4 : opt->chunk_size;
    r.cfg_ext = (cs_tok_config){.fold = opt->fold_case,
                                .normalize = opt->normalize,
                                .join_lines = opt->join_lines,
                                .docs = CS_TOK_DOCS_EXTERNAL,
                                .max_len = opt->max_len,
                                .min_len = opt->min_len};
    if (opt->stopwords_path) {
        r.stopwords = cs_stopwords_load(opt->stopwords_path, &r.cfg_ext, err);
        if (!r.stopwords)
            return CS_ERR_USAGE;
    }
    r.cfg_ext.stopwords = r.stopwords;
    if (opt->cooc == CS_COOC_DOC && opt->cooc_terms_path) {
        r.vocab = cs_strset_new();
        if (cs_term_list_read(opt->cooc_terms_path, &r.cfg_ext, "--cooc-terms", add_to_vocab,
                              r.vocab, err) != 0) {
            cs_strset_free(r.vocab);
            cs_strset_free(r.stopwords);
            return CS_ERR_USAGE;
        }
    }
    r.cfg_lines = r.cfg_ext;
    r.cfg_lines.docs = opt->doc_sep == CS_DOCSEP_BLANK ? CS_TOK_DOCS_BLANK : CS_TOK_DOCS_LINE;

    cs_merged *m = NULL;
    double t_second = 0; /* the second pass of --cooc doc */
    cs_stage stage;
    st = cs_stage_open(opt->out_dir, &stage, err);
    if (st != CS_OK) {
        cs_strset_free(r.stopwords);
        cs_strset_free(r.vocab);
        return st;
    }
    if (opt->state_dir) { /* (nothing made yet: state_lock makes the folder) */
        st = state_apart(opt->state_dir, stage.path, stage.final, err);
        if (st != CS_OK)
            goto done;
    }
    /* Never read: the output folder, its staging twin, the state folder. */
    cs_exclude excl[3];
    char *real[3] = {NULL, NULL, NULL};
    size_t n_excl = 0;
    struct stat sb;
    const char *never[3] = {stage.final, stage.path, opt->state_dir};
    for (int i = 0; i < 3; i++)
        if (never[i] && stat(never[i], &sb) == 0) {
            real[n_excl] = realpath(never[i], NULL);
            excl[n_excl] = (cs_exclude){sb.st_dev, sb.st_ino, real[n_excl]};
            n_excl++;
        }
    cs_inputs_expand(inputs, n_inputs, opt->format, excl, n_excl, &r.inputs);
    if (opt->n_merge)
        st = merge_open(&r, err);
    else if (opt->state_dir)
        st = state_open(&r, err);
    if (st == CS_OK && opt->cooc == CS_COOC_DOC && !r.vocab && !opt->n_merge)
        st = check_rereadable(&r, err);
    free(real[0]);
    free(real[1]);
    free(real[2]);
    if (st != CS_OK)
        goto done;
    r.in = cs_xcalloc(r.inputs.n + 1, sizeof *r.in);
    for (size_t i = 0; i < r.inputs.n; i++)
        r.total += r.inputs.v[i].size;
    if (opt->cooc == CS_COOC_DOC && !r.vocab)
        r.total *= 2; /* every input is read twice (second_pass) */

    r.budget = opt->memory ? opt->memory : cs_default_memory();
    r.spill = cs_spill_new(opt->tmp_dir);
    r.max_bufs = 3 * r.nt + 2;
    r.w = cs_xcalloc((size_t)r.nt, sizeof *r.w);
    int nt = r.nt;
    run *rp = &r;
#pragma omp parallel num_threads(nt) default(none) shared(rp, nt)
    {
        /* Each thread allocates its own state: its pages stay local. */
        int t = omp_get_thread_num();
        worker *w = cs_xaligned(CS_CACHE_LINE, sizeof *w);
        memset(w, 0, sizeof *w);
        cs_counter_init(&w->counter, rp->opt->ngram_min, rp->opt->ngram_max, (uint64_t)t + 1,
                        (uint64_t)nt);
        w->tok_ext = cs_tok_new(&rp->cfg_ext);
        w->tok_lines = cs_tok_new(&rp->cfg_lines);
        if (rp->opt->cooc == CS_COOC_WINDOW)
            cs_counter_set_window(&w->counter, rp->opt->window,
                                  rp->opt->weight == CS_WEIGHT_HARMONIC);
        else if (rp->vocab) /* --cooc-terms: the pairs are counted in the same pass */
            cs_counter_set_vocab(&w->counter, rp->vocab, 0);
        /* What --memory bounds while counting: a thread's share of the
         * budget goes a quarter to its term table, a quarter to its n-gram
         * and pair buffers and half to the runs it holds; past that they
         * are spilled (table.h, spill.h). */
        const size_t share = (size_t)(rp->budget / (uint64_t)nt);
        cs_counter_set_budget(&w->counter, share / 4, share / 4, share / 2,
                              rp->opt->cooc == CS_COOC_DOC && !rp->vocab, rp->spill, t);
        cs_tok_set_sink(w->tok_ext, cs_counter_consume, &w->counter);
        cs_tok_set_sink(w->tok_lines, cs_counter_consume, &w->counter);
        rp->w[t] = w;
#pragma omp barrier
        count_inputs(rp);
    }
    double t1 = cs_now();
    trace(&r, "counted");
    give_back(&r);

    cs_summary sum;
    memset(&sum, 0, sizeof sum);
    sum.opt = opt;
    sum.inputs = &r.inputs;
    sum.in = r.in;
    sum.threads = r.nt;
    sum.stopwords = cs_strset_size(r.stopwords);
    sum.state_dir = opt->state_dir;
    sum.states_merged = r.eff.n_merge ? (uint64_t)r.n_states : 0;
    sum.state_already = r.already;
    sum.first_retract = r.first_retract;
    sum.cooc_terms = opt->cooc_terms_path ? cs_strset_size(r.vocab) : 0;
    for (int t = 0; t < r.nt; t++)
        add_tok_stats(&sum.tok, &r.w[t]->st, 1);
    for (size_t i = 0; i < r.inputs.n; i++) {
        sum.bytes_on_disk += r.inputs.v[i].size;
        sum.bytes_decoded += r.in[i].decoded;
        if (i >= r.first_retract)
            continue; /* skips of inputs retracted: reported when they were counted */
        sum.bad_records += r.in[i].bad_records;
        sum.undecodable += r.in[i].status == CS_IN_UNDECODABLE;
        sum.unreadable += r.in[i].status == CS_IN_UNREADABLE;
    }
    if (cs_spill_error(r.spill)) {
        st = spill_failed(&r, err);
        goto done;
    }
    if (r.stop_input == SIZE_MAX)
        report_diags(&r);
    else {
        *err = r.stop_err;
        st = CS_ERR_INPUT;
        goto done;
    }
    if (r.next) {
        if (!opt->n_merge && (st = state_add_inputs(&r, &sum, err)) != CS_OK)
            goto done;
        sum.tok = r.next->tot.tok; /* the tables': every input the state holds */
    }
    /* A state that nothing changes (no input read, no file's stamp
     * renewed: a run for other --top or --min-count) is left as it is. */
    const int rewrite = opt->state_dir && (opt->n_merge || !r.n_states || r.inputs.n ||
                                            r.next->touched);
    if (!rewrite && opt->state_dir) {
        struct stat ss;
        sum.state_bytes = stat(r.states[0]->file, &ss) == 0 ? (uint64_t)ss.st_size : 0;
    }
    if (rewrite) {
        int e = 0;
        r.sw = cs_state_writer_open(r.state_tmp, r.next, r.nt, &e);
        if (!r.sw) {
            st = state_error(&r, e, err);
            goto done;
        }
    }
    {
        const int ns = n_sources(&r);
        for (int g = 0; r.n_states && g <= CS_NGRAM_MAX; g++)
            if (r.states[0]->counter.grams[g])
                r.states[0]->counter.grams[g]->sorted = 1;
        cs_table **terms = cs_xmalloc((size_t)ns * sizeof *terms);
        for (int s = 0; s < ns; s++)
            terms[s] = source(&r, s)->terms;
        m = cs_merged_new(terms, ns, opt->ngram_min, opt->ngram_max);
        /* before the term merge, which holds the sources' terms and the
         * merged ones at once: the runs still in memory would come on top */
        spill_for_merge(&r, m);
        trace(&r, "runs spilled for the merge");
        int overflow = 0;
        /* A fixed vocabulary (--cooc-terms) is looked up as the terms merge:
         * the merged terms are packed right after, with no table to look
         * up. */
        const cs_strset *find = opt->cooc == CS_COOC_DOC ? r.vocab : NULL;
        if (find) {
            r.vocab_gid = cs_xmalloc((cs_strset_size(find) + 1) * sizeof *r.vocab_gid);
            for (size_t i = 0; i < cs_strset_size(find); i++)
                r.vocab_gid[i] = UINT32_MAX;
        }
        uint32_t *found = r.vocab_gid;
        /* Merged terms that could pass a quarter of the budget go to disk as
         * they are packed (reduce.h), a file a merging thread. (The most
         * ids a source gave, about 34 bytes a merged term: a source's
         * ids are at least its terms.) */
        uint64_t most_ids = 0;
        for (int s = 0; s < ns; s++)
            most_ids = terms[s]->next_id > most_ids ? terms[s]->next_id : most_ids;
        cs_spill_file **vf = NULL;
        if (most_ids * 34 > r.budget / 4) {
            vf = cs_xcalloc((size_t)nt, sizeof *vf);
            for (int t = 0; t < nt; t++) {
                char name[32];
                snprintf(name, sizeof name, "m%d-terms", t);
                vf[t] = cs_spill_file_new(r.spill, name);
            }
        }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) default(none) \
    shared(m, terms, find, found, vf) reduction(| : overflow)
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            overflow |= cs_merge_terms_part(m, terms, p, find, found,
                                            vf ? vf[omp_get_thread_num()] : NULL) != 0;
        free(vf);
        if (overflow) {
            cs_error_set(err, CS_ERR_INTERNAL, NULL,
                         "more than %u distinct terms, or 4 GB of their bytes, in one partition",
                         1u << CS_ID_BITS);
            st = CS_ERR_INTERNAL;
            free(terms);
            goto done;
        }
        if (read_error(&r)) { /* a term generation could not be read back: remap has holes */
            st = spill_failed(&r, err);
            free(terms);
            goto done;
        }
        give_back(&r); /* the threads' term partitions, merged */
        trace(&r, "terms merged");
        if (r.sw)
            cs_state_writer_terms(r.sw, m);
        if (read_error(&r)) { /* merged terms written out that cannot be read back */
            st = spill_failed(&r, err);
            free(terms);
            goto done;
        }
        int gmin = opt->ngram_min < 2 ? 2 : opt->ngram_min;
        if (opt->ngram_max >= gmin) {
            unsigned orders[CS_NGRAM_MAX];
            int n = 0;
            for (int g = gmin; g <= opt->ngram_max; g++)
                orders[n++] = (unsigned)g;
            /* Grams counted once are left out when no row needs them
             * (--min-count 2 and up), or none unless the top reaches count 1
             * (--top: write_tables then adds those it can reach, from the
             * runs, kept until then, and the histogram of what was left out:
             * an order at a time, for the histograms' memory). */
            const int may_add = opt->top != UINT64_MAX && opt->min_count <= 1;
            if (grams_go_to_rows(&r, m, orders, n)) {
                merge_grams_rows(&r, m, orders, n);
                free_gram_runs(&r);
                trace(&r, "grams merged into rows");
            } else if (grams_go_lean(&r, m, orders, n)) {
                if (!merge_grams_lean(&r, m, orders, n, may_add))
                    free_gram_runs(&r);
                trace(&r, "grams merged lean");
            } else if (may_add) {
                for (int k = 0; k < n; k++) {
                    uint64_t *h = m->once_hist[orders[k]] =
                        cs_xcalloc(pick_bins(CS_PICK_LEAVE), sizeof *h);
                    const cs_gram_pick leave = {.mode = CS_PICK_LEAVE, .tie_max = CS_TIE_ALL};
                    merge_grams(&r, m, orders + k, 1, &leave, h, NULL, 1, NULL);
                }
            } else {
                cs_gram_pick pick[CS_NGRAM_MAX];
                for (int k = 0; k < n; k++)
                    pick[k] = (cs_gram_pick){
                        .mode = opt->min_count >= 2 ? CS_PICK_LEAVE : CS_PICK_KEEP,
                        .tie_max = CS_TIE_ALL};
                merge_grams(&r, m, orders, n, pick, NULL, NULL, 1, NULL);
                free_gram_runs(&r);
            }
        }
        free(terms);
        if (opt->cooc == CS_COOC_WINDOW)
            merge_pairs(&r, m);
        else if (opt->cooc == CS_COOC_DOC) {
            double tp = cs_now();
            st = merge_doc_pairs(&r, m, (uint64_t)sum.tok.documents, err);
            t_second = cs_now() - tp; /* the second pass reads: counting time, not merging */
            if (st != CS_OK)
                goto done;
        }
    }
    double t2 = cs_now();
    give_back(&r);
    trace(&r, "merged");
    if (read_error(&r)) { /* a spilled run or a state's could not be read back */
        st = spill_failed(&r, err);
        goto done;
    }
    if (r.sw) {
        if (m->pairs)
            cs_state_writer_pairs_done(r.sw);
        int e = cs_state_writer_close(r.sw, &sum.state_bytes);
        r.sw = NULL;
        if (e) {
            st = state_error(&r, e, err);
            goto done;
        }
    }
    st = write_tables(&r, m, stage.dirfd, &sum, err);
    if (st != CS_OK)
        goto done;
    double t3 = cs_now();
    trace(&r, "tables written");
    sum.t_count = t1 - t0 + t_second;
    sum.t_merge = t2 - t1 - t_second;
    sum.t_write = t3 - t2;
    sum.t_total = cs_now() - t0;
    sum.peak_rss = peak_rss();
    sum.memory = r.budget;
    sum.spill = cs_spill_get_stats(r.spill);
    if (r.next) {
        sum.state_settings = r.next->settings;
        sum.state_inputs = r.next->n_inputs;
        sum.state_bad_records = r.next->tot.bad_records;
        sum.state_undecodable = r.next->tot.undecodable;
        sum.state_bytes_on_disk = r.next->tot.bytes_on_disk;
        sum.state_bytes_decoded = r.next->tot.bytes_decoded;
    }
    /* Merges a spilled key goes through: grams one (the threads'), pairs
     * as many as they had. */
    sum.spill_levels = !sum.spill.runs ? 0 : r.pair_levels > 1 ? r.pair_levels : 1;
    sum.merge_passes = r.pair_passes;
    sum.merge_slices = r.merge_slices;
    sum.row_runs = r.rows_out;
    sum.row_merges = r.row_merges;
    for (int k = 0; k <= CS_NGRAM_MAX; k++)
        if (sum.merge_passes < r.order_passes[k])
            sum.merge_passes = r.order_passes[k];
    int e = cs_summary_write(stage.dirfd, &sum);
    if (e) {
        output_error(err, &r, "summary.json", "cannot write", e);
        st = CS_ERR_OUTPUT;
        goto done;
    }
    /* The runs are dead: their files go before the commit, which moves the
     * old output folder (--tmp may be inside it). */
    cs_spill_free(r.spill);
    r.spill = NULL;
    char *state_file = rewrite ? path_in(r.eff.state_dir, CS_STATE_FILE) : NULL;
    st = cs_stage_commit(&stage, err);
    if (st == CS_OK && rewrite)
        st = state_commit(&r, state_file, err);
    free(state_file);
done:
    cs_stage_abort(&stage);
    cs_merged_free(m);
    for (int k = 0; k <= CS_NGRAM_MAX; k++) {
        free(r.lean[k]);
        free_row_runs(&r, (unsigned)k); /* (a run that failed before its tables) */
    }
    free(r.sum_files);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        free(r.pair_plan[p].cuts);
    cs_spill_free(r.spill); /* the temporary files, on every return */
    for (int t = 0; r.w && t < r.nt; t++) {
        worker *w = r.w[t];
        if (!w)
            continue;
        cs_counter_free(&w->counter);
        cs_tok_free(w->tok_ext);
        cs_tok_free(w->tok_lines);
        cs_buf_free(&w->scratch);
        free(w->diags);
        free(w);
    }
    free(r.w);
    while (r.free_bufs) {
        pbuf *b = r.free_bufs;
        r.free_bufs = b->next;
        free(b->data);
        free(b);
    }
    for (size_t i = 0; r.in && i < r.inputs.n; i++)
        free(r.in[i].error);
    free(r.in);
    for (size_t i = 0; r.fresh && i < r.inputs.n; i++)
        free(r.fresh[i].path);
    free(r.fresh);
    cs_inputs_free(&r.inputs);
    cs_strset_free(r.stopwords);
    cs_strset_free(r.vocab);
    free(r.vocab_gid);
    free(r.seen);
    cs_state_writer_abort(r.sw);
    if (r.state_tmp)
        unlink(r.state_tmp); /* gone already when the run succeeded */
    cs_tmp_untrack(r.state_tmp_reg);
    free(r.state_tmp);
    if (r.lock_fd >= 0)
        close(r.lock_fd);
    for (int k = 0; k < r.n_states; k++)
        cs_state_free(r.states[k]);
    free(r.states);
    cs_state_free(r.next);
    return st;
}
