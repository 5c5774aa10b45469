// SPDX-License-Identifier: MIT
/*
 * Kernel integration tests: real workloads under `workerwatch run` on the
 * real kernel, compared with the ground truth the workload measures itself.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"

#define MS 1000000.0

struct tracked_run {
	struct cmd_result res;
	cJSON *report;		/* workerwatch's --json */
	cJSON *truth;		/* wwload's own report */
};

/* workerwatch run --json R -- wwload --out T ARGS... */
static bool run_tracked(struct tracked_run *r, const char *const *args)
{
	char ww[512], load[512], json[512], truth[512];
	char *argv[32];
	int n = 0;

	snprintf(ww, sizeof(ww), "%s/workerwatch", harness__bin());
	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	snprintf(json, sizeof(json), "%s", harness__tmp("report.json"));
	snprintf(truth, sizeof(truth), "%s", harness__tmp("truth.json"));
	argv[n++] = ww;
	argv[n++] = "run";
	argv[n++] = "--json";
	argv[n++] = json;
	argv[n++] = "--";
	argv[n++] = load;
	argv[n++] = "--out";
	argv[n++] = truth;
	while (*args && n < 31)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;

	memset(r, 0, sizeof(*r));
	if (harness__run(argv, 120, &r->res))
		return CHECK(false, "cannot run workerwatch");
	if (!CHECK(r->res.exit_code == 0, "workerwatch run exited %d:\n%s", r->res.exit_code, r->res.err))
		return false;
	r->report = harness__read_json(json);
	r->truth = harness__read_json(truth);
	if (!r->report || !r->truth)
		return false;
	CHECK_EQ(harness__num(r->report, "schema"), 1);
	CHECK_EQ(harness__num(r->report, "observer.lost_events"), 0);
	CHECK_STR(harness__str(r->report, "execution.status"), "completed");
	return true;
}

static void free_run(struct tracked_run *r)
{
	cJSON_Delete(r->report);
	cJSON_Delete(r->truth);
	harness__free_result(&r->res);
}

KERNEL_TEST(cpu_of_a_forked_tree_matches_getrusage)
{
	const char *args[] = { "cpu", "400", "--children", "2", "--threads", "1", NULL };
	struct tracked_run r;

	if (run_tracked(&r, args)) {
		double on_cpu = harness__num(r.report, "cpu.on_cpu_ns");
		double truth = harness__num(r.truth, "cpu_ns");

		CHECK(truth >= 6 * 400 * MS * 0.95, "workload burned only %.0f ns", truth);
		CHECK_NEAR(on_cpu, truth, 3);
		CHECK_EQ(cJSON_GetArraySize(harness__get(r.report, "processes")), 3);
		CHECK(harness__num(r.report, "cpu.voluntary_switches") >= harness__num(r.truth, "nvcsw"),
		      "fewer voluntary switches than getrusage counts");
		CHECK(harness__num(r.report, "cpu.runqueue_latency.count") > 0, "empty run-queue histogram");
	}
	free_run(&r);
}

KERNEL_TEST(peak_rss_of_200mb_matches_maxrss)
{
	const char *args[] = { "mem", "200", NULL };
	struct tracked_run r;

	if (run_tracked(&r, args)) {
		double truth = harness__num(r.truth, "maxrss_bytes");

		CHECK(truth >= 200.0 * 1024 * 1024, "workload peaked at only %.0f bytes", truth);
		CHECK_NEAR(harness__num(r.report, "memory.peak_rss_bytes"), truth, 5);
		CHECK_NEAR(harness__num(r.report, "memory.max_process_rss_bytes"), truth, 1);
		CHECK_NEAR(harness__num(r.report, "memory.peak_rss_split.anon_bytes"), 200.0 * 1024 * 1024, 5);
		CHECK_NEAR(harness__num(r.report, "memory.minor_faults"), harness__num(r.truth, "minflt"), 3);
	}
	free_run(&r);
}

KERNEL_TEST(exact_syscall_count)
{
	const char *args[] = { "syscalls", "20000", NULL };
	struct tracked_run r;

	if (run_tracked(&r, args)) {
		CHECK_EQ(harness__num(r.report, "syscalls.by_name.getppid.count"), 20000);
		CHECK_EQ(harness__num(r.report, "syscalls.by_name.getppid.errors"), 0);
		CHECK(harness__num(r.report, "syscalls.total") > 20000, "total misses the other syscalls");
	}
	free_run(&r);
}

KERNEL_TEST(sleep_latency_percentiles_bracket_the_requested_sleep)
{
	const char *args[] = { "sleep", "10", "50", NULL };
	struct tracked_run r;

	if (run_tracked(&r, args)) {
		const cJSON *s = harness__get(r.report, "syscalls.by_name.clock_nanosleep");
		double p50 = harness__num(s, "p50_ns"), p90 = harness__num(s, "p90_ns");
		double p99 = harness__num(s, "p99_ns"), max = harness__num(s, "max_ns");

		CHECK_EQ(harness__num(s, "count"), 50);
		CHECK(10 * MS <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max,
		      "not 10 ms <= p50 %.0f <= p90 %.0f <= p99 %.0f <= max %.0f", p50, p90, p99, max);
		CHECK(p50 <= 12 * MS, "p50 %.0f ns is far above the 10 ms asked", p50);
		CHECK_NEAR(harness__num(s, "total_ns"), 50 * p50, 20);
	}
	free_run(&r);
}

/* Starts an untracked sink; returns its pid and the port it listens on. */
static int start_sink(const char *proto, const char *expect, int *port)
{
	char load[512], port_file[512], out[512];
	char *argv[] = { load, "--out", out, "sink", (char *)proto, "--port-file", port_file,
			 "--expect", (char *)expect, "--timeout-ms", "20000", NULL };
	int pid;

	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	snprintf(port_file, sizeof(port_file), "%s", harness__tmp("port"));
	snprintf(out, sizeof(out), "%s", harness__tmp("sink.json"));
	if (!strcmp(proto, "tcp"))
		argv[7] = NULL;	/* tcp reads to EOF */
	unlink(port_file);
	pid = harness__spawn(argv, harness__tmp("sink.log"));
	if (!CHECK(harness__wait_file(port_file, 5000), "sink did not start"))
		return -1;
	*port = (int)harness__read_long(port_file);
	return pid;
}

static void check_bytes_over(const char *proto, const char *bytes)
{
	char port_s[16], key[64];
	struct tracked_run r;
	int port, sink, status;
	const char *args[] = { NULL, port_s, bytes, NULL };
	char mode[16];
	cJSON *sink_report;

	sink = start_sink(proto, bytes, &port);
	if (sink < 0)
		return;
	snprintf(mode, sizeof(mode), "%s-send", proto);
	args[0] = mode;
	snprintf(port_s, sizeof(port_s), "%d", port);
	if (run_tracked(&r, args)) {
		double sent = harness__num(r.truth, "sent_bytes");

		CHECK_EQ(sent, strtoull(bytes, NULL, 10));
		snprintf(key, sizeof(key), "network.%s.sent_bytes", proto);
		CHECK_EQ(harness__num(r.report, key), sent);
		/* the receiver is not tracked: nothing it read may be counted */
		snprintf(key, sizeof(key), "network.%s.recv_bytes", proto);
		CHECK_EQ(harness__num(r.report, key), 0);
		if (!strcmp(proto, "tcp")) {
			CHECK_EQ(harness__num(r.report, "network.connects"), 1);
			CHECK_EQ(harness__num(r.report, "network.connects_failed"), 0);
			CHECK(harness__num(r.report, "network.connect_latency_max_ns") > 0,
			      "no connect latency");
		}
	}
	status = harness__wait(sink, 30);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sink failed: status %d", status);
	sink_report = harness__read_json(harness__tmp("sink.json"));
	if (sink_report && r.truth)
		CHECK_EQ(harness__num(sink_report, "recv_bytes"), harness__num(r.truth, "sent_bytes"));
	cJSON_Delete(sink_report);
	free_run(&r);
}

KERNEL_TEST(exact_tcp_bytes_to_an_untracked_receiver)
{
	check_bytes_over("tcp", "5000000");
}

KERNEL_TEST(exact_udp_bytes_to_an_untracked_receiver)
{
	check_bytes_over("udp", "300000");
}

KERNEL_TEST(fork_storm_loses_no_process_and_no_event)
{
	const char *args[] = { "tree", "3", "6", NULL };
	struct tracked_run r;

	if (run_tracked(&r, args)) {
		const cJSON *procs = harness__get(r.report, "processes"), *p;
		int exited = 0;

		CHECK_EQ(cJSON_GetArraySize(procs), harness__num(r.truth, "processes"));
		cJSON_ArrayForEach(p, procs)
			exited += cJSON_IsFalse(cJSON_GetObjectItem(p, "running"));
		CHECK_EQ(exited, harness__num(r.truth, "processes"));
		CHECK_NEAR(harness__num(r.report, "cpu.on_cpu_ns"), harness__num(r.truth, "cpu_ns"), 3);
	}
	free_run(&r);
}

KERNEL_TEST(each_slow_syscall_is_reported)
{
	char ww[512], load[512];
	const char *json = harness__tmp("r.json");
	const cJSON *ev;
	struct cmd_result r;
	cJSON *rep;
	int n = 0;

	snprintf(ww, sizeof(ww), "%s/workerwatch", harness__bin());
	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	harness__run((char *[]){ ww, "run", "--slow-syscall", "50", "--json", (char *)json, "--",
				 load, "sleep", "120", "2", NULL }, 30, &r);
	CHECK(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	CHECK(strstr(r.err, "Syscalls slower than 0.050 s") != NULL, "not in the text report");
	rep = harness__read_json(json);
	CHECK_EQ(harness__num(rep, "slow_syscalls.threshold_ns"), 50 * MS);
	cJSON_ArrayForEach(ev, harness__get(rep, "slow_syscalls.events")) {
		n++;
		CHECK_STR(harness__str(ev, "syscall"), "clock_nanosleep");
		CHECK(harness__num(ev, "duration_ns") >= 120 * MS, "slow event shorter than the sleep");
		CHECK_EQ(harness__num(ev, "ret"), 0);
	}
	CHECK_EQ(n, 2);
	cJSON_Delete(rep);
	harness__free_result(&r);
}

/* A worker that outgrows its memory cgroup (v1) is killed by the OOM killer, and the report says so. */
KERNEL_TEST(oom_kill_in_a_memory_cgroup_is_explained)
{
	char ww[512], load[512], cg[256], script[1024];
	const char *json = harness__tmp("r.json");
	struct cmd_result r;
	cJSON *rep;
	FILE *f;

	snprintf(ww, sizeof(ww), "%s/workerwatch", harness__bin());
	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/memory/ww_test_oom_%d", getpid());
	ASSERT(access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0,
	       "no cgroup v1 memory controller at /sys/fs/cgroup/memory");
	ASSERT(mkdir(cg, 0755) == 0 || errno == EEXIST, "cannot create %s: %s", cg, strerror(errno));
	snprintf(script, sizeof(script), "%s/memory.limit_in_bytes", cg);
	f = fopen(script, "w");
	ASSERT(f && fputs("67108864", f) >= 0 && fclose(f) == 0, "cannot set the memory limit");

	snprintf(script, sizeof(script), "echo $$ > %s/cgroup.procs && exec %s mem 200", cg, load);
	harness__run((char *[]){ ww, "run", "--json", (char *)json, "--", "/bin/sh", "-c", script, NULL },
		     60, &r);
	CHECK(r.exit_code == 128 + SIGKILL, "exit %d, wanted 137: %s", r.exit_code, r.err);
	rep = harness__read_json(json);
	CHECK_STR(harness__str(rep, "execution.failure.category"), "oom");
	CHECK_EQ(harness__num(rep, "execution.signal"), SIGKILL);
	CHECK_EQ(harness__num(rep, "execution.failure.evidence.oom_victims"), 1);
	/* the kernel killed it, not itself: its own allocation ran the OOM killer in its own cgroup */
	CHECK(!harness__get(rep, "execution.failure.evidence.sender_pid"), "the victim is named as the sender");
	CHECK_STR(harness__str(rep, "execution.failure.evidence.oom_kill.killer"), "kernel OOM killer");
	CHECK_EQ(harness__num(rep, "execution.failure.evidence.oom_kill.trigger_pid"), harness__num(rep, "execution.pid"));
	CHECK_STR(harness__str(rep, "execution.failure.evidence.oom_kill.trigger_comm"), "wwload");
	CHECK_STR(harness__str(rep, "execution.failure.evidence.oom_kill.victim_memory_cgroup"), cg + strlen("/sys/fs/cgroup/memory"));
	CHECK(harness__num(rep, "memory.peak_rss_bytes") <= 67108864.0 * 1.05,
	      "peak RSS above the cgroup limit");
	CHECK_EQ(harness__num(rep, "observer.lost_events"), 0);
	cJSON_Delete(rep);
	harness__free_result(&r);
	CHECK(rmdir(cg) == 0, "cannot remove %s: %s", cg, strerror(errno));
}

/* workerwatch run --json R -- argv...: the report, or NULL (a recorded failure). */
static cJSON *run_report(char *const *cmd, int want_exit)
{
	char ww[512], json[512];
	char *argv[40];
	struct cmd_result r;
	cJSON *rep = NULL;
	int n = 0;

	snprintf(ww, sizeof(ww), "%s/workerwatch", harness__bin());
	snprintf(json, sizeof(json), "%s", harness__tmp("report.json"));
	argv[n++] = ww;
	argv[n++] = "run";
	argv[n++] = "--json";
	argv[n++] = json;
	argv[n++] = "--";
	while (*cmd && n < 39)
		argv[n++] = *cmd++;
	argv[n] = NULL;
	if (harness__run(argv, 120, &r))
		return CHECK(false, "cannot run workerwatch"), NULL;
	if (CHECK(r.exit_code == want_exit, "workerwatch run exited %d, not %d:\n%s", r.exit_code, want_exit, r.err))
		rep = harness__read_json(json);
	harness__free_result(&r);
	if (rep)
		CHECK_EQ(harness__num(rep, "observer.lost_events"), 0);
	return rep;
}

/*
 * Every process's own figures add up to the tree's: CPU to its last
 * instruction (within 0.5%), faults and switches exactly; none is left at 0.
 */
static void check_processes_add_up(const cJSON *rep, const char *what)
{
	static const struct { const char *proc, *tree; double pct; } sums[] = {
		{ "on_cpu_ns", "cpu.on_cpu_ns", 0.5 },
		{ "minor_faults", "memory.minor_faults", 0 },
		{ "major_faults", "memory.major_faults", 0 },
		{ "voluntary_switches", "cpu.voluntary_switches", 0 },
		{ "involuntary_switches", "cpu.involuntary_switches", 0 },
	};
	const cJSON *procs = harness__get(rep, "processes"), *p;

	for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]); i++) {
		double sum = 0, total = harness__num(rep, sums[i].tree);

		cJSON_ArrayForEach(p, procs)
			sum += harness__num(p, sums[i].proc);
		CHECK(harness__near(sum, total, sums[i].pct), "%s: processes' %s add up to %.0f, the tree's to %.0f",
		      what, sums[i].proc, sum, total);
	}
	cJSON_ArrayForEach(p, procs) {
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(p, "final")), "%s: pid %.0f (%s) has no final figures", what,
		      harness__num(p, "pid"), harness__str(p, "comm"));
		CHECK(harness__num(p, "on_cpu_ns") > 0, "%s: pid %.0f (%s) ran 0 ns", what, harness__num(p, "pid"),
		      harness__str(p, "comm"));
	}
}

KERNEL_TEST(per_process_figures_add_up_to_the_tree)
{
	char load[512];
	char *subshell[] = { "/bin/bash", "-c", "( /bin/true ); exit 0", NULL };
	char *execs[] = { "/bin/sh", "-c", "i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done", NULL };
	char *threads[] = { load, "cpu", "100", "--children", "2", "--threads", "2", NULL };
	char *forks[] = { load, "tree", "3", "6", NULL };
	const cJSON *p;
	cJSON *rep;
	int trues;

	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	rep = run_report(subshell, 0);
	if (rep) {
		check_processes_add_up(rep, "( /bin/true )");
		trues = 0;
		cJSON_ArrayForEach(p, harness__get(rep, "processes"))
			trues += !strcmp(harness__str(p, "comm"), "true");
		CHECK_EQ(trues, 1);
	}
	cJSON_Delete(rep);
	rep = run_report(execs, 0);
	if (rep) {
		check_processes_add_up(rep, "exec storm");
		CHECK_EQ(cJSON_GetArraySize(harness__get(rep, "processes")), 301);
	}
	cJSON_Delete(rep);
	rep = run_report(threads, 0);
	if (rep)
		check_processes_add_up(rep, "threads");
	cJSON_Delete(rep);
	rep = run_report(forks, 0);
	if (rep)
		check_processes_add_up(rep, "fork tree");
	cJSON_Delete(rep);
}

/*
 * A process's switches, faults and ru_maxrss are what its parent's wait4
 * gets (GNU time reports them), threads included; the held root's
 * ru_maxrss is its own image's (VmHWM), not workerwatch's copy before exec.
 */
KERNEL_TEST(per_process_counters_match_wait4)
{
	char load[512], timed[512], truth[512];
	char *cmd[] = { "/usr/bin/time", "-o", timed, "-f", "%w %c %R %F %M", load, "cpu", "200", "--threads", "2",
			"--children", "1", NULL };
	char *small[] = { load, "--out", truth, "syscalls", "10", NULL };
	long nvcsw, nivcsw, minflt, majflt, maxrss_kib, page = sysconf(_SC_PAGESIZE);
	double mine[5] = {}, slack;
	const cJSON *p;
	cJSON *rep, *t;
	FILE *f;

	ASSERT(access("/usr/bin/time", X_OK) == 0, "GNU time is not installed (tools/setup.sh test)");
	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	snprintf(timed, sizeof(timed), "%s", harness__tmp("time.txt"));
	snprintf(truth, sizeof(truth), "%s", harness__tmp("truth.json"));
	rep = run_report(cmd, 0);
	f = fopen(timed, "r");
	ASSERT(f, "no GNU time output");
	CHECK(fscanf(f, "%ld %ld %ld %ld %ld", &nvcsw, &nivcsw, &minflt, &majflt, &maxrss_kib) == 5, "bad time output");
	fclose(f);
	if (rep) {
		/* wait4 of wwload covers it and its child: every process but time itself */
		cJSON_ArrayForEach(p, harness__get(rep, "processes")) {
			if (!strcmp(harness__str(p, "comm"), "time"))
				continue;
			mine[0] += harness__num(p, "voluntary_switches");
			mine[1] += harness__num(p, "involuntary_switches");
			mine[2] += harness__num(p, "minor_faults");
			mine[3] += harness__num(p, "major_faults");
			/* wait4's ru_maxrss: the largest of the process and its waited-for children */
			if (harness__num(p, "max_rss_bytes") > mine[4])
				mine[4] = harness__num(p, "max_rss_bytes");
		}
		CHECK_EQ(mine[4], maxrss_kib * 1024);
		CHECK_EQ(mine[0], nvcsw);
		CHECK_EQ(mine[1], nivcsw);
		CHECK_EQ(mine[2], minflt);
		CHECK_EQ(mine[3], majflt);
		CHECK_EQ(harness__num(rep, "syscalls.by_name.exit_group.count"), 3);
	}
	cJSON_Delete(rep);

	rep = run_report(small, 0);
	t = harness__read_json(truth);
	if (rep && t) {
		double ours = harness__num(rep, "memory.max_process_rss_bytes"), hwm = harness__num(t, "vmhwm_bytes");

		/* the mm counters are per-CPU, folded in batches of up to 32 pages per CPU */
		slack = 32.0 * page * sysconf(_SC_NPROCESSORS_CONF);
		CHECK(ours >= hwm - slack && ours <= hwm + slack, "max_process_rss %.0f, VmHWM %.0f", ours, hwm);
		CHECK(harness__num(t, "maxrss_bytes") > hwm + slack,
		      "getrusage %.0f does not show the held copy, so this test proves nothing",
		      harness__num(t, "maxrss_bytes"));
	}
	cJSON_Delete(rep);
	cJSON_Delete(t);
}

/* exit and exit_group never return: counted all the same, as perf counts them, with no latency. */
KERNEL_TEST(syscalls_that_never_return_are_counted)
{
	char load[512], truth[512];
	char *cmd[] = { load, "--out", truth, "cpu", "50", "--children", "2", "--threads", "2", NULL };
	char *perf_cmd[] = { "perf", "stat", "-x,", "-o", NULL, "-e",
			     "syscalls:sys_enter_exit_group,syscalls:sys_enter_exit", load, "cpu", "50", "--children", "2",
			     "--threads", "2", NULL };
	char perf_out[512], line[512];
	double perf_group = -1, perf_exit = -1, v;
	struct cmd_result pr;
	cJSON *rep, *t;
	FILE *f;

	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	snprintf(truth, sizeof(truth), "%s", harness__tmp("truth.json"));
	rep = run_report(cmd, 0);
	t = harness__read_json(truth);
	if (rep && t) {
		double procs = harness__num(t, "processes"), per = harness__num(t, "threads_per_process");

		CHECK_EQ(procs, 3);
		CHECK_EQ(harness__num(rep, "syscalls.by_name.exit_group.count"), procs);
		CHECK_EQ(harness__num(rep, "syscalls.by_name.exit.count"), procs * (per - 1));
		CHECK_EQ(harness__num(rep, "syscalls.by_name.exit_group.max_ns"), 0);
		CHECK_EQ(harness__num(rep, "syscalls.by_name.exit_group.p99_ns"), 0);
	}
	/* perf, where it works, counts the same tree the same way */
	snprintf(perf_out, sizeof(perf_out), "%s", harness__tmp("perf.csv"));
	perf_cmd[4] = perf_out;
	if (rep && !harness__run(perf_cmd, 60, &pr) && pr.exit_code == 0 && (f = fopen(perf_out, "r"))) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%lf,", &v) == 1)
				*(strstr(line, "sys_enter_exit_group") ? &perf_group : &perf_exit) = v;
		fclose(f);
		CHECK_EQ(harness__num(rep, "syscalls.by_name.exit_group.count"), perf_group);
		CHECK_EQ(harness__num(rep, "syscalls.by_name.exit.count"), perf_exit);
	}
	if (rep)
		harness__free_result(&pr);
	cJSON_Delete(rep);
	cJSON_Delete(t);
}

/* Only opens that created their file count as created: 100 redirections to /dev/null create nothing. */
KERNEL_TEST(files_created_are_real_creations)
{
	char dir[256], script[4096];
	char *cmd[] = { "/bin/sh", "-c", script, NULL };
	cJSON *rep;

	snprintf(dir, sizeof(dir), "%s", harness__tmpdir());
	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt 100 ]; do echo x 2>/dev/null >/dev/null; i=$((i+1)); done; "
		 "echo a > %s/one; echo b > %s/one; : > %s/two; exec 3>%s/three; echo c >> %s/one",
		 dir, dir, dir, dir, dir);
	rep = run_report(cmd, 0);
	if (rep) {
		CHECK_EQ(harness__num(rep, "files.created"), 3);
		/* 200 redirections, one/one/two/three and the append */
		CHECK_EQ(harness__num(rep, "files.opened_for_writing"), 205);
	}
	cJSON_Delete(rep);
}

/*
 * Five processes hold the same 64 MiB shared mapping: the sum of their RSS
 * counts it five times, a memory cgroup (v1) that holds only them once; the
 * tree's peak_memory_bytes matches the cgroup's peak.
 */
KERNEL_TEST(peak_memory_counts_a_shared_mapping_once)
{
	char load[512], cg[256], path[512], script[1024];
	char *cmd[] = { "/bin/sh", "-c", script, NULL };
	double cg_peak, ours, sum;
	cJSON *rep;

	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
	snprintf(cg, sizeof(cg), "/sys/fs/cgroup/memory/ww_test_shared_%d", getpid());
	ASSERT(access("/sys/fs/cgroup/memory/memory.max_usage_in_bytes", F_OK) == 0,
	       "no cgroup v1 memory controller at /sys/fs/cgroup/memory");
	ASSERT(mkdir(cg, 0755) == 0 || errno == EEXIST, "cannot create %s: %s", cg, strerror(errno));
	snprintf(script, sizeof(script), "echo $$ > %s/cgroup.procs && exec %s shared 64 4 --hold 200", cg, load);
	rep = run_report(cmd, 0);
	snprintf(path, sizeof(path), "%s/memory.max_usage_in_bytes", cg);
	cg_peak = (double)harness__read_long(path);
	if (rep) {
		ours = harness__num(rep, "memory.peak_memory_bytes");
		sum = harness__num(rep, "memory.peak_rss_bytes");
		CHECK(cg_peak >= 64.0 * 1024 * 1024, "the cgroup peaked at only %.0f bytes", cg_peak);
		CHECK(sum >= 4.5 * 64 * 1024 * 1024, "the RSS sum %.0f does not count the mapping per process", sum);
		CHECK_NEAR(ours, cg_peak, 10);
	}
	cJSON_Delete(rep);
	/* the cgroup is empty once its processes exited; rmdir then succeeds */
	CHECK(rmdir(cg) == 0, "cannot remove %s: %s", cg, strerror(errno));
}
