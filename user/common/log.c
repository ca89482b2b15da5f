// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "common/log.h"

enum ms_log_level ms_log_level = MS_LOG_INFO;
const char *ms_log_prog = "memsight";

static void vlog(enum ms_log_level lvl, const char *fmt, va_list ap)
{
	static const char *const pfx[] = { "error: ", "warning: ", "", "debug: " };

	if (lvl > ms_log_level)
		return;
	fprintf(stderr, "%s: %s", ms_log_prog, pfx[lvl]);
	vfprintf(stderr, fmt, ap);
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
