// SPDX-License-Identifier: MIT
/* Real orchestrators nobody here wrote, with zero integration: GNU make, GNU parallel, xargs, Python pools, a watched runner. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "wwd.h"

#define PYTHON "/usr/bin/python3"	/* Debian's, whatever a user's PATH prefers */

/* d's API with its token. */
static int api(struct wwd *d, const char *method, const char *path, const char *body, cJSON **json)
{
	return wwd_api(d, method, path, body, true, json);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!CHECK(f, "cannot write %s: %s", path, strerror(errno)))
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A daemon whose alert rules are evaluated every second, so a failure-rate alert would show at once. */
static bool start_daemon(struct wwd *d)
{
	const char *config = harness__tmp("config.json");

	write_file(config, "{\"evaluation_interval\": \"1s\"}\n", 0600);
	return wwd_start_opts(d, config);
}

/* The executions of a session once none runs (and there are at least want), newest first. */
static cJSON *session_executions(struct wwd *d, const char *session, int want)
{
	char path[300];
	cJSON *j = NULL, *e;

	snprintf(path, sizeof(path), "/api/v1/executions?session=%s&limit=1000", session);
	for (int i = 0; i < 300; i++) {
		int running = 0;

		cJSON_Delete(j);
		j = NULL;
		if (api(d, "GET", path, NULL, &j) == 200 && cJSON_GetArraySize(j) >= want) {
			cJSON_ArrayForEach(e, j)
				running += !strcmp(harness__str(e, "status") ?: "", "running");
			if (!running)
				return j;
		}
		wwd_sleep_ms(100);
	}
	return j;
}

static double metric(struct wwd *d, const char *name)
{
	char url[300], *text = NULL, *line;
	double v = -1;

	snprintf(url, sizeof(url), "%s/metrics", d->url);
	if (wwd_http("GET", url, NULL, d->token, &text) == 200)
		for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
			if (!strncmp(line, name, strlen(name)) && line[strlen(name)] == ' ')
				v = atof(line + strlen(name) + 1);
	free(text);
	return v;
}

/*
 * After two more evaluations of the alert rules than now, no
 * AgentHighFailureRate alert exists, in any state: the jobs' outcomes did
 * not look like a failing agent.
 */
static void check_no_failure_rate_alert(struct wwd *d)
{
	double start = metric(d, "workerwatch_alert_evaluations_total");
	cJSON *alerts = NULL, *a;
	int evaluated = 0;

	for (int i = 0; i < 100 && metric(d, "workerwatch_alert_evaluations_total") < start + 2; i++)
		wwd_sleep_ms(100);
	evaluated = metric(d, "workerwatch_alert_evaluations_total") >= start + 2;
	CHECK(evaluated, "the alert rules were not evaluated twice in 10 s");
	ASSERT(api(d, "GET", "/api/v1/alerts", NULL, &alerts) == 200, "GET /api/v1/alerts failed");
	cJSON_ArrayForEach(a, alerts)
		CHECK(strcmp(harness__str(a, "alertname") ?: "", "AgentHighFailureRate"),
		      "AgentHighFailureRate fired for agent %s", harness__str(a, "labels.agent"));
	cJSON_Delete(alerts);
}

/* workerwatch run --orchestrator ... -- argv, registered with d through the environment; its exit code. */
static int run_orchestrator(struct wwd *d, char *const *opts, char *const *cmd, const char *cwd, struct cmd_result *r)
{
	char url[128], token[400], bin[4096], *argv[48];
	char script[4096];
	int n = 0;

	if (!realpath(wwd_bin("workerwatch"), bin))
		snprintf(bin, sizeof(bin), "%s", wwd_bin("workerwatch"));

	snprintf(url, sizeof(url), "WORKERWATCH_URL=%s", d->url);
	snprintf(token, sizeof(token), "WORKERWATCH_TOKEN_FILE=%s", d->token);
	argv[n++] = "/usr/bin/env";
	argv[n++] = url;
	argv[n++] = token;
	if (cwd) {
		/* run in cwd: through a shell that changes there first */
		snprintf(script, sizeof(script), "cd '%s' && exec \"$@\"", cwd);
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = script;
		argv[n++] = "sh";
	}
	argv[n++] = bin;
	argv[n++] = "run";
	argv[n++] = "--orchestrator";
	for (; *opts && n < 40; opts++)
		argv[n++] = *opts;
	argv[n++] = "--";
	for (; *cmd && n < 47; cmd++)
		argv[n++] = *cmd;
	argv[n] = NULL;
	harness__run(argv, 180, r);
	return r->exit_code;
}

/* Whether want (NULL-terminated) and got[0..n) hold the same names, each once. */
static bool same_set(const char *const *want, char got[][64], int n)
{
	int count = 0;

	for (const char *const *w = want; *w; w++) {
		int hits = 0;

		for (int i = 0; i < n; i++)
			hits += !strcmp(got[i], *w);
		if (hits != 1)
			return false;
		count++;
	}
	return count == n;
}

/*
 * GNU make -j2 of a multi-file build: the jobs are the compiler runs (seven
 * compiles and the link), found at any depth (make runs each recipe through
 * /bin/sh), each with the compiler's own processes (cc1, as; collect2, ld).
 */
KERNEL_TEST(make_j2_jobs_are_the_compiler_runs)
{
	static const char *const units[] = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta" };
	static const char *const want[] = { "alpha.c", "beta.c", "gamma.c", "delta.c", "epsilon.c", "zeta.c",
					    "main.c", "prog", NULL };
	char path[400], src[2048], tasks[16][64];
	const char *orch_text;
	const char *dir = harness__tmpdir();
	struct cmd_result r;
	cJSON *j, *e;
	struct wwd d;
	int n = 0;

	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/%s.c", dir, units[i]);
		snprintf(src, sizeof(src),
			 "#include <stdio.h>\n#include <string.h>\n"
			 "static int f(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * %d; return s; }\n"
			 "int %s(void) { char b[64]; snprintf(b, sizeof(b), \"%%d\", f(%d)); return (int)strlen(b); }\n",
			 i + 3, units[i], 10 + i);
		write_file(path, src, 0644);
	}
	snprintf(path, sizeof(path), "%s/main.c", dir);
	write_file(path, "int alpha(void); int beta(void); int gamma(void); int delta(void); int epsilon(void);\n"
		   "int zeta(void);\nint main(void) { return alpha() + beta() + gamma() + delta() + epsilon() + zeta() > 0"
		   " ? 0 : 1; }\n", 0644);
	snprintf(path, sizeof(path), "%s/Makefile", dir);
	/* recipes with shell syntax: make runs them through /bin/sh, so the compilers are grandchildren */
	write_file(path,
		   "OBJS = alpha.o beta.o gamma.o delta.o epsilon.o zeta.o main.o\n"
		   "prog: $(OBJS)\n"
		   "\t@echo LINK $@; cc -o $@ $(OBJS)\n"
		   "%.o: %.c\n"
		   "\t@echo CC $<; cc -c $< -O2 -o $@\n", 0644);
	ASSERT(start_daemon(&d), "no daemon");
	run_orchestrator(&d, (char *[]){ "--session", "build", "--jobs", "exec:(^|/)cc$", "--agent", "{{program}}",
					 "--task", "{{argv.2}}", NULL },
			 (char *[]){ "make", "-j2", NULL }, dir, &r);
	CHECK(r.exit_code == 0, "make failed (%d): %s", r.exit_code, r.err);
	CHECK(strstr(r.err, "started 8 executions"), "run did not say how many jobs it saw: %s", r.err);
	/* after its exit, the daemon still answers for it: its final state */
	orch_text = r.err ? strstr(r.err, "as orchestrator ") : NULL;
	if (CHECK(orch_text, "run did not name its orchestrator: %s", r.err)) {
		cJSON *o = NULL;

		snprintf(path, sizeof(path), "/api/v1/orchestrators/%lld", strtoll(orch_text + 16, NULL, 10));
		CHECK(api(&d, "GET", path, NULL, &o) == 200, "GET %s after the orchestrator ended", path);
		CHECK_STR(harness__str(o, "state"), "ended");
		CHECK_STR(harness__str(o, "reason"), "exited");
		CHECK_EQ(harness__num(o, "executions_started"), 8);
		cJSON_Delete(o);
	}
	harness__free_result(&r);
	snprintf(path, sizeof(path), "%s/prog", dir);
	CHECK(access(path, X_OK) == 0, "make built no program");

	j = session_executions(&d, "build", 8);
	cJSON_ArrayForEach(e, j) {
		const char *task = harness__str(e, "task") ?: "";

		CHECK_STR(harness__str(e, "agent"), "cc");
		CHECK_STR(harness__str(e, "status"), "completed");
		/* the compiler's own children are part of its job: cc1 and as, or collect2 and ld */
		CHECK(harness__num(e, "metrics.process_count") >= 3, "job %s has %.0f processes, not cc and its "
		      "helpers", task, harness__num(e, "metrics.process_count"));
		CHECK(harness__num(e, "metrics.on_cpu_ns") > 0, "job %s has no CPU time", task);
		if (n < 16)
			snprintf(tasks[n++], sizeof(tasks[0]), "%s", task);
	}
	CHECK_EQ(n, 8);
	CHECK(same_set(want, tasks, n), "the jobs are not one per compile and the link");
	cJSON_Delete(j);
	check_no_failure_rate_alert(&d);
	wwd_stop(&d, SIGTERM);
}

/*
 * GNU parallel with 8 jobs, each named from an environment variable it gets:
 * exactly 8 executions with the right names and outcomes (job 3 fails), and
 * none of parallel's own helpers (its tput, sh and sleep probes, its hostname).
 */
KERNEL_TEST(gnu_parallel_jobs_are_named_from_their_environment)
{
	char job[400], seen[16][64];
	static const char *const want[] = { "agent-1", "agent-2", "agent-3", "agent-4", "agent-5", "agent-6",
					    "agent-7", "agent-8", NULL };
	struct cmd_result r;
	cJSON *j, *e;
	struct wwd d;
	int n = 0;

	snprintf(job, sizeof(job), "%s/job.sh", harness__tmpdir());
	write_file(job, "#!/bin/sh\n# a parallel job: a little CPU, then the outcome it was told\n"
		   "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done\n"
		   "[ \"$1\" = 3 ] && exit 2\nexit 0\n", 0755);
	ASSERT(start_daemon(&d), "no daemon");
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "AGENT_NAME=agent-{} %s {}", job);
		run_orchestrator(&d, (char *[]){ "--session", "parallel", "--jobs", "exec:/job\\.sh$", "--agent",
						 "{{env.AGENT_NAME}}", "--task", "{{env.PARALLEL_SEQ}}", NULL },
				 (char *[]){ "parallel", "--will-cite", "-j", "4", cmd, ":::", "1", "2", "3", "4", "5",
					     "6", "7", "8", NULL }, NULL, &r);
	}
	/* parallel exits with the number of failed jobs */
	CHECK(r.exit_code == 1, "parallel exited %d: %s", r.exit_code, r.err);
	harness__free_result(&r);
	j = session_executions(&d, "parallel", 8);
	cJSON_ArrayForEach(e, j) {
		const char *agent = harness__str(e, "agent") ?: "";
		bool third = !strcmp(agent, "agent-3");

		CHECK_STR(harness__str(e, "status"), third ? "failed" : "completed");
		CHECK_EQ(harness__num(e, "exit_code"), third ? 2 : 0);
		CHECK(harness__str(e, "task") && atoi(harness__str(e, "task")) >= 1, "job %s has no sequence number",
		      agent);
		if (n < 16)
			snprintf(seen[n++], sizeof(seen[0]), "%s", agent);
	}
	CHECK_EQ(n, 8);
	CHECK(same_set(want, seen, n), "the jobs are not agent-1 to agent-8, once each");
	cJSON_Delete(j);
	check_no_failure_rate_alert(&d);
	wwd_stop(&d, SIGTERM);
}

/*
 * xargs -P 4 under sh -c, without a daemon: the report of `run
 * --orchestrator` lists the 12 jobs (not seq, xargs or sh), each with the CPU
 * the job measured itself, and its one process's final figures (from the
 * exec that made it a job) are the job's.
 */
KERNEL_TEST(xargs_p4_under_sh_c_reports_every_job)
{
	char script[8192], truth_path[400], bin[4096];
	const char *report = harness__tmp("report.json");
	struct cmd_result r;
	cJSON *j, *e, *p, *truth;
	int n = 0, matched = 0, procs = 0;
	bool tasks[13] = {};

	ASSERT(realpath(wwd_bin("wwload"), bin), "no wwload");
	snprintf(script, sizeof(script), "seq 12 | xargs -P 4 -I{} %s --out %s/t{}.json cpu 200", bin,
		 harness__tmpdir());
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "run", "--orchestrator", "--no-daemon", "--json",
				 (char *)report, "--jobs", "exec:/wwload$", "--session", "xargs", "--task",
				 "{{argv.2}}", "--", "/bin/sh", "-c", script, NULL }, 120, &r);
	CHECK(r.exit_code == 0, "run exited %d: %s", r.exit_code, r.err);
	CHECK(strstr(r.err, "12 jobs"), "the text report does not count 12 jobs: %s", r.err);
	harness__free_result(&r);
	j = harness__read_json(report);
	ASSERT(j, "no JSON report");
	CHECK_EQ(harness__num(j, "orchestrator.exit_code"), 0);
	cJSON_ArrayForEach(e, harness__get(j, "jobs")) {
		const char *out = harness__str(e, "execution.task") ?: "";
		const char *t = strrchr(out, 't');
		int k = t ? atoi(t + 1) : 0;

		n++;
		CHECK_STR(harness__str(e, "execution.session"), "xargs");
		CHECK_STR(harness__str(e, "execution.agent"), "wwload");
		CHECK_STR(harness__str(e, "execution.status"), "completed");
		if (k >= 1 && k <= 12)
			tasks[k] = true;
		/* the job's CPU against what it measured itself */
		snprintf(truth_path, sizeof(truth_path), "%s", out);
		truth = harness__read_json(truth_path);
		if (truth && harness__num(truth, "pid") == harness__num(e, "execution.pid")) {
			matched++;
			CHECK_NEAR(harness__num(e, "cpu.on_cpu_ns"), harness__num(truth, "cpu_ns"), 5);
		}
		cJSON_Delete(truth);
		/* a job started at exec has its process's final figures, and they are the job's */
		cJSON_ArrayForEach(p, harness__get(e, "processes")) {
			procs++;
			CHECK(cJSON_IsTrue(cJSON_GetObjectItem(p, "final")), "job %s: pid %.0f has no final figures",
			      out, harness__num(p, "pid"));
			CHECK(harness__near(harness__num(p, "on_cpu_ns"), harness__num(e, "cpu.on_cpu_ns"), 0.5),
			      "job %s: its process ran %.0f ns, the job %.0f ns", out, harness__num(p, "on_cpu_ns"),
			      harness__num(e, "cpu.on_cpu_ns"));
		}
	}
	CHECK_EQ(n, 12);
	CHECK_EQ(procs, 12);
	CHECK_EQ(matched, 12);
	for (int k = 1; k <= 12; k++)
		CHECK(tasks[k], "no job wrote t%d.json", k);
	cJSON_Delete(j);
}

/*
 * A pool script: waits on a fifo; runs a multiprocessing.Pool to its end, a
 * ProcessPoolExecutor, and a Pool it terminates while its workers are busy
 * (a shutdown); records the workers of each.
 */
static const char pool_script[] =
	"import concurrent.futures, json, multiprocessing, os, sys, time\n"
	"def work(n):\n"
	"    s = 0\n"
	"    for i in range(150000):\n"
	"        s += i * n\n"
	"    return s\n"
	"def busy(n):\n"
	"    time.sleep(30)\n"
	"if __name__ == '__main__':\n"
	"    open(sys.argv[1]).readline()\n"
	"    workers = {}\n"
	"    with multiprocessing.Pool(4) as pool:\n"
	"        workers['pool'] = [p.pid for p in multiprocessing.active_children()]\n"
	"        pool.map(work, range(16))\n"
	"    with concurrent.futures.ProcessPoolExecutor(max_workers=3) as ex:\n"
	"        list(ex.map(work, range(9)))\n"
	"        workers['executor'] = list(ex._processes.keys())\n"
	"    pool = multiprocessing.Pool(2)\n"
	"    workers['terminated'] = [p.pid for p in multiprocessing.active_children()]\n"
	"    pool.map_async(busy, range(2))\n"
	"    time.sleep(0.5)\n"
	"    pool.terminate()\n"
	"    pool.join()\n"
	"    json.dump(workers, open(sys.argv[2], 'w'))\n";

/*
 * Python multiprocessing.Pools and a concurrent.futures pool, registered as
 * an orchestrator: each worker (forked, never executing a program) is an
 * execution named from the pool's environment, and no shutdown is a
 * failure: workers that end by themselves are completed, those a pool
 * terminates with SIGTERM are stopped_by_orchestrator.
 */
KERNEL_TEST(python_pools_shut_down_without_failures)
{
	char script[300], fifo[300], workers_path[300], body[400];
	struct wwd d;
	cJSON *j, *e, *workers = NULL, *w;
	int py, status, n = 0, expected = 0, matched = 0;

	snprintf(script, sizeof(script), "%s/pools.py", harness__tmpdir());
	snprintf(fifo, sizeof(fifo), "%s/go", harness__tmpdir());
	snprintf(workers_path, sizeof(workers_path), "%s/workers.json", harness__tmpdir());
	write_file(script, pool_script, 0644);
	mkfifo(fifo, 0600);
	ASSERT(start_daemon(&d), "no daemon");
	py = harness__spawn((char *[]){ "/usr/bin/env", "POOL_NAME=crunch", PYTHON, script, fifo, workers_path, NULL },
			    NULL);
	wwd_sleep_ms(500);	/* python is up and blocked on the fifo */
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"pools\", \"agent\": \"{{env.POOL_NAME|comm}}\","
		 " \"task\": \"worker\"}", py);
	CHECK(api(&d, "POST", "/api/v1/orchestrators", body, NULL) == 201, "POST /api/v1/orchestrators failed");
	wwd_release(fifo);
	status = harness__wait(py, 120);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the pools script ended with status %d", status);
	workers = harness__read_json(workers_path);
	ASSERT(workers, "the script recorded no workers");
	expected = cJSON_GetArraySize(harness__get(workers, "pool")) +
		   cJSON_GetArraySize(harness__get(workers, "executor")) +
		   cJSON_GetArraySize(harness__get(workers, "terminated"));
	CHECK_EQ(expected, 9);
	j = session_executions(&d, "pools", expected);
	cJSON_ArrayForEach(e, j) {
		const char *st = harness__str(e, "status") ?: "";
		bool in_pool = false, in_executor = false, in_terminated = false;

		n++;
		CHECK_STR(harness__str(e, "agent"), "crunch");
		CHECK_STR(harness__str(e, "task"), "worker");
		cJSON_ArrayForEach(w, harness__get(workers, "pool"))
			in_pool |= w->valuedouble == harness__num(e, "pid");
		cJSON_ArrayForEach(w, harness__get(workers, "executor"))
			in_executor |= w->valuedouble == harness__num(e, "pid");
		cJSON_ArrayForEach(w, harness__get(workers, "terminated"))
			in_terminated |= w->valuedouble == harness__num(e, "pid");
		matched += in_pool || in_executor || in_terminated;
		if (in_terminated || !strcmp(st, "stopped_by_orchestrator")) {
			/* the pool's SIGTERM at its shutdown: its own doing, an outcome of its own */
			CHECK(!strcmp(st, "stopped_by_orchestrator"), "terminated worker %.0f ended %s",
			      harness__num(e, "pid"), st);
			CHECK_EQ(harness__num(e, "signal"), SIGTERM);
		} else {
			/* the rest end by themselves when their pool is done with them */
			CHECK(!strcmp(st, "completed"), "worker %.0f ended %s", harness__num(e, "pid"), st);
			CHECK_EQ(harness__num(e, "exit_code"), 0);
		}
	}
	/* exactly the pools' workers: nothing else python started */
	CHECK_EQ(n, expected);
	CHECK_EQ(matched, expected);
	cJSON_Delete(j);
	cJSON_Delete(workers);
	check_no_failure_rate_alert(&d);
	wwd_stop(&d, SIGTERM);
}

/* Gives the runner one line of work. */
static void feed(const char *fifo, const char *line)
{
	FILE *f = fopen(fifo, "w");

	if (!CHECK(f, "cannot open %s: %s", fifo, strerror(errno)))
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

/* Waits until session has n executions that all ended; their agents into seen[]. */
static int ended_agents(struct wwd *d, const char *session, int n, char seen[][64], int max)
{
	cJSON *j = session_executions(d, session, n), *e;
	int count = 0;

	cJSON_ArrayForEach(e, j) {
		CHECK_STR(harness__str(e, "status"), "completed");
		if (count < max)
			snprintf(seen[count], 64, "%s", harness__str(e, "agent") ?: "");
		count++;
	}
	cJSON_Delete(j);
	return count;
}

/*
 * A watch rule picks up a runner started after the daemon, with no
 * integration, as an orchestrator; its jobs are executions named from their
 * environment, and the daemon keeps it across a restart: a job it runs
 * while no daemon runs, and one after, are executions too.
 */
KERNEL_TEST(watch_rule_picks_up_a_runner_and_keeps_it_across_a_restart)
{
	static const char *const want[] = { "agent-1", "agent-2", "agent-3", "agent-4", NULL };
	char runner[400], job[400], work[400], rule[1200], text[1200], seen[8][64], config[400];
	cJSON *j = NULL;
	struct wwd d;
	int pid, status, n;

	snprintf(runner, sizeof(runner), "%s/runner.sh", harness__tmpdir());
	snprintf(job, sizeof(job), "%s/job.sh", harness__tmpdir());
	snprintf(work, sizeof(work), "%s/work", harness__tmpdir());
	mkfifo(work, 0600);
	write_file(job, "#!/bin/sh\ni=0; while [ $i -lt 20000 ]; do i=$((i+1)); done\nexit 0\n", 0755);
	/* the queue stays open (read-write): lines written while a job runs wait in it */
	snprintf(text, sizeof(text), "#!/bin/sh\n# a runner: one job per line of its work queue\n"
		 "exec 3<> %s\nwhile read n <&3; do\n  [ \"$n\" = quit ] && exit 0\n  AGENT_NAME=agent-$n %s $n\ndone\n",
		 work, job);
	write_file(runner, text, 0755);
	ASSERT(start_daemon(&d), "no daemon");
	snprintf(config, sizeof(config), "%s", harness__tmp("config.json"));
	/* a script: the kernel matches the path it is run by */
	snprintf(rule, sizeof(rule), "{\"name\": \"runner\", \"exe\": \"%s\", \"action\": \"orchestrator\","
		 " \"session\": \"runner\", \"agent\": \"{{env.AGENT_NAME|comm}}\", \"jobs\": {\"exec\": \"/job\\\\.sh$\"}}",
		 runner);
	ASSERT(api(&d, "POST", "/api/v1/watches", rule, NULL) == 201, "POST /api/v1/watches failed");
	/* started after the daemon and its rule, by nobody who knows of workerwatch */
	pid = harness__spawn((char *[]){ runner, NULL }, NULL);
	for (int i = 0; i < 50; i++) {
		cJSON_Delete(j);
		j = NULL;
		if (api(&d, "GET", "/api/v1/orchestrators", NULL, &j) == 200 && cJSON_GetArraySize(j))
			break;
		wwd_sleep_ms(100);
	}
	CHECK_EQ(cJSON_GetArraySize(j), 1);
	CHECK_EQ(harness__num(cJSON_GetArrayItem(j, 0), "pid"), pid);
	CHECK_EQ(harness__num(cJSON_GetArrayItem(j, 0), "rule"), 1);
	cJSON_Delete(j);
	j = NULL;
	feed(work, "1");
	feed(work, "2");
	CHECK_EQ(ended_agents(&d, "runner", 2, seen, 8), 2);

	wwd_stop_keep(&d);
	feed(work, "3");	/* while no daemon runs: the kernel starts the job and keeps its events */
	wwd_sleep_ms(300);
	ASSERT(wwd_start_opts(&d, config), "no daemon after the restart");
	ASSERT(api(&d, "GET", "/api/v1/watches", NULL, &j) == 200, "GET /api/v1/watches failed");
	CHECK_EQ(cJSON_GetArraySize(j), 1);
	CHECK_STR(harness__str(cJSON_GetArrayItem(j, 0), "name"), "runner");
	cJSON_Delete(j);
	j = NULL;
	ASSERT(api(&d, "GET", "/api/v1/orchestrators", NULL, &j) == 200, "GET /api/v1/orchestrators failed");
	CHECK_EQ(cJSON_GetArraySize(j), 1);
	CHECK_EQ(harness__num(cJSON_GetArrayItem(j, 0), "pid"), pid);
	cJSON_Delete(j);
	feed(work, "4");
	feed(work, "quit");
	status = harness__wait(pid, 30);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the runner ended with status %d", status);
	n = ended_agents(&d, "runner", 4, seen, 8);
	CHECK_EQ(n, 4);
	CHECK(same_set(want, seen, n), "the jobs are not agent-1 to agent-4, once each");
	check_no_failure_rate_alert(&d);
	wwd_stop(&d, SIGTERM);
}
