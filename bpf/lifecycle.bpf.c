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
	struct ww_proc proc = {};
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
	if (!stats || child->pid != child->tgid)
		return 0;	/* a new thread: tracked, but not a new process */

	stats->forks++;
	tgid = child->tgid;
	proc.exec_id = pt->exec_id;
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
	if (proc)
		proc->await_exec = 0;
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

static __always_inline void forget_proc_rss(__u32 tgid)
{
	struct ww_exec_mem *mem;
	struct ww_proc *proc;
	int i;

	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (!proc)
		return;
	mem = exec_mem_of(proc->exec_id);
	if (mem) {
		for (i = 0; i < 3; i++)
			__sync_fetch_and_add(&mem->rss_pages[i], -proc->rss_pages[i]);
	}
	bpf_map_delete_elem(&procs, &tgid);
}

/* Called for every exiting thread; reports the process once its last thread exits. */
static __always_inline int handle_exit(struct task_struct *p, bool group_dead)
{
	struct signal_struct *sig;
	struct ww_exit_event *e;
	struct ww_task *t;

	t = task_state(p);
	if (!t)
		return 0;
	charge_counters(t, p);	/* the final switch-out adds the last microseconds */
	if (!group_dead || !t->exec_id)
		return 0;
	forget_proc_rss(p->tgid);

	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_LIFECYCLE_LOST);
		return 0;
	}
	fill_hdr(&e->hdr, WW_EV_EXIT, t->exec_id, p);
	sig = p->signal;
	e->on_cpu_ns = BPF_CORE_READ(sig, sum_sched_runtime) + p->se.sum_exec_runtime;
	e->maxrss_pages = BPF_CORE_READ(sig, maxrss);
	e->minflt = BPF_CORE_READ(sig, min_flt) + p->min_flt;
	e->majflt = BPF_CORE_READ(sig, maj_flt) + p->maj_flt;
	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		e->exit_status = BPF_CORE_READ(sig, group_exit_code);
	else
		e->exit_status = p->exit_code;
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
	e->sender_pid = sender->tgid;
	e->sender_tid = sender->pid;
	e->result = result;
	__builtin_memcpy(e->sender_comm, sender->comm, sizeof(e->sender_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(ww_oom_victim, struct task_struct *task)
{
	struct ww_oom_event *e;
	struct ww_task *t;

	t = task_state(task);
	if (!t || !t->exec_id)
		return 0;
	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_LIFECYCLE_LOST);
		return 0;
	}
	fill_hdr(&e->hdr, WW_EV_OOM, t->exec_id, task);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
