/*
 * csv.h - the RFC 4180 writer and the output folder that replaces the
 * previous run's tables all at once.
 */
#ifndef CS_CSV_H
#define CS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef struct cs_csv {
    int fd;
    uint8_t *buf; /* owned */
    size_t len, cap;
    int err;      /* first errno of a failed write, 0 if none */
} cs_csv;

/* Creates dir/name for writing (dirfd: an open folder). Returns 0 or errno. */
int cs_csv_open(cs_csv *w, int dirfd, const char *name);
/* Raw bytes, no quoting (headers, numbers, separators). */
void cs_csv_raw(cs_csv *w, const void *p, size_t n);
/* A text field: quoted when it holds a comma, a quote, CR or LF, quotes
 * doubled. parts[0..n) are joined by single spaces (n-gram keys). One
 * that starts as a spreadsheet formula would (=, +, -, @, tab, CR) is
 * written quoted after an apostrophe, which spreadsheets show as text:
 * "'=1+2" (OWASP's guard against CSV injection). Numbers are not fields. */
void cs_csv_field(cs_csv *w, const uint8_t *const *parts, const uint32_t *lens, size_t n);
void cs_csv_i64(cs_csv *w, int64_t v);
void cs_csv_u128(cs_csv *w, unsigned __int128 v);
/* A finite double with 15 significant digits in %g form ("0.5",
 * "1.25e-07", "3"), -0 as 0. Fifteen: more than the measures' own accuracy
 * (about 1e-15 relative), what spreadsheets keep, and a quarter of the cost
 * of the shortest form that reads back as the same double (a
 * snprintf/strtod loop; writing was most of a --cooc run's time). A NaN or
 * infinity would be a bug upstream: written as 0, never as text a
 * spreadsheet misreads. */
void cs_csv_double(cs_csv *w, double v);
/* snprintf of one double as "%.15g" (fixed6: "%.6f") with the C locale's
 * decimal point, whatever the program's locale (summary.json and the CSV
 * must not get a comma). */
int cs_format_double(char *buf, size_t n, double v, int fixed6);
/* The same text as cs_format_double(out, 40, v, 0), finite nonzero v, out
 * of 40 bytes, mostly without printf (tested against it). */
int cs_format_g15(char *out, double v);
/* One table row: `lead` as it is (e.g. "2," or ""), the text field key
 * (quoted as cs_csv_field does), then ",a,b\n". One buffer reservation per
 * row: tables have millions. */
void cs_csv_row(cs_csv *w, const char *lead, size_t lead_len, const uint8_t *key, uint32_t len,
                int64_t a, int64_t b);
/* Flushes, fsyncs and closes. Returns 0 or the first errno. */
int cs_csv_close(cs_csv *w);

/* The output folder being written: a fresh staging folder beside the final
 * one, swapped in by cs_stage_commit. */
typedef struct cs_stage {
    char *final; /* owned */
    char *path;  /* owned: the staging folder */
    int dirfd;   /* open on path */
    /* owned: path and the tables' paths in it, on the list a signal
     * removes (spill.h, cs_tmp_track) until commit or abort */
    struct tmp_path *reg[5];
} cs_stage;

/* Creates the staging folder beside out_dir (creating out_dir's parents if
 * needed). Refuses an out_dir that is not a folder or holds anything but
 * corpusstat's own files: replacing it would delete them. */
cs_status cs_stage_open(const char *out_dir, cs_stage *st, cs_error *err);
/* Swaps the staging folder in (renameat2 RENAME_EXCHANGE, so a reader sees
 * the old tables or the new ones, never a mix) and deletes the old ones. */
cs_status cs_stage_commit(cs_stage *st, cs_error *err);
/* Deletes the staging folder and what it holds; the final folder is left
 * as it was. Safe after commit (does nothing then). */
void cs_stage_abort(cs_stage *st);

#endif
