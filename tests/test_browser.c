// SPDX-License-Identifier: MIT
/* The dashboard end to end: real daemon, real workers, Debian's Chromium driven by tests/browser/. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"
#include "sink.h"
#include "wwd.h"

/* Paths are relative to the repository's root, where make check runs the tests. */
#define BROWSER_DIR "tests/browser"
#define BROWSER_SCRIPT BROWSER_DIR "/dashboard.test.mjs"
#define SETUP_TIMEOUT_S 300
/* Above the script's own watchdog (300 s), which kills the browser before it exits. */
#define BROWSER_TIMEOUT_S 340
/* CPU the hot worker burns, ms: longer than the alert checks; the script ends it once they are done. */
#define HOT_CPU_MS 40000

/*
 * Alerting for the alert checks: a CPU rule that fires within seconds (and, on a busy
 * machine, keeps firing through a dip below 50% rather than resolve before it is
 * acknowledged), a receiver that gets the notifications (sink) and one that cannot
 * (nothing listens on port 1), so the dashboard has a delivery failure to show.
 * group_wait 0: notifications go out at once.
 */
static bool write_config(const char *path, const char *sink_url)
{
	FILE *f = fopen(path, "w");

	if (!CHECK(f, "cannot write %s: %s", path, strerror(errno)))
		return false;
	fprintf(f,
		"{\"evaluation_interval\": \"1s\",\n"
		" \"rules\": [{\"id\": \"cpu-hot\", \"alertname\": \"WorkerHighCPU\", \"metric\": \"cpu_percent\",\n"
		"            \"scope\": {\"level\": \"execution\", \"match\": [\"agent=\\\"heater\\\"\"]},\n"
		"            \"op\": \">\", \"threshold\": 5, \"window\": \"2s\", \"for\": \"1s\", \"keep_firing_for\": \"30s\",\n"
		"            \"severity\": \"warning\",\n"
		"            \"annotations\": {\"summary\": \"{{labels.agent}} uses {{value|%%.0f}}%% CPU\"}}],\n"
		" \"receivers\": [{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"%s/hook\"},\n"
		"               {\"name\": \"down\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/hook\"}],\n"
		" \"routes\": [{\"receivers\": [\"hook\", \"down\"], \"group_wait\": \"0s\"}]}\n", sink_url);
	return CHECK(fclose(f) == 0, "cannot write %s", path);
}

/* Ends a worker the script may have left held or running; reaps it either way. */
static void reap(int pid)
{
	if (pid <= 0)
		return;
	if (waitpid(pid, NULL, WNOHANG) == 0) {
		kill(pid, SIGKILL);
		harness__wait(pid, 10);
	}
}

/* A PNG of at least min_w x min_h pixels and min_bytes bytes: its signature, then IHDR's size. */
static void check_png(const char *path, unsigned min_w, unsigned min_h, long min_bytes)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char head[24];
	struct stat st;
	unsigned w, h;
	int fd = open(path, O_RDONLY);

	if (!CHECK(fd >= 0, "no screenshot %s: %s", path, strerror(errno)))
		return;
	if (!CHECK(fstat(fd, &st) == 0 && read(fd, head, sizeof(head)) == (ssize_t)sizeof(head),
		   "%s is too short for a PNG", path))
		goto out;
	if (!CHECK(!memcmp(head, sig, sizeof(sig)) && !memcmp(head + 12, "IHDR", 4), "%s is not a PNG", path))
		goto out;
	w = (unsigned)head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19];
	h = (unsigned)head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23];
	CHECK(w >= min_w && h >= min_h, "%s is %ux%u, wanted at least %ux%u", path, w, h, min_w, min_h);
	CHECK(st.st_size >= min_bytes, "%s has %ld bytes, wanted at least %ld", path, (long)st.st_size,
	      min_bytes);
out:
	close(fd);
}

KERNEL_TEST(browser_dashboard_shows_workers_failures_and_charts)
{
	static const char *const shots[] = { "overview.png", "detail.png", "failure.png", "detail-completed.png",
					     "alerts.png", "executions.png" };
	char art[300], url[64], token[300], shot[400], log[400];
	char fifo_busy[300], fifo_fail[300], fifo_crash[300], fifo_hot[300], config[300];
	char arg_busy[400], arg_fail[400], arg_crash[400], arg_hot[400], cmd[1200];
	int busy = -1, failing = -1, crashing = -1, hot = -1;
	struct sink *sink;
	struct cmd_result r;
	struct wwd d;
	FILE *f;

	ASSERT(access(BROWSER_SCRIPT, R_OK) == 0, "no %s: run the tests from the repository's root",
	       BROWSER_SCRIPT);
	/* npm ci of the pinned playwright-core, only when node_modules is missing or stale */
	harness__run((char *[]){ "/bin/bash", BROWSER_DIR "/setup.sh", NULL }, SETUP_TIMEOUT_S, &r);
	if (!CHECK(r.exit_code == 0, "%s/setup.sh failed:\n%s%s", BROWSER_DIR, r.out, r.err)) {
		harness__free_result(&r);
		return;
	}
	harness__free_result(&r);

	snprintf(art, sizeof(art), "%s/artifacts", harness__bin());
	ASSERT(mkdir(art, 0755) == 0 || errno == EEXIST, "cannot create %s: %s", art, strerror(errno));
	/* a screenshot left by an earlier run must not pass for this one's */
	for (size_t i = 0; i < sizeof(shots) / sizeof(shots[0]); i++) {
		snprintf(shot, sizeof(shot), "%s/%s", art, shots[i]);
		unlink(shot);
	}

	sink = sink__start();
	ASSERT(sink, "no webhook sink");
	snprintf(config, sizeof(config), "%s/alerting.json", harness__tmpdir());
	if (!write_config(config, sink__url(sink)) || !CHECK(wwd_start_opts(&d, config), "no daemon")) {
		sink__stop(sink);
		return;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", d.port);
	snprintf(token, sizeof(token), "%s/token", d.dir);
	snprintf(fifo_busy, sizeof(fifo_busy), "%s/go-busy", d.dir);
	snprintf(fifo_fail, sizeof(fifo_fail), "%s/go-fail", d.dir);
	snprintf(fifo_crash, sizeof(fifo_crash), "%s/go-crash", d.dir);
	snprintf(fifo_hot, sizeof(fifo_hot), "%s/go-hot", d.dir);
	/* long enough to be sampled several times and watched on its detail page */
	snprintf(cmd, sizeof(cmd), "%s cpu 6000", wwd_bin("wwload"));
	busy = wwd_spawn_held(fifo_busy, cmd);
	snprintf(cmd, sizeof(cmd), "%s exit 3", wwd_bin("wwload"));
	failing = wwd_spawn_held(fifo_fail, cmd);
	snprintf(cmd, sizeof(cmd), "%s crash", wwd_bin("wwload"));
	crashing = wwd_spawn_held(fifo_crash, cmd);
	snprintf(cmd, sizeof(cmd), "%s cpu %d", wwd_bin("wwload"), HOT_CPU_MS);
	hot = wwd_spawn_held(fifo_hot, cmd);
	snprintf(arg_busy, sizeof(arg_busy), "%d:%s", busy, fifo_busy);
	snprintf(arg_fail, sizeof(arg_fail), "%d:%s", failing, fifo_fail);
	snprintf(arg_crash, sizeof(arg_crash), "%d:%s", crashing, fifo_crash);
	snprintf(arg_hot, sizeof(arg_hot), "%d:%s", hot, fifo_hot);
	wwd_sleep_ms(100);

	harness__run((char *[]){ "/usr/bin/env", "node", BROWSER_SCRIPT, url, art, "--token-file", token,
				 "--busy", arg_busy, "--failing", arg_fail, "--crashing", arg_crash, "--hot", arg_hot, NULL },
		     BROWSER_TIMEOUT_S, &r);
	snprintf(log, sizeof(log), "%s/browser.log", art);
	f = fopen(log, "w");
	if (f) {
		fprintf(f, "%s%s", r.out ?: "", r.err ?: "");
		fclose(f);
	}
	CHECK(r.exit_code == 0, "the browser checks exited %d (status %d):\n%s%s", r.exit_code, r.status,
	      r.out ?: "", r.err ?: "");
	CHECK(r.out && strstr(r.out, "ok 1 - ") && strncmp(r.out, "not ok ", 7) && !strstr(r.out, "\nnot ok "),
	      "not every browser check passed");
	harness__free_result(&r);

	/* what a person would look at afterwards: full pages, at least the 1280x800 viewport */
	snprintf(shot, sizeof(shot), "%s/overview.png", art);
	check_png(shot, 1280, 800, 8000);
	snprintf(shot, sizeof(shot), "%s/detail.png", art);
	check_png(shot, 1280, 800, 8000);
	snprintf(shot, sizeof(shot), "%s/alerts.png", art);
	check_png(shot, 1280, 800, 8000);
	snprintf(shot, sizeof(shot), "%s/executions.png", art);
	check_png(shot, 1280, 800, 8000);

	reap(busy);
	reap(failing);
	reap(crashing);
	reap(hot);
	wwd_stop(&d, SIGTERM);
	/* the alert went to the working receiver (the script checked the dashboard's counts) */
	CHECK(sink__count(sink) >= 1, "the webhook receiver got no notification");
	sink__stop(sink);
}
