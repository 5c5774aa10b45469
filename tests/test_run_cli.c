// SPDX-License-Identifier: MIT
/* `workerwatch run` as a user meets it: exit statuses, failures explained, and bad input. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"

static char ww[512], load[512];

static void paths(void)
{
	snprintf(ww, sizeof(ww), "%s/workerwatch", harness__bin());
	snprintf(load, sizeof(load), "%s/wwload", harness__bin());
}

/* The error is one line, names workerwatch, and the exit status is as expected. */
static void check_one_line_error(char *const argv[], int want_exit, const char *want_text)
{
	struct cmd_result r;

	harness__run(argv, 30, &r);
	CHECK(r.exit_code == want_exit, "%s: exit %d, wanted %d", want_text, r.exit_code, want_exit);
	CHECK(strstr(r.err, want_text) != NULL, "stderr lacks '%s': %s", want_text, r.err);
	CHECK(!strncmp(r.err, "workerwatch: ", 13), "error does not start with 'workerwatch: ': %s", r.err);
	CHECK(strchr(r.err, '\n') == r.err + strlen(r.err) - 1, "error is not one line: %s", r.err);
	harness__free_result(&r);
}

TEST(run_rejects_bad_arguments_with_one_line)
{
	paths();
	check_one_line_error((char *[]){ ww, "run", "--bogus", "--", "true", NULL }, 2, "unknown option '--bogus'");
	check_one_line_error((char *[]){ ww, "run", "true", NULL }, 2, "missing '--'");
	check_one_line_error((char *[]){ ww, "run", "--", NULL }, 2, "no command given");
	check_one_line_error((char *[]){ ww, "run", "--slow-syscall", "abc", "--", "true", NULL }, 2,
			     "--slow-syscall wants milliseconds");
	check_one_line_error((char *[]){ ww, "run", "--slow-syscall", "-5", "--", "true", NULL }, 2,
			     "--slow-syscall wants milliseconds");
	check_one_line_error((char *[]){ ww, "run", "--session", NULL }, 2, "needs a value");
	check_one_line_error((char *[]){ ww, "frobnicate", NULL }, 2, "unknown command 'frobnicate'");
}

KERNEL_TEST(run_needs_root)
{
	paths();
	check_one_line_error((char *[]){ "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
					 "--clear-groups", ww, "run", "--", "/bin/true", NULL },
			     125, "run needs root");
}

KERNEL_TEST(run_without_kernel_btf_says_so)
{
	char script[1200];

	paths();
	/* A private mount namespace where /sys/kernel/btf is empty. */
	snprintf(script, sizeof(script),
		 "mount -t tmpfs none /sys/kernel/btf && exec %s run -- /bin/true", ww);
	check_one_line_error((char *[]){ "/usr/bin/unshare", "-m", "--propagation", "private",
					 "/bin/sh", "-c", script, NULL },
			     125, "this kernel has no BTF");
}

KERNEL_TEST(run_with_unwritable_json_path_does_not_start_the_command)
{
	paths();
	check_one_line_error((char *[]){ ww, "run", "--json", "/proc/no/such/dir/r.json", "--",
					 load, "--pidfile", (char *)harness__tmp("started"), "exit", "0", NULL },
			     125, "cannot write --json /proc/no/such/dir/r.json");
	CHECK(access(harness__tmp("started"), F_OK) != 0, "the command ran anyway");
}

/* A file without execute permission. */
static const char *not_executable(void)
{
	const char *path = harness__tmp("not-executable");
	FILE *f = fopen(path, "w");

	if (f) {
		fputs("#!/bin/sh\n", f);
		fclose(f);
	}
	chmod(path, 0644);
	return path;
}

static cJSON *run_expecting(char *const argv[], int want_exit)
{
	struct cmd_result r;

	harness__run(argv, 60, &r);
	CHECK(r.exit_code == want_exit, "exit %d, wanted %d:\n%s", r.exit_code, want_exit, r.err);
	harness__free_result(&r);
	return harness__read_json(harness__tmp("r.json"));
}

KERNEL_TEST(run_passes_on_exit_codes_and_explains_failures)
{
	const char *json;
	cJSON *rep;

	paths();
	json = harness__tmp("r.json");
	rep = run_expecting((char *[]){ ww, "run", "--json", (char *)json, "--", load, "exit", "7", NULL }, 7);
	CHECK_STR(harness__str(rep, "execution.status"), "failed");
	CHECK_EQ(harness__num(rep, "execution.exit_code"), 7);
	CHECK(cJSON_IsNull(harness__get(rep, "execution.signal")), "signal is not null");
	CHECK_STR(harness__str(rep, "execution.failure.category"), "exit_nonzero");
	cJSON_Delete(rep);

	rep = run_expecting((char *[]){ ww, "run", "--json", (char *)json, "--", load, "crash", NULL }, 128 + SIGSEGV);
	CHECK_STR(harness__str(rep, "execution.failure.category"), "crashed");
	CHECK_EQ(harness__num(rep, "execution.signal"), SIGSEGV);
	CHECK(cJSON_IsNull(harness__get(rep, "execution.exit_code")), "exit_code is not null");
	cJSON_Delete(rep);

	rep = run_expecting((char *[]){ ww, "run", "--json", (char *)json, "--", "/no/such/cmd", NULL }, 127);
	CHECK_STR(harness__str(rep, "execution.failure.category"), "not_found");
	cJSON_Delete(rep);

	rep = run_expecting((char *[]){ ww, "run", "--json", (char *)json, "--", (char *)not_executable(), NULL }, 126);
	CHECK_STR(harness__str(rep, "execution.failure.category"), "permission");
	cJSON_Delete(rep);

	rep = run_expecting((char *[]){ ww, "run", "--json", (char *)json, "--timeout", "1", "--", load,
					"hang", NULL }, 128 + SIGTERM);
	CHECK_STR(harness__str(rep, "execution.failure.category"), "timeout");
	cJSON_Delete(rep);
}

KERNEL_TEST(run_names_the_process_that_killed_the_worker)
{
	const char *json = harness__tmp("r.json"), *pidfile = harness__tmp("pid");
	char *run_argv[] = { ww, "run", "--json", (char *)json, "--", load, "--pidfile", (char *)pidfile,
			     "hang", NULL };
	char pid_s[16];
	struct cmd_result kr;
	cJSON *rep, *killer;
	int run_pid, status;

	paths();
	run_argv[0] = ww;
	run_argv[5] = load;
	run_pid = harness__spawn(run_argv, harness__tmp("run.log"));
	ASSERT(harness__wait_file(pidfile, 10000), "worker did not start");
	snprintf(pid_s, sizeof(pid_s), "%ld", harness__read_long(pidfile));
	harness__run((char *[]){ load, "kill", pid_s, "KILL", NULL }, 10, &kr);
	killer = harness__parse_last_json_line(kr.out);
	status = harness__wait(run_pid, 30);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGKILL, "workerwatch status %d", status);

	rep = harness__read_json(json);
	CHECK_EQ(harness__num(rep, "execution.pid"), strtol(pid_s, NULL, 10));
	CHECK_EQ(harness__num(rep, "execution.signal"), SIGKILL);
	CHECK(cJSON_IsNull(harness__get(rep, "execution.exit_code")), "exit_code is not null");
	CHECK_STR(harness__str(rep, "execution.failure.category"), "killed");
	CHECK_EQ(harness__num(rep, "execution.failure.evidence.sender_pid"), harness__num(killer, "killer_pid"));
	CHECK_STR(harness__str(rep, "execution.failure.evidence.sender_comm"), "wwload");
	CHECK_EQ(harness__num(rep, "observer.lost_events"), 0);
	cJSON_Delete(rep);
	cJSON_Delete(killer);
	harness__free_result(&kr);
}

KERNEL_TEST(run_lists_descendants_that_outlive_the_command)
{
	const char *json = harness__tmp("r.json");
	const cJSON *p, *orphan = NULL;
	struct cmd_result r;
	cJSON *rep;

	paths();
	harness__run((char *[]){ ww, "run", "--json", (char *)json, "--", "/bin/sh", "-c",
				 "/bin/sleep 30 & exit 0", NULL }, 20, &r);
	CHECK(r.exit_code == 0, "exit %d: %s", r.exit_code, r.err);
	CHECK(strstr(r.err, "Still running after the command ended") != NULL, "not listed:\n%s", r.err);
	rep = harness__read_json(json);
	cJSON_ArrayForEach(p, harness__get(rep, "processes"))
		if (cJSON_IsTrue(cJSON_GetObjectItem(p, "running")))
			orphan = p;
	if (CHECK(orphan != NULL, "no running process in the report")) {
		CHECK_STR(harness__str(orphan, "comm"), "sleep");
		kill((pid_t)harness__num(orphan, "pid"), SIGKILL);
	}
	cJSON_Delete(rep);
	harness__free_result(&r);
}
