// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading live Go processes from the outside. tests/fixtures/goproc.mk builds
 * tests/fixtures/goproc/target four ways (plain, -w, -s -w, PIE); each test
 * runs one, waits for the JSON line in which the target reports its own
 * runtime.NumGoroutine() and runtime.ReadMemStats(), then reads the same
 * process with goproc and compares. Expected values come from the target at
 * run time and from $(O)/fixtures/goproc/expect.h (the line of the `go
 * leaker` statement, the toolchain version), never from this file.
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
#include "goproc.h"

/* Arguments of every target: goroutines parked at the leaker site, goroutines
 * that finish, MiB held in a global. Odd numbers so no count matches by chance. */
#define N_LEAKERS	137
#define N_QUICK		25
#define HOLD_MB		48
#define READY_TIMEOUT_MS 60000

struct target {
	const char *name;
	pid_t pid;
	int in_fd;		/* its stdin: closing it lets the target exit */
	char line[1024];	/* its JSON report */
};

struct report {
	uint64_t pid, num_goroutine, heap_alloc, heap_inuse, heap_idle, heap_released, heap_sys,
		 next_gc, num_gc, sys, stack_inuse;
};

static bool g_root;
/*
 * The running target and its reader: globals, so that the per-test teardown
 * stops and frees them even when an assertion jumped out of the test.
 */
static struct target g_t = { .pid = -1 };
static struct goproc *g_gp;

static void fixture_path(char *buf, size_t len, const char *name)
{
	const char *o = getenv("MS_BUILD");

	snprintf(buf, len, "%s/fixtures/goproc/%s", o && *o ? o : "build", name);
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
	assert_int_equal(r->pid, t->pid);
}

/* Start $(O)/fixtures/goproc/<name> and wait for its report line. */
static int target_start_env(struct target *t, const char *name, int n_leakers, char *env)
{
	char path[512], a1[16], a2[16], a3[16];
	int in[2], out[2];
	size_t got = 0;

	fixture_path(path, sizeof(path), name);
	snprintf(a1, sizeof(a1), "%d", n_leakers);
	snprintf(a2, sizeof(a2), "%d", N_QUICK);
	snprintf(a3, sizeof(a3), "%d", HOLD_MB);
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
		execl(path, path, a1, a2, a3, (char *)NULL);
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
	return target_start_env(t, name, n_leakers, NULL);
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

static int group_setup(void **state)
{
	const char *names[] = { "target", "target-nodwarf", "target-stripped", "target-pie",
				"impostor" };
	char p[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fixture_path(p, sizeof(p), names[i]);
		if (access(p, X_OK)) {
			fprintf(stderr, "goproc fixture %s missing (set MS_BUILD)\n", p);
			return -1;
		}
	}
	g_root = geteuid() == 0;
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

/*
 * The claims every readable build must meet: our walk and the gcount formula
 * both equal the target's NumGoroutine(); the `go leaker(ch)` line created
 * exactly N_LEAKERS goroutines, all waiting on "chan receive"; the heap
 * numbers are within 5% of ReadMemStats and NumGC is exact.
 */
static void check_target(struct goproc *gp, const struct target *t, int n_leakers)
{
	struct goproc_goroutines *gs = NULL;
	const struct goproc_group *site, *start;
	struct goproc_heap h;
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
	goproc_goroutines__free(gs);

	err = goproc__heap(gp, &h);
	if (err)
		fail_msg("heap of %s: %s (%s)", t->name, strerror(-err), goproc__reason(gp));
	assert_int_equal(h.valid & (GOPROC_HEAP_SYS | GOPROC_HEAP_NEXT_GC),
			 GOPROC_HEAP_SYS | GOPROC_HEAP_NEXT_GC);
	assert_int_equal(h.num_gc, r.num_gc);
	assert_within_5pct(h.heap_alloc, r.heap_alloc);
	assert_within_5pct(h.heap_inuse, r.heap_inuse);
	assert_within_5pct(h.heap_sys, r.heap_sys);
	assert_within_5pct(h.next_gc, r.next_gc);
	assert_within_5pct(h.sys, r.sys);
	/* the global really holds HOLD_MB MiB */
	assert_true(h.heap_alloc >= (uint64_t)HOLD_MB << 20);
	assert_true(h.heap_released <= h.heap_idle);
	assert_int_equal(h.heap_objects, h.mallocs - h.frees);
}

static void run_and_check(const char *name, enum goproc_layout want)
{
	struct target *t = &g_t;
	struct goproc *gp;

	skip_unless_root();
	assert_int_equal(target_start(t, name, N_LEAKERS), 0);
	gp = g_gp = goproc__open(t->pid);
	if (!gp)
		fail_msg("goproc__open(%s): %s", name, strerror(errno));
	if (goproc__status(gp))
		fail_msg("%s: %s", name, goproc__reason(gp));
	assert_int_equal(goproc__layout(gp), want);
	check_target(gp, t, N_LEAKERS);
}

static bool toolchain_has_builtin(void)
{
	return !strncmp(GOPROC_GOVERSION, "go1.19", 6) &&
	       (GOPROC_GOVERSION[6] == '\0' || GOPROC_GOVERSION[6] == '.');
}

/* With DWARF: layouts by name from .debug_info (zlib-compressed sections). */
static void test_plain_build_matches_numgoroutine_and_memstats(void **state)
{
	run_and_check("target", GOPROC_LAYOUT_DWARF);
}

/* -ldflags=-w: no DWARF, so the built-in go1.19 amd64 table must do the same job. */
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
	assert_int_equal(target_start(t, "target-pie", N_LEAKERS), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	assert_int_equal(goproc__status(gp), 0);
	assert_true(goproc__load_bias(gp) != 0);
	check_target(gp, t, N_LEAKERS);
}

/* -s -w: .gopclntab alone names functions but not data; refuse with the reason. */
static void test_stripped_build_is_enoent_with_reason(void **state)
{
	struct goproc_goroutines *gs = (void *)1;
	struct goproc_heap h;
	struct target *t = &g_t;
	struct goproc *gp;

	skip_unless_root();
	assert_int_equal(target_start(t, "target-stripped", N_LEAKERS), 0);
	gp = g_gp = goproc__open(t->pid);
	assert_non_null(gp);
	assert_int_equal(goproc__status(gp), -ENOENT);
	assert_int_equal(goproc__layout(gp), GOPROC_LAYOUT_NONE);
	assert_non_null(strstr(goproc__reason(gp), ".symtab"));
	assert_non_null(strstr(goproc__reason(gp), "runtime.allgs"));
	assert_int_equal(goproc__goroutines(gp, NULL, &gs), -ENOENT);
	assert_null(gs);
	assert_int_equal(goproc__heap(gp, &h), -ENOENT);
	assert_non_null(strstr(goproc__reason(gp), ".symtab"));
}

/* The fallback table is what this toolchain's DWARF says, field by field. */
static void test_builtin_table_equals_dwarf_of_go119(void **state)
{
	struct goproc_field d, b;
	struct target *t = &g_t;
	struct goproc *gp;
	unsigned i, present = 0;

	if (!toolchain_has_builtin()) {
		fprintf(stderr, "SKIP goproc: toolchain %s has no built-in table to check\n",
			GOPROC_GOVERSION);
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
		assert_int_equal(goproc__builtin_field(1, 19, EM_X86_64, i, &b), 0);
		assert_string_equal(d.type, b.type);
		assert_string_equal(d.path, b.path);
		if (d.present != b.present || d.offset != b.offset || d.size != b.size ||
		    d.count != b.count || d.stride != b.stride)
			fail_msg("%s.%s: DWARF %d@%u+%u[%u/%u], built-in %d@%u+%u[%u/%u]", d.type,
				 d.path, d.present, d.offset, d.size, d.count, d.stride, b.present,
				 b.offset, b.size, b.count, b.stride);
		present += d.present;
	}
	/* most fields exist in 1.19; the 1.17/1.18-only ones do not */
	assert_true(present >= goproc__nr_fields() - 3);
	assert_int_equal(goproc__builtin_field(1, 21, EM_X86_64, 0, &b), -ENOTSUP);
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
	assert_int_equal(target_start_env(t, "target", 3, env), 0);
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

/* ---- the impostor: hostile runtime memory written by the test ---- */

struct impostor {
	uint64_t allgs, allglen, allp, sched, memstats, gccontroller, class_to_size, scratch;
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
	assert_int_equal(h.valid, GOPROC_HEAP_SYS | GOPROC_HEAP_NEXT_GC | GOPROC_HEAP_MCACHE);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_plain_build_matches_numgoroutine_and_memstats,
					  test_teardown),
		cmocka_unit_test_teardown(test_nodwarf_build_uses_builtin_layout, test_teardown),
		cmocka_unit_test_teardown(test_pie_build_translates_load_bias, test_teardown),
		cmocka_unit_test_teardown(test_stripped_build_is_enoent_with_reason, test_teardown),
		cmocka_unit_test_teardown(test_builtin_table_equals_dwarf_of_go119, test_teardown),
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
	};

	/* a target we failed to stop must not kill us through a broken pipe */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("goproc", tests, group_setup, NULL);
}
