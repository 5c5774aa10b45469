// SPDX-License-Identifier: MIT
/* The CLI as a user reads it: --help per command with examples, usage errors naming what is missing, the environment, human output. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "wwd.h"

/* Every command of `workerwatch help`, and the words its usage line starts with. */
static const char *const commands[] = {
	"run", "daemon", "attach", "detach", "top", "alerts", "ack", "unack", "resolve", "silence",
	"list", "show", "executions", "agent", "health", "performance", "failures", "export", "cleanup",
};

/* Each command's --help (and `help COMMAND`): its own usage, examples that run workerwatch, exit 0. */
TEST(cli_each_command_has_its_own_help_with_examples)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		for (int form = 0; form < 2; form++) {
			char *argv[] = { (char *)wwd_bin("workerwatch"), form ? "help" : (char *)commands[i],
					 form ? (char *)commands[i] : "--help", NULL };
			char want[64], *ex, *save = NULL;
			struct cmd_result r;
			int examples = 0;

			harness__run(argv, 30, &r);
			snprintf(want, sizeof(want), "Usage: workerwatch %s", commands[i]);
			CHECK(r.exit_code == 0, "%s %s exited %d", argv[1], argv[2], r.exit_code);
			CHECK(r.out && strstr(r.out, want), "%s %s: no '%s' in\n%s", argv[1], argv[2], want, r.out ?: "");
			ex = r.out ? strstr(r.out, "\nExamples:\n") : NULL;
			if (CHECK(ex, "%s --help has no examples", commands[i])) {
				/* the examples: indented lines up to the next blank line, each a workerwatch command */
				for (char *l = strtok_r(ex + 11, "\n", &save); l && l[0] == ' '; l = strtok_r(NULL, "\n", &save)) {
					char self[64];

					snprintf(self, sizeof(self), "workerwatch %s", commands[i]);
					examples++;
					CHECK(strstr(l, "workerwatch "), "%s example without workerwatch: %s", commands[i], l);
					/* `daemon`'s examples name daemon; history commands may put --db first */
					CHECK(strstr(l, self) || strstr(l, "--db"), "%s example of another command: %s",
					      commands[i], l);
				}
			}
			CHECK(examples >= 1, "%s: no example lines", commands[i]);
			/* a history command's help is its own, not the list of them all */
			if (strstr("list show executions agent health performance failures export cleanup", commands[i]))
				CHECK(!strstr(r.out ?: "", strcmp(commands[i], "performance") ? "performance" : "cleanup"),
				      "%s --help lists the other commands", commands[i]);
			harness__free_result(&r);
		}
	}
}

/* A usage error is one line on stderr that names what is missing, exit 2, before any connection. */
static void usage_error(const char *want, char *a1, char *a2, char *a3, char *a4)
{
	char *argv[] = { (char *)wwd_bin("workerwatch"), a1, a2, a3, a4, NULL };
	struct cmd_result r;

	harness__run(argv, 30, &r);
	CHECK(r.exit_code == 2, "%s %s: exit %d", a1, a2 ?: "", r.exit_code);
	CHECK(r.err && strstr(r.err, want), "%s %s: '%s' not in: %s", a1, a2 ?: "", want, r.err ?: "");
	CHECK(r.err && strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "%s: not one line: %s", a1, r.err ?: "");
	CHECK(r.out && !r.out[0], "%s: wrote to stdout: %s", a1, r.out ?: "");
	harness__free_result(&r);
}

TEST(cli_usage_errors_name_the_missing_flag)
{
	/* an address nothing listens on: a usage error must come before any request */
	setenv("WORKERWATCH_URL", "http://127.0.0.1:1", 1);
	usage_error("attach: missing PID", "attach", "--session", "s", NULL);
	usage_error("attach: missing --session", "attach", "42", "--agent", "a");
	usage_error("attach: missing --agent", "attach", "42", "--session", "s");
	usage_error("attach: option --agent needs a value", "attach", "42", "--agent", NULL);
	usage_error("detach: missing ID", "detach", NULL, NULL, NULL);
	usage_error("ack: missing ID", "ack", NULL, NULL, NULL);
	usage_error("resolve: missing ID", "resolve", "--by", "me", NULL);
	usage_error("silence: missing --duration", "silence", "agent=builder", NULL, NULL);
	usage_error("silence: missing MATCHER", "silence", "--duration", "2h", NULL);
	usage_error("show needs SESSION", "show", NULL, NULL, NULL);
	usage_error("cleanup needs DAYS", "cleanup", NULL, NULL, NULL);
	usage_error("no command given: workerwatch run [OPTIONS] -- CMD", "run", "--no-daemon", NULL, NULL);
	unsetenv("WORKERWATCH_URL");
}

/* `workerwatch CMD ARGS...` with no --server or --token-file: the environment names the daemon. */
static void run_cli(struct cmd_result *r, char *a1, char *a2, char *a3, char *a4, char *a5, char *a6, char *a7)
{
	char *argv[] = { (char *)wwd_bin("workerwatch"), a1, a2, a3, a4, a5, a6, a7, NULL };

	harness__run(argv, 30, r);
}

/* The alert the API shows firing for execution id, NULL until then. */
static cJSON *firing_alert(const struct wwd *d, const char *exec_id)
{
	for (int waited = 0; waited < 20000; waited += 200) {
		cJSON *list = NULL, *a;

		if (wwd_api(d, "GET", "/api/v1/alerts?state=firing", NULL, true, &list) == 200)
			cJSON_ArrayForEach(a, list) {
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(a, "labels"),
										  "execution_id");

				if (cJSON_IsString(v) && !strcmp(v->valuestring, exec_id)) {
					cJSON *copy = cJSON_Duplicate(a, 1);

					cJSON_Delete(list);
					return copy;
				}
			}
		cJSON_Delete(list);
		wwd_sleep_ms(200);
	}
	return NULL;
}

/*
 * With WORKERWATCH_URL and WORKERWATCH_TOKEN_FILE only: attach says what it
 * tracks in a sentence (--json: the daemon's JSON), alerts shows the alert's
 * whole start time, detach says what it stopped.
 */
KERNEL_TEST(cli_client_commands_read_the_environment_and_speak_human)
{
	static const char *const rule =
		"{\"evaluation_interval\": \"1s\", \"rules\": [{\"id\": \"cli-stuck\", \"alertname\": \"CliStuck\","
		" \"metric\": \"syscall_blocked_seconds\", \"scope\": {\"level\": \"execution\"}, \"window\": \"0\","
		" \"op\": \">\", \"threshold\": 1, \"for\": \"0\", \"severity\": \"warning\","
		" \"annotations\": {\"summary\": \"blocked {{value}}s\"}}]}\n";
	char config[300], fifo[300], cmd[600], pid[16], pid2[16], id[32], want[160];
	cJSON *j = NULL, *alert = NULL, *ex = NULL;
	struct cmd_result r;
	struct wwd d = {};
	int worker, sleeper;
	FILE *f;

	snprintf(config, sizeof(config), "%s", harness__tmp("config.json"));
	f = fopen(config, "w");
	ASSERT(f, "cannot write %s", config);
	fputs(rule, f);
	fclose(f);
	ASSERT(wwd_start_opts(&d, config), "no daemon");
	setenv("WORKERWATCH_URL", d.url, 1);
	setenv("WORKERWATCH_TOKEN_FILE", d.token, 1);

	/* attach: a sentence naming the execution, then the same with --json */
	snprintf(fifo, sizeof(fifo), "%s/go", d.dir);
	snprintf(cmd, sizeof(cmd), "%s block-read", wwd_bin("wwload"));
	worker = wwd_spawn_held(fifo, cmd);
	snprintf(pid, sizeof(pid), "%d", worker);
	run_cli(&r, "attach", pid, "--session", "cli-env", "--agent", "reader", NULL);
	CHECK(r.exit_code == 0, "attach: %d %s", r.exit_code, r.err);
	CHECK(r.out && !strncmp(r.out, "Tracking execution ", 19), "attach said: %s", r.out ?: "");
	snprintf(id, sizeof(id), "%ld", r.out ? strtol(r.out + 19, NULL, 10) : 0L);
	snprintf(want, sizeof(want), "Tracking execution %s (pid %d, session cli-env, agent reader): workerwatch show cli-env\n",
		 id, worker);
	CHECK_STR(r.out, want);
	harness__free_result(&r);
	wwd_release(fifo);
	/* a second attach of the same pid is refused; --json has the daemon's error on stderr, nothing on stdout */
	run_cli(&r, "attach", pid, "--session", "cli-env", "--agent", "reader", "--json");
	CHECK(r.exit_code == 1 && r.out && !r.out[0], "attach again: %d '%s'", r.exit_code, r.out ?: "");
	harness__free_result(&r);

	/* --json: the daemon's answer as it gave it */
	sleeper = harness__spawn((char *[]){ "/bin/sleep", "60", NULL }, NULL);
	snprintf(pid2, sizeof(pid2), "%d", sleeper);
	run_cli(&r, "attach", pid2, "--session", "cli-env", "--agent", "sleeper", "--json");
	j = r.exit_code == 0 && r.out ? cJSON_Parse(r.out) : NULL;
	CHECK(j, "attach --json: %d '%s' %s", r.exit_code, r.out ?: "", r.err ?: "");
	CHECK_EQ(harness__num(j, "pid"), sleeper);
	CHECK_STR(harness__str(j, "agent"), "sleeper");
	CHECK_STR(harness__str(j, "status"), "running");
	cJSON_Delete(j);
	j = NULL;
	harness__free_result(&r);

	/* alerts: the table's SINCE is the API's started_at, whole */
	alert = firing_alert(&d, id);
	ASSERT(alert, "CliStuck did not fire for execution %s", id);
	run_cli(&r, "alerts", NULL, NULL, NULL, NULL, NULL, NULL);
	CHECK(r.exit_code == 0, "alerts: %d %s", r.exit_code, r.err);
	CHECK(strlen(harness__str(alert, "started_at")) == 24, "started_at %s", harness__str(alert, "started_at"));
	CHECK(r.out && strstr(r.out, "SINCE (UTC)"), "no SINCE column: %s", r.out ?: "");
	snprintf(want, sizeof(want), "CliStuck");
	for (char *l = r.out, *end; l && *l; l = end ? end + 1 : NULL) {
		end = strchr(l, '\n');
		if (end)
			*end = 0;
		if (!strncmp(l, harness__str(alert, "id"), 16)) {
			CHECK(strstr(l, harness__str(alert, "started_at")), "alerts row without the whole time %s: %s",
			      harness__str(alert, "started_at"), l);
			want[0] = 0;
		}
	}
	CHECK(!want[0], "no row of alert %s", harness__str(alert, "id"));
	harness__free_result(&r);
	run_cli(&r, "alerts", "--json", NULL, NULL, NULL, NULL, NULL);
	j = r.out ? cJSON_Parse(r.out) : NULL;
	CHECK(cJSON_IsArray(j) && cJSON_GetArraySize(j) >= 1, "alerts --json: %s", r.out ?: "");
	cJSON_Delete(j);
	harness__free_result(&r);

	/* detach: a sentence, and the history says detached */
	run_cli(&r, "detach", id, NULL, NULL, NULL, NULL, NULL);
	CHECK(r.exit_code == 0, "detach: %d %s", r.exit_code, r.err);
	snprintf(want, sizeof(want), "Detached execution %s (pid %d, session cli-env, agent reader): detached, tracking stopped\n",
		 id, worker);
	CHECK_STR(r.out, want);
	harness__free_result(&r);
	snprintf(cmd, sizeof(cmd), "/api/v1/executions/%s", id);
	CHECK_EQ(wwd_api(&d, "GET", cmd, NULL, true, &ex), 200);
	CHECK_STR(harness__str(ex, "status"), "detached");
	/* the flag wins over the environment */
	run_cli(&r, "detach", id, "--json", "--server", "http://127.0.0.1:1", NULL, NULL);
	CHECK(r.exit_code == 1 && r.err && strstr(r.err, "cannot reach the daemon at http://127.0.0.1:1"),
	      "--server did not win: %d %s", r.exit_code, r.err ?: "");
	harness__free_result(&r);
	/* --json: the daemon's own answer (409: it ended) */
	run_cli(&r, "detach", id, "--json", NULL, NULL, NULL, NULL);
	CHECK(r.exit_code == 1 && r.err && strstr(r.err, "409"), "detach again: %d %s", r.exit_code, r.err ?: "");
	harness__free_result(&r);

	unsetenv("WORKERWATCH_URL");
	unsetenv("WORKERWATCH_TOKEN_FILE");
	kill(worker, SIGKILL);
	kill(sleeper, SIGKILL);
	harness__wait(worker, 10);
	harness__wait(sleeper, 10);
	wwd_stop(&d, SIGTERM);
	cJSON_Delete(alert);
	cJSON_Delete(ex);
}
