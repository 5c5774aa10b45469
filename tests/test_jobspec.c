// SPDX-License-Identifier: MIT
/* Unit tests of names from the job: templates, job specs, watch rules, metric labels, and what history keeps of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "history/store.h"
#include "daemon/metric_labels.h"
#include "lib/name_template.h"
#include "observe/jobspec.h"
#include "observe/watch.h"

/* A buffer as a pointer, for CHECK_STR (which also checks for NULL). */
static const char *text_of(const char *buf)
{
	return buf;
}

static const char *const test_argv[] = { "/opt/agent/run.sh", "--task", "review", "last-word" };
static const char *const test_env[] = { "HOME=/root", "AGENT_NAME=planner", "EMPTY=", "AGENT_NAME=coder" };

static const struct name_source src = {
	.argv = test_argv, .argc = 4, .env = test_env, .envc = 4,
	.comm = "run.sh", .cgroup = "/system.slice/agents.service", .exe = "/opt/agent/run.sh",
};

static const char *render(const char *tmpl)
{
	static char out[8][256];
	static int next;
	char *o = out[next++ % 8];

	name_template__render(tmpl, &src, o, 256);
	return o;
}

TEST(name_templates_render_the_job)
{
	CHECK_STR(render("plain name"), "plain name");
	/* the last definition of a variable wins, as getenv sees it */
	CHECK_STR(render("{{env.AGENT_NAME}}"), "coder");
	CHECK_STR(render("{{argv.0}}"), "/opt/agent/run.sh");
	CHECK_STR(render("{{argv.2}}"), "review");
	CHECK_STR(render("{{argv.-1}}"), "last-word");
	CHECK_STR(render("{{comm}}"), "run.sh");
	CHECK_STR(render("{{program}}"), "run.sh");
	CHECK_STR(render("{{exe}}"), "/opt/agent/run.sh");
	CHECK_STR(render("{{cgroup}}"), "/system.slice/agents.service");
	CHECK_STR(render("agent-{{ env.AGENT_NAME }}-{{argv.2}}"), "agent-coder-review");
}

TEST(name_templates_fall_back_through_alternatives)
{
	CHECK_STR(render("{{env.MISSING|comm}}"), "run.sh");
	CHECK_STR(render("{{env.EMPTY|env.MISSING|\"none\"}}"), "none");
	CHECK_STR(render("{{argv.9|'nine'}}"), "nine");
	CHECK_STR(render("{{env.MISSING}}"), "");
	CHECK_STR(render("{{env.AGENT_NAME|comm}}"), "coder");
}

TEST(name_templates_refuse_what_they_cannot_render)
{
	static const char *const bad[] = { "{{env.}}", "{{env.1X}}", "{{argv.x}}", "{{argv.99}}", "{{nope}}",
					   "{{comm", "{{}}", "{{ | }}", NULL };
	char err[200];

	for (const char *const *b = bad; *b; b++) {
		err[0] = 0;
		CHECK(name_template__check(*b, err, sizeof(err)) < 0, "'%s' was accepted", *b);
		CHECK(err[0], "'%s' was refused without a reason", *b);
	}
	CHECK(!name_template__check("{{env.A|comm}} and {{argv.-2}}", err, sizeof(err)), "%s", err);
	CHECK(!name_template__has_placeholders("plain"), "plain text has no placeholder");
	CHECK(name_template__has_placeholders("x{{comm}}"), "a placeholder was not seen");
}

TEST(name_templates_never_emit_control_characters)
{
	const char *const env[] = { "X=a\tb\nc" };
	struct name_source s = { .env = env, .envc = 1 };
	char out[64];

	name_template__render("{{env.X}}", &s, out, sizeof(out));
	CHECK_STR(text_of(out), "a b c");
}

static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	CHECK(j, "bad test JSON: %s", text);
	return j;
}

TEST(job_spec_exec_boundary_accepts_and_ignores)
{
	struct job_spec s = {};
	char err[256];
	cJSON *j = parse("{\"session\": \"ci\", \"agent\": \"{{env.AGENT_NAME|comm}}\", \"labels\": {\"team\": "
			 "\"{{env.TEAM|'none'}}\"}, \"jobs\": {\"exec\": \"/job\\\\.sh$\", \"ignore\": [\"tmp\"],"
			 " \"min_duration\": \"1500ms\", \"stopped_is_failure\": true}}");
	cJSON *back = cJSON_CreateObject(), *labels = cJSON_CreateObject();
	char session[128], agent[128], task[128];

	ASSERT(!job_spec__from_json(&s, j, true, NULL, err, sizeof(err)), "%s", err);
	CHECK_EQ(s.jobs, WW_JOBS_EXEC);
	CHECK_EQ(s.min_duration_ms, 1500);
	CHECK(s.stopped_is_failure, "stopped_is_failure was lost");
	CHECK(job_spec__accepts(&s, "/opt/ci/job.sh"), "the pattern did not accept job.sh");
	CHECK(!job_spec__accepts(&s, "/bin/sh"), "the pattern accepted sh");
	CHECK(!job_spec__accepts(&s, "/tmp/job.sh"), "an ignored program was accepted");
	CHECK(job_spec__ignores(&s, "/tmp/x"), "the ignore list did not match");
	job_spec__names(&s, &src, session, agent, task, sizeof(session));
	CHECK_STR(text_of(session), "ci");
	CHECK_STR(text_of(agent), "coder");
	CHECK_STR(text_of(task), "");
	job_spec__labels(&s, &src, labels);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(labels, "team")), "none");
	/* what goes out comes back the same */
	job_spec__to_json(&s, back);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "jobs"), "min_duration")),
		  "1s500ms");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(back, "jobs"), "exec")),
		  "/job\\.sh$");
	cJSON_Delete(back);
	cJSON_Delete(labels);
	cJSON_Delete(j);
	job_spec__release(&s);
}

TEST(job_spec_defaults_name_after_the_program)
{
	struct job_spec s = {};
	char session[128], agent[128], task[128], err[200];
	cJSON *j = parse("{}");

	ASSERT(!job_spec__from_json(&s, j, true, NULL, err, sizeof(err)), "%s", err);
	CHECK_EQ(s.jobs, WW_JOBS_CHILDREN);
	CHECK(job_spec__accepts(&s, "/anything"), "children: every program is a job");
	job_spec__names(&s, &src, session, agent, task, sizeof(session));
	CHECK_STR(text_of(session), "default");
	CHECK_STR(text_of(agent), "run.sh");
	cJSON_Delete(j);
	job_spec__release(&s);
}

TEST(job_spec_refuses_bad_input_with_a_reason)
{
	static const struct {
		const char *json;
		bool orchestrator;
		const char *reason;
	} cases[] = {
		{ "{\"jobs\": {\"exec\": \"(\"}}", true, "not a valid regular expression" },
		/* regexes regcomp() takes exponential time on, refused before it sees them */
		{ "{\"jobs\": {\"exec\": \"(a|b*)*(a|b*)*(a|b*)*(a|b*)*(a|b*)*(a|b*)*\"}}", true,
		  "can match nothing" },
		{ "{\"jobs\": {\"exec\": \"x\", \"ignore\": [\"a++++++++++++++++++++\"]}}", true, "too complex" },
		{ "{\"jobs\": {\"exec\": \"(a)\\\\1\"}}", true, "back-reference" },
		{ "{\"jobs\": {\"exec\": \"a\"}}", false, "unknown field 'jobs'" },
		{ "{\"jobs\": {\"exe\": \"a\"}}", true, "unknown field 'jobs.exe'" },
		{ "{\"jobs\": {\"min_duration\": \"soon\"}}", true, "jobs.min_duration" },
		{ "{\"jobs\": \"exec:\"}", true, "exec:REGEX" },
		{ "{\"agent\": \"{{env.}}\"}", false, "'agent'" },
		{ "{\"agent\": 7}", false, "'agent' must be a string" },
		{ "{\"labels\": {\"bad-name\": \"x\"}}", false, "label name" },
		{ "{\"labels\": {\"ok\": 1}}", false, "must be a string" },
		{ "{\"color\": \"red\"}", false, "unknown field 'color'" },
	};
	struct job_spec s = {};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *j = parse(cases[i].json);

		err[0] = 0;
		CHECK(job_spec__from_json(&s, j, cases[i].orchestrator, NULL, err, sizeof(err)) < 0,
		      "%s was accepted", cases[i].json);
		CHECK(strstr(err, cases[i].reason), "%s: '%s' does not say '%s'", cases[i].json, err, cases[i].reason);
		cJSON_Delete(j);
		job_spec__release(&s);
	}
}

TEST(watch_rules_resolve_to_the_kernel_and_refuse_bad_ones)
{
	struct watch_rule r[2] = {};
	struct ww_watch_rule k[2];
	char err[256];
	cJSON *a = parse("{\"name\": \"shells\", \"exe\": \"/bin/sh\", \"comm\": \"sh\", \"uid\": 0, \"action\": \"none\"}");
	cJSON *b = parse("{\"name\": \"kids\", \"parent\": \"shells\", \"argv\": \"worker\", \"action\": \"orchestrator\","
			 " \"jobs\": {\"exec\": \"x\"}}");
	static const char *const bad[] = {
		"{\"argv\": \"x\"}",				/* only userspace would match it */
		"{\"exe\": \"relative/path\"}",
		"{\"exe\": \"/no/such/file\"}",
		"{\"comm\": \"a-name-longer-than-fifteen\"}",
		"{\"cgroup\": \"/tmp\"}",			/* not a cgroup directory */
		"{\"comm\": \"x\", \"action\": \"watch\"}",
		"{\"comm\": \"x\", \"name\": \"42\"}",		/* names are not ids */
		"{\"comm\": \"x\", \"uid\": \"no-such-user-here\"}",
		"{\"comm\": \"x\", \"jobs\": {\"exec\": \"y\"}}",	/* a job boundary is an orchestrator's */
		"{\"comm\": \"x\", \"argv\": \"(x*)*(x*)*(x*)*(x*)*(x*)*(x*)*(x*)*\"}",	/* regcomp() must not see it */
		"{\"comm\": \"x\", \"action\": \"orchestrator\", \"jobs\": {\"exec\": \"a**********\"}}",
		NULL,
	};

	ASSERT(!watch_rule__from_json(&r[0], a, err, sizeof(err)), "%s", err);
	ASSERT(!watch_rule__from_json(&r[1], b, err, sizeof(err)), "%s", err);
	r[0].id = 3;
	r[1].id = 9;
	ASSERT(!watch_rules__to_kernel(r, 2, k, err, sizeof(err)), "%s", err);
	CHECK_EQ(k[0].flags, WW_WATCH_EXE | WW_WATCH_COMM | WW_WATCH_UID | WW_WATCH_NONE);
	CHECK(k[0].sel.exe_ino != 0, "/bin/sh has no inode");
	CHECK_STR(text_of(k[0].sel.comm), "sh");
	CHECK_EQ(k[1].flags, WW_WATCH_PARENT | WW_WATCH_ARGV | WW_WATCH_ORCH);
	CHECK_EQ(k[1].parent_slot, 0);
	CHECK_EQ(k[1].id, 9);
	CHECK_EQ(k[1].jobs, WW_JOBS_EXEC);
	CHECK_EQ(k[1].jobs_id, watch_rule__jobs_id(9));
	CHECK(watch_rule__argv_matches(&r[1], (const char *[]){ "python3", "worker.py" }, 2), "argv missed");
	CHECK(!watch_rule__argv_matches(&r[1], (const char *[]){ "python3", "web.py" }, 2), "argv matched wrongly");
	/* a parent must name another rule */
	snprintf(r[1].parent, sizeof(r[1].parent), "nobody");
	CHECK(watch_rules__to_kernel(r, 2, k, err, sizeof(err)) < 0 && strstr(err, "names no other rule"),
	      "a dangling parent was accepted: %s", err);
	for (const char *const *t = bad; *t; t++) {
		cJSON *j = parse(*t);
		struct watch_rule x = {};

		err[0] = 0;
		CHECK(watch_rule__from_json(&x, j, err, sizeof(err)) < 0 && err[0], "%s was accepted", *t);
		watch_rule__release(&x);
		cJSON_Delete(j);
	}
	watch_rule__release(&r[0]);
	watch_rule__release(&r[1]);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

TEST(metric_labels_are_an_allowlist_with_bounded_values)
{
	struct metric_labels *m = metric_labels__new("team, tier", 2);
	const char *pairs[2 * METRIC_LABELS_MAX];
	int n;

	CHECK(!metric_labels__new("", 5), "nothing allowlisted still made a table");
	ASSERT(m, "no table");
	n = metric_labels__pairs(m, "{\"team\": \"ml\", \"secret\": \"x\", \"tier\": \"ci\"}", pairs);
	CHECK_EQ(n, 4);
	CHECK_STR(pairs[0], "team");
	CHECK_STR(pairs[1], "ml");
	CHECK_STR(pairs[3], "ci");
	metric_labels__pairs(m, "{\"team\": \"web\"}", pairs);
	/* a third value of team is past the bound */
	n = metric_labels__pairs(m, "{\"team\": \"ops\"}", pairs);
	CHECK_EQ(n, 2);
	CHECK_STR(pairs[1], METRIC_LABEL_OTHER);
	/* values already seen keep their own */
	metric_labels__pairs(m, "{\"team\": \"web\"}", pairs);
	CHECK_STR(pairs[1], "web");
	CHECK_EQ(metric_labels__pairs(m, "{}", pairs), 0);
	metric_labels__free(m);
}

static int collect_watch(const struct watch_row *w, void *ctx)
{
	struct watch_row *out = ctx;

	if (!out->id)
		*out = *w;
	return 0;
}

/*
 * A version 5 history (before stopped_by_orchestrator and watch rules)
 * migrates: the new outcome is accepted and counts with the completed ones
 * of its orchestration, and watch rules are kept by unique name.
 */
TEST(store_migrates_to_stopped_by_orchestrator_and_watch_rules)
{
	const char *path = harness__tmp("v5.db");
	struct exec_record r = {};
	struct watch_row w = {}, back = {};
	struct orch_record o;
	struct store *s = store__open(path, false);
	sqlite3 *db = NULL;

	ASSERT(s, "cannot create %s: %s", path, store__errmsg(NULL));
	store__close(s);
	ASSERT(sqlite3_open(path, &db) == SQLITE_OK, "cannot open %s", path);
	/* back to version 5: no watches, the old CHECK and view */
	CHECK(sqlite3_exec(db, "DROP TABLE watches; PRAGMA writable_schema = ON;"
			   " UPDATE sqlite_schema SET sql = replace(sql, ', ''stopped_by_orchestrator'')', ')')"
			   " WHERE name = 'executions'; PRAGMA writable_schema = OFF; DROP VIEW orchestrations;"
			   " CREATE VIEW orchestrations AS SELECT session, 'x' AS status, 0 AS executions, 0 AS running,"
			   " 0 AS completed, 0 AS failed, 0 AS started_at_ms, 0 AS ended_at_ms, 0 AS last_started_at_ms"
			   " FROM executions GROUP BY session; PRAGMA user_version = 5;", NULL, NULL, NULL) == SQLITE_OK,
	      "cannot make a version 5 database: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	/* the old CHECK (read afresh) refuses the new outcome */
	ASSERT(sqlite3_open(path, &db) == SQLITE_OK, "cannot open %s", path);
	CHECK(sqlite3_exec(db, "INSERT INTO executions (session, agent, task, command, labels, pid, status,"
			   " failure_category, failure_reason, failure_evidence, started_at_ms, duration_ms, retry_count,"
			   " completed_steps, total_steps, current_step, on_cpu_ns, runqueue_wait_ns, peak_rss_bytes,"
			   " minor_faults, major_faults, syscalls, syscall_errors, net_sent_bytes, net_recv_bytes,"
			   " process_count, files_created, files_written) VALUES ('s', 'a', '', '[]', '{}', 1,"
			   " 'stopped_by_orchestrator', '', '', '{}', 1, 0, 0, -1, -1, '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0)",
			   NULL, NULL, NULL) != SQLITE_OK, "the version 5 database took the new outcome");
	sqlite3_close(db);

	s = store__open(path, false);
	ASSERT(s, "version 5 database not opened: %s", store__errmsg(NULL));
	snprintf(r.session, sizeof(r.session), "pool");
	snprintf(r.agent, sizeof(r.agent), "worker");
	snprintf(r.command, sizeof(r.command), "[]");
	snprintf(r.labels, sizeof(r.labels), "{}");
	snprintf(r.failure_evidence, sizeof(r.failure_evidence), "{}");
	snprintf(r.status, sizeof(r.status), "stopped_by_orchestrator");
	r.started_at_ms = 1000;
	r.ended_at_ms = 2000;
	CHECK(!store__upsert_execution(s, &r, NULL, 0), "the new outcome was refused: %s", store__errmsg(s));
	r.id = 0;
	snprintf(r.status, sizeof(r.status), "completed");
	CHECK(!store__upsert_execution(s, &r, NULL, 0), "%s", store__errmsg(s));
	ASSERT(!store__orchestration(s, "pool", &o), "no orchestration: %s", store__errmsg(s));
	CHECK_STR(text_of(o.status), "completed");
	CHECK_EQ(o.executions, 2);

	snprintf(w.name, sizeof(w.name), "runner");
	snprintf(w.source, sizeof(w.source), "api");
	snprintf(w.rule, sizeof(w.rule), "{\"comm\": \"runner\"}");
	CHECK(!store__put_watch(s, &w) && w.id, "cannot keep a watch rule: %s", store__errmsg(s));
	back.id = 0;
	w.id = 0;
	CHECK_EQ(store__put_watch(s, &w), -EEXIST);
	CHECK(!store__foreach_watch(s, collect_watch, &back), "%s", store__errmsg(s));
	CHECK_STR(text_of(back.name), "runner");
	CHECK_STR(text_of(back.rule), "{\"comm\": \"runner\"}");
	CHECK_EQ(store__forget_watch(s, back.id), 1);
	CHECK_EQ(store__integrity_check(s), 0);
	store__close(s);
}
