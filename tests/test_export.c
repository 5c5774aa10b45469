// SPDX-License-Identifier: MIT
/* Executions that leave the host: OTLP traces and metrics decoded with the official protos, StatsD lines over UDP. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "wwd.h"
#include "alerts/alerts.h"
#include "history/store.h"
#include "lib/clock.h"
#include "notify/notify.h"

/* Paths are relative to the repository's root, where make check runs the tests. */
#define OTLP_DIR		"tests/otlp"
#define SETUP_TIMEOUT_S		300
#define WAIT_MS			30000
/* 2026-11-21T05:28:32Z */
#define T0_MS			1795238912000ULL

/* ---- helpers ---- */

static void write_file(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void write_file(const char *path, const char *fmt, ...)
{
	FILE *fp = fopen(path, "w");
	va_list ap;

	if (!CHECK(fp != NULL, "cannot write %s: %s", path, strerror(errno)))
		return;
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	CHECK(fclose(fp) == 0, "cannot write %s", path);
}

/* An OTLP attribute's value as text (stringValue, intValue, or "true"/"false"); NULL when absent. */
static const char *attr(const cJSON *attrs, const char *key)
{
	const cJSON *kv;

	cJSON_ArrayForEach(kv, attrs) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");

		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kv, "key")) ?: "", key))
			continue;
		if (cJSON_GetObjectItemCaseSensitive(v, "stringValue"))
			return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "stringValue"));
		if (cJSON_GetObjectItemCaseSensitive(v, "intValue"))
			return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "intValue"));
		if (cJSON_GetObjectItemCaseSensitive(v, "boolValue"))
			return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "boolValue")) ? "true" : "false";
		return "(another kind)";
	}
	return NULL;
}

static const char *span_attr(const cJSON *span, const char *key)
{
	return attr(cJSON_GetObjectItemCaseSensitive(span, "attributes"), key);
}

static bool is_hex(const char *s, size_t len)
{
	if (!s || strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* The spans of an ExportTraceServiceRequest (the first resource's first scope). */
static const cJSON *spans_of(const cJSON *req)
{
	const cJSON *rs = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(req, "resourceSpans"), 0);
	const cJSON *ss = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rs, "scopeSpans"), 0);

	return cJSON_GetObjectItemCaseSensitive(ss, "spans");
}

static const cJSON *metrics_of(const cJSON *req)
{
	const cJSON *rm = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(req, "resourceMetrics"), 0);
	const cJSON *sm = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rm, "scopeMetrics"), 0);

	return cJSON_GetObjectItemCaseSensitive(sm, "metrics");
}

static const cJSON *metric_named(const cJSON *metrics, const char *name)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, metrics)
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "name")) ?: "", name))
			return m;
	return NULL;
}

/* The span without a parent: the execution's. */
static const cJSON *root_span(const cJSON *spans)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, spans)
		if (!cJSON_GetObjectItemCaseSensitive(s, "parentSpanId"))
			return s;
	return NULL;
}

static const cJSON *span_by_id(const cJSON *spans, const char *id)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, spans)
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "spanId")) ?: "", id ?: ""))
			return s;
	return NULL;
}

static int children_of(const cJSON *spans, const char *id)
{
	const cJSON *s;
	int n = 0;

	cJSON_ArrayForEach(s, spans)
		n += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "parentSpanId")) ?: "", id);
	return n;
}

static __u64 u64_of(const char *text)
{
	return text ? strtoull(text, NULL, 10) : 0;
}

/* ---- what the receivers make of an execution, without a daemon ---- */

static void record(struct exec_record *r, const char *session, const char *agent, const char *status)
{
	memset(r, 0, sizeof(*r));
	r->id = 42;
	snprintf(r->session, sizeof(r->session), "%s", session);
	snprintf(r->agent, sizeof(r->agent), "%s", agent);
	snprintf(r->task, sizeof(r->task), "compile");
	snprintf(r->command, sizeof(r->command), "[\"make\", \"-j2\"]");
	snprintf(r->labels, sizeof(r->labels), "{\"team\": \"ci\"}");
	snprintf(r->status, sizeof(r->status), "%s", status);
	r->pid = 1000;
	r->started_at_ms = T0_MS;
	r->ended_at_ms = T0_MS + 2500;
	r->duration_ms = 2500;
	r->on_cpu_ns = 1234567890;
	r->peak_rss_bytes = 64 << 20;
	r->peak_memory_bytes = 48 << 20;
	r->syscalls = 4321;
	r->net_sent_bytes = 100;
	r->net_recv_bytes = 200;
	r->process_count = 3;
	r->has_exit_code = true;
	if (!strcmp(status, "failed")) {
		r->exit_code = 3;
		snprintf(r->failure_category, sizeof(r->failure_category), "exit_nonzero");
		snprintf(r->failure_reason, sizeof(r->failure_reason), "exited with code 3");
	}
}

static bool parse_receivers(const char *json, struct receiver *rs, int n)
{
	cJSON *arr = cJSON_Parse(json);
	char err[256] = "";
	int got = receivers__parse(arr, rs, n, err, sizeof(err));

	cJSON_Delete(arr);
	return CHECK(got == n, "%s did not parse: %d %s", json, got, err);
}

TEST(export_receivers_parse_otlp_and_statsd)
{
	static const struct {
		const char *json, *err;
	} bad[] = {
		{ "[{\"name\": \"o\", \"type\": \"otlp\"}]", "receiver o: url is required" },
		{ "[{\"name\": \"o\", \"type\": \"otlp\", \"url\": \"grpc://h:4317\"}]",
		  "receiver o: url must start with http:// or https://" },
		{ "[{\"name\": \"o\", \"type\": \"otlp\", \"url\": \"http://h\", \"metrics\": 1}]",
		  "receiver o: metrics must be true or false" },
		{ "[{\"name\": \"o\", \"type\": \"otlp\", \"url\": \"http://h\", \"headers\": {\"a b\": \"x\"}}]",
		  "receiver o: headers: 'a b' is not a header name" },
		{ "[{\"name\": \"o\", \"type\": \"otlp\", \"url\": \"http://h\", \"headers\": {\"X-K\": \"a\\nb\"}}]",
		  "receiver o: headers.X-K contains control characters" },
		{ "[{\"name\": \"o\", \"type\": \"otlp\", \"url\": \"http://h\", \"headers\": {\"Content-Type\": \"x\"}}]",
		  "receiver o: headers: Content-Type is set by workerwatch" },
		{ "[{\"name\": \"o\", \"type\": \"otlp\", \"url\": \"http://h\", \"prefix\": \"x\"}]",
		  "receiver o: key 'prefix' does not apply to otlp receivers" },
		{ "[{\"name\": \"s\", \"type\": \"statsd\"}]", "receiver s: url is required (udp://HOST:PORT)" },
		{ "[{\"name\": \"s\", \"type\": \"statsd\", \"url\": \"udp://h\"}]",
		  "receiver s: url must be udp://HOST:PORT" },
		{ "[{\"name\": \"s\", \"type\": \"statsd\", \"url\": \"udp://h:99999\"}]",
		  "receiver s: url must be udp://HOST:PORT" },
		{ "[{\"name\": \"s\", \"type\": \"statsd\", \"url\": \"udp://h:8125\", \"prefix\": \"a b\"}]",
		  "receiver s: prefix must be made of A-Z a-z 0-9 _ - ." },
		{ "[{\"name\": \"s\", \"type\": \"statsd\", \"url\": \"udp://h:8125\", \"prefix\": \"ww.\"}]",
		  "receiver s: prefix must not be empty or start or end with a dot" },
		{ "[{\"name\": \"s\", \"type\": \"statsd\", \"url\": \"udp://h:8125\", \"dogstatsd\": \"yes\"}]",
		  "receiver s: dogstatsd must be true or false" },
	};
	struct receiver rs[3];
	char path[300], err[256];
	struct alert_config c;
	cJSON *j;
	char *text;

	ASSERT(parse_receivers("[{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://127.0.0.1:4318\"},"
			       " {\"name\": \"o2\", \"type\": \"otlp\", \"url\": \"https://c.example/otlp/\","
			       "  \"metrics\": true, \"service_name\": \"ci\","
			       "  \"headers\": {\"Authorization\": \"Bearer s3cret\", \"X-Scope\": \"t1\"}},"
			       " {\"name\": \"sd\", \"type\": \"statsd\", \"url\": \"udp://[::1]:8125\", \"dogstatsd\": true}]",
			       rs, 3), "the receivers");
	CHECK_STR(receiver__type_name(&rs[0]), "otlp");
	CHECK(receiver__can(&rs[0], RECEIVER_EXECUTIONS) && !receiver__can(&rs[0], RECEIVER_ALERTS), "otlp caps");
	CHECK(receiver__can(&rs[2], RECEIVER_EXECUTIONS) && !receiver__can(&rs[2], RECEIVER_ALERTS), "statsd caps");
	CHECK(!rs[0].metrics && !strcmp(rs[0].service_name, "workerwatch") && !rs[0].headers[0], "otlp defaults");
	CHECK(rs[1].metrics && !strcmp(rs[1].service_name, "ci"), "otlp keys");
	CHECK_STR(rs[1].headers, "Authorization: Bearer s3cret\nX-Scope: t1\n");
	CHECK(rs[2].dogstatsd && !strcmp(rs[2].prefix, "workerwatch"), "statsd keys");
	j = receiver__to_json(&rs[1]);
	text = cJSON_PrintUnformatted(j);
	CHECK(text && !strstr(text, "s3cret") && strstr(text, "\"headers\":{\"Authorization\":\"***\",\"X-Scope\":\"***\"}"),
	      "otlp view: %s", text);
	free(text);
	cJSON_Delete(j);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *arr = cJSON_Parse(bad[i].json);
		int n = receivers__parse(arr, rs, 3, err, sizeof(err));

		cJSON_Delete(arr);
		CHECK(n == -EINVAL && !strcmp(err, bad[i].err), "%s: got %d '%s', want '%s'", bad[i].json, n, err,
		      bad[i].err);
	}

	/* alerts go nowhere near them: a route may not name one, the default route leaves them out */
	snprintf(path, sizeof(path), "%s", harness__tmp("alerting.json"));
	write_file(path, "{\"receivers\": [{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://127.0.0.1:4318\"}],"
		   " \"routes\": [{\"receivers\": [\"otel\"]}]}");
	CHECK(alert_config__load(path, &c, err, sizeof(err)) == -EINVAL &&
	      !strcmp(err, "routes[0]: receiver 'otel' is of type otlp, which is told of executions, not alerts"),
	      "a route to an otlp receiver: '%s'", err);
	alert_config__free(&c);
	write_file(path, "{\"receivers\": [{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://127.0.0.1:4318\"},"
		   " {\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/h\"}]}");
	if (CHECK(alert_config__load(path, &c, err, sizeof(err)) == 0, "%s", err)) {
		CHECK_EQ(c.nr_routes, 1);
		CHECK(c.routes[0].nr_receivers == 1 && !strcmp(c.routes[0].receivers[0], "hook"),
		      "the default route goes to the webhook only");
	}
	alert_config__free(&c);
	write_file(path, "{\"receivers\": [{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://127.0.0.1:4318\"}]}");
	if (CHECK(alert_config__load(path, &c, err, sizeof(err)) == 0, "%s", err))
		CHECK_EQ(c.nr_routes, 0);
	alert_config__free(&c);
}

TEST(export_otlp_payload_has_hex_ids_decimal_times_and_a_process_tree)
{
	struct notify_process procs[3] = {
		{ .pid = 1000, .ppid = 999, .comm = "make", .filename = "/usr/bin/make", .exited = true,
		  .exit_status = 3 << 8, .on_cpu_ns = 5000 },
		{ .pid = 1001, .ppid = 1000, .comm = "cc", .filename = "", .exited = true, .exit_status = SIGKILL },
		/* outlived the execution */
		{ .pid = 1002, .ppid = 1001, .comm = "daemonized" },
	};
	struct exec_record r, other;
	struct notify_execution x = { .r = &r, .procs = procs, .nprocs = 3, .host = "ci-7",
				      .external_url = "http://127.0.0.1:9470" };
	struct notify_payload p[NOTIFY_EXEC_PAYLOADS_MAX], q[NOTIFY_EXEC_PAYLOADS_MAX];
	struct receiver rc;
	const cJSON *spans, *exec, *s, *metrics, *m;
	cJSON *traces = NULL, *again = NULL, *mreq = NULL, *otrace = NULL;
	char start[24], log_trace[NOTIFY_TRACE_ID_HEX], log_span[NOTIFY_SPAN_ID_HEX];
	int n;

	record(&r, "nightly-42", "builder", "failed");
	x.start_ns = T0_MS * 1000000ULL + 123;
	x.end_ns = x.start_ns + 2500ULL * 1000000;
	procs[0].start_ns = x.start_ns + 1000;
	procs[0].end_ns = x.end_ns;
	procs[1].start_ns = x.start_ns + 2000;
	procs[1].end_ns = x.start_ns + 3000;
	procs[2].start_ns = x.start_ns + 2500;
	ASSERT(parse_receivers("[{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://h\", \"metrics\": true}]",
			       &rc, 1), "otel");
	n = notify__format_execution(&rc, &x, p, NOTIFY_EXEC_PAYLOADS_MAX);
	ASSERT(n == 2, "two payloads, got %d", n);
	CHECK_STR(p[0].kind, "traces");
	CHECK_STR(p[1].kind, "metrics");
	traces = cJSON_Parse(p[0].body);
	mreq = cJSON_Parse(p[1].body);
	ASSERT(traces && mreq, "payloads are JSON: %s", p[0].body);
	spans = spans_of(traces);
	CHECK_EQ(cJSON_GetArraySize(spans), 4);
	exec = root_span(spans);
	ASSERT(exec, "no execution span");
	CHECK(is_hex(harness__str(exec, "traceId"), 32), "trace id %s", harness__str(exec, "traceId"));
	CHECK(is_hex(harness__str(exec, "spanId"), 16), "span id %s", harness__str(exec, "spanId"));
	/* the event log names the same trace and span */
	notify__trace_ids(r.session, x.host, r.id, r.started_at_ms, log_trace, log_span);
	CHECK_STR(harness__str(exec, "traceId"), (const char *)log_trace);
	CHECK_STR(harness__str(exec, "spanId"), (const char *)log_span);
	snprintf(start, sizeof(start), "%llu", (unsigned long long)x.start_ns);
	CHECK_STR(harness__str(exec, "startTimeUnixNano"), start);
	CHECK(cJSON_IsNumber(harness__get(exec, "kind")) && harness__num(exec, "kind") == 1, "kind INTERNAL, a number");
	CHECK_EQ(harness__num(exec, "status.code"), 2);
	CHECK_STR(harness__str(exec, "status.message"), "exited with code 3");
	CHECK_STR(harness__str(exec, "name"), "compile");
	CHECK_STR(span_attr(exec, "cicd.pipeline.run.id"), "nightly-42");
	CHECK_STR(span_attr(exec, "cicd.pipeline.task.name"), "compile");
	CHECK_STR(span_attr(exec, "cicd.pipeline.task.run.id"), "42");
	CHECK_STR(span_attr(exec, "cicd.pipeline.task.run.url.full"), "http://127.0.0.1:9470/#/executions/42");
	CHECK_STR(span_attr(exec, "cicd.pipeline.task.run.result"), "failure");
	CHECK_STR(span_attr(exec, "error.type"), "exit_nonzero");
	CHECK_STR(span_attr(exec, "process.exit.code"), "3");
	CHECK_STR(span_attr(exec, "process.pid"), "1000");
	CHECK_STR(span_attr(exec, "process.creation.time"), "2026-11-21T05:28:32.000Z");
	CHECK_STR(span_attr(exec, "workerwatch.on_cpu_ns"), "1234567890");
	CHECK_STR(span_attr(exec, "workerwatch.peak_rss_bytes"), "67108864");
	CHECK_STR(span_attr(exec, "workerwatch.label.team"), "ci");
	CHECK(harness__get(exec, "attributes") && cJSON_IsString(harness__get(
		      cJSON_GetArrayItem(harness__get(exec, "attributes"), 0), "value.stringValue")), "attribute shape");
	/* the tree: make under the execution, cc under make, the orphan under cc */
	cJSON_ArrayForEach(s, spans) {
		const char *pid = span_attr(s, "process.pid"), *parent;

		if (s == exec)
			continue;
		parent = harness__str(s, "parentSpanId");
		CHECK_STR(harness__str(s, "traceId"), harness__str(exec, "traceId"));
		CHECK(is_hex(harness__str(s, "spanId"), 16) && is_hex(parent, 16), "process span ids");
		if (!strcmp(pid ?: "", "1000"))
			CHECK_STR(parent, harness__str(exec, "spanId"));
		else
			CHECK(span_by_id(spans, parent) && !strcmp(span_attr(span_by_id(spans, parent), "process.pid") ?: "",
								    span_attr(s, "process.parent_pid") ?: "-"),
			      "process %s's parent span is its parent process", pid);
		if (!strcmp(pid ?: "", "1001")) {
			CHECK_STR(span_attr(s, "workerwatch.signal"), "9");
			CHECK_STR(harness__str(s, "status.message"), "killed by SIGKILL");
			CHECK(!span_attr(s, "process.exit.code"), "a killed process has no exit code");
		}
		if (!strcmp(pid ?: "", "1002")) {
			CHECK_STR(span_attr(s, "workerwatch.process.outlived"), "true");
			CHECK_EQ(u64_of(harness__str(s, "endTimeUnixNano")), x.end_ns);
		}
	}
	CHECK_EQ(children_of(spans, harness__str(exec, "spanId")), 1);

	/* the same execution formats the same ids (a retry, a second delivery); another session another trace */
	ASSERT(notify__format_execution(&rc, &x, q, NOTIFY_EXEC_PAYLOADS_MAX) == 2, "again");
	again = cJSON_Parse(q[0].body);
	CHECK(again && cJSON_Compare(again, traces, true), "the same execution gives the same payload");
	other = r;
	snprintf(other.session, sizeof(other.session), "nightly-43");
	x.r = &other;
	free(q[0].body);
	free(q[1].body);
	ASSERT(notify__format_execution(&rc, &x, q, NOTIFY_EXEC_PAYLOADS_MAX) == 2, "other");
	otrace = cJSON_Parse(q[0].body);
	CHECK(otrace && strcmp(harness__str(root_span(spans_of(otrace)), "traceId"), harness__str(exec, "traceId")),
	      "another session is another trace");

	metrics = metrics_of(mreq);
	m = metric_named(metrics, "workerwatch.executions");
	CHECK(m && cJSON_IsTrue(harness__get(m, "sum.isMonotonic")) && harness__num(m, "sum.aggregationTemporality") == 1,
	      "executions is a delta counter");
	CHECK_STR(harness__str(cJSON_GetArrayItem(harness__get(m, "sum.dataPoints"), 0), "asInt"), "1");
	m = metric_named(metrics, "workerwatch.execution.duration");
	s = cJSON_GetArrayItem(harness__get(m, "histogram.dataPoints"), 0);
	CHECK(s && harness__num(s, "sum") == 2.5 && !strcmp(harness__str(s, "count"), "1"), "duration histogram");
	CHECK_EQ(cJSON_GetArraySize(harness__get(s, "bucketCounts")), cJSON_GetArraySize(harness__get(s, "explicitBounds")) + 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(harness__get(s, "bucketCounts"), 3)), "1");	/* (1, 5] */
	CHECK_STR(attr(harness__get(s, "attributes"), "error.type"), "exit_nonzero");
	m = metric_named(metrics, "workerwatch.execution.network.io");
	CHECK_EQ(cJSON_GetArraySize(harness__get(m, "sum.dataPoints")), 2);
	cJSON_Delete(traces);
	cJSON_Delete(again);
	cJSON_Delete(otrace);
	cJSON_Delete(mreq);
	for (int i = 0; i < 2; i++) {
		free(p[i].body);
		free(q[i].body);
	}
}

TEST(export_statsd_lines_name_or_tag_agent_and_status)
{
	struct receiver rs[2];
	struct exec_record r;
	struct notify_execution x = { .r = &r, .host = "ci 7" };
	struct notify_payload p;

	record(&r, "s", "my agent.v2", "failed");
	ASSERT(parse_receivers("[{\"name\": \"sd\", \"type\": \"statsd\", \"url\": \"udp://127.0.0.1:8125\"},"
			       " {\"name\": \"dd\", \"type\": \"statsd\", \"url\": \"udp://127.0.0.1:8125\","
			       "  \"prefix\": \"ci.ww\", \"dogstatsd\": true}]", rs, 2), "statsd");
	ASSERT(notify__format_execution(&rs[0], &x, &p, 1) == 1, "plain");
	CHECK_STR(p.kind, "statsd");
	CHECK_STR(p.body, "workerwatch.execution.my_agent_v2.failed.count:1|c\n"
			  "workerwatch.execution.my_agent_v2.failed.duration:2500|ms\n"
			  "workerwatch.execution.my_agent_v2.failed.cpu_time:1234.568|ms\n"
			  "workerwatch.execution.my_agent_v2.failed.peak_rss_bytes:67108864|h\n"
			  "workerwatch.execution.my_agent_v2.failed.peak_memory_bytes:50331648|h\n"
			  "workerwatch.execution.my_agent_v2.failed.syscalls:4321|h\n");
	free(p.body);
	ASSERT(notify__format_execution(&rs[1], &x, &p, 1) == 1, "dogstatsd");
	CHECK_STR(p.body, "ci.ww.execution.count:1|c|#agent:my_agent.v2,status:failed,host:ci_7,failure:exit_nonzero\n"
			  "ci.ww.execution.duration:2500|ms|#agent:my_agent.v2,status:failed,host:ci_7,failure:exit_nonzero\n"
			  "ci.ww.execution.cpu_time:1234.568|ms|#agent:my_agent.v2,status:failed,host:ci_7,failure:exit_nonzero\n"
			  "ci.ww.execution.peak_rss_bytes:67108864|h|#agent:my_agent.v2,status:failed,host:ci_7,failure:exit_nonzero\n"
			  "ci.ww.execution.peak_memory_bytes:50331648|h|#agent:my_agent.v2,status:failed,host:ci_7,failure:exit_nonzero\n"
			  "ci.ww.execution.syscalls:4321|h|#agent:my_agent.v2,status:failed,host:ci_7,failure:exit_nonzero\n");
	free(p.body);
}

static int count_tracking(__u64 exec_id, __u64 kernel_id, void *ctx)
{
	(void)exec_id;
	(void)kernel_id;
	(*(int *)ctx)++;
	return 0;
}

TEST(export_store_queues_an_end_with_the_end_of_its_tracking)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct outbox_new rows[2] = {
		{ "otel", "execution:1", "traces", "{}", "d-1" },
		{ "otel", "execution:1", "metrics", "{}", "d-2" },
	};
	struct outbox_new broken = { NULL, "execution:1", "traces", "{}", "d-3" };
	struct outbox_row *out = NULL;
	struct exec_record r;
	int tracked = 0, n = 0;

	ASSERT(s, "cannot open the store: %s", store__errmsg(NULL));
	record(&r, "s", "a", "running");
	r.id = 0;
	ASSERT(store__upsert_tracked(s, &r, NULL, 0, 77) == 0, "%s", store__errmsg(s));
	/* a row the schema refuses: neither the rows nor the end of tracking are kept */
	CHECK(store__queue_execution_end(s, r.id, &broken, 1, 1000) < 0, "a row without receiver was stored");
	store__foreach_tracking(s, count_tracking, &tracked);
	CHECK_EQ(tracked, 1);
	CHECK(store__queue_execution_end(s, r.id, rows, 2, 1000) == 0, "%s", store__errmsg(s));
	tracked = 0;
	store__foreach_tracking(s, count_tracking, &tracked);
	CHECK_EQ(tracked, 0);
	CHECK(store__outbox_list(s, "pending", "otel", -1, &out, &n) == 0 && n == 2, "2 pending rows, got %d", n);
	outbox_rows__free(out, n);
	store__close(s);
}

/* ---- the real daemon ---- */

/* The OTLP decoder (tests/otlp/receiver.mjs) on loopback. */
struct otlp_recv {
	int pid;
	int port;
	char out[300];
};

static bool otlp_setup(void)
{
	struct cmd_result r;
	bool ok;

	if (!CHECK(access(OTLP_DIR "/receiver.mjs", R_OK) == 0, "no %s: run the tests from the repository's root",
		   OTLP_DIR "/receiver.mjs"))
		return false;
	harness__run((char *[]){ "/bin/bash", OTLP_DIR "/setup.sh", NULL }, SETUP_TIMEOUT_S, &r);
	ok = CHECK(r.exit_code == 0, "%s/setup.sh failed:\n%s%s", OTLP_DIR, r.out, r.err);
	harness__free_result(&r);
	return ok;
}

/* Starts the decoder (on port when not 0), answering script's statuses first (NULL: all 200). */
static bool otlp_start(struct otlp_recv *rc, int port, const char *script)
{
	char portfile[300], portarg[16];
	char *argv[10] = { "/usr/bin/env", "node", OTLP_DIR "/receiver.mjs", portfile, rc->out };
	int n = 5;

	snprintf(portfile, sizeof(portfile), "%s", harness__tmp("otlp.port"));
	if (!rc->out[0])
		snprintf(rc->out, sizeof(rc->out), "%s", harness__tmp("otlp.jsonl"));
	unlink(portfile);
	if (port) {
		snprintf(portarg, sizeof(portarg), "%d", port);
		argv[n++] = "--port";
		argv[n++] = portarg;
	}
	if (script) {
		argv[n++] = "--script";
		argv[n++] = (char *)script;
	}
	argv[n] = NULL;
	rc->pid = harness__spawn(argv, harness__tmp("otlp.log"));
	if (!CHECK(rc->pid > 0 && harness__wait_file(portfile, 20000), "the OTLP decoder did not start"))
		return false;
	rc->port = (int)harness__read_long(portfile);
	return CHECK(rc->port > 0, "no port in %s", portfile);
}

static void otlp_stop(struct otlp_recv *rc)
{
	if (rc->pid > 0) {
		kill(rc->pid, SIGTERM);
		harness__wait(rc->pid, 10);
	}
	rc->pid = 0;
}

/* The decoder's lines, once there are at least n (or after WAIT_MS): a JSON array to delete. */
static cJSON *otlp_lines(const struct otlp_recv *rc, int n)
{
	cJSON *arr = NULL;

	for (int waited = 0; waited <= WAIT_MS; waited += 100) {
		char *text = wwd_read_file(rc->out), *save = NULL;

		cJSON_Delete(arr);
		arr = cJSON_CreateArray();
		for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
			cJSON_AddItemToArray(arr, cJSON_Parse(l) ?: cJSON_CreateNull());
		free(text);
		if (cJSON_GetArraySize(arr) >= n)
			break;
		wwd_sleep_ms(100);
	}
	return arr;
}

/* `workerwatch run` of wwload ARGS..., registered with the daemon; wwload's report (its ground truth). */
static cJSON *run_load(const struct wwd *d, const char *session, const char *agent, const char *task, ...)
{
	char *argv[32] = { (char *)wwd_bin("workerwatch"), "run", "--server", (char *)d->url, "--token-file",
			   (char *)d->token, "--session", (char *)session, "--agent", (char *)agent };
	int n = 10;
	struct cmd_result r;
	cJSON *report;
	va_list ap;

	if (task) {
		argv[n++] = "--task";
		argv[n++] = (char *)task;
	}
	argv[n++] = "--";
	argv[n++] = (char *)wwd_bin("wwload");
	va_start(ap, task);
	for (char *a = va_arg(ap, char *); a && n < 31; a = va_arg(ap, char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	harness__run(argv, 120, &r);
	CHECK(r.err && strstr(r.err, "Registered with the daemon"), "%s/%s was not registered:\n%s", session, agent,
	      r.err ?: "");
	/* a crash reports nothing */
	report = r.out && strchr(r.out, '{') ? harness__parse_last_json_line(r.out) : NULL;
	harness__free_result(&r);
	return report;
}

static const cJSON *execution_of(const cJSON *list, const char *agent)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, list)
		if (!strcmp(harness__str(e, "agent"), agent))
			return e;
	return NULL;
}

/* The decoded trace request (answered 200) whose execution span is execution id; NULL when none. */
static const cJSON *trace_of(const cJSON *lines, double id)
{
	const cJSON *l;
	char want[24];

	snprintf(want, sizeof(want), "%.0f", id);
	cJSON_ArrayForEach(l, lines) {
		const cJSON *req = harness__get(l, "request");

		if (!strcmp(harness__str(l, "path"), "/v1/traces") && harness__num(l, "status") == 200 &&
		    !strcmp(span_attr(root_span(spans_of(req)), "cicd.pipeline.task.run.id") ?: "", want))
			return req;
	}
	return NULL;
}

/* The span of an execution against what the daemon's API says of it. */
static void check_exec_span(const cJSON *spans, const cJSON *e, const char *result, const char *error_type)
{
	const cJSON *span = root_span(spans), *metrics = harness__get(e, "metrics"), *m;
	__u64 started_ms = 0, start, end;
	char name[96], text[32];

	ASSERT(span, "no execution span");
	CHECK_STR(span_attr(span, "cicd.pipeline.run.id"), harness__str(e, "session"));
	CHECK_STR(span_attr(span, "cicd.pipeline.task.run.result"), result);
	CHECK_STR(span_attr(span, "workerwatch.agent"), harness__str(e, "agent"));
	CHECK_STR(span_attr(span, "workerwatch.status"), harness__str(e, "status"));
	snprintf(text, sizeof(text), "%.0f", harness__num(e, "pid"));
	CHECK_STR(span_attr(span, "process.pid"), text);
	if (error_type) {
		CHECK_STR(span_attr(span, "error.type"), error_type);
		CHECK_EQ(harness__num(span, "status.code"), 2);
	} else {
		CHECK(!span_attr(span, "error.type") && !harness__get(span, "status"), "a success has no error");
	}
	/* every summary metric the API shows, the same number */
	cJSON_ArrayForEach(m, metrics) {
		snprintf(name, sizeof(name), "workerwatch.%s", m->string);
		snprintf(text, sizeof(text), "%.0f", m->valuedouble);
		CHECK(span_attr(span, name) && !strcmp(span_attr(span, name), text), "%s: %s, the API says %s", name,
		      span_attr(span, name) ?: "(none)", text);
	}
	/* the span's times are the execution's, in nanoseconds */
	clock__parse_rfc3339(harness__str(e, "started_at"), &started_ms);
	start = u64_of(harness__str(span, "startTimeUnixNano"));
	end = u64_of(harness__str(span, "endTimeUnixNano"));
	CHECK(start / 1000000 == started_ms, "span starts at %llu ms, the execution at %llu",
	      (unsigned long long)(start / 1000000), (unsigned long long)started_ms);
	CHECK((end - start + 500000) / 1000000 >= (__u64)harness__num(e, "duration_ms") &&
	      (end - start) / 1000000 <= (__u64)harness__num(e, "duration_ms") + 1,
	      "span lasts %llu ns, the execution %.0f ms", (unsigned long long)(end - start), harness__num(e, "duration_ms"));
}

KERNEL_TEST(export_otlp_traces_and_metrics_decode_with_the_official_protos)
{
	struct otlp_recv rc = {};
	struct wwd d = {};
	char config[300], *text = NULL;
	cJSON *tree_report = NULL, *lines = NULL, *a = NULL, *b = NULL, *recv = NULL, *notes = NULL;
	const cJSON *l, *e, *spans, *req, *first = NULL, *s;
	bool daemon = false;
	int bad = 0, sent = 0, retried = 0, n;

	if (!otlp_setup() || !otlp_start(&rc, 0, "503"))
		goto out;
	snprintf(config, sizeof(config), "%s", harness__tmp("config.json"));
	write_file(config, "{\"receivers\": [{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://127.0.0.1:%d\","
		   " \"metrics\": true, \"headers\": {\"Authorization\": \"Bearer t0k\"}}]}\n", rc.port);
	daemon = wwd_start_opts(&d, config);
	if (!CHECK(daemon, "no daemon"))
		goto out;

	tree_report = run_load(&d, "otlp-a", "tree", "build", "tree", "2", "2", NULL);
	cJSON_Delete(run_load(&d, "otlp-a", "checker", NULL, "exit", "3", NULL));
	cJSON_Delete(run_load(&d, "otlp-b", "crasher", NULL, "crash", NULL));
	CHECK_EQ(wwd_api(&d, "POST", "/api/v1/receivers/otel/test", "{}", true, NULL), 202);
	a = wwd_ended_executions(&d, "otlp-a", 2, WAIT_MS);
	b = wwd_ended_executions(&d, "otlp-b", 1, WAIT_MS);
	/* three executions and the test, each a trace and metrics; the first request answered 503, then again */
	lines = otlp_lines(&rc, 9);
	ASSERT(cJSON_GetArraySize(lines) == 9, "the decoder got %d requests, wanted 9", cJSON_GetArraySize(lines));

	cJSON_ArrayForEach(l, lines) {
		const cJSON *err;

		if (!cJSON_IsTrue(harness__get(l, "ok"))) {
			bad++;
			cJSON_ArrayForEach(err, harness__get(l, "errors"))
				CHECK(false, "%s: %s", harness__str(l, "path"), err->valuestring);
		}
		CHECK_STR(harness__str(l, "authorization"), "Bearer t0k");
		CHECK(!strncmp(harness__str(l, "user_agent"), "workerwatch/", 12), "user agent %s", harness__str(l, "user_agent"));
		if (harness__num(l, "status") == 503)
			first = l;
	}
	CHECK_EQ(bad, 0);
	/* the 503 was retried with the same payload */
	ASSERT(first, "no request was answered 503");
	cJSON_ArrayForEach(l, lines)
		if (l != first && !strcmp(harness__str(l, "path"), harness__str(first, "path")) &&
		    cJSON_Compare(harness__get(l, "request"), harness__get(first, "request"), true))
			retried++;
	CHECK_EQ(retried, 1);

	/* the tree: a span per process, in the tree wwload built (depth 2, width 2) */
	e = execution_of(a, "tree");
	ASSERT(e && tree_report, "no tree execution");
	req = trace_of(lines, harness__num(e, "id"));
	ASSERT(req, "no trace of the tree execution");
	spans = spans_of(req);
	check_exec_span(spans, e, "success", NULL);
	CHECK_STR(span_attr(root_span(spans), "cicd.pipeline.task.name"), "build");
	CHECK_STR(span_attr(root_span(spans), "process.exit.code"), "0");
	CHECK_EQ(cJSON_GetArraySize(spans) - 1, harness__num(tree_report, "processes"));
	CHECK_EQ(cJSON_GetArraySize(spans) - 1, harness__num(e, "metrics.process_count"));
	CHECK_EQ(children_of(spans, harness__str(root_span(spans), "spanId")), 1);
	cJSON_ArrayForEach(s, spans) {
		const cJSON *ps;

		if (s == root_span(spans))
			continue;
		ps = span_by_id(spans, harness__str(s, "parentSpanId"));
		CHECK_STR(harness__str(s, "traceId"), harness__str(root_span(spans), "traceId"));
		CHECK_STR(span_attr(s, "process.exit.code"), "0");
		if (ps == root_span(spans)) {
			snprintf(config, sizeof(config), "%.0f", harness__num(e, "pid"));
			CHECK_STR(span_attr(s, "process.pid"), config);
			CHECK_EQ(children_of(spans, harness__str(s, "spanId")), 2);
		} else {
			CHECK(ps && !strcmp(span_attr(ps, "process.pid") ?: "", span_attr(s, "process.parent_pid") ?: "-"),
			      "process %s: its parent span is not its parent process", span_attr(s, "process.pid"));
			n = children_of(spans, harness__str(s, "spanId"));
			CHECK(n == 0 || n == 2, "a process of the tree has 0 or 2 children, not %d", n);
		}
	}

	/* a failure: exit code 3, in the same trace as the tree (one session, one trace) */
	e = execution_of(a, "checker");
	req = trace_of(lines, e ? harness__num(e, "id") : -1);
	ASSERT(e && req, "no trace of the failed execution");
	check_exec_span(spans_of(req), e, "failure", "exit_nonzero");
	CHECK_STR(span_attr(root_span(spans_of(req)), "process.exit.code"), "3");
	CHECK_STR(harness__str(root_span(spans_of(req)), "traceId"), harness__str(root_span(spans), "traceId"));

	/* a crash: a signal, another session's trace */
	e = execution_of(b, "crasher");
	req = trace_of(lines, e ? harness__num(e, "id") : -1);
	ASSERT(e && req, "no trace of the crashed execution");
	check_exec_span(spans_of(req), e, "failure", "crashed");
	CHECK_STR(span_attr(root_span(spans_of(req)), "workerwatch.signal"), "11");
	CHECK(!span_attr(root_span(spans_of(req)), "process.exit.code"), "a crash has no exit code");
	CHECK(strcmp(harness__str(root_span(spans_of(req)), "traceId"), harness__str(root_span(spans), "traceId")),
	      "two sessions share a trace");

	/* metrics: one request per execution, numbers as the API has them */
	n = 0;
	cJSON_ArrayForEach(l, lines) {
		const cJSON *m, *p, *x;
		const char *agent;

		if (strcmp(harness__str(l, "path"), "/v1/metrics") || harness__num(l, "status") != 200)
			continue;
		m = metric_named(metrics_of(harness__get(l, "request")), "workerwatch.executions");
		p = cJSON_GetArrayItem(harness__get(m, "sum.dataPoints"), 0);
		agent = attr(harness__get(p, "attributes"), "workerwatch.agent");
		CHECK_STR(harness__str(p, "asInt"), "1");
		x = execution_of(a, agent ?: "") ?: execution_of(b, agent ?: "");
		if (!x) {
			CHECK_STR(agent, "workerwatch-test");
			continue;
		}
		n++;
		CHECK_STR(attr(harness__get(p, "attributes"), "workerwatch.status"), harness__str(x, "status"));
		m = metric_named(metrics_of(harness__get(l, "request")), "workerwatch.execution.syscalls");
		snprintf(config, sizeof(config), "%.0f", harness__num(x, "metrics.syscalls"));
		CHECK_STR(harness__str(cJSON_GetArrayItem(harness__get(m, "sum.dataPoints"), 0), "asInt"), config);
		m = metric_named(metrics_of(harness__get(l, "request")), "workerwatch.execution.duration");
		CHECK(harness__num(cJSON_GetArrayItem(harness__get(m, "histogram.dataPoints"), 0), "sum") ==
		      harness__num(x, "duration_ms") / 1e3, "%s: duration", agent);
		m = metric_named(metrics_of(harness__get(l, "request")), "workerwatch.execution.memory.peak");
		CHECK(harness__num(cJSON_GetArrayItem(harness__get(m, "histogram.dataPoints"), 0), "sum") ==
		      harness__num(x, "metrics.peak_memory_bytes"), "%s: peak memory", agent);
	}
	CHECK_EQ(n, 3);
	CHECK(trace_of(lines, 0), "the receiver's test went out as a trace");

	/* the API shows the receiver without its header values, and what it delivered */
	CHECK_EQ(wwd_api(&d, "GET", "/api/v1/receivers", NULL, true, &recv), 200);
	text = cJSON_PrintUnformatted(recv);
	CHECK(text && strstr(text, "\"type\":\"otlp\"") && strstr(text, "\"Authorization\":\"***\"") && !strstr(text, "t0k"),
	      "receivers: %s", text);
	CHECK_EQ(wwd_api(&d, "GET", "/api/v1/notifications?receiver=otel&state=sent", NULL, true, &notes), 200);
	CHECK_EQ(cJSON_GetArraySize(notes), 8);
	cJSON_ArrayForEach(l, notes)
		sent += harness__num(l, "attempts") == 2;
	CHECK_EQ(sent, 1);
out:
	free(text);
	cJSON_Delete(recv);
	cJSON_Delete(notes);
	cJSON_Delete(tree_report);
	cJSON_Delete(lines);
	cJSON_Delete(a);
	cJSON_Delete(b);
	if (daemon)
		wwd_stop(&d, SIGTERM);
	otlp_stop(&rc);
}

/* A port nobody listens on now: the kernel picks it for a socket that is closed again. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

KERNEL_TEST(export_otlp_queued_exports_survive_kill_9)
{
	struct otlp_recv rc = {};
	struct wwd d = {};
	char config[300];
	cJSON *list = NULL, *lines = NULL, *pending = NULL;
	const cJSON *e, *l;
	int port = free_port(), found = 0;
	bool daemon = false;

	ASSERT(port > 0, "no free port");
	if (!otlp_setup())
		return;
	snprintf(config, sizeof(config), "%s", harness__tmp("config.json"));
	write_file(config, "{\"receivers\": [{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://127.0.0.1:%d\"}]}\n",
		   port);
	daemon = wwd_start_opts(&d, config);
	if (!CHECK(daemon, "no daemon"))
		goto out;
	/* nobody listens yet: the export waits in the outbox, and the daemon dies */
	cJSON_Delete(run_load(&d, "otlp-kill", "worker", NULL, "exit", "0", NULL));
	list = wwd_ended_executions(&d, "otlp-kill", 1, WAIT_MS);
	e = execution_of(list, "worker");
	ASSERT(e, "no execution");
	for (int waited = 0; waited <= WAIT_MS; waited += 100) {
		cJSON_Delete(pending);
		pending = NULL;
		if (wwd_api(&d, "GET", "/api/v1/notifications?receiver=otel&state=pending", NULL, true, &pending) == 200 &&
		    cJSON_GetArraySize(pending) == 1 && harness__num(cJSON_GetArrayItem(pending, 0), "attempts") >= 1)
			break;
		wwd_sleep_ms(100);
	}
	CHECK(cJSON_GetArraySize(pending) == 1, "the export is not pending after a failed attempt");
	wwd_stop(&d, SIGKILL);
	daemon = false;
	if (!otlp_start(&rc, port, NULL))
		goto out;
	daemon = wwd_start_opts(&d, config);
	if (!CHECK(daemon, "no daemon after the kill"))
		goto out;
	lines = otlp_lines(&rc, 1);
	cJSON_ArrayForEach(l, lines) {
		CHECK(cJSON_IsTrue(harness__get(l, "ok")), "a request did not decode");
		found++;
	}
	CHECK_EQ(found, 1);
	CHECK(trace_of(lines, harness__num(e, "id")), "the trace sent after the restart is not the execution's");
out:
	cJSON_Delete(list);
	cJSON_Delete(lines);
	cJSON_Delete(pending);
	if (daemon)
		wwd_stop(&d, SIGTERM);
	otlp_stop(&rc);
}

/* ---- StatsD ---- */

static int udp_listener(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || getsockname(fd, (struct sockaddr *)&sa, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Appends what arrives on fd to buf until it holds n lines or WAIT_MS passed; returns the line count. */
static int udp_collect(int fd, char *buf, size_t size, int n)
{
	size_t len = strlen(buf);
	int lines = 0;

	for (int waited = 0; waited <= WAIT_MS && lines < n; waited += 100) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		while (poll(&p, 1, 100) == 1 && len + 1 < size) {
			ssize_t got = recv(fd, buf + len, size - len - 2, 0);

			if (got <= 0)
				break;
			len += (size_t)got;
			/* a datagram's last line has no newline */
			buf[len++] = '\n';
			buf[len] = '\0';
		}
		lines = 0;
		for (const char *c = buf; *c; c++)
			lines += *c == '\n';
	}
	return lines;
}

/* NAME:VALUE|TYPE[|#TAGS], each part as StatsD and DogStatsD define them. */
static bool parse_statsd(char *line, char **name, double *value, char **type, char **tags)
{
	char *colon = strchr(line, ':'), *bar, *end;

	if (!colon || colon == line)
		return false;
	*colon = '\0';
	*name = line;
	for (char *c = line; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("_.-", *c)))
			return false;
	errno = 0;
	*value = strtod(colon + 1, &end);
	if (errno || end == colon + 1 || *end != '|')
		return false;
	*type = end + 1;
	bar = strchr(*type, '|');
	*tags = NULL;
	if (bar) {
		*bar = '\0';
		if (bar[1] != '#' || !bar[2])
			return false;
		*tags = bar + 2;
	}
	return !strcmp(*type, "c") || !strcmp(*type, "ms") || !strcmp(*type, "h");
}

/* What the API says of metric leaf for execution e, as the receiver sends it. */
static double statsd_want(const cJSON *e, const char *leaf)
{
	if (!strcmp(leaf, "count"))
		return 1;
	if (!strcmp(leaf, "duration"))
		return harness__num(e, "duration_ms");
	if (!strcmp(leaf, "cpu_time"))
		return harness__num(e, "metrics.on_cpu_ns") / 1e6;
	if (!strcmp(leaf, "peak_rss_bytes"))
		return harness__num(e, "metrics.peak_rss_bytes");
	if (!strcmp(leaf, "peak_memory_bytes"))
		return harness__num(e, "metrics.peak_memory_bytes");
	if (!strcmp(leaf, "syscalls"))
		return harness__num(e, "metrics.syscalls");
	return -1;
}

KERNEL_TEST(export_statsd_lines_over_udp_parse_and_match_the_executions)
{
	static const char *const leaves[] = { "count", "duration", "cpu_time", "peak_rss_bytes", "peak_memory_bytes",
					      "syscalls" };
	static const char *const types[] = { "c", "ms", "ms", "h", "h", "h" };
	char config[300], host[128], plain[8192] = "", dog[8192] = "";
	int fd_plain, fd_dog, port_plain = 0, port_dog = 0, matched = 0;
	struct wwd d = {};
	cJSON *list = NULL;
	bool daemon = false;

	fd_plain = udp_listener(&port_plain);
	fd_dog = udp_listener(&port_dog);
	ASSERT(fd_plain >= 0 && fd_dog >= 0, "no UDP listeners");
	gethostname(host, sizeof(host));
	snprintf(config, sizeof(config), "%s", harness__tmp("config.json"));
	write_file(config, "{\"receivers\": [{\"name\": \"sd\", \"type\": \"statsd\", \"url\": \"udp://127.0.0.1:%d\"},"
		   " {\"name\": \"dd\", \"type\": \"statsd\", \"url\": \"udp://127.0.0.1:%d\", \"prefix\": \"ci.ww\","
		   " \"dogstatsd\": true}]}\n", port_plain, port_dog);
	daemon = wwd_start_opts(&d, config);
	if (!CHECK(daemon, "no daemon"))
		goto out;
	cJSON_Delete(run_load(&d, "statsd", "build.v2", NULL, "cpu", "200", NULL));
	cJSON_Delete(run_load(&d, "statsd", "tester", NULL, "exit", "3", NULL));
	list = wwd_ended_executions(&d, "statsd", 2, WAIT_MS);
	CHECK_EQ(udp_collect(fd_plain, plain, sizeof(plain), 12), 12);
	CHECK_EQ(udp_collect(fd_dog, dog, sizeof(dog), 12), 12);

	for (int which = 0; which < 2; which++) {
		char *save = NULL, *buf = which ? dog : plain;

		for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char copy[512], *name = NULL, *type = NULL, *tags = NULL, want_name[256], want_tags[512];
			const cJSON *e;
			double value = 0;
			bool ok = false;

			snprintf(copy, sizeof(copy), "%s", line);
			if (!CHECK(parse_statsd(copy, &name, &value, &type, &tags), "not a StatsD line: '%s'", line))
				continue;
			CHECK(which ? tags != NULL : tags == NULL, "tags only with dogstatsd: '%s'", line);
			for (int x = 0; x < 2 && !ok; x++) {
				e = cJSON_GetArrayItem(list, x);
				for (size_t k = 0; k < sizeof(leaves) / sizeof(leaves[0]) && !ok; k++) {
					const char *agent = harness__str(e, "agent"), *status = harness__str(e, "status");

					if (which) {
						snprintf(want_name, sizeof(want_name), "ci.ww.execution.%s", leaves[k]);
						snprintf(want_tags, sizeof(want_tags), "agent:%s,status:%s,host:%s%s", agent, status,
							 host, !strcmp(status, "failed") ? ",failure:exit_nonzero" : "");
						ok = !strcmp(name, want_name) && tags && !strcmp(tags, want_tags);
					} else {
						snprintf(want_name, sizeof(want_name), "workerwatch.execution.%s.%s.%s",
							 !strcmp(agent, "build.v2") ? "build_v2" : agent, status, leaves[k]);
						ok = !strcmp(name, want_name);
					}
					if (!ok)
						continue;
					CHECK_STR(type, types[k]);
					CHECK(value > statsd_want(e, leaves[k]) - 0.001 && value < statsd_want(e, leaves[k]) + 0.001,
					      "%s: %f, the API says %f", line, value, statsd_want(e, leaves[k]));
					matched++;
				}
			}
			CHECK(ok, "a line of no execution: '%s'", line);
		}
	}
	CHECK_EQ(matched, 24);
out:
	cJSON_Delete(list);
	if (daemon)
		wwd_stop(&d, SIGTERM);
	close(fd_plain);
	close(fd_dog);
}
