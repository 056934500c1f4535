/* test_reduce.c - merged rows in the contract's order: count descending,
 * then key bytes (UTF-8 byte order, shared 8-byte prefixes, keys shorter
 * than the prefix), --min-count and --top per partition, and grams whose
 * joined bytes coincide. Checked against a plain sort of the same rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reduce.h"
#include "rowrun.h"
#include "testhelp.h"
#include "tokenize.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

static cs_table *terms_from(const char *const *words, const int *counts, int n)
{
    cs_table *t = cs_table_new(1);
    int is_new;
    for (int i = 0; i < n; i++) {
        uint32_t len = (uint32_t)strlen(words[i]);
        cs_term *e = cs_table_term(t, XXH3_64bits(words[i], len), (const uint8_t *)words[i], len, 1,
                                   &is_new);
        for (int k = 0; k < counts[i]; k++)
            cs_cnt_add(&e->c, 1, (uint64_t)k + 1);
    }
    return t;
}

/* The expected order, computed the obvious way. */
typedef struct {
    const char *w;
    int count;
} pair;

static int pair_cmp(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->w, y->w); /* strcmp compares as unsigned char: bytewise */
}

static void test_term_order(void)
{
    enum { N = 2000 };
    static char buf[N][32];
    const char *words[N];
    int counts[N];
    pair want[N];
    static const char *stems[] = {"international", "internationale", "intern", "in", "i", "z",
                                  "\xD0\xB0\xD0\xB1", "\xC3\xA9t\xC3\xA9", "a", "ab", "abcdefgh",
                                  "abcdefghi", "abcdefgg"};
    srand(7);
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "%s%d", stems[i % 13], i / 13);
        if (i < 13)
            buf[i][strlen(stems[i])] = 0; /* the bare stems too */
        words[i] = buf[i];
        counts[i] = 1 + rand() % 4;
        want[i] = (pair){buf[i], counts[i]};
    }
    cs_table *t = terms_from(words, counts, N);
    cs_merged *m = cs_merged_new(&t, 1, 2, 1);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        CHECK(cs_merge_terms_part(m, &t, p, NULL, NULL, NULL) == 0);
    qsort(want, N, sizeof *want, pair_cmp);
    /* every partition sorted; their union in order equals the plain sort */
    cs_rows rows[CS_N_PARTS];
    size_t total = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_rows_part(m, 1, p, 0, CS_TIE_ALL, UINT64_MAX, &rows[p]);
        for (size_t i = 1; i < rows[p].n; i++)
            CHECK(cs_row_cmp(m, 1, &rows[p].v[i - 1], p, &rows[p].v[i], p) < 0);
        total += rows[p].n;
    }
    CHECK(total == N);
    size_t pos[CS_N_PARTS] = {0};
    int ok = 1;
    for (size_t k = 0; k < N && ok; k++) {
        int best = -1;
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            if (pos[p] < rows[p].n &&
                (best < 0 || cs_row_cmp(m, 1, &rows[p].v[pos[p]], p, &rows[best].v[pos[best]],
                                        (unsigned)best) < 0))
                best = (int)p;
        const cs_row *r = &rows[best].v[pos[best]++];
        ok = r->len == strlen(want[k].w) && memcmp(r->key, want[k].w, r->len) == 0 &&
             r->count == want[k].count;
        CHECK_MSG(ok, "row %zu: got %.*s,%lld want %s,%d", k, (int)r->len, r->key,
                  (long long)r->count, want[k].w, want[k].count);
    }
    /* the writer's merge gives the same order */
    cs_rowmerge g;
    cs_rowmerge_init(&g, m, 1, rows, CS_N_PARTS);
    size_t k = 0;
    for (const cs_row *r; (r = cs_rowmerge_next(&g)) != NULL; k++)
        if (k < N && !(r->len == strlen(want[k].w) && memcmp(r->key, want[k].w, r->len) == 0)) {
            CHECK_MSG(0, "rowmerge row %zu: got %.*s want %s", k, (int)r->len, r->key, want[k].w);
            break;
        }
    CHECK(k == N);
    CHECK(cs_rowmerge_next(&g) == NULL);
    cs_rowmerge_free(&g);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_rows_free(&rows[p]);
    /* --min-count 3 and --top 2 per partition */
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_rows r;
        cs_rows_part(m, 1, p, 3, CS_TIE_ALL, 2, &r);
        CHECK(r.n <= 2);
        for (size_t i = 0; i < r.n; i++)
            CHECK(r.v[i].count >= 3);
        cs_rows_free(&r);
    }
    cs_merged_free(m);
    cs_table_free(t);
}

/* Two bigrams whose joined bytes are equal, k1 = ("a b", "c") and k2 =
 * ("a", "b c"), merged: k1 counted n1 times in document 1, k2 once in
 * each of the documents 1..n2. t, parts and g hold what m is made of. */
static cs_merged *tie_bigrams(cs_table **t, cs_partmap *parts, cs_grams *g, int n1, int n2)
{
    const char *words[] = {"a b", "c", "a", "b c"};
    int counts[] = {1, 1, 1, 1};
    *t = terms_from(words, counts, 4);
    memset(parts, 0, sizeof *parts);
    for (uint32_t id = 0; id < 4; id++) /* local ids in insertion order */
        cs_partmap_set(parts, id, cs_part_of(XXH3_64bits(words[id], strlen(words[id]))));
    cs_grams_init(g, 2, parts, 1 << 20);
    const uint32_t k1[2] = {0, 1}, k2[2] = {2, 3};
    for (int i = 0; i < n1; i++)
        cs_grams_add(g, k1, 1);
    for (int i = 0; i < n2; i++)
        cs_grams_add(g, k2, (uint64_t)i + 1);
    cs_grams_flush(g);
    cs_merged *m = cs_merged_new(t, 1, 2, 2);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_merge_terms_part(m, t, p, NULL, NULL, NULL);
    cs_grams *src = g;
    cs_grams_scratch scratch = {0};
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_merge_grams_part(m, &src, 2, p, &scratch, NULL, NULL, NULL);
    cs_grams_scratch_free(&scratch);
    return m;
}

/* Two bigrams whose joined bytes are equal: ("a b", "c") and ("a", "b c"). */
static void test_gram_tie(void)
{
    cs_table *t;
    cs_partmap parts;
    cs_grams g;
    cs_merged *m = tie_bigrams(&t, &parts, &g, 1, 1);
    /* Each bigram is in the partition of its first term: rows from all. */
    static cs_rows rows[CS_N_PARTS];
    const cs_row *r[2];
    unsigned part[2], n = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_rows_part(m, 2, p, 0, CS_TIE_ALL, UINT64_MAX, &rows[p]);
        for (size_t i = 0; i < rows[p].n; i++, n++)
            if (n < 2) {
                part[n] = p;
                r[n] = &rows[p].v[i];
            }
    }
    CHECK(n == 2);
    if (n == 2) {
        CHECK(r[0]->len == 5 && memcmp(r[0]->key, "a b c", 5) == 0);
        CHECK(r[1]->len == 5 && memcmp(r[1]->key, "a b c", 5) == 0);
        /* by terms: "a" < "a b", so ("a", "b c") comes first */
        const cs_table *mg = m->grams[2];
        const cs_gram *g0 = cs_part_entry(&mg->part[part[0]], mg->stride, r[0]->idx);
        const int c = cs_row_cmp(m, 2, r[0], part[0], r[1], part[1]);
        uint32_t len0;
        cs_merged_bytes(m, g0->ids[0], &len0);
        CHECK(len0 == 1 ? c < 0 : c > 0);
    }
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_rows_free(&rows[p]);
    cs_merged_free(m);
    cs_grams_free(&g);
    cs_partmap_free(&parts);
    cs_table_free(t);
}

static void test_top_threshold(void)
{
    static uint64_t h[CS_HIST_MAX + 1];
    memset(h, 0, sizeof h);
    h[1] = 100;
    h[2] = 10;
    h[5] = 3;
    h[CS_HIST_MAX] = 2; /* two rows counted 1024 times or more */
    CHECK(cs_top_threshold(h, 1) == CS_HIST_MAX);
    CHECK(cs_top_threshold(h, 2) == CS_HIST_MAX);
    CHECK(cs_top_threshold(h, 3) == 5);
    CHECK(cs_top_threshold(h, 5) == 5);
    CHECK(cs_top_threshold(h, 6) == 2);  /* ties at 2 all stay: the key order picks among them */
    CHECK(cs_top_threshold(h, 15) == 2);
    CHECK(cs_top_threshold(h, 16) == 1);
    CHECK(cs_top_threshold(h, 1000) == 0); /* fewer rows than the top: keep all */
    CHECK(cs_top_threshold(h, 0) == CS_HIST_MAX);
}

/* The buckets of cs_tie_hist_part are the first two bytes of the row keys,
 * zero-padded ("a" is 0x6100, "a!" 0x6121, "a b" 0x6120), and tie_max in
 * cs_rows_part keeps exactly the rows counted min_count up to its bucket,
 * and every row counted more. */
static void test_tie_cut(void)
{
    const char *words[] = {"a", "a!", "ab", "b", "\xc3\xa9t\xc3\xa9", "zz", "a b"};
    int counts[] = {1, 1, 1, 2, 1, 1, 1};
    cs_table *t = terms_from(words, counts, 7);
    cs_merged *m = cs_merged_new(&t, 1, 2, 1);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_merge_terms_part(m, &t, p, NULL, NULL, NULL);
    static uint64_t hist[CS_TIE_ALL + 1];
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_tie_hist_part(m, 1, p, 1, hist);
    uint64_t total = 0;
    for (unsigned b = 0; b <= CS_TIE_ALL; b++)
        total += hist[b];
    CHECK(total == 6); /* "b" is counted twice */
    CHECK(hist[0x6100] == 1 && hist[0x6121] == 1 && hist[0x6162] == 1 && hist[0x6120] == 1);
    CHECK(hist[0xC3A9] == 1 && hist[0x7A7A] == 1 && hist[0x6200] == 0);
    /* up to "a!": "a", "a b", "a!" at count 1, and "b" */
    const char *keep[] = {"b", "a", "a b", "a!"};
    size_t kept = 0;
    int ok = 1;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_rows r;
        cs_rows_part(m, 1, p, 1, 0x6121, UINT64_MAX, &r);
        for (size_t i = 0; i < r.n; i++) {
            int found = 0;
            for (int k = 0; k < 4; k++)
                found |= r.v[i].len == strlen(keep[k]) && !memcmp(r.v[i].key, keep[k], r.v[i].len);
            ok &= found;
        }
        kept += r.n;
        cs_rows_free(&r);
    }
    CHECK(ok && kept == 4);
    cs_merged_free(m);
    cs_table_free(t);
}

/* The first two bytes of the joined key "a b", the obvious way. */
static unsigned key_prefix(const char *a)
{
    const char *key_b = strlen(a) >= 2 ? a + 1 : " ";
    return (unsigned)(uint8_t)a[0] << 8 | (uint8_t)key_b[0];
}

/* CS_PICK_TOP keeps the grams at or above the bar (count, then the first
 * two key bytes) and histograms every gram counted; cs_prune_grams_part
 * raises the bar on what was kept. Checked gram by gram against the rank
 * computed from the joined key. */
static void test_pick_top(void)
{
    enum { W = 12, G = 200 };
    const char *words[W] = {"a", "ab", "a!", "b", "ba", "zz", "\xc3\xa9", "c", "cd", "q", "qq", "x"};
    int ones[W];
    for (int i = 0; i < W; i++)
        ones[i] = 1;
    cs_table *t = terms_from(words, ones, W);
    cs_partmap parts = {0};
    for (uint32_t id = 0; id < W; id++)
        cs_partmap_set(&parts, id, cs_part_of(XXH3_64bits(words[id], strlen(words[id]))));
    /* Bigrams counted 1 to 5 times: G from a seeded walk, first words 4 on,
     * and some on the bars' own buckets ("b" + ' ', "a" + ' ') and next to
     * them. */
    int count[W][W];
    memset(count, 0, sizeof count);
    cs_grams g;
    cs_grams_init(&g, 2, &parts, 1 << 20);
    uint64_t x = 7, doc = 1;
    for (int k = 0; k < G + 5; k++) {
        static const uint32_t fixed[5][3] = {{3, 11, 4}, {0, 9, 4}, {1, 7, 4}, {2, 7, 3}, {3, 7, 5}};
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const uint32_t ids[2] = {k < G ? 4 + (uint32_t)(x >> 33) % (W - 4) : fixed[k - G][0],
                                 k < G ? (uint32_t)(x >> 45) % W : fixed[k - G][1]};
        const int times = k < G ? 1 + (int)((x >> 20) % 5) : (int)fixed[k - G][2];
        for (int i = 0; i < times; i++, doc++)
            cs_grams_add(&g, ids, doc);
        count[ids[0]][ids[1]] += times;
    }
    cs_grams_flush(&g);
    cs_merged *m = cs_merged_new(&t, 1, 2, 2);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_merge_terms_part(m, &t, p, NULL, NULL, NULL);
    const uint64_t bar = cs_gram_rank(4, 0x6220); /* 5 and up; 4 up to "b " */
    static uint64_t hist[CS_HIST_MAX + 1];
    cs_gram_pick pick = {.mode = CS_PICK_TOP, .tie_max = CS_TIE_ALL, .hist = hist, .bar = &bar};
    cs_grams *src = &g;
    cs_grams_scratch scratch = {0};
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_merge_grams_part(m, &src, 2, p, &scratch, &pick, NULL, NULL);
    cs_grams_scratch_free(&scratch);
    /* what should be kept, and the histogram of all */
    uint64_t want_hist[CS_HIST_MAX + 1] = {0}, want_kept = 0, want_left = 0, want_kept2 = 0;
    for (int a = 0; a < W; a++)
        for (int b = 0; b < W; b++) {
            const int c = count[a][b];
            if (!c)
                continue;
            want_hist[c < CS_HIST_MAX ? c : CS_HIST_MAX]++;
            const int keep = c > 4 || (c == 4 && key_prefix(words[a]) <= 0x6220);
            want_kept += keep;
            want_left += !keep;
            want_kept2 += c >= 5 || (c == 4 && key_prefix(words[a]) <= 0x6120);
        }
    CHECK(memcmp(hist, want_hist, sizeof hist) == 0);
    uint64_t kept = 0, left = 0;
    int ranked = 1;
    const cs_table *mg = m->grams[2];
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        kept += mg->part[p].n;
        left += m->left[2][p];
        for (uint32_t i = 0; i < mg->part[p].n; i++) {
            const cs_gram *e = cs_part_entry(&mg->part[p], mg->stride, i);
            uint32_t len;
            const uint8_t *a = cs_merged_bytes(m, e->ids[0], &len);
            char first[8] = {0};
            memcpy(first, a, len < 7 ? len : 7);
            ranked &= e->count > 4 || (e->count == 4 && key_prefix(first) <= 0x6220);
        }
    }
    CHECK(ranked && kept == want_kept && left == want_left);
    CHECK(want_kept > want_kept2 && want_kept2 > 0); /* the prune below removes some */
    /* the bar raised to "a " at 4: the grams between go, counted in left */
    static uint64_t removed[CS_HIST_MAX + 1];
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_prune_grams_part(m, 2, p, cs_gram_rank(4, 0x6120), removed);
    uint64_t kept2 = 0, left2 = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        kept2 += mg->part[p].n;
        left2 += m->left[2][p];
    }
    CHECK(kept2 == want_kept2 && left2 == want_left + (want_kept - want_kept2));
    CHECK(removed[4] == want_kept - want_kept2);
    cs_merged_free(m);
    cs_grams_free(&g);
    cs_partmap_free(&parts);
    cs_table_free(t);
}

/* A term table cut into generations (table.h) merges into the counts of
 * one table, with every local id of every generation remapped to its
 * term's global id: keys inline and long, hashes that collide (masked, as
 * tests do to the counter's), generations kept in memory and spilled. */
static void test_generations(void)
{
    enum { N = 60, ROUNDS = 4 };
    char words[N][48];
    for (int i = 0; i < N; i++) /* i % 3 == 0: over 24 bytes, kept outside the entry */
        snprintf(words[i], sizeof words[i], i % 3 ? "w%d" : "a-long-term-of-over-24-bytes-%d", i);
    cs_spill *sp = cs_spill_new(NULL);
    for (int spilled = 0; spilled < 2; spilled++) {
        cs_table *t = cs_table_new(1), *ref = cs_table_new(1);
        cs_spill_file *f = spilled ? cs_spill_file_new(sp, "t0-terms") : NULL;
        static int word_of[N * ROUNDS]; /* [local id of t] */
        uint64_t doc = 1;
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < 3 * N; k++, doc += (k % 7 == 0)) {
                const int w = (k * 7 + round * 13) % N;
                if ((w + round) % 4 == 0)
                    continue; /* not every term in every generation */
                const uint32_t len = (uint32_t)strlen(words[w]);
                /* few distinct hashes: most lookups compare bytes */
                const uint64_t h = XXH3_64bits(words[w], len) & 0xFF00000000000003ull;
                int is_new;
                cs_term *e = cs_table_term(t, h, (const uint8_t *)words[w], len, 1, &is_new);
                if (is_new)
                    word_of[e->id] = w;
                cs_cnt_add(&e->c, 1, doc);
                e = cs_table_term(ref, h, (const uint8_t *)words[w], len, 1, &is_new);
                cs_cnt_add(&e->c, 1, doc);
            }
            doc++; /* a generation starts with a document */
            if (round < ROUNDS - 1)
                cs_table_new_generation(t, f);
        }
        CHECK(t->n_gens == ROUNDS - 1 && t->next_id > ref->next_id);
        CHECK(!spilled || (t->gens[0].bytes == NULL && cs_spill_get_stats(sp).runs > 0));
        cs_merged *m = cs_merged_new(&t, 1, 1, 1);
        int ok = 1;
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            ok &= cs_merge_terms_part(m, &t, p, NULL, NULL, NULL) == 0;
        CHECK(ok && cs_spill_error(sp) == NULL);
        CHECK(cs_merged_n_terms(m) == cs_table_size(ref));
        int same = 1;
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            for (uint32_t i = 0; i < ref->part[p].n; i++) {
                const cs_term *r = cs_part_entry(&ref->part[p], sizeof(cs_term), i);
                const uint32_t gid = cs_merged_find(m, r->hash, cs_term_bytes(r), r->len);
                same &= gid != UINT32_MAX && cs_merged_cnt(m, gid)->count == r->c.count &&
                        cs_merged_cnt(m, gid)->docs == r->c.docs;
            }
        CHECK(same);
        int mapped = 1;
        for (uint32_t id = 0; id < t->next_id; id++) {
            uint32_t len;
            const uint8_t *b = cs_merged_bytes(m, m->remap[0][id], &len);
            mapped &= len == strlen(words[word_of[id]]) && !memcmp(b, words[word_of[id]], len);
        }
        CHECK(mapped);
        cs_merged_free(m);
        cs_table_free(t);
        cs_table_free(ref);
    }
    cs_spill_free(sp);
}

/* The merged terms are packed (cs_vocab_part) and owe the sources nothing:
 * with the source tables freed, every term's bytes and counts are there,
 * long keys included; a set looked up during the merge (--cooc-terms)
 * finds the ids of its terms, and UINT32_MAX for one never counted. */
static void test_packed_terms(void)
{
    static const char *w0[] = {"alpha", "beta", "a-term-longer-than-the-inline-24-bytes", "\xD0\xB6"};
    static const char *w1[] = {"beta", "gamma", "a-term-longer-than-the-inline-24-bytes", "z"};
    static const int c0[] = {1, 2, 3, 4}, c1[] = {5, 6, 7, 8};
    cs_table *t[2] = {terms_from(w0, c0, 4), terms_from(w1, c1, 4)};
    cs_strset *find = cs_strset_new();
    static const char *look[] = {"gamma", "missing", "a-term-longer-than-the-inline-24-bytes",
                                 "alpha"};
    for (int i = 0; i < 4; i++)
        cs_strset_add(find, (const uint8_t *)look[i], strlen(look[i]));
    uint32_t found[4] = {0, 0, 0, 0};
    cs_merged *m = cs_merged_new(t, 2, 2, 1);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        CHECK(cs_merge_terms_part(m, t, p, find, found, NULL) == 0);
    cs_table_free(t[0]);
    cs_table_free(t[1]);
    CHECK(cs_merged_n_terms(m) == 6);
    static const char *all[] = {"alpha", "beta", "a-term-longer-than-the-inline-24-bytes",
                                "\xD0\xB6", "gamma", "z"};
    static const int want[] = {1, 7, 10, 4, 6, 8};
    for (int i = 0; i < 6; i++) {
        const uint32_t len = (uint32_t)strlen(all[i]);
        const uint32_t gid = cs_merged_find(m, XXH3_64bits(all[i], len), (const uint8_t *)all[i], len);
        uint32_t got_len = 0;
        const uint8_t *b = gid != UINT32_MAX ? cs_merged_bytes(m, gid, &got_len) : NULL;
        CHECK_MSG(b && got_len == len && !memcmp(b, all[i], len) &&
                      cs_merged_cnt(m, gid)->count == want[i],
                  "%s", all[i]);
    }
    for (int i = 0; i < 4; i++) {
        uint32_t len = 0;
        if (i == 1) {
            CHECK(found[i] == UINT32_MAX);
            continue;
        }
        const uint8_t *b = found[i] != UINT32_MAX ? cs_merged_bytes(m, found[i], &len) : NULL;
        CHECK_MSG(b && len == strlen(look[i]) && !memcmp(b, look[i], len), "found %s", look[i]);
    }
    cs_strset_free(find);
    cs_merged_free(m);
}

/* Merged terms on disk (cs_merge_terms_part given a file) give the same
 * term rows, tie histograms and top terms by doc_count as in memory, and
 * hold exactly the terms asked for, with their counts. */
static void test_terms_on_disk(void)
{
    enum { N = 3000 };
    static char buf[N][40];
    const char *words[N];
    int counts[N];
    for (int i = 0; i < N; i++) { /* one-byte terms, Cyrillic, and long ones among them */
        if (i < 26)
            snprintf(buf[i], sizeof buf[i], "%c", 'a' + i);
        else
            snprintf(buf[i], sizeof buf[i], i % 5 ? "\xD0\xB6%d" : "a-term-of-more-than-24-bytes-%d",
                     i);
        words[i] = buf[i];
        counts[i] = 1 + (i * 7919) % 9;
    }
    cs_spill *sp = cs_spill_new(NULL);
    cs_merged *m[2];
    for (int k = 0; k < 2; k++) {
        cs_table *t = terms_from(words, counts, N);
        m[k] = cs_merged_new(&t, 1, 2, 2);
        cs_spill_file *f = k ? cs_spill_file_new(sp, "m0-terms") : NULL;
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            CHECK(cs_merge_terms_part(m[k], &t, p, NULL, NULL, f) == 0);
        cs_table_free(t); /* nothing of it is borrowed any more */
    }
    CHECK(!cs_vocab_on_disk(m[0]) && cs_vocab_on_disk(m[1]) && cs_spill_error(sp) == NULL);
    int same_rows = 1, same_ties = 1;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_rows r[2];
        static uint64_t tie[2][CS_TIE_ALL + 1];
        for (int k = 0; k < 2; k++) {
            cs_rows_part(m[k], 1, p, 2, CS_TIE_ALL, 50, &r[k]);
            memset(tie[k], 0, sizeof tie[k]);
            cs_tie_hist_part(m[k], 1, p, 3, tie[k]);
        }
        same_rows &= r[0].n == r[1].n && r[0].types == r[1].types;
        for (size_t i = 0; same_rows && i < r[0].n; i++)
            same_rows &= r[0].v[i].count == r[1].v[i].count && r[0].v[i].docs == r[1].v[i].docs &&
                         r[0].v[i].len == r[1].v[i].len &&
                         !memcmp(r[0].v[i].key, r[1].v[i].key, r[0].v[i].len);
        same_ties &= !memcmp(tie[0], tie[1], sizeof tie[0]);
        cs_rows_free(&r[0]);
        cs_rows_free(&r[1]);
    }
    CHECK(same_rows && same_ties);
    uint32_t n[2];
    uint32_t *top[2] = {cs_top_terms_by_docs(m[0], 100, &n[0]), cs_top_terms_by_docs(m[1], 100, &n[1])};
    CHECK(n[0] == 100 && n[0] == n[1] && !memcmp(top[0], top[1], n[0] * sizeof *top[0]));
    free(top[0]);
    free(top[1]);
    /* hold every third term: those are readable, with their counts */
    cs_buf b = {0};
    int held = 1;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        const uint32_t nt = m[1]->vocab[p].n;
        uint64_t *want = calloc((nt + 63) / 64 + 1, 8);
        for (uint32_t i = 0; i < nt; i += 3)
            want[i >> 6] |= UINT64_C(1) << (i & 63);
        held &= cs_vocab_hold_part(m[1], p, want, &b) == 0;
        for (uint32_t i = 0; i < nt; i += 3) {
            const uint32_t gid = p << CS_ID_BITS | i;
            uint32_t la, lb;
            const uint8_t *a = cs_merged_bytes(m[0], gid, &la), *c = cs_merged_bytes(m[1], gid, &lb);
            held &= la == lb && !memcmp(a, c, la) &&
                    cs_merged_cnt(m[0], gid)->count == cs_merged_cnt(m[1], gid)->count &&
                    cs_merged_cnt(m[0], gid)->docs == cs_merged_cnt(m[1], gid)->docs;
        }
        free(want);
    }
    CHECK(held);
    cs_buf_free(&b);
    cs_merged_free(m[0]);
    cs_merged_free(m[1]);
    cs_spill_free(sp);
}

/* Pair margins kept in 64 bits a term with the high bits of the rare
 * term past 2^64 in a list: random sums of small and huge units over a
 * few terms, in several sets summed into one, against 128-bit sums. */
static void test_margins(void)
{
    enum { N = 40, SETS = 3 };
    uint64_t rng = 7;
    for (int round = 0; round < 20; round++) {
        unsigned __int128 want[N] = {0}, want_total = 0;
        cs_margins set[SETS];
        for (int k = 0; k < SETS; k++)
            cs_margins_init(&set[k], N);
        for (int i = 0; i < 2000; i++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            const uint64_t term = (rng >> 33) % (round % 2 ? 3 : N); /* odd rounds: 3 terms */
            unsigned __int128 u;
            switch ((rng >> 20) % 4) {
            case 0:
                u = 1;
                break;
            case 1:
                u = (unsigned __int128)(rng >> 8) << 8; /* near 2^64 */
                break;
            case 2:
                u = UINT64_MAX;
                break;
            default:
                u = (unsigned __int128)(rng >> 40) << 64 | rng; /* past 2^64 */
                break;
            }
            cs_margins_add(&set[(rng >> 50) % SETS], term, u);
            want[term] += u;
            want_total += u;
        }
        for (int k = 1; k < SETS; k++)
            cs_margins_sum(&set[0], &set[k], N);
        CHECK(cs_margins_seal(&set[0], N) == want_total);
        int same = 1;
        for (uint64_t t = 0; t < N; t++)
            same &= cs_margins_get(&set[0], t) == want[t];
        CHECK_MSG(same, "round %d", round);
        CHECK(set[0].n_hi <= N); /* one entry a term once sealed */
        cs_margins_free(&set[0]);
    }
    /* no term past 2^64: no list at all */
    cs_margins a;
    cs_margins_init(&a, 4);
    cs_margins_add(&a, 2, 5);
    cs_margins_add(&a, 2, UINT64_MAX - 5);
    CHECK(a.n_hi == 0 && cs_margins_get(&a, 2) == UINT64_MAX);
    cs_margins_add(&a, 2, 1);
    CHECK(cs_margins_seal(&a, 4) == (unsigned __int128)1 << 64);
    CHECK(a.n_hi == 1 && cs_margins_get(&a, 2) == (unsigned __int128)1 << 64 && cs_margins_get(&a, 3) == 0);
    cs_margins_free(&a);
}

/* One merge of a table's rows, each row as "count,docs,key" into out. */
static size_t merged_rows(const cs_merged *m, unsigned order, cs_rows *rows, char (*out)[48],
                          size_t max)
{
    cs_rowmerge g;
    cs_rowmerge_init(&g, m, order, rows, CS_N_PARTS);
    size_t k = 0;
    for (const cs_row *r; (r = cs_rowmerge_next(&g)) != NULL; k++)
        if (k < max)
            snprintf(out[k], sizeof out[k], "%lld,%lld,%.*s", (long long)r->count,
                     (long long)r->docs, (int)r->len, r->key);
    cs_rowmerge_free(&g);
    return k;
}

/* Rows written out (rowrun.h) and read back by the merge come out as the
 * same rows in memory do: all partitions out, one row a block (so rows
 * cross blocks and packs of 64 blocks), and every other partition out in
 * blocks of 100 bytes. */
static void test_rows_written_out(void)
{
    enum { N = 20000 };
    static char buf[N][32], got[3][N + 1][48];
    const char *words[N];
    int counts[N];
    static const char *stems[] = {"\xD0\xB0\xD0\xB1", "ab", "abcdefgh", "abcdefghi", "x", "\xC3\xA9"};
    srand(11);
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], sizeof buf[i], "%s%d", stems[i % 6], i / 6);
        words[i] = buf[i];
        counts[i] = 1 + rand() % 5;
    }
    cs_table *t = terms_from(words, counts, N);
    cs_merged *m = cs_merged_new(&t, 1, 2, 1);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        CHECK(cs_merge_terms_part(m, &t, p, NULL, NULL, NULL) == 0);
    cs_spill *sp = cs_spill_new(NULL);
    cs_spill_file *f = cs_spill_file_scratch(sp, "rows");
    size_t n[3];
    int out = 1;
    for (int pass = 0; pass < 3; pass++) {
        cs_rows rows[CS_N_PARTS];
        for (unsigned p = 0; p < CS_N_PARTS; p++) {
            cs_rows_part(m, 1, p, 0, CS_TIE_ALL, UINT64_MAX, &rows[p]);
            const size_t had = rows[p].n;
            if (pass == 1 || (pass == 2 && p % 2))
                out &= cs_rowrun_spill(f, m, &rows[p], pass == 1 ? 1 : 100) == 0 &&
                       rows[p].disk && !rows[p].v && rows[p].n == had;
        }
        n[pass] = merged_rows(m, 1, rows, got[pass], N + 1);
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            cs_rows_free(&rows[p]);
        cs_spill_file_rewind(f);
    }
    CHECK(out && cs_spill_error(sp) == NULL);
    CHECK(n[0] == N && n[1] == N && n[2] == N);
    for (int pass = 1; pass < 3; pass++) {
        size_t i = 0;
        while (i < N && !strcmp(got[0][i], got[pass][i]))
            i++;
        CHECK_MSG(i == N, "pass %d row %zu: %s, in memory %s", pass, i, got[pass][i], got[0][i]);
    }
    cs_spill_free(sp);
    cs_merged_free(m);
    cs_table_free(t);
}

/* Two bigrams of equal joined bytes and counts, told apart by docs: ("a",
 * "b c") counted twice in two documents comes before ("a b", "c") counted
 * twice in one (cs_row_tie: "a" < "a b"), whether their rows are in memory
 * or written out, either or both. */
static void test_gram_tie_written_out(void)
{
    cs_table *t;
    cs_partmap parts;
    cs_grams g;
    cs_merged *m = tie_bigrams(&t, &parts, &g, 2, 2);
    cs_spill *sp = cs_spill_new(NULL);
    cs_spill_file *f = cs_spill_file_scratch(sp, "rows");
    int seen = 0;
    for (int out = 0; out < 4; out++) { /* bit 0: k1's partition out, bit 1: k2's */
        cs_rows rows[CS_N_PARTS];
        for (unsigned p = 0; p < CS_N_PARTS; p++) {
            cs_rows_part(m, 2, p, 0, CS_TIE_ALL, UINT64_MAX, &rows[p]);
            for (size_t i = 0; i < rows[p].n; i++) {
                const int is_k2 = rows[p].v[i].docs == 2;
                seen |= 1 << is_k2;
                if (out >> is_k2 & 1) {
                    CHECK(cs_rowrun_spill(f, m, &rows[p], 1) == 0);
                    break;
                }
            }
        }
        char got[3][48];
        const size_t n = merged_rows(m, 2, rows, got, 3);
        CHECK_MSG(n == 2 && !strcmp(got[0], "2,2,a b c") && !strcmp(got[1], "2,1,a b c"),
                  "out %d: %zu rows, %s then %s", out, n, got[0], got[1]);
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            cs_rows_free(&rows[p]);
    }
    CHECK(seen == 3 && cs_spill_error(sp) == NULL);
    cs_spill_free(sp);
    cs_merged_free(m);
    cs_grams_free(&g);
    cs_partmap_free(&parts);
    cs_table_free(t);
}

int main(void)
{
    test_margins();
    test_terms_on_disk();
    test_packed_terms();
    test_generations();
    test_pick_top();
    test_top_threshold();
    test_term_order();
    test_gram_tie();
    test_tie_cut();
    test_rows_written_out();
    test_gram_tie_written_out();
    return TEST_REPORT();
}
