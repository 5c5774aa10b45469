/* SPDX-License-Identifier: MIT */
/* Flat records of executions, their syscalls and samples: what history stores and the API shows. */
#ifndef RECORD_H
#define RECORD_H

#include <stdbool.h>
#include <linux/types.h>
#include "history/exec_metrics.h"

#define REC_NAME_LEN	128
#define REC_TEXT_LEN	1024

/* One execution: the JSON report's execution fields plus summary metrics. */
struct exec_record {
	__u64 id;			/* unique for the life of the database; 0 = not stored yet */
	char session[REC_NAME_LEN];
	char agent[REC_NAME_LEN];
	char task[REC_NAME_LEN];
	char command[REC_TEXT_LEN];	/* JSON array of strings */
	char labels[REC_TEXT_LEN];	/* JSON object of string values, "{}" when none */
	int pid;
	char status[32];		/* "running", "completed", "failed", "detached", "stopped_by_orchestrator" */
	bool has_exit_code;
	int exit_code;
	bool has_signal;
	int signal;
	char failure_category[16];	/* "" when it did not fail */
	char failure_reason[256];
	char failure_evidence[REC_TEXT_LEN];	/* JSON object, "{}" when none */
	__u64 started_at_ms;		/* Unix epoch milliseconds */
	__u64 ended_at_ms;		/* 0 while running */
	__u64 duration_ms;
	int retry_count;		/* earlier failed executions with the same session, agent, task */
	int completed_steps;		/* progress reported by the orchestrator; -1 unknown */
	int total_steps;
	char current_step[REC_NAME_LEN];
	/* the summary metrics (in RECORD or BOTH), on_cpu_ns, peak_rss_bytes, ... */
	EXEC_METRICS(EXEC_METRIC_RECORD_FIELD)
};

struct syscall_row {
	char name[32];
	__u64 count;
	__u64 errors;
	__u64 total_ns;
	__u64 p50_ns;
	__u64 p90_ns;
	__u64 p99_ns;
	__u64 max_ns;
};

/* A point of an execution's time series (cumulative counters, current RSS). */
struct sample_row {
	__u64 exec_id;
	__u64 ts_ms;
	/* the sampled metrics (in SAMPLE or BOTH), on_cpu_ns, rss_bytes, ... */
	EXEC_METRICS(EXEC_METRIC_SAMPLE_FIELD)
};

/* Filters of a listing; empty strings and zeroes mean "any". */
struct exec_filter {
	char status[32];
	char session[REC_NAME_LEN];
	char agent[REC_NAME_LEN];
	__u64 since_ms;
	int limit;			/* 0: a default of 100 */
};

/* One orchestration (session), derived from its executions. */
struct orch_record {
	char session[REC_NAME_LEN];
	char status[16];		/* "running", "completed", "failed", "partial" */
	int executions;
	int running;
	int completed;
	int failed;
	__u64 started_at_ms;
	__u64 ended_at_ms;		/* 0 while any execution runs */
};

/* Per-agent performance over finished executions. */
struct perf_record {
	char agent[REC_NAME_LEN];
	int count;
	int succeeded;
	double success_rate;		/* 0..1 */
	__u64 min_ms, avg_ms, p50_ms, p95_ms, max_ms;
};

#endif
