/*
 * rowrun.c - sorted rows to disk and back (see rowrun.h for the format).
 */
#include "rowrun.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* The most bytes a row takes besides its key: two 10-byte varints, the
 * measures, the key's length and the n-grams' term lengths. */
#define ROW_MAX (10 + 10 + 3 * sizeof(double) + 5 + 5 * CS_NGRAM_MAX)

/* A row to write, with what the format keeps beside it. */
typedef struct row_out {
    const cs_row *row;
    const double *measure;  /* pairs */
    const uint32_t *lens;   /* n-grams */
} row_out;

/* The rows a run is written from, in order: 1 and *o, or 0 after the last. */
typedef int (*row_source)(void *ctx, unsigned order, row_out *o);

static uint8_t *put_row(uint8_t *d, unsigned order, const row_out *o)
{
    const cs_row *r = o->row;
    d = cs_put_varint(d, cs_zigzag(r->count));
    if (order == CS_PAIRS) {
        d = cs_put_varint(d, r->units_lo);
        memcpy(d, o->measure, 3 * sizeof(double));
        d += 3 * sizeof(double);
    } else {
        d = cs_put_varint(d, cs_zigzag(r->docs));
    }
    d = cs_put_varint(d, r->len);
    memcpy(d, r->key, r->len);
    d += r->len;
    for (unsigned k = 0; k + 1 < order; k++) /* n-grams */
        d = cs_put_varint(d, o->lens[k]);
    return d;
}

void cs_rowrun_writer_init(cs_rowrun_writer *w, cs_spill_file *f, size_t block)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->block = block;
    w->run = cs_xcalloc(1, sizeof *w->run);
}

/* The first n_blocks blocks out as a pack (the last may be part full);
 * after a failed write they are dropped, so that a writer fed on (by a
 * merge's sink) holds no more than a pack. */
static void flush_pack(cs_rowrun_writer *w, unsigned n_blocks)
{
    if (!n_blocks)
        return;
    if (w->failed)
        goto empty;
    const uint8_t *part[CS_N_PARTS] = {0};
    size_t len[CS_N_PARTS] = {0};
    for (unsigned b = 0; b < n_blocks; b++) {
        const size_t end = b + 1 < n_blocks ? w->from[b + 1] : w->buf.len;
        part[b] = w->buf.data + w->from[b];
        len[b] = end - w->from[b];
    }
    cs_rowrun *run = w->run;
    if (run->n_packs == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 4;
        run->packs = cs_xrealloc(run->packs, w->cap * sizeof *run->packs);
    }
    if (cs_spill_parts(w->f, part, len, w->n, &run->packs[run->n_packs]) != 0) {
        w->failed = 1; /* the spill keeps the error */
    } else {
        run->n_packs++;
        run->bytes += w->buf.len;
    }
empty:
    w->buf.len = 0;
    w->b = 0;
    memset(w->n, 0, sizeof w->n);
    w->from[0] = 0;
}

/* Room for an item of at most `max` bytes at the end of the block. */
static uint8_t *item_at(cs_rowrun_writer *w, size_t max)
{
    cs_buf_reserve(&w->buf, max);
    return w->buf.data + w->buf.len;
}

/* The item at item_at ends at end: the block ends after it when it passes
 * w->block bytes, and the pack when CS_N_PARTS blocks are full. */
static void item_done(cs_rowrun_writer *w, const uint8_t *end)
{
    w->buf.len = (size_t)(end - w->buf.data);
    w->n[w->b]++;
    w->run->rows++;
    if (w->buf.len - w->from[w->b] < w->block)
        return;
    if (++w->b == CS_N_PARTS)
        flush_pack(w, CS_N_PARTS);
    else
        w->from[w->b] = w->buf.len;
}

void cs_rowrun_put_gram(cs_rowrun_writer *w, const uint32_t *ids, unsigned order, int64_t count,
                        int64_t docs)
{
    uint8_t *d = item_at(w, 20 + 5 * (size_t)order);
    d = cs_put_varint(d, cs_zigzag(count));
    d = cs_put_varint(d, cs_zigzag(docs));
    for (unsigned k = 0; k < order; k++)
        d = cs_put_varint(d, ids[k]);
    item_done(w, d);
}

void cs_rowrun_put_pair(cs_rowrun_writer *w, uint32_t a, uint32_t b, unsigned __int128 units)
{
    uint8_t *d = item_at(w, 30);
    d = cs_put_varint(d, a);
    d = cs_put_varint(d, b);
    d = cs_put_varint(d, (uint64_t)(units >> 64));
    d = cs_put_varint(d, (uint64_t)units);
    item_done(w, d);
}

int cs_rowrun_writer_end(cs_rowrun_writer *w, cs_rowrun **out)
{
    flush_pack(w, w->b + (w->buf.len > w->from[w->b])); /* the last block, when it has items */
    *out = NULL;
    if (w->failed || !w->run->rows) {
        cs_rowrun_free(w->run);
        free(w->run);
    } else {
        *out = w->run;
    }
    w->run = NULL;
    cs_buf_free(&w->buf);
    return w->failed ? -1 : 0;
}

/* Writes the rows of `next` to f as a run into *out (on disk; n its rows):
 * 0, or -1 (the spill keeps the error) with out empty. */
static int write_run(cs_spill_file *f, unsigned order, row_source next, void *ctx, size_t block,
                     cs_rows *out)
{
    cs_rowrun_writer w;
    cs_rowrun_writer_init(&w, f, block);
    row_out o;
    while (!w.failed && next(ctx, order, &o))
        item_done(&w, put_row(item_at(&w, ROW_MAX + o.row->len), order, &o));
    cs_rowrun *run;
    if (cs_rowrun_writer_end(&w, &run) != 0)
        return -1;
    memset(out, 0, sizeof *out);
    out->order = order;
    out->n = run ? run->rows : 0;
    out->disk = run ? run : cs_xcalloc(1, sizeof *out->disk); /* (no rows: an empty run) */
    return 0;
}

/* A cs_rows in memory, as a row_source. */
typedef struct rows_at {
    const cs_merged *m;
    const cs_rows *rows;
    size_t i;
    uint32_t lens[CS_NGRAM_MAX];
} rows_at;

static int next_in_rows(void *ctx, unsigned order, row_out *o)
{
    rows_at *a = ctx;
    if (a->i == a->rows->n)
        return 0;
    const size_t i = a->i++;
    o->row = &a->rows->v[i];
    o->measure = order == CS_PAIRS ? &a->rows->measure[3 * i] : NULL;
    o->lens = NULL;
    if (order >= 2) {
        cs_row_term_lens(a->m, a->rows, o->row, a->lens);
        o->lens = a->lens;
    }
    return 1;
}

int cs_rowrun_spill(cs_spill_file *f, const cs_merged *m, cs_rows *rows, size_t block)
{
    rows_at a = {.m = m, .rows = rows};
    cs_rows out;
    if (write_run(f, rows->order, next_in_rows, &a, block, &out) != 0)
        return -1;
    free(rows->v);
    free(rows->arena);
    free(rows->measure);
    rows->v = NULL;
    rows->arena = NULL;
    rows->measure = NULL;
    rows->ids = NULL;
    rows->disk = out.disk;
    return 0;
}

static int next_in_merge(void *ctx, unsigned order, row_out *o)
{
    cs_rowmerge *g = ctx;
    if (!(o->row = cs_rowmerge_next(g)))
        return 0;
    o->measure = order == CS_PAIRS ? cs_rowmerge_measure(g) : NULL;
    o->lens = order >= 2 ? cs_rowmerge_lens(g) : NULL;
    return 1;
}

int cs_rowrun_merge(cs_spill_file *f, cs_rowmerge *g, size_t block, cs_rows *out)
{
    return write_run(f, g->order, next_in_merge, g, block, out);
}

void cs_rowrun_free(cs_rowrun *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->n_packs; i++)
        cs_pack_free(&run->packs[i]);
    free(run->packs);
    memset(run, 0, sizeof *run);
}

void cs_rowrun_reader_init(cs_rowrun_reader *r, const cs_rowrun *run, unsigned order)
{
    memset(r, 0, sizeof *r);
    r->run = run;
    r->order = order;
}

/* The next block with rows into buf; 0 when there is none or it cannot be
 * read back (the spill keeps that error). */
static int next_block(cs_rowrun_reader *r)
{
    while (r->pack < r->run->n_packs) {
        const cs_pack *pk = &r->run->packs[r->pack];
        const unsigned b = r->block;
        if (++r->block == CS_N_PARTS) {
            r->block = 0;
            r->pack++;
        }
        if (!pk->n[b])
            continue;
        const uint8_t *p = cs_pack_part(pk, b, &r->buf);
        if (!p)
            return 0;
        r->at = p;
        r->end = p + (pk->off[b + 1] - pk->off[b]);
        return 1;
    }
    return 0;
}

const cs_row *cs_rowrun_next(cs_rowrun_reader *r)
{
    if (r->at == r->end && !next_block(r))
        return NULL;
    /* The writer's bytes, checked by the frame's checksum: read as they
     * were written. */
    const uint8_t *p = r->at;
    cs_row *row = &r->row;
    uint64_t v;
    p = cs_get_varint(p, &v);
    row->count = cs_unzigzag(v);
    p = cs_get_varint(p, &v);
    if (r->order == CS_PAIRS) {
        row->units_lo = v;
        memcpy(r->measure, p, sizeof r->measure);
        p += sizeof r->measure;
    } else {
        row->docs = cs_unzigzag(v);
    }
    p = cs_get_varint(p, &v);
    row->len = (uint32_t)v;
    row->key = p;
    p += row->len;
    uint32_t rest = row->len;
    for (unsigned k = 0; k + 1 < r->order; k++) {
        p = cs_get_varint(p, &v);
        r->lens[k] = (uint32_t)v;
        rest -= (uint32_t)v + 1; /* the term and the space after it */
    }
    if (r->order >= 2)
        r->lens[r->order - 1] = rest;
    cs_row_set_prefix(row);
    row->idx = 0;
    assert(p <= r->end);
    r->at = p;
    return row;
}

int cs_rowrun_next_gram(cs_rowrun_reader *r, uint32_t *ids, int64_t *count, int64_t *docs)
{
    if (r->at == r->end && !next_block(r))
        return 0;
    const uint8_t *p = r->at;
    uint64_t v;
    p = cs_get_varint(p, &v);
    *count = cs_unzigzag(v);
    p = cs_get_varint(p, &v);
    *docs = cs_unzigzag(v);
    for (unsigned k = 0; k < r->order; k++) {
        p = cs_get_varint(p, &v);
        ids[k] = (uint32_t)v;
    }
    assert(p <= r->end);
    r->at = p;
    return 1;
}

int cs_rowrun_next_pair(cs_rowrun_reader *r, uint32_t *a, uint32_t *b, unsigned __int128 *units)
{
    if (r->at == r->end && !next_block(r))
        return 0;
    const uint8_t *p = r->at;
    uint64_t v, hi;
    p = cs_get_varint(p, &v);
    *a = (uint32_t)v;
    p = cs_get_varint(p, &v);
    *b = (uint32_t)v;
    p = cs_get_varint(p, &hi);
    p = cs_get_varint(p, &v);
    *units = (unsigned __int128)hi << 64 | v;
    assert(p <= r->end);
    r->at = p;
    return 1;
}

void cs_rowrun_reader_free(cs_rowrun_reader *r)
{
    cs_buf_free(&r->buf);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* the merge of runs                                                    */

/* Moves run i's head on (to its first row, at init). */
static void step(cs_rowmerge *g, size_t i)
{
    const cs_rows *run = &g->src[i];
    if (run->disk) {
        g->head[i] = cs_rowrun_next(&g->rd[i]);
        return;
    }
    const size_t k = g->pos[i]++;
    g->head[i] = k < run->n ? &run->v[k] : NULL;
    /* The key of a row a few places on in the same run: the writer reads
     * each key once, and a term's key sits in its entry, scattered over the
     * table; fetching it ahead lets those misses overlap (bench/NOTES.md,
     * 12). An n-gram's key is in its run's arena, in order: no miss to hide,
     * and the prefetch costs little. */
    if (k + 8 < run->n)
        __builtin_prefetch(run->v[k + 8].key);
}

/* The term lengths of n-gram row x, the head of run i. */
static const uint32_t *head_lens(const cs_rowmerge *g, size_t i, const cs_row *x, uint32_t *buf)
{
    if (g->src[i].disk)
        return g->rd[i].lens;
    cs_row_term_lens(g->m, &g->src[i], x, buf);
    return buf;
}

/* Run a's head comes before run b's (a spent run, or a leaf past the
 * runs, comes last). */
static inline int beats(const cs_rowmerge *g, size_t a, size_t b)
{
    const cs_row *x = a < g->n ? g->head[a] : NULL, *y = b < g->n ? g->head[b] : NULL;
    if (!x || !y)
        return x != NULL;
    const int c = cs_row_cmp_bytes(g->order, x, y);
    if (c || g->order < 2)
        return c < 0;
    /* Two n-grams of equal bytes, by their terms' lengths: a run written
     * out keeps them, one in memory has its table's or its buffer's. */
    uint32_t la[CS_NGRAM_MAX], lb[CS_NGRAM_MAX];
    return cs_row_lens_cmp(head_lens(g, a, x, la), head_lens(g, b, y, lb), g->order) < 0;
}

void cs_rowmerge_init(cs_rowmerge *g, const cs_merged *m, unsigned order, cs_rows *src,
                      size_t n)
{
    memset(g, 0, sizeof *g);
    g->m = m;
    g->order = order;
    g->src = src;
    g->n = n;
    g->size = 1;
    while (g->size < n)
        g->size *= 2;
    g->pos = cs_xcalloc(n + 1, sizeof *g->pos);
    g->head = cs_xcalloc(n + 1, sizeof *g->head);
    g->loser = cs_xcalloc(g->size, sizeof *g->loser);
    for (size_t i = 0; i < n; i++) {
        if (src[i].disk) {
            if (!g->rd)
                g->rd = cs_xcalloc(n, sizeof *g->rd);
            cs_rowrun_reader_init(&g->rd[i], src[i].disk, order);
        }
        step(g, i);
    }
    /* Leaves are nodes size..2 size - 1; node k's children 2k and 2k + 1. */
    size_t *winner = cs_xmalloc(2 * g->size * sizeof *winner);
    for (size_t i = 0; i < g->size; i++)
        winner[g->size + i] = i;
    for (size_t k = g->size - 1; k >= 1; k--) {
        const size_t a = winner[2 * k], b = winner[2 * k + 1];
        const int a_wins = beats(g, a, b);
        winner[k] = a_wins ? a : b;
        g->loser[k] = a_wins ? b : a;
    }
    g->loser[0] = winner[1];
    free(winner);
}

const cs_row *cs_rowmerge_next(cs_rowmerge *g)
{
    size_t w = g->loser[0];
    /* The run of the row returned last moves on only now: a row read back
     * from disk lives in its reader, valid until the reader moves. */
    if (g->moved && w < g->n) {
        step(g, w);
        /* Replay w's path to the root: one comparison per level. */
        for (size_t k = (w + g->size) / 2; k >= 1; k /= 2)
            if (beats(g, g->loser[k], w)) {
                const size_t t = g->loser[k];
                g->loser[k] = w;
                w = t;
            }
        g->loser[0] = w;
    }
    g->moved = 1;
    g->last = w;
    return w < g->n ? g->head[w] : NULL;
}

const double *cs_rowmerge_measure(const cs_rowmerge *g)
{
    const size_t i = g->last;
    if (g->src[i].disk)
        return g->rd[i].measure;
    return &g->src[i].measure[3 * (size_t)(g->head[i] - g->src[i].v)];
}

const uint32_t *cs_rowmerge_lens(cs_rowmerge *g)
{
    return head_lens(g, g->last, g->head[g->last], g->lens);
}

void cs_rowmerge_free(cs_rowmerge *g)
{
    for (size_t i = 0; g->rd && i < g->n; i++)
        cs_rowrun_reader_free(&g->rd[i]);
    free(g->rd);
    free(g->pos);
    free(g->head);
    free(g->loser);
    memset(g, 0, sizeof *g);
}
