/* common.c - allocation, buffers, errors (see common.h). */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Out of memory mid-run: nothing counted so far can be trusted to be
 * whole, so the run ends as a failed run does (exit 1, its temporary
 * files and staging folder removed, the previous tables left), with a
 * message, not with abort's core dump. */
void cs_out_of_memory(const char *what)
{
    fprintf(stderr, "corpusstat: out of memory (allocating %s); no table written\n", what);
    cs_remove_temp_files();
    _exit(1);
}

static void oom(size_t n)
{
    char what[32];
    snprintf(what, sizeof what, "%zu bytes", n);
    cs_out_of_memory(what);
}

/* Test hook: CORPUSSTAT_FAIL_ALLOC=N makes the Nth allocation made
 * through these functions fail (1-based), as if memory had run out, so
 * that tests reach oom() at any point of a run (tests/py/test_faults.py).
 * Read once, when the library is loaded; costs a branch an allocation
 * when unset. */
static long g_fail_at, g_allocs;

__attribute__((constructor)) static void read_fail_hook(void)
{
    const char *v = getenv("CORPUSSTAT_FAIL_ALLOC");
    g_fail_at = v ? atol(v) : 0;
}

static inline int fail_now(void)
{
    return CS_UNLIKELY(g_fail_at > 0) &&
           __atomic_add_fetch(&g_allocs, 1, __ATOMIC_RELAXED) == g_fail_at;
}

void *cs_xmalloc(size_t n)
{
    void *p = fail_now() ? NULL : malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *cs_xcalloc(size_t n, size_t size)
{
    void *p = fail_now() ? NULL : calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *cs_xrealloc(void *p, size_t n)
{
    void *q = fail_now() ? NULL : realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *cs_xaligned(size_t align, size_t n)
{
    void *p = NULL;
    if (fail_now() || posix_memalign(&p, align, n ? n : 1) != 0)
        oom(n);
    return p;
}

#define HUGE_PAGE ((size_t)2 << 20)

void *cs_xhuge(size_t n)
{
    const size_t align = n < HUGE_PAGE ? 64 : HUGE_PAGE;
    const size_t rounded = (n + align - 1) & ~(align - 1);
    void *p = cs_xaligned(align, rounded);
#ifndef CS_NO_THP /* -DCS_NO_THP to measure without them */
    if (align == HUGE_PAGE)
        madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

char *cs_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cs_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

void cs_buf_reserve(cs_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    b->data = cs_xrealloc(b->data, cap);
    b->cap = cap;
}

void cs_buf_append(cs_buf *b, const void *p, size_t n)
{
    if (!n) /* p may be NULL then, which memcpy must not be given */
        return;
    cs_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void cs_buf_free(cs_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void cs_error_set(cs_error *err, cs_status code, const char *path, const char *fmt, ...)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->code = code;
    if (path)
        snprintf(err->path, sizeof err->path, "%s", path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

size_t cs_utf8_seq_len(const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    uint8_t b = p[0], lo = 0x80, hi = 0xBF;
    size_t len;
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3;
        lo = b == 0xE0 ? 0xA0 : 0x80;
        hi = b == 0xED ? 0x9F : 0xBF;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4;
        lo = b == 0xF0 ? 0x90 : 0x80;
        hi = b == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if ((p[k] & 0xC0) != 0x80)
            return 0;
    return len;
}

double cs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
