/* SPDX-License-Identifier: MIT */
/* /metrics: Prometheus text exposition of running executions, per-agent roll-ups and the observer. */
#ifndef METRICS_H
#define METRICS_H

struct daemon_status;

/* The exposition as malloc'd text, or NULL. Called with the daemon's lock held. */
char *metrics__render(const struct daemon_status *st);

#endif
