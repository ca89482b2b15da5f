// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * symbench - symboliser lookups/s, through the real API (user/target/symbolize.h).
 *
 *   symbench [-n LOOKUPS] [-s SEED] MODULE...
 *
 * For each MODULE (an ELF file), with a fresh cache each time:
 *   cold      the first symcache__lookup: stat, open, build-id, symbol table
 *             read and sorted, debug file found (/usr/lib/debug/.build-id)
 *             and its DWARF opened
 *   lookup    N symcache__lookup calls at random file offsets inside the
 *             module's executable PT_LOAD segment(s), then the same N again
 *             (warm: libdw's lazily parsed line tables and the cache's
 *             demangled names are in place by then)
 *   frames    the same for symcache__lookup_frames (inline expansion from
 *             DWARF, when the module or its debug file has it), in a second
 *             fresh cache whose own cold first call is printed too
 * One line per module and mode: lookups/s, ns per lookup, and what the
 * lookups found (share named, share with file:line, frames per lookup), so a
 * fast figure from a module with nothing to find is recognisable as such.
 * Every call goes through cache_module() as memsight's own frames do, i.e.
 * one stat() per lookup is part of the figure.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <getopt.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target/symbolize.h"

#define MAX_SEGS	8
#define MAX_FRAMES	16

struct seg {
	uint64_t off, len;
};

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	/* splitmix64: reproducible offsets for a given seed */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The file ranges of the executable PT_LOAD segments. */
static int exec_segments(const char *path, struct seg *segs, size_t max, size_t *ret_n)
{
	size_t n = 0, phnum, i;
	Elf *elf;
	int fd, err = 0;

	*ret_n = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &phnum)) {
		err = -ENOEXEC;
		goto out;
	}
	for (i = 0; i < phnum && n < max; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X) ||
		    !ph.p_filesz)
			continue;
		segs[n].off = ph.p_offset;
		segs[n].len = ph.p_filesz;
		n++;
	}
	if (!n)
		err = -ENOENT;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	*ret_n = n;
	return err;
}

struct tally {
	uint64_t named, lined, frames, errors;
};

static int one(struct symcache *c, const char *path, uint64_t off, bool frames, struct tally *t)
{
	struct ms_sym s[MAX_FRAMES];
	size_t n = 1;
	int err;

	if (frames)
		err = symcache__lookup_frames(c, path, NULL, off, s, MAX_FRAMES, &n);
	else
		err = symcache__lookup(c, path, NULL, off, &s[0]);
	if (err) {
		t->errors++;
		return err;
	}
	t->named += s[n - 1].name != NULL;
	t->lined += s[0].line > 0;
	t->frames += n;
	return 0;
}

static void line(const char *mod, const char *what, size_t n, double ns, const struct tally *t)
{
	printf("%-22s %-17s %8zu %12.0f %9.0f %7.1f%% %7.1f%% %8.2f %6llu\n", mod, what, n,
	       n * 1e9 / ns, ns / n, 100.0 * t->named / n, 100.0 * t->lined / n,
	       (double)t->frames / n, (unsigned long long)t->errors);
}

static int bench_module(const char *path, size_t nlook)
{
	struct seg segs[MAX_SEGS];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	uint64_t total = 0, *offs;
	size_t nseg, i;
	int err;

	err = exec_segments(path, segs, MAX_SEGS, &nseg);
	if (err) {
		printf("%-22s cannot read its executable segment: %s\n", base, strerror(-err));
		return 1;
	}
	for (i = 0; i < nseg; i++)
		total += segs[i].len;
	offs = calloc(nlook, sizeof(*offs));
	if (!offs)
		return 1;
	for (i = 0; i < nlook; i++) {
		uint64_t r = rnd64() % total;
		size_t k = 0;

		while (r >= segs[k].len) {
			r -= segs[k].len;
			k++;
		}
		offs[i] = segs[k].off + r;
	}

	for (int frames = 0; frames < 2; frames++) {
		struct symcache *c = symcache__new(NULL);
		struct symcache_stats st;
		struct tally t = {}, cold = {};
		const char *mode = frames ? "lookup_frames" : "lookup";
		char what[32];
		double t0, t1;

		if (!c) {
			perror("symcache__new");
			free(offs);
			return 1;
		}
		t0 = now_ns();
		err = one(c, path, offs[0], frames, &cold);
		t1 = now_ns();
		if (err) {
			printf("%-22s %s: %s\n", base, mode, strerror(-err));
			symcache__free(c);
			continue;
		}
		symcache__stats(c, &st);
		printf("%-22s %-17s %8s %12s %9s   cold, first call: %.2f ms (module load: %llu symbols%s)\n",
		       base, mode, "1", "-", "-", (t1 - t0) / 1e6, (unsigned long long)st.symbols,
		       cold.lined ? ", DWARF line info" : ", no DWARF line info");
		for (int pass = 0; pass < 2; pass++) {
			memset(&t, 0, sizeof(t));
			t0 = now_ns();
			for (i = 0; i < nlook; i++)
				one(c, path, offs[i], frames, &t);
			t1 = now_ns();
			snprintf(what, sizeof(what), "%s %s", mode, pass ? "warm" : "1st");
			line(base, what, nlook, t1 - t0, &t);
		}
		symcache__free(c);
	}
	free(offs);
	return 0;
}

int main(int argc, char **argv)
{
	size_t nlook = 100000;
	unsigned long long seed = 1;
	int opt, ret = 0;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		switch (opt) {
		case 'n':
			nlook = strtoul(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: symbench [-n LOOKUPS] [-s SEED] MODULE...\n");
			return 2;
		}
	}
	if (optind >= argc || !nlook) {
		fprintf(stderr, "usage: symbench [-n LOOKUPS] [-s SEED] MODULE...\n");
		return 2;
	}
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 1;
	rng_state = seed;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("%-22s %-17s %8s %12s %9s %8s %8s %8s %6s\n", "module", "call", "n", "lookups/s",
	       "ns/call", "named", "file:ln", "frames", "errors");
	for (int i = optind; i < argc; i++)
		ret |= bench_module(argv[i], nlook);
	return ret;
}
