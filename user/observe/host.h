/* SPDX-License-Identifier: MIT */
/* The host's CPU, memory and pressure, from /proc: for /health and for alert rules. */
#ifndef HOST_H
#define HOST_H

#include <stdbool.h>
#include <sys/types.h>
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

/*
 * The memory limit of pid's cgroup and its ancestors, the smallest on the
 * way up (v1 memory controller at /sys/fs/cgroup/memory, or v2 at
 * /sys/fs/cgroup), else the host's MemTotal; 0 when none is readable.
 */
__u64 host__memory_limit(pid_t pid);

/* This process's own use of the host, as a Prometheus client library reports it (process_*). */
struct process_usage {
	double user_s, system_s;	/* CPU time of all its threads (getrusage: the kernel's split) */
	__u64 rss_bytes, virtual_bytes;
	__u64 open_fds, max_fds;
	double start_time_s;		/* Unix time it started */
};

/* Reads /proc/self and getrusage; -errno when /proc is unreadable (fields read so far stay). */
int host__self(struct process_usage *u);

#endif
