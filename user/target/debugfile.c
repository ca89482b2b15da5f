// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * debugfile.c - finding a module's separate debug file. The paths come
 * from the module (its build-id, its .gnu_debuglink), so a hostile one
 * must not lead us out of the search directories: a debuglink with a '/'
 * is ignored, and every candidate must prove it belongs to the module.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "target/debugfile.h"

/*
 * Open a debug-file candidate and accept it only if it belongs to e: equal
 * build-ids when both have one, else (debuglink only) the link's CRC32.
 */
static struct ms_elf *debug_candidate(const char *path, const struct ms_elf *e,
				      bool by_link, uint32_t crc)
{
	uint8_t ebid[MS_ELF_BUILD_ID_CAP], dbid[MS_ELF_BUILD_ID_CAP];
	struct ms_elf *d = ms_elf__open(path);
	int elen, dlen;
	uint32_t got;

	if (!d)
		return NULL;
	if (ms_elf__same_file(d, e))
		goto reject;
	elen = ms_elf__build_id(e, ebid, sizeof(ebid));
	dlen = ms_elf__build_id(d, dbid, sizeof(dbid));
	if (elen > 0 && dlen > 0) {
		if (elen == dlen && !memcmp(ebid, dbid, (size_t)elen))
			return d;
		goto reject;
	}
	if (by_link && !ms_elf__crc32(d, &got) && got == crc)
		return d;
reject:
	ms_elf__close(d);
	return NULL;
}

struct ms_elf *debugfile__find(const char *debug_dir, const struct ms_elf *e, const char *path,
			       const char *root)
{
	char p[PATH_MAX], dir[PATH_MAX], name[NAME_MAX + 1];
	uint8_t bid[MS_ELF_BUILD_ID_CAP];
	char hex[2 * MS_ELF_BUILD_ID_CAP + 1];
	const char *slash, *in;
	struct ms_elf *d;
	size_t rootlen;
	uint32_t crc;
	int n, i, bid_len;

	root = root ? root : "";
	rootlen = strlen(root);
	while (rootlen && root[rootlen - 1] == '/')
		rootlen--;

	bid_len = ms_elf__build_id(e, bid, sizeof(bid));
	if (bid_len > 0) {
		for (i = 0; i < bid_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", bid[i]);
		n = snprintf(p, sizeof(p), "%.*s%s/.build-id/%.2s/%s.debug", (int)rootlen, root,
			     debug_dir, hex, hex + 2);
		if (n > 0 && (size_t)n < sizeof(p) && (d = debug_candidate(p, e, false, 0)))
			return d;
	}

	if (ms_elf__debuglink(e, name, sizeof(name), &crc))
		return NULL;
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return NULL;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);

	n = snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (n > 0 && (size_t)n < sizeof(p) && (d = debug_candidate(p, e, true, crc)))
		return d;
	n = snprintf(p, sizeof(p), "%s/.debug/%s", dir, name);
	if (n > 0 && (size_t)n < sizeof(p) && (d = debug_candidate(p, e, true, crc)))
		return d;
	/* gdb's global directory mirrors the module's path inside its root. */
	if (dir[0] != '/')
		return NULL;
	in = dir;
	if (rootlen && !strncmp(dir, root, rootlen) && dir[rootlen] == '/')
		in = dir + rootlen;
	n = snprintf(p, sizeof(p), "%.*s%s%s/%s", (int)rootlen, root, debug_dir, in, name);
	if (n > 0 && (size_t)n < sizeof(p) && (d = debug_candidate(p, e, true, crc)))
		return d;
	return NULL;
}
