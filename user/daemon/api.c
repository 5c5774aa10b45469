// SPDX-License-Identifier: MIT
/* The daemon's JSON API: validates every input and acts; the HTTP layer holds the daemon's lock around each handler. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "daemon/api.h"
#include "daemon/assets.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "history/snapshot.h"
#include "history/store.h"
#include "history/views.h"
#include "lib/clock.h"
#include "lib/num.h"
#include "lib/version.h"
#include "observe/report.h"
#include "observe/syscalls.h"
#include "observe/tracker.h"
#include "daemon/orchs.h"
#include "lib/labels.h"
#include "observe/jobs.h"
#include "observe/jobspec.h"

#define MAX_PID		4194304	/* PID_MAX_LIMIT */
#define MAX_LIMIT	1000
#define MAX_TASKS	8192

static void reply(struct http_response *resp, int status, cJSON *obj)
{
	resp->status = status;
	resp->body = obj ? cJSON_Print(obj) : NULL;
	if (obj && !resp->body)
		http__error(resp, 500, "out of memory");
	cJSON_Delete(obj);
}

/* The request body as a JSON object, or NULL after a 400. */
static cJSON *body_object(const struct http_request *req, struct http_response *resp,
			  const char *const *allowed)
{
	cJSON *obj, *item;

	if (!req->body || !req->body_len) {
		http__error(resp, 400, "a JSON object body is required");
		return NULL;
	}
	obj = cJSON_ParseWithLength(req->body, req->body_len);
	if (!cJSON_IsObject(obj)) {
		http__error(resp, 400, "the body is not a JSON object");
		cJSON_Delete(obj);
		return NULL;
	}
	cJSON_ArrayForEach(item, obj) {
		bool known = false;

		for (const char *const *a = allowed; *a; a++)
			known |= !strcmp(*a, item->string);
		if (!known) {
			http__error(resp, 400, "unknown field '%.64s'", item->string);
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return obj;
}

/* Copies a string field; absent is fine unless required. Returns false after a 400. */
static bool string_field(const cJSON *obj, const char *name, bool required, char *out, size_t size,
			 struct http_response *resp)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!item) {
		if (required)
			http__error(resp, 400, "'%s' is required", name);
		return !required;
	}
	if (!cJSON_IsString(item)) {
		http__error(resp, 400, "'%s' must be a string", name);
		return false;
	}
	if (strlen(item->valuestring) >= size || (required && !item->valuestring[0])) {
		http__error(resp, 400, "'%s' must be 1 to %zu characters", name, size - 1);
		return false;
	}
	for (const char *c = item->valuestring; *c; c++) {
		if ((unsigned char)*c < 0x20) {
			http__error(resp, 400, "'%s' contains a control character", name);
			return false;
		}
	}
	strcpy(out, item->valuestring);
	return true;
}

static bool int_field(const cJSON *obj, const char *name, bool required, long min, long max,
		      long *out, struct http_response *resp)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!item) {
		if (required)
			http__error(resp, 400, "'%s' is required", name);
		return !required;
	}
	/* the range first: converting a double out of long's range is undefined */
	if (!cJSON_IsNumber(item) || !(item->valuedouble >= min && item->valuedouble <= max) ||
	    item->valuedouble != (double)(long)item->valuedouble) {
		http__error(resp, 400, "'%s' must be a whole number from %ld to %ld", name, min, max);
		return false;
	}
	*out = (long)item->valuedouble;
	return true;
}

/* A labels object of short strings, as JSON text. */
static bool labels_field(const cJSON *obj, char *out, size_t size, struct http_response *resp)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(obj, "labels"), *l;
	char *text;

	if (!labels) {
		snprintf(out, size, "{}");
		return true;
	}
	if (!cJSON_IsObject(labels)) {
		http__error(resp, 400, "'labels' must be an object of strings");
		return false;
	}
	cJSON_ArrayForEach(l, labels) {
		if (!cJSON_IsString(l) || strlen(l->string) > 64 || strlen(l->valuestring) > 256) {
			http__error(resp, 400, "'labels' must map names of up to 64 to strings of up to 256 characters");
			return false;
		}
	}
	text = cJSON_PrintUnformatted(labels);
	if (!text || strlen(text) >= size) {
		free(text);
		http__error(resp, 400, "'labels' is too large");
		return false;
	}
	strcpy(out, text);
	free(text);
	return true;
}

static bool id_param(const struct http_request *req, __u64 *id, struct http_response *resp)
{
	if (num__parse_u64(req->params[0], 1, UINT64_MAX, id)) {
		http__error(resp, 400, "'%.32s' is not an execution id", req->params[0]);
		return false;
	}
	return true;
}

/* pidfd of a user process we may attach to, or -1 after a 4xx. */
static int open_target(long pid, struct http_response *resp)
{
	char path[64], buf[512];
	unsigned long flags = 0;
	FILE *f;
	int fd;

	if (pid == getpid() || pid <= 1) {
		http__error(resp, 400, "pid %ld cannot be attached (init or the daemon itself)", pid);
		return -1;
	}
	fd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
	if (fd < 0) {
		http__error(resp, 404, "no process with pid %ld", pid);
		return -1;
	}
	/* kernel threads have no user work to observe */
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f && fgets(buf, sizeof(buf), f)) {
		const char *rp = strrchr(buf, ')');

		if (rp)
			sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %lu", &flags);
	}
	if (f)
		fclose(f);
	if (flags & 0x00200000) {	/* PF_KTHREAD */
		close(fd);
		http__error(resp, 400, "pid %ld is a kernel thread", pid);
		return -1;
	}
	return fd;
}

static int errno_status(int err)
{
	switch (err) {
	case -ESRCH: return 404;
	case -EBUSY: return 409;
	case -ECHILD: return 409;
	case -ENOSPC: return 503;
	default: return 500;
	}
}

/* One execution as it is now; the task list read on the way goes to tasks when given. */
static cJSON *live_view(struct daemon *d, struct execution *e, struct ww_task_info *tasks, int max,
			int *ntasks)
{
	struct exec_record r;
	int n = tracker__collect_live(daemon__tracker(d), e, tasks, max);

	if (ntasks)
		*ntasks = n > 0 ? n : 0;
	snapshot__record(e, &r);
	return views__exec(&r);
}

/*
 * The names of an execution or an orchestrator: session, agent and task
 * are templates over the process (lib/name_template.h), labels too. Fails
 * with a 400 after which the body is freed.
 */
static bool spec_field(const cJSON *body, bool orchestrator, struct job_spec *spec, struct http_response *resp)
{
	static const char *const own[] = { "pid", NULL };
	char err[256];

	if (job_spec__from_json(spec, body, orchestrator, own, err, sizeof(err))) {
		http__error(resp, 400, "%s", err);
		return false;
	}
	return true;
}

static void post_execution(void *ctx, const struct http_request *req, struct http_response *resp)
{
	static const char *const allowed[] = { "pid", "session", "agent", "task", "labels", NULL };
	struct daemon *d = ctx;
	struct execution *e = calloc(1, sizeof(*e));
	struct job_spec spec = {};
	cJSON *body;
	long pid = 0;
	int pidfd = -1, err;

	body = body_object(req, resp, allowed);
	if (!e || !body || !int_field(body, "pid", true, 1, MAX_PID, &pid, resp) ||
	    !string_field(body, "session", true, e->session, sizeof(e->session), resp) ||
	    !string_field(body, "agent", true, e->agent, sizeof(e->agent), resp) ||
	    !spec_field(body, false, &spec, resp))
		goto cleanup;
	pidfd = open_target(pid, resp);
	if (pidfd < 0)
		goto cleanup;
	e->pid = (pid_t)pid;
	e->completed_steps = e->total_steps = -1;
	e->argv = daemon__cmdline((pid_t)pid);
	snprintf(e->labels, sizeof(e->labels), "{}");
	/* names are templates over the process as it is now: {{env.AGENT_NAME|comm}} */
	jobs__name(daemon__jobs(d), e, &spec);
	err = daemon__start_execution(d, e, pidfd);
	if (err) {
		http__error(resp, errno_status(err), err == -EBUSY ? "pid %ld is already tracked" :
			    err == -ESRCH ? "pid %ld exited" :
			    err == -ECHILD ? "pid %ld has already exited (a zombie its parent has not reaped)" :
			    "cannot attach to pid %ld: %s", pid, strerror(-err));
		goto cleanup;
	}
	reply(resp, 201, live_view(d, e, NULL, 0, NULL));
	e = NULL;	/* the tracker owns it now */
cleanup:
	if (pidfd >= 0)
		close(pidfd);
	job_spec__release(&spec);
	execution__free(e);
	cJSON_Delete(body);
}

static void post_orchestrator(void *ctx, const struct http_request *req, struct http_response *resp)
{
	static const char *const allowed[] = { "pid", "session", "agent", "task", "labels", "jobs", NULL };
	struct daemon *d = ctx;
	struct job_spec spec = {};
	const struct orch *o;
	cJSON *body, *out = NULL;
	long pid = 0;
	__u64 id;
	int pidfd = -1, err;

	body = body_object(req, resp, allowed);
	if (!body || !int_field(body, "pid", true, 1, MAX_PID, &pid, resp) || !spec_field(body, true, &spec, resp))
		goto cleanup;
	pidfd = open_target(pid, resp);
	if (pidfd < 0)
		goto cleanup;
	err = orchs__add(d, (pid_t)pid, pidfd, &spec, &id);
	if (!err && (o = jobs__find_orch(daemon__jobs(d), id)))
		out = orchs__json(o);
	if (err) {
		http__error(resp, errno_status(err), "cannot watch pid %ld: %s", pid,
			    err == -EBUSY ? "it is already tracked" :
			    err == -ECHILD ? "it has already exited (a zombie its parent has not reaped)" :
			    err == -ENOSPC ? "there are as many orchestrators as the kernel keeps" :
			    strerror(-err));
		goto cleanup;
	}
	pidfd = -1;	/* the daemon keeps it to see the orchestrator exit */
	reply(resp, 201, out);
cleanup:
	if (pidfd >= 0)
		close(pidfd);
	job_spec__release(&spec);
	cJSON_Delete(body);
}

/* A history query's rows as a JSON array, each through view; frees them. */
#define REPLY_ROWS(resp, err, rows, n, view)						\
	do {										\
		cJSON *arr_ = (err) ? NULL : VIEWS_ARRAY(rows, n, view);		\
											\
		free(rows);								\
		if (arr_)								\
			reply(resp, 200, arr_);						\
		else									\
			http__error(resp, 500, (err) ? "cannot read history" : "out of memory"); \
	} while (0)

static bool since_param(const char *s, __u64 *ms, struct http_response *resp)
{
	const char *rest;

	if (!s || !num__parse_u64(s, 0, UINT64_MAX, ms))
		return true;
	rest = clock__parse_rfc3339(s, ms);
	if (rest && (!*rest || !strcmp(rest, "Z")))
		return true;
	http__error(resp, 400, "'since' wants epoch milliseconds or YYYY-MM-DDTHH:MM:SSZ");
	return false;
}

static bool limit_param(const struct http_request *req, int def, int *limit, struct http_response *resp)
{
	const char *s = http_request__query(req, "limit");
	__u64 v;

	*limit = def;
	if (!s)
		return true;
	if (num__parse_u64(s, 1, MAX_LIMIT, &v)) {
		http__error(resp, 400, "'limit' wants a number from 1 to %d", MAX_LIMIT);
		return false;
	}
	*limit = (int)v;
	return true;
}

static bool copy_param(const struct http_request *req, const char *name, char *out, size_t size,
		       struct http_response *resp)
{
	const char *s = http_request__query(req, name);

	if (!s)
		return true;
	if (strlen(s) >= size) {
		http__error(resp, 400, "'%s' is too long", name);
		return false;
	}
	strcpy(out, s);
	return true;
}

static void list_executions(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct exec_filter f = {};
	struct exec_record *rows = NULL;
	int n = 0, err;

	static const char *const statuses[] = { "running", "completed", "failed", "detached", "stopped_by_orchestrator",
						NULL };
	const char *status = http_request__query(req, "status");
	bool known = !status || !status[0];

	for (int i = 0; !known && statuses[i]; i++)
		known = !strcmp(status, statuses[i]);
	if (!known) {
		http__error(resp, 400, "'status' must be one of running, completed, failed, detached, stopped_by_orchestrator");
		return;
	}
	if (!copy_param(req, "status", f.status, sizeof(f.status), resp) ||
	    !copy_param(req, "session", f.session, sizeof(f.session), resp) ||
	    !copy_param(req, "agent", f.agent, sizeof(f.agent), resp) ||
	    !since_param(http_request__query(req, "since"), &f.since_ms, resp) ||
	    !limit_param(req, 100, &f.limit, resp))
		return;
	err = store__list_executions(daemon__store(d), &f, &rows, &n);
	REPLY_ROWS(resp, err, rows, n, views__exec);
}

/* Processes of a live execution, with the syscall each thread is blocked in now. */
static void add_live_detail(struct execution *e, const struct ww_task_info *tasks, int n, cJSON *out)
{
	cJSON *procs = cJSON_AddArrayToObject(out, "processes");
	cJSON *blocked = cJSON_AddArrayToObject(out, "blocked");
	__u64 now = tracker__now_mono();
	char buf[32];

	for (int i = 0; i < e->nr_procs; i++) {
		cJSON *p = cJSON_CreateObject();

		cJSON_AddNumberToObject(p, "pid", e->procs[i].pid);
		cJSON_AddNumberToObject(p, "ppid", e->procs[i].ppid);
		cJSON_AddStringToObject(p, "comm", e->procs[i].comm);
		cJSON_AddBoolToObject(p, "running", !e->procs[i].exited);
		cJSON_AddItemToArray(procs, p);
	}
	for (int i = 0; i < n; i++) {
		cJSON *b;

		if (tasks[i].exec_id != e->id || !tasks[i].sys_enter_ts || !tasks[i].state)
			continue;
		b = cJSON_CreateObject();
		cJSON_AddNumberToObject(b, "pid", tasks[i].pid);
		cJSON_AddNumberToObject(b, "tid", tasks[i].tid);
		cJSON_AddStringToObject(b, "comm", tasks[i].comm);
		cJSON_AddStringToObject(b, "syscall", syscall__name(tasks[i].sys_nr, buf, sizeof(buf)));
		cJSON_AddNumberToObject(b, "blocked_ns", (double)(now - tasks[i].sys_enter_ts));
		cJSON_AddItemToArray(blocked, b);
	}
}

static void add_extra(struct store *store, __u64 id, const char *key, cJSON *out)
{
	char *text = NULL;
	cJSON *doc;

	if (store__get_extra(store, id, key, &text))
		return;
	doc = cJSON_Parse(text);
	if (doc)
		cJSON_AddItemToObject(out, key, doc);
	free(text);
}

static void get_execution(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct store *store = daemon__store(d);
	struct syscall_row *sys = NULL;
	struct sample_row *samples = NULL;
	struct ww_task_info *tasks = NULL;
	struct exec_record r;
	struct execution *e;
	cJSON *out = NULL;
	int nsys = 0, nsamples = 0, ntasks = 0;
	__u64 id;

	if (!id_param(req, &id, resp))
		return;
	e = daemon__find_live(d, id);
	if (e) {
		/* one pass of the task iterator serves both the uncharged CPU and the blocked threads */
		tasks = calloc(MAX_TASKS, sizeof(*tasks));
		out = live_view(d, e, tasks, tasks ? MAX_TASKS : 0, &ntasks);
		nsys = snapshot__syscall_rows(e, &sys);
		add_live_detail(e, tasks, ntasks, out);
		cJSON_AddItemToObject(out, "runqueue_latency", report__hist_json(e->totals.rq_hist, 0));
		cJSON_AddItemToObject(out, "slow_syscalls", report__slow_json(e));
		cJSON_AddItemToObject(out, "syscall_histograms", report__syscall_histograms(e));
	} else if (!store__get_execution(store, id, &r)) {
		out = views__exec(&r);
		store__syscalls(store, id, &sys, &nsys);
		add_extra(store, id, "runqueue_latency", out);
		add_extra(store, id, "slow_syscalls", out);
		add_extra(store, id, "syscall_histograms", out);
	}
	if (out)
		store__samples(store, id, &samples, &nsamples);
	free(tasks);
	if (!out) {
		http__error(resp, 404, "no execution %llu", (unsigned long long)id);
		return;
	}
	cJSON_AddItemToObject(out, "syscalls", views__syscalls(sys, nsys > 0 ? nsys : 0));
	cJSON_AddItemToObject(out, "samples", views__samples(samples, nsamples));
	free(sys);
	free(samples);
	reply(resp, 200, out);
}

static void delete_execution(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct exec_record r;
	struct execution *e;
	bool known, saved = false;
	__u64 id;

	if (!id_param(req, &id, resp))
		return;
	e = daemon__find_live(d, id);
	known = e || !store__get_execution(daemon__store(d), id, &r);
	if (e) {
		e->detached = true;
		daemon__finalize(d, e);
		saved = !store__get_execution(daemon__store(d), id, &r) && !strcmp(r.status, "detached");
	}
	if (!known)
		http__error(resp, 404, "no execution %llu", (unsigned long long)id);
	else if (!e)
		http__error(resp, 409, "execution %llu already ended", (unsigned long long)id);
	else if (!saved)
		http__error(resp, 500, "detached execution %llu, but could not record it", (unsigned long long)id);
	else
		reply(resp, 200, views__exec(&r));
}

/* What a PATCH renames: each field is copied only when the body has it. */
struct rename {
	char session[EXEC_NAME_LEN];
	char agent[EXEC_NAME_LEN];
	char task[EXEC_NAME_LEN];
	char labels[1024];
	bool has_session, has_agent, has_task, has_labels;
};

static bool rename_fields(const cJSON *body, struct rename *rn, struct http_response *resp)
{
	rn->has_session = cJSON_GetObjectItemCaseSensitive(body, "session") != NULL;
	rn->has_agent = cJSON_GetObjectItemCaseSensitive(body, "agent") != NULL;
	rn->has_task = cJSON_GetObjectItemCaseSensitive(body, "task") != NULL;
	rn->has_labels = cJSON_GetObjectItemCaseSensitive(body, "labels") != NULL;
	if (!string_field(body, "session", rn->has_session, rn->session, sizeof(rn->session), resp) ||
	    !string_field(body, "agent", rn->has_agent, rn->agent, sizeof(rn->agent), resp) ||
	    !string_field(body, "task", false, rn->task, sizeof(rn->task), resp))
		return false;
	if (rn->has_labels) {
		const cJSON *l;

		if (!labels_field(body, rn->labels, sizeof(rn->labels), resp))
			return false;
		cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(body, "labels"))
			if (!labels__valid_name(l->string)) {
				http__error(resp, 400, "label name '%.64s' must be [a-zA-Z_][a-zA-Z0-9_]*", l->string);
				return false;
			}
	}
	return true;
}

#define RENAME(dst, rn)									\
	do {										\
		if ((rn)->has_session)							\
			snprintf((dst)->session, sizeof((dst)->session), "%s", (rn)->session);	\
		if ((rn)->has_agent)							\
			snprintf((dst)->agent, sizeof((dst)->agent), "%s", (rn)->agent);	\
		if ((rn)->has_task)							\
			snprintf((dst)->task, sizeof((dst)->task), "%s", (rn)->task);	\
		if ((rn)->has_labels)							\
			snprintf((dst)->labels, sizeof((dst)->labels), "%s", (rn)->labels);	\
	} while (0)

static void patch_execution(void *ctx, const struct http_request *req, struct http_response *resp)
{
	static const char *const allowed[] = { "completed_steps", "total_steps", "current_step",
					       "status", "session", "agent", "task", "labels", NULL };
	struct daemon *d = ctx;
	char status[16] = "", step[EXEC_NAME_LEN] = "";
	long done = -2, total = -2;
	struct rename rn = {};
	struct exec_record r;
	struct execution *e;
	cJSON *body, *out = NULL, *ev;
	__u64 id;

	if (!id_param(req, &id, resp))
		return;
	body = body_object(req, resp, allowed);
	if (!body || !int_field(body, "completed_steps", false, 0, 1 << 30, &done, resp) ||
	    !int_field(body, "total_steps", false, 0, 1 << 30, &total, resp) ||
	    !string_field(body, "current_step", false, step, sizeof(step), resp) ||
	    !string_field(body, "status", false, status, sizeof(status), resp) ||
	    !rename_fields(body, &rn, resp))
		goto cleanup;
	if (status[0] && strcmp(status, "completed") && strcmp(status, "failed")) {
		http__error(resp, 400, "'status' must be \"completed\" or \"failed\"");
		goto cleanup;
	}
	e = daemon__find_live(d, id);
	if (e) {
		if (done != -2)
			e->completed_steps = (int)done;
		if (total != -2)
			e->total_steps = (int)total;
		if (cJSON_GetObjectItemCaseSensitive(body, "current_step"))
			snprintf(e->current_step, sizeof(e->current_step), "%s", step);
		if (status[0])
			snprintf(e->status_override, sizeof(e->status_override), "%s", status);
		if (done != -2 || total != -2 || cJSON_GetObjectItemCaseSensitive(body, "current_step"))
			e->progress_at_ms = clock__now_ms();
		RENAME(e, &rn);
		/* a job named by hand keeps that name: its exec no longer renames it */
		if (rn.has_session || rn.has_agent || rn.has_task)
			e->named_by_exec = false;
		daemon__save(d, e);
		out = live_view(d, e, NULL, 0, NULL);
	} else if (!store__get_execution(daemon__store(d), id, &r)) {
		if (done != -2)
			r.completed_steps = (int)done;
		if (total != -2)
			r.total_steps = (int)total;
		if (cJSON_GetObjectItemCaseSensitive(body, "current_step"))
			snprintf(r.current_step, sizeof(r.current_step), "%s", step);
		if (status[0] && strcmp(r.status, "running"))
			snprintf(r.status, sizeof(r.status), "%s", status);
		RENAME(&r, &rn);
		if (!store__upsert_execution(daemon__store(d), &r, NULL, 0))
			out = views__exec(&r);
	}
	if (out && (rn.has_session || rn.has_agent || rn.has_task || rn.has_labels)) {
		ev = cJSON_CreateObject();
		cJSON_AddNumberToObject(ev, "execution", (double)id);
		cJSON_AddItemToObject(ev, "session", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(out, "session"), 1));
		cJSON_AddItemToObject(ev, "agent", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(out, "agent"), 1));
		cJSON_AddItemToObject(ev, "task", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(out, "task"), 1));
		cJSON_AddItemToObject(ev, "labels", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(out, "labels"), 1));
		daemon__publish(d, "RENAMED", NULL, ev);
		cJSON_Delete(ev);
	}
	if (out)
		reply(resp, 200, out);
	else
		http__error(resp, 404, "no execution %llu", (unsigned long long)id);
cleanup:
	cJSON_Delete(body);
}

static void list_orchestrations(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct orch_record *rows = NULL;
	int n = 0, limit, err;

	if (!limit_param(req, 100, &limit, resp))
		return;
	err = store__orchestrations(daemon__store(d), limit, &rows, &n);
	REPLY_ROWS(resp, err, rows, n, views__orch);
}

static void get_orchestration(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct exec_filter f = { .limit = MAX_LIMIT };
	struct exec_record *rows = NULL;
	struct orch_record o;
	cJSON *out, *arr;
	int n = 0, err;

	snprintf(f.session, sizeof(f.session), "%s", req->params[0]);
	err = store__orchestration(daemon__store(d), req->params[0], &o);
	if (!err)
		err = store__list_executions(daemon__store(d), &f, &rows, &n);
	if (err) {
		http__error(resp, err == -ENOENT ? 404 : 500, err == -ENOENT ? "no orchestration '%s'" :
			    "cannot read history for '%s'", req->params[0]);
		return;
	}
	out = views__orch(&o);
	arr = VIEWS_ARRAY(rows, n, views__exec);
	free(rows);
	if (!out || !arr || !cJSON_AddItemToObject(out, "executions", arr)) {
		cJSON_Delete(out);
		cJSON_Delete(arr);
		http__error(resp, 500, "out of memory");
		return;
	}
	reply(resp, 200, out);
}

static void get_performance(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct perf_record *rows = NULL;
	__u64 since = 0;
	int n = 0, err;

	if (!since_param(http_request__query(req, "since"), &since, resp))
		return;
	err = store__performance(daemon__store(d), since, &rows, &n);
	REPLY_ROWS(resp, err, rows, n, views__perf);
}

static void get_failures(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	struct exec_record *rows = NULL;
	int n = 0, limit, err;

	if (!limit_param(req, 20, &limit, resp))
		return;
	err = store__failures(daemon__store(d), limit, &rows, &n);
	REPLY_ROWS(resp, err, rows, n, views__exec);
}

static void get_health(void *ctx, const struct http_request *req, struct http_response *resp)
{
	bool healthy;
	cJSON *out;

	(void)req;
	out = daemon__health(ctx, &healthy);
	reply(resp, healthy ? 200 : 503, out);
}

static void get_metrics(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)req;
	resp->body = daemon__metrics(ctx);
	if (!resp->body) {
		http__error(resp, 500, "cannot render metrics");
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* What this daemon is and can do, so clients ask only for what exists. */
static void get_info(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	const struct config *cfg = daemon__config(d);
	cJSON *out = cJSON_CreateObject(), *features;

	(void)req;
	cJSON_AddStringToObject(out, "name", "workerwatch");
	cJSON_AddStringToObject(out, "version", WORKERWATCH_VERSION);
	cJSON_AddNumberToObject(out, "sample_interval_s", (double)cfg->sample_interval_s);
	cJSON_AddNumberToObject(out, "slow_syscall_ms", (double)cfg->slow_syscall_ms);
	features = cJSON_AddObjectToObject(out, "features");
	cJSON_AddBoolToObject(features, "stream", true);
	cJSON_AddBoolToObject(features, "alerts", daemon__alerts(d) != NULL);
	reply(resp, 200, out);
}

static void serve_asset(const char *name, struct http_response *resp)
{
	const struct asset *a = assets__find(name);

	if (!a) {
		http__error(resp, 404, "no asset '%.64s'", name);
		return;
	}
	resp->body = malloc(a->size + 1);
	if (!resp->body) {
		http__error(resp, 500, "out of memory");
		return;
	}
	memcpy(resp->body, a->data, a->size);
	resp->body[a->size] = 0;
	resp->body_len = a->size;
	resp->status = 200;
	resp->content_type = a->content_type;
}

static void get_index(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	(void)req;
	serve_asset("index.html", resp);
}

static void get_asset(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	serve_asset(req->params[0], resp);
}

/* method, path, handler, mutating (needs the token), private (a read of command lines, labels, payloads) */
const struct http_route api_routes[] = {
	{ "GET", "/", get_index, false, false },
	{ "GET", "/assets/{name}", get_asset, false, false },
	{ "GET", "/health", get_health, false, false },
	{ "GET", "/api/v1/info", get_info, false, false },
	{ "GET", "/metrics", get_metrics, false, false },
	{ "GET", "/api/v1/executions", list_executions, false, true },
	{ "POST", "/api/v1/executions", post_execution, true, false },
	{ "GET", "/api/v1/executions/{id}", get_execution, false, true },
	{ "DELETE", "/api/v1/executions/{id}", delete_execution, true, false },
	{ "PATCH", "/api/v1/executions/{id}", patch_execution, true, false },
	{ "POST", "/api/v1/orchestrators", post_orchestrator, true, false },
	{ "GET", "/api/v1/orchestrations", list_orchestrations, false, true },
	{ "GET", "/api/v1/orchestrations/{session}", get_orchestration, false, true },
	{ "GET", "/api/v1/performance", get_performance, false, false },
	{ "GET", "/api/v1/failures", get_failures, false, true },
	API_ALERT_ROUTES
	API_JOB_ROUTES
};

const int api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);

/* The --metrics-listen listener: /metrics and nothing else, for a remote Prometheus. */
const struct http_route api_metrics_routes[] = {
	{ "GET", "/metrics", get_metrics, false, false },
};

const int api_metrics_nroutes = sizeof(api_metrics_routes) / sizeof(api_metrics_routes[0]);

/* For the other API modules. */
void api__reply(struct http_response *resp, int status, cJSON *obj)
{
	reply(resp, status, obj);
}

cJSON *api__body_object(const struct http_request *req, struct http_response *resp, const char *const *allowed)
{
	return body_object(req, resp, allowed);
}

bool api__string_field(const cJSON *obj, const char *name, bool required, char *out, size_t size,
		       struct http_response *resp)
{
	return string_field(obj, name, required, out, size, resp);
}

bool api__limit_param(const struct http_request *req, int def, int *limit, struct http_response *resp)
{
	return limit_param(req, def, limit, resp);
}
