/*
 * reader.c - inputs, mapping, zstd streaming, document boundaries
 * (see reader.h).
 *
 * DESIGN
 * Regular files are mapped read-only; a plain one is then handed out as one
 * view and never copied. A zstd input is decompressed by one streaming
 * context into whatever buffer the caller gives, so memory is the caller's
 * buffers plus the frame's window (at most 2 GiB: windowLogMax 31, what
 * `zstd --long=31` writes), never the shard's size. Pipes and stdin are read
 * with read(2) through a small input buffer.
 */
#include "reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* ------------------------------------------------------------------ */
/* expansion                                                            */

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static void push(cs_input_list *l, const char *path, const char *error)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = cs_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    cs_input *in = &l->v[l->n++];
    memset(in, 0, sizeof *in);
    in->path = cs_xstrdup(path);
    in->error = error ? cs_xstrdup(error) : NULL;
}

void cs_input_classify_as(cs_input *in, const char *name, cs_format force)
{
    size_t n = strlen(name);
    in->is_zst = ends_with(name, n, ".zst");
    if (in->is_zst)
        n -= 4;
    cs_format f = (ends_with(name, n, ".jsonl") || ends_with(name, n, ".ndjson"))
                      ? CS_FORMAT_JSONL
                      : CS_FORMAT_TEXT;
    in->format = force != CS_FORMAT_AUTO ? force : f;
}

static void classify(cs_input *in, cs_format force)
{
    cs_input_classify_as(in, in->path, force);
}

/* A file found by a walk, or a path the walk could not read (error set). */
typedef struct found {
    char *path;  /* owned */
    char *error; /* owned; NULL for a file to read */
} found;

typedef struct foundvec {
    found *v;
    size_t n, cap;
} foundvec;

static void found_push(foundvec *f, const char *path, const char *error)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->v = cs_xrealloc(f->v, f->cap * sizeof *f->v);
    }
    f->v[f->n].path = cs_xstrdup(path);
    f->v[f->n].error = error ? cs_xstrdup(error) : NULL;
    f->n++;
}

static int cmp_found(const void *a, const void *b)
{
    /* bytewise: strcmp compares as unsigned char */
    return strcmp(((const found *)a)->path, ((const found *)b)->path);
}

static int excluded(const struct stat *st, const cs_exclude *excl, size_t n_excl)
{
    for (size_t i = 0; i < n_excl; i++)
        if (excl[i].dev == st->st_dev && excl[i].ino == st->st_ino)
            return 1;
    return 0;
}

/* A file named directly (not found by a walk) that lies in an excluded
 * folder, e.g. out/terms.csv from a list made with find(1). */
static int inside_excluded(const char *path, const cs_exclude *excl, size_t n_excl)
{
    if (!n_excl)
        return 0;
    char *real = realpath(path, NULL);
    int in = 0;
    for (size_t i = 0; real && i < n_excl && !in; i++) {
        size_t k = excl[i].real ? strlen(excl[i].real) : 0;
        in = k && strncmp(real, excl[i].real, k) == 0 && real[k] == '/';
    }
    free(real);
    return in;
}

/* Ancestors of the folder being walked, so a symlink loop ends. */
typedef struct ancestor {
    const struct ancestor *up;
    dev_t dev;
    ino_t ino;
} ancestor;

static void walk(const char *dir, const ancestor *up, const cs_exclude *excl, size_t n_excl,
                 foundvec *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        found_push(out, dir, strerror(errno));
        return;
    }
    struct dirent *e;
    size_t dlen = strlen(dir);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* hidden entries, ".", ".." */
        size_t nlen = strlen(e->d_name);
        char *path = cs_xmalloc(dlen + nlen + 2);
        memcpy(path, dir, dlen);
        size_t k = dlen;
        if (k && path[k - 1] != '/')
            path[k++] = '/';
        memcpy(path + k, e->d_name, nlen + 1);
        struct stat st;
        if (stat(path, &st) != 0) {
            found_push(out, path, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            int loop = excluded(&st, excl, n_excl);
            for (const ancestor *a = up; a && !loop; a = a->up)
                loop = (a->dev == st.st_dev && a->ino == st.st_ino);
            if (!loop) {
                ancestor here = {up, st.st_dev, st.st_ino};
                walk(path, &here, excl, n_excl, out);
            }
        } else if (S_ISREG(st.st_mode)) {
            found_push(out, path, NULL);
        } else {
            /* a FIFO or device found by a walk: opening it could block */
            found_push(out, path, "not a regular file");
        }
        free(path);
    }
    closedir(d);
}

static void expand_one(const char *arg, cs_format force, const cs_exclude *excl, size_t n_excl,
                       int depth, cs_input_list *out)
{
    if (strcmp(arg, "-") == 0) {
        push(out, "-", NULL);
        out->v[out->n - 1].is_stdin = 1;
        out->v[out->n - 1].format = force != CS_FORMAT_AUTO ? force : CS_FORMAT_TEXT;
        return;
    }
    if (arg[0] == '@' && arg[1] && depth < 8) {
        FILE *f = fopen(arg + 1, "r");
        if (!f) {
            push(out, arg + 1, strerror(errno));
            return;
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while ((len = getline(&line, &cap, f)) > 0) {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                line[--len] = 0;
            if (strspn(line, " \t") < (size_t)len) /* a line of blanks names nothing */
                expand_one(line, force, excl, n_excl, depth + 1, out);
        }
        free(line);
        fclose(f);
        return;
    }
    struct stat st;
    if (stat(arg, &st) != 0) {
        push(out, arg, strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (inside_excluded(arg, excl, n_excl))
            return;
        push(out, arg, NULL);
        cs_input *in = &out->v[out->n - 1];
        classify(in, force);
        in->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        return;
    }
    if (excluded(&st, excl, n_excl))
        return;
    foundvec files = {0};
    ancestor top = {NULL, st.st_dev, st.st_ino};
    walk(arg, &top, excl, n_excl, &files);
    qsort(files.v, files.n, sizeof *files.v, cmp_found);
    for (size_t i = 0; i < files.n; i++) {
        push(out, files.v[i].path, files.v[i].error);
        cs_input *in = &out->v[out->n - 1];
        if (!in->error) {
            classify(in, force);
            struct stat fst;
            if (stat(in->path, &fst) == 0 && S_ISREG(fst.st_mode))
                in->size = (uint64_t)fst.st_size;
        }
        free(files.v[i].path);
        free(files.v[i].error);
    }
    free(files.v);
}

void cs_inputs_expand(const char *const *args, size_t n, cs_format force,
                      const cs_exclude *excl, size_t n_excl, cs_input_list *out)
{
    for (size_t i = 0; i < n; i++)
        expand_one(args[i], force, excl, n_excl, 0, out);
}

void cs_inputs_free(cs_input_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].error);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ------------------------------------------------------------------ */
/* sources                                                              */

/* Bytes read at a time from a pipe: zstd's recommended input size. */
#define STREAM_IN 131072

/* ------------------------------------------------------------------ */
/* mapped inputs, for a SIGBUS handler                                  */

/* A file cut short while it is mapped makes a read past its new end raise
 * SIGBUS. The handler (the CLI's) asks cs_mapped_input_at which input the
 * faulting address lies in, to name it. Slots are claimed and cleared with
 * atomics and never freed: the handler reads them without a lock. A
 * mapping that finds no free slot (more than MAP_SLOTS at once; a few a
 * thread are) is not known to the handler: a SIGBUS in it is a crash. */
#define MAP_SLOTS 1024

static struct cs_map_slot {
    const uint8_t *addr; /* NULL: free; the slot's own address: being filled */
    size_t len;
    const char *path;    /* borrowed from the caller */
} g_maps[MAP_SLOTS];

cs_map_slot *cs_map_track(const void *addr, size_t len, const char *path)
{
    for (size_t i = 0; i < MAP_SLOTS; i++) {
        const uint8_t *none = NULL;
        /* claim with a marker, fill, then publish the address */
        if (__atomic_compare_exchange_n(&g_maps[i].addr, &none, (const uint8_t *)&g_maps[i], 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            __atomic_store_n(&g_maps[i].len, len, __ATOMIC_RELAXED);
            __atomic_store_n(&g_maps[i].path, path, __ATOMIC_RELAXED);
            __atomic_store_n(&g_maps[i].addr, (const uint8_t *)addr, __ATOMIC_RELEASE);
            return &g_maps[i];
        }
    }
    return NULL;
}

void cs_map_untrack(cs_map_slot *slot)
{
    if (slot)
        __atomic_store_n(&slot->addr, NULL, __ATOMIC_RELEASE);
}

const char *cs_mapped_input_at(const void *addr)
{
    const uint8_t *a = addr;
    for (size_t i = 0; i < MAP_SLOTS; i++) {
        const uint8_t *m = __atomic_load_n(&g_maps[i].addr, __ATOMIC_ACQUIRE);
        if (!m || m == (const uint8_t *)&g_maps[i])
            continue;
        const size_t len = __atomic_load_n(&g_maps[i].len, __ATOMIC_RELAXED);
        const char *path = __atomic_load_n(&g_maps[i].path, __ATOMIC_RELAXED);
        /* still the same mapping: not cleared and claimed again meanwhile */
        if (a >= m && a < m + len && __atomic_load_n(&g_maps[i].addr, __ATOMIC_ACQUIRE) == m)
            return path;
    }
    return NULL;
}

struct cs_source {
    int fd;
    int own_fd;
    int is_zst;
    const uint8_t *map; /* whole file, or NULL */
    size_t map_len;
    cs_map_slot *slot;  /* map's, for cs_mapped_input_at; NULL */
    uint8_t *in;        /* pipe input buffer (owned) */
    ZSTD_inBuffer zin;
    uint64_t base;      /* input offset of zin.src[0] */
    size_t released;    /* a mapped zstd input: map[0..released) given back */
    int eof;            /* no more raw input */
    int mid_frame;      /* a zstd frame is open */
    ZSTD_DCtx *dctx;
};

cs_source *cs_source_open(const cs_input *in, const char **why)
{
    int fd = in->is_stdin ? 0 : open(in->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *why = strerror(errno);
        if (!in->is_stdin)
            close(fd);
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        *why = "is a folder";
        if (!in->is_stdin)
            close(fd);
        return NULL;
    }
    cs_source *s = cs_xcalloc(1, sizeof *s);
    s->fd = fd;
    s->own_fd = !in->is_stdin;
    s->is_zst = in->is_zst;
    /* A stdin file that a parent has partly read is read from where it
     * stands, not mapped from its start. */
    int at_start = !in->is_stdin || lseek(fd, 0, SEEK_CUR) == 0;
    if (S_ISREG(st.st_mode) && st.st_size > 0 && at_start) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            s->map = m;
            s->map_len = (size_t)st.st_size;
            s->slot = cs_map_track(s->map, s->map_len, in->path);
            madvise(m, s->map_len, MADV_SEQUENTIAL);
        }
    }
    if (s->map) {
        s->zin.src = s->map;
        s->zin.size = s->map_len;
        s->eof = 1; /* all input is in zin */
    } else {
        s->in = cs_xmalloc(STREAM_IN);
        s->zin.src = s->in;
    }
    if (in->is_stdin) {
        /* stdin has no name: recognise a zstd stream by its magic number
         * (or a skippable frame's) in its first 4 bytes. */
        const uint8_t *head = s->map;
        size_t have = s->map_len;
        if (!s->map) {
            while (!s->eof && s->zin.size < 4) {
                ssize_t k = read(fd, s->in + s->zin.size, STREAM_IN - s->zin.size);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k < 0) {
                    *why = strerror(errno);
                    cs_source_close(s);
                    return NULL;
                }
                s->zin.size += (size_t)k;
                s->eof = (k == 0);
            }
            head = s->in;
            have = s->zin.size;
        }
        if (have >= 4) {
            uint32_t m = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 |
                         (uint32_t)head[3] << 24;
            s->is_zst = (m == ZSTD_MAGICNUMBER || (m & 0xFFFFFFF0u) == ZSTD_MAGIC_SKIPPABLE_START);
        }
    }
    if (s->is_zst) {
        s->dctx = ZSTD_createDCtx();
        if (!s->dctx) {
            *why = "zstd: cannot allocate a decompression context";
            cs_source_close(s);
            return NULL;
        }
        ZSTD_DCtx_setParameter(s->dctx, ZSTD_d_windowLogMax, 31);
    }
    return s;
}

void cs_source_close(cs_source *s)
{
    if (!s)
        return;
    cs_map_untrack(s->slot);
    if (s->map)
        munmap((void *)s->map, s->map_len);
    if (s->own_fd)
        close(s->fd);
    free(s->in);
    ZSTD_freeDCtx(s->dctx);
    free(s);
}

/* A mapped zstd input gives back what it has decoded past in steps of
 * this much (a syscall per step). */
#define RELEASE_STEP ((size_t)4 << 20)

void cs_map_release(const uint8_t *p, size_t n)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + n) & ~(page - 1);
    if (b > a)
        madvise((void *)a, b - a, MADV_DONTNEED);
}

void cs_map_release_upto(const uint8_t *base, size_t *given, size_t upto)
{
    cs_map_release(base + *given, upto - *given);
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t at = (uintptr_t)(base + upto) & ~(page - 1);
    *given = at > (uintptr_t)base ? (size_t)(at - (uintptr_t)base) : 0;
}

int cs_source_view(const cs_source *s, const uint8_t **p, size_t *n)
{
    if (s->is_zst || !s->map)
        return 0;
    *p = s->map;
    *n = s->map_len;
    return 1;
}

int cs_source_is_mapped(const cs_source *s)
{
    return s->map != NULL;
}

int cs_source_is_zst(const cs_source *s)
{
    return s->is_zst;
}

uint64_t cs_source_consumed(const cs_source *s)
{
    return s->base + s->zin.pos;
}

/* Refills zin from the pipe. Returns 0 at the end, -1 on error. */
static int refill(cs_source *s, const char **why, uint64_t *offset)
{
    if (s->eof)
        return 0;
    s->base += s->zin.size;
    s->zin.size = s->zin.pos = 0;
    for (;;) {
        ssize_t k = read(s->fd, s->in, STREAM_IN);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            *why = strerror(errno);
            *offset = s->base;
            return -1;
        }
        if (k == 0) {
            s->eof = 1;
            return 0;
        }
        s->zin.size = (size_t)k;
        return 1;
    }
}

int cs_source_read(cs_source *s, uint8_t *dst, size_t cap, size_t *got, const char **why,
                   uint64_t *offset)
{
    *got = 0;
    if (!s->is_zst) {
        /* Plain text from a pipe: what is buffered first, then read(2). */
        while (*got < cap) {
            if (s->zin.pos == s->zin.size) {
                int r = refill(s, why, offset);
                if (r < 0)
                    return -1;
                if (r == 0)
                    break;
            }
            size_t k = s->zin.size - s->zin.pos;
            if (k > cap - *got)
                k = cap - *got;
            memcpy(dst + *got, (const uint8_t *)s->zin.src + s->zin.pos, k);
            s->zin.pos += k;
            *got += k;
        }
        return 0;
    }
    ZSTD_outBuffer out = {dst, cap, 0};
    while (out.pos < out.size) {
        if (s->zin.pos == s->zin.size) {
            int r = refill(s, why, offset);
            if (r < 0)
                return -1;
            if (r == 0) {
                if (!s->mid_frame)
                    break;
                /* No input left: flush what the frame still holds. */
                size_t before = out.pos;
                size_t z = ZSTD_decompressStream(s->dctx, &out, &s->zin);
                if (ZSTD_isError(z)) {
                    *why = ZSTD_getErrorName(z);
                    *offset = cs_source_consumed(s);
                    return -1;
                }
                s->mid_frame = (z != 0);
                if (s->mid_frame && out.pos == before) {
                    *why = "truncated frame (the shard ends inside a zstd frame)";
                    *offset = cs_source_consumed(s);
                    return -1;
                }
                continue;
            }
        }
        size_t z = ZSTD_decompressStream(s->dctx, &out, &s->zin);
        if (ZSTD_isError(z)) {
            *why = ZSTD_getErrorName(z);
            *offset = cs_source_consumed(s);
            return -1;
        }
        s->mid_frame = (z != 0);
        /* Hand a completed (checksum-verified) frame over before decoding
         * the next: an error there must not hide what came before it. */
        if (z == 0 && out.pos > 0)
            break;
    }
    if (s->map && s->zin.pos - s->released >= RELEASE_STEP)
        cs_map_release_upto(s->map, &s->released, s->zin.pos);
    *got = out.pos;
    return 0;
}

/* ------------------------------------------------------------------ */
/* document boundaries                                                  */

static inline int is_blank_byte(uint8_t b)
{
    return b == ' ' || b == '\t' || b == '\v' || b == '\f';
}

size_t cs_cut(const uint8_t *p, size_t n, cs_cut_mode mode, int final)
{
    if (final)
        return n;
    switch (mode) {
    case CS_CUT_JSONL: {
        const uint8_t *q = memrchr(p, '\n', n);
        return q ? (size_t)(q - p) + 1 : 0;
    }
    case CS_CUT_LINE:
        for (size_t i = n; i-- > 0;) {
            if (p[i] == '\n')
                return i + 1;
            /* A CR ends a line too, but only once we know whether an LF
             * follows it (CRLF is one break). */
            if (p[i] == '\r' && i + 1 < n)
                return i + 1;
        }
        return 0;
    case CS_CUT_BLANK: {
        /* Backwards from the end: a blank line is usually a paragraph away,
         * so this reads a few KiB, not the whole buffer. A trailing CR may
         * be half of a CRLF: leave it out. */
        size_t end = (n && p[n - 1] == '\r') ? n - 1 : n;
        for (;;) {
            size_t b = end;
            while (b > 0 && p[b - 1] != '\n' && p[b - 1] != '\r')
                b--;
            if (b == 0)
                return 0;
            size_t brk_end = b, brk = b - 1; /* the break is p[brk .. brk_end) */
            if (p[brk] == '\n' && brk > 0 && p[brk - 1] == '\r')
                brk--;
            size_t j = brk; /* the line before the break: p[j .. brk) */
            while (j > 0 && is_blank_byte(p[j - 1]))
                j--;
            if (j == 0 || p[j - 1] == '\n' || p[j - 1] == '\r')
                return brk_end;
            end = j;
        }
    }
    case CS_CUT_NONE:
        return 0;
    }
    return 0;
}

/* cs_cut_first, and with `release` set cs_cut_first_mapped: the scan is
 * the same, one pass forward. */
static inline size_t cut_first(const uint8_t *p, size_t n, cs_cut_mode mode, int release)
{
    if (mode == CS_CUT_NONE)
        return 0;
    int blank = 0; /* the first line continues a non-blank one */
    size_t given = 0; /* p[0..given) given back */
    for (size_t i = 0; i < n; i++) {
        if (release && i - given >= RELEASE_STEP)
            cs_map_release_upto(p, &given, i);
        uint8_t b = p[i];
        if (b == '\n' || b == '\r') {
            if (mode == CS_CUT_JSONL && b == '\r')
                continue;
            size_t end = i + 1;
            if (b == '\r') {
                if (i + 1 == n)
                    break;
                if (p[i + 1] == '\n')
                    end = ++i + 1;
            }
            if (mode != CS_CUT_BLANK || blank) {
                if (release)
                    cs_map_release(p + given, end - given);
                return end;
            }
            blank = 1;
        } else if (!is_blank_byte(b)) {
            blank = 0;
        }
    }
    if (release)
        cs_map_release(p + given, n - given);
    return 0;
}

size_t cs_cut_first(const uint8_t *p, size_t n, cs_cut_mode mode)
{
    return cut_first(p, n, mode, 0);
}

size_t cs_cut_first_mapped(const uint8_t *p, size_t n, cs_cut_mode mode)
{
    return cut_first(p, n, mode, 1);
}
