// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ustack_ring.c - DWARF unwinding of C allocation stacks: which processes
 * need it (frame-pointer verdicts per module file), the ring of copied
 * stacks, unwinding each record and binding its sample id to the stack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "common/errmsg.h"
#include "target/procfs.h"
#include "bpf/probesite.h"
#include "bpf/session_int.h"
#include "bpf/ustack_drain.h"
#include "bpf/unwind.h"
#include "bpf/ustacks.h"
#include "memsight.skel.h"

/*
 * Copied stacks waiting to be unwound, beyond what the kernel's ring holds:
 * a backstop for a burst the unwinder cannot keep up with (1,000 to 16,000
 * records: 1 to 16 KiB each), not a buffer a steady overload may fill: past
 * it stacks are dropped and counted, and memsightd's memory stays bounded
 * (bench/web.sh, 200 processes just attached: VmRSS 30.6 MiB idle with this
 * cap, 42.5 MiB with 128 MiB, the queue holding the unwinder's backlog). The
 * 6.1 guest, emulated, unwinds slower than its tests allocate: there it
 * drops (t_dwarf counts them).
 */
#define USTACK_QUEUE_CAP	(16u << 20)

/* Frame pointers or not, per module file: judged once, not per process. */
struct fp_verdict {
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	int err;
	bool fp;
	struct fp_verdict *next;
};

static const struct fp_verdict *module_fp(struct ms_session *s, pid_t pid, const struct ms_map *m)
{
	struct fp_verdict *v;
	char *path;

	for (v = s->fp_cache; v; v = v->next)
		if (v->inode == m->inode && v->dev_major == m->dev_major &&
		    v->dev_minor == m->dev_minor)
			return v;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->inode = m->inode;
	v->dev_major = m->dev_major;
	v->dev_minor = m->dev_minor;
	path = ms_map__open_path(pid, m);
	v->err = path ? probesite__module_fp(path, &v->fp) : -ENOMEM;
	free(path);
	v->next = s->fp_cache;
	s->fp_cache = v;
	return v;
}

/*
 * Copy this process's stacks for DWARF unwinding? --unwind dwarf: yes;
 * fp: no; auto: when some module with code has no frame pointers (a module
 * we cannot read counts as such: its frames would cut a frame-pointer walk
 * short just the same), sampled or not: --dwarf-rate bounds the cost. The
 * reason is kept either way, for the report.
 */
bool ustack_ring__wants_dwarf(struct ms_session *s, struct ms_target *t)
{
	if (s->unwind == MS_UNWIND_FP) {
		t->dwarf_why = strdup("--unwind fp");
		return false;
	}
	if (s->unwind == MS_UNWIND_DWARF) {
		t->dwarf = true;
		t->dwarf_why = strdup("--unwind dwarf");
		return true;
	}
	/* a module known to lack frame pointers is the better reason to give */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < t->maps.n; i++) {
			const struct ms_map *m = &t->maps.v[i];
			const struct fp_verdict *v;
			int rc;

			if (!m->path || m->path[0] != '/' || m->perms[2] != 'x')
				continue;
			v = module_fp(s, t->pid, m);
			if (v && !v->err && v->fp)
				continue;
			if (pass == 0 && (!v || v->err))
				continue;
			t->dwarf = true;
			if (pass == 0)
				rc = asprintf(&t->dwarf_why, "%s has no frame pointers", m->path);
			else
				rc = asprintf(&t->dwarf_why, "cannot tell whether %s has frame pointers: %s",
					      m->path, !v ? strerror(ENOMEM) : v->err == -ENODATA ?
					      "too few functions" : strerror(-v->err));
			if (rc < 0)
				t->dwarf_why = NULL;
			return true;
		}
	}
	t->dwarf_why = strdup("every module has frame pointers");
	return false;
}

/* The target a copied stack belongs to, with an unwinder that knows its pc's module. */
static struct ms_target *ustack_target(struct ms_session *s, const struct ms_ustack_hdr *h)
{
	struct ms_target *t = ms_session__find(s, (pid_t)h->tgid);
	struct ms_maps maps = {};
	uint64_t now;

	if (!t)
		return NULL;
	/*
	 * An exec'd process has new modules: rebuild for its newer generation.
	 * A late record of the image before (purged soon anyway) is unwound
	 * with what there is rather than rebuilding back and forth.
	 */
	if (t->unw && h->gen <= t->unw_gen && unwinder__covers(t->unw, h->regs[MS_UREG_IP]))
		return t;
	/* first sample, or a library mapped since (dlopen): at most once a second */
	now = ms_mono_ns();
	if (t->unw_built_ns && h->gen <= t->unw_gen && now - t->unw_built_ns < 1000000000ull)
		return t;	/* also when building failed: not for every record */
	if (procfs__read_maps("/proc", t->pid, &maps)) {
		t->unw_built_ns = now;
		return t;	/* gone: keep what we have */
	}
	unwinder__free(t->unw);
	t->unw = unwinder__new(t->pid, &maps, s->ufiles);
	t->unw_built_ns = now;
	t->unw_gen = h->gen;
	ms_maps__free(&maps);
	return t;
}

static void on_ustack(struct ms_session *s, const void *data, size_t size)
{
	const struct ms_ustack_hdr *h = data;
	struct unwind_sample us;
	uint64_t ips[MS_MAX_STACK_DEPTH];
	size_t n = 0;
	struct ms_target *t;

	s->ust.records++;
	if (size < sizeof(*h) || h->size > size - sizeof(*h) || h->sid < MS_SAMPLE_SID_BASE) {
		s->ust.bad_records++;
		return;
	}
	t = ustack_target(s, h);
	if (!t) {
		/* detached meanwhile: its aggregates went with it */
		s->ust.bad_records++;
		return;
	}
	us = (struct unwind_sample){ .tid = h->tid, .stack = (const uint8_t *)(h + 1),
				     .size = h->size };
	memcpy(us.regs, h->regs, sizeof(us.regs));
	if (!t->unw || unwinder__unwind(t->unw, &us, ips, MS_MAX_STACK_DEPTH, &n)) {
		ips[0] = h->regs[MS_UREG_IP];
		n = 1;
	}
	s->ust.unwound_frames += n;
	if (ustacks__bind(s->us, h->tgid, h->gen, h->sid, ips, (uint32_t)n, ms_mono_ns()))
		s->ust.unbound++;
}

int ustack_ring__open(struct ms_session *s, char *errbuf, size_t errlen)
{
	int err;

	s->us = ustacks__new(0, 0);
	if (s->us)
		ustacks__set_quota(s->us, s->stacks_per_pid);
	s->ufiles = unwind_files__new();
	s->ustack_drain = ustack_drain__new(bpf_map__fd(s->skel->maps.ustacks), USTACK_QUEUE_CAP);
	if (s->us && s->ufiles && s->ustack_drain)
		return 0;
	err = -errno ?: -ENOMEM;
	return ms_fail(errbuf, errlen, err, "cannot set up stack unwinding: %s", strerror(-err));
}

void ustack_ring__close(struct ms_session *s)
{
	ustack_drain__free(s->ustack_drain);
	s->ustack_drain = NULL;
	ustacks__free(s->us);
	s->us = NULL;
	unwind_files__free(s->ufiles);
	s->ufiles = NULL;
	while (s->fp_cache) {
		struct fp_verdict *v = s->fp_cache;

		s->fp_cache = v->next;
		free(v);
	}
}

int ms_session__ustack_fd(const struct ms_session *s)
{
	return ustack_drain__fd(s->ustack_drain);
}

int ms_session__poll_ustacks(struct ms_session *s)
{
	uint64_t dropped;
	struct ustack_rec *r, *next;
	int n = 0;

	for (r = ustack_drain__take(s->ustack_drain, &dropped); r; r = next, n++) {
		next = r->next;
		on_ustack(s, r->data, r->size);
		free(r);
	}
	s->ust.queue_full += dropped;
	return n;
}

void ms_session__ustack_stats(const struct ms_session *s, struct ms_ustack_stats *ret)
{
	struct ustacks_stats us;

	*ret = s->ust;
	ustacks__stats(s->us, &us);
	ret->files = unwind_files__count(s->ufiles);
	ret->stacks = us.stacks;
	ret->bindings = us.bindings;
	ret->retired = us.retired;
	ret->quota_full = us.quota_full;
}
