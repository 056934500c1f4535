/* test_jsonl.c - the record scanner: what is a record, what is bad, how the
 * text field decodes. */
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "testhelp.h"

static cs_buf scratch;

static cs_jsonl_result parse(const char *line, const char **text, size_t *len, const char **why)
{
    *why = NULL;
    return cs_jsonl_text((const uint8_t *)line, strlen(line), "text", &scratch,
                         (const uint8_t **)text, len, why);
}

static void ok(const char *line, const char *want, size_t want_len)
{
    const char *text, *why;
    size_t len;
    cs_jsonl_result r = parse(line, &text, &len, &why);
    CHECK_MSG(r == CS_JSONL_OK && len == want_len && memcmp(text, want, len) == 0, "%s: %d %s",
              line, r, why ? why : "");
}

static void bad(const char *line)
{
    const char *text, *why;
    size_t len;
    cs_jsonl_result r = parse(line, &text, &len, &why);
    CHECK_MSG(r == CS_JSONL_BAD && why, "%s: %d", line, r);
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
