/*
 * reduce.h - per-thread tables -> one merged table per key kind, and its
 * rows in the contract's order.
 *
 * Every function here is serial and works on one partition, so the
 * pipeline can run partitions on all cores without locks: partition p of
 * the merged table is written only by the call for p.
 */
#ifndef CS_REDUCE_H
#define CS_REDUCE_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "grams.h"
#include "pairs.h"
#include "table.h"

/* The `order` that names the co-occurrence pairs in the functions below
 * (1 names the terms, 2..CS_NGRAM_MAX the n-grams). */
#define CS_PAIRS 0u

/* The merged terms of one partition, once it is merged
 * (cs_merge_terms_part): a term's counts and bytes by its index, packed.
 * The hash table the merge built (slots, 64-byte entries, keys borrowed
 * from the sources) is freed then: nothing looks a merged term up by its
 * bytes afterwards, and at 80 bytes a term it was the largest memory of
 * the merge (440 MB for the 5.5 M terms of 1 GiB). */
typedef struct cs_vcnt {
    int64_t count, docs;
} cs_vcnt;

/*
 * Under a budget the merged terms would not fit (cs_merge_terms_part given
 * a spill file), their counts and bytes go to disk, a partition a zstd
 * frame (disk), and only pre stays: the first two bytes of each term,
 * which the bar of a lean merge and the tie cut need for any term. The
 * rows read a partition back whole (terms) or hold the terms they need
 * (cs_vocab_hold_part: n-grams, pairs); c, off and bytes then hold those,
 * and bits says which: term i is held at the rank of bit i.
 */
typedef struct cs_vocab_part {
    uint32_t n;     /* terms */
    cs_vcnt *c;     /* owned; [index], or [rank] under bits */
    uint32_t *off;  /* owned; [index] (n + 1 of them; under bits, [rank]): the bytes of index
                       i are bytes[off[i] .. off[i + 1]) */
    uint8_t *bytes; /* owned */
    uint64_t *bits; /* owned; NULL: every term is held; else (n + 63) / 64 words */
    uint32_t *rank; /* owned; with bits: [w] terms held before word w */
    uint16_t *pre;  /* owned; on disk: [index] the term's first byte << 8 | its second (0 for
                       a one-byte term: no term holds NUL) */
    struct cs_pack *disk; /* owned; on disk: its partition p holds each term's varint length,
                             bytes, zigzag count and doc_count */
} cs_vocab_part;

/* The index in v's arrays of term index i (held: bits). */
static inline uint32_t cs_vocab_at(const cs_vocab_part *v, uint32_t i)
{
    assert(v->off && i < v->n); /* on disk: only terms held are read */
    if (!v->bits)
        return i;
    const uint64_t w = v->bits[i >> 6];
    assert(w >> (i & 63) & 1);
    return v->rank[i >> 6] + (uint32_t)__builtin_popcountll(w & ((UINT64_C(1) << (i & 63)) - 1));
}

/* Window pairs' margins: a term's margin is the sum of its pairs' units, a
 * 128-bit number, kept as its low 64 bits (8 bytes a term: the margins are
 * the pair merge's largest array after the map of term ids, and 16 bytes a
 * term would double them) and, for the rare term past 2^64, its high bits
 * in a list. Sums wrap at 2^128, as 128-bit integers do. */
typedef struct cs_margin_hi {
    uint64_t term; /* term_base[p] + index */
    uint64_t hi;
} cs_margin_hi;

typedef struct cs_margins {
    uint64_t *lo;     /* owned; [term] */
    cs_margin_hi *hi; /* owned; in no order until cs_margins_seal, then by
                         term, one entry a term */
    size_t n_hi, cap_hi;
} cs_margins;

/* Zeroed margins of n_terms terms. */
void cs_margins_init(cs_margins *a, size_t n_terms);
void cs_margins_free(cs_margins *a);
/* Adds `hi` << 64 to a term's margin (cs_margins_add's rare case). */
void cs_margins_carry(cs_margins *a, uint64_t term, uint64_t hi);

static inline void cs_margins_add(cs_margins *a, uint64_t term, unsigned __int128 u)
{
    uint64_t lo;
    const uint64_t hi =
        (uint64_t)(u >> 64) + (uint64_t)__builtin_add_overflow(a->lo[term], (uint64_t)u, &lo);
    a->lo[term] = lo;
    if (hi)
        cs_margins_carry(a, term, hi);
}

/* Adds src's margins (n_terms of them) into dst and frees src. */
void cs_margins_sum(cs_margins *dst, cs_margins *src, size_t n_terms);
/* Sorts and sums the high bits, for cs_margins_get; returns the sum of
 * all n_terms margins. */
unsigned __int128 cs_margins_seal(cs_margins *a, size_t n_terms);
/* A term's margin (sealed). */
unsigned __int128 cs_margins_get(const cs_margins *a, uint64_t term);

typedef struct cs_merged {
    int n_src;
    cs_table *terms;                   /* owned; partition p while cs_merge_terms_part merges
                                          it (bytes borrowed from the source tables), empty
                                          after */
    cs_vocab_part vocab[CS_N_PARTS];   /* the merged terms, from then on */
    cs_table *grams[CS_NGRAM_MAX + 1]; /* owned; ids are global term ids (entries only:
                                          no slots are used, nothing is looked up) */
    /* Keys counted (count > 0) that the merge left out, [n][p]: grams
     * counted once under CS_PICK_LEAVE, grams below the bar under
     * CS_PICK_TOP, and, at [CS_PAIRS][p], pairs under a lean merge's cut
     * (pipeline.c); once_hist[n]: how many of the grams counted once have
     * each first two key bytes (LEAVE; owned; CS_TIE_ALL + 1 buckets;
     * NULL: none left out). */
    uint64_t left[CS_NGRAM_MAX + 1][CS_N_PARTS];
    uint64_t *once_hist[CS_NGRAM_MAX + 1];
    uint32_t **remap;                  /* owned; [src][local id] = global id, until the
                                          merges of the sources' runs are done
                                          (cs_merged_drop_remap) */
    uint64_t remap_bytes;
    struct cs_key_block *keys[CS_N_PARTS]; /* owned; [p]: the long keys of partition p
                                              merged from a source's generations, until
                                              it is packed */
    /* Co-occurrence (cs_merged_add_pairs), else NULL. [p]: the pairs whose
     * first term is in term partition p, keys index_a << 32 | global b,
     * summed (cs_pairs_sum) and sorted by key. */
    cs_pair_run *pairs;                /* owned */
    uint64_t unit;                     /* units in a count of 1 */
    /* The margins the measures need (cs_pair_margins_part); doc scope gives
     * none (margin.lo NULL): a term's margin is then its doc_count. */
    cs_margins margin;                 /* owned; by term_base[p] + index */
    uint64_t term_base[CS_N_PARTS + 1];
    unsigned __int128 total;           /* window: sum of the margins; doc: documents */
} cs_merged;

/* A merged term by its global id (partition and index). */
/* A merged term by its global id (partition and index): in memory, or
 * held (cs_vocab_hold_part). */
static inline const cs_vcnt *cs_merged_cnt(const cs_merged *m, uint32_t gid)
{
    const cs_vocab_part *v = &m->vocab[gid >> CS_ID_BITS];
    return &v->c[cs_vocab_at(v, gid & ((1u << CS_ID_BITS) - 1))];
}

static inline const uint8_t *cs_merged_bytes(const cs_merged *m, uint32_t gid, uint32_t *len)
{
    const cs_vocab_part *v = &m->vocab[gid >> CS_ID_BITS];
    const uint32_t i = cs_vocab_at(v, gid & ((1u << CS_ID_BITS) - 1));
    *len = v->off[i + 1] - v->off[i];
    return v->bytes + v->off[i];
}

/* Whether the merged terms are on disk (cs_merge_terms_part given a file). */
static inline int cs_vocab_on_disk(const cs_merged *m)
{
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        if (m->vocab[p].disk)
            return 1;
    return 0;
}

/* Term partition p on disk: holds the terms whose bit is set in want
 * ((n + 63) / 64 words; NULL: none, freeing what was held). Returns 0, or
 * -1 when it cannot be read back (the spill keeps the error). */
int cs_vocab_hold_part(cs_merged *m, unsigned p, const uint64_t *want, cs_buf *buf);
/* Holds the bytes of every term of partition p on disk, not their counts
 * (c stays NULL: cs_merged_cnt must not be called until they are held
 * again with cs_vocab_hold_part). 0, or -1 as cs_vocab_hold_part. */
int cs_vocab_hold_bytes(cs_merged *m, unsigned p, cs_buf *buf);

/* Term partition p whole: m's, or read back from disk into *tmp (free it
 * with cs_vocab_part_free). NULL when it cannot be read back (the spill
 * keeps the error). */
const cs_vocab_part *cs_vocab_whole(const cs_merged *m, unsigned p, cs_vocab_part *tmp);
/* Frees what v holds in memory (not pre, nor its frames on disk). */
void cs_vocab_part_free(cs_vocab_part *v);

/* Sets in want[p'] the bits of the terms of the rows cs_rows_part would
 * make of partition p of table `order` (n-grams or pairs) with these
 * min_count and tie_max: the terms the rows need held. Atomic: tasks of
 * other partitions set bits of the same words. */
void cs_rows_want_terms(const cs_merged *m, unsigned order, unsigned p, uint64_t min_count,
                        unsigned tie_max, uint64_t *const *want);

/* Merged terms in all partitions. */
static inline uint64_t cs_merged_n_terms(const cs_merged *m)
{
    uint64_t n = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        n += m->vocab[p].n;
    return n;
}

/* The global id of the merged term (hash, key, len), or UINT32_MAX: a scan
 * of its partition (for tests; the merge looks terms up as it goes:
 * cs_merge_terms_part). */
uint32_t cs_merged_find(const cs_merged *m, uint64_t hash, const uint8_t *key, uint32_t len);

/* src: n_src term tables (borrowed; must outlive m's term merge, whose
 * table borrows their long keys until each partition is packed).
 * cs_merge_terms_part empties the partitions it merges: src[0]'s become
 * the merged ones, the others' are freed; and reads partition p of each
 * earlier generation of a table (table.h) back. */
cs_merged *cs_merged_new(cs_table *const *src, int n_src, int gram_min, int gram_max);
void cs_merged_free(cs_merged *m); /* NULL is a no-op */

/* Frees m's remap: no source's run is merged after (its memory goes to
 * the rows). */
void cs_merged_drop_remap(cs_merged *m);

/* The bytes m holds for its terms while the grams and pairs merge: the
 * remap and the merged terms (packed, or their first two bytes when on
 * disk). */
uint64_t cs_merged_term_bytes(const cs_merged *m);

/* Merges partition p of the source term tables (taking src[0]'s partition
 * over) and of their generations; fills remap for its terms; then packs
 * the partition into m->vocab[p]: in memory, or, f given (one thread a
 * file), on disk. find (NULL: none), a set of terms
 * looked up before the table goes: found[i] is the global id of find's
 * term i if it is in partition p (untouched otherwise; UINT32_MAX for a
 * term of p the corpus never held). Returns 0, or -1 when the partition
 * outgrows the global id space or 4 GB of term bytes. A generation that
 * cannot be read back leaves remap unfilled: its cs_spill keeps the
 * error, which the caller must check before anything reads remap. */
struct cs_strset; /* tokenize.h */
struct cs_spill_file; /* spill.h */
int cs_merge_terms_part(cs_merged *m, cs_table *const *src, unsigned p,
                        const struct cs_strset *find, uint32_t *found, struct cs_spill_file *f);

/* Which summed grams cs_merge_grams_part keeps in m's table (pick.mode).
 *
 * Grams counted exactly once are most of a large table's grams. With --top
 * they rarely reach the top, and with --min-count 2 never, so the merge
 * can leave them out (LEAVE: counted in m->left and in pick.hist by their
 * first two key bytes, which the row phase's count histogram and tie cut
 * need), and, if the top turns out to reach count 1, add the ones it can
 * reach in a second call (ADD: those whose first two bytes are at most
 * pick.tie_max).
 *
 * A lean merge (pipeline.c: the merged tables would not fit the memory
 * budget) keeps only the grams that can be rows, in one merge. TOP adds
 * every gram counted to pick.hist by its count (CS_HIST_MAX + 1 buckets,
 * as cs_count_hist_part) and keeps those whose rank (cs_gram_rank) is at
 * least *pick.bar, a bar the caller raises as it learns (reading it
 * atomically here); the rest it counts in m->left. With pick.once, it
 * leaves out the grams counted once as LEAVE does, whatever the bar, and
 * counts them there by their first two bytes: the bar rises only as the
 * grams kept pass --top, and until then, the first partitions merged
 * would keep all their grams, most of them counted once.
 *
 * Without a --top, the rows are every gram counted --min-count or more,
 * and under a budget the merged tables would not fit, the merge makes them
 * into rows as it sums them (pipeline.c): ROWS keeps no gram in m's table,
 * hands each gram counted (count > 0) to pick.rows, and counts it in
 * m->left, whose sum is then the table's types. */
enum { CS_PICK_KEEP, CS_PICK_LEAVE, CS_PICK_ADD, CS_PICK_TOP, CS_PICK_ROWS };

/* Sees every summed gram of a merge (not with CS_PICK_ADD), kept or left
 * out, with its global ids, in id order, from the one thread merging
 * partition p (a state writer: state.h; the rows of CS_PICK_ROWS). */
typedef void (*cs_gram_sink)(void *ctx, unsigned p, const uint32_t *ids, unsigned order,
                             int64_t count, int64_t docs);

typedef struct cs_gram_pick {
    int mode;            /* CS_PICK_* */
    unsigned tie_max;    /* ADD */
    uint64_t *hist;      /* LEAVE (may be NULL), TOP: the calling thread's */
    const uint64_t *bar; /* TOP */
    uint64_t *once;      /* TOP: NULL, or the calling thread's (CS_TIE_ALL + 1 buckets) */
    cs_gram_sink rows;   /* ROWS, and its context: the calling thread's */
    void *rows_ctx;
} cs_gram_pick;

/* A gram's rank in the row order: a higher count first, then a lower
 * first-two-bytes bucket of its key (prefix16). A gram whose rank is below
 * that of the K-th best of any set of grams has K better ones, so it
 * cannot be a row of the top K; the tie cut of cs_tie_hist_part is the
 * same bar. */
static inline uint64_t cs_gram_rank(uint64_t count, unsigned prefix16)
{
    if (count >= (uint64_t)1 << 48) /* (a --min-count that high: nothing reaches it) */
        count = ((uint64_t)1 << 48) - 1;
    return count << 16 | (0xFFFFu - prefix16);
}

/* Removes from partition p of gram table `order` the grams ranked below
 * bar, counting them in m->left and, by count, in removed (CS_HIST_MAX + 1
 * buckets). */
void cs_prune_grams_part(cs_merged *m, unsigned order, unsigned p, uint64_t bar,
                         uint64_t *removed);

/* Sums partition p of the n_src gram counters of one order (flushed) into
 * m's gram table of that order (cs_grams_merge_part); pick (NULL: keep
 * all) says which grams stay. Needs every term partition merged first:
 * ids are remapped through remap. scratch: the calling thread's; sink
 * (NULL: none) sees every summed gram. */
void cs_merge_grams_part(cs_merged *m, cs_grams *const *src, unsigned order, unsigned p,
                         cs_grams_scratch *scratch, const cs_gram_pick *pick, cs_gram_sink sink,
                         void *sink_ctx);

/* Gives m (empty) merged pairs whose counts are in units of 1/unit. */
void cs_merged_add_pairs(cs_merged *m, uint64_t unit);

/* The global ids of the (at most) k terms of highest doc_count, ties by
 * term bytes, among the terms counted (count > 0); *n their number. Owned
 * by the caller. Terms on disk: leaves held the candidates (those at the
 * K-th term's doc_count and above), so the caller can read their bytes. */
uint32_t *cs_top_terms_by_docs(cs_merged *m, uint64_t k, uint32_t *n);

/* Window scope: adds each pair of partition p to the margins of its two
 * terms in acc (one set per thread, summed into m->margin by the caller;
 * term_base must be set). */
void cs_pair_margins_part(const cs_merged *m, unsigned p, cs_margins *acc);

/* A term's margin (window: the sum of its pairs' units; doc: doc_count). */
unsigned __int128 cs_merged_margin(const cs_merged *m, uint32_t gid);

/* One output row: a key of a merged table with its counts and its bytes. */
typedef struct cs_row {
    int64_t count;      /* pairs: the high 64 bits of the count in units */
    union {
        int64_t docs;
        uint64_t units_lo; /* pairs: the low 64 bits */
    };
    uint64_t prefix;    /* first 8 key bytes, big-endian, zero-padded: most compares stop here */
    const uint8_t *key; /* term bytes, or a gram's terms joined by ' ' (in its cs_rows arena);
                           a pair: term_a NUL term_b, so that bytewise order is tuple order */
    uint32_t len;
    uint32_t idx;       /* entry index in its partition (cs_rowbuf_rows: in the buffer) */
} cs_row;

struct cs_rowrun; /* rowrun.h */

/* Sets r->prefix from its key. */
static inline void cs_row_set_prefix(cs_row *r)
{
    uint64_t pre = 0;
    for (uint32_t k = 0; k < 8; k++)
        pre = (pre << 8) | (k < r->len ? r->key[k] : 0);
    r->prefix = pre;
}

typedef struct cs_rows {
    cs_row *v;      /* owned */
    uint8_t *arena; /* owned: joined gram and pair keys */
    double *measure;/* owned; pairs: pmi, npmi, llr of row i at [3i..3i+2] */
    size_t n;
    uint64_t types; /* keys with count > 0, before --min-count and --top */
    unsigned order, part;
    const uint32_t *ids;    /* borrowed; NULL: row v[i] is entry v[i].idx of partition part of
                               m's table; else (cs_rowbuf_rows) an n-gram row's ids are at
                               ids[v[i].idx * order] */
    struct cs_rowrun *disk; /* owned; NULL, or the n rows written out (cs_rowrun_spill: v,
                               arena and measure freed) */
} cs_rows;

/* The bytes rows hold in memory (none once written out). */
size_t cs_rows_bytes(const cs_rows *r);

/* tie_max of cs_rows_part: keep every row counted min_count. */
#define CS_TIE_ALL 0xFFFFu

/* The rows of partition p of table `order` (1 = terms) with count > 0 and
 * count >= min_count, sorted by count descending then key bytes ascending,
 * cut to the first `top` (no row past a partition's top can be in the
 * table's top). Of the rows counted exactly min_count, only those whose
 * key's first two bytes (big-endian) are at most tie_max are kept (not for
 * pairs; CS_TIE_ALL: all): see cs_tie_hist_part. Gram keys are joined
 * once here, so sorting and writing compare and copy flat bytes. Pair rows
 * also get their measures (the margins must be ready). */
void cs_rows_part(const cs_merged *m, unsigned order, unsigned p, uint64_t min_count,
                  unsigned tie_max, uint64_t top, cs_rows *out);
void cs_rows_free(cs_rows *r);

/* Histogram of the counts of partition p of table `order`: hist[c] rows
 * with count c for 1 <= c < CS_HIST_MAX, hist[CS_HIST_MAX] those above
 * (not those the merge left out: m->left). */
#define CS_HIST_MAX 1024
void cs_count_hist_part(const cs_merged *m, unsigned order, unsigned p, uint64_t *hist);

/* Adds to hist[b] (65,536 of them) the keys of partition p of table
 * `order` (not pairs) counted exactly c times whose key's first two bytes
 * are b. With --top K the rows at the top's smallest count c are often
 * far more than the top has room for (with K = 10^6, all 14 M trigrams
 * counted once in 128 MiB): if rows counted more than c are `above`, only
 * the K - above smallest keys counted c can be in the top, and those lie
 * in the lowest buckets whose sum reaches K - above. The rest need no key
 * joined and no sort (tie_max of cs_rows_part). N-grams counted once that
 * the merge left out (CS_PICK_LEAVE) are not seen here: it adds back only
 * those in the buckets the top reaches, so the lowest buckets agree. */
void cs_tie_hist_part(const cs_merged *m, unsigned order, unsigned p, uint64_t c, uint64_t *hist);

/* The largest count c such that at least `top` rows count c or more, from a
 * table's histogram (capped at CS_HIST_MAX, so a lower bound past it), 0 when
 * there are fewer rows. Rows counted less cannot be among the top: dropping
 * them before the sort changes no output byte. (Pair counts are weighted:
 * hist[c] counts those from c up to c + 1, and a harmonic count below 1 is
 * in no bucket, so 0 has to mean "keep all" rather than 1.) */
uint64_t cs_top_threshold(const uint64_t *hist, uint64_t top);

/* Order of two rows of one table whose key bytes are equal (grams only:
 * an NFKC term can hold a space): by their terms. */
int cs_row_tie(const cs_merged *m, unsigned order, const cs_row *a, unsigned part_a,
               const cs_row *b, unsigned part_b);
/* The byte lengths of the terms of an n-gram row of rows (in memory),
 * into lens[0..rows->order). */
void cs_row_term_lens(const cs_merged *m, const cs_rows *rows, const cs_row *row, uint32_t *lens);

/* The order of two n-grams of equal joined bytes from their terms' byte
 * lengths (order of them each): the first term that differs is a prefix
 * of the other, and the shorter comes first (cs_row_tie's order). */
static inline int cs_row_lens_cmp(const uint32_t *a, const uint32_t *b, unsigned order)
{
    for (unsigned k = 0; k < order; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* A pair row's count in units (held in count and units_lo). */
static inline unsigned __int128 cs_row_units(const cs_row *r)
{
    return ((unsigned __int128)(uint64_t)r->count << 64) | r->units_lo;
}

/* Row order but for the tie of two n-grams of equal joined bytes (0). */
static inline int cs_row_cmp_bytes(unsigned order, const cs_row *a, const cs_row *b)
{
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (order == CS_PAIRS && a->units_lo != b->units_lo)
        return a->units_lo > b->units_lo ? -1 : 1;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    if (a->key == b->key)
        return 0; /* a row and itself (a sort's pivot) */
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = n > 8 ? memcmp(a->key + 8, b->key + 8, n - 8) : 0; /* the prefix held the rest */
    if (c)
        return c;
    return a->len != b->len ? (a->len < b->len ? -1 : 1) : 0;
}

/* Row order: <0 when a comes first: count descending, then key bytes. */
static inline int cs_row_cmp(const cs_merged *m, unsigned order, const cs_row *a, unsigned part_a,
                             const cs_row *b, unsigned part_b)
{
    const int c = cs_row_cmp_bytes(order, a, b);
    /* Equal bytes: one term (its key is its bytes), one pair (no term holds
     * NUL), or two n-grams whose terms hold spaces. */
    return c || order < 2 || a->key == b->key ? c : cs_row_tie(m, order, a, part_a, b, part_b);
}

/* Rows made from summed grams or window pairs (read back from what the
 * merge wrote out: pipeline.c, rows_of_sums), from any partitions, until
 * they are made into sorted rows (cs_rowbuf_rows) and written out. The
 * terms must be held (their bytes are read as the items come). */
typedef struct cs_rowbuf {
    unsigned order;   /* 2..CS_NGRAM_MAX, or CS_PAIRS */
    uint32_t *ids;    /* owned; gram i's at [i * order], pair i's at [2i] */
    int64_t *cd;      /* owned; gram i's count and docs at [2i], [2i + 1]; pair i's units,
                         the high and low 64 bits */
    size_t n, cap;
    size_t key_bytes; /* of their joined keys */
} cs_rowbuf;

void cs_rowbuf_init(cs_rowbuf *b, unsigned order);
void cs_rowbuf_add(cs_rowbuf *b, const cs_merged *m, const uint32_t *ids, int64_t count,
                   int64_t docs);
/* A summed window pair (order CS_PAIRS): its terms' global ids and its
 * count in units. Its row's measures need m's margins sealed. */
void cs_rowbuf_add_pair(cs_rowbuf *b, const cs_merged *m, uint32_t a, uint32_t c,
                        unsigned __int128 units);
/* What b's grams and their rows take (the buffers' slack aside: they
 * double as they grow). */
size_t cs_rowbuf_bytes(const cs_rowbuf *b);
/* b's grams as rows of order b->order, sorted (as cs_rows_part sorts);
 * out->ids borrows b's: b must not change until out is written out or
 * freed. out->types is 0 (ROWS counts the types in m->left). */
void cs_rowbuf_rows(const cs_rowbuf *b, const cs_merged *m, cs_rows *out);
void cs_rowbuf_clear(cs_rowbuf *b);
void cs_rowbuf_free(cs_rowbuf *b);

#endif
