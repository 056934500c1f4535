/*
 * reduce.c - merging partitions and ordering rows (see reduce.h).
 *
 * DESIGN
 * Terms merge first: each source term is looked up by its bytes in the
 * merged partition (same hash everywhere), and its global id, (partition,
 * index), goes into the source's remap; the partition is then packed
 * (cs_vocab_part) and its table freed. Grams merge next, from the
 * counters' runs (grams.c, cs_grams_merge_part), their ids translated
 * through remap.
 * Co-occurrence pairs come from the counters' packed runs (pairs.c),
 * partition p of all of them translated to global ids: they are sorted and
 * summed together into the merged pairs of p, which are read from then on
 * but never looked up.
 * Rows never come out in hash order: each partition is sorted by the
 * contract's order and the writer merges the 64 sorted runs, which is
 * what makes the bytes independent of the thread count.
 */
#include "reduce.h"
#include "rowrun.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "measures.h"
#include "spill.h"
#include "tokenize.h"

/* Long keys that come from a generation's pack (read into a buffer that
 * does not last): a block list per partition, so that the thread merging
 * it needs no lock. */
typedef struct cs_key_block {
    struct cs_key_block *next;
    size_t used, cap;
    uint8_t data[];
} cs_key_block;

static const uint8_t *keep_key(cs_merged *m, unsigned p, const uint8_t *key, size_t len)
{
    cs_key_block *b = m->keys[p];
    if (!b || b->cap - b->used < len) {
        const size_t cap = len > 65536 ? len : 65536;
        cs_key_block *nb = cs_xmalloc(sizeof *nb + cap);
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        m->keys[p] = b = nb;
    }
    uint8_t *d = b->data + b->used;
    memcpy(d, key, len);
    b->used += len;
    return d;
}

void cs_vocab_part_free(cs_vocab_part *v)
{
    free(v->c);
    free(v->off);
    free(v->bytes);
    free(v->bits);
    free(v->rank);
    v->c = NULL;
    v->off = NULL;
    v->bytes = NULL;
    v->bits = NULL;
    v->rank = NULL;
}

static void free_keys(cs_merged *m, unsigned p)
{
    for (cs_key_block *b = m->keys[p], *next; b; b = next) {
        next = b->next;
        free(b);
    }
    m->keys[p] = NULL;
}

cs_merged *cs_merged_new(cs_table *const *src, int n_src, int gram_min, int gram_max)
{
    cs_merged *m = cs_xcalloc(1, sizeof *m);
    m->n_src = n_src;
    m->terms = cs_table_new(1);
    for (int n = gram_min < 2 ? 2 : gram_min; n <= gram_max; n++)
        m->grams[n] = cs_table_new((unsigned)n);
    m->remap = cs_xcalloc((size_t)n_src, sizeof *m->remap);
    for (int s = 0; s < n_src; s++) {
        m->remap[s] = cs_xmalloc(((size_t)src[s]->next_id + 1) * sizeof **m->remap);
        m->remap_bytes += ((uint64_t)src[s]->next_id + 1) * sizeof **m->remap;
    }
    return m;
}

void cs_merged_free(cs_merged *m)
{
    if (!m)
        return;
    cs_table_free(m->terms);
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_vocab_part *v = &m->vocab[p];
        cs_vocab_part_free(v);
        free(v->pre);
        if (v->disk)
            cs_pack_free(v->disk);
        free(v->disk);
    }
    for (int n = 0; n <= CS_NGRAM_MAX; n++) {
        cs_table_free(m->grams[n]);
        free(m->once_hist[n]);
    }
    for (unsigned p = 0; m->pairs && p < CS_N_PARTS; p++)
        cs_pair_run_free(&m->pairs[p]);
    free(m->pairs);
    cs_margins_free(&m->margin);
    cs_merged_drop_remap(m);
    for (unsigned p = 0; p < CS_N_PARTS; p++)
        free_keys(m, p);
    free(m);
}

void cs_merged_drop_remap(cs_merged *m)
{
    for (int s = 0; m->remap && s < m->n_src; s++)
        free(m->remap[s]);
    free(m->remap);
    m->remap = NULL;
    m->remap_bytes = 0;
}

uint64_t cs_merged_term_bytes(const cs_merged *m)
{
    uint64_t bytes = m->remap_bytes;
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        const cs_vocab_part *v = &m->vocab[p];
        if (v->pre)
            bytes += (uint64_t)v->n * sizeof *v->pre;
        if (!v->off)
            continue; /* on disk, none held */
        uint64_t held = v->n;
        if (v->bits) {
            const uint32_t w = (v->n + 63) / 64;
            held = w ? v->rank[w - 1] + (uint64_t)__builtin_popcountll(v->bits[w - 1]) : 0;
            bytes += w * (sizeof *v->bits + sizeof *v->rank);
        }
        bytes += held * ((v->c ? sizeof *v->c : 0) + sizeof *v->off) + v->off[held];
    }
    return bytes;
}

/* Moves partition p of src into dst (an empty partition of the same
 * stride). Slots depend only on hashes, so they stay valid. */
static void steal_part(cs_part *dst, cs_part *src)
{
    free(dst->slots);
    free(dst->entries);
    *dst = *src;
    memset(src, 0, sizeof *src);
}

/* Adds a source term (hash, key, counts) to partition p of the merged
 * table and maps the source's local id to its global id. A new long key
 * is borrowed (it lives in the source's arena), or, when `keep`, copied
 * (keep_key). Returns 0, or -1 when the partition outgrows the ids. */
static int add_term(cs_merged *m, unsigned p, int s, uint64_t hash, const uint8_t *key,
                    uint32_t len, int64_t count, int64_t docs, uint32_t id, int keep)
{
    const cs_part *mp = &m->terms->part[p];
    int is_new;
    cs_term *d = cs_table_term(m->terms, hash, key, len, 0, &is_new);
    if (keep && is_new && len > CS_TERM_INLINE)
        d->key.ptr = keep_key(m, p, key, len);
    const uint32_t idx = (uint32_t)(((const uint8_t *)d - mp->entries) / sizeof(cs_term));
    if (idx >= (1u << CS_ID_BITS))
        return -1;
    d->id = (p << CS_ID_BITS) | idx;
    d->c.count += count;
    d->c.docs += docs;
    m->remap[s][id] = d->id;
    return 0;
}

/* Writes merged partition p to f, a zstd frame (each term's varint
 * length, bytes, zigzag count and doc_count), and keeps the first two
 * bytes of each term. A write that fails leaves the frame in memory: the
 * spill keeps the error, and the run stops. */
static void pack_on_disk(cs_merged *m, unsigned p, cs_spill_file *f)
{
    const cs_part *mp = &m->terms->part[p];
    cs_vocab_part *v = &m->vocab[p];
    cs_buf b = {0};
    v->n = mp->n;
    v->pre = cs_xmalloc(((size_t)mp->n + 1) * sizeof *v->pre);
    for (uint32_t i = 0; i < mp->n; i++) {
        const cs_term *e = cs_part_entry(mp, sizeof(cs_term), i);
        const uint8_t *key = cs_term_bytes(e);
        v->pre[i] = (uint16_t)(key[0] << 8 | (e->len >= 2 ? key[1] : 0));
        cs_buf_reserve(&b, (size_t)e->len + 3 * 10);
        uint8_t *d = cs_put_varint(b.data + b.len, e->len);
        memcpy(d, key, e->len);
        d = cs_put_varint(d + e->len, cs_zigzag(e->c.count));
        d = cs_put_varint(d, cs_zigzag(e->c.docs));
        b.len = (size_t)(d - b.data);
    }
    cs_pack *pk = v->disk = cs_xcalloc(1, sizeof *pk);
    for (unsigned q = p + 1; q <= CS_N_PARTS; q++)
        pk->off[q] = b.len;
    pk->n[p] = mp->n;
    pk->bytes = b.len ? b.data : cs_xmalloc(1);
    cs_spill_pack(f, pk, cs_spill_file_fd(f) < 0); /* a thread's first: one spill */
}

/* Packs merged partition p, of `bytes` term bytes, into m->vocab[p] in
 * memory. */
static void pack_in_memory(cs_merged *m, unsigned p, uint64_t bytes)
{
    const cs_part *mp = &m->terms->part[p];
    cs_vocab_part *v = &m->vocab[p];
    v->n = mp->n;
    v->c = cs_xmalloc(((size_t)mp->n + 1) * sizeof *v->c);
    v->off = cs_xmalloc(((size_t)mp->n + 1) * sizeof *v->off);
    v->bytes = cs_xmalloc(bytes + 1);
    uint32_t at = 0;
    for (uint32_t i = 0; i < mp->n; i++) {
        const cs_term *e = cs_part_entry(mp, sizeof(cs_term), i);
        v->c[i] = (cs_vcnt){e->c.count, e->c.docs};
        v->off[i] = at;
        memcpy(v->bytes + at, cs_term_bytes(e), e->len);
        at += e->len;
    }
    v->off[mp->n] = at;
}

/* Packs merged partition p into m->vocab[p] (in memory, or on disk to f)
 * and frees its table (and the long keys it kept). */
static int pack_part(cs_merged *m, unsigned p, cs_spill_file *f)
{
    cs_part *mp = &m->terms->part[p];
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < mp->n; i++)
        bytes += ((const cs_term *)cs_part_entry(mp, sizeof(cs_term), i))->len;
    if (bytes > UINT32_MAX)
        return -1;
    if (f && mp->n)
        pack_on_disk(m, p, f);
    else
        pack_in_memory(m, p, bytes);
    free(mp->slots);
    free(mp->entries);
    memset(mp, 0, sizeof *mp);
    free_keys(m, p);
    return 0;
}

int cs_merge_terms_part(cs_merged *m, cs_table *const *src, unsigned p, const cs_strset *find,
                        uint32_t *found, cs_spill_file *f)
{
    /* The first source's partition becomes the merged one as it is: with
     * one thread the merge is a pass over the entries, with T threads it
     * saves 1/T of the inserts. */
    cs_part *mp = &m->terms->part[p];
    steal_part(mp, &src[0]->part[p]);
    if (mp->n > (1u << CS_ID_BITS))
        return -1;
    for (uint32_t i = 0; i < mp->n; i++) {
        cs_term *d = cs_part_entry(mp, sizeof(cs_term), i);
        uint32_t gid = (p << CS_ID_BITS) | i;
        m->remap[0][d->id] = gid;
        d->id = gid;
    }
    for (int s = 1; s < m->n_src; s++) {
        const cs_part *sp = &src[s]->part[p];
        for (uint32_t i = 0; i < sp->n; i++) {
            const cs_term *e = cs_part_entry(sp, sizeof(cs_term), i);
            if (add_term(m, p, s, e->hash, cs_term_bytes(e), e->len, e->c.count, e->c.docs,
                         e->id, 0) != 0)
                return -1;
        }
        /* Merged: its entries are not read again, and would hold memory
         * through the merge and the rows (its long keys stay, in its
         * arena). */
        cs_part *done = &src[s]->part[p];
        free(done->slots);
        free(done->entries);
        memset(done, 0, sizeof *done);
    }
    /* Earlier generations of the sources' tables (table.h): no document
     * spans two, so their counts and doc_counts simply add up. A new long
     * key is copied (keep_key): it was read into buf. */
    cs_buf buf = {0};
    int failed = 0;
    for (int s = 0; s < m->n_src && !failed; s++)
        for (size_t g = 0; g < src[s]->n_gens && !failed; g++) {
            const cs_pack *pk = &src[s]->gens[g];
            if (!pk->n[p])
                continue;
            const uint8_t *q = cs_pack_part(pk, p, &buf);
            if (!q) /* the spill keeps the error: the caller stops (reduce.h) */
                break;
            for (uint32_t i = 0; i < pk->n[p]; i++) {
                uint64_t hash, len, count, docs, id;
                memcpy(&hash, q, 8);
                q = cs_get_varint(q + 8, &len);
                const uint8_t *key = q;
                q = cs_get_varint(q + len, &count);
                q = cs_get_varint(q, &docs);
                q = cs_get_varint(q, &id);
                /* the key is in buf: copied if new */
                if (add_term(m, p, s, hash, key, (uint32_t)len, cs_unzigzag(count),
                             cs_unzigzag(docs), (uint32_t)id, 1) != 0) {
                    failed = 1;
                    break;
                }
            }
        }
    cs_buf_free(&buf);
    if (failed)
        return -1;
    const uint32_t n_find = find ? (uint32_t)cs_strset_size(find) : 0;
    for (uint32_t i = 0; i < n_find; i++) {
        const uint64_t hash = cs_strset_hash(find, i);
        if (cs_part_of(hash) != p)
            continue;
        uint32_t len;
        const uint8_t *key = cs_strset_key(find, i, &len);
        const cs_term *e = cs_table_find_term(m->terms, hash, key, len);
        found[i] = e ? e->id : UINT32_MAX;
    }
    return pack_part(m, p, f);
}

/* Reads term partition p back from disk into v (c unless !counts, off,
 * bytes): every term, or those of want (bits and rank set). Returns 0, or
 * -1 when it cannot (the spill keeps the error; v holds nothing). */
static int vocab_read(const cs_vocab_part *from, unsigned p, const uint64_t *want, int counts,
                      cs_vocab_part *v, cs_buf *buf)
{
    memset(v, 0, sizeof *v);
    v->n = from->n;
    const uint32_t n = from->n, words = (n + 63) / 64;
    uint32_t held = n;
    if (want) {
        v->bits = cs_xmalloc(((size_t)words + 1) * sizeof *v->bits);
        v->rank = cs_xmalloc(((size_t)words + 1) * sizeof *v->rank);
        held = 0;
        for (uint32_t w = 0; w < words; w++) {
            v->bits[w] = want[w];
            v->rank[w] = held;
            held += (uint32_t)__builtin_popcountll(want[w]);
        }
    }
    const uint8_t *q = n ? cs_pack_part(from->disk, p, buf) : NULL;
    if (n && !q) {
        cs_vocab_part_free(v);
        return -1;
    }
    if (counts)
        v->c = cs_xmalloc(((size_t)held + 1) * sizeof *v->c);
    v->off = cs_xmalloc(((size_t)held + 1) * sizeof *v->off);
    size_t cap = 4096, at = 0;
    v->bytes = cs_xmalloc(cap);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t len, count, docs;
        q = cs_get_varint(q, &len);
        const uint8_t *key = q;
        q = cs_get_varint(q + len, &count);
        q = cs_get_varint(q, &docs);
        if (want && !(want[i >> 6] >> (i & 63) & 1))
            continue;
        if (at + len > cap) {
            while (at + len > cap)
                cap *= 2;
            v->bytes = cs_xrealloc(v->bytes, cap);
        }
        memcpy(v->bytes + at, key, len);
        if (counts)
            v->c[k] = (cs_vcnt){cs_unzigzag(count), cs_unzigzag(docs)};
        v->off[k++] = (uint32_t)at;
        at += len;
    }
    v->off[k] = (uint32_t)at;
    return 0;
}

/* Holds the terms of partition p on disk whose bits are set in want
 * (NULL: all), with their counts or not. */
static int hold(cs_merged *m, unsigned p, const uint64_t *want, int counts, cs_buf *buf)
{
    cs_vocab_part *v = &m->vocab[p];
    assert(v->disk || !v->n);
    cs_vocab_part_free(v);
    if (!v->n)
        return 0;
    cs_vocab_part h;
    if (vocab_read(v, p, want, counts, &h, buf) != 0)
        return -1;
    v->c = h.c;
    v->off = h.off;
    v->bytes = h.bytes;
    v->bits = h.bits;
    v->rank = h.rank;
    return 0;
}

int cs_vocab_hold_part(cs_merged *m, unsigned p, const uint64_t *want, cs_buf *buf)
{
    if (!want) {
        cs_vocab_part_free(&m->vocab[p]);
        return 0;
    }
    return hold(m, p, want, 1, buf);
}

int cs_vocab_hold_bytes(cs_merged *m, unsigned p, cs_buf *buf)
{
    return hold(m, p, NULL, 0, buf);
}

const cs_vocab_part *cs_vocab_whole(const cs_merged *m, unsigned p, cs_vocab_part *tmp)
{
    const cs_vocab_part *v = &m->vocab[p];
    if (!v->disk || !v->n)
        return v;
    cs_buf buf = {0};
    const int e = vocab_read(v, p, NULL, 1, tmp, &buf);
    cs_buf_free(&buf);
    return e ? NULL : tmp;
}

/* m, with term partition p whole in memory: m itself, or a shallow copy in
 * *tmp whose partition p is read back from disk (free it with
 * whole_done). NULL when it cannot be read back. */
static const cs_merged *whole_part(const cs_merged *m, unsigned p, cs_merged *tmp)
{
    const cs_vocab_part *v = &m->vocab[p];
    if (!v->disk || !v->n)
        return m;
    *tmp = *m;
    return cs_vocab_whole(m, p, &tmp->vocab[p]) ? tmp : NULL;
}

static void whole_done(const cs_merged *got, cs_merged *tmp, unsigned p)
{
    if (got == tmp)
        cs_vocab_part_free(&tmp->vocab[p]);
}

uint32_t cs_merged_find(const cs_merged *m, uint64_t hash, const uint8_t *key, uint32_t len)
{
    const unsigned p = cs_part_of(hash);
    assert(!m->vocab[p].disk); /* every term in memory */
    for (uint32_t i = 0; i < m->vocab[p].n; i++) {
        uint32_t n;
        const uint8_t *b = cs_merged_bytes(m, p << CS_ID_BITS | i, &n);
        if (n == len && !memcmp(b, key, len))
            return p << CS_ID_BITS | i;
    }
    return UINT32_MAX;
}

/* The first two bytes of a row key that starts with term gid, big-endian:
 * a one-byte term is followed by `next` (0, the row prefix's zero pad, for
 * a term row; the joining ' ' for an n-gram). */
static inline unsigned prefix16(const cs_merged *m, uint32_t gid, unsigned next)
{
    const cs_vocab_part *v = &m->vocab[gid >> CS_ID_BITS];
    if (v->pre) {
        const unsigned pre = v->pre[gid & ((1u << CS_ID_BITS) - 1)];
        return pre & 0xFF ? pre : pre | next;
    }
    uint32_t len;
    const uint8_t *b = cs_merged_bytes(m, gid, &len);
    assert(len >= 1); /* a token holds a character at least */
    return (unsigned)b[0] << 8 | (len >= 2 ? b[1] : next);
}

/* The first two bytes of the row key of a gram whose first term is gid. */
static inline unsigned gram_prefix16(const cs_merged *m, uint32_t gid)
{
    return prefix16(m, gid, ' ');
}

/* Whether a gram counted `count` (> 0), whose first term is `first`, is
 * at or above the bar (cs_gram_rank): its first two bytes only looked up
 * when its count is the bar's. */
static inline int at_bar(const cs_merged *m, uint64_t count, uint32_t first, uint64_t bar)
{
    const uint64_t at = bar >> 16;
    return count > at || (count == at && cs_gram_rank(at, gram_prefix16(m, first)) >= bar);
}

typedef struct pick_ctx {
    const cs_merged *m;
    cs_gram_pick pick;
    uint64_t n; /* left out (LEAVE, TOP) or added (ADD) */
    cs_gram_sink sink;
    void *sink_ctx;
    unsigned part, order;
} pick_ctx;

static int keep_gram(void *ctx, const uint32_t *ids, int64_t count, int64_t docs)
{
    pick_ctx *c = ctx;
    const cs_gram_pick *k = &c->pick;
    if (c->sink)
        c->sink(c->sink_ctx, c->part, ids, c->order, count, docs);
    switch (k->mode) {
    case CS_PICK_KEEP:
        return 1;
    case CS_PICK_LEAVE:
        if (count != 1)
            return 1;
        if (k->hist) /* NULL: no second merge can want them */
            k->hist[gram_prefix16(c->m, ids[0])]++;
        c->n++;
        return 0;
    case CS_PICK_ADD:
        if (count != 1 || gram_prefix16(c->m, ids[0]) > k->tie_max)
            return 0;
        c->n++;
        return 1;
    case CS_PICK_ROWS:
        if (count > 0) {
            k->rows(k->rows_ctx, c->part, ids, c->order, count, docs);
            c->n++;
        }
        return 0;
    default: { /* CS_PICK_TOP */
        if (count <= 0)
            return 0; /* not a row, nor one of the table's types */
        k->hist[count < CS_HIST_MAX ? count : CS_HIST_MAX]++;
        if (count == 1 && k->once)
            k->once[gram_prefix16(c->m, ids[0])]++;
        else if (at_bar(c->m, (uint64_t)count, ids[0], __atomic_load_n(k->bar, __ATOMIC_RELAXED)))
            return 1;
        c->n++;
        return 0;
    }
    }
}

void cs_prune_grams_part(cs_merged *m, unsigned order, unsigned p, uint64_t bar,
                         uint64_t *removed)
{
    cs_part *part = &m->grams[order]->part[p];
    const size_t stride = m->grams[order]->stride;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < part->n; i++) {
        const cs_gram *g = cs_part_entry(part, stride, i);
        const uint64_t count = (uint64_t)g->count; /* > 0: kept by CS_PICK_TOP */
        if (at_bar(m, count, g->ids[0], bar)) {
            if (kept != i)
                memcpy(cs_part_entry(part, stride, kept), g, stride);
            kept++;
        } else {
            removed[count < CS_HIST_MAX ? count : CS_HIST_MAX]++;
        }
    }
    m->left[order][p] += part->n - kept;
    part->n = kept;
    if (kept < part->cap / 2) { /* give the room back: the bar only rises */
        part->cap = kept + 64;
        part->entries = cs_xrealloc(part->entries, (size_t)part->cap * stride);
    }
}

void cs_merge_grams_part(cs_merged *m, cs_grams *const *src, unsigned order, unsigned p,
                         cs_grams_scratch *scratch, const cs_gram_pick *pick, cs_gram_sink sink,
                         void *sink_ctx)
{
    static const cs_gram_pick keep_all = {.mode = CS_PICK_KEEP, .tie_max = CS_TIE_ALL};
    if (!pick)
        pick = &keep_all;
    cs_table *mt = m->grams[order];
    assert(!sink || pick->mode != CS_PICK_ADD); /* the first merge saw them all */
    assert(pick->mode != CS_PICK_TOP || (pick->hist && pick->bar));
    /* TOP keeps few of the grams, ROWS none: a room for every item, 2 MiB
     * huge pages a partition, would hold far more memory than they need. */
    if ((pick->mode == CS_PICK_TOP || pick->mode == CS_PICK_ROWS) && !mt->part[p].entries) {
        mt->part[p].cap = 64;
        mt->part[p].entries = cs_xmalloc(64 * mt->stride);
    }
    pick_ctx c = {m, *pick, 0, sink, sink_ctx, p, order};
    cs_grams_merge_part(src, m->n_src, (const uint32_t *const *)m->remap, p, &mt->part[p],
                        mt->stride, scratch,
                        pick->mode == CS_PICK_KEEP && !sink ? NULL : keep_gram, &c);
    if (pick->mode == CS_PICK_LEAVE || pick->mode == CS_PICK_TOP || pick->mode == CS_PICK_ROWS)
        m->left[order][p] = c.n;
    else if (pick->mode == CS_PICK_ADD)
        m->left[order][p] -= c.n;
}

void cs_merged_add_pairs(cs_merged *m, uint64_t unit)
{
    m->pairs = cs_xcalloc(CS_N_PARTS, sizeof *m->pairs);
    m->unit = unit;
}

static inline uint64_t term_index(const cs_merged *m, uint32_t gid)
{
    return m->term_base[gid >> CS_ID_BITS] + (gid & ((1u << CS_ID_BITS) - 1));
}

/* The two global term ids of pair i of partition p. */
static inline void pair_ids(const cs_merged *m, unsigned p, size_t i, uint32_t ids[2])
{
    const uint64_t key = m->pairs[p].v[i].key;
    ids[0] = p << CS_ID_BITS | (uint32_t)(key >> 32);
    ids[1] = (uint32_t)key;
}

void cs_pair_margins_part(const cs_merged *m, unsigned p, cs_margins *acc)
{
    const cs_pair_run *r = &m->pairs[p];
    for (size_t i = 0; i < r->n; i++) {
        const unsigned __int128 u = (unsigned __int128)cs_pair_units(r, i);
        uint32_t ids[2];
        pair_ids(m, p, i, ids);
        cs_margins_add(acc, term_index(m, ids[0]), u);
        cs_margins_add(acc, term_index(m, ids[1]), u);
    }
}

void cs_margins_init(cs_margins *a, size_t n_terms)
{
    memset(a, 0, sizeof *a);
    a->lo = cs_xcalloc(n_terms + 1, sizeof *a->lo);
}

void cs_margins_free(cs_margins *a)
{
    free(a->lo);
    free(a->hi);
    memset(a, 0, sizeof *a);
}

void cs_margins_carry(cs_margins *a, uint64_t term, uint64_t hi)
{
    if (a->n_hi == a->cap_hi) {
        a->cap_hi = a->cap_hi ? 2 * a->cap_hi : 16;
        a->hi = cs_xrealloc(a->hi, a->cap_hi * sizeof *a->hi);
    }
    a->hi[a->n_hi++] = (cs_margin_hi){term, hi};
}

void cs_margins_sum(cs_margins *dst, cs_margins *src, size_t n_terms)
{
    for (size_t i = 0; i < n_terms; i++)
        cs_margins_add(dst, i, src->lo[i]);
    for (size_t k = 0; k < src->n_hi; k++)
        cs_margins_carry(dst, src->hi[k].term, src->hi[k].hi);
    cs_margins_free(src);
}

static int hi_cmp(const void *x, const void *y)
{
    const cs_margin_hi *a = x, *b = y;
    return (a->term > b->term) - (a->term < b->term);
}

unsigned __int128 cs_margins_seal(cs_margins *a, size_t n_terms)
{
    unsigned __int128 total = 0;
    for (size_t i = 0; i < n_terms; i++)
        total += a->lo[i];
    if (a->n_hi)
        qsort(a->hi, a->n_hi, sizeof *a->hi, hi_cmp);
    size_t n = 0;
    for (size_t k = 0; k < a->n_hi; k++) {
        total += (unsigned __int128)a->hi[k].hi << 64;
        if (n && a->hi[n - 1].term == a->hi[k].term)
            a->hi[n - 1].hi += a->hi[k].hi; /* wraps, as the 128-bit sum does */
        else
            a->hi[n++] = a->hi[k];
    }
    a->n_hi = n;
    return total;
}

unsigned __int128 cs_margins_get(const cs_margins *a, uint64_t term)
{
    uint64_t hi = 0;
    size_t lo = 0, up = a->n_hi; /* a binary search: such terms are rare */
    while (lo < up) {
        const size_t mid = lo + (up - lo) / 2;
        if (a->hi[mid].term < term)
            lo = mid + 1;
        else
            up = mid;
    }
    if (lo < a->n_hi && a->hi[lo].term == term)
        hi = a->hi[lo].hi;
    return (unsigned __int128)hi << 64 | a->lo[term];
}

/* Term bytes order of two merged terms: <0 when a's bytes come first. */
static int term_cmp(const cs_merged *m, uint32_t a, uint32_t b)
{
    uint32_t la, lb;
    const uint8_t *x = cs_merged_bytes(m, a, &la), *y = cs_merged_bytes(m, b, &lb);
    int c = memcmp(x, y, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

typedef struct {
    int64_t docs;
    uint32_t gid;
} ranked;

static int ranked_cmp(const void *a, const void *b, void *m)
{
    const ranked *x = a, *y = b;
    if (x->docs != y->docs)
        return x->docs > y->docs ? -1 : 1;
    return term_cmp(m, x->gid, y->gid);
}

uint32_t *cs_top_terms_by_docs(cs_merged *m, uint64_t k, uint32_t *n_out)
{
    /* The doc_count the K-th term has at least, from a histogram, so that
     * only the terms that can make the cut are sorted. */
    uint64_t *hist = cs_xcalloc(CS_HIST_MAX + 1, sizeof *hist);
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_merged tmp;
        const cs_merged *w = whole_part(m, p, &tmp);
        const cs_vocab_part *v = w ? &w->vocab[p] : NULL;
        for (uint32_t i = 0; v && i < v->n; i++)
            if (v->c[i].count > 0 && v->c[i].docs > 0)
                hist[v->c[i].docs < CS_HIST_MAX ? v->c[i].docs : CS_HIST_MAX]++;
        whole_done(w, &tmp, p);
    }
    uint64_t floor = cs_top_threshold(hist, k);
    free(hist);
    if (floor < 1)
        floor = 1;
    size_t n = 0, cap = 1024;
    ranked *v = cs_xmalloc(cap * sizeof *v);
    const int on_disk = cs_vocab_on_disk(m);
    for (unsigned p = 0; p < CS_N_PARTS; p++) {
        cs_merged tmp;
        const cs_merged *w = whole_part(m, p, &tmp);
        const cs_vocab_part *vp = w ? &w->vocab[p] : NULL;
        uint64_t *want = on_disk ? cs_xcalloc(((size_t)m->vocab[p].n + 63) / 64 + 1, 8) : NULL;
        for (uint32_t i = 0; vp && i < vp->n; i++) {
            if (vp->c[i].count <= 0 || vp->c[i].docs < (int64_t)floor)
                continue;
            if (n == cap)
                v = cs_xrealloc(v, (cap *= 2) * sizeof *v);
            v[n++] = (ranked){vp->c[i].docs, p << CS_ID_BITS | i};
            if (want)
                want[i >> 6] |= UINT64_C(1) << (i & 63);
        }
        whole_done(w, &tmp, p);
        if (want) { /* the candidates' bytes, for the sort and the caller */
            cs_buf buf = {0};
            cs_vocab_hold_part(m, p, want, &buf);
            cs_buf_free(&buf);
            free(want);
        }
    }
    qsort_r(v, n, sizeof *v, ranked_cmp, (void *)m);
    if (n > k)
        n = (size_t)k;
    uint32_t *gids = cs_xmalloc((n + 1) * sizeof *gids);
    for (size_t i = 0; i < n; i++)
        gids[i] = v[i].gid;
    free(v);
    *n_out = (uint32_t)n;
    return gids;
}

unsigned __int128 cs_merged_margin(const cs_merged *m, uint32_t gid)
{
    if (m->margin.lo)
        return cs_margins_get(&m->margin, term_index(m, gid));
    return (unsigned __int128)cs_merged_cnt(m, gid)->docs;
}

static const cs_table *table_of(const cs_merged *m, unsigned order)
{
    assert(order >= 2);
    return m->grams[order];
}

static const uint32_t *gram_ids(const cs_merged *m, unsigned order, unsigned p, uint32_t i)
{
    const cs_table *t = table_of(m, order);
    return ((const cs_gram *)cs_part_entry(&t->part[p], t->stride, i))->ids;
}

/* The term ids of key i of partition p of table `order` (grams and
 * pairs); buf holds a pair's, decoded from its key. */
static inline const uint32_t *key_ids(const cs_merged *m, unsigned order, unsigned p, uint32_t i,
                                      uint32_t buf[2])
{
    if (order != CS_PAIRS)
        return gram_ids(m, order, p, i);
    pair_ids(m, p, i, buf);
    return buf;
}

/* The count of key i of partition p of table `order` (pairs: in units) and
 * its doc_count (pairs: 0). */
static inline cs_i128 key_count(const cs_merged *m, unsigned order, unsigned p, uint32_t i,
                                int64_t *docs)
{
    if (order == CS_PAIRS) {
        *docs = 0;
        return cs_pair_units(&m->pairs[p], i);
    }
    if (order == 1) {
        *docs = m->vocab[p].c[i].docs;
        return m->vocab[p].c[i].count;
    }
    const cs_table *t = table_of(m, order);
    const cs_gram *e = cs_part_entry(&t->part[p], t->stride, i);
    *docs = e->docs;
    return e->count;
}

/* Keys in partition p of table `order`. */
static inline uint32_t keys_in(const cs_merged *m, unsigned order, unsigned p)
{
    return order == CS_PAIRS ? (uint32_t)m->pairs[p].n
           : order == 1      ? m->vocab[p].n
                             : table_of(m, order)->part[p].n;
}

/* The byte lengths of the terms ids[0..order). */
static void ids_lens(const cs_merged *m, const uint32_t *ids, unsigned order, uint32_t *lens)
{
    for (unsigned k = 0; k < order; k++)
        cs_merged_bytes(m, ids[k], &lens[k]);
}

/* The ids of n-gram row r of partition part, or of a cs_rowbuf's (ids). */
static inline const uint32_t *row_ids(const cs_merged *m, unsigned order, unsigned part,
                                      const uint32_t *ids, const cs_row *r)
{
    return ids ? ids + (size_t)r->idx * order : gram_ids(m, order, part, r->idx);
}

void cs_row_term_lens(const cs_merged *m, const cs_rows *rows, const cs_row *row, uint32_t *lens)
{
    ids_lens(m, row_ids(m, rows->order, rows->part, rows->ids, row), rows->order, lens);
}

int cs_row_tie(const cs_merged *m, unsigned order, const cs_row *a, unsigned part_a,
               const cs_row *b, unsigned part_b)
{
    uint32_t la[CS_NGRAM_MAX], lb[CS_NGRAM_MAX];
    ids_lens(m, gram_ids(m, order, part_a, a->idx), order, la);
    ids_lens(m, gram_ids(m, order, part_b, b->idx), order, lb);
    return cs_row_lens_cmp(la, lb, order);
}

typedef struct {
    const cs_merged *m;
    unsigned order, part;
    const uint32_t *ids; /* cs_rows.ids */
} sortctx;

/* cs_row_cmp within one cs_rows, whose n-grams may be a cs_rowbuf's. */
static inline int row_cmp(const sortctx *s, const cs_row *a, const cs_row *b)
{
    const int c = cs_row_cmp_bytes(s->order, a, b);
    if (c || s->order < 2 || a->key == b->key)
        return c;
    uint32_t la[CS_NGRAM_MAX], lb[CS_NGRAM_MAX];
    ids_lens(s->m, row_ids(s->m, s->order, s->part, s->ids, a), s->order, la);
    ids_lens(s->m, row_ids(s->m, s->order, s->part, s->ids, b), s->order, lb);
    return cs_row_lens_cmp(la, lb, s->order);
}

static inline int before(const sortctx *s, const cs_row *a, const cs_row *b)
{
    return row_cmp(s, a, b) < 0;
}

static inline void swap_rows(cs_row *a, cs_row *b)
{
    cs_row t = *a;
    *a = *b;
    *b = t;
}

static int row_qcmp(const void *a, const void *b, void *ctx)
{
    return row_cmp(ctx, a, b);
}

/* Quicksort with the comparison inlined (qsort's call per comparison was a
 * fifth of the write phase). The order is total, so any correct sort gives
 * the same bytes. depth bounds the recursion; past it, qsort_r. */
static void sort_rows(const sortctx *s, cs_row *v, size_t n, int depth)
{
    while (n > 12) {
        if (depth-- == 0) {
            qsort_r(v, n, sizeof *v, row_qcmp, (void *)s);
            return;
        }
        size_t mid = n / 2;
        if (before(s, &v[mid], &v[0]))
            swap_rows(&v[mid], &v[0]);
        if (before(s, &v[n - 1], &v[mid])) {
            swap_rows(&v[n - 1], &v[mid]);
            if (before(s, &v[mid], &v[0]))
                swap_rows(&v[mid], &v[0]);
        }
        const cs_row pivot = v[mid];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (before(s, &v[i], &pivot))
                i++;
            while (before(s, &pivot, &v[j]))
                j--;
            if (i >= j)
                break;
            swap_rows(&v[i], &v[j]);
            i++;
            j--;
        }
        /* v[0..j] <= pivot <= v[j+1..n): recurse into the smaller side */
        size_t left = j + 1;
        if (left < n - left) {
            sort_rows(s, v, left, depth);
            v += left;
            n -= left;
        } else {
            sort_rows(s, v + left, n - left, depth);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        cs_row x = v[i];
        size_t k = i;
        while (k > 0 && before(s, &x, &v[k - 1])) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = x;
    }
}


/* The pair's terms as the row shows them: term_a < term_b bytewise. */
static void pair_terms(const cs_merged *m, const uint32_t *ids, uint32_t out[2])
{
    const int swap = term_cmp(m, ids[0], ids[1]) > 0;
    out[0] = ids[swap];
    out[1] = ids[!swap];
}

/* Writes the row key of a gram or pair of these ids at d (a gram's terms
 * joined by ' '; a pair's term_a NUL term_b, in byte order); returns its
 * end. */
static uint8_t *join_key(const cs_merged *m, unsigned order, const uint32_t *ids, uint8_t *d)
{
    const int pairs = order == CS_PAIRS;
    uint32_t pair[2];
    if (pairs) {
        pair_terms(m, ids, pair);
        ids = pair;
    }
    for (unsigned k = 0; k < (pairs ? 2 : order); k++) {
        uint32_t len;
        const uint8_t *b = cs_merged_bytes(m, ids[k], &len);
        if (k)
            *d++ = pairs ? 0 : ' ';
        memcpy(d, b, len);
        d += len;
    }
    return d;
}

/* Fetches the offset of term gid's bytes ahead of a read (the bytes
 * themselves are a second, dependent miss). */
static inline void prefetch_term(const cs_merged *m, uint32_t gid)
{
    const cs_vocab_part *v = &m->vocab[gid >> CS_ID_BITS];
    const uint32_t i = gid & ((1u << CS_ID_BITS) - 1);
    if (v->bits && !(v->bits[i >> 6] >> (i & 63) & 1))
        return; /* not held: a key ahead that the tie cut leaves out */
    __builtin_prefetch(&v->off[cs_vocab_at(v, i)]);
}

/* The first two bytes of key i's row key, big-endian and zero-padded (the
 * top of cs_row.prefix), from its first term alone: an n-gram's one-byte
 * first term is followed by the ' ' that joins it. Not for pairs. */
static inline unsigned key_prefix16(const cs_merged *m, unsigned order, unsigned p, uint32_t i)
{
    assert(order != CS_PAIRS);
    if (order != 1)
        return gram_prefix16(m, gram_ids(m, order, p, i)[0]);
    return prefix16(m, p << CS_ID_BITS | i, 0);
}

/* Whether key i (counted n > 0) of partition p of table `order` is a row
 * of cs_rows_part's at min_units and tie_max. */
static inline int is_row(const cs_merged *m, unsigned order, unsigned p, uint32_t i, cs_i128 n,
                         cs_i128 min_units, unsigned tie_max)
{
    /* of those counted min_count, the tie cut's (cs_tie_hist_part) */
    return n >= min_units &&
           (tie_max == CS_TIE_ALL || n != min_units || key_prefix16(m, order, p, i) <= tie_max);
}

static void tie_hist(const cs_merged *m, unsigned order, unsigned p, uint64_t c, uint64_t *hist)
{
    const uint32_t n_keys = keys_in(m, order, p);
    for (uint32_t i = 0; i < n_keys; i++) {
        int64_t docs;
        if (key_count(m, order, p, i, &docs) == (cs_i128)c)
            hist[key_prefix16(m, order, p, i)]++;
    }
}

void cs_tie_hist_part(const cs_merged *m, unsigned order, unsigned p, uint64_t c, uint64_t *hist)
{
    cs_merged tmp;
    const cs_merged *w = order == 1 ? whole_part(m, p, &tmp) : m;
    if (w) /* (NULL: the spill keeps the error, and no table is written) */
        tie_hist(w, order, p, c, hist);
    whole_done(w, &tmp, p);
}

void cs_rows_want_terms(const cs_merged *m, unsigned order, unsigned p, uint64_t min_count,
                        unsigned tie_max, uint64_t *const *want)
{
    assert(order != 1);
    const uint32_t n_keys = keys_in(m, order, p);
    const cs_i128 min_units = (cs_i128)min_count * (order == CS_PAIRS ? m->unit : 1);
    const unsigned n_ids = order == CS_PAIRS ? 2 : order;
    uint32_t buf[2];
    for (uint32_t i = 0; i < n_keys; i++) {
        int64_t docs;
        const cs_i128 n = key_count(m, order, p, i, &docs);
        if (n <= 0 || !is_row(m, order, p, i, n, min_units, tie_max))
            continue;
        const uint32_t *ids = key_ids(m, order, p, i, buf);
        for (unsigned k = 0; k < n_ids; k++) {
            const uint32_t x = ids[k] & ((1u << CS_ID_BITS) - 1);
            __atomic_fetch_or(&want[ids[k] >> CS_ID_BITS][x >> 6], UINT64_C(1) << (x & 63),
                              __ATOMIC_RELAXED);
        }
    }
}

static void rows_part(const cs_merged *m, unsigned order, unsigned p, uint64_t min_count,
                      unsigned tie_max, uint64_t top, cs_rows *out);

void cs_rows_part(const cs_merged *m, unsigned order, unsigned p, uint64_t min_count,
                  unsigned tie_max, uint64_t top, cs_rows *out)
{
    cs_merged tmp;
    const cs_merged *w = order == 1 ? whole_part(m, p, &tmp) : m;
    if (!w) { /* the spill keeps the error, and no table is written */
        memset(out, 0, sizeof *out);
        return;
    }
    rows_part(w, order, p, min_count, tie_max, top, out);
    if (w == &tmp) { /* the keys of the rows kept (--top: few) into their own arena */
        size_t bytes = 0;
        for (size_t i = 0; i < out->n; i++)
            bytes += out->v[i].len;
        uint8_t *d = out->arena = cs_xmalloc(bytes + 1);
        for (size_t i = 0; i < out->n; i++) {
            memcpy(d, out->v[i].key, out->v[i].len);
            out->v[i].key = d;
            d += out->v[i].len;
        }
    }
    whole_done(w, &tmp, p);
}

static void rows_part(const cs_merged *m, unsigned order, unsigned p, uint64_t min_count,
                      unsigned tie_max, uint64_t top, cs_rows *out)
{
    assert(tie_max == CS_TIE_ALL || order != CS_PAIRS);
    const int pairs = order == CS_PAIRS;
    const uint32_t n_keys = keys_in(m, order, p);
    const cs_i128 min_units = (cs_i128)min_count * (pairs ? m->unit : 1);
    memset(out, 0, sizeof *out);
    out->order = order;
    out->part = p;
    out->v = cs_xmalloc(((size_t)n_keys + 1) * sizeof *out->v);
    size_t key_bytes = 0;
    const unsigned n_ids = pairs ? 2 : order;
    uint32_t buf[2];
    int64_t docs;
    for (uint32_t i = 0; i < n_keys; i++) {
        /* The terms of a key 8 on, random in the merged table, if that key
         * will be a row: with --top most are not. */
        if (order != 1 && i + 8 < n_keys && key_count(m, order, p, i + 8, &docs) >= min_units) {
            const uint32_t *ahead = key_ids(m, order, p, i + 8, buf);
            for (unsigned k = 0; k < n_ids; k++)
                prefetch_term(m, ahead[k]);
        }
        const cs_i128 n = key_count(m, order, p, i, &docs);
        if (n <= 0)
            continue; /* a key whose shard was taken back */
        out->types++;
        if (!is_row(m, order, p, i, n, min_units, tie_max))
            continue;
        cs_row *r = &out->v[out->n++];
        if (pairs) {
            r->count = (int64_t)(n >> 64);
            r->units_lo = (uint64_t)n;
        } else {
            r->count = (int64_t)n;
            r->docs = docs;
        }
        r->idx = i;
        if (order == 1) {
            r->key = cs_merged_bytes(m, p << CS_ID_BITS | i, &r->len);
        } else {
            const uint32_t *ids = key_ids(m, order, p, i, buf);
            r->len = n_ids - 1; /* the separators */
            for (unsigned k = 0; k < n_ids; k++) {
                uint32_t len;
                cs_merged_bytes(m, ids[k], &len);
                r->len += len;
            }
            key_bytes += r->len;
        }
    }
    if (order != 1) {
        uint8_t *d = out->arena = cs_xmalloc(key_bytes + 1);
        for (size_t i = 0; i < out->n; i++) {
            if (i + 8 < out->n) { /* as above: the terms of a key 8 rows on */
                const uint32_t *ahead = key_ids(m, order, p, out->v[i + 8].idx, buf);
                for (unsigned k = 0; k < n_ids; k++)
                    prefetch_term(m, ahead[k]);
            }
            cs_row *r = &out->v[i];
            r->key = d;
            d = join_key(m, order, key_ids(m, order, p, r->idx, buf), d);
        }
    }
    for (size_t i = 0; i < out->n; i++)
        cs_row_set_prefix(&out->v[i]);
    sortctx s = {m, order, p, NULL};
    sort_rows(&s, out->v, out->n, 64);
    if (out->n > top)
        out->n = (size_t)top;
    if (order != 1)
        out->types += m->left[order][p]; /* left out by the merge */
    if (pairs) { /* measures of the rows kept only: the rest are never printed */
        out->measure = cs_xmalloc((out->n + 1) * 3 * sizeof *out->measure);
        for (size_t i = 0; i < out->n; i++) {
            /* Rows are in count order now, their pairs and their terms'
             * margins scattered: two dependent misses a row. Fetch the
             * pair 16 rows ahead, and the margins of the row 8 ahead, whose
             * pair has arrived (bench/NOTES.md, 19). */
            if (i + 16 < out->n)
                __builtin_prefetch(&m->pairs[p].v[out->v[i + 16].idx]);
            if (i + 8 < out->n && m->margin.lo) {
                const uint32_t *ahead = key_ids(m, order, p, out->v[i + 8].idx, buf);
                __builtin_prefetch(&m->margin.lo[term_index(m, ahead[0])]);
                __builtin_prefetch(&m->margin.lo[term_index(m, ahead[1])]);
            }
            const cs_row *r = &out->v[i];
            const uint32_t *ids = key_ids(m, order, p, r->idx, buf);
            cs_measures ms;
            cs_measures_of(cs_row_units(r), cs_merged_margin(m, ids[0]), cs_merged_margin(m, ids[1]), m->total,
                           m->unit, &ms);
            out->measure[3 * i] = ms.pmi;
            out->measure[3 * i + 1] = ms.npmi;
            out->measure[3 * i + 2] = ms.llr;
        }
    }
}

static void count_hist(const cs_merged *m, unsigned order, unsigned p, uint64_t *hist);

void cs_count_hist_part(const cs_merged *m, unsigned order, unsigned p, uint64_t *hist)
{
    cs_merged tmp;
    const cs_merged *w = order == 1 ? whole_part(m, p, &tmp) : m;
    if (w) /* (NULL: the spill keeps the error, and no table is written) */
        count_hist(w, order, p, hist);
    whole_done(w, &tmp, p);
}

static void count_hist(const cs_merged *m, unsigned order, unsigned p, uint64_t *hist)
{
    const uint32_t n_keys = keys_in(m, order, p);
    for (uint32_t i = 0; i < n_keys; i++) {
        int64_t docs;
        cs_i128 c = key_count(m, order, p, i, &docs);
        /* pairs: the whole part of a weighted count (units / unit; a 128-bit
         * division only under harmonic weights) */
        if (order == CS_PAIRS && m->unit != 1)
            c /= (cs_i128)m->unit;
        if (c > 0)
            hist[c < CS_HIST_MAX ? c : CS_HIST_MAX]++;
    }
}

uint64_t cs_top_threshold(const uint64_t *hist, uint64_t top)
{
    uint64_t rows = 0;
    for (uint64_t c = CS_HIST_MAX; c >= 1; c--) {
        rows += hist[c];
        if (rows >= top)
            return c;
    }
    return 0;
}

void cs_rows_free(cs_rows *r)
{
    free(r->v);
    free(r->arena);
    free(r->measure);
    cs_rowrun_free(r->disk);
    free(r->disk);
    memset(r, 0, sizeof *r);
}

size_t cs_rows_bytes(const cs_rows *r)
{
    if (!r->v)
        return 0;
    size_t bytes = r->n * sizeof *r->v;
    for (size_t i = 0; r->arena && i < r->n; i++)
        bytes += r->v[i].len;
    return bytes + (r->measure ? r->n * 3 * sizeof *r->measure : 0);
}


/* The term ids an item of a rowbuf of `order` holds. */
static inline unsigned item_ids(unsigned order)
{
    return order == CS_PAIRS ? 2 : order;
}

void cs_rowbuf_init(cs_rowbuf *b, unsigned order)
{
    memset(b, 0, sizeof *b);
    b->order = order;
}

/* Room for one more item; its index. */
static size_t rowbuf_grow(cs_rowbuf *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 4096;
        b->ids = cs_xrealloc(b->ids, b->cap * item_ids(b->order) * sizeof *b->ids);
        b->cd = cs_xrealloc(b->cd, b->cap * 2 * sizeof *b->cd);
    }
    return b->n++;
}

void cs_rowbuf_add(cs_rowbuf *b, const cs_merged *m, const uint32_t *ids, int64_t count,
                   int64_t docs)
{
    assert(b->order >= 2);
    const size_t i = rowbuf_grow(b);
    memcpy(b->ids + i * b->order, ids, b->order * sizeof *ids);
    b->cd[2 * i] = count;
    b->cd[2 * i + 1] = docs;
    uint32_t lens[CS_NGRAM_MAX];
    ids_lens(m, ids, b->order, lens);
    b->key_bytes += b->order - 1; /* the spaces */
    for (unsigned k = 0; k < b->order; k++)
        b->key_bytes += lens[k];
}

void cs_rowbuf_add_pair(cs_rowbuf *b, const cs_merged *m, uint32_t a, uint32_t c,
                        unsigned __int128 units)
{
    assert(b->order == CS_PAIRS);
    const size_t i = rowbuf_grow(b);
    b->ids[2 * i] = a;
    b->ids[2 * i + 1] = c;
    b->cd[2 * i] = (int64_t)(uint64_t)(units >> 64);
    b->cd[2 * i + 1] = (int64_t)(uint64_t)units;
    uint32_t la, lc;
    cs_merged_bytes(m, a, &la);
    cs_merged_bytes(m, c, &lc);
    b->key_bytes += la + 1 + lc; /* a NUL b */
}

size_t cs_rowbuf_bytes(const cs_rowbuf *b)
{
    const size_t measures = b->order == CS_PAIRS ? 3 * sizeof(double) : 0;
    return b->n * (item_ids(b->order) * sizeof *b->ids + 2 * sizeof *b->cd + sizeof(cs_row) +
                   measures) +
           b->key_bytes;
}

void cs_rowbuf_rows(const cs_rowbuf *b, const cs_merged *m, cs_rows *out)
{
    const int pairs = b->order == CS_PAIRS;
    const unsigned n_ids = item_ids(b->order);
    memset(out, 0, sizeof *out);
    out->order = b->order;
    out->ids = b->ids;
    out->n = b->n;
    out->v = cs_xmalloc((b->n + 1) * sizeof *out->v);
    uint8_t *d = out->arena = cs_xmalloc(b->key_bytes + 1);
    for (size_t i = 0; i < b->n; i++) {
        cs_row *r = &out->v[i];
        r->count = b->cd[2 * i];
        r->docs = b->cd[2 * i + 1]; /* pairs: units_lo, the same bits */
        r->idx = (uint32_t)i;
        r->key = d;
        d = join_key(m, b->order, b->ids + i * n_ids, d);
        r->len = (uint32_t)(d - r->key);
        cs_row_set_prefix(r);
    }
    assert((size_t)(d - out->arena) == b->key_bytes);
    sortctx s = {m, b->order, 0, b->ids};
    sort_rows(&s, out->v, out->n, 64);
    if (pairs) { /* the measures, in the rows' order */
        out->measure = cs_xmalloc((out->n + 1) * 3 * sizeof *out->measure);
        for (size_t i = 0; i < out->n; i++) {
            const cs_row *r = &out->v[i];
            const uint32_t *ids = b->ids + 2 * (size_t)r->idx;
            cs_measures ms;
            cs_measures_of(cs_row_units(r), cs_merged_margin(m, ids[0]),
                           cs_merged_margin(m, ids[1]), m->total, m->unit, &ms);
            out->measure[3 * i] = ms.pmi;
            out->measure[3 * i + 1] = ms.npmi;
            out->measure[3 * i + 2] = ms.llr;
        }
    }
}

void cs_rowbuf_clear(cs_rowbuf *b)
{
    b->n = 0;
    b->key_bytes = 0;
}

void cs_rowbuf_free(cs_rowbuf *b)
{
    free(b->ids);
    free(b->cd);
    memset(b, 0, sizeof *b);
}
