// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/textsafe.h"

static const char *esc(const char *s)
{
	static char buf[256];

	return textsafe__str(buf, sizeof(buf), s);
}

/* No byte a terminal acts on (C0, DEL, C1) survives; the result is one line. */
static void assert_terminal_safe(const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
		assert_false(*u < 0x20 || *u == 0x7f);
		if (*u == 0xc2)
			assert_false(u[1] >= 0x80 && u[1] <= 0x9f);
	}
}

/* A comm set to "ESC[31mESC[2J" and a newline prints as visible text on one line. */
static void test_comm_with_escape_sequence(void **state)
{
	assert_string_equal(esc("\x1b[31m\x1b[2J\n"), "\\x1b[31m\\x1b[2J\\n");
	assert_string_equal(esc("a\tb\rc\x7f" "d\x01"), "a\\tb\\rc\\x7fd\\x01");
}

static void test_plain_text_unchanged(void **state)
{
	const char *s = "/usr/lib/x86_64-linux-gnu/libc.so.6 main.(*T).Serve std::vector<int> "
			"system.slice/foo\\x2dbar.service caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
			"\xf0\x9f\x90\x9b";

	assert_string_equal(esc(s), s);
	assert_string_equal(esc(""), "");
	assert_string_equal(esc(NULL), "");
}

/* Raw C1 bytes are invalid UTF-8; U+0080..U+009F encoded in UTF-8 are C1 controls too. */
static void test_c1_and_invalid_utf8(void **state)
{
	assert_string_equal(esc("a\x9b" "2Jb"), "a\\x9b2Jb");
	assert_string_equal(esc("a\xc2\x9b" "2J"), "a\\u009b2J");
	assert_string_equal(esc("\xc2\x85"), "\\u0085");
	/* overlong '/', a surrogate, beyond U+10FFFF, a cut sequence: byte by byte */
	assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");
	assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_string_equal(esc("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	assert_string_equal(esc("x\xe6\x97"), "x\\xe6\\x97");
	assert_string_equal(esc("\xff\xfe"), "\\xff\\xfe");
}

/* Bidirectional overrides would reorder the rest of a table line ("Trojan Source"). */
static void test_bidi_overrides(void **state)
{
	assert_string_equal(esc("evil\xe2\x80\xae" "cod.exe"), "evil\\u202ecod.exe");
	assert_string_equal(esc("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
}

/* Every byte value, alone and after a lead byte: never a raw control, always terminated. */
static void test_every_byte_is_safe(void **state)
{
	char in[4], out[TEXTSAFE_SIZE(3)];

	for (int a = 1; a < 256; a++) {
		for (int b = 0; b < 256; b++) {
			in[0] = (char)a;
			in[1] = (char)b;
			in[2] = (char)0x9b;
			in[3] = '\0';
			textsafe__str(out, sizeof(out), in);
			assert_true(strlen(out) < sizeof(out));
			assert_terminal_safe(out);
		}
	}
}

/* A small buffer cuts before an escape or a character, never inside one. */
static void test_cut_at_boundaries(void **state)
{
	char buf[6];

	assert_string_equal(textsafe__str(buf, sizeof(buf), "ab\x1b" "cd"), "ab");
	assert_string_equal(textsafe__str(buf, sizeof(buf), "abc\xc3\xa9z"), "abc\xc3\xa9");
	assert_string_equal(textsafe__str(buf, 4, "abc\xc3\xa9z"), "abc");
	assert_string_equal(textsafe__str(buf, 1, "abc"), "");
	buf[0] = 'x';
	textsafe__str(buf, 0, "abc");
	assert_int_equal(buf[0], 'x');
}

/* A column pads by characters: the escaped width counts, a UTF-8 character is one. */
static void test_column_width(void **state)
{
	char buf[64];

	assert_string_equal(textsafe__col(buf, sizeof(buf), "bash", 8), "bash    ");
	assert_string_equal(textsafe__col(buf, sizeof(buf), "caf\xc3\xa9", 6), "caf\xc3\xa9  ");
	assert_int_equal(textsafe__width("caf\xc3\xa9"), 4);
	assert_string_equal(textsafe__col(buf, sizeof(buf), "\x1b[2J", 8), "\\x1b[2J ");
	assert_int_equal(textsafe__width("\x1b[2J\n"), 9);
	/* wider than the column: all of it, no padding */
	assert_string_equal(textsafe__col(buf, sizeof(buf), "\x1b\x1b\x1b", 4), "\\x1b\\x1b\\x1b");
	assert_string_equal(textsafe__col(buf, 4, "a", 8), "a  ");
}

static void test_fputs(void **state)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);

	assert_non_null(f);
	assert_int_equal(textsafe__fputs("x\x1b[2J\ny\xc3\xa9", f), 0);
	assert_int_equal(textsafe__fputs(NULL, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(mem, "x\\x1b[2J\\ny\xc3\xa9");
	free(mem);
}

static void test_decode(void **state)
{
	uint32_t cp = 0;

	assert_int_equal(utf8__decode((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	/* the length limit holds even when the bytes after it would complete the sequence */
	assert_int_equal(utf8__decode((const unsigned char *)"\xe2\x82\xac", 2, &cp), 0);
	assert_int_equal(utf8__decode((const unsigned char *)"a", 0, &cp), 0);
	assert_int_equal(utf8__decode((const unsigned char *)"\xf0\x9f\x90\x9b", 4, &cp), 4);
	assert_int_equal(cp, 0x1f41b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comm_with_escape_sequence),
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_c1_and_invalid_utf8),
		cmocka_unit_test(test_bidi_overrides),
		cmocka_unit_test(test_every_byte_is_safe),
		cmocka_unit_test(test_cut_at_boundaries),
		cmocka_unit_test(test_column_width),
		cmocka_unit_test(test_fputs),
		cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests_name("textsafe", tests, NULL, NULL);
}
