// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * toucher - RSS without malloc: on SIGUSR1 maps 200 MiB anonymous memory
 * with mmap in map_it() and touches every page in touch_pages(), keeps it,
 * prints "done"; SIGTERM ends it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIZE (200ul << 20)

static volatile sig_atomic_t go, stop;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		go = 1;
	else
		stop = 1;
}

__attribute__((noinline)) char *map_it(void)
{
	char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* small pages, one fault each, whatever the kernel's THP default (Debian's: always) */
	if (p != MAP_FAILED)
		madvise(p, SIZE, MADV_NOHUGEPAGE);
	return p;
}

__attribute__((noinline)) void touch_pages(char *p)
{
	for (size_t off = 0; off < SIZE; off += 4096)
		p[off] = (char)off;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	char *p = NULL;

	setvbuf(stdout, NULL, _IONBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("ready %d\n", getpid());
	while (!stop) {
		pause();
		if (go && !p) {
			p = map_it();
			if (p == MAP_FAILED)
				return 1;
			touch_pages(p);
			printf("done\n");
		}
	}
	return 0;
}
