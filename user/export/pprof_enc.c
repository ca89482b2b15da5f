// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pprof_enc.c - protobuf writing and id tables for pprof.c (pprof_enc.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "export/pprof.h"
#include "export/pprof_enc.h"

/* ids are uint32 slots in the hash index; the byte cap binds long before this */
#define PPROF_MAX_ENTRIES (1u << 28)

/* ---- encoder ---------------------------------------------------------- */

static bool pb_reserve(struct pb *b, size_t more)
{
	size_t cap;
	uint8_t *d;

	if (b->err)
		return false;
	if (more > PPROF_MAX_BYTES || b->n + more > PPROF_MAX_BYTES) {
		b->err = -EFBIG;
		return false;
	}
	if (b->n + more <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->n + more)
		cap *= 2;
	d = realloc(b->d, cap);
	if (!d) {
		b->err = -ENOMEM;
		return false;
	}
	b->d = d;
	b->cap = cap;
	return true;
}

static void pb_raw(struct pb *b, const void *p, size_t n)
{
	if (!n || !pb_reserve(b, n))
		return;
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	pb_raw(b, tmp, n);
}

static void pb_key(struct pb *b, unsigned int field, unsigned int wt)
{
	pb_varint(b, (uint64_t)field << 3 | wt);
}

/* proto3 scalars: a zero value is the default and is left out */
void pb__u64(struct pb *b, unsigned int field, uint64_t v)
{
	if (!v)
		return;
	pb_key(b, field, WT_VARINT);
	pb_varint(b, v);
}

void pb__bytes(struct pb *b, unsigned int field, const void *p, size_t n)
{
	pb_key(b, field, WT_LEN);
	pb_varint(b, n);
	pb_raw(b, p, n);
}

void pb__msg(struct pb *b, unsigned int field, struct pb *sub)
{
	if (sub->err && !b->err)
		b->err = sub->err;
	pb__bytes(b, field, sub->d, sub->n);
	sub->n = 0;
	sub->err = 0;
}

void pb__packed(struct pb *b, unsigned int field, const uint64_t *v, size_t n)
{
	size_t len = 0;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		len += varint_len(v[i]);
	pb_key(b, field, WT_LEN);
	pb_varint(b, len);
	for (size_t i = 0; i < n; i++)
		pb_varint(b, v[i]);
}

/* ---- dedupe tables ---------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull


typedef bool (*hidx_eq_fn)(const void *ctx, uint32_t entry, const void *key);
typedef uint64_t (*hidx_hash_fn)(const void *ctx, uint32_t entry);

/* Slot holding key, or the free slot where it belongs. */
static uint32_t *hidx_slot(const struct hidx *h, uint64_t hash, const void *ctx,
			   hidx_eq_fn eq, const void *key)
{
	size_t mask = h->nslots - 1;

	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		uint32_t *s = &h->slots[i];

		if (!*s || eq(ctx, *s - 1, key))
			return s;
	}
}

/* Make room for entry number n (0-based) before it is added. */
static int hidx_grow(struct hidx *h, size_t n, const void *ctx, hidx_hash_fn hash)
{
	size_t nslots = h->nslots ? h->nslots : 64;
	uint32_t *slots;

	if (n >= PPROF_MAX_ENTRIES)
		return -EFBIG;
	if ((n + 1) * 2 <= h->nslots)
		return 0;
	while ((n + 1) * 2 > nslots)
		nslots *= 2;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (uint32_t e = 0; e < n; e++) {
		size_t mask = nslots - 1, i = hash(ctx, e) & mask;

		while (slots[i])
			i = (i + 1) & mask;
		slots[i] = e + 1;
	}
	free(h->slots);
	h->slots = slots;
	h->nslots = nslots;
	return 0;
}

struct strkey {
	const char *s;
	size_t len;
};

static bool str_eq(const void *ctx, uint32_t e, const void *key)
{
	const struct strtab *t = ctx;
	const struct strkey *k = key;

	return strlen(t->s[e]) == k->len && !memcmp(t->s[e], k->s, k->len);
}

static uint64_t str_hash(const void *ctx, uint32_t e)
{
	const struct strtab *t = ctx;

	return fnv1a(FNV_INIT, t->s[e], strlen(t->s[e]));
}

/* Index of s (NULL counts as ""), interning it; -errno on failure. */
int64_t strtab__intern(struct strtab *t, const char *s)
{
	struct strkey k = { s ? s : "", s ? strlen(s) : 0 };
	uint32_t *slot;
	int err;

	if (t->n && !k.len)
		return 0;
	err = hidx_grow(&t->idx, t->n, t, str_hash);
	if (err)
		return err;
	slot = hidx_slot(&t->idx, fnv1a(FNV_INIT, k.s, k.len), t, str_eq, &k);
	if (*slot)
		return *slot - 1;
	err = ms_array_grow(t->s, &t->cap, t->n, 64);
	if (err)
		return err;
	t->s[t->n] = strndup(k.s, k.len);
	if (!t->s[t->n])
		return -ENOMEM;
	*slot = t->n + 1;
	return t->n++;
}



static bool ent_eq(const void *ctx, uint32_t e, const void *key)
{
	const struct enttab *t = ctx;

	return !memcmp(t->e[e].k, key, sizeof(t->e[e].k));
}

static uint64_t ent_hash(const void *ctx, uint32_t e)
{
	const struct enttab *t = ctx;

	return fnv1a(FNV_INIT, t->e[e].k, sizeof(t->e[e].k));
}

/* Entry for key (found or zero-filled new); NULL + *ret_err on failure. */
struct ent *enttab__get(struct enttab *t, uint64_t k0, uint64_t k1, bool *ret_new, int *ret_err)
{
	uint64_t key[2] = { k0, k1 };
	uint32_t *slot;
	int err;

	*ret_new = false;
	err = hidx_grow(&t->idx, t->n, t, ent_hash);
	if (err)
		goto fail;
	slot = hidx_slot(&t->idx, fnv1a(FNV_INIT, key, sizeof(key)), t, ent_eq, key);
	if (*slot)
		return &t->e[*slot - 1];
	err = ms_array_grow(t->e, &t->cap, t->n, 64);
	if (err)
		goto fail;
	memset(&t->e[t->n], 0, sizeof(t->e[t->n]));
	memcpy(t->e[t->n].k, key, sizeof(key));
	*slot = t->n + 1;
	*ret_new = true;
	return &t->e[t->n++];
fail:
	*ret_err = err;
	return NULL;
}

void strtab__free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->idx.slots);
}

void enttab__free(struct enttab *t)
{
	free(t->e);
	free(t->idx.slots);
}
