// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Each test gets a fresh store in a temporary directory; files that the
 * store did not write (garbage, cut records, symlinks) are planted with
 * plain open()/write() so the test shows the bytes it feeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/incidents.h"

static char base[64];
static char dir[128];

static int setup(void **state)
{
	strcpy(base, "/tmp/ms-incidents-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	/* Two levels that do not exist yet: open() creates them. */
	snprintf(dir, sizeof(dir), "%s/var/incidents", base);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	return nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void plant(const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static bool exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void save_str(struct incidents *s, const char *json, time_t when, pid_t pid,
		     const char *want_id)
{
	char id[INCIDENT_ID_LEN];

	assert_int_equal(incidents__save(s, json, strlen(json), when, pid, id, sizeof(id)), 0);
	assert_string_equal(id, want_id);
}

static void test_round_trip_oldest_first(void **state)
{
	static const char a[] = "{\"comm\":\"postgres\",\"rss\":1}";
	static const char b[] = "{\n  \"pid\": 7,\n  \"comm\": \"java\"\n}\n";
	static const char c[] = "{\"rss\":3}";
	struct incident_info *v;
	struct incidents *s;
	size_t n, len;
	char *buf;

	assert_int_equal(incidents__open(dir, 10, 1 << 20, &s), 0);
	/* Saved out of time order; listing sorts by time. */
	save_str(s, b, 1700000200, 7, "1700000200-7");
	save_str(s, a, 1700000100, 4242, "1700000100-4242");
	save_str(s, c, 1700000300, 1, "1700000300-1");
	assert_true(exists("1700000100-4242.json"));

	assert_int_equal(incidents__list(s, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].id, "1700000100-4242");
	assert_int_equal(v[0].when, 1700000100);
	assert_int_equal(v[0].pid, 4242);
	assert_int_equal(v[0].size, sizeof(a) - 1);
	assert_string_equal(v[0].comm, "postgres");
	assert_string_equal(v[1].id, "1700000200-7");
	assert_string_equal(v[1].comm, "java");
	assert_string_equal(v[2].id, "1700000300-1");
	assert_string_equal(v[2].comm, "");
	free(v);

	assert_int_equal(incidents__read(s, "1700000200-7", &buf, &len), 0);
	assert_int_equal(len, sizeof(b) - 1);
	assert_memory_equal(buf, b, len);
	assert_int_equal(buf[len], '\0');
	free(buf);
	assert_int_equal(incidents__read(s, "1700000200-8", &buf, &len), -ENOENT);
	incidents__close(s);
}

/* A second record of the same second and pid gets "-1", not an overwrite. */
static void test_same_second_same_pid(void **state)
{
	struct incident_info *v;
	struct incidents *s;
	size_t n, len;
	char *buf;

	assert_int_equal(incidents__open(dir, 10, 1 << 20, &s), 0);
	save_str(s, "{\"n\":1}", 1700000000, 99, "1700000000-99");
	save_str(s, "{\"n\":2}", 1700000000, 99, "1700000000-99-1");
	save_str(s, "{\"n\":3}", 1700000000, 99, "1700000000-99-2");
	assert_int_equal(incidents__list(s, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[1].id, "1700000000-99-1");
	free(v);
	assert_int_equal(incidents__read(s, "1700000000-99-1", &buf, &len), 0);
	assert_string_equal(buf, "{\"n\":2}");
	free(buf);
	incidents__close(s);
}

static void test_max_count_evicts_oldest(void **state)
{
	struct incidents_stats st;
	struct incident_info *v;
	struct incidents *s;
	size_t n;

	assert_int_equal(incidents__open(dir, 3, 1 << 20, &s), 0);
	for (int i = 0; i < 5; i++) {
		char id[32];

		snprintf(id, sizeof(id), "%d-100", 1000 + i);
		save_str(s, "{\"x\":12345}", 1000 + i, 100, id);
	}
	assert_int_equal(incidents__list(s, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].id, "1002-100");
	assert_string_equal(v[2].id, "1004-100");
	free(v);
	assert_false(exists("1000-100.json"));
	assert_false(exists("1001-100.json"));
	assert_int_equal(incidents__stats(s, &st), 0);
	assert_int_equal(st.count, 3);
	assert_int_equal(st.bytes, 3 * 11);
	assert_int_equal(st.evicted_count, 2);
	assert_int_equal(st.evicted_bytes, 2 * 11);
	incidents__close(s);
}

/* 100-byte records under a 250-byte limit: only the two newest stay. */
static void test_max_bytes_evicts_oldest(void **state)
{
	char json[101], id[INCIDENT_ID_LEN];
	struct incidents_stats st;
	struct incident_info *v;
	struct incidents *s;
	size_t n;

	memset(json, ' ', 100);
	json[0] = '{';
	json[99] = '}';
	json[100] = '\0';
	assert_int_equal(incidents__open(dir, 100, 250, &s), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(incidents__save(s, json, 100, 2000 + i, 5, id, sizeof(id)), 0);
	assert_int_equal(incidents__list(s, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "2002-5");
	assert_string_equal(v[1].id, "2003-5");
	free(v);
	assert_int_equal(incidents__stats(s, &st), 0);
	assert_int_equal(st.bytes, 200);
	assert_int_equal(st.evicted_bytes, 200);

	/* A record older than all others is kept; the next oldest goes instead. */
	assert_int_equal(incidents__save(s, json, 100, 10, 5, id, sizeof(id)), 0);
	assert_string_equal(id, "10-5");
	assert_true(exists("10-5.json"));
	assert_false(exists("2002-5.json"));
	assert_true(exists("2003-5.json"));

	/* One record alone bigger than max_bytes is refused, nothing evicted. */
	char big[300];

	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[299] = '}';
	assert_int_equal(incidents__save(s, big, 300, 3000, 5, id, sizeof(id)), -EFBIG);
	assert_true(exists("2003-5.json"));
	incidents__close(s);
}

static void test_survives_restart_and_lower_limit(void **state)
{
	struct incidents_stats st;
	struct incident_info *v;
	struct incidents *s;
	size_t n, len;
	char *buf;

	assert_int_equal(incidents__open(dir, 10, 1 << 20, &s), 0);
	save_str(s, "{\"comm\":\"a\"}", 100, 1, "100-1");
	save_str(s, "{\"comm\":\"b\"}", 200, 2, "200-2");
	save_str(s, "{\"comm\":\"c\"}", 300, 3, "300-3");
	incidents__close(s);

	assert_int_equal(incidents__open(dir, 10, 1 << 20, &s), 0);
	assert_int_equal(incidents__list(s, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[1].comm, "b");
	free(v);
	assert_int_equal(incidents__read(s, "300-3", &buf, &len), 0);
	assert_string_equal(buf, "{\"comm\":\"c\"}");
	free(buf);
	incidents__close(s);

	/* A config with a lower max_count trims the store at open. */
	assert_int_equal(incidents__open(dir, 1, 1 << 20, &s), 0);
	assert_int_equal(incidents__stats(s, &st), 0);
	assert_int_equal(st.count, 1);
	assert_int_equal(st.evicted_count, 2);
	assert_true(exists("300-3.json"));
	incidents__close(s);
}

static void test_hostile_ids_refused(void **state)
{
	static const char *const bad[] = {
		"", "..", ".", "/etc/passwd", "../../etc/passwd", "1700000000-42/../../x",
		"1700000000-42.json", "1700000000-42/", "01700000000-42", "1700000000-042",
		"1700000000-0", "1700000000-42-0", "1700000000-42-100", "-42", "1700000000-",
		"1700000000-42-", " 1700000000-42", "1700000000-42\n", "1700000000--42",
		"99999999999999999999-1", "1-99999999999", "1700000000-42%00",
		"111111111111111111111111111111111111111111111111111111111111-1",
	};
	char outside[PATH_MAX], link[PATH_MAX], *buf = NULL;
	struct incident_info *v;
	struct incidents *s;
	size_t n, len;

	assert_int_equal(incidents__open(dir, 10, 1 << 20, &s), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(incidents__read(s, bad[i], &buf, &len), -EINVAL);
	assert_null(buf);
	assert_int_equal(incidents__read(s, NULL, &buf, &len), -EINVAL);

	/* A record-shaped symlink pointing out of the store is neither read nor listed. */
	snprintf(outside, sizeof(outside), "%s/secret", base);
	{
		int fd = open(outside, O_WRONLY | O_CREAT, 0600);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "{\"k\":1}", 7), 7);
		close(fd);
	}
	snprintf(link, sizeof(link), "%s/1700000000-42.json", dir);
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(incidents__read(s, "1700000000-42", &buf, &len), -ENOENT);
	assert_int_equal(incidents__list(s, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	incidents__close(s);
}

static void test_garbage_in_dir_skipped(void **state)
{
	static const char cut[] = "{\"comm\":\"cut\",\"maps\":[1,2";
	static const char bin[] = "\x7f" "ELF\0\0\xff\x01}";
	char tmpname[] = ".tmp-1-1.1234";
	struct incident_info *v;
	struct incidents *s;
	char sub[PATH_MAX];
	size_t n;

	assert_int_equal(incidents__open(dir, 100, 1 << 20, &s), 0);
	incidents__close(s);
	plant("1700000001-7.json", cut, sizeof(cut) - 1);
	plant("1700000002-8.json", bin, sizeof(bin) - 1);
	plant("1700000003-9.json", "", 0);
	plant("notes.txt", "{}", 2);
	plant("1700000004-10.json.bak", "{}", 2);
	plant(tmpname, "{\"half", 6);
	plant("1700000005-11.json", "  {\"comm\":\"ok\"}\n", 16);
	snprintf(sub, sizeof(sub), "%s/1700000006-12.json", dir);
	assert_int_equal(mkdir(sub, 0700), 0);

	/* open() removes the crashed save's temporary file. */
	assert_int_equal(incidents__open(dir, 100, 1 << 20, &s), 0);
	assert_false(exists(tmpname));
	assert_int_equal(incidents__list(s, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].id, "1700000005-11");
	assert_string_equal(v[0].comm, "ok");
	free(v);
	/* Untouched: the store does not delete what it cannot account for. */
	assert_true(exists("notes.txt"));
	assert_true(exists("1700000001-7.json"));
	incidents__close(s);

	/* But cut records are records for the limits: the oldest go first. */
	assert_int_equal(incidents__open(dir, 2, 1 << 20, &s), 0);
	assert_false(exists("1700000001-7.json"));
	assert_false(exists("1700000002-8.json"));
	assert_true(exists("1700000005-11.json"));
	incidents__close(s);
}

static void test_comm_only_top_level(void **state)
{
	struct incident_info *v;
	struct incidents *s;
	char *head;
	size_t n;

	assert_int_equal(incidents__open(dir, 10, 1 << 20, &s), 0);
	/* "comm" inside a nested object or as a value does not count. */
	save_str(s, "{\"parent\":{\"comm\":\"bash\"},\"note\":\"comm\","
		 "\"comm\":\"a\\\"b\\u0041\\u00e9\"}", 1, 1, "1-1");
	save_str(s, "{\"parent\":{\"comm\":\"bash\"}}", 2, 2, "2-2");
	/* The key beyond the first INCIDENTS_HEAD bytes is not looked for. */
	head = malloc(INCIDENTS_HEAD + 64);
	assert_non_null(head);
	strcpy(head, "{\"pad\":\"");
	memset(head + 8, 'x', INCIDENTS_HEAD);
	strcpy(head + 8 + INCIDENTS_HEAD, "\",\"comm\":\"late\"}");
	save_str(s, head, 3, 3, "3-3");
	free(head);

	assert_int_equal(incidents__list(s, &v, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].comm, "a\"bA?");
	assert_string_equal(v[1].comm, "");
	assert_string_equal(v[2].comm, "");
	assert_int_equal(v[2].size, 8 + INCIDENTS_HEAD + 16);
	free(v);
	incidents__close(s);
}

static void test_size_caps_and_bad_args(void **state)
{
	char id[INCIDENT_ID_LEN], path[PATH_MAX], *buf = NULL, *big;
	struct incidents *s;
	size_t len;
	int fd;

	assert_int_equal(incidents__open(dir, 0, 100, &s), -EINVAL);
	assert_int_equal(incidents__open(dir, 10, 0, &s), -EINVAL);
	assert_int_equal(incidents__open(NULL, 10, 100, &s), -EINVAL);
	assert_int_equal(incidents__open(dir, 10, 1ULL << 40, &s), 0);

	/* Over 16 MiB is refused before a byte is written. */
	big = malloc(INCIDENTS_MAX_FILE + 1);
	assert_non_null(big);
	memset(big, ' ', INCIDENTS_MAX_FILE + 1);
	big[0] = '{';
	big[INCIDENTS_MAX_FILE] = '}';
	assert_int_equal(incidents__save(s, big, INCIDENTS_MAX_FILE + 1, 5, 5, id, sizeof(id)),
			 -EFBIG);
	free(big);

	/* A planted sparse file over the cap is neither read nor listed. */
	snprintf(path, sizeof(path), "%s/6-6.json", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{", 1), 1);
	assert_int_equal(ftruncate(fd, INCIDENTS_MAX_FILE + 2), 0);
	assert_int_equal(pwrite(fd, "}", 1, INCIDENTS_MAX_FILE + 1), 1);
	close(fd);
	assert_int_equal(incidents__read(s, "6-6", &buf, &len), -EFBIG);
	assert_null(buf);

	/* Not a JSON object, no pid, no room for the id. */
	assert_int_equal(incidents__save(s, "[1]", 3, 5, 5, id, sizeof(id)), -EINVAL);
	assert_int_equal(incidents__save(s, "{\"a\":", 5, 5, 5, id, sizeof(id)), -EINVAL);
	assert_int_equal(incidents__save(s, "{}", 0, 5, 5, id, sizeof(id)), -EINVAL);
	assert_int_equal(incidents__save(s, "{}", 2, 5, 0, id, sizeof(id)), -EINVAL);
	assert_int_equal(incidents__save(s, "{}", 2, -1, 5, id, sizeof(id)), -EINVAL);
	assert_int_equal(incidents__save(s, "{}", 2, 5, 5, id, 4), -ERANGE);
	assert_false(exists("5-5.json"));
	/* ret_id is optional. */
	assert_int_equal(incidents__save(s, "{}", 2, 5, 5, NULL, 0), 0);
	assert_true(exists("5-5.json"));
	incidents__close(s);
	incidents__close(NULL);
}

/* A store nobody else can change: not through a link, not in a directory others write. */
static void test_untrusted_dir_refused(void **state)
{
	char real[160], victim[160], tmp[PATH_MAX];
	struct incidents *s = NULL;
	int fd;

	snprintf(real, sizeof(real), "%s/real", base);
	assert_int_equal(mkdir(real, 0700), 0);
	snprintf(tmp, sizeof(tmp), "%s/var", base);
	assert_int_equal(mkdir(tmp, 0700), 0);
	assert_int_equal(symlink(real, dir), 0);
	assert_int_equal(incidents__open(dir, 10, 1 << 20, &s), -ELOOP);
	assert_null(s);
	assert_string_equal(incidents__strerror(-ELOOP), "is a symbolic link (not followed)");

	assert_int_equal(chmod(real, 0777), 0);
	assert_int_equal(incidents__open(real, 10, 1 << 20, &s), -EPERM);
	assert_int_equal(chmod(real, 0730), 0);
	assert_int_equal(incidents__open(real, 10, 1 << 20, &s), -EPERM);
	assert_null(s);
	assert_int_equal(chmod(real, 0700), 0);
	assert_int_equal(incidents__open(real, 10, 1 << 20, &s), 0);

	/* a link planted at the temporary name a save is about to use: replaced, not followed */
	snprintf(victim, sizeof(victim), "%s/victim", base);
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-1700000000-5.%d", real, (int)getpid());
	assert_int_equal(symlink(victim, tmp), 0);
	strcpy(dir, real);
	save_str(s, "{\"n\":1}", 1700000000, 5, "1700000000-5");
	assert_true(exists("1700000000-5.json"));
	assert_int_equal(access(tmp, F_OK), -1);
	fd = open(victim, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, tmp, sizeof(tmp)), 4);
	assert_memory_equal(tmp, "keep", 4);
	close(fd);
	incidents__close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_second_same_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_count_evicts_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_bytes_evicts_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_restart_and_lower_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hostile_ids_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_in_dir_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comm_only_top_level, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_caps_and_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untrusted_dir_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("incidents", tests, NULL, NULL);
}
