/* SPDX-License-Identifier: MIT */
/* Per-agent totals of the executions that finished (and of OOM kills) since the daemon started, for /metrics. */
#ifndef AGENT_TOTALS_H
#define AGENT_TOTALS_H

#define AGENT_TOTALS_MAX	200	/* agents with their own series; the rest add up as "other" */

struct agent_totals;
struct execution;
struct exec_record;
struct prom_buf;

struct agent_totals *agent_totals__new(void);
void agent_totals__free(struct agent_totals *t);
/* Counts e, which ended with the final record r, under its agent. */
void agent_totals__add(struct agent_totals *t, const struct execution *e, const struct exec_record *r);
/* Counts a process of a running or ending execution of agent that the OOM killer chose. */
void agent_totals__oom_kill(struct agent_totals *t, const char *agent);
/*
 * The families workerwatch_executions_finished_total,
 * workerwatch_execution_cpu_mode_seconds_total, workerwatch_oom_kills_total
 * and the duration, CPU and peak RSS histograms.
 */
void agent_totals__render(const struct agent_totals *t, struct prom_buf *b);

#endif
