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
#include "export/pprof_enc.h"
#include "model/diff.h"

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

/* values a sample carries at most */
#define PPROF_VALUES_MAX 4

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
	char *proc;		/* the "process" label of the samples, or NULL */
	char pid[16];		/* ... and their "pid" */
	int err;
};

static int64_t intern(struct builder *b, const char *s)
{
	int64_t i = strtab__intern(&b->str, s);

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
	m = enttab__get(&b->maps, intern(b, f->module), f->map_start, &fresh, &b->err);
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

	fn = enttab__get(&b->funcs, intern(b, name), intern(b, file), &fresh, &b->err);
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
	loc = enttab__get(&b->locs, map | fn << 32, f->addr, &fresh, &b->err);
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

	loc = enttab__get(&b->locs, NO_STACK_KEY, 0, &fresh, &b->err);
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

/* One sample: its frames (or the unknown stack), values and labels. */
static void add_sample(struct builder *b, const struct ms_frame *frames, uint32_t nframes,
		       const int64_t *vals, unsigned int nvals, const char *const *labels)
{
	uint64_t v[PPROF_VALUES_MAX];
	uint32_t n = 0;
	bool any = false;

	for (unsigned int i = 0; i < nvals; i++) {
		v[i] = (uint64_t)vals[i];	/* int64 on the wire: a negative is 10 bytes */
		any |= vals[i] != 0;
	}
	if (!any)
		return;
	if (!nframes)
		b->ids[n++] = no_stack_location(b);
	for (uint32_t i = 0; i < nframes; i++)
		b->ids[n++] = location_id(b, &frames[i]);
	if (b->err)
		return;
	pb__packed(&b->sub, SAMPLE_LOCATION_ID, b->ids, n);
	pb__packed(&b->sub, SAMPLE_VALUE, v, nvals);
	for (; labels && labels[0]; labels += 2) {
		if (!labels[1])
			continue;
		pb__u64(&b->sub2, LABEL_KEY, intern(b, labels[0]));
		pb__u64(&b->sub2, LABEL_STR, intern(b, labels[1]));
		pb__msg(&b->sub, SAMPLE_LABEL, &b->sub2);
	}
	if (nvals == 4 && vals[0] > 0 && vals[1] >= vals[0]) {
		/* the block size label pprof's -tagfocus understands, as Go writes it */
		pb__u64(&b->sub2, LABEL_KEY, intern(b, "bytes"));
		pb__u64(&b->sub2, LABEL_NUM, (uint64_t)(vals[1] / vals[0]));
		pb__u64(&b->sub2, LABEL_NUM_UNIT, intern(b, "bytes"));
		pb__msg(&b->sub, SAMPLE_LABEL, &b->sub2);
	}
	pb__msg(&b->body, PROFILE_SAMPLE, &b->sub);
}

static void value_type(struct builder *b, unsigned int field, const char *type, const char *unit)
{
	pb__u64(&b->sub, VALUETYPE_TYPE, intern(b, type));
	pb__u64(&b->sub, VALUETYPE_UNIT, intern(b, unit));
	pb__msg(&b->body, field, &b->sub);
}

static void emit_tables(struct builder *b)
{
	for (size_t i = 0; i < b->maps.n; i++) {
		const struct ent *m = &b->maps.e[i];

		pb__u64(&b->sub, MAPPING_ID, i + 1);
		pb__u64(&b->sub, MAPPING_MEMORY_START, m->k[1]);
		pb__u64(&b->sub, MAPPING_MEMORY_LIMIT, m->v[0]);
		pb__u64(&b->sub, MAPPING_FILE_OFFSET, m->v[1]);
		pb__u64(&b->sub, MAPPING_FILENAME, m->k[0]);
		pb__u64(&b->sub, MAPPING_BUILD_ID, m->v[2]);
		pb__u64(&b->sub, MAPPING_HAS_FUNCTIONS, !!(m->v[3] & MAP_HAS_FUNCTIONS));
		pb__u64(&b->sub, MAPPING_HAS_FILENAMES, !!(m->v[3] & MAP_HAS_FILENAMES));
		pb__u64(&b->sub, MAPPING_HAS_LINE_NUMBERS, !!(m->v[3] & MAP_HAS_LINES));
		pb__msg(&b->body, PROFILE_MAPPING, &b->sub);
	}
	for (size_t i = 0; i < b->locs.n; i++) {
		const struct ent *l = &b->locs.e[i];

		pb__u64(&b->sub, LOCATION_ID, i + 1);
		pb__u64(&b->sub, LOCATION_MAPPING_ID, l->v[0]);
		pb__u64(&b->sub, LOCATION_ADDRESS, l->k[0] == NO_STACK_KEY ? 0 : l->k[1]);
		if (l->v[1]) {
			pb__u64(&b->sub2, LINE_FUNCTION_ID, l->v[1]);
			pb__u64(&b->sub2, LINE_LINE, l->v[2]);
			pb__msg(&b->sub, LOCATION_LINE, &b->sub2);
		}
		pb__msg(&b->body, PROFILE_LOCATION, &b->sub);
	}
	for (size_t i = 0; i < b->funcs.n; i++) {
		const struct ent *f = &b->funcs.e[i];

		pb__u64(&b->sub, FUNCTION_ID, i + 1);
		pb__u64(&b->sub, FUNCTION_NAME, f->k[0]);
		/* we only keep the demangled name; it is also what the system calls it here */
		pb__u64(&b->sub, FUNCTION_SYSTEM_NAME, f->k[0]);
		pb__u64(&b->sub, FUNCTION_FILENAME, f->k[1]);
		pb__msg(&b->body, PROFILE_FUNCTION, &b->sub);
	}
	/* last, so every string interned above is in it */
	for (size_t i = 0; i < b->str.n; i++)
		pb__bytes(&b->body, PROFILE_STRING_TABLE, b->str.s[i], strlen(b->str.s[i]));
}

/* alloc_objects, alloc_space, inuse_objects, inuse_space of s, unsampled */
static void heap_values(const struct ms_profile *p, const struct ms_stack *s, int64_t *v)
{
	static const enum folded_value order[4] = {
		FOLDED_ALLOC_COUNT, FOLDED_ALLOC_BYTES, FOLDED_INUSE_COUNT, FOLDED_INUSE_BYTES,
	};

	for (int i = 0; i < 4; i++)
		v[i] = (int64_t)clamp_i64(folded__stack_value(p, s, order[i]));
}

static void heap_sample(struct builder *b, const struct ms_stack *s, const int64_t *v)
{
	const char *labels[] = { "kind", ms_kind__name(s->kind), "process", b->proc,
				 "pid", b->proc ? b->pid : NULL, NULL };

	add_sample(b, s->frames, s->nframes, v, 4, labels);
}

static int stack_cmp(const void *a, const void *b)
{
	const struct ms_stack *x = *(const struct ms_stack *const *)a;
	const struct ms_stack *y = *(const struct ms_stack *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->stack_id < y->stack_id ? -1 : x->stack_id > y->stack_id;
}

static bool same_frames(const struct ms_stack *x, const struct ms_stack *y)
{
	if (x->nframes != y->nframes)
		return false;
	for (uint32_t i = 0; i < x->nframes; i++)
		if (x->frames[i].addr != y->frames[i].addr)
			return false;
	return true;
}

/*
 * The samples of p, or of p minus base (a delta, as Go's ?seconds= gives):
 * a stack in both is matched by its kind, stack id and frames; allocations
 * in the window are the difference of the totals, in use its change (may
 * be negative). A stack only in base (its aggregate went, all freed) gives
 * its in-use figures negated; an aggregate that went and came back within
 * the window counts what it has. Stacks that did not change give nothing.
 */
static int heap_samples(struct builder *b, const struct ms_profile *p,
			const struct ms_profile *base)
{
	const struct ms_stack **idx = NULL;
	bool *seen = NULL;
	int64_t v[4], w[4];

	if (base && base->nstacks) {
		idx = calloc(base->nstacks, sizeof(*idx));
		seen = calloc(base->nstacks, sizeof(*seen));
		if (!idx || !seen) {
			free(idx);
			free(seen);
			return -ENOMEM;
		}
		for (size_t i = 0; i < base->nstacks; i++)
			idx[i] = &base->stacks[i];
		qsort(idx, base->nstacks, sizeof(*idx), stack_cmp);
	}
	for (size_t i = 0; i < p->nstacks && !b->err && !b->body.err; i++) {
		const struct ms_stack *s = &p->stacks[i], *key = s, **m = NULL;

		heap_values(p, s, v);
		if (idx)
			m = bsearch(&key, idx, base->nstacks, sizeof(*idx), stack_cmp);
		if (m && same_frames(*m, s)) {
			seen[m - idx] = true;
			heap_values(base, *m, w);
			for (int k = 0; k < 2; k++)
				v[k] = v[k] >= w[k] ? v[k] - w[k] : v[k];
			for (int k = 2; k < 4; k++)
				v[k] -= w[k];
		}
		heap_sample(b, s, v);
	}
	for (size_t i = 0; idx && i < base->nstacks && !b->err && !b->body.err; i++) {
		if (seen[i])
			continue;
		heap_values(base, idx[i], w);
		v[0] = v[1] = 0;
		v[2] = -w[2];
		v[3] = -w[3];
		heap_sample(b, idx[i], v);
	}
	free(idx);
	free(seen);
	return 0;
}

const char *pprof__goroutines_unavailable(const struct ms_profile *p)
{
	if (!p->go.present)
		return "not a Go program";
	if (p->go.runtime_err)
		return p->go.runtime_reason ?: "the Go runtime could not be read";
	if (!p->go.have_goroutines)
		return p->go.goroutines_reason ?: "its goroutines could not be read";
	return NULL;
}

/* One creation site's goroutines, a sample per state. */
static void goroutine_site(struct builder *b, const struct ms_frame *site, const uint64_t *st,
			   uint64_t count, const char *wait_reason)
{
	static const char *const names[] = { "running", "runnable", "waiting", "syscall", "other" };
	uint64_t known = 0;

	for (int i = 0; i < 5; i++) {
		uint64_t n = i < 4 ? st[i] : (count > known ? count - known : 0);
		const char *labels[] = { "state", names[i], "most_common_wait_reason",
					 i == 2 ? wait_reason : NULL, NULL };
		int64_t v = (int64_t)clamp_i64(n);

		known += n;
		add_sample(b, site, 1, &v, 1, labels);
	}
}

/*
 * Goroutines by creation site (the function of the `go` statement, its file
 * and line) and state; the sites past MS_GO_GROUPS_MAX as one "[other
 * creation sites]" so that the samples add up to the goroutines.
 */
static int goroutine_samples(struct builder *b, const struct ms_profile *p)
{
	const struct ms_go_info *g = &p->go;
	uint64_t rest[4] = { g->by_state[0], g->by_state[1], g->by_state[2], g->by_state[3] };
	uint64_t rest_n = g->goroutines;

	if (pprof__goroutines_unavailable(p))
		return -ENOENT;
	for (size_t i = 0; i < g->ngroups && !b->err; i++) {
		const struct ms_go_group *gg = &g->groups[i];
		uint64_t st[4] = { gg->running, gg->runnable, gg->waiting, gg->syscall };
		struct ms_frame f = {
			.addr = gg->pc,
			.func = gg->func ?: (gg->main_goroutine ? "runtime.main" : NULL),
			.file = gg->file,
			.line = gg->line,
		};

		for (int k = 0; k < 4; k++)
			rest[k] -= rest[k] >= st[k] ? st[k] : rest[k];
		rest_n -= rest_n >= gg->count ? gg->count : rest_n;
		goroutine_site(b, &f, st, gg->count, gg->wait_reason);
	}
	if (rest_n) {
		struct ms_frame f = { .func = "[other creation sites]" };

		goroutine_site(b, &f, rest, rest_n, NULL);
	}
	return 0;
}

static void sample_types(struct builder *b, uint64_t period, enum pprof_profile kind)
{
	if (kind == PPROF_GOROUTINE) {
		value_type(b, PROFILE_SAMPLE_TYPE, "goroutine", "count");
		value_type(b, PROFILE_PERIOD_TYPE, "goroutine", "count");
		pb__u64(&b->body, PROFILE_PERIOD, 1);
		return;
	}
	/* Go's order for heap and allocs alike; only the default differs */
	value_type(b, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(b, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(b, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(b, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	pb__u64(&b->body, PROFILE_DEFAULT_SAMPLE_TYPE,
	       intern(b, kind == PPROF_ALLOCS ? "alloc_space" : "inuse_space"));
	value_type(b, PROFILE_PERIOD_TYPE, "space", "bytes");
	pb__u64(&b->body, PROFILE_PERIOD, period ? clamp_i64(period) : 1);
}

/* pprof treats mapping[0] as the main binary: make it p's executable's */
static void main_mapping(struct builder *b, const struct ms_profile *p)
{
	for (size_t i = 0; p->exe && !b->maps.n && i < p->nstacks; i++) {
		for (uint32_t j = 0; j < p->stacks[i].nframes; j++) {
			const struct ms_frame *f = &p->stacks[i].frames[j];

			if (f->module && !strcmp(f->module, p->exe) && mapping_id(b, f))
				break;
		}
	}
}

/* Room for the location ids of the longest stack of p (at least 1). */
static int ids_for(struct builder *b, uint32_t maxframes)
{
	uint64_t *ids;

	if (maxframes < 1)
		maxframes = 1;
	ids = reallocarray(b->ids, maxframes, sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	b->ids = ids;
	return 0;
}

/* The time and duration fields: a profile of what was seen up to now, over duration. */
static void time_fields(struct builder *b, uint64_t duration)
{
	struct timespec now;
	uint64_t now_ns;

	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	pb__u64(&b->body, PROFILE_TIME_NANOS, clamp_i64(now_ns > duration ? now_ns - duration : 0));
	pb__u64(&b->body, PROFILE_DURATION_NANOS, clamp_i64(duration));
}

/* The longest stack of p (NULL: none), at least 1. */
static uint32_t max_frames(const struct ms_profile *p, uint32_t at_least)
{
	for (size_t i = 0; p && i < p->nstacks; i++)
		if (p->stacks[i].nframes > at_least)
			at_least = p->stacks[i].nframes;
	return at_least;
}

/* The heap samples that follow carry p's "process" and "pid" labels; NULL: out of memory. */
static char *label_process(struct builder *b, const struct ms_profile *p)
{
	b->proc = diff__proc_name(p->comm, p->exe);
	snprintf(b->pid, sizeof(b->pid), "%d", (int)p->pid);
	return b->proc;
}

/* What every profile ends with: a comment, when it was taken, the tables. */
static int finish_profile(struct builder *b, const char *text, uint64_t duration)
{
	uint64_t comment = intern(b, text);

	pb__packed(&b->body, PROFILE_COMMENT, &comment, 1);
	/* the model is a snapshot taken now: observation (or the delta) started duration ago */
	time_fields(b, duration);
	if (b->err)
		return b->err;
	emit_tables(b);
	return b->body.err ? b->body.err : b->err;
}

static int build(struct builder *b, const struct ms_profile *p, const struct pprof_opts *o)
{
	uint64_t duration = p->duration_ns;
	char *text, *name;
	int err;

	intern(b, "");
	if (ids_for(b, max_frames(o->base, max_frames(p, 1))))
		return -ENOMEM;
	sample_types(b, p->sample_period, o->profile);
	main_mapping(b, p);
	if (o->profile == PPROF_GOROUTINE) {
		err = goroutine_samples(b, p);
	} else {
		/* labelled as a run's processes are: diff matches them by name */
		name = label_process(b, p);
		if (!name)
			return -ENOMEM;
		err = heap_samples(b, p, o->base);
		b->proc = NULL;
		free(name);
		if (o->base)
			duration = p->duration_ns > o->base->duration_ns ?
				   p->duration_ns - o->base->duration_ns : 0;
	}
	if (err)
		return err;

	if (asprintf(&text, "memsight pid %d comm %s", (int)p->pid, p->comm) < 0)
		return -ENOMEM;
	err = finish_profile(b, text, duration);
	free(text);
	return err;
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

/* One process of a run's profile: its stacks and its dropped stacks' sums, labelled. */
static int proc_samples(struct builder *b, const struct pprof_run_proc *pp)
{
	const struct ms_profile *p = pp->p;
	struct ms_frame dropped = { .func = PPROF_DROPPED_FRAME };
	char *name = label_process(b, p);
	int64_t v[4];
	int err;

	if (!name)
		return -ENOMEM;
	err = ids_for(b, max_frames(p, 1));
	if (!err)
		err = heap_samples(b, p, NULL);
	for (size_t i = 0; !err && pp->dropped && i < pp->ndropped; i++) {
		struct ms_stack s = pp->dropped[i];

		s.frames = &dropped;
		s.nframes = 1;
		heap_values(p, &s, v);
		heap_sample(b, &s, v);
	}
	b->proc = NULL;
	free(name);
	return err;
}

static int build_procs(struct builder *b, const struct pprof_run_proc *v, size_t n)
{
	uint64_t period = 0, duration = 0;
	char text[64];
	int err = 0;

	intern(b, "");
	for (size_t i = 0; i < n; i++) {
		if (v[i].p->sample_period > period)
			period = v[i].p->sample_period;
		if (v[i].p->duration_ns > duration)
			duration = v[i].p->duration_ns;
	}
	sample_types(b, period, PPROF_HEAP);
	if (n)
		main_mapping(b, v[0].p);
	for (size_t i = 0; i < n && !err && !b->err && !b->body.err; i++)
		err = proc_samples(b, &v[i]);
	if (err)
		return err;
	snprintf(text, sizeof(text), "memsight run: %zu process%s", n, n == 1 ? "" : "es");
	return finish_profile(b, text, duration);
}

static void builder_free(struct builder *b)
{
	strtab__free(&b->str);
	enttab__free(&b->maps);
	enttab__free(&b->funcs);
	enttab__free(&b->locs);
	free(b->body.d);
	free(b->sub.d);
	free(b->sub2.d);
	free(b->ids);
}

/* b built (err: how that went): gzipped to out, then freed */
static int gzip_built(struct builder *b, int err, FILE *out)
{
	if (!err)
		err = gzip_to(&b->body, out);
	builder_free(b);
	return err;
}

int pprof__write_procs(const struct pprof_run_proc *v, size_t n, FILE *out)
{
	struct builder b = {};

	return gzip_built(&b, build_procs(&b, v, n), out);
}

int pprof__write(const struct ms_profile *p, FILE *out)
{
	struct pprof_opts o = { .profile = PPROF_HEAP };

	return pprof__write_opts(p, &o, out);
}

int pprof__write_opts(const struct ms_profile *p, const struct pprof_opts *o, FILE *out)
{
	struct builder b = {};

	return gzip_built(&b, build(&b, p, o), out);
}
