/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * fuzz_common.h - shared by the libFuzzer harnesses: a private scratch
 * directory (the parsers under test take paths, not buffers) and a check
 * that aborts, so a broken invariant is a crash libFuzzer records.
 */
#ifndef MEMSIGHT_FUZZ_COMMON_H
#define MEMSIGHT_FUZZ_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant the code under test promises; abort() makes it a libFuzzer crash. */
#define FUZZ_CHECK(cond)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
				__LINE__, #cond);				\
			abort();						\
		}								\
	} while (0)

static char fuzz_dir[PATH_MAX];

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static inline void fuzz_cleanup(void)
{
	if (fuzz_dir[0])
		nftw(fuzz_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A per-process directory, on tmpfs unless MS_FUZZ_TMPDIR names another
 * parent (run.sh does, and removes it afterwards: a crashing run skips
 * atexit()).
 */
static inline const char *fuzz_scratch_dir(void)
{
	const char *parent = getenv("MS_FUZZ_TMPDIR");

	if (fuzz_dir[0])
		return fuzz_dir;
	if (!parent || !*parent)
		parent = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	mkdir(parent, 0700);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/ms-fuzz-XXXXXX", parent);
	if (!mkdtemp(fuzz_dir)) {
		perror(fuzz_dir);
		abort();
	}
	atexit(fuzz_cleanup);
	return fuzz_dir;
}

/* Replace path's contents with data; a failure here is the harness's, so abort. */
static inline void fuzz_write_file(const char *path, const void *data, size_t size)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			perror(path);
			abort();
		}
		p += n;
		size -= (size_t)n;
	}
	close(fd);
}

/* Little-endian word at off, 0 past the end: harnesses peek at header fields. */
static inline uint64_t fuzz_le(const uint8_t *data, size_t size, size_t off, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	if (off > size || size - off < n)
		return 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t)data[off + i] << (8 * i);
	return v;
}

/* e_entry, in whichever class and byte order the header claims. */
static inline uint64_t fuzz_elf_entry(const uint8_t *data, size_t size)
{
	bool be = size > 5 && data[5] == 2;
	unsigned int n = size > 4 && data[4] == 1 ? 4 : 8;
	uint64_t v = fuzz_le(data, size, 24, n);

	if (be)
		v = n == 4 ? __builtin_bswap32((uint32_t)v) : __builtin_bswap64(v);
	return v;
}

#endif /* MEMSIGHT_FUZZ_COMMON_H */
