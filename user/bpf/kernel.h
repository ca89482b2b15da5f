/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * kernel.h - what the running kernel offers memsight, found by probing it
 * (a trivial program and link, BTF types), never by its version number; and
 * the raw BPF_LINK_CREATE for uprobe_multi and uprobe session links, which
 * libbpf 1.1 and the 6.1 UAPI headers predate.
 */
#ifndef MEMSIGHT_KERNEL_H
#define MEMSIGHT_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct btf;

enum ms_kfeature {
	MS_KF_BTF,		/* /sys/kernel/btf/vmlinux: required */
	MS_KF_RINGBUF,		/* BPF ring buffer (5.8): required */
	MS_KF_UPROBE_MULTI,	/* one link per module (6.6) */
	MS_KF_UPROBE_SESSION,	/* entry decides whether the return traps (6.12) */
	MS_KF_FIND_VMA,		/* bpf_find_vma (5.17): DWARF stack copies bounded exactly */
	MS_KF_RSS_STAT,		/* tp_btf/rss_stat (5.5) */
	MS_KF_RSS_PERCPU,	/* RSS counters are percpu_counters (6.2), not batched per thread */
	MS_KF_PAGE_FAULT_USER,	/* tp_btf/page_fault_user: fault stacks */
	MS_KF_MARK_VICTIM,	/* tp_btf/mark_victim: OOM kills */
	MS_KF_MARK_VICTIM_TASK,	/* ... with the victim's task (6.8), not its pid alone */
	MS_KF__MAX
};

struct ms_kfeatures {
	bool probed;			/* the probes that need privileges ran */
	bool has[MS_KF__MAX];
};

/* Decide the BTF-based features from a kernel's BTF (vmlinux); testable on any BTF. */
void ms_kfeatures__from_btf(const struct btf *btf, struct ms_kfeatures *kf);

/*
 * Probe the running kernel once (cached; thread-unsafe on first call).
 * Without privileges the link probes cannot run: probed stays false.
 */
const struct ms_kfeatures *ms_kfeatures(void);

const char *ms_kfeature__name(enum ms_kfeature f);

/* "name yes|no [(why)]" per feature, one a line. */
void ms_kfeatures__print(const struct ms_kfeatures *kf, FILE *out);

/* The absent features that change what the user sees, joined: "" when none. */
void ms_kfeatures__summary(const struct ms_kfeatures *kf, char *buf, size_t len);

/* Why memsight cannot load on this kernel (a required feature is absent), or NULL. */
const char *ms_kfeatures__unusable(const struct ms_kfeatures *kf);

/* Transparent huge pages, as /sys/kernel/mm/transparent_hugepage/enabled says. */
enum ms_thp { MS_THP_UNKNOWN, MS_THP_NEVER, MS_THP_MADVISE, MS_THP_ALWAYS };

/* The THP mode under sys_root ("/sys" on a live system; a fixture in tests). */
enum ms_thp ms_thp_mode(const char *sys_root);
const char *ms_thp__name(enum ms_thp t);

#define MS_TRACE_UPROBE_MULTI	48	/* enum bpf_attach_type, kernel >= 6.6 */
#define MS_TRACE_UPROBE_SESSION	57	/* ... kernel >= 6.12 */

/* A uprobe_multi (or session) link; fd or -errno. pid <= 0: every process. */
int ms_uprobe_link(int prog_fd, uint32_t attach_type, const char *path, const uint64_t *offsets,
		   const uint64_t *cookies, uint32_t cnt, bool retprobe, pid_t pid);

#endif
