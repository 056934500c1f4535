/* test_jsonl.c - the record scanner: what is a record, what is bad, how the
 * text field decodes. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jsonl.h"
#include "testhelp.h"

static cs_buf scratch;

static void append(void *ctx, const uint8_t *p, size_t n)
{
    cs_buf_append(ctx, p, n);
}

static cs_jsonl_result parse(const char *line, const char **text, size_t *len, const char **why)
{
    *why = NULL;
    return cs_jsonl_text((const uint8_t *)line, strlen(line), "text", &scratch,
                         (const uint8_t **)text, len, why);
}

/* The record read as a record longer than memory is (mapped, its text in
 * pieces of every size from 1 byte): the same result, message and text. */
static void same_mapped(const char *line)
{
    const size_t n = strlen(line);
    char path[] = "/tmp/cs-test-jsonl-XXXXXX";
    if (n == 0)
        return; /* nothing to map */
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, line, n) == (ssize_t)n);
    const uint8_t *map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(map != MAP_FAILED);
    const char *text = NULL, *why = NULL;
    size_t len = 0;
    cs_jsonl_result want = parse(line, &text, &len, &why);
    cs_buf expect = {0};
    cs_buf_append(&expect, text, want == CS_JSONL_OK ? len : 0);
    const char *want_why = why;
    for (size_t piece = 1; piece <= 14; piece++) {
        cs_buf got = {0}, sc = {0};
        const char *got_why = NULL;
        cs_jsonl_result r = cs_jsonl_text_mapped(map, n, "text", &sc, piece, append, &got, &got_why);
        CHECK_MSG(r == want && (r != CS_JSONL_BAD || strcmp(got_why, want_why) == 0) &&
                      (r != CS_JSONL_OK ||
                       (got.len == expect.len &&
                        (!got.len || memcmp(got.data, expect.data, got.len) == 0))),
                  "%s: piece %zu: %d against %d", line, piece, r, want);
        cs_buf_free(&got);
        cs_buf_free(&sc);
    }
    cs_buf_free(&expect);
    munmap((void *)map, n);
    close(fd);
    unlink(path);
}

static void ok(const char *line, const char *want, size_t want_len)
{
    const char *text, *why;
    size_t len;
    cs_jsonl_result r = parse(line, &text, &len, &why);
    CHECK_MSG(r == CS_JSONL_OK && len == want_len && memcmp(text, want, len) == 0, "%s: %d %s",
              line, r, why ? why : "");
    same_mapped(line);
}

static void bad(const char *line)
{
    const char *text, *why;
    size_t len;
    cs_jsonl_result r = parse(line, &text, &len, &why);
    CHECK_MSG(r == CS_JSONL_BAD && why, "%s: %d", line, r);
    same_mapped(line);
}

int main(void)
{
    ok("{\"text\":\"hello\"}", "hello", 5);
    ok(" {\"id\": 1, \"text\" : \"a b\", \"x\": [1, {\"y\": null}, true]} \r", "a b", 3);
    ok("{\"text\":\"\"}", "", 0);
    ok("{\"text\":\"a\\nb\\\"c\\\\d\\/e\\t\"}", "a\nb\"c\\d/e\t", 10);
    ok("{\"text\":\"\\u00e9\\u0416\"}", "\xC3\xA9\xD0\x96", 4);
    ok("{\"text\":\"\\ud83d\\ude00\"}", "\xF0\x9F\x98\x80", 4);         /* surrogate pair */
    ok("{\"text\":\"a\\ud800b\"}", "a\xFF" "b", 3);                       /* lone surrogate */
    ok("{\"text\":\"a\\udc00\\ud800\"}", "a\xFF\xFF", 3);
    ok("{\"text\":\"first\",\"text\":\"last\"}", "last", 4);              /* last wins */
    ok("{\"te\\u0078t\":\"escaped key\"}", "escaped key", 11);
    ok("{\"text\":\"bad \xC3 utf8 kept\"}", "bad \xC3 utf8 kept", 15);   /* text may be malformed */
    ok("{\"n\":-1.5e+3,\"text\":\"x\"}", "x", 1);
    const char *text, *why;
    size_t len;
    CHECK(parse("  \t\r", &text, &len, &why) == CS_JSONL_BLANK);
    CHECK(parse("", &text, &len, &why) == CS_JSONL_BLANK);
    /* nesting: 1048576 open arrays are read, one more is a bad record */
    for (size_t depth = (1u << 20); depth <= (1u << 20) + 1; depth++) {
        const char head[] = "{\"a\":", tail[] = ",\"text\":\"deep\"}";
        char *line = malloc(2 * depth + 1 + sizeof head + sizeof tail);
        size_t k = 0;
        memcpy(line + k, head, sizeof head - 1);
        k += sizeof head - 1;
        memset(line + k, '[', depth);
        line[k + depth] = '1';
        memset(line + k + depth + 1, ']', depth);
        k += 2 * depth + 1;
        memcpy(line + k, tail, sizeof tail);
        const char *why2 = NULL;
        cs_jsonl_result r = parse(line, &text, &len, &why2);
        if (depth == (1u << 20))
            CHECK(r == CS_JSONL_OK && len == 4);
        else
            CHECK(r == CS_JSONL_BAD && strcmp(why2, "nested deeper than 1048576 levels") == 0);
        free(line);
    }
    bad("[\"text\"]");
    bad("\"text\"");
    bad("{\"body\":\"x\"}");
    bad("{\"text\":1}");
    bad("{\"text\":\"x\",\"text\":null}");
    bad("{\"text\":\"x\"} trailing");
    bad("{\"text\":\"x\"");
    bad("{\"text\":\"x\",}");
    bad("{\"n\":NaN,\"text\":\"x\"}");
    bad("{\"n\":01,\"text\":\"x\"}");
    bad("{\"text\":\"raw\ttab\"}");
    bad("{\"text\":\"x\",\"k\":\"bad \xC3 utf8\"}");
    bad("{\"text\":\"x\" /* comment */}");
    bad("{\"text\":\"lost \xC3 bad\",\"text\":\"kept\"}"); /* malformed in a replaced text */
    bad("{\"text\":\"\\x\"}");
    bad("{\"text\":\"\\u12\"}");
    bad("{'text':'x'}");
    /* deep nesting costs no stack */
    size_t depth = 200000;
    char *deep = malloc(2 * depth + 64);
    strcpy(deep, "{\"a\":");
    size_t k = strlen(deep);
    for (size_t i = 0; i < depth; i++)
        deep[k++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[k++] = ']';
    strcpy(deep + k, ",\"text\":\"deep\"}");
    ok(deep, "deep", 4);
    deep[k - 1] = '}';
    bad(deep);
    free(deep);
    cs_buf_free(&scratch);
    return TEST_REPORT();
}
