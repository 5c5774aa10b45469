// SPDX-License-Identifier: MIT
/* Turns a live or finished execution into the flat records history stores. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "observe/hist.h"
#include "history/snapshot.h"
#include "observe/tracker.h"
#include "observe/report.h"
#include "observe/syscalls.h"

static void copy_json(char *dst, size_t size, cJSON *json, const char *fallback)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	snprintf(dst, size, "%s", text && strlen(text) < size ? text : fallback);
	free(text);
}

void snapshot__record(const struct execution *e, struct exec_record *r)
{
	cJSON *cmd = cJSON_CreateArray(), *evidence = NULL;
	struct failure f;

	memset(r, 0, sizeof(*r));
	r->id = e->db_id;
	snprintf(r->session, sizeof(r->session), "%s", e->session);
	snprintf(r->agent, sizeof(r->agent), "%s", e->agent);
	snprintf(r->task, sizeof(r->task), "%s", e->task);
	for (char **a = e->argv; a && *a; a++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	copy_json(r->command, sizeof(r->command), cmd, "[]");
	cJSON_Delete(cmd);
	snprintf(r->labels, sizeof(r->labels), "%s", e->labels[0] ? e->labels : "{}");
	r->pid = e->pid;
	r->retry_count = e->retry_count;
	r->completed_steps = e->completed_steps;
	r->total_steps = e->total_steps;
	snprintf(r->current_step, sizeof(r->current_step), "%s", e->current_step);
	r->started_at_ms = e->start_realtime_ns / 1000000;
	snprintf(r->failure_evidence, sizeof(r->failure_evidence), "{}");

	if (!e->ended) {
		snprintf(r->status, sizeof(r->status), "running");
		r->duration_ms = ((e->totals_at_ns ?: tracker__now_mono()) - e->start_ns) / 1000000;
	} else {
		execution__classify(e, &f);
		r->ended_at_ms = e->end_realtime_ns / 1000000;
		r->duration_ms = (e->end_ns - e->start_ns) / 1000000;
		if (e->detached) {
			snprintf(r->status, sizeof(r->status), "detached");
		} else if (execution__stopped_by_orchestrator(e)) {
			/* its own orchestrator ended it (a pool at shutdown): an outcome, not a failure */
			snprintf(r->status, sizeof(r->status), "stopped_by_orchestrator");
			r->has_signal = true;
			r->signal = WTERMSIG(e->exit_status);
			f.category = FAILURE_NONE;
		} else {
			snprintf(r->status, sizeof(r->status), "%s",
				 f.category == FAILURE_NONE ? "completed" : "failed");
			r->has_exit_code = WIFEXITED(e->exit_status) || e->exec_errno;
			r->exit_code = e->exec_errno ? execution__shell_status(e) : WEXITSTATUS(e->exit_status);
			r->has_signal = WIFSIGNALED(e->exit_status) && !e->exec_errno;
			r->signal = WTERMSIG(e->exit_status);
		}
		if (f.category != FAILURE_NONE && !e->detached) {
			snprintf(r->failure_category, sizeof(r->failure_category), "%s",
				 failure__category_name(f.category));
			snprintf(r->failure_reason, sizeof(r->failure_reason), "%s", f.reason);
			evidence = cJSON_CreateObject();
			if (f.signal) {
				char name[16];

				snprintf(name, sizeof(name), "SIG%s", sigabbrev_np(f.signal) ?: "?");
				cJSON_AddNumberToObject(evidence, "signal", f.signal);
				cJSON_AddStringToObject(evidence, "signal_name", name);
				cJSON_AddBoolToObject(evidence, "core_dumped", f.core_dumped);
			}
			if (e->exec_errno)
				cJSON_AddStringToObject(evidence, "errno", strerrorname_np(e->exec_errno) ?: "?");
			if (f.sender_pid) {
				cJSON_AddNumberToObject(evidence, "sender_pid", f.sender_pid);
				cJSON_AddStringToObject(evidence, "sender_comm", f.sender_comm);
			}
			if (f.oom_victims) {
				cJSON_AddNumberToObject(evidence, "oom_victims", f.oom_victims);
				cJSON_AddItemToObject(evidence, "oom_kill", report__oom_kill_json(&f));
			}
			if (r->has_exit_code)
				cJSON_AddNumberToObject(evidence, "exit_code", r->exit_code);
			copy_json(r->failure_evidence, sizeof(r->failure_evidence), evidence, "{}");
			cJSON_Delete(evidence);
		}
	}
	/* the orchestrator's word on the outcome wins */
	if (e->ended && e->status_override[0])
		snprintf(r->status, sizeof(r->status), "%s", e->status_override);

	for (int m = 0; m < NR_EXEC_METRICS; m++)
		if (exec_metrics[m].in_record)
			exec_metric__set_record(r, m, exec_metric__value(e, m));
}

int snapshot__syscall_rows(const struct execution *e, struct syscall_row **out)
{
	struct syscall_row *rows = calloc(e->nr_syscalls ? e->nr_syscalls : 1, sizeof(*rows));
	char buf[32];

	if (!rows)
		return -ENOMEM;
	for (int i = 0; i < e->nr_syscalls; i++) {
		const struct ww_syscall_stats *s = &e->syscalls[i].stats;

		snprintf(rows[i].name, sizeof(rows[i].name), "%s",
			 syscall__name(e->syscalls[i].nr, buf, sizeof(buf)));
		rows[i].count = s->count;
		rows[i].errors = s->errors;
		rows[i].total_ns = s->total_ns;
		rows[i].p50_ns = hist__quantile(s->hist, 0.50, s->max_ns);
		rows[i].p90_ns = hist__quantile(s->hist, 0.90, s->max_ns);
		rows[i].p99_ns = hist__quantile(s->hist, 0.99, s->max_ns);
		rows[i].max_ns = s->max_ns;
	}
	*out = rows;
	return e->nr_syscalls;
}

void snapshot__sample(const struct execution *e, __u64 ts_ms, struct sample_row *s)
{
	memset(s, 0, sizeof(*s));
	s->exec_id = e->db_id;
	s->ts_ms = ts_ms;
	for (int m = 0; m < NR_EXEC_METRICS; m++)
		if (exec_metrics[m].in_sample)
			exec_metric__set_sample(s, m, exec_metric__value(e, m));
}
