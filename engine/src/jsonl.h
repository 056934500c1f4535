/*
 * jsonl.h - one JSONL record -> the document text of one field.
 *
 * Strict RFC 8259 for the whole line (a bad record is skipped and counted,
 * so accepting sloppy JSON would count text a stricter reader drops), with
 * one leniency the contract asks for: the text field's string may hold
 * malformed UTF-8, which the tokenizer counts as separators.
 */
#ifndef CS_JSONL_H
#define CS_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef enum {
    CS_JSONL_OK = 0, /* *text, *text_len: the decoded field */
    CS_JSONL_BLANK,  /* only spaces, tabs and CR: not a record */
    CS_JSONL_BAD     /* *why: a static message */
} cs_jsonl_result;

/* Parses line[0..n) (without its LF) and finds the top-level string member
 * named field (the last one if repeated). The text is a view into line when
 * the string holds no escape, else it is decoded into scratch (which the
 * caller owns and reuses). Escapes decode to UTF-8; a lone surrogate escape
 * decodes to the byte 0xFF, which no UTF-8 text holds, so the tokenizer
 * counts it as one malformed unit. Cost: one pass over the line; nesting
 * depth costs one byte of scratch per level, no recursion, up to 1048576
 * levels of arrays and objects inside a member's value (deeper: a bad
 * record, "nested deeper than 1048576 levels"). */
cs_jsonl_result cs_jsonl_text(const uint8_t *line, size_t n, const char *field, cs_buf *scratch,
                              const uint8_t **text, size_t *text_len, const char **why);

/* cs_jsonl_text for a record longer than memory, in a read-only file
 * mapping (cs_map_release's terms): the line is checked in one pass that
 * gives its pages back as it goes, then the text is passed to fn in
 * pieces of about `piece` bytes (decoded into scratch when it holds
 * escapes; a view into line otherwise), its pages given back after each.
 * The same record, text and result as cs_jsonl_text; memory: scratch of a
 * piece, a byte a nesting level. piece 0 is taken as 1. */
cs_jsonl_result cs_jsonl_text_mapped(const uint8_t *line, size_t n, const char *field,
                                     cs_buf *scratch, size_t piece,
                                     void (*fn)(void *ctx, const uint8_t *p, size_t n),
                                     void *ctx, const char **why);

#endif
