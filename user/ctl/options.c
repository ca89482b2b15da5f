// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errmsg.h"
#include "common/size.h"
#include "ctl/options.h"
#include "model/budget_file.h"

#define ONE_SELECTOR "give one of PID, --comm, --exe, --cgroup, --pod, --namespace, --container"

static const struct opt_desc {
	const char *name;
	char short_name;	/* 0: long only */
	int has_arg;
} opts[MS_OPT_COUNT] = {
	[MS_OPT_SAMPLE_BYTES] = { "sample-bytes", 0, required_argument },
	[MS_OPT_GO_SAMPLE_BYTES] = { "go-sample-bytes", 0, required_argument },
	[MS_OPT_GO_MALLOCGC] = { "go-mallocgc", 0, no_argument },
	[MS_OPT_KMEM] = { "kmem", 0, no_argument },
	[MS_OPT_UNWIND] = { "unwind", 0, required_argument },
	[MS_OPT_LEGACY_LINKS] = { "legacy-links", 0, no_argument },
	[MS_OPT_DWARF_RATE] = { "dwarf-rate", 0, required_argument },
	[MS_OPT_PID] = { "pid", 'p', required_argument },
	[MS_OPT_DURATION] = { "duration", 'd', required_argument },
	[MS_OPT_TOP] = { "top", 'n', required_argument },
	[MS_OPT_FRAMES] = { "frames", 0, required_argument },
	[MS_OPT_JSON] = { "json", 'j', no_argument },
	[MS_OPT_FORMAT] = { "format", 'f', required_argument },
	[MS_OPT_OUTPUT] = { "output", 'o', required_argument },
	[MS_OPT_PRETTY] = { "pretty", 0, no_argument },
	[MS_OPT_GROWTH] = { "growth", 0, no_argument },
	[MS_OPT_FAULTS] = { "faults", 0, no_argument },
	[MS_OPT_SOCKET] = { "socket", 0, required_argument },
	[MS_OPT_COMM] = { "comm", 0, required_argument },
	[MS_OPT_EXE] = { "exe", 0, required_argument },
	[MS_OPT_CGROUP] = { "cgroup", 0, required_argument },
	[MS_OPT_POD] = { "pod", 0, required_argument },
	[MS_OPT_NAMESPACE] = { "namespace", 0, required_argument },
	[MS_OPT_CONTAINER] = { "container", 0, required_argument },
	[MS_OPT_DIR] = { "dir", 0, required_argument },
	[MS_OPT_MAX_LEAKED] = { "max-leaked", 0, required_argument },
	[MS_OPT_MAX_PEAK_RSS] = { "max-peak-rss", 0, required_argument },
	[MS_OPT_MAX_ALLOCATED] = { "max-allocated", 0, required_argument },
	[MS_OPT_MAX_GOROUTINES] = { "max-goroutines-at-exit", 0, required_argument },
	[MS_OPT_BUDGETS] = { "budgets", 0, required_argument },
	[MS_OPT_REPORT] = { "report", 0, required_argument },
	[MS_OPT_JUNIT] = { "junit", 0, required_argument },
	[MS_OPT_PPROF] = { "pprof", 0, required_argument },
	[MS_OPT_VERBOSE] = { "verbose", 'v', no_argument },
	[MS_OPT_HELP] = { "help", 'h', no_argument },
};

#define O(x)		MS_OPT_BIT(MS_OPT_##x)
#define SESSION		(O(SAMPLE_BYTES) | O(GO_SAMPLE_BYTES) | O(GO_MALLOCGC) | O(KMEM) | \
			 O(UNWIND) | O(LEGACY_LINKS) | O(DWARF_RATE))
/* what may come before the command */
#define GLOBAL		(O(VERBOSE) | O(SOCKET) | O(HELP))
#define BASIC		(O(VERBOSE) | O(HELP))
#define DAEMON		(BASIC | O(SOCKET) | O(JSON))
#define OBSERVE		(BASIC | SESSION | O(PID) | O(DURATION) | O(JSON) | O(OUTPUT) | O(PRETTY))
#define BUDGETS		(O(MAX_LEAKED) | O(MAX_PEAK_RSS) | O(MAX_ALLOCATED) | O(MAX_GOROUTINES) | \
			 O(BUDGETS))
#define SELECTOR	(O(COMM) | O(EXE) | O(CGROUP) | O(POD) | O(NAMESPACE) | O(CONTAINER))

/* cmd_desc.flags */
#define PID_ARG		1u	/* the first argument is a PID */
#define NEED_PID	2u
#define COMMAND		4u	/* options end at the first argument: a command and its own */

static const struct cmd_desc {
	const char *name;
	uint64_t opts;			/* MS_OPT_BIT()s the command takes */
	unsigned int flags;
	unsigned int max_args;		/* arguments beyond the PID */
	double duration;
	unsigned int top_n;
	enum ms_out_format fmt;
} cmds[MS_CMD_COUNT] = {
	[MS_CMD_TOP] = { "top", OBSERVE | O(SOCKET) | O(TOP) | O(FRAMES) | O(FORMAT) | O(GROWTH) |
			 O(FAULTS), PID_ARG | NEED_PID, 0, 10, 10, MS_FMT_TEXT },
	/* --growth is top's: memsightd's dump does not rank by growth */
	[MS_CMD_DUMP] = { "dump", OBSERVE | O(SOCKET) | O(TOP) | O(FRAMES) | O(FORMAT) | O(FAULTS),
			  PID_ARG | NEED_PID, 0, 10, 0, MS_FMT_PPROF },
	[MS_CMD_EXPLAIN] = { "explain", OBSERVE, PID_ARG | NEED_PID, 0, 2, 0, MS_FMT_TEXT },
	[MS_CMD_ATTACH] = { "attach", DAEMON | O(PID) | SELECTOR, PID_ARG },
	[MS_CMD_DETACH] = { "detach", DAEMON | O(PID) | SELECTOR, PID_ARG },
	[MS_CMD_PS] = { "ps", DAEMON },
	[MS_CMD_RULES] = { "rules", DAEMON },
	[MS_CMD_STATS] = { "stats", DAEMON },
	[MS_CMD_RELOAD] = { "reload", DAEMON },
	[MS_CMD_PING] = { "ping", DAEMON },
	[MS_CMD_INCIDENTS] = { "incidents", BASIC | O(DIR) | O(JSON), 0, 2 },
	[MS_CMD_VERSION] = { "version", BASIC },
	[MS_CMD_RUN] = { "run", BASIC | SESSION | BUDGETS | O(REPORT) | O(JUNIT) | O(PPROF) | O(TOP) |
			 O(FRAMES) | O(PRETTY), COMMAND, 0, 0, 5, MS_FMT_TEXT },
	[MS_CMD_HELP] = { "help", BASIC },
};

int ms_unwind__parse(const char *s, enum ms_unwind *ret)
{
	static const char *const names[] = { [MS_UNWIND_AUTO] = "auto", [MS_UNWIND_FP] = "fp",
					     [MS_UNWIND_DWARF] = "dwarf" };

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*ret = (enum ms_unwind)i;
			return 0;
		}
	}
	return -EINVAL;
}

void options__session_opts(const struct ms_session_args *a, struct ms_session_opts *ret)
{
	*ret = (struct ms_session_opts){
		.no_multi = a->legacy_links, .go_sample_bytes = a->go_sample_bytes,
		.kmem = a->kmem, .c_sample_bytes = a->sample_bytes,
		.go_mallocgc = a->go_mallocgc, .unwind = a->unwind, .dwarf_rate = a->dwarf_rate,
	};
}

const char *options__name(enum ms_opt o)
{
	return (unsigned int)o < MS_OPT_COUNT ? opts[o].name : NULL;
}

enum ms_opt options__budget_opt(enum ms_budget b)
{
	static const enum ms_opt bopts[MS_BUDGET_COUNT] = {
		[MS_BUDGET_LEAKED] = MS_OPT_MAX_LEAKED,
		[MS_BUDGET_PEAK_RSS] = MS_OPT_MAX_PEAK_RSS,
		[MS_BUDGET_ALLOCATED] = MS_OPT_MAX_ALLOCATED,
		[MS_BUDGET_GOROUTINES] = MS_OPT_MAX_GOROUTINES,
	};

	return (unsigned int)b < MS_BUDGET_COUNT ? bopts[b] : MS_OPT_COUNT;
}

const char *options__cmd_name(enum ms_cmd cmd)
{
	return (unsigned int)cmd < MS_CMD_COUNT ? cmds[cmd].name : NULL;
}

static void longopt(struct option *o, enum ms_opt id, int val)
{
	*o = (struct option){ opts[id].name, opts[id].has_arg, NULL, val };
}

size_t options__session_longopts(struct option *buf, size_t n)
{
	size_t i;

	for (i = 0; i < MS_OPT_SESSION_COUNT && i < n; i++)
		longopt(&buf[i], (enum ms_opt)i, MS_OPT_VAL(i));
	return i;
}

/* A decimal number lo..hi, nothing else (no sign, no spaces, no suffix). */
/* The budget an option sets (options__budget_opt()'s inverse). */
static enum ms_budget budget_of_opt(enum ms_opt o)
{
	for (int b = 0; b < MS_BUDGET_COUNT; b++)
		if (options__budget_opt((enum ms_budget)b) == o)
			return (enum ms_budget)b;
	return MS_BUDGET_COUNT;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

int options__session_apply(struct ms_session_args *s, enum ms_opt o, const char *arg,
			   char *err, size_t errlen)
{
	uint64_t v;

	switch (o) {
	case MS_OPT_SAMPLE_BYTES:
	case MS_OPT_GO_SAMPLE_BYTES:
		if (parse_u64(arg, 1, MS_OPT_BYTES_MAX, &v))
			return ms_fail(err, errlen, -EINVAL, "invalid --%s '%s': a byte count "
				       "1..%llu", opts[o].name, arg ?: "",
				       (unsigned long long)MS_OPT_BYTES_MAX);
		if (o == MS_OPT_SAMPLE_BYTES)
			s->sample_bytes = v;
		else
			s->go_sample_bytes = v;
		break;
	case MS_OPT_UNWIND:
		if (ms_unwind__parse(arg, &s->unwind))
			return ms_fail(err, errlen, -EINVAL, "invalid --unwind '%s' (auto, fp, dwarf)",
				       arg ?: "");
		break;
	case MS_OPT_DWARF_RATE:
		if (parse_u64(arg, 0, MS_DWARF_RATE_MAX, &v))
			return ms_fail(err, errlen, -EINVAL, "invalid --dwarf-rate '%s': stacks per "
				       "second and process, 0..%u (0: no bound)", arg ?: "",
				       MS_DWARF_RATE_MAX);
		s->dwarf_rate = v ? (uint32_t)v : MS_DWARF_UNBOUNDED;
		break;
	case MS_OPT_GO_MALLOCGC:
		s->go_mallocgc = true;
		break;
	case MS_OPT_KMEM:
		s->kmem = true;
		break;
	case MS_OPT_LEGACY_LINKS:
		s->legacy_links = true;
		break;
	default:
		return ms_fail(err, errlen, -EINVAL, "not a session option: %d", (int)o);
	}
	s->given |= MS_OPT_BIT(o);
	return 0;
}

static int parse_pid(const char *s, pid_t *ret, char *err, size_t errlen)
{
	uint64_t v;

	if (parse_u64(s, 1, INT_MAX, &v))
		return ms_fail(err, errlen, -EINVAL, "invalid PID '%s': expected a positive number",
			       s);
	*ret = v;
	return 0;
}

static int parse_format(const char *s, enum ms_out_format *ret)
{
	static const char *const names[] = {
		[MS_FMT_TEXT] = "text", [MS_FMT_JSON] = "json", [MS_FMT_PPROF] = "pprof",
		[MS_FMT_FOLDED] = "folded", [MS_FMT_SVG] = "svg",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*ret = (enum ms_out_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* A CLI option's value into *c; the option is known to be one the command takes. */
static int apply(struct cli_args *c, enum ms_opt o, const char *arg, char *err, size_t errlen)
{
	uint64_t v;
	char *end;

	switch (o) {
	case MS_OPT_PID:
		c->standalone = true;
		return parse_pid(arg, &c->pid, err, errlen);
	case MS_OPT_DURATION:
		errno = 0;
		c->duration = strtod(arg, &end);
		if (errno || *end || end == arg || !(c->duration >= 0) || c->duration > 1e7)
			return ms_fail(err, errlen, -EINVAL,
				       "invalid duration '%s': expected seconds >= 0", arg);
		return 0;
	case MS_OPT_TOP:
	case MS_OPT_FRAMES:
		if (parse_u64(arg, 0, UINT_MAX, &v))
			return ms_fail(err, errlen, -EINVAL, "invalid %s '%s'", o == MS_OPT_TOP ?
				       "count" : "frame count", arg);
		*(o == MS_OPT_TOP ? &c->top_n : &c->max_frames) = v;
		return 0;
	case MS_OPT_JSON:
		c->fmt = MS_FMT_JSON;
		return 0;
	case MS_OPT_FORMAT:
		if (parse_format(arg, &c->fmt))
			return ms_fail(err, errlen, -EINVAL,
				       "unknown format '%s' (text, json, pprof, folded, svg)", arg);
		return 0;
	case MS_OPT_OUTPUT:
		c->out_path = arg;
		return 0;
	case MS_OPT_PRETTY:
		c->pretty = true;
		return 0;
	case MS_OPT_GROWTH:
		c->growth = true;
		return 0;
	case MS_OPT_FAULTS:
		c->faults = true;
		c->standalone = true;	/* observed here: needs the fault stream */
		return 0;
	case MS_OPT_SOCKET:
		c->socket = arg;
		return 0;
	case MS_OPT_COMM:
	case MS_OPT_EXE:
	case MS_OPT_CGROUP:
	case MS_OPT_POD:
	case MS_OPT_NAMESPACE:
	case MS_OPT_CONTAINER:
		if (c->sel != CTL_SEL_NONE)
			return ms_fail(err, errlen, -EINVAL, ONE_SELECTOR);
		c->sel = o == MS_OPT_COMM ? CTL_SEL_COMM : o == MS_OPT_EXE ? CTL_SEL_EXE :
			 o == MS_OPT_CGROUP ? CTL_SEL_CGROUP : o == MS_OPT_POD ? CTL_SEL_POD :
			 o == MS_OPT_NAMESPACE ? CTL_SEL_NAMESPACE : CTL_SEL_CONTAINER;
		c->sel_value = arg;
		return 0;
	case MS_OPT_DIR:
		c->dir = arg;
		return 0;
	case MS_OPT_MAX_LEAKED:
	case MS_OPT_MAX_PEAK_RSS:
	case MS_OPT_MAX_ALLOCATED:
	case MS_OPT_MAX_GOROUTINES: {
		enum ms_budget b = budget_of_opt(o);
		const char *unit = budget__is_count(b) ? "COUNT" : "SIZE";
		int e = budget_set__add(&c->budgets, b, arg);

		if (e == -E2BIG)
			return ms_fail(err, errlen, -EINVAL, "too many budgets per name: %d at most",
				       MS_BUDGET_NAMED_MAX);
		if (e && strchr(arg, '='))
			return ms_fail(err, errlen, -EINVAL, "invalid --%s '%s': NAME=%s, NAME a "
				       "process's name (no '/', under %d characters), %s such as "
				       "%s", opts[o].name, arg, unit, MS_BUDGET_WHO_LEN, unit,
				       budget__is_count(b) ? "10" : "512K");
		if (e && budget__is_count(b))
			return ms_fail(err, errlen, -EINVAL, "invalid --%s '%s': a number such as "
				       "0 or 10, or NAME=COUNT", opts[o].name, arg);
		if (e)
			return ms_fail(err, errlen, -EINVAL, "invalid --%s '%s': a size such as "
				       "4096, 512K, 1M, 2G (binary units), or NAME=SIZE",
				       opts[o].name, arg);
		return 0;
	}
	case MS_OPT_BUDGETS:
		c->budgets_path = arg;
		return 0;
	case MS_OPT_REPORT:
		c->report_path = arg;
		return 0;
	case MS_OPT_JUNIT:
		c->junit_path = arg;
		return 0;
	case MS_OPT_PPROF:
		c->pprof_path = arg;
		return 0;
	case MS_OPT_VERBOSE:
		c->verbose = true;
		return 0;
	case MS_OPT_HELP:
		c->help = true;
		return 0;
	case MS_OPT_GO_MALLOCGC:
	case MS_OPT_KMEM:
	case MS_OPT_UNWIND:
	case MS_OPT_DWARF_RATE:
		/* observed here: memsightd has its own setting */
		c->standalone = true;
		/* fall through */
	default:
		return options__session_apply(&c->sess, o, arg, err, errlen);
	}
}

/* The option getopt just stopped at, as given, for a message. */
static const char *offender(char **argv, char *buf, size_t len)
{
	if (optopt > ' ' && optopt < 0x7f)
		snprintf(buf, len, "-%c", optopt);
	else
		snprintf(buf, len, "%s", argv[optind - 1]);
	return buf;
}

/*
 * One getopt pass over argv[0..argc) with every option known, so one the
 * pass does not accept (allowed) is named in the message, not "unknown".
 * stop_at_arg: the global pass, which ends at the command.
 */
static int getopt_pass(int argc, char **argv, uint64_t allowed, bool stop_at_arg,
		       const char *cmd, struct cli_args *c, char *err, size_t errlen)
{
	struct option longopts[MS_OPT_COUNT + 1] = {};
	char shorts[3 + 2 * MS_OPT_COUNT + 1], *p = shorts, name[64];
	int opt, r;

	*p++ = stop_at_arg ? '+' : '-';
	*p++ = ':';
	for (int i = 0; i < MS_OPT_COUNT; i++) {
		longopt(&longopts[i], (enum ms_opt)i, MS_OPT_VAL(i));
		if (opts[i].short_name) {
			*p++ = opts[i].short_name;
			if (opts[i].has_arg == required_argument)
				*p++ = ':';
		}
	}
	*p = '\0';
	opterr = 0;
	optind = 0;
	while ((opt = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		enum ms_opt o = MS_OPT_COUNT;

		if (opt == 1) {
			/* '-' mode: an argument, in order; check_args() counts them */
			if (c->nargs == MS_CLI_ARGS_MAX)
				return ms_fail(err, errlen, -EINVAL, "unexpected argument '%s'",
					       optarg);
			c->args[c->nargs++] = optarg;
			continue;
		}
		if (opt == '?')
			return ms_fail(err, errlen, -EINVAL, "unknown option '%s'",
				       offender(argv, name, sizeof(name)));
		if (opt == ':')
			return ms_fail(err, errlen, -EINVAL, "option '%s' needs a value",
				       offender(argv, name, sizeof(name)));
		if (opt >= 0x100)
			o = (enum ms_opt)(opt - 0x100);
		for (int i = 0; o == MS_OPT_COUNT && i < MS_OPT_COUNT; i++)
			if (opts[i].short_name == opt)
				o = (enum ms_opt)i;
		if (o >= MS_OPT_COUNT)
			return ms_fail(err, errlen, -EINVAL, "unknown option");
		if (!(allowed & MS_OPT_BIT(o))) {
			if (!cmd)
				return ms_fail(err, errlen, -EINVAL, "--%s goes after the command",
					       opts[o].name);
			return ms_fail(err, errlen, -EINVAL, "%s does not take --%s", cmd,
				       opts[o].name);
		}
		r = apply(c, o, optarg, err, errlen);
		if (r)
			return r;
		c->given |= MS_OPT_BIT(o);
	}
	return optind;
}

/* The PID argument, the selector and the count of arguments, as the command needs. */
static int check_args(const struct cmd_desc *cd, struct cli_args *c, char *err, size_t errlen)
{
	unsigned int first = 0;
	int r;

	if ((cd->flags & PID_ARG) && c->nargs && !c->pid) {
		r = parse_pid(c->args[0], &c->pid, err, errlen);
		if (r)
			return r;
		first = 1;
	}
	if (c->nargs - first > cd->max_args)
		return ms_fail(err, errlen, -EINVAL, "unexpected argument '%s'",
			       c->args[first + cd->max_args]);
	for (unsigned int i = 0; first && i + 1 < c->nargs; i++)
		c->args[i] = c->args[i + 1];
	c->nargs -= first;
	if ((cd->flags & NEED_PID) && !c->pid)
		return ms_fail(err, errlen, -EINVAL, "no process given: use -p PID");
	if (c->cmd == MS_CMD_ATTACH || c->cmd == MS_CMD_DETACH) {
		if (c->pid && c->sel != CTL_SEL_NONE)
			return ms_fail(err, errlen, -EINVAL, ONE_SELECTOR);
		if (!c->pid && c->sel == CTL_SEL_NONE)
			return ms_fail(err, errlen, -EINVAL,
				       "give a PID, --comm NAME, --exe PATH, --cgroup PATH, --pod NAME, "
				       "--namespace NAME or --container NAME");
		if (c->sel_value && strlen(c->sel_value) > CTL_VALUE_MAX)
			return ms_fail(err, errlen, -EINVAL, "selector longer than %d bytes",
				       CTL_VALUE_MAX);
	}
	return 0;
}

/* --budgets FILE: its budgets, under those of the flags. */
static int file_budgets(struct cli_args *c, char *err, size_t errlen)
{
	struct ms_budget_set file;
	int r = budget_file__load(c->budgets_path, &file, err, errlen);

	if (r)
		return r == -EINVAL || r == -E2BIG || r == -EFBIG ? r : -EINVAL;
	budget_set__under(&c->budgets, &file);
	return 0;
}

int options__parse_cli(int argc, char **argv, struct cli_args *ret, char *err, size_t errlen)
{
	const struct cmd_desc *cd;
	uint64_t global;
	int i, n, r;

	memset(ret, 0, sizeof(*ret));
	ret->cmd = MS_CMD_HELP;
	n = getopt_pass(argc, argv, GLOBAL, true, NULL, ret, err, errlen);
	if (n < 0)
		return n;
	if (n >= argc)
		return 0;
	for (i = 0; i < MS_CMD_COUNT && strcmp(argv[n], cmds[i].name); i++)
		;
	if (i == MS_CMD_COUNT)
		return ms_fail(err, errlen, -EINVAL, "unknown command '%s' (try: memsight help)",
			       argv[n]);
	cd = &cmds[i];
	global = ret->given;
	for (unsigned int o = 0; o < MS_OPT_COUNT; o++)
		if ((global & MS_OPT_BIT(o)) && !(cd->opts & MS_OPT_BIT(o)))
			return ms_fail(err, errlen, -EINVAL, "%s does not take --%s", cd->name,
				       opts[o].name);
	ret->cmd = (enum ms_cmd)i;
	if (ret->cmd == MS_CMD_HELP)
		ret->help = true;
	ret->duration = cd->duration;
	ret->top_n = cd->top_n;
	ret->fmt = cd->fmt;
	r = getopt_pass(argc - n, argv + n, cd->opts, cd->flags & COMMAND, cd->name, ret, err,
			errlen);
	if (r < 0)
		return r;
	if (ret->help)
		return 0;
	if (cd->flags & COMMAND) {
		ret->run_argv = argv + n + r;
		if (n + r >= argc)
			return ms_fail(err, errlen, -EINVAL, "%s needs a command: memsight %s "
				       "[OPTIONS] -- CMD [ARGS...]", cd->name, cd->name);
		return ret->budgets_path ? file_budgets(ret, err, errlen) : 0;
	}
	return check_args(cd, ret, err, errlen);
}
