/*
 * tokenize.h - the streaming tokenizer: bytes of a document, in pieces of
 * any size, in; tokens, excluded positions, segment ends and document
 * boundaries out, in batches.
 *
 * The tokenizer owns no table. It hands each full batch to a sink (the
 * counting stage) so the hot loop is free of calls per token, and it keeps
 * every bit of state between pieces (a partial UTF-8 sequence, the token
 * being built, a joiner waiting for its right neighbour, the open document),
 * so a document can be fed 1 byte at a time and give the same events.
 */
#ifndef CS_TOKENIZE_H
#define CS_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Who decides where documents start and end. */
typedef enum {
    CS_TOK_DOCS_EXTERNAL = 0, /* the caller: cs_tok_doc_begin/_end (file, JSONL) */
    CS_TOK_DOCS_LINE,         /* every non-blank line */
    CS_TOK_DOCS_BLANK         /* runs of non-blank lines between blank lines */
} cs_tok_docs;

/* A set of terms, compared as bytes (stopwords after folding; the --cooc
 * doc vocabulary). Each term has an index, 0.. in insertion order. */
typedef struct cs_strset cs_strset;
cs_strset *cs_strset_new(void);
/* Adds a copy of the term (unless it is there); returns its index. */
uint32_t cs_strset_add(cs_strset *s, const uint8_t *p, size_t n);
int cs_strset_has(const cs_strset *s, const uint8_t *p, size_t n);
/* The index of the term whose bytes are p[0..n) and whose XXH3 is hash
 * (given: the counter has it already), or -1. */
int64_t cs_strset_find(const cs_strset *s, uint64_t hash, const uint8_t *p, size_t n);
size_t cs_strset_size(const cs_strset *s);
const uint8_t *cs_strset_key(const cs_strset *s, uint32_t index, uint32_t *len);
uint64_t cs_strset_hash(const cs_strset *s, uint32_t index); /* XXH3 of its bytes */
void cs_strset_free(cs_strset *s); /* NULL is a no-op */

typedef struct cs_tok_config {
    int fold;                    /* full case folding */
    cs_norm normalize;
    int join_lines;
    cs_tok_docs docs;
    uint32_t max_len;            /* bytes after folding */
    uint32_t min_len;            /* code points after folding */
    const cs_strset *stopwords;  /* borrowed; may be NULL */
    int state_machine_only;      /* tests: no fast path, the definition alone */
} cs_tok_config;

enum {
    CS_EV_TOKEN = 1, /* bytes[off .. off+len) is a counted term */
    CS_EV_HOLE,      /* an excluded token (stopword, --min-len): a position, no term */
    CS_EV_SEG_END,   /* the segment that held positions ended */
    CS_EV_DOC_BEGIN,
    CS_EV_DOC_END
};

/* Events per batch: big enough that the sink call is noise, small enough to
 * stay in L2 with its bytes. */
#define CS_BATCH_EVENTS 4096
#define CS_BATCH_BYTES (64 * 1024)

typedef struct cs_tok_batch {
    uint32_t n_events;
    uint32_t n_bytes;
    uint8_t kind[CS_BATCH_EVENTS];
    uint32_t off[CS_BATCH_EVENTS];
    uint32_t len[CS_BATCH_EVENTS];
    uint8_t *bytes; /* owned by the tokenizer; folded token bytes */
} cs_tok_batch;

typedef void (*cs_tok_sink)(void *ctx, const cs_tok_batch *batch);

typedef struct cs_tok_stats {
    int64_t documents;
    int64_t segments;     /* segments holding at least one token (counted or excluded) */
    int64_t tokens;       /* counted tokens */
    int64_t excluded;     /* stopwords and tokens under --min-len */
    int64_t long_dropped; /* tokens over --max-len */
    int64_t invalid_utf8; /* maximal subparts of malformed sequences */
} cs_tok_stats;

typedef struct cs_tok cs_tok;

/* Builds the character tables (categories and folds of the BMP). Call once
 * before any thread tokenizes; later calls do nothing. */
void cs_tok_global_init(void);

/* cfg is borrowed and must outlive the tokenizer. */
cs_tok *cs_tok_new(const cs_tok_config *cfg);
void cs_tok_free(cs_tok *t); /* NULL is a no-op */
void cs_tok_set_sink(cs_tok *t, cs_tok_sink sink, void *ctx);

/* Forgets all state (the start of an independent chunk). Stats are kept. */
void cs_tok_reset(cs_tok *t);

/* Tokenizes n bytes. Every event the bytes complete is delivered to the sink
 * before return; the token or joiner they leave open waits for more. */
void cs_tok_feed(cs_tok *t, const uint8_t *p, size_t n);

/* External documents: begin, feed..., end. doc_end closes the text (a partial
 * UTF-8 sequence is malformed; the open token ends) and the segment. */
void cs_tok_doc_begin(cs_tok *t);
void cs_tok_doc_end(cs_tok *t);

/* End of a chunk of line/blank documents: closes the open document. */
void cs_tok_finish(cs_tok *t);

/* 1 when no document, token, joiner or UTF-8 sequence is open and the
 * tokenizer stands at a line start: what follows may go to a fresh one. */
int cs_tok_idle(const cs_tok *t);

/* Returns the stats gathered since the last call and zeroes them. */
cs_tok_stats cs_tok_take_stats(cs_tok *t);

/* One line of a stopword file as a term: trimmed of white space, joiners in
 * ASCII form, normalized and folded as cfg says, not split. Returns 0 for an
 * empty or malformed line (out untouched), else 1 with the term in out. */
int cs_tok_term(const cs_tok_config *cfg, const uint8_t *p, size_t n, cs_buf *out);

/* Reads a list of terms (one a line, see cs_tok_term; a BOM at its start
 * is ignored) and passes each to add. what: the option, for messages.
 * Returns 0, or -1 with err filled. */
int cs_term_list_read(const char *path, const cs_tok_config *cfg, const char *what,
                      void (*add)(void *ctx, const uint8_t *p, size_t n), void *ctx,
                      cs_error *err);

/* Reads a stopword file into a new set, or returns NULL with err filled. */
cs_strset *cs_stopwords_load(const char *path, const cs_tok_config *cfg, cs_error *err);

#endif
