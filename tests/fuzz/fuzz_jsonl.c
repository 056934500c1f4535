/*
 * fuzz_jsonl.c - the JSONL field extractor on any line.
 *
 * Input: one byte choosing the field's name, then the line (cut at its
 * first LF, as the reader hands lines over). Checks, beyond no crash:
 *  - a line of only spaces, tabs and CR is BLANK, and only such a line;
 *  - BAD comes with a message; OK with text inside the line (no escape)
 *    or in the scratch buffer, every byte of it readable;
 *  - a second call with the scratch buffer reused gives the same text.
 */
#include <string.h>

#include "common.h"
#include "fuzz.h"
#include "jsonl.h"

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
    cs_buf_free(&scratch);
    free(line);
    return 0;
}
