// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pidns.c - PIDs as another PID namespace sees them.
 *
 * /proc/PID/status's NSpid lists a process's PID in each namespace from the
 * one of the proc mount (ours) down to its own. A client in a namespace
 * below ours, at level L, knows a process by entry L of that list, if the
 * process lives in the client's namespace or one below it: its namespace's
 * ancestor at level L (NS_GET_PARENT, walked up) is the client's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "target/pidns.h"
#include "target/procfs.h"

int pidns__parse_nspid(const char *status, pid_t *ret, unsigned int max, unsigned int *ret_n)
{
	const char *p = status;
	unsigned int n = 0;

	while (p && strncmp(p, "NSpid:", 6)) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return -ENOENT;
	for (p += 6; *p == '\t' || *p == ' ';) {
		uint64_t v;

		while (*p == '\t' || *p == ' ')
			p++;
		if (*p == '\n' || !*p)
			break;
		if (procfs__parse_dec(&p, &v) || !v || v > INT_MAX)
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		ret[n++] = v;
	}
	if (!n || (*p != '\n' && *p))
		return -EINVAL;
	*ret_n = n;
	return 0;
}

/* NSpid of pid's main thread (not a live thread's: its TIDs differ). */
static int read_nspid(const char *root, pid_t pid, pid_t *ret, unsigned int *ret_n)
{
	char name[64], buf[4096];
	ssize_t len;
	int fd;

	snprintf(name, sizeof(name), "task/%d/status", (int)pid);
	fd = procfs__open_file(root, pid, name);
	if (fd < 0)
		return fd;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	return pidns__parse_nspid(buf, ret, PIDNS_LEVELS, ret_n);
}

/* Is the namespace of pid, up = levels above its own, the one of v? */
static bool ancestor_is(const char *root, pid_t pid, unsigned int up, const struct pidns_view *v)
{
	char path[PATH_MAX];
	struct stat st;
	bool same = false;
	int fd, parent;

	snprintf(path, sizeof(path), "%s/%d/ns/pid", root, (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (up--) {
		parent = ioctl(fd, NS_GET_PARENT);
		close(fd);
		if (parent < 0)
			return false;
		fd = parent;
	}
	if (fstat(fd, &st) == 0)
		same = st.st_dev == v->dev && st.st_ino == v->ino;
	close(fd);
	return same;
}

int pidns__view_of(const char *root, pid_t pid, struct pidns_view *ret)
{
	pid_t nspid[PIDNS_LEVELS];
	char path[PATH_MAX];
	struct stat st;
	unsigned int n;
	int err;

	err = read_nspid(root, pid, nspid, &n);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%d/ns/pid", root, (int)pid);
	if (stat(path, &st))
		return -errno;
	ret->dev = st.st_dev;
	ret->ino = st.st_ino;
	ret->level = n - 1;
	return 0;
}

int pidns__to_view(const char *root, const struct pidns_view *v, pid_t pid, pid_t *ret)
{
	pid_t nspid[PIDNS_LEVELS];
	unsigned int n;

	if (read_nspid(root, pid, nspid, &n) || n <= v->level ||
	    !ancestor_is(root, pid, n - 1 - v->level, v))
		return -ESRCH;
	*ret = nspid[v->level];
	return 0;
}

int pidns__from_view(const char *root, const struct pidns_view *v, pid_t vpid, pid_t *ret)
{
	struct dirent *de;
	int err = -ESRCH;
	DIR *dir;

	if (vpid <= 0)
		return -ESRCH;
	dir = opendir(root);
	if (!dir)
		return -errno;
	while (err && (de = readdir(dir))) {
		pid_t nspid[PIDNS_LEVELS];
		unsigned int n;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || read_nspid(root, pid, nspid, &n))
			continue;
		if (n > v->level && nspid[v->level] == vpid &&
		    ancestor_is(root, pid, n - 1 - v->level, v)) {
			*ret = pid;
			err = 0;
		}
	}
	closedir(dir);
	return err;
}
