/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps shared by every workerwatch BPF program, and the helpers around them. */
#ifndef MAPS_BPF_H
#define MAPS_BPF_H

#include "workerwatch.h"

/*
 * Each .bpf.c includes these definitions; they are __weak so that the
 * static linker (bpftool gen object) merges them into one map each.
 */

/* Presence of a ww_task is what makes a task tracked. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ww_task);
} tracked SEC(".maps") __weak;

/* Created by userspace when an execution starts; gone once it is finalized. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WW_MAX_EXECS);
	__type(key, __u64);
	__type(value, struct ww_exec_stats);
} exec_stats SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WW_MAX_EXECS);
	__type(key, __u64);
	__type(value, struct ww_exec_shared);
} exec_shared SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WW_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct ww_proc);
} procs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps") __weak;

/* Fork, exec, exit, fatal signals, OOM: must never be lost. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WW_LIFECYCLE_RB_SIZE);
} lifecycle_rb SEC(".maps") __weak;

/* Slow syscalls: best effort, kept apart so a burst cannot crowd out lifecycle. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WW_ANOMALY_RB_SIZE);
} anomaly_rb SEC(".maps") __weak;

/* Execution ids, shared with userspace through the mmapped .bss so both sides can allocate. */
__u64 next_exec_id __weak = 0;

/* The memory of execution exec_id, or NULL when it is finalized. */
static __always_inline struct ww_exec_mem *exec_mem_of(__u64 exec_id)
{
	struct ww_exec_shared *sh = bpf_map_lookup_elem(&exec_shared, &exec_id);

	return sh ? &sh->mem : NULL;
}

/*
 * After a change of process tgid's own split (file, anon, shmem): the
 * execution's peaks, both the sum of RSS and the figure that counts file and
 * shmem pages once (see struct ww_exec_mem). Racing CPUs can lose a peak
 * update by a few pages; the next change catches up.
 */
static __always_inline void note_mem_peaks(struct ww_exec_mem *mem, __u32 tgid, const __s64 *own,
					   __s64 total)
{
	__s64 fs = own[0] + own[2], once;
	int i;

	if (fs >= mem->sharer_pages || mem->sharer_tgid == tgid) {
		mem->sharer_pages = fs;
		mem->sharer_tgid = tgid;
	}
	once = mem->rss_pages[1] + mem->sharer_pages;
	if (once > mem->peak_once_pages)
		mem->peak_once_pages = once;
	if (total > mem->peak_pages) {
		mem->peak_pages = total;
		for (i = 0; i < 3; i++)
			mem->peak_split[i] = mem->rss_pages[i];
	}
}

/* Zero values for map entries created in the kernel; too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ww_exec_stats);
} exec_stats_zero SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ww_exec_shared);
} exec_shared_zero SEC(".maps") __weak;

static __always_inline void count_event(enum ww_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		(*v)++;
}

/*
 * The task's workerwatch state, or NULL when it is not tracked. A task with
 * no BPF task storage at all (every untracked task, unless another tool
 * gives it some) is answered with one load instead of a helper call.
 */
static __always_inline struct ww_task *task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->bpf_storage) && !task->bpf_storage)
		return NULL;
	return bpf_task_storage_get(&tracked, task, 0, 0);
}

/*
 * The stats of a tracked task's execution. A miss means userspace already
 * finalized it (a descendant outlived its execution): stop tracking the task.
 */
static __always_inline struct ww_exec_stats *exec_stats_of(struct ww_task *t,
							    struct task_struct *task)
{
	struct ww_exec_stats *s;

	if (!t->exec_id)
		return NULL;	/* an orchestrator itself is not measured */
	s = bpf_map_lookup_elem(&exec_stats, &t->exec_id);
	if (!s) {
		count_event(WW_CNT_ORPHAN_TASK);
		bpf_task_storage_delete(&tracked, task);
	}
	return s;
}

/* The stats of the current task's execution (and its state in *tp); NULL when untracked. */
static __always_inline struct ww_exec_stats *current_exec_stats(struct ww_task **tp)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ww_task *t = task_state(task);

	if (!t)
		return NULL;
	*tp = t;
	return exec_stats_of(t, task);
}

/* The task's kernel counters (the ones getrusage sums), by enum ww_task_counter. */
static __always_inline void read_task_counters(struct task_struct *task, __u64 *c)
{
	c[WW_TC_RUNTIME] = task->se.sum_exec_runtime;
	c[WW_TC_MINFLT] = task->min_flt;
	c[WW_TC_MAJFLT] = task->maj_flt;
	c[WW_TC_NVCSW] = task->nvcsw;
	c[WW_TC_NIVCSW] = task->nivcsw;
}

/*
 * Charges the task's kernel counters since the last charge to its
 * execution. Called at switch-out and exit; the totals therefore match the
 * kernel's own accounting; a task attached mid-life starts from the baseline
 * the attach iterator took. c holds the counters to charge up to.
 */
static __always_inline void charge_counters_to(struct ww_task *t, struct task_struct *task,
					       const __u64 *c)
{
	struct ww_exec_stats *s;

	s = exec_stats_of(t, task);
	if (!s)
		return;
	s->on_cpu_ns += c[WW_TC_RUNTIME] - t->charged[WW_TC_RUNTIME];
	s->minflt += c[WW_TC_MINFLT] - t->charged[WW_TC_MINFLT];
	s->majflt += c[WW_TC_MAJFLT] - t->charged[WW_TC_MAJFLT];
	s->nvcsw += c[WW_TC_NVCSW] - t->charged[WW_TC_NVCSW];
	s->nivcsw += c[WW_TC_NIVCSW] - t->charged[WW_TC_NIVCSW];
	__builtin_memcpy(t->charged, c, sizeof(t->charged));
}

static __always_inline void charge_counters(struct ww_task *t, struct task_struct *task)
{
	__u64 c[WW_TC_MAX];

	read_task_counters(task, c);
	charge_counters_to(t, task, c);
}

/*
 * Adds rtime ns of finished CPU to the execution's user and system time,
 * sys of them system (ww_cpu_system_part of its utime and stime samples).
 */
static __always_inline void charge_cpu_split(__u64 exec_id, __u64 rtime, __u64 sys)
{
	struct ww_exec_stats *s = bpf_map_lookup_elem(&exec_stats, &exec_id);

	if (!s)
		return;
	s->user_cpu_ns += rtime - sys;
	s->system_cpu_ns += sys;
}

/* The task's utime and stime since tracking began. */
static __always_inline void tracked_cputime(const struct ww_task *t, struct task_struct *task, __u64 *ut,
					    __u64 *st)
{
	__u64 u = task->utime, s = task->stime;

	*ut = u > t->base_utime ? u - t->base_utime : 0;
	*st = s > t->base_stime ? s - t->base_stime : 0;
}

static __always_inline void fill_hdr(struct ww_event_hdr *h, __u32 type, __u64 exec_id,
				     struct task_struct *task)
{
	h->ts_ns = bpf_ktime_get_ns();
	h->exec_id = exec_id;
	h->type = type;
	h->pid = task->tgid;
	h->tid = task->pid;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	__builtin_memcpy(h->comm, task->comm, sizeof(h->comm));
}

#endif /* MAPS_BPF_H */
