// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_textsafe - the input is a string from a target (a comm, a path, a
 * symbol). Escaped, in buffers of every small size and a large one, the
 * result must be NUL-terminated inside its buffer, well-formed UTF-8 with no
 * control character (C0, DEL, C1), no bidi override, a prefix of the whole
 * escaped text; the column variant pads to its width; the FILE* variant
 * writes exactly the whole escaped text; textsafe__width counts its
 * characters.
 */
#include "fuzz_common.h"
#include "common/textsafe.h"

/* Well-formed, nothing a terminal acts on; returns the characters in s. */
static size_t check_safe(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), chars = 0;

	for (size_t i = 0; i < n; chars++) {
		uint32_t cp;
		size_t l = utf8__decode(u + i, n - i, &cp);

		FUZZ_CHECK(l > 0);
		FUZZ_CHECK(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f));
		FUZZ_CHECK(!(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069));
		i += l;
	}
	return chars;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *whole, *small, *mem = NULL;
	size_t wsize = TEXTSAFE_SIZE(size), len = 0, wlen;
	FILE *f;

	if (size > 4096)
		return 0;
	in = calloc(1, size + 1);
	whole = malloc(wsize + 64);
	small = malloc(64 + 1);
	FUZZ_CHECK(in && whole && small);
	memcpy(in, data, size);		/* up to the first NUL, as the C strings are */

	textsafe__str(whole, wsize, in);
	wlen = strlen(whole);
	/* TEXTSAFE_SIZE holds anything: nothing was cut */
	FUZZ_CHECK(wlen < wsize);
	FUZZ_CHECK(check_safe(whole) == textsafe__width(in));
	FUZZ_CHECK(wlen == 0 ? !in[0] : !!in[0]);

	for (size_t bs = 1; bs <= 64; bs++) {
		memset(small, 'X', 65);
		textsafe__str(small, bs, in);
		FUZZ_CHECK(strlen(small) < bs);
		FUZZ_CHECK(small[bs] == 'X');
		FUZZ_CHECK(!strncmp(small, whole, strlen(small)));
		check_safe(small);
	}

	/* room for the escaped text and 40 spaces: padded to 40, or as wide as the text */
	textsafe__col(whole, wsize + 64, in, 40);
	FUZZ_CHECK(check_safe(whole) == (textsafe__width(in) > 40 ? textsafe__width(in) : 40));

	f = open_memstream(&mem, &len);
	FUZZ_CHECK(f);
	FUZZ_CHECK(textsafe__fputs(in, f) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	textsafe__str(whole, wsize, in);
	FUZZ_CHECK(len == wlen && !memcmp(mem, whole, len));

	free(mem);
	free(small);
	free(whole);
	free(in);
	return 0;
}
