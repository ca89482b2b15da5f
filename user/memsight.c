// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memsight - command line front end.
 *
 *   memsight top  -p PID [-d SECONDS] [-n N] [--json]
 *   memsight dump -p PID [-d SECONDS] --format pprof|folded|svg|json|text [-o FILE]
 *
 * Exit status: 0 ok, 1 error, 2 usage, 3 the target exited during
 * observation (the report up to its exit is still printed).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "folded.h"
#include "flamegraph.h"
#include "json.h"
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
		"  dump -p PID [-d SECONDS] --format pprof|folded|svg|json|text [-o FILE]\n"
		"        the same observation, written in a format other tools read\n"
		"  version\n"
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
		"      --legacy-links   one perf-event uprobe per function instead of uprobe_multi\n"
		"                       links (chosen automatically on kernels before 6.6)\n"
		"\n"
		"Only allocations made after memsight attaches are counted.\n"
		"Exit status: 0 ok, 1 error, 2 usage, 3 target exited during observation.\n");
}

static int parse_args(int argc, char **argv, struct cli *c, bool is_dump)
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
			if (parse_pid(optarg, &c->pid)) {
				pr_err("invalid PID '%s': expected a positive number\n", optarg);
				return -EINVAL;
			}
			break;
		case 'd':
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
	if (!c->pid) {
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
 */
static bool observe(struct ms_target *t, double duration, double *ret_elapsed)
{
	struct timespec step = { .tv_nsec = 100 * 1000 * 1000 };
	double start = now_s();
	sigset_t set;
	bool exited = false;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	for (;;) {
		if (duration > 0 && now_s() - start >= duration)
			break;
		if (sigtimedwait(&set, NULL, &step) > 0)
			break;
		if (!ms_target__alive(t)) {
			exited = true;
			break;
		}
	}
	*ret_elapsed = now_s() - start;
	return exited;
}

static int write_output(const struct cli *c, const struct ms_profile *p)
{
	struct report_opts ro = { .top_n = c->top_n, .max_frames = c->max_frames };
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
	struct ms_session_opts so = { .no_multi = c->legacy_links };
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
			ms_session__multi(s) ? "uprobe_multi links" : "per-function links");
	if (c->duration > 0)
		pr_info("observing for %g s (Ctrl-C to stop early); allocations made before now "
			"are not counted\n", c->duration);
	else
		pr_info("observing until Ctrl-C; allocations made before now are not counted\n");

	exited = observe(t, c->duration, &elapsed);
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

static int cmd_top(int argc, char **argv)
{
	struct cli c = { .duration = 10, .top_n = 10 };

	if (parse_args(argc, argv, &c, false))
		return EXIT_USAGE;
	return run_observation(&c);
}

static int cmd_dump(int argc, char **argv)
{
	struct cli c = { .duration = 10, .fmt = FMT_PPROF };

	if (parse_args(argc, argv, &c, true))
		return EXIT_USAGE;
	return run_observation(&c);
}

static int cmd_version(int argc, char **argv)
{
	printf("memsight %s\n", MEMSIGHT_VERSION);
	return 0;
}

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "top", cmd_top },
	{ "dump", cmd_dump },
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
