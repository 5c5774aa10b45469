// SPDX-License-Identifier: MIT
/* What workerwatch knows of one execution: its identity, processes, totals and outcome. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "observe/execution.h"

const char *failure__category_name(enum failure_category c)
{
	static const char *const names[] = {
		[FAILURE_NONE] = "none",
		[FAILURE_EXIT_NONZERO] = "exit_nonzero",
		[FAILURE_CRASHED] = "crashed",
		[FAILURE_KILLED] = "killed",
		[FAILURE_OOM] = "oom",
		[FAILURE_TIMEOUT] = "timeout",
		[FAILURE_NOT_FOUND] = "not_found",
		[FAILURE_PERMISSION] = "permission",
		[FAILURE_LOST] = "lost",
	};

	return c < FAILURE_MAX ? names[c] : "unknown";
}

/* Signals a process raises against itself when it faults or aborts. */
static bool is_crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGABRT || sig == SIGSYS || sig == SIGTRAP;
}

static __u64 pages_to_bytes(__s64 pages)
{
	return pages > 0 ? (__u64)pages * (__u64)sysconf(_SC_PAGESIZE) : 0;
}

__u64 execution__rss_bytes(const struct execution *e)
{
	__u64 bytes = 0;

	for (int i = 0; i < 3; i++)
		bytes += pages_to_bytes(e->mem.rss_pages[i]);
	return bytes;
}

__u64 execution__peak_rss_bytes(const struct execution *e)
{
	return pages_to_bytes(e->mem.peak_pages);
}

__u64 execution__peak_memory_bytes(const struct execution *e)
{
	__s64 pages = e->mem.peak_once_pages;

	/* never above the sum of RSS, which it only dedupes */
	return pages_to_bytes(pages < e->mem.peak_pages ? pages : e->mem.peak_pages);
}

__u64 execution__system_cpu_ns(const struct execution *e)
{
	const struct ww_exec_stats *s = &e->totals;
	__u64 split = s->user_cpu_ns + s->system_cpu_ns, rest, ut = e->running_utime_ns, st = e->running_stime_ns;

	/* a read racing a final switch can see the split before the charge */
	if (split >= s->on_cpu_ns)
		return s->system_cpu_ns < s->on_cpu_ns ? s->system_cpu_ns : s->on_cpu_ns;
	rest = s->on_cpu_ns - split;
	if (!ut && !st) {
		/* no running thread seen: the finished processes' proportion */
		ut = s->user_cpu_ns;
		st = s->system_cpu_ns;
	}
	return s->system_cpu_ns + ww_cpu_system_part(rest, ut, st);
}

__u64 execution__user_cpu_ns(const struct execution *e)
{
	return e->totals.on_cpu_ns - execution__system_cpu_ns(e);
}

__u64 execution__syscalls(const struct execution *e)
{
	__u64 n = 0;

	for (int i = 0; i < e->nr_syscalls; i++)
		n += e->syscalls[i].stats.count;
	return n;
}

__u64 execution__syscall_errors(const struct execution *e)
{
	__u64 n = 0;

	for (int i = 0; i < e->nr_syscalls; i++)
		n += e->syscalls[i].stats.errors;
	return n;
}

__u64 execution__net_bytes(const struct execution *e, int dir)
{
	__u64 n = 0;

	for (int p = 0; p < WW_NET_MAX; p++)
		n += e->totals.net_bytes[p][dir];
	return n;
}

__u64 execution__live_procs(const struct execution *e)
{
	__u64 n = 0;

	for (int i = 0; i < e->nr_procs; i++)
		n += !e->procs[i].exited;
	return n;
}

struct process *execution__find_proc(struct execution *e, __u32 pid)
{
	struct process *found = NULL;

	for (int i = 0; i < e->nr_procs; i++) {
		if (e->procs[i].pid != pid)
			continue;
		found = &e->procs[i];
		if (!found->exited)
			break;
	}
	return found;
}

struct process *execution__add_proc(struct execution *e, __u32 pid, __u32 ppid)
{
	struct process *p;

	if (e->nr_procs == e->cap_procs) {
		int cap = e->cap_procs ? e->cap_procs * 2 : 16;
		struct process *n = realloc(e->procs, cap * sizeof(*n));

		if (!n)
			return NULL;
		e->procs = n;
		e->cap_procs = cap;
	}
	p = &e->procs[e->nr_procs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	return p;
}

bool execution__stopped_by_orchestrator(const struct execution *e)
{
	int sig = WTERMSIG(e->exit_status);

	if (!e->ended || e->detached || e->stop_is_failure || e->timed_out || e->exec_errno || e->end_unseen ||
	    !WIFSIGNALED(e->exit_status) || (!e->orch_pid && !e->job_parent))
		return false;
	for (int i = 0; i < e->nr_procs; i++) {
		const struct process *p = &e->procs[i];

		if (p->pid != (__u32)e->pid)
			continue;
		return p->fatal_sig == sig && p->sender_pid && !p->oom_victim &&
		       (p->sender_pid == (__u32)e->orch_pid || p->sender_pid == (__u32)e->job_parent);
	}
	return false;
}

void execution__classify(const struct execution *e, struct failure *f)
{
	const struct process *root = NULL;
	int status = e->exit_status;

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < e->nr_procs; i++) {
		if (e->procs[i].pid == (__u32)e->pid && !root)
			root = &e->procs[i];
		if (!e->procs[i].oom_victim)
			continue;
		/* the root's own kill, else the tree's first */
		if (!f->oom_victims++ || &e->procs[i] == root) {
			f->oom_trigger_pid = e->procs[i].oom_trigger_pid;
			memcpy(f->oom_trigger_comm, e->procs[i].oom_trigger_comm, sizeof(f->oom_trigger_comm));
			memcpy(f->oom_memcg, e->procs[i].oom_memcg, sizeof(f->oom_memcg));
		}
	}
	if (e->exec_errno) {
		f->category = e->exec_errno == ENOENT ? FAILURE_NOT_FOUND : FAILURE_PERMISSION;
		snprintf(f->reason, sizeof(f->reason), "cannot execute %s: %s",
			 e->argv && e->argv[0] ? e->argv[0] : "command", strerror(e->exec_errno));
		return;
	}
	if (e->end_unseen) {
		f->category = FAILURE_LOST;
		snprintf(f->reason, sizeof(f->reason),
			 "its processes are gone but their exit was not seen (events were lost)");
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !e->timed_out)
		return;

	if (WIFSIGNALED(status)) {
		f->signal = WTERMSIG(status);
		f->core_dumped = WCOREDUMP(status);
		if (root && root->fatal_sig == f->signal) {
			f->sender_pid = root->sender_pid;
			memcpy(f->sender_comm, root->sender_comm, sizeof(f->sender_comm));
		}
	}
	if (e->timed_out) {
		f->category = FAILURE_TIMEOUT;
		snprintf(f->reason, sizeof(f->reason), "stopped by workerwatch after its timeout");
	} else if (root && root->oom_victim) {
		f->category = FAILURE_OOM;
		snprintf(f->reason, sizeof(f->reason),
			 "killed by the kernel's OOM killer (memory cgroup %.160s; allocation by pid %u, %s)",
			 f->oom_memcg[0] ? f->oom_memcg : "unknown", f->oom_trigger_pid, f->oom_trigger_comm);
	} else if (WIFEXITED(status)) {
		f->category = f->oom_victims ? FAILURE_OOM : FAILURE_EXIT_NONZERO;
		if (f->oom_victims)
			snprintf(f->reason, sizeof(f->reason),
				 "exited with code %d after the OOM killer killed %d of its processes",
				 WEXITSTATUS(status), f->oom_victims);
		else
			snprintf(f->reason, sizeof(f->reason), "exited with code %d",
				 WEXITSTATUS(status));
	} else if (is_crash_signal(f->signal) &&
		   (!f->sender_pid || f->sender_pid == (__u32)e->pid)) {
		f->category = FAILURE_CRASHED;
		snprintf(f->reason, sizeof(f->reason), "crashed with SIG%s%s", sigabbrev_np(f->signal),
			 f->core_dumped ? " (core dumped)" : "");
	} else {
		f->category = FAILURE_KILLED;
		if (f->sender_pid && f->sender_pid != (__u32)e->pid)
			snprintf(f->reason, sizeof(f->reason), "killed by SIG%s from pid %u (%s)",
				 sigabbrev_np(f->signal), f->sender_pid, f->sender_comm);
		else
			snprintf(f->reason, sizeof(f->reason), "killed by SIG%s",
				 sigabbrev_np(f->signal));
	}
}

int execution__shell_status(const struct execution *e)
{
	if (e->exec_errno)
		return e->exec_errno == ENOENT ? 127 : 126;
	if (WIFSIGNALED(e->exit_status))
		return 128 + WTERMSIG(e->exit_status);
	return WEXITSTATUS(e->exit_status);
}

void execution__free(struct execution *e)
{
	if (!e)
		return;
	if (e->argv) {
		for (char **a = e->argv; *a; a++)
			free(*a);
		free(e->argv);
	}
	free(e->procs);
	free(e->syscalls);
	free(e->slow);
	free(e);
}
