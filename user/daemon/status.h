/* SPDX-License-Identifier: MIT */
/* What the daemon hands /health and /metrics: its handles and counters, read under its lock. */
#ifndef STATUS_H
#define STATUS_H

#include <stdbool.h>
#include <linux/types.h>

struct agent_totals;
struct alerts;
struct metric_labels;
struct probes;
struct store;
struct tracker;

struct daemon_status {
	struct probes *probes;
	struct tracker *tracker;
	struct store *store;
	struct alerts *alerts;			/* NULL when alerting is not running */
	const struct agent_totals *agents;	/* finished executions per agent */
	struct metric_labels *metric_labels;	/* the execution labels /metrics shows, NULL: none */
	const char *db_path;
	int orchestrators;
	__u64 executions_started;
	__u64 db_errors;
	bool db_ok;				/* the last history write succeeded */
	__u64 last_poll_ms;			/* the loop's last round */
};

#endif
