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

/*
 * Messages carry comms, paths and symbols from targets (libbpf's name the
 * binaries it probes): escaped, so a target cannot write to the admin's
 * terminal or forge a log line. The message's own line end stays, and with
 * lines, every newline (libbpf's verifier log is many lines in one message).
 */
static int put_escaped(bool lines, const char *fmt, va_list ap)
{
	char *msg = NULL, *p, *nl;
	int n = vasprintf(&msg, fmt, ap);

	if (n < 0)
		return fputs("(message lost: out of memory)\n", stderr);
	for (p = msg; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		/* in our own messages only the last newline is ours */
		while (!lines && nl && nl[1])
			nl = strchr(nl + 1, '\n');
		if (!nl) {
			textsafe__fputs(p, stderr);
			break;
		}
		*nl = '\0';
		textsafe__fputs(p, stderr);
		fputc('\n', stderr);
	}
	free(msg);
	return n;
}

static void vlog(enum ms_log_level lvl, const char *fmt, va_list ap)
{
	static const char *const pfx[] = { "error: ", "warning: ", "", "debug: " };

	if (lvl > ms_log_level)
		return;
	fprintf(stderr, "%s: %s", ms_log_prog, pfx[lvl]);
	put_escaped(false, fmt, ap);
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
	return put_escaped(true, fmt, ap);
}

void ms_log__setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
