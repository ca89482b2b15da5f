// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * procfs.c - /proc/PID parsers.
 *
 * Files are opened relative to one O_DIRECTORY fd of <root>/<pid>, so a
 * call never mixes files of two processes that reused the same pid. The
 * files of the process's memory come from a live thread when the main
 * thread has exited while others run on (see mm_dir_open()).
 * Everything read is treated as hostile: lengths are capped, numbers are
 * range-checked and a malformed file gives -EINVAL, never a partial answer.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "target/procfs.h"

/* A real process has at most vm.max_map_count (65530 by default) mappings. */
#define MAPS_MAX_ENTRIES	1000000
/* Kernel lines are < 16 KiB even with a PATH_MAX path fully \012-escaped. */
#define MAPS_MAX_LINE		(1024 * 1024)
/* status/stat/comm are a few KiB at most; anything bigger is not procfs. */
#define SMALL_FILE_MAX		(64 * 1024)

static const char deleted_suffix[] = " (deleted)";

static int pid_dir_path(const char *root, pid_t pid, char *buf, size_t len)
{
	int n;

	if (!root || pid < 0)
		return -EINVAL;
	n = snprintf(buf, len, "%s/%d", root, (int)pid);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* fd of <root>/<pid>, or -ESRCH when that directory is not there. */
static int pid_dir_open(const char *root, pid_t pid)
{
	char path[PATH_MAX];
	int err, fd;

	err = pid_dir_path(root, pid, path, sizeof(path));
	if (err)
		return err;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ESRCH : -errno;
	return fd;
}

/* The state letter of the task whose directory is dfd ('?' if unreadable). */
static char task_state(int dfd)
{
	char buf[1024], *p;
	ssize_t n;
	int fd;

	fd = openat(dfd, "stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	/* comm may hold ')': the state follows the last one (cut: unknown) */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] ? p[2] : '?';
}

static bool task_exited(char state)
{
	return state == 'Z' || state == 'X';
}

/*
 * fd of the directory whose per-mm files (maps, smaps, status's memory
 * lines, exe) describe process pid, and the task it is: <root>/<pid>,
 * except when the main thread has exited while other threads run on. Its
 * zombie shows no memory then, so a live thread's <root>/<pid>/task/<tid>
 * speaks for the process (the memory is the same; only the leader left).
 */
static int mm_dir_open(const char *root, pid_t pid, pid_t *ret_tid)
{
	struct dirent *de;
	DIR *dir;
	int dfd, tfd, fd = -1;

	*ret_tid = pid;
	dfd = pid_dir_open(root, pid);
	if (dfd < 0 || !task_exited(task_state(dfd)))
		return dfd;
	tfd = openat(dfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir = tfd >= 0 ? fdopendir(tfd) : NULL;
	if (!dir) {
		if (tfd >= 0)
			close(tfd);
		return dfd;	/* no threads to look at: the leader it is */
	}
	while (fd < 0 && (de = readdir(dir))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0 || tid == pid)
			continue;
		fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && task_exited(task_state(fd))) {
			close(fd);
			fd = -1;
		} else if (fd >= 0) {
			*ret_tid = tid;
		}
	}
	closedir(dir);
	if (fd < 0)
		return dfd;	/* every thread is exiting: the leader's (empty) view */
	close(dfd);
	return fd;
}

/* The files that show the process's memory, which its main thread's zombie lacks. */
static bool mm_file(const char *name)
{
	static const char *const names[] = { "maps", "smaps", "smaps_rollup", "status" };

	for (size_t i = 0; i < MS_ARRAY_LEN(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

int procfs__mm_task(const char *proc_root, pid_t pid, pid_t *ret_tid)
{
	int fd;

	if (!ret_tid)
		return -EINVAL;
	fd = mm_dir_open(proc_root, pid, ret_tid);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int procfs__pid_exists(const char *proc_root, pid_t pid)
{
	int fd = pid_dir_open(proc_root, pid);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/*
 * A file missing from a pid directory usually means the process exited
 * after we opened the directory: say -ESRCH then, -ENOENT only when the
 * process is still there (a kernel thread has no exe, for instance).
 */
static int missing_file_err(const char *root, pid_t pid)
{
	return procfs__pid_exists(root, pid) == -ESRCH ? -ESRCH : -ENOENT;
}

int procfs__open_file(const char *root, pid_t pid, const char *name)
{
	pid_t tid;
	int dfd, fd, err;

	dfd = mm_file(name) ? mm_dir_open(root, pid, &tid) : pid_dir_open(root, pid);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	err = errno;
	close(dfd);
	if (fd >= 0)
		return fd;
	return err == ENOENT ? missing_file_err(root, pid) : -err;
}

/* Identity of <root>/<pid>/ns/pid, the PID namespace pid lives in. */
static int pidns_of(const char *root, pid_t pid, struct stat *ret)
{
	int dfd, err = 0;

	dfd = pid_dir_open(root, pid);
	if (dfd < 0)
		return dfd;
	if (fstatat(dfd, "ns/pid", ret, 0))
		err = errno == ENOENT ? missing_file_err(root, pid) : -errno;
	close(dfd);
	return err;
}

/* The initial PID namespace's inode number (PROC_PID_INIT_INO, fixed since Linux 3.8). */
#define PIDNS_INIT_INO		0xEFFFFFFCu

int procfs__self_in_initial_pidns(const char *proc_root)
{
	char path[PATH_MAX];
	struct stat st;

	if (!proc_root ||
	    snprintf(path, sizeof(path), "%s/self/ns/pid", proc_root) >= (int)sizeof(path))
		return -EINVAL;
	if (stat(path, &st))
		return -errno;
	return st.st_ino == PIDNS_INIT_INO;
}

int procfs__same_pidns(const char *proc_root, pid_t a, pid_t b)
{
	struct stat sa, sb;
	int err;

	err = pidns_of(proc_root, a, &sa);
	if (!err)
		err = pidns_of(proc_root, b, &sb);
	if (err)
		return err;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Whole file into a NUL-terminated malloc'd buffer. Procfs files have no
 * meaningful st_size, so read until EOF, up to max bytes (-E2BIG beyond).
 */
static int read_pid_file(const char *root, pid_t pid, const char *name, size_t max,
			 char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = 4096;
	char *buf, *tmp;
	int fd, err = 0;
	ssize_t n;

	fd = procfs__open_file(root, pid, name);
	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (cap - len < 2) {
			if (cap >= max + 1) {
				err = -E2BIG;
				goto out;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			tmp = realloc(buf, cap);
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			buf = tmp;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

/*
 * Parsers of one number each: at least one digit, no sign, no overflow.
 * *pp is advanced past the digits.
 */
static int parse_hex_u64(const char **pp, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;
	int d;

	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (v > (UINT64_MAX >> 4))
			return -EINVAL;
		v = (v << 4) | d;
	}
	if (p == *pp)
		return -EINVAL;
	*pp = p;
	*ret = v;
	return 0;
}

int procfs__parse_dec(const char **pp, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;
	unsigned int d;

	for (; *p >= '0' && *p <= '9'; p++) {
		d = *p - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (p == *pp)
		return -EINVAL;
	*pp = p;
	*ret = v;
	return 0;
}

static int expect_char(const char **pp, char c)
{
	if (**pp != c)
		return -EINVAL;
	(*pp)++;
	return 0;
}

/*
 * One line as show_map_vma() prints it, newline already removed:
 *   start-end perms pgoff major:minor inode [padding path]
 * The path is everything after the padding, spaces included.
 */
int procfs__parse_maps_line(const char *line, struct ms_map *m)
{
	const char *p = line;
	uint64_t major, minor;
	size_t plen, slen = sizeof(deleted_suffix) - 1;
	int i;

	memset(m, 0, sizeof(*m));
	if (parse_hex_u64(&p, &m->start) || expect_char(&p, '-') ||
	    parse_hex_u64(&p, &m->end) || expect_char(&p, ' '))
		return -EINVAL;
	if (m->end <= m->start)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		static const char allowed[4][3] = { "r-", "w-", "x-", "ps" };

		if (!p[i] || !memchr(allowed[i], p[i], 2))
			return -EINVAL;
		m->perms[i] = p[i];
	}
	m->perms[4] = '\0';
	p += 4;
	if (expect_char(&p, ' ') || parse_hex_u64(&p, &m->pgoff) || expect_char(&p, ' ') ||
	    parse_hex_u64(&p, &major) || expect_char(&p, ':') || parse_hex_u64(&p, &minor) ||
	    expect_char(&p, ' ') || procfs__parse_dec(&p, &m->inode))
		return -EINVAL;
	if (major > UINT32_MAX || minor > UINT32_MAX)
		return -EINVAL;
	m->dev_major = major;
	m->dev_minor = minor;
	/* The kernel prints one space after the inode even without a path. */
	if (*p && *p != ' ')
		return -EINVAL;
	while (*p == ' ')
		p++;
	if (!*p)
		return 0;

	plen = strlen(p);
	if (plen > slen && !memcmp(p + plen - slen, deleted_suffix, slen)) {
		m->deleted = true;
		plen -= slen;
	}
	m->path = strndup(p, plen);
	if (!m->path)
		return -ENOMEM;
	return 0;
}

static int map_cmp(const void *a, const void *b)
{
	const struct ms_map *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

void ms_maps__free(struct ms_maps *maps)
{
	if (!maps)
		return;
	for (size_t i = 0; i < maps->n; i++)
		free(maps->v[i].path);
	free(maps->v);
	maps->v = NULL;
	maps->n = 0;
}

int procfs__read_maps(const char *proc_root, pid_t pid, struct ms_maps *ret)
{
	struct ms_maps maps = { 0 };
	size_t cap = 0, linecap = 0;
	bool sorted = true;
	char *line = NULL;
	struct ms_map *tmp;
	FILE *f = NULL;
	ssize_t len;
	int fd, err = 0;

	if (!ret)
		return -EINVAL;
	ret->v = NULL;
	ret->n = 0;
	fd = procfs__open_file(proc_root, pid, "maps");
	if (fd < 0)
		return fd;
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}

	errno = 0;
	while ((len = getline(&line, &linecap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		/* An embedded NUL would silently cut the path short. */
		if ((size_t)len != strlen(line)) {
			err = -EINVAL;
			goto out;
		}
		if (len > MAPS_MAX_LINE || maps.n >= MAPS_MAX_ENTRIES) {
			err = -E2BIG;
			goto out;
		}
		if (maps.n == cap) {
			cap = cap ? cap * 2 : 64;
			if (cap > MAPS_MAX_ENTRIES)
				cap = MAPS_MAX_ENTRIES;
			tmp = reallocarray(maps.v, cap, sizeof(*maps.v));
			if (!tmp) {
				err = -ENOMEM;
				goto out;
			}
			maps.v = tmp;
		}
		err = procfs__parse_maps_line(line, &maps.v[maps.n]);
		if (err)
			goto out;
		if (maps.n && maps.v[maps.n].start < maps.v[maps.n - 1].start)
			sorted = false;
		maps.n++;
		errno = 0;
	}
	/* getline() returns -1 for both EOF and errors; only errno tells them apart. */
	if (ferror(f)) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	/*
	 * A live file read in several chunks can come back out of order when
	 * the address space changes between reads; find() needs it sorted.
	 */
	if (!sorted)
		qsort(maps.v, maps.n, sizeof(*maps.v), map_cmp);
	*ret = maps;
	maps.v = NULL;
	maps.n = 0;
out:
	ms_maps__free(&maps);
	free(line);
	fclose(f);
	return err;
}

const struct ms_map *ms_maps__find(const struct ms_maps *maps, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!maps || !maps->n)
		return NULL;
	/* Last mapping whose start <= addr: the only one that can contain it. */
	hi = maps->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (maps->v[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (addr >= maps->v[lo].start && addr < maps->v[lo].end)
		return &maps->v[lo];
	return NULL;
}

/*
 * Copy the Name value as printed, cut to fit without splitting a kernel
 * escape ("\n", "\\"): workqueue and escaped names exceed MS_COMM_LEN.
 */
static void copy_status_name(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t i = 0, step;

	while (i < srclen) {
		step = (src[i] == '\\' && i + 1 < srclen) ? 2 : 1;
		if (i + step > dstlen - 1)
			break;
		i += step;
	}
	memcpy(dst, src, i);
	dst[i] = '\0';
}

static int parse_status_num(const char *val, uint64_t max, bool kb, uint64_t *ret)
{
	const char *p = val;
	uint64_t v;

	while (*p == ' ' || *p == '\t')
		p++;
	if (procfs__parse_dec(&p, &v) || v > max)
		return -EINVAL;
	if (kb && strcmp(p, " kB"))
		return -EINVAL;
	if (!kb && *p)
		return -EINVAL;
	*ret = v;
	return 0;
}

enum status_key {
	SK_NAME, SK_TGID, SK_PPID, SK_THREADS, SK_VMSIZE, SK_VMRSS, SK_VMHWM,
	SK_RSSANON, SK_RSSFILE, SK_RSSSHMEM, SK_VMSWAP, SK__MAX,
};

static const char *const status_keys[SK__MAX] = {
	[SK_NAME] = "Name", [SK_TGID] = "Tgid", [SK_PPID] = "PPid",
	[SK_THREADS] = "Threads", [SK_VMSIZE] = "VmSize", [SK_VMRSS] = "VmRSS",
	[SK_VMHWM] = "VmHWM", [SK_RSSANON] = "RssAnon", [SK_RSSFILE] = "RssFile",
	[SK_RSSSHMEM] = "RssShmem", [SK_VMSWAP] = "VmSwap",
};

int procfs__read_status(const char *proc_root, pid_t pid, struct ms_proc_status *ret)
{
	struct ms_proc_status st = { 0 };
	unsigned int seen = 0;
	char *buf, *line, *next, *colon;
	uint64_t v;
	size_t len;
	int err, k;

	if (!ret)
		return -EINVAL;
	err = read_pid_file(proc_root, pid, "status", SMALL_FILE_MAX, &buf, &len);
	if (err)
		return err;
	if (strlen(buf) != len) {
		err = -EINVAL;
		goto out;
	}

	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		/* The kernel ends every line; a missing newline means a cut file. */
		if (!next) {
			err = -EINVAL;
			goto out;
		}
		*next++ = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		for (k = 0; k < SK__MAX; k++)
			if (!strcmp(line, status_keys[k]))
				break;
		if (k == SK__MAX)
			continue;
		seen |= 1u << k;
		if (k == SK_NAME) {
			/* "Name:\t" then the name; spaces inside it are significant. */
			if (colon[1] != '\t') {
				err = -EINVAL;
				goto out;
			}
			copy_status_name(st.name, sizeof(st.name), colon + 2, strlen(colon + 2));
			continue;
		}
		err = parse_status_num(colon + 1,
				       (k == SK_TGID || k == SK_PPID) ? INT_MAX :
				       k == SK_THREADS ? UINT32_MAX : UINT64_MAX,
				       k >= SK_VMSIZE, &v);
		if (err)
			goto out;
		switch (k) {
		case SK_TGID: st.tgid = v; break;
		case SK_PPID: st.ppid = v; break;
		case SK_THREADS: st.threads = v; break;
		case SK_VMSIZE: st.vm_size_kb = v; break;
		case SK_VMRSS: st.vm_rss_kb = v; break;
		case SK_VMHWM: st.vm_hwm_kb = v; break;
		case SK_RSSANON: st.rss_anon_kb = v; break;
		case SK_RSSFILE: st.rss_file_kb = v; break;
		case SK_RSSSHMEM: st.rss_shmem_kb = v; break;
		case SK_VMSWAP: st.vm_swap_kb = v; break;
		}
	}
	/*
	 * Vm and Rss lines are absent for kernel threads, but these four are
	 * always printed; Threads comes after the Vm block, so its presence
	 * also shows the file was not cut in the middle of it.
	 */
	if ((seen & ((1u << SK_NAME) | (1u << SK_TGID) | (1u << SK_PPID) | (1u << SK_THREADS))) !=
	    ((1u << SK_NAME) | (1u << SK_TGID) | (1u << SK_PPID) | (1u << SK_THREADS))) {
		err = -EINVAL;
		goto out;
	}
	*ret = st;
out:
	free(buf);
	return err;
}

int procfs__read_start_time(const char *proc_root, pid_t pid, uint64_t *ret_ticks)
{
	const char *p;
	char *buf, *rparen;
	uint64_t ticks;
	size_t len;
	int err, field;

	if (!ret_ticks)
		return -EINVAL;
	/* Read whole, not by line: comm is printed raw and may hold a newline. */
	err = read_pid_file(proc_root, pid, "stat", SMALL_FILE_MAX, &buf, &len);
	if (err)
		return err;
	err = -EINVAL;
	if (strlen(buf) != len || !strchr(buf, '('))
		goto out;
	/* comm may contain ") (", but nothing after it contains ')'. */
	rparen = memrchr(buf, ')', len);
	if (!rparen || rparen < strchr(buf, '('))
		goto out;
	p = rparen + 1;
	/* Field 2 is "(comm)"; skip the blank-separated fields 3 to 21. */
	for (field = 3; field <= 22; field++) {
		if (*p++ != ' ')
			goto out;
		if (field == 22)
			break;
		if (*p == ' ' || *p == '\n' || !*p)
			goto out;
		p += strcspn(p, " \n");
	}
	if (procfs__parse_dec(&p, &ticks) || (*p != ' ' && *p != '\n'))
		goto out;
	*ret_ticks = ticks;
	err = 0;
out:
	free(buf);
	return err;
}

int procfs__read_comm(const char *proc_root, pid_t pid, char *buf, size_t len)
{
	char *data;
	size_t n;
	int err;

	if (!buf || !len)
		return -EINVAL;
	err = read_pid_file(proc_root, pid, "comm", SMALL_FILE_MAX, &data, &n);
	if (err)
		return err;
	/* The kernel always ends comm with a newline: without one it was cut. */
	if (!n || data[n - 1] != '\n' || strlen(data) != n) {
		err = -EINVAL;
		goto out;
	}
	n--;
	if (n >= len) {
		err = -ERANGE;
		goto out;
	}
	memcpy(buf, data, n);
	buf[n] = '\0';
out:
	free(data);
	return err;
}

int procfs__read_exe(const char *proc_root, pid_t pid, char *buf, size_t len)
{
	ssize_t n;
	pid_t tid;
	int dfd, err;

	if (!buf || !len)
		return -EINVAL;
	dfd = mm_dir_open(proc_root, pid, &tid);
	if (dfd < 0)
		return dfd;
	n = readlinkat(dfd, "exe", buf, len);
	err = errno;
	close(dfd);
	if (n < 0)
		return err == ENOENT ? missing_file_err(proc_root, pid) : -err;
	/* readlink() truncates silently; a full buffer may have been cut. */
	if ((size_t)n >= len)
		return -ERANGE;
	buf[n] = '\0';
	return 0;
}

char *ms_map__open_path(pid_t pid, const struct ms_map *m)
{
	char *p = NULL, dir[64];
	struct stat st;
	pid_t tid;

	/* root and map_files need a live task: a live thread when the main one exited */
	if (procfs__mm_task("/proc", pid, &tid) || tid == pid)
		snprintf(dir, sizeof(dir), "/proc/%d", pid);
	else
		snprintf(dir, sizeof(dir), "/proc/%d/task/%d", pid, tid);
	if (!m->deleted && asprintf(&p, "%s/root%s", dir, m->path) >= 0) {
		if (stat(p, &st) == 0 && st.st_ino == m->inode)
			return p;
		free(p);
		p = NULL;
	}
	if (asprintf(&p, "%s/map_files/%lx-%lx", dir, (unsigned long)m->start,
		     (unsigned long)m->end) < 0)
		return NULL;
	return p;
}
