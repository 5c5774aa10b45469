/* SPDX-License-Identifier: MIT */
/* What workerwatch knows of one execution: its identity, processes, totals and outcome. */
#ifndef EXECUTION_H
#define EXECUTION_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include "workerwatch.h"

#define EXEC_NAME_LEN 128

enum failure_category {
	FAILURE_NONE,
	FAILURE_EXIT_NONZERO,
	FAILURE_CRASHED,
	FAILURE_KILLED,
	FAILURE_OOM,
	FAILURE_TIMEOUT,
	FAILURE_NOT_FOUND,
	FAILURE_PERMISSION,
	FAILURE_LOST,		/* it ended, but how was not seen (its exit event was lost) */
	FAILURE_MAX,
};

struct process {
	__u32 pid;
	__u32 ppid;
	char comm[WW_COMM_LEN];
	char filename[WW_FILENAME_LEN];	/* last exec, empty if none seen */
	__u64 start_ns;			/* CLOCK_MONOTONIC */
	__u64 end_ns;
	/* at exit; final (up to its last instruction, all threads) once done */
	__u64 on_cpu_ns;
	__u64 user_cpu_ns;		/* on_cpu_ns split as getrusage splits it (docs/REPORT.md) */
	__u64 system_cpu_ns;
	__u64 maxrss_bytes;
	__u64 minflt;
	__u64 majflt;
	__u64 nvcsw;
	__u64 nivcsw;
	bool exited;
	bool done;			/* its last thread switched out for good: the figures are final */
	bool oom_victim;
	/* when oom_victim: whose allocation ran the OOM killer, and the victim's memory cgroup */
	__u32 oom_trigger_pid;
	char oom_trigger_comm[WW_COMM_LEN];
	char oom_memcg[256];
	int exit_status;		/* wait(2) status, valid when exited */
	/* the last fatal signal generated for it, and by whom */
	int fatal_sig;
	__u32 sender_pid;
	char sender_comm[WW_COMM_LEN];
};

struct syscall_summary {
	__u32 nr;
	struct ww_syscall_stats stats;
};

struct slow_syscall {
	__u32 pid;
	__u32 nr;
	__u64 duration_ns;
	__s64 ret;
	__u64 ts_ns;
};

struct execution {
	__u64 id;
	char session[EXEC_NAME_LEN];
	char agent[EXEC_NAME_LEN];
	char task[EXEC_NAME_LEN];
	char **argv;			/* NULL-terminated copy */
	pid_t pid;			/* the root process */

	__u64 start_realtime_ns;
	__u64 end_realtime_ns;
	__u64 start_ns;			/* CLOCK_MONOTONIC */
	__u64 end_ns;

	bool ended;
	int exit_status;		/* wait(2) status of the root */
	int exec_errno;			/* the root could not exec CMD */
	bool timed_out;
	bool end_unseen;		/* found gone without an exit event: the outcome is unknown */

	struct process *procs;
	int nr_procs, cap_procs;
	int procs_offset;		/* processes it had before a daemon restart that are gone */

	struct ww_exec_stats totals;
	/*
	 * CLOCK_MONOTONIC of the live read (tracker__collect_live) totals are
	 * as of, running tasks' uncharged time included; 0 after a plain read.
	 * A live view's duration is taken at it, so that a rate between two
	 * views divides what ran by the time it had, however late the view.
	 */
	__u64 totals_at_ns;
	/*
	 * The utime and stime samples of its tracked threads still running, at
	 * the last live read: the proportion in which the CPU not yet split
	 * (totals.on_cpu_ns less the finished processes' user and system) is.
	 */
	__u64 running_utime_ns;
	__u64 running_stime_ns;
	struct ww_exec_mem mem;
	struct syscall_summary *syscalls;
	int nr_syscalls;
	struct slow_syscall *slow;
	int nr_slow, cap_slow;
	__u64 slow_dropped;		/* beyond what we keep in memory */
	__u64 slow_threshold_ns;
	__u64 lost_events;		/* observer-wide, during this execution */
	const char **unavailable;
	int nr_unavailable;

	/* the daemon's bookkeeping */
	__u64 db_id;			/* id in the history database */
	char labels[1024];		/* JSON object of strings */
	int retry_count;
	int completed_steps;		/* -1: not reported */
	int total_steps;
	char current_step[EXEC_NAME_LEN];
	__u64 progress_at_ms;		/* last progress report (Unix ms), 0: none yet */
	char status_override[16];	/* "completed" or "failed" from the orchestrator */
	bool named_by_exec;		/* an orchestrator's child gets its names at its root's first exec */
	/* jobs of orchestrators and watch rules (observe/jobs.c) */
	bool pending;			/* not announced yet: not in history, left out of tracker__foreach */
	__u64 announce_at_ns;		/* a pending job is announced then (CLOCK_MONOTONIC) if it still runs */
	__u64 orch_id;			/* the orchestrator it is a job of, 0: none */
	__u32 rule;			/* the watch rule that selected it, 0: none */
	pid_t orch_pid;			/* a fatal signal from its orchestrator, */
	pid_t job_parent;		/* or from the process that started it, ends it stopped_by_orchestrator */
	bool stop_is_failure;		/* ... unless its orchestrator counts that as a failure */
	bool root_exited;		/* root's exit event seen; finalized once settled */
	__u64 gone_seen_ns;		/* root first found gone with no exit event, 0: not */
	__u64 root_exit_ns;
	bool detached;
};

struct failure {
	enum failure_category category;
	char reason[256];
	int signal;			/* 0 when none */
	__u32 sender_pid;		/* 0 when the kernel or the process itself */
	char sender_comm[WW_COMM_LEN];
	bool core_dumped;
	int oom_victims;
	/* the OOM kill of the root (or the first victim of the tree) */
	__u32 oom_trigger_pid;
	char oom_trigger_comm[WW_COMM_LEN];
	char oom_memcg[256];
};

const char *failure__category_name(enum failure_category c);

/* Explains how the execution ended, from the kernel's evidence. */
void execution__classify(const struct execution *e, struct failure *f);

/*
 * Whether its own orchestrator ended it: the root died of a fatal signal its
 * orchestrator (or the process that started it) sent. An outcome of its own,
 * not a failure, unless e->stop_is_failure.
 */
bool execution__stopped_by_orchestrator(const struct execution *e);

/* Exit code to pass on, as a shell would: code, 128+signal, 127 not found, 126 not executable. */
int execution__shell_status(const struct execution *e);

/* Totals over the tree, from what the tracker last collected. */
/* Resident memory of the live processes now (file + anon + shmem). */
__u64 execution__rss_bytes(const struct execution *e);
/* The highest resident memory the tree reached. */
__u64 execution__peak_rss_bytes(const struct execution *e);
/*
 * The tree's peak memory with shared pages once: anonymous pages of every
 * process plus the largest file+shmem set of any one (docs/REPORT.md).
 */
__u64 execution__peak_memory_bytes(const struct execution *e);
/*
 * The tree's on-CPU time as user and system time; they add up to
 * totals.on_cpu_ns exactly. Finished processes are split as getrusage
 * splits them; the rest in the proportion of the running threads' samples.
 */
__u64 execution__user_cpu_ns(const struct execution *e);
__u64 execution__system_cpu_ns(const struct execution *e);
/* Syscalls made, and those that returned an error. */
__u64 execution__syscalls(const struct execution *e);
__u64 execution__syscall_errors(const struct execution *e);
/* Bytes on sockets of every protocol: dir 0 sent, 1 received. */
__u64 execution__net_bytes(const struct execution *e, int dir);
/* Processes of the tree still running. */
__u64 execution__live_procs(const struct execution *e);

/* The process entry for pid (the live one when the pid was reused), or NULL. */
struct process *execution__find_proc(struct execution *e, __u32 pid);
/* Adds a process; NULL on allocation failure. */
struct process *execution__add_proc(struct execution *e, __u32 pid, __u32 ppid);

void execution__free(struct execution *e);

#endif
