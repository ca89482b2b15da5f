/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * size.h - byte sizes as people write them on a command line: "512K",
 * "1M", "2G", "1.5M", "4096", "64KiB". The one parser of sizes.
 *
 * Units are binary (K = 1024, M = 1024 K, ...; "KB", "KiB", "k" and "kib" mean the
 * same), an optional "B" ends it; a fraction is allowed before a unit and
 * rounded down to whole bytes. Nothing else: no sign, no spaces, no
 * exponent, nothing above max.
 */
#ifndef MEMSIGHT_SIZE_H
#define MEMSIGHT_SIZE_H

#include <stdint.h>

/* s -> bytes in 0..max. 0, or -EINVAL (malformed) / -ERANGE (above max). */
int size__parse(const char *s, uint64_t max, uint64_t *ret);

#endif
