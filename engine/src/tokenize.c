/*
 * tokenize.c - chunk bytes -> tokens, segments, documents (see tokenize.h).
 *
 * DESIGN
 * One state machine over bytes, the definition. In front of it run_fast()
 * takes plain runs (no UTF-8 sequence or joiner open, the line non-blank,
 * no --normalize) through locals: ASCII words 8 bytes at a time, 2-byte
 * letters that fold to 2 bytes, single spaces; anything else goes back to
 * the state machine. No call into utf8proc happens on ASCII. Other code points are decoded here
 * (maximal-subpart rule for malformed input: each maximal prefix of a valid
 * sequence, and each byte that cannot start one, is one malformed unit that
 * acts as a separator) and classified through tables built once for the BMP
 * (category bits and single-code-point folds); utf8proc is called only for
 * the supplementary planes and for the few folds to several code points.
 *
 * A token is built in place in the batch's byte buffer, already folded, so
 * it is written once. Space for the longest kept token (max_len + slack) is
 * reserved when the token starts; a longer token keeps counting its length
 * without writing and is dropped at its end. With --normalize the raw token
 * goes to a side buffer (bounded at 4 * max_len: NFC/NFKC shrink a sequence
 * at most ~3x, Hangul L+V+T -> LVT) and is normalized, then folded, at its end.
 *
 * A joiner right after a token character waits in `pending` for the next
 * code point: kept (in ASCII form) if that is a word character (for a comma:
 * both sides Nd digits), else it ends the token and, for '.', the segment.
 */
#include "tokenize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Character class bits. */
enum {
    C_W = 1,  /* word character: L*, M*, N* */
    C_D = 2,  /* Nd digit (for the comma joiner) */
    C_J = 4,  /* joiner candidate: ' U+2019 - U+2010 . , */
    C_T = 8,  /* sentence terminator: . ! ? U+2026 U+3002 U+FF01 U+FF1F */
    C_L = 16, /* line break: LF, CR */
    C_B = 32  /* blank-line character: space, tab, VT, FF */
};

/* Fold table entry meaning "folds to several code points: ask utf8proc". */
#define FOLD_MULTI 0xFFFFFFFFu

static uint8_t ascii_cls[256];
static uint8_t ascii_fold[256];
static uint8_t bmp_cls[65536];
static uint32_t bmp_fold[65536];
static int tables_ready;

static unsigned category_bits(uint32_t cp)
{
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    unsigned bits = 0;
    if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO)
        bits |= C_W;
    if (c == UTF8PROC_CATEGORY_ND)
        bits |= C_D;
    if (cp == 0x2019 || cp == 0x2010)
        bits |= C_J;
    if (cp == 0x2026 || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F)
        bits |= C_T;
    return bits;
}

void cs_tok_global_init(void)
{
    if (tables_ready)
        return;
    for (unsigned b = 0; b < 128; b++) {
        unsigned bits = category_bits(b);
        if (b == '\'' || b == '-' || b == '.' || b == ',')
            bits |= C_J;
        if (b == '.' || b == '!' || b == '?')
            bits |= C_T;
        if (b == '\n' || b == '\r')
            bits |= C_L;
        if (b == ' ' || b == '\t' || b == '\v' || b == '\f')
            bits |= C_B;
        ascii_cls[b] = (uint8_t)bits;
        ascii_fold[b] = (uint8_t)((b >= 'A' && b <= 'Z') ? b + 32 : b);
    }
    for (uint32_t cp = 0; cp < 65536; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) {
            bmp_cls[cp] = 0;
            bmp_fold[cp] = cp;
            continue;
        }
        unsigned bits = category_bits(cp);
        bmp_cls[cp] = (uint8_t)bits;
        bmp_fold[cp] = cp;
        if (bits & C_W) {
            utf8proc_int32_t out[4];
            utf8proc_int32_t bc = 0;
            utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, out, 4,
                                                         UTF8PROC_CASEFOLD, &bc);
            bmp_fold[cp] = (n == 1) ? (uint32_t)out[0] : FOLD_MULTI;
        }
    }
    tables_ready = 1;
}

const char *cs_unicode_version(void)
{
    return utf8proc_unicode_version();
}

/* ------------------------------------------------------------------ */
/* stopword set: open addressing over (hash, bytes)                     */

/* Open addressing over slots that hold index + 1 (0: empty); the terms
 * themselves are dense, in insertion order, so a term has a stable index
 * (--cooc doc pairs are keyed by it). Load stays under 1/2: stopword
 * lookups are per token. */
struct cs_strset {
    uint32_t *slot;
    size_t mask;
    uint32_t n, cap;
    uint64_t *hash;  /* [index]: XXH3 of the bytes */
    uint8_t **key;   /* [index]: owned copy */
    uint32_t *len;   /* [index] */
};

cs_strset *cs_strset_new(void)
{
    cs_strset *s = cs_xcalloc(1, sizeof *s);
    s->mask = 63;
    s->slot = cs_xcalloc(s->mask + 1, sizeof *s->slot);
    return s;
}

int64_t cs_strset_find(const cs_strset *s, uint64_t hash, const uint8_t *p, size_t n)
{
    for (size_t i = (size_t)hash & s->mask; s->slot[i]; i = (i + 1) & s->mask) {
        const uint32_t k = s->slot[i] - 1;
        if (s->hash[k] == hash && s->len[k] == n && memcmp(s->key[k], p, n) == 0)
            return k;
    }
    return -1;
}

static void put_slot(cs_strset *s, uint32_t k)
{
    size_t i = (size_t)s->hash[k] & s->mask;
    while (s->slot[i])
        i = (i + 1) & s->mask;
    s->slot[i] = k + 1;
}

uint32_t cs_strset_add(cs_strset *s, const uint8_t *p, size_t n)
{
    const uint64_t h = XXH3_64bits(p, n);
    const int64_t found = cs_strset_find(s, h, p, n);
    if (found >= 0)
        return (uint32_t)found;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->hash = cs_xrealloc(s->hash, s->cap * sizeof *s->hash);
        s->key = cs_xrealloc(s->key, s->cap * sizeof *s->key);
        s->len = cs_xrealloc(s->len, s->cap * sizeof *s->len);
    }
    const uint32_t k = s->n++;
    s->hash[k] = h;
    s->key[k] = cs_xmalloc(n + 1);
    memcpy(s->key[k], p, n);
    s->len[k] = (uint32_t)n;
    if ((size_t)s->n * 2 > s->mask) {
        free(s->slot);
        s->mask = s->mask * 2 + 1;
        s->slot = cs_xcalloc(s->mask + 1, sizeof *s->slot);
        for (uint32_t j = 0; j < s->n; j++)
            put_slot(s, j);
    } else {
        put_slot(s, k);
    }
    return k;
}

int cs_strset_has(const cs_strset *s, const uint8_t *p, size_t n)
{
    if (!s || s->n == 0)
        return 0;
    return cs_strset_find(s, XXH3_64bits(p, n), p, n) >= 0;
}

size_t cs_strset_size(const cs_strset *s)
{
    return s ? s->n : 0;
}

const uint8_t *cs_strset_key(const cs_strset *s, uint32_t k, uint32_t *len)
{
    *len = s->len[k];
    return s->key[k];
}

uint64_t cs_strset_hash(const cs_strset *s, uint32_t k)
{
    return s->hash[k];
}

void cs_strset_free(cs_strset *s)
{
    if (!s)
        return;
    for (uint32_t k = 0; k < s->n; k++)
        free(s->key[k]);
    free(s->slot);
    free(s->hash);
    free(s->key);
    free(s->len);
    free(s);
}

/* ------------------------------------------------------------------ */
/* the tokenizer                                                        */

struct cs_tok {
    const cs_tok_config *cfg; /* borrowed */
    cs_tok_sink sink;
    void *sink_ctx;
    cs_tok_batch batch;
    size_t tok_cap;     /* bytes reserved for one token in the batch */
    cs_tok_stats stats;

    /* UTF-8 decoder */
    uint32_t cp;
    unsigned need;      /* continuation bytes still expected */
    uint8_t lo, hi;     /* range of the next continuation byte */

    /* token being built */
    int in_token;
    uint32_t tok_off;   /* in batch.bytes */
    size_t tok_len;     /* folded bytes so far (may exceed what was written) */
    size_t tok_cps;     /* code points after folding */
    unsigned last_cls;  /* class of the token's last character */
    uint32_t pending;   /* joiner waiting for its right neighbour, 0 = none */
    cs_buf raw;         /* --normalize: the unfolded token */
    size_t raw_cap;
    int raw_over;
    utf8proc_int32_t *ubuf; /* --normalize scratch, in code points */
    size_t ubuf_cap;

    /* segment and documents */
    int seg_has_pos;
    int in_doc;
    int line_nonblank;  /* line/blank docs: the current line holds a non-blank byte */
    int cr_pending;     /* the last piece ended in CR: a leading LF belongs to it */
};

cs_tok *cs_tok_new(const cs_tok_config *cfg)
{
    cs_tok *t = cs_xcalloc(1, sizeof *t);
    t->cfg = cfg;
    /* Room for the longest kept token plus one folded code point (at most 3
     * code points of 4 bytes): a token that fits is written whole; a longer
     * one only counts its length past tok_cap, and is dropped. */
    t->tok_cap = (size_t)cfg->max_len + 16;
    t->batch.bytes = cs_xmalloc(CS_BATCH_BYTES + t->tok_cap + 8); /* 8: see run_fast */
    t->raw_cap = 4 * (size_t)cfg->max_len + 64;
    cs_tok_reset(t);
    return t;
}

void cs_tok_free(cs_tok *t)
{
    if (!t)
        return;
    free(t->batch.bytes);
    cs_buf_free(&t->raw);
    free(t->ubuf);
    free(t);
}

void cs_tok_set_sink(cs_tok *t, cs_tok_sink sink, void *ctx)
{
    t->sink = sink;
    t->sink_ctx = ctx;
}

void cs_tok_reset(cs_tok *t)
{
    t->batch.n_events = 0;
    t->batch.n_bytes = 0;
    t->need = 0;
    t->in_token = 0;
    t->pending = 0;
    t->seg_has_pos = 0;
    t->in_doc = 0;
    t->cr_pending = 0;
    /* With external documents no line ever starts a document. */
    t->line_nonblank = (t->cfg->docs == CS_TOK_DOCS_EXTERNAL);
}

cs_tok_stats cs_tok_take_stats(cs_tok *t)
{
    cs_tok_stats s = t->stats;
    memset(&t->stats, 0, sizeof t->stats);
    return s;
}

static void flush(cs_tok *t)
{
    if (t->batch.n_events && t->sink)
        t->sink(t->sink_ctx, &t->batch);
    t->batch.n_events = 0;
    t->batch.n_bytes = 0;
}

/* Room for two events; called where no token is open (a flush would cut it). */
static inline void ensure_events(cs_tok *t)
{
    if (CS_UNLIKELY(t->batch.n_events + 2 > CS_BATCH_EVENTS))
        flush(t);
}

static inline void emit(cs_tok *t, unsigned kind, uint32_t off, uint32_t len)
{
    uint32_t i = t->batch.n_events++;
    t->batch.kind[i] = (uint8_t)kind;
    t->batch.off[i] = off;
    t->batch.len[i] = len;
}

static inline void seg_end(cs_tok *t)
{
    if (!t->seg_has_pos)
        return;
    t->seg_has_pos = 0;
    t->stats.segments++;
    ensure_events(t);
    emit(t, CS_EV_SEG_END, 0, 0);
}

static void doc_begin(cs_tok *t)
{
    ensure_events(t);
    emit(t, CS_EV_DOC_BEGIN, 0, 0);
    t->in_doc = 1;
    t->stats.documents++;
}

static void doc_end(cs_tok *t)
{
    seg_end(t);
    ensure_events(t);
    emit(t, CS_EV_DOC_END, 0, 0);
    t->in_doc = 0;
}

static inline void begin_token(cs_tok *t)
{
    cs_tok_batch *b = &t->batch;
    /* The token needs tok_cap bytes and up to 2 events (itself, a segment
     * end after it); nothing may flush while it is open. */
    if (CS_UNLIKELY(b->n_bytes > CS_BATCH_BYTES || b->n_events + 3 > CS_BATCH_EVENTS))
        flush(t);
    t->in_token = 1;
    t->tok_off = b->n_bytes;
    t->tok_len = 0;
    t->tok_cps = 0;
    t->raw.len = 0;
    t->raw_over = 0;
}

/* Appends a code point that is already in its final form. */
static inline void put_final(cs_tok *t, uint32_t cp)
{
    uint8_t tmp[4];
    size_t k = cs_utf8_put(tmp, cp);
    if (t->tok_len + k <= t->tok_cap)
        memcpy(t->batch.bytes + t->tok_off + t->tok_len, tmp, k);
    t->tok_len += k;
    t->tok_cps++;
}

/* Folds cp (full case folding) and appends the result. */
static void put_folded(cs_tok *t, uint32_t cp)
{
    if (cp < 65536 && bmp_fold[cp] != FOLD_MULTI) {
        put_final(t, bmp_fold[cp]);
        return;
    }
    utf8proc_int32_t out[4];
    utf8proc_int32_t bc = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, out, 4,
                                                 UTF8PROC_CASEFOLD, &bc);
    if (n < 1 || n > 4) { /* cannot happen for a valid code point; keep it as is */
        put_final(t, cp);
        return;
    }
    for (utf8proc_ssize_t i = 0; i < n; i++)
        put_final(t, (uint32_t)out[i]);
}

/* Appends one token character (or a kept joiner, in ASCII form). */
static inline void append_cp(cs_tok *t, uint32_t cp)
{
    if (t->cfg->normalize != CS_NORM_NONE) {
        if (t->raw.len + 4 > t->raw_cap) {
            t->raw_over = 1;
            return;
        }
        cs_buf_reserve(&t->raw, 4);
        t->raw.len += cs_utf8_put(t->raw.data + t->raw.len, cp);
        return;
    }
    if (cp < 128) {
        if (t->tok_len < t->tok_cap)
            t->batch.bytes[t->tok_off + t->tok_len] = t->cfg->fold ? ascii_fold[cp] : (uint8_t)cp;
        t->tok_len++;
        t->tok_cps++;
    } else if (t->cfg->fold) {
        put_folded(t, cp);
    } else {
        put_final(t, cp);
    }
}

/* --normalize: raw token -> NFC/NFKC -> fold -> batch bytes. */
static void normalize_token(cs_tok *t)
{
    if (t->raw_over) {
        t->tok_len = t->cfg->max_len + 1; /* over-long whatever normalization does */
        return;
    }
    utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    if (t->cfg->normalize == CS_NORM_NFKC)
        opt |= UTF8PROC_COMPAT;
    for (;;) {
        utf8proc_ssize_t n = utf8proc_decompose_custom(t->raw.data, (utf8proc_ssize_t)t->raw.len,
                                                       t->ubuf, (utf8proc_ssize_t)t->ubuf_cap,
                                                       opt, NULL, NULL);
        if (n < 0) { /* raw is valid UTF-8 built here: cannot happen */
            t->tok_len = t->cfg->max_len + 1;
            return;
        }
        if ((size_t)n > t->ubuf_cap) {
            t->ubuf_cap = (size_t)n + 64;
            t->ubuf = cs_xrealloc(t->ubuf, t->ubuf_cap * sizeof *t->ubuf);
            continue;
        }
        n = utf8proc_normalize_utf32(t->ubuf, n, opt);
        t->tok_len = 0;
        t->tok_cps = 0;
        for (utf8proc_ssize_t i = 0; i < n; i++) {
            uint32_t cp = (uint32_t)t->ubuf[i];
            if (t->cfg->fold && cp < 128)
                put_final(t, ascii_fold[cp]);
            else if (t->cfg->fold)
                put_folded(t, cp);
            else
                put_final(t, cp);
        }
        return;
    }
}

static void end_token(cs_tok *t)
{
    t->in_token = 0;
    if (t->cfg->normalize != CS_NORM_NONE)
        normalize_token(t);
    if (t->tok_len > t->cfg->max_len) {
        t->stats.long_dropped++;
        seg_end(t);
        return;
    }
    t->seg_has_pos = 1;
    const uint8_t *p = t->batch.bytes + t->tok_off;
    if (t->tok_cps < t->cfg->min_len || cs_strset_has(t->cfg->stopwords, p, t->tok_len)) {
        t->stats.excluded++;
        emit(t, CS_EV_HOLE, 0, 0);
        return;
    }
    t->stats.tokens++;
    emit(t, CS_EV_TOKEN, t->tok_off, (uint32_t)t->tok_len);
    t->batch.n_bytes = t->tok_off + (uint32_t)t->tok_len;
}

/* A word character arrives. */
static inline void on_word(cs_tok *t, uint32_t cp, unsigned cls)
{
    if (t->pending) {
        uint32_t j = t->pending;
        t->pending = 0;
        if (j == ',' && !((t->last_cls & C_D) && (cls & C_D))) {
            end_token(t); /* a comma joins digits only; it ends nothing else */
        } else {
            append_cp(t, j == 0x2019 ? '\'' : j == 0x2010 ? '-' : j);
        }
    }
    if (!t->in_token)
        begin_token(t);
    append_cp(t, cp);
    t->last_cls = cls;
}

/* Any other character (or a malformed unit, cls 0). */
static inline void on_other(cs_tok *t, uint32_t cp, unsigned cls)
{
    if ((cls & C_J) && t->in_token && !t->pending) {
        t->pending = cp;
        return;
    }
    if (t->pending) {
        uint32_t j = t->pending;
        t->pending = 0;
        end_token(t);
        if (j == '.')
            seg_end(t);
    } else if (t->in_token) {
        end_token(t);
    }
    if ((cls & C_T) || ((cls & C_L) && !t->cfg->join_lines))
        seg_end(t);
}

static inline void on_cp(cs_tok *t, uint32_t cp)
{
    unsigned cls = cp < 65536 ? bmp_cls[cp] : category_bits(cp);
    if (cls & C_W)
        on_word(t, cp, cls);
    else
        on_other(t, cp, cls);
}

static void malformed(cs_tok *t)
{
    t->need = 0;
    t->stats.invalid_utf8++;
    on_other(t, 0, 0);
}

static void mark_nonblank(cs_tok *t)
{
    t->line_nonblank = 1;
    if (!t->in_doc)
        doc_begin(t);
}

/* A line break has been tokenized: line and blank documents may end. */
static void line_end(cs_tok *t)
{
    if (t->cfg->docs == CS_TOK_DOCS_EXTERNAL)
        return;
    if (t->in_doc && (t->cfg->docs == CS_TOK_DOCS_LINE || !t->line_nonblank))
        doc_end(t);
    t->line_nonblank = 0;
}

/* ------------------------------------------------------------------ */
/* the fast path                                                        */

/* Most text is ASCII words and Cyrillic or Latin-1 letters between single
 * spaces. run_fast() takes those through locals, 8 ASCII bytes at a time,
 * and hands anything else (a joiner, punctuation, a line break, a 3- or
 * 4-byte sequence, a letter whose fold is not 2 bytes, a sequence cut by
 * the piece's end, a malformed byte) back to the state machine, which is
 * the definition; the two must give the same events. test_tokenize checks
 * that on random text over an alphabet of hard cases, cut in pieces of
 * every size, with cfg->state_machine_only as the other side. */

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void store_le64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* 0x80 in each byte of y (7-bit bytes) that is >= c, for 1 <= c <= 0x80:
 * y + 0x80 - c stays within its byte and sets bit 7 exactly then. */
static inline uint64_t ge7(uint64_t y, unsigned c)
{
    return (y + ONES * (0x80u - c)) & HIGHS;
}

/* 0x80 in each byte of w that is an ASCII letter or digit (the ASCII word
 * characters); *upper gets 0x80 in each byte that is A-Z. */
static inline uint64_t ascii_word_bytes(uint64_t w, uint64_t *upper)
{
    uint64_t ascii = ~w & HIGHS;
    uint64_t y = w & ~HIGHS;
    uint64_t yl = y | ONES * 0x20; /* A-Z -> a-z; no other byte becomes a letter */
    uint64_t digit = ge7(y, '0') & ~ge7(y, '9' + 1);
    uint64_t letter = ge7(yl, 'a') & ~ge7(yl, 'z' + 1);
    *upper = ge7(y, 'A') & ~ge7(y, 'Z' + 1) & ascii;
    return (digit | letter) & ascii;
}

/* A 2-byte sequence at p[i] that is a word character: its code point and
 * class, else 0. */
static inline int word2(const uint8_t *p, size_t i, size_t n, uint32_t *cp, unsigned *cls)
{
    if (i + 1 >= n || p[i] < 0xC2 || p[i] > 0xDF || (p[i + 1] & 0xC0) != 0x80)
        return 0;
    *cp = ((uint32_t)(p[i] & 0x1F) << 6) | (p[i + 1] & 0x3Fu);
    *cls = bmp_cls[*cp];
    return (*cls & C_W) != 0;
}

/* Runs from p[i] while the state is plain (no UTF-8 sequence or joiner
 * open, the line already non-blank, no --normalize). Returns where the
 * state machine must go on. */
static size_t run_fast(cs_tok *t, const uint8_t *p, size_t i, size_t n)
{
    const int fold = t->cfg->fold;
    for (;;) {
        if (!t->in_token) {
            while (i < n && p[i] == ' ')
                i++; /* a space outside a token changes nothing */
            if (i == n)
                return i;
            uint32_t cp;
            unsigned cls;
            if (p[i] < 0x80 ? !(ascii_cls[p[i]] & C_W) : !word2(p, i, n, &cp, &cls))
                return i;
            begin_token(t);
        }
        /* The open token: its bytes go straight to the batch. A token past
         * tok_cap only counts its length (it will be dropped); the batch has
         * 8 bytes of slack past tok_cap for the 8-byte stores. */
        uint8_t *dst = t->batch.bytes + t->tok_off;
        size_t len = t->tok_len, cps = t->tok_cps;
        const size_t cap = t->tok_cap;
        unsigned last = t->last_cls;
        for (;;) {
            while (i + 8 <= n) {
                uint64_t upper, w = load_le64(p + i);
                uint64_t m = ascii_word_bytes(w, &upper);
                if (len < cap)
                    store_le64(dst + len, fold ? w | (upper >> 2) : w);
                unsigned k = m == HIGHS ? 8 : (unsigned)__builtin_ctzll(~m & HIGHS) >> 3;
                len += k;
                cps += k;
                i += k;
                if (k)
                    last = ascii_cls[p[i - 1]];
                if (k < 8)
                    break;
            }
            while (i < n && p[i] < 0x80 && (ascii_cls[p[i]] & C_W)) {
                if (len < cap)
                    dst[len] = fold ? ascii_fold[p[i]] : p[i];
                len++;
                cps++;
                last = ascii_cls[p[i]];
                i++;
            }
            uint32_t cp;
            unsigned cls;
            if (i < n && p[i] >= 0x80 && word2(p, i, n, &cp, &cls)) {
                uint32_t f = fold ? bmp_fold[cp] : cp;
                if (f >= 0x80 && f < 0x800) { /* folds to 2 bytes, as nearly all do */
                    if (len + 2 <= cap) {
                        dst[len] = (uint8_t)(0xC0 | (f >> 6));
                        dst[len + 1] = (uint8_t)(0x80 | (f & 0x3F));
                    }
                    len += 2;
                    cps++;
                    last = cls;
                    i += 2;
                    continue;
                }
            }
            break;
        }
        t->tok_len = len;
        t->tok_cps = cps;
        t->last_cls = last;
        if (i == n || p[i] != ' ')
            return i;
        end_token(t); /* what a space does to an open token */
        i++;
    }
}

void cs_tok_feed(cs_tok *t, const uint8_t *p, size_t n)
{
    size_t i = 0;
    if (t->cr_pending && n) {
        t->cr_pending = 0;
        if (p[0] == '\n')
            i = 1;
    }
    const int plain = t->cfg->normalize == CS_NORM_NONE && !t->cfg->state_machine_only;
    while (i < n) {
        if (plain && !t->need && !t->pending && t->line_nonblank) {
            i = run_fast(t, p, i, n);
            if (i == n)
                break;
        }
        uint8_t b = p[i];
        if (t->need) {
            if (b < t->lo || b > t->hi) {
                malformed(t); /* the prefix is one unit; b is read again */
                continue;
            }
            t->cp = (t->cp << 6) | (b & 0x3Fu);
            t->lo = 0x80;
            t->hi = 0xBF;
            i++;
            if (--t->need == 0)
                on_cp(t, t->cp);
            continue;
        }
        if (b < 0x80) {
            unsigned cls = ascii_cls[b];
            if (!t->line_nonblank && !(cls & (C_B | C_L)))
                mark_nonblank(t);
            if (cls & C_W) {
                on_word(t, b, cls);
                i++;
                continue;
            }
            i++;
            on_other(t, b, cls);
            if (cls & C_L) {
                line_end(t);
                if (b == '\r') {
                    if (i < n) {
                        if (p[i] == '\n')
                            i++;
                    } else {
                        t->cr_pending = 1;
                    }
                }
            }
            continue;
        }
        if (!t->line_nonblank)
            mark_nonblank(t);
        i++;
        if (b >= 0xC2 && b <= 0xDF) {
            t->need = 1;
            t->cp = b & 0x1Fu;
            t->lo = 0x80;
            t->hi = 0xBF;
        } else if (b >= 0xE0 && b <= 0xEF) {
            t->need = 2;
            t->cp = b & 0x0Fu;
            t->lo = (b == 0xE0) ? 0xA0 : 0x80;
            t->hi = (b == 0xED) ? 0x9F : 0xBF;
        } else if (b >= 0xF0 && b <= 0xF4) {
            t->need = 3;
            t->cp = b & 0x07u;
            t->lo = (b == 0xF0) ? 0x90 : 0x80;
            t->hi = (b == 0xF4) ? 0x8F : 0xBF;
        } else {
            malformed(t); /* 80..C1, F5..FF cannot start a sequence */
        }
    }
    flush(t);
}

/* Ends the text: a partial sequence is malformed, the open token ends. */
static void close_text(cs_tok *t)
{
    if (t->need)
        malformed(t);
    if (t->pending || t->in_token)
        on_other(t, 0, 0);
    t->cr_pending = 0;
}

void cs_tok_doc_begin(cs_tok *t)
{
    doc_begin(t);
}

void cs_tok_doc_end(cs_tok *t)
{
    close_text(t);
    doc_end(t);
    flush(t);
}

void cs_tok_finish(cs_tok *t)
{
    close_text(t);
    if (t->in_doc)
        doc_end(t);
    else
        seg_end(t);
    t->line_nonblank = (t->cfg->docs == CS_TOK_DOCS_EXTERNAL);
    flush(t);
}

int cs_tok_idle(const cs_tok *t)
{
    return !t->in_doc && !t->in_token && !t->pending && !t->need &&
           (t->cfg->docs == CS_TOK_DOCS_EXTERNAL || !t->line_nonblank);
}

/* Python's str.isspace set, so stopword files trim as a reader expects. */
static int is_space_cp(uint32_t cp)
{
    if ((cp >= 9 && cp <= 13) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85)
        return 1;
    if (cp < 0x80)
        return 0;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

int cs_tok_term(const cs_tok_config *cfg, const uint8_t *p, size_t n, cs_buf *out)
{
    /* Decode whole; refuse malformed lines rather than guess. */
    utf8proc_int32_t *cps = cs_xmalloc((n + 1) * sizeof *cps);
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k < 1) {
            free(cps);
            return 0;
        }
        i += (size_t)k;
        cps[m++] = cp;
    }
    size_t a = 0, z = m;
    while (a < z && is_space_cp((uint32_t)cps[a]))
        a++;
    while (z > a && is_space_cp((uint32_t)cps[z - 1]))
        z--;
    if (a == z) {
        free(cps);
        return 0;
    }
    /* Feed the trimmed line through a tokenizer that treats every code
     * point as part of one token: reuse the token builder directly. */
    cs_tok_config c2 = *cfg;
    c2.max_len = (uint32_t)(12 * (z - a) + 64);
    cs_tok *t = cs_tok_new(&c2);
    begin_token(t);
    for (size_t i = a; i < z; i++) {
        uint32_t cp = (uint32_t)cps[i];
        append_cp(t, cp == 0x2019 ? '\'' : cp == 0x2010 ? '-' : cp);
    }
    if (c2.normalize != CS_NORM_NONE)
        normalize_token(t);
    out->len = 0;
    cs_buf_append(out, t->batch.bytes + t->tok_off, t->tok_len);
    cs_tok_free(t);
    free(cps);
    return 1;
}

int cs_term_list_read(const char *path, const cs_tok_config *cfg, const char *what,
                      void (*add)(void *ctx, const uint8_t *p, size_t n), void *ctx,
                      cs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cs_error_set(err, CS_ERR_USAGE, path, "%s: %s", what, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    cs_buf term = {0};
    for (int first = 1; (len = getline(&line, &cap, f)) > 0; first = 0) {
        const char *p = line;
        if (first && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) { /* a BOM opens the file */
            p += 3;
            len -= 3;
        }
        if (cs_tok_term(cfg, (const uint8_t *)p, (size_t)len, &term))
            add(ctx, term.data, term.len);
    }
    int read_error = ferror(f);
    free(line);
    cs_buf_free(&term);
    fclose(f);
    if (read_error) {
        cs_error_set(err, CS_ERR_USAGE, path, "%s: cannot read the file", what);
        return -1;
    }
    return 0;
}

static void add_to_set(void *set, const uint8_t *p, size_t n)
{
    cs_strset_add(set, p, n);
}

cs_strset *cs_stopwords_load(const char *path, const cs_tok_config *cfg, cs_error *err)
{
    cs_strset *set = cs_strset_new();
    if (cs_term_list_read(path, cfg, "--stopwords", add_to_set, set, err) != 0) {
        cs_strset_free(set);
        return NULL;
    }
    return set;
}
