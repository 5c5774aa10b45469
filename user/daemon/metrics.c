// SPDX-License-Identifier: MIT
/* /metrics: Prometheus text exposition of running executions, per-agent roll-ups and the observer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alerts/alerts.h"
#include "daemon/agent_totals.h"
#include "daemon/metric_labels.h"
#include "daemon/metrics.h"
#include "daemon/prom.h"
#include "daemon/status.h"
#include "history/exec_metrics.h"
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

/* Running executions carry an execution label; finished ones only roll up per agent. */
static void running_series(struct prom_buf *b, const struct daemon_status *st)
{
	struct live_list live = { .cap = tracker__count(st->tracker) };

	tracker__collect_live(st->tracker, NULL, NULL, 0);
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
			const char *labels[7 + 2 * METRIC_LABELS_MAX] = { "execution", id, "session", e->session,
									   "agent", e->agent };

			/* the allowlisted execution labels, if any (--metric-labels) */
			labels[6 + metric_labels__pairs(st->metric_labels, e->labels, labels + 6)] = NULL;
			snprintf(id, sizeof(id), "%llu", (unsigned long long)e->db_id);
			prom__sample(b, d->prom_name, labels, exec_metric__value(e, m) / d->prom_div);
		}
	}
	free(live.e);
}

static void observer_series(struct prom_buf *b, const struct daemon_status *st)
{
	static const char *const reasons[WW_CNT_MAX] = {
		[WW_CNT_LIFECYCLE_LOST] = "lifecycle_ring_full", [WW_CNT_ANOMALY_LOST] = "slow_syscall_ring_full",
		[WW_CNT_PROC_MAP_FULL] = "process_map_full", [WW_CNT_SYSCALL_MAP_FULL] = "syscall_map_full",
		[WW_CNT_SOCK_MAP_FULL] = "socket_map_full", [WW_CNT_STORAGE_FAIL] = "task_storage_failed",
		[WW_CNT_EXEC_MAP_FULL] = "execution_map_full", [WW_CNT_ORCH_MAP_FULL] = "orchestrator_map_full",
	};
	__u64 cnt[WW_CNT_MAX] = {};

	prom__family(b, "workerwatch_executions_running", "gauge", "Executions tracked now.");
	prom__sample(b, "workerwatch_executions_running", NULL, tracker__count(st->tracker));
	prom__family(b, "workerwatch_executions_started_total", "counter", "Executions started since the daemon started.");
	prom__sample(b, "workerwatch_executions_started_total", NULL, (double)st->executions_started);
	prom__family(b, "workerwatch_orchestrators", "gauge", "Orchestrators whose children become executions.");
	prom__sample(b, "workerwatch_orchestrators", NULL, st->orchestrators);
	prom__family(b, "workerwatch_probes_attached", "gauge", "1 while the BPF programs are attached.");
	prom__sample(b, "workerwatch_probes_attached", NULL, probes__attached(st->probes));
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
		labels[n++] = ls->l[i].name;
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
	prom__family(b, "workerwatch_notification_delivery_seconds_total", "counter",
		     "Sum of the times from queueing to delivery of sent notifications, by receiver.");
	for (int i = 0; i < n; i++) {
		const char *labels[] = { "receiver", st[i].name, NULL };

		prom__sample(b, "workerwatch_notification_delivery_seconds_total", labels, st[i].latency_sum_s);
	}
}

char *metrics__render(const struct daemon_status *st)
{
	struct prom_buf *b = prom__new();
	char *text;

	if (!b)
		return NULL;
	running_series(b, st);
	agent_totals__render(st->agents, b);
	metric_labels__render(st->metric_labels, b);
	observer_series(b, st);
	if (st->alerts)
		alert_series(b, st->alerts, st->metric_labels);
	text = prom__take(b);
	prom__free(b);
	return text;
}
