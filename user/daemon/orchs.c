// SPDX-License-Identifier: MIT
/* The daemon's side of jobs: its hooks and the orchestrator registrations kept in history. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "daemon/daemon.h"
#include "daemon/orchs.h"
#include "history/store.h"
#include "lib/log.h"
#include "observe/jobs.h"
#include "lib/clock.h"
#include "observe/tracker.h"

/*
 * The last state of the orchestrators that ended lately, for GET
 * /api/v1/orchestrators/{id}: whoever started one reads its final counts
 * after it exits, and a busy daemon sees that exit later than they do.
 */
#define ENDED_KEPT	32

static struct {
	__u64 id;
	cJSON *last;
} ended[ENDED_KEPT];
static unsigned int ended_next;

static cJSON *totals_json(const struct orch_totals *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "absorbed", (double)t->absorbed);
	cJSON_AddNumberToObject(o, "ignored", (double)t->ignored);
	cJSON_AddNumberToObject(o, "on_cpu_ns", (double)t->on_cpu_ns);
	cJSON_AddNumberToObject(o, "syscalls", (double)t->syscalls);
	cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)t->peak_rss_bytes);
	cJSON_AddNumberToObject(o, "net_sent_bytes", (double)t->net_sent_bytes);
	cJSON_AddNumberToObject(o, "net_recv_bytes", (double)t->net_recv_bytes);
	return o;
}

static void totals_from_json(const cJSON *j, struct orch_totals *t)
{
	static const struct { const char *key; size_t off; } f[] = {
		{ "absorbed", offsetof(struct orch_totals, absorbed) },
		{ "ignored", offsetof(struct orch_totals, ignored) },
		{ "on_cpu_ns", offsetof(struct orch_totals, on_cpu_ns) },
		{ "syscalls", offsetof(struct orch_totals, syscalls) },
		{ "peak_rss_bytes", offsetof(struct orch_totals, peak_rss_bytes) },
		{ "net_sent_bytes", offsetof(struct orch_totals, net_sent_bytes) },
		{ "net_recv_bytes", offsetof(struct orch_totals, net_recv_bytes) },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, f[i].key);

		if (cJSON_IsNumber(v) && v->valuedouble >= 0)
			*(__u64 *)((char *)t + f[i].off) = (__u64)v->valuedouble;
	}
}

cJSON *orchs__json(const struct orch *o)
{
	cJSON *j = cJSON_CreateObject();
	char ts[40];

	cJSON_AddNumberToObject(j, "id", (double)o->id);
	cJSON_AddNumberToObject(j, "pid", o->pid);
	cJSON_AddStringToObject(j, "comm", o->comm);
	job_spec__to_json(&o->spec, j);
	if (!cJSON_GetObjectItemCaseSensitive(j, "session"))
		cJSON_AddStringToObject(j, "session", "default");
	if (!cJSON_GetObjectItemCaseSensitive(j, "jobs"))
		cJSON_AddStringToObject(j, "jobs", "children");
	if (o->rule)
		cJSON_AddNumberToObject(j, "rule", o->rule);
	else
		cJSON_AddNullToObject(j, "rule");
	clock__rfc3339_ms(o->registered_ms, ts, sizeof(ts));
	cJSON_AddStringToObject(j, "registered_at", ts);
	cJSON_AddNumberToObject(j, "executions_started", (double)o->jobs);
	cJSON_AddItemToObject(j, "own", totals_json(&o->own));
	cJSON_AddStringToObject(j, "state", "watched");
	return j;
}

cJSON *orchs__ended_json(__u64 id)
{
	for (int i = 0; i < ENDED_KEPT; i++)
		if (ended[i].last && ended[i].id == id)
			return cJSON_Duplicate(ended[i].last, true);
	return NULL;
}

void orchs__forget_ended(void)
{
	for (int i = 0; i < ENDED_KEPT; i++) {
		cJSON_Delete(ended[i].last);
		ended[i].last = NULL;
	}
}

/* Kept in history: what resume needs to watch it again with the same boundary and names. */
static void save(struct daemon *d, const struct orch *o)
{
	struct orch_registration *reg = calloc(1, sizeof(*reg));
	cJSON *opts = cJSON_CreateObject();
	char *text;

	if (!reg || !opts)
		goto out;
	reg->id = o->id;
	reg->pid = o->pid;
	reg->start_ticks = o->start_ticks;
	reg->registered_ms = o->registered_ms;
	snprintf(reg->session, sizeof(reg->session), "%.*s", (int)sizeof(reg->session) - 1, o->spec.session);
	job_spec__to_json(&o->spec, opts);
	if (o->rule)
		cJSON_AddNumberToObject(opts, "rule", o->rule);
	cJSON_AddItemToObject(opts, "own", totals_json(&o->own));
	cJSON_AddNumberToObject(opts, "executions_started", (double)o->jobs);
	text = cJSON_PrintUnformatted(opts);
	if (text && strlen(text) < sizeof(reg->options)) {
		strcpy(reg->options, text);
		if (store__put_orchestrator(daemon__store(d), reg))
			ww_warn("orchestrator %d will not be watched after a restart: %s", o->pid,
				store__errmsg(daemon__store(d)));
	}
	free(text);
out:
	cJSON_Delete(opts);
	free(reg);
}

int orchs__add(struct daemon *d, pid_t pid, int pidfd, const struct job_spec *spec, __u64 *id)
{
	struct orch_reg reg = { .pid = pid };
	const struct orch *o = NULL;
	int err = daemon__ensure_attached(d);

	if (!err)
		err = jobs__add_orch(daemon__jobs(d), &reg, spec, pidfd, true, &o);
	if (err) {
		daemon__detach_if_idle(d);
		return err;
	}
	save(d, o);
	*id = o->id;
	return 0;
}

int orchs__resume(struct daemon *d, const struct orch_registration *r, bool tagged)
{
	struct orch_reg reg = { .id = r->id, .pid = r->pid, .start_ticks = r->start_ticks,
				.registered_ms = r->registered_ms };
	struct job_spec spec = {};
	cJSON *opts = cJSON_Parse(r->options);
	const cJSON *rule = cJSON_GetObjectItemCaseSensitive(opts, "rule"), *started;
	char err_text[256];
	__u64 ticks = daemon__start_ticks(r->pid);
	int pidfd = -1, err, ret = 0;

	if (!ticks || ticks != r->start_ticks) {
		ww_info("orchestrator %d (session %s) ended while no daemon ran", r->pid, r->session);
		goto forget;
	}
	if (cJSON_IsNumber(rule))
		reg.rule = (__u32)rule->valuedouble;
	started = cJSON_GetObjectItemCaseSensitive(opts, "executions_started");
	if (cJSON_IsNumber(started) && started->valuedouble >= 0)
		reg.jobs = (__u64)started->valuedouble;
	totals_from_json(cJSON_GetObjectItemCaseSensitive(opts, "own"), &reg.own);
	/* what lives on the registration, not in the spec */
	cJSON_DeleteItemFromObjectCaseSensitive(opts, "rule");
	cJSON_DeleteItemFromObjectCaseSensitive(opts, "executions_started");
	cJSON_DeleteItemFromObjectCaseSensitive(opts, "own");
	if (!cJSON_GetObjectItemCaseSensitive(opts, "session") && r->session[0])
		cJSON_AddStringToObject(opts, "session", r->session);
	err = job_spec__from_json(&spec, opts, true, NULL, err_text, sizeof(err_text));
	if (err) {
		ww_warn("orchestrator %d: its stored registration is unreadable (%s)", r->pid, err_text);
		goto forget;
	}
	pidfd = syscall(SYS_pidfd_open, r->pid, 0);
	/* the pidfd is of the process we checked only if its start time still matches */
	err = pidfd < 0 ? -errno : daemon__start_ticks(r->pid) != ticks ? -ESRCH : daemon__ensure_attached(d);
	if (!err)
		err = jobs__add_orch(daemon__jobs(d), &reg, &spec, pidfd, !tagged, NULL);
	if (err) {
		ww_warn("cannot watch orchestrator %d again: %s", r->pid, strerror(-err));
		if (pidfd >= 0)
			close(pidfd);
		goto forget;
	}
	ret = 1;
	goto out;
forget:
	store__forget_orchestrator(daemon__store(d), r->id);
out:
	job_spec__release(&spec);
	cJSON_Delete(opts);
	return ret;
}

/* --- the hooks --- */

static void on_started(void *ctx, struct execution *e)
{
	struct daemon *d = ctx;

	daemon__announce(d, e);
	if (e->root_exited)
		daemon__root_ended(d, e, e->root_exit_ns, e->exit_status);
}

static void on_renamed(void *ctx, struct execution *e)
{
	daemon__renamed(ctx, e);
}

static void on_orch_saved(void *ctx, const struct orch *o)
{
	save(ctx, o);
}

static void on_orch_ended(void *ctx, const struct orch *o, bool exited)
{
	struct daemon *d = ctx;
	cJSON *ev = orchs__json(o);

	store__forget_orchestrator(daemon__store(d), o->id);
	cJSON_ReplaceItemInObjectCaseSensitive(ev, "state", cJSON_CreateString("ended"));
	cJSON_AddStringToObject(ev, "reason", exited ? "exited" : "removed");
	daemon__publish(d, "ORCHESTRATOR_END", NULL, ev);
	cJSON_Delete(ended[ended_next].last);
	ended[ended_next].id = o->id;
	ended[ended_next].last = ev;
	ended_next = (ended_next + 1) % ENDED_KEPT;
}

void orchs__hooks(struct daemon *d, struct jobs_hooks *h)
{
	h->ctx = d;
	h->started = on_started;
	h->renamed = on_renamed;
	h->orch_saved = on_orch_saved;
	h->orch_ended = on_orch_ended;
}
