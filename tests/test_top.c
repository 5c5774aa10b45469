// SPDX-License-Identifier: MIT
/* workerwatch top end to end: a real daemon and busy worker, the text snapshot, and the ncurses view in tmux. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "wwd.h"

#define TMUX_BIN	"/usr/bin/tmux"
#define VALGRIND	"/usr/bin/valgrind"
#define TMUX_SESSION	"top"
/* CPU% points for what a loaded machine adds: the daemon read late, accounting charged late */
#define CPU_SLACK	15

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Attaches pid with curl, as an orchestrator would; the HTTP status. */
static int api_attach(struct wwd *d, int pid, const char *session, const char *agent, const char *task)
{
	char body[300], auth[400], url[128];
	struct cmd_result r;
	int status;

	wwd_auth_header(d, auth, sizeof(auth));
	snprintf(url, sizeof(url), "%s/api/v1/executions", d->url);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"%s\", \"agent\": \"%s\", \"task\": \"%s\"}",
		 pid, session, agent, task);
	harness__run((char *[]){ "/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
				 "-H", auth, "-H", "Content-Type: application/json", "--data-binary", body, url,
				 NULL }, 30, &r);
	status = atoi(r.out ? r.out : "0");
	harness__free_result(&r);
	return status;
}

struct burner {
	int pid;	/* the worker */
	int waker;	/* its companion on the same CPU */
};

/*
 * A worker first in line for a CPU even on a busy machine, so that "one busy
 * process" means about 100%: nice -20 only counts inside its autogroup
 * (CONFIG_SCHED_AUTOGROUP shares CPU between sessions first), so it gets a
 * session of its own, and that autogroup gets nice -20 too.
 */
static int spawn_favoured(const char *fifo, const char *cmd, int cpu)
{
	char script[2048], path[64];
	cpu_set_t set;
	FILE *f;
	pid_t pid;

	mkfifo(fifo, 0600);
	snprintf(script, sizeof(script), "read go < %s; exec %s", fifo, cmd);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setsid();
		execv("/bin/sh", (char *[]){ "/bin/sh", "-c", script, NULL });
		_exit(127);
	}
	for (int i = 0; pid > 0 && getsid(pid) != pid && i < 200; i++)
		wwd_sleep_ms(5);
	CHECK(pid > 0 && getsid(pid) == pid, "the worker has no session of its own");
	CHECK(setpriority(PRIO_PROCESS, pid, -20) == 0, "setpriority: %s", strerror(errno));
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	CHECK(sched_setaffinity(pid, sizeof(set), &set) == 0, "sched_setaffinity: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/autogroup", pid);
	f = fopen(path, "w");
	if (f) {	/* absent without CONFIG_SCHED_AUTOGROUP, and then not needed */
		fputs("-20\n", f);
		CHECK(fclose(f) == 0, "cannot renice the worker's autogroup: %s", strerror(errno));
	}
	return pid;
}

/*
 * Wakes every 2 ms on the worker's CPU. Workaround: the kernel side charges a
 * task's CPU time to its execution when the task is switched out (or exits),
 * so a spinning task that nothing preempts shows no progress for as long as
 * it keeps its CPU, and a one-second CPU% of it is off by however long that
 * was (116% was seen with nice -20 on a loaded machine). Real workers block
 * often; this makes the test's spinner get switched out as often.
 */
static int spawn_waker(int cpu)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec tick = { 0, 2 * 1000000L };
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
		for (;;)
			nanosleep(&tick, NULL);
	}
	return pid;
}

/* The last CPU we may run on: the worker and its waker share it. */
static int last_cpu(void)
{
	cpu_set_t set;
	int cpu = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				cpu = i;
	return cpu;
}

static void stop_process(int *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	harness__wait(*pid, 10);
	*pid = -1;
}

static void stop_burner(struct burner *b)
{
	stop_process(&b->pid);
	stop_process(&b->waker);
}

/* One process spinning on one CPU for minutes, attached as session/agent/task. */
static bool start_burner(struct wwd *d, const char *session, const char *agent, const char *task,
			 struct burner *b)
{
	char fifo[300], cmd[700];
	int status, cpu = last_cpu();

	snprintf(fifo, sizeof(fifo), "%s/go-%s", d->dir, agent);
	snprintf(cmd, sizeof(cmd), "%s cpu 300000", wwd_bin("wwload"));
	b->waker = spawn_waker(cpu);
	b->pid = spawn_favoured(fifo, cmd, cpu);
	wwd_sleep_ms(100);
	status = api_attach(d, b->pid, session, agent, task);
	wwd_release(fifo);
	if (!CHECK(status == 201, "attach answered %d", status)) {
		stop_burner(b);
		return false;
	}
	return true;
}

/* Ground truth: the CPU time the (single-threaded) worker's kernel accounting says it ran. */
static double thread_cpu_s(int pid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
	}
	return (double)ns / 1e9;
}

/* The line of text that contains needle (copied into line), or false. */
static bool find_line(const char *text, const char *needle, char *line, size_t size)
{
	const char *at = text ? strstr(text, needle) : NULL, *start, *end;

	if (!at)
		return false;
	for (start = at; start > text && start[-1] != '\n'; start--)
		;
	end = strchrnul(at, '\n');
	snprintf(line, size, "%.*s", (int)(end - start), start);
	return true;
}

/* Runs of blanks become one, in place. */
static char *squeeze(char *s)
{
	char *out = s;

	for (char *in = s; *in; in++)
		if (*in != ' ' || (out > s && out[-1] != ' '))
			*out++ = *in;
	while (out > s && out[-1] == ' ')
		out--;
	*out = 0;
	return s;
}

struct top_row {
	char id[32], session[64], agent[64], task[64], status[16], duration[16], cpu[16];
};

/* The first columns of a table row: ID SESSION AGENT TASK STATUS DURATION CPU% ... */
static bool parse_row(const char *line, struct top_row *r)
{
	return sscanf(line, "%31s %63s %63s %63s %15s %15s %15s", r->id, r->session, r->agent, r->task,
		      r->status, r->duration, r->cpu) == 7;
}

static bool top_row_of(const char *text, const char *agent, struct top_row *r)
{
	char line[1024];

	return find_line(text, agent, line, sizeof(line)) && parse_row(line, r);
}

KERNEL_TEST(top_once_shows_a_busy_worker_near_100_percent_cpu)
{
	char *argv[] = { (char *)wwd_bin("workerwatch"), "top", "--once", "--server", NULL, "--token-file", NULL, NULL };
	struct cmd_result r = {};
	struct top_row row;
	struct wwd d = {};
	char header[1024];
	double cpu0, cpu1, t0, t1, span, truth, cpu;
	struct burner worker = { -1, -1 };
	char *end;

	ASSERT(wwd_start(&d), "no daemon");
	argv[4] = d.url;
	argv[6] = d.token;
	if (!start_burner(&d, "top-once", "topburner", "burn", &worker))
		goto cleanup;
	wwd_sleep_ms(500);	/* spinning by now */
	t0 = now_s();
	cpu0 = thread_cpu_s(worker.pid);
	harness__run(argv, 30, &r);
	cpu1 = thread_cpu_s(worker.pid);
	t1 = now_s();
	span = t1 - t0;
	truth = 100 * (cpu1 - cpu0) / span;

	CHECK(r.exit_code == 0, "top --once exited %d: %s", r.exit_code, r.err);
	CHECK(r.err && !r.err[0], "top --once wrote to stderr: %s", r.err);
	CHECK(r.out && !strchr(r.out, '\033'), "escape codes in the snapshot:\n%s", r.out);
	CHECK(r.out && strstr(r.out, "workerwatch top  ") && strstr(r.out, d.url) && strstr(r.out, "daemon healthy"),
	      "no title line:\n%s", r.out);
	CHECK(r.out && strstr(r.out, "\nHost CPU ") && strstr(r.out, "  Mem ") && strstr(r.out, "  Load "),
	      "no host line:\n%s", r.out);
	CHECK(r.out && strstr(r.out, "\nPSI some avg10: cpu ") && strstr(r.out, "Lost events 0"),
	      "no pressure line:\n%s", r.out);
	CHECK(r.out && strstr(r.out, "\nExecutions 1 running, 0 completed, 0 failed"), "no counts:\n%s", r.out);
	CHECK(find_line(r.out, "SESSION", header, sizeof(header)) &&
	      !strcmp(squeeze(header), "ID SESSION AGENT TASK STATUS DURATION CPU% MEM SYSCALLS/s NET/s PIDS COMMAND"),
	      "no table header:\n%s", r.out);
	if (!CHECK(top_row_of(r.out, "topburner", &row), "no row for the worker:\n%s", r.out))
		goto cleanup;
	CHECK_STR(row.session, "top-once");
	CHECK_STR(row.task, "burn");
	CHECK_STR(row.status, "running");
	cpu = strtod(row.cpu, &end);
	if (!CHECK(end != row.cpu && !*end, "CPU%% '%s' is not a number:\n%s", row.cpu, r.out))
		goto cleanup;
	/*
	 * Against what the kernel says the worker got while top ran (span s):
	 * top's own window lies inside, at least 1 s long, and one thread runs
	 * at most 100%, which bounds what top may have seen.
	 */
	CHECK(cpu >= 100 - (100 - truth) * span - CPU_SLACK && cpu <= truth * span + CPU_SLACK,
	      "CPU%% %.1f, but the worker's own accounting says %.1f%% over the %.2f s top ran", cpu, truth, span);
	if (truth >= 80)
		CHECK(cpu >= 50 && cpu <= 110, "CPU%% %.1f for one spinning process (truth %.1f%%)", cpu, truth);
	else	/* the machine is saturated: the bounds above still hold */
		fprintf(stderr, "    note: the worker got only %.1f%% of a CPU\n", truth);
cleanup:
	harness__free_result(&r);
	stop_burner(&worker);
	wwd_stop(&d, SIGTERM);
}

/* --- tmux, on a socket of our own so a user's sessions are never touched --- */

static const char *tmux_socket(void)
{
	static char name[64];

	if (!name[0])
		snprintf(name, sizeof(name), "wwtest-%d", getpid());
	return name;
}

/* Runs tmux with the NULL-terminated args; its exit code, and its stdout in *out when asked. */
static int tmux(char **out, const char *const *args)
{
	char *argv[32] = { TMUX_BIN, "-L", (char *)tmux_socket(), "-f", "/dev/null" };
	struct cmd_result r;
	int n = 5, code;

	while (*args && n < 31)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	harness__run(argv, 10, &r);
	code = r.exit_code;
	if (out) {
		*out = r.out;
		r.out = NULL;
	}
	harness__free_result(&r);
	return code;
}

#define TMUX(out, ...) tmux((out), (const char *const[]){ __VA_ARGS__, NULL })

static bool tmux_start(const char *cmd)
{
	if (!CHECK(access(TMUX_BIN, X_OK) == 0, "%s is missing (tools/setup.sh test installs it)", TMUX_BIN))
		return false;
	return CHECK(TMUX(NULL, "new-session", "-d", "-s", TMUX_SESSION, "-x", "160", "-y", "40", cmd) == 0,
		     "tmux new-session failed");
}

static bool tmux_alive(void)
{
	return TMUX(NULL, "has-session", "-t", TMUX_SESSION) == 0;
}

static void tmux_keys(const char *keys, bool literal)
{
	CHECK(TMUX(NULL, "send-keys", "-t", TMUX_SESSION, literal ? "-l" : keys, literal ? keys : NULL) == 0,
	      "send-keys %s failed", keys);
}

/* Ends our server and removes its socket, which tmux leaves behind. */
static void tmux_stop(void)
{
	char path[300];

	TMUX(NULL, "kill-server");
	snprintf(path, sizeof(path), "%s/tmux-%d/%s", getenv("TMUX_TMPDIR") ?: "/tmp", (int)getuid(), tmux_socket());
	unlink(path);
}

static const char *text(const char *screen)
{
	return screen ? screen : "(no screen)";
}

typedef bool (*screen_test)(const char *screen, const char *arg);

static bool shows(const char *screen, const char *text)
{
	return screen && strstr(screen, text);
}

static bool hides(const char *screen, const char *text)
{
	return screen && !strstr(screen, text);
}

static bool shows_running_row(const char *screen, const char *agent)
{
	struct top_row r;

	return top_row_of(screen, agent, &r) && !strcmp(r.status, "running");
}

static bool shows_cpu(const char *screen, const char *agent)
{
	struct top_row r;

	return top_row_of(screen, agent, &r) && strtod(r.cpu, NULL) > 0;
}

/* Captures the pane until test(screen, arg) holds; false (and the last screen in *last) after timeout_ms. */
static bool wait_screen(screen_test test, const char *arg, int timeout_ms, char **last)
{
	double deadline = now_s() + timeout_ms / 1000.0;
	bool ok = false;

	do {
		free(*last);
		*last = NULL;
		TMUX(last, "capture-pane", "-p", "-t", TMUX_SESSION);
		ok = test(*last, arg);
		if (!ok)
			wwd_sleep_ms(100);
	} while (!ok && now_s() < deadline);
	return ok;
}

static bool wait_gone(int timeout_ms)
{
	double deadline = now_s() + timeout_ms / 1000.0;

	while (tmux_alive() && now_s() < deadline)
		wwd_sleep_ms(100);
	return !tmux_alive();
}

KERNEL_TEST(top_interactive_view_sorts_filters_and_quits_in_tmux)
{
	char cmd[1200], *screen = NULL;
	struct wwd d = {};
	struct burner worker = { -1, -1 };

	ASSERT(wwd_start(&d), "no daemon");
	if (!start_burner(&d, "top-tmux", "tmuxburner", "spin", &worker))
		goto cleanup;
	snprintf(cmd, sizeof(cmd), "%s top --server %s --token-file %s --interval 1", wwd_bin("workerwatch"), d.url,
		 d.token);
	if (!tmux_start(cmd))
		goto cleanup;
	if (!CHECK(wait_screen(shows_running_row, "tmuxburner", 10000, &screen), "no row for the worker:\n%s",
		   text(screen)))
		goto cleanup;
	CHECK(shows(screen, "workerwatch top  ") && shows(screen, d.url) && shows(screen, "Host CPU ") &&
	      shows(screen, "PSI some avg10") && shows(screen, "Executions 1 running") &&
	      shows(screen, "SYSCALLS/s") && shows(screen, "Sort: cpu"), "no header:\n%s", text(screen));
	/* the second refresh has a CPU% to show */
	CHECK(wait_screen(shows_cpu, "tmuxburner", 5000, &screen), "no CPU%% for the worker:\n%s", text(screen));

	tmux_keys("m", false);
	CHECK(wait_screen(shows, "Sort: memory", 3000, &screen), "m did not sort by memory:\n%s", text(screen));
	tmux_keys("r", false);
	CHECK(wait_screen(shows, "Sort: memory (reversed)", 3000, &screen), "r did not reverse:\n%s", text(screen));
	tmux_keys("?", false);
	CHECK(wait_screen(shows, "r reverse  / filter", 3000, &screen), "? shows no help:\n%s", text(screen));
	tmux_keys("?", false);
	CHECK(wait_screen(shows, "? help  q quit", 3000, &screen), "? did not close the help:\n%s", text(screen));

	tmux_keys("/", false);
	tmux_keys("no-such-worker", true);
	CHECK(wait_screen(shows, "Filter (Enter applies, Esc clears): no-such-worker", 3000, &screen),
	      "/ shows no filter prompt:\n%s", text(screen));
	tmux_keys("Enter", false);
	CHECK(wait_screen(hides, "tmuxburner", 3000, &screen), "the filter did not hide the worker:\n%s", text(screen));
	CHECK(shows(screen, "Filter: 'no-such-worker'") && shows(screen, "0 of 1 shown"),
	      "the filter is not shown:\n%s", text(screen));
	tmux_keys("Escape", false);
	CHECK(wait_screen(shows_running_row, "tmuxburner", 3000, &screen), "Esc did not clear the filter:\n%s",
	      screen);
	tmux_keys("/", false);
	tmux_keys("TMUXBURN", true);
	tmux_keys("Enter", false);
	CHECK(wait_screen(shows, "Filter: 'TMUXBURN'", 3000, &screen) && shows_running_row(screen, "tmuxburner"),
	      "a matching filter hid the worker:\n%s", text(screen));
	tmux_keys("Escape", false);

	/* a resize redraws at the new size */
	CHECK(TMUX(NULL, "resize-window", "-t", TMUX_SESSION, "-x", "90", "-y", "15") == 0, "resize failed");
	CHECK(wait_screen(shows_running_row, "tmuxburner", 3000, &screen), "no row after a resize:\n%s", text(screen));
	CHECK(TMUX(NULL, "resize-window", "-t", TMUX_SESSION, "-x", "160", "-y", "40") == 0, "resize failed");

	/* the daemon goes away: top says so and keeps going */
	wwd_stop(&d, SIGTERM);
	CHECK(wait_screen(shows, "cannot reach the daemon at", 5000, &screen), "no error in the header:\n%s",
	      screen);
	wwd_sleep_ms(1500);
	CHECK(tmux_alive() && wait_screen(shows, "cannot reach the daemon at", 1000, &screen),
	      "top did not survive the daemon:\n%s", text(screen));

	tmux_keys("q", false);
	CHECK(wait_gone(5000), "q did not quit:\n%s", text(screen));
cleanup:
	free(screen);
	tmux_stop();
	stop_burner(&worker);
	wwd_stop(&d, SIGTERM);
}

/* A loopback port nothing listens on (the kernel picked it, then we closed it). */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void expect_usage_error(const char *opt, const char *value)
{
	struct cmd_result r;

	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "top", "--once", (char *)opt, (char *)value, NULL },
		     10, &r);
	CHECK(r.exit_code == 2, "top --once %s %s exited %d", opt, value ? value : "", r.exit_code);
	CHECK(r.err && !strncmp(r.err, "workerwatch: ", 13) && strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
	      "top --once %s %s: not one line on stderr: %s", opt, value ? value : "", r.err);
	harness__free_result(&r);
}

KERNEL_TEST(top_reports_an_unreachable_daemon_and_bad_options)
{
	char url[64], want[160], cmd[600], *screen = NULL;
	struct cmd_result r;
	int port = closed_port();

	ASSERT(port > 0, "no free port");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	snprintf(want, sizeof(want), "workerwatch: cannot reach the daemon at %s: ", url);
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "top", "--once", "--server", url, NULL }, 30, &r);
	CHECK(r.exit_code == 1, "top --once against a closed port exited %d", r.exit_code);
	CHECK(r.out && !r.out[0], "stdout is not empty: %s", r.out);
	CHECK(r.err && !strncmp(r.err, want, strlen(want)), "stderr: %s", r.err);
	CHECK(r.err && strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "not one line on stderr: %s", r.err);
	harness__free_result(&r);

	expect_usage_error("--interval", "0");
	expect_usage_error("--interval", "61");
	expect_usage_error("--interval", "2s");
	expect_usage_error("--interval", "99999999999999999999");
	expect_usage_error("--bogus", NULL);
	expect_usage_error("extra", NULL);

	/* without --once top needs a terminal, and says so */
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "top", "--server", url, NULL }, 10, &r);
	CHECK(r.exit_code == 1 && strstr(r.err, "needs a terminal"), "top without a terminal: %d %s", r.exit_code,
	      r.err);
	harness__free_result(&r);

	/* interactive, it keeps retrying and says why */
	snprintf(cmd, sizeof(cmd), "%s top --server %s --interval 1", wwd_bin("workerwatch"), url);
	if (!tmux_start(cmd))
		goto cleanup;
	CHECK(wait_screen(shows, want + strlen("workerwatch: "), 5000, &screen), "no error on screen:\n%s", text(screen));
	wwd_sleep_ms(2000);
	CHECK(tmux_alive(), "top gave up on an unreachable daemon");
	tmux_keys("C-c", false);
	CHECK(wait_gone(5000), "Ctrl-C did not quit");
cleanup:
	free(screen);
	tmux_stop();
}

KERNEL_TEST(top_once_has_no_leaks_under_valgrind)
{
	char *argv[] = { VALGRIND, "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect,possible",
			 "--error-exitcode=99", (char *)wwd_bin("workerwatch"), "top", "--once", "--server", NULL,
			 "--token-file", NULL, NULL };
	struct cmd_result r = {};
	struct wwd d = {};
	struct burner worker = { -1, -1 };

	/* both replace malloc and keep shadow memory; LeakSanitizer checks the same there (top --once exits) */
	SKIP_IF_SANITIZED("valgrind cannot run an ASan binary; LeakSanitizer checks top's exit in this build");
	if (access(VALGRIND, X_OK)) {
		harness__skip(VALGRIND " is not installed");
		return;
	}
	ASSERT(wwd_start(&d), "no daemon");
	argv[9] = d.url;
	argv[11] = d.token;
	if (!start_burner(&d, "top-valgrind", "vgburner", "spin", &worker))
		goto cleanup;
	harness__run(argv, 120, &r);
	CHECK(r.exit_code == 0, "valgrind: exit %d\n%s", r.exit_code, r.err);
	CHECK(r.out && strstr(r.out, "vgburner"), "no row under valgrind:\n%s", r.out);
cleanup:
	harness__free_result(&r);
	stop_burner(&worker);
	wwd_stop(&d, SIGTERM);
}
