// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * snapshot.c - what memsightd knows of each watched process between
 * requests: every snapshot_interval, one walk of the aggregate table gives
 * each process its totals and growth points, /proc its status, a Go
 * runtime its goroutines and heap; the metrics model is built from them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_int.h"
#include "common/array.h"
#include "common/log.h"
#include "export/cgroup_view.h"
#include "export/metrics.h"
#include "model/collect.h"

/* Why a Go process has no goroutine figures (the sample not taken yet, or why it failed). */
const char *snapshot__go_unavailable(const struct watched *w)
{
	return w->go_reason[0] ? w->go_reason : "not sampled yet (the first snapshot is pending)";
}

const char *snapshot__go_heap_unavailable(const struct watched *w)
{
	return w->go_heap_reason[0] ? w->go_heap_reason :
	       "not sampled yet (the first snapshot is pending)";
}

/* One sample of goroutines by creation site into w->gosites. */
static void go_sites_sample(pid_t pid, struct watched *w, const struct goproc_goroutines *gr,
			    uint64_t now, uint64_t window)
{
	struct gosite_sample *v = calloc(gr->nr_by_creator ?: 1, sizeof(*v));
	size_t n = 0;

	/* without the groups, every goroutine is in "other": counted, not dropped */
	for (size_t i = 0; v && i < gr->nr_by_creator; i++) {
		const struct goproc_group *g = &gr->by_creator[i];

		if (g->count <= g->system)
			continue;	/* the runtime's own goroutines */
		v[n++] = (struct gosite_sample){ .pc = g->pc, .func = g->func, .file = g->file,
						 .line = g->line, .count = g->count - g->system };
	}
	if (gosites__add(&w->gosites, now, window, v, n, gr->user))
		pr_debug("PID %d: a sample of goroutines by site was not recorded\n", pid);
	free(v);
}

/*
 * Goroutines (by creation site) and Go heap for ps, top and /metrics: reads,
 * no probes. What cannot be read is said in w->go_reason, never left stale.
 */
/* why a goproc query that returned err failed ("" if it did not) */
static void go_reason_of(struct goproc *gp, int err, char *buf, size_t len)
{
	const char *why = err ? goproc__reason(gp) : "";

	snprintf(buf, len, "%s", !err ? "" : *why ? why : strerror(-err));
}

static void go_snapshot(struct ms_target *t, struct watched *w, uint64_t now, uint64_t window)
{
	struct goproc_opts o = { .max_groups = GO_SITE_GROUPS };
	struct goproc_goroutines *gr = NULL;
	int err;

	w->have_goroutines = false;
	w->have_go_heap = false;
	w->go_heap_reason[0] = 0;
	if (!t->goproc)
		t->goproc = goproc__open(t->pid);
	if (!t->goproc) {
		snprintf(w->go_reason, sizeof(w->go_reason), "cannot read the Go runtime: %s",
			 strerror(errno));
		snprintf(w->go_heap_reason, sizeof(w->go_heap_reason), "%s", w->go_reason);
		return;
	}
	err = goproc__status(t->goproc);
	if (!err) {
		err = goproc__heap(t->goproc, &w->go_heap);
		w->have_go_heap = !err;
		go_reason_of(t->goproc, err, w->go_heap_reason, sizeof(w->go_heap_reason));
		err = goproc__goroutines(t->goproc, &o, &gr);
	}
	go_reason_of(t->goproc, err, w->go_reason, sizeof(w->go_reason));
	if (err) {
		if (!w->have_go_heap && !w->go_heap_reason[0])
			snprintf(w->go_heap_reason, sizeof(w->go_heap_reason), "%s", w->go_reason);
		return;
	}
	w->have_goroutines = true;
	w->goroutines = gr->user;
	go_sites_sample(t->pid, w, gr, now, window);
	goproc_goroutines__free(gr);
}

/*
 * The pod of the Kubernetes container the cgroup names: read once per
 * container (a container's pod never changes), again after a failure (the
 * runtime may not have written its state yet).
 */
static void read_pod(struct daemon *d, struct watched *w)
{
	struct ms_container c;

	if (!w->cgroup || container__from_cgroup_path(w->cgroup->path, &c) || !c.pod_uid[0]) {
		w->pod_for[0] = '\0';
		return;
	}
	if (!strcmp(w->pod_for, c.id) && !w->pod_err)
		return;
	w->pod_err = podinfo__read(d->cfg.host_root, &c, &w->pod);
	snprintf(w->pod_for, sizeof(w->pod_for), "%s", c.id);
}

struct snap_acc {
	struct growth_point *v;
	size_t n, cap;
	struct ms_sampling smp;
	struct ms_figures total;
};

/*
 * One walk of the aggregate table gives every watched process its totals
 * (and, for a snapshot, its growth points) and /proc its status: in ts[] and
 * acc[], n of them. 0 or -errno (the table could not be read).
 */
static int read_totals(struct daemon *d, struct ms_target **ts, struct snap_acc *acc,
		       unsigned int n, bool points)
{
	struct ms_aggs all = {};
	unsigned int i = 0;
	int err;

	for (struct ms_target *t = ms_session__targets(d->s); t && i < n; t = t->next) {
		ms_collect__sampling(d->s, t, &acc[i].smp);
		ts[i++] = t;
	}
	err = ms_session__read_aggs(d->s, 0, &all);
	if (err)
		return err;
	for (size_t e = 0; e < all.n; e++) {
		const struct ms_agg_key *k = &all.v[e].k;
		const struct ms_agg_val *v = &all.v[e].v;

		for (i = 0; i < n; i++) {
			struct snap_acc *a = &acc[i];
			struct ms_figures f;

			if (ts[i]->pid != (pid_t)k->tgid || ts[i]->gen != k->gen)
				continue;
			ms_figures__of_key(k, v, &a->smp, &f);
			ms_figures__add(&a->total, k->kind, &f);
			if (!points)
				break;
			if (ms_array_grow(a->v, &a->cap, a->n, 64))
				break;
			a->v[a->n++] = (struct growth_point){
				.stack_id = k->stack_id,
				.kind = k->kind,
				.inuse_bytes = f.inuse_bytes,
			};
			break;
		}
	}
	ms_aggs__free(&all);
	for (i = 0; i < n; i++) {
		struct watched *w = W(ts[i]);
		int serr = procfs__read_status("/proc", ts[i]->pid, &w->status);
		struct ms_figures go;

		/* a Go heap in use is counted as top counts it: the runtime's profile */
		if (ts[i]->gobin && !ts[i]->goproc)
			ts[i]->goproc = goproc__open(ts[i]->pid);
		if (ts[i]->gobin && ms_collect__go_heap(ts[i], &go) == 0)
			ms_figures__add(&acc[i].total, MS_KIND_GO_INUSE, &go);

		w->inuse_bytes = acc[i].total.inuse_bytes;
		w->inuse_count = acc[i].total.inuse_count;
		w->alloc_bytes = acc[i].total.alloc_bytes;
		w->alloc_count = acc[i].total.alloc_count;
		w->usable = acc[i].total.usable;
		w->have_totals = true;
		w->have_status = !serr;
		free(w->cgroup);
		w->cgroup_err = cgroup__read_live(ts[i]->pid, &w->cgroup);
		read_pod(d, w);
		if (serr)
			snprintf(w->status_reason, sizeof(w->status_reason),
				 "cannot read /proc/%d/status: %s", ts[i]->pid, strerror(-serr));
	}
	return 0;
}

/* Every watched process's totals and status read now (for `ps`). */
int snapshot__refresh(struct daemon *d)
{
	unsigned int n = watch__count(d);
	struct ms_target **ts;
	struct snap_acc *acc;
	int err = -ENOMEM;

	if (!n)
		return 0;
	ts = calloc(n, sizeof(*ts));
	acc = calloc(n, sizeof(*acc));
	if (ts && acc)
		err = read_totals(d, ts, acc, n, false);
	free(acc);
	free(ts);
	return err;
}

/* Totals, status and growth points of every watched process; Go runtimes. */
void snapshot__take(struct daemon *d, uint64_t now)
{
	uint64_t window = growth_window_ns(d);
	unsigned int n = watch__count(d), i;
	struct ms_target **ts;
	struct snap_acc *acc;

	if (!n)
		return;
	ts = calloc(n, sizeof(*ts));
	acc = calloc(n, sizeof(*acc));
	if (!ts || !acc || read_totals(d, ts, acc, n, true))
		goto out;
	for (i = 0; i < n; i++) {
		struct watched *w = W(ts[i]);

		growth__add(&w->growth, now, acc[i].v, acc[i].n);
		growth__trim(&w->growth, now, window);
		if (ts[i]->gobin)
			go_snapshot(ts[i], w, now, window);
		recorder__note(w);
	}
out:
	for (i = 0; acc && i < n; i++)
		free(acc[i].v);
	free(acc);
	/*
	 * A process whose exit event was lost (ring buffer full) is found
	 * here: same PID and start time, or it is gone. Its data goes too.
	 */
	for (i = 0; ts && i < n; i++) {
		if (ts[i] && !ms_target__alive(ts[i])) {
			d->exits_missed++;
			watch__remove(d, ts[i], "exited (its exit event was lost)");
		}
	}
	free(ts);
}

/* Why a process has no heap totals or status yet (or any more). */
const char *snapshot__totals_unavailable(const struct watched *w)
{
	return "not read yet (the first snapshot is pending)";
}

const char *snapshot__status_unavailable(const struct watched *w)
{
	return w->status_reason[0] ? w->status_reason :
	       "not read yet (the first snapshot is pending)";
}

/* Growth of the whole process over the window into *ret; false while unknown. */
bool snapshot__growth(const struct watched *w, uint64_t now, uint64_t window, double *ret)
{
	if (w->growth.count < 2)
		return false;
	*ret = growth__total_slope(&w->growth, now, window);
	return true;
}

/*
 * The profile of a watched process now, with the growth of each stack over
 * the growth window when two snapshots have been taken.
 */
struct ms_profile *snapshot__profile(struct daemon *d, struct ms_target *t, bool growth,
				     bool no_ages)
{
	uint64_t now = now_ns(), window = growth_window_ns(d);
	struct ms_collect_opts co = { .duration_ns = now - W(t)->attached_ns, .no_ages = no_ages };
	struct ms_profile *p;

	if (ms_collect__profile(d->s, t, d->cache, &co, &p))
		return NULL;
	/* the pod the snapshots read once per container */
	p->in_pod = W(t)->pod_for[0];
	p->pod = W(t)->pod;
	p->pod_err = W(t)->pod_err;
	if (snapshot__growth(W(t), now, window, &p->total_growth_per_min)) {
		p->have_growth = true;
		p->growth_window_s = growth__span_s(&W(t)->growth, now, window);
		for (size_t i = 0; i < p->nstacks; i++)
			p->stacks[i].growth_per_min = growth__row_slope(&W(t)->growth,
									&p->stacks[i], now, window);
		if (growth)
			ms_profile__sort_by_growth(p);
	}
	return p;
}

/* ---- the metrics model ---------------------------------------------------------- */

/* The innermost frame with a name: what a dashboard can show for a stack. */
static void stack_label(const struct ms_stack *st, char *buf, size_t len)
{
	for (uint32_t i = 0; i < st->nframes; i++) {
		if (st->frames[i].func) {
			snprintf(buf, len, "%s", st->frames[i].func);
			return;
		}
	}
	if (st->nframes && st->frames[0].module) {
		const char *b = strrchr(st->frames[0].module, '/');

		snprintf(buf, len, "%s+0x%" PRIx64, b ? b + 1 : st->frames[0].module,
			 st->frames[0].addr - st->frames[0].map_start + st->frames[0].map_pgoff);
		return;
	}
	snprintf(buf, len, "[unknown]");
}

static void top_stacks(struct daemon *d, struct ms_target *t, struct metrics_proc *mp)
{
	uint32_t k = metrics_server__top_stacks(d->metrics);
	struct ms_profile *p;

	if (!k)
		return;
	p = snapshot__profile(d, t, false, true);
	if (!p)
		return;
	for (size_t i = 0; i < p->nstacks && mp->nstacks < k; i++) {
		const struct ms_stack *st = &p->stacks[i];
		struct metrics_stack *ms = &mp->stacks[mp->nstacks];

		if (!st->inuse_bytes)
			break;	/* sorted by in-use bytes: the rest hold nothing */
		stack_label(st, ms->frame, sizeof(ms->frame));
		ms->inuse_bytes = st->inuse_bytes;
		ms->growth_per_min = st->growth_per_min;
		mp->nstacks++;
	}
	ms_profile__free(p);
}

/* The sites with the most goroutines get series of their own; the rest are "other". */
static void go_sites_metrics(const struct watched *w, uint64_t window, struct metrics_proc *mp)
{
	struct gosite_rank top[METRICS_GO_SITES];
	uint64_t rest;
	size_t n;

	if (!w->have_goroutines) {
		snprintf(mp->go_unavailable, sizeof(mp->go_unavailable), "%s", snapshot__go_unavailable(w));
		return;
	}
	mp->have_go_growth = gosites__total_rate(&w->gosites, window, &mp->go_growth_per_min);
	n = gosites__top(&w->gosites, window, METRICS_GO_SITES, top, &rest);
	for (size_t i = 0; i < n; i++) {
		struct metrics_go_site *ms = &mp->go_sites[mp->ngo_sites++];

		gosites__label(top[i].site, ms->site, sizeof(ms->site));
		ms->count = top[i].count;
		ms->have_rate = top[i].have_rate;
		ms->per_min = top[i].per_min;
	}
	if (rest) {
		struct metrics_go_site *ms = &mp->go_sites[mp->ngo_sites++];

		gosites__label(NULL, ms->site, sizeof(ms->site));
		ms->count = rest;
	}
}

void snapshot__publish(struct daemon *d)
{
	struct ms_loss loss = {};
	struct ms_map_usage mu = {};
	struct metrics_snapshot *m;
	uint64_t now = now_ns(), window = growth_window_ns(d);
	unsigned int i = 0;

	if (!d->metrics)
		return;
	m = metrics_snapshot__new(watch__count(d));
	if (!m)
		return;
	ms_collect__counters(d->s, &loss);
	ms_session__map_usage(d->s, &mu);
	m->loss = loss;
	m->maps = mu;
	m->attach_errors = d->attach_errors;
	m->oom_incidents = d->incidents_saved;
	for (struct ms_target *t = ms_session__targets(d->s); t; t = t->next, i++) {
		struct watched *w = W(t);
		struct metrics_proc *p = &m->procs[i];
		const char *why;

		p->pid = t->pid;
		snprintf(p->comm, sizeof(p->comm), "%s", t->comm);
		p->inuse_bytes = w->inuse_bytes;
		p->inuse_count = w->inuse_count;
		p->alloc_bytes = w->alloc_bytes;
		p->alloc_count = w->alloc_count;
		why = ms_usable__unavailable(MS_KIND_MALLOC, &w->usable);
		p->have_usable = !why;
		p->inuse_usable_bytes = w->usable.inuse_bytes;
		snprintf(p->usable_unavailable, sizeof(p->usable_unavailable), "%s", why ?: "");
		p->have_status = w->have_status;
		p->status = w->status;
		p->have_cgroup = w->cgroup != NULL;
		if (w->cgroup) {
			p->cgroup = *w->cgroup;
			p->have_container = !container__from_cgroup_path(w->cgroup->path,
									 &p->container);
			p->have_pod = w->pod_for[0] && !w->pod_err;
			if (p->have_pod)
				p->pod = w->pod;
		} else
			snprintf(p->cgroup_unavailable, sizeof(p->cgroup_unavailable), "%s",
				 cgroup_view__unavailable(w->cgroup_err));
		p->have_growth = snapshot__growth(w, now, window, &p->growth_per_min);
		p->have_lost = ms_session__lost(d->s, t->pid, &p->lost) == 0;
		p->have_goroutines = w->have_goroutines;
		p->goroutines = w->goroutines;
		p->have_go_heap = w->have_go_heap;
		p->go_heap_alloc = w->go_heap.heap_alloc;
		p->go_heap_live = w->go_heap.live_after_last_gc;
		p->have_go_heap_live = w->go_heap.valid & GOPROC_HEAP_LIVE;
		if (!w->have_go_heap)
			snprintf(p->go_heap_unavailable, sizeof(p->go_heap_unavailable), "%s",
				 snapshot__go_heap_unavailable(w));
		p->go_heap_inuse = w->go_heap.heap_inuse;
		p->go_heap_idle = w->go_heap.heap_idle;
		p->go_heap_released = w->go_heap.heap_released;
		p->go_next_gc = w->go_heap.next_gc;
		p->have_go_next_gc = w->go_heap.valid & GOPROC_HEAP_NEXT_GC;
		p->go_num_gc = w->go_heap.num_gc;
		p->is_go = t->gobin;
		if (p->is_go)
			go_sites_metrics(w, window, p);
		top_stacks(d, t, p);
	}
	m->nprocs = i;
	metrics_server__publish(d->metrics, m);
	pprof_serve__publish(d);
}
