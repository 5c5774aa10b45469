// SPDX-License-Identifier: MIT
/* The Slack receiver: an incoming webhook's {"text": ...}, one line per notification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "lib/json.h"
#include "notify/notify_int.h"

#define SLACK_RATE		1.0		/* Slack allows about one message per second */
#define SLACK_BURST		1
#define SLACK_SUMMARIES_MAX	5

/* Slack's message text treats &, < and > as markup. */
static void sb_slack(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			sbuf__addn(b, "&amp;", 5);
		else if (*s == '<')
			sbuf__addn(b, "&lt;", 4);
		else if (*s == '>')
			sbuf__addn(b, "&gt;", 4);
		else
			sbuf__addn(b, s, 1);
	}
}

static cJSON *slack_json(const struct notify_group *g, bool *ok)
{
	int firing = notify_group__firing(g), shown = 0;
	struct sbuf b = {};
	char url[1024];
	cJSON *root;

	if (firing)
		sbuf__add(&b, ":red_circle: [FIRING:%d] ", firing);
	else
		sbuf__add(&b, ":large_green_circle: [RESOLVED] ");
	sb_slack(&b, notify_group__alertname(g));
	for (int i = 0; i < g->group_labels.n; i++) {
		if (strcmp(g->group_labels.l[i].name, "alertname")) {
			sbuf__addn(&b, " ", 1);
			sb_slack(&b, g->group_labels.l[i].value);
		}
	}
	/* firing alerts first: they are what the reader has to act on */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < g->nalerts; i++) {
			const struct notify_alert *a = &g->alerts[i];

			if (notify_alert__firing(a) != !pass || (firing && pass))
				continue;
			if (shown < SLACK_SUMMARIES_MAX) {
				sbuf__add(&b, shown ? "; " : " \u2014 ");
				sb_slack(&b, notify_alert__summary(a));
			}
			shown++;
		}
	}
	if (shown > SLACK_SUMMARIES_MAX)
		sbuf__add(&b, "; and %d more", shown - SLACK_SUMMARIES_MAX);
	if (g->host && g->host[0]) {
		sbuf__add(&b, " (");
		sb_slack(&b, g->host);
		sbuf__add(&b, ")");
	}
	if (g->nalerts == 1)
		notify__dash_url(g, "/#/alerts/", g->alerts[0].fingerprint, url, sizeof(url));
	else
		notify__dash_url(g, "/#/alerts", NULL, url, sizeof(url));
	if (url[0])
		sbuf__add(&b, " <%s|open>", url);
	root = cJSON_CreateObject();
	if (b.oom || !root)
		*ok = false;
	else
		json__add_str(root, "text", b.s, ok);
	free(b.s);
	return root;
}

static char *payload(const struct receiver *r, const struct notify_group *g, const char *delivery_id)
{
	bool ok = true;
	cJSON *root = slack_json(g, &ok);

	(void)r;
	(void)delivery_id;
	return notify__print(root, ok);
}

static int parse(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	int err = receiver_parse__http_url(pc, o, r, true);

	return err < 0 ? err : 0;
}

static void send(struct notifier *n, const struct receiver *r, const struct outbox_row *row, struct attempt *a)
{
	notify__send_http(n, r, r->url, row, a);
}

const struct receiver_ops slack_receiver = {
	.type = "slack",
	.caps = RECEIVER_ALERTS | RECEIVER_RESOLVES,
	.keys = (const char *const[]){ NULL },
	.rate_per_s = SLACK_RATE,
	.burst = SLACK_BURST,
	/* a Slack webhook URL is its own secret */
	.url_is_secret = true,
	.parse = parse,
	.payload = payload,
	.send = send,
};
