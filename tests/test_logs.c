// SPDX-License-Identifier: MIT
/* Logs that ship: events.jsonl lines that say whose they are, per-process lines off, the daemon's own log in JSON. */
#include <ctype.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "lib/log.h"
#include "wwd.h"

#define HOST "fleet-host-7"
#define WAIT_MS 30000

static bool is_hex(const char *s, size_t len)
{
	if (!s || strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
			return false;
	return true;
}

/* stderr into a file while fn runs; the file's text (malloc'd). */
static char *capture_stderr(void (*fn)(void))
{
	const char *path = harness__tmp("stderr.txt");
	int saved = dup(STDERR_FILENO), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	return wwd_read_file(path);
}

#define NASTY "a \"quoted\" C:\\path\nline two\ttab \x01 caf\xc3\xa9"

static void log_both_ways(void)
{
	int verbosity = log_verbosity;

	log_verbosity = LOG_WARN;
	log_set_json(true);
	ww_err("%s", NASTY);
	ww_warn("disk %d%% full", 93);
	ww_info("filtered out");
	log_set_json(false);
	ww_warn("plain again");
	log_verbosity = verbosity;
}

/* JSON mode: one object per line whose msg is the message exactly; text mode as before. */
TEST(logs_daemon_log_json_lines_carry_the_message_exactly)
{
	char *text = capture_stderr(log_both_ways), *save = NULL, *l;
	cJSON *j;

	ASSERT(text, "nothing captured");
	l = strtok_r(text, "\n", &save);
	j = l ? cJSON_Parse(l) : NULL;
	CHECK_STR(harness__str(j, "level"), "error");
	CHECK_STR(harness__str(j, "msg"), NASTY);
	CHECK(strlen(harness__str(j, "ts")) == 24 && harness__str(j, "ts")[23] == 'Z', "ts %s", harness__str(j, "ts"));
	cJSON_Delete(j);
	l = strtok_r(NULL, "\n", &save);
	j = l ? cJSON_Parse(l) : NULL;
	CHECK_STR(harness__str(j, "level"), "warning");
	CHECK_STR(harness__str(j, "msg"), "disk 93% full");
	cJSON_Delete(j);
	l = strtok_r(NULL, "\n", &save);
	CHECK_STR(l, "workerwatch: warning: plain again");
	CHECK(!strtok_r(NULL, "\n", &save), "more lines than logged");
	free(text);
}

static void log_long(void)
{
	char big[20001];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	log_set_json(true);
	ww_err("libbpf: %s", big);
	log_set_json(false);
	ww_err("%s", big);
}

/* A verifier log is long: no line is cut, JSON or text. */
TEST(logs_daemon_log_keeps_long_messages_whole)
{
	char *text = capture_stderr(log_long), *save = NULL, *l;
	cJSON *j;

	ASSERT(text, "nothing captured");
	l = strtok_r(text, "\n", &save);
	j = l ? cJSON_Parse(l) : NULL;
	CHECK_EQ(strlen(harness__str(j, "msg") ?: ""), 20000 + strlen("libbpf: "));
	cJSON_Delete(j);
	l = strtok_r(NULL, "\n", &save);
	CHECK_EQ(l ? strlen(l) : 0, 20000 + strlen("workerwatch: "));
	free(text);
}

TEST(logs_daemon_refuses_an_unknown_log_format)
{
	struct cmd_result r;

	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "daemon", "--log-format", "xml", "--db",
				 (char *)harness__tmp("h.db"), "--log-dir", (char *)harness__tmp("log"), NULL }, 30, &r);
	CHECK(r.exit_code == 2, "exit %d: %s", r.exit_code, r.err ?: "");
	CHECK(r.err && strstr(r.err, "--log-format wants text or json, not 'xml'"), "stderr: %s", r.err ?: "");
	harness__free_result(&r);
}

/* The lines of a file, each parsed (a JSON null for a line that is not JSON): an array to delete. */
static cJSON *json_lines(const char *path)
{
	char *text = wwd_read_file(path), *save = NULL;
	cJSON *arr = cJSON_CreateArray();

	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
		cJSON_AddItemToArray(arr, cJSON_Parse(l) ?: cJSON_CreateNull());
	free(text);
	return arr;
}

/* The line of kind about execution id, NULL when there is none. */
static const cJSON *line_of(const cJSON *lines, const char *kind, double id)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, lines)
		if (!strcmp(harness__str(l, "event"), kind) && cJSON_IsNumber(harness__get(l, "execution")) &&
		    harness__num(l, "execution") == id)
			return l;
	return NULL;
}

/*
 * An attached worker with labels that forks a tree, and an orchestrator
 * whose children are named by their exec: every line about an execution
 * names it (history id, trace and span ids, host, labels), STARTED carries
 * the names its end carries, no FORK or EXEC line is written and the only
 * EXIT is the root's; the daemon's own log is one JSON object per line.
 */
KERNEL_TEST(logs_lines_name_their_execution_host_and_labels_without_per_process_lines)
{
	char config[300], fifo[300], cmd[1200], body[300], script[1200], logpath[300];
	cJSON *lines = NULL, *attached = NULL, *children = NULL, *stderr_lines = NULL;
	const cJSON *l, *e;
	struct stat st;
	glob_t g;
	struct wwd d = {};
	int worker, orch, status, about = 0, exits = 0, checked = 0;
	FILE *f;

	snprintf(config, sizeof(config), "%s", harness__tmp("config.json"));
	f = fopen(config, "w");
	ASSERT(f, "cannot write %s", config);
	fprintf(f, "{\"host\": \"" HOST "\", \"log_process_events\": 0, \"log_format\": \"json\"}\n");
	fclose(f);
	ASSERT(wwd_start_opts(&d, config), "no daemon");

	/* a labelled worker: a tree of 2 x 2 processes */
	snprintf(fifo, sizeof(fifo), "%s/go", d.dir);
	snprintf(cmd, sizeof(cmd), "%s tree 2 2", wwd_bin("wwload"));
	worker = wwd_spawn_held(fifo, cmd);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"logs-a\", \"agent\": \"builder\", "
		 "\"task\": \"compile\", \"labels\": {\"team\": \"ci\"}}", worker);
	CHECK_EQ(wwd_api(&d, "POST", "/api/v1/executions", body, true, NULL), 201);
	wwd_release(fifo);
	status = harness__wait(worker, 60);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker status %d", status);

	/* an orchestrator: each child is an execution named by what it executes */
	snprintf(script, sizeof(script), "read go < %s; %s tree 2 1; %s exit 3; true", fifo, wwd_bin("wwload"),
		 wwd_bin("wwload"));
	orch = harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"logs-b\"}", orch);
	CHECK_EQ(wwd_api(&d, "POST", "/api/v1/orchestrators", body, true, NULL), 201);
	wwd_release(fifo);
	status = harness__wait(orch, 60);
	CHECK(WIFEXITED(status), "orchestrator status %d", status);

	attached = wwd_ended_executions(&d, "logs-a", 1, WAIT_MS);
	children = wwd_ended_executions(&d, "logs-b", 2, WAIT_MS);
	ASSERT(cJSON_GetArraySize(attached) == 1, "logs-a has %d executions", cJSON_GetArraySize(attached));
	ASSERT(cJSON_GetArraySize(children) == 2, "logs-b has %d executions", cJSON_GetArraySize(children));
	snprintf(logpath, sizeof(logpath), "%s/log/events.jsonl", d.dir);
	/* an execution's end is in history before its COMPLETED line: wait for the last one */
	for (int waited = 0; waited <= WAIT_MS; waited += 100) {
		int ends = 0;

		cJSON_Delete(lines);
		lines = json_lines(logpath);
		cJSON_ArrayForEach(l, lines)
			ends += !strcmp(harness__str(l, "event"), "COMPLETED") || !strcmp(harness__str(l, "event"), "FAILED");
		if (ends >= 3)
			break;
		wwd_sleep_ms(100);
	}

	cJSON_ArrayForEach(l, lines) {
		const char *kind = harness__str(l, "event");
		const cJSON *ex = NULL;

		if (!CHECK(cJSON_IsObject(l), "a line of events.jsonl is not JSON"))
			continue;
		CHECK_STR(harness__str(l, "host"), HOST);
		CHECK(strcmp(kind, "FORK") && strcmp(kind, "EXEC"), "a %s line with log_process_events 0", kind);
		if (!harness__get(l, "execution"))
			continue;
		about++;
		CHECK(is_hex(harness__str(l, "trace_id"), 32), "%s: trace_id '%s'", kind, harness__str(l, "trace_id"));
		CHECK(is_hex(harness__str(l, "span_id"), 16), "%s: span_id '%s'", kind, harness__str(l, "span_id"));
		CHECK(cJSON_IsObject(harness__get(l, "labels")), "%s: no labels object", kind);
		cJSON_ArrayForEach(e, attached)
			if (harness__num(e, "id") == harness__num(l, "execution"))
				ex = e;
		if (ex)
			CHECK_STR(harness__str(l, "labels.team"), "ci");
		if (!strcmp(kind, "EXIT")) {
			exits++;
			CHECK_EQ(harness__num(l, "process"), harness__num(l, "pid"));
		}
	}
	CHECK(about >= 6, "only %d lines about executions", about);
	CHECK(exits >= 1, "no EXIT line of a root");

	/* STARTED names each execution as its end does, and as the history does */
	for (int s = 0; s < 2; s++) {
		const cJSON *list = s ? children : attached;

		cJSON_ArrayForEach(e, list) {
			double id = harness__num(e, "id");
			const cJSON *start = line_of(lines, "STARTED", id), *end = line_of(lines, "COMPLETED", id);

			end = end ?: line_of(lines, "FAILED", id);
			if (!CHECK(start && end, "execution %.0f: STARTED %p, end %p", id, (void *)start, (void *)end))
				continue;
			CHECK_STR(harness__str(start, "agent"), harness__str(e, "agent"));
			CHECK_STR(harness__str(end, "agent"), harness__str(e, "agent"));
			CHECK_STR(harness__str(start, "task"), harness__str(end, "task"));
			CHECK_STR(harness__str(start, "trace_id"), harness__str(end, "trace_id"));
			CHECK_STR(harness__str(start, "span_id"), harness__str(end, "span_id"));
			checked++;
		}
	}
	CHECK_EQ(checked, 3);
	cJSON_ArrayForEach(e, children)
		CHECK_STR(harness__str(e, "agent"), "wwload");

	wwd_stop(&d, SIGTERM);
	/* the daemon's own log: every line an object with a time, a level and a message */
	snprintf(logpath, sizeof(logpath), "%s/daemon.*.log", harness__tmpdir());
	ASSERT(glob(logpath, 0, NULL, &g) == 0 && g.gl_pathc == 1, "not one daemon log %s", logpath);
	snprintf(logpath, sizeof(logpath), "%s", g.gl_pathv[0]);
	globfree(&g);
	CHECK(stat(logpath, &st) == 0 && st.st_size > 0, "no daemon log at %s", logpath);
	stderr_lines = json_lines(logpath);
	status = 0;
	cJSON_ArrayForEach(l, stderr_lines) {
		if (!CHECK(cJSON_IsObject(l), "a line of the daemon's log is not JSON"))
			continue;
		CHECK(strlen(harness__str(l, "ts")) == 24, "ts '%s'", harness__str(l, "ts"));
		CHECK(strstr("error warning info debug", harness__str(l, "level")) && harness__str(l, "level")[0],
		      "level '%s'", harness__str(l, "level"));
		status += strstr(harness__str(l, "msg"), "listening on http://127.0.0.1:") != NULL;
	}
	CHECK_EQ(status, 1);
	cJSON_Delete(lines);
	cJSON_Delete(attached);
	cJSON_Delete(children);
	cJSON_Delete(stderr_lines);
}
