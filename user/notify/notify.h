/* SPDX-License-Identifier: MIT */
/* Notifications: receivers, their payload formats, and the sender thread that drains the outbox. */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "lib/labels.h"
#include "history/record.h"

#define RECEIVER_NAME_LEN	64
#define RECEIVERS_MAX		32

struct cJSON;
struct store;
/* A receiver type (notify/webhook.c, alertmanager.c, pagerduty.c, slack.c, smtp.c, otlp.c, statsd.c): see notify_int.h. */
struct receiver_ops;

struct receiver {
	char name[RECEIVER_NAME_LEN];	/* [A-Za-z0-9_.-]+, unique */
	const struct receiver_ops *ops;	/* its type */
	char url[512];			/* webhook, slack, pagerduty (default events.pagerduty.com),
					 * alertmanager and otlp base URL, email: smtp://host:port,
					 * statsd: udp://host:port */
	char secret[256];		/* webhook: HMAC-SHA256 key, "" = unsigned */
	char routing_key[64];		/* pagerduty: 32 characters */
	char from[256];			/* email */
	char to[1024];			/* email: comma-separated */
	bool send_resolved;		/* default true */
	double rate_per_s;		/* token bucket: default 1 for slack, 10 for the others */
	int burst;			/* default 5 (1 for slack) */
	__u64 timeout_ms;		/* per attempt, default 10 s (connect 5 s) */
	__u64 max_age_ms;		/* retried this long, then dead: default 24 h */
	__u64 resend_ms;		/* alertmanager: firing alerts are re-sent this often, default 60 s */
	char headers[1024];		/* otlp: extra request headers, "Name: value" lines ending in \n */
	char service_name[128];		/* otlp: the resource's service.name, default "workerwatch" */
	bool metrics;			/* otlp: per-execution metrics to /v1/metrics too, default false */
	char prefix[128];		/* statsd: the metric names' prefix, default "workerwatch" */
	bool dogstatsd;			/* statsd: DogStatsD tags instead of names that carry agent and status */
};

/*
 * Parses the "receivers" array of the config file; returns the count or
 * -EINVAL with a one-line reason in err ("receiver pd: routing_key must be
 * 32 characters"). A NULL array gives 0 receivers.
 */
int receivers__parse(const struct cJSON *array, struct receiver *out, int max, char *err, size_t errlen);
const struct receiver *receivers__find(const struct receiver *rs, int n, const char *name);
/* Its type's name, as the config's "type" gives it: "webhook", "email", ... */
const char *receiver__type_name(const struct receiver *r);

/* What a receiver type can do, for the alert engine to ask instead of testing types. */
enum receiver_cap {
	/* can be told that an alert resolved (its send_resolved says whether it wants to be) */
	RECEIVER_RESOLVES = 1 << 0,
	/* hears "acknowledge" when its alerts are acknowledged (PagerDuty's incidents) */
	RECEIVER_ACKNOWLEDGES = 1 << 1,
	/*
	 * is pushed the state of the alerts routed to it at evaluations, and
	 * again every resend interval, instead of grouped notifications
	 * (Alertmanager keeps alerts in memory only)
	 */
	RECEIVER_PUSHED_AT_EVALUATION = 1 << 2,
	/* is told of alerts: routes and escalations may name it */
	RECEIVER_ALERTS = 1 << 3,
	/* is told of every finished execution (traces, metrics), queued when it ends */
	RECEIVER_EXECUTIONS = 1 << 4,
};

bool receiver__can(const struct receiver *r, enum receiver_cap cap);
/* Whether r is told of resolved alerts: its type can and its send_resolved asks for it. */
bool receiver__sends_resolved(const struct receiver *r);
/* The receiver without its secrets (secret, routing_key masked), for the API. */
struct cJSON *receiver__to_json(const struct receiver *r);

/* One alert of a notification, as the engine knows it when it is queued. */
struct notify_alert {
	char fingerprint[FINGERPRINT_LEN];
	const char *status;		/* "firing" or "resolved" */
	const char *state;		/* the engine's state: pending, firing, resolving, resolved */
	struct labelset labels;
	struct labelset annotations;
	__u64 starts_ms;
	__u64 ends_ms;			/* resolved: when; firing: 0 */
	double value, threshold;
	bool acknowledged;
	char acked_by[64];
	bool silenced;
};

/* One notification: a group of alerts for one receiver. */
struct notify_group {
	const char *group_key;		/* Alertmanager-style: {}:{agent="b", alertname="X"} */
	struct labelset group_labels;
	/* pagerduty: "trigger", "acknowledge" or "resolve"; others ignore it */
	const char *action;
	__u64 sequence;			/* per group, increasing */
	__u64 now_ms;
	__u64 valid_until_ms;		/* alertmanager: endsAt of firing alerts */
	const struct notify_alert *alerts;
	int nalerts;
	const char *external_url;	/* http://127.0.0.1:9470: links back to the dashboard */
	const char *host;
};

/* One process of a finished execution, for the receivers that export them. */
struct notify_process {
	__u32 pid, ppid;
	char comm[16];
	const char *filename;		/* its last exec, "" when none was seen */
	__u64 start_ns;			/* Unix epoch nanoseconds */
	__u64 end_ns;			/* when it exited; 0 when it outlived the execution */
	bool exited;
	int exit_status;		/* wait(2) status, when exited */
	__u64 on_cpu_ns;		/* set when it exited */
};

/* A finished execution, for receivers with RECEIVER_EXECUTIONS. */
struct notify_execution {
	const struct exec_record *r;	/* its final record: names, labels, outcome, metrics */
	__u64 start_ns, end_ns;		/* Unix epoch nanoseconds */
	const struct notify_process *procs;	/* none when only history knew it (taken up after a restart) */
	int nprocs;
	const char *host;
	const char *external_url;	/* http://127.0.0.1:9470: links back to the dashboard */
};

/* One outbox row's worth of an execution: its kind (which tells send() where it goes) and body. */
struct notify_payload {
	char kind[16];
	char *body;			/* malloc'd */
};

#define NOTIFY_EXEC_PAYLOADS_MAX	2

/*
 * The bodies a RECEIVER_EXECUTIONS receiver is sent when x ends (otlp: its
 * trace, and its metrics when asked for), into out[0..max): the count, 0 for
 * a receiver without RECEIVER_EXECUTIONS, -ENOMEM. Free each body.
 */
int notify__format_execution(const struct receiver *r, const struct notify_execution *x, struct notify_payload *out,
			     int max);

/*
 * The OpenTelemetry ids of an execution, as the otlp receiver sends them, in
 * hex: its trace (its session's) and its span (host, history id and start
 * in Unix milliseconds), so that logs can name the span they belong to.
 */
#define NOTIFY_TRACE_ID_HEX	33
#define NOTIFY_SPAN_ID_HEX	17
void notify__trace_ids(const char *session, const char *host, __u64 exec_id, __u64 started_ms,
		       char trace[NOTIFY_TRACE_ID_HEX], char span[NOTIFY_SPAN_ID_HEX]);

/* The body for r in its type's format (see each notify/TYPE.c), malloc'd; NULL with errno on failure. */
char *notify__format(const struct receiver *r, const struct notify_group *g, const char *delivery_id);
/* A fresh random delivery id (UUID v4 text, 36 characters). */
void notify__delivery_id(char out[37]);
/* PagerDuty dedup_key of a group: "ww-" host "-" first 32 hex digits of sha256(group_key). */
void notify__dedup_key(const char *host, const char *group_key, char *out, size_t size);

/* Upper bounds (seconds) of the queue-to-delivery histogram; +Inf is 'sent'. */
#define NOTIFY_LATENCY_BOUNDS 10
extern const double notify_latency_bounds[NOTIFY_LATENCY_BOUNDS];

struct receiver_stats {
	char name[RECEIVER_NAME_LEN];
	const char *type;
	__u64 sent;			/* delivered (2xx) */
	__u64 retries;			/* attempts that failed and will be retried */
	__u64 dead;			/* given up: permanent error or too old */
	__u64 pending;			/* in the outbox now */
	__u64 last_success_ms, last_failure_ms;
	int last_status;		/* HTTP status of the last attempt, 0 = no answer */
	char last_error[256];
	double latency_sum_s;		/* queued to delivered, over 'sent' */
	__u64 latency_buckets[NOTIFY_LATENCY_BOUNDS];	/* cumulative: sent within each bound */
};

struct notifier;

/*
 * Starts the sender thread: it drains store's outbox, the oldest row of each
 * receiver first (in order per receiver), with backoff and rate limits.
 * receivers must outlive it. NULL with errno on failure.
 */
struct notifier *notifier__start(struct store *store, const struct receiver *receivers, int n);
/* New rows are in the outbox: send now rather than at the next poll. Safe from any thread. */
void notifier__kick(struct notifier *n);
/* Per receiver, in the order of the config; returns the count. Safe from any thread. */
int notifier__stats(struct notifier *n, struct receiver_stats *out, int max);
/* Waits for an attempt in flight (bounded by its timeout) and stops. Accepts NULL. */
void notifier__stop(struct notifier *n);

#endif
