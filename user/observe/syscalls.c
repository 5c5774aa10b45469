// SPDX-License-Identifier: MIT
/* Syscall numbers to names for the architecture workerwatch was built for. */
#include <stdio.h>
#include "syscall_names.h"
#include "observe/syscalls.h"

const char *syscall__name(unsigned int nr, char *buf, unsigned long size)
{
	if (nr < sizeof(syscall_names) / sizeof(syscall_names[0]) && syscall_names[nr])
		return syscall_names[nr];
	snprintf(buf, size, "syscall_%u", nr);
	return buf;
}
