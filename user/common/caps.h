/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* caps.h - threads that need no privilege give theirs up. */
#ifndef MEMSIGHT_CAPS_H
#define MEMSIGHT_CAPS_H

/* Drop every capability of the calling thread (the process's other threads
 * keep theirs): 0 or -errno. */
int ms_drop_thread_caps(void);

#endif
