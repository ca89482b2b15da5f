// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memsight - command line front end.
 *
 * Standalone (no daemon needed): observe a process for a while.
 *   memsight top  -p PID [-d SECONDS] [-n N] [--json]
 *   memsight dump -p PID [-d SECONDS] --format pprof|folded|svg|json|text [-o FILE]
 * Through memsightd (data since the daemon attached):
 *   memsight attach PID | --comm NAME | --exe PATH | --cgroup PATH | --pod NAME |
 *                   --namespace NAME | --container NAME
 *   memsight detach (the same)
 *   memsight ps | rules | stats | reload | ping
 *   memsight top PID [--growth] ...   memsight dump PID --format ... -o FILE
 * A command run under observation, as a CI gate (cli/run.c):
 *   memsight run [--max-leaked SIZE] ... -- CMD [ARGS...]
 *
 * Exit status: 0 ok, 1 error, 2 usage, 3 the target exited during
 * observation (the report up to its exit is still printed).
 */
#include <errno.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/textsafe.h"
#include "ctl/client.h"
#include "model/collect.h"
#include "daemon/config.h"
#include "model/explain.h"
#include "export/explain_report.h"
#include "daemon/incidents.h"
#include "export/folded.h"
#include "export/flamegraph.h"
#include "cli/diff_cli.h"
#include "common/json.h"
#include "bpf/kernel.h"
#include "common/log.h"
#include "ctl/options.h"
#include "export/pprof.h"
#include "target/procfs.h"
#include "export/report.h"
#include "bpf/session.h"
#include "cli/run.h"
#include "target/symbolize.h"

#define EXIT_USAGE	2
#define EXIT_EXITED	3

#ifndef MEMSIGHT_VERSION
#define MEMSIGHT_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: memsight [-v] [--socket PATH] COMMAND [OPTIONS]\n"
		"\n"
		"commands:\n"
		"  top  -p PID [-d SECONDS] [-n N] [--json]\n"
		"        attach to a running process, observe for SECONDS (default 10; 0 = until\n"
		"        Ctrl-C), then show the top N call stacks by heap bytes still in use\n"
		"        --faults: the code that first touched new memory (user page faults)\n"
		"  dump -p PID [-d SECONDS] --format pprof|folded|svg|json|text [-o FILE]\n"
		"        the same observation, written in a format other tools read\n"
		"  attach PID | --comm NAME | --exe PATH | --cgroup PATH | --pod NAME |\n"
		"         --namespace NAME | --container NAME\n"
		"        ask memsightd to watch a process, or every process matching (now and\n"
		"        when started later: comm and exe take shell globs, cgroup a path prefix;\n"
		"        pod, namespace and container are Kubernetes names, shell globs)\n"
		"  detach PID | --comm NAME | ... | --container NAME\n"
		"  ps     every process memsightd watches: heap in use, RSS, peak, threads,\n"
		"        goroutines, growth (heap and goroutines)\n"
		"  top PID [-n N] [--growth]   memsightd's view of PID since it attached;\n"
		"        --growth ranks stacks by how fast they grow (leak suspects), and\n"
		"        a Go process's goroutine creation sites by goroutines per minute\n"
		"  dump PID --format ...       the same for other tools\n"
		"  rules | stats | reload | ping\n"
		"  incidents [show ID] [--dir DIR]   the OOM flight recorder's records\n"
		"  explain -p PID [-d SECONDS] [--json]   where the RSS is: tracked malloc, Go heap,\n"
		"        stacks, other anonymous mappings, file-backed, shmem, unexplained\n"
		"  version\n"
		"  run [--max-leaked [NAME=]SIZE] [--max-peak-rss [NAME=]SIZE]\n"
		"      [--max-allocated [NAME=]SIZE] [--max-goroutines-at-exit [NAME=]COUNT]\n"
		"      [--budgets FILE] [--report FILE] [--junit FILE] [--pprof FILE] [-n N]\n"
		"      [--sample-bytes N] -- CMD [ARGS...]\n"
		"        run CMD observed from its first instruction (every allocation, unless\n"
		"        --sample-bytes), and when it exits report on stderr what it still held\n"
		"        (by stack), allocated, its peak RSS and threads, and of a Go process\n"
		"        its goroutines still alive (by creation site) and its heap; --report:\n"
		"        the same as JSON, --junit: JUnit XML, one test case per budget, --pprof:\n"
		"        a gzipped pprof heap profile (in use at exit, allocated; label\n"
		"        process=COMM EXE). SIZE: 4096, 512K, 1M, 2G (binary units); COUNT:\n"
		"        goroutines alive at exit besides each main one; NAME=: for the\n"
		"        processes of that comm or executable basename only. --budgets FILE:\n"
		"        lines 'max-leaked 512K', 'max-leaked NAME=1M', # comments; the flags\n"
		"        override it. Exit status: CMD's own (128 + signal if a signal killed\n"
		"        it; 127 not found, 126 not executable) when every budget holds, 86\n"
		"        when one is broken or cannot be checked, 1 when memsight cannot\n"
		"        observe CMD (it is not run then)\n"
		"%s"
		"\n"
		"top and dump with -p PID observe here, without memsightd; with a bare PID they\n"
		"ask memsightd and observe here only when it does not watch that PID.\n"
		"\n"
		"options (each command takes those that apply to it, and refuses the others):\n"
		"  -p, --pid PID        process to attach to (also accepted as the first argument)\n"
		"  -d, --duration SECS  observation time (fractions allowed)\n"
		"  -n, --top N          stacks shown (default 10, 0 = all)\n"
		"      --frames N       frames shown per stack (default all)\n"
		"  -j, --json           JSON output (same as --format json)\n"
		"  -f, --format FMT     output format\n"
		"  -o, --output FILE    write output to FILE instead of stdout\n"
		"  -v, --verbose        debug output, including libbpf's\n"
		"      --socket PATH    memsightd's control socket (default $MEMSIGHT_SOCKET or\n"
		"                       " MS_DEFAULT_SOCKET ")\n"
		"                       $MEMSIGHT_TIMEOUT: seconds a call to memsightd may take\n"
		"                       in all, connecting included (default 60)\n"
		"                       $MEMSIGHT_HOST_ROOT: where the container runtimes' state\n"
		"                       is read for pod names when memsight observes (default /)\n"
		"      --sample-bytes N sampled mode: record one allocation every N bytes on\n"
		"                       average (Poisson, decided in BPF before any stack walk);\n"
		"                       figures are unbiased estimates. Also sets the Go rate.\n"
		"      --go-mallocgc    Go: probe every runtime.mallocgc call (every allocation\n"
		"                       traps) instead of the runtime's own sampler, which\n"
		"                       memsight otherwise uses and, if off, turns on by setting\n"
		"                       runtime.MemProfileRate (its only write into a target)\n"
		"      --kmem           also count kernel (slab) allocations made in the process's\n"
		"                       context (kmem tracepoints: every slab allocation on the\n"
		"                       host runs a filter while this is on)\n"
		"      --go-sample-bytes N  Go programs: sample runtime.mallocgc every N bytes on\n"
		"                       average (default 524288, the Go runtime's own rate)\n"
		"      --unwind MODE    C allocation stacks: auto (default: DWARF unwinding when a\n"
		"                       module, such as Debian's libc, has no frame pointers, up\n"
		"                       to --dwarf-rate stacks a second), fp (frame pointers only,\n"
		"                       in the kernel), dwarf (DWARF whatever the modules)\n"
		"      --dwarf-rate N   stacks copied for DWARF unwinding per second at most\n"
		"                       (auto: 25000; dwarf: no bound; 0: no bound); past it,\n"
		"                       frame pointers\n"
		"      --legacy-links   one perf-event uprobe per function instead of uprobe_multi\n"
		"                       links (chosen automatically on kernels before 6.6)\n"
		"\n"
		"Only allocations made after memsight attaches are counted.\n"
		"Exit status: 0 ok, 1 error, 2 usage, 3 target exited during observation\n"
		"(run: see above); diff: 86 when something grew past the gate.\n", diff_cli__usage);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Wait until the duration is over, a signal asks us to stop, or the target
 * exits. SIGINT/SIGTERM are blocked and taken synchronously, so an
 * interrupted run still reports what it collected and detaches cleanly.
 * Copied stacks are unwound as they arrive, so their ring never fills.
 */
static bool observe(struct ms_session *s, struct ms_target *t, double duration,
		    double *ret_elapsed)
{
	const struct timespec now_ts = { 0 };
	struct pollfd pfd = { .fd = ms_session__ustack_fd(s), .events = POLLIN };
	double start = now_s(), last_check = start;
	sigset_t set;
	bool exited = false;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	for (;;) {
		double now = now_s();

		if (duration > 0 && now - start >= duration)
			break;
		if (sigtimedwait(&set, NULL, &now_ts) > 0)
			break;
		if (now - last_check >= 0.1) {
			last_check = now;
			if (!ms_target__alive(t)) {
				exited = true;
				break;
			}
		}
		if (poll(&pfd, 1, 50) > 0)
			ms_session__poll_ustacks(s);
	}
	/* what is still in the ring belongs to this observation */
	ms_session__poll_ustacks(s);
	*ret_elapsed = now_s() - start;
	return exited;
}

/* memsight explain: RSS reconciled with what was tracked and the Go runtime. */
static int write_explain(const struct cli_args *c, const struct ms_profile *p, FILE *out)
{
	struct ms_smaps_summary sm;
	struct explain e;
	int err;

	err = smaps__read_summary("/proc", p->pid, &sm);
	if (err) {
		pr_err("cannot read /proc/%d/smaps: %s\n", p->pid, strerror(-err));
		return err;
	}
	explain__of_profile(p, &sm, &e);
	if (c->fmt == MS_FMT_JSON) {
		struct json_writer *w = jw__new(out);

		if (!w)
			return -ENOMEM;
		jw__set_pretty(w, c->pretty);
		explain__json(&e, p, w);
		jw__free(w);
	} else {
		explain__text(&e, p, out);
	}
	return 0;
}

static int write_output(const struct cli_args *c, const struct ms_profile *p)
{
	struct report_opts ro = { .top_n = c->top_n, .max_frames = c->max_frames,
				  .faults = c->faults };
	FILE *out = stdout;
	int err = 0;

	if (c->out_path) {
		out = fopen(c->out_path, "w");
		if (!out) {
			err = -errno;
			pr_err("cannot write %s: %s\n", c->out_path, strerror(errno));
			return err;
		}
	}
	if (c->cmd == MS_CMD_EXPLAIN) {
		err = write_explain(c, p, out);
		goto done;
	}
	switch (c->fmt) {
	case MS_FMT_TEXT:
		report__text(p, &ro, out);
		break;
	case MS_FMT_JSON: {
		struct json_writer *w = jw__new(out);

		if (!w) {
			err = -ENOMEM;
			break;
		}
		jw__set_pretty(w, c->pretty);
		err = report__json(p, &ro, w);
		jw__free(w);
		break;
	}
	case MS_FMT_PPROF:
		err = pprof__write(p, out);
		break;
	case MS_FMT_FOLDED:
		err = folded__write(p, FOLDED_INUSE_BYTES, out);
		break;
	case MS_FMT_SVG: {
		char title[128];

		snprintf(title, sizeof(title), "memsight: heap in use, PID %d (%s)", p->pid, p->comm);
		err = flamegraph__write_svg(p, FOLDED_INUSE_BYTES, title, out);
		break;
	}
	}
done:
	if (fflush(out) && !err)
		err = -errno;
	if (out != stdout && fclose(out) && !err)
		err = -errno;
	if (err)
		pr_err("writing the report failed: %s\n", strerror(-err));
	return err;
}

static int run_observation(struct cli_args *c)
{
	struct ms_session_opts so;
	/* pods: the runtimes' state under the host's / (memsight runs there) */
	struct ms_collect_opts co = { .host_root = getenv("MEMSIGHT_HOST_ROOT") ?
							   getenv("MEMSIGHT_HOST_ROOT") : "/" };
	struct ms_session *s = NULL;
	struct ms_target *t = NULL;
	struct ms_profile *p = NULL;
	struct symcache *cache = NULL;
	char errbuf[512] = "";
	double elapsed;
	bool exited;
	int err, rc = 1;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	options__session_opts(&c->sess, &so);
	err = procfs__pid_exists("/proc", c->pid);
	if (err) {
		pr_err("no such process: %d\n", c->pid);
		return 1;
	}
	cache = symcache__new(NULL);
	if (!cache) {
		pr_err("cannot create symbol cache: %s\n", strerror(errno));
		return 1;
	}
	err = ms_session__open(&so, &s, errbuf, sizeof(errbuf));
	if (err) {
		pr_err("%s\n", errbuf);
		goto out;
	}
	err = ms_session__attach(s, c->pid, &t, errbuf, sizeof(errbuf));
	if (err) {
		pr_err("%s\n", errbuf);
		goto out;
	}
	for (size_t i = 0; i < t->nmodules; i++)
		pr_info("attached to PID %d (%s): %u probes in %s (%s)\n", t->pid, t->comm,
			t->modules[i].nprobes, t->modules[i].path,
			ms_session__link_kind(s));
	if (t->usdt) {
		char probe[64];

		pr_info("attached to PID %d (%s): %s (%s), no malloc uprobes\n", t->pid, t->comm,
			ms_allocator_probe(true, t->sampler_mean, probe, sizeof(probe)),
			t->sampler_mean_set ? "set by memsight, put back at detach" :
			"the library's own");
	}
	if (t->go_probed && t->go_mprof)
		pr_info("attached to PID %d (%s): runtime.mProf_Malloc in %s (%s; the runtime's own "
			"sampler, one per %lld bytes%s; entry probe only)\n", t->pid, t->comm, t->exe,
			t->go_version, (long long)t->go_rate,
			t->go_rate_set ? ", turned on by memsight through runtime.MemProfileRate" : "");
	else if (t->go_probed)
		pr_info("attached to PID %d (%s): runtime.mallocgc in %s (%s; entry probe only, "
			"sampled every %llu bytes on average; every Go allocation traps)\n", t->pid,
			t->comm, t->exe, t->go_version,
			(unsigned long long)ms_session__go_sample_bytes(s));
	{
		char miss[512];

		ms_kfeatures__summary(ms_kfeatures(), miss, sizeof(miss));
		if (miss[0])
			pr_info("this kernel has %s (what each costs: memsight version)\n", miss);
	}
	if (c->duration > 0)
		pr_info("observing for %g s (Ctrl-C to stop early); allocations made before now "
			"are not counted\n", c->duration);
	else
		pr_info("observing until Ctrl-C; allocations made before now are not counted\n");

	if (t->dwarf)
		pr_info("attached to PID %d (%s): C allocation stacks unwound with DWARF (%s)\n",
			t->pid, t->comm, t->dwarf_why ?: "no frame pointers");
	exited = observe(s, t, c->duration, &elapsed);
	if (exited)
		pr_warn("process %d exited after %.1f s; reporting what was collected until then\n",
			c->pid, elapsed);
	co.duration_ns = elapsed * 1e9;
	err = ms_collect__profile(s, t, cache, &co, &p);
	if (err) {
		pr_err("cannot read collected data: %s\n", strerror(-err));
		goto out;
	}
	if (p->exec_unprobed)
		pr_warn("process %d exec'd a program whose allocator (%s) was not probed at "
			"attach: its allocations were not seen (attach again)\n", c->pid,
			p->exec_unprobed);
	err = write_output(c, p);
	if (!err)
		rc = exited ? EXIT_EXITED : 0;
out:
	ms_profile__free(p);
	ms_session__close(s);
	symcache__free(cache);
	return rc;
}

/* Print a reply's payload to -o FILE or stdout. */
static int write_payload(const struct cli_args *c, const struct ms_reply *r)
{
	FILE *out = stdout;
	int err = 0;

	if (c->out_path) {
		out = fopen(c->out_path, "w");
		if (!out) {
			pr_err("cannot write %s: %s\n", c->out_path, strerror(errno));
			return 1;
		}
	}
	if (fwrite(r->payload, 1, r->payload_len, out) != r->payload_len)
		err = -EIO;
	if (out != stdout && fclose(out))
		err = -errno;
	if (err) {
		pr_err("writing the report failed: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}

/*
 * One request to memsightd. Errors are printed here; *ret_code says what
 * the daemon refused (CTL_E_UNKNOWN when it did not answer).
 */
static int call_daemon(const struct cli_args *c, const struct ctl_request *q, struct ms_reply *r,
		       bool quiet_if_absent, enum ctl_errcode *ret_code)
{
	char err[1024];
	int rc;

	if (ret_code)
		*ret_code = CTL_E_UNKNOWN;
	rc = client__call(client__socket_path(c->socket), q, r, err, sizeof(err));
	if (rc) {
		bool absent = rc == -ENOENT || rc == -ECONNREFUSED;

		if (!(quiet_if_absent && absent))
			pr_err("%s%s\n", err, absent ? " (is memsightd running?)" : "");
		return rc;
	}
	if (!client__reply_ok(r, ret_code, err, sizeof(err))) {
		ms_reply__free(r);
		if (!(quiet_if_absent && ret_code && *ret_code == CTL_E_NOT_WATCHED))
			pr_err("%s\n", err);
		return -EPERM;
	}
	return 0;
}

/* Session options given that only an observation here honours. */
static const char *local_only_option(const struct cli_args *c)
{
	for (unsigned int o = 0; o < MS_OPT_SESSION_COUNT; o++)
		if (c->sess.given & MS_OPT_BIT(o))
			return options__name(o);
	return NULL;
}

/*
 * top/dump PID: memsightd's data when it watches PID (since it attached),
 * otherwise observe here for -d seconds. -p PID always observes here.
 */
static int observe_or_ask(struct cli_args *c, bool is_dump)
{
	static const enum ctl_format fmts[] = {
		[MS_FMT_TEXT] = CTL_FMT_TEXT, [MS_FMT_JSON] = CTL_FMT_JSON,
		[MS_FMT_PPROF] = CTL_FMT_PPROF, [MS_FMT_FOLDED] = CTL_FMT_FOLDED,
		[MS_FMT_SVG] = CTL_FMT_SVG,
	};
	enum ctl_errcode code;
	struct ctl_request q;
	struct ms_reply r;
	const char *opt;
	int rc;

	if (c->standalone)
		return run_observation(c);
	ctl__request_init(&q, is_dump ? CTL_DUMP : CTL_TOP);
	q.sel = CTL_SEL_PID;
	q.pid = c->pid;
	q.keys |= CTL_KEY_PID | CTL_KEY_FORMAT;
	q.format = fmts[c->fmt];
	if (!is_dump) {
		q.keys |= CTL_KEY_N | CTL_KEY_FRAMES;
		q.n = c->top_n;
		q.frames = c->max_frames;
		if (c->growth) {
			q.keys |= CTL_KEY_GROWTH;
			q.growth = true;
		}
	}
	rc = call_daemon(c, &q, &r, true, &code);
	if (!rc) {
		/* the daemon's data was sampled its own way: never pass it off as ours */
		opt = local_only_option(c);
		if (opt) {
			ms_reply__free(&r);
			pr_err("memsightd watches PID %d with its own settings: --%s applies to an "
			       "observation here (use -p %d)\n", c->pid, opt, c->pid);
			return EXIT_USAGE;
		}
		rc = r.has_payload ? write_payload(c, &r) : 0;
		ms_reply__free(&r);
		return rc;
	}
	if (code == CTL_E_NOT_WATCHED) {
		pr_info("PID %d is not watched by memsightd; observing it here instead\n", c->pid);
	} else if (rc != -ENOENT && rc != -ECONNREFUSED) {
		return 1;
	} else if (c->growth) {
		pr_err("--growth needs memsightd (its snapshots over time)\n");
		return 1;
	}
	return run_observation(c);
}

static void selector_request(const struct cli_args *c, enum ctl_verb verb,
			     struct ctl_request *q)
{
	ctl__request_init(q, verb);
	if (c->pid) {
		q->sel = CTL_SEL_PID;
		q->pid = c->pid;
		q->keys |= CTL_KEY_PID;
		return;
	}
	/* options__parse_cli() saw to one selector of at most CTL_VALUE_MAX bytes */
	q->sel = c->sel;
	snprintf(q->sel_value, sizeof(q->sel_value), "%s", c->sel_value);
	q->keys |= c->sel == CTL_SEL_COMM ? CTL_KEY_COMM : c->sel == CTL_SEL_EXE ? CTL_KEY_EXE :
		   CTL_KEY_CGROUP;
}

static int cmd_attach_detach(struct cli_args *c)
{
	enum ctl_verb verb = c->cmd == MS_CMD_ATTACH ? CTL_ATTACH : CTL_DETACH;
	struct ctl_request q;
	struct ms_reply r;

	selector_request(c, verb, &q);
	if (call_daemon(c, &q, &r, false, NULL))
		return 1;
	if (c->fmt == MS_FMT_JSON)
		printf("%s\n", r.line);
	else if (verb == CTL_ATTACH && c->pid)
		printf("memsightd now watches PID %d\n", c->pid);
	else if (verb == CTL_ATTACH)
		printf("memsightd now watches processes matching %s=%s (%s)\n",
		       ctl__selector_name(c->sel),
		       c->sel_value, r.line);
	else
		printf("memsightd detached: %s\n", r.line);
	ms_reply__free(&r);
	return 0;
}

/* ps, rules, stats, reload, ping: one request, its reply printed */
static int cmd_simple(struct cli_args *c)
{
	static const struct {
		enum ctl_verb verb;
		int (*print)(const struct ms_reply *, FILE *);
	} simple[MS_CMD_COUNT] = {
		[MS_CMD_PS] = { CTL_PS, client__print_ps },
		[MS_CMD_RULES] = { CTL_RULES, client__print_rules },
		[MS_CMD_STATS] = { CTL_STATS, client__print_stats },
		[MS_CMD_RELOAD] = { CTL_RELOAD, NULL },
		[MS_CMD_PING] = { CTL_PING, NULL },
	};
	struct ctl_request q;
	struct ms_reply r;
	int rc = 0;

	ctl__request_init(&q, simple[c->cmd].verb);
	if (call_daemon(c, &q, &r, false, NULL))
		return 1;
	if (c->fmt == MS_FMT_JSON || !simple[c->cmd].print)
		printf("%s\n", r.line);
	else if (simple[c->cmd].print(&r, stdout))
		rc = 1;
	ms_reply__free(&r);
	return rc;
}

/* Where incidents are: --dir, $MEMSIGHT_INCIDENTS, the config's, the default. */
static void incidents_dir(const char *opt, char *buf, size_t len)
{
	struct ms_config cfg;
	char err[256];

	if (opt || getenv("MEMSIGHT_INCIDENTS")) {
		snprintf(buf, len, "%s", opt ?: getenv("MEMSIGHT_INCIDENTS"));
		return;
	}
	if (access(MS_CONFIG_DEFAULT_PATH, R_OK) == 0 &&
	    config__load(MS_CONFIG_DEFAULT_PATH, &cfg, err, sizeof(err)) == 0) {
		snprintf(buf, len, "%s", cfg.incidents_dir);
		config__free(&cfg);
		return;
	}
	config__defaults(&cfg);
	snprintf(buf, len, "%s", cfg.incidents_dir);
	config__free(&cfg);
}

static int print_incident(const char *json, size_t len, FILE *out)
{
	return client__print_incident(json, len, out);
}

/*
 * memsight incidents [--dir DIR] [-j]          list the flight recorder's records
 * memsight incidents show ID [--dir DIR] [-j]  one of them
 * Read from the directory itself: no daemon needed, and records outlive it.
 */
static int cmd_incidents(struct cli_args *c)
{
	const char *show = NULL;
	struct incident_info *list = NULL;
	struct incidents *st;
	char dir[PATH_MAX];
	bool json = c->fmt == MS_FMT_JSON;
	size_t n = 0;
	int err;

	if (c->nargs && strcmp(c->args[0], "show")) {
		pr_err("unexpected argument '%s'\n", c->args[0]);
		return EXIT_USAGE;
	}
	if (c->nargs == 1) {
		pr_err("incidents show needs an ID (see memsight incidents)\n");
		return EXIT_USAGE;
	}
	if (c->nargs == 2)
		show = c->args[1];
	incidents_dir(c->dir, dir, sizeof(dir));
	/* reading only: the limits matter to the writer */
	err = incidents__open(dir, 1000000, UINT64_MAX / 2, &st);
	if (err) {
		pr_err("cannot open the incident store %s: %s\n", dir, incidents__strerror(err));
		return 1;
	}
	if (show) {
		char *buf = NULL;
		size_t len = 0;

		err = incidents__read(st, show, &buf, &len);
		if (err) {
			pr_err("no incident '%s' in %s: %s\n", show, dir, strerror(-err));
		} else if (json) {
			fwrite(buf, 1, len, stdout);
		} else if (print_incident(buf, len, stdout)) {
			pr_err("incident '%s' is not readable JSON\n", show);
			err = -EINVAL;
		}
		free(buf);
		incidents__close(st);
		return err ? 1 : 0;
	}
	err = incidents__list(st, &list, &n);
	incidents__close(st);
	if (err) {
		pr_err("cannot list %s: %s\n", dir, strerror(-err));
		return 1;
	}
	if (json) {
		struct json_writer *w = jw__new(stdout);

		if (!w) {
			free(list);
			return 1;
		}
		incidents__json_list(list, n, w);
		jw__finish(w);
		jw__free(w);
		putchar('\n');
	} else {
		size_t cw = 16;

		/* as wide as the widest comm, escapes and all, so BYTES lines up */
		for (size_t i = 0; i < n; i++)
			if (textsafe__width(list[i].comm) > cw)
				cw = textsafe__width(list[i].comm);
		printf("%-28s %-20s %8s %-*s %10s\n", "ID", "TIME (UTC)", "PID", (int)cw, "COMM",
		       "BYTES");
		for (size_t i = 0; i < n; i++) {
			char when[32], comm[TEXTSAFE_SIZE(sizeof(list[i].comm))];
			time_t t = list[i].when;
			struct tm tm;

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
			/* the comm is the target's: escaped */
			printf("%-28s %-20s %8d %s %10llu\n", list[i].id, when, list[i].pid,
			       textsafe__col(comm, sizeof(comm), list[i].comm[0] ? list[i].comm : "?",
					     (int)cw), (unsigned long long)list[i].size);
		}
		if (!n)
			printf("(no incidents recorded in %s)\n", dir);
	}
	free(list);
	return 0;
}

static int cmd_top(struct cli_args *c)
{
	return observe_or_ask(c, false);
}

static int cmd_dump(struct cli_args *c)
{
	if (c->fmt == MS_FMT_PPROF && !c->out_path && isatty(STDOUT_FILENO)) {
		pr_err("pprof output is binary: give -o FILE or redirect stdout\n");
		return EXIT_USAGE;
	}
	return observe_or_ask(c, true);
}

static int cmd_explain(struct cli_args *c)
{
	c->standalone = true;
	return run_observation(c);
}

/* The version, and what the running kernel offers (probed, as every session does). */
static int cmd_version(struct cli_args *c)
{
	struct utsname u;

	(void)c;

	printf("memsight %s\n", MEMSIGHT_VERSION);
	if (uname(&u) == 0)
		printf("kernel %s\n", u.release);
	ms_kfeatures__print(ms_kfeatures(), stdout);
	return 0;
}

static int (*const cmds[MS_CMD_COUNT])(struct cli_args *c) = {
	[MS_CMD_TOP] = cmd_top,
	[MS_CMD_DUMP] = cmd_dump,
	[MS_CMD_EXPLAIN] = cmd_explain,
	[MS_CMD_ATTACH] = cmd_attach_detach,
	[MS_CMD_DETACH] = cmd_attach_detach,
	[MS_CMD_PS] = cmd_simple,
	[MS_CMD_RULES] = cmd_simple,
	[MS_CMD_STATS] = cmd_simple,
	[MS_CMD_RELOAD] = cmd_simple,
	[MS_CMD_PING] = cmd_simple,
	[MS_CMD_INCIDENTS] = cmd_incidents,
	[MS_CMD_VERSION] = cmd_version,
	[MS_CMD_RUN] = run__main,
};

int main(int argc, char **argv)
{
	struct cli_args c;
	char err[512];

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "diff"))
		return diff_cli__main(argc - 1, argv + 1);
	if (options__parse_cli(argc, argv, &c, err, sizeof(err))) {
		pr_err("%s\n", err);
		return EXIT_USAGE;
	}
	if (c.verbose)
		ms_log_level = MS_LOG_DEBUG;
	ms_log__setup_libbpf();
	if (c.help) {
		usage(stdout);
		return 0;
	}
	if (c.cmd == MS_CMD_HELP || !cmds[c.cmd]) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return cmds[c.cmd](&c);
}
