/*
 * testcorpus.h - what the counter tests share: a seeded text to count, the
 * way it is fed (feed_text), and a counter's terms by local id.
 */
#ifndef CS_TESTCORPUS_H
#define CS_TESTCORPUS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count.h"
#include "table.h"
#include "tokenize.h"

/* A seeded text: lines of 1-40 words from a vocabulary of 60, so that
 * grams repeat within and across documents (one document a line). */
static inline char *make_text(unsigned seed, size_t *len)
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

/* [local id] = the term's entry. */
static inline const cs_term **terms_by_id(const cs_table *t)
{
    const cs_term **v = calloc(t->next_id + 1, sizeof *v);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        for (uint32_t i = 0; i < t->part[p].n; i++) {
            const cs_term *e = cs_part_entry(&t->part[p], sizeof(cs_term), i);
            v[e->id] = e;
        }
    return v;
}

/* Feeds text to sink in pieces of 97 bytes (documents span tokenizer
 * batches), takes its first 30 lines back (*sign = -1, as the pipeline
 * does with a bad shard), then counts lines 200.. again; then flushes c. */
static inline void feed_text(cs_tok_sink sink, void *ctx, cs_counter *c, const char *text,
                             size_t len, cs_tok_docs docs)
{
    cs_tok_config cfg = {.fold = 1, .docs = docs, .max_len = 64, .min_len = 1};
    cs_tok *t = cs_tok_new(&cfg);
    cs_tok_set_sink(t, sink, ctx);
    for (size_t i = 0; i < len; i += 97)
        cs_tok_feed(t, (const uint8_t *)text + i, len - i < 97 ? len - i : 97);
    cs_tok_finish(t);
    c->sign = -1;
    size_t cut = 0;
    for (int l = 0; l < 30; l++)
        cut = (size_t)(strchr(text + cut, '\n') - text) + 1;
    cs_tok_feed(t, (const uint8_t *)text, cut);
    cs_tok_finish(t);
    c->sign = 1;
    size_t from = cut;
    for (int l = 30; l < 200; l++)
        from = (size_t)(strchr(text + from, '\n') - text) + 1;
    cs_tok_feed(t, (const uint8_t *)text + from, len - from);
    cs_tok_finish(t);
    cs_tok_free(t);
    cs_counter_flush(c);
}

#endif
