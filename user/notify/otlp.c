// SPDX-License-Identifier: MIT
/* The OpenTelemetry receiver: each finished execution as a trace span over OTLP/HTTP JSON, its processes as child spans, optionally its metrics. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include <openssl/sha.h>
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/version.h"
#include "history/store.h"
#include "notify/notify_int.h"

#define TRACE_ID_LEN		16	/* bytes, as OTLP's Span.trace_id */
#define SPAN_ID_LEN		8
#define DEFAULT_SERVICE		"workerwatch"
/* A tree of thousands of processes is one execution: beyond this, processes are counted, not sent. */
#define MAX_PROCESS_SPANS	1000

/* OTLP's enums, sent as numbers as OTLP/JSON requires. */
enum { SPAN_KIND_INTERNAL = 1 };
enum { STATUS_CODE_ERROR = 2 };
enum { TEMPORALITY_DELTA = 1 };

/* The payload kinds, which are also the outbox rows' kinds: where send() posts them. */
#define KIND_TRACES		"traces"
#define KIND_METRICS		"metrics"

/* The first n bytes of SHA-256 of the text, in lowercase hex; never all zero, which OTLP reads as "no id". */
static void digest_id(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void digest_id(char *out, size_t n, const char *fmt, ...)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	char text[1024];
	bool zero = true;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	SHA256((const unsigned char *)text, strlen(text), md);
	for (size_t i = 0; i < n; i++)
		zero &= !md[i];
	if (zero)
		md[n - 1] = 1;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * The ids are derived, not random, so that a retry or a second daemon sends
 * the same ones: the session names the trace (the same session on several
 * hosts is one trace); an execution is its host's history id and start.
 */
static void trace_id(const struct exec_record *r, char out[2 * TRACE_ID_LEN + 1])
{
	digest_id(out, TRACE_ID_LEN, "workerwatch session\n%s", r->session);
}

static void exec_span_id(const struct notify_execution *x, char out[2 * SPAN_ID_LEN + 1])
{
	digest_id(out, SPAN_ID_LEN, "workerwatch execution\n%s\n%llu\n%llu", x->host ? x->host : "",
		  (unsigned long long)x->r->id, (unsigned long long)x->r->started_at_ms);
}

void notify__trace_ids(const char *session, const char *host, __u64 exec_id, __u64 started_ms,
		       char trace[NOTIFY_TRACE_ID_HEX], char span[NOTIFY_SPAN_ID_HEX])
{
	struct exec_record r = { .id = exec_id, .started_at_ms = started_ms };
	struct notify_execution x = { .r = &r, .host = host };

	snprintf(r.session, sizeof(r.session), "%s", session ? session : "");
	trace_id(&r, trace);
	exec_span_id(&x, span);
}

static void proc_span_id(const struct notify_execution *x, const struct notify_process *p,
			 char out[2 * SPAN_ID_LEN + 1])
{
	digest_id(out, SPAN_ID_LEN, "workerwatch process\n%s\n%llu\n%llu\n%u\n%llu", x->host ? x->host : "",
		  (unsigned long long)x->r->id, (unsigned long long)x->r->started_at_ms, p->pid,
		  (unsigned long long)p->start_ns);
}

/* ---- attributes: [{"key": K, "value": {"stringValue"|"intValue"|...: V}}] ---- */

static cJSON *attr_value(cJSON *attrs, const char *key, bool *ok)
{
	cJSON *kv = json__push(attrs, cJSON_CreateObject(), ok);

	json__add_str(kv, "key", key, ok);
	return json__add(kv, "value", cJSON_CreateObject(), ok);
}

static void attr_str(cJSON *attrs, const char *key, const char *v, bool *ok)
{
	json__add_str(attr_value(attrs, key, ok), "stringValue", v, ok);
}

/* 64-bit integers are decimal strings in OTLP/JSON (the protobuf JSON mapping's int64). */
static void attr_int(cJSON *attrs, const char *key, long long v, bool *ok)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", v);
	json__add_str(attr_value(attrs, key, ok), "intValue", text, ok);
}

static void attr_bool(cJSON *attrs, const char *key, bool v, bool *ok)
{
	json__add_bool(attr_value(attrs, key, ok), "boolValue", v, ok);
}

static void attr_time(cJSON *attrs, const char *key, __u64 ns, bool *ok)
{
	char text[40];

	clock__rfc3339(ns, text, sizeof(text));
	attr_str(attrs, key, text, ok);
}

/* A JSON array of strings (the record's command) as an array of stringValues. */
static void attr_str_array(cJSON *attrs, const char *key, const char *json_array, bool *ok)
{
	cJSON *arr = cJSON_Parse(json_array), *w, *values;

	if (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr)) {
		cJSON_Delete(arr);
		return;
	}
	values = json__add(json__add(attr_value(attrs, key, ok), "arrayValue", cJSON_CreateObject(), ok), "values",
			   cJSON_CreateArray(), ok);
	cJSON_ArrayForEach(w, arr)
		if (cJSON_IsString(w))
			json__add_str(json__push(values, cJSON_CreateObject(), ok), "stringValue", w->valuestring, ok);
	cJSON_Delete(arr);
}

static void json_u64_str(cJSON *o, const char *key, __u64 v, bool *ok)
{
	char text[24];

	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	json__add_str(o, key, text, ok);
}

/* ---- the CI/CD conventions' view of an execution ---- */

/* cicd.pipeline.task.run.result: success, failure, error (the observer lost it), timeout, cancellation. */
static const char *task_result(const struct exec_record *r)
{
	if (!strcmp(r->status, "completed"))
		return "success";
	if (!strcmp(r->status, "detached"))
		return "cancellation";
	if (!strcmp(r->failure_category, "timeout"))
		return "timeout";
	if (!strcmp(r->failure_category, "lost"))
		return "error";
	return "failure";
}

/* cicd.pipeline.task.name: the task, else the agent. */
static const char *task_name(const struct exec_record *r)
{
	return r->task[0] ? r->task : r->agent;
}

static cJSON *resource_json(const struct receiver *r, const struct notify_execution *x, bool *ok)
{
	cJSON *res = cJSON_CreateObject(), *attrs = json__add(res, "attributes", cJSON_CreateArray(), ok);

	attr_str(attrs, "service.name", r->service_name[0] ? r->service_name : DEFAULT_SERVICE, ok);
	attr_str(attrs, "service.version", WORKERWATCH_VERSION, ok);
	attr_str(attrs, "host.name", x->host ? x->host : "", ok);
	return res;
}

static cJSON *scope_json(bool *ok)
{
	cJSON *scope = cJSON_CreateObject();

	json__add_str(scope, "name", "workerwatch", ok);
	json__add_str(scope, "version", WORKERWATCH_VERSION, ok);
	return scope;
}

/* The execution's own attributes: CI/CD, process (its root), its labels and every summary metric. */
static void exec_attributes(cJSON *attrs, const struct notify_execution *x, int dropped, bool *ok)
{
	const struct exec_record *r = x->r;
	const char *result = task_result(r);
	cJSON *labels = cJSON_Parse(r->labels), *l;
	char text[1100];

	attr_str(attrs, "cicd.pipeline.run.id", r->session, ok);
	attr_str(attrs, "cicd.pipeline.task.name", task_name(r), ok);
	snprintf(text, sizeof(text), "%llu", (unsigned long long)r->id);
	attr_str(attrs, "cicd.pipeline.task.run.id", text, ok);
	if (x->external_url && x->external_url[0]) {
		snprintf(text, sizeof(text), "%s/#/executions/%llu", x->external_url, (unsigned long long)r->id);
		attr_str(attrs, "cicd.pipeline.task.run.url.full", text, ok);
	}
	attr_str(attrs, "cicd.pipeline.task.run.result", result, ok);
	if (r->failure_category[0])
		attr_str(attrs, "error.type", r->failure_category, ok);
	attr_int(attrs, "process.pid", r->pid, ok);
	attr_str_array(attrs, "process.command_args", r->command, ok);
	attr_time(attrs, "process.creation.time", x->start_ns, ok);
	attr_time(attrs, "process.exit.time", x->end_ns, ok);
	if (r->has_exit_code)
		attr_int(attrs, "process.exit.code", r->exit_code, ok);
	if (r->has_signal)
		attr_int(attrs, "workerwatch.signal", r->signal, ok);
	attr_str(attrs, "workerwatch.session", r->session, ok);
	attr_str(attrs, "workerwatch.agent", r->agent, ok);
	if (r->task[0])
		attr_str(attrs, "workerwatch.task", r->task, ok);
	attr_int(attrs, "workerwatch.execution.id", (long long)r->id, ok);
	attr_str(attrs, "workerwatch.status", r->status, ok);
	if (r->failure_reason[0])
		attr_str(attrs, "workerwatch.failure.reason", r->failure_reason, ok);
	attr_int(attrs, "workerwatch.retry_count", r->retry_count, ok);
	for (int m = 0; m < NR_EXEC_METRICS; m++) {
		if (!exec_metrics[m].in_record)
			continue;
		snprintf(text, sizeof(text), "workerwatch.%s", exec_metrics[m].name);
		attr_int(attrs, text, (long long)exec_metric__of_record(r, m), ok);
	}
	if (dropped)
		attr_int(attrs, "workerwatch.process_spans_dropped", dropped, ok);
	cJSON_ArrayForEach(l, labels)
		if (cJSON_IsString(l) && l->string) {
			snprintf(text, sizeof(text), "workerwatch.label.%s", l->string);
			attr_str(attrs, text, l->valuestring, ok);
		}
	cJSON_Delete(labels);
}

static cJSON *span_json(cJSON *spans, const char *trace, const char *id, const char *parent, const char *name,
			__u64 start_ns, __u64 end_ns, bool *ok)
{
	cJSON *s = json__push(spans, cJSON_CreateObject(), ok);

	json__add_str(s, "traceId", trace, ok);
	json__add_str(s, "spanId", id, ok);
	if (parent)
		json__add_str(s, "parentSpanId", parent, ok);
	json__add_str(s, "name", name, ok);
	json__add_num(s, "kind", SPAN_KIND_INTERNAL, ok);
	json_u64_str(s, "startTimeUnixNano", start_ns, ok);
	json_u64_str(s, "endTimeUnixNano", end_ns > start_ns ? end_ns : start_ns, ok);
	return s;
}

static void span_error(cJSON *span, const char *message, bool *ok)
{
	cJSON *st = json__add(span, "status", cJSON_CreateObject(), ok);

	json__add_num(st, "code", STATUS_CODE_ERROR, ok);
	json__add_str(st, "message", message, ok);
}

/* The process p's parent among the execution's processes: its ppid, alive when p started; NULL when outside. */
static const struct notify_process *parent_of(const struct notify_execution *x, const struct notify_process *p)
{
	const struct notify_process *best = NULL;

	for (int i = 0; i < x->nprocs && i < MAX_PROCESS_SPANS; i++) {
		const struct notify_process *q = &x->procs[i];

		if (q == p || q->pid != p->ppid || q->start_ns > p->start_ns || (q->end_ns && q->end_ns < p->start_ns))
			continue;
		if (!best || q->start_ns > best->start_ns)
			best = q;
	}
	return best;
}

static void process_span(cJSON *spans, const struct notify_execution *x, const struct notify_process *p,
			 const char *trace, const char *exec_span, bool *ok)
{
	const struct notify_process *parent = parent_of(x, p);
	const char *slash = p->filename ? strrchr(p->filename, '/') : NULL;
	char id[2 * SPAN_ID_LEN + 1], pid_span[2 * SPAN_ID_LEN + 1], name[256], msg[64];
	__u64 end = p->exited && p->end_ns ? p->end_ns : x->end_ns;
	cJSON *s, *attrs;

	snprintf(name, sizeof(name), "%s", slash && slash[1] ? slash + 1 : p->comm[0] ? p->comm : "process");
	proc_span_id(x, p, id);
	if (parent)
		proc_span_id(x, parent, pid_span);
	s = span_json(spans, trace, id, parent ? pid_span : exec_span, name, p->start_ns, end, ok);
	attrs = json__add(s, "attributes", cJSON_CreateArray(), ok);
	attr_int(attrs, "process.pid", p->pid, ok);
	attr_int(attrs, "process.parent_pid", p->ppid, ok);
	attr_str(attrs, "process.executable.name", p->comm, ok);
	if (p->filename && p->filename[0])
		attr_str(attrs, "process.executable.path", p->filename, ok);
	attr_time(attrs, "process.creation.time", p->start_ns, ok);
	if (!p->exited) {
		attr_bool(attrs, "workerwatch.process.outlived", true, ok);
		return;
	}
	attr_time(attrs, "process.exit.time", end, ok);
	attr_int(attrs, "workerwatch.process.on_cpu_ns", (long long)p->on_cpu_ns, ok);
	if (WIFEXITED(p->exit_status)) {
		attr_int(attrs, "process.exit.code", WEXITSTATUS(p->exit_status), ok);
		snprintf(msg, sizeof(msg), "exited with code %d", WEXITSTATUS(p->exit_status));
		if (WEXITSTATUS(p->exit_status))
			span_error(s, msg, ok);
	} else if (WIFSIGNALED(p->exit_status)) {
		attr_int(attrs, "workerwatch.signal", WTERMSIG(p->exit_status), ok);
		snprintf(msg, sizeof(msg), "killed by SIG%s", sigabbrev_np(WTERMSIG(p->exit_status)) ?: "?");
		span_error(s, msg, ok);
	}
}

/* ExportTraceServiceRequest: one resource, one scope, the execution's span and its processes' spans. */
static char *traces_json(const struct receiver *r, const struct notify_execution *x)
{
	cJSON *root = cJSON_CreateObject(), *rs, *ss, *spans, *s;
	char trace[2 * TRACE_ID_LEN + 1], id[2 * SPAN_ID_LEN + 1];
	int nprocs = x->nprocs < MAX_PROCESS_SPANS ? x->nprocs : MAX_PROCESS_SPANS;
	bool ok = root != NULL;

	trace_id(x->r, trace);
	exec_span_id(x, id);
	rs = json__push(json__add(root, "resourceSpans", cJSON_CreateArray(), &ok), cJSON_CreateObject(), &ok);
	json__add(rs, "resource", resource_json(r, x, &ok), &ok);
	ss = json__push(json__add(rs, "scopeSpans", cJSON_CreateArray(), &ok), cJSON_CreateObject(), &ok);
	json__add(ss, "scope", scope_json(&ok), &ok);
	spans = json__add(ss, "spans", cJSON_CreateArray(), &ok);
	s = span_json(spans, trace, id, NULL, task_name(x->r), x->start_ns, x->end_ns, &ok);
	exec_attributes(json__add(s, "attributes", cJSON_CreateArray(), &ok), x, x->nprocs - nprocs, &ok);
	if (!strcmp(x->r->status, "failed"))
		span_error(s, x->r->failure_reason[0] ? x->r->failure_reason : "failed", &ok);
	for (int i = 0; i < nprocs; i++)
		process_span(spans, x, &x->procs[i], trace, id, &ok);
	return notify__print(root, ok);
}

/* ---- metrics: one delta point each, so a collector can sum them over executions ---- */

static const double seconds_bounds[] = { 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600 };
static const double bytes_bounds[] = { 1 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30, 4.0 * (1 << 30),
				       16.0 * (1 << 30) };

/* The attributes every point of an execution carries: low-cardinality ones only. */
static void point_attributes(cJSON *point, const struct exec_record *rec, const char *direction, bool *ok)
{
	cJSON *attrs = json__add(point, "attributes", cJSON_CreateArray(), ok);

	attr_str(attrs, "workerwatch.agent", rec->agent, ok);
	attr_str(attrs, "workerwatch.status", rec->status, ok);
	attr_str(attrs, "cicd.pipeline.task.run.result", task_result(rec), ok);
	if (rec->failure_category[0])
		attr_str(attrs, "error.type", rec->failure_category, ok);
	if (direction)
		attr_str(attrs, "network.io.direction", direction, ok);
}

static cJSON *metric_json(cJSON *metrics, const char *name, const char *unit, const char *help, bool *ok)
{
	cJSON *m = json__push(metrics, cJSON_CreateObject(), ok);

	json__add_str(m, "name", name, ok);
	json__add_str(m, "unit", unit, ok);
	json__add_str(m, "description", help, ok);
	return m;
}

static cJSON *point_json(cJSON *points, const struct notify_execution *x, bool *ok)
{
	cJSON *p = json__push(points, cJSON_CreateObject(), ok);

	json_u64_str(p, "startTimeUnixNano", x->start_ns, ok);
	json_u64_str(p, "timeUnixNano", x->end_ns > x->start_ns ? x->end_ns : x->start_ns, ok);
	return p;
}

/* A delta monotonic sum of whole numbers: one point per direction when directions are given. */
static void sum_metric(cJSON *metrics, const struct notify_execution *x, const char *name, const char *unit,
		       const char *help, const __u64 *values, const char *const *directions, int n, bool *ok)
{
	cJSON *sum = json__add(metric_json(metrics, name, unit, help, ok), "sum", cJSON_CreateObject(), ok);
	cJSON *points;

	json__add_num(sum, "aggregationTemporality", TEMPORALITY_DELTA, ok);
	json__add_bool(sum, "isMonotonic", true, ok);
	points = json__add(sum, "dataPoints", cJSON_CreateArray(), ok);
	for (int i = 0; i < n; i++) {
		cJSON *p = point_json(points, x, ok);

		json_u64_str(p, "asInt", values[i], ok);
		point_attributes(p, x->r, directions ? directions[i] : NULL, ok);
	}
}

/* A delta histogram of one observation. */
static void histogram_metric(cJSON *metrics, const struct notify_execution *x, const char *name, const char *unit,
			     const char *help, double v, const double *bounds, int nbounds, bool *ok)
{
	cJSON *h = json__add(metric_json(metrics, name, unit, help, ok), "histogram", cJSON_CreateObject(), ok);
	cJSON *p, *counts, *b;
	int bucket = 0;

	json__add_num(h, "aggregationTemporality", TEMPORALITY_DELTA, ok);
	p = point_json(json__add(h, "dataPoints", cJSON_CreateArray(), ok), x, ok);
	json__add_str(p, "count", "1", ok);
	json__add_num(p, "sum", v, ok);
	json__add_num(p, "min", v, ok);
	json__add_num(p, "max", v, ok);
	/* bucket i holds (bounds[i-1], bounds[i]], the last one everything above */
	while (bucket < nbounds && v > bounds[bucket])
		bucket++;
	counts = json__add(p, "bucketCounts", cJSON_CreateArray(), ok);
	for (int i = 0; i <= nbounds; i++)
		json__push(counts, cJSON_CreateString(i == bucket ? "1" : "0"), ok);
	b = json__add(p, "explicitBounds", cJSON_CreateArray(), ok);
	for (int i = 0; i < nbounds; i++)
		json__push(b, cJSON_CreateNumber(bounds[i]), ok);
	point_attributes(p, x->r, NULL, ok);
}

/* ExportMetricsServiceRequest: the execution counted, its duration, CPU, peak memory, syscalls and bytes. */
static char *metrics_json(const struct receiver *r, const struct notify_execution *x)
{
	static const char *const directions[] = { "transmit", "receive" };
	const struct exec_record *rec = x->r;
	cJSON *root = cJSON_CreateObject(), *rm, *sm, *metrics;
	__u64 one = 1, bytes[2] = { rec->net_sent_bytes, rec->net_recv_bytes };
	bool ok = root != NULL;

	rm = json__push(json__add(root, "resourceMetrics", cJSON_CreateArray(), &ok), cJSON_CreateObject(), &ok);
	json__add(rm, "resource", resource_json(r, x, &ok), &ok);
	sm = json__push(json__add(rm, "scopeMetrics", cJSON_CreateArray(), &ok), cJSON_CreateObject(), &ok);
	json__add(sm, "scope", scope_json(&ok), &ok);
	metrics = json__add(sm, "metrics", cJSON_CreateArray(), &ok);
	sum_metric(metrics, x, "workerwatch.executions", "{execution}", "Executions that ended, by agent and outcome.",
		   &one, NULL, 1, &ok);
	histogram_metric(metrics, x, "workerwatch.execution.duration", "s", "Wall-clock time of an execution.",
			 (double)rec->duration_ms / 1e3, seconds_bounds, ARRAY_SIZE(seconds_bounds), &ok);
	histogram_metric(metrics, x, "workerwatch.execution.cpu.time", "s", "On-CPU time of an execution's tree.",
			 (double)rec->on_cpu_ns / 1e9, seconds_bounds, ARRAY_SIZE(seconds_bounds), &ok);
	/* shared pages once (peak_memory_bytes); records from before it have only the sum of RSS */
	histogram_metric(metrics, x, "workerwatch.execution.memory.peak", "By",
			 "The highest memory an execution's tree reached, shared pages counted once.",
			 (double)(rec->peak_memory_bytes ? rec->peak_memory_bytes : rec->peak_rss_bytes),
			 bytes_bounds, ARRAY_SIZE(bytes_bounds), &ok);
	sum_metric(metrics, x, "workerwatch.execution.syscalls", "{syscall}", "Syscalls an execution's tree made.",
		   &rec->syscalls, NULL, 1, &ok);
	sum_metric(metrics, x, "workerwatch.execution.network.io", "By", "Bytes an execution's tree sent and received on sockets.",
		   bytes, directions, 2, &ok);
	return notify__print(root, ok);
}

static int exec_payloads(const struct receiver *r, const struct notify_execution *x, struct notify_payload *out,
			 int max)
{
	int n = 0;

	if (max < (r->metrics ? 2 : 1))
		return -EINVAL;
	snprintf(out[n].kind, sizeof(out[n].kind), KIND_TRACES);
	out[n].body = traces_json(r, x);
	if (!out[n++].body)
		goto oom;
	if (r->metrics) {
		snprintf(out[n].kind, sizeof(out[n].kind), KIND_METRICS);
		out[n].body = metrics_json(r, x);
		if (!out[n++].body)
			goto oom;
	}
	return n;
oom:
	for (int i = 0; i < n; i++)
		free(out[i].body);
	return -ENOMEM;
}

/* "headers": {"Name": "value"} into "Name: value\n" lines, each a valid header. */
static int parse_headers(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "headers"), *v;
	size_t len = 0;

	if (!h)
		return 0;
	if (!cJSON_IsObject(h))
		return receiver_parse__fail(pc, "headers must be an object of strings");
	cJSON_ArrayForEach(v, h) {
		const char *name = v->string ? v->string : "";
		int n;

		if (!cJSON_IsString(v))
			return receiver_parse__fail(pc, "headers.%s must be a string", name);
		if (!name[0] || name[strcspn(name, " :\t")] || notify__has_control(name))
			return receiver_parse__fail(pc, "headers: '%s' is not a header name", name);
		if (notify__has_control(v->valuestring))
			return receiver_parse__fail(pc, "headers.%s contains control characters", name);
		if (!strcasecmp(name, "Content-Type") || !strcasecmp(name, "Content-Length") ||
		    !strcasecmp(name, "Host"))
			return receiver_parse__fail(pc, "headers: %s is set by workerwatch", name);
		n = snprintf(r->headers + len, sizeof(r->headers) - len, "%s: %s\n", name, v->valuestring);
		if (n < 0 || (size_t)n >= sizeof(r->headers) - len)
			return receiver_parse__fail(pc, "headers are longer than %zu characters", sizeof(r->headers) - 1);
		len += (size_t)n;
	}
	return 0;
}

static void defaults(struct receiver *r)
{
	snprintf(r->service_name, sizeof(r->service_name), DEFAULT_SERVICE);
}

static int parse(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	const cJSON *v;
	int err = receiver_parse__http_url(pc, o, r, true);

	if (err < 0)
		return err;
	err = receiver_parse__str(pc, o, "service_name", r->service_name, sizeof(r->service_name));
	if (err < 0)
		return err;
	if (!r->service_name[0])
		return receiver_parse__fail(pc, "service_name must not be empty");
	v = cJSON_GetObjectItemCaseSensitive(o, "metrics");
	if (v && !cJSON_IsBool(v))
		return receiver_parse__fail(pc, "metrics must be true or false");
	r->metrics = cJSON_IsTrue(v);
	return parse_headers(pc, o, r);
}

/* Header values are credentials more often than not: only their names show. */
static void view(const struct receiver *r, cJSON *o)
{
	cJSON *h = cJSON_AddObjectToObject(o, "headers");

	cJSON_AddStringToObject(o, "service_name", r->service_name);
	cJSON_AddBoolToObject(o, "metrics", r->metrics);
	for (const char *l = r->headers; h && *l; l += strcspn(l, "\n") + 1) {
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)strcspn(l, ":"), l);
		cJSON_AddStringToObject(h, name, "***");
	}
}

/*
 * POSTs to {url}/v1/traces or /v1/metrics. OTLP/HTTP asks for retries on
 * 429, 502, 503 and 504 only (and honours Retry-After); any other error
 * status will not get better.
 */
static void send(struct notifier *n, const struct receiver *r, const struct outbox_row *row, struct attempt *a)
{
	char url[sizeof(r->url) + 32];
	size_t len = strlen(r->url);

	snprintf(url, sizeof(url), "%s", r->url);
	while (len && url[len - 1] == '/')
		len--;
	snprintf(url + len, sizeof(url) - len, "/v1/%s", !strcmp(row->kind, KIND_METRICS) ? "metrics" : "traces");
	notify__send_http(n, r, url, row, a);
	if (a->verdict == VERDICT_RETRY && a->status >= 400 && a->status != 429 && a->status != 502 &&
	    a->status != 503 && a->status != 504)
		a->verdict = VERDICT_DEAD;
}

const struct receiver_ops otlp_receiver = {
	.type = "otlp",
	.caps = RECEIVER_EXECUTIONS,
	.keys = (const char *const[]){ "service_name", "metrics", "headers", NULL },
	.defaults = defaults,
	.parse = parse,
	.view = view,
	.exec_payloads = exec_payloads,
	.send = send,
};
