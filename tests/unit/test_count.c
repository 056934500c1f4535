/* test_count.c - the counter adds gram occurrences in sorted batches
 * (count.c): whatever the batch size, every gram gets the same count and
 * doc_count, also when a document spans batches and when occurrences are
 * taken back with sign -1 in between. Compared with a flush per occurrence
 * (pend_max 1), which is plain one-by-one counting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count.h"
#include "testhelp.h"

/* A seeded text: lines of 1-40 words from a vocabulary of 60, so that
 * grams repeat within and across documents (one document a line). */
static char *make_text(unsigned seed, size_t *len)
{
    static const char *const syl[] = {"ka", "zo", "ri", "me", "tu", "sha", "no", "ve", "li", "da"};
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap);
    if (!s)
        abort();
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int line = 0; line < 400; line++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int words = 1 + (int)((x >> 33) % 40);
        for (int w = 0; w < words; w++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            unsigned v = (unsigned)((x >> 33) % 60);
            if (n + 16 > cap && !(s = realloc(s, cap *= 2)))
                abort();
            n += (size_t)sprintf(s + n, "%s%s%s", w ? " " : "", syl[v % 10], syl[v / 10]);
            if (((x >> 20) & 31) == 0)
                s[n++] = '.'; /* a segment end now and then */
        }
        s[n++] = '\n';
    }
    s[n] = 0; /* searched with strchr */
    *len = n;
    return s;
}

static void count_text(cs_counter *c, const char *text, size_t len)
{
    cs_tok_config cfg = {.fold = 1, .docs = CS_TOK_DOCS_LINE, .max_len = 64, .min_len = 1};
    cs_tok *t = cs_tok_new(&cfg);
    cs_tok_set_sink(t, cs_counter_consume, c);
    /* in pieces of 97 bytes: documents span tokenizer batches */
    for (size_t i = 0; i < len; i += 97)
        cs_tok_feed(t, (const uint8_t *)text + i, len - i < 97 ? len - i : 97);
    cs_tok_finish(t);
    c->sign = -1; /* take the first 30 lines back, as the pipeline does with a bad shard */
    size_t cut = 0;
    for (int l = 0; l < 30; l++)
        cut = (size_t)(strchr(text + cut, '\n') - text) + 1;
    cs_tok_feed(t, (const uint8_t *)text, cut);
    cs_tok_finish(t);
    c->sign = 1;
    size_t from = cut; /* and count lines 200.. again */
    for (int l = 30; l < 200; l++)
        from = (size_t)(strchr(text + from, '\n') - text) + 1;
    cs_tok_feed(t, (const uint8_t *)text + from, len - from);
    cs_tok_finish(t);
    cs_tok_free(t);
    cs_counter_flush(c);
}

/* Every gram of a is in b with the same counts, and the sizes agree. */
static int same_grams(cs_table *a, cs_table *b)
{
    if (cs_table_size(a) != cs_table_size(b))
        return 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        for (uint32_t i = 0; i < a->part[p].n; i++) {
            const cs_gram *e = cs_part_entry(&a->part[p], a->stride, i);
            int is_new;
            const cs_gram *f = cs_table_gram(b, e->hash, e->ids, &is_new);
            if (is_new || f->c.count != e->c.count || f->c.docs != e->c.docs)
                return 0;
        }
    }
    return 1;
}

int main(void)
{
    cs_tok_global_init();
    size_t len;
    char *text = make_text(7, &len);
    cs_counter ref;
    cs_counter_init(&ref, 1, 3, 1, 1);
    ref.pend_max = 1;
    count_text(&ref, text, len);
    CHECK(cs_table_size(ref.grams[2]) > 1000);
    int64_t taken_back = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        for (uint32_t i = 0; i < ref.grams[2]->part[p].n; i++)
            taken_back += ((const cs_gram *)cs_part_entry(&ref.grams[2]->part[p], ref.grams[2]->stride,
                                                          i))->c.docs == 0;
    CHECK(taken_back > 0); /* some bigrams occur only in the lines taken back */
    const uint32_t sizes[] = {2, 3, 64, 4096, 1u << 18};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        cs_counter c;
        cs_counter_init(&c, 1, 3, 1, 1);
        c.pend_max = sizes[k];
        count_text(&c, text, len);
        CHECK_MSG(same_grams(ref.grams[2], c.grams[2]), "bigrams, pend_max %u", sizes[k]);
        CHECK_MSG(same_grams(ref.grams[3], c.grams[3]), "trigrams, pend_max %u", sizes[k]);
        CHECK_MSG(cs_table_size(c.terms) == cs_table_size(ref.terms), "terms, pend_max %u", sizes[k]);
        cs_counter_free(&c);
    }
    cs_counter_free(&ref);
    free(text);
    return TEST_REPORT();
}
