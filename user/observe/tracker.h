/* SPDX-License-Identifier: MIT */
/* Registers executions in the kernel's maps and turns its lifecycle events into process records. */
#ifndef TRACKER_H
#define TRACKER_H

#include "observe/execution.h"

struct tracker;
struct probes;
struct ww_event_hdr;
struct ww_job_event;

/* What the daemon wants to hear of, called from tracker__poll. */
struct tracker_hooks {
	void *ctx;
	/* An orchestrator spawned a process, already tracked as exec_id: create and adopt it. */
	void (*orch_child)(void *ctx, __u64 exec_id, __u64 orch_id, const struct ww_event_hdr *h);
	/* Any event of a known execution, after the tracker applied it. */
	void (*event)(void *ctx, struct execution *e, const struct ww_event_hdr *h, const void *data);
	/* A process became a job at exec, or needs a decision (struct ww_job_event, size bytes of it). */
	void (*job)(void *ctx, const struct ww_job_event *ev, size_t size);
};

void tracker__set_hooks(struct tracker *t, const struct tracker_hooks *hooks);

struct tracker *tracker__new(struct probes *probes);
void tracker__free(struct tracker *t);

/*
 * Tracks e from now on, rooted at the process behind pidfd (e->pid); its
 * future descendants inherit it in the kernel. e->id is assigned here.
 * held_before_exec: the root is our own child waiting to exec the command,
 * so its memory counts only from the exec on.
 */
int tracker__start(struct tracker *t, struct execution *e, int pidfd, bool held_before_exec);

/*
 * Tracks the running process behind pidfd (e->pid), its threads and its
 * existing and future descendants; charged from now on. -ESRCH when it is
 * gone, -EBUSY when another execution already tracks it.
 */
int tracker__attach(struct tracker *t, struct execution *e, int pidfd);

/* Makes the process behind pidfd an orchestrator: each process it forks becomes an execution. */
int tracker__watch_orchestrator(struct tracker *t, __u64 orch_id, pid_t pid, int pidfd);

/* Takes an execution the kernel already started (an orchestrator's child) into the tracker. */
int tracker__adopt(struct tracker *t, struct execution *e);

/*
 * Takes up e (e->id set) that the kernel has been tracking since an earlier
 * daemon, with the processes it has now; -ENOENT when the kernel no longer
 * has it.
 */
int tracker__resume(struct tracker *t, struct execution *e);
/* Calls fn for each execution the kernel has that the tracker does not know, with its orchestrator (0: none). */
int tracker__foreach_kernel_id(struct tracker *t, int (*fn)(__u64 id, __u64 orch_id, void *ctx), void *ctx);
/* Stops tracking e here while the kernel goes on (a daemon that stops and keeps its state). */
void tracker__forget(struct tracker *t, struct execution *e);
/* Deletes the kernel's entries of an execution the tracker does not know. */
void tracker__forget_kernel_id(struct tracker *t, __u64 id);

/*
 * Events of execution from that are still queued go to execution to from
 * now on (a job folded into the one it was started inside), or with to 0
 * are dropped (a job userspace decided against). Kept for the last few.
 */
void tracker__alias(struct tracker *t, __u64 from, __u64 to);

int tracker__count(const struct tracker *t);
/* The tracked execution with this kernel id, or NULL. */
struct execution *tracker__find(struct tracker *t, __u64 id);
/*
 * Calls fn for each execution tracked when the walk starts that is still
 * tracked when its turn comes, in id order; fn may start, adopt and finish
 * executions. Stops at fn's first non-zero return and returns it. Pending
 * executions (not announced yet) are left out.
 */
int tracker__foreach(struct tracker *t, int (*fn)(struct execution *e, void *ctx), void *ctx);
/* The same for the pending executions only. */
int tracker__foreach_pending(struct tracker *t, int (*fn)(struct execution *e, void *ctx), void *ctx);

/* Consumes pending events, waiting up to timeout_ms; returns events handled or -errno. */
int tracker__poll(struct tracker *t, int timeout_ms);
/* An fd that is readable when events are pending, for poll(2). */
int tracker__fd(struct tracker *t);

/* Copies the kernel's current totals of e into it. */
int tracker__collect(struct tracker *t, struct execution *e);
/* The same for every tracked execution, in one pass over the syscall map. */
int tracker__collect_all(struct tracker *t);
struct ww_task_info;
/*
 * Copies the kernel's totals of only (or, when NULL, of every execution),
 * plus the CPU time running tasks have not been charged yet (charging
 * happens at switch-out): for live views, not for final totals. The task
 * list it reads goes to tasks[max] when given, for the caller to reuse.
 * Returns the number of tasks read, or -errno.
 */
int tracker__collect_live(struct tracker *t, struct execution *only,
			  struct ww_task_info *tasks, int max);
/* Deletes syscall entries whose execution is gone (a syscall that raced a finish); returns how many. */
int tracker__sweep(struct tracker *t);
/* Forgets e in the kernel; descendants that outlive it stop being tracked. */
void tracker__finish(struct tracker *t, struct execution *e);

/* Realtime ns of a CLOCK_MONOTONIC timestamp. */
__u64 tracker__realtime(__u64 mono_ns);
__u64 tracker__now_mono(void);

#endif
