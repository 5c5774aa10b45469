// SPDX-License-Identifier: MIT
/* Storms on the real daemon: thousands of exec'ing children, lost events, zombies. */
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

/* Executions of a session in the daemon's history, by status. */
struct tally {
	int total, running, completed, failed, other, exit_nonzero;
};

static int count_row(const struct exec_record *r, void *ctx)
{
	struct tally *t = ctx;

	t->total++;
	if (!strcmp(r->status, "running"))
		t->running++;
	else if (!strcmp(r->status, "completed"))
		t->completed++;
	else if (!strcmp(r->status, "failed"))
		t->failed++;
	else
		t->other++;
	if (r->has_exit_code && r->exit_code)
		t->exit_nonzero++;
	return 0;
}

static struct tally tally_session(const struct wwd *d, const char *session)
{
	struct exec_filter f = { .limit = -1 };
	struct tally t = {};
	char db[320];
	struct store *s;

	snprintf(f.session, sizeof(f.session), "%s", session);
	snprintf(db, sizeof(db), "%s/history.db", d->dir);
	s = store__open_existing(db, true);
	if (!CHECK(s, "cannot open %s: %s", db, store__errmsg(NULL)))
		return t;
	CHECK(!store__foreach_execution(s, &f, count_row, &t), "cannot read history: %s", store__errmsg(s));
	store__close(s);
	return t;
}

/* Waits until history has want executions of session, none running; returns the last tally. */
static struct tally wait_settled(const struct wwd *d, const char *session, int want, int timeout_s)
{
	struct tally t = {};

	for (int i = 0; i < timeout_s * 10; i++) {
		t = tally_session(d, session);
		if (t.total >= want && !t.running)
			break;
		wwd_sleep_ms(100);
	}
	return t;
}

/* Running and answering; /health may say 503 (degraded) right after lost events. */
static bool daemon_alive(const struct wwd *d)
{
	char url[128];
	int status;

	snprintf(url, sizeof(url), "%s/health", d->url);
	status = wwd_http("GET", url, NULL, NULL, NULL);
	return waitpid(d->pid, NULL, WNOHANG) == 0 && (status == 200 || status == 503);
}

static double lost_lifecycle(const struct wwd *d)
{
	char url[128], *text = NULL, *at;
	double v = -1;

	snprintf(url, sizeof(url), "%s/metrics", d->url);
	wwd_http("GET", url, NULL, NULL, &text);
	at = text ? strstr(text, "workerwatch_lost_events_total{reason=\"lifecycle_ring_full\"} ") : NULL;
	if (at)
		v = atof(strchr(at, '}') + 2);
	free(text);
	return v;
}

/* An orchestrator that runs n /bin/echo one after the other, attached before it starts. */
static int start_exec_storm(struct wwd *d, const char *session, int n)
{
	char fifo[300], script[600], body[200], url[128];
	int orch, status;

	snprintf(fifo, sizeof(fifo), "%s/go-%s", d->dir, session);
	mkfifo(fifo, 0600);
	snprintf(script, sizeof(script),
		 "read go < %s; i=0; while [ $i -lt %d ]; do /bin/echo x > /dev/null; i=$((i+1)); done", fifo, n);
	orch = harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"%s\"}", orch, session);
	snprintf(url, sizeof(url), "%s/api/v1/orchestrators", d->url);
	status = wwd_http("POST", url, body, d->token, NULL);
	CHECK(status == 201, "orchestrator answered %d", status);
	wwd_release(fifo);
	return orch;
}

static void exec_storm(int n, int timeout_s)
{
	struct tally t;
	struct wwd d;
	int orch, status;

	ASSERT(wwd_start(&d), "no daemon");
	orch = start_exec_storm(&d, "storm", n);
	status = harness__wait(orch, timeout_s);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orchestrator status %d", status);
	t = wait_settled(&d, "storm", n, 60);
	CHECK(daemon_alive(&d), "the daemon died in the storm");
	CHECK_EQ(lost_lifecycle(&d), 0);
	/* every child is an execution of /bin/echo that completed with 0: none lost, none stuck */
	CHECK_EQ(t.total, n);
	CHECK_EQ(t.completed, n);
	CHECK_EQ(t.running, 0);
	CHECK_EQ(t.failed, 0);
	wwd_stop(&d, SIGTERM);
}

KERNEL_TEST(daemon_records_every_child_of_a_4000_exec_storm)
{
	exec_storm(4000, 120);
}

KERNEL_TEST(daemon_records_every_child_of_a_20000_exec_storm)
{
	exec_storm(20000, 300);
}

/* A zombie: /bin/true, whose parent became a sleep that never reaps it. */
static int spawn_zombie(const char *pid_file, int *parent)
{
	char script[400];

	snprintf(script, sizeof(script), "/bin/true & echo $! > %s; exec sleep 30", pid_file);
	*parent = harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
	for (int i = 0; i < 100; i++) {
		long pid = harness__read_long(pid_file);
		char stat[64], *text;
		bool zombie;

		if (pid > 0) {
			snprintf(stat, sizeof(stat), "/proc/%ld/stat", pid);
			text = wwd_read_file(stat);
			zombie = text && strstr(text, ") Z ");
			free(text);
			if (zombie)
				return (int)pid;
		}
		wwd_sleep_ms(20);
	}
	return -1;
}

KERNEL_TEST(daemon_refuses_zombies_and_dead_pids)
{
	char url[128], body[200], *text = NULL;
	int zombie, parent, status;
	struct wwd d;
	pid_t dead;

	ASSERT(wwd_start(&d), "no daemon");
	zombie = spawn_zombie(harness__tmp("zombie.pid"), &parent);
	ASSERT(zombie > 0, "no zombie");
	snprintf(url, sizeof(url), "%s/api/v1/executions", d.url);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"z\", \"agent\": \"z\"}", zombie);
	status = wwd_http("POST", url, body, d.token, &text);
	CHECK(status == 409, "attaching a zombie answered %d: %s", status, text ?: "");
	CHECK(text && strstr(text, "exited"), "no reason: %s", text ?: "");
	free(text);
	snprintf(url, sizeof(url), "%s/api/v1/orchestrators", d.url);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"z\"}", zombie);
	status = wwd_http("POST", url, body, d.token, NULL);
	CHECK(status == 409, "watching a zombie answered %d", status);

	/* a pid that was just reaped */
	dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	snprintf(url, sizeof(url), "%s/api/v1/executions", d.url);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"z\", \"agent\": \"z\"}", dead);
	status = wwd_http("POST", url, body, d.token, &text);
	CHECK(status == 404, "attaching a dead pid answered %d: %s", status, text ?: "");
	free(text);
	CHECK_EQ(tally_session(&d, "z").total, 0);
	kill(parent, SIGKILL);
	harness__wait(parent, 10);
	wwd_stop(&d, SIGTERM);
}

/*
 * While the daemon is stopped, a worker forks so many children that the
 * lifecycle ring overflows and its own exit event is dropped. The daemon
 * must still end it, from the zombie's status, within a couple of seconds.
 */
KERNEL_TEST(daemon_ends_an_execution_whose_exit_event_was_lost)
{
	char fifo[300], body[200], url[160], *text = NULL;
	cJSON *j = NULL;
	struct wwd d;
	int worker, status;
	double id;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(fifo, sizeof(fifo), "%s/go", d.dir);
	worker = wwd_spawn_held(fifo, "/bin/sh -c 'i=0; while [ $i -lt 14000 ]; do /bin/true; i=$((i+1)); done'");
	wwd_sleep_ms(100);
	snprintf(url, sizeof(url), "%s/api/v1/executions", d.url);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"flood\", \"agent\": \"w\"}", worker);
	status = wwd_http("POST", url, body, d.token, &text);
	j = text ? cJSON_Parse(text) : NULL;
	ASSERT(status == 201, "attach answered %d: %s", status, text ?: "");
	id = harness__num(j, "id");
	cJSON_Delete(j);
	free(text);

	kill(d.pid, SIGSTOP);
	wwd_release(fifo);
	/* not reaped: the worker stays a zombie whose status the kernel still holds */
	for (int i = 0; i < 1200; i++) {
		siginfo_t si = {};

		if (!waitid(P_PID, worker, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == worker)
			break;
		wwd_sleep_ms(100);
	}
	kill(d.pid, SIGCONT);
	CHECK(lost_lifecycle(&d) > 0, "the ring did not overflow: the test proves nothing");

	j = NULL;
	for (int i = 0; i < 50; i++) {	/* 5 s: a check every second, two in a row */
		cJSON_Delete(j);
		j = NULL;
		snprintf(url, sizeof(url), "%s/api/v1/executions/%.0f", d.url, id);
		wwd_http("GET", url, NULL, d.token, &text);
		j = text ? cJSON_Parse(text) : NULL;
		free(text);
		if (strcmp(harness__str(j, "status") ?: "running", "running"))
			break;
		wwd_sleep_ms(100);
	}
	CHECK_STR(harness__str(j, "status"), "completed");
	CHECK_EQ(harness__num(j, "exit_code"), 0);
	cJSON_Delete(j);
	harness__wait(worker, 10);
	CHECK(daemon_alive(&d), "the daemon died");
	wwd_stop(&d, SIGTERM);
}
