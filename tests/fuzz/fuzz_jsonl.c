/*
 * fuzz_jsonl.c - the JSONL field extractor on any line.
 *
 * Input: one byte choosing the field's name, then the line (cut at its
 * first LF, as the reader hands lines over). Checks, beyond no crash:
 *  - a line of only spaces, tabs and CR is BLANK, and only such a line;
 *  - BAD comes with a message; OK with text inside the line (no escape)
 *    or in the scratch buffer, every byte of it readable;
 *  - a second call with the scratch buffer reused gives the same text;
 *  - read as a record longer than memory is (cs_jsonl_text_mapped: the
 *    line mapped, its text in pieces), the same result, message and text.
 */
#include <string.h>

#include "common.h"
#include "fuzz.h"
#include "jsonl.h"

static void append(void *ctx, const uint8_t *p, size_t n)
{
    cs_buf_append(ctx, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const fields[] = {"text", "t", "", "body", "a\"b", "\xD1\x82", "text\\u0000"};
    const char *field = fields[fz_byte(&data, &size) % (sizeof fields / sizeof *fields)];
    const uint8_t *nl = memchr(data, '\n', size);
    const size_t n = nl ? (size_t)(nl - data) : size;
    /* A copy of exactly the line: a read past it is ASan's to see. */
    uint8_t *line = calloc(1, n ? n : 1);
    if (n)
        memcpy(line, data, n);

    cs_buf scratch = {0};
    const uint8_t *text = NULL;
    size_t len = 0;
    const char *why = NULL;
    const cs_jsonl_result r = cs_jsonl_text(line, n, field, &scratch, &text, &len, &why);

    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    FZ_CHECK((r == CS_JSONL_BLANK) == (i == n));
    if (r == CS_JSONL_BAD)
        FZ_CHECK(why && *why);
    if (r == CS_JSONL_OK) {
        FZ_CHECK(len == 0 || text != NULL);
        const int in_line = len == 0 || (text >= line && text + len <= line + n);
        const int in_scratch =
            len == 0 || (scratch.data && text >= scratch.data && text + len <= scratch.data + scratch.len);
        FZ_CHECK(in_line || in_scratch);
        volatile uint8_t sum = 0;
        for (size_t k = 0; k < len; k++)
            sum += text[k];
        uint8_t *first = malloc(len ? len : 1);
        if (len)
            memcpy(first, text, len);
        const uint8_t *text2 = NULL;
        size_t len2 = 0;
        const char *why2 = NULL;
        FZ_CHECK(cs_jsonl_text(line, n, field, &scratch, &text2, &len2, &why2) == CS_JSONL_OK);
        FZ_CHECK(fz_same(first, len, text2, len2));
        free(first);
    }

    /* Read as a record longer than memory is (mapped, its text in pieces
     * of 1 to 16 bytes): the same result, message and text. */
    int fd;
    char path[64];
    if (n && fz_memfile(line, n, &fd, path) == 0) {
        const uint8_t *map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
        FZ_CHECK(map != MAP_FAILED);
        cs_buf want = {0}, got = {0}, sc = {0};
        if (r == CS_JSONL_OK) {
            const uint8_t *t2;
            size_t l2;
            const char *w2;
            cs_jsonl_text(line, n, field, &scratch, &t2, &l2, &w2);
            cs_buf_append(&want, t2, l2);
        }
        const char *why3 = NULL;
        const cs_jsonl_result r3 = cs_jsonl_text_mapped(map, n, field, &sc, 1 + (n % 16), append,
                                                        &got, &why3);
        FZ_CHECK(r3 == r);
        if (r == CS_JSONL_BAD)
            FZ_CHECK(why3 && strcmp(why3, why) == 0);
        if (r == CS_JSONL_OK)
            FZ_CHECK(fz_same(want.data, want.len, got.data, got.len));
        cs_buf_free(&want);
        cs_buf_free(&got);
        cs_buf_free(&sc);
        munmap((void *)map, n);
        close(fd);
    }
    cs_buf_free(&scratch);
    free(line);
    return 0;
}
