/*
 * table.h - exact counter tables: open addressing, split into partitions by
 * the top bits of the key's hash.
 *
 * Terms are looked up here: the key is the folded bytes of a term (copied
 * into the table's arena, or borrowed from another table's arena when
 * merging). The hash only picks a slot and rejects most mismatches early;
 * equality is always decided on the key itself, so counts are exact.
 * N-grams are counted by sorting (grams.c), not here; the merged n-grams
 * are kept in a table's partitions as dense arrays of cs_gram entries
 * (never looked up: their slots stay empty), so that the reducer reads
 * terms and grams alike, partition by partition.
 *
 * Partitions exist so that the reducer can merge partition p of every
 * thread's table on its own (a key lands in the same partition everywhere,
 * its hash being a function of its bytes), and so that a later memory budget
 * can sort and spill one partition at a time. A future group id (a JSONL
 * field such as the date) becomes one more key field hashed with the rest.
 *
 * Entries live in a dense array per partition, in insertion order; slots
 * hold (index + 1, hash tag). Growing rehashes slots only; entries never
 * move between partitions and their index is stable.
 */
#ifndef CS_TABLE_H
#define CS_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* 64 partitions: enough parallel merge tasks for any core count we run on,
 * few enough that a small corpus does not pay for empty tables. */
#define CS_PART_BITS 6
#define CS_N_PARTS (1u << CS_PART_BITS)
/* A merged term's global id is (partition << CS_ID_BITS) | index. */
#define CS_ID_BITS 26

/* The bucket of a global id, for merges cut into slices by a key's second
 * id (grams.c, pipeline.c): its partition, then its index in 16 ranges of
 * 8192 (indices past them share the last range). It grows with the id,
 * and cs_id_bucket_start(k) is the least id of bucket k. */
#define CS_ID_BUCKETS (CS_N_PARTS << 4)

static inline uint32_t cs_id_bucket(uint32_t gid)
{
    const uint32_t index = (gid & ((1u << CS_ID_BITS) - 1)) >> 13;
    return (gid >> CS_ID_BITS) << 4 | (index < 15 ? index : 15);
}

static inline uint32_t cs_id_bucket_start(uint32_t k)
{
    return (k >> 4) << CS_ID_BITS | (k & 15) << 13;
}

static inline unsigned cs_part_of(uint64_t hash)
{
    return (unsigned)(hash >> (64 - CS_PART_BITS));
}

/* The slot of a key in a partition of mask + 1 slots (a power of two, at
 * least 64): the hash bits just under the partition bits. The tag is the
 * low 32 bits. */
static inline uint32_t cs_slot_of(uint64_t hash, uint32_t mask)
{
    /* mask >= 63 in every table that is looked up (0 only in a partition
     * the merge has emptied), so clz never sees 0. */
    unsigned bits = 32u - (unsigned)__builtin_clz(mask);
    return (uint32_t)((hash << CS_PART_BITS) >> (64u - bits));
}

/* The partition of each of a counter's local ids (a term's: cs_part_of of
 * its hash), set as ids appear. Keys counted by sorting (pairs.c,
 * grams.c) are grouped by the partition of their first id, which is the
 * partition that term has in the merged table, so the reducer can merge
 * partition p of every counter on its own. A byte an id. */
typedef struct cs_partmap {
    uint8_t *part; /* owned; [id] */
    size_t cap;
    uint64_t n_ids; /* every id below it must be set (ids are dense) */
} cs_partmap;

void cs_partmap_set(cs_partmap *m, uint32_t id, unsigned part);
void cs_partmap_free(cs_partmap *m); /* NULL is a no-op */

/* Bits of the largest id set: sorts size their digits to it. */
static inline unsigned cs_partmap_bits(const cs_partmap *m)
{
    unsigned bits = 0;
    while (bits < 32 && ((uint64_t)1 << bits) < m->n_ids)
        bits++;
    return bits;
}

/* Counts of one key. Signed: a shard that fails to decode is taken back by
 * counting it again with sign -1 (see pipeline.c). */
typedef struct cs_cnt {
    int64_t count;
    int64_t docs;
    uint64_t last_doc; /* document that last added to docs; 0 = none */
} cs_cnt;

typedef __int128 cs_i128;

static inline void cs_cnt_add(cs_cnt *c, int64_t sign, uint64_t doc)
{
    c->count += sign;
    if (c->last_doc != doc) {
        c->last_doc = doc;
        c->docs += sign;
    }
}

/* Keys up to this many bytes live inside the entry, so a lookup that hits
 * touches one cache line of entry and no arena: most terms are short, and
 * the arena read was the lookup's costliest miss (bench/NOTES.md, 6). */
#define CS_TERM_INLINE 24

typedef struct cs_term {
    uint64_t hash;
    cs_cnt c;
    uint32_t len;
    uint32_t id; /* thread table: dense local id; merged: global id */
    union {
        uint8_t in[CS_TERM_INLINE]; /* len <= CS_TERM_INLINE */
        const uint8_t *ptr;         /* longer: in the arena of this table or of the
                                       table it was merged from */
    } key;
} cs_term; /* 64 bytes, and entry arrays are 64-byte aligned: one line each */

static inline const uint8_t *cs_term_bytes(const cs_term *e)
{
    return e->len <= CS_TERM_INLINE ? e->key.in : e->key.ptr;
}

/* A merged n-gram (grams.c writes them; nothing looks them up, so they
 * need no hash). 24 bytes for a bigram: these are the largest
 * fresh memory of the merge. */
typedef struct cs_gram {
    int64_t count, docs;
    uint32_t ids[]; /* n global term ids */
} cs_gram;

/* Bytes of a gram entry of `order` ids (8-aligned). */
static inline size_t cs_gram_stride(unsigned order)
{
    return (sizeof(cs_gram) + order * sizeof(uint32_t) + 7) & ~(size_t)7;
}

typedef struct cs_slot {
    uint32_t idx1; /* entry index + 1; 0 = empty */
    uint32_t tag;  /* low 32 bits of the hash */
} cs_slot;

typedef struct cs_part {
    cs_slot *slots;
    uint32_t mask;
    uint32_t n;        /* entries */
    uint32_t cap;      /* entries allocated */
    uint8_t *entries;  /* n * stride bytes */
} cs_part;

typedef struct cs_arena_block cs_arena_block;
struct cs_pack;       /* spill.h */
struct cs_spill_file; /* spill.h */

typedef struct cs_table {
    unsigned order;     /* 1: terms; n >= 2: grams of n ids */
    size_t stride;      /* bytes per entry */
    uint32_t next_id;   /* terms: next local id */
    cs_part part[CS_N_PARTS];
    cs_arena_block *arena; /* term bytes; blocks never move */
    /* A thread's term table past its share of the budget: its earlier
     * generations, packed and spilled (cs_table_new_generation). */
    struct cs_pack *gens; /* owned */
    size_t n_gens;
    uint32_t gen_first_id; /* the first id of the generation in the table */
    uint64_t arena_bytes;  /* long keys copied into the arena, this generation */
} cs_table;

cs_table *cs_table_new(unsigned order);
void cs_table_free(cs_table *t); /* NULL is a no-op */

/* Term tables under a budget (count.c: at a document's start, so that no
 * document has terms in two generations and doc_count needs no
 * correction). Packs every entry of t (by partition: its hash, 8 bytes in
 * the machine's order, varint length, the bytes, zigzag count and
 * doc_count, varint local id), adds the pack to
 * t->gens, spilled to f (a spill that fails keeps it in memory: f's
 * cs_spill keeps the error), and empties t, whose ids go on from next_id:
 * a term seen again gets a new id, and the merge sends both to its one
 * global id (reduce.h). */
void cs_table_new_generation(cs_table *t, struct cs_spill_file *f);

/* Bytes of t's current generation, about: an entry, its share of the
 * slots and of the room grown ahead, and the long keys (what a budget
 * weighs). */
static inline uint64_t cs_table_gen_bytes(const cs_table *t)
{
    return (uint64_t)(t->next_id - t->gen_first_id) * 112 + t->arena_bytes;
}

/* A generation holds this many terms at least (whatever the budget says: a
 * few kilobytes a generation stay in memory, its pack's offsets), and none
 * starts past CS_GEN_MAX_ID: a term seen again takes a new id in each
 * generation, and ids are 32 bits (UINT32_MAX is CS_NO_TERM). Past it, the
 * table keeps growing. */
#define CS_GEN_MIN_TERMS 1024u
#define CS_GEN_MAX_ID (UINT32_MAX / 2)

static inline void *cs_part_entry(const cs_part *p, size_t stride, uint32_t i)
{
    return p->entries + (size_t)i * stride;
}

/* The entry of term (hash, p, len), inserted with zero counts if new. A new
 * key of more than CS_TERM_INLINE bytes is copied into the arena when copy
 * is 1, else borrowed (it must outlive the table); a shorter one is always
 * copied into its entry. *is_new tells whether the key is new. Cost: O(1) expected; a
 * resize now and then rehashes one partition. */
cs_term *cs_table_term(cs_table *t, uint64_t hash, const uint8_t *p, uint32_t len, int copy,
                       int *is_new);

/* The entry of term (hash, p, len), or NULL when the table has none. */
const cs_term *cs_table_find_term(const cs_table *t, uint64_t hash, const uint8_t *p,
                                  uint32_t len);

/* Prefetch hints for a key about to be looked up: first its slot, then (a
 * few keys later, once the slot is in cache) its entry. Lookups are random
 * accesses into tables far larger than the caches; issuing them ahead lets
 * the misses of several keys overlap. */
__attribute__((always_inline)) static inline void cs_table_prefetch_slot(const cs_table *t, uint64_t hash)
{
    const cs_part *p = &t->part[cs_part_of(hash)];
    __builtin_prefetch(&p->slots[cs_slot_of(hash, p->mask)]);
}

__attribute__((always_inline)) static inline void cs_table_prefetch_entry(const cs_table *t, uint64_t hash)
{
    const cs_part *p = &t->part[cs_part_of(hash)];
    const cs_slot *s = &p->slots[cs_slot_of(hash, p->mask)];
    if (s->idx1 && s->tag == (uint32_t)hash)
        __builtin_prefetch(p->entries + (size_t)(s->idx1 - 1) * t->stride);
}

/* Entries in all partitions. */
uint64_t cs_table_size(const cs_table *t);

#endif
