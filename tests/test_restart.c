// SPDX-License-Identifier: MIT
/* Tracking that outlives the daemon: kill -9 in a storm, restarts while workers run, a changed BPF layout. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "history/store.h"
#include "wwd.h"

struct tally {
	int total, running, completed, exit_zero, lost;
};

static int count_row(const struct exec_record *r, void *ctx)
{
	struct tally *t = ctx;

	t->total++;
	t->running += !strcmp(r->status, "running");
	t->completed += !strcmp(r->status, "completed");
	t->exit_zero += r->has_exit_code && r->exit_code == 0;
	t->lost += !strcmp(r->failure_category, "lost");
	return 0;
}

static struct tally tally(const struct wwd *d, const char *session)
{
	struct tally t = {};

	wwd_foreach_execution(d, session, count_row, &t);
	return t;
}

/* An orchestrator held on a fifo and registered before it starts; returns its pid. */
static int start_orchestrator(struct wwd *d, const char *session, const char *loop)
{
	char fifo[300], script[800], body[200];
	int orch, status;

	snprintf(fifo, sizeof(fifo), "%s/go-%s", d->dir, session);
	mkfifo(fifo, 0600);
	snprintf(script, sizeof(script), "read go < %s; %s", fifo, loop);
	orch = harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"%s\"}", orch, session);
	status = wwd_api(d, "POST", "/api/v1/orchestrators", body, true, NULL);
	CHECK(status == 201, "orchestrator answered %d", status);
	wwd_release(fifo);
	return orch;
}

/*
 * kill -9 in the middle of a storm: the kernel goes on making executions of
 * the children and counting them; after the restart every child that
 * finished is completed with its exit code, none lost, none twice.
 */
KERNEL_TEST(restart_after_kill_9_in_a_storm_loses_no_child)
{
	/* a sanitized daemon is 2-3x slower per child (see test_storm.c): fewer children, the same paths */
	const int n = harness__sanitized() ? 1000 : 3000;
	char loop[200];
	struct tally t;
	struct wwd d;
	int orch, status;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(loop, sizeof(loop), "i=0; while [ $i -lt %d ]; do /bin/echo x > /dev/null; i=$((i+1)); done", n);
	orch = start_orchestrator(&d, "storm", loop);
	for (int i = 0; i < 300 && tally(&d, "storm").total < n / 4; i++)
		wwd_sleep_ms(50);
	wwd_stop(&d, SIGKILL);
	t = tally(&d, "storm");
	CHECK(t.total < n, "the storm ended before the crash (%d executions): the test proves nothing", t.total);
	wwd_sleep_ms(1000);	/* children are born and end while no daemon runs */
	ASSERT(wwd_start(&d), "no daemon after kill -9");
	status = harness__wait(orch, 120);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orchestrator status %d", status);
	for (int i = 0; i < 600; i++) {
		t = tally(&d, "storm");
		if (t.total >= n && !t.running)
			break;
		wwd_sleep_ms(100);
	}
	CHECK_EQ(t.total, n);
	CHECK_EQ(t.completed, n);
	CHECK_EQ(t.exit_zero, n);
	CHECK_EQ(t.lost, 0);
	wwd_stop(&d, SIGTERM);
}

/* A restart (SIGTERM, then a new daemon) while a worker runs: its execution ends with its whole CPU. */
KERNEL_TEST(restart_while_a_worker_runs_keeps_its_counters)
{
	char fifo[300], cmd[600], body[200], truth_path[300], path[64];
	cJSON *j = NULL, *truth = NULL;
	struct wwd d;
	int worker, status;
	double id;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(fifo, sizeof(fifo), "%s/go", d.dir);
	snprintf(truth_path, sizeof(truth_path), "%s/truth.json", d.dir);
	snprintf(cmd, sizeof(cmd), "%s --out %s cpu 2500 --children 1", wwd_bin("wwload"), truth_path);
	worker = wwd_spawn_held(fifo, cmd);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"upgrade\", \"agent\": \"builder\"}", worker);
	ASSERT(wwd_api(&d, "POST", "/api/v1/executions", body, true, &j) == 201, "attach failed");
	id = harness__num(j, "id");
	cJSON_Delete(j);
	j = NULL;
	wwd_release(fifo);
	wwd_sleep_ms(800);
	wwd_stop_keep(&d);
	wwd_sleep_ms(500);	/* it runs on with no daemon */
	ASSERT(wwd_start(&d), "no daemon after the restart");
	status = harness__wait(worker, 60);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker status %d", status);
	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", id);
	for (int i = 0; i < 100; i++) {
		cJSON_Delete(j);
		j = NULL;
		if (wwd_api(&d, "GET", path, NULL, true, &j) == 200 && strcmp(harness__str(j, "status") ?: "", "running"))
			break;
		wwd_sleep_ms(100);
	}
	truth = harness__read_json(truth_path);
	CHECK_STR(harness__str(j, "status"), "completed");
	CHECK_EQ(harness__num(j, "exit_code"), 0);
	CHECK_EQ(harness__num(j, "metrics.process_count"), 2);
	CHECK_NEAR(harness__num(j, "metrics.on_cpu_ns"), harness__num(truth, "cpu_ns"), 3);
	cJSON_Delete(j);
	cJSON_Delete(truth);
	wwd_stop(&d, SIGTERM);
}

/* An orchestrator's registration outlives the daemon: children after a restart are executions too. */
KERNEL_TEST(restart_keeps_orchestrator_registrations)
{
	char gate[300], loop[600];
	struct tally t;
	struct wwd d;
	int orch, status;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(gate, sizeof(gate), "%s/second-half", d.dir);
	mkfifo(gate, 0600);
	/* five children, then it waits until the daemon was restarted, then five more */
	snprintf(loop, sizeof(loop), "for i in 1 2 3 4 5; do /bin/true; done; read go < %s; "
		 "for i in 1 2 3 4 5; do /bin/true; done", gate);
	orch = start_orchestrator(&d, "kept", loop);
	for (int i = 0; i < 100 && tally(&d, "kept").completed < 5; i++)
		wwd_sleep_ms(50);
	wwd_stop_keep(&d);
	ASSERT(wwd_start(&d), "no daemon after the restart");
	wwd_release(gate);
	status = harness__wait(orch, 30);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orchestrator status %d", status);
	for (int i = 0; i < 100; i++) {
		t = tally(&d, "kept");
		if (t.total >= 10 && !t.running)
			break;
		wwd_sleep_ms(50);
	}
	CHECK_EQ(t.total, 10);
	CHECK_EQ(t.completed, 10);
	wwd_stop(&d, SIGTERM);
}

/* --detach-all ends what runs as detached and leaves no pin; the worker itself is untouched. */
KERNEL_TEST(detach_all_ends_tracking_and_leaves_nothing_pinned)
{
	char body[200], path[64];
	cJSON *j = NULL;
	struct wwd d;
	struct stat st;
	int hang;
	double id;

	ASSERT(wwd_start(&d), "no daemon");
	hang = harness__spawn((char *[]){ (char *)wwd_bin("wwload"), "hang", NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"bye\", \"agent\": \"a\"}", hang);
	ASSERT(wwd_api(&d, "POST", "/api/v1/executions", body, true, &j) == 201, "attach failed");
	id = harness__num(j, "id");
	cJSON_Delete(j);
	j = NULL;
	CHECK(!stat(d.pin_dir, &st), "nothing pinned in %s while a worker is tracked", d.pin_dir);
	wwd_stop(&d, SIGTERM);	/* then --detach-all; it checks that the pin directory is gone */
	CHECK(kill(hang, 0) == 0, "the worker did not survive --detach-all");
	ASSERT(wwd_start(&d), "no daemon");
	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", id);
	CHECK(wwd_api(&d, "GET", path, NULL, true, &j) == 200, "the execution is gone");
	CHECK_STR(harness__str(j, "status"), "detached");
	cJSON_Delete(j);
	kill(hang, SIGKILL);
	harness__wait(hang, 10);
	wwd_stop(&d, SIGTERM);
}

/* Pinned state of another build's BPF layout is reported and removed, never read. */
KERNEL_TEST(restart_with_another_bpf_layout_starts_clean)
{
	char old[400], map[500], cmd[600];
	struct cmd_result r;
	struct wwd d;
	struct stat st;

	wwd_pin_dir(d.pin_dir, sizeof(d.pin_dir));
	snprintf(old, sizeof(old), "%s/0123456789abcdef", d.pin_dir);
	snprintf(map, sizeof(map), "%s/exec_stats", old);
	mkdir(d.pin_dir, 0700);
	mkdir(old, 0700);
	harness__run((char *[]){ "/usr/sbin/bpftool", "map", "create", map, "type", "array", "key", "4", "value", "8",
				 "entries", "1", "name", "exec_stats", NULL }, 30, &r);
	ASSERT(r.exit_code == 0, "bpftool could not pin a map: %s", r.err);
	harness__free_result(&r);
	ASSERT(wwd_start_opts(&d, NULL), "no daemon");
	CHECK(stat(old, &st) && errno == ENOENT, "%s is still there", old);
	snprintf(cmd, sizeof(cmd), "grep -q 'another workerwatch build' %s/daemon.*.log", d.dir);
	CHECK(system(cmd) == 0, "the daemon did not say it found another build's state (see %s)", d.dir);
	wwd_stop(&d, SIGTERM);
}

/* The daemon of d's files with a config it refuses, pinning into d's pin dir; its exit status. */
static int start_refused(const struct wwd *d)
{
	char db[320], logdir[320], config[320];
	struct cmd_result r;
	int status;
	FILE *f;

	snprintf(db, sizeof(db), "%s/history.db", d->dir);
	snprintf(logdir, sizeof(logdir), "%s/log", d->dir);
	snprintf(config, sizeof(config), "%s/bad.json", d->dir);
	f = fopen(config, "w");
	if (!CHECK(f, "cannot write %s", config))
		return -1;
	fputs("{\"rules\": [{\"id\": \"no-name\", \"metric\": \"cpu_percent\", \"op\": \">\", \"threshold\": 1}]}\n", f);
	fclose(f);
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "daemon", "--listen", "127.0.0.1:0", "--db", db,
				 "--log-dir", logdir, "--token-file", (char *)d->token, "--pin-dir", (char *)d->pin_dir,
				 "--config", config, NULL }, 60, &r);
	status = r.exit_code;
	CHECK(r.err && strstr(r.err, "alertname is required"), "no reason given: %s", r.err ?: "");
	harness__free_result(&r);
	return status;
}

/*
 * A start that fails on a bad config leaves no pinned state behind; one that
 * failed after taking over an earlier daemon's pins keeps them, and what it
 * tracked goes on (a typo must not end tracking).
 */
KERNEL_TEST(a_refused_start_leaves_no_pin_unless_it_took_over)
{
	struct wwd d;
	struct stat st;

	ASSERT(wwd_start(&d), "no daemon");
	wwd_stop(&d, SIGTERM);	/* detached: nothing pinned */
	CHECK(start_refused(&d) == 1, "the refused daemon's exit status");
	CHECK(stat(d.pin_dir, &st) && errno == ENOENT, "a refused start left %s behind", d.pin_dir);

	ASSERT(wwd_start(&d), "no daemon the second time");
	wwd_stop_keep(&d);
	CHECK(!stat(d.pin_dir, &st), "SIGTERM kept nothing pinned");
	CHECK(start_refused(&d) == 1, "the refused daemon's exit status, with pins");
	CHECK(!stat(d.pin_dir, &st), "a refused start removed the pins of the daemon before it");
	ASSERT(wwd_start(&d), "no daemon after the refused start");
	wwd_stop(&d, SIGTERM);
}
