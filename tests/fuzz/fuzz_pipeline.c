/*
 * fuzz_pipeline.c - the whole run (corpusstat count) on one small input,
 * twice: once plainly, once on two threads in chunks of a few bytes under
 * the smallest --memory (spills, merges of runs, rows on disk).
 *
 * Input: four bytes of settings, then the input's content.
 *  a: format (text, JSONL), zstd (the harness compresses the content),
 *     documents (file, line, blank), --strict
 *  b: --ngrams (1, 1-2, 1-3, 2-3), --cooc (none, window, doc), --weight
 *  c: --window, --top, --min-count, --normalize, --join-lines
 *  d: the second run's chunk size
 * Checks, beyond no crash: both runs succeed or fail alike; when they
 * succeed, their tables are the same bytes (counts are exact whatever the
 * threads, the chunks and the budget) and valid UTF-8 whatever the input;
 * when they fail, with a message.
 * FUZZ_VERBOSE=1 prints what became of each input.
 */
#include <string.h>
#include <zstd.h>

#include "common.h"
#include "fuzz.h"

static const char *g_dir;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Threads that spin between parallel regions (OpenMP's default) cost
     * a run of a few bytes 70 ms; sleeping, 5. */
    setenv("OMP_WAIT_POLICY", "passive", 0);
    g_dir = fz_workdir("run");
    return 0;
}

static const char *const TABLES[] = {"terms.csv", "ngrams.csv", "cooc.csv"};
#define N_TABLES (sizeof TABLES / sizeof *TABLES)

/* Reads out/name whole (empty when it is not there). */
static void slurp(const char *out, const char *name, cs_buf *b)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", out, name);
    b->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    uint8_t chunk[4096];
    for (size_t k; (k = fread(chunk, 1, sizeof chunk, f)) > 0;)
        cs_buf_append(b, chunk, k);
    fclose(f);
}

static void ignore_diag(void *user, const cs_diag *d)
{
    (void)user;
    FZ_CHECK(d->path && d->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t a = fz_byte(&data, &size), b = fz_byte(&data, &size);
    const uint8_t c = fz_byte(&data, &size), d = fz_byte(&data, &size);
    const int jsonl = a & 1, zst = (a >> 1) & 1;
    char in[128];
    snprintf(in, sizeof in, "%s/in.%s%s", g_dir, jsonl ? "jsonl" : "txt", zst ? ".zst" : "");
    FILE *f = fopen(in, "wb");
    FZ_CHECK(f != NULL);
    if (zst) {
        const size_t bound = ZSTD_compressBound(size);
        void *z = malloc(bound);
        const size_t k = ZSTD_compress(z, bound, data, size, 1);
        FZ_CHECK(!ZSTD_isError(k) && fwrite(z, 1, k, f) == k);
        free(z);
    } else {
        FZ_CHECK(fwrite(data, 1, size, f) == size);
    }
    FZ_CHECK(fclose(f) == 0);

    static const int ngrams[4][2] = {{1, 1}, {1, 2}, {1, 3}, {2, 3}};
    cs_options o;
    cs_options_init(&o);
    o.format = jsonl ? CS_FORMAT_JSONL : CS_FORMAT_TEXT;
    o.doc_sep = (cs_docsep)((a >> 2) % 3);
    o.strict = (a >> 4) & 1;
    o.ngram_min = ngrams[b & 3][0];
    o.ngram_max = ngrams[b & 3][1];
    o.cooc = (cs_cooc)((b >> 2) % 3);
    o.weight = o.cooc == CS_COOC_WINDOW ? (cs_weight)((b >> 4) & 1) : CS_WEIGHT_NONE;
    if (o.cooc == CS_COOC_WINDOW)
        o.window = 1 + (c & 7);
    o.top = (c >> 3) & 1 ? 3 : UINT64_MAX;
    o.min_count = (c >> 4) & 1 ? 2 : 0;
    o.normalize = (cs_norm)((c >> 5) % 3);
    o.join_lines = (c >> 7) & 1;
    o.on_diag = ignore_diag;
    o.tmp_dir = g_dir;
    o.threads = 1;
    char out1[96], out2[96];
    snprintf(out1, sizeof out1, "%s/out1", g_dir);
    snprintf(out2, sizeof out2, "%s/out2", g_dir);
    const char *inputs[] = {in};

    cs_error e1, e2;
    memset(&e1, 0, sizeof e1);
    memset(&e2, 0, sizeof e2);
    o.out_dir = out1;
    const cs_status s1 = cs_count(&o, inputs, 1, &e1);
    o.out_dir = out2;
    o.threads = 2;
    o.chunk_size = 1 + d % 64;
    o.memory = (uint64_t)64 << 10;
    const cs_status s2 = cs_count(&o, inputs, 1, &e2);

    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "run: %s\n", s1 == CS_OK ? "tables written" : e1.message);
    FZ_CHECK(s1 == s2);
    if (s1 != CS_OK) {
        FZ_CHECK(e1.message[0] && e2.message[0]);
    } else {
        cs_buf t1 = {0}, t2 = {0};
        for (size_t i = 0; i < N_TABLES; i++) {
            slurp(out1, TABLES[i], &t1);
            slurp(out2, TABLES[i], &t2);
            FZ_CHECK(fz_valid_utf8(t1.data, t1.len));
            if (!fz_same(t1.data, t1.len, t2.data, t2.len)) {
                fprintf(stderr, "%s differs:\n--- plain\n%.*s\n--- 2 threads, chunks of %zu, 64K\n%.*s\n",
                        TABLES[i], (int)t1.len, (const char *)t1.data, o.chunk_size, (int)t2.len,
                        (const char *)t2.data);
                FZ_CHECK(0);
            }
        }
        cs_buf_free(&t1);
        cs_buf_free(&t2);
    }
    fz_clean_out(out1);
    fz_clean_out(out2);
    unlink(in);
    return 0;
}
