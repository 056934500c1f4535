/*
 * truncmap.c - an LD_PRELOAD shim for tests: an input cut short, or
 * removed, while corpusstat has it mapped. When mmap maps a file whose
 * path holds TRUNCATE_MAPPED, the shim truncates that file to
 * TRUNCATE_KEEP bytes (default 0) right after mapping it, once; with
 * UNLINK_MAPPED instead, it removes the file (the mapping keeps the bytes:
 * the run counts them). Deterministic where a test that truncates from
 * outside would race the reader.
 * Built by tests/py/test_faults.py with the system's cc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

static int done;

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    static void *(*real)(void *, size_t, int, int, int, off_t);
    if (!real)
        real = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    void *m = real(addr, len, prot, flags, fd, off);
    const char *trunc = getenv("TRUNCATE_MAPPED"), *gone = getenv("UNLINK_MAPPED");
    const char *want = trunc ? trunc : gone;
    if (m == MAP_FAILED || fd < 0 || !want)
        return m;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return m;
    path[n] = 0;
    /* the file's name, then once: inputs are mapped on several threads */
    if (!strstr(path, want) || __atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL) == 1)
        return m;
    const char *keep = getenv("TRUNCATE_KEEP");
    int rc = trunc ? truncate(path, keep ? atol(keep) : 0) : unlink(path);
    if (rc != 0)
        perror("truncmap");
    return m;
}
