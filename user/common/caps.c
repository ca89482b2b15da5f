// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "common/caps.h"

int ms_drop_thread_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[2] = {};

	/* capset(2) sets the calling thread's sets, not the process's */
	return syscall(SYS_capset, &hdr, none) ? -errno : 0;
}
