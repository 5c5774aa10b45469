// SPDX-License-Identifier: MIT
/* /metrics for operators: the daemon's own cost against /proc, the BPF programs' against bpftool, and per-execution gauges. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "wwd.h"

static char *scrape(struct wwd *d)
{
	char url[128], *text = NULL;

	snprintf(url, sizeof(url), "%s/metrics", d->url);
	CHECK(wwd_http("GET", url, NULL, NULL, &text) == 200 && text, "GET /metrics failed");
	return text;
}

/* The value of the sample "name{labels}" (exactly as printed, labels in order), NAN when absent. */
static double sample(const char *text, const char *series)
{
	size_t len = strlen(series);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, series, len) && line[len] == ' ')
			return strtod(line + len + 1, NULL);
	return NAN;
}

/* The value of family's sample of the running execution of agent, NAN when absent. */
static double of_agent(const char *text, const char *family, const char *agent)
{
	char want[128];
	size_t len = strlen(family);

	snprintf(want, sizeof(want), ",agent=\"%s\"} ", agent);
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *end = strchr(line, '\n'), *at = strstr(line, want);

		if (!strncmp(line, family, len) && line[len] == '{' && at && (!end || at < end))
			return strtod(at + strlen(want), NULL);
	}
	return NAN;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Fields 14 and 15 (utime, stime, in ticks) and 22 (starttime) of /proc/PID/stat. */
static bool proc_stat(int pid, unsigned long long *ticks, unsigned long long *start)
{
	char path[64], *text, *p;
	unsigned long long ut, st;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	text = wwd_read_file(path);
	p = text ? strrchr(text, ')') : NULL;
	ok = p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
			 &ut, &st, start) == 3;
	if (ok)
		*ticks = ut + st;
	free(text);
	return ok;
}

/* Entries of /proc/PID/fd, and whether one of them is the bpf-stats anon inode. */
static int count_fds(int pid, bool *stats_fd)
{
	char path[64], target[128], link[320];
	struct dirent *de;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	*stats_fd = false;
	while (dir && (de = readdir(dir))) {
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		n++;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = 0;
			*stats_fd |= strstr(target, "bpf-stats") != NULL;
		}
	}
	if (dir)
		closedir(dir);
	return n;
}

static unsigned long long boot_time(void)
{
	char *text = wwd_read_file("/proc/stat"), *b = text ? strstr(text, "\nbtime ") : NULL;
	unsigned long long v = b ? strtoull(b + 7, NULL, 10) : 0;

	free(text);
	return v;
}

/* run_time_ns and run_cnt of the daemon's own program name, from bpftool on the ids the daemon holds. */
static bool bpftool_prog(int pid, const char *name, double *run_ns, double *runs)
{
	char path[64], fdinfo[320], cmd[128];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct dirent *de;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	dir = opendir(path);
	while (dir && !found && (de = readdir(dir))) {
		char *text, *id;
		struct cmd_result r;
		cJSON *j;

		snprintf(fdinfo, sizeof(fdinfo), "%s/%s", path, de->d_name);
		text = wwd_read_file(fdinfo);
		id = text ? strstr(text, "prog_id:") : NULL;
		if (id) {
			snprintf(cmd, sizeof(cmd), "bpftool -j prog show id %lu", strtoul(id + 8, NULL, 10));
			if (!harness__run(argv, 10, &r) && r.exit_code == 0 && (j = cJSON_Parse(r.out))) {
				if (!strcmp(harness__str(j, "name") ?: "", name)) {
					const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "run_time_ns");
					const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "run_cnt");

					*run_ns = t ? t->valuedouble : 0;
					*runs = c ? c->valuedouble : 0;
					found = true;
				}
				cJSON_Delete(j);
			}
			harness__free_result(&r);
		}
		free(text);
	}
	if (dir)
		closedir(dir);
	return found;
}

/* Attaches a held worker running cmd as agent; its pid, the fifo that releases it in fifo. */
static int held(struct wwd *d, const char *agent, const char *cmd, const char *cgroup_procs, char *fifo, size_t size)
{
	char body[300], url[128], pidtext[16];
	int pid, status;

	snprintf(fifo, size, "%s/go-%s", d->dir, agent);
	pid = wwd_spawn_held(fifo, cmd);
	wwd_sleep_ms(100);
	if (cgroup_procs) {
		FILE *f = fopen(cgroup_procs, "w");

		snprintf(pidtext, sizeof(pidtext), "%d\n", pid);
		CHECK(f && fputs(pidtext, f) >= 0 && !fclose(f), "cannot move %d into %s", pid, cgroup_procs);
	}
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"metrics\", \"agent\": \"%s\"}", pid, agent);
	snprintf(url, sizeof(url), "%s/api/v1/executions", d->url);
	status = wwd_http("POST", url, body, d->token, NULL);
	CHECK(status == 201, "attaching %s answered %d", agent, status);
	return pid;
}

KERNEL_TEST(metrics_daemon_cost_and_bpf_statistics_match_proc_and_bpftool)
{
	static const char *const progs[] = { "ww_sys_enter", "ww_sys_exit", "ww_switch", "ww_fork", "ww_exit" };
	unsigned long long t0, t1, start;
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	double runs_before, v, bt_ns = 0, bt_runs = 0;
	char fifo[300], cmd[600], series[128], path[64];
	bool stats_fd;
	struct wwd d;
	char *m, *statm;
	int worker, fds;

	ASSERT(wwd_start(&d), "no daemon");
	/* nothing tracked: the programs are loaded, idle, and that is not a failure */
	m = scrape(&d);
	ASSERT(m, "no metrics");
	CHECK_EQ(sample(m, "workerwatch_probes_state{state=\"idle\"}"), 1);
	CHECK_EQ(sample(m, "workerwatch_probes_state{state=\"failed\"}"), 0);
	CHECK_EQ(sample(m, "workerwatch_probes_attached"), 0);
	CHECK_EQ(sample(m, "workerwatch_build_info{version=\"0.1.0\",libbpf=\"1.1\"}"), 1);
	free(m);

	/* the daemon's own figures against /proc, read around the scrape */
	ASSERT(proc_stat(d.pid, &t0, &start), "no /proc/%d/stat", d.pid);
	m = scrape(&d);
	ASSERT(m && proc_stat(d.pid, &t1, &start), "no metrics");
	v = sample(m, "process_cpu_seconds_total");
	/* /proc truncates user and system time to ticks each: up to two ticks under the sum */
	CHECK(v >= (double)t0 / hz - 0.001 && v <= (double)(t1 + 2) / hz + 0.001,
	      "process_cpu_seconds_total %.3f outside /proc's %.2f..%.2f", v, (double)t0 / hz, (double)t1 / hz);
	CHECK(fabs(sample(m, "workerwatch_daemon_cpu_seconds_total{mode=\"user\"}") +
		   sample(m, "workerwatch_daemon_cpu_seconds_total{mode=\"system\"}") - v) < 1e-6,
	      "user + system is not process_cpu_seconds_total");
	CHECK(fabs(sample(m, "process_start_time_seconds") - (boot_time() + (double)start / hz)) < 0.02,
	      "process_start_time_seconds %.2f, /proc says %.2f", sample(m, "process_start_time_seconds"),
	      boot_time() + (double)start / hz);
	snprintf(path, sizeof(path), "/proc/%d/statm", d.pid);
	statm = wwd_read_file(path);
	ASSERT(statm, "no statm");
	CHECK_NEAR(sample(m, "process_resident_memory_bytes"), strtod(strchr(statm, ' ') + 1, NULL) * page, 10);
	free(statm);
	fds = count_fds(d.pid, &stats_fd);
	/* the scrape's own connection may come and go around it */
	CHECK(fabs(sample(m, "process_open_fds") - fds) <= 3, "process_open_fds %.0f, /proc has %d",
	      sample(m, "process_open_fds"), fds);
	/* the kernel times the programs because the daemon holds a bpf-stats fd (bpf_stats 1 by default) */
	CHECK(stats_fd, "the daemon holds no bpf-stats fd");
	CHECK_EQ(sample(m, "workerwatch_bpf_stats_enabled"), 1);
	runs_before = sample(m, "workerwatch_bpf_program_runs_total{program=\"ww_sys_enter\"}");
	CHECK(!isnan(runs_before), "no run count for ww_sys_enter");
	free(m);

	/* 200,000 syscalls of a tracked worker: each one ran ww_sys_enter */
	snprintf(cmd, sizeof(cmd), "%s syscalls 200000", wwd_bin("wwload"));
	worker = held(&d, "caller", cmd, NULL, fifo, sizeof(fifo));
	m = scrape(&d);
	CHECK(m && sample(m, "workerwatch_probes_state{state=\"attached\"}") == 1, "not attached while tracking");
	free(m);
	wwd_release(fifo);
	CHECK(harness__wait(worker, 60) >= 0, "the worker did not end");
	for (int i = 0; i < 100; i++) {	/* until the execution ended and the programs went idle */
		m = scrape(&d);
		if (m && sample(m, "workerwatch_probes_state{state=\"idle\"}") == 1)
			break;
		free(m);
		m = NULL;
		wwd_sleep_ms(100);
	}
	ASSERT(m, "the programs never went idle");
	CHECK(sample(m, "workerwatch_bpf_program_runs_total{program=\"ww_sys_enter\"}") - runs_before >= 200000,
	      "ww_sys_enter ran %.0f times for 200000 syscalls",
	      sample(m, "workerwatch_bpf_program_runs_total{program=\"ww_sys_enter\"}") - runs_before);
	/* detached, the kernel's counters stand still: /metrics says exactly what bpftool says */
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		if (!CHECK(bpftool_prog(d.pid, progs[i], &bt_ns, &bt_runs), "bpftool does not show %s", progs[i]))
			continue;
		snprintf(series, sizeof(series), "workerwatch_bpf_program_runs_total{program=\"%s\"}", progs[i]);
		CHECK_EQ(sample(m, series), bt_runs);
		snprintf(series, sizeof(series), "workerwatch_bpf_program_run_seconds_total{program=\"%s\"}", progs[i]);
		CHECK(fabs(sample(m, series) - bt_ns / 1e9) < 1e-9, "%s: %.9f s, bpftool %.0f ns", progs[i],
		      sample(m, series), bt_ns);
		CHECK(bt_runs > 0 && bt_ns > 0, "%s never ran with statistics on", progs[i]);
	}
	free(m);
	wwd_stop(&d, SIGTERM);

	/* --bpf-stats 0: no fd, and the kernel's switch is not ours to turn */
	{
		char cfg[300];
		FILE *f;

		snprintf(cfg, sizeof(cfg), "%s/nostats.json", harness__tmpdir());
		f = fopen(cfg, "w");
		ASSERT(f, "cannot write %s", cfg);
		fputs("{\"bpf_stats\": 0}\n", f);
		fclose(f);
		ASSERT(wwd_start_opts(&d, cfg), "no daemon with bpf_stats 0");
		count_fds(d.pid, &stats_fd);
		CHECK(!stats_fd, "bpf_stats 0, yet the daemon holds a bpf-stats fd");
		wwd_stop(&d, SIGTERM);
	}
}

KERNEL_TEST(metrics_running_execution_limit_blocked_and_peak_match_the_worker)
{
	char cg[200], procs[260], limit_file[260], fifo[2][300], cmd[600], truth[300];
	double v1, v2, t1, t2, peak, limit;
	bool have_cg;
	struct wwd d;
	cJSON *j = NULL;
	char *m = NULL;
	int sleeper, hog;

	ASSERT(wwd_start(&d), "no daemon");
	/* a memory cgroup (v1, as this host has it) limited to 256 MiB */
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/memory/ww_metrics_%d", getpid());
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	snprintf(limit_file, sizeof(limit_file), "%s/memory.limit_in_bytes", cg);
	have_cg = !mkdir(cg, 0755);
	if (have_cg) {
		FILE *f = fopen(limit_file, "w");

		have_cg = f && fputs("268435456\n", f) >= 0 && !fclose(f);
	}
	CHECK(have_cg || access("/sys/fs/cgroup/memory", F_OK), "cannot make a v1 memory cgroup: %s", strerror(errno));

	/* a worker that sleeps inside one syscall, in the cgroup */
	sleeper = held(&d, "sleeper", "/bin/sleep 30", have_cg ? procs : NULL, fifo[0], sizeof(fifo[0]));
	wwd_release(fifo[0]);
	/* a worker that holds 64 MiB for 3 s */
	snprintf(truth, sizeof(truth), "%s/hog.json", d.dir);
	snprintf(cmd, sizeof(cmd), "%s --out %s --hold 3000 mem 64", wwd_bin("wwload"), truth);
	hog = held(&d, "hog", cmd, NULL, fifo[1], sizeof(fifo[1]));
	wwd_release(fifo[1]);

	/* until the hog touched its 64 MiB */
	for (int i = 0; i < 100; i++) {
		free(m);
		m = scrape(&d);
		if (m && of_agent(m, "workerwatch_running_execution_peak_rss_bytes", "hog") >= 64.0 * (1 << 20))
			break;
		wwd_sleep_ms(50);
	}
	ASSERT(m, "no metrics");
	peak = of_agent(m, "workerwatch_running_execution_peak_rss_bytes", "hog");
	CHECK(peak >= 64.0 * (1 << 20), "the hog's peak RSS is %.0f", peak);
	t1 = mono_s();
	v1 = of_agent(m, "workerwatch_running_execution_syscall_blocked_seconds", "sleeper");
	limit = of_agent(m, "workerwatch_running_execution_memory_limit_bytes", "sleeper");
	if (have_cg)
		CHECK_EQ(limit, 268435456);
	free(m);
	wwd_sleep_ms(1000);
	m = scrape(&d);
	t2 = mono_s();
	v2 = of_agent(m, "workerwatch_running_execution_syscall_blocked_seconds", "sleeper");
	/* inside nanosleep the whole time: the gauge grows with the clock */
	CHECK(v1 > 0.05 && fabs((v2 - v1) - (t2 - t1)) < 0.25, "blocked %.2f s then %.2f s, %.2f s apart", v1, v2, t2 - t1);
	free(m);

	/* the hog's own getrusage bounds what the kernel saw */
	CHECK(harness__wait(hog, 30) >= 0, "the hog did not end");
	j = harness__read_json(truth);
	if (j)
		CHECK(peak <= harness__num(j, "maxrss_bytes") * 1.05, "peak %.0f over the hog's own maxrss %.0f", peak,
		      harness__num(j, "maxrss_bytes"));
	cJSON_Delete(j);
	kill(sleeper, SIGKILL);
	harness__wait(sleeper, 10);

	/* 200 MiB in a 48 MiB cgroup: the OOM killer, counted per agent as the kernel counts it */
	if (have_cg) {
		char oom_cg[240], oom_procs[300], file[300], *ctl, *k;
		int status, oomer;
		FILE *f;
		char *m2;

		snprintf(oom_cg, sizeof(oom_cg), "%s/oom", cg);
		snprintf(oom_procs, sizeof(oom_procs), "%s/cgroup.procs", oom_cg);
		snprintf(file, sizeof(file), "%s/memory.limit_in_bytes", oom_cg);
		ASSERT(!mkdir(oom_cg, 0755) && (f = fopen(file, "w")) && fputs("48M\n", f) >= 0 && !fclose(f),
		       "cannot make a 48 MiB cgroup");
		snprintf(cmd, sizeof(cmd), "%s mem 200", wwd_bin("wwload"));
		oomer = held(&d, "oomer", cmd, oom_procs, fifo[0], sizeof(fifo[0]));
		wwd_release(fifo[0]);
		status = harness__wait(oomer, 30);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the worker was not OOM-killed: %d", status);
		snprintf(file, sizeof(file), "%s/memory.oom_control", oom_cg);
		ctl = wwd_read_file(file);
		k = ctl ? strstr(ctl, "oom_kill ") : NULL;
		ASSERT(k, "no oom_kill count in %s", file);
		for (int i = 0; i < 50; i++) {	/* the mark_victim event travels through the ring buffer */
			m2 = scrape(&d);
			if (m2 && sample(m2, "workerwatch_oom_kills_total{agent=\"oomer\"}") == strtod(k + 9, NULL))
				break;
			free(m2);
			m2 = NULL;
			wwd_sleep_ms(100);
		}
		CHECK(m2 != NULL, "workerwatch_oom_kills_total{agent=\"oomer\"} is not the cgroup's oom_kill %.0f",
		      strtod(k + 9, NULL));
		CHECK(strtod(k + 9, NULL) >= 1, "the cgroup counted no OOM kill");
		free(m2);
		free(ctl);
		for (int i = 0; i < 50 && rmdir(oom_cg) && errno == EBUSY; i++)
			wwd_sleep_ms(100);
	}
	wwd_stop(&d, SIGTERM);
	for (int i = 0; have_cg && i < 50 && rmdir(cg) && errno == EBUSY; i++)
		wwd_sleep_ms(100);
}
