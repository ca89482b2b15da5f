// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "export/flamegraph.h"
#include "../fixtures/exporters/profile.h"

#define PLOT_W (FLAMEGRAPH_WIDTH - 2 * FLAMEGRAPH_XPAD)
#define SVG_HEAD "<svg version=\"1.1\" width=\"%*d\" height=\"%d\""

static char *svg(const struct ms_profile *p, enum folded_value v, const char *title)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(flamegraph__write_svg(p, v, title, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

struct box {
	double x, w;
	int y;
	char fill[32];
	char label[256];
};

/* The box whose tooltip starts with "NAME (" (NAME as escaped in the SVG). */
static bool find_box(const char *doc, const char *name, struct box *b)
{
	char key[512];
	const char *t, *r, *l, *e;

	snprintf(key, sizeof(key), "<title>%s (", name);
	t = strstr(doc, key);
	if (!t)
		return false;
	r = strstr(t, "<rect ");
	assert_non_null(r);
	assert_int_equal(sscanf(r, "<rect x=\"%lf\" y=\"%d\" width=\"%lf\" height=\"%*d\" "
				"fill=\"%31[^\"]\"", &b->x, &b->y, &b->w, b->fill), 4);
	l = strchr(strstr(r, "<text "), '>') + 1;
	e = strstr(l, "</text>");
	assert_true(e - l < (long)sizeof(b->label));
	memcpy(b->label, l, e - l);
	b->label[e - l] = '\0';
	return true;
}

/* xmllint must find doc well-formed (the caller checked xmllint is there) */
static void assert_valid_xml(const char *doc, const char *name)
{
	const char *dir = getenv("MS_BUILD") ? getenv("MS_BUILD") : "build";
	char path[512], cmd[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/tests/exporters", dir);
	mkdir(path, 0755);
	assert_true(snprintf(path, sizeof(path), "%s/tests/exporters/%s.svg", dir, name) <
		    (int)sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(doc, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", path);
	if (system(cmd) != 0)
		fail_msg("%s is not well-formed XML (see xmllint's complaint above)", path);
}

/* leak_a's box spans 4096000 / 4159192 of the plot, from its left edge, one level above main */
static void test_leak_a_width_is_proportional(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char *doc = svg(p, FOLDED_INUSE_BYTES, NULL);
	struct box all, main_, a, b;
	double total = (double)p->inuse_bytes;
	char tip[128];

	assert_int_equal(p->inuse_bytes, 4096000 + 50000 + 8192 + 4000 + 1000);
	assert_true(find_box(doc, "all", &all));
	assert_true(find_box(doc, "main", &main_));
	assert_true(find_box(doc, "leak_a", &a));
	assert_true(find_box(doc, "leak_b", &b));
	assert_float_equal(all.w, PLOT_W, 0.006);
	assert_float_equal(main_.w, PLOT_W, 0.006);
	assert_float_equal(a.w, 4096000.0 / total * PLOT_W, 0.006);
	assert_float_equal(a.x, FLAMEGRAPH_XPAD, 0.006);
	/* leak_b starts where leak_a ends: children sorted by name, left to right */
	assert_float_equal(b.x, FLAMEGRAPH_XPAD + 4096000.0 / total * PLOT_W, 0.006);
	assert_float_equal(b.w, 50000.0 / total * PLOT_W, 0.006);
	assert_int_equal(main_.y - a.y, FLAMEGRAPH_FRAME_H);
	assert_int_equal(all.y - main_.y, FLAMEGRAPH_FRAME_H);
	assert_string_equal(a.label, "leak_a");

	snprintf(tip, sizeof(tip), "<title>leak_a (4,096,000 bytes, %.2f%%)</title>",
		 100.0 * 4096000 / total);
	assert_non_null(strstr(doc, tip));
	/* the fully freed stack takes no room in an in-use graph */
	assert_null(strstr(doc, "all_freed"));
	free(doc);
	ms_profile__free(p);
}

/* counts are labelled as allocations; the freed stack is there when looking at allocations */
static void test_count_graph(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char *doc = svg(p, FOLDED_ALLOC_COUNT, NULL);
	struct box a;

	assert_true(find_box(doc, "leak_a", &a));
	/* 1000 of 2009 allocations */
	assert_float_equal(a.w, 1000.0 / 2009 * PLOT_W, 0.006);
	assert_non_null(strstr(doc, "<title>leak_a (1,000 allocations, "));
	assert_non_null(strstr(doc, "<title>all_freed (2 allocations, "));
	assert_non_null(strstr(doc, "memsight: leaky (pid 4242) alloc_count</text>"));
	free(doc);
	ms_profile__free(p);
}

/* C++ names keep their meaning with &, <, > escaped; ';' and newline were made harmless */
static void test_names_are_escaped(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char *doc = svg(p, FOLDED_INUSE_BYTES, "leaks in <leaky> & co");
	struct box cxx, weird;

	assert_true(find_box(doc, "std::vector&lt;int, std::allocator&lt;int&gt; &gt;"
			     "::push_back(int const&amp;)", &cxx));
	assert_null(strstr(doc, "std::vector<int"));
	assert_non_null(strstr(doc, ">leaks in &lt;leaky&gt; &amp; co</text>"));
	assert_true(find_box(doc, "weird:name\\nx", &weird));
	/* 8192 B of 4159192 is 2.3 px: drawn, but no room for a label */
	assert_true(cxx.w > FLAMEGRAPH_MIN_WIDTH && cxx.w < 3);
	assert_string_equal(cxx.label, "");
	free(doc);
	ms_profile__free(p);
}

/* Symbols with quotes, apostrophes, bytes that are not UTF-8, control characters. */
static struct ms_profile *hostile_profile(void)
{
	static const char *const names[] = {
		"operator\"\" _kb(char const*)",
		"foo()::'lambda'(int)",
		"bad\xff\xfeutf8\xc3",
		"ctl\x01\x1b[31mred",
		"]]><script>alert(1)</script>",
	};
	struct ms_profile *p = ms_profile__new(7);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		add_stack2(p, (int)i, MS_KIND_MALLOC, exe_frame(0x401000 + i, names[i], 1),
			   1000, 1, 0, 0);
	ms_profile__finalize(p);
	return p;
}

/* each hostile name is escaped or replaced, never passed through */
static void test_hostile_names_are_neutralised(void **state)
{
	struct ms_profile *p = hostile_profile();
	char *doc = svg(p, FOLDED_INUSE_BYTES, "\xff title");
	struct box b;

	assert_true(find_box(doc, "operator&quot;&quot; _kb(char const*)", &b));
	assert_true(find_box(doc, "foo()::&apos;lambda&apos;(int)", &b));
	/* as visible escapes, the same text as memsight's text output shows */
	assert_true(find_box(doc, "bad\\xff\\xfeutf8\\xc3", &b));
	assert_true(find_box(doc, "ctl\\x01\\x1b[31mred", &b));
	assert_null(strchr(doc, '\x1b'));
	assert_true(find_box(doc, "]]&gt;&lt;script&gt;alert(1)&lt;/script&gt;", &b));
	free(doc);
	ms_profile__free(p);
}

/* a long name in a narrow box is cut to a prefix and ".." */
static void test_label_is_truncated(void **state)
{
	static const char name[] = "a_rather_long_function_name_that_cannot_fit";
	struct ms_profile *p = ms_profile__new(7);
	struct box b;
	char *doc;
	size_t n;

	add_stack2(p, 1, MS_KIND_MALLOC, exe_frame(0x401000, name, 1), 30, 1, 0, 0);
	add_stack2(p, 2, MS_KIND_MALLOC, exe_frame(0x401100, "big", 1), 970, 1, 0, 0);
	ms_profile__finalize(p);
	doc = svg(p, FOLDED_INUSE_BYTES, NULL);

	assert_true(find_box(doc, name, &b));
	assert_float_equal(b.w, 30.0 / 1000 * PLOT_W, 0.006);
	n = strlen(b.label);
	assert_true(n >= 3 && n < strlen(name));
	assert_string_equal(b.label + n - 2, "..");
	assert_memory_equal(b.label, name, n - 2);
	free(doc);
	ms_profile__free(p);
}

/* a frame thinner than the cut-off is not drawn, nor are its callees, nor does it add height */
static void test_tiny_frames_are_dropped(void **state)
{
	struct ms_profile *p = ms_profile__new(7), *q = ms_profile__new(7);
	struct ms_stack t = {
		.kind = MS_KIND_MALLOC, .stack_id = 2, .alloc_bytes = 1, .alloc_count = 1,
	};
	struct ms_frame deep[5] = {
		exe_frame(0x401010, "tiny_leaf", 1), exe_frame(0x401020, "tiny_3", 1),
		exe_frame(0x401030, "tiny_2", 1), exe_frame(0x401040, "tiny_1", 1),
		exe_frame(0x401300, "main", 40),
	};
	int hp, hq;
	char *dp, *dq;

	add_stack2(p, 1, MS_KIND_MALLOC, exe_frame(0x401000, "big", 1), 1000000000, 1, 0, 0);
	add_stack2(q, 1, MS_KIND_MALLOC, exe_frame(0x401000, "big", 1), 1000000000, 1, 0, 0);
	assert_non_null(ms_profile__add_stack(p, &t, deep, 5));
	ms_profile__finalize(p);
	ms_profile__finalize(q);
	dp = svg(p, FOLDED_INUSE_BYTES, NULL);
	dq = svg(q, FOLDED_INUSE_BYTES, NULL);

	/* 1 byte of 10^9 is 1.2e-6 px */
	assert_null(strstr(dp, "tiny"));
	assert_int_equal(sscanf(strstr(dp, "<svg "), SVG_HEAD, &hp), 1);
	assert_int_equal(sscanf(strstr(dq, "<svg "), SVG_HEAD, &hq), 1);
	assert_int_equal(hp, hq);
	free(dp);
	free(dq);
	ms_profile__free(p);
	ms_profile__free(q);
}

static bool warm(const char *fill)
{
	unsigned int r, g, b;

	return sscanf(fill, "rgb(%u,%u,%u)", &r, &g, &b) == 3 && r >= 205 && r <= 255 &&
	       g <= 230 && b <= 55;
}

/* colours come from the name only: "main" is the same in an in-use and an alloc graph */
static void test_colours_are_deterministic_and_warm(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char *d1 = svg(p, FOLDED_INUSE_BYTES, NULL), *d2 = svg(p, FOLDED_ALLOC_BYTES, NULL);
	struct box m1, m2, a, b;

	assert_true(find_box(d1, "main", &m1));
	assert_true(find_box(d2, "main", &m2));
	assert_true(find_box(d1, "leak_a", &a));
	assert_true(find_box(d1, "leak_b", &b));
	assert_string_equal(m1.fill, m2.fill);
	assert_string_not_equal(a.fill, b.fill);
	assert_true(warm(m1.fill) && warm(a.fill) && warm(b.fill));
	free(d1);
	free(d2);
	ms_profile__free(p);
}

/* the zoom script is embedded (no external file), as ECMAScript inside CDATA */
static void test_zoom_script_embedded(void **state)
{
	struct ms_profile *p = sample_profile(0);
	char *doc = svg(p, FOLDED_INUSE_BYTES, NULL);
	const char *s = strstr(doc, "<script type=\"text/ecmascript\"><![CDATA[");

	assert_non_null(s);
	assert_non_null(strstr(s, "function zoom("));
	assert_non_null(strstr(s, "function unzoom("));
	assert_non_null(strstr(s, "]]></script>"));
	assert_non_null(strstr(doc, "<text id=\"reset\""));
	assert_null(strstr(doc, "xlink:href"));
	free(doc);
	ms_profile__free(p);
}

/* the graphs above, hostile names and an empty one included, are well-formed XML */
static void test_svgs_parse_as_xml(void **state)
{
	struct ms_profile *p = sample_profile(0), *h = hostile_profile(), *e = ms_profile__new(3);
	char *d1, *d2, *d3, *d4;

	if (system("command -v xmllint >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIP: xmllint not installed (apt-get install libxml2-utils): "
			"flame graphs NOT checked as XML\n");
		ms_profile__free(p);
		ms_profile__free(h);
		ms_profile__free(e);
		skip();
	}
	ms_profile__finalize(e);
	d1 = svg(p, FOLDED_INUSE_BYTES, NULL);
	d2 = svg(p, FOLDED_ALLOC_COUNT, "leaks in <leaky> & co");
	d3 = svg(h, FOLDED_INUSE_BYTES, "\xff title");
	d4 = svg(e, FOLDED_INUSE_BYTES, NULL);
	assert_valid_xml(d1, "sample");
	assert_valid_xml(d2, "sample-count");
	assert_valid_xml(d3, "hostile");
	assert_valid_xml(d4, "empty");
	free(d1);
	free(d2);
	free(d3);
	free(d4);
	ms_profile__free(p);
	ms_profile__free(h);
	ms_profile__free(e);
}

/* nothing to draw is still a picture that says so */
static void test_empty_profile(void **state)
{
	struct ms_profile *p = ms_profile__new(3);
	char *doc;
	FILE *full;

	ms_profile__finalize(p);
	doc = svg(p, FOLDED_INUSE_BYTES, NULL);
	assert_non_null(strstr(doc, "no inuse_bytes to show"));
	assert_null(strstr(doc, "<g class=\"f\">"));
	free(doc);

	full = fopen("/dev/full", "w");
	if (full) {
		assert_int_equal(flamegraph__write_svg(p, FOLDED_INUSE_BYTES, NULL, full), -EIO);
		fclose(full);
	}
	ms_profile__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leak_a_width_is_proportional),
		cmocka_unit_test(test_count_graph),
		cmocka_unit_test(test_names_are_escaped),
		cmocka_unit_test(test_hostile_names_are_neutralised),
		cmocka_unit_test(test_label_is_truncated),
		cmocka_unit_test(test_tiny_frames_are_dropped),
		cmocka_unit_test(test_colours_are_deterministic_and_warm),
		cmocka_unit_test(test_zoom_script_embedded),
		cmocka_unit_test(test_empty_profile),
		cmocka_unit_test(test_svgs_parse_as_xml),
	};

	return cmocka_run_group_tests_name("flamegraph", tests, NULL, NULL);
}
