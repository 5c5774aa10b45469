// SPDX-License-Identifier: MIT
/* workerwatch run --orchestrator: CMD's jobs as executions, through the daemon when one runs, else in its own report. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/run.h"
#include "history/snapshot.h"
#include "lib/log.h"
#include "observe/jobs.h"
#include "observe/probes.h"
#include "observe/report.h"
#include "observe/tracker.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define SETTLE_NS		(20 * 1000000ULL)
/* how long a job's root may take to switch out for good after its exit (a loaded CPU delays it) */
#define FINAL_WAIT_NS		(1000 * 1000000ULL)
#define OUTLIVE_WAIT_NS		(10 * 1000000000ULL)	/* how long jobs that outlive CMD are waited for */
#define DAEMON_POLL_MS		500
/* after CMD exited: until the daemon has seen it (and forgets it), its counts are read this often */
#define DAEMON_FINAL_POLL_MS	20
#define DAEMON_FINAL_WAIT_MS	30000	/* only while the daemon has not yet ended it */

static void on_signal(int sig)
{
	run_pending_signal = sig;
}

/* Sends our signals on to CMD. */
static void forward_signals(pid_t pid)
{
	if (run_pending_signal) {
		kill(pid, run_pending_signal);
		run_pending_signal = 0;
	}
}

/* CMD's wait(2) status once it exited, without reaping anything else; -1 while it runs. */
static int exited(int pidfd)
{
	siginfo_t si = {};

	if (waitid(P_PIDFD, pidfd, &si, WEXITED | WNOHANG) || !si.si_pid)
		return -1;
	return run__status_of(&si);
}

static int shell_status(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Releases the held child; its exec error (errno) or 0. */
static int release(int go_fd, int err_fd, pid_t pid)
{
	int e = 0;

	if (write(go_fd, "g", 1) != 1) {
		ww_err("cannot start the command: %s", strerror(errno));
		kill(pid, SIGKILL);
	}
	if (read(err_fd, &e, sizeof(e)) != sizeof(e))
		e = 0;	/* EOF: exec succeeded and closed the pipe */
	return e;
}

/* --- with a daemon --- */

/* Registers the held child with the daemon: its orchestrator id, 0 when no daemon answers, -1 when one refused. */
static long long register_orchestrator(const struct run_opts *o, pid_t pid)
{
	cJSON *body = cJSON_Duplicate(o->names.body, 1), *reply = NULL, *id;
	char *text, *out = NULL, msg[256];
	long long orch = 0;
	int status;

	cJSON_AddNumberToObject(body, "pid", pid);
	text = cJSON_PrintUnformatted(body);
	status = text ? client__request(o->server, o->token_file, "POST", "/api/v1/orchestrators", text, &out)
		      : -ENOMEM;
	if (status == 201) {
		reply = cJSON_Parse(out);
		id = cJSON_GetObjectItemCaseSensitive(reply, "id");
		orch = cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
	} else if (status > 0) {
		ww_err("the daemon at %s did not take the orchestrator: %d %s", o->server, status,
		       client__error_text(out, msg, sizeof(msg)));
		orch = -1;
	}
	cJSON_Delete(reply);
	cJSON_Delete(body);
	free(text);
	free(out);
	return orch;
}

/* The daemon's view of the orchestrator while it runs (its counts), kept until it is gone; the HTTP status. */
static int poll_daemon(const struct run_opts *o, long long id, cJSON **last)
{
	char path[64], *out = NULL;
	cJSON *j;
	int status;

	snprintf(path, sizeof(path), "/api/v1/orchestrators/%lld", id);
	status = client__request(o->server, o->token_file, "GET", path, NULL, &out);
	if (status == 200 && (j = cJSON_Parse(out))) {
		cJSON_Delete(*last);
		*last = j;
	}
	free(out);
	return status;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static bool ended(const cJSON *orch)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(orch, "state");

	return cJSON_IsString(state) && !strcmp(state->valuestring, "ended");
}

static int with_daemon(const struct run_opts *o, long long id, pid_t pid, int pidfd)
{
	cJSON *last = NULL;
	const cJSON *own;
	int status;

	for (;;) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		forward_signals(pid);
		poll_daemon(o, id, &last);
		if (poll(&p, 1, DAEMON_POLL_MS) < 0 && errno != EINTR)
			break;
		if ((status = exited(pidfd)) >= 0)
			break;
	}
	/*
	 * Its last children: the daemon ends the orchestrator once it has seen
	 * it exit and handled the events before, and then answers with its
	 * final state ("ended"); a loaded daemon may lag behind CMD.
	 */
	for (int waited = 0; waited < DAEMON_FINAL_WAIT_MS; waited += DAEMON_FINAL_POLL_MS) {
		if (poll_daemon(o, id, &last) != 200 || ended(last))
			break;
		poll(NULL, 0, DAEMON_FINAL_POLL_MS);
	}
	own = cJSON_GetObjectItemCaseSensitive(last, "own");
	fprintf(stderr, "\nworkerwatch: %s %s %d; as orchestrator %lld of the daemon at %s it started %.0f executions "
		"(%.0f shorter than the minimum, %.0f ignored): `workerwatch list`, `workerwatch top`\n",
		o->argv[0], WIFEXITED(status) ? "exited with code" : "was killed by signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), id, o->server, num(last, "executions_started"),
		num(own, "absorbed"), num(own, "ignored"));
	cJSON_Delete(last);
	return shell_status(status);
}

/* --- without a daemon: its own report of every job --- */

struct standalone {
	struct tracker *tracker;
	struct execution **done;
	int ndone, cap;
	struct orch_totals own;
	__u64 started;
	bool force;			/* at the end: jobs still running are reported as they are */
};

static void on_event(void *ctx, struct execution *e, const struct ww_event_hdr *h, const void *data)
{
	(void)ctx;
	if (h->type == WW_EV_EXIT && h->pid == (__u32)e->pid && !e->root_exited) {
		e->root_exited = true;
		e->root_exit_ns = h->ts_ns;
		e->exit_status = ((const struct ww_exit_event *)data)->exit_status;
	}
}

static void on_started(void *ctx, struct execution *e)
{
	(void)e;
	((struct standalone *)ctx)->started++;
}

static void on_orch(void *ctx, const struct orch *o)
{
	((struct standalone *)ctx)->own = o->own;
}

static void on_orch_ended(void *ctx, const struct orch *o, bool exited)
{
	(void)exited;
	((struct standalone *)ctx)->own = o->own;
}

/* Whether the root process of e has its final figures (its last thread switched out for good). */
static bool root_final(struct execution *e)
{
	const struct process *root = execution__find_proc(e, (__u32)e->pid);

	return !root || root->done;
}

/* A job whose root exited and settled, or any still running at the end (force): its totals, out of the tracker. */
static int finish_one(struct execution *e, void *ctx)
{
	struct standalone *s = ctx;
	bool force = s->force;
	struct execution **n;
	__u64 now = tracker__now_mono();

	if (!force && (!e->root_exited || now - e->root_exit_ns < SETTLE_NS))
		return 0;
	/* its root's final figures come at its last context switch, which waits for a CPU */
	if (!force && !root_final(e) && now - e->root_exit_ns < FINAL_WAIT_NS)
		return 0;
	tracker__collect(s->tracker, e);
	if (e->root_exited) {
		e->ended = true;
		e->end_ns = e->root_exit_ns;
	} else {
		e->end_ns = now;	/* it outlived the orchestrator: reported as running */
	}
	e->end_realtime_ns = tracker__realtime(e->end_ns);
	tracker__finish(s->tracker, e);
	if (s->ndone == s->cap) {
		int cap = s->ndone ? s->ndone * 2 : 16;

		n = realloc(s->done, cap * sizeof(*n));
		if (!n) {
			execution__free(e);
			return 0;
		}
		s->done = n;
		s->cap = cap;
	}
	s->done[s->ndone++] = e;
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct execution *x = *(const struct execution *const *)a, *y = *(const struct execution *const *)b;

	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

static void print_report(FILE *out, const struct run_opts *o, const struct standalone *s, int status)
{
	__u64 page = (__u64)sysconf(_SC_PAGESIZE);

	fprintf(out, "\nworkerwatch report: orchestrator");
	for (char **a = o->argv; *a; a++)
		fprintf(out, " %s", *a);
	fprintf(out, "\n\t%s %d; %d jobs, %llu shorter than the minimum (in its own totals), %llu ignored\n",
		WIFEXITED(status) ? "exited with code" : "killed by signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), s->ndone,
		(unsigned long long)s->own.absorbed, (unsigned long long)s->own.ignored);
	if (s->own.absorbed)
		fprintf(out, "\tits own totals: %.3f s on CPU, %llu syscalls, peak RSS %llu KiB\n",
			s->own.on_cpu_ns / 1e9, (unsigned long long)s->own.syscalls,
			(unsigned long long)(s->own.peak_rss_bytes / 1024));
	fprintf(out, "\n  %-3s %-16s %-20s %-16s %-24s %-5s %9s %9s %10s %7s  %s\n", "#", "SESSION", "AGENT", "TASK",
		"STATUS", "EXIT", "WALL s", "CPU s", "PEAK KiB", "PID", "COMMAND");
	for (int i = 0; i < s->ndone; i++) {
		const struct execution *e = s->done[i];
		struct exec_record r;
		char exit_text[16] = "-", cmd[256] = "";
		size_t n = 0;

		snapshot__record(e, &r);
		if (r.has_exit_code)
			snprintf(exit_text, sizeof(exit_text), "%d", r.exit_code);
		else if (r.has_signal)
			snprintf(exit_text, sizeof(exit_text), "SIG%s", sigabbrev_np(r.signal) ?: "?");
		for (char **a = e->argv; a && *a && n < sizeof(cmd); a++)
			n += snprintf(cmd + n, sizeof(cmd) - n, "%s%s", n ? " " : "", *a);
		fprintf(out, "  %-3d %-16.16s %-20.20s %-16.16s %-24s %-5s %9.3f %9.3f %10llu %7d  %.60s\n", i + 1,
			e->session, e->agent, e->task, r.status, exit_text, (e->end_ns - e->start_ns) / 1e9,
			e->totals.on_cpu_ns / 1e9, (unsigned long long)(e->mem.peak_pages * page / 1024), e->pid, cmd);
	}
}

static int write_json(const char *path, const struct run_opts *o, const struct standalone *s, int status)
{
	cJSON *root = cJSON_CreateObject(), *orch, *cmd, *jobs, *own;
	char *text;
	FILE *f;
	int err = 0;

	cJSON_AddNumberToObject(root, "schema", REPORT_SCHEMA);
	orch = cJSON_AddObjectToObject(root, "orchestrator");
	cmd = cJSON_AddArrayToObject(orch, "command");
	for (char **a = o->argv; *a; a++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	if (WIFEXITED(status))
		cJSON_AddNumberToObject(orch, "exit_code", WEXITSTATUS(status));
	else
		cJSON_AddNumberToObject(orch, "signal", WTERMSIG(status));
	own = cJSON_AddObjectToObject(orch, "own");
	cJSON_AddNumberToObject(own, "absorbed", (double)s->own.absorbed);
	cJSON_AddNumberToObject(own, "ignored", (double)s->own.ignored);
	cJSON_AddNumberToObject(own, "on_cpu_ns", (double)s->own.on_cpu_ns);
	cJSON_AddNumberToObject(own, "syscalls", (double)s->own.syscalls);
	cJSON_AddNumberToObject(own, "peak_rss_bytes", (double)s->own.peak_rss_bytes);
	jobs = cJSON_AddArrayToObject(root, "jobs");
	for (int i = 0; i < s->ndone; i++)
		cJSON_AddItemToArray(jobs, report__json(s->done[i]));
	text = cJSON_Print(root);
	f = text ? fopen(path, "w") : NULL;
	if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0)
		err = -errno ?: -EIO;
	if (f && fclose(f) && !err)
		err = -errno;
	free(text);
	cJSON_Delete(root);
	return err;
}

static int standalone(const struct run_opts *o, pid_t pid, int pidfd, int go_fd, int err_fd)
{
	struct standalone s = {};
	struct jobs_hooks hooks = { .ctx = &s, .started = on_started, .event = on_event, .orch_saved = on_orch,
				    .orch_ended = on_orch_ended };
	struct jobs_opts jopts = { .slow_threshold_ns = o->slow_syscall_ns };
	struct probes_opts popts = { .slow_syscall_ns = o->slow_syscall_ns };
	struct orch_reg reg = { .pid = pid };
	struct job_spec spec = {};
	struct probes *probes = NULL;
	struct tracker *tr = NULL;
	struct jobs *jobs = NULL;
	__u64 gone_at = 0;
	char err[256];
	int ret = EXIT_RUN_FAILURE, status = -1, orch_fd = -1, exec_err;

	if (job_spec__from_json(&spec, o->names.body, true, NULL, err, sizeof(err))) {
		ww_err("%s", err);
		ret = 2;
		goto cleanup;
	}
	probes = probes__load(&popts);
	if (!probes || probes__attach(probes))
		goto cleanup;
	tr = tracker__new(probes);
	jobs = tr ? jobs__new(tr, probes, &jopts, &hooks) : NULL;
	orch_fd = dup(pidfd);
	if (!jobs || orch_fd < 0 || jobs__add_orch(jobs, &reg, &spec, orch_fd, true, NULL)) {
		ww_err("cannot watch the command as an orchestrator");
		goto cleanup;
	}
	orch_fd = -1;	/* the engine has it */
	s.tracker = tr;
	exec_err = release(go_fd, err_fd, pid);
	if (exec_err) {
		ww_err("cannot execute %s: %s", o->argv[0], strerror(exec_err));
		ret = exec_err == ENOENT ? 127 : 126;
	}
	for (;;) {
		struct pollfd fds[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = tracker__fd(tr), .events = POLLIN } };
		int wait_ms;

		forward_signals(pid);
		tracker__poll(tr, 0);
		wait_ms = jobs__tick(jobs, 100);
		tracker__foreach(tr, finish_one, &s);
		if (status < 0 && (status = exited(pidfd)) >= 0)
			gone_at = tracker__now_mono();
		if (status >= 0 && (!tracker__count(tr) || tracker__now_mono() - gone_at > OUTLIVE_WAIT_NS))
			break;
		if (poll(fds, status < 0 ? 2 : 1, wait_ms) < 0 && errno != EINTR)
			break;
	}
	/* jobs that outlived it: reported as they are now */
	jobs__stop(jobs);
	s.force = true;
	tracker__foreach(tr, finish_one, &s);
	probes__detach(probes);
	qsort(s.done, s.ndone, sizeof(*s.done), by_start);
	if (status < 0)
		status = 0;
	print_report(stderr, o, &s, status);
	if (!exec_err)
		ret = shell_status(status);
	if (o->json_path && write_json(o->json_path, o, &s, status)) {
		ww_err("cannot write --json %s", o->json_path);
		ret = EXIT_RUN_FAILURE;
	}
cleanup:
	if (orch_fd >= 0)
		close(orch_fd);
	for (int i = 0; i < s.ndone; i++)
		execution__free(s.done[i]);
	free(s.done);
	jobs__free(jobs);
	tracker__free(tr);
	probes__free(probes);
	job_spec__release(&spec);
	return ret;
}

int run__orchestrator(struct run_opts *o)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int go_fd = -1, err_fd = -1, pidfd = -1, ret = EXIT_RUN_FAILURE, exec_err;
	long long id = 0;
	pid_t pid;

	if (geteuid() != 0) {
		ww_err("run needs root to load BPF programs");
		return EXIT_RUN_FAILURE;
	}
	if (o->json_path) {
		int fd = open(o->json_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0) {
			ww_err("cannot write --json %s: %s", o->json_path, strerror(errno));
			return EXIT_RUN_FAILURE;
		}
		close(fd);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	pid = run__spawn_held(o->argv, &go_fd, &err_fd);
	if (pid < 0) {
		ww_err("cannot fork: %s", strerror(errno));
		return EXIT_RUN_FAILURE;
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		ww_err("cannot open pidfd of %d: %s", pid, strerror(errno));
		goto cleanup;
	}
	if (!o->no_daemon)
		id = register_orchestrator(o, pid);
	if (id > 0) {
		if (o->json_path)
			ww_warn("--json: the daemon at %s keeps the jobs; the report is its history", o->server);
		exec_err = release(go_fd, err_fd, pid);
		close(go_fd);
		go_fd = -1;
		if (exec_err) {
			ww_err("cannot execute %s: %s", o->argv[0], strerror(exec_err));
			waitpid(pid, NULL, 0);
			ret = exec_err == ENOENT ? 127 : 126;
			goto cleanup;
		}
		ret = with_daemon(o, id, pid, pidfd);
		goto cleanup;
	}
	if (id < 0)
		ww_warn("reporting the jobs here instead");
	ret = standalone(o, pid, pidfd, go_fd, err_fd);
	close(go_fd);
	go_fd = -1;
cleanup:
	if (go_fd >= 0) {
		close(go_fd);	/* the held child sees EOF and exits without running CMD */
		waitpid(pid, NULL, 0);
	}
	if (err_fd >= 0)
		close(err_fd);
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}
