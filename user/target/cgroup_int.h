/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup_int.h - what cgroup.c and cgroup_ns.c share: mountinfo lines, path
 * checks, reading mountinfo.
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

/* Our own mountinfo: read once, then again only when the mount table changes. */
#define MS_CG_LIVE_MOUNTINFO	"/proc/self/mountinfo"

/* A mountinfo file into *buf (grown); MS_CG_LIVE_MOUNTINFO from its cache. */
int cgroup_read_mountinfo(const char *path, char **buf, size_t *cap);

#endif
