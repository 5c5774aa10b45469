// SPDX-License-Identifier: MIT
/* workerwatch run: starts a command tracked from its first instruction and reports on it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
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
#include "lib/name_template.h"
#include "lib/log.h"
#include "lib/num.h"
#include "observe/probes.h"
#include "observe/report.h"
#include "observe/tracker.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define KILL_GRACE_NS	(5 * 1000000000ULL)

volatile sig_atomic_t run_pending_signal;

static void on_signal(int sig)
{
	run_pending_signal = sig;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: workerwatch run [OPTIONS] -- CMD [ARGS...]\n"
		"       workerwatch run --orchestrator [--jobs children|exec:REGEX] [OPTIONS] -- CMD [ARGS...]\n"
		"Runs CMD tracked with all its descendants and reports CPU, memory, syscalls and network.\n"
		"With --orchestrator, each of CMD's jobs is an execution of its own: with a daemon\n"
		"running they are registered there, else this report lists every one.\n\n"
		"  --session S         orchestration session name (default: \"default\")\n"
		"  --agent A           agent name (default: the command's base name)\n"
		"  --task T            task name (default: empty)\n"
		"                      (templates: {{env.NAME}}, {{argv.N}}, {{comm}}, {{program}},\n"
		"                      alternatives {{env.AGENT_NAME|comm}})\n"
		"  --orchestrator      CMD is an orchestrator; these shape its jobs:\n"
		"  --label K=V         a label of each job (V may be a template); repeatable\n"
		"  --jobs children|exec:REGEX\n"
		"                      each child (default), or each descendant that executes a\n"
		"                      program whose path matches REGEX\n"
		"  --ignore REGEX      programs that are never jobs; repeatable\n"
		"  --min-duration D    shorter children count in the orchestrator's own totals\n"
		"  --stopped-is-failure  a job the orchestrator ends is failed, not stopped_by_orchestrator\n"
		"  --json FILE         also write the JSON report (schema 1) to FILE\n"
		"  --slow-syscall MS   report each syscall slower than MS milliseconds (default 1000)\n"
		"  --timeout SECONDS   send SIGTERM after SECONDS, SIGKILL 5 s later\n"
		"  --server URL        daemon to register with, when it runs (default $" CLIENT_ENV_SERVER ",\n"
		"                      else " CLIENT_DEFAULT_SERVER ")\n"
		"  --token-file PATH   its API token (default $" CLIENT_ENV_TOKEN ", else " CLIENT_DEFAULT_TOKEN ")\n"
		"  --no-daemon         do not register with a daemon\n"
		"  -v, --verbose       more diagnostics (twice: libbpf debug output)\n"
		"  -h, --help          this help\n\n"
		"Examples:\n"
		"  workerwatch run -- make -j4\n"
		"  workerwatch run --session nightly-17 --agent builder --task compile --json report.json -- make\n"
		"  workerwatch run --no-daemon --timeout 600 --slow-syscall 50 -- ./agent.py --step 3\n\n"
		"Exit status: CMD's own; 128+N if it died of signal N; 127 if not found; 126 if not\n"
		"executable; 125 if workerwatch itself failed.\n");
}

static int parse_ms(const char *s, __u64 max_ms, __u64 *ns)
{
	__u64 v;

	if (num__parse_u64(s, 1, max_ms, &v))
		return -EINVAL;
	*ns = v * 1000000ULL;
	return 0;
}

static int check_name(const char *what, const char *s)
{
	if (strlen(s) >= EXEC_NAME_LEN) {
		ww_err("--%s is longer than %d characters", what, EXEC_NAME_LEN - 1);
		return -EINVAL;
	}
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			ww_err("--%s contains a control character", what);
			return -EINVAL;
		}
	}
	return 0;
}

/* Names that are templates are rendered for CMD as it will start: this environment, its argv. */
static void render_names(struct run_opts *o)
{
	static char rendered[3][EXEC_NAME_LEN];
	const char **names[3] = { &o->session, &o->agent, &o->task };
	const char *slash = strrchr(o->argv[0], '/');
	char comm[WW_COMM_LEN];
	struct name_source src = { .argv = (const char *const *)o->argv, .env = (const char *const *)environ,
				   .comm = comm, .cgroup = "", .exe = o->argv[0] };

	snprintf(comm, sizeof(comm), "%s", slash ? slash + 1 : o->argv[0]);
	while (o->argv[src.argc])
		src.argc++;
	while (environ && environ[src.envc])
		src.envc++;
	for (int i = 0; i < 3; i++) {
		if (!name_template__has_placeholders(*names[i]))
			continue;
		name_template__render(*names[i], &src, rendered[i], sizeof(rendered[i]));
		*names[i] = rendered[i];
	}
}

/* Returns 0, or an exit status for a usage error (2) or --help (-1 to exit 0). */
static int parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		JOBOPTS_LONGOPTS,
		{ "orchestrator", no_argument, NULL, 'O' },
		{ "json", required_argument, NULL, 'j' },
		{ "slow-syscall", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "server", required_argument, NULL, 'R' },
		{ "token-file", required_argument, NULL, 'K' },
		{ "no-daemon", no_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	__u64 secs_ns;
	int c;

	o->session = "default";
	o->task = "";
	o->server = client__server();
	o->token_file = client__token_file();
	jobopts__init(&o->names);
	o->slow_syscall_ns = 1000000000ULL;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'O': o->orchestrator = true; break;
		case 'j': o->json_path = optarg; break;
		case 'S':
			if (parse_ms(optarg, 3600000, &o->slow_syscall_ns)) {
				ww_err("--slow-syscall wants milliseconds from 1 to 3600000, not '%s'", optarg);
				return 2;
			}
			break;
		case 'T':
			if (parse_ms(optarg, 86400 * 365, &secs_ns)) {
				ww_err("--timeout wants whole seconds from 1 to 31536000, not '%s'", optarg);
				return 2;
			}
			o->timeout_ns = secs_ns * 1000;
			break;
		case 'R': o->server = optarg; break;
		case 'K': o->token_file = optarg; break;
		case 'N': o->no_daemon = true; break;
		case 'v': log_verbosity++; break;
		case 'h': usage(stdout); return -1;
		case ':':
			ww_err("option %s needs a value", argv[optind - 1]);
			return 2;
		case '?':
			ww_err("unknown option '%s' (see workerwatch run --help)", argv[optind - 1]);
			return 2;
		default:
			if (c == JOBOPT_SESSION)
				o->session = optarg;
			else if (c == JOBOPT_AGENT)
				o->agent = optarg;
			else if (c == JOBOPT_TASK)
				o->task = optarg;
			if (jobopts__take(&o->names, c, optarg))
				return 2;
		}
	}
	/* no option is accepted and then ignored */
	if (!o->orchestrator && (o->names.boundary || cJSON_GetObjectItemCaseSensitive(o->names.body, "labels"))) {
		ww_err("--label, --jobs, --ignore, --min-duration and --stopped-is-failure are for --orchestrator");
		return 2;
	}
	if (o->orchestrator && o->timeout_ns) {
		ww_err("--timeout is for a single command, not --orchestrator");
		return 2;
	}
	if (optind >= argc || strcmp(argv[optind - 1], "--")) {
		ww_err(optind >= argc ? "no command given: workerwatch run [OPTIONS] -- CMD [ARGS...]"
				      : "missing '--' before the command: workerwatch run [OPTIONS] -- CMD [ARGS...]");
		return 2;
	}
	o->argv = &argv[optind];
	if (o->orchestrator)
		return 0;	/* names are the jobs' own, rendered for each of them */
	if (!o->agent) {
		const char *slash = strrchr(o->argv[0], '/');

		o->agent = slash ? slash + 1 : o->argv[0];
	}
	render_names(o);
	if (check_name("session", o->session) || check_name("agent", o->agent) ||
	    check_name("task", o->task))
		return 2;
	return 0;
}

static char **copy_argv(char **argv)
{
	int n = 0;
	char **copy;

	while (argv[n])
		n++;
	copy = calloc(n + 1, sizeof(*copy));
	for (int i = 0; copy && i < n; i++) {
		copy[i] = strdup(argv[i]);
		if (!copy[i]) {
			for (int j = 0; j < i; j++)
				free(copy[j]);
			free(copy);
			return NULL;
		}
	}
	return copy;
}

pid_t run__spawn_held(char **argv, int *go_fd, int *err_fd)
{
	int go[2], errp[2];
	pid_t pid;
	char c;

	if (pipe2(go, O_CLOEXEC))
		return -1;
	if (pipe2(errp, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int e;

		close(go[1]);
		close(errp[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(EXIT_RUN_FAILURE);	/* workerwatch went away */
		execvp(argv[0], argv);
		e = errno;
		if (write(errp[1], &e, sizeof(e)) < 0)
			_exit(EXIT_RUN_FAILURE);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(go[0]);
	close(errp[1]);
	if (pid < 0) {
		close(go[1]);
		close(errp[0]);
		return -1;
	}
	*go_fd = go[1];
	*err_fd = errp[0];
	return pid;
}

/*
 * Asks a running daemon to track the held child too, so the run shows in its
 * history; returns the daemon's execution id, or 0 when none answers.
 */
static unsigned long long register_with_daemon(const struct run_opts *o, const struct execution *e)
{
	cJSON *body = cJSON_CreateObject(), *reply = NULL, *id;
	unsigned long long exec_id = 0;
	char *text, *out = NULL, msg[256];
	int status;

	cJSON_AddNumberToObject(body, "pid", e->pid);
	cJSON_AddStringToObject(body, "session", e->session);
	cJSON_AddStringToObject(body, "agent", e->agent);
	cJSON_AddStringToObject(body, "task", e->task);
	text = cJSON_PrintUnformatted(body);
	status = text ? client__request(o->server, o->token_file, "POST", "/api/v1/executions", text, &out) : -ENOMEM;
	if (status == 201) {
		reply = cJSON_Parse(out);
		id = cJSON_GetObjectItemCaseSensitive(reply, "id");
		if (cJSON_IsNumber(id))
			exec_id = (unsigned long long)id->valuedouble;
	} else if (status > 0) {
		ww_warn("the daemon at %s did not take this run: %d %s", o->server, status,
			client__error_text(out, msg, sizeof(msg)));
	}
	cJSON_Delete(reply);
	cJSON_Delete(body);
	free(text);
	free(out);
	return exec_id;
}

int run__status_of(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	default:
		return si->si_status & 0x7f;
	}
}

/* Waits for the root to exit while consuming events; forwards our signals; enforces --timeout. */
static int wait_root(struct tracker *tr, struct execution *e, int pidfd, const struct run_opts *o)
{
	struct pollfd fds[2] = {
		{ .fd = pidfd, .events = POLLIN },
		{ .fd = tracker__fd(tr), .events = POLLIN },
	};
	__u64 term_at = 0;
	siginfo_t si;

	for (;;) {
		if (run_pending_signal) {
			kill(e->pid, run_pending_signal);
			run_pending_signal = 0;
		}
		if (o->timeout_ns) {
			__u64 now = tracker__now_mono();

			if (!term_at && now - e->start_ns >= o->timeout_ns) {
				e->timed_out = true;
				term_at = now;
				kill(e->pid, SIGTERM);
			} else if (term_at && now - term_at >= KILL_GRACE_NS) {
				kill(e->pid, SIGKILL);
			}
		}
		if (poll(fds, 2, 100) < 0 && errno != EINTR)
			return -errno;
		if (fds[1].revents)
			tracker__poll(tr, 0);
		if (!fds[0].revents)
			continue;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PIDFD, pidfd, &si, WEXITED) == 0)
			break;
		if (errno != EINTR)
			return -errno;
	}
	e->end_ns = tracker__now_mono();
	e->end_realtime_ns = tracker__realtime(e->end_ns);
	e->exit_status = run__status_of(&si);
	e->ended = true;
	return 0;
}

/* The root's exit event precedes its reaping; its final context switch follows within microseconds. */
static void drain_after_exit(struct tracker *tr)
{
	const struct timespec settle = { .tv_nsec = 10 * 1000000 };

	tracker__poll(tr, 0);
	nanosleep(&settle, NULL);
	tracker__poll(tr, 0);
}

int cmd_run(int argc, char **argv)
{
	struct probes_opts popts = {};
	struct run_opts o = {};
	struct probes *probes = NULL;
	struct tracker *tr = NULL;
	struct execution *e = NULL;
	int go_fd = -1, err_fd = -1, pidfd = -1;
	int ret = EXIT_RUN_FAILURE, err, n;
	unsigned long long daemon_id = 0;
	struct sigaction sa = { .sa_handler = on_signal };

	err = parse_args(argc, argv, &o);
	if (!err && o.orchestrator) {
		ret = run__orchestrator(&o);
		jobopts__free(&o.names);
		return ret;
	}
	jobopts__free(&o.names);
	if (err)
		return err < 0 ? 0 : err;
	if (geteuid() != 0) {
		ww_err("run needs root to load BPF programs");
		return EXIT_RUN_FAILURE;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		ww_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): %s", strerror(errno));
		return EXIT_RUN_FAILURE;
	}
	if (o.json_path) {
		int fd = open(o.json_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0) {
			ww_err("cannot write --json %s: %s", o.json_path, strerror(errno));
			return EXIT_RUN_FAILURE;
		}
		close(fd);
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);

	e = calloc(1, sizeof(*e));
	if (!e || !(e->argv = copy_argv(o.argv))) {
		ww_err("out of memory");
		goto cleanup;
	}
	snprintf(e->session, sizeof(e->session), "%s", o.session);
	snprintf(e->agent, sizeof(e->agent), "%s", o.agent);
	snprintf(e->task, sizeof(e->task), "%s", o.task);
	e->slow_threshold_ns = o.slow_syscall_ns;

	/*
	 * Fork before loading anything: the kernel's maxrss of a process keeps
	 * its pre-exec image, which should be a small fork, not a loaded observer.
	 */
	e->pid = run__spawn_held(e->argv, &go_fd, &err_fd);
	if (e->pid < 0) {
		ww_err("cannot fork: %s", strerror(errno));
		goto cleanup;
	}
	pidfd = syscall(SYS_pidfd_open, e->pid, 0);
	if (pidfd < 0) {
		ww_err("cannot open pidfd of %d: %s", e->pid, strerror(errno));
		goto cleanup;
	}
	popts.slow_syscall_ns = o.slow_syscall_ns;
	probes = probes__load(&popts);
	if (!probes || probes__attach(probes))
		goto cleanup;
	tr = tracker__new(probes);
	if (!tr || tracker__start(tr, e, pidfd, true))
		goto cleanup;
	if (!o.no_daemon)
		daemon_id = register_with_daemon(&o, e);
	e->start_ns = tracker__now_mono();
	e->start_realtime_ns = tracker__realtime(e->start_ns);
	if (write(go_fd, "g", 1) != 1) {
		ww_err("cannot start the command: %s", strerror(errno));
		kill(e->pid, SIGKILL);
	}
	close(go_fd);
	go_fd = -1;
	n = read(err_fd, &e->exec_errno, sizeof(e->exec_errno));
	if (n != sizeof(e->exec_errno))
		e->exec_errno = 0;	/* EOF: exec succeeded and closed the pipe */

	err = wait_root(tr, e, pidfd, &o);
	if (err) {
		ww_err("cannot wait for pid %d: %s", e->pid, strerror(-err));
		goto cleanup;
	}
	drain_after_exit(tr);
	err = tracker__collect(tr, e);
	if (err)
		ww_err("cannot read the kernel's totals: %s", strerror(-err));
	tracker__finish(tr, e);
	probes__detach(probes);

	if (e->exec_errno)
		ww_err("cannot execute %s: %s", e->argv[0], strerror(e->exec_errno));
	report__print_text(stderr, e);
	if (daemon_id)
		fprintf(stderr, "\nRegistered with the daemon at %s as execution %llu.\n", o.server, daemon_id);
	ret = execution__shell_status(e);
	if (o.json_path) {
		err = report__write_json(e, o.json_path);
		if (err) {
			ww_err("cannot write --json %s: %s", o.json_path, strerror(-err));
			ret = EXIT_RUN_FAILURE;
		}
	}
cleanup:
	if (go_fd >= 0) {
		close(go_fd);	/* the held child sees EOF and exits without running CMD */
		waitpid(e->pid, NULL, 0);
	}
	if (err_fd >= 0)
		close(err_fd);
	if (pidfd >= 0)
		close(pidfd);
	tracker__free(tr);
	probes__free(probes);
	execution__free(e);
	return ret;
}
