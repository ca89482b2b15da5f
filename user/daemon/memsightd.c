// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * memsightd - the host daemon: watches many processes, attached and
 * detached at runtime through a control socket or by rules.
 *
 *   memsightd [--config FILE] [--socket PATH] [--metrics HOST:PORT|off]
 *             [--scope process|system] [--legacy-links] [-v]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "common/log.h"
#include "ctl/options.h"
#include "bpf/session.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: memsightd [--config FILE] [--socket PATH] [--metrics HOST:PORT|off]\n"
		"                 [--scope process|system] [--legacy-links] [--sample-bytes N]\n"
		"                 [--go-sample-bytes N] [--go-mallocgc] [--kmem]\n"
		"                 [--unwind auto|fp|dwarf] [--dwarf-rate N] [-v]\n"
		"\n"
		"  -c, --config FILE     configuration (default: built-in defaults; the unit uses\n"
		"                        " MS_CONFIG_DEFAULT_PATH ")\n"
		"  -s, --socket PATH     control socket (overrides the configuration)\n"
		"  -m, --metrics ADDR    Prometheus /metrics address, or off (overrides it too)\n"
		"      --scope SCOPE     process: probes per watched process (default; no other\n"
		"                        process ever traps); system: one probe set per allocator\n"
		"                        library for all processes, filtered in the kernel\n"
		"      --legacy-links    per-function perf-event uprobes instead of uprobe_multi\n"
		"      --sample-bytes N  sampled mode: one C allocation per N bytes on average\n"
		"      --go-sample-bytes N  Go sampling rate when memsight turns it on (default 512 KiB)\n"
		"      --go-mallocgc     probe every runtime.mallocgc call instead of the runtime's\n"
		"                        own sampler (never writes runtime.MemProfileRate)\n"
		"      --kmem            also count slab allocations made in watched processes\n"
		"      --unwind MODE     C allocation stacks: auto (default: DWARF for processes\n"
		"                        with code built without frame pointers, such as Debian's\n"
		"                        libc), fp (kernel frame-pointer walk only), dwarf (DWARF\n"
		"                        whatever the modules)\n"
		"      --dwarf-rate N    stacks copied for DWARF unwinding per second and process\n"
		"                        at most (auto: 25000; dwarf: no bound; 0: no bound);\n"
		"                        past it, frame pointers\n"
		"  -v, --verbose         debug output\n"
		"\n"
		"SIGHUP reloads the rules and the HTTP credentials' files; SIGTERM detaches\n"
		"from everything and exits.\n");
}

/*
 * Each watched process costs a few file descriptors (links) until its links
 * are closed, which lags its exit: the soft limit (1024 by default) is for
 * select(), which the daemon does not use, so it takes its hard limit.
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		pr_warn("cannot read the open files limit: %s\n", strerror(errno));
		return;
	}
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_warn("cannot raise the open files limit to %llu: %s\n",
			(unsigned long long)rl.rlim_max, strerror(errno));
	else
		pr_debug("open files limit raised to %llu\n", (unsigned long long)rl.rlim_max);
}

int main(int argc, char **argv)
{
	static const struct option own[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "scope", required_argument, NULL, 'S' },
		{ "events-ring-bytes", required_argument, NULL, 'E' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
	};
	struct option longopts[sizeof(own) / sizeof(own[0]) + MS_OPT_SESSION_COUNT + 1] = {};
	struct ms_session_args sa = {};
	struct daemon_opts o = {};
	char err[256];
	size_t n;
	int opt;

	setvbuf(stderr, NULL, _IOLBF, 0);
	ms_log_prog = "memsightd";
	memcpy(longopts, own, sizeof(own));
	n = sizeof(own) / sizeof(own[0]);
	options__session_longopts(longopts + n, MS_OPT_SESSION_COUNT);
	while ((opt = getopt_long(argc, argv, "c:s:m:vh", longopts, NULL)) != -1) {
		if (opt >= MS_OPT_VAL(0) && opt < MS_OPT_VAL(MS_OPT_SESSION_COUNT)) {
			if (options__session_apply(&sa, opt - MS_OPT_VAL(0), optarg, err,
						   sizeof(err))) {
				fprintf(stderr, "memsightd: %s\n", err);
				return 2;
			}
			continue;
		}
		switch (opt) {
		case 'c':
			o.config_path = optarg;
			break;
		case 's':
			o.socket_path = optarg;
			break;
		case 'm':
			o.metrics_listen = optarg;
			break;
		case 'S':
			if (!strcmp(optarg, "system")) {
				o.system_scope = true;
			} else if (strcmp(optarg, "process")) {
				fprintf(stderr, "memsightd: --scope is process or system\n");
				return 2;
			}
			break;
		case 'E': {
			/* for tests: a tiny ring buffer overflows on demand */
			unsigned long v = strtoul(optarg, NULL, 10);

			if (v < 4096 || v > (1ul << 30) || (v & (v - 1))) {
				fprintf(stderr, "memsightd: --events-ring-bytes: a power of 2 >= 4096\n");
				return 2;
			}
			o.events_bytes = v;
			break;
		}
		case 'v':
			ms_log_level = MS_LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	o.legacy_links = sa.legacy_links;
	o.sample_bytes = sa.sample_bytes;
	o.go_sample_bytes = sa.go_sample_bytes;
	o.go_mallocgc = sa.go_mallocgc;
	o.kmem = sa.kmem;
	o.unwind = sa.unwind;
	o.dwarf_rate = sa.dwarf_rate;
	ms_log__setup_libbpf();
	raise_nofile();
	return daemon__run(&o);
}
