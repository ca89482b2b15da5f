// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * incidents.c - bounded directory of JSON incident records.
 *
 * Everything goes through one O_DIRECTORY fd and *at() calls on names
 * this module built or validated, so no id from a client can name a file
 * outside the directory. The directory is the only state: a scan of it
 * is the truth for listing and for the limits, which keeps the store
 * right across restarts and manual deletions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "daemon/incidents.h"

/* Far above the config's max_count limit; bounds memory of one scan. */
#define SCAN_MAX_ENTRIES	1000000
#define SEQ_MAX			99
#define TMP_PREFIX		".tmp-"
#define JSON_SUFFIX		".json"
/* Bytes read from the end of a record to see that it was not cut. */
#define TAIL_LEN		64

struct incidents {
	int dfd;
	uint32_t max_count;
	uint64_t max_bytes;
	uint64_t evicted_count;
	uint64_t evicted_bytes;
};

struct entry {
	int64_t when;
	pid_t pid;
	unsigned int seq;
	uint64_t size;
	char name[INCIDENT_ID_LEN + sizeof(JSON_SUFFIX)];
};

/* Decimal without sign or leading zeros (so one number has one spelling). */
static int parse_num(const char **pp, uint64_t max, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;
	unsigned int d;

	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		d = *p - '0';
		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (p == *pp)
		return -EINVAL;
	*pp = p;
	*ret = v;
	return 0;
}

/* "<when>-<pid>[-<seq>]" followed by exactly end ("" or ".json"). */
static int parse_id(const char *s, const char *end, int64_t *when, pid_t *pid, unsigned int *seq)
{
	const char *p = s;
	uint64_t w, pd, sq = 0;

	if (parse_num(&p, INT64_MAX, &w) || *p++ != '-' || parse_num(&p, INT_MAX, &pd) || !pd)
		return -EINVAL;
	if (*p == '-') {
		p++;
		if (parse_num(&p, SEQ_MAX, &sq) || !sq)
			return -EINVAL;
	}
	if (strcmp(p, end))
		return -EINVAL;
	*when = w;
	*pid = pd;
	*seq = sq;
	return 0;
}

static int format_id(char *buf, size_t len, int64_t when, pid_t pid, unsigned int seq)
{
	int n = seq ? snprintf(buf, len, "%" PRId64 "-%d-%u", when, (int)pid, seq)
		    : snprintf(buf, len, "%" PRId64 "-%d", when, (int)pid);

	return n < 0 || (size_t)n >= len ? -ERANGE : 0;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* Record files in the directory, oldest first; other names are skipped. */
static int scan(struct incidents *s, struct entry **ret, size_t *ret_n)
{
	struct entry *v = NULL, *tmp;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, err = 0;

	fd = openat(s->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	for (;;) {
		struct entry e = { 0 };

		errno = 0;
		de = readdir(d);
		if (!de) {
			err = -errno;
			break;
		}
		if (strlen(de->d_name) >= sizeof(e.name) ||
		    parse_id(de->d_name, JSON_SUFFIX, &e.when, &e.pid, &e.seq))
			continue;
		if (fstatat(s->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			/* Deleted under us: not there any more, not an error. */
			if (errno == ENOENT)
				continue;
			err = -errno;
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		strcpy(e.name, de->d_name);
		e.size = st.st_size;
		if (n == cap) {
			if (cap >= SCAN_MAX_ENTRIES) {
				err = -E2BIG;
				break;
			}
			cap = cap ? cap * 2 : 64;
			tmp = reallocarray(v, cap, sizeof(*v));
			if (!tmp) {
				err = -ENOMEM;
				break;
			}
			v = tmp;
		}
		v[n++] = e;
	}
	closedir(d);
	if (err) {
		free(v);
		return err;
	}
	if (n)
		qsort(v, n, sizeof(*v), entry_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

/*
 * Delete oldest records until both limits hold, sparing keep (the record
 * just saved, which alone always fits).
 */
static int enforce(struct incidents *s, const char *keep)
{
	uint64_t bytes = 0, count;
	struct entry *v;
	size_t n, i;
	int err;

	err = scan(s, &v, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		bytes += v[i].size;
	count = n;
	for (i = 0; i < n && (count > s->max_count || bytes > s->max_bytes); i++) {
		if (keep && !strcmp(v[i].name, keep))
			continue;
		if (unlinkat(s->dfd, v[i].name, 0) && errno != ENOENT) {
			err = -errno;
			break;
		}
		count--;
		bytes -= v[i].size;
		s->evicted_count++;
		s->evicted_bytes += v[i].size;
	}
	free(v);
	if (!err && fsync(s->dfd))
		err = -errno;
	return err;
}

/* Leftovers of a save interrupted by a crash. */
static void remove_tmp_files(struct incidents *s)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(s->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
			unlinkat(s->dfd, de->d_name, 0);
	closedir(d);
}

static int mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (!len || len >= sizeof(path))
		return len ? -ENAMETOOLONG : -EINVAL;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			return 0;
	}
}

static bool is_symlink(const char *path)
{
	struct stat st;

	return !lstat(path, &st) && S_ISLNK(st.st_mode);
}

/*
 * Records are trusted as ours: nobody else may add, replace or remove them,
 * so the directory is ours (or root's) and writable by nobody else.
 */
static int check_owner(int dfd)
{
	struct stat st;

	if (fstat(dfd, &st))
		return -errno;
	if ((st.st_uid && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

const char *incidents__strerror(int err)
{
	switch (err) {
	case -ELOOP:
		return "is a symbolic link (not followed)";
	case -EPERM:
		return "is writable by group or others, or owned by another user";
	default:
		return strerror(-err);
	}
}

int incidents__open(const char *dir, uint32_t max_count, uint64_t max_bytes,
		    struct incidents **ret)
{
	struct incidents *s;
	int err;

	if (!dir || !ret || !max_count || !max_bytes)
		return -EINVAL;
	*ret = NULL;
	err = mkdir_p(dir);
	if (err)
		return err;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->max_count = max_count;
	s->max_bytes = max_bytes;
	/* the directory itself, not what a link there points to */
	s->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (s->dfd < 0) {
		err = errno == ENOTDIR && is_symlink(dir) ? -ELOOP : -errno;
		free(s);
		return err;
	}
	err = check_owner(s->dfd);
	if (err) {
		incidents__close(s);
		return err;
	}
	remove_tmp_files(s);
	err = enforce(s, NULL);
	if (err) {
		incidents__close(s);
		return err;
	}
	*ret = s;
	return 0;
}

void incidents__close(struct incidents *s)
{
	if (!s)
		return;
	close(s->dfd);
	free(s);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* First and last non-blank bytes are '{' and '}': an object, not cut. */
static bool looks_like_object(const char *head, size_t hlen, const char *tail, size_t tlen)
{
	size_t i = 0;

	while (i < hlen && is_ws(head[i]))
		i++;
	if (i == hlen || head[i] != '{')
		return false;
	while (tlen && is_ws(tail[tlen - 1]))
		tlen--;
	return tlen && tail[tlen - 1] == '}';
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* tmp -> name without replacing an existing record; -EEXIST if taken. */
static int publish(int dfd, const char *tmp, const char *name)
{
	if (!renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* File systems without RENAME_NOREPLACE: link() refuses to replace too. */
	if (linkat(dfd, tmp, dfd, name, 0))
		return -errno;
	unlinkat(dfd, tmp, 0);
	return 0;
}

/*
 * A new file of ours: never through a link, never one that was there. A
 * temporary name left by an earlier save of this process that failed
 * half-way is removed once.
 */
static int open_new(int dfd, const char *name)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
	int fd = openat(dfd, name, flags, 0600);

	if (fd < 0 && errno == EEXIST && !unlinkat(dfd, name, 0))
		fd = openat(dfd, name, flags, 0600);
	return fd < 0 ? -errno : fd;
}

int incidents__save(struct incidents *s, const char *json, size_t len, time_t when, pid_t pid,
		    char *ret_id, size_t idlen)
{
	char id[INCIDENT_ID_LEN], tmp[INCIDENT_ID_LEN + 32], name[INCIDENT_ID_LEN + 8];
	unsigned int seq;
	int fd, err;

	if (!s || !json || !len || when < 0 || pid <= 0)
		return -EINVAL;
	if (len > INCIDENTS_MAX_FILE || len > s->max_bytes)
		return -EFBIG;
	if (!looks_like_object(json, len, json, len))
		return -EINVAL;
	/* The longest id this call could produce must fit before anything is written. */
	if (ret_id && format_id(id, idlen < sizeof(id) ? idlen : sizeof(id), when, pid, SEQ_MAX))
		return -ERANGE;

	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%" PRId64 "-%d.%d", (int64_t)when, (int)pid,
		 (int)getpid());
	fd = open_new(s->dfd, tmp);
	if (fd < 0)
		return fd;
	err = write_all(fd, json, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (err)
		goto fail;

	for (seq = 0; seq <= SEQ_MAX; seq++) {
		format_id(id, sizeof(id), when, pid, seq);
		snprintf(name, sizeof(name), "%s" JSON_SUFFIX, id);
		err = publish(s->dfd, tmp, name);
		if (err != -EEXIST)
			break;
	}
	if (err)
		goto fail;
	/* The rename is durable only once the directory is on disk. */
	if (fsync(s->dfd))
		return -errno;
	if (ret_id)
		strcpy(ret_id, id);
	return enforce(s, name);
fail:
	unlinkat(s->dfd, tmp, 0);
	return err;
}

/* Read up to len bytes at off; short only at end of file. */
static ssize_t pread_full(int fd, char *buf, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, buf + got, len - got, off + got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			break;
		got += n;
	}
	return got;
}

/* End of the JSON string starting after the quote at s[i-1], or -1 if cut. */
static ssize_t string_end(const char *s, size_t len, size_t i)
{
	for (; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i;
	}
	return -1;
}

/* JSON string body s[0..len) into dst; non-ASCII \u escapes become '?'. */
static void unescape(const char *s, size_t len, char *dst, size_t dlen)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < dlen; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < len) {
			c = s[++i];
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				unsigned int v = 0, k;

				for (k = 0; k < 4 && i + 1 < len; k++) {
					char h = s[++i];

					v = v * 16 + (h >= '0' && h <= '9' ? h - '0' :
						      h >= 'a' && h <= 'f' ? h - 'a' + 10 :
						      h >= 'A' && h <= 'F' ? h - 'A' + 10 : 0);
				}
				c = v && v < 0x80 ? (char)v : '?';
				break;
			}
			}
		}
		dst[o++] = c;
	}
	dst[o] = '\0';
}

/*
 * Value of the top-level "comm" string key within head, if the head holds
 * all of it. Only strings, nesting and key position matter here: the
 * record was produced by our own JSON writer.
 */
static void find_comm(const char *head, size_t len, char *comm, size_t clen)
{
	int depth = 0;
	ssize_t e, ve;
	size_t i, j;

	comm[0] = '\0';
	for (i = 0; i < len; i++) {
		char c = head[i];

		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == '"') {
			e = string_end(head, len, i + 1);
			if (e < 0)
				return;
			j = e + 1;
			while (j < len && is_ws(head[j]))
				j++;
			if (depth == 1 && j < len && head[j] == ':' && e - (ssize_t)i - 1 == 4 &&
			    !memcmp(head + i + 1, "comm", 4)) {
				j++;
				while (j < len && is_ws(head[j]))
					j++;
				if (j >= len || head[j] != '"')
					return;
				ve = string_end(head, len, j + 1);
				if (ve >= 0)
					unescape(head + j + 1, ve - j - 1, comm, clen);
				return;
			}
			i = e;
		}
	}
}

/* Size, validity and comm of one record; -ENOENT if it went away or is not a record. */
static int inspect(struct incidents *s, const struct entry *e, struct incident_info *info)
{
	char head[INCIDENTS_HEAD], tail[TAIL_LEN];
	ssize_t hn, tn;
	struct stat st;
	size_t toff;
	int fd, err = -ENOENT;

	fd = openat(s->dfd, e->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? -ENOENT : -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size ||
	    (uint64_t)st.st_size > INCIDENTS_MAX_FILE)
		goto out;
	hn = pread_full(fd, head, sizeof(head), 0);
	toff = st.st_size > TAIL_LEN ? st.st_size - TAIL_LEN : 0;
	tn = pread_full(fd, tail, sizeof(tail), toff);
	if (hn < 0 || tn < 0) {
		err = hn < 0 ? hn : tn;
		goto out;
	}
	if (!looks_like_object(head, hn, tail, tn))
		goto out;
	memset(info, 0, sizeof(*info));
	snprintf(info->id, sizeof(info->id), "%.*s",
		 (int)(strlen(e->name) - strlen(JSON_SUFFIX)), e->name);
	info->when = e->when;
	info->pid = e->pid;
	info->size = st.st_size;
	find_comm(head, hn, info->comm, sizeof(info->comm));
	err = 0;
out:
	close(fd);
	return err;
}

int incidents__list(struct incidents *s, struct incident_info **ret, size_t *ret_n)
{
	struct incident_info *out = NULL;
	struct entry *v;
	size_t n, i, k = 0;
	int err;

	if (!s || !ret || !ret_n)
		return -EINVAL;
	err = scan(s, &v, &n);
	if (err)
		return err;
	if (n) {
		out = calloc(n, sizeof(*out));
		if (!out) {
			free(v);
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++) {
		err = inspect(s, &v[i], &out[k]);
		if (!err)
			k++;
		else if (err != -ENOENT)
			break;
		err = 0;
	}
	free(v);
	if (err || !k) {
		free(out);
		out = NULL;
	}
	if (err)
		return err;
	*ret = out;
	*ret_n = k;
	return 0;
}

int incidents__read(struct incidents *s, const char *id, char **ret_buf, size_t *ret_len)
{
	char name[INCIDENT_ID_LEN + sizeof(JSON_SUFFIX)];
	unsigned int seq;
	struct stat st;
	int64_t when;
	ssize_t n;
	pid_t pid;
	char *buf;
	int fd, err;

	if (!s || !id || !ret_buf || !ret_len)
		return -EINVAL;
	/* Only digits and '-' in our exact format get near openat(). */
	if (strnlen(id, INCIDENT_ID_LEN) >= INCIDENT_ID_LEN || parse_id(id, "", &when, &pid, &seq))
		return -EINVAL;
	snprintf(name, sizeof(name), "%s" JSON_SUFFIX, id);
	fd = openat(s->dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -ENOENT : -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -ENOENT;
		goto out;
	}
	if ((uint64_t)st.st_size > INCIDENTS_MAX_FILE) {
		err = -EFBIG;
		goto out;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	n = pread_full(fd, buf, st.st_size, 0);
	if (n < 0) {
		err = n;
		free(buf);
		goto out;
	}
	/* A file that shrank under us is returned as read; one that grew is cut at st_size. */
	buf[n] = '\0';
	*ret_buf = buf;
	*ret_len = n;
	err = 0;
out:
	close(fd);
	return err;
}

int incidents__stats(struct incidents *s, struct incidents_stats *ret)
{
	struct entry *v;
	size_t n;
	int err;

	if (!s || !ret)
		return -EINVAL;
	err = scan(s, &v, &n);
	if (err)
		return err;
	memset(ret, 0, sizeof(*ret));
	ret->count = n;
	for (size_t i = 0; i < n; i++)
		ret->bytes += v[i].size;
	ret->evicted_count = s->evicted_count;
	ret->evicted_bytes = s->evicted_bytes;
	free(v);
	return 0;
}

void incidents__json_list(const struct incident_info *v, size_t n, struct json_writer *w)
{
	jw__start_array(w);
	for (size_t i = 0; i < n; i++) {
		jw__start_object(w);
		jw__kv_string(w, "id", v[i].id);
		jw__kv_int(w, "time", v[i].when);
		jw__kv_int(w, "pid", v[i].pid);
		jw__kv_uint(w, "bytes", v[i].size);
		jw__end_object(w);
	}
	jw__end_array(w);
}
