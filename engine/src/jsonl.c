/*
 * jsonl.c - strict JSON record scanner (see jsonl.h).
 *
 * DESIGN
 * A single forward scan with an explicit stack of open containers (one
 * byte each, in a reused buffer, at most MAX_DEPTH), so hostile nesting
 * costs a bounded buffer and never the C stack. Only the wanted member's
 * string is decoded, and only when it holds an escape; a key only when it
 * could be the field's name. A record longer than memory is scanned in its
 * mapping, giving pages back as it goes (cs_jsonl_text_mapped), then its
 * text decoded a piece at a time.
 */
#include "jsonl.h"

#include <string.h>

#include "reader.h"

typedef struct {
    const uint8_t *s;
    size_t n, i;
    const char *why;
    int release;  /* s is a file mapping whose pages go back as they are passed */
    size_t given; /* s[0..given) given back */
} scan;

/* A record longer than memory is scanned in a mapping: its pages are
 * given back every RELEASE bytes (reading them again faults them in). */
#define RELEASE ((size_t)4 << 20)

/* Deeper nesting is a bad record (RFC 8259 lets a parser set the limit):
 * the stack of open containers costs a byte a level. Levels are counted
 * inside a member's value; the record's own object is not one. */
#define MAX_DEPTH ((size_t)1 << 20)
#define MAX_DEPTH_WHY "nested deeper than 1048576 levels"
_Static_assert(MAX_DEPTH == 1048576, "MAX_DEPTH_WHY says the depth");

static inline void pass(scan *c)
{
    if (c->release && c->i - c->given >= RELEASE)
        cs_map_release_upto(c->s, &c->given, c->i);
}

static int fail(scan *c, const char *why)
{
    if (!c->why)
        c->why = why;
    return 0;
}

static void ws(scan *c)
{
    while (c->i < c->n) {
        pass(c);
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
        pass(c);
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
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
        pass(c);
        c->i++;
    }
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
        /* a value starts here (ws gives pages back, as every loop over bytes) */
        ws(c);
        if (c->i >= c->n)
            return fail(c, "truncated JSON");
        uint8_t b = c->s[c->i];
        size_t a, z;
        int esc;
        if (b == '{' || b == '[') {
            if (stack->len >= MAX_DEPTH)
                return fail(c, MAX_DEPTH_WHY);
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

/* Decodes the escapes of s[i..z), a string already validated by
 * string(), appending to o, up to `limit`: an escape that starts before it
 * is decoded whole (so a piece ends at most 11 bytes past it). Returns
 * where it stopped. */
static size_t unescape_part(const uint8_t *s, size_t i, size_t limit, size_t z, cs_buf *o)
{
    limit = limit < z ? limit : z;
    cs_buf_reserve(o, limit > i ? limit - i : 0);
    while (i < limit) {
        size_t j = i;
        while (j < limit && s[j] != '\\')
            j++;
        cs_buf_append(o, s + i, j - i);
        if (j >= limit)
            return j;
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
            if (j + 6 > z || !hex4(s + j + 2, &v)) {
                /* checked by string(): only a file changed since (read
                 * again from a mapping) gets here; a malformed unit */
                cs_buf_append(o, "\xFF", 1);
                i = j + 6 > z ? z : j + 6;
                break;
            }
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
    return i;
}

static void unescape(const uint8_t *s, size_t a, size_t z, cs_buf *o)
{
    o->len = 0;
    unescape_part(s, a, z, z, o);
}

/* Whether the key s[a..z) (escapes in it: esc) is field. A key with
 * escapes is decoded only when it can be as short as field (each decoded
 * byte takes at most 6 of the escaped form): a key of any length costs no
 * memory. */
static int key_is(const uint8_t *s, size_t a, size_t z, int esc, const char *field,
                  size_t field_len, cs_buf *scratch)
{
    if (!esc)
        return z - a == field_len && memcmp(s + a, field, field_len) == 0;
    if (z - a > 6 * field_len)
        return 0;
    unescape(s, a, z, scratch);
    return scratch->len == field_len && memcmp(scratch->data, field, field_len) == 0;
}

static cs_jsonl_result find(const uint8_t *line, size_t n, const char *field, cs_buf *scratch,
                            int release, size_t *a, size_t *z, int *esc, const char **why)
{
    scan c = {line, n, 0, NULL, release, 0};
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
            const int is_field = key_is(line, ka, kz, kesc, field, field_len, scratch);
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
    *a = ta;
    *z = tz;
    *esc = tesc;
    return CS_JSONL_OK;
bad:
    *why = c.why ? c.why : "invalid JSON";
    return CS_JSONL_BAD;
}

cs_jsonl_result cs_jsonl_text(const uint8_t *line, size_t n, const char *field, cs_buf *scratch,
                              const uint8_t **text, size_t *text_len, const char **why)
{
    size_t a, z;
    int esc;
    const cs_jsonl_result r = find(line, n, field, scratch, 0, &a, &z, &esc, why);
    if (r != CS_JSONL_OK)
        return r;
    if (!esc) {
        *text = line + a;
        *text_len = z - a;
    } else {
        unescape(line, a, z, scratch);
        *text = scratch->data;
        *text_len = scratch->len;
    }
    return CS_JSONL_OK;
}

cs_jsonl_result cs_jsonl_text_mapped(const uint8_t *line, size_t n, const char *field,
                                     cs_buf *scratch, size_t piece,
                                     void (*fn)(void *ctx, const uint8_t *p, size_t n),
                                     void *ctx, const char **why)
{
    size_t a, z;
    int esc;
    const cs_jsonl_result r = find(line, n, field, scratch, 1, &a, &z, &esc, why);
    /* the scan gave back what it passed; the rest of the line goes too */
    if (r != CS_JSONL_OK) {
        cs_map_release(line, n);
        return r;
    }
    piece = piece ? piece : 1;
    size_t given = a;
    for (size_t i = a; i < z;) {
        size_t next;
        if (!esc) {
            next = z - i < piece ? z : i + piece;
            fn(ctx, line + i, next - i);
        } else {
            scratch->len = 0;
            next = unescape_part(line, i, i + piece, z, scratch);
            fn(ctx, scratch->data, scratch->len);
        }
        cs_map_release_upto(line, &given, next);
        i = next;
    }
    cs_map_release(line, n);
    return CS_JSONL_OK;
}
