// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * run_maps.c - what a process `memsight run` stopped maps, read once a stop
 * (run_maps.h).
 */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "bpf/session.h"
#include "cli/run_maps.h"
#include "target/elf.h"
#include "target/goruntime.h"
#include "target/procfs.h"

/*
 * pid's maps at a stop, read once for every check of that stop; none when
 * they cannot be read (procfs__read_maps leaves them empty): each check then
 * finds nothing.
 */
static void stop_maps(pid_t pid, struct ms_maps *ret)
{
	procfs__read_maps("/proc", pid, ret);
}

/* Is the file of this inode one t's probes are on? */
static bool probed_file(const struct ms_target *t, uint64_t inode)
{
	for (size_t i = 0; i < t->nmodules; i++)
		if (t->modules[i].inode == inode)
			return true;
	return false;
}

/* A probed allocator the process maps (m): its allocations were seen. */
static bool allocator_mapped(const struct ms_maps *m, const struct ms_target *t)
{
	for (size_t i = 0; i < m->n; i++)
		if (probed_file(t, m->v[i].inode))
			return true;
	return false;
}

/* Does the file mapped at path in pid define malloc? */
static bool defines_malloc(pid_t pid, const char *path)
{
	char buf[PATH_MAX + 32];
	uint64_t vaddr, size;
	struct ms_elf *elf;
	bool yes;

	snprintf(buf, sizeof(buf), "/proc/%d/root%s", pid, path);
	elf = ms_elf__open(buf);
	if (!elf)
		return false;
	yes = ms_elf__find_func(elf, "malloc", &vaddr, &size) == 0;
	ms_elf__close(elf);
	return yes;
}

/*
 * Does pid map a file defining malloc that t's probes are not on? Right
 * after an exec, pid has mapped only its program and the program's
 * interpreter: a static program, an interpreter that is the C library (as
 * musl's), a program with its own malloc. glibc's ld.so has none: its
 * programs map libc.so.6 later, and other libraries (jemalloc) with it, by
 * the entry point.
 */
static bool maps_new_allocator(pid_t pid, const struct ms_maps *m, const struct ms_target *t)
{
	uint64_t seen[64];
	size_t nseen = 0;
	bool found = false;

	for (size_t i = 0; i < m->n && !found; i++) {
		bool again = false;

		if (!m->v[i].path || m->v[i].path[0] != '/')
			continue;
		for (size_t j = 0; j < nseen; j++)
			again |= seen[j] == m->v[i].inode;
		again |= probed_file(t, m->v[i].inode);
		if (again || nseen == sizeof(seen) / sizeof(seen[0]))
			continue;
		seen[nseen++] = m->v[i].inode;
		found = defines_malloc(pid, m->v[i].path);
	}
	return found;
}

/* Is the program pid exec'd a Go program (by its .gopclntab)? */
static bool exec_is_go(pid_t pid)
{
	char path[64];
	struct go_binary *b;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	b = go_binary__open(path);
	go_binary__close(b);
	return b != NULL;
}

/* Has the program pid exec'd mapped (m) an interpreter besides itself (it is dynamic)? */
static bool exec_is_dynamic(pid_t pid, const struct ms_maps *m)
{
	char path[64];
	struct stat st;
	bool other = false;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st))
		return false;
	for (size_t i = 0; i < m->n && !other; i++)
		other = m->v[i].path && m->v[i].path[0] == '/' && m->v[i].inode != st.st_ino;
	return other;
}

bool run_maps__probe_at_exec(pid_t pid, const struct ms_target *t, bool *ret_go)
{
	struct ms_maps m;
	bool now;

	stop_maps(pid, &m);
	*ret_go = false;
	now = maps_new_allocator(pid, &m, t);
	if (!now) {
		*ret_go = exec_is_go(pid);
		now = *ret_go && !exec_is_dynamic(pid, &m);
	}
	ms_maps__free(&m);
	return now;
}

bool run_maps__new_allocator(pid_t pid, const struct ms_target *t)
{
	struct ms_maps m;
	bool found;

	stop_maps(pid, &m);
	found = maps_new_allocator(pid, &m, t);
	ms_maps__free(&m);
	return found;
}

bool run_maps__allocator_mapped(const struct ms_target *t)
{
	struct ms_maps m;
	bool found;

	stop_maps(t->pid, &m);
	found = allocator_mapped(&m, t);
	ms_maps__free(&m);
	return found;
}
