// SPDX-License-Identifier: MIT
/* Setup the tests share: plausible history records. */
#include <stdio.h>
#include <string.h>
#include "fixtures.h"
#include "history/record.h"

void fixture__exec(struct exec_record *r, const char *session, const char *agent, const char *task,
		   const char *status, __u64 started_ms, __u64 duration_ms)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->session, sizeof(r->session), "%s", session);
	snprintf(r->agent, sizeof(r->agent), "%s", agent);
	snprintf(r->task, sizeof(r->task), "%s", task);
	snprintf(r->status, sizeof(r->status), "%s", status);
	strcpy(r->command, "[\"/bin/true\"]");
	strcpy(r->labels, "{}");
	strcpy(r->failure_evidence, "{}");
	r->pid = 4242;
	r->started_at_ms = started_ms;
	r->duration_ms = duration_ms;
	r->completed_steps = -1;
	r->total_steps = -1;
	if (strcmp(status, "running")) {
		r->ended_at_ms = started_ms + duration_ms;
		r->has_exit_code = true;
		r->exit_code = strcmp(status, "failed") ? 0 : 1;
	}
	if (!strcmp(status, "failed")) {
		strcpy(r->failure_category, "exit_nonzero");
		strcpy(r->failure_reason, "exited with code 1");
		strcpy(r->failure_evidence, "{\"exit_code\":1}");
	}
}
