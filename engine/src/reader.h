/*
 * reader.h - inputs -> bytes: expanding INPUT arguments into files, mapping
 * or reading each one, decompressing zstd frames into bounded buffers, and
 * finding document boundaries where work can be cut.
 *
 * The reader is serial per input; the pipeline runs many inputs at once and
 * hands the pieces it cuts to workers.
 */
#ifndef CS_READER_H
#define CS_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"

typedef struct cs_input {
    char *path;        /* owned; "-" for stdin */
    int is_stdin;
    int is_zst;        /* by name (*.zst), or by magic number on stdin */
    cs_format format;  /* TEXT or JSONL, resolved */
    uint64_t size;     /* bytes on disk; 0 when unknown */
    char *error;       /* owned; set when expansion found it unreadable */
} cs_input;

typedef struct cs_input_list {
    cs_input *v; /* owned */
    size_t n, cap;
} cs_input_list;

/* A folder never to read (the output folder and its staging twin). */
typedef struct cs_exclude {
    dev_t dev;
    ino_t ino;
    const char *real; /* borrowed: its realpath(3), for files named inside it */
} cs_exclude;

/* Expands INPUT arguments in order: "-" is stdin; "@FILE" names one input
 * per line (blank lines skipped); a folder is walked recursively (hidden
 * entries skipped, files in bytewise-sorted path order); anything else is a
 * file. Excluded folders and files inside them are left out, silently. An input that cannot be opened or walked becomes an entry with
 * `error` set, so it is reported and counted in its place. */
void cs_inputs_expand(const char *const *args, size_t n, cs_format force,
                      const cs_exclude *excl, size_t n_excl, cs_input_list *out);
void cs_inputs_free(cs_input_list *l);

/* Sets in's kind (zstd; JSONL or text, unless force says) as a file
 * called `name` would have it: --retract reads a copy of a file as the
 * file it was counted as. */
void cs_input_classify_as(cs_input *in, const char *name, cs_format force);

/* One open input. */
typedef struct cs_source cs_source;

/* Opens an input: a regular file is mapped, anything else is read. Returns
 * NULL with *why (a static or strerror string) when it cannot be opened. */
cs_source *cs_source_open(const cs_input *in, const char **why);
void cs_source_close(cs_source *s); /* NULL is a no-op */

/* A mapped plain input: its whole content, without copying. Returns 0 for
 * inputs that must go through cs_source_read (zstd, pipes, stdin). */
int cs_source_view(const cs_source *s, const uint8_t **p, size_t *n);

/* Reads up to cap decoded bytes into dst, stopping early at the end of a
 * zstd frame; *got = 0 at the end. On a decode
 * or read error returns -1 with *why and *offset (the input byte offset,
 * compressed for zstd, where it was found); a shard cut short is an error
 * at its last byte. */
int cs_source_read(cs_source *s, uint8_t *dst, size_t cap, size_t *got, const char **why,
                   uint64_t *offset);

/* Drops the whole pages of p[0..n) from the process (the page cache keeps
 * them): what a mapping has been read of should not count in the process's
 * memory for the rest of the input. p must lie in a read-only file mapping
 * (cs_source_view's, or the one a zstd source reads): never in malloc'd or
 * written memory, whose pages this would zero. Reading the range again
 * faults it back in from the file. */
void cs_map_release(const uint8_t *p, size_t n);
/* For a reader giving back as it goes: releases base[*given .. upto) and
 * moves *given to the start of upto's page, so that the page upto lies in
 * goes back with the next call instead of never (cs_map_release keeps
 * partial pages). */
void cs_map_release_upto(const uint8_t *base, size_t *given, size_t upto);

/* Every mapping of a file the run reads (inputs, and inputs hashed or
 * states read for --state) is tracked while it is mapped, so that a
 * SIGBUS in it, the file cut short, is named (cs_mapped_input_at,
 * corpusstat.h). path is borrowed until cs_map_untrack; NULL (no slot
 * free) is a no-op there. */
typedef struct cs_map_slot cs_map_slot;
cs_map_slot *cs_map_track(const void *addr, size_t len, const char *path);
void cs_map_untrack(cs_map_slot *slot);

/* 1 when the input is a mapped regular file: it can be read again. */
int cs_source_is_mapped(const cs_source *s);

/* 1 when the input is zstd (by name, or by magic number on stdin). */
int cs_source_is_zst(const cs_source *s);

/* Input bytes consumed so far (compressed for zstd): for progress. */
uint64_t cs_source_consumed(const cs_source *s);

/* Where a work chunk may end: the end of the last document boundary in
 * p[0..n), 0 when there is none. Cutting there leaves only whole documents
 * before the cut. `final` says nothing follows p[n-1] (end of input), which
 * settles a trailing CR. */
typedef enum { CS_CUT_LINE, CS_CUT_BLANK, CS_CUT_JSONL, CS_CUT_NONE } cs_cut_mode;
size_t cs_cut(const uint8_t *p, size_t n, cs_cut_mode mode, int final);

/* The same for a buffer that starts inside a line of an open document (the
 * rest of an oversized one): the end of the first boundary, 0 if none. The
 * first line counts as non-blank. */
size_t cs_cut_first(const uint8_t *p, size_t n, cs_cut_mode mode);

/* cs_cut_first over a read-only file mapping (cs_map_release's terms),
 * giving back the pages it has read as it goes: the end of a document
 * longer than memory is found without the document ever resident whole
 * (reading it again faults it back in from the page cache). */
size_t cs_cut_first_mapped(const uint8_t *p, size_t n, cs_cut_mode mode);

#endif
