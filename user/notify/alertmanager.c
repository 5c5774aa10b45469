// SPDX-License-Identifier: MIT
/* The Alertmanager receiver: the alerts routed to it pushed to POST /api/v2/alerts at evaluations, as Prometheus does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "lib/json.h"
#include "notify/notify_int.h"

#define DEFAULT_RESEND_MS	60000ULL

/* The JSON array of postable alerts. */
static cJSON *alertmanager_json(const struct notify_group *g, bool *ok)
{
	cJSON *root = cJSON_CreateArray();
	char url[1024];

	if (!root) {
		*ok = false;
		return NULL;
	}
	for (int i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];
		cJSON *o = json__push(root, cJSON_CreateObject(), ok);
		/* resolution is an endsAt in the past; a firing alert expires at valid_until unless re-sent */
		__u64 ends = notify_alert__firing(a) ? g->valid_until_ms : a->ends_ms;

		json__add(o, "labels", labels__to_json(&a->labels), ok);
		json__add(o, "annotations", labels__to_json(&a->annotations), ok);
		if (a->starts_ms)
			notify__json_time(o, "startsAt", a->starts_ms, ok);
		if (ends)
			notify__json_time(o, "endsAt", ends, ok);
		notify__dash_url(g, "/#/alerts/", a->fingerprint, url, sizeof(url));
		if (url[0])
			json__add_str(o, "generatorURL", url, ok);
	}
	return root;
}

static char *payload(const struct receiver *r, const struct notify_group *g, const char *delivery_id)
{
	bool ok = true;
	cJSON *root = alertmanager_json(g, &ok);

	(void)r;
	(void)delivery_id;
	return notify__print(root, ok);
}

static void defaults(struct receiver *r)
{
	r->resend_ms = DEFAULT_RESEND_MS;
}

static int parse(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "urls"), *e;
	int err;

	if (!v) {
		err = receiver_parse__http_url(pc, o, r, true);
	} else {
		/* one Alertmanager per receiver: a cluster is several receivers */
		if (cJSON_GetObjectItemCaseSensitive(o, "url"))
			return receiver_parse__fail(pc, "give url or urls, not both");
		e = cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1 ? cJSON_GetArrayItem(v, 0) : NULL;
		if (!cJSON_IsString(e))
			return receiver_parse__fail(pc, "urls must be an array of one URL (one receiver per Alertmanager)");
		if (strlen(e->valuestring) >= sizeof(r->url) || notify__has_control(e->valuestring))
			return receiver_parse__fail(pc, "urls[0] is not a valid URL");
		snprintf(r->url, sizeof(r->url), "%s", e->valuestring);
		err = receiver_parse__http_url(pc, NULL, r, true);
	}
	if (err < 0)
		return err;
	err = receiver_parse__duration(pc, o, "resend_interval", &r->resend_ms);
	return err < 0 ? err : 0;
}

static void view(const struct receiver *r, cJSON *o)
{
	char d[32];

	duration__format(r->resend_ms, d, sizeof(d));
	cJSON_AddStringToObject(o, "resend_interval", d);
}

static void send(struct notifier *n, const struct receiver *r, const struct outbox_row *row, struct attempt *a)
{
	char url[sizeof(r->url) + 32];
	size_t len = strlen(r->url);

	snprintf(url, sizeof(url), "%s", r->url);
	while (len && url[len - 1] == '/')
		len--;
	snprintf(url + len, sizeof(url) - len, "/api/v2/alerts");
	notify__send_http(n, r, url, row, a);
}

const struct receiver_ops alertmanager_receiver = {
	.type = "alertmanager",
	.caps = RECEIVER_ALERTS | RECEIVER_RESOLVES | RECEIVER_PUSHED_AT_EVALUATION,
	.keys = (const char *const[]){ "urls", "resend_interval", NULL },
	.defaults = defaults,
	.parse = parse,
	.view = view,
	.payload = payload,
	.send = send,
};
