// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Watch rules and job boundaries at exec: a process becomes a job in the kernel before its first instruction. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "jobs.bpf.h"

#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */
#define MAX_SUBSYS	16		/* bound on a v1 controller's subsystem id */
#define MAX_LEVEL	255		/* bound on a cgroup's depth */

/* The rules, in slots [0, watch_rules_n); userspace rewrites them and then the count. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WW_WATCH_RULES_MAX);
	__type(key, __u32);
	__type(value, struct ww_watch_rule);
} watch_rules SEC(".maps");

/*
 * What a job pattern (a regex userspace evaluates) said of a program, so
 * that only the first exec of each program under an orchestrator waits for
 * userspace; an evicted verdict only costs that again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WW_MAX_VERDICTS);
	__type(key, struct ww_verdict_key);
	__type(value, __u32);
} job_verdicts SEC(".maps");

/*
 * Jobs of an orchestrator started at exec before userspace could decide
 * (key: execution, value: orchestrator); userspace deletes the entry when
 * it decides. Until then a descendant that executes a program may be a job
 * of its own.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WW_MAX_EXECS);
	__type(key, __u64);
	__type(value, __u64);
} provisional SEC(".maps");

/* A job event is assembled here (too big for the stack) and only its used bytes submitted. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ww_job_event);
} job_scratch SEC(".maps");

__u32 watch_rules_n;		/* rules in use; 0 keeps the untracked exec path at one load */
__u64 next_orch_id __weak;	/* orchestrator ids, shared with userspace like next_exec_id */

/* What ww_retag_iter moves, set by userspace through .bss before each run. */
__u64 retag_from_exec;		/* the tasks of this execution, or with 0: */
__u64 retag_from_orch;		/* the own tasks of this orchestrator */
__u64 retag_to_exec;		/* into this execution, or with 0: */
__u64 retag_to_orch;		/* back to this orchestrator's own tasks; both 0: untracked */
__u32 retag_tasks;		/* out: tasks moved */

/* What a rule's selectors are compared with, read once per process. */
struct facts {
	__u64 exe_ino;
	__u32 exe_dev;
	__u32 uid;
	__u64 comm[2];
};

static __always_inline void facts_of(struct task_struct *task, struct file *exe, struct facts *f)
{
	struct inode *inode = BPF_CORE_READ(exe, f_inode);

	f->exe_ino = BPF_CORE_READ(inode, i_ino);
	f->exe_dev = BPF_CORE_READ(inode, i_sb, s_dev);
	f->uid = BPF_CORE_READ(task, cred, uid.val);
	f->comm[0] = f->comm[1] = 0;
	bpf_probe_read_kernel_str(f->comm, sizeof(f->comm), task->comm);
}

/* The task's cgroup in a v1 controller's hierarchy, or in the unified one. */
static __always_inline struct cgroup *cgroup_of(struct task_struct *task, __u32 ssid)
{
	struct css_set *cs = BPF_CORE_READ(task, cgroups);
	struct cgroup_subsys_state *css = NULL;

	if (ssid == WW_CGROUP_V2)
		return BPF_CORE_READ(cs, dfl_cgrp);
	if (ssid >= MAX_SUBSYS)
		return NULL;
	bpf_probe_read_kernel(&css, sizeof(css), &cs->subsys[ssid]);
	return css ? BPF_CORE_READ(css, cgroup) : NULL;
}

/* Whether cg is the cgroup (level, id) or below it: its ancestor at that level. */
static __always_inline bool cgroup_under(struct cgroup *cg, __u32 level, __u64 id)
{
	struct cgroup *anc = NULL;

	if (!cg || level > MAX_LEVEL || BPF_CORE_READ(cg, level) < (int)level)
		return false;
	bpf_probe_read_kernel(&anc, sizeof(anc),
			      (void *)cg + bpf_core_field_offset(struct cgroup, ancestors) + level * sizeof(anc));
	return anc && BPF_CORE_READ(anc, kn, id) == id;
}

/* The rule's absolute path against the path the program was executed by (scripts keep theirs). */
static __always_inline bool same_path(const char *rule, const char *run)
{
	for (int i = 0; i < WW_WATCH_PATH_LEN; i++) {
		if (rule[i] != run[i])
			return false;
		if (!rule[i])
			return true;
	}
	return false;
}

/*
 * Whether the selectors match task. run: the path it was just executed by
 * (NULL when not at exec); joined: the cgroup it joins (NULL when not joining).
 */
static __always_inline bool sel_match(const struct ww_watch_sel *sel, __u32 flags, struct task_struct *task,
				      const struct facts *f, const char *run, struct cgroup *joined)
{
	const __u64 *comm = (const __u64 *)sel->comm;
	struct cgroup *cg;

	if ((flags & WW_WATCH_COMM) && (comm[0] != f->comm[0] || comm[1] != f->comm[1]))
		return false;
	if ((flags & WW_WATCH_UID) && sel->uid != f->uid)
		return false;
	if ((flags & WW_WATCH_EXE) && !(sel->exe_ino == f->exe_ino && sel->exe_dev == f->exe_dev) &&
	    !(run && same_path(sel->exe, run)))
		return false;
	if (flags & WW_WATCH_CGROUP) {
		if (joined && BPF_CORE_READ(joined, root, hierarchy_id) != (int)sel->cgroup_hierarchy)
			return false;
		cg = joined ? joined : cgroup_of(task, sel->cgroup_ssid);
		if (!cgroup_under(cg, sel->cgroup_level, sel->cgroup_id))
			return false;
	}
	return true;
}

/* A rule with a parent selector: the parent process matches the selectors of the rule it names. */
static __always_inline bool parent_match(const struct ww_watch_rule *r, struct task_struct *parent,
					 const struct facts *pf)
{
	struct ww_watch_rule *pr;
	__u32 slot = r->parent_slot;

	if (!(r->flags & WW_WATCH_PARENT))
		return true;
	pr = bpf_map_lookup_elem(&watch_rules, &slot);
	return pr && parent && sel_match(&pr->sel, pr->flags & ~WW_WATCH_CGROUP, parent, pf, NULL, NULL) &&
	       (!(pr->flags & WW_WATCH_CGROUP) || sel_match(&pr->sel, WW_WATCH_CGROUP, parent, pf, NULL, NULL));
}

struct match_walk {
	struct task_struct *task;
	struct task_struct *parent;
	const char *run;
	struct cgroup *joined;
	struct ww_watch_rule *found;
	struct facts f, pf;
};

static long match_slot(__u32 slot, struct match_walk *w)
{
	struct ww_watch_rule *r = bpf_map_lookup_elem(&watch_rules, &slot);

	if (!r || (r->flags & WW_WATCH_NONE) || (w->joined && !(r->flags & WW_WATCH_CGROUP)))
		return 0;
	if (!sel_match(&r->sel, r->flags, w->task, &w->f, w->run, w->joined) || !parent_match(r, w->parent, &w->pf))
		return 0;
	w->found = r;
	return 1;
}

/* The first rule (not a parent selector only) that selects task, or NULL. */
static __always_inline struct ww_watch_rule *first_match(struct task_struct *task, struct file *exe,
							 const char *run, struct cgroup *joined)
{
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	struct match_walk w = { .task = task, .parent = parent, .run = run, .joined = joined };
	__u32 n = watch_rules_n;

	facts_of(task, exe, &w.f);
	facts_of(parent, BPF_CORE_READ(parent, mm, exe_file), &w.pf);
	/* bpf_loop: the verifier checks the body once instead of every slot */
	bpf_loop(n < WW_WATCH_RULES_MAX ? n : WW_WATCH_RULES_MAX, match_slot, &w, 0);
	return w.found;
}

static __always_inline struct ww_job_event *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&job_scratch, &zero);
}

/* FNV-1a of the path a program was executed by: the key of its verdicts (userspace hashes the same). */
static __always_inline __u64 path_hash(const char *s)
{
	__u64 h = 14695981039346656037ULL;

	for (int i = 0; i < WW_FILENAME_LEN; i++) {
		if (!s[i])
			break;
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static __always_inline __u32 verdict_of(__u32 jobs_id, const char *filename)
{
	struct ww_verdict_key key = { .hash = path_hash(filename), .jobs_id = jobs_id };
	__u32 *v = bpf_map_lookup_elem(&job_verdicts, &key);

	return v ? *v : 0;
}

/* argv and environ of the new image: what templates name jobs from, even if it exits at once. */
static __always_inline void read_args(struct task_struct *p, struct ww_job_event *ev)
{
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u64 as = BPF_CORE_READ(mm, arg_start), ae = BPF_CORE_READ(mm, arg_end);
	__u64 es = BPF_CORE_READ(mm, env_start), ee = BPF_CORE_READ(mm, env_end);
	__u64 alen = ae > as ? ae - as : 0, elen = ee > es ? ee - es : 0;

	if (alen > WW_JOB_ARGS_MAX)
		alen = WW_JOB_ARGS_MAX;
	if (elen > WW_JOB_ENV_MAX) {
		elen = WW_JOB_ENV_MAX;
		ev->flags |= WW_JOB_ENV_TRUNCATED;
	}
	if (bpf_probe_read_user(ev->data, alen, (void *)as))
		alen = 0;
	if (bpf_probe_read_user(ev->data + alen, elen, (void *)es))
		elen = 0;
	ev->args_len = alen;
	ev->env_len = elen;
}

/* Fills the rest of ev for task p and submits its used bytes; lifecycle events must not be lost: count it. */
static __always_inline void submit_job(struct ww_job_event *ev, struct task_struct *p, __u64 exec_id,
				       __u32 kind, __u32 flags, __u32 rule, __u64 orch_id, __u64 parent_exec,
				       bool with_args)
{
	__u64 len;

	fill_hdr(&ev->hdr, WW_EV_JOB, exec_id, p);
	ev->orch_id = orch_id;
	ev->parent_exec = parent_exec;
	ev->cgroup_id = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn, id);
	ev->kind = kind;
	ev->flags = flags;
	ev->rule = rule;
	ev->uid = BPF_CORE_READ(p, cred, uid.val);
	ev->args_len = ev->env_len = 0;
	if (with_args)
		read_args(p, ev);
	len = offsetof(struct ww_job_event, data) + ev->args_len + ev->env_len;
	if (len > sizeof(*ev))
		len = sizeof(*ev);
	if (bpf_ringbuf_output(&lifecycle_rb, ev, len, 0))
		count_event(WW_CNT_LIFECYCLE_LOST);
}

/*
 * rss_stat only fires on changes: a job (or the job a process is folded
 * into) starts with what its image holds already. The process's own peak
 * (for ru_maxrss of a held root) keeps the highest it saw.
 */
static __always_inline void seed_rss(struct task_struct *p, struct ww_proc *proc, __u64 exec_id)
{
	static const int member[3] = { 0, 1, 3 };	/* MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES */
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	struct ww_exec_mem *mem = exec_mem_of(exec_id);
	__s64 total = 0, own = 0, v;

	if (!mm || !mem)
		return;
	for (int i = 0; i < 3; i++) {
		v = BPF_CORE_READ(mm, rss_stat[member[i]].count);
		proc->rss_pages[i] = v > 0 ? v : 0;
		own += proc->rss_pages[i];
		total += __sync_fetch_and_add(&mem->rss_pages[i], proc->rss_pages[i]) + proc->rss_pages[i];
	}
	if (own > proc->peak_pages)
		proc->peak_pages = own;
	note_mem_peaks(mem, p->tgid, proc->rss_pages, total);
}

/* Process tgid's record leaves the execution it was in (its memory with it). */
static __always_inline void proc_leave(struct ww_proc *proc, __u32 tgid)
{
	struct ww_exec_mem *mem = exec_mem_of(proc->exec_id);

	if (mem) {
		for (int i = 0; i < 3; i++)
			__sync_fetch_and_add(&mem->rss_pages[i], -proc->rss_pages[i]);
		/* it was the largest sharer: the others' next changes tell who is now */
		if (mem->sharer_tgid == tgid) {
			mem->sharer_pages = 0;
			mem->sharer_tgid = 0;
		}
	}
	for (int i = 0; i < 3; i++)
		proc->rss_pages[i] = 0;
}

/*
 * p's process leaves t's execution at this exec, which ended its other
 * threads: its CPU there is final, so it is split there (as thread_gone
 * does for a process that ends). Threads of it still switching out for good
 * find the record restarted and split their own part.
 */
static __always_inline void leave_cpu_split(struct ww_task *t, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct ww_proc *proc = bpf_map_lookup_elem(&procs, &tgid);
	__u64 ut, st, rtime;

	tracked_cputime(t, p, &ut, &st);
	rtime = t->charged[WW_TC_RUNTIME] - t->base[WW_TC_RUNTIME];
	if (proc && proc->exec_id == t->exec_id) {
		rtime += proc->gone[WW_TC_RUNTIME];
		ut += proc->gone_utime;
		st += proc->gone_stime;
	}
	charge_cpu_split(t->exec_id, rtime, ww_cpu_system_part(rtime, ut, st));
}

/*
 * p's process starts over in a new execution at this exec: one thread (exec
 * ended the others; those still switching out for good belong to the
 * execution it leaves, whose id they carry), nothing gone yet, a new image.
 */
static __always_inline void proc_restart(struct ww_proc *proc, __u64 exec_id)
{
	proc->exec_id = exec_id;
	proc->peak_pages = 0;
	for (int i = 0; i < WW_TC_MAX; i++)
		proc->gone[i] = 0;
	proc->gone_utime = 0;
	proc->gone_stime = 0;
	proc->threads = 1;
	proc->await_exec = 0;
	proc->exited = 0;
	proc->held = 0;
}

/*
 * p (untracked, an orchestrator's own task, or leaving a provisional job)
 * becomes the root of a new execution at this exec, before it runs an
 * instruction of the new program.
 */
static __always_inline int start_job(struct task_struct *p, struct ww_task *t, struct ww_job_event *ev,
				     __u64 orch_id, __u32 kind, __u32 flags, __u32 rule, __u64 parent_exec)
{
	struct ww_exec_shared *zero_shared, *shared;
	struct ww_exec_stats *zero;
	struct ww_proc rec = {}, *proc;
	__u32 zero_key = 0, tgid = p->tgid;
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
		shared->orch_id = orch_id;
		shared->root_tgid = tgid;
	}
	if ((flags & WW_JOB_PROVISIONAL) && orch_id && bpf_map_update_elem(&provisional, &id, &orch_id, BPF_ANY))
		count_event(WW_CNT_EXEC_MAP_FULL);
	if (t && t->exec_id) {
		/* what it did up to this exec is the job it leaves; a finished one drops its storage */
		charge_counters(t, p);
		t = task_state(p);
		if (t)
			leave_cpu_split(t, p);
	}
	if (!t)
		t = bpf_task_storage_get(&tracked, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		bpf_map_delete_elem(&exec_stats, &id);
		bpf_map_delete_elem(&exec_shared, &id);
		count_event(WW_CNT_STORAGE_FAIL);
		return 0;
	}
	t->exec_id = id;
	t->orch_id = 0;
	/* charged from now on: what the task did before this exec is not the job's */
	read_task_counters(p, t->charged);
	__builtin_memcpy(t->base, t->charged, sizeof(t->base));
	t->base_utime = p->utime;
	t->base_stime = p->stime;

	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (proc) {
		proc_leave(proc, tgid);
		proc_restart(proc, id);
	} else {
		proc_restart(&rec, id);
		if (bpf_map_update_elem(&procs, &tgid, &rec, BPF_NOEXIST))
			count_event(WW_CNT_PROC_MAP_FULL);
		proc = bpf_map_lookup_elem(&procs, &tgid);
	}
	if (proc)
		seed_rss(p, proc, id);
	submit_job(ev, p, id, kind, flags, rule, orch_id, parent_exec, true);
	return 0;
}

/* A watch rule made p an orchestrator: its jobs follow the rule's boundary. */
static __always_inline int start_orch(struct task_struct *p, const struct ww_watch_rule *r,
				      struct ww_job_event *ev, __u32 flags)
{
	struct ww_orch o = { .jobs = r->jobs, .jobs_id = r->jobs_id, .rule = r->id, .tgid = p->tgid };
	struct ww_task *t;
	__u64 id = __sync_fetch_and_add(&next_orch_id, 1) + 1;

	if (bpf_map_update_elem(&orchs, &id, &o, BPF_NOEXIST)) {
		count_event(WW_CNT_ORCH_MAP_FULL);
		return 0;
	}
	t = bpf_task_storage_get(&tracked, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		bpf_map_delete_elem(&orchs, &id);
		count_event(WW_CNT_STORAGE_FAIL);
		return 0;
	}
	t->exec_id = 0;
	t->orch_id = id;
	submit_job(ev, p, 0, WW_JOB_WATCH_ORCH, flags, r->id, id, 0, true);
	return 0;
}

/* An untracked process executed a program: the first rule that selects it decides. */
static __always_inline int exec_untracked(struct task_struct *p, struct linux_binprm *bprm)
{
	struct ww_job_event *ev = scratch();
	struct ww_watch_rule *r;
	__u32 flags;

	if (!ev)
		return 0;
	bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), BPF_CORE_READ(bprm, filename));
	r = first_match(p, BPF_CORE_READ(bprm, file), ev->filename, NULL);
	if (!r)
		return 0;
	flags = r->flags & WW_WATCH_ARGV ? WW_JOB_PROVISIONAL : 0;
	if (r->flags & WW_WATCH_ORCH)
		return start_orch(p, r, ev, flags);
	return start_job(p, NULL, ev, 0, WW_JOB_WATCH, flags, r->id, 0);
}

/*
 * A task of a job executed a program. Only a job the kernel still has work
 * for looks further: an orchestrator's child names itself at its first
 * exec; a provisional job's descendant may be a job of its own.
 */
static __always_inline int exec_in_job(struct ww_task *t, struct task_struct *p, struct linux_binprm *bprm)
{
	struct ww_exec_shared *sh = bpf_map_lookup_elem(&exec_shared, &t->exec_id);
	struct ww_job_event *ev;
	struct ww_orch *o;
	__u64 parent, orch_id, *prov;
	__u32 v;

	if (!sh)
		return 0;
	if ((sh->job_flags & WW_EXEC_NAME_AT_EXEC) && p->tgid == sh->root_tgid) {
		sh->job_flags &= ~WW_EXEC_NAME_AT_EXEC;	/* once: only its root names it */
		ev = scratch();
		if (!ev)
			return 0;
		bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), BPF_CORE_READ(bprm, filename));
		submit_job(ev, p, t->exec_id, WW_JOB_NAMED, 0, 0, sh->orch_id, 0, true);
		return 0;
	}
	prov = bpf_map_lookup_elem(&provisional, &t->exec_id);
	if (!prov)
		return 0;
	orch_id = *prov;
	ev = scratch();
	if (!ev)
		return 0;
	o = bpf_map_lookup_elem(&orchs, &orch_id);
	if (!o || o->jobs != WW_JOBS_EXEC)
		return 0;
	bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), BPF_CORE_READ(bprm, filename));
	v = verdict_of(o->jobs_id, ev->filename);
	if (v == WW_VERDICT_REJECT)
		return 0;	/* stays in the provisional job, whatever becomes of it */
	parent = t->exec_id;
	return start_job(p, t, ev, orch_id, WW_JOB_EXEC, v == WW_VERDICT_ACCEPT ? 0 : WW_JOB_PROVISIONAL, 0,
			 parent);
}

/* An orchestrator's own task (not the orchestrator itself) executed a program: a job if the pattern says so. */
static __always_inline int exec_orch_side(struct ww_task *t, struct task_struct *p, struct linux_binprm *bprm)
{
	struct ww_job_event *ev;
	struct ww_orch *o = bpf_map_lookup_elem(&orchs, &t->orch_id);
	__u32 v;

	if (!o || o->jobs != WW_JOBS_EXEC || p->tgid == o->tgid)
		return 0;
	ev = scratch();
	if (!ev)
		return 0;
	bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), BPF_CORE_READ(bprm, filename));
	v = verdict_of(o->jobs_id, ev->filename);
	if (v == WW_VERDICT_REJECT)
		return 0;
	return start_job(p, t, ev, t->orch_id, WW_JOB_EXEC, v == WW_VERDICT_ACCEPT ? 0 : WW_JOB_PROVISIONAL, 0, 0);
}

/*
 * Every exec on the host comes here; an untracked task with no watch rules
 * costs one task-storage lookup and one load.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ww_watch_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ww_task *t = task_state(p);

	if (!t)
		return watch_rules_n ? exec_untracked(p, bprm) : 0;
	if (t->exec_id)
		return exec_in_job(t, p, bprm);
	if (t->orch_id)
		return exec_orch_side(t, p, bprm);
	return 0;
}

/* An untracked process joined a cgroup a rule watches: userspace attaches it and its threads. */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(ww_watch_cgroup, struct cgroup *dst, const char *path, struct task_struct *task, bool threadgroup)
{
	struct ww_job_event *ev;
	struct ww_watch_rule *r;

	if (!watch_rules_n || (task->flags & PF_KTHREAD) || task_state(task))
		return 0;
	r = first_match(task, BPF_CORE_READ(task, mm, exe_file), NULL, dst);
	ev = r ? scratch() : NULL;
	if (!ev)
		return 0;
	ev->filename[0] = 0;
	submit_job(ev, task, 0, WW_JOB_CGROUP, r->flags & WW_WATCH_ARGV ? WW_JOB_PROVISIONAL : 0, r->id, 0, 0,
		   false);
	return 0;
}

/* The processes the rules select now and nobody tracks: adopted when a daemon starts or a rule is added. */
SEC("iter/task")
int ww_watch_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ww_watch_match m;
	struct ww_watch_rule *r;

	if (!task || task->pid != task->tgid || (task->flags & PF_KTHREAD) || task->exit_state ||
	    task_state(task))
		return 0;
	r = first_match(task, BPF_CORE_READ(task, mm, exe_file), NULL, NULL);
	if (!r)
		return 0;
	m.pid = task->tgid;
	m.rule = r->id;
	bpf_seq_write(ctx->meta->seq, &m, sizeof(m));
	return 0;
}

/*
 * Moves the tasks of a job userspace decided on: into the job they were
 * started inside (a fold), back to their orchestrator's own tasks (a
 * rejected job), or out of tracking. Reports each task it moved.
 */
SEC("iter/task")
int ww_retag_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ww_task_info info = {};
	struct ww_proc *proc;
	struct ww_task *t;
	__u32 tgid;

	if (!task)
		return 0;
	t = task_state(task);
	if (!t || (retag_from_exec ? t->exec_id != retag_from_exec : (t->exec_id || t->orch_id != retag_from_orch)))
		return 0;
	tgid = task->tgid;
	proc = task->pid == tgid ? bpf_map_lookup_elem(&procs, &tgid) : NULL;
	if (proc && retag_from_exec && proc->exec_id == retag_from_exec) {
		proc_leave(proc, tgid);
		if (retag_to_exec) {
			proc->exec_id = retag_to_exec;
			seed_rss(task, proc, retag_to_exec);
		} else {
			bpf_map_delete_elem(&procs, &tgid);
		}
	}
	if (!retag_to_exec && !retag_to_orch) {
		bpf_task_storage_delete(&tracked, task);
	} else {
		t->exec_id = retag_to_exec;
		t->orch_id = retag_to_exec ? 0 : retag_to_orch;
	}
	retag_tasks++;
	info.exec_id = retag_to_exec;
	info.pid = tgid;
	info.tid = task->pid;
	info.ppid = BPF_CORE_READ(task, real_parent, tgid);
	info.exit_state = task->exit_state;
	__builtin_memcpy(info.comm, task->comm, sizeof(info.comm));
	bpf_seq_write(ctx->meta->seq, &info, sizeof(info));
	return 0;
}
