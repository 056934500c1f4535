/*
 * state.h - counts kept between runs (--state DIR) and combined later
 * (corpusstat merge): a state file holds the exact, unpruned counts of
 * everything its runs counted, the totals the tables need, the settings
 * that produced them and a manifest of the inputs counted.
 *
 * Loaded, a state is one more source for the merge (a cs_counter whose
 * grams and pairs are one run each, with no document shared with another
 * run), so the tables of "state + new inputs" are made by the same code,
 * and are the same bytes, as those of one run over everything. Its terms
 * are loaded into the counter's table; its runs stay in the file, which
 * the merge reads a partition at a time, as it reads a spilled run
 * (spill.h: the state's own cs_spill keeps its read errors).
 *
 * The file (state.cst). Every number is little-endian.
 *   header   "CSSTATE\n", u32 format version (CS_STATE_VERSION), u32 0
 *   sections each: u32 kind, u32 part (0: whole), u64 raw bytes,
 *            u64 compressed bytes, then one zstd frame (with its checksum);
 *            a packed section (grams, pairs): an index (per partition u32
 *            entries, u64 raw bytes, u64 compressed bytes), then a frame
 *            a partition
 *   footer   u64 XXH3-64 of every byte before the footer, "CSSTEND\n"
 * Sections, in this order: settings (text, one "key value" a line: what
 * must be equal for two states to be combined), shape (the options the
 * merge needs back), totals, manifest, terms, then the grams of each
 * order and the pairs, as packed runs (grams.h, pairs.h) of the state's
 * term ids. A term's state id is its rank in the terms section.
 *
 * A truncated or damaged file fails the footer's checksum before any of it
 * is used; every frame is also checked by zstd's own checksum, and every
 * packed partition is decoded once and checked (ids known, in their
 * partition, varints inside it) before the merge trusts it.
 */
#ifndef CS_STATE_H
#define CS_STATE_H

#include <stdint.h>

#include "common.h"
#include "reader.h"
#include "count.h"
#include "reduce.h"
#include "spill.h"
#include "tokenize.h"

#define CS_STATE_VERSION 1
#define CS_STATE_FILE "state.cst"

/* An input a state has counted: as it was when counted. */
typedef struct cs_state_input {
    char *path;              /* owned; its realpath(3) */
    uint64_t hash_lo, hash_hi; /* XXH3-128 of its bytes (as on disk) */
    /* Its stamp: what stat said when its bytes were last hashed. A file
     * whose stamp is the same is taken as unchanged without reading it;
     * the inode and ctime catch a file replaced by one of the same size
     * and mtime (rsync -t, cp -p). */
    uint64_t size, ino;
    int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
} cs_state_input;

struct stat;
void cs_state_input_stamp(cs_state_input *in, const struct stat *sb);
int cs_state_input_same_stamp(const cs_state_input *in, const struct stat *sb);

/* What the tables need beyond the keys: summary.json's counts. */
typedef struct cs_state_totals {
    cs_tok_stats tok;
    int64_t bad_records;
    uint64_t undecodable;
    uint64_t bytes_on_disk, bytes_decoded;
} cs_state_totals;

/* The options a merge of states takes from them (the rest is output). */
typedef struct cs_state_shape {
    int ngram_min, ngram_max;
    int cooc; /* cs_cooc */
    int window;
    int weight; /* cs_weight */
} cs_state_shape;

typedef struct cs_state {
    char *file;              /* owned; where it was read from */
    cs_spill *reads;         /* owned; the file the packed runs are read from, and its
                                read errors (cs_state_read_error) */
    cs_spill_file *on_disk;  /* owned by reads; the file, open from the start of the read */
    char *settings;          /* owned; NUL-terminated text */
    cs_state_shape shape;
    cs_state_totals tot;
    cs_state_input *inputs;  /* owned */
    size_t n_inputs, cap_inputs;
    int touched;             /* a stamp of inputs renewed (cs_state_check_inputs) */
    cs_counter counter;      /* the counts, as a merge source */
} cs_state;

/* The settings text of a run with these options (the tokenizer's, the
 * tables' kinds; not the output's: --top, --min-count, --bom are applied
 * to the state's full counts at each run). stopwords and vocab: the sets
 * read from --stopwords and --cooc-terms, or NULL. Owned by the caller. */
char *cs_state_settings(const cs_options *opt, const cs_strset *stopwords,
                        const cs_strset *vocab);
cs_state_shape cs_state_shape_of(const cs_options *opt);

/* An empty state (no input counted yet) of these settings and shape. */
cs_state *cs_state_new(const char *settings, cs_state_shape shape);

/* Reads a state file: checks its footer's checksum, then every section
 * (its packed partitions on `threads` threads).
 * Returns NULL with err filled (CS_ERR_INPUT, the file named) when it is
 * not a state file, is of another format version, truncated or damaged. */
cs_state *cs_state_read(const char *file, int threads, cs_error *err);
void cs_state_free(cs_state *s); /* NULL is a no-op */

/* A packed run of s that could not be read back during a merge (I/O
 * error, a frame damaged since it was checked), or NULL. */
const char *cs_state_read_error(const cs_state *s);

/* A line saying how a's settings and b's differ ("ngrams 1-2 against
 * 1-3"), into buf; 0 when they are equal. */
int cs_state_settings_diff(const char *a, const char *b, char *buf, size_t cap);

void cs_state_add_input(cs_state *s, const cs_state_input *in); /* copies in->path */

/* Checks the inputs of a run against s's manifest, before counting:
 * already[i] = 1 for an input s has counted and that is as it was then
 * (same size and mtime; or, when those differ, the same bytes: its mtime
 * is updated); fresh[i] for an input s has not counted: its realpath
 * (owned), size and mtime (the hash is the caller's, cs_file_hash).
 * Every other file of the manifest must be as it was too. Fails with err
 * (CS_ERR_INPUT) naming a file the manifest holds that changed or
 * vanished, and (CS_ERR_USAGE) on stdin or a file given twice. Inputs
 * that could not be opened are neither: they are reported as unreadable
 * and stay out of the manifest. */
cs_status cs_state_check_inputs(cs_state *s, const cs_input *v, size_t n, uint8_t *already,
                                cs_state_input *fresh, cs_error *err);

/* --retract path: finds the input of s's manifest whose bytes are those
 * of the file at path (the one of its path first, else any: a copy of a
 * file that has since changed or vanished), takes it out of the manifest
 * and fills *out with the file's identity (realpath owned) and *counted
 * with the path it was counted under (owned: its kind, zstd, JSONL or
 * text, is that name's). Fails with err when path is not a readable file,
 * or s holds no input with its bytes. */
cs_status cs_state_retract(cs_state *s, const char *path, cs_state_input *out, char **counted,
                           cs_error *err);

/* XXH3-128 of a file's bytes; -1 with errno when it cannot be read. */
int cs_file_hash(const char *path, uint64_t *lo, uint64_t *hi);

/* Writing a state as a run's merge makes it, so that no merged table has
 * to hold what only the state needs (under --top, the grams counted once):
 * open (settings, shape, totals, inputs of s) -> terms, once every term
 * partition is merged (it fixes the state ids) -> every summed gram of an
 * order as the merge sums it (cs_state_writer_gram, a cs_gram_sink; each
 * partition by one thread, in id order, which then calls gram_part_done:
 * the partition is compressed and parked on disk), then grams_done for
 * that order, orders ascending -> each partition of the pairs as the
 * merge sums it (pairs_piece: the summed pairs of partition p, all of
 * them or a slice, slices in key order; then pairs_part_done, by the
 * thread that summed them), then pairs_done -> close. Partitions wait for their section in an unlinked
 * file beside `file`: the state costs disk while it is written, not
 * memory. `file` must not
 * exist yet (the caller renames it into place once the tables are
 * committed). Errors are kept until close, which returns 0 or errno
 * (ENOSPC ...) with the file removed, and the file's size in *bytes;
 * abort removes it. */
typedef struct cs_state_writer cs_state_writer;

cs_state_writer *cs_state_writer_open(const char *file, const cs_state *s, int n_threads,
                                      int *err);
void cs_state_writer_terms(cs_state_writer *w, const cs_merged *m);
void cs_state_writer_gram(void *w, unsigned p, const uint32_t *gids, unsigned order,
                          int64_t count, int64_t docs);
void cs_state_writer_gram_part_done(cs_state_writer *w, unsigned order, unsigned p);
void cs_state_writer_grams_done(cs_state_writer *w, unsigned order);
void cs_state_writer_pairs_piece(cs_state_writer *w, unsigned p, const cs_pair_run *piece);
void cs_state_writer_pairs_part_done(cs_state_writer *w, unsigned p);
void cs_state_writer_pairs_done(cs_state_writer *w);
int cs_state_writer_close(cs_state_writer *w, uint64_t *bytes);
void cs_state_writer_abort(cs_state_writer *w); /* NULL is a no-op */

/* The whole of a writer's sequence for merged tables m that hold every
 * key (tests). */
int cs_state_write(const char *file, const cs_state *s, const cs_merged *m, int n_threads,
                   uint64_t *bytes);

#endif
