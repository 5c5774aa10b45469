/* SPDX-License-Identifier: MIT */
/* The daemon's side of alerting: the metric catalog's values from live executions, history and the host. */
#ifndef ALERTSRC_H
#define ALERTSRC_H

#include <linux/types.h>

struct daemon;
struct execution;
struct exec_record;

/*
 * Loads the alerting config (d->cfg.config_file) and starts the engine in
 * d->alerts; 0, or -EINVAL after a one-line error.
 */
int alertsrc__start(struct daemon *d);
void alertsrc__stop(struct daemon *d);
/* Called by the daemon's loop with the lock held. */
void alertsrc__tick(struct daemon *d);
/* Event rules: an execution ended (r is its final record), or a process of it was OOM-killed. */
void alertsrc__ended(struct daemon *d, const struct execution *e, const struct exec_record *r);
void alertsrc__oom(struct daemon *d, const struct execution *e);
/* An execution's record was written to history (start, rename, sample, end): agent and session rules see it. */
void alertsrc__saved(struct daemon *d, const struct exec_record *r);

#endif
