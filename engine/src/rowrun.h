/*
 * rowrun.h - a partition's sorted rows written out, and read back in order.
 *
 * The writer makes a table's rows a partition at a time (cs_rows_part) and
 * merges the 64 sorted partitions (cs_rowmerge). Held all at once, the
 * rows of one table can pass the memory budget on their own: about --top
 * rows (1 M trigram rows are 60 MB), and without --top every key of the
 * table. Under a budget they would not fit, a partition's rows are written
 * out as a run as soon as they are made (cs_rowrun_spill), and the merge
 * reads each run back a block at a time (cs_rowrun_reader): a run a
 * partition at most, so the fan-in is the partitions' (64), and the merge
 * holds a block a run. Without --top, the n-gram and window pair merges
 * write what they sum out as it comes (cs_rowrun_writer: ids and counts),
 * made into runs of rows later (pipeline.c, rows_of_sums): a table then
 * has any number of runs, and cs_rowmerge takes any number, which the
 * pipeline first brings down to a fan-in the budget allows by merging
 * some into one (cs_rowrun_merge).
 *
 * DESIGN
 * Rows are encoded back to back, in their order, into blocks of at least
 * CS_ROWRUN_BLOCK bytes (`block`; a block ends after the row that passes
 * it, so it holds whole rows); a block is one zstd frame with its checksum in the
 * writing thread's scratch file of the spill folder, and a pack of the
 * spill (spill.h, cs_spill_parts) holds up to CS_N_PARTS blocks. A row:
 *   varint zigzag count (pairs: the high 64 bits of the units),
 *   varint zigzag docs (pairs: varint, the low 64 bits),
 *   pairs: pmi, npmi, llr as 8 bytes each, in the machine's order,
 *   varint key length, the key bytes,
 *   n-grams: the byte lengths of the first order - 1 terms, varints.
 * The lengths settle the order of two n-grams whose joined bytes are equal
 * (an NFKC term can hold a space): the one whose first differing term is
 * shorter comes first, as cs_row_tie orders them. The file is private to
 * the run and read back by the thread that merges; a frame that does not
 * decompress is an error kept by the spill, never a row.
 */
#ifndef CS_ROWRUN_H
#define CS_ROWRUN_H

#include <stddef.h>
#include <stdint.h>

#include "reduce.h"
#include "spill.h"

/* A block's bytes, at least: 64 KiB keeps a zstd frame well compressed
 * (level 1 gains little past it) and the merge's 64 blocks, raw and
 * compressed, at about 8 MB. */
#define CS_ROWRUN_BLOCK (64u << 10)

typedef struct cs_rowrun {
    cs_pack *packs; /* owned; on disk, CS_N_PARTS blocks a pack, the last maybe fewer */
    size_t n_packs;
    uint64_t rows;
    uint64_t bytes; /* encoded, before compression */
} cs_rowrun;

/* Writes rows (sorted; m's table rows->order must still be in memory
 * unless rows->ids holds the n-grams' ids: their terms' lengths are read)
 * to f as a run in blocks of at least `block` bytes (CS_ROWRUN_BLOCK;
 * tests pass tiny ones, so that rows cross blocks and packs), and frees
 * their memory: rows->disk holds them then (cs_rows_free frees it), n and
 * types stay. Returns 0; or -1, rows left as they were, when f cannot be
 * written (its spill keeps the error). One thread a file. */
int cs_rowrun_spill(cs_spill_file *f, const cs_merged *m, cs_rows *rows, size_t block);
/* Frees run's memory (not its bytes on disk: cs_spill_file_rewind). NULL
 * is a no-op. */
void cs_rowrun_free(cs_rowrun *run);

/* Writes a run as its items come, in blocks (up to CS_N_PARTS of them
 * held, 4 MiB): the rows of cs_rowrun_spill and cs_rowrun_merge, or
 * summed grams (cs_rowrun_put_gram) or pairs (cs_rowrun_put_pair) as a
 * merge hands them over, before their terms' bytes are held
 * (merge_grams_rows, merge_pairs): for a gram varint zigzag count, varint
 * zigzag docs, then the global ids as varints. */
typedef struct cs_rowrun_writer {
    cs_spill_file *f;         /* borrowed */
    size_t block;             /* a block's bytes, at least */
    cs_buf buf;               /* owned: the blocks of the next pack */
    size_t from[CS_N_PARTS];  /* where each block starts in buf */
    uint32_t n[CS_N_PARTS];   /* its items */
    unsigned b;               /* the block being filled */
    cs_rowrun *run;           /* owned: what is written */
    size_t cap;               /* of run->packs */
    int failed;               /* a pack could not be written: the spill keeps the error */
} cs_rowrun_writer;

void cs_rowrun_writer_init(cs_rowrun_writer *w, cs_spill_file *f, size_t block);
void cs_rowrun_put_gram(cs_rowrun_writer *w, const uint32_t *ids, unsigned order, int64_t count,
                        int64_t docs);
/* A summed window pair: its terms' global ids and its count in units
 * (varints: a, b, the high and the low 64 bits). */
void cs_rowrun_put_pair(cs_rowrun_writer *w, uint32_t a, uint32_t b, unsigned __int128 units);
/* Writes what is left and frees w's memory. *out: the run, owned by the
 * caller (NULL when no item was written, or on an error). 0, or -1 when a
 * pack could not be written. */
int cs_rowrun_writer_end(cs_rowrun_writer *w, cs_rowrun **out);

/* Reads a run back, row after row (or gram after gram). */
typedef struct cs_rowrun_reader {
    const cs_rowrun *run; /* borrowed */
    unsigned order;       /* the table's (reduce.h) */
    size_t pack;          /* the next block: pack, and block in it */
    unsigned block;
    cs_buf buf;           /* owned: the block read */
    const uint8_t *at, *end; /* the rows of the block not yet read */
    cs_row row;           /* the row read last; key points into buf */
    double measure[3];    /* pairs: its pmi, npmi, llr */
    uint32_t lens[CS_NGRAM_MAX]; /* n-grams: its terms' byte lengths */
} cs_rowrun_reader;

void cs_rowrun_reader_init(cs_rowrun_reader *r, const cs_rowrun *run, unsigned order);
/* The next row (valid until the next call), or NULL after the last, or
 * when a block cannot be read back (the spill keeps the error: the caller
 * must check it before it trusts the end). */
const cs_row *cs_rowrun_next(cs_rowrun_reader *r);
/* The next summed gram of a run of them (r's order: its ids): 1, or 0
 * after the last or when a block cannot be read back (as cs_rowrun_next). */
int cs_rowrun_next_gram(cs_rowrun_reader *r, uint32_t *ids, int64_t *count, int64_t *docs);
int cs_rowrun_next_pair(cs_rowrun_reader *r, uint32_t *a, uint32_t *b, unsigned __int128 *units);
void cs_rowrun_reader_free(cs_rowrun_reader *r);

/* The rows of a table in order: a k-way merge of n sorted runs of rows (in
 * memory, or written out: cs_rows.disk) through a tournament (loser) tree:
 * log2(n) comparisons a row, half of what a binary heap needs. */
typedef struct cs_rowmerge {
    const cs_merged *m;
    unsigned order;
    cs_rows *src;           /* borrowed: n sorted runs */
    size_t n, size;         /* runs; the tree's leaves (a power of two, n at least) */
    size_t *pos;            /* owned; [i]: the next row of run i in memory */
    const cs_row **head;    /* owned; [i]: run i's first row not yet returned; NULL: spent */
    cs_rowrun_reader *rd;   /* owned; [i] reads src[i].disk back (NULL when none is on disk) */
    size_t *loser;          /* owned; [k]: the run that lost at node k; [0]: the winner */
    size_t last;            /* the run of the row cs_rowmerge_next returned last */
    int moved;              /* 0 until the first row is returned */
    uint32_t lens[CS_NGRAM_MAX];
} cs_rowmerge;

void cs_rowmerge_init(cs_rowmerge *g, const cs_merged *m, unsigned order, cs_rows *src,
                      size_t n);
/* The next row, or NULL after the last (valid until the next call). A run
 * written out that cannot be read back ends early: its spill keeps the
 * error, which the caller checks before the table counts as written. */
const cs_row *cs_rowmerge_next(cs_rowmerge *g);
/* Of the row returned last: a pair's measures (pmi, npmi, llr); an
 * n-gram's terms' byte lengths. */
const double *cs_rowmerge_measure(const cs_rowmerge *g);
const uint32_t *cs_rowmerge_lens(cs_rowmerge *g);
void cs_rowmerge_free(cs_rowmerge *g);

/* Merges the runs of g (initialised, no row taken) into one run written
 * to f, in blocks as cs_rowrun_spill's, into *out (on disk, n its rows).
 * Returns 0; or -1 when f cannot be written or a run read back (the spill
 * keeps the error), out empty. */
int cs_rowrun_merge(cs_spill_file *f, cs_rowmerge *g, size_t block, cs_rows *out);

#endif
