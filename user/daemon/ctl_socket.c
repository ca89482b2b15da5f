// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ctl_socket.c - the control socket's file: where it may be, what may be
 * there before us, and removing it only while it is still ours.
 *
 * The socket's directory, every directory above it and every directory on
 * its path as configured must be owned by root (or by us) and writable by
 * nobody else, unless sticky, and a symlink on the path must be root's: then
 * no other user can swap the socket or a directory on its way between our
 * checks and our bind, chown or unlink. At the socket's path, nothing or a stale
 * socket (nobody accepts on it) is fine; a live socket is another daemon's
 * and anything else is not ours to delete: both are refused. The socket is
 * created with its final mode (umask around bind) and its group is set
 * without following links; teardown unlinks it only if the file there is
 * still the one we bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "daemon/daemon_int.h"

/* What a file of this mode is, for messages. */
static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a socket";
}

/* Can a user other than root and us change the entries of this directory? */
static bool dir_unsafe(const struct stat *st)
{
	bool others_write = (st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid);

	if (st->st_uid && st->st_uid != geteuid())
		return true;
	return others_write && !(st->st_mode & S_ISVTX);
}

static int unsafe(const char *where, const struct stat *st, char *err, size_t errlen)
{
	return ms_fail(err, errlen, -EPERM,
		       "%s (owner uid %u, group gid %u, mode %04o) may be changed by other users: "
		       "the control socket's directory and those above it must be owned by root "
		       "and not writable by group or others (unless sticky)",
		       where, st->st_uid, st->st_gid, st->st_mode & 07777);
}

/*
 * Creates the directories of dir that are missing (mode 0755), checking each
 * one on the path as configured before anything is made in it: a symlink's
 * own directory is not on the resolved chain check_dirs() walks, and another
 * user's link could send clients to another socket.
 */
static int make_path(const char *dir, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	struct stat st;

	if (snprintf(buf, sizeof(buf), "%s/", dir) >= (int)sizeof(buf))
		return ms_fail(err, errlen, -ENAMETOOLONG, "%s: path too long", dir);
	if (buf[0] == '/' && !stat("/", &st) && dir_unsafe(&st))
		return unsafe("/", &st, err, errlen);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/' || p[-1] == '/')
			continue;
		*p = 0;		/* "/a", then "/a/b": lstat sees a link as a link */
		if (mkdir(buf, 0755) && errno != EEXIST)
			return ms_fail(err, errlen, -errno, "cannot create %s: %s", buf,
				       strerror(errno));
		if (!lstat(buf, &st) && S_ISLNK(st.st_mode) && st.st_uid && st.st_uid != geteuid())
			return ms_fail(err, errlen, -EPERM, "%s is a symbolic link owned by uid %u: "
				       "the control socket's path must not go through another "
				       "user's link", buf, st.st_uid);
		if (!stat(buf, &st) && dir_unsafe(&st))
			return unsafe(buf, &st, err, errlen);
		*p = '/';
	}
	return 0;
}

/* The path of an open directory, for a message (or "?"). */
static void fd_path(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		n = snprintf(buf, len, "?") > 0 ? 1 : 0;
	buf[n] = 0;
}

/*
 * Walk up from the directory we hold to the root by "..": the chain of
 * directories the kernel resolves, symlinks on the configured path included.
 */
static int check_dirs(int dfd, char *err, size_t errlen)
{
	char where[PATH_MAX];
	struct stat st, up;
	int fd, ret = 0;

	fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return ms_fail(err, errlen, -errno, "dup: %s", strerror(errno));
	for (;;) {
		int parent;

		if (fstat(fd, &st)) {
			ret = ms_fail(err, errlen, -errno, "stat: %s", strerror(errno));
			break;
		}
		if (dir_unsafe(&st)) {
			fd_path(fd, where, sizeof(where));
			ret = unsafe(where, &st, err, errlen);
			break;
		}
		parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0) {
			ret = ms_fail(err, errlen, -errno, "open ..: %s", strerror(errno));
			break;
		}
		if (fstat(parent, &up) == 0 && up.st_dev == st.st_dev && up.st_ino == st.st_ino) {
			close(parent);
			break;		/* "/" is its own parent */
		}
		close(fd);
		fd = parent;
	}
	close(fd);
	return ret;
}

/*
 * What is at the socket's path now: nothing, or a stale socket (removed),
 * is fine. A socket somebody accepts on is a running daemon's.
 */
static int clear_path(struct daemon *d, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = d->cfg.socket;
	struct stat st;
	int fd, ret;

	if (fstatat(d->sock.dfd, d->sock.name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return 0;
		return ms_fail(err, errlen, -errno, "cannot look at %s: %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return ms_fail(err, errlen, -EEXIST, "%s is %s, not a socket: left alone; remove it or "
			    "choose another socket path", path, file_kind(st.st_mode));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ms_fail(err, errlen, -errno, "socket: %s", strerror(errno));
	/* nonblocking: a daemon with a full backlog says EAGAIN, not nothing */
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
	close(fd);
	if (ret == 0 || ret == -EAGAIN || ret == -EINPROGRESS)
		return ms_fail(err, errlen, -EADDRINUSE, "memsightd already runs at %s", path);
	if (ret != -ECONNREFUSED)
		return ms_fail(err, errlen, ret, "cannot tell whether a daemon listens at %s: %s",
			    path, strerror(-ret));
	/* a socket nobody accepts on: left behind by a daemon that died */
	if (unlinkat(d->sock.dfd, d->sock.name, 0) && errno != ENOENT)
		return ms_fail(err, errlen, -errno, "cannot remove the stale socket %s: %s", path,
			    strerror(errno));
	return 0;
}

/* Split the socket's path into its directory (opened, checked) and its name. */
static int open_dir(struct daemon *d, char *err, size_t errlen)
{
	const char *path = d->cfg.socket, *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int ret;

	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	snprintf(d->sock.name, sizeof(d->sock.name), "%s", slash ? slash + 1 : path);
	if (!d->sock.name[0] || !strcmp(d->sock.name, ".") || !strcmp(d->sock.name, ".."))
		return ms_fail(err, errlen, -EINVAL, "%s does not name a file", path);
	ret = make_path(dir, err, errlen);
	if (ret)
		return ret;
	d->sock.dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d->sock.dfd < 0)
		return ms_fail(err, errlen, -errno, "cannot open %s: %s", dir, strerror(errno));
	return check_dirs(d->sock.dfd, err, errlen);
}

int ctl_socket__open(struct daemon *d, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.socket;
	struct group *gr;
	struct stat st;
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ms_fail(err, errlen, -ENAMETOOLONG, "%s: longer than a socket path may be "
			    "(%zu bytes)", path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	ret = open_dir(d, err, errlen);
	if (ret)
		return ret;
	ret = clear_path(d, &sa, err, errlen);
	if (ret)
		return ret;
	gr = d->cfg.socket_group[0] ? getgrnam(d->cfg.socket_group) : NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ms_fail(err, errlen, -errno, "socket: %s", strerror(errno));
	/* born with its final mode: never a moment open to more than root's group */
	old = umask(gr ? 0117 : 0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (ret) {
		close(fd);
		return ms_fail(err, errlen, ret, "cannot bind %s: %s", path, strerror(-ret));
	}
	if (fstatat(d->sock.dfd, d->sock.name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISSOCK(st.st_mode)) {
		ret = ms_fail(err, errlen, -EIO, "%s changed under us while binding", path);
		goto fail;
	}
	d->sock.dev = st.st_dev;
	d->sock.ino = st.st_ino;
	d->sock.bound = true;
	if (gr) {
		d->sock_gid = gr->gr_gid;
		d->have_sock_gid = true;
		if (fchownat(d->sock.dfd, d->sock.name, 0, gr->gr_gid, AT_SYMLINK_NOFOLLOW)) {
			ret = ms_fail(err, errlen, -errno, "cannot give %s to group %s: %s", path,
				   d->cfg.socket_group, strerror(errno));
			goto fail;
		}
	}
	if (listen(fd, SOMAXCONN)) {
		ret = ms_fail(err, errlen, -errno, "cannot listen on %s: %s", path, strerror(errno));
		goto fail;
	}
	d->lfd = fd;
	return 0;
fail:
	close(fd);
	return ret;
}

void ctl_socket__close(struct daemon *d)
{
	struct stat st;

	if (d->lfd >= 0)
		close(d->lfd);
	d->lfd = -1;
	/* another daemon may have replaced a socket we bound: that one is not ours */
	if (d->sock.bound && !fstatat(d->sock.dfd, d->sock.name, &st, AT_SYMLINK_NOFOLLOW) &&
	    st.st_dev == d->sock.dev && st.st_ino == d->sock.ino)
		unlinkat(d->sock.dfd, d->sock.name, 0);
	d->sock.bound = false;
	if (d->sock.dfd >= 0)
		close(d->sock.dfd);
	d->sock.dfd = -1;
}
