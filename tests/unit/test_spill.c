/* test_spill.c - runs written to disk and read back (spill.c): every
 * partition of every run comes back byte for byte, empty partitions
 * included; the folder and its files go with cs_spill_free, and with
 * cs_remove_temp_files (the signal path); a write that fails (a file size
 * limit standing in for a full disk) leaves the run in memory and says
 * which folder; a damaged file is reported, never read as counts; a parent
 * folder that does not exist is named; the merge's scratch file gives its
 * disk back. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpusstat.h"
#include "spill.h"
#include "testhelp.h"

static uint64_t rng(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 11;
}

/* A run of random bytes; partition p empty when p % 5 == 3 (and the last
 * ones, which the loop never reaches with bytes). */
static cs_pack make_pack(uint64_t seed, size_t max_part)
{
    cs_pack r;
    memset(&r, 0, sizeof r);
    uint64_t x = seed;
    size_t total = 0, len[CS_N_PARTS];
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        len[p] = p % 5 == 3 ? 0 : 1 + rng(&x) % max_part;
        total += len[p];
    }
    r.bytes = malloc(total + 1);
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        r.off[p + 1] = r.off[p] + len[p];
        r.n[p] = (uint32_t)len[p];
        /* compressible and not: runs of a byte, then noise */
        for (size_t i = 0; i < len[p]; i++)
            r.bytes[r.off[p] + i] = i < len[p] / 2 ? (uint8_t)p : (uint8_t)rng(&x);
    }
    return r;
}

static int same_parts(const cs_pack *spilled, const cs_pack *want, cs_buf *buf)
{
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        const size_t n = want->off[p + 1] - want->off[p];
        if (spilled->off[p + 1] - spilled->off[p] != n || spilled->n[p] != want->n[p])
            return 0;
        if (!n)
            continue;
        const uint8_t *q = cs_pack_part(spilled, p, buf);
        if (!q || memcmp(q, want->bytes + want->off[p], n) != 0)
            return 0;
    }
    return 1;
}

static cs_pack copy_pack(const cs_pack *r)
{
    cs_pack c = *r;
    c.bytes = malloc(r->off[CS_N_PARTS] + 1);
    memcpy(c.bytes, r->bytes, r->off[CS_N_PARTS]);
    return c;
}

static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void test_round_trip(const char *parent)
{
    cs_spill *s = cs_spill_new(parent);
    cs_spill_file *f[2] = {cs_spill_file_new(s, "t0-grams2"), cs_spill_file_new(s, "t1-pairs")};
    CHECK(entries(parent) == 0); /* nothing made before the first spill */
    enum { N = 12 };
    cs_pack runs[N], want[N];
    uint64_t raw = 0;
    for (int i = 0; i < N; i++) {
        runs[i] = make_pack((uint64_t)i + 1, i < 6 ? 50 : 20000);
        want[i] = copy_pack(&runs[i]);
        raw += runs[i].off[CS_N_PARTS];
        CHECK(cs_spill_pack(f[i % 2], &runs[i], i < 2) == 0);
        CHECK(!runs[i].bytes && runs[i].disk && runs[i].file == f[i % 2]);
    }
    cs_buf buf = {0};
    int ok = 1;
    for (int i = N - 1; i >= 0; i--) /* any order: each partition is read on its own */
        ok = ok && same_parts(&runs[i], &want[i], &buf);
    CHECK(ok);
    cs_spill_stats st = cs_spill_get_stats(s);
    CHECK(st.spills == 2 && st.runs == N && st.files == 2 && st.bytes_raw == raw);
    CHECK(st.keys == raw); /* make_pack: a key a byte */
    CHECK(st.bytes_disk > 0 && st.bytes_disk < raw); /* the halves of runs of one byte shrink */
    CHECK(st.folder && strncmp(st.folder, parent, strlen(parent)) == 0);
    CHECK(entries(st.folder) == 2);
    CHECK(cs_spill_error(s) == NULL);
    char *folder = strdup(st.folder);
    for (int i = 0; i < N; i++) {
        cs_pack_free(&runs[i]);
        cs_pack_free(&want[i]);
    }
    cs_buf_free(&buf);
    cs_spill_free(s);
    struct stat sb;
    CHECK(stat(folder, &sb) != 0 && entries(parent) == 0);
    free(folder);
}

/* The merge's scratch file: packs written from separate parts come back
 * byte for byte, count in bytes_disk and bytes_read but not as spills,
 * runs, keys or raw bytes, and a rewind gives the disk back: bytes_disk
 * is the peak of what the files took at once. */
static void test_scratch(const char *parent)
{
    cs_spill *s = cs_spill_new(parent);
    cs_spill_file *f = cs_spill_file_scratch(s, "t0-slices1");
    cs_buf buf = {0};
    uint64_t peak = 0;
    for (int round = 0; round < 3; round++) {
        uint64_t now = 0;
        for (int k = 0; k < 4; k++) {
            cs_pack want = make_pack((uint64_t)(10 * round + k + 1), round == 1 ? 30000 : 500);
            const uint8_t *part[CS_N_PARTS];
            size_t len[CS_N_PARTS];
            for (unsigned p = 0; p < CS_N_PARTS; p++) {
                part[p] = want.bytes + want.off[p];
                len[p] = want.off[p + 1] - want.off[p];
            }
            cs_pack got;
            CHECK(cs_spill_parts(f, part, len, want.n, &got) == 0);
            CHECK(!got.bytes && got.disk && got.file == f);
            CHECK(same_parts(&got, &want, &buf));
            now += got.disk[CS_N_PARTS] - got.disk[0];
            cs_pack_free(&got);
            cs_pack_free(&want);
        }
        peak = now > peak ? now : peak;
        cs_spill_stats st = cs_spill_get_stats(s);
        CHECK(st.spills == 0 && st.runs == 0 && st.keys == 0 && st.bytes_raw == 0);
        CHECK(st.bytes_disk == peak && st.bytes_read >= now);
        struct stat sb;
        CHECK(stat(st.folder, &sb) == 0 && entries(st.folder) == 1);
        cs_spill_file_rewind(f);
        char path[512];
        snprintf(path, sizeof path, "%s/t0-slices1.zst", st.folder);
        CHECK(stat(path, &sb) == 0 && sb.st_size == 0);
    }
    CHECK(peak > 0 && cs_spill_error(s) == NULL);
    cs_buf_free(&buf);
    cs_spill_free(s);
    CHECK(entries(parent) == 0);
}

/* A thread making a temporary file while another ends the process. */
typedef struct {
    const char *path;
    int entered[2]; /* a pipe: the maker is inside cs_tmp_enter/leave */
} maker_arg;

static void *maker(void *p)
{
    maker_arg *m = p;
    cs_tmp_path *t = cs_tmp_track(m->path, 0);
    cs_tmp_enter();
    if (write(m->entered[1], "x", 1) != 1)
        return NULL;
    usleep(50 * 1000); /* the handler walks meanwhile, and waits */
    int fd = open(m->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0)
        close(fd);
    cs_tmp_leave(); /* the handler, waiting, walks again */
    (void)t;        /* left on the list: the process is ending */
    return NULL;
}

/* What a SIGINT handler does while the run is alive, in a child process,
 * since it marks the process as ending: the spilled files go; a file
 * another thread makes while the handler runs goes too (the handler waits
 * for the maker and walks again); the run's own cleanup comes
 * after and finds nothing left. The child's checks come back as its exit
 * status. */
static void test_signal_cleanup(const char *parent)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        cs_spill *s = cs_spill_new(parent);
        cs_spill_file *f = cs_spill_file_new(s, "t0-grams3");
        cs_pack r = make_pack(7, 1000);
        int bad = cs_spill_pack(f, &r, 1) != 0 || entries(parent) != 1;
        char path[4096];
        snprintf(path, sizeof path, "%s/late-file", parent);
        maker_arg m = {path, {-1, -1}};
        pthread_t th;
        char c;
        bad |= (pipe(m.entered) != 0 || pthread_create(&th, NULL, maker, &m) != 0 ||
                read(m.entered[0], &c, 1) != 1) << 1;
        cs_remove_temp_files();
        bad |= (entries(parent) != 0) << 2;
        pthread_join(th, NULL);
        bad |= (access(path, F_OK) == 0) << 3;
        cs_pack_free(&r);
        cs_spill_free(s);
        bad |= (entries(parent) != 0) << 4;
        _exit(bad);
    }
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    CHECK(entries(parent) == 0);
}

static void test_write_fails(const char *parent)
{
    cs_spill *s = cs_spill_new(parent);
    cs_spill_file *f = cs_spill_file_new(s, "t0-grams2");
    cs_pack small = make_pack(3, 10);
    CHECK(cs_spill_pack(f, &small, 1) == 0);
    /* A file size limit: writes past it fail with EFBIG (SIGXFSZ ignored),
     * as they would with ENOSPC on a full disk. */
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 64 << 10;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &lim);
    cs_pack big = make_pack(4, 100000), want = copy_pack(&big);
    CHECK(cs_spill_pack(f, &big, 1) == -1);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK(big.bytes && !big.disk && !big.file); /* still in memory, unchanged */
    CHECK(memcmp(big.bytes, want.bytes, want.off[CS_N_PARTS]) == 0);
    const char *e = cs_spill_error(s);
    CHECK(e && strstr(e, "cannot write to the temporary folder") && strstr(e, parent) &&
          strstr(e, "File too large"));
    /* Not tried again, even with room now: the run is failing. */
    CHECK(cs_spill_pack(f, &want, 0) == -1 && want.bytes);
    cs_buf buf = {0};
    cs_pack copy = make_pack(3, 10);
    CHECK(same_parts(&small, &copy, &buf)); /* what was spilled before is intact */
    cs_pack_free(&copy);
    cs_pack_free(&small);
    cs_pack_free(&big);
    cs_pack_free(&want);
    cs_buf_free(&buf);
    cs_spill_free(s);
    CHECK(entries(parent) == 0);
}

static void test_damaged_file(const char *parent)
{
    cs_spill *s = cs_spill_new(parent);
    cs_spill_file *f = cs_spill_file_new(s, "t0-pairs");
    cs_pack r = make_pack(5, 4000);
    CHECK(cs_spill_pack(f, &r, 1) == 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/t0-pairs.zst", cs_spill_get_stats(s).folder);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    /* one byte inside partition 0's frame, past its header */
    uint8_t b;
    CHECK(pread(fd, &b, 1, (off_t)r.disk[0] + 20) == 1);
    b ^= 0x5a;
    CHECK(pwrite(fd, &b, 1, (off_t)r.disk[0] + 20) == 1);
    close(fd);
    cs_buf buf = {0};
    CHECK(cs_pack_part(&r, 0, &buf) == NULL);
    const char *e = cs_spill_error(s);
    CHECK(e && strstr(e, "cannot read back the temporary file") && strstr(e, path));
    /* Another partition is still whole, but the run has failed anyway. */
    CHECK(cs_pack_part(&r, 1, &buf) != NULL);
    cs_pack_free(&r);
    cs_buf_free(&buf);
    cs_spill_free(s);
    CHECK(entries(parent) == 0);
}

static void test_no_parent(const char *parent)
{
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no/such/folder", parent);
    cs_spill *s = cs_spill_new(missing);
    cs_spill_file *f = cs_spill_file_new(s, "t0-grams2");
    cs_pack r = make_pack(6, 100);
    CHECK(cs_spill_pack(f, &r, 1) == -1 && r.bytes);
    const char *e = cs_spill_error(s);
    CHECK(e && strstr(e, "cannot make a temporary folder in") && strstr(e, missing));
    cs_pack_free(&r);
    cs_spill_free(s);
    CHECK(cs_spill_error(NULL) == NULL);
}

int main(void)
{
    char parent[] = "/tmp/cs-test-spill-XXXXXX";
    if (!mkdtemp(parent))
        return 1;
    test_round_trip(parent);
    test_scratch(parent);
    test_signal_cleanup(parent);
    test_write_fails(parent);
    test_damaged_file(parent);
    test_no_parent(parent);
    CHECK(cs_default_memory() >= ((uint64_t)64 << 20));
    rmdir(parent);
    return TEST_REPORT();
}
