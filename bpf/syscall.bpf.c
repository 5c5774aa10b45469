// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-syscall count, errors, latency histogram and slow-syscall events of tracked tasks. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define MAX_ERRNO	4095
/* include/linux/fs.h: f_mode bits (FMODE_CREATED: the open created the file) */
#define FMODE_WRITE	0x2
#define FMODE_CREATED	0x100000

/* The open syscalls, and the syscalls that never return. */
#if defined(__TARGET_ARCH_x86)
#define NR_OPEN		2
#define NR_CREAT	85
#define NR_OPENAT	257
#define NR_OPENAT2	437
#define NR_EXIT		60
#define NR_EXIT_GROUP	231
#elif defined(__TARGET_ARCH_arm64)
#define NR_OPEN		(-1)
#define NR_CREAT	(-1)
#define NR_OPENAT	56
#define NR_OPENAT2	437
#define NR_EXIT		93
#define NR_EXIT_GROUP	94
#endif
#define EEXIST		17

const volatile __u64 slow_syscall_ns = 1000000000ULL;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WW_MAX_SYSCALL_KEYS);
	__type(key, struct ww_syscall_key);
	__type(value, struct ww_syscall_stats);
} syscall_stats SEC(".maps");

/* All zeroes: the initial value of a new syscall_stats entry, too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ww_syscall_stats);
} syscall_zero SEC(".maps");

/*
 * The stats of (execution, syscall), created at first use. Only for an
 * execution that still exists (a descendant that outlives it stops being
 * tracked here), and marked in its "seen" bitmap so userspace finds it.
 */
static __always_inline struct ww_syscall_stats *syscall_stats_of(struct ww_syscall_key *key,
								  struct task_struct *task)
{
	struct ww_syscall_stats *s, *zero;
	struct ww_exec_shared *sh;
	__u32 zero_key = 0, nr = key->nr;
	long err;

	s = bpf_map_lookup_elem(&syscall_stats, key);
	if (s)
		return s;
	sh = bpf_map_lookup_elem(&exec_shared, &key->exec_id);
	zero = bpf_map_lookup_elem(&syscall_zero, &zero_key);
	if (!sh) {
		count_event(WW_CNT_ORPHAN_TASK);
		bpf_task_storage_delete(&tracked, task);
		return NULL;
	}
	if (!zero)
		return NULL;
	if (nr < WW_SYSCALL_BITS)
		__sync_fetch_and_or(&sh->syscalls_seen[nr / 64], 1ULL << (nr % 64));
	else
		sh->syscalls_overflow = 1;
	err = bpf_map_update_elem(&syscall_stats, key, zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {	/* EEXIST: another CPU just created it */
		count_event(WW_CNT_SYSCALL_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&syscall_stats, key);
}

/* exit and exit_group never reach sys_exit: counted here, without a latency sample. */
static __always_inline void count_no_return(struct ww_task *t, struct task_struct *task, __u32 nr)
{
	struct ww_syscall_key key = { .exec_id = t->exec_id, .nr = nr };
	struct ww_syscall_stats *s = syscall_stats_of(&key, task);

	if (s)
		__sync_fetch_and_add(&s->count, 1);
}

/*
 * The untracked path: one helper call (current) and one load when the task
 * has no task storage; the clock is read only for a tracked task.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(ww_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ww_task *t = task_state(task);

	if (!t || !t->exec_id)
		return 0;
	if (id == NR_EXIT || id == NR_EXIT_GROUP) {
		t->sys_enter_ts = 0;
		count_no_return(t, task, id);
		return 0;
	}
	t->sys_nr = id;
	t->sys_enter_ts = bpf_ktime_get_ns();
	return 0;
}

/* Counts opens that created their file and opens for writing, as the kernel's file says. */
static __always_inline void count_open(struct ww_task *t, struct task_struct *task, long fd)
{
	struct ww_exec_stats *s;
	struct file **fds, *f;
	unsigned int mode;

	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (!fds || bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return;
	mode = BPF_CORE_READ(f, f_mode);
	s = exec_stats_of(t, task);
	if (!s)
		return;
	if (mode & FMODE_CREATED)
		s->files_created++;
	if (mode & FMODE_WRITE)
		s->files_written++;
}

static __always_inline void report_slow(struct ww_task *t, struct task_struct *task,
					__u64 duration, long ret)
{
	struct ww_slow_syscall_event *e;

	e = bpf_ringbuf_reserve(&anomaly_rb, sizeof(*e), 0);
	if (!e) {
		count_event(WW_CNT_ANOMALY_LOST);
		return;
	}
	fill_hdr(&e->hdr, WW_EV_SLOW_SYSCALL, t->exec_id, task);
	e->duration_ns = duration;
	e->ret = ret;
	e->nr = t->sys_nr;
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ww_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct ww_syscall_key key = {};
	struct ww_syscall_stats *s;
	struct ww_task *t;
	__u64 duration;
	__u32 b, nr;

	t = task_state(task);
	if (!t || !t->sys_enter_ts)
		return 0;
	duration = bpf_ktime_get_ns() - t->sys_enter_ts;
	t->sys_enter_ts = 0;
	nr = t->sys_nr;

	key.exec_id = t->exec_id;
	key.nr = nr;
	s = syscall_stats_of(&key, task);
	if (s) {
		/* the histogram's sum is the count (see struct ww_syscall_stats) */
		b = ww_hist_bucket(duration);
		if (b < WW_HIST_BUCKETS)
			__sync_fetch_and_add(&s->hist[b], 1);
		__sync_fetch_and_add(&s->total_ns, duration);
		if (ret < 0 && ret >= -MAX_ERRNO)
			__sync_fetch_and_add(&s->errors, 1);
		if (duration > s->max_ns)
			s->max_ns = duration;
	}
	if (ret >= 0 && (nr == NR_OPENAT || nr == NR_OPEN || nr == NR_CREAT || nr == NR_OPENAT2))
		count_open(t, task, ret);
	if (duration >= slow_syscall_ns)
		report_slow(t, task, duration, ret);
	return 0;
}
