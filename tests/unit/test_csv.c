/* test_csv.c - RFC 4180 quoting, and the output folder: staged, swapped in
 * whole, refused when it holds other files. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "testhelp.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = calloc(1, 1 << 16);
    size_t n = fread(s, 1, (1 << 16) - 1, f);
    s[n] = 0;
    fclose(f);
    return s;
}

static void field(cs_csv *w, const char *a, const char *b)
{
    const uint8_t *parts[2] = {(const uint8_t *)a, (const uint8_t *)b};
    uint32_t lens[2] = {(uint32_t)strlen(a), b ? (uint32_t)strlen(b) : 0};
    cs_csv_field(w, parts, lens, b ? 2 : 1);
    cs_csv_raw(w, "\n", 1);
}

int main(void)
{
    char dir[] = "/tmp/cs-test-csv-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char out[300], path[400];
    snprintf(out, sizeof out, "%s/out", dir);

    cs_stage st;
    cs_error err;
    CHECK(cs_stage_open(out, &st, &err) == CS_OK);
    cs_csv w;
    CHECK(cs_csv_open(&w, st.dirfd, "terms.csv") == 0);
    field(&w, "plain", NULL);
    field(&w, "1,000", NULL);
    field(&w, "say \"hi\"", NULL);
    field(&w, "a", "b,c");
    field(&w, "cr\rlf\n", NULL);
    cs_csv_i64(&w, -42);
    cs_csv_i64(&w, 0);
    cs_csv_raw(&w, "\n", 1);
    cs_csv_row(&w, "2,", 2, (const uint8_t *)"a \"b\"", 5, 7, 3);
    cs_csv_row(&w, "", 0, (const uint8_t *)"x,y", 3, -1, 9223372036854775807LL);
    CHECK(cs_csv_close(&w) == 0);
    CHECK(cs_stage_commit(&st, &err) == CS_OK);
    cs_stage_abort(&st);
    snprintf(path, sizeof path, "%s/terms.csv", out);
    char *s = slurp(path);
    CHECK_MSG(s && strcmp(s, "plain\n\"1,000\"\n\"say \"\"hi\"\"\"\n\"a b,c\"\n\"cr\rlf\n\"\n-420\n2,\"a \"\"b\"\"\",7,3\n\"x,y\",-1,9223372036854775807\n") == 0,
              "%s", s);
    free(s);

    /* A second run replaces the tables: a stale ngrams.csv must go. */
    int fd = open(path, O_RDONLY);
    close(fd);
    snprintf(path, sizeof path, "%s/ngrams.csv", out);
    FILE *f = fopen(path, "w");
    fputs("stale\n", f);
    fclose(f);
    CHECK(cs_stage_open(out, &st, &err) == CS_OK);
    CHECK(cs_csv_open(&w, st.dirfd, "terms.csv") == 0);
    cs_csv_raw(&w, "new\n", 4);
    CHECK(cs_csv_close(&w) == 0);
    CHECK(cs_stage_commit(&st, &err) == CS_OK);
    CHECK(access(path, F_OK) != 0);
    snprintf(path, sizeof path, "%s/terms.csv", out);
    s = slurp(path);
    CHECK(s && strcmp(s, "new\n") == 0);
    free(s);

    /* An aborted run leaves the previous tables. */
    CHECK(cs_stage_open(out, &st, &err) == CS_OK);
    CHECK(cs_csv_open(&w, st.dirfd, "terms.csv") == 0);
    cs_csv_raw(&w, "half", 4);
    cs_csv_close(&w);
    cs_stage_abort(&st);
    s = slurp(path);
    CHECK(s && strcmp(s, "new\n") == 0);
    free(s);

    /* A folder holding other files is not ours to replace. */
    snprintf(path, sizeof path, "%s/notes.txt", out);
    f = fopen(path, "w");
    fclose(f);
    CHECK(cs_stage_open(out, &st, &err) == CS_ERR_OUTPUT && strstr(err.message, "notes.txt"));
    /* Nothing but the output folder may be left beside it. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return TEST_REPORT();
}
