// SPDX-License-Identifier: MIT
/* Tracking that outlives the daemon: what a start takes over from the pinned kernel state and history, and what a stop leaves. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/exports.h"
#include "daemon/resume.h"
#include "daemon/orchs.h"
#include "observe/jobs.h"
#include "history/store.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "observe/probes.h"
#include "observe/tracker.h"

/* An argv from a record's JSON array of strings. */
static char **argv_of(const char *command)
{
	cJSON *arr = cJSON_Parse(command), *w;
	int n = cJSON_GetArraySize(arr), i = 0;
	char **argv = calloc(n + 1, sizeof(*argv));

	cJSON_ArrayForEach(w, arr)
		if (argv && cJSON_IsString(w))
			argv[i++] = strdup(w->valuestring);
	cJSON_Delete(arr);
	return argv;
}

/* An execution history still has as running, rebuilt from its record to be taken up again. */
static struct execution *execution_of(const struct exec_record *r, __u64 kernel_id, __u64 slow_ns)
{
	struct execution *e = calloc(1, sizeof(*e));
	__u64 now_real = clock__ns(CLOCK_REALTIME), start_real = r->started_at_ms * 1000000ULL;

	if (!e)
		return NULL;
	e->id = kernel_id;
	e->db_id = r->id;
	snprintf(e->session, sizeof(e->session), "%s", r->session);
	snprintf(e->agent, sizeof(e->agent), "%s", r->agent);
	snprintf(e->task, sizeof(e->task), "%s", r->task);
	snprintf(e->labels, sizeof(e->labels), "%s", r->labels);
	snprintf(e->current_step, sizeof(e->current_step), "%s", r->current_step);
	e->argv = argv_of(r->command);
	e->pid = r->pid;
	e->retry_count = r->retry_count;
	e->completed_steps = r->completed_steps;
	e->total_steps = r->total_steps;
	e->start_realtime_ns = start_real;
	/* its monotonic start, as far back from now as it started */
	e->start_ns = clock__ns(CLOCK_MONOTONIC) - (now_real > start_real ? now_real - start_real : 0);
	e->slow_threshold_ns = slow_ns;
	return e;
}

struct tracked_row {
	__u64 exec_id, kernel_id;
};

struct tracked_rows {
	struct tracked_row *rows;
	int n, cap;
};

static int collect_tracked(__u64 exec_id, __u64 kernel_id, void *ctx)
{
	struct tracked_rows *t = ctx;

	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;
		struct tracked_row *n = realloc(t->rows, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->rows = n;
		t->cap = cap;
	}
	t->rows[t->n++] = (struct tracked_row){ exec_id, kernel_id };
	return 0;
}

/* Takes up one execution the previous daemon tracked; returns 1 when it runs on. */
static int resume_execution(struct daemon *d, const struct tracked_row *t)
{
	struct exec_record r;
	struct execution *e;
	int live;

	if (store__get_execution(daemon__store(d), t->exec_id, &r)) {
		store__forget_tracking(daemon__store(d), t->exec_id);
		return 0;
	}
	if (strcmp(r.status, "running")) {
		/* its outcome is stored; only the settle was missing, and the exports queued with its end */
		exports__ended_stored(daemon__alerts(d), &r);
		tracker__forget_kernel_id(daemon__tracker(d), t->kernel_id);
		store__forget_tracking(daemon__store(d), t->exec_id);
		return 0;
	}
	e = execution_of(&r, t->kernel_id, daemon__config(d)->slow_syscall_ms * 1000000ULL);
	if (!e || tracker__resume(daemon__tracker(d), e)) {
		/* the kernel has it no more: it is marked lost below, unless the event log has its end */
		execution__free(e);
		store__forget_tracking(daemon__store(d), t->exec_id);
		return 0;
	}
	/* processes it had before that are gone now still count */
	live = e->nr_procs;
	e->procs_offset = r.process_count > (__u64)live ? (int)(r.process_count - live) : 0;
	return 1;
}

struct orch_rows {
	struct orch_registration *rows;
	int n, cap;
};

static int collect_orch(const struct orch_registration *o, void *ctx)
{
	struct orch_rows *t = ctx;

	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		struct orch_registration *n = realloc(t->rows, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->rows = n;
		t->cap = cap;
	}
	t->rows[t->n++] = *o;
	return 0;
}

/* The monotonic and realtime start of a live process, from /proc/PID/stat's starttime. */
static void process_start(pid_t pid, __u64 *mono_ns, __u64 *real_ns)
{
	__u64 ticks = daemon__start_ticks(pid), hz = (__u64)sysconf(_SC_CLK_TCK);
	__u64 boot = clock__ns(CLOCK_BOOTTIME), since = ticks * (1000000000ULL / hz);
	__u64 ago = ticks && boot > since ? boot - since : 0;

	*mono_ns = clock__ns(CLOCK_MONOTONIC) - ago;
	*real_ns = clock__ns(CLOCK_REALTIME) - ago;
}

struct unknown_walk {
	struct daemon *d;
	__u64 last_id;		/* the last id the kernel had handed out before the ring was drained */
	int found, ended;
};

/*
 * An execution the kernel started for an orchestrator's child while no
 * daemon ran, whose event was lost to a full ring: an execution too, named
 * after its root process, with the totals the maps kept.
 */
static int resume_unknown(__u64 id, __u64 orch_id, void *ctx)
{
	struct unknown_walk *w = ctx;
	struct daemon *d = w->d;
	const struct orch *o = jobs__find_orch(daemon__jobs(d), orch_id);
	struct execution *e;
	struct process *root = NULL;

	/*
	 * Born after the drain (an orchestrator that goes on forking while we
	 * start): its events are in the ring still and make it an execution.
	 */
	if (id > w->last_id)
		return 0;
	if (!o) {
		ww_warn("the kernel tracks an execution (%llu) no history knows: dropped", (unsigned long long)id);
		tracker__forget_kernel_id(daemon__tracker(d), id);
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = id;
	e->completed_steps = e->total_steps = -1;
	e->slow_threshold_ns = daemon__config(d)->slow_syscall_ms * 1000000ULL;
	e->orch_id = o->id;
	e->orch_pid = o->pid;
	e->stop_is_failure = o->spec.stopped_is_failure;
	snprintf(e->labels, sizeof(e->labels), "{}");
	if (tracker__resume(daemon__tracker(d), e)) {
		execution__free(e);
		return 0;
	}
	for (int i = 0; i < e->nr_procs && !root; i++)
		if (e->procs[i].ppid == (__u32)o->pid)
			root = &e->procs[i];
	if (!root && e->nr_procs)
		root = &e->procs[0];
	if (root) {
		e->pid = root->pid;
		e->job_parent = root->ppid;
		jobs__name(daemon__jobs(d), e, &o->spec);
		if (!e->argv)
			e->argv = daemon__cmdline(root->pid);
		process_start(root->pid, &e->start_ns, &e->start_realtime_ns);
	} else {
		snprintf(e->session, sizeof(e->session), "%.*s", (int)sizeof(e->session) - 1,
			 o->spec.session[0] ? o->spec.session : "default");
		snprintf(e->agent, sizeof(e->agent), "unknown");
		e->start_ns = clock__ns(CLOCK_MONOTONIC);
		e->start_realtime_ns = clock__ns(CLOCK_REALTIME);
	}
	daemon__announce(d, e);
	w->found++;
	if (!root) {
		/* it began and ended while no daemon ran, and the ring lost both */
		e->end_unseen = true;
		daemon__root_ended(d, e, e->start_ns, 0);
		w->ended++;
	}
	return 0;
}

int resume__start(struct daemon *d)
{
	bool adopted = probes__adopted(daemon__probes(d));
	struct tracked_rows tracked = {};
	struct orch_rows orchs = {};
	struct unknown_walk unknown = { .d = d };
	int resumed = 0, watched = 0, drained = 0, n, err;

	if (probes__discarded(daemon__probes(d)))
		ww_warn("the pinned kernel state was of another build: executions that ran are marked lost");
	/* lists first: taking them up writes to the tables being read */
	err = store__foreach_tracking(daemon__store(d), collect_tracked, &tracked);
	if (!err)
		err = store__foreach_orchestrator(daemon__store(d), collect_orch, &orchs);
	if (err) {
		ww_err("cannot read the tracking state: %s", store__errmsg(daemon__store(d)));
		goto out;
	}
	for (int i = 0; i < tracked.n; i++) {
		if (adopted)
			resumed += resume_execution(d, &tracked.rows[i]);
		else
			store__forget_tracking(daemon__store(d), tracked.rows[i].exec_id);
	}
	for (int i = 0; i < orchs.n; i++)
		watched += orchs__resume(d, &orchs.rows[i], adopted);
	/* what happened while no daemon ran: children born, roots that exited */
	unknown.last_id = probes__last_exec_id(daemon__probes(d));
	while ((n = tracker__poll(daemon__tracker(d), 0)) > 0)
		drained += n;
	if (adopted)
		tracker__foreach_kernel_id(daemon__tracker(d), resume_unknown, &unknown);
	daemon__finish_from_event_log(d);
	store__mark_running_as_lost(daemon__store(d), clock__now_ms());
	if (resumed || watched || drained || unknown.found)
		ww_info("took over %d running executions and %d orchestrators; %d events while no daemon ran; "
			"%d executions found only in the kernel (%d of them ended unseen)", resumed, watched, drained,
			unknown.found, unknown.ended);
	daemon__detach_if_idle(d);
out:
	free(tracked.rows);
	free(orchs.rows);
	return err;
}

struct stop_walk {
	struct daemon *d;
	bool detach_all;
};

static int stop_one(struct execution *e, void *ctx)
{
	struct stop_walk *w = ctx;

	if (w->detach_all) {
		/* no longer tracked: it ends here as detached, with its totals so far */
		e->detached = true;
		daemon__finalize(w->d, e);
		return 0;
	}
	/* the kernel goes on counting it; the next daemon takes it up */
	tracker__collect(daemon__tracker(w->d), e);
	daemon__save(w->d, e);
	tracker__forget(daemon__tracker(w->d), e);
	execution__free(e);
	return 0;
}

static int forget_orch(const struct orch *o, void *ctx)
{
	struct daemon *d = ctx;

	store__forget_orchestrator(daemon__store(d), o->id);
	return 0;
}

void resume__stop(struct daemon *d, bool detach_all)
{
	struct stop_walk w = { .d = d, .detach_all = detach_all };

	/* jobs not announced yet are, so that history and the next start have them */
	jobs__stop(daemon__jobs(d));
	daemon__foreach_live(d, stop_one, &w);
	if (detach_all)
		jobs__foreach_orch(daemon__jobs(d), forget_orch, d);
	if (detach_all && probes__unpin_all(daemon__probes(d)))
		ww_warn("some pinned state could not be removed");
}
