// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * attach.c - the allocator probes of one process (unless it has the sampler
 * library, attach_usdt.c): finds every mapped ELF that defines malloc (its probe offsets cached per file), attaches them as
 * uprobe sessions, uprobe_multi links or per-function links, per process or
 * once per library (system scope), and probes a Go runtime's allocator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "target/goproc.h"
#include "target/procfs.h"
#include "target/goruntime.h"
#include "target/govars.h"
#include "target/symbolize.h"
#include "bpf/kernel.h"
#include "bpf/probesite.h"
#include "bpf/session_int.h"
#include "memsight.skel.h"
#include "memsight_session.skel.h"

/* Functions probed in an allocator module, in priority order: when two
 * names share an address (glibc: aligned_alloc == memalign) the first wins,
 * so one call is never counted twice. The cookie tells ms_entry which it is. */
struct probe_fn {
	const char *name;
	uint64_t cookie;	/* enum ms_alloc_kind, or enum ms_probe (and the heap) */
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

#define NPROBE_FNS MS_ARRAY_LEN(probe_fns)

struct probe_set {
	uint32_t moved[NPROBE_FNS];	/* bytes the probe sits past the entry */
	uint64_t offs[NPROBE_FNS];
	uint64_t cookies[NPROBE_FNS];
	const char *names[NPROBE_FNS];
	uint64_t ret_offs[NPROBE_FNS];
	uint32_t n, nret;
};

/* Probe offsets of a library already parsed: attaching to the 100th
 * process using this libc costs no ELF parsing. */
struct probe_cache {
	uint32_t dev_major, dev_minor;
	uint64_t inode, size;
	int64_t mtime_ns;
	struct probe_set *ps;
	struct probe_cache *next;
};

#define PROBE_CACHE_MAX 1024

/*
 * The session object shares every map of the main one; on any failure
 * (kernel before 6.12: no session links, no bpf_session_is_return) memsight
 * goes on with separate entry and return probes.
 */
void attach__open_sessions(struct ms_session *s)
{
	struct memsight_session_bpf *sk;
	struct bpf_map *m;
	int err;

	if (getenv("MEMSIGHT_NO_SESSION") || !ms_kfeatures()->has[MS_KF_UPROBE_SESSION]) {
		pr_debug("uprobe sessions: not used\n");
		return;
	}
	sk = memsight_session_bpf__open();
	if (!sk)
		return;
	bpf_object__for_each_map(m, sk->obj) {
		const struct bpf_map *mine;

		if (bpf_map__is_internal(m))
			continue;
		mine = bpf_object__find_map_by_name(s->skel->obj, bpf_map__name(m));
		err = mine ? bpf_map__reuse_fd(m, bpf_map__fd(mine)) : -ENOENT;
		if (err) {
			pr_debug("uprobe sessions: map %s: %s\n", bpf_map__name(m), strerror(-err));
			goto fail;
		}
	}
	sk->rodata->c_sample_bytes = s->c_sample_bytes;
	bpf_program__set_expected_attach_type(sk->progs.ms_alloc_session, MS_TRACE_UPROBE_SESSION);
	err = memsight_session_bpf__load(sk);
	if (err) {
		pr_debug("uprobe sessions: cannot load: %s\n", strerror(-err));
		goto fail;
	}
	s->sess = sk;
	return;
fail:
	memsight_session_bpf__destroy(sk);
}

/* Per-function perf-event uprobes: any kernel, one link (and one teardown) each. */
static int attach_one(struct ms_linkset *ls, struct bpf_program *prog, pid_t pid,
		      const char *path, uint64_t off, uint64_t cookie, bool retprobe)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .bpf_cookie = cookie, .retprobe = retprobe);
	struct bpf_link *l;
	int err;

	l = bpf_program__attach_uprobe_opts(prog, pid, path, off, &uo);
	if (!l)
		return -errno;
	err = linkset__add(ls, l);
	if (err)
		bpf_link__destroy(l);
	return err;
}

/* Allocating functions as one session; free and munmap at entry only. */
static int attach_set_sessions(struct ms_session *s, struct ms_linkset *ls, pid_t pid,
			       const char *path, const struct probe_set *ps, const char **what)
{
	uint64_t aoffs[NPROBE_FNS], acookies[NPROBE_FNS], eoffs[NPROBE_FNS], ecookies[NPROBE_FNS];
	uint32_t na = 0, ne = 0;
	int err;

	for (uint32_t i = 0; i < ps->n; i++) {
		if ((ps->cookies[i] & MS_COOKIE_FN_MASK) < MS_PROBE_FREE) {
			aoffs[na] = ps->offs[i];
			acookies[na++] = ps->cookies[i];
		} else {
			eoffs[ne] = ps->offs[i];
			ecookies[ne++] = ps->cookies[i];
		}
	}
	if (ne) {
		err = linkset__add_multi(ls, bpf_program__fd(s->skel->progs.ms_entry),
					 MS_TRACE_UPROBE_MULTI, path, eoffs, ecookies, ne, false,
					 pid);
		if (err)
			return err;
	}
	*what = "session";
	return linkset__add_multi(ls, bpf_program__fd(s->sess->progs.ms_alloc_session),
				  MS_TRACE_UPROBE_SESSION, path, aoffs, acookies, na, false, pid);
}

/* Entry probes and return probes, as two uprobe_multi links or one link per function. */
static int attach_set_split(struct ms_session *s, struct ms_linkset *ls, pid_t pid,
			    const char *path, const struct probe_set *ps, const char **what)
{
	struct bpf_program *entry = s->skel->progs.ms_entry, *ret = s->skel->progs.ms_alloc_ret;
	int err;

	if (s->multi) {
		err = linkset__add_multi(ls, bpf_program__fd(entry), MS_TRACE_UPROBE_MULTI, path,
					 ps->offs, ps->cookies, ps->n, false, pid);
		if (err)
			return err;
		*what = "return";
		return linkset__add_multi(ls, bpf_program__fd(ret), MS_TRACE_UPROBE_MULTI, path,
					  ps->ret_offs, NULL, ps->nret, true, pid);
	}
	for (uint32_t i = 0; i < ps->n; i++) {
		*what = ps->names[i];
		err = attach_one(ls, entry, pid, path, ps->offs[i], ps->cookies[i], false);
		if (err)
			return err;
	}
	for (uint32_t i = 0; i < ps->nret; i++) {
		*what = "return";
		err = attach_one(ls, ret, pid, path, ps->ret_offs[i], 0, true);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The pid the kernel filters t's probes by. The kernel matches a process by
 * its main thread's memory, which is gone once that thread has exited while
 * others run on (and a thread's TID is not a process): then -1, probes for
 * every process, and BPF keeps t's events by its tgid in the pids map.
 */
pid_t attach__probe_pid(struct ms_target *t)
{
	pid_t tid;

	if (procfs__mm_task("/proc", t->pid, &tid) == 0 && tid != t->pid)
		return -1;
	t->pid_filtered = true;
	return t->pid;
}

/* Attach a module's probe set for pid (-1: every process) into ls. */
static int attach_set(struct ms_session *s, struct ms_linkset *ls, pid_t pid, const char *path,
		      const struct probe_set *ps, char *errbuf, size_t errlen)
{
	const char *what = "entry";
	int err;

	for (uint32_t i = 0; i < ps->n; i++)
		if (ps->moved[i])
			pr_debug("%s: probe on %s+%u (emulated, not single-stepped)\n", path,
				 ps->names[i], ps->moved[i]);
	if (s->sess)
		err = attach_set_sessions(s, ls, pid, path, ps, &what);
	else
		err = attach_set_split(s, ls, pid, path, ps, &what);
	if (err)
		ms_fail(errbuf, errlen, err, "cannot attach %s probes in %s: %s", what, path,
			strerror(-err));
	return err;
}

/*
 * Entry-only probes may sit on the first instruction the kernel emulates
 * instead of single-steps (glibc free: test %rdi,%rdi is stepped, the je
 * after it is emulated, ~4x cheaper), as long as nothing before it touches
 * what the program reads. Probes with a return probe stay at entry: the
 * return probe and the nesting check need it. Bytes past the entry.
 */
static uint32_t entry_probe_shift(struct ms_elf *elf, uint64_t vaddr)
{
	struct probesite_req rq = { .args = PROBESITE_ARG_RDI, .at_entry = false };
	struct probesite site;
	uint8_t code[42];
	int nb = ms_elf__read_vaddr(elf, vaddr, code, sizeof(code));

	if (nb > 0 && probesite__choose(code, nb, &rq, &site) == 0)
		return site.offset;
	return 0;
}

/*
 * Whose malloc is it? glibc's exports __libc_malloc, jemalloc's mallocx; for
 * any other the usable size is not read.
 */
static enum ms_heap heap_of(struct ms_elf *elf)
{
	uint64_t vaddr, size;

	if (ms_elf__find_func(elf, "__libc_malloc", &vaddr, &size) == 0)
		return MS_HEAP_GLIBC;
	if (ms_elf__find_func(elf, "mallocx", &vaddr, &size) == 0)
		return MS_HEAP_JEMALLOC;
	return MS_HEAP_OTHER;
}

/* Find the allocator functions of the ELF at open_path. 0 and ps->n == 0: none. */
static int find_probes(const char *open_path, const char *shown, struct probe_set *ps,
		       char *errbuf, size_t errlen)
{
	uint64_t vaddrs[NPROBE_FNS], vaddr, size, off;
	struct ms_elf *elf;
	uint64_t heap;
	int err = 0;

	memset(ps, 0, sizeof(*ps));
	elf = ms_elf__open(open_path);
	if (!elf && (errno == ENOEXEC || errno == EISDIR))
		return 0;	/* mapped executable but no ELF (a JIT's file): no allocator */
	if (!elf)
		return ms_fail(errbuf, errlen, errno ? -errno : -EIO, "cannot read %s: %s", shown,
			       strerror(errno ? errno : EIO));
	if (ms_elf__find_func(elf, "malloc", &vaddr, &size) != 0)
		goto out;	/* not an allocator provider */
	heap = (uint64_t)heap_of(elf) << MS_COOKIE_HEAP_SHIFT;
	for (size_t i = 0; i < NPROBE_FNS; i++) {
		const struct probe_fn *fn = &probe_fns[i];
		bool dup = false;

		if (ms_elf__find_func(elf, fn->name, &vaddr, &size) != 0)
			continue;
		for (uint32_t j = 0; j < ps->n; j++)
			dup |= vaddrs[j] == vaddr;
		if (dup)
			continue;
		err = ms_elf__vaddr_to_offset(elf, vaddr, &off);
		if (err) {
			ms_fail(errbuf, errlen, err, "%s: %s has no file offset", shown, fn->name);
			goto out;
		}
		vaddrs[ps->n] = vaddr;
		ps->names[ps->n] = fn->name;
		ps->cookies[ps->n] = fn->cookie | (fn->ret ? heap : 0);
		ps->moved[ps->n] = 0;
		if (fn->ret)
			ps->ret_offs[ps->nret++] = off;
		else
			ps->moved[ps->n] = entry_probe_shift(elf, vaddr);
		ps->offs[ps->n] = off + ps->moved[ps->n];
		ps->n++;
	}
out:
	ms_elf__close(elf);
	return err;
}

void attach__cache_clear(struct ms_session *s)
{
	while (s->probes) {
		struct probe_cache *pc = s->probes;

		s->probes = pc->next;
		free(pc->ps);
		free(pc);
	}
	s->nprobes_cached = 0;
}

/* find_probes() through a cache keyed by the file's identity. */
static int cached_probes(struct ms_session *s, const char *open_path, const struct ms_map *m,
			 struct probe_set *ps, char *errbuf, size_t errlen)
{
	struct probe_cache *pc;
	struct stat st;
	int64_t mt;
	int err;

	if (stat(open_path, &st))
		return find_probes(open_path, m->path, ps, errbuf, errlen);
	mt = st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec;
	for (pc = s->probes; pc; pc = pc->next) {
		if (pc->inode == m->inode && pc->dev_major == m->dev_major &&
		    pc->dev_minor == m->dev_minor && pc->size == (uint64_t)st.st_size &&
		    pc->mtime_ns == mt) {
			*ps = *pc->ps;
			return 0;
		}
	}
	err = find_probes(open_path, m->path, ps, errbuf, errlen);
	if (err)
		return err;
	/* not-an-allocator answers are cached too: most modules are not */
	if (s->nprobes_cached >= PROBE_CACHE_MAX)
		attach__cache_clear(s);	/* a host runs many programs: start over */
	pc = calloc(1, sizeof(*pc));
	if (pc)
		pc->ps = malloc(sizeof(*pc->ps));
	if (!pc || !pc->ps) {
		free(pc);
		return 0;
	}
	*pc->ps = *ps;
	pc->dev_major = m->dev_major;
	pc->dev_minor = m->dev_minor;
	pc->inode = m->inode;
	pc->size = st.st_size;
	pc->mtime_ns = mt;
	pc->next = s->probes;
	s->probes = pc;
	s->nprobes_cached++;
	return 0;
}

static struct ms_lib *lib_find(struct ms_session *s, const struct ms_map *m)
{
	for (struct ms_lib *l = s->libs; l; l = l->next)
		if (l->inode == m->inode && l->dev_major == m->dev_major &&
		    l->dev_minor == m->dev_minor)
			return l;
	return NULL;
}

void attach__lib_unref(struct ms_session *s, struct ms_lib *lib)
{
	struct ms_lib **pp;
	struct ms_linkset *ls;

	if (!lib || --lib->refs)
		return;
	for (pp = &s->libs; *pp; pp = &(*pp)->next) {
		if (*pp == lib) {
			*pp = lib->next;
			break;
		}
	}
	ls = malloc(sizeof(*ls));
	if (ls) {
		*ls = lib->links;
		linkset__dispose(s, ls);
	} else {
		linkset__close(&lib->links);
	}
	free(lib);
}

/* System scope: a new shared link set for the library m, probed for every process. */
static int lib_attach(struct ms_session *s, const struct ms_map *m, const char *open_path,
		      const struct probe_set *ps, struct ms_lib **ret, char *errbuf, size_t errlen)
{
	struct ms_lib *lib = calloc(1, sizeof(*lib));
	int err;

	if (!lib)
		return ms_fail(errbuf, errlen, -ENOMEM, "out of memory for %s", m->path);
	err = attach_set(s, &lib->links, -1, open_path, ps, errbuf, errlen);
	if (err) {
		linkset__close(&lib->links);
		free(lib);
		return err;
	}
	lib->dev_major = m->dev_major;
	lib->dev_minor = m->dev_minor;
	lib->inode = m->inode;
	lib->refs = 1;
	lib->nprobes = ps->n + ps->nret;
	lib->next = s->libs;
	s->libs = lib;
	*ret = lib;
	return 0;
}

/* Attach every allocator function this module defines. 0 if none, >0 probes, -errno. */
static int attach_module(struct ms_session *s, struct ms_target *t, const struct ms_map *m,
			 char *errbuf, size_t errlen)
{
	struct ms_lib *lib = NULL;
	struct probe_set ps;
	struct ms_module *mod;
	char *open_path;
	int err;

	if (s->system_scope && (lib = lib_find(s, m)) != NULL) {
		lib->refs++;	/* already probed for every process */
		open_path = ms_map__open_path(t->pid, m);
		ps.n = lib->nprobes;
		ps.nret = 0;
		goto record;
	}
	open_path = ms_map__open_path(t->pid, m);
	if (!open_path)
		return ms_fail(errbuf, errlen, -ENOMEM, "out of memory for %s", m->path);
	err = cached_probes(s, open_path, m, &ps, errbuf, errlen);
	if (err || !ps.n) {
		/* a module we cannot read may simply not be an allocator: not fatal */
		free(open_path);
		return err;
	}
	if (s->system_scope)
		err = lib_attach(s, m, open_path, &ps, &lib, errbuf, errlen);
	else
		err = attach_set(s, t->links, attach__probe_pid(t), open_path, &ps, errbuf, errlen);
	if (err) {
		free(open_path);
		return err;
	}
record:
	mod = realloc(t->modules, (t->nmodules + 1) * sizeof(*mod));
	if (!mod) {
		attach__lib_unref(s, lib);
		free(open_path);
		return ms_fail(errbuf, errlen, -ENOMEM, "out of memory for %s", m->path);
	}
	t->modules = mod;
	mod = &t->modules[t->nmodules++];
	memset(mod, 0, sizeof(*mod));
	mod->path = strdup(m->path);
	mod->open_path = open_path;
	mod->inode = m->inode;
	mod->dev_major = m->dev_major;
	mod->dev_minor = m->dev_minor;
	mod->nprobes = ps.n + ps.nret;
	mod->lib = lib;
	return mod->nprobes;
}

/* The mapping of t's executable, or NULL. */
static const struct ms_map *exe_map(const struct ms_target *t)
{
	for (size_t i = 0; i < t->maps.n; i++) {
		const struct ms_map *m = &t->maps.v[i];
		size_t n = m->path ? strlen(m->path) : 0;

		/* /proc/PID/exe may end in " (deleted)"; maps has the bare path */
		if (n && t->exe && !strncmp(t->exe, m->path, n) &&
		    (t->exe[n] == 0 || !strcmp(t->exe + n, " (deleted)")))
			return m;
	}
	return NULL;
}

/*
 * Prefer the runtime's own allocation sampler: probing mProf_Malloc traps
 * once per MemProfileRate bytes, mallocgc once per allocation (a busy
 * service loses most of its throughput to that). When the sampler is off
 * (the linker turns it off in programs without pprof), turn it on through
 * its public knob, runtime.MemProfileRate. Which argument of mProf_Malloc
 * is the size depends on the release (1.23 added mp first): no version, no
 * probe on it. True, and *entry set, when mProf_Malloc is the one to probe.
 */
static bool go_use_mprof(struct ms_session *s, struct ms_target *t, const struct go_version *v,
			 uint64_t *entry)
{
	int64_t rate = 0;
	int rc;

	if (s->go_mallocgc || v->major != 1 || v->minor <= 0 ||
	    (t->goproc = goproc__open(t->pid)) == NULL)
		return false;
	rc = goproc__mem_profile_rate(t->goproc, &rate);
	if (rc == -ENODATA && goproc__set_mem_profile_rate(t->goproc, s->go_sample_bytes) == 0) {
		rate = s->go_sample_bytes;
		t->go_rate_set = true;
		rc = 0;
	}
	if (rc || rate <= 0 || go_binary__find_func(t->gobin, "runtime.mProf_Malloc", entry))
		return false;
	t->go_mprof = true;
	t->go_rate = rate;
	return true;
}

/* Flags the Go probe programs need to read this release's arguments. */
static void go_set_abi_flags(struct ms_session *s, const struct ms_target *t,
			     const struct go_version *v)
{
	int fd = bpf_map__fd(s->skel->maps.pids);
	uint32_t tgid = t->pid;
	struct ms_pid_cfg cfg;

	if (((v->major == 1 && v->minor > 0 && v->minor < 17) ||
	     (t->go_mprof && v->major == 1 && v->minor >= 23)) &&
	    bpf_map_lookup_elem(fd, &tgid, &cfg) == 0) {
		cfg.flags |= v->minor < 17 ? MS_PIDF_GO_STACK_ABI : MS_PIDF_GO_MPROF_MP;
		bpf_map_update_elem(fd, &tgid, &cfg, BPF_ANY);
	}
}

/*
 * Past the function's stack-bound check: a call that goes through morestack
 * (a growing stack, a preemption request) runs the prologue twice, and a
 * probe on its first byte would count the allocation twice.
 */
static uint32_t go_probe_shift(struct ms_elf *elf, uint64_t vaddr)
{
	uint8_t code[PROBESITE_MAX_BYTES];
	int nb = ms_elf__read_vaddr(elf, vaddr, code, sizeof(code));

	return nb > 0 ? probesite__go_past_stack_check(code, (size_t)nb) : 0;
}

/*
 * If the executable is a Go program, probe runtime.mallocgc (found through
 * .gopclntab, so stripped binaries work too). Entry only: see go.bpf.c.
 * 1 attached, 0 not Go, -errno.
 */
static int attach_go(struct ms_session *s, struct ms_target *t, char *errbuf, size_t errlen)
{
	struct bpf_program *prog = s->skel->progs.ms_go_malloc;
	const struct ms_map *exe = exe_map(t);
	struct go_version v = {};
	struct ms_elf *elf = NULL;
	uint64_t entry, off;
	char *path;
	int err = 0;

	if (!exe)
		return 0;
	path = ms_map__open_path(t->pid, exe);
	if (!path)
		return ms_fail(errbuf, errlen, -ENOMEM, "out of memory for %s", exe->path);
	t->gobin = go_binary__open(path);
	if (!t->gobin)
		goto out;	/* not Go: nothing to do */
	if (govars__version(path, t->gobin, &v) == 0)
		snprintf(t->go_version, sizeof(t->go_version), "%s", v.str);
	else
		snprintf(t->go_version, sizeof(t->go_version), "go (version unknown)");
	if (go_use_mprof(s, t, &v, &entry))
		prog = s->skel->progs.ms_go_mprof;
	else if (go_binary__find_func(t->gobin, "runtime.mallocgc", &entry)) {
		err = ms_fail(errbuf, errlen, -ENOENT,
			      "%s is a Go program but runtime.mallocgc was not found", exe->path);
		goto out;
	}
	elf = ms_elf__open(path);
	if (!elf || ms_elf__vaddr_to_offset(elf, entry, &off)) {
		err = ms_fail(errbuf, errlen, -ENOEXEC,
			      "%s: cannot place runtime.mallocgc in the file", exe->path);
		goto out;
	}
	off += go_probe_shift(elf, entry);
	go_set_abi_flags(s, t, &v);
	if (s->multi)
		err = linkset__add_multi(t->links, bpf_program__fd(prog), MS_TRACE_UPROBE_MULTI,
					 path, &off, NULL, 1, false, attach__probe_pid(t));
	else
		err = attach_one(t->links, prog, attach__probe_pid(t), path, off, 0, false);
	if (err) {
		ms_fail(errbuf, errlen, err, "cannot attach to %s in %s: %s",
			t->go_mprof ? "runtime.mProf_Malloc" : "runtime.mallocgc", exe->path,
			strerror(-err));
		goto out;
	}
	t->go_probed = true;
	err = 1;
out:
	ms_elf__close(elf);
	free(path);
	return err;
}

int attach__target(struct ms_session *s, struct ms_target *t, char *errbuf, size_t errlen)
{
	char why[256] = "";
	int err, last_err = 0;
	size_t probes = 0;

	/* the sampler library traps once per sample, the malloc uprobes every call */
	err = attach__sampler(s, t, errbuf, errlen);
	if (err < 0)
		return err;
	probes += err;
	for (size_t i = 0; i < t->maps.n && !t->usdt; i++) {
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
		else if (err < 0 && t->nmodules)
			return err;	/* all or nothing */
		else if (err < 0 && !last_err) {
			last_err = err;
			snprintf(why, sizeof(why), "%s", errbuf && errlen ? errbuf : "");
		}
	}
	err = attach_go(s, t, errbuf, errlen);
	if (err < 0)
		return err;
	probes += err;
	if (probes)
		return 0;
	if (last_err)
		return ms_fail(errbuf, errlen, last_err, "no allocator attached in process %d "
			       "(%s): %s", t->pid, t->exe ?: t->comm, why);
	return ms_fail(errbuf, errlen, -ENOENT, "no allocator found in process %d (%s): no "
		       "mapped ELF defines malloc (stripped static binary?)", t->pid,
		       t->exe ?: t->comm);
}
