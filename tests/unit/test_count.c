/* test_count.c - the counter sends pair occurrences to sorted runs
 * (count.c, pairs.c): whatever the buffer size, every window pair gets the
 * same weight, also when a document spans buffers and when occurrences are
 * taken back with sign -1 in between. Compared with a run per occurrence (a
 * pair buffer of 1). And a pair is one key whoever counts it: two counters
 * that give its terms other local ids order them alike, also when the two
 * terms share a hash (forced here by masking the hashes). The counter's
 * grams: test_grams.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count.h"
#include "reduce.h"
#include "testcorpus.h"
#include "testhelp.h"

/* Feeds text whole, one document a line, no take-back. */
static void count_plain(cs_counter *c, const char *text, size_t len)
{
    cs_tok_config cfg = {.fold = 1, .docs = CS_TOK_DOCS_LINE, .max_len = 64, .min_len = 1};
    cs_tok *t = cs_tok_new(&cfg);
    cs_tok_set_sink(t, cs_counter_consume, c);
    cs_tok_feed(t, (const uint8_t *)text, len);
    cs_tok_finish(t);
    cs_tok_free(t);
    cs_counter_flush(c);
}

/* Feeds text as feed_text says, one document a line. */
static void count_text(cs_counter *c, const char *text, size_t len)
{
    feed_text(cs_counter_consume, c, c, text, len, CS_TOK_DOCS_LINE);
}

/* The pairs of a and b are the same run (ids compared as they are: the
 * same local ids in both). */
static int same_pairs(cs_pairs *a, cs_pairs *b)
{
    const cs_pair_run *x = cs_pairs_finish(a), *y = cs_pairs_finish(b);
    if (x->n != y->n)
        return 0;
    for (size_t i = 0; i < x->n; i++)
        if (x->v[i].key != y->v[i].key || cs_pair_units(x, i) != cs_pair_units(y, i))
            return 0;
    return 1;
}

/* The index of the pair of run r with this key, or r->n (r is sorted by key). */
static size_t find_pair(const cs_pair_run *r, uint64_t key)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->v[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && r->v[lo].key == key ? lo : r->n;
}

/* Every pair of counter a, written as the bytes of its first and second
 * term, is the same ordered pair with the same weight in counter b. */
static int same_pairs_by_bytes(const cs_counter *a, const cs_counter *b)
{
    const cs_term **ta = terms_by_id(a->terms), **tb = terms_by_id(b->terms);
    const cs_pair_run *ra = cs_pairs_finish(a->pairs), *rb = cs_pairs_finish(b->pairs);
    int ok = ra->n == rb->n;
    for (size_t i = 0; ok && i < ra->n; i++) {
        const cs_pair *e = &ra->v[i];
        const uint32_t ids_a[2] = {(uint32_t)(e->key >> 32), (uint32_t)e->key};
        uint32_t ids[2];
        for (int k = 0; k < 2; k++) {
            const cs_term *x = ta[ids_a[k]];
            const cs_term *y = cs_table_find_term(b->terms, x->hash, cs_term_bytes(x), x->len);
            ok = ok && y;
            ids[k] = y ? y->id : 0;
        }
        if (!ok)
            break;
        const size_t f = find_pair(rb, (uint64_t)ids[0] << 32 | ids[1]);
        ok = f < rb->n && cs_pair_units(rb, f) == cs_pair_units(ra, i);
    }
    free(ta);
    free(tb);
    return ok;
}

/* The text with its lines in reverse order: terms meet in another order,
 * so they get other local ids. */
static char *reverse_lines(const char *text, size_t len)
{
    char *r = malloc(len + 1);
    if (!r)
        abort();
    size_t n = 0, end = len;
    while (end > 0) {
        size_t start = end - 1; /* text[end - 1] is the '\n' of the last line left */
        while (start > 0 && text[start - 1] != '\n')
            start--;
        memcpy(r + n, text + start, end - start);
        n += end - start;
        end = start;
    }
    r[n] = 0;
    return r;
}

static void test_window_pairs(const char *text, size_t len)
{
    cs_counter ref;
    cs_counter_init(&ref, 1, 1, 1, 1);
    cs_counter_set_window(&ref, 4, 1);
    ref.pairs->max = 1;
    count_text(&ref, text, len);
    CHECK(cs_pairs_finish(ref.pairs)->n > 1000);
    const uint32_t sizes[] = {2, 7, 4096};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        cs_counter c;
        cs_counter_init(&c, 1, 1, 1, 1);
        cs_counter_set_window(&c, 4, 1);
        c.pairs->max = sizes[k];
        count_text(&c, text, len);
        CHECK_MSG(same_pairs(ref.pairs, c.pairs), "window pairs, buffer %u", sizes[k]);
        cs_counter_free(&c);
    }
    cs_counter_free(&ref);

    /* Other local ids, and with 4-bit hashes 60 terms share 16 hashes. */
    char *rev = reverse_lines(text, len);
    for (int masked = 0; masked < 2; masked++) {
        cs_counter a, b;
        cs_counter_init(&a, 1, 2, 1, 1);
        cs_counter_init(&b, 1, 2, 1, 1);
        cs_counter_set_window(&a, 3, 0);
        cs_counter_set_window(&b, 3, 0);
        a.hash_mask = b.hash_mask = masked ? 0xF : UINT64_MAX;
        count_plain(&a, text, len);
        count_plain(&b, rev, len);
        CHECK(cs_pairs_finish(a.pairs)->n > 1000);
        CHECK_MSG(same_pairs_by_bytes(&a, &b), "pairs of two counters, hashes masked: %d", masked);
        CHECK_MSG(same_pairs_by_bytes(&b, &a), "pairs of two counters, hashes masked: %d", masked);
        cs_counter_free(&a);
        cs_counter_free(&b);
    }
    free(rev);
}

typedef struct {
    uint32_t a, b;
    __int128 units;
} gpair;

static int cmp_gpair(const void *x, const void *y)
{
    const gpair *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

/* Sorts v[0..n) and sums equal pairs; returns how many are left. */
static size_t sum_gpairs(gpair *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_gpair);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && v[m - 1].a == v[i].a && v[m - 1].b == v[i].b)
            v[m - 1].units += v[i].units;
        else
            v[m++] = v[i];
    }
    return m;
}

/* Two counters' window pairs on the reducer's road: terms merged, then
 * partition p of both counters' runs translated (cs_pairs_part_get) and
 * summed. Against each counter's whole run (cs_pairs_finish) translated
 * by the remap and summed by qsort: the same pairs with the same sums, and
 * each in the partition of its first term, so a pair's partition, set by
 * the counter from the term's hash, is the merged table's. */
static void test_merged_pairs(void)
{
    size_t len[2];
    char *text[2] = {make_text(11, &len[0]), make_text(12, &len[1])};
    cs_counter c[2];
    cs_table *terms[2];
    size_t n_exp = 0;
    for (int k = 0; k < 2; k++) {
        cs_counter_init(&c[k], 1, 1, 1 + (uint64_t)k, 2);
        cs_counter_set_window(&c[k], 4, 1);
        c[k].pairs->max = 500; /* many runs */
        count_plain(&c[k], text[k], len[k]);
        n_exp += cs_pairs_finish(c[k].pairs)->n;
        terms[k] = c[k].terms;
    }
    CHECK(c[0].pairs->n_runs > 1 && c[1].pairs->n_runs > 1);
    gpair *exp = malloc((n_exp + 1) * sizeof *exp), *got = NULL;
    cs_merged *m = cs_merged_new(terms, 2, 2, 1);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        CHECK(cs_merge_terms_part(m, terms, p, NULL, NULL, NULL) == 0);
    size_t at = 0;
    for (int k = 0; k < 2; k++) {
        const cs_pair_run *r = &c[k].pairs->summed; /* cs_pairs_finish's, local ids */
        for (size_t i = 0; i < r->n; i++)
            exp[at++] = (gpair){m->remap[k][r->v[i].key >> 32], m->remap[k][(uint32_t)r->v[i].key],
                                cs_pair_units(r, i)};
    }
    n_exp = sum_gpairs(exp, at);
    size_t n_got = 0;
    int in_part = 1;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        size_t n = cs_pairs_part_n(c[0].pairs, p) + cs_pairs_part_n(c[1].pairs, p);
        cs_pair *buf = malloc((2 * n + 2) * sizeof *buf);
        got = realloc(got, (n_got + n + 1) * sizeof *got);
        if (!buf || !got)
            abort();
        size_t k = cs_pairs_part_get(c[0].pairs, p, m->remap[0], buf, NULL);
        k += cs_pairs_part_get(c[1].pairs, p, m->remap[1], buf + k, NULL);
        cs_pair_run r = cs_pairs_sum(buf, buf + n + 1, k);
        for (size_t i = 0; i < r.n; i++) {
            const uint32_t a = p << CS_ID_BITS | (uint32_t)(r.v[i].key >> 32);
            in_part = in_part && (r.v[i].key >> 32) < (1u << CS_ID_BITS);
            got[n_got++] = (gpair){a, (uint32_t)r.v[i].key, cs_pair_units(&r, i)};
        }
        cs_pair_run_free(&r);
        free(buf);
    }
    CHECK(in_part);
    n_got = sum_gpairs(got, n_got); /* sorts; sums nothing: keys are distinct */
    int same = n_got == n_exp && n_exp > 1000;
    for (size_t i = 0; same && i < n_exp; i++)
        same = got[i].a == exp[i].a && got[i].b == exp[i].b && got[i].units == exp[i].units;
    CHECK_MSG(same, "merged pairs: %zu against %zu", n_got, n_exp);
    cs_merged_free(m);
    for (int k = 0; k < 2; k++) {
        cs_counter_free(&c[k]);
        free(text[k]);
    }
    free(exp);
    free(got);
}

int main(void)
{
    cs_tok_global_init();
    size_t len;
    char *text = make_text(7, &len);
    test_window_pairs(text, len);
    test_merged_pairs();
    free(text);
    return TEST_REPORT();
}
