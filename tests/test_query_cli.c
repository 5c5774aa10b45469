// SPDX-License-Identifier: MIT
/* The history queries as a user meets them: the real binary on a database built with the store. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "fixtures.h"
#include "harness.h"
#include "lib/clock.h"
#include "history/store.h"

#define HOUR_MS	3600000ULL
#define DAY_MS	(24 * HOUR_MS)

static char ww[512], db[512];

struct ids {
	__u64 compile, unit, live, archived;
};

/* The shared record with this history's command, labels, pid and metrics. */
static void exec_rec(struct exec_record *r, const char *session, const char *agent, const char *task,
		     const char *status, __u64 started, __u64 duration)
{
	fixture__exec(r, session, agent, task, status, started, duration);
	strcpy(r->command, "[\"make\",\"test\"]");
	strcpy(r->labels, "{\"team\":\"infra\"}");
	r->pid = 1000;
	r->on_cpu_ns = 250000000;
	r->peak_rss_bytes = 1048576;
	r->syscalls = 1234;
	r->syscall_errors = 5;
	r->net_sent_bytes = 2048;
	r->process_count = 3;
}

/*
 * nightly: compile (builder, completed 2 h ago, 1.5 s, syscalls and samples)
 *          and unit (tester, failed with code 3 an hour ago); partial.
 * adhoc:   builder, running now.
 * archive: archiver, completed 40 days ago.
 */
static bool build_history(struct ids *ids)
{
	struct syscall_row rows[2] = {
		{ "read", 100, 2, 5000000, 10000, 20000, 30000, 40000 },
		{ "write", 50, 0, 9000000, 50000, 60000, 70000, 80000 },
	};
	__u64 now = clock__now_ms();
	struct sample_row samples[3];
	struct exec_record r;
	struct store *s;
	bool ok = true;

	snprintf(ww, sizeof(ww), "%s/workerwatch", harness__bin());
	snprintf(db, sizeof(db), "%s", harness__tmp("history.db"));
	s = store__open(db, false);
	if (!CHECK(s != NULL, "cannot create %s: %s", db, store__errmsg(NULL)))
		return false;

	exec_rec(&r, "nightly", "builder", "compile", "completed", now - 2 * HOUR_MS, 1500);
	ok &= store__upsert_execution(s, &r, rows, 2) == 0;
	ids->compile = r.id;
	for (int i = 0; i < 3; i++)
		samples[i] = (struct sample_row){ r.id, r.started_at_ms + 500 * i, 1000000ULL * i, 4096ULL << i,
						  10ULL * i, 0, 0, 1 };
	ok &= store__add_samples(s, samples, 3) == 0;

	exec_rec(&r, "nightly", "tester", "unit", "failed", now - HOUR_MS, 800);
	r.exit_code = 3;
	strcpy(r.failure_category, "exit_nonzero");
	strcpy(r.failure_reason, "exited with code 3");
	strcpy(r.failure_evidence, "{\"exit_code\":3}");
	ok &= store__upsert_execution(s, &r, NULL, 0) == 0;
	ids->unit = r.id;

	exec_rec(&r, "adhoc", "builder", "", "running", now - 1000, 1000);
	ok &= store__upsert_execution(s, &r, NULL, 0) == 0;
	ids->live = r.id;

	exec_rec(&r, "archive", "archiver", "pack", "completed", now - 40 * DAY_MS, 60000);
	ok &= store__upsert_execution(s, &r, NULL, 0) == 0;
	ids->archived = r.id;

	CHECK(ok, "cannot fill the history: %s", store__errmsg(s));
	store__close(s);
	return ok;
}

/* Runs workerwatch with args and --db; returns its result (caller frees). */
static struct cmd_result query(int want_exit, const char *const *args)
{
	char *argv[16] = { ww };
	struct cmd_result r;
	int n = 1;

	for (; *args && n < 13; args++)
		argv[n++] = (char *)*args;
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n] = NULL;
	harness__run(argv, 30, &r);
	CHECK(r.exit_code == want_exit, "%s %s: exit %d, wanted %d\nstdout: %s\nstderr: %s", argv[1],
	      argv[2] ? argv[2] : "", r.exit_code, want_exit, r.out, r.err);
	return r;
}

#define Q(want, ...) query((want), (const char *const[]){ __VA_ARGS__, NULL })

/* Runs a --json query and parses its output. */
static cJSON *query_json(const char *const *args)
{
	struct cmd_result r = query(0, args);
	cJSON *v = cJSON_Parse(r.out);

	CHECK(v != NULL, "not JSON: %s", r.out);
	CHECK(r.err[0] == '\0', "stderr not empty: %s", r.err);
	harness__free_result(&r);
	return v;
}

#define QJ(...) query_json((const char *const[]){ __VA_ARGS__, NULL })

static bool has(const char *text, const char *want)
{
	return CHECK(text && strstr(text, want), "output lacks '%s':\n%s", want, text ? text : "(null)");
}

/* The line of text containing word, as an offset into text, or -1. */
static const char *line_with(const char *text, const char *word)
{
	const char *p = strstr(text, word);

	if (!p)
		return NULL;
	while (p > text && p[-1] != '\n')
		p--;
	return p;
}

/*
 * Column alignment: on the line containing row_key, cell starts where the
 * header starts (left-aligned) or ends where it ends (right-aligned).
 */
static void check_column(const char *text, const char *header_word, const char *row_key, const char *cell)
{
	const char *hl = line_with(text, header_word), *rl = line_with(text, row_key);
	long hstart, hend;
	const char *rc;

	if (!CHECK(hl && rl, "no header '%s' or row '%s':\n%s", header_word, row_key, text))
		return;
	hstart = strstr(hl, header_word) - hl;
	hend = hstart + (long)strlen(header_word);
	for (rc = strstr(rl, cell); rc && rc < strchrnul(rl, '\n'); rc = strstr(rc + 1, cell)) {
		long start = rc - rl, end = start + (long)strlen(cell);

		if (start == hstart || (end == hend && (rc[strlen(cell)] == ' ' || rc[strlen(cell)] == '\n')))
			return;
	}
	CHECK(false, "'%s' not under '%s' on the line of '%s':\n%s", cell, header_word, row_key, text);
}

/* The error is one line starting with "workerwatch: " and containing want. */
static void check_error(char *const argv[], int want_exit, const char *want)
{
	struct cmd_result r;

	harness__run(argv, 30, &r);
	CHECK(r.exit_code == want_exit, "%s: exit %d, wanted %d (%s)", want, r.exit_code, want_exit, r.err);
	CHECK(strstr(r.err, want) != NULL, "stderr lacks '%s': %s", want, r.err);
	CHECK(!strncmp(r.err, "workerwatch: ", 13), "error does not start with 'workerwatch: ': %s", r.err);
	CHECK(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "error is not one line: %s", r.err);
	CHECK(r.out[0] == '\0', "stdout not empty on error: %s", r.out);
	harness__free_result(&r);
}

#define ERR(want_exit, want, ...) check_error((char *const[]){ ww, __VA_ARGS__, NULL }, (want_exit), (want))

TEST(query_list)
{
	struct ids ids;
	struct cmd_result r;
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	r = Q(0, "list");
	has(r.out, "SESSION");
	has(r.out, "EXECUTIONS");
	check_column(r.out, "STATUS", "nightly", "partial");
	check_column(r.out, "STATUS", "adhoc", "running");
	check_column(r.out, "STATUS", "archive", "completed");
	/* the most recently active first */
	CHECK(strstr(r.out, "adhoc") < strstr(r.out, "nightly") && strstr(r.out, "nightly") < strstr(r.out, "archive"),
	      "not most recent first:\n%s", r.out);
	CHECK(r.err[0] == '\0', "stderr: %s", r.err);
	harness__free_result(&r);

	v = QJ("--json", "list");
	ASSERT(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 3, "not an array of 3");
	CHECK_STR(harness__str(cJSON_GetArrayItem(v, 0), "session"), "adhoc");
	CHECK_STR(harness__str(cJSON_GetArrayItem(v, 0), "status"), "running");
	CHECK(cJSON_IsNull(harness__get(cJSON_GetArrayItem(v, 0), "ended_at")), "running has an end");
	CHECK_STR(harness__str(cJSON_GetArrayItem(v, 1), "status"), "partial");
	CHECK_EQ(harness__num(cJSON_GetArrayItem(v, 1), "counts.failed"), 1);
	CHECK_EQ(harness__num(cJSON_GetArrayItem(v, 1), "counts.executions"), 2);
	CHECK_EQ(harness__num(cJSON_GetArrayItem(v, 2), "duration_ms"), 60000);
	cJSON_Delete(v);
}

TEST(query_show_and_executions)
{
	struct ids ids;
	struct cmd_result r;
	const cJSON *e;
	char id[24];
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	r = Q(0, "show", "nightly");
	has(r.out, "Session:   nightly");
	has(r.out, "partial (2 executions: 0 running, 1 completed, 1 failed)");
	has(r.out, "Duration:");
	check_column(r.out, "FAILURE", "tester", "exit_nonzero");
	check_column(r.out, "DURATION", "builder", "1.5 s");
	check_column(r.out, "EXIT", "tester", "3");
	harness__free_result(&r);

	v = QJ("show", "nightly", "--json");
	CHECK_STR(harness__str(v, "session"), "nightly");
	CHECK_STR(harness__str(v, "status"), "partial");
	e = harness__get(v, "executions");
	ASSERT(cJSON_GetArraySize(e) == 2, "executions not 2");
	/* newest first */
	CHECK_EQ(harness__num(cJSON_GetArrayItem(e, 0), "id"), ids.unit);
	CHECK_STR(harness__str(cJSON_GetArrayItem(e, 0), "failure.category"), "exit_nonzero");
	CHECK_EQ(harness__num(cJSON_GetArrayItem(e, 0), "exit_code"), 3);
	CHECK_STR(harness__str(cJSON_GetArrayItem(e, 1), "labels.team"), "infra");
	cJSON_Delete(v);

	r = Q(0, "executions", "nightly");
	has(r.out, "PEAK RSS");
	check_column(r.out, "PEAK RSS", "compile", "1.0 MiB");
	check_column(r.out, "CPU", "compile", "250.0 ms");
	check_column(r.out, "SYSCALLS", "compile", "1234");
	check_column(r.out, "SENT", "compile", "2.0 KiB");
	snprintf(id, sizeof(id), "%llu", (unsigned long long)ids.compile);
	CHECK(line_with(r.out, "compile") && !strncmp(line_with(r.out, "compile") + strspn(line_with(r.out, "compile"), " "),
						       id, strlen(id)),
	      "row does not start with its id:\n%s", r.out);
	CHECK(!strstr(r.out, "adhoc") && !strstr(r.out, "pack"), "other sessions listed:\n%s", r.out);
	harness__free_result(&r);

	v = QJ("executions", "--json", "nightly");
	ASSERT(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2, "not an array of 2");
	e = cJSON_GetArrayItem(v, 1);
	CHECK_STR(harness__str(e, "task"), "compile");
	CHECK_EQ(harness__num(e, "metrics.peak_rss_bytes"), 1048576);
	CHECK_EQ(harness__num(e, "metrics.syscall_errors"), 5);
	CHECK_EQ(harness__num(e, "duration_ms"), 1500);
	CHECK(cJSON_IsString(cJSON_GetArrayItem(harness__get(e, "command"), 0)) &&
	      !strcmp(cJSON_GetArrayItem(harness__get(e, "command"), 0)->valuestring, "make"), "command[0] is not make");
	cJSON_Delete(v);
}

TEST(query_agent)
{
	struct ids ids;
	struct cmd_result r;
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	r = Q(0, "agent", "builder");
	has(r.out, "Agent:     builder");
	has(r.out, "Finished:  1, 1 succeeded (100.0%)");
	check_column(r.out, "SESSION", "adhoc", "adhoc");
	check_column(r.out, "STATUS", "compile", "completed");
	CHECK(!strstr(r.out, "tester"), "another agent's execution:\n%s", r.out);
	harness__free_result(&r);

	v = QJ("agent", "builder", "--json");
	CHECK_STR(harness__str(v, "agent"), "builder");
	CHECK_EQ(harness__num(v, "performance.count"), 1);
	CHECK_EQ(harness__num(v, "performance.p50_ms"), 1500);
	CHECK_EQ(cJSON_GetArraySize(harness__get(v, "executions")), 2);
	cJSON_Delete(v);

	r = Q(1, "agent", "nobody");
	has(r.err, "no executions of agent 'nobody'");
	harness__free_result(&r);
}

TEST(query_health)
{
	struct ids ids;
	struct cmd_result r;
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	r = Q(0, "health");
	has(r.out, "Last 24 hours");
	has(r.out, ": 3 executions");
	has(r.out, "Success rate: 50.0% of 2 finished");
	check_column(r.out, "COUNT", "exit_nonzero", "1");
	harness__free_result(&r);

	v = QJ("health", "--json");
	CHECK_EQ(harness__num(v, "hours"), 24);
	CHECK_EQ(harness__num(v, "executions"), 3);
	CHECK_EQ(harness__num(v, "running"), 1);
	CHECK_EQ(harness__num(v, "completed"), 1);
	CHECK_EQ(harness__num(v, "failed"), 1);
	CHECK(harness__num(v, "success_rate") == 0.5, "success_rate");
	CHECK_EQ(harness__num(v, "failures_by_category.exit_nonzero"), 1);
	cJSON_Delete(v);

	/* 1000 hours reach the archive, 1 hour only what runs */
	v = QJ("health", "1000", "--json");
	CHECK_EQ(harness__num(v, "executions"), 4);
	cJSON_Delete(v);
	v = QJ("--json", "health", "1");
	CHECK_EQ(harness__num(v, "executions"), 1);
	CHECK(cJSON_IsNull(harness__get(v, "success_rate")), "success rate of nothing finished is not null");
	cJSON_Delete(v);
}

TEST(query_performance_and_failures)
{
	struct ids ids;
	struct cmd_result r;
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	r = Q(0, "performance");
	check_column(r.out, "P50", "builder", "1.5 s");
	check_column(r.out, "SUCCESS", "tester", "0.0%");
	check_column(r.out, "MAX", "archiver", "1m 00s");
	harness__free_result(&r);

	v = QJ("performance", "--json");
	ASSERT(cJSON_GetArraySize(v) == 3, "not 3 agents");
	CHECK_STR(harness__str(cJSON_GetArrayItem(v, 0), "agent"), "archiver");
	CHECK_STR(harness__str(cJSON_GetArrayItem(v, 1), "agent"), "builder");
	CHECK_EQ(harness__num(cJSON_GetArrayItem(v, 1), "count"), 1);
	CHECK_EQ(harness__num(cJSON_GetArrayItem(v, 2), "failed"), 1);
	cJSON_Delete(v);

	r = Q(0, "failures");
	check_column(r.out, "CATEGORY", "tester", "exit_nonzero");
	check_column(r.out, "REASON", "tester", "exited with code 3");
	harness__free_result(&r);

	v = QJ("failures", "5", "--json");
	ASSERT(cJSON_GetArraySize(v) == 1, "not 1 failure");
	CHECK_EQ(harness__num(cJSON_GetArrayItem(v, 0), "id"), ids.unit);
	CHECK_EQ(harness__num(cJSON_GetArrayItem(v, 0), "failure.evidence.exit_code"), 3);
	cJSON_Delete(v);
}

TEST(query_export)
{
	const cJSON *o, *e;
	struct ids ids;
	struct cmd_result r;
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	v = QJ("export");
	CHECK_EQ(harness__num(v, "schema"), 1);
	o = harness__get(v, "orchestrations");
	ASSERT(cJSON_GetArraySize(o) == 3, "not 3 orchestrations");
	o = cJSON_GetArrayItem(o, 1);
	CHECK_STR(harness__str(o, "session"), "nightly");
	e = harness__get(o, "executions");
	ASSERT(cJSON_GetArraySize(e) == 2, "not 2 executions");
	e = cJSON_GetArrayItem(e, 1);
	CHECK_EQ(harness__num(e, "id"), ids.compile);
	CHECK_EQ(harness__num(e, "syscalls.read.count"), 100);
	CHECK_EQ(harness__num(e, "syscalls.write.max_ns"), 80000);
	CHECK_EQ(cJSON_GetArraySize(harness__get(e, "samples")), 3);
	CHECK_EQ(harness__num(cJSON_GetArrayItem(harness__get(e, "samples"), 2), "rss_bytes"), 16384);
	cJSON_Delete(v);

	v = QJ("export", "adhoc", "--json");
	o = harness__get(v, "orchestrations");
	ASSERT(cJSON_GetArraySize(o) == 1, "not 1 orchestration");
	CHECK_STR(harness__str(cJSON_GetArrayItem(o, 0), "status"), "running");
	CHECK_EQ(cJSON_GetArraySize(harness__get(cJSON_GetArrayItem(o, 0), "executions")), 1);
	cJSON_Delete(v);

	r = Q(1, "export", "nope");
	has(r.err, "no orchestration 'nope'");
	harness__free_result(&r);
}

TEST(query_cleanup_deletes_old_orchestrations)
{
	struct exec_record *list = NULL;
	struct exec_record got;
	struct ids ids;
	struct cmd_result r;
	struct store *s;
	int n = 0;
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	r = Q(0, "cleanup", "30");
	has(r.out, "deleted 1 execution of orchestrations");
	harness__free_result(&r);

	s = store__open_existing(db, true);
	ASSERT(s, "cannot reopen: %s", store__errmsg(NULL));
	CHECK(store__get_execution(s, ids.archived, &got) == -ENOENT, "the archive survived");
	CHECK(store__list_executions(s, &(struct exec_filter){ .limit = -1 }, &list, &n) == 0 && n == 3,
	      "%d executions left, wanted 3", n);
	free(list);
	store__close(s);

	v = QJ("cleanup", "--json", "30");
	CHECK_EQ(harness__num(v, "deleted_executions"), 0);
	CHECK_EQ(harness__num(v, "days"), 30);
	cJSON_Delete(v);

	/* 0 days: every finished orchestration; the running one stays */
	v = QJ("cleanup", "0", "--json");
	CHECK_EQ(harness__num(v, "deleted_executions"), 2);
	cJSON_Delete(v);
	v = QJ("list", "--json");
	CHECK(cJSON_GetArraySize(v) == 1, "not only the running orchestration left");
	CHECK_STR(harness__str(cJSON_GetArrayItem(v, 0), "session"), "adhoc");
	cJSON_Delete(v);
}

TEST(query_reads_beside_a_writer)
{
	struct exec_record r;
	struct ids ids;
	struct store *s;
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	/* a daemon's connection stays open and writes while the CLI reads */
	s = store__open(db, false);
	ASSERT(s, "cannot open: %s", store__errmsg(NULL));
	exec_rec(&r, "fresh", "builder", "", "running", clock__now_ms(), 0);
	ASSERT(store__upsert_execution(s, &r, NULL, 0) == 0, "upsert: %s", store__errmsg(s));
	v = QJ("list", "--json");
	CHECK_EQ(cJSON_GetArraySize(v), 4);
	CHECK_STR(harness__str(cJSON_GetArrayItem(v, 0), "session"), "fresh");
	cJSON_Delete(v);
	strcpy(r.status, "completed");
	r.ended_at_ms = r.started_at_ms + 5;
	ASSERT(store__upsert_execution(s, &r, NULL, 0) == 0, "update: %s", store__errmsg(s));
	v = QJ("show", "fresh", "--json");
	CHECK_STR(harness__str(v, "status"), "completed");
	cJSON_Delete(v);
	store__close(s);
}

TEST(query_empty_history_says_so)
{
	struct store *s;
	struct cmd_result r;
	cJSON *v;

	snprintf(ww, sizeof(ww), "%s/workerwatch", harness__bin());
	snprintf(db, sizeof(db), "%s", harness__tmp("empty.db"));
	s = store__open(db, false);
	ASSERT(s, "cannot create: %s", store__errmsg(NULL));
	store__close(s);

	r = Q(0, "list");
	CHECK_STR(r.out, "no executions recorded yet; attach a worker with `workerwatch attach PID`\n");
	harness__free_result(&r);
	r = Q(0, "performance");
	CHECK_STR(r.out, "no finished executions recorded yet\n");
	harness__free_result(&r);
	r = Q(0, "failures");
	CHECK_STR(r.out, "no failed executions recorded\n");
	harness__free_result(&r);
	r = Q(0, "health");
	CHECK_STR(r.out, "no executions in the last 24 hours\n");
	harness__free_result(&r);
	v = QJ("list", "--json");
	CHECK(cJSON_IsArray(v) && !cJSON_GetArraySize(v), "not []");
	cJSON_Delete(v);
	v = QJ("export");
	CHECK(cJSON_IsArray(harness__get(v, "orchestrations")) && !cJSON_GetArraySize(harness__get(v, "orchestrations")),
	      "export of nothing has orchestrations");
	cJSON_Delete(v);
}

TEST(query_errors_are_one_line_with_exit_codes)
{
	char absent[512], bad[512], text[512];
	struct ids ids;
	struct cmd_result r;
	FILE *f;

	ASSERT(build_history(&ids), "no history");
	snprintf(absent, sizeof(absent), "%s", harness__tmp("absent/history.db"));
	snprintf(bad, sizeof(bad), "--db=%s", harness__tmp("text.db"));
	snprintf(text, sizeof(text), "%s", harness__tmp("text.db"));

	/* usage errors: 2 */
	ERR(2, "unknown command 'frobnicate'", "frobnicate");
	ERR(2, "unknown option '--bogus'", "list", "--bogus", "--db", db);
	ERR(2, "unknown option '-x'", "show", "-x", "nightly", "--db", db);
	ERR(2, "show needs SESSION", "show", "--db", db);
	ERR(2, "executions needs SESSION", "executions", "--db", db);
	ERR(2, "agent needs NAME", "agent", "--db", db);
	ERR(2, "cleanup needs DAYS", "cleanup", "--db", db);
	ERR(2, "too many arguments for list", "list", "extra", "--db", db);
	ERR(2, "too many arguments for show", "show", "a", "b", "--db", db);
	ERR(2, "health wants hours from 1 to 87600, not 'abc'", "health", "abc", "--db", db);
	ERR(2, "health wants hours from 1 to 87600, not '0'", "health", "0", "--db", db);
	ERR(2, "health wants hours", "health", "12x", "--db", db);
	ERR(2, "health wants hours", "health", "99999999999999999999999", "--db", db);
	ERR(2, "unknown option '-5'", "health", "-5", "--db", db);
	ERR(2, "failures wants a limit from 1 to 1000000, not '0'", "failures", "0", "--db", db);
	ERR(2, "cleanup wants days from 0 to 36500, not '1.5'", "cleanup", "1.5", "--db", db);
	ERR(2, "option --db needs a path", "list", "--db");
	ERR(2, "option --db needs a path", "list", "--db=");
	/* a usage error wins over a missing database */
	ERR(2, "health wants hours", "health", "x", "--db", absent);

	/* runtime errors: 1 */
	ERR(1, "no database at ", "list", "--db", absent);
	ERR(1, "daemon creates it", "cleanup", "30", "--db", absent);
	CHECK(access(absent, F_OK) != 0, "a query created the database");
	ERR(1, "no orchestration 'nope'", "show", "nope", "--db", db);
	ERR(1, "no orchestration 'nope'", "executions", "nope", "--db", db);
	f = fopen(text, "w");
	ASSERT(f, "fopen");
	fputs("this is not a database, nor is it meant to be one, but long enough for a header\n", f);
	fclose(f);
	ERR(1, "not a database", "list", bad);

	/* --help anywhere: the command's own after it, all of them alone */
	harness__run((char *const[]){ ww, "--help", "show", NULL }, 30, &r);
	CHECK(r.exit_code == 0, "--help exit %d", r.exit_code);
	has(r.out, "Usage: workerwatch show SESSION");
	has(r.out, "--db PATH");
	harness__free_result(&r);
	harness__run((char *const[]){ ww, "--db", db, "--help", NULL }, 30, &r);
	CHECK(r.exit_code == 0, "--help exit %d", r.exit_code);
	has(r.out, "Usage: workerwatch COMMAND");
	has(r.out, "performance");
	harness__free_result(&r);
	/* and "--" ends the options */
	ERR(1, "no orchestration '--json'", "show", "--db", db, "--", "--json");
}

/* Needs root only to switch user: a reader allowed to read the files but not to write the directory. */
KERNEL_TEST(query_reads_as_another_user_while_no_daemon_runs)
{
	char *const argv[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
			       ww, "list", "--json", "--db", db, NULL };
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	struct cmd_result r;
	struct ids ids;
	char path[600];
	cJSON *v;

	ASSERT(build_history(&ids), "no history");
	CHECK(chmod(harness__tmpdir(), 0755) == 0, "chmod");
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
		CHECK(chmod(path, 0644) == 0, "chmod %s: %s (the writer must keep -wal and -shm)", path, strerror(errno));
	}
	harness__run(argv, 30, &r);
	CHECK(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	v = cJSON_Parse(r.out);
	CHECK(cJSON_GetArraySize(v) == 3, "not 3 orchestrations: %s", r.out);
	cJSON_Delete(v);
	harness__free_result(&r);

	CHECK(chmod(db, 0600) == 0, "chmod");
	check_error(argv, 1, "Permission denied");
}
