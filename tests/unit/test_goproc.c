// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading live Go processes from the outside. tests/fixtures/goproc.mk builds
 * tests/fixtures/goproc/target four ways (plain, -w, -s -w, PIE); each test
 * runs one, waits for the JSON line in which the target reports its own
 * runtime.NumGoroutine(), runtime.ReadMemStats() and runtime.MemProfile(),
 * then reads the same process with goproc and compares. Expected values come from the target at
 * run time, from $(O)/fixtures/goproc/expect.h (the line of the `go leaker`
 * statement) and from the fixture folder's goversion (the toolchain), never
 * from this file.
 *
 * Then the same claims again for every release of the Go matrix
 * (tests/fixtures/gomatrix.mk: $(O)/fixtures/gomatrix/<release>/, plain and
 * -s -w, and -s -w without .go.buildinfo), one cmocka group per release. MS_GOPROC_FIXTURES=DIR runs only
 * that group, on the fixtures in DIR (e.g. build/fixtures/gomatrix/go1.26.11).
 *
 * Reading another process's memory needs privileges: without root the tests
 * that do so are skipped, loudly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixtures/goproc/expect.h"
#include "target/goproc.h"

/* Arguments of every target: goroutines parked at the leaker site, goroutines
 * that finish, MiB held in a global. Odd numbers so no count matches by chance. */
#define N_LEAKERS	137
#define N_QUICK		25
#define HOLD_MB		48
#define READY_TIMEOUT_MS 60000
/*
 * MiB the target allocates from main.profiled in 4 KiB objects and keeps
 * (plus a quarter as much it drops). At a sampling rate of 16 KiB each
 * object is sampled with p = 1 - exp(-1/4) = 0.22: ~3600 samples, so the
 * unsampled estimate has a relative standard deviation of 1.5% and 10% is
 * beyond 6 sigma. At the default 512 KiB, p = 0.0078: ~128 samples, 8.8%,
 * and only a 50% bound is as safe (5.7 sigma).
 */
#define PROF_MB		64
#define PROF_FUNC	"main.profiled"
#define PROF_OBJ_SIZE	4096
#define DEFAULT_RATE	(512 * 1024)

struct target {
	const char *name;
	pid_t pid;
	int in_fd;		/* its stdin: closing it lets the target exit */
	char line[1024];	/* its JSON report */
};

struct report {
	uint64_t pid, num_goroutine, heap_alloc, heap_inuse, heap_idle, heap_released, heap_sys,
		 next_gc, num_gc, sys, stack_inuse;
	/* the runtime's heap profile summed over records whose leaf is PROF_FUNC */
	uint64_t rate, prof_records, prof_alloc_objects, prof_alloc_bytes, prof_inuse_objects,
		 prof_inuse_bytes, prof_true_bytes;
	/* runtime.Callers' depth at main.deep's allocation (0: not made) */
	uint64_t deep_frames;
	/* the heap the last GC marked: /gc/heap/live:bytes (1.21+), HeapAlloc just after it */
	uint64_t has_gc_heap_live, gc_heap_live, heap_alloc_after_gc;
};

static int toolchain_minor(void);

static bool g_root;
/* the fixture folder of the group running, and its toolchain's version */
static char g_dir[256];
static char g_goversion[64];
/*
 * The running target and its reader: globals, so that the per-test teardown
 * stops and frees them even when an assertion jumped out of the test.
 */
static struct target g_t = { .pid = -1 };
static struct goproc *g_gp;

static void fixture_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", g_dir, name);
}

/* Use the fixtures in dir: 0, or -1 if its goversion does not read. */
static int fixture_dir_set(const char *dir)
{
	char p[600];
	FILE *f;

	snprintf(g_dir, sizeof(g_dir), "%s", dir);
	snprintf(p, sizeof(p), "%s/goversion", dir);
	f = fopen(p, "r");
	g_goversion[0] = '\0';
	if (!f || !fgets(g_goversion, sizeof(g_goversion), f)) {
		fprintf(stderr, "goproc: %s does not read (set MS_BUILD)\n", p);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	g_goversion[strcspn(g_goversion, "\n")] = '\0';
	return strncmp(g_goversion, "go1.", 4) ? -1 : 0;
}

static void skip_unless_root(void)
{
	if (!g_root) {
		fprintf(stderr, "SKIP goproc: not root, cannot read another process's memory "
			"(process_vm_readv needs CAP_SYS_PTRACE)\n");
		skip();
	}
}

static bool json_u64(const char *line, const char *key, uint64_t *ret)
{
	char pat[64];
	const char *p;
	char *end;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	errno = 0;
	*ret = strtoull(p + strlen(pat), &end, 10);
	return !errno && end != p + strlen(pat);
}

static void report_parse(const struct target *t, struct report *r)
{
	assert_true(json_u64(t->line, "pid", &r->pid));
	assert_true(json_u64(t->line, "num_goroutine", &r->num_goroutine));
	assert_true(json_u64(t->line, "heap_alloc", &r->heap_alloc));
	assert_true(json_u64(t->line, "heap_inuse", &r->heap_inuse));
	assert_true(json_u64(t->line, "heap_idle", &r->heap_idle));
	assert_true(json_u64(t->line, "heap_released", &r->heap_released));
	assert_true(json_u64(t->line, "heap_sys", &r->heap_sys));
	assert_true(json_u64(t->line, "next_gc", &r->next_gc));
	assert_true(json_u64(t->line, "num_gc", &r->num_gc));
	assert_true(json_u64(t->line, "sys", &r->sys));
	assert_true(json_u64(t->line, "stack_inuse", &r->stack_inuse));
	assert_true(json_u64(t->line, "mem_profile_rate", &r->rate));
	assert_true(json_u64(t->line, "prof_records", &r->prof_records));
	assert_true(json_u64(t->line, "prof_alloc_objects", &r->prof_alloc_objects));
	assert_true(json_u64(t->line, "prof_alloc_bytes", &r->prof_alloc_bytes));
	assert_true(json_u64(t->line, "prof_inuse_objects", &r->prof_inuse_objects));
	assert_true(json_u64(t->line, "prof_inuse_bytes", &r->prof_inuse_bytes));
	assert_true(json_u64(t->line, "prof_true_bytes", &r->prof_true_bytes));
	assert_true(json_u64(t->line, "deep_frames", &r->deep_frames));
	assert_true(json_u64(t->line, "has_gc_heap_live", &r->has_gc_heap_live));
	assert_true(json_u64(t->line, "gc_heap_live", &r->gc_heap_live));
	assert_true(json_u64(t->line, "heap_alloc_after_gc", &r->heap_alloc_after_gc));
	assert_int_equal(r->pid, t->pid);
}

/*
 * Start $(O)/fixtures/goproc/<name> (prof_mb MiB from main.profiled, env one
 * more VAR=value or NULL) and wait for its report line.
 */
static int target_start_env(struct target *t, const char *name, int n_leakers, int prof_mb,
			    char *env)
{
	char path[512], a1[16], a2[16], a3[16], a4[16];
	int in[2], out[2];
	size_t got = 0;

	fixture_path(path, sizeof(path), name);
	snprintf(a1, sizeof(a1), "%d", n_leakers);
	snprintf(a2, sizeof(a2), "%d", N_QUICK);
	snprintf(a3, sizeof(a3), "%d", HOLD_MB);
	snprintf(a4, sizeof(a4), "%d", prof_mb);
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->pid = -1;
	if (pipe2(in, O_CLOEXEC))
		return -1;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	t->pid = fork();
	if (t->pid < 0) {
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (t->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (env)
			putenv(env);
		execl(path, path, a1, a2, a3, a4, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	t->in_fd = in[1];
	while (got < sizeof(t->line) - 1 && !memchr(t->line, '\n', got)) {
		struct pollfd pfd = { .fd = out[0], .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, READY_TIMEOUT_MS) <= 0)
			break;
		n = read(out[0], t->line + got, sizeof(t->line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(out[0]);
	t->line[got] = '\0';
	if (!strchr(t->line, '\n')) {
		fprintf(stderr, "goproc: %s did not report (got \"%s\")\n", path, t->line);
		return -1;
	}
	return 0;
}

static int target_start(struct target *t, const char *name, int n_leakers)
{
	return target_start_env(t, name, n_leakers, 0, NULL);
}

/* A target whose heap profile samples every 16 KiB (see PROF_MB). */
static int target_start_prof(struct target *t, const char *name)
{
	static char env[] = "GOPROC_MEMPROFILERATE=16384";

	return target_start_env(t, name, N_LEAKERS, PROF_MB, env);
}

/* Close its stdin (it then exits by itself), reap it; SIGKILL after 10 s. */
static void target_stop(struct target *t)
{
	int i, st;

	if (t->pid <= 0)
		return;
	close(t->in_fd);
	for (i = 0; i < 1000; i++) {
		if (waitpid(t->pid, &st, WNOHANG) == t->pid)
			goto out;
		usleep(10000);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &st, 0);
out:
	t->pid = -1;
}

static int test_teardown(void **state)
{
	goproc__close(g_gp);
	g_gp = NULL;
	target_stop(&g_t);
	return 0;
}

static int fixtures_present(const char *const *names, size_t n)
{
	char p[600];
	size_t i;

	for (i = 0; i < n; i++) {
		fixture_path(p, sizeof(p), names[i]);
		if (access(p, X_OK)) {
			fprintf(stderr, "goproc fixture %s missing (set MS_BUILD)\n", p);
			return -1;
		}
	}
	g_root = geteuid() == 0;
	return 0;
}

/* A release of the Go matrix: its plain and -s -w builds. */
static int matrix_setup(void **state)
{
	static const char *const names[] = { "target", "target-stripped", "target-nobuildinfo" };

	return fixtures_present(names, sizeof(names) / sizeof(names[0]));
}

static int group_setup(void **state)
{
	static const char *const names[] = { "target", "target-nodwarf", "target-stripped",
					     "target-pie", "impostor" };

	if (fixtures_present(names, sizeof(names) / sizeof(names[0])))
		return -1;
	if (!g_root)
		fprintf(stderr, "SKIP goproc: not root: the tests that read a live Go process "
			"will be skipped\n");
	return 0;
}

static bool within_pct(uint64_t got, uint64_t want, unsigned pct)
{
	uint64_t d = got > want ? got - want : want - got;

	return d * 100 <= want * pct;
}

#define assert_within_pct(got, want, pct)						\
	do {										\
		uint64_t g_ = (got), w_ = (want);					\
		if (!within_pct(g_, w_, (pct)))						\
			fail_msg("%s = %llu, want %llu within %u%%", #got,		\
				 (unsigned long long)g_, (unsigned long long)w_, (pct));\
	} while (0)

#define assert_within_5pct(got, want)							\
	do {										\
		uint64_t g_ = (got), w_ = (want);					\
		if (!within_pct(g_, w_, 5))						\
			fail_msg("%s = %llu, target said %llu (more than 5%% apart)",	\
				 #got, (unsigned long long)g_, (unsigned long long)w_);	\
	} while (0)

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);

	return s && a >= b && !strcmp(s + a - b, suffix) && (a == b || s[a - b - 1] == '/');
}

static const struct goproc_group *find_site(const struct goproc_group *v, size_t n, int line)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].line == line && ends_with(v[i].file, GOPROC_LEAKER_FILE))
			return &v[i];
	return NULL;
}

static void counts_add(struct goproc_heap_counts *a, const struct goproc_heap_counts *b)
{
	a->alloc_objects += b->alloc_objects;
	a->alloc_bytes += b->alloc_bytes;
	a->inuse_objects += b->inuse_objects;
	a->inuse_bytes += b->inuse_bytes;
}

static bool leaf_is(const struct goproc_heap_bucket *b, const char *func)
{
	return b->nr_frames && b->frames[0].func && !strcmp(b->frames[0].func, func);
}

/*
 * The heap profile says what runtime.MemProfile says: summed over the
 * buckets whose leaf is main.profiled, the sampled counts equal the target's
 * own to the object; the bucket is 4 KiB objects allocated at the marked
 * line, called from main.main; and unsampled as pprof does, the in-use
 * bytes are within pct of what main.profiled really keeps.
 */
static void check_profile(struct goproc *gp, const struct target *t, unsigned pct)
{
	struct goproc_heap_counts sum = { 0 }, est = { 0 }, u;
	const struct goproc_heap_bucket *site = NULL, *deep = NULL;
	uint32_t max_stack = toolchain_minor() <= 22 ? GOPROC_PROF_MAX_STACK_122 :
			     GOPROC_PROF_MAX_STACK;
	struct goproc_heap_profile p;
	struct report r;
	size_t i, n = 0;
	int err;

	report_parse(t, &r);
	assert_true(r.prof_records >= 1);
	err = goproc__heap_profile(gp, NULL, &p);
	if (err)
		fail_msg("heap profile of %s: %s (%s)", t->name, strerror(-err),
			 goproc__reason(gp));
	assert_int_equal(p.rate, r.rate);
	assert_int_equal(p.stop_err, 0);
	assert_false(p.truncated);
	assert_false(p.looped);
	assert_false(p.torn);
	assert_false(p.unpublished);
	assert_int_equal(p.walked, p.nr_buckets);
	for (i = 0; i < p.nr_buckets; i++) {
		const struct goproc_heap_bucket *b = &p.buckets[i];

		assert_true(b->nr_frames <= max_stack);
		if (i)
			assert_true(b->sampled.inuse_bytes <= p.buckets[i - 1].sampled.inuse_bytes);
		if (leaf_is(b, "main.deep") && (!deep || b->nr_frames > deep->nr_frames))
			deep = b;
		if (!leaf_is(b, PROF_FUNC))
			continue;
		n++;
		counts_add(&sum, &b->sampled);
		goproc__heap_unsample(&b->sampled, p.rate, &u);
		counts_add(&est, &u);
		if (!site || b->sampled.inuse_bytes > site->sampled.inuse_bytes)
			site = b;
	}
	assert_int_equal(n, r.prof_records);
	assert_int_equal(sum.alloc_objects, r.prof_alloc_objects);
	assert_int_equal(sum.alloc_bytes, r.prof_alloc_bytes);
	assert_int_equal(sum.inuse_objects, r.prof_inuse_objects);
	assert_int_equal(sum.inuse_bytes, r.prof_inuse_bytes);
	/* the churn was sampled and freed: allocated > in use */
	assert_true(sum.alloc_objects > sum.inuse_objects);

	assert_non_null(site);
	assert_int_equal(site->size, PROF_OBJ_SIZE);
	assert_int_equal(site->sampled.inuse_bytes, site->sampled.inuse_objects * PROF_OBJ_SIZE);
	assert_true(ends_with(site->frames[0].file, GOPROC_LEAKER_FILE));
	assert_int_equal(site->frames[0].line, GOPROC_PROFILED_LINE);
	assert_true(site->nr_frames >= 2);
	assert_non_null(site->frames[1].func);
	assert_string_equal(site->frames[1].func, "main.main");

	/*
	 * The 60-deep allocation: up to 1.22 the runtime kept 32 PCs of it;
	 * since 1.23 all of them (its default depth is 128), as
	 * runtime.Callers counts from main.deep down to runtime.goexit.
	 */
	assert_true(r.deep_frames > 60 && r.deep_frames < 100);
	assert_non_null(deep);
	assert_int_equal(deep->size, 16 << 20);
	if (max_stack == GOPROC_PROF_MAX_STACK_122)
		assert_int_equal(deep->nr_frames, GOPROC_PROF_MAX_STACK_122);
	else if (deep->nr_frames != r.deep_frames)
		fail_msg("the 60-deep bucket has %u frames, runtime.Callers saw %llu",
			 deep->nr_frames, (unsigned long long)r.deep_frames);

	assert_within_pct(est.inuse_bytes, r.prof_true_bytes, pct);
	assert_within_pct(est.inuse_objects, r.prof_true_bytes / PROF_OBJ_SIZE, pct);
	/* a quarter as much again was allocated and dropped */
	assert_within_pct(est.alloc_bytes, r.prof_true_bytes / 4 * 5, pct);
	assert_true(p.total_sampled.inuse_bytes >= sum.inuse_bytes);
	assert_true(p.total_unsampled.inuse_bytes >= est.inuse_bytes);
	goproc_heap_profile__free(&p);
}

/*
 * The claims every readable build must meet: our walk and the gcount formula
 * both equal the target's NumGoroutine(); the `go leaker(ch)` line created
 * exactly N_LEAKERS goroutines, all waiting on "chan receive"; the heap
 * numbers are within 5% of ReadMemStats and NumGC is exact.
 */
/*
 * The heap as the target's ReadMemStats says, within 5%, and the heap goal;
 * the heap the last GC marked live exactly as runtime/metrics says it
 * (1.21+), else within 5% of HeapAlloc read right after that GC.
 */
static void check_heap(struct goproc *gp, const struct target *t, const struct report *r)
{
	struct goproc_heap h;
	int err;

	err = goproc__heap(gp, &h);
	if (err)
		fail_msg("heap of %s: %s (%s)", t->name, strerror(-err), goproc__reason(gp));
	if (!(h.valid & GOPROC_HEAP_NEXT_GC))
		fail_msg("no heap goal in %s: %s", t->name, h.next_gc_why ?: "(no reason)");
	if (!(h.valid & GOPROC_HEAP_LIVE))
		fail_msg("no live heap in %s: %s", t->name, h.live_why ?: "(no reason)");
	assert_true(h.valid & GOPROC_HEAP_SYS);
	assert_null(h.next_gc_why);
	assert_null(h.live_why);
	assert_int_equal(h.num_gc, r->num_gc);
	if (r->has_gc_heap_live)
		assert_int_equal(h.live_after_last_gc, r->gc_heap_live);
	else
		assert_within_5pct(h.live_after_last_gc, r->heap_alloc_after_gc);
	/* the global really holds HOLD_MB MiB, live through both GCs */
	assert_true(h.live_after_last_gc >= (uint64_t)HOLD_MB << 20);
	assert_within_5pct(h.heap_alloc, r->heap_alloc);
	assert_within_5pct(h.heap_inuse, r->heap_inuse);
	assert_within_5pct(h.heap_sys, r->heap_sys);
	assert_within_5pct(h.sys, r->sys);
	assert_within_5pct(h.next_gc, r->next_gc);
	/* the global really holds HOLD_MB MiB */
	assert_true(h.heap_alloc >= (uint64_t)HOLD_MB << 20);
	assert_true(h.heap_released <= h.heap_idle);
	assert_int_equal(h.heap_objects, h.mallocs - h.frees);
}

static void check_target(struct goproc *gp, const struct target *t, int n_leakers)
{
	struct goproc_goroutines *gs = NULL;
	const struct goproc_group *site, *start, *main_g;
	struct report r;
	size_t i;
	int err;

	report_parse(t, &r);
	err = goproc__goroutines(gp, NULL, &gs);
	if (err)
		fail_msg("goroutines of %s: %s (%s)", t->name, strerror(-err), goproc__reason(gp));
	assert_false(gs->truncated);
	assert_int_equal(gs->unreadable, 0);
	assert_int_equal(gs->walked, gs->allglen);
	assert_int_equal(gs->live + gs->dead, gs->allglen);
	assert_int_equal(gs->user + gs->system, gs->live);
	assert_int_equal(gs->user, r.num_goroutine);
	assert_int_equal(gs->gcount_err, 0);
	assert_int_equal(gs->gcount, (int64_t)r.num_goroutine);
	/* the runtime's own goroutines are there too: bg sweeper, scavenger, forcegc... */
	assert_true(gs->system >= 3);
	/* the N_QUICK goroutines have exited: their g's are dead, kept for reuse */
	assert_true(gs->dead >= 1);

	site = find_site(gs->by_creator, gs->nr_by_creator, GOPROC_LEAKER_LINE);
	if (!site)
		fail_msg("no creation site %s:%d among %zu", GOPROC_LEAKER_FILE,
			 GOPROC_LEAKER_LINE, gs->nr_by_creator);
	assert_int_equal(site->count, n_leakers);
	assert_string_equal(site->func, "main.main");
	assert_int_equal(site->system, 0);
	assert_int_equal(site->by_state[GOPROC_G_WAITING], n_leakers);
	assert_int_equal(site->top_wait_count, n_leakers);
	assert_non_null(site->top_wait_reason_str);
	assert_string_equal(site->top_wait_reason_str, "chan receive");
	/* it is the biggest group, so it sorts first */
	assert_ptr_equal(site, &gs->by_creator[0]);
	/* the main goroutine, which no go statement started: a group of its own */
	for (i = 0, main_g = NULL; i < gs->nr_by_creator; i++) {
		if (!gs->by_creator[i].main_goroutine)
			continue;
		assert_null(main_g);
		main_g = &gs->by_creator[i];
	}
	assert_non_null(main_g);
	assert_int_equal(main_g->count, 1);
	assert_int_equal(main_g->system, 0);
	assert_string_equal(main_g->func, "runtime.main");
	assert_null(main_g->file);
	/*
	 * Since 1.17 `go f(x)` starts a wrapper closure (main.main.func1) whose
	 * entry line is the go statement; older releases start main.leaker.
	 */
	start = find_site(gs->by_start, gs->nr_by_start, GOPROC_LEAKER_LINE);
	for (i = 0; !start && i < gs->nr_by_start; i++)
		if (gs->by_start[i].func && !strcmp(gs->by_start[i].func, "main.leaker"))
			start = &gs->by_start[i];
	assert_non_null(start);
	assert_int_equal(start->count, n_leakers);
	/* the creation site names that start function too: all its goroutines start there */
	assert_non_null(site->start_func);
	assert_string_equal(site->start_func, start->func);
	assert_non_null(main_g->start_func);
	assert_string_equal(main_g->start_func, "runtime.main");
	goproc_goroutines__free(gs);

	check_heap(gp, t, &r);
	if (r.prof_true_bytes)
		check_profile(gp, t, 10);
}

static void run_and_check(const char *name, enum goproc_layout want)
{
	struct target *t = &g_t;
	struct goproc *gp;

	skip_unless_root();
	assert_int_equal(target_start_prof(t, name), 0);
	gp = g_gp = goproc__open(t->pid);
	if (!gp)
		fail_msg("goproc__open(%s): %s", name, strerror(errno));
	if (goproc__status(gp))
		fail_msg("%s: %s", name, goproc__reason(gp));
	assert_int_equal(goproc__layout(gp), want);
	check_target(gp, t, N_LEAKERS);
}

/* Minor version of the Go that built the fixtures ("go1.19.8": 19), -1 if unknown. */
static int toolchain_minor(void)
{
	int minor;

	return sscanf(g_goversion, "go1.%d", &minor) == 1 ? minor : -1;
}

static bool toolchain_has_builtin(void)
{
	struct goproc_field f;

	return goproc__builtin_field(1, toolchain_minor(), EM_X86_64, 0, &f) == 0;
}

/* With DWARF: layouts by name from .debug_info (zlib-compressed sections). */
static void test_plain_build_matches_numgoroutine_and_memstats(void **state)
{
	run_and_check("target", GOPROC_LAYOUT_DWARF);
}

/* -ldflags=-w: no DWARF, so the toolchain's built-in amd64 table must do the same job. */
static void test_nodwarf_build_uses_builtin_layout(void **state)
{
	struct target *t = &g_t;
	struct goproc *gp;

	if (toolchain_has_builtin()) {
		run_and_check("target-nodwarf", GOPROC_LAYOUT_BUILTIN);
		return;
	}
	/* another toolchain: no table, and the refusal must say so */
	skip_unless_root();
	assert_int_equal(target_start(t, "target-nodwarf", N_LEAKERS), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	assert_int_equal(goproc__status(gp), -ENOTSUP);
	assert_non_null(strstr(goproc__reason(gp), "no built-in layout"));
}

/* PIE: every runtime address is shifted by the load bias. */
static void test_pie_build_translates_load_bias(void **state)
{
	struct target *t = &g_t;
	struct goproc *gp;

	skip_unless_root();
	assert_int_equal(target_start_prof(t, "target-pie"), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	assert_int_equal(goproc__status(gp), 0);
	assert_true(goproc__load_bias(gp) != 0);
	check_target(gp, t, N_LEAKERS);
}

/*
 * -s -w: no .symtab, so the runtime's globals are located from code
 * (govars.c) and the built-in table gives the layout: goroutines exactly as
 * the runtime counts them, the heap as ReadMemStats says within 5%, the heap
 * goal and the live heap from gcController (located from code too).
 */
static void test_stripped_build_reads_goroutines_and_heap(void **state)
{
	struct goproc_goroutines *gs = NULL;
	const struct goproc_group *site;
	struct target *t = &g_t;
	struct goproc *gp;
	struct report r;

	skip_unless_root();
	assert_int_equal(target_start(t, "target-stripped", N_LEAKERS), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	if (!toolchain_has_builtin()) {
		assert_int_equal(goproc__status(gp), -ENOTSUP);
		return;
	}
	assert_int_equal(goproc__status(gp), 0);
	assert_int_equal(goproc__layout(gp), GOPROC_LAYOUT_BUILTIN);
	report_parse(t, &r);
	assert_int_equal(goproc__goroutines(gp, NULL, &gs), 0);
	assert_int_equal(gs->unreadable, 0);
	assert_int_equal(gs->user, r.num_goroutine);
	site = find_site(gs->by_creator, gs->nr_by_creator, GOPROC_LEAKER_LINE);
	assert_non_null(site);
	assert_int_equal(site->count, N_LEAKERS);
	assert_non_null(site->top_wait_reason_str);
	assert_string_equal(site->top_wait_reason_str, "chan receive");
	goproc_goroutines__free(gs);
	check_heap(gp, t, &r);
}

/*
 * -s -w and no .go.buildinfo either (objcopy removed it, as some release
 * binaries ship): the version comes from runtime.buildVersion, located from
 * code, and still picks the built-in table: goroutines as the runtime
 * counts them.
 */
static void test_stripped_without_buildinfo_knows_its_version(void **state)
{
	struct goproc_goroutines *gs = NULL;
	struct target *t = &g_t;
	struct go_version v;
	struct goproc *gp;
	struct report r;

	skip_unless_root();
	assert_int_equal(target_start(t, "target-nobuildinfo", N_LEAKERS), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	assert_int_equal(goproc__version(gp, &v), 0);
	assert_string_equal(v.str, g_goversion);
	assert_int_equal(goproc__status(gp), 0);
	assert_int_equal(goproc__layout(gp), GOPROC_LAYOUT_BUILTIN);
	report_parse(t, &r);
	assert_int_equal(goproc__goroutines(gp, NULL, &gs), 0);
	assert_int_equal(gs->unreadable, 0);
	assert_int_equal(gs->user, r.num_goroutine);
	goproc_goroutines__free(gs);
}

/* The fallback table is what this toolchain's DWARF says, field by field. */
static void test_builtin_table_equals_dwarf_of_toolchain(void **state)
{
	struct goproc_field d, b;
	struct target *t = &g_t;
	struct goproc *gp;
	unsigned i, present = 0;

	if (!toolchain_has_builtin()) {
		fprintf(stderr, "SKIP goproc: toolchain %s has no built-in table to check\n",
			g_goversion);
		skip();
	}
	skip_unless_root();
	assert_int_equal(target_start(t, "target", 3), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	assert_int_equal(goproc__layout(gp), GOPROC_LAYOUT_DWARF);
	assert_int_equal(goproc__field(gp, goproc__nr_fields(), &d), -ERANGE);
	for (i = 0; i < goproc__nr_fields(); i++) {
		assert_int_equal(goproc__field(gp, i, &d), 0);
		assert_int_equal(goproc__builtin_field(1, toolchain_minor(), EM_X86_64, i, &b), 0);
		assert_string_equal(d.type, b.type);
		assert_string_equal(d.path, b.path);
		if (d.present != b.present || d.offset != b.offset || d.size != b.size ||
		    d.count != b.count || d.stride != b.stride)
			fail_msg("%s.%s: DWARF %d@%u+%u[%u/%u], built-in %d@%u+%u[%u/%u]", d.type,
				 d.path, d.present, d.offset, d.size, d.count, d.stride, b.present,
				 b.offset, b.size, b.count, b.stride);
		present += d.present;
	}
	/* a release lacks at most 5 (1.27: next_gc, heapGoal, inPtrScalarBits, byte counts) */
	assert_true(present >= goproc__nr_fields() - 5);
	/* tables for the generated releases only: a newer one may have moved anything */
	assert_int_equal(goproc__builtin_field(1, 18, EM_X86_64, 0, &b), -ENOTSUP);
	assert_int_equal(goproc__builtin_field(1, 27, EM_X86_64, 0, &b), 0);
	assert_int_equal(goproc__builtin_field(1, 28, EM_X86_64, 0, &b), -ENOTSUP);
	assert_int_equal(goproc__builtin_field(1, 19, EM_AARCH64, 0, &b), -ENOTSUP);
}

/* Limits hold: the walk stops and says so; groups stop growing and count the rest. */
static void test_limits_truncate_and_count(void **state)
{
	struct goproc_opts o = { .max_goroutines = 10 };
	struct goproc_goroutines *gs;
	struct target *t = &g_t;
	struct goproc *gp;

	skip_unless_root();
	assert_int_equal(target_start(t, "target", N_LEAKERS), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	assert_int_equal(goproc__goroutines(gp, &o, &gs), 0);
	assert_true(gs->truncated);
	assert_int_equal(gs->walked, 10);
	assert_true(gs->allglen > N_LEAKERS);
	assert_int_equal(gs->live + gs->dead + gs->unreadable, 10);
	goproc_goroutines__free(gs);

	o.max_goroutines = 0;
	o.max_groups = 1;
	assert_int_equal(goproc__goroutines(gp, &o, &gs), 0);
	assert_false(gs->truncated);
	assert_int_equal(gs->nr_by_creator, 1);
	assert_int_equal(gs->nr_by_start, 1);
	/* what did not fit a group is still counted */
	assert_true(gs->ungrouped > 0);
	assert_true(gs->ungrouped < gs->live);
	assert_true(gs->by_creator[0].count + gs->ungrouped >= gs->live);
	goproc_goroutines__free(gs);
}

/* A process that went away gives -ESRCH, not garbage. */
static void test_exited_target_is_esrch(void **state)
{
	struct goproc_heap_profile p;
	struct goproc_goroutines *gs;
	struct goproc_heap h;
	struct target *t = &g_t;
	struct goproc *gp;

	skip_unless_root();
	assert_int_equal(target_start(t, "target", 5), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	target_stop(t);
	assert_int_equal(goproc__goroutines(gp, NULL, &gs), -ESRCH);
	assert_int_equal(goproc__heap(gp, &h), -ESRCH);
	assert_int_equal(goproc__heap_profile(gp, NULL, &p), -ESRCH);
	goproc_heap_profile__free(&p);
}

/* Not a Go process, no process, no pid. */
static void test_open_refuses_non_go_and_missing(void **state)
{
	pid_t child;
	int st;

	errno = 0;
	assert_null(goproc__open(0));
	assert_int_equal(errno, EINVAL);
	/* this test binary is C: no buildinfo, no .gopclntab */
	errno = 0;
	assert_null(goproc__open(getpid()));
	assert_int_equal(errno, ENOEXEC);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &st, 0), child);
	errno = 0;
	assert_null(goproc__open(child));
	assert_int_equal(errno, ESRCH);
}

/*
 * With GOMEMLIMIT below the GOGC goal, the heap goal follows the memory
 * limit: the other branch of the runtime's heapGoalInternal().
 */
static void test_memory_limit_lowers_next_gc_like_the_runtime(void **state)
{
	static char env[] = "GOMEMLIMIT=80MiB";
	struct target *t = &g_t;
	struct goproc_heap h;
	struct report r;
	struct goproc *gp;

	skip_unless_root();
	assert_int_equal(target_start_env(t, "target", 3, 0, env), 0);
	report_parse(t, &r);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	assert_int_equal(goproc__heap(gp, &h), 0);
	assert_true(h.valid & GOPROC_HEAP_NEXT_GC);
	/* GOGC=100 alone would allow twice the 48 MiB held */
	assert_true(r.next_gc < 2 * ((uint64_t)HOLD_MB << 20));
	assert_within_5pct(h.next_gc, r.next_gc);
	assert_int_equal(h.num_gc, r.num_gc);
}

/*
 * Every Go program samples its heap at 512 KiB unless told otherwise; at that
 * rate the sampled counts still equal MemProfile's exactly, and the estimate
 * is within the 50% that ~128 samples allow (see PROF_MB).
 */
static void test_default_rate_profile_matches_memprofile(void **state)
{
	struct target *t = &g_t;
	struct report r;

	skip_unless_root();
	assert_int_equal(target_start_env(t, "target", 3, PROF_MB, NULL), 0);
	report_parse(t, &r);
	assert_int_equal(r.rate, DEFAULT_RATE);
	g_gp = goproc__open(t->pid);
	assert_non_null(g_gp);
	check_profile(g_gp, t, 50);
}

/* MemProfileRate = 0: there is no profile to read, and the error says why. */
static void test_profiling_off_is_enodata(void **state)
{
	static char env[] = "GOPROC_NOPROFILE=1";
	struct goproc_heap_profile p = { .nr_buckets = 99 };
	struct target *t = &g_t;
	struct goproc_heap h;
	struct report r;

	skip_unless_root();
	assert_int_equal(target_start_env(t, "target", 3, 1, env), 0);
	report_parse(t, &r);
	assert_int_equal(r.rate, 0);
	g_gp = goproc__open(t->pid);
	assert_non_null(g_gp);
	assert_int_equal(goproc__heap_profile(g_gp, NULL, &p), -ENODATA);
	assert_non_null(strstr(goproc__reason(g_gp), "memory profiling is off"));
	assert_int_equal(p.nr_buckets, 0);
	assert_null(p.buckets);
	goproc_heap_profile__free(&p);
	/* nothing else is affected */
	assert_int_equal(goproc__heap(g_gp, &h), 0);
}

/*
 * goproc__heap_unsample() is pprof's scaleHeapSample. The expected pairs are
 * that Go function's results (go1.19.8, math.Exp) for these inputs.
 */
static void test_unsample_is_pprofs_scale(void **state)
{
	static const struct {
		int64_t n, bytes, rate, want_n, want_bytes;
	} cases[] = {
		{ 134, 134 * 4096, 524288, 17219, 70529381 },
		{ 3609, 3609 * 4096, 16384, 16315, 66828735 },
		/* objects bigger than the rate are nearly always sampled */
		{ 3, 3 << 20, 524288, 3, 3638089 },
		{ 10, 640, 4096, 645, 41280 },
		/* rate 1 samples everything; rate <= 0 is unknown: unscaled */
		{ 10, 640, 1, 10, 640 },
		{ 10, 640, 0, 10, 640 },
		/* nothing in use scales to nothing */
		{ 0, 640, 4096, 0, 0 },
		{ 10, 0, 4096, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct goproc_heap_counts in = {
			.alloc_objects = cases[i].n * 2, .alloc_bytes = cases[i].bytes * 2,
			.inuse_objects = cases[i].n, .inuse_bytes = cases[i].bytes,
		}, out;
		struct goproc_heap_counts one = { 0 };

		goproc__heap_unsample(&in, cases[i].rate, &out);
		assert_int_equal(out.inuse_objects, cases[i].want_n);
		assert_int_equal(out.inuse_bytes, cases[i].want_bytes);
		/* the alloc pair is scaled on its own average: the same here, x2 */
		one.inuse_objects = in.alloc_objects;
		one.inuse_bytes = in.alloc_bytes;
		goproc__heap_unsample(&one, cases[i].rate, &one);
		assert_int_equal(out.alloc_objects, one.inuse_objects);
		assert_int_equal(out.alloc_bytes, one.inuse_bytes);
	}
}

/* ---- the impostor: hostile runtime memory written by the test ---- */

struct impostor {
	uint64_t allgs, allglen, allp, sched, memstats, gccontroller, class_to_size, scratch;
	uint64_t mbuckets, memprofilerate, mprofcycle, disablememprof, edge, pagesize;
};

/* Offsets of a built-in go1.19 amd64 field, the layout goproc reads the impostor with. */
static struct goproc_field bf(const char *type, const char *path)
{
	struct goproc_field f;
	unsigned i;

	for (i = 0; i < goproc__nr_fields(); i++) {
		assert_int_equal(goproc__builtin_field(1, 19, EM_X86_64, i, &f), 0);
		if (!strcmp(f.type, type) && !strcmp(f.path, path) && f.present)
			return f;
	}
	fail_msg("no built-in field %s.%s", type, path);
	return f;
}

static void poke(uint64_t addr, uint64_t v, unsigned size)
{
	uint8_t b[8];
	struct iovec l = { b, size }, r = { (void *)(uintptr_t)addr, size };
	unsigned i;

	for (i = 0; i < size; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	assert_int_equal(process_vm_writev(g_t.pid, &l, 1, &r, 1, 0), (ssize_t)size);
}

/* field of a struct at base (element i of an array field) */
static void poke_f(uint64_t base, const char *type, const char *path, unsigned i, uint64_t v)
{
	struct goproc_field f = bf(type, path);

	poke(base + f.offset + (uint64_t)i * f.stride, v, f.size);
}

static void impostor_start(struct impostor *im)
{
	assert_int_equal(target_start(&g_t, "impostor", 0), 0);
	assert_true(json_u64(g_t.line, "allgs", &im->allgs));
	assert_true(json_u64(g_t.line, "allglen", &im->allglen));
	assert_true(json_u64(g_t.line, "allp", &im->allp));
	assert_true(json_u64(g_t.line, "sched", &im->sched));
	assert_true(json_u64(g_t.line, "memstats", &im->memstats));
	assert_true(json_u64(g_t.line, "gccontroller", &im->gccontroller));
	assert_true(json_u64(g_t.line, "class_to_size", &im->class_to_size));
	assert_true(json_u64(g_t.line, "scratch", &im->scratch));
	assert_true(json_u64(g_t.line, "mbuckets", &im->mbuckets));
	assert_true(json_u64(g_t.line, "memprofilerate", &im->memprofilerate));
	assert_true(json_u64(g_t.line, "mprofcycle", &im->mprofcycle));
	assert_true(json_u64(g_t.line, "disablememprof", &im->disablememprof));
	assert_true(json_u64(g_t.line, "edge", &im->edge));
	assert_true(json_u64(g_t.line, "pagesize", &im->pagesize));
	g_gp = goproc__open(g_t.pid);
	assert_non_null(g_gp);
	assert_int_equal(goproc__status(g_gp), 0);
	assert_int_equal(goproc__layout(g_gp), GOPROC_LAYOUT_BUILTIN);
}

static void set_slice(uint64_t at, uint64_t arr, uint64_t len, uint64_t cap)
{
	poke(at, arr, 8);
	poke(at + 8, len, 8);
	poke(at + 16, cap, 8);
}

#define FAKE_G(im, k)	((im)->scratch + 0x1000 + (k) * 0x200)

static void fake_g(const struct impostor *im, unsigned k, uint32_t status, uint8_t wr,
		   uint64_t gopc, uint64_t startpc)
{
	poke_f(FAKE_G(im, k), "runtime.g", "atomicstatus", 0, status);
	poke_f(FAKE_G(im, k), "runtime.g", "waitreason", 0, wr);
	poke_f(FAKE_G(im, k), "runtime.g", "gopc", 0, gopc);
	poke_f(FAKE_G(im, k), "runtime.g", "startpc", 0, startpc);
}

/*
 * allgs full of what a hostile or half-initialised runtime could hold: NULL,
 * unaligned, unmapped and kernel addresses and an impossible status are
 * counted as unreadable and skipped; the real g's are counted and grouped.
 */
static void test_hostile_allgs_entries_are_counted_not_followed(void **state)
{
	const uint64_t gopc_a = 0x1234, gopc_b = 0x9999, start = 0x5678;
	const uint64_t bad[] = { 0, 0, FAKE_G(&(struct impostor){ 0 }, 0) + 3, 0x10,
				 0x7ffffffff000ull, 0xffff800000001000ull };
	struct goproc_goroutines *gs;
	const struct goproc_group *a;
	struct impostor im;
	uint64_t ptrs[16];
	unsigned n = 0, i;

	skip_unless_root();
	impostor_start(&im);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ptrs[n++] = bad[i] ? bad[i] + (i == 2 ? im.scratch : 0) : 0;
	fake_g(&im, 0, 0x7777, 0, 0, 0);		/* impossible status */
	fake_g(&im, 1, 4, 7, gopc_a, start);		/* _Gwaiting */
	fake_g(&im, 2, 4 | 0x1000, 7, gopc_a, start);	/* _Gscanwaiting */
	fake_g(&im, 3, 4, 9, gopc_a, start);
	fake_g(&im, 4, 6, 0, gopc_a, start);		/* _Gdead */
	fake_g(&im, 5, 0, 0, 0, 0);			/* _Gidle */
	fake_g(&im, 6, 2, 0, gopc_b, start);		/* _Grunning */
	for (i = 0; i < 7; i++)
		ptrs[n++] = FAKE_G(&im, i);
	for (i = 0; i < n; i++)
		poke(im.scratch + i * 8, ptrs[i], 8);
	set_slice(im.allgs, im.scratch, n, n);
	poke(im.allglen, n, 8);
	/* allp claims more Ps than any runtime has: gcount gives up, the walk does not */
	set_slice(im.allp, im.scratch + 0x800, 1u << 20, 1u << 20);

	assert_int_equal(goproc__goroutines(g_gp, NULL, &gs), 0);
	assert_int_equal(gs->walked, n);
	assert_int_equal(gs->unreadable, sizeof(bad) / sizeof(bad[0]) + 1);
	assert_int_equal(gs->dead, 2);
	assert_int_equal(gs->live, 4);
	assert_int_equal(gs->by_state[GOPROC_G_WAITING], 3);
	assert_int_equal(gs->by_state[GOPROC_G_RUNNING], 1);
	/* no pclntab: start functions are unknown, so nothing is a system goroutine */
	assert_int_equal(gs->user, 4);
	assert_int_equal(gs->gcount_err, -E2BIG);
	assert_int_equal(gs->nr_by_creator, 2);
	a = &gs->by_creator[0];
	assert_int_equal(a->pc, gopc_a);
	assert_int_equal(a->count, 3);
	assert_null(a->func);
	assert_int_equal(a->top_wait_reason, 7);
	assert_int_equal(a->top_wait_count, 2);
	/* the impostor has no runtime.waitReasonStrings */
	assert_null(a->top_wait_reason_str);
	assert_int_equal(gs->by_creator[1].pc, gopc_b);
	assert_int_equal(gs->nr_by_start, 1);
	assert_int_equal(gs->by_start[0].count, 4);
	goproc_goroutines__free(gs);

	/* with sane Ps, gcount is the runtime's formula on these counters */
	set_slice(im.allp, im.scratch + 0x800, 1, 1);
	poke(im.scratch + 0x800, im.scratch + 0x4000, 8);
	poke_f(im.scratch + 0x4000, "runtime.p", "gFree.n", 0, 2);
	poke_f(im.sched, "runtime.schedt", "gFree.n", 0, 3);
	poke_f(im.sched, "runtime.schedt", "ngsys", 0, 4);
	assert_int_equal(goproc__goroutines(g_gp, NULL, &gs), 0);
	assert_int_equal(gs->gcount_err, 0);
	assert_int_equal(gs->gcount, (int64_t)n - 2 - 3 - 4);
	goproc_goroutines__free(gs);
	/* and never below 1, as NumGoroutine */
	poke_f(im.sched, "runtime.schedt", "ngsys", 0, 1000);
	assert_int_equal(goproc__goroutines(g_gp, NULL, &gs), 0);
	assert_int_equal(gs->gcount, 1);
	goproc_goroutines__free(gs);
}

/* allgs headers no runtime could have are refused, not walked. */
static void test_absurd_allgs_is_refused(void **state)
{
	struct goproc_goroutines *gs = (void *)1;
	struct impostor im;

	skip_unless_root();
	impostor_start(&im);
	/* 2^62 entries */
	set_slice(im.allgs, im.scratch, 1ull << 62, 1ull << 62);
	poke(im.allglen, 1ull << 62, 8);
	assert_int_equal(goproc__goroutines(g_gp, NULL, &gs), -E2BIG);
	assert_null(gs);
	assert_non_null(strstr(goproc__reason(g_gp), "runtime.allgs"));
	/* len > cap */
	set_slice(im.allgs, im.scratch, 10, 5);
	assert_int_equal(goproc__goroutines(g_gp, NULL, &gs), -E2BIG);
	/* an array that is not mapped */
	set_slice(im.allgs, 0x10000, 5, 5);
	poke(im.allglen, 5, 8);
	assert_int_equal(goproc__goroutines(g_gp, NULL, &gs), -EFAULT);
	assert_null(gs);
	/* allglen larger than the slice: only the slice is walked */
	set_slice(im.allgs, im.scratch, 3, 3);
	poke(im.allglen, 1000000, 8);
	assert_int_equal(goproc__goroutines(g_gp, NULL, &gs), 0);
	assert_int_equal(gs->walked, 3);
	assert_int_equal(gs->allglen, 1000000);
	assert_int_equal(gs->unreadable, 3);	/* the scratch is zeroed: NULL g's */
	goproc_goroutines__free(gs);
}

struct gen_stats {
	int64_t committed, released, in_heap, in_stacks, in_workbufs;
	uint64_t tiny, large_alloc, large_alloc_n, small_alloc5, small_free5;
};

static void poke_gen(const struct impostor *im, unsigned gen, const struct gen_stats *g)
{
	struct goproc_field st = bf("runtime.mstats", "heapStats.stats");
	uint64_t d = im->memstats + st.offset + (uint64_t)gen * st.stride;
	const char *h = "runtime.heapStatsDelta";

	poke_f(d, h, "committed", 0, (uint64_t)g->committed);
	poke_f(d, h, "released", 0, (uint64_t)g->released);
	poke_f(d, h, "inHeap", 0, (uint64_t)g->in_heap);
	poke_f(d, h, "inStacks", 0, (uint64_t)g->in_stacks);
	poke_f(d, h, "inWorkBufs", 0, (uint64_t)g->in_workbufs);
	poke_f(d, h, "tinyAllocCount", 0, g->tiny);
	poke_f(d, h, "largeAlloc", 0, g->large_alloc);
	poke_f(d, h, "largeAllocCount", 0, g->large_alloc_n);
	poke_f(d, h, "smallAllocCount", 5, g->small_alloc5);
	poke_f(d, h, "smallFreeCount", 5, g->small_free5);
}

/*
 * The heap numbers are the three generations of memstats.heapStats summed
 * (some deltas negative, as the runtime's are), plus the slots a P's cached
 * span handed out since it was cached; a span whose element size does not
 * match its class is ignored.
 */
static void test_heap_sums_generations_and_p_caches(void **state)
{
	const struct gen_stats gen[3] = {
		{ 8 << 20, 1 << 20, 3 << 20, 512 << 10, 64 << 10, 10, 1 << 20, 1, 60, 30 },
		{ 3 << 20, 0, 2 << 20, 0, 0, 0, 0, 0, 40, 0 },
		{ -(1 << 20), 0, -(1 << 20), 0, 0, 0, 0, 0, 0, 0 },
	};
	const uint64_t sys_parts = 1 + 2 + 3 + 4 + 5 + 6, cls5 = 48;
	const char *sysf[] = { "stacks_sys", "mspan_sys", "mcache_sys", "buckhash_sys",
			       "gcMiscSys", "other_sys" };
	uint64_t committed = 0, released = 0, in_heap = 0, in_stacks = 0, in_wb = 0, tiny = 0;
	uint64_t la = 0, lan = 0, sa = 0, sf = 0, p, mc, span, retained, alloc, mallocs;
	struct goproc_heap h;
	struct impostor im;
	unsigned i;

	skip_unless_root();
	impostor_start(&im);
	for (i = 0; i < 3; i++) {
		poke_gen(&im, i, &gen[i]);
		committed += (uint64_t)gen[i].committed;
		released += (uint64_t)gen[i].released;
		in_heap += (uint64_t)gen[i].in_heap;
		in_stacks += (uint64_t)gen[i].in_stacks;
		in_wb += (uint64_t)gen[i].in_workbufs;
		tiny += gen[i].tiny;
		la += gen[i].large_alloc;
		lan += gen[i].large_alloc_n;
		sa += gen[i].small_alloc5;
		sf += gen[i].small_free5;
	}
	poke(im.class_to_size + 5 * 2, cls5, 2);
	poke(im.class_to_size + 6 * 2, 64, 2);
	for (i = 0; i < 6; i++)
		poke_f(im.memstats, "runtime.mstats", sysf[i], 0, i + 1);
	poke_f(im.memstats, "runtime.mstats", "numgc", 0, 7);
	poke_f(im.gccontroller, "runtime.gcControllerState", "gcPercentHeapGoal", 0, 8 << 20);
	poke_f(im.gccontroller, "runtime.gcControllerState", "memoryLimit", 0, INT64_MAX);
	poke_f(im.gccontroller, "runtime.gcControllerState", "triggered", 0, ~0ull);
	poke_f(im.gccontroller, "runtime.gcControllerState", "heapMarked", 0, 4 << 20);

	/* one P; its mcache caches a class-5 span (spanclass 10) with 3 new slots */
	p = im.scratch + 0x4000;
	mc = im.scratch + 0x6000;
	span = im.scratch + 0x7000;
	set_slice(im.allp, im.scratch + 0x800, 1, 1);
	poke(im.scratch + 0x800, p, 8);
	poke_f(p, "runtime.p", "mcache", 0, mc);
	poke_f(mc, "runtime.mcache", "tinyAllocs", 0, 4);
	poke_f(mc, "runtime.mcache", "alloc", 10, span);
	poke_f(span, "runtime.mspan", "allocCount", 0, 5);
	poke_f(span, "runtime.mspan", "allocCountBeforeCache", 0, 2);
	poke_f(span, "runtime.mspan", "elemsize", 0, cls5);
	poke_f(span, "runtime.mspan", "nelems", 0, 170);
	/* class 6 (spanclass 12): element size is not class 6's: torn or stale, skipped */
	poke_f(mc, "runtime.mcache", "alloc", 12, span + 0x100);
	poke_f(span + 0x100, "runtime.mspan", "allocCount", 0, 9);
	poke_f(span + 0x100, "runtime.mspan", "elemsize", 0, 999);
	poke_f(span + 0x100, "runtime.mspan", "nelems", 0, 10);
	/* a wild span pointer: skipped */
	poke_f(mc, "runtime.mcache", "alloc", 14, 0x10);

	assert_int_equal(goproc__heap(g_gp, &h), 0);
	assert_int_equal(h.valid, GOPROC_HEAP_SYS | GOPROC_HEAP_NEXT_GC | GOPROC_HEAP_MCACHE |
				  GOPROC_HEAP_LIVE);
	retained = committed - in_stacks - in_wb;
	alloc = la + (sa + 3) * cls5 - sf * cls5;
	mallocs = lan + sa + 3 + tiny + 4;
	assert_int_equal(h.heap_inuse, in_heap);
	assert_int_equal(h.heap_released, released);
	assert_int_equal(h.heap_idle, retained - in_heap + released);
	assert_int_equal(h.heap_sys, retained + released);
	assert_int_equal(h.stack_inuse, in_stacks);
	assert_int_equal(h.mcache_unflushed, 3 * cls5);
	assert_int_equal(h.total_alloc, la + (sa + 3) * cls5);
	assert_int_equal(h.heap_alloc, alloc);
	assert_int_equal(h.mallocs, mallocs);
	assert_int_equal(h.frees, sf + tiny + 4);
	assert_int_equal(h.heap_objects, mallocs - (sf + tiny + 4));
	assert_int_equal(h.sys, retained + released + sys_parts + in_stacks + in_wb);
	assert_int_equal(h.num_gc, 7);
	/* no memory limit, no cycle running: the GOGC goal */
	assert_int_equal(h.next_gc, 8 << 20);
	/* what the last GC marked */
	assert_int_equal(h.live_after_last_gc, 4 << 20);

	/* before the first GC heapMarked is 0: no figure, a reason */
	poke_f(im.memstats, "runtime.mstats", "numgc", 0, 0);
	assert_int_equal(goproc__heap(g_gp, &h), 0);
	assert_false(h.valid & GOPROC_HEAP_LIVE);
	assert_int_equal(h.live_after_last_gc, 0);
	assert_non_null(h.live_why);
	assert_non_null(strstr(h.live_why, "no GC"));
}

/* Counters that contradict each other are not reported as numbers. */
static void test_contradictory_heap_is_eagain(void **state)
{
	const struct gen_stats g = { 1 << 20, 0, 4 << 20, 0, 0, 0, 0, 0, 1, 5 };
	struct goproc_heap h;
	struct impostor im;

	skip_unless_root();
	impostor_start(&im);
	poke(im.class_to_size + 5 * 2, 48, 2);
	/* more in the heap than committed, more freed than allocated */
	poke_gen(&im, 0, &g);
	assert_int_equal(goproc__heap(g_gp, &h), -EAGAIN);
	assert_non_null(strstr(goproc__reason(g_gp), "contradicted"));
}

/* ---- heap profile buckets in the impostor ---- */

enum { C_ALLOCS, C_FREES, C_ALLOC_BYTES, C_FREE_BYTES, C_NR };

struct fake_bucket {
	uint64_t typ, size, nstk;
	uint64_t pcs[GOPROC_PROF_MAX_STACK_122];
	uint64_t active[C_NR];
	uint64_t future[3][C_NR];
};

#define BUCKET(im, k)	((im)->scratch + 0x10000 + (k) * 0x400)

/* Bytes a bucket with nstk PCs occupies: header, stack, memRecord. */
static uint64_t bucket_len(uint64_t nstk)
{
	struct goproc_field hdr = bf("runtime.bucket", ""), fut = bf("runtime.memRecord", "future");

	return hdr.size + nstk * 8 + fut.offset + (uint64_t)fut.count * fut.stride;
}

/* Write fb at addr, its allnext pointing to next, laid out as go1.19's runtime does. */
static void poke_bucket(uint64_t at, uint64_t next, const struct fake_bucket *fb)
{
	static const char *const cf[C_NR] = { "allocs", "frees", "alloc_bytes", "free_bytes" };
	struct goproc_field hdr = bf("runtime.bucket", ""), act = bf("runtime.memRecord", "active");
	struct goproc_field fut = bf("runtime.memRecord", "future");
	uint64_t k, mr = at + hdr.size + fb->nstk * 8;
	unsigned c, i;

	poke_f(at, "runtime.bucket", "allnext", 0, next);
	poke_f(at, "runtime.bucket", "typ", 0, fb->typ);
	poke_f(at, "runtime.bucket", "size", 0, fb->size);
	poke_f(at, "runtime.bucket", "nstk", 0, fb->nstk);
	for (k = 0; k < fb->nstk && k < GOPROC_PROF_MAX_STACK_122; k++)
		poke(at + hdr.size + k * 8, fb->pcs[k], 8);
	if (fb->nstk > GOPROC_PROF_MAX_STACK_122)
		return;
	for (c = 0; c < C_NR; c++) {
		poke_f(mr + act.offset, "runtime.memRecordCycle", cf[c], 0, fb->active[c]);
		for (i = 0; i < 3; i++)
			poke_f(mr + fut.offset + i * fut.stride, "runtime.memRecordCycle", cf[c],
			       0, fb->future[i][c]);
	}
}

/* What MemProfile reports for fb when cycle idx is the one being published. */
static struct goproc_heap_counts fake_counts(const struct fake_bucket *fb, int idx)
{
	uint64_t c[C_NR];
	struct goproc_heap_counts r;
	unsigned k, i;

	for (k = 0; k < C_NR; k++) {
		c[k] = fb->active[k];
		for (i = 0; i < 3; i++)
			if (idx < 0 || (unsigned)idx == i)
				c[k] += fb->future[i][k];
	}
	r.alloc_objects = (int64_t)c[C_ALLOCS];
	r.alloc_bytes = (int64_t)c[C_ALLOC_BYTES];
	r.inuse_objects = (int64_t)(c[C_ALLOCS] - c[C_FREES]);
	r.inuse_bytes = (int64_t)(c[C_ALLOC_BYTES] - c[C_FREE_BYTES]);
	return r;
}

static void assert_counts_equal(const struct goproc_heap_counts *got,
				const struct goproc_heap_counts *want)
{
	assert_int_equal(got->alloc_objects, want->alloc_objects);
	assert_int_equal(got->alloc_bytes, want->alloc_bytes);
	assert_int_equal(got->inuse_objects, want->inuse_objects);
	assert_int_equal(got->inuse_bytes, want->inuse_bytes);
}

static const struct goproc_heap_bucket *bucket_at(const struct goproc_heap_profile *p,
						  uint64_t addr)
{
	size_t i;

	for (i = 0; i < p->nr_buckets; i++)
		if (p->buckets[i].addr == addr)
			return &p->buckets[i];
	return NULL;
}

/* Three buckets as go1.19 lays them out: a small one, a full 32-PC one, one all freed. */
static void fake_three(const struct impostor *im, struct fake_bucket fb[3])
{
	unsigned k;

	memset(fb, 0, 3 * sizeof(*fb));
	fb[0] = (struct fake_bucket){
		.typ = 1, .size = 64, .nstk = 2, .pcs = { 0x401000, 0x402000 },
		.active = { 10, 4, 640, 256 },
		.future = { { 100, 0, 6400, 0 }, { 2, 1, 128, 64 }, { 50, 0, 3200, 0 } },
	};
	fb[1] = (struct fake_bucket){
		.typ = 1, .size = 1 << 20, .nstk = GOPROC_PROF_MAX_STACK_122,
		.active = { 3, 0, 3 << 20, 0 },
	};
	for (k = 0; k < GOPROC_PROF_MAX_STACK_122; k++)
		fb[1].pcs[k] = 0x500000 + k * 0x10;
	fb[2] = (struct fake_bucket){ .typ = 1, .size = 16, .nstk = 0, .active = { 5, 5, 80, 80 } };
	poke_bucket(BUCKET(im, 0), BUCKET(im, 1), &fb[0]);
	poke_bucket(BUCKET(im, 1), BUCKET(im, 2), &fb[1]);
	poke_bucket(BUCKET(im, 2), 0, &fb[2]);
	poke(im->mbuckets, BUCKET(im, 0), 8);
}

/*
 * The profile is MemProfile's view of runtime.mbuckets: the active cycle
 * plus the one mProfCycle says is being published (not the two still
 * collecting), sorted by in-use bytes, every PC kept; with no published
 * counts at all (no GC yet) every cycle; inuse_only drops the fully freed.
 */
static void test_impostor_profile_follows_memprofile(void **state)
{
	const uint32_t cycle = 7;	/* future[7 % 3] is being published */
	struct goproc_heap_profile_opts o = { .inuse_only = true };
	struct goproc_heap_counts want, tot = { 0 }, utot = { 0 }, u;
	const struct goproc_heap_bucket *b;
	struct goproc_heap_profile p;
	struct fake_bucket fb[3];
	struct impostor im;
	unsigned i, k;

	skip_unless_root();
	impostor_start(&im);
	fake_three(&im, fb);
	poke(im.memprofilerate, 4096, 8);
	poke(im.mprofcycle, cycle << 1, 4);

	assert_int_equal(goproc__heap_profile(g_gp, NULL, &p), 0);
	assert_int_equal(p.rate, 4096);
	assert_int_equal(p.walked, 3);
	assert_int_equal(p.nr_buckets, 3);
	assert_int_equal(p.stop_err, 0);
	assert_false(p.truncated || p.looped || p.torn || p.unpublished);
	/* 3 MiB, then 384 + 64 bytes, then nothing in use */
	assert_int_equal(p.buckets[0].addr, BUCKET(&im, 1));
	assert_int_equal(p.buckets[1].addr, BUCKET(&im, 0));
	assert_int_equal(p.buckets[2].addr, BUCKET(&im, 2));
	for (i = 0; i < 3; i++) {
		b = bucket_at(&p, BUCKET(&im, i));
		assert_non_null(b);
		want = fake_counts(&fb[i], cycle % 3);
		assert_counts_equal(&b->sampled, &want);
		assert_int_equal(b->size, fb[i].size);
		assert_int_equal(b->nr_frames, fb[i].nstk);
		for (k = 0; k < fb[i].nstk; k++) {
			assert_int_equal(b->frames[k].pc, fb[i].pcs[k]);
			/* a C program has no .gopclntab: no names, and no guessing */
			assert_null(b->frames[k].func);
		}
		counts_add(&tot, &want);
		goproc__heap_unsample(&want, 4096, &u);
		counts_add(&utot, &u);
	}
	assert_counts_equal(&p.total_sampled, &tot);
	assert_counts_equal(&p.total_unsampled, &utot);
	goproc_heap_profile__free(&p);

	assert_int_equal(goproc__heap_profile(g_gp, &o, &p), 0);
	assert_int_equal(p.nr_buckets, 2);
	assert_int_equal(p.skipped_zero, 1);
	assert_null(bucket_at(&p, BUCKET(&im, 2)));
	goproc_heap_profile__free(&p);

	/* nothing published yet: every cycle counts, and the profile says so */
	for (i = 0; i < 3; i++) {
		memset(fb[i].active, 0, sizeof(fb[i].active));
		memset(fb[i].future[cycle % 3], 0, sizeof(fb[i].future[0]));
		fb[i].future[(cycle + 2) % 3][C_ALLOCS] += 1;
		fb[i].future[(cycle + 2) % 3][C_ALLOC_BYTES] += fb[i].size;
		poke_bucket(BUCKET(&im, i), i < 2 ? BUCKET(&im, i + 1) : 0, &fb[i]);
	}
	assert_int_equal(goproc__heap_profile(g_gp, NULL, &p), 0);
	assert_true(p.unpublished);
	for (i = 0; i < 3; i++) {
		b = bucket_at(&p, BUCKET(&im, i));
		assert_non_null(b);
		want = fake_counts(&fb[i], -1);
		assert_true(want.alloc_objects > 0);
		assert_counts_equal(&b->sampled, &want);
	}
	goproc_heap_profile__free(&p);
}

/* Run the profile expecting success; return it for the caller's claims. */
static void profile_ok(const struct goproc_heap_profile_opts *o, struct goproc_heap_profile *p)
{
	int err = goproc__heap_profile(g_gp, o, p);

	if (err)
		fail_msg("heap profile: %s (%s)", strerror(-err), goproc__reason(g_gp));
}

/*
 * A list no runtime could have ends the walk where it goes wrong, keeping
 * what came before: loops (each bucket kept once), the bucket limit, an
 * impossible stack depth or type, misaligned and unmapped links. A bucket
 * at the very end of its mapping still reads.
 */
static void test_hostile_bucket_lists_stop_cleanly(void **state)
{
	struct goproc_heap_profile_opts o = { .max_buckets = 2 };
	struct goproc_heap_counts want;
	struct goproc_heap_profile p;
	struct fake_bucket fb[3], edge;
	struct impostor im;
	uint64_t at;
	unsigned i;

	skip_unless_root();
	impostor_start(&im);
	fake_three(&im, fb);
	poke(im.memprofilerate, 512 * 1024, 8);

	/* the limit */
	profile_ok(&o, &p);
	assert_true(p.truncated);
	assert_int_equal(p.nr_buckets, 2);
	assert_int_equal(p.walked, 2);
	goproc_heap_profile__free(&p);

	/* 0 -> 1 -> 2 -> 1: three buckets, once each */
	poke_f(BUCKET(&im, 2), "runtime.bucket", "allnext", 0, BUCKET(&im, 1));
	profile_ok(NULL, &p);
	assert_true(p.looped);
	assert_int_equal(p.stop_err, 0);
	assert_int_equal(p.nr_buckets, 3);
	for (i = 0; i < 3; i++)
		assert_non_null(bucket_at(&p, BUCKET(&im, i)));
	goproc_heap_profile__free(&p);

	/* a bucket linked to itself */
	poke_f(BUCKET(&im, 0), "runtime.bucket", "allnext", 0, BUCKET(&im, 0));
	profile_ok(NULL, &p);
	assert_true(p.looped);
	assert_int_equal(p.nr_buckets, 1);
	goproc_heap_profile__free(&p);

	/* a tail of 4 into a loop of 6: ten distinct buckets */
	for (i = 0; i < 10; i++)
		poke_bucket(BUCKET(&im, i), BUCKET(&im, i < 9 ? i + 1 : 4), &fb[0]);
	profile_ok(NULL, &p);
	assert_true(p.looped);
	assert_int_equal(p.nr_buckets, 10);
	for (i = 0; i < 10; i++)
		assert_non_null(bucket_at(&p, BUCKET(&im, i)));
	goproc_heap_profile__free(&p);

	fake_three(&im, fb);
	/* deeper than the runtime's maxStack */
	fb[1].nstk = GOPROC_PROF_MAX_STACK_122 + 1;
	poke_bucket(BUCKET(&im, 1), BUCKET(&im, 2), &fb[1]);
	profile_ok(NULL, &p);
	assert_int_equal(p.stop_err, -EINVAL);
	assert_int_equal(p.nr_buckets, 1);
	assert_int_equal(p.buckets[0].addr, BUCKET(&im, 0));
	assert_non_null(strstr(goproc__reason(g_gp), "more than 32"));
	goproc_heap_profile__free(&p);

	/* a block-profile bucket on the memory list */
	fb[1].nstk = 3;
	fb[1].typ = 2;
	poke_bucket(BUCKET(&im, 1), BUCKET(&im, 2), &fb[1]);
	profile_ok(NULL, &p);
	assert_int_equal(p.stop_err, -EINVAL);
	assert_int_equal(p.nr_buckets, 1);
	assert_non_null(strstr(goproc__reason(g_gp), "memProfile"));
	goproc_heap_profile__free(&p);

	/* misaligned, unmapped and kernel links */
	poke_f(BUCKET(&im, 0), "runtime.bucket", "allnext", 0, BUCKET(&im, 1) + 4);
	profile_ok(NULL, &p);
	assert_int_equal(p.stop_err, -EINVAL);
	assert_int_equal(p.nr_buckets, 1);
	goproc_heap_profile__free(&p);
	poke_f(BUCKET(&im, 0), "runtime.bucket", "allnext", 0, 0x10000);
	profile_ok(NULL, &p);
	assert_int_equal(p.stop_err, -EFAULT);
	assert_int_equal(p.nr_buckets, 1);
	goproc_heap_profile__free(&p);
	poke(im.mbuckets, 0xffff800000001000ull, 8);
	profile_ok(NULL, &p);
	assert_int_equal(p.stop_err, -EFAULT);
	assert_int_equal(p.nr_buckets, 0);
	goproc_heap_profile__free(&p);

	/* one PC, ending exactly where the guard page starts: reads */
	edge = fb[0];
	edge.nstk = 1;
	at = im.edge + im.pagesize - bucket_len(1);
	poke_bucket(at, 0, &edge);
	poke(im.mbuckets, at, 8);
	profile_ok(NULL, &p);
	assert_int_equal(p.stop_err, 0);
	assert_int_equal(p.nr_buckets, 1);
	assert_int_equal(p.buckets[0].nr_frames, 1);
	assert_int_equal(p.buckets[0].frames[0].pc, edge.pcs[0]);
	want = fake_counts(&edge, 0);	/* mProfCycle is 0 */
	assert_counts_equal(&p.buckets[0].sampled, &want);
	goproc_heap_profile__free(&p);
	/* the same header claiming two PCs: its memRecord would be in the guard page */
	poke_f(at, "runtime.bucket", "nstk", 0, 2);
	profile_ok(NULL, &p);
	assert_int_equal(p.stop_err, -EFAULT);
	assert_int_equal(p.nr_buckets, 0);
	goproc_heap_profile__free(&p);
}

/* Rate 0 or below is "off"; the linker's own switch is named when it is set. */
static void test_impostor_profiling_off_says_why(void **state)
{
	struct goproc_heap_profile p;
	struct fake_bucket fb[3];
	struct impostor im;

	skip_unless_root();
	impostor_start(&im);
	fake_three(&im, fb);
	assert_int_equal(goproc__heap_profile(g_gp, NULL, &p), -ENODATA);
	assert_non_null(strstr(goproc__reason(g_gp), "MemProfileRate is 0"));
	poke(im.memprofilerate, (uint64_t)-1, 8);
	assert_int_equal(goproc__heap_profile(g_gp, NULL, &p), -ENODATA);
	assert_int_equal(p.rate, -1);
	poke(im.memprofilerate, 0, 8);
	poke(im.disablememprof, 1, 1);
	assert_int_equal(goproc__heap_profile(g_gp, NULL, &p), -ENODATA);
	assert_non_null(strstr(goproc__reason(g_gp), "linker"));
	goproc_heap_profile__free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_plain_build_matches_numgoroutine_and_memstats,
					  test_teardown),
		cmocka_unit_test_teardown(test_nodwarf_build_uses_builtin_layout, test_teardown),
		cmocka_unit_test_teardown(test_pie_build_translates_load_bias, test_teardown),
		cmocka_unit_test_teardown(test_stripped_build_reads_goroutines_and_heap,
					  test_teardown),
		cmocka_unit_test_teardown(test_builtin_table_equals_dwarf_of_toolchain,
					  test_teardown),
		cmocka_unit_test_teardown(test_limits_truncate_and_count, test_teardown),
		cmocka_unit_test_teardown(test_exited_target_is_esrch, test_teardown),
		cmocka_unit_test_teardown(test_open_refuses_non_go_and_missing, test_teardown),
		cmocka_unit_test_teardown(test_memory_limit_lowers_next_gc_like_the_runtime,
					  test_teardown),
		cmocka_unit_test_teardown(test_hostile_allgs_entries_are_counted_not_followed,
					  test_teardown),
		cmocka_unit_test_teardown(test_absurd_allgs_is_refused, test_teardown),
		cmocka_unit_test_teardown(test_heap_sums_generations_and_p_caches, test_teardown),
		cmocka_unit_test_teardown(test_contradictory_heap_is_eagain, test_teardown),
		cmocka_unit_test_teardown(test_default_rate_profile_matches_memprofile,
					  test_teardown),
		cmocka_unit_test_teardown(test_profiling_off_is_enodata, test_teardown),
		cmocka_unit_test(test_unsample_is_pprofs_scale),
		cmocka_unit_test_teardown(test_impostor_profile_follows_memprofile, test_teardown),
		cmocka_unit_test_teardown(test_hostile_bucket_lists_stop_cleanly, test_teardown),
		cmocka_unit_test_teardown(test_impostor_profiling_off_says_why, test_teardown),
	};

	/* What every release of the Go matrix must meet, plain and stripped. */
	const struct CMUnitTest matrix[] = {
		cmocka_unit_test_teardown(test_plain_build_matches_numgoroutine_and_memstats,
					  test_teardown),
		cmocka_unit_test_teardown(test_stripped_build_reads_goroutines_and_heap,
					  test_teardown),
		cmocka_unit_test_teardown(test_stripped_without_buildinfo_knows_its_version,
					  test_teardown),
		cmocka_unit_test_teardown(test_builtin_table_equals_dwarf_of_toolchain,
					  test_teardown),
		cmocka_unit_test_teardown(test_memory_limit_lowers_next_gc_like_the_runtime,
					  test_teardown),
		cmocka_unit_test_teardown(test_default_rate_profile_matches_memprofile,
					  test_teardown),
	};
	const char *o = getenv("MS_BUILD"), *only = getenv("MS_GOPROC_FIXTURES");
	char dir[512], name[96], line[64];
	int failed = 0;
	FILE *f;

	/* a target we failed to stop must not kill us through a broken pipe */
	signal(SIGPIPE, SIG_IGN);
	o = o && *o ? o : "build";
	if (only && *only) {
		if (fixture_dir_set(only))
			return 1;
		snprintf(name, sizeof(name), "goproc %s", g_goversion);
		return cmocka_run_group_tests_name(name, matrix, matrix_setup, NULL);
	}
	snprintf(dir, sizeof(dir), "%s/fixtures/goproc", o);
	if (fixture_dir_set(dir))
		return 1;
	failed += cmocka_run_group_tests_name("goproc", tests, group_setup, NULL);

	snprintf(dir, sizeof(dir), "%s/fixtures/gomatrix/releases", o);
	f = fopen(dir, "r");
	if (!f) {
		fprintf(stderr, "goproc: %s does not read (set MS_BUILD)\n", dir);
		return failed + 1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		snprintf(dir, sizeof(dir), "%s/fixtures/gomatrix/%s", o, line);
		if (fixture_dir_set(dir)) {
			failed++;
			continue;
		}
		snprintf(name, sizeof(name), "goproc %s", g_goversion);
		failed += cmocka_run_group_tests_name(name, matrix, matrix_setup, NULL);
	}
	fclose(f);
	return failed;
}
