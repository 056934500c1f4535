/*
 * reduce.c - merging partitions and ordering rows (see reduce.h).
 *
 * DESIGN
 * Terms merge first: each source term is looked up by its bytes in the
 * merged partition (same hash everywhere), and its global id, (partition,
 * index), goes into the source's remap. Grams merge next, their ids
 * translated through remap; their hash was computed from term hashes, so
 * it is the same in every source and needs no recomputing.
 * Rows never come out in hash order: each partition is sorted by the
 * contract's order and the writer merges the 64 sorted runs, which is
 * what makes the bytes independent of the thread count.
 */
#include "reduce.h"

#include <stdlib.h>
#include <string.h>

cs_merged *cs_merged_new(cs_table *const *src, int n_src, int gram_min, int gram_max)
{
    cs_merged *m = cs_xcalloc(1, sizeof *m);
    m->n_src = n_src;
    m->terms = cs_table_new(1);
    for (int n = gram_min < 2 ? 2 : gram_min; n <= gram_max; n++)
        m->grams[n] = cs_table_new((unsigned)n);
    m->remap = cs_xcalloc((size_t)n_src, sizeof *m->remap);
    for (int s = 0; s < n_src; s++)
        m->remap[s] = cs_xmalloc(((size_t)src[s]->next_id + 1) * sizeof **m->remap);
    return m;
}

void cs_merged_free(cs_merged *m)
{
    if (!m)
        return;
    cs_table_free(m->terms);
    for (int n = 0; n <= CS_NGRAM_MAX; n++)
        cs_table_free(m->grams[n]);
    for (int s = 0; s < m->n_src; s++)
        free(m->remap[s]);
    free(m->remap);
    free(m);
}

int cs_merge_terms_part(cs_merged *m, cs_table *const *src, unsigned p)
{
    for (int s = 0; s < m->n_src; s++) {
        const cs_part *sp = &src[s]->part[p];
        for (uint32_t i = 0; i < sp->n; i++) {
            const cs_term *e = cs_part_entry(sp, sizeof(cs_term), i);
            int is_new;
            cs_term *d = cs_table_term(m->terms, e->hash, e->bytes, e->len, 0, &is_new);
            uint32_t idx = (uint32_t)(((const uint8_t *)d - m->terms->part[p].entries) / sizeof(cs_term));
            if (idx >= (1u << CS_ID_BITS))
                return -1;
            d->id = (p << CS_ID_BITS) | idx;
            d->c.count += e->c.count;
            d->c.docs += e->c.docs;
            m->remap[s][e->id] = d->id;
        }
    }
    return 0;
}

void cs_merge_grams_part(cs_merged *m, cs_table *const *src, unsigned order, unsigned p)
{
    uint32_t ids[CS_NGRAM_MAX];
    for (int s = 0; s < m->n_src; s++) {
        const cs_part *sp = &src[s]->part[p];
        const uint32_t *remap = m->remap[s];
        for (uint32_t i = 0; i < sp->n; i++) {
            const cs_gram *e = cs_part_entry(sp, src[s]->stride, i);
            for (unsigned k = 0; k < order; k++)
                ids[k] = remap[e->ids[k]];
            int is_new;
            cs_gram *d = cs_table_gram(m->grams[order], e->hash, ids, &is_new);
            d->c.count += e->c.count;
            d->c.docs += e->c.docs;
        }
    }
}

const cs_term *cs_row_term(const cs_merged *m, const cs_row *r)
{
    return cs_part_entry(&m->terms->part[r->part], sizeof(cs_term), r->idx);
}

const uint32_t *cs_row_gram_ids(const cs_merged *m, unsigned order, const cs_row *r)
{
    const cs_table *t = m->grams[order];
    return ((const cs_gram *)cs_part_entry(&t->part[r->part], t->stride, r->idx))->ids;
}

/* Walks the bytes of a key: a term, or the terms of a gram joined by ' '. */
typedef struct {
    const cs_merged *m;
    const uint32_t *ids; /* NULL for a term */
    unsigned order, k;   /* current term */
    const uint8_t *p;    /* current term bytes */
    uint32_t len, pos;
} keycur;

static void keycur_init(keycur *c, const cs_merged *m, unsigned order, const cs_row *r)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->order = order;
    if (order == 1) {
        const cs_term *t = cs_row_term(m, r);
        c->p = t->bytes;
        c->len = t->len;
    } else {
        c->ids = cs_row_gram_ids(m, order, r);
        const cs_term *t = cs_merged_term(m, c->ids[0]);
        c->p = t->bytes;
        c->len = t->len;
    }
}

/* Next byte, or -1 at the end. */
static inline int keycur_next(keycur *c)
{
    if (c->pos < c->len)
        return c->p[c->pos++];
    if (!c->ids || c->k + 1 >= c->order)
        return -1;
    c->k++;
    const cs_term *t = cs_merged_term(c->m, c->ids[c->k]);
    c->p = t->bytes;
    c->len = t->len;
    c->pos = 0;
    return ' ';
}

static int key_cmp(const cs_merged *m, unsigned order, const cs_row *a, const cs_row *b)
{
    keycur x, y;
    keycur_init(&x, m, order, a);
    keycur_init(&y, m, order, b);
    for (;;) {
        int u = keycur_next(&x), v = keycur_next(&y);
        if (u != v)
            return u < v ? -1 : 1;
        if (u < 0)
            break;
    }
    /* The same bytes from different keys (an NFKC term can hold a space):
     * order by ids so the output stays deterministic. */
    if (order == 1)
        return 0;
    const uint32_t *ia = cs_row_gram_ids(m, order, a), *ib = cs_row_gram_ids(m, order, b);
    for (unsigned k = 0; k < order; k++)
        if (ia[k] != ib[k]) {
            int c = key_cmp(m, 1, &(cs_row){0, 0, 0, ia[k] >> CS_ID_BITS, ia[k] & ((1u << CS_ID_BITS) - 1)},
                            &(cs_row){0, 0, 0, ib[k] >> CS_ID_BITS, ib[k] & ((1u << CS_ID_BITS) - 1)});
            if (c)
                return c;
        }
    return 0;
}

int cs_row_cmp(const cs_merged *m, unsigned order, const cs_row *a, const cs_row *b)
{
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    return key_cmp(m, order, a, b);
}

typedef struct {
    const cs_merged *m;
    unsigned order;
} sortctx;

static int row_qcmp(const void *a, const void *b, void *ctx)
{
    const sortctx *s = ctx;
    return cs_row_cmp(s->m, s->order, a, b);
}

void cs_rows_part(const cs_merged *m, unsigned order, unsigned p, uint64_t min_count,
                  uint64_t top, cs_rows *out)
{
    const cs_table *t = order == 1 ? m->terms : m->grams[order];
    const cs_part *part = &t->part[p];
    out->v = cs_xmalloc(((size_t)part->n + 1) * sizeof *out->v);
    out->n = 0;
    out->types = 0;
    for (uint32_t i = 0; i < part->n; i++) {
        const cs_cnt *c = order == 1 ? &((const cs_term *)cs_part_entry(part, t->stride, i))->c
                                     : &((const cs_gram *)cs_part_entry(part, t->stride, i))->c;
        if (c->count <= 0)
            continue; /* a key whose shard was taken back */
        out->types++;
        if ((uint64_t)c->count < min_count)
            continue;
        cs_row *r = &out->v[out->n++];
        r->count = c->count;
        r->docs = c->docs;
        r->part = p;
        r->idx = i;
        keycur k;
        keycur_init(&k, m, order, r);
        uint64_t pre = 0;
        for (int b = 0; b < 8; b++) {
            int x = keycur_next(&k);
            pre = (pre << 8) | (uint64_t)(x < 0 ? 0 : x);
            if (x < 0) {
                pre <<= 8 * (7 - b);
                break;
            }
        }
        r->prefix = pre;
    }
    sortctx s = {m, order};
    qsort_r(out->v, out->n, sizeof *out->v, row_qcmp, &s);
    if (out->n > top)
        out->n = (size_t)top;
}
