// SPDX-License-Identifier: MIT
/* Unit tests of notifications: receivers, payload formats, the outbox in the store, and the sender against real sinks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include "harness.h"
#include "lib/clock.h"
#include "lib/labels.h"
#include "notify/notify.h"
#include "sink.h"
#include "history/store.h"

/* 2026-11-21T05:28:32Z */
#define T0_MS		1795238912000ULL
#define GROUP_KEY	"{}:{agent=\"builder\", alertname=\"WorkerHighCPU\"}"
#define ROUTING_KEY	"0123456789abcdef0123456789abcdef"
#define WAIT_MS		10000

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void make_alert(struct notify_alert *a, const char *task, bool firing, const char *summary)
{
	memset(a, 0, sizeof(*a));
	labels__set(&a->labels, "alertname", "WorkerHighCPU");
	labels__set(&a->labels, "rule_id", "exec-cpu-hot");
	labels__set(&a->labels, "severity", "warning");
	labels__set(&a->labels, "host", "ci-7");
	labels__set(&a->labels, "session", "s-42");
	labels__set(&a->labels, "agent", "builder");
	labels__set(&a->labels, "task", task);
	labels__set(&a->annotations, "summary", summary);
	labels__set(&a->annotations, "runbook_url", "https://runbooks.example/cpu");
	labels__fingerprint(&a->labels, a->fingerprint);
	a->status = firing ? "firing" : "resolved";
	a->state = a->status;
	a->starts_ms = T0_MS;
	a->ends_ms = firing ? 0 : T0_MS + 120000;
	a->value = 97.1;
	a->threshold = 90;
}

static void make_group(struct notify_group *g, const struct notify_alert *alerts, int n, const char *action)
{
	memset(g, 0, sizeof(*g));
	g->group_key = GROUP_KEY;
	labels__set(&g->group_labels, "alertname", "WorkerHighCPU");
	labels__set(&g->group_labels, "agent", "builder");
	g->action = action;
	g->sequence = 3;
	g->now_ms = T0_MS + 1000;
	g->valid_until_ms = T0_MS + 240000;
	g->alerts = alerts;
	g->nalerts = n;
	g->external_url = "http://127.0.0.1:9470";
	g->host = "ci-7";
}

/* One receiver from its JSON; the test fails when it does not parse. */
static bool parse_one(const char *json, struct receiver *r)
{
	cJSON *arr = cJSON_Parse(json);
	char err[256];
	int n = receivers__parse(arr, r, 1, err, sizeof(err));

	cJSON_Delete(arr);
	return CHECK(n == 1, "receiver %s did not parse: %d %s", json, n, err);
}

static struct store *open_store(void)
{
	struct store *s = store__open(harness__tmp("db"), false);

	CHECK(s != NULL, "cannot open the store: %s", store__errmsg(NULL));
	return s;
}

/* Formats g for r and queues it; the delivery id in id. */
static bool enqueue(struct store *s, const struct receiver *r, const struct notify_group *g, const char *kind,
		    char id[37])
{
	char *payload;
	struct outbox_new row;
	int err;

	notify__delivery_id(id);
	payload = notify__format(r, g, id);
	if (!CHECK(payload != NULL, "no payload for %s", r->name))
		return false;
	row = (struct outbox_new){ r->name, g->group_key, kind, payload, id };
	err = store__alerts_commit(s, NULL, 0, &row, 1, clock__now_ms());
	free(payload);
	return CHECK(err == 0, "cannot queue: %s", store__errmsg(s));
}

/* Waits until receiver has n rows in state; the newest in *out (payload not kept). */
static bool wait_rows(struct store *s, const char *receiver, const char *state, int n, struct outbox_row *out)
{
	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		struct outbox_row *rows = NULL;
		int cnt = 0;

		if (!store__outbox_list(s, state, receiver, -1, &rows, &cnt) && cnt >= n) {
			if (out) {
				*out = rows[0];
				out->payload = NULL;
			}
			outbox_rows__free(rows, cnt);
			return true;
		}
		outbox_rows__free(rows, cnt);
		sleep_ms(20);
	}
	return CHECK(false, "%s: not %d rows %s after %d ms", receiver, n, state, WAIT_MS);
}

/* Waits until the oldest row of receiver has had n attempts recorded. */
static bool wait_attempts(struct store *s, const char *receiver, int n, struct outbox_row *out)
{
	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		struct outbox_row *rows = NULL;
		int cnt = 0;
		bool done;

		done = !store__outbox_list(s, NULL, receiver, -1, &rows, &cnt) && cnt &&
		       rows[cnt - 1].attempts >= n;
		if (done) {
			*out = rows[cnt - 1];
			out->payload = NULL;
		}
		outbox_rows__free(rows, cnt);
		if (done)
			return true;
		sleep_ms(20);
	}
	return CHECK(false, "%s: not %d attempts after %d ms", receiver, n, WAIT_MS);
}

static cJSON *body_json(const struct sink_request *rq)
{
	cJSON *j = cJSON_Parse(rq->body);

	CHECK(j != NULL, "body is not JSON: %s", rq->body);
	return j;
}

/*
 * What the delivery tests start from: a sink, a store, one firing alert in
 * its group, and a receiver at the sink; the sender once delivery__send().
 */
struct delivery {
	struct sink *sink;
	struct store *s;
	struct notifier *nt;
	struct notify_alert alert;
	struct notify_group g;
	struct receiver r;
};

/* receiver_fmt: the receivers JSON, its one %s the sink's URL. False (a failure recorded) when it cannot. */
static bool delivery__start(struct delivery *f, const char *receiver_fmt)
{
	char json[512];

	memset(f, 0, sizeof(*f));
	f->sink = sink__start();
	f->s = open_store();
	if (!CHECK(f->sink && f->s, "no sink or store"))
		return false;
	make_alert(&f->alert, "compile", true, "CPU 97%");
	make_group(&f->g, &f->alert, 1, NULL);
	snprintf(json, sizeof(json), receiver_fmt, sink__url(f->sink));
	return parse_one(json, &f->r);
}

/* Starts the sender for f's receiver. */
static bool delivery__send(struct delivery *f)
{
	f->nt = notifier__start(f->s, &f->r, 1);
	return CHECK(f->nt != NULL, "notifier: %s", strerror(errno));
}

static void delivery__stop(struct delivery *f)
{
	notifier__stop(f->nt);
	store__close(f->s);
	sink__stop(f->sink);
}

#define HOOK_AT_SINK "[{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"%s/\"}]"

/* ---- the store ---- */

struct docs_seen {
	char text[512];
};

static int collect_doc(const char *key, const char *json, void *ctx)
{
	struct docs_seen *d = ctx;
	size_t len = strlen(d->text);

	snprintf(d->text + len, sizeof(d->text) - len, "%s=%s;", key, json);
	return 0;
}

TEST(notify_store_keeps_alert_docs_and_the_outbox)
{
	struct store *s = open_store();
	struct store_doc docs[] = {
		{ "instance", "b", "{\"v\":2}" }, { "instance", "a", "{\"v\":1}" }, { "rules", "all", "[]" },
	};
	struct outbox_new rows[] = {
		{ "hook", "g1", "firing", "{\"n\":1}", "id-1" },
		{ "hook", "g1", "resolved", "{\"n\":2}", "id-2" },
		{ "pd", "g2", "firing", "{\"n\":3}", "id-3" },
	};
	struct outbox_row *out = NULL;
	struct outbox_count *counts = NULL;
	struct docs_seen seen = {};
	int n = 0;

	ASSERT(s, "no store");
	CHECK_EQ(store__alerts_commit(s, docs, 3, rows, 3, 1000), 0);
	CHECK_EQ(store__alert_docs(s, "instance", collect_doc, &seen), 0);
	CHECK_STR(seen.text, "a={\"v\":1};b={\"v\":2};");

	/* replace a, delete b */
	docs[0] = (struct store_doc){ "instance", "a", "{\"v\":3}" };
	docs[1] = (struct store_doc){ "instance", "b", NULL };
	CHECK_EQ(store__alerts_commit(s, docs, 2, NULL, 0, 1500), 0);
	seen.text[0] = '\0';
	store__alert_docs(s, "instance", collect_doc, &seen);
	CHECK_STR(seen.text, "a={\"v\":3};");

	/* the head of each receiver's queue, oldest first */
	CHECK_EQ(store__outbox_heads(s, &out, &n), 0);
	ASSERT(n == 2, "%d heads", n);
	CHECK_STR(out[0].receiver, "hook");
	CHECK_STR(out[0].payload, "{\"n\":1}");
	CHECK_STR(out[0].delivery_id, "id-1");
	CHECK_STR(out[0].state, "pending");
	CHECK_EQ(out[0].created_ms, 1000);
	CHECK_EQ(out[0].next_attempt_ms, 1000);
	CHECK_STR(out[1].receiver, "pd");
	CHECK_STR(out[1].group_key, "g2");
	CHECK(out[0].id < out[1].id, "heads out of order");
	CHECK_EQ(store__outbox_update(s, out[0].id, "pending", 1, 1700, 503, "HTTP 503", 1200), 0);
	CHECK_EQ(store__outbox_update(s, out[0].id, "sent", 2, 1700, 200, "", 2000), 0);
	CHECK_EQ(store__outbox_update(s, out[0].id, "lost", 2, 0, 0, "", 2000), -EINVAL);
	CHECK_EQ(store__outbox_update(s, 9999, "sent", 1, 0, 200, "", 2000), -ENOENT);
	outbox_rows__free(out, n);

	CHECK_EQ(store__outbox_heads(s, &out, &n), 0);
	CHECK(n == 2 && !strcmp(out[0].receiver, "hook") && !strcmp(out[0].kind, "resolved") &&
	      !strcmp(out[1].receiver, "pd"), "the next hook row is not the head");
	outbox_rows__free(out, n);

	CHECK_EQ(store__outbox_list(s, "sent", NULL, 0, &out, &n), 0);
	CHECK(n == 1 && out[0].attempts == 2 && out[0].last_status == 200 && out[0].done_ms == 2000,
	      "sent row: %d rows", n);
	outbox_rows__free(out, n);
	CHECK_EQ(store__outbox_list(s, NULL, "hook", 0, &out, &n), 0);
	CHECK(n == 2 && out[0].id > out[1].id, "not newest first");
	outbox_rows__free(out, n);
	CHECK_EQ(store__outbox_list(s, NULL, NULL, 1, &out, &n), 0);
	CHECK_EQ(n, 1);
	outbox_rows__free(out, n);

	CHECK_EQ(store__outbox_counts(s, &counts, &n), 0);
	CHECK(n == 2 && !strcmp(counts[0].receiver, "hook") && counts[0].pending == 1 && counts[0].sent == 1 &&
	      counts[0].oldest_pending_ms == 1000 && counts[1].pending == 1 && counts[1].dead == 0,
	      "counts are wrong");
	free(counts);

	CHECK_EQ(store__outbox_prune(s, 1999), 0);
	CHECK_EQ(store__outbox_prune(s, 5000), 1);

	/* a failure in the middle leaves nothing of the transaction behind */
	docs[0] = (struct store_doc){ "instance", "c", "{}" };
	rows[0].receiver = NULL;
	CHECK(store__alerts_commit(s, docs, 1, rows, 2, 3000) < 0, "a row without receiver was stored");
	seen.text[0] = '\0';
	store__alert_docs(s, "instance", collect_doc, &seen);
	CHECK_STR(seen.text, "a={\"v\":3};");
	CHECK_EQ(store__outbox_list(s, NULL, NULL, -1, &out, &n), 0);
	CHECK_EQ(n, 2);
	outbox_rows__free(out, n);
	store__close(s);
}

static int user_version(const char *path, int *tables)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT (SELECT user_version FROM pragma_user_version),"
			       " (SELECT COUNT(*) FROM sqlite_schema WHERE name IN"
			       " ('execution_extras', 'alert_docs', 'outbox', 'outbox_queue', 'executions_failed',"
			       " 'tracking', 'orchestrators'))",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int(st, 0);
		*tables = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

#define DROP_V5 "DROP TABLE tracking; DROP TABLE orchestrators;"

TEST(notify_store_migrates_every_older_version)
{
	static const char *const downgrade[] = {
		[1] = "DROP TABLE execution_extras; DROP TABLE outbox; DROP TABLE alert_docs;"
		      " DROP INDEX executions_failed;" DROP_V5 " PRAGMA user_version = 1;",
		[2] = "DROP TABLE outbox; DROP TABLE alert_docs; DROP INDEX executions_failed;" DROP_V5
		      " PRAGMA user_version = 2;",
		[3] = "DROP INDEX executions_failed;" DROP_V5 " PRAGMA user_version = 3;",
		[4] = DROP_V5 " PRAGMA user_version = 4;",
	};
	static const char *const names[] = { [1] = "v1.db", [2] = "v2.db", [3] = "v3.db", [4] = "v4.db" };

	for (int v = 1; v <= 4; v++) {
		const char *path = harness__tmp(names[v]);
		struct store *s = store__open(path, false);
		struct outbox_new row = { "hook", "g", "firing", "{}", "id" };
		struct outbox_row *out = NULL;
		sqlite3 *db = NULL;
		int tables = 0, n = 0;

		ASSERT(s, "cannot create %s: %s", path, store__errmsg(NULL));
		store__close(s);
		ASSERT(sqlite3_open(path, &db) == SQLITE_OK, "cannot open %s", path);
		CHECK(sqlite3_exec(db, downgrade[v], NULL, NULL, NULL) == SQLITE_OK,
		      "cannot make a version %d database: %s", v, sqlite3_errmsg(db));
		sqlite3_close(db);
		CHECK_EQ(user_version(path, &tables), v);

		s = store__open(path, false);
		ASSERT(s, "version %d database not opened: %s", v, store__errmsg(NULL));
		CHECK(store__alerts_commit(s, NULL, 0, &row, 1, 1) == 0, "no outbox after migrating version %d: %s", v,
		      store__errmsg(s));
		CHECK(store__outbox_heads(s, &out, &n) == 0 && n == 1, "version %d: %d heads", v, n);
		outbox_rows__free(out, n);
		CHECK_EQ(store__integrity_check(s), 0);
		store__close(s);
		CHECK_EQ(user_version(path, &tables), STORE_SCHEMA_VERSION);
		CHECK_EQ(tables, 7);
	}
}

/* ---- receivers ---- */

TEST(notify_receivers_parse_the_config_and_reject_bad_ones)
{
	static const char issue[] =
		"[{\"name\": \"am\", \"type\": \"alertmanager\", \"url\": \"http://127.0.0.1:9093\"},"
		" {\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:8080/hook\","
		"  \"secret\": \"s3cret\"},"
		" {\"name\": \"pd\", \"type\": \"pagerduty\", \"routing_key\": \"" ROUTING_KEY "\","
		"  \"url\": \"http://127.0.0.1:8081/v2/enqueue\"}]";
	static const struct {
		const char *json, *err;
	} bad[] = {
		{ "{}", "receivers must be an array" },
		{ "[{\"name\": \"pd\", \"type\": \"pagerduty\", \"routing_key\": \"abc\"}]",
		  "receiver pd: routing_key must be 32 characters" },
		{ "[{\"name\": \"pd\", \"type\": \"pagerduty\"}]", "receiver pd: routing_key is required" },
		{ "[{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://h/\", \"colour\": \"red\"}]",
		  "receiver hook: unknown key 'colour'" },
		{ "[{\"name\": \"hook\", \"type\": \"webhook\"}]", "receiver hook: url is required" },
		{ "[{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"ftp://h/\"}]",
		  "receiver hook: url must start with http:// or https://" },
		{ "[{\"type\": \"webhook\", \"url\": \"http://h/\"}]", "receiver #1: name is required" },
		{ "[{\"name\": \"a b\", \"type\": \"webhook\", \"url\": \"http://h/\"}]",
		  "receiver #1: name 'a b' must be 1-63 characters of A-Z a-z 0-9 _ . -" },
		{ "[{\"name\": \"a\", \"type\": \"webhook\", \"url\": \"http://h/\"},"
		  " {\"name\": \"a\", \"type\": \"slack\", \"url\": \"http://h/\"}]",
		  "receiver a: name is used by another receiver" },
		{ "[{\"name\": \"x\", \"type\": \"sms\"}]",
		  "receiver x: unknown type 'sms' (webhook, alertmanager, pagerduty, slack, email, otlp or statsd)" },
		{ "[{\"name\": \"s\", \"type\": \"slack\", \"url\": \"http://h/\", \"secret\": \"k\"}]",
		  "receiver s: key 'secret' does not apply to slack receivers" },
		{ "[{\"name\": \"m\", \"type\": \"email\", \"url\": \"smtp://h\", \"to\": \"a@b\"}]",
		  "receiver m: from is required" },
		{ "[{\"name\": \"m\", \"type\": \"email\", \"url\": \"http://h\", \"from\": \"a@b\", \"to\": \"a@b\"}]",
		  "receiver m: url must be an smtp:// or smtps:// URL" },
		{ "[{\"name\": \"m\", \"type\": \"email\", \"url\": \"smtp://h\", \"from\": \"a@b\","
		  " \"to\": \"x@y, nobody\"}]",
		  "receiver m: to: ' nobody' is not a mail address" },
		{ "[{\"name\": \"h\", \"type\": \"webhook\", \"url\": \"http://h/\", \"rate_per_second\": 0}]",
		  "receiver h: rate_per_second must be a number above 0" },
		{ "[{\"name\": \"h\", \"type\": \"webhook\", \"url\": \"http://h/\", \"burst\": 0}]",
		  "receiver h: burst must be a whole number of at least 1" },
		{ "[{\"name\": \"h\", \"type\": \"webhook\", \"url\": \"http://h/\", \"timeout\": \"soon\"}]",
		  "receiver h: timeout must be a duration such as \"10s\"" },
		{ "[{\"name\": \"h\", \"type\": \"webhook\", \"url\": \"http://h/\", \"send_resolved\": 1}]",
		  "receiver h: send_resolved must be true or false" },
		{ "[{\"name\": \"am\", \"type\": \"alertmanager\", \"urls\": [\"http://a\", \"http://b\"]}]",
		  "receiver am: urls must be an array of one URL (one receiver per Alertmanager)" },
	};
	struct receiver rs[RECEIVERS_MAX];
	char err[256], *text;
	cJSON *arr = cJSON_Parse(issue), *j;
	int n;

	n = receivers__parse(arr, rs, RECEIVERS_MAX, err, sizeof(err));
	cJSON_Delete(arr);
	ASSERT(n == 3, "the issue's receivers: %d %s", n, err);
	CHECK(!strcmp(receiver__type_name(&rs[0]), "alertmanager") && !strcmp(rs[0].url, "http://127.0.0.1:9093"), "am");
	CHECK_EQ(rs[0].resend_ms, 60000);
	CHECK(!strcmp(receiver__type_name(&rs[1]), "webhook") && !strcmp(rs[1].secret, "s3cret"), "hook");
	CHECK(!strcmp(receiver__type_name(&rs[2]), "pagerduty") && !strcmp(rs[2].routing_key, ROUTING_KEY) &&
	      !strcmp(rs[2].url, "http://127.0.0.1:8081/v2/enqueue"), "pd");
	CHECK(rs[1].send_resolved && rs[1].rate_per_s == 10 && rs[1].burst == 5, "webhook defaults");
	CHECK_EQ(rs[1].timeout_ms, 10000);
	CHECK_EQ(rs[1].max_age_ms, 24 * 3600 * 1000ULL);
	CHECK(receivers__find(rs, n, "pd") == &rs[2] && !receivers__find(rs, n, "nope"), "find");
	CHECK_STR(receiver__type_name(&rs[0]), "alertmanager");

	/* the API's view hides the secrets */
	j = receiver__to_json(&rs[1]);
	text = cJSON_PrintUnformatted(j);
	CHECK(text && !strstr(text, "s3cret") && strstr(text, "\"timeout\":\"10s\""), "webhook json: %s", text);
	free(text);
	cJSON_Delete(j);
	j = receiver__to_json(&rs[2]);
	text = cJSON_PrintUnformatted(j);
	CHECK(text && !strstr(text, ROUTING_KEY) && strstr(text, "cdef"), "pagerduty json: %s", text);
	free(text);
	cJSON_Delete(j);

	CHECK(parse_one("[{\"name\": \"pd\", \"type\": \"pagerduty\", \"routing_key\": \"" ROUTING_KEY "\"}]", &rs[0]),
	      "pagerduty without url");
	CHECK_STR(rs[0].url, "https://events.pagerduty.com/v2/enqueue");
	CHECK(parse_one("[{\"name\": \"s\", \"type\": \"slack\", \"url\": \"https://hooks.slack.example/T/B/X\","
			" \"timeout\": 2.5, \"max_age\": \"1h\", \"send_resolved\": false}]", &rs[0]), "slack");
	CHECK(rs[0].rate_per_s == 1 && rs[0].burst == 1 && !rs[0].send_resolved, "slack defaults");
	CHECK_EQ(rs[0].timeout_ms, 2500);
	CHECK_EQ(rs[0].max_age_ms, 3600000);
	j = receiver__to_json(&rs[0]);
	text = cJSON_PrintUnformatted(j);
	CHECK(text && !strstr(text, "/T/B/X"), "slack json shows the webhook's secret path: %s", text);
	free(text);
	cJSON_Delete(j);
	CHECK(parse_one("[{\"name\": \"am2\", \"type\": \"alertmanager\", \"urls\": [\"http://127.0.0.1:9093/\"],"
			" \"resend_interval\": \"30s\"}]", &rs[0]), "alertmanager with urls");
	CHECK_STR(rs[0].url, "http://127.0.0.1:9093/");
	CHECK_EQ(rs[0].resend_ms, 30000);
	CHECK(parse_one("[{\"name\": \"mail\", \"type\": \"email\", \"url\": \"smtp://127.0.0.1:25\","
			" \"from\": \"Workerwatch <ww@example.org>\", \"to\": [\"a@example.org\", \"b@example.org\"]}]",
			&rs[0]), "email");
	CHECK_STR(rs[0].to, "a@example.org, b@example.org");
	CHECK_EQ(receivers__parse(NULL, rs, RECEIVERS_MAX, err, sizeof(err)), 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		arr = cJSON_Parse(bad[i].json);
		err[0] = '\0';
		n = receivers__parse(arr, rs, RECEIVERS_MAX, err, sizeof(err));
		cJSON_Delete(arr);
		CHECK(n == -EINVAL && !strcmp(err, bad[i].err), "%s: got %d '%s', want '%s'", bad[i].json, n, err,
		      bad[i].err);
	}
}

TEST(notify_delivery_ids_are_uuid_v4_and_dedup_keys_stable)
{
	char a[37], b[37], k1[300], k2[300];

	notify__delivery_id(a);
	notify__delivery_id(b);
	CHECK(strlen(a) == 36 && a[8] == '-' && a[13] == '-' && a[14] == '4' && a[18] == '-' && a[23] == '-' &&
	      strchr("89ab", a[19]), "not a UUID v4: %s", a);
	CHECK(strcmp(a, b), "two equal ids: %s", a);
	notify__dedup_key("ci-7", GROUP_KEY, k1, sizeof(k1));
	notify__dedup_key("ci-7", GROUP_KEY, k2, sizeof(k2));
	CHECK(!strcmp(k1, k2), "dedup key not stable: %s %s", k1, k2);
	CHECK(!strncmp(k1, "ww-ci-7-", 8) && strlen(k1) == 8 + 32 && strspn(k1 + 8, "0123456789abcdef") == 32,
	      "dedup key %s", k1);
	notify__dedup_key("ci-7", "{}:{agent=\"other\"}", k2, sizeof(k2));
	CHECK(strcmp(k1, k2), "two groups share a dedup key");
}

/* ---- delivery ---- */

TEST(notify_webhook_sends_v4_with_signature)
{
	struct notify_alert alerts[2];
	struct delivery f;
	struct sink_request rq;
	struct outbox_row row;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char json[512], id[37], want[160] = "sha256=";
	const cJSON *a0, *a1;
	cJSON *body = NULL;

	if (!delivery__start(&f, "[{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"%s/hook\","
			     " \"secret\": \"s3cret\"}]"))
		goto cleanup;
	make_alert(&alerts[0], "compile", true, "CPU 97% on builder/compile");
	make_alert(&alerts[1], "link", false, "CPU 95% on builder/link");
	make_group(&f.g, alerts, 2, NULL);
	if (!delivery__send(&f) || !enqueue(f.s, &f.r, &f.g, "firing", id))
		goto cleanup;
	notifier__kick(f.nt);
	if (!CHECK(sink__wait_count(f.sink, 1, WAIT_MS), "nothing received"))
		goto cleanup;
	rq = sink__request(f.sink, 0);
	CHECK_STR(rq.method, "POST");
	CHECK_STR(rq.path, "/hook");
	CHECK_STR(rq.content_type, "application/json");
	CHECK(!strncmp(rq.user_agent, "workerwatch/", 12), "user agent %s", rq.user_agent);
	CHECK_STR(rq.delivery, id);
	HMAC(EVP_sha256(), "s3cret", 6, (const unsigned char *)rq.body, rq.body_len, md, &mdlen);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%02x", md[i]);
	CHECK_STR(rq.signature, want);

	body = body_json(&rq);
	if (!body)
		goto cleanup;
	CHECK_STR(harness__str(body, "version"), "4");
	CHECK_STR(harness__str(body, "groupKey"), GROUP_KEY);
	CHECK_EQ(harness__num(body, "truncatedAlerts"), 0);
	CHECK_STR(harness__str(body, "status"), "firing");
	CHECK_STR(harness__str(body, "receiver"), "hook");
	CHECK_STR(harness__str(body, "externalURL"), "http://127.0.0.1:9470");
	CHECK_STR(harness__str(body, "groupLabels.agent"), "builder");
	CHECK_STR(harness__str(body, "commonLabels.alertname"), "WorkerHighCPU");
	CHECK(!harness__get(body, "commonLabels.task"), "task differs, so it is not common");
	CHECK_STR(harness__str(body, "commonAnnotations.runbook_url"), "https://runbooks.example/cpu");
	CHECK(!harness__get(body, "commonAnnotations.summary"), "summary differs, so it is not common");
	a0 = cJSON_GetArrayItem(harness__get(body, "alerts"), 0);
	a1 = cJSON_GetArrayItem(harness__get(body, "alerts"), 1);
	ASSERT(a0 && a1, "no alerts in %s", rq.body);
	CHECK_STR(harness__str(a0, "status"), "firing");
	CHECK_STR(harness__str(a0, "startsAt"), "2026-11-21T05:28:32Z");
	CHECK_STR(harness__str(a0, "endsAt"), "0001-01-01T00:00:00Z");
	CHECK_STR(harness__str(a0, "fingerprint"), alerts[0].fingerprint);
	CHECK_STR(harness__str(a0, "labels.task"), "compile");
	CHECK_STR(harness__str(a0, "annotations.summary"), "CPU 97% on builder/compile");
	snprintf(json, sizeof(json), "http://127.0.0.1:9470/#/alerts/%s", alerts[0].fingerprint);
	CHECK_STR(harness__str(a0, "generatorURL"), json);
	CHECK_STR(harness__str(a1, "status"), "resolved");
	CHECK_STR(harness__str(a1, "endsAt"), "2026-11-21T05:30:32Z");
	CHECK_EQ(harness__num(body, "workerwatch.schema"), 1);
	CHECK_STR(harness__str(body, "workerwatch.delivery_id"), rq.delivery);
	CHECK_EQ(harness__num(body, "workerwatch.sequence"), 3);
	snprintf(json, sizeof(json), "workerwatch.alerts.%s.threshold", alerts[0].fingerprint);
	CHECK_EQ(harness__num(body, json), 90);
	snprintf(json, sizeof(json), "workerwatch.alerts.%s.state", alerts[1].fingerprint);
	CHECK_STR(harness__str(body, json), "resolved");
	snprintf(json, sizeof(json), "workerwatch.alerts.%s.acknowledged", alerts[0].fingerprint);
	CHECK(cJSON_IsFalse(harness__get(body, json)), "acknowledged");

	wait_rows(f.s, "hook", "sent", 1, &row);
	CHECK_EQ(row.attempts, 1);
	CHECK_EQ(row.last_status, 200);
cleanup:
	cJSON_Delete(body);
	delivery__stop(&f);
}

TEST(notify_retries_with_backoff_and_honours_retry_after)
{
	struct delivery f;
	struct receiver_stats st;
	struct outbox_row row;
	char id[37];
	__u64 gap_us;

	if (!delivery__start(&f, HOOK_AT_SINK))
		goto cleanup;
	CHECK_EQ(sink__script(f.sink, "503,503,429:1,200"), 0);
	if (!delivery__send(&f) || !enqueue(f.s, &f.r, &f.g, "firing", id))
		goto cleanup;
	notifier__kick(f.nt);
	if (!wait_rows(f.s, "hook", "sent", 1, &row))
		goto cleanup;
	CHECK_EQ(sink__count(f.sink), 4);
	CHECK_EQ(row.attempts, 4);
	CHECK_EQ(row.last_status, 200);
	CHECK_STR(row.state, "sent");
	for (int i = 0; i < 4; i++)
		CHECK_STR(sink__request(f.sink, i).delivery, id);
	CHECK_EQ(sink__request(f.sink, 2).status, 429);
	gap_us = sink__request(f.sink, 3).at_us - sink__request(f.sink, 2).at_us;
	CHECK(gap_us >= 1000000, "Retry-After: 1 not honoured: the 4th attempt came %llu us after the 429",
	      (unsigned long long)gap_us);
	/* the backoff floor */
	for (int i = 1; i < 3; i++)
		CHECK(sink__request(f.sink, i).at_us - sink__request(f.sink, i - 1).at_us >= 100000,
		      "retry %d sooner than 100 ms", i);
	CHECK_EQ(notifier__stats(f.nt, &st, 1), 1);
	CHECK(st.sent == 1 && st.retries == 3 && st.dead == 0 && st.last_status == 200, "stats: sent %llu retries %llu",
	      (unsigned long long)st.sent, (unsigned long long)st.retries);
	CHECK_STR(st.type, "webhook");
	CHECK(st.latency_sum_s >= 1.0, "latency %f", st.latency_sum_s);
	sleep_ms(300);
	CHECK_EQ(sink__count(f.sink), 4);
cleanup:
	delivery__stop(&f);
}

TEST(notify_permanent_failure_is_dead_after_one_attempt)
{
	struct delivery f;
	struct receiver_stats st;
	struct outbox_row row;
	char id[37];

	if (!delivery__start(&f, HOOK_AT_SINK))
		goto cleanup;
	CHECK_EQ(sink__script(f.sink, "400=bad payload\nsecond line"), 0);
	if (!delivery__send(&f) || !enqueue(f.s, &f.r, &f.g, "firing", id))
		goto cleanup;
	notifier__kick(f.nt);
	if (!wait_rows(f.s, "hook", "dead", 1, &row))
		goto cleanup;
	CHECK_EQ(row.attempts, 1);
	CHECK_EQ(row.last_status, 400);
	CHECK_STR(row.last_error, "HTTP 400: bad payload second line");
	CHECK(row.done_ms > 0, "no done time");
	sleep_ms(500);
	CHECK_EQ(sink__count(f.sink), 1);
	CHECK_EQ(notifier__stats(f.nt, &st, 1), 1);
	CHECK(st.dead == 1 && st.sent == 0 && st.last_status == 400 && st.last_failure_ms, "stats");
cleanup:
	delivery__stop(&f);
}

TEST(notify_delivers_in_queue_order_per_receiver)
{
	struct delivery f;
	char id[37];
	int n;

	if (!delivery__start(&f, HOOK_AT_SINK))
		goto cleanup;
	CHECK_EQ(sink__script(f.sink, "503,500"), 0);
	/* queued while the sender runs, so that the first row is already failing when the others come */
	if (!delivery__send(&f))
		goto cleanup;
	for (int i = 1; i <= 5; i++) {
		f.g.sequence = (__u64)i;
		if (!enqueue(f.s, &f.r, &f.g, "firing", id))
			goto cleanup;
		notifier__kick(f.nt);
		if (i == 1)
			sink__wait_count(f.sink, 1, WAIT_MS);
	}
	if (!wait_rows(f.s, "hook", "sent", 5, NULL))
		goto cleanup;
	n = sink__count(f.sink);
	CHECK_EQ(n, 7);
	for (int i = 0; i < n; i++) {
		struct sink_request rq = sink__request(f.sink, i);
		cJSON *b = body_json(&rq);

		/* two failures of the first, then all five in order */
		CHECK_EQ(harness__num(b, "workerwatch.sequence"), i < 2 ? 1 : i - 1);
		cJSON_Delete(b);
	}
cleanup:
	delivery__stop(&f);
}

TEST(notify_pagerduty_trigger_acknowledge_resolve)
{
	static const char *const actions[] = { "trigger", "acknowledge", "resolve" };
	struct delivery f;
	char id[37], dedup[300], *long_body;
	cJSON *b;

	if (!delivery__start(&f, "[{\"name\": \"pd\", \"type\": \"pagerduty\", \"routing_key\": \"" ROUTING_KEY
			     "\", \"url\": \"%s/v2/enqueue\"}]"))
		goto cleanup;
	make_alert(&f.alert, "compile", true, "CPU 97% on builder/compile");
	labels__set(&f.alert.labels, "execution_id", "e-1234");
	CHECK_EQ(sink__script(f.sink, "202={\"status\":\"success\"},429:0,202,202"), 0);
	notify__dedup_key("ci-7", GROUP_KEY, dedup, sizeof(dedup));
	for (int i = 0; i < 3; i++) {
		f.g.action = actions[i];
		if (i == 2)
			make_alert(&f.alert, "compile", false, "CPU 97% on builder/compile");
		if (!enqueue(f.s, &f.r, &f.g, actions[i], id))
			goto cleanup;
	}
	if (!delivery__send(&f) || !wait_rows(f.s, "pd", "sent", 3, NULL))
		goto cleanup;
	CHECK_EQ(sink__count(f.sink), 4);
	/* the 429 of the acknowledge is retried before the resolve goes */
	for (int i = 0, k = 0; i < 4; i++) {
		struct sink_request rq = sink__request(f.sink, i);

		b = body_json(&rq);
		CHECK_STR(rq.path, "/v2/enqueue");
		CHECK_STR(harness__str(b, "event_action"), actions[k]);
		CHECK_STR(harness__str(b, "dedup_key"), dedup);
		CHECK_STR(harness__str(b, "routing_key"), ROUTING_KEY);
		if (k)
			CHECK_EQ(cJSON_GetArraySize(b), 3);
		if (rq.status != 429)
			k++;
		if (i)
			goto next;
		CHECK_STR(harness__str(b, "payload.summary"),
			  "[WARNING] WorkerHighCPU: CPU 97% on builder/compile (ci-7)");
		CHECK_STR(harness__str(b, "payload.source"), "ci-7");
		CHECK_STR(harness__str(b, "payload.severity"), "warning");
		CHECK_STR(harness__str(b, "payload.timestamp"), "2026-11-21T05:28:32Z");
		CHECK_STR(harness__str(b, "payload.component"), "builder");
		CHECK_STR(harness__str(b, "payload.group"), "s-42");
		CHECK_STR(harness__str(b, "payload.class"), "WorkerHighCPU");
		CHECK_STR(harness__str(cJSON_GetArrayItem(harness__get(b, "payload.custom_details.alerts"), 0),
				       "fingerprint"), f.alert.fingerprint);
		CHECK_STR(harness__str(b, "client"), "workerwatch");
		CHECK_STR(harness__str(b, "client_url"), "http://127.0.0.1:9470/#/executions/e-1234");
		CHECK_STR(harness__str(cJSON_GetArrayItem(harness__get(b, "links"), 0), "text"), "workerwatch alert");
next:
		cJSON_Delete(b);
	}

	/* no severity label: "error"; no summary: the alert's name */
	make_alert(&f.alert, "compile", true, "");
	labels__set(&f.alert.labels, "severity", "");
	f.g.action = "trigger";
	long_body = notify__format(&f.r, &f.g, id);
	b = long_body ? cJSON_Parse(long_body) : NULL;
	CHECK_STR(harness__str(b, "payload.severity"), "error");
	CHECK_STR(harness__str(b, "payload.summary"), "[ERROR] WorkerHighCPU: WorkerHighCPU (ci-7)");
	cJSON_Delete(b);
	free(long_body);
cleanup:
	delivery__stop(&f);
}

TEST(notify_slack_text)
{
	struct notify_alert alerts[2];
	struct delivery f;
	char id[37], want[512];
	cJSON *b;

	if (!delivery__start(&f, "[{\"name\": \"chat\", \"type\": \"slack\", \"url\": \"%s/services/T/B/X\"}]"))
		goto cleanup;
	make_alert(&alerts[0], "compile", true, "CPU 97% on builder/compile");
	make_alert(&alerts[1], "link", true, "CPU 95% on <link> & co");
	make_group(&f.g, alerts, 2, NULL);
	if (!enqueue(f.s, &f.r, &f.g, "firing", id))
		goto cleanup;
	make_alert(&alerts[0], "compile", false, "CPU 97% on builder/compile");
	make_group(&f.g, alerts, 1, NULL);
	if (!enqueue(f.s, &f.r, &f.g, "resolved", id))
		goto cleanup;
	if (!delivery__send(&f) || !wait_rows(f.s, "chat", "sent", 2, NULL))
		goto cleanup;
	b = body_json(&(struct sink_request){ .body = sink__request(f.sink, 0).body });
	CHECK_STR(harness__str(b, "text"), ":red_circle: [FIRING:2] WorkerHighCPU builder \u2014 "
		  "CPU 97% on builder/compile; CPU 95% on &lt;link&gt; &amp; co (ci-7)"
		  " <http://127.0.0.1:9470/#/alerts|open>");
	cJSON_Delete(b);
	b = body_json(&(struct sink_request){ .body = sink__request(f.sink, 1).body });
	snprintf(want, sizeof(want), ":large_green_circle: [RESOLVED] WorkerHighCPU builder \u2014 "
		 "CPU 97%% on builder/compile (ci-7) <http://127.0.0.1:9470/#/alerts/%s|open>", alerts[0].fingerprint);
	CHECK_STR(harness__str(b, "text"), want);
	cJSON_Delete(b);
	CHECK_STR(sink__request(f.sink, 0).path, "/services/T/B/X");
cleanup:
	delivery__stop(&f);
}

TEST(notify_email_through_smtp)
{
	struct notify_alert alert;
	struct notify_group g;
	struct receiver r;
	struct smtp_sink *smtp = smtp_sink__start();
	struct store *s = open_store();
	struct notifier *nt = NULL;
	static const char headers[] = "From: Workerwatch <ww@example.org>\r\nTo: ops@example.org, dev@example.org\r\n";
	struct sink_mail m;
	char json[512], id[37], want[128];

	ASSERT(smtp && s, "no sink or store");
	make_alert(&alert, "compile", true, "CPU 97% on builder/compile");
	labels__set(&alert.annotations, "description", ".a line that starts with a dot");
	make_group(&g, &alert, 1, NULL);
	snprintf(json, sizeof(json), "[{\"name\": \"mail\", \"type\": \"email\", \"url\": \"%s\","
		 " \"from\": \"Workerwatch <ww@example.org>\", \"to\": \"ops@example.org, dev@example.org\"}]",
		 smtp_sink__url(smtp));
	if (!parse_one(json, &r) || !enqueue(s, &r, &g, "firing", id))
		goto cleanup;
	nt = notifier__start(s, &r, 1);
	if (!CHECK(nt != NULL, "notifier") || !CHECK(smtp_sink__wait_count(smtp, 1, WAIT_MS), "no mail"))
		goto cleanup;
	m = smtp_sink__mail(smtp, 0);
	CHECK_STR(m.from, "ww@example.org");
	CHECK_STR(m.rcpt, "ops@example.org,dev@example.org");
	CHECK(strstr(m.data, "\r\nSubject: [FIRING:1] WorkerHighCPU (ci-7)\r\n"), "no subject in %s", m.data);
	CHECK(!strncmp(m.data, headers, strlen(headers)), "headers: %s", m.data);
	CHECK(strstr(m.data, "\r\nContent-Type: text/plain; charset=utf-8\r\n"), "no content type");
	snprintf(want, sizeof(want), "\r\nMessage-ID: <%s@ci-7>\r\n", id);
	CHECK(strstr(m.data, want), "no message id %s", want);
	CHECK(strstr(m.data, "\r\nDate: Sat, 21 Nov 2026 05:28:33 +0000\r\n"), "no date");
	CHECK(strstr(m.data, "\r\n\r\n[FIRING:1] WorkerHighCPU (ci-7)\r\n"), "no body after the headers");
	CHECK(strstr(m.data, "- CPU 97% on builder/compile\r\n"), "no alert in %s", m.data);
	CHECK(strstr(m.data, "\r\n  description: .a line that starts with a dot\r\n"), "no description");
	CHECK(strstr(m.data, alert.fingerprint), "no fingerprint");
	wait_rows(s, "mail", "sent", 1, NULL);
cleanup:
	notifier__stop(nt);
	store__close(s);
	smtp_sink__stop(smtp);
}

TEST(notify_alertmanager_gets_an_array_with_ends_at)
{
	struct notify_alert alerts[2];
	struct delivery f;
	struct sink_request rq;
	char id[37];
	cJSON *b = NULL;

	if (!delivery__start(&f, "[{\"name\": \"am\", \"type\": \"alertmanager\", \"url\": \"%s/\"}]"))
		goto cleanup;
	make_alert(&alerts[0], "compile", true, "CPU 97%");
	make_alert(&alerts[1], "link", false, "CPU 95%");
	make_group(&f.g, alerts, 2, NULL);
	if (!enqueue(f.s, &f.r, &f.g, "firing", id))
		goto cleanup;
	if (!delivery__send(&f) || !wait_rows(f.s, "am", "sent", 1, NULL))
		goto cleanup;
	rq = sink__request(f.sink, 0);
	CHECK_STR(rq.path, "/api/v2/alerts");
	CHECK_STR(rq.content_type, "application/json");
	b = body_json(&rq);
	ASSERT(cJSON_IsArray(b) && cJSON_GetArraySize(b) == 2, "not an array of 2: %s", rq.body);
	CHECK_STR(harness__str(cJSON_GetArrayItem(b, 0), "labels.task"), "compile");
	CHECK_STR(harness__str(cJSON_GetArrayItem(b, 0), "startsAt"), "2026-11-21T05:28:32Z");
	CHECK_STR(harness__str(cJSON_GetArrayItem(b, 0), "endsAt"), "2026-11-21T05:32:32Z");
	CHECK_STR(harness__str(cJSON_GetArrayItem(b, 1), "endsAt"), "2026-11-21T05:30:32Z");
	CHECK_STR(harness__str(cJSON_GetArrayItem(b, 0), "annotations.summary"), "CPU 97%");
	CHECK(!harness__get(cJSON_GetArrayItem(b, 0), "fingerprint"), "postable alerts have no fingerprint");
	CHECK(!strncmp(harness__str(cJSON_GetArrayItem(b, 0), "generatorURL"), "http://127.0.0.1:9470/#/alerts/", 31),
	      "generatorURL");
cleanup:
	cJSON_Delete(b);
	delivery__stop(&f);
}

TEST(notify_rows_committed_before_a_restart_are_delivered)
{
	struct delivery f;
	struct outbox_row row;
	struct outbox_new gone = { "removed", GROUP_KEY, "firing", "{}", "id-gone" };
	char id1[37], id2[37];

	if (!delivery__start(&f, HOOK_AT_SINK))
		goto cleanup;
	/* queued by a daemon that died before sending */
	if (!enqueue(f.s, &f.r, &f.g, "firing", id1) || !enqueue(f.s, &f.r, &f.g, "resolved", id2))
		goto cleanup;
	CHECK_EQ(store__alerts_commit(f.s, NULL, 0, &gone, 1, clock__now_ms()), 0);
	store__close(f.s);

	f.s = open_store();
	if (!f.s || !delivery__send(&f) || !wait_rows(f.s, "hook", "sent", 2, NULL))
		goto cleanup;
	CHECK_EQ(sink__count(f.sink), 2);
	CHECK_STR(sink__request(f.sink, 0).delivery, id1);
	CHECK_STR(sink__request(f.sink, 1).delivery, id2);
	if (wait_rows(f.s, "removed", "dead", 1, &row))
		CHECK_STR(row.last_error, "receiver not configured");
cleanup:
	delivery__stop(&f);
}

TEST(notify_stop_returns_promptly_while_retrying)
{
	struct delivery f;
	struct outbox_row row;
	char id[37];
	__u64 t;

	if (!delivery__start(&f, HOOK_AT_SINK) || !enqueue(f.s, &f.r, &f.g, "firing", id))
		goto cleanup;
	CHECK_EQ(sink__script(f.sink, "429:60"), 0);
	if (!delivery__send(&f) || !wait_attempts(f.s, "hook", 1, &row))
		goto cleanup;
	t = clock__now_ms();
	notifier__stop(f.nt);
	f.nt = NULL;
	CHECK(clock__now_ms() - t < 500, "stop took %llu ms", (unsigned long long)(clock__now_ms() - t));
	if (wait_rows(f.s, "hook", "pending", 1, &row)) {
		CHECK_EQ(row.attempts, 1);
		CHECK_EQ(row.last_status, 429);
		CHECK(row.next_attempt_ms >= clock__now_ms() + 55000, "Retry-After: 60 not kept");
	}
cleanup:
	delivery__stop(&f);
}

TEST(notify_gives_up_on_rows_older_than_max_age)
{
	struct delivery f;
	struct outbox_row row;
	struct outbox_new old = { "hook", GROUP_KEY, "firing", "{}", "id-old" };

	if (!delivery__start(&f, "[{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"%s/\", \"max_age\": \"5s\"}]"))
		goto cleanup;
	CHECK_EQ(sink__script(f.sink, "503"), 0);
	/* queued a minute ago */
	CHECK_EQ(store__alerts_commit(f.s, NULL, 0, &old, 1, clock__now_ms() - 60000), 0);
	if (!delivery__send(&f) || !wait_rows(f.s, "hook", "dead", 1, &row))
		goto cleanup;
	CHECK_EQ(row.attempts, 1);
	CHECK_EQ(row.last_status, 503);
	CHECK_STR(row.last_error, "older than max_age 5s; last attempt: HTTP 503: error");
	CHECK_EQ(sink__count(f.sink), 1);
cleanup:
	delivery__stop(&f);
}
