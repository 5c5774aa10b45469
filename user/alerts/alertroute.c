// SPDX-License-Identifier: MIT
/* Alert notifications: routes, groups with Alertmanager's timing, escalation, and the outbox rows they queue. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "alerts/alerts_int.h"
#include "lib/json.h"
#include "lib/log.h"

int routes__select(const struct alert_config *c, const struct labelset *ls, int *out, int max)
{
	int n = 0;

	for (int i = 0; i < c->nr_routes && n < max; i++) {
		if (!matchers__match(c->routes[i].match, c->routes[i].nr_match, ls))
			continue;
		out[n++] = i;
		if (!c->routes[i].cont)
			break;
	}
	return n;
}

/* Alertmanager's groupKey: the route, then the group_by labels sorted, e.g. {}:{agent="b", alertname="X"}. */
static void group_key(const struct alert_config *c, int route, const struct labelset *gl, char *buf,
		      size_t size)
{
	size_t len;

	if (route)
		len = snprintf(buf, size, "{}/{route=\"%d\"}:{", route);
	else
		len = snprintf(buf, size, "{}:{");
	(void)c;
	for (int i = 0; i < gl->n && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s=\"%s\"", i ? ", " : "", gl->l[i].name, gl->l[i].value);
	if (len < size)
		snprintf(buf + len, size - len, "}");
}

static void group_labels(const struct route *r, const struct labelset *ls, struct labelset *gl)
{
	gl->n = 0;
	if (r->group_all) {
		*gl = *ls;
		return;
	}
	for (int i = 0; i < r->nr_group_by; i++)
		labels__set(gl, r->group_by[i], labels__get(ls, r->group_by[i]));
}

static struct agroup *group_find(struct alerts *a, int route, const char *key)
{
	for (struct agroup *g = a->groups; g; g = g->next)
		if (g->route == route && !strcmp(g->key, key))
			return g;
	return NULL;
}

static struct member *member_of(struct agroup *g, const char *id)
{
	for (int i = 0; i < g->n; i++)
		if (!strcmp(g->m[i].id, id))
			return &g->m[i];
	return NULL;
}

void group__free(struct agroup *g)
{
	if (!g)
		return;
	free(g->m);
	free(g);
}

static struct member *member_add(struct agroup *g, const char *id)
{
	struct member *m = member_of(g, id);

	if (m)
		return m;
	if (g->n == g->cap) {
		struct member *nm = realloc(g->m, (g->cap ? g->cap * 2 : 4) * sizeof(*nm));

		if (!nm)
			return NULL;
		g->m = nm;
		g->cap = g->cap ? g->cap * 2 : 4;
	}
	m = &g->m[g->n++];
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	return m;
}

/* A firing alert joins the group of each route it selects. */
void groups__join(struct alerts *a, struct alert *x, __u64 now_ms)
{
	int routes[ROUTES_MAX], n = routes__select(&a->cfg, &x->labels, routes, ROUTES_MAX);

	for (int i = 0; i < n; i++) {
		const struct route *r = &a->cfg.routes[routes[i]];
		struct labelset gl;
		char key[512];
		struct agroup *g;

		group_labels(r, &x->labels, &gl);
		group_key(&a->cfg, routes[i], &gl, key, sizeof(key));
		g = group_find(a, routes[i], key);
		if (!g) {
			g = calloc(1, sizeof(*g));
			if (!g)
				continue;
			snprintf(g->key, sizeof(g->key), "%s", key);
			g->route = routes[i];
			g->labels = gl;
			g->created = now_ms;
			g->next_flush = now_ms + r->group_wait_ms;
			g->next = a->groups;
			a->groups = g;
		}
		if (member_add(g, x->id))
			g->dirty = true;
	}
}

bool groups__holds(const struct alerts *a, const char *id)
{
	for (const struct agroup *g = a->groups; g; g = g->next)
		for (int i = 0; i < g->n; i++)
			if (!strcmp(g->m[i].id, id) && g->m[i].told == TOLD_FIRING)
				return true;
	return false;
}

static void fill_alert(const struct alert *x, bool resolved, __u64 now_ms, struct notify_alert *na)
{
	memset(na, 0, sizeof(*na));
	snprintf(na->fingerprint, sizeof(na->fingerprint), "%s", x->id);
	na->status = resolved ? "resolved" : "firing";
	na->state = alert__state_name(x->state);
	na->labels = x->labels;
	na->annotations = x->annotations;
	na->starts_ms = x->fired_at ? x->fired_at : x->active_at;
	na->ends_ms = resolved ? (x->resolved_at ? x->resolved_at : now_ms) : 0;
	na->value = x->value;
	na->threshold = x->rule && !x->rule->metric->event ? x->rule->threshold : NAN;
	na->acknowledged = x->acked;
	snprintf(na->acked_by, sizeof(na->acked_by), "%s", x->acked_by);
	na->silenced = x->silenced_by[0] != 0;
}

/* Queues one notification of alerts[0..n) to receiver r. */
static void queue(struct alerts *a, const struct receiver *r, const char *key, const struct labelset *gl,
		  const char *kind, const char *action, __u64 seq, const struct notify_alert *alerts, int n,
		  __u64 now_ms)
{
	struct notify_group ng = {
		.group_key = key, .action = action, .sequence = seq, .now_ms = now_ms,
		.alerts = alerts, .nalerts = n, .external_url = a->cfg.external_url, .host = a->cfg.host,
	};
	__u64 resend = r->resend_ms > a->cfg.evaluation_interval_ms ? r->resend_ms : a->cfg.evaluation_interval_ms;
	char did[37], *body;

	/* an escalation may name a receiver that is told of executions, not alerts */
	if (!receiver__can(r, RECEIVER_ALERTS))
		return;
	ng.group_labels = *gl;
	ng.valid_until_ms = now_ms + AM_RESEND_FACTOR * resend;
	notify__delivery_id(did);
	body = notify__format(r, &ng, did);
	if (!body) {
		ww_err("alerts: cannot format a notification for %s", r->name);
		return;
	}
	batch__row(&a->b, r->name, key, kind, body, did);
}

static const struct receiver *receiver_named(struct alerts *a, const char *name)
{
	return receivers__find(a->cfg.receivers, a->cfg.nr_receivers, name);
}

/* Sends a group's state to its route's receivers when Alertmanager's timing says so. */
static void flush_group(struct alerts *a, struct agroup *g, __u64 now_ms)
{
	const struct route *r = &a->cfg.routes[g->route];
	struct notify_alert *na = calloc(g->n ? g->n : 1, sizeof(*na));
	int n = 0, active = 0, fresh = 0, resolved = 0, acked = 0, quiet = 0;
	bool repeat;

	if (!na)
		return;
	for (int i = 0; i < g->n; i++) {
		struct member *m = &g->m[i];
		struct alert *x = alerts__find(a, m->id);

		if (x && alert__notifiable(x)) {
			/* silenced or inhibited: no news, but a resolve still follows a firing */
			if (x->silenced_by[0] || x->inhibited_by[0]) {
				quiet++;
				continue;
			}
			fill_alert(x, false, now_ms, &na[n++]);
			active++;
			fresh += m->told != TOLD_FIRING;
			acked += x->acked;
		} else if (m->told == TOLD_FIRING) {
			if (x)
				fill_alert(x, true, now_ms, &na[n++]);
			resolved++;
		}
	}
	repeat = active && now_ms - g->last_notify >= r->repeat_interval_ms && acked < active;
	if (fresh || resolved || (repeat && g->flushed)) {
		const char *kind = fresh ? "firing" : active ? "repeat" : "resolved";

		g->seq++;
		for (int i = 0; i < r->nr_receivers; i++) {
			const struct receiver *rc = receiver_named(a, r->receivers[i]);

			/* those pushed at evaluations hear of the alerts, not of groups */
			if (!rc || receiver__can(rc, RECEIVER_PUSHED_AT_EVALUATION) ||
			    (!active && !receiver__sends_resolved(rc)))
				continue;
			queue(a, rc, g->key, &g->labels, kind, active ? "trigger" : "resolve", g->seq, na, n,
			      now_ms);
		}
		g->last_notify = now_ms;
		if (fresh)
			g->pd_acked = false;
	}
	/* members that were never told and are gone now need no resolve: the anti-flap rule */
	for (int i = 0; i < g->n; i++) {
		struct alert *x = alerts__find(a, g->m[i].id);

		if (x && alert__notifiable(x)) {
			if (!x->silenced_by[0] && !x->inhibited_by[0])
				g->m[i].told = TOLD_FIRING;
		} else {
			g->m[i--] = g->m[--g->n];
		}
	}
	g->flushed = true;
	g->last_flush = now_ms;
	g->next_flush = now_ms + r->group_interval_ms;
	g->dirty = true;
	(void)quiet;
	free(na);
}

void groups__flush(struct alerts *a, __u64 now_ms)
{
	for (struct agroup **pp = &a->groups; *pp;) {
		struct agroup *g = *pp;

		if (now_ms >= g->next_flush)
			flush_group(a, g, now_ms);
		if (!g->n) {
			*pp = g->next;
			batch__doc(&a->b, "group", g->key, NULL);
			group__free(g);
		} else {
			pp = &g->next;
		}
	}
}

/* Receivers that acknowledge (PagerDuty) hear "acknowledge" once every firing alert of a group is acknowledged. */
void groups__acked(struct alerts *a, struct alert *x, __u64 now_ms)
{
	for (struct agroup *g = a->groups; g; g = g->next) {
		const struct route *r = &a->cfg.routes[g->route];
		struct notify_alert na;
		bool all = true;

		if (!member_of(g, x->id) || g->pd_acked || !g->flushed)
			continue;
		for (int i = 0; i < g->n && all; i++) {
			struct alert *y = alerts__find(a, g->m[i].id);

			if (y && alert__notifiable(y) && g->m[i].told == TOLD_FIRING)
				all = y->acked;
		}
		if (!all)
			continue;
		fill_alert(x, false, now_ms, &na);
		for (int i = 0; i < r->nr_receivers; i++) {
			const struct receiver *rc = receiver_named(a, r->receivers[i]);

			if (receiver__can(rc, RECEIVER_ACKNOWLEDGES))
				queue(a, rc, g->key, &g->labels, "acknowledge", "acknowledge", g->seq, &na, 1, now_ms);
		}
		g->pd_acked = true;
		g->dirty = true;
	}
}

/* The rule's next escalation step, once due: more receivers, maybe a higher severity. */
static void escalation_key(const struct alert *x, int step, char *key, size_t size)
{
	snprintf(key, size, "{}/{escalation=\"%d\"}:{fingerprint=\"%s\"}", step + 1, x->id);
}

/*
 * What the receivers of the escalations taken need to hear next: those that
 * acknowledge (PagerDuty) an "acknowledge" when the alert is acknowledged,
 * every one of them the resolve.
 */
void groups__escalation_followup(struct alerts *a, struct alert *x, bool acked, __u64 now_ms)
{
	const struct alert_rule *r = x->rule;
	struct notify_alert na;
	struct labelset gl = {};
	char key[512];

	if (!r)
		return;
	fill_alert(x, !acked, now_ms, &na);
	labels__set(&gl, "alertname", labels__get(&x->labels, "alertname"));
	for (int step = 0; step < x->escalated && step < r->nr_escalate; step++) {
		const struct escalation *e = &r->escalate[step];

		escalation_key(x, step, key, sizeof(key));
		for (int i = 0; i < e->nr_receivers; i++) {
			const struct receiver *rc = receiver_named(a, e->receivers[i]);

			if (!rc || (acked && !receiver__can(rc, RECEIVER_ACKNOWLEDGES)) ||
			    (!acked && !receiver__sends_resolved(rc)))
				continue;
			queue(a, rc, key, &gl, acked ? "acknowledge" : "resolved", acked ? "acknowledge" : "resolve",
			      step + 1, &na, 1, now_ms);
		}
	}
}

void groups__escalate(struct alerts *a, struct alert *x, __u64 now_ms)
{
	const struct alert_rule *r = x->rule;
	const struct escalation *e;
	struct notify_alert na;
	struct labelset gl = {};
	char key[512];

	if (!r || x->escalated >= r->nr_escalate)
		return;
	e = &r->escalate[x->escalated];
	if (now_ms - x->fired_at < e->after_ms || (e->if_unacked && x->acked) || x->silenced_by[0] ||
	    x->inhibited_by[0])
		return;
	fill_alert(x, false, now_ms, &na);
	if (e->raise_severity)
		labels__set(&na.labels, "severity", rule__severity_name(e->severity));
	labels__set(&gl, "alertname", labels__get(&x->labels, "alertname"));
	escalation_key(x, x->escalated, key, sizeof(key));
	for (int i = 0; i < e->nr_receivers; i++) {
		const struct receiver *rc = receiver_named(a, e->receivers[i]);

		if (rc)
			queue(a, rc, key, &gl, "escalate", "trigger", x->escalated + 1, &na, 1, now_ms);
		else
			ww_warn("alerts: rule %s escalates to unknown receiver %s", r->id, e->receivers[i]);
	}
	x->escalated++;
	x->dirty = true;
}

/* Whether any route of x sends to receiver name. */
static bool routed_to(struct alerts *a, const struct alert *x, const char *name)
{
	int routes[ROUTES_MAX], n = routes__select(&a->cfg, &x->labels, routes, ROUTES_MAX);

	for (int i = 0; i < n; i++)
		for (int j = 0; j < a->cfg.routes[routes[i]].nr_receivers; j++)
			if (!strcmp(a->cfg.routes[routes[i]].receivers[j], name))
				return true;
	return false;
}

/*
 * Receivers pushed at evaluations (Alertmanager keeps alerts in memory only)
 * are told as Prometheus tells Alertmanager: firing alerts again every
 * resend interval with an endsAt ahead, resolved ones with their real endsAt
 * for the retention period. changed_only: send only alerts whose state they
 * have not heard yet (am_sent_*).
 */
/* Whether receiver rc, pushed at evaluations, should hear of x now. */
static bool push_due(struct alerts *a, const struct receiver *rc, const struct alert *x, __u64 now_ms,
		   bool changed_only)
{
	bool firing = alert__notifiable(x), told = x->am_sent_state != ALERT_INACTIVE;
	bool news = firing ? x->am_sent_state != ALERT_FIRING : x->am_sent_state == ALERT_FIRING;

	if (!firing && (x->state != ALERT_RESOLVED || !told))
		return false;
	if (!firing && now_ms - x->resolved_at > a->cfg.resolved_retention_ms)
		return false;
	if (!news && (changed_only || now_ms - x->am_sent_ms < rc->resend_ms))
		return false;
	return routed_to(a, x, rc->name);
}

void groups__push_at_evaluation(struct alerts *a, __u64 now_ms, bool changed_only)
{
	for (int i = 0; i < a->cfg.nr_receivers; i++) {
		const struct receiver *rc = &a->cfg.receivers[i];
		struct notify_alert *na;
		struct labelset none = {};
		int n = 0, due = 0;

		if (!receiver__can(rc, RECEIVER_PUSHED_AT_EVALUATION))
			continue;
		for (int b = 0; b < ALERT_BUCKETS; b++)
			for (struct alert *x = a->tab[b]; x; x = x->next)
				due += push_due(a, rc, x, now_ms, changed_only);
		if (!due)
			continue;
		na = calloc(due, sizeof(*na));
		if (!na)
			return;
		for (int b = 0; b < ALERT_BUCKETS; b++)
			for (struct alert *x = a->tab[b]; x && n < due; x = x->next) {
				if (!push_due(a, rc, x, now_ms, changed_only))
					continue;
				fill_alert(x, !alert__notifiable(x), now_ms, &na[n++]);
				x->am_sent_ms = now_ms;
				x->am_sent_state = alert__notifiable(x) ? ALERT_FIRING : ALERT_RESOLVED;
				x->dirty = true;
			}
		/* one queue per receiver, its group key the type's name */
		queue(a, rc, receiver__type_name(rc), &none, "push", "trigger", 0, na, n, now_ms);
		free(na);
	}
}

int alerts__queue_test(struct alerts *a, const struct receiver *r, __u64 now_ms)
{
	struct notify_alert na = {};
	struct labelset gl = {};

	snprintf(na.fingerprint, sizeof(na.fingerprint), "0000000000000000");
	labels__set(&na.labels, "alertname", "WorkerwatchTest");
	labels__set(&na.labels, "host", a->cfg.host);
	labels__set(&na.labels, "severity", "info");
	labels__fingerprint(&na.labels, na.fingerprint);
	labels__set(&na.annotations, "summary", "workerwatch test notification");
	na.status = "firing";
	na.state = "firing";
	na.starts_ms = now_ms;
	na.value = na.threshold = NAN;
	labels__set(&gl, "alertname", "WorkerwatchTest");
	queue(a, r, "{}/{test}:{alertname=\"WorkerwatchTest\"}", &gl, "test", "trigger", 0, &na, 1, now_ms);
	return 0;
}

char *group__to_json_text(const struct agroup *g)
{
	cJSON *o = cJSON_CreateObject(), *ms = cJSON_AddArrayToObject(o, "members");
	char *text;

	cJSON_AddStringToObject(o, "key", g->key);
	cJSON_AddNumberToObject(o, "route", g->route);
	cJSON_AddItemToObject(o, "labels", labels__to_json(&g->labels));
	cJSON_AddNumberToObject(o, "created", (double)g->created);
	cJSON_AddNumberToObject(o, "next_flush", (double)g->next_flush);
	cJSON_AddNumberToObject(o, "last_flush", (double)g->last_flush);
	cJSON_AddNumberToObject(o, "last_notify", (double)g->last_notify);
	cJSON_AddNumberToObject(o, "seq", (double)g->seq);
	cJSON_AddBoolToObject(o, "flushed", g->flushed);
	cJSON_AddBoolToObject(o, "pd_acked", g->pd_acked);
	for (int i = 0; i < g->n; i++) {
		cJSON *m = cJSON_CreateObject();

		cJSON_AddStringToObject(m, "id", g->m[i].id);
		cJSON_AddBoolToObject(m, "told", g->m[i].told == TOLD_FIRING);
		cJSON_AddItemToArray(ms, m);
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

struct agroup *group__from_json(const cJSON *o)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key"), *m;
	struct agroup *g;
	char err[128];

	if (!cJSON_IsString(key))
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->key, sizeof(g->key), "%s", key->valuestring);
	g->route = (int)json__u64(o, "route");
	labels__from_json(cJSON_GetObjectItemCaseSensitive(o, "labels"), &g->labels, err, sizeof(err));
	g->created = json__u64(o, "created");
	g->next_flush = json__u64(o, "next_flush");
	g->last_flush = json__u64(o, "last_flush");
	g->last_notify = json__u64(o, "last_notify");
	g->seq = json__u64(o, "seq");
	g->flushed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "flushed"));
	g->pd_acked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "pd_acked"));
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, "members")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
		struct member *mm;

		if (!cJSON_IsString(id) || !(mm = member_add(g, id->valuestring)))
			continue;
		mm->told = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "told")) ? TOLD_FIRING : TOLD_NONE;
	}
	return g;
}

void groups__save(struct alerts *a)
{
	for (struct agroup *g = a->groups; g; g = g->next)
		if (g->dirty) {
			batch__doc(&a->b, "group", g->key, group__to_json_text(g));
			g->dirty = false;
		}
}
