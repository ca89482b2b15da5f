// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The HTTP listener's credentials (export/http_auth.c) from files written
 * here: the right token or user:password passes, anything else is refused,
 * files others may read are refused at load, and no error message carries
 * a secret.
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

#include "export/http_auth.h"

#define TOKEN "Zm9vYmFyYmF6cXV4LTEyMzQ1Njc4"

static char dir[] = "/tmp/ms-auth-XXXXXX";

/* dir/name holding text with mode; its path (static buffer per name slot) */
static const char *put(const char *name, const char *text, mode_t mode)
{
	static char paths[8][256];
	static unsigned int next;
	char *p = paths[next++ % 8];
	FILE *f;

	snprintf(p, 256, "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static struct http_auth *load(const char *token, const char *users, const char *open, int want)
{
	struct http_auth_conf c = { token, users, open };
	struct http_auth *a = NULL;
	char err[512] = "";
	int r = http_auth__load(&c, &a, err, sizeof(err));

	assert_int_equal(r, want);
	if (r)
		assert_true(err[0]);
	return a;
}

static void test_bearer(void **state)
{
	struct http_auth *a = load(put("tok", TOKEN "\n", 0600), NULL, NULL, 0);

	(void)state;
	assert_int_equal(http_auth__schemes(a), HTTP_AUTH_BEARER);
	assert_int_equal(http_auth__check(a, "Bearer " TOKEN), 0);
	assert_int_equal(http_auth__check(a, "bearer  " TOKEN), 0);
	assert_int_equal(http_auth__check(a, NULL), -EACCES);
	assert_int_equal(http_auth__check(a, ""), -EACCES);
	assert_int_equal(http_auth__check(a, "Bearer"), -EACCES);
	assert_int_equal(http_auth__check(a, "Bearer "), -EACCES);
	assert_int_equal(http_auth__check(a, "Bearer " TOKEN "x"), -EACCES);
	assert_int_equal(http_auth__check(a, "Bearer Zm9vYmFyYmF6cXV4LTEyMzQ1Njc5"), -EACCES);
	assert_int_equal(http_auth__check(a, "Bearer Zm9vYmFyYmF6cXV4LTEyMzQ1Njc"), -EACCES);
	/* a token is no password: Basic is not offered */
	assert_int_equal(http_auth__check(a, "Basic " TOKEN), -EACCES);
	assert_false(http_auth__is_open(a, "/metrics"));
	http_auth__free(a);
}

static void test_basic(void **state)
{
	/* alice:pa:ss and bob:hunter22, with a comment, CRLF and a blank line */
	struct http_auth *a = load(NULL, put("users", "# users\nalice:pa:ss\r\n\nbob:hunter22\n",
					     0640), "/metrics /healthz", 0);

	(void)state;
	assert_int_equal(http_auth__schemes(a), HTTP_AUTH_BASIC);
	assert_int_equal(http_auth__check(a, "Basic YWxpY2U6cGE6c3M="), 0);	/* alice:pa:ss */
	assert_int_equal(http_auth__check(a, "Basic YWxpY2U6cGE6c3M"), 0);	/* no padding */
	assert_int_equal(http_auth__check(a, "Basic Ym9iOmh1bnRlcjIy"), 0);	/* bob:hunter22 */
	assert_int_equal(http_auth__check(a, "Basic Ym9iOnBhOnNz"), -EACCES);	/* bob:pa:ss */
	assert_int_equal(http_auth__check(a, "Basic YWxpY2U6cGE="), -EACCES);	/* alice:pa */
	assert_int_equal(http_auth__check(a, "Basic YWxpY2U="), -EACCES);	/* alice */
	assert_int_equal(http_auth__check(a, "Basic Omh1bnRlcjIy"), -EACCES);	/* :hunter22 */
	assert_int_equal(http_auth__check(a, "Basic !!!!"), -EACCES);
	assert_int_equal(http_auth__check(a, "Basic Y"), -EACCES);
	assert_int_equal(http_auth__check(a, "Bearer Ym9iOmh1bnRlcjIy"), -EACCES);
	assert_true(http_auth__is_open(a, "/metrics"));
	assert_true(http_auth__is_open(a, "/healthz"));
	assert_false(http_auth__is_open(a, "/metrics/"));
	assert_false(http_auth__is_open(a, "/"));
	http_auth__free(a);
}

static void test_both(void **state)
{
	struct http_auth *a = load(put("tok2", TOKEN, 0400), put("u2", "bob:hunter22\n", 0600),
				   NULL, 0);

	(void)state;
	assert_int_equal(http_auth__schemes(a), HTTP_AUTH_BEARER | HTTP_AUTH_BASIC);
	assert_int_equal(http_auth__check(a, "Bearer " TOKEN), 0);
	assert_int_equal(http_auth__check(a, "Basic Ym9iOmh1bnRlcjIy"), 0);
	assert_int_equal(http_auth__check(a, "Digest x"), -EACCES);
	http_auth__free(a);
	/* nothing asked: everything open */
	a = load(NULL, "", NULL, 0);
	assert_null(a);
	assert_int_equal(http_auth__check(NULL, NULL), 0);
	assert_true(http_auth__is_open(NULL, "/"));
}

static void test_refused_files(void **state)
{
	struct http_auth_conf c = { 0 };
	struct http_auth *a = (struct http_auth *)1;
	char err[512];

	(void)state;
	load(put("t-world", TOKEN, 0604), NULL, NULL, -EPERM);
	load(put("t-gw", TOKEN, 0620), NULL, NULL, -EPERM);
	load(NULL, put("u-world", "bob:hunter22\n", 0644), NULL, -EPERM);
	load(put("t-short", "short\n", 0600), NULL, NULL, -EINVAL);
	load(put("t-empty", "\n", 0600), NULL, NULL, -EINVAL);
	load(put("t-space", "Zm9vYmFy YmF6cXV4LTEy\n", 0600), NULL, NULL, -EINVAL);
	load(NULL, put("u-nocolon", "bob\n", 0600), NULL, -EINVAL);
	load(NULL, put("u-nouser", ":hunter22\n", 0600), NULL, -EINVAL);
	load(NULL, put("u-nopass", "bob:\n", 0600), NULL, -EINVAL);
	load(NULL, put("u-twice", "bob:a\nbob:b\n", 0600), NULL, -EINVAL);
	load(NULL, put("u-none", "# nobody\n", 0600), NULL, -EINVAL);
	load("/nonexistent/token", NULL, NULL, -ENOENT);
	load(dir, NULL, NULL, -EINVAL);	/* a directory */
	load(put("t-ok", TOKEN, 0600), NULL, "metrics", -EINVAL);
	load(NULL, NULL, "/metrics", -EINVAL);
	/* the message names the file and the line, never the secret */
	c.users_file = put("u-secret", "bob:hunter22\nbob:Sup3rSecret\n", 0600);
	assert_int_equal(http_auth__load(&c, &a, err, sizeof(err)), -EINVAL);
	assert_null(a);
	assert_non_null(strstr(err, "u-secret:2:"));
	assert_null(strstr(err, "Sup3rSecret"));
	assert_null(strstr(err, "hunter22"));
	c.users_file = NULL;
	c.token_file = put("t-secret", "Sup3rSecretTok en\n", 0600);
	assert_int_equal(http_auth__load(&c, &a, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "Sup3rSecret"));
	c.token_file = put("t-mode", TOKEN, 0644);
	assert_int_equal(http_auth__load(&c, &a, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "0644"));
	assert_null(strstr(err, TOKEN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_both),
		cmocka_unit_test(test_refused_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
