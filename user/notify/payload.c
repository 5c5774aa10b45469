// SPDX-License-Identifier: MIT
/* Notification payloads: each receiver type's body, delivery ids, dedup keys and signatures. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include "lib/json.h"
#include "lib/log.h"
#include "notify/notify_int.h"
#include "lib/version.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Random bytes; when getrandom() cannot (no entropy yet), a hash of time, pid and a counter still differs per call. */
void notify__random(void *buf, size_t n)
{
	static atomic_ulong counter;
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct {
		struct timespec ts;
		pid_t pid;
		unsigned long count;
	} seed;

	if (getrandom(buf, n, GRND_NONBLOCK) == (ssize_t)n)
		return;
	memset(&seed, 0, sizeof(seed));
	clock_gettime(CLOCK_REALTIME, &seed.ts);
	seed.pid = getpid();
	seed.count = atomic_fetch_add(&counter, 1);
	SHA256((const unsigned char *)&seed, sizeof(seed), md);
	memcpy(buf, md, n < sizeof(md) ? n : sizeof(md));
}

void notify__delivery_id(char out[37])
{
	unsigned char b[16];

	notify__random(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

void notify__dedup_key(const char *host, const char *group_key, char *out, size_t size)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char h[2 * SHA256_DIGEST_LENGTH + 1];

	group_key = group_key ? group_key : "";
	SHA256((const unsigned char *)group_key, strlen(group_key), md);
	hex(md, sizeof(md), h);
	snprintf(out, size, "ww-%s-%.32s", host ? host : "", h);
}

/* "sha256=" and the hex HMAC-SHA256 of body with secret. */
void notify__signature(const char *secret, const char *body, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char h[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), md, &len))
		len = 0;
	hex(md, len, h);
	snprintf(out, size, "sha256=%s", h);
}

/* ---- payloads ---- */

/* RFC 3339 in UTC; milliseconds only when there are some; 0 is Go's zero time, as Alertmanager shows it. */
static void fmt_time(__u64 ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (!ms || !gmtime_r(&t, &tm)) {
		snprintf(buf, size, "%s", ZERO_TIME);
		return;
	}
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (ms % 1000)
		snprintf(buf + n, size - n, ".%03uZ", (unsigned int)(ms % 1000));
	else
		snprintf(buf + n, size - n, "Z");
}

static bool alert_firing(const struct notify_alert *a)
{
	return a->status && !strcmp(a->status, "firing");
}

static int firing_count(const struct notify_group *g)
{
	int n = 0;

	for (int i = 0; i < g->nalerts; i++)
		n += alert_firing(&g->alerts[i]);
	return n;
}

static const char *group_alertname(const struct notify_group *g)
{
	const char *name = labels__get(&g->group_labels, "alertname");

	if (!name[0] && g->nalerts)
		name = labels__get(&g->alerts[0].labels, "alertname");
	return name[0] ? name : "alert";
}

/* The first firing alert, else the first one; NULL when there are none. */
static const struct notify_alert *lead_alert(const struct notify_group *g)
{
	for (int i = 0; i < g->nalerts; i++)
		if (alert_firing(&g->alerts[i]))
			return &g->alerts[i];
	return g->nalerts ? &g->alerts[0] : NULL;
}

static const char *alert_summary(const struct notify_alert *a)
{
	const char *s = labels__get(&a->annotations, "summary");

	if (!s[0])
		s = labels__get(&a->annotations, "description");
	return s[0] ? s : labels__get(&a->labels, "alertname");
}

/* The dashboard's page at external_url + path + id ("" without an external URL). */
static void dash_url(const struct notify_group *g, const char *path, const char *id, char *out, size_t size)
{
	const char *ext = g->external_url ? g->external_url : "";
	size_t len = strlen(ext);

	while (len && ext[len - 1] == '/')
		len--;
	if (!len)
		out[0] = '\0';
	else
		snprintf(out, size, "%.*s%s%s", (int)len, ext, path, id ? id : "");
}

static void j_time(cJSON *o, const char *key, __u64 ms, bool *ok)
{
	char t[40];

	fmt_time(ms, t, sizeof(t));
	json__add_str(o, key, t, ok);
}

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
	json__add_str(root, "status", firing_count(g) ? "firing" : "resolved", ok);
	json__add_str(root, "receiver", r->name, ok);
	json__add(root, "groupLabels", labels__to_json(&g->group_labels), ok);
	json__add(root, "commonLabels", common_json(g, false), ok);
	json__add(root, "commonAnnotations", common_json(g, true), ok);
	dash_url(g, "", NULL, url, sizeof(url));
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

		dash_url(g, "/#/alerts/", a->fingerprint, url, sizeof(url));
		json__add_str(o, "status", alert_firing(a) ? "firing" : "resolved", ok);
		json__add(o, "labels", labels__to_json(&a->labels), ok);
		json__add(o, "annotations", labels__to_json(&a->annotations), ok);
		j_time(o, "startsAt", a->starts_ms, ok);
		/* Alertmanager does not expose an end that has not come yet */
		j_time(o, "endsAt", alert_firing(a) ? 0 : a->ends_ms, ok);
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
		__u64 ends = alert_firing(a) ? g->valid_until_ms : a->ends_ms;

		json__add(o, "labels", labels__to_json(&a->labels), ok);
		json__add(o, "annotations", labels__to_json(&a->annotations), ok);
		if (a->starts_ms)
			j_time(o, "startsAt", a->starts_ms, ok);
		if (ends)
			j_time(o, "endsAt", ends, ok);
		dash_url(g, "/#/alerts/", a->fingerprint, url, sizeof(url));
		if (url[0])
			json__add_str(o, "generatorURL", url, ok);
	}
	return root;
}

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

static cJSON *pagerduty_json(const struct receiver *r, const struct notify_group *g, bool *ok)
{
	const char *action = g->action ? g->action : firing_count(g) ? "trigger" : "resolve";
	const struct notify_alert *lead = lead_alert(g);
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

		if ((alert_firing(a) || !firing_count(g)) && severity_rank(pd_severity(a)) > best) {
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
	snprintf(summary, sizeof(summary), "[%s] %s: %s (%s)", sev_up, group_alertname(g),
		 lead ? alert_summary(lead) : group_alertname(g), host);
	utf8_truncate(summary, PD_SUMMARY_MAX);

	p = json__add(root, "payload", cJSON_CreateObject(), ok);
	json__add_str(p, "summary", summary, ok);
	json__add_str(p, "source", host, ok);
	json__add_str(p, "severity", sev, ok);
	j_time(p, "timestamp", lead && lead->starts_ms ? lead->starts_ms : g->now_ms, ok);
	if (lead && (v = labels__get(&lead->labels, "agent"))[0])
		json__add_str(p, "component", v, ok);
	if (lead && (v = labels__get(&lead->labels, "session"))[0])
		json__add_str(p, "group", v, ok);
	json__add_str(p, "class", group_alertname(g), ok);
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
		dash_url(g, "/#/executions/", v, url, sizeof(url));
	else
		dash_url(g, "/#/alerts", NULL, url, sizeof(url));
	if (!url[0])
		return root;
	json__add_str(root, "client_url", url, ok);
	links = json__add(root, "links", cJSON_CreateArray(), ok);
	for (int i = 0; i < g->nalerts && i < PD_LINKS_MAX; i++) {
		cJSON *o = json__push(links, cJSON_CreateObject(), ok);

		dash_url(g, "/#/alerts/", g->alerts[i].fingerprint, url, sizeof(url));
		json__add_str(o, "href", url, ok);
		json__add_str(o, "text", "workerwatch alert", ok);
	}
	return root;
}

/* A growing string that remembers an allocation failure. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	char *ns;
	size_t ncap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 1024;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		ns = realloc(b->s, ncap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sb_addn(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	sb_addn(b, big, (size_t)n);
	free(big);
}

/* Slack's message text treats &, < and > as markup. */
static void sb_slack(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			sb_addn(b, "&amp;", 5);
		else if (*s == '<')
			sb_addn(b, "&lt;", 4);
		else if (*s == '>')
			sb_addn(b, "&gt;", 4);
		else
			sb_addn(b, s, 1);
	}
}

static cJSON *slack_json(const struct notify_group *g, bool *ok)
{
	int firing = firing_count(g), shown = 0;
	struct sbuf b = {};
	char url[1024];
	cJSON *root;

	if (firing)
		sb_add(&b, ":red_circle: [FIRING:%d] ", firing);
	else
		sb_add(&b, ":large_green_circle: [RESOLVED] ");
	sb_slack(&b, group_alertname(g));
	for (int i = 0; i < g->group_labels.n; i++) {
		if (strcmp(g->group_labels.l[i].name, "alertname")) {
			sb_addn(&b, " ", 1);
			sb_slack(&b, g->group_labels.l[i].value);
		}
	}
	/* firing alerts first: they are what the reader has to act on */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < g->nalerts; i++) {
			const struct notify_alert *a = &g->alerts[i];

			if (alert_firing(a) != !pass || (firing && pass))
				continue;
			if (shown < SLACK_SUMMARIES_MAX) {
				sb_add(&b, shown ? "; " : " \u2014 ");
				sb_slack(&b, alert_summary(a));
			}
			shown++;
		}
	}
	if (shown > SLACK_SUMMARIES_MAX)
		sb_add(&b, "; and %d more", shown - SLACK_SUMMARIES_MAX);
	if (g->host && g->host[0]) {
		sb_add(&b, " (");
		sb_slack(&b, g->host);
		sb_add(&b, ")");
	}
	if (g->nalerts == 1)
		dash_url(g, "/#/alerts/", g->alerts[0].fingerprint, url, sizeof(url));
	else
		dash_url(g, "/#/alerts", NULL, url, sizeof(url));
	if (url[0])
		sb_add(&b, " <%s|open>", url);
	root = cJSON_CreateObject();
	if (b.oom || !root)
		*ok = false;
	else
		json__add_str(root, "text", b.s, ok);
	free(b.s);
	return root;
}

/* A header value on one line. */
static void sb_header(struct sbuf *b, const char *name, const char *value)
{
	sb_add(b, "%s: ", name);
	for (; *value; value++)
		sb_addn(b, (unsigned char)*value < 0x20 ? " " : value, 1);
	sb_addn(b, "\n", 1);
}

/* RFC 2047 encoded-word for a Subject that is not plain ASCII. */
static void sb_subject(struct sbuf *b, const char *subject)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)subject;
	size_t len = strlen(subject);
	bool ascii = true;

	for (size_t i = 0; i < len; i++)
		ascii = ascii && s[i] < 0x80;
	if (ascii) {
		sb_header(b, "Subject", subject);
		return;
	}
	sb_add(b, "Subject: =?UTF-8?B?");
	for (size_t i = 0; i < len; i += 3) {
		unsigned int v = (unsigned int)s[i] << 16 | (i + 1 < len ? (unsigned int)s[i + 1] << 8 : 0) |
				 (i + 2 < len ? s[i + 2] : 0);
		char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63],
			      i + 1 < len ? b64[v >> 6 & 63] : '=', i + 2 < len ? b64[v & 63] : '=' };

		sb_addn(b, q, 4);
	}
	sb_add(b, "?=\n");
}

/* Alert text for the mail body: one value per line, no line breaks of its own. */
static void sb_line_value(struct sbuf *b, const char *v)
{
	for (; *v; v++)
		sb_addn(b, *v == '\r' || *v == '\n' ? " " : v, 1);
}

static void email_alert(struct sbuf *b, const struct notify_group *g, const struct notify_alert *a)
{
	char t[40], url[1024];

	sb_add(b, "- ");
	sb_line_value(b, alert_summary(a));
	sb_add(b, "\n  state: %s", a->state ? a->state : a->status ? a->status : "");
	if (a->acknowledged)
		sb_add(b, " (acknowledged by %s)", a->acked_by[0] ? a->acked_by : "someone");
	if (a->silenced)
		sb_add(b, " (silenced)");
	fmt_time(a->starts_ms, t, sizeof(t));
	sb_add(b, "\n  started: %s", t);
	if (!alert_firing(a)) {
		fmt_time(a->ends_ms, t, sizeof(t));
		sb_add(b, "\n  ended: %s", t);
	}
	sb_add(b, "\n  value: %g, threshold: %g\n  labels:", a->value, a->threshold);
	for (int i = 0; i < a->labels.n; i++) {
		sb_add(b, "%s %s=", i ? "," : "", a->labels.l[i].name);
		sb_line_value(b, a->labels.l[i].value);
	}
	for (int i = 0; i < a->annotations.n; i++) {
		if (!strcmp(a->annotations.l[i].name, "summary"))
			continue;
		sb_add(b, "\n  %s: ", a->annotations.l[i].name);
		sb_line_value(b, a->annotations.l[i].value);
	}
	sb_add(b, "\n  fingerprint: %s", a->fingerprint);
	dash_url(g, "/#/alerts/", a->fingerprint, url, sizeof(url));
	if (url[0])
		sb_add(b, "\n  %s", url);
	sb_add(b, "\n\n");
}

/* RFC 5322 date in English whatever the locale: "Sat, 21 Nov 2026 05:28:32 +0000". */
static void mail_date(__u64 ms, char *out, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static char *email_text(const struct receiver *r, const struct notify_group *g, const char *delivery_id)
{
	const char *host = g->host && g->host[0] ? g->host : "";
	int firing = firing_count(g);
	struct sbuf b = {}, crlf = {};
	char subject[512], date[64], domain[128] = "", url[1024];
	size_t dl = 0;

	if (firing)
		snprintf(subject, sizeof(subject), "[FIRING:%d] %s", firing, group_alertname(g));
	else
		snprintf(subject, sizeof(subject), "[RESOLVED] %s", group_alertname(g));
	if (host[0])
		snprintf(subject + strlen(subject), sizeof(subject) - strlen(subject), " (%s)", host);
	/* the Message-ID's domain: the host's name as far as it is a valid one */
	for (const char *p = host; *p && dl < sizeof(domain) - 1; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-')
			domain[dl++] = *p;
	domain[dl] = '\0';
	mail_date(g->now_ms ? g->now_ms : (__u64)time(NULL) * 1000, date, sizeof(date));

	sb_header(&b, "From", r->from);
	sb_header(&b, "To", r->to);
	sb_subject(&b, subject);
	sb_header(&b, "Date", date);
	sb_add(&b, "Message-ID: <%s@%s>\n", delivery_id ? delivery_id : "none", dl ? domain : "workerwatch");
	sb_add(&b, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
		   "Content-Transfer-Encoding: 8bit\n");
	sb_header(&b, "X-Workerwatch-Delivery", delivery_id ? delivery_id : "");
	sb_add(&b, "\n");
	sb_line_value(&b, subject);
	sb_add(&b, "\n\n");
	if (firing) {
		sb_add(&b, "Firing:\n\n");
		for (int i = 0; i < g->nalerts; i++)
			if (alert_firing(&g->alerts[i]))
				email_alert(&b, g, &g->alerts[i]);
	}
	if (firing < g->nalerts) {
		sb_add(&b, "Resolved:\n\n");
		for (int i = 0; i < g->nalerts; i++)
			if (!alert_firing(&g->alerts[i]))
				email_alert(&b, g, &g->alerts[i]);
	}
	sb_add(&b, "Group: ");
	sb_line_value(&b, g->group_key ? g->group_key : "");
	sb_add(&b, "\nSequence: %llu\n", (unsigned long long)g->sequence);
	dash_url(g, "/#/alerts", NULL, url, sizeof(url));
	sb_add(&b, "\n-- \nworkerwatch%s%s\n", url[0] ? " " : "", url);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	/* mail lines end in CRLF */
	for (size_t i = 0; i < b.len; i++)
		sb_addn(&crlf, b.s[i] == '\n' ? "\r\n" : &b.s[i], b.s[i] == '\n' ? 2 : 1);
	free(b.s);
	if (crlf.oom) {
		free(crlf.s);
		return NULL;
	}
	return crlf.s;
}

char *notify__format(const struct receiver *r, const struct notify_group *g, const char *delivery_id)
{
	cJSON *root = NULL, *details;
	char *body = NULL;
	bool ok = true;

	if (!r || !g || (g->nalerts && !g->alerts)) {
		errno = EINVAL;
		return NULL;
	}
	switch (r->type) {
	case RECV_WEBHOOK:
		root = webhook_json(r, g, delivery_id, &ok);
		break;
	case RECV_ALERTMANAGER:
		root = alertmanager_json(g, &ok);
		break;
	case RECV_PAGERDUTY:
		root = pagerduty_json(r, g, &ok);
		break;
	case RECV_SLACK:
		root = slack_json(g, &ok);
		break;
	case RECV_EMAIL:
		body = email_text(r, g, delivery_id);
		if (!body)
			errno = ENOMEM;
		return body;
	}
	if (ok && root)
		body = cJSON_PrintUnformatted(root);
	/* PagerDuty refuses bodies over 512 KB: give up the details before the event */
	if (body && r->type == RECV_PAGERDUTY && strlen(body) > PD_BODY_MAX) {
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
	if (!body)
		errno = ENOMEM;
	return body;
}
