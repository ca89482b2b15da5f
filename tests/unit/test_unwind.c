// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The unwinder on real stacks: this test copies its own registers and stack
 * the way the BPF side does (registers at one instruction, the bytes from sp
 * up to the end of [stack]) and unwinds the copy with CFI alone, through
 * functions built without frame pointers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "target/procfs.h"
#include "target/symbolize.h"
#include "bpf/unwind.h"

#define NOFP __attribute__((noipa, optimize("omit-frame-pointer")))

struct cap {
	struct unwind_sample s;
	uint64_t regs[MS_UREG__MAX];
	uint8_t buf[64 * 1024];
};

static uint64_t stack_end(uint64_t sp)
{
	struct ms_maps maps = {};
	const struct ms_map *m;
	uint64_t end = 0;

	assert_int_equal(procfs__read_maps("/proc", getpid(), &maps), 0);
	m = ms_maps__find(&maps, sp);
	if (m)
		end = m->end;
	ms_maps__free(&maps);
	return end;
}

/* The registers at the instruction after the lea, and the stack above sp. */
NOFP int capture(struct cap *c);
NOFP int capture(struct cap *c)
{
	uint64_t ip, sp, bp, bx, r12, r13, r14, r15, end, len;

	__asm__ volatile("lea 0(%%rip), %0\n\t"
			 "mov %%rsp, %1\n\t"
			 "mov %%rbp, %2\n\t"
			 "mov %%rbx, %3\n\t"
			 "mov %%r12, %4\n\t"
			 "mov %%r13, %5\n\t"
			 "mov %%r14, %6\n\t"
			 "mov %%r15, %7\n\t"
			 : "=r"(ip), "=m"(sp), "=m"(bp), "=m"(bx), "=m"(r12), "=m"(r13),
			   "=m"(r14), "=m"(r15));
	c->regs[MS_UREG_IP] = ip;
	c->regs[MS_UREG_SP] = sp;
	c->regs[MS_UREG_BP] = bp;
	c->regs[MS_UREG_BX] = bx;
	c->regs[MS_UREG_R12] = r12;
	c->regs[MS_UREG_R13] = r13;
	c->regs[MS_UREG_R14] = r14;
	c->regs[MS_UREG_R15] = r15;
	end = stack_end(sp);
	len = end > sp ? end - sp : 0;
	if (len > sizeof(c->buf))
		len = sizeof(c->buf);
	memcpy(c->buf, (void *)sp, len);
	memcpy(c->s.regs, c->regs, sizeof(c->regs));
	c->s.tid = syscall(SYS_gettid);
	c->s.stack = c->buf;
	c->s.size = len;
	return (int)(len & 1);
}

NOFP int level3(struct cap *c);
NOFP int level3(struct cap *c) { return capture(c) + 3; }
NOFP int level2(struct cap *c);
NOFP int level2(struct cap *c) { return level3(c) * 2 + 1; }
NOFP int level1(struct cap *c);
NOFP int level1(struct cap *c) { return level2(c) * 3 + 2; }

struct named {
	char name[64][64];
	size_t n;
};

/* Name each address with the symboliser (a return address: look up addr - 1). */
static void name_all(const uint64_t *ips, size_t n, struct named *out)
{
	struct symcache *cache = symcache__new(NULL);
	struct ms_maps maps = {};

	assert_non_null(cache);
	assert_int_equal(procfs__read_maps("/proc", getpid(), &maps), 0);
	out->n = 0;
	for (size_t i = 0; i < n && i < 64; i++) {
		const struct ms_map *m = ms_maps__find(&maps, ips[i] - (i ? 1 : 0));
		struct ms_sym sym = {};

		snprintf(out->name[i], sizeof(out->name[i]), "?");
		if (m && m->path && m->path[0] == '/' &&
		    symcache__lookup(cache, m->path, NULL, ips[i] - (i ? 1 : 0) - m->start + m->pgoff,
				     &sym) == 0 && sym.name)
			snprintf(out->name[i], sizeof(out->name[i]), "%s", sym.name);
		out->n++;
	}
	ms_maps__free(&maps);
	symcache__free(cache);
}

static struct unwinder *self_unwinder_with(struct unwind_files *files)
{
	struct ms_maps maps = {};
	struct unwinder *u;

	assert_int_equal(procfs__read_maps("/proc", getpid(), &maps), 0);
	u = unwinder__new(getpid(), &maps, files);
	ms_maps__free(&maps);
	assert_non_null(u);
	return u;
}

static struct unwinder *self_unwinder(void)
{
	return self_unwinder_with(NULL);
}

static size_t find(const struct named *nm, const char *name)
{
	for (size_t i = 0; i < nm->n; i++)
		if (!strcmp(nm->name[i], name))
			return i;
	return (size_t)-1;
}

/* rbp zeroed: a frame-pointer walk has nothing to follow, only CFI can do this */
static void test_unwinds_frames_without_frame_pointers(void **state)
{
	static struct cap c;
	struct unwinder *u = self_unwinder();
	uint64_t ips[64];
	struct named nm;
	size_t n = 0;

	level1(&c);
	c.s.regs[MS_UREG_BP] = 0;
	assert_int_equal(unwinder__unwind(u, &c.s, ips, 64, &n), 0);
	name_all(ips, n, &nm);
	if (getenv("UNWIND_DEBUG"))
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "#%zu %#lx %s\n", i, (unsigned long)ips[i], nm.name[i]);
	assert_true(n >= 5);
	assert_int_equal(ips[0], c.regs[MS_UREG_IP]);
	assert_string_equal(nm.name[0], "capture");
	assert_string_equal(nm.name[1], "level3");
	assert_string_equal(nm.name[2], "level2");
	assert_string_equal(nm.name[3], "level1");
	assert_string_equal(nm.name[4], "test_unwinds_frames_without_frame_pointers");
	unwinder__free(u);
}

/* With the real registers the walk goes on through cmocka down to main. */
static void test_unwinds_down_to_main(void **state)
{
	static struct cap c;
	struct unwinder *u = self_unwinder();
	uint64_t ips[64];
	struct named nm;
	size_t n = 0, i_main, i_l1;

	level1(&c);
	assert_int_equal(unwinder__unwind(u, &c.s, ips, 64, &n), 0);
	name_all(ips, n, &nm);
	i_l1 = find(&nm, "level1");
	i_main = find(&nm, "main");
	assert_int_equal(i_l1, 3);
	assert_true(i_main != (size_t)-1);
	assert_true(i_main > i_l1 + 1);
	/* the same sample again: the unwinder is reusable and deterministic */
	{
		uint64_t again[64];
		size_t n2 = 0;

		assert_int_equal(unwinder__unwind(u, &c.s, again, 64, &n2), 0);
		assert_int_equal(n2, n);
		assert_memory_equal(again, ips, n * sizeof(ips[0]));
	}
	unwinder__free(u);
}

/* max bounds the result; truncation is not an error */
static void test_max_frames_bounds_the_walk(void **state)
{
	static struct cap c;
	struct unwinder *u = self_unwinder();
	uint64_t ips[3] = {};
	size_t n = 0;

	level1(&c);
	assert_int_equal(unwinder__unwind(u, &c.s, ips, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ips[2], 0);
	unwinder__free(u);
}

/* A copy that ends right above sp: the walk stops where memory runs out. */
static void test_short_copy_stops_early(void **state)
{
	static struct cap c;
	struct unwinder *u = self_unwinder();
	uint64_t ips[64];
	size_t n = 0, full = 0;

	level1(&c);
	assert_int_equal(unwinder__unwind(u, &c.s, ips, 64, &full), 0);
	c.s.size = 0;
	assert_int_equal(unwinder__unwind(u, &c.s, ips, 64, &n), 0);
	assert_true(n >= 1 && n < full);
	assert_int_equal(ips[0], c.regs[MS_UREG_IP]);
	unwinder__free(u);
}

/* Hostile copies: random bytes and registers never crash or run unbounded. */
static void test_garbage_stacks_are_bounded(void **state)
{
	static struct cap c;
	struct unwinder *u = self_unwinder();
	uint64_t ips[32];
	size_t n;

	level1(&c);
	srand(7);
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < 4096; i++)
			c.buf[i] = rand();
		c.s.size = 4096;
		if (round % 2)
			c.s.regs[MS_UREG_SP] = ((uint64_t)rand() << 32) | rand();
		n = 0;
		assert_int_equal(unwinder__unwind(u, &c.s, ips, 32, &n), 0);
		assert_true(n >= 1 && n <= 32);
	}
	unwinder__free(u);
}

/*
 * An address in no module (JIT code, or a library mapped after the unwinder
 * was made): covers() says so; with no CFI for it the walk can only follow
 * frame pointers, and with rbp zeroed there are none: just the pc.
 */
static void test_unknown_pc_is_one_frame(void **state)
{
	static struct cap c;
	struct unwinder *u = self_unwinder();
	uint64_t ips[8];
	size_t n = 0;

	level1(&c);
	c.s.regs[MS_UREG_IP] = 0x1000;
	c.s.regs[MS_UREG_BP] = 0;
	assert_false(unwinder__covers(u, 0x1000));
	assert_true(unwinder__covers(u, c.regs[MS_UREG_IP]));
	assert_int_equal(unwinder__unwind(u, &c.s, ips, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ips[0], 0x1000);
	unwinder__free(u);
}

/*
 * Two unwinders (two processes using the same files, in the daemon) share
 * each module file: opened once, the same walk from both, and either can go
 * first without breaking the other (libelf reference counts).
 */
static void test_shared_files(void **state)
{
	static struct cap c;
	struct unwind_files *files = unwind_files__new();
	struct unwinder *a, *b;
	uint64_t ia[64], ib[64], ref[64];
	size_t na = 0, nb = 0, nref = 0, opened;

	assert_non_null(files);
	a = self_unwinder_with(files);
	b = self_unwinder_with(files);
	level1(&c);
	{
		struct unwinder *plain = self_unwinder();

		assert_int_equal(unwinder__unwind(plain, &c.s, ref, 64, &nref), 0);
		unwinder__free(plain);
	}
	assert_int_equal(unwind_files__count(files), 0);	/* opened lazily */
	assert_int_equal(unwinder__unwind(a, &c.s, ia, 64, &na), 0);
	opened = unwind_files__count(files);
	assert_true(opened >= 2);	/* this test binary and libc at least */
	assert_int_equal(unwinder__unwind(b, &c.s, ib, 64, &nb), 0);
	assert_int_equal(unwind_files__count(files), opened);
	assert_int_equal(na, nref);
	assert_int_equal(nb, nref);
	assert_memory_equal(ia, ref, nref * sizeof(ref[0]));
	assert_memory_equal(ib, ref, nref * sizeof(ref[0]));
	unwinder__free(a);
	nb = 0;
	assert_int_equal(unwinder__unwind(b, &c.s, ib, 64, &nb), 0);
	assert_int_equal(nb, nref);
	unwinder__free(b);
	unwind_files__free(files);
}

static void test_bad_arguments(void **state)
{
	struct ms_maps maps = {};
	struct unwind_sample s = {};
	uint64_t ips[4];
	size_t n;

	errno = 0;
	assert_null(unwinder__new(0, &maps, NULL));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(unwinder__unwind(NULL, &s, ips, 4, &n), -EINVAL);
	unwinder__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unwinds_frames_without_frame_pointers),
		cmocka_unit_test(test_unwinds_down_to_main),
		cmocka_unit_test(test_max_frames_bounds_the_walk),
		cmocka_unit_test(test_short_copy_stops_early),
		cmocka_unit_test(test_garbage_stacks_are_bounded),
		cmocka_unit_test(test_unknown_pc_is_one_frame),
		cmocka_unit_test(test_shared_files),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
