/*
 * corpusgen.c - seeded generator of news-like corpora, as zstd shards of plain text
 * and of JSONL, for corpusstat's tests and benchmarks (the role programs/datagen.c
 * plays for zstd).
 *
 *   corpusgen [-s SEED] [-S SIZE] [-n SHARDS] [-f text|jsonl|both] [-l LEVEL]
 *             [-c CYRILLIC%] [-T THREADS] [-q] [-o OUTDIR]
 *
 * writes OUTDIR/text/gen-NNN.txt.zst (articles separated by one blank line, one
 * paragraph per line) and OUTDIR/jsonl/gen-NNN.jsonl.zst (one article per line,
 * {"id": N, "date": "YYYY-MM-DD", "source": "...", "text": "..."}, paragraphs joined by
 * "\n"). Both hold the same articles with the same text, so corpusstat gives the same
 * tables for text/ with --doc-sep blank and for jsonl/. datasets/gen/README.md has the
 * model in more detail and measured sizes.
 *
 * DESIGN
 * Article k (a corpus-wide number, its JSONL id) is generated from its own random
 * stream, seeded by (SEED, k) alone, so its text depends on -s and -c only. Shard i
 * holds articles i, i+n, i+2n, ... until it has its share of SIZE bytes of plain text;
 * shards share nothing, so any number of threads may write them in any order and the
 * bytes never depend on the thread count.
 * Words: per language, a list of common words with their real frequency, then
 * pseudo-words spelled from syllables. A pseudo-word is a rank drawn from an unbounded
 * rank space: Zipf with exponent 1 over the first 65,536 ranks, a Pareto tail beyond
 * (P(rank > r) ~ r^-0.8), so distinct words keep coming as the corpus grows, tending
 * to N^(1/1.8) = N^0.56 (Heaps' law; measured with corpusstat: 366k types at 16 MiB,
 * 2.29M at 256 MiB, 5.46M at 1 GiB, local exponent 0.68 falling to 0.63, as endings,
 * compounds and numbers add their own). rank -> word is a hash, so it needs no table and a
 * new rank is a new word; the head ranks are spelled once at start-up, tail words on
 * the fly. The vocabulary and the name pool do not depend on the seed: two seeds are
 * two samples of one language.
 * Every sample uses integer arithmetic or IEEE + - * / sqrt (lognormal lengths come from
 * quantile tables computed offline), so the text is the same on every platform; the
 * compressed bytes also depend on the libzstd version.
 * Memory: a read-only model of about 5 MB shared by all threads; each thread holds one
 * article buffer, one input block and one zstd context per format. Nothing is allocated
 * per word.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ------------------------------------------------------------------ */
/* constants                                                            */

/* Probabilities are compared with 32 random bits: CG_P(0.05) is a 5% chance. The
 * conversion is done by the compiler, so it is the same on every platform. */
#define CG_P(x) ((uint32_t)((x) * 4294967296.0))

/* Pseudo-word ranks 1..CG_HEAD_RANKS follow Zipf's law with exponent 1, and are spelled
 * once at start-up. Large corpora show such a head up to rank 10^4..10^5 and a steeper
 * tail beyond (Ferrer i Cancho and Sole 2001, "two regimes"); 2^16 keeps the spelled
 * words and their index at ~1 MB per language, mostly in L2/L3. */
#define CG_HEAD_RANKS 65536u
/* The common-word lists take the first ~150 ranks of each language, so pseudo-word rank r
 * is drawn as word rank r + 150: weight 1/(r + 150). Without the offset the first
 * pseudo-word would be more frequent than "of". */
#define CG_HEAD_OFFSET 150u
/* Tail: P(rank > r) = (CG_HEAD_RANKS / r)^0.8, i.e. frequency ~ rank^-1.8. The number of
 * distinct words in N draws then grows as N^(1/1.8) = N^0.56, inside the 0.4..0.6 of
 * Heaps' law measured on news text. Drawn as u^(-1/0.8) = 1 / (u * u^(1/4)), two sqrt. */
#define CG_TAIL_ALPHA 0.8
/* Ranks are clamped here: P(rank > 2^48) = 2^(-32*0.8), about one draw in 50 million,
 * and word length stops growing at 2^32 anyway. */
#define CG_RANK_MAX (UINT64_C(1) << 48)
/* Pseudo-words stop growing syllables past this many bytes, so a word with an ending, a
 * possessive or in a compound stays under corpusstat's default --max-len of 64 bytes. */
#define CG_WORD_SOFT_MAX 30u
#define CG_WORD_BUF 64u

/* Name pools. People 4096 and places 1024, cast drawn by Zipf (exponent 1): the first
 * person (the president) is in about a third of the articles and the first ten in most,
 * as in a national paper, and even the last entry is drawn ~20 times in 1 GiB. */
#define CG_PEOPLE 4096u
#define CG_PLACES 1024u
#define CG_CAST_PEOPLE_MAX 6u
#define CG_CAST_PLACES_MAX 3u

/* 50 articles a day from 16 Dec 1991 (Kazakhstan's independence): a national wire's
 * output, so 1 GiB (about 195,000 articles) spans about 11 years. */
#define CG_ARTICLES_PER_DAY 50u
#define CG_EPOCH_Y 1991
#define CG_EPOCH_M 12
#define CG_EPOCH_D 16
/* Dates stay four-digit years: day numbers wrap after 8000 years (146 million articles,
 * far beyond any corpus this writes). */
#define CG_DAYS_WRAP (8000u * 365u)

/* Uncompressed bytes handed to zstd at a time: 1 MiB amortises the call and the write,
 * and keeps two formats x two threads well under 10 MB. */
#define CG_BLOCK_BYTES (1u << 20)
/* Shard names have three digits. */
#define CG_SHARDS_MAX 1000u
/* zstd level 3 is zstd's own default; ratio ~2.1 on this text (pseudo-words compress
 * worse than real ones: datasets/make-big.sh's Brown-based corpus gets ~2.9). */
#define CG_LEVEL_DEFAULT 3
/* 15% Cyrillic articles by default: a minority, as in an English-language archive of a
 * bilingual country, large enough that 1 GiB holds ~20 million Cyrillic tokens. Of
 * those articles 60% are Russian and 40% Kazakh. */
#define CG_CYRILLIC_PCT_DEFAULT 15u
#define CG_RUSSIAN_SHARE CG_P(0.60)

/* Salts that separate the hash streams (arbitrary odd constants). */
#define CG_SALT_ARTICLE UINT64_C(0x9E3779B97F4A7C15)
#define CG_SALT_PEOPLE UINT64_C(0xD1B54A32D192ED03)
#define CG_SALT_PLACES UINT64_C(0x8CB92BA72F3D8DD7)

/* ------------------------------------------------------------------ */
/* random numbers and hashing                                           */

/* splitmix64 (Steele, Lea, Flood 2014): one add and a 64-bit finaliser per number,
 * passes BigCrush, and a state is one word, so seeding a stream per article is free. */
typedef struct cg_rng {
    uint64_t s;
} cg_rng;

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t rng_next(cg_rng *r)
{
    r->s += UINT64_C(0x9E3779B97F4A7C15);
    return mix64(r->s);
}

/* Uniform in [0, n), n < 2^32, by multiply-shift (Lemire): bias < n / 2^32. */
static inline uint32_t rng_below(cg_rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* True with probability p / 2^32 (p from CG_P). */
static inline int rng_chance(cg_rng *r, uint32_t p)
{
    return (uint32_t)rng_next(r) < p;
}

/* Uniform in (0, 1]: never 0, so it can be inverted. */
static inline double rng_unit_open0(cg_rng *r)
{
    return (double)((rng_next(r) >> 11) + 1) * 0x1.0p-53;
}

/* ------------------------------------------------------------------ */
/* byte buffers                                                         */

typedef struct cg_buf {
    char *p; /* owned */
    size_t n;
    size_t cap;
} cg_buf;

static void die_oom(void)
{
    fputs("corpusgen: out of memory\n", stderr);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom();
    return p;
}

static void buf_grow(cg_buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->n < extra) {
        if (cap > SIZE_MAX / 2)
            die_oom();
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        die_oom();
    b->p = p;
    b->cap = cap;
}

/* Most pieces are a few bytes long: copied inline with two overlapping loads, since a
 * call to memcpy for each was a tenth of the run time. */
static inline void buf_put(cg_buf *b, const void *s, size_t n)
{
    if (b->cap - b->n < n)
        buf_grow(b, n);
    char *d = b->p + b->n;
    const char *c = s;
    if (n >= 8 && n <= 16) {
        uint64_t x, y;
        memcpy(&x, c, 8);
        memcpy(&y, c + n - 8, 8);
        memcpy(d, &x, 8);
        memcpy(d + n - 8, &y, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t x, y;
        memcpy(&x, c, 4);
        memcpy(&y, c + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = c[i];
    } else {
        memcpy(d, c, n);
    }
    b->n += n;
}

static inline void buf_putc(cg_buf *b, char c)
{
    if (b->cap == b->n)
        buf_grow(b, 1);
    b->p[b->n++] = c;
}

static inline void buf_puts(cg_buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

#define BUF_LIT(b, lit) buf_put((b), (lit), sizeof(lit) - 1)

static void buf_putu(cg_buf *b, uint64_t v)
{
    char t[20];
    int i = 20;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_put(b, t + i, (size_t)(20 - i));
}

/* v with a separator every three digits: 1,000 or 1 000 (sep is any UTF-8 string). */
static void buf_putu_grouped(cg_buf *b, uint64_t v, const char *sep)
{
    char t[20];
    int i = 20;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    int n = 20 - i, head = n % 3 ? n % 3 : 3;
    buf_put(b, t + i, (size_t)head);
    for (int j = i + head; j < 20; j += 3) {
        buf_puts(b, sep);
        buf_put(b, t + j, 3);
    }
}

static void buf_free(cg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* JSON string body (RFC 8259): quote, backslash and every control character escaped,
 * the common ones in their short form; all other bytes, UTF-8 included, as they are. */
static void buf_put_json(cg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': BUF_LIT(b, "\\\""); break;
        case '\\': BUF_LIT(b, "\\\\"); break;
        case '\n': BUF_LIT(b, "\\n"); break;
        case '\t': BUF_LIT(b, "\\t"); break;
        case '\r': BUF_LIT(b, "\\r"); break;
        case '\b': BUF_LIT(b, "\\b"); break;
        case '\f': BUF_LIT(b, "\\f"); break;
        default: {
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            buf_put(b, u, 6);
        }
        }
    }
    buf_put(b, s + run, n - run);
}

/* ------------------------------------------------------------------ */
/* letters                                                              */

/* Upper case of the Latin and Cyrillic letters this generator writes (Russian, ё, and
 * Kazakh's ә ғ қ ң ө ұ ү һ і); other code points are returned as they are. */
static uint32_t upper_cp(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if (c >= 0x430 && c <= 0x44F)
        return c - 0x20;
    if (c >= 0x450 && c <= 0x45F)
        return c - 0x50;
    if (((c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x4FF)) && (c & 1))
        return c - 1;
    return c;
}

/* Upper-cases the letter at p[0] in place (same UTF-8 length for every case pair above);
 * returns its length in bytes, 0 at the end. */
static size_t upper_at(char *p, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c0 = (unsigned char)p[0];
    if (c0 < 0x80) {
        p[0] = (char)upper_cp(c0);
        return 1;
    }
    if ((c0 & 0xE0) == 0xC0 && n >= 2) {
        uint32_t c = ((uint32_t)(c0 & 0x1F) << 6) | ((unsigned char)p[1] & 0x3F);
        uint32_t u = upper_cp(c);
        p[0] = (char)(0xC0 | (u >> 6));
        p[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    size_t k = (c0 & 0xF0) == 0xE0 ? 3 : (c0 & 0xF8) == 0xF0 ? 4 : 1;
    return k < n ? k : n;
}

static void upper_all(char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = upper_at(p + i, n - i);
        i += k ? k : 1;
    }
}

/* ------------------------------------------------------------------ */
/* weighted choices                                                     */

/* Walker's alias method (Vose's construction): O(1) draws from any discrete law, one
 * random number each (index from the high half, coin from the low half). */
typedef struct cg_alias_slot {
    uint32_t thr;    /* keep this slot's index when the coin is <= thr */
    uint32_t alias;  /* else take this one */
} cg_alias_slot;

typedef struct cg_alias {
    uint32_t n;
    cg_alias_slot *slot; /* owned; one cache line holds both halves of a draw */
} cg_alias;

static void alias_build(cg_alias *a, const double *w, uint32_t n)
{
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += w[i];
    double *p = xmalloc(n * sizeof *p);
    uint32_t *small = xmalloc(n * sizeof *small), *large = xmalloc(n * sizeof *large);
    uint32_t ns = 0, nl = 0;
    a->n = n;
    a->slot = xmalloc(n * sizeof *a->slot);
    for (uint32_t i = 0; i < n; i++) {
        p[i] = w[i] * n / sum;
        if (p[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns && nl) {
        uint32_t s = small[--ns], l = large[nl - 1];
        a->slot[s].thr = p[s] >= 1.0 ? UINT32_MAX : (uint32_t)(p[s] * 4294967296.0);
        a->slot[s].alias = l;
        p[l] -= 1.0 - p[s];
        if (p[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* What is left is 1 up to rounding: always itself. */
    while (nl) {
        uint32_t l = large[--nl];
        a->slot[l].thr = UINT32_MAX;
        a->slot[l].alias = l;
    }
    while (ns) {
        uint32_t s = small[--ns];
        a->slot[s].thr = UINT32_MAX;
        a->slot[s].alias = s;
    }
    free(p);
    free(small);
    free(large);
}

static inline uint32_t alias_draw(const cg_alias *a, cg_rng *r)
{
    uint64_t x = rng_next(r);
    uint32_t i = (uint32_t)(((x >> 32) * a->n) >> 32);
    return (uint32_t)x <= a->slot[i].thr ? i : a->slot[i].alias;
}

static void alias_free(cg_alias *a)
{
    free(a->slot);
    a->slot = NULL;
}

/* A small weighted list of strings, expanded to 256 slots so one hash byte picks one. */
typedef struct cg_part {
    const char *s;
    unsigned w;
} cg_part;

typedef struct cg_pick {
    const char *s[256];
    uint8_t n[256];
} cg_pick;

static void pick_build(cg_pick *t, const cg_part *parts, size_t n_parts)
{
    unsigned total = 0, cum = 0;
    size_t slot = 0;
    for (size_t i = 0; i < n_parts; i++)
        total += parts[i].w;
    for (size_t i = 0; i < n_parts; i++) {
        cum += parts[i].w;
        size_t end = (size_t)cum * 256 / total;
        for (; slot < end; slot++) {
            t->s[slot] = parts[i].s;
            t->n[slot] = (uint8_t)strlen(parts[i].s);
        }
    }
}

/* A string with its length, for lists drawn per word. */
typedef struct cg_str {
    const char *s;
    uint32_t n;
} cg_str;

/* ------------------------------------------------------------------ */
/* length laws (quantile tables, computed offline)                      */

/* Words per article: lognormal, median 620, sigma 0.42, clipped to 300..1500; quantiles
 * at u = i/32 (Python: 620*exp(0.42*NormalDist().inv_cdf(i/32))), mean ~674 words. */
static const uint16_t cg_article_q[33] = {
    300, 300, 326, 356, 382, 406, 427, 447, 467, 486, 505, 524, 542, 561, 580, 600, 620,
    641, 662, 685, 709, 734, 761, 791, 823, 859, 900, 948, 1005, 1078, 1181, 1356, 1500,
};
/* Words per sentence: lognormal, median 18, sigma 0.42, clipped to 5..40; mean ~19.4,
 * the mean sentence length of newswire. */
static const uint16_t cg_sentence_q[33] = {
    5, 8, 9, 10, 11, 12, 12, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18,
    19, 19, 20, 21, 21, 22, 23, 24, 25, 26, 28, 29, 31, 34, 39, 40,
};

/* Piecewise-linear inverse CDF through the table. */
static unsigned quantile_draw(const uint16_t q[33], cg_rng *r)
{
    uint32_t x = (uint32_t)rng_next(r);
    uint32_t i = x >> 27, frac = (x >> 11) & 0xFFFF;
    return q[i] + (unsigned)(((uint32_t)(q[i + 1] - q[i]) * frac + 0x8000) >> 16);
}

/* Sentences per paragraph, 2..8, short paragraphs most common, as in wire copy. */
static unsigned paragraph_draw(cg_rng *r)
{
    static const uint8_t w[7] = { 20, 28, 22, 14, 8, 5, 3 }; /* for 2..8, sums to 100 */
    uint32_t x = rng_below(r, 100);
    unsigned k = 0;
    while (x >= w[k]) {
        x -= w[k];
        k++;
    }
    return 2 + k;
}

/* ------------------------------------------------------------------ */
/* languages: data                                                      */

/* Common words with their frequency per million words (rounded, from general news
 * frequency lists). They take about half the tokens, as function words and the most
 * frequent nouns and verbs do in real news. */
typedef struct cg_wordfreq {
    const char *s;
    unsigned per_million;
} cg_wordfreq;

static const cg_wordfreq cg_en_common[] = {
    { "the", 56000 }, { "of", 25000 }, { "to", 24500 }, { "and", 23000 }, { "a", 21500 },
    { "in", 19500 }, { "that", 10000 }, { "for", 8800 }, { "is", 8200 }, { "on", 7200 },
    { "said", 6500 }, { "with", 6300 }, { "he", 6000 }, { "it", 5800 }, { "was", 6100 },
    { "as", 5200 }, { "at", 4900 }, { "by", 4800 }, { "his", 4300 }, { "from", 4400 },
    { "be", 4100 }, { "has", 3900 }, { "have", 3800 }, { "are", 3900 }, { "an", 3600 },
    { "not", 3200 }, { "but", 3400 }, { "this", 3300 }, { "will", 3200 }, { "they", 3100 },
    { "who", 2900 }, { "I", 2500 }, { "were", 2700 }, { "had", 2600 }, { "which", 2500 },
    { "their", 2500 }, { "been", 2300 }, { "or", 2200 }, { "its", 2300 }, { "would", 2100 },
    { "after", 1800 }, { "also", 1800 }, { "more", 1700 }, { "one", 1700 }, { "about", 1600 },
    { "we", 1500 }, { "she", 1400 }, { "new", 1500 }, { "there", 1400 }, { "year", 1300 },
    { "all", 1300 }, { "up", 1300 }, { "last", 1200 }, { "her", 1200 }, { "out", 1200 },
    { "when", 1200 }, { "can", 1100 }, { "two", 1100 }, { "than", 1100 }, { "other", 1000 },
    { "into", 1000 }, { "government", 950 }, { "president", 900 }, { "people", 900 },
    { "over", 900 }, { "some", 850 }, { "so", 850 }, { "if", 850 }, { "could", 800 },
    { "what", 800 }, { "percent", 750 }, { "no", 750 }, { "says", 700 }, { "first", 700 },
    { "only", 700 }, { "state", 700 }, { "time", 650 }, { "years", 650 }, { "million", 650 },
    { "minister", 600 }, { "country", 600 }, { "do", 600 }, { "them", 600 }, { "him", 550 },
    { "because", 550 }, { "under", 500 }, { "any", 450 }, { "before", 500 }, { "while", 500 },
    { "between", 500 }, { "against", 450 }, { "during", 450 }, { "since", 450 },
    { "these", 500 }, { "those", 450 }, { "most", 450 }, { "may", 500 }, { "should", 450 },
    { "now", 550 }, { "week", 450 }, { "officials", 450 }, { "police", 400 }, { "party", 450 },
    { "oil", 400 }, { "city", 400 }, { "region", 380 }, { "republic", 350 },
    { "parliament", 350 }, { "court", 320 }, { "company", 400 }, { "bank", 350 },
    { "market", 330 }, { "official", 300 }, { "former", 380 }, { "national", 350 },
    { "economic", 300 }, { "told", 450 }, { "according", 350 }, { "world", 400 },
    { "foreign", 330 }, { "talks", 250 }, { "election", 300 }, { "opposition", 250 },
    { "reporters", 150 }, { "deputy", 200 }, { "governor", 180 }, { "chairman", 200 },
    { "mayor", 120 }, { "prime", 200 }, { "billion", 350 }, { "three", 500 }, { "four", 350 },
    { "five", 300 }, { "how", 400 }, { "just", 400 }, { "like", 400 }, { "many", 450 },
    { "such", 350 }, { "then", 350 }, { "where", 350 }, { "well", 300 }, { "back", 300 },
    { "even", 300 }, { "our", 350 }, { "us", 250 }, { "my", 300 }, { "your", 250 },
    { "made", 350 }, { "make", 300 }, { "did", 350 }, { "does", 250 }, { "being", 300 },
    { "get", 300 }, { "day", 300 }, { "home", 250 }, { "law", 250 }, { "money", 250 },
    { "power", 250 }, { "security", 250 }, { "international", 300 }, { "military", 250 },
    { "trade", 200 }, { "tax", 200 }, { "prices", 200 }, { "gas", 180 }, { "don't", 200 },
    { "it's", 250 }, { "didn't", 120 }, { "can't", 80 }, { "won't", 70 }, { "we're", 60 },
};

static const cg_wordfreq cg_ru_common[] = {
    { "и", 35800 }, { "в", 31400 }, { "не", 18500 }, { "на", 15800 }, { "что", 11000 },
    { "с", 11000 }, { "по", 7000 }, { "это", 5000 }, { "как", 4000 }, { "а", 4000 },
    { "он", 4000 }, { "к", 3500 }, { "из", 3500 }, { "за", 3500 }, { "от", 3000 },
    { "для", 3000 }, { "но", 3000 }, { "о", 3400 }, { "года", 3000 }, { "году", 2000 },
    { "у", 2500 }, { "его", 2500 }, { "до", 1500 }, { "также", 1500 }, { "был", 1500 },
    { "все", 1500 }, { "при", 1200 }, { "их", 1200 }, { "же", 1200 }, { "была", 1000 },
    { "было", 1000 }, { "уже", 1000 }, { "бы", 1000 }, { "только", 1000 }, { "они", 1000 },
    { "после", 900 }, { "президент", 800 }, { "республики", 800 }, { "более", 800 },
    { "так", 800 }, { "том", 800 }, { "этом", 800 }, { "которые", 800 }, { "который", 800 },
    { "она", 800 }, { "мы", 800 }, { "заявил", 700 }, { "лет", 700 }, { "правительства", 600 },
    { "может", 600 }, { "области", 600 }, { "чтобы", 600 }, { "когда", 600 }, { "еще", 600 },
    { "министр", 500 }, { "сообщил", 500 }, { "однако", 500 }, { "тенге", 500 },
    { "страны", 500 }, { "если", 500 }, { "ее", 500 }, { "млн", 400 }, { "процентов", 400 },
    { "которая", 400 }, { "между", 400 }, { "во", 400 }, { "млрд", 300 }, { "со", 300 },
    { "об", 300 }, { "где", 300 }, { "Казахстана", 600 }, { "нефти", 250 }, { "выборы", 200 },
    { "парламента", 250 }, { "суд", 200 }, { "акимата", 150 }, { "оппозиции", 150 },
    { "ещё", 100 }, { "всё", 100 },
};

static const cg_wordfreq cg_kk_common[] = {
    { "және", 8000 }, { "мен", 8000 }, { "бұл", 6000 }, { "үшін", 5000 }, { "деп", 5000 },
    { "бір", 4000 }, { "бойынша", 3000 }, { "жыл", 3000 }, { "жылы", 3000 }, { "да", 3000 },
    { "де", 3000 }, { "ол", 3000 }, { "осы", 2500 }, { "бар", 2000 }, { "болды", 2000 },
    { "деді", 1800 }, { "екі", 1500 }, { "сол", 1500 }, { "қазақ", 1500 }, { "болып", 1500 },
    { "еді", 1500 }, { "туралы", 1500 }, { "өз", 1500 }, { "бірақ", 1000 }, { "ел", 1000 },
    { "президенті", 1000 }, { "арқылы", 1000 }, { "халық", 900 }, { "көп", 900 },
    { "кейін", 900 }, { "жоқ", 800 }, { "елдің", 800 }, { "мемлекет", 800 }, { "облысы", 700 },
    { "тағы", 800 }, { "енді", 800 }, { "ретінде", 800 }, { "барлық", 800 }, { "ғана", 800 },
    { "айтты", 800 }, { "жаңа", 800 }, { "үкімет", 700 }, { "қазір", 700 }, { "болса", 700 },
    { "дейін", 700 }, { "мың", 700 }, { "елі", 600 }, { "сөз", 600 }, { "қала", 600 },
    { "тілі", 600 }, { "миллион", 500 }, { "әкім", 500 }, { "өте", 500 }, { "аудан", 500 },
    { "облыс", 800 }, { "пайыз", 400 }, { "әр", 400 }, { "әлем", 300 }, { "бағдарлама", 300 },
    { "Қазақстан", 700 }, { "Қазақстанның", 400 }, { "теңге", 400 },
};

/* Syllables: onset + nucleus + coda, weighted so that the letter mix looks like the
 * language at a glance. Weights are relative within each list. */
static const cg_part cg_en_onset[] = {
    { "", 6 }, { "b", 4 }, { "c", 4 }, { "d", 4 }, { "f", 3 }, { "g", 3 }, { "h", 3 },
    { "j", 1 }, { "k", 2 }, { "l", 4 }, { "m", 4 }, { "n", 4 }, { "p", 4 }, { "r", 4 },
    { "s", 5 }, { "t", 5 }, { "v", 2 }, { "w", 3 }, { "z", 1 }, { "br", 1 }, { "cr", 1 },
    { "dr", 1 }, { "fr", 1 }, { "gr", 1 }, { "pr", 2 }, { "tr", 2 }, { "bl", 1 }, { "cl", 1 },
    { "fl", 1 }, { "gl", 1 }, { "pl", 1 }, { "sl", 1 }, { "st", 2 }, { "sp", 1 }, { "sk", 1 },
    { "sh", 2 }, { "ch", 2 }, { "th", 2 }, { "wh", 1 }, { "qu", 1 }, { "sc", 1 }, { "str", 1 },
    { "sw", 1 },
};
static const cg_part cg_en_nucleus[] = {
    { "a", 8 }, { "e", 9 }, { "i", 7 }, { "o", 7 }, { "u", 4 }, { "ea", 2 }, { "ai", 1 },
    { "ou", 2 }, { "io", 1 }, { "ee", 1 }, { "oo", 1 }, { "ie", 1 }, { "y", 1 }, { "au", 1 },
    { "oa", 1 },
};
static const cg_part cg_en_coda[] = {
    { "", 14 }, { "n", 5 }, { "r", 5 }, { "s", 4 }, { "t", 4 }, { "l", 4 }, { "m", 2 },
    { "d", 2 }, { "nd", 2 }, { "nt", 2 }, { "st", 1 }, { "rt", 1 }, { "ck", 1 }, { "ng", 2 },
    { "ss", 1 }, { "x", 1 }, { "rd", 1 }, { "ct", 1 }, { "th", 1 }, { "sh", 1 }, { "ll", 1 },
    { "rn", 1 },
};
/* English inflects little: a plural or a verb ending on one word in six. */
static const cg_part cg_en_ending[] = {
    { "", 84 }, { "s", 9 }, { "ed", 3 }, { "ing", 3 }, { "er", 1 },
};

static const cg_part cg_ru_onset[] = {
    { "", 5 }, { "б", 3 }, { "в", 4 }, { "г", 3 }, { "д", 4 }, { "ж", 1 }, { "з", 2 },
    { "к", 5 }, { "л", 4 }, { "м", 4 }, { "н", 4 }, { "п", 4 }, { "р", 4 }, { "с", 5 },
    { "т", 5 }, { "ф", 1 }, { "х", 1 }, { "ц", 1 }, { "ч", 2 }, { "ш", 1 }, { "щ", 1 },
    { "бр", 1 }, { "вр", 1 }, { "гр", 1 }, { "др", 1 }, { "кр", 1 }, { "пр", 3 }, { "тр", 1 },
    { "ст", 2 }, { "сп", 1 }, { "ск", 1 }, { "зв", 1 }, { "пл", 1 }, { "сл", 1 }, { "кл", 1 },
    { "тв", 1 },
};
static const cg_part cg_ru_nucleus[] = {
    { "а", 8 }, { "о", 9 }, { "е", 7 }, { "и", 6 }, { "у", 3 }, { "ы", 2 }, { "я", 2 },
    { "ю", 1 }, { "ё", 1 }, { "э", 1 },
};
static const cg_part cg_ru_coda[] = {
    { "", 14 }, { "н", 3 }, { "р", 3 }, { "с", 2 }, { "т", 2 }, { "л", 2 }, { "м", 1 },
    { "в", 2 }, { "й", 2 }, { "к", 2 }, { "ст", 1 }, { "нь", 1 }, { "ль", 1 }, { "ть", 1 },
    { "рь", 1 }, { "ш", 1 },
};
/* Russian inflects for case, number and gender: most words carry an ending. */
static const cg_part cg_ru_ending[] = {
    { "", 30 }, { "а", 8 }, { "у", 6 }, { "ом", 4 }, { "е", 6 }, { "ы", 4 }, { "ов", 4 },
    { "ой", 5 }, { "ая", 3 }, { "ого", 4 }, { "ие", 2 }, { "ий", 3 }, { "ых", 3 },
    { "ами", 2 }, { "ать", 2 }, { "ить", 2 }, { "ет", 2 }, { "ют", 1 }, { "ость", 2 },
    { "ский", 2 },
};

static const cg_part cg_kk_onset[] = {
    { "", 6 }, { "б", 4 }, { "ж", 3 }, { "қ", 4 }, { "к", 3 }, { "т", 5 }, { "с", 4 },
    { "м", 3 }, { "н", 2 }, { "л", 2 }, { "р", 1 }, { "ш", 3 }, { "д", 3 }, { "ғ", 1 },
    { "г", 1 }, { "з", 1 }, { "й", 1 }, { "п", 1 }, { "һ", 1 },
};
/* Kazakh vowel harmony: a word takes back or front vowels (and endings) throughout. */
static const cg_part cg_kk_nucleus_back[] = {
    { "а", 9 }, { "о", 3 }, { "ұ", 3 }, { "ы", 5 }, { "у", 1 }, { "и", 1 },
};
static const cg_part cg_kk_nucleus_front[] = {
    { "ә", 3 }, { "е", 7 }, { "і", 5 }, { "ө", 3 }, { "ү", 3 }, { "у", 1 }, { "и", 1 },
};
static const cg_part cg_kk_coda[] = {
    { "", 12 }, { "н", 3 }, { "ң", 2 }, { "қ", 2 }, { "р", 3 }, { "л", 3 }, { "с", 2 },
    { "т", 2 }, { "й", 2 }, { "м", 2 }, { "з", 1 }, { "ш", 1 }, { "ғ", 1 }, { "к", 1 },
    { "п", 1 },
};
static const cg_part cg_kk_ending_back[] = {
    { "", 30 }, { "дың", 3 }, { "ның", 3 }, { "ға", 4 }, { "қа", 2 }, { "да", 4 }, { "та", 2 },
    { "дан", 3 }, { "нан", 2 }, { "мен", 3 }, { "лар", 4 }, { "дар", 3 }, { "ды", 2 },
    { "ны", 2 }, { "лық", 2 },
};
static const cg_part cg_kk_ending_front[] = {
    { "", 30 }, { "дің", 3 }, { "нің", 3 }, { "ге", 4 }, { "ке", 2 }, { "де", 4 }, { "те", 2 },
    { "ден", 3 }, { "нен", 2 }, { "мен", 3 }, { "лер", 4 }, { "дер", 3 }, { "ді", 2 },
    { "ні", 2 }, { "лік", 2 },
};

/* Words for compounds (ex-governor, anti-X, state-owned) and abbreviations; weights
 * are relative. */
static const cg_part cg_en_prefix[] = {
    { "anti", 2 }, { "non", 2 }, { "pro", 1 }, { "post", 2 }, { "pre", 1 }, { "pan", 1 },
    { "self", 1 }, { "mid", 1 }, { "cross", 1 }, { "co", 1 }, { "semi", 1 },
};
static const cg_part cg_en_office_prefix[] = {
    { "ex", 5 }, { "vice", 3 }, { "co", 1 },
};
static const cg_part cg_en_modifier[] = {
    { "state", 3 }, { "oil", 2 }, { "gas", 1 }, { "government", 2 }, { "foreign", 1 },
    { "Moscow", 1 }, { "Almaty", 1 }, { "long", 1 }, { "high", 1 }, { "well", 1 },
};
static const cg_part cg_en_participle[] = {
    { "owned", 3 }, { "run", 2 }, { "rich", 1 }, { "based", 2 }, { "led", 2 }, { "term", 1 },
    { "level", 1 }, { "backed", 1 },
};
static const cg_part cg_ru_prefix[] = {
    { "северо", 1 }, { "юго", 1 }, { "военно", 1 }, { "социально", 1 }, { "научно", 1 },
    { "нефте", 1 }, { "медико", 1 }, { "торгово", 1 },
};
static const cg_part cg_ru_office_prefix[] = {
    { "экс", 5 }, { "вице", 3 },
};
static const cg_part cg_kk_prefix[] = {
    { "ауыл", 1 }, { "ғылыми", 1 }, { "қоғамдық", 1 }, { "әлеуметтік", 1 },
};
static const cg_part cg_kk_office_prefix[] = {
    { "экс", 3 }, { "вице", 2 },
};
static const cg_part cg_en_office[] = {
    { "governor", 4 }, { "president", 3 }, { "minister", 4 }, { "premier", 2 },
    { "mayor", 2 }, { "chairman", 2 }, { "speaker", 1 },
};
static const cg_part cg_ru_office[] = {
    { "премьер", 4 }, { "министр", 4 }, { "губернатор", 2 }, { "президент", 3 },
    { "аким", 2 }, { "спикер", 1 },
};
static const cg_part cg_kk_office[] = {
    { "министр", 3 }, { "әкім", 3 }, { "премьер", 2 }, { "президент", 2 },
};
static const cg_part cg_en_abbrev[] = {
    { "U.S.", 30 }, { "U.N.", 10 }, { "E.U.", 6 }, { "U.K.", 4 }, { "U.S.S.R.", 3 },
    { "OSCE", 5 }, { "NATO", 4 }, { "IMF", 4 }, { "CIS", 6 }, { "KNB", 2 }, { "OPEC", 3 },
    { "Ltd.", 1 }, { "Inc.", 1 }, { "i.e.", 1 }, { "e.g.", 1 }, { "a.m.", 1 }, { "p.m.", 1 },
};
static const cg_part cg_ru_abbrev[] = {
    { "США", 20 }, { "ООН", 8 }, { "СНГ", 8 }, { "РК", 10 }, { "ЕС", 4 }, { "ОБСЕ", 4 },
    { "НАТО", 3 }, { "МВФ", 3 }, { "КНБ", 3 }, { "т.е.", 1 }, { "г.", 3 }, { "АО", 3 },
};
static const cg_part cg_kk_abbrev[] = {
    { "ҚР", 10 }, { "АҚШ", 10 }, { "БҰҰ", 5 }, { "ТМД", 5 }, { "ЕО", 2 }, { "т.б.", 1 },
    { "ЕҚЫҰ", 2 },
};

/* Outlets: the JSONL "source" and the dateline's agency. One has a quote in its name,
 * so the JSON writer's escaping of metadata is exercised too. */
static const char *const cg_en_sources[] = {
    "Reuters", "Associated Press", "Agence France-Presse", "Interfax", "Kazakhstan Today",
    "Almaty Herald", "Caravan", "Panorama", "Central Asia Monitor", "Radio \"Azattyq\"",
};
static const char *const cg_ru_sources[] = {
    "Интерфакс-Казахстан", "Казахстанская правда", "КазТАГ", "Время", "Литер", "Караван",
    "Хабар",
};
static const char *const cg_kk_sources[] = {
    "ҚазАқпарат", "Егемен Қазақстан", "Ана тілі", "Жас Алаш",
};

static const char *const cg_en_months[12] = { "Jan", "Feb", "March", "April", "May", "June",
                                              "July", "Aug", "Sept", "Oct", "Nov", "Dec" };
static const char *const cg_ru_months[12] = { "января", "февраля", "марта", "апреля",
                                              "мая", "июня", "июля", "августа", "сентября",
                                              "октября", "ноября", "декабря" };
static const char *const cg_kk_months[12] = { "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр",
                                              "маусым", "шілде", "тамыз", "қыркүйек",
                                              "қазан", "қараша", "желтоқсан" };
static const char *const cg_en_days[7] = { "Sunday", "Monday", "Tuesday", "Wednesday",
                                           "Thursday", "Friday", "Saturday" };
static const char *const cg_ru_days[7] = { "воскресенье", "понедельник", "вторник", "среду",
                                           "четверг", "пятницу", "субботу" };
static const char *const cg_kk_days[7] = { "жексенбі", "дүйсенбі", "сейсенбі", "сәрсенбі",
                                           "бейсенбі", "жұма", "сенбі" };

/* ------------------------------------------------------------------ */
/* names: data                                                          */

/* Real public figures and places first (the Zipf head of the pool), in the spellings of
 * 1990s English-language wires. */
static const struct { const char *first, *last; int female; } cg_real_people[] = {
    { "Nursultan", "Nazarbaev", 0 }, { "Galymzhan", "Zhakiyanov", 0 },
    { "Akezhan", "Kazhegeldin", 0 }, { "Kassym-Jomart", "Tokayev", 0 },
    { "Nurlan", "Balgimbayev", 0 }, { "Mukhtar", "Ablyazov", 0 },
    { "Imangali", "Tasmagambetov", 0 }, { "Daniyal", "Akhmetov", 0 }, { "Bulat", "Abilov", 0 },
    { "Oraz", "Zhandosov", 0 }, { "Altynbek", "Sarsenbayev", 0 },
    { "Zamanbek", "Nurkadilov", 0 }, { "Karim", "Masimov", 0 }, { "Dariga", "Nazarbayeva", 1 },
    { "Marat", "Tazhin", 0 }, { "Yerlan", "Idrisov", 0 }, { "Serik", "Abdrakhmanov", 0 },
    { "Viktor", "Chernomyrdin", 0 }, { "Boris", "Yeltsin", 0 }, { "Islam", "Karimov", 0 },
    { "Askar", "Akayev", 0 }, { "Saparmurat", "Niyazov", 0 }, { "Leonid", "Kuchma", 0 },
    { "Gulnara", "Karimova", 1 },
};

static const char *const cg_first_m[] = {
    "Nursultan", "Galymzhan", "Akezhan", "Karim", "Bulat", "Mukhtar", "Nurlan", "Imangali",
    "Daniyal", "Oraz", "Altynbek", "Zamanbek", "Serik", "Marat", "Yerlan", "Bolat", "Aslan",
    "Timur", "Kairat", "Askar", "Yermek", "Bakhyt", "Dauren", "Rakhat", "Berik", "Sergei",
    "Viktor", "Vladimir", "Yuri", "Alexander", "Igor", "Nikolai", "Pavel", "Dmitry", "Oleg",
    "Kassym-Jomart", "Abai", "Zhanibek", "Mels", "Tolegen",
};
static const char *const cg_first_f[] = {
    "Dariga", "Aigul", "Gulnara", "Saule", "Zhanna", "Aliya", "Dinara", "Aizhan", "Madina",
    "Raushan", "Zhibek", "Olga", "Natalya", "Tatyana", "Irina", "Yelena", "Svetlana", "Marina",
};
static const char *const cg_sur_root[] = {
    "Nazar", "Zhaki", "Tokay", "Abil", "Suleimen", "Nurkadil", "Kazhegeld", "Sarsen",
    "Balgim", "Tasmagambet", "Akhmet", "Zhandos", "Ablyaz", "Masim", "Kul", "Zhum", "Bek",
    "Temir", "Kasym", "Ospan", "Ermek", "Sadyk", "Mukan", "Isabek", "Baimukhamed", "Tulegen",
    "Kuanysh", "Shaikhy", "Dosan", "Orazal", "Yesen", "Ibray", "Karib", "Seit", "Amir",
    "Duisen", "Kenzhe", "Sharip", "Utemis", "Alim", "Bais", "Tokhtar", "Mamyt", "Yerzhan",
    "Omar", "Smagul", "Tursun", "Askar", "Petr", "Ivan", "Sidor", "Kuznets", "Serikbay",
    "Zhaksy", "Karaman", "Mirzakhmet", "Shalab", "Tleu", "Aubakir", "Kabdol",
};
/* Surname endings; the female form is the second string. */
static const char *const cg_sur_suffix[][2] = {
    { "ov", "ova" }, { "ev", "eva" }, { "bayev", "bayeva" }, { "bekov", "bekova" },
    { "in", "ina" }, { "uly", "kyzy" }, { "yanov", "yanova" }, { "imov", "imova" },
    { "enko", "enko" }, { "baev", "baeva" },
};
static const char *const cg_real_places[] = {
    "Almaty", "Astana", "Pavlodar", "Karaganda", "Shymkent", "Aktobe", "Atyrau",
    "Semipalatinsk", "Kostanai", "Taraz", "Uralsk", "Aktau", "Kyzylorda", "Petropavlovsk",
    "Ust-Kamenogorsk", "Ekibastuz", "Baikonur", "Zhezkazgan", "Temirtau", "Kokshetau",
    "Taldykorgan", "Turkestan", "Balkhash", "Moscow", "Tashkent", "Bishkek", "Beijing",
    "Washington", "Ankara", "Tehran", "Urumqi", "Omsk", "Novosibirsk", "Orenburg",
    "Dushanbe", "Ashgabat", "Baku", "Tbilisi", "Kiev", "Minsk", "London", "Brussels",
};
static const char *const cg_place_root[] = {
    "Kara", "Ak", "Kok", "Sary", "Zhana", "Kyzyl", "Bal", "Tas", "Ter", "Shu", "Kar", "Ayag",
    "Zhar", "Oy", "Kum", "Tal", "Bay", "Ken", "Ural", "Irtysh", "Ili", "Esil", "Tobol",
    "Emba", "Sayak", "Ulan", "Burli", "Zhet", "Sholak", "Maka", "Beineu", "Kandy", "Aral",
};
static const char *const cg_place_suffix[] = {
    "tau", "kol", "su", "bulak", "kent", "sai", "ozek", "agash", "tobe", "kum", "ovka",
    "sk", "ino", "abad", "zhar", "tal",
};

/* ------------------------------------------------------------------ */
/* the model: everything read-only the articles are drawn from          */

enum { CG_EN, CG_RU, CG_KK, CG_N_LANGS };

typedef struct cg_head {
    uint32_t off;               /* into head_arena */
    uint8_t len;
    uint8_t flags;              /* bit 0 proper noun, bit 1 front harmony */
    uint8_t paradigm;           /* first slot of its window into the ending table */
} cg_head;

typedef struct cg_lang {
    uint64_t salt;              /* separates the three pseudo-vocabularies */
    cg_str *common;             /* owned: common words */
    cg_str *common_curly;       /* owned: the same with ’ for ' (English contractions) */
    cg_alias common_alias;      /* their frequencies */
    cg_pick onset, nucleus[2], coda, ending[2]; /* [harmony]: Kazakh back/front */
    int harmony;                /* 1: pick nucleus/ending set by a hash bit */
    uint32_t p_func[3];         /* CG_P of a common word after K_NONE, K_FUNC, K_CONTENT */
    uint32_t ending_window;     /* slots of the ending table one word can use (power of 2) */
    cg_pick prefix, office_prefix, office, abbrev;
    cg_pick modifier, participle;    /* English only: state-owned */
    char *head_arena;           /* owned: words of head ranks 1..CG_HEAD_RANKS */
    cg_head *head;              /* owned: [rank - 1], where each word is in head_arena */
    const char *const *sources;
    uint32_t n_sources;
    uint32_t source_base;       /* index of the first source in the global source list */
    cg_alias source_alias;
    const char *const *months, *const *days;
} cg_lang;

typedef struct cg_name {
    cg_str lat_first, lat_last, cyr_first, cyr_last; /* views into the model's name arena */
    int female;
} cg_name;

typedef struct cg_model {
    cg_lang lang[CG_N_LANGS];
    cg_alias head_alias;         /* Zipf(1) over head ranks */
    uint32_t tail_thr;           /* CG_P of drawing from the tail */
    cg_name people[CG_PEOPLE];
    cg_str place_lat[CG_PLACES], place_cyr[CG_PLACES];
    cg_alias people_alias, places_alias;
    char *name_arena;            /* owned: the strings of people[] and place_*[] */
    size_t name_arena_n;
    int32_t epoch_days;          /* days from 1970-01-01 to the first date */
} cg_model;

/* ------------------------------------------------------------------ */
/* pseudo-words                                                         */

/* Spells the word of `rank` in language L into out (at least CG_WORD_BUF bytes), without
 * ending. Frequent (low) ranks get fewer syllables, as frequent words are shorter
 * (Zipf's law of abbreviation); flags gets bit 0 for a proper noun (2% of ranks, always
 * capitalised, like company and product names) and bit 1 for front vowel harmony;
 * paradigm the start of the word's window into the ending table. */
static size_t spell_rank(const cg_lang *L, uint64_t rank, char *out, uint8_t *flags,
                         uint8_t *paradigm)
{
    uint64_t h = mix64(rank * UINT64_C(0x9E3779B97F4A7C15) ^ L->salt);
    unsigned lg = 63u - (unsigned)__builtin_clzll(rank | 1);
    /* ranks < 2^8: 1-2 syllables, 2^16: 3, 2^24: 4, 2^32 and up: 5 */
    unsigned n_syl = 1 + (lg + (unsigned)(h & 7)) / 8;
    int front = L->harmony && (h & 8);
    size_t n = 0;
    if (n_syl > 5)
        n_syl = 5;
    for (unsigned i = 0; i < n_syl && n < CG_WORD_SOFT_MAX; i++) {
        /* A fresh hash per syllable: three bytes pick onset, nucleus and coda. */
        uint64_t hs = mix64(h + (i + 1) * UINT64_C(0xD6E8FEB86659FD93));
        unsigned o = hs & 255, v = (hs >> 8) & 255, c = (hs >> 16) & 255;
        /* No onset after a vowel-final syllable would glue vowels: force one. */
        if (i > 0 && L->onset.n[o] == 0)
            o = (o * 7 + 1) & 255;
        memcpy(out + n, L->onset.s[o], L->onset.n[o]);
        n += L->onset.n[o];
        memcpy(out + n, L->nucleus[front].s[v], L->nucleus[front].n[v]);
        n += L->nucleus[front].n[v];
        /* Codas mostly close the last syllable; inside a word they make clusters. */
        if (i + 1 == n_syl || (c & 3) == 0) {
            memcpy(out + n, L->coda.s[c], L->coda.n[c]);
            n += L->coda.n[c];
        }
    }
    *flags = (uint8_t)(((h >> 56) < 5 ? 1 : 0) | (front ? 2 : 0));
    *paradigm = (uint8_t)(h >> 48);
    return n;
}

/* Draws a pseudo-word rank: the head by alias, the tail as a Pareto variable. */
static uint64_t draw_rank(const cg_model *m, cg_rng *r)
{
    if (!rng_chance(r, m->tail_thr))
        return 1 + alias_draw(&m->head_alias, r);
    double u = rng_unit_open0(r);
    double x = (double)CG_HEAD_RANKS / (u * sqrt(sqrt(u))); /* u^(-1/0.8) */
    if (!(x < (double)CG_RANK_MAX))
        return CG_RANK_MAX;
    return (uint64_t)x + 1;
}

/* ------------------------------------------------------------------ */
/* model construction                                                   */

static void strs_from_freq(cg_lang *L, const cg_wordfreq *w, size_t n)
{
    double *wt = xmalloc(n * sizeof *wt);
    L->common = xmalloc(n * sizeof *L->common);
    L->common_curly = xmalloc(n * sizeof *L->common_curly);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(w[i].s);
        L->common[i].s = w[i].s;
        L->common[i].n = (uint32_t)len;
        L->common_curly[i] = L->common[i];
        const char *ap = strchr(w[i].s, '\'');
        if (ap) { /* the same word with U+2019, built once */
            char *c = xmalloc(len + 3);
            size_t k = (size_t)(ap - w[i].s);
            memcpy(c, w[i].s, k);
            memcpy(c + k, "\xE2\x80\x99", 3);
            memcpy(c + k + 3, ap + 1, len - k - 1);
            L->common_curly[i].s = c;
            L->common_curly[i].n = (uint32_t)(len + 2);
        }
        wt[i] = w[i].per_million;
    }
    alias_build(&L->common_alias, wt, (uint32_t)n);
    free(wt);
}

static void lang_head(cg_lang *L)
{
    char w[CG_WORD_BUF];
    size_t cap = (size_t)CG_HEAD_RANKS * 16, n = 0;
    L->head_arena = xmalloc(cap);
    L->head = xmalloc(CG_HEAD_RANKS * sizeof *L->head);
    for (uint32_t r = 1; r <= CG_HEAD_RANKS; r++) {
        size_t k = spell_rank(L, r, w, &L->head[r - 1].flags, &L->head[r - 1].paradigm);
        if (cap - n < k) {
            cap *= 2;
            L->head_arena = realloc(L->head_arena, cap);
            if (!L->head_arena)
                die_oom();
        }
        L->head[r - 1].off = (uint32_t)n;
        L->head[r - 1].len = (uint8_t)k;
        memcpy(L->head_arena + n, w, k);
        n += k;
    }
}

static void sources_alias(cg_lang *L)
{
    double w[16];
    for (uint32_t i = 0; i < L->n_sources; i++)
        w[i] = 1.0 / (i + 1); /* Zipf: the big wire first */
    alias_build(&L->source_alias, w, L->n_sources);
}

#define PICK(t, arr) pick_build(&(t), (arr), sizeof(arr) / sizeof((arr)[0]))
#define COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Every name string is shorter than CG_NAME_MAX bytes (Latin parts are under 32 bytes,
 * Cyrillic twice that at most), so the arena is allocated once, full size, and views
 * into it never move. */
#define CG_NAME_MAX 64u
#define CG_NAME_ARENA ((size_t)CG_NAME_MAX * (4 * CG_PEOPLE + 2 * CG_PLACES))

static cg_str arena_add(cg_model *m, const char *s, size_t n)
{
    if (!m->name_arena)
        m->name_arena = xmalloc(CG_NAME_ARENA);
    if (n >= CG_NAME_MAX || CG_NAME_ARENA - m->name_arena_n < n) {
        fprintf(stderr, "corpusgen: internal error: name arena overflow\n");
        abort();
    }
    memcpy(m->name_arena + m->name_arena_n, s, n);
    cg_str v = { m->name_arena + m->name_arena_n, (uint32_t)n };
    m->name_arena_n += n;
    return v;
}

/* Latin -> Cyrillic transliteration of a name, Russian conventions (zh -> ж, kh -> х,
 * ya -> я, y -> ы or й), each part capitalised. Good enough that Nazarbaev gives
 * Назарбаев and Almaty Алматы. */
static size_t translit(const char *lat, char *out, size_t cap)
{
    static const struct { const char *l, *c; } rules[] = {
        { "shch", "щ" }, { "zh", "ж" }, { "kh", "х" }, { "sh", "ш" }, { "ch", "ч" },
        { "ts", "ц" }, { "ya", "я" }, { "yu", "ю" }, { "yo", "ё" }, { "ye", "е" },
        { "a", "а" }, { "b", "б" }, { "c", "к" }, { "d", "д" }, { "f", "ф" }, { "g", "г" },
        { "h", "х" }, { "j", "ж" }, { "k", "к" }, { "l", "л" }, { "m", "м" }, { "n", "н" },
        { "o", "о" }, { "p", "п" }, { "q", "к" }, { "r", "р" }, { "s", "с" }, { "t", "т" },
        { "u", "у" }, { "v", "в" }, { "w", "в" }, { "x", "кс" }, { "z", "з" }, { "-", "-" },
        { "y", "й" }, /* y before i: Yi- */
    };
    char low[128];
    size_t n = strlen(lat), o = 0, part = 0;
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(lat[i] >= 'A' && lat[i] <= 'Z' ? lat[i] + 32 : lat[i]);
    low[n] = 0;
    for (size_t i = 0; i < n && o + 8 < cap;) {
        int prev_vowel = i > 0 && strchr("aeiouy", low[i - 1]) != NULL;
        int next_vowel = low[i + 1] && strchr("aeiou", low[i + 1]) != NULL;
        const char *c = NULL;
        size_t adv = 1;
        if (low[i] == 'e' && (i == 0 || low[i - 1] == '-')) {
            c = "э";
        } else if ((low[i] == 'y' || low[i] == 'i') && prev_vowel && !next_vowel) {
            c = "й";
        } else if (low[i] == 'y' && !next_vowel) {
            c = "ы";
        } else if (low[i] == 'i') {
            c = "и";
        } else if (low[i] == 'e') {
            c = "е";
        } else {
            for (size_t r = 0; r < COUNT(rules); r++) {
                size_t k = strlen(rules[r].l);
                if (strncmp(low + i, rules[r].l, k) == 0) {
                    c = rules[r].c;
                    adv = k;
                    break;
                }
            }
        }
        if (c) {
            size_t k = strlen(c);
            memcpy(out + o, c, k);
            if (low[i] == '-')
                part = o + k;
            else if (o == part)
                upper_at(out + o, k);
            o += k;
        }
        i += adv;
    }
    return o;
}

static void model_names(cg_model *m)
{
    char buf[256], cyr[512];
    size_t n_real = COUNT(cg_real_people);
    double w[CG_PEOPLE];
    for (uint32_t i = 0; i < CG_PEOPLE; i++) {
        cg_name *p = &m->people[i];
        const char *first, *last;
        char last_buf[128];
        if (i < n_real) {
            first = cg_real_people[i].first;
            last = cg_real_people[i].last;
            p->female = cg_real_people[i].female;
        } else {
            uint64_t h = mix64(i ^ CG_SALT_PEOPLE);
            p->female = (h & 0xFF) < 64; /* a quarter: women in 1990s news copy */
            h >>= 8;
            first = p->female ? cg_first_f[h % COUNT(cg_first_f)]
                              : cg_first_m[h % COUNT(cg_first_m)];
            h >>= 8;
            const char *root = cg_sur_root[h % COUNT(cg_sur_root)];
            h >>= 8;
            const char *suf = cg_sur_suffix[h % COUNT(cg_sur_suffix)][p->female];
            snprintf(last_buf, sizeof last_buf, "%s%s", root, suf);
            last = last_buf;
        }
        p->lat_first = arena_add(m, first, strlen(first));
        p->lat_last = arena_add(m, last, strlen(last));
        p->cyr_first = arena_add(m, cyr, translit(first, cyr, sizeof cyr));
        p->cyr_last = arena_add(m, cyr, translit(last, cyr, sizeof cyr));
        w[i] = 1.0 / (i + 1);
    }
    alias_build(&m->people_alias, w, CG_PEOPLE);
    for (uint32_t i = 0; i < CG_PLACES; i++) {
        const char *name = buf;
        if (i < COUNT(cg_real_places)) {
            name = cg_real_places[i];
        } else {
            uint64_t h = mix64(i ^ CG_SALT_PLACES);
            const char *root = cg_place_root[h % COUNT(cg_place_root)];
            const char *suf = cg_place_suffix[(h >> 16) % COUNT(cg_place_suffix)];
            if (((h >> 32) & 15) == 0) /* one in 16 a two-part name, like Ust-Kamenogorsk */
                snprintf(buf, sizeof buf, "%s-%s%s", cg_place_root[(h >> 40) %
                         COUNT(cg_place_root)], root, suf);
            else
                snprintf(buf, sizeof buf, "%s%s", root, suf);
            for (char *c = buf; *c; c++) /* Kara-Akkol: each part capitalised */
                if ((c == buf || c[-1] == '-') && *c >= 'a' && *c <= 'z')
                    *c = (char)(*c - 32);
                else if (c > buf && c[-1] != '-' && *c >= 'A' && *c <= 'Z')
                    *c = (char)(*c + 32);
        }
        m->place_lat[i] = arena_add(m, name, strlen(name));
        m->place_cyr[i] = arena_add(m, cyr, translit(name, cyr, sizeof cyr));
        w[i] = 1.0 / (i + 1);
    }
    alias_build(&m->places_alias, w, CG_PLACES);
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's days_from_civil). */
static int32_t days_from_civil(int y, unsigned mo, unsigned d)
{
    y -= mo <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static void civil_from_days(int32_t z, int *y, unsigned *mo, unsigned *d)
{
    z += 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *mo = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)yoe + era * 400 + (*mo <= 2);
}

static void model_build(cg_model *m)
{
    static const uint64_t salts[CG_N_LANGS] = {
        UINT64_C(0x243F6A8885A308D3), UINT64_C(0x13198A2E03707344),
        UINT64_C(0xA4093822299F31D0),
    };
    memset(m, 0, sizeof *m);
    for (int i = 0; i < CG_N_LANGS; i++)
        m->lang[i].salt = salts[i];

    cg_lang *en = &m->lang[CG_EN], *ru = &m->lang[CG_RU], *kk = &m->lang[CG_KK];
    strs_from_freq(en, cg_en_common, COUNT(cg_en_common));
    strs_from_freq(ru, cg_ru_common, COUNT(cg_ru_common));
    strs_from_freq(kk, cg_kk_common, COUNT(cg_kk_common));
    PICK(en->onset, cg_en_onset);
    PICK(en->nucleus[0], cg_en_nucleus);
    PICK(en->coda, cg_en_coda);
    PICK(en->ending[0], cg_en_ending);
    PICK(en->prefix, cg_en_prefix);
    PICK(en->office_prefix, cg_en_office_prefix);
    PICK(en->modifier, cg_en_modifier);
    PICK(en->participle, cg_en_participle);
    PICK(en->office, cg_en_office);
    PICK(en->abbrev, cg_en_abbrev);
    PICK(ru->onset, cg_ru_onset);
    PICK(ru->nucleus[0], cg_ru_nucleus);
    PICK(ru->coda, cg_ru_coda);
    PICK(ru->ending[0], cg_ru_ending);
    PICK(ru->prefix, cg_ru_prefix);
    PICK(ru->office_prefix, cg_ru_office_prefix);
    PICK(ru->office, cg_ru_office);
    PICK(ru->abbrev, cg_ru_abbrev);
    PICK(kk->onset, cg_kk_onset);
    PICK(kk->nucleus[0], cg_kk_nucleus_back);
    PICK(kk->nucleus[1], cg_kk_nucleus_front);
    PICK(kk->coda, cg_kk_coda);
    PICK(kk->ending[0], cg_kk_ending_back);
    PICK(kk->ending[1], cg_kk_ending_front);
    PICK(kk->prefix, cg_kk_prefix);
    PICK(kk->office_prefix, cg_kk_office_prefix);
    PICK(kk->office, cg_kk_office);
    PICK(kk->abbrev, cg_kk_abbrev);
    kk->harmony = 1;
    /* Common words alternate with content words: after a content word the next is a
     * common word more often than not, as in "the X of the Y". The lists cover about 39%
     * (English), 22% (Russian) and 11% (Kazakh) of running text by their frequencies;
     * these rates give them 46%, 35% and 28% of the tokens (measured), so that "the"
     * is 6.3% of English tokens, "и" 5.5% of Russian and "және" 2.2% of Kazakh ones,
     * near their real shares (real "и" is nearer 4%). */
    static const uint32_t p_func[CG_N_LANGS][3] = {
        { CG_P(0.45), CG_P(0.28), CG_P(0.62) },
        { CG_P(0.33), CG_P(0.18), CG_P(0.45) },
        { CG_P(0.25), CG_P(0.13), CG_P(0.35) },
    };
    for (int i = 0; i < CG_N_LANGS; i++)
        memcpy(m->lang[i].p_func, p_func[i], sizeof p_func[i]);
    /* A word takes its endings from a window of the ending table, as a real lemma has one
     * paradigm: a Russian or Kazakh word gets 3-6 forms (about the forms of one lemma in
     * a news corpus), not all twenty endings. English words may take any of theirs. */
    en->ending_window = 256;
    ru->ending_window = 48;
    kk->ending_window = 48;
    en->nucleus[1] = en->nucleus[0];
    en->ending[1] = en->ending[0];
    ru->nucleus[1] = ru->nucleus[0];
    ru->ending[1] = ru->ending[0];

    en->sources = cg_en_sources;
    en->n_sources = COUNT(cg_en_sources);
    ru->sources = cg_ru_sources;
    ru->n_sources = COUNT(cg_ru_sources);
    kk->sources = cg_kk_sources;
    kk->n_sources = COUNT(cg_kk_sources);
    en->months = cg_en_months;
    ru->months = cg_ru_months;
    kk->months = cg_kk_months;
    en->days = cg_en_days;
    ru->days = cg_ru_days;
    kk->days = cg_kk_days;
    for (int i = 0; i < CG_N_LANGS; i++) {
        sources_alias(&m->lang[i]);
        lang_head(&m->lang[i]);
    }

    /* Zipf(1) over the head; the tail's share w makes the density continuous at the
     * border: head density (1 - w) / ((R + off) H) = tail density w alpha / R, with H
     * the head's weight sum, gives w / (1 - w) = R / (alpha (R + off) H). About 0.17. */
    double *w = xmalloc(CG_HEAD_RANKS * sizeof *w), H = 0;
    for (uint32_t r = 0; r < CG_HEAD_RANKS; r++) {
        w[r] = 1.0 / (r + 1 + CG_HEAD_OFFSET);
        H += w[r];
    }
    alias_build(&m->head_alias, w, CG_HEAD_RANKS);
    free(w);
    double odds = (double)CG_HEAD_RANKS /
                  (CG_TAIL_ALPHA * (CG_HEAD_RANKS + CG_HEAD_OFFSET) * H);
    m->tail_thr = (uint32_t)(4294967296.0 * odds / (1.0 + odds));

    model_names(m);
    m->epoch_days = days_from_civil(CG_EPOCH_Y, CG_EPOCH_M, CG_EPOCH_D);
}

static void model_free(cg_model *m)
{
    for (int i = 0; i < CG_N_LANGS; i++) {
        cg_lang *L = &m->lang[i];
        for (uint32_t k = 0; k < L->common_alias.n; k++)
            if (L->common_curly[k].s != L->common[k].s)
                free((void *)(uintptr_t)L->common_curly[k].s);
        free(L->common);
        free(L->common_curly);
        alias_free(&L->common_alias);
        alias_free(&L->source_alias);
        free(L->head_arena);
        free(L->head);
    }
    alias_free(&m->head_alias);
    alias_free(&m->people_alias);
    alias_free(&m->places_alias);
    free(m->name_arena);
}

/* ------------------------------------------------------------------ */
/* articles                                                             */

typedef struct cg_opts {
    uint64_t seed;
    uint64_t size;            /* plain-text bytes wanted, all shards together */
    unsigned n_shards;
    int text, jsonl;          /* formats to write */
    int level;
    uint32_t cyrillic_thr;    /* CG_P of a Cyrillic article */
    int threads;              /* 0: all cores */
    int quiet;
    const char *outdir;
} cg_opts;

enum { K_NONE, K_FUNC, K_CONTENT };

typedef struct cg_article {
    const cg_model *m;        /* borrowed */
    const cg_lang *L;         /* borrowed: m->lang[lang] */
    int lang;
    cg_rng rng;
    int curly;                /* typography: ’ “ ” – — … rather than ' " - -- ... */
    uint32_t people[CG_CAST_PEOPLE_MAX], places[CG_CAST_PLACES_MAX];
    uint8_t mentioned[CG_CAST_PEOPLE_MAX];
    unsigned n_people, n_places;
    int prev;                 /* kind of the previous word, for the function/content rhythm */
    int last_abbrev;          /* previous word ended with '.', e.g. U.S. */
    cg_buf *out;              /* borrowed: the article's text */
    /* for the JSONL line */
    uint64_t id;
    char date[11];
    uint32_t source;
    int32_t day;
} cg_article;

static inline const cg_str *name_last(const cg_article *a, uint32_t i)
{
    const cg_name *p = &a->m->people[i];
    return a->lang == CG_EN ? &p->lat_last : &p->cyr_last;
}

static inline const cg_str *name_first(const cg_article *a, uint32_t i)
{
    const cg_name *p = &a->m->people[i];
    return a->lang == CG_EN ? &p->lat_first : &p->cyr_first;
}

static inline const cg_str *place_name(const cg_article *a, uint32_t i)
{
    return a->lang == CG_EN ? &a->m->place_lat[i] : &a->m->place_cyr[i];
}

/* Which cast member a mention is about: weights 1/(i+1), so the protagonist (drawn
 * first) is mentioned most and the last of six a sixth as often. */
static unsigned cast_pick(cg_article *a)
{
    static const uint8_t w[CG_CAST_PEOPLE_MAX] = { 60, 30, 20, 15, 12, 10 }; /* 60/(i+1) */
    unsigned total = 0, i = 0;
    for (unsigned k = 0; k < a->n_people; k++)
        total += w[k];
    uint32_t x = rng_below(&a->rng, total);
    while (x >= w[i]) {
        x -= w[i];
        i++;
    }
    return i;
}

static void put_pick(cg_article *a, const cg_pick *t)
{
    unsigned i = (unsigned)(rng_next(&a->rng) & 255);
    buf_put(a->out, t->s[i], t->n[i]);
}

static void put_str(cg_article *a, const cg_str *s)
{
    buf_put(a->out, s->s, s->n);
}

static void put_apostrophe(cg_article *a)
{
    /* Typeset copy uses U+2019, wire copy ASCII; each side also has the other now and
     * then, as edited copy does. */
    if (a->curly != rng_chance(&a->rng, CG_P(0.05)))
        BUF_LIT(a->out, "\xE2\x80\x99");
    else
        buf_putc(a->out, '\'');
}

static void put_hyphen(cg_article *a)
{
    /* U+2010 appears in typeset copy now and then; corpusstat folds it to '-'. */
    if (a->curly && rng_chance(&a->rng, CG_P(0.05)))
        BUF_LIT(a->out, "\xE2\x80\x90");
    else
        buf_putc(a->out, '-');
}

/* A pseudo-word with an ending; capitalised if it is a proper noun. */
static void put_content(cg_article *a, int allow_tail)
{
    const cg_lang *L = a->L;
    uint64_t rank = allow_tail ? draw_rank(a->m, &a->rng)
                               : 1 + alias_draw(&a->m->head_alias, &a->rng);
    size_t start = a->out->n;
    uint8_t flags, paradigm;
    if (rank <= CG_HEAD_RANKS) {
        const cg_head *h = &L->head[rank - 1];
        buf_put(a->out, L->head_arena + h->off, h->len);
        flags = h->flags;
        paradigm = h->paradigm;
    } else {
        char w[CG_WORD_BUF];
        size_t n = spell_rank(L, rank, w, &flags, &paradigm);
        buf_put(a->out, w, n);
    }
    if (flags & 1) {
        upper_at(a->out->p + start, a->out->n - start);
    } else {
        const cg_pick *e = &L->ending[(flags >> 1) & 1];
        unsigned i = (paradigm + ((unsigned)rng_next(&a->rng) & (L->ending_window - 1))) & 255;
        buf_put(a->out, e->s[i], e->n[i]);
    }
}

static void put_number(cg_article *a)
{
    cg_rng *r = &a->rng;
    cg_buf *b = a->out;
    int en = a->lang == CG_EN;
    /* Russian and Kazakh write 1 000 (no-break space) and 3,5; English 1,000 and 3.5. */
    const char *thousands = en ? "," : "\xC2\xA0";
    char dec = en ? '.' : ',';
    uint32_t kind = rng_below(r, 100);
    if (kind < 25) { /* small count */
        buf_putu(b, 1 + rng_below(r, 99));
    } else if (kind < 40) { /* a year */
        buf_putu(b, 1950 + rng_below(r, 63));
    } else if (kind < 48) { /* a span of years: 1994-1997 is one token, 1994–1997 two */
        uint32_t y = 1985 + rng_below(r, 28);
        buf_putu(b, y);
        if (a->curly && rng_chance(r, CG_P(0.5)))
            BUF_LIT(b, "\xE2\x80\x93");
        else
            buf_putc(b, '-');
        buf_putu(b, y + 1 + rng_below(r, 6));
    } else if (kind < 60) { /* decimal: 3.5, 12.75 */
        buf_putu(b, rng_below(r, 100));
        buf_putc(b, dec);
        buf_putu(b, 1 + rng_below(r, rng_chance(r, CG_P(0.7)) ? 9 : 99));
    } else if (kind < 75) { /* thousands: 1,000 or 12 500 000 */
        uint64_t v = (uint64_t)(1 + rng_below(r, 999)) * (rng_chance(r, CG_P(0.5)) ? 1000
                     : rng_chance(r, CG_P(0.5)) ? 100 : 1000000);
        buf_putu_grouped(b, v + (rng_chance(r, CG_P(0.3)) ? rng_below(r, 1000) : 0), thousands);
    } else if (kind < 90) { /* percentages */
        buf_putu(b, rng_below(r, 100));
        if (rng_chance(r, CG_P(0.4))) {
            buf_putc(b, dec);
            buf_putu(b, rng_below(r, 10));
        }
        if (rng_chance(r, CG_P(0.7)))
            buf_putc(b, '%');
        else
            buf_puts(b, en ? " percent" : a->lang == CG_RU ? " процента" : " пайыз");
    } else if (kind < 96) { /* money */
        if (en) {
            buf_putc(b, '$');
            buf_putu(b, 1 + rng_below(r, 99));
            if (rng_chance(r, CG_P(0.5))) {
                buf_putc(b, '.');
                buf_putu(b, 1 + rng_below(r, 9));
            }
            buf_puts(b, rng_chance(r, CG_P(0.6)) ? " million" : " billion");
        } else {
            buf_putu(b, 1 + rng_below(r, 999));
            buf_puts(b, a->lang == CG_RU ? (rng_chance(r, CG_P(0.5)) ? " млн тенге" : " млрд тенге")
                                         : " млн теңге");
        }
    } else if (en) { /* ordinal: 21st */
        uint32_t v = 1 + rng_below(r, 60);
        static const char *const suf[4] = { "th", "st", "nd", "rd" };
        buf_putu(b, v);
        buf_puts(b, (v % 100 >= 11 && v % 100 <= 13) || v % 10 > 3 ? "th" : suf[v % 10]);
    } else { /* time of day 10:30 */
        buf_putu(b, 8 + rng_below(r, 12));
        buf_putc(b, ':');
        buf_putu(b, 10 + rng_below(r, 50));
    }
}

/* A cast member: full name (maybe with a title) the first time, then the surname. */
static void put_person(cg_article *a, unsigned who, int possessive_ok)
{
    cg_rng *r = &a->rng;
    uint32_t p = a->people[who];
    const cg_name *nm = &a->m->people[p];
    if (!a->mentioned[who]) {
        a->mentioned[who] = 1;
        if (rng_chance(r, CG_P(0.4))) {
            put_pick(a, &a->L->office);
            buf_putc(a->out, ' ');
        }
        put_str(a, name_first(a, p));
        buf_putc(a->out, ' ');
        put_str(a, name_last(a, p));
        return;
    }
    uint32_t x = rng_below(r, 100);
    if (x < 15) {
        if (a->lang == CG_EN)
            buf_puts(a->out, nm->female ? (x < 8 ? "Ms. " : "Mrs ") : (x < 8 ? "Mr. " : "Mr "));
        else if (a->lang == CG_RU)
            buf_puts(a->out, nm->female ? "г-жа " : "г-н ");
    }
    put_str(a, name_last(a, p));
    if (possessive_ok && a->lang == CG_EN && x >= 80) {
        put_apostrophe(a);
        buf_putc(a->out, 's');
    }
}

/* One word of running text; returns its kind for the rhythm of the next draw. */
static int put_word(cg_article *a)
{
    cg_rng *r = &a->rng;
    const cg_lang *L = a->L;
    a->last_abbrev = 0;
    if (rng_chance(r, L->p_func[a->prev])) {
        uint32_t i = alias_draw(&L->common_alias, r);
        put_str(a, a->curly ? &L->common_curly[i] : &L->common[i]);
        return K_FUNC;
    }
    uint32_t x = rng_below(r, 1000);
    if (x < 70) { /* a name from the cast: ~3.5% of tokens */
        if (x < 52 || a->n_places == 0) {
            put_person(a, cast_pick(a), 1);
        } else {
            put_str(a, place_name(a, a->places[rng_below(r, a->n_places)]));
            if (a->lang == CG_EN && rng_chance(r, CG_P(0.08))) {
                put_apostrophe(a);
                buf_putc(a->out, 's');
            }
        }
    } else if (x < 110) { /* a number: ~2% of tokens */
        put_number(a);
    } else if (x < 122) { /* an abbreviation */
        put_pick(a, &L->abbrev);
        a->last_abbrev = a->out->p[a->out->n - 1] == '.';
    } else if (x < 150) { /* a hyphenated compound */
        uint32_t y = rng_below(r, 4);
        if (y == 0) { /* ex-governor */
            put_pick(a, &L->office_prefix);
            put_hyphen(a);
            put_pick(a, &L->office);
        } else if (y == 1 && a->lang == CG_EN) { /* state-owned */
            put_pick(a, &L->modifier);
            put_hyphen(a);
            put_pick(a, &L->participle);
        } else if (y <= 2) { /* anti-something */
            put_pick(a, &L->prefix);
            put_hyphen(a);
            put_content(a, 0);
        } else { /* something-something */
            put_content(a, 0);
            put_hyphen(a);
            put_content(a, 0);
        }
    } else if (x < 155 && a->lang == CG_EN) { /* a possessive common noun */
        put_content(a, 1);
        put_apostrophe(a);
        buf_putc(a->out, 's');
    } else {
        put_content(a, 1);
    }
    return K_CONTENT;
}

static void put_space(cg_article *a)
{
    /* A tab now and then, as pasted copy has: a separator for corpusstat, and \t in
     * JSON, so the writer's escaping is exercised. */
    if (rng_chance(&a->rng, CG_P(0.0005)))
        buf_putc(a->out, '\t');
    else
        buf_putc(a->out, ' ');
}

static void put_dash(cg_article *a)
{
    uint32_t x = rng_below(&a->rng, 4);
    if (a->curly)
        buf_puts(a->out, x < 3 ? " \xE2\x80\x93" : " \xE2\x80\x94"); /* – or — */
    else
        buf_puts(a->out, x < 3 ? " -" : " --");
}

/* n words of running text with inner punctuation, no terminator. The first word starts
 * at a->out->n; cap: capitalise it. */
static void put_clause(cg_article *a, unsigned n, int cap)
{
    cg_rng *r = &a->rng;
    unsigned paren = 0; /* words left inside an open parenthesis */
    for (unsigned i = 0; i < n; i++) {
        if (i > 0) {
            put_space(a);
            if (!paren && i + 3 < n && rng_chance(r, CG_P(0.006))) {
                buf_putc(a->out, '(');
                paren = 1 + rng_below(r, 4);
            }
        }
        size_t start = a->out->n;
        a->prev = put_word(a);
        if (i == 0 && cap)
            upper_at(a->out->p + start, a->out->n - start);
        if (paren && --paren == 0) {
            buf_putc(a->out, ')');
            a->last_abbrev = 0;
            continue;
        }
        if (i + 1 == n || paren)
            continue;
        uint32_t x = (uint32_t)rng_next(r);
        if (x < CG_P(0.065)) {
            buf_putc(a->out, ',');
        } else if (x < CG_P(0.069)) {
            buf_putc(a->out, ';');
        } else if (x < CG_P(0.073)) {
            buf_putc(a->out, ':');
        } else if (x < CG_P(0.081)) {
            put_dash(a);
        } else if (x < CG_P(0.0825)) { /* a trailing-off ellipsis inside the sentence */
            buf_puts(a->out, a->curly ? "\xE2\x80\xA6" : "...");
        } else if (x < CG_P(0.0835)) { /* and/or, oil\gas: separators (\ escaped in JSON) */
            buf_putc(a->out, rng_chance(r, CG_P(0.9)) ? '/' : '\\');
            a->prev = put_word(a);
            i++;
            if (i + 1 == n)
                break;
        } else if (x < CG_P(0.0840)) { /* x--y, glued (Brown corpus style) */
            BUF_LIT(a->out, "--");
            a->prev = put_word(a);
            i++;
            if (i + 1 == n)
                break;
        }
    }
    if (paren) {
        buf_putc(a->out, ')');
        a->last_abbrev = 0;
    }
}

static void put_terminator(cg_article *a)
{
    uint32_t x = rng_below(&a->rng, 1000);
    if (a->last_abbrev && x < 900)
        return; /* "in the U.S." ends the sentence with the abbreviation's own stop */
    if (x < 900)
        buf_putc(a->out, '.');
    else if (x < 930)
        buf_putc(a->out, '?');
    else if (x < 950)
        buf_putc(a->out, '!');
    else if (x < 980)
        buf_puts(a->out, a->curly ? "\xE2\x80\xA6" : "...");
    else
        buf_puts(a->out, a->curly ? "\xE2\x80\xA6" : ".."); /* typo */
}

/* A quotation with its attribution:  "Words," Nazarbaev said.  /  «Слова», — заявил X. */
static void put_quote(cg_article *a, unsigned n)
{
    cg_rng *r = &a->rng;
    unsigned who = cast_pick(a);
    if (a->lang == CG_EN) {
        buf_puts(a->out, a->curly ? "\xE2\x80\x9C" : "\"");
        put_clause(a, n, 1);
        buf_putc(a->out, rng_chance(r, CG_P(0.9)) ? ',' : '?');
        buf_puts(a->out, a->curly ? "\xE2\x80\x9D " : "\" ");
        uint32_t x = rng_below(r, 4);
        if (x == 0) {
            buf_puts(a->out, a->m->people[a->people[who]].female ? "she said" : "he said");
        } else if (x == 1) {
            BUF_LIT(a->out, "said ");
            put_person(a, who, 0);
        } else {
            put_person(a, who, 0);
            buf_puts(a->out, x == 2 ? " said" : " told reporters");
        }
        buf_putc(a->out, '.');
        return;
    }
    static const char *const ru_said[] = { "заявил", "сказал", "отметил", "сообщил" };
    static const char *const kk_said[] = { "деді", "деп атап өтті", "деп мәлімдеді" };
    BUF_LIT(a->out, "\xC2\xAB"); /* « */
    put_clause(a, n, 1);
    BUF_LIT(a->out, "\xC2\xBB, "); /* », */
    buf_puts(a->out, a->curly ? "\xE2\x80\x94 " : "- ");
    if (a->lang == CG_RU) {
        buf_puts(a->out, ru_said[rng_below(r, COUNT(ru_said))]);
        if (a->m->people[a->people[who]].female)
            BUF_LIT(a->out, "а"); /* заявила */
        buf_putc(a->out, ' ');
        put_person(a, who, 0);
    } else {
        put_person(a, who, 0);
        buf_putc(a->out, ' ');
        buf_puts(a->out, kk_said[rng_below(r, COUNT(kk_said))]);
    }
    buf_putc(a->out, '.');
}

/* One sentence of about n words; returns the words written. */
static unsigned put_sentence(cg_article *a, unsigned n)
{
    cg_rng *r = &a->rng;
    a->prev = K_NONE;
    if (rng_chance(r, CG_P(0.08))) { /* quoted speech */
        put_quote(a, n > 4 ? n - 3 : n);
        return n;
    }
    if (rng_chance(r, CG_P(0.06))) { /* time adverbial: "On Tuesday, ..." */
        /* The article's weekday or one of the two before; 1970-01-01 was a Thursday. */
        uint32_t wd = (uint32_t)(a->m->epoch_days + a->day + 4) % 7;
        const char *day = a->L->days[(wd + 7 - rng_below(r, 3)) % 7];
        if (a->lang == CG_EN) {
            BUF_LIT(a->out, "On ");
            buf_puts(a->out, day);
        } else if (a->lang == CG_RU) {
            /* "в" becomes "во" before "вторник" */
            buf_puts(a->out, strncmp(day, "вт", strlen("вт")) == 0 ? "Во " : "В ");
            buf_puts(a->out, day);
        } else {
            size_t s = a->out->n;
            buf_puts(a->out, day);
            upper_at(a->out->p + s, a->out->n - s);
            BUF_LIT(a->out, " күні");
        }
        buf_putc(a->out, ',');
        put_space(a);
        put_clause(a, n > 3 ? n - 2 : n, 0);
    } else {
        put_clause(a, n, 1);
    }
    put_terminator(a);
    return n;
}

/* "ALMATY, Jan 5 (Reuters) – " */
static void put_dateline(cg_article *a)
{
    int y;
    unsigned mo, d;
    civil_from_days(a->m->epoch_days + a->day, &y, &mo, &d);
    size_t s = a->out->n;
    put_str(a, place_name(a, a->places[0]));
    upper_all(a->out->p + s, a->out->n - s);
    BUF_LIT(a->out, ", ");
    if (a->lang == CG_EN) {
        buf_puts(a->out, a->L->months[mo - 1]);
        buf_putc(a->out, ' ');
        buf_putu(a->out, d);
    } else {
        buf_putu(a->out, d);
        buf_putc(a->out, ' ');
        buf_puts(a->out, a->L->months[mo - 1]);
    }
    BUF_LIT(a->out, " (");
    buf_puts(a->out, a->L->sources[a->source]);
    buf_puts(a->out, a->curly ? ") \xE2\x80\x93 " : ") - ");
}

/* A headline: 4-10 words, English in title case, no terminator. */
static void put_headline(cg_article *a)
{
    cg_rng *r = &a->rng;
    unsigned n = 4 + rng_below(r, 7);
    a->prev = K_NONE;
    for (unsigned i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(a->out, ' ');
        size_t s = a->out->n;
        if (i == 1 && rng_chance(r, CG_P(0.5)))
            put_str(a, name_last(a, a->people[0])); /* headlines name by surname */
        else
            a->prev = put_word(a);
        if (i == 0 || (a->lang == CG_EN && a->out->n - s > 3))
            upper_at(a->out->p + s, a->out->n - s);
        if (i == 1 && n > 5 && rng_chance(r, CG_P(0.15)))
            buf_putc(a->out, ':');
    }
    buf_putc(a->out, '\n');
}

/* Generates article k into a->out: lines joined by '\n', no '\n' at the end. */
static void article_generate(cg_article *a, const cg_model *m, const cg_opts *o, uint64_t k)
{
    cg_buf *b = a->out;
    cg_rng *r = &a->rng;
    b->n = 0;
    a->m = m;
    a->id = k;
    r->s = mix64(o->seed ^ mix64(k ^ CG_SALT_ARTICLE));
    a->lang = rng_chance(r, o->cyrillic_thr)
                  ? (rng_chance(r, CG_RUSSIAN_SHARE) ? CG_RU : CG_KK)
                  : CG_EN;
    a->L = &m->lang[a->lang];
    a->curly = rng_chance(r, CG_P(0.35)); /* about a third of outlets typeset their copy */
    a->source = alias_draw(&a->L->source_alias, r);
    a->day = (int32_t)((k / CG_ARTICLES_PER_DAY) % CG_DAYS_WRAP);
    int y;
    unsigned mo, d;
    civil_from_days(m->epoch_days + a->day, &y, &mo, &d);
    snprintf(a->date, sizeof a->date, "%04d-%02u-%02u", y, mo, d);

    /* The cast: the protagonist first, drawn from the pool's Zipf law. */
    a->n_people = 2 + rng_below(r, CG_CAST_PEOPLE_MAX - 1);
    a->n_places = 1 + rng_below(r, CG_CAST_PLACES_MAX);
    for (unsigned i = 0; i < a->n_people; i++) {
        a->people[i] = alias_draw(&m->people_alias, r);
        a->mentioned[i] = 0;
    }
    for (unsigned i = 0; i < a->n_places; i++)
        a->places[i] = alias_draw(&m->places_alias, r);

    unsigned target = quantile_draw(cg_article_q, r), words = 0;
    put_headline(a);
    put_dateline(a);
    int first = 1;
    while (words < target) {
        unsigned n_sent = paragraph_draw(r);
        if (!first)
            buf_putc(b, '\n');
        for (unsigned s = 0; s < n_sent && words < target; s++) {
            if (s > 0)
                buf_putc(b, ' ');
            words += put_sentence(a, quantile_draw(cg_sentence_q, r));
        }
        first = 0;
    }
    if (a->lang == CG_EN && rng_chance(r, CG_P(0.25))) { /* wire credit line */
        uint32_t p1 = alias_draw(&m->people_alias, r), p2 = alias_draw(&m->people_alias, r);
        BUF_LIT(b, "\n(Reporting by ");
        put_str(a, &m->people[p1].lat_first);
        buf_putc(b, ' ');
        put_str(a, &m->people[p1].lat_last);
        BUF_LIT(b, "; Editing by ");
        put_str(a, &m->people[p2].lat_first);
        buf_putc(b, ' ');
        put_str(a, &m->people[p2].lat_last);
        buf_putc(b, ')');
    }
}

/* ------------------------------------------------------------------ */
/* output: one zstd stream per file                                     */

typedef struct cg_sink {
    ZSTD_CCtx *cctx;          /* owned */
    int fd;                   /* -1 when closed */
    char path[PATH_MAX];      /* final name */
    char tmp[PATH_MAX];       /* written here, renamed to path when complete */
    cg_buf in;                /* pending uncompressed bytes */
    void *out;                /* owned: ZSTD_CStreamOutSize() bytes */
    size_t out_cap;
    uint64_t n_in, n_out;     /* bytes before and after compression */
} cg_sink;

/* What went wrong, to be printed by the main thread (strerror is not thread-safe). */
typedef struct cg_err {
    int errnum;               /* errno, or 0 for a zstd error */
    const char *what;         /* static text: "cannot create", "zstd: ..." */
    char path[PATH_MAX];
} cg_err;

static int err_set(cg_err *e, int errnum, const char *what, const char *path)
{
    e->errnum = errnum;
    e->what = what;
    snprintf(e->path, sizeof e->path, "%s", path);
    return -1;
}

static int sink_open(cg_sink *s, const char *path, int level, cg_err *e)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    if ((size_t)snprintf(s->path, sizeof s->path, "%s", path) >= sizeof s->path ||
        (size_t)snprintf(s->tmp, sizeof s->tmp, "%s.tmp", path) >= sizeof s->tmp)
        return err_set(e, ENAMETOOLONG, "cannot create", path);
    s->cctx = ZSTD_createCCtx();
    if (!s->cctx)
        die_oom();
    size_t z = ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(z))
        z = ZSTD_CCtx_setParameter(s->cctx, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(z))
        return err_set(e, 0, ZSTD_getErrorName(z), path);
    s->out_cap = ZSTD_CStreamOutSize();
    s->out = xmalloc(s->out_cap);
    buf_grow(&s->in, CG_BLOCK_BYTES + 65536);
    s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (s->fd < 0)
        return err_set(e, errno, "cannot create", s->tmp);
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Compresses the pending input; with ZSTD_e_end also closes the frame. */
static int sink_flush(cg_sink *s, ZSTD_EndDirective mode, cg_err *e)
{
    ZSTD_inBuffer in = { s->in.p, s->in.n, 0 };
    size_t left;
    do {
        ZSTD_outBuffer out = { s->out, s->out_cap, 0 };
        left = ZSTD_compressStream2(s->cctx, &out, &in, mode);
        if (ZSTD_isError(left))
            return err_set(e, 0, ZSTD_getErrorName(left), s->path);
        if (out.pos && write_all(s->fd, s->out, out.pos) < 0)
            return err_set(e, errno, "cannot write", s->tmp);
        s->n_out += out.pos;
    } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
    s->n_in += s->in.n;
    s->in.n = 0;
    return 0;
}

static inline int sink_maybe_flush(cg_sink *s, cg_err *e)
{
    return s->in.n >= CG_BLOCK_BYTES ? sink_flush(s, ZSTD_e_continue, e) : 0;
}

static int sink_close(cg_sink *s, cg_err *e)
{
    if (sink_flush(s, ZSTD_e_end, e) < 0)
        return -1;
    int fd = s->fd;
    s->fd = -1;
    if (close(fd) < 0)
        return err_set(e, errno, "cannot write", s->tmp);
    if (rename(s->tmp, s->path) < 0)
        return err_set(e, errno, "cannot rename to final name", s->tmp);
    return 0;
}

/* Frees everything; an unfinished file is removed, so no partial shard is left behind. */
static void sink_free(cg_sink *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        unlink(s->tmp);
        s->fd = -1;
    }
    ZSTD_freeCCtx(s->cctx);
    s->cctx = NULL;
    free(s->out);
    s->out = NULL;
    buf_free(&s->in);
}

/* ------------------------------------------------------------------ */
/* shards                                                               */

typedef struct cg_shard_result {
    uint64_t n_articles;
    uint64_t text_bytes;      /* plain-text bytes (the size SIZE counts) */
    uint64_t zst_text, zst_jsonl, jsonl_bytes;
    int failed;
    cg_err err;
} cg_shard_result;

/* Set by the first shard that fails, so the others stop early. */
static atomic_int g_abort;

static void shard_path(char *dst, size_t cap, const char *outdir, const char *sub,
                       unsigned shard, const char *ext)
{
    snprintf(dst, cap, "%s/%s/gen-%03u.%s", outdir, sub, shard, ext);
}

static int shard_write(const cg_model *m, const cg_opts *o, unsigned shard,
                       cg_shard_result *res)
{
    cg_sink st, sj;
    cg_buf art = { 0 };
    cg_article a;
    char path[PATH_MAX];
    int rc = -1;
    uint64_t target = o->size / o->n_shards + (shard < o->size % o->n_shards);

    memset(&st, 0, sizeof st);
    memset(&sj, 0, sizeof sj);
    st.fd = sj.fd = -1;
    memset(&a, 0, sizeof a);
    a.out = &art;
    if (o->text) {
        shard_path(path, sizeof path, o->outdir, "text", shard, "txt.zst");
        if (sink_open(&st, path, o->level, &res->err) < 0)
            goto cleanup;
    }
    if (o->jsonl) {
        shard_path(path, sizeof path, o->outdir, "jsonl", shard, "jsonl.zst");
        if (sink_open(&sj, path, o->level, &res->err) < 0)
            goto cleanup;
    }
    for (uint64_t k = shard; res->text_bytes < target; k += o->n_shards) {
        if (atomic_load_explicit(&g_abort, memory_order_relaxed))
            goto cleanup;
        article_generate(&a, m, o, k);
        /* Plain text: a blank line before every article but the first; each line ends
         * with '\n'. This is what SIZE counts. */
        uint64_t n_text = art.n + 1 + (res->n_articles > 0);
        if (o->text) {
            if (res->n_articles > 0)
                buf_putc(&st.in, '\n');
            buf_put(&st.in, art.p, art.n);
            buf_putc(&st.in, '\n');
            if (sink_maybe_flush(&st, &res->err) < 0)
                goto cleanup;
        }
        if (o->jsonl) {
            size_t before = sj.in.n;
            BUF_LIT(&sj.in, "{\"id\": ");
            buf_putu(&sj.in, k);
            BUF_LIT(&sj.in, ", \"date\": \"");
            buf_put(&sj.in, a.date, 10);
            BUF_LIT(&sj.in, "\", \"source\": \"");
            const char *src = a.L->sources[a.source];
            buf_put_json(&sj.in, src, strlen(src));
            BUF_LIT(&sj.in, "\", \"text\": \"");
            buf_put_json(&sj.in, art.p, art.n);
            BUF_LIT(&sj.in, "\"}\n");
            res->jsonl_bytes += sj.in.n - before;
            if (sink_maybe_flush(&sj, &res->err) < 0)
                goto cleanup;
        }
        res->text_bytes += n_text;
        res->n_articles++;
    }
    if (o->text && sink_close(&st, &res->err) < 0)
        goto cleanup;
    if (o->jsonl && sink_close(&sj, &res->err) < 0)
        goto cleanup;
    res->zst_text = st.n_out;
    res->zst_jsonl = sj.n_out;
    rc = 0;
cleanup:
    if (rc < 0 && !atomic_load(&g_abort)) { /* failed here, not stopped by another */
        res->failed = 1;
        atomic_store(&g_abort, 1);
    }
    sink_free(&st);
    sink_free(&sj);
    buf_free(&art);
    return rc;
}

/* ------------------------------------------------------------------ */
/* command line                                                         */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: corpusgen [-s SEED] [-S SIZE] [-n SHARDS] [-f text|jsonl|both] [-l LEVEL]\n"
        "                 [-c CYRILLIC%%] [-T THREADS] [-q] [-o OUTDIR]\n"
        "Writes a seeded news-like corpus as zstd shards:\n"
        "  OUTDIR/text/gen-NNN.txt.zst      articles separated by a blank line, a paragraph a line\n"
        "  OUTDIR/jsonl/gen-NNN.jsonl.zst   {\"id\", \"date\", \"source\", \"text\"} an article a line\n"
        "both holding the same articles with the same text.\n"
        "  -s SEED     random seed, 0..2^64-1 (default 1); same seed and options, same bytes\n"
        "  -S SIZE     plain-text bytes in all, suffix K, M, G, T (x1024; default 16M);\n"
        "              each shard stops after the article that reaches its share\n"
        "  -n SHARDS   number of shards, 1..%u (default 1)\n"
        "  -f FORMAT   text, jsonl or both (default both)\n"
        "  -l LEVEL    zstd level, %d..%d (default %d)\n"
        "  -c PCT      percent of articles in Cyrillic, Russian or Kazakh (default %u)\n"
        "  -T THREADS  worker threads, 0 = one per core (default 0); the bytes do not depend on it\n"
        "  -q          no summary line on stderr\n"
        "  -o OUTDIR   output folder, created if missing (default corpusgen-out)\n"
        "  -h          this help\n",
        CG_SHARDS_MAX, ZSTD_minCLevel(), ZSTD_maxCLevel(), CG_LEVEL_DEFAULT,
        CG_CYRILLIC_PCT_DEFAULT);
}

static void usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "corpusgen: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    fputs("Try 'corpusgen -h' for more information.\n", stderr);
    exit(2);
}

/* Parses a decimal integer in [lo, hi]; the whole string must be used. */
static int parse_u64(const char *s, uint64_t hi, uint64_t *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > hi)
        return -1;
    *v = x;
    return 0;
}

/* 1G, 256M, 100K, 12345, also 1GB, 1GiB; binary multiples. */
static int parse_size(const char *s, uint64_t *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (shift && (*end == 'i' || *end == 'I'))
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || (shift && x > (UINT64_MAX >> shift)))
        return -1;
    *v = (uint64_t)x << shift;
    return 0;
}

/* mkdir -p: creates path and its missing parents. */
static int make_dirs(const char *path, cg_err *e)
{
    char p[PATH_MAX];
    struct stat st;
    if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p)
        return err_set(e, ENAMETOOLONG, "cannot create folder", path);
    for (char *c = p + 1;; c++) {
        if (*c == '/' || *c == 0) {
            char keep = *c;
            *c = 0;
            if (mkdir(p, 0777) < 0 && errno != EEXIST)
                return err_set(e, errno, "cannot create folder", p);
            *c = keep;
            if (!keep)
                break;
        }
    }
    if (stat(p, &st) < 0)
        return err_set(e, errno, "cannot create folder", p);
    if (!S_ISDIR(st.st_mode))
        return err_set(e, ENOTDIR, "cannot create folder", p);
    return 0;
}

static void print_err(const cg_err *e)
{
    if (e->errnum)
        fprintf(stderr, "corpusgen: %s: %s: %s\n", e->path, e->what, strerror(e->errnum));
    else
        fprintf(stderr, "corpusgen: %s: zstd: %s\n", e->path, e->what);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    cg_opts o = { .seed = 1, .size = (uint64_t)16 << 20, .n_shards = 1, .text = 1, .jsonl = 1,
                  .level = CG_LEVEL_DEFAULT,
                  .cyrillic_thr = (uint32_t)((uint64_t)CG_CYRILLIC_PCT_DEFAULT * 4294967296u / 100),
                  .threads = 0, .quiet = 0, .outdir = "corpusgen-out" };
    uint64_t v;
    int c;
    opterr = 0;
    while ((c = getopt(argc, argv, ":s:S:n:f:l:c:T:qo:h")) != -1) {
        switch (c) {
        case 's':
            if (parse_u64(optarg, UINT64_MAX, &o.seed) < 0)
                usage_error("bad seed (an integer 0..2^64-1)", optarg);
            break;
        case 'S':
            if (parse_size(optarg, &o.size) < 0)
                usage_error("bad size (bytes, optionally with K, M, G or T)", optarg);
            break;
        case 'n':
            if (parse_u64(optarg, CG_SHARDS_MAX, &v) < 0 || v == 0)
                usage_error("bad number of shards (1..1000)", optarg);
            o.n_shards = (unsigned)v;
            break;
        case 'f':
            if (!strcmp(optarg, "text"))
                o.text = 1, o.jsonl = 0;
            else if (!strcmp(optarg, "jsonl"))
                o.text = 0, o.jsonl = 1;
            else if (!strcmp(optarg, "both"))
                o.text = o.jsonl = 1;
            else
                usage_error("bad format (text, jsonl or both)", optarg);
            break;
        case 'l': {
            char *end;
            errno = 0;
            long l = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || l < ZSTD_minCLevel() || l > ZSTD_maxCLevel() ||
                l == 0)
                usage_error("bad zstd level", optarg);
            o.level = (int)l;
            break;
        }
        case 'c':
            if (parse_u64(optarg, 100, &v) < 0)
                usage_error("bad Cyrillic percentage (0..100)", optarg);
            o.cyrillic_thr = v == 100 ? UINT32_MAX : (uint32_t)(v * 4294967296u / 100);
            break;
        case 'T':
            if (parse_u64(optarg, 1024, &v) < 0)
                usage_error("bad thread count (0..1024)", optarg);
            o.threads = (int)v;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'o':
            if (!*optarg)
                usage_error("empty output folder", NULL);
            o.outdir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':': {
            char opt[3] = { '-', (char)optopt, 0 };
            usage_error("option needs a value", opt);
            break;
        }
        default: {
            char opt[3] = { '-', (char)optopt, 0 };
            usage_error("unknown option", opt);
        }
        }
    }
    if (optind < argc)
        usage_error("unexpected argument", argv[optind]);

    double t0 = now_seconds();
    cg_err err;
    char sub[PATH_MAX];
    if (make_dirs(o.outdir, &err) < 0) {
        print_err(&err);
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        if (!(i == 0 ? o.text : o.jsonl))
            continue;
        snprintf(sub, sizeof sub, "%s/%s", o.outdir, i == 0 ? "text" : "jsonl");
        if (make_dirs(sub, &err) < 0) {
            print_err(&err);
            return 1;
        }
    }

    static cg_model model; /* ~200 KB of fixed arrays: static, not on the stack */
    model_build(&model);
    cg_shard_result *res = calloc(o.n_shards, sizeof *res);
    if (!res)
        die_oom();
    int n_shards = (int)o.n_shards;
#ifdef _OPENMP
    int threads = o.threads > 0 ? o.threads : omp_get_num_procs();
    /* Shards are independent: a thread takes the next one when it is done. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) default(none) \
    shared(model, o, res, n_shards)
#endif
    for (int i = 0; i < n_shards; i++)
        shard_write(&model, &o, (unsigned)i, &res[i]);

    int status = 0;
    uint64_t n_art = 0, n_text = 0, n_jsonl = 0, z_text = 0, z_jsonl = 0;
    for (unsigned i = 0; i < o.n_shards; i++) {
        if (res[i].failed) { /* the first in shard order: the same message every run */
            print_err(&res[i].err);
            status = 1;
            break;
        }
        n_art += res[i].n_articles;
        n_text += res[i].text_bytes;
        n_jsonl += res[i].jsonl_bytes;
        z_text += res[i].zst_text;
        z_jsonl += res[i].zst_jsonl;
    }
    if (!status && !o.quiet) {
        fprintf(stderr, "corpusgen: seed %llu: %u shards, %llu articles, %llu text bytes",
                (unsigned long long)o.seed, o.n_shards, (unsigned long long)n_art,
                (unsigned long long)n_text);
        if (o.text)
            fprintf(stderr, ", text/ %llu bytes", (unsigned long long)z_text);
        if (o.jsonl)
            fprintf(stderr, ", jsonl/ %llu bytes (%llu uncompressed)",
                    (unsigned long long)z_jsonl, (unsigned long long)n_jsonl);
        fprintf(stderr, ", %.1f s\n", now_seconds() - t0);
    }
    free(res);
    model_free(&model);
    return status;
}
