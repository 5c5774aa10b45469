// SPDX-License-Identifier: MIT
/* Notifications: receivers from the config, each receiver type's payload, and the sender thread draining the outbox. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include "log.h"
#include "notify.h"
#include "store.h"
#include "version.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define PAGERDUTY_URL		"https://events.pagerduty.com/v2/enqueue"
#define ZERO_TIME		"0001-01-01T00:00:00Z"
#define PD_SUMMARY_MAX		1024		/* characters, PagerDuty's limit */
#define PD_BODY_MAX		512000		/* bytes, PagerDuty's limit */
#define PD_LINKS_MAX		10
#define SLACK_SUMMARIES_MAX	5

#define DEFAULT_RATE		10.0
#define DEFAULT_BURST		5
#define SLACK_RATE		1.0		/* Slack allows about one message per second */
#define SLACK_BURST		1
#define DEFAULT_TIMEOUT_MS	10000ULL
#define MAX_TIMEOUT_MS		600000ULL
#define DEFAULT_MAX_AGE_MS	(24 * 3600 * 1000ULL)
#define DEFAULT_RESEND_MS	60000ULL
#define CONNECT_TIMEOUT_MS	5000ULL

/* Full-jitter exponential backoff: random(0, min(cap, base * 2^(attempt - 1))), never below the floor. */
#define BACKOFF_BASE_MS		1000ULL
#define BACKOFF_CAP_MS		300000ULL
#define BACKOFF_FLOOR_MS	100ULL
#define RETRY_AFTER_MAX_MS	3600000ULL
/* The sender looks at the outbox at least this often, even without a kick. */
#define POLL_MS			1000ULL
#define ERROR_BODY_MAX		200

/* ---- receivers ---- */

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
	if (cJSON_IsNumber(v)) {
		if (!isfinite(v->valuedouble) || v->valuedouble < 0 || v->valuedouble > 1e12)
			return parse_fail(pc, "%s must be a duration such as \"10s\"", key);
		val = (__u64)llround(v->valuedouble * 1000);
	} else if (!cJSON_IsString(v) || duration__parse(v->valuestring, &val)) {
		return parse_fail(pc, "%s must be a duration such as \"10s\"", key);
	}
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
static bool mail_address(const char *text, char *out, size_t size)
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
		if (!mail_address(tok, addr, sizeof(addr)))
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
		if (!mail_address(r->from, addr, sizeof(addr)))
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

/* ---- identifiers and signatures ---- */

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
static void random_bytes(void *buf, size_t n)
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

	random_bytes(b, sizeof(b));
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
static void signature(const char *secret, const char *body, char *out, size_t size)
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

/* cJSON builders that remember an allocation failure, so that a body is never sent incomplete. */
static cJSON *j_add(cJSON *obj, const char *key, cJSON *item, bool *ok)
{
	if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		*ok = false;
		return NULL;
	}
	return item;
}

static cJSON *j_push(cJSON *arr, cJSON *item, bool *ok)
{
	if (!item || !arr || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		*ok = false;
		return NULL;
	}
	return item;
}

static void j_str(cJSON *o, const char *key, const char *v, bool *ok)
{
	j_add(o, key, cJSON_CreateString(v ? v : ""), ok);
}

static void j_num(cJSON *o, const char *key, double v, bool *ok)
{
	j_add(o, key, cJSON_CreateNumber(v), ok);
}

static void j_bool(cJSON *o, const char *key, bool v, bool *ok)
{
	j_add(o, key, cJSON_CreateBool(v), ok);
}

static void j_time(cJSON *o, const char *key, __u64 ms, bool *ok)
{
	char t[40];

	fmt_time(ms, t, sizeof(t));
	j_str(o, key, t, ok);
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
	j_str(root, "version", "4", ok);
	j_str(root, "groupKey", g->group_key, ok);
	j_num(root, "truncatedAlerts", 0, ok);
	j_str(root, "status", firing_count(g) ? "firing" : "resolved", ok);
	j_str(root, "receiver", r->name, ok);
	j_add(root, "groupLabels", labels__to_json(&g->group_labels), ok);
	j_add(root, "commonLabels", common_json(g, false), ok);
	j_add(root, "commonAnnotations", common_json(g, true), ok);
	dash_url(g, "", NULL, url, sizeof(url));
	j_str(root, "externalURL", url, ok);
	alerts = j_add(root, "alerts", cJSON_CreateArray(), ok);
	ww = j_add(root, "workerwatch", cJSON_CreateObject(), ok);
	j_num(ww, "schema", 1, ok);
	j_str(ww, "delivery_id", delivery_id, ok);
	j_num(ww, "sequence", (double)g->sequence, ok);
	ww_alerts = j_add(ww, "alerts", cJSON_CreateObject(), ok);
	for (int i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];
		cJSON *o = j_push(alerts, cJSON_CreateObject(), ok), *x;

		dash_url(g, "/#/alerts/", a->fingerprint, url, sizeof(url));
		j_str(o, "status", alert_firing(a) ? "firing" : "resolved", ok);
		j_add(o, "labels", labels__to_json(&a->labels), ok);
		j_add(o, "annotations", labels__to_json(&a->annotations), ok);
		j_time(o, "startsAt", a->starts_ms, ok);
		/* Alertmanager does not expose an end that has not come yet */
		j_time(o, "endsAt", alert_firing(a) ? 0 : a->ends_ms, ok);
		j_str(o, "generatorURL", url, ok);
		j_str(o, "fingerprint", a->fingerprint, ok);

		x = j_add(ww_alerts, a->fingerprint, cJSON_CreateObject(), ok);
		j_num(x, "value", a->value, ok);
		j_num(x, "threshold", a->threshold, ok);
		j_bool(x, "acknowledged", a->acknowledged, ok);
		j_str(x, "acked_by", a->acked_by, ok);
		j_str(x, "state", a->state ? a->state : a->status, ok);
		j_bool(x, "silenced", a->silenced, ok);
		j_str(x, "rule_url", url, ok);
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
		cJSON *o = j_push(root, cJSON_CreateObject(), ok);
		/* resolution is an endsAt in the past; a firing alert expires at valid_until unless re-sent */
		__u64 ends = alert_firing(a) ? g->valid_until_ms : a->ends_ms;

		j_add(o, "labels", labels__to_json(&a->labels), ok);
		j_add(o, "annotations", labels__to_json(&a->annotations), ok);
		if (a->starts_ms)
			j_time(o, "startsAt", a->starts_ms, ok);
		if (ends)
			j_time(o, "endsAt", ends, ok);
		dash_url(g, "/#/alerts/", a->fingerprint, url, sizeof(url));
		if (url[0])
			j_str(o, "generatorURL", url, ok);
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
	j_str(root, "routing_key", r->routing_key, ok);
	j_str(root, "event_action", action, ok);
	j_str(root, "dedup_key", dedup, ok);
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

	p = j_add(root, "payload", cJSON_CreateObject(), ok);
	j_str(p, "summary", summary, ok);
	j_str(p, "source", host, ok);
	j_str(p, "severity", sev, ok);
	j_time(p, "timestamp", lead && lead->starts_ms ? lead->starts_ms : g->now_ms, ok);
	if (lead && (v = labels__get(&lead->labels, "agent"))[0])
		j_str(p, "component", v, ok);
	if (lead && (v = labels__get(&lead->labels, "session"))[0])
		j_str(p, "group", v, ok);
	j_str(p, "class", group_alertname(g), ok);
	details = j_add(p, "custom_details", cJSON_CreateObject(), ok);
	list = j_add(details, "alerts", cJSON_CreateArray(), ok);
	for (int i = 0; i < g->nalerts; i++) {
		const struct notify_alert *a = &g->alerts[i];
		cJSON *o = j_push(list, cJSON_CreateObject(), ok);

		j_str(o, "fingerprint", a->fingerprint, ok);
		j_add(o, "labels", labels__to_json(&a->labels), ok);
		j_num(o, "value", a->value, ok);
		j_num(o, "threshold", a->threshold, ok);
		j_str(o, "state", a->state ? a->state : a->status, ok);
	}

	j_str(root, "client", "workerwatch", ok);
	if (lead && (v = labels__get(&lead->labels, "execution_id"))[0])
		dash_url(g, "/#/executions/", v, url, sizeof(url));
	else
		dash_url(g, "/#/alerts", NULL, url, sizeof(url));
	if (!url[0])
		return root;
	j_str(root, "client_url", url, ok);
	links = j_add(root, "links", cJSON_CreateArray(), ok);
	for (int i = 0; i < g->nalerts && i < PD_LINKS_MAX; i++) {
		cJSON *o = j_push(links, cJSON_CreateObject(), ok);

		dash_url(g, "/#/alerts/", g->alerts[i].fingerprint, url, sizeof(url));
		j_str(o, "href", url, ok);
		j_str(o, "text", "workerwatch alert", ok);
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
		j_str(root, "text", b.s, ok);
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

/* ---- the sender ---- */

struct recv_state {
	double tokens;			/* the token bucket */
	__u64 refilled_ms;		/* monotonic */
	struct receiver_stats stats;
};

struct notifier {
	struct store *store;
	const struct receiver *rs;
	int n;
	struct recv_state *st;
	__u64 rng;
	pthread_t thread;
	bool started, curl_ready;
	/* stop is also read by curl's progress callback, without the lock */
	atomic_bool stop;
	bool kicked;
	pthread_mutex_t lock;		/* stats, kicked, the wait */
	pthread_cond_t wake;		/* on CLOCK_MONOTONIC */
};

/* One attempt's outcome. */
struct attempt {
	CURLcode rc;
	long status;			/* HTTP status or SMTP reply, 0 = no answer */
	bool has_retry_after;
	__u64 retry_after_ms;
	char body[ERROR_BODY_MAX + 1];	/* the start of the response */
	size_t body_len;
	char curl_err[CURL_ERROR_SIZE];
};

enum verdict { VERDICT_SENT, VERDICT_RETRY, VERDICT_DEAD };

static __u64 clock_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* Wall-clock milliseconds, rounded up: a delay counted from it is never cut short by the rounding. */
static __u64 real_ms_ceil(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ((__u64)ts.tv_nsec + 999999) / 1000000;
}

/* xorshift64*: jitter needs spread, not secrecy */
static __u64 next_random(struct notifier *n)
{
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return n->rng * 0x2545F4914F6CDD1DULL;
}

static __u64 backoff_ms(struct notifier *n, int attempts)
{
	int shift = attempts > 1 ? attempts - 1 : 0;
	__u64 ceiling = shift >= 20 ? BACKOFF_CAP_MS : BACKOFF_BASE_MS << shift, d;

	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	d = next_random(n) % (ceiling + 1);
	return d < BACKOFF_FLOOR_MS ? BACKOFF_FLOOR_MS : d;
}

/* Takes a token of r's bucket; otherwise how long until there is one. */
static bool bucket_take(struct recv_state *st, const struct receiver *r, __u64 *wait_ms)
{
	double rate = r->rate_per_s > 0 ? r->rate_per_s : DEFAULT_RATE;
	double burst = r->burst >= 1 ? r->burst : 1;
	__u64 now = clock_ms(CLOCK_MONOTONIC);

	st->tokens += (double)(now - st->refilled_ms) * rate / 1000.0;
	if (st->tokens > burst)
		st->tokens = burst;
	st->refilled_ms = now;
	if (st->tokens >= 1.0) {
		st->tokens -= 1.0;
		return true;
	}
	*wait_ms = (__u64)ceil((1.0 - st->tokens) * 1000.0 / rate);
	if (!*wait_ms)
		*wait_ms = 1;
	return false;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct attempt *a = ctx;
	size_t n = size * nmemb, room = ERROR_BODY_MAX - a->body_len;

	/* only the start is kept, for the error message; the rest is read and dropped */
	if (room) {
		memcpy(a->body + a->body_len, ptr, n < room ? n : room);
		a->body_len += n < room ? n : room;
		a->body[a->body_len] = '\0';
	}
	return n;
}

/* Retry-After: seconds, or an HTTP date. */
static void parse_retry_after(struct attempt *a, const char *v)
{
	__u64 ms, now;
	char *end;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		ms = strtoull(v, &end, 10);
		if (errno || (*end && *end != '\r' && *end != '\n' && *end != ' '))
			return;
		ms = ms > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : ms * 1000;
	} else {
		char date[128];

		snprintf(date, sizeof(date), "%.*s", (int)strcspn(v, "\r\n"), v);
		t = curl_getdate(date, NULL);
		if (t < 0)
			return;
		now = clock_ms(CLOCK_REALTIME);
		ms = (__u64)t * 1000 > now ? (__u64)t * 1000 - now : 0;
	}
	a->has_retry_after = true;
	a->retry_after_ms = ms > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : ms;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct attempt *a = ctx;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	char line[256];

	/* a new response (after 100 Continue) starts over */
	if (n >= 5 && !strncmp(ptr, "HTTP/", 5))
		a->has_retry_after = false;
	if (n > sizeof(name) - 1 && n < sizeof(line) && !strncasecmp(ptr, name, sizeof(name) - 1)) {
		memcpy(line, ptr, n);
		line[n] = '\0';
		parse_retry_after(a, line + sizeof(name) - 1);
	}
	return n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct notifier *n = ctx;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(&n->stop) ? 1 : 0;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct upload *u = ctx;
	size_t n = size * nitems;

	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

/* Options of every attempt: bounded in time, no proxy from the environment, no redirects, abortable on stop. */
static void common_options(struct notifier *n, CURL *c, const struct receiver *r, struct attempt *a)
{
	__u64 timeout = r->timeout_ms ? r->timeout_ms : DEFAULT_TIMEOUT_MS;
	__u64 connect = timeout < CONNECT_TIMEOUT_MS ? timeout : CONNECT_TIMEOUT_MS;

	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->curl_err);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
}

/* Appends to a header list, which stays as it was when memory runs out. */
static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (l)
		*list = l;
	return l != NULL;
}

static void deliver_http(struct notifier *n, CURL *c, const struct receiver *r, const struct outbox_row *row,
			 struct attempt *a)
{
	struct curl_slist *headers = NULL;
	char url[sizeof(r->url) + 32], line[200], sig[2 * EVP_MAX_MD_SIZE + 16];
	size_t len = strlen(r->url);
	bool ok;

	snprintf(url, sizeof(url), "%s", r->url);
	if (r->type == RECV_ALERTMANAGER) {
		while (len && url[len - 1] == '/')
			len--;
		snprintf(url + len, sizeof(url) - len, "/api/v2/alerts");
	}
	/* "Expect:" turns off 100-continue, which some receivers do not answer */
	ok = add_header(&headers, "Content-Type: application/json") && add_header(&headers, "Expect:");
	snprintf(line, sizeof(line), "X-Workerwatch-Delivery: %s", row->delivery_id);
	ok = ok && add_header(&headers, line);
	if (ok && r->type == RECV_WEBHOOK && r->secret[0]) {
		signature(r->secret, row->payload, sig, sizeof(sig));
		snprintf(line, sizeof(line), "X-Workerwatch-Signature: %s", sig);
		ok = add_header(&headers, line);
	}
	if (!ok) {
		a->rc = CURLE_OUT_OF_MEMORY;
		goto cleanup;
	}
	common_options(n, c, r, a);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "workerwatch/" WORKERWATCH_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, row->payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(row->payload));
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	a->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
cleanup:
	curl_slist_free_all(headers);
}

static void deliver_email(struct notifier *n, CURL *c, const struct receiver *r, const struct outbox_row *row,
			  struct attempt *a)
{
	struct upload up = { .data = row->payload, .len = strlen(row->payload) };
	struct curl_slist *rcpt = NULL;
	char to[sizeof(r->to)], addr[256], line[260], *save = NULL;

	snprintf(to, sizeof(to), "%s", r->to);
	for (char *tok = strtok_r(to, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!mail_address(tok, addr, sizeof(addr)))
			continue;
		snprintf(line, sizeof(line), "<%s>", addr);
		if (!add_header(&rcpt, line)) {
			a->rc = CURLE_OUT_OF_MEMORY;
			goto cleanup;
		}
	}
	if (!mail_address(r->from, addr, sizeof(addr)))
		addr[0] = '\0';
	snprintf(line, sizeof(line), "<%s>", addr);
	common_options(n, c, r, a);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* STARTTLS when the server offers it */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, line);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
	a->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
cleanup:
	curl_slist_free_all(rcpt);
}

static enum verdict classify(const struct receiver *r, const struct attempt *a)
{
	/* a configuration that can never work */
	if (a->rc == CURLE_URL_MALFORMAT || a->rc == CURLE_UNSUPPORTED_PROTOCOL)
		return VERDICT_DEAD;
	if (r->type == RECV_EMAIL) {
		if (a->rc == CURLE_OK)
			return VERDICT_SENT;
		/* SMTP: 5xx is permanent, 4xx and lost connections are worth another try */
		return a->status >= 500 && a->status < 600 ? VERDICT_DEAD : VERDICT_RETRY;
	}
	if (a->rc != CURLE_OK)
		return VERDICT_RETRY;
	if (a->status >= 200 && a->status < 300)
		return VERDICT_SENT;
	if (a->status == 408 || a->status == 429 || (a->status >= 500 && a->status < 600))
		return VERDICT_RETRY;
	return VERDICT_DEAD;
}

/* One line on what went wrong: the status and the start of the answer, or the transport error. */
static void describe(const struct receiver *r, const struct attempt *a, char *out, size_t size)
{
	char body[ERROR_BODY_MAX + 1];
	size_t i;

	if (r->type != RECV_EMAIL && a->rc == CURLE_OK) {
		for (i = 0; i < a->body_len; i++)
			body[i] = (unsigned char)a->body[i] < 0x20 ? ' ' : a->body[i];
		body[i] = '\0';
		snprintf(out, size, "HTTP %ld%s%s", a->status, i ? ": " : "", body);
		return;
	}
	snprintf(out, size, "%s", a->curl_err[0] ? a->curl_err : curl_easy_strerror(a->rc));
	out[strcspn(out, "\r\n")] = '\0';
}

static void record(struct notifier *n, int idx, enum verdict v, int status, const char *error,
		   const struct outbox_row *row, __u64 now)
{
	struct receiver_stats *s = &n->st[idx].stats;

	pthread_mutex_lock(&n->lock);
	s->last_status = status;
	if (v == VERDICT_SENT) {
		s->sent++;
		s->last_success_ms = now;
		s->latency_sum_s += now > row->created_ms ? (double)(now - row->created_ms) / 1000.0 : 0;
		s->last_error[0] = '\0';
	} else {
		if (v == VERDICT_RETRY)
			s->retries++;
		else
			s->dead++;
		s->last_failure_ms = now;
		snprintf(s->last_error, sizeof(s->last_error), "%s", error);
	}
	pthread_mutex_unlock(&n->lock);
}

/* Sends row, the head of receiver idx's queue, once, and records the result; false if the store failed. */
static bool attempt(struct notifier *n, int idx, const struct outbox_row *row)
{
	const struct receiver *r = &n->rs[idx];
	__u64 now, next, max_age = r->max_age_ms ? r->max_age_ms : DEFAULT_MAX_AGE_MS;
	int attempts = row->attempts + 1, err;
	char error[256] = "";
	const char *state;
	struct attempt a = {};
	enum verdict v;
	CURL *c;

	c = curl_easy_init();
	if (!c) {
		a.rc = CURLE_OUT_OF_MEMORY;
	} else {
		if (r->type == RECV_EMAIL)
			deliver_email(n, c, r, row, &a);
		else
			deliver_http(n, c, r, row, &a);
		curl_easy_cleanup(c);
	}
	/* stopping: the row stays as it was, to be sent after the restart */
	if (a.rc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&n->stop))
		return true;
	now = real_ms_ceil();
	v = classify(r, &a);
	if (v != VERDICT_SENT)
		describe(r, &a, error, sizeof(error));
	/* a clock set back leaves created_ms in the future: that row is young, not ancient */
	if (v == VERDICT_RETRY && now > row->created_ms && now - row->created_ms >= max_age) {
		char last[sizeof(error)], age[32];

		snprintf(last, sizeof(last), "%s", error);
		duration__format(max_age, age, sizeof(age));
		snprintf(error, sizeof(error), "older than max_age %.24s; last attempt: %.190s", age, last);
		v = VERDICT_DEAD;
	}
	next = row->next_attempt_ms;
	if (v == VERDICT_RETRY) {
		/* Retry-After is the least the receiver asked for: honour it rather than the jitter */
		if (a.has_retry_after)
			next = now + (a.retry_after_ms > BACKOFF_FLOOR_MS ? a.retry_after_ms : BACKOFF_FLOOR_MS);
		else
			next = now + backoff_ms(n, attempts);
	}
	state = v == VERDICT_SENT ? "sent" : v == VERDICT_RETRY ? "pending" : "dead";
	err = store__outbox_update(n->store, row->id, state, attempts, next, (int)a.status, error, now);
	if (err)
		ww_err("notify: cannot record the delivery of notification %llu: %s",
		       (unsigned long long)row->id, store__errmsg(n->store));
	record(n, idx, v, (int)a.status, error, row, now);
	if (v == VERDICT_SENT)
		ww_debug("notify: %s: notification %llu delivered (attempt %d)", r->name,
			 (unsigned long long)row->id, attempts);
	else if (v == VERDICT_RETRY)
		ww_info("notify: %s: notification %llu failed (attempt %d), retry in %llu ms: %s", r->name,
			(unsigned long long)row->id, attempts, (unsigned long long)(next - now), error);
	else
		ww_warn("notify: %s: notification %llu given up (attempt %d): %s", r->name,
			(unsigned long long)row->id, attempts, error);
	return !err;
}

static int find_receiver(const struct notifier *n, const char *name)
{
	for (int i = 0; i < n->n; i++)
		if (!strcmp(n->rs[i].name, name))
			return i;
	return -1;
}

static void refresh_pending(struct notifier *n)
{
	struct outbox_count *c = NULL;
	int nc = 0;

	if (store__outbox_counts(n->store, &c, &nc)) {
		ww_warn("notify: cannot count the outbox: %s", store__errmsg(n->store));
		return;
	}
	pthread_mutex_lock(&n->lock);
	for (int i = 0; i < n->n; i++) {
		n->st[i].stats.pending = 0;
		for (int k = 0; k < nc; k++)
			if (!strcmp(c[k].receiver, n->rs[i].name))
				n->st[i].stats.pending = c[k].pending;
	}
	pthread_mutex_unlock(&n->lock);
	free(c);
}

/* Sleeps up to ms, or until a kick or stop. */
static void wait_for_work(struct notifier *n, __u64 ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&n->lock);
	while (!n->kicked && !atomic_load(&n->stop))
		if (pthread_cond_timedwait(&n->wake, &n->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&n->lock);
}

static void *sender_main(void *arg)
{
	struct notifier *n = arg;
	__u64 counted = 0;

	while (!atomic_load(&n->stop)) {
		struct outbox_row *heads = NULL;
		__u64 now, wait_ms = POLL_MS, d;
		bool progressed = false, store_ok = true;
		int nheads = 0, idx;

		/* cleared before reading, so that a kick from now on is not missed */
		pthread_mutex_lock(&n->lock);
		n->kicked = false;
		pthread_mutex_unlock(&n->lock);
		if (store__outbox_heads(n->store, &heads, &nheads)) {
			ww_warn("notify: cannot read the outbox: %s", store__errmsg(n->store));
			store_ok = false;
		}
		now = clock_ms(CLOCK_REALTIME);
		for (int i = 0; i < nheads && !atomic_load(&n->stop); i++) {
			const struct outbox_row *h = &heads[i];

			idx = find_receiver(n, h->receiver);
			if (idx < 0) {
				/* the config changed since it was queued */
				ww_warn("notify: notification %llu: receiver %s is not configured",
					(unsigned long long)h->id, h->receiver);
				store_ok &= !store__outbox_update(n->store, h->id, "dead", h->attempts,
								  h->next_attempt_ms, 0, "receiver not configured",
								  now);
				progressed = true;
				continue;
			}
			if (h->next_attempt_ms > now) {
				d = h->next_attempt_ms - now;
				wait_ms = d < wait_ms ? d : wait_ms;
				continue;
			}
			if (!bucket_take(&n->st[idx], &n->rs[idx], &d)) {
				wait_ms = d < wait_ms ? d : wait_ms;
				continue;
			}
			store_ok &= attempt(n, idx, h);
			progressed = true;
			now = clock_ms(CLOCK_REALTIME);
		}
		outbox_rows__free(heads, nheads);
		if (!progressed || clock_ms(CLOCK_MONOTONIC) - counted >= POLL_MS) {
			refresh_pending(n);
			counted = clock_ms(CLOCK_MONOTONIC);
		}
		/* the next heads may be due at once; a failing store is not hammered */
		if (progressed && store_ok)
			continue;
		wait_for_work(n, store_ok ? wait_ms : POLL_MS);
	}
	return NULL;
}

struct notifier *notifier__start(struct store *store, const struct receiver *receivers, int n)
{
	struct notifier *nt = NULL;
	pthread_condattr_t ca;
	bool sync_ready = false;
	int err = 0;

	if (!store || n < 0 || (n && !receivers)) {
		errno = EINVAL;
		return NULL;
	}
	nt = calloc(1, sizeof(*nt));
	if (!nt || !(nt->st = calloc(n ? (size_t)n : 1, sizeof(*nt->st)))) {
		err = -ENOMEM;
		goto cleanup;
	}
	nt->store = store;
	nt->rs = receivers;
	nt->n = n;
	atomic_init(&nt->stop, false);
	for (int i = 0; i < n; i++) {
		struct recv_state *st = &nt->st[i];

		st->tokens = receivers[i].burst >= 1 ? receivers[i].burst : 1;
		st->refilled_ms = clock_ms(CLOCK_MONOTONIC);
		snprintf(st->stats.name, sizeof(st->stats.name), "%s", receivers[i].name);
		st->stats.type = receiver__type_name(receivers[i].type);
	}
	random_bytes(&nt->rng, sizeof(nt->rng));
	nt->rng |= 1;	/* xorshift never leaves 0 */
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		err = -EIO;
		goto cleanup;
	}
	nt->curl_ready = true;
	pthread_mutex_init(&nt->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&nt->wake, &ca);
	pthread_condattr_destroy(&ca);
	sync_ready = true;
	err = -pthread_create(&nt->thread, NULL, sender_main, nt);
	if (err)
		goto cleanup;
	nt->started = true;
cleanup:
	if (err) {
		if (sync_ready) {
			pthread_cond_destroy(&nt->wake);
			pthread_mutex_destroy(&nt->lock);
		}
		if (nt && nt->curl_ready)
			curl_global_cleanup();
		if (nt)
			free(nt->st);
		free(nt);
		errno = -err;
		return NULL;
	}
	return nt;
}

void notifier__kick(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->kicked = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
}

int notifier__stats(struct notifier *n, struct receiver_stats *out, int max)
{
	int cnt = 0;

	if (!n || !out)
		return 0;
	pthread_mutex_lock(&n->lock);
	for (; cnt < n->n && cnt < max; cnt++)
		out[cnt] = n->st[cnt].stats;
	pthread_mutex_unlock(&n->lock);
	return cnt;
}

void notifier__stop(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	atomic_store(&n->stop, true);
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	if (n->started)
		pthread_join(n->thread, NULL);
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	if (n->curl_ready)
		curl_global_cleanup();
	free(n->st);
	free(n);
}
