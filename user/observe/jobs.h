/* SPDX-License-Identifier: MIT */
/* How a process becomes a job: orchestrators and their job boundaries, watch rules, names from the job. */
#ifndef JOBS_H
#define JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "observe/jobspec.h"
#include "observe/watch.h"

struct jobs;
struct tracker;
struct probes;
struct execution;
struct ww_event_hdr;

/* What an orchestrator's children that did not become executions added up to. */
struct orch_totals {
	__u64 absorbed;			/* children that ended before the minimum duration */
	__u64 ignored;			/* children that executed an ignored program */
	__u64 on_cpu_ns;		/* of the absorbed ones */
	__u64 syscalls;
	__u64 peak_rss_bytes;		/* the largest of theirs */
	__u64 net_sent_bytes;
	__u64 net_recv_bytes;
};

struct orch_source;

/* A watched orchestrator. */
struct orch {
	__u64 id;
	pid_t pid;
	int pidfd;
	__u64 start_ticks;		/* /proc/PID/stat starttime: with the pid, its identity */
	__u64 registered_ms;
	__u32 rule;			/* the watch rule that found it, 0: registered by hand */
	char comm[16];
	struct job_spec spec;
	struct orch_totals own;
	__u64 jobs;			/* executions it started */
	struct orch_source *fork_source;	/* its own argv and environment: its forked children's (jobs.c) */
};

/* What an orchestrator is registered as (history keeps it). */
struct orch_reg {
	__u64 id;			/* 0: a new id */
	pid_t pid;
	__u64 start_ticks;		/* 0: read now */
	__u64 registered_ms;		/* 0: now */
	__u32 rule;
	struct orch_totals own;		/* carried over from before a restart */
	__u64 jobs;
};

/* What the owner (the daemon, or `workerwatch run`) hears of. */
struct jobs_hooks {
	void *ctx;
	/* A job is decided and named: announce it. When e->root_exited it already ended. */
	void (*started)(void *ctx, struct execution *e);
	/* An announced job's root executed its program: its names and labels were renewed. */
	void (*renamed)(void *ctx, struct execution *e);
	/* Any event of an announced execution, after the tracker applied it. */
	void (*event)(void *ctx, struct execution *e, const struct ww_event_hdr *h, const void *data);
	/* A watch rule found an orchestrator, or one's own totals grew: keep it. */
	void (*orch_saved)(void *ctx, const struct orch *o);
	/* An orchestrator exited or was removed. */
	void (*orch_ended)(void *ctx, const struct orch *o, bool exited);
};

struct jobs_opts {
	const char *env_labels;		/* comma-separated environment variables that become labels */
	__u64 slow_threshold_ns;	/* of the executions it starts */
};

/* Takes over the tracker's hooks; events reach the owner through hooks. */
struct jobs *jobs__new(struct tracker *t, struct probes *p, const struct jobs_opts *o, const struct jobs_hooks *h);
/* Frees everything; the orchestrators' pidfds are closed (the kernel state is left as it is). */
void jobs__free(struct jobs *j);

/*
 * Watches the process behind pidfd (reg->pid) as an orchestrator whose jobs
 * follow spec; takes over pidfd on success. tag: mark its tasks now (false
 * when the kernel still has them from before a restart). -ESRCH gone,
 * -EBUSY tracked already, -ECHILD a zombie, -ENOSPC too many.
 */
int jobs__add_orch(struct jobs *j, const struct orch_reg *reg, const struct job_spec *spec, int pidfd, bool tag,
		   const struct orch **out);
/* Stops watching it (its running jobs go on); -ENOENT when unknown. */
int jobs__remove_orch(struct jobs *j, __u64 id);
const struct orch *jobs__find_orch(struct jobs *j, __u64 id);
int jobs__nr_orchs(const struct jobs *j);
/* Calls fn for each orchestrator, in id order; stops at a non-zero return. */
int jobs__foreach_orch(struct jobs *j, int (*fn)(const struct orch *o, void *ctx), void *ctx);

/* Replaces the watch rules by copies of rules[0..n) and gives them to the kernel; -EINVAL with err. */
int jobs__set_rules(struct jobs *j, const struct watch_rule *rules, int n, char *err, size_t errlen);
const struct watch_rule *jobs__rules(const struct jobs *j, int *n);
/* Tracks the processes the rules (rule_id, or 0: all) select now that nothing tracks; returns how many. */
int jobs__adopt(struct jobs *j, __u32 rule_id);
/* Whether there is anything that needs the BPF programs attached: orchestrators or rules. */
bool jobs__busy(const struct jobs *j);

/*
 * Names e (e->pid set) by spec from its process as it is now: environment,
 * argv, comm and cgroup from /proc. Labels of spec and of the environment
 * are added to e->labels over what it has.
 */
void jobs__name(struct jobs *j, struct execution *e, const struct job_spec *spec);

/*
 * Announces pending jobs whose time came, absorbs short ones that ended and
 * drops orchestrators that exited. Returns the ms until it has more to do
 * (at most max_ms).
 */
int jobs__tick(struct jobs *j, int max_ms);
/* At stop: pending jobs are announced, so that history and the next start have them. */
void jobs__stop(struct jobs *j);

#endif
