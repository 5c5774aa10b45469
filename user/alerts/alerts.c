// SPDX-License-Identifier: MIT
/* The alert engine: evaluates rules over series, moves alerts through their states, persists them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "alerts/alerts_int.h"
#include "lib/json.h"
#include "lib/log.h"
#include "observe/report.h"

static const char *const state_names[] = {
	[ALERT_INACTIVE] = "inactive", [ALERT_PENDING] = "pending", [ALERT_FIRING] = "firing",
	[ALERT_RESOLVING] = "resolving", [ALERT_RESOLVED] = "resolved",
};

const char *alert__state_name(enum alert_state s)
{
	return s <= ALERT_RESOLVED ? state_names[s] : "unknown";
}

const char *alerts__host(const struct alerts *a)
{
	return a ? a->cfg.host : "";
}

static enum alert_state state_of(const char *name)
{
	for (int s = ALERT_PENDING; s <= ALERT_RESOLVED; s++)
		if (name && !strcmp(name, state_names[s]))
			return s;
	return ALERT_INACTIVE;
}

bool alert__active(const struct alert *x)
{
	return x->state == ALERT_PENDING || x->state == ALERT_FIRING || x->state == ALERT_RESOLVING;
}

bool alert__notifiable(const struct alert *x)
{
	return x->state == ALERT_FIRING || x->state == ALERT_RESOLVING;
}

static __u64 fnv(__u64 h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211ULL;
	return h;
}

/* --- the batch of documents and outbox rows an operation writes --- */

static void *grow_to(void *v, int *cap, int n, size_t size)
{
	void *nv;

	if (n < *cap)
		return v;
	nv = realloc(v, (size_t)(*cap ? *cap * 2 : 16) * size);
	if (!nv)
		return NULL;
	*cap = *cap ? *cap * 2 : 16;
	return nv;
}

static const char *own(struct batch *b, char *s)
{
	char **o = grow_to(b->owned, &b->capo, b->no, sizeof(*o));

	if (!o) {
		free(s);
		return NULL;
	}
	b->owned = o;
	b->owned[b->no++] = s;
	return s;
}

void batch__doc(struct batch *b, const char *kind, const char *key, char *json)
{
	struct store_doc *d = grow_to(b->docs, &b->capd, b->nd, sizeof(*d));
	const char *k = own(b, strdup(key)), *j = json ? own(b, json) : NULL;

	if (!d || !k || (json && !j))
		return;
	b->docs = d;
	b->docs[b->nd++] = (struct store_doc){ .kind = kind, .key = k, .json = j };
}

void batch__row(struct batch *b, const char *receiver, const char *group_key, const char *kind,
		char *payload, const char *delivery_id)
{
	struct outbox_new *r = grow_to(b->rows, &b->capr, b->nr, sizeof(*r));
	const char *p = own(b, payload), *rc = own(b, strdup(receiver)), *g = own(b, strdup(group_key));
	const char *did = own(b, strdup(delivery_id));

	if (!r || !p || !rc || !g || !did) {
		ww_err("alerts: out of memory queueing a notification to %s", receiver);
		return;
	}
	b->rows = r;
	b->rows[b->nr++] = (struct outbox_new){ .receiver = rc, .group_key = g, .kind = kind,
						.payload = p, .delivery_id = did };
}

static void batch_reset(struct batch *b)
{
	for (int i = 0; i < b->no; i++)
		free(b->owned[i]);
	b->no = b->nd = b->nr = 0;
}

/* --- alert instances --- */

static unsigned bucket_of(const char *id)
{
	return (unsigned)(fnv(14695981039346656037ULL, id, strlen(id)) % ALERT_BUCKETS);
}

struct alert *alerts__find(struct alerts *a, const char *id)
{
	if (!id)
		return NULL;
	for (struct alert *x = a->tab[bucket_of(id)]; x; x = x->next)
		if (!strcmp(x->id, id))
			return x;
	return NULL;
}

static const struct alert_rule *rule_by_id(struct alerts *a, const char *id)
{
	for (int i = 0; i < a->cfg.nr_rules; i++)
		if (!strcmp(a->cfg.rules[i].id, id))
			return &a->cfg.rules[i];
	return NULL;
}

static int rule_index(struct alerts *a, const struct alert_rule *r)
{
	return r ? (int)(r - a->cfg.rules) : -1;
}

static struct alert *alert_new(struct alerts *a, const char *id)
{
	struct alert *x;
	unsigned b = bucket_of(id);

	if (a->nr_alerts >= ALERTS_MAX)
		return NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	snprintf(x->id, sizeof(x->id), "%s", id);
	x->next = a->tab[b];
	a->tab[b] = x;
	a->nr_alerts++;
	return x;
}

/* Forgets x: its document is deleted with the next commit. */
static void alert_delete(struct alerts *a, struct alert *x)
{
	struct alert **pp = &a->tab[bucket_of(x->id)];

	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	a->nr_alerts--;
	batch__doc(&a->b, "instance", x->id, NULL);
	free(x);
}

static int restore_alert(const char *key, const char *json, void *ctx)
{
	struct alerts *a = ctx;
	cJSON *o = cJSON_Parse(json);
	const cJSON *v;
	struct alert *x;
	char buf[64], err[128];

	if (!o || alerts__find(a, key) || !(x = alert_new(a, key))) {
		ww_warn("alerts: skipping stored alert %s", key);
		cJSON_Delete(o);
		return 0;
	}
	json__str(o, "rule_id", x->rule_id, sizeof(x->rule_id));
	x->rule = rule_by_id(a, x->rule_id);
	labels__from_json(cJSON_GetObjectItemCaseSensitive(o, "labels"), &x->labels, err, sizeof(err));
	labels__from_json(cJSON_GetObjectItemCaseSensitive(o, "annotations"), &x->annotations, err, sizeof(err));
	json__str(o, "state", buf, sizeof(buf));
	x->state = state_of(buf);
	v = cJSON_GetObjectItemCaseSensitive(o, "value");
	x->value = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	x->active_at = json__u64(o, "active_at_ms");
	x->fired_at = json__u64(o, "fired_at_ms");
	x->clear_since = json__u64(o, "clear_since_ms");
	x->resolved_at = json__u64(o, "resolved_at_ms");
	x->seen_at = json__u64(o, "seen_at_ms");
	x->acked_at = json__u64(o, "acked_at_ms");
	x->ack_expires = json__u64(o, "ack_expires_ms");
	x->am_sent_ms = json__u64(o, "am_sent_ms");
	json__str(o, "am_sent_state", buf, sizeof(buf));
	x->am_sent_state = state_of(buf);
	x->hits = json__u64(o, "hits");
	x->missing = (int)json__u64(o, "missing");
	x->escalated = (int)json__u64(o, "escalations");
	x->acked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "acknowledged"));
	x->hold_until_clear = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "hold_until_clear"));
	v = cJSON_GetObjectItemCaseSensitive(o, "ack");
	json__str(v, "by", x->acked_by, sizeof(x->acked_by));
	json__str(v, "comment", x->ack_comment, sizeof(x->ack_comment));
	json__str(o, "resolve_reason", x->resolve_reason, sizeof(x->resolve_reason));
	json__str(o, "resolved_by", x->resolved_by, sizeof(x->resolved_by));
	x->updated_at = x->seen_at;
	if (x->state == ALERT_INACTIVE)
		alert_delete(a, x);
	cJSON_Delete(o);
	return 0;
}

static int restore_group(const char *key, const char *json, void *ctx)
{
	struct alerts *a = ctx;
	cJSON *o = cJSON_Parse(json);
	struct agroup *g = o ? group__from_json(o) : NULL;

	if (!g || g->route >= a->cfg.nr_routes) {
		ww_warn("alerts: dropping stored group %s", key);
		group__free(g);
		batch__doc(&a->b, "group", key, NULL);
	} else {
		g->next = a->groups;
		a->groups = g;
	}
	cJSON_Delete(o);
	return 0;
}

void alert__update_flags(struct alerts *a, struct alert *x, __u64 now_ms)
{
	char was_s[sizeof(x->silenced_by)], was_i[sizeof(x->inhibited_by)];

	memcpy(was_s, x->silenced_by, sizeof(was_s));
	memcpy(was_i, x->inhibited_by, sizeof(was_i));
	x->silenced_by[0] = x->inhibited_by[0] = 0;
	for (int i = 0; i < a->nr_silences; i++)
		if (silence__active(&a->silences[i], now_ms) &&
		    matchers__match(a->silences[i].match, a->silences[i].nr_match, &x->labels)) {
			snprintf(x->silenced_by, sizeof(x->silenced_by), "%s", a->silences[i].id);
			break;
		}
	for (int i = 0; i < a->cfg.nr_inhibits && !x->inhibited_by[0]; i++) {
		const struct inhibit_rule *ir = &a->cfg.inhibits[i];
		bool both = matchers__match(ir->source, ir->nr_source, &x->labels);

		if (!matchers__match(ir->target, ir->nr_target, &x->labels))
			continue;
		for (int b = 0; b < ALERT_BUCKETS && !x->inhibited_by[0]; b++)
			for (struct alert *s = a->tab[b]; s; s = s->next) {
				bool eq = true;

				if (s == x || s->state != ALERT_FIRING ||
				    !matchers__match(ir->source, ir->nr_source, &s->labels))
					continue;
				/* Alertmanager: what matches both sides cannot be inhibited by its like */
				if (both && matchers__match(ir->target, ir->nr_target, &s->labels))
					continue;
				for (int e = 0; e < ir->nr_equal && eq; e++)
					eq = !strcmp(labels__get(&s->labels, ir->equal[e]),
						     labels__get(&x->labels, ir->equal[e]));
				if (eq) {
					snprintf(x->inhibited_by, sizeof(x->inhibited_by), "%s", s->id);
					break;
				}
			}
	}
	if (x->acked && x->ack_expires && now_ms >= x->ack_expires)
		x->acked = false;
	if (strcmp(was_s, x->silenced_by) || strcmp(was_i, x->inhibited_by))
		x->dirty = true;
}

/* --- state changes --- */

static void announce(struct alerts *a, struct alert *x, enum alert_state prev, __u64 now_ms)
{
	cJSON *o;

	x->dirty = true;
	x->updated_at = now_ms;
	if (!a->src.changed)
		return;
	o = alert__view(x, now_ms);
	cJSON_AddStringToObject(o, "previous_state", alert__state_name(prev));
	a->src.changed(a->src.ctx, o);
	cJSON_Delete(o);
}

static void set_state(struct alerts *a, struct alert *x, enum alert_state s, __u64 now_ms)
{
	enum alert_state prev = x->state;

	if (prev == s)
		return;
	x->state = s;
	if (s == ALERT_FIRING && prev != ALERT_RESOLVING) {
		x->fired_at = now_ms;
		groups__join(a, x, now_ms);
	}
	if (s == ALERT_RESOLVED) {
		x->resolved_at = now_ms;
		groups__escalation_followup(a, x, false, now_ms);
		x->acked = false;	/* an ack lasts until the alert resolves (Nagios) */
	}
	announce(a, x, prev, now_ms);
}

static void resolve(struct alerts *a, struct alert *x, const char *reason, __u64 now_ms)
{
	snprintf(x->resolve_reason, sizeof(x->resolve_reason), "%s", reason);
	if (x->state == ALERT_PENDING && !x->fired_at) {
		/* never fired: nothing was told, nothing to keep */
		enum alert_state prev = x->state;

		x->state = ALERT_INACTIVE;
		announce(a, x, prev, now_ms);
		alert_delete(a, x);
		return;
	}
	set_state(a, x, ALERT_RESOLVED, now_ms);
}

static void new_episode(struct alert *x, __u64 now_ms)
{
	x->active_at = now_ms;
	x->fired_at = x->resolved_at = x->clear_since = 0;
	x->acked = false;
	x->acked_by[0] = x->ack_comment[0] = x->resolve_reason[0] = x->resolved_by[0] = 0;
	x->escalated = 0;
	x->missing = 0;
}

static void expand_annotations(struct alert *x, const struct alert_rule *r, double v)
{
	char buf[RULE_ANNOTATION_LEN], th[32], val[32], win[32], forb[32];
	const char *vars[] = { "for", forb, "window", win, "rule_id", r->id, "metric", r->metric->name,
			       "value_text", val, "threshold_text", th };

	duration__format(r->for_ms, forb, sizeof(forb));
	duration__format(r->window_ms, win, sizeof(win));
	snprintf(val, sizeof(val), "%g", v);
	snprintf(th, sizeof(th), "%g", r->threshold);
	x->annotations.n = 0;
	for (int i = 0; i < r->nr_ann; i++) {
		template__expand(r->ann_templates[i], &x->labels, v, r->threshold, vars,
				 (int)(sizeof(vars) / sizeof(vars[0]) / 2), buf, sizeof(buf));
		/* annotations are label-sized in notifications: cut rather than drop */
		buf[LABEL_VALUE_LEN - 1] = 0;
		labels__set(&x->annotations, r->ann_names[i], buf);
	}
	if (!labels__get(&x->annotations, "value")[0])
		labels__set(&x->annotations, "value", val);
}

/* An execution's own labels: each valid one that does not name an identity label already set. */
static void execution_labels(struct labelset *ls, const char *json)
{
	cJSON *obj, *l;

	if (!json[0] || !strcmp(json, "{}"))
		return;
	obj = cJSON_Parse(json);
	cJSON_ArrayForEach(l, obj)
		if (cJSON_IsString(l) && labels__valid_name(l->string) && !labels__get(ls, l->string)[0] &&
		    strcmp(l->string, "alertname") && strcmp(l->string, "rule_id") && strcmp(l->string, "severity"))
			labels__set(ls, l->string, l->valuestring);
	cJSON_Delete(obj);
}

/* The identity labels of a series for a rule. */
static void series_labels(const struct alerts *a, const struct alert_point *p, struct labelset *ls)
{
	char id[24];

	ls->n = 0;
	labels__set(ls, "host", a->cfg.host);
	if (p->level == LEVEL_EXECUTION || p->level == LEVEL_SESSION)
		labels__set(ls, "session", p->session);
	if (p->level == LEVEL_EXECUTION || p->level == LEVEL_AGENT)
		labels__set(ls, "agent", p->agent);
	if (p->level == LEVEL_EXECUTION) {
		labels__set(ls, "task", p->task);
		snprintf(id, sizeof(id), "%llu", (unsigned long long)p->execution_id);
		labels__set(ls, "execution_id", id);
		execution_labels(ls, p->labels);
	}
}

static void alert_labels(const struct alert_rule *r, const struct labelset *series, const char *param,
			 struct labelset *ls)
{
	*ls = *series;
	if (r->metric->param && param[0] && strcmp(param, "*"))
		labels__set(ls, r->metric->param, param);
	for (int i = 0; i < r->labels.n; i++)
		labels__set(ls, r->labels.l[i].name, r->labels.l[i].value);
	labels__set(ls, "alertname", r->alertname);
	labels__set(ls, "rule_id", r->id);
	labels__set(ls, "severity", rule__severity_name(r->severity));
}

static struct alert *instance_for(struct alerts *a, const struct alert_rule *r, const struct labelset *ls,
				  bool create)
{
	char id[FINGERPRINT_LEN];
	struct alert *x;
	int ri = rule_index(a, r);

	labels__fingerprint(ls, id);
	x = alerts__find(a, id);
	if (x || !create)
		return x;
	if (a->health[ri].instances >= RULE_INSTANCES_MAX) {
		snprintf(a->health[ri].error, sizeof(a->health[ri].error),
			 "more than %d alerts: the rest are not tracked", RULE_INSTANCES_MAX);
		return NULL;
	}
	x = alert_new(a, id);
	if (!x) {
		snprintf(a->health[ri].error, sizeof(a->health[ri].error), "the daemon holds %d alerts already",
			 ALERTS_MAX);
		return NULL;
	}
	snprintf(x->rule_id, sizeof(x->rule_id), "%s", r->id);
	x->rule = r;
	x->labels = *ls;
	x->value = NAN;
	return x;
}

static int popcount_last(__u64 hits, int of)
{
	__u64 mask = of >= 64 ? ~0ULL : (1ULL << of) - 1;

	return __builtin_popcountll(hits & mask);
}

/* One evaluation of an alert whose series has value v. */
static void step(struct alerts *a, struct alert *x, double v, __u64 now_ms)
{
	const struct alert_rule *r = x->rule;
	bool breach = rule__breaches(r, v, alert__notifiable(x));
	bool nofm = r->occur_of > 0;
	int hits;

	x->value = v;
	x->seen_at = now_ms;
	x->missing = 0;
	x->hits = (x->hits << 1) | breach;
	hits = popcount_last(x->hits, r->occur_of);
	expand_annotations(x, r, v);
	switch (x->state) {
	case ALERT_INACTIVE:
	case ALERT_RESOLVED:
		if (x->hold_until_clear) {
			x->hold_until_clear = breach;
			x->dirty |= !breach;
			break;
		}
		if (!breach)
			break;
		new_episode(x, now_ms);
		set_state(a, x, ALERT_PENDING, now_ms);
		/* a rule without 'for' fires on its first breach */
		/* fall through */
	case ALERT_PENDING:
		if (nofm ? hits == 0 : !breach) {
			resolve(a, x, "cleared", now_ms);
			break;
		}
		if (nofm ? hits >= r->occur_count : now_ms - x->active_at >= r->for_ms)
			set_state(a, x, ALERT_FIRING, now_ms);
		break;
	case ALERT_FIRING:
		if (breach)
			break;
		if (r->keep_firing_for_ms) {
			x->clear_since = now_ms;
			set_state(a, x, ALERT_RESOLVING, now_ms);
		} else {
			resolve(a, x, "cleared", now_ms);
		}
		break;
	case ALERT_RESOLVING:
		if (breach)
			set_state(a, x, ALERT_FIRING, now_ms);
		else if (now_ms - x->clear_since >= r->keep_firing_for_ms)
			resolve(a, x, "cleared", now_ms);
		break;
	}
}

/* The series of x was not there this evaluation (the worker ended, or no data). */
static void missing(struct alerts *a, struct alert *x, __u64 now_ms)
{
	const struct alert_rule *r = x->rule;

	if (!alert__active(x))
		return;
	if (!r) {
		resolve(a, x, "rule_removed", now_ms);
		return;
	}
	if (++x->missing < MISSING_EVALS || r->on_missing == MISSING_KEEP)
		return;
	if (r->on_missing == MISSING_ALERT) {
		if (x->state == ALERT_PENDING && now_ms - x->active_at >= r->for_ms)
			set_state(a, x, ALERT_FIRING, now_ms);
		return;
	}
	resolve(a, x, r->level == LEVEL_EXECUTION ? "execution_ended" : "series_missing", now_ms);
}

/* --- series and their windows --- */

static __u64 point_hash(const struct alert_point *p)
{
	__u64 h = 14695981039346656037ULL;

	h = fnv(h, p->metric, strlen(p->metric) + 1);
	h = fnv(h, p->param, strlen(p->param) + 1);
	h = fnv(h, &p->level, sizeof(p->level));
	h = fnv(h, p->session, strlen(p->session) + 1);
	h = fnv(h, p->agent, strlen(p->agent) + 1);
	h = fnv(h, p->task, strlen(p->task) + 1);
	return fnv(h, &p->execution_id, sizeof(p->execution_id));
}

static bool same_series(const struct alert_point *x, const struct alert_point *y)
{
	return !strcmp(x->metric, y->metric) && !strcmp(x->param, y->param) && x->level == y->level &&
	       x->execution_id == y->execution_id && !strcmp(x->session, y->session) &&
	       !strcmp(x->agent, y->agent) && !strcmp(x->task, y->task);
}

/* Points kept per series of a metric: enough for the longest window of its rules. */
static int capacity_for(struct alerts *a, const char *metric)
{
	__u64 longest = 0, step = a->cfg.evaluation_interval_ms ? a->cfg.evaluation_interval_ms : 1000;

	for (int i = 0; i < a->cfg.nr_rules; i++)
		if (!strcmp(a->cfg.rules[i].metric->name, metric) && a->cfg.rules[i].window_ms > longest)
			longest = a->cfg.rules[i].window_ms;
	longest = longest / step + 3;
	return longest > SERIES_MAX_POINTS ? SERIES_MAX_POINTS : (int)longest;
}

static void series_add(struct alerts *a, const struct alert_point *p, __u64 now_ms)
{
	__u64 h = point_hash(p);
	struct series *s, **head = &a->series[h % SERIES_BUCKETS];

	for (s = *head; s; s = s->next)
		if (s->hash == h && same_series(&s->id, p))
			break;
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return;
		s->hash = h;
		s->id = *p;
		s->cap = capacity_for(a, p->metric);
		s->pts = calloc(s->cap, sizeof(*s->pts));
		if (!s->pts) {
			free(s);
			return;
		}
		s->next = *head;
		*head = s;
		a->nr_series++;
	}
	s->pts[(s->head + s->n) % s->cap] = (struct series_pt){ now_ms, p->value };
	if (s->n < s->cap)
		s->n++;
	else
		s->head = (s->head + 1) % s->cap;
	s->last_seen_ms = now_ms;
}

/* Series not seen for a while belong to ended workers. */
static void series_prune(struct alerts *a, __u64 now_ms)
{
	__u64 keep = a->cfg.evaluation_interval_ms * (MISSING_EVALS + 1);

	for (int b = 0; b < SERIES_BUCKETS; b++)
		for (struct series **pp = &a->series[b]; *pp;) {
			struct series *s = *pp;

			if (now_ms - s->last_seen_ms > keep) {
				*pp = s->next;
				free(s->pts);
				free(s);
				a->nr_series--;
			} else {
				pp = &s->next;
			}
		}
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* The least-squares slope per second of pts[0..n). */
static double slope(const struct series_pt *pts, int n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, t0 = (double)pts[0].ts;

	for (int i = 0; i < n; i++) {
		double t = ((double)pts[i].ts - t0) / 1000.0;

		sx += t;
		sy += pts[i].v;
		sxx += t * t;
		sxy += t * pts[i].v;
	}
	if (n < 2 || n * sxx - sx * sx <= 0)
		return NAN;
	return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

/* The rule's value of a series over its window: NaN when there is not enough data. */
static double window_value(const struct alert_rule *r, const struct series *s, __u64 now_ms)
{
	struct series_pt pts[SERIES_MAX_POINTS];
	double vals[SERIES_MAX_POINTS], sum = 0, v;
	int n = 0, idx;

	for (int i = 0; i < s->n; i++) {
		const struct series_pt *p = &s->pts[(s->head + i) % s->cap];

		if (!r->window_ms || p->ts + r->window_ms >= now_ms)
			pts[n++] = *p;
	}
	if (!n)
		return NAN;
	if (!r->window_ms && r->transform == TRANSFORM_NONE)
		return pts[n - 1].v;
	switch (r->transform) {
	case TRANSFORM_RATE:
		if (n < 2 || pts[n - 1].ts == pts[0].ts)
			return NAN;
		return (pts[n - 1].v - pts[0].v) * 1000.0 / (double)(pts[n - 1].ts - pts[0].ts);
	case TRANSFORM_DELTA:
		return n < 2 ? NAN : pts[n - 1].v - pts[0].v;
	case TRANSFORM_SLOPE:
		return slope(pts, n);
	case TRANSFORM_TIME_TO_ZERO:
		v = slope(pts, n);
		if (isnan(v))
			return NAN;
		return v >= 0 ? INFINITY : pts[n - 1].v <= 0 ? 0 : pts[n - 1].v / -v;
	case TRANSFORM_NONE:
		break;
	}
	for (int i = 0; i < n; i++) {
		vals[i] = pts[i].v;
		sum += vals[i];
	}
	switch (r->reduce) {
	case REDUCE_LAST:
		return vals[n - 1];
	case REDUCE_AVG:
		return sum / n;
	case REDUCE_SUM:
		return sum;
	case REDUCE_COUNT:
		return n;
	default:
		break;
	}
	qsort(vals, n, sizeof(vals[0]), cmp_double);
	switch (r->reduce) {
	case REDUCE_MIN:
		return vals[0];
	case REDUCE_MAX:
		return vals[n - 1];
	case REDUCE_P50:
		idx = (n * 50 + 99) / 100;
		break;
	case REDUCE_P90:
		idx = (n * 90 + 99) / 100;
		break;
	default:
		idx = (n * 99 + 99) / 100;
		break;
	}
	return vals[idx > 0 ? idx - 1 : 0];
}

static bool param_matches(const struct alert_rule *r, const char *param)
{
	if (!r->metric->param)
		return true;
	if (!r->param[0] || !strcmp(r->param, "*"))
		return !strcmp(param, "*") || !param[0];
	return !strcmp(r->param, param);
}

/* Evaluates rule r on one series value; marks its alert seen at now. */
static void eval_point(struct alerts *a, const struct alert_rule *r, const struct alert_point *p, double v,
		       __u64 now_ms)
{
	struct labelset series, ls;
	struct alert *x;

	if (isnan(v))
		return;
	series_labels(a, p, &series);
	alert_labels(r, &series, p->param, &ls);
	if (!matchers__match(r->match, r->nr_match, &ls))
		return;
	x = instance_for(a, r, &ls, rule__breaches(r, v, false));
	if (!x)
		return;
	a->health[rule_index(a, r)].instances++;
	step(a, x, v, now_ms);
}

static void eval_rule(struct alerts *a, const struct alert_rule *r, __u64 now_ms)
{
	struct alert_point *pts = NULL;
	int n;

	if (r->level == LEVEL_AGENT || r->level == LEVEL_SESSION) {
		n = a->src.aggregate ? a->src.aggregate(a->src.ctx, r, now_ms, &pts) : 0;
		for (int i = 0; i < n; i++)
			eval_point(a, r, &pts[i], pts[i].value, now_ms);
		free(pts);
		return;
	}
	for (int b = 0; b < SERIES_BUCKETS; b++)
		for (struct series *s = a->series[b]; s; s = s->next)
			if (s->last_seen_ms == now_ms && !strcmp(s->id.metric, r->metric->name) &&
			    s->id.level == r->level && param_matches(r, s->id.param))
				eval_point(a, r, &s->id, window_value(r, s, now_ms), now_ms);
}

void alerts__evaluate(struct alerts *a, __u64 now_ms)
{
	struct alert_point *pts = NULL;
	int n = 0;

	a->last_eval = now_ms;
	a->evaluations++;
	if (a->src.gauges)
		n = a->src.gauges(a->src.ctx, now_ms, a->cfg.rules, a->cfg.nr_rules, &pts);
	for (int i = 0; i < n; i++)
		series_add(a, &pts[i], now_ms);
	free(pts);
	for (int i = 0; i < a->cfg.nr_rules; i++) {
		const struct alert_rule *r = &a->cfg.rules[i];

		a->health[i].instances = 0;
		a->health[i].error[0] = 0;
		if (r->enabled && !r->metric->event)
			eval_rule(a, r, now_ms);
	}
	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b], *next; x; x = next) {
			const struct alert_rule *r = x->rule;

			next = x->next;
			if (r && !r->enabled)
				r = x->rule = NULL;
			if (r && r->metric->event) {
				if (x->state == ALERT_FIRING && r->auto_resolve_ms &&
				    now_ms - x->fired_at >= r->auto_resolve_ms)
					resolve(a, x, "auto_resolve", now_ms);
			} else if (x->seen_at != now_ms) {
				missing(a, x, now_ms);
			}
		}
	series_prune(a, now_ms);
}

static void housekeeping(struct alerts *a, __u64 now_ms)
{
	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b], *next; x; x = next) {
			next = x->next;
			alert__update_flags(a, x, now_ms);
			if (x->state == ALERT_FIRING)
				groups__escalate(a, x, now_ms);
			if (x->state == ALERT_RESOLVED && now_ms - x->resolved_at >= a->cfg.resolved_retention_ms &&
			    !groups__holds(a, x->id))
				alert_delete(a, x);
		}
	for (int i = 0; i < a->nr_silences; i++)
		if (now_ms >= a->silences[i].ends + a->cfg.resolved_retention_ms) {
			batch__doc(&a->b, "silence", a->silences[i].id, NULL);
			for (int m = 0; m < a->silences[i].nr_match; m++)
				matcher__free(&a->silences[i].match[m]);
			a->silences[i--] = a->silences[--a->nr_silences];
		}
}

void alerts__commit(struct alerts *a, __u64 now_ms)
{
	int nrows;

	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b]; x; x = x->next)
			if (x->dirty) {
				batch__doc(&a->b, "instance", x->id, alert__doc(x, now_ms));
				x->dirty = false;
			}
	groups__save(a);
	if (!a->b.nd && !a->b.nr)
		return;
	nrows = a->b.nr;
	if (store__alerts_commit(a->store, a->b.docs, a->b.nd, a->b.rows, a->b.nr, now_ms)) {
		a->db_errors++;
		ww_err("alerts: cannot save alert state: %s", store__errmsg(a->store));
		nrows = 0;
	}
	batch_reset(&a->b);
	a->queued += nrows;
	if (nrows)
		notifier__kick(a->notifier);
}

bool alerts__tick(struct alerts *a, __u64 now_ms)
{
	bool due = now_ms - a->last_eval >= a->cfg.evaluation_interval_ms;

	/*
	 * States change only here and in the API and event calls (which push
	 * themselves), so between evaluations only group timers can be due.
	 */
	if (due) {
		alerts__evaluate(a, now_ms);
		housekeeping(a, now_ms);
		groups__push_at_evaluation(a, now_ms, false);
	}
	groups__flush(a, now_ms);
	alerts__commit(a, now_ms);
	return due;
}

void alerts__event(struct alerts *a, __u64 now_ms, const struct alert_point *p)
{
	struct labelset series, ls;
	bool any = false;

	series_labels(a, p, &series);
	for (int i = 0; i < a->cfg.nr_rules; i++) {
		const struct alert_rule *r = &a->cfg.rules[i];
		struct alert *x;

		if (!r->enabled || !r->metric->event || strcmp(r->metric->name, p->metric))
			continue;
		alert_labels(r, &series, p->param, &ls);
		if (r->metric->param && p->param[0])
			labels__set(&ls, r->metric->param, p->param);
		if (!matchers__match(r->match, r->nr_match, &ls))
			continue;
		x = instance_for(a, r, &ls, true);
		if (!x)
			continue;
		x->value = p->value;
		x->seen_at = now_ms;
		expand_annotations(x, r, p->value);
		if (x->state != ALERT_FIRING) {
			new_episode(x, now_ms);
			x->state = ALERT_PENDING;
			set_state(a, x, ALERT_FIRING, now_ms);
			any = true;
		}
		x->dirty = true;
	}
	if (!any)
		return;
	groups__flush(a, now_ms);
	groups__push_at_evaluation(a, now_ms, true);
	alerts__commit(a, now_ms);
}

/* --- operations --- */

int alerts__ack(struct alerts *a, const char *id, const char *by, const char *comment, __u64 expires_ms,
		__u64 now_ms, char *err, size_t errlen)
{
	struct alert *x = alerts__find(a, id);

	if (!x)
		return -ENOENT;
	if (!alert__active(x)) {
		snprintf(err, errlen, "alert %s is %s: only pending, firing or resolving alerts can be acknowledged",
			 id, alert__state_name(x->state));
		return -EINVAL;
	}
	x->acked = true;
	snprintf(x->acked_by, sizeof(x->acked_by), "%s", by && by[0] ? by : "api");
	snprintf(x->ack_comment, sizeof(x->ack_comment), "%s", comment ? comment : "");
	x->acked_at = now_ms;
	x->ack_expires = expires_ms;
	announce(a, x, x->state, now_ms);
	groups__acked(a, x, now_ms);
	groups__escalation_followup(a, x, true, now_ms);
	alerts__commit(a, now_ms);
	return 0;
}

int alerts__unack(struct alerts *a, const char *id, __u64 now_ms, char *err, size_t errlen)
{
	struct alert *x = alerts__find(a, id);

	if (!x)
		return -ENOENT;
	if (!x->acked) {
		snprintf(err, errlen, "alert %s is not acknowledged", id);
		return -EINVAL;
	}
	x->acked = false;
	x->ack_expires = 0;
	announce(a, x, x->state, now_ms);
	alerts__commit(a, now_ms);
	return 0;
}

int alerts__resolve(struct alerts *a, const char *id, const char *by, __u64 now_ms, char *err, size_t errlen)
{
	struct alert *x = alerts__find(a, id);

	if (!x)
		return -ENOENT;
	if (!alert__active(x)) {
		snprintf(err, errlen, "alert %s is already %s", id, alert__state_name(x->state));
		return -EINVAL;
	}
	/* a threshold alert still breaching stays quiet until its condition clears once */
	x->hold_until_clear = !(x->rule && x->rule->metric->event);
	snprintf(x->resolved_by, sizeof(x->resolved_by), "%s", by && by[0] ? by : "api");
	if (x->state == ALERT_PENDING && !x->fired_at)
		x->fired_at = now_ms;	/* keep it, held, rather than forget the manual resolve */
	resolve(a, x, "manual", now_ms);
	groups__flush(a, now_ms);
	groups__push_at_evaluation(a, now_ms, true);
	alerts__commit(a, now_ms);
	return 0;
}

static void relink_rules(struct alerts *a)
{
	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b]; x; x = x->next)
			x->rule = rule_by_id(a, x->rule_id);
}

int alerts__set_rules(struct alerts *a, const cJSON *array, char *err, size_t errlen)
{
	struct alert_rule *rules = calloc(RULES_MAX, sizeof(*rules));
	int n;

	if (!rules) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = rules__parse(array, rules, RULES_MAX, err, errlen);
	if (n < 0) {
		free(rules);
		return -EINVAL;
	}
	for (int i = 0; i < a->cfg.nr_rules; i++)
		rule__free(&a->cfg.rules[i]);
	memcpy(a->cfg.rules, rules, n * sizeof(*rules));
	a->cfg.nr_rules = n;
	free(rules);
	relink_rules(a);
	/* series keep points for the longest window of the new rules from now on */
	for (int b = 0; b < SERIES_BUCKETS; b++)
		for (struct series *s = a->series[b], *next; s; s = next) {
			next = s->next;
			free(s->pts);
			free(s);
		}
	memset(a->series, 0, sizeof(a->series));
	a->nr_series = 0;
	batch__doc(&a->b, "rules", "rules", cJSON_PrintUnformatted(array));
	alerts__commit(a, a->last_eval);
	return 0;
}

int alerts__test_receiver(struct alerts *a, const char *name, __u64 now_ms)
{
	const struct receiver *r = receivers__find(a->cfg.receivers, a->cfg.nr_receivers, name);

	if (!r)
		return -ENOENT;
	if (!receiver__can(r, RECEIVER_ALERTS))
		return alerts__queue_test_execution(a, r, now_ms);
	alerts__queue_test(a, r, now_ms);
	alerts__commit(a, now_ms);
	return 0;
}

/* --- life cycle --- */

static int restore_rules(const char *key, const char *json, void *ctx)
{
	struct alerts *a = ctx;
	cJSON *arr = cJSON_Parse(json);
	char err[256];

	(void)key;
	if (alerts__set_rules(a, arr, err, sizeof(err)))
		ww_warn("alerts: ignoring the rules set through the API: %s", err);
	else
		ww_info("alerts: using the rules set through the API");
	cJSON_Delete(arr);
	return 0;
}

struct alerts *alerts__new(const struct alert_config *cfg, struct store *store,
			   const struct alert_source *src, char *err, size_t errlen)
{
	struct alerts *a = calloc(1, sizeof(*a));

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* the compiled matchers move over: the caller must not free cfg's */
	a->cfg = *cfg;
	a->store = store;
	a->src = *src;
	if (store__alert_docs(store, "rules", restore_rules, a) ||
	    store__alert_docs(store, "instance", restore_alert, a) ||
	    store__alert_docs(store, "group", restore_group, a) ||
	    store__alert_docs(store, "silence", silence__restore, a)) {
		snprintf(err, errlen, "cannot read alert state: %s", store__errmsg(store));
		goto fail;
	}
	if (a->cfg.nr_receivers) {
		a->notifier = notifier__start(store, a->cfg.receivers, a->cfg.nr_receivers);
		if (!a->notifier) {
			snprintf(err, errlen, "cannot start the notification sender: %s", strerror(errno));
			goto fail;
		}
	}
	alerts__commit(a, 0);
	return a;
fail:
	alerts__free(a);
	return NULL;
}

void alerts__free(struct alerts *a)
{
	if (!a)
		return;
	notifier__stop(a->notifier);
	for (int b = 0; b < SERIES_BUCKETS; b++)
		for (struct series *s = a->series[b], *next; s; s = next) {
			next = s->next;
			free(s->pts);
			free(s);
		}
	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b], *next; x; x = next) {
			next = x->next;
			free(x);
		}
	for (struct agroup *g = a->groups, *next; g; g = next) {
		next = g->next;
		group__free(g);
	}
	for (int i = 0; i < a->nr_silences; i++)
		for (int m = 0; m < a->silences[i].nr_match; m++)
			matcher__free(&a->silences[i].match[m]);
	batch_reset(&a->b);
	free(a->b.docs);
	free(a->b.rows);
	free(a->b.owned);
	alert_config__free(&a->cfg);
	free(a);
}

