/* SPDX-License-Identifier: MIT */
/* The daemon's side of alerting: the metric catalog's values from live executions, history and the host. */
#ifndef ALERTSRC_H
#define ALERTSRC_H

#include <linux/types.h>

struct alerts;
struct alertsrc;
struct cJSON;
struct execution;
struct exec_record;
struct probes;
struct store;
struct tracker;

/* What the alert feed reads and whom it tells; the handles must outlive it. */
struct alertsrc_deps {
	struct tracker *tracker;
	struct store *store;
	struct probes *probes;
	void *ctx;			/* for the callbacks */
	/* Calls fn for each live execution, as tracker__foreach() does. */
	int (*foreach_live)(void *ctx, int (*fn)(struct execution *e, void *arg), void *arg);
	/* An alert changed: obj (borrowed) goes to the event log as kind and to the stream as stream_event. */
	void (*publish)(void *ctx, const char *kind, const char *stream_event, const struct cJSON *obj);
};

/*
 * Loads the alerting config (config_file; "" for the defaults, links to
 * http://listen) and starts the engine; NULL after a one-line error.
 */
struct alertsrc *alertsrc__start(const struct alertsrc_deps *deps, const char *config_file, const char *listen);
/* Stops the engine and frees s; accepts NULL. */
void alertsrc__stop(struct alertsrc *s);
/* The engine, for the API and /metrics; NULL when s is. */
struct alerts *alertsrc__alerts(const struct alertsrc *s);

/* The rest is called by the daemon with its lock held, and accepts a NULL s. */
/* Evaluates the rules when their interval has passed. */
void alertsrc__tick(struct alertsrc *s);
/* Event rules: an execution ended (r is its final record), or a process of it was OOM-killed. */
void alertsrc__ended(struct alertsrc *s, const struct execution *e, const struct exec_record *r);
void alertsrc__oom(struct alertsrc *s, const struct execution *e);
/* An execution's record was written to history (start, rename, sample, end): agent and session rules see it. */
void alertsrc__saved(struct alertsrc *s, const struct exec_record *r);

#endif
