// SPDX-License-Identifier: MIT
/* The daemon end to end: real daemon, real workers on the real kernel, real HTTP over loopback. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "wwd.h"

/* Polls an execution until it is no longer running. */
static cJSON *wait_ended(struct wwd *d, double id)
{
	char path[64];
	cJSON *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", id);
	for (int i = 0; i < 300; i++) {
		cJSON_Delete(j);
		j = NULL;
		if (wwd_api(d, "GET", path, NULL, true, &j) == 200 &&
		    strcmp(harness__str(j, "status") ?: "", "running"))
			return j;
		wwd_sleep_ms(50);
	}
	CHECK(false, "execution %.0f still running", id);
	return j;
}

static void check_promtool(struct wwd *d)
{
	char url[128], file[300], cmd[1400];
	int rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", d->port);
	snprintf(file, sizeof(file), "%s/metrics.txt", d->dir);
	snprintf(cmd, sizeof(cmd), "curl -sf %s -o %s && promtool check metrics < %s > %s.lint 2>&1", url,
		 file, file, file);
	rc = system(cmd);
	CHECK(rc == 0, "promtool check metrics failed (see %s.lint)", file);
}

KERNEL_TEST(daemon_attaches_to_a_running_worker_and_keeps_its_history)
{
	char fifo[300], cmd[1200], body[300], truth_path[300];
	cJSON *j = NULL, *ex = NULL, *truth = NULL;
	struct cmd_result q;
	struct wwd d;
	int worker, status;
	double id;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(fifo, sizeof(fifo), "%s/go", d.dir);
	snprintf(truth_path, sizeof(truth_path), "%s/truth.json", d.dir);
	snprintf(cmd, sizeof(cmd), "%s --out %s cpu 600 --children 2", wwd_bin("wwload"), truth_path);
	worker = wwd_spawn_held(fifo, cmd);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"nightly-1\", \"agent\": \"builder\", "
		 "\"task\": \"compile\", \"labels\": {\"team\": \"ci\"}}", worker);
	status = wwd_api(&d, "POST", "/api/v1/executions", body, true, &j);
	CHECK(status == 201, "attach answered %d", status);
	id = harness__num(j, "id");
	CHECK_STR(harness__str(j, "status"), "running");
	cJSON_Delete(j);
	wwd_release(fifo);
	status = harness__wait(worker, 60);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker status %d", status);
	check_promtool(&d);

	ex = wait_ended(&d, id);
	truth = harness__read_json(truth_path);
	CHECK_STR(harness__str(ex, "status"), "completed");
	CHECK_EQ(harness__num(ex, "exit_code"), 0);
	CHECK_STR(harness__str(ex, "labels.team"), "ci");
	CHECK_STR(harness__str(ex, "task"), "compile");
	CHECK_EQ(harness__num(ex, "metrics.process_count"), 3);
	CHECK_NEAR(harness__num(ex, "metrics.on_cpu_ns"), harness__num(truth, "cpu_ns"), 3);
	CHECK(cJSON_GetArraySize(harness__get(ex, "samples")) >= 1, "no time series samples");
	CHECK(harness__get(ex, "syscalls.clock_gettime") || harness__get(ex, "syscalls.wait4"),
	      "no per-syscall summary");
	/* kept in history after the end: the run-queue histogram and the slow-syscall list */
	CHECK(harness__num(ex, "runqueue_latency.count") > 0, "no run-queue histogram");
	CHECK(cJSON_GetArraySize(harness__get(ex, "runqueue_latency.buckets")) > 0, "no run-queue buckets");
	CHECK_EQ(harness__num(ex, "slow_syscalls.threshold_ns"), 1000000000);
	CHECK(harness__num(ex, "syscall_histograms.wait4.count") >= 1, "no histogram of wait4");
	check_promtool(&d);
	wwd_stop(&d, SIGTERM);

	/* the history answers with the daemon stopped */
	snprintf(cmd, sizeof(cmd), "%s/history.db", d.dir);
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "executions", "nightly-1", "--db", cmd, "--json", NULL },
		     30, &q);
	CHECK(q.exit_code == 0, "query failed: %s", q.err);
	j = cJSON_Parse(q.out);
	CHECK(cJSON_GetArraySize(j) == 1 || cJSON_GetArraySize(harness__get(j, "executions")) == 1,
	      "executions nightly-1 --json: %s", q.out);
	cJSON_Delete(j);
	harness__free_result(&q);

	snprintf(cmd, sizeof(cmd), "grep -c '\"event\":\"COMPLETED\"' %s/log/events.jsonl > /dev/null", d.dir);
	CHECK(system(cmd) == 0, "no COMPLETED line in the event log");
	cJSON_Delete(ex);
	cJSON_Delete(truth);
}

KERNEL_TEST(orchestrator_children_become_executions)
{
	char fifo[300], script[4096], body[200], path[600];
	cJSON *j = NULL, *e;
	struct wwd d;
	int orch, status, completed = 0, failed = 0, matched = 0, n = 0;


	ASSERT(wwd_start(&d), "no daemon");
	snprintf(fifo, sizeof(fifo), "%s/go", d.dir);
	mkfifo(fifo, 0600);
	/*
	 * 19 workers that burn 100 ms each and report their own truth (long enough
	 * that their exit, after they measured themselves, stays a small share),
	 * then one that fails
	 */
	snprintf(script, sizeof(script),
		 "read go < %s; i=0; while [ $i -lt 19 ]; do i=$((i+1)); %s --out %s/w$i.json cpu 100; done; "
		 "%s exit 3; true", fifo, wwd_bin("wwload"), d.dir, wwd_bin("wwload"));
	orch = harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"fanout\"}", orch);
	status = wwd_api(&d, "POST", "/api/v1/orchestrators", body, true, NULL);
	CHECK(status == 201, "orchestrator answered %d", status);
	wwd_release(fifo);
	status = harness__wait(orch, 60);
	CHECK(WIFEXITED(status), "orchestrator status %d", status);

	for (int i = 0; i < 200; i++) {	/* until all 20 ended */
		cJSON_Delete(j);
		wwd_api(&d, "GET", "/api/v1/orchestrations/fanout", NULL, true, &j);
		/* the last child's events may still be on their way when the orchestrator has exited */
		if (cJSON_GetArraySize(harness__get(j, "executions")) == 20 &&
		    strcmp(harness__str(j, "status") ?: "running", "running"))
			break;
		wwd_sleep_ms(50);
	}
	CHECK_STR(harness__str(j, "status"), "partial");
	cJSON_ArrayForEach(e, harness__get(j, "executions")) {
		n++;
		CHECK_STR(harness__str(e, "agent"), "wwload");
		if (!strcmp(harness__str(e, "status") ?: "", "completed")) {
			completed++;
		} else {
			failed++;
			CHECK_EQ(harness__num(e, "exit_code"), 3);
			CHECK_STR(harness__str(e, "failure.category"), "exit_nonzero");
		}
	}
	CHECK_EQ(n, 20);
	CHECK_EQ(completed, 19);
	CHECK_EQ(failed, 1);
	/* each worker's CPU against its own getrusage */
	for (int i = 1; i <= 19; i++) {
		cJSON *truth;

		snprintf(path, sizeof(path), "%s/w%d.json", d.dir, i);
		truth = harness__read_json(path);
		cJSON_ArrayForEach(e, harness__get(j, "executions")) {
			if (truth && harness__num(e, "pid") == harness__num(truth, "pid")) {
				matched++;
				CHECK_NEAR(harness__num(e, "metrics.on_cpu_ns"), harness__num(truth, "cpu_ns"), 5);
			}
		}
		cJSON_Delete(truth);
	}
	CHECK_EQ(matched, 19);
	check_promtool(&d);
	cJSON_Delete(j);
	wwd_stop(&d, SIGTERM);
}

KERNEL_TEST(history_survives_restart_and_kill_9)
{
	char fifo[300], body[200], path[64], db[700], cmd[700];
	cJSON *j = NULL;
	struct wwd d;
	int worker, hang;
	double done_id, running_id;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(fifo, sizeof(fifo), "%s/go", d.dir);
	snprintf(cmd, sizeof(cmd), "%s exit 0", wwd_bin("wwload"));
	worker = wwd_spawn_held(fifo, cmd);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"durable\", \"agent\": \"a\"}", worker);
	CHECK(wwd_api(&d, "POST", "/api/v1/executions", body, true, &j) == 201, "attach failed");
	done_id = harness__num(j, "id");
	cJSON_Delete(j);
	wwd_release(fifo);
	harness__wait(worker, 30);
	cJSON_Delete(wait_ended(&d, done_id));

	hang = harness__spawn((char *[]){ (char *)wwd_bin("wwload"), "hang", NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"durable\", \"agent\": \"b\"}", hang);
	CHECK(wwd_api(&d, "POST", "/api/v1/executions", body, true, &j) == 201, "attach failed");
	running_id = harness__num(j, "id");
	cJSON_Delete(j);

	wwd_stop(&d, SIGKILL);	/* a crash, with an execution running */
	kill(hang, SIGKILL);
	harness__wait(hang, 10);
	ASSERT(wwd_start(&d), "no daemon after the crash");
	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", done_id);
	CHECK(wwd_api(&d, "GET", path, NULL, true, &j) == 200, "finished execution lost");
	CHECK_STR(harness__str(j, "status"), "completed");
	cJSON_Delete(j);
	/* the kernel went on tracking it while no daemon ran: its end is known, not lost */
	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", running_id);
	CHECK(wwd_api(&d, "GET", path, NULL, true, &j) == 200, "running execution lost");
	CHECK_STR(harness__str(j, "status"), "failed");
	CHECK_STR(harness__str(j, "failure.category"), "killed");
	CHECK_EQ(harness__num(j, "signal"), SIGKILL);
	CHECK_EQ(harness__num(j, "failure.evidence.sender_pid"), getpid());
	cJSON_Delete(j);
	wwd_stop(&d, SIGTERM);
	ASSERT(wwd_start(&d), "no daemon after a clean stop");
	CHECK(wwd_api(&d, "GET", "/api/v1/executions?session=durable", NULL, true, &j) == 200, "list failed");
	CHECK_EQ(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	wwd_stop(&d, SIGTERM);
	snprintf(db, sizeof(db), "sqlite3 %s/history.db 'PRAGMA integrity_check' | grep -qx ok", d.dir);
	CHECK(system(db) == 0, "integrity_check failed");
}

/*
 * A request with one extra header (a Host or an Origin a browser would
 * send); POST with the token and a JSON body when the path is the
 * orchestrators'. The HTTP status.
 */
static int curl_status(struct wwd *d, const char *path, const char *header)
{
	char url[256], auth[200];
	struct cmd_result r;
	bool post = strstr(path, "orchestrators") != NULL;
	int status;

	wwd_auth_header(d, auth, sizeof(auth));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", d->port, path);
	harness__run(post ? (char *[]){ "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
					(char *)header, "-H", auth, "--data-binary", "{\"pid\": 2, \"session\": \"s\"}",
					url, NULL }
			  : (char *[]){ "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
					(char *)header, url, NULL }, 30, &r);
	status = r.out ? atoi(r.out) : 0;
	harness__free_result(&r);
	return status;
}

static void expect_error(struct wwd *d, const char *method, const char *path, const char *body,
			 bool token, int want)
{
	cJSON *j = NULL;
	int status = wwd_api(d, method, path, body, token, &j);

	CHECK(status == want, "%s %s %.40s: %d, wanted %d", method, path, body ? body : "", status, want);
	CHECK(cJSON_IsString(harness__get(j, "error")), "%s %s: no JSON error", method, path);
	cJSON_Delete(j);
}

KERNEL_TEST(daemon_answers_bad_requests_with_4xx)
{
	char big[300], pidbody[100];
	struct wwd d;
	FILE *f;

	ASSERT(wwd_start(&d), "no daemon");
	expect_error(&d, "POST", "/api/v1/executions", "{\"pid\": 1, \"session\": \"s\", \"agent\": \"a\"}", false, 401);
	expect_error(&d, "POST", "/api/v1/executions", "{not json", true, 400);
	expect_error(&d, "POST", "/api/v1/executions", "[1,2]", true, 400);
	expect_error(&d, "POST", "/api/v1/executions", "{\"pid\": \"12\", \"session\": \"s\", \"agent\": \"a\"}", true, 400);
	expect_error(&d, "POST", "/api/v1/executions", "{\"pid\": 12, \"session\": \"s\", \"agent\": \"a\", \"x\": 1}", true, 400);
	expect_error(&d, "POST", "/api/v1/executions", "{\"pid\": 0, \"session\": \"s\", \"agent\": \"a\"}", true, 400);
	/* out of long's range: refused before it is converted (the API fuzzer found the undefined conversion) */
	expect_error(&d, "POST", "/api/v1/executions", "{\"pid\": 184467440737095516161, \"session\": \"s\", \"agent\": \"a\"}",
		     true, 400);
	expect_error(&d, "POST", "/api/v1/executions", "{\"pid\": 1, \"session\": \"s\", \"agent\": \"a\"}", true, 400);
	expect_error(&d, "POST", "/api/v1/executions", "{\"pid\": 4000000, \"session\": \"s\", \"agent\": \"a\"}", true, 404);
	snprintf(pidbody, sizeof(pidbody), "{\"pid\": %d, \"session\": \"s\", \"agent\": \"\"}", getpid());
	expect_error(&d, "POST", "/api/v1/executions", pidbody, true, 400);
	expect_error(&d, "POST", "/api/v1/executions", "{\"pid\": 2, \"session\": \"s\", \"agent\": \"a\"}", true, 400);
	expect_error(&d, "GET", "/api/v1/executions/99999", NULL, true, 404);
	expect_error(&d, "GET", "/api/v1/executions/abc", NULL, true, 400);
	expect_error(&d, "DELETE", "/api/v1/executions/99999", NULL, true, 404);
	expect_error(&d, "PATCH", "/api/v1/executions/99999", "{\"completed_steps\": 1}", true, 404);
	expect_error(&d, "PATCH", "/api/v1/executions/1", "{\"status\": \"maybe\"}", true, 400);
	expect_error(&d, "GET", "/api/v1/executions?limit=0", NULL, true, 400);
	expect_error(&d, "GET", "/api/v1/executions?since=yesterday", NULL, true, 400);
	expect_error(&d, "GET", "/api/v1/executions?since=-5", NULL, true, 400);
	expect_error(&d, "GET", "/api/v1/executions?status=runing", NULL, true, 400);
	expect_error(&d, "GET", "/api/v1/notifications?state=lost", NULL, true, 400);
	/* private reads need the token, from loopback too; health and metrics do not */
	expect_error(&d, "GET", "/api/v1/executions", NULL, false, 401);
	expect_error(&d, "GET", "/api/v1/orchestrations", NULL, false, 401);
	expect_error(&d, "GET", "/api/v1/notifications", NULL, false, 401);
	CHECK(wwd_api(&d, "GET", "/metrics", NULL, false, NULL) == 200, "/metrics needs a token on loopback");
	CHECK_EQ(curl_status(&d, "/health", "Host: rebound.example"), 421);
	CHECK_EQ(curl_status(&d, "/api/v1/orchestrators", "Origin: http://evil.example"), 403);
	expect_error(&d, "GET", "/api/v1/orchestrations/nope", NULL, true, 404);
	expect_error(&d, "GET", "/api/v1/nothing", NULL, false, 404);
	expect_error(&d, "PUT", "/api/v1/executions", "{}", true, 405);
	snprintf(big, sizeof(big), "%s/big.json", d.dir);
	f = fopen(big, "w");
	if (f) {
		fputs("{\"pid\": 5, \"session\": \"", f);
		for (int i = 0; i < 200000; i++)
			fputc('x', f);
		fputs("\", \"agent\": \"a\"}", f);
		fclose(f);
	}
	memmove(big + 1, big, strlen(big) + 1);
	big[0] = '@';
	expect_error(&d, "POST", "/api/v1/executions", big, true, 413);
	CHECK(wwd_api(&d, "GET", "/health", NULL, false, NULL) == 200, "unhealthy after bad requests");
	wwd_stop(&d, SIGTERM);
}

KERNEL_TEST(run_registers_with_a_running_daemon)
{
	char server[64], token[300];
	struct cmd_result r;
	cJSON *list = NULL, *e;
	struct wwd d;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(server, sizeof(server), "http://127.0.0.1:%d", d.port);
	snprintf(token, sizeof(token), "%s/token", d.dir);
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "run", "--server", server, "--token-file", token,
				 "--session", "via-run", "--agent", "builder", "--", (char *)wwd_bin("wwload"),
				 "exit", "4", NULL }, 60, &r);
	CHECK(r.exit_code == 4, "run exited %d: %s", r.exit_code, r.err);
	CHECK(strstr(r.err, "Registered with the daemon") != NULL, "not registered:\n%s", r.err);
	harness__free_result(&r);
	for (int i = 0; i < 100; i++) {
		cJSON_Delete(list);
		wwd_api(&d, "GET", "/api/v1/executions?session=via-run", NULL, true, &list);
		e = cJSON_GetArrayItem(list, 0);
		if (e && strcmp(harness__str(e, "status") ?: "", "running"))
			break;
		wwd_sleep_ms(50);
	}
	CHECK_EQ(cJSON_GetArraySize(list), 1);
	e = cJSON_GetArrayItem(list, 0);
	CHECK_STR(harness__str(e, "status"), "failed");
	CHECK_EQ(harness__num(e, "exit_code"), 4);
	CHECK_STR(harness__str(e, "agent"), "builder");
	cJSON_Delete(list);
	wwd_stop(&d, SIGTERM);
}

/* Labels from the environment, retries, progress, detach, and the stream, on one daemon. */
KERNEL_TEST(daemon_labels_retries_progress_detach_and_stream)
{
	char fifo[300], cmd[1200], body[300], path[64], stream[300], url[128], auth[200];
	cJSON *j = NULL;
	struct wwd d;
	int worker, hang, curl;
	double first, second, hang_id;
	char *events;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(stream, sizeof(stream), "%s/stream.txt", d.dir);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/stream", d.port);
	/* the stream carries command lines: it takes the token */
	wwd_auth_header(&d, auth, sizeof(auth));
	curl = harness__spawn((char *[]){ "/usr/bin/curl", "-sN", "--max-time", "20", "-H", auth, url, NULL }, stream);
	wwd_sleep_ms(300);

	/* two failures of the same session, agent and task: the second is a retry */
	for (int i = 0; i < 2; i++) {
		snprintf(fifo, sizeof(fifo), "%s/go%d", d.dir, i);
		/* the variable only exists after the exec; the worker outlives the daemon's next poll */
		snprintf(cmd, sizeof(cmd), "env GITHUB_RUN_ID=run-77 /bin/sh -c 'sleep 0.5; exit 5'");
		worker = wwd_spawn_held(fifo, cmd);
		wwd_sleep_ms(100);
		snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"retrying\", \"agent\": \"tester\", "
			 "\"task\": \"unit\"}", worker);
		CHECK(wwd_api(&d, "POST", "/api/v1/executions", body, true, &j) == 201, "attach %d failed", i);
		if (i == 0)
			first = harness__num(j, "id");
		else
			second = harness__num(j, "id");
		cJSON_Delete(j);
		wwd_release(fifo);
		harness__wait(worker, 30);
		cJSON_Delete(wait_ended(&d, i == 0 ? first : second));
	}
	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", second);
	wwd_api(&d, "GET", path, NULL, true, &j);
	CHECK_STR(harness__str(j, "status"), "failed");
	CHECK_EQ(harness__num(j, "retry_count"), 1);
	CHECK_STR(harness__str(j, "labels.GITHUB_RUN_ID"), "run-77");
	cJSON_Delete(j);

	/* progress, then detach, of a worker that would run forever */
	hang = harness__spawn((char *[]){ (char *)wwd_bin("wwload"), "hang", NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"long\", \"agent\": \"server\"}", hang);
	CHECK(wwd_api(&d, "POST", "/api/v1/executions", body, true, &j) == 201, "attach failed");
	hang_id = harness__num(j, "id");
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", hang_id);
	CHECK(wwd_api(&d, "PATCH", path, "{\"completed_steps\": 2, \"total_steps\": 5, \"current_step\": \"warm\"}",
		  true, &j) == 200, "patch failed");
	CHECK_EQ(harness__num(j, "progress.completed_steps"), 2);
	CHECK_STR(harness__str(j, "progress.current_step"), "warm");
	cJSON_Delete(j);
	CHECK(wwd_api(&d, "DELETE", path, NULL, true, &j) == 200, "detach failed");
	CHECK_STR(harness__str(j, "status"), "detached");
	cJSON_Delete(j);
	CHECK(wwd_api(&d, "DELETE", path, NULL, true, NULL) == 409, "second detach not refused");
	CHECK(kill(hang, 0) == 0, "detaching killed the worker");
	/* a detached execution has no outcome: performance counts only the two failures */
	CHECK(wwd_api(&d, "GET", "/api/v1/performance", NULL, false, &j) == 200, "performance failed");
	{
		const cJSON *p;
		int agents = 0;

		cJSON_ArrayForEach(p, j) {
			agents++;
			CHECK_STR(harness__str(p, "agent"), "tester");
			CHECK_EQ(harness__num(p, "count"), 2);
			CHECK_EQ(harness__num(p, "failed"), 2);
		}
		CHECK_EQ(agents, 1);
	}
	cJSON_Delete(j);
	kill(hang, SIGKILL);
	harness__wait(hang, 10);

	wwd_sleep_ms(300);
	kill(curl, SIGTERM);
	harness__wait(curl, 10);
	events = wwd_read_file(stream);
	CHECK(events && strstr(events, "event: execution_start"), "no execution_start on the stream");
	CHECK(events && strstr(events, "event: execution_end"), "no execution_end on the stream");
	free(events);
	wwd_stop(&d, SIGTERM);
}
