/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup_int.h - what cgroup.c and cgroup_ns.c share: mountinfo lines, path
 * checks, reading a file that may be large.
 */
#ifndef MEMSIGHT_CGROUP_INT_H
#define MEMSIGHT_CGROUP_INT_H

#include <stdbool.h>
#include <stddef.h>

/* The largest cgroup file we read (memory.stat is ~2 KiB; /proc/PID/cgroup ~ paths). */
#define CG_FILE_MAX	(64 * 1024)
/* mountinfo of a node with hundreds of pods runs past 1 MiB; past this it is hostile. */
#define CG_MOUNTINFO_MAX	(64 * 1024 * 1024)

/*
 * One mountinfo line (modified in place): is it version's memory hierarchy?
 * *ret_root, *ret_mnt: its root and mount point, unescaped, inside line.
 */
bool cgroup_mount_matches(char *line, int version, char **ret_root, char **ret_mnt);

/* Does path climb with ".." anywhere (after the namespace's leading ones)? */
bool cgroup_path_climbs(const char *path);

/* A file that may be large (mountinfo): *buf grows (doubling) up to max. */
int cgroup_read_text_grow(const char *path, char **buf, size_t *cap, size_t max);

#endif
