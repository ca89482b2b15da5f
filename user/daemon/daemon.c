// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * daemon.c - memsightd's event loop.
 *
 * One thread owns everything: the BPF session, the watched processes, the
 * control socket clients. epoll waits on
 *   - a signalfd (SIGTERM/SIGINT stop, SIGHUP reloads the rules),
 *   - the listening control socket and its clients (nonblocking, one
 *     request line at a time, bounded buffers, idle clients dropped),
 *   - the BPF ring buffer (exec/exit of processes),
 *   - a 100 ms timerfd (pending attaches, snapshots, watchdog, timeouts).
 * Nothing in here blocks on a client: a slow or hostile client costs its
 * own connection only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "model/collect.h"
#include "ctl/ctl_proto.h"
#include "daemon/daemon.h"
#include "export/flamegraph.h"
#include "export/folded.h"
#include "target/goproc.h"
#include "model/gosites.h"
#include "model/growth.h"
#include "daemon/incidents.h"
#include "common/json.h"
#include "bpf/kernel.h"
#include "common/log.h"
#include "export/metrics.h"
#include "export/pprof.h"
#include "target/procfs.h"
#include "export/report.h"
#include "daemon/rules.h"
#include "daemon/sdnotify.h"
#include "bpf/session.h"
#include "target/symbolize.h"

#define TICK_MS			100
#define CLIENT_MAX		64	/* connections at once */
#define CLIENT_IDLE_NS		(10ull * 1000000000)	/* a stalled client is dropped */
#define CLIENT_OUT_MAX		(256u << 20)	/* largest response we buffer */
#define PENDING_MAX		256	/* processes waiting for their allocator to be mapped */
#define PENDING_TRIES		13	/* retries 2 ms, 4 ms, ... ~8 s in total */
#define REASON_LEN		(MS_RULE_LINE_MAX + 16)
#define RSS_HISTORY		240	/* snapshots kept per process for incidents */
#define GO_SITE_GROUPS		1024	/* creation sites a goroutine walk groups; the rest
					 * count in gosites' "other" bucket */
#define GO_SITES_TEXT		10	/* creation sites `top --growth` prints */

enum src_type { SRC_SIGNAL, SRC_LISTEN, SRC_CLIENT, SRC_RING, SRC_TIMER, SRC_PENDING,
		SRC_USTACK };

struct src {
	enum src_type type;
};

struct client {
	struct src src;
	int fd;
	pid_t pid;
	uid_t uid;
	uint64_t last_ns;
	struct ctl_linebuf lb;
	char *out;		/* response bytes not yet written */
	size_t out_len, out_off;
	bool closing;		/* close once out is written */
	bool refused;		/* not allowed: its first request gets the reason */
	struct client *next;
};

/* Per watched process: hangs off ms_target.user. */
struct watched {
	char reason[REASON_LEN];	/* "pid" or the rule that matched */
	uint64_t attached_ns;
	struct growth growth;
	struct ms_proc_status status;
	bool have_status;
	uint64_t inuse_bytes, inuse_count, alloc_bytes, alloc_count;
	bool have_goroutines;
	uint64_t goroutines;
	char go_reason[GOPROC_REASON_LEN + 64];	/* a Go process: why no goroutines */
	char go_heap_reason[GOPROC_REASON_LEN + 64];	/* ... and why no heap figures */
	struct gosites gosites;		/* goroutines by creation site over time */
	bool have_go_heap;
	struct goproc_heap go_heap;
	/* RSS history for the flight recorder: one point per snapshot */
	struct { int64_t t; uint64_t rss, anon, heap; } hist[RSS_HISTORY];
	uint32_t hist_head, hist_n;
	bool incident_saved;
};

struct pending {
	pid_t pid;
	uint64_t start_ticks;
	char reason[REASON_LEN];
	unsigned int tries;
	uint64_t next_ns;
	struct pending *next;
};

struct daemon {
	struct daemon_opts opts;
	struct ms_config cfg;
	struct ms_session *s;
	struct symcache *cache;
	struct metrics_server *metrics;
	struct incidents *incidents;	/* NULL: flight recorder off (dir not writable) */
	uint64_t incidents_saved;
	int ep, sigfd, lfd, tfd, pfd;
	struct src sig_src, listen_src, ring_src, timer_src, pending_src, ustack_src;
	struct ring_buffer *rb;
	struct client *clients;
	unsigned int nclients;
	struct pending *pending;
	unsigned int npending;
	gid_t sock_gid;
	bool have_sock_gid;
	bool stop;
	bool listen_paused;	/* at CLIENT_MAX: new clients wait in the backlog */
	uint64_t next_snapshot_ns, next_watchdog_ns, watchdog_ns;
	/* self statistics */
	uint64_t attach_errors, exec_events, exit_events, requests, bad_requests;
	uint64_t refused_clients, dropped_clients, pending_dropped, exits_missed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static struct watched *W(struct ms_target *t)
{
	return t->user;
}

/* ---- watched processes -------------------------------------------------- */

static unsigned int nwatched(struct daemon *d)
{
	unsigned int n = 0;

	for (struct ms_target *t = ms_session__targets(d->s); t; t = t->next)
		n++;
	return n;
}

static int watch(struct daemon *d, pid_t pid, const char *reason, char *err, size_t errlen)
{
	struct ms_target *t;
	struct watched *w;
	int ret;

	if (ms_session__find(d->s, pid)) {
		snprintf(err, errlen, "PID %d is already watched", pid);
		return -EALREADY;
	}
	if (nwatched(d) >= d->cfg.max_processes) {
		snprintf(err, errlen, "already watching %u processes (max_processes)",
			 d->cfg.max_processes);
		return -ENOSPC;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	ret = ms_session__attach(d->s, pid, &t, err, errlen);
	if (ret) {
		free(w);
		return ret;
	}
	snprintf(w->reason, sizeof(w->reason), "%s", reason);
	w->attached_ns = now_ns();
	growth__init(&w->growth);
	gosites__init(&w->gosites);
	t->user = w;
	pr_info("watching PID %d (%s) [%s]\n", pid, t->comm, reason);
	return 0;
}

static void unwatch(struct daemon *d, struct ms_target *t, const char *why)
{
	struct watched *w = W(t);

	pr_info("no longer watching PID %d (%s): %s\n", t->pid, t->comm, why);
	ms_session__detach(d->s, t);
	if (w) {
		growth__free(&w->growth);
		gosites__free(&w->gosites);
		free(w);
	}
}

static void pending_arm(struct daemon *d);

static bool pending_has(struct daemon *d, pid_t pid)
{
	for (struct pending *p = d->pending; p; p = p->next)
		if (p->pid == pid)
			return true;
	return false;
}

/* Attach soon: a process just exec'd has not mapped its libc yet. */
static void pending_add(struct daemon *d, pid_t pid, const char *reason)
{
	struct pending *p;

	if (pending_has(d, pid) || ms_session__find(d->s, pid))
		return;
	if (d->npending >= PENDING_MAX) {
		d->pending_dropped++;
		return;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return;
	p->pid = pid;
	if (procfs__read_start_time("/proc", pid, &p->start_ticks)) {
		free(p);
		return;
	}
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
	p->next_ns = now_ns();
	p->next = d->pending;
	d->pending = p;
	d->npending++;
	pending_arm(d);
}

/* The pending timer fires at the earliest retry: finer than the 100 ms tick. */
static void pending_arm(struct daemon *d)
{
	struct itimerspec its = {};
	uint64_t first = UINT64_MAX;

	for (struct pending *p = d->pending; p; p = p->next)
		if (p->next_ns < first)
			first = p->next_ns;
	if (first != UINT64_MAX) {
		its.it_value.tv_sec = first / 1000000000;
		its.it_value.tv_nsec = first % 1000000000;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(d->pfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void pending_run(struct daemon *d, uint64_t now)
{
	struct pending **pp = &d->pending;

	while (*pp) {
		struct pending *p = *pp;
		char err[512];
		uint64_t ticks;
		int ret;
		bool done = true;

		if (p->next_ns > now) {
			pp = &p->next;
			continue;
		}
		if (procfs__read_start_time("/proc", p->pid, &ticks) || ticks != p->start_ticks) {
			/* gone, or its PID already reused */
		} else {
			ret = watch(d, p->pid, p->reason, err, sizeof(err));
			if (ret == -ENOENT && ++p->tries < PENDING_TRIES) {
				/* no allocator mapped yet: ld.so is still at work */
				p->next_ns = now + (1000000ull << p->tries);
				done = false;
			} else if (ret && ret != -EALREADY) {
				d->attach_errors++;
				pr_warn("cannot watch PID %d [%s]: %s\n", p->pid, p->reason, err);
			}
		}
		if (!done) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		d->npending--;
		free(p);
	}
	pending_arm(d);
}

static void read_exe(pid_t pid, char *buf, size_t len)
{
	if (procfs__read_exe("/proc", pid, buf, len))
		buf[0] = 0;
}

/* Does a rule want this process? Fills reason with the rule. */
static bool rules_want(struct daemon *d, pid_t pid, const char *comm_hint, char *reason,
		       size_t len)
{
	char comm[MS_COMM_LEN + 1] = "", exe[4096], cg[4096];
	ssize_t i;

	if (!d->cfg.rules.n)
		return false;
	if (comm_hint)
		snprintf(comm, sizeof(comm), "%s", comm_hint);
	else if (procfs__read_comm("/proc", pid, comm, sizeof(comm)))
		return false;
	read_exe(pid, exe, sizeof(exe));
	if (procfs_cgroup_path("/proc", pid, cg, sizeof(cg)))
		cg[0] = 0;
	i = rules__first_match(&d->cfg.rules, comm, exe, cg);
	if (i < 0 || d->cfg.rules.v[i].action != MS_RULE_INCLUDE)
		return false;
	rules__format(&d->cfg.rules.v[i], reason, len);
	return true;
}

/* Look at every running process once: rules apply to those started before too. */
static void scan_processes(struct daemon *d)
{
	char reason[REASON_LEN];
	struct dirent *de;
	DIR *dir;

	if (!d->cfg.rules.n)
		return;
	dir = opendir("/proc");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (ms_session__find(d->s, pid) || pending_has(d, pid))
			continue;
		if (rules_want(d, pid, NULL, reason, sizeof(reason)))
			pending_add(d, pid, reason);
	}
	closedir(dir);
}

static void update_notify_exec(struct daemon *d)
{
	ms_session__notify_exec(d->s, d->cfg.rules.n > 0);
}

/* ---- flight recorder --------------------------------------------------------- */

static struct ms_profile *profile_of(struct daemon *d, struct ms_target *t, bool growth,
				     bool no_ages);

/*
 * Keep what we know of a process the kernel is killing: its last profile,
 * its RSS history and why. Written at OOM victim selection (the process is
 * still there) or at a SIGKILL exit (its data is still in the maps).
 */
static void record_incident(struct daemon *d, struct ms_target *t, const char *why)
{
	struct watched *w = W(t);
	struct report_opts ro = { .top_n = 20, .max_frames = 32 };
	struct json_writer *jw;
	struct ms_profile *p;
	char *buf = NULL, id[128];
	size_t len = 0;
	FILE *f;
	time_t now = time(NULL);
	int err;

	if (!d->incidents || w->incident_saved)
		return;
	w->incident_saved = true;
	p = profile_of(d, t, false, true);
	f = open_memstream(&buf, &len);
	if (!f) {
		ms_profile__free(p);
		return;
	}
	jw = jw__new(f);
	if (jw) {
		jw__start_object(jw);
		/* comm and pid first: listings read only the head of a record */
		jw__kv_string(jw, "comm", t->comm);
		jw__kv_int(jw, "pid", t->pid);
		jw__kv_string(jw, "reason", why);
		jw__kv_int(jw, "time", now);
		jw__kv_string(jw, "exe", t->exe);
		jw__kv_string(jw, "watched_because", w->reason);
		jw__name(jw, "rss_history");
		jw__start_array(jw);
		for (uint32_t i = 0; i < w->hist_n; i++) {
			uint32_t k = (w->hist_head + i) % RSS_HISTORY;

			jw__start_object(jw);
			jw__kv_int(jw, "time", w->hist[k].t);
			jw__kv_uint(jw, "rss_bytes", w->hist[k].rss);
			jw__kv_uint(jw, "anon_bytes", w->hist[k].anon);
			jw__kv_uint(jw, "heap_inuse_bytes", w->hist[k].heap);
			jw__end_object(jw);
		}
		jw__end_array(jw);
		jw__name(jw, "profile");
		if (p)
			report__json_value(p, &ro, jw);
		else
			jw__null(jw);
		jw__end_object(jw);
		jw__finish(jw);
		jw__free(jw);
	}
	ms_profile__free(p);
	if (fclose(f)) {
		free(buf);
		return;
	}
	err = incidents__save(d->incidents, buf, len, now, t->pid, id, sizeof(id));
	if (err) {
		pr_warn("cannot record the incident of PID %d: %s\n", t->pid, strerror(-err));
	} else {
		d->incidents_saved++;
		pr_warn("PID %d (%s) %s: recorded incident %s\n", t->pid, t->comm, why, id);
	}
	free(buf);
}

/* ---- BPF events ---------------------------------------------------------- */

static int on_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	const struct ms_event *e = data;
	char reason[REASON_LEN], comm[sizeof(e->comm) + 1];
	struct ms_target *t;

	if (size < sizeof(*e))
		return 0;
	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = 0;
	t = ms_session__find(d->s, e->pid);
	if (e->type == MS_EV_OOM_VICTIM) {
		if (t)
			record_incident(d, t, "oom-kill");
		return 0;
	}
	if (e->type == MS_EV_EXIT) {
		d->exit_events++;
		if (t && (e->exit_code & 0x7f) == SIGKILL)
			record_incident(d, t, "killed by SIGKILL");
		if (t)
			unwatch(d, t, "process exited");
		return 0;
	}
	if (e->type != MS_EV_EXEC)
		return 0;
	d->exec_events++;
	if (t) {
		/*
		 * A new program in the same process: other libraries, other
		 * symbols. Start over with it, keeping why it is watched.
		 */
		snprintf(reason, sizeof(reason), "%s", W(t)->reason);
		unwatch(d, t, "process exec'd a new program");
		if (!strcmp(reason, "pid") || rules_want(d, e->pid, comm, reason, sizeof(reason)))
			pending_add(d, e->pid, reason);
		return 0;
	}
	if (rules_want(d, e->pid, comm, reason, sizeof(reason))) {
		pending_add(d, e->pid, reason);
		/* a static binary is ready now; others are retried in ms steps */
		pending_run(d, now_ns());
	}
	return 0;
}

/* ---- snapshots ------------------------------------------------------------- */

/* Why a Go process has no goroutine figures (the sample not taken yet, or why it failed). */
static const char *go_unavailable(const struct watched *w)
{
	return w->go_reason[0] ? w->go_reason : "not sampled yet (the first snapshot is pending)";
}

static const char *go_heap_unavailable(const struct watched *w)
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

struct snap_acc {
	struct growth_point *v;
	size_t n, cap;
	struct ms_sampling smp;
	struct ms_figures total;
};

/* One walk of the aggregate table feeds every watched process's snapshot. */
static void snapshot(struct daemon *d, uint64_t now)
{
	uint64_t window = d->cfg.growth_window_s * 1000000000ull;
	unsigned int n = nwatched(d), i = 0;
	struct ms_aggs all = {};
	struct ms_target **ts;
	struct snap_acc *acc;

	if (!n)
		return;
	ts = calloc(n, sizeof(*ts));
	acc = calloc(n, sizeof(*acc));
	if (!ts || !acc)
		goto out;
	for (struct ms_target *t = ms_session__targets(d->s); t && i < n; t = t->next) {
		ms_collect__sampling(d->s, t, &acc[i].smp);
		ts[i++] = t;
	}
	if (ms_session__read_aggs(d->s, 0, &all))
		goto out;
	for (size_t e = 0; e < all.n; e++) {
		const struct ms_agg_key *k = &all.v[e].k;
		const struct ms_agg_val *v = &all.v[e].v;

		for (i = 0; i < n; i++) {
			struct snap_acc *a = &acc[i];
			struct ms_figures f;

			if (ts[i]->pid != (pid_t)k->tgid || ts[i]->gen != k->gen)
				continue;
			if (a->n == a->cap) {
				size_t cap = a->cap ? a->cap * 2 : 64;
				struct growth_point *nv = realloc(a->v, cap * sizeof(*nv));

				if (!nv)
					break;
				a->v = nv;
				a->cap = cap;
			}
			ms_figures__of_agg(k->kind, v, &a->smp, &f);
			a->v[a->n++] = (struct growth_point){
				.stack_id = k->stack_id,
				.kind = k->kind,
				.inuse_bytes = f.inuse_bytes,
			};
			ms_figures__add(&a->total, k->kind, &f);
			break;
		}
	}
	for (i = 0; i < n; i++) {
		struct watched *w = W(ts[i]);
		uint64_t total = acc[i].total.inuse_bytes;

		w->inuse_bytes = total;
		w->inuse_count = acc[i].total.inuse_count;
		w->alloc_bytes = acc[i].total.alloc_bytes;
		w->alloc_count = acc[i].total.alloc_count;
		growth__add(&w->growth, now, acc[i].v, acc[i].n);
		growth__trim(&w->growth, now, window);
		w->have_status = procfs__read_status("/proc", ts[i]->pid, &w->status) == 0;
		if (ts[i]->gobin)
			go_snapshot(ts[i], w, now, window);
		if (w->have_status) {
			uint32_t k = (w->hist_head + w->hist_n) % RSS_HISTORY;

			w->hist[k].t = time(NULL);
			w->hist[k].rss = w->status.vm_rss_kb * 1024;
			w->hist[k].anon = w->status.rss_anon_kb * 1024;
			w->hist[k].heap = total;
			if (w->hist_n < RSS_HISTORY)
				w->hist_n++;
			else
				w->hist_head = (w->hist_head + 1) % RSS_HISTORY;
		}
	}
out:
	ms_aggs__free(&all);
	for (i = 0; acc && i < n; i++)
		free(acc[i].v);
	free(acc);
	/*
	 * A process whose exit event was lost (ring buffer full) is found
	 * here: same PID and start time, or it is gone. Its data goes too.
	 */
	for (i = 0; ts && i < n; i++) {
		if (!ms_target__alive(ts[i])) {
			d->exits_missed++;
			unwatch(d, ts[i], "exited (its exit event was lost)");
		}
	}
	free(ts);
}

/* ---- metrics ---------------------------------------------------------------- */

static struct ms_profile *profile_of(struct daemon *d, struct ms_target *t, bool growth,
				     bool no_ages);

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
	p = profile_of(d, t, false, true);
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
		snprintf(mp->go_unavailable, sizeof(mp->go_unavailable), "%s", go_unavailable(w));
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

static void publish_metrics(struct daemon *d)
{
	struct ms_loss loss = {};
	struct ms_map_usage mu = {};
	struct metrics_snapshot *m;
	uint64_t now = now_ns(), window = d->cfg.growth_window_s * 1000000000ull;
	unsigned int i = 0;

	if (!d->metrics)
		return;
	m = metrics_snapshot__new(nwatched(d));
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

		p->pid = t->pid;
		snprintf(p->comm, sizeof(p->comm), "%s", t->comm);
		p->inuse_bytes = w->inuse_bytes;
		p->inuse_count = w->inuse_count;
		p->alloc_bytes = w->alloc_bytes;
		p->alloc_count = w->alloc_count;
		p->have_status = w->have_status;
		p->status = w->status;
		p->growth_per_min = growth__total_slope(&w->growth, now, window);
		p->have_goroutines = w->have_goroutines;
		p->goroutines = w->goroutines;
		p->have_go_heap = w->have_go_heap;
		p->go_heap_alloc = w->go_heap.heap_alloc;
		p->go_heap_live = w->go_heap.live_after_last_gc;
		p->have_go_heap_live = w->go_heap.valid & GOPROC_HEAP_LIVE;
		if (!w->have_go_heap)
			snprintf(p->go_heap_unavailable, sizeof(p->go_heap_unavailable), "%s",
				 go_heap_unavailable(w));
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
}

/* ---- requests ------------------------------------------------------------------ */

/* A response is built in memory, then written out as the socket allows. */
struct reply {
	char *buf;
	size_t len;
	FILE *f;
};

static int reply_open(struct reply *r)
{
	r->buf = NULL;
	r->len = 0;
	r->f = open_memstream(&r->buf, &r->len);
	return r->f ? 0 : -errno;
}

static void reply_error(struct reply *r, enum ctl_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_error(struct reply *r, enum ctl_errcode code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl__write_error(r->f, code, msg);
}

static const char *sel_key(enum ctl_selector sel, enum ms_rule_key *ret)
{
	switch (sel) {
	case CTL_SEL_COMM:
		*ret = MS_RULE_COMM;
		return "comm";
	case CTL_SEL_EXE:
		*ret = MS_RULE_EXE;
		return "exe";
	case CTL_SEL_CGROUP:
		*ret = MS_RULE_CGROUP;
		return "cgroup";
	default:
		return NULL;
	}
}

static void req_attach(struct daemon *d, const struct ctl_request *q, struct reply *r)
{
	struct json_writer *w;
	enum ms_rule_key key;
	char err[512], line[REASON_LEN];
	int ret;

	if (q->sel == CTL_SEL_PID) {
		ret = watch(d, q->pid, "pid", err, sizeof(err));
		if (ret) {
			d->attach_errors++;
			reply_error(r, CTL_E_ATTACH_FAILED, "%s", err);
			return;
		}
		if (ctl__ok_begin(r->f, &w) == 0) {
			struct ms_target *t = ms_session__find(d->s, q->pid);

			jw__kv_int(w, "pid", q->pid);
			jw__kv_string(w, "comm", t->comm);
			ctl__ok_end(w);
		}
		return;
	}
	if (!sel_key(q->sel, &key)) {
		reply_error(r, CTL_E_BAD_REQUEST, "attach needs pid=, comm=, exe= or cgroup=");
		return;
	}
	/* an explicit request goes before the configured rules: it wins */
	ret = rules__insert(&d->cfg.rules, 0, MS_RULE_INCLUDE, key, q->sel_value, err, sizeof(err));
	if (ret) {
		reply_error(r, CTL_E_ATTACH_FAILED, "%s", err);
		return;
	}
	update_notify_exec(d);
	scan_processes(d);
	pending_run(d, now_ns());
	rules__format(&d->cfg.rules.v[0], line, sizeof(line));
	if (ctl__ok_begin(r->f, &w) == 0) {
		jw__kv_string(w, "rule", line);
		jw__name(w, "watching");
		jw__start_array(w);
		for (struct ms_target *t = ms_session__targets(d->s); t; t = t->next)
			if (!strcmp(W(t)->reason, line))
				jw__int(w, t->pid);
		jw__end_array(w);
		ctl__ok_end(w);
	}
}

static void req_detach(struct daemon *d, const struct ctl_request *q, struct reply *r)
{
	struct json_writer *w;
	struct ms_target *t, *next;
	enum ms_rule_key key;
	char line[REASON_LEN];
	struct ms_rule rule;
	unsigned int n = 0;

	if (q->sel == CTL_SEL_PID) {
		t = ms_session__find(d->s, q->pid);
		if (!t) {
			reply_error(r, CTL_E_NOT_WATCHED, "PID %d is not watched", q->pid);
			return;
		}
		unwatch(d, t, "detach requested");
		ctl__write_ok(r->f);
		return;
	}
	if (!sel_key(q->sel, &key)) {
		reply_error(r, CTL_E_BAD_REQUEST, "detach needs pid=, comm=, exe= or cgroup=");
		return;
	}
	rule = (struct ms_rule){ .action = MS_RULE_INCLUDE, .key = key,
				 .pattern = (char *)q->sel_value };
	rules__format(&rule, line, sizeof(line));
	if (rules__remove(&d->cfg.rules, MS_RULE_INCLUDE, key, q->sel_value) < 0) {
		reply_error(r, CTL_E_NO_RULE, "no rule '%s'", line);
		return;
	}
	update_notify_exec(d);
	for (t = ms_session__targets(d->s); t; t = next) {
		next = t->next;
		if (!strcmp(W(t)->reason, line)) {
			unwatch(d, t, "its rule was removed");
			n++;
		}
	}
	if (ctl__ok_begin(r->f, &w) == 0) {
		jw__kv_string(w, "removed", line);
		jw__kv_uint(w, "detached", n);
		ctl__ok_end(w);
	}
}

static void go_site_json(const struct gosite_rank *r, const struct gosites *gs,
			 struct json_writer *w)
{
	char label[GOSITES_LABEL_MAX];

	gosites__label(r->site, label, sizeof(label));
	jw__start_object(w);
	jw__kv_string(w, "site", label);
	if (r->site) {
		jw__kv_string(w, "func", r->site->func);
		jw__kv_string(w, "file", r->site->file);
		jw__kv_int(w, "line", r->site->line);
	} else {
		jw__kv_bool(w, "other", true);
		jw__kv_uint(w, "sites", gs->other_sites);
	}
	jw__kv_uint(w, "count", r->count);
	jw__name(w, "growth_per_min");
	if (r->have_rate)
		jw__double(w, r->per_min);
	else
		jw__null(w);
	jw__name(w, "growth_span_s");
	jw__double(w, r->span_s);
	jw__end_object(w);
}

/*
 * Goroutine growth of a Go process as JSON members: the whole process's, and
 * either the top growing site (ps) or every site ranked by growth (top).
 */
static void go_growth_json(const struct watched *ww, uint64_t window, bool all_sites,
			   struct json_writer *w)
{
	const struct gosites *gs = &ww->gosites;
	struct gosite_rank rank[GOSITES_MAX + 1];
	size_t n;
	double rate;

	if (!ww->have_goroutines) {
		jw__kv_string(w, "goroutines_unavailable", go_unavailable(ww));
		return;
	}
	jw__name(w, "goroutines_growth_per_min");
	if (gosites__total_rate(gs, window, &rate)) {
		jw__double(w, rate);
	} else {
		jw__null(w);
		jw__kv_string(w, "goroutines_growth_unavailable",
			      "fewer than two samples in the growth window yet");
	}
	n = gosites__rank(gs, window, GOSITES_BY_GROWTH, rank);
	if (!all_sites) {
		jw__name(w, "goroutines_top_growing_site");
		if (n && rank[0].have_rate && rank[0].per_min > 0)
			go_site_json(&rank[0], gs, w);
		else
			jw__null(w);
		return;
	}
	jw__name(w, "goroutine_sites_window_s");
	jw__double(w, growth__span_s(&gs->growth, gs->last_ns, window));
	jw__kv_uint(w, "goroutine_sites_tracked_max", GOSITES_MAX);
	jw__kv_uint(w, "goroutine_sites_replaced", gs->replaced);
	jw__name(w, "goroutine_sites");
	jw__start_array(w);
	for (size_t i = 0; i < n; i++)
		go_site_json(&rank[i], gs, w);
	jw__end_array(w);
}

static void req_ps(struct daemon *d, struct reply *r)
{
	uint64_t now = now_ns(), window = d->cfg.growth_window_s * 1000000000ull;
	struct ms_loss loss = {};
	struct json_writer *w;

	ms_collect__counters(d->s, &loss);
	if (ctl__ok_begin(r->f, &w))
		return;
	jw__name(w, "processes");
	jw__start_array(w);
	for (struct ms_target *t = ms_session__targets(d->s); t; t = t->next) {
		struct watched *ww = W(t);

		jw__start_object(w);
		jw__kv_int(w, "pid", t->pid);
		jw__kv_string(w, "comm", t->comm);
		jw__kv_string(w, "exe", t->exe);
		jw__kv_string(w, "reason", ww->reason);
		jw__name(w, "watched_s");
		jw__double(w, (now - ww->attached_ns) / 1e9);
		jw__kv_uint(w, "heap_inuse_bytes", ww->inuse_bytes);
		jw__kv_uint(w, "heap_inuse_count", ww->inuse_count);
		jw__kv_uint(w, "alloc_bytes", ww->alloc_bytes);
		jw__kv_uint(w, "alloc_count", ww->alloc_count);
		if (ww->have_status) {
			jw__kv_uint(w, "rss_bytes", ww->status.vm_rss_kb * 1024);
			jw__kv_uint(w, "rss_anon_bytes", ww->status.rss_anon_kb * 1024);
			jw__kv_uint(w, "rss_file_bytes", ww->status.rss_file_kb * 1024);
			jw__kv_uint(w, "rss_shmem_bytes", ww->status.rss_shmem_kb * 1024);
			jw__kv_uint(w, "peak_rss_bytes", ww->status.vm_hwm_kb * 1024);
			jw__kv_uint(w, "threads", ww->status.threads);
		}
		jw__name(w, "goroutines");
		if (ww->have_goroutines)
			jw__uint(w, ww->goroutines);
		else
			jw__null(w);
		if (t->gobin) {
			jw__kv_string(w, "go_version", t->go_version);
			go_growth_json(ww, window, false, w);
		}
		if (ww->have_go_heap) {
			jw__kv_uint(w, "go_heap_alloc_bytes", ww->go_heap.heap_alloc);
			jw__kv_uint(w, "go_heap_inuse_bytes", ww->go_heap.heap_inuse);
			jw__kv_uint(w, "go_heap_idle_bytes", ww->go_heap.heap_idle);
			jw__kv_uint(w, "go_heap_released_bytes", ww->go_heap.heap_released);
			if (ww->go_heap.valid & GOPROC_HEAP_LIVE)
				jw__kv_uint(w, "go_heap_live_after_last_gc_bytes",
					    ww->go_heap.live_after_last_gc);
			else
				jw__kv_string(w, "go_heap_live_after_last_gc_unavailable",
					      ww->go_heap.live_why ?: "unknown reason");
		} else if (t->gobin) {
			jw__kv_string(w, "go_heap_unavailable", go_heap_unavailable(ww));
		}
		jw__name(w, "growth_bytes_per_min");
		jw__double(w, growth__total_slope(&ww->growth, now, window));
		jw__end_object(w);
	}
	jw__end_array(w);
	jw__kv_bool(w, "lower_bound", ms_loss__lower_bound(&loss));
	ctl__ok_end(w);
}

static struct ms_profile *profile_of(struct daemon *d, struct ms_target *t, bool growth,
				     bool no_ages)
{
	uint64_t now = now_ns(), window = d->cfg.growth_window_s * 1000000000ull;
	struct ms_collect_opts co = { .duration_ns = now - W(t)->attached_ns, .no_ages = no_ages };
	struct ms_profile *p;

	if (ms_collect__profile(d->s, t, d->cache, &co, &p))
		return NULL;
	if (W(t)->growth.count >= 2) {
		p->have_growth = true;
		p->growth_window_s = growth__span_s(&W(t)->growth, now, window);
		p->total_growth_per_min = growth__total_slope(&W(t)->growth, now, window);
		for (size_t i = 0; i < p->nstacks; i++)
			p->stacks[i].growth_per_min = growth__row_slope(&W(t)->growth,
									&p->stacks[i], now, window);
		if (growth)
			ms_profile__sort_by_growth(p);
	}
	return p;
}

/* `top --growth` of a Go process, text: its creation sites ranked by growth. */
static void go_sites_text(const struct watched *ww, uint64_t window, FILE *f)
{
	const struct gosites *gs = &ww->gosites;
	struct gosite_rank rank[GOSITES_MAX + 1];
	char label[GOSITES_LABEL_MAX];
	size_t n;
	double rate;

	if (!ww->have_goroutines) {
		fprintf(f, "\ngoroutines by creation site: unavailable: %s\n", go_unavailable(ww));
		return;
	}
	if (gosites__total_rate(gs, window, &rate))
		fprintf(f, "\ngoroutines: %" PRIu64 " now, %+.1f/min over the last %.0f s; creation "
			"sites ranked by growth:\n", gs->total, rate,
			growth__span_s(&gs->growth, gs->last_ns, window));
	else
		fprintf(f, "\ngoroutines: %" PRIu64 " now, growth not known yet (needs two samples); "
			"creation sites by count:\n", gs->total);
	n = gosites__rank(gs, window, GOSITES_BY_GROWTH, rank);
	fprintf(f, "  %14s %10s  %s\n", "GOROUTINES/MIN", "NOW", "CREATED AT");
	for (size_t i = 0; i < n && i < GO_SITES_TEXT; i++) {
		char r[32] = "?";

		if (rank[i].have_rate)
			snprintf(r, sizeof(r), "%+.1f", rank[i].per_min);
		gosites__label(rank[i].site, label, sizeof(label));
		fprintf(f, "  %14s %10" PRIu64 "  %s", r, rank[i].count, label);
		if (!rank[i].site && gs->other_sites)
			fprintf(f, " (%u sites: beyond the %u tracked one by one per process)",
				gs->other_sites, GOSITES_MAX);
		else if (!rank[i].site)
			fprintf(f, " (not grouped by site: beyond the %u sites a sample groups)",
				GO_SITE_GROUPS);
		fputc('\n', f);
	}
	if (n > GO_SITES_TEXT)
		fprintf(f, "  ... %zu more sites (--json lists all)\n", n - GO_SITES_TEXT);
}

/* top and dump: render a profile into a payload. */
static void req_report(struct daemon *d, const struct ctl_request *q, struct reply *r)
{
	struct report_opts ro = { .top_n = q->n, .max_frames = q->frames, .growth = q->growth };
	enum folded_value fv = (enum folded_value)q->value;
	enum ctl_format fmt = q->format;
	struct ms_target *t = ms_session__find(d->s, q->pid);
	uint64_t window = d->cfg.growth_window_s * 1000000000ull;
	bool go_sites = t && q->verb == CTL_TOP && q->growth && t->gobin;
	struct ms_profile *p;
	char *buf = NULL, title[128];
	size_t len = 0;
	FILE *f;
	int err = 0;

	if (!t) {
		reply_error(r, CTL_E_NOT_WATCHED, "PID %d is not watched (memsight attach %d)",
			    q->pid, q->pid);
		return;
	}
	if (q->verb == CTL_TOP && fmt == CTL_FMT_NONE)
		fmt = CTL_FMT_JSON;
	if (q->verb == CTL_DUMP)
		ro.top_n = 0;
	p = profile_of(d, t, q->growth, false);
	if (!p) {
		reply_error(r, CTL_E_FAILED, "cannot read the data of PID %d", q->pid);
		return;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		ms_profile__free(p);
		reply_error(r, CTL_E_FAILED, "out of memory");
		return;
	}
	switch (fmt) {
	case CTL_FMT_TEXT:
		report__text(p, &ro, f);
		if (go_sites)
			go_sites_text(W(t), window, f);
		break;
	case CTL_FMT_JSON: {
		struct json_writer *w = jw__new(f);

		if (!w) {
			err = -ENOMEM;
			break;
		}
		jw__start_object(w);
		report__json_members(p, &ro, w);
		if (go_sites)
			go_growth_json(W(t), window, true, w);
		jw__end_object(w);
		err = jw__finish(w);
		jw__free(w);
		break;
	}
	case CTL_FMT_PPROF:
		err = pprof__write(p, f);
		break;
	case CTL_FMT_FOLDED:
		err = folded__write(p, fv, f);
		break;
	case CTL_FMT_SVG:
		snprintf(title, sizeof(title), "memsight: %s, PID %d (%s)", folded__value_name(fv),
			 p->pid, p->comm);
		err = flamegraph__write_svg(p, fv, title, f);
		break;
	default:
		err = -EINVAL;
	}
	ms_profile__free(p);
	if (fclose(f) && !err)
		err = -EIO;
	if (err) {
		reply_error(r, CTL_E_FAILED, "cannot render the report: %s", strerror(-err));
	} else {
		ctl__write_payload_header(r->f, len);
		fwrite(buf, 1, len, r->f);
	}
	free(buf);
}

static void req_rules(struct daemon *d, struct reply *r)
{
	struct json_writer *w;
	char line[REASON_LEN];

	if (ctl__ok_begin(r->f, &w))
		return;
	jw__name(w, "rules");
	jw__start_array(w);
	for (size_t i = 0; i < d->cfg.rules.n; i++) {
		rules__format(&d->cfg.rules.v[i], line, sizeof(line));
		jw__string(w, line);
	}
	jw__end_array(w);
	ctl__ok_end(w);
}

static uint64_t self_rss_kb(void)
{
	struct ms_proc_status st;

	return procfs__read_status("/proc", getpid(), &st) ? 0 : st.vm_rss_kb;
}

static void req_stats(struct daemon *d, struct reply *r)
{
	struct ms_loss l = {};
	struct ms_map_usage mu = {};
	struct symcache_stats ss = {};
	struct json_writer *w;

	ms_collect__counters(d->s, &l);
	ms_session__map_usage(d->s, &mu);
	symcache__stats(d->cache, &ss);
	if (ctl__ok_begin(r->f, &w))
		return;
	jw__kv_uint(w, "watched", nwatched(d));
	jw__kv_uint(w, "pending", d->npending);
	jw__kv_uint(w, "clients", d->nclients);
	jw__kv_uint(w, "rss_bytes", self_rss_kb() * 1024);
	jw__kv_bool(w, "uprobe_multi", ms_session__multi(d->s));
	jw__kv_bool(w, "uprobe_sessions", ms_session__sessions(d->s));
	{
		char miss[512];

		/* what this kernel lacks (memsight version says what each costs) */
		ms_kfeatures__summary(ms_kfeatures(), miss, sizeof(miss));
		jw__kv_string(w, "kernel_lacks", miss);
	}
	jw__kv_string(w, "scope", d->opts.system_scope ? "system" : "process");
	jw__kv_uint(w, "allocs", l.alloc_events);
	jw__kv_uint(w, "frees", l.free_events);
	jw__kv_uint(w, "frees_untracked", l.free_unknown);
	jw__kv_uint(w, "stack_errors", l.stack_errors);
	jw__kv_uint(w, "stack_collisions", l.stack_collisions);
	jw__kv_uint(w, "stack_table_full", l.stack_table_full);
	jw__kv_uint(w, "stack_quota", l.stack_quota);
	jw__kv_uint(w, "live_table_full", l.live_full);
	jw__kv_uint(w, "aggregate_table_full", l.agg_full);
	jw__kv_uint(w, "inflight_full", l.inflight_full);
	jw__kv_uint(w, "events_lost", l.events_lost);
	jw__kv_uint(w, "dwarf_stacks", l.ustack_samples);
	jw__kv_uint(w, "dwarf_stacks_lost", l.ustack_lost);
	jw__kv_uint(w, "dwarf_stacks_lost_ring_full", l.ustack_ring_full);
	jw__kv_uint(w, "dwarf_stacks_over_rate", l.ustack_rate);
	jw__kv_uint(w, "process_table_full", l.proc_table_full);
	{
		struct ms_ustack_stats us;

		ms_session__ustack_stats(d->s, &us);
		jw__kv_uint(w, "dwarf_frames", us.unwound_frames);
		jw__kv_uint(w, "dwarf_unwound_stacks", us.stacks);
		jw__kv_uint(w, "dwarf_live_samples", us.bindings);
		jw__kv_uint(w, "dwarf_unstored", us.unbound);
	}
	jw__kv_uint(w, "exec_events", d->exec_events);
	jw__kv_uint(w, "exit_events", d->exit_events);
	jw__kv_uint(w, "attach_errors", d->attach_errors);
	jw__kv_uint(w, "requests", d->requests);
	jw__kv_uint(w, "bad_requests", d->bad_requests);
	jw__kv_uint(w, "refused_clients", d->refused_clients);
	jw__kv_uint(w, "dropped_clients", d->dropped_clients);
	jw__kv_uint(w, "pending_dropped", d->pending_dropped);
	jw__kv_uint(w, "incidents_recorded", d->incidents_saved);
	jw__kv_uint(w, "exits_found_by_snapshot", d->exits_missed);
	jw__name(w, "maps");
	jw__start_object(w);
	jw__kv_uint(w, "live", mu.live);
	jw__kv_uint(w, "live_max", mu.live_max);
	jw__kv_uint(w, "aggregates", mu.aggs);
	jw__kv_uint(w, "aggregates_max", mu.aggs_max);
	jw__kv_uint(w, "stacks", mu.stacks);
	jw__kv_uint(w, "stacks_max", mu.stacks_max);
	jw__kv_uint(w, "pids", mu.pids);
	jw__kv_uint(w, "pids_max", mu.pids_max);
	jw__end_object(w);
	jw__name(w, "symbols");
	jw__start_object(w);
	jw__kv_uint(w, "modules", ss.modules);
	jw__kv_uint(w, "lookups", ss.lookups);
	jw__kv_uint(w, "hits", ss.hits);
	jw__end_object(w);
	ctl__ok_end(w);
}

static int reload_rules(struct daemon *d, char *err, size_t errlen)
{
	struct ms_config fresh;
	int ret;

	if (!d->opts.config_path) {
		snprintf(err, errlen, "no configuration file to reload");
		return -ENOENT;
	}
	ret = config__load(d->opts.config_path, &fresh, err, errlen);
	if (ret)
		return ret;	/* keep the running rules */
	/* only the rules take effect on reload; other settings need a restart */
	rules__free(&d->cfg.rules);
	d->cfg.rules = fresh.rules;
	memset(&fresh.rules, 0, sizeof(fresh.rules));
	config__free(&fresh);
	update_notify_exec(d);
	scan_processes(d);
	pr_info("reloaded %zu rules from %s\n", d->cfg.rules.n, d->opts.config_path);
	return 0;
}

static void handle_request(struct daemon *d, struct client *c, const char *line, size_t len)
{
	struct ctl_request q;
	struct reply r;
	char err[CTL_ERR_MAX];

	d->requests++;
	if (reply_open(&r))
		goto oom;
	if (c->refused) {
		reply_error(&r, CTL_E_DENIED,
			    "permission denied: memsightd serves root and the socket's group only");
		c->closing = true;
	} else if (ctl__parse_request(line, len, &q, err, sizeof(err))) {
		d->bad_requests++;
		reply_error(&r, CTL_E_BAD_REQUEST, "bad request: %s", err);
	} else {
		switch (q.verb) {
		case CTL_PING:
			ctl__write_ok(r.f);
			break;
		case CTL_ATTACH:
			req_attach(d, &q, &r);
			break;
		case CTL_DETACH:
			req_detach(d, &q, &r);
			break;
		case CTL_PS:
			req_ps(d, &r);
			break;
		case CTL_TOP:
		case CTL_DUMP:
			req_report(d, &q, &r);
			break;
		case CTL_RULES:
			req_rules(d, &r);
			break;
		case CTL_STATS:
			req_stats(d, &r);
			break;
		case CTL_RELOAD: {
			char e[512];

			if (reload_rules(d, e, sizeof(e)))
				reply_error(&r, CTL_E_FAILED, "reload failed, old rules kept: %s", e);
			else
				ctl__write_ok(r.f);
			break;
		}
		default:
			reply_error(&r, CTL_E_UNSUPPORTED, "unsupported request");
		}
	}
	if (fclose(r.f)) {
		free(r.buf);
		goto oom;
	}
	if (c->out_len - c->out_off + r.len > CLIENT_OUT_MAX) {
		free(r.buf);
		c->closing = true;
		return;
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = r.buf;
		c->out_len = r.len;
		c->out_off = 0;
	} else {
		char *nb = realloc(c->out, c->out_len + r.len);

		if (!nb) {
			free(r.buf);
			c->closing = true;
			return;
		}
		memcpy(nb + c->out_len, r.buf, r.len);
		c->out = nb;
		c->out_len += r.len;
		free(r.buf);
	}
	return;
oom:
	c->closing = true;
}

/* ---- clients ------------------------------------------------------------------------ */

static void client_close(struct daemon *d, struct client *c)
{
	struct client **pp;

	for (pp = &d->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
	d->nclients--;
	if (d->listen_paused) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &d->listen_src };

		epoll_ctl(d->ep, EPOLL_CTL_ADD, d->lfd, &ev);
		d->listen_paused = false;
	}
}

/* Write what the socket takes; keep the rest for EPOLLOUT. false: client gone. */
static bool client_flush(struct daemon *d, struct client *c)
{
	struct epoll_event ev = { .data.ptr = &c->src };

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		c->out_off += n;
	}
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		if (c->closing)
			return false;
	}
	ev.events = EPOLLIN | EPOLLRDHUP | (c->out_len ? EPOLLOUT : 0);
	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev);
	return true;
}

static void client_input(struct daemon *d, struct client *c)
{
	char tmp[4096];
	ssize_t n;

	c->last_ns = now_ns();
	for (;;) {
		n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* hung up; a half-written request is simply dropped */
			if (!client_flush(d, c) || !c->out_len)
				client_close(d, c);
			return;
		}
		for (size_t off = 0; off < (size_t)n;) {
			const char *line;
			size_t len;
			int r;

			off += ctl_linebuf__feed(&c->lb, tmp + off, n - off);
			while ((r = ctl_linebuf__next(&c->lb, &line, &len)) == 1)
				handle_request(d, c, line, len);
			if (r < 0) {
				struct reply rep;

				d->bad_requests++;
				if (reply_open(&rep) == 0) {
					ctl__write_error(rep.f, CTL_E_BAD_REQUEST,
							 "request line too long (max 4096 bytes)");
					fclose(rep.f);
					free(c->out);
					c->out = rep.buf;
					c->out_len = rep.len;
					c->out_off = 0;
				}
				c->closing = true;
				if (!client_flush(d, c))
					client_close(d, c);
				return;
			}
			if (c->closing)
				break;
		}
		if (c->closing)
			break;
	}
	if (!client_flush(d, c))
		client_close(d, c);
}

/* root, or a member of the socket's group; everyone else is told no and dropped. */
static bool client_allowed(struct daemon *d, const struct ucred *cred)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	bool ok = false;
	FILE *f;

	if (cred->uid == 0)
		return true;
	if (!d->have_sock_gid)
		return false;
	if (cred->gid == d->sock_gid)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", cred->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!ok && getline(&line, &cap, f) > 0) {
		char *p, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (p = line + 7;; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if (g == d->sock_gid) {
				ok = true;
				break;
			}
		}
	}
	free(line);
	fclose(f);
	return ok;
}

static void accept_clients(struct daemon *d)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct client *c;
		int fd;

		if (d->nclients >= CLIENT_MAX) {
			/* backpressure: the rest wait in the listen backlog until a slot frees */
			epoll_ctl(d->ep, EPOLL_CTL_DEL, d->lfd, NULL);
			d->listen_paused = true;
			return;
		}

		fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->src.type = SRC_CLIENT;
		c->fd = fd;
		/* refused clients are read and answered, not cut off: closing with
		 * their request unread would reset the connection before they see why */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) || !client_allowed(d, &cred)) {
			d->refused_clients++;
			c->refused = true;
		}
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->last_ns = now_ns();
		ctl_linebuf__init(&c->lb);
		ev.data.ptr = &c->src;
		if (epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
		d->nclients++;
	}
}

static void drop_idle_clients(struct daemon *d, uint64_t now)
{
	struct client *c = d->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (now - c->last_ns > CLIENT_IDLE_NS) {
			d->dropped_clients++;
			client_close(d, c);
		}
	}
}

/* ---- setup ------------------------------------------------------------------------------ */

static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int open_socket(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.socket;
	struct group *gr;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	err = mkdir_parents(path, 0755);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a stale socket of a daemon that died: nobody listens there any more */
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, SOMAXCONN))
		goto fail;
	gr = d->cfg.socket_group[0] ? getgrnam(d->cfg.socket_group) : NULL;
	if (gr) {
		d->sock_gid = gr->gr_gid;
		d->have_sock_gid = true;
		if (chown(path, 0, gr->gr_gid))
			goto fail;
	}
	if (chmod(path, d->have_sock_gid ? 0660 : 0600))
		goto fail;
	d->lfd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

static int ep_add(struct daemon *d, int fd, struct src *src, enum src_type type)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	src->type = type;
	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int setup(struct daemon *d)
{
	struct ms_session_opts so = {
		.live_entries = d->cfg.live_entries,
		.stack_entries = d->cfg.stack_entries,
		.stacks_per_pid = d->cfg.stacks_per_process,
		.max_pids = d->cfg.max_processes,
		.no_multi = d->opts.legacy_links,
		.system_scope = d->opts.system_scope,
		.c_sample_bytes = d->opts.sample_bytes,
		.go_sample_bytes = d->opts.go_sample_bytes,
		.go_mallocgc = d->opts.go_mallocgc,
		.unwind = (enum ms_unwind)d->opts.unwind,
		.dwarf_rate = d->opts.dwarf_rate,
		.kmem = d->opts.kmem,
		.events_bytes = d->opts.events_bytes,
	};
	struct itimerspec its = { .it_interval = { .tv_nsec = TICK_MS * 1000000 },
				  .it_value = { .tv_nsec = TICK_MS * 1000000 } };
	char err[512];
	sigset_t set;
	int ret;

	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->ep < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0 || ep_add(d, d->sigfd, &d->sig_src, SRC_SIGNAL))
		return -errno;

	d->cache = symcache__new(NULL);
	if (!d->cache)
		return -errno;
	ret = ms_session__open(&so, &d->s, err, sizeof(err));
	if (ret) {
		pr_err("%s\n", err);
		return ret;
	}
	ret = ms_session__async_detach(d->s);
	if (ret)
		return ret;
	d->rb = ring_buffer__new(ms_session__events_fd(d->s), on_event, d, NULL);
	if (!d->rb)
		return -errno;
	ret = ep_add(d, ring_buffer__epoll_fd(d->rb), &d->ring_src, SRC_RING);
	if (ret)
		return ret;
	/* copied stacks are unwound as they come, so their ring never fills */
	ret = ep_add(d, ms_session__ustack_fd(d->s), &d->ustack_src, SRC_USTACK);
	if (ret)
		return ret;

	ret = open_socket(d);
	if (ret) {
		pr_err("cannot listen on %s: %s\n", d->cfg.socket, strerror(-ret));
		return ret;
	}
	ret = ep_add(d, d->lfd, &d->listen_src, SRC_LISTEN);
	if (ret)
		return ret;

	d->pfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->pfd < 0 || ep_add(d, d->pfd, &d->pending_src, SRC_PENDING))
		return -errno;
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->tfd < 0 || timerfd_settime(d->tfd, 0, &its, NULL) ||
	    ep_add(d, d->tfd, &d->timer_src, SRC_TIMER))
		return -errno;

	if (d->cfg.metrics_enabled) {
		ret = metrics_server__start(d->cfg.metrics_host, d->cfg.metrics_port,
					    d->cfg.top_stacks, &d->metrics, err, sizeof(err));
		if (ret) {
			pr_err("cannot serve metrics: %s\n", err);
			return ret;
		}
		pr_info("metrics on http://%s:%u/metrics\n", d->cfg.metrics_host,
			d->cfg.metrics_port);
	}
	ret = incidents__open(d->cfg.incidents_dir, d->cfg.incidents_max_count,
			      d->cfg.incidents_max_bytes, &d->incidents);
	if (ret) {
		pr_warn("flight recorder off: cannot use %s: %s\n", d->cfg.incidents_dir,
			strerror(-ret));
		d->incidents = NULL;
	}
	d->watchdog_ns = sdnotify__watchdog_usec() * 1000 / 2;
	update_notify_exec(d);
	scan_processes(d);
	return 0;
}

static void teardown(struct daemon *d)
{
	while (d->clients)
		client_close(d, d->clients);
	while (d->pending) {
		struct pending *p = d->pending;

		d->pending = p->next;
		free(p);
	}
	if (d->s) {
		struct ms_target *t;

		while ((t = ms_session__targets(d->s)))
			unwatch(d, t, "memsightd stopping");
	}
	metrics_server__stop(d->metrics);
	incidents__close(d->incidents);
	ring_buffer__free(d->rb);
	ms_session__close(d->s);
	symcache__free(d->cache);
	if (d->lfd > 0) {
		close(d->lfd);
		unlink(d->cfg.socket);
	}
	if (d->tfd > 0)
		close(d->tfd);
	if (d->pfd > 0)
		close(d->pfd);
	if (d->sigfd > 0)
		close(d->sigfd);
	if (d->ep > 0)
		close(d->ep);
	config__free(&d->cfg);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	char err[512];

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			sdnotify__send("RELOADING=1");
			if (reload_rules(d, err, sizeof(err)))
				pr_warn("reload failed, old rules kept: %s\n", err);
			sdnotify__send("READY=1");
		} else {
			d->stop = true;
		}
	}
}

static void on_tick(struct daemon *d)
{
	uint64_t exp, now = now_ns();

	while (read(d->tfd, &exp, sizeof(exp)) > 0)
		;
	if (now >= d->next_snapshot_ns) {
		snapshot(d, now);
		publish_metrics(d);
		d->next_snapshot_ns = now + d->cfg.snapshot_interval_s * 1000000000ull;
	}
	drop_idle_clients(d, now);
	if (d->watchdog_ns && now >= d->next_watchdog_ns) {
		sdnotify__send("WATCHDOG=1");
		d->next_watchdog_ns = now + d->watchdog_ns;
	}
}

int daemon__run(const struct daemon_opts *opts)
{
	struct daemon d = { .opts = *opts, .ep = -1, .sigfd = -1, .lfd = -1, .tfd = -1, .pfd = -1 };
	struct epoll_event evs[32];
	char err[1024];
	int ret;

	if (opts->config_path) {
		ret = config__load(opts->config_path, &d.cfg, err, sizeof(err));
		if (ret) {
			pr_err("%s\n", err);
			return 1;
		}
	} else {
		config__defaults(&d.cfg);
	}
	if (opts->socket_path)
		snprintf(d.cfg.socket, sizeof(d.cfg.socket), "%s", opts->socket_path);
	if (opts->metrics_listen) {
		/* the same parser as the config file's "listen =" */
		struct ms_config o;
		char snippet[MS_CONFIG_HOST_MAX + 64];
		int n = snprintf(snippet, sizeof(snippet), "[metrics]\nlisten = %s\n",
				 opts->metrics_listen);

		ret = n < 0 || (size_t)n >= sizeof(snippet) || strchr(opts->metrics_listen, '\n') ?
		      -EINVAL : config__parse(snippet, n, "--metrics", &o, err, sizeof(err));
		if (ret) {
			pr_err("invalid --metrics address '%s' (host:port or off)\n",
			       opts->metrics_listen);
			config__free(&d.cfg);
			return 2;
		}
		d.cfg.metrics_enabled = o.metrics_enabled;
		memcpy(d.cfg.metrics_host, o.metrics_host, sizeof(d.cfg.metrics_host));
		d.cfg.metrics_port = o.metrics_port;
		config__free(&o);
	}
	ret = setup(&d);
	if (ret) {
		if (ret != -EPERM)
			pr_err("startup failed: %s\n", strerror(-ret));
		teardown(&d);
		return 1;
	}
	pr_info("ready: control socket %s, %s scope, %s\n", d.cfg.socket,
		opts->system_scope ? "system" : "process",
		ms_session__link_kind(d.s));
	sdnotify__send("READY=1");

	while (!d.stop) {
		int n = epoll_wait(d.ep, evs, 32, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct src *src = evs[i].data.ptr;

			switch (src->type) {
			case SRC_SIGNAL:
				on_signal(&d);
				break;
			case SRC_LISTEN:
				accept_clients(&d);
				break;
			case SRC_RING:
				ring_buffer__consume(d.rb);
				break;
			case SRC_USTACK:
				ms_session__poll_ustacks(d.s);
				break;
			case SRC_TIMER:
				on_tick(&d);
				break;
			case SRC_PENDING: {
				uint64_t exp;

				while (read(d.pfd, &exp, sizeof(exp)) > 0)
					;
				pending_run(&d, now_ns());
				break;
			}
			case SRC_CLIENT: {
				struct client *c = (struct client *)src;

				if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
					client_input(&d, c);
				else if ((evs[i].events & EPOLLOUT) && !client_flush(&d, c))
					client_close(&d, c);
				/* c may be gone: the rest of this batch may name it too */
				if (i + 1 < n)
					goto next_round;
				break;
			}
			}
		}
next_round:;
	}
	sdnotify__send("STOPPING=1");
	pr_info("stopping: detaching from %u processes\n", nwatched(&d));
	teardown(&d);
	return 0;
}
