// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Task iterators: attach an execution to a running process tree, and list tracked tasks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define MAX_DEPTH 64	/* ancestors looked at; deeper descendants are not attached */

/* What ww_attach_iter attaches; set by userspace through .bss before each run. */
__u32 attach_tgid;
__u64 attach_exec_id;	/* 0 with attach_orch_id: attach an orchestrator */
__u64 attach_orch_id;
__u32 attach_tasks;	/* out: tasks tagged */
__u32 attach_skipped;	/* out: tasks already tracked by another execution */
__u32 attach_live;	/* out: tagged tasks that have not exited (a zombie has none) */

/* Whether task is attach_tgid's (a thread of it) or, for an execution, below it. */
static __always_inline bool in_subtree(struct task_struct *task)
{
	struct task_struct *p = task;
	int depth;

	for (depth = 0; depth < MAX_DEPTH && p; depth++) {
		if (BPF_CORE_READ(p, tgid) == attach_tgid)
			return true;
		if (!attach_exec_id)
			return false;	/* orchestrators: only their own threads */
		p = BPF_CORE_READ(p, real_parent);
		if (!p || BPF_CORE_READ(p, pid) <= 1)
			return false;
	}
	return false;
}

/* rss_stat only fires on changes: an attached process starts with what its mm holds now. */
static __always_inline void seed_rss(struct task_struct *task, struct ww_proc *proc)
{
	static const int member[3] = { 0, 1, 3 };	/* MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES */
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct ww_exec_mem *mem;
	__s64 total = 0, v;
	int i;

	mem = exec_mem_of(attach_exec_id);
	if (!mm || !mem)
		return;
	for (i = 0; i < 3; i++) {
		v = BPF_CORE_READ(mm, rss_stat[member[i]].count);
		proc->rss_pages[i] = v > 0 ? v : 0;
		total += __sync_fetch_and_add(&mem->rss_pages[i], proc->rss_pages[i]) + proc->rss_pages[i];
		proc->peak_pages += proc->rss_pages[i];
	}
	note_mem_peaks(mem, task->tgid, proc->rss_pages, total);
}

#define TASK_DEAD	0x80	/* include/linux/sched.h */

SEC("iter/task")
int ww_attach_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ww_proc proc = {}, *pp;
	struct ww_task *t;
	bool fresh;
	__u32 tgid;

	if (!task || !in_subtree(task))
		return 0;
	t = bpf_task_storage_get(&tracked, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		count_event(WW_CNT_STORAGE_FAIL);
		return 0;
	}
	if ((t->exec_id && t->exec_id != attach_exec_id) || (t->orch_id && t->orch_id != attach_orch_id)) {
		attach_skipped++;	/* never steal a task from another execution */
		return 0;
	}
	fresh = !t->exec_id && !t->orch_id;
	attach_tasks++;
	if (!task->exit_state)
		attach_live++;
	if (!fresh)
		return 0;	/* forked by a task tagged earlier in this walk: counted from its fork */
	t->exec_id = attach_exec_id;
	t->orch_id = attach_orch_id;
	/* charge only what it does from now on: the baseline is now, not its next switch-out */
	read_task_counters(task, t->charged);
	__builtin_memcpy(t->base, t->charged, sizeof(t->base));
	t->base_utime = task->utime;
	t->base_stime = task->stime;
	if (!attach_exec_id)
		return 0;
	tgid = task->tgid;
	pp = bpf_map_lookup_elem(&procs, &tgid);
	if (!pp) {
		proc.exec_id = attach_exec_id;
		seed_rss(task, &proc);
		if (bpf_map_update_elem(&procs, &tgid, &proc, BPF_NOEXIST) == -7 /* E2BIG */)
			count_event(WW_CNT_PROC_MAP_FULL);
		pp = bpf_map_lookup_elem(&procs, &tgid);
	}
	/* a thread past its final switch will not switch again: its process does not wait for it */
	if (pp && !(task->__state & TASK_DEAD))
		__sync_fetch_and_add(&pp->threads, 1);
	return 0;
}

/* One ww_task_info per task of an execution, for process trees and stuck-syscall checks. */
SEC("iter/task")
int ww_tasks_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ww_task_info info = {};
	struct ww_task *t;

	if (!task)
		return 0;
	t = task_state(task);
	if (!t || !t->exec_id)
		return 0;
	info.exec_id = t->exec_id;
	info.sys_enter_ts = t->sys_enter_ts;
	if (task->se.sum_exec_runtime > t->charged[WW_TC_RUNTIME])
		info.uncharged_ns = task->se.sum_exec_runtime - t->charged[WW_TC_RUNTIME];
	tracked_cputime(t, task, &info.utime_ns, &info.stime_ns);
	info.sys_nr = t->sys_nr;
	info.pid = task->tgid;
	info.tid = task->pid;
	info.ppid = BPF_CORE_READ(task, real_parent, tgid);
	info.state = task->__state;
	info.exit_state = task->exit_state;
	info.exit_code = task->exit_code;
	__builtin_memcpy(info.comm, task->comm, sizeof(info.comm));
	bpf_seq_write(ctx->meta->seq, &info, sizeof(info));
	return 0;
}
