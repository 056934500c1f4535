/*
 * stages.c - the floor of each counting stage, measured on one core.
 *
 * corpusstat's count phase is decompress -> tokenize -> hash -> look up.
 * `make bench` reports what the whole costs; this tool says what each part
 * costs, by running the same shards through successively longer prefixes of
 * that chain on one thread:
 *
 *   zstd       decompress the shards into a buffer (ZSTD_decompressStream)
 *   tokenize   + the engine's tokenizer (--doc-sep blank), events dropped
 *   hash       + XXH3 of every token (what the counter computes first)
 *   count      + the engine's counter: the table lookups of --ngrams A-B
 *   touch      hash + one random 8-byte increment per key occurrence (terms
 *              and each order of --ngrams A-B, as the counter) in a plain array of 2^k counters, k
 *              the least with 2^k >= 2 x the distinct keys the count stage
 *              found (-k K sets it): the floor of any hash counter of this
 *              many keys, which must at least touch a random line per
 *              occurrence; it stores no key and so is not exact.
 *
 * The difference between two rows is the cost of a stage; the first row
 * that falls under a speed target names the stage that cannot meet it on
 * one core. Output: one line per stage, tab-separated, for bench/run.py.
 *
 * Usage: stages [-n A-B] [-r RUNS] [-s STAGE] [-k LOG2] SHARD.txt.zst...
 * (-s: that stage alone, e.g. under perf record)
 *
 * It links the engine's internal headers (tokenize.h, count.h) on purpose:
 * it measures them, not the pipeline around them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zstd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common.h"
#include "count.h"
#include "tokenize.h"

enum { ST_ZSTD, ST_TOKENIZE, ST_HASH, ST_COUNT, ST_TOUCH, ST_N };
static const char *const stage_name[ST_N] = {"zstd", "tokenize", "hash", "count", "touch"};

typedef struct {
    uint64_t bytes, tokens, sink;
} tally;

static void sink_drop(void *ctx, const cs_tok_batch *b)
{
    tally *t = ctx;
    for (uint32_t i = 0; i < b->n_events; i++)
        t->tokens += b->kind[i] == CS_EV_TOKEN;
}

static void sink_hash(void *ctx, const cs_tok_batch *b)
{
    tally *t = ctx;
    for (uint32_t i = 0; i < b->n_events; i++) {
        if (b->kind[i] != CS_EV_TOKEN)
            continue;
        t->tokens++;
        t->sink ^= XXH3_64bits(b->bytes + b->off[i], b->len[i]); /* kept: not optimised away */
    }
}

typedef struct {
    tally tally;
    cs_counter counter;
} count_ctx;

/* The touch stage: the hashes of the open segment's last tokens, and the
 * array every key occurrence increments. */
typedef struct {
    tally tally;
    int gmin, gmax;
    unsigned hist_len;
    uint64_t hist[CS_NGRAM_MAX];
    uint64_t *cell, mask;
} touch_ctx;

static void sink_touch(void *ctx, const cs_tok_batch *b)
{
    touch_ctx *c = ctx;
    for (uint32_t i = 0; i < b->n_events; i++) {
        if (b->kind[i] != CS_EV_TOKEN) {
            c->hist_len = 0; /* every other event ends a segment or a document here */
            continue;
        }
        c->tally.tokens++;
        uint64_t h = XXH3_64bits(b->bytes + b->off[i], b->len[i]);
        memmove(c->hist + 1, c->hist, (CS_NGRAM_MAX - 1) * sizeof *c->hist);
        c->hist[0] = h;
        if (c->hist_len < (unsigned)c->gmax)
            c->hist_len++;
        /* The key of n tokens: a cheap mix of their hashes (no key is kept,
         * so its quality only matters for how the accesses spread). */
        uint64_t k = 0;
        for (unsigned n = 1; n <= c->hist_len; n++) {
            k = (k ^ c->hist[n - 1]) * 0x9E3779B97F4A7C15ull;
            if (n == 1 || (int)n >= c->gmin) /* terms are always counted, as by the engine */
                c->cell[(k >> 17) & c->mask]++;
        }
    }
}

static void sink_count(void *ctx, const cs_tok_batch *b)
{
    count_ctx *c = ctx;
    sink_drop(&c->tally, b);
    cs_counter_consume(&c->counter, b);
}

/* Runs one stage over all shards; returns seconds, fills *t. */
static double run(int stage, char **paths, int n_paths, int gmin, int gmax, unsigned touch_log2,
                  tally *t, uint64_t *distinct)
{
    cs_tok_config cfg = {.fold = 1, .docs = CS_TOK_DOCS_BLANK, .max_len = 64, .min_len = 1};
    cs_tok *tok = cs_tok_new(&cfg);
    count_ctx cc;
    memset(&cc, 0, sizeof cc);
    touch_ctx tc = {.gmin = gmin, .gmax = gmax};
    void *map = NULL;
    size_t map_len = 0;
    if (stage == ST_TOUCH) {
        tc.mask = ((uint64_t)1 << touch_log2) - 1;
        /* Anonymous zero pages, faulted in as they are touched, 2 MiB-aligned
         * and on transparent huge pages, as the engine's tables are
         * (table.c): the floor pays no more faults or TLB misses than they. */
        size_t bytes = (size_t)(tc.mask + 1) * sizeof *tc.cell, huge = (size_t)2 << 20;
        map_len = bytes + huge;
        map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) {
            fprintf(stderr, "stages: touch: no memory for 2^%u counters\n", touch_log2);
            exit(1);
        }
        tc.cell = (uint64_t *)(((uintptr_t)map + huge - 1) & ~(uintptr_t)(huge - 1));
        madvise(tc.cell, bytes, MADV_HUGEPAGE);
        cs_tok_set_sink(tok, sink_touch, &tc);
    } else if (stage == ST_COUNT) {
        cs_counter_init(&cc.counter, gmin, gmax, 1, 1);
        cs_tok_set_sink(tok, sink_count, &cc);
    } else {
        cs_tok_set_sink(tok, stage == ST_HASH ? sink_hash : sink_drop, t);
    }
    memset(t, 0, sizeof *t);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 31);
    size_t in_cap = ZSTD_DStreamInSize(), out_cap = 1 << 20;
    uint8_t *in = cs_xmalloc(in_cap), *out = cs_xmalloc(out_cap);
    double t0 = cs_now();
    for (int f = 0; f < n_paths; f++) {
        FILE *fp = fopen(paths[f], "rb");
        if (!fp) {
            perror(paths[f]);
            exit(1);
        }
        ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
        size_t got;
        while ((got = fread(in, 1, in_cap, fp)) > 0) {
            ZSTD_inBuffer ib = {in, got, 0};
            while (ib.pos < ib.size) {
                ZSTD_outBuffer ob = {out, out_cap, 0};
                size_t r = ZSTD_decompressStream(dctx, &ob, &ib);
                if (ZSTD_isError(r)) {
                    fprintf(stderr, "stages: %s: %s\n", paths[f], ZSTD_getErrorName(r));
                    exit(1);
                }
                t->bytes += ob.pos;
                if (stage != ST_ZSTD)
                    cs_tok_feed(tok, out, ob.pos);
            }
        }
        fclose(fp);
        if (stage != ST_ZSTD)
            cs_tok_finish(tok);
    }
    if (stage == ST_COUNT) {
        /* Grams are counted by sorting: their count ends with the merge
         * of the runs (one counter: ids stay local). */
        cs_counter_flush(&cc.counter);
        *distinct = cs_table_size(cc.counter.terms);
        cs_grams_scratch scratch = {0};
        for (int n = gmin < 2 ? 2 : gmin; n <= gmax; n++)
            for (unsigned p = 0; p < CS_N_PARTS; p++) {
                cs_part part = {0};
                cs_grams_merge_part(&cc.counter.grams[n], 1, NULL, p, &part,
                                    cs_gram_stride((unsigned)n), &scratch, NULL, NULL);
                *distinct += part.n;
                free(part.entries);
            }
        cs_grams_scratch_free(&scratch);
    }
    double secs = cs_now() - t0;
    if (stage == ST_COUNT) {
        t->tokens = cc.tally.tokens;
        cs_counter_free(&cc.counter);
    }
    if (stage == ST_TOUCH) {
        t->tokens = tc.tally.tokens;
        t->sink = tc.cell[0];
        munmap(map, map_len);
    }
    ZSTD_freeDCtx(dctx);
    free(in);
    free(out);
    cs_tok_free(tok);
    return secs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int gmin = 1, gmax = 1, runs = 3, i = 1, only = -1;
    unsigned touch_log2 = 0; /* 0: from the count stage's distinct keys */
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            int k = sscanf(argv[++i], "%d-%d", &gmin, &gmax);
            if (k < 1) {
                fprintf(stderr, "stages: -n %s: want N or A-B\n", argv[i]);
                return 2;
            }
            if (k == 1)
                gmax = gmin;
        } else if (!strcmp(argv[i], "-k") && i + 1 < argc) {
            touch_log2 = (unsigned)atoi(argv[++i]);
            if (touch_log2 < 6 || touch_log2 > 34) {
                fprintf(stderr, "stages: -k %s: want 6..34\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
            i++;
            for (int s = 0; s < ST_N; s++)
                if (!strcmp(argv[i], stage_name[s]))
                    only = s;
            if (only < 0) {
                fprintf(stderr, "stages: no stage '%s' (zstd, tokenize, hash, count, touch)\n", argv[i]);
                return 2;
            }
        } else {
            break;
        }
    }
    if (i >= argc || runs < 1 || runs > 99 || gmin < 1 || gmax < gmin || gmax > CS_NGRAM_MAX) {
        fputs("usage: stages [-n A-B] [-r RUNS] [-s STAGE] [-k LOG2] SHARD.txt.zst...\n", stderr);
        return 2;
    }
    cs_tok_global_init();
    uint64_t distinct = 0;
    printf("stage\tseconds\tmb_per_s\tns_per_token\tbytes\ttokens\n");
    for (int s = 0; s < ST_N; s++) {
        if (only >= 0 && s != only)
            continue;
        if (s == ST_TOUCH && !touch_log2) {
            if (!distinct) /* -s touch alone: count once to size the array */
                run(ST_COUNT, argv + i, argc - i, gmin, gmax, 0, &(tally){0}, &distinct);
            for (touch_log2 = 6; ((uint64_t)1 << touch_log2) < 2 * distinct; touch_log2++)
                ;
        }
        double secs[99];
        tally t;
        for (int r = 0; r < runs; r++)
            secs[r] = run(s, argv + i, argc - i, gmin, gmax, touch_log2, &t, &distinct);
        qsort(secs, (size_t)runs, sizeof *secs, cmp_double);
        double med = secs[runs / 2];
        uint64_t tokens = t.tokens;
        if (s == ST_ZSTD && only < 0) { /* no tokenizer ran: per-token figures use the next stage's count */
            tally t2;
            run(ST_TOKENIZE, argv + i, argc - i, gmin, gmax, 0, &t2, &distinct);
            tokens = t2.tokens;
        }
        printf("%s\t%.3f\t%.1f\t%.1f\t%llu\t%llu\n", stage_name[s], med, t.bytes / med / 1e6,
               tokens ? med * 1e9 / (double)tokens : 0.0, (unsigned long long)t.bytes,
               (unsigned long long)tokens);
        fflush(stdout);
    }
    return 0;
}
