// SPDX-License-Identifier: MIT
/* A real workerwatch daemon under test, and workers held until they are attached. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "history/store.h"
#include "wwd.h"

const char *wwd_bin(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", harness__bin(), name);
	return b;
}

void wwd_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

char *wwd_read_file(const char *path)
{
	struct cmd_result r;
	char *text;

	harness__run((char *[]){ "/bin/cat", (char *)path, NULL }, 10, &r);
	text = r.out;
	r.out = NULL;
	harness__free_result(&r);
	return text;
}

/* Starts the daemon with its files in dir and extra arguments; its output goes to out. */
static bool start_in(struct wwd *d, const char *dir, char *const *extra, const char *out)
{
	static const char *const marker = "listening on http://127.0.0.1:";
	char db[300], logdir[300];
	char *argv[26] = { (char *)wwd_bin("workerwatch"), "daemon", "--listen", "127.0.0.1:0", "--db", db,
			   "--log-dir", logdir, "--token-file", d->token, "--sample-interval-s", "1",
			   "--pin-dir", d->pin_dir, NULL };
	int n = 14;

	for (; extra && *extra && n < 25; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	mkdir(d->dir, 0700);
	wwd_pin_dir(d->pin_dir, sizeof(d->pin_dir));
	/* a daemon with its own directory pins apart from the test's other daemons, under the test's pins */
	if (strcmp(dir, harness__tmpdir())) {
		const char *base = strrchr(dir, '/');

		mkdir(d->pin_dir, 0700);
		snprintf(d->pin_dir + strlen(d->pin_dir), sizeof(d->pin_dir) - strlen(d->pin_dir), "/%s",
			 base ? base + 1 : "d");
	}
	snprintf(db, sizeof(db), "%s/history.db", d->dir);
	snprintf(logdir, sizeof(logdir), "%s/log", d->dir);
	snprintf(d->token, sizeof(d->token), "%s/token", d->dir);
	d->pid = harness__spawn(argv, out);
	for (int i = 0; i < 500; i++) {
		char *text = wwd_read_file(out), *at = text ? strstr(text, marker) : NULL;

		if (at) {
			d->port = atoi(at + strlen(marker));
			snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", d->port);
			free(text);
			return CHECK(d->port > 0, "no port in the daemon's log");
		}
		free(text);
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
			break;
		wwd_sleep_ms(20);
	}
	return CHECK(false, "the daemon did not start: see %s", out);
}

static bool start(struct wwd *d, char *const *extra, const char *out)
{
	return start_in(d, harness__tmpdir(), extra, out);
}

bool wwd_start_in(struct wwd *d, const char *dir, const char *config_path)
{
	char *extra[] = { "--config", (char *)config_path, NULL };
	char out[300];

	snprintf(out, sizeof(out), "%s/daemon.log", dir);
	mkdir(dir, 0700);
	return start_in(d, dir, config_path ? extra : NULL, out);
}

bool wwd_start(struct wwd *d)
{
	char out[300];

	snprintf(out, sizeof(out), "%s/daemon.%ld.log", harness__tmpdir(), (long)time(NULL));
	return start(d, NULL, out);
}

bool wwd_start_opts(struct wwd *d, const char *config_path)
{
	static int starts;
	char *extra[] = { "--config", (char *)config_path, NULL };
	char out[300];

	/* numbered, so that the log of a run killed with -9 survives the restart */
	snprintf(out, sizeof(out), "%s/daemon.%d.log", harness__tmpdir(), ++starts);
	return start(d, config_path ? extra : NULL, out);
}

void wwd_pin_dir(char *buf, size_t size)
{
	const char *base = strrchr(harness__tmpdir(), '/');

	/* one per test: restarts in the test find their state; bpffs refuses dots in names */
	snprintf(buf, size, "/sys/fs/bpf/%s", base ? base + 1 : "ww_test");
	for (char *c = buf + strlen("/sys/fs/bpf/"); *c; c++)
		if (*c == '.')
			*c = '_';
}

/* A test that failed before its daemon's --detach-all leaves pins: remove them (their programs go with them). */
static void remove_leftover_pins(void)
{
	char dir[300], cmd[400];
	struct stat st;

	wwd_pin_dir(dir, sizeof(dir));
	if (stat(dir, &st))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "    cannot remove %s\n", dir);
}

__attribute__((constructor)) static void register_cleanup(void)
{
	harness__on_test_end(remove_leftover_pins);
}

static void stop(struct wwd *d, int sig)
{
	int status;

	if (d->pid <= 0)
		return;
	kill(d->pid, sig);
	status = harness__wait(d->pid, 20);
	if (sig == SIGTERM)
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "daemon exited with status %d", status);
	d->pid = 0;
}

void wwd_stop_keep(struct wwd *d)
{
	stop(d, SIGTERM);
}

void wwd_stop(struct wwd *d, int sig)
{
	char db[320], logdir[320];
	struct cmd_result r;
	struct stat st;

	stop(d, sig);
	if (sig != SIGTERM)
		return;
	snprintf(db, sizeof(db), "%s/history.db", d->dir);
	snprintf(logdir, sizeof(logdir), "%s/log", d->dir);
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "daemon", "--detach-all", "--db", db, "--log-dir",
				 logdir, "--token-file", d->token, "--pin-dir", d->pin_dir, NULL }, 60, &r);
	CHECK(r.exit_code == 0, "daemon --detach-all failed: %s", r.err);
	CHECK(stat(d->pin_dir, &st) && errno == ENOENT, "daemon --detach-all left %s behind", d->pin_dir);
	harness__free_result(&r);
}

int wwd_spawn_held(const char *fifo, const char *cmd)
{
	char script[2048];

	mkfifo(fifo, 0600);
	snprintf(script, sizeof(script), "read go < %s; exec %s", fifo, cmd);
	return harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
}

void wwd_release(const char *fifo)
{
	int fd = open(fifo, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "go\n", 3) != 3)
			CHECK(false, "cannot release the worker");
		close(fd);
	}
}

/* "Authorization: Bearer TOKEN" with the token in token_file ("" when unreadable). */
static void auth_header(const char *token_file, char *buf, size_t size)
{
	char tok[128] = "";
	FILE *f = fopen(token_file, "r");

	if (f) {
		if (!fgets(tok, sizeof(tok), f))
			tok[0] = 0;
		tok[strcspn(tok, "\n")] = 0;
		fclose(f);
	}
	snprintf(buf, size, "Authorization: Bearer %s", tok);
}

void wwd_auth_header(const struct wwd *d, char *buf, size_t size)
{
	auth_header(d->token, buf, size);
}

/* One request with curl: the HTTP status (0: no answer), and the body in *text when asked. */
int wwd_http(const char *method, const char *url, const char *body, const char *token_file, char **text)
{
	char out[512], auth[200];
	char *argv[20];
	struct cmd_result r;
	int n = 0, status;

	snprintf(out, sizeof(out), "%s", harness__tmp(".http-body"));
	unlink(out);
	argv[n++] = "/usr/bin/curl";
	argv[n++] = "-s";
	argv[n++] = "--max-time";
	argv[n++] = "20";
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n++] = "-w";
	argv[n++] = "%{http_code}";
	argv[n++] = "-X";
	argv[n++] = (char *)method;
	if (token_file) {
		auth_header(token_file, auth, sizeof(auth));
		argv[n++] = "-H";
		argv[n++] = auth;
	}
	if (body) {
		argv[n++] = "-H";
		argv[n++] = "Content-Type: application/json";
		argv[n++] = "--data-binary";
		argv[n++] = (char *)body;
	}
	argv[n++] = (char *)url;
	argv[n] = NULL;
	harness__run(argv, 30, &r);
	status = r.out ? atoi(r.out) : 0;
	harness__free_result(&r);
	if (text)
		*text = wwd_read_file(out);
	return status;
}

int wwd_api(const struct wwd *d, const char *method, const char *path, const char *body, bool token, cJSON **json)
{
	char url[512], *text = NULL;
	int status;

	snprintf(url, sizeof(url), "%s%s", d->url, path);
	status = wwd_http(method, url, body, token ? d->token : NULL, json ? &text : NULL);
	if (json)
		*json = text ? cJSON_Parse(text) : NULL;
	free(text);
	return status;
}

bool wwd_foreach_execution(const struct wwd *d, const char *session,
			   int (*cb)(const struct exec_record *r, void *ctx), void *ctx)
{
	struct exec_filter f = { .limit = -1 };
	char db[320];
	struct store *s;
	bool ok;

	snprintf(f.session, sizeof(f.session), "%s", session);
	snprintf(db, sizeof(db), "%s/history.db", d->dir);
	s = store__open_existing(db, true);
	if (!CHECK(s, "cannot open %s: %s", db, store__errmsg(NULL)))
		return false;
	ok = CHECK(!store__foreach_execution(s, &f, cb, ctx), "cannot read history: %s", store__errmsg(s));
	store__close(s);
	return ok;
}

cJSON *wwd_ended_executions(const struct wwd *d, const char *session, int n, int wait_ms)
{
	char path[128];
	cJSON *list = NULL;

	snprintf(path, sizeof(path), "/api/v1/executions?session=%s&limit=1000", session);
	for (int waited = 0; waited <= wait_ms; waited += 100) {
		const cJSON *e;
		int done = 0;

		cJSON_Delete(list);
		list = NULL;
		if (wwd_api(d, "GET", path, NULL, true, &list) == 200)
			cJSON_ArrayForEach(e, list)
				done += strcmp(harness__str(e, "status") ?: "", "running") != 0;
		if (done >= n)
			break;
		wwd_sleep_ms(100);
	}
	return list;
}
