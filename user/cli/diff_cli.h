/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* diff_cli.h - `memsight diff BASE NEW`: regressions against a baseline, a CI gate. */
#ifndef MEMSIGHT_DIFF_CLI_H
#define MEMSIGHT_DIFF_CLI_H

#include "model/budget.h"

/* Exit status when the total or a stack grew past the gate: run's for a broken budget. */
#define MS_EXIT_REGRESSION	MS_EXIT_BUDGET
/* Default noise floor of --min-bytes (README "Regressions against a baseline"). */
#define DIFF_DEFAULT_MIN_BYTES	(64u << 10)
#define DIFF_DEFAULT_MAX_GROWTH	10.0

/* argv[0] is "diff". Returns the exit status: 0, MS_EXIT_REGRESSION, 2 (usage, input), 1. */
int diff_cli__main(int argc, char **argv);
/* The usage lines memsight's --help shows for diff. */
extern const char diff_cli__usage[];

#endif /* MEMSIGHT_DIFF_CLI_H */
