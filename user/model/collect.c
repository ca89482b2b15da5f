// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "model/collect.h"
#include "target/container.h"
#include "target/elf.h"
#include "target/goproc.h"
#include "target/goruntime.h"
#include "target/sampler.h"
#include "bpf/kernel.h"
#include "bpf/ustacks.h"
#include "memsight_abi.h"

int ms_collect__counters(struct ms_session *s, struct ms_loss *ret)
{
	int ncpu = libbpf_num_possible_cpus(), fd = ms_session__counters_fd(s);
	uint64_t sum[MS_CNT__MAX] = {}, *vals;
	struct ms_ustack_stats us;

	if (ncpu <= 0)
		return ncpu ?: -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < MS_CNT__MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum[i] += vals[c];
	}
	free(vals);
	ms_session__ustack_stats(s, &us);
	*ret = (struct ms_loss){
		.alloc_events = sum[MS_CNT_ALLOC_EVENTS],
		.free_events = sum[MS_CNT_FREE_EVENTS],
		.free_unknown = sum[MS_CNT_FREE_UNKNOWN],
		.stack_errors = sum[MS_CNT_STACK_ERR],
		.stack_collisions = sum[MS_CNT_STACK_COLLISION],
		.stack_table_full = sum[MS_CNT_STACK_TABLE_FULL],
		.stack_quota = sum[MS_CNT_STACK_QUOTA],
		.live_full = sum[MS_CNT_LIVE_FULL],
		.agg_full = sum[MS_CNT_AGG_FULL],
		.inflight_full = sum[MS_CNT_INFLIGHT_FULL],
		.inflight_miss = sum[MS_CNT_INFLIGHT_MISS],
		.nested = sum[MS_CNT_NESTED],
		.failed_alloc = sum[MS_CNT_FAILED_ALLOC],
		.events_lost = sum[MS_CNT_EVENTS_LOST],
		.go_samples = sum[MS_CNT_GO_SAMPLES],
		.ustack_samples = sum[MS_CNT_USTACK_SAMPLES],
		.ustack_lost = sum[MS_CNT_USTACK_LOST],
		.ustack_ring_full = sum[MS_CNT_USTACK_RING_FULL],
		.ustack_rate = sum[MS_CNT_USTACK_RATE],
		.ustack_queue_full = us.queue_full,
		/* rss is filled in BPF, procstats by user space at attach */
		.proc_table_full = sum[MS_CNT_PROC_TABLE_FULL] + ms_session__procstats_full(s),
	};
	return 0;
}

void ms_collect__sampling(struct ms_session *s, const struct ms_target *t,
			  struct ms_sampling *ret)
{
	/* the sampler library's samples come at its mean, the uprobes' at ours */
	ret->c_bytes = t->usdt ? t->sampler_mean : ms_session__c_sample_bytes(s);
	/* Go samples come at the runtime's rate when it samples, else at ours */
	ret->go_bytes = t->go_mprof ? (uint64_t)t->go_rate : ms_session__go_sample_bytes(s);
}

struct agg {
	struct ms_agg_key k;
	struct ms_agg_val v;
	uint64_t oldest_ts;	/* min ts of outstanding allocations, 0 if none */
};

struct aggs {
	struct agg *v;
	size_t n, cap;
};

/* This process's aggregates, DWARF samples folded into their stacks. */
static int read_aggs(struct ms_session *s, uint32_t tgid, uint32_t gen, struct aggs *out)
{
	struct ms_aggs all = {};
	int err = ms_session__read_aggs(s, tgid, &all);

	if (err)
		return err;
	out->v = calloc(all.n ? all.n : 1, sizeof(*out->v));
	if (!out->v) {
		ms_aggs__free(&all);
		return -ENOMEM;
	}
	for (size_t i = 0; i < all.n; i++) {
		if (all.v[i].k.gen != gen)
			continue;
		out->v[out->n].k = all.v[i].k;
		out->v[out->n].v = all.v[i].v;
		out->v[out->n].oldest_ts = 0;
		out->n++;
	}
	out->cap = out->n;
	ms_aggs__free(&all);
	return 0;
}

/* read_aggs() sorted them by ms_agg_key__cmp(), all of one tgid and gen */
static struct agg *find_agg(struct aggs *a, const struct ms_agg_key *key)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ms_agg_key__cmp(&a->v[mid].k, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < a->n && !ms_agg_key__cmp(&a->v[lo].k, key))
		return &a->v[lo];
	return NULL;
}

/* The aggregate a live allocation (k, v) counts in: NULL when a holds none. */
static struct agg *live_agg(struct ms_session *s, struct aggs *a, const struct ms_live_key *k,
			    const struct ms_live_val *v)
{
	struct ms_agg_key ak = { .tgid = k->tgid, .gen = k->gen, .kind = v->kind,
				 .period = v->period };

	ak.stack_id = ms_session__resolve_stack(s, v->stack_id);
	return find_agg(a, &ak);
}

struct ages_ctx {
	struct ms_session *s;
	uint32_t tgid, gen;
	struct aggs *a;
};

static int note_age(const void *key, const void *val, void *ctx)
{
	const struct ms_live_key *k = key;
	const struct ms_live_val *v = val;
	struct ages_ctx *c = ctx;
	struct agg *g;

	if (k->tgid != c->tgid || k->gen != c->gen)
		return 0;
	g = live_agg(c->s, c->a, k, v);
	if (g && (!g->oldest_ts || v->ts_ns < g->oldest_ts))
		g->oldest_ts = v->ts_ns;
	return 0;
}

/* Oldest outstanding allocation per aggregate (what cannot be read stays 0). */
static void read_ages(struct ms_session *s, int fd, uint32_t tgid, uint32_t gen, struct aggs *a)
{
	struct ages_ctx c = { .s = s, .tgid = tgid, .gen = gen, .a = a };

	ms_map__for_each(fd, sizeof(struct ms_live_key), sizeof(struct ms_live_val), note_age, &c);
}

/*
 * The sampler library's pending free records (memsight_sampler.h): frees
 * the process made, sent with its next sample. Each whose sample is still
 * live (same tag) is counted as freed here, as BPF counts it when it comes:
 * in use does not wait for the next sample (an idle process may not make
 * one for long). 0 and how many in *ret_n, or -errno when they cannot be
 * read.
 */
static int apply_pending_frees(struct ms_session *s, const struct ms_target *t, struct aggs *a,
			       uint32_t *ret_n)
{
	uint64_t recs[MEMSIGHT_SAMPLER_PENDING];
	int fd = ms_session__live_fd(s), err;

	*ret_n = 0;
	if (!t->sampler_pending_addr)
		return -ENOENT;
	err = sampler__read_words(t->pid, t->sampler_pending_addr, recs, MEMSIGHT_SAMPLER_PENDING);
	if (err)
		return err;
	for (size_t i = 0; i < MEMSIGHT_SAMPLER_PENDING; i++) {
		struct ms_live_key lk = { .tgid = t->pid, .gen = t->gen,
					  .addr = MEMSIGHT_SAMPLER_RECORD_PTR(recs[i]) };
		struct ms_live_val lv;
		struct agg *g;

		if (!recs[i] || bpf_map_lookup_elem(fd, &lk, &lv) ||
		    lv.tag != MEMSIGHT_SAMPLER_RECORD_TAG(recs[i]))
			continue;
		g = live_agg(s, a, &lk, &lv);
		if (!g)
			continue;
		g->v.free_bytes += lv.size;
		g->v.free_count++;
		if (lv.usable)
			g->v.free_usable += lv.usable;
		else
			g->v.free_nousable++;
		(*ret_n)++;
	}
	return 0;
}

/* Build IDs of the modules seen while building one profile (pprof mappings). */
struct buildid_cache {
	struct { char *path; uint8_t id[MS_BUILD_ID_MAX]; int len; } v[64];
	int n;
};

static void frame_build_id(struct buildid_cache *bc, const char *open_path, const char *path,
			   struct ms_frame *f)
{
	struct ms_elf *elf;
	int i, len;

	for (i = 0; i < bc->n; i++)
		if (!strcmp(bc->v[i].path, path))
			goto found;
	if (bc->n == (int)(sizeof(bc->v) / sizeof(bc->v[0])))
		return;
	elf = ms_elf__open(open_path ?: path);
	if (!elf && open_path)
		elf = ms_elf__open(path);
	len = elf ? ms_elf__build_id(elf, bc->v[bc->n].id, MS_BUILD_ID_MAX) : -ENOENT;
	ms_elf__close(elf);
	bc->v[bc->n].path = strdup(path);
	if (!bc->v[bc->n].path)
		return;
	bc->v[bc->n].len = len > 0 ? len : 0;
	i = bc->n++;
found:
	if (bc->v[i].len > 0 && bc->v[i].len <= (int)sizeof(f->build_id)) {
		memcpy(f->build_id, bc->v[i].id, bc->v[i].len);
		f->build_id_len = bc->v[i].len;
	}
}

static void buildid_cache_free(struct buildid_cache *bc)
{
	for (int i = 0; i < bc->n; i++)
		free(bc->v[i].path);
}

/* Frames one address can expand to: itself and the functions inlined there. */
#define INLINE_MAX 8

/*
 * Symbolise one address into up to room frames: the functions inlined at it
 * (innermost first) and the real function last, all for the same address.
 * exact_ip: addr is where the thread was (an entry probe's leaf frame, a
 * faulting instruction), not a return address, so it needs no "the call is
 * one byte back" adjustment. room >= 1. Returns the frames written, or 0
 * when addr is not in the process's code (an executable mapping now, or at
 * attach for a process that is gone): a frame-pointer walk through code
 * built without them reads whatever the frame-pointer register held (data,
 * key bytes, a stack address), so the stack is true up to there only.
 */
static uint32_t symbolize_frames(struct symcache *cache, struct buildid_cache *bc,
				 struct ms_target *t, bool alive, const struct ms_maps *maps,
				 uint64_t addr, bool exact_ip, struct ms_frame *f, uint32_t room)
{
	const struct ms_map *m = ms_maps__find(maps, addr);
	pid_t pid = t->pid;
	struct ms_sym syms[INLINE_MAX];
	size_t nsyms = 0;
	int rc;
	char *open_path, root[64];
	uint64_t off, back;

	memset(f, 0, sizeof(*f));
	f->addr = addr;
	/* a dying process (OOM reaper at work) may have no mappings left: then
	 * the snapshot taken at attach still places the address */
	if (!m)
		m = ms_maps__find(&t->maps, addr);
	if (!m || m->perms[2] != 'x')
		return 0;
	f->map_start = m->start;
	f->map_end = m->end;
	f->map_pgoff = m->pgoff;
	if (!m->path || m->path[0] != '/')
		return 1;
	f->module = m->path;	/* borrowed: the profile copies it */
	off = addr - m->start + m->pgoff;
	/* a return address: the call, its line and its inline scope are a byte back */
	back = !exact_ip && off ? 1 : 0;
	/* after exit /proc/PID is gone: the host path is our best remaining guess */
	open_path = alive ? ms_map__open_path(pid, m) : NULL;
	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	frame_build_id(bc, open_path, m->path, f);
	if (room > INLINE_MAX)
		room = INLINE_MAX;
	rc = symcache__lookup_frames(cache, open_path ?: m->path, alive ? root : NULL, off - back,
				     syms, room, &nsyms);
	/* /proc/PID/root of a process being torn down may be gone already */
	if (rc && open_path)
		rc = symcache__lookup_frames(cache, m->path, NULL, off - back, syms, room, &nsyms);
	if (rc || !nsyms)
		nsyms = 0;
	for (size_t i = 1; i < nsyms; i++)
		f[i] = f[0];
	for (size_t i = 0; i < nsyms; i++) {
		f[i].func = (char *)syms[i].name;
		/* inlined functions have no symbol of their own: no offset */
		f[i].func_off = i + 1 == nsyms && syms[i].name ? syms[i].offset + back : 0;
		f[i].file = (char *)syms[i].file;
		f[i].line = syms[i].line;
		f[i].inlined = i + 1 < nsyms;
	}
	/* a Go program: .gopclntab names frames of stripped binaries, with lines,
	 * one per inlined call like pprof */
	if (t->gobin && (nsyms <= 1) && (!f->func || !f->file) && t->exe &&
	    !strncmp(t->exe, m->path, strlen(m->path))) {
		struct go_frame gf[INLINE_MAX];
		struct go_func_info gi;
		uint64_t pc = nsyms ? syms[0].vaddr + back : addr;
		size_t ng = 0;

		/* a return address: the call is the instruction before it */
		if (go_binary__lookup_frames(t->gobin, exact_ip || !pc ? pc : pc - 1, gf, room, &ng,
					     &gi) == 0) {
			for (size_t i = 1; i < ng; i++)
				f[i] = f[0];
			for (size_t i = 0; i < ng; i++) {
				f[i].func = (char *)gf[i].name;
				/* inlined functions have no symbol of their own: no offset */
				f[i].func_off = i + 1 == ng ? pc - gi.entry : 0;
				f[i].file = (char *)gf[i].file;
				f[i].line = gf[i].line;
				f[i].inlined = gf[i].inlined;
			}
			nsyms = ng;
		}
	}
	free(open_path);
	return nsyms ? (uint32_t)nsyms : 1;
}

#define GO_HEAP_STACKS_MAX 200
/*
 * How many frames on top of a stack are the sampler library's own (its
 * malloc wrapper and the sampling code under it): hidden, so the stack
 * starts at the program's call, as with the uprobes at malloc's entry.
 * A stack that is the library's all through is kept whole.
 */
static uint32_t sampler_frames(const struct ms_target *t, const struct ms_maps *maps,
			       const uint64_t *ips, uint32_t nips)
{
	uint32_t j;

	if (!t->usdt)
		return 0;
	for (j = 0; j < nips; j++) {
		const struct ms_map *m = ms_maps__find(maps, ips[j]);

		if (!m)
			m = ms_maps__find(&t->maps, ips[j]);
		if (!m || m->inode != t->sampler_inode || m->dev_major != t->sampler_dev_major ||
		    m->dev_minor != t->sampler_dev_minor)
			break;
	}
	return j < nips ? j : 0;
}

/* a stack's frames after inline expansion */
#define MAX_FRAMES (2 * MS_MAX_STACK_DEPTH)

/*
 * The Go runtime's own in-use heap profile (runtime.mbuckets, sampled at
 * MemProfileRate and published at each GC) as stacks of kind go-heap:
 * what the Go heap holds and who allocated it, since the process started.
 */
static const struct goproc_heap_profile_opts heap_profile_opts = {
	.max_buckets = 100000, .inuse_only = true
};

/* One bucket of the runtime's profile as the figures of its go-heap stack. */
static void go_bucket_figures(const struct goproc_heap_bucket *b, uint64_t rate,
			      struct ms_figures *ret)
{
	struct goproc_heap_counts est;

	goproc__heap_unsample(&b->sampled, rate, &est);
	*ret = (struct ms_figures){
		.inuse_bytes = est.inuse_bytes > 0 ? est.inuse_bytes : 0,
		.inuse_count = est.inuse_objects > 0 ? est.inuse_objects : 0,
	};
}

int ms_collect__go_heap(struct ms_target *t, struct ms_figures *ret)
{
	struct goproc_heap_profile hp = {};
	int err;

	if (!t->goproc)
		return -ENOENT;
	err = goproc__heap_profile(t->goproc, &heap_profile_opts, &hp);
	if (err)
		return err;
	*ret = (struct ms_figures){};
	for (size_t i = 0; i < hp.nr_buckets && i < GO_HEAP_STACKS_MAX; i++) {
		struct ms_figures f;

		go_bucket_figures(&hp.buckets[i], hp.rate, &f);
		ms_figures__add(ret, MS_KIND_GO_INUSE, &f);
	}
	goproc_heap_profile__free(&hp);
	return 0;
}

static void collect_go_heap(struct ms_target *t, const struct ms_maps *maps, struct ms_profile *p)
{
	struct goproc_heap_profile hp = {};
	/* as deep as the stacks the probes record; a deeper bucket is cut there */
	struct ms_frame frames[MS_MAX_STACK_DEPTH];

	int err = goproc__heap_profile(t->goproc, &heap_profile_opts, &hp);

	if (err) {
		const char *why = goproc__reason(t->goproc);

		p->go.heap_profile_reason = strdup(why && *why ? why : strerror(-err));
		goto out;
	}
	p->go.heap_profile = true;
	p->go.heap_profile_rate = hp.rate;
	for (size_t i = 0; i < hp.nr_buckets && i < GO_HEAP_STACKS_MAX; i++) {
		const struct goproc_heap_bucket *b = &hp.buckets[i];
		struct ms_stack tmpl = { .kind = MS_KIND_GO_INUSE, .stack_id = -1 };
		struct ms_figures f;
		uint32_t n = 0;

		go_bucket_figures(b, hp.rate, &f);
		tmpl.inuse_bytes = f.inuse_bytes;
		tmpl.inuse_count = f.inuse_count;
		for (; n < b->nr_frames && n < MS_MAX_STACK_DEPTH; n++) {
			const struct goproc_frame *gf = &b->frames[n];
			const struct ms_map *m = ms_maps__find(maps, gf->pc);

			memset(&frames[n], 0, sizeof(frames[n]));
			frames[n].addr = gf->pc;
			frames[n].func = (char *)gf->func;
			frames[n].file = (char *)gf->file;
			frames[n].line = gf->line;
			frames[n].inlined = gf->inlined;
			if (m) {
				frames[n].map_start = m->start;
				frames[n].map_end = m->end;
				frames[n].map_pgoff = m->pgoff;
				frames[n].module = m->path;
			}
		}
		if (!ms_profile__add_stack(p, &tmpl, frames, n))
			break;
	}
out:
	goproc_heap_profile__free(&hp);
}

/* Goroutines and heap statistics of a Go target, from its memory. */
static void collect_go(struct ms_session *s, struct ms_target *t, const struct ms_sampling *smp,
		       bool alive, struct ms_go_info *g)
{
	struct goproc_goroutines *gr = NULL;
	struct goproc_heap h = {};
	int err;

	g->present = true;
	snprintf(g->version, sizeof(g->version), "%s", t->go_version);
	g->probed = t->go_probed;
	g->runtime_sampler = t->go_mprof;
	g->rate_set = t->go_rate_set;
	g->sample_bytes = smp->go_bytes;
	if (!alive) {
		g->runtime_err = -ESRCH;
		g->runtime_reason = strdup("the process has exited");
		return;
	}
	if (!t->goproc) {
		t->goproc = goproc__open(t->pid);
		if (!t->goproc) {
			g->runtime_err = -errno;
			g->runtime_reason = strdup(strerror(errno));
			return;
		}
	}
	err = goproc__status(t->goproc);
	if (err) {
		g->runtime_err = err;
		g->runtime_reason = strdup(goproc__reason(t->goproc) ?: strerror(-err));
		return;
	}
	if (goproc__goroutines(t->goproc, NULL, &gr) == 0) {
		g->have_goroutines = true;
		g->goroutines = gr->user;
		g->by_state[0] = gr->user_by_state[GOPROC_G_RUNNING];
		g->by_state[1] = gr->user_by_state[GOPROC_G_RUNNABLE];
		g->by_state[2] = gr->user_by_state[GOPROC_G_WAITING];
		g->by_state[3] = gr->user_by_state[GOPROC_G_SYSCALL];
		g->by_state[4] = gr->user_by_state[GOPROC_G_OTHER];
		for (size_t i = 0; i < gr->nr_by_creator; i++)
			if (gr->by_creator[i].main_goroutine)
				g->main_goroutine = gr->by_creator[i].count - gr->by_creator[i].system;
		for (size_t i = 0; i < gr->nr_by_creator; i++) {
			const struct goproc_group *src = &gr->by_creator[i];
			struct ms_go_group *dst = &g->groups[g->ngroups];

			if (src->count == src->system)
				continue;	/* the runtime's own goroutines */
			if (g->ngroups == MS_GO_GROUPS_MAX) {
				g->unlisted_sites++;
				g->unlisted_goroutines += src->count - src->system;
				continue;
			}
			dst->func = src->func ? strdup(src->func) : NULL;
			dst->file = src->file ? strdup(src->file) : NULL;
			dst->start_func = src->start_func ? strdup(src->start_func) : NULL;
			dst->line = src->line;
			dst->pc = src->pc;
			dst->main_goroutine = src->main_goroutine;
			dst->count = src->count - src->system;
			dst->running = src->user_by_state[GOPROC_G_RUNNING];
			dst->runnable = src->user_by_state[GOPROC_G_RUNNABLE];
			dst->waiting = src->user_by_state[GOPROC_G_WAITING];
			dst->syscall = src->user_by_state[GOPROC_G_SYSCALL];
			dst->wait_reason = src->top_wait_reason_str ? strdup(src->top_wait_reason_str) :
					   NULL;
			g->ngroups++;
		}
		goproc_goroutines__free(gr);
	} else {
		g->goroutines_reason = strdup(goproc__reason(t->goproc));
	}
	if (goproc__heap(t->goproc, &h) != 0) {
		g->heap_reason = strdup(goproc__reason(t->goproc));
	} else {
		g->have_heap = true;
		g->heap_alloc = h.heap_alloc;
		g->heap_inuse = h.heap_inuse;
		g->heap_idle = h.heap_idle;
		g->heap_released = h.heap_released;
		g->heap_sys = h.heap_sys;
		g->stack_inuse = h.stack_inuse;
		g->sys = h.sys;
		g->next_gc = h.next_gc;
		g->have_sys = h.valid & GOPROC_HEAP_SYS;
		g->have_next_gc = h.valid & GOPROC_HEAP_NEXT_GC;
		g->next_gc_reason = h.next_gc_why;
		g->live_after_last_gc = h.live_after_last_gc;
		g->have_live_after_last_gc = h.valid & GOPROC_HEAP_LIVE;
		g->live_after_last_gc_reason = h.live_why;
		g->num_gc = h.num_gc;
	}
}

/*
 * After an exec, the new image's allocator is probed only if it is a file
 * probed at attach (the kernel filters the probes by the process, so they
 * come back when the same file is mapped again). The path of the first
 * mapped ELF that defines malloc and was not probed, or NULL: its
 * allocations are not seen at all.
 */
static char *unprobed_allocator(const struct ms_target *t, const struct ms_maps *maps)
{
	for (size_t i = 0; i < maps->n; i++) {
		const struct ms_map *m = &maps->v[i];
		bool probed = false, defines = false;
		uint64_t vaddr, size;
		struct ms_elf *elf;
		char *path;

		if (!m->path || m->path[0] != '/' || m->perms[2] != 'x')
			continue;
		for (size_t j = 0; j < t->nmodules; j++)
			probed |= t->modules[j].inode == m->inode &&
				  t->modules[j].dev_major == m->dev_major &&
				  t->modules[j].dev_minor == m->dev_minor;
		if (probed)
			continue;
		path = ms_map__open_path(t->pid, m);
		elf = path ? ms_elf__open(path) : NULL;
		defines = elf && ms_elf__find_func(elf, "malloc", &vaddr, &size) == 0;
		ms_elf__close(elf);
		free(path);
		if (defines)
			return strdup(m->path);
	}
	return NULL;
}

int ms_collect__profile(struct ms_session *s, struct ms_target *t, struct symcache *cache,
			const struct ms_collect_opts *opts, struct ms_profile **ret)
{
	struct ms_collect_opts o = opts ? *opts : (struct ms_collect_opts){};
	struct ms_frame frames[MAX_FRAMES];
	uint64_t ips[MS_MAX_STACK_DEPTH];
	struct ms_maps fresh = {};
	const struct ms_maps *maps = &t->maps;
	struct aggs a = {};
	struct buildid_cache bc = { .n = 0 };
	struct ms_profile *p;
	struct ms_sampling smp;
	struct timespec now;
	uint32_t gen;
	bool alive;
	int err;

	ms_collect__sampling(s, t, &smp);
	p = ms_profile__new(t->pid);
	if (!p)
		return -ENOMEM;
	memcpy(p->comm, t->comm, sizeof(p->comm));
	p->exe = t->exe ? strdup(t->exe) : NULL;
	p->start_time_ticks = t->start_ticks;
	p->duration_ns = o.duration_ns;
	alive = ms_target__alive(t);
	p->exited = !alive;
	/* an exec gave the process a new image and generation: report that one */
	if (alive && ms_session__current_gen(s, t, &gen) && gen != t->gen) {
		p->execed = true;
		t->gen = gen;
		ms_target__read_names(t);
		memcpy(p->comm, t->comm, sizeof(p->comm));
		free(p->exe);
		p->exe = t->exe ? strdup(t->exe) : NULL;
	}
	if (alive && procfs__read_status("/proc", t->pid, &p->status) == 0)
		p->have_status = true;
	p->cgroup_err = alive ? cgroup__read_live(t->pid, &p->cgroup) : -ESRCH;
	if (p->cgroup && opts->host_root) {
		struct ms_container c;

		p->in_pod = !container__from_cgroup_path(p->cgroup->path, &c) && c.pod_uid[0];
		if (p->in_pod)
			p->pod_err = podinfo__read(opts->host_root, &c, &p->pod);
	}
	/* libraries dlopen'ed since attach are only in a fresh copy */
	if (alive && procfs__read_maps("/proc", t->pid, &fresh) == 0)
		maps = &fresh;
	if (p->execed && maps == &fresh && !t->usdt && t->nmodules)
		p->exec_unprobed = unprobed_allocator(t, maps);
	ms_collect__counters(s, &p->loss);
	p->have_lost = ms_session__lost(s, t->pid, &p->lost) == 0;
	/* of the samples only when sampled: no estimate of the whole */
	p->have_heap_peak = !smp.c_bytes && !t->usdt &&
			    ms_session__heap_peak(s, t->pid, &p->heap_peak_bytes) == 0;
	p->loss.probes_at_risk = alive && ms_session__probes_at_risk(s, t);
	p->c_sample_bytes = smp.c_bytes;
	p->fault_pages = ms_session__fault_pages(s, t->usdt ? t->sampler_mean : 0);
	p->sampler_usdt = t->usdt;
	p->have_sampler_dropped = t->usdt && alive && t->sampler_dropped_addr &&
				  sampler__read_word(t->pid, t->sampler_dropped_addr,
						     &p->sampler_dropped) == 0;
	p->dwarf = t->dwarf;
	p->unwind_reason = t->dwarf_why ? strdup(t->dwarf_why) : NULL;
	{
		struct ms_rss r;

		struct ms_proc_stats ps;

		if (ms_session__procstats(s, t->pid, &ps) == 0) {
			p->have_procstats = true;
			p->threads = ps.threads;
			p->threads_created = ps.threads_created;
			p->kmem = ms_session__kmem(s);
			p->kmem_inuse = ps.kmem_inuse;
			p->kmem_allocs = ps.kmem_allocs;
			p->kmem_frees = ps.kmem_frees;
		}
		p->thp = ms_thp_mode("/sys");
		if (ms_session__rss(s, t->pid, &r) == 0) {
			p->have_rss_events = true;
			p->rss_peak_bytes = (uint64_t)(r.peak_pages > 0 ? r.peak_pages : 0) * 4096;
			p->rss_peak_ns = r.peak_ns;
			p->rss_updates = r.updates;
			p->rss_batched = !ms_kfeatures()->has[MS_KF_RSS_PERCPU];
		}
	}

	err = read_aggs(s, t->pid, t->gen, &a);
	if (err)
		goto out;
	if (t->usdt)
		p->sampler_pending_err = alive ? apply_pending_frees(s, t, &a, &p->sampler_pending) :
					 -ESRCH;
	if (!o.no_ages)
		read_ages(s, ms_session__live_fd(s), t->pid, t->gen, &a);
	clock_gettime(CLOCK_MONOTONIC, &now);

	for (size_t i = 0; i < a.n; i++) {
		struct agg *g = &a.v[i];
		struct ms_figures f;
		struct ms_stack tmpl = { .kind = g->k.kind, .stack_id = g->k.stack_id };
		uint32_t n = 0, nips;

		ms_figures__of_key(&g->k, &g->v, &smp, &f);
		if (g->k.period > 1 && g->k.period != smp.c_bytes)
			p->c_other_means = true;
		tmpl.alloc_bytes = f.alloc_bytes;
		tmpl.alloc_count = f.alloc_count;
		tmpl.free_bytes = f.free_bytes;
		tmpl.free_count = f.free_count;
		tmpl.usable = f.usable;
		if (g->oldest_ts) {
			uint64_t now_ns = now.tv_sec * 1000000000ull + now.tv_nsec;

			tmpl.oldest_ns = now_ns > g->oldest_ts ? now_ns - g->oldest_ts : 0;
		}
		nips = ms_session__stack_frames(s, g->k.tgid, g->k.stack_id, ips, MS_MAX_STACK_DEPTH);
		for (uint32_t j = sampler_frames(t, maps, ips, nips); j < nips && n < MAX_FRAMES; j++) {
			bool exact = j == 0 && (g->k.kind == MS_KIND_GO || g->k.kind == MS_KIND_FAULT);
			uint32_t k = symbolize_frames(cache, &bc, t, alive, maps, ips[j], exact,
						      &frames[n], MAX_FRAMES - n);

			if (!k) {
				p->stacks_cut++;
				break;
			}
			n += k;
		}
		if (!ms_profile__add_stack(p, &tmpl, frames, n)) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (t->gobin) {
		collect_go(s, t, &smp, alive, &p->go);
		if (t->goproc && !p->go.runtime_err)
			collect_go_heap(t, maps, p);
	}
	ms_profile__finalize(p);
out:
	buildid_cache_free(&bc);
	free(a.v);
	ms_maps__free(&fresh);
	if (err) {
		ms_profile__free(p);
		return err;
	}
	*ret = p;
	return 0;
}
