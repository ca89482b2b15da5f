/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * goproc_int.h - what the parts of goproc share, for them only: the runtime
 * types, fields and globals it reads (and the layouts that place them), the
 * state of an open process, and reading the target's memory. goproc.c opens
 * a process and reads its symbols, goproc_layout.c its layouts; goproc_goroutines.c,
 * goproc_heap.c and goproc_profile.c answer the queries of goproc.h.
 */
#ifndef MEMSIGHT_GOPROC_INT_H
#define MEMSIGHT_GOPROC_INT_H

#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/goproc.h"

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
#define USER_ADDR_MAX	(1ull << 57)	/* above any user-space address (la57) */
#define WINDOW_MAX	4096		/* bytes of one g or mspan we read (g is ~400) */

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

struct gp_field {
	bool ok;
	uint32_t off, size, count, stride;
};

/* A built-in table: the layout of Go 1.<minor>. */
struct gp_layout {
	int minor;
	const struct gp_field *f;
};

enum gp_sym {
	S_ALLGS, S_ALLGLEN, S_ALLP, S_SCHED, S_MEMSTATS, S_GCCONTROLLER, S_CLASS_TO_SIZE,
	S_EMPTYMSPAN, S_WAITREASONS,
	S_MBUCKETS, S_MEMPROFILERATE, S_MPROFCYCLE, S_MPROF, S_DISABLEMEMPROF,
	S_NR
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

/* Names of the types and the fields goproc reads (goproc_layout.c). */
extern const char *const gp_type_names[T_NR];
extern const struct field_def gp_field_defs[F_NR];

/* Set gp's reason (goproc__reason()) and return err. */
int gp_set_reason(struct goproc *gp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- reading the target ---- */

static inline bool addr_ok(uint64_t addr, uint64_t len)
{
	return addr && addr < USER_ADDR_MAX && len <= USER_ADDR_MAX - addr;
}

static inline uint64_t get_uint(const uint8_t *p, uint32_t size)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < size && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline int64_t get_int(const uint8_t *p, uint32_t size)
{
	uint64_t v = get_uint(p, size);

	if (size > 0 && size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~0ull << (8 * size);
	return (int64_t)v;
}

/* Field fid of a struct copied into buf of buflen bytes; 0 if absent or out of it. */
static inline uint64_t fld_u(const struct goproc *gp, enum gp_field_id fid, const uint8_t *buf,
		      size_t buflen)
{
	const struct gp_field *f = &gp->f[fid];

	if (!f->ok || f->off > buflen || f->size > buflen - f->off)
		return 0;
	return get_uint(buf + f->off, f->size);
}

static inline int64_t fld_i(const struct goproc *gp, enum gp_field_id fid, const uint8_t *buf,
		     size_t buflen)
{
	const struct gp_field *f = &gp->f[fid];

	if (!f->ok || f->off > buflen || f->size > buflen - f->off)
		return 0;
	return get_int(buf + f->off, f->size);
}

/* Element i of array field fid; 0 out of range. */
static inline uint64_t fld_elem(const struct goproc *gp, enum gp_field_id fid, uint32_t i,
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
static inline uint64_t sym_addr(const struct goproc *gp, enum gp_sym s)
{
	return gp->sym[s].addr + gp->bias;
}

/* len bytes at addr: 0, -EFAULT (not all of it reads), -ESRCH, -EPERM. */
int gp_mem_read(const struct goproc *gp, uint64_t addr, void *buf, size_t len);
/*
 * n windows of len bytes at addrs[i] into buf + i * len; ok[i] says which
 * read. 0, or a fatal -errno (-ESRCH, -EPERM).
 */
int gp_mem_read_batch(const struct goproc *gp, const uint64_t *addrs, size_t n, size_t len,
		      uint8_t *buf, bool *ok);
/* A whole runtime global into a new buffer (its size, capped). */
int gp_sym_read(const struct goproc *gp, enum gp_sym s, uint8_t **ret, size_t *ret_len);
/* 0 if the query needing NEED_* bits can run, else its -errno with the reason set. */
int gp_check_ready(struct goproc *gp, unsigned need);
/* runtime.allp's element pointers, at most GOPROC_MAX_PROCS. */
int gp_allp_read(struct goproc *gp, uint64_t **ret, size_t *ret_n);

/*
 * goproc_layout.c: gp->f from the DWARF of elf (libelf's handle): 0 if
 * every type needed is there, -ENOENT without DWARF, -ENOTSUP (with the
 * reason) if a type is missing. The built-in layout of a release, or NULL.
 */
int gp_layout_from_dwarf(struct goproc *gp, Elf *elf);
const struct gp_field *gp_builtin_table(int major, int minor, int machine);

#endif /* MEMSIGHT_GOPROC_INT_H */
