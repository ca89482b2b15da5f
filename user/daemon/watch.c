// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * watch.c - the processes memsightd watches and why.
 *
 * A process is watched by request (attach pid=) or because a rule matches
 * it: at startup, on exec (a BPF event) and when the rules change. A process
 * that just exec'd waits in a pending list until its allocator is mapped.
 * Exit and exec events end a watch.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/errmsg.h"
#include "common/log.h"
#include "daemon/daemon_int.h"

#define PENDING_MAX		256	/* processes waiting for their allocator to be mapped */
#define PENDING_TRIES		13	/* retries 2 ms, 4 ms, ... ~8 s in total */

unsigned int watch__count(struct daemon *d)
{
	unsigned int n = 0;

	for (struct ms_target *t = ms_session__targets(d->s); t; t = t->next)
		n++;
	return n;
}

int watch__add(struct daemon *d, pid_t pid, const char *reason, char *err, size_t errlen)
{
	struct ms_target *t;
	struct watched *w;
	int ret;

	if (ms_session__find(d->s, pid)) {
		snprintf(err, errlen, "PID %d is already watched", pid);
		return -EALREADY;
	}
	if (watch__count(d) >= d->cfg.max_processes) {
		snprintf(err, errlen, "already watching %u processes (max_processes)",
			 d->cfg.max_processes);
		return -ENOSPC;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return ms_fail(err, errlen, -ENOMEM, "out of memory");
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

void watch__remove(struct daemon *d, struct ms_target *t, const char *why)
{
	struct watched *w = W(t);

	pr_info("no longer watching PID %d (%s): %s\n", t->pid, t->comm, why);
	ms_session__detach(d->s, t);
	if (w) {
		growth__free(&w->growth);
		gosites__free(&w->gosites);
		free(w->cgroup);
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

void watch__pending_run(struct daemon *d, uint64_t now)
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
			ret = watch__add(d, p->pid, p->reason, err, sizeof(err));
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

static bool rules_name_pods(const struct ms_rules *rules)
{
	for (size_t i = 0; i < rules->n; i++)
		if (rules->v[i].key == MS_RULE_POD || rules->v[i].key == MS_RULE_NAMESPACE ||
		    rules->v[i].key == MS_RULE_CONTAINER)
			return true;
	return false;
}

/*
 * The pod of pid's Kubernetes container, from its memory cgroup path as the
 * snapshots read it; read only when a rule names pods. 0 or -errno.
 */
static int rule_pod(struct daemon *d, pid_t pid, struct ms_pod *ret)
{
	char path[MS_CG_PATH_MAX];
	struct ms_container c;
	int version, err = cgroup__path_of("/proc", pid, &version, path, sizeof(path));

	if (!err)
		err = cgroup__absolute_live(version, path, sizeof(path));
	if (!err)
		err = container__from_cgroup_path(path, &c);
	if (!err)
		err = podinfo__read(d->cfg.host_root, &c, ret);
	return err;
}

/* Does a rule want this process? Fills reason with the rule. */
static bool rules_want(struct daemon *d, pid_t pid, const char *comm_hint, char *reason,
		       size_t len)
{
	char comm[MS_COMM_LEN + 1] = "", exe[4096], cg[4096];
	struct ms_rule_subject s = { .comm = comm, .exe = exe, .cgroup = cg };
	struct ms_pod pod;
	ssize_t i;

	if (!d->cfg.rules.n)
		return false;
	if (comm_hint)
		snprintf(comm, sizeof(comm), "%s", comm_hint);
	else if (procfs__read_comm("/proc", pid, comm, sizeof(comm)))
		return false;
	read_exe(pid, exe, sizeof(exe));
	if (cgroup__unified_of("/proc", pid, cg, sizeof(cg)) ||
	    cgroup__absolute_live(2, cg, sizeof(cg)))
		cg[0] = 0;
	if (rules_name_pods(&d->cfg.rules) && !rule_pod(d, pid, &pod)) {
		s.pod = pod.name;
		s.namespace = pod.namespace;
		s.container = pod.container;
	}
	i = rules__first_match_subject(&d->cfg.rules, &s);
	if (i < 0 || d->cfg.rules.v[i].action != MS_RULE_INCLUDE)
		return false;
	rules__format(&d->cfg.rules.v[i], reason, len);
	return true;
}

/* Look at every running process once: rules apply to those started before too. */
void watch__scan(struct daemon *d)
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

/*
 * Watch again, with unfiltered probes, the processes whose main thread
 * exited after they were attached (ms_session__probes_at_risk): figures
 * start over from now, as after any attach, rather than silently stop.
 */
void watch__refilter(struct daemon *d)
{
	struct ms_target *t, *next;
	char reason[REASON_LEN], err[512];
	pid_t pid;

	for (t = ms_session__targets(d->s); t; t = next) {
		next = t->next;
		if (!ms_session__probes_at_risk(d->s, t))
			continue;
		pid = t->pid;
		snprintf(reason, sizeof(reason), "%s", W(t)->reason);
		watch__remove(d, t, "its main thread exited: attaching again without the "
			     "kernel's PID filter");
		if (watch__add(d, pid, reason, err, sizeof(err))) {
			d->attach_errors++;
			pr_warn("cannot watch PID %d [%s]: %s\n", pid, reason, err);
		}
		next = ms_session__targets(d->s);	/* the list changed: start over */
	}
}

void watch__notify_exec(struct daemon *d)
{
	ms_session__notify_exec(d->s, d->cfg.rules.n > 0);
}

/* ---- BPF events ---------------------------------------------------------- */

int watch__on_event(void *ctx, void *data, size_t size)
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
			recorder__record(d, t, "oom-kill");
		return 0;
	}
	if (e->type == MS_EV_EXIT) {
		d->exit_events++;
		if (t && (e->exit_code & 0x7f) == SIGKILL)
			recorder__record(d, t, "killed by SIGKILL");
		if (t)
			watch__remove(d, t, "process exited");
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
		watch__remove(d, t, "process exec'd a new program");
		if (!strcmp(reason, "pid") || rules_want(d, e->pid, comm, reason, sizeof(reason)))
			pending_add(d, e->pid, reason);
		return 0;
	}
	if (rules_want(d, e->pid, comm, reason, sizeof(reason))) {
		pending_add(d, e->pid, reason);
		/* a static binary is ready now; others are retried in ms steps */
		watch__pending_run(d, now_ns());
	}
	return 0;
}

int watch__reload_rules(struct daemon *d, char *err, size_t errlen)
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
	watch__notify_exec(d);
	watch__scan(d);
	pr_info("reloaded %zu rules from %s\n", d->cfg.rules.n, d->opts.config_path);
	return 0;
}

/* At exit: nothing pending, nothing watched. */
void watch__stop(struct daemon *d)
{
	while (d->pending) {
		struct pending *p = d->pending;

		d->pending = p->next;
		free(p);
	}
	d->npending = 0;
	if (d->s) {
		struct ms_target *t;

		while ((t = ms_session__targets(d->s)))
			watch__remove(d, t, "memsightd stopping");
	}
}
