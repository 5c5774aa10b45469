/* SPDX-License-Identifier: MIT */
/* /metrics: Prometheus text exposition of running executions, per-agent roll-ups and the observer. */
#ifndef METRICS_H
#define METRICS_H

struct daemon;

/* The exposition as malloc'd text, or NULL. Called with the lock held. */
char *metrics__render(struct daemon *d);

#endif
