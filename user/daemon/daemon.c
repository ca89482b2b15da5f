// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * daemon.c - memsightd's setup and event loop.
 *
 * One thread owns everything: the BPF session, the watched processes, the
 * control socket clients. epoll waits on
 *   - a signalfd (SIGTERM/SIGINT stop, SIGHUP reloads the rules),
 *   - the listening control socket and its clients (ctl_server.c),
 *   - the BPF ring buffer (exec/exit of processes, watch.c),
 *   - a timerfd for pending attaches (watch.c),
 *   - a 100 ms timerfd (snapshots, watchdog, idle clients),
 *   - an eventfd: /debug/pprof/ requests waiting for a profile (pprof_serve.c);
 *   - an eventfd: web view API requests waiting for their JSON (web_serve.c).
 * Nothing in here blocks on a client: a slow or hostile client costs its
 * own connection only. daemon_int.h says which file does what.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "common/log.h"
#include "daemon/daemon_int.h"
#include "daemon/incidents.h"
#include "daemon/sdnotify.h"
#include "export/http_server.h"
#include "export/metrics.h"
#include "export/pprof_http.h"
#include "export/web_http.h"
#include "target/symbolize.h"

#define TICK_MS			100
#define EVENTS_MAX		32	/* epoll events one wait returns */

static int ep_add(struct daemon *d, int fd, struct src *src, enum src_type type)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	src->type = type;
	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* SIGTERM, SIGINT and SIGHUP come through a signalfd; SIGPIPE is ignored. */
static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0 || ep_add(d, d->sigfd, &d->sig_src, SRC_SIGNAL))
		return -errno;
	return 0;
}

/* The BPF session, its event ring and its ring of copied stacks. */
static int setup_session(struct daemon *d)
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
	char err[512];
	int ret;

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
	d->rb = ring_buffer__new(ms_session__events_fd(d->s), watch__on_event, d, NULL);
	if (!d->rb)
		return -errno;
	ret = ep_add(d, ring_buffer__epoll_fd(d->rb), &d->ring_src, SRC_RING);
	if (ret)
		return ret;
	/* copied stacks, drained from their ring on a thread, unwound here */
	return ep_add(d, ms_session__ustack_fd(d->s), &d->ustack_src, SRC_USTACK);
}

/* The pending attaches' timer (armed by watch.c) and the periodic tick. */
static int setup_timers(struct daemon *d)
{
	struct itimerspec its = { .it_interval = { .tv_nsec = TICK_MS * 1000000 },
				  .it_value = { .tv_nsec = TICK_MS * 1000000 } };

	d->pfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->pfd < 0 || ep_add(d, d->pfd, &d->pending_src, SRC_PENDING))
		return -errno;
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->tfd < 0 || timerfd_settime(d->tfd, 0, &its, NULL) ||
	    ep_add(d, d->tfd, &d->timer_src, SRC_TIMER))
		return -errno;
	return 0;
}

static int setup_metrics(struct daemon *d)
{
	const char *scheme = d->cfg.tls_cert[0] ? "https" : "http";
	struct http_site more[2];
	char err[512];
	int ret;

	if (!d->cfg.metrics_enabled)
		return 0;
	d->pprof = pprof_server__new();
	if (!d->pprof)
		return -errno;
	ret = ep_add(d, pprof_server__fd(d->pprof), &d->pprof_src, SRC_PPROF);
	if (ret)
		return ret;
	d->web = web_server__new();
	if (!d->web)
		return -errno;
	ret = ep_add(d, web_server__fd(d->web), &d->web_src, SRC_WEB);
	if (ret)
		return ret;
	more[0] = *pprof_server__site(d->pprof);
	more[1] = *web_server__site(d->web);
	ret = metrics_server__start(d->cfg.metrics_host, d->cfg.metrics_port,
				    d->cfg.top_stacks, more, 2, &d->access, &d->metrics, err,
				    sizeof(err));
	d->access.auth = NULL;	/* the server's now, started or not */
	http_access__release(&d->access);
	if (ret) {
		pr_err("cannot serve metrics: %s\n", err);
		return ret;
	}
	pr_info("metrics on %s://%s:%u/metrics, profiles on %s://%s:%u/debug/pprof/, "
		"web view on %s://%s:%u/\n", scheme, d->cfg.metrics_host, d->cfg.metrics_port,
		scheme, d->cfg.metrics_host, d->cfg.metrics_port, scheme, d->cfg.metrics_host,
		d->cfg.metrics_port);
	return 0;
}

static int setup(struct daemon *d)
{
	char err[PATH_MAX + 512];
	int ret;

	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->ep < 0)
		return -errno;
	ret = setup_signals(d);
	if (ret)
		return ret;
	/* the socket first: a second daemon, or a path that is not ours, is
	 * refused before anything is loaded into the kernel */
	ret = ctl_socket__open(d, err, sizeof(err));
	if (ret) {
		pr_err("%s\n", err);
		return ret;
	}
	ret = ep_add(d, d->lfd, &d->listen_src, SRC_LISTEN);
	if (ret)
		return ret;
	/* the listener's secrets too: a bad one is refused before BPF is loaded */
	if (d->cfg.metrics_enabled) {
		ret = http_access__load(d, &d->access, err, sizeof(err));
		if (ret) {
			pr_err("cannot serve metrics: %s\n", err);
			return ret;
		}
	}
	ret = setup_session(d);
	if (ret)
		return ret;
	ret = setup_timers(d);
	if (ret)
		return ret;
	ret = setup_metrics(d);
	if (ret)
		return ret;
	recorder__open(d);
	d->watchdog_ns = sdnotify__watchdog_usec() * 1000 / 2;
	watch__notify_exec(d);
	watch__scan(d);
	return 0;
}

static void teardown(struct daemon *d)
{
	while (d->clients)
		ctl_server__close_client(d, d->clients);
	ctl_server__reap(d);
	watch__stop(d);
	/* every call answered before the HTTP server stops */
	pprof_server__stop(d->pprof);
	web_server__stop(d->web);
	metrics_server__stop(d->metrics);
	http_access__release(&d->access);
	pprof_server__free(d->pprof);
	web_server__free(d->web);
	incidents__close(d->incidents);
	ring_buffer__free(d->rb);
	ms_session__close(d->s);
	symcache__free(d->cache);
	ctl_socket__close(d);
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

/*
 * The configuration file (or the defaults) with the command line's
 * overrides. Returns 0, or the exit status to stop with.
 */
static int load_config(struct daemon *d, const struct daemon_opts *opts)
{
	struct ms_config o;
	char err[1024], snippet[MS_CONFIG_HOST_MAX + 64];
	int n, ret;

	if (opts->config_path) {
		ret = config__load(opts->config_path, &d->cfg, err, sizeof(err));
		if (ret) {
			pr_err("%s\n", err);
			return 1;
		}
	} else {
		config__defaults(&d->cfg);
	}
	if (opts->socket_path)
		snprintf(d->cfg.socket, sizeof(d->cfg.socket), "%s", opts->socket_path);
	if (!opts->metrics_listen)
		return 0;
	/* the same parser as the config file's "listen =" */
	n = snprintf(snippet, sizeof(snippet), "[metrics]\nlisten = %s\n", opts->metrics_listen);
	ret = n < 0 || (size_t)n >= sizeof(snippet) || strchr(opts->metrics_listen, '\n') ?
	      -EINVAL : config__parse(snippet, n, "--metrics", &o, err, sizeof(err));
	if (ret) {
		pr_err("invalid --metrics address '%s' (host:port or off)\n", opts->metrics_listen);
		config__free(&d->cfg);
		return 2;
	}
	d->cfg.metrics_enabled = o.metrics_enabled;
	memcpy(d->cfg.metrics_host, o.metrics_host, sizeof(d->cfg.metrics_host));
	d->cfg.metrics_port = o.metrics_port;
	config__free(&o);
	return 0;
}

int daemon__reload(struct daemon *d, char *err, size_t errlen)
{
	char why[512];
	int ret = watch__reload_rules(d, why, sizeof(why));

	if (ret) {
		snprintf(err, errlen, "old rules kept: %s", why);
		return ret;
	}
	ret = http_access__reload(d, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "rules reloaded, old HTTP credentials kept: %s", why);
	return ret;
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	char err[512];

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			sdnotify__send("RELOADING=1");
			if (daemon__reload(d, err, sizeof(err)))
				pr_warn("reload failed: %s\n", err);
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
		watch__refilter(d);
		snapshot__take(d, now);
		snapshot__publish(d);
		d->next_snapshot_ns = now + d->cfg.snapshot_interval_s * 1000000000ull;
	}
	ctl_server__drop_idle(d, now);
	if (d->watchdog_ns && now >= d->next_watchdog_ns) {
		sdnotify__send("WATCHDOG=1");
		d->next_watchdog_ns = now + d->watchdog_ns;
	}
}

static void on_pending(struct daemon *d)
{
	uint64_t exp;

	while (read(d->pfd, &exp, sizeof(exp)) > 0)
		;
	watch__pending_run(d, now_ns());
}

/* One epoll_wait's events, in order. */
static void on_events(struct daemon *d, const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		struct src *src = evs[i].data.ptr;

		switch (src->type) {
		case SRC_SIGNAL:
			on_signal(d);
			break;
		case SRC_LISTEN:
			ctl_server__accept(d);
			break;
		case SRC_RING:
			ring_buffer__consume(d->rb);
			break;
		case SRC_USTACK:
			ms_session__poll_ustacks(d->s);
			break;
		case SRC_TIMER:
			on_tick(d);
			break;
		case SRC_PENDING:
			on_pending(d);
			break;
		case SRC_PPROF:
			pprof_serve__collect(d);
			break;
		case SRC_WEB:
			web_serve__answer(d);
			break;
		case SRC_CLIENT:
			ctl_server__on_client(d, (struct client *)src, evs[i].events);
			break;
		}
	}
	/* clients closed in this batch: no later event names them any more */
	ctl_server__reap(d);
}

int daemon__run(const struct daemon_opts *opts)
{
	struct daemon d = { .opts = *opts, .ep = -1, .sigfd = -1, .lfd = -1, .tfd = -1, .pfd = -1,
			  .sock.dfd = -1 };
	struct epoll_event evs[EVENTS_MAX];
	int ret;

	ret = load_config(&d, opts);
	if (ret)
		return ret;
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
		int n = epoll_wait(d.ep, evs, EVENTS_MAX, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("epoll_wait: %s\n", strerror(errno));
			break;
		}
		on_events(&d, evs, n);
		/* processes detached by these events: their map entries in one walk */
		ms_session__purge_pending(d.s);
	}
	sdnotify__send("STOPPING=1");
	pr_info("stopping: detaching from %u processes\n", watch__count(&d));
	teardown(&d);
	return 0;
}
