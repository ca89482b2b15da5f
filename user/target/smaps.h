/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * smaps.h - /proc/PID/smaps parser and "where does the RSS go" summary.
 *
 * Takes the proc root ("/proc" in production, a fixture directory in
 * tests) like procfs.h. Functions return 0 or -errno and never log.
 * All sizes are bytes (the kernel prints kB).
 */
#ifndef MEMSIGHT_SMAPS_H
#define MEMSIGHT_SMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ms_smap {
	uint64_t start;
	uint64_t end;
	char perms[5];		/* "rw-p"; perms[3] is 's' for shared mappings */
	bool deleted;		/* path ended in " (deleted)" (suffix stripped) */
	char *path;		/* NULL for anonymous; "[heap]", "[anon:x]" etc. kept */
	uint64_t size;
	uint64_t rss;
	uint64_t pss;
	uint64_t shared_clean;
	uint64_t shared_dirty;
	uint64_t private_clean;
	uint64_t private_dirty;
	uint64_t anonymous;	/* anon pages, including COW copies in file mappings */
	uint64_t swap;
};

struct ms_smaps {
	struct ms_smap *v;	/* in file order (sorted by start for a consistent read) */
	size_t n;
};

/*
 * -ESRCH if the process is gone, -EINVAL for a malformed or cut file
 * (every mapping must have Size, Rss and the closing VmFlags line),
 * -E2BIG beyond 1M mappings or a 1 MiB line.
 */
int smaps__read(const char *proc_root, pid_t pid, struct ms_smaps *ret);
void ms_smaps__free(struct ms_smaps *s);

/*
 * RSS split into disjoint buckets, bytes. Each mapping's Rss goes to
 * exactly one resident bucket, except that a file-backed mapping's
 * Anonymous part (COW-written .data, relro) is counted in anon, so
 *
 *   rss == heap + stack + anon + file + shmem + other == sum of Rss
 *
 * which equals VmRSS (RssAnon + RssFile + RssShmem) up to the kernel's
 * lazily synced per-mm counters and pages that changed between the two
 * reads. Swap is not resident and not part of rss.
 *
 * Classification by mapping name:
 *   heap   "[heap]"
 *   stack  "[stack]", "[stack:TID]" (thread stacks before Linux 4.5;
 *          newer kernels show thread stacks as plain anonymous memory,
 *          which lands in anon)
 *   shmem  shared anonymous ("/dev/zero (deleted)" with 's', no path with
 *          's', "[anon_shmem:x]"), "/dev/shm/...", "/memfd:...", "/SYSV..."
 *          (non-anonymous part; COW copies of a private mapping -> anon)
 *   anon   private anonymous without a name, "[anon:x]", Anonymous of
 *          file-backed mappings
 *   file   Rss - Anonymous of mappings with a file path
 *   other  remaining "[...]" kernel mappings: [vdso], [vvar], [vsyscall], [uprobes]
 */
struct ms_smaps_summary {
	uint64_t rss;
	uint64_t pss;
	uint64_t heap;
	uint64_t stack;
	uint64_t anon;
	uint64_t file;
	uint64_t shmem;
	uint64_t other;
	uint64_t swap;
	size_t mappings;
};

int smaps__summary(const struct ms_smaps *s, struct ms_smaps_summary *ret);
/* smaps__read() and smaps__summary() of a process, without keeping the mappings. */
int smaps__read_summary(const char *proc_root, pid_t pid, struct ms_smaps_summary *ret);

#endif /* MEMSIGHT_SMAPS_H */
