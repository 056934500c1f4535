/*
 * options.c - the defaults of `corpusstat count` and their checks.
 */
#include <string.h>

#include "common.h"

/* 1 MiB chunks: ~5 ms of tokenizing, so task overhead is noise and a
 * handful of chunks per thread keeps every core busy. */
#define DEFAULT_CHUNK (1u << 20)

void cs_options_init(cs_options *o)
{
    memset(o, 0, sizeof *o);
    o->format = CS_FORMAT_AUTO;
    o->text_field = "text";
    o->doc_sep = CS_DOCSEP_FILE;
    o->fold_case = 1;
    o->normalize = CS_NORM_NONE;
    o->max_len = 64;
    o->min_len = 1;
    o->ngram_min = 1;
    o->ngram_max = 2;
    o->cooc = CS_COOC_WINDOW;
    o->window = 5;
    o->weight = CS_WEIGHT_NONE;
    o->cooc_vocab = 5000;
    o->min_count = 0;
    o->top = UINT64_MAX;
    o->out_dir = "corpusstat-out";
    o->threads = 0;
    o->chunk_size = DEFAULT_CHUNK;
}

cs_status cs_options_check(const cs_options *o, cs_error *err)
{
    if (o->ngram_min < 1 || o->ngram_max < o->ngram_min || o->ngram_max > CS_NGRAM_MAX) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--ngrams %d-%d: want A-B with 1 <= A <= B <= %d",
                     o->ngram_min, o->ngram_max, CS_NGRAM_MAX);
        return CS_ERR_USAGE;
    }
    if (o->max_len < 1 || o->max_len > (1u << 20)) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--max-len %u: want 1 to 1048576", o->max_len);
        return CS_ERR_USAGE;
    }
    if (o->min_len > o->max_len) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--min-len %u is above --max-len %u", o->min_len,
                     o->max_len);
        return CS_ERR_USAGE;
    }
    if ((unsigned)o->cooc > CS_COOC_DOC || (unsigned)o->weight > CS_WEIGHT_HARMONIC) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--cooc or --weight: not a known value");
        return CS_ERR_USAGE;
    }
    if (o->cooc_terms_path && o->cooc != CS_COOC_DOC) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--cooc-terms is for --cooc doc only");
        return CS_ERR_USAGE;
    }
    if (o->window < 1 || o->window > CS_WINDOW_MAX) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--window %d: want 1 to %d", o->window, CS_WINDOW_MAX);
        return CS_ERR_USAGE;
    }
    if (!o->text_field || !*o->text_field) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--text-field: want a field name");
        return CS_ERR_USAGE;
    }
    if (o->threads < 0 || o->threads > 1024) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "-T %d: want 0 (all cores) to 1024", o->threads);
        return CS_ERR_USAGE;
    }
    if (o->memory && o->memory < ((uint64_t)64 << 10)) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--memory: want at least 64K");
        return CS_ERR_USAGE;
    }
    if (o->state_dir && o->cooc == CS_COOC_DOC && !o->cooc_terms_path && !o->n_merge) {
        cs_error_set(err, CS_ERR_USAGE, NULL,
                     "--cooc doc with --state needs a fixed vocabulary, --cooc-terms FILE: the "
                     "top --cooc-vocab terms change as the archive grows, and pairing them "
                     "again would need every document already counted");
        return CS_ERR_USAGE;
    }
    if (o->n_retract && (!o->state_dir || o->n_merge)) {
        cs_error_set(err, CS_ERR_USAGE, NULL,
                     "--retract takes inputs out of a state: it needs count --state DIR");
        return CS_ERR_USAGE;
    }
    if (o->state_dir && !*o->state_dir) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "--state: want a folder");
        return CS_ERR_USAGE;
    }
    if (o->chunk_size < 1) {
        cs_error_set(err, CS_ERR_USAGE, NULL, "chunk size must be at least 1 byte");
        return CS_ERR_USAGE;
    }
    return CS_OK;
}

