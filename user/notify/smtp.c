// SPDX-License-Identifier: MIT
/* The email receiver: an RFC 5322 message (headers and a text body) sent over SMTP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "notify/notify_int.h"

/* The address of "Name <a@b>" or "a@b", into out without the brackets. */
bool notify__mail_address(const char *text, char *out, size_t size)
{
	const char *lt = strchr(text, '<'), *gt;
	size_t len;

	while (*text == ' ' || *text == '\t')
		text++;
	if (lt) {
		gt = strchr(lt, '>');
		if (!gt)
			return false;
		text = lt + 1;
		len = (size_t)(gt - text);
	} else {
		len = strlen(text);
		while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
			len--;
	}
	if (!len || len >= size || !memchr(text, '@', len) || memchr(text, ' ', len))
		return false;
	memcpy(out, text, len);
	out[len] = '\0';
	return true;
}

/* Email "to": a comma-separated string or an array of strings; each must hold an address. */
static int get_recipients(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "to"), *e;
	char buf[sizeof(r->to)], addr[256], *save = NULL;
	size_t len = 0;
	int err;

	if (cJSON_IsArray(v)) {
		r->to[0] = '\0';
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsString(e) || notify__has_control(e->valuestring))
				return receiver_parse__fail(pc, "to must be a string or an array of strings");
			len += (size_t)snprintf(r->to + len, sizeof(r->to) - len, "%s%s",
						len ? ", " : "", e->valuestring);
			if (len >= sizeof(r->to))
				return receiver_parse__fail(pc, "to is longer than %zu characters", sizeof(r->to) - 1);
		}
	} else {
		err = receiver_parse__str(pc, o, "to", r->to, sizeof(r->to));
		if (err < 0)
			return err;
	}
	if (!r->to[0])
		return receiver_parse__fail(pc, "to is required");
	snprintf(buf, sizeof(buf), "%s", r->to);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!notify__mail_address(tok, addr, sizeof(addr)))
			return receiver_parse__fail(pc, "to: '%s' is not a mail address", tok);
	return 0;
}

/* A header value on one line. */
static void sb_header(struct sbuf *b, const char *name, const char *value)
{
	sbuf__add(b, "%s: ", name);
	for (; *value; value++)
		sbuf__addn(b, (unsigned char)*value < 0x20 ? " " : value, 1);
	sbuf__addn(b, "\n", 1);
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
	sbuf__add(b, "Subject: =?UTF-8?B?");
	for (size_t i = 0; i < len; i += 3) {
		unsigned int v = (unsigned int)s[i] << 16 | (i + 1 < len ? (unsigned int)s[i + 1] << 8 : 0) |
				 (i + 2 < len ? s[i + 2] : 0);
		char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63],
			      i + 1 < len ? b64[v >> 6 & 63] : '=', i + 2 < len ? b64[v & 63] : '=' };

		sbuf__addn(b, q, 4);
	}
	sbuf__add(b, "?=\n");
}

/* Alert text for the mail body: one value per line, no line breaks of its own. */
static void sb_line_value(struct sbuf *b, const char *v)
{
	for (; *v; v++)
		sbuf__addn(b, *v == '\r' || *v == '\n' ? " " : v, 1);
}

static void email_alert(struct sbuf *b, const struct notify_group *g, const struct notify_alert *a)
{
	char t[40], url[1024];

	sbuf__add(b, "- ");
	sb_line_value(b, notify_alert__summary(a));
	sbuf__add(b, "\n  state: %s", a->state ? a->state : a->status ? a->status : "");
	if (a->acknowledged)
		sbuf__add(b, " (acknowledged by %s)", a->acked_by[0] ? a->acked_by : "someone");
	if (a->silenced)
		sbuf__add(b, " (silenced)");
	notify__time(a->starts_ms, t, sizeof(t));
	sbuf__add(b, "\n  started: %s", t);
	if (!notify_alert__firing(a)) {
		notify__time(a->ends_ms, t, sizeof(t));
		sbuf__add(b, "\n  ended: %s", t);
	}
	sbuf__add(b, "\n  value: %g, threshold: %g\n  labels:", a->value, a->threshold);
	for (int i = 0; i < a->labels.n; i++) {
		sbuf__add(b, "%s %s=", i ? "," : "", a->labels.l[i].name);
		sb_line_value(b, a->labels.l[i].value);
	}
	for (int i = 0; i < a->annotations.n; i++) {
		if (!strcmp(a->annotations.l[i].name, "summary"))
			continue;
		sbuf__add(b, "\n  %s: ", a->annotations.l[i].name);
		sb_line_value(b, a->annotations.l[i].value);
	}
	sbuf__add(b, "\n  fingerprint: %s", a->fingerprint);
	notify__dash_url(g, "/#/alerts/", a->fingerprint, url, sizeof(url));
	if (url[0])
		sbuf__add(b, "\n  %s", url);
	sbuf__add(b, "\n\n");
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
	int firing = notify_group__firing(g);
	struct sbuf b = {}, crlf = {};
	char subject[512], date[64], domain[128] = "", url[1024];
	size_t dl = 0;

	if (firing)
		snprintf(subject, sizeof(subject), "[FIRING:%d] %s", firing, notify_group__alertname(g));
	else
		snprintf(subject, sizeof(subject), "[RESOLVED] %s", notify_group__alertname(g));
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
	sbuf__add(&b, "Message-ID: <%s@%s>\n", delivery_id ? delivery_id : "none", dl ? domain : "workerwatch");
	sbuf__add(&b, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
		   "Content-Transfer-Encoding: 8bit\n");
	sb_header(&b, "X-Workerwatch-Delivery", delivery_id ? delivery_id : "");
	sbuf__add(&b, "\n");
	sb_line_value(&b, subject);
	sbuf__add(&b, "\n\n");
	if (firing) {
		sbuf__add(&b, "Firing:\n\n");
		for (int i = 0; i < g->nalerts; i++)
			if (notify_alert__firing(&g->alerts[i]))
				email_alert(&b, g, &g->alerts[i]);
	}
	if (firing < g->nalerts) {
		sbuf__add(&b, "Resolved:\n\n");
		for (int i = 0; i < g->nalerts; i++)
			if (!notify_alert__firing(&g->alerts[i]))
				email_alert(&b, g, &g->alerts[i]);
	}
	sbuf__add(&b, "Group: ");
	sb_line_value(&b, g->group_key ? g->group_key : "");
	sbuf__add(&b, "\nSequence: %llu\n", (unsigned long long)g->sequence);
	notify__dash_url(g, "/#/alerts", NULL, url, sizeof(url));
	sbuf__add(&b, "\n-- \nworkerwatch%s%s\n", url[0] ? " " : "", url);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	/* mail lines end in CRLF */
	for (size_t i = 0; i < b.len; i++)
		sbuf__addn(&crlf, b.s[i] == '\n' ? "\r\n" : &b.s[i], b.s[i] == '\n' ? 2 : 1);
	free(b.s);
	if (crlf.oom) {
		free(crlf.s);
		return NULL;
	}
	return crlf.s;
}

static char *payload(const struct receiver *r, const struct notify_group *g, const char *delivery_id)
{
	return email_text(r, g, delivery_id);
}

static int parse(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	static const char *const schemes[] = { "smtp://", "smtps://", NULL };
	char addr[256];
	int err = receiver_parse__str(pc, o, "url", r->url, sizeof(r->url));

	if (err < 0)
		return err;
	if (!err || !notify__url_has_scheme(r->url, schemes))
		return receiver_parse__fail(pc, "url must be an smtp:// or smtps:// URL");
	err = receiver_parse__str(pc, o, "from", r->from, sizeof(r->from));
	if (err < 0)
		return err;
	if (!err || !r->from[0])
		return receiver_parse__fail(pc, "from is required");
	if (!notify__mail_address(r->from, addr, sizeof(addr)))
		return receiver_parse__fail(pc, "from: '%s' is not a mail address", r->from);
	return get_recipients(pc, o, r);
}

static void view(const struct receiver *r, cJSON *o)
{
	cJSON_AddStringToObject(o, "from", r->from);
	cJSON_AddStringToObject(o, "to", r->to);
}

const struct receiver_ops smtp_receiver = {
	.type = "email",
	.caps = RECEIVER_ALERTS | RECEIVER_RESOLVES,
	.keys = (const char *const[]){ "from", "to", NULL },
	.parse = parse,
	.view = view,
	.payload = payload,
	.send = notify__send_smtp,
};
