// SPDX-License-Identifier: MIT
/* Alerts as JSON: the API's views, the stored documents, counts for /metrics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "alerts/alerts_int.h"
#include "lib/json.h"

static void add_number(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

/* The API's view of an alert. */
cJSON *alert__view(const struct alert *x, __u64 now_ms)
{
	cJSON *o = cJSON_CreateObject(), *ack;

	cJSON_AddStringToObject(o, "id", x->id);
	cJSON_AddStringToObject(o, "fingerprint", x->id);
	cJSON_AddStringToObject(o, "rule_id", x->rule_id);
	cJSON_AddStringToObject(o, "alertname", labels__get(&x->labels, "alertname"));
	cJSON_AddStringToObject(o, "severity", labels__get(&x->labels, "severity"));
	cJSON_AddItemToObject(o, "labels", labels__to_json(&x->labels));
	cJSON_AddItemToObject(o, "annotations", labels__to_json(&x->annotations));
	cJSON_AddStringToObject(o, "state", alert__state_name(x->state));
	add_number(o, "value", x->value);
	if (x->rule && !x->rule->metric->event)
		add_number(o, "threshold", x->rule->threshold);
	json__time(o, "started_at", x->state == ALERT_PENDING ? x->active_at : x->fired_at);
	json__time(o, "active_at", x->active_at);
	json__time(o, "fired_at", x->fired_at);
	json__time(o, "resolved_at", x->state == ALERT_RESOLVED ? x->resolved_at : 0);
	json__time(o, "updated_at", x->updated_at);
	if (x->state == ALERT_PENDING && x->rule && x->rule->for_ms > now_ms - x->active_at)
		cJSON_AddNumberToObject(o, "fires_in_s", (x->rule->for_ms - (now_ms - x->active_at)) / 1000.0);
	cJSON_AddBoolToObject(o, "acknowledged", x->acked);
	if (x->acked) {
		ack = cJSON_AddObjectToObject(o, "ack");
		cJSON_AddStringToObject(ack, "by", x->acked_by);
		cJSON_AddStringToObject(ack, "comment", x->ack_comment);
		json__time(ack, "at", x->acked_at);
		json__time(ack, "expires_at", x->ack_expires);
	}
	cJSON_AddBoolToObject(o, "silenced", x->silenced_by[0] != 0);
	cJSON_AddStringToObject(o, "silenced_by", x->silenced_by);
	cJSON_AddBoolToObject(o, "inhibited", x->inhibited_by[0] != 0);
	cJSON_AddStringToObject(o, "inhibited_by", x->inhibited_by);
	if (x->state == ALERT_RESOLVED) {
		cJSON_AddStringToObject(o, "resolve_reason", x->resolve_reason);
		cJSON_AddStringToObject(o, "resolved_by", x->resolved_by);
	}
	cJSON_AddNumberToObject(o, "escalations", x->escalated);
	return o;
}

/* The stored document: the view plus what restores the state machine exactly. */
char *alert__doc(const struct alert *x, __u64 now_ms)
{
	cJSON *o = alert__view(x, now_ms);
	char *text;

	cJSON_AddNumberToObject(o, "active_at_ms", (double)x->active_at);
	cJSON_AddNumberToObject(o, "fired_at_ms", (double)x->fired_at);
	cJSON_AddNumberToObject(o, "clear_since_ms", (double)x->clear_since);
	cJSON_AddNumberToObject(o, "resolved_at_ms", (double)x->resolved_at);
	cJSON_AddNumberToObject(o, "seen_at_ms", (double)x->seen_at);
	cJSON_AddNumberToObject(o, "acked_at_ms", (double)x->acked_at);
	cJSON_AddNumberToObject(o, "ack_expires_ms", (double)x->ack_expires);
	cJSON_AddNumberToObject(o, "am_sent_ms", (double)x->am_sent_ms);
	cJSON_AddStringToObject(o, "am_sent_state", alert__state_name(x->am_sent_state));
	cJSON_AddNumberToObject(o, "hits", (double)x->hits);
	cJSON_AddNumberToObject(o, "missing", x->missing);
	cJSON_AddBoolToObject(o, "hold_until_clear", x->hold_until_clear);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}


static int cmp_alert_view(const void *x, const void *y)
{
	const struct alert *a = *(const struct alert *const *)x, *b = *(const struct alert *const *)y;
	__u64 ta = a->fired_at ? a->fired_at : a->active_at, tb = b->fired_at ? b->fired_at : b->active_at;

	if (alert__active(a) != alert__active(b))
		return alert__active(a) ? -1 : 1;
	return (tb > ta) - (tb < ta);
}

cJSON *alerts__list_json(struct alerts *a, const char *state, const char *severity, const char *rule,
			 __u64 now_ms)
{
	struct alert **all = calloc(a->nr_alerts + 1, sizeof(*all));
	cJSON *arr = cJSON_CreateArray();
	int n = 0;

	if (!all)
		return arr;
	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b]; x; x = x->next) {
			if (state && state[0] && strcmp(state, alert__state_name(x->state)) &&
			    !(!strcmp(state, "active") && alert__active(x)))
				continue;
			if (severity && severity[0] && strcmp(severity, labels__get(&x->labels, "severity")))
				continue;
			if (rule && rule[0] && strcmp(rule, x->rule_id))
				continue;
			all[n++] = x;
		}
	qsort(all, n, sizeof(*all), cmp_alert_view);
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, alert__view(all[i], now_ms));
	free(all);
	return arr;
}

cJSON *alerts__get_json(struct alerts *a, const char *id, __u64 now_ms)
{
	struct alert *x = alerts__find(a, id);

	return x ? alert__view(x, now_ms) : NULL;
}

cJSON *alerts__rules_json(struct alerts *a)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < a->cfg.nr_rules; i++) {
		cJSON *o = rule__to_json(&a->cfg.rules[i]);

		cJSON_AddBoolToObject(o, "builtin", a->cfg.rules[i].builtin);
		cJSON_AddStringToObject(o, "health", !a->cfg.rules[i].enabled ? "disabled" :
					a->health[i].error[0] ? "error" : "ok");
		if (a->health[i].error[0])
			cJSON_AddStringToObject(o, "error", a->health[i].error);
		cJSON_AddNumberToObject(o, "alerts", a->health[i].instances);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

cJSON *alerts__silences_json(struct alerts *a, __u64 now_ms)
{
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < a->nr_silences; i++)
		cJSON_AddItemToArray(arr, silence__to_json(&a->silences[i], now_ms));
	return arr;
}

cJSON *alerts__receivers_json(struct alerts *a)
{
	struct receiver_stats st[RECEIVERS_MAX];
	int n = alerts__receiver_stats(a, st, RECEIVERS_MAX);
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < a->cfg.nr_receivers; i++) {
		cJSON *o = receiver__to_json(&a->cfg.receivers[i]), *d;

		for (int j = 0; j < n; j++) {
			if (strcmp(st[j].name, a->cfg.receivers[i].name))
				continue;
			d = cJSON_AddObjectToObject(o, "delivery");
			cJSON_AddNumberToObject(d, "sent", (double)st[j].sent);
			cJSON_AddNumberToObject(d, "retries", (double)st[j].retries);
			cJSON_AddNumberToObject(d, "dead", (double)st[j].dead);
			cJSON_AddNumberToObject(d, "pending", (double)st[j].pending);
			json__time(d, "last_success", st[j].last_success_ms);
			json__time(d, "last_failure", st[j].last_failure_ms);
			cJSON_AddNumberToObject(d, "last_status", st[j].last_status);
			cJSON_AddStringToObject(d, "last_error", st[j].last_error);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void alerts__counts(struct alerts *a, struct alert_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b]; x; x = x->next) {
			c->pending += x->state == ALERT_PENDING;
			c->firing += x->state == ALERT_FIRING;
			c->resolving += x->state == ALERT_RESOLVING;
			c->resolved += x->state == ALERT_RESOLVED;
			c->acknowledged += x->acked;
			c->silenced += x->silenced_by[0] != 0;
		}
	for (int i = 0; i < a->cfg.nr_rules; i++) {
		c->rules += a->cfg.rules[i].enabled;
		c->rules_in_error += a->health[i].error[0] != 0;
	}
	c->evaluations = a->evaluations;
	c->notifications_queued = a->queued;
}

/* Whether a label of alert x is its own (identity, rule, parameter) rather than one of its execution's. */
static bool own_label(const struct alert *x, const char *name)
{
	static const char *const fixed[] = { "host", "session", "agent", "task", "execution_id", "alertname",
					     "rule_id", "severity", NULL };

	for (const char *const *f = fixed; *f; f++)
		if (!strcmp(*f, name))
			return true;
	if (!x->rule)
		return false;
	if (x->rule->metric->param && !strcmp(x->rule->metric->param, name))
		return true;
	return labels__get(&x->rule->labels, name)[0] != 0;
}

void alerts__foreach_active(struct alerts *a, void (*fn)(void *ctx, const struct labelset *ls, const char *state),
			    bool (*keep)(void *ctx, const char *name), void *ctx)
{
	struct labelset *ls = malloc(sizeof(*ls));

	if (!ls)
		return;
	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b]; x; x = x->next) {
			if (!alert__active(x))
				continue;
			ls->n = 0;
			for (int i = 0; i < x->labels.n; i++)
				if (own_label(x, x->labels.l[i].name) || (keep && keep(ctx, x->labels.l[i].name)))
					ls->l[ls->n++] = x->labels.l[i];
			fn(ctx, ls, alert__state_name(x->state));
		}
	free(ls);
}

int alerts__receiver_stats(struct alerts *a, struct receiver_stats *out, int max)
{
	return a->notifier ? notifier__stats(a->notifier, out, max) : 0;
}

