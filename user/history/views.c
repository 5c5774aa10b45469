// SPDX-License-Identifier: MIT
/* JSON views of history records, shared by the HTTP API and the CLI's --json. */
#include <string.h>
#include <cjson/cJSON.h>
#include "lib/clock.h"
#include "lib/json.h"
#include "history/views.h"


static void add_time(cJSON *obj, const char *name, __u64 ms)
{
	char ts[40];

	clock__rfc3339_ms(ms, ts, sizeof(ts));
	cJSON_AddStringToObject(obj, name, ts);
}

/* Text of a fixed-size record field, never read past its end. */
static void add_field(cJSON *obj, const char *name, const char *field, size_t size)
{
	char buf[REC_TEXT_LEN + 1];
	size_t len = strnlen(field, size);

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, field, len);
	buf[len] = '\0';
	cJSON_AddStringToObject(obj, name, buf);
}

#define ADD_FIELD(obj, name, field) add_field((obj), (name), (field), sizeof(field))

/* Stored JSON text of the wanted type; a damaged value becomes empty rather than failing the whole view. */
static cJSON *parse_stored(const char *text, size_t size, int type)
{
	cJSON *v = NULL;

	if (strnlen(text, size) < size)
		v = cJSON_Parse(text);
	if (v && (v->type & 0xff) == type)
		return v;
	cJSON_Delete(v);
	return type == cJSON_Array ? cJSON_CreateArray() : cJSON_CreateObject();
}

#define PARSE_STORED(field, type) parse_stored((field), sizeof(field), (type))

/* cJSON's adders tolerate NULL items, so one check at the end catches any allocation failure. */
static cJSON *checked(cJSON *obj, int nfields)
{
	if (obj && cJSON_GetArraySize(obj) != nfields) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

static cJSON *failure_json(const struct exec_record *r)
{
	cJSON *f;

	if (!r->failure_category[0])
		return cJSON_CreateNull();
	f = cJSON_CreateObject();
	if (!f)
		return NULL;
	ADD_FIELD(f, "category", r->failure_category);
	ADD_FIELD(f, "reason", r->failure_reason);
	cJSON_AddItemToObject(f, "evidence", PARSE_STORED(r->failure_evidence, cJSON_Object));
	return checked(f, 3);
}

static cJSON *progress_json(const struct exec_record *r)
{
	cJSON *p = cJSON_CreateObject();

	if (!p)
		return NULL;
	if (r->completed_steps >= 0)
		cJSON_AddNumberToObject(p, "completed_steps", r->completed_steps);
	else
		cJSON_AddNullToObject(p, "completed_steps");
	if (r->total_steps >= 0)
		cJSON_AddNumberToObject(p, "total_steps", r->total_steps);
	else
		cJSON_AddNullToObject(p, "total_steps");
	if (r->current_step[0])
		ADD_FIELD(p, "current_step", r->current_step);
	else
		cJSON_AddNullToObject(p, "current_step");
	return checked(p, 3);
}

/* The summary metrics, keyed by their names in the table. */
static cJSON *metrics_json(const struct exec_record *r)
{
	cJSON *m = cJSON_CreateObject();
	int n = 0;

	if (!m)
		return NULL;
	for (int i = 0; i < NR_EXEC_METRICS; i++) {
		if (!exec_metrics[i].in_record)
			continue;
		json__add_u64(m, exec_metrics[i].name, exec_metric__of_record(r, i));
		n++;
	}
	return checked(m, n);
}

static bool has_ended(const struct exec_record *r)
{
	return strcmp(r->status, "running") && r->ended_at_ms;
}

cJSON *views__exec(const struct exec_record *r)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	json__add_u64(obj, "id", r->id);
	ADD_FIELD(obj, "session", r->session);
	ADD_FIELD(obj, "agent", r->agent);
	ADD_FIELD(obj, "task", r->task);
	cJSON_AddItemToObject(obj, "command", PARSE_STORED(r->command, cJSON_Array));
	cJSON_AddNumberToObject(obj, "pid", r->pid);
	ADD_FIELD(obj, "status", r->status);
	if (r->has_exit_code)
		cJSON_AddNumberToObject(obj, "exit_code", r->exit_code);
	else
		cJSON_AddNullToObject(obj, "exit_code");
	if (r->has_signal)
		cJSON_AddNumberToObject(obj, "signal", r->signal);
	else
		cJSON_AddNullToObject(obj, "signal");
	cJSON_AddItemToObject(obj, "failure", failure_json(r));
	add_time(obj, "started_at", r->started_at_ms);
	if (has_ended(r))
		add_time(obj, "ended_at", r->ended_at_ms);
	else
		cJSON_AddNullToObject(obj, "ended_at");
	json__add_u64(obj, "duration_ms", r->duration_ms);
	cJSON_AddItemToObject(obj, "labels", PARSE_STORED(r->labels, cJSON_Object));
	cJSON_AddNumberToObject(obj, "retry_count", r->retry_count);
	cJSON_AddItemToObject(obj, "progress", progress_json(r));
	cJSON_AddItemToObject(obj, "metrics", metrics_json(r));
	return checked(obj, 17);
}

/* The row's name as a C string, even when it fills its array. */
static const char *name_of(const struct syscall_row *row)
{
	static __thread char name[sizeof(row->name) + 1];
	size_t len = strnlen(row->name, sizeof(row->name));

	memcpy(name, row->name, len);
	name[len] = '\0';
	return name;
}

cJSON *views__syscalls(const struct syscall_row *rows, int n)
{
	cJSON *obj = cJSON_CreateObject();

	for (int i = 0; obj && i < n; i++) {
		cJSON *sc = cJSON_CreateObject();

		if (!sc) {
			cJSON_Delete(obj);
			return NULL;
		}
		json__add_u64(sc, "count", rows[i].count);
		json__add_u64(sc, "errors", rows[i].errors);
		json__add_u64(sc, "total_ns", rows[i].total_ns);
		json__add_u64(sc, "p50_ns", rows[i].p50_ns);
		json__add_u64(sc, "p90_ns", rows[i].p90_ns);
		json__add_u64(sc, "p99_ns", rows[i].p99_ns);
		json__add_u64(sc, "max_ns", rows[i].max_ns);
		sc = checked(sc, 7);
		if (!sc || !cJSON_AddItemToObject(obj, name_of(&rows[i]), sc)) {
			cJSON_Delete(sc);
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return checked(obj, n);
}

cJSON *views__samples(const struct sample_row *rows, int n)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; arr && i < n; i++) {
		cJSON *s = cJSON_CreateObject();
		int nfields = 1;

		if (!s) {
			cJSON_Delete(arr);
			return NULL;
		}
		add_time(s, "ts", rows[i].ts_ms);
		for (int m = 0; m < NR_EXEC_METRICS; m++) {
			if (!exec_metrics[m].in_sample)
				continue;
			json__add_u64(s, exec_metrics[m].name, exec_metric__of_sample(&rows[i], m));
			nfields++;
		}
		cJSON_AddItemToArray(arr, checked(s, nfields));
	}
	return checked(arr, n);
}

/* Counts apart, so that "executions" stays free for the list in detailed views. */
static cJSON *counts_json(const struct orch_record *o)
{
	cJSON *c = cJSON_CreateObject();

	if (!c)
		return NULL;
	cJSON_AddNumberToObject(c, "executions", o->executions);
	cJSON_AddNumberToObject(c, "running", o->running);
	cJSON_AddNumberToObject(c, "completed", o->completed);
	cJSON_AddNumberToObject(c, "failed", o->failed);
	return checked(c, 4);
}

cJSON *views__orch(const struct orch_record *o)
{
	cJSON *obj = cJSON_CreateObject();
	bool ended = strcmp(o->status, "running") && o->ended_at_ms;

	if (!obj)
		return NULL;
	ADD_FIELD(obj, "session", o->session);
	ADD_FIELD(obj, "status", o->status);
	cJSON_AddItemToObject(obj, "counts", counts_json(o));
	add_time(obj, "started_at", o->started_at_ms);
	if (ended) {
		add_time(obj, "ended_at", o->ended_at_ms);
		json__add_u64(obj, "duration_ms", o->ended_at_ms > o->started_at_ms ? o->ended_at_ms - o->started_at_ms : 0);
	} else {
		cJSON_AddNullToObject(obj, "ended_at");
		cJSON_AddNullToObject(obj, "duration_ms");
	}
	return checked(obj, 6);
}

cJSON *views__perf(const struct perf_record *p)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	ADD_FIELD(obj, "agent", p->agent);
	cJSON_AddNumberToObject(obj, "count", p->count);
	cJSON_AddNumberToObject(obj, "succeeded", p->succeeded);
	cJSON_AddNumberToObject(obj, "failed", p->count - p->succeeded);
	cJSON_AddNumberToObject(obj, "success_rate", p->success_rate);
	json__add_u64(obj, "min_ms", p->min_ms);
	json__add_u64(obj, "avg_ms", p->avg_ms);
	json__add_u64(obj, "p50_ms", p->p50_ms);
	json__add_u64(obj, "p95_ms", p->p95_ms);
	json__add_u64(obj, "max_ms", p->max_ms);
	return checked(obj, 10);
}
