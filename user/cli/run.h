/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * run.h - `memsight run [OPTIONS] -- CMD [ARGS...]`: run a command under
 * observation from its first instruction, report what it allocated, leaked
 * and held as RSS, and fail a CI job (MS_EXIT_BUDGET) when a budget breaks.
 */
#ifndef MEMSIGHT_RUN_H
#define MEMSIGHT_RUN_H

#include "ctl/options.h"

/* The exit status memsight run ends with (the command's own, 86, 127, 1). */
int run__main(struct cli_args *c);

#endif
