// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* On-CPU time, run-queue wait, context switches and page faults of tracked tasks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define TASK_RUNNING	0
#define TASK_DEAD	0x80	/* include/linux/sched.h: do_task_dead's final switch */

/*
 * A thread's final switch-out: charge its last instructions, add what it did
 * while tracked to its process, and once its process has no tracked thread
 * left, send the process's final figures (sched_process_exit comes too
 * early for them: the thread still runs its exit path after it).
 */
static __always_inline void thread_gone(struct ww_task *t, struct task_struct *prev)
{
	struct ww_proc_done_event *e;
	struct ww_proc *proc;
	__u32 tgid = prev->tgid;
	__u64 c[WW_TC_MAX], ut, st, rtime, sys;
	int i;

	read_task_counters(prev, c);
	/*
	 * This switch counted as voluntary. getrusage sees it for a group
	 * leader (reaped after it) but never for another thread, whose
	 * counters are folded into its process at release, before this switch.
	 */
	if (prev->pid != prev->tgid && c[WW_TC_NVCSW] > t->charged[WW_TC_NVCSW])
		c[WW_TC_NVCSW]--;
	charge_counters_to(t, prev, c);
	if (!t->exec_id)
		return;
	tracked_cputime(t, prev, &ut, &st);
	rtime = c[WW_TC_RUNTIME] - t->base[WW_TC_RUNTIME];
	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (proc && proc->exec_id == t->exec_id) {
		for (i = 0; i < WW_TC_MAX; i++)
			__sync_fetch_and_add(&proc->gone[i], c[i] - t->base[i]);
		__sync_fetch_and_add(&proc->gone_utime, ut);
		__sync_fetch_and_add(&proc->gone_stime, st);
		if (__sync_fetch_and_add(&proc->threads, -1) != 1)
			return;
		/* the process's CPU is final: split as getrusage splits a process's, its threads' samples summed */
		rtime = proc->gone[WW_TC_RUNTIME];
		ut = proc->gone_utime;
		st = proc->gone_stime;
	} else {
		proc = NULL;	/* none to wait for (or it left this execution at an exec): the thread alone */
	}
	sys = ww_cpu_system_part(rtime, ut, st);
	charge_cpu_split(t->exec_id, rtime, sys);
	if (!proc)
		return;

	e = bpf_ringbuf_reserve(&lifecycle_rb, sizeof(*e), 0);
	if (e) {
		fill_hdr(&e->hdr, WW_EV_PROC_DONE, t->exec_id, prev);
		for (i = 0; i < WW_TC_MAX; i++)
			e->counters[i] = proc->gone[i];
		e->user_cpu_ns = rtime - sys;
		e->system_cpu_ns = sys;
		bpf_ringbuf_submit(e, 0);
	} else {
		count_event(WW_CNT_LIFECYCLE_LOST);
	}
	bpf_map_delete_elem(&procs, &tgid);
}

static __always_inline void switch_in(struct ww_task *t, struct task_struct *next, __u64 now)
{
	struct ww_exec_stats *s;
	__u64 wait;
	__u32 b;

	if (!t->enqueue_ts)
		return;
	wait = now - t->enqueue_ts;
	t->enqueue_ts = 0;
	s = exec_stats_of(t, next);
	if (!s)
		return;
	s->rq_wait_ns += wait;
	b = ww_hist_bucket(wait);
	if (b < WW_HIST_BUCKETS)
		s->rq_hist[b]++;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(ww_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct ww_task *t;
	__u64 now = 0;

	t = task_state(prev);
	if (t && !preempt && (prev_state & TASK_DEAD)) {
		thread_gone(t, prev);
	} else if (t) {
		charge_counters(t, prev);
		if (preempt || prev_state == TASK_RUNNING) {
			now = bpf_ktime_get_ns();
			t->enqueue_ts = now;	/* still runnable: waits on the run queue from now */
		}
	}
	t = task_state(next);
	if (t) {
		if (!now)
			now = bpf_ktime_get_ns();
		switch_in(t, next, now);
	}
	return 0;
}

static __always_inline int mark_runnable(struct task_struct *p)
{
	struct ww_task *t = task_state(p);

	if (t)
		t->enqueue_ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(ww_wakeup, struct task_struct *p)
{
	return mark_runnable(p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(ww_wakeup_new, struct task_struct *p)
{
	return mark_runnable(p);
}
