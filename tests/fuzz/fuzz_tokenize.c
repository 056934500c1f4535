/*
 * fuzz_tokenize.c - the tokenizer on any bytes, under any settings.
 *
 * Input: two bytes of settings (folding, normalization, documents, joined
 * lines, --max-len, --min-len, stopwords), one byte seeding the sizes of
 * the pieces, then the text. Checks, beyond no crash:
 *  - the same events and stats whether the text comes whole, in pieces of
 *    any size, or through the state machine alone (no fast path);
 *  - every counted term is well-formed UTF-8, no longer than --max-len,
 *    and does not start as a spreadsheet formula would (=, +, -, @, tab,
 *    CR): docs/counting.md says no term can.
 */
#include <string.h>

#include "common.h"
#include "fuzz.h"
#include "tokenize.h"

/* Checks the terms of a recorded run. */
static void check_terms(const cs_buf *ev, uint32_t max_len)
{
    for (size_t i = 0; i < ev->len;) {
        const uint8_t kind = ev->data[i++];
        if (kind != CS_EV_TOKEN)
            continue;
        uint32_t len;
        memcpy(&len, ev->data + i, sizeof len);
        i += sizeof len;
        const uint8_t *t = ev->data + i;
        i += len;
        FZ_CHECK(len > 0 && len <= max_len);
        FZ_CHECK(fz_valid_utf8(t, len));
        FZ_CHECK(!memchr("=+-@\t\r", t[0], 6));
    }
}

/* Tokenizes text[0..n) as a run of one input: pieces of sizes drawn from
 * seed (0: whole). Returns the stats; the events go to out. */
static cs_tok_stats run(const cs_tok_config *cfg, const uint8_t *text, size_t n, uint8_t seed,
                        cs_buf *out)
{
    cs_tok *t = cs_tok_new(cfg);
    cs_tok_set_sink(t, fz_record_events, out);
    const int external = cfg->docs == CS_TOK_DOCS_EXTERNAL;
    if (external)
        cs_tok_doc_begin(t);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t at = 0; at < n;) {
        size_t k = n - at;
        if (seed) {
            x = x * 1103515245u + 12345u;
            size_t want = 1 + (x >> 16) % 9;
            k = k < want ? k : want;
        }
        cs_tok_feed(t, text + at, k);
        at += k;
    }
    if (external)
        cs_tok_doc_end(t);
    else
        cs_tok_finish(t);
    cs_tok_stats st = cs_tok_take_stats(t);
    cs_tok_free(t);
    return st;
}

static int same_stats(const cs_tok_stats *a, const cs_tok_stats *b)
{
    return a->documents == b->documents && a->segments == b->segments &&
           a->tokens == b->tokens && a->excluded == b->excluded &&
           a->long_dropped == b->long_dropped && a->invalid_utf8 == b->invalid_utf8;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cs_tok_global_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t max_lens[] = {1, 2, 3, 4, 8, 16, 64, 255};
    const uint8_t a = fz_byte(&data, &size), b = fz_byte(&data, &size);
    const uint8_t seed = fz_byte(&data, &size);
    cs_tok_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fold = a & 1;
    cfg.normalize = (cs_norm)((a >> 1) % 3);
    cfg.docs = (cs_tok_docs)((a >> 3) % 3);
    cfg.join_lines = (a >> 5) & 1;
    cfg.max_len = max_lens[b & 7];
    cfg.min_len = (b >> 3) & 3;
    cs_strset *stop = NULL;
    if (b & 0x20) {
        /* Stopwords as --stopwords reads them: normalized and folded. */
        static const char *const words[] = {"the", "И", "ǅ", "ﬁ", "a-b", "l'a"};
        stop = cs_strset_new();
        cs_buf term = {0};
        for (size_t i = 0; i < sizeof words / sizeof *words; i++)
            if (cs_tok_term(&cfg, (const uint8_t *)words[i], strlen(words[i]), &term))
                cs_strset_add(stop, term.data, term.len);
        cs_buf_free(&term);
        cfg.stopwords = stop;
    }

    cs_buf whole = {0}, pieces = {0}, slow = {0};
    const cs_tok_stats s1 = run(&cfg, data, size, 0, &whole);
    const cs_tok_stats s2 = run(&cfg, data, size, seed | 1, &pieces);
    cs_tok_config sm = cfg;
    sm.state_machine_only = 1;
    const cs_tok_stats s3 = run(&sm, data, size, 0, &slow);
    FZ_CHECK(fz_same(whole.data, whole.len, pieces.data, pieces.len));
    FZ_CHECK(fz_same(whole.data, whole.len, slow.data, slow.len));
    FZ_CHECK(same_stats(&s1, &s2) && same_stats(&s1, &s3));
    check_terms(&whole, cfg.max_len);

    cs_buf_free(&whole);
    cs_buf_free(&pieces);
    cs_buf_free(&slow);
    cs_strset_free(stop);
    return 0;
}
