/*
 * csv.c - CSV writer and atomic output folder (see csv.h).
 *
 * DESIGN
 * Rows go through a 1 MiB buffer to write(2); the first failed write is
 * remembered and reported at close, so a full disk is an error, never a
 * short table under a final name. Tables are written into a staging folder
 * created beside the final one (same file system, so the swap is a rename);
 * only when every file is complete and synced is the folder swapped in.
 */
#include "csv.h"
#include "spill.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CSV_BUF (1u << 20)

int cs_csv_open(cs_csv *w, int dirfd, const char *name)
{
    memset(w, 0, sizeof *w);
    cs_tmp_enter(); /* the staging folder's tables are on the signal list */
    w->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int e = errno;
    cs_tmp_leave();
    if (w->fd < 0)
        return e;
    w->cap = CSV_BUF;
    w->buf = cs_xmalloc(w->cap);
    return 0;
}

static void drain(cs_csv *w)
{
    size_t off = 0;
    while (off < w->len && !w->err) {
        ssize_t k = write(w->fd, w->buf + off, w->len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            w->err = errno;
            break;
        }
        off += (size_t)k;
    }
    w->len = 0;
}

void cs_csv_raw(cs_csv *w, const void *p, size_t n)
{
    if (w->cap - w->len < n) {
        drain(w);
        if (n > w->cap) {
            /* larger than the buffer: write through */
            const uint8_t *q = p;
            while (n && !w->err) {
                size_t k = n < w->cap ? n : w->cap;
                memcpy(w->buf, q, k);
                w->len = k;
                drain(w);
                q += k;
                n -= k;
            }
            return;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

/* A text field a spreadsheet would take for a formula (OWASP, "CSV
 * Injection"): one starting with =, +, - or @, or with a tab or CR, which
 * some programs skip before looking. No term can (the tokenizer makes
 * terms of letters, digits and marks, joiners only inside); the writer
 * guards the tables anyway, since its callers are not its to know. */
static inline int formula_lead(const uint8_t *p, size_t n)
{
    return n && (p[0] == '=' || p[0] == '+' || p[0] == '-' || p[0] == '@' || p[0] == '\t' ||
                 p[0] == '\r');
}

static inline int needs_quotes(uint8_t b)
{
    return b == ',' || b == '"' || b == '\r' || b == '\n';
}

void cs_csv_field(cs_csv *w, const uint8_t *const *parts, const uint32_t *lens, size_t n)
{
    const int formula = n && formula_lead(parts[0], lens[0]);
    int quote = formula;
    for (size_t i = 0; i < n && !quote; i++)
        for (uint32_t k = 0; k < lens[i]; k++) {
            if (needs_quotes(parts[i][k])) {
                quote = 1;
                break;
            }
        }
    if (!quote) {
        for (size_t i = 0; i < n; i++) {
            if (i)
                cs_csv_raw(w, " ", 1);
            cs_csv_raw(w, parts[i], lens[i]);
        }
        return;
    }
    cs_csv_raw(w, formula ? "\"'" : "\"", formula ? 2 : 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            cs_csv_raw(w, " ", 1);
        const uint8_t *p = parts[i];
        uint32_t start = 0;
        for (uint32_t k = 0; k < lens[i]; k++)
            if (p[k] == '"') {
                cs_csv_raw(w, p + start, k + 1 - start);
                cs_csv_raw(w, "\"", 1);
                start = k + 1;
            }
        cs_csv_raw(w, p + start, lens[i] - start);
    }
    cs_csv_raw(w, "\"", 1);
}

/* Writes v in decimal at d (at most 20 bytes); returns the end. */
static uint8_t *put_i64(uint8_t *d, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *s = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--s = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--s = '-';
    memcpy(d, s, (size_t)(e - s));
    return d + (e - s);
}

void cs_csv_i64(cs_csv *w, int64_t v)
{
    uint8_t tmp[24];
    cs_csv_raw(w, tmp, (size_t)(put_i64(tmp, v) - tmp));
}

void cs_csv_u128(cs_csv *w, unsigned __int128 v)
{
    uint8_t tmp[40], *d = tmp + sizeof tmp;
    do {
        *--d = (uint8_t)('0' + (unsigned)(v % 10));
        v /= 10;
    } while (v);
    cs_csv_raw(w, d, (size_t)(tmp + sizeof tmp - d));
}

/* Numbers are written with the C locale's decimal point, whatever locale a
 * program using the library has set: a comma would split the field. */
static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void make_c_numeric(void)
{
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

int cs_format_double(char *buf, size_t n, double v, int fixed6)
{
    pthread_once(&c_numeric_once, make_c_numeric);
    locale_t old = uselocale(c_numeric ? c_numeric : LC_GLOBAL_LOCALE);
    int k = fixed6 ? snprintf(buf, n, "%.6f", v) : snprintf(buf, n, "%.15g", v);
    uselocale(old);
    return k;
}

/* Powers of ten, exact in long double up to 10^27 (5^27 < 2^64). */
static const long double p10[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

int cs_format_g15(char *out, double v)
{
    /* The digits of %.15g are those of v * 10^(14 - e) rounded to an
     * integer, e the decimal exponent. In long double the product is within
     * 2^-63 of exact, so the rounding is certain unless the fraction lies
     * within 1e-3 of one half: that case, and exponents the exact powers do
     * not reach, go to snprintf. printf's exact big-number conversion was a
     * fifth of an unpruned cooc.csv write. */
    const double a = fabs(v);
    int e = (int)floor(log10(a));
    long double x = 0;
    for (int tries = 0;; tries++) { /* log10 may be one off either way */
        const int sh = 14 - e;
        if (sh < -27 || sh > 27 || tries == 3)
            return cs_format_double(out, 40, v, 0);
        x = sh >= 0 ? (long double)a * p10[sh] : (long double)a / p10[-sh];
        if (x >= 1e15L)
            e++;
        else if (x < 1e14L)
            e--;
        else
            break;
    }
    long double ip = floorl(x), frac = x - ip;
    if (fabsl(frac - 0.5L) < 1e-3L)
        return cs_format_double(out, 40, v, 0);
    uint64_t m = (uint64_t)ip + (frac > 0.5L);
    if (m >= 1000000000000000ull) { /* 999...9.6 rounded up */
        m /= 10;
        e++;
    }
    char dig[15];
    for (int i = 14; i >= 0; i--) {
        dig[i] = (char)('0' + m % 10);
        m /= 10;
    }
    int nd = 15;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    char *d = out;
    if (v < 0)
        *d++ = '-';
    if (e < -4 || e >= 15) { /* d.ddde+XX */
        *d++ = dig[0];
        if (nd > 1) {
            *d++ = '.';
            memcpy(d, dig + 1, (size_t)nd - 1);
            d += nd - 1;
        }
        *d++ = 'e';
        *d++ = e < 0 ? '-' : '+';
        int ae = e < 0 ? -e : e;
        if (ae >= 100)
            *d++ = (char)('0' + ae / 100);
        *d++ = (char)('0' + ae / 10 % 10);
        *d++ = (char)('0' + ae % 10);
    } else if (e >= 0) { /* ddd.ddd */
        for (int i = 0; i <= e; i++)
            *d++ = i < nd ? dig[i] : '0';
        if (nd > e + 1) {
            *d++ = '.';
            memcpy(d, dig + e + 1, (size_t)(nd - e - 1));
            d += nd - e - 1;
        }
    } else { /* 0.000ddd */
        *d++ = '0';
        *d++ = '.';
        for (int i = 0; i < -e - 1; i++)
            *d++ = '0';
        memcpy(d, dig, (size_t)nd);
        d += nd;
    }
    *d = 0;
    return (int)(d - out);
}

void cs_csv_double(cs_csv *w, double v)
{
    if (!isfinite(v) || v == 0) {
        cs_csv_raw(w, "0", 1);
        return;
    }
    char tmp[40];
    int n = cs_format_g15(tmp, v);
    cs_csv_raw(w, tmp, (size_t)n);
}

void cs_csv_row(cs_csv *w, const char *lead, size_t lead_len, const uint8_t *key, uint32_t len,
                int64_t a, int64_t b)
{
    /* worst case: every key byte a doubled quote, two quotes and the
     * formula guard's apostrophe, two numbers */
    const size_t need = lead_len + 2 * (size_t)len + 3 + 2 * 21 + 3;
    if (w->cap - w->len < need) {
        drain(w);
        if (need > w->cap) { /* a key near the buffer's size: the slow way */
            cs_csv_raw(w, lead, lead_len);
            cs_csv_field(w, &key, &len, 1);
            cs_csv_raw(w, ",", 1);
            cs_csv_i64(w, a);
            cs_csv_raw(w, ",", 1);
            cs_csv_i64(w, b);
            cs_csv_raw(w, "\n", 1);
            return;
        }
    }
    uint8_t *d = w->buf + w->len;
    memcpy(d, lead, lead_len);
    d += lead_len;
    const int formula = formula_lead(key, len);
    uint32_t i = 0;
    while (i < len && !needs_quotes(key[i]))
        i++;
    if (i == len && !formula) {
        memcpy(d, key, len);
        d += len;
    } else {
        *d++ = '"';
        if (formula)
            *d++ = '\'';
        for (i = 0; i < len; i++) {
            if (key[i] == '"')
                *d++ = '"';
            *d++ = key[i];
        }
        *d++ = '"';
    }
    *d++ = ',';
    d = put_i64(d, a);
    *d++ = ',';
    d = put_i64(d, b);
    *d++ = '\n';
    w->len = (size_t)(d - w->buf);
}

int cs_csv_close(cs_csv *w)
{
    drain(w);
    if (!w->err && fsync(w->fd) != 0)
        w->err = errno;
    if (close(w->fd) != 0 && !w->err)
        w->err = errno;
    free(w->buf);
    w->buf = NULL;
    return w->err;
}

/* ------------------------------------------------------------------ */
/* output folder                                                        */

/* What corpusstat writes into an output folder: nothing else may be there
 * when it is replaced. */
static const char *const OWN_FILES[] = {"terms.csv", "ngrams.csv", "cooc.csv", "summary.json"};
_Static_assert(sizeof ((cs_stage *)0)->reg / sizeof *((cs_stage *)0)->reg ==
                   1 + sizeof OWN_FILES / sizeof *OWN_FILES,
               "cs_stage.reg: the folder and each of OWN_FILES");

static int own_file(const char *name)
{
    for (size_t i = 0; i < sizeof OWN_FILES / sizeof *OWN_FILES; i++)
        if (strcmp(name, OWN_FILES[i]) == 0)
            return 1;
    return 0;
}

static int mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        int r = mkdir(path, 0755);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static void untrack(cs_stage *st)
{
    for (size_t i = 0; i < sizeof st->reg / sizeof *st->reg; i++) {
        cs_tmp_untrack(st->reg[i]);
        st->reg[i] = NULL;
    }
}

cs_status cs_stage_open(const char *out_dir, cs_stage *st, cs_error *err)
{
    memset(st, 0, sizeof *st);
    st->dirfd = -1;
    size_t n = strlen(out_dir);
    while (n > 1 && out_dir[n - 1] == '/')
        n--;
    st->final = cs_xmalloc(n + 1);
    memcpy(st->final, out_dir, n);
    st->final[n] = 0;

    struct stat sb;
    if (stat(st->final, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            cs_error_set(err, CS_ERR_OUTPUT, st->final, "exists and is not a folder");
            goto fail;
        }
        DIR *d = opendir(st->final);
        if (!d) {
            cs_error_set(err, CS_ERR_OUTPUT, st->final, "cannot read the output folder: %s",
                         strerror(errno));
            goto fail;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || own_file(e->d_name))
                continue;
            cs_error_set(err, CS_ERR_OUTPUT, st->final,
                         "holds '%s', which corpusstat did not write; refusing to replace "
                         "the folder (choose an empty or new one with -o)",
                         e->d_name);
            closedir(d);
            goto fail;
        }
        closedir(d);
    } else if (errno != ENOENT) {
        cs_error_set(err, CS_ERR_OUTPUT, st->final, "%s", strerror(errno));
        goto fail;
    }

    /* Staging folder: "<parent>/.<name>.corpusstat-<pid>-<n>", hidden so a
     * walk of the parent skips it too. mkdir, not mkdtemp: the folder gets
     * the mode the umask gives (mkdtemp's is 0700), without the library
     * touching the process's umask. */
    const char *slash = strrchr(st->final, '/');
    size_t plen = slash ? (size_t)(slash - st->final) + 1 : 0;
    const char *base = st->final + plen;
    size_t cap = n + 64;
    st->path = cs_xmalloc(cap);
    snprintf(st->path, cap, "%.*s.%s.corpusstat-", (int)plen, st->final, base);
    if (plen && mkdirs(st->path) != 0) {
        cs_error_set(err, CS_ERR_OUTPUT, st->final, "cannot create its parent folders: %s",
                     strerror(errno));
        goto fail;
    }
    size_t stem = strlen(st->path);
    static unsigned seq;
    int made = 0;
    /* Interrupted, the run leaves no half-written tables beside OUT: the
     * folder is on the signal list before it exists (spill.h). */
    cs_tmp_enter();
    for (int attempt = 0; attempt < 100 && !made; attempt++) {
        unsigned k = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
        snprintf(st->path + stem, cap - stem, "%ld-%u", (long)getpid(), k);
        st->reg[0] = cs_tmp_track(st->path, 1);
        made = mkdir(st->path, 0777) == 0;
        if (!made) {
            const int e = errno;
            untrack(st);
            errno = e;
            if (e != EEXIST)
                break;
        }
    }
    if (made)
        for (size_t i = 0; i < sizeof OWN_FILES / sizeof *OWN_FILES; i++) {
            char *file = cs_xmalloc(strlen(st->path) + strlen(OWN_FILES[i]) + 2);
            sprintf(file, "%s/%s", st->path, OWN_FILES[i]);
            st->reg[1 + i] = cs_tmp_track(file, 0);
            free(file);
        }
    cs_tmp_leave();
    if (!made) {
        cs_error_set(err, CS_ERR_OUTPUT, st->final, "cannot create a staging folder beside it: %s",
                     strerror(errno));
        goto fail;
    }
    st->dirfd = open(st->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (st->dirfd < 0) {
        cs_error_set(err, CS_ERR_OUTPUT, st->path, "%s", strerror(errno));
        rmdir(st->path);
        untrack(st);
        goto fail;
    }
    return CS_OK;
fail:
    free(st->final);
    free(st->path);
    memset(st, 0, sizeof *st);
    st->dirfd = -1;
    return CS_ERR_OUTPUT;
}

/* Removes corpusstat's files from a folder, then the folder. */
static void remove_tables(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        for (size_t i = 0; i < sizeof OWN_FILES / sizeof *OWN_FILES; i++)
            unlinkat(fd, OWN_FILES[i], 0);
        close(fd);
    }
    rmdir(dir);
}

/* The folder holding path ("." or "/" at the top): allocated before the
 * swap, so that running out of memory cannot come between the new tables
 * in place and the message saying so. */
static char *parent_of(const char *path)
{
    char *dup = cs_xstrdup(path);
    char *slash = strrchr(dup, '/');
    if (!slash)
        strcpy(dup, "."); /* dup holds at least a byte and its NUL */
    else if (slash == dup)
        dup[1] = 0;
    else
        *slash = 0;
    return dup;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

cs_status cs_stage_commit(cs_stage *st, cs_error *err)
{
    if (fsync(st->dirfd) != 0) {
        cs_error_set(err, CS_ERR_OUTPUT, st->path, "fsync: %s", strerror(errno));
        return CS_ERR_OUTPUT;
    }
    close(st->dirfd);
    st->dirfd = -1;
    char *parent = parent_of(st->final);
    /* A signal now removes the staging folder: before the exchange it
     * holds the new tables (the old stay in place), after it the old. */
    if (renameat2(AT_FDCWD, st->path, AT_FDCWD, st->final, RENAME_EXCHANGE) == 0) {
        remove_tables(st->path); /* the previous run's tables, now under the staging name */
    } else if (errno == ENOENT) {
        if (rename(st->path, st->final) != 0) {
            cs_error_set(err, CS_ERR_OUTPUT, st->final, "cannot move the new tables in place: %s",
                         strerror(errno));
            free(parent);
            return CS_ERR_OUTPUT;
        }
    } else if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {
        /* No RENAME_EXCHANGE on this file system: move the old folder
         * aside, the new one in, then delete the old. A reader can find no
         * folder for an instant, never a mix of two runs. Off the signal
         * list first: killed between the two renames, the run leaves both
         * folders whole (the new under the staging name), not the old one
         * alone under a name of its own. */
        untrack(st);
        size_t n = strlen(st->final) + 16;
        char *old = cs_xmalloc(n);
        snprintf(old, n, "%s.old-XXXXXX", st->final);
        int ok = mkdtemp(old) && rmdir(old) == 0 && rename(st->final, old) == 0;
        if (!ok || rename(st->path, st->final) != 0) {
            cs_error_set(err, CS_ERR_OUTPUT, st->final, "cannot replace the folder: %s",
                         strerror(errno));
            if (ok)
                rename(old, st->final);
            free(old);
            free(parent);
            return CS_ERR_OUTPUT;
        }
        remove_tables(old);
        free(old);
    } else {
        cs_error_set(err, CS_ERR_OUTPUT, st->final, "cannot replace the folder: %s", strerror(errno));
        free(parent);
        return CS_ERR_OUTPUT;
    }
    sync_dir(parent);
    free(parent);
    untrack(st);
    free(st->path);
    st->path = NULL;
    free(st->final);
    st->final = NULL;
    return CS_OK;
}

void cs_stage_abort(cs_stage *st)
{
    if (st->dirfd >= 0)
        close(st->dirfd);
    st->dirfd = -1;
    if (st->path)
        remove_tables(st->path);
    untrack(st);
    free(st->path);
    free(st->final);
    st->path = st->final = NULL;
}
