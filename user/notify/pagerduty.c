// SPDX-License-Identifier: MIT
/* The PagerDuty receiver: Events API v2 events that trigger, acknowledge and resolve one incident per group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "lib/json.h"
#include "notify/notify_int.h"

#define PAGERDUTY_URL		"https://events.pagerduty.com/v2/enqueue"
#define PD_SUMMARY_MAX		1024		/* characters, PagerDuty's limit */
#define PD_BODY_MAX		512000		/* bytes, PagerDuty's limit */
#define PD_LINKS_MAX		10

static int severity_rank(const char *sev)
{
	static const char *const order[] = { "info", "warning", "error", "critical" };

	for (int i = 0; i < (int)ARRAY_SIZE(order); i++)
		if (!strcmp(sev, order[i]))
			return i;
	return -1;
}

/* PagerDuty's severity of one alert: its severity label when PagerDuty knows it, else "error". */
static const char *pd_severity(const struct notify_alert *a)
{
	const char *sev = labels__get(&a->labels, "severity");

	return !strcmp(sev, "critical") || !strcmp(sev, "warning") || !strcmp(sev, "info") ? sev : "error";
}

/* Cuts s to at most max UTF-8 characters, the last one an ellipsis when something was cut. */
static void utf8_truncate(char *s, size_t max)
{
	size_t chars = 0;

	for (char *p = s; *p; p++) {
		if (((unsigned char)*p & 0xc0) == 0x80)
			continue;
		if (++chars == max) {
			char *q = p + 1;

			while (((unsigned char)*q & 0xc0) == 0x80)
				q++;
			if (*q)
				strcpy(p, "\u2026");
			return;
		}
	}
}

/* An Events API v2 event: dedup_key from host and group key, summary of at most 1024 characters. */
static cJSON *pagerduty_json(const struct receiver *r, const struct notify_group *g, bool *ok)
{
	const char *action = g->action ? g->action : notify_group__firing(g) ? "trigger" : "resolve";
	const struct notify_alert *lead = notify_group__lead(g);
	const char *sev = "error", *host = g->host ? g->host : "", *v;
	cJSON *root = cJSON_CreateObject(), *p, *details, *list, *links;
	/* room for the ellipsis whatever the width of the character it replaces */
	char dedup[320], summary[PD_SUMMARY_MAX * 4 + 16], sev_up[16], url[1024];
	int best = -1;

	if (!root) {
		*ok = false;
		return NULL;
	}
	notify__dedup_key(host, g->group_key, dedup, sizeof(dedup));
	json__add_str(root, "routing_key", r->routing_key, ok);
	json__add_str(root, "event_action", action, ok);
	json__add_str(root, "dedup_key", dedup, ok);
	if (strcmp(action, "trigger"))
		return root;

	/* the most severe of the firing alerts pages (all alerts when none fires) */
	for (int i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];

		if ((notify_alert__firing(a) || !notify_group__firing(g)) && severity_rank(pd_severity(a)) > best) {
			best = severity_rank(pd_severity(a));
			sev = pd_severity(a);
		}
	}
	/* sev is one of the short lowercase names */
	for (size_t i = 0; i < sizeof(sev_up); i++) {
		sev_up[i] = (char)(sev[i] >= 'a' && sev[i] <= 'z' ? sev[i] - 'a' + 'A' : sev[i]);
		if (!sev[i])
			break;
	}
	snprintf(summary, sizeof(summary), "[%s] %s: %s (%s)", sev_up, notify_group__alertname(g),
		 lead ? notify_alert__summary(lead) : notify_group__alertname(g), host);
	utf8_truncate(summary, PD_SUMMARY_MAX);

	p = json__add(root, "payload", cJSON_CreateObject(), ok);
	json__add_str(p, "summary", summary, ok);
	json__add_str(p, "source", host, ok);
	json__add_str(p, "severity", sev, ok);
	notify__json_time(p, "timestamp", lead && lead->starts_ms ? lead->starts_ms : g->now_ms, ok);
	if (lead && (v = labels__get(&lead->labels, "agent"))[0])
		json__add_str(p, "component", v, ok);
	if (lead && (v = labels__get(&lead->labels, "session"))[0])
		json__add_str(p, "group", v, ok);
	json__add_str(p, "class", notify_group__alertname(g), ok);
	details = json__add(p, "custom_details", cJSON_CreateObject(), ok);
	list = json__add(details, "alerts", cJSON_CreateArray(), ok);
	for (int i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];
		cJSON *o = json__push(list, cJSON_CreateObject(), ok);

		json__add_str(o, "fingerprint", a->fingerprint, ok);
		json__add(o, "labels", labels__to_json(&a->labels), ok);
		json__add_num(o, "value", a->value, ok);
		json__add_num(o, "threshold", a->threshold, ok);
		json__add_str(o, "state", a->state ? a->state : a->status, ok);
	}

	json__add_str(root, "client", "workerwatch", ok);
	if (lead && (v = labels__get(&lead->labels, "execution_id"))[0])
		notify__dash_url(g, "/#/executions/", v, url, sizeof(url));
	else
		notify__dash_url(g, "/#/alerts", NULL, url, sizeof(url));
	if (!url[0])
		return root;
	json__add_str(root, "client_url", url, ok);
	links = json__add(root, "links", cJSON_CreateArray(), ok);
	for (int i = 0; i < g->nalerts && i < PD_LINKS_MAX; i++) {
		cJSON *o = json__push(links, cJSON_CreateObject(), ok);

		notify__dash_url(g, "/#/alerts/", g->alerts[i].fingerprint, url, sizeof(url));
		json__add_str(o, "href", url, ok);
		json__add_str(o, "text", "workerwatch alert", ok);
	}
	return root;
}

static char *payload(const struct receiver *r, const struct notify_group *g, const char *delivery_id)
{
	bool ok = true;
	cJSON *root = pagerduty_json(r, g, &ok), *details;
	char *body = ok && root ? cJSON_PrintUnformatted(root) : NULL;

	(void)delivery_id;
	/* PagerDuty refuses bodies over 512 KB: give up the details before the event */
	if (body && strlen(body) > PD_BODY_MAX) {
		details = cJSON_CreateObject();
		cJSON_AddStringToObject(details, "note", "details left out: the event was over 512 KB");
		free(body);
		body = NULL;
		if (cJSON_ReplaceItemInObject(cJSON_GetObjectItem(root, "payload"), "custom_details", details))
			body = cJSON_PrintUnformatted(root);
		else
			cJSON_Delete(details);
	}
	cJSON_Delete(root);
	return body;
}

static void defaults(struct receiver *r)
{
	snprintf(r->url, sizeof(r->url), "%s", PAGERDUTY_URL);
}

static int parse(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	int err = receiver_parse__http_url(pc, o, r, false);

	if (err < 0)
		return err;
	err = receiver_parse__str(pc, o, "routing_key", r->routing_key, sizeof(r->routing_key));
	if (err < 0 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "routing_key")))
		return receiver_parse__fail(pc, "routing_key must be 32 characters");
	if (err < 0)
		return err;
	if (!err)
		return receiver_parse__fail(pc, "routing_key is required");
	if (strlen(r->routing_key) != 32)
		return receiver_parse__fail(pc, "routing_key must be 32 characters");
	return 0;
}

static void view(const struct receiver *r, cJSON *o)
{
	size_t len = strlen(r->routing_key);
	char masked[32];

	snprintf(masked, sizeof(masked), "***%s", len > 4 ? r->routing_key + len - 4 : "");
	cJSON_AddStringToObject(o, "routing_key", masked);
}

static void send(struct notifier *n, const struct receiver *r, const struct outbox_row *row, struct attempt *a)
{
	notify__send_http(n, r, r->url, row, a);
}

const struct receiver_ops pagerduty_receiver = {
	.type = "pagerduty",
	.caps = RECEIVER_ALERTS | RECEIVER_RESOLVES | RECEIVER_ACKNOWLEDGES,
	.keys = (const char *const[]){ "routing_key", NULL },
	.defaults = defaults,
	.parse = parse,
	.view = view,
	.payload = payload,
	.send = send,
};
