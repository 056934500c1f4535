/*
 * table.c - partitioned open-addressing counters (see table.h).
 *
 * DESIGN
 * Linear probing over 8-byte slots (index, tag): a probe touches one cache
 * line of slots and reaches an entry only when the 32-bit tag matches, so a
 * miss rarely costs a key comparison. Load factor stays under 0.7 (linear
 * probing degrades past that). The partition is hash bits 58..63, the slot
 * the bits under them (57 downward, as many as the table needs; see
 * cs_slot_of) and the tag bits 0..31: independent up to 2^26 slots a
 * partition (past that the slot's lowest bit is the tag's highest).
 */
#include "table.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "spill.h"

/* Terms longer than CS_TERM_INLINE are copied into 1 MiB blocks. */
#define ARENA_BLOCK (1u << 20)
/* First slot array of a partition: small, since most corpora leave many of
 * the 64 x orders x threads partitions nearly empty. */
#define PART_INIT_SLOTS 64u

struct cs_arena_block {
    cs_arena_block *next;
    size_t used, cap;
    uint8_t data[];
};

_Static_assert(sizeof(cs_term) == 64, "a term entry is one cache line");

cs_table *cs_table_new(unsigned order)
{
    assert(order >= 1);
    cs_table *t = cs_xcalloc(1, sizeof *t);
    t->order = order;
    t->stride = order == 1 ? sizeof(cs_term) : cs_gram_stride(order);
    for (unsigned i = 0; i < CS_N_PARTS; i++) {
        cs_part *p = &t->part[i];
        p->mask = PART_INIT_SLOTS - 1;
        p->slots = cs_xcalloc(PART_INIT_SLOTS, sizeof *p->slots);
    }
    return t;
}

void cs_table_free(cs_table *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < CS_N_PARTS; i++) {
        free(t->part[i].slots);
        free(t->part[i].entries);
    }
    cs_arena_block *b = t->arena;
    while (b) {
        cs_arena_block *next = b->next;
        free(b);
        b = next;
    }
    for (size_t g = 0; g < t->n_gens; g++)
        cs_pack_free(&t->gens[g]);
    free(t->gens);
    free(t);
}

void cs_table_new_generation(cs_table *t, cs_spill_file *f)
{
    assert(t->order == 1);
    cs_buf b = {0};
    cs_pack pk;
    memset(&pk, 0, sizeof pk);
    for (unsigned i = 0; i < CS_N_PARTS; i++) {
        cs_part *p = &t->part[i];
        pk.off[i] = b.len;
        pk.n[i] = p->n;
        for (uint32_t k = 0; k < p->n; k++) {
            const cs_term *e = cs_part_entry(p, sizeof(cs_term), k);
            cs_buf_reserve(&b, (size_t)e->len + 8 + 4 * 10);
            uint8_t *d = b.data + b.len;
            memcpy(d, &e->hash, 8); /* the counter's hash: tests mask it */
            d = cs_put_varint(d + 8, e->len);
            memcpy(d, cs_term_bytes(e), e->len);
            d = cs_put_varint(d + e->len, cs_zigzag(e->c.count));
            d = cs_put_varint(d, cs_zigzag(e->c.docs));
            d = cs_put_varint(d, e->id);
            b.len = (size_t)(d - b.data);
        }
        /* The room stays: the next generation fills it again, and
         * regrowing it from nothing would rehash every partition again. */
        memset(p->slots, 0, ((size_t)p->mask + 1) * sizeof *p->slots);
        p->n = 0;
    }
    pk.off[CS_N_PARTS] = b.len;
    pk.bytes = b.len ? b.data : cs_xmalloc(1);
    cs_arena_block *a = t->arena;
    while (a) {
        cs_arena_block *next = a->next;
        free(a);
        a = next;
    }
    t->arena = NULL;
    t->arena_bytes = 0;
    t->gen_first_id = t->next_id;
    if (f)
        cs_spill_pack(f, &pk, 1);
    t->gens = cs_xrealloc(t->gens, (t->n_gens + 1) * sizeof *t->gens);
    t->gens[t->n_gens++] = pk;
}

static const uint8_t *arena_copy(cs_table *t, const uint8_t *p, uint32_t len)
{
    cs_arena_block *b = t->arena;
    if (!b || b->cap - b->used < len) {
        size_t cap = len > ARENA_BLOCK ? len : ARENA_BLOCK;
        cs_arena_block *nb = cs_xmalloc(sizeof *nb + cap);
        nb->used = 0;
        nb->cap = cap;
        nb->next = b;
        t->arena = b = nb;
    }
    uint8_t *d = b->data + b->used;
    memcpy(d, p, len);
    b->used += len;
    t->arena_bytes += len;
    return d;
}

/* Every probe is a random access: large arrays go on huge pages
 * (cs_xhuge); an entry array is 64-byte aligned, a term entry one line. */
static void *table_alloc(size_t n, int zero)
{
    void *p = cs_xhuge(n);
    if (zero)
        memset(p, 0, n);
    return p;
}

/* Rehashes partition p into mask + 1 slots (more than it has). */
static void part_grow(cs_part *p, size_t stride, uint32_t mask)
{
    assert(mask > p->mask && mask < (1u << CS_ID_BITS) * 2u);
    cs_slot *slots = table_alloc(((size_t)mask + 1) * sizeof *slots, 1);
    for (uint32_t i = 0; i < p->n; i++) {
        uint64_t h = *(const uint64_t *)cs_part_entry(p, stride, i); /* hash leads every term entry */
        uint32_t s = cs_slot_of(h, mask);
        while (slots[s].idx1)
            s = (s + 1) & mask;
        slots[s].idx1 = i + 1;
        slots[s].tag = (uint32_t)h;
    }
    free(p->slots);
    p->slots = slots;
    p->mask = mask;
}

/* Appends an entry with zero counts to the partition and points slot s at
 * it; the caller fills the key. */
static void *part_append(cs_part *p, size_t stride, uint32_t s, uint64_t hash)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        uint8_t *e = table_alloc((size_t)p->cap * stride, 0);
        if (p->n)
            memcpy(e, p->entries, (size_t)p->n * stride);
        free(p->entries);
        p->entries = e;
    }
    cs_term *e = cs_part_entry(p, stride, p->n); /* a term entry starts with hash and cs_cnt */
    e->hash = hash;
    e->c.count = 0;
    e->c.docs = 0;
    e->c.last_doc = 0;
    p->slots[s].idx1 = ++p->n;
    p->slots[s].tag = (uint32_t)hash;
    return e;
}

/* Load stays under 0.7: linear probing degrades past that. */
static inline int over_load(uint64_t keys, uint32_t mask)
{
    return keys * 10 > ((uint64_t)mask + 1) * 7;
}

static inline int needs_grow(const cs_part *p)
{
    return over_load((uint64_t)p->n + 1, p->mask);
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Inline equality for the short keys terms are: no memcmp call per probe. */
static inline int bytes_equal(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    if (n < 8) {
        for (uint32_t i = 0; i < n; i++)
            if (a[i] != b[i])
                return 0;
        return 1;
    }
    const uint32_t last = n - 8; /* the last 8 bytes, overlapping what came before */
    for (uint32_t i = 0; i < last; i += 8)
        if (load64(a + i) != load64(b + i))
            return 0;
    return load64(a + last) == load64(b + last);
}

const cs_term *cs_table_find_term(const cs_table *t, uint64_t hash, const uint8_t *key,
                                  uint32_t len)
{
    const cs_part *p = &t->part[cs_part_of(hash)];
    if (!p->slots)
        return NULL;
    for (uint32_t s = cs_slot_of(hash, p->mask); p->slots[s].idx1; s = (s + 1) & p->mask) {
        const cs_term *e = cs_part_entry(p, sizeof(cs_term), p->slots[s].idx1 - 1);
        if (e->hash == hash && e->len == len && bytes_equal(cs_term_bytes(e), key, len))
            return e;
    }
    return NULL;
}

cs_term *cs_table_term(cs_table *t, uint64_t hash, const uint8_t *key, uint32_t len, int copy,
                       int *is_new)
{
    cs_part *p = &t->part[cs_part_of(hash)];
    uint32_t tag = (uint32_t)hash;
    uint32_t s = cs_slot_of(hash, p->mask);
    for (;;) {
        uint32_t idx1 = p->slots[s].idx1;
        if (!idx1)
            break;
        if (p->slots[s].tag == tag) {
            cs_term *e = cs_part_entry(p, sizeof(cs_term), idx1 - 1);
            if (e->hash == hash && e->len == len && bytes_equal(cs_term_bytes(e), key, len)) {
                *is_new = 0;
                return e;
            }
        }
        s = (s + 1) & p->mask;
    }
    if (needs_grow(p)) {
        part_grow(p, sizeof(cs_term), p->mask * 2 + 1);
        s = cs_slot_of(hash, p->mask);
        while (p->slots[s].idx1)
            s = (s + 1) & p->mask;
    }
    cs_term *e = part_append(p, sizeof(cs_term), s, hash);
    if (len <= CS_TERM_INLINE)
        memcpy(e->key.in, key, len);
    else
        e->key.ptr = copy ? arena_copy(t, key, len) : key;
    e->len = len;
    e->id = t->next_id++;
    *is_new = 1;
    return e;
}

uint64_t cs_table_size(const cs_table *t)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < CS_N_PARTS; i++)
        n += t->part[i].n;
    return n;
}

void cs_partmap_set(cs_partmap *m, uint32_t id, unsigned part)
{
    assert(part < CS_N_PARTS);
    if (id >= m->cap) {
        size_t n = m->cap ? m->cap : 1024;
        while (n <= id)
            n *= 2;
        m->part = cs_xrealloc(m->part, n);
        m->cap = n;
    }
    m->part[id] = (uint8_t)part;
    if (id >= m->n_ids)
        m->n_ids = (uint64_t)id + 1;
}

void cs_partmap_free(cs_partmap *m)
{
    if (!m)
        return;
    free(m->part);
    memset(m, 0, sizeof *m);
}
