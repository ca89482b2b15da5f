/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* log.h - the one logger of the programs (library-like modules never log). */
#ifndef MEMSIGHT_LOG_H
#define MEMSIGHT_LOG_H

enum ms_log_level { MS_LOG_ERR, MS_LOG_WARN, MS_LOG_INFO, MS_LOG_DEBUG };

extern enum ms_log_level ms_log_level;
extern const char *ms_log_prog;	/* prefix of every line */

void ms_log(enum ms_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Route libbpf's output through ms_log: warnings always, debug only at -v. */
void ms_log__setup_libbpf(void);

#define pr_err(...)	ms_log(MS_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	ms_log(MS_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	ms_log(MS_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	ms_log(MS_LOG_DEBUG, __VA_ARGS__)

#endif
