/*
 * testhelp.h - a tiny test harness (after redis's testhelp.h): CHECK records
 * a failure and goes on; TEST_REPORT prints "N passed, N failed" and gives
 * the exit code.
 */
#ifndef CS_TESTHELP_H
#define CS_TESTHELP_H

#include <stdio.h>
#include <string.h>

static int th_passed, th_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            th_passed++;                                                             \
        } else {                                                                     \
            th_failed++;                                                             \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                   \
        }                                                                            \
    } while (0)

#define CHECK_MSG(cond, ...)                                                         \
    do {                                                                             \
        if (cond) {                                                                  \
            th_passed++;                                                             \
        } else {                                                                     \
            th_failed++;                                                             \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                   \
            printf(__VA_ARGS__);                                                     \
            printf("\n");                                                            \
        }                                                                            \
    } while (0)

#define TEST_REPORT()                                                                \
    (printf("%d passed, %d failed\n", th_passed, th_failed), th_failed ? 1 : 0)

#endif
