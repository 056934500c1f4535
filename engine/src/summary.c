/*
 * summary.c - writes summary.json (see summary.h).
 *
 * Paths are file names, not text: bytes that are not UTF-8 are written as
 * \udcXX escapes (Python's surrogateescape), so a reader can get the exact
 * bytes back with os.fsencode.
 */
#include "summary.h"

#include <stdio.h>
#include <string.h>

#include "csv.h"

static void jstr(cs_csv *w, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    cs_csv_raw(w, "\"", 1);
    for (size_t i = 0; i < n;) {
        uint8_t b = p[i];
        char tmp[16];
        if (b == '"' || b == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)b;
            cs_csv_raw(w, tmp, 2);
            i++;
        } else if (b < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", b);
            cs_csv_raw(w, tmp, 6);
            i++;
        } else if (b < 0x80) {
            cs_csv_raw(w, &b, 1);
            i++;
        } else {
            /* copy a valid UTF-8 sequence, escape a stray byte */
            size_t k = cs_utf8_seq_len(p + i, n - i);
            int ok = k != 0;
            if (ok) {
                cs_csv_raw(w, p + i, k);
                i += k;
            } else {
                snprintf(tmp, sizeof tmp, "\\udc%02x", b);
                cs_csv_raw(w, tmp, 6);
                i++;
            }
        }
    }
    cs_csv_raw(w, "\"", 1);
}

static void key(cs_csv *w, int indent, const char *k)
{
    static const char spaces[] = "        ";
    cs_csv_raw(w, spaces, (size_t)indent);
    jstr(w, k);
    cs_csv_raw(w, ": ", 2);
}

static void num(cs_csv *w, int indent, const char *k, int64_t v, int last)
{
    key(w, indent, k);
    cs_csv_i64(w, v);
    cs_csv_raw(w, last ? "\n" : ",\n", last ? 1 : 2);
}

static void boolean(cs_csv *w, int indent, const char *k, int v)
{
    key(w, indent, k);
    cs_csv_raw(w, v ? "true,\n" : "false,\n", v ? 6 : 7);
}

static void dbl(cs_csv *w, int indent, const char *k, double v, int last)
{
    char tmp[64];
    key(w, indent, k);
    int n = cs_format_double(tmp, sizeof tmp, v >= 0 ? v : 0.0, 1);
    cs_csv_raw(w, tmp, (size_t)n);
    cs_csv_raw(w, last ? "\n" : ",\n", last ? 1 : 2);
}

static void str(cs_csv *w, int indent, const char *k, const char *v, int last)
{
    key(w, indent, k);
    if (v)
        jstr(w, v);
    else
        cs_csv_raw(w, "null", 4);
    cs_csv_raw(w, last ? "\n" : ",\n", last ? 1 : 2);
}

static const char *const FORMATS[] = {"auto", "text", "jsonl"};
static const char *const DOCSEPS[] = {"file", "line", "blank"};
static const char *const NORMS[] = {"none", "nfc", "nfkc"};
static const char *const STATUS[] = {"ok", "undecodable", "unreadable"};

int cs_summary_write(int dirfd, const cs_summary *s)
{
    cs_csv w;
    int e = cs_csv_open(&w, dirfd, "summary.json");
    if (e)
        return e;
    const cs_options *o = s->opt;
    char tmp[64];
    cs_csv_raw(&w, "{\n", 2);
    str(&w, 2, "version", CS_VERSION_STRING, 0);
    str(&w, 2, "unicode_version", cs_unicode_version(), 0);
    key(&w, 2, "options");
    cs_csv_raw(&w, "{\n", 2);
    str(&w, 4, "format", FORMATS[o->format], 0);
    str(&w, 4, "text_field", o->text_field, 0);
    str(&w, 4, "doc_sep", DOCSEPS[o->doc_sep], 0);
    boolean(&w, 4, "strict", o->strict);
    str(&w, 4, "case", o->fold_case ? "fold" : "keep", 0);
    str(&w, 4, "normalize", NORMS[o->normalize], 0);
    num(&w, 4, "max_len", o->max_len, 0);
    num(&w, 4, "min_len", o->min_len, 0);
    str(&w, 4, "stopwords", o->stopwords_path, 0);
    num(&w, 4, "stopwords_loaded", (int64_t)s->stopwords, 0);
    boolean(&w, 4, "join_lines", o->join_lines);
    snprintf(tmp, sizeof tmp, "%d-%d", o->ngram_min, o->ngram_max);
    str(&w, 4, "ngrams", tmp, 0);
    static const char *const COOCS[] = {"none", "window", "doc"};
    str(&w, 4, "cooc", COOCS[o->cooc], 0);
    if (o->cooc == CS_COOC_WINDOW) {
        num(&w, 4, "window", o->window, 0);
        str(&w, 4, "weight", o->weight == CS_WEIGHT_HARMONIC ? "harmonic" : "none", 0);
    } else if (o->cooc == CS_COOC_DOC) {
        if (o->cooc_terms_path) {
            str(&w, 4, "cooc_terms", o->cooc_terms_path, 0);
            num(&w, 4, "cooc_terms_loaded", (int64_t)s->cooc_terms, 0);
        } else {
            num(&w, 4, "cooc_vocab", (int64_t)o->cooc_vocab, 0);
        }
    }
    num(&w, 4, "min_count", (int64_t)o->min_count, 0);
    if (o->top == UINT64_MAX)
        str(&w, 4, "top", NULL, 0);
    else
        num(&w, 4, "top", (int64_t)o->top, 0);
    boolean(&w, 4, "bom", o->bom);
    num(&w, 4, "memory_bytes", (int64_t)s->memory, 0);
    str(&w, 4, "tmp", o->tmp_dir, 0);
    str(&w, 4, "output", o->out_dir, 1);
    cs_csv_raw(&w, "  },\n", 5);

    num(&w, 2, "documents", s->tok.documents, 0);
    num(&w, 2, "segments", s->tok.segments, 0);
    num(&w, 2, "tokens", s->tok.tokens, 0);
    num(&w, 2, "types", (int64_t)s->types, 0);
    key(&w, 2, "ngram_types");
    cs_csv_raw(&w, "{", 1);
    int first = 1;
    for (int n = o->ngram_min < 2 ? 2 : o->ngram_min; n <= o->ngram_max; n++) {
        int k = snprintf(tmp, sizeof tmp, "%s\"%d\": %llu", first ? "" : ", ", n,
                         (unsigned long long)s->gram_types[n]);
        cs_csv_raw(&w, tmp, (size_t)k);
        first = 0;
    }
    cs_csv_raw(&w, "},\n", 3);
    if (o->cooc != CS_COOC_NONE)
        num(&w, 2, "cooc_pairs", (int64_t)s->cooc_pairs, 0);
    num(&w, 2, "bad_records", s->bad_records, 0);
    num(&w, 2, "invalid_utf8", s->tok.invalid_utf8, 0);
    num(&w, 2, "long_tokens_dropped", s->tok.long_dropped, 0);
    num(&w, 2, "excluded_tokens", s->tok.excluded, 0);
    num(&w, 2, "undecodable_shards", (int64_t)s->undecodable, 0);
    num(&w, 2, "unreadable_inputs", (int64_t)s->unreadable, 0);
    num(&w, 2, "bytes_on_disk", (int64_t)s->bytes_on_disk, 0);
    num(&w, 2, "bytes_decompressed", (int64_t)s->bytes_decoded, 0);
    num(&w, 2, "threads", s->threads, 0);
    key(&w, 2, "seconds");
    cs_csv_raw(&w, "{\n", 2);
    dbl(&w, 4, "count", s->t_count, 0);
    dbl(&w, 4, "merge", s->t_merge, 0);
    dbl(&w, 4, "write", s->t_write, 0);
    dbl(&w, 4, "total", s->t_total, 1);
    cs_csv_raw(&w, "  },\n", 5);
    dbl(&w, 2, "mb_per_s", s->t_total > 0 ? (double)s->bytes_decoded / 1e6 / s->t_total : 0, 0);
    num(&w, 2, "peak_rss_bytes", (int64_t)s->peak_rss, 0);
    /* What went to disk under --memory (bytes_disk: the most at once). */
    key(&w, 2, "spill");
    cs_csv_raw(&w, "{\n", 2);
    str(&w, 4, "folder", s->spill.folder, 0);
    num(&w, 4, "spills", (int64_t)s->spill.spills, 0);
    num(&w, 4, "runs", (int64_t)s->spill.runs, 0);
    num(&w, 4, "keys", (int64_t)s->spill.keys, 0);
    num(&w, 4, "files", (int64_t)s->spill.files, 0);
    num(&w, 4, "bytes_raw", (int64_t)s->spill.bytes_raw, 0);
    num(&w, 4, "bytes_disk", (int64_t)s->spill.bytes_disk, 0);
    num(&w, 4, "bytes_read", (int64_t)s->spill.bytes_read, 0);
    num(&w, 4, "merge_levels", s->spill_levels, 0);
    num(&w, 4, "merge_passes", s->merge_passes, 0);
    num(&w, 4, "merge_slices", (int64_t)s->merge_slices, 0);
    num(&w, 4, "row_runs", (int64_t)s->row_runs, 0);
    num(&w, 4, "row_merges", (int64_t)s->row_merges, 1);
    cs_csv_raw(&w, "  },\n", 5);
    /* --state and merge: counts and types above are those of every input
     * the state holds; the inputs below are those this run read. */
    key(&w, 2, "state");
    cs_csv_raw(&w, "{\n", 2);
    str(&w, 4, "folder", s->state_dir, 0);
    num(&w, 4, "inputs", (int64_t)s->state_inputs, 0);
    num(&w, 4, "inputs_already_counted", (int64_t)s->state_already, 0);
    num(&w, 4, "states_merged", (int64_t)s->states_merged, 0);
    str(&w, 4, "settings", s->state_settings, 0);
    num(&w, 4, "bad_records", s->state_bad_records, 0);
    num(&w, 4, "undecodable_shards", (int64_t)s->state_undecodable, 0);
    num(&w, 4, "bytes_on_disk", (int64_t)s->state_bytes_on_disk, 0);
    num(&w, 4, "bytes_decompressed", (int64_t)s->state_bytes_decoded, 0);
    num(&w, 4, "bytes", (int64_t)s->state_bytes, 1);
    cs_csv_raw(&w, "  },\n", 5);
    key(&w, 2, "inputs");
    cs_csv_raw(&w, "[", 1);
    for (size_t i = 0; i < s->inputs->n; i++) {
        const cs_input *in = &s->inputs->v[i];
        const cs_in_result *r = &s->in[i];
        cs_csv_raw(&w, i ? ",\n    {" : "\n    {", i ? 7 : 6);
        cs_csv_raw(&w, "\"path\": ", 8);
        jstr(&w, in->path);
        int k = snprintf(tmp, sizeof tmp, ", \"bytes_on_disk\": %llu, \"bytes_decompressed\": %llu",
                         (unsigned long long)in->size, (unsigned long long)r->decoded);
        cs_csv_raw(&w, tmp, (size_t)k);
        k = snprintf(tmp, sizeof tmp, ", \"documents\": %lld, \"bad_records\": %lld",
                     (long long)r->documents, (long long)r->bad_records);
        cs_csv_raw(&w, tmp, (size_t)k);
        cs_csv_raw(&w, ", \"status\": ", 12);
        jstr(&w, STATUS[r->status]);
        if (i >= s->first_retract)
            cs_csv_raw(&w, ", \"retracted\": true", 19);
        if (r->error) {
            cs_csv_raw(&w, ", \"error\": ", 11);
            jstr(&w, r->error);
        }
        cs_csv_raw(&w, "}", 1);
    }
    cs_csv_raw(&w, s->inputs->n ? "\n  ]\n}\n" : "]\n}\n", s->inputs->n ? 7 : 4);
    return cs_csv_close(&w);
}
