// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Process lifecycle of tracked executions: inheritance at fork, exec, exit, fatal signals, OOM. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "jobs.bpf.h"

#define SIGNAL_GROUP_EXIT	0x00000004	/* include/linux/sched/signal.h */
#define TRACE_SIGNAL_IGNORED	1
#define SEND_SIG_PRIV		((struct kernel_siginfo *)1)	/* include/linux/sched/signal.h */

/* Signals whose default action ends the process (signal(7)). */
#define FATAL_BY_DEFAULT_MASK	((1u << 1) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | \
				 (1u << 6) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 10) | \
				 (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 15) | \
				 (1u << 16) | (1u << 24) | (1u << 25) | (1u << 26) | (1u << 27) | \
				 (1u << 29) | (1u << 30) | (1u << 31))

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* An orchestrator spawned a process: it becomes a new execution before it can run. */
static __always_inline int start_orch_child(struct ww_task *pt, struct task_struct *child)
{
	struct ww_orch_child_event *e;
	struct ww_exec_stats *zero;
	struct ww_exec_shared *zero_shared, *shared;
	struct ww_proc proc = {};
	struct ww_task *ct;
	__u32 zero_key = 0, tgid = child->tgid;
	__u64 id;

	zero = bpf_map_lookup_elem(&exec_stats_zero, &zero_key);
	zero_shared = bpf_map_lookup_elem(&exec_shared_zero, &zero_key);
	if (!zero || !zero_shared)
		return 0;
	id = __sync_fetch_and_add(&next_exec_id, 1) + 1;
	if (bpf_map_update_elem(&exec_stats, &id, zero, BPF_NOEXIST) ||
	    bpf_map_update_elem(&exec_shared, &id, zero_shared, BPF_NOEXIST)) {
		bpf_map_delete_elem(&exec_stats, &id);
		count_event(WW_CNT_EXEC_MAP_FULL);
		return 0;
	}
	shared = bpf_map_lookup_elem(&exec_shared, &id);
	if (shared) {
		shared->orch_id = pt->orch_id;
		mark_orch_child(shared, tgid);
	}
	ct = bpf_task_storage_get(&tracked, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ct) {
		count_event(WW_CNT_STORAGE_FAIL);
		return 0;
	}
	ct->exec_id = id;
	proc.exec_id = id;
	proc.threads = 1;
	if (bpf_map_update_elem(&procs, &tgid, &proc, BPF_ANY))
		count_event(WW_CNT_PROC_MAP_FULL);

	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_LIFECYCLE_LOST);
		return 0;
	}
	fill_hdr(&e->hdr, WW_EV_ORCH_CHILD, id, child);
	e->orch_id = pt->orch_id;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* The child inherits its parent's execution here, before it can run, so no child is missed. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(ww_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ww_exec_stats *stats;
	struct ww_fork_event *e;
	struct ww_task *pt, *ct;
	struct ww_proc proc = {}, *pp;
	__u32 tgid;

	pt = task_state(parent);
	if (!pt)
		return 0;
	/* an orchestrator whose jobs begin at an exec: the child is one of its own tasks until then */
	if (!pt->exec_id && pt->orch_id && child->pid == child->tgid && orch_forks_jobs(pt->orch_id))
		return start_orch_child(pt, child);
	stats = exec_stats_of(pt, parent);
	if (!stats && pt->exec_id)
		return 0;
	ct = bpf_task_storage_get(&tracked, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ct) {
		count_event(WW_CNT_STORAGE_FAIL);
		return 0;
	}
	ct->exec_id = pt->exec_id;
	ct->orch_id = pt->exec_id ? 0 : pt->orch_id;	/* an orchestrator's new thread */
	if (!stats)
		return 0;
	tgid = child->tgid;
	if (child->pid != tgid) {
		/* a new thread: tracked, and its process waits for its final switch too */
		pp = bpf_map_lookup_elem(&procs, &tgid);
		if (pp)
			__sync_fetch_and_add(&pp->threads, 1);
		return 0;
	}

	stats->forks++;
	proc.exec_id = pt->exec_id;
	proc.threads = 1;
	if (bpf_map_update_elem(&procs, &tgid, &proc, BPF_ANY))
		count_event(WW_CNT_PROC_MAP_FULL);

	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_LIFECYCLE_LOST);
		return 0;
	}
	fill_hdr(&e->hdr, WW_EV_FORK, pt->exec_id, child);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ww_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ww_exec_event *e;
	struct ww_proc *proc;
	struct ww_task *t;
	__u32 tgid;

	t = task_state(p);
	if (!t || !t->exec_id)
		return 0;
	tgid = p->tgid;
	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (proc && proc->await_exec) {
		/* the held root's own image starts here: its peak too */
		proc->await_exec = 0;
		proc->peak_pages = 0;
	}
	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_LIFECYCLE_LOST);
		return 0;
	}
	fill_hdr(&e->hdr, WW_EV_EXEC, t->exec_id, p);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * The process leaves the execution's RSS. Its record stays until its last
 * thread's final switch (cpu.bpf.c), which reports its final counters.
 */
static __always_inline struct ww_proc *proc_exited(__u32 tgid)
{
	struct ww_exec_mem *mem;
	struct ww_proc *proc;
	int i;

	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (!proc)
		return NULL;
	mem = exec_mem_of(proc->exec_id);
	if (mem) {
		for (i = 0; i < 3; i++)
			__sync_fetch_and_add(&mem->rss_pages[i], -proc->rss_pages[i]);
		/* the largest sharer is gone: the others' next changes tell who is now */
		if (mem->sharer_tgid == tgid) {
			mem->sharer_pages = 0;
			mem->sharer_tgid = 0;
		}
	}
	for (i = 0; i < 3; i++)
		proc->rss_pages[i] = 0;
	proc->exited = 1;
	return proc;
}

/*
 * ru_maxrss, in pages. A root held before exec inherited workerwatch's own
 * image, whose high-water mark the kernel folded into signal->maxrss at
 * exec: for it, only its own mm counts (the peak rss_stat saw, and the mm's
 * high-water mark, still there at this tracepoint).
 */
static __always_inline __u64 maxrss_pages(struct task_struct *p, struct ww_proc *proc)
{
	struct mm_struct *mm;
	__s64 rss = 0, v;
	__u64 hiwater;

	if (!proc || !proc->held)
		return BPF_CORE_READ(p, signal, maxrss);
	hiwater = proc->peak_pages > 0 ? proc->peak_pages : 0;
	mm = p->mm;
	if (mm) {
		v = BPF_CORE_READ(mm, hiwater_rss);
		if (v > (__s64)hiwater)
			hiwater = v;
		rss += BPF_CORE_READ(mm, rss_stat[0].count);	/* MM_FILEPAGES */
		rss += BPF_CORE_READ(mm, rss_stat[1].count);	/* MM_ANONPAGES */
		rss += BPF_CORE_READ(mm, rss_stat[3].count);	/* MM_SHMEMPAGES */
		if (rss > (__s64)hiwater)
			hiwater = rss;
	}
	return hiwater;
}

/* Called for every exiting thread; reports the process once its last thread exits. */
static __always_inline int handle_exit(struct task_struct *p, bool group_dead)
{
	struct signal_struct *sig;
	struct ww_exit_event *e;
	struct ww_proc *proc;
	struct ww_task *t;

	t = task_state(p);
	if (!t)
		return 0;
	charge_counters(t, p);	/* the final switch-out adds the last microseconds */
	if (!group_dead || !t->exec_id)
		return 0;
	proc = proc_exited(p->tgid);

	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_LIFECYCLE_LOST);
		return 0;
	}
	fill_hdr(&e->hdr, WW_EV_EXIT, t->exec_id, p);
	sig = p->signal;
	/* provisional: the process-done event brings the figures up to the last instruction */
	e->on_cpu_ns = BPF_CORE_READ(sig, sum_sched_runtime) + p->se.sum_exec_runtime;
	e->maxrss_pages = maxrss_pages(p, proc);
	e->minflt = BPF_CORE_READ(sig, min_flt) + p->min_flt;
	e->majflt = BPF_CORE_READ(sig, maj_flt) + p->maj_flt;
	e->utime_ns = BPF_CORE_READ(sig, utime) + p->utime;
	e->stime_ns = BPF_CORE_READ(sig, stime) + p->stime;
	/* the wait(2) status: the group's exit code, else its leader's */
	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		e->exit_status = BPF_CORE_READ(sig, group_exit_code);
	else
		e->exit_status = BPF_CORE_READ(p, group_leader, exit_code);
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Kernels since 6.16 tell whether this is the last thread of the group. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ww_exit, struct task_struct *p, bool group_dead)
{
	return handle_exit(p, group_dead);
}

/* Older kernels: signal->live has already been decremented when the tracepoint fires. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ww_exit_legacy, struct task_struct *p)
{
	return handle_exit(p, BPF_CORE_READ(p, signal, live.counter) == 0);
}

/* Remember who sent a tracked process a signal that will end it. */
SEC("tp_btf/signal_generate")
int BPF_PROG(ww_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct task_struct *sender = bpf_get_current_task_btf();
	struct ww_signal_event *e;
	struct ww_task *t;
	void *handler;

	if (sig <= 0 || sig >= 32 || !(FATAL_BY_DEFAULT_MASK & (1u << sig)) ||
	    result == TRACE_SIGNAL_IGNORED)
		return 0;
	t = task_state(task);
	if (!t || !t->exec_id)
		return 0;
	handler = BPF_CORE_READ(task, sighand, action[sig - 1].sa.sa_handler);
	if (handler && sig != 9)
		return 0;	/* caught: not fatal */

	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_LIFECYCLE_LOST);
		return 0;
	}
	fill_hdr(&e->hdr, WW_EV_SIGNAL, t->exec_id, task);
	e->sig = sig;
	if (info == SEND_SIG_PRIV) {
		/* the kernel sent it (the OOM killer, a CPU limit): current only hosted the sending */
		e->sender_pid = 0;
		e->sender_tid = 0;
	} else {
		e->sender_pid = sender->tgid;
		e->sender_tid = sender->pid;
	}
	e->result = result;
	__builtin_memcpy(e->sender_comm, sender->comm, sizeof(e->sender_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * The OOM killer chose a tracked task. It runs in the context of the task
 * whose allocation failed (current), which is also what signal_generate
 * sees as the sender of the SIGKILL; the event names both and the victim's
 * memory cgroup, so the report does not blame the victim.
 */
SEC("tp_btf/mark_victim")
int BPF_PROG(ww_oom_victim, struct task_struct *task)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct cgroup_subsys_state *css;
	struct kernfs_node *kn = NULL;
	struct ww_oom_event *e;
	struct ww_task *t;
	int memory_id;

	t = task_state(task);
	if (!t || !t->exec_id)
		return 0;
	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_LIFECYCLE_LOST);
		return 0;
	}
	fill_hdr(&e->hdr, WW_EV_OOM, t->exec_id, task);
	e->trigger_pid = cur->tgid;
	e->trigger_tid = cur->pid;
	__builtin_memcpy(e->trigger_comm, cur->comm, sizeof(e->trigger_comm));
	e->memcg_id = 0;
	e->memcg_name[0] = 0;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id)) {
		memory_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
		if (memory_id >= 0 && memory_id < CGROUP_SUBSYS_COUNT) {
			css = BPF_CORE_READ(task, cgroups, subsys[memory_id]);
			if (css)
				kn = BPF_CORE_READ(css, cgroup, kn);
		}
	}
	if (kn) {
		/* a hierarchy's root is named "" */
		e->memcg_id = BPF_CORE_READ(kn, id);
		bpf_probe_read_kernel_str(e->memcg_name, sizeof(e->memcg_name), BPF_CORE_READ(kn, name));
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}
