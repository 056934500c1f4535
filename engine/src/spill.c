/*
 * spill.c - packed runs to disk and back (see spill.h).
 *
 * DESIGN
 * A spill writes partition after partition of a run as zstd frames at the
 * end of its file (pwrite at the file's size: one writer a file, no
 * seek state shared). Level 1: the runs are varints already, and what
 * compression buys here is disk, not time; the frames carry zstd's
 * checksum so that a damaged file is an error, never a wrong count. The
 * frame offsets stay in memory with the run (65 numbers a run).
 *
 * Signals. Every path this module makes (files, then its folder) is also
 * on a global list that cs_remove_temp_files walks: it only reads the list
 * and calls unlink and rmdir, both async-signal-safe. Nodes are pushed
 * with a release store; cs_spill_free takes its own off the list after
 * removing their files, and frees them once no handler is walking it
 * (g_walkers). A path goes on the list before it is made, and the making
 * is bracketed by cs_tmp_enter/cs_tmp_leave: a handler (or oom), which
 * ends the process, walks the list, waits for the threads making paths,
 * and walks it again; a thread that would start making one then stops
 * for good. Left to chance: a handler that interrupts the making on its
 * own thread, between the make and the push (mkostemp's name in state.c,
 * unlinked at once).
 */
#include "spill.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "corpusstat.h"

#define SPILL_LEVEL 1

/* ------------------------------------------------------------------ */
/* paths to remove on a signal                                          */

typedef struct tmp_path {
    struct tmp_path *next;
    int is_dir;
    char path[];
} tmp_path;

static tmp_path *g_paths; /* newest first; read by signal handlers */
static int g_walkers;     /* handlers walking g_paths now */

static tmp_path *path_push(const char *path, int is_dir)
{
    size_t n = strlen(path) + 1;
    tmp_path *t = cs_xmalloc(sizeof *t + n);
    memcpy(t->path, path, n);
    t->is_dir = is_dir;
#pragma omp critical(cs_tmp_paths)
    {
        t->next = g_paths;
        __atomic_store_n(&g_paths, t, __ATOMIC_RELEASE);
    }
    return t;
}

/* Takes the nodes in `mine` off the list (after their paths are removed). */
static void path_drop(tmp_path *const *mine, size_t n)
{
#pragma omp critical(cs_tmp_paths)
    for (size_t i = 0; i < n; i++) {
        tmp_path **at = &g_paths;
        while (*at && *at != mine[i])
            at = &(*at)->next;
        if (*at)
            __atomic_store_n(at, mine[i]->next, __ATOMIC_RELEASE);
    }
}

/* Frees nodes path_drop took off the list, once no handler on another
 * thread can still be walking them (one on this thread has returned). */
static void path_free(tmp_path *const *mine, size_t n)
{
    while (__atomic_load_n(&g_walkers, __ATOMIC_ACQUIRE))
        sched_yield();
    for (size_t i = 0; i < n; i++)
        free(mine[i]);
}

cs_tmp_path *cs_tmp_track(const char *path, int is_dir)
{
    return path_push(path, is_dir);
}

void cs_tmp_untrack(cs_tmp_path *t)
{
    if (!t)
        return;
    path_drop(&t, 1);
    path_free(&t, 1);
}

static int g_dying;  /* cs_remove_temp_files has begun: the process is ending */
static int g_making; /* threads between cs_tmp_enter and cs_tmp_leave */
/* This thread's share of g_making. initial-exec: a handler reading it
 * must not make the TLS block allocate. */
static __thread int tl_making __attribute__((tls_model("initial-exec")));

/* Removes every path on the list: files first, then folders (a folder is
 * made before its files, so it comes later in the list; two passes make
 * the order not matter). Async-signal-safe. */
static void walk(void)
{
    __atomic_add_fetch(&g_walkers, 1, __ATOMIC_ACQ_REL);
    for (int dirs = 0; dirs < 2; dirs++)
        for (const tmp_path *t = __atomic_load_n(&g_paths, __ATOMIC_ACQUIRE); t;
             t = __atomic_load_n(&t->next, __ATOMIC_ACQUIRE))
            if (t->is_dir == dirs)
                (void)(dirs ? rmdir(t->path) : unlink(t->path));
    __atomic_sub_fetch(&g_walkers, 1, __ATOMIC_ACQ_REL);
}

void cs_tmp_enter(void)
{
    /* g_making first, tl_making after (and the reverse at the leave): a
     * handler on this thread between the two waits for it in vain, at
     * most its 2 s, rather than miss another thread. Both sides are
     * seq_cst (store, then load the other's): either the handler's wait
     * sees this thread making, or this thread sees the process ending. */
    __atomic_add_fetch(&g_making, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&g_dying, __ATOMIC_SEQ_CST)) {
        /* The process is ending and its handler may be past its last
         * walk: make nothing more. The handler's thread ends the process. */
        __atomic_sub_fetch(&g_making, 1, __ATOMIC_SEQ_CST);
        for (;;)
            pause();
    }
    tl_making++;
}

void cs_tmp_leave(void)
{
    tl_making--;
    __atomic_sub_fetch(&g_making, 1, __ATOMIC_SEQ_CST);
}

void cs_remove_temp_files(void)
{
    __atomic_store_n(&g_dying, 1, __ATOMIC_SEQ_CST);
    walk();
    /* Wait for threads making a path (not for this thread's own, which
     * the handler interrupted), at most 2 s, then walk again: what they
     * made goes, and a file made after the first walk no longer keeps its
     * folder. No thread starts making after this (cs_tmp_enter). The wait
     * runs out only when the thread this handler interrupted holds what a
     * maker waits for (a lock in malloc, say). */
    const struct timespec ms = {0, 1000000};
    for (int i = 0; i < 2000 && __atomic_load_n(&g_making, __ATOMIC_SEQ_CST) > tl_making; i++)
        nanosleep(&ms, NULL);
    walk();
}

/* ------------------------------------------------------------------ */
/* the folder and its files                                             */

struct cs_spill_file {
    cs_spill *sp;
    char name[64];
    int fd;          /* -1 until the first spill */
    uint64_t size;
    char *path;      /* owned */
    tmp_path *reg;   /* its node on the signal list */
    ZSTD_CCtx *cctx; /* owned */
    cs_buf out;      /* a compressed frame */
    int kept;        /* a file of the caller's (cs_spill_file_open): read, never removed */
    int scratch;     /* the merge's (cs_spill_file_scratch): not counted as spills */
    int raw;         /* bytes as given (cs_spill_file_raw), not zstd frames */
    cs_spill_file *next;
};

struct cs_spill {
    char *parent;  /* owned; NULL: $TMPDIR or /tmp */
    char *folder;  /* owned; NULL until the first spill */
    tmp_path *reg; /* the folder's node */
    cs_spill_file *files;
    char *error;   /* owned; the first error */
    int failed;    /* error set: no more spills */
    uint64_t spills, runs, keys, bytes_raw, bytes_read, n_files;
    uint64_t bytes_now, bytes_disk; /* what the files take; the most they took */
};

cs_spill *cs_spill_new(const char *parent)
{
    cs_spill *s = cs_xcalloc(1, sizeof *s);
    if (parent)
        s->parent = cs_xstrdup(parent);
    return s;
}

void cs_spill_free(cs_spill *s)
{
    if (!s)
        return;
    size_t n = 0;
    for (cs_spill_file *f = s->files; f; f = f->next)
        n++;
    tmp_path **mine = cs_xmalloc((n + 1) * sizeof *mine);
    n = 0;
    for (cs_spill_file *f = s->files; f; f = f->next) {
        if (f->fd >= 0) {
            close(f->fd);
            if (!f->kept) {
                unlink(f->path);
                mine[n++] = f->reg;
            }
        }
    }
    if (s->folder) {
        rmdir(s->folder);
        mine[n++] = s->reg;
    }
    path_drop(mine, n);
    path_free(mine, n);
    free(mine);
    cs_spill_file *f = s->files;
    while (f) {
        cs_spill_file *next = f->next;
        free(f->path);
        ZSTD_freeCCtx(f->cctx);
        cs_buf_free(&f->out);
        free(f);
        f = next;
    }
    free(s->parent);
    free(s->folder);
    free(s->error);
    free(s);
}

cs_spill_file *cs_spill_file_new(cs_spill *s, const char *name)
{
    cs_spill_file *f = cs_xcalloc(1, sizeof *f);
    f->sp = s;
    f->fd = -1;
    snprintf(f->name, sizeof f->name, "%s", name);
#pragma omp critical(cs_spill)
    {
        f->next = s->files;
        s->files = f;
    }
    return f;
}

cs_spill_file *cs_spill_file_open(cs_spill *s, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    cs_spill_file *f = cs_spill_file_new(s, "");
    f->fd = fd;
    f->kept = 1;
    f->path = cs_xstrdup(path);
    return f;
}

int cs_spill_file_fd(const cs_spill_file *f)
{
    return f->fd;
}

cs_spill_file *cs_spill_file_scratch(cs_spill *s, const char *name)
{
    cs_spill_file *f = cs_spill_file_new(s, name);
    f->scratch = 1;
    return f;
}

cs_spill_file *cs_spill_file_raw(cs_spill *s, const char *name)
{
    cs_spill_file *f = cs_spill_file_scratch(s, name);
    f->raw = 1;
    return f;
}

uint64_t cs_spill_file_size(const cs_spill_file *f)
{
    return f->size;
}

const char *cs_spill_file_path(const cs_spill_file *f)
{
    return f->path;
}

/* Keeps the first error of s (later ones are consequences); called
 * inside critical(cs_spill). */
static void keep_error(cs_spill *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void keep_error(cs_spill *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    char msg[4608];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->error = cs_xstrdup(msg);
    __atomic_store_n(&s->failed, 1, __ATOMIC_RELEASE);
}

/* What a failed write or make ends with: the cause, and the way out. */
#define WAY_OUT "(--tmp DIR names another place for temporary files)"

/* The folder, made on the first call; NULL after an error. Inside
 * critical(cs_spill). */
static const char *folder(cs_spill *s)
{
    if (s->folder || s->failed)
        return s->folder;
    const char *parent = s->parent;
    if (!parent || !*parent)
        parent = getenv("TMPDIR");
    if (!parent || !*parent)
        parent = "/tmp";
    size_t n = strlen(parent) + sizeof "/corpusstat-XXXXXX";
    char *path = cs_xmalloc(n);
    /* mkdtemp's way, but the name goes on the signal list before the
     * folder exists (an open_file caller is between cs_tmp_enter and
     * cs_tmp_leave). */
    static const char ALNUM[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    int made = 0, e = EEXIST;
    for (int attempt = 0; attempt < 100 && !made && e == EEXIST; attempt++) {
        uint8_t rnd[6];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            e = errno;
            break;
        }
        char suffix[7];
        for (int i = 0; i < 6; i++)
            suffix[i] = ALNUM[rnd[i] % (sizeof ALNUM - 1)];
        suffix[6] = 0;
        snprintf(path, n, "%s/corpusstat-%s", parent, suffix);
        s->reg = path_push(path, 1);
        made = mkdir(path, 0700) == 0;
        e = errno;
        if (!made) {
            path_drop(&s->reg, 1);
            path_free(&s->reg, 1);
            s->reg = NULL;
        }
    }
    if (!made) {
        keep_error(s, "cannot make a temporary folder in %s: %s " WAY_OUT, parent, strerror(e));
        free(path);
        return NULL;
    }
    s->folder = path;
    return path;
}

/* Opens f's file (first spill). 0 or -1 (error kept). */
static int open_file(cs_spill_file *f)
{
    int ok = 0;
#pragma omp critical(cs_spill)
    {
        cs_tmp_enter();
        const char *dir = folder(f->sp);
        if (dir) {
            size_t n = strlen(dir) + strlen(f->name) + 6;
            f->path = cs_xmalloc(n);
            snprintf(f->path, n, "%s/%s%s", dir, f->name, f->raw ? "" : ".zst");
            /* On the signal list before it exists: unlink of a missing
             * file is harmless, a file left behind is not. */
            f->reg = path_push(f->path, 0);
            f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (f->fd < 0) {
                keep_error(f->sp, "cannot make the temporary file %s: %s " WAY_OUT, f->path,
                           strerror(errno));
                path_drop(&f->reg, 1);
                path_free(&f->reg, 1);
                f->reg = NULL;
            } else {
                f->sp->n_files++;
                ok = 1;
            }
        }
        cs_tmp_leave();
    }
    return ok ? 0 : -1;
}

static int write_all(int fd, const uint8_t *p, size_t n, uint64_t at)
{
    while (n) {
        ssize_t k = pwrite(fd, p, n, (off_t)at);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return ENOSPC;
        p += k;
        n -= (size_t)k;
        at += (uint64_t)k;
    }
    return 0;
}

/* What a write that failed leaves: the error kept (naming the folder). */
static int write_failed(cs_spill_file *f, int e)
{
#pragma omp critical(cs_spill)
    keep_error(f->sp, "cannot write to the temporary folder %s: %s " WAY_OUT, f->sp->folder,
               strerror(e));
    return -1;
}

/* Disk grown (or given back: a negative `by`), and its peak. */
static void disk_grew(cs_spill *s, int64_t by)
{
    const uint64_t now = __atomic_add_fetch(&s->bytes_now, (uint64_t)by, __ATOMIC_RELAXED);
    uint64_t peak = __atomic_load_n(&s->bytes_disk, __ATOMIC_RELAXED);
    while (now > peak && !__atomic_compare_exchange_n(&s->bytes_disk, &peak, now, 1,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* Writes part[p] (len[p] bytes; none when 0) for p < CS_N_PARTS as zstd
 * frames at the end of f; disk gets their offsets (CS_N_PARTS + 1). 0, or
 * -1 with the error kept (nothing counted). */
static int write_parts(cs_spill_file *f, const uint8_t *const *part, const size_t *len,
                       uint64_t *disk)
{
    cs_spill *s = f->sp;
    if (__atomic_load_n(&s->failed, __ATOMIC_ACQUIRE))
        return -1;
    if (f->fd < 0 && open_file(f) != 0)
        return -1;
    if (!f->cctx) {
        f->cctx = ZSTD_createCCtx();
        if (!f->cctx)
            cs_out_of_memory("a zstd context");
        ZSTD_CCtx_setParameter(f->cctx, ZSTD_c_compressionLevel, SPILL_LEVEL);
        ZSTD_CCtx_setParameter(f->cctx, ZSTD_c_checksumFlag, 1);
    }
    uint64_t at = f->size;
    int e = 0;
    for (unsigned p = 0; p < CS_N_PARTS && !e; p++) {
        disk[p] = at;
        if (!len[p])
            continue;
        const size_t bound = ZSTD_compressBound(len[p]);
        if (f->out.cap < bound) {
            f->out.len = 0;
            cs_buf_reserve(&f->out, bound);
        }
        const size_t k = ZSTD_compress2(f->cctx, f->out.data, f->out.cap, part[p], len[p]);
        if (ZSTD_isError(k)) { /* cannot happen with a bound-sized buffer */
            fprintf(stderr, "corpusstat: zstd: %s\n", ZSTD_getErrorName(k));
            abort();
        }
        e = write_all(f->fd, f->out.data, k, at);
        at += k;
    }
    disk[CS_N_PARTS] = at;
    if (e) /* What was written past f->size is not counted; the next spill
            * (none: s has failed) would have written over it. */
        return write_failed(f, e);
    disk_grew(s, (int64_t)(at - f->size));
    f->size = at;
    return 0;
}

int cs_spill_append(cs_spill_file *f, const void *p, size_t n)
{
    assert(f->raw);
    if (__atomic_load_n(&f->sp->failed, __ATOMIC_ACQUIRE))
        return -1;
    if (f->fd < 0 && open_file(f) != 0)
        return -1;
    const int e = write_all(f->fd, p, n, f->size);
    if (e)
        return write_failed(f, e);
    disk_grew(f->sp, (int64_t)n);
    f->size += n;
    return 0;
}

int cs_spill_pack(cs_spill_file *f, cs_pack *r, int first)
{
    cs_spill *s = f->sp;
    assert(r->bytes && !r->disk);
    const uint8_t *part[CS_N_PARTS];
    size_t len[CS_N_PARTS];
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        part[p] = r->bytes + r->off[p];
        len[p] = r->off[p + 1] - r->off[p];
    }
    uint64_t *disk = cs_xmalloc((CS_N_PARTS + 1) * sizeof *disk);
    if (write_parts(f, part, len, disk) != 0) {
        free(disk);
        return -1;
    }
    if (!f->scratch) {
        uint64_t keys = 0;
        for (unsigned p = 0; p < CS_N_PARTS; p++)
            keys += r->n[p];
        __atomic_add_fetch(&s->keys, keys, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->spills, first != 0, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->runs, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&s->bytes_raw, r->off[CS_N_PARTS], __ATOMIC_RELAXED);
    }
    free(r->bytes);
    r->bytes = NULL;
    r->disk = disk;
    r->file = f;
    return 0;
}

int cs_spill_parts(cs_spill_file *f, const uint8_t *const *part, const size_t *len,
                   const uint32_t *n, cs_pack *out)
{
    memset(out, 0, sizeof *out);
    out->disk = cs_xmalloc((CS_N_PARTS + 1) * sizeof *out->disk);
    if (write_parts(f, part, len, out->disk) != 0) {
        cs_pack_free(out);
        return -1;
    }
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        out->off[p + 1] = out->off[p] + len[p];
        out->n[p] = n[p];
    }
    out->file = f;
    return 0;
}

void cs_spill_file_rewind(cs_spill_file *f)
{
    /* The zstd context and its buffer too (remade by the next write): the
     * scratch files of the rows are many, each rewound when its table is
     * written, and a context holds about a MB. */
    ZSTD_freeCCtx(f->cctx);
    f->cctx = NULL;
    cs_buf_free(&f->out);
    if (f->fd < 0 || !f->size)
        return;
    /* (a file that cannot shrink only keeps its disk: the next write
     * goes over it from the start all the same) */
    (void)!ftruncate(f->fd, 0);
    disk_grew(f->sp, -(int64_t)f->size);
    f->size = 0;
}

void cs_spill_when_over(cs_spill_file *f, cs_pack *first, size_t n, size_t stride, size_t over)
{
    if (!f)
        return;
#define PACK(i) ((cs_pack *)((uint8_t *)first + (i) * stride))
    size_t held = 0;
    for (size_t i = 0; i < n; i++)
        held += PACK(i)->bytes ? PACK(i)->off[CS_N_PARTS] : 0;
    if (held <= over)
        return;
    int one = 1;
    for (size_t i = 0; i < n; i++) {
        if (!PACK(i)->bytes)
            continue;
        if (cs_spill_pack(f, PACK(i), one) != 0)
            return;
        one = 0;
    }
#undef PACK
}

/* Keeps a read error (the first error of s wins). */
static const uint8_t *read_failed(const cs_spill_file *f, const char *why)
{
#pragma omp critical(cs_spill)
    keep_error(f->sp, "cannot read back the %s %s: %s", f->kept ? "file" : "temporary file",
               f->path, why);
    return NULL;
}

const uint8_t *cs_pack_part(const cs_pack *r, unsigned p, cs_buf *buf)
{
    assert(p < CS_N_PARTS);
    if (r->bytes)
        return r->bytes + r->off[p];
    const size_t raw = r->off[p + 1] - r->off[p];
    assert(raw); /* callers skip empty partitions */
    const uint64_t at = r->disk[p];
    const size_t packed = (size_t)(r->disk[p + 1] - at);
    buf->len = 0;
    cs_buf_reserve(buf, raw + packed);
    uint8_t *z = buf->data + raw;
    for (size_t got = 0; got < packed;) {
        ssize_t k = pread(r->file->fd, z + got, packed - got, (off_t)(at + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return read_failed(r->file, k < 0 ? strerror(errno) : "it is shorter than written");
        got += (size_t)k;
    }
    __atomic_add_fetch(&r->file->sp->bytes_read, packed, __ATOMIC_RELAXED);
    const size_t k = ZSTD_decompress(buf->data, raw, z, packed);
    if (ZSTD_isError(k))
        return read_failed(r->file, ZSTD_getErrorName(k));
    if (k != raw)
        return read_failed(r->file, "a frame of the wrong size");
    return buf->data;
}

void cs_pack_free(cs_pack *r)
{
    free(r->bytes);
    free(r->disk);
    r->bytes = NULL;
    r->disk = NULL;
    r->file = NULL;
}

const char *cs_spill_error(cs_spill *s)
{
    return s && __atomic_load_n(&s->failed, __ATOMIC_ACQUIRE) ? s->error : NULL;
}

uint64_t cs_default_memory(void)
{
    const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    uint64_t ram = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : (uint64_t)8 << 30;
    /* A container's limit (cgroup v2) is the machine it sees. */
    FILE *f = fopen("/sys/fs/cgroup/memory.max", "r");
    if (f) {
        unsigned long long lim;
        if (fscanf(f, "%llu", &lim) == 1 && lim > 0 && lim < ram)
            ram = lim;
        fclose(f);
    }
    return ram / 2;
}

cs_spill_stats cs_spill_get_stats(cs_spill *s)
{
    cs_spill_stats st = {s->folder,     s->spills,    s->runs,       s->keys,
                         s->bytes_raw,  s->bytes_disk, s->bytes_read, s->n_files};
    return st;
}
