// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * unwind.c - libdwfl over a stack copy: the target is never stopped, ptraced
 * or read; memory reads are served from the copy alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>
#include <dwarf.h>

#include "bpf/unwind.h"
#include "common/array.h"

#define UNWIND_MAX_MODULES 4096
#define UNWIND_MAX_FILES 1024

struct ufile {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	int fd;
	Elf *elf;	/* one reference is the table's */
};

struct unwind_files {
	struct ufile *v;
	size_t n, cap;
};

/* x86-64 DWARF register numbers (System V psABI, figure 3.36) */
enum { DW_RBX = 3, DW_RBP = 6, DW_RSP = 7, DW_R12 = 12 };

struct umod {
	char *path;		/* as mapped */
	char *open_path;	/* how we open it */
	uint64_t low, high;
	struct unwind_files *files;
};

struct unwinder {
	pid_t pid;
	struct unwind_files *files;
	Dwfl *dwfl;
	struct umod *mods;
	size_t nmods;
	bool attached;
	/* the request in progress (libdwfl's callbacks read it) */
	const struct unwind_sample *cur;
	uint64_t *ips;
	size_t max, n;
};

struct unwind_files *unwind_files__new(void)
{
	return calloc(1, sizeof(struct unwind_files));
}

void unwind_files__free(struct unwind_files *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		elf_end(f->v[i].elf);
		close(f->v[i].fd);
	}
	free(f->v);
	free(f);
}

size_t unwind_files__count(const struct unwind_files *f)
{
	return f ? f->n : 0;
}

/*
 * A new reference to the shared Elf of the file open at fd (which is then
 * closed or kept), or NULL: the caller hands fd to libdwfl as usual. Read,
 * not mmap'ed: a file truncated under us must not SIGBUS, and 200 mappings
 * of one libc would count 200 times in our RSS.
 */
static Elf *shared_elf(struct unwind_files *f, int fd)
{
	struct ufile *u;
	struct stat st;
	Elf *elf;

	if (!f || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return NULL;
	for (size_t i = 0; i < f->n; i++) {
		u = &f->v[i];
		if (u->dev == st.st_dev && u->ino == st.st_ino && u->size == st.st_size &&
		    u->mtime.tv_sec == st.st_mtim.tv_sec && u->mtime.tv_nsec == st.st_mtim.tv_nsec)
			goto found;
	}
	if (f->n == UNWIND_MAX_FILES ||
	    ms_array_grow(f->v, &f->cap, f->n, 16))
		return NULL;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return NULL;
	}
	u = &f->v[f->n++];
	*u = (struct ufile){ .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
			     .mtime = st.st_mtim, .fd = fd, .elf = elf };
	/* the table keeps this fd: libelf reads sections through it lazily */
	return elf_begin(u->fd, ELF_C_READ, u->elf);
found:
	close(fd);
	return elf_begin(u->fd, ELF_C_READ, u->elf);
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	struct umod *um = *userdata;
	int fd;

	*elfp = NULL;
	if (!um || !um->open_path)
		return -1;
	fd = open(um->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	*file_name = strdup(um->open_path);
	*elfp = shared_elf(um->files, fd);
	/* shared: libdwfl ends its reference, the fd stays with the table */
	return *elfp ? -1 : fd;
}

/* CFI is in the file itself (.eh_frame); separate debug files are the symboliser's business. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	return -1;
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = find_elf,
	.find_debuginfo = find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct unwinder *u = arg;

	if (*thread_argp)
		return 0;	/* one thread: the sample's */
	*thread_argp = u;
	return u->cur->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	*thread_argp = arg;
	return true;
}

/* Only the copied stack is readable: anything else ends the walk. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwinder *u = arg;
	const struct unwind_sample *s = u->cur;
	uint64_t sp = s->regs[MS_UREG_SP];

	if (addr < sp || addr - sp > s->size || s->size - (addr - sp) < sizeof(*result))
		return false;
	memcpy(result, s->stack + (addr - sp), sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct unwinder *u = thread_arg;
	const uint64_t *r = u->cur->regs;
	Dwarf_Word rbx = r[MS_UREG_BX], rbp_rsp[2] = { r[MS_UREG_BP], r[MS_UREG_SP] };
	Dwarf_Word hi[4] = { r[MS_UREG_R12], r[MS_UREG_R13], r[MS_UREG_R14], r[MS_UREG_R15] };

	if (!dwfl_thread_state_registers(thread, DW_RBX, 1, &rbx) ||
	    !dwfl_thread_state_registers(thread, DW_RBP, 2, rbp_rsp) ||
	    !dwfl_thread_state_registers(thread, DW_R12, 4, hi))
		return false;
	dwfl_thread_state_register_pc(thread, r[MS_UREG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static bool same_file(const struct ms_map *a, const struct ms_map *b)
{
	return a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && !strcmp(a->path, b->path);
}

/*
 * Report each mapped file that has code as one module spanning its
 * mappings; low is where its offset 0 is (or would be) mapped, which is
 * what libdwfl computes the load bias from.
 */
static int report_modules(struct unwinder *u, const struct ms_maps *maps)
{
	u->mods = calloc(maps->n ? maps->n : 1, sizeof(*u->mods));
	if (!u->mods)
		return -ENOMEM;
	dwfl_report_begin(u->dwfl);
	for (size_t i = 0; i < maps->n && u->nmods < UNWIND_MAX_MODULES;) {
		const struct ms_map *first = &maps->v[i];
		struct umod *um = &u->mods[u->nmods];
		bool exec = false;
		size_t j = i;
		Dwfl_Module *mod;
		void **ud;

		if (!first->path || first->path[0] != '/') {
			i++;
			continue;
		}
		for (; j < maps->n && maps->v[j].path && same_file(first, &maps->v[j]); j++)
			exec |= maps->v[j].perms[2] == 'x';
		um->low = first->start >= first->pgoff ? first->start - first->pgoff : first->start;
		um->high = maps->v[j - 1].end;
		if (exec) {
			/* the executable mapping's range opens map_files when the path lies */
			const struct ms_map *x = first;

			for (size_t k = i; k < j; k++)
				if (maps->v[k].perms[2] == 'x')
					x = &maps->v[k];
			um->files = u->files;
			um->path = strdup(first->path);
			um->open_path = ms_map__open_path(u->pid, x);
			if (!um->path || !um->open_path) {
				free(um->path);
				free(um->open_path);
				dwfl_report_end(u->dwfl, NULL, NULL);
				return -ENOMEM;
			}
			mod = dwfl_report_module(u->dwfl, um->path, um->low, um->high);
			if (mod && dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL))
				*ud = um;
			u->nmods++;
		}
		i = j;
	}
	if (dwfl_report_end(u->dwfl, NULL, NULL))
		return -EINVAL;
	return 0;
}

struct unwinder *unwinder__new(pid_t pid, const struct ms_maps *maps, struct unwind_files *files)
{
	struct unwinder *u;
	int err;

	if (pid <= 0 || !maps) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->pid = pid;
	u->files = files;
	u->dwfl = dwfl_begin(&dwfl_callbacks);
	if (!u->dwfl) {
		free(u);
		errno = ENOMEM;
		return NULL;
	}
	err = report_modules(u, maps);
	if (err) {
		unwinder__free(u);
		errno = -err;
		return NULL;
	}
	return u;
}

void unwinder__free(struct unwinder *u)
{
	if (!u)
		return;
	if (u->dwfl)
		dwfl_end(u->dwfl);
	for (size_t i = 0; i < u->nmods; i++) {
		free(u->mods[i].path);
		free(u->mods[i].open_path);
	}
	free(u->mods);
	free(u);
}

bool unwinder__covers(struct unwinder *u, uint64_t addr)
{
	return u && dwfl_addrmodule(u->dwfl, addr) != NULL;
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct unwinder *u = arg;
	Dwarf_Addr pc;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || !pc)
		return DWARF_CB_ABORT;
	u->ips[u->n++] = pc;
	return u->n < u->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int unwinder__unwind(struct unwinder *u, const struct unwind_sample *s, uint64_t *ips,
		     size_t max, size_t *ret_n)
{
	if (!u || !s || !ips || !max || !s->tid)
		return -EINVAL;
	/* libdwfl binds the state callbacks once; the first sample attaches */
	if (!u->attached) {
		if (!dwfl_attach_state(u->dwfl, NULL, u->pid, &thread_callbacks, u)) {
			/* no module could give the architecture: the pc alone */
			ips[0] = s->regs[MS_UREG_IP];
			*ret_n = 1;
			return 0;
		}
		u->attached = true;
	}
	u->cur = s;
	u->ips = ips;
	u->max = max;
	u->n = 0;
	/* an error only says where the walk ended: the frames before it stand */
	dwfl_getthread_frames(u->dwfl, s->tid, on_frame, u);
	if (!u->n)
		ips[u->n++] = s->regs[MS_UREG_IP];
	*ret_n = u->n;
	u->cur = NULL;
	u->ips = NULL;
	return 0;
}
