// SPDX-License-Identifier: MIT
/* Unit tests of report rendering: the JSON field names other tools rely on, and the text form. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "observe/report.h"

static struct execution *sample_execution(void)
{
	struct execution *e = calloc(1, sizeof(*e));
	struct process *p;

	e->id = 7;
	strcpy(e->session, "nightly");
	strcpy(e->agent, "builder");
	strcpy(e->task, "unit");
	e->argv = calloc(3, sizeof(char *));
	e->argv[0] = strdup("make");
	e->argv[1] = strdup("-j8");
	e->pid = 1000;
	e->ended = true;
	e->exit_status = SIGKILL;
	e->start_ns = 5000000000ULL;
	e->end_ns = 7500000000ULL;
	e->start_realtime_ns = 1795000000ULL * 1000000000ULL;
	e->end_realtime_ns = e->start_realtime_ns + 2500000000ULL;
	e->totals.on_cpu_ns = 1234567;
	e->totals.nvcsw = 3;
	e->totals.net_bytes[WW_NET_UDP][0] = 4242;
	e->totals.rq_hist[ww_hist_bucket(5000)] = 2;
	e->mem.peak_pages = 10;
	e->syscalls = calloc(1, sizeof(*e->syscalls));
	e->nr_syscalls = 1;
	e->syscalls[0].nr = 110;	/* getppid on x86_64 */
	e->syscalls[0].stats.count = 4;
	e->syscalls[0].stats.errors = 1;
	e->syscalls[0].stats.max_ns = 900;
	e->syscalls[0].stats.hist[ww_hist_bucket(800)] = 4;
	p = execution__add_proc(e, 1000, 1);
	strcpy(p->comm, "make");
	p->exited = true;
	p->exit_status = SIGKILL;
	p->fatal_sig = SIGKILL;
	p->sender_pid = 77;
	strcpy(p->sender_comm, "oom-reaper");
	return e;
}

TEST(report_json_has_the_documented_fields)
{
	struct execution *e = sample_execution();
	cJSON *r = report__json(e);
	static const char *const paths[] = {
		"execution.session", "execution.agent", "execution.task", "execution.command",
		"execution.pid", "execution.status", "execution.exit_code", "execution.signal",
		"execution.failure", "execution.started_at", "execution.ended_at", "execution.duration_ms",
		"cpu.on_cpu_ns", "cpu.runqueue_wait_ns", "cpu.voluntary_switches",
		"cpu.involuntary_switches", "cpu.runqueue_latency", "memory.peak_rss_bytes",
		"memory.minor_faults", "memory.major_faults", "syscalls.total", "syscalls.errors",
		"syscalls.by_name", "network.tcp.sent_bytes", "network.udp.recv_bytes",
		"network.unix.sent_bytes", "network.other.recv_bytes", "network.tcp_retransmits",
		"network.connects", "processes", "observer.lost_events", "observer.unavailable",
	};

	ASSERT(r != NULL, "no report");
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		CHECK(harness__get(r, paths[i]) != NULL, "missing %s", paths[i]);
	CHECK_EQ(harness__num(r, "schema"), 1);
	CHECK_STR(harness__str(r, "execution.status"), "failed");
	CHECK(cJSON_IsNull(harness__get(r, "execution.exit_code")), "exit_code not null");
	CHECK_EQ(harness__num(r, "execution.signal"), SIGKILL);
	CHECK_STR(harness__str(r, "execution.failure.category"), "killed");
	CHECK_EQ(harness__num(r, "execution.failure.evidence.sender_pid"), 77);
	CHECK_STR(harness__str(r, "execution.failure.evidence.sender_comm"), "oom-reaper");
	CHECK_EQ(harness__num(r, "execution.duration_ms"), 2500);
	CHECK_STR(harness__str(r, "execution.started_at"), "2026-11-18T11:06:40.000Z");
	CHECK_EQ(cJSON_GetArraySize(harness__get(r, "execution.command")), 2);
	CHECK_EQ(harness__num(r, "syscalls.by_name.getppid.count"), 4);
	CHECK_EQ(harness__num(r, "syscalls.by_name.getppid.errors"), 1);
	CHECK_EQ(harness__num(r, "syscalls.by_name.getppid.p99_ns"), 831);
	CHECK_EQ(harness__num(r, "syscalls.total"), 4);
	CHECK_EQ(harness__num(r, "network.udp.sent_bytes"), 4242);
	CHECK_EQ(harness__num(r, "cpu.runqueue_latency.count"), 2);
	CHECK_STR(harness__str(harness__get(r, "processes")->child, "comm"), "make");
	cJSON_Delete(r);
	execution__free(e);
}

TEST(report_text_reads_like_time_v)
{
	struct execution *e = sample_execution();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	report__print_text(f, e);
	fclose(f);
	CHECK(strstr(text, "Command being tracked: make -j8") != NULL, "no command line:\n%s", text);
	CHECK(strstr(text, "failed: killed by SIGKILL from pid 77 (oom-reaper)") != NULL, "no reason:\n%s", text);
	CHECK(strstr(text, "Exit status (as a shell sees it):    137") != NULL, "no shell status:\n%s", text);
	CHECK(strstr(text, "On-CPU time (whole tree):            1.235 ms") != NULL, "no CPU:\n%s", text);
	CHECK(strstr(text, "Network udp sent/received:           4242 / 0 bytes") != NULL, "no UDP:\n%s", text);
	CHECK(strstr(text, "getppid") != NULL, "no syscall table:\n%s", text);
	CHECK(strstr(text, "4 -> 7 : 2 ") != NULL, "no run-queue histogram:\n%s", text);
	free(text);
	execution__free(e);
}
