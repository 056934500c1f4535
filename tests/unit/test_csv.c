/* test_csv.c - RFC 4180 quoting, and the output folder: staged, swapped in
 * whole, refused when it holds other files. */
#include <fcntl.h>
#include <math.h>
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

/* cs_format_g15 writes what snprintf("%.15g") writes (cs_format_double),
 * on doubles of every exponent, near rounding boundaries, and the shapes
 * cooc.csv prints (ratios of small integers, logarithms). */
static void test_format_g15(void)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int bad = 0, n = 0;
    char a[48], b[48];
    for (int i = 0; i < 600000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        switch (i % 6) {
        case 0: { /* any bits with an exponent within 1e-40 .. 1e40 */
            uint64_t bits = (x & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(1023 - 133 + (x >> 52) % 266) << 52);
            memcpy(&v, &bits, sizeof v);
            break;
        }
        case 1: v = (double)(x % 1000000007) / (double)(1 + (x >> 40) % 2520); break;
        case 2: v = log((double)(1 + x % 100000)) * ((x >> 60) & 1 ? -1 : 1) / 3.0; break;
        case 3: v = (double)(x % 100000000000000000ull); break; /* up to 17 digits */
        case 4: { /* a 16th digit of 5: the rounding boundary */
            double m = (double)(100000000000000ull + x % 900000000000000ull) + 0.5;
            v = m * pow(10, (int)(x >> 59) - 20);
            break;
        }
        default: v = nextafter(pow(10, (int)((x >> 58) % 40) - 20), (x & 1) ? 0 : 1e300); break;
        }
        if (!isfinite(v) || v == 0)
            continue;
        n++;
        cs_format_double(a, sizeof a, v, 0);
        cs_format_g15(b, v);
        if (strcmp(a, b) != 0 && bad++ < 5)
            printf("g15 of %.17g: %s, want %s\n", v, b, a);
    }
    CHECK_MSG(bad == 0, "%d of %d doubles written unlike %%.15g", bad, n);
    CHECK(n > 500000);
}

/* Text that a spreadsheet would run as a formula is written as text
 * (OWASP): an apostrophe first, the field quoted, whichever writer; a
 * formula's lead elsewhere than first, and numbers, negative ones too,
 * are left alone. */
static void test_formula_guard(const char *out)
{
    cs_stage st;
    cs_error err;
    cs_csv w;
    CHECK(cs_stage_open(out, &st, &err) == CS_OK);
    CHECK(cs_csv_open(&w, st.dirfd, "cooc.csv") == 0);
    const char *const keys[] = {"=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "=\"q\",x", "a=b"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        field(&w, keys[i], NULL);
        cs_csv_row(&w, "2,", 2, (const uint8_t *)keys[i], (uint32_t)strlen(keys[i]), -3, 1);
    }
    field(&w, "=a", "b");
    field(&w, "a", "=b"); /* joined, it starts with "a" */
    cs_csv_double(&w, -0.25);
    cs_csv_raw(&w, ",", 1);
    cs_csv_i64(&w, -7);
    cs_csv_raw(&w, "\n", 1);
    CHECK(cs_csv_close(&w) == 0);
    CHECK(cs_stage_commit(&st, &err) == CS_OK);
    char path[400];
    snprintf(path, sizeof path, "%s/cooc.csv", out);
    char *s = slurp(path);
    const char *want = "\"'=1+2\"\n2,\"'=1+2\",-3,1\n"
                       "\"'+cmd\"\n2,\"'+cmd\",-3,1\n"
                       "\"'-2+3\"\n2,\"'-2+3\",-3,1\n"
                       "\"'@SUM(A1)\"\n2,\"'@SUM(A1)\",-3,1\n"
                       "\"'\tx\"\n2,\"'\tx\",-3,1\n"
                       "\"'\rx\"\n2,\"'\rx\",-3,1\n"
                       "\"'=\"\"q\"\",x\"\n2,\"'=\"\"q\"\",x\",-3,1\n"
                       "a=b\n2,a=b,-3,1\n"
                       "\"'=a b\"\n"
                       "a =b\n"
                       "-0.25,-7\n";
    CHECK_MSG(s && strcmp(s, want) == 0, "%s", s);
    free(s);
    unlink(path);
}

int main(void)
{
    test_format_g15();
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
    test_formula_guard(out);

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
