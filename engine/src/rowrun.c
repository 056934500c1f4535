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

static uint8_t *put_row(uint8_t *d, const cs_merged *m, const cs_rows *rows, size_t i)
{
    const cs_row *r = &rows->v[i];
    d = cs_put_varint(d, cs_zigzag(r->count));
    if (rows->order == CS_PAIRS) {
        d = cs_put_varint(d, r->units_lo);
        memcpy(d, &rows->measure[3 * i], 3 * sizeof(double));
        d += 3 * sizeof(double);
    } else {
        d = cs_put_varint(d, cs_zigzag(r->docs));
    }
    d = cs_put_varint(d, r->len);
    memcpy(d, r->key, r->len);
    d += r->len;
    if (rows->order >= 2) {
        uint32_t lens[CS_NGRAM_MAX];
        cs_row_term_lens(m, rows->order, rows->part, r, lens);
        for (unsigned k = 0; k + 1 < rows->order; k++)
            d = cs_put_varint(d, lens[k]);
    }
    return d;
}

static int write_run(cs_spill_file *f, const cs_merged *m, const cs_rows *rows, size_t block,
                     cs_rowrun *out, cs_buf *buf)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    for (size_t i = 0; i < rows->n;) {
        /* Up to CS_N_PARTS blocks into buf, then they go out as a pack. */
        size_t from[CS_N_PARTS], len[CS_N_PARTS] = {0};
        uint32_t n[CS_N_PARTS] = {0};
        buf->len = 0;
        for (unsigned b = 0; b < CS_N_PARTS && i < rows->n; b++) {
            from[b] = buf->len;
            while (i < rows->n && buf->len - from[b] < block) {
                cs_buf_reserve(buf, ROW_MAX + rows->v[i].len);
                buf->len = (size_t)(put_row(buf->data + buf->len, m, rows, i) - buf->data);
                n[b]++;
                i++;
            }
            len[b] = buf->len - from[b];
        }
        const uint8_t *part[CS_N_PARTS];
        for (unsigned b = 0; b < CS_N_PARTS; b++)
            part[b] = len[b] ? buf->data + from[b] : NULL;
        if (out->n_packs == cap) {
            cap = cap ? 2 * cap : 4;
            out->packs = cs_xrealloc(out->packs, cap * sizeof *out->packs);
        }
        if (cs_spill_parts(f, part, len, n, &out->packs[out->n_packs]) != 0) {
            cs_rowrun_free(out);
            return -1;
        }
        out->n_packs++;
        out->bytes += buf->len;
    }
    out->rows = rows->n;
    return 0;
}

int cs_rowrun_spill(cs_spill_file *f, const cs_merged *m, cs_rows *rows, size_t block,
                    cs_buf *buf)
{
    cs_rowrun *run = cs_xmalloc(sizeof *run);
    if (write_run(f, m, rows, block, run, buf) != 0) {
        free(run);
        return -1;
    }
    free(rows->v);
    free(rows->arena);
    free(rows->measure);
    rows->v = NULL;
    rows->arena = NULL;
    rows->measure = NULL;
    rows->disk = run;
    return 0;
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
    uint64_t pre = 0;
    for (uint32_t k = 0; k < 8; k++)
        pre = (pre << 8) | (k < row->len ? row->key[k] : 0);
    row->prefix = pre;
    row->idx = 0;
    assert(p <= r->end);
    r->at = p;
    return row;
}

void cs_rowrun_reader_free(cs_rowrun_reader *r)
{
    cs_buf_free(&r->buf);
    memset(r, 0, sizeof *r);
}
