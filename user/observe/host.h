/* SPDX-License-Identifier: MIT */
/* The host's CPU, memory and pressure, from /proc: for /health and for alert rules. */
#ifndef HOST_H
#define HOST_H

#include <stdbool.h>
#include <linux/types.h>

/* /proc/stat's CPU counters at a previous reading. */
struct host_cpu {
	__u64 total, idle;
};

/* CPU busy % since prev, which it updates: 0 on the first call, -1 when /proc/stat is unreadable. */
double host__cpu_percent(struct host_cpu *prev);
/* MemTotal and MemAvailable in bytes; -EIO when /proc/meminfo is unreadable. */
int host__memory(__u64 *total, __u64 *available);

struct psi_avg {
	double avg10, avg60, avg300;
	bool present;
};

/* /proc/pressure/RESOURCE ("cpu", "memory", "io"): its some and full lines; -ENOENT without PSI. */
int host__pressure(const char *resource, struct psi_avg *some, struct psi_avg *full);

#endif
