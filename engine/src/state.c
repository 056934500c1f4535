/*
 * state.c - state files: merged tables -> a file; a file -> a merge source
 * (see state.h).
 *
 * DESIGN
 * Writing goes along with a run's merge (state.h's writer), so that only
 * what the tables keep is ever a merged table. Terms get state ids by
 * rank, partition by partition in the merged table's order, so a state id
 * grows with the global id: the grams the merge sums in a partition, in
 * global id order, are in state id order too and are packed as they come
 * (grams.h's format, no F or L flag: a state's documents are its own),
 * and so are the merged pairs. Terms counted 0 (all their inputs
 * retracted) are left out, and so is every gram and pair holding one
 * (theirs are 0 too). A count past the 32 bits a gram run holds, or a
 * pair sum past int64, is written as several entries of the same key,
 * which the merge sums. Partitions are compressed in parallel, a frame
 * each.
 *
 * Reading checks the whole file against its checksum before anything is
 * parsed: a state that does not match is never used. The terms are loaded
 * into the state counter's term table (their hashes recomputed); each
 * packed section becomes one run of the counter that stays in the file,
 * read a partition at a time by the merge (cs_pack_part), after every
 * partition has been decoded once and checked.
 */
#include "state.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

enum {
    SEC_SETTINGS = 1,
    SEC_SHAPE,
    SEC_TOTALS,
    SEC_INPUTS,
    SEC_TERMS,
    SEC_GRAMS, /* part: the order */
    SEC_PAIRS,
    SEC_END
};

static const char MAGIC[8] = {'C', 'S', 'S', 'T', 'A', 'T', 'E', '\n'};
static const char END_MAGIC[8] = {'C', 'S', 'S', 'T', 'E', 'N', 'D', '\n'};
#define HEADER_BYTES 16
#define SECTION_HEADER 24
#define FOOTER_BYTES 16
/* A packed section (grams, pairs) is not one frame but an index, for each
 * partition u32 entries, u64 bytes and u64 compressed bytes, then a frame
 * a partition: the merge reads partition p of a state from the file alone
 * (cs_pack_part), as it reads a spilled run. */
#define PACK_INDEX (CS_N_PARTS * 20)

/* ------------------------------------------------------------------ */
/* settings                                                             */

/* XXH3-128 of a set's keys: sorted for stopwords (the same set however
 * its file was ordered), in their order for --cooc-terms (a document pair
 * puts its term of the lower index first: another order would count the
 * same pair under the other key). */
static int key_cmp(const void *a, const void *b, void *set)
{
    uint32_t la, lb;
    const uint8_t *pa = cs_strset_key(set, *(const uint32_t *)a, &la);
    const uint8_t *pb = cs_strset_key(set, *(const uint32_t *)b, &lb);
    int c = memcmp(pa, pb, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static void set_line(cs_buf *b, const char *name, const cs_strset *set, int ordered)
{
    char line[160];
    if (!set) {
        snprintf(line, sizeof line, "%s none\n", name);
        cs_buf_append(b, line, strlen(line));
        return;
    }
    const size_t n = cs_strset_size(set);
    uint32_t *idx = cs_xmalloc((n + 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    if (!ordered)
        qsort_r(idx, n, sizeof *idx, key_cmp, (void *)set);
    XXH3_state_t *h = XXH3_createState();
    if (!h)
        cs_out_of_memory("an XXH3 state");
    XXH3_128bits_reset(h);
    for (size_t i = 0; i < n; i++) {
        uint32_t len;
        const uint8_t *p = cs_strset_key(set, idx[i], &len);
        XXH3_128bits_update(h, &len, sizeof len);
        XXH3_128bits_update(h, p, len);
    }
    XXH128_hash_t d = XXH3_128bits_digest(h);
    XXH3_freeState(h);
    free(idx);
    snprintf(line, sizeof line, "%s %zu terms%s, fingerprint %016llx%016llx\n", name, n,
             ordered ? " in this order" : "", (unsigned long long)d.high64,
             (unsigned long long)d.low64);
    cs_buf_append(b, line, strlen(line));
}

char *cs_state_settings(const cs_options *o, const cs_strset *stopwords, const cs_strset *vocab)
{
    static const char *const formats[] = {"auto", "text", "jsonl"};
    static const char *const seps[] = {"file", "line", "blank"};
    static const char *const norms[] = {"none", "nfc", "nfkc"};
    static const char *const coocs[] = {"none", "window", "doc"};
    static const char *const weights[] = {"none", "harmonic"};
    cs_buf b = {0};
    char line[512];
#define LINE(...)                                                                                  \
    do {                                                                                           \
        snprintf(line, sizeof line, __VA_ARGS__);                                                  \
        cs_buf_append(&b, line, strlen(line));                                                     \
    } while (0)
    LINE("tokenizer corpusstat %s, Unicode %s\n", CS_VERSION_STRING, cs_unicode_version());
    LINE("format %s\n", formats[o->format]);
    LINE("text-field %s\n", o->text_field ? o->text_field : "text");
    LINE("doc-sep %s\n", seps[o->doc_sep]);
    LINE("case %s\n", o->fold_case ? "fold" : "keep");
    LINE("normalize %s\n", norms[o->normalize]);
    LINE("max-len %u\n", o->max_len);
    LINE("min-len %u\n", o->min_len);
    LINE("join-lines %s\n", o->join_lines ? "yes" : "no");
    set_line(&b, "stopwords", stopwords, 0);
    LINE("ngrams %d-%d\n", o->ngram_min, o->ngram_max);
    LINE("cooc %s\n", coocs[o->cooc]);
    if (o->cooc == CS_COOC_WINDOW)
        LINE("window %d, weight %s\n", o->window, weights[o->weight]);
    if (o->cooc == CS_COOC_DOC)
        set_line(&b, "cooc-terms", vocab, 1);
#undef LINE
    cs_buf_append(&b, "", 1);
    return (char *)b.data;
}

cs_state_shape cs_state_shape_of(const cs_options *o)
{
    return (cs_state_shape){o->ngram_min, o->ngram_max, (int)o->cooc, o->window, (int)o->weight};
}

int cs_state_settings_diff(const char *a, const char *b, char *buf, size_t cap)
{
    /* Line by line: both are made by cs_state_settings, so the same keys
     * come in the same order unless the kinds of tables differ. */
    while (*a || *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        if (la != lb || memcmp(a, b, la) != 0) {
            snprintf(buf, cap, "'%.*s' against '%.*s'", (int)la, a, (int)lb, b);
            return 1;
        }
        a += la + (ea != NULL);
        b += lb + (eb != NULL);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* states in memory                                                     */

static void counter_of(cs_state *s)
{
    /* Document ids: none (0) in its runs, and ids 1.. of its own that no
     * term entry keeps (last_doc 0). */
    cs_counter_init(&s->counter, s->shape.ngram_min, s->shape.ngram_max, 1, 1);
    if (s->shape.cooc != CS_COOC_NONE) {
        s->counter.pairs = cs_xmalloc(sizeof *s->counter.pairs);
        cs_pairs_init(s->counter.pairs, s->counter.parts);
    }
}

cs_state *cs_state_new(const char *settings, cs_state_shape shape)
{
    cs_state *s = cs_xcalloc(1, sizeof *s);
    s->settings = cs_xstrdup(settings);
    s->shape = shape;
    counter_of(s);
    return s;
}

void cs_state_free(cs_state *s)
{
    if (!s)
        return;
    cs_counter_free(&s->counter); /* its runs point into the file: before it is closed */
    cs_spill_free(s->reads);
    free(s->file);
    free(s->settings);
    for (size_t i = 0; i < s->n_inputs; i++)
        free(s->inputs[i].path);
    free(s->inputs);
    free(s);
}

void cs_state_add_input(cs_state *s, const cs_state_input *in)
{
    if (s->n_inputs == s->cap_inputs) {
        s->cap_inputs = s->cap_inputs ? 2 * s->cap_inputs : 64;
        s->inputs = cs_xrealloc(s->inputs, s->cap_inputs * sizeof *s->inputs);
    }
    s->inputs[s->n_inputs] = *in;
    s->inputs[s->n_inputs++].path = cs_xstrdup(in->path);
}

int cs_file_hash(const char *path, uint64_t *lo, uint64_t *hi)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    XXH128_hash_t h = XXH3_128bits(NULL, 0);
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return -1;
    }
    if (sb.st_size > 0) {
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        madvise(p, (size_t)sb.st_size, MADV_SEQUENTIAL);
        cs_map_slot *slot = cs_map_track(p, (size_t)sb.st_size, path);
        h = XXH3_128bits(p, (size_t)sb.st_size);
        cs_map_untrack(slot);
        munmap(p, (size_t)sb.st_size);
    }
    close(fd);
    *lo = h.low64;
    *hi = h.high64;
    return 0;
}

void cs_state_input_stamp(cs_state_input *in, const struct stat *sb)
{
    in->size = (uint64_t)sb->st_size;
    in->ino = (uint64_t)sb->st_ino;
    in->mtime_sec = sb->st_mtim.tv_sec;
    in->mtime_nsec = sb->st_mtim.tv_nsec;
    in->ctime_sec = sb->st_ctim.tv_sec;
    in->ctime_nsec = sb->st_ctim.tv_nsec;
}

int cs_state_input_same_stamp(const cs_state_input *in, const struct stat *sb)
{
    return in->size == (uint64_t)sb->st_size && in->ino == (uint64_t)sb->st_ino &&
           in->mtime_sec == sb->st_mtim.tv_sec && in->mtime_nsec == sb->st_mtim.tv_nsec &&
           in->ctime_sec == sb->st_ctim.tv_sec && in->ctime_nsec == sb->st_ctim.tv_nsec;
}

enum { SAME, VANISHED, CHANGED };

/* Whether the file at `path` is still what `in` says it was: SAME (its
 * stamp the same; or another stamp but the same bytes: in's stamp is
 * updated), VANISHED or CHANGED, with why in buf. */
static int still_same(cs_state *s, cs_state_input *in, const char *path, char *buf, size_t cap)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        snprintf(buf, cap, "%s", strerror(errno));
        return VANISHED;
    }
    if (cs_state_input_same_stamp(in, &sb))
        return SAME;
    uint64_t lo, hi;
    if (cs_file_hash(path, &lo, &hi) != 0) {
        snprintf(buf, cap, "cannot be read again: %s", strerror(errno));
        return CHANGED;
    }
    if ((uint64_t)sb.st_size == in->size && lo == in->hash_lo && hi == in->hash_hi) {
        cs_state_input_stamp(in, &sb); /* touched, moved or copied: the same bytes */
        s->touched = 1;
        return SAME;
    }
    snprintf(buf, cap, "its bytes differ (%llu bytes when counted, %llu now)",
             (unsigned long long)in->size, (unsigned long long)sb.st_size);
    return CHANGED;
}

cs_status cs_state_check_inputs(cs_state *s, const cs_input *v, size_t n, uint8_t *already,
                                cs_state_input *fresh, cs_error *err)
{
    cs_strset *known = cs_strset_new(), *given = cs_strset_new();
    for (size_t k = 0; k < s->n_inputs; k++)
        cs_strset_add(known, (const uint8_t *)s->inputs[k].path, strlen(s->inputs[k].path));
    uint8_t *seen = cs_xcalloc(s->n_inputs + 1, 1);
    cs_status st = CS_OK;
    char why[256];
    for (size_t i = 0; i < n && st == CS_OK; i++) {
        memset(&fresh[i], 0, sizeof fresh[i]);
        already[i] = 0;
        if (v[i].is_stdin) {
            cs_error_set(err, CS_ERR_USAGE, NULL,
                         "--state keeps a list of the files it has counted, and stdin is not "
                         "a file: give the input as a file");
            st = CS_ERR_USAGE;
            break;
        }
        if (v[i].error)
            continue;
        char *real = realpath(v[i].path, NULL);
        struct stat sb;
        if (!real || stat(real, &sb) != 0) {
            free(real);
            continue; /* reported as unreadable when it is opened */
        }
        if (!S_ISREG(sb.st_mode)) { /* a FIFO would be read once, and block the hash */
            cs_error_set(err, CS_ERR_USAGE, v[i].path,
                         "not a regular file: --state lists files it can read again");
            free(real);
            st = CS_ERR_USAGE;
            break;
        }
        const size_t len = strlen(real);
        if (cs_strset_has(given, (const uint8_t *)real, len)) {
            cs_error_set(err, CS_ERR_USAGE, v[i].path,
                         "given twice (with --state each file is counted once)");
            free(real);
            st = CS_ERR_USAGE;
            break;
        }
        cs_strset_add(given, (const uint8_t *)real, len);
        const int64_t k = cs_strset_find(known, XXH3_64bits(real, len), (const uint8_t *)real, len);
        if (k < 0) {
            fresh[i] = (cs_state_input){.path = real};
            cs_state_input_stamp(&fresh[i], &sb);
            continue;
        }
        seen[k] = 1;
        const int changed = still_same(s, &s->inputs[k], real, why, sizeof why);
        free(real);
        if (changed != SAME) {
            cs_error_set(err, CS_ERR_INPUT, v[i].path,
                         "changed since the state counted it: %s. Its old counts cannot be "
                         "told from new ones: count from scratch into another --state folder",
                         why);
            st = CS_ERR_INPUT;
        }
        already[i] = 1;
    }
    /* The rest of the manifest: files counted on earlier runs. */
    for (size_t k = 0; k < s->n_inputs && st == CS_OK; k++) {
        if (seen[k])
            continue;
        const int changed = still_same(s, &s->inputs[k], s->inputs[k].path, why, sizeof why);
        if (changed != SAME) {
            cs_error_set(err, CS_ERR_INPUT, s->inputs[k].path,
                         "%s since the state counted it (%s). The state's counts hold it: count "
                         "from scratch into another --state folder",
                         changed == VANISHED ? "vanished" : "changed", why);
            st = CS_ERR_INPUT;
        }
    }
    if (st != CS_OK)
        for (size_t i = 0; i < n; i++) {
            free(fresh[i].path);
            fresh[i].path = NULL;
        }
    free(seen);
    cs_strset_free(known);
    cs_strset_free(given);
    return st;
}

cs_status cs_state_retract(cs_state *s, const char *path, cs_state_input *out, char **counted,
                           cs_error *err)
{
    memset(out, 0, sizeof *out);
    *counted = NULL;
    struct stat sb;
    char *real = realpath(path, NULL);
    const char *why = NULL;
    if (!real || stat(real, &sb) != 0)
        why = strerror(errno);
    else if (!S_ISREG(sb.st_mode))
        why = "not a file";
    else if (cs_file_hash(real, &out->hash_lo, &out->hash_hi) != 0)
        why = strerror(errno);
    if (why) {
        cs_error_set(err, CS_ERR_INPUT, path, "cannot retract it: %s", why);
        free(real);
        return CS_ERR_INPUT;
    }
    out->path = real;
    cs_state_input_stamp(out, &sb);
    /* A file of the manifest: its own entry, if its bytes are still those;
     * any other path: the first entry with its bytes. */
    size_t hit = SIZE_MAX, by_path = SIZE_MAX;
    for (size_t k = 0; k < s->n_inputs && by_path == SIZE_MAX; k++)
        if (strcmp(s->inputs[k].path, real) == 0)
            by_path = k;
    for (size_t k = by_path == SIZE_MAX ? 0 : by_path; k < s->n_inputs && hit == SIZE_MAX; k++) {
        const cs_state_input *in = &s->inputs[k];
        if (in->size == out->size && in->hash_lo == out->hash_lo && in->hash_hi == out->hash_hi)
            hit = k;
        if (by_path != SIZE_MAX)
            break;
    }
    if (hit == SIZE_MAX) {
        cs_error_set(err, CS_ERR_INPUT, path,
                     by_path != SIZE_MAX
                         ? "cannot retract it: it changed since the state counted it, and only "
                           "the bytes counted can be taken back (retract a copy of them)"
                         : "cannot retract it: the state holds no input with its bytes");
        free(real);
        out->path = NULL;
        return CS_ERR_INPUT;
    }
    *counted = s->inputs[hit].path;
    memmove(&s->inputs[hit], &s->inputs[hit + 1], (s->n_inputs - hit - 1) * sizeof *s->inputs);
    s->n_inputs--;
    return CS_OK;
}

/* ------------------------------------------------------------------ */
/* writing                                                              */

/* The grams of one partition of one order, packed as the merge sums them. */
/* Partition p of a packed section as the merge makes it: its bytes, then,
 * once the partition is done, its zstd frame in the writer's side file. */
typedef struct gram_part {
    cs_buf b;
    uint32_t n;
    uint32_t prev[CS_NGRAM_MAX];
    uint64_t prev_pair; /* pairs: the last key packed, for the next piece */
    int parked;         /* its frame is in the side file: b is freed */
    uint64_t at, comp, raw;
} gram_part;

struct cs_state_writer {
    char *file;      /* owned */
    FILE *f;
    XXH3_state_t *h;
    ZSTD_CCtx *z;
    cs_buf out;
    int err;         /* errno of the first failure */
    int nt;
    uint64_t base[CS_N_PARTS + 1]; /* the merged terms before each partition */
    uint32_t *local; /* owned; [base[p] + index]: state id; NULL: base + index */
    gram_part *grams[CS_NGRAM_MAX + 1]; /* owned; [order][partition] */
    gram_part *pairs;                   /* owned; [partition] (prev unused) */
    /* Frames of partitions done, waiting for their section: sections put
     * the partitions in order, and the merge finishes them in any. An
     * unlinked file beside `file`, so that a state being written costs
     * disk, not memory (one order's packed grams can be most of it). */
    int side;
    uint64_t side_end; /* its bytes, appended to by any thread */
};

typedef struct cs_state_writer writer;

static void put_bytes(writer *w, const void *p, size_t n)
{
    if (w->err || !n)
        return;
    if (fwrite(p, 1, n, w->f) != n)
        w->err = errno ? errno : EIO;
    XXH3_64bits_update(w->h, p, n);
}

static void put_u32(uint8_t *d, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        d[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *d, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        d[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* One section: pieces raw[0..k), of len[i] bytes each, one after another,
 * compressed into one frame (streaming: the pieces are never joined). */
static void put_section_v(writer *w, uint32_t kind, uint32_t part, const void *const *raw,
                          const size_t *len, int k)
{
    if (w->err)
        return;
    size_t n = 0;
    for (int i = 0; i < k; i++)
        n += len[i];
    const size_t bound = ZSTD_compressBound(n);
    if (w->out.cap < bound) /* address space: only the pages written are touched */
        cs_buf_reserve(&w->out, bound - w->out.len);
    ZSTD_CCtx_reset(w->z, ZSTD_reset_session_only);
    ZSTD_CCtx_setPledgedSrcSize(w->z, n);
    ZSTD_outBuffer out = {w->out.data, w->out.cap, 0};
    for (int i = 0; i <= k; i++) {
        ZSTD_inBuffer in = {i < k ? raw[i] : NULL, i < k ? len[i] : 0, 0};
        const ZSTD_EndDirective end = i < k ? ZSTD_e_continue : ZSTD_e_end;
        size_t left;
        do {
            left = ZSTD_compressStream2(w->z, &out, &in, end);
            if (ZSTD_isError(left)) {
                w->err = ENOMEM; /* the only way a bounded compression fails */
                return;
            }
        } while (end == ZSTD_e_end ? left != 0 : in.pos < in.size);
    }
    uint8_t hdr[SECTION_HEADER];
    put_u32(hdr, kind);
    put_u32(hdr + 4, part);
    put_u64(hdr + 8, n);
    put_u64(hdr + 16, out.pos);
    put_bytes(w, hdr, sizeof hdr);
    put_bytes(w, w->out.data, out.pos);
}

static void put_section(writer *w, uint32_t kind, uint32_t part, const void *raw, size_t n)
{
    put_section_v(w, kind, part, &raw, &n, 1);
}

static void put_varint(cs_buf *b, uint64_t v)
{
    cs_buf_reserve(b, 10);
    b->len = (size_t)(cs_put_varint(b->data + b->len, v) - b->data);
}

/* The state id of global term id gid: base[its partition] + its index,
 * through local when terms were left out (UINT32_MAX: one of them). The
 * lookup is a random access into an array as large as the vocabulary, and
 * the packing's largest cost: taken only when needed. */
static inline uint32_t state_id(const uint32_t *local, const uint64_t *base, uint32_t gid)
{
    const uint64_t i = base[gid >> CS_ID_BITS] + (gid & ((1u << CS_ID_BITS) - 1));
    return local ? local[i] : (uint32_t)i;
}

void cs_state_writer_gram(void *ctx, unsigned p, const uint32_t *gids, unsigned order,
                          int64_t count, int64_t docs)
{
    writer *w = ctx;
    gram_part *g = &w->grams[order][p];
    uint32_t ids[CS_NGRAM_MAX];
    for (unsigned k = 0; k < order; k++) {
        ids[k] = state_id(w->local, w->base, gids[k]);
        assert(ids[k] != UINT32_MAX); /* a term counted 0 has no gram counted */
    }
    assert(count > 0 && docs >= 0 && docs <= count);
    while (count > 0) { /* pieces within int32 */
        const int64_t c = count < INT32_MAX ? count : INT32_MAX;
        const int64_t d = docs < c ? docs : c;
        cs_buf_reserve(&g->b, CS_GRAM_PACKED_MAX(order));
        g->b.len = (size_t)(cs_grams_pack_one(g->b.data + g->b.len, g->prev, ids, order, c, d) -
                            g->b.data);
        g->n++;
        count -= c;
        docs -= d;
    }
}

/* Partition p of the merged pairs (keys index_a << 32 | global b), to
 * state ids, packed into b; a sum past int64 in pieces. Returns the
 * entries. */
static uint32_t pack_pairs(cs_buf *b, uint64_t *prev, const cs_pair_run *r, unsigned p,
                           const uint32_t *local, const uint64_t *base)
{
    uint32_t n = 0;
    cs_buf_reserve(b, r->n * CS_PAIR_PACKED_MAX);
    for (size_t i = 0; i < r->n; i++) {
        const uint32_t ia = (uint32_t)(r->v[i].key >> 32), gb = (uint32_t)r->v[i].key;
        const uint32_t a = state_id(local, base, p << CS_ID_BITS | ia),
                       lb = state_id(local, base, gb);
        assert(a != UINT32_MAX && lb != UINT32_MAX);
        const uint64_t key = (uint64_t)a << 32 | lb;
        __int128 units = cs_pair_units(r, i);
        while (units) {
            const int64_t u = units > INT64_MAX    ? INT64_MAX
                              : units < -INT64_MAX ? -INT64_MAX
                                                   : (int64_t)units;
            cs_buf_reserve(b, CS_PAIR_PACKED_MAX); /* (pieces: more entries than pairs) */
            b->len = (size_t)(cs_pairs_pack_one(b->data + b->len, prev, key, u) - b->data);
            n++;
            units -= u;
        }
    }
    return n;
}

/* Keeps the first error of any thread. */
static void fail(writer *w, int e)
{
    int none = 0;
    __atomic_compare_exchange_n(&w->err, &none, e ? e : EIO, 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
}

/* Compresses partition g's bytes into one frame at the end of the side
 * file and frees them (the thread that made them, as soon as they are
 * done). */
static void park(writer *w, gram_part *g)
{
    if (g->parked)
        return;
    g->parked = 1;
    g->raw = g->b.len;
    if (!g->b.len)
        return;
    cs_buf z = {0};
    cs_buf_reserve(&z, ZSTD_compressBound(g->b.len));
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    const size_t k = c ? ZSTD_compress2(c, z.data, z.cap, g->b.data, g->b.len) : 0;
    ZSTD_freeCCtx(c);
    if (!c || ZSTD_isError(k)) {
        fail(w, ENOMEM); /* the only way a bound-sized compression fails */
    } else {
        g->comp = k;
        g->at = __atomic_fetch_add(&w->side_end, (uint64_t)k, __ATOMIC_RELAXED);
        for (size_t done = 0; done < k;) {
            const ssize_t got = pwrite(w->side, z.data + done, k - done, (off_t)(g->at + done));
            if (got <= 0) {
                fail(w, got < 0 ? errno : EIO);
                break;
            }
            done += (size_t)got;
        }
    }
    cs_buf_free(&z);
    cs_buf_free(&g->b);
}

/* A packed section from its partitions: the index, then their frames, in
 * partition order, from the side file (those not parked yet are parked
 * first). */
static void put_parts(writer *w, uint32_t kind, unsigned order, gram_part *g)
{
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        park(w, &g[p]);
    uint8_t index[PACK_INDEX];
    uint64_t raw = 0, comp = PACK_INDEX, most = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        put_u32(index + 20 * p, g[p].n);
        put_u64(index + 20 * p + 4, g[p].raw);
        put_u64(index + 20 * p + 12, g[p].comp);
        raw += g[p].raw;
        comp += g[p].comp;
        most = g[p].comp > most ? g[p].comp : most;
    }
    uint8_t hdr[SECTION_HEADER];
    put_u32(hdr, kind);
    put_u32(hdr + 4, order);
    put_u64(hdr + 8, raw);
    put_u64(hdr + 16, comp);
    put_bytes(w, hdr, sizeof hdr);
    put_bytes(w, index, sizeof index);
    uint8_t *buf = cs_xmalloc(most + 1);
    for (unsigned p = 0; p < CS_N_PARTS && !w->err; p++) {
        for (uint64_t done = 0; done < g[p].comp;) {
            const ssize_t got = pread(w->side, buf + done, g[p].comp - done,
                                      (off_t)(g[p].at + done));
            if (got <= 0) {
                fail(w, got < 0 ? errno : EIO);
                break;
            }
            done += (uint64_t)got;
        }
        put_bytes(w, buf, g[p].comp);
    }
    free(buf);
}

writer *cs_state_writer_open(const char *file, const cs_state *s, int n_threads, int *err)
{
    /* The caller has file on the signal list (spill.h): made inside
     * cs_tmp_enter/leave, it is not left behind by a run killed now. */
    cs_tmp_enter();
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    const int open_errno = errno;
    cs_tmp_leave();
    errno = open_errno;
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    writer *w = cs_xcalloc(1, sizeof *w);
    w->f = fdopen(fd, "wb");
    if (!w->f) {
        *err = errno;
        close(fd);
        unlink(file);
        free(w);
        return NULL;
    }
    w->file = cs_xstrdup(file);
    w->nt = n_threads;
    w->side = -1;
    const size_t flen = strlen(file);
    char *side = cs_xmalloc(flen + 16);
    memcpy(side, file, flen);
    memcpy(side + flen, ".parts-XXXXXX", 14);
    cs_tmp_enter(); /* a handler on another thread waits for the unlink */
    w->side = mkostemp(side, O_CLOEXEC);
    if (w->side < 0)
        w->err = errno;
    else
        unlink(side); /* gone with the last descriptor, whatever happens */
    cs_tmp_leave();
    free(side);
    w->h = XXH3_createState();
    w->z = ZSTD_createCCtx();
    if (!w->h || !w->z)
        cs_out_of_memory(w->h ? "a zstd context" : "an XXH3 state");
    XXH3_64bits_reset(w->h);
    ZSTD_CCtx_setParameter(w->z, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(w->z, ZSTD_c_checksumFlag, 1);
    /* Packed runs are most of a state: compressed on every core (a no-op
     * where libzstd is built without threads). */
    ZSTD_CCtx_setParameter(w->z, ZSTD_c_nbWorkers, n_threads > 1 ? n_threads : 0);

    uint8_t hdr[HEADER_BYTES];
    memcpy(hdr, MAGIC, 8);
    put_u32(hdr + 8, CS_STATE_VERSION);
    put_u32(hdr + 12, 0);
    put_bytes(w, hdr, sizeof hdr);
    put_section(w, SEC_SETTINGS, 0, s->settings, strlen(s->settings));

    cs_buf b = {0};
    const cs_state_shape *sh = &s->shape;
    put_varint(&b, (uint64_t)sh->ngram_min);
    put_varint(&b, (uint64_t)sh->ngram_max);
    put_varint(&b, (uint64_t)sh->cooc);
    put_varint(&b, (uint64_t)sh->window);
    put_varint(&b, (uint64_t)sh->weight);
    put_section(w, SEC_SHAPE, 0, b.data, b.len);

    b.len = 0;
    const cs_state_totals *t = &s->tot;
    const int64_t signed_tot[] = {t->tok.documents, t->tok.segments,     t->tok.tokens,
                                  t->tok.excluded,  t->tok.long_dropped, t->tok.invalid_utf8,
                                  t->bad_records};
    for (size_t i = 0; i < sizeof signed_tot / sizeof *signed_tot; i++)
        put_varint(&b, cs_zigzag(signed_tot[i]));
    put_varint(&b, t->undecodable);
    put_varint(&b, t->bytes_on_disk);
    put_varint(&b, t->bytes_decoded);
    put_section(w, SEC_TOTALS, 0, b.data, b.len);

    b.len = 0;
    put_varint(&b, s->n_inputs);
    for (size_t i = 0; i < s->n_inputs; i++) {
        const cs_state_input *in = &s->inputs[i];
        const size_t len = strlen(in->path);
        put_varint(&b, len);
        cs_buf_append(&b, in->path, len);
        put_varint(&b, in->size);
        put_varint(&b, cs_zigzag(in->mtime_sec));
        put_varint(&b, cs_zigzag(in->mtime_nsec));
        put_varint(&b, in->ino);
        put_varint(&b, cs_zigzag(in->ctime_sec));
        put_varint(&b, cs_zigzag(in->ctime_nsec));
        cs_buf_reserve(&b, 16);
        put_u64(b.data + b.len, in->hash_lo);
        put_u64(b.data + b.len + 8, in->hash_hi);
        b.len += 16;
    }
    put_section(w, SEC_INPUTS, 0, b.data, b.len);
    cs_buf_free(&b);
    return w;
}

void cs_state_writer_terms(writer *w, const cs_merged *m)
{
    /* State ids by rank; local[base[p] + index], UINT32_MAX for a term
     * left out (counted 0: every input holding it retracted). */
    w->base[0] = 0;
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        w->base[p + 1] = w->base[p] + m->vocab[p].n;
    w->local = cs_xmalloc((w->base[CS_N_PARTS] + 1) * sizeof *w->local);
    uint32_t next = 0;
    cs_buf b = {0};
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_vocab_part tmp = {0};
        const cs_vocab_part *v = cs_vocab_whole(m, p, &tmp);
        if (!v) { /* the spill keeps the error: the run stops before the state is kept */
            for (uint32_t i = 0; i < m->vocab[p].n; i++)
                w->local[w->base[p] + i] = UINT32_MAX;
            continue;
        }
        for (uint32_t i = 0; i < v->n; i++) {
            if (!v->c[i].count && !v->c[i].docs) {
                w->local[w->base[p] + i] = UINT32_MAX;
                continue;
            }
            w->local[w->base[p] + i] = next++;
            const uint32_t len = v->off[i + 1] - v->off[i];
            put_varint(&b, len);
            cs_buf_append(&b, v->bytes + v->off[i], len);
            put_varint(&b, cs_zigzag(v->c[i].count));
            put_varint(&b, cs_zigzag(v->c[i].docs));
        }
        cs_vocab_part_free(&tmp);
    }
    put_section(w, SEC_TERMS, next, b.data, b.len);
    cs_buf_free(&b);
    if (next == w->base[CS_N_PARTS]) { /* none left out: state ids are base + index */
        free(w->local);
        w->local = NULL;
    }
    for (int n = 2; n <= CS_NGRAM_MAX; n++)
        if (m->grams[n])
            w->grams[n] = cs_xcalloc(CS_N_PARTS, sizeof *w->grams[n]);
    w->pairs = cs_xcalloc(CS_N_PARTS, sizeof *w->pairs);
}

void cs_state_writer_gram_part_done(writer *w, unsigned order, unsigned p)
{
    park(w, &w->grams[order][p]);
}

void cs_state_writer_grams_done(writer *w, unsigned order)
{
    assert(w->grams[order]);
    put_parts(w, SEC_GRAMS, order, w->grams[order]);
    free(w->grams[order]);
    w->grams[order] = NULL;
}

void cs_state_writer_pairs_piece(writer *w, unsigned p, const cs_pair_run *piece)
{
    assert(w->pairs && !w->pairs[p].parked);
    w->pairs[p].n += pack_pairs(&w->pairs[p].b, &w->pairs[p].prev_pair, piece, p, w->local,
                                w->base);
}

void cs_state_writer_pairs_part_done(writer *w, unsigned p)
{
    park(w, &w->pairs[p]);
}

void cs_state_writer_pairs_done(writer *w)
{
    put_parts(w, SEC_PAIRS, 0, w->pairs);
    free(w->pairs);
    w->pairs = NULL;
}

static void writer_free(writer *w)
{
    XXH3_freeState(w->h);
    ZSTD_freeCCtx(w->z);
    cs_buf_free(&w->out);
    for (int n = 0; n <= CS_NGRAM_MAX; n++) {
        for (unsigned p = 0; w->grams[n] && p < CS_N_PARTS; p++)
            cs_buf_free(&w->grams[n][p].b);
        free(w->grams[n]);
    }
    for (unsigned p = 0; w->pairs && p < CS_N_PARTS; p++)
        cs_buf_free(&w->pairs[p].b);
    free(w->pairs);
    free(w->local);
    free(w->file);
    if (w->side >= 0)
        close(w->side);
    free(w);
}

int cs_state_writer_close(writer *w, uint64_t *bytes)
{
    put_section(w, SEC_END, 0, "", 0);
    uint8_t foot[FOOTER_BYTES];
    put_u64(foot, XXH3_64bits_digest(w->h));
    memcpy(foot + 8, END_MAGIC, 8);
    if (!w->err && fwrite(foot, 1, sizeof foot, w->f) != sizeof foot)
        w->err = errno ? errno : EIO;
    if (!w->err && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0))
        w->err = errno ? errno : EIO;
    if (!w->err)
        *bytes = (uint64_t)ftello(w->f);
    if (fclose(w->f) != 0 && !w->err)
        w->err = errno ? errno : EIO;
    const int e = w->err;
    if (e)
        unlink(w->file);
    writer_free(w);
    return e;
}

void cs_state_writer_abort(writer *w)
{
    if (!w)
        return;
    fclose(w->f);
    unlink(w->file);
    writer_free(w);
}

int cs_state_write(const char *file, const cs_state *s, const cs_merged *m, int n_threads,
                   uint64_t *bytes)
{
    int e = 0;
    writer *w = cs_state_writer_open(file, s, n_threads, &e);
    if (!w)
        return e;
    cs_state_writer_terms(w, m);
    for (unsigned n = 2; n <= CS_NGRAM_MAX; n++) {
        const cs_table *t = m->grams[n];
        for (unsigned p = 0; t && p < CS_N_PARTS; p++)
            for (uint32_t i = 0; i < t->part[p].n; i++) {
                const cs_gram *g = cs_part_entry(&t->part[p], t->stride, i);
                cs_state_writer_gram(w, p, g->ids, n, g->count, g->docs);
            }
        for (unsigned p = 0; t && p < CS_N_PARTS; p++)
            cs_state_writer_gram_part_done(w, n, p);
        if (t)
            cs_state_writer_grams_done(w, n);
    }
    if (m->pairs) {
        for (unsigned p = 0; p < CS_N_PARTS; p++) {
            cs_state_writer_pairs_piece(w, p, &m->pairs[p]);
            cs_state_writer_pairs_part_done(w, p);
        }
        cs_state_writer_pairs_done(w);
    }
    return cs_state_writer_close(w, bytes);
}

/* ------------------------------------------------------------------ */
/* reading                                                              */

typedef struct reader {
    const uint8_t *p, *end; /* the section's raw bytes */
    int bad;
} reader;

static uint64_t get_varint(reader *r)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        const uint8_t c = *r->p++;
        x |= (uint64_t)(c & 0x7F) << shift;
        if (c < 0x80)
            return x;
    }
    r->bad = 1;
    return 0;
}

static const uint8_t *get_bytes(reader *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

static cs_state *bad(cs_state *s, cs_error *err, const char *file, const char *why)
{
    cs_error_set(err, CS_ERR_INPUT, file,
                 "not a usable corpusstat state: %s (it is left as it is; count from scratch "
                 "into another --state folder, or restore this one from a copy)",
                 why);
    cs_state_free(s);
    return NULL;
}

/* A packed section at map[at .. at + comp_n) of the file (index, frames)
 * as a pack read from the file (bytes NULL, disk offsets into it), every
 * partition decompressed and checked (order: grams of that order; 0:
 * pairs), in parallel. Returns 0, or -1 with *why. */
static int packed_section(cs_state *s, const uint8_t *map, uint64_t at, uint64_t raw_n,
                          uint64_t comp_n, unsigned order, int nt, cs_pack *pk, const char **why)
{
    memset(pk, 0, sizeof *pk);
    *why = "a section's sizes do not add up";
    if (comp_n < PACK_INDEX)
        return -1;
    const uint8_t *ix = map + at;
    uint64_t *disk = cs_xmalloc((CS_N_PARTS + 1) * sizeof *disk);
    disk[0] = at + PACK_INDEX;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        pk->n[p] = get_u32(ix + 20 * p);
        const uint64_t raw = get_u64(ix + 20 * p + 4), comp = get_u64(ix + 20 * p + 12);
        if (raw > raw_n - pk->off[p] || comp > at + comp_n - disk[p] || !raw != !comp ||
            !raw != !pk->n[p]) {
            free(disk);
            return -1;
        }
        pk->off[p + 1] = pk->off[p] + (size_t)raw;
        disk[p + 1] = disk[p] + comp;
    }
    if (pk->off[CS_N_PARTS] != raw_n || disk[CS_N_PARTS] != at + comp_n) {
        free(disk);
        return -1;
    }
    int bad = 0;
    const cs_partmap *parts = s->counter.parts;
#pragma omp parallel num_threads(nt > 0 ? nt : 1) default(none) shared(pk, disk, map, order, parts) \
    reduction(| : bad)
    {
        cs_buf buf = {0};
#pragma omp for schedule(dynamic, 1)
        for (unsigned p = 0; p < CS_N_PARTS; p++) {
            const size_t raw = pk->off[p + 1] - pk->off[p], comp = disk[p + 1] - disk[p];
            if (!raw || bad)
                continue;
            cs_buf_reserve(&buf, raw);
            const uint8_t *z = map + disk[p];
            const size_t k = ZSTD_getFrameContentSize(z, comp) == raw
                                 ? ZSTD_decompress(buf.data, raw, z, comp)
                                 : 0;
            bad |= ZSTD_isError(k) || k != raw ||
                   !(order ? cs_grams_part_valid(buf.data, raw, pk->n[p], p, order, parts)
                           : cs_pairs_part_valid(buf.data, raw, pk->n[p], p, parts));
        }
        cs_buf_free(&buf);
    }
    if (bad) {
        free(disk);
        *why = "a section does not read as it should";
        return -1;
    }
    pk->disk = disk;
    pk->file = s->on_disk;
    return 0;
}

cs_state *cs_state_read(const char *file, int threads, cs_error *err)
{
    /* One open: the bytes checked are the bytes the merge reads. */
    cs_state *s = cs_xcalloc(1, sizeof *s);
    s->file = cs_xstrdup(file);
    s->reads = cs_spill_new(NULL);
    s->on_disk = cs_spill_file_open(s->reads, file);
    if (!s->on_disk) {
        cs_error_set(err, CS_ERR_INPUT, file, "cannot open the state: %s", strerror(errno));
        cs_state_free(s);
        return NULL;
    }
    struct stat sb;
    const int fd = cs_spill_file_fd(s->on_disk);
    if (fstat(fd, &sb) != 0 || sb.st_size < HEADER_BYTES + FOOTER_BYTES)
        return bad(s, err, file, "too short to be one (truncated?)");
    const size_t size = (size_t)sb.st_size;
    uint8_t *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        cs_error_set(err, CS_ERR_INPUT, file, "cannot read the state: %s", strerror(errno));
        cs_state_free(s);
        return NULL;
    }
    madvise(map, size, MADV_SEQUENTIAL);
    cs_map_slot *slot = cs_map_track(map, size, s->file); /* a state cut short now: named */
    const char *why = NULL;
    char msg[160];
    if (memcmp(map, MAGIC, 8) != 0) {
        why = "it does not start as a state file does";
        goto fail;
    }
    if (get_u32(map + 8) != CS_STATE_VERSION) {
        snprintf(msg, sizeof msg,
                 "it is of state format %u, and this corpusstat reads format %u only",
                 get_u32(map + 8), CS_STATE_VERSION);
        why = msg;
        goto fail;
    }
    if (memcmp(map + size - 8, END_MAGIC, 8) != 0) {
        why = "its end is missing (truncated: a copy or a run cut short?)";
        goto fail;
    }
    if (XXH3_64bits(map, size - FOOTER_BYTES) != get_u64(map + size - FOOTER_BYTES)) {
        why = "its checksum does not match its bytes (damaged)";
        goto fail;
    }
    size_t at = HEADER_BYTES;
    int seen_shape = 0, seen_end = 0, order_seen = 1;
    uint32_t last_kind = 0;
    while (!seen_end) {
        if (size - FOOTER_BYTES - at < SECTION_HEADER) {
            why = "a section is cut short";
            goto fail;
        }
        const uint32_t kind = get_u32(map + at), part = get_u32(map + at + 4);
        const uint64_t raw_n = get_u64(map + at + 8), comp_n = get_u64(map + at + 16);
        at += SECTION_HEADER;
        /* Sections once each and in their order (grams: orders ascending). */
        if (kind < last_kind || (kind == last_kind && kind != SEC_GRAMS) || kind > SEC_END ||
            (kind > SEC_SHAPE && !seen_shape)) {
            why = "its sections are out of order";
            goto fail;
        }
        last_kind = kind;
        /* A varint run compresses a few times, not thousands: a larger raw
         * size is a damaged or forged header, not a reason to allocate it. */
        if (comp_n > size - FOOTER_BYTES - at || raw_n > (comp_n + 64) * 4096) {
            why = "a section's sizes do not add up";
            goto fail;
        }
        if (kind == SEC_GRAMS || kind == SEC_PAIRS) { /* left in the file (packed_section) */
            const int grams = kind == SEC_GRAMS;
            if (!seen_shape || (grams ? part < 2 || part > CS_NGRAM_MAX ||
                                            !s->counter.grams[part] || (int)part < order_seen
                                      : !s->counter.pairs)) {
                why = "a section does not read as it should";
                goto fail;
            }
            cs_gram_run run;
            memset(&run, 0, sizeof run);
            if (packed_section(s, map, at, raw_n, comp_n, grams ? part : 0, threads, &run.pk,
                               &why) != 0)
                goto fail;
            if (grams) {
                order_seen = (int)part + 1;
                cs_grams_add_run(s->counter.grams[part], run);
            } else {
                cs_pairs_add_run(s->counter.pairs, run.pk);
            }
            at += comp_n;
            continue;
        }
        if (ZSTD_getFrameContentSize(map + at, comp_n) != raw_n) {
            why = "a section's sizes do not add up";
            goto fail;
        }
        uint8_t *raw = cs_xmalloc(raw_n + 1);
        const size_t got = ZSTD_decompress(raw, raw_n + 1, map + at, comp_n);
        at += comp_n;
        if (ZSTD_isError(got) || got != raw_n) {
            free(raw);
            why = "a section does not decompress (damaged)";
            goto fail;
        }
        raw[raw_n] = 0;
        reader r = {raw, raw + raw_n, 0};
        int keep = 0; /* raw is kept (the settings) */
        switch (kind) {
        case SEC_SETTINGS:
            s->settings = (char *)raw;
            keep = 1;
            break;
        case SEC_SHAPE:
            s->shape.ngram_min = (int)get_varint(&r);
            s->shape.ngram_max = (int)get_varint(&r);
            s->shape.cooc = (int)get_varint(&r);
            s->shape.window = (int)get_varint(&r);
            s->shape.weight = (int)get_varint(&r);
            if (s->shape.ngram_min < 1 || s->shape.ngram_min > s->shape.ngram_max ||
                s->shape.ngram_max > CS_NGRAM_MAX || s->shape.cooc < 0 || s->shape.cooc > 2 ||
                s->shape.window < 0 || s->shape.window > CS_WINDOW_MAX || s->shape.weight < 0 ||
                s->shape.weight > 1)
                r.bad = 1;
            else
                counter_of(s);
            seen_shape = !r.bad;
            break;
        case SEC_TOTALS: {
            int64_t v[7];
            for (int i = 0; i < 7; i++)
                v[i] = cs_unzigzag(get_varint(&r));
            s->tot.tok = (cs_tok_stats){v[0], v[1], v[2], v[3], v[4], v[5]};
            s->tot.bad_records = v[6];
            s->tot.undecodable = get_varint(&r);
            s->tot.bytes_on_disk = get_varint(&r);
            s->tot.bytes_decoded = get_varint(&r);
            break;
        }
        case SEC_INPUTS: {
            const uint64_t n = get_varint(&r);
            for (uint64_t i = 0; i < n && !r.bad; i++) {
                cs_state_input in;
                const uint64_t len = get_varint(&r);
                const uint8_t *path = get_bytes(&r, len);
                in.size = get_varint(&r);
                in.mtime_sec = cs_unzigzag(get_varint(&r));
                in.mtime_nsec = cs_unzigzag(get_varint(&r));
                in.ino = get_varint(&r);
                in.ctime_sec = cs_unzigzag(get_varint(&r));
                in.ctime_nsec = cs_unzigzag(get_varint(&r));
                const uint8_t *h = get_bytes(&r, 16);
                if (r.bad || memchr(path, 0, len))
                    break;
                in.hash_lo = get_u64(h);
                in.hash_hi = get_u64(h + 8);
                in.path = cs_xmalloc(len + 1);
                memcpy(in.path, path, len);
                in.path[len] = 0;
                cs_state_add_input(s, &in);
                free(in.path);
            }
            break;
        }
        case SEC_TERMS: {
            if (!seen_shape) {
                r.bad = 1;
                break;
            }
            cs_table *t = s->counter.terms;
            unsigned last_part = 0;
            for (uint32_t i = 0; i < part && !r.bad; i++) {
                const uint64_t len = get_varint(&r);
                const uint8_t *p = len && len < UINT32_MAX ? get_bytes(&r, len) : NULL;
                const int64_t count = cs_unzigzag(get_varint(&r));
                const int64_t docs = cs_unzigzag(get_varint(&r));
                if (!p || r.bad) {
                    r.bad = 1;
                    break;
                }
                const uint64_t h = XXH3_64bits(p, len);
                /* Partition by partition, as written: then the merge keeps
                 * the state's grams in order (grams.h, sorted). */
                if (cs_part_of(h) < last_part) {
                    r.bad = 1;
                    break;
                }
                last_part = cs_part_of(h);
                int is_new;
                cs_term *e = cs_table_term(t, h, p, (uint32_t)len, 1, &is_new);
                if (!is_new || e->id != i) {
                    r.bad = 1;
                    break;
                }
                e->c.count = count;
                e->c.docs = docs;
                cs_partmap_set(s->counter.parts, i, cs_part_of(h));
            }
            if (r.p != r.end)
                r.bad = 1;
            break;
        }
        case SEC_END:
            seen_end = 1;
            break;
        default:
            r.bad = 1;
        }
        const int bad_read = r.bad || (kind != SEC_SETTINGS && r.p != r.end);
        if (!keep)
            free(raw);
        if (bad_read) {
            why = "a section does not read as it should";
            goto fail;
        }
    }
    if (at != size - FOOTER_BYTES || !s->settings || !seen_shape) {
        why = "sections are missing or follow the end";
        goto fail;
    }
    cs_map_untrack(slot);
    munmap(map, size);
    return s;
fail:
    cs_map_untrack(slot);
    munmap(map, size);
    return bad(s, err, file, why);
}

const char *cs_state_read_error(const cs_state *s)
{
    return cs_spill_error(s->reads);
}
