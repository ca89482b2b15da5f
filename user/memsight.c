// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memsight - command line front end.
 *
 * Standalone (no daemon needed): observe a process for a while.
 *   memsight top  -p PID [-d SECONDS] [-n N] [--json]
 *   memsight dump -p PID [-d SECONDS] --format pprof|folded|svg|json|text [-o FILE]
 * Through memsightd (data since the daemon attached):
 *   memsight attach PID | --comm NAME | --exe PATH | --cgroup PATH
 *   memsight detach PID | --comm NAME | --exe PATH | --cgroup PATH
 *   memsight ps | rules | stats | reload | ping
 *   memsight top PID [--growth] ...   memsight dump PID --format ... -o FILE
 *
 * Exit status: 0 ok, 1 error, 2 usage, 3 the target exited during
 * observation (the report up to its exit is still printed).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "client.h"
#include "collect.h"
#include "config.h"
#include "explain.h"
#include "incidents.h"
#include "folded.h"
#include "flamegraph.h"
#include "json.h"
#include "kernel.h"
#include "log.h"
#include "pprof.h"
#include "procfs.h"
#include "report.h"
#include "session.h"
#include "symbolize.h"

#define EXIT_USAGE	2
#define EXIT_EXITED	3

#ifndef MEMSIGHT_VERSION
#define MEMSIGHT_VERSION "0.1.0"
#endif

enum out_format { FMT_TEXT, FMT_JSON, FMT_PPROF, FMT_FOLDED, FMT_SVG };

struct cli {
	pid_t pid;
	double duration;
	unsigned int top_n;
	unsigned int max_frames;
	enum out_format fmt;
	const char *out_path;
	bool pretty;
	bool legacy_links;
	uint64_t go_sample_bytes;
	uint64_t sample_bytes;
	bool standalone;	/* -p given: observe here, not through memsightd */
	bool growth;
	bool faults;
	bool explain;
	bool kmem;
	bool go_mallocgc;
	int unwind;		/* enum ms_unwind */
	bool have_duration;
	const char *socket;
	enum ctl_selector sel;
	const char *sel_value;
};

static int parse_pid(const char *s, pid_t *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_uint(const char *s, unsigned int *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v > UINT_MAX || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_format(const char *s, enum out_format *ret)
{
	static const struct { const char *name; enum out_format f; } fmts[] = {
		{ "text", FMT_TEXT }, { "json", FMT_JSON }, { "pprof", FMT_PPROF },
		{ "folded", FMT_FOLDED }, { "svg", FMT_SVG },
	};

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (!strcmp(s, fmts[i].name)) {
			*ret = fmts[i].f;
			return 0;
		}
	}
	return -EINVAL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: memsight [-v] COMMAND [OPTIONS]\n"
		"\n"
		"commands:\n"
		"  top  -p PID [-d SECONDS] [-n N] [--json]\n"
		"        attach to a running process, observe for SECONDS (default 10; 0 = until\n"
		"        Ctrl-C), then show the top N call stacks by heap bytes still in use\n"
		"        --faults: the code that first touched new memory (user page faults)\n"
		"  dump -p PID [-d SECONDS] --format pprof|folded|svg|json|text [-o FILE]\n"
		"        the same observation, written in a format other tools read\n"
		"  attach PID | --comm NAME | --exe PATH | --cgroup PATH\n"
		"        ask memsightd to watch a process, or every process matching (now and\n"
		"        when started later: comm and exe take shell globs, cgroup a path prefix)\n"
		"  detach PID | --comm NAME | --exe PATH | --cgroup PATH\n"
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
		"\n"
		"top and dump with -p PID observe here, without memsightd; with a bare PID they\n"
		"ask memsightd and observe here only when it does not watch that PID.\n"
		"\n"
		"options:\n"
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
		"      --unwind MODE    C allocation stacks: auto (default: DWARF unwinding of\n"
		"                       sampled allocations when a module, such as Debian's libc,\n"
		"                       has no frame pointers), fp (frame pointers only, in the\n"
		"                       kernel), dwarf (copy and unwind every recorded stack: full\n"
		"                       stacks, exact figures, for moderate allocation rates)\n"
		"      --legacy-links   one perf-event uprobe per function instead of uprobe_multi\n"
		"                       links (chosen automatically on kernels before 6.6)\n"
		"\n"
		"Only allocations made after memsight attaches are counted.\n"
		"Exit status: 0 ok, 1 error, 2 usage, 3 target exited during observation.\n");
}

static int parse_args(int argc, char **argv, struct cli *c, bool is_dump, bool need_pid)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "top", required_argument, NULL, 'n' },
		{ "frames", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "pretty", no_argument, NULL, 'P' },
		{ "legacy-links", no_argument, NULL, 'L' },
		{ "go-sample-bytes", required_argument, NULL, 'g' },
		{ "sample-bytes", required_argument, NULL, 'b' },
		{ "growth", no_argument, NULL, 'G' },
		{ "faults", no_argument, NULL, 'T' },
		{ "kmem", no_argument, NULL, 'K' },
		{ "go-mallocgc", no_argument, NULL, 'M' },
		{ "unwind", required_argument, NULL, 'U' },
		{ "socket", required_argument, NULL, 'S' },
		{ "comm", required_argument, NULL, 'C' },
		{ "exe", required_argument, NULL, 'E' },
		{ "cgroup", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:d:n:jf:o:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			c->standalone = true;
			if (parse_pid(optarg, &c->pid)) {
				pr_err("invalid PID '%s': expected a positive number\n", optarg);
				return -EINVAL;
			}
			break;
		case 'd':
			c->have_duration = true;
			errno = 0;
			c->duration = strtod(optarg, &end);
			if (errno || *end || end == optarg || c->duration < 0 || c->duration > 1e7) {
				pr_err("invalid duration '%s': expected seconds >= 0\n", optarg);
				return -EINVAL;
			}
			break;
		case 'n':
			if (parse_uint(optarg, &c->top_n)) {
				pr_err("invalid count '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'F':
			if (parse_uint(optarg, &c->max_frames)) {
				pr_err("invalid frame count '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'j':
			c->fmt = FMT_JSON;
			break;
		case 'f':
			if (parse_format(optarg, &c->fmt)) {
				pr_err("unknown format '%s' (text, json, pprof, folded, svg)\n", optarg);
				return -EINVAL;
			}
			break;
		case 'o':
			c->out_path = optarg;
			break;
		case 'P':
			c->pretty = true;
			break;
		case 'L':
			c->legacy_links = true;
			break;
		case 'G':
			c->growth = true;
			break;
		case 'M':
			c->go_mallocgc = true;
			c->standalone = true;
			break;
		case 'K':
			c->kmem = true;
			c->standalone = true;
			break;
		case 'U': {
			enum ms_unwind u;

			if (ms_unwind__parse(optarg, &u)) {
				pr_err("invalid --unwind '%s' (auto, fp, dwarf)\n", optarg);
				return -EINVAL;
			}
			c->unwind = u;
			c->standalone = true;	/* observed here: memsightd has its own setting */
			break;
		}
		case 'T':
			c->faults = true;
			c->standalone = true;	/* observed here: needs the fault stream */
			break;
		case 'g':
		case 'b': {
			unsigned int v;

			if (parse_uint(optarg, &v) || v == 0) {
				pr_err("invalid %s '%s'\n", opt == 'g' ? "--go-sample-bytes" :
				       "--sample-bytes", optarg);
				return -EINVAL;
			}
			if (opt == 'g')
				c->go_sample_bytes = v;
			else
				c->sample_bytes = v;
			break;
		}
		case 'S':
			c->socket = optarg;
			break;
		case 'C':
		case 'E':
		case 'R':
			if (c->sel != CTL_SEL_NONE) {
				pr_err("give one of PID, --comm, --exe, --cgroup\n");
				return -EINVAL;
			}
			c->sel = opt == 'C' ? CTL_SEL_COMM : opt == 'E' ? CTL_SEL_EXE : CTL_SEL_CGROUP;
			c->sel_value = optarg;
			break;
		case 'v':
			ms_log_level = MS_LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc && !c->pid) {
		if (parse_pid(argv[optind], &c->pid)) {
			pr_err("invalid PID '%s': expected a positive number\n", argv[optind]);
			return -EINVAL;
		}
		optind++;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (need_pid && !c->pid) {
		pr_err("no process given: use -p PID\n");
		return -EINVAL;
	}
	if (is_dump && c->fmt == FMT_PPROF && !c->out_path && isatty(STDOUT_FILENO)) {
		pr_err("pprof output is binary: give -o FILE or redirect stdout\n");
		return -EINVAL;
	}
	return 0;
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
static int write_explain(const struct cli *c, const struct ms_profile *p, FILE *out)
{
	struct explain_in in = {};
	struct ms_smaps sm = {};
	struct explain e;
	int err;

	err = smaps__read("/proc", p->pid, &sm);
	if (err) {
		pr_err("cannot read /proc/%d/smaps: %s\n", p->pid, strerror(-err));
		return err;
	}
	err = smaps__summary(&sm, &in.smaps);
	ms_smaps__free(&sm);
	if (err)
		return err;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ms_stack *st = &p->stacks[i];

		if (st->kind == MS_KIND_MMAP)
			in.mmap_inuse += st->inuse_bytes;
		else if (st->kind < MS_KIND_MMAP)
			in.malloc_inuse += st->inuse_bytes;
	}
	if (p->go.present && p->go.have_heap) {
		in.have_go = 1;
		in.go_heap_inuse = p->go.heap_inuse;
		in.go_heap_idle = p->go.heap_idle;
		in.go_heap_released = p->go.heap_released;
		in.go_stack_inuse = p->go.stack_inuse;
	}
	explain__compute(&in, &e);
	if (c->fmt == FMT_JSON) {
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

static int write_output(const struct cli *c, const struct ms_profile *p)
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
	if (c->explain) {
		err = write_explain(c, p, out);
		goto done;
	}
	switch (c->fmt) {
	case FMT_TEXT:
		report__text(p, &ro, out);
		break;
	case FMT_JSON: {
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
	case FMT_PPROF:
		err = pprof__write(p, out);
		break;
	case FMT_FOLDED:
		err = folded__write(p, FOLDED_INUSE_BYTES, out);
		break;
	case FMT_SVG: {
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

static int run_observation(struct cli *c)
{
	struct ms_session_opts so = { .no_multi = c->legacy_links,
				      .go_sample_bytes = c->go_sample_bytes, .kmem = c->kmem,
				      .c_sample_bytes = c->sample_bytes,
				      .go_mallocgc = c->go_mallocgc,
				      .unwind = (enum ms_unwind)c->unwind };
	struct ms_collect_opts co = {};
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
static int write_payload(const struct cli *c, const struct ms_reply *r)
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
 * One request to memsightd. *ret_nodaemon is set when nobody listens, so
 * top and dump can fall back to observing on their own.
 */
static int call_daemon(const struct cli *c, const struct ctl_request *q, struct ms_reply *r,
		       bool quiet_if_absent, bool *ret_nodaemon)
{
	char err[1024];
	int rc;

	rc = client__call(client__socket_path(c->socket), q, r, err, sizeof(err));
	if (ret_nodaemon)
		*ret_nodaemon = rc == -ENOENT || rc == -ECONNREFUSED;
	if (rc) {
		if (!(quiet_if_absent && (rc == -ENOENT || rc == -ECONNREFUSED)))
			pr_err("%s%s\n", err, (rc == -ENOENT || rc == -ECONNREFUSED) ?
			       " (is memsightd running?)" : "");
		return 1;
	}
	if (!client__reply_ok(r, err, sizeof(err))) {
		pr_err("%s\n", err);
		ms_reply__free(r);
		return 1;
	}
	return 0;
}

/*
 * top/dump PID: memsightd's data when it watches PID (since it attached),
 * otherwise observe here for -d seconds. -p PID always observes here.
 */
static int observe_or_ask(struct cli *c, bool is_dump)
{
	static const enum ctl_format fmts[] = {
		[FMT_TEXT] = CTL_FMT_TEXT, [FMT_JSON] = CTL_FMT_JSON, [FMT_PPROF] = CTL_FMT_PPROF,
		[FMT_FOLDED] = CTL_FMT_FOLDED, [FMT_SVG] = CTL_FMT_SVG,
	};
	struct ctl_request q;
	struct ms_reply r;
	bool nodaemon = false;
	char err[1024];
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
	rc = client__call(client__socket_path(c->socket), &q, &r, err, sizeof(err));
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		nodaemon = true;
	} else if (rc) {
		pr_err("%s\n", err);
		return 1;
	} else if (!client__reply_ok(&r, err, sizeof(err))) {
		ms_reply__free(&r);
		if (!strstr(err, "is not watched")) {
			pr_err("%s\n", err);
			return 1;
		}
		pr_info("PID %d is not watched by memsightd; observing it here instead\n", c->pid);
		return run_observation(c);
	} else {
		rc = r.has_payload ? write_payload(c, &r) : 0;
		ms_reply__free(&r);
		return rc;
	}
	(void)nodaemon;
	if (c->growth) {
		pr_err("--growth needs memsightd (its snapshots over time)\n");
		return 1;
	}
	return run_observation(c);
}

static int selector_request(struct cli *c, enum ctl_verb verb, struct ctl_request *q)
{
	ctl__request_init(q, verb);
	if (c->pid) {
		q->sel = CTL_SEL_PID;
		q->pid = c->pid;
		q->keys |= CTL_KEY_PID;
		return 0;
	}
	if (c->sel == CTL_SEL_NONE) {
		pr_err("give a PID, --comm NAME, --exe PATH or --cgroup PATH\n");
		return -EINVAL;
	}
	if (strlen(c->sel_value) > CTL_VALUE_MAX) {
		pr_err("selector longer than %d bytes\n", CTL_VALUE_MAX);
		return -EINVAL;
	}
	q->sel = c->sel;
	snprintf(q->sel_value, sizeof(q->sel_value), "%s", c->sel_value);
	q->keys |= c->sel == CTL_SEL_COMM ? CTL_KEY_COMM : c->sel == CTL_SEL_EXE ? CTL_KEY_EXE :
		   CTL_KEY_CGROUP;
	return 0;
}

static int cmd_attach_detach(int argc, char **argv, enum ctl_verb verb)
{
	struct cli c = {};
	struct ctl_request q;
	struct ms_reply r;

	if (parse_args(argc, argv, &c, false, false) || selector_request(&c, verb, &q))
		return EXIT_USAGE;
	if (call_daemon(&c, &q, &r, false, NULL))
		return 1;
	if (c.fmt == FMT_JSON)
		printf("%s\n", r.line);
	else if (verb == CTL_ATTACH && c.pid)
		printf("memsightd now watches PID %d\n", c.pid);
	else if (verb == CTL_ATTACH)
		printf("memsightd now watches processes matching %s=%s (%s)\n",
		       c.sel == CTL_SEL_COMM ? "comm" : c.sel == CTL_SEL_EXE ? "exe" : "cgroup",
		       c.sel_value, r.line);
	else
		printf("memsightd detached: %s\n", r.line);
	ms_reply__free(&r);
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	return cmd_attach_detach(argc, argv, CTL_ATTACH);
}

static int cmd_detach(int argc, char **argv)
{
	return cmd_attach_detach(argc, argv, CTL_DETACH);
}

static int cmd_simple(int argc, char **argv, enum ctl_verb verb,
		      int (*print)(const struct ms_reply *, FILE *))
{
	struct cli c = {};
	struct ctl_request q;
	struct ms_reply r;
	int rc = 0;

	if (parse_args(argc, argv, &c, false, false))
		return EXIT_USAGE;
	ctl__request_init(&q, verb);
	if (call_daemon(&c, &q, &r, false, NULL))
		return 1;
	if (c.fmt == FMT_JSON || !print)
		printf("%s\n", r.line);
	else if (print(&r, stdout))
		rc = 1;
	ms_reply__free(&r);
	return rc;
}

static int cmd_ps(int argc, char **argv)
{
	return cmd_simple(argc, argv, CTL_PS, client__print_ps);
}

static int cmd_rules(int argc, char **argv)
{
	return cmd_simple(argc, argv, CTL_RULES, client__print_rules);
}

static int cmd_stats(int argc, char **argv)
{
	return cmd_simple(argc, argv, CTL_STATS, client__print_stats);
}

static int cmd_reload(int argc, char **argv)
{
	return cmd_simple(argc, argv, CTL_RELOAD, NULL);
}

static int cmd_ping(int argc, char **argv)
{
	return cmd_simple(argc, argv, CTL_PING, NULL);
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
static int cmd_incidents(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{}
	};
	const char *dir_opt = NULL, *show = NULL;
	struct incident_info *list = NULL;
	struct incidents *st;
	char dir[PATH_MAX];
	bool json = false;
	size_t n = 0;
	int opt, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		if (opt == 'D')
			dir_opt = optarg;
		else if (opt == 'j')
			json = true;
		else
			return EXIT_USAGE;
	}
	if (optind < argc && !strcmp(argv[optind], "show")) {
		if (optind + 1 >= argc) {
			pr_err("incidents show needs an ID (see memsight incidents)\n");
			return EXIT_USAGE;
		}
		show = argv[optind + 1];
	} else if (optind < argc) {
		pr_err("unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	incidents_dir(dir_opt, dir, sizeof(dir));
	/* reading only: the limits matter to the writer */
	err = incidents__open(dir, 1000000, UINT64_MAX / 2, &st);
	if (err) {
		pr_err("cannot open the incident store %s: %s\n", dir, strerror(-err));
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
		printf("[");
		for (size_t i = 0; i < n; i++)
			printf("%s{\"id\":\"%s\",\"time\":%lld,\"pid\":%d,\"bytes\":%llu}",
			       i ? "," : "", list[i].id, (long long)list[i].when, list[i].pid,
			       (unsigned long long)list[i].size);
		printf("]\n");
	} else {
		printf("%-28s %-20s %8s %-16s %10s\n", "ID", "TIME (UTC)", "PID", "COMM", "BYTES");
		for (size_t i = 0; i < n; i++) {
			char when[32];
			time_t t = list[i].when;
			struct tm tm;

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
			printf("%-28s %-20s %8d %-16s %10llu\n", list[i].id, when, list[i].pid,
			       list[i].comm[0] ? list[i].comm : "?", (unsigned long long)list[i].size);
		}
		if (!n)
			printf("(no incidents recorded in %s)\n", dir);
	}
	free(list);
	return 0;
}

static int cmd_top(int argc, char **argv)
{
	struct cli c = { .duration = 10, .top_n = 10 };

	if (parse_args(argc, argv, &c, false, true))
		return EXIT_USAGE;
	return observe_or_ask(&c, false);
}

static int cmd_dump(int argc, char **argv)
{
	struct cli c = { .duration = 10, .fmt = FMT_PPROF };

	if (parse_args(argc, argv, &c, true, true))
		return EXIT_USAGE;
	return observe_or_ask(&c, true);
}

static int cmd_explain(int argc, char **argv)
{
	struct cli c = { .duration = 2, .explain = true };

	if (parse_args(argc, argv, &c, false, true))
		return EXIT_USAGE;
	c.standalone = true;
	return run_observation(&c);
}

/* The version, and what the running kernel offers (probed, as every session does). */
static int cmd_version(int argc, char **argv)
{
	struct utsname u;

	printf("memsight %s\n", MEMSIGHT_VERSION);
	if (uname(&u) == 0)
		printf("kernel %s\n", u.release);
	ms_kfeatures__print(ms_kfeatures(), stdout);
	return 0;
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "top", cmd_top },
	{ "dump", cmd_dump },
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "ps", cmd_ps },
	{ "rules", cmd_rules },
	{ "stats", cmd_stats },
	{ "reload", cmd_reload },
	{ "ping", cmd_ping },
	{ "incidents", cmd_incidents },
	{ "explain", cmd_explain },
	{ "version", cmd_version },
};

int main(int argc, char **argv)
{
	int i = 1;

	setvbuf(stderr, NULL, _IOLBF, 0);
	while (i < argc && (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))) {
		ms_log_level = MS_LOG_DEBUG;
		i++;
	}
	ms_log__setup_libbpf();
	if (i >= argc || !strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") ||
	    !strcmp(argv[i], "help")) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? EXIT_USAGE : 0;
	}
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (!strcmp(argv[i], cmds[k].name))
			return cmds[k].fn(argc - i, argv + i);
	pr_err("unknown command '%s' (try: memsight help)\n", argv[i]);
	return EXIT_USAGE;
}
