// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Whole files live in tests/fixtures/config/ (see its README) and
 * deploy/memsightd.conf; each malformed input is written inline, so the
 * test shows the bytes and the line number the error must name.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/config.h"

#define FIX "tests/fixtures/config/"

static struct ms_config parse_ok(const char *text)
{
	struct ms_config cfg;
	char err[512] = "";

	if (config__parse(text, strlen(text), NULL, &cfg, err, sizeof(err)))
		fail_msg("config rejected: %s\n---\n%s", err, text);
	return cfg;
}

/* The message for text, which must fail with -EINVAL, and left nothing to free. */
static const char *parse_err(const char *text, size_t len)
{
	static char err[512];
	struct ms_config cfg;

	err[0] = '\0';
	assert_int_equal(config__parse(text, len, NULL, &cfg, err, sizeof(err)), -EINVAL);
	assert_null(cfg.rules.v);
	assert_int_equal(cfg.rules.n, 0);
	return err;
}

#define ASSERT_ERR(text, msg) assert_string_equal(parse_err(text, strlen(text)), msg)

/* A temporary file holding len bytes of data; the caller unlinks and frees it. */
static char *tmp_file(const void *data, size_t len)
{
	char *path = strdup("/tmp/ms-config-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void assert_defaults_except_rules(const struct ms_config *c)
{
	struct ms_config d;

	config__defaults(&d);
	assert_string_equal(c->socket, d.socket);
	assert_string_equal(c->socket_group, d.socket_group);
	assert_string_equal(c->state_dir, d.state_dir);
	assert_string_equal(c->host_root, d.host_root);
	assert_int_equal(c->max_processes, d.max_processes);
	assert_int_equal(c->snapshot_interval_s, d.snapshot_interval_s);
	assert_int_equal(c->growth_window_s, d.growth_window_s);
	assert_int_equal(c->live_entries, d.live_entries);
	assert_int_equal(c->metrics_enabled, d.metrics_enabled);
	assert_string_equal(c->metrics_host, d.metrics_host);
	assert_int_equal(c->metrics_port, d.metrics_port);
	assert_int_equal(c->top_stacks, d.top_stacks);
	assert_string_equal(c->incidents_dir, d.incidents_dir);
	assert_int_equal(c->incidents_max_count, d.incidents_max_count);
	assert_int_equal(c->incidents_max_bytes, d.incidents_max_bytes);
}

/* ---- whole files --------------------------------------------------------- */

static void test_the_builtin_defaults_are_the_documented_values(void **state)
{
	struct ms_config d;

	config__defaults(&d);
	assert_string_equal(d.socket, "/run/memsight/memsight.sock");
	assert_string_equal(d.socket_group, "memsight");
	assert_string_equal(d.state_dir, "/var/lib/memsight");
	assert_string_equal(d.host_root, "/");
	assert_int_equal(d.max_processes, 256);
	assert_int_equal(d.snapshot_interval_s, 10);
	assert_int_equal(d.growth_window_s, 600);
	assert_int_equal(d.live_entries, 1048576);
	assert_true(d.metrics_enabled);
	assert_string_equal(d.metrics_host, "127.0.0.1");
	assert_int_equal(d.metrics_port, 9464);
	assert_int_equal(d.top_stacks, 5);
	assert_string_equal(d.incidents_dir, "/var/lib/memsight/incidents");
	assert_int_equal(d.incidents_max_count, 50);
	assert_int_equal(d.incidents_max_bytes, 104857600);
	assert_int_equal(d.rules.n, 0);
	config__free(&d);
	config__free(NULL);
}

static void test_the_shipped_config_loads_and_spells_out_the_defaults(void **state)
{
	struct ms_config c;
	char err[512] = "";

	if (config__load("deploy/memsightd.conf", &c, err, sizeof(err)))
		fail_msg("deploy/memsightd.conf: %s", err);
	assert_defaults_except_rules(&c);
	/* Its rules are commented-out examples: nothing is watched by default. */
	assert_int_equal(c.rules.n, 0);
	config__free(&c);
}

static void test_a_full_file_sets_every_key_of_every_section(void **state)
{
	struct ms_config c;
	char err[512] = "";

	if (config__load(FIX "full.conf", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(c.socket, "/run/ms-test/ctl.sock");
	assert_string_equal(c.socket_group, "ms-admins");
	/* The value is the rest of the line: '#' and inner spaces are kept. */
	assert_string_equal(c.state_dir, "/srv/memsight state #1");
	assert_string_equal(c.host_root, "/host");
	assert_int_equal(c.max_processes, 65536);
	assert_int_equal(c.snapshot_interval_s, 1);
	assert_int_equal(c.growth_window_s, 86400);
	assert_int_equal(c.live_entries, 1024);
	assert_true(c.metrics_enabled);
	assert_string_equal(c.metrics_host, "::1");
	assert_int_equal(c.metrics_port, 19464);
	assert_int_equal(c.top_stacks, 0);
	assert_string_equal(c.tls_cert, "/etc/memsight/tls/tls.crt");
	assert_string_equal(c.tls_key, "/etc/memsight/tls/tls.key");
	assert_string_equal(c.token_file, "/etc/memsight/auth/token");
	assert_string_equal(c.users_file, "/etc/memsight/auth/users");
	assert_string_equal(c.open_paths, "/metrics  /healthz");
	assert_string_equal(c.incidents_dir, "/srv/memsight/incidents");
	assert_int_equal(c.incidents_max_count, 100000);
	assert_true(c.incidents_max_bytes == 1099511627776ULL);

	assert_int_equal(c.rules.n, 5);
	assert_int_equal(c.rules.v[0].action, MS_RULE_EXCLUDE);
	assert_string_equal(c.rules.v[0].pattern, "leaky-test*");
	assert_int_equal(c.rules.v[2].key, MS_RULE_EXE);
	assert_string_equal(c.rules.v[2].pattern, "/opt/app/bin/*");
	assert_string_equal(c.rules.v[4].pattern, "/system.slice/api.service");
	/* The file's order is the evaluation order. */
	assert_false(rules__match(&c.rules, "leaky-test9", NULL, NULL));
	assert_true(rules__match(&c.rules, "leaky", NULL, NULL));
	assert_false(rules__match(&c.rules, "x", NULL, "/system.slice/memsightd.service"));
	assert_true(rules__match(&c.rules, "x", NULL, "/system.slice/api.service/worker"));
	config__free(&c);
	assert_int_equal(c.rules.n, 0);
}

static void test_a_crlf_file_reads_like_a_lf_one(void **state)
{
	struct ms_config c;
	char err[512] = "";

	if (config__load(FIX "crlf.conf", &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_string_equal(c.socket, "/run/crlf.sock");
	assert_int_equal(c.max_processes, 12);
	assert_int_equal(c.rules.n, 1);
	assert_string_equal(c.rules.v[0].pattern, "crlf");
	config__free(&c);
}

static void test_keys_left_out_keep_their_defaults(void **state)
{
	struct ms_config c = parse_ok("[metrics]\ntop_stacks = 9\n");

	assert_int_equal(c.top_stacks, 9);
	c.top_stacks = 5;
	assert_defaults_except_rules(&c);
	config__free(&c);

	c = parse_ok("");
	assert_defaults_except_rules(&c);
	config__free(&c);

	/* Comments, blank lines, empty sections and no final newline. */
	c = parse_ok("# a\n\n  ; b\n[daemon]\n[incidents]\n\t\n[rules]\n# include comm=x");
	assert_defaults_except_rules(&c);
	assert_int_equal(c.rules.n, 0);
	config__free(&c);
}

/* ---- [metrics] listen ------------------------------------------------------ */

static void test_listen_takes_ipv4_ipv6_host_names_and_off(void **state)
{
	struct ms_config c = parse_ok("[metrics]\nlisten = 0.0.0.0:1\n");

	assert_true(c.metrics_enabled);
	assert_string_equal(c.metrics_host, "0.0.0.0");
	assert_int_equal(c.metrics_port, 1);

	c = parse_ok("[metrics]\nlisten = [::]:65535\n");
	assert_string_equal(c.metrics_host, "::");
	assert_int_equal(c.metrics_port, 65535);

	c = parse_ok("[metrics]\nlisten = localhost:9000\n");
	assert_string_equal(c.metrics_host, "localhost");
	assert_int_equal(c.metrics_port, 9000);

	c = parse_ok("[metrics]\nlisten = off\n");
	assert_false(c.metrics_enabled);
	assert_string_equal(c.metrics_host, "");
	assert_int_equal(c.metrics_port, 0);
}

static void test_bad_listen_addresses_are_refused(void **state)
{
	ASSERT_ERR("[metrics]\nlisten = ::1:9464",
		   "line 2: listen '::1:9464': an IPv6 address needs brackets, e.g. [::1]:9464");
	ASSERT_ERR("[metrics]\nlisten = 127.0.0.1",
		   "line 2: listen '127.0.0.1': expected HOST:PORT, [IPV6]:PORT or off");
	ASSERT_ERR("[metrics]\nlisten = 127.0.0.1:",
		   "line 2: listen '127.0.0.1:': missing port");
	ASSERT_ERR("[metrics]\nlisten = 127.0.0.1:0",
		   "line 2: listen port = 0 is out of range 1..65535");
	ASSERT_ERR("[metrics]\nlisten = 127.0.0.1:65536",
		   "line 2: listen port = 65536 is out of range 1..65535");
	ASSERT_ERR("[metrics]\nlisten = 127.0.0.1:http",
		   "line 2: listen port must be a number, got 'http'");
	ASSERT_ERR("[metrics]\nlisten = :9464",
		   "line 2: listen ':9464': missing host (0.0.0.0 listens on all addresses)");
	ASSERT_ERR("[metrics]\nlisten = [::1]9464",
		   "line 2: listen '[::1]9464': expected ':PORT' after ']'");
	ASSERT_ERR("[metrics]\nlisten = [::1:9464", "line 2: listen '[::1:9464': missing ']'");
	ASSERT_ERR("[metrics]\nlisten = [1.2.3.4]:80",
		   "line 2: listen '[1.2.3.4]:80': bad IPv6 address");
	ASSERT_ERR("[metrics]\nlisten = 1.2.3.999:80",
		   "line 2: listen '1.2.3.999:80': bad IPv4 address");
	ASSERT_ERR("[metrics]\nlisten = my_host:80", "line 2: listen 'my_host:80': bad host name");
	ASSERT_ERR("[metrics]\nlisten = Off", "line 2: listen 'Off': expected HOST:PORT, "
		   "[IPV6]:PORT or off");
}

/* ---- errors and their lines ------------------------------------------------ */

static void test_a_typo_in_a_key_names_the_key_the_section_and_the_line(void **state)
{
	static const char text[] = "# memsightd\n[daemon]\nsocket_group = memsight\n"
				   "sokcet = /run/x.sock\n";
	struct ms_config c;
	char err[512];

	ASSERT_ERR(text, "line 4: unknown key 'sokcet' in [daemon]");
	/* With a file name, the usual file:line form. */
	assert_int_equal(config__parse(text, strlen(text), "/etc/memsight/memsightd.conf", &c, err,
				       sizeof(err)), -EINVAL);
	assert_string_equal(err, "/etc/memsight/memsightd.conf:4: unknown key 'sokcet' in [daemon]");
	ASSERT_ERR("[metrics]\nsocket = /x", "line 2: unknown key 'socket' in [metrics]");
	ASSERT_ERR("[daemon]\nSocket = /x", "line 2: unknown key 'Socket' in [daemon]");
}

static void test_section_errors_name_their_line(void **state)
{
	ASSERT_ERR("\n[deamon]\n",
		   "line 2: unknown section [deamon] (daemon, metrics, incidents, rules)");
	ASSERT_ERR("[daemon\n", "line 1: section header '[daemon' lacks its ']'");
	ASSERT_ERR("[]\n", "line 1: unknown section [] (daemon, metrics, incidents, rules)");
	ASSERT_ERR("[daemon]\n[metrics]\n[ daemon ]\n",
		   "line 3: section [daemon] repeated (first on line 1)");
	ASSERT_ERR("socket = /x\n[daemon]\n",
		   "line 1: 'socket = /x' before any section; start with [daemon]");
}

static void test_line_syntax_errors_name_their_line(void **state)
{
	ASSERT_ERR("[daemon]\nmax_processes = 1\n\nmax_processes = 2\n",
		   "line 4: duplicate key 'max_processes' in [daemon] (first set on line 2)");
	ASSERT_ERR("[daemon]\nsocket /x\n", "line 2: expected 'key = value' in [daemon], got "
		   "'socket /x'");
	ASSERT_ERR("[daemon]\nsocket =\n", "line 2: empty value for 'socket'");
	ASSERT_ERR("[daemon]\n = /x\n", "line 2: unknown key '' in [daemon]");
	ASSERT_ERR("[daemon]\nsocket = /a\x01" "b\n", "line 2: control character 0x01");
	ASSERT_ERR("[daemon]\nsocket = /a\rb\n", "line 2: control character 0x0d");
	assert_string_equal(parse_err("[daemon]\nsocket = /a\0b\n", 22), "line 2: NUL byte");
}

static void test_out_of_range_numbers_name_the_key_and_the_range(void **state)
{
	ASSERT_ERR("[daemon]\nmax_processes = 0", "line 2: max_processes = 0 is out of range "
		   "1..65536");
	ASSERT_ERR("[daemon]\nmax_processes = 65537", "line 2: max_processes = 65537 is out of "
		   "range 1..65536");
	ASSERT_ERR("[daemon]\nsnapshot_interval_s = 3601", "line 2: snapshot_interval_s = 3601 "
		   "is out of range 1..3600");
	ASSERT_ERR("[daemon]\ngrowth_window_s = 9", "line 2: growth_window_s = 9 is out of "
		   "range 10..86400");
	ASSERT_ERR("[daemon]\nlive_entries = 1023", "line 2: live_entries = 1023 is out of "
		   "range 1024..67108864");
	ASSERT_ERR("[daemon]\nlive_entries = 67108865", "line 2: live_entries = 67108865 is out "
		   "of range 1024..67108864");
	ASSERT_ERR("[metrics]\ntop_stacks = 101", "line 2: top_stacks = 101 is out of range "
		   "0..100");
	ASSERT_ERR("[incidents]\nmax_count = 0", "line 2: max_count = 0 is out of range "
		   "1..100000");
	ASSERT_ERR("[incidents]\nmax_bytes = 4095", "line 2: max_bytes = 4095 is out of range "
		   "4096..1099511627776");
	ASSERT_ERR("[incidents]\nmax_bytes = 99999999999999999999999",
		   "line 2: max_bytes = 99999999999999999999999 is out of range "
		   "4096..1099511627776");
}

static void test_malformed_numbers_are_refused(void **state)
{
	ASSERT_ERR("[daemon]\nmax_processes = -1",
		   "line 2: max_processes must be a number, got '-1'");
	ASSERT_ERR("[daemon]\nmax_processes = 1e3",
		   "line 2: max_processes must be a number, got '1e3'");
	/* No inline comments: the '#' is part of the value. */
	ASSERT_ERR("[daemon]\nmax_processes = 256  # one per service",
		   "line 2: max_processes must be a number, got '256  # one per service'");
}

static void test_bad_paths_and_names_are_refused(void **state)
{
	char text[512];

	ASSERT_ERR("[daemon]\nstate_dir = var/lib/memsight",
		   "line 2: state_dir 'var/lib/memsight' must be an absolute path");
	ASSERT_ERR("[incidents]\ndir = ./incidents",
		   "line 2: dir './incidents' must be an absolute path");
	ASSERT_ERR("[daemon]\nsocket_group = mem sight",
		   "line 2: socket_group 'mem sight' is not a group name");
	ASSERT_ERR("[daemon]\nsocket_group = -wheel",
		   "line 2: socket_group '-wheel' is not a group name");
	ASSERT_ERR("[daemon]\nsocket_group = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		   "line 2: socket_group is longer than 32 bytes");

	/* A unix socket path has 107 usable bytes (sun_path). */
	snprintf(text, sizeof(text), "[daemon]\nsocket = /%0106d", 0);
	parse_ok(text);
	snprintf(text, sizeof(text), "[daemon]\nsocket = /%0107d", 0);
	ASSERT_ERR(text, "line 2: socket is longer than 107 bytes");
}

static void test_access_keys_go_together_and_paths_are_paths(void **state)
{
	struct ms_config c = parse_ok("[metrics]\ntoken_file = /t\nopen_paths = /metrics /x/y\n");

	assert_string_equal(c.token_file, "/t");
	assert_string_equal(c.open_paths, "/metrics /x/y");
	/* none set: plain HTTP, no credentials */
	c = parse_ok("[metrics]\nlisten = 127.0.0.1:1\n");
	assert_string_equal(c.tls_cert, "");
	assert_string_equal(c.token_file, "");
	assert_string_equal(c.users_file, "");
	ASSERT_ERR("[metrics]\ntoken_file = token",
		   "line 2: token_file 'token' must be an absolute path");
	ASSERT_ERR("[metrics]\ntls_cert = /c.pem",
		   "[metrics] tls_cert and tls_key go together: TLS needs the certificate and "
		   "its key");
	ASSERT_ERR("[metrics]\ntls_key = /k.pem",
		   "[metrics] tls_cert and tls_key go together: TLS needs the certificate and "
		   "its key");
	ASSERT_ERR("[metrics]\nopen_paths = /metrics",
		   "[metrics] open_paths without token_file or users_file: every path is open "
		   "already");
	ASSERT_ERR("[metrics]\nusers_file = /u\nopen_paths = /metrics metrics",
		   "line 3: open_paths: '/metrics metrics': each path starts with '/'");
	ASSERT_ERR("[metrics]\nusers_file = /u\nopen_paths = /metrics?x=1",
		   "line 3: open_paths: '/metrics?x=1': a path without '?', '#', '%' or non-ASCII");
}

static void test_rule_errors_carry_the_line_of_the_rule(void **state)
{
	ASSERT_ERR("[rules]\ninclude comm=x\n# ok\nwatch comm=y\n",
		   "line 4: expected 'include' or 'exclude', got 'watch'");
	ASSERT_ERR("[rules]\ninclude comm=my-long-service-d\n",
		   "line 2: comm 'my-long-service-d' is longer than 15 bytes and can never match "
		   "(the kernel truncates comm)");
	ASSERT_ERR("[rules]\ninclude cgroup = system.slice\n",
		   "line 2: cgroup 'system.slice' must start with '/'");
	ASSERT_ERR("[rules]\nsocket = /x\n", "line 2: expected 'include' or 'exclude', got "
		   "'socket'");
}

static void test_an_error_after_rules_frees_them(void **state)
{
	/* parse_err() checks the rules were freed; valgrind checks nothing leaked. */
	ASSERT_ERR("[rules]\ninclude comm=a\ninclude comm=b\n[daemon]\nbogus = 1\n",
		   "line 5: unknown key 'bogus' in [daemon]");
}

static void test_errors_without_an_err_buffer_still_return_the_code(void **state)
{
	struct ms_config c;

	assert_int_equal(config__parse("[x]", 3, NULL, &c, NULL, 0), -EINVAL);
	assert_int_equal(config__load("/nonexistent/memsightd.conf", &c, NULL, 0), -ENOENT);
}

/* ---- limits and I/O -------------------------------------------------------- */

static void test_a_file_over_1_mib_is_refused_and_1_mib_of_comments_is_not(void **state)
{
	size_t len = MS_CONFIG_FILE_MAX;
	char *buf = malloc(len + 1), *path, err[512];
	struct ms_config c;
	size_t i;

	assert_non_null(buf);
	/* 1 MiB of "#...\n" lines exactly. */
	for (i = 0; i < len; i++)
		buf[i] = (i % 64 == 63) ? '\n' : '#';
	assert_int_equal(config__parse(buf, len, NULL, &c, err, sizeof(err)), 0);
	config__free(&c);
	path = tmp_file(buf, len);
	assert_int_equal(config__load(path, &c, err, sizeof(err)), 0);
	config__free(&c);
	unlink(path);
	free(path);

	buf[len] = '\n';
	assert_int_equal(config__parse(buf, len + 1, NULL, &c, err, sizeof(err)), -EFBIG);
	assert_string_equal(err, "file is larger than 1048576 bytes");
	path = tmp_file(buf, len + 1);
	assert_int_equal(config__load(path, &c, err, sizeof(err)), -EFBIG);
	assert_true(strstr(err, ": file is larger than 1048576 bytes") != NULL);
	assert_memory_equal(err, path, strlen(path));
	unlink(path);
	free(path);
	free(buf);
}

static void test_the_1025th_rule_is_refused_with_its_line(void **state)
{
	size_t cap = 32 * 1100, n = 0;
	char *text = malloc(cap), err[512];
	struct ms_config c;
	int i;

	assert_non_null(text);
	n += sprintf(text + n, "[rules]\n");
	for (i = 0; i < MS_RULES_MAX; i++)
		n += sprintf(text + n, "include comm=c%d\n", i);
	assert_int_equal(config__parse(text, n, NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(c.rules.n, MS_RULES_MAX);
	config__free(&c);
	n += sprintf(text + n, "include comm=one-more\n");
	assert_int_equal(config__parse(text, n, NULL, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "line 1026: more than 1024 rules");
	assert_null(c.rules.v);
	free(text);
}

static void test_load_reports_io_errors_with_the_path(void **state)
{
	static const char text[] = "[daemon]\n\nmax_processes = many\n";
	struct ms_config c;
	char err[512], *path;

	assert_int_equal(config__load("/nonexistent/memsightd.conf", &c, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/memsightd.conf: cannot open: No such file or "
			    "directory");
	assert_int_equal(config__load("tests/fixtures/config", &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "tests/fixtures/config: not a regular file");

	path = tmp_file(text, sizeof(text) - 1);
	assert_int_equal(config__load(path, &c, err, sizeof(err)), -EINVAL);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_string_equal(err + strlen(path), ":3: max_processes must be a number, got 'many'");
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_builtin_defaults_are_the_documented_values),
		cmocka_unit_test(test_the_shipped_config_loads_and_spells_out_the_defaults),
		cmocka_unit_test(test_a_full_file_sets_every_key_of_every_section),
		cmocka_unit_test(test_a_crlf_file_reads_like_a_lf_one),
		cmocka_unit_test(test_keys_left_out_keep_their_defaults),
		cmocka_unit_test(test_listen_takes_ipv4_ipv6_host_names_and_off),
		cmocka_unit_test(test_bad_listen_addresses_are_refused),
		cmocka_unit_test(test_a_typo_in_a_key_names_the_key_the_section_and_the_line),
		cmocka_unit_test(test_section_errors_name_their_line),
		cmocka_unit_test(test_line_syntax_errors_name_their_line),
		cmocka_unit_test(test_out_of_range_numbers_name_the_key_and_the_range),
		cmocka_unit_test(test_malformed_numbers_are_refused),
		cmocka_unit_test(test_bad_paths_and_names_are_refused),
		cmocka_unit_test(test_access_keys_go_together_and_paths_are_paths),
		cmocka_unit_test(test_rule_errors_carry_the_line_of_the_rule),
		cmocka_unit_test(test_an_error_after_rules_frees_them),
		cmocka_unit_test(test_errors_without_an_err_buffer_still_return_the_code),
		cmocka_unit_test(test_a_file_over_1_mib_is_refused_and_1_mib_of_comments_is_not),
		cmocka_unit_test(test_the_1025th_rule_is_refused_with_its_line),
		cmocka_unit_test(test_load_reports_io_errors_with_the_path),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
