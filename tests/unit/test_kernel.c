// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel features from BTF: the layouts and tracepoint prototypes of Debian
 * 12's 6.1 and of a 6.18 kernel, built type by type as each kernel's BTF has
 * them, give the flavours memsight must load on each.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "bpf/kernel.h"

struct kbtf {
	struct btf *btf;
	int int_id, long_id, void_ptr;
};

static struct kbtf kbtf_new(void)
{
	struct kbtf k = { .btf = btf__new_empty() };

	assert_non_null(k.btf);
	k.int_id = btf__add_int(k.btf, "int", 4, BTF_INT_SIGNED);
	k.long_id = btf__add_int(k.btf, "long int", 8, BTF_INT_SIGNED);
	k.void_ptr = btf__add_ptr(k.btf, 0);
	return k;
}

/* typedef void (*btf_trace_<tp>)(void *, <args>) */
static void add_tp(struct kbtf *k, const char *tp, const int *args, int nargs)
{
	char name[64];
	int proto = btf__add_func_proto(k->btf, 0);

	assert_true(proto > 0);
	assert_int_equal(btf__add_func_param(k->btf, "__data", k->void_ptr), 0);
	for (int i = 0; i < nargs; i++)
		assert_int_equal(btf__add_func_param(k->btf, "", args[i]), 0);
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	assert_true(btf__add_typedef(k->btf, name, btf__add_ptr(k->btf, proto)) > 0);
}

static void add_func_ids(struct kbtf *k, bool find_vma)
{
	assert_true(btf__add_enum(k->btf, "bpf_func_id", 4) > 0);
	assert_int_equal(btf__add_enum_value(k->btf, "BPF_FUNC_map_lookup_elem", 1), 0);
	if (find_vma)
		assert_int_equal(btf__add_enum_value(k->btf, "BPF_FUNC_find_vma", 180), 0);
}

/* Linux 6.1 (Debian 12): struct mm_rss_stat, mark_victim(int pid) */
static struct btf *btf_6_1(void)
{
	struct kbtf k = kbtf_new();
	int atomic, arr, rss, mm, task, mm_ptr, task_ptr;

	atomic = btf__add_struct(k.btf, "atomic64_t", 8);
	btf__add_field(k.btf, "counter", k.long_id, 0, 0);
	atomic = btf__add_typedef(k.btf, "atomic_long_t", atomic);
	arr = btf__add_array(k.btf, k.int_id, atomic, 4);
	rss = btf__add_struct(k.btf, "mm_rss_stat", 32);
	btf__add_field(k.btf, "count", arr, 0, 0);
	mm = btf__add_struct(k.btf, "mm_struct", 1024);
	btf__add_field(k.btf, "rss_stat", rss, 968 * 8, 0);
	task = btf__add_struct(k.btf, "task_struct", 4096);
	btf__add_field(k.btf, "rss_stat", rss, 512 * 8, 0);
	mm_ptr = btf__add_ptr(k.btf, mm);
	task_ptr = btf__add_ptr(k.btf, task);
	(void)task_ptr;
	add_tp(&k, "rss_stat", (int[]){ mm_ptr, k.int_id, k.long_id }, 3);
	add_tp(&k, "page_fault_user", (int[]){ k.long_id, k.void_ptr, k.long_id }, 3);
	add_tp(&k, "mark_victim", (int[]){ k.int_id }, 1);
	add_func_ids(&k, true);
	return k.btf;
}

/* Linux 6.18: percpu_counter rss_stat[4] inside an anonymous struct, mark_victim(task, uid) */
static struct btf *btf_6_18(void)
{
	struct kbtf k = kbtf_new();
	int pc, arr, anon, mm, task, mm_ptr, task_ptr, uid;

	pc = btf__add_struct(k.btf, "percpu_counter", 40);
	btf__add_field(k.btf, "count", k.long_id, 0, 0);
	arr = btf__add_array(k.btf, k.int_id, pc, 4);
	anon = btf__add_struct(k.btf, NULL, 1024);
	btf__add_field(k.btf, "rss_stat", arr, 968 * 8, 0);
	mm = btf__add_struct(k.btf, "mm_struct", 1024);
	btf__add_field(k.btf, NULL, anon, 0, 0);
	task = btf__add_struct(k.btf, "task_struct", 4096);
	btf__add_field(k.btf, "pid", k.int_id, 0, 0);
	mm_ptr = btf__add_ptr(k.btf, mm);
	task_ptr = btf__add_ptr(k.btf, task);
	uid = btf__add_typedef(k.btf, "uid_t", k.int_id);
	add_tp(&k, "rss_stat", (int[]){ mm_ptr, k.int_id }, 2);
	add_tp(&k, "page_fault_user", (int[]){ k.long_id, k.void_ptr, k.long_id }, 3);
	add_tp(&k, "mark_victim", (int[]){ task_ptr, uid }, 2);
	add_func_ids(&k, true);
	return k.btf;
}

/* a kernel without the mm tracepoints' BTF forms and without bpf_find_vma (5.15-like) */
static struct btf *btf_bare(void)
{
	struct kbtf k = kbtf_new();

	add_func_ids(&k, false);
	return k.btf;
}

static void test_debian_6_1_gets_the_old_flavours(void **state)
{
	struct ms_kfeatures kf = {};
	struct btf *btf = btf_6_1();

	ms_kfeatures__from_btf(btf, &kf);
	assert_true(kf.has[MS_KF_BTF]);
	assert_true(kf.has[MS_KF_FIND_VMA]);
	assert_true(kf.has[MS_KF_RSS_STAT]);
	assert_false(kf.has[MS_KF_RSS_PERCPU]);
	assert_true(kf.has[MS_KF_PAGE_FAULT_USER]);
	assert_true(kf.has[MS_KF_MARK_VICTIM]);
	assert_false(kf.has[MS_KF_MARK_VICTIM_TASK]);
	btf__free(btf);
}

static void test_6_18_gets_the_new_flavours_through_anonymous_members(void **state)
{
	struct ms_kfeatures kf = {};
	struct btf *btf = btf_6_18();

	ms_kfeatures__from_btf(btf, &kf);
	assert_true(kf.has[MS_KF_RSS_STAT]);
	assert_true(kf.has[MS_KF_RSS_PERCPU]);
	assert_true(kf.has[MS_KF_MARK_VICTIM]);
	assert_true(kf.has[MS_KF_MARK_VICTIM_TASK]);
	btf__free(btf);
}

static void test_missing_tracepoints_and_helpers_are_absent(void **state)
{
	struct ms_kfeatures kf = {};
	struct btf *btf = btf_bare();

	ms_kfeatures__from_btf(btf, &kf);
	assert_true(kf.has[MS_KF_BTF]);
	assert_false(kf.has[MS_KF_FIND_VMA]);
	assert_false(kf.has[MS_KF_RSS_STAT]);
	assert_false(kf.has[MS_KF_RSS_PERCPU]);
	assert_false(kf.has[MS_KF_PAGE_FAULT_USER]);
	assert_false(kf.has[MS_KF_MARK_VICTIM]);
	btf__free(btf);
	memset(&kf, 0, sizeof(kf));
	ms_kfeatures__from_btf(NULL, &kf);
	assert_false(kf.has[MS_KF_BTF]);
}

/* the summary names exactly the absent features, the version lines say why */
static void test_summary_and_report_name_what_is_missing(void **state)
{
	struct ms_kfeatures kf = { .probed = true };
	char buf[512], *text = NULL;
	size_t len = 0;
	FILE *f;

	for (int i = 0; i < MS_KF__MAX; i++)
		kf.has[i] = true;
	ms_kfeatures__summary(&kf, buf, sizeof(buf));
	assert_string_equal(buf, "");
	kf.has[MS_KF_UPROBE_MULTI] = kf.has[MS_KF_UPROBE_SESSION] = false;
	kf.has[MS_KF_RSS_PERCPU] = false;
	ms_kfeatures__summary(&kf, buf, sizeof(buf));
	assert_string_equal(buf, "no uprobe_multi, no uprobe_session, no rss_percpu");
	f = open_memstream(&text, &len);
	ms_kfeatures__print(&kf, f);
	fclose(f);
	assert_non_null(strstr(text, "  uprobe_multi         no   (one perf-event uprobe link per "));
	assert_non_null(strstr(text, "  find_vma             yes\n"));
	free(text);
	/* unprivileged: the link probes could not run, and nothing claims they are absent */
	kf.probed = false;
	ms_kfeatures__summary(&kf, buf, sizeof(buf));
	assert_string_equal(buf, "no rss_percpu");
	f = open_memstream(&text, &len);
	ms_kfeatures__print(&kf, f);
	fclose(f);
	assert_non_null(strstr(text, "uprobe_multi         unknown (probing needs root"));
	free(text);
}

static void write_thp(const char *root, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/kernel", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/kernel/mm", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/kernel/mm/transparent_hugepage", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/kernel/mm/transparent_hugepage/enabled", root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* the bracketed word of transparent_hugepage/enabled is the mode in force */
static void test_thp_mode_is_the_bracketed_word(void **state)
{
	char root[] = "/tmp/ms-thp.XXXXXX";

	assert_non_null(mkdtemp(root));
	assert_int_equal(ms_thp_mode(root), MS_THP_UNKNOWN);
	write_thp(root, "[always] madvise never\n");
	assert_int_equal(ms_thp_mode(root), MS_THP_ALWAYS);
	write_thp(root, "always [madvise] never\n");
	assert_int_equal(ms_thp_mode(root), MS_THP_MADVISE);
	write_thp(root, "always madvise [never]\n");
	assert_int_equal(ms_thp_mode(root), MS_THP_NEVER);
	write_thp(root, "always madvise never\n");
	assert_int_equal(ms_thp_mode(root), MS_THP_UNKNOWN);
	write_thp(root, "[sometimes]\n");
	assert_int_equal(ms_thp_mode(root), MS_THP_UNKNOWN);
	assert_string_equal(ms_thp__name(MS_THP_ALWAYS), "always");
	assert_string_equal(ms_thp__name((enum ms_thp)42), "unknown");
	/* the file, then its folders, innermost first */
	{
		static const char *const made[] = {
			"/kernel/mm/transparent_hugepage/enabled", "/kernel/mm/transparent_hugepage",
			"/kernel/mm", "/kernel", "",
		};
		char path[256];

		for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", root, made[i]);
			assert_int_equal(remove(path), 0);
		}
	}
}

/* BTF and the ring buffer are required: their absence is the reason not to load */
static void test_unusable_names_the_missing_requirement(void **state)
{
	struct ms_kfeatures kf = { .probed = true };

	for (int i = 0; i < MS_KF__MAX; i++)
		kf.has[i] = true;
	assert_null(ms_kfeatures__unusable(&kf));
	kf.has[MS_KF_UPROBE_MULTI] = kf.has[MS_KF_RSS_STAT] = false;
	assert_null(ms_kfeatures__unusable(&kf));
	kf.has[MS_KF_RINGBUF] = false;
	assert_non_null(strstr(ms_kfeatures__unusable(&kf), "ring buffer"));
	/* unprivileged, the ring buffer could not be probed: not a reason */
	kf.probed = false;
	assert_null(ms_kfeatures__unusable(&kf));
	kf.has[MS_KF_BTF] = false;
	assert_non_null(strstr(ms_kfeatures__unusable(&kf), "BTF"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_6_1_gets_the_old_flavours),
		cmocka_unit_test(test_6_18_gets_the_new_flavours_through_anonymous_members),
		cmocka_unit_test(test_missing_tracepoints_and_helpers_are_absent),
		cmocka_unit_test(test_summary_and_report_name_what_is_missing),
		cmocka_unit_test(test_thp_mode_is_the_bracketed_word),
		cmocka_unit_test(test_unusable_names_the_missing_requirement),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
