/*
 * fuzz.h - what the fuzz targets (tests/fuzz/fuzz_*.c) share.
 *
 * Each target is one LLVMFuzzerTestOneInput. Built with clang and
 * -fsanitize=fuzzer (`make fuzz`), libFuzzer drives it; built with the
 * project's compiler and tests/fuzz/replay.c (`make test`, `make asan`),
 * it replays the saved corpus tests/fuzz/<target>/ once. A target checks
 * what must hold beyond "no crash" with FZ_CHECK: a failed check aborts,
 * which libFuzzer saves as a crash and the replay reports as a failure.
 */
#ifndef CS_FUZZ_H
#define CS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "tokenize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)                                                                  \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "fuzz check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

/* A regular file holding p[0..n), open on *fd (memfd: no disk, no name
 * left behind), and the path that opens it again ("/proc/self/fd/N"), so
 * that code reading files by name (the reader maps them) reads it. The
 * caller closes *fd. */
static inline int fz_memfile(const void *p, size_t n, int *fd, char path[64])
{
    *fd = memfd_create("corpusstat-fuzz", MFD_CLOEXEC);
    if (*fd < 0)
        return -1;
    const uint8_t *q = p;
    while (n) {
        ssize_t k = write(*fd, q, n);
        if (k <= 0) {
            close(*fd);
            return -1;
        }
        q += k;
        n -= (size_t)k;
    }
    snprintf(path, 64, "/proc/self/fd/%d", *fd);
    return 0;
}

/* 1 when a[0..na) and b[0..nb) are the same bytes (either may be NULL
 * when empty). */
static inline int fz_same(const void *a, size_t na, const void *b, size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

/* 1 when p[0..n) is well-formed UTF-8. */
static inline int fz_valid_utf8(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        const size_t k = p[i] < 0x80 ? 1 : cs_utf8_seq_len(p + i, n - i);
        if (!k)
            return 0;
        i += k;
    }
    return 1;
}

/* A tokenizer sink that records its events as bytes into a cs_buf (ctx):
 * each event's kind, then a term's length (uint32_t) and bytes. Two runs
 * gave the same events when they recorded the same bytes. */
static inline void fz_record_events(void *ctx, const cs_tok_batch *b)
{
    cs_buf *out = ctx;
    for (uint32_t i = 0; i < b->n_events; i++) {
        cs_buf_append(out, &b->kind[i], 1);
        if (b->kind[i] != CS_EV_TOKEN)
            continue;
        const uint32_t len = b->len[i];
        cs_buf_append(out, &len, sizeof len);
        cs_buf_append(out, b->bytes + b->off[i], len);
    }
}

/* The folder a target that runs the engine works in: made once, in
 * memory (/dev/shm) when it can be, else in /tmp, and removed when the
 * process ends. tag names it. */
static inline char *fz_dir_path(void)
{
    static char dir[64];
    return dir;
}

static inline void fz_dir_remove(void)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir_path());
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz: cannot remove %s\n", fz_dir_path());
}

static inline const char *fz_workdir(const char *tag)
{
    char *dir = fz_dir_path();
    snprintf(dir, 64, "/dev/shm/cs-fuzz-%s-XXXXXX", tag);
    if (!mkdtemp(dir)) {
        snprintf(dir, 64, "/tmp/cs-fuzz-%s-XXXXXX", tag);
        FZ_CHECK(mkdtemp(dir) != NULL);
    }
    atexit(fz_dir_remove);
    return dir;
}

/* Removes an output folder the engine wrote (its files only, then it). */
static inline void fz_clean_out(const char *out)
{
    static const char *const files[] = {"terms.csv", "ngrams.csv", "cooc.csv", "summary.json"};
    char path[160];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", out, files[i]);
        unlink(path);
    }
    rmdir(out);
}

/* Splits a fuzz input: takes the next byte (0 when none are left). */
static inline uint8_t fz_byte(const uint8_t **p, size_t *n)
{
    if (!*n)
        return 0;
    --*n;
    return *(*p)++;
}

#endif
