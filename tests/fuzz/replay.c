/*
 * replay.c - runs a fuzz target over its saved corpus once, without
 * libFuzzer: what `make test` does with every target, built by the
 * project's compiler (gcc), so that each bug the fuzzers found stays
 * found. Usage: test_fuzz_<target> [FILE|FOLDER...]; with no argument, the
 * folder FUZZ_CORPUS (tests/fuzz/<target>, set by the Makefile). Files are
 * run in name order; the name of each goes to stderr before it runs, so a
 * crash says which. Ends with "N passed, 0 failed" (a failed check
 * aborts: tests/run.py counts the crash as a failure).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int bad = ferror(f) || !buf;
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: %s: cannot read it\n", path);
        free(buf);
        return -1;
    }
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
    /* A copy of exactly n bytes: ASan then sees a read past the input. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    static char *dflt[] = {FUZZ_CORPUS};
    char **args = argc > 1 ? argv + 1 : dflt;
    int n_args = argc > 1 ? argc - 1 : 1;
    int passed = 0, failed = 0;
    for (int i = 0; i < n_args; i++) {
        struct stat sb;
        if (stat(args[i], &sb) != 0) {
            fprintf(stderr, "replay: %s: %s\n", args[i], strerror(errno));
            failed++;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            run_file(args[i]) == 0 ? passed++ : failed++;
            continue;
        }
        struct dirent **names;
        int k = scandir(args[i], &names, NULL, by_name);
        if (k < 0) {
            fprintf(stderr, "replay: %s: %s\n", args[i], strerror(errno));
            failed++;
            continue;
        }
        for (int j = 0; j < k; j++) {
            if (names[j]->d_name[0] != '.') {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", args[i], names[j]->d_name);
                run_file(path) == 0 ? passed++ : failed++;
            }
            free(names[j]);
        }
        free(names);
    }
    /* An empty corpus would pass without testing anything. */
    if (passed == 0)
        failed++;
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
