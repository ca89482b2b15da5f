// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A small protobuf encoder for pprof's profile.proto (perftools.profiles).
 * Field numbers follow proto/profile.proto of github.com/google/pprof.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "export/folded.h"
#include "export/pprof.h"

/* message Profile */
#define PROFILE_SAMPLE_TYPE		1
#define PROFILE_SAMPLE			2
#define PROFILE_MAPPING			3
#define PROFILE_LOCATION		4
#define PROFILE_FUNCTION		5
#define PROFILE_STRING_TABLE		6
#define PROFILE_TIME_NANOS		9
#define PROFILE_DURATION_NANOS		10
#define PROFILE_PERIOD_TYPE		11
#define PROFILE_PERIOD			12
#define PROFILE_COMMENT			13
#define PROFILE_DEFAULT_SAMPLE_TYPE	14
/* message ValueType */
#define VALUETYPE_TYPE			1
#define VALUETYPE_UNIT			2
/* message Sample */
#define SAMPLE_LOCATION_ID		1
#define SAMPLE_VALUE			2
#define SAMPLE_LABEL			3
/* message Label */
#define LABEL_KEY			1
#define LABEL_STR			2
#define LABEL_NUM			3
#define LABEL_NUM_UNIT			4
/* message Mapping */
#define MAPPING_ID			1
#define MAPPING_MEMORY_START		2
#define MAPPING_MEMORY_LIMIT		3
#define MAPPING_FILE_OFFSET		4
#define MAPPING_FILENAME		5
#define MAPPING_BUILD_ID		6
#define MAPPING_HAS_FUNCTIONS		7
#define MAPPING_HAS_FILENAMES		8
#define MAPPING_HAS_LINE_NUMBERS	9
/* message Location */
#define LOCATION_ID			1
#define LOCATION_MAPPING_ID		2
#define LOCATION_ADDRESS		3
#define LOCATION_LINE			4
/* message Line */
#define LINE_FUNCTION_ID		1
#define LINE_LINE			2
/* message Function */
#define FUNCTION_ID			1
#define FUNCTION_NAME			2
#define FUNCTION_SYSTEM_NAME		3
#define FUNCTION_FILENAME		4

#define WT_VARINT	0
#define WT_LEN		2

/* ids are uint32 slots in the hash index; the byte cap binds long before this */
#define PPROF_MAX_ENTRIES (1u << 28)

/* ---- encoder ---------------------------------------------------------- */

struct pb {
	uint8_t *d;
	size_t n, cap;
	int err;	/* sticky: the first error wins, later writes are no-ops */
};

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
static void pb_u64(struct pb *b, unsigned int field, uint64_t v)
{
	if (!v)
		return;
	pb_key(b, field, WT_VARINT);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, unsigned int field, const void *p, size_t n)
{
	pb_key(b, field, WT_LEN);
	pb_varint(b, n);
	pb_raw(b, p, n);
}

static void pb_msg(struct pb *b, unsigned int field, struct pb *sub)
{
	if (sub->err && !b->err)
		b->err = sub->err;
	pb_bytes(b, field, sub->d, sub->n);
	sub->n = 0;
	sub->err = 0;
}

static void pb_packed(struct pb *b, unsigned int field, const uint64_t *v, size_t n)
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

/*
 * Open-addressing index from a hash to entry numbers (stored +1, 0 = free):
 * the tables below keep their entries in arrays in id order, which is the
 * order they are written in, and use this only to find duplicates.
 */
struct hidx {
	uint32_t *slots;
	size_t nslots;	/* power of two, at least twice the entries */
};

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

static int grow_array(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	nv = reallocarray(*v, ncap, size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* string_table: index 0 is "" as profile.proto demands */
struct strtab {
	char **s;
	size_t n, cap;
	struct hidx idx;
};

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
static int64_t str_intern(struct strtab *t, const char *s)
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
	err = grow_array((void **)&t->s, &t->cap, t->n, sizeof(*t->s));
	if (err)
		return err;
	t->s[t->n] = strndup(k.s, k.len);
	if (!t->s[t->n])
		return -ENOMEM;
	*slot = t->n + 1;
	return t->n++;
}

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
static struct ent *ent_get(struct enttab *t, uint64_t k0, uint64_t k1, bool *ret_new, int *ret_err)
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
	err = grow_array((void **)&t->e, &t->cap, t->n, sizeof(*t->e));
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

/* ---- profile building ------------------------------------------------- */

enum {
	/* mapping payload: v[0] limit, v[1] file offset, v[2] build id, v[3] flags */
	MAP_HAS_FUNCTIONS = 1,
	MAP_HAS_FILENAMES = 2,
	MAP_HAS_LINES = 4,
};

/* the location of a stack the kernel could not give us: never a real mapping id */
#define NO_STACK_KEY UINT64_MAX

struct builder {
	struct strtab str;
	struct enttab maps;	/* k: filename, memory_start */
	struct enttab funcs;	/* k: name, filename */
	struct enttab locs;	/* k: mapping id, address; v: mapping id, function id, line */
	struct pb body;		/* samples, written as they are made */
	struct pb sub, sub2;	/* scratch for nested messages */
	uint64_t *ids;		/* one sample's location ids */
	int err;
};

static int64_t intern(struct builder *b, const char *s)
{
	int64_t i = str_intern(&b->str, s);

	if (i < 0 && !b->err)
		b->err = (int)i;
	return i < 0 ? 0 : i;
}

static uint64_t mapping_id(struct builder *b, const struct ms_frame *f)
{
	static const char hex[] = "0123456789abcdef";
	char bid[2 * sizeof(f->build_id) + 1];
	struct ent *m;
	bool fresh;
	int n;

	if (!f->module || !f->module[0] || f->map_end <= f->map_start)
		return 0;
	m = ent_get(&b->maps, intern(b, f->module), f->map_start, &fresh, &b->err);
	if (!m)
		return 0;
	if (fresh) {
		n = f->build_id_len;
		if (n < 0)
			n = 0;
		if (n > (int)sizeof(f->build_id))
			n = sizeof(f->build_id);
		for (int i = 0; i < n; i++) {
			bid[2 * i] = hex[f->build_id[i] >> 4];
			bid[2 * i + 1] = hex[f->build_id[i] & 15];
		}
		bid[2 * n] = '\0';
		m->v[0] = f->map_end;
		m->v[1] = f->map_pgoff;
		m->v[2] = intern(b, bid);
	}
	/* the flags tell pprof what it need not symbolise again itself */
	if (f->func)
		m->v[3] |= MAP_HAS_FUNCTIONS;
	if (f->file)
		m->v[3] |= MAP_HAS_FILENAMES;
	if (f->line > 0)
		m->v[3] |= MAP_HAS_LINES;
	return m - b->maps.e + 1;
}

static uint64_t function_id(struct builder *b, const char *name, const char *file)
{
	struct ent *fn;
	bool fresh;

	fn = ent_get(&b->funcs, intern(b, name), intern(b, file), &fresh, &b->err);
	return fn ? (uint64_t)(fn - b->funcs.e + 1) : 0;
}

static uint64_t location_id(struct builder *b, const struct ms_frame *f)
{
	uint64_t map = mapping_id(b, f);
	/* without a name there is no Line: pprof then shows the address */
	uint64_t fn = f->func ? function_id(b, f->func, f->file) : 0;
	struct ent *loc;
	bool fresh;

	/* functions inlined at one address are locations of their own there */
	loc = ent_get(&b->locs, map | fn << 32, f->addr, &fresh, &b->err);
	if (!loc)
		return 0;
	if (fresh) {
		loc->v[0] = map;
		loc->v[1] = fn;
		loc->v[2] = fn && f->line > 0 ? (uint64_t)f->line : 0;
	}
	return loc - b->locs.e + 1;
}

static uint64_t no_stack_location(struct builder *b)
{
	struct ent *loc;
	bool fresh;

	loc = ent_get(&b->locs, NO_STACK_KEY, 0, &fresh, &b->err);
	if (!loc)
		return 0;
	if (fresh)
		loc->v[1] = function_id(b, "[unknown stack]", NULL);
	return loc - b->locs.e + 1;
}

static uint64_t clamp_i64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : v;
}

static void add_sample(struct builder *b, const struct ms_profile *p, const struct ms_stack *s)
{
	uint64_t vals[4] = {
		folded__stack_value(p, s, FOLDED_ALLOC_COUNT),
		folded__stack_value(p, s, FOLDED_ALLOC_BYTES),
		folded__stack_value(p, s, FOLDED_INUSE_COUNT),
		folded__stack_value(p, s, FOLDED_INUSE_BYTES),
	};
	uint32_t n = 0;

	if (!vals[0] && !vals[1] && !vals[2] && !vals[3])
		return;
	for (int i = 0; i < 4; i++)
		vals[i] = clamp_i64(vals[i]);
	if (!s->nframes)
		b->ids[n++] = no_stack_location(b);
	for (uint32_t i = 0; i < s->nframes; i++)
		b->ids[n++] = location_id(b, &s->frames[i]);
	if (b->err)
		return;

	pb_packed(&b->sub, SAMPLE_LOCATION_ID, b->ids, n);
	pb_packed(&b->sub, SAMPLE_VALUE, vals, 4);
	pb_u64(&b->sub2, LABEL_KEY, intern(b, "kind"));
	pb_u64(&b->sub2, LABEL_STR, intern(b, ms_kind__name(s->kind)));
	pb_msg(&b->sub, SAMPLE_LABEL, &b->sub2);
	/* the block size label pprof's -tagfocus understands, as Go writes it */
	if (s->alloc_count && s->alloc_bytes >= s->alloc_count) {
		pb_u64(&b->sub2, LABEL_KEY, intern(b, "bytes"));
		pb_u64(&b->sub2, LABEL_NUM, clamp_i64(s->alloc_bytes / s->alloc_count));
		pb_u64(&b->sub2, LABEL_NUM_UNIT, intern(b, "bytes"));
		pb_msg(&b->sub, SAMPLE_LABEL, &b->sub2);
	}
	pb_msg(&b->body, PROFILE_SAMPLE, &b->sub);
}

static void value_type(struct builder *b, unsigned int field, const char *type, const char *unit)
{
	pb_u64(&b->sub, VALUETYPE_TYPE, intern(b, type));
	pb_u64(&b->sub, VALUETYPE_UNIT, intern(b, unit));
	pb_msg(&b->body, field, &b->sub);
}

static void emit_tables(struct builder *b)
{
	for (size_t i = 0; i < b->maps.n; i++) {
		const struct ent *m = &b->maps.e[i];

		pb_u64(&b->sub, MAPPING_ID, i + 1);
		pb_u64(&b->sub, MAPPING_MEMORY_START, m->k[1]);
		pb_u64(&b->sub, MAPPING_MEMORY_LIMIT, m->v[0]);
		pb_u64(&b->sub, MAPPING_FILE_OFFSET, m->v[1]);
		pb_u64(&b->sub, MAPPING_FILENAME, m->k[0]);
		pb_u64(&b->sub, MAPPING_BUILD_ID, m->v[2]);
		pb_u64(&b->sub, MAPPING_HAS_FUNCTIONS, !!(m->v[3] & MAP_HAS_FUNCTIONS));
		pb_u64(&b->sub, MAPPING_HAS_FILENAMES, !!(m->v[3] & MAP_HAS_FILENAMES));
		pb_u64(&b->sub, MAPPING_HAS_LINE_NUMBERS, !!(m->v[3] & MAP_HAS_LINES));
		pb_msg(&b->body, PROFILE_MAPPING, &b->sub);
	}
	for (size_t i = 0; i < b->locs.n; i++) {
		const struct ent *l = &b->locs.e[i];

		pb_u64(&b->sub, LOCATION_ID, i + 1);
		pb_u64(&b->sub, LOCATION_MAPPING_ID, l->v[0]);
		pb_u64(&b->sub, LOCATION_ADDRESS, l->k[0] == NO_STACK_KEY ? 0 : l->k[1]);
		if (l->v[1]) {
			pb_u64(&b->sub2, LINE_FUNCTION_ID, l->v[1]);
			pb_u64(&b->sub2, LINE_LINE, l->v[2]);
			pb_msg(&b->sub, LOCATION_LINE, &b->sub2);
		}
		pb_msg(&b->body, PROFILE_LOCATION, &b->sub);
	}
	for (size_t i = 0; i < b->funcs.n; i++) {
		const struct ent *f = &b->funcs.e[i];

		pb_u64(&b->sub, FUNCTION_ID, i + 1);
		pb_u64(&b->sub, FUNCTION_NAME, f->k[0]);
		/* we only keep the demangled name; it is also what the system calls it here */
		pb_u64(&b->sub, FUNCTION_SYSTEM_NAME, f->k[0]);
		pb_u64(&b->sub, FUNCTION_FILENAME, f->k[1]);
		pb_msg(&b->body, PROFILE_FUNCTION, &b->sub);
	}
	/* last, so every string interned above is in it */
	for (size_t i = 0; i < b->str.n; i++)
		pb_bytes(&b->body, PROFILE_STRING_TABLE, b->str.s[i], strlen(b->str.s[i]));
}

static int build(struct builder *b, const struct ms_profile *p)
{
	uint32_t maxframes = 1;
	struct timespec now;
	uint64_t comment, now_ns;
	char *text;

	intern(b, "");
	for (size_t i = 0; i < p->nstacks; i++) {
		if (p->stacks[i].nframes > maxframes)
			maxframes = p->stacks[i].nframes;
	}
	b->ids = calloc(maxframes, sizeof(*b->ids));
	if (!b->ids)
		return -ENOMEM;

	value_type(b, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(b, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(b, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(b, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	pb_u64(&b->body, PROFILE_DEFAULT_SAMPLE_TYPE, intern(b, "inuse_space"));
	value_type(b, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb_u64(&b->body, PROFILE_PERIOD, p->sample_period ? clamp_i64(p->sample_period) : 1);

	/* pprof treats mapping[0] as the main binary: make it the executable's */
	for (size_t i = 0; p->exe && !b->maps.n && i < p->nstacks; i++) {
		for (uint32_t j = 0; j < p->stacks[i].nframes; j++) {
			const struct ms_frame *f = &p->stacks[i].frames[j];

			if (f->module && !strcmp(f->module, p->exe) && mapping_id(b, f))
				break;
		}
	}
	for (size_t i = 0; i < p->nstacks && !b->err && !b->body.err; i++)
		add_sample(b, p, &p->stacks[i]);

	if (asprintf(&text, "memsight pid %d comm %s", (int)p->pid, p->comm) < 0)
		return -ENOMEM;
	comment = intern(b, text);
	free(text);
	pb_packed(&b->body, PROFILE_COMMENT, &comment, 1);
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	/* the model is a snapshot taken now: observation started duration_ns ago */
	pb_u64(&b->body, PROFILE_TIME_NANOS,
	       clamp_i64(now_ns > p->duration_ns ? now_ns - p->duration_ns : 0));
	pb_u64(&b->body, PROFILE_DURATION_NANOS, clamp_i64(p->duration_ns));
	if (b->err)
		return b->err;
	emit_tables(b);
	return b->body.err ? b->body.err : b->err;
}

static int gzip_to(const struct pb *body, FILE *out)
{
	uint8_t buf[16384];
	z_stream zs = {};
	int ret, err = 0;

	/* windowBits 15 + 16: a gzip header and trailer, as profile.proto files have */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	zs.next_in = body->d;
	zs.avail_in = body->n;	/* <= PPROF_MAX_BYTES, fits uInt */
	do {
		size_t have;

		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		ret = deflate(&zs, Z_FINISH);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
			err = -EIO;
			break;
		}
		have = sizeof(buf) - zs.avail_out;
		if (have && fwrite(buf, 1, have, out) != have) {
			err = -EIO;
			break;
		}
	} while (ret != Z_STREAM_END);
	deflateEnd(&zs);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}

int pprof__write(const struct ms_profile *p, FILE *out)
{
	struct builder b = {};
	int err;

	err = build(&b, p);
	if (!err)
		err = gzip_to(&b.body, out);

	for (size_t i = 0; i < b.str.n; i++)
		free(b.str.s[i]);
	free(b.str.s);
	free(b.str.idx.slots);
	free(b.maps.e);
	free(b.maps.idx.slots);
	free(b.funcs.e);
	free(b.funcs.idx.slots);
	free(b.locs.e);
	free(b.locs.idx.slots);
	free(b.body.d);
	free(b.sub.d);
	free(b.sub2.d);
	free(b.ids);
	return err;
}
