// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * syscost - what one bare system call costs here, for bench/sampler.sh.
 *
 *   syscost [-n CALLS]
 *
 * An optimised uprobe hit (the sampler library's 5-byte nop sites) is a call
 * into the kernel's trampoline page and a uprobe() system call: it costs at
 * least one kernel entry and exit, which a virtual machine can make far
 * dearer than bare metal. Prints "ns_per_syscall=X" (this thread's CPU time
 * over CALLS getppid() calls, made with syscall() so that no libc cache
 * answers them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long calls = 200000, i;
	double t0;

	if (argc == 3 && !strcmp(argv[1], "-n"))
		calls = atol(argv[2]);
	else if (argc != 1)
		return 2;
	if (calls < 1)
		return 2;
	t0 = now();
	for (i = 0; i < calls; i++)
		syscall(SYS_getppid);
	printf("ns_per_syscall=%.0f\n", (now() - t0) * 1e9 / calls);
	return 0;
}
