// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ctl_requests.c - what memsightd does for each request of the control
 * socket: a handler per command (the table at the end), each writing its
 * response (ctl_proto.c's framing) into a reply in memory.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bpf/kernel.h"
#include "common/json.h"
#include "common/log.h"
#include "common/textsafe.h"
#include "daemon/daemon_int.h"
#include "export/flamegraph.h"
#include "export/folded.h"
#include "export/pprof.h"
#include "export/pprof_http.h"
#include "export/cgroup_view.h"
#include "export/report.h"
#include "model/collect.h"
#include "target/symbolize.h"

#define GO_SITES_TEXT		10	/* creation sites `top --growth` prints */

int reply__open(struct reply *r)
{
	r->buf = NULL;
	r->len = 0;
	r->view = NULL;
	r->f = open_memstream(&r->buf, &r->len);
	return r->f ? 0 : -errno;
}

void reply__error(struct reply *r, enum ctl_errcode code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl__write_error(r->f, code, msg);
}

/*
 * A watched process's PID as the client knows it: the same, or its PID in
 * the client's namespace. false: the client cannot see it (left out).
 */
static bool shown_pid(const struct reply *r, pid_t pid, pid_t *ret)
{
	*ret = pid;
	return !r->view || pidns__to_view("/proc", r->view, pid, ret) == 0;
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
	case CTL_SEL_POD:
		*ret = MS_RULE_POD;
		return "pod";
	case CTL_SEL_NAMESPACE:
		*ret = MS_RULE_NAMESPACE;
		return "namespace";
	case CTL_SEL_CONTAINER:
		*ret = MS_RULE_CONTAINER;
		return "container";
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
		ret = watch__add(d, q->pid, "pid", err, sizeof(err));
		if (ret) {
			d->attach_errors++;
			reply__error(r, CTL_E_ATTACH_FAILED, "%s", err);
			return;
		}
		if (ctl__ok_begin(r->f, &w) == 0) {
			struct ms_target *t = ms_session__find(d->s, q->pid);
			pid_t shown;

			jw__kv_int(w, "pid", shown_pid(r, q->pid, &shown) ? shown : q->pid);
			jw__kv_string(w, "comm", t->comm);
			ctl__ok_end(w);
		}
		return;
	}
	if (!sel_key(q->sel, &key)) {
		reply__error(r, CTL_E_BAD_REQUEST, "attach needs pid=, comm=, exe=, cgroup=, pod=, namespace= or container=");
		return;
	}
	/* an explicit request goes before the configured rules: it wins */
	ret = rules__insert(&d->cfg.rules, 0, MS_RULE_INCLUDE, key, q->sel_value, err, sizeof(err));
	if (ret) {
		reply__error(r, CTL_E_ATTACH_FAILED, "%s", err);
		return;
	}
	watch__notify_exec(d);
	watch__scan(d);
	watch__pending_run(d, now_ns());
	rules__format(&d->cfg.rules.v[0], line, sizeof(line));
	if (ctl__ok_begin(r->f, &w) == 0) {
		jw__kv_string(w, "rule", line);
		jw__name(w, "watching");
		jw__start_array(w);
		for (struct ms_target *t = ms_session__targets(d->s); t; t = t->next) {
			pid_t shown;

			if (!strcmp(W(t)->reason, line) && shown_pid(r, t->pid, &shown))
				jw__int(w, shown);
		}
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
			reply__error(r, CTL_E_NOT_WATCHED, "PID %d is not watched", q->pid);
			return;
		}
		watch__remove(d, t, "detach requested");
		ctl__write_ok(r->f);
		return;
	}
	if (!sel_key(q->sel, &key)) {
		reply__error(r, CTL_E_BAD_REQUEST, "detach needs pid=, comm=, exe=, cgroup=, pod=, namespace= or container=");
		return;
	}
	rule = (struct ms_rule){ .action = MS_RULE_INCLUDE, .key = key,
				 .pattern = (char *)q->sel_value };
	rules__format(&rule, line, sizeof(line));
	if (rules__remove(&d->cfg.rules, MS_RULE_INCLUDE, key, q->sel_value) < 0) {
		reply__error(r, CTL_E_NO_RULE, "no rule '%s'", line);
		return;
	}
	watch__notify_exec(d);
	for (t = ms_session__targets(d->s); t; t = next) {
		next = t->next;
		if (!strcmp(W(t)->reason, line)) {
			watch__remove(d, t, "its rule was removed");
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
		jw__kv_string(w, "goroutines_unavailable", snapshot__go_unavailable(ww));
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

/* ps: a process's heap totals and /proc status, or why they are unavailable. */
static void ps_figures_json(const struct watched *ww, struct json_writer *w)
{
	const char *why;

	if (ww->have_totals) {
		jw__kv_uint(w, "heap_inuse_bytes", ww->inuse_bytes);
		jw__kv_uint(w, "heap_inuse_count", ww->inuse_count);
		why = ms_usable__unavailable(MS_KIND_MALLOC, &ww->usable);
		if (why)
			jw__kv_string(w, "heap_usable_unavailable", why);
		else
			jw__kv_uint(w, "heap_inuse_usable_bytes", ww->usable.inuse_bytes);
		jw__kv_uint(w, "alloc_bytes", ww->alloc_bytes);
		jw__kv_uint(w, "alloc_count", ww->alloc_count);
	} else {
		jw__kv_string(w, "heap_unavailable", snapshot__totals_unavailable(ww));
	}
	if (ww->have_status) {
		jw__kv_uint(w, "rss_bytes", ww->status.vm_rss_kb * 1024);
		jw__kv_uint(w, "rss_anon_bytes", ww->status.rss_anon_kb * 1024);
		jw__kv_uint(w, "rss_file_bytes", ww->status.rss_file_kb * 1024);
		jw__kv_uint(w, "rss_shmem_bytes", ww->status.rss_shmem_kb * 1024);
		jw__kv_uint(w, "peak_rss_bytes", ww->status.vm_hwm_kb * 1024);
		jw__kv_uint(w, "threads", ww->status.threads);
	} else {
		jw__kv_string(w, "status_unavailable", snapshot__status_unavailable(ww));
	}
	cgroup_view__json(w, ww->cgroup, ww->cgroup_err, ww->have_status ? &ww->status : NULL);
	cgroup_view__pod_json(w, ww->pod_for[0] ? &ww->pod : NULL, ww->pod_err);
}

static void req_ps(struct daemon *d, const struct ctl_request *q, struct reply *r)
{
	uint64_t now = now_ns(), window = growth_window_ns(d);
	struct ms_loss loss = {};
	struct json_writer *w;
	uint64_t lost;
	double growth;

	/* what ps shows is read now, not at the last snapshot */
	if (snapshot__refresh(d))
		pr_debug("ps: the aggregate table could not be read: figures of the last snapshot\n");
	ms_collect__counters(d->s, &loss);
	if (ctl__ok_begin(r->f, &w))
		return;
	jw__name(w, "processes");
	jw__start_array(w);
	for (struct ms_target *t = ms_session__targets(d->s); t; t = t->next) {
		struct watched *ww = W(t);
		char probe[64];
		pid_t shown;

		if (!shown_pid(r, t->pid, &shown))
			continue;
		jw__start_object(w);
		jw__kv_int(w, "pid", shown);
		jw__kv_string(w, "comm", t->comm);
		jw__kv_string(w, "exe", t->exe);
		jw__kv_string(w, "reason", ww->reason);
		jw__kv_string(w, "allocator_probe", ms_allocator_probe(t->usdt, t->sampler_mean,
								       probe, sizeof(probe)));
		jw__name(w, "watched_s");
		jw__double(w, (now - ww->attached_ns) / 1e9);
		ps_figures_json(ww, w);
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
			jw__kv_string(w, "go_heap_unavailable", snapshot__go_heap_unavailable(ww));
		}
		/* lower bounds for this process's own losses, not another's */
		if (ms_session__lost(d->s, t->pid, &lost) == 0) {
			jw__kv_uint(w, "lost_events", lost);
			jw__kv_bool(w, "lower_bound", lost > 0);
		} else {
			jw__kv_string(w, "lost_events_unavailable", "not in the pids table any more");
		}
		jw__name(w, "growth_bytes_per_min");
		if (snapshot__growth(ww, now, window, &growth)) {
			jw__double(w, growth);
		} else {
			jw__null(w);
			jw__kv_string(w, "growth_unavailable",
				      "fewer than two snapshots in the growth window yet");
		}
		jw__end_object(w);
	}
	jw__end_array(w);
	/* any process's losses (each process says its own above) */
	jw__kv_bool(w, "lower_bound", ms_loss__lower_bound(&loss));
	ctl__ok_end(w);
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
		/* reasons and sites name the target's functions and files: escaped */
		fputs("\ngoroutines by creation site: unavailable: ", f);
		textsafe__fputs(snapshot__go_unavailable(ww), f);
		fputc('\n', f);
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
		fprintf(f, "  %14s %10" PRIu64 "  ", r, rank[i].count);
		textsafe__fputs(label, f);
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
	uint64_t window = growth_window_ns(d);
	bool go_sites = t && q->verb == CTL_TOP && q->growth && t->gobin;
	struct ms_profile *p;
	char *buf = NULL, title[128];
	size_t len = 0;
	FILE *f;
	int err = 0;

	if (!t) {
		reply__error(r, CTL_E_NOT_WATCHED, "PID %d is not watched (memsight attach %d)",
			     q->pid, q->pid);
		return;
	}
	if (q->verb == CTL_TOP && fmt == CTL_FMT_NONE)
		fmt = CTL_FMT_JSON;
	if (q->verb == CTL_DUMP)
		ro.top_n = 0;
	p = snapshot__profile(d, t, q->growth, false);
	if (!p) {
		reply__error(r, CTL_E_FAILED, "cannot read the data of PID %d", q->pid);
		return;
	}
	shown_pid(r, p->pid, &p->pid);	/* the request named it: the client sees it */
	f = open_memstream(&buf, &len);
	if (!f) {
		ms_profile__free(p);
		reply__error(r, CTL_E_FAILED, "out of memory");
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
		reply__error(r, CTL_E_FAILED, "cannot render the report: %s", strerror(-err));
	} else {
		ctl__write_payload_header(r->f, len);
		fwrite(buf, 1, len, r->f);
	}
	free(buf);
}

static void req_rules(struct daemon *d, const struct ctl_request *q, struct reply *r)
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

/* Our open file descriptors into *ret; 0 or -errno. */
static int open_fds(uint64_t *ret)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	uint64_t n = 0;

	if (!dir)
		return -errno;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	*ret = n - 1;	/* the directory's own */
	return 0;
}

static void req_stats(struct daemon *d, const struct ctl_request *q, struct reply *r)
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
	jw__kv_uint(w, "watched", watch__count(d));
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
	/* the counters as every report has them under "events" */
	report__loss_members(&l, w);
	jw__kv_bool(w, "lower_bound", ms_loss__lower_bound(&l));
	{
		struct ms_ustack_stats us;

		ms_session__ustack_stats(d->s, &us);
		jw__kv_uint(w, "dwarf_frames", us.unwound_frames);
		jw__kv_uint(w, "dwarf_unwound_stacks", us.stacks);
		jw__kv_uint(w, "dwarf_live_samples", us.bindings);
		jw__kv_uint(w, "dwarf_unstored", us.unbound);
		jw__kv_uint(w, "dwarf_unstored_quota", us.quota_full);
		jw__kv_uint(w, "dwarf_dropped_unwinding", us.queue_full);
	}
	{
		struct ms_link_stats ls;
		struct rlimit rl;
		uint64_t nfd = 0;
		int err;

		/* file descriptors: links of detached processes wait to be closed */
		ms_session__link_stats(d->s, &ls);
		jw__name(w, "fds");
		jw__start_object(w);
		err = open_fds(&nfd);
		if (err)
			jw__kv_string(w, "open_unavailable", strerror(-err));
		else
			jw__kv_uint(w, "open", nfd);
		if (getrlimit(RLIMIT_NOFILE, &rl))
			jw__kv_string(w, "soft_limit_unavailable", strerror(errno));
		else
			jw__kv_uint(w, "soft_limit", rl.rlim_cur);
		jw__kv_uint(w, "links_closing", ls.closing);
		jw__kv_uint(w, "links_closing_max", ls.closing_max);
		jw__kv_uint(w, "links_closed", ls.closed);
		jw__kv_uint(w, "link_closers", ls.closers);
		jw__end_object(w);
	}
	jw__kv_uint(w, "exec_events", d->exec_events);
	jw__kv_uint(w, "exit_events", d->exit_events);
	jw__kv_uint(w, "attach_errors", d->attach_errors);
	jw__kv_uint(w, "requests", d->requests);
	jw__kv_uint(w, "bad_requests", d->bad_requests);
	jw__kv_uint(w, "refused_clients", d->refused_clients);
	jw__kv_uint(w, "dropped_clients", d->dropped_clients);
	jw__kv_uint(w, "busy_clients", d->busy_clients);
	jw__kv_uint(w, "pending_dropped", d->pending_dropped);
	jw__kv_uint(w, "incidents_recorded", d->incidents_saved);
	jw__kv_string(w, "flight_recorder", d->incidents ? "on" : "off");
	if (!d->incidents)
		jw__kv_string(w, "flight_recorder_off", d->incidents_off);
	jw__kv_uint(w, "exits_found_by_snapshot", d->exits_missed);
	if (d->pprof) {
		unsigned int jobs, waiting;

		pprof_server__counts(d->pprof, &jobs, &waiting);
		jw__kv_uint(w, "pprof_requests_open", jobs);
		jw__kv_uint(w, "pprof_deltas_waiting", waiting);
	}
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
	/* the kernel's figures: the live map's buckets cost live_max * 16 B up front */
	if (mu.have_memlock) {
		jw__kv_uint(w, "live_memlock_bytes", mu.live_memlock);
		jw__kv_uint(w, "memlock_bytes", mu.memlock);
	} else {
		jw__kv_string(w, "memlock_unavailable", "a map's fdinfo has no memlock line");
	}
	jw__end_object(w);
	jw__name(w, "symbols");
	jw__start_object(w);
	jw__kv_uint(w, "modules", ss.modules);
	jw__kv_uint(w, "lookups", ss.lookups);
	jw__kv_uint(w, "hits", ss.hits);
	jw__end_object(w);
	ctl__ok_end(w);
}

static void req_ping(struct daemon *d, const struct ctl_request *q, struct reply *r)
{
	ctl__write_ok(r->f);
}

static void req_reload(struct daemon *d, const struct ctl_request *q, struct reply *r)
{
	char e[512];

	if (daemon__reload(d, e, sizeof(e)))
		reply__error(r, CTL_E_FAILED, "reload failed, %s", e);
	else
		ctl__write_ok(r->f);
}

typedef void (*req_fn)(struct daemon *d, const struct ctl_request *q, struct reply *r);

static const req_fn handlers[CTL_VERB_COUNT] = {
	[CTL_PING] = req_ping,
	[CTL_ATTACH] = req_attach,
	[CTL_DETACH] = req_detach,
	[CTL_PS] = req_ps,
	[CTL_TOP] = req_report,
	[CTL_DUMP] = req_report,
	[CTL_RULES] = req_rules,
	[CTL_STATS] = req_stats,
	[CTL_RELOAD] = req_reload,
};

/*
 * Requests and replies that name PIDs, which mean other processes to a
 * client in another PID namespace: translated for a client in one below
 * ours (it sees only its own processes), refused to others, whose PIDs we
 * cannot map (ping, stats, rules and reload are the same from anywhere).
 */
static const bool names_pids[CTL_VERB_COUNT] = {
	[CTL_ATTACH] = true,
	[CTL_DETACH] = true,
	[CTL_PS] = true,
	[CTL_TOP] = true,
	[CTL_DUMP] = true,
};

/*
 * The PID a request of a client in a namespace below ours names, as ours.
 * 0, or -ESRCH with the error written: no such process there.
 */
static int pid_from_view(struct ctl_request *q, struct reply *r)
{
	bool named = q->sel == CTL_SEL_PID || q->verb == CTL_TOP || q->verb == CTL_DUMP;
	pid_t host;

	if (!named || pidns__from_view("/proc", r->view, q->pid, &host) == 0) {
		if (named)
			q->pid = host;
		return 0;
	}
	if (q->verb == CTL_ATTACH)
		reply__error(r, CTL_E_ATTACH_FAILED, "no such process: %d", q->pid);
	else
		reply__error(r, CTL_E_NOT_WATCHED, "PID %d is not watched", q->pid);
	return -ESRCH;
}

/* One request line of client c into a response in r. */
void ctl_requests__run(struct daemon *d, const struct client *c, const char *line, size_t len,
		       struct reply *r)
{
	struct ctl_request q;
	char err[CTL_ERR_MAX];

	if (ctl__parse_request(line, len, &q, err, sizeof(err))) {
		d->bad_requests++;
		reply__error(r, CTL_E_BAD_REQUEST, "bad request: %s", err);
		return;
	}
	if ((unsigned int)q.verb >= CTL_VERB_COUNT || !handlers[q.verb]) {
		reply__error(r, CTL_E_UNSUPPORTED, "unsupported request");
		return;
	}
	if (c->have_view && names_pids[q.verb]) {
		r->view = &c->view;
		if (pid_from_view(&q, r))
			return;
	} else if (c->other_pidns && names_pids[q.verb]) {
		reply__error(r, CTL_E_DENIED, "memsightd runs in another PID namespace than this "
			     "client: PIDs would name other processes; run memsight in memsightd's "
			     "PID namespace (ping, stats, rules and reload work from here)");
		return;
	}
	handlers[q.verb](d, &q, r);
}
