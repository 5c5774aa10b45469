// SPDX-License-Identifier: MIT
/*
 * Unit tests of the alert engine: states, hysteresis, N-of-M, acknowledgements,
 * escalation, silences, restarts. Series come from a scripted source and time
 * is the engine's parameter, so these run instantly; notifications are read
 * back from the real outbox in a real SQLite file.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include "alerts/alerts.h"
#include "harness.h"
#include "history/store.h"

#define SEC	1000ULL
#define MAX_SERIES 4

/*
 * Time is the engine's parameter: tests start from now (so the sender treats
 * rows as fresh) and move it themselves.
 */
static __u64 t0(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000;
}

/* The scripted source: execution-level series of one metric. */
static struct {
	const char *metric;
	int n;
	__u64 exec_id[MAX_SERIES];
	char agent[MAX_SERIES][32];
	double value[MAX_SERIES];	/* NaN: the series is absent */
	int changes;
	char last_state[64];
} src;

static int gauges(void *ctx, __u64 now_ms, const struct alert_rule *rules, int nr, struct alert_point **out)
{
	struct alert_point *p = calloc(MAX_SERIES, sizeof(*p));
	int n = 0;

	(void)ctx, (void)now_ms, (void)rules, (void)nr;
	for (int i = 0; i < src.n && p; i++) {
		if (isnan(src.value[i]))
			continue;
		p[n].metric = src.metric;
		p[n].level = LEVEL_EXECUTION;
		snprintf(p[n].session, sizeof(p[n].session), "s1");
		snprintf(p[n].agent, sizeof(p[n].agent), "%s", src.agent[i]);
		p[n].execution_id = src.exec_id[i];
		p[n].value = src.value[i];
		n++;
	}
	*out = p;
	return n;
}

static void changed(void *ctx, const cJSON *alert)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(alert, "state");

	(void)ctx;
	src.changes++;
	snprintf(src.last_state, sizeof(src.last_state), "%s", cJSON_IsString(st) ? st->valuestring : "?");
}

static void set_series(const char *metric, int n)
{
	memset(&src, 0, sizeof(src));
	src.metric = metric;
	src.n = n;
	for (int i = 0; i < n; i++) {
		src.exec_id[i] = 100 + i;
		snprintf(src.agent[i], sizeof(src.agent[i]), "builder%d", i);
		src.value[i] = NAN;
	}
}

/* An engine over a fresh store, from config JSON (receivers point at a closed port: rows stay queued). */
static struct alerts *engine(struct store *s, const char *config_json)
{
	struct alert_config cfg;
	struct alert_source as = { .gauges = gauges, .changed = changed };
	const char *path = harness__tmp("alerts.json");
	FILE *f = fopen(path, "w");
	char err[512];
	struct alerts *a;

	fputs(config_json, f);
	fclose(f);
	if (!CHECK(!alert_config__load(path, &cfg, err, sizeof(err)), "config: %s", err))
		return NULL;
	a = alerts__new(&cfg, s, &as, err, sizeof(err));
	CHECK(a != NULL, "alerts__new: %s", err);
	return a;
}

/* Outbox rows of receiver with kind ("" any). */
static int rows_of(struct store *s, const char *receiver, const char *kind)
{
	struct outbox_row *rows = NULL;
	int n = 0, count = 0;

	CHECK(!store__outbox_list(s, NULL, receiver, 1000, &rows, &n), "outbox_list: %s", store__errmsg(s));
	for (int i = 0; i < n; i++)
		count += !kind[0] || !strcmp(rows[i].kind, kind);
	outbox_rows__free(rows, n);
	return count;
}

/* The one alert of the engine, or NULL. */
static cJSON *only_alert(struct alerts *a, __u64 now)
{
	cJSON *arr = alerts__list_json(a, NULL, NULL, NULL, now), *first;

	first = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	return first;
}

static const char *state_of(struct alerts *a, __u64 now, char *buf, size_t size)
{
	cJSON *x = only_alert(a, now);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(x, "state");

	snprintf(buf, size, "%s", cJSON_IsString(st) ? st->valuestring : "none");
	cJSON_Delete(x);
	return buf;
}

#define HOOK_CONFIG(rules, route_extra)								\
	"{\"evaluation_interval\": \"2s\", \"rules\": [" rules "],"				\
	" \"receivers\": [{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/h\"},"	\
	"                {\"name\": \"pd\", \"type\": \"pagerduty\", \"routing_key\": \"0123456789abcdef0123456789abcdef\","	\
	"                 \"url\": \"http://127.0.0.1:1/pd\"}],"					\
	" \"routes\": [{\"receivers\": [\"hook\"], \"group_by\": [\"alertname\", \"agent\"],"	\
	"              \"group_wait\": \"0s\", \"group_interval\": \"5s\"" route_extra "}]}"

#define CPU_RULE(extra)										\
	"{\"id\": \"cpu-hot\", \"alertname\": \"WorkerHighCPU\", \"metric\": \"cpu_percent\","	\
	" \"op\": \">\", \"threshold\": 50" extra "}"

/* Evaluates every 2 s from *t for seconds with the series at v. */
static void run(struct alerts *a, __u64 *t, int seconds, double v)
{
	for (int s = 0; s < seconds; s += 2) {
		src.value[0] = v;
		*t += 2 * SEC;
		alerts__tick(a, *t);
	}
}

TEST(alert_flapping_metric_pages_once)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, HOOK_CONFIG(CPU_RULE(", \"clear_threshold\": 40, \"for\": \"4s\","
							  " \"keep_firing_for\": \"10s\""), ""));
	/* crosses 50 on every other evaluation, dips under the clear threshold now and then */
	static const double flaps[] = { 55, 45, 62, 48, 38, 57, 44, 71, 36, 52, 47, 66, 39, 58 };
	__u64 t = t0();
	char st[32];
	bool saw_resolving = false;

	ASSERT(a, "no engine");
	set_series("cpu_percent", 1);
	run(a, &t, 2, 80);
	CHECK_STR(state_of(a, t, st, sizeof(st)), "pending");
	CHECK_EQ(rows_of(s, "hook", ""), 0);
	run(a, &t, 4, 80);
	CHECK_STR(state_of(a, t, st, sizeof(st)), "firing");
	CHECK_EQ(rows_of(s, "hook", "firing"), 1);
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(flaps) / sizeof(flaps[0]); i++) {
			run(a, &t, 2, flaps[i]);
			saw_resolving |= !strcmp(state_of(a, t, st, sizeof(st)), "resolving");
			CHECK(strcmp(st, "resolved"), "resolved during flapping at %.0f", flaps[i]);
		}
	CHECK(saw_resolving, "the alert never showed keep_firing_for's resolving state");
	CHECK_EQ(rows_of(s, "hook", "firing"), 1);
	CHECK_EQ(rows_of(s, "hook", "resolved"), 0);
	/* a real clear: below 40 for longer than keep_firing_for */
	run(a, &t, 14, 10);
	CHECK_STR(state_of(a, t, st, sizeof(st)), "resolved");
	run(a, &t, 6, 10);	/* group_interval passes: the resolve is sent */
	CHECK_EQ(rows_of(s, "hook", "firing"), 1);
	CHECK_EQ(rows_of(s, "hook", "resolved"), 1);
	alerts__free(a);
	store__close(s);
}

TEST(alert_without_hysteresis_pages_on_each_crossing)
{
	/* the control for the test above: the same input without for/clear/keep pages repeatedly */
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, HOOK_CONFIG(CPU_RULE(""), ""));
	__u64 t = t0();

	ASSERT(a, "no engine");
	set_series("cpu_percent", 1);
	for (int i = 0; i < 6; i++) {
		run(a, &t, 6, 80);
		run(a, &t, 6, 10);
	}
	CHECK(rows_of(s, "hook", "firing") >= 5, "only %d firing notifications", rows_of(s, "hook", "firing"));
	alerts__free(a);
	store__close(s);
}

TEST(alert_n_of_m)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, HOOK_CONFIG(CPU_RULE(", \"min_occurrences\": {\"count\": 3, \"of\": 5}"), ""));
	__u64 t = t0();
	char st[32];

	ASSERT(a, "no engine");
	set_series("cpu_percent", 1);
	run(a, &t, 2, 80);
	run(a, &t, 2, 10);
	run(a, &t, 2, 80);
	CHECK_STR(state_of(a, t, st, sizeof(st)), "pending");
	run(a, &t, 2, 80);	/* 3 of the last 5 */
	CHECK_STR(state_of(a, t, st, sizeof(st)), "firing");
	alerts__free(a);
	store__close(s);
}

TEST(alert_ack_stops_repeats_and_escalation)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, HOOK_CONFIG(CPU_RULE(", \"escalate\": [{\"after\": \"20s\", \"receivers\": [\"pd\"],"
							  " \"severity\": \"critical\"}]"),
						 ", \"repeat_interval\": \"30s\""));
	cJSON *x;
	char id[32], err[128];
	__u64 t = t0();

	ASSERT(a, "no engine");
	set_series("cpu_percent", 2);
	src.value[1] = 90;	/* the control: never acknowledged */
	run(a, &t, 2, 90);
	x = alerts__list_json(a, "firing", NULL, NULL, t);
	CHECK_EQ(cJSON_GetArraySize(x), 2);
	cJSON_Delete(x);
	/* ack the first series' alert (the control keeps firing unacknowledged) */
	x = alerts__list_json(a, "firing", NULL, NULL, t);
	for (int i = 0; i < cJSON_GetArraySize(x); i++) {
		cJSON *al = cJSON_GetArrayItem(x, i);
		const char *agent = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(al, "labels"),
								     "agent")->valuestring;

		if (!strcmp(agent, "builder0"))
			snprintf(id, sizeof(id), "%s", cJSON_GetObjectItemCaseSensitive(al, "id")->valuestring);
	}
	cJSON_Delete(x);
	CHECK_EQ(alerts__ack(a, id, "alice", "looking", 0, t, err, sizeof(err)), 0);
	x = alerts__get_json(a, id, t);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "acknowledged")), "not acknowledged");
	cJSON_Delete(x);
	run(a, &t, 120, 90);
	/* each alert is its own group (group_by agent): two firing notifications in all */
	CHECK_EQ(rows_of(s, "hook", "firing"), 2);
	/* the control repeated every 30 s and escalated once; the acknowledged one did neither */
	CHECK(rows_of(s, "hook", "repeat") >= 3, "the unacknowledged alert repeated %d times", rows_of(s, "hook", "repeat"));
	CHECK_EQ(rows_of(s, "pd", "escalate"), 1);
	{
		struct outbox_row *rows = NULL;
		int n = 0;

		store__outbox_list(s, NULL, NULL, 1000, &rows, &n);
		for (int i = 0; i < n; i++)
			CHECK(!strstr(rows[i].payload, "builder0") || !strcmp(rows[i].kind, "firing"),
			      "the acknowledged alert was sent again as %s", rows[i].kind);
		outbox_rows__free(rows, n);
	}
	/* unack: repeats resume */
	CHECK_EQ(alerts__unack(a, id, t, err, sizeof(err)), 0);
	run(a, &t, 40, 90);
	{
		struct outbox_row *rows = NULL;
		int n = 0, again = 0;

		store__outbox_list(s, NULL, "hook", 1000, &rows, &n);
		for (int i = 0; i < n; i++)
			again += strstr(rows[i].payload, "builder0") && !strcmp(rows[i].kind, "repeat");
		outbox_rows__free(rows, n);
		CHECK(again >= 1, "no repeat after unack");
	}
	alerts__free(a);
	store__close(s);
}

TEST(alert_state_survives_restart)
{
	const char *cfg = HOOK_CONFIG(CPU_RULE(", \"for\": \"10s\""), "");
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, cfg);
	__u64 t = t0();
	char st[32];

	ASSERT(a, "no engine");
	set_series("cpu_percent", 1);
	run(a, &t, 6, 90);
	CHECK_STR(state_of(a, t, st, sizeof(st)), "pending");
	alerts__free(a);
	/* restart: 'for' progress is kept, so it fires 10 s after it first breached, not 10 s after the restart */
	a = engine(s, cfg);
	ASSERT(a, "no engine");
	run(a, &t, 4, 90);
	CHECK_STR(state_of(a, t, st, sizeof(st)), "pending");
	run(a, &t, 2, 90);	/* 12 s in: 10 s after the first breach at 2 s */
	CHECK_STR(state_of(a, t, st, sizeof(st)), "firing");
	CHECK_EQ(rows_of(s, "hook", "firing"), 1);
	alerts__free(a);
	/* restart while firing: no second page */
	a = engine(s, cfg);
	ASSERT(a, "no engine");
	run(a, &t, 20, 90);
	CHECK_EQ(rows_of(s, "hook", "firing"), 1);
	alerts__free(a);
	/* restart, then the condition clears: the resolve is still sent */
	a = engine(s, cfg);
	ASSERT(a, "no engine");
	run(a, &t, 10, 10);
	CHECK_STR(state_of(a, t, st, sizeof(st)), "resolved");
	CHECK_EQ(rows_of(s, "hook", "resolved"), 1);
	alerts__free(a);
	store__close(s);
}

TEST(alert_missing_series_resolves_as_execution_ended)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, HOOK_CONFIG(CPU_RULE(""), ""));
	cJSON *x;
	__u64 t = t0();

	ASSERT(a, "no engine");
	set_series("cpu_percent", 1);
	run(a, &t, 2, 90);
	run(a, &t, 6, NAN);
	x = only_alert(a, t);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(x, "state")->valuestring, "resolved");
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(x, "resolve_reason")->valuestring, "execution_ended");
	cJSON_Delete(x);
	CHECK_EQ(rows_of(s, "hook", "resolved"), 1);
	alerts__free(a);
	store__close(s);
}

TEST(alert_resolved_within_group_wait_is_never_sent)
{
	struct store *s = store__open(harness__tmp("db"), false);
	const char *cfg =
		"{\"evaluation_interval\": \"2s\", \"rules\": [" CPU_RULE("") "],"
		" \"receivers\": [{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/h\"}],"
		" \"routes\": [{\"receivers\": [\"hook\"], \"group_wait\": \"30s\"}]}";
	struct alerts *a = engine(s, cfg);
	__u64 t = t0();

	ASSERT(a, "no engine");
	set_series("cpu_percent", 1);
	run(a, &t, 4, 90);
	run(a, &t, 40, 10);
	CHECK_EQ(rows_of(s, "hook", ""), 0);
	alerts__free(a);
	store__close(s);
}

TEST(alert_silence_mutes_then_expires)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, HOOK_CONFIG(CPU_RULE(""), ""));
	cJSON *body = cJSON_Parse("{\"matchers\": [\"agent=\\\"builder0\\\"\"], \"duration\": \"20s\","
				  " \"createdBy\": \"t\", \"comment\": \"maintenance\"}");
	char id[40], err[256];
	__u64 t = t0();

	ASSERT(a, "no engine");
	set_series("cpu_percent", 1);
	CHECK_EQ(alerts__add_silence(a, body, t, id, sizeof(id), err, sizeof(err)), 0);
	cJSON_Delete(body);
	run(a, &t, 10, 90);
	CHECK_EQ(rows_of(s, "hook", ""), 0);
	run(a, &t, 20, 90);	/* the silence ended: the alert is news now */
	CHECK_EQ(rows_of(s, "hook", "firing"), 1);
	alerts__free(a);
	store__close(s);
}

TEST(alert_event_rule_fires_at_once_and_manual_resolve)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, HOOK_CONFIG("{\"id\": \"oom\", \"alertname\": \"WorkerOOM\", \"metric\": \"execution_failed\","
						 " \"scope\": {\"match\": [\"category=~\\\"oom|killed\\\"\"]}, \"severity\": \"critical\"}",
						 ""));
	struct alert_point p = { .metric = "execution_failed", .level = LEVEL_EXECUTION, .execution_id = 7,
				 .value = 137 };
	char err[256];
	cJSON *x;
	__u64 t = t0();

	ASSERT(a, "no engine");
	set_series("cpu_percent", 0);
	snprintf(p.agent, sizeof(p.agent), "builder");
	snprintf(p.param, sizeof(p.param), "exit_nonzero");
	alerts__event(a, t, &p);
	CHECK_EQ(rows_of(s, "hook", ""), 0);	/* not a matching category */
	snprintf(p.param, sizeof(p.param), "oom");
	alerts__event(a, t, &p);
	CHECK_EQ(rows_of(s, "hook", "firing"), 1);	/* queued before alerts__event returned */
	x = only_alert(a, t);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "labels"), "category")->valuestring,
		  "oom");
	CHECK_EQ(alerts__resolve(a, cJSON_GetObjectItemCaseSensitive(x, "id")->valuestring, "bob", t + SEC, err,
				 sizeof(err)), 0);
	cJSON_Delete(x);
	run(a, &t, 6, NAN);
	CHECK_EQ(rows_of(s, "hook", "resolved"), 1);
	alerts__free(a);
	store__close(s);
}

TEST(alert_config_rejects_bad_routes)
{
	struct alert_config cfg;
	char err[256];
	const char *path = harness__tmp("bad.json");
	FILE *f = fopen(path, "w");

	fputs("{\"receivers\": [{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/\"}],"
	      " \"routes\": [{\"receivers\": [\"nope\"]}]}", f);
	fclose(f);
	CHECK_EQ(alert_config__load(path, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "no receiver is named 'nope'") != NULL, "message: %s", err);
	f = fopen(path, "w");
	fputs("{\"routes\": [{\"group_wait\": \"soon\"}]}", f);
	fclose(f);
	CHECK_EQ(alert_config__load(path, &cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "group_wait") != NULL, "message: %s", err);
}

TEST(alert_default_rule_switched_off_by_id)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, "{\"rules\": [{\"id\": \"peak-memory\", \"enabled\": false}]}");
	cJSON *rules, *r;
	bool seen = false;

	ASSERT(a, "no engine");
	rules = alerts__rules_json(a);
	cJSON_ArrayForEach(r, rules)
		if (!strcmp(cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring, "peak-memory")) {
			seen = true;
			CHECK_STR(cJSON_GetObjectItemCaseSensitive(r, "health")->valuestring, "disabled");
		}
	CHECK(seen, "the default peak-memory rule is gone instead of disabled");
	cJSON_Delete(rules);
	/* a 2 GiB peak would breach it */
	set_series("peak_rss_bytes", 1);
	{
		__u64 t = t0();

		run(a, &t, 4, 2147483648.0);
		rules = alerts__list_json(a, NULL, NULL, NULL, t);
		CHECK_EQ(cJSON_GetArraySize(rules), 0);
		cJSON_Delete(rules);
	}
	alerts__free(a);
	store__close(s);
}

TEST(alert_silence_takes_alertmanager_matchers)
{
	struct store *s = store__open(harness__tmp("db"), false);
	struct alerts *a = engine(s, HOOK_CONFIG(CPU_RULE(""), ""));
	cJSON *body = cJSON_Parse("{\"matchers\": [{\"name\": \"agent\", \"value\": \"build.*\", \"isRegex\": true,"
				  " \"isEqual\": true}], \"duration\": \"1h\"}");
	cJSON *x;
	char id[40], err[256];
	__u64 t = t0();

	ASSERT(a, "no engine");
	set_series("cpu_percent", 1);
	CHECK_EQ(alerts__add_silence(a, body, t, id, sizeof(id), err, sizeof(err)), 0);
	cJSON_Delete(body);
	run(a, &t, 4, 90);
	x = only_alert(a, t);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "silenced")), "not silenced by agent=~\"build.*\"");
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(x, "silenced_by")->valuestring, id);
	cJSON_Delete(x);
	CHECK_EQ(rows_of(s, "hook", ""), 0);
	body = cJSON_Parse("{\"matchers\": [], \"duration\": \"1h\"}");
	CHECK_EQ(alerts__add_silence(a, body, t, id, sizeof(id), err, sizeof(err)), -EINVAL);
	cJSON_Delete(body);
	alerts__free(a);
	store__close(s);
}

/*
 * alerts__new owns the config's compiled rules and matchers from the call on,
 * whether it succeeds or not: when it fails (here the history cannot be read),
 * it has released them and the caller frees nothing. The daemon freed them a
 * second time (a double free); make check-asan shows a leak or a double free
 * here if either side breaks the contract.
 */
TEST(alerts_new_owns_the_config_when_it_fails)
{
	const char *path = harness__tmp("alerts.json");
	struct store *s = store__open(harness__tmp("db"), false);
	struct alert_source as = { .gauges = gauges, .changed = changed };
	struct alert_config *cfg = calloc(1, sizeof(*cfg));
	sqlite3 *db = NULL;
	char err[512] = "";
	FILE *f = fopen(path, "w");

	ASSERT(s && cfg && f, "setup");
	fputs("{\"rules\": [{\"id\": \"r\", \"alertname\": \"X\", \"metric\": \"cpu_percent\", \"op\": \">\","
	      " \"threshold\": 1, \"scope\": {\"match\": [\"agent=~\\\"b.*\\\"\"]}}],"
	      " \"inhibit_rules\": [{\"source_match\": [\"a=~\\\"x.*\\\"\"], \"target_match\": [\"b=~\\\"y|z\\\"\"]}]}", f);
	fclose(f);
	ASSERT(!alert_config__load(path, cfg, err, sizeof(err)), "config: %s", err);
	ASSERT(sqlite3_open(harness__tmp("db"), &db) == SQLITE_OK &&
	       sqlite3_exec(db, "DROP TABLE alert_docs", NULL, NULL, NULL) == SQLITE_OK, "cannot drop alert_docs");
	sqlite3_close(db);
	CHECK(alerts__new(cfg, s, &as, err, sizeof(err)) == NULL, "an engine over a history it cannot read");
	CHECK(strstr(err, "cannot read alert state"), "err: %s", err);
	free(cfg);
	store__close(s);
}
