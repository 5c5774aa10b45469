/* SPDX-License-Identifier: MIT */
/* JSON views of history records, shared by the HTTP API and the CLI's --json. */
#ifndef VIEWS_H
#define VIEWS_H

#include "history/record.h"

struct cJSON;

/*
 * Each returns a new cJSON value the caller deletes, or NULL on allocation
 * failure. Times are RFC 3339 UTC with milliseconds; unknown values are null.
 */

/*
 * An execution: the JSON report's `execution` fields (id, session, agent,
 * task, command, pid, status, exit_code, signal, failure, started_at,
 * ended_at, duration_ms) plus labels, retry_count, progress and metrics.
 */
struct cJSON *views__exec(const struct exec_record *r);

/* Syscall rows as an object keyed by name, like the report's syscalls.by_name. */
struct cJSON *views__syscalls(const struct syscall_row *rows, int n);

/* Samples as an array of {ts, on_cpu_ns, rss_bytes, syscalls, net_sent_bytes, net_recv_bytes, processes}. */
struct cJSON *views__samples(const struct sample_row *rows, int n);

/*
 * An orchestration: session, status, counts {executions, running, completed,
 * failed}, started_at, ended_at and duration_ms (null while running).
 */
struct cJSON *views__orch(const struct orch_record *o);

/* An agent's performance: agent, count, succeeded, failed, success_rate, min/avg/p50/p95/max_ms. */
struct cJSON *views__perf(const struct perf_record *p);

/*
 * rows[0..n) as a JSON array, each through view (views__exec, views__orch,
 * ...): for the API's and the CLI's lists alike. NULL on allocation failure.
 * The caller includes cJSON.
 */
#define VIEWS_ARRAY(rows, n, view)							\
	({										\
		cJSON *arr_ = cJSON_CreateArray();					\
											\
		for (int i_ = 0; arr_ && i_ < (n); i_++) {				\
			cJSON *v_ = view(&(rows)[i_]);					\
											\
			if (!v_ || !cJSON_AddItemToArray(arr_, v_)) {			\
				cJSON_Delete(v_);					\
				cJSON_Delete(arr_);					\
				arr_ = NULL;						\
			}								\
		}									\
		arr_;									\
	})

#endif
