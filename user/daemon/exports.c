// SPDX-License-Identifier: MIT
/* Finished executions as the receivers told of every one see them: the record, its times and its processes. */
#include <stdlib.h>
#include <string.h>
#include "alerts/alerts.h"
#include "daemon/exports.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "observe/execution.h"

void exports__ended(struct alerts *a, const struct execution *e, const struct exec_record *r)
{
	struct notify_execution x = { .r = r, .start_ns = e->start_realtime_ns, .end_ns = e->end_realtime_ns };
	struct notify_process *procs = NULL;
	/* the processes' times are monotonic: the execution's start ties them to the wall clock */
	__s64 to_real = e->start_realtime_ns && e->start_ns ? (__s64)(e->start_realtime_ns - e->start_ns) : 0;

	if (!a)
		return;
	if (e->nr_procs)
		procs = calloc((size_t)e->nr_procs, sizeof(*procs));
	for (int i = 0; procs && i < e->nr_procs; i++) {
		const struct process *p = &e->procs[i];
		struct notify_process *q = &procs[i];

		q->pid = p->pid;
		q->ppid = p->ppid;
		memcpy(q->comm, p->comm, sizeof(q->comm));
		q->comm[sizeof(q->comm) - 1] = '\0';
		q->filename = p->filename;
		q->start_ns = p->start_ns ? (__u64)((__s64)p->start_ns + to_real) : x.start_ns;
		q->exited = p->exited;
		q->end_ns = p->exited && p->end_ns ? (__u64)((__s64)p->end_ns + to_real) : 0;
		q->exit_status = p->exit_status;
		q->on_cpu_ns = p->on_cpu_ns;
	}
	if (procs) {
		x.procs = procs;
		x.nprocs = e->nr_procs;
	} else if (e->nr_procs) {
		ww_warn("execution %llu goes out without its processes: out of memory", (unsigned long long)r->id);
	}
	if (!x.start_ns)
		x.start_ns = r->started_at_ms * 1000000ULL;
	if (x.end_ns < x.start_ns)
		x.end_ns = x.start_ns + r->duration_ms * 1000000ULL;
	alerts__execution_ended(a, &x, clock__now_ms());
	free(procs);
}

void exports__ended_stored(struct alerts *a, const struct exec_record *r)
{
	struct notify_execution x = {
		.r = r,
		.start_ns = r->started_at_ms * 1000000ULL,
		.end_ns = (r->ended_at_ms ? r->ended_at_ms : r->started_at_ms + r->duration_ms) * 1000000ULL,
	};

	if (a)
		alerts__execution_ended(a, &x, clock__now_ms());
}
