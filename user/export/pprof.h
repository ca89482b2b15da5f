/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pprof.h - write a profile as gzip-compressed profile.proto, the format
 * `go tool pprof`, pprof and most profiling UIs read.
 *
 * Sample types, in this order: alloc_objects/count, alloc_space/bytes,
 * inuse_objects/count, inuse_space/bytes (default inuse_space); values are
 * unsampled when the profile has a sample period. Each sample carries a
 * "kind" label with the allocator ("malloc", "mmap", ...).
 */
#ifndef MEMSIGHT_PPROF_H
#define MEMSIGHT_PPROF_H

#include <stdio.h>

#include "model/model.h"

/* Largest uncompressed profile we build; larger gives -EFBIG. */
#define PPROF_MAX_BYTES (1ull << 30)

/* 0, -ENOMEM, -EFBIG, or -EIO when out could not be written. */
int pprof__write(const struct ms_profile *p, FILE *out);

#endif /* MEMSIGHT_PPROF_H */
