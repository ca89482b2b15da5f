/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * sdnotify.h - the systemd notification protocol (READY=1, STOPPING=1,
 * WATCHDOG=1): one datagram to $NOTIFY_SOCKET. A stable, documented
 * protocol of a few lines, so no libsystemd dependency for it.
 */
#ifndef MEMSIGHT_SDNOTIFY_H
#define MEMSIGHT_SDNOTIFY_H

#include <stdint.h>

/* 0 sent, 0 also when not run by systemd (no NOTIFY_SOCKET), -errno on failure. */
int sdnotify__send(const char *msg);
/* Watchdog interval from $WATCHDOG_USEC (for this PID), 0 if none. */
uint64_t sdnotify__watchdog_usec(void);

#endif
