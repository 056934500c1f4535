/*
 * jsonl.c - strict JSON record scanner (see jsonl.h).
 *
 * DESIGN
 * A single forward scan with an explicit stack of open containers (one
 * byte each, in a reused buffer), so hostile nesting costs memory linear in
 * the line and never the C stack. Only the wanted member's string is
 * decoded, and only when it holds an escape.
 */
#include "jsonl.h"

#include <string.h>

typedef struct {
    const uint8_t *s;
    size_t n, i;
    const char *why;
} scan;

static int fail(scan *c, const char *why)
{
    if (!c->why)
        c->why = why;
    return 0;
}

static void ws(scan *c)
{
    while (c->i < c->n) {
        uint8_t b = c->s[c->i];
        if (b != ' ' && b != '\t' && b != '\r' && b != '\n')
            break;
        c->i++;
    }
}

static int hex4(const uint8_t *s, uint32_t *v)
{
    uint32_t x = 0;
    for (int k = 0; k < 4; k++) {
        uint8_t b = s[k];
        x <<= 4;
        if (b >= '0' && b <= '9')
            x |= (uint32_t)(b - '0');
        else if (b >= 'a' && b <= 'f')
            x |= (uint32_t)(b - 'a' + 10);
        else if (b >= 'A' && b <= 'F')
            x |= (uint32_t)(b - 'A' + 10);
        else
            return 0;
    }
    *v = x;
    return 1;
}

/* Scans a string whose opening quote is at c->i. With lenient (the text
 * field) malformed UTF-8 passes and sets *malformed; else it is an error.
 * On success c->i is past the closing quote, [*a, *z) is the content and
 * *esc says whether it holds an escape. */
static int string(scan *c, int *lenient_malformed, size_t *a, size_t *z, int *esc)
{
    c->i++;
    *a = c->i;
    *esc = 0;
    while (c->i < c->n) {
        uint8_t b = c->s[c->i];
        if (b == '"') {
            *z = c->i++;
            return 1;
        }
        if (b == '\\') {
            *esc = 1;
            if (c->i + 1 >= c->n)
                break;
            uint8_t e = c->s[c->i + 1];
            if (e == 'u') {
                uint32_t v;
                if (c->i + 6 > c->n || !hex4(c->s + c->i + 2, &v))
                    return fail(c, "bad \\u escape in a string");
                c->i += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                c->i += 2;
            } else {
                return fail(c, "bad escape in a string");
            }
            continue;
        }
        if (b < 0x20)
            return fail(c, "control character in a string");
        if (b >= 0x80) {
            size_t k = cs_utf8_seq_len(c->s + c->i, c->n - c->i);
            if (!k && !lenient_malformed)
                return fail(c, "malformed UTF-8 outside the text field");
            if (!k)
                *lenient_malformed = 1;
            c->i += k ? k : 1;
            continue;
        }
        c->i++;
    }
    return fail(c, "unterminated string");
}

static int digits(scan *c)
{
    size_t start = c->i;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
        c->i++;
    return c->i > start;
}

static int number(scan *c)
{
    if (c->s[c->i] == '-')
        c->i++;
    if (c->i < c->n && c->s[c->i] == '0')
        c->i++;
    else if (!digits(c))
        return fail(c, "bad number");
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++;
        if (!digits(c))
            return fail(c, "bad number");
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
            c->i++;
        if (!digits(c))
            return fail(c, "bad number");
    }
    return 1;
}

static int literal(scan *c)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t len = strlen(words[k]);
        if (c->n - c->i >= len && memcmp(c->s + c->i, words[k], len) == 0) {
            c->i += len;
            return 1;
        }
    }
    return fail(c, "invalid JSON value");
}

/* Skips one value (of any depth) starting at c->i. */
static int value(scan *c, cs_buf *stack)
{
    size_t base = stack->len;
    for (;;) {
        /* a value starts here */
        ws(c);
        if (c->i >= c->n)
            return fail(c, "truncated JSON");
        uint8_t b = c->s[c->i];
        size_t a, z;
        int esc;
        if (b == '{' || b == '[') {
            c->i++;
            ws(c);
            uint8_t close = b == '{' ? '}' : ']';
            if (c->i < c->n && c->s[c->i] == close) {
                c->i++;
            } else {
                cs_buf_append(stack, &b, 1);
                if (b == '{') {
                    if (c->i >= c->n || c->s[c->i] != '"')
                        return fail(c, "expected a member name");
                    if (!string(c, NULL, &a, &z, &esc))
                        return 0;
                    ws(c);
                    if (c->i >= c->n || c->s[c->i] != ':')
                        return fail(c, "expected ':'");
                    c->i++;
                }
                continue; /* parse the first element */
            }
        } else if (b == '"') {
            if (!string(c, NULL, &a, &z, &esc))
                return 0;
        } else if (b == '-' || (b >= '0' && b <= '9')) {
            if (!number(c))
                return 0;
        } else if (!literal(c)) {
            return 0;
        }
        /* a value ended: close containers or go to the next element */
        for (;;) {
            if (stack->len == base)
                return 1;
            ws(c);
            if (c->i >= c->n)
                return fail(c, "truncated JSON");
            uint8_t top = stack->data[stack->len - 1];
            uint8_t d = c->s[c->i++];
            if (d == ',') {
                if (top == '{') {
                    ws(c);
                    if (c->i >= c->n || c->s[c->i] != '"')
                        return fail(c, "expected a member name");
                    if (!string(c, NULL, &a, &z, &esc))
                        return 0;
                    ws(c);
                    if (c->i >= c->n || c->s[c->i] != ':')
                        return fail(c, "expected ':'");
                    c->i++;
                }
                break; /* next element */
            }
            if ((top == '{' && d == '}') || (top == '[' && d == ']')) {
                stack->len--;
                continue;
            }
            return fail(c, "expected ',' or a closing bracket");
        }
    }
}

static void put_utf8(cs_buf *o, uint32_t cp)
{
    cs_buf_reserve(o, 4);
    o->len += cs_utf8_put(o->data + o->len, cp);
}

/* Decodes the escapes of a string already validated by string(). */
static void unescape(const uint8_t *s, size_t a, size_t z, cs_buf *o)
{
    o->len = 0;
    cs_buf_reserve(o, z - a);
    size_t i = a;
    while (i < z) {
        size_t j = i;
        while (j < z && s[j] != '\\')
            j++;
        cs_buf_append(o, s + i, j - i);
        if (j >= z)
            break;
        uint8_t e = s[j + 1];
        i = j + 2;
        switch (e) {
        case 'b': cs_buf_append(o, "\b", 1); break;
        case 'f': cs_buf_append(o, "\f", 1); break;
        case 'n': cs_buf_append(o, "\n", 1); break;
        case 'r': cs_buf_append(o, "\r", 1); break;
        case 't': cs_buf_append(o, "\t", 1); break;
        case 'u': {
            uint32_t v, w;
            hex4(s + j + 2, &v);
            i = j + 6;
            if (v >= 0xD800 && v <= 0xDBFF && i + 6 <= z && s[i] == '\\' && s[i + 1] == 'u' &&
                hex4(s + i + 2, &w) && w >= 0xDC00 && w <= 0xDFFF) {
                put_utf8(o, 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00));
                i += 6;
            } else if (v >= 0xD800 && v <= 0xDFFF) {
                cs_buf_append(o, "\xFF", 1); /* lone surrogate: one malformed unit */
            } else {
                put_utf8(o, v);
            }
            break;
        }
        default: cs_buf_append(o, &e, 1); break; /* " \ / */
        }
    }
}

cs_jsonl_result cs_jsonl_text(const uint8_t *line, size_t n, const char *field, cs_buf *scratch,
                              const uint8_t **text, size_t *text_len, const char **why)
{
    scan c = {line, n, 0, NULL};
    const size_t field_len = strlen(field);
    ws(&c);
    if (c.i == n) {
        /* JSON white space includes LF, but lines never hold one. */
        return CS_JSONL_BLANK;
    }
    if (line[c.i] != '{') {
        *why = "not a JSON object";
        return CS_JSONL_BAD;
    }
    c.i++;
    enum { NONE, STRING, OTHER } found = NONE;
    size_t ta = 0, tz = 0;
    int tesc = 0, tmal = 0, lost_malformed = 0;
    scratch->len = 0;
    ws(&c);
    if (c.i < n && line[c.i] == '}') {
        c.i++;
    } else {
        for (;;) {
            ws(&c);
            if (c.i >= n || line[c.i] != '"') {
                fail(&c, "expected a member name");
                goto bad;
            }
            size_t ka, kz;
            int kesc;
            if (!string(&c, NULL, &ka, &kz, &kesc))
                goto bad;
            int is_field;
            if (!kesc) {
                is_field = (kz - ka == field_len && memcmp(line + ka, field, field_len) == 0);
            } else {
                unescape(line, ka, kz, scratch);
                is_field = (scratch->len == field_len && memcmp(scratch->data, field, field_len) == 0);
            }
            ws(&c);
            if (c.i >= n || line[c.i] != ':') {
                fail(&c, "expected ':'");
                goto bad;
            }
            c.i++;
            ws(&c);
            /* A text member that a later one replaces is "outside the text
             * field": malformed UTF-8 there makes the record bad. */
            if (is_field && found == STRING && tmal)
                lost_malformed = 1;
            if (is_field && c.i < n && line[c.i] == '"') {
                tmal = 0;
                if (!string(&c, &tmal, &ta, &tz, &tesc))
                    goto bad;
                found = STRING;
            } else {
                scratch->len = 0;
                if (!value(&c, scratch))
                    goto bad;
                if (is_field)
                    found = OTHER;
            }
            ws(&c);
            if (c.i < n && line[c.i] == ',') {
                c.i++;
                continue;
            }
            if (c.i < n && line[c.i] == '}') {
                c.i++;
                break;
            }
            fail(&c, c.i < n ? "expected ',' or '}'" : "truncated JSON");
            goto bad;
        }
    }
    ws(&c);
    if (c.i != n) {
        *why = "text after the JSON object";
        return CS_JSONL_BAD;
    }
    if (lost_malformed) {
        *why = "malformed UTF-8 outside the text field";
        return CS_JSONL_BAD;
    }
    if (found != STRING) {
        *why = found == NONE ? "no text field" : "text field is not a string";
        return CS_JSONL_BAD;
    }
    if (!tesc) {
        *text = line + ta;
        *text_len = tz - ta;
    } else {
        unescape(line, ta, tz, scratch);
        *text = scratch->data;
        *text_len = scratch->len;
    }
    return CS_JSONL_OK;
bad:
    *why = c.why ? c.why : "invalid JSON";
    return CS_JSONL_BAD;
}
