/*
 * spill.h - the temporary folder: packed runs written to disk under a
 * memory budget (--memory), the merge's scratch, long JSONL records.
 *
 * Grams and pairs are counted into runs (grams.h, pairs.h): sorted, summed
 * keys packed a few bytes each and grouped by the partition of their first
 * term, which is how the reducer reads them back, one partition of every
 * run at a time. When the runs a counter holds pass its share of the
 * budget, it spills them: each run goes to the end of the counter's file
 * for that kind of run, one zstd frame a partition (with its checksum), and
 * its memory is freed. The reducer then reads partition p of a spilled run
 * alone: one pread and one decompression (cs_pack_part).
 *
 * A counter has one file a kind (an order of grams, its pairs, its term
 * table's generations: table.h) that all its
 * spills append to, so a run holds threads x kinds files open whatever the
 * input's size: no fan-in to cap and no "too many open files" (GloVe's
 * cooccur opens a file a spill and dies of it).
 *
 * The merge writes scratch files of its own there too, and the reader a
 * JSONL record too long to hold from a zstd shard or stdin (raw bytes,
 * mapped back to be read as a record of a plain file is).
 *
 * The files live in a fresh folder, corpusstat-XXXXXX, made at the first
 * spill inside --tmp DIR (default $TMPDIR, else /tmp) and removed with them
 * by cs_spill_free at the end of the run, whether it succeeded or not, and by
 * cs_remove_temp_files (corpusstat.h) from a signal handler.
 *
 * Errors. A spill that cannot be written (a full disk: ENOSPC; a file size
 * limit: EFBIG) leaves its runs in memory, where nothing is lost, and is
 * remembered by the cs_spill; later spills are not tried. The pipeline
 * stops reading when it sees it and fails the run with the folder's name.
 * A spilled run that cannot be read back (an I/O error, a checksum that
 * does not match: the folder was tampered with) is kept the same way, and
 * its partition reads as empty: the pipeline checks for an error after
 * merging and writes no table.
 */
#ifndef CS_SPILL_H
#define CS_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "table.h"

/* Paths beyond the spill folder that a signal must remove too: the
 * output's staging folder and the tables in it, a state file being
 * written. cs_tmp_track puts one on the list cs_remove_temp_files walks
 * (files are removed before folders; a path that does not exist yet or
 * any more is harmless there); cs_tmp_untrack takes it off once it is
 * gone or renamed into place, and frees it (NULL is a no-op). */
typedef struct tmp_path cs_tmp_path;
cs_tmp_path *cs_tmp_track(const char *path, int is_dir);
void cs_tmp_untrack(cs_tmp_path *t);

/* Around making a path that is on that list (tracked first, made after):
 * cs_tmp_enter, make, cs_tmp_leave. cs_remove_temp_files on another
 * thread (a signal, out of memory: the process is ending) waits for the
 * leave and walks the list again, so nothing made while it walked is
 * left behind; a thread entering after it began blocks for good. */
void cs_tmp_enter(void);
void cs_tmp_leave(void);

typedef struct cs_spill cs_spill;
typedef struct cs_spill_file cs_spill_file;

/* A run of keys packed by partition: partition p's entries are
 * bytes[off[p] .. off[p + 1]), n[p] of them. In memory; or, once spilled,
 * on disk (bytes NULL): partition p is the zstd frame at
 * disk[p] .. disk[p + 1] of file, off[p + 1] - off[p] bytes once
 * decompressed. */
typedef struct cs_pack {
    uint8_t *bytes; /* owned; NULL once spilled */
    size_t off[CS_N_PARTS + 1];
    uint32_t n[CS_N_PARTS];
    unsigned level;        /* merges behind it (pairs.c) */
    cs_spill_file *file;   /* borrowed: where it was spilled; NULL in memory */
    uint64_t *disk;        /* owned; [CS_N_PARTS + 1] offsets in file */
} cs_pack;

/* Frees r's memory (not its bytes on disk: those go with the folder). */
void cs_pack_free(cs_pack *r);

/* Partition p of r (n[p] > 0): in memory, or read back from disk into buf
 * (grown as needed; valid until buf is used again). NULL when it cannot be
 * read back: the error is kept by r's cs_spill. */
const uint8_t *cs_pack_part(const cs_pack *r, unsigned p, cs_buf *buf);

/* A run's spill folder, made at the first spill inside parent (NULL:
 * $TMPDIR, else /tmp); shared by all threads. */
cs_spill *cs_spill_new(const char *parent);
/* Removes the files and the folder, and frees s. NULL is a no-op. */
void cs_spill_free(cs_spill *s);

/* A file of s for one thread's runs of one kind; `name` tells which
 * ("t0-grams2"). Made on its first spill. Owned by s. */
cs_spill_file *cs_spill_file_new(cs_spill *s, const char *name);

/* A file of the caller's that packs point into (cs_pack.file and disk:
 * a state file, state.h): opened for reading, never written or removed.
 * NULL with errno when it cannot be opened. Owned by s. */
cs_spill_file *cs_spill_file_open(cs_spill *s, const char *path);
int cs_spill_file_fd(const cs_spill_file *f); /* its descriptor, -1 before a spill */

/* A file of s for the merge's own scratch, `name` as above: what is
 * written to it counts in bytes_disk (while it is there), bytes_read and
 * files (it makes the folder, too, when nothing was spilled before), but
 * not as spills, runs, keys or bytes_raw. */
cs_spill_file *cs_spill_file_scratch(cs_spill *s, const char *name);

/* A scratch file of s for raw bytes (no frames), `name` as above (the
 * file is called just that): a JSONL record too long to hold, written
 * out to be mapped and read from there (pipeline.c). Its writes count as
 * cs_spill_file_scratch's (reads through a mapping count nowhere). */
cs_spill_file *cs_spill_file_raw(cs_spill *s, const char *name);
/* Appends p[0..n) to the end of a raw file (made, with the folder, on the
 * first call). 0; or -1 with the error kept (as cs_spill_pack's), what was
 * written before still there. One thread a file. */
int cs_spill_append(cs_spill_file *f, const void *p, size_t n);
/* The bytes written to f since it was made or last rewound, and its path
 * (NULL until its first write tried to make it). */
uint64_t cs_spill_file_size(const cs_spill_file *f);
const char *cs_spill_file_path(const cs_spill_file *f);

/* Writes r to the end of f and frees its bytes; `first`: r is the first
 * run of a spill (the runs a counter writes at once, which the stats count
 * as one). Returns 0; or, when it cannot (the first error of any file of s
 * is kept for cs_spill_error), -1 with r left in memory as it was. Not
 * tried again once an error is kept. One thread a file. */
int cs_spill_pack(cs_spill_file *f, cs_pack *r, int first);

/* Writes a pack from separate parts: part[p], len[p] bytes holding n[p]
 * keys (none when len[p] is 0), into *out (on disk; cs_pack_free frees
 * it). 0; or -1 (the error is kept, as cs_spill_pack's), out empty and
 * the parts the caller's still. One thread a file. */
int cs_spill_parts(cs_spill_file *f, const uint8_t *const *part, const size_t *len,
                   const uint32_t *n, cs_pack *out);

/* Empties f and gives its disk back (bytes_disk counts the peak), and its
 * compression context's memory: every pack written to it is dead and must
 * not be read again. */
void cs_spill_file_rewind(cs_spill_file *f);

/* --memory's default: half of the physical memory, or of the cgroup's
 * memory.max when that is less. */
uint64_t cs_default_memory(void);

/* A counter's runs of one kind: n packs, `stride` bytes apart from first
 * (a pack may sit inside a larger run struct). When those still in memory
 * hold more than `over` bytes together, writes them all to f: one spill.
 * Stops at the first that cannot be written (left in memory; s keeps the
 * error). f NULL: nothing is ever spilled. */
void cs_spill_when_over(cs_spill_file *f, cs_pack *first, size_t n, size_t stride, size_t over);

/* The first error of s ("cannot write to the temporary folder DIR: No
 * space left on device ...", "cannot read back the temporary file ..."),
 * or NULL (also for s NULL). */
const char *cs_spill_error(cs_spill *s);

typedef struct cs_spill_stats {
    const char *folder;     /* NULL: nothing was spilled */
    uint64_t spills;        /* times a counter wrote its runs */
    uint64_t runs;          /* runs written */
    uint64_t keys;          /* the keys they hold (a key in several runs counts in each) */
    uint64_t bytes_raw;     /* their packed bytes */
    uint64_t bytes_disk;    /* what the files took on disk at the most */
    uint64_t bytes_read;    /* read back (a run the merge reads twice counts twice) */
    uint64_t files;
} cs_spill_stats;

cs_spill_stats cs_spill_get_stats(cs_spill *s);

#endif
