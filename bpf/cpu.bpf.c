// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* On-CPU time, run-queue wait, context switches and page faults of tracked tasks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define TASK_RUNNING	0

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
	if (t) {
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
