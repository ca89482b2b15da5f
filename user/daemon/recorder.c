// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * recorder.c - memsightd's flight recorder: the RSS history of each watched
 * process, and what we know of one the kernel kills, kept as an incident
 * (incidents.c stores them within their limits).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/daemon_int.h"
#include "daemon/incidents.h"
#include "export/cgroup_view.h"
#include "export/report.h"

/* A directory we cannot write turns the recorder off, not memsightd. */
void recorder__open(struct daemon *d)
{
	int ret = incidents__open(d->cfg.incidents_dir, d->cfg.incidents_max_count,
				  d->cfg.incidents_max_bytes, &d->incidents);

	if (ret) {
		snprintf(d->incidents_off, sizeof(d->incidents_off), "cannot use %s: %s",
			 d->cfg.incidents_dir, incidents__strerror(ret));
		pr_warn("flight recorder off: %s\n", d->incidents_off);
		d->incidents = NULL;
	}
}

/* One point of RSS history per snapshot, the oldest dropped past RSS_HISTORY. */
void recorder__note(struct watched *w)
{
	uint32_t k = (w->hist_head + w->hist_n) % RSS_HISTORY;

	if (!w->have_status)
		return;
	w->hist[k].t = time(NULL);
	w->hist[k].rss = w->status.vm_rss_kb * 1024;
	w->hist[k].anon = w->status.rss_anon_kb * 1024;
	w->hist[k].file = w->status.rss_file_kb * 1024;
	w->hist[k].shmem = w->status.rss_shmem_kb * 1024;
	w->hist[k].heap = w->inuse_bytes;
	w->hist[k].have_goroutines = w->have_goroutines;
	w->hist[k].goroutines = w->have_goroutines ? w->goroutines : 0;
	w->hist[k].have_cg_usage = w->cgroup && w->cgroup->usage.state == MS_CG_OK;
	w->hist[k].cg_usage = w->hist[k].have_cg_usage ? w->cgroup->usage.v : 0;
	if (w->hist_n < RSS_HISTORY)
		w->hist_n++;
	else
		w->hist_head = (w->hist_head + 1) % RSS_HISTORY;
}

/*
 * Was the victim's cgroup read at the kill before it left it? A task that
 * has passed cgroup_exit() reads as the hierarchy's root: that is its exit,
 * not a move, when the last snapshot had it elsewhere (seen under load).
 */
static bool read_before_exit(const struct watched *w, const struct ms_profile *p)
{
	if (!p || !p->cgroup)
		return false;
	return strcmp(p->cgroup->path, "/") || !w->cgroup || !strcmp(w->cgroup->path, "/");
}

/*
 * The victim's cgroup, read at the kill when the process was still in it,
 * else as the last snapshot read it; and what the other watched processes
 * in it held at their last snapshot.
 */
static void cgroup_json(struct daemon *d, struct ms_target *t, const struct ms_profile *p,
			struct json_writer *jw)
{
	struct watched *w = W(t);
	bool at_kill = read_before_exit(w, p);
	const struct ms_cgroup_mem *cg = at_kill ? p->cgroup : w->cgroup;
	const struct ms_proc_status *st = at_kill && p->have_status ? &p->status :
					  w->have_status ? &w->status : NULL;

	cgroup_view__json(jw, cg, cg == w->cgroup ? w->cgroup_err : p->cgroup_err, st);
	cgroup_view__pod_json(jw, w->pod_for[0] ? &w->pod : NULL, w->pod_err);
	if (!cg)
		return;
	jw__kv_string(jw, "cgroup_as_of", cg == w->cgroup ? "last snapshot" : "kill");
	jw__name(jw, "cgroup_watched_processes");
	jw__start_array(jw);
	for (struct ms_target *o = ms_session__targets(d->s); o; o = o->next) {
		struct watched *ow = W(o);

		if (o == t || !ow || !ow->cgroup || strcmp(ow->cgroup->path, cg->path))
			continue;
		jw__start_object(jw);
		jw__kv_int(jw, "pid", o->pid);
		jw__kv_string(jw, "comm", o->comm);
		if (ow->have_status)
			jw__kv_uint(jw, "rss_bytes", ow->status.vm_rss_kb * 1024);
		jw__kv_uint(jw, "heap_inuse_bytes", ow->inuse_bytes);
		jw__end_object(jw);
	}
	jw__end_array(jw);
}

/* The RSS history as a JSON member, "rss_history": oldest point first. */
void recorder__history_json(const struct watched *w, struct json_writer *jw)
{
	jw__name(jw, "rss_history");
	jw__start_array(jw);
	for (uint32_t i = 0; i < w->hist_n; i++) {
		uint32_t k = (w->hist_head + i) % RSS_HISTORY;

		jw__start_object(jw);
		jw__kv_int(jw, "time", w->hist[k].t);
		jw__kv_uint(jw, "rss_bytes", w->hist[k].rss);
		jw__kv_uint(jw, "anon_bytes", w->hist[k].anon);
		jw__kv_uint(jw, "file_bytes", w->hist[k].file);
		jw__kv_uint(jw, "shmem_bytes", w->hist[k].shmem);
		jw__kv_uint(jw, "heap_inuse_bytes", w->hist[k].heap);
		if (w->hist[k].have_cg_usage)
			jw__kv_uint(jw, "cgroup_usage_bytes", w->hist[k].cg_usage);
		if (w->hist[k].have_goroutines)
			jw__kv_uint(jw, "goroutines", w->hist[k].goroutines);
		jw__end_object(jw);
	}
	jw__end_array(jw);
}

/*
 * Keep what we know of a process the kernel is killing: its last profile,
 * its RSS history and why. Written at OOM victim selection (the process is
 * still there) or at a SIGKILL exit (its data is still in the maps).
 */
void recorder__record(struct daemon *d, struct ms_target *t, const char *why)
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
	p = snapshot__profile(d, t, false, true);
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
		recorder__history_json(w, jw);
		cgroup_json(d, t, p, jw);
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
