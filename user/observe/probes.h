/* SPDX-License-Identifier: MIT */
/* Loads the BPF programs after probing which hooks this kernel has, and attaches them on demand. */
#ifndef PROBES_H
#define PROBES_H

#include <stdbool.h>
#include <linux/types.h>

struct probes;
struct workerwatch_bpf;

struct probes_opts {
	__u64 slow_syscall_ns;	/* 0: the default of 1 s */
	/*
	 * Where maps and links are pinned (bpffs, mounted when missing), so the
	 * kernel keeps counting while no daemon runs; NULL or "": nothing pinned.
	 */
	const char *pin_dir;
};

/* Opens, probes and loads; NULL with errno and a logged reason on failure. */
struct probes *probes__load(const struct probes_opts *opts);
void probes__free(struct probes *p);

/* Whether the maps were pinned by an earlier daemon of the same BPF layout (its state is ours now). */
bool probes__adopted(const struct probes *p);
/* Whether pinned state of another BPF layout was found and removed (a clean start). */
bool probes__discarded(const struct probes *p);
/* Detaches and unpins everything: no program, link or pin is left behind. */
int probes__unpin_all(struct probes *p);

/* Attaches every loaded program (pinning the links when pinning); a no-op when already attached. */
int probes__attach(struct probes *p);
/* Detaches everything, so an idle observer costs nothing. */
void probes__detach(struct probes *p);
bool probes__attached(const struct probes *p);

/* Detached because nothing is tracked, attached, or detached because the last attach failed. */
enum probes_state { PROBES_IDLE, PROBES_ATTACHED, PROBES_FAILED };
/* The state, and in *attach_errors (when not NULL) how many attaches failed since the load. */
enum probes_state probes__state(const struct probes *p, __u64 *attach_errors);
const char *probes__state_name(enum probes_state s);

/*
 * Asks the kernel to time every BPF program (BPF_ENABLE_STATS, CAP_SYS_ADMIN)
 * for as long as the probes live: the kernel counts with a reference, so it
 * goes back off when the last holder closes. 0 or -errno.
 */
int probes__enable_stats(struct probes *p);
/* The kernel times programs now: through us, or kernel.bpf_stats_enabled. */
bool probes__stats_enabled(const struct probes *p);

/* The kernel's run-time statistics of one loaded program (bpf_prog_info). */
struct probe_prog_stats {
	const char *name;		/* the program's, valid as long as the probes */
	__u64 run_time_ns;		/* while statistics were enabled */
	__u64 run_count;
	__u64 recursion_misses;		/* runs the kernel skipped: the program was already running on that CPU */
};

/* Each loaded program's statistics, up to max; returns how many. */
int probes__prog_stats(struct probes *p, struct probe_prog_stats *out, int max);

struct workerwatch_bpf *probes__skel(struct probes *p);

/* A hook of one BPF program, as probes__hooks() finds it in the kernel's BTF. */
struct probe_hook {
	char prog[64];		/* the program, e.g. "ww_switch" */
	char hook[64];		/* its tracepoint, or the iterator target ("bpf_iter_task") */
	bool iterator;
	bool present;		/* this kernel has the hook */
	const char *lost;	/* the metric lost without it; NULL: workerwatch cannot run without it */
};

/* Every program's hook and whether this kernel has it, without loading anything; count or -errno. */
int probes__hooks(struct probe_hook *out, int max);

/* Metrics this kernel cannot give (missing hooks), e.g. "network.tcp_retransmits". */
int probes__unavailable(const struct probes *p, const char ***names);

/* Sum of each per-CPU observer counter (enum ww_counter) into out[WW_CNT_MAX]. */
int probes__counters(struct probes *p, __u64 *out);
/* What of those counters is lost data: all but tasks of executions already finalized. */
__u64 probes__lost_total(const __u64 *counters);

/* A new execution id; the kernel allocates from the same counter for orchestrators' children. */
__u64 probes__new_exec_id(struct probes *p);
/* The last execution id handed out, by the kernel or probes__new_exec_id (ids only grow). */
__u64 probes__last_exec_id(struct probes *p);

/*
 * Tags the running process tgid (all its threads) and, when exec_id is not 0,
 * all its descendants with exec_id; with exec_id 0, marks it an orchestrator
 * (orch_id) whose future children become executions. Tasks already tracked by
 * another execution are left alone and counted in *skipped; *live counts
 * the tagged tasks that have not exited.
 */
int probes__attach_tree(struct probes *p, __u32 tgid, __u64 exec_id, __u64 orch_id,
			__u32 *tagged, __u32 *skipped, __u32 *live);

struct ww_task_info;
/* Every tracked task (up to max) with the syscall it is in; returns how many or -errno. */
int probes__tasks(struct probes *p, struct ww_task_info *out, int max);

/* --- watch rules and job boundaries (watch.bpf.c) --- */
struct ww_watch_rule;
struct ww_watch_match;
struct ww_orch;

/* Replaces the kernel's watch rules with rules[0..n) (n <= WW_WATCH_RULES_MAX). */
int probes__set_watch_rules(struct probes *p, const struct ww_watch_rule *rules, int n);
/* Creates or replaces an orchestrator's job boundary; -ENOSPC when the map is full. */
int probes__set_orch(struct probes *p, __u64 orch_id, const struct ww_orch *o);
void probes__delete_orch(struct probes *p, __u64 orch_id);
/* A new orchestrator id; the kernel allocates from the same counter for watch rules' orchestrators. */
__u64 probes__new_orch_id(struct probes *p);
/* Makes the next ids larger than id (ids kept in history outlive a fresh kernel state). */
void probes__reserve_orch_ids(struct probes *p, __u64 id);
/* Remembers a job pattern's verdict (enum ww_verdict) on the program whose path hashes to hash. */
int probes__set_verdict(struct probes *p, __u32 jobs_id, __u64 hash, unsigned int verdict);
/* Userspace decided on a provisional job: its descendants' execs no longer start jobs of their own. */
void probes__job_decided(struct probes *p, __u64 exec_id);
/* The verdict key of a path (FNV-1a, as the kernel computes it). */
__u64 probes__path_hash(const char *path);
/*
 * Moves tasks (ww_retag_iter): those of execution from_exec, or with 0 the
 * own tasks of orchestrator from_orch, into execution to_exec, or with 0 to
 * orchestrator to_orch's own tasks, or with both 0 out of tracking. The
 * tasks moved go to out[max]; returns how many were moved, or -errno.
 */
int probes__retag(struct probes *p, __u64 from_exec, __u64 from_orch, __u64 to_exec, __u64 to_orch,
		  struct ww_task_info *out, int max);
/* The untracked processes the watch rules select now (up to max); returns how many or -errno. */
int probes__watch_scan(struct probes *p, struct ww_watch_match *out, int max);

#endif
