// SPDX-License-Identifier: MIT
/* /metrics: Prometheus text exposition of running executions, per-agent roll-ups and the observer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "alerts/alerts.h"
#include "daemon/agent_totals.h"
#include "daemon/metric_labels.h"
#include "daemon/metrics.h"
#include "daemon/prom.h"
#include "daemon/status.h"
#include "history/exec_metrics.h"
#include "lib/version.h"
#include "observe/host.h"
#include "observe/probes.h"
#include "observe/tracker.h"

struct live_list {
	const struct execution **e;
	int n, cap;
};

static int list_live(struct execution *e, void *ctx)
{
	struct live_list *l = ctx;

	if (l->n < l->cap)
		l->e[l->n++] = e;
	return 0;
}

/* Tasks read per scrape for the syscall a thread is blocked in (as the alert source reads them). */
#define METRICS_MAX_TASKS 8192

/* The longest any thread of e has been inside one syscall, in ns. */
static __u64 blocked_ns(const struct execution *e, const struct ww_task_info *tasks, int ntasks, __u64 now_mono)
{
	__u64 blocked = 0;

	for (int i = 0; i < ntasks; i++)
		if (tasks[i].exec_id == e->id && tasks[i].sys_enter_ts && now_mono > tasks[i].sys_enter_ts &&
		    now_mono - tasks[i].sys_enter_ts > blocked)
			blocked = now_mono - tasks[i].sys_enter_ts;
	return blocked;
}

/*
 * The running executions' gauges that need more than the execution itself:
 * its threads inside a syscall (from the task list) and its cgroup's memory
 * limit, which the rules of tools/mixin/ read as the built-in rules do.
 */
static void running_extra_series(struct prom_buf *b, const struct live_list *live,
				 const struct ww_task_info *tasks, int ntasks)
{
	__u64 now_mono = tracker__now_mono();

	prom__family(b, "workerwatch_running_execution_syscall_blocked_seconds", "gauge",
		     "The longest any thread of a running execution has been inside one syscall now.");
	for (int i = 0; i < live->n; i++) {
		const struct execution *e = live->e[i];
		char id[24];
		const char *labels[] = { "execution", id, "session", e->session, "agent", e->agent, NULL };

		snprintf(id, sizeof(id), "%llu", (unsigned long long)e->db_id);
		prom__sample(b, "workerwatch_running_execution_syscall_blocked_seconds", labels,
			     blocked_ns(e, tasks, ntasks, now_mono) / 1e9);
	}
	prom__family(b, "workerwatch_running_execution_memory_limit_bytes", "gauge",
		     "The memory limit of a running execution's cgroup (the smallest up the tree), else the host's memory.");
	for (int i = 0; i < live->n; i++) {
		const struct execution *e = live->e[i];
		char id[24];
		const char *labels[] = { "execution", id, "session", e->session, "agent", e->agent, NULL };

		snprintf(id, sizeof(id), "%llu", (unsigned long long)e->db_id);
		prom__sample(b, "workerwatch_running_execution_memory_limit_bytes", labels,
			     (double)host__memory_limit(e->pid));
	}
}

/* Running executions carry an execution label; finished ones only roll up per agent. */
static void running_series(struct prom_buf *b, const struct daemon_status *st)
{
	struct live_list live = { .cap = tracker__count(st->tracker) };
	struct ww_task_info *tasks = NULL;
	int ntasks;

	/* one pass of the task iterator: it charges the CPU not yet charged and tells who is in a syscall */
	if (live.cap)
		tasks = calloc(METRICS_MAX_TASKS, sizeof(*tasks));
	ntasks = tracker__collect_live(st->tracker, NULL, tasks, tasks ? METRICS_MAX_TASKS : 0);
	if (ntasks < 0 || !tasks)
		ntasks = 0;
	/* rendering changes no execution: the list stays valid to the end */
	live.e = calloc(live.cap ? live.cap : 1, sizeof(*live.e));
	if (live.e)
		tracker__foreach(st->tracker, list_live, &live);
	/* the metrics table's series, in its order */
	for (int m = 0; m < NR_EXEC_METRICS; m++) {
		const struct exec_metric_desc *d = &exec_metrics[m];

		if (!d->prom_name)
			continue;
		prom__family(b, d->prom_name, d->prom_type, d->prom_help);
		for (int i = 0; i < live.n; i++) {
			const struct execution *e = live.e[i];
			char id[24];
			const char *labels[9 + 2 * METRIC_LABELS_MAX] = { "execution", id, "session", e->session,
									   "agent", e->agent };
			int n = 6;

			/* the row's own label (PROM_BY), then the allowlisted execution labels (--metric-labels) */
			if (d->prom_label) {
				labels[n++] = d->prom_label;
				labels[n++] = d->prom_label_value;
			}
			int end = n + metric_labels__pairs(st->metric_labels, e->labels, labels + n);

			/* an execution label named like the row's own one would make the series invalid */
			for (int k = n; d->prom_label && k < end; k += 2)
				if (!strcmp(labels[k], d->prom_label)) {
					memmove(&labels[k], &labels[k + 2], (end - k - 2) * sizeof(labels[0]));
					end -= 2;
					k -= 2;
				}
			labels[end] = NULL;
			snprintf(id, sizeof(id), "%llu", (unsigned long long)e->db_id);
			prom__sample(b, d->prom_name, labels, exec_metric__value(e, m) / d->prom_div);
		}
	}
	running_extra_series(b, &live, tasks, ntasks);
	free(live.e);
	free(tasks);
}

static void observer_series(struct prom_buf *b, const struct daemon_status *st)
{
	static const char *const reasons[WW_CNT_MAX] = {
		[WW_CNT_LIFECYCLE_LOST] = "lifecycle_ring_full", [WW_CNT_ANOMALY_LOST] = "slow_syscall_ring_full",
		[WW_CNT_PROC_MAP_FULL] = "process_map_full", [WW_CNT_SYSCALL_MAP_FULL] = "syscall_map_full",
		[WW_CNT_SOCK_MAP_FULL] = "socket_map_full", [WW_CNT_STORAGE_FAIL] = "task_storage_failed",
		[WW_CNT_EXEC_MAP_FULL] = "execution_map_full", [WW_CNT_ORCH_MAP_FULL] = "orchestrator_map_full",
	};
	__u64 cnt[WW_CNT_MAX] = {}, attach_errors = 0;
	enum probes_state state;

	prom__family(b, "workerwatch_executions_running", "gauge", "Executions tracked now.");
	prom__sample(b, "workerwatch_executions_running", NULL, tracker__count(st->tracker));
	prom__family(b, "workerwatch_executions_started_total", "counter", "Executions started since the daemon started.");
	prom__sample(b, "workerwatch_executions_started_total", NULL, (double)st->executions_started);
	prom__family(b, "workerwatch_orchestrators", "gauge", "Orchestrators whose children become executions.");
	prom__sample(b, "workerwatch_orchestrators", NULL, st->orchestrators);
	prom__family(b, "workerwatch_probes_attached", "gauge", "1 while the BPF programs are attached.");
	prom__sample(b, "workerwatch_probes_attached", NULL, probes__attached(st->probes));
	state = probes__state(st->probes, &attach_errors);
	prom__family(b, "workerwatch_probes_state", "gauge",
		     "1 for the BPF programs' state: idle (nothing tracked), attached, or failed (the last attach failed).");
	for (enum probes_state s = PROBES_IDLE; s <= PROBES_FAILED; s++) {
		const char *labels[] = { "state", probes__state_name(s), NULL };

		prom__sample(b, "workerwatch_probes_state", labels, s == state);
	}
	prom__family(b, "workerwatch_probes_attach_errors_total", "counter", "Attaches of the BPF programs that failed.");
	prom__sample(b, "workerwatch_probes_attach_errors_total", NULL, (double)attach_errors);
	prom__family(b, "workerwatch_lost_events_total", "counter", "Events or records the kernel side could not keep, by reason.");
	probes__counters(st->probes, cnt);
	for (int i = 0; i < WW_CNT_MAX; i++) {
		const char *labels[] = { "reason", reasons[i], NULL };

		if (reasons[i])
			prom__sample(b, "workerwatch_lost_events_total", labels, (double)cnt[i]);
	}
	prom__family(b, "workerwatch_history_write_errors_total", "counter", "Failed writes to the history database.");
	prom__sample(b, "workerwatch_history_write_errors_total", NULL, (double)st->db_errors);
}

struct alert_walk {
	struct prom_buf *b;
	struct metric_labels *allowed;
};

/* An execution's label on an alert's series only if /metrics allows its name. */
static bool allowed_label(void *ctx, const char *name)
{
	return metric_labels__allows(((struct alert_walk *)ctx)->allowed, name);
}

static void alert_sample(void *ctx, const struct labelset *ls, const char *state)
{
	const char *labels[2 * (LABELS_MAX + 1) + 1];
	int n = 0;

	labels[n++] = "alertstate";
	labels[n++] = state;
	for (int i = 0; i < ls->n; i++) {
		/* "host" is the scraper's target label in many fleets: here it is the hostname */
		labels[n++] = strcmp(ls->l[i].name, "host") ? ls->l[i].name : "hostname";
		labels[n++] = ls->l[i].value;
	}
	labels[n] = NULL;
	prom__sample(((struct alert_walk *)ctx)->b, "workerwatch_alert", labels, 1);
}

/* Alerts as Prometheus's ALERTS series (under our own name, so it cannot clash with a scraper's), and delivery. */
static void alert_series(struct prom_buf *b, struct alerts *alerts, struct metric_labels *allowed)
{
	struct alert_walk walk = { b, allowed };
	static const char *const results[] = { "sent", "retry", "dead" };
	struct receiver_stats st[RECEIVERS_MAX];
	struct alert_counts c;
	int n = alerts__receiver_stats(alerts, st, RECEIVERS_MAX);
	static const char *const states[] = { "pending", "firing", "resolving", "resolved" };

	alerts__counts(alerts, &c);
	prom__family(b, "workerwatch_alert", "gauge",
		     "1 for each pending, firing or resolving alert, with its labels (like Prometheus's ALERTS).");
	alerts__foreach_active(alerts, alert_sample, allowed_label, &walk);
	prom__family(b, "workerwatch_alerts", "gauge", "Alerts by state.");
	for (int i = 0; i < 4; i++) {
		const char *labels[] = { "state", states[i], NULL };
		int v = i == 0 ? c.pending : i == 1 ? c.firing : i == 2 ? c.resolving : c.resolved;

		prom__sample(b, "workerwatch_alerts", labels, v);
	}
	prom__family(b, "workerwatch_alerts_acknowledged", "gauge", "Active alerts that are acknowledged.");
	prom__sample(b, "workerwatch_alerts_acknowledged", NULL, c.acknowledged);
	prom__family(b, "workerwatch_alert_rules", "gauge", "Enabled alert rules.");
	prom__sample(b, "workerwatch_alert_rules", NULL, c.rules);
	prom__family(b, "workerwatch_alert_rules_in_error", "gauge", "Alert rules whose last evaluation failed.");
	prom__sample(b, "workerwatch_alert_rules_in_error", NULL, c.rules_in_error);
	prom__family(b, "workerwatch_alert_evaluations_total", "counter", "Rule evaluation rounds.");
	prom__sample(b, "workerwatch_alert_evaluations_total", NULL, (double)c.evaluations);
	prom__family(b, "workerwatch_notifications_total", "counter",
		     "Notification delivery attempts by receiver and result (sent, retry, dead).");
	for (int i = 0; i < n; i++)
		for (int r = 0; r < 3; r++) {
			const char *labels[] = { "receiver", st[i].name, "type", st[i].type, "result", results[r], NULL };

			prom__sample(b, "workerwatch_notifications_total", labels,
				     (double)(r == 0 ? st[i].sent : r == 1 ? st[i].retries : st[i].dead));
		}
	prom__family(b, "workerwatch_notifications_queued", "gauge", "Notifications waiting in the outbox, by receiver.");
	for (int i = 0; i < n; i++) {
		const char *labels[] = { "receiver", st[i].name, NULL };

		prom__sample(b, "workerwatch_notifications_queued", labels, (double)st[i].pending);
	}
	prom__family(b, "workerwatch_notification_delivery_seconds", "histogram",
		     "Times from queueing to delivery of sent notifications, by receiver.");
	for (int i = 0; i < n; i++) {
		const char *labels[] = { "receiver", st[i].name, NULL };

		prom__histogram(b, "workerwatch_notification_delivery_seconds", labels, notify_latency_bounds,
				st[i].latency_buckets, NOTIFY_LATENCY_BOUNDS, st[i].latency_sum_s, st[i].sent);
	}
}

/* What the daemon is: as every Prometheus exporter says it, a constant 1 with labels. */
static void build_series(struct prom_buf *b)
{
	char libbpf[16];
	const char *labels[] = { "version", WORKERWATCH_VERSION, "libbpf", libbpf, NULL };

	snprintf(libbpf, sizeof(libbpf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	prom__family(b, "workerwatch_build_info", "gauge", "workerwatch's version and the libbpf it runs with.");
	prom__sample(b, "workerwatch_build_info", labels, 1);
}

/* The daemon process's own cost, under the names client libraries use. */
static void process_series(struct prom_buf *b)
{
	struct process_usage u;
	const char *user[] = { "mode", "user", NULL }, *system[] = { "mode", "system", NULL };

	host__self(&u);
	prom__family(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
	prom__sample(b, "process_cpu_seconds_total", NULL, u.user_s + u.system_s);
	prom__family(b, "workerwatch_daemon_cpu_seconds_total", "counter",
		     "CPU time of the daemon process by mode, as the kernel splits it (getrusage).");
	prom__sample(b, "workerwatch_daemon_cpu_seconds_total", user, u.user_s);
	prom__sample(b, "workerwatch_daemon_cpu_seconds_total", system, u.system_s);
	prom__family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	prom__sample(b, "process_resident_memory_bytes", NULL, (double)u.rss_bytes);
	prom__family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	prom__sample(b, "process_virtual_memory_bytes", NULL, (double)u.virtual_bytes);
	prom__family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
	prom__sample(b, "process_open_fds", NULL, (double)u.open_fds);
	prom__family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
	prom__sample(b, "process_max_fds", NULL, (double)u.max_fds);
	prom__family(b, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
	prom__sample(b, "process_start_time_seconds", NULL, u.start_time_s);
}

/* The kernel side's cost: each BPF program's run time and runs, from the kernel's own statistics. */
static void bpf_series(struct prom_buf *b, struct probes *p)
{
	struct probe_prog_stats st[64];
	int n = probes__prog_stats(p, st, 64);

	prom__family(b, "workerwatch_bpf_stats_enabled", "gauge",
		     "1 while the kernel times BPF programs (the run time below grows only then).");
	prom__sample(b, "workerwatch_bpf_stats_enabled", NULL, probes__stats_enabled(p));
	prom__family(b, "workerwatch_bpf_program_run_seconds_total", "counter",
		     "Time the kernel spent running each of workerwatch's BPF programs (while statistics were on).");
	for (int i = 0; i < n; i++) {
		const char *labels[] = { "program", st[i].name, NULL };

		prom__sample(b, "workerwatch_bpf_program_run_seconds_total", labels, st[i].run_time_ns / 1e9);
	}
	prom__family(b, "workerwatch_bpf_program_runs_total", "counter",
		     "Runs of each of workerwatch's BPF programs (while statistics were on).");
	for (int i = 0; i < n; i++) {
		const char *labels[] = { "program", st[i].name, NULL };

		prom__sample(b, "workerwatch_bpf_program_runs_total", labels, (double)st[i].run_count);
	}
	prom__family(b, "workerwatch_bpf_program_recursion_misses_total", "counter",
		     "Runs of each BPF program the kernel skipped because it was already running on that CPU.");
	for (int i = 0; i < n; i++) {
		const char *labels[] = { "program", st[i].name, NULL };

		prom__sample(b, "workerwatch_bpf_program_recursion_misses_total", labels, (double)st[i].recursion_misses);
	}
}


char *metrics__render(const struct daemon_status *st)
{
	struct prom_buf *b = prom__new();
	char *text;

	if (!b)
		return NULL;
	build_series(b);
	running_series(b, st);
	agent_totals__render(st->agents, b);
	metric_labels__render(st->metric_labels, b);
	observer_series(b, st);
	bpf_series(b, st->probes);
	process_series(b);
	if (st->alerts)
		alert_series(b, st->alerts, st->metric_labels);
	text = prom__take(b);
	prom__free(b);
	return text;
}
