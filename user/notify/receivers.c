// SPDX-License-Identifier: MIT
/* Notification receivers: the config file's "receivers", validated, and their view in the API. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include "lib/labels.h"
#include "notify/notify_int.h"

static const char *const type_names[] = {
	[RECV_WEBHOOK] = "webhook",
	[RECV_ALERTMANAGER] = "alertmanager",
	[RECV_PAGERDUTY] = "pagerduty",
	[RECV_SLACK] = "slack",
	[RECV_EMAIL] = "email",
};

#define T(x)		(1u << (x))
#define T_ALL		(T(RECV_WEBHOOK) | T(RECV_ALERTMANAGER) | T(RECV_PAGERDUTY) | T(RECV_SLACK) | T(RECV_EMAIL))

/* The keys a receiver object may have, and the types they apply to. */
static const struct receiver_key {
	const char *name;
	unsigned int types;
} receiver_keys[] = {
	{ "name", T_ALL },
	{ "type", T_ALL },
	{ "url", T_ALL },
	{ "urls", T(RECV_ALERTMANAGER) },
	{ "secret", T(RECV_WEBHOOK) },
	{ "routing_key", T(RECV_PAGERDUTY) },
	{ "from", T(RECV_EMAIL) },
	{ "to", T(RECV_EMAIL) },
	{ "send_resolved", T_ALL },
	{ "rate_per_second", T_ALL },
	{ "burst", T_ALL },
	{ "timeout", T_ALL },
	{ "max_age", T_ALL },
	{ "resend_interval", T(RECV_ALERTMANAGER) },
};

const char *receiver__type_name(enum receiver_type t)
{
	return (unsigned int)t < ARRAY_SIZE(type_names) ? type_names[t] : "unknown";
}

const struct receiver *receivers__find(const struct receiver *rs, int n, const char *name)
{
	for (int i = 0; rs && name && i < n; i++)
		if (!strcmp(rs[i].name, name))
			return &rs[i];
	return NULL;
}

/* Names for the messages of one receiver: its name, or its position until it has a valid one. */
struct parse_ctx {
	char who[RECEIVER_NAME_LEN + 8];
	char *err;
	size_t errlen;
};

static int parse_fail(struct parse_ctx *pc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int parse_fail(struct parse_ctx *pc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pc->err && pc->errlen)
		snprintf(pc->err, pc->errlen, "receiver %s: %s", pc->who, msg);
	return -EINVAL;
}

static bool valid_receiver_name(const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= RECEIVER_NAME_LEN)
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/* Control characters would let a value split an HTTP or mail header in two. */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* 1 when key is a string (copied to dst), 0 when absent, -EINVAL otherwise. */
static int get_str(struct parse_ctx *pc, const cJSON *o, const char *key, char *dst, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring)
		return parse_fail(pc, "%s must be a string", key);
	if (strlen(v->valuestring) >= size)
		return parse_fail(pc, "%s is longer than %zu characters", key, size - 1);
	if (has_control(v->valuestring))
		return parse_fail(pc, "%s contains control characters", key);
	snprintf(dst, size, "%s", v->valuestring);
	return 1;
}

/* A duration string ("10s", "1m30s") or a number of seconds; must be > 0. */
static int get_duration(struct parse_ctx *pc, const cJSON *o, const char *key, __u64 *ms)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	__u64 val;

	if (!v)
		return 0;
	if (duration__from_json(v, &val))
		return parse_fail(pc, "%s must be a duration such as \"10s\"", key);
	if (!val)
		return parse_fail(pc, "%s must be more than 0", key);
	*ms = val;
	return 1;
}

static bool url_has_scheme(const char *url, const char *const *schemes)
{
	for (; *schemes; schemes++) {
		size_t len = strlen(*schemes);

		if (!strncasecmp(url, *schemes, len) && url[len])
			return true;
	}
	return false;
}

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
static int get_recipients(struct parse_ctx *pc, const cJSON *o, struct receiver *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "to"), *e;
	char buf[sizeof(r->to)], addr[256], *save = NULL;
	size_t len = 0;
	int err;

	if (cJSON_IsArray(v)) {
		r->to[0] = '\0';
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsString(e) || has_control(e->valuestring))
				return parse_fail(pc, "to must be a string or an array of strings");
			len += (size_t)snprintf(r->to + len, sizeof(r->to) - len, "%s%s",
						len ? ", " : "", e->valuestring);
			if (len >= sizeof(r->to))
				return parse_fail(pc, "to is longer than %zu characters", sizeof(r->to) - 1);
		}
	} else {
		err = get_str(pc, o, "to", r->to, sizeof(r->to));
		if (err < 0)
			return err;
	}
	if (!r->to[0])
		return parse_fail(pc, "to is required");
	snprintf(buf, sizeof(buf), "%s", r->to);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (!notify__mail_address(tok, addr, sizeof(addr)))
			return parse_fail(pc, "to: '%s' is not a mail address", tok);
	return 0;
}

static void receiver_defaults(struct receiver *r)
{
	r->send_resolved = true;
	r->rate_per_s = r->type == RECV_SLACK ? SLACK_RATE : DEFAULT_RATE;
	r->burst = r->type == RECV_SLACK ? SLACK_BURST : DEFAULT_BURST;
	r->timeout_ms = DEFAULT_TIMEOUT_MS;
	r->max_age_ms = DEFAULT_MAX_AGE_MS;
	r->resend_ms = r->type == RECV_ALERTMANAGER ? DEFAULT_RESEND_MS : 0;
	if (r->type == RECV_PAGERDUTY)
		snprintf(r->url, sizeof(r->url), "%s", PAGERDUTY_URL);
}

static int parse_receiver(struct parse_ctx *pc, const cJSON *o, struct receiver *r)
{
	static const char *const http_schemes[] = { "http://", "https://", NULL };
	static const char *const smtp_schemes[] = { "smtp://", "smtps://", NULL };
	char type[32] = "", addr[256];
	const cJSON *v, *e;
	bool has_url;
	int err, t;

	memset(r, 0, sizeof(*r));
	err = get_str(pc, o, "name", r->name, sizeof(r->name));
	if (err == 0)
		return parse_fail(pc, "name is required");
	if (err < 0 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "name")))
		return parse_fail(pc, "name must be 1-63 characters of A-Z a-z 0-9 _ . -");
	if (err < 0)
		return err;
	if (!valid_receiver_name(r->name))
		return parse_fail(pc, "name '%s' must be 1-63 characters of A-Z a-z 0-9 _ . -", r->name);
	snprintf(pc->who, sizeof(pc->who), "%s", r->name);

	err = get_str(pc, o, "type", type, sizeof(type));
	if (err < 0)
		return err;
	if (!err)
		return parse_fail(pc, "type is required (webhook, alertmanager, pagerduty, slack or email)");
	for (t = 0; t < (int)ARRAY_SIZE(type_names); t++)
		if (!strcmp(type, type_names[t]))
			break;
	if (t == (int)ARRAY_SIZE(type_names))
		return parse_fail(pc, "unknown type '%s' (webhook, alertmanager, pagerduty, slack or email)", type);
	r->type = (enum receiver_type)t;
	receiver_defaults(r);

	cJSON_ArrayForEach(v, o) {
		const struct receiver_key *k = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(receiver_keys) && !k; i++)
			if (v->string && !strcmp(v->string, receiver_keys[i].name))
				k = &receiver_keys[i];
		if (!k)
			return parse_fail(pc, "unknown key '%s'", v->string ? v->string : "");
		if (!(k->types & T(r->type)))
			return parse_fail(pc, "key '%s' does not apply to %s receivers", k->name, type);
	}

	err = get_str(pc, o, "url", r->url, sizeof(r->url));
	if (err < 0)
		return err;
	has_url = err > 0;
	v = cJSON_GetObjectItemCaseSensitive(o, "urls");
	if (v) {
		/* one Alertmanager per receiver: a cluster is several receivers */
		if (has_url)
			return parse_fail(pc, "give url or urls, not both");
		e = cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1 ? cJSON_GetArrayItem(v, 0) : NULL;
		if (!cJSON_IsString(e))
			return parse_fail(pc, "urls must be an array of one URL (one receiver per Alertmanager)");
		if (strlen(e->valuestring) >= sizeof(r->url) || has_control(e->valuestring))
			return parse_fail(pc, "urls[0] is not a valid URL");
		snprintf(r->url, sizeof(r->url), "%s", e->valuestring);
		has_url = true;
	}
	if (r->type == RECV_EMAIL) {
		if (!has_url || !url_has_scheme(r->url, smtp_schemes))
			return parse_fail(pc, "url must be an smtp:// or smtps:// URL");
	} else {
		if (!has_url && r->type != RECV_PAGERDUTY)
			return parse_fail(pc, "url is required");
		if (!url_has_scheme(r->url, http_schemes))
			return parse_fail(pc, "url must start with http:// or https://");
	}

	err = get_str(pc, o, "secret", r->secret, sizeof(r->secret));
	if (err < 0)
		return err;
	err = get_str(pc, o, "routing_key", r->routing_key, sizeof(r->routing_key));
	if (err < 0 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "routing_key")))
		return parse_fail(pc, "routing_key must be 32 characters");
	if (err < 0)
		return err;
	if (r->type == RECV_PAGERDUTY && !err)
		return parse_fail(pc, "routing_key is required");
	if (r->type == RECV_PAGERDUTY && strlen(r->routing_key) != 32)
		return parse_fail(pc, "routing_key must be 32 characters");

	if (r->type == RECV_EMAIL) {
		err = get_str(pc, o, "from", r->from, sizeof(r->from));
		if (err < 0)
			return err;
		if (!err || !r->from[0])
			return parse_fail(pc, "from is required");
		if (!notify__mail_address(r->from, addr, sizeof(addr)))
			return parse_fail(pc, "from: '%s' is not a mail address", r->from);
		err = get_recipients(pc, o, r);
		if (err)
			return err;
	}

	v = cJSON_GetObjectItemCaseSensitive(o, "send_resolved");
	if (v && !cJSON_IsBool(v))
		return parse_fail(pc, "send_resolved must be true or false");
	if (v)
		r->send_resolved = cJSON_IsTrue(v);
	v = cJSON_GetObjectItemCaseSensitive(o, "rate_per_second");
	if (v && (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0))
		return parse_fail(pc, "rate_per_second must be a number above 0");
	if (v)
		r->rate_per_s = v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(o, "burst");
	if (v && (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
		  v->valuedouble < 1 || v->valuedouble > 1000000))
		return parse_fail(pc, "burst must be a whole number of at least 1");
	if (v)
		r->burst = (int)v->valuedouble;
	err = get_duration(pc, o, "timeout", &r->timeout_ms);
	if (err < 0)
		return err;
	/* the sender has one thread: an attempt must not hold the others up for long */
	if (r->timeout_ms > MAX_TIMEOUT_MS)
		return parse_fail(pc, "timeout must be at most 10m");
	err = get_duration(pc, o, "max_age", &r->max_age_ms);
	if (err < 0)
		return err;
	err = get_duration(pc, o, "resend_interval", &r->resend_ms);
	return err < 0 ? err : 0;
}

int receivers__parse(const cJSON *array, struct receiver *out, int max, char *err, size_t errlen)
{
	struct parse_ctx pc = { .err = err, .errlen = errlen };
	const cJSON *o;
	int n = 0, ret;

	if (err && errlen)
		err[0] = '\0';
	if (!array)
		return 0;
	if (!cJSON_IsArray(array)) {
		snprintf(err, errlen, "receivers must be an array");
		return -EINVAL;
	}
	if (cJSON_GetArraySize(array) > max) {
		snprintf(err, errlen, "too many receivers (at most %d)", max);
		return -EINVAL;
	}
	cJSON_ArrayForEach(o, array) {
		snprintf(pc.who, sizeof(pc.who), "#%d", n + 1);
		if (!cJSON_IsObject(o))
			return parse_fail(&pc, "must be an object");
		ret = parse_receiver(&pc, o, &out[n]);
		if (ret)
			return ret;
		if (receivers__find(out, n, out[n].name))
			return parse_fail(&pc, "name is used by another receiver");
		n++;
	}
	return n;
}

/* Credentials in a URL (user:pass@) are not shown. */
static void url_without_userinfo(const char *url, char *out, size_t size)
{
	const char *host = strstr(url, "://"), *at, *end;

	if (!host) {
		snprintf(out, size, "%s", url);
		return;
	}
	host += 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (!at)
		snprintf(out, size, "%s", url);
	else
		snprintf(out, size, "%.*s***@%s", (int)(host - url), url, at + 1);
}

cJSON *receiver__to_json(const struct receiver *r)
{
	cJSON *o = cJSON_CreateObject();
	char url[sizeof(r->url) + 8], d[32];
	const char *host, *path;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", r->name);
	cJSON_AddStringToObject(o, "type", receiver__type_name(r->type));
	url_without_userinfo(r->url, url, sizeof(url));
	/* a Slack webhook URL is its own secret: keep the host only */
	if (r->type == RECV_SLACK && (host = strstr(url, "://")) && (path = strchr(host + 3, '/')))
		snprintf(url + (path - url), sizeof(url) - (size_t)(path - url), "/***");
	cJSON_AddStringToObject(o, "url", url);
	if (r->type == RECV_WEBHOOK)
		cJSON_AddStringToObject(o, "secret", r->secret[0] ? "***" : "");
	if (r->type == RECV_PAGERDUTY) {
		size_t len = strlen(r->routing_key);

		snprintf(d, sizeof(d), "***%s", len > 4 ? r->routing_key + len - 4 : "");
		cJSON_AddStringToObject(o, "routing_key", d);
	}
	if (r->type == RECV_EMAIL) {
		cJSON_AddStringToObject(o, "from", r->from);
		cJSON_AddStringToObject(o, "to", r->to);
	}
	cJSON_AddBoolToObject(o, "send_resolved", r->send_resolved);
	cJSON_AddNumberToObject(o, "rate_per_second", r->rate_per_s);
	cJSON_AddNumberToObject(o, "burst", r->burst);
	duration__format(r->timeout_ms, d, sizeof(d));
	cJSON_AddStringToObject(o, "timeout", d);
	duration__format(r->max_age_ms, d, sizeof(d));
	cJSON_AddStringToObject(o, "max_age", d);
	if (r->type == RECV_ALERTMANAGER) {
		duration__format(r->resend_ms, d, sizeof(d));
		cJSON_AddStringToObject(o, "resend_interval", d);
	}
	return o;
}
