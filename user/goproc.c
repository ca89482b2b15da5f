// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * goproc.c - runtime state of a running Go process through process_vm_readv.
 *
 * Three inputs, each treated as hostile:
 *  - the executable (/proc/PID/exe): .symtab for the addresses of runtime
 *    globals, DWARF (or a built-in table) for struct layouts, .gopclntab
 *    (via goruntime) to name PCs;
 *  - /proc/PID/maps for a PIE's load bias;
 *  - the target's memory, which changes under us: every pointer and count
 *    read from it is checked and capped before use.
 *
 * The runtime's own accounting is mirrored, not guessed: the goroutine
 * counts follow gcount()/isSystemGoroutine(), the heap numbers follow
 * readmemstats_m() over memstats.heapStats, and the heap profile follows
 * MemProfile() over runtime.mbuckets (layouts by name, with the alternatives
 * later releases use: see field_defs[]).
 */
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "goproc.h"
#include "govars.h"
#include "procfs.h"

/*
 * Go g statuses (runtime2.go): 0-9 unchanged since 1.17; 1.26 added
 * _Gleaked (a _Gwaiting goroutine the GC found unreachable, i.e. blocked
 * forever: still waiting, its wait reason kept) and _Gdeadextra (a _Gdead g
 * parked on an extra M for cgo callbacks).
 */
#define G_IDLE		0
#define G_RUNNABLE	1
#define G_RUNNING	2
#define G_SYSCALL	3
#define G_WAITING	4
#define G_DEAD		6
#define G_MAXSTATUS	9
#define G_LEAKED	10	/* 1.26+ */
#define G_DEADEXTRA	11	/* 1.26+ */
#define G_MAXSTATUS_126	11
#define G_SCANBIT	0x1000

/* Sizes of what we read in one piece; anything larger is not a Go runtime. */
#define OBJ_MAX		(1u << 20)	/* one runtime global or struct window */
#define READ_BATCH	256		/* iovecs per process_vm_readv (IOV_MAX is 1024) */
#define ALLGS_CHUNK	4096		/* g pointers read at a time */
#define SIZECLASS_MAX	256		/* _NumSizeClasses is 68 in 1.19 */
#define SPANCLASS_MAX	(2 * SIZECLASS_MAX)
#define HEAP_RETRIES	3
#define USER_ADDR_MAX	(1ull << 57)	/* above any user-space address (la57) */
#define WINDOW_MAX	4096		/* bytes of one g or mspan we read (g is ~400) */
#define GROUPS_HARD_MAX	(1u << 20)	/* whatever opts.max_groups says */
#define BUCKETS_HARD_MAX (1u << 24)	/* whatever opts.max_buckets says */
#define MEM_PROFILE	1		/* bucketType memProfile */
#define BUCKET_HDR_MAX	256		/* sizeof(runtime.bucket) is 48 in 1.19 */
#define MEMREC_MAX	1024		/* sizeof(runtime.memRecord) is 128 */
#define FUTURE_MAX	8		/* len(memRecord.future) is 3 */
#define PROF_RETRIES	3
#define WIN_STACK	32		/* PCs read with the header: most stacks are shorter */

/* ---- what we read: runtime types, fields and globals ---- */

/*
 * Types from T_BUCKET on are optional in DWARF: without them only the heap
 * profile is unavailable.
 */
enum gp_type {
	T_G, T_SCHEDT, T_P, T_MCACHE, T_MSPAN, T_MSTATS, T_HSD, T_GCC,
	T_BUCKET, T_MEMREC, T_MRCYCLE, T_NR
};
#define T_FIRST_OPTIONAL T_BUCKET

static const char *const type_names[T_NR] = {
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

enum gp_field_id {
	F_G_STATUS, F_G_WAITREASON, F_G_GOPC, F_G_STARTPC,
	F_SCHED_NGSYS, F_SCHED_GFREE_N, F_SCHED_GFREE_NOSTACK,
	F_P_GFREE_N, F_P_MCACHE,
	F_MC_ALLOC, F_MC_TINYALLOCS,
	F_SP_ALLOCCOUNT, F_SP_ALLOCCOUNT_BC, F_SP_ELEMSIZE, F_SP_NELEMS,
	F_MS_HEAPSTATS, F_MS_NUMGC, F_MS_STACKS_SYS, F_MS_MSPAN_SYS, F_MS_MCACHE_SYS,
	F_MS_BUCKHASH_SYS, F_MS_GCMISC_SYS, F_MS_OTHER_SYS, F_MS_NEXT_GC,
	F_HSD_COMMITTED, F_HSD_RELEASED, F_HSD_INHEAP, F_HSD_INSTACKS, F_HSD_INWORKBUFS,
	F_HSD_INPTRSCALARBITS, F_HSD_TINYALLOCCOUNT, F_HSD_LARGEALLOC, F_HSD_LARGEALLOCCOUNT,
	F_HSD_SMALLALLOCCOUNT, F_HSD_LARGEFREE, F_HSD_LARGEFREECOUNT, F_HSD_SMALLFREECOUNT,
	F_GCC_HEAPGOAL, F_GCC_GCPERCENTHEAPGOAL, F_GCC_MEMORYLIMIT, F_GCC_SWEEPDISTMINTRIGGER,
	F_GCC_TRIGGERED, F_GCC_HEAPMARKED,
	F_BK_HDR, F_BK_ALLNEXT, F_BK_TYP, F_BK_SIZE, F_BK_NSTK,
	F_MR_ACTIVE, F_MR_FUTURE,
	F_MRC_ALLOCS, F_MRC_FREES, F_MRC_ALLOC_BYTES, F_MRC_FREE_BYTES,
	F_NR
};

/* What a field is needed for: a query fails with -ENOTSUP if one of its fields is missing. */
#define NEED_G		(1u << 0)	/* goroutine walk */
#define NEED_HEAP	(1u << 1)	/* heap stats */
#define NEED_ARRAY	(1u << 2)	/* must be an array */
#define NEED_PROF	(1u << 3)	/* heap profile */
#define NEED_BIG	(1u << 4)	/* a struct (or array of them): may exceed 8 bytes */

struct field_def {
	uint8_t type;
	uint8_t need;
	const char *path;
	const char *alt;	/* tried when path does not resolve (a later release's name) */
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
static const struct field_def field_defs[F_NR] = {
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

struct gp_field {
	bool ok;
	uint32_t off, size, count, stride;
};

/* A built-in table: the layout of Go 1.<minor>. */
struct gp_layout {
	int minor;
	const struct gp_field *f;
};

/*
 * goXY_amd64[] and go_layouts_amd64[], generated from the DWARF of binaries
 * built with each release by scripts/go-layouts.sh, for binaries built with
 * -ldflags=-w. tests/unit/test_goproc.c checks the table of the local
 * toolchain against its DWARF.
 */
#include "go_layouts.h"

enum gp_sym {
	S_ALLGS, S_ALLGLEN, S_ALLP, S_SCHED, S_MEMSTATS, S_GCCONTROLLER, S_CLASS_TO_SIZE,
	S_EMPTYMSPAN, S_WAITREASONS,
	S_MBUCKETS, S_MEMPROFILERATE, S_MPROFCYCLE, S_MPROF, S_DISABLEMEMPROF,
	S_NR
};

static const char *const sym_names[S_NR] = {
	[S_ALLGS] = "runtime.allgs",
	[S_ALLGLEN] = "runtime.allglen",
	[S_ALLP] = "runtime.allp",
	[S_SCHED] = "runtime.sched",
	[S_MEMSTATS] = "runtime.memstats",
	[S_GCCONTROLLER] = "runtime.gcController",
	[S_CLASS_TO_SIZE] = "runtime.class_to_size",
	[S_EMPTYMSPAN] = "runtime.emptymspan",
	[S_WAITREASONS] = "runtime.waitReasonStrings",
	[S_MBUCKETS] = "runtime.mbuckets",
	[S_MEMPROFILERATE] = "runtime.MemProfileRate",
	[S_MPROFCYCLE] = "runtime.mProfCycle",		/* 1.19+ */
	[S_MPROF] = "runtime.mProf",			/* <= 1.18 */
	[S_DISABLEMEMPROF] = "runtime.disableMemoryProfiling",
};

/* A later release's name of a global, tried as well. */
static const char *const sym_alt_names[S_NR] = {
	[S_CLASS_TO_SIZE] = "internal/runtime/gc.SizeClassToSize",	/* 1.25+ */
};

struct gp_symbol {
	bool ok;
	uint64_t addr;		/* link-time */
	uint64_t size;
};

struct goproc {
	bool no_symtab;		/* globals located from code (govars.c) */
	pid_t pid;
	struct go_binary *bin;
	struct go_version ver;
	bool have_ver;
	int elf_machine;
	uint64_t bias;
	int status;
	enum goproc_layout layout;
	uint32_t max_gstatus;	/* the highest g status this release has */
	uint32_t prof_max_stack;	/* the most PCs a heap profile bucket holds */
	struct gp_field f[F_NR];
	struct gp_symbol sym[S_NR];
	/* lazily read from the target, see wait_reasons_load() */
	bool wr_loaded;
	unsigned nr_wr;
	char wr[GOPROC_MAX_WAIT_REASONS][GOPROC_WAIT_REASON_LEN];
	char reason[GOPROC_REASON_LEN];
};

static int set_reason(struct goproc *gp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_reason(struct goproc *gp, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(gp->reason, sizeof(gp->reason), fmt, ap);
	va_end(ap);
	return err;
}

/* ---- reading the target ---- */

static bool addr_ok(uint64_t addr, uint64_t len)
{
	return addr && addr < USER_ADDR_MAX && len <= USER_ADDR_MAX - addr;
}

static int mem_read(const struct goproc *gp, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	if (!len)
		return 0;
	if (!addr_ok(addr, len))
		return -EFAULT;
	n = process_vm_readv(gp->pid, &l, 1, &r, 1, 0);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

/*
 * Read n windows of len bytes at addrs[i] into buf + i * len; ok[i] says which
 * did. process_vm_readv stops at the first remote iovec that faults and never
 * splits one, so each call either finishes the batch or tells exactly which
 * window failed; we skip it and go on. Fatal errors (-ESRCH, -EPERM) abort.
 */
static int mem_read_batch(const struct goproc *gp, const uint64_t *addrs, size_t n, size_t len,
			  uint8_t *buf, bool *ok)
{
	struct iovec l[READ_BATCH], r[READ_BATCH];
	size_t i = 0;

	while (i < n) {
		size_t k = 0, j, done;
		ssize_t got;

		/* skip windows we know are bad without asking the kernel */
		while (i < n && !addr_ok(addrs[i], len))
			ok[i++] = false;
		if (i >= n)
			break;
		for (j = i; j < n && k < READ_BATCH && addr_ok(addrs[j], len); j++, k++) {
			l[k].iov_base = buf + j * len;
			l[k].iov_len = len;
			r[k].iov_base = (void *)(uintptr_t)addrs[j];
			r[k].iov_len = len;
		}
		got = process_vm_readv(gp->pid, l, k, r, k, 0);
		if (got < 0) {
			if (errno != EFAULT)
				return -errno;
			got = 0;
		}
		done = (size_t)got / len;
		for (j = 0; j < done; j++)
			ok[i + j] = true;
		i += done;
		if (done < k)
			ok[i++] = false;
	}
	return 0;
}

static uint64_t get_uint(const uint8_t *p, uint32_t size)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < size && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int64_t get_int(const uint8_t *p, uint32_t size)
{
	uint64_t v = get_uint(p, size);

	if (size > 0 && size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~0ull << (8 * size);
	return (int64_t)v;
}

/* Field fid of a struct copied into buf of buflen bytes; 0 if absent or out of it. */
static uint64_t fld_u(const struct goproc *gp, enum gp_field_id fid, const uint8_t *buf,
		      size_t buflen)
{
	const struct gp_field *f = &gp->f[fid];

	if (!f->ok || f->off > buflen || f->size > buflen - f->off)
		return 0;
	return get_uint(buf + f->off, f->size);
}

static int64_t fld_i(const struct goproc *gp, enum gp_field_id fid, const uint8_t *buf,
		     size_t buflen)
{
	const struct gp_field *f = &gp->f[fid];

	if (!f->ok || f->off > buflen || f->size > buflen - f->off)
		return 0;
	return get_int(buf + f->off, f->size);
}

/* Element i of array field fid; 0 out of range. */
static uint64_t fld_elem(const struct goproc *gp, enum gp_field_id fid, uint32_t i,
			 const uint8_t *buf, size_t buflen)
{
	const struct gp_field *f = &gp->f[fid];
	uint64_t off;

	if (!f->ok || i >= f->count)
		return 0;
	off = f->off + (uint64_t)i * f->stride;
	if (off > buflen || f->size > buflen - off)
		return 0;
	return get_uint(buf + off, f->size);
}

/* Runtime address of global s. */
static uint64_t sym_addr(const struct goproc *gp, enum gp_sym s)
{
	return gp->sym[s].addr + gp->bias;
}

/*
 * Copy a whole runtime global (its .symtab size, capped) into a new buffer:
 * one read instead of one per field, and field offsets get checked against
 * the object's real size.
 */
static int sym_read(const struct goproc *gp, enum gp_sym s, uint8_t **ret, size_t *ret_len)
{
	uint64_t size = gp->sym[s].size;
	uint8_t *buf;
	int err;

	if (!gp->sym[s].ok)
		return -ENOENT;
	if (!size || size > OBJ_MAX)
		return -E2BIG;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	err = mem_read(gp, sym_addr(gp, s), buf, size);
	if (err) {
		free(buf);
		return err;
	}
	*ret = buf;
	*ret_len = size;
	return 0;
}

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
static int layout_from_dwarf(struct goproc *gp, Elf *elf)
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
					if (!have[i] && !strcmp(n, type_names[i])) {
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
			return set_reason(gp, -ENOTSUP, "DWARF has no type %s", type_names[i]);
		}
	}
	for (i = 0; i < F_NR; i++) {
		struct gp_field *f = &gp->f[i];
		bool is_array = field_defs[i].need & NEED_ARRAY;
		bool big = field_defs[i].need & NEED_BIG;

		memset(f, 0, sizeof(*f));
		if (!have[field_defs[i].type] ||
		    !field_resolve_def(&types[field_defs[i].type], &field_defs[i], f))
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
static const struct gp_field *builtin_table(int major, int minor, int machine)
{
	size_t i;

	if (major != 1 || machine != EM_X86_64)
		return NULL;
	for (i = 0; i < sizeof(go_layouts_amd64) / sizeof(go_layouts_amd64[0]); i++)
		if (go_layouts_amd64[i].minor == minor)
			return go_layouts_amd64[i].f;
	return NULL;
}

/* ---- symbols, load bias ---- */

static int symtab_load(struct goproc *gp, Elf *elf)
{
	Elf_Scn *scn = NULL;
	bool have_symtab = false;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			return -EINVAL;
		have_symtab = true;
		n = d->d_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym s;
			const char *name;
			unsigned k;

			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_OBJECT)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name)
				continue;
			for (k = 0; k < S_NR; k++) {
				if (!gp->sym[k].ok && (!strcmp(name, sym_names[k]) ||
				    (sym_alt_names[k] && !strcmp(name, sym_alt_names[k])))) {
					gp->sym[k].ok = true;
					gp->sym[k].addr = s.st_value;
					gp->sym[k].size = s.st_size;
				}
			}
		}
		break;
	}
	return have_symtab ? 0 : -ENOENT;
}

/*
 * No .symtab (-ldflags=-s): the globals the code-based rules of govars.c
 * find. 0 if the goroutine walk's are there (the rest is checked per query,
 * whose reason then names what is missing), else -ENOENT with the reason.
 */
static int syms_from_code(struct goproc *gp, const char *exe)
{
	static const struct { enum govar v; enum gp_sym s; } located[] = {
		{ GOVAR_ALLGS, S_ALLGS },
		{ GOVAR_ALLGLEN, S_ALLGLEN },
		{ GOVAR_MEMPROFILERATE, S_MEMPROFILERATE },
		{ GOVAR_MBUCKETS, S_MBUCKETS },
		{ GOVAR_MPROFCYCLE, S_MPROFCYCLE },
		{ GOVAR_WAITREASONS, S_WAITREASONS },
		{ GOVAR_MEMSTATS, S_MEMSTATS },
		{ GOVAR_CLASS_TO_SIZE, S_CLASS_TO_SIZE },
		{ GOVAR_ALLP, S_ALLP },
		{ GOVAR_GCCONTROLLER, S_GCCONTROLLER },
	};
	char why[GOVARS_REASON_LEN];
	int err = 0;

	gp->no_symtab = true;
	for (size_t i = 0; i < sizeof(located) / sizeof(located[0]); i++) {
		struct gp_symbol *sym = &gp->sym[located[i].s];
		int e = govars__locate(exe, gp->bin, located[i].v, &sym->addr, &sym->size, why,
				       sizeof(why));

		sym->ok = e == 0;
		if (e && !err && (located[i].s == S_ALLGS || located[i].s == S_ALLGLEN))
			err = set_reason(gp, -ENOENT, "no .symtab (stripped with -s?) and %s", why);
	}
	return err;
}

/*
 * A PIE's load bias: the lowest mapping of the executable file, and the
 * PT_LOAD segment that holds the file offset it maps.
 */
static int bias_load(struct goproc *gp, Elf *elf, const struct stat *exe_st, const char *exe)
{
	struct ms_maps maps = { 0 };
	const struct ms_map *m = NULL;
	GElf_Ehdr eh;
	size_t i, nph;
	int err;

	if (!gelf_getehdr(elf, &eh))
		return -EINVAL;
	gp->elf_machine = eh.e_machine;
	if (eh.e_type != ET_DYN)
		return 0;
	err = procfs__read_maps("/proc", gp->pid, &maps);
	if (err)
		return err;
	for (i = 0; i < maps.n; i++) {
		const struct ms_map *c = &maps.v[i];

		if ((c->inode == exe_st->st_ino || (c->path && !strcmp(c->path, exe))) &&
		    (!m || c->start < m->start))
			m = c;
	}
	err = -ENOENT;
	if (m && !elf_getphdrnum(elf, &nph)) {
		for (i = 0; i < nph && i < GO_MAX_PHDRS; i++) {
			GElf_Phdr ph;
			uint64_t seg_off;

			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			seg_off = ph.p_offset & ~0xfffull;
			if (m->pgoff < seg_off || m->pgoff >= ph.p_offset + ph.p_filesz)
				continue;
			gp->bias = m->start - (ph.p_vaddr - ph.p_offset + m->pgoff);
			err = 0;
			break;
		}
	}
	ms_maps__free(&maps);
	return err;
}

/* Which required globals are missing for a query; NULL if none. */
static const char *missing_sym(const struct goproc *gp, const enum gp_sym *need, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!gp->sym[need[i]].ok)
			return sym_names[need[i]];
	return NULL;
}

static const enum gp_sym g_syms[] = { S_ALLGS, S_ALLGLEN };
static const enum gp_sym heap_syms[] = { S_MEMSTATS, S_CLASS_TO_SIZE };
static const enum gp_sym prof_syms[] = { S_MBUCKETS, S_MEMPROFILERATE };

static int check_ready(struct goproc *gp, unsigned need)
{
	const char *ms;
	unsigned i;

	if (gp->status)
		return gp->status;
	if (need & NEED_G)
		ms = missing_sym(gp, g_syms, 2);
	else if (need & NEED_HEAP)
		ms = missing_sym(gp, heap_syms, 2);
	else
		ms = missing_sym(gp, prof_syms, 2);
	if (ms)
		return set_reason(gp, -ENOENT, gp->no_symtab ? "no .symtab (stripped with -s?), and "
				  "%s is not found from code yet" : "%s is not in .symtab", ms);
	for (i = 0; i < F_NR; i++) {
		const struct gp_field *f = &gp->f[i];

		if (!(field_defs[i].need & need))
			continue;
		if (!f->ok || ((field_defs[i].need & NEED_ARRAY) && !f->count))
			return set_reason(gp, -ENOTSUP, "%s layout has no field %s.%s",
					  gp->layout == GOPROC_LAYOUT_DWARF ? "DWARF" : "built-in",
					  type_names[field_defs[i].type], field_defs[i].path);
	}
	gp->reason[0] = '\0';
	return 0;
}

/* The end of the last field of type t the layout names. */
static uint64_t layout_end(const struct goproc *gp, enum gp_type t)
{
	uint64_t size = 0;

	for (unsigned i = 0; i < F_NR; i++) {
		const struct gp_field *f = &gp->f[i];
		uint64_t end = f->off + (f->count ? (uint64_t)f->count * f->stride : f->size);

		if (f->ok && field_defs[i].type == t && end > size)
			size = end;
	}
	return size;
}

/*
 * Globals located from code have no .symtab size: memstats and gcController
 * are read up to the end of the last field the layout names, the size class
 * table has one uint16 per size class.
 */
static void sizes_from_layout(struct goproc *gp)
{
	struct gp_symbol *ms = &gp->sym[S_MEMSTATS], *cs = &gp->sym[S_CLASS_TO_SIZE];
	struct gp_symbol *gc = &gp->sym[S_GCCONTROLLER];

	if (!gp->no_symtab)
		return;
	if (ms->ok && !ms->size)
		ms->size = layout_end(gp, T_MSTATS);
	if (gc->ok && !gc->size)
		gc->size = layout_end(gp, T_GCC);
	if (cs->ok && !cs->size)
		cs->size = (uint64_t)gp->f[F_HSD_SMALLALLOCCOUNT].count * 2;
}

static void open_checks(struct goproc *gp, Elf *elf, int symerr)
{
	const struct gp_field *tab;
	const char *ms;
	int err;

	if (symerr) {
		if (!gp->no_symtab)
			set_reason(gp, symerr, ".symtab does not read: %s", strerror(-symerr));
		gp->status = symerr;
		return;
	}
	ms = missing_sym(gp, g_syms, 2);
	/* located from code: the heap's globals are checked by the queries that need them */
	if (!ms && !gp->no_symtab)
		ms = missing_sym(gp, heap_syms, 2);
	if (ms) {
		gp->status = set_reason(gp, -ENOENT, "%s is not in .symtab", ms);
		return;
	}
	err = layout_from_dwarf(gp, elf);
	if (!err) {
		gp->layout = GOPROC_LAYOUT_DWARF;
		sizes_from_layout(gp);
		return;
	}
	/* DWARF without the runtime's types (partly stripped): the table may still do */
	tab = gp->have_ver ? builtin_table(gp->ver.major, gp->ver.minor, gp->elf_machine) : NULL;
	if (tab) {
		memcpy(gp->f, tab, sizeof(gp->f));
		gp->layout = GOPROC_LAYOUT_BUILTIN;
		gp->reason[0] = '\0';
		sizes_from_layout(gp);
		return;
	}
	if (err == -ENOENT)
		err = set_reason(gp, -ENOTSUP,
				 "no DWARF (built with -ldflags=-w?) and no built-in layout for %s "
				 "on ELF machine %d", gp->have_ver ? gp->ver.str : "an unknown Go",
				 gp->elf_machine);
	gp->status = err;
}

struct goproc *goproc__open(pid_t pid)
{
	char exe[64], target[PATH_MAX];
	struct goproc *gp;
	struct stat st;
	Elf *elf = NULL;
	ssize_t tl;
	int fd = -1, err, symerr;

	if (pid <= 0) {
		errno = EINVAL;
		return NULL;
	}
	gp = calloc(1, sizeof(*gp));
	if (!gp)
		return NULL;
	gp->pid = pid;
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	tl = readlink(exe, target, sizeof(target) - 1);
	if (tl < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto fail;
	}
	target[tl] = '\0';
	/* maps prints a deleted file with this suffix stripped by procfs */
	if (tl > 10 && !strcmp(target + tl - 10, " (deleted)"))
		target[tl - 10] = '\0';
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto fail;
	}
	gp->bin = go_binary__open(exe);
	if (!gp->bin) {
		err = -errno;
		goto fail;
	}
	/* the layout table is chosen by it: also without .go.buildinfo */
	gp->have_ver = govars__version(exe, gp->bin, &gp->ver) == 0;
	/* an unknown release may be a new one: its statuses are allowed */
	gp->max_gstatus = gp->have_ver && gp->ver.major == 1 && gp->ver.minor < 26 ?
			  G_MAXSTATUS : G_MAXSTATUS_126;
	/*
	 * Up to 1.22 a bucket holds at most maxStack (32) PCs; 1.23 made the
	 * depth debug.profstackdepth (default 128, +2 for the skipped frames),
	 * capped by maxProfStackDepth (1024): what bucket.stk() throws beyond.
	 */
	gp->prof_max_stack = gp->have_ver && gp->ver.major == 1 && gp->ver.minor <= 22 ?
			     GOPROC_PROF_MAX_STACK_122 : GOPROC_PROF_MAX_STACK;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -EINVAL;
		goto fail;
	}
	err = bias_load(gp, elf, &st, target);
	if (err == -ENOENT) {
		gp->status = set_reason(gp, -ENOENT, "%s is not mapped in process %d", target,
					(int)pid);
	} else if (err) {
		goto fail;
	}
	if (!gp->status) {
		symerr = symtab_load(gp, elf);
		if (symerr == -ENOENT)
			symerr = syms_from_code(gp, exe);
		open_checks(gp, elf, symerr);
	}
	elf_end(elf);
	close(fd);
	return gp;
fail:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	goproc__close(gp);
	errno = -err;
	return NULL;
}

void goproc__close(struct goproc *gp)
{
	if (!gp)
		return;
	go_binary__close(gp->bin);
	free(gp);
}

int goproc__status(const struct goproc *gp)
{
	return gp->status;
}

const char *goproc__reason(const struct goproc *gp)
{
	return gp->reason;
}

enum goproc_layout goproc__layout(const struct goproc *gp)
{
	return gp->layout;
}

uint64_t goproc__load_bias(const struct goproc *gp)
{
	return gp->bias;
}

int goproc__version(const struct goproc *gp, struct go_version *ret)
{
	if (!gp->have_ver)
		return -ENOENT;
	*ret = gp->ver;
	return 0;
}

unsigned goproc__nr_fields(void)
{
	return F_NR;
}

static void field_export(const struct gp_field *f, unsigned i, struct goproc_field *ret)
{
	ret->type = type_names[field_defs[i].type];
	ret->path = field_defs[i].path;
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
	struct goproc *gp;
	Elf *elf = NULL;
	unsigned i;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	gp = calloc(1, sizeof(*gp));
	elf_version(EV_CURRENT);
	if (gp)
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!gp)
		err = -ENOMEM;
	else if (!elf || elf_kind(elf) != ELF_K_ELF)
		err = -EINVAL;
	else
		err = layout_from_dwarf(gp, elf);
	for (i = 0; !err && i < n && i < F_NR; i++)
		field_export(&gp->f[i], i, &ret[i]);
	elf_end(elf);	/* NULL-safe */
	close(fd);
	free(gp);
	return err;
}

int goproc__builtin_field(int go_major, int go_minor, int elf_machine, unsigned i,
			  struct goproc_field *ret)
{
	const struct gp_field *tab = builtin_table(go_major, go_minor, elf_machine);

	if (i >= F_NR)
		return -ERANGE;
	if (!tab)
		return -ENOTSUP;
	field_export(&tab[i], i, ret);
	return 0;
}

/* ---- Ps: free g counts and mcaches ---- */

/* runtime.allp's element pointers, at most GOPROC_MAX_PROCS. */
static int allp_read(struct goproc *gp, uint64_t **ret, size_t *ret_n)
{
	uint8_t hdr[24];
	uint64_t arr, len, cap, *ps;
	int err;

	if (!gp->sym[S_ALLP].ok)
		return -ENOENT;
	err = mem_read(gp, sym_addr(gp, S_ALLP), hdr, sizeof(hdr));
	if (err)
		return err;
	arr = get_uint(hdr, 8);
	len = get_uint(hdr + 8, 8);
	cap = get_uint(hdr + 16, 8);
	if (len > cap || len > GOPROC_MAX_PROCS || (len && !addr_ok(arr, len * 8)))
		return -E2BIG;
	ps = calloc(len ? len : 1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	err = mem_read(gp, arr, ps, len * 8);
	if (err) {
		free(ps);
		return err;
	}
	*ret = ps;
	*ret_n = len;
	return 0;
}

/* NumGoroutine()'s gcount() over the same counters the runtime uses. */
static int gcount_read(struct goproc *gp, uint64_t allglen, int64_t *ret)
{
	const struct gp_field *pn = &gp->f[F_P_GFREE_N];
	uint64_t *ps = NULL, *addrs = NULL;
	uint8_t *sched = NULL, *pbuf = NULL;
	size_t slen, np = 0, i;
	bool *ok = NULL;
	int64_t n;
	int err;

	if (!gp->f[F_SCHED_NGSYS].ok || !gp->f[F_SCHED_GFREE_N].ok || !pn->ok)
		return -ENOTSUP;
	err = sym_read(gp, S_SCHED, &sched, &slen);
	if (err)
		return err;
	/* 1.25+ counts the free g's in two lists: gFree.stack and gFree.noStack */
	n = (int64_t)allglen - (int32_t)fld_i(gp, F_SCHED_GFREE_N, sched, slen) -
	    (int32_t)fld_i(gp, F_SCHED_GFREE_NOSTACK, sched, slen) -
	    (int32_t)fld_u(gp, F_SCHED_NGSYS, sched, slen);
	err = allp_read(gp, &ps, &np);
	if (err)
		goto out;
	addrs = calloc(np ? np : 1, sizeof(*addrs));
	ok = calloc(np ? np : 1, sizeof(*ok));
	pbuf = calloc(np ? np : 1, pn->size);
	if (!addrs || !ok || !pbuf) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < np; i++)
		addrs[i] = ps[i] ? ps[i] + pn->off : 0;
	err = mem_read_batch(gp, addrs, np, pn->size, pbuf, ok);
	if (err)
		goto out;
	for (i = 0; i < np; i++) {
		if (!ok[i]) {
			err = -EFAULT;
			goto out;
		}
		n -= (int32_t)get_int(pbuf + i * pn->size, pn->size);
	}
	*ret = n < 1 ? 1 : n;
out:
	free(sched);
	free(ps);
	free(addrs);
	free(ok);
	free(pbuf);
	return err;
}

/* ---- goroutines ---- */

struct ggroup {
	uint64_t pc;
	uint64_t count, system;
	uint64_t by_state[GOPROC_G_NR];
	uint32_t wr[GOPROC_MAX_WAIT_REASONS];
	bool is_system;		/* by start function (start table only) */
};

/* Open-addressing pc -> group table, growing up to max entries. */
struct gtab {
	struct ggroup *v;
	size_t n, cap, max;
	uint32_t *slot;		/* index + 1; 0 = empty */
	size_t mask;
};

static size_t pc_hash(uint64_t pc)
{
	pc ^= pc >> 33;
	pc *= 0xff51afd7ed558ccdull;
	pc ^= pc >> 33;
	return (size_t)pc;
}

static int gtab_grow(struct gtab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64, i;
	struct ggroup *nv;
	uint32_t *ns;

	if (ncap > t->max)
		ncap = t->max;
	if (ncap <= t->cap)
		return -ENOSPC;
	nv = realloc(t->v, ncap * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->v = nv;
	ns = calloc(ncap * 2, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	free(t->slot);
	t->slot = ns;
	t->cap = ncap;
	t->mask = ncap * 2 - 1;
	for (i = 0; i < t->n; i++) {
		size_t h = pc_hash(t->v[i].pc) & t->mask;

		while (t->slot[h])
			h = (h + 1) & t->mask;
		t->slot[h] = (uint32_t)(i + 1);
	}
	return 0;
}

/* Group of pc; created if new; NULL when full (ret_err 0) or out of memory. */
static struct ggroup *gtab_get(struct gtab *t, uint64_t pc, bool *ret_new, int *ret_err)
{
	size_t h;

	*ret_new = false;
	*ret_err = 0;
	if (t->cap) {
		for (h = pc_hash(pc) & t->mask; t->slot[h]; h = (h + 1) & t->mask)
			if (t->v[t->slot[h] - 1].pc == pc)
				return &t->v[t->slot[h] - 1];
	}
	if (t->n >= t->cap) {
		int err = gtab_grow(t);

		if (err) {
			*ret_err = err == -ENOSPC ? 0 : err;
			return NULL;
		}
	}
	for (h = pc_hash(pc) & t->mask; t->slot[h]; h = (h + 1) & t->mask)
		;
	t->slot[h] = (uint32_t)(t->n + 1);
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	t->v[t->n].pc = pc;
	*ret_new = true;
	return &t->v[t->n++];
}

static void gtab_free(struct gtab *t)
{
	free(t->v);
	free(t->slot);
}

/* isSystemGoroutine(g, false) by the name of the start function. */
static bool start_is_system(struct goproc *gp, uint64_t startpc)
{
	struct go_func_info fi;

	if (startpc < gp->bias || go_binary__lookup(gp->bin, startpc - gp->bias, &fi) ||
	    !fi.name)
		return false;
	return !strncmp(fi.name, "runtime.", 8) && strcmp(fi.name, "runtime.main") &&
	       strcmp(fi.name, "runtime.handleAsyncEvent");
}

/*
 * runtime.waitReasonStrings, read once from the target so the strings match
 * its release (the enum changes between releases). Best effort.
 */
static void wait_reasons_load(struct goproc *gp)
{
	uint8_t hdrs[GOPROC_MAX_WAIT_REASONS * 16];
	uint64_t n;
	unsigned i;

	if (gp->wr_loaded)
		return;
	gp->wr_loaded = true;
	if (!gp->sym[S_WAITREASONS].ok)
		return;
	n = gp->sym[S_WAITREASONS].size / 16;
	if (n > GOPROC_MAX_WAIT_REASONS)
		n = GOPROC_MAX_WAIT_REASONS;
	if (mem_read(gp, sym_addr(gp, S_WAITREASONS), hdrs, n * 16))
		return;
	for (i = 0; i < n; i++) {
		uint64_t p = get_uint(hdrs + i * 16, 8), len = get_uint(hdrs + i * 16 + 8, 8);

		if (len >= GOPROC_WAIT_REASON_LEN)
			len = GOPROC_WAIT_REASON_LEN - 1;
		if (len && mem_read(gp, p, gp->wr[i], len))
			len = 0;
		gp->wr[i][len] = '\0';
	}
	gp->nr_wr = (unsigned)n;
}

static int state_of(uint32_t st)
{
	switch (st) {
	case G_RUNNING:
		return GOPROC_G_RUNNING;
	case G_RUNNABLE:
		return GOPROC_G_RUNNABLE;
	case G_WAITING:
	case G_LEAKED:
		return GOPROC_G_WAITING;
	case G_SYSCALL:
		return GOPROC_G_SYSCALL;
	default:
		return GOPROC_G_OTHER;
	}
}

static void group_add(struct ggroup *grp, int state, bool sys, unsigned wr)
{
	grp->count++;
	grp->system += sys;
	grp->by_state[state]++;
	if (state == GOPROC_G_WAITING && wr < GOPROC_MAX_WAIT_REASONS)
		grp->wr[wr]++;
}

struct walk {
	struct gtab creators, starts;
	uint32_t win_off, win_len;	/* window of g read per goroutine */
};

/* Account one g whose window was read into w. */
static int walk_one(struct goproc *gp, struct walk *wk, const uint8_t *w,
		    struct goproc_goroutines *res)
{
	uint32_t st = (uint32_t)get_uint(w + gp->f[F_G_STATUS].off - wk->win_off,
					 gp->f[F_G_STATUS].size) & ~G_SCANBIT;
	uint64_t gopc, startpc;
	struct ggroup *cg, *sg;
	unsigned wr;
	bool sys, isnew;
	int state, err;

	if (st > gp->max_gstatus) {
		res->unreadable++;
		return 0;
	}
	if (st == G_DEAD || st == G_IDLE || st == G_DEADEXTRA) {
		res->dead++;
		return 0;
	}
	gopc = get_uint(w + gp->f[F_G_GOPC].off - wk->win_off, gp->f[F_G_GOPC].size);
	startpc = get_uint(w + gp->f[F_G_STARTPC].off - wk->win_off, gp->f[F_G_STARTPC].size);
	wr = (unsigned)get_uint(w + gp->f[F_G_WAITREASON].off - wk->win_off,
				gp->f[F_G_WAITREASON].size);
	state = state_of(st);

	sg = gtab_get(&wk->starts, startpc, &isnew, &err);
	if (err)
		return err;
	if (sg && isnew)
		sg->is_system = start_is_system(gp, startpc);
	sys = sg ? sg->is_system : start_is_system(gp, startpc);
	cg = gtab_get(&wk->creators, gopc, &isnew, &err);
	if (err)
		return err;

	res->live++;
	res->by_state[state]++;
	if (sys)
		res->system++;
	else
		res->user++;
	if (sg)
		group_add(sg, state, sys, wr);
	if (cg)
		group_add(cg, state, sys, wr);
	if (!sg || !cg)
		res->ungrouped++;
	return 0;
}

static int group_cmp(const void *a, const void *b)
{
	const struct goproc_group *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* Public groups from a table; creation sites are looked up at pc - 1. */
static int groups_export(struct goproc *gp, const struct gtab *t, bool creator,
			 struct goproc_group **ret, size_t *ret_n)
{
	struct goproc_group *v;
	size_t i;

	v = calloc(t->n ? t->n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		const struct ggroup *g = &t->v[i];
		struct goproc_group *o = &v[i];
		struct go_func_info fi;
		uint64_t pc = g->pc;
		unsigned k;

		o->pc = pc;
		o->count = g->count;
		o->system = g->system;
		memcpy(o->by_state, g->by_state, sizeof(o->by_state));
		if (creator && pc)
			pc--;
		if (pc >= gp->bias && !go_binary__lookup(gp->bin, pc - gp->bias, &fi)) {
			o->func = fi.name;
			o->file = fi.file;
			o->line = fi.line;
		}
		o->top_wait_reason = -1;
		for (k = 0; k < GOPROC_MAX_WAIT_REASONS; k++) {
			if (g->wr[k] > o->top_wait_count) {
				o->top_wait_count = g->wr[k];
				o->top_wait_reason = (int)k;
			}
		}
		if (o->top_wait_reason >= 0 && (unsigned)o->top_wait_reason < gp->nr_wr &&
		    gp->wr[o->top_wait_reason][0])
			o->top_wait_reason_str = gp->wr[o->top_wait_reason];
	}
	qsort(v, t->n, sizeof(*v), group_cmp);
	*ret = v;
	*ret_n = t->n;
	return 0;
}

/* Walk g pointers gs[0..n): read each g's window in batches. */
static int walk_chunk(struct goproc *gp, struct walk *wk, const uint64_t *gs, size_t n,
		      uint8_t *buf, uint64_t *addrs, bool *ok, struct goproc_goroutines *res)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++)
		addrs[i] = gs[i] && !(gs[i] & 7) ? gs[i] + wk->win_off : 0;
	err = mem_read_batch(gp, addrs, n, wk->win_len, buf, ok);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (!ok[i]) {
			res->unreadable++;
			continue;
		}
		err = walk_one(gp, wk, buf + i * wk->win_len, res);
		if (err)
			return err;
	}
	return 0;
}

int goproc__goroutines(struct goproc *gp, const struct goproc_opts *opts,
		       struct goproc_goroutines **ret)
{
	static const enum gp_field_id gf[] = { F_G_STATUS, F_G_WAITREASON, F_G_GOPC, F_G_STARTPC };
	uint64_t max_g = opts && opts->max_goroutines ? opts->max_goroutines :
			 GOPROC_MAX_GOROUTINES;
	uint32_t max_groups = opts && opts->max_groups ? opts->max_groups : GOPROC_MAX_GROUPS;
	struct goproc_goroutines *res = NULL;
	struct walk wk = { 0 };
	uint64_t *gs = NULL, *addrs = NULL;
	uint8_t hdr[24], lenbuf[8], *buf = NULL;
	uint64_t arr, len, cap, n, done;
	bool *ok = NULL;
	uint32_t lo = UINT32_MAX, hi = 0;
	size_t i;
	int err;

	*ret = NULL;
	err = check_ready(gp, NEED_G);
	if (err)
		return err;
	for (i = 0; i < sizeof(gf) / sizeof(gf[0]); i++) {
		const struct gp_field *f = &gp->f[gf[i]];

		if (f->size > 8)
			return set_reason(gp, -ENOTSUP, "runtime.g.%s is %u bytes",
					  field_defs[gf[i]].path, f->size);
		if (f->off < lo)
			lo = f->off;
		if (f->off + f->size > hi)
			hi = f->off + f->size;
	}
	if (hi - lo > WINDOW_MAX)
		return set_reason(gp, -ENOTSUP, "runtime.g fields span %u bytes", hi - lo);
	wk.win_off = lo;
	wk.win_len = hi - lo;
	if (max_groups > GROUPS_HARD_MAX)
		max_groups = GROUPS_HARD_MAX;
	wk.creators.max = wk.starts.max = max_groups;
	wait_reasons_load(gp);

	err = mem_read(gp, sym_addr(gp, S_ALLGS), hdr, sizeof(hdr));
	if (!err)
		err = mem_read(gp, sym_addr(gp, S_ALLGLEN), lenbuf, sizeof(lenbuf));
	if (err)
		return set_reason(gp, err, "cannot read runtime.allgs: %s", strerror(-err));
	arr = get_uint(hdr, 8);
	len = get_uint(hdr + 8, 8);
	cap = get_uint(hdr + 16, 8);
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	res->allglen = get_uint(lenbuf, 8);
	/* allglen is stored after the append: the slice may be a little ahead */
	if (len > cap || len > USER_ADDR_MAX / 8 || (len && !addr_ok(arr, len * 8))) {
		err = set_reason(gp, -E2BIG, "runtime.allgs is not a slice: len %llu cap %llu",
				 (unsigned long long)len, (unsigned long long)cap);
		goto out;
	}
	n = res->allglen < len ? res->allglen : len;
	if (n > max_g) {
		n = max_g;
		res->truncated = true;
	}

	gs = malloc(ALLGS_CHUNK * sizeof(*gs));
	addrs = malloc(ALLGS_CHUNK * sizeof(*addrs));
	ok = malloc(ALLGS_CHUNK * sizeof(*ok));
	buf = malloc((size_t)ALLGS_CHUNK * wk.win_len);
	if (!gs || !addrs || !ok || !buf) {
		err = -ENOMEM;
		goto out;
	}
	for (done = 0; done < n; done += i) {
		i = n - done < ALLGS_CHUNK ? n - done : ALLGS_CHUNK;
		/*
		 * If allgs grows meanwhile, we keep reading the old array: it stays
		 * mapped (heap memory), and the g's it names are never freed.
		 */
		err = mem_read(gp, arr + done * 8, gs, i * 8);
		if (err) {
			err = set_reason(gp, err, "runtime.allgs[%llu..] does not read: %s",
					 (unsigned long long)done, strerror(-err));
			goto out;
		}
		err = walk_chunk(gp, &wk, gs, i, buf, addrs, ok, res);
		if (err)
			goto out;
		res->walked += i;
	}

	res->gcount_err = gcount_read(gp, res->allglen, &res->gcount);
	err = groups_export(gp, &wk.creators, true, &res->by_creator, &res->nr_by_creator);
	if (!err)
		err = groups_export(gp, &wk.starts, false, &res->by_start, &res->nr_by_start);
out:
	free(gs);
	free(addrs);
	free(ok);
	free(buf);
	gtab_free(&wk.creators);
	gtab_free(&wk.starts);
	if (err) {
		goproc_goroutines__free(res);
		return err;
	}
	*ret = res;
	return 0;
}

void goproc_goroutines__free(struct goproc_goroutines *g)
{
	if (!g)
		return;
	free(g->by_creator);
	free(g->by_start);
	free(g);
}

/* ---- heap ---- */

struct hstats {
	int64_t committed, released, in_heap, in_stacks, in_workbufs, in_ptrbits;
	uint64_t tiny, large_alloc, large_alloc_n, large_free, large_free_n;
	uint64_t small_alloc[SIZECLASS_MAX], small_free[SIZECLASS_MAX];
};

/* Sum memstats.heapStats.stats[0..count): what consistentHeapStats.unsafeRead does. */
static void hstats_sum(const struct goproc *gp, const uint8_t *ms, size_t mslen, uint32_t nclass,
		       struct hstats *h)
{
	const struct gp_field *arr = &gp->f[F_MS_HEAPSTATS];
	uint32_t gen, c;

	memset(h, 0, sizeof(*h));
	for (gen = 0; gen < arr->count; gen++) {
		uint64_t off = arr->off + (uint64_t)gen * arr->stride;
		const uint8_t *d = ms + off;
		size_t dl;

		if (off > mslen || arr->stride > mslen - off)
			break;
		dl = arr->stride;
		h->committed += fld_i(gp, F_HSD_COMMITTED, d, dl);
		h->released += fld_i(gp, F_HSD_RELEASED, d, dl);
		h->in_heap += fld_i(gp, F_HSD_INHEAP, d, dl);
		h->in_stacks += fld_i(gp, F_HSD_INSTACKS, d, dl);
		h->in_workbufs += fld_i(gp, F_HSD_INWORKBUFS, d, dl);
		h->in_ptrbits += fld_i(gp, F_HSD_INPTRSCALARBITS, d, dl);
		h->tiny += fld_u(gp, F_HSD_TINYALLOCCOUNT, d, dl);
		h->large_alloc += fld_u(gp, F_HSD_LARGEALLOC, d, dl);
		h->large_alloc_n += fld_u(gp, F_HSD_LARGEALLOCCOUNT, d, dl);
		h->large_free += fld_u(gp, F_HSD_LARGEFREE, d, dl);
		h->large_free_n += fld_u(gp, F_HSD_LARGEFREECOUNT, d, dl);
		for (c = 0; c < nclass; c++) {
			h->small_alloc[c] += fld_elem(gp, F_HSD_SMALLALLOCCOUNT, c, d, dl);
			h->small_free[c] += fld_elem(gp, F_HSD_SMALLFREECOUNT, c, d, dl);
		}
	}
}

/*
 * Slots the P caches handed out but the counters do not have yet: since
 * 1.18 a cached span's allocations are counted when it is uncached
 * (allocCount - allocCountBeforeCache); 1.17 counted the whole span at
 * refill, so there the unused slots are subtracted. Adds to h; returns the
 * bytes involved (signed: negative on 1.17). Best effort: a P or span that
 * does not read is skipped.
 */
static int mcache_adjust(struct goproc *gp, uint32_t nclass, const uint16_t *class_size,
			 struct hstats *h, int64_t *ret_bytes)
{
	const struct gp_field *pm = &gp->f[F_P_MCACHE], *al = &gp->f[F_MC_ALLOC];
	const struct gp_field *sf[4] = { &gp->f[F_SP_ALLOCCOUNT], &gp->f[F_SP_ALLOCCOUNT_BC],
					 &gp->f[F_SP_ELEMSIZE], &gp->f[F_SP_NELEMS] };
	bool before_cache = sf[1]->ok;
	uint64_t *ps = NULL, spans[SPANCLASS_MAX], empty = 0;
	uint8_t *mc = NULL, *sbuf = NULL;
	bool sok[SPANCLASS_MAX];
	uint32_t lo = UINT32_MAX, hi = 0, mclen, nspc, k;
	size_t np = 0, i;
	int64_t bytes = 0;
	int err;

	if (!pm->ok || !al->ok || al->count > SPANCLASS_MAX || al->size != 8 || !sf[0]->ok ||
	    !sf[2]->ok || !sf[3]->ok)
		return -ENOTSUP;
	for (k = 0; k < 4; k++) {
		if (!sf[k]->ok)
			continue;
		if (sf[k]->size > 8)
			return -ENOTSUP;
		lo = sf[k]->off < lo ? sf[k]->off : lo;
		hi = sf[k]->off + sf[k]->size > hi ? sf[k]->off + sf[k]->size : hi;
	}
	if (hi - lo > WINDOW_MAX)
		return -ENOTSUP;
	if (gp->sym[S_EMPTYMSPAN].ok)
		empty = sym_addr(gp, S_EMPTYMSPAN);
	nspc = al->count;
	mclen = al->off + nspc * al->stride;
	if (gp->f[F_MC_TINYALLOCS].ok &&
	    gp->f[F_MC_TINYALLOCS].off + gp->f[F_MC_TINYALLOCS].size > mclen)
		mclen = gp->f[F_MC_TINYALLOCS].off + gp->f[F_MC_TINYALLOCS].size;
	err = allp_read(gp, &ps, &np);
	if (err)
		return err;
	mc = malloc(mclen);
	sbuf = malloc((size_t)SPANCLASS_MAX * (hi - lo));
	if (!mc || !sbuf) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < np; i++) {
		uint8_t pbuf[8];
		uint64_t mcp;

		if (!ps[i] || mem_read(gp, ps[i] + pm->off, pbuf, 8))
			continue;
		mcp = get_uint(pbuf, 8);
		if (!mcp || mem_read(gp, mcp, mc, mclen))
			continue;
		h->tiny += fld_u(gp, F_MC_TINYALLOCS, mc, mclen);
		for (k = 0; k < nspc; k++) {
			spans[k] = get_uint(mc + al->off + k * al->stride, 8);
			if (spans[k] == empty)
				spans[k] = 0;
			else if (spans[k])
				spans[k] += lo;
		}
		err = mem_read_batch(gp, spans, nspc, hi - lo, sbuf, sok);
		if (err)
			goto out;
		for (k = 0; k < nspc; k++) {
			const uint8_t *s = sbuf + (size_t)k * (hi - lo);
			uint64_t cnt, bc, elem, nel, cls = k >> 1;

			if (!sok[k] || cls >= nclass)
				continue;
			cnt = get_uint(s + sf[0]->off - lo, sf[0]->size);
			elem = get_uint(s + sf[2]->off - lo, sf[2]->size);
			nel = get_uint(s + sf[3]->off - lo, sf[3]->size);
			if (cnt > nel || elem != class_size[cls])
				continue;	/* not a span of this class: stale or torn */
			if (before_cache) {
				bc = get_uint(s + sf[1]->off - lo, sf[1]->size);
				if (bc > cnt)
					continue;
				h->small_alloc[cls] += cnt - bc;
				bytes += (int64_t)((cnt - bc) * elem);
			} else if (h->small_alloc[cls] >= nel - cnt) {
				h->small_alloc[cls] -= nel - cnt;
				bytes -= (int64_t)((nel - cnt) * elem);
			}
		}
	}
	*ret_bytes = bytes;
out:
	free(ps);
	free(mc);
	free(sbuf);
	return err;
}

/*
 * The runtime's heap goal. 1.17 keeps it in memstats.next_gc, 1.18 in
 * gcController.heapGoal; 1.19+ computes it (heapGoalInternal): the GOGC goal,
 * lowered to the memory-limit goal, raised to the sweep-distance trigger and
 * to 64 KiB past the trigger of a running cycle.
 */
static int next_gc(struct goproc *gp, const uint8_t *ms, size_t mslen, const uint8_t *gc,
		   size_t gclen, uint64_t heap_free, uint64_t heap_alloc, bool have_mapped,
		   uint64_t mapped_ready, uint64_t *ret, const char **ret_why)
{
	const uint64_t min_runway = 64 << 10, min_headroom = 1 << 20;
	uint64_t goal, limit, marked, nonheap, overage, lgoal, headroom, trig;

	if (gp->f[F_MS_NEXT_GC].ok) {
		*ret = fld_u(gp, F_MS_NEXT_GC, ms, mslen);
		return 0;
	}
	if (!gp->f[F_GCC_HEAPGOAL].ok && !gp->f[F_GCC_GCPERCENTHEAPGOAL].ok) {
		*ret_why = "the layout has no heap goal field";
		return -ENOTSUP;
	}
	if (!gc) {
		*ret_why = gp->no_symtab ? "runtime.gcController is not found from code" :
			   "runtime.gcController does not read";
		return -ENOENT;
	}
	if (gp->f[F_GCC_HEAPGOAL].ok) {
		*ret = fld_u(gp, F_GCC_HEAPGOAL, gc, gclen);
		return 0;
	}
	goal = fld_u(gp, F_GCC_GCPERCENTHEAPGOAL, gc, gclen);
	marked = fld_u(gp, F_GCC_HEAPMARKED, gc, gclen);
	if (gp->f[F_GCC_MEMORYLIMIT].ok) {
		int64_t l;

		/* the limit goal needs every mapped byte; without them, no answer */
		if (!have_mapped) {
			*ret_why = "the memory limit goal needs the runtime's total (Sys), "
				   "which is unavailable";
			return -ENOTSUP;
		}
		l = fld_i(gp, F_GCC_MEMORYLIMIT, gc, gclen);

		limit = l < 0 ? 0 : (uint64_t)l;
		nonheap = mapped_ready > heap_free + heap_alloc ?
			  mapped_ready - heap_free - heap_alloc : 0;
		overage = mapped_ready > limit ? mapped_ready - limit : 0;
		if (nonheap + overage >= limit) {
			lgoal = marked;
		} else {
			lgoal = limit - (nonheap + overage);
			headroom = min_headroom;
			/* 1.21 made the headroom 3% of the goal, at least 1 MiB */
			if (gp->have_ver && gp->ver.major == 1 && gp->ver.minor >= 21 &&
			    lgoal / 100 * 3 > headroom)
				headroom = lgoal / 100 * 3;
			if (lgoal < headroom || lgoal - headroom < headroom)
				lgoal = headroom;
			else
				lgoal -= headroom;
			if (lgoal < marked)
				lgoal = marked;
		}
		if (lgoal < goal) {
			*ret = lgoal;
			return 0;
		}
	}
	if (gp->f[F_GCC_SWEEPDISTMINTRIGGER].ok) {
		uint64_t sweep = fld_u(gp, F_GCC_SWEEPDISTMINTRIGGER, gc, gclen);

		if (sweep > goal)
			goal = sweep;
	}
	if (gp->f[F_GCC_TRIGGERED].ok) {
		trig = fld_u(gp, F_GCC_TRIGGERED, gc, gclen);
		if (trig != ~0ull && goal < trig + min_runway)
			goal = trig + min_runway;
	}
	*ret = goal;
	return 0;
}

/*
 * The heap the last GC marked live: gcController.heapMarked, set at mark
 * termination (work.bytesMarked, what gctrace prints third in X->Y->Z MB
 * and runtime/metrics as /gc/heap/live:bytes). 0 before the first GC:
 * then there is no such figure.
 */
static int live_after_gc(const struct goproc *gp, const uint8_t *gc, size_t gclen,
			 uint32_t num_gc, uint64_t *ret, const char **ret_why)
{
	if (!gp->f[F_GCC_HEAPMARKED].ok) {
		*ret_why = "the layout has no gcControllerState.heapMarked";
		return -ENOTSUP;
	}
	if (!gc) {
		*ret_why = gp->no_symtab ? "runtime.gcController is not found from code" :
			   "runtime.gcController does not read";
		return -ENOENT;
	}
	if (!num_gc) {
		*ret_why = "no GC has finished yet";
		return -ENODATA;
	}
	*ret = fld_u(gp, F_GCC_HEAPMARKED, gc, gclen);
	return 0;
}



/* One snapshot; -EAGAIN if it contradicts itself (the target moved under us). */
static int heap_once(struct goproc *gp, const uint16_t *class_size, uint32_t nclass,
		     struct goproc_heap *ret)
{
	uint8_t *ms = NULL, *gc = NULL;
	size_t mslen, gclen = 0;
	struct hstats h;
	uint64_t total_alloc = 0, total_free = 0, nmalloc, nfree, retained, heap_free, c;
	int64_t mc_bytes = 0;
	int err;

	err = sym_read(gp, S_MEMSTATS, &ms, &mslen);
	if (err)
		return set_reason(gp, err, "cannot read runtime.memstats: %s", strerror(-err));
	if (gp->f[F_MS_HEAPSTATS].off + (uint64_t)gp->f[F_MS_HEAPSTATS].count *
	    gp->f[F_MS_HEAPSTATS].stride > mslen) {
		free(ms);
		return set_reason(gp, -EINVAL, "memstats.heapStats lies outside runtime.memstats");
	}
	memset(ret, 0, sizeof(*ret));
	hstats_sum(gp, ms, mslen, nclass, &h);
	if (!mcache_adjust(gp, nclass, class_size, &h, &mc_bytes)) {
		ret->valid |= GOPROC_HEAP_MCACHE;
		ret->mcache_unflushed = mc_bytes > 0 ? (uint64_t)mc_bytes : 0;
	}

	nmalloc = h.large_alloc_n + h.tiny;
	nfree = h.large_free_n + h.tiny;
	total_alloc = h.large_alloc;
	total_free = h.large_free;
	for (c = 0; c < nclass; c++) {
		total_alloc += h.small_alloc[c] * class_size[c];
		total_free += h.small_free[c] * class_size[c];
		nmalloc += h.small_alloc[c];
		nfree += h.small_free[c];
	}
	retained = (uint64_t)(h.committed - h.in_stacks - h.in_workbufs - h.in_ptrbits);
	if (total_free > total_alloc || nfree > nmalloc || h.committed < 0 || h.released < 0 ||
	    h.in_heap < 0 || h.in_stacks < 0 || h.in_workbufs < 0 || h.in_ptrbits < 0 ||
	    h.committed < h.in_stacks + h.in_workbufs + h.in_ptrbits ||
	    retained < (uint64_t)h.in_heap) {
		free(ms);
		return -EAGAIN;
	}
	heap_free = retained - (uint64_t)h.in_heap;
	ret->total_alloc = total_alloc;
	ret->heap_alloc = total_alloc - total_free;
	ret->mallocs = nmalloc;
	ret->frees = nfree;
	ret->heap_objects = nmalloc - nfree;
	ret->heap_inuse = (uint64_t)h.in_heap;
	ret->heap_released = (uint64_t)h.released;
	ret->heap_idle = heap_free + (uint64_t)h.released;
	ret->heap_sys = ret->heap_inuse + ret->heap_idle;
	ret->stack_inuse = (uint64_t)h.in_stacks;
	ret->num_gc = (uint32_t)fld_u(gp, F_MS_NUMGC, ms, mslen);
	if (gp->f[F_MS_STACKS_SYS].ok && gp->f[F_MS_MSPAN_SYS].ok && gp->f[F_MS_MCACHE_SYS].ok &&
	    gp->f[F_MS_BUCKHASH_SYS].ok && gp->f[F_MS_GCMISC_SYS].ok && gp->f[F_MS_OTHER_SYS].ok) {
		ret->sys = ret->heap_sys + fld_u(gp, F_MS_STACKS_SYS, ms, mslen) +
			   fld_u(gp, F_MS_MSPAN_SYS, ms, mslen) +
			   fld_u(gp, F_MS_MCACHE_SYS, ms, mslen) +
			   fld_u(gp, F_MS_BUCKHASH_SYS, ms, mslen) +
			   fld_u(gp, F_MS_GCMISC_SYS, ms, mslen) +
			   fld_u(gp, F_MS_OTHER_SYS, ms, mslen) +
			   (uint64_t)(h.in_stacks + h.in_workbufs + h.in_ptrbits);
		ret->valid |= GOPROC_HEAP_SYS;
	}
	/* best effort: without gcController only the goal and the live heap are missing */
	if (sym_read(gp, S_GCCONTROLLER, &gc, &gclen))
		gc = NULL;
	/* mappedReady is what the runtime keeps equal to Sys - HeapReleased */
	if (!next_gc(gp, ms, mslen, gc, gclen, heap_free, ret->heap_alloc,
		     ret->valid & GOPROC_HEAP_SYS, ret->sys - ret->heap_released, &ret->next_gc,
		     &ret->next_gc_why))
		ret->valid |= GOPROC_HEAP_NEXT_GC;
	if (!live_after_gc(gp, gc, gclen, ret->num_gc, &ret->live_after_last_gc,
			   &ret->live_why))
		ret->valid |= GOPROC_HEAP_LIVE;
	free(gc);
	free(ms);
	return 0;
}

int goproc__heap(struct goproc *gp, struct goproc_heap *ret)
{
	const struct gp_symbol *cs = &gp->sym[S_CLASS_TO_SIZE];
	uint16_t class_size[SIZECLASS_MAX];
	uint8_t raw[SIZECLASS_MAX * 2];
	uint32_t nclass, c;
	int err, tries;

	err = check_ready(gp, NEED_HEAP);
	if (err)
		return err;
	nclass = gp->f[F_HSD_SMALLALLOCCOUNT].count;
	if (nclass > SIZECLASS_MAX || gp->f[F_HSD_SMALLFREECOUNT].count != nclass ||
	    cs->size != (uint64_t)nclass * 2)
		return set_reason(gp, -ENOTSUP, "%u size classes but runtime.class_to_size has "
				  "%llu bytes", nclass, (unsigned long long)cs->size);
	err = mem_read(gp, sym_addr(gp, S_CLASS_TO_SIZE), raw, nclass * 2);
	if (err)
		return set_reason(gp, err, "cannot read runtime.class_to_size: %s",
				  strerror(-err));
	for (c = 0; c < nclass; c++)
		class_size[c] = (uint16_t)get_uint(raw + 2 * c, 2);
	for (tries = 0; tries < HEAP_RETRIES; tries++) {
		err = heap_once(gp, class_size, nclass, ret);
		if (err != -EAGAIN)
			return err;
	}
	return set_reason(gp, -EAGAIN, "heap counters contradicted themselves %d times in a row",
			  HEAP_RETRIES);
}

/* ---- heap profile ---- */

/* Where a bucket's parts lie, checked once per query. */
struct prof_layout {
	uint32_t hdr;		/* sizeof(runtime.bucket): the PCs start here */
	uint32_t mr_len;	/* bytes of memRecord read after the PCs */
	uint32_t nfuture;	/* len(memRecord.future) */
	uint32_t max_stack;	/* PCs a bucket may hold in this release */
	uint32_t win;		/* hdr + WIN_STACK PCs + mr_len: one read for most buckets */
	uint32_t buf_len;	/* hdr + max_stack PCs + mr_len: the deepest bucket */
};

/* One memRecordCycle. */
struct mcyc {
	uint64_t allocs, frees, alloc_bytes, free_bytes;
};

/* A bucket as read, before the MemProfile rules pick its counts. */
struct praw {
	uint64_t addr, size;
	uint32_t nstk;
	size_t pc0;		/* its first PC in pwalk.pcs */
	struct mcyc pub;	/* active + the cycle being published */
	struct mcyc all;	/* active + every future cycle */
};

struct pwalk {
	struct praw *v;
	size_t n, cap;
	uint64_t *pcs;
	size_t npcs, pcs_cap;
	uint64_t walked;
	bool truncated, looped;
	int stop_err;
};

static int prof_layout(struct goproc *gp, struct prof_layout *ret)
{
	static const enum gp_field_id bk[] = { F_BK_ALLNEXT, F_BK_TYP, F_BK_SIZE, F_BK_NSTK };
	static const enum gp_field_id mrc[] = { F_MRC_ALLOCS, F_MRC_FREES, F_MRC_ALLOC_BYTES,
						F_MRC_FREE_BYTES };
	const struct gp_field *act = &gp->f[F_MR_ACTIVE], *fut = &gp->f[F_MR_FUTURE];
	uint32_t hdr = gp->f[F_BK_HDR].size, act_end, fut_end;
	size_t i;

	if (hdr > BUCKET_HDR_MAX || hdr % 8 || gp->f[F_BK_ALLNEXT].size != 8)
		goto bad;
	for (i = 0; i < sizeof(bk) / sizeof(bk[0]); i++)
		if (gp->f[bk[i]].off + gp->f[bk[i]].size > hdr)
			goto bad;
	/* a cycle's counters must lie inside active and inside each future element */
	for (i = 0; i < sizeof(mrc) / sizeof(mrc[0]); i++) {
		uint32_t end = gp->f[mrc[i]].off + gp->f[mrc[i]].size;

		if (end > act->size || end > fut->size)
			goto bad;
	}
	if (fut->count > FUTURE_MAX || fut->size > fut->stride || act->size > MEMREC_MAX ||
	    fut->stride > MEMREC_MAX)
		goto bad;
	act_end = act->off + act->size;
	fut_end = fut->off + fut->count * fut->stride;
	ret->mr_len = act_end > fut_end ? act_end : fut_end;
	if (ret->mr_len > MEMREC_MAX)
		goto bad;
	ret->hdr = hdr;
	ret->nfuture = fut->count;
	ret->max_stack = gp->prof_max_stack;
	ret->win = hdr + (ret->max_stack < WIN_STACK ? ret->max_stack : WIN_STACK) * 8 +
		   ret->mr_len;
	ret->buf_len = hdr + ret->max_stack * 8 + ret->mr_len;
	return 0;
bad:
	return set_reason(gp, -ENOTSUP, "%s layout of runtime.bucket/memRecord is not one we read",
			  gp->layout == GOPROC_LAYOUT_DWARF ? "DWARF" : "built-in");
}

/* runtime.MemProfileRate; -ENODATA with the reason when profiling is off. */
static int prof_rate(struct goproc *gp, int64_t *ret)
{
	const struct gp_symbol *s = &gp->sym[S_MEMPROFILERATE];
	uint8_t b[8];
	int64_t rate;
	int err;

	if (s->size != 4 && s->size != 8)
		return set_reason(gp, -ENOTSUP, "runtime.MemProfileRate is %llu bytes",
				  (unsigned long long)s->size);
	err = mem_read(gp, sym_addr(gp, S_MEMPROFILERATE), b, s->size);
	if (err)
		return set_reason(gp, err, "cannot read runtime.MemProfileRate: %s",
				  strerror(-err));
	rate = get_int(b, (uint32_t)s->size);
	*ret = rate;
	if (rate > 0)
		return 0;
	/* the linker sets this when nothing can call runtime.MemProfile */
	if (gp->sym[S_DISABLEMEMPROF].ok && gp->sym[S_DISABLEMEMPROF].size == 1 &&
	    !mem_read(gp, sym_addr(gp, S_DISABLEMEMPROF), b, 1) && b[0])
		return set_reason(gp, -ENODATA, "memory profiling is off: the linker disabled it "
				  "(runtime.disableMemoryProfiling: nothing in the program can "
				  "call runtime.MemProfile)");
	return set_reason(gp, -ENODATA, "memory profiling is off: runtime.MemProfileRate is %lld",
			  (long long)rate);
}

int goproc__mem_profile_rate(struct goproc *gp, int64_t *ret)
{
	int err = goproc__status(gp);

	*ret = 0;
	if (err)
		return err;
	if (!gp->sym[S_MEMPROFILERATE].ok)
		return set_reason(gp, -ENOENT, "runtime.MemProfileRate not found (no symbols)");
	return prof_rate(gp, ret);
}

int goproc__set_mem_profile_rate(struct goproc *gp, int64_t rate)
{
	const struct gp_symbol *s = &gp->sym[S_MEMPROFILERATE];
	struct iovec l, r;
	uint8_t b[8];
	int err = goproc__status(gp);

	if (err)
		return err;
	if (!s->ok || (s->size != 4 && s->size != 8))
		return set_reason(gp, -ENOENT, "runtime.MemProfileRate not found (no symbols)");
	if (rate < 0)
		return -EINVAL;
	/* little-endian, as every target we read (amd64) */
	for (unsigned int i = 0; i < 8; i++)
		b[i] = (uint8_t)((uint64_t)rate >> (8 * i));
	l.iov_base = b;
	l.iov_len = s->size;
	r.iov_base = (void *)(uintptr_t)sym_addr(gp, S_MEMPROFILERATE);
	r.iov_len = s->size;
	if (process_vm_writev(gp->pid, &l, 1, &r, 1, 0) != (ssize_t)s->size)
		return set_reason(gp, -errno, "cannot write runtime.MemProfileRate: %s",
				  strerror(errno));
	return 0;
}

/*
 * The heap profile cycle counter: 1.19+ keeps it shifted left by one in
 * mProfCycle (bit 0 says it was flushed), older releases in mProf.cycle.
 * raw is the word as read, to notice a GC that publishes during a walk.
 */
static bool prof_cycle(struct goproc *gp, uint32_t *ret_cycle, uint32_t *ret_raw)
{
	enum gp_sym s = gp->sym[S_MPROFCYCLE].ok ? S_MPROFCYCLE : S_MPROF;
	uint8_t b[4];
	uint32_t v;

	if (!gp->sym[s].ok || gp->sym[s].size < 4 || mem_read(gp, sym_addr(gp, s), b, 4))
		return false;
	v = (uint32_t)get_uint(b, 4);
	*ret_raw = v;
	*ret_cycle = s == S_MPROFCYCLE ? v >> 1 : v;
	return true;
}

/* 1.27+ keeps no byte counts: every object of a bucket has the bucket's size. */
static void mcyc_get(const struct goproc *gp, const uint8_t *p, size_t len, uint64_t obj_size,
		     struct mcyc *ret)
{
	ret->allocs = fld_u(gp, F_MRC_ALLOCS, p, len);
	ret->frees = fld_u(gp, F_MRC_FREES, p, len);
	ret->alloc_bytes = gp->f[F_MRC_ALLOC_BYTES].ok ? fld_u(gp, F_MRC_ALLOC_BYTES, p, len) :
			   ret->allocs * obj_size;
	ret->free_bytes = gp->f[F_MRC_FREE_BYTES].ok ? fld_u(gp, F_MRC_FREE_BYTES, p, len) :
			  ret->frees * obj_size;
}

static void mcyc_add(struct mcyc *a, const struct mcyc *b)
{
	a->allocs += b->allocs;
	a->frees += b->frees;
	a->alloc_bytes += b->alloc_bytes;
	a->free_bytes += b->free_bytes;
}

/*
 * Read the bucket at addr into buf (lay->buf_len bytes). One read covers
 * the header, WIN_STACK PCs and a memRecord: all of most buckets. A deeper
 * stack, or a bucket near the end of its mapping (that read faults), gets
 * a second read of exactly what its nstk says. -EINVAL: nstk is more than
 * this release ever records.
 */
static int bucket_read(struct goproc *gp, const struct prof_layout *lay, uint64_t addr,
		       uint8_t *buf, uint32_t *ret_nstk)
{
	bool whole;
	uint64_t nstk;
	int err;

	err = mem_read(gp, addr, buf, lay->win);
	if (err && err != -EFAULT)
		return err;
	whole = !err;
	if (!whole) {
		err = mem_read(gp, addr, buf, lay->hdr);
		if (err)
			return err;
	}
	nstk = fld_u(gp, F_BK_NSTK, buf, lay->hdr);
	if (nstk > lay->max_stack)
		return -EINVAL;
	if (lay->hdr + nstk * 8 + lay->mr_len > lay->win)
		whole = false;
	if (!whole) {
		err = mem_read(gp, addr + lay->hdr, buf + lay->hdr, nstk * 8 + lay->mr_len);
		if (err)
			return err;
	}
	*ret_nstk = (uint32_t)nstk;
	return 0;
}

static int pwalk_push(struct pwalk *w, uint64_t max, uint32_t max_stack)
{
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 256;
		struct praw *nv;

		if (ncap > max)
			ncap = max;
		nv = realloc(w->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		w->v = nv;
		w->cap = ncap;
	}
	if (w->pcs_cap - w->npcs < max_stack) {
		size_t ncap = w->pcs_cap ? w->pcs_cap * 2 : 4096;

		while (ncap - w->npcs < max_stack)
			ncap *= 2;
		uint64_t *np = realloc(w->pcs, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		w->pcs = np;
		w->pcs_cap = ncap;
	}
	return 0;
}

static void pwalk_free(struct pwalk *w)
{
	free(w->v);
	free(w->pcs);
	memset(w, 0, sizeof(*w));
}

/*
 * The list came back to a bucket: with Brent's cycle length lam, the first
 * repeated position mu is the least j with x[j] == x[j + lam] (the current
 * bucket, not stored, is x[n]). Keep x[0 .. mu + lam): each bucket once.
 */
static void pwalk_cut_loop(struct pwalk *w, uint64_t cur, size_t lam)
{
	size_t j;

	for (j = 0; j + lam <= w->n; j++) {
		uint64_t later = j + lam < w->n ? w->v[j + lam].addr : cur;

		if (w->v[j].addr == later)
			break;
	}
	if (j + lam < w->n) {
		w->n = j + lam;
		w->npcs = w->v[w->n].pc0;
	}
	w->looped = true;
}

/*
 * Walk runtime.mbuckets. The runtime only ever prepends and never changes a
 * bucket's header or stack once linked, so the list we start from stays
 * valid; only the counts move. A loop (impossible in a sane runtime) is
 * found with Brent's algorithm in O(1) memory.
 */
static int prof_walk(struct goproc *gp, const struct prof_layout *lay, uint64_t max,
		     bool have_cycle, uint32_t cycle, struct pwalk *w)
{
	uint8_t *buf, hb[8];
	uint64_t b, tortoise;
	size_t power = 1, lam = 1;
	int err;

	err = mem_read(gp, sym_addr(gp, S_MBUCKETS), hb, 8);
	if (err)
		return set_reason(gp, err, "cannot read runtime.mbuckets: %s", strerror(-err));
	buf = malloc(lay->buf_len);
	if (!buf)
		return -ENOMEM;
	b = tortoise = get_uint(hb, 8);
	while (b) {
		const uint8_t *mr;
		struct mcyc c;
		struct praw *r;
		uint32_t nstk = 0, k;
		size_t hl = lay->hdr;

		if (w->n >= max) {
			w->truncated = true;
			break;
		}
		if (w->n) {
			if (b == tortoise) {
				pwalk_cut_loop(w, b, lam);
				break;
			}
			if (power == lam) {
				tortoise = b;
				power *= 2;
				lam = 0;
			}
			lam++;
		}
		if (b & 7) {
			w->stop_err = set_reason(gp, -EINVAL, "heap profile bucket #%zu at %#llx "
						 "is misaligned", w->n, (unsigned long long)b);
			break;
		}
		err = bucket_read(gp, lay, b, buf, &nstk);
		if (err == -EFAULT || err == -EINVAL) {
			if (err == -EFAULT)
				w->stop_err = set_reason(gp, err, "heap profile bucket #%zu at "
							 "%#llx does not read", w->n,
							 (unsigned long long)b);
			else
				w->stop_err = set_reason(gp, err, "heap profile bucket #%zu at "
							 "%#llx has more than %u PCs", w->n,
							 (unsigned long long)b, lay->max_stack);
			break;
		}
		if (err) {
			err = set_reason(gp, err, "cannot read the heap profile: %s",
					 strerror(-err));
			goto out;
		}
		w->walked++;
		if (fld_u(gp, F_BK_TYP, buf, hl) != MEM_PROFILE) {
			w->stop_err = set_reason(gp, -EINVAL, "heap profile bucket #%zu at %#llx "
						 "has type %llu, not memProfile", w->n,
						 (unsigned long long)b,
						 (unsigned long long)fld_u(gp, F_BK_TYP, buf, hl));
			break;
		}
		err = pwalk_push(w, max, lay->max_stack);
		if (err)
			goto out;
		r = &w->v[w->n];
		memset(r, 0, sizeof(*r));
		r->addr = b;
		r->size = fld_u(gp, F_BK_SIZE, buf, hl);
		r->nstk = nstk;
		r->pc0 = w->npcs;
		for (k = 0; k < nstk; k++)
			w->pcs[w->npcs++] = get_uint(buf + hl + k * 8, 8);
		mr = buf + hl + nstk * 8;
		mcyc_get(gp, mr + gp->f[F_MR_ACTIVE].off, gp->f[F_MR_ACTIVE].size, r->size,
			 &r->pub);
		r->all = r->pub;
		for (k = 0; k < lay->nfuture; k++) {
			mcyc_get(gp, mr + gp->f[F_MR_FUTURE].off + k * gp->f[F_MR_FUTURE].stride,
				 gp->f[F_MR_FUTURE].size, r->size, &c);
			mcyc_add(&r->all, &c);
			/*
			 * MemProfile first flushes the cycle it reads into active: a
			 * no-op once the GC did so itself, the newest data while a
			 * GC is between mark termination and its own flush.
			 */
			if (have_cycle && k == cycle % lay->nfuture)
				mcyc_add(&r->pub, &c);
		}
		w->n++;
		b = fld_u(gp, F_BK_ALLNEXT, buf, hl);
	}
	err = 0;
out:
	free(buf);
	return err;
}

void goproc__heap_unsample(const struct goproc_heap_counts *s, int64_t rate,
			   struct goproc_heap_counts *ret)
{
	const int64_t in[2][2] = { { s->alloc_objects, s->alloc_bytes },
				   { s->inuse_objects, s->inuse_bytes } };
	int64_t out[2][2];
	int i;

	for (i = 0; i < 2; i++) {
		int64_t count = in[i][0], size = in[i][1];
		double scale;

		if (!count || !size) {
			out[i][0] = out[i][1] = 0;
			continue;
		}
		if (rate <= 1) {
			out[i][0] = count;
			out[i][1] = size;
			continue;
		}
		scale = 1.0 / (1.0 - exp(-((double)size / (double)count) / (double)rate));
		out[i][0] = (int64_t)((double)count * scale);
		out[i][1] = (int64_t)((double)size * scale);
	}
	ret->alloc_objects = out[0][0];
	ret->alloc_bytes = out[0][1];
	ret->inuse_objects = out[1][0];
	ret->inuse_bytes = out[1][1];
}

static void counts_add(struct goproc_heap_counts *a, const struct goproc_heap_counts *b)
{
	a->alloc_objects += b->alloc_objects;
	a->alloc_bytes += b->alloc_bytes;
	a->inuse_objects += b->inuse_objects;
	a->inuse_bytes += b->inuse_bytes;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int bucket_cmp(const void *a, const void *b)
{
	const struct goproc_heap_bucket *x = a, *y = b;

	if (x->sampled.inuse_bytes != y->sampled.inuse_bytes)
		return x->sampled.inuse_bytes < y->sampled.inuse_bytes ? 1 : -1;
	if (x->sampled.alloc_bytes != y->sampled.alloc_bytes)
		return x->sampled.alloc_bytes < y->sampled.alloc_bytes ? 1 : -1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Name every distinct PC once (stacks share most of theirs), then each
 * frame by binary search. Like runtime.CallersFrames, the call is looked up
 * at pc - 1: every PC of a heap profile stack is a return address, the
 * leaf's too (it returns from the runtime's allocation entry point).
 */
static int frames_fill(struct goproc *gp, struct goproc_frame *fr, size_t n)
{
	struct go_func_info *info = NULL;
	uint64_t *u;
	size_t i, nu = 0;

	u = malloc((n ? n : 1) * sizeof(*u));
	if (!u)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		u[i] = fr[i].pc;
	qsort(u, n, sizeof(*u), u64_cmp);
	for (i = 0; i < n; i++)
		if (!nu || u[nu - 1] != u[i])
			u[nu++] = u[i];
	info = calloc(nu ? nu : 1, sizeof(*info));
	if (!info) {
		free(u);
		return -ENOMEM;
	}
	for (i = 0; i < nu; i++)
		if (u[i] <= gp->bias || go_binary__lookup(gp->bin, u[i] - 1 - gp->bias, &info[i]))
			memset(&info[i], 0, sizeof(info[i]));
	for (i = 0; i < n; i++) {
		const uint64_t *hit = bsearch(&fr[i].pc, u, nu, sizeof(*u), u64_cmp);
		const struct go_func_info *fi = &info[hit - u];

		fr[i].func = fi->name;
		fr[i].file = fi->file;
		fr[i].line = fi->line;
	}
	free(u);
	free(info);
	return 0;
}

/* A function runtime/pprof hides at the top of a heap profile stack. */
static bool func_is_runtime(const char *name)
{
	return name && (!strncmp(name, "runtime.", 8) || !strncmp(name, "internal/runtime/", 17));
}

/*
 * runtime/pprof's writeHeapProto shows a heap stack from its first frame
 * outside the runtime (1.26 records mallocgc's size-class helpers above
 * the caller), or whole if every frame is the runtime's.
 */
static void frames_hide_runtime(struct goproc_heap_bucket *b)
{
	uint32_t k = 0;

	while (k < b->nr_frames && func_is_runtime(b->frames[k].func))
		k++;
	if (k == b->nr_frames)
		return;
	b->frames += k;
	b->nr_frames -= k;
}

/* MemProfile's rules on the raw buckets, into the public profile. */
static int prof_export(struct goproc *gp, const struct pwalk *w, bool inuse_only,
		       struct goproc_heap_profile *ret)
{
	struct goproc_heap_bucket *v;
	struct goproc_frame *fr;
	size_t i, nb = 0, nf = 0, k;
	bool clear = true;

	/* no published counts at all: no GC yet; MemProfile then sums every cycle */
	for (i = 0; i < w->n; i++)
		if (w->v[i].pub.allocs || w->v[i].pub.frees)
			clear = false;
	ret->unpublished = clear && w->n;
	for (i = 0; i < w->n; i++)
		nf += w->v[i].nstk;
	v = calloc(w->n ? w->n : 1, sizeof(*v));
	fr = calloc(nf ? nf : 1, sizeof(*fr));
	if (!v || !fr) {
		free(v);
		free(fr);
		return -ENOMEM;
	}
	nf = 0;
	for (i = 0; i < w->n; i++) {
		const struct praw *r = &w->v[i];
		const struct mcyc *c = clear ? &r->all : &r->pub;
		struct goproc_heap_bucket *o = &v[nb];

		if (inuse_only && c->alloc_bytes == c->free_bytes) {
			ret->skipped_zero++;
			continue;
		}
		o->addr = r->addr;
		o->size = r->size;
		/* the runtime's uintptr counters, as MemProfileRecord's int64s */
		o->sampled.alloc_objects = (int64_t)c->allocs;
		o->sampled.alloc_bytes = (int64_t)c->alloc_bytes;
		o->sampled.inuse_objects = (int64_t)(c->allocs - c->frees);
		o->sampled.inuse_bytes = (int64_t)(c->alloc_bytes - c->free_bytes);
		o->nr_frames = r->nstk;
		o->frames = fr + nf;
		for (k = 0; k < r->nstk; k++)
			fr[nf + k].pc = w->pcs[r->pc0 + k];
		nf += r->nstk;
		nb++;
	}
	ret->buckets = v;
	ret->nr_buckets = nb;
	ret->frames = fr;
	ret->nr_frames = nf;
	if (frames_fill(gp, fr, nf))
		return -ENOMEM;
	for (i = 0; i < nb; i++) {
		struct goproc_heap_counts u;

		frames_hide_runtime(&v[i]);
		goproc__heap_unsample(&v[i].sampled, ret->rate, &u);
		counts_add(&ret->total_sampled, &v[i].sampled);
		counts_add(&ret->total_unsampled, &u);
	}
	qsort(v, nb, sizeof(*v), bucket_cmp);
	return 0;
}

int goproc__heap_profile(struct goproc *gp, const struct goproc_heap_profile_opts *o,
			 struct goproc_heap_profile *ret)
{
	uint64_t max = o && o->max_buckets ? o->max_buckets : GOPROC_MAX_BUCKETS;
	uint32_t cycle = 0, raw0 = 0, raw1 = 0, c1;
	struct prof_layout lay = { 0 };
	struct pwalk w = { 0 };
	bool have_cycle = false;
	int err, tries;

	memset(ret, 0, sizeof(*ret));
	err = check_ready(gp, NEED_PROF);
	if (!err)
		err = prof_layout(gp, &lay);
	if (!err)
		err = prof_rate(gp, &ret->rate);
	if (err)
		return err;
	if (max > BUCKETS_HARD_MAX)
		max = BUCKETS_HARD_MAX;
	/*
	 * A GC that publishes a cycle while we walk moves counts between
	 * future and active under us: walk again, a few times.
	 */
	for (tries = 0; tries < PROF_RETRIES; tries++) {
		pwalk_free(&w);
		gp->reason[0] = '\0';
		have_cycle = prof_cycle(gp, &cycle, &raw0);
		err = prof_walk(gp, &lay, max, have_cycle, cycle, &w);
		if (err)
			goto out;
		if (!have_cycle || (prof_cycle(gp, &c1, &raw1) && raw1 == raw0))
			break;
	}
	ret->torn = tries == PROF_RETRIES;
	ret->walked = w.walked;
	ret->truncated = w.truncated;
	ret->looped = w.looped;
	ret->stop_err = w.stop_err;
	err = prof_export(gp, &w, o && o->inuse_only, ret);
out:
	pwalk_free(&w);
	if (err)
		goproc_heap_profile__free(ret);
	return err;
}

void goproc_heap_profile__free(struct goproc_heap_profile *p)
{
	if (!p)
		return;
	free(p->buckets);
	free(p->frames);
	p->buckets = NULL;
	p->frames = NULL;
	p->nr_buckets = 0;
	p->nr_frames = 0;
}
