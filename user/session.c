// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memsight.skel.h"
#include "session.h"
#include "symbolize.h"

struct ms_session {
	struct memsight_bpf *skel;
	struct ms_target *targets;
	bool multi;		/* uprobe_multi links (kernel >= 6.6) */
};

/* Functions probed in an allocator module, in priority order: when two
 * names share an address (glibc: aligned_alloc == memalign) the first wins,
 * so one call is never counted twice. The cookie tells ms_entry which it is. */
struct probe_fn {
	const char *name;
	uint64_t cookie;	/* enum ms_alloc_kind, or enum ms_probe */
	bool ret;		/* needs the return value */
};

static const struct probe_fn probe_fns[] = {
	{ "malloc", MS_KIND_MALLOC, true },
	{ "calloc", MS_KIND_CALLOC, true },
	{ "realloc", MS_KIND_REALLOC, true },
	{ "reallocarray", MS_KIND_REALLOCARRAY, true },
	{ "posix_memalign", MS_KIND_POSIX_MEMALIGN, true },
	{ "memalign", MS_KIND_MEMALIGN, true },
	{ "aligned_alloc", MS_KIND_ALIGNED_ALLOC, true },
	{ "valloc", MS_KIND_VALLOC, true },
	{ "pvalloc", MS_KIND_PVALLOC, true },
	{ "mmap", MS_KIND_MMAP, true },
	{ "free", MS_PROBE_FREE, false },
	{ "munmap", MS_PROBE_MUNMAP, false },
};

#define NPROBE_FNS (sizeof(probe_fns) / sizeof(probe_fns[0]))

__attribute__((format(printf, 3, 4)))
static void seterr(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!buf || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

#define MS_TRACE_UPROBE_MULTI	48	/* enum bpf_attach_type, kernel >= 6.6 */
#define MS_F_UPROBE_MULTI_RETURN	1

/* BPF_LINK_CREATE for uprobe_multi; libbpf 1.1 and the 6.1 UAPI headers predate it. */
struct ms_uprobe_multi_attr {
	__u32 prog_fd;
	__u32 target_fd;
	__u32 attach_type;
	__u32 flags;
	__u64 path;
	__u64 offsets;
	__u64 ref_ctr_offsets;
	__u64 cookies;
	__u32 cnt;
	__u32 multi_flags;
	__u32 pid;
	__u32 __pad;
};

static int uprobe_multi_link(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, uint32_t cnt, bool retprobe, pid_t pid)
{
	struct ms_uprobe_multi_attr attr = {
		.prog_fd = prog_fd,
		.attach_type = MS_TRACE_UPROBE_MULTI,
		.path = (uintptr_t)path,
		.offsets = (uintptr_t)offsets,
		.cookies = (uintptr_t)cookies,
		.cnt = cnt,
		.multi_flags = retprobe ? MS_F_UPROBE_MULTI_RETURN : 0,
		.pid = pid,
	};
	int fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));

	return fd < 0 ? -errno : fd;
}

/*
 * Does the kernel have uprobe_multi links? Load a trivial program of that
 * attach type and ask for a link on "/": a kernel that knows the link type
 * rejects the path with EBADF before touching anything (libbpf's own probe).
 */
static bool probe_uprobe_multi(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = MS_TRACE_UPROBE_MULTI);
	uint64_t off = 0;
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &po);
	if (prog < 0)
		return false;
	link = uprobe_multi_link(prog, "/", &off, NULL, 1, false, 0);
	if (link >= 0)
		close(link);
	close(prog);
	return link == -EBADF;
}

int ms_session__open(const struct ms_session_opts *opts, struct ms_session **ret,
		     char *errbuf, size_t errlen)
{
	struct ms_session_opts o = opts ? *opts : (struct ms_session_opts){};
	struct ms_session *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->skel = memsight_bpf__open();
	if (!s->skel) {
		err = -errno;
		seterr(errbuf, errlen, "cannot open BPF object: %s", strerror(-err));
		goto fail;
	}
	bpf_map__set_max_entries(s->skel->maps.live, o.live_entries ?: MS_DEF_LIVE_ENTRIES);
	bpf_map__set_max_entries(s->skel->maps.stacks, o.stack_entries ?: MS_DEF_STACK_ENTRIES);
	bpf_map__set_max_entries(s->skel->maps.aggs, o.agg_entries ?: MS_DEF_AGG_ENTRIES);
	bpf_map__set_max_entries(s->skel->maps.pids, o.max_pids ?: MS_DEF_PIDS);
	s->multi = !o.no_multi && probe_uprobe_multi();
	if (s->multi) {
		bpf_program__set_expected_attach_type(s->skel->progs.ms_entry, MS_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(s->skel->progs.ms_alloc_ret,
						      MS_TRACE_UPROBE_MULTI);
	}
	err = memsight_bpf__load(s->skel);
	if (err) {
		if (err == -EPERM || err == -EACCES)
			seterr(errbuf, errlen,
			       "cannot load BPF programs: %s (memsight needs root, or CAP_BPF + "
			       "CAP_PERFMON + CAP_SYS_PTRACE)", strerror(-err));
		else
			seterr(errbuf, errlen, "cannot load BPF programs: %s (run with -v for "
			       "the verifier log)", strerror(-err));
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	memsight_bpf__destroy(s->skel);
	free(s);
	return err;
}

static void target_free(struct ms_target *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	for (size_t i = 0; i < t->nlink_fds; i++)
		close(t->link_fds[i]);
	free(t->link_fds);
	for (size_t i = 0; i < t->nmodules; i++) {
		free(t->modules[i].path);
		free(t->modules[i].open_path);
	}
	free(t->modules);
	ms_maps__free(&t->maps);
	free(t->exe);
	free(t);
}

/*
 * Delete every key of this tgid from a map keyed by a struct starting with
 * the tgid. Keys are gathered in one walk and deleted afterwards: deleting
 * while walking can restart the walk from the first bucket (O(n * buckets)).
 */
static void purge_tgid(int fd, size_t key_size, uint32_t tgid)
{
	uint8_t key[64], next[64], *keys = NULL;
	size_t n = 0, cap = 0;
	bool have = false;

	if (key_size > sizeof(key))
		return;
	while (bpf_map_get_next_key(fd, have ? key : NULL, next) == 0) {
		uint32_t k_tgid;

		memcpy(key, next, key_size);
		have = true;
		memcpy(&k_tgid, next, sizeof(k_tgid));
		if (k_tgid != tgid)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 1024;
			uint8_t *v = realloc(keys, ncap * key_size);

			if (!v)
				break;	/* what we cannot delete ages out with the session */
			keys = v;
			cap = ncap;
		}
		memcpy(keys + n * key_size, next, key_size);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * key_size);
	free(keys);
}

void ms_session__detach(struct ms_session *s, struct ms_target *t)
{
	struct ms_target **pp;
	uint32_t tgid;

	if (!s || !t)
		return;
	for (pp = &s->targets; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	tgid = t->pid;
	/* first stop new events, then forget the process's data */
	for (size_t i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	t->nlinks = 0;
	for (size_t i = 0; i < t->nlink_fds; i++)
		close(t->link_fds[i]);
	t->nlink_fds = 0;
	bpf_map_delete_elem(bpf_map__fd(s->skel->maps.pids), &tgid);
	purge_tgid(bpf_map__fd(s->skel->maps.live), sizeof(struct ms_live_key), tgid);
	purge_tgid(bpf_map__fd(s->skel->maps.aggs), sizeof(struct ms_agg_key), tgid);
	target_free(t);
}

void ms_session__close(struct ms_session *s)
{
	if (!s)
		return;
	while (s->targets)
		ms_session__detach(s, s->targets);
	memsight_bpf__destroy(s->skel);
	free(s);
}

bool ms_target__alive(const struct ms_target *t)
{
	uint64_t ticks;

	if (procfs__read_start_time("/proc", t->pid, &ticks))
		return false;
	return ticks == t->start_ticks;
}

static int add_link(struct ms_target *t, struct bpf_link *l)
{
	if (t->nlinks == t->cap_links) {
		size_t cap = t->cap_links ? t->cap_links * 2 : 32;
		struct bpf_link **v = realloc(t->links, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->links = v;
		t->cap_links = cap;
	}
	t->links[t->nlinks++] = l;
	return 0;
}

/*
 * How to reach the file mapped at m: through the target's root, unless the
 * file there is no longer the mapped one (deleted, replaced by a new
 * build), in which case the kernel's map_files link still points at it.
 */
char *ms_map__open_path(pid_t pid, const struct ms_map *m)
{
	char *p = NULL;
	struct stat st;

	if (!m->deleted && asprintf(&p, "/proc/%d/root%s", pid, m->path) >= 0) {
		if (stat(p, &st) == 0 && st.st_ino == m->inode)
			return p;
		free(p);
		p = NULL;
	}
	if (asprintf(&p, "/proc/%d/map_files/%lx-%lx", pid, (unsigned long)m->start,
		     (unsigned long)m->end) < 0)
		return NULL;
	return p;
}

static int add_fd(struct ms_target *t, int fd)
{
	int *v = realloc(t->link_fds, (t->nlink_fds + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	t->link_fds = v;
	t->link_fds[t->nlink_fds++] = fd;
	return 0;
}

/* Per-function perf-event uprobes: any kernel, one link (and one teardown) each. */
static int attach_one(struct ms_session *s, struct ms_target *t, struct bpf_program *prog,
		      const char *path, uint64_t off, uint64_t cookie, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookie, .retprobe = retprobe);
	struct bpf_link *l;
	int err;

	l = bpf_program__attach_uprobe_opts(prog, t->pid, path, off, &uo);
	if (!l)
		return -errno;
	err = add_link(t, l);
	if (err)
		bpf_link__destroy(l);
	return err;
}

struct probe_set {
	uint64_t offs[NPROBE_FNS];
	uint64_t cookies[NPROBE_FNS];
	const char *names[NPROBE_FNS];
	uint64_t ret_offs[NPROBE_FNS];
	uint32_t n, nret;
};

static int attach_set(struct ms_session *s, struct ms_target *t, const char *path,
		      const struct probe_set *ps, char *errbuf, size_t errlen)
{
	struct bpf_program *entry = s->skel->progs.ms_entry, *ret = s->skel->progs.ms_alloc_ret;
	const char *what = "entry";
	int err, fd;

	if (s->multi) {
		fd = uprobe_multi_link(bpf_program__fd(entry), path, ps->offs, ps->cookies, ps->n,
				       false, t->pid);
		if (fd < 0 || (err = add_fd(t, fd))) {
			err = fd < 0 ? fd : err;
			goto fail;
		}
		what = "return";
		fd = uprobe_multi_link(bpf_program__fd(ret), path, ps->ret_offs, NULL, ps->nret,
				       true, t->pid);
		if (fd < 0 || (err = add_fd(t, fd))) {
			err = fd < 0 ? fd : err;
			goto fail;
		}
		return 0;
	}
	for (uint32_t i = 0; i < ps->n; i++) {
		what = ps->names[i];
		err = attach_one(s, t, entry, path, ps->offs[i], ps->cookies[i], false);
		if (err)
			goto fail;
	}
	for (uint32_t i = 0; i < ps->nret; i++) {
		what = "return";
		err = attach_one(s, t, ret, path, ps->ret_offs[i], 0, true);
		if (err)
			goto fail;
	}
	return 0;
fail:
	seterr(errbuf, errlen, "cannot attach %s probes in %s: %s", what, path, strerror(-err));
	return err;
}

/* Attach every allocator function this module defines. 0 if none, >0 probes, -errno. */
static int attach_module(struct ms_session *s, struct ms_target *t, const struct ms_map *m,
			 char *errbuf, size_t errlen)
{
	struct probe_set ps = {};
	uint64_t vaddrs[NPROBE_FNS];
	struct ms_module *mod;
	struct ms_elf *elf;
	char *open_path;
	uint64_t vaddr, size, off;
	int err = 0;

	open_path = ms_map__open_path(t->pid, m);
	if (!open_path)
		return -ENOMEM;
	elf = ms_elf__open(open_path);
	if (!elf) {
		err = -errno;
		/* a module we cannot read may simply not be an allocator: not fatal */
		free(open_path);
		return err;
	}
	if (ms_elf__find_func(elf, "malloc", &vaddr, &size) != 0)
		goto out;	/* not an allocator provider */

	for (size_t i = 0; i < NPROBE_FNS; i++) {
		const struct probe_fn *fn = &probe_fns[i];
		bool dup = false;

		if (ms_elf__find_func(elf, fn->name, &vaddr, &size) != 0)
			continue;
		for (uint32_t j = 0; j < ps.n; j++)
			dup |= vaddrs[j] == vaddr;
		if (dup)
			continue;
		err = ms_elf__vaddr_to_offset(elf, vaddr, &off);
		if (err) {
			seterr(errbuf, errlen, "%s: %s has no file offset", m->path, fn->name);
			goto out;
		}
		vaddrs[ps.n] = vaddr;
		ps.names[ps.n] = fn->name;
		ps.cookies[ps.n] = fn->cookie;
		ps.offs[ps.n++] = off;
		if (fn->ret)
			ps.ret_offs[ps.nret++] = off;
	}
	err = attach_set(s, t, open_path, &ps, errbuf, errlen);
	if (err)
		goto out;
	mod = realloc(t->modules, (t->nmodules + 1) * sizeof(*mod));
	if (!mod) {
		err = -ENOMEM;
		goto out;
	}
	t->modules = mod;
	mod = &t->modules[t->nmodules++];
	mod->path = strdup(m->path);
	mod->open_path = open_path;
	mod->inode = m->inode;
	mod->nprobes = ps.n + ps.nret;
	open_path = NULL;
out:
	ms_elf__close(elf);
	free(open_path);
	return err ? err : (int)(ps.n + ps.nret);
}

int ms_session__attach(struct ms_session *s, pid_t pid, struct ms_target **ret,
		       char *errbuf, size_t errlen)
{
	struct ms_pid_cfg cfg = {};
	struct ms_target *t;
	char buf[4096];
	uint32_t tgid = pid;
	int err, last_err = 0;
	size_t probes = 0;

	if (pid <= 0) {
		seterr(errbuf, errlen, "invalid PID %d", pid);
		return -EINVAL;
	}
	for (t = s->targets; t; t = t->next) {
		if (t->pid == pid) {
			seterr(errbuf, errlen, "PID %d is already attached", pid);
			return -EALREADY;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pid = pid;
	err = procfs__read_start_time("/proc", pid, &t->start_ticks);
	if (err) {
		seterr(errbuf, errlen, err == -ESRCH ? "no such process: %d" :
		       "cannot read /proc/%d: %s", pid, strerror(-err));
		goto fail;
	}
	procfs__read_comm("/proc", pid, t->comm, sizeof(t->comm));
	if (procfs__read_exe("/proc", pid, buf, sizeof(buf)) == 0)
		t->exe = strdup(buf);
	err = procfs__read_maps("/proc", pid, &t->maps);
	if (err) {
		seterr(errbuf, errlen, "cannot read /proc/%d/maps: %s", pid, strerror(-err));
		goto fail;
	}
	if (!t->maps.n) {
		seterr(errbuf, errlen, "process %d has no user memory (kernel thread?)", pid);
		err = -EINVAL;
		goto fail;
	}
	/* the filter entry first, so no event between two attaches is dropped */
	err = bpf_map_update_elem(bpf_map__fd(s->skel->maps.pids), &tgid, &cfg, BPF_ANY);
	if (err) {
		err = -errno;
		seterr(errbuf, errlen, "cannot watch PID %d: %s (too many processes?)", pid,
		       strerror(-err));
		goto fail;
	}
	for (size_t i = 0; i < t->maps.n; i++) {
		const struct ms_map *m = &t->maps.v[i];
		bool seen = false;

		if (!m->path || m->path[0] != '/' || m->perms[2] != 'x')
			continue;
		for (size_t j = 0; j < t->nmodules; j++)
			seen |= t->modules[j].inode == m->inode && !strcmp(t->modules[j].path, m->path);
		if (seen)
			continue;
		err = attach_module(s, t, m, errbuf, errlen);
		if (err > 0)
			probes += err;
		else if (err < 0 && (t->nlinks || t->nlink_fds)) {
			/* a failed attach in an allocator module: all or nothing */
			goto fail_filter;
		} else if (err < 0) {
			last_err = err;
		}
	}
	if (!probes) {
		err = last_err ?: -ENOENT;
		seterr(errbuf, errlen, "no allocator found in process %d (%s): no mapped ELF defines "
		       "malloc%s", pid, t->exe ?: t->comm,
		       last_err ? " (some modules could not be read)" : " (stripped static binary?)");
		goto fail_filter;
	}
	t->next = s->targets;
	s->targets = t;
	*ret = t;
	return 0;
fail_filter:
	bpf_map_delete_elem(bpf_map__fd(s->skel->maps.pids), &tgid);
fail:
	target_free(t);
	return err;
}

bool ms_session__multi(const struct ms_session *s)
{
	return s->multi;
}

int ms_session__aggs_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.aggs);
}

int ms_session__stacks_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.stacks);
}

int ms_session__live_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.live);
}

int ms_session__counters_fd(const struct ms_session *s)
{
	return bpf_map__fd(s->skel->maps.counters);
}
