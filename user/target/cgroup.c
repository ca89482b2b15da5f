// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup.c - the memory cgroup of a process, v1 and v2.
 *
 * /proc/PID/cgroup names the cgroup relative to the reader's cgroup
 * namespace, and so does the root field of the reader's mountinfo: the
 * directory is the mount point plus the path below the mount's root. Input
 * is hostile (a target can be in a cgroup whose name it chose): paths are
 * length-checked, numbers range-checked, and a file that does not parse is
 * an ERROR figure, never a 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/cgroup.h"
#include "target/cgroup_int.h"

/* v1 prints PAGE_COUNTER_MAX * PAGE_SIZE: LONG_MAX rounded down to the page (up to 64 KiB). */
#define CG_V1_UNLIMITED	0x7FFFFFFFFFFF0000ULL

static const char WHY_V1_NO_HIGH[] = "cgroup v1 has no memory.high";
static const char WHY_V1_NO_OOM[] = "cgroup v1 counts OOM kills only, not OOM events";
static const char WHY_NO_FILE[] = "this kernel has no such cgroup file";
static const char WHY_NO_KEY[] = "this kernel does not report it";
static const char WHY_NO_SWAP[] = "swap accounting is off";
static const char WHY_NO_PSI[] = "no per-cgroup PSI (v1, or psi=0)";
static const char WHY_BAD[] = "the cgroup file did not parse";
static const char WHY_UNREAD[] = "not read";
static const char WHY_MAX[] = "unlimited";

static int parse_u64(const char *s, char **end, uint64_t *ret)
{
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno)
		return -ERANGE;
	*ret = v;
	return 0;
}

/*
 * The lines of a /proc/PID/cgroup text that matter: the v1 line whose
 * controller list names "memory" and the v2 "0::" line. 0 or -EINVAL.
 */
static int scan_proc_cgroup(const char *text, const char **ret_v1, const char **ret_v2)
{
	const char *line = text;

	*ret_v1 = *ret_v2 = NULL;
	/* "hierarchy-ID:controller-list:path" per line. */
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		const char *c1 = memchr(line, ':', nl ? (size_t)(nl - line) : strlen(line));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (nl ? nl : line + strlen(line)) - c1 - 1)
				    : NULL;

		if (!c2)
			return -EINVAL;
		if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
			*ret_v2 = c2 + 1;
		} else {
			const char *t = c1 + 1;

			/* Controller list is comma separated: "memory" must be a whole token. */
			while (t < c2) {
				const char *comma = memchr(t, ',', c2 - t);
				const char *te = comma ? comma : c2;

				if (te - t == 6 && !memcmp(t, "memory", 6))
					*ret_v1 = c2 + 1;
				t = te + 1;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* The path a line points at, up to its end, into ret_path. */
static int line_path(const char *pick, char *ret_path, size_t len)
{
	size_t n = strcspn(pick, "\n");

	if (n == 0 || pick[0] != '/')
		return -EINVAL;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(ret_path, pick, n);
	ret_path[n] = '\0';
	return 0;
}

int cgroup__parse_proc_cgroup(const char *text, int *ret_version, char *ret_path, size_t len)
{
	const char *v1, *v2;
	int err = scan_proc_cgroup(text, &v1, &v2);

	if (err)
		return err;
	if (!v1 && !v2)
		return -ENOENT;
	err = line_path(v1 ? v1 : v2, ret_path, len);
	if (!err)
		*ret_version = v1 ? 1 : 2;
	return err;
}

int cgroup__parse_unified(const char *text, char *ret_path, size_t len)
{
	const char *v1, *v2;
	int err = scan_proc_cgroup(text, &v1, &v2);

	if (err)
		return err;
	return v2 ? line_path(v2, ret_path, len) : -ENODATA;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo; undo it in place. */
static int unescape_octal(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (*r == '\\') {
			int i, v = 0;

			for (i = 1; i <= 3; i++) {
				if (r[i] < '0' || r[i] > '7')
					return -EINVAL;
				v = v * 8 + (r[i] - '0');
			}
			if (v == 0 || v > 255)
				return -EINVAL;
			*w++ = (char)v;
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return 0;
}

static bool has_token(const char *list, const char *tok)
{
	size_t n = strlen(tok);

	while (list && *list) {
		size_t m = strcspn(list, ",");

		if (m == n && !memcmp(list, tok, n))
			return true;
		list = list[m] ? list + m + 1 : NULL;
	}
	return false;
}

/*
 * One mountinfo line: "id parent maj:min root mountpoint opts [optional...] -
 * fstype source superopts". Returns true when it is the mount we want and
 * fills root/mnt (NUL-terminated copies into buf).
 */
bool cgroup_mount_matches(char *line, int version, char **ret_root, char **ret_mnt)
{
	char *f[6], *save = NULL, *tok, *fstype = NULL, *superopts = NULL;
	int i = 0;

	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (i < 6) {
			f[i++] = tok;
			continue;
		}
		if (strcmp(tok, "-"))
			continue;	/* optional fields */
		fstype = strtok_r(NULL, " ", &save);
		if (fstype && strtok_r(NULL, " ", &save))
			superopts = strtok_r(NULL, " ", &save);
		break;
	}
	if (i < 6 || !fstype)
		return false;
	if (version == 2 ? strcmp(fstype, "cgroup2") :
	    (strcmp(fstype, "cgroup") || !superopts || !has_token(superopts, "memory")))
		return false;
	if (unescape_octal(f[3]) || unescape_octal(f[4]))
		return false;
	*ret_root = f[3];
	*ret_mnt = f[4];
	return true;
}

/* Length of root when it is a path prefix of path ("/" prefixes all), else -1. */
static long root_prefix(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return 0;
	if (strncmp(root, path, n) || (path[n] && path[n] != '/'))
		return -1;
	return n;
}

/* Does path climb with ".." anywhere (after the namespace's leading ones)? */
bool cgroup_path_climbs(const char *path)
{
	size_t n = strlen(path);

	return strstr(path, "/../") || (n >= 3 && !strcmp(path + n - 3, "/..")) ||
	       !strcmp(path, "..");
}

int cgroup__resolve_dir(const char *mountinfo, int version, const char *nsroot, const char *path,
			char *ret_dir, size_t len)
{
	const char *line = mountinfo;
	long best = -1;
	int err = -ENOENT;

	if (path[0] != '/' || cgroup_path_climbs(path))
		return -EINVAL;
	while (line && *line) {
		const char *start = line, *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char buf[2 * MS_CG_PATH_MAX], root[MS_CG_PATH_MAX], *rel, *mnt;
		long pre;

		line = nl ? nl + 1 : NULL;
		if (n >= sizeof(buf))
			continue;
		memcpy(buf, start, n);
		buf[n] = '\0';
		if (!cgroup_mount_matches(buf, version, &rel, &mnt))
			continue;
		/* a root above our namespace's ("/../..": the host's hierarchy) in host terms */
		if (cgroup__absolute(nsroot, rel, root, sizeof(root)))
			continue;
		pre = root_prefix(root, path);
		if (pre < 0 || pre <= best)
			continue;
		/* Mount point "/" plus path "/a" must not give "//a". */
		if (snprintf(ret_dir, len, "%s%s", strcmp(mnt, "/") ? mnt : "",
			     path + pre) >= (int)len) {
			err = -ENAMETOOLONG;
			continue;
		}
		if (!ret_dir[0])
			snprintf(ret_dir, len, "/");
		best = pre;
		err = 0;
	}
	return err;
}

int cgroup__flat_key(const char *text, const char *key, uint64_t *ret)
{
	size_t n = strlen(key);
	const char *line = text;

	while (line && *line) {
		if (!strncmp(line, key, n) && line[n] == ' ') {
			char *end;
			int err = parse_u64(line + n + 1, &end, ret);

			if (err)
				return err;
			return (*end == '\n' || *end == '\0') ? 0 : -EINVAL;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

static void set_ok(struct ms_cg_value *v, uint64_t x)
{
	v->v = x;
	v->state = MS_CG_OK;
	v->why = NULL;
}

static void set_na(struct ms_cg_value *v, enum ms_cg_state st, const char *why)
{
	v->v = 0;
	v->state = st;
	v->why = why;
}

int cgroup__parse_limit(const char *text, struct ms_cg_value *ret)
{
	uint64_t x;
	char *end;

	if (!strcmp(text, "max\n") || !strcmp(text, "max")) {
		set_na(ret, MS_CG_UNLIMITED, WHY_MAX);
		return 0;
	}
	if (parse_u64(text, &end, &x) || (*end != '\n' && *end))
		return -EINVAL;
	if (x >= CG_V1_UNLIMITED)
		set_na(ret, MS_CG_UNLIMITED, WHY_MAX);
	else
		set_ok(ret, x);
	return 0;
}

/* "avg10=12.34" -> 1234; the kernel prints exactly two decimals. */
static int psi_centi(const char *line, const char *key, uint64_t *ret)
{
	const char *p = strstr(line, key);
	uint64_t ip, fp;
	char *end;

	if (!p)
		return -EINVAL;
	p += strlen(key);
	if (parse_u64(p, &end, &ip) || ip > 100 || *end != '.')
		return -EINVAL;
	if (end[1] < '0' || end[1] > '9' || end[2] < '0' || end[2] > '9')
		return -EINVAL;
	fp = (uint64_t)(end[1] - '0') * 10 + (end[2] - '0');
	*ret = ip * 100 + fp;
	return 0;
}

static int psi_line(const char *line, struct ms_cg_value *avg, struct ms_cg_value *total)
{
	const char *t = strstr(line, " total=");
	uint64_t a, tot;
	char *end;
	int err;

	err = psi_centi(line, " avg10=", &a);
	if (err || !t)
		return -EINVAL;
	if (parse_u64(t + 7, &end, &tot) || (*end != '\n' && *end))
		return -EINVAL;
	set_ok(avg, a);
	set_ok(total, tot);
	return 0;
}

int cgroup__parse_psi(const char *text, struct ms_cg_psi *ret)
{
	const char *some = NULL, *full = NULL, *line = text;

	while (line && *line) {
		if (!strncmp(line, "some ", 5))
			some = line;
		else if (!strncmp(line, "full ", 5))
			full = line;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!some)
		return -EINVAL;
	set_na(&ret->full_avg10_centi, MS_CG_MISSING, WHY_NO_KEY);
	set_na(&ret->full_total_us, MS_CG_MISSING, WHY_NO_KEY);
	if (psi_line(some, &ret->some_avg10_centi, &ret->some_total_us))
		return -EINVAL;
	if (full && psi_line(full, &ret->full_avg10_centi, &ret->full_total_us))
		return -EINVAL;
	return 0;
}

/* What is left of fd into buf (NUL-terminated); -EFBIG when it does not fit. */
static int read_fd(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int err = 0;

	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		got += n;
	}
	if (!err && got == len - 1)
		err = -EFBIG;
	buf[got] = '\0';
	return err;
}

/* Whole small file into buf (NUL-terminated); -EFBIG when it does not fit. */
static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = read_fd(fd, buf, len);
	close(fd);
	return err;
}

/* fd (path when fd < 0) whole into *buf, which grows (doubling) up to max. */
static int read_grow(int fd, const char *path, char **buf, size_t *cap, size_t max)
{
	char *nb;
	int err;

	for (;;) {
		if (fd >= 0)
			err = lseek(fd, 0, SEEK_SET) ? -errno : read_fd(fd, *buf, *cap);
		else
			err = read_text(path, *buf, *cap);
		if (err != -EFBIG || *cap >= max)
			break;
		nb = realloc(*buf, *cap * 2);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap *= 2;
	}
	return err == -EFBIG ? -E2BIG : err;
}

/*
 * Our own mountinfo, read again only when the mount table changed: the
 * kernel flags an open mountinfo POLLPRI then (proc(5)). Snapshots read it
 * for every watched process; a node with hundreds of pods has a megabyte.
 */
static pthread_mutex_t mi_lock = PTHREAD_MUTEX_INITIALIZER;
static int mi_fd = -1;
static char *mi_text;
static size_t mi_cap, mi_len;

static int live_mountinfo(char **buf, size_t *cap)
{
	struct pollfd pfd = { .events = POLLPRI };
	int err = 0;

	pthread_mutex_lock(&mi_lock);
	if (mi_fd < 0) {
		mi_fd = open(MS_CG_LIVE_MOUNTINFO, O_RDONLY | O_CLOEXEC);
		if (mi_fd < 0)
			err = -errno;
		mi_len = 0;
	}
	pfd.fd = mi_fd;
	if (!err && (!mi_len || poll(&pfd, 1, 0) != 0)) {
		if (!mi_text) {
			mi_cap = CG_FILE_MAX;
			mi_text = malloc(mi_cap);
		}
		err = mi_text ? read_grow(mi_fd, NULL, &mi_text, &mi_cap, CG_MOUNTINFO_MAX) : -ENOMEM;
		mi_len = err ? 0 : strlen(mi_text);
	}
	if (!err && mi_len + 1 > *cap) {
		char *nb = realloc(*buf, mi_len + 1);

		if (nb) {
			*buf = nb;
			*cap = mi_len + 1;
		} else {
			err = -ENOMEM;
		}
	}
	if (!err)
		memcpy(*buf, mi_text, mi_len + 1);
	pthread_mutex_unlock(&mi_lock);
	return err;
}

int cgroup_read_mountinfo(const char *path, char **buf, size_t *cap)
{
	if (!strcmp(path, MS_CG_LIVE_MOUNTINFO))
		return live_mountinfo(buf, cap);
	return read_grow(-1, path, buf, cap, CG_MOUNTINFO_MAX);
}

static int read_in_dir(const struct ms_cgroup_mem *cg, const char *name, char *buf, size_t len)
{
	char path[MS_CG_PATH_MAX + 64];

	if (snprintf(path, sizeof(path), "%s/%s", cg->dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return read_text(path, buf, len);
}

/* A file holding one number ("max" allowed when limit is set). */
static void read_value(const struct ms_cgroup_mem *cg, const char *name, bool limit,
		       struct ms_cg_value *v, char *buf, size_t len)
{
	uint64_t x;
	char *end;
	int err = read_in_dir(cg, name, buf, len);

	if (err == -ENOENT) {
		set_na(v, MS_CG_MISSING, WHY_NO_FILE);
		return;
	}
	if (err) {
		set_na(v, MS_CG_ERROR, WHY_BAD);
		return;
	}
	if (limit) {
		if (cgroup__parse_limit(buf, v))
			set_na(v, MS_CG_ERROR, WHY_BAD);
		return;
	}
	if (parse_u64(buf, &end, &x) || (*end != '\n' && *end))
		set_na(v, MS_CG_ERROR, WHY_BAD);
	else
		set_ok(v, x);
}

/* key of an already read flat-keyed file; file_err is how reading it went. */
static void flat_value(const char *text, int file_err, const char *key,
		       const char *why_missing, struct ms_cg_value *v)
{
	uint64_t x;
	int err;

	if (file_err == -ENOENT) {
		set_na(v, MS_CG_MISSING, WHY_NO_FILE);
		return;
	}
	if (file_err) {
		set_na(v, MS_CG_ERROR, WHY_BAD);
		return;
	}
	err = cgroup__flat_key(text, key, &x);
	if (err == -ENOENT)
		set_na(v, MS_CG_MISSING, why_missing);
	else if (err)
		set_na(v, MS_CG_ERROR, WHY_BAD);
	else
		set_ok(v, x);
}

static void read_v1(struct ms_cgroup_mem *cg, char *buf, size_t len)
{
	int err;

	read_value(cg, "memory.limit_in_bytes", true, &cg->limit, buf, len);
	set_na(&cg->high, MS_CG_MISSING, WHY_V1_NO_HIGH);
	read_value(cg, "memory.usage_in_bytes", false, &cg->usage, buf, len);
	read_value(cg, "memory.max_usage_in_bytes", false, &cg->peak, buf, len);
	set_na(&cg->oom, MS_CG_MISSING, WHY_V1_NO_OOM);
	err = read_in_dir(cg, "memory.oom_control", buf, len);
	flat_value(buf, err, "oom_kill", WHY_NO_KEY, &cg->oom_kill);
	/* total_* are the subtree's, like v2's memory.stat. */
	err = read_in_dir(cg, "memory.stat", buf, len);
	flat_value(buf, err, "total_swap", WHY_NO_SWAP, &cg->swap);
	flat_value(buf, err, "total_rss", WHY_NO_KEY, &cg->anon);
	flat_value(buf, err, "total_cache", WHY_NO_KEY, &cg->file);
	read_value(cg, "memory.kmem.usage_in_bytes", false, &cg->kernel, buf, len);
}

static void read_v2(struct ms_cgroup_mem *cg, char *buf, size_t len)
{
	int err;

	read_value(cg, "memory.max", true, &cg->limit, buf, len);
	read_value(cg, "memory.high", true, &cg->high, buf, len);
	read_value(cg, "memory.current", false, &cg->usage, buf, len);
	read_value(cg, "memory.peak", false, &cg->peak, buf, len);
	read_value(cg, "memory.swap.current", false, &cg->swap, buf, len);
	if (cg->swap.state == MS_CG_MISSING)
		cg->swap.why = WHY_NO_SWAP;
	err = read_in_dir(cg, "memory.events", buf, len);
	flat_value(buf, err, "oom", WHY_NO_KEY, &cg->oom);
	flat_value(buf, err, "oom_kill", WHY_NO_KEY, &cg->oom_kill);
	err = read_in_dir(cg, "memory.stat", buf, len);
	flat_value(buf, err, "anon", WHY_NO_KEY, &cg->anon);
	flat_value(buf, err, "file", WHY_NO_KEY, &cg->file);
	flat_value(buf, err, "kernel", WHY_NO_KEY, &cg->kernel);
}

static void read_psi(struct ms_cgroup_mem *cg, char *buf, size_t len)
{
	int err = read_in_dir(cg, "memory.pressure", buf, len);
	struct ms_cg_value *all[] = { &cg->psi.some_avg10_centi, &cg->psi.full_avg10_centi,
				      &cg->psi.some_total_us, &cg->psi.full_total_us };
	bool missing = err == -ENOENT || err == -EOPNOTSUPP;
	size_t i;

	/* v1 has the file only with psi=1 cgroup1 support; reading can give EOPNOTSUPP. */
	if (!err && !cgroup__parse_psi(buf, &cg->psi))
		return;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		set_na(all[i], missing ? MS_CG_MISSING : MS_CG_ERROR,
		       missing ? WHY_NO_PSI : WHY_BAD);
}

/*
 * <proc_root>/<pid>/cgroup read into buf (CG_FILE_MAX) and parsed: its
 * memory cgroup, or with unified only its v2 line.
 */
static int path_of(const char *proc_root, pid_t pid, bool unified, char *buf, int *ret_version,
		   char *ret_path, size_t len)
{
	char path[PATH_MAX];
	int err;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	err = read_text(path, buf, CG_FILE_MAX);
	if (err == -ENOENT)
		err = -ESRCH;
	if (err)
		return err;
	if (unified) {
		*ret_version = 2;
		return cgroup__parse_unified(buf, ret_path, len);
	}
	return cgroup__parse_proc_cgroup(buf, ret_version, ret_path, len);
}

static int path_of_alloc(const char *proc_root, pid_t pid, bool unified, int *ret_version,
			 char *ret_path, size_t len)
{
	char *buf = malloc(CG_FILE_MAX);
	int err;

	if (!buf)
		return -ENOMEM;
	err = path_of(proc_root, pid, unified, buf, ret_version, ret_path, len);
	free(buf);
	return err;
}

int cgroup__path_of(const char *proc_root, pid_t pid, int *ret_version, char *ret_path,
		    size_t len)
{
	return path_of_alloc(proc_root, pid, false, ret_version, ret_path, len);
}

int cgroup__unified_of(const char *proc_root, pid_t pid, char *ret_path, size_t len)
{
	int version;

	return path_of_alloc(proc_root, pid, true, &version, ret_path, len);
}

int cgroup__read(const struct ms_cgroup_env *env, pid_t pid, struct ms_cgroup_mem *ret)
{
	char *buf;
	size_t cap = CG_FILE_MAX;
	int err;

	memset(ret, 0, sizeof(*ret));
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	err = path_of(env->proc_root, pid, false, buf, &ret->version, ret->path, sizeof(ret->path));
	if (!err)
		err = cgroup_read_mountinfo(env->mountinfo, &buf, &cap);
	if (!err) {
		char dir[MS_CG_PATH_MAX], nsroot[MS_CG_PATH_MAX];

		/* not found: paths above our namespace's root stay unreachable (-EXDEV) */
		if (cgroup__ns_root(buf, ret->version, env->fs_prefix, nsroot, sizeof(nsroot)))
			strcpy(nsroot, "/");
		err = cgroup__absolute(nsroot, ret->path, dir, sizeof(dir));
		if (!err)
			strcpy(ret->path, dir);
		if (!err)
			err = cgroup__resolve_dir(buf, ret->version, nsroot, ret->path, dir,
						  sizeof(dir));
		if (!err && snprintf(ret->dir, sizeof(ret->dir), "%s%s", env->fs_prefix,
				     dir) >= (int)sizeof(ret->dir))
			err = -ENAMETOOLONG;
	}
	if (!err) {
		if (ret->version == 1)
			read_v1(ret, buf, CG_FILE_MAX);
		else
			read_v2(ret, buf, CG_FILE_MAX);
		read_psi(ret, buf, CG_FILE_MAX);
	}
	free(buf);
	return err;
}

int cgroup__read_live(pid_t pid, struct ms_cgroup_mem **ret)
{
	static const struct ms_cgroup_env live = { "/proc", MS_CG_LIVE_MOUNTINFO, "" };
	struct ms_cgroup_mem *cg = malloc(sizeof(*cg));
	int err;

	*ret = NULL;
	if (!cg)
		return -ENOMEM;
	err = cgroup__read(&live, pid, cg);
	if (err) {
		free(cg);
		return err;
	}
	*ret = cg;
	return 0;
}

int cgroup__share_of_limit(const struct ms_cgroup_mem *cg, uint64_t bytes, uint32_t *ret_bp)
{
	uint64_t bp;

	if (cg->limit.state != MS_CG_OK || cg->limit.v == 0)
		return -ENODATA;
	bp = (uint64_t)((long double)bytes * 10000 / cg->limit.v);
	*ret_bp = bp > UINT32_MAX ? UINT32_MAX : (uint32_t)bp;
	return 0;
}

const char *ms_cg_value__why(const struct ms_cg_value *v)
{
	if (v->state == MS_CG_OK)
		return "ok";
	return v->why ? v->why : WHY_UNREAD;
}
