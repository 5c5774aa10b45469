/* SPDX-License-Identifier: MIT */
/* The alert engine's internals, shared by alerts.c (states), alertroute.c (notifications) and alertconf.c. */
#ifndef ALERTS_INT_H
#define ALERTS_INT_H

#include "alerts/alerts.h"
#include "history/store.h"

struct cJSON;

#define SERIES_BUCKETS		4096
#define ALERT_BUCKETS		1024
#define SERIES_MAX_POINTS	1024
#define SILENCES_MAX		256
/* missed evaluations before a vanished series counts as gone (Grafana's MissingSeries uses 2) */
#define MISSING_EVALS		2
#define AM_RESEND_FACTOR	4	/* Prometheus: endsAt = now + 4 * max(evaluation, resend) */

struct series_pt {
	__u64 ts;
	double v;
};

/* A sampled series: its identity and a ring of recent points. */
struct series {
	struct series *next;
	__u64 hash;
	struct alert_point id;
	struct series_pt *pts;
	int n, cap, head;		/* head: index of the oldest point */
	__u64 last_seen_ms;
};

enum told { TOLD_NONE, TOLD_FIRING };

struct alert {
	struct alert *next;		/* hash chain */
	char id[FINGERPRINT_LEN];
	char rule_id[RULE_ID_LEN];
	const struct alert_rule *rule;	/* NULL once its rule is gone */
	struct labelset labels;
	struct labelset annotations;
	enum alert_state state;
	double value;
	__u64 active_at, fired_at, clear_since, resolved_at, updated_at, seen_at;
	int missing;
	__u64 hits;			/* N-of-M: one bit per evaluation, newest lowest */
	bool acked;
	char acked_by[64];
	char ack_comment[256];
	__u64 acked_at, ack_expires;
	bool hold_until_clear;		/* manually resolved while still breaching */
	char resolve_reason[32];
	char resolved_by[64];
	char silenced_by[40];
	char inhibited_by[FINGERPRINT_LEN];
	int escalated;			/* escalation steps taken */
	__u64 am_sent_ms;
	enum alert_state am_sent_state;
	bool dirty;
};

struct member {
	char id[FINGERPRINT_LEN];
	enum told told;
};

/* A notification group: the alerts of one route with the same group_by values. */
struct agroup {
	struct agroup *next;
	char key[512];			/* Alertmanager's groupKey */
	int route;
	struct labelset labels;
	__u64 created, next_flush, last_flush, last_notify, seq;
	bool flushed;
	bool pd_acked;
	struct member *m;
	int n, cap;
	bool dirty;
};

struct silence {
	char id[37];
	struct matcher match[RULE_MAX_MATCHERS];
	int nr_match;
	__u64 starts, ends;
	char created_by[64];
	char comment[256];
};

struct rule_health {
	char error[160];
	int instances;
};

/* What one operation writes: documents and outbox rows, committed together. */
struct batch {
	struct store_doc *docs;
	int nd, capd;
	struct outbox_new *rows;
	int nr, capr;
	char **owned;
	int no, capo;
};

struct alerts {
	struct alert_config cfg;
	struct store *store;
	struct alert_source src;
	struct notifier *notifier;
	struct series *series[SERIES_BUCKETS];
	int nr_series;
	struct alert *tab[ALERT_BUCKETS];
	int nr_alerts;
	struct agroup *groups;
	struct silence silences[SILENCES_MAX];
	int nr_silences;
	struct rule_health health[RULES_MAX];
	struct batch b;
	__u64 last_eval;
	__u64 evaluations;
	__u64 queued;
	__u64 db_errors;
};

/* alerts.c */
struct alert *alerts__find(struct alerts *a, const char *id);
bool alert__active(const struct alert *x);	/* pending, firing or resolving */
bool alert__notifiable(const struct alert *x);	/* firing or resolving */
void batch__doc(struct batch *b, const char *kind, const char *key, char *json);
void batch__row(struct batch *b, const char *receiver, const char *group_key, const char *kind,
		char *payload, const char *delivery_id);
void alerts__commit(struct alerts *a, __u64 now_ms);

void alert__update_flags(struct alerts *a, struct alert *x, __u64 now_ms);

/* alertview.c */
struct cJSON *alert__view(const struct alert *x, __u64 now_ms);
/* The stored document: the view plus what restores the state machine exactly. */
char *alert__doc(const struct alert *x, __u64 now_ms);

/* silence.c */
bool silence__active(const struct silence *s, __u64 now_ms);
struct cJSON *silence__to_json(const struct silence *s, __u64 now_ms);
char *silence__doc(const struct silence *s);
int silence__parse(const struct cJSON *body, struct silence *s, __u64 now_ms, char *err, size_t errlen);
/* A store_doc_cb: a stored silence back into a. */
int silence__restore(const char *key, const char *json, void *ctx);

/* alertroute.c */
/* The routes an alert's labels select (first match, then those after a "continue"); returns the count. */
int routes__select(const struct alert_config *c, const struct labelset *ls, int *out, int max);
void groups__join(struct alerts *a, struct alert *x, __u64 now_ms);
void groups__flush(struct alerts *a, __u64 now_ms);
void groups__acked(struct alerts *a, struct alert *x, __u64 now_ms);
void groups__escalate(struct alerts *a, struct alert *x, __u64 now_ms);
void groups__escalation_followup(struct alerts *a, struct alert *x, bool acked, __u64 now_ms);
void groups__push_at_evaluation(struct alerts *a, __u64 now_ms, bool changed_only);
bool groups__holds(const struct alerts *a, const char *id);
char *group__to_json_text(const struct agroup *g);
struct agroup *group__from_json(const struct cJSON *j);
void group__free(struct agroup *g);
void groups__save(struct alerts *a);
int alerts__queue_test(struct alerts *a, const struct receiver *r, __u64 now_ms);

/* exports.c */
/* A receiver told of executions (RECEIVER_EXECUTIONS) gets a made-up one as its test. */
int alerts__queue_test_execution(struct alerts *a, const struct receiver *r, __u64 now_ms);

#endif
