// SPDX-License-Identifier: MIT
/* Unit tests of the history store (real SQLite files) and of the JSON views of its records. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include "fixtures.h"
#include "harness.h"
#include "lib/clock.h"
#include "history/store.h"
#include "history/views.h"

#define MIN_MS	60000ULL
#define DAY_MS	(24 * 60 * MIN_MS)

static struct store *open_tmp(void)
{
	struct store *s = store__open(harness__tmp("history.db"), false);

	CHECK(s != NULL, "cannot open the store: %s", store__errmsg(NULL));
	return s;
}

static __u64 add(struct store *s, const char *session, const char *agent, const char *task,
		 const char *status, __u64 started_ms, __u64 duration_ms)
{
	struct exec_record r;
	int err;

	fixture__exec(&r, session, agent, task, status, started_ms, duration_ms);
	err = store__upsert_execution(s, &r, NULL, 0);
	CHECK(err == 0, "upsert: %d %s", err, store__errmsg(s));
	return r.id;
}

static int count_executions(struct store *s, const struct exec_filter *f)
{
	struct exec_record *v = NULL;
	int n = -1, err = store__list_executions(s, f, &v, &n);

	CHECK(err == 0, "list: %d %s", err, store__errmsg(s));
	free(v);
	return n;
}

static int count_syscalls(struct store *s, __u64 id)
{
	struct syscall_row *v = NULL;
	int n = -1;

	CHECK(store__syscalls(s, id, &v, &n) == 0, "syscalls: %s", store__errmsg(s));
	free(v);
	return n;
}

static int count_samples(struct store *s, __u64 id)
{
	struct sample_row *v = NULL;
	int n = -1;

	CHECK(store__samples(s, id, &v, &n) == 0, "samples: %s", store__errmsg(s));
	free(v);
	return n;
}

static void add_samples(struct store *s, __u64 id, __u64 first_ts, int n)
{
	struct sample_row rows[16] = {};

	for (int i = 0; i < n && i < 16; i++) {
		rows[i].exec_id = id;
		rows[i].ts_ms = first_ts + 1000ULL * i;
		rows[i].on_cpu_ns = 1000000ULL * (i + 1);
		rows[i].rss_bytes = 4096ULL * (i + 1);
		rows[i].syscalls = 10ULL * i;
		rows[i].net_sent_bytes = 100ULL * i;
		rows[i].net_recv_bytes = 200ULL * i;
		rows[i].processes = 1 + i % 3;
	}
	CHECK(store__add_samples(s, rows, n) == 0, "add_samples: %s", store__errmsg(s));
}

/* Every field distinct and non-zero, strings awkward, one counter beyond INT64_MAX. */
static void full_record(struct exec_record *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->session, "nightly 'build' \"42\"");
	strcpy(r->agent, "builder-é");
	strcpy(r->task, "compile; DROP TABLE executions; --");
	strcpy(r->command, "[\"make\",\"-j8\",\"it's\"]");
	strcpy(r->labels, "{\"team\":\"infra\",\"tier\":\"1\"}");
	r->pid = 31337;
	strcpy(r->status, "failed");
	r->has_exit_code = false;
	r->exit_code = 0;
	r->has_signal = true;
	r->signal = SIGKILL;
	strcpy(r->failure_category, "killed");
	strcpy(r->failure_reason, "killed by SIGKILL from pid 1 (init)");
	strcpy(r->failure_evidence, "{\"signal\":9,\"sender_pid\":1}");
	r->started_at_ms = 1795000000123ULL;
	r->ended_at_ms = 1795000004567ULL;
	r->duration_ms = 4444;
	r->retry_count = 3;
	r->completed_steps = 5;
	r->total_steps = 9;
	strcpy(r->current_step, "link");
	r->on_cpu_ns = 1;
	r->runqueue_wait_ns = 2;
	r->peak_rss_bytes = 3;
	r->minor_faults = 4;
	r->major_faults = 5;
	r->syscalls = 6;
	r->syscall_errors = 7;
	r->net_sent_bytes = 8;
	r->net_recv_bytes = 9;
	r->process_count = 10;
	r->files_created = 11;
	r->files_written = 0xfedcba9876543210ULL;
}

TEST(store_round_trips_every_field)
{
	struct store *s = open_tmp();
	struct exec_record in, out, running;

	ASSERT(s, "no store");
	full_record(&in);
	ASSERT(store__upsert_execution(s, &in, NULL, 0) == 0, "upsert: %s", store__errmsg(s));
	CHECK(in.id == 1, "first id is %llu", (unsigned long long)in.id);
	ASSERT(store__get_execution(s, in.id, &out) == 0, "get: %s", store__errmsg(s));
	CHECK_EQ(out.id, in.id);
	CHECK_STR(out.session, in.session);
	CHECK_STR(out.agent, in.agent);
	CHECK_STR(out.task, in.task);
	CHECK_STR(out.command, in.command);
	CHECK_STR(out.labels, in.labels);
	CHECK_EQ(out.pid, in.pid);
	CHECK_STR(out.status, in.status);
	CHECK(!out.has_exit_code, "has_exit_code came back");
	CHECK(out.has_signal && out.signal == SIGKILL, "signal lost");
	CHECK_STR(out.failure_category, in.failure_category);
	CHECK_STR(out.failure_reason, in.failure_reason);
	CHECK_STR(out.failure_evidence, in.failure_evidence);
	CHECK_EQ(out.started_at_ms, in.started_at_ms);
	CHECK_EQ(out.ended_at_ms, in.ended_at_ms);
	CHECK_EQ(out.duration_ms, in.duration_ms);
	CHECK_EQ(out.retry_count, in.retry_count);
	CHECK_EQ(out.completed_steps, in.completed_steps);
	CHECK_EQ(out.total_steps, in.total_steps);
	CHECK_STR(out.current_step, in.current_step);
	CHECK_EQ(out.on_cpu_ns, 1);
	CHECK_EQ(out.runqueue_wait_ns, 2);
	CHECK_EQ(out.peak_rss_bytes, 3);
	CHECK_EQ(out.minor_faults, 4);
	CHECK_EQ(out.major_faults, 5);
	CHECK_EQ(out.syscalls, 6);
	CHECK_EQ(out.syscall_errors, 7);
	CHECK_EQ(out.net_sent_bytes, 8);
	CHECK_EQ(out.net_recv_bytes, 9);
	CHECK_EQ(out.process_count, 10);
	CHECK_EQ(out.files_created, 11);
	CHECK_EQ(out.files_written, 0xfedcba9876543210ULL);
	/* and nothing else differs: both were zeroed before being filled */
	CHECK(!memcmp(&in, &out, sizeof(in)), "records differ beyond the checked fields");

	/* the other way round: exit code, no signal, still running, unknown progress */
	fixture__exec(&running, "s", "a", "", "running", 1000, 0);
	running.has_exit_code = true;
	running.exit_code = -3;
	ASSERT(store__upsert_execution(s, &running, NULL, 0) == 0, "upsert: %s", store__errmsg(s));
	ASSERT(store__get_execution(s, running.id, &out) == 0, "get: %s", store__errmsg(s));
	CHECK(out.has_exit_code && out.exit_code == -3, "negative exit code lost");
	CHECK(!out.has_signal, "a signal appeared");
	CHECK_EQ(out.ended_at_ms, 0);
	CHECK_EQ(out.completed_steps, -1);
	CHECK(!memcmp(&running, &out, sizeof(out)), "running record differs");

	CHECK(store__get_execution(s, 999, &out) == -ENOENT, "absent id is not -ENOENT");
	store__close(s);
}

TEST(store_survives_restart_and_creates_private_dirs)
{
	char path[512];
	struct exec_record r;
	struct store *s;
	struct stat st;

	snprintf(path, sizeof(path), "%s/a/b/history.db", harness__tmpdir());
	s = store__open(path, true);
	ASSERT(s, "cannot open with create_dirs: %s", store__errmsg(NULL));
	fixture__exec(&r, "s", "a", "t", "completed", 5000, 10);
	CHECK(store__upsert_execution(s, &r, NULL, 0) == 0, "upsert: %s", store__errmsg(s));
	store__close(s);
	CHECK(!stat(harness__tmp("a"), &st) && (st.st_mode & 0777) == 0700, "a is not 0700: %o", st.st_mode & 0777);
	CHECK(!stat(harness__tmp("a/b"), &st) && (st.st_mode & 0777) == 0700, "a/b is not 0700");
	CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600, "database is not 0600: %o", st.st_mode & 0777);

	s = store__open(path, true);
	ASSERT(s, "cannot reopen: %s", store__errmsg(NULL));
	CHECK_EQ(count_executions(s, NULL), 1);
	store__close(s);
	s = store__open_existing(path, true);
	ASSERT(s, "cannot reopen read-only: %s", store__errmsg(NULL));
	CHECK_EQ(count_executions(s, NULL), 1);
	CHECK(store__upsert_execution(s, &r, NULL, 0) < 0, "a read-only store wrote");
	store__close(s);
	store__close(NULL);
}

TEST(store_ids_are_never_reused)
{
	struct store *s = open_tmp();
	struct exec_record r;
	__u64 a, b, c;

	ASSERT(s, "no store");
	a = add(s, "old", "x", "", "completed", 1000, 1);
	b = add(s, "old", "x", "", "completed", 2000, 1);
	CHECK(b > a, "ids not increasing");
	/* an update keeps the id and adds nothing */
	ASSERT(store__get_execution(s, b, &r) == 0, "get");
	r.duration_ms = 77;
	CHECK(store__upsert_execution(s, &r, NULL, 0) == 0, "update: %s", store__errmsg(s));
	CHECK_EQ(r.id, b);
	CHECK_EQ(count_executions(s, NULL), 2);
	ASSERT(store__get_execution(s, b, &r) == 0, "get");
	CHECK_EQ(r.duration_ms, 77);

	CHECK_EQ(store__cleanup(s, 1000000), 2);
	CHECK_EQ(count_executions(s, NULL), 0);
	c = add(s, "new", "x", "", "running", 3000, 0);
	CHECK(c > b, "id %llu reused after delete (max was %llu)", (unsigned long long)c, (unsigned long long)b);
	store__close(s);
	/* and across a restart */
	s = open_tmp();
	ASSERT(s, "no store");
	CHECK(add(s, "new", "x", "", "running", 4000, 0) > c, "id reused after reopen");
	store__close(s);
}

TEST(store_replaces_syscall_rows_on_update)
{
	struct syscall_row first[3] = {
		{ "read", 10, 1, 500, 40, 80, 90, 100 },
		{ "write", 5, 0, 900, 150, 170, 180, 200 },
		{ "openat", 2, 2, 50, 20, 30, 30, 30 },
	};
	struct syscall_row second[2] = {
		{ "futex", 7, 0, 7000, 900, 1000, 1100, 1200 },
		{ "read", 11, 0, 600, 41, 81, 91, 101 },
	};
	struct store *s = open_tmp();
	struct syscall_row *rows = NULL;
	struct exec_record r;
	int n = 0;

	ASSERT(s, "no store");
	fixture__exec(&r, "s", "a", "", "running", 1000, 0);
	ASSERT(store__upsert_execution(s, &r, first, 3) == 0, "insert: %s", store__errmsg(s));
	ASSERT(store__syscalls(s, r.id, &rows, &n) == 0, "syscalls");
	ASSERT(n == 3, "%d rows", n);
	/* longest total first */
	CHECK_STR(rows[0].name, "write");
	CHECK_STR(rows[1].name, "read");
	CHECK(!memcmp(&rows[1], &first[0], sizeof(rows[1])), "read row differs");
	free(rows);

	strcpy(r.status, "completed");
	ASSERT(store__upsert_execution(s, &r, second, 2) == 0, "update: %s", store__errmsg(s));
	ASSERT(store__syscalls(s, r.id, &rows, &n) == 0, "syscalls");
	ASSERT(n == 2, "%d rows after replacing", n);
	CHECK_STR(rows[0].name, "futex");
	CHECK_STR(rows[1].name, "read");
	CHECK_EQ(rows[1].count, 11);
	CHECK_EQ(rows[1].max_ns, 101);
	free(rows);

	/* rows == NULL keeps them; an empty array clears them */
	ASSERT(store__upsert_execution(s, &r, NULL, 0) == 0, "update");
	CHECK_EQ(count_syscalls(s, r.id), 2);
	ASSERT(store__upsert_execution(s, &r, second, 0) == 0, "update");
	CHECK_EQ(count_syscalls(s, r.id), 0);

	/* a failing upsert (duplicate names) changes nothing, not even the record */
	second[1] = second[0];
	r.duration_ms = 999;
	CHECK(store__upsert_execution(s, &r, second, 2) == -EINVAL, "duplicate rows accepted");
	CHECK(strstr(store__errmsg(s), "cannot store syscall rows") != NULL, "message: %s", store__errmsg(s));
	ASSERT(store__get_execution(s, r.id, &r) == 0, "get");
	CHECK_EQ(r.duration_ms, 0);
	/* nor does a record the schema refuses */
	strcpy(r.status, "exploded");
	CHECK(store__upsert_execution(s, &r, NULL, 0) == -EINVAL, "bad status accepted");
	CHECK(store__upsert_execution(s, NULL, NULL, 0) == -EINVAL, "NULL record accepted");
	store__close(s);
}

TEST(store_filters_listings)
{
	struct store *s = open_tmp();
	struct exec_filter f;
	struct exec_record *v = NULL;
	int n = 0;

	ASSERT(s, "no store");
	add(s, "s1", "builder", "", "completed", 1000, 5);
	add(s, "s1", "tester", "", "failed", 2000, 5);
	add(s, "s2", "builder", "", "running", 3000, 0);
	add(s, "s2", "tester", "", "completed", 4000, 5);
	add(s, "s3", "builder", "", "failed", 5000, 5);

	CHECK_EQ(count_executions(s, NULL), 5);
	f = (struct exec_filter){ .status = "failed" };
	CHECK_EQ(count_executions(s, &f), 2);
	f = (struct exec_filter){ .session = "s2" };
	CHECK_EQ(count_executions(s, &f), 2);
	f = (struct exec_filter){ .agent = "builder" };
	CHECK_EQ(count_executions(s, &f), 3);
	f = (struct exec_filter){ .since_ms = 3000 };
	CHECK_EQ(count_executions(s, &f), 3);
	f = (struct exec_filter){ .agent = "builder", .status = "failed", .since_ms = 2000 };
	CHECK_EQ(count_executions(s, &f), 1);
	f = (struct exec_filter){ .session = "nope" };
	CHECK_EQ(count_executions(s, &f), 0);

	f = (struct exec_filter){ .limit = 2 };
	ASSERT(store__list_executions(s, &f, &v, &n) == 0, "list");
	ASSERT(n == 2, "limit 2 gave %d", n);
	/* newest first */
	CHECK_EQ(v[0].started_at_ms, 5000);
	CHECK_EQ(v[1].started_at_ms, 4000);
	free(v);

	/* limit 0 means 100, < 0 all */
	for (int i = 0; i < 100; i++)
		add(s, "bulk", "b", "", "completed", 10000 + i, 1);
	f = (struct exec_filter){};
	CHECK_EQ(count_executions(s, &f), 100);
	f.limit = -1;
	CHECK_EQ(count_executions(s, &f), 105);
	store__close(s);
}

static int stop_after_two(const struct exec_record *r, void *ctx)
{
	int *seen = ctx;

	(void)r;
	return ++*seen == 2 ? 42 : 0;
}

TEST(store_foreach_stops_when_told)
{
	struct store *s = open_tmp();
	int seen = 0;

	ASSERT(s, "no store");
	for (int i = 0; i < 5; i++)
		add(s, "s", "a", "", "completed", 1000 + i, 1);
	CHECK_EQ(store__foreach_execution(s, NULL, stop_after_two, &seen), 42);
	CHECK_EQ(seen, 2);
	store__close(s);
}

static void check_orch(struct store *s, const char *session, const char *status, int execs,
		       int running, int completed, int failed, __u64 started, __u64 ended)
{
	struct orch_record o;
	int err = store__orchestration(s, session, &o);

	if (!CHECK(err == 0, "orchestration %s: %d", session, err))
		return;
	CHECK(!strcmp(o.status, status), "%s: status %s, wanted %s", session, o.status, status);
	CHECK_EQ(o.executions, execs);
	CHECK_EQ(o.running, running);
	CHECK_EQ(o.completed, completed);
	CHECK_EQ(o.failed, failed);
	CHECK_EQ(o.started_at_ms, started);
	CHECK_EQ(o.ended_at_ms, ended);
}

TEST(store_derives_orchestration_status)
{
	struct store *s = open_tmp();
	struct orch_record *o = NULL, one;
	int n = 0;

	ASSERT(s, "no store");
	add(s, "run", "a", "", "completed", 1000, 10);
	add(s, "run", "a", "", "running", 1100, 0);
	add(s, "run", "a", "", "failed", 1200, 10);
	add(s, "done", "a", "", "completed", 2000, 10);
	add(s, "done", "a", "", "completed", 2100, 50);
	add(s, "bad", "a", "", "failed", 3000, 10);
	add(s, "bad", "a", "", "failed", 3100, 10);
	add(s, "mixed", "a", "", "completed", 500, 10);
	add(s, "mixed", "a", "", "failed", 4000, 10);

	check_orch(s, "run", "running", 3, 1, 1, 1, 1000, 0);
	check_orch(s, "done", "completed", 2, 0, 2, 0, 2000, 2150);
	check_orch(s, "bad", "failed", 2, 0, 0, 2, 3000, 3110);
	check_orch(s, "mixed", "partial", 2, 0, 1, 1, 500, 4010);
	CHECK(store__orchestration(s, "nope", &one) == -ENOENT, "unknown session is not -ENOENT");

	/* the most recently active first, even when it started first */
	ASSERT(store__orchestrations(s, 0, &o, &n) == 0, "orchestrations");
	ASSERT(n == 4, "%d orchestrations", n);
	CHECK_STR(o[0].session, "mixed");
	CHECK_STR(o[1].session, "bad");
	CHECK_STR(o[2].session, "done");
	CHECK_STR(o[3].session, "run");
	free(o);
	ASSERT(store__orchestrations(s, 2, &o, &n) == 0, "orchestrations");
	CHECK_EQ(n, 2);
	free(o);
	store__close(s);
}

TEST(store_computes_performance)
{
	/* durations out of order: nearest rank must sort them */
	static const int durations[10] = { 70, 10, 100, 40, 30, 90, 20, 60, 50, 80 };
	struct store *s = open_tmp();
	struct perf_record *p = NULL;
	int n = 0;

	ASSERT(s, "no store");
	for (int i = 0; i < 10; i++)
		add(s, "s", "alpha", "", i < 2 ? "failed" : "completed", 10000 + i, durations[i]);
	add(s, "s", "alpha", "", "running", 20000, 100000);	/* not finished: ignored */
	add(s, "s", "beta", "", "completed", 30000, 7);
	add(s, "old", "gamma", "", "failed", 100, 3);

	ASSERT(store__performance(s, 0, &p, &n) == 0, "performance: %s", store__errmsg(s));
	ASSERT(n == 3, "%d agents", n);
	CHECK_STR(p[0].agent, "alpha");
	CHECK_EQ(p[0].count, 10);
	CHECK_EQ(p[0].succeeded, 8);
	CHECK(p[0].success_rate > 0.799 && p[0].success_rate < 0.801, "success rate %f", p[0].success_rate);
	CHECK_EQ(p[0].min_ms, 10);
	CHECK_EQ(p[0].avg_ms, 55);
	CHECK_EQ(p[0].p50_ms, 50);	/* rank ceil(5) = 5 */
	CHECK_EQ(p[0].p95_ms, 100);	/* rank ceil(9.5) = 10 */
	CHECK_EQ(p[0].max_ms, 100);
	CHECK_STR(p[1].agent, "beta");
	CHECK_EQ(p[1].count, 1);
	CHECK_EQ(p[1].p50_ms, 7);
	CHECK_EQ(p[1].p95_ms, 7);
	CHECK(p[1].success_rate == 1.0, "beta success rate %f", p[1].success_rate);
	CHECK_STR(p[2].agent, "gamma");
	CHECK(p[2].success_rate == 0.0, "gamma success rate %f", p[2].success_rate);
	free(p);

	ASSERT(store__performance(s, 1000, &p, &n) == 0, "performance since");
	CHECK_EQ(n, 2);
	free(p);
	ASSERT(store__performance(s, 99999999, &p, &n) == 0, "performance of nothing");
	CHECK_EQ(n, 0);
	free(p);
	store__close(s);
}

TEST(store_lists_failures_newest_first_and_counts_retries)
{
	struct store *s = open_tmp();
	struct exec_record *v = NULL;
	__u64 f1, f2, f3;
	int n = 0;

	ASSERT(s, "no store");
	f1 = add(s, "s", "a", "t", "failed", 1000, 1);
	add(s, "s", "a", "t", "completed", 1500, 1);
	f2 = add(s, "s", "a", "t", "failed", 2000, 1);
	f3 = add(s, "s", "a", "other", "failed", 3000, 1);
	add(s, "s", "a", "t", "running", 4000, 0);

	ASSERT(store__failures(s, 2, &v, &n) == 0, "failures");
	ASSERT(n == 2, "%d failures", n);
	CHECK_EQ(v[0].id, f3);
	CHECK_EQ(v[1].id, f2);
	free(v);
	ASSERT(store__failures(s, 0, &v, &n) == 0, "failures");
	CHECK(n == 3 && v[2].id == f1, "oldest failure not last");
	free(v);

	CHECK_EQ(store__count_failed(s, "s", "a", "t"), 2);
	CHECK_EQ(store__count_failed(s, "s", "a", "other"), 1);
	CHECK_EQ(store__count_failed(s, "s", "b", "t"), 0);
	CHECK_EQ(store__count_failed(s, "nope", "a", "t"), 0);
	store__close(s);
}

TEST(store_cleanup_deletes_old_sessions_with_their_rows)
{
	struct syscall_row rows[2] = { { "read", 1, 0, 10, 1, 1, 1, 1 }, { "write", 1, 0, 10, 1, 1, 1, 1 } };
	__u64 now = clock__now_ms(), old = now - 40 * DAY_MS, recent = now - DAY_MS;
	struct store *s = open_tmp();
	struct exec_record r, got;
	__u64 old1, old2, mixed_old, mixed_new, lingering;

	ASSERT(s, "no store");
	fixture__exec(&r, "old", "a", "", "completed", old, 10);
	CHECK(store__upsert_execution(s, &r, rows, 2) == 0, "upsert");
	old1 = r.id;
	fixture__exec(&r, "old", "a", "", "failed", old + 1000, 10);
	CHECK(store__upsert_execution(s, &r, rows, 2) == 0, "upsert");
	old2 = r.id;
	add_samples(s, old1, old, 4);
	add_samples(s, old2, old + 1000, 3);
	fixture__exec(&r, "mixed", "a", "", "completed", old, 10);
	CHECK(store__upsert_execution(s, &r, rows, 2) == 0, "upsert");
	mixed_old = r.id;
	add_samples(s, mixed_old, old, 2);
	mixed_new = add(s, "mixed", "a", "", "completed", recent, 10);
	/* started long ago but still running: its session stays */
	lingering = add(s, "lingering", "a", "", "running", old, 0);
	add_samples(s, lingering, old, 2);

	CHECK_EQ(count_executions(s, NULL), 5);
	CHECK_EQ(store__cleanup(s, now - 30 * DAY_MS), 2);

	CHECK_EQ(count_executions(s, NULL), 3);
	CHECK(store__get_execution(s, old1, &got) == -ENOENT, "old1 still there");
	CHECK(store__get_execution(s, old2, &got) == -ENOENT, "old2 still there");
	CHECK_EQ(count_syscalls(s, old1), 0);
	CHECK_EQ(count_syscalls(s, old2), 0);
	CHECK_EQ(count_samples(s, old1), 0);
	CHECK_EQ(count_samples(s, old2), 0);
	CHECK(store__orchestration(s, "old", &(struct orch_record){}) == -ENOENT, "old session still listed");
	/* what stays keeps its rows */
	CHECK_EQ(count_syscalls(s, mixed_old), 2);
	CHECK_EQ(count_samples(s, mixed_old), 2);
	CHECK_EQ(count_samples(s, lingering), 2);
	CHECK(store__get_execution(s, mixed_new, &got) == 0, "recent execution deleted");
	CHECK_EQ(store__cleanup(s, now - 30 * DAY_MS), 0);
	store__close(s);
}

TEST(store_marks_running_as_lost_and_prunes_samples)
{
	struct store *s = open_tmp();
	struct exec_record r;
	__u64 sampled, unsampled, done;

	ASSERT(s, "no store");
	sampled = add(s, "s", "a", "", "running", 10000, 0);
	add_samples(s, sampled, 11000, 5);	/* last at 15000 */
	unsampled = add(s, "s", "a", "", "running", 20000, 0);
	done = add(s, "s", "a", "", "completed", 5000, 100);

	CHECK_EQ(store__mark_running_as_lost(s, 90000), 2);
	ASSERT(store__get_execution(s, sampled, &r) == 0, "get");
	CHECK_STR(r.status, "failed");
	CHECK_STR(r.failure_category, STORE_LOST_CATEGORY);
	CHECK_STR(r.failure_reason, "the daemon stopped while it ran");
	CHECK_EQ(r.ended_at_ms, 15000);
	CHECK_EQ(r.duration_ms, 5000);
	ASSERT(store__get_execution(s, unsampled, &r) == 0, "get");
	CHECK_STR(r.status, "failed");
	CHECK_EQ(r.ended_at_ms, 90000);
	CHECK_EQ(r.duration_ms, 70000);
	ASSERT(store__get_execution(s, done, &r) == 0, "get");
	CHECK_STR(r.status, "completed");
	CHECK_STR(r.failure_category, "");
	CHECK_EQ(store__mark_running_as_lost(s, 90000), 0);

	/* samples: a retry of the same timestamp replaces, pruning goes by age */
	add_samples(s, sampled, 11000, 1);
	CHECK_EQ(count_samples(s, sampled), 5);
	CHECK_EQ(store__prune_samples(s, 13000), 2);
	CHECK_EQ(count_samples(s, sampled), 3);
	{
		struct sample_row *v = NULL;
		int n = 0;

		ASSERT(store__samples(s, sampled, &v, &n) == 0 && n == 3, "samples");
		CHECK_EQ(v[0].ts_ms, 13000);	/* oldest first */
		CHECK_EQ(v[2].ts_ms, 15000);
		CHECK_EQ(v[2].rss_bytes, 4096 * 5);
		CHECK_EQ(v[2].processes, 2);
		free(v);
	}
	/* a sample of an unknown execution is refused, and the batch with it */
	{
		struct sample_row bad[2] = { { .exec_id = sampled, .ts_ms = 99000 }, { .exec_id = 9999, .ts_ms = 1 } };

		CHECK(store__add_samples(s, bad, 2) == -EINVAL, "orphan sample accepted");
		CHECK_EQ(count_samples(s, sampled), 3);
	}
	store__close(s);
}

/* The child commits one execution, then dies by SIGKILL in a write transaction whose pages reached the WAL. */
static void crash_child(const char *path, int ready_fd)
{
	static const char uncommitted[] =
		"PRAGMA cache_size = 10;"
		"BEGIN IMMEDIATE;"
		"INSERT INTO executions (session, agent, task, command, labels, pid, status, failure_category,"
		" failure_reason, failure_evidence, started_at_ms, duration_ms, retry_count, completed_steps,"
		" total_steps, current_step, on_cpu_ns, runqueue_wait_ns, peak_rss_bytes, minor_faults,"
		" major_faults, syscalls, syscall_errors, net_sent_bytes, net_recv_bytes, process_count,"
		" files_created, files_written, peak_memory_bytes, user_cpu_ns, system_cpu_ns)"
		" WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
		" SELECT 'uncommitted', 'b', '', '[]', '{}', i, 'running', '', '', '{}', i, 0, 0, -1, -1, '',"
		" 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM n;";
	struct store *s = store__open(path, false);
	struct exec_record r;
	sqlite3 *db = NULL;

	fixture__exec(&r, "committed", "a", "", "completed", 1000, 10);
	if (!s || store__upsert_execution(s, &r, NULL, 0))
		_exit(1);
	if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, uncommitted, NULL, NULL, NULL) != SQLITE_OK)
		_exit(2);
	if (write(ready_fd, "x", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

TEST(store_keeps_committed_executions_across_kill_9)
{
	const char *path = harness__tmp("crash.db");
	struct exec_record *v = NULL;
	struct stat wal;
	struct store *s;
	int fds[2], status, n = 0;
	char c;
	pid_t pid;

	ASSERT(pipe(fds) == 0, "pipe");
	pid = fork();
	ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		close(fds[0]);
		crash_child(path, fds[1]);
	}
	close(fds[1]);
	if (!CHECK(read(fds[0], &c, 1) == 1, "child did not get ready")) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(fds[0]);
		return;
	}
	close(fds[0]);
	CHECK(!stat(harness__tmp("crash.db-wal"), &wal) && wal.st_size > 100000,
	      "uncommitted pages did not reach the WAL (%lld bytes)", (long long)wal.st_size);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child was not killed: %x", status);

	s = store__open(path, false);
	ASSERT(s, "cannot reopen after the crash: %s", store__errmsg(NULL));
	CHECK(store__integrity_check(s) == 0, "integrity: %s", store__errmsg(s));
	ASSERT(store__list_executions(s, &(struct exec_filter){ .limit = -1 }, &v, &n) == 0, "list");
	CHECK(n == 1, "%d executions after the crash, wanted the committed one", n);
	if (n >= 1)
		CHECK_STR(v[0].session, "committed");
	free(v);
	/* and the write lock died with the child */
	CHECK(add(s, "after", "a", "", "completed", 2000, 1) == 2, "the next id is not 2");
	store__close(s);
}

TEST(store_open_failures_say_why)
{
	const char *text = harness__tmp("not-a-db");
	struct store *s;
	sqlite3 *db = NULL;
	FILE *f;

	s = store__open("/proc/x/y.db", true);
	CHECK(!s && errno == ENOENT, "opened under /proc (errno %d)", errno);
	CHECK(strstr(store__errmsg(NULL), "cannot create directory /proc/x") != NULL, "message: %s",
	      store__errmsg(NULL));
	s = store__open("/proc/x/y.db", false);
	CHECK(!s, "opened under /proc");
	CHECK(strstr(store__errmsg(NULL), "cannot create /proc/x/y.db") != NULL, "message: %s", store__errmsg(NULL));

	s = store__open_existing(harness__tmp("absent.db"), true);
	CHECK(!s && errno == ENOENT, "opened an absent database");
	CHECK(strstr(store__errmsg(NULL), "no database at ") != NULL, "message: %s", store__errmsg(NULL));
	CHECK(access(harness__tmp("absent.db"), F_OK) != 0, "opening read-only created the file");

	f = fopen(text, "w");
	ASSERT(f, "fopen");
	fputs("hello, this is not SQLite, but it needs to be long enough to hold a header....\n", f);
	fclose(f);
	s = store__open_existing(text, true);
	CHECK(!s, "opened a text file");
	CHECK(strstr(store__errmsg(NULL), "not a database") != NULL, "message: %s", store__errmsg(NULL));
	s = store__open(text, false);
	CHECK(!s, "opened a text file read-write");

	/* someone else's SQLite database is left alone */
	ASSERT(sqlite3_open(harness__tmp("other.db"), &db) == SQLITE_OK, "sqlite3_open");
	sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL);
	sqlite3_close(db);
	s = store__open(harness__tmp("other.db"), false);
	CHECK(!s, "took over another database");
	CHECK(strstr(store__errmsg(NULL), "not workerwatch's") != NULL, "message: %s", store__errmsg(NULL));
	CHECK(strchr(store__errmsg(NULL), '\n') == NULL, "message is not one line");
}

/* ---- views ---- */

static const char *const report_execution_fields[] = {
	"id", "session", "agent", "task", "command", "pid", "status", "exit_code", "signal", "failure",
	"started_at", "ended_at", "duration_ms",
};

TEST(views_exec_has_report_fields_and_nulls)
{
	struct exec_record r;
	const cJSON *m;
	cJSON *v;

	fixture__exec(&r, "s", "a", "t", "running", 1795000000123ULL, 42);
	r.id = 7;
	v = views__exec(&r);
	ASSERT(v, "no view");
	for (size_t i = 0; i < sizeof(report_execution_fields) / sizeof(*report_execution_fields); i++)
		CHECK(cJSON_HasObjectItem(v, report_execution_fields[i]), "no %s", report_execution_fields[i]);
	CHECK_EQ(harness__num(v, "id"), 7);
	CHECK_STR(harness__str(v, "status"), "running");
	CHECK(cJSON_IsArray(harness__get(v, "command")), "command is not an array");
	CHECK_STR(cJSON_GetArrayItem(harness__get(v, "command"), 0)->valuestring, "/bin/true");
	CHECK(cJSON_IsNull(harness__get(v, "exit_code")), "exit_code not null");
	CHECK(cJSON_IsNull(harness__get(v, "signal")), "signal not null");
	CHECK(cJSON_IsNull(harness__get(v, "failure")), "failure not null");
	CHECK(cJSON_IsNull(harness__get(v, "ended_at")), "ended_at not null while running");
	CHECK_STR(harness__str(v, "started_at"), "2026-11-18T11:06:40.123Z");
	CHECK_EQ(harness__num(v, "duration_ms"), 42);
	CHECK(cJSON_IsObject(harness__get(v, "labels")), "labels is not an object");
	CHECK_EQ(harness__num(v, "retry_count"), 0);
	CHECK(cJSON_IsNull(harness__get(v, "progress.completed_steps")), "completed_steps not null");
	CHECK(cJSON_IsNull(harness__get(v, "progress.total_steps")), "total_steps not null");
	CHECK(cJSON_IsNull(harness__get(v, "progress.current_step")), "current_step not null");
	m = harness__get(v, "metrics");
	CHECK_EQ(cJSON_GetArraySize(m), 15);
	cJSON_Delete(v);

	full_record(&r);
	r.id = 8;
	v = views__exec(&r);
	ASSERT(v, "no view");
	CHECK_STR(harness__str(v, "session"), "nightly 'build' \"42\"");
	CHECK_EQ(cJSON_GetArraySize(harness__get(v, "command")), 3);
	CHECK_STR(harness__str(v, "labels.team"), "infra");
	CHECK(cJSON_IsNull(harness__get(v, "exit_code")), "exit_code not null");
	CHECK_EQ(harness__num(v, "signal"), SIGKILL);
	CHECK_STR(harness__str(v, "failure.category"), "killed");
	CHECK_STR(harness__str(v, "failure.reason"), "killed by SIGKILL from pid 1 (init)");
	CHECK_EQ(harness__num(v, "failure.evidence.sender_pid"), 1);
	CHECK_STR(harness__str(v, "ended_at"), "2026-11-18T11:06:44.567Z");
	CHECK_EQ(harness__num(v, "retry_count"), 3);
	CHECK_EQ(harness__num(v, "progress.completed_steps"), 5);
	CHECK_EQ(harness__num(v, "progress.total_steps"), 9);
	CHECK_STR(harness__str(v, "progress.current_step"), "link");
	CHECK_EQ(harness__num(v, "metrics.on_cpu_ns"), 1);
	CHECK_EQ(harness__num(v, "metrics.runqueue_wait_ns"), 2);
	CHECK_EQ(harness__num(v, "metrics.peak_rss_bytes"), 3);
	CHECK_EQ(harness__num(v, "metrics.minor_faults"), 4);
	CHECK_EQ(harness__num(v, "metrics.major_faults"), 5);
	CHECK_EQ(harness__num(v, "metrics.syscalls"), 6);
	CHECK_EQ(harness__num(v, "metrics.syscall_errors"), 7);
	CHECK_EQ(harness__num(v, "metrics.net_sent_bytes"), 8);
	CHECK_EQ(harness__num(v, "metrics.net_recv_bytes"), 9);
	CHECK_EQ(harness__num(v, "metrics.process_count"), 10);
	CHECK_EQ(harness__num(v, "metrics.files_created"), 11);
	CHECK(harness__num(v, "metrics.files_written") > 1e19, "files_written lost its size");
	cJSON_Delete(v);

	/* damaged stored JSON degrades to empty values, never to a missing view */
	strcpy(r.command, "[\"unterminated");
	strcpy(r.labels, "[1,2]");
	strcpy(r.failure_evidence, "");
	v = views__exec(&r);
	ASSERT(v, "no view of damaged JSON");
	CHECK(cJSON_IsArray(harness__get(v, "command")) && !cJSON_GetArraySize(harness__get(v, "command")),
	      "damaged command not []");
	CHECK(cJSON_IsObject(harness__get(v, "labels")), "labels not an object");
	CHECK(cJSON_IsObject(harness__get(v, "failure.evidence")), "evidence not an object");
	cJSON_Delete(v);
}

TEST(views_syscalls_samples_orch_perf)
{
	struct syscall_row rows[2] = {
		{ "read", 10, 1, 500, 40, 80, 90, 100 },
		{ "clock_nanosleep", 3, 0, 30000, 10000, 10001, 10002, 10003 },
	};
	struct sample_row samples[2] = {
		{ 1, 1795000000000ULL, 5, 4096, 7, 8, 9, 2 },
		{ 1, 1795000001000ULL, 6, 8192, 8, 9, 10, 3 },
	};
	struct orch_record running = { "ci", "running", 2, 1, 1, 0, 1795000000000ULL, 0 };
	struct orch_record done = { "ci", "partial", 2, 0, 1, 1, 1795000000000ULL, 1795000002500ULL };
	struct perf_record perf = { "builder", 10, 8, 0.8, 10, 55, 50, 100, 100 };
	static const char *const sc_fields[] = { "count", "errors", "total_ns", "p50_ns", "p90_ns", "p99_ns", "max_ns" };
	cJSON *v;

	v = views__syscalls(rows, 2);
	ASSERT(v, "no syscalls view");
	CHECK_EQ(cJSON_GetArraySize(v), 2);
	for (size_t i = 0; i < sizeof(sc_fields) / sizeof(*sc_fields); i++)
		CHECK(cJSON_HasObjectItem(harness__get(v, "read"), sc_fields[i]), "no read.%s", sc_fields[i]);
	CHECK_EQ(harness__num(v, "read.errors"), 1);
	CHECK_EQ(harness__num(v, "clock_nanosleep.max_ns"), 10003);
	cJSON_Delete(v);
	v = views__syscalls(NULL, 0);
	CHECK(cJSON_IsObject(v) && !cJSON_GetArraySize(v), "empty syscalls not {}");
	cJSON_Delete(v);

	v = views__samples(samples, 2);
	ASSERT(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2, "samples not an array of 2");
	{
		const cJSON *s1 = cJSON_GetArrayItem(v, 1);

		CHECK_STR(harness__str(s1, "ts"), "2026-11-18T11:06:41.000Z");
		CHECK_EQ(harness__num(s1, "on_cpu_ns"), 6);
		CHECK_EQ(harness__num(s1, "rss_bytes"), 8192);
		CHECK_EQ(harness__num(s1, "syscalls"), 8);
		CHECK_EQ(harness__num(s1, "net_sent_bytes"), 9);
		CHECK_EQ(harness__num(s1, "net_recv_bytes"), 10);
		CHECK_EQ(harness__num(s1, "processes"), 3);
		CHECK_EQ(cJSON_GetArraySize(s1), 7);
	}
	cJSON_Delete(v);

	v = views__orch(&running);
	ASSERT(v, "no orch view");
	CHECK_STR(harness__str(v, "session"), "ci");
	CHECK_STR(harness__str(v, "status"), "running");
	CHECK_EQ(harness__num(v, "counts.executions"), 2);
	CHECK_EQ(harness__num(v, "counts.running"), 1);
	CHECK_EQ(harness__num(v, "counts.completed"), 1);
	CHECK_EQ(harness__num(v, "counts.failed"), 0);
	CHECK(!cJSON_HasObjectItem(v, "executions"), "\"executions\" is taken by a count");
	CHECK_STR(harness__str(v, "started_at"), "2026-11-18T11:06:40.000Z");
	CHECK(cJSON_IsNull(harness__get(v, "ended_at")), "ended_at not null while running");
	CHECK(cJSON_IsNull(harness__get(v, "duration_ms")), "duration_ms not null while running");
	cJSON_Delete(v);
	v = views__orch(&done);
	CHECK_STR(harness__str(v, "ended_at"), "2026-11-18T11:06:42.500Z");
	CHECK_EQ(harness__num(v, "duration_ms"), 2500);
	cJSON_Delete(v);

	v = views__perf(&perf);
	ASSERT(v, "no perf view");
	CHECK_STR(harness__str(v, "agent"), "builder");
	CHECK_EQ(harness__num(v, "count"), 10);
	CHECK_EQ(harness__num(v, "succeeded"), 8);
	CHECK_EQ(harness__num(v, "failed"), 2);
	CHECK(harness__num(v, "success_rate") == 0.8, "success_rate");
	CHECK_EQ(harness__num(v, "min_ms"), 10);
	CHECK_EQ(harness__num(v, "avg_ms"), 55);
	CHECK_EQ(harness__num(v, "p50_ms"), 50);
	CHECK_EQ(harness__num(v, "p95_ms"), 100);
	CHECK_EQ(harness__num(v, "max_ms"), 100);
	cJSON_Delete(v);
}

TEST(store_keeps_extras_and_migrates_a_version_1_database)
{
	struct store *s = open_tmp();
	char *json = NULL, cmd[1024];
	__u64 id;

	ASSERT(s, "no store");
	id = add(s, "x", "a", "", "completed", 1000, 1);
	CHECK(store__put_extra(s, id, "runqueue_latency", "{\"count\":3}") == 0, "put: %s", store__errmsg(s));
	CHECK(store__put_extra(s, id, "runqueue_latency", "{\"count\":4}") == 0, "replace: %s", store__errmsg(s));
	CHECK(store__get_extra(s, id, "runqueue_latency", &json) == 0 && json && !strcmp(json, "{\"count\":4}"),
	      "got %s", json ? json : "(null)");
	free(json);
	CHECK(store__get_extra(s, id, "nothing", &json) == -ENOENT, "absent extra found");
	CHECK_EQ(store__cleanup(s, 1000000), 1);
	CHECK(store__get_extra(s, id, "runqueue_latency", &json) == -ENOENT, "extra outlived its execution");
	id = add(s, "y", "a", "", "completed", 2000000, 1);
	store__close(s);

	/* a database as version 1 left it: no extras table */
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'DROP TABLE execution_extras; PRAGMA user_version = 1;'",
		 harness__tmp("history.db"));
	ASSERT(system(cmd) == 0, "cannot make a version 1 database");
	s = open_tmp();
	ASSERT(s, "version 1 database not opened: %s", store__errmsg(NULL));
	CHECK(store__put_extra(s, id, "slow_syscalls", "{}") == 0, "no extras after migration: %s", store__errmsg(s));
	CHECK(store__integrity_check(s) == 0, "integrity check failed after migration");
	store__close(s);
}

/* A metric added to history/exec_metrics.h gains its columns in a database made before it. */
TEST(store_adds_the_columns_of_new_metrics)
{
	struct store *s = open_tmp();
	struct exec_record r;
	struct sample_row row = { .ts_ms = 5000 }, *samples = NULL;
	char cmd[1024];
	int n = 0;
	__u64 id;

	ASSERT(s, "no store");
	id = add(s, "x", "a", "", "completed", 1000, 1);
	store__close(s);
	/* a database from before files_written and processes were metrics */
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'ALTER TABLE executions DROP COLUMN files_written;"
		 " ALTER TABLE samples DROP COLUMN processes;'", harness__tmp("history.db"));
	ASSERT(system(cmd) == 0, "cannot drop the columns");
	s = open_tmp();
	ASSERT(s, "database without the columns not opened: %s", store__errmsg(NULL));
	ASSERT(store__get_execution(s, id, &r) == 0, "the old row is gone: %s", store__errmsg(s));
	CHECK_EQ(r.files_written, 0);
	r.files_written = 7;
	CHECK(store__upsert_execution(s, &r, NULL, 0) == 0, "upsert: %s", store__errmsg(s));
	CHECK(store__get_execution(s, id, &r) == 0 && r.files_written == 7, "files_written %llu",
	      (unsigned long long)r.files_written);
	row.exec_id = id;
	row.processes = 3;
	CHECK(store__add_samples(s, &row, 1) == 0, "samples: %s", store__errmsg(s));
	CHECK(store__samples(s, id, &samples, &n) == 0 && n == 1 && samples[0].processes == 3,
	      "samples read back: %d", n);
	free(samples);
	CHECK(store__integrity_check(s) == 0, "integrity check failed");
	store__close(s);

	/* a reader (the history commands open read-only) brings it up to date too, then reads it */
	ASSERT(system(cmd) == 0, "cannot drop the columns again");
	s = store__open_existing(harness__tmp("history.db"), true);
	ASSERT(s, "read-only open of a database without the columns: %s", store__errmsg(NULL));
	CHECK(store__get_execution(s, id, &r) == 0 && r.files_written == 0, "read-only: %s", store__errmsg(s));
	store__close(s);
	/* one that cannot be written says why */
	ASSERT(system(cmd) == 0, "cannot drop the columns a third time");
	chmod(harness__tmp("history.db"), 0400);
	if (geteuid()) {
		s = store__open_existing(harness__tmp("history.db"), true);
		CHECK(!s && strstr(store__errmsg(NULL), "older workerwatch"), "'%s'", store__errmsg(NULL));
		store__close(s);
	}
}
