/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * run_maps.h - what a process memsight run stopped maps, for what to do at
 * the stop: probe it now (its allocator is mapped already), at its entry
 * point, or read it at its exit. Each call reads /proc/PID/maps once, for
 * every check of its stop; maps that cannot be read answer false.
 */
#ifndef MEMSIGHT_RUN_MAPS_H
#define MEMSIGHT_RUN_MAPS_H

#include <stdbool.h>
#include <sys/types.h>

struct ms_target;

/*
 * At pid's exec stop: is the program probed now, as its allocator is mapped
 * already (a file defining malloc that t's probes are not on) or it is a
 * static Go program? *ret_go: it is a Go program (false when its allocator
 * is mapped already: not looked at).
 */
bool run_maps__probe_at_exec(pid_t pid, const struct ms_target *t, bool *ret_go);

/* At pid's entry point: does it map a file defining malloc that t's probes are not on? */
bool run_maps__new_allocator(pid_t pid, const struct ms_target *t);

/* At t's exit stop: does it map an allocator t's probes are on (its allocations were seen)? */
bool run_maps__allocator_mapped(const struct ms_target *t);

#endif /* MEMSIGHT_RUN_MAPS_H */
