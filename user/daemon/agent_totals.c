// SPDX-License-Identifier: MIT
/* Per-agent totals of the executions that finished (and of OOM kills) since the daemon started, for /metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "daemon/agent_totals.h"
#include "daemon/prom.h"
#include "history/record.h"
#include "observe/execution.h"

#define HIST_BOUNDS	12

enum { HIST_DURATION, HIST_CPU, HIST_RSS, NR_HISTS };

/* The histogram families, each with its upper bounds: seconds, CPU seconds, bytes. */
static const struct {
	const char *name, *help;
	double bounds[HIST_BOUNDS];
} hists[NR_HISTS] = {
	[HIST_DURATION] = { "workerwatch_execution_duration_seconds", "Wall time of finished executions.",
			    { 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400 } },
	[HIST_CPU] = { "workerwatch_execution_cpu_seconds", "On-CPU time of finished executions' trees.",
		       { 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600 } },
	[HIST_RSS] = { "workerwatch_execution_peak_rss_bytes", "Peak resident memory of finished executions' trees.",
		       { 1 << 20, 4 << 20, 16 << 20, 64 << 20, 128 << 20, 256 << 20, 512 << 20,
			 1024.0 * (1 << 20), 2048.0 * (1 << 20), 4096.0 * (1 << 20), 8192.0 * (1 << 20),
			 16384.0 * (1 << 20) } },
};

struct hist {
	__u64 buckets[HIST_BOUNDS];	/* cumulative */
	double sum;
};

/* Outcomes: FAILURE_NONE (completed), each failure category, then these. */
#define OUTCOME_DETACHED	FAILURE_MAX
#define OUTCOME_STOPPED		(FAILURE_MAX + 1)	/* stopped_by_orchestrator: neither success nor failure */
#define NR_OUTCOMES		(FAILURE_MAX + 2)

struct agent_stats {
	char agent[EXEC_NAME_LEN];
	__u64 by_outcome[NR_OUTCOMES];
	struct hist hist[NR_HISTS];
	__u64 count;
	double cpu_mode_s[2];			/* user, system: finished executions' on-CPU time split */
	__u64 oom_kills;			/* running executions' too: an agent may have no finished one yet */
};

struct agent_totals {
	struct agent_stats agents[AGENT_TOTALS_MAX + 1];	/* the last one is "other" */
	int nr_agents;
};

struct agent_totals *agent_totals__new(void)
{
	return calloc(1, sizeof(struct agent_totals));
}

void agent_totals__free(struct agent_totals *t)
{
	free(t);
}

static struct agent_stats *stats_of(struct agent_totals *t, const char *agent)
{
	for (int i = 0; i < t->nr_agents; i++)
		if (!strcmp(t->agents[i].agent, agent))
			return &t->agents[i];
	if (t->nr_agents < AGENT_TOTALS_MAX) {
		struct agent_stats *a = &t->agents[t->nr_agents++];

		snprintf(a->agent, sizeof(a->agent), "%s", agent);
		return a;
	}
	snprintf(t->agents[AGENT_TOTALS_MAX].agent, EXEC_NAME_LEN, "other");
	return &t->agents[AGENT_TOTALS_MAX];
}

void agent_totals__add(struct agent_totals *t, const struct execution *e, const struct exec_record *r)
{
	struct agent_stats *a = stats_of(t, e->agent);
	double v[NR_HISTS] = { [HIST_DURATION] = r->duration_ms / 1e3, [HIST_CPU] = r->on_cpu_ns / 1e9,
			       [HIST_RSS] = (double)r->peak_rss_bytes };
	struct failure f;

	execution__classify(e, &f);
	a->by_outcome[e->detached ? OUTCOME_DETACHED : execution__stopped_by_orchestrator(e) ? OUTCOME_STOPPED :
		      f.category]++;
	a->count++;
	a->cpu_mode_s[0] += r->user_cpu_ns / 1e9;
	a->cpu_mode_s[1] += r->system_cpu_ns / 1e9;
	for (int h = 0; h < NR_HISTS; h++) {
		for (int i = 0; i < HIST_BOUNDS; i++)
			if (v[h] <= hists[h].bounds[i])
				a->hist[h].buckets[i]++;
		a->hist[h].sum += v[h];
	}
}

void agent_totals__oom_kill(struct agent_totals *t, const char *agent)
{
	stats_of(t, agent)->oom_kills++;
}

static const char *outcome_status(int o)
{
	return o == FAILURE_NONE ? "completed" : o == OUTCOME_DETACHED ? "detached" :
	       o == OUTCOME_STOPPED ? "stopped_by_orchestrator" : "failed";
}

static const char *outcome_category(int o)
{
	return o >= FAILURE_MAX ? "none" : failure__category_name(o);
}

/* The i-th agent with series, "other" last. */
static const struct agent_stats *agent_at(const struct agent_totals *t, int i)
{
	return i < t->nr_agents ? &t->agents[i] : &t->agents[AGENT_TOTALS_MAX];
}

void agent_totals__render(const struct agent_totals *t, struct prom_buf *b)
{
	/* "other" shows once an agent beyond the limit finished or had an OOM kill */
	const struct agent_stats *other = &t->agents[AGENT_TOTALS_MAX];
	int n = t->nr_agents + (other->count || other->oom_kills ? 1 : 0);

	prom__family(b, "workerwatch_executions_finished_total", "counter",
		     "Executions that ended since the daemon started, by agent, status and failure category.");
	for (int i = 0; i < n; i++) {
		const struct agent_stats *a = agent_at(t, i);

		for (int o = 0; o < NR_OUTCOMES; o++) {
			const char *labels[] = { "agent", a->agent, "status", outcome_status(o),
						 "category", outcome_category(o), NULL };

			if (a->by_outcome[o])
				prom__sample(b, "workerwatch_executions_finished_total", labels, (double)a->by_outcome[o]);
		}
	}
	prom__family(b, "workerwatch_execution_cpu_mode_seconds_total", "counter",
		     "On-CPU time of finished executions' trees by agent and mode, user or system, as the kernel splits it.");
	for (int i = 0; i < n; i++) {
		static const char *const modes[2] = { "user", "system" };

		for (int m = 0; m < 2; m++) {
			const char *labels[] = { "agent", agent_at(t, i)->agent, "mode", modes[m], NULL };

			prom__sample(b, "workerwatch_execution_cpu_mode_seconds_total", labels,
				     agent_at(t, i)->cpu_mode_s[m]);
		}
	}
	prom__family(b, "workerwatch_oom_kills_total", "counter",
		     "Processes of executions the kernel's OOM killer chose, by agent (the oom-kill rule's events).");
	for (int i = 0; i < n; i++) {
		const char *labels[] = { "agent", agent_at(t, i)->agent, NULL };

		prom__sample(b, "workerwatch_oom_kills_total", labels, (double)agent_at(t, i)->oom_kills);
	}
	for (int h = 0; h < NR_HISTS; h++) {
		prom__family(b, hists[h].name, "histogram", hists[h].help);
		for (int i = 0; i < n; i++) {
			const struct agent_stats *a = agent_at(t, i);
			const char *labels[] = { "agent", a->agent, NULL };

			prom__histogram(b, hists[h].name, labels, hists[h].bounds, a->hist[h].buckets, HIST_BOUNDS,
					a->hist[h].sum, a->count);
		}
	}
}
