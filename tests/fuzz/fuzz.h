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

/* Splits a fuzz input: takes the next byte (0 when none are left). */
static inline uint8_t fz_byte(const uint8_t **p, size_t *n)
{
    if (!*n)
        return 0;
    --*n;
    return *(*p)++;
}

#endif
