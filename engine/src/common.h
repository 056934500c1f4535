/*
 * common.h - small helpers every stage uses: allocation, growable byte
 * buffers, error filling. Nothing here knows about counting.
 */
#ifndef CS_COMMON_H
#define CS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "corpusstat.h"

#define CS_LIKELY(x) __builtin_expect(!!(x), 1)
#define CS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define CS_CACHE_LINE 64

/* Allocation that cannot return NULL: out of memory ends the process with a
 * message and exit status 1, after removing the run's temporary files and
 * staging folder (cs_remove_temp_files), so the previous tables stay. The
 * large allocations are counting tables, and a half-counted table is
 * worthless, so there is nothing better to do mid-run; threading a
 * CS_ERR_NOMEM through every stage would buy a library caller its process
 * back, and no more. CORPUSSTAT_FAIL_ALLOC=N fails the Nth allocation
 * (tests). */
void *cs_xmalloc(size_t n);
/* That end, for an allocation made elsewhere (a zstd context): what
 * names it in the message. */
void cs_out_of_memory(const char *what) __attribute__((noreturn));
void *cs_xcalloc(size_t n, size_t size);
void *cs_xrealloc(void *p, size_t n);
char *cs_xstrdup(const char *s);
/* Memory aligned to `align` (a power of two); free() releases it. */
void *cs_xaligned(size_t align, size_t n);
/* For large arrays swept or probed at random: from 2 MiB up, 2 MiB-aligned
 * and on transparent huge pages (madvise), so that a random access does not
 * also miss the TLB (costly under virtualisation, where a page walk is
 * two-dimensional) and the first touch faults a page per 2 MiB, not per
 * 4 KiB. Smaller ones are 64-byte aligned. Not zeroed; free() releases it. */
void *cs_xhuge(size_t n);

/* Growable byte buffer. `data` is owned; cs_buf_free(NULL-initialised) is a no-op. */
typedef struct cs_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} cs_buf;

void cs_buf_reserve(cs_buf *b, size_t extra);
void cs_buf_append(cs_buf *b, const void *p, size_t n);
void cs_buf_free(cs_buf *b);

/* Fills err (if not NULL) with code, path and a printf-style message. */
void cs_error_set(cs_error *err, cs_status code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes cp (a Unicode scalar value) as UTF-8 at d; returns 1 to 4 bytes. */
static inline size_t cs_utf8_put(uint8_t *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (uint8_t)(0xC0 | (cp >> 6));
        d[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (uint8_t)(0xE0 | (cp >> 12));
        d[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (uint8_t)(0xF0 | (cp >> 18));
    d[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length (2 to 4) of the well-formed multi-byte UTF-8 sequence at p[0..n),
 * 0 if there is none (Unicode table 3-7: no overlongs, no surrogates, no
 * code point past U+10FFFF). */
size_t cs_utf8_seq_len(const uint8_t *p, size_t n);

/* LEB128 varints: 7 bits a byte, low bits first, at most 10 bytes. The
 * packed runs of pairs.c and grams.c are made of them. */
static inline uint8_t *cs_put_varint(uint8_t *d, uint64_t v)
{
    while (v >= 0x80) {
        *d++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *d++ = (uint8_t)v;
    return d;
}

static inline const uint8_t *cs_get_varint(const uint8_t *p, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0;; shift += 7) {
        const uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7F) << shift;
        if (c < 0x80)
            break;
    }
    *v = x;
    return p;
}

/* cs_get_varint for bytes that may be damaged or hostile (a state file):
 * NULL when the varint does not end before `end` or is longer than 10
 * bytes. */
static inline const uint8_t *cs_get_varint_checked(const uint8_t *p, const uint8_t *end,
                                                   uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 70 && p < end; shift += 7) {
        const uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7F) << (shift < 64 ? shift : 0);
        if (c < 0x80) {
            *v = x;
            return p;
        }
    }
    return NULL;
}

/* Signed as unsigned, small magnitudes small: 0, -1, 1, -2 -> 0, 1, 2, 3. */
static inline uint64_t cs_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t cs_unzigzag(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* Monotonic seconds. */
double cs_now(void);

#endif
