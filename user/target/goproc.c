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
 * later releases use: see gp_field_defs[] in goproc_layout.c). The queries are
 * answered in goproc_goroutines.c, goproc_heap.c and goproc_profile.c (goproc_int.h).
 */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "target/elf.h"
#include "target/goproc.h"
#include "target/goproc_int.h"
#include "target/govars.h"
#include "target/procfs.h"

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

int gp_set_reason(struct goproc *gp, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(gp->reason, sizeof(gp->reason), fmt, ap);
	va_end(ap);
	return err;
}

/* ---- reading the target ---- */

int gp_mem_read(const struct goproc *gp, uint64_t addr, void *buf, size_t len)
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
int gp_mem_read_batch(const struct goproc *gp, const uint64_t *addrs, size_t n, size_t len,
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
/*
 * Copy a whole runtime global (its .symtab size, capped) into a new buffer:
 * one read instead of one per field, and field offsets get checked against
 * the object's real size.
 */
int gp_sym_read(const struct goproc *gp, enum gp_sym s, uint8_t **ret, size_t *ret_len)
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
	err = gp_mem_read(gp, sym_addr(gp, s), buf, size);
	if (err) {
		free(buf);
		return err;
	}
	*ret = buf;
	*ret_len = size;
	return 0;
}

/* ---- symbols, load bias ---- */

static int symtab_object(const struct ms_elf_sym *s, void *arg)
{
	struct goproc *gp = arg;
	unsigned k;

	if (GELF_ST_TYPE(s->sym.st_info) != STT_OBJECT)
		return 0;
	for (k = 0; k < S_NR; k++) {
		if (!gp->sym[k].ok && (!strcmp(s->name, sym_names[k]) ||
		    (sym_alt_names[k] && !strcmp(s->name, sym_alt_names[k])))) {
			gp->sym[k].ok = true;
			gp->sym[k].addr = s->sym.st_value;
			gp->sym[k].size = s->sym.st_size;
		}
	}
	return 0;
}

/* The runtime's globals from .symtab; -ENOENT without one, -EINVAL if it does not read. */
static int symtab_load(struct goproc *gp, struct ms_elf *elf)
{
	int err = ms_elf__for_each_sym(elf, MS_ELF_SYMTAB, symtab_object, gp);

	return err && err != -ENOENT ? -EINVAL : err;
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
			err = gp_set_reason(gp, -ENOENT, "no .symtab (stripped with -s?) and %s",
					    why);
	}
	return err;
}

/*
 * A PIE's load bias: the lowest mapping of the executable file, and the
 * PT_LOAD segment that holds the file offset it maps.
 */
static int bias_load(struct goproc *gp, const struct ms_elf *elf, const char *exe)
{
	const struct stat *exe_st = ms_elf__stat(elf);
	struct ms_maps maps = { 0 };
	const struct ms_map *m = NULL;
	size_t i, nph;
	int err;

	gp->elf_machine = ms_elf__ehdr(elf)->e_machine;
	if (!ms_elf__is_dyn(elf))
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
	nph = ms_elf__nsegments(elf);
	if (m) {
		for (i = 0; i < nph && i < GO_MAX_PHDRS; i++) {
			const GElf_Phdr *ph = ms_elf__segment(elf, i);
			uint64_t seg_off;

			if (ph->p_type != PT_LOAD)
				continue;
			seg_off = ph->p_offset & ~0xfffull;
			if (m->pgoff < seg_off || m->pgoff >= ph->p_offset + ph->p_filesz)
				continue;
			gp->bias = m->start - (ph->p_vaddr - ph->p_offset + m->pgoff);
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

int gp_check_ready(struct goproc *gp, unsigned need)
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
		return gp_set_reason(gp, -ENOENT, gp->no_symtab ?
				     "no .symtab (stripped with -s?), and %s is not found from "
				     "code yet" : "%s is not in .symtab", ms);
	for (i = 0; i < F_NR; i++) {
		const struct gp_field *f = &gp->f[i];

		if (!(gp_field_defs[i].need & need))
			continue;
		if (!f->ok || ((gp_field_defs[i].need & NEED_ARRAY) && !f->count))
			return gp_set_reason(gp, -ENOTSUP, "%s layout has no field %s.%s",
					     gp->layout == GOPROC_LAYOUT_DWARF ? "DWARF" :
					     "built-in", gp_type_names[gp_field_defs[i].type],
					     gp_field_defs[i].path);
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

		if (f->ok && gp_field_defs[i].type == t && end > size)
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

static void open_checks(struct goproc *gp, const struct ms_elf *elf, int symerr)
{
	const struct gp_field *tab;
	const char *ms;
	int err;

	if (symerr) {
		if (!gp->no_symtab)
			gp_set_reason(gp, symerr, ".symtab does not read: %s", strerror(-symerr));
		gp->status = symerr;
		return;
	}
	ms = missing_sym(gp, g_syms, 2);
	/* located from code: the heap's globals are checked by the queries that need them */
	if (!ms && !gp->no_symtab)
		ms = missing_sym(gp, heap_syms, 2);
	if (ms) {
		gp->status = gp_set_reason(gp, -ENOENT, "%s is not in .symtab", ms);
		return;
	}
	err = gp_layout_from_dwarf(gp, ms_elf__handle(elf));
	if (!err) {
		gp->layout = GOPROC_LAYOUT_DWARF;
		sizes_from_layout(gp);
		return;
	}
	/* DWARF without the runtime's types (partly stripped): the table may still do */
	tab = gp->have_ver ? gp_builtin_table(gp->ver.major, gp->ver.minor, gp->elf_machine) : NULL;
	if (tab) {
		memcpy(gp->f, tab, sizeof(gp->f));
		gp->layout = GOPROC_LAYOUT_BUILTIN;
		gp->reason[0] = '\0';
		sizes_from_layout(gp);
		return;
	}
	if (err == -ENOENT)
		err = gp_set_reason(gp, -ENOTSUP,
				    "no DWARF (built with -ldflags=-w?) and no built-in layout "
				    "for %s on ELF machine %d",
				    gp->have_ver ? gp->ver.str : "an unknown Go", gp->elf_machine);
	gp->status = err;
}

struct goproc *goproc__open(pid_t pid)
{
	char exe[64], target[PATH_MAX];
	struct ms_elf *elf = NULL;
	struct goproc *gp;
	ssize_t tl;
	int err, symerr;

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
	gp->bin = go_binary__open(exe);
	if (!gp->bin) {
		err = errno == ENOENT ? -ESRCH : -errno;
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
	elf = ms_elf__open(exe);
	if (!elf) {
		err = errno == ENOENT ? -ESRCH : errno == ENOEXEC ? -EINVAL : -errno;
		goto fail;
	}
	err = bias_load(gp, elf, target);
	if (err == -ENOENT) {
		gp->status = gp_set_reason(gp, -ENOENT, "%s is not mapped in process %d", target,
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
	ms_elf__close(elf);
	return gp;
fail:
	ms_elf__close(elf);
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

/* ---- Ps: free g counts and mcaches ---- */

/* runtime.allp's element pointers, at most GOPROC_MAX_PROCS. */
int gp_allp_read(struct goproc *gp, uint64_t **ret, size_t *ret_n)
{
	uint8_t hdr[24];
	uint64_t arr, len, cap, *ps;
	int err;

	if (!gp->sym[S_ALLP].ok)
		return -ENOENT;
	err = gp_mem_read(gp, sym_addr(gp, S_ALLP), hdr, sizeof(hdr));
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
	err = gp_mem_read(gp, arr, ps, len * 8);
	if (err) {
		free(ps);
		return err;
	}
	*ret = ps;
	*ret_n = len;
	return 0;
}
