// SPDX-License-Identifier: MIT
/* Jobs through the daemon: cgroups (v1 and v2), labels that travel, renames, an orchestrator's options honored. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "wwd.h"

/* d's API with its token. */
static int api(struct wwd *d, const char *method, const char *path, const char *body, cJSON **json)
{
	return wwd_api(d, method, path, body, true, json);
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "cannot write %s: %s", path,
	      strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* workerwatch CMD... against d; its result in r. */
static void cli(struct wwd *d, char *const *args, struct cmd_result *r)
{
	char *argv[40];
	int n = 0;

	argv[n++] = (char *)wwd_bin("workerwatch");
	for (; *args && n < 35; args++)
		argv[n++] = *args;
	argv[n++] = "--server";
	argv[n++] = d->url;
	argv[n++] = "--token-file";
	argv[n++] = d->token;
	argv[n] = NULL;
	harness__run(argv, 30, r);
}

/* The executions of a session (newest first), after waiting until there are want that ended (want 0: any). */
static cJSON *executions(struct wwd *d, const char *session, int want, bool ended)
{
	char path[300];
	cJSON *j = NULL, *e;

	snprintf(path, sizeof(path), "/api/v1/executions?session=%s&limit=1000", session);
	for (int i = 0; i < 150; i++) {
		int done = 0;

		cJSON_Delete(j);
		j = NULL;
		if (api(d, "GET", path, NULL, &j) == 200) {
			cJSON_ArrayForEach(e, j)
				done += !ended || strcmp(harness__str(e, "status") ?: "", "running");
			if (done >= want)
				break;
		}
		wwd_sleep_ms(100);
	}
	return j;
}

/* A process held on a fifo until released: `read < FIFO; exec CMD`. */
static int held(const char *fifo, const char *cmd)
{
	mkfifo(fifo, 0600);
	return wwd_spawn_held(fifo, cmd);
}

/*
 * attach --cgroup: a process already in the cgroup is adopted, one that
 * joins it later is tracked from its join; the same for the unified (v2)
 * hierarchy and a v1 controller's. The rule lists, and is removed, like any.
 */
static void cgroup_case(const char *root)
{
	char cg[400], procs[450], fifo[400], cmd[600], pidtext[32], id[32];
	struct cmd_result r;
	cJSON *j, *e, *rule;
	struct wwd d;
	int member, joiner, status, seen_member = 0, seen_joiner = 0;

	snprintf(cg, sizeof(cg), "%s/ww_test_%d", root, getpid());
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	ASSERT(!mkdir(cg, 0755) || errno == EEXIST, "cannot create %s: %s", cg, strerror(errno));
	ASSERT(wwd_start(&d), "no daemon");
	/* a member before the rule exists */
	member = harness__spawn((char *[]){ (char *)wwd_bin("wwload"), "hang", NULL }, NULL);
	snprintf(pidtext, sizeof(pidtext), "%d\n", member);
	write_text(procs, pidtext);
	cli(&d, (char *[]){ "attach", "--cgroup", cg, "--session", "cg", "--agent", "{{comm}}", "--task", "{{cgroup}}",
			    "--json", NULL }, &r);
	CHECK(r.exit_code == 0, "attach --cgroup %s failed: %s", cg, r.err);
	rule = cJSON_Parse(r.out);
	CHECK_EQ(harness__num(rule, "adopted"), 1);
	snprintf(id, sizeof(id), "%.0f", harness__num(rule, "id"));
	cJSON_Delete(rule);
	harness__free_result(&r);

	/* one that joins later: tracked from its join, and what it then runs is its own */
	snprintf(fifo, sizeof(fifo), "%s/go", harness__tmpdir());
	snprintf(cmd, sizeof(cmd), "%s cpu 100", wwd_bin("wwload"));
	joiner = held(fifo, cmd);
	wwd_sleep_ms(100);
	snprintf(pidtext, sizeof(pidtext), "%d\n", joiner);
	write_text(procs, pidtext);
	wwd_sleep_ms(300);
	wwd_release(fifo);
	status = harness__wait(joiner, 30);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the joiner ended with status %d", status);
	j = executions(&d, "cg", 1, true);
	cJSON_ArrayForEach(e, j) {
		if (harness__num(e, "pid") == member) {
			seen_member++;
			CHECK_STR(harness__str(e, "agent"), "wwload");
			CHECK_STR(harness__str(e, "status"), "running");
		} else if (harness__num(e, "pid") == joiner) {
			seen_joiner++;
			CHECK_STR(harness__str(e, "status"), "completed");
			CHECK(harness__num(e, "metrics.on_cpu_ns") > 50e6, "the joiner's 100 ms of CPU were not seen: %.0f",
			      harness__num(e, "metrics.on_cpu_ns"));
		}
	}
	CHECK_EQ(seen_member, 1);
	CHECK_EQ(seen_joiner, 1);
	cJSON_Delete(j);
	cli(&d, (char *[]){ "watches", NULL }, &r);
	CHECK(r.exit_code == 0 && strstr(r.out, cg), "workerwatch watches does not list the cgroup: %s", r.out);
	harness__free_result(&r);
	cli(&d, (char *[]){ "watches", "remove", id, NULL }, &r);
	CHECK(r.exit_code == 0, "watches remove failed: %s", r.err);
	harness__free_result(&r);
	CHECK(api(&d, "GET", "/api/v1/watches", NULL, &j) == 200 && cJSON_GetArraySize(j) == 0, "the rule stayed");
	cJSON_Delete(j);
	kill(member, SIGKILL);
	harness__wait(member, 10);
	wwd_stop(&d, SIGTERM);
	rmdir(cg);
}

KERNEL_TEST(attach_cgroup_v2_tracks_members_and_joiners)
{
	cgroup_case("/sys/fs/cgroup/unified");
}

KERNEL_TEST(attach_cgroup_v1_tracks_members_and_joiners)
{
	cgroup_case("/sys/fs/cgroup/pids");
}

/*
 * Labels of a job (from its environment and from its orchestrator's label
 * templates) travel: to the execution, events.jsonl, an alert's labels (a
 * silence can match them) and, for allowlisted names only, /metrics. A PATCH
 * renames and relabels.
 */
KERNEL_TEST(labels_travel_to_alerts_events_and_metrics)
{
	char config[400], fifo[400], body[600], path[64], *text, *log;
	const char *cfg_path = harness__tmp("config.json");
	cJSON *j = NULL, *a, *e;
	struct wwd d;
	int orch, status, alerts = 0;
	double id = 0;

	snprintf(config, sizeof(config), "%s", cfg_path);
	write_text(config, "{\"evaluation_interval\": \"1s\", \"metric_labels\": \"team\", \"env_labels\": \"PIPELINE\","
		   " \"rules\": [{\"id\": \"long-run\", \"alertname\": \"WorkerRunsLong\", \"metric\": \"runtime_seconds\","
		   " \"op\": \">\", \"threshold\": 0.5}]}\n");
	ASSERT(wwd_start_opts(&d, config), "no daemon");
	snprintf(fifo, sizeof(fifo), "%s/go", harness__tmpdir());
	mkfifo(fifo, 0600);
	snprintf(body, sizeof(body), "read g < %s; TEAM=ml PIPELINE=p42 %s sleep 500 12", fifo, wwd_bin("wwload"));
	orch = harness__spawn((char *[]){ "/bin/sh", "-c", body, NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"labels\", \"labels\": {\"team\": \"{{env.TEAM}}\"}}", orch);
	ASSERT(api(&d, "POST", "/api/v1/orchestrators", body, NULL) == 201, "POST /api/v1/orchestrators failed");
	wwd_release(fifo);
	for (int i = 0; i < 60 && !alerts; i++) {
		wwd_sleep_ms(100);
		cJSON_Delete(j);
		j = NULL;
		api(&d, "GET", "/api/v1/alerts?state=active", NULL, &j);
		cJSON_ArrayForEach(a, j)
			alerts += !strcmp(harness__str(a, "alertname") ?: "", "WorkerRunsLong");
	}
	ASSERT(alerts == 1, "WorkerRunsLong did not fire");
	a = cJSON_GetArrayItem(j, 0);
	CHECK_STR(harness__str(a, "labels.team"), "ml");
	CHECK_STR(harness__str(a, "labels.PIPELINE"), "p42");
	id = atof(harness__str(a, "labels.execution_id") ?: "0");
	cJSON_Delete(j);
	j = NULL;
	/* a silence on an execution label mutes it */
	CHECK(api(&d, "POST", "/api/v1/silences", "{\"matchers\": [\"team=\\\"ml\\\"\"], \"duration\": \"1h\","
		  " \"createdBy\": \"test\"}", NULL) == 201, "POST /api/v1/silences failed");
	wwd_sleep_ms(1500);
	api(&d, "GET", "/api/v1/alerts?state=active", NULL, &j);
	cJSON_ArrayForEach(a, j)
		if (!strcmp(harness__str(a, "alertname") ?: "", "WorkerRunsLong"))
			CHECK(cJSON_IsTrue(cJSON_GetObjectItem(a, "silenced")), "the silence on team=ml did not mute it");
	cJSON_Delete(j);
	j = NULL;

	/* /metrics: the allowlisted name only */
	snprintf(body, sizeof(body), "%s/metrics", d.url);
	ASSERT(wwd_http("GET", body, NULL, d.token, &text) == 200, "no /metrics");
	CHECK(strstr(text, "team=\"ml\""), "/metrics has no team label");
	CHECK(!strstr(text, "PIPELINE"), "/metrics shows a label that is not allowlisted");
	free(text);

	/* a PATCH renames and relabels */
	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", id);
	CHECK(api(&d, "PATCH", path, "{\"agent\": \"renamed\", \"task\": \"t2\", \"labels\": {\"team\": \"ops\"}}", &j) ==
	      200, "PATCH failed");
	CHECK_STR(harness__str(j, "agent"), "renamed");
	CHECK_STR(harness__str(j, "labels.team"), "ops");
	cJSON_Delete(j);
	j = NULL;
	CHECK(api(&d, "PATCH", path, "{\"agent\": \"\"}", NULL) == 400, "an empty agent was accepted");
	CHECK(api(&d, "PATCH", path, "{\"labels\": {\"bad-name\": \"x\"}}", NULL) == 400, "a bad label name was accepted");
	status = harness__wait(orch, 30);
	CHECK(WIFEXITED(status), "the orchestrator ended with status %d", status);
	j = executions(&d, "labels", 1, true);
	e = cJSON_GetArrayItem(j, 0);
	CHECK_STR(harness__str(e, "agent"), "renamed");
	CHECK_STR(harness__str(e, "labels.team"), "ops");
	cJSON_Delete(j);
	/* events.jsonl: the start carries the labels the job had, the rename its new ones */
	snprintf(body, sizeof(body), "%s/log/events.jsonl", d.dir);
	log = wwd_read_file(body);
	CHECK(log && strstr(log, "\"event\":\"STARTED\"") && strstr(log, "\"labels\":{\"PIPELINE\":\"p42\",\"team\":\"ml\"}"),
	      "the STARTED event has no labels");
	CHECK(log && strstr(log, "\"event\":\"RENAMED\""), "no RENAMED event");
	free(log);
	snprintf(body, sizeof(body), "%s/metrics", d.url);
	ASSERT(wwd_http("GET", body, NULL, d.token, &text) == 200, "no /metrics");
	CHECK(strstr(text, "workerwatch_executions_finished_labeled_total{agent=\"renamed\",status=\"completed\","
			   "team=\"ops\"} 1"), "the finished execution is not counted by its label");
	free(text);
	wwd_stop(&d, SIGTERM);
}

/*
 * attach --orchestrator honors every option: agent from the job's
 * environment, an ignore list (never an execution), a minimum duration
 * (shorter children count in the orchestrator's own totals). Options for
 * an orchestrator only are refused elsewhere, not ignored.
 */
KERNEL_TEST(orchestrator_options_are_honored_not_ignored)
{
	char fifo[400], script[800], pid_text[32], *log;
	struct cmd_result r;
	cJSON *j, *o;
	struct wwd d;
	int orch, status;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(fifo, sizeof(fifo), "%s/go", harness__tmpdir());
	mkfifo(fifo, 0600);
	snprintf(script, sizeof(script), "read g < %s; /bin/true; sleep 0.05; AGENT_NAME=long sleep 0.6; "
		 "AGENT_NAME=also-long sleep 0.6", fifo);
	orch = harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(pid_text, sizeof(pid_text), "%d", orch);
	cli(&d, (char *[]){ "attach", "--orchestrator", pid_text, "--session", "opts", "--agent",
			    "{{env.AGENT_NAME|comm}}", "--ignore", "/true$", "--min-duration", "300ms", NULL }, &r);
	CHECK(r.exit_code == 0, "attach --orchestrator failed: %s", r.err);
	harness__free_result(&r);
	cli(&d, (char *[]){ "orchestrators", NULL }, &r);
	CHECK(r.exit_code == 0 && strstr(r.out, pid_text) && strstr(r.out, "opts"),
	      "workerwatch orchestrators does not list it: %s", r.out);
	harness__free_result(&r);
	wwd_release(fifo);
	status = harness__wait(orch, 30);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the orchestrator ended with status %d", status);
	j = executions(&d, "opts", 2, true);
	CHECK_EQ(cJSON_GetArraySize(j), 2);
	CHECK_STR(harness__str(cJSON_GetArrayItem(j, 0), "agent"), "also-long");
	CHECK_STR(harness__str(cJSON_GetArrayItem(j, 1), "agent"), "long");
	cJSON_Delete(j);
	/* its own totals: the short child and the ignored one, in the event that closes it */
	for (int i = 0; i < 50; i++) {
		snprintf(script, sizeof(script), "%s/log/events.jsonl", d.dir);
		log = wwd_read_file(script);
		if (log && strstr(log, "ORCHESTRATOR_END"))
			break;
		free(log);
		log = NULL;
		wwd_sleep_ms(100);
	}
	CHECK(log && strstr(log, "\"absorbed\":1") && strstr(log, "\"ignored\":1"),
	      "the orchestrator's own totals are not 1 absorbed and 1 ignored: %s", log ? log : "(no log)");
	free(log);

	/* no option is accepted and then ignored */
	cli(&d, (char *[]){ "attach", pid_text, "--session", "s", "--agent", "a", "--jobs", "exec:x", NULL }, &r);
	CHECK(r.exit_code == 2, "attach PID took --jobs: %d", r.exit_code);
	harness__free_result(&r);
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "run", "--ignore", "x", "--", "/bin/true", NULL }, 30, &r);
	CHECK(r.exit_code == 2, "run took --ignore without --orchestrator: %d", r.exit_code);
	harness__free_result(&r);
	/* DELETE stops watching one */
	orch = harness__spawn((char *[]){ (char *)wwd_bin("wwload"), "hang", NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(pid_text, sizeof(pid_text), "%d", orch);
	cli(&d, (char *[]){ "attach", "--orchestrator", pid_text, "--json", NULL }, &r);
	o = cJSON_Parse(r.out);
	harness__free_result(&r);
	snprintf(pid_text, sizeof(pid_text), "%.0f", harness__num(o, "id"));
	cJSON_Delete(o);
	cli(&d, (char *[]){ "orchestrators", "remove", pid_text, NULL }, &r);
	CHECK(r.exit_code == 0, "orchestrators remove failed: %s", r.err);
	harness__free_result(&r);
	CHECK(api(&d, "GET", "/api/v1/orchestrators", NULL, &j) == 200 && cJSON_GetArraySize(j) == 0,
	      "the orchestrator is still listed");
	cJSON_Delete(j);
	kill(orch, SIGKILL);
	harness__wait(orch, 10);
	wwd_stop(&d, SIGTERM);
}

/*
 * A parent rule and an argv regex: processes of a runner (a rule that only
 * selects, action none) are executions when their argv matches; the others
 * are untracked at once (userspace decides on the event), none of them an
 * execution. A job its orchestrator kills is stopped_by_orchestrator, or
 * failed when the orchestrator says that is a failure.
 */
KERNEL_TEST(watch_parent_and_argv_rules_decide_in_the_kernel_and_userspace)
{
	char spawner[400], text[1200], rule[600];
	struct wwd d;
	cJSON *j, *e;
	int pid, status, n = 0;

	snprintf(spawner, sizeof(spawner), "%s/spawner.sh", harness__tmpdir());
	snprintf(text, sizeof(text), "#!/bin/sh\n%s cpu 50\n%s sleep 20 3\n%s cpu 30\n", wwd_bin("wwload"),
		 wwd_bin("wwload"), wwd_bin("wwload"));
	write_text(spawner, text);
	chmod(spawner, 0755);
	ASSERT(wwd_start(&d), "no daemon");
	CHECK(api(&d, "POST", "/api/v1/watches", "{\"name\": \"spawner\", \"comm\": \"spawner.sh\", \"action\": \"none\"}",
		  NULL) == 201, "the parent rule was refused");
	snprintf(rule, sizeof(rule), "{\"name\": \"burners\", \"parent\": \"spawner\", \"comm\": \"wwload\", \"argv\": \" cpu \","
		 " \"session\": \"argv\", \"agent\": \"burner\", \"task\": \"{{argv.2}}ms\"}");
	CHECK(api(&d, "POST", "/api/v1/watches", rule, NULL) == 201, "the argv rule was refused");
	pid = harness__spawn((char *[]){ spawner, NULL }, NULL);
	status = harness__wait(pid, 30);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the spawner ended with status %d", status);
	j = executions(&d, "argv", 2, true);
	cJSON_ArrayForEach(e, j) {
		n++;
		CHECK_STR(harness__str(e, "agent"), "burner");
		CHECK_STR(harness__str(e, "status"), "completed");
		CHECK(!strcmp(harness__str(e, "task") ?: "", "50ms") || !strcmp(harness__str(e, "task") ?: "", "30ms"),
		      "an execution of %s", harness__str(e, "task"));
	}
	CHECK_EQ(n, 2);
	cJSON_Delete(j);
	/* the runner itself (action none) and its sleeper (argv did not match) are no executions */
	CHECK(api(&d, "GET", "/api/v1/executions?limit=100", NULL, &j) == 200, "no executions");
	CHECK_EQ(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);

	/* an orchestrator that kills its own job: stopped_by_orchestrator, or failed when it says so */
	for (int failure = 0; failure < 2; failure++) {
		char pid_text[32], session[16];
		struct cmd_result r;
		int orch;
		char fifo[400], script[600];

		snprintf(fifo, sizeof(fifo), "%s/kill%d", harness__tmpdir(), failure);
		mkfifo(fifo, 0600);
		snprintf(script, sizeof(script), "read g < %s; %s sleep 100 50 & sleep 0.5; kill $!; wait", fifo,
			 wwd_bin("wwload"));
		orch = harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
		wwd_sleep_ms(100);
		snprintf(pid_text, sizeof(pid_text), "%d", orch);
		snprintf(session, sizeof(session), "kill%d", failure);
		cli(&d, failure ? (char *[]){ "attach", "--orchestrator", pid_text, "--session", session,
					      "--ignore", "/sleep$", "--stopped-is-failure", NULL }
				: (char *[]){ "attach", "--orchestrator", pid_text, "--session", session, "--ignore",
					      "/sleep$", NULL }, &r);
		CHECK(r.exit_code == 0, "attach --orchestrator failed: %s", r.err);
		harness__free_result(&r);
		wwd_release(fifo);
		harness__wait(orch, 30);
		j = executions(&d, session, 1, true);
		CHECK_EQ(cJSON_GetArraySize(j), 1);
		e = cJSON_GetArrayItem(j, 0);
		CHECK_STR(harness__str(e, "status"), failure ? "failed" : "stopped_by_orchestrator");
		CHECK_EQ(harness__num(e, "signal"), SIGTERM);
		cJSON_Delete(j);
	}
	wwd_stop(&d, SIGTERM);
}
