// SPDX-License-Identifier: MIT
/* workerwatch check: its rows against the BPF object and the host, and its exit status with fewer privileges. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "wwd.h"

/* Runs `workerwatch check --json` behind prefix (e.g. setpriv ...); its exit code, the JSON in *out. */
static int run_check(const char *prefix, cJSON **out)
{
	char cmd[1024];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct cmd_result r;
	int code;

	snprintf(cmd, sizeof(cmd), "%s '%s' check --json", prefix, wwd_bin("workerwatch"));
	*out = NULL;
	if (!CHECK(harness__run(argv, 60, &r) == 0, "cannot run %s", cmd))
		return -1;
	*out = cJSON_Parse(r.out);
	CHECK(*out != NULL, "check --json printed no JSON: %s / %s", r.out, r.err);
	CHECK(!strstr(r.err, "libbpf:"), "libbpf's messages leak into check's output: %s", r.err);
	code = r.exit_code;
	harness__free_result(&r);
	return code;
}

/* The row named name, or NULL. */
static const cJSON *row(const cJSON *j, const char *name)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "checks"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "name")) ?: "", name))
			return r;
	return NULL;
}

static const char *result_of(const cJSON *j, const char *name)
{
	const cJSON *r = row(j, name);

	return r ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "result")) : NULL;
}

static const char *detail_of(const cJSON *j, const char *name)
{
	const cJSON *r = row(j, name);

	return r ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "detail")) : "";
}

KERNEL_TEST(check_as_root_probes_every_hook_of_the_bpf_object)
{
	static const char *const features[] = { "kernel BTF", "program type tp_btf", "program type iter/task",
						 "task storage", "ring buffer", "memlock", "BPF run-time statistics",
						 "workerwatch programs" };
	char cmd[600], *secs;
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct cmd_result r;
	struct utsname u;
	const cJSON *c;
	cJSON *j;
	int code, tracepoints = 0;

	code = run_check("", &j);
	ASSERT(j, "no JSON");
	/* this host has everything: the suite's other tests depend on it */
	CHECK_EQ(code, 0);
	CHECK_STR(harness__str(j, "verdict"), "ready");
	CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "unavailable")), 0);
	CHECK_STR(harness__str(j, "minimum_kernel"), "5.13");
	for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++)
		CHECK_STR(result_of(j, features[i]), "ok");
	uname(&u);
	CHECK(strstr(detail_of(j, "kernel"), u.release) != NULL, "kernel row: %s", detail_of(j, "kernel"));

	/* ground truth: the tp_btf sections of the BPF object the binary embeds, each a row, once */
	snprintf(cmd, sizeof(cmd), "readelf -SW '%s' | grep -o 'tp_btf/[a-z_0-9]*' | sort -u",
		 wwd_bin("workerwatch.bpf.o"));
	ASSERT(harness__run(argv, 30, &r) == 0 && r.exit_code == 0, "readelf: %s", r.err);
	secs = r.out;
	for (char *s = strtok(secs, "\n"); s; s = strtok(NULL, "\n")) {
		char name[128];

		snprintf(name, sizeof(name), "tracepoint %s", s + strlen("tp_btf/"));
		CHECK_STR(result_of(j, name), "ok");
		tracepoints++;
	}
	harness__free_result(&r);
	CHECK(tracepoints >= 15, "only %d tp_btf sections in the object", tracepoints);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "checks"))
		tracepoints -= !strncmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name")) ?: "",
					"tracepoint ", 11);
	CHECK_EQ(tracepoints, 0);
	CHECK_STR(result_of(j, "iterator bpf_iter_task"), "ok");

	/* cgroups as mounted here: v1 controllers with memory limits read from the v1 hierarchy */
	if (!access("/sys/fs/cgroup/memory/memory.limit_in_bytes", R_OK)) {
		CHECK(strstr(detail_of(j, "cgroup v1"), "memory") != NULL, "cgroup v1: %s", detail_of(j, "cgroup v1"));
		CHECK(strstr(detail_of(j, "cgroup memory limits"), "(v1)") != NULL, "memory limits: %s",
		      detail_of(j, "cgroup memory limits"));
	}
	cJSON_Delete(j);

	/* the probes it loaded are gone once it exits (freed after an RCU grace period) */
	snprintf(cmd, sizeof(cmd), "for i in $(seq 50); do bpftool prog show name ww_preflight | grep -q . || exit 0; "
		 "sleep 0.1; done; exit 1");
	CHECK(harness__run(argv, 30, &r) == 0 && r.exit_code == 0, "a ww_preflight program is still loaded");
	harness__free_result(&r);
}

KERNEL_TEST(check_without_bpf_capabilities_is_unusable)
{
	cJSON *j;
	int code = run_check("setpriv --bounding-set -all --inh-caps=-all", &j);

	ASSERT(j, "no JSON");
	CHECK_EQ(code, 3);
	CHECK_STR(harness__str(j, "verdict"), "unusable");
	CHECK_STR(result_of(j, "program type tp_btf"), "FAILED");
	CHECK_STR(result_of(j, "workerwatch programs"), "FAILED");
	CHECK(strstr(detail_of(j, "ring buffer"), "CAP_BPF") != NULL, "ring buffer: %s", detail_of(j, "ring buffer"));
	CHECK_STR(result_of(j, "privileges"), "note");
	/* what BTF alone tells needs no privilege */
	CHECK_STR(result_of(j, "kernel BTF"), "ok");
	CHECK_STR(result_of(j, "tracepoint sched_switch"), "ok");
	cJSON_Delete(j);
}

KERNEL_TEST(check_without_sys_admin_is_degraded_by_the_run_time_statistics)
{
	const cJSON *un;
	cJSON *j;
	int code = run_check("setpriv --bounding-set -all,+bpf,+perfmon --inh-caps=-all", &j);

	ASSERT(j, "no JSON");
	CHECK_EQ(code, 1);
	CHECK_STR(harness__str(j, "verdict"), "degraded");
	/* CAP_BPF and CAP_PERFMON load and attach everything; only enabling the statistics needs CAP_SYS_ADMIN */
	CHECK_STR(result_of(j, "workerwatch programs"), "ok");
	CHECK_STR(result_of(j, "task storage"), "ok");
	CHECK_STR(result_of(j, "BPF run-time statistics"), "missing");
	un = cJSON_GetObjectItemCaseSensitive(j, "unavailable");
	CHECK_EQ(cJSON_GetArraySize(un), 1);
	CHECK(cJSON_GetArraySize(un) == 1 && strstr(cJSON_GetArrayItem(un, 0)->valuestring, "workerwatch_bpf_program"),
	      "unavailable names the wrong metrics");
	cJSON_Delete(j);
}

KERNEL_TEST(check_as_a_user_is_incomplete_and_says_why)
{
	struct cmd_result r;
	cJSON *j;
	int code = run_check("setpriv --reuid=65534 --regid=65534 --clear-groups", &j);

	ASSERT(j, "no JSON");
	CHECK_EQ(code, 4);
	CHECK_STR(harness__str(j, "verdict"), "incomplete");
	CHECK_STR(result_of(j, "privileges"), "skipped");
	CHECK_STR(result_of(j, "workerwatch programs"), "skipped");
	CHECK_STR(result_of(j, "kernel BTF"), "ok");
	CHECK_STR(result_of(j, "tracepoint sys_enter"), "ok");
	cJSON_Delete(j);

	/* a usage error is 2, like every command's, and no check runs */
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "check", "--bogus", NULL }, 10, &r);
	CHECK_EQ(r.exit_code, 2);
	CHECK(strstr(r.err, "--bogus") != NULL, "the error does not name the option: %s", r.err);
	CHECK(!*r.out, "a usage error printed a table");
	harness__free_result(&r);
}
