// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/kernel.h"

static const char *const names[MS_KF__MAX] = {
	[MS_KF_BTF] = "btf",
	[MS_KF_RINGBUF] = "ringbuf",
	[MS_KF_UPROBE_MULTI] = "uprobe_multi",
	[MS_KF_UPROBE_SESSION] = "uprobe_session",
	[MS_KF_FIND_VMA] = "find_vma",
	[MS_KF_RSS_STAT] = "tp_rss_stat",
	[MS_KF_RSS_PERCPU] = "rss_percpu",
	[MS_KF_PAGE_FAULT_USER] = "tp_page_fault_user",
	[MS_KF_MARK_VICTIM] = "tp_mark_victim",
	[MS_KF_MARK_VICTIM_TASK] = "mark_victim_task",
};

/* what memsight does without each feature */
static const char *const without[MS_KF__MAX] = {
	[MS_KF_BTF] = "memsight cannot load: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF)",
	[MS_KF_RINGBUF] = "memsight cannot load: no BPF ring buffer (Linux 5.8+)",
	[MS_KF_UPROBE_MULTI] = "one perf-event uprobe link per function: slower attach and detach",
	[MS_KF_UPROBE_SESSION] = "allocators get separate entry and return probes: every "
				 "return traps, also unsampled ones",
	[MS_KF_FIND_VMA] = "DWARF stack copies bounded by trial reads instead of the "
			   "stack's mapping",
	[MS_KF_RSS_STAT] = "no RSS peak or RSS changes from the kernel: RSS read from /proc only",
	[MS_KF_RSS_PERCPU] = "each thread batches up to 64 RSS changes before the mm sees them "
			     "(as /proc does): fewer changes seen, peaks may lag by 256 KiB a thread",
	[MS_KF_PAGE_FAULT_USER] = "no page-fault stacks",
	[MS_KF_MARK_VICTIM] = "OOM kills are not seen as they happen",
	[MS_KF_MARK_VICTIM_TASK] = "the OOM tracepoint gives the victim's pid alone",
};

const char *ms_kfeature__name(enum ms_kfeature f)
{
	return f < MS_KF__MAX ? names[f] : "?";
}

/* memsight cannot load without these */
static bool required(int f)
{
	return f == MS_KF_BTF || f == MS_KF_RINGBUF;
}

/* probed by loading a program: unknown without privileges */
static bool privileged(int f)
{
	return f == MS_KF_RINGBUF || f == MS_KF_UPROBE_MULTI || f == MS_KF_UPROBE_SESSION;
}

static const struct btf_type *btf_type_skip_typedefs(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

/* The type of member `name` of struct/union t, looking into anonymous members too. */
static const struct btf_type *find_member(const struct btf *btf, const struct btf_type *t,
					  const char *name, int depth)
{
	const struct btf_member *m;

	if (!t || !btf_is_composite(t) || depth > 4)
		return NULL;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		const struct btf_type *mt = btf_type_skip_typedefs(btf, m->type);

		if (!m->name_off) {
			mt = find_member(btf, mt, name, depth + 1);
			if (mt)
				return mt;
		} else if (!strcmp(btf__name_by_offset(btf, m->name_off), name)) {
			return mt;
		}
	}
	return NULL;
}

static const struct btf_type *member_type(const struct btf *btf, const char *sname,
					  const char *name)
{
	int id = btf__find_by_name_kind(btf, sname, BTF_KIND_STRUCT);

	return id > 0 ? find_member(btf, btf__type_by_id(btf, id), name, 0) : NULL;
}

/* The prototype of tracepoint tp's BTF-enabled form (typedef btf_trace_tp), or NULL. */
static const struct btf_type *tp_proto(const struct btf *btf, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return NULL;
	t = btf_type_skip_typedefs(btf, id);
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

static bool enum_has(const struct btf *btf, const char *ename, const char *value)
{
	int id = btf__find_by_name_kind(btf, ename, BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	const struct btf_enum *e;

	if (!t)
		return false;
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), value))
			return true;
	return false;
}

void ms_kfeatures__from_btf(const struct btf *btf, struct ms_kfeatures *kf)
{
	const struct btf_type *t;

	kf->has[MS_KF_BTF] = btf != NULL;
	if (!btf)
		return;
	kf->has[MS_KF_FIND_VMA] = enum_has(btf, "bpf_func_id", "BPF_FUNC_find_vma");
	kf->has[MS_KF_RSS_STAT] = tp_proto(btf, "rss_stat") != NULL;
	/* 6.2+: struct percpu_counter rss_stat[NR_MM_COUNTERS]; before: struct mm_rss_stat */
	t = member_type(btf, "mm_struct", "rss_stat");
	kf->has[MS_KF_RSS_PERCPU] = t && btf_is_array(t);
	kf->has[MS_KF_PAGE_FAULT_USER] = tp_proto(btf, "page_fault_user") != NULL;
	t = tp_proto(btf, "mark_victim");
	kf->has[MS_KF_MARK_VICTIM] = t != NULL;
	/* (void *__data, struct task_struct *task, uid_t uid) since 6.8; (void *, int pid) before */
	if (t && btf_vlen(t) >= 2) {
		const struct btf_type *a = btf_type_skip_typedefs(btf, btf_params(t)[1].type);

		kf->has[MS_KF_MARK_VICTIM_TASK] = a && btf_is_ptr(a);
	}
}

int ms_uprobe_link(int prog_fd, uint32_t attach_type, const char *path, const uint64_t *offsets,
		   const uint64_t *cookies, uint32_t cnt, bool retprobe, pid_t pid)
{
	struct {	/* union bpf_attr's link_create.uprobe_multi */
		__u32 prog_fd;
		__u32 target_fd;
		__u32 attach_type;
		__u32 flags;
		__u64 path;
		__u64 offsets;
		__u64 ref_ctr_offsets;
		__u64 cookies;
		__u32 cnt;
		__u32 multi_flags;
		__u32 pid;		/* 0: every process */
		__u32 __pad;
	} attr = {
		.prog_fd = prog_fd,
		.attach_type = attach_type,
		.path = (uintptr_t)path,
		.offsets = (uintptr_t)offsets,
		.cookies = (uintptr_t)cookies,
		.cnt = cnt,
		.multi_flags = retprobe ? 1 /* BPF_F_UPROBE_MULTI_RETURN */ : 0,
		.pid = pid > 0 ? pid : 0,
	};
	int fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));

	return fd < 0 ? -errno : fd;
}

/*
 * Does the kernel have this kind of uprobe link? Load a trivial program of
 * that attach type and ask for a link on "/": a kernel that knows the link
 * type rejects the path with EBADF before touching anything (libbpf's own
 * probe). -EPERM: not allowed to tell.
 */
static int probe_uprobe_link(uint32_t attach_type)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = attach_type);
	uint64_t off = 0;
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &po);
	if (prog < 0)
		return errno == EPERM ? -EPERM : 0;
	link = ms_uprobe_link(prog, attach_type, "/", &off, NULL, 1, false, 0);
	if (link >= 0)
		close(link);
	close(prog);
	return link == -EBADF;
}

const struct ms_kfeatures *ms_kfeatures(void)
{
	static struct ms_kfeatures kf;
	static bool done;
	struct btf *btf;
	int r;

	if (done)
		return &kf;
	done = true;
	btf = btf__load_vmlinux_btf();
	ms_kfeatures__from_btf(btf, &kf);
	btf__free(btf);
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	kf.has[MS_KF_RINGBUF] = r > 0;
	kf.probed = r >= 0;
	r = probe_uprobe_link(MS_TRACE_UPROBE_MULTI);
	kf.has[MS_KF_UPROBE_MULTI] = r > 0;
	if (r >= 0)
		kf.has[MS_KF_UPROBE_SESSION] = probe_uprobe_link(MS_TRACE_UPROBE_SESSION) > 0;
	else
		kf.probed = false;
	return &kf;
}

void ms_kfeatures__print(const struct ms_kfeatures *kf, FILE *out)
{
	for (int f = 0; f < MS_KF__MAX; f++) {
		if (privileged(f) && !kf->probed)
			fprintf(out, "  %-20s unknown (probing needs root or CAP_BPF)\n", names[f]);
		else if (kf->has[f])
			fprintf(out, "  %-20s yes\n", names[f]);
		else
			fprintf(out, "  %-20s no   (%s)\n", names[f], without[f]);
	}
}

void ms_kfeatures__summary(const struct ms_kfeatures *kf, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int f = 0; f < MS_KF__MAX && n < len; f++) {
		if (kf->has[f] || required(f) || (privileged(f) && !kf->probed))
			continue;
		n += snprintf(buf + n, len - n, "%sno %s", n ? ", " : "", names[f]);
	}
}

const char *ms_kfeatures__unusable(const struct ms_kfeatures *kf)
{
	for (int f = 0; f < MS_KF__MAX; f++)
		if (required(f) && !kf->has[f] && (!privileged(f) || kf->probed))
			return without[f];
	return NULL;
}

enum ms_thp ms_thp_mode(const char *sys_root)
{
	char path[512], buf[128], *open, *close;
	enum ms_thp t = MS_THP_UNKNOWN;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kernel/mm/transparent_hugepage/enabled", sys_root);
	f = fopen(path, "re");
	if (!f)
		return MS_THP_UNKNOWN;
	/* "always [madvise] never": the bracketed word is in force */
	if (fgets(buf, sizeof(buf), f) && (open = strchr(buf, '[')) && (close = strchr(open, ']'))) {
		*close = 0;
		if (!strcmp(open + 1, "always"))
			t = MS_THP_ALWAYS;
		else if (!strcmp(open + 1, "madvise"))
			t = MS_THP_MADVISE;
		else if (!strcmp(open + 1, "never"))
			t = MS_THP_NEVER;
	}
	fclose(f);
	return t;
}

const char *ms_thp__name(enum ms_thp t)
{
	static const char *const n[] = { "unknown", "never", "madvise", "always" };

	return t <= MS_THP_ALWAYS ? n[t] : "unknown";
}
