// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl/options.h"

#define ARGV_MAX 16

/* Parse a command line given as words after "memsight"; err gets the message. */
static int parse(struct cli_args *c, char *err, size_t errlen, ...)
{
	char *argv[ARGV_MAX + 1] = { "memsight" };
	const char *w;
	va_list ap;
	int argc = 1;

	va_start(ap, errlen);
	while ((w = va_arg(ap, const char *)) && argc < ARGV_MAX)
		argv[argc++] = (char *)w;
	va_end(ap);
	err[0] = '\0';
	return options__parse_cli(argc, argv, c, err, errlen);
}

#define PARSE(c, ...) parse(c, err, sizeof(err), __VA_ARGS__, (const char *)NULL)

/* An option a command does not take is refused with a message naming both. */
static void refused(const char *cmd, const char *opt, const char *val)
{
	struct cli_args c;
	char err[256], want[128];

	if (val)
		assert_int_equal(PARSE(&c, cmd, "123", opt, val), -EINVAL);
	else
		assert_int_equal(PARSE(&c, cmd, "123", opt), -EINVAL);
	snprintf(want, sizeof(want), "%s does not take %s", cmd, opt);
	assert_string_equal(err, want);
}

static void test_each_command_refuses_the_options_it_does_not_take(void **state)
{
	static const char *const daemon_cmds[] = { "ps", "rules", "stats", "reload", "ping" };
	static const char *const session[] = { "--sample-bytes", "--go-sample-bytes",
					       "--unwind", "--go-mallocgc", "--kmem",
					       "--legacy-links" };
	struct cli_args c;
	char err[256];

	/* ps --sample-bytes N was accepted and ignored */
	assert_int_equal(PARSE(&c, "ps", "--sample-bytes", "4096"), -EINVAL);
	assert_string_equal(err, "ps does not take --sample-bytes");
	for (size_t i = 0; i < sizeof(daemon_cmds) / sizeof(daemon_cmds[0]); i++) {
		for (size_t k = 0; k < sizeof(session) / sizeof(session[0]); k++) {
			bool arg = strncmp(session[k], "--go-m", 6) && strcmp(session[k], "--kmem") &&
				   strcmp(session[k], "--legacy-links");

			assert_int_equal(arg ? PARSE(&c, daemon_cmds[i], session[k], "auto") :
					 PARSE(&c, daemon_cmds[i], session[k]), -EINVAL);
			assert_non_null(strstr(err, "does not take"));
		}
		assert_int_equal(PARSE(&c, daemon_cmds[i], "-d", "3"), -EINVAL);
		assert_string_equal(strchr(err, ' '), " does not take --duration");
		/* nor a PID, which only top, dump, explain, attach and detach take */
		assert_int_equal(PARSE(&c, daemon_cmds[i], "123"), -EINVAL);
		assert_string_equal(err, "unexpected argument '123'");
	}
	/* the daemon's dump does not rank by growth: refused, not ignored */
	assert_int_equal(PARSE(&c, "dump", "123", "--growth"), -EINVAL);
	assert_string_equal(err, "dump does not take --growth");
	refused("explain", "--socket", "/tmp/s");
	refused("explain", "--growth", NULL);
	refused("explain", "--top", "3");
	refused("attach", "--sample-bytes", "4096");
	refused("attach", "--duration", "1");
	refused("detach", "--output", "/tmp/x");
	refused("top", "--comm", "leaky");
	refused("top", "--dir", "/tmp");
	assert_int_equal(PARSE(&c, "version", "--json"), -EINVAL);
	assert_string_equal(err, "version does not take --json");
	assert_int_equal(PARSE(&c, "incidents", "--socket", "/tmp/s"), -EINVAL);
	assert_string_equal(err, "incidents does not take --socket");
	/* short options are named by their long name */
	assert_int_equal(PARSE(&c, "ps", "-p", "1"), -EINVAL);
	assert_string_equal(err, "ps does not take --pid");
	(void)state;
}

static void test_global_options_come_before_the_command_too(void **state)
{
	struct cli_args c;
	char err[256];

	/* was: unknown command '--socket' */
	assert_int_equal(PARSE(&c, "--socket", "/tmp/ms.sock", "ping"), 0);
	assert_int_equal(c.cmd, MS_CMD_PING);
	assert_string_equal(c.socket, "/tmp/ms.sock");
	assert_int_equal(PARSE(&c, "--socket=/tmp/a.sock", "-v", "ps", "-j"), 0);
	assert_int_equal(c.cmd, MS_CMD_PS);
	assert_string_equal(c.socket, "/tmp/a.sock");
	assert_true(c.verbose);
	assert_int_equal(c.fmt, MS_FMT_JSON);
	/* and after it, as before */
	assert_int_equal(PARSE(&c, "top", "42", "--socket", "/tmp/b.sock", "-v"), 0);
	assert_int_equal(c.cmd, MS_CMD_TOP);
	assert_int_equal(c.pid, 42);
	assert_false(c.standalone);
	assert_string_equal(c.socket, "/tmp/b.sock");
	assert_true(c.verbose);
	/* a global option is still one the command must take */
	assert_int_equal(PARSE(&c, "--socket", "/tmp/s", "explain", "-p", "1"), -EINVAL);
	assert_string_equal(err, "explain does not take --socket");
	/* a command's own option before the command is named, not "unknown" */
	assert_int_equal(PARSE(&c, "--sample-bytes", "4096", "top", "1"), -EINVAL);
	assert_string_equal(err, "--sample-bytes goes after the command");
	assert_int_equal(PARSE(&c, "--socket"), -EINVAL);
	assert_string_equal(err, "option '--socket' needs a value");
	assert_int_equal(PARSE(&c, "--bogus", "ping"), -EINVAL);
	assert_string_equal(err, "unknown option '--bogus'");
	assert_int_equal(PARSE(&c, "-x", "ping"), -EINVAL);
	assert_string_equal(err, "unknown option '-x'");
	assert_int_equal(PARSE(&c, "-v", "frobnicate"), -EINVAL);
	assert_string_equal(err, "unknown command 'frobnicate' (try: memsight help)");
	/* no command: the usage, as an error; help and -h: the usage */
	assert_int_equal(PARSE(&c, "-v"), 0);
	assert_int_equal(c.cmd, MS_CMD_HELP);
	assert_false(c.help);
	assert_int_equal(PARSE(&c, "help"), 0);
	assert_true(c.help);
	assert_int_equal(PARSE(&c, "-h"), 0);
	assert_true(c.help);
	assert_int_equal(PARSE(&c, "ps", "--help"), 0);
	assert_true(c.help);
	(void)state;
}

static void test_each_command_gets_its_defaults_and_arguments(void **state)
{
	struct cli_args c;
	char err[256];

	assert_int_equal(PARSE(&c, "top", "-p", "7"), 0);
	assert_true(c.standalone);
	assert_int_equal(c.pid, 7);
	assert_true(c.duration == 10 && c.top_n == 10 && c.fmt == MS_FMT_TEXT);
	assert_int_equal(PARSE(&c, "dump", "7", "-d", "0.5", "-o", "/tmp/x.pb.gz"), 0);
	assert_true(c.duration == 0.5 && c.top_n == 0 && c.fmt == MS_FMT_PPROF);
	assert_string_equal(c.out_path, "/tmp/x.pb.gz");
	assert_int_equal(PARSE(&c, "explain", "7", "--json"), 0);
	assert_true(c.duration == 2 && c.fmt == MS_FMT_JSON);
	/* options after the arguments, as getopt permutes them */
	assert_int_equal(PARSE(&c, "top", "9", "-n", "0", "--frames", "4", "--growth"), 0);
	assert_true(c.pid == 9 && c.top_n == 0 && c.max_frames == 4 && c.growth);
	assert_int_equal(PARSE(&c, "top"), -EINVAL);
	assert_string_equal(err, "no process given: use -p PID");
	assert_int_equal(PARSE(&c, "top", "-p", "1", "2"), -EINVAL);
	assert_string_equal(err, "unexpected argument '2'");
	assert_int_equal(PARSE(&c, "top", "0"), -EINVAL);
	assert_string_equal(err, "invalid PID '0': expected a positive number");
	assert_int_equal(PARSE(&c, "top", "1", "-d", "-1"), -EINVAL);
	assert_string_equal(err, "invalid duration '-1': expected seconds >= 0");
	assert_int_equal(PARSE(&c, "top", "1", "-d", "nan"), -EINVAL);
	assert_int_equal(PARSE(&c, "top", "1", "-f", "xml"), -EINVAL);
	assert_string_equal(err, "unknown format 'xml' (text, json, pprof, folded, svg)");
	assert_int_equal(PARSE(&c, "top", "1", "-n", "-3"), -EINVAL);
	assert_string_equal(err, "invalid count '-3'");
	/* attach/detach: a PID or one selector */
	assert_int_equal(PARSE(&c, "attach", "--comm", "leaky*"), 0);
	assert_true(c.sel == CTL_SEL_COMM && !strcmp(c.sel_value, "leaky*") && !c.pid);
	assert_int_equal(PARSE(&c, "detach", "--exe", "/a", "--cgroup", "/b"), -EINVAL);
	assert_string_equal(err, "give one of PID, --comm, --exe, --cgroup, --pod, --namespace, "
				 "--container");
	/* Kubernetes names */
	assert_int_equal(PARSE(&c, "attach", "--pod", "web-*"), 0);
	assert_true(c.sel == CTL_SEL_POD && !strcmp(c.sel_value, "web-*"));
	assert_int_equal(PARSE(&c, "attach", "--namespace", "shop"), 0);
	assert_true(c.sel == CTL_SEL_NAMESPACE && !strcmp(c.sel_value, "shop"));
	assert_int_equal(PARSE(&c, "detach", "--container", "api"), 0);
	assert_true(c.sel == CTL_SEL_CONTAINER && !strcmp(c.sel_value, "api"));
	assert_int_equal(PARSE(&c, "attach", "--pod", "a", "--namespace", "b"), -EINVAL);
	assert_int_equal(PARSE(&c, "attach", "5", "--comm", "x"), -EINVAL);
	assert_string_equal(err, "give one of PID, --comm, --exe, --cgroup, --pod, --namespace, "
				 "--container");
	assert_int_equal(PARSE(&c, "detach"), -EINVAL);
	assert_string_equal(err, "give a PID, --comm NAME, --exe PATH, --cgroup PATH, --pod NAME, "
				 "--namespace NAME or --container NAME");
	/* incidents: [show ID] [--dir DIR] */
	assert_int_equal(PARSE(&c, "incidents", "show", "abc", "--dir", "/tmp/i"), 0);
	assert_true(c.nargs == 2 && !strcmp(c.args[0], "show") && !strcmp(c.args[1], "abc"));
	assert_string_equal(c.dir, "/tmp/i");
	assert_int_equal(PARSE(&c, "incidents", "show", "a", "b"), -EINVAL);
	assert_string_equal(err, "unexpected argument 'b'");
	assert_int_equal(PARSE(&c, "version", "now"), -EINVAL);
	assert_string_equal(err, "unexpected argument 'now'");
	(void)state;
}

/* The session options: one validation for memsight and memsightd. */
static void test_session_options_are_validated_in_one_place(void **state)
{
	struct ms_session_args s = {};
	struct cli_args c;
	char err[256];

	assert_int_equal(PARSE(&c, "top", "3", "--sample-bytes", "4096", "--unwind", "dwarf"), 0);
	assert_int_equal(c.sess.sample_bytes, 4096);
	assert_int_equal(c.sess.unwind, MS_UNWIND_DWARF);
	assert_int_equal(c.sess.given, MS_OPT_BIT(MS_OPT_SAMPLE_BYTES) | MS_OPT_BIT(MS_OPT_UNWIND));
	/* --unwind is a setting of an observation here; --sample-bytes alone is not */
	assert_true(c.standalone);
	assert_int_equal(PARSE(&c, "top", "3", "--sample-bytes", "4096"), 0);
	assert_false(c.standalone);
	for (int o = 0; o < MS_OPT_SESSION_COUNT; o++)
		assert_non_null(options__name(o));
	assert_int_equal(options__session_apply(&s, MS_OPT_SAMPLE_BYTES, "0", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "invalid --sample-bytes '0': a byte count 1..1099511627776");
	/* memsightd took a wrapped strtoull and any size: now one rule for both */
	assert_int_equal(options__session_apply(&s, MS_OPT_GO_SAMPLE_BYTES,
						"99999999999999999999999", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(options__session_apply(&s, MS_OPT_GO_SAMPLE_BYTES, "-1", err,
						sizeof(err)), -EINVAL);
	assert_int_equal(options__session_apply(&s, MS_OPT_GO_SAMPLE_BYTES, " 5", err,
						sizeof(err)), -EINVAL);
	assert_int_equal(options__session_apply(&s, MS_OPT_SAMPLE_BYTES, "1099511627776", err,
						sizeof(err)), 0);
	assert_int_equal(s.sample_bytes, 1ull << 40);
	assert_int_equal(options__session_apply(&s, MS_OPT_UNWIND, "frames", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "invalid --unwind 'frames' (auto, fp, dwarf)");
	assert_int_equal(options__session_apply(&s, MS_OPT_PID, "1", err, sizeof(err)), -EINVAL);
	assert_int_equal(options__session_apply(&s, MS_OPT_KMEM, NULL, err, sizeof(err)), 0);
	assert_true(s.kmem);
	assert_int_equal(s.given, MS_OPT_BIT(MS_OPT_SAMPLE_BYTES) | MS_OPT_BIT(MS_OPT_KMEM));
	(void)state;
}

/* memsightd's getopt table holds the same names, each mapped back to its option. */
static void test_the_daemon_gets_the_same_session_option_names(void **state)
{
	struct option lo[MS_OPT_SESSION_COUNT + 1] = {};
	size_t n = options__session_longopts(lo, MS_OPT_SESSION_COUNT);

	assert_int_equal(n, MS_OPT_SESSION_COUNT);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(lo[i].name, options__name(i));
		assert_int_equal(lo[i].val, MS_OPT_VAL(i));
		assert_null(lo[i].flag);
	}
	assert_int_equal(options__session_longopts(lo, 2), 2);
	(void)state;
}

/*
 * run: its options end at "--" or at the command's name, so the command's
 * own options stay its own; budgets are sizes; no command is refused.
 */
static void test_run_takes_a_command_and_budgets(void **state)
{
	struct cli_args c;
	char err[256];

	assert_int_equal(PARSE(&c, "run", "--max-leaked", "512K", "--junit", "j.xml", "--",
			       "make", "check", "--max-leaked", "1"), 0);
	assert_int_equal(c.cmd, MS_CMD_RUN);
	assert_int_equal(c.budgets.total[MS_BUDGET_LEAKED], 524288);
	assert_true(c.budgets.total_given[MS_BUDGET_LEAKED]);
	assert_int_equal(c.budgets.nnamed, 0);
	assert_true(c.given & MS_OPT_BIT(options__budget_opt(MS_BUDGET_LEAKED)));
	assert_false(c.given & MS_OPT_BIT(options__budget_opt(MS_BUDGET_PEAK_RSS)));
	assert_string_equal(c.junit_path, "j.xml");
	assert_string_equal(c.run_argv[0], "make");
	assert_string_equal(c.run_argv[2], "--max-leaked");
	assert_null(c.run_argv[4]);
	/* without "--": the first word that is not an option is the command */
	assert_int_equal(PARSE(&c, "run", "--max-peak-rss", "1.5G", "./t", "-v"), 0);
	assert_int_equal(c.budgets.total[MS_BUDGET_PEAK_RSS], 3ull << 29);
	assert_string_equal(c.run_argv[0], "./t");
	assert_string_equal(c.run_argv[1], "-v");
	assert_false(c.verbose);
	assert_int_equal(PARSE(&c, "run", "--max-leaked", "1M"), -EINVAL);
	assert_string_equal(err, "run needs a command: memsight run [OPTIONS] -- CMD [ARGS...]");
	assert_int_equal(PARSE(&c, "run", "--"), -EINVAL);
	assert_int_equal(PARSE(&c, "run", "--max-allocated", "lots", "--", "x"), -EINVAL);
	assert_string_equal(err, "invalid --max-allocated 'lots': a size such as 4096, 512K, "
			    "1M, 2G (binary units), or NAME=SIZE");
	/* goroutines: a count, in total and per name */
	assert_int_equal(PARSE(&c, "run", "--max-goroutines-at-exit", "3", "--max-goroutines-at-exit",
			       "leaky.test=0", "--", "go", "test"), 0);
	assert_true(c.budgets.total_given[MS_BUDGET_GOROUTINES]);
	assert_int_equal(c.budgets.total[MS_BUDGET_GOROUTINES], 3);
	assert_int_equal(c.budgets.nnamed, 1);
	assert_int_equal(c.budgets.named[0].budget, MS_BUDGET_GOROUTINES);
	assert_string_equal(c.budgets.named[0].who, "leaky.test");
	assert_int_equal(c.budgets.named[0].limit, 0);
	assert_int_equal(PARSE(&c, "run", "--max-goroutines-at-exit", "1K", "--", "x"), -EINVAL);
	assert_string_equal(err, "invalid --max-goroutines-at-exit '1K': a number such as 0 or 10, "
			    "or NAME=COUNT");
	/* per process name, beside the whole run's; the same name again replaces it */
	assert_int_equal(PARSE(&c, "run", "--max-leaked", "leakexit=1M", "--max-leaked", "64K",
			       "--max-leaked", "sh=1K", "--max-leaked", "leakexit=2M", "--", "x"), 0);
	assert_true(c.budgets.total_given[MS_BUDGET_LEAKED]);
	assert_int_equal(c.budgets.total[MS_BUDGET_LEAKED], 65536);
	assert_int_equal(c.budgets.nnamed, 2);
	assert_string_equal(c.budgets.named[0].who, "leakexit");
	assert_int_equal(c.budgets.named[0].limit, 2 << 20);
	assert_string_equal(c.budgets.named[1].who, "sh");
	assert_int_equal(PARSE(&c, "run", "--max-peak-rss", "sh=1K", "--", "x"), 0);
	assert_false(c.budgets.total_given[MS_BUDGET_PEAK_RSS]);
	assert_int_equal(c.budgets.named[0].budget, MS_BUDGET_PEAK_RSS);
	assert_int_equal(PARSE(&c, "run", "--max-leaked", "a/b=1K", "--", "x"), -EINVAL);
	assert_int_equal(PARSE(&c, "run", "--max-leaked", "a=", "--", "x"), -EINVAL);
	assert_string_equal(err, "invalid --max-leaked 'a=': NAME=SIZE, NAME a process's name "
			    "(no '/', under 64 characters), SIZE such as 512K");
	refused("top", "--max-leaked", "1M");
	refused("top", "--budgets", "f");
	(void)state;
}

/* --budgets FILE: the file's budgets, those of the flags over them; a bad line is a usage error. */
static void test_run_budgets_file(void **state)
{
	char path[] = "/tmp/test_options_budgets.XXXXXX", err[256];
	const char *text = "max-leaked 512K\nmax-leaked leakexit=1M\nmax-peak-rss 64M\n";
	struct cli_args c;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(PARSE(&c, "run", "--budgets", path, "--max-leaked", "1M",
			       "--max-leaked", "leakexit=2M", "--", "x"), 0);
	assert_int_equal(c.budgets.total[MS_BUDGET_LEAKED], 1 << 20);
	assert_true(c.budgets.total_given[MS_BUDGET_PEAK_RSS]);
	assert_int_equal(c.budgets.total[MS_BUDGET_PEAK_RSS], 64 << 20);
	assert_int_equal(c.budgets.nnamed, 1);
	assert_int_equal(c.budgets.named[0].limit, 2 << 20);
	/* the file alone */
	assert_int_equal(PARSE(&c, "run", "--budgets", path, "x"), 0);
	assert_int_equal(c.budgets.total[MS_BUDGET_LEAKED], 512 << 10);
	assert_int_equal(c.budgets.named[0].limit, 1 << 20);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "max-leaked 1M\nmax-leaked 2M\n", 28), 28);
	close(fd);
	assert_int_equal(PARSE(&c, "run", "--budgets", path, "x"), -EINVAL);
	assert_non_null(strstr(err, ":2: a second max-leaked"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	unlink(path);
	assert_int_equal(PARSE(&c, "run", "--budgets", path, "x"), -EINVAL);
	assert_non_null(strstr(err, "No such file"));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_command_refuses_the_options_it_does_not_take),
		cmocka_unit_test(test_global_options_come_before_the_command_too),
		cmocka_unit_test(test_each_command_gets_its_defaults_and_arguments),
		cmocka_unit_test(test_session_options_are_validated_in_one_place),
		cmocka_unit_test(test_the_daemon_gets_the_same_session_option_names),
		cmocka_unit_test(test_run_takes_a_command_and_budgets),
		cmocka_unit_test(test_run_budgets_file),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
