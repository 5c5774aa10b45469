// SPDX-License-Identifier: MIT
/* Execution-end notifications: each finished execution queued for the receivers told of every one (OTLP, StatsD). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alerts/alerts_int.h"
#include "lib/log.h"

#define EXPORT_ROWS_MAX	(RECEIVERS_MAX * NOTIFY_EXEC_PAYLOADS_MAX)

/*
 * Formats x for each receiver with RECEIVER_EXECUTIONS (only for `only`
 * when given) and stores the rows: with the end of the execution's tracking
 * row when forget_id is set, so that both happen or neither does.
 */
static int queue_execution(struct alerts *a, const struct notify_execution *xin, const struct receiver *only,
			   __u64 forget_id, __u64 now_ms)
{
	struct notify_execution x = *xin;
	struct notify_payload p[EXPORT_ROWS_MAX];
	struct outbox_new rows[EXPORT_ROWS_MAX];
	char dids[EXPORT_ROWS_MAX][37], key[64];
	int nr = 0, err;

	x.host = a->cfg.host;
	x.external_url = a->cfg.external_url;
	snprintf(key, sizeof(key), "execution:%llu", (unsigned long long)x.r->id);
	for (int i = 0; i < a->cfg.nr_receivers; i++) {
		const struct receiver *r = &a->cfg.receivers[i];
		int n;

		if ((only && r != only) || !receiver__can(r, RECEIVER_EXECUTIONS))
			continue;
		n = notify__format_execution(r, &x, &p[nr], EXPORT_ROWS_MAX - nr);
		if (n < 0) {
			ww_err("alerts: cannot format execution %llu for %s: %s", (unsigned long long)x.r->id, r->name,
			       strerror(-n));
			continue;
		}
		for (int k = nr; k < nr + n; k++) {
			notify__delivery_id(dids[k]);
			rows[k] = (struct outbox_new){ .receiver = r->name, .group_key = key, .kind = p[k].kind,
						       .payload = p[k].body, .delivery_id = dids[k] };
		}
		nr += n;
	}
	if (forget_id)
		err = store__queue_execution_end(a->store, forget_id, rows, nr, now_ms);
	else
		err = store__alerts_commit(a->store, NULL, 0, rows, nr, now_ms);
	if (err) {
		a->db_errors++;
		ww_err("alerts: cannot queue the end of execution %llu: %s", (unsigned long long)x.r->id,
		       store__errmsg(a->store));
	} else {
		a->queued += nr;
	}
	for (int i = 0; i < nr; i++)
		free(p[i].body);
	if (!err && nr)
		notifier__kick(a->notifier);
	return err;
}

int alerts__execution_ended(struct alerts *a, const struct notify_execution *x, __u64 now_ms)
{
	if (!a || !x || !x->r || !x->r->id)
		return -EINVAL;
	return queue_execution(a, x, NULL, x->r->id, now_ms);
}

/* A receiver's test: a made-up execution that completed a second ago, in a session of its own. */
int alerts__queue_test_execution(struct alerts *a, const struct receiver *r, __u64 now_ms)
{
	struct exec_record rec = { .pid = 1, .has_exit_code = true, .completed_steps = -1, .total_steps = -1 };
	struct notify_execution x = { .r = &rec };

	snprintf(rec.session, sizeof(rec.session), "workerwatch-test");
	snprintf(rec.agent, sizeof(rec.agent), "workerwatch-test");
	snprintf(rec.command, sizeof(rec.command), "[\"workerwatch-test\"]");
	snprintf(rec.labels, sizeof(rec.labels), "{}");
	snprintf(rec.failure_evidence, sizeof(rec.failure_evidence), "{}");
	snprintf(rec.status, sizeof(rec.status), "completed");
	rec.started_at_ms = now_ms - 1000;
	rec.ended_at_ms = now_ms;
	rec.duration_ms = 1000;
	x.start_ns = rec.started_at_ms * 1000000ULL;
	x.end_ns = rec.ended_at_ms * 1000000ULL;
	return queue_execution(a, &x, r, 0, now_ms);
}
