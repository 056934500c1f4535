/* test_table.c - exact counting under hash collisions, growth, and the
 * partition-wise merge with id remapping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reduce.h"
#include "table.h"
#include "testhelp.h"

static void test_collisions(void)
{
    cs_table *t = cs_table_new(1);
    /* Every key gets the same hash: only the bytes can tell them apart. */
    const uint64_t h = 0x0123456789ABCDEFull;
    char key[32];
    int is_new;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 500; i++) {
            snprintf(key, sizeof key, "k%d", i);
            cs_term *e = cs_table_term(t, h, (const uint8_t *)key, (uint32_t)strlen(key), 1, &is_new);
            CHECK(is_new == (round == 0));
            cs_cnt_add(&e->c, 1, (uint64_t)round + 1);
        }
    CHECK(cs_table_size(t) == 500);
    cs_term *e = cs_table_term(t, h, (const uint8_t *)"k7", 2, 1, &is_new);
    CHECK(!is_new && e->c.count == 3 && e->c.docs == 3);
    cs_table_free(t);
}

/* Keys on both sides of the inline limit (CS_TERM_INLINE bytes in the
 * entry, longer ones in the arena), all with one hash and sharing their
 * first bytes: each is its own entry, found again, with its own bytes; and
 * a merge that borrows the long keys' bytes keeps them. */
static void test_inline_limit(void)
{
    cs_table *t[2] = {cs_table_new(1), cs_table_new(1)};
    const uint64_t h = 0xFEDCBA9876543210ull;
    char key[64];
    int is_new;
    for (int s = 0; s < 2; s++)
        for (uint32_t len = 1; len <= 40; len++) {
            memset(key, 'x', len);
            key[len - 1] = (char)('a' + s); /* the two tables share no key */
            cs_term *e = cs_table_term(t[s], h, (const uint8_t *)key, len, 1, &is_new);
            CHECK(is_new);
            cs_cnt_add(&e->c, 1, len);
        }
    for (uint32_t len = 1; len <= 40; len++) {
        memset(key, 'x', len);
        key[len - 1] = 'a';
        cs_term *e = cs_table_term(t[0], h, (const uint8_t *)key, len, 1, &is_new);
        CHECK_MSG(!is_new && e->len == len && memcmp(cs_term_bytes(e), key, len) == 0 &&
                      e->c.count == 1,
                  "length %u (inline up to %d)", len, CS_TERM_INLINE);
    }
    cs_merged *m = cs_merged_new(t, 2, 1, 1);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        CHECK(cs_merge_terms_part(m, t, p, NULL, NULL, NULL) == 0);
    CHECK(cs_merged_n_terms(m) == 80);
    for (int s = 0; s < 2; s++)
        for (uint32_t len = 1; len <= 40; len++) {
            memset(key, 'x', len);
            key[len - 1] = (char)('a' + s);
            const uint32_t gid = cs_merged_find(m, h, (const uint8_t *)key, len);
            CHECK_MSG(gid != UINT32_MAX && cs_merged_cnt(m, gid)->count == 1,
                      "merged, source %d, length %u", s, len);
        }
    cs_merged_free(m);
    cs_table_free(t[0]);
    cs_table_free(t[1]);
}

/* Two "threads" count overlapping terms and bigrams with different local
 * ids; the merge must add them up by key. */
static void test_merge(void)
{
    cs_table *terms[2] = {cs_table_new(1), cs_table_new(1)};
    cs_partmap parts[2] = {{0}, {0}};
    cs_grams grams[2];
    const char *words[2][3] = {{"alpha", "beta", "gamma"}, {"gamma", "alpha", "delta"}};
    uint64_t hash[4] = {0x8000000000000001ull, 0x4000000000000002ull, 0x0000000000000003ull,
                        0xC000000000000004ull};
    const char *all[4] = {"alpha", "beta", "gamma", "delta"};
    int is_new;
    uint32_t local[2][3];
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 3; i++) {
            int k = 0;
            while (strcmp(all[k], words[s][i]) != 0)
                k++;
            cs_term *e = cs_table_term(terms[s], hash[k], (const uint8_t *)words[s][i], 5, 1, &is_new);
            cs_cnt_add(&e->c, 1, 1);
            local[s][i] = e->id;
            cs_partmap_set(&parts[s], e->id, cs_part_of(hash[k]));
        }
    /* bigram "alpha gamma" in both, with the source's local ids */
    uint32_t ids0[2] = {local[0][0], local[0][2]}, ids1[2] = {local[1][1], local[1][0]};
    for (int s = 0; s < 2; s++)
        cs_grams_init(&grams[s], 2, &parts[s], 1 << 20);
    cs_grams_add(&grams[0], ids0, 1); /* documents 1 and 2 */
    cs_grams_add(&grams[1], ids1, 2);
    cs_grams *src[2] = {&grams[0], &grams[1]};
    for (int s = 0; s < 2; s++)
        cs_grams_flush(src[s]);
    cs_merged *m = cs_merged_new(terms, 2, 2, 2);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        CHECK(cs_merge_terms_part(m, terms, p, NULL, NULL, NULL) == 0);
    cs_grams_scratch scratch = {0};
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        cs_merge_grams_part(m, src, 2, p, &scratch, NULL, NULL, NULL);
    cs_grams_scratch_free(&scratch);
    CHECK(cs_merged_n_terms(m) == 4);
    CHECK(cs_table_size(m->grams[2]) == 1);
    cs_rows rows;
    unsigned gp = cs_part_of(hash[0]); /* its first term's, alpha */
    cs_rows_part(m, 2, gp, 0, CS_TIE_ALL, UINT64_MAX, &rows);
    CHECK(rows.n == 1 && rows.v[0].count == 2 && rows.v[0].docs == 2);
    CHECK(rows.n == 1 && rows.v[0].len == 11 && memcmp(rows.v[0].key, "alpha gamma", 11) == 0);
    cs_rows_free(&rows);
    /* alpha and gamma were counted twice */
    uint64_t total = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_rows_part(m, 1, p, 2, CS_TIE_ALL, UINT64_MAX, &rows);
        total += rows.n;
        cs_rows_free(&rows);
    }
    CHECK(total == 2);
    cs_merged_free(m);
    for (int s = 0; s < 2; s++) {
        cs_table_free(terms[s]);
        cs_grams_free(&grams[s]);
        cs_partmap_free(&parts[s]);
    }
}

int main(void)
{
    test_collisions();
    test_inline_limit();
    test_merge();
    return TEST_REPORT();
}
