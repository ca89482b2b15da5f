// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gobuildinfo.c - a Go executable's toolchain version and module info:
 * the .go.buildinfo blob (inline strings since 1.18, pointers to Go
 * strings before), else the runtime.buildVersion string.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/goruntime_int.h"

/*
 * Read the Go string whose header {data, len} lives at addr into a new
 * NUL-terminated buffer. -E2BIG if longer than max.
 */
static int ctx_read_gostring(const struct elf_ctx *c, uint64_t addr, unsigned ptrsize, bool be,
			     size_t max, char **ret, size_t *ret_len)
{
	uint8_t hdr[16];
	uint64_t data, len;
	ssize_t r;
	char *s;

	if (ptrsize != 4 && ptrsize != 8)
		return -EINVAL;
	r = ctx_read_vaddr(c, addr, hdr, 2 * ptrsize);
	if (r < 0)
		return (int)r;
	if (r != 2 * ptrsize)
		return -EINVAL;
	data = rd_uint(hdr, ptrsize, be);
	len = rd_uint(hdr + ptrsize, ptrsize, be);
	if (len > max)
		return -E2BIG;
	s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	r = len ? ctx_read_vaddr(c, data, s, len) : 0;
	if (r < 0 || (uint64_t)r != len) {
		free(s);
		return r < 0 ? (int)r : -EINVAL;
	}
	s[len] = '\0';
	*ret = s;
	*ret_len = len;
	return 0;
}

static void parse_version(struct go_binary *b)
{
	const char *s = b->version;
	long v[3] = { 0, 0, 0 };
	int i;

	b->ver.str = b->version;
	if (!strncmp(s, "devel ", 6))
		s += 6;
	if (strncmp(s, "go", 2))
		return;
	s += 2;
	for (i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			break;
		while (*s >= '0' && *s <= '9' && v[i] < 100000)
			v[i] = v[i] * 10 + (*s++ - '0');
		if (*s != '.')
			break;
		s++;
	}
	if (i == 0 && v[0] == 0)
		return;
	b->ver.major = (int)v[0];
	b->ver.minor = (int)v[1];
	b->ver.patch = (int)v[2];
}

/* Accept only printable version strings that fit; anything else is not a version. */
bool gobuildinfo__set_version(struct go_binary *b, const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= sizeof(b->version))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	memcpy(b->version, s, len);
	b->version[len] = '\0';
	parse_version(b);
	return true;
}

/* Value of the first line "<key>\t<value>[\t...]\n" in modinfo, or NULL. */
static char *modinfo_field(const char *mod, size_t len, const char *key)
{
	size_t klen = strlen(key), pos = 0;

	while (pos < len) {
		const char *line = mod + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - line) : len - pos;

		if (llen > klen && !memcmp(line, key, klen) && line[klen] == '\t') {
			const char *v = line + klen + 1;
			const char *tab = memchr(v, '\t', llen - klen - 1);
			size_t vlen = tab ? (size_t)(tab - v) : llen - klen - 1;

			return vlen ? strndup(v, vlen) : NULL;
		}
		pos += llen + 1;
	}
	return NULL;
}

/* Best effort: module info is optional, so a failed strndup() just leaves it NULL. */
static void set_modinfo(struct go_binary *b, const char *mod, size_t len)
{
	/* cmd/go frames modinfo with 16-byte sentinels; the end one follows a '\n'. */
	if (len < 33 || mod[len - 17] != '\n')
		return;
	mod += 16;
	len -= 32;
	b->main_path = modinfo_field(mod, len, "path");
	b->mod_path = modinfo_field(mod, len, "mod");
}

/* encoding/binary.Uvarint over [*p, end). */
static int uvarint64(const uint8_t **p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;
	unsigned shift;

	for (shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EINVAL;
}

static int inline_string(const uint8_t **p, const uint8_t *end, const char **ret, size_t *ret_len)
{
	uint64_t len;

	if (uvarint64(p, end, &len) || len > (uint64_t)(end - *p))
		return -EINVAL;
	*ret = (const char *)*p;
	*ret_len = len;
	*p += len;
	return 0;
}

/* Go 1.18+: version and modinfo follow the header as uvarint-prefixed strings. */
static void decode_inline(struct go_binary *b, const uint8_t *blob, size_t n)
{
	const uint8_t *p = blob + BUILDINFO_HDR, *end = blob + n;
	const char *vers, *mod;
	size_t vlen, mlen;

	if (inline_string(&p, end, &vers, &vlen) || !gobuildinfo__set_version(b, vers, vlen))
		return;
	if (!inline_string(&p, end, &mod, &mlen))
		set_modinfo(b, mod, mlen);
}

/* Go 1.13-1.17: the header holds addresses of the two Go string headers. */
static void decode_pointers(struct go_binary *b, const struct elf_ctx *c, const uint8_t *blob)
{
	unsigned ptrsize = blob[14];
	bool be = blob[15] & 1;
	char *vers, *mod;
	size_t vlen, mlen;
	bool ok;

	if (ptrsize != 4 && ptrsize != 8)
		return;
	if (ctx_read_gostring(c, rd_uint(blob + 16, ptrsize, be), ptrsize, be, GO_VERSION_MAX - 1,
			      &vers, &vlen))
		return;
	ok = gobuildinfo__set_version(b, vers, vlen);
	free(vers);
	if (!ok)
		return;
	/* the modinfo sentinels may hold NUL bytes: keep the real length */
	if (!ctx_read_gostring(c, rd_uint(blob + 16 + ptrsize, ptrsize, be), ptrsize, be,
			       GO_MODINFO_MAX, &mod, &mlen)) {
		set_modinfo(b, mod, mlen);
		free(mod);
	}
}

/* Look for the blob in the first GO_BUILDINFO_SCAN bytes at addr; true if found. */
static bool scan_buildinfo_at(struct go_binary *b, const struct elf_ctx *c, uint64_t addr,
			      uint8_t *buf)
{
	ssize_t n = ctx_read_vaddr(c, addr, buf, GO_BUILDINFO_SCAN);
	size_t i;

	if (n < 0)
		return false;
	/* The linker aligns the blob; cmd/go's reader only looks at aligned spots. */
	for (i = 0; i + BUILDINFO_HDR <= (size_t)n; i += BUILDINFO_ALIGN) {
		if (!memcmp(buf + i, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN)) {
			if (buf[i + 15] & 2)
				decode_inline(b, buf + i, n - i);
			else
				decode_pointers(b, c, buf + i);
			return true;
		}
	}
	return false;
}

/*
 * Version and module info from the buildinfo blob. *ret_seen tells whether the
 * blob exists (proof of Go even if its strings are unreadable).
 */
static int read_buildinfo(struct go_binary *b, const struct elf_ctx *c, bool *ret_seen)
{
	uint8_t *buf = malloc(GO_BUILDINFO_SCAN);
	bool seen = false;
	size_t i;

	if (!buf)
		return -ENOMEM;
	if (c->has_buildinfo) {
		if (c->buildinfo.type != SHT_NOBITS)
			seen = scan_buildinfo_at(b, c, c->buildinfo.addr, buf);
	} else {
		/* No such section (or no sections): the blob opens a writable data segment. */
		for (i = 0; i < ctx_nsegments(c) && !seen; i++) {
			const GElf_Phdr *p = ctx_load(c, i);

			if (p && (p->p_flags & (PF_X | PF_W)) == PF_W)
				seen = scan_buildinfo_at(b, c, p->p_vaddr, buf);
		}
	}
	free(buf);
	*ret_seen = seen;
	return 0;
}

static int buildversion_sym(const struct ms_elf_sym *s, void *arg)
{
	if (strcmp(s->name, "runtime.buildVersion"))
		return 0;
	*(uint64_t *)arg = s->sym.st_value;
	return 1;
}

/* Older toolchains or a lost buildinfo: runtime.buildVersion is a Go string. */
static bool read_buildversion_sym(struct go_binary *b, const struct elf_ctx *c)
{
	uint64_t addr;
	char *vers;
	size_t vlen;
	bool ok;

	if (ms_elf__for_each_sym(c->elf, MS_ELF_SYMTAB, buildversion_sym, &addr) != 1)
		return false;
	if (ctx_read_gostring(c, addr, c->ptrsize, c->be, GO_VERSION_MAX - 1, &vers, &vlen))
		return false;
	ok = gobuildinfo__set_version(b, vers, vlen);
	free(vers);
	return ok;
}

const char *go_binary__main_path(const struct go_binary *b)
{
	return b->main_path;
}

const char *go_binary__module_path(const struct go_binary *b)
{
	return b->mod_path;
}

int go_binary__version(const struct go_binary *b, struct go_version *ret)
{
	if (!b->version[0])
		return -ENOENT;
	*ret = b->ver;
	return 0;
}

int go_binary__set_version(struct go_binary *b, const char *s, size_t len)
{
	if (b->version[0])
		return -EEXIST;
	return gobuildinfo__set_version(b, s, len) ? 0 : -EINVAL;
}

int gobuildinfo__read(struct go_binary *b, const struct elf_ctx *c, bool *ret_seen)
{
	int err = read_buildinfo(b, c, ret_seen);

	if (!err && !b->version[0])
		read_buildversion_sym(b, c);
	return err;
}

