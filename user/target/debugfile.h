/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * debugfile.h - where a module's separate debug file is: by build-id under
 * the debug directory, then by .gnu_debuglink beside the module, in its
 * .debug/ and under the debug directory (gdb's order).
 *
 * Library-like: never logs.
 */
#ifndef MEMSIGHT_DEBUGFILE_H
#define MEMSIGHT_DEBUGFILE_H

#include "target/elf.h"

/*
 * The debug file of e (opened from path), searched inside root (the
 * target's mount namespace, e.g. "/proc/PID/root", or NULL for the host's)
 * under debug_dir. A candidate is accepted only if it belongs to e: equal
 * build-ids when both have one, else (debuglink only) the link's CRC32; e
 * itself never is. NULL if none.
 */
struct ms_elf *debugfile__find(const char *debug_dir, const struct ms_elf *e, const char *path,
			       const char *root);

#endif /* MEMSIGHT_DEBUGFILE_H */
