/*
 * fuzz_state.c - the state file reader (--state, corpusstat merge) on
 * damaged and forged files, and the merge of a state that reads.
 *
 * A state file ends with a checksum of its bytes and every section is a
 * zstd frame with its own, so bytes mutated at random fail those checks
 * and test little else. The input is therefore the state's content, which
 * the harness frames: first byte even, a list of sections, each
 *   u8 kind, u8 part, u16 length (little-endian), then length bytes:
 * a section's raw content, which the harness compresses; for the packed
 * kinds (grams 6, pairs 7) the first two bytes are a partition and its
 * number of entries and the rest that partition's raw run; consecutive
 * packed records of one kind and part make one section. First byte odd:
 * the rest is a state file as it is, given the checksum it should have.
 * Checks, beyond no crash: a state that reads is merged into tables
 * (corpusstat merge) without a crash, or refused with a message; a state
 * refused says why. FUZZ_VERBOSE=1 prints what became of each input.
 */
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>
#include <zstd.h>

#include "common.h"
#include "fuzz.h"
#include "state.h"
#include "table.h"

enum { SEC_GRAMS = 6, SEC_PAIRS = 7 };

static void put_u32(cs_buf *b, uint32_t v)
{
    uint8_t d[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    cs_buf_append(b, d, 4);
}

static void put_u64(cs_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_frame(cs_buf *b, const uint8_t *p, size_t n)
{
    const size_t bound = ZSTD_compressBound(n);
    cs_buf_reserve(b, bound);
    const size_t k = ZSTD_compress(b->data + b->len, bound, p, n, 1);
    FZ_CHECK(!ZSTD_isError(k));
    b->len += k;
}

/* A packed section of partitions parts[0..n) (partition, entries, raw). */
typedef struct {
    uint8_t part, entries;
    const uint8_t *raw;
    size_t len;
} packed;

static void put_packed(cs_buf *out, uint32_t kind, uint32_t part, const packed *v, size_t n)
{
    uint32_t entries[CS_N_PARTS] = {0};
    uint64_t raw[CS_N_PARTS] = {0}, comp[CS_N_PARTS] = {0};
    cs_buf frames[CS_N_PARTS];
    memset(frames, 0, sizeof frames);
    for (size_t i = 0; i < n; i++) { /* a partition given twice: the last */
        const unsigned p = v[i].part % CS_N_PARTS;
        frames[p].len = 0;
        if (v[i].len)
            put_frame(&frames[p], v[i].raw, v[i].len);
        entries[p] = v[i].entries;
        raw[p] = v[i].len;
        comp[p] = frames[p].len;
    }
    uint64_t raw_all = 0, comp_all = 20 * CS_N_PARTS;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        raw_all += raw[p];
        comp_all += comp[p];
    }
    put_u32(out, kind);
    put_u32(out, part);
    put_u64(out, raw_all);
    put_u64(out, comp_all);
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        put_u32(out, entries[p]);
        put_u64(out, raw[p]);
        put_u64(out, comp[p]);
    }
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        if (frames[p].len)
            cs_buf_append(out, frames[p].data, frames[p].len);
        cs_buf_free(&frames[p]);
    }
}

/* The state file the structured input describes. */
static void frame_state(const uint8_t *data, size_t size, cs_buf *out)
{
    cs_buf_append(out, "CSSTATE\n", 8);
    put_u32(out, CS_STATE_VERSION);
    put_u32(out, 0);
    packed *v = malloc((size / 4 + 1) * sizeof *v);
    size_t n = 0;
    uint32_t pk_kind = 0, pk_part = 0;
    while (size >= 4) {
        const uint32_t kind = data[0], part = data[1];
        size_t len = (size_t)data[2] | (size_t)data[3] << 8;
        data += 4;
        size -= 4;
        len = len < size ? len : size;
        const uint8_t *raw = data;
        data += len;
        size -= len;
        const int is_packed = kind == SEC_GRAMS || kind == SEC_PAIRS;
        if (n && (!is_packed || kind != pk_kind || part != pk_part)) {
            put_packed(out, pk_kind, pk_part, v, n);
            n = 0;
        }
        if (is_packed) {
            if (len < 2)
                continue;
            v[n++] = (packed){raw[0], raw[1], raw + 2, len - 2};
            pk_kind = kind;
            pk_part = part;
            continue;
        }
        put_u32(out, kind);
        put_u32(out, part);
        put_u64(out, len);
        const size_t at = out->len;
        put_u64(out, 0);
        put_frame(out, raw, len);
        const uint64_t comp = out->len - at - 8;
        for (int i = 0; i < 8; i++)
            out->data[at + i] = (uint8_t)(comp >> (8 * i));
    }
    if (n)
        put_packed(out, pk_kind, pk_part, v, n);
    free(v);
}

static const char *g_dir;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cs_tok_global_init();
    /* Tables of merged states go to memory, not to the disk. */
    g_dir = fz_workdir("state");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t mode = fz_byte(&data, &size);
    cs_buf file = {0};
    if (mode & 1)
        cs_buf_append(&file, data, size);
    else
        frame_state(data, size, &file);
    const uint64_t sum = XXH3_64bits(file.data, file.len);
    for (int i = 0; i < 8; i++) {
        const uint8_t b = (uint8_t)(sum >> (8 * i));
        cs_buf_append(&file, &b, 1);
    }
    cs_buf_append(&file, "CSSTEND\n", 8);

    char path[96];
    snprintf(path, sizeof path, "%s/state.cst", g_dir);
    FILE *f = fopen(path, "wb");
    FZ_CHECK(f && fwrite(file.data, 1, file.len, f) == file.len && fclose(f) == 0);
    cs_buf_free(&file);

    cs_error err;
    memset(&err, 0, sizeof err);
    cs_state *s = cs_state_read(path, 1, &err);
    const int verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (!s) {
        if (verbose)
            fprintf(stderr, "state refused: %s\n", err.message);
        FZ_CHECK(err.code == CS_ERR_INPUT && err.message[0]);
    } else {
        FZ_CHECK(s->settings != NULL);
        cs_state_free(s);
        /* What reads is merged as corpusstat merge would: tables, or a
         * clear refusal. */
        cs_options o;
        cs_options_init(&o);
        char out[96];
        snprintf(out, sizeof out, "%s/out", g_dir);
        const char *merge[] = {path};
        o.merge = merge;
        o.n_merge = 1;
        o.out_dir = out;
        o.threads = 1;
        o.tmp_dir = g_dir;
        memset(&err, 0, sizeof err);
        const cs_status st = cs_count(&o, NULL, 0, &err);
        if (verbose)
            fprintf(stderr, "state read; merge: %s\n", st == CS_OK ? "tables written" : err.message);
        FZ_CHECK(st == CS_OK || err.message[0]);
        fz_clean_out(out);
    }
    unlink(path);
    return 0;
}
