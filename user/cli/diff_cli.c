// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/diff_cli.h"
#include "common/json.h"
#include "common/log.h"
#include "common/size.h"
#include "common/readfile.h"
#include "export/diff_report.h"
#include "export/pprof_read.h"
#include "export/report_read.h"

#define EXIT_FAILED	1
#define EXIT_BAD	2

const char diff_cli__usage[] =
	"  diff BASE NEW [--max-growth PCT] [--min-bytes SIZE] [--metric inuse|alloc]\n"
	"       [--match lines|functions] [-j] [--junit FILE]\n"
	"        regressions against a baseline: two reports (dump --format json, run\n"
	"        --report) or pprof heap profiles (run --pprof, Go's; gzipped or not;\n"
	"        told apart by content) compared by process name and by stack (kind\n"
	"        and frames' function file:line, never addresses); the total and each\n"
	"        stack that grew more than PCT percent (default 10) AND more than SIZE\n"
	"        bytes (default 64K) are regressions: exit status 86; 0 when none; 2\n"
	"        for bad usage or an unreadable or malformed report. --match\n"
	"        functions: frames by function alone (BASE built from other source:\n"
	"        lines moved)\n";

struct diff_args {
	struct diff_opts o;
	const char *base, *new, *junit;
	bool json;
	unsigned int read_flags;
};

/* "10", "10%" or "2.5%": a percentage >= 0. */
static int parse_pct(const char *s, double *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end == '%')
		end++;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct diff_args *a)
{
	static const struct option longopts[] = {
		{ "max-growth", required_argument, NULL, 'g' },
		{ "min-bytes", required_argument, NULL, 'b' },
		{ "metric", required_argument, NULL, 'm' },
		{ "match", required_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'j' },
		{ "junit", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->o.metric = DIFF_INUSE;
	a->o.max_growth_pct = DIFF_DEFAULT_MAX_GROWTH;
	a->o.min_bytes = DIFF_DEFAULT_MIN_BYTES;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (parse_pct(optarg, &a->o.max_growth_pct))
				return pr_err("diff: --max-growth: '%s' is not a percentage "
					      "(10 or 10%%)\n", optarg), -EINVAL;
			break;
		case 'b':
			if (size__parse(optarg, UINT64_MAX, &a->o.min_bytes))
				return pr_err("diff: --min-bytes: '%s' is not a size (65536, "
					      "64K, 1M)\n", optarg), -EINVAL;
			break;
		case 'm':
			if (strcmp(optarg, "inuse") && strcmp(optarg, "alloc"))
				return pr_err("diff: --metric: inuse or alloc, not '%s'\n",
					      optarg), -EINVAL;
			a->o.metric = strcmp(optarg, "alloc") ? DIFF_INUSE : DIFF_ALLOC;
			break;
		case 'M':
			if (strcmp(optarg, "lines") && strcmp(optarg, "functions"))
				return pr_err("diff: --match: lines or functions, not '%s'\n",
					      optarg), -EINVAL;
			a->read_flags = strcmp(optarg, "lines") ? REPORT_READ_FUNCS_ONLY : 0;
			break;
		case 'j':
			a->json = true;
			break;
		case 'J':
			a->junit = optarg;
			break;
		case 'h':
			printf("usage: memsight diff BASE NEW [OPTIONS]\n%s", diff_cli__usage);
			return 1;
		default:
			return pr_err("diff: unknown option or missing value: %s\n",
				      argv[optind - 1]), -EINVAL;
		}
	}
	if (argc - optind != 2)
		return pr_err("diff: give two reports: memsight diff BASE NEW\n"), -EINVAL;
	a->base = argv[optind];
	a->new = argv[optind + 1];
	return 0;
}

/* A JSON report or a pprof profile (gzipped or not), told apart by its content. */
static int load(const char *path, unsigned int flags, struct diff_report *r)
{
	char err[512] = "", *buf = NULL;
	size_t len;
	int e;

	memset(r, 0, sizeof(*r));
	e = ms_read_whole(path, 0, REPORT_READ_MAX_FILE, &buf, &len);
	if (e)
		snprintf(err, sizeof(err), "%s", e == -EFBIG ? "larger than 256 MiB" :
			 strerror(-e));
	else if (pprof_read__is_pprof(buf, len))
		e = pprof_read__parse(buf, len, flags, r, err, sizeof(err));
	else
		e = report_read__parse(buf, len, flags, r, err, sizeof(err));
	free(buf);
	if (e)
		pr_err("diff: %s: %s\n", path, err[0] ? err : strerror(-e));
	return e;
}

static int write_junit(const char *path, const struct diff_result *res, const struct diff_opts *o)
{
	FILE *f = fopen(path, "w");
	int e;

	if (!f) {
		pr_err("diff: cannot write %s: %s\n", path, strerror(errno));
		return -errno;
	}
	e = diff_report__junit(res, o, f);
	if (fclose(f) && !e)
		e = -EIO;
	if (e)
		pr_err("diff: cannot write %s: %s\n", path, strerror(-e));
	return e;
}

int diff_cli__main(int argc, char **argv)
{
	struct diff_report base = {}, new = {};
	struct diff_result res = {};
	struct diff_args a;
	struct diff_inputs in;
	int e, status = EXIT_FAILED;

	e = parse_args(argc, argv, &a);
	if (e)
		return e > 0 ? 0 : EXIT_BAD;
	if (load(a.base, a.read_flags, &base) || load(a.new, a.read_flags, &new)) {
		status = EXIT_BAD;
		goto out;
	}
	e = diff__compute(&base, &new, &a.o, &res);
	if (e) {
		pr_err("diff: %s\n", strerror(-e));
		goto out;
	}
	in = (struct diff_inputs){ a.base, a.new, &base, &new };
	if (a.json) {
		struct json_writer *w = jw__new(stdout);

		if (w)
			jw__set_pretty(w, true);
		e = w ? diff_report__json(&res, &a.o, &in, w) : -ENOMEM;
		jw__free(w);
	} else {
		diff_report__text(&res, &a.o, &in, stdout);
		e = fflush(stdout) ? -errno : 0;
	}
	if (!e && a.junit)
		e = write_junit(a.junit, &res, &a.o);
	if (!e)
		status = res.nover ? MS_EXIT_REGRESSION : 0;
out:
	diff_result__free(&res);
	diff_report__free(&base);
	diff_report__free(&new);
	return status;
}
