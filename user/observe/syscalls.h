/* SPDX-License-Identifier: MIT */
/* Syscall numbers to names for the architecture workerwatch was built for. */
#ifndef SYSCALLS_H
#define SYSCALLS_H

/* The name of syscall nr, or "syscall_<nr>" written into buf when unknown. */
const char *syscall__name(unsigned int nr, char *buf, unsigned long size);

#endif
