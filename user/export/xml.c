// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdint.h>
#include <string.h>

#include "common/textsafe.h"
#include "export/xml.h"

/* What to write instead of cp, or NULL to copy it as it is. */
static const char *xml_replacement(uint32_t cp)
{
	switch (cp) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case 0xfffe:
	case 0xffff:
		return "\xef\xbf\xbd";	/* not XML characters: U+FFFD */
	default:
		return NULL;
	}
}

/*
 * Write at most max characters of s as XML character data / attribute text.
 * Control characters and invalid UTF-8 (XML has no place for most of them)
 * are escaped as in text output (common/textsafe.h), so the SVG stays
 * well-formed whatever bytes a symbol table or a comm held.
 */
void xml__put(FILE *out, const char *s, size_t max)
{
	char esc[TEXTSAFE_ESC_MAX];
	size_t n = strlen(s), chars = 0;

	for (size_t i = 0; i < n && chars < max;) {
		size_t len = textsafe__next(s + i, n - i, esc);
		uint32_t cp = 0;
		const char *rep;

		if (esc[0]) {
			if (chars + strlen(esc) > max)
				break;
			fputs(esc, out);
			chars += strlen(esc);
			i += len;
			continue;
		}
		utf8__decode((const unsigned char *)s + i, len, &cp);
		rep = xml_replacement(cp);
		if (rep)
			fputs(rep, out);
		else
			fwrite(s + i, 1, len, out);
		chars++;
		i += len;
	}
}

