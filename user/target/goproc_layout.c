// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * goproc_layout.c - where the fields of the Go runtime's structs are: from
 * the executable's DWARF (member paths, with the names later releases
 * renamed them to), else from the built-in tables of go_layouts.h for the
 * releases they were generated for.
 */
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/elf.h"
#include "target/goproc.h"
#include "target/goproc_int.h"

const char *const gp_type_names[T_NR] = {
	[T_G] = "runtime.g",
	[T_SCHEDT] = "runtime.schedt",
	[T_P] = "runtime.p",
	[T_MCACHE] = "runtime.mcache",
	[T_MSPAN] = "runtime.mspan",
	[T_MSTATS] = "runtime.mstats",
	[T_HSD] = "runtime.heapStatsDelta",
	[T_GCC] = "runtime.gcControllerState",
	[T_BUCKET] = "runtime.bucket",
	[T_MEMREC] = "runtime.memRecord",
	[T_MRCYCLE] = "runtime.memRecordCycle",
};

/*
 * Paths are member names of the Go 1.17-1.22 runtime, alt those of a later
 * release that renamed the field. Fields a release lacks are optional (need
 * 0): mspan.allocCountBeforeCache (1.18+; 1.17 counts a cached span as fully
 * allocated), mstats.next_gc (<= 1.17), gcControllerState.heapGoal (1.18),
 * .gcPercentHeapGoal and the memory limit (1.19+), heapStatsDelta.
 * inPtrScalarBits (<= 1.24), schedt.gFree.noStack.size (1.25+: the free g
 * count is split over two lists), memRecordCycle's byte counts (<= 1.26;
 * 1.27 derives them from the bucket's size).
 */
const struct field_def gp_field_defs[F_NR] = {
	[F_G_STATUS] = { T_G, NEED_G, "atomicstatus" },
	[F_G_WAITREASON] = { T_G, NEED_G, "waitreason" },
	[F_G_GOPC] = { T_G, NEED_G, "gopc" },
	[F_G_STARTPC] = { T_G, NEED_G, "startpc" },
	[F_SCHED_NGSYS] = { T_SCHEDT, 0, "ngsys" },
	[F_SCHED_GFREE_N] = { T_SCHEDT, 0, "gFree.n", "gFree.stack.size" },
	[F_SCHED_GFREE_NOSTACK] = { T_SCHEDT, 0, "gFree.noStack.size" },
	[F_P_GFREE_N] = { T_P, 0, "gFree.n", "gFree.size" },
	[F_P_MCACHE] = { T_P, 0, "mcache" },
	[F_MC_ALLOC] = { T_MCACHE, NEED_ARRAY, "alloc" },
	[F_MC_TINYALLOCS] = { T_MCACHE, 0, "tinyAllocs" },
	[F_SP_ALLOCCOUNT] = { T_MSPAN, 0, "allocCount" },
	[F_SP_ALLOCCOUNT_BC] = { T_MSPAN, 0, "allocCountBeforeCache" },
	[F_SP_ELEMSIZE] = { T_MSPAN, 0, "elemsize" },
	[F_SP_NELEMS] = { T_MSPAN, 0, "nelems" },
	[F_MS_HEAPSTATS] = { T_MSTATS, NEED_HEAP | NEED_ARRAY | NEED_BIG, "heapStats.stats" },
	[F_MS_NUMGC] = { T_MSTATS, NEED_HEAP, "numgc" },
	[F_MS_STACKS_SYS] = { T_MSTATS, 0, "stacks_sys" },
	[F_MS_MSPAN_SYS] = { T_MSTATS, 0, "mspan_sys" },
	[F_MS_MCACHE_SYS] = { T_MSTATS, 0, "mcache_sys" },
	[F_MS_BUCKHASH_SYS] = { T_MSTATS, 0, "buckhash_sys" },
	[F_MS_GCMISC_SYS] = { T_MSTATS, 0, "gcMiscSys" },
	[F_MS_OTHER_SYS] = { T_MSTATS, 0, "other_sys" },
	[F_MS_NEXT_GC] = { T_MSTATS, 0, "next_gc" },
	[F_HSD_COMMITTED] = { T_HSD, NEED_HEAP, "committed" },
	[F_HSD_RELEASED] = { T_HSD, NEED_HEAP, "released" },
	[F_HSD_INHEAP] = { T_HSD, NEED_HEAP, "inHeap" },
	[F_HSD_INSTACKS] = { T_HSD, NEED_HEAP, "inStacks" },
	[F_HSD_INWORKBUFS] = { T_HSD, NEED_HEAP, "inWorkBufs" },
	[F_HSD_INPTRSCALARBITS] = { T_HSD, 0, "inPtrScalarBits" },
	[F_HSD_TINYALLOCCOUNT] = { T_HSD, NEED_HEAP, "tinyAllocCount" },
	[F_HSD_LARGEALLOC] = { T_HSD, NEED_HEAP, "largeAlloc" },
	[F_HSD_LARGEALLOCCOUNT] = { T_HSD, NEED_HEAP, "largeAllocCount" },
	[F_HSD_SMALLALLOCCOUNT] = { T_HSD, NEED_HEAP | NEED_ARRAY, "smallAllocCount" },
	[F_HSD_LARGEFREE] = { T_HSD, NEED_HEAP, "largeFree" },
	[F_HSD_LARGEFREECOUNT] = { T_HSD, NEED_HEAP, "largeFreeCount" },
	[F_HSD_SMALLFREECOUNT] = { T_HSD, NEED_HEAP | NEED_ARRAY, "smallFreeCount" },
	[F_GCC_HEAPGOAL] = { T_GCC, 0, "heapGoal" },
	[F_GCC_GCPERCENTHEAPGOAL] = { T_GCC, 0, "gcPercentHeapGoal" },
	[F_GCC_MEMORYLIMIT] = { T_GCC, 0, "memoryLimit" },
	[F_GCC_SWEEPDISTMINTRIGGER] = { T_GCC, 0, "sweepDistMinTrigger" },
	[F_GCC_TRIGGERED] = { T_GCC, 0, "triggered" },
	[F_GCC_HEAPMARKED] = { T_GCC, 0, "heapMarked" },
	/* the stack (nstk PCs) follows the header, then the memRecord */
	[F_BK_HDR] = { T_BUCKET, NEED_PROF | NEED_BIG, "" },
	[F_BK_ALLNEXT] = { T_BUCKET, NEED_PROF, "allnext" },
	[F_BK_TYP] = { T_BUCKET, NEED_PROF, "typ" },
	[F_BK_SIZE] = { T_BUCKET, NEED_PROF, "size" },
	[F_BK_NSTK] = { T_BUCKET, NEED_PROF, "nstk" },
	[F_MR_ACTIVE] = { T_MEMREC, NEED_PROF | NEED_BIG, "active" },
	[F_MR_FUTURE] = { T_MEMREC, NEED_PROF | NEED_ARRAY | NEED_BIG, "future" },
	[F_MRC_ALLOCS] = { T_MRCYCLE, NEED_PROF, "allocs" },
	[F_MRC_FREES] = { T_MRCYCLE, NEED_PROF, "frees" },
	[F_MRC_ALLOC_BYTES] = { T_MRCYCLE, 0, "alloc_bytes" },
	[F_MRC_FREE_BYTES] = { T_MRCYCLE, 0, "free_bytes" },
};

/*
 * goXY_amd64[] and go_layouts_amd64[], generated from the DWARF of binaries
 * built with each release by scripts/go-layouts.sh, for binaries built with
 * -ldflags=-w. tests/unit/test_goproc.c checks the table of the local
 * toolchain against its DWARF.
 */
#include "target/go_layouts.h"

/* ---- layouts from DWARF ---- */

static bool die_type(Dwarf_Die *die, Dwarf_Die *ret)
{
	Dwarf_Attribute a;

	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, ret))
		return false;
	return dwarf_peel_type(ret, ret) == 0;
}

static bool member_find(Dwarf_Die *st, const char *name, size_t nlen, Dwarf_Die *ret)
{
	Dwarf_Die c;

	if (dwarf_tag(st) != DW_TAG_structure_type || dwarf_child(st, &c) != 0)
		return false;
	do {
		const char *n;

		if (dwarf_tag(&c) != DW_TAG_member)
			continue;
		n = dwarf_diename(&c);
		if (n && strlen(n) == nlen && !memcmp(n, name, nlen)) {
			*ret = c;
			return true;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

static bool member_offset(Dwarf_Die *m, uint64_t *ret)
{
	Dwarf_Attribute a;
	Dwarf_Word w;

	/* Go emits plain constants; a location expression is not a layout we know. */
	if (!dwarf_attr_integrate(m, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &w))
		return false;
	*ret = w;
	return true;
}

static bool type_size(Dwarf_Die *t, uint64_t *ret)
{
	Dwarf_Word sz;

	if (dwarf_aggregate_size(t, &sz) != 0)
		return false;
	*ret = sz;
	return true;
}

/*
 * Resolve "a.b.c" inside struct st. Atomic wrappers (atomic.Uint64{noCopy;
 * _ align64; value uint64} and friends) are looked through: a final struct
 * with a "value" member means that member.
 */
static bool field_resolve(Dwarf_Die *st, const char *path, struct gp_field *ret)
{
	Dwarf_Die cur = *st, m, t;
	uint64_t off = 0, size, o;
	const char *p = path;
	int hops = 0;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t nlen = dot ? (size_t)(dot - p) : strlen(p);

		if (!member_find(&cur, p, nlen, &m) || !member_offset(&m, &o) || !die_type(&m, &t))
			return false;
		off += o;
		cur = t;
		p += nlen;
		if (*p == '.')
			p++;
	}
	while (hops++ < 4 && member_find(&cur, "value", 5, &m)) {
		if (!member_offset(&m, &o) || !die_type(&m, &t))
			return false;
		off += o;
		cur = t;
	}
	if (!type_size(&cur, &size) || off > OBJ_MAX || size > OBJ_MAX)
		return false;
	ret->ok = true;
	ret->off = (uint32_t)off;
	ret->size = (uint32_t)size;
	ret->count = 0;
	ret->stride = 0;
	if (dwarf_tag(&cur) == DW_TAG_array_type) {
		Dwarf_Die sub, el;
		Dwarf_Attribute a;
		Dwarf_Word cnt = 0;
		uint64_t esz;

		if (dwarf_child(&cur, &sub) != 0 || dwarf_tag(&sub) != DW_TAG_subrange_type)
			return false;
		if (dwarf_attr_integrate(&sub, DW_AT_count, &a)) {
			if (dwarf_formudata(&a, &cnt))
				return false;
		} else if (dwarf_attr_integrate(&sub, DW_AT_upper_bound, &a)) {
			if (dwarf_formudata(&a, &cnt))
				return false;
			cnt++;
		}
		if (!cnt || cnt > OBJ_MAX || size % cnt || !die_type(&cur, &el) ||
		    !type_size(&el, &esz))
			return false;
		ret->count = (uint32_t)cnt;
		ret->stride = (uint32_t)(size / cnt);
		ret->size = (uint32_t)(esz < ret->stride ? esz : ret->stride);
	}
	return true;
}

/* The first of def's paths that resolves; *ret untouched if none does. */
static bool field_resolve_def(Dwarf_Die *st, const struct field_def *def, struct gp_field *ret)
{
	const char *paths[2] = { def->path, def->alt };
	struct gp_field f;
	unsigned i;

	for (i = 0; i < 2 && paths[i]; i++) {
		memset(&f, 0, sizeof(f));
		if (field_resolve(st, paths[i], &f)) {
			*ret = f;
			return true;
		}
	}
	return false;
}

/*
 * 0 if DWARF was found and every type we need is in it (fields may still be
 * missing: optional ones, or required ones reported by the query that needs
 * them); -ENOENT if there is no DWARF; -ENOTSUP if a type is missing.
 */
int gp_layout_from_dwarf(struct goproc *gp, Elf *elf)
{
	Dwarf_Die types[T_NR];
	bool have[T_NR] = { false };
	Dwarf_Off off = 0, next;
	size_t hsize;
	Dwarf *dw;
	unsigned i, found = 0;

	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw)
		return -ENOENT;
	while (found < T_NR && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, c;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &c) == 0) {
			do {
				const char *n;

				if (dwarf_tag(&c) != DW_TAG_structure_type)
					continue;
				n = dwarf_diename(&c);
				for (i = 0; n && i < T_NR; i++) {
					if (!have[i] && !strcmp(n, gp_type_names[i])) {
						types[i] = c;
						have[i] = true;
						found++;
					}
				}
			} while (found < T_NR && dwarf_siblingof(&c, &c) == 0);
		}
		off = next;
	}
	for (i = 0; i < T_FIRST_OPTIONAL; i++) {
		if (!have[i]) {
			dwarf_end(dw);
			return gp_set_reason(gp, -ENOTSUP, "DWARF has no type %s",
					     gp_type_names[i]);
		}
	}
	for (i = 0; i < F_NR; i++) {
		struct gp_field *f = &gp->f[i];
		bool is_array = gp_field_defs[i].need & NEED_ARRAY;
		bool big = gp_field_defs[i].need & NEED_BIG;

		memset(f, 0, sizeof(*f));
		if (!have[gp_field_defs[i].type] ||
		    !field_resolve_def(&types[gp_field_defs[i].type], &gp_field_defs[i], f))
			continue;
		/*
		 * We read scalars of at most 8 bytes, and the few structs marked
		 * NEED_BIG. Anything else is not the runtime we know: treat the
		 * field as absent.
		 */
		if (is_array != (f->count > 0) || f->size == 0 || (!big && f->size > 8))
			memset(f, 0, sizeof(*f));
	}
	dwarf_end(dw);
	return 0;
}

/* Only the releases tables were generated for: a newer one may have moved anything. */
const struct gp_field *gp_builtin_table(int major, int minor, int machine)
{
	size_t i;

	if (major != 1 || machine != EM_X86_64)
		return NULL;
	for (i = 0; i < sizeof(go_layouts_amd64) / sizeof(go_layouts_amd64[0]); i++)
		if (go_layouts_amd64[i].minor == minor)
			return go_layouts_amd64[i].f;
	return NULL;
}

unsigned goproc__nr_fields(void)
{
	return F_NR;
}

static void field_export(const struct gp_field *f, unsigned i, struct goproc_field *ret)
{
	ret->type = gp_type_names[gp_field_defs[i].type];
	ret->path = gp_field_defs[i].path;
	ret->present = f->ok;
	ret->offset = f->off;
	ret->size = f->size;
	ret->count = f->count;
	ret->stride = f->stride;
}

int goproc__field(const struct goproc *gp, unsigned i, struct goproc_field *ret)
{
	if (i >= F_NR)
		return -ERANGE;
	if (gp->layout == GOPROC_LAYOUT_NONE)
		return -ENOTSUP;
	field_export(&gp->f[i], i, ret);
	return 0;
}

int goproc__dwarf_layout_of(const char *path, struct goproc_field *ret, unsigned n)
{
	struct ms_elf *elf;
	struct goproc *gp;
	unsigned i;
	int err;

	elf = ms_elf__open(path);
	if (!elf)
		return errno == ENOEXEC ? -EINVAL : -errno;
	gp = calloc(1, sizeof(*gp));
	err = gp ? gp_layout_from_dwarf(gp, ms_elf__handle(elf)) : -ENOMEM;
	for (i = 0; !err && i < n && i < F_NR; i++)
		field_export(&gp->f[i], i, &ret[i]);
	ms_elf__close(elf);
	free(gp);
	return err;
}

int goproc__builtin_field(int go_major, int go_minor, int elf_machine, unsigned i,
			  struct goproc_field *ret)
{
	const struct gp_field *tab = gp_builtin_table(go_major, go_minor, elf_machine);

	if (i >= F_NR)
		return -ERANGE;
	if (!tab)
		return -ENOTSUP;
	field_export(&tab[i], i, ret);
	return 0;
}

