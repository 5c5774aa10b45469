// SPDX-License-Identifier: MIT
/* Unit tests of the Prometheus exposition builder: exact text, escaping, validation, and promtool's verdict. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "daemon/prom.h"

#define PROMTOOL "/usr/bin/promtool"

/* CHECK_EQ evaluates its arguments twice; a call that writes must run once. */
#define CHECK_RET(call, want) do {							\
		int ret_ = (call);							\
		CHECK(ret_ == (want), "%s = %d, want %d", #call, ret_, (int)(want));	\
	} while (0)

TEST(prom_small_exposition_exact_text)
{
	const char *const claude[] = { "agent", "claude", NULL };
	const char *const codex[] = { "agent", "codex", NULL };
	const char *const read_[] = { "syscall", "read", NULL };
	const double bounds[] = { 0.001, 0.01, 0.1 };
	const __u64 counts[] = { 1, 3, 4 };
	struct prom_buf *b = prom__new();
	char *text;

	ASSERT(b, "prom__new");
	CHECK_RET(prom__family(b, "ww_executions_total", "counter", "Executions tracked, by agent."), 0);
	CHECK_RET(prom__sample(b, "ww_executions_total", claude, 3), 0);
	CHECK_RET(prom__sample(b, "ww_executions_total", codex, 12), 0);
	CHECK_RET(prom__family(b, "ww_tracked_processes", "gauge", "Processes tracked now."), 0);
	CHECK_RET(prom__sample(b, "ww_tracked_processes", NULL, 7), 0);
	CHECK_RET(prom__family(b, "ww_syscall_duration_seconds", "histogram", "Slow syscalls."), 0);
	CHECK_RET(prom__histogram(b, "ww_syscall_duration_seconds", read_, bounds, counts, 3, 0.1234, 5), 0);
	CHECK_RET(prom__histogram(b, "ww_syscall_duration_seconds", NULL, NULL, NULL, 0, 0, 0), 0);
	text = prom__take(b);
	CHECK_STR(text,
		  "# HELP ww_executions_total Executions tracked, by agent.\n"
		  "# TYPE ww_executions_total counter\n"
		  "ww_executions_total{agent=\"claude\"} 3\n"
		  "ww_executions_total{agent=\"codex\"} 12\n"
		  "# HELP ww_tracked_processes Processes tracked now.\n"
		  "# TYPE ww_tracked_processes gauge\n"
		  "ww_tracked_processes 7\n"
		  "# HELP ww_syscall_duration_seconds Slow syscalls.\n"
		  "# TYPE ww_syscall_duration_seconds histogram\n"
		  "ww_syscall_duration_seconds_bucket{syscall=\"read\",le=\"0.001\"} 1\n"
		  "ww_syscall_duration_seconds_bucket{syscall=\"read\",le=\"0.01\"} 3\n"
		  "ww_syscall_duration_seconds_bucket{syscall=\"read\",le=\"0.1\"} 4\n"
		  "ww_syscall_duration_seconds_bucket{syscall=\"read\",le=\"+Inf\"} 5\n"
		  "ww_syscall_duration_seconds_sum{syscall=\"read\"} 0.1234\n"
		  "ww_syscall_duration_seconds_count{syscall=\"read\"} 5\n"
		  "ww_syscall_duration_seconds_bucket{le=\"+Inf\"} 0\n"
		  "ww_syscall_duration_seconds_sum 0\n"
		  "ww_syscall_duration_seconds_count 0\n");
	free(text);
	/* take leaves the buffer empty and reusable, families forgotten */
	text = prom__take(b);
	CHECK_STR(text, "");
	free(text);
	CHECK_RET(prom__family(b, "ww_tracked_processes", "gauge", "Again."), 0);
	prom__free(b);
	prom__free(NULL);
}

TEST(prom_values)
{
	static const struct { double v; const char *text; } cases[] = {
		{ 0, "0" }, { -0.0, "0" }, { 1, "1" }, { -42, "-42" }, { 1.5, "1.5" }, { 0.1, "0.1" },
		{ 123456789012.0, "123456789012" }, { 1e18, "1000000000000000000" },
		{ 18446744073709551615.0, "1.8446744073709552e+19" }, { 1e-9, "1e-09" },
		{ 1.0 / 3, "0.33333333333333331" }, { INFINITY, "+Inf" }, { -INFINITY, "-Inf" }, { NAN, "NaN" },
	};
	struct prom_buf *b = prom__new();

	ASSERT(b, "prom__new");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[128], *text;

		prom__family(b, "ww_value", "gauge", "A value.");
		CHECK_RET(prom__sample(b, "ww_value", NULL, cases[i].v), 0);
		text = prom__take(b);
		snprintf(want, sizeof(want), "# HELP ww_value A value.\n# TYPE ww_value gauge\nww_value %s\n",
			 cases[i].text);
		CHECK_STR(text, want);
		/* what we print reads back as the same number */
		if (text && isfinite(cases[i].v))
			CHECK(strtod(strrchr(text, ' ') + 1, NULL) == cases[i].v, "%s does not read back", cases[i].text);
		free(text);
	}
	prom__free(b);
}

TEST(prom_escaping)
{
	const char *const labels[] = { "path", "C:\\tmp\\\"x\"\nnext", "empty", "", NULL };
	struct prom_buf *b = prom__new();
	char *text;

	ASSERT(b, "prom__new");
	CHECK_RET(prom__family(b, "ww_open_files", "gauge", "Files \"open\" in C:\\tmp\nper path."), 0);
	CHECK_RET(prom__sample(b, "ww_open_files", labels, 2), 0);
	text = prom__take(b);
	CHECK_STR(text,
		  "# HELP ww_open_files Files \"open\" in C:\\\\tmp\\nper path.\n"
		  "# TYPE ww_open_files gauge\n"
		  "ww_open_files{path=\"C:\\\\tmp\\\\\\\"x\\\"\\nnext\",empty=\"\"} 2\n");
	free(text);
	prom__free(b);
}

TEST(prom_rejects_what_prometheus_would)
{
	const char *const bad_label[] = { "bad-name", "v", NULL };
	const char *const reserved[] = { "__name__", "v", NULL };
	const char *const le[] = { "le", "1", NULL };
	const char *const twice[] = { "a", "1", "a", "2", NULL };
	const char *const no_value[] = { "a", NULL };
	const char *const ok[] = { "a", "1", NULL };
	const double bounds[] = { 1, 2 }, unordered[] = { 2, 1 }, inf[] = { 1, INFINITY };
	const __u64 counts[] = { 1, 2 }, falling[] = { 2, 1 };
	struct prom_buf *b = prom__new();
	char *text;

	ASSERT(b, "prom__new");
	/* names and types */
	CHECK_RET(prom__family(b, "1abc", "gauge", "x"), -EINVAL);
	CHECK_RET(prom__family(b, "ww-bad", "gauge", "x"), -EINVAL);
	CHECK_RET(prom__family(b, "", "gauge", "x"), -EINVAL);
	CHECK_RET(prom__family(b, "ww_x", "summary", "x"), -EINVAL);
	CHECK_RET(prom__family(b, "ww_x", "gauge", ""), -EINVAL);
	CHECK_RET(prom__family(b, "ww_x", "gauge", NULL), -EINVAL);
	CHECK_RET(prom__family(b, "ww_runs", "counter", "x"), -EINVAL);
	CHECK_RET(prom__family(b, "ww_runs_total", "gauge", "x"), -EINVAL);
	CHECK_RET(prom__family(b, "ww_x_count", "gauge", "x"), -EINVAL);
	CHECK_RET(prom__family(b, "ww_x_bucket", "histogram", "x"), -EINVAL);
	/* samples must belong to the family in progress */
	CHECK_RET(prom__sample(b, "ww_x", NULL, 1), -EINVAL);
	CHECK_RET(prom__family(b, "ww_x", "gauge", "x"), 0);
	CHECK_RET(prom__sample(b, "ww_y", NULL, 1), -EINVAL);
	CHECK_RET(prom__histogram(b, "ww_x", NULL, bounds, counts, 2, 1, 2), -EINVAL);
	/* labels */
	CHECK_RET(prom__sample(b, "ww_x", bad_label, 1), -EINVAL);
	CHECK_RET(prom__sample(b, "ww_x", reserved, 1), -EINVAL);
	CHECK_RET(prom__sample(b, "ww_x", le, 1), -EINVAL);
	CHECK_RET(prom__sample(b, "ww_x", twice, 1), -EINVAL);
	CHECK_RET(prom__sample(b, "ww_x", no_value, 1), -EINVAL);
	CHECK_RET(prom__sample(b, "ww_x", ok, 1), 0);
	/* the same family again: fine while in progress, not once another started */
	CHECK_RET(prom__family(b, "ww_x", "gauge", "x"), 0);
	CHECK_RET(prom__family(b, "ww_x", "histogram", "x"), -EINVAL);
	CHECK_RET(prom__family(b, "ww_h", "histogram", "h"), 0);
	CHECK_RET(prom__family(b, "ww_x", "gauge", "x"), -EINVAL);
	/* histograms */
	CHECK_RET(prom__sample(b, "ww_h", NULL, 1), -EINVAL);
	CHECK_RET(prom__histogram(b, "ww_h", NULL, unordered, counts, 2, 1, 2), -EINVAL);
	CHECK_RET(prom__histogram(b, "ww_h", NULL, inf, counts, 2, 1, 2), -EINVAL);
	CHECK_RET(prom__histogram(b, "ww_h", NULL, bounds, falling, 2, 1, 2), -EINVAL);
	CHECK_RET(prom__histogram(b, "ww_h", NULL, bounds, counts, 2, 1, 1), -EINVAL);
	CHECK_RET(prom__histogram(b, "ww_h", le, bounds, counts, 2, 1, 2), -EINVAL);
	CHECK_RET(prom__histogram(b, "ww_h", NULL, bounds, counts, -1, 1, 2), -EINVAL);
	/* nothing that was refused left a trace */
	text = prom__take(b);
	CHECK_STR(text,
		  "# HELP ww_x x\n# TYPE ww_x gauge\nww_x{a=\"1\"} 1\n"
		  "# HELP ww_h h\n# TYPE ww_h histogram\n");
	free(text);
	prom__free(b);
}

/* Runs promtool check metrics on text; returns its exit code, output in *out. */
static int promtool_check(const char *text, char **out)
{
	const char *path = harness__tmp("metrics.prom");
	char cmd[1024];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	struct cmd_result r;
	FILE *f = fopen(path, "w");

	*out = NULL;
	if (!CHECK(f != NULL, "cannot write %s", path))
		return -1;
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s check metrics < '%s' 2>&1", PROMTOOL, path);
	if (!CHECK(harness__run(argv, 30, &r) == 0, "cannot run promtool"))
		return -1;
	*out = r.out;
	r.out = NULL;
	harness__free_result(&r);
	return r.exit_code;
}

TEST(prom_realistic_exposition_passes_promtool)
{
	static const char *const agents[] = { "claude", "codex", "say \"hi\"\\\n" };
	const double bounds[] = { 0.0001, 0.001, 0.01, 0.1, 1, 10 };
	const __u64 counts[3][6] = { { 3, 10, 42, 50, 51, 51 }, { 0, 0, 1, 1, 2, 3 }, { 0, 0, 0, 0, 0, 0 } };
	struct prom_buf *b = prom__new();
	char *text, *out = NULL;
	int rc;

	ASSERT(access(PROMTOOL, X_OK) == 0, "%s missing (Debian package prometheus)", PROMTOOL);
	ASSERT(b, "prom__new");
	prom__family(b, "workerwatch_executions_total", "counter", "Executions started, by agent.");
	for (int i = 0; i < 3; i++) {
		const char *const l[] = { "agent", agents[i], NULL };

		CHECK_RET(prom__sample(b, "workerwatch_executions_total", l, 10 * i + 1), 0);
	}
	prom__family(b, "workerwatch_cpu_seconds_total", "counter", "CPU time of tracked processes.");
	for (int i = 0; i < 3; i++) {
		const char *const l[] = { "agent", agents[i], "mode", i ? "system" : "user", NULL };

		CHECK_RET(prom__sample(b, "workerwatch_cpu_seconds_total", l, 1.25 * i), 0);
	}
	prom__family(b, "workerwatch_memory_peak_bytes", "gauge", "Peak memory of running executions.");
	CHECK_RET(prom__sample(b, "workerwatch_memory_peak_bytes", NULL, 734003200), 0);
	prom__family(b, "workerwatch_tracked_processes", "gauge", "Processes tracked now.\nIncludes zombies.");
	CHECK_RET(prom__sample(b, "workerwatch_tracked_processes", NULL, 0), 0);
	prom__family(b, "workerwatch_last_oom_timestamp_seconds", "gauge", "When the last OOM kill happened.");
	CHECK_RET(prom__sample(b, "workerwatch_last_oom_timestamp_seconds", NULL, NAN), 0);
	prom__family(b, "workerwatch_syscall_duration_seconds", "histogram", "Latency of slow syscalls.");
	for (int i = 0; i < 3; i++) {
		const char *const l[] = { "agent", agents[i], NULL };

		CHECK_RET(prom__histogram(b, "workerwatch_syscall_duration_seconds", l, bounds, counts[i], 6,
					 0.75 * i, counts[i][5] + i), 0);
	}
	text = prom__take(b);
	ASSERT(text, "prom__take");
	rc = promtool_check(text, &out);
	CHECK(rc == 0 && out && !*out, "promtool check metrics exited %d:\n%s\non:\n%s", rc, out ? out : "", text);
	free(out);
	free(text);
	prom__free(b);

	/* and the check has teeth: promtool does object to a lint problem */
	rc = promtool_check("# HELP ww_latency_ms x\n# TYPE ww_latency_ms gauge\nww_latency_ms 1\n", &out);
	CHECK(rc != 0 && out && strstr(out, "abbreviated units"), "promtool accepted a bad name (%d): %s", rc,
	      out ? out : "");
	free(out);
}
