// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * smaps.c - /proc/PID/smaps parser and RSS classification.
 *
 * The file is a maps line per mapping followed by "Key:   N kB" lines and
 * a closing "VmFlags:" line (printed last by show_smap() since 3.8). The
 * closing line is what tells a complete record from a cut one, so it is
 * required. Input is hostile: numbers are range-checked, records must be
 * self-consistent (Rss <= Size == end - start, Pss and Anonymous <= Rss)
 * and anything else gives -EINVAL, never a partial answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/procfs.h"
#include "target/smaps.h"

/* vm.max_map_count is 65530 by default; a million is far beyond any real process. */
#define SMAPS_MAX_ENTRIES	1000000
/* Header lines are < 16 KiB even with a PATH_MAX path fully \012-escaped. */
#define SMAPS_MAX_LINE		(1024 * 1024)


static int smaps_open(const char *root, pid_t pid, FILE **ret)
{
	int fd = procfs__open_file(root, pid, "smaps"), err;

	if (fd < 0)
		return fd;
	*ret = fdopen(fd, "r");
	if (!*ret) {
		err = -errno;
		close(fd);
		return err;
	}
	return 0;
}

/* The record's header is a maps line: one parser for both. */
static int parse_header(const char *line, struct ms_smap *m)
{
	struct ms_map mm;
	int err;

	memset(m, 0, sizeof(*m));
	err = procfs__parse_maps_line(line, &mm);
	if (err)
		return err;
	m->start = mm.start;
	m->end = mm.end;
	memcpy(m->perms, mm.perms, sizeof(m->perms));
	m->deleted = mm.deleted;
	m->path = mm.path;	/* ownership moves */
	return 0;
}

enum smaps_key {
	K_SIZE, K_RSS, K_PSS, K_SH_CLEAN, K_SH_DIRTY, K_PR_CLEAN, K_PR_DIRTY, K_ANON, K_SWAP,
	K_VMFLAGS, K__MAX,
};

static const char *const smaps_keys[K__MAX] = {
	[K_SIZE] = "Size", [K_RSS] = "Rss", [K_PSS] = "Pss",
	[K_SH_CLEAN] = "Shared_Clean", [K_SH_DIRTY] = "Shared_Dirty",
	[K_PR_CLEAN] = "Private_Clean", [K_PR_DIRTY] = "Private_Dirty",
	[K_ANON] = "Anonymous", [K_SWAP] = "Swap", [K_VMFLAGS] = "VmFlags",
};

static uint64_t *key_slot(struct ms_smap *m, int k)
{
	switch (k) {
	case K_SIZE: return &m->size;
	case K_RSS: return &m->rss;
	case K_PSS: return &m->pss;
	case K_SH_CLEAN: return &m->shared_clean;
	case K_SH_DIRTY: return &m->shared_dirty;
	case K_PR_CLEAN: return &m->private_clean;
	case K_PR_DIRTY: return &m->private_dirty;
	case K_ANON: return &m->anonymous;
	case K_SWAP: return &m->swap;
	}
	return NULL;
}

/*
 * Length of the "Key" in "Key:" when line is a field line, else 0. A
 * header starts with hex digits and a '-', which no key contains.
 */
static size_t field_key_len(const char *line)
{
	size_t n = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");

	return n && line[n] == ':' ? n : 0;
}

/* "   N kB" with nothing after it; bytes, -EINVAL on overflow. */
static int parse_kb(const char *val, uint64_t *ret)
{
	const char *p = val;
	uint64_t v;

	while (*p == ' ')
		p++;
	if (procfs__parse_dec(&p, &v) || strcmp(p, " kB") || v > UINT64_MAX / 1024)
		return -EINVAL;
	*ret = v * 1024;
	return 0;
}

/* A record is complete and its numbers agree with each other. */
static int check_record(const struct ms_smap *m, unsigned int seen)
{
	const unsigned int need = (1u << K_SIZE) | (1u << K_RSS) | (1u << K_VMFLAGS);

	if ((seen & need) != need)
		return -EINVAL;
	if (m->size != m->end - m->start || m->rss > m->size || m->pss > m->rss ||
	    m->anonymous > m->rss)
		return -EINVAL;
	return 0;
}

void ms_smaps__free(struct ms_smaps *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int smaps__read(const char *proc_root, pid_t pid, struct ms_smaps *ret)
{
	struct ms_smaps s = { 0 };
	struct ms_smap *cur = NULL, *tmp;
	size_t cap = 0, linecap = 0, klen;
	unsigned int seen = 0;
	char *line = NULL;
	FILE *f = NULL;
	ssize_t len;
	int err, k;

	if (!ret)
		return -EINVAL;
	ret->v = NULL;
	ret->n = 0;
	err = smaps_open(proc_root, pid, &f);
	if (err)
		return err;

	errno = 0;
	while ((len = getline(&line, &linecap, f)) >= 0) {
		/* The kernel ends every line; a last line without one was cut. */
		if (!len || line[len - 1] != '\n' || (size_t)len != strlen(line)) {
			err = -EINVAL;
			goto out;
		}
		line[--len] = '\0';
		if (len > SMAPS_MAX_LINE) {
			err = -E2BIG;
			goto out;
		}
		klen = field_key_len(line);
		if (!klen) {
			if (cur && (err = check_record(cur, seen)))
				goto out;
			if (s.n >= SMAPS_MAX_ENTRIES) {
				err = -E2BIG;
				goto out;
			}
			if (s.n == cap) {
				cap = cap ? cap * 2 : 64;
				if (cap > SMAPS_MAX_ENTRIES)
					cap = SMAPS_MAX_ENTRIES;
				tmp = reallocarray(s.v, cap, sizeof(*s.v));
				if (!tmp) {
					err = -ENOMEM;
					goto out;
				}
				s.v = tmp;
			}
			cur = &s.v[s.n];
			err = parse_header(line, cur);
			if (err)
				goto out;
			s.n++;
			seen = 0;
			errno = 0;
			continue;
		}
		/* A field before any header, or after the record's closing line. */
		if (!cur || (seen & (1u << K_VMFLAGS))) {
			err = -EINVAL;
			goto out;
		}
		line[klen] = '\0';
		for (k = 0; k < K__MAX; k++)
			if (!strcmp(line, smaps_keys[k]))
				break;
		/* Fields added by newer kernels are skipped, not refused. */
		if (k == K__MAX) {
			errno = 0;
			continue;
		}
		if (seen & (1u << k)) {
			err = -EINVAL;
			goto out;
		}
		seen |= 1u << k;
		if (k != K_VMFLAGS && (err = parse_kb(line + klen + 1, key_slot(cur, k))))
			goto out;
		errno = 0;
	}
	/* getline() returns -1 for both EOF and errors; only ferror() tells them apart. */
	if (ferror(f)) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	if (cur && (err = check_record(cur, seen)))
		goto out;
	*ret = s;
	s.v = NULL;
	s.n = 0;
out:
	ms_smaps__free(&s);
	free(line);
	fclose(f);
	return err;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

enum bucket { B_HEAP, B_STACK, B_ANON, B_FILE, B_SHMEM, B_OTHER };

static enum bucket classify(const struct ms_smap *m)
{
	bool shared = m->perms[3] == 's';
	const char *p = m->path;

	if (!p)
		return shared ? B_SHMEM : B_ANON;
	if (p[0] == '[') {
		if (!strcmp(p, "[heap]"))
			return B_HEAP;
		if (!strcmp(p, "[stack]") || has_prefix(p, "[stack:"))
			return B_STACK;
		if (has_prefix(p, "[anon_shmem:"))
			return B_SHMEM;
		if (has_prefix(p, "[anon:"))
			return shared ? B_SHMEM : B_ANON;
		return B_OTHER;
	}
	/* MAP_SHARED|MAP_ANONYMOUS is a shmem file the kernel names /dev/zero. */
	if (shared && m->deleted && !strcmp(p, "/dev/zero"))
		return B_SHMEM;
	if (has_prefix(p, "/dev/shm/") || has_prefix(p, "/memfd:") || has_prefix(p, "/SYSV"))
		return B_SHMEM;
	return B_FILE;
}

/* Sums of hand-made (overlapping) tables could wrap; kernel ones cannot. */
static int add(uint64_t *acc, uint64_t v)
{
	return __builtin_add_overflow(*acc, v, acc) ? -EOVERFLOW : 0;
}

int smaps__summary(const struct ms_smaps *s, struct ms_smaps_summary *ret)
{
	struct ms_smaps_summary sum = { 0 };
	const struct ms_smap *m;
	uint64_t *slot;
	int err;

	if (!s || !ret || (s->n && !s->v))
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++) {
		m = &s->v[i];
		/* smaps__read() guarantees this; a hand-built table may not. */
		if (m->anonymous > m->rss)
			return -EINVAL;
		switch (classify(m)) {
		case B_HEAP: slot = &sum.heap; break;
		case B_STACK: slot = &sum.stack; break;
		case B_ANON: slot = &sum.anon; break;
		case B_OTHER: slot = &sum.other; break;
		case B_FILE: slot = &sum.file; break;
		case B_SHMEM: slot = &sum.shmem; break;
		default: return -EINVAL;
		}
		/* COW copies in a private file or shmem mapping are anonymous memory. */
		if (slot == &sum.file || slot == &sum.shmem)
			err = add(slot, m->rss - m->anonymous) ?: add(&sum.anon, m->anonymous);
		else
			err = add(slot, m->rss);
		err = err ?: add(&sum.rss, m->rss) ?: add(&sum.pss, m->pss) ?:
		      add(&sum.swap, m->swap);
		if (err)
			return err;
	}
	sum.mappings = s->n;
	*ret = sum;
	return 0;
}

int smaps__read_summary(const char *proc_root, pid_t pid, struct ms_smaps_summary *ret)
{
	struct ms_smaps sm = {};
	int err = smaps__read(proc_root, pid, &sm);

	if (err)
		return err;
	err = smaps__summary(&sm, ret);
	ms_smaps__free(&sm);
	return err;
}
