/*
 * corpusstat.h - the one public header of libcorpusstat.
 *
 * corpusstat counts terms and n-grams in corpora of plain text or JSONL,
 * optionally zstd-compressed, exactly and deterministically, and writes the
 * tables as CSV plus a JSON summary (the contract: docs/counting.md).
 *
 * The library never prints. Fatal errors come back as a status and a filled
 * cs_error; skipped records and inputs are handed to cs_options.on_diag, in
 * input order, after counting. The CLI (engine/cli/main.c) is the only caller
 * that prints and chooses exit codes.
 */
#ifndef CORPUSSTAT_H
#define CORPUSSTAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CS_VERSION_MAJOR 0
#define CS_VERSION_MINOR 1
#define CS_VERSION_PATCH 0
#define CS_VERSION_STRING "0.1.0"

/* Longest n-gram order accepted by --ngrams. Keys hold n term ids inline, so
 * the bound keeps entries fixed-size per order; 16 is far beyond what
 * phrase statistics use (KenLM users rarely go past 5). */
#define CS_NGRAM_MAX 16

typedef enum {
    CS_OK = 0,
    CS_ERR_USAGE,    /* a bad option value: the CLI exits 2 */
    CS_ERR_INPUT,    /* --strict and a bad record, shard or input; or stdin failed */
    CS_ERR_OUTPUT,   /* the output folder cannot be prepared or written */
    CS_ERR_NOMEM,
    CS_ERR_INTERNAL
} cs_status;

typedef enum { CS_FORMAT_AUTO = 0, CS_FORMAT_TEXT, CS_FORMAT_JSONL } cs_format;
typedef enum { CS_DOCSEP_FILE = 0, CS_DOCSEP_LINE, CS_DOCSEP_BLANK } cs_docsep;
typedef enum { CS_NORM_NONE = 0, CS_NORM_NFC, CS_NORM_NFKC } cs_norm;
typedef enum { CS_COOC_NONE = 0, CS_COOC_WINDOW, CS_COOC_DOC } cs_cooc;
typedef enum { CS_WEIGHT_NONE = 0, CS_WEIGHT_HARMONIC } cs_weight;
/* --window W: at most this many positions apart (lcm(1..32), the unit of
 * harmonic weights, still fits 48 bits). */
#define CS_WINDOW_MAX 32

typedef enum {
    CS_DIAG_BAD_RECORD,  /* a JSONL line skipped: path, line, byte offset */
    CS_DIAG_UNDECODABLE, /* a zstd shard skipped whole: path, compressed byte offset */
    CS_DIAG_UNREADABLE,  /* an input that could not be opened or read: path */
    CS_DIAG_SUPPRESSED   /* "N more bad records in path": line holds N */
} cs_diag_kind;

/* One skipped record or input. Every pointer is borrowed: valid only during
 * the callback. */
typedef struct cs_diag {
    cs_diag_kind kind;
    const char *path;
    uint64_t line;       /* 1-based line for bad records; 0 when not applicable */
    uint64_t offset;     /* byte offset (compressed for zstd errors) */
    int has_offset;
    const char *message; /* e.g. "zstd: Data corruption detected", "not a JSON object" */
} cs_diag;

/* Fatal error of a run: what failed, where, and why. */
typedef struct cs_error {
    cs_status code;
    char path[4096];     /* empty when no file is involved */
    uint64_t line;       /* 0 = none */
    uint64_t offset;
    int has_offset;
    char message[512];
} cs_error;

typedef void (*cs_diag_fn)(void *user, const cs_diag *diag);
/* Progress: bytes of input (as on disk) done and in all (0 when unknown, as
 * for stdin). Called from any worker thread, never twice at once. */
typedef void (*cs_progress_fn)(void *user, uint64_t done, uint64_t total, double seconds);

typedef struct cs_options {
    /* Inputs and documents */
    cs_format format;          /* AUTO: by file name (*.jsonl, *.ndjson, under .zst) */
    const char *text_field;    /* JSONL field holding the document, default "text" */
    cs_docsep doc_sep;         /* plain text only */
    int strict;                /* first bad record/shard/input stops the run */
    /* Tokens and segments */
    int fold_case;             /* 1 (default): Unicode full case folding */
    cs_norm normalize;
    uint32_t max_len;          /* bytes after folding, default 64 */
    uint32_t min_len;          /* code points after folding, default 1 */
    const char *stopwords_path;/* NULL: none */
    int join_lines;
    /* Tables */
    int ngram_min, ngram_max;  /* default 1-2 */
    cs_cooc cooc;              /* default WINDOW */
    int window;                /* window scope: 1..CS_WINDOW_MAX, default 5 */
    cs_weight weight;          /* window scope: per pair at distance d, 1 or 1/d */
    uint64_t cooc_vocab;       /* doc scope: the K terms of highest doc_count, default 5000 */
    const char *cooc_terms_path;/* doc scope: these terms instead (one a line); NULL: none */
    uint64_t min_count;        /* 0 or 1: keep all */
    uint64_t top;              /* UINT64_MAX: keep all */
    int bom;
    /* Run */
    const char *out_dir;       /* default "corpusstat-out" */
    int threads;               /* 0: all cores */
    size_t chunk_size;         /* bytes per work chunk; tests set a few bytes */
    uint64_t memory;           /* --memory: bytes; 0: half of physical RAM (see cs_count) */
    const char *tmp_dir;       /* --tmp: where spills go; NULL: $TMPDIR, else /tmp */
    /* Counts kept between runs (docs/counting.md, "State") */
    const char *state_dir;     /* --state DIR: its counts are added to, and only inputs it
                                  has not counted are read; NULL: none */
    const char *const *retract;/* --retract FILE: inputs of the state to take out of it
                                  (counted again with sign -1; their bytes must be those
                                  it counted); with state_dir only */
    size_t n_retract;
    const char *const *merge;  /* corpusstat merge: state folders to combine (no inputs);
                                  the tables' kinds come from them */
    size_t n_merge;
    /* Callbacks (may be NULL) */
    cs_diag_fn on_diag;
    cs_progress_fn on_progress;
    void *user;
} cs_options;

/* Fills *opt with the defaults of `corpusstat count`. */
void cs_options_init(cs_options *opt);

/* Checks option values (ranges, combinations). Returns CS_OK or CS_ERR_USAGE
 * with err->message saying which option and why. */
cs_status cs_options_check(const cs_options *opt, cs_error *err);

/* Counts `inputs` (files, folders, @LIST files, "-" for stdin) and replaces
 * the tables in opt->out_dir. On any status but CS_OK the previous tables are
 * left as they were and no new table exists under a final name.
 * Cost: one pass over the inputs (two over a zstd shard that fails to
 * decode, and two over every input for --cooc doc without --cooc-terms).
 * Memory: the distinct terms of each thread's table (a term seen by several
 * threads is held by each until the merge), the n-gram and pair runs up to
 * opt->memory (past it they are spilled to a temporary folder in
 * opt->tmp_dir, removed before returning), the merged tables, plus about
 * (3 x threads + inputs being read) x chunk_size of buffers; a JSONL line
 * of a zstd shard or stdin longer than a chunk grows its buffer to hold it,
 * up to 4 MiB (or chunk_size): a longer one goes to a file in the
 * temporary folder, to be read from there a piece at a time. */
cs_status cs_count(const cs_options *opt, const char *const *inputs, size_t n_inputs,
                   cs_error *err);
/* With opt->state_dir, cs_count adds the inputs the state there has not
 * counted to its counts (docs/counting.md, "Nightly runs"). corpusstat
 * merge is cs_count with opt->merge naming states (their folders, or
 * their state files) and no inputs: the tables of everything they
 * counted, as one run over all their inputs would write them. The states
 * must have the same settings and no input in common; the kinds of tables
 * come from them (opt's --ngrams, --cooc, --window, --weight are not
 * used), the output options (--top, --min-count, --bom) from opt. With
 * opt->state_dir, the combined state is written there too (it must hold
 * none yet). */

/* Removes the temporary files of a cs_count in progress (runs spilled
 * under --memory, the staging folder beside the output, a state file being
 * written) and their folder. Async-signal-safe: for a SIGINT or SIGTERM
 * handler, which then ends the process (re-raises the signal). One way:
 * it marks the process as ending, waits (at most 2 s) for threads making
 * such a file, and from then on a thread about to make one blocks for
 * good, so call it only on the way out. (cs_count removes its files
 * itself on every return.) */
void cs_remove_temp_files(void);

/* The input (its path as given) whose mapping holds addr, or NULL: for a
 * SIGBUS handler, since a file cut short while cs_count reads it makes a
 * read past its new end raise SIGBUS there. Async-signal-safe. The
 * handler should say so, call cs_remove_temp_files and end the process:
 * what was counted of that input is not its content any more. */
const char *cs_mapped_input_at(const void *addr);

/* The Unicode version of the character data (from utf8proc). */
const char *cs_unicode_version(void);

#ifdef __cplusplus
}
#endif
#endif /* CORPUSSTAT_H */
