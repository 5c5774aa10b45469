// SPDX-License-Identifier: MIT
/* The webhook receiver: Alertmanager's webhook v4 body plus a "workerwatch" object, signed with HMAC-SHA256 when it has a secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "lib/json.h"
#include "notify/notify_int.h"

/* Labels (or annotations) with the same value in every alert, as Alertmanager's commonLabels. */
static cJSON *common_json(const struct notify_group *g, bool annotations)
{
	const struct labelset *first;
	cJSON *o = cJSON_CreateObject();

	if (!o || !g->nalerts)
		return o;
	first = annotations ? &g->alerts[0].annotations : &g->alerts[0].labels;
	for (int i = 0; i < first->n; i++) {
		const struct label *l = &first->l[i];
		bool common = true;

		for (int k = 1; k < g->nalerts && common; k++) {
			const struct labelset *ls = annotations ? &g->alerts[k].annotations : &g->alerts[k].labels;

			common = !strcmp(labels__get(ls, l->name), l->value);
		}
		if (common && !cJSON_AddStringToObject(o, l->name, l->value)) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/*
 * Alertmanager webhook v4 plus a "workerwatch" object (delivery_id, sequence,
 * per-alert value, threshold, state, acknowledged); endsAt is
 * 0001-01-01T00:00:00Z while firing.
 */
static cJSON *webhook_json(const struct receiver *r, const struct notify_group *g, const char *delivery_id,
			   bool *ok)
{
	cJSON *root = cJSON_CreateObject(), *alerts, *ww, *ww_alerts;
	char url[1024];

	if (!root) {
		*ok = false;
		return NULL;
	}
	json__add_str(root, "version", "4", ok);
	json__add_str(root, "groupKey", g->group_key, ok);
	json__add_num(root, "truncatedAlerts", 0, ok);
	json__add_str(root, "status", notify_group__firing(g) ? "firing" : "resolved", ok);
	json__add_str(root, "receiver", r->name, ok);
	json__add(root, "groupLabels", labels__to_json(&g->group_labels), ok);
	json__add(root, "commonLabels", common_json(g, false), ok);
	json__add(root, "commonAnnotations", common_json(g, true), ok);
	notify__dash_url(g, "", NULL, url, sizeof(url));
	json__add_str(root, "externalURL", url, ok);
	alerts = json__add(root, "alerts", cJSON_CreateArray(), ok);
	ww = json__add(root, "workerwatch", cJSON_CreateObject(), ok);
	json__add_num(ww, "schema", 1, ok);
	json__add_str(ww, "delivery_id", delivery_id, ok);
	json__add_num(ww, "sequence", (double)g->sequence, ok);
	ww_alerts = json__add(ww, "alerts", cJSON_CreateObject(), ok);
	for (int i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];
		cJSON *o = json__push(alerts, cJSON_CreateObject(), ok), *x;

		notify__dash_url(g, "/#/alerts/", a->fingerprint, url, sizeof(url));
		json__add_str(o, "status", notify_alert__firing(a) ? "firing" : "resolved", ok);
		json__add(o, "labels", labels__to_json(&a->labels), ok);
		json__add(o, "annotations", labels__to_json(&a->annotations), ok);
		notify__json_time(o, "startsAt", a->starts_ms, ok);
		/* Alertmanager does not expose an end that has not come yet */
		notify__json_time(o, "endsAt", notify_alert__firing(a) ? 0 : a->ends_ms, ok);
		json__add_str(o, "generatorURL", url, ok);
		json__add_str(o, "fingerprint", a->fingerprint, ok);

		x = json__add(ww_alerts, a->fingerprint, cJSON_CreateObject(), ok);
		json__add_num(x, "value", a->value, ok);
		json__add_num(x, "threshold", a->threshold, ok);
		json__add_bool(x, "acknowledged", a->acknowledged, ok);
		json__add_str(x, "acked_by", a->acked_by, ok);
		json__add_str(x, "state", a->state ? a->state : a->status, ok);
		json__add_bool(x, "silenced", a->silenced, ok);
		json__add_str(x, "rule_url", url, ok);
	}
	return root;
}

static char *payload(const struct receiver *r, const struct notify_group *g, const char *delivery_id)
{
	bool ok = true;
	cJSON *root = webhook_json(r, g, delivery_id, &ok);

	return notify__print(root, ok);
}

static int parse(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	int err = receiver_parse__http_url(pc, o, r, true);

	if (err < 0)
		return err;
	err = receiver_parse__str(pc, o, "secret", r->secret, sizeof(r->secret));
	return err < 0 ? err : 0;
}

static void view(const struct receiver *r, cJSON *o)
{
	cJSON_AddStringToObject(o, "secret", r->secret[0] ? "***" : "");
}

static void send(struct notifier *n, const struct receiver *r, const struct outbox_row *row, struct attempt *a)
{
	notify__send_http(n, r, r->url, row, a);
}

const struct receiver_ops webhook_receiver = {
	.type = "webhook",
	.caps = RECEIVER_ALERTS | RECEIVER_RESOLVES,
	.keys = (const char *const[]){ "secret", NULL },
	.parse = parse,
	.view = view,
	.payload = payload,
	.send = send,
};
