/*
 * fuzz_reader.c - the reader (a file mapped, or decompressed from zstd
 * frames into bounded buffers) and the document cutter.
 *
 * Input: a byte of flags, a byte for the buffer size, then the content.
 * flags & 1: the harness compresses the content itself (two frames, split
 * where flags say, with or without checksums and declared sizes; flags &
 * 8: the last byte or bytes cut off, a shard cut short), so that the
 * decoded text is the fuzzer's; else the content is the file as it is,
 * read as zstd when flags & 8. Checks, beyond no crash:
 *  - frames the harness made decode to the content, whatever the buffer
 *    size; cut short, they are an error, after a prefix of the content;
 *  - a plain file is viewed as its bytes;
 *  - cutting the text where cs_cut says (as the pipeline cuts chunks), or
 *    where cs_cut_first says inside an open document, tokenizes each piece
 *    on its own to the same documents and terms as the whole text;
 *  - cs_cut_first_mapped, on the file mapped, finds what cs_cut_first
 *    finds.
 */
#include <string.h>
#include <zstd.h>

#include "common.h"
#include "fuzz.h"
#include "reader.h"
#include "tokenize.h"

/* Tokenizes p[0..n) cut at the ends in cuts[0..k) (ascending), each piece
 * by a tokenizer on its own, as chunks go to workers; the events to out. */
static void tokenize_pieces(const cs_tok_config *cfg, const uint8_t *p, size_t n,
                            const size_t *cuts, size_t k, cs_buf *out)
{
    cs_tok *t = cs_tok_new(cfg);
    cs_tok_set_sink(t, fz_record_events, out);
    size_t at = 0;
    for (size_t i = 0; i <= k; i++) {
        const size_t end = i < k ? cuts[i] : n;
        cs_tok_reset(t);
        if (end > at)
            cs_tok_feed(t, p + at, end - at);
        cs_tok_finish(t);
        at = end;
    }
    cs_tok_free(t);
}

/* Cuts text as the pipeline cuts a buffer: windows of `step` bytes grown
 * until cs_cut finds a boundary. Checks each cut, and that the pieces
 * count as the whole. */
static void check_cuts(const uint8_t *p, size_t n, cs_cut_mode mode, size_t step, int join)
{
    if (mode == CS_CUT_NONE) {
        FZ_CHECK(cs_cut(p, n, mode, 0) == 0);
        return;
    }
    size_t *cuts = malloc((n + 1) * sizeof *cuts), k = 0;
    for (size_t at = 0, win = step; at < n;) {
        win = win < n - at ? win : n - at;
        const int final = at + win == n;
        const size_t c = cs_cut(p + at, win, mode, final);
        FZ_CHECK(c <= win);
        if (c == 0) {
            FZ_CHECK(!final);
            win += step;
            continue;
        }
        if (mode == CS_CUT_JSONL && !final)
            FZ_CHECK(p[at + c - 1] == '\n');
        at += c;
        if (at < n)
            cuts[k++] = at;
        win = step;
    }
    if (mode != CS_CUT_JSONL) {
        cs_tok_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.fold = 1;
        cfg.max_len = 64;
        cfg.join_lines = join;
        cfg.docs = mode == CS_CUT_LINE ? CS_TOK_DOCS_LINE : CS_TOK_DOCS_BLANK;
        cs_buf whole = {0}, pieces = {0};
        tokenize_pieces(&cfg, p, n, NULL, 0, &whole);
        tokenize_pieces(&cfg, p, n, cuts, k, &pieces);
        FZ_CHECK(fz_same(whole.data, whole.len, pieces.data, pieces.len));
        /* Inside an open document (the line holding `from` has a
         * non-blank byte before it), cs_cut_first's end is one too. */
        const size_t from = step % (n + 1);
        if (from > 0 && !strchr(" \t\v\f\r\n", p[from - 1]) && p[from - 1]) {
            const size_t c = cs_cut_first(p + from, n - from, mode);
            FZ_CHECK(c <= n - from);
            if (c) {
                const size_t at = from + c;
                pieces.len = 0;
                tokenize_pieces(&cfg, p, n, &at, at < n, &pieces);
                FZ_CHECK(fz_same(whole.data, whole.len, pieces.data, pieces.len));
            }
        }
        cs_buf_free(&whole);
        cs_buf_free(&pieces);
    }
    free(cuts);
}

/* The content as zstd frames: split at `split`, checksums and declared
 * sizes as flags say. */
static void compress(const uint8_t *p, size_t n, size_t split, uint8_t flags, cs_buf *out)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, (flags >> 6) & 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, !(flags >> 7));
    const size_t parts[2][2] = {{0, split}, {split, n}};
    for (int i = 0; i < 2; i++) {
        const size_t len = parts[i][1] - parts[i][0];
        const size_t bound = ZSTD_compressBound(len);
        cs_buf_reserve(out, bound);
        size_t k;
        if (flags & 0x20) { /* streamed: no size known up front */
            ZSTD_inBuffer in = {p + parts[i][0], len, 0};
            ZSTD_outBuffer o = {out->data + out->len, bound, 0};
            k = ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
            FZ_CHECK(k == 0);
            k = o.pos;
        } else {
            k = ZSTD_compress2(c, out->data + out->len, bound, p + parts[i][0], len);
            FZ_CHECK(!ZSTD_isError(k));
        }
        out->len += k;
    }
    ZSTD_freeCCtx(c);
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
    const uint8_t flags = fz_byte(&data, &size), capb = fz_byte(&data, &size);
    const int made = flags & 1, short_cut = (flags >> 3) & 1;
    const cs_cut_mode mode = (cs_cut_mode)((flags >> 1) & 3);
    const size_t cap = 1 + (size_t)capb * 37;
    cs_buf file = {0};
    if (made) {
        compress(data, size, size * ((flags >> 4) & 3) / 3, flags, &file);
        if (short_cut) /* 1 to 8 bytes short, never all of it */
            file.len -= 1 + capb % (file.len < 8 ? file.len : 8);
    } else {
        cs_buf_append(&file, data, size);
    }

    int fd;
    char path[64];
    if (fz_memfile(file.data, file.len, &fd, path) != 0) {
        cs_buf_free(&file);
        return 0;
    }
    cs_input in;
    memset(&in, 0, sizeof in);
    in.path = path;
    in.is_zst = made || short_cut;
    in.format = mode == CS_CUT_JSONL ? CS_FORMAT_JSONL : CS_FORMAT_TEXT;
    in.size = file.len;
    const char *why = NULL;
    cs_source *src = cs_source_open(&in, &why);
    FZ_CHECK(src != NULL);
    cs_buf text = {0};
    int failed = 0;
    const uint8_t *view;
    size_t n_view;
    if (cs_source_view(src, &view, &n_view)) {
        FZ_CHECK(!in.is_zst && fz_same(view, n_view, data, size));
        cs_buf_append(&text, view, n_view);
    } else {
        uint8_t *buf = malloc(cap);
        for (;;) {
            size_t got = 0;
            uint64_t off = 0;
            why = NULL;
            if (cs_source_read(src, buf, cap, &got, &why, &off) < 0) {
                FZ_CHECK(why && off <= file.len);
                failed = 1;
                break;
            }
            FZ_CHECK(got <= cap);
            if (!got)
                break;
            cs_buf_append(&text, buf, got);
        }
        free(buf);
        FZ_CHECK(cs_source_consumed(src) <= file.len);
    }
    cs_source_close(src);
    if (!in.is_zst && size > 0) {
        /* The search for a long document's end in a mapping, giving its
         * pages back as it reads, finds what the plain search finds. */
        const uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        FZ_CHECK(map != MAP_FAILED);
        const size_t from = cap % size;
        FZ_CHECK(cs_cut_first_mapped(map + from, size - from, mode) ==
                 cs_cut_first(data + from, size - from, mode));
        munmap((void *)map, size);
    }
    close(fd);
    if (made) {
        FZ_CHECK(failed == short_cut);
        FZ_CHECK(text.len <= size && (text.len == 0 || memcmp(text.data, data, text.len) == 0));
        if (!short_cut)
            FZ_CHECK(text.len == size);
    }
    if (!failed)
        check_cuts(text.data, text.len, mode, cap, (flags >> 4) & 1);
    cs_buf_free(&text);
    cs_buf_free(&file);
    return 0;
}
