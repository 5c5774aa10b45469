/* SPDX-License-Identifier: MIT */
/* The alert engine: rules over sampled series, alert states, acknowledgements, silences, routing and grouping. */
#ifndef ALERTS_H
#define ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "lib/labels.h"
#include "notify/notify.h"
#include "alerts/rules.h"

#define ROUTES_MAX		16
#define INHIBITS_MAX		16
#define ALERTS_MAX		2000	/* instances of all rules together */
#define RULE_INSTANCES_MAX	500	/* per rule; beyond it the rule is in error */

struct cJSON;
struct store;

struct route {
	struct matcher match[RULE_MAX_MATCHERS];
	int nr_match;
	char receivers[8][RECEIVER_NAME_LEN];
	int nr_receivers;
	char group_by[8][LABEL_NAME_LEN];
	int nr_group_by;		/* 0 with group_all: every label ("...") */
	bool group_all;
	__u64 group_wait_ms, group_interval_ms, repeat_interval_ms;
	bool cont;			/* "continue": later routes may match too */
};

struct inhibit_rule {
	struct matcher source[RULE_MAX_MATCHERS];
	int nr_source;
	struct matcher target[RULE_MAX_MATCHERS];
	int nr_target;
	char equal[8][LABEL_NAME_LEN];
	int nr_equal;
};

/* The alerting part of the daemon's config file. */
struct alert_config {
	__u64 evaluation_interval_ms;	/* default 5 s */
	__u64 resolved_retention_ms;	/* resolved alerts stay visible (and re-sent to Alertmanager): 15 min */
	char external_url[256];		/* links in notifications; default http://<listen> */
	char host[64];			/* the host label; default the host name */
	struct alert_rule rules[RULES_MAX];
	int nr_rules;
	struct receiver receivers[RECEIVERS_MAX];
	int nr_receivers;
	struct route routes[ROUTES_MAX];
	int nr_routes;
	struct inhibit_rule inhibits[INHIBITS_MAX];
	int nr_inhibits;
};

/*
 * Reads evaluation_interval, external_url, host, rules, receivers, routes and
 * inhibit_rules from the JSON config file (path "" or NULL: defaults only).
 * -EINVAL with a one-line reason in err.
 */
int alert_config__load(const char *path, struct alert_config *c, char *err, size_t errlen);
void alert_config__free(struct alert_config *c);

/*
 * One value of a series. Its identity labels follow from the level: host
 * always; session, agent, task and execution_id for executions; agent (or
 * session) for roll-ups; plus the metric's param label (syscall, category).
 */
struct alert_point {
	const char *metric;
	char param[64];			/* "" when the metric has none; "*" for the all-syscalls series */
	enum rule_level level;
	char session[128];
	char agent[128];
	char task[128];
	__u64 execution_id;		/* 0 above execution level */
	double value;
	/*
	 * The execution's own labels (a JSON object of strings: from its
	 * environment, its watch rule or orchestrator, the API), added to the
	 * alert's labels under those above, so routes and silences can use them.
	 */
	char labels[1024];
};

/* Where values come from; both return a malloc'd array (or NULL and 0). */
struct alert_source {
	void *ctx;
	/* The execution- and host-level gauges right now, of the metrics rules[0..n) use. */
	int (*gauges)(void *ctx, __u64 now_ms, const struct alert_rule *rules, int n, struct alert_point **out);
	/* An agent- or session-level rule's value per agent (or session) over its window, from history. */
	int (*aggregate)(void *ctx, const struct alert_rule *r, __u64 now_ms, struct alert_point **out);
	/* An alert changed state or flags: a JSON object for the stream and the event log (borrowed). */
	void (*changed)(void *ctx, const struct cJSON *alert);
};

enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING, ALERT_RESOLVING, ALERT_RESOLVED };

struct alerts;

/*
 * Takes over cfg's rules, receivers and routes (cfg is copied), restores the
 * persisted alerts, groups, silences and API-set rules from store, and starts
 * the sender thread when there are receivers. NULL with err set on failure.
 * Either way the compiled rules and matchers are the engine's from the call
 * on (it has freed them when it fails): never alert_config__free() cfg after.
 */
struct alerts *alerts__new(const struct alert_config *cfg, struct store *store,
			   const struct alert_source *src, char *err, size_t errlen);
void alerts__free(struct alerts *a);

/* Evaluates the rules when an evaluation interval has passed since the last; returns whether it did. */
bool alerts__tick(struct alerts *a, __u64 now_ms);
/* Evaluates now, whatever the interval. */
void alerts__evaluate(struct alerts *a, __u64 now_ms);
/*
 * An instantaneous event of an execution (p->metric: execution_failed with the
 * category as p->param, oom_kill, fatal_signal with the signal name): event
 * rules fire at once and their notifications are queued before it returns.
 */
void alerts__event(struct alerts *a, __u64 now_ms, const struct alert_point *p);

/*
 * An execution ended (x->r its final record, stored): queues its
 * notifications to the receivers told of every execution (otlp, statsd)
 * and forgets its tracking row in the same transaction. Called once per
 * execution, also for one a restart finds ended but still tracked. host and
 * external_url come from the config. 0 or -errno.
 */
int alerts__execution_ended(struct alerts *a, const struct notify_execution *x, __u64 now_ms);

/*
 * API operations, all persisted before they return; 0, -ENOENT (no such
 * alert), -EINVAL (err says why: e.g. resolving a threshold alert that is not firing).
 */
int alerts__ack(struct alerts *a, const char *id, const char *by, const char *comment, __u64 expires_ms,
		__u64 now_ms, char *err, size_t errlen);
int alerts__unack(struct alerts *a, const char *id, __u64 now_ms, char *err, size_t errlen);
int alerts__resolve(struct alerts *a, const char *id, const char *by, __u64 now_ms, char *err, size_t errlen);
/* A silence from the Alertmanager-shaped body {matchers:[{name,value,isRegex,isEqual}] or ["a=\"b\""], endsAt|duration, createdBy, comment}; its id in id_out. */
int alerts__add_silence(struct alerts *a, const struct cJSON *body, __u64 now_ms, char *id_out, size_t idlen,
			char *err, size_t errlen);
int alerts__expire_silence(struct alerts *a, const char *id, __u64 now_ms);
/* Replaces the rules (a JSON array, on top of the defaults); persisted; -EINVAL with err. */
int alerts__set_rules(struct alerts *a, const struct cJSON *array, char *err, size_t errlen);
/* Queues a test notification to a receiver; -ENOENT when unknown. */
int alerts__test_receiver(struct alerts *a, const char *name, __u64 now_ms);

/* Views for the API and /metrics (new JSON, caller frees). */
struct cJSON *alerts__list_json(struct alerts *a, const char *state, const char *severity, const char *rule, __u64 now_ms);
struct cJSON *alerts__get_json(struct alerts *a, const char *id, __u64 now_ms);
struct cJSON *alerts__rules_json(struct alerts *a);
struct cJSON *alerts__silences_json(struct alerts *a, __u64 now_ms);
struct cJSON *alerts__receivers_json(struct alerts *a);

struct alert_counts {
	int pending, firing, resolving, resolved;
	int acknowledged, silenced;
	int rules, rules_in_error;
	__u64 evaluations;
	__u64 notifications_queued;
};
void alerts__counts(struct alerts *a, struct alert_counts *c);
/*
 * Calls fn for each pending, firing or resolving alert (for the ALERTS series of
 * /metrics): its labels and state name. Labels that came from an execution's
 * own labels are left out unless keep (when given) says otherwise, so that
 * /metrics shows only the names it allows.
 */
void alerts__foreach_active(struct alerts *a, void (*fn)(void *ctx, const struct labelset *ls, const char *state),
			    bool (*keep)(void *ctx, const char *name), void *ctx);
/* Per-receiver delivery statistics of the sender thread; returns the count. */
int alerts__receiver_stats(struct alerts *a, struct receiver_stats *out, int max);

const char *alert__state_name(enum alert_state s);
/* The host label of this daemon's alerts (the config's host, else the host name); "" when a is NULL. */
const char *alerts__host(const struct alerts *a);

#endif
