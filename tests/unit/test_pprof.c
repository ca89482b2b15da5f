// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>
#include <cmocka.h>

#include "export/pprof.h"
#include "../fixtures/exporters/profile.h"

/* ---- files and the real tool ------------------------------------------ */

/* Absolute path of $MS_BUILD/tests/exporters/NAME (go wants absolute cache paths). */
static void out_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("MS_BUILD") ? getenv("MS_BUILD") : "build";
	char base[PATH_MAX], tmp[PATH_MAX + 64];

	mkdir(dir, 0755);
	assert_non_null(realpath(dir, base));
	snprintf(tmp, sizeof(tmp), "%s/tests", base);
	mkdir(tmp, 0755);
	snprintf(tmp, sizeof(tmp), "%s/tests/exporters", base);
	mkdir(tmp, 0755);
	assert_true(snprintf(buf, len, "%s/tests/exporters/%s", base, name) < (int)len);
}

static void write_profile(const struct ms_profile *p, const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(pprof__write(p, f), 0);
	assert_int_equal(fclose(f), 0);
}

static bool have_go(void)
{
	return system("command -v go >/dev/null 2>&1") == 0;
}

/*
 * `go tool pprof ARGS FILE`, stdout and stderr, as a string the caller frees.
 * Skips the test, loudly, when go is not installed. HOME and the caches live
 * under the build dir: CI may have no writable HOME.
 */
static char *go_pprof(const char *args, const char *file)
{
	char home[PATH_MAX];
	char *buf = NULL, *cmd;
	size_t len = 0, n;
	FILE *mem, *pipe;
	char chunk[4096];
	int status;

	if (!have_go()) {
		fprintf(stderr, "SKIP: `go` not installed (apt-get install golang-go): "
			"pprof output NOT checked with go tool pprof\n");
		skip();
	}
	out_path(home, sizeof(home), "gohome");
	mkdir(home, 0755);
	assert_true(asprintf(&cmd,
			     "HOME='%1$s' GOCACHE='%1$s/cache' GOPATH='%1$s/go' "
			     "PPROF_TMPDIR='%1$s/pprof' GOTOOLCHAIN=local GOTELEMETRY=off GOFLAGS= "
			     "go tool pprof -symbolize=none %2$s '%3$s' 2>&1",
			     home, args, file) > 0);
	pipe = popen(cmd, "r");
	free(cmd);
	assert_non_null(pipe);
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	while ((n = fread(chunk, 1, sizeof(chunk), pipe)) > 0)
		fwrite(chunk, 1, n, mem);
	status = pclose(pipe);
	assert_int_equal(fclose(mem), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "go tool pprof %s failed:\n%s\n", args, buf);
		fail();
	}
	return buf;
}

/* Does a line of out have FIRST as its first and LAST as its last whitespace-separated word? */
static bool has_row(const char *out, const char *first, const char *last)
{
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *e = strchr(l, '\n') ? strchr(l, '\n') : l + strlen(l);
		const char *w = l + strspn(l, " \t");
		size_t fl = strlen(first), ll = strlen(last);

		while (e > w && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - w) < fl + ll || strncmp(w, first, fl))
			continue;
		if (w[fl] != ' ' && w[fl] != '\t')
			continue;
		if (!strncmp(e - ll, last, ll) && (e - ll == w || e[-ll - 1] == ' '))
			return true;
	}
	return false;
}

/* go tool pprof -top: leak_a holds 4096000 B (3.91MB) in use; leak_a is the leaf, not main */
static void test_go_pprof_inuse_space(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char path[PATH_MAX];
	char *top, *topb, *traces;

	out_path(path, sizeof(path), "sample.pb.gz");
	write_profile(p, path);
	top = go_pprof("-top -unit=MB", path);
	topb = go_pprof("-top -unit=B", path);
	traces = go_pprof("-traces", path);

	assert_non_null(strstr(top, "Type: inuse_space"));
	assert_true(has_row(top, "3.91MB", "leak_a"));
	assert_true(has_row(topb, "4096000B", "leak_a"));
	assert_true(has_row(topb, "50000B", "leak_b"));
	/* main allocates nothing itself: the location list is leaf first */
	assert_true(has_row(topb, "0", "main"));
	assert_true(has_row(traces, "3.91MB", "leak_a"));
	assert_non_null(strstr(top, "memsight pid 4242 comm leaky"));
	assert_non_null(strstr(top, "Build ID: a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"));
	free(top);
	free(topb);
	free(traces);
	ms_profile__free(p);
}

/* the other sample types: 1000 allocations at leak_a and leak_b, 500 of leak_b's still live */
static void test_go_pprof_sample_indexes(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char path[PATH_MAX];
	char *ao, *io, *as;

	out_path(path, sizeof(path), "sample-idx.pb.gz");
	write_profile(p, path);
	ao = go_pprof("-top -sample_index=alloc_objects", path);
	io = go_pprof("-top -sample_index=inuse_objects", path);
	as = go_pprof("-top -unit=B -sample_index=alloc_space", path);

	assert_true(has_row(ao, "1000", "leak_a"));
	assert_true(has_row(ao, "1000", "leak_b"));
	assert_non_null(strstr(ao, "Total samples = 2009"));
	assert_true(has_row(io, "1000", "leak_a"));
	assert_true(has_row(io, "500", "leak_b"));
	assert_true(has_row(as, "100000B", "leak_b"));
	free(ao);
	free(io);
	free(as);
	ms_profile__free(p);
}

/* a -raw location line "NAME FILE:LINE", with the column newer pprofs add (":0") or without */
static bool has_location(const char *raw, const char *name_file_line)
{
	for (const char *p = raw; (p = strstr(p, name_file_line)); p++) {
		const char *end = p + strlen(name_file_line);

		if (*end == ' ' || !strncmp(end, ":0 ", 3))
			return true;
	}
	return false;
}

/* -raw: values per sample in our order, the kind label, mappings and the unnamed frame */
static void test_go_pprof_raw(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char path[PATH_MAX];
	char *raw;

	out_path(path, sizeof(path), "sample-raw.pb.gz");
	write_profile(p, path);
	raw = go_pprof("-raw", path);

	assert_non_null(strstr(raw, "PeriodType: space bytes\nPeriod: 1\n"));
	assert_non_null(strstr(raw, "Duration: 5s"));
	assert_non_null(strstr(raw, "alloc_objects/count alloc_space/bytes inuse_objects/count "
				    "inuse_space/bytes[dflt]"));
	assert_true(has_row(raw, "1000", "50000: 3 2"));	/* leak_b: 1000 100000 500 50000 */
	assert_non_null(strstr(raw, "kind:[calloc]"));
	assert_true(has_location(raw, " leak_a leaky.c:12"));
	/* names go to pprof as they are: it is the viewer's job to shorten or escape them */
	assert_true(has_location(raw, " " CXX_NAME " leaky.c:25"));
	/* a frame without a name is a bare address in libfoo's mapping */
	assert_true(has_row(raw, "5:", "0x7f1000001234 M=2"));
	assert_non_null(strstr(raw, "1: 0x400000/0x402000/0x0 " EXE
				    " a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3 [FN][FL][LN]"));
	assert_non_null(strstr(raw, "2: 0x7f1000000000/0x7f1000010000/0x1000 " LIBFOO));
	free(raw);
	ms_profile__free(p);
}

/* a sampled profile is written unsampled, as Go's own heap profiles are */
static void test_go_pprof_sampled_scaling(void **state)
{
	struct ms_profile *p = sample_profile(524288);
	double scale_a = 1.0 / (1.0 - exp(-4096.0 / 524288.0));
	/* leak_b: allocations average 100 B, live ones too */
	double scale_b = 1.0 / (1.0 - exp(-100.0 / 524288.0));
	char path[PATH_MAX], first[32], last[64];
	char *raw;

	out_path(path, sizeof(path), "sampled.pb.gz");
	write_profile(p, path);
	raw = go_pprof("-raw", path);

	assert_non_null(strstr(raw, "Period: 524288\n"));
	snprintf(first, sizeof(first), "%llu", (unsigned long long)(1000 * scale_a));
	snprintf(last, sizeof(last), "%llu: 1 2", (unsigned long long)(4096000 * scale_a));
	assert_true(has_row(raw, first, last));
	snprintf(first, sizeof(first), "%llu", (unsigned long long)(1000 * scale_b));
	snprintf(last, sizeof(last), "%llu: 3 2", (unsigned long long)(50000 * scale_b));
	assert_true(has_row(raw, first, last));
	/* 4 KiB objects sampled every 512 KiB: 1000 seen stand for about 128,500 */
	assert_true(1000 * scale_a > 128000 && 1000 * scale_a < 129000);
	free(raw);
	ms_profile__free(p);
}

/* no stacks still makes a profile pprof reads */
static void test_go_pprof_empty(void **state)
{
	struct ms_profile *p = ms_profile__new(9);
	char path[PATH_MAX];
	char *raw;

	ms_profile__finalize(p);
	out_path(path, sizeof(path), "empty.pb.gz");
	write_profile(p, path);
	raw = go_pprof("-raw", path);
	assert_non_null(strstr(raw, "Samples:\nalloc_objects/count"));
	assert_non_null(strstr(raw, "memsight pid 9 comm "));
	free(raw);
	ms_profile__free(p);
}

/* ---- our own reading of the bytes --------------------------------------- */

struct rd {
	const uint8_t *p, *end;
};

static uint64_t rd_varint(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		assert_true(r->p < r->end);
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return v;
	}
	fail_msg("varint too long");
	return 0;
}

struct fld {
	uint32_t num;
	uint64_t v;		/* varint value, or length */
	const uint8_t *data;	/* length-delimited payload */
};

static bool rd_next(struct rd *r, struct fld *f)
{
	uint64_t key;

	if (r->p >= r->end)
		return false;
	key = rd_varint(r);
	f->num = key >> 3;
	switch (key & 7) {
	case 0:
		f->v = rd_varint(r);
		f->data = NULL;
		break;
	case 2:
		f->v = rd_varint(r);
		assert_true(f->v <= (uint64_t)(r->end - r->p));
		f->data = r->p;
		r->p += f->v;
		break;
	default:
		fail_msg("unexpected wire type %d", (int)(key & 7));
	}
	return true;
}

/* Varint field num of a message, 0 if absent. */
static uint64_t msg_u64(const uint8_t *d, size_t n, uint32_t num, bool *ret_present)
{
	struct rd r = { d, d + n };
	struct fld f;

	if (ret_present)
		*ret_present = false;
	while (rd_next(&r, &f)) {
		if (f.num == num) {
			if (ret_present)
				*ret_present = true;
			if (!f.data)
				return f.v;
		}
	}
	return 0;
}

struct decoded {
	uint8_t *raw;
	size_t len;
	char *str[256];
	size_t nstr;
	struct fld sample_type[8], mapping[8], location[16], function[16];
	size_t nsample_type, nsample, nmapping, nlocation, nfunction;
	uint64_t default_sample_type, period;
};

static void decode(const char *path, struct decoded *d)
{
	uint8_t in[1 << 16], *out = malloc(1 << 20);
	z_stream zs = {};
	struct rd r;
	struct fld f;
	size_t n;
	FILE *fp = fopen(path, "r");

	memset(d, 0, sizeof(*d));
	assert_non_null(fp);
	n = fread(in, 1, sizeof(in), fp);
	fclose(fp);
	/* gzip magic: pprof files are gzip, not raw zlib */
	assert_true(n > 2 && in[0] == 0x1f && in[1] == 0x8b);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = in;
	zs.avail_in = n;
	zs.next_out = out;
	zs.avail_out = 1 << 20;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	d->len = zs.total_out;
	inflateEnd(&zs);
	d->raw = out;

	r = (struct rd){ out, out + d->len };
	while (rd_next(&r, &f)) {
		switch (f.num) {
		case 1: d->sample_type[d->nsample_type++] = f; break;
		case 2: d->nsample++; break;
		case 3: d->mapping[d->nmapping++] = f; break;
		case 4: d->location[d->nlocation++] = f; break;
		case 5: d->function[d->nfunction++] = f; break;
		case 6:
			assert_true(d->nstr < 256);
			d->str[d->nstr++] = strndup((const char *)f.data, f.v);
			break;
		case 12: d->period = f.v; break;
		case 14: d->default_sample_type = f.v; break;
		}
		assert_true(d->nsample_type <= 8 && d->nmapping <= 8 && d->nlocation <= 16 &&
			    d->nfunction <= 16);
	}
}

static void decoded_free(struct decoded *d)
{
	for (size_t i = 0; i < d->nstr; i++)
		free(d->str[i]);
	free(d->raw);
}

static const char *str_at(const struct decoded *d, uint64_t i)
{
	assert_true(i < d->nstr);
	return d->str[i];
}

/*
 * The wire format itself: string 0 is "", sample types in order, the
 * executable is mapping 1, one location per (mapping, address) and one
 * function per (name, file) - two addresses in leak_a share a function.
 */
static void test_wire_structure(void **state)
{
	static const char *const types[4][2] = {
		{ "alloc_objects", "count" }, { "alloc_space", "bytes" },
		{ "inuse_objects", "count" }, { "inuse_space", "bytes" },
	};
	struct ms_profile *p = sample_profile(0);
	struct ms_stack t = { .kind = MS_KIND_MALLOC, .stack_id = 7, .alloc_bytes = 64,
			      .alloc_count = 1 };
	struct ms_frame fr[2] = {
		exe_frame(0x401150, "leak_a", 14), exe_frame(0x401300, "main", 40),
	};
	char path[PATH_MAX], bid[41];
	struct decoded d;
	bool present;

	assert_non_null(ms_profile__add_stack(p, &t, fr, 2));
	ms_profile__finalize(p);
	out_path(path, sizeof(path), "wire.pb.gz");
	write_profile(p, path);
	decode(path, &d);

	assert_true(d.nstr > 0);
	assert_string_equal(d.str[0], "");
	assert_int_equal(d.nsample_type, 4);
	for (int i = 0; i < 4; i++) {
		const struct fld *f = &d.sample_type[i];

		assert_string_equal(str_at(&d, msg_u64(f->data, f->v, 1, NULL)), types[i][0]);
		assert_string_equal(str_at(&d, msg_u64(f->data, f->v, 2, NULL)), types[i][1]);
	}
	assert_string_equal(str_at(&d, d.default_sample_type), "inuse_space");
	assert_int_equal(d.period, 1);
	/* every stack with any value, the fully freed one too: it allocated */
	assert_int_equal(d.nsample, p->nstacks);

	assert_int_equal(d.nmapping, 2);
	assert_int_equal(msg_u64(d.mapping[0].data, d.mapping[0].v, 1, NULL), 1);
	assert_string_equal(str_at(&d, msg_u64(d.mapping[0].data, d.mapping[0].v, 5, NULL)), EXE);
	for (int i = 0; i < 20; i++)
		sprintf(bid + 2 * i, "%02x", 0xa0 + i);
	assert_string_equal(str_at(&d, msg_u64(d.mapping[0].data, d.mapping[0].v, 6, NULL)), bid);
	assert_int_equal(msg_u64(d.mapping[0].data, d.mapping[0].v, 7, NULL), 1);
	assert_string_equal(str_at(&d, msg_u64(d.mapping[1].data, d.mapping[1].v, 5, NULL)),
			    LIBFOO);
	assert_int_equal(msg_u64(d.mapping[1].data, d.mapping[1].v, 4, NULL), 0x1000);
	/* nothing in libfoo has a name: pprof may symbolise it itself */
	msg_u64(d.mapping[1].data, d.mapping[1].v, 7, &present);
	assert_false(present);

	/* leak_a x2, leak_b, C++, libfoo, hostile, all_freed, main (shared by all) */
	assert_int_equal(d.nlocation, 8);
	/* the same minus libfoo (no name) and leak_a's second address */
	assert_int_equal(d.nfunction, 6);
	for (size_t i = 0; i < d.nlocation; i++) {
		const struct fld *l = &d.location[i];

		if (msg_u64(l->data, l->v, 3, NULL) != 0x7f1000001234ull)
			continue;
		assert_int_equal(msg_u64(l->data, l->v, 2, NULL), 2);
		msg_u64(l->data, l->v, 4, &present);
		assert_false(present);
	}
	decoded_free(&d);
	ms_profile__free(p);
}

/* a full disk is -EIO, not a truncated file reported as written */
static void write_opts(const struct ms_profile *p, const struct pprof_opts *o, const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(pprof__write_opts(p, o, f), 0);
	assert_int_equal(fclose(f), 0);
}

/* allocs: the same four types in Go's order, alloc_space shown by default */
static void test_go_pprof_allocs_default(void **state)
{
	struct ms_profile *p = sample_profile(0);
	struct pprof_opts o = { .profile = PPROF_ALLOCS };
	char path[PATH_MAX];
	char *top;

	out_path(path, sizeof(path), "allocs.pb.gz");
	write_opts(p, &o, path);
	top = go_pprof("-top -unit=B", path);
	assert_non_null(strstr(top, "Type: alloc_space"));
	assert_true(has_row(top, "4096000B", "leak_a"));
	assert_true(has_row(top, "100000B", "leak_b"));
	free(top);
	ms_profile__free(p);
}

/*
 * A delta over 2 s: leak_a allocated 40 more blocks of 4096 and freed none,
 * leak_b freed 200 of its live 500, all_freed's aggregate went (it held
 * nothing), the rest did not change: only leak_a's allocations are in
 * alloc_space, and in use leak_a grew by 163840 B while leak_b shrank by 20000 B.
 */
static void test_go_pprof_delta(void **state)
{
	struct ms_profile *base = sample_profile(0), *p = ms_profile__new(4242);
	struct pprof_opts o = { .profile = PPROF_HEAP, .base = base };
	char path[PATH_MAX];
	char *alloc, *inuse;

	assert_non_null(p);
	strcpy(p->comm, "leaky");
	p->exe = strdup(EXE);
	p->duration_ns = base->duration_ns + 2000000000ull;
	add_stack2(p, 1, MS_KIND_MALLOC, exe_frame(0x401136, "leak_a", 12), 4259840, 1040, 0, 0);
	add_stack2(p, 2, MS_KIND_CALLOC, exe_frame(0x401186, "leak_b", 18), 100000, 1000,
		   70000, 700);
	add_stack2(p, 3, MS_KIND_MALLOC, exe_frame(0x4011c0, CXX_NAME, 25), 8192, 2, 0, 0);
	add_stack2(p, 4, MS_KIND_MALLOC, lib_frame(0x7f1000001234ull), 4000, 4, 0, 0);
	add_stack2(p, 5, MS_KIND_MALLOC, exe_frame(0x4011e0, HOSTILE_NAME, 0), 1000, 1, 0, 0);
	ms_profile__finalize(p);

	out_path(path, sizeof(path), "delta.pb.gz");
	write_opts(p, &o, path);
	alloc = go_pprof("-top -unit=B -sample_index=alloc_space", path);
	inuse = go_pprof("-top -unit=B -sample_index=inuse_space", path);
	assert_non_null(strstr(alloc, "Duration: 2s"));
	assert_non_null(strstr(alloc, "Total samples = 163840B"));
	assert_true(has_row(alloc, "163840B", "leak_a"));
	assert_null(strstr(alloc, "leak_b"));
	assert_null(strstr(alloc, "all_freed"));
	assert_true(has_row(inuse, "163840B", "leak_a"));
	assert_true(has_row(inuse, "-20000B", "leak_b"));
	assert_null(strstr(inuse, "all_freed"));
	free(alloc);
	free(inuse);
	ms_profile__free(p);
	ms_profile__free(base);
}

/*
 * Goroutines: 25 created at main.leakHandler (24 waiting, 1 running), the
 * main goroutine, and 3 at sites past the groups kept: one sample per site
 * and state, "[other creation sites]" making up the total of 29.
 */
static void test_go_pprof_goroutine(void **state)
{
	struct ms_profile *p = sample_profile(0);
	struct pprof_opts o = { .profile = PPROF_GOROUTINE };
	struct ms_go_info *g = &p->go;
	char path[PATH_MAX];
	char *top, *traces;
	FILE *f;

	/* not a Go program: no profile, and why */
	f = fopen("/dev/null", "w");
	assert_non_null(f);
	assert_int_equal(pprof__write_opts(p, &o, f), -ENOENT);
	fclose(f);
	assert_string_equal(pprof__goroutines_unavailable(p), "not a Go program");

	g->present = true;
	g->have_goroutines = true;
	g->goroutines = 29;
	g->by_state[0] = 2;	/* running */
	g->by_state[2] = 27;	/* waiting */
	g->ngroups = 2;
	g->groups[0] = (struct ms_go_group){ .pc = 0x4a1000, .func = strdup("main.leakHandler"),
					     .file = strdup("/src/main.go"), .line = 36,
					     .count = 25, .running = 1, .waiting = 24,
					     .wait_reason = strdup("chan receive") };
	g->groups[1] = (struct ms_go_group){ .pc = 1, .main_goroutine = true, .count = 1,
					     .waiting = 1 };
	out_path(path, sizeof(path), "goroutine.pb.gz");
	write_opts(p, &o, path);
	top = go_pprof("-top", path);
	traces = go_pprof("-traces", path);
	assert_non_null(strstr(top, "Type: goroutine"));
	assert_non_null(strstr(top, "Total samples = 29"));
	assert_true(has_row(top, "25", "main.leakHandler"));
	assert_true(has_row(top, "1", "runtime.main"));
	assert_true(has_row(top, "3", "sites]"));
	assert_non_null(strstr(traces, "state:  running"));
	assert_non_null(strstr(traces, "chan receive"));
	assert_true(has_row(traces, "24", "main.leakHandler"));
	free(top);
	free(traces);
	ms_profile__free(p);
}

static void test_write_error(void **state)
{
	struct ms_profile *p = sample_profile(0);
	FILE *full = fopen("/dev/full", "w");

	if (!full) {
		ms_profile__free(p);
		skip();
	}
	assert_int_equal(pprof__write(p, full), -EIO);
	fclose(full);
	ms_profile__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_pprof_inuse_space),
		cmocka_unit_test(test_go_pprof_sample_indexes),
		cmocka_unit_test(test_go_pprof_raw),
		cmocka_unit_test(test_go_pprof_sampled_scaling),
		cmocka_unit_test(test_go_pprof_empty),
		cmocka_unit_test(test_wire_structure),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_go_pprof_allocs_default),
		cmocka_unit_test(test_go_pprof_delta),
		cmocka_unit_test(test_go_pprof_goroutine),
	};

	return cmocka_run_group_tests_name("pprof", tests, NULL, NULL);
}
