// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup_ns.c - cgroup paths read from inside a cgroup namespace.
 *
 * The kernel writes /proc/PID/cgroup and mountinfo's cgroup roots relative
 * to the reader's cgroup namespace: a cgroup outside it reads "/../../x" (up
 * to a common ancestor, then down). memsightd in a Kubernetes pod has such a
 * namespace (containerd's default on cgroup v2); with the host's hierarchy
 * mounted (root "/.." x depth), the directory there that is our namespace's
 * root gives the host path of every cgroup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/cgroup.h"
#include "target/cgroup_int.h"

/* Directories looked at to find our namespace's root in the host's hierarchy. */
#define CG_NS_WALK_MAX	(256 * 1024)
#define CG_NS_DEPTH_MAX	32

/* How many "/.." lead path; *ret_rest: what follows them ("" or "/..."). */
static unsigned int leading_ups(const char *path, const char **ret_rest)
{
	unsigned int k = 0;

	while (!strncmp(path, "/..", 3) && (path[3] == '/' || !path[3])) {
		k++;
		path += 3;
	}
	*ret_rest = path;
	return k;
}

int cgroup__absolute(const char *nsroot, const char *path, char *ret, size_t len)
{
	const char *rest;
	unsigned int k;
	size_t n;

	if (path[0] != '/' || nsroot[0] != '/' || cgroup_path_climbs(nsroot))
		return -EINVAL;
	k = leading_ups(path, &rest);
	if (cgroup_path_climbs(rest))
		return -EINVAL;
	if (!strcmp(rest, "/"))
		rest = "";
	n = strlen(nsroot);
	while (n > 1 && nsroot[n - 1] == '/')
		n--;
	for (; k; k--) {
		if (n <= 1)
			return -EXDEV;	/* above the hierarchy's root */
		while (n > 1 && nsroot[n - 1] != '/')
			n--;
		if (n > 1)
			n--;	/* the '/' before the component */
	}
	if (n == 1)
		n = 0;	/* "/" + "/a" must not give "//a" */
	if (n + strlen(rest) + 2 > len)
		return -ENAMETOOLONG;
	memcpy(ret, nsroot, n);
	strcpy(ret + n, rest);
	if (!ret[0])
		strcpy(ret, "/");
	return 0;
}

/*
 * The mounts of version's hierarchy that place our cgroup namespace: that of
 * its root (root "/") and the highest one above it (root "/.." x *ret_ups).
 */
static void ns_mounts(const char *mountinfo, int version, char *ns_mnt, char *top_mnt,
		      unsigned int *ret_ups, size_t len)
{
	const char *line = mountinfo;

	ns_mnt[0] = top_mnt[0] = '\0';
	*ret_ups = 0;
	while (line && *line) {
		const char *start = line, *nl = strchr(line, '\n'), *rest;
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char buf[2 * MS_CG_PATH_MAX], *root, *mnt;
		unsigned int k;

		line = nl ? nl + 1 : NULL;
		if (n >= sizeof(buf))
			continue;
		memcpy(buf, start, n);
		buf[n] = '\0';
		if (!cgroup_mount_matches(buf, version, &root, &mnt) || strlen(mnt) >= len)
			continue;
		if (!strcmp(root, "/") && !ns_mnt[0])
			strcpy(ns_mnt, mnt);
		k = leading_ups(root, &rest);
		if (k > *ret_ups && !rest[0]) {
			*ret_ups = k;
			strcpy(top_mnt, mnt);
		}
	}
}

struct ns_walk {
	dev_t dev;
	ino_t ino;
	unsigned int budget;
	char path[MS_CG_PATH_MAX];
};

/* Find (dev, ino) exactly depth levels below dirfd (which this closes); w->path grows. */
static int find_dir(int fd, unsigned int depth, struct ns_walk *w)
{
	size_t plen = strlen(w->path);
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int err = -ENOENT;

	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while (err == -ENOENT && (de = readdir(d))) {
		struct stat st;
		int sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!w->budget--)
			err = -E2BIG;
		else if (plen + 1 + strlen(de->d_name) >= sizeof(w->path))
			continue;
		else if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		else if (depth == 1) {
			if (st.st_dev == w->dev && st.st_ino == w->ino) {
				sprintf(w->path + plen, "/%s", de->d_name);
				err = 0;
			}
		} else {
			sub = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			sprintf(w->path + plen, "/%s", de->d_name);
			err = find_dir(sub, depth - 1, w);
			if (err == -ENOENT)
				w->path[plen] = '\0';
		}
	}
	closedir(d);
	return err;
}

/* The last answer of cgroup__ns_root() per version: it walks a tree. */
static pthread_mutex_t ns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	dev_t dev;
	ino_t ino;
	unsigned int ups;
	char root[MS_CG_PATH_MAX];
} ns_cache[2];

int cgroup__ns_root(const char *mountinfo, int version, const char *fs_prefix, char *ret,
		    size_t len)
{
	char ns_mnt[MS_CG_PATH_MAX], top_mnt[MS_CG_PATH_MAX], p[2 * MS_CG_PATH_MAX];
	struct ns_walk *w;
	unsigned int ups;
	struct stat st;
	int fd, err, c = version == 1 ? 0 : 1;

	ns_mounts(mountinfo, version, ns_mnt, top_mnt, &ups, sizeof(ns_mnt));
	if (!ups) {
		/* nothing mounted above us: paths are ours as they read */
		if (len < 2)
			return -ENAMETOOLONG;
		strcpy(ret, "/");
		return 0;
	}
	if (!ns_mnt[0] || ups > CG_NS_DEPTH_MAX)
		return -ENOENT;
	snprintf(p, sizeof(p), "%s%s", fs_prefix, ns_mnt);
	if (stat(p, &st))
		return -errno;
	pthread_mutex_lock(&ns_lock);
	if (ns_cache[c].ups == ups && ns_cache[c].dev == st.st_dev && ns_cache[c].ino == st.st_ino) {
		err = strlen(ns_cache[c].root) < len ? 0 : -ENAMETOOLONG;
		if (!err)
			strcpy(ret, ns_cache[c].root);
		pthread_mutex_unlock(&ns_lock);
		return err;
	}
	pthread_mutex_unlock(&ns_lock);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->budget = CG_NS_WALK_MAX;
	snprintf(p, sizeof(p), "%s%s", fs_prefix, top_mnt);
	fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	err = fd < 0 ? -errno : find_dir(fd, ups, w);
	if (!err && strlen(w->path) >= len)
		err = -ENAMETOOLONG;
	if (!err) {
		strcpy(ret, w->path);
		pthread_mutex_lock(&ns_lock);
		ns_cache[c].dev = st.st_dev;
		ns_cache[c].ino = st.st_ino;
		ns_cache[c].ups = ups;
		snprintf(ns_cache[c].root, sizeof(ns_cache[c].root), "%s", w->path);
		pthread_mutex_unlock(&ns_lock);
	}
	free(w);
	return err;
}

int cgroup__absolute_live(int version, char *path, size_t len)
{
	char nsroot[MS_CG_PATH_MAX], abs[MS_CG_PATH_MAX], *buf;
	size_t cap = CG_FILE_MAX;
	int err;

	if (strncmp(path, "/..", 3) || (path[3] && path[3] != '/'))
		return 0;	/* below our namespace's root, or no namespace */
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	err = cgroup_read_mountinfo(MS_CG_LIVE_MOUNTINFO, &buf, &cap);
	if (!err && cgroup__ns_root(buf, version, "", nsroot, sizeof(nsroot)))
		err = -EXDEV;
	if (!err)
		err = cgroup__absolute(nsroot, path, abs, sizeof(abs));
	if (!err && strlen(abs) >= len)
		err = -ENAMETOOLONG;
	if (!err)
		strcpy(path, abs);
	free(buf);
	return err;
}
