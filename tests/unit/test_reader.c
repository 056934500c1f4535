/* test_reader.c - document boundaries, and zstd shards read through buffers
 * of a few bytes: concatenated and skippable frames, a cut frame, a corrupt
 * block. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "reader.h"
#include "testhelp.h"

static size_t cut(const char *s, cs_cut_mode m, int final)
{
    return cs_cut((const uint8_t *)s, strlen(s), m, final);
}

static void test_cut(void)
{
    CHECK(cut("a\nb\nc", CS_CUT_LINE, 0) == 4);
    CHECK(cut("abc", CS_CUT_LINE, 0) == 0);
    CHECK(cut("abc", CS_CUT_LINE, 1) == 3);
    CHECK(cut("a\rb", CS_CUT_LINE, 0) == 2);
    CHECK(cut("a\r", CS_CUT_LINE, 0) == 0); /* an LF may follow */
    CHECK(cut("a\r\nb", CS_CUT_LINE, 0) == 3);
    CHECK(cut("{}\n{}\r", CS_CUT_JSONL, 0) == 3);
    CHECK(cut("a\nb\n\nc\n", CS_CUT_BLANK, 0) == 5);
    CHECK(cut("a\nb\n \t\nc", CS_CUT_BLANK, 0) == 7);
    CHECK(cut("a\r\n\r\nb", CS_CUT_BLANK, 0) == 5);
    CHECK(cut("a\r\n\r", CS_CUT_BLANK, 0) == 0);
    CHECK(cut("a\nb\nc", CS_CUT_BLANK, 0) == 0);
    CHECK(cut("a\nb", CS_CUT_NONE, 0) == 0);
    /* inside an open document: the first line is its rest */
    CHECK(cs_cut_first((const uint8_t *)"  \nx\n", 5, CS_CUT_LINE) == 3);
    CHECK(cs_cut_first((const uint8_t *)"  \nx\n\n", 6, CS_CUT_BLANK) == 6);
    CHECK(cs_cut_first((const uint8_t *)"\n\n", 2, CS_CUT_BLANK) == 2);
    CHECK(cs_cut_first((const uint8_t *)"ab", 2, CS_CUT_BLANK) == 0);
}

/* The obvious forward reading of "after the last blank line", to check the
 * engine's backward search on every short string over a small alphabet. */
static size_t blank_cut_forward(const uint8_t *p, size_t n)
{
    size_t last = 0;
    int blank = 1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' || p[i] == '\r') {
            size_t end = i + 1;
            if (p[i] == '\r') {
                if (i + 1 == n)
                    break;
                if (p[i + 1] == '\n')
                    end = ++i + 1;
            }
            if (blank)
                last = end;
            blank = 1;
        } else if (p[i] != ' ' && p[i] != '\t') {
            blank = 0;
        }
    }
    return last;
}

static void test_cut_blank_exhaustive(void)
{
    static const uint8_t alphabet[] = {'a', ' ', '\t', '\n', '\r'};
    uint8_t s[8];
    for (size_t n = 0; n <= 7; n++) {
        size_t combos = 1;
        for (size_t k = 0; k < n; k++)
            combos *= 5;
        for (size_t c = 0; c < combos; c++) {
            size_t x = c;
            for (size_t k = 0; k < n; k++, x /= 5)
                s[k] = alphabet[x % 5];
            size_t want = blank_cut_forward(s, n), got = cs_cut(s, n, CS_CUT_BLANK, 0);
            if (want != got) {
                CHECK_MSG(want == got, "length %zu combo %zu: %zu != %zu", n, c, got, want);
                return;
            }
        }
    }
    CHECK(1);
}

/* Writes bytes to a temporary *.zst file; returns its path (static). */
static const char *write_tmp(const void *p, size_t n)
{
    static char path[64];
    strcpy(path, "/tmp/cs-test-reader-XXXXXX.zst");
    int fd = mkstemps(path, 4);
    if (fd < 0 || write(fd, p, n) != (ssize_t)n)
        abort();
    close(fd);
    return path;
}

/* Reads the whole input through a buffer of `cap` bytes. Returns 0 or -1. */
static int read_all(const char *path, size_t cap, cs_buf *out, const char **why, uint64_t *off)
{
    cs_input in = {(char *)path, 0, 1, CS_FORMAT_TEXT, 0, NULL};
    const char *w = NULL;
    cs_source *s = cs_source_open(&in, &w);
    if (!s)
        return -2;
    uint8_t *buf = malloc(cap);
    out->len = 0;
    int rc = 0;
    for (;;) {
        size_t got;
        if (cs_source_read(s, buf, cap, &got, why, off) < 0) {
            rc = -1;
            break;
        }
        if (!got)
            break;
        cs_buf_append(out, buf, got);
    }
    free(buf);
    cs_source_close(s);
    return rc;
}

/* Compresses with a content checksum, as the zstd CLI does. */
static size_t compress(void *dst, size_t cap, const char *src, int level)
{
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    size_t n = ZSTD_compress2(c, dst, cap, src, strlen(src));
    ZSTD_freeCCtx(c);
    if (ZSTD_isError(n))
        abort();
    return n;
}

static void test_zstd(void)
{
    const char *a = "first frame, with some words; ", *b = "second frame \xC3\xA9t\xC3\xA9.";
    size_t cap = ZSTD_compressBound(100);
    uint8_t *z = malloc(3 * cap + 64);
    size_t n1 = compress(z, cap, a, 3);
    /* a skippable frame between the two */
    uint8_t skip[12] = {0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 'j', 'u', 'n', 'k'};
    memcpy(z + n1, skip, sizeof skip);
    size_t n2 = compress(z + n1 + 12, cap, b, 19);
    size_t total = n1 + 12 + n2;
    cs_buf out = {0};
    const char *why;
    uint64_t off;
    for (size_t bufsize = 1; bufsize <= 9; bufsize++) {
        const char *path = write_tmp(z, total);
        int rc = read_all(path, bufsize, &out, &why, &off);
        CHECK_MSG(rc == 0 && out.len == strlen(a) + strlen(b) &&
                      memcmp(out.data, a, strlen(a)) == 0 &&
                      memcmp(out.data + strlen(a), b, strlen(b)) == 0,
                  "buffer %zu: rc %d, %zu bytes", bufsize, rc, out.len);
        unlink(path);
    }
    /* the second frame cut short */
    const char *path = write_tmp(z, total - 3);
    int rc = read_all(path, 4, &out, &why, &off);
    CHECK_MSG(rc == -1 && off == total - 3 && strstr(why, "truncated"), "cut: rc %d off %llu why %s",
              rc, (unsigned long long)off, rc ? why : "");
    unlink(path);
    /* a corrupt byte in the second frame's block */
    z[n1 + 12 + n2 / 2] ^= 0xFF;
    path = write_tmp(z, total);
    rc = read_all(path, 7, &out, &why, &off);
    CHECK_MSG(rc == -1 && off > n1, "corrupt: rc %d off %llu", rc, (unsigned long long)off);
    unlink(path);
    /* not zstd at all */
    path = write_tmp("plain text", 10);
    rc = read_all(path, 7, &out, &why, &off);
    CHECK_MSG(rc == -1 && off == 0, "not zstd: rc %d off %llu", rc, (unsigned long long)off);
    unlink(path);
    /* an empty .zst is empty content */
    path = write_tmp("", 0);
    rc = read_all(path, 7, &out, &why, &off);
    CHECK(rc == 0 && out.len == 0);
    unlink(path);
    cs_buf_free(&out);
    free(z);
}

static void test_expand(void)
{
    char dir[] = "/tmp/cs-test-walk-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char p[256];
    const char *names[] = {"b.txt", "a.jsonl.zst", "a/x.txt", "a.txt", ".hidden", "a/.h/y.txt", "c.ndjson"};
    snprintf(p, sizeof p, "%s/a", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/a/.h", dir);
    mkdir(p, 0755);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        fputs("x", f);
        fclose(f);
    }
    cs_input_list l = {0};
    const char *args[] = {dir, "/nonexistent/file"};
    cs_inputs_expand(args, 2, CS_FORMAT_AUTO, NULL, 0, &l);
    /* bytewise path order: "a.jsonl.zst" < "a.txt" < "a/x.txt" ('.' < '/') */
    const char *want[] = {"a.jsonl.zst", "a.txt", "a/x.txt", "b.txt", "c.ndjson"};
    CHECK(l.n == 6);
    for (size_t i = 0; i < 5 && i < l.n; i++) {
        const char *rel = l.v[i].path + strlen(dir) + 1;
        CHECK_MSG(strcmp(rel, want[i]) == 0, "%zu: %s", i, rel);
    }
    if (l.n == 6) {
        CHECK(l.v[0].is_zst && l.v[0].format == CS_FORMAT_JSONL);
        CHECK(!l.v[1].is_zst && l.v[1].format == CS_FORMAT_TEXT);
        CHECK(l.v[4].format == CS_FORMAT_JSONL);
        CHECK(l.v[5].error != NULL);
    }
    cs_inputs_free(&l);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* cs_cut_first_mapped finds what cs_cut_first finds, in a mapping it
 * gives back as it reads (pages of a document longer than memory): ends
 * far past the release step, CRLF across a step, blank lines of spaces. */
static void test_cut_first_mapped(void)
{
    const size_t n = (size_t)13 << 20;
    char path[] = "/tmp/cs-test-reader-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    uint8_t *text = malloc(n);
    for (size_t i = 0; i < n; i++)
        text[i] = "abc d"[i % 5];
    const size_t at[] = {((size_t)4 << 20) - 1, ((size_t)9 << 20) + 7, n - 3};
    memcpy(text + at[0], "\r\n", 2);        /* a CRLF across the first release */
    memcpy(text + at[1], "\n \t\r\n", 5);   /* a line of blanks */
    memcpy(text + at[2], "\n\n", 2);
    CHECK(write(fd, text, n) == (ssize_t)n);
    const uint8_t *map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(map != MAP_FAILED);
    const cs_cut_mode modes[] = {CS_CUT_LINE, CS_CUT_BLANK, CS_CUT_JSONL};
    const size_t want[] = {at[0] + 2, at[1] + 5, at[0] + 2};
    for (int m = 0; m < 3; m++) {
        for (size_t from = 0; from < n; from += (size_t)3 << 20) {
            const size_t a = cs_cut_first(text + from, n - from, modes[m]);
            const size_t b = cs_cut_first_mapped(map + from, n - from, modes[m]);
            CHECK_MSG(a == b, "mode %d from %zu: %zu against %zu", m, from, a, b);
            if (from == 0)
                CHECK_MSG(a == want[m], "mode %d: %zu", m, a);
        }
    }
    munmap((void *)map, n);
    close(fd);
    unlink(path);
    free(text);
}

int main(void)
{
    test_cut();
    test_cut_first_mapped();
    test_cut_blank_exhaustive();
    test_zstd();
    test_expand();
    return TEST_REPORT();
}
