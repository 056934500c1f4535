/* test_grams.c - n-grams counted by sorting (grams.c), against a reference
 * that keeps every occurrence as a string with its document and sign and
 * sums them by qsort: the same grams with the same count and doc_count,
 *   - whatever the buffer size (1 occurrence a run up to one run), so
 *     documents cut between runs, and one document spanning hundreds of
 *     runs, are counted once;
 *   - with occurrences taken back (sign -1) in between, as the pipeline
 *     does with a bad shard, some grams wholly (then they are left out);
 *   - for a merge that leaves grams out (a keep filter) and a second call
 *     that appends them;
 *   - for two counters whose runs are merged on the reducer's road (terms
 *     merged, ids translated, partition by partition), each gram landing in
 *     the partition of its first term. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count.h"
#include "reduce.h"
#include "testcorpus.h"
#include "testhelp.h"

/* ------------------------------------------------------------------ */
/* the reference                                                        */

#define ORDERS 3 /* grams of 2 and 3 */

typedef struct occ {
    char *key; /* terms joined by 0x1F */
    uint64_t doc;
    int sign;
} occ;

typedef struct recorder {
    cs_counter *c; /* fed the same batches; its sign is the sign */
    occ *v;
    size_t n, cap;
    uint64_t *next_doc; /* shared by the counters of one test: ids unique */
    uint64_t doc;
    unsigned hist_len;
    char hist[ORDERS][64];
} recorder;

static void record(recorder *r, unsigned n)
{
    char key[3 * 65];
    size_t len = 0;
    for (unsigned k = r->hist_len - n; k < r->hist_len; k++)
        len += (size_t)sprintf(key + len, "%s%s", len ? "\x1f" : "", r->hist[k]);
    if (r->n == r->cap && !(r->v = realloc(r->v, (r->cap = r->cap ? 2 * r->cap : 1024) * sizeof *r->v)))
        abort();
    r->v[r->n++] = (occ){strdup(key), r->doc, (int)r->c->sign};
}

/* A sink: the counter's, and the reference's grams by count.c's rules (a
 * hole, a segment end or a document end breaks them). */
static void tee(void *ctx, const cs_tok_batch *b)
{
    recorder *r = ctx;
    cs_counter_consume(r->c, b);
    for (uint32_t i = 0; i < b->n_events; i++) {
        switch (b->kind[i]) {
        case CS_EV_TOKEN:
            if (r->hist_len == ORDERS) {
                memmove(r->hist[0], r->hist[1], sizeof r->hist[0] * (ORDERS - 1));
                r->hist_len--;
            }
            if (b->len[i] >= sizeof r->hist[0])
                abort();
            memcpy(r->hist[r->hist_len], b->bytes + b->off[i], b->len[i]);
            r->hist[r->hist_len++][b->len[i]] = 0;
            for (unsigned n = 2; n <= r->hist_len; n++)
                record(r, n);
            break;
        case CS_EV_DOC_BEGIN:
            r->doc = (*r->next_doc)++;
            r->hist_len = 0;
            break;
        default:
            r->hist_len = 0;
            break;
        }
    }
}

typedef struct gram {
    char *key; /* owned */
    int64_t count, docs;
} gram;

static int cmp_occ(const void *x, const void *y)
{
    const occ *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->doc > b->doc) - (a->doc < b->doc);
}

static int cmp_gram(const void *x, const void *y)
{
    return strcmp(((const gram *)x)->key, ((const gram *)y)->key);
}

/* The recorded occurrences summed: count, and each document once with its
 * sign; grams summing to nothing are left out (*gone counts them). */
static gram *reference(recorder *r, size_t *n_out, size_t *gone)
{
    qsort(r->v, r->n, sizeof *r->v, cmp_occ);
    gram *g = malloc((r->n + 1) * sizeof *g);
    size_t m = 0;
    *gone = 0;
    for (size_t i = 0; i < r->n;) {
        gram x = {strdup(r->v[i].key), 0, 0};
        for (size_t j = i; i < r->n && !strcmp(r->v[i].key, r->v[j].key); i++) {
            x.count += r->v[i].sign;
            if (i == j || r->v[i].doc != r->v[i - 1].doc)
                x.docs += r->v[i].sign;
        }
        if (x.count || x.docs) {
            g[m++] = x;
        } else {
            free(x.key);
            (*gone)++;
        }
    }
    *n_out = m;
    return g;
}

static void recorder_free(recorder *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].key);
    free(r->v);
}

static void free_grams(gram *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(g[i].key);
    free(g);
}

/* ------------------------------------------------------------------ */
/* the counter                                                          */

/* Feeds text to the counter and the reference (feed_text). */
static void count_text(recorder *r, const char *text, size_t len, cs_tok_docs docs)
{
    feed_text(tee, r, r->c, text, len, docs);
}

/* Appends the entries of part (ids named by name()) to *v. in_part: 0
 * when an entry's first term is not of partition p. */
static void take_part(const cs_part *part, unsigned order, unsigned p,
                      const char *(*name)(const void *ctx, uint32_t id, unsigned *part_of),
                      const void *ctx, gram **v, size_t *n, int *in_part)
{
    *v = realloc(*v, (*n + part->n + 1) * sizeof **v);
    for (uint32_t i = 0; i < part->n; i++) {
        const cs_gram *e = cs_part_entry(part, cs_gram_stride(order), i);
        char key[CS_NGRAM_MAX * 65];
        size_t len = 0;
        for (unsigned k = 0; k < order; k++) {
            unsigned q;
            len += (size_t)sprintf(key + len, "%s%s", k ? "\x1f" : "", name(ctx, e->ids[k], &q));
            if (k == 0 && q != p)
                *in_part = 0;
        }
        (*v)[(*n)++] = (gram){strdup(key), e->count, e->docs};
    }
}

/* The same grams with the same counts. */
static int same(gram *a, size_t na, gram *b, size_t nb)
{
    if (na != nb)
        return 0;
    qsort(a, na, sizeof *a, cmp_gram);
    qsort(b, nb, sizeof *b, cmp_gram);
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].key, b[i].key) || a[i].count != b[i].count || a[i].docs != b[i].docs)
            return 0;
    return 1;
}

typedef struct {
    const cs_term **by_id;
    char buf[2][65];
    int which;
} local_names;

static const char *local_name(const void *ctx, uint32_t id, unsigned *part)
{
    local_names *l = (local_names *)ctx;
    const cs_term *e = l->by_id[id];
    char *s = l->buf[l->which ^= 1];
    memcpy(s, cs_term_bytes(e), e->len);
    s[e->len] = 0;
    *part = cs_part_of(e->hash);
    return s;
}

/* One counter, buffers of `size` occurrences (0: the default). */
static void test_one(const char *text, size_t len, cs_tok_docs docs, size_t size)
{
    cs_counter c;
    cs_counter_init(&c, 1, ORDERS, 1, 1);
    for (int n = 2; n <= ORDERS; n++)
        if (size)
            c.grams[n]->max = size;
    uint64_t next_doc = 1;
    recorder r = {.c = &c, .next_doc = &next_doc};
    count_text(&r, text, len, docs);
    size_t n_exp, gone;
    gram *exp = reference(&r, &n_exp, &gone);
    CHECK(n_exp > 1000 && gone > 0); /* some grams occur only in lines taken back */
    local_names names = {terms_by_id(c.terms), {{0}}, 0};
    cs_grams_scratch scratch = {0};
    for (unsigned order = 2; order <= ORDERS; order++) {
        /* the reference's grams of this order: those with order - 1 separators */
        gram *want = malloc((n_exp + 1) * sizeof *want), *got = NULL;
        size_t n_want = 0, n_got = 0;
        for (size_t i = 0; i < n_exp; i++) {
            unsigned seps = 0;
            for (const char *q = exp[i].key; *q; q++)
                seps += *q == '\x1f';
            if (seps == order - 1)
                want[n_want++] = (gram){strdup(exp[i].key), exp[i].count, exp[i].docs};
        }
        int in_part = 1;
        cs_grams *g = c.grams[order];
        for (unsigned p = 0; p < CS_N_PARTS; p++) {
            cs_part part = {0};
            cs_grams_merge_part(&g, 1, NULL, p, &part, cs_gram_stride(order), &scratch, NULL, NULL);
            take_part(&part, order, p, local_name, &names, &got, &n_got, &in_part);
            free(part.entries);
        }
        CHECK(in_part);
        CHECK_MSG(same(want, n_want, got, n_got), "order %u, docs %d, buffer %zu, runs %zu: %zu grams against %zu",
                  order, (int)docs, size, g->n_runs, n_got, n_want);
        if (size == 1)
            CHECK(g->n_runs > 10000);
        free_grams(want, n_want);
        free_grams(got, n_got);
    }
    cs_grams_scratch_free(&scratch);
    free(names.by_id);
    free_grams(exp, n_exp);
    recorder_free(&r);
    cs_counter_free(&c);
}

/* keep filters of cs_grams_merge_part: counted more than once, and once. */
static int not_once(void *ctx, const uint32_t *ids, int64_t count, int64_t docs)
{
    (void)ids;
    (void)docs;
    *(uint64_t *)ctx += count == 1;
    return count != 1;
}

static int once_only(void *ctx, const uint32_t *ids, int64_t count, int64_t docs)
{
    (void)docs;
    (void)ctx;
    (void)ids;
    return count == 1;
}

/* A merge that leaves grams out (keep), then a second call on the same
 * runs that appends them, gives the grams of a plain merge. */
static void test_keep(const char *text, size_t len)
{
    cs_counter c;
    cs_counter_init(&c, 1, ORDERS, 1, 1);
    c.grams[2]->max = 500; /* many runs */
    uint64_t next_doc = 1;
    recorder r = {.c = &c, .next_doc = &next_doc};
    count_text(&r, text, len, CS_TOK_DOCS_LINE);
    local_names names = {terms_by_id(c.terms), {{0}}, 0};
    cs_grams_scratch scratch = {0};
    cs_grams *g = c.grams[2];
    gram *plain = NULL, *two = NULL;
    size_t n_plain = 0, n_two = 0;
    uint64_t left = 0, kept_first = 0;
    int in_part = 1;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_part a = {0}, b = {0};
        cs_grams_merge_part(&g, 1, NULL, p, &a, cs_gram_stride(2), &scratch, NULL, NULL);
        cs_grams_merge_part(&g, 1, NULL, p, &b, cs_gram_stride(2), &scratch, not_once, &left);
        kept_first += b.n;
        cs_grams_merge_part(&g, 1, NULL, p, &b, cs_gram_stride(2), &scratch, once_only, NULL);
        take_part(&a, 2, p, local_name, &names, &plain, &n_plain, &in_part);
        take_part(&b, 2, p, local_name, &names, &two, &n_two, &in_part);
        free(a.entries);
        free(b.entries);
    }
    CHECK(left > 100 && kept_first > 100 && kept_first + left == n_two);
    CHECK_MSG(same(plain, n_plain, two, n_two), "left out, then added: %zu grams against %zu", n_two,
              n_plain);
    cs_grams_scratch_free(&scratch);
    free_grams(plain, n_plain);
    free_grams(two, n_two);
    free(names.by_id);
    recorder_free(&r);
    cs_counter_free(&c);
}

/* ------------------------------------------------------------------ */
/* two counters through the reducer                                     */

static const char *global_name(const void *ctx, uint32_t gid, unsigned *part)
{
    static char buf[2][65];
    static int which;
    uint32_t len;
    const uint8_t *b = cs_merged_bytes(ctx, gid, &len);
    char *s = buf[which ^= 1];
    memcpy(s, b, len);
    s[len] = 0;
    *part = gid >> CS_ID_BITS;
    return s;
}

/* a's ids before b's (a gram appears once in a merged partition). */
static int ids_before(const uint32_t *a, const uint32_t *b, unsigned order)
{
    for (unsigned k = 0; k < order; k++)
        if (a[k] != b[k])
            return a[k] < b[k];
    return 0;
}

/* Two counters through the reducer; min_slice > 0: the merge's scratch
 * bounded, so that partitions merge in slices of about min_slice items
 * (every first term is then "heavy", its items sliced by second term). */
static void test_merged(cs_tok_docs docs, size_t min_slice)
{
    size_t len[2];
    char *text[2] = {make_text(11, &len[0]), make_text(12, &len[1])};
    cs_counter c[2];
    cs_table *terms[2];
    recorder r[2];
    uint64_t next_doc = 1;
    for (int k = 0; k < 2; k++) {
        /* document ids 1, 3, 5, ... and 2, 4, 6, ...: as the pipeline's threads */
        cs_counter_init(&c[k], 1, ORDERS, 1 + (uint64_t)k, 2);
        for (int n = 2; n <= ORDERS; n++)
            c[k].grams[n]->max = 300; /* many runs */
        r[k] = (recorder){.c = &c[k], .next_doc = &next_doc};
        terms[k] = c[k].terms;
        count_text(&r[k], text[k], len[k], docs);
    }
    /* The references' document ids come from one counter: distinct. */
    recorder all = {.c = &c[0], .next_doc = &next_doc};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < r[k].n; i++) {
            if (all.n == all.cap && !(all.v = realloc(all.v, (all.cap = all.cap ? 2 * all.cap : 1024) * sizeof *all.v)))
                abort();
            all.v[all.n++] = r[k].v[i];
        }
    size_t n_exp, gone;
    gram *exp = reference(&all, &n_exp, &gone);
    cs_merged *m = cs_merged_new(terms, 2, 1, ORDERS);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        CHECK(cs_merge_terms_part(m, terms, p, NULL, NULL, NULL) == 0);
    cs_grams_scratch scratch = {.max_bytes = min_slice ? 1 : 0, .min_slice = min_slice};
    gram *got = NULL;
    size_t n_got = 0;
    int in_part = 1, in_order = 1;
    for (unsigned order = 2; order <= ORDERS; order++) {
        cs_grams *src[2] = {c[0].grams[order], c[1].grams[order]};
        CHECK(src[0]->n_runs > 10 && src[1]->n_runs > 10);
        for (unsigned p = 0; p < CS_N_PARTS; p++) {
            cs_merge_grams_part(m, src, order, p, &scratch, NULL, NULL, NULL);
            const cs_part *mp = &m->grams[order]->part[p];
            for (uint32_t i = 1; i < mp->n; i++) { /* as one merge: the state writer needs it */
                const cs_gram *a = cs_part_entry(mp, cs_gram_stride(order), i - 1),
                              *b = cs_part_entry(mp, cs_gram_stride(order), i);
                in_order &= ids_before(a->ids, b->ids, order);
            }
            take_part(mp, order, p, global_name, m, &got, &n_got, &in_part);
        }
    }
    CHECK(in_part && in_order);
    /* sliced: many partitions, in many slices */
    CHECK_MSG(min_slice ? scratch.slices > CS_N_PARTS : scratch.slices == 0,
              "%llu slices, slices of %zu", (unsigned long long)scratch.slices, min_slice);
    CHECK_MSG(same(exp, n_exp, got, n_got),
              "two counters merged, docs %d, slices of %zu: %zu grams against %zu", (int)docs,
              min_slice, n_got, n_exp);
    cs_grams_scratch_free(&scratch);
    free_grams(exp, n_exp);
    free_grams(got, n_got);
    free(all.v); /* the keys are the recorders' */
    cs_merged_free(m);
    for (int k = 0; k < 2; k++) {
        recorder_free(&r[k]);
        cs_counter_free(&c[k]);
        free(text[k]);
    }
}

int main(void)
{
    cs_tok_global_init();
    size_t len;
    char *text = make_text(7, &len);
    const size_t sizes[] = {1, 2, 3, 64, 4096, 0};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        test_one(text, len, CS_TOK_DOCS_LINE, sizes[k]);
        test_one(text, len, CS_TOK_DOCS_BLANK, sizes[k]); /* no blank line: one document */
    }
    test_keep(text, len);
    for (size_t k = 0; k < 3; k++) {
        const size_t min_slice[] = {0, 16, 200};
        test_merged(CS_TOK_DOCS_LINE, min_slice[k]);
        test_merged(CS_TOK_DOCS_BLANK, min_slice[k]);
    }
    free(text);
    return TEST_REPORT();
}
