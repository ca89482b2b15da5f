/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * options.h - the command-line options of memsight and memsightd: one table.
 *
 * The session options (how processes are observed: --sample-bytes,
 * --unwind, ...) are parsed and validated here for both programs. The
 * CLI's commands each take a set of the options; an option a command does
 * not take is refused with a message naming both, never ignored.
 *
 *	memsight [-v] [--socket PATH] COMMAND [OPTIONS] [ARGS]
 *
 * -v and --socket are global: accepted before the command and after it.
 * Nothing here logs or exits: errors come back as -EINVAL and a message.
 */
#ifndef MEMSIGHT_OPTIONS_H
#define MEMSIGHT_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl/ctl_proto.h"
#include "bpf/session.h"
#include "model/budget.h"

enum ms_opt {
	/* session options: memsight's own observations and memsightd alike */
	MS_OPT_SAMPLE_BYTES,
	MS_OPT_GO_SAMPLE_BYTES,
	MS_OPT_GO_MALLOCGC,
	MS_OPT_KMEM,
	MS_OPT_UNWIND,
	MS_OPT_LEGACY_LINKS,
	MS_OPT_DWARF_RATE,
	MS_OPT_SESSION_COUNT,
	/* memsight's */
	MS_OPT_PID = MS_OPT_SESSION_COUNT,
	MS_OPT_DURATION,
	MS_OPT_TOP,
	MS_OPT_FRAMES,
	MS_OPT_JSON,
	MS_OPT_FORMAT,
	MS_OPT_OUTPUT,
	MS_OPT_PRETTY,
	MS_OPT_GROWTH,
	MS_OPT_FAULTS,
	MS_OPT_SOCKET,
	MS_OPT_COMM,
	MS_OPT_EXE,
	MS_OPT_CGROUP,
	MS_OPT_POD,
	MS_OPT_NAMESPACE,
	MS_OPT_CONTAINER,
	MS_OPT_DIR,
	MS_OPT_MAX_LEAKED,
	MS_OPT_MAX_PEAK_RSS,
	MS_OPT_MAX_ALLOCATED,
	MS_OPT_MAX_GOROUTINES,
	MS_OPT_BUDGETS,
	MS_OPT_REPORT,
	MS_OPT_JUNIT,
	MS_OPT_PPROF,
	MS_OPT_VERBOSE,
	MS_OPT_HELP,
	MS_OPT_COUNT
};

#define MS_OPT_BIT(o)	(1ull << (o))
_Static_assert(MS_OPT_COUNT <= 64, "MS_OPT_BIT() needs one bit per option");
/* getopt_long's val for a session option in memsightd's own table */
#define MS_OPT_VAL(o)	(0x100 + (o))
/* --sample-bytes and --go-sample-bytes: 1 byte to 1 TiB */
#define MS_OPT_BYTES_MAX	(1ull << 40)

struct ms_session_args {
	uint64_t sample_bytes;		/* 0: every allocation */
	uint64_t go_sample_bytes;	/* 0: the default */
	bool go_mallocgc;
	bool kmem;
	bool legacy_links;
	enum ms_unwind unwind;
	uint32_t dwarf_rate;		/* ms_session_opts.dwarf_rate */
	uint64_t given;		/* MS_OPT_BIT()s of the session options given */
};

/* "auto", "fp", "dwarf" -> mode; -EINVAL otherwise. */
int ms_unwind__parse(const char *s, enum ms_unwind *ret);

/* The session the options ask for (what memsight's own observations open). */
void options__session_opts(const struct ms_session_args *a, struct ms_session_opts *ret);

/* The long name of an option ("sample-bytes"); NULL out of range. */
const char *options__name(enum ms_opt o);

/*
 * memsightd: the session options' getopt entries, written to buf (room for
 * MS_OPT_SESSION_COUNT), each with val MS_OPT_VAL(option). Returns how many.
 */
size_t options__session_longopts(struct option *buf, size_t n);

/*
 * Apply session option o with its argument (NULL for a flag) to *s.
 * Returns 0, or -EINVAL with err saying what is wrong.
 */
int options__session_apply(struct ms_session_args *s, enum ms_opt o, const char *arg,
			   char *err, size_t errlen);

enum ms_cmd {
	MS_CMD_TOP,
	MS_CMD_DUMP,
	MS_CMD_EXPLAIN,
	MS_CMD_ATTACH,
	MS_CMD_DETACH,
	MS_CMD_PS,
	MS_CMD_RULES,
	MS_CMD_STATS,
	MS_CMD_RELOAD,
	MS_CMD_PING,
	MS_CMD_INCIDENTS,
	MS_CMD_VERSION,
	MS_CMD_RUN,
	MS_CMD_HELP,
	MS_CMD_COUNT
};

enum ms_out_format { MS_FMT_TEXT, MS_FMT_JSON, MS_FMT_PPROF, MS_FMT_FOLDED, MS_FMT_SVG };

#define MS_CLI_ARGS_MAX	3	/* a PID and two more */

struct cli_args {
	enum ms_cmd cmd;
	pid_t pid;			/* -p PID or the first argument of a PID command */
	double duration;
	unsigned int top_n;
	unsigned int max_frames;
	enum ms_out_format fmt;
	const char *out_path;
	bool pretty;
	bool growth;
	bool faults;
	bool standalone;		/* observe here, not through memsightd */
	bool verbose;
	bool help;			/* -h: show the usage, nothing else */
	const char *socket;
	const char *dir;		/* incidents --dir */
	enum ctl_selector sel;		/* attach/detach --comm, --exe, --cgroup */
	const char *sel_value;
	const char *args[MS_CLI_ARGS_MAX];	/* arguments but the PID (incidents show ID) */
	unsigned int nargs;
	struct ms_session_args sess;
	/* run: the command (NULL-terminated, points into argv), budgets, reports */
	char **run_argv;
	struct ms_budget_set budgets;	/* --max-leaked SIZE, --max-leaked NAME=SIZE... */
	const char *budgets_path;	/* --budgets FILE (its budgets under the flags') */
	const char *report_path;
	const char *junit_path;
	const char *pprof_path;		/* run --pprof FILE */
	uint64_t given;		/* MS_OPT_BIT()s of every option given */
};

/* The option that sets budget b (MS_OPT_MAX_LEAKED, ...). */
enum ms_opt options__budget_opt(enum ms_budget b);

/* The command's name ("top"); NULL out of range. */
const char *options__cmd_name(enum ms_cmd cmd);

/*
 * Parse memsight's whole command line (argv[0] is the program) into *ret:
 * the command's defaults, then the global options, the command, its
 * options and arguments (argv is permuted, as getopt does). Returns 0 (no
 * command at all gives MS_CMD_HELP with help false), or -EINVAL with err
 * naming what is wrong: an unknown command or option, an option the
 * command does not take, a bad value, a missing or extra argument.
 */
int options__parse_cli(int argc, char **argv, struct cli_args *ret, char *err, size_t errlen);

#endif /* MEMSIGHT_OPTIONS_H */
