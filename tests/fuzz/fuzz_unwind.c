// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_unwind - a copied stack as the BPF side would send it, made hostile:
 * registers and stack bytes come from the input, the pc is placed inside one
 * of this process's own code mappings (so libdwfl really looks up CFI and
 * walks), and the unwinder must stay inside the copy, return 1..max frames
 * with the pc first, and never crash or leak.
 */
#include "fuzz_common.h"
#include "target/procfs.h"
#include "bpf/unwind.h"

#define MAXF 64

static struct unwinder *u;
static uint64_t code_lo[64], code_len[64];
static size_t ncode;
static bool verbose;	/* FUZZ_UNWIND_VERBOSE=1: print frames per input (replaying a corpus) */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ms_maps maps = {};

	if (procfs__read_maps("/proc", getpid(), &maps))
		abort();
	for (size_t i = 0; i < maps.n && ncode < 64; i++) {
		if (maps.v[i].perms[2] != 'x' || !maps.v[i].path || maps.v[i].path[0] != '/')
			continue;
		code_lo[ncode] = maps.v[i].start;
		code_len[ncode++] = maps.v[i].end - maps.v[i].start;
	}
	verbose = getenv("FUZZ_UNWIND_VERBOSE") != NULL;
	/* shared files, as in the daemon */
	u = unwinder__new(getpid(), &maps, unwind_files__new());
	ms_maps__free(&maps);
	if (!u || !ncode)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct unwind_sample s = { .tid = getpid() };
	uint64_t ips[MAXF + 1], where;
	size_t n = 0, max;
	uint8_t *stack;

	if (size < sizeof(s.regs) + 2)
		return 0;
	memcpy(s.regs, data, sizeof(s.regs));
	max = 1 + data[sizeof(s.regs)] % MAXF;
	/* the pc: an offset into one of our code mappings, or as given (odd byte) */
	where = s.regs[MS_UREG_IP];
	if (!(data[sizeof(s.regs) + 1] & 1))
		s.regs[MS_UREG_IP] = code_lo[where % ncode] + (where >> 8) % code_len[where % ncode];
	size -= sizeof(s.regs) + 2;
	data += sizeof(s.regs) + 2;
	/* an exact-size heap copy: ASan catches any read past it */
	stack = malloc(size ? size : 1);
	FUZZ_CHECK(stack);
	memcpy(stack, data, size);
	s.stack = stack;
	s.size = size;
	/* stack addresses near the pc's own mapping make some frames resolve */
	ips[max] = 0xdeadbeef;
	FUZZ_CHECK(unwinder__unwind(u, &s, ips, max, &n) == 0);
	FUZZ_CHECK(n >= 1 && n <= max);
	FUZZ_CHECK(ips[0] == s.regs[MS_UREG_IP]);
	FUZZ_CHECK(ips[max] == 0xdeadbeef);
	if (verbose)
		fprintf(stderr, "frames %zu of max %zu\n", n, max);
	free(stack);
	return 0;
}
