// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * faultbench - what a first-touch page fault costs (bench/sampler.sh, part
 * "faults"): maps MIB anonymous MiB (small pages), writes a byte to each
 * page, unmaps; REPS times; prints the least thread CPU time per fault.
 * With --wait it prints "ready" and waits for a line on stdin first (for
 * an observer to attach).
 *
 *   faultbench [-m MIB] [-r REPS] [--wait]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double thread_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t mib = 200, reps = 5;
	double best = 0;
	int wait = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc)
			mib = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-r") && i + 1 < argc)
			reps = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--wait"))
			wait = 1;
		else {
			fprintf(stderr, "usage: faultbench [-m MIB] [-r REPS] [--wait]\n");
			return 2;
		}
	}
	if (!mib || !reps) {
		fprintf(stderr, "faultbench: -m and -r must be positive\n");
		return 2;
	}
	if (wait) {
		char line[16];

		printf("ready\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			return 1;
	}
	for (size_t r = 0; r < reps; r++) {
		size_t len = mib << 20;
		volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t0, ns;

		if (p == MAP_FAILED) {
			perror("faultbench: mmap");
			return 1;
		}
		/* one fault a page: no transparent huge page */
		madvise((void *)p, len, MADV_NOHUGEPAGE);
		t0 = thread_ns();
		for (size_t off = 0; off < len; off += 4096)
			p[off] = 1;
		ns = (thread_ns() - t0) / (len / 4096);
		if (!best || ns < best)
			best = ns;
		munmap((void *)p, len);
	}
	printf("ns_per_fault=%.1f pages=%zu\n", best, (mib << 20) / 4096);
	return 0;
}
