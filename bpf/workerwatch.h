/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Types and constants shared by the BPF programs and userspace: the kernel/user contract. */
#ifndef WORKERWATCH_H
#define WORKERWATCH_H

#ifndef __VMLINUX_H__	/* userspace; BPF gets these types from vmlinux.h */
#include <linux/types.h>
#endif

#define WW_COMM_LEN		16
#define WW_FILENAME_LEN		256
#define WW_MAX_EXECS		1024	/* executions tracked at once */
#define WW_MAX_PROCS		16384	/* processes tracked at once */
#define WW_MAX_SYSCALL_KEYS	16384	/* (execution, syscall) pairs */
#define WW_MAX_SOCKS		8192	/* TCP sockets remembered for retransmits/connects */
#define WW_LIFECYCLE_RB_SIZE	(4 << 20)
#define WW_ANOMALY_RB_SIZE	(256 << 10)
#define WW_SYSCALL_BITS		512	/* syscall numbers an execution's "seen" bitmap covers */
#define WW_MAX_ORCHS		256	/* orchestrators at once (registered or found by watch rules) */
#define WW_WATCH_RULES_MAX	32	/* watch rules the kernel matches at exec */
#define WW_WATCH_PATH_LEN	128	/* an executable path a watch rule names */
#define WW_MAX_VERDICTS		4096	/* remembered job-pattern verdicts per program */
#define WW_JOB_ARGS_MAX		1024	/* bytes of argv a job event carries */
#define WW_JOB_ENV_MAX		3072	/* bytes of environ a job event carries */
#define WW_CGROUP_V2		0xffffffffu	/* a watch rule's cgroup is in the unified (v2) hierarchy */

/*
 * Log-linear histogram: 2^WW_HIST_SUB_BITS linear sub-buckets per power of
 * two, so a bucket is at most 1/8 of its value wide (p99 honest to ~6%).
 * Values below 2^WW_HIST_SUB_BITS get one bucket each; values at or above
 * 2^WW_HIST_MAX_LOG2 go to the last bucket.
 */
#define WW_HIST_SUB_BITS	3
#define WW_HIST_SUB		(1 << WW_HIST_SUB_BITS)
#define WW_HIST_MAX_LOG2	38	/* 2^38 ns ~ 275 s */
#define WW_HIST_BUCKETS		((WW_HIST_MAX_LOG2 - WW_HIST_SUB_BITS + 1) * WW_HIST_SUB)

enum ww_net_proto {
	WW_NET_TCP,
	WW_NET_UDP,
	WW_NET_UNIX,
	WW_NET_OTHER,
	WW_NET_MAX,
};

/* Observer health counters, one per-CPU array slot each. */
enum ww_counter {
	WW_CNT_LIFECYCLE_LOST,	/* lifecycle ring buffer full */
	WW_CNT_ANOMALY_LOST,	/* slow-syscall ring buffer full */
	WW_CNT_PROC_MAP_FULL,
	WW_CNT_SYSCALL_MAP_FULL,
	WW_CNT_SOCK_MAP_FULL,
	WW_CNT_STORAGE_FAIL,	/* task storage could not be created at fork */
	WW_CNT_ORPHAN_TASK,	/* task of an execution already finalized */
	WW_CNT_EXEC_MAP_FULL,	/* an orchestrator's child could not become an execution */
	WW_CNT_ORCH_MAP_FULL,	/* a watch rule's process could not become an orchestrator */
	WW_CNT_MAX,
};

/* The kernel's per-task counters that getrusage sums, in this order. */
enum ww_task_counter {
	WW_TC_RUNTIME,		/* se.sum_exec_runtime, ns */
	WW_TC_MINFLT,
	WW_TC_MAJFLT,
	WW_TC_NVCSW,
	WW_TC_NIVCSW,
	WW_TC_MAX,
};

/* Per-task state in task storage; its presence is what "tracked" means. */
struct ww_task {
	__u64 exec_id;		/* 0: an orchestrator's task, not part of any execution */
	__u64 orch_id;		/* the orchestrator whose direct children become executions, or 0 */
	/*
	 * The task's kernel counters as far as they were charged to the
	 * execution. Charging the difference (not a switch-in snapshot) means a
	 * lookup that fails transiently delays a charge instead of losing it.
	 */
	__u64 charged[WW_TC_MAX];
	/* The counters when tracking began: 0 for a task forked while tracked. */
	__u64 base[WW_TC_MAX];
	/*
	 * Its utime and stime when tracking began (0 for a task forked while
	 * tracked). Read only at the final switch, never on the hot path.
	 */
	__u64 base_utime;
	__u64 base_stime;
	__u64 enqueue_ts;	/* became runnable at; 0 when not waiting */
	__u64 sys_enter_ts;	/* in a syscall since; 0 when not in one */
	__u32 sys_nr;
	__u32 pad;
};

/* Per-execution counters, per CPU; userspace sums the CPUs. */
struct ww_exec_stats {
	__u64 on_cpu_ns;
	/*
	 * on_cpu_ns of each process that finished (its last thread's final
	 * switch), split as the kernel splits it: see ww_cpu_system_part.
	 */
	__u64 user_cpu_ns;
	__u64 system_cpu_ns;
	__u64 rq_wait_ns;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 minflt;
	__u64 majflt;
	__u64 net_bytes[WW_NET_MAX][2];	/* [proto][0 = sent, 1 = received] */
	__u64 tcp_retransmits;
	__u64 connects;
	__u64 connects_failed;
	__u64 connect_ns;		/* sum over established connects */
	__u64 connect_max_ns;
	__u64 forks;
	__u64 files_created;		/* opens that created their file (the kernel's FMODE_CREATED) */
	__u64 files_written;		/* successful opens for writing (FMODE_WRITE) */
	__u64 rq_hist[WW_HIST_BUCKETS];
};

/* Per-execution memory: a peak, so it is shared across CPUs. */
struct ww_exec_mem {
	__s64 rss_pages[3];		/* file, anon, shmem: current sum over processes */
	__s64 peak_pages;
	__s64 peak_split[3];		/* the split at the peak */
	/*
	 * Shared pages once: file and shmem pages (libraries, executables,
	 * shared mappings) are mostly the same pages in every process of a
	 * tree, so they count once, as the largest such set any live process
	 * has (sharer_*); anonymous pages count per process.
	 */
	__s64 sharer_pages;		/* file+shmem of the process that has the most */
	__u64 sharer_tgid;
	__s64 peak_once_pages;		/* highest anon sum + sharer_pages */
};

/* Per-execution state shared across CPUs. */
struct ww_exec_shared {
	struct ww_exec_mem mem;
	/*
	 * The syscall numbers that have a syscall_stats entry, so userspace reads
	 * and deletes an execution's entries by key instead of walking the map.
	 * Numbers beyond the bitmap set syscalls_overflow (userspace walks then).
	 */
	__u64 syscalls_seen[WW_SYSCALL_BITS / 64];
	__u64 syscalls_overflow;
	__u64 orch_id;			/* the orchestrator that spawned it, 0 when none */
	__u32 job_flags;		/* WW_EXEC_*: what the exec hook still has to do for it */
	__u32 root_tgid;		/* its root process, for a job started in the kernel */
};

/* ww_exec_shared.job_flags (the kernel's alone: userspace never writes an entry the kernel updates) */
#define WW_EXEC_NAME_AT_EXEC	(1u << 0)	/* an orchestrator's child: its root's first exec names it */

/* How an orchestrator's descendants become jobs. */
enum ww_jobs_mode {
	WW_JOBS_CHILDREN,	/* each process it forks (the default) */
	WW_JOBS_EXEC,		/* a descendant at any depth that executes a program the job pattern accepts */
};

/* An orchestrator, keyed by its id: created by userspace, or by a watch rule at exec. */
struct ww_orch {
	__u32 jobs;			/* enum ww_jobs_mode */
	__u32 jobs_id;			/* whose verdicts (job_verdicts) apply */
	__u32 rule;			/* the watch rule that made it, 0: none */
	__u32 tgid;			/* the orchestrator's own process: never a job itself */
};

/* A job pattern's verdict on one program (by the FNV-1a hash of the path it was executed by). */
struct ww_verdict_key {
	__u64 hash;
	__u32 jobs_id;
	__u32 pad;
};

enum ww_verdict {
	WW_VERDICT_REJECT = 1,
	WW_VERDICT_ACCEPT,
};

/* ww_watch_rule.flags: the selectors a rule has (all must match) and what it does. */
#define WW_WATCH_EXE		(1u << 0)	/* the executed file (inode) or the path it was run by */
#define WW_WATCH_COMM		(1u << 1)
#define WW_WATCH_UID		(1u << 2)
#define WW_WATCH_CGROUP		(1u << 3)	/* in the cgroup or below it */
#define WW_WATCH_PARENT		(1u << 4)	/* the parent process matches rule parent_slot's selectors */
#define WW_WATCH_ARGV		(1u << 5)	/* an argv regex too: userspace decides */
#define WW_WATCH_ORCH		(1u << 6)	/* action: an orchestrator rather than one execution */
#define WW_WATCH_NONE		(1u << 7)	/* action: none, only a parent selector for other rules */

/* What a watch rule selects, in the kernel's terms (userspace resolves paths to these). */
struct ww_watch_sel {
	__u64 exe_ino;
	__u64 cgroup_id;		/* kernfs id of the cgroup directory */
	__u32 exe_dev;			/* kernel dev_t (MAJOR << 20 | MINOR) */
	__u32 uid;			/* real uid */
	__u32 cgroup_ssid;		/* v1: the controller's subsystem id; WW_CGROUP_V2: unified */
	__u32 cgroup_hierarchy;		/* its hierarchy id (0: unified), for cgroup joins */
	__u32 cgroup_level;		/* depth of the cgroup below its root */
	__u32 pad;
	char comm[WW_COMM_LEN];
	char exe[WW_WATCH_PATH_LEN];	/* an absolute path, matched as given to execve (scripts) */
};

/* One watch rule in the kernel's array; slots [0, watch_rules_n) are used. */
struct ww_watch_rule {
	struct ww_watch_sel sel;
	__u32 id;			/* userspace's rule id */
	__u32 flags;			/* WW_WATCH_* */
	__u32 parent_slot;		/* with WW_WATCH_PARENT */
	__u32 jobs;			/* with WW_WATCH_ORCH: enum ww_jobs_mode */
	__u32 jobs_id;
	__u32 pad;
};

/* One tracked process (keyed by tgid). */
struct ww_proc {
	__u64 exec_id;
	__s64 rss_pages[3];		/* last split seen, to apply deltas to ww_exec_mem */
	__s64 peak_pages;		/* highest file+anon+shmem of its own mm seen since exec */
	/* what its threads that are gone contributed, by enum ww_task_counter */
	__u64 gone[WW_TC_MAX];
	__u64 gone_utime;		/* and their utime and stime, while tracked */
	__u64 gone_stime;
	__u64 threads;			/* tracked threads that have not yet switched out for good */
	__u32 await_exec;		/* a root held before exec: its mm is still ours, not CMD's */
	__u32 exited;			/* its last thread passed sched_process_exit */
	__u32 held;			/* a root held before exec: ru_maxrss counts only its own mm */
	__u32 pad;
};

struct ww_syscall_key {
	__u64 exec_id;
	__u32 nr;
	__u32 pad;
};

struct ww_syscall_stats {
	/*
	 * All calls, once userspace read the entry. The kernel adds here only
	 * calls that never return (exit, exit_group: no latency sample); each
	 * other call is one histogram count, which userspace adds on reading,
	 * so the hot path saves an atomic add.
	 */
	__u64 count;
	__u64 errors;
	__u64 total_ns;
	__u64 max_ns;
	__u64 hist[WW_HIST_BUCKETS];
};

/* A TCP socket a tracked task connected or sent on. */
struct ww_sock {
	__u64 exec_id;
	__u64 connect_ts;
};

enum ww_event_type {
	WW_EV_FORK = 1,
	WW_EV_EXEC,
	WW_EV_EXIT,
	WW_EV_SIGNAL,
	WW_EV_OOM,
	WW_EV_SLOW_SYSCALL,
	WW_EV_ORCH_CHILD,	/* an orchestrator spawned a process: a new execution */
	WW_EV_PROC_DONE,	/* a process's last thread switched out for good: its final figures */
	WW_EV_JOB,		/* a process became a job at exec, or needs userspace to decide (ww_job_event) */
};

enum ww_job_kind {
	WW_JOB_WATCH = 1,	/* a watch rule matched a process at exec: a new execution */
	WW_JOB_WATCH_ORCH,	/* a watch rule matched a process at exec: a new orchestrator */
	WW_JOB_EXEC,		/* an orchestrator's descendant executed a program: a new execution */
	WW_JOB_NAMED,		/* the root of an orchestrator's child executed its first program */
	WW_JOB_CGROUP,		/* an untracked process joined a watched cgroup: userspace attaches it */
};

/* ww_job_event.flags */
#define WW_JOB_PROVISIONAL	(1u << 0)	/* userspace decides whether it stays tracked */
#define WW_JOB_ENV_TRUNCATED	(1u << 1)	/* environ was longer than WW_JOB_ENV_MAX */

struct ww_event_hdr {
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 exec_id;
	__u32 type;
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 ppid;
	char comm[WW_COMM_LEN];
};

struct ww_fork_event {
	struct ww_event_hdr hdr;
};

struct ww_exec_event {
	struct ww_event_hdr hdr;
	char filename[WW_FILENAME_LEN];
};

struct ww_exit_event {
	struct ww_event_hdr hdr;
	__u64 on_cpu_ns;	/* the process's own se.sum_exec_runtime, all threads */
	__u64 maxrss_pages;	/* signal->maxrss, what getrusage reports */
	__u64 minflt;
	__u64 majflt;
	__u64 utime_ns;		/* the process's tick-sampled utime and stime, all threads */
	__u64 stime_ns;
	__u32 exit_status;	/* wait(2) status: code << 8 | signal */
	__u32 pad;
};

/* After the exit event, at the final context switch of the process's last thread. */
struct ww_proc_done_event {
	struct ww_event_hdr hdr;	/* pid/tid/comm are the last thread's */
	__u64 counters[WW_TC_MAX];	/* what all its threads did while tracked, by enum ww_task_counter */
	__u64 user_cpu_ns;		/* counters[WW_TC_RUNTIME] split: see ww_cpu_system_part */
	__u64 system_cpu_ns;
};

struct ww_signal_event {
	struct ww_event_hdr hdr;	/* pid/tid/comm are the target's */
	__u32 sig;
	__u32 sender_pid;		/* 0 when the kernel sent it (SEND_SIG_PRIV) */
	__u32 sender_tid;
	__s32 result;			/* TRACE_SIGNAL_* */
	char sender_comm[WW_COMM_LEN];	/* for a kernel signal: the task in whose context it was sent */
};

#define WW_CGROUP_NAME_LEN	64

struct ww_oom_event {
	struct ww_event_hdr hdr;	/* pid/tid/comm are the victim's */
	__u64 memcg_id;			/* the victim's memory cgroup: its kernfs id (= directory inode) */
	__u32 trigger_pid;		/* the task whose allocation ran the OOM killer */
	__u32 trigger_tid;
	char trigger_comm[WW_COMM_LEN];
	char memcg_name[WW_CGROUP_NAME_LEN];	/* its last path component; "" for the root */
};

struct ww_orch_child_event {
	struct ww_event_hdr hdr;	/* exec_id is the new execution, ppid the orchestrator */
	__u64 orch_id;
};

/*
 * A process became a job (or needs a decision), with what names are made
 * of: argv and environ at exec. Variable length: only the header and the
 * args_len + env_len bytes of data used are submitted.
 */
struct ww_job_event {
	struct ww_event_hdr hdr;	/* exec_id: the execution; 0 for WATCH_ORCH and CGROUP */
	__u64 orch_id;			/* its orchestrator (the new one for WATCH_ORCH), 0: none */
	__u64 parent_exec;		/* the provisional execution it left at this exec, 0: none */
	__u64 cgroup_id;		/* its cgroup in the unified hierarchy */
	__u32 kind;			/* enum ww_job_kind */
	__u32 flags;			/* WW_JOB_* */
	__u32 rule;			/* the watch rule that matched, 0: none */
	__u32 uid;
	__u32 args_len;			/* data[0, args_len): argv, NUL-separated */
	__u32 env_len;			/* data[args_len, +env_len): environ, NUL-separated */
	char filename[WW_FILENAME_LEN];	/* the path it was executed by */
	char data[WW_JOB_ARGS_MAX + WW_JOB_ENV_MAX];
};

/* A process a watch rule selects now, as the adoption iterator reports it. */
struct ww_watch_match {
	__u32 pid;
	__u32 rule;
};

/* One tracked task, as the task iterator reports it (for "blocked in a syscall now"). */
struct ww_task_info {
	__u64 exec_id;
	__u64 sys_enter_ts;		/* 0 when not in a syscall */
	__u64 uncharged_ns;		/* CPU time not yet charged: it is charged at switch-out */
	__u64 utime_ns;			/* its utime and stime since tracking began (tick-sampled) */
	__u64 stime_ns;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 sys_nr;
	__u32 state;			/* task __state: 0 running, else blocked */
	__u32 exit_state;		/* non-zero once it exited (a zombie until reaped) */
	__u32 exit_code;		/* its wait(2) status, once it exited */
	__u32 pad;
	char comm[WW_COMM_LEN];
};

struct ww_slow_syscall_event {
	struct ww_event_hdr hdr;
	__u64 duration_ns;
	__s64 ret;
	__u32 nr;
	__u32 pad;
};

_Static_assert(sizeof(struct ww_event_hdr) == 48, "event header layout");
_Static_assert(sizeof(struct ww_exec_mem) == 80, "execution memory layout");
_Static_assert(sizeof(struct ww_exit_event) == 104, "exit event layout");
_Static_assert(sizeof(struct ww_signal_event) == 80, "signal event layout");
_Static_assert(sizeof(struct ww_proc_done_event) == 104, "process done event layout");
_Static_assert(sizeof(struct ww_oom_event) == 144, "OOM event layout");
_Static_assert(sizeof(struct ww_task) == 136, "task storage layout");
_Static_assert(sizeof(struct ww_proc) == 120, "process record layout");
_Static_assert(sizeof(struct ww_slow_syscall_event) == 72, "slow syscall event layout");
_Static_assert(sizeof(struct ww_orch_child_event) == 56, "orchestrator child event layout");
_Static_assert(sizeof(struct ww_task_info) == 88, "task info layout");
_Static_assert(sizeof(struct ww_job_event) == 352 + WW_JOB_ARGS_MAX + WW_JOB_ENV_MAX, "job event layout");
_Static_assert(sizeof(struct ww_watch_rule) == 208, "watch rule layout");
_Static_assert(sizeof(struct ww_orch) == 16, "orchestrator layout");

/* The histogram bucket of value v (both sides must agree). */
static inline __u32 ww_hist_bucket(__u64 v)
{
	__u32 log2 = 0;
	__u64 x = v;

	if (v < WW_HIST_SUB)
		return (__u32)v;
	if (v >= (1ULL << WW_HIST_MAX_LOG2))
		return WW_HIST_BUCKETS - 1;
	if (x >> 32) { x >>= 32; log2 += 32; }
	if (x >> 16) { x >>= 16; log2 += 16; }
	if (x >> 8) { x >>= 8; log2 += 8; }
	if (x >> 4) { x >>= 4; log2 += 4; }
	if (x >> 2) { x >>= 2; log2 += 2; }
	if (x >> 1) { log2 += 1; }
	return (log2 - WW_HIST_SUB_BITS + 1) * WW_HIST_SUB +
	       (__u32)((v >> (log2 - WW_HIST_SUB_BITS)) & (WW_HIST_SUB - 1));
}

/*
 * The system part of rtime ns of CPU whose tick samples were utime and
 * stime, as the kernel splits what getrusage reports (cputime_adjust in
 * kernel/sched/cputime.c): rtime * stime / (utime + stime); all user when
 * stime is 0 (both 0 included: it ran between ticks), all system when only
 * utime is 0. Exact for any rtime: the sampled pair is scaled below 2^32
 * first, which changes the proportion by less than 2^-31, far below the
 * sampling's own error.
 */
static inline __u64 ww_cpu_system_part(__u64 rtime, __u64 utime, __u64 stime)
{
	__u64 total, q, r;
	int i;

	if (!stime)
		return 0;
	if (!utime)
		return rtime;
	/* bounded for the verifier: 32 halvings bring any u64 pair below 2^32 */
	for (i = 0; i < 32 && (utime + stime < utime || ((utime + stime) >> 32)); i++) {
		utime >>= 1;
		stime >>= 1;
	}
	total = utime + stime;
	if (!total)
		return 0;
	/* rtime * stime / total without overflow: rtime = q * total + r, r * stime < 2^64 */
	q = rtime / total;
	r = rtime % total;
	return q * stime + r * stime / total;
}

#endif /* WORKERWATCH_H */
