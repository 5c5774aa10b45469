// SPDX-License-Identifier: MIT
/* Registers executions in the kernel's maps and turns its lifecycle events into process records. */
#include <errno.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "workerwatch.skel.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "observe/hist.h"
#include "observe/probes.h"
#include "observe/tracker.h"

#define MAX_SLOW_KEPT 1000
#define LIVE_TASKS_MAX 65536
#define ALIASES 256		/* decided jobs whose queued events may still come */

struct tracker {
	struct probes *probes;
	struct workerwatch_bpf *skel;
	struct ring_buffer *rb;
	int ncpus;
	struct execution **execs;
	int nr_execs, cap_execs;
	struct tracker_hooks hooks;
	struct { __u64 from, to; } aliases[ALIASES];
	int next_alias;
};

__u64 tracker__now_mono(void)
{
	return clock__ns(CLOCK_MONOTONIC);
}

__u64 tracker__realtime(__u64 mono_ns)
{
	return mono_ns + clock__ns(CLOCK_REALTIME) - clock__ns(CLOCK_MONOTONIC);
}

/* Where id is in t->execs (kept sorted by id), or where it would go. */
static int exec_slot(const struct tracker *t, __u64 id)
{
	int lo = 0, hi = t->nr_execs;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (t->execs[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct execution *tracker__find(struct tracker *t, __u64 id)
{
	int i = exec_slot(t, id);

	return i < t->nr_execs && t->execs[i]->id == id ? t->execs[i] : NULL;
}

/* Adds e in id order; the caller made room with grow_execs. */
static void insert_exec(struct tracker *t, struct execution *e)
{
	int i = exec_slot(t, e->id);

	memmove(&t->execs[i + 1], &t->execs[i], (t->nr_execs - i) * sizeof(*t->execs));
	t->execs[i] = e;
	t->nr_execs++;
}

static void remove_exec(struct tracker *t, struct execution *e)
{
	int i = exec_slot(t, e->id);

	if (i == t->nr_execs || t->execs[i] != e)
		return;
	memmove(&t->execs[i], &t->execs[i + 1], (t->nr_execs - i - 1) * sizeof(*t->execs));
	t->nr_execs--;
}

static struct process *proc_of(struct execution *e, const struct ww_event_hdr *h)
{
	struct process *p = execution__find_proc(e, h->pid);

	if (!p) {
		p = execution__add_proc(e, h->pid, h->ppid);
		if (p)
			p->start_ns = h->ts_ns;
	}
	if (p)
		memcpy(p->comm, h->comm, sizeof(p->comm));
	return p;
}

static void add_slow(struct execution *e, const struct ww_slow_syscall_event *ev)
{
	struct slow_syscall *s;

	if (e->nr_slow == e->cap_slow) {
		int cap = e->cap_slow ? e->cap_slow * 2 : 16;
		struct slow_syscall *n;

		if (cap > MAX_SLOW_KEPT || !(n = realloc(e->slow, cap * sizeof(*n)))) {
			e->slow_dropped++;
			return;
		}
		e->slow = n;
		e->cap_slow = cap;
	}
	s = &e->slow[e->nr_slow++];
	s->pid = ev->hdr.pid;
	s->nr = ev->nr;
	s->duration_ns = ev->duration_ns;
	s->ret = ev->ret;
	s->ts_ns = ev->hdr.ts_ns;
}

void tracker__alias(struct tracker *t, __u64 from, __u64 to)
{
	t->aliases[t->next_alias].from = from;
	t->aliases[t->next_alias].to = to;
	t->next_alias = (t->next_alias + 1) % ALIASES;
}

/* The execution events of id go to after a fold, or NULL. */
static struct execution *aliased(struct tracker *t, __u64 id)
{
	for (int i = 0; i < ALIASES; i++)
		if (t->aliases[i].from == id && id)
			return t->aliases[i].to ? tracker__find(t, t->aliases[i].to) : NULL;
	return NULL;
}

/* The process that just exited with this pid: the last entry with it, exited or not yet marked so. */
static struct process *exited_proc(struct execution *e, __u32 pid)
{
	for (int i = e->nr_procs - 1; i >= 0; i--)
		if (e->procs[i].pid == pid)
			return &e->procs[i];
	return NULL;
}

static __u64 memcg_wanted_ino;
static char memcg_found[256];
static const char *memcg_root;

static int memcg_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_D || st->st_ino != memcg_wanted_ino)
		return 0;
	snprintf(memcg_found, sizeof(memcg_found), "%s", path[strlen(memcg_root)] ? path + strlen(memcg_root) : "/");
	return 1;
}

/*
 * The path of a memory cgroup below its hierarchy's mount, from its kernfs
 * id (the directory's inode number): the v1 memory controller's hierarchy,
 * else the unified one. Only when an OOM kill is reported, so a walk is fine.
 */
static void memcg_path(__u64 id, const char *name, char *buf, size_t size)
{
	static const char *const roots[] = { "/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };

	snprintf(buf, size, "%s", name[0] ? name : "/");	/* unresolved: its own name */
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		memcg_wanted_ino = id;
		memcg_root = roots[i];
		memcg_found[0] = 0;
		if (nftw(roots[i], memcg_visit, 16, FTW_PHYS | FTW_MOUNT) == 1) {
			snprintf(buf, size, "%s", memcg_found);
			return;
		}
	}
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct ww_event_hdr *h = data;
	struct tracker *t = ctx;
	struct execution *e;
	struct process *p;

	if (size < sizeof(*h))
		return 0;
	if (h->type == WW_EV_ORCH_CHILD) {
		if (t->hooks.orch_child)
			t->hooks.orch_child(t->hooks.ctx, h->exec_id,
					    ((const struct ww_orch_child_event *)data)->orch_id, h);
		return 0;
	}
	if (h->type == WW_EV_JOB) {
		if (t->hooks.job && size >= offsetof(struct ww_job_event, data))
			t->hooks.job(t->hooks.ctx, data, size);
		return 0;
	}
	e = tracker__find(t, h->exec_id);
	if (!e)
		e = aliased(t, h->exec_id);
	if (!e)
		return 0;	/* an execution already finished */

	switch (h->type) {
	case WW_EV_FORK:
		p = execution__add_proc(e, h->pid, h->ppid);
		if (p) {
			p->start_ns = h->ts_ns;
			memcpy(p->comm, h->comm, sizeof(p->comm));
		}
		break;
	case WW_EV_EXEC: {
		const struct ww_exec_event *ev = data;

		p = proc_of(e, h);
		if (p)
			memcpy(p->filename, ev->filename, sizeof(p->filename));
		break;
	}
	case WW_EV_EXIT: {
		const struct ww_exit_event *ev = data;

		p = proc_of(e, h);
		if (!p)
			break;
		p->exited = true;
		p->end_ns = h->ts_ns;
		p->exit_status = ev->exit_status;
		p->on_cpu_ns = ev->on_cpu_ns;
		/* provisional too: the whole process's figures, until its final switch */
		p->system_cpu_ns = ww_cpu_system_part(ev->on_cpu_ns, ev->utime_ns, ev->stime_ns);
		p->user_cpu_ns = ev->on_cpu_ns - p->system_cpu_ns;
		p->maxrss_bytes = ev->maxrss_pages * (__u64)sysconf(_SC_PAGESIZE);
		p->minflt = ev->minflt;
		p->majflt = ev->majflt;
		break;
	}
	case WW_EV_PROC_DONE: {
		const struct ww_proc_done_event *ev = data;

		p = exited_proc(e, h->pid);
		if (!p)
			break;
		p->done = true;
		p->on_cpu_ns = ev->counters[WW_TC_RUNTIME];
		p->user_cpu_ns = ev->user_cpu_ns;
		p->system_cpu_ns = ev->system_cpu_ns;
		p->minflt = ev->counters[WW_TC_MINFLT];
		p->majflt = ev->counters[WW_TC_MAJFLT];
		p->nvcsw = ev->counters[WW_TC_NVCSW];
		p->nivcsw = ev->counters[WW_TC_NIVCSW];
		break;
	}
	case WW_EV_SIGNAL: {
		const struct ww_signal_event *ev = data;

		p = proc_of(e, h);
		if (!p)
			break;
		p->fatal_sig = ev->sig;
		p->sender_pid = ev->sender_pid;
		memcpy(p->sender_comm, ev->sender_comm, sizeof(p->sender_comm));
		break;
	}
	case WW_EV_OOM: {
		const struct ww_oom_event *ev = data;

		p = proc_of(e, h);
		if (!p)
			break;
		p->oom_victim = true;
		p->oom_trigger_pid = ev->trigger_pid;
		memcpy(p->oom_trigger_comm, ev->trigger_comm, sizeof(p->oom_trigger_comm));
		memcg_path(ev->memcg_id, ev->memcg_name, p->oom_memcg, sizeof(p->oom_memcg));
		break;
	}
	case WW_EV_SLOW_SYSCALL:
		add_slow(e, data);
		break;
	}
	if (t->hooks.event)
		t->hooks.event(t->hooks.ctx, e, h, data);
	return 0;
}

void tracker__set_hooks(struct tracker *t, const struct tracker_hooks *hooks)
{
	t->hooks = *hooks;
}

struct tracker *tracker__new(struct probes *probes)
{
	struct tracker *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	t->probes = probes;
	t->skel = probes__skel(probes);
	t->ncpus = libbpf_num_possible_cpus();
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.lifecycle_rb), handle_event, t, NULL);
	if (!t->rb)
		goto fail;
	err = ring_buffer__add(t->rb, bpf_map__fd(t->skel->maps.anomaly_rb), handle_event, t);
	if (err) {
		errno = -err;
		goto fail;
	}
	return t;
fail:
	ww_err("cannot set up ring buffers: %s", strerror(errno));
	tracker__free(t);
	return NULL;
}

void tracker__free(struct tracker *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	free(t->execs);
	free(t);
}

static int grow_execs(struct tracker *t)
{
	struct execution **n;
	int cap;

	if (t->nr_execs < t->cap_execs)
		return 0;
	cap = t->cap_execs ? t->cap_execs * 2 : 8;
	n = realloc(t->execs, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->execs = n;
	t->cap_execs = cap;
	return 0;
}

/* The kernel-side records every execution needs before any task is charged to it. */
static int create_exec_entries(struct tracker *t, __u64 id)
{
	struct ww_exec_stats *zero_stats = calloc(t->ncpus, sizeof(*zero_stats));
	struct ww_exec_shared zero_shared = {};
	int err = 0;

	if (!zero_stats)
		return -ENOMEM;
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.exec_stats), &id, zero_stats, BPF_NOEXIST) ||
	    bpf_map_update_elem(bpf_map__fd(t->skel->maps.exec_shared), &id, &zero_shared, BPF_NOEXIST))
		err = errno == E2BIG ? -ENOSPC : -errno;
	free(zero_stats);
	return err;
}

int tracker__start(struct tracker *t, struct execution *e, int pidfd, bool held_before_exec)
{
	struct ww_task task = {};
	struct ww_proc proc = {};
	__u32 pid = e->pid;
	int err;

	if (grow_execs(t))
		return -ENOMEM;
	e->id = probes__new_exec_id(t->probes);
	task.exec_id = proc.exec_id = e->id;
	proc.await_exec = held_before_exec;
	proc.held = held_before_exec;
	proc.threads = 1;
	err = create_exec_entries(t, e->id);
	if (!err && bpf_map_update_elem(bpf_map__fd(t->skel->maps.procs), &pid, &proc, BPF_ANY))
		err = -errno;
	/* Last: from here on the kernel charges the process to e. */
	if (!err && bpf_map_update_elem(bpf_map__fd(t->skel->maps.tracked), &pidfd, &task, BPF_NOEXIST))
		err = -errno;
	if (err) {
		ww_err("cannot track pid %d: %s", e->pid, strerror(-err));
		tracker__finish(t, e);
		return err;
	}
	if (!execution__find_proc(e, pid))
		execution__add_proc(e, pid, getpid());
	insert_exec(t, e);
	return 0;
}

static bool pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

/* Fills e's process list with what the task iterator sees of it now. */
static void load_processes(struct tracker *t, struct execution *e)
{
	struct ww_task_info *tasks = calloc(4096, sizeof(*tasks));
	int n = tasks ? probes__tasks(t->probes, tasks, 4096) : 0;
	struct process *p;

	for (int i = 0; i < n; i++) {
		if (tasks[i].exec_id != e->id || tasks[i].pid != tasks[i].tid ||
		    execution__find_proc(e, tasks[i].pid))
			continue;
		p = execution__add_proc(e, tasks[i].pid, tasks[i].ppid);
		if (p) {
			memcpy(p->comm, tasks[i].comm, sizeof(p->comm));
			p->start_ns = tracker__now_mono();
		}
	}
	free(tasks);
}

/* What a tree's tagging says: tracked (0), gone, already exited (a zombie) or another's. */
static int attach_result(int pidfd, __u32 tagged, __u32 skipped, __u32 live)
{
	/* The tgid named the right process only if it is still alive now. */
	if (!tagged || !pidfd_alive(pidfd))
		return skipped && pidfd_alive(pidfd) ? -EBUSY : -ESRCH;
	/* its exit already happened: no exit event will ever come */
	return live ? 0 : -ECHILD;
}

int tracker__attach(struct tracker *t, struct execution *e, int pidfd)
{
	__u32 tagged = 0, skipped = 0, live = 0;
	int err;

	if (grow_execs(t))
		return -ENOMEM;
	e->id = probes__new_exec_id(t->probes);
	err = create_exec_entries(t, e->id);
	if (!err)
		err = probes__attach_tree(t->probes, e->pid, e->id, 0, &tagged, &skipped, &live);
	if (!err)
		err = attach_result(pidfd, tagged, skipped, live);
	if (err) {
		tracker__finish(t, e);
		return err;
	}
	insert_exec(t, e);
	load_processes(t, e);
	return 0;
}

int tracker__watch_orchestrator(struct tracker *t, __u64 orch_id, pid_t pid, int pidfd)
{
	__u32 tagged = 0, skipped = 0, live = 0;
	int err = probes__attach_tree(t->probes, pid, 0, orch_id, &tagged, &skipped, &live);

	return err ?: attach_result(pidfd, tagged, skipped, live);
}

int tracker__adopt(struct tracker *t, struct execution *e)
{
	if (grow_execs(t))
		return -ENOMEM;
	if (tracker__find(t, e->id))
		return -EEXIST;
	insert_exec(t, e);
	return 0;
}

int tracker__resume(struct tracker *t, struct execution *e)
{
	int fd = bpf_map__fd(t->skel->maps.exec_shared);
	struct ww_exec_shared sh;
	int err;

	if (bpf_map_lookup_elem(fd, &e->id, &sh))
		return -ENOENT;
	err = tracker__adopt(t, e);
	if (!err)
		load_processes(t, e);
	return err;
}

int tracker__foreach_kernel_id(struct tracker *t, int (*fn)(__u64 id, __u64 orch_id, void *ctx), void *ctx)
{
	int fd = bpf_map__fd(t->skel->maps.exec_shared);
	__u64 key, next, *prev = NULL, *ids = NULL, *orchs = NULL;
	struct ww_exec_shared sh;
	int n = 0, cap = 0, ret = 0;

	/* keys first: fn may delete entries, and deleting while iterating a hash can skip some */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (tracker__find(t, key) || bpf_map_lookup_elem(fd, &key, &sh))
			continue;
		if (n == cap) {
			__u64 *ni, *no;

			cap = cap ? cap * 2 : 64;
			ni = realloc(ids, cap * sizeof(*ids));
			if (ni)
				ids = ni;
			no = realloc(orchs, cap * sizeof(*orchs));
			if (no)
				orchs = no;
			if (!ni || !no) {
				ret = -ENOMEM;
				goto out;
			}
		}
		ids[n] = key;
		orchs[n++] = sh.orch_id;
	}
	for (int i = 0; i < n && !ret; i++)
		ret = fn(ids[i], orchs[i], ctx);
out:
	free(ids);
	free(orchs);
	return ret;
}

void tracker__forget(struct tracker *t, struct execution *e)
{
	remove_exec(t, e);
}

void tracker__forget_kernel_id(struct tracker *t, __u64 id)
{
	struct execution e = { .id = id };

	tracker__finish(t, &e);
}

int tracker__count(const struct tracker *t)
{
	return t->nr_execs;
}

static int foreach(struct tracker *t, bool pending, int (*fn)(struct execution *e, void *ctx), void *ctx)
{
	__u64 *ids;
	int n = t->nr_execs, ret = 0;

	if (!n)
		return 0;
	/* By id, not by pointer or index: fn may start, adopt or finish executions. */
	ids = malloc(n * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		ids[i] = t->execs[i]->id;
	for (int i = 0; i < n && !ret; i++) {
		struct execution *e = tracker__find(t, ids[i]);

		if (e && e->pending == pending)
			ret = fn(e, ctx);
	}
	free(ids);
	return ret;
}

int tracker__foreach(struct tracker *t, int (*fn)(struct execution *e, void *ctx), void *ctx)
{
	return foreach(t, false, fn, ctx);
}

int tracker__foreach_pending(struct tracker *t, int (*fn)(struct execution *e, void *ctx), void *ctx)
{
	return foreach(t, true, fn, ctx);
}

int tracker__poll(struct tracker *t, int timeout_ms)
{
	return ring_buffer__poll(t->rb, timeout_ms);
}

int tracker__fd(struct tracker *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

/* es is either one execution or the tracker's own array, which is sorted by id. */
static struct execution *exec_in(struct execution **es, int n, __u64 id)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (es[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && es[lo]->id == id ? es[lo] : NULL;
}

/* Appends the stats of (e, nr) to e->syscalls; 0 also when the entry is gone meanwhile. */
static int read_syscall(int fd, struct execution *e, __u32 nr)
{
	struct ww_syscall_key key = { .exec_id = e->id, .nr = nr };
	struct syscall_summary *s;

	s = realloc(e->syscalls, (e->nr_syscalls + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	e->syscalls = s;
	s = &e->syscalls[e->nr_syscalls];
	if (bpf_map_lookup_elem(fd, &key, &s->stats))
		return 0;
	/* the kernel counts only calls that never return in count; each other call is in the histogram */
	s->stats.count += hist__total(s->stats.hist);
	s->nr = nr;
	e->nr_syscalls++;
	return 0;
}

/* Every syscall number e's "seen" bitmap names. */
static int read_seen_syscalls(int fd, struct execution *e, const struct ww_exec_shared *sh)
{
	int err = 0;

	for (__u32 w = 0; w < WW_SYSCALL_BITS / 64 && !err; w++)
		for (__u64 bits = sh->syscalls_seen[w]; bits && !err; bits &= bits - 1)
			err = read_syscall(fd, e, w * 64 + __builtin_ctzll(bits));
	return err;
}

/* The syscall entries of an execution whose bitmap overflowed: a walk of the whole map. */
static int walk_syscalls(int fd, struct execution *e)
{
	struct ww_syscall_key key, next, *prev = NULL;
	int err = 0;

	e->nr_syscalls = 0;
	while (!err && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.exec_id == e->id)
			err = read_syscall(fd, e, key.nr);
	}
	return err;
}

/* e's per-syscall stats, by key from its bitmap: the cost is e's own syscalls, not the map's size. */
static int collect_syscalls(struct tracker *t, struct execution *e, const struct ww_exec_shared *sh)
{
	int fd = bpf_map__fd(t->skel->maps.syscall_stats);

	e->nr_syscalls = 0;
	return sh->syscalls_overflow ? walk_syscalls(fd, e) : read_seen_syscalls(fd, e, sh);
}

/* The per-execution counters and memory, summed over CPUs. */
static int collect_counters(struct tracker *t, struct execution *e, struct ww_exec_stats *percpu,
			    const __u64 *cnt)
{
	struct ww_exec_shared sh;
	int err;

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.exec_stats), &e->id, percpu))
		return -errno;
	/* Every field is a counter to sum, but for one maximum. */
	memset(&e->totals, 0, sizeof(e->totals));
	e->totals_at_ns = 0;
	for (int c = 0; c < t->ncpus; c++) {
		const __u64 *src = (const __u64 *)&percpu[c];
		__u64 *dst = (__u64 *)&e->totals;

		for (size_t i = 0; i < sizeof(e->totals) / sizeof(__u64); i++)
			dst[i] += src[i];
	}
	e->totals.connect_max_ns = 0;
	for (int c = 0; c < t->ncpus; c++)
		if (percpu[c].connect_max_ns > e->totals.connect_max_ns)
			e->totals.connect_max_ns = percpu[c].connect_max_ns;
	if (!bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.exec_shared), &e->id, &sh)) {
		e->mem = sh.mem;
		err = collect_syscalls(t, e, &sh);
		if (err)
			return err;
	}
	e->lost_events = cnt[WW_CNT_LIFECYCLE_LOST] + cnt[WW_CNT_ANOMALY_LOST] + cnt[WW_CNT_PROC_MAP_FULL] +
			 cnt[WW_CNT_SYSCALL_MAP_FULL] + cnt[WW_CNT_SOCK_MAP_FULL] + cnt[WW_CNT_STORAGE_FAIL];
	e->nr_unavailable = probes__unavailable(t->probes, &e->unavailable);
	return 0;
}

static int collect(struct tracker *t, struct execution **es, int n)
{
	struct ww_exec_stats *percpu = calloc(t->ncpus, sizeof(*percpu));
	__u64 cnt[WW_CNT_MAX] = {};
	int err = 0;

	if (!percpu)
		return -ENOMEM;
	probes__counters(t->probes, cnt);
	for (int i = 0; i < n; i++) {
		int e_err = collect_counters(t, es[i], percpu, cnt);

		if (e_err && !err)
			err = e_err;
	}
	free(percpu);
	return err;
}

int tracker__collect(struct tracker *t, struct execution *e)
{
	return collect(t, &e, 1);
}

int tracker__collect_all(struct tracker *t)
{
	return collect(t, t->execs, t->nr_execs);
}

int tracker__collect_live(struct tracker *t, struct execution *only,
			  struct ww_task_info *tasks, int max)
{
	struct ww_task_info *own = NULL;
	struct execution *e;
	__u64 now;
	int err, n;

	err = only ? collect(t, &only, 1) : collect(t, t->execs, t->nr_execs);
	if (err || !t->nr_execs)
		return err;
	if (!tasks) {
		tasks = own = calloc(LIVE_TASKS_MAX, sizeof(*tasks));
		max = LIVE_TASKS_MAX;
		if (!tasks)
			return -ENOMEM;
	}
	/* a task that runs on is charged only when switched out: add what it ran since */
	n = probes__tasks(t->probes, tasks, max);
	now = tracker__now_mono();
	for (int i = 0; i < (only ? 1 : t->nr_execs); i++) {
		e = only ? only : t->execs[i];
		e->totals_at_ns = now;
		e->running_utime_ns = 0;
		e->running_stime_ns = 0;
	}
	for (int i = 0; i < n; i++) {
		e = only ? (only->id == tasks[i].exec_id ? only : NULL)
			 : exec_in(t->execs, t->nr_execs, tasks[i].exec_id);
		if (!e)
			continue;
		e->totals.on_cpu_ns += tasks[i].uncharged_ns;
		/* a thread past its exit has been split with its process, or will be */
		if (!tasks[i].exit_state) {
			e->running_utime_ns += tasks[i].utime_ns;
			e->running_stime_ns += tasks[i].stime_ns;
		}
	}
	free(own);
	return n;
}

/* Deletes e's syscall entries: by key from its bitmap, or by a walk when it overflowed. */
static void delete_syscalls(struct tracker *t, __u64 exec_id, const struct ww_exec_shared *sh)
{
	int fd = bpf_map__fd(t->skel->maps.syscall_stats);
	struct ww_syscall_key key = { .exec_id = exec_id };

	if (sh->syscalls_overflow) {
		tracker__sweep(t);
		return;
	}
	for (__u32 w = 0; w < WW_SYSCALL_BITS / 64; w++)
		for (__u64 bits = sh->syscalls_seen[w]; bits; bits &= bits - 1) {
			key.nr = w * 64 + __builtin_ctzll(bits);
			bpf_map_delete_elem(fd, &key);
		}
}

/* Collects the keys first: deleting while iterating a hash map can skip entries. */
int tracker__sweep(struct tracker *t)
{
	int fd = bpf_map__fd(t->skel->maps.syscall_stats);
	int shared_fd = bpf_map__fd(t->skel->maps.exec_shared);
	struct ww_syscall_key key, prev, *doomed = NULL, *n;
	struct ww_exec_shared sh;
	int nr = 0, cap = 0;
	bool first = true;

	while (bpf_map_get_next_key(fd, first ? NULL : &prev, &key) == 0) {
		first = false;
		prev = key;
		if (!bpf_map_lookup_elem(shared_fd, &key.exec_id, &sh))
			continue;	/* its execution still exists */
		if (nr == cap) {
			cap = cap ? cap * 2 : 64;
			n = realloc(doomed, cap * sizeof(*n));
			if (!n)
				break;
			doomed = n;
		}
		doomed[nr++] = key;
	}
	for (int i = 0; i < nr; i++)
		bpf_map_delete_elem(fd, &doomed[i]);
	free(doomed);
	return nr;
}

void tracker__finish(struct tracker *t, struct execution *e)
{
	int shared_fd = bpf_map__fd(t->skel->maps.exec_shared);
	struct ww_exec_shared sh;
	bool had_shared;

	bpf_map_delete_elem(bpf_map__fd(t->skel->maps.exec_stats), &e->id);
	/* first the bitmap, then the entry: no new syscall entry is created once it is gone */
	had_shared = !bpf_map_lookup_elem(shared_fd, &e->id, &sh);
	bpf_map_delete_elem(shared_fd, &e->id);
	/* a process that exited keeps its record until its last thread's final switch */
	for (int i = 0; i < e->nr_procs; i++) {
		int procs_fd = bpf_map__fd(t->skel->maps.procs);
		struct ww_proc proc;

		if (e->procs[i].done)
			continue;
		if (!bpf_map_lookup_elem(procs_fd, &e->procs[i].pid, &proc) && proc.exec_id == e->id)
			bpf_map_delete_elem(procs_fd, &e->procs[i].pid);
	}
	/* a syscall racing this may still add an entry: tracker__sweep deletes those */
	if (had_shared)
		delete_syscalls(t, e->id, &sh);

	remove_exec(t, e);
}
