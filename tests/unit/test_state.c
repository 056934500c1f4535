/* test_state.c - a state file keeps every count exactly: merged tables
 * written, read back and merged again as a source give the same counts key
 * for key (by their bytes), also counts past what a gram run holds (32
 * bits) and pair sums past int64, which are written in pieces; two states
 * merge into their sum; a run read from a file is checked before it is
 * trusted; settings lines are compared line by line. The
 * command-line behaviour (manifests, refusals): tests/py/test_state.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "count.h"
#include "reduce.h"
#include "state.h"
#include "testhelp.h"

/* Counts text (a document a line) into c. */
static void count_plain(cs_counter *c, const char *text)
{
    cs_tok_config cfg = {.fold = 1, .docs = CS_TOK_DOCS_LINE, .max_len = 64, .min_len = 1};
    cs_tok *t = cs_tok_new(&cfg);
    cs_tok_set_sink(t, cs_counter_consume, c);
    cs_tok_feed(t, (const uint8_t *)text, strlen(text));
    cs_tok_finish(t);
    cs_tok_free(t);
    cs_counter_flush(c);
}

/* Merges n counters (terms 1, grams 2..3, window pairs) as the pipeline
 * does, keeping every gram; src[0]'s grams marked sorted, and its pairs
 * taken as sorted, when it is a state, as the pipeline does with a state
 * merged first. */
static cs_merged *merge_as(cs_counter **src, int n, int first_is_state)
{
    for (unsigned order = 2; order <= 3; order++)
        src[0]->grams[order]->sorted = first_is_state;
    cs_table **terms = malloc((size_t)n * sizeof *terms);
    for (int s = 0; s < n; s++)
        terms[s] = src[s]->terms;
    cs_merged *m = cs_merged_new(terms, n, 1, 3);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        CHECK(cs_merge_terms_part(m, terms, p, NULL, NULL, NULL) == 0);
    cs_grams_scratch scratch = {0};
    for (unsigned order = 2; order <= 3; order++) {
        cs_grams *g[8];
        for (int s = 0; s < n; s++)
            g[s] = src[s]->grams[order];
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            cs_merge_grams_part(m, g, order, p, &scratch, NULL, NULL, NULL);
    }
    cs_grams_scratch_free(&scratch);
    cs_merged_add_pairs(m, 1);
    cs_buf disk = {0};
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        size_t k = 0;
        for (int s = 0; s < n; s++)
            k += cs_pairs_part_n(src[s]->pairs, p);
        cs_pair *buf = malloc((2 * k + 2) * sizeof *buf);
        size_t at = 0, n_sorted = 0;
        for (int s = 0; s < n; s++) {
            at += cs_pairs_part_get(src[s]->pairs, p, m->remap[s], buf + at, &disk);
            if (s == 0 && first_is_state)
                n_sorted = at;
        }
        m->pairs[p] = cs_pairs_sum_from(buf, n_sorted, buf + k + 1, at);
        free(buf);
    }
    cs_buf_free(&disk);
    free(terms);
    return m;
}

static cs_merged *merge(cs_counter **src, int n)
{
    return merge_as(src, n, 0);
}

static cs_merged *merge_states(cs_counter **src, int n)
{
    return merge_as(src, n, 1);
}

static int strcmp_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A key of a merged table as text, with its counts: "g2 a b 5 3". Sorted
 * lists of these compare two merged tables whatever their ids. */
static char **dump(const cs_merged *m, size_t *n_out)
{
    size_t cap = 1024, n = 0;
    char **v = malloc(cap * sizeof *v);
    char line[512];
#define PUSH()                                                                                     \
    do {                                                                                           \
        if (n == cap)                                                                              \
            v = realloc(v, (cap *= 2) * sizeof *v);                                                \
        v[n++] = strdup(line);                                                                     \
    } while (0)
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        for (uint32_t i = 0; i < m->vocab[p].n; i++) {
            const uint32_t gid = p << CS_ID_BITS | i;
            const cs_vcnt *c = cs_merged_cnt(m, gid);
            if (!c->count)
                continue;
            uint32_t len;
            const uint8_t *b = cs_merged_bytes(m, gid, &len);
            snprintf(line, sizeof line, "t %.*s %lld %lld", (int)len, b, (long long)c->count,
                     (long long)c->docs);
            PUSH();
        }
        for (unsigned order = 2; order <= 3; order++) {
            const cs_part *gp = &m->grams[order]->part[p];
            for (uint32_t i = 0; i < gp->n; i++) {
                const cs_gram *g = cs_part_entry(gp, m->grams[order]->stride, i);
                int at = snprintf(line, sizeof line, "g%u", order);
                for (unsigned k = 0; k < order; k++) {
                    uint32_t len;
                    const uint8_t *b = cs_merged_bytes(m, g->ids[k], &len);
                    at += snprintf(line + at, sizeof line - (size_t)at, " %.*s", (int)len, b);
                }
                snprintf(line + at, sizeof line - (size_t)at, " %lld %lld", (long long)g->count,
                         (long long)g->docs);
                PUSH();
            }
        }
        const cs_pair_run *r = &m->pairs[p];
        for (size_t i = 0; i < r->n; i++) {
            const uint32_t a = (p << CS_ID_BITS) | (uint32_t)(r->v[i].key >> 32),
                           b = (uint32_t)r->v[i].key;
            uint32_t la, lb;
            const uint8_t *ea = cs_merged_bytes(m, a, &la), *eb = cs_merged_bytes(m, b, &lb);
            const unsigned __int128 u = (unsigned __int128)cs_pair_units(r, i);
            snprintf(line, sizeof line, "p %.*s %.*s %llu:%llu", (int)la, ea, (int)lb, eb,
                     (unsigned long long)(uint64_t)(u >> 64),
                     (unsigned long long)(uint64_t)u);
            PUSH();
        }
    }
#undef PUSH
    qsort(v, n, sizeof *v, strcmp_ptr);
    *n_out = n;
    return v;
}

static void free_dump(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int same_dump(char **a, size_t na, char **b, size_t nb);

/* Whether two merged tables hold the same keys and counts. */
static int same_tables(const cs_merged *x, const cs_merged *y)
{
    size_t na, nb;
    char **a = dump(x, &na), **b = dump(y, &nb);
    const int same = same_dump(a, na, b, nb);
    free_dump(a, na);
    free_dump(b, nb);
    return same;
}

static int same_dump(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb) {
        printf("  %zu keys against %zu\n", na, nb);
        return 0;
    }
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0) {
            printf("  '%s' against '%s'\n", a[i], b[i]);
            return 0;
        }
    return 1;
}

static const char TEXT[] =
    "The opposition in Almaty said the governor of Almaty left\n"
    "Казахстан оппозиция said the governor said nothing\n"
    "the the the of of Almaty Astana Astana\n"
    "a b c d e f g h i j k l m n o p\n";

static cs_counter *counter(const char *text)
{
    cs_counter *c = calloc(1, sizeof *c);
    cs_counter_init(c, 1, 3, 1, 1);
    cs_counter_set_window(c, 3, 0);
    count_plain(c, text);
    return c;
}

static void free_counter(cs_counter *c)
{
    cs_counter_free(c);
    free(c);
}

static char *tmp_file(const char *name)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/cs-test-state-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    char *p = malloc(128);
    snprintf(p, 128, "%s/%s", dir, name);
    unlink(p);
    return p;
}

static cs_state *write_read(const cs_merged *m, const char *name, cs_state_shape sh)
{
    cs_state *s = cs_state_new("tokenizer test\n", sh);
    char *file = tmp_file(name);
    uint64_t bytes = 0;
    CHECK(cs_state_write(file, s, m, 2, &bytes) == 0);
    CHECK(bytes > 0);
    cs_state_free(s);
    cs_error err;
    cs_state *back = cs_state_read(file, 2, &err);
    CHECK_MSG(back != NULL, "%s", back ? "" : err.message);
    free(file);
    return back;
}

static void test_round_trip_and_big_counts(void)
{
    const cs_state_shape sh = {1, 3, CS_COOC_WINDOW, 3, CS_WEIGHT_NONE};
    cs_counter *c = counter(TEXT);
    cs_merged *m = merge(&c, 1);
    /* Counts no run holds: a gram past 32 bits, a pair near int64's end. */
    int found_gram = 0, found_pair = 0;
    for (unsigned p = 0; p < CS_N_PARTS && !found_gram; p++) {
        const cs_part *gp = &m->grams[2]->part[p];
        if (gp->n) {
            cs_gram *g = cs_part_entry(gp, m->grams[2]->stride, 0);
            g->count = 3000000000LL; /* 3e9 > INT32_MAX */
            g->docs = 2500000000LL;
            found_gram = 1;
        }
    }
    for (unsigned p = 0; p < CS_N_PARTS && !found_pair; p++)
        if (m->pairs[p].n) {
            m->pairs[p].v[0].units = INT64_MAX - 5;
            found_pair = 1;
        }
    CHECK(found_gram && found_pair);
    size_t n0;
    char **want = dump(m, &n0);
    CHECK_MSG(n0 > 100, "%zu keys", n0);

    cs_state *a = write_read(m, "a.cst", sh);
    CHECK(a && a->shape.ngram_max == 3 && a->shape.window == 3);
    if (!a)
        return;
    cs_counter *src[2] = {&a->counter, NULL};
    cs_merged *m1 = merge_states(src, 1);
    size_t n1;
    char **got = dump(m1, &n1);
    CHECK(same_dump(want, n0, got, n1));
    free_dump(got, n1);

    /* The same state twice: every count doubled, the pair past int64. */
    cs_state *a2 = write_read(m, "a2.cst", sh);
    cs_state *a3 = write_read(m, "a3.cst", sh);
    src[0] = &a2->counter;
    src[1] = &a3->counter;
    cs_merged *m2 = merge_states(src, 2);
    int big = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        big += (int)m2->pairs[p].n_big;
    CHECK(big == 1);
    size_t n2;
    char **twice = dump(m2, &n2);
    /* ... written (the pair in two pieces, the grams in three) and read back. */
    cs_state *b = write_read(m2, "b.cst", sh);
    src[0] = &b->counter;
    cs_merged *m3 = merge_states(src, 1);
    size_t n3;
    char **back = dump(m3, &n3);
    CHECK(same_dump(twice, n2, back, n3));
    CHECK(n2 == n0);
    free_dump(back, n3);
    free_dump(twice, n2);
    free_dump(want, n0);
    cs_merged_free(m);
    cs_merged_free(m1);
    cs_merged_free(m2);
    cs_merged_free(m3);
    cs_state_free(a);
    cs_state_free(a2);
    cs_state_free(a3);
    cs_state_free(b);
    free_counter(c);
}

static void test_two_states_merge_into_one_run(void)
{
    /* Half the text in each of two counters, written as states and merged:
     * the counts of one counter over all of it. Terms counted only in one
     * half, grams across the halves' vocabularies. */
    const cs_state_shape sh = {1, 3, CS_COOC_WINDOW, 3, CS_WEIGHT_NONE};
    const char *half = strchr(strchr(TEXT, '\n') + 1, '\n') + 1;
    char first[512];
    snprintf(first, sizeof first, "%.*s", (int)(half - TEXT), TEXT);
    cs_counter *all = counter(TEXT), *c1 = counter(first), *c2 = counter(half);
    cs_merged *mall = merge(&all, 1), *m1 = merge(&c1, 1), *m2 = merge(&c2, 1);
    cs_state *s1 = write_read(m1, "s1.cst", sh), *s2 = write_read(m2, "s2.cst", sh);
    cs_counter *src[2] = {&s1->counter, &s2->counter};
    cs_merged *m = merge_states(src, 2);
    CHECK(same_tables(mall, m));
    /* A state merged with a counter (the pipeline's --state run): the
     * state first, sorted; the counter's grams sorted by the merge. */
    cs_state *s1b = write_read(m1, "s1b.cst", sh);
    cs_counter *c2b = counter(half);
    cs_counter *src2[2] = {&s1b->counter, c2b};
    cs_merged *mix = merge_states(src2, 2);
    CHECK(same_tables(mall, mix));
    cs_merged_free(mix);
    cs_state_free(s1b);
    free_counter(c2b);
    cs_merged_free(m);
    cs_merged_free(mall);
    cs_merged_free(m1);
    cs_merged_free(m2);
    cs_state_free(s1);
    cs_state_free(s2);
    free_counter(all);
    free_counter(c1);
    free_counter(c2);
}

/* The checks a run read from a file goes through before the merge trusts
 * it: a packed run of bigrams over 3 ids, all in partition 5 but id 2. */
static void test_run_checks(void)
{
    cs_partmap parts = {0};
    cs_partmap_set(&parts, 0, 5);
    cs_partmap_set(&parts, 1, 5);
    cs_partmap_set(&parts, 2, 7);
    uint8_t bytes[256];
    const uint32_t grams[][2] = {{0, 1}, {0, 2}, {1, 1}, {1, 1}};
    uint32_t prev[2] = {0, 0};
    uint8_t *d = bytes;
    for (int i = 0; i < 4; i++)
        d = cs_grams_pack_one(d, prev, grams[i], 2, 7, 3);
    const size_t len = (size_t)(d - bytes);
    CHECK(cs_grams_part_valid(bytes, len, 4, 5, 2, &parts));
    CHECK(!cs_grams_part_valid(bytes, len, 4, 5, 3, &parts));     /* read as trigrams */
    CHECK(!cs_grams_part_valid(bytes, len - 1, 4, 5, 2, &parts)); /* cut short */
    parts.n_ids = 2; /* id 2 unknown */
    CHECK(!cs_grams_part_valid(bytes, len, 4, 5, 2, &parts));
    parts.n_ids = 3;
    parts.part[1] = 6; /* a first id outside its partition */
    CHECK(!cs_grams_part_valid(bytes, len, 4, 5, 2, &parts));
    parts.part[1] = 5;

    uint64_t pprev = 0;
    d = cs_pairs_pack_one(bytes, &pprev, (uint64_t)0 << 32 | 2, 4);
    d = cs_pairs_pack_one(d, &pprev, (uint64_t)1 << 32 | 0, -3);
    const size_t plen = (size_t)(d - bytes);
    CHECK(cs_pairs_part_valid(bytes, plen, 2, 5, &parts));
    CHECK(!cs_pairs_part_valid(bytes, plen, 3, 5, &parts)); /* more pairs than bytes */
    parts.n_ids = 2;
    CHECK(!cs_pairs_part_valid(bytes, plen, 2, 5, &parts));
    cs_partmap_free(&parts);
}

static void test_settings_diff(void)
{
    char buf[256];
    CHECK(cs_state_settings_diff("a 1\nb 2\n", "a 1\nb 2\n", buf, sizeof buf) == 0);
    CHECK(cs_state_settings_diff("a 1\nb 2\n", "a 1\nb 3\n", buf, sizeof buf) == 1);
    CHECK(strcmp(buf, "'b 2' against 'b 3'") == 0);
    CHECK(cs_state_settings_diff("a 1\n", "a 1\nc 4\n", buf, sizeof buf) == 1);
    CHECK(strcmp(buf, "'' against 'c 4'") == 0);
}

int main(void)
{
    cs_tok_global_init();
    test_round_trip_and_big_counts();
    test_two_states_merge_into_one_run();
    test_run_checks();
    test_settings_diff();
    return TEST_REPORT();
}
