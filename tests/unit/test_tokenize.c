/* test_tokenize.c - the tokenizer on hand-checked cases, the same events
 * whatever the piece size (tokens, joiners and UTF-8 sequences cut across
 * pieces of 1..17 bytes), and the fast path against the state machine on
 * random text. */
#include <stdlib.h>
#include <string.h>

#include "testhelp.h"
#include "tokenize.h"

/* Events rendered as text: "tok|tok|/|..." with / for a segment end,
 * _ for a hole, < and > for documents. */
static cs_buf out;

static void sink(void *ctx, const cs_tok_batch *b)
{
    (void)ctx;
    for (uint32_t i = 0; i < b->n_events; i++) {
        switch (b->kind[i]) {
        case CS_EV_TOKEN:
            cs_buf_append(&out, b->bytes + b->off[i], b->len[i]);
            cs_buf_append(&out, "|", 1);
            break;
        case CS_EV_HOLE: cs_buf_append(&out, "_|", 2); break;
        case CS_EV_SEG_END: cs_buf_append(&out, "/", 1); break;
        case CS_EV_DOC_BEGIN: cs_buf_append(&out, "<", 1); break;
        case CS_EV_DOC_END: cs_buf_append(&out, ">", 1); break;
        }
    }
}

static cs_tok_config cfg_default(void)
{
    cs_tok_config c = {.fold = 1, .docs = CS_TOK_DOCS_EXTERNAL, .max_len = 64, .min_len = 1};
    return c;
}

/* Tokenizes s as one document (external mode) or as line/blank text, in
 * pieces of `piece` bytes (0 = whole). Returns the rendered events. */
static char *run(const cs_tok_config *cfg, const char *s, size_t n, size_t piece, cs_tok_stats *st)
{
    out.len = 0;
    cs_tok *t = cs_tok_new(cfg);
    cs_tok_set_sink(t, sink, NULL);
    if (cfg->docs == CS_TOK_DOCS_EXTERNAL)
        cs_tok_doc_begin(t);
    if (!piece)
        piece = n ? n : 1;
    for (size_t i = 0; i < n; i += piece)
        cs_tok_feed(t, (const uint8_t *)s + i, n - i < piece ? n - i : piece);
    if (cfg->docs == CS_TOK_DOCS_EXTERNAL)
        cs_tok_doc_end(t);
    else
        cs_tok_finish(t);
    if (st)
        *st = cs_tok_take_stats(t);
    cs_tok_free(t);
    char *r = malloc(out.len + 1);
    memcpy(r, out.data, out.len);
    r[out.len] = 0;
    return r;
}

static void expect(const cs_tok_config *cfg, const char *s, const char *want)
{
    size_t n = strlen(s);
    for (size_t piece = 0; piece <= 17; piece++) {
        char *got = run(cfg, s, n, piece, NULL);
        CHECK_MSG(strcmp(got, want) == 0, "input \"%s\" piece %zu: got \"%s\" want \"%s\"", s, piece,
                  got, want);
        free(got);
        if (strcmp(want, "") == 0)
            break;
    }
}

static void test_joiners(void)
{
    cs_tok_config c = cfg_default();
    expect(&c, "Ex-governor Zhakiyanov\xE2\x80\x99s", "<ex-governor|zhakiyanov's|/>");
    expect(&c, "1994-1997 3.5 1,000 U.S", "<1994-1997|3.5|1,000|u.s|/>");
    expect(&c, "U.S. visit", "<u.s|/visit|/>");
    expect(&c, "x--y rock-'n'-roll", "<x|y|rock|n|roll|/>");
    expect(&c, "a,b 1,b a,1 1,,2", "<a|b|1|b|a|1|1|2|/>");
    expect(&c, "end.Next", "<end.next|/>");
    expect(&c, "co\xE2\x80\x90op", "<co-op|/>"); /* U+2010 kept as '-' */
    expect(&c, "don't' 'quote'", "<don't|quote|/>");
    expect(&c, "What? Yes! No\xE2\x80\xA6 \xE3\x80\x82x", "<what|/yes|/no|/x|/>");
    expect(&c, "trailing-", "<trailing|/>");
    expect(&c, "a.", "<a|/>");
    expect(&c, "\xD9\xA1,\xD9\xA2", "<\xD9\xA1,\xD9\xA2|/>"); /* Arabic-Indic digits are Nd */
}

static void test_folding(void)
{
    cs_tok_config c = cfg_default();
    expect(&c, "Stra\xC3\x9F" "e STRASSE", "<strasse|strasse|/>");
    expect(&c, "\xD0\x90\xD0\xBB\xD0\xBC\xD0\xB0\xD1\x82\xD1\x8B", "<\xD0\xB0\xD0\xBB\xD0\xBC\xD0\xB0\xD1\x82\xD1\x8B|/>");
    expect(&c, "\xC4\xB0stanbul", "<i\xCC\x87stanbul|/>"); /* U+0130 -> i + U+0307 */
    expect(&c, "\xEF\xAC\x81nd", "<find|/>");               /* U+FB01 fi ligature */
    c.fold = 0;
    expect(&c, "Stra\xC3\x9F" "e", "<Stra\xC3\x9F" "e|/>");
    c.fold = 1;
    c.normalize = CS_NORM_NFKC;
    expect(&c, "\xEF\xAC\x81nd \xE2\x91\xA0", "<find|1|/>"); /* circled one -> 1 */
    c.normalize = CS_NORM_NFC;
    expect(&c, "e\xCC\x81t\xC3\xA9", "<\xC3\xA9t\xC3\xA9|/>");
}

static void test_segments(void)
{
    cs_tok_config c = cfg_default();
    expect(&c, "one two\nthree\r\nfour\rfive", "<one|two|/three|/four|/five|/>");
    c.join_lines = 1;
    expect(&c, "one two\nthree\r\nfour\rfive", "<one|two|three|four|five|/>");
    c.join_lines = 0;
    c.max_len = 5;
    expect(&c, "a bb toolongtoken cc", "<a|bb|/cc|/>");
    expect(&c, "ab\xC3\xA9\xC3\xA9 x", "<x|/>"); /* 6 bytes after folding > 5 */
    c.max_len = 64;
    c.min_len = 2;
    expect(&c, "a bb c dd", "<_|bb|_|dd|/>");
}

static void test_stopwords(void)
{
    cs_tok_config c = cfg_default();
    cs_strset *sw = cs_strset_new();
    cs_buf term = {0};
    CHECK(cs_tok_term(&c, (const uint8_t *)"  The \n", 7, &term) == 1);
    CHECK(term.len == 3 && memcmp(term.data, "the", 3) == 0);
    cs_strset_add(sw, term.data, term.len);
    CHECK(cs_tok_term(&c, (const uint8_t *)" \t\n", 3, &term) == 0);
    CHECK(cs_tok_term(&c, (const uint8_t *)"Zhakiyanov\xE2\x80\x99s", 14, &term) == 1);
    CHECK(term.len == 12 && memcmp(term.data, "zhakiyanov's", 12) == 0);
    c.stopwords = sw;
    expect(&c, "THE cat and the dog", "<_|cat|and|_|dog|/>");
    cs_buf_free(&term);
    cs_strset_free(sw);
}

static void test_malformed(void)
{
    cs_tok_config c = cfg_default();
    static const struct {
        const char *s;
        int64_t bad;
        const char *events;
    } cases[] = {
        {"a\xC0\x80" "b", 2, "<a|b|/>"},        /* C0 cannot start; 80 alone */
        {"a\xE0\x80" "b", 2, "<a|b|/>"},        /* E0 needs A0..BF next */
        {"a\xED\xA0\x80" "b", 3, "<a|b|/>"},    /* surrogate: each byte alone */
        {"a\xF0\x9F\x98" "b", 1, "<a|b|/>"},    /* truncated 4-byte: one unit */
        {"a\xF5\xFF" "b", 2, "<a|b|/>"},
        {"a\xE2\x82", 1, "<a|/>"},              /* cut at the end of the document */
        {"\xEF\xBF\xBD", 0, "<>"},              /* a real U+FFFD is a separator, not malformed */
        {"x\xC3\xA9\xE2\x80" "y", 1, "<x\xC3\xA9|y|/>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        for (size_t piece = 0; piece <= 5; piece++) {
            cs_tok_stats st;
            char *got = run(&c, cases[i].s, strlen(cases[i].s), piece, &st);
            CHECK_MSG(st.invalid_utf8 == cases[i].bad && strcmp(got, cases[i].events) == 0,
                      "case %zu piece %zu: %lld malformed, events %s", i, piece,
                      (long long)st.invalid_utf8, got);
            free(got);
        }
    }
}

static void test_documents(void)
{
    cs_tok_config c = cfg_default();
    c.docs = CS_TOK_DOCS_LINE;
    cs_tok_stats st;
    const char *text = "a b\n \t\nc\r\nd\r\r--\n";
    for (size_t piece = 0; piece <= 17; piece++) {
        char *got = run(&c, text, strlen(text), piece, &st);
        CHECK_MSG(strcmp(got, "<a|b|/><c|/><d|/><>") == 0 && st.documents == 4,
                  "line piece %zu: %s docs %lld", piece, got, (long long)st.documents);
        free(got);
    }
    c.docs = CS_TOK_DOCS_BLANK;
    text = "a b\nc\n\n \v\f\nd\r\n\r\ne\r\rf";
    for (size_t piece = 0; piece <= 17; piece++) {
        char *got = run(&c, text, strlen(text), piece, &st);
        CHECK_MSG(strcmp(got, "<a|b|/c|/><d|/><e|/><f|/>") == 0 && st.documents == 4,
                  "blank piece %zu: %s docs %lld", piece, got, (long long)st.documents);
        free(got);
    }
    c.join_lines = 1;
    char *got = run(&c, "a\nb\n\nc", 6, 0, &st);
    CHECK_MSG(strcmp(got, "<a|b|/><c|/>") == 0, "blank+join: %s", got);
    free(got);
}

static void test_stats(void)
{
    cs_tok_config c = cfg_default();
    c.min_len = 2;
    c.max_len = 6;
    cs_tok_stats st;
    char *got = run(&c, "a bb. cc dd\nlonglonglong ee", 27, 0, &st);
    CHECK_MSG(strcmp(got, "<_|bb|/cc|dd|/ee|/>") == 0, "%s", got);
    CHECK(st.tokens == 4 && st.excluded == 1 && st.long_dropped == 1 && st.segments == 3 &&
          st.documents == 1);
    free(got);
}

/* Pieces of text the fast path must hand back correctly: ASCII of each
 * class, 2-byte letters that fold to 2 bytes, to 1 (K sign is 3 bytes; the
 * long s folds to 's') or to 2 code points (sharp s), digits of another
 * script, joiners in both forms, line breaks, malformed and cut sequences,
 * a NUL, a combining mark, no-break space. */
static const char *const ATOMS[] = {
    "a", "Z", "7", " ", " ", ",", ".", "'", "-", "!", "\r", "\n", "\t", "\xc3\xa9", "\xc3\x89",
    "\xc3", "\xc5\xbf", "\xc2\xb2", "\xd9\xa3", "\xd0\x96", "\xd0\xb6", "\xc3\x9f",
    "\xe2\x80\x99", "\xc8\xba", "\x80", "\xe2\x80", "\x00", "\xcc\x81", "\xc2\xa0",
    "\xe2\x84\xaa", "word", "WORD", "12,5", "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

/* Runs s in random pieces, each in its own exact-size buffer (so a read
 * past a piece shows under AddressSanitizer). */
static char *run_random_pieces(const cs_tok_config *cfg, const char *s, size_t n, cs_tok_stats *st)
{
    out.len = 0;
    cs_tok *t = cs_tok_new(cfg);
    cs_tok_set_sink(t, sink, NULL);
    if (cfg->docs == CS_TOK_DOCS_EXTERNAL)
        cs_tok_doc_begin(t);
    for (size_t i = 0; i < n;) {
        size_t k = 1 + rnd(24);
        if (k > n - i)
            k = n - i;
        uint8_t *piece = malloc(k);
        memcpy(piece, s + i, k);
        cs_tok_feed(t, piece, k);
        free(piece);
        i += k;
    }
    if (cfg->docs == CS_TOK_DOCS_EXTERNAL)
        cs_tok_doc_end(t);
    else
        cs_tok_finish(t);
    *st = cs_tok_take_stats(t);
    cs_tok_free(t);
    char *r = malloc(out.len + 1);
    memcpy(r, out.data, out.len);
    r[out.len] = 0;
    return r;
}

static int same_stats(const cs_tok_stats *a, const cs_tok_stats *b)
{
    return a->documents == b->documents && a->segments == b->segments && a->tokens == b->tokens &&
           a->excluded == b->excluded && a->long_dropped == b->long_dropped &&
           a->invalid_utf8 == b->invalid_utf8;
}

static void test_fast_path(void)
{
    cs_strset *stop = cs_strset_new();
    cs_strset_add(stop, (const uint8_t *)"a", 1);
    cs_strset_add(stop, (const uint8_t *)"word", 4);
    const cs_tok_docs docs[] = {CS_TOK_DOCS_EXTERNAL, CS_TOK_DOCS_LINE, CS_TOK_DOCS_BLANK};
    const uint32_t max_lens[] = {1, 3, 8, 9, 24, 64};
    int failures = 0;
    for (int round = 0; round < 20000 && failures < 5; round++) {
        char text[1024];
        size_t n = 0;
        for (uint32_t k = rnd(60); k > 0; k--) {
            const char *a = ATOMS[rnd(sizeof ATOMS / sizeof *ATOMS)];
            size_t len = strcmp(a, "\x00") == 0 ? 1 : strlen(a);
            memcpy(text + n, a, len);
            n += len;
        }
        cs_tok_config fast = cfg_default();
        fast.fold = (int)rnd(2);
        fast.docs = docs[rnd(3)];
        fast.max_len = max_lens[rnd(6)];
        fast.min_len = rnd(3);
        fast.join_lines = (int)rnd(2);
        fast.stopwords = rnd(2) ? stop : NULL;
        cs_tok_config slow = fast;
        slow.state_machine_only = 1;
        uint64_t seed = rng_state;
        cs_tok_stats sf, ss;
        char *got = run_random_pieces(&fast, text, n, &sf);
        rng_state = seed; /* the same pieces */
        char *want = run_random_pieces(&slow, text, n, &ss);
        int same = strcmp(got, want) == 0 && same_stats(&sf, &ss);
        CHECK_MSG(same, "round %d (%zu bytes): fast \"%s\" state machine \"%s\"", round, n, got,
                  want);
        failures += !same;
        free(got);
        free(want);
    }
    cs_strset_free(stop);
}

int main(void)
{
    cs_tok_global_init();
    test_joiners();
    test_folding();
    test_segments();
    test_stopwords();
    test_malformed();
    test_documents();
    test_stats();
    test_fast_path();
    cs_buf_free(&out);
    return TEST_REPORT();
}
