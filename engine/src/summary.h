/*
 * summary.h - summary.json: what a run read, counted, skipped and cost.
 */
#ifndef CS_SUMMARY_H
#define CS_SUMMARY_H

#include <stdint.h>

#include "reader.h"
#include "spill.h"
#include "tokenize.h"

typedef enum { CS_IN_OK = 0, CS_IN_UNDECODABLE, CS_IN_UNREADABLE } cs_in_status;

typedef struct cs_in_result {
    int64_t documents;
    uint64_t decoded;       /* bytes after decompression */
    int64_t bad_records;
    cs_in_status status;
    char *error;            /* owned; NULL when ok */
    uint64_t error_offset;
    int has_offset;
} cs_in_result;

typedef struct cs_summary {
    const cs_options *opt;       /* borrowed */
    const cs_input_list *inputs; /* borrowed */
    const cs_in_result *in;      /* borrowed: one per input */
    cs_tok_stats tok;
    int64_t bad_records;
    uint64_t undecodable, unreadable;
    uint64_t types;                          /* distinct terms */
    uint64_t gram_types[CS_NGRAM_MAX + 1];   /* distinct n-grams per order */
    uint64_t cooc_pairs;                     /* distinct pairs (count > 0) */
    uint64_t bytes_on_disk, bytes_decoded;
    double t_count, t_merge, t_write, t_total;
    uint64_t peak_rss;
    uint64_t memory;                         /* the budget, in bytes */
    cs_spill_stats spill;
    unsigned spill_levels;
    unsigned merge_passes;                   /* times the runs of one table were merged, the most */
    uint64_t merge_slices;                   /* the slices of the n-gram partitions merged in
                                                more than one (grams.c) */
    uint64_t row_runs;                       /* runs of rows written out (rowrun.h) */
    uint64_t row_merges;                     /* merges of runs of rows into one, for the
                                                fan-in */
    int threads;
    size_t stopwords;
    size_t cooc_terms;                       /* terms read from --cooc-terms */
    /* --state: the inputs the state holds (state_inputs), those of this
     * run it had counted (not read), its file's bytes; a merge: states */
    const char *state_dir;
    const char *state_settings;              /* what the counts were counted with (a merge's
                                                options hold only the output's) */
    uint64_t state_inputs, state_already, state_bytes, states_merged;
    int64_t state_bad_records;               /* the state's totals, as summed over */
    uint64_t state_undecodable, state_bytes_on_disk, state_bytes_decoded; /* its inputs */
    size_t first_retract;                    /* inputs from here on: --retract */
} cs_summary;

/* Writes summary.json into the folder dirfd. Returns 0 or errno. */
int cs_summary_write(int dirfd, const cs_summary *s);

#endif
