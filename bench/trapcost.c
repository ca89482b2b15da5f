// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * trapcost - what one uprobe hit costs, by the instruction it sits on.
 *
 *   trapcost [-n CALLS] FUNC+OFF...       e.g. trapcost free+0 free+3 free+9 malloc+0
 *
 * For each FUNC+OFF (a libc function and a byte offset; offsets are only
 * accepted past prologue instructions it can size, see insn_len()), it opens a counting perf-event uprobe there on this process
 * only (no BPF program: this is the trap alone), runs CALLS malloc(32)+free
 * pairs, and prints ns per pair against a run without the probe and the
 * probe's hit count. The kernel runs some probed instructions out of line
 * (single-step, slow), emulates others (push, jcc) and skips nops, so where
 * a profiler puts its probe decides most of what it costs.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* through volatile pointers, so the compiler cannot drop the pairs */
static void *(*volatile do_malloc)(size_t) = malloc;
static void (*volatile do_free)(void *) = free;

static double pairs_ns(long n)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		do_free(do_malloc(32));
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

static int read_int_file(const char *path, int *ret_val)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", ret_val) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* The mapped file and file offset of a code address, from /proc/self/maps. */
static int file_offset(uintptr_t addr, char *ret_path, size_t len, uint64_t *ret_off)
{
	char line[4096], path[4096];
	unsigned long start, end, pgoff;
	FILE *f = fopen("/proc/self/maps", "r");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095s", &start, &end, &pgoff, path) < 3)
			continue;
		if (addr < start || addr >= end || path[0] != '/')
			continue;
		snprintf(ret_path, len, "%s", path);
		*ret_off = addr - start + pgoff;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

/*
 * Length of the instruction at p if it is one of the few a function prologue
 * here starts with, else 0. A probe placed inside an instruction would corrupt
 * it, so offsets past an instruction we cannot size are refused.
 */
static int insn_len(const unsigned char *p)
{
	if (p[0] >= 0x50 && p[0] <= 0x57)			/* push %reg */
		return 1;
	if (p[0] == 0x41 && p[1] >= 0x50 && p[1] <= 0x57)	/* push %r8..r15 */
		return 2;
	if ((p[0] & 0xf0) == 0x40 && (p[1] == 0x85 || p[1] == 0x89 || p[1] == 0x31) &&
	    p[2] >= 0xc0)					/* test/mov/xor reg, reg */
		return 3;
	if (p[0] == 0x0f && (p[1] & 0xf0) == 0x80)		/* jcc rel32 */
		return 6;
	if ((p[0] & 0xf0) == 0x70)				/* jcc rel8 */
		return 2;
	if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)	/* endbr64 */
		return 4;
	return 0;
}

static bool on_boundary(const unsigned char *fn, unsigned long off)
{
	unsigned long pos = 0;
	int len;

	while (pos < off) {
		len = insn_len(fn + pos);
		if (!len)
			return false;
		pos += len;
	}
	return pos == off;
}

int main(int argc, char **argv)
{
	long n = 200000;
	int type, opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n')
			goto usage;
		n = strtol(optarg, NULL, 10);
	}
	if (optind >= argc || n <= 0)
		goto usage;
	if (read_int_file("/sys/bus/event_source/devices/uprobe/type", &type)) {
		fprintf(stderr, "trapcost: no uprobe PMU (/sys/bus/event_source/devices/uprobe/type)\n");
		return 1;
	}
	pairs_ns(n / 10);	/* warm the heap and the caches */
	printf("%-12s %-8s %10s %10s %10s %12s\n", "probe", "insn", "ns/pair", "base", "+ns/hit",
	       "hits/pairs");
	for (int i = optind; i < argc; i++) {
		char name[128], path[4096], *plus;
		struct perf_event_attr attr = { 0 };
		unsigned long off = 0;
		uint64_t foff = 0, hits = 0;
		unsigned char *code;
		double base, probed;
		long calls;
		void *sym;
		int fd;

		snprintf(name, sizeof(name), "%s", argv[i]);
		plus = strchr(name, '+');
		if (plus) {
			*plus = 0;
			off = strtoul(plus + 1, NULL, 0);
		}
		sym = dlsym(RTLD_DEFAULT, name);
		if (!sym || file_offset((uintptr_t)sym + off, path, sizeof(path), &foff)) {
			fprintf(stderr, "trapcost: %s: not found in a mapped file\n", argv[i]);
			return 1;
		}
		if (!on_boundary(sym, off)) {
			printf("%-12s refused: cannot verify that +%lu starts an instruction\n",
			       argv[i], off);
			continue;
		}
		code = (unsigned char *)sym + off;
		/* before the open: an open event has its breakpoint in place even while disabled */
		base = pairs_ns(n);
		attr.size = sizeof(attr);
		attr.type = type;
		attr.config1 = (uint64_t)(uintptr_t)path;	/* uprobe_path */
		attr.config2 = foff;				/* probe_offset */
		attr.disabled = 1;
		attr.exclude_kernel = 1;
		fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "trapcost: %s: perf_event_open: %s\n", argv[i], strerror(errno));
			return 1;
		}
		ioctl(fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
		probed = pairs_ns(n);
		ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
		if (read(fd, &hits, sizeof(hits)) != sizeof(hits))
			hits = 0;
		close(fd);
		/* malloc and free each run once per pair */
		calls = n;
		printf("%-12s %02x %02x %02x %10.1f %10.1f %10.1f %5" PRIu64 "/%ld\n", argv[i], code[0],
		       code[1], code[2], probed, base, hits ? (probed - base) * n / hits : 0.0,
		       hits, calls);
	}
	return 0;
usage:
	fprintf(stderr, "usage: trapcost [-n CALLS] FUNC+OFF...\n");
	return 2;
}
