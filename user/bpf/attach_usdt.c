// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * attach_usdt.c - a process with memsight's sampler library loaded
 * (include/memsight_sampler.h) is attached at the library's USDT sites,
 * memsight:alloc and memsight:free, instead of the malloc-family uprobes:
 * it traps once per sample, not on every call. libbpf bumps the probes'
 * semaphores, which is how the library knows somebody listens.
 *
 * The mean: the session's sampling mean is written into the library's
 * memsight_sampler_mean_bytes when one was asked for (1: every
 * allocation), else the library's own is read and used; the BPF side
 * records only samples drawn with that mean (ms_pid_cfg.usdt_mean).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/errmsg.h"
#include "target/procfs.h"
#include "target/sampler.h"
#include "bpf/session_int.h"
#include "memsight.skel.h"

/* The mean BPF checks samples against (and samples page faults at). */
static int set_cfg_mean(struct ms_session *s, const struct ms_target *t, uint64_t mean)
{
	int fd = bpf_map__fd(s->skel->maps.pids);
	uint32_t tgid = t->pid;
	struct ms_pid_cfg cfg;

	if (bpf_map_lookup_elem(fd, &tgid, &cfg))
		return -errno;
	cfg.usdt_mean = mean;
	return bpf_map_update_elem(fd, &tgid, &cfg, BPF_ANY) ? -errno : 0;
}

static int attach_site(struct ms_target *t, struct bpf_program *prog, const char *path,
		       const char *name)
{
	struct bpf_link *l = bpf_program__attach_usdt(prog, attach__probe_pid(t), path,
						      MEMSIGHT_SAMPLER_PROVIDER, name, NULL);
	int err;

	if (!l)
		return -errno;
	err = linkset__add(t->links, l);
	if (err)
		bpf_link__destroy(l);
	return err;
}

/* The library's mean, set to the session's if it asked for one. */
static int take_mean(struct ms_session *s, struct ms_target *t, uint64_t addr)
{
	uint64_t orig;
	int err = sampler__read_word(t->pid, addr, &orig);

	if (err)
		return err;
	t->sampler_mean_addr = addr;
	t->sampler_mean_orig = orig;
	/* the library reads 0 as 1 (every allocation), and says so in its probes */
	t->sampler_mean = s->c_sample_bytes ? s->c_sample_bytes : orig ? orig : 1;
	if (t->sampler_mean != orig) {
		err = sampler__write_word(t->pid, addr, t->sampler_mean);
		if (err)
			return err;
		t->sampler_mean_set = true;
	}
	return 0;
}

void attach__sampler_restore(struct ms_target *t)
{
	uint64_t now;

	if (!t->sampler_mean_set)
		return;
	/* not after an exec, nor if somebody set another mean since */
	if (sampler__read_word(t->pid, t->sampler_mean_addr, &now) == 0 && now == t->sampler_mean)
		sampler__write_word(t->pid, t->sampler_mean_addr, t->sampler_mean_orig);
	t->sampler_mean_set = false;
}

/*
 * The sampler's module among t's mappings: 1 and its path and mean's
 * address, or 0. -EAGAIN: it is the library but its mean is in no writable
 * mapping yet: the dynamic linker maps a library's segments one after the
 * other, and a process caught in between (memsightd attaches a rule's
 * process as soon as it starts) would otherwise get the uprobes for good.
 */
static int find_sampler(struct ms_target *t, char **ret_path, uint64_t *ret_addr)
{
	for (size_t i = 0; i < t->maps.n; i++) {
		const struct ms_map *m = &t->maps.v[i];
		struct ms_sampler_info si;
		char *path;

		if (!m->path || m->path[0] != '/' || m->perms[2] != 'x')
			continue;
		path = ms_map__open_path(t->pid, m);
		if (!path)
			return -ENOMEM;
		/* another ABI, or exports that do not read: the uprobe path */
		if (sampler__probe_elf(path, &si) == 1 && si.abi == MEMSIGHT_SAMPLER_ABI) {
			if (sampler__word_addr(&t->maps, m, &si, si.mean_vaddr, ret_addr)) {
				*ret_path = path;
				return -EAGAIN;
			}
			if (!si.dropped_vaddr || sampler__word_addr(&t->maps, m, &si, si.dropped_vaddr,
								    &t->sampler_dropped_addr))
				t->sampler_dropped_addr = 0;
			if (!si.pending_vaddr || sampler__word_addr(&t->maps, m, &si, si.pending_vaddr,
								    &t->sampler_pending_addr))
				t->sampler_pending_addr = 0;
			*ret_path = path;
			t->sampler_inode = m->inode;
			t->sampler_dev_major = m->dev_major;
			t->sampler_dev_minor = m->dev_minor;
			return 1;
		}
		free(path);
	}
	return 0;
}

int attach__sampler(struct ms_session *s, struct ms_target *t, char *errbuf, size_t errlen)
{
	char *path = NULL;
	uint64_t addr;
	int err = find_sampler(t, &path, &addr);

	if (err == -EAGAIN) {
		/* -ENOENT: what memsightd retries (not ready yet), as before libc is mapped */
		err = ms_fail(errbuf, errlen, -ENOENT, "sampler library %s in process %d is not "
			      "mapped whole yet (its mean is in no writable mapping: the dynamic "
			      "linker still at work?)", path, t->pid);
		goto out;
	}
	if (err <= 0)
		return err == -ENOMEM ? ms_fail(errbuf, errlen, err, "out of memory") : 0;
	err = take_mean(s, t, addr);
	if (err) {
		ms_fail(errbuf, errlen, err, "sampler library in process %d: cannot %s its mean: "
			"%s", t->pid, s->c_sample_bytes ? "set" : "read", strerror(-err));
		goto out;
	}
	err = set_cfg_mean(s, t, t->sampler_mean);
	if (!err)
		err = attach_site(t, s->skel->progs.ms_usdt_free, path, MEMSIGHT_SAMPLER_PROBE_FREE);
	if (!err)
		err = attach_site(t, s->skel->progs.ms_usdt_alloc, path, MEMSIGHT_SAMPLER_PROBE_ALLOC);
	if (err) {
		ms_fail(errbuf, errlen, err, "cannot attach the sampler library's USDT probes in "
			"%s: %s", path, strerror(-err));
		attach__sampler_restore(t);
		goto out;
	}
	t->usdt = true;
	err = 1;
out:
	free(path);
	return err;
}
