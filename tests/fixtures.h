/* SPDX-License-Identifier: MIT */
/* Setup the tests share: plausible history records. */
#ifndef FIXTURES_H
#define FIXTURES_H

#include <linux/types.h>

struct exec_record;

/*
 * A plausible execution: /bin/true, no labels, pid 4242, no progress;
 * finished ones get an end and an exit code, failed ones exit code 1 and
 * the exit_nonzero category.
 */
void fixture__exec(struct exec_record *r, const char *session, const char *agent, const char *task,
		   const char *status, __u64 started_ms, __u64 duration_ms);

#endif
