/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* xml.h - text from a target (comm, paths, symbols) inside XML we write (SVG, JUnit). */
#ifndef MEMSIGHT_XML_H
#define MEMSIGHT_XML_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write at most max characters of s as XML character data / attribute text.
 * Control characters and invalid UTF-8 (XML has no place for most of them)
 * are escaped as in text output (common/textsafe.h), so the document stays
 * well-formed whatever bytes a symbol table or a comm held.
 */
void xml__put(FILE *out, const char *s, size_t max);

#endif
