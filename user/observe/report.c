// SPDX-License-Identifier: MIT
/* The execution report: JSON (schema 1, docs/REPORT.md) and the human text form. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "lib/clock.h"
#include "lib/json.h"
#include "observe/hist.h"
#include "observe/syscalls.h"
#include "observe/report.h"

static const char *const net_names[WW_NET_MAX] = { "tcp", "udp", "unix", "other" };

/* Event timestamps are CLOCK_MONOTONIC; the execution knows both clocks at its start. */
static __u64 realtime_of(const struct execution *e, __u64 mono_ns)
{
	return e->start_realtime_ns + (mono_ns - e->start_ns);
}

cJSON *report__hist_json(const __u64 *hist, __u64 max_ns)
{
	cJSON *h = cJSON_CreateObject(), *buckets;

	json__add_u64(h, "count", hist__total(hist));
	json__add_u64(h, "p50_ns", hist__quantile(hist, 0.50, max_ns));
	json__add_u64(h, "p90_ns", hist__quantile(hist, 0.90, max_ns));
	json__add_u64(h, "p99_ns", hist__quantile(hist, 0.99, max_ns));
	buckets = cJSON_AddArrayToObject(h, "buckets");
	for (unsigned int b = 0; b < WW_HIST_BUCKETS; b++) {
		cJSON *bucket;

		if (!hist[b])
			continue;
		bucket = cJSON_CreateObject();
		json__add_u64(bucket, "low_ns", hist__bucket_low(b));
		json__add_u64(bucket, "high_ns", hist__bucket_high(b));
		json__add_u64(bucket, "count", hist[b]);
		cJSON_AddItemToArray(buckets, bucket);
	}
	return h;
}

static void add_status_fields(cJSON *obj, int status, bool exited)
{
	if (exited && WIFEXITED(status))
		cJSON_AddNumberToObject(obj, "exit_code", WEXITSTATUS(status));
	else
		cJSON_AddNullToObject(obj, "exit_code");
	if (exited && WIFSIGNALED(status))
		cJSON_AddNumberToObject(obj, "signal", WTERMSIG(status));
	else
		cJSON_AddNullToObject(obj, "signal");
}

cJSON *report__oom_kill_json(const struct failure *f)
{
	cJSON *oom = cJSON_CreateObject();

	cJSON_AddStringToObject(oom, "killer", "kernel OOM killer");
	cJSON_AddNumberToObject(oom, "trigger_pid", f->oom_trigger_pid);
	cJSON_AddStringToObject(oom, "trigger_comm", f->oom_trigger_comm);
	cJSON_AddStringToObject(oom, "victim_memory_cgroup", f->oom_memcg);
	return oom;
}

static cJSON *failure_json(const struct execution *e, const struct failure *f)
{
	cJSON *obj, *ev;

	if (f->category == FAILURE_NONE)
		return cJSON_CreateNull();
	obj = cJSON_CreateObject();
	cJSON_AddStringToObject(obj, "category", failure__category_name(f->category));
	cJSON_AddStringToObject(obj, "reason", f->reason);
	ev = cJSON_AddObjectToObject(obj, "evidence");
	add_status_fields(ev, e->exit_status, !e->exec_errno);
	if (f->signal) {
		char name[16];

		snprintf(name, sizeof(name), "SIG%s", sigabbrev_np(f->signal));
		cJSON_AddStringToObject(ev, "signal_name", name);
		cJSON_AddBoolToObject(ev, "core_dumped", f->core_dumped);
	}
	if (f->sender_pid) {
		cJSON_AddNumberToObject(ev, "sender_pid", f->sender_pid);
		cJSON_AddStringToObject(ev, "sender_comm", f->sender_comm);
	}
	if (f->oom_victims) {
		cJSON_AddNumberToObject(ev, "oom_victims", f->oom_victims);
		cJSON_AddItemToObject(ev, "oom_kill", report__oom_kill_json(f));
	}
	if (e->exec_errno) {
		cJSON_AddStringToObject(ev, "errno", strerrorname_np(e->exec_errno));
		cJSON_AddNumberToObject(ev, "exit_code", execution__shell_status(e));
	}
	return obj;
}

static cJSON *execution_json(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject(), *cmd;
	struct failure f;
	char ts[40];

	execution__classify(e, &f);
	cJSON_AddNumberToObject(obj, "id", (double)e->id);
	cJSON_AddStringToObject(obj, "session", e->session);
	cJSON_AddStringToObject(obj, "agent", e->agent);
	cJSON_AddStringToObject(obj, "task", e->task);
	cmd = cJSON_AddArrayToObject(obj, "command");
	for (char **a = e->argv; a && *a; a++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	cJSON_AddNumberToObject(obj, "pid", e->pid);
	if (execution__stopped_by_orchestrator(e))
		f.category = FAILURE_NONE;	/* its own orchestrator ended it: an outcome, not a failure */
	cJSON_AddStringToObject(obj, "status", !e->ended ? "running" :
				execution__stopped_by_orchestrator(e) ? "stopped_by_orchestrator" :
				f.category == FAILURE_NONE ? "completed" : "failed");
	if (e->exec_errno) {
		cJSON_AddNumberToObject(obj, "exit_code", execution__shell_status(e));
		cJSON_AddNullToObject(obj, "signal");
	} else {
		add_status_fields(obj, e->exit_status, e->ended);
	}
	cJSON_AddItemToObject(obj, "failure", failure_json(e, &f));
	clock__rfc3339(e->start_realtime_ns, ts, sizeof(ts));
	cJSON_AddStringToObject(obj, "started_at", ts);
	if (e->ended) {
		clock__rfc3339(e->end_realtime_ns, ts, sizeof(ts));
		cJSON_AddStringToObject(obj, "ended_at", ts);
	} else {
		cJSON_AddNullToObject(obj, "ended_at");
	}
	json__add_u64(obj, "duration_ms", (e->end_ns - e->start_ns) / 1000000);
	return obj;
}

static cJSON *cpu_json(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject();

	json__add_u64(obj, "on_cpu_ns", e->totals.on_cpu_ns);
	json__add_u64(obj, "user_cpu_ns", execution__user_cpu_ns(e));
	json__add_u64(obj, "system_cpu_ns", execution__system_cpu_ns(e));
	json__add_u64(obj, "runqueue_wait_ns", e->totals.rq_wait_ns);
	json__add_u64(obj, "voluntary_switches", e->totals.nvcsw);
	json__add_u64(obj, "involuntary_switches", e->totals.nivcsw);
	cJSON_AddItemToObject(obj, "runqueue_latency", report__hist_json(e->totals.rq_hist, 0));
	return obj;
}

static cJSON *memory_json(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject(), *split;
	__u64 page = (__u64)sysconf(_SC_PAGESIZE), max_proc = 0;

	for (int i = 0; i < e->nr_procs; i++)
		if (e->procs[i].maxrss_bytes > max_proc)
			max_proc = e->procs[i].maxrss_bytes;
	/* the honest figure first: shared pages once (docs/REPORT.md) */
	json__add_u64(obj, "peak_memory_bytes", execution__peak_memory_bytes(e));
	json__add_u64(obj, "peak_rss_bytes", e->mem.peak_pages * page);
	split = cJSON_AddObjectToObject(obj, "peak_rss_split");
	json__add_u64(split, "file_bytes", e->mem.peak_split[0] * page);
	json__add_u64(split, "anon_bytes", e->mem.peak_split[1] * page);
	json__add_u64(split, "shmem_bytes", e->mem.peak_split[2] * page);
	json__add_u64(obj, "max_process_rss_bytes", max_proc);
	json__add_u64(obj, "minor_faults", e->totals.minflt);
	json__add_u64(obj, "major_faults", e->totals.majflt);
	return obj;
}

static cJSON *syscalls_json(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject(), *by_name;
	__u64 total = 0, errors = 0;
	char buf[32];

	by_name = cJSON_CreateObject();
	for (int i = 0; i < e->nr_syscalls; i++) {
		const struct ww_syscall_stats *s = &e->syscalls[i].stats;
		cJSON *sc = cJSON_CreateObject();

		total += s->count;
		errors += s->errors;
		json__add_u64(sc, "count", s->count);
		json__add_u64(sc, "errors", s->errors);
		json__add_u64(sc, "total_ns", s->total_ns);
		json__add_u64(sc, "p50_ns", hist__quantile(s->hist, 0.50, s->max_ns));
		json__add_u64(sc, "p90_ns", hist__quantile(s->hist, 0.90, s->max_ns));
		json__add_u64(sc, "p99_ns", hist__quantile(s->hist, 0.99, s->max_ns));
		json__add_u64(sc, "max_ns", s->max_ns);
		cJSON_AddItemToObject(by_name, syscall__name(e->syscalls[i].nr, buf, sizeof(buf)), sc);
	}
	json__add_u64(obj, "total", total);
	json__add_u64(obj, "errors", errors);
	cJSON_AddItemToObject(obj, "by_name", by_name);
	return obj;
}

cJSON *report__syscall_histograms(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject();
	char buf[32];

	for (int i = 0; i < e->nr_syscalls; i++)
		cJSON_AddItemToObject(obj, syscall__name(e->syscalls[i].nr, buf, sizeof(buf)),
				      report__hist_json(e->syscalls[i].stats.hist, e->syscalls[i].stats.max_ns));
	return obj;
}

cJSON *report__slow_json(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject(), *events;
	char buf[32], ts[40];

	json__add_u64(obj, "threshold_ns", e->slow_threshold_ns);
	events = cJSON_AddArrayToObject(obj, "events");
	for (int i = 0; i < e->nr_slow; i++) {
		const struct slow_syscall *s = &e->slow[i];
		cJSON *ev = cJSON_CreateObject();

		cJSON_AddNumberToObject(ev, "pid", s->pid);
		cJSON_AddStringToObject(ev, "syscall", syscall__name(s->nr, buf, sizeof(buf)));
		json__add_u64(ev, "duration_ns", s->duration_ns);
		cJSON_AddNumberToObject(ev, "ret", (double)s->ret);
		clock__rfc3339(realtime_of(e, s->ts_ns), ts, sizeof(ts));
		cJSON_AddStringToObject(ev, "ended_at", ts);
		cJSON_AddItemToArray(events, ev);
	}
	json__add_u64(obj, "dropped", e->slow_dropped);
	return obj;
}

static cJSON *network_json(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject();
	__u64 established = e->totals.connects - e->totals.connects_failed;

	for (int p = 0; p < WW_NET_MAX; p++) {
		cJSON *proto = cJSON_AddObjectToObject(obj, net_names[p]);

		json__add_u64(proto, "sent_bytes", e->totals.net_bytes[p][0]);
		json__add_u64(proto, "recv_bytes", e->totals.net_bytes[p][1]);
	}
	json__add_u64(obj, "tcp_retransmits", e->totals.tcp_retransmits);
	json__add_u64(obj, "connects", e->totals.connects);
	json__add_u64(obj, "connects_failed", e->totals.connects_failed);
	json__add_u64(obj, "connect_latency_avg_ns", established ? e->totals.connect_ns / established : 0);
	json__add_u64(obj, "connect_latency_max_ns", e->totals.connect_max_ns);
	return obj;
}

static cJSON *files_json(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject();

	json__add_u64(obj, "created", e->totals.files_created);
	json__add_u64(obj, "opened_for_writing", e->totals.files_written);
	return obj;
}

static cJSON *processes_json(const struct execution *e)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < e->nr_procs; i++) {
		const struct process *p = &e->procs[i];
		cJSON *obj = cJSON_CreateObject();

		cJSON_AddNumberToObject(obj, "pid", p->pid);
		cJSON_AddNumberToObject(obj, "ppid", p->ppid);
		cJSON_AddStringToObject(obj, "comm", p->comm);
		if (p->filename[0])
			cJSON_AddStringToObject(obj, "filename", p->filename);
		add_status_fields(obj, p->exit_status, p->exited);
		cJSON_AddBoolToObject(obj, "running", !p->exited);
		json__add_u64(obj, "on_cpu_ns", p->on_cpu_ns);
		json__add_u64(obj, "user_cpu_ns", p->user_cpu_ns);
		json__add_u64(obj, "system_cpu_ns", p->system_cpu_ns);
		json__add_u64(obj, "max_rss_bytes", p->maxrss_bytes);
		json__add_u64(obj, "minor_faults", p->minflt);
		json__add_u64(obj, "major_faults", p->majflt);
		json__add_u64(obj, "voluntary_switches", p->nvcsw);
		json__add_u64(obj, "involuntary_switches", p->nivcsw);
		cJSON_AddBoolToObject(obj, "final", p->done);
		cJSON_AddItemToArray(arr, obj);
	}
	return arr;
}

static cJSON *observer_json(const struct execution *e)
{
	cJSON *obj = cJSON_CreateObject(), *arr;

	json__add_u64(obj, "lost_events", e->lost_events);
	arr = cJSON_AddArrayToObject(obj, "unavailable");
	for (int i = 0; i < e->nr_unavailable; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(e->unavailable[i]));
	return obj;
}

cJSON *report__json(const struct execution *e)
{
	cJSON *root = cJSON_CreateObject();

	if (!root)
		return NULL;
	cJSON_AddNumberToObject(root, "schema", REPORT_SCHEMA);
	cJSON_AddItemToObject(root, "execution", execution_json(e));
	cJSON_AddItemToObject(root, "cpu", cpu_json(e));
	cJSON_AddItemToObject(root, "memory", memory_json(e));
	cJSON_AddItemToObject(root, "syscalls", syscalls_json(e));
	cJSON_AddItemToObject(root, "slow_syscalls", report__slow_json(e));
	cJSON_AddItemToObject(root, "network", network_json(e));
	cJSON_AddItemToObject(root, "files", files_json(e));
	cJSON_AddItemToObject(root, "processes", processes_json(e));
	cJSON_AddItemToObject(root, "observer", observer_json(e));
	return root;
}

int report__write_json(const struct execution *e, const char *path)
{
	cJSON *root = report__json(e);
	char *text = root ? cJSON_Print(root) : NULL;
	FILE *f = NULL;
	int err = 0;

	if (!text) {
		err = -ENOMEM;
		goto cleanup;
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0) {
		err = -errno;
		goto cleanup;
	}
cleanup:
	if (f && fclose(f) && !err)
		err = -errno;
	free(text);
	cJSON_Delete(root);
	return err;
}

static void print_duration(FILE *out, const char *label, __u64 ns)
{
	if (ns >= 1000000000ULL)
		fprintf(out, "\t%-36s %.3f s\n", label, ns / 1e9);
	else if (ns >= 1000000ULL)
		fprintf(out, "\t%-36s %.3f ms\n", label, ns / 1e6);
	else
		fprintf(out, "\t%-36s %.3f us\n", label, ns / 1e3);
}

static void print_bytes(FILE *out, const char *label, __u64 bytes)
{
	if (bytes >= 1ULL << 30)
		fprintf(out, "\t%-36s %.2f GiB (%llu bytes)\n", label, bytes / 1073741824.0,
			(unsigned long long)bytes);
	else if (bytes >= 1ULL << 20)
		fprintf(out, "\t%-36s %.2f MiB (%llu bytes)\n", label, bytes / 1048576.0,
			(unsigned long long)bytes);
	else
		fprintf(out, "\t%-36s %llu bytes\n", label, (unsigned long long)bytes);
}

static int by_total_ns_desc(const void *a, const void *b)
{
	const struct syscall_summary *x = a, *y = b;

	return x->stats.total_ns < y->stats.total_ns ? 1 : x->stats.total_ns > y->stats.total_ns ? -1 : 0;
}

static void print_syscalls(FILE *out, const struct execution *e)
{
	struct syscall_summary *sorted;
	char buf[32];
	int n = e->nr_syscalls;

	if (!n)
		return;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return;
	memcpy(sorted, e->syscalls, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_total_ns_desc);
	fprintf(out, "\nSyscalls by total time (top %d of %d):\n", n < 15 ? n : 15, n);
	fprintf(out, "\t%-20s %10s %8s %12s %10s %10s %10s %10s\n", "SYSCALL", "COUNT", "ERRORS",
		"TOTAL(us)", "P50(us)", "P90(us)", "P99(us)", "MAX(us)");
	for (int i = 0; i < n && i < 15; i++) {
		const struct ww_syscall_stats *s = &sorted[i].stats;

		fprintf(out, "\t%-20s %10llu %8llu %12.1f %10.1f %10.1f %10.1f %10.1f\n",
			syscall__name(sorted[i].nr, buf, sizeof(buf)), (unsigned long long)s->count,
			(unsigned long long)s->errors, s->total_ns / 1e3,
			hist__quantile(s->hist, 0.50, s->max_ns) / 1e3,
			hist__quantile(s->hist, 0.90, s->max_ns) / 1e3,
			hist__quantile(s->hist, 0.99, s->max_ns) / 1e3, s->max_ns / 1e3);
	}
	free(sorted);
}

void report__print_text(FILE *out, const struct execution *e)
{
	__u64 page = (__u64)sysconf(_SC_PAGESIZE), sys_total = 0, sys_errors = 0;
	int running = 0;
	struct failure f;
	char buf[64];

	execution__classify(e, &f);
	fprintf(out, "\nworkerwatch report: session %s, agent %s%s%s\n", e->session, e->agent,
		e->task[0] ? ", task " : "", e->task);
	fprintf(out, "\tCommand being tracked:");
	for (char **a = e->argv; a && *a; a++)
		fprintf(out, " %s", *a);
	fprintf(out, "\n\t%-36s %s%s%s\n", "Status:", f.category == FAILURE_NONE ? "completed" : "failed",
		f.category == FAILURE_NONE ? "" : ": ", f.category == FAILURE_NONE ? "" : f.reason);
	if (f.category != FAILURE_NONE)
		fprintf(out, "\t%-36s %s\n", "Failure category:", failure__category_name(f.category));
	fprintf(out, "\t%-36s %d\n", "Exit status (as a shell sees it):", execution__shell_status(e));
	print_duration(out, "Elapsed (wall clock):", e->end_ns - e->start_ns);
	print_duration(out, "On-CPU time (whole tree):", e->totals.on_cpu_ns);
	print_duration(out, "User time (of the on-CPU time):", execution__user_cpu_ns(e));
	print_duration(out, "System time (of the on-CPU time):", execution__system_cpu_ns(e));
	print_duration(out, "Run-queue wait:", e->totals.rq_wait_ns);
	fprintf(out, "\t%-36s %llu\n", "Voluntary context switches:", (unsigned long long)e->totals.nvcsw);
	fprintf(out, "\t%-36s %llu\n", "Involuntary context switches:", (unsigned long long)e->totals.nivcsw);
	print_bytes(out, "Peak memory (shared pages once):", execution__peak_memory_bytes(e));
	print_bytes(out, "Peak RSS (sum over processes):", e->mem.peak_pages * page);
	fprintf(out, "\t%-36s anon %llu, file %llu, shmem %llu KiB\n", "Peak RSS split:",
		(unsigned long long)(e->mem.peak_split[1] * page / 1024),
		(unsigned long long)(e->mem.peak_split[0] * page / 1024),
		(unsigned long long)(e->mem.peak_split[2] * page / 1024));
	fprintf(out, "\t%-36s %llu\n", "Minor page faults:", (unsigned long long)e->totals.minflt);
	fprintf(out, "\t%-36s %llu\n", "Major page faults:", (unsigned long long)e->totals.majflt);
	for (int i = 0; i < e->nr_syscalls; i++) {
		sys_total += e->syscalls[i].stats.count;
		sys_errors += e->syscalls[i].stats.errors;
	}
	fprintf(out, "\t%-36s %llu, %llu failed\n", "Syscalls:", (unsigned long long)sys_total,
		(unsigned long long)sys_errors);
	for (int p = 0; p < WW_NET_MAX; p++) {
		if (!e->totals.net_bytes[p][0] && !e->totals.net_bytes[p][1])
			continue;
		snprintf(buf, sizeof(buf), "Network %s sent/received:", net_names[p]);
		fprintf(out, "\t%-36s %llu / %llu bytes\n", buf,
			(unsigned long long)e->totals.net_bytes[p][0],
			(unsigned long long)e->totals.net_bytes[p][1]);
	}
	fprintf(out, "\t%-36s %llu (%llu failed), %llu retransmits\n", "TCP connects:",
		(unsigned long long)e->totals.connects, (unsigned long long)e->totals.connects_failed,
		(unsigned long long)e->totals.tcp_retransmits);
	for (int i = 0; i < e->nr_procs; i++)
		running += !e->procs[i].exited;
	fprintf(out, "\t%-36s %d (%d still running)\n", "Processes:", e->nr_procs, running);
	fprintf(out, "\t%-36s %llu\n", "Lost events:", (unsigned long long)e->lost_events);
	for (int i = 0; i < e->nr_unavailable; i++)
		fprintf(out, "\t%-36s %s\n", "Unavailable on this kernel:", e->unavailable[i]);

	print_syscalls(out, e);
	if (e->nr_slow) {
		fprintf(out, "\nSyscalls slower than %.3f s:\n", e->slow_threshold_ns / 1e9);
		for (int i = 0; i < e->nr_slow; i++)
			fprintf(out, "\tpid %-8u %-20s %.3f s  ret %lld\n", e->slow[i].pid,
				syscall__name(e->slow[i].nr, buf, sizeof(buf)),
				e->slow[i].duration_ns / 1e9, (long long)e->slow[i].ret);
	}
	fprintf(out, "\nRun-queue latency:\n");
	hist__print_log2(out, e->totals.rq_hist, "usecs", 1000);
	if (running) {
		fprintf(out, "\nStill running after the command ended (not waited for):\n");
		for (int i = 0; i < e->nr_procs; i++)
			if (!e->procs[i].exited)
				fprintf(out, "\tpid %u (%s), parent %u\n", e->procs[i].pid,
					e->procs[i].comm, e->procs[i].ppid);
	}
}
