// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A pprof profile read back for `memsight diff`: gunzipped (capped), decoded
 * by libprotobuf-c (capped), then every sample keyed as report_read.c keys a
 * JSON report's stacks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "export/pprof_read.h"
#include "export/profile.pb-c.h"
#include "export/report_read.h"
#include "model/model.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Function Function;
typedef Perftools__Profiles__Mapping Mapping;

struct reader {
	const Profile *pf;
	struct diff_report *r;
	unsigned int flags;
	char *err;
	size_t errlen;
	int vi[DIFF_METRICS];		/* the value index of each metric, -1: none */
	struct by_id *locs, *funcs, *maps;
	/* a "process" label's string index -> its diff_proc's index + 1 (0: not yet) */
	size_t *proc_of_str;
	size_t default_proc;		/* the same for samples without the label */
	char *key;
	/* the keys' bytes so far: a profile names frames by index, so a small one could
	 * make huge keys; capped at what a JSON report may hold */
	size_t key_bytes;
};

static int fail(struct reader *rd, int e, const char *fmt, ...)
{
	va_list ap;

	if (rd->errlen) {
		va_start(ap, fmt);
		vsnprintf(rd->err, rd->errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

bool pprof_read__is_pprof(const char *buf, size_t len)
{
	size_t i = 0;

	if (len >= 2 && (uint8_t)buf[0] == 0x1f && (uint8_t)buf[1] == 0x8b)
		return true;
	while (i < len && strchr(" \t\r\n", buf[i]) && buf[i])
		i++;
	return i == len || (buf[i] != '{' && buf[i] != '[');
}

/* buf gunzipped into *ret (at most PPROF_READ_MAX_BYTES), or copied when it is not gzip. */
static int gunzip(struct reader *rd, const void *buf, size_t len, uint8_t **ret, size_t *ret_len)
{
	const uint8_t *in = buf;
	z_stream zs = {};
	size_t cap = 0, n = 0;
	uint8_t *out = NULL, *o;
	int z, e = 0;

	if (len > PPROF_READ_MAX_BYTES && (len < 2 || in[0] != 0x1f || in[1] != 0x8b))
		return fail(rd, -E2BIG, "more than %u bytes", PPROF_READ_MAX_BYTES);
	if (len < 2 || in[0] != 0x1f || in[1] != 0x8b) {
		*ret = malloc(len ?: 1);
		if (!*ret)
			return -ENOMEM;
		memcpy(*ret, buf, len);
		*ret_len = len;
		return 0;
	}
	if (len > UINT32_MAX)
		return fail(rd, -E2BIG, "more than 4 GiB");
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -ENOMEM;
	zs.next_in = (uint8_t *)in;
	zs.avail_in = (uInt)len;
	for (;;) {
		if (n == cap) {
			if (cap > PPROF_READ_MAX_BYTES) {
				e = fail(rd, -E2BIG, "more than %u bytes gunzipped",
					 PPROF_READ_MAX_BYTES);
				break;
			}
			cap = cap ? cap * 2 : 1 << 16;
			if (cap > PPROF_READ_MAX_BYTES + 1)
				cap = PPROF_READ_MAX_BYTES + 1;
			o = realloc(out, cap);
			if (!o) {
				e = -ENOMEM;
				break;
			}
			out = o;
		}
		zs.next_out = out + n;
		zs.avail_out = (uInt)(cap - n);
		z = inflate(&zs, Z_NO_FLUSH);
		n = cap - zs.avail_out;
		if (z == Z_STREAM_END)
			break;
		/* no progress with room left: the input ended early */
		if (z != Z_OK && !(z == Z_BUF_ERROR && !zs.avail_out)) {
			e = fail(rd, -EINVAL, "not valid gzip (%s)", zs.msg ?: "truncated");
			break;
		}
	}
	inflateEnd(&zs);
	if (!e && n > PPROF_READ_MAX_BYTES)
		e = fail(rd, -E2BIG, "more than %u bytes gunzipped", PPROF_READ_MAX_BYTES);
	if (e) {
		free(out);
		return e;
	}
	*ret = out;
	*ret_len = n;
	return 0;
}

/* libprotobuf-c's allocations, counted against PPROF_READ_MAX_MEM (a hostile profile's
 * many tiny messages would otherwise take many times its size) */
static void *capped_alloc(void *data, size_t size)
{
	uint64_t *used = data;

	if (size > PPROF_READ_MAX_MEM - *used)
		return NULL;
	*used += size;
	return malloc(size);
}

static void capped_free(void *data, void *p)
{
	free(p);
}

/* string_table[i], or NULL when i is out of it */
static const char *str(const struct reader *rd, int64_t i)
{
	if (i < 0 || (uint64_t)i >= rd->pf->n_string_table)
		return NULL;
	return rd->pf->string_table[i];
}

/* A table's entries by id (ids need not be 1..n): sorted, then searched. */
struct by_id {
	uint64_t id;
	const void *p;
};

static int by_id_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct by_id *)a)->id, y = ((const struct by_id *)b)->id;

	return x < y ? -1 : x > y;
}

#define BY_ID(v, n, type)	by_id_new((const void *const *)(v), (n), offsetof(type, id))

/* For messages whose id is the uint64_t at offset off; NULL (ENOMEM). */
static struct by_id *by_id_new(const void *const *v, size_t n, size_t off)
{
	struct by_id *t = calloc(n ?: 1, sizeof(*t));

	for (size_t i = 0; t && i < n; i++) {
		t[i].p = v[i];
		memcpy(&t[i].id, (const char *)v[i] + off, sizeof(t[i].id));
	}
	if (t)
		qsort(t, n, sizeof(*t), by_id_cmp);
	return t;
}

static const void *find_id(const struct by_id *t, size_t n, uint64_t id)
{
	struct by_id k = { .id = id };
	const struct by_id *f = bsearch(&k, t, n, sizeof(*t), by_id_cmp);

	return f ? f->p : NULL;
}

/* One location's frames (each Line, innermost first) appended to the key. */
static int location_key(struct reader *rd, const Location *l, size_t *len)
{
	const Mapping *m = l->mapping_id ? find_id(rd->maps, rd->pf->n_mapping,
						   l->mapping_id) : NULL;
	const char *mod = m ? str(rd, m->filename) : "";
	char off[24] = "";
	int err = 0;

	if (!mod)
		return fail(rd, -EINVAL, "mapping %" PRIu64 ": filename out of the string table",
			    m->id);
	if (m && l->address >= m->memory_start)
		snprintf(off, sizeof(off), "0x%" PRIx64, l->address - m->memory_start +
			 m->file_offset);
	if (!l->n_line)
		return diff__frame_key(rd->key, len, "", "", 0, mod, off, false);
	for (size_t i = 0; !err && i < l->n_line; i++) {
		const Function *f = find_id(rd->funcs, rd->pf->n_function,
					    l->line[i]->function_id);
		const char *name = f ? str(rd, f->name) : "", *file = f ? str(rd, f->filename) : "";

		if (!name || !file)
			return fail(rd, -EINVAL, "function %" PRIu64 ": name or filename out of "
				    "the string table", f->id);
		err = diff__frame_key(rd->key, len, name, file,
				      l->line[i]->line > 0 ? (uint64_t)l->line[i]->line : 0,
				      mod, off, rd->flags & REPORT_READ_FUNCS_ONLY);
	}
	return err;
}

/* The value of a string label of s, "" when it has none, NULL on a bad index. */
static const char *label(const struct reader *rd, const Sample *s, const char *key,
			 int64_t *ret_idx)
{
	for (size_t i = 0; i < s->n_label; i++) {
		const char *k = str(rd, s->label[i]->key);

		if (!k)
			return NULL;
		if (strcmp(k, key) || !s->label[i]->str)
			continue;
		*ret_idx = s->label[i]->str;
		return str(rd, s->label[i]->str);
	}
	*ret_idx = -1;
	return "";
}

/* The process of a sample: by its "process" label, each name looked up once. */
static struct diff_proc *sample_proc(struct reader *rd, const Sample *s, size_t i)
{
	const Mapping *main_map = rd->pf->n_mapping ? rd->pf->mapping[0] : NULL;
	int64_t at;
	const char *lab = label(rd, s, "process", &at);
	size_t *slot = at >= 0 ? &rd->proc_of_str[at] : &rd->default_proc;
	struct diff_proc *p;
	char *name;

	if (!lab) {
		fail(rd, -EINVAL, "sample %zu: a label out of the string table", i);
		return errno = EINVAL, NULL;
	}
	if (*slot)
		return &rd->r->procs[*slot - 1];
	if (*lab)
		name = strdup(lab);
	else
		name = diff__proc_name(NULL, main_map ? str(rd, main_map->filename) : NULL);
	if (!name)
		return errno = ENOMEM, NULL;
	p = diff_report__proc(rd->r, name);
	free(name);
	if (!p && errno == E2BIG)
		fail(rd, -E2BIG, "more than %u processes", DIFF_MAX_PROCS);
	if (p)
		*slot = (size_t)(p - rd->r->procs) + 1;
	return p;
}

static int read_sample(struct reader *rd, const Sample *s, size_t i)
{
	uint64_t bytes[DIFF_METRICS] = {};
	const char *kind;
	struct diff_proc *p;
	size_t len = 0;
	int64_t at;
	int err;

	for (int m = 0; m < DIFF_METRICS; m++) {
		if (rd->vi[m] < 0)
			continue;
		if ((size_t)rd->vi[m] >= s->n_value)
			return fail(rd, -EINVAL, "sample %zu: %zu values for %zu sample types", i,
				    s->n_value, rd->pf->n_sample_type);
		if (s->value[rd->vi[m]] < 0)
			return fail(rd, -EINVAL, "sample %zu: a negative value (a delta profile?)",
				    i);
		bytes[m] = (uint64_t)s->value[rd->vi[m]];
	}
	kind = label(rd, s, "kind", &at);
	if (!kind)
		return fail(rd, -EINVAL, "sample %zu: a label out of the string table", i);
	p = sample_proc(rd, s, i);
	if (!p)
		return errno == ENOMEM ? -ENOMEM : -errno;
	for (int m = 0; m < DIFF_METRICS; m++)
		p->total[m] = diff__sat_add(p->total[m], bytes[m]);
	err = diff__key_add(rd->key, &len, "%s", *kind ? kind : ms_kind__name(MS_KIND_GO_INUSE));
	for (size_t j = 0; !err && j < s->n_location_id; j++) {
		const Location *l = find_id(rd->locs, rd->pf->n_location,
					    s->location_id[j]);

		if (!l)
			return fail(rd, -EINVAL, "sample %zu: no location %" PRIu64, i,
				    s->location_id[j]);
		err = location_key(rd, l, &len);
	}
	if (err == -E2BIG)
		return fail(rd, err, "sample %zu: frames longer than %u bytes", i, DIFF_MAX_KEY);
	if (err)
		return err;
	rd->key_bytes += len + 1;
	if (rd->key_bytes > REPORT_READ_MAX_FILE)
		return fail(rd, -E2BIG, "sample %zu: the stacks' frames add up to more than %u bytes",
			    i, REPORT_READ_MAX_FILE);
	err = diff_report__add_stack(rd->r, p, rd->key, bytes);
	if (err == -E2BIG)
		return fail(rd, err, "more than %u stacks", DIFF_MAX_STACKS);
	return err;
}

/* Which values are inuse_space and alloc_space. */
static int sample_types(struct reader *rd)
{
	static const char *const names[DIFF_METRICS] = {
		[DIFF_INUSE] = "inuse_space", [DIFF_ALLOC] = "alloc_space",
	};
	bool any = false;

	for (int m = 0; m < DIFF_METRICS; m++) {
		rd->vi[m] = -1;
		for (size_t i = 0; i < rd->pf->n_sample_type && i < INT32_MAX; i++) {
			const char *t = str(rd, rd->pf->sample_type[i]->type);

			if (t && !strcmp(t, names[m]))
				rd->vi[m] = (int)i;
		}
		any |= rd->vi[m] >= 0;
	}
	if (!any)
		return fail(rd, -EINVAL, "not a heap profile: no inuse_space or alloc_space "
			    "sample type");
	return 0;
}

static int read_profile(struct reader *rd)
{
	const Profile *pf = rd->pf;
	int err;

	if (!pf->n_string_table || pf->string_table[0][0])
		return fail(rd, -EINVAL, "not a pprof profile: string_table[0] is not \"\"");
	err = sample_types(rd);
	if (err)
		return err;
	rd->locs = BY_ID(pf->location, pf->n_location, Location);
	rd->funcs = BY_ID(pf->function, pf->n_function, Function);
	rd->maps = BY_ID(pf->mapping, pf->n_mapping, Mapping);
	rd->proc_of_str = calloc(pf->n_string_table, sizeof(*rd->proc_of_str));
	rd->key = malloc(DIFF_MAX_KEY + 1);
	if (!rd->locs || !rd->funcs || !rd->maps || !rd->proc_of_str || !rd->key)
		return -ENOMEM;
	for (size_t i = 0; !err && i < pf->n_sample; i++)
		err = read_sample(rd, pf->sample[i], i);
	return err;
}

int pprof_read__parse(const void *buf, size_t len, unsigned int flags, struct diff_report *ret,
		      char *err, size_t errlen)
{
	struct reader rd = { .r = ret, .flags = flags, .err = err, .errlen = errlen };
	uint64_t used = 0;
	ProtobufCAllocator a = { capped_alloc, capped_free, &used };
	uint8_t *raw = NULL;
	size_t n = 0;
	Profile *pf;
	int e;

	memset(ret, 0, sizeof(*ret));
	if (errlen)
		err[0] = '\0';
	e = gunzip(&rd, buf, len, &raw, &n);
	if (e)
		return e;
	pf = perftools__profiles__profile__unpack(&a, n, raw);
	free(raw);
	if (!pf)
		return used >= PPROF_READ_MAX_MEM / 2 ?
		       fail(&rd, -E2BIG, "decoding takes more than %llu bytes", PPROF_READ_MAX_MEM) :
		       fail(&rd, -EINVAL, "not a pprof profile (profile.proto does not decode)");
	rd.pf = pf;
	e = read_profile(&rd);
	if (!e && !ret->nprocs)
		e = fail(&rd, -EINVAL, "no sample in it");
	free(rd.locs);
	free(rd.funcs);
	free(rd.maps);
	free(rd.proc_of_str);
	free(rd.key);
	perftools__profiles__profile__free_unpacked(pf, &a);
	if (e)
		diff_report__free(ret);
	else
		diff_report__finish(ret);
	return e;
}
