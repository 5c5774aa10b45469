/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Orchestrators in the kernel: which of their descendants become jobs, shared by lifecycle and watch. */
#ifndef JOBS_BPF_H
#define JOBS_BPF_H

#include "workerwatch.h"

/* Each orchestrator's job boundary; no entry means the default (each child is a job). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WW_MAX_ORCHS);
	__type(key, __u64);
	__type(value, struct ww_orch);
} orchs SEC(".maps") __weak;

/* Whether a process the orchestrator's task forks is a job from its fork on (else at an exec). */
static __always_inline bool orch_forks_jobs(__u64 orch_id)
{
	struct ww_orch *o = bpf_map_lookup_elem(&orchs, &orch_id);

	return !o || o->jobs == WW_JOBS_CHILDREN;
}

/* An orchestrator's child, a job from its fork on: its root's first exec names it. */
static __always_inline void mark_orch_child(struct ww_exec_shared *shared, __u32 tgid)
{
	shared->root_tgid = tgid;
	shared->job_flags |= WW_EXEC_NAME_AT_EXEC;
}

#endif /* JOBS_BPF_H */
