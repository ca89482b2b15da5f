/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pprof_enc.h - the pieces pprof.c builds profile.proto with: a protobuf
 * writer with a sticky error and a size cap (PPROF_MAX_BYTES), and the
 * tables that give strings, mappings, functions and locations their ids.
 * For pprof.c only.
 */
#ifndef MEMSIGHT_PPROF_ENC_H
#define MEMSIGHT_PPROF_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WT_VARINT	0
#define WT_LEN		2

struct pb {
	uint8_t *d;
	size_t n, cap;
	int err;	/* sticky: the first error wins, later writes are no-ops */
};

/*
 * Open-addressing index from a hash to entry numbers (stored +1, 0 = free):
 * the tables below keep their entries in arrays in id order, which is the
 * order they are written in, and use this only to find duplicates.
 */
struct hidx {
	uint32_t *slots;
	size_t nslots;	/* power of two, at least twice the entries */
};

/* string_table: index 0 is "" as profile.proto demands */
struct strtab {
	char **s;
	size_t n, cap;
	struct hidx idx;
};

/* Mappings, functions and locations: a small key, a small payload, id = index + 1. */
struct ent {
	uint64_t k[2];
	uint64_t v[4];
};

struct enttab {
	struct ent *e;
	size_t n, cap;
	struct hidx idx;
};


/* proto3 scalars: a zero value is the default and is left out */
void pb__u64(struct pb *b, unsigned int field, uint64_t v);
void pb__bytes(struct pb *b, unsigned int field, const void *p, size_t n);
/* sub as a nested message of b, then sub emptied for the next one */
void pb__msg(struct pb *b, unsigned int field, struct pb *sub);
void pb__packed(struct pb *b, unsigned int field, const uint64_t *v, size_t n);

/* Index of s (NULL counts as ""), interning it; -errno on failure. */
int64_t strtab__intern(struct strtab *t, const char *s);
void strtab__free(struct strtab *t);

/* Entry for key (found or zero-filled new); NULL + *ret_err on failure. */
struct ent *enttab__get(struct enttab *t, uint64_t k0, uint64_t k1, bool *ret_new, int *ret_err);
void enttab__free(struct enttab *t);

#endif
