/*
 * failpread.c - an LD_PRELOAD shim for tests: pread on corpusstat's spill
 * files (a path holding "/corpusstat-" and ending in ".zst") and on its
 * state files (ending in "/state.cst") fails with EIO
 * from the FAIL_PREAD_FROM-th such call on (1-based; unset: never), so that
 * a test can make the merge meet a run it cannot read back. With
 * FAIL_PREAD_LOG set, the number of such calls is printed to stderr at exit.
 * With FAIL_PWRITE_MATCH set, pwrite on a spill file whose name holds that
 * string fails with ENOSPC (a disk that fills when the merge writes its
 * scratch, say, after the counting's spills went through).
 * Built by tests/py/test_spill.py and test_state.py with the system's cc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long calls, fail_from = -1;

static void report(void)
{
    if (getenv("FAIL_PREAD_LOG"))
        fprintf(stderr, "failpread: %ld spill or state preads\n", calls);
}

__attribute__((constructor)) static void init(void)
{
    const char *e = getenv("FAIL_PREAD_FROM");
    if (e)
        fail_from = atol(e);
    atexit(report);
}

static int is_spill(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 4)
        return 0;
    path[n] = 0;
    return (strstr(path, "/corpusstat-") && strcmp(path + n - 4, ".zst") == 0) ||
           (n >= 10 && strcmp(path + n - 10, "/state.cst") == 0);
}

ssize_t pread(int fd, void *buf, size_t n, off_t at)
{
    static ssize_t (*real)(int, void *, size_t, off_t);
    if (!real)
        real = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
    if (is_spill(fd)) {
        long k = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
        if (fail_from >= 1 && k >= fail_from) {
            errno = EIO;
            return -1;
        }
    }
    return real(fd, buf, n, at);
}

ssize_t pread64(int fd, void *buf, size_t n, off_t at)
{
    return pread(fd, buf, n, at);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t at)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    const char *match = getenv("FAIL_PWRITE_MATCH");
    if (match && *match && is_spill(fd)) {
        char link[64], path[4096];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, path, sizeof path - 1);
        if (k > 0) {
            path[k] = 0;
            const char *base = strrchr(path, '/');
            if (strstr(base ? base : path, match)) {
                errno = ENOSPC;
                return -1;
            }
        }
    }
    return real(fd, buf, n, at);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t at)
{
    return pwrite(fd, buf, n, at);
}
