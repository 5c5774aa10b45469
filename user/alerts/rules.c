// SPDX-License-Identifier: MIT
/* Alert rules: the metric catalog, parsing and validation from JSON, and the built-in defaults. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "alerts/rules.h"
#include "history/exec_metrics.h"

#define SECOND_MS		1000ULL
#define MINUTE_MS		(60 * SECOND_MS)
#define HOUR_MS			(60 * MINUTE_MS)
#define DAY_MS			(24 * HOUR_MS)
#define MAX_WINDOW_MS		DAY_MS
#define MAX_FOR_MS		DAY_MS
#define MAX_KEEP_FIRING_MS	DAY_MS
#define MAX_LONG_MS		(30 * DAY_MS)	/* auto_resolve_after, escalate.after */
#define MAX_MIN_COUNT		1000000000.0

/* The execution metrics' rule entries, from their table. */
#define RULE(metric, kind, div, unit, help)	{ #metric, LEVEL_EXECUTION, false, NULL, unit, help },
#define NO_RULE
#define CATALOG_ENTRY(name, in, unit, value, cli, prom, rule) rule

const struct metric_desc metric_catalog[] = {
	/* execution: one series per running execution; the table's first (history/exec_metrics.h) */
	EXEC_METRICS(CATALOG_ENTRY)
	{ "memory_headroom_bytes", LEVEL_EXECUTION, false, NULL, "bytes",
	  "The worker's memory limit (its cgroup's limit, else the host's MemTotal) minus the tree's RSS" },
	{ "syscall_p99_seconds", LEVEL_EXECUTION, false, "syscall", "seconds",
	  "99th percentile syscall latency over the window" },
	{ "syscall_error_ratio", LEVEL_EXECUTION, false, "syscall", "ratio",
	  "Share of syscalls that returned an error over the window" },
	{ "syscall_blocked_seconds", LEVEL_EXECUTION, false, NULL, "seconds",
	  "The longest time any thread of the tree has been inside one syscall right now" },
	{ "runtime_seconds", LEVEL_EXECUTION, false, NULL, "seconds", "Wall time since the execution started" },
	{ "progress_stall_seconds", LEVEL_EXECUTION, false, NULL, "seconds",
	  "Time since the execution last reported progress" },
	/* agent (or session): computed over the executions of the window */
	{ "failure_ratio", LEVEL_AGENT, false, NULL, "ratio", "Share of the executions ended in the window that failed" },
	{ "failures", LEVEL_AGENT, false, "category", "count", "Failed executions in the window" },
	{ "retries", LEVEL_AGENT, false, NULL, "count", "Retried executions in the window" },
	{ "duration_p95_seconds", LEVEL_AGENT, false, NULL, "seconds",
	  "95th percentile duration of the executions ended in the window" },
	{ "execution_rate_ratio", LEVEL_AGENT, false, NULL, "ratio",
	  "Executions started in the window divided by those started in the window before it" },
	/* host, including the observer's own health */
	{ "host_cpu_percent", LEVEL_HOST, false, NULL, "percent", "CPU use of the whole host" },
	{ "host_memory_used_ratio", LEVEL_HOST, false, NULL, "ratio", "Share of the host's memory in use" },
	{ "psi_cpu_some", LEVEL_HOST, false, NULL, "percent", "CPU pressure stall information, some, avg10" },
	{ "psi_memory_some", LEVEL_HOST, false, NULL, "percent", "Memory pressure stall information, some, avg10" },
	{ "psi_io_some", LEVEL_HOST, false, NULL, "percent", "I/O pressure stall information, some, avg10" },
	{ "lost_events_rate", LEVEL_HOST, false, NULL, "per second", "Kernel events the observer dropped per second" },
	{ "notifications_dead", LEVEL_HOST, false, NULL, "count", "Notifications given up after every retry" },
	/* events: fire at once on an occurrence */
	{ "execution_failed", LEVEL_EXECUTION, true, "category", "event", "An execution ended in failure" },
	{ "oom_kill", LEVEL_EXECUTION, true, NULL, "event", "The OOM killer killed a process of the tree" },
	{ "fatal_signal", LEVEL_EXECUTION, true, NULL, "event", "A process of the tree died of a fatal signal" },
	{ 0 },
};

#undef RULE
#undef NO_RULE
#undef CATALOG_ENTRY

const struct metric_desc *metric__find(const char *name)
{
	for (const struct metric_desc *m = metric_catalog; name && m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const severity_names[] = { "info", "warning", "critical" };
static const char *const level_names[] = { "execution", "agent", "session", "host" };
static const char *const op_names[] = { ">", ">=", "<", "<=", "==", "!=" };
static const char *const reduce_names[] = { "last", "avg", "min", "max", "sum", "count", "p50", "p90", "p99" };
static const char *const transform_names[] = { "none", "rate", "delta", "slope", "time_to_zero" };
static const char *const missing_names[] = { "resolve", "keep", "alert" };
static const char *const if_names[] = { "unacked", "always" };

const char *rule__severity_name(enum rule_severity s)
{
	return (int)s >= 0 && (int)s < N(severity_names) ? severity_names[s] : "?";
}

const char *rule__level_name(enum rule_level l)
{
	return (int)l >= 0 && (int)l < N(level_names) ? level_names[l] : "?";
}

const char *rule__op_name(enum rule_op op)
{
	return (int)op >= 0 && (int)op < N(op_names) ? op_names[op] : "?";
}

static const char *const rule_keys[] = {
	"id", "alertname", "enabled", "builtin", "metric", "param", "syscall", "category", "scope", "window",
	"reduce", "transform", "op", "threshold", "clear_threshold", "for", "min_occurrences",
	"keep_firing_for", "severity", "labels", "annotations", "on_missing", "auto_resolve_after",
	"min_count", "escalate", NULL,
};
static const char *const scope_keys[] = { "level", "match", NULL };
static const char *const occurrence_keys[] = { "count", "of", NULL };
static const char *const escalate_keys[] = { "after", "if", "receivers", "severity", NULL };
/* Identity labels the daemon sets itself: a rule must not override them. */
static const char *const reserved_labels[] = { "alertname", "rule_id", "severity", "host", NULL };

struct parse_ctx {
	const char *id;
	char *err;
	size_t errlen;
};

static int fail(struct parse_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets err to "rule ID: ..." on one line and returns -EINVAL. */
static int fail(struct parse_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = c->id ? snprintf(c->err, c->errlen, "rule %s: ", c->id) : snprintf(c->err, c->errlen, "rule: ");
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	/* Keys and values come from users: keep the message on one line. */
	for (char *p = c->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return -EINVAL;
}

static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static void join_names(const char *const *names, int n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (int i = 0; i < n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? " " : "", names[i]);
}

/* Unknown keys are errors: they are usually typos ("treshold") that would silently be ignored. */
static int check_keys(struct parse_ctx *c, const cJSON *obj, const char *const *known, const char *prefix)
{
	const cJSON *it, *other;

	cJSON_ArrayForEach(it, obj) {
		int k;

		for (k = 0; known[k]; k++)
			if (!strcmp(known[k], it->string))
				break;
		if (!known[k])
			return fail(c, "unknown key '%s%.64s'", prefix, it->string);
		for (other = obj->child; other != it; other = other->next)
			if (!strcmp(other->string, it->string))
				return fail(c, "%s%s is given twice", prefix, it->string);
	}
	return 0;
}

static int get_enum(struct parse_ctx *c, const cJSON *item, const char *field, const char *const *names,
		    int n, int *out)
{
	char list[128];
	int i;

	if (!item)
		return 0;
	i = cJSON_IsString(item) ? name_index(names, n, item->valuestring) : -1;
	if (i < 0) {
		join_names(names, n, list, sizeof(list));
		return fail(c, "%s must be one of %s", field, list);
	}
	*out = i;
	return 0;
}

static int get_string(struct parse_ctx *c, const cJSON *item, const char *field, char *buf, size_t size)
{
	if (!cJSON_IsString(item))
		return fail(c, "%s must be a string", field);
	if (strlen(item->valuestring) >= size)
		return fail(c, "%s is longer than %zu bytes", field, size - 1);
	strcpy(buf, item->valuestring);
	return 0;
}

static int get_number(struct parse_ctx *c, const cJSON *item, const char *field, double *v)
{
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
		return fail(c, "%s must be a number", field);
	*v = item->valuedouble;
	return 0;
}

static int get_integer(struct parse_ctx *c, const cJSON *item, const char *field, double lo, double hi,
		       double *v)
{
	if (!cJSON_IsNumber(item) || item->valuedouble != floor(item->valuedouble) ||
	    item->valuedouble < lo || item->valuedouble > hi)
		return fail(c, "%s must be a whole number from %.0f to %.0f", field, lo, hi);
	*v = item->valuedouble;
	return 0;
}

/* A duration string ("1m30s") or a number of seconds, at most max_ms. */
static int get_duration(struct parse_ctx *c, const cJSON *item, const char *field, __u64 max_ms, __u64 *ms)
{
	char limit[32];
	__u64 v;

	if (cJSON_IsNumber(item) && item->valuedouble > (double)max_ms / 1000)
		goto too_long;
	if (duration__from_json(item, &v)) {
		if (cJSON_IsString(item))
			return fail(c, "%s must be a duration such as 30s, 1m30s or 2h, not '%.32s'", field,
				    item->valuestring);
		if (cJSON_IsNumber(item))
			goto too_long;
		return fail(c, "%s must be a duration such as 30s, 1m30s or 2h", field);
	}
	if (v > max_ms)
		goto too_long;
	*ms = v;
	return 0;
too_long:
	duration__format(max_ms, limit, sizeof(limit));
	return fail(c, "%s must be from 0s to %s", field, limit);
}

static bool valid_id(const char *id)
{
	size_t len = strlen(id);

	if (!len || len >= RULE_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

static int parse_scope(struct parse_ctx *c, const cJSON *scope, struct alert_rule *r)
{
	const struct metric_desc *m = r->metric;
	const cJSON *match, *it;
	int level = m->level, ret, i = 0;

	if (!scope)
		goto check_level;
	if (!cJSON_IsObject(scope))
		return fail(c, "scope must be an object with level and match");
	ret = check_keys(c, scope, scope_keys, "scope.");
	if (ret)
		return ret;
	ret = get_enum(c, cJSON_GetObjectItemCaseSensitive(scope, "level"), "scope.level", level_names,
		       N(level_names), &level);
	if (ret)
		return ret;
	match = cJSON_GetObjectItemCaseSensitive(scope, "match");
	if (match && !cJSON_IsArray(match))
		return fail(c, "scope.match must be an array of matchers such as \"agent=~\\\"build-.*\\\"\"");
	if (cJSON_GetArraySize(match) > RULE_MAX_MATCHERS)
		return fail(c, "scope.match has more than %d matchers", RULE_MAX_MATCHERS);
	cJSON_ArrayForEach(it, match) {
		char why[256];

		if (!cJSON_IsString(it))
			return fail(c, "scope.match[%d] must be a string", i);
		if (matcher__parse(&r->match[i], it->valuestring, why, sizeof(why)))
			return fail(c, "scope.match[%d]: %s", i, why);
		r->nr_match = ++i;
	}
check_level:
	/* Agent metrics aggregate executions, so they also work per session; the others have one level. */
	if (level != (int)m->level &&
	    !(m->level == LEVEL_AGENT && level == LEVEL_SESSION))
		return fail(c, "scope.level %s does not fit %s, %s", level_names[level], m->name,
			    m->level == LEVEL_AGENT ? "an agent metric (agent or session)" :
			    m->level == LEVEL_HOST ? "a host metric" : "an execution metric");
	r->level = level;
	return 0;
}

static int parse_param(struct parse_ctx *c, const cJSON *obj, struct alert_rule *r)
{
	static const char *const keys[] = { "param", "syscall", "category" };
	const cJSON *item = NULL;
	const char *key = NULL;

	for (int i = 0; i < N(keys); i++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, keys[i]);

		if (!it)
			continue;
		if (item)
			return fail(c, "%s and %s both set the metric's parameter", key, keys[i]);
		item = it;
		key = keys[i];
	}
	if (!item)
		return 0;
	if (!r->metric->param)
		return fail(c, "%s: %s takes no parameter", key, r->metric->name);
	if (strcmp(key, "param") && strcmp(key, r->metric->param))
		return fail(c, "%s: %s takes a %s, not a %s", key, r->metric->name, r->metric->param, key);
	return get_string(c, item, key, r->param, sizeof(r->param));
}

static int parse_labels(struct parse_ctx *c, const cJSON *obj, struct alert_rule *r)
{
	char why[160];

	if (!obj)
		return 0;
	if (labels__from_json(obj, &r->labels, why, sizeof(why)))
		return fail(c, "labels: %s", why);
	for (int i = 0; reserved_labels[i]; i++)
		if (*labels__get(&r->labels, reserved_labels[i]))
			return fail(c, "labels: %s is set by the daemon and cannot be overridden",
				    reserved_labels[i]);
	return 0;
}

static int parse_annotations(struct parse_ctx *c, const cJSON *obj, struct alert_rule *r)
{
	const cJSON *it;

	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj))
		return fail(c, "annotations must be an object of strings");
	cJSON_ArrayForEach(it, obj) {
		if (!labels__valid_name(it->string) || strlen(it->string) >= LABEL_NAME_LEN)
			return fail(c, "annotations: '%.64s' is not a valid name ([a-zA-Z_][a-zA-Z0-9_]*)",
				    it->string);
		if (!cJSON_IsString(it))
			return fail(c, "annotations.%s must be a string", it->string);
		if (strlen(it->valuestring) >= RULE_ANNOTATION_LEN)
			return fail(c, "annotations.%s is longer than %d bytes", it->string, RULE_ANNOTATION_LEN - 1);
		for (int i = 0; i < r->nr_ann; i++)
			if (!strcmp(r->ann_names[i], it->string))
				return fail(c, "annotations.%s is given twice", it->string);
		if (r->nr_ann >= RULE_MAX_ANNOTATIONS)
			return fail(c, "annotations: more than %d", RULE_MAX_ANNOTATIONS);
		strcpy(r->ann_names[r->nr_ann], it->string);
		strcpy(r->ann_templates[r->nr_ann], it->valuestring);
		r->nr_ann++;
	}
	return 0;
}

static int parse_occurrences(struct parse_ctx *c, const cJSON *obj, struct alert_rule *r)
{
	const cJSON *count, *of;
	double vc = 0, vo = 0;
	int ret;

	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj))
		return fail(c, "min_occurrences must be an object {\"count\": N, \"of\": M}");
	ret = check_keys(c, obj, occurrence_keys, "min_occurrences.");
	if (ret)
		return ret;
	count = cJSON_GetObjectItemCaseSensitive(obj, "count");
	of = cJSON_GetObjectItemCaseSensitive(obj, "of");
	if (!count || !of)
		return fail(c, "min_occurrences needs both count and of");
	ret = get_integer(c, count, "min_occurrences.count", 1, 100, &vc);
	if (!ret)
		ret = get_integer(c, of, "min_occurrences.of", 1, 100, &vo);
	if (ret)
		return ret;
	if (vc > vo)
		return fail(c, "min_occurrences.count %.0f is more than of %.0f", vc, vo);
	r->occur_count = (int)vc;
	r->occur_of = (int)vo;
	return 0;
}

static int parse_escalation(struct parse_ctx *c, const cJSON *obj, int idx, struct alert_rule *r)
{
	struct escalation *e = &r->escalate[idx];
	const cJSON *receivers, *it;
	char field[48];
	int ret, sev = 0, cond = 0;

	snprintf(field, sizeof(field), "escalate[%d].", idx);
	if (!cJSON_IsObject(obj))
		return fail(c, "escalate[%d] must be an object", idx);
	ret = check_keys(c, obj, escalate_keys, field);
	if (ret)
		return ret;
	it = cJSON_GetObjectItemCaseSensitive(obj, "after");
	if (!it)
		return fail(c, "escalate[%d].after is required", idx);
	snprintf(field, sizeof(field), "escalate[%d].after", idx);
	ret = get_duration(c, it, field, MAX_LONG_MS, &e->after_ms);
	if (ret)
		return ret;
	snprintf(field, sizeof(field), "escalate[%d].if", idx);
	ret = get_enum(c, cJSON_GetObjectItemCaseSensitive(obj, "if"), field, if_names, N(if_names), &cond);
	if (ret)
		return ret;
	e->if_unacked = cond == 0;
	receivers = cJSON_GetObjectItemCaseSensitive(obj, "receivers");
	if (receivers && !cJSON_IsArray(receivers))
		return fail(c, "escalate[%d].receivers must be an array of receiver names", idx);
	if (cJSON_GetArraySize(receivers) > N(e->receivers))
		return fail(c, "escalate[%d].receivers has more than %d names", idx, N(e->receivers));
	cJSON_ArrayForEach(it, receivers) {
		snprintf(field, sizeof(field), "escalate[%d].receivers[%d]", idx, e->nr_receivers);
		ret = get_string(c, it, field, e->receivers[e->nr_receivers], sizeof(e->receivers[0]));
		if (ret)
			return ret;
		if (!e->receivers[e->nr_receivers][0])
			return fail(c, "%s is empty", field);
		e->nr_receivers++;
	}
	it = cJSON_GetObjectItemCaseSensitive(obj, "severity");
	if (it) {
		snprintf(field, sizeof(field), "escalate[%d].severity", idx);
		ret = get_enum(c, it, field, severity_names, N(severity_names), &sev);
		if (ret)
			return ret;
		if (sev <= (int)r->severity)
			return fail(c, "%s %s does not raise the rule's severity %s", field, severity_names[sev],
				    severity_names[r->severity]);
		e->raise_severity = true;
		e->severity = sev;
	}
	return 0;
}

/* The comparisons and thresholds of a rule that compares a value. */
static int parse_condition(struct parse_ctx *c, const cJSON *obj, struct alert_rule *r)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(obj, "op");
	const cJSON *threshold = cJSON_GetObjectItemCaseSensitive(obj, "threshold");
	const cJSON *clear = cJSON_GetObjectItemCaseSensitive(obj, "clear_threshold");
	bool event = r->metric->event;
	int v = OP_GT, ret;

	if (!op && !event)
		return fail(c, "op is required: one of > >= < <= == !=");
	ret = get_enum(c, op, "op", op_names, N(op_names), &v);
	if (ret)
		return ret;
	r->op = v;
	if (!threshold && !event)
		return fail(c, "threshold is required");
	if (threshold) {
		ret = get_number(c, threshold, "threshold", &r->threshold);
		if (ret)
			return ret;
	}
	if (!clear)
		return 0;
	if (event)
		return fail(c, "clear_threshold: event rules have no threshold to clear");
	ret = get_number(c, clear, "clear_threshold", &r->clear_threshold);
	if (ret)
		return ret;
	/* Hysteresis only makes sense on the safe side: a firing alert must be able to clear. */
	switch (r->op) {
	case OP_GT:
	case OP_GE:
		if (r->clear_threshold > r->threshold)
			return fail(c, "clear_threshold %g must not be above threshold %g for op %s",
				    r->clear_threshold, r->threshold, op_names[r->op]);
		break;
	case OP_LT:
	case OP_LE:
		if (r->clear_threshold < r->threshold)
			return fail(c, "clear_threshold %g must not be below threshold %g for op %s",
				    r->clear_threshold, r->threshold, op_names[r->op]);
		break;
	default:
		return fail(c, "clear_threshold has no meaning for op %s", op_names[r->op]);
	}
	r->has_clear = true;
	return 0;
}

/* window, reduce and transform: how the points of a series become one value. */
static int parse_window(struct parse_ctx *c, const cJSON *obj, struct alert_rule *r)
{
	static const char *const keys[] = { "window", "reduce", "transform" };
	const cJSON *window = cJSON_GetObjectItemCaseSensitive(obj, "window");
	const cJSON *reduce = cJSON_GetObjectItemCaseSensitive(obj, "reduce");
	const cJSON *transform = cJSON_GetObjectItemCaseSensitive(obj, "transform");
	int v, ret = 0;

	if (r->metric->event) {
		for (int i = 0; i < N(keys); i++)
			if (cJSON_GetObjectItemCaseSensitive(obj, keys[i]))
				return fail(c, "%s: %s is an event, which fires on each occurrence without a window",
					    keys[i], r->metric->name);
		return 0;
	}
	if (window) {
		ret = get_duration(c, window, "window", MAX_WINDOW_MS, &r->window_ms);
		if (ret)
			return ret;
	}
	/* Over a window the average is the natural summary; without one, the last point is all there is. */
	v = r->window_ms && !reduce ? REDUCE_AVG : REDUCE_LAST;
	ret = get_enum(c, reduce, "reduce", reduce_names, N(reduce_names), &v);
	if (ret)
		return ret;
	r->reduce = v;
	v = TRANSFORM_NONE;
	if (cJSON_IsString(transform) && !strcmp(transform->valuestring, "deriv"))
		v = TRANSFORM_SLOPE;	/* Prometheus' name for it */
	else if (transform)
		ret = get_enum(c, transform, "transform", transform_names, N(transform_names), &v);
	if (ret)
		return ret;
	r->transform = v;
	if (r->transform != TRANSFORM_NONE && !r->window_ms)
		return fail(c, "transform %s needs a window of several points", transform_names[r->transform]);
	return 0;
}

static int parse_rule(struct parse_ctx *c, const cJSON *obj, struct alert_rule *r)
{
	const cJSON *it;
	double count = 0;
	int v, ret;

	it = cJSON_GetObjectItemCaseSensitive(obj, "id");
	if (!it)
		return fail(c, "id is required");
	if (!cJSON_IsString(it) || !valid_id(it->valuestring))
		return fail(c, "id must be 1 to %d characters of a-z 0-9 _ -", RULE_ID_LEN - 1);
	strcpy(r->id, it->valuestring);
	c->id = r->id;
	ret = check_keys(c, obj, rule_keys, "");
	if (ret)
		return ret;

	it = cJSON_GetObjectItemCaseSensitive(obj, "alertname");
	if (!it)
		return fail(c, "alertname is required");
	ret = get_string(c, it, "alertname", r->alertname, sizeof(r->alertname));
	if (ret)
		return ret;
	if (!labels__valid_name(r->alertname))
		return fail(c, "alertname must be a label name ([a-zA-Z_][a-zA-Z0-9_]*)");

	it = cJSON_GetObjectItemCaseSensitive(obj, "enabled");
	if (it && !cJSON_IsBool(it))
		return fail(c, "enabled must be true or false");
	r->enabled = !it || cJSON_IsTrue(it);
	/* "builtin" is what rule__to_json() reports; rules__parse() decides it, so it is accepted and ignored. */
	it = cJSON_GetObjectItemCaseSensitive(obj, "builtin");
	if (it && !cJSON_IsBool(it))
		return fail(c, "builtin must be true or false");

	it = cJSON_GetObjectItemCaseSensitive(obj, "metric");
	if (!it)
		return fail(c, "metric is required");
	if (!cJSON_IsString(it))
		return fail(c, "metric must be a string");
	r->metric = metric__find(it->valuestring);
	if (!r->metric)
		return fail(c, "metric '%.64s' is not in the catalog", it->valuestring);

	ret = parse_param(c, obj, r);
	if (!ret)
		ret = parse_scope(c, cJSON_GetObjectItemCaseSensitive(obj, "scope"), r);
	if (!ret)
		ret = parse_window(c, obj, r);
	if (!ret)
		ret = parse_condition(c, obj, r);
	if (ret)
		return ret;

	it = cJSON_GetObjectItemCaseSensitive(obj, "for");
	if (it) {
		ret = get_duration(c, it, "for", MAX_FOR_MS, &r->for_ms);
		if (ret)
			return ret;
	}
	ret = parse_occurrences(c, cJSON_GetObjectItemCaseSensitive(obj, "min_occurrences"), r);
	if (ret)
		return ret;
	it = cJSON_GetObjectItemCaseSensitive(obj, "keep_firing_for");
	if (it) {
		ret = get_duration(c, it, "keep_firing_for", MAX_KEEP_FIRING_MS, &r->keep_firing_for_ms);
		if (ret)
			return ret;
	}

	v = SEVERITY_WARNING;
	ret = get_enum(c, cJSON_GetObjectItemCaseSensitive(obj, "severity"), "severity", severity_names,
		       N(severity_names), &v);
	if (ret)
		return ret;
	r->severity = v;
	ret = parse_labels(c, cJSON_GetObjectItemCaseSensitive(obj, "labels"), r);
	if (!ret)
		ret = parse_annotations(c, cJSON_GetObjectItemCaseSensitive(obj, "annotations"), r);
	if (ret)
		return ret;
	v = MISSING_RESOLVE;
	ret = get_enum(c, cJSON_GetObjectItemCaseSensitive(obj, "on_missing"), "on_missing", missing_names,
		       N(missing_names), &v);
	if (ret)
		return ret;
	r->on_missing = v;

	it = cJSON_GetObjectItemCaseSensitive(obj, "auto_resolve_after");
	if (it && !r->metric->event)
		return fail(c, "auto_resolve_after is for event rules; %s resolves when it clears",
			    r->metric->name);
	if (r->metric->event) {
		/* Events have no natural clear: they resolve on their own after an hour by default. */
		r->auto_resolve_ms = HOUR_MS;
		if (it) {
			ret = get_duration(c, it, "auto_resolve_after", MAX_LONG_MS, &r->auto_resolve_ms);
			if (ret)
				return ret;
		}
	}

	it = cJSON_GetObjectItemCaseSensitive(obj, "min_count");
	if (it) {
		ret = get_integer(c, it, "min_count", 0, MAX_MIN_COUNT, &count);
		if (ret)
			return ret;
		if (count && r->level != LEVEL_AGENT && r->level != LEVEL_SESSION)
			return fail(c, "min_count is for agent and session rules, not %s",
				    level_names[r->level]);
		r->min_count = (__u64)count;
	}

	it = cJSON_GetObjectItemCaseSensitive(obj, "escalate");
	if (it && !cJSON_IsArray(it))
		return fail(c, "escalate must be an array of {after, if, receivers, severity}");
	if (cJSON_GetArraySize(it) > N(r->escalate))
		return fail(c, "escalate has more than %d steps", N(r->escalate));
	for (const cJSON *e = it ? it->child : NULL; e; e = e->next) {
		ret = parse_escalation(c, e, r->nr_escalate, r);
		if (ret)
			return ret;
		r->nr_escalate++;
	}
	return 0;
}

int rule__parse(const struct cJSON *obj, struct alert_rule *r, char *err, size_t errlen)
{
	struct parse_ctx c = { NULL, err, errlen };
	int ret;

	memset(r, 0, sizeof(*r));
	if (err && errlen)
		err[0] = 0;
	if (!cJSON_IsObject(obj))
		return fail(&c, "must be a JSON object");
	ret = parse_rule(&c, obj, r);
	if (ret)
		rule__free(r);
	return ret;
}

void rule__free(struct alert_rule *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nr_match; i++)
		matcher__free(&r->match[i]);
}

/* Adds a duration as text ("1m30s"), the form rule__parse() reads back exactly. */
static bool add_duration(cJSON *obj, const char *key, __u64 ms)
{
	char buf[64];

	duration__format(ms, buf, sizeof(buf));
	return cJSON_AddStringToObject(obj, key, buf) != NULL;
}

static bool add_escalations(cJSON *obj, const struct alert_rule *r)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "escalate");

	if (!arr)
		return false;
	for (int i = 0; i < r->nr_escalate; i++) {
		const struct escalation *e = &r->escalate[i];
		cJSON *step = cJSON_CreateObject(), *rcv;
		bool ok = step && cJSON_AddItemToArray(arr, step);

		if (!ok) {
			cJSON_Delete(step);
			return false;
		}
		ok = add_duration(step, "after", e->after_ms);
		ok = ok && cJSON_AddStringToObject(step, "if", if_names[e->if_unacked ? 0 : 1]);
		rcv = ok ? cJSON_AddArrayToObject(step, "receivers") : NULL;
		ok = rcv != NULL;
		for (int j = 0; ok && j < e->nr_receivers; j++)
			ok = cJSON_AddItemToArray(rcv, cJSON_CreateString(e->receivers[j]));
		if (ok && e->raise_severity)
			ok = cJSON_AddStringToObject(step, "severity", severity_names[e->severity]) != NULL;
		if (!ok)
			return false;
	}
	return true;
}

struct cJSON *rule__to_json(const struct alert_rule *r)
{
	cJSON *obj = cJSON_CreateObject(), *scope = NULL, *match, *item;
	const struct metric_desc *m = r->metric;
	bool event = m && m->event, ok;
	char buf[LABEL_NAME_LEN + LABEL_VALUE_LEN * 2 + 8];

	ok = obj && m;
	if (!ok)
		goto cleanup;
	ok = cJSON_AddStringToObject(obj, "id", r->id) &&
	     cJSON_AddStringToObject(obj, "alertname", r->alertname) &&
	     cJSON_AddBoolToObject(obj, "enabled", r->enabled) &&
	     cJSON_AddBoolToObject(obj, "builtin", r->builtin) &&
	     cJSON_AddStringToObject(obj, "metric", m->name);
	/* The parameter under its own name ("syscall": "read"), as a person would write it. */
	if (ok && m->param && r->param[0])
		ok = cJSON_AddStringToObject(obj, m->param, r->param) != NULL;
	scope = ok ? cJSON_AddObjectToObject(obj, "scope") : NULL;
	ok = scope && cJSON_AddStringToObject(scope, "level", level_names[r->level]);
	match = ok ? cJSON_AddArrayToObject(scope, "match") : NULL;
	ok = match != NULL;
	for (int i = 0; ok && i < r->nr_match; i++) {
		matcher__format(&r->match[i], buf, sizeof(buf));
		ok = cJSON_AddItemToArray(match, cJSON_CreateString(buf));
	}
	if (ok && !event)
		ok = add_duration(obj, "window", r->window_ms) &&
		     cJSON_AddStringToObject(obj, "reduce", reduce_names[r->reduce]) &&
		     cJSON_AddStringToObject(obj, "transform", transform_names[r->transform]);
	/* Event rules need no condition; one given anyway is kept. */
	if (ok && (!event || r->op != OP_GT || r->threshold != 0))
		ok = cJSON_AddStringToObject(obj, "op", op_names[r->op]) &&
		     cJSON_AddNumberToObject(obj, "threshold", r->threshold);
	if (ok && r->has_clear)
		ok = cJSON_AddNumberToObject(obj, "clear_threshold", r->clear_threshold) != NULL;
	ok = ok && add_duration(obj, "for", r->for_ms);
	if (ok && r->occur_of) {
		item = cJSON_AddObjectToObject(obj, "min_occurrences");
		ok = item && cJSON_AddNumberToObject(item, "count", r->occur_count) &&
		     cJSON_AddNumberToObject(item, "of", r->occur_of);
	}
	ok = ok && add_duration(obj, "keep_firing_for", r->keep_firing_for_ms) &&
	     cJSON_AddStringToObject(obj, "severity", severity_names[r->severity]);
	if (ok) {
		item = labels__to_json(&r->labels);
		ok = item && cJSON_AddItemToObject(obj, "labels", item);
		if (!ok)
			cJSON_Delete(item);
	}
	item = ok ? cJSON_AddObjectToObject(obj, "annotations") : NULL;
	ok = item != NULL;
	for (int i = 0; ok && i < r->nr_ann; i++)
		ok = cJSON_AddStringToObject(item, r->ann_names[i], r->ann_templates[i]) != NULL;
	ok = ok && cJSON_AddStringToObject(obj, "on_missing", missing_names[r->on_missing]);
	if (ok && event)
		ok = add_duration(obj, "auto_resolve_after", r->auto_resolve_ms);
	if (ok && (r->level == LEVEL_AGENT || r->level == LEVEL_SESSION))
		ok = cJSON_AddNumberToObject(obj, "min_count", (double)r->min_count) != NULL;
	ok = ok && add_escalations(obj, r);
cleanup:
	if (!ok) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	return obj;
}

static bool compare(enum rule_op op, double v, double t)
{
	switch (op) {
	case OP_GT:
		return v > t;
	case OP_GE:
		return v >= t;
	case OP_LT:
		return v < t;
	case OP_LE:
		return v <= t;
	case OP_EQ:
		return v == t;
	case OP_NE:
		return v != t;
	}
	return false;
}

bool rule__breaches(const struct alert_rule *r, double v, bool firing)
{
	/* No data is not a breach: NaN != t would otherwise fire every != rule. */
	if (isnan(v))
		return false;
	/* A firing alert holds until the value passes the clear threshold, so it does not flap. */
	if (firing && r->has_clear && r->op != OP_EQ && r->op != OP_NE)
		return compare(r->op, v, r->clear_threshold);
	return compare(r->op, v, r->threshold);
}

/* The defaults, as users would write them: parsed by the same code, so they are validated too. */
static const char *const default_rules[] = {
	"{\"id\": \"agent-error-rate\", \"alertname\": \"AgentHighFailureRate\", \"metric\": \"failure_ratio\","
	" \"scope\": {\"level\": \"agent\"}, \"window\": \"15m\", \"op\": \">\", \"threshold\": 0.10,"
	" \"clear_threshold\": 0.08, \"min_count\": 5, \"for\": \"0\", \"severity\": \"critical\","
	" \"annotations\": {\"summary\": \"Agent {{labels.agent}}: failure ratio {{value|%.2f}} over 15m"
	" (threshold {{threshold|%.2f}})\"}}",

	"{\"id\": \"agent-slow\", \"alertname\": \"AgentSlowExecutions\", \"metric\": \"duration_p95_seconds\","
	" \"scope\": {\"level\": \"agent\"}, \"window\": \"1h\", \"op\": \">\", \"threshold\": 30,"
	" \"clear_threshold\": 27, \"min_count\": 5, \"severity\": \"warning\","
	" \"annotations\": {\"summary\": \"Agent {{labels.agent}}: 95% of executions took up to"
	" {{value|%.0f}}s over the last hour (threshold {{threshold|%.0f}}s)\"}}",

	"{\"id\": \"peak-memory\", \"alertname\": \"WorkerHighMemory\", \"metric\": \"peak_rss_bytes\","
	" \"scope\": {\"level\": \"execution\"}, \"window\": \"0\", \"op\": \">\", \"threshold\": 1073741824,"
	" \"severity\": \"warning\", \"on_missing\": \"resolve\","
	" \"annotations\": {\"summary\": \"{{labels.agent}} execution {{labels.execution_id}} peaked at"
	" {{value|%.0f}} bytes of RSS (threshold {{threshold|%.0f}})\"}}",

	"{\"id\": \"execution-rate-drop\", \"alertname\": \"AgentExecutionRateDrop\","
	" \"metric\": \"execution_rate_ratio\", \"scope\": {\"level\": \"agent\"}, \"window\": \"30m\","
	" \"op\": \"<\", \"threshold\": 0.5, \"clear_threshold\": 0.6, \"min_count\": 10, \"for\": \"0\","
	" \"severity\": \"warning\","
	" \"annotations\": {\"summary\": \"Agent {{labels.agent}} started {{value|%.2f}} times as many"
	" executions in the last 30m as in the 30m before (threshold {{threshold}})\"}}",

	"{\"id\": \"syscall-stuck\", \"alertname\": \"WorkerStuckInSyscall\", \"metric\": \"syscall_blocked_seconds\","
	" \"scope\": {\"level\": \"execution\"}, \"window\": \"0\", \"op\": \">\", \"threshold\": 60, \"for\": \"0\","
	" \"severity\": \"warning\","
	" \"annotations\": {\"summary\": \"{{labels.agent}} has been inside one syscall for {{value|%.0f}}s\"}}",

	"{\"id\": \"oom-forecast\", \"alertname\": \"WorkerMemoryLimitForecast\", \"metric\": \"memory_headroom_bytes\","
	" \"scope\": {\"level\": \"execution\"}, \"window\": \"1m\", \"transform\": \"time_to_zero\","
	" \"op\": \"<\", \"threshold\": 600, \"clear_threshold\": 900, \"for\": \"10s\", \"severity\": \"critical\","
	" \"annotations\": {\"summary\": \"{{labels.agent}} reaches its memory limit in {{value|%.0f}}s"
	" at the current growth\"}}",

	"{\"id\": \"oom-kill\", \"alertname\": \"WorkerOOMKilled\", \"metric\": \"oom_kill\","
	" \"severity\": \"critical\","
	" \"annotations\": {\"summary\": \"The OOM killer killed a process of {{labels.agent}}"
	" execution {{labels.execution_id}}\"}}",

	"{\"id\": \"lost-events\", \"alertname\": \"ObserverLostEvents\", \"metric\": \"lost_events_rate\","
	" \"scope\": {\"level\": \"host\"}, \"window\": \"1m\", \"transform\": \"none\", \"op\": \">\","
	" \"threshold\": 0, \"for\": \"1m\", \"severity\": \"warning\","
	" \"annotations\": {\"summary\": \"The observer lost {{value|%.1f}} kernel events per second;"
	" metrics are incomplete\"}}",
};

int rules__defaults(struct alert_rule *out, int max)
{
	int n = 0;

	for (int i = 0; i < N(default_rules) && n < max; i++) {
		cJSON *obj = cJSON_Parse(default_rules[i]);

		/* They are constants: a failure is a bug the unit tests catch, or out of memory. */
		if (obj && !rule__parse(obj, &out[n], NULL, 0)) {
			out[n].builtin = true;
			n++;
		}
		cJSON_Delete(obj);
	}
	return n;
}

static bool switch_default(const cJSON *obj, struct alert_rule *rules, int n, bool *given)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(obj, "enabled");

	if (!cJSON_IsString(id) || !cJSON_IsBool(enabled))
		return false;
	for (int j = 0; j < n; j++)
		if (rules[j].builtin && !given[j] && !strcmp(rules[j].id, id->valuestring)) {
			rules[j].enabled = cJSON_IsTrue(enabled);
			given[j] = true;
			return true;
		}
	return false;
}

int rules__parse(const struct cJSON *array, struct alert_rule *out, int max, char *err, size_t errlen)
{
	struct parse_ctx c = { NULL, err, errlen };
	struct alert_rule *r = NULL;
	bool *given = NULL;
	const cJSON *it;
	int n, i = 0, ret = 0;

	if (err && errlen)
		err[0] = 0;
	n = rules__defaults(out, max);
	if (!array)
		return n;
	r = malloc(sizeof(*r));
	/* Which rules came from the array: only those can clash on id. */
	given = calloc(max > 0 ? max : 1, sizeof(*given));
	if (!r || !given) {
		ret = -ENOMEM;
		snprintf(err, errlen, "rules: out of memory");
		goto cleanup;
	}
	if (!cJSON_IsArray(array)) {
		ret = -EINVAL;
		snprintf(err, errlen, "rules must be a JSON array of rule objects");
		goto cleanup;
	}
	cJSON_ArrayForEach(it, array) {
		int j;

		if (!cJSON_IsObject(it)) {
			ret = -EINVAL;
			snprintf(err, errlen, "rules[%d] must be a JSON object", i);
			goto cleanup;
		}
		/* {"id": ID, "enabled": BOOL} alone switches a default on or off */
		if (cJSON_GetArraySize(it) == 2 && switch_default(it, out, n, given)) {
			i++;
			continue;
		}
		ret = rule__parse(it, r, err, errlen);
		if (ret)
			goto cleanup;
		for (j = 0; j < n; j++)
			if (!strcmp(out[j].id, r->id))
				break;
		c.id = r->id;
		if (j < n && given[j]) {
			rule__free(r);
			ret = fail(&c, "id is used by two rules");
			goto cleanup;
		}
		if (j == n && n >= max) {
			rule__free(r);
			ret = fail(&c, "more than %d rules", max);
			goto cleanup;
		}
		if (j < n) {
			/* Overrides a default in place, so the defaults keep their order. */
			rule__free(&out[j]);
			r->builtin = true;
		} else {
			n++;
		}
		out[j] = *r;	/* the compiled matchers move with it */
		given[j] = true;
		i++;
	}
	ret = n;
cleanup:
	if (ret < 0)
		for (int j = 0; j < n; j++)
			rule__free(&out[j]);
	free(given);
	free(r);
	return ret;
}
