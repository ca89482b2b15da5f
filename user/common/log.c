// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "common/log.h"
#include "common/textsafe.h"

enum ms_log_level ms_log_level = MS_LOG_INFO;
const char *ms_log_prog = "memsight";

static void vlog(enum ms_log_level lvl, const char *fmt, va_list ap)
{
	static const char *const pfx[] = { "error: ", "warning: ", "", "debug: " };
	char *msg = NULL;
	bool eol;
	size_t n;

	if (lvl > ms_log_level)
		return;
	fprintf(stderr, "%s: %s", ms_log_prog, pfx[lvl]);
	/*
	 * Messages carry comms, paths and symbols from targets: escaped, so a
	 * target cannot write to the admin's terminal or forge a log line.
	 * The message's own line end stays.
	 */
	if (vasprintf(&msg, fmt, ap) < 0) {
		fputs("(message lost: out of memory)\n", stderr);
		return;
	}
	n = strlen(msg);
	eol = n && msg[n - 1] == '\n';
	if (eol)
		msg[n - 1] = '\0';
	textsafe__fputs(msg, stderr);
	if (eol)
		fputc('\n', stderr);
	free(msg);
}

void ms_log(enum ms_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum ms_log_level lvl = level == LIBBPF_WARN ? MS_LOG_WARN : MS_LOG_DEBUG;

	if (lvl > ms_log_level)
		return 0;
	fprintf(stderr, "libbpf: ");
	return vfprintf(stderr, fmt, ap);
}

void ms_log__setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
