/* SPDX-License-Identifier: MIT */
/* Alert rules: the metric catalog, parsing and validation from JSON, and the built-in defaults. */
#ifndef RULES_H
#define RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "lib/labels.h"

#define RULE_ID_LEN		64
#define RULE_MAX_MATCHERS	8
#define RULE_MAX_ANNOTATIONS	8
#define RULE_ANNOTATION_LEN	512
#define RULES_MAX		128

struct cJSON;

enum rule_level { LEVEL_EXECUTION, LEVEL_AGENT, LEVEL_SESSION, LEVEL_HOST };

enum rule_reduce { REDUCE_LAST, REDUCE_AVG, REDUCE_MIN, REDUCE_MAX, REDUCE_SUM, REDUCE_COUNT,
		   REDUCE_P50, REDUCE_P90, REDUCE_P99 };

/*
 * What is done with the window's points before the comparison: none (reduce
 * them), rate (per second, from first to last), delta (last - first), slope
 * (least-squares, per second: trends such as a leak), time_to_zero (seconds
 * until the series reaches 0 at its least-squares slope; +inf when it does
 * not fall: headroom forecasts).
 */
enum rule_transform { TRANSFORM_NONE, TRANSFORM_RATE, TRANSFORM_DELTA, TRANSFORM_SLOPE,
		      TRANSFORM_TIME_TO_ZERO };

enum rule_op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE };

enum rule_severity { SEVERITY_INFO, SEVERITY_WARNING, SEVERITY_CRITICAL };

/* When a series disappears (the worker ended): resolve it, keep its state, or fire. */
enum rule_on_missing { MISSING_RESOLVE, MISSING_KEEP, MISSING_ALERT };

struct metric_desc {
	const char *name;		/* "cpu_percent" */
	enum rule_level level;
	bool event;			/* fires at once on an occurrence: no window, no threshold */
	const char *param;		/* an extra identity label it takes ("syscall", "category"), or NULL */
	const char *unit;
	const char *help;
};

/* The catalog, terminated by an entry with a NULL name. */
extern const struct metric_desc metric_catalog[];
const struct metric_desc *metric__find(const char *name);

struct escalation {
	__u64 after_ms;			/* since the alert started firing */
	bool if_unacked;		/* only while not acknowledged (the default) */
	char receivers[4][64];
	int nr_receivers;
	bool raise_severity;
	enum rule_severity severity;
};

struct alert_rule {
	char id[RULE_ID_LEN];		/* [a-z0-9_-]+, unique */
	char alertname[LABEL_VALUE_LEN];	/* a valid label name too: [a-zA-Z_][a-zA-Z0-9_]* */
	bool enabled;
	bool builtin;			/* one of the defaults, possibly overridden by id */
	const struct metric_desc *metric;
	char param[LABEL_VALUE_LEN];	/* value of metric->param ("read", "*" = all); "" = all */
	enum rule_level level;		/* defaults to metric->level */
	struct matcher match[RULE_MAX_MATCHERS];
	int nr_match;
	__u64 window_ms;		/* 0: the last point only */
	enum rule_reduce reduce;
	enum rule_transform transform;
	enum rule_op op;
	double threshold;
	bool has_clear;
	double clear_threshold;		/* hysteresis: a firing alert clears only once this is passed */
	__u64 for_ms;
	int occur_count, occur_of;	/* N-of-M evaluations breaching (0, 0: unused) */
	__u64 keep_firing_for_ms;
	enum rule_severity severity;
	struct labelset labels;		/* static, identifying */
	char ann_names[RULE_MAX_ANNOTATIONS][LABEL_NAME_LEN];
	char ann_templates[RULE_MAX_ANNOTATIONS][RULE_ANNOTATION_LEN];
	int nr_ann;
	enum rule_on_missing on_missing;
	__u64 auto_resolve_ms;		/* event rules: resolve this long after firing (default 1h; 0 never) */
	__u64 min_count;		/* agent/session rules: ignore windows with fewer executions */
	/* routing overrides: none means the routes decide */
	struct escalation escalate[2];
	int nr_escalate;
};

/*
 * Parses and validates one rule object. On error returns -EINVAL and a
 * one-line reason naming the rule and field in err ("rule cpu-hot: op must be
 * one of > >= < <= == !=").
 */
int rule__parse(const struct cJSON *obj, struct alert_rule *r, char *err, size_t errlen);
/* The rule as JSON, in the same shape rule__parse() reads. */
struct cJSON *rule__to_json(const struct alert_rule *r);
void rule__free(struct alert_rule *r);	/* releases compiled matchers */

/* Whether v breaches the rule (op threshold), or, for a firing alert, has not yet cleared. */
bool rule__breaches(const struct alert_rule *r, double v, bool firing);

/*
 * Parses an array of rules on top of the built-in defaults: a rule with a
 * default's id replaces it ("enabled": false turns a default off); ids must be
 * unique within the array. out holds at most max rules; returns the count or
 * -EINVAL with err set. A NULL array gives the defaults only.
 */
int rules__parse(const struct cJSON *array, struct alert_rule *out, int max, char *err, size_t errlen);
/* The built-in defaults; returns the count. */
int rules__defaults(struct alert_rule *out, int max);

const char *rule__severity_name(enum rule_severity s);
const char *rule__level_name(enum rule_level l);
const char *rule__op_name(enum rule_op op);

#endif
