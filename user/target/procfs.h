/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * procfs.h - parsers for /proc/PID files.
 *
 * Every parser takes the proc root ("/proc" in production, a fixture
 * directory in tests) so it can be tested without a live process.
 * Functions return 0 or -errno and never log.
 */
#ifndef MEMSIGHT_PROCFS_H
#define MEMSIGHT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MS_COMM_LEN 16

struct ms_map {
	uint64_t start;
	uint64_t end;
	uint64_t pgoff;		/* file offset of start */
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	char perms[5];		/* "r-xp" */
	bool deleted;		/* path ended in " (deleted)" (suffix stripped) */
	char *path;		/* NULL for anonymous mappings; "[heap]" etc. kept */
};

struct ms_maps {
	struct ms_map *v;	/* sorted by start, as the kernel prints them */
	size_t n;
};

int procfs__read_maps(const char *proc_root, pid_t pid, struct ms_maps *ret);
/*
 * One maps line ("start-end perms pgoff major:minor inode [path]", no
 * newline), also the header line of each smaps record. 0, -EINVAL, -ENOMEM;
 * ret->path is allocated (free it).
 */
int procfs__parse_maps_line(const char *line, struct ms_map *ret);
void ms_maps__free(struct ms_maps *maps);
/* Mapping that contains addr, or NULL (binary search). */
const struct ms_map *ms_maps__find(const struct ms_maps *maps, uint64_t addr);
/*
 * The path through which we can open the file mapped at m in process pid:
 * /proc/PID/root/<path>, or /proc/PID/map_files/<range> when the file at
 * that path is not the mapped one (deleted or replaced). Caller frees.
 */
char *ms_map__open_path(pid_t pid, const struct ms_map *m);

struct ms_proc_status {
	char name[128];		/* "Name:" as the kernel prints it (escaped) */
	pid_t tgid;
	pid_t ppid;
	uint32_t threads;
	uint64_t vm_size_kb;
	uint64_t vm_rss_kb;
	uint64_t vm_hwm_kb;	/* peak RSS */
	uint64_t rss_anon_kb;
	uint64_t rss_file_kb;
	uint64_t rss_shmem_kb;
	uint64_t vm_swap_kb;
};

int procfs__read_status(const char *proc_root, pid_t pid, struct ms_proc_status *ret);

/* Field 22 of /proc/PID/stat (clock ticks since boot); robust to ')' in comm. */
int procfs__read_start_time(const char *proc_root, pid_t pid, uint64_t *ret_ticks);

/* /proc/PID/comm without the trailing newline. */
int procfs__read_comm(const char *proc_root, pid_t pid, char *buf, size_t len);

/* Target of /proc/PID/exe (" (deleted)" suffix kept as the kernel gives it). */
int procfs__read_exe(const char *proc_root, pid_t pid, char *buf, size_t len);

/* fd (O_RDONLY) of <root>/<pid>/<name>; -ESRCH when the process is gone. */
int procfs__open_file(const char *proc_root, pid_t pid, const char *name);

/* An unsigned decimal at *pp; advances *pp. -EINVAL if none or overflow. */
int procfs__parse_dec(const char **pp, uint64_t *ret);

/*
 * The task whose /proc files show pid's memory: pid itself, or a live
 * thread's TID when pid's main thread has exited while others run on
 * (maps, smaps, status, exe, root and map_files are read through it then).
 */
int procfs__mm_task(const char *proc_root, pid_t pid, pid_t *ret_tid);

/*
 * 1 if the caller is in the initial (host's) PID namespace, the one whose
 * PIDs BPF sees; 0 if not; -errno.
 */
int procfs__self_in_initial_pidns(const char *proc_root);
/* 1 if processes a and b are in the same PID namespace, 0 if not, -errno. */
int procfs__same_pidns(const char *proc_root, pid_t a, pid_t b);

/* 0 if the process exists (its /proc directory is there), -ESRCH if not. */
int procfs__pid_exists(const char *proc_root, pid_t pid);

#endif /* MEMSIGHT_PROCFS_H */
