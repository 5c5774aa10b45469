// SPDX-License-Identifier: MIT
/*
 * User and system CPU on the real kernel: a workload that spins in user space
 * and one that burns its CPU in the kernel, tracked by `workerwatch run` and
 * by the daemon, against the workload's own getrusage.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "observe/execution.h"
#include "harness.h"
#include "wwd.h"

#define MS 1e6

/* The measured figures, on stderr when WW_TEST_FIGURES is set (for docs and reports). */
#define figures(...) do { if (getenv("WW_TEST_FIGURES")) fprintf(stderr, "\t" __VA_ARGS__); } while (0)

/*
 * How far our user (or system) time may be from getrusage's. Both split the
 * same runtime in the proportion of the same tick samples (utime, stime;
 * cputime_adjust), so they differ only by what one saw and the other did
 * not: the CPU after the workload's getrusage (its exit path, up to its final
 * switch) and before tracking began (the held copy of workerwatch, or the
 * shell the daemon attached to, before its exec). A tick landing there moves
 * one tick's share of a process's runtime from one mode to the other: 4 ms
 * at HZ=250, 10 ms at HZ=100. A tick and a half per process, plus 3% of the
 * tree's CPU for the time outside getrusage, covers it without letting an
 * inverted or missing split through (the two workloads are 10% and 90% system).
 */
static double split_slack(double on_cpu_ns, int processes)
{
	return processes * 15 * MS + 0.03 * on_cpu_ns;
}

/* The split both sides compute, against exact 128-bit arithmetic. */
TEST(cpu_system_part_splits_as_the_kernel_does)
{
	static const struct { __u64 rtime, utime, stime; } cases[] = {
		{ 1000, 3, 1 }, { 999, 1, 2 }, { 5000000000ULL, 1250, 1 },
		{ 1ULL << 62, 1ULL << 40, 3ULL << 40 },			/* samples beyond 2^32: scaled first */
		{ ~0ULL, ~0ULL / 3, ~0ULL / 3 },			/* their sum overflows 64 bits */
		{ ~0ULL, 12345678901ULL, 98765432109ULL },
		{ 123456789012345ULL, 4000000, 996000000 },
	};

	/* no system sample: all user (none at all included); no user sample: all system */
	CHECK_EQ(ww_cpu_system_part(1000, 0, 0), 0);
	CHECK_EQ(ww_cpu_system_part(1000, 40, 0), 0);
	CHECK_EQ(ww_cpu_system_part(1000, 0, 40), 1000);
	CHECK_EQ(ww_cpu_system_part(0, 5, 5), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned __int128 want = (unsigned __int128)cases[i].rtime * cases[i].stime /
					 ((unsigned __int128)cases[i].utime + cases[i].stime);
		__u64 got = ww_cpu_system_part(cases[i].rtime, cases[i].utime, cases[i].stime);
		double err = fabs((double)got - (double)want);

		/* exact below 2^32 samples; beyond, the proportion moves by less than 2^-30 */
		CHECK(got <= cases[i].rtime && err <= (double)cases[i].rtime / (1ULL << 30) + 1,
		      "case %zu: %llu, exactly %.0f", i, (unsigned long long)got, (double)want);
	}
	CHECK_EQ(ww_cpu_system_part(1000, 3, 1), 250);
	CHECK_EQ(ww_cpu_system_part(999, 1, 2), 666);
}

/* Live: finished processes as split, the rest in the running threads' proportion; the sum is exact. */
TEST(execution_cpu_split_adds_up_at_every_read)
{
	struct execution e = {};

	e.totals.on_cpu_ns = 1000;
	CHECK_EQ(execution__system_cpu_ns(&e), 0);	/* nothing sampled yet: user, as the kernel has it */
	CHECK_EQ(execution__user_cpu_ns(&e), 1000);
	e.totals.user_cpu_ns = 100;
	e.totals.system_cpu_ns = 300;			/* finished: 400 ns, the rest 600 */
	CHECK_EQ(execution__system_cpu_ns(&e), 300 + 450);	/* no running samples: the finished 1:3 */
	e.running_utime_ns = 2;
	e.running_stime_ns = 1;
	CHECK_EQ(execution__system_cpu_ns(&e), 300 + 200);	/* the running threads' 2:1 */
	CHECK_EQ(execution__user_cpu_ns(&e) + execution__system_cpu_ns(&e), 1000);
	e.totals.on_cpu_ns = 400;			/* all finished */
	CHECK_EQ(execution__system_cpu_ns(&e), 300);
	CHECK_EQ(execution__user_cpu_ns(&e), 100);
	e.totals.on_cpu_ns = 350;			/* a read that saw a split before its charge */
	CHECK_EQ(execution__user_cpu_ns(&e) + execution__system_cpu_ns(&e), 350);
}

/* workerwatch run --json R -- wwload --out T ARGS...: R and T, or false (a recorded failure). */
static bool run_tracked(const char *const *args, cJSON **rep, cJSON **truth)
{
	char ww[512], load[512], json[512], out[512];
	char *argv[32];
	struct cmd_result r;
	int n = 0;
	bool ok;

	snprintf(ww, sizeof(ww), "%s/workerwatch", harness__bin());
	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	snprintf(json, sizeof(json), "%s", harness__tmp("report.json"));
	snprintf(out, sizeof(out), "%s", harness__tmp("truth.json"));
	argv[n++] = ww;
	argv[n++] = "run";
	argv[n++] = "--json";
	argv[n++] = json;
	argv[n++] = "--";
	argv[n++] = load;
	argv[n++] = "--out";
	argv[n++] = out;
	while (*args && n < 31)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	*rep = *truth = NULL;
	if (harness__run(argv, 120, &r))
		return CHECK(false, "cannot run workerwatch");
	ok = CHECK(r.exit_code == 0, "workerwatch run exited %d:\n%s", r.exit_code, r.err);
	harness__free_result(&r);
	if (!ok)
		return false;
	*rep = harness__read_json(json);
	*truth = harness__read_json(out);
	if (!*rep || !*truth)
		return false;
	CHECK_EQ(harness__num(*rep, "observer.lost_events"), 0);
	return true;
}

/* The tree's and every process's user + system is its on-CPU time exactly; the processes' splits add up to the tree's. */
static void check_split_adds_up(const cJSON *rep, const char *what)
{
	double on_cpu = harness__num(rep, "cpu.on_cpu_ns"), user = harness__num(rep, "cpu.user_cpu_ns");
	double sys = harness__num(rep, "cpu.system_cpu_ns"), sum_user = 0, sum_sys = 0;
	const cJSON *p;

	CHECK(on_cpu > 0 && user + sys == on_cpu, "%s: user %.0f + system %.0f != on-CPU %.0f", what, user, sys, on_cpu);
	cJSON_ArrayForEach(p, harness__get(rep, "processes")) {
		double pu = harness__num(p, "user_cpu_ns"), ps = harness__num(p, "system_cpu_ns");

		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(p, "final")), "%s: pid %.0f has no final figures", what,
		      harness__num(p, "pid"));
		CHECK(pu + ps == harness__num(p, "on_cpu_ns"), "%s: pid %.0f: user %.0f + system %.0f != %.0f", what,
		      harness__num(p, "pid"), pu, ps, harness__num(p, "on_cpu_ns"));
		sum_user += pu;
		sum_sys += ps;
	}
	/* the same final charges, by process: exact once every process is final */
	CHECK(sum_user == user && sum_sys == sys, "%s: processes' user %.0f, system %.0f; the tree's %.0f, %.0f", what,
	      sum_user, sum_sys, user, sys);
}

static void check_against_getrusage(const cJSON *rep, const cJSON *truth, const char *what)
{
	double on_cpu = harness__num(rep, "cpu.on_cpu_ns"), user = harness__num(rep, "cpu.user_cpu_ns");
	double sys = harness__num(rep, "cpu.system_cpu_ns");
	double tu = harness__num(truth, "utime_ns"), ts = harness__num(truth, "stime_ns");
	double slack = split_slack(on_cpu, cJSON_GetArraySize(harness__get(rep, "processes")));

	figures("%s: user %.1f ms (getrusage %.1f), system %.1f ms (getrusage %.1f), on-CPU %.1f ms\n", what,
		     user / MS, tu / MS, sys / MS, ts / MS, on_cpu / MS);
	CHECK(fabs(user - tu) <= slack, "%s: user %.0f ns, getrusage %.0f ns (slack %.0f)", what, user, tu, slack);
	CHECK(fabs(sys - ts) <= slack, "%s: system %.0f ns, getrusage %.0f ns (slack %.0f)", what, sys, ts, slack);
}

KERNEL_TEST(cpu_split_of_user_and_kernel_work_matches_getrusage)
{
	const char *spin[] = { "cpu", "400", "--children", "2", "--threads", "1", NULL };
	const char *kernel[] = { "sys", "600", NULL };
	const char *spawns[] = { "spawn", "100", NULL };
	cJSON *rep, *truth;

	if (run_tracked(spin, &rep, &truth)) {
		/* the workload is what it says: CPU in user space (6 threads of 400 ms) */
		CHECK(harness__num(truth, "utime_ns") >= 0.8 * harness__num(truth, "cpu_ns"),
		      "the spin spent only %.0f of %.0f ns in user space", harness__num(truth, "utime_ns"),
		      harness__num(truth, "cpu_ns"));
		check_split_adds_up(rep, "spin");
		check_against_getrusage(rep, truth, "spin");
	}
	cJSON_Delete(rep);
	cJSON_Delete(truth);
	if (run_tracked(kernel, &rep, &truth)) {
		CHECK(harness__num(truth, "stime_ns") >= 0.7 * harness__num(truth, "cpu_ns"),
		      "reading /dev/zero spent only %.0f of %.0f ns in the kernel", harness__num(truth, "stime_ns"),
		      harness__num(truth, "cpu_ns"));
		check_split_adds_up(rep, "kernel");
		check_against_getrusage(rep, truth, "kernel");
	}
	cJSON_Delete(rep);
	cJSON_Delete(truth);
	/* 100 short processes, most of them between two ticks (no sample: all user, as the kernel has it) */
	if (run_tracked(spawns, &rep, &truth)) {
		CHECK_EQ(cJSON_GetArraySize(harness__get(rep, "processes")), 101);
		check_split_adds_up(rep, "spawns");
	}
	cJSON_Delete(rep);
	cJSON_Delete(truth);
}

/* The value of family{...agent="AGENT",...mode="MODE"...} in a scrape, NAN when absent. */
static double mode_sample(const char *text, const char *family, const char *agent, const char *mode)
{
	char a[160], m[40];
	size_t len = strlen(family);

	snprintf(a, sizeof(a), "agent=\"%s\"", agent);
	snprintf(m, sizeof(m), "mode=\"%s\"", mode);
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *end = strchr(line, '\n'), *close = strstr(line, "} ");
		const char *at_a = strstr(line, a), *at_m = strstr(line, m);

		if (strncmp(line, family, len) || line[len] != '{' || !close || (end && close > end))
			continue;
		if (at_a && at_a < close && at_m && at_m < close)
			return strtod(close + 2, NULL);
	}
	return NAN;
}

/* The value of family{...agent="AGENT"} (no other label but execution and session), NAN when absent. */
static double agent_sample(const char *text, const char *family, const char *agent)
{
	char want[160];
	size_t len = strlen(family);

	snprintf(want, sizeof(want), ",agent=\"%s\"} ", agent);
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *end = strchr(line, '\n'), *at = strstr(line, want);

		if (!strncmp(line, family, len) && line[len] == '{' && at && (!end || at < end))
			return strtod(at + strlen(want), NULL);
	}
	return NAN;
}

static char *scrape(const struct wwd *d)
{
	char url[128], *text = NULL;

	snprintf(url, sizeof(url), "%s/metrics", d->url);
	CHECK(wwd_http("GET", url, NULL, NULL, &text) == 200 && text, "GET /metrics failed");
	return text;
}

/*
 * Through the daemon: while the kernel-bound worker runs, /metrics splits its
 * CPU (the running part in its threads' proportion) into user and system that
 * add up to its CPU; once it ended, the API's metrics are the final split,
 * against its getrusage, and the per-agent counter has them.
 */
KERNEL_TEST(cpu_split_in_the_daemon_metrics_and_api)
{
	char fifo[300], cmd[700], body[300], truth_path[300], path[64];
	double id, total = NAN, user = NAN, sys = NAN, on_cpu, api_user, api_sys;
	cJSON *j = NULL, *truth = NULL;
	char *m = NULL;
	struct wwd d;
	int worker, status;

	ASSERT(wwd_start(&d), "no daemon");
	snprintf(fifo, sizeof(fifo), "%s/go", d.dir);
	snprintf(truth_path, sizeof(truth_path), "%s/truth.json", d.dir);
	snprintf(cmd, sizeof(cmd), "%s --out %s sys 1500", wwd_bin("wwload"), truth_path);
	worker = wwd_spawn_held(fifo, cmd);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"split\", \"agent\": \"kernelbound\"}", worker);
	status = wwd_api(&d, "POST", "/api/v1/executions", body, true, &j);
	CHECK(status == 201, "attach answered %d", status);
	id = harness__num(j, "id");
	cJSON_Delete(j);
	j = NULL;
	wwd_release(fifo);

	/* running: until it has burned 300 ms, so its threads have tick samples to split by */
	for (int i = 0; i < 100; i++) {
		free(m);
		m = scrape(&d);
		total = m ? agent_sample(m, "workerwatch_running_execution_cpu_seconds_total", "kernelbound") : NAN;
		if (total >= 0.3)
			break;
		wwd_sleep_ms(50);
	}
	if (m) {
		user = mode_sample(m, "workerwatch_running_execution_cpu_mode_seconds_total", "kernelbound", "user");
		sys = mode_sample(m, "workerwatch_running_execution_cpu_mode_seconds_total", "kernelbound", "system");
	}
	CHECK(total >= 0.3, "the worker's CPU never reached 0.3 s in /metrics (%.3f)", total);
	/* one live read: the split adds up to the total, to the printed precision */
	CHECK(fabs(user + sys - total) <= 1e-9 * total + 1e-9, "running: user %.9f + system %.9f != %.9f", user, sys,
	      total);
	CHECK(sys > user, "running: a kernel-bound worker split as user %.3f s, system %.3f s", user, sys);
	free(m);
	m = NULL;

	status = harness__wait(worker, 60);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker status %d", status);
	snprintf(path, sizeof(path), "/api/v1/executions/%.0f", id);
	for (int i = 0; i < 300; i++) {
		cJSON_Delete(j);
		j = NULL;
		if (wwd_api(&d, "GET", path, NULL, true, &j) == 200 && strcmp(harness__str(j, "status") ?: "", "running"))
			break;
		wwd_sleep_ms(50);
	}
	truth = harness__read_json(truth_path);
	ASSERT(j && truth, "no execution or no ground truth");
	CHECK_STR(harness__str(j, "status"), "completed");
	on_cpu = harness__num(j, "metrics.on_cpu_ns");
	api_user = harness__num(j, "metrics.user_cpu_ns");
	api_sys = harness__num(j, "metrics.system_cpu_ns");
	CHECK(on_cpu > 0 && api_user + api_sys == on_cpu, "ended: user %.0f + system %.0f != on-CPU %.0f", api_user,
	      api_sys, on_cpu);
	figures("daemon: user %.1f ms (getrusage %.1f), system %.1f ms (getrusage %.1f)\n", api_user / MS,
		     harness__num(truth, "utime_ns") / MS, api_sys / MS, harness__num(truth, "stime_ns") / MS);
	CHECK(fabs(api_user - harness__num(truth, "utime_ns")) <= split_slack(on_cpu, 1),
	      "ended: user %.0f, getrusage %.0f", api_user, harness__num(truth, "utime_ns"));
	CHECK(fabs(api_sys - harness__num(truth, "stime_ns")) <= split_slack(on_cpu, 1),
	      "ended: system %.0f, getrusage %.0f", api_sys, harness__num(truth, "stime_ns"));

	/* finished, per agent: the same split, in seconds */
	m = scrape(&d);
	if (m) {
		CHECK_NEAR(mode_sample(m, "workerwatch_execution_cpu_mode_seconds_total", "kernelbound", "user"),
			   api_user / 1e9, 0.001);
		CHECK_NEAR(mode_sample(m, "workerwatch_execution_cpu_mode_seconds_total", "kernelbound", "system"),
			   api_sys / 1e9, 0.001);
	}
	free(m);
	cJSON_Delete(j);
	cJSON_Delete(truth);
	wwd_stop(&d, SIGTERM);
}
