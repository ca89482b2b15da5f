// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * go-layouts-dump - print goproc's DWARF layout of one unstripped Go
 * executable, for scripts/go-layouts.sh. Output, tab-separated:
 *
 *   version <go version recorded in the binary>
 *   <index> <type> <path> <present 0/1> <offset> <size> <count> <stride>
 *
 * one field line per goproc__nr_fields(). Exit 1 (with a message) if the
 * binary has no usable DWARF.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "target/goproc.h"

int main(int argc, char **argv)
{
	struct goproc_field f[256];
	struct go_version ver;
	struct go_binary *bin;
	unsigned i, n = goproc__nr_fields();
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s GO-EXECUTABLE\n", argv[0]);
		return 2;
	}
	if (n > sizeof(f) / sizeof(f[0])) {
		fprintf(stderr, "go-layouts-dump: %u fields, room for %zu\n", n,
			sizeof(f) / sizeof(f[0]));
		return 1;
	}
	bin = go_binary__open(argv[1]);
	if (!bin || go_binary__version(bin, &ver)) {
		fprintf(stderr, "go-layouts-dump: %s: no Go version: %s\n", argv[1],
			bin ? "no build info" : strerror(errno));
		go_binary__close(bin);
		return 1;
	}
	printf("version\t%s\n", ver.str);
	go_binary__close(bin);
	err = goproc__dwarf_layout_of(argv[1], f, n);
	if (err) {
		fprintf(stderr, "go-layouts-dump: %s: no DWARF layout: %s\n", argv[1],
			strerror(-err));
		return 1;
	}
	for (i = 0; i < n; i++)
		printf("%u\t%s\t%s\t%d\t%u\t%u\t%u\t%u\n", i, f[i].type, f[i].path, f[i].present,
		       f[i].offset, f[i].size, f[i].count, f[i].stride);
	return 0;
}
