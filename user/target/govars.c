// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include "common/errmsg.h"
#include "target/elf.h"
#include "target/goruntime.h"
#include "target/govars.h"

#define FUNC_MAX	(64u << 10)	/* bytes of one anchor function we decode */
#define REFS_MAX	2048		/* RIP-relative operands, calls kept per function */

/*
 * One instruction with a RIP-relative memory operand, a comparison with an
 * immediate, or a direct call (its target in imm).
 */
struct rip_ref {
	uint64_t insn;		/* the instruction's address */
	uint64_t target;	/* what the operand addresses; 0: no RIP-relative operand */
	unsigned int id;	/* x86_insn */
	unsigned int next_id;	/* the instruction right after it */
	uint8_t size;		/* operand size in bytes */
	bool write;		/* the instruction writes the operand */
	bool has_imm;
	int64_t imm;		/* the instruction's immediate, if any */
};

static const char *const names[GOVAR_NR] = {
	[GOVAR_ALLGS] = "runtime.allgs",
	[GOVAR_ALLGLEN] = "runtime.allglen",
	[GOVAR_MEMPROFILERATE] = "runtime.MemProfileRate",
	[GOVAR_MBUCKETS] = "runtime.mbuckets",
	[GOVAR_MPROFCYCLE] = "runtime.mProfCycle",
	[GOVAR_WAITREASONS] = "runtime.waitReasonStrings",
	[GOVAR_MEMSTATS] = "runtime.memstats",
	[GOVAR_CLASS_TO_SIZE] = "runtime.class_to_size",
	[GOVAR_ALLP] = "runtime.allp",
	[GOVAR_BUILDVERSION] = "runtime.buildVersion",
	[GOVAR_GCCONTROLLER] = "runtime.gcController",
};

const char *govar__name(enum govar v)
{
	return v < GOVAR_NR ? names[v] : "?";
}

/* The executable's writable data sections: where runtime variables live. */
struct data_ranges {
	uint64_t start[16], end[16];
	unsigned int n;
};

static bool in_data(const struct data_ranges *d, uint64_t addr)
{
	for (unsigned int i = 0; i < d->n; i++)
		if (addr >= d->start[i] && addr < d->end[i])
			return true;
	return false;
}

/*
 * The bytes of [addr, addr + len) from the section that holds them (an
 * executable one if code), and the writable data sections.
 */
static int read_alloc(const char *path, uint64_t addr, size_t len, bool code, uint8_t *buf,
		      struct data_ranges *data)
{
	struct ms_elf_section sh;
	struct ms_elf *elf;
	int err = -ENOENT;
	size_t i;

	elf = ms_elf__open(path);
	if (!elf)
		return errno == ENOEXEC ? -EINVAL : -errno;
	if (ms_elf__ehdr(elf)->e_machine != EM_X86_64) {
		err = -ENOTSUP;
		goto out;
	}
	data->n = 0;
	for (i = 1; !ms_elf__section(elf, i, &sh); i++) {
		if ((sh.flags & (SHF_ALLOC | SHF_WRITE)) == (SHF_ALLOC | SHF_WRITE) &&
		    data->n < 16) {
			data->start[data->n] = sh.addr;
			data->end[data->n++] = sh.addr + sh.size;
		}
		if (err != -ENOENT || sh.type != SHT_PROGBITS || !(sh.flags & SHF_ALLOC) ||
		    (code && !(sh.flags & SHF_EXECINSTR)) || addr < sh.addr ||
		    addr - sh.addr > sh.size || len > sh.size - (addr - sh.addr))
			continue;
		err = ms_elf__read_offset(elf, sh.offset + (addr - sh.addr), buf, len) ==
		      (int)len ? 0 : -EINVAL;
	}
out:
	ms_elf__close(elf);
	return err;
}

/* Every RIP-relative memory operand in code (at addr), in instruction order. */
static int rip_refs(const uint8_t *code, size_t len, uint64_t addr, struct rip_ref *refs,
		    size_t max, size_t *ret_n)
{
	const uint8_t *p = code;
	uint64_t at = addr;
	size_t n = 0, left = len;
	cs_insn *insn;
	csh cs;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		return -ENOMEM;
	}
	/* Go pads functions with int3: decoding stops at the first byte it cannot read */
	while (left && cs_disasm_iter(cs, &p, &left, &at, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		struct rip_ref r = { .insn = insn->address, .id = insn->id };
		bool mem = false;

		if (n && !refs[n - 1].next_id)
			refs[n - 1].next_id = insn->id;

		for (int i = 0; i < x->op_count; i++) {
			const cs_x86_op *op = &x->operands[i];

			if (op->type == X86_OP_IMM) {
				r.has_imm = true;
				r.imm = op->imm;
			} else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP &&
				   op->mem.index == X86_REG_INVALID) {
				r.target = insn->address + insn->size + (uint64_t)op->mem.disp;
				r.size = op->size;
				r.write = op->access & CS_AC_WRITE;
				mem = true;
			}
		}
		if ((mem || (insn->id == X86_INS_CMP && r.has_imm) ||
		     (insn->id == X86_INS_CALL && r.has_imm)) && n < max)
			refs[n++] = r;
	}
	cs_free(insn, 1);
	cs_close(&cs);
	*ret_n = n;
	return 0;
}

static bool referenced(const struct rip_ref *refs, size_t n, uint64_t target)
{
	for (size_t i = 0; i < n; i++)
		if (refs[i].target == target)
			return true;
	return false;
}

/* allgadd appends to allgs: the slice header is the lowest T read with T+8 (its len) */
static int rule_slice_header(const struct rip_ref *refs, size_t n, uint64_t callee,
			     uint64_t *ret, uint64_t *size)
{
	uint64_t best = 0;

	for (size_t i = 0; i < n; i++)
		if (refs[i].target && referenced(refs, n, refs[i].target + 8) &&
		    (!best || refs[i].target < best))
			best = refs[i].target;
	if (!best)
		return -ENOTSUP;
	*ret = best;
	*size = 24;
	return 0;
}

/*
 * allgadd ends with atomic.Storeuintptr(&allglen, ...): the address goes to
 * a register (LEA) and an XCHG stores through it; the last such pair
 */
static int rule_last_xchg(const struct rip_ref *refs, size_t n, uint64_t callee,
			  uint64_t *ret, uint64_t *size)
{
	for (size_t i = n; i-- > 0; )
		if (refs[i].id == X86_INS_LEA && refs[i].next_id == X86_INS_XCHG) {
			*ret = refs[i].target;
			*size = 8;
			return 0;
		}
	return -ENOTSUP;
}

/*
 * profilealloc (nextSample inlined, 1.19-1.27) loads two words: mcache0
 * (getMCache without a P), then MemProfileRate
 */
static int rule_last_load(const struct rip_ref *refs, size_t n, uint64_t callee,
			  uint64_t *ret, uint64_t *size)
{
	uint64_t first = 0;

	for (size_t i = n; i-- > 0; ) {
		if (!refs[i].target || refs[i].id != X86_INS_MOV || refs[i].size != 8 || refs[i].write)
			continue;
		if (!first)
			first = refs[i].target;
		else if (refs[i].target != first) {
			*ret = first;
			*size = 8;
			return 0;
		}
	}
	return -ENOTSUP;
}

/* The one data word of `bytes` bytes the function loads (any other: not the rule). */
static int only_load(const struct rip_ref *refs, size_t n, unsigned int bytes, uint64_t *ret)
{
	uint64_t found = 0;

	for (size_t i = 0; i < n; i++) {
		if (!refs[i].target || refs[i].id != X86_INS_MOV || refs[i].write ||
		    refs[i].size != bytes)
			continue;
		if (found && found != refs[i].target)
			return -ENOTSUP;
		found = refs[i].target;
	}
	if (!found)
		return -ENOTSUP;
	*ret = found;
	return 0;
}

/* mProf_FlushLocked walks `for b := mbuckets; ...`: its only data load (1.19-1.27) */
static int rule_only_load8(const struct rip_ref *refs, size_t n, uint64_t callee,
			   uint64_t *ret, uint64_t *size)
{
	*size = 8;
	return only_load(refs, n, 8, ret);
}

/* mProf_Flush reads mProfCycle, its only 4-byte load (the locks are LEAs) */
static int rule_only_load4(const struct rip_ref *refs, size_t n, uint64_t callee,
			   uint64_t *ret, uint64_t *size)
{
	*size = 4;
	return only_load(refs, n, 4, ret);
}

/*
 * waitReason.String: `if w >= len(waitReasonStrings)` against a constant,
 * then the array's address (a LEA: the one before it is the "unknown wait
 * reason" string). 16 bytes a string header.
 */
static int rule_bounded_array(const struct rip_ref *refs, size_t n, uint64_t callee,
			      uint64_t *ret, uint64_t *size)
{
	int64_t bound = -1;

	for (size_t i = 0; i < n; i++) {
		if (refs[i].id == X86_INS_CMP && !refs[i].target && bound < 0)
			bound = refs[i].imm;
	}
	for (size_t i = n; i-- > 0; ) {
		if (refs[i].target && refs[i].id == X86_INS_LEA) {
			if (bound <= 0 || bound > 256)
				return -ENOTSUP;
			*ret = refs[i].target;
			*size = (uint64_t)bound * 16;
			return 0;
		}
	}
	return -ENOTSUP;
}

/* The k-th distinct address the function takes with a LEA (0-based), size unknown. */
static int lea_nth(const struct rip_ref *refs, size_t n, unsigned int k, uint64_t *ret)
{
	uint64_t seen[8];
	unsigned int nseen = 0;

	for (size_t i = 0; i < n && nseen < 8; i++) {
		bool dup = false;

		if (!refs[i].target || refs[i].id != X86_INS_LEA)
			continue;
		for (unsigned int j = 0; j < nseen; j++)
			dup |= seen[j] == refs[i].target;
		if (dup)
			continue;
		if (nseen == k) {
			*ret = refs[i].target;
			return 0;
		}
		seen[nseen++] = refs[i].target;
	}
	return -ENOTSUP;
}

/* readmemstats_m starts `stats := &memstats`, then indexes the size class table (1.19-1.27) */
static int rule_first_lea(const struct rip_ref *refs, size_t n, uint64_t callee,
			  uint64_t *ret, uint64_t *size)
{
	return lea_nth(refs, n, 0, ret);
}

static int rule_second_lea(const struct rip_ref *refs, size_t n, uint64_t callee,
			   uint64_t *ret, uint64_t *size)
{
	return lea_nth(refs, n, 1, ret);
}

/*
 * schedinit keeps buildVersion alive with `if buildVersion == "" {
 * buildVersion = "unknown" }`: the string header whose length word is
 * compared with 0, then set to 7 (1.19-1.27).
 */
static int rule_unknown_string(const struct rip_ref *refs, size_t n, uint64_t callee,
			       uint64_t *ret, uint64_t *size)
{
	for (size_t i = 0; i < n; i++) {
		if (refs[i].id != X86_INS_CMP || !refs[i].target || refs[i].size != 8 ||
		    !refs[i].has_imm || refs[i].imm != 0 || refs[i].target < 8)
			continue;
		for (size_t j = i + 1; j < n; j++) {
			if (refs[j].id == X86_INS_MOV && refs[j].write && refs[j].has_imm &&
			    refs[j].imm == 7 && refs[j].target == refs[i].target) {
				*ret = refs[i].target - 8;
				*size = 16;
				return 0;
			}
		}
	}
	return -ENOTSUP;
}

/*
 * gcinit calls gcController.init(...): the address it takes (a LEA) last
 * before the call to runtime.(*gcControllerState).init is the receiver
 * (1.19-1.27). Size: from the layout.
 */
static int rule_receiver(const struct rip_ref *refs, size_t n, uint64_t callee, uint64_t *ret,
			 uint64_t *size)
{
	uint64_t recv = 0;

	for (size_t i = 0; i < n; i++) {
		if (refs[i].id == X86_INS_LEA && refs[i].target) {
			recv = refs[i].target;
		} else if (refs[i].id == X86_INS_CALL && refs[i].has_imm &&
			   (uint64_t)refs[i].imm == callee) {
			if (!recv)
				return -ENOTSUP;
			*ret = recv;
			return 0;
		}
	}
	return -ENOTSUP;
}

static const struct rule {
	const char *anchor;	/* a runtime function that references the variable */
	int (*pick)(const struct rip_ref *refs, size_t n, uint64_t callee, uint64_t *ret,
		    uint64_t *size);
	const char *what;	/* the rule, for messages */
	const char *callee;	/* a function the rule looks for calls to, or NULL */
} rules[GOVAR_NR] = {
	[GOVAR_ALLGS] = {
		.anchor = "runtime.allgadd",
		.pick = rule_slice_header,
		.what = "the slice it appends to",
	},
	[GOVAR_ALLGLEN] = {
		.anchor = "runtime.allgadd",
		.pick = rule_last_xchg,
		.what = "its last atomic store",
	},
	[GOVAR_MEMPROFILERATE] = {
		.anchor = "runtime.profilealloc",
		.pick = rule_last_load,
		.what = "the last of the two words it loads",
	},
	[GOVAR_MBUCKETS] = {
		.anchor = "runtime.mProf_FlushLocked",
		.pick = rule_only_load8,
		.what = "the one word it loads",
	},
	[GOVAR_MPROFCYCLE] = {
		.anchor = "runtime.mProf_Flush",
		.pick = rule_only_load4,
		.what = "the one 32-bit word it loads",
	},
	[GOVAR_WAITREASONS] = {
		.anchor = "runtime.waitReason.String",
		.pick = rule_bounded_array,
		.what = "the array it indexes and its bound",
	},
	[GOVAR_MEMSTATS] = {
		.anchor = "runtime.readmemstats_m",
		.pick = rule_first_lea,
		.what = "the first address it takes",
	},
	[GOVAR_CLASS_TO_SIZE] = {
		.anchor = "runtime.readmemstats_m",
		.pick = rule_second_lea,
		.what = "the second address it takes",
	},
	[GOVAR_ALLP] = {
		.anchor = "runtime.flushmcache",
		.pick = rule_slice_header,
		.what = "the slice it walks",
	},
	[GOVAR_BUILDVERSION] = {
		.anchor = "runtime.schedinit",
		.pick = rule_unknown_string,
		.what = "the string it sets to \"unknown\" when empty",
	},
	[GOVAR_GCCONTROLLER] = {
		.anchor = "runtime.gcinit",
		.pick = rule_receiver,
		.what = "the receiver of its call to gcControllerState.init",
		.callee = "runtime.(*gcControllerState).init",
	},
};

int govars__locate(const char *path, struct go_binary *b, enum govar v, uint64_t *ret_addr,
		   uint64_t *ret_size, char *why, size_t whylen)
{
	struct rip_ref *refs = NULL;
	struct data_ranges data = { .n = 0 };
	struct go_func_info fi;
	const struct rule *r;
	uint8_t *code = NULL;
	uint64_t entry, callee = 0;
	size_t n = 0, len;
	int err;

	*ret_addr = 0;
	*ret_size = 0;
	if (v >= GOVAR_NR)
		return -EINVAL;
	r = &rules[v];
	err = go_binary__find_func(b, r->anchor, &entry);
	if (err)
		return ms_fail(why, whylen, -ENOENT, "%s: no %s in .gopclntab", names[v], r->anchor);
	if (r->callee && go_binary__find_func(b, r->callee, &callee))
		return ms_fail(why, whylen, -ENOENT, "%s: no %s in .gopclntab", names[v], r->callee);
	err = go_binary__lookup(b, entry, &fi);
	if (err || fi.end <= entry)
		return ms_fail(why, whylen, -EINVAL, "%s: %s has no extent", names[v], r->anchor);
	len = fi.end - entry;
	if (len > FUNC_MAX)
		len = FUNC_MAX;
	code = malloc(len);
	refs = calloc(REFS_MAX, sizeof(*refs));
	if (!code || !refs) {
		err = -ENOMEM;
		goto out;
	}
	err = read_alloc(path, entry, len, true, code, &data);
	if (!err)
		err = rip_refs(code, len, entry, refs, REFS_MAX, &n);
	/* only operands in writable data are variables (not strings, tables of code) */
	if (!err) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (!refs[i].target || in_data(&data, refs[i].target))
				refs[k++] = refs[i];
		n = k;
	}
	if (err) {
		ms_fail(why, whylen, err, "%s: cannot read the code of %s: %s", names[v], r->anchor,
			strerror(-err));
		goto out;
	}
	err = r->pick(refs, n, callee, ret_addr, ret_size);
	if (err)
		ms_fail(why, whylen, err, "%s: %s's code does not show %s", names[v], r->anchor,
			r->what);
out:
	free(code);
	free(refs);
	return err;
}

int govars__version(const char *path, struct go_binary *b, struct go_version *ret)
{
	struct data_ranges data;
	uint64_t addr, size, ptr, len;
	uint8_t hdr[16];
	char s[GO_VERSION_MAX];
	int err;

	if (!go_binary__version(b, ret))
		return 0;
	err = govars__locate(path, b, GOVAR_BUILDVERSION, &addr, &size, NULL, 0);
	if (err)
		return -ENOENT;
	/* the linker's initial value: a string header in .data, its bytes in .rodata */
	if (read_alloc(path, addr, sizeof(hdr), false, hdr, &data))
		return -ENOENT;
	ptr = 0;
	len = 0;
	for (int i = 7; i >= 0; i--) {
		ptr = ptr << 8 | hdr[i];
		len = len << 8 | hdr[8 + i];
	}
	if (!len || len >= sizeof(s) || read_alloc(path, ptr, len, false, (uint8_t *)s, &data))
		return -ENOENT;
	/* "go1.26.1", "devel go1.27-abc..." (not a "go" string: not a version) */
	if (!memmem(s, len, "go", 2) || go_binary__set_version(b, s, len))
		return -ENOENT;
	return go_binary__version(b, ret);
}
