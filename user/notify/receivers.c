// SPDX-License-Identifier: MIT
/* Notification receivers: the table of their types, the config file's "receivers" validated, their view in the API. */
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

/* One table entry per type: RECEIVER_TYPES in notify_int.h. */
#define RECEIVER_TYPE_ENTRY(name) &name##_receiver,
static const struct receiver_ops *const receiver_types[] = { RECEIVER_TYPES(RECEIVER_TYPE_ENTRY) };
#undef RECEIVER_TYPE_ENTRY

/* The keys every receiver object may have; each type adds its own (receiver_ops.keys). */
static const char *const common_keys[] = {
	"name", "type", "url", "send_resolved", "rate_per_second", "burst", "timeout", "max_age", NULL,
};

const char *receiver__type_name(const struct receiver *r)
{
	return r && r->ops ? r->ops->type : "unknown";
}

bool receiver__can(const struct receiver *r, enum receiver_cap cap)
{
	return r && r->ops && (r->ops->caps & cap);
}

bool receiver__sends_resolved(const struct receiver *r)
{
	return receiver__can(r, RECEIVER_RESOLVES) && r->send_resolved;
}

const struct receiver *receivers__find(const struct receiver *rs, int n, const char *name)
{
	for (int i = 0; rs && name && i < n; i++)
		if (!strcmp(rs[i].name, name))
			return &rs[i];
	return NULL;
}

/* Names for the messages of one receiver: its name, or its position until it has a valid one. */
struct receiver_parse {
	char who[RECEIVER_NAME_LEN + 8];
	char *err;
	size_t errlen;
};

int receiver_parse__fail(struct receiver_parse *pc, const char *fmt, ...)
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

bool notify__has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int receiver_parse__str(struct receiver_parse *pc, const cJSON *o, const char *key, char *dst, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return 0;
	if (!cJSON_IsString(v) || !v->valuestring)
		return receiver_parse__fail(pc, "%s must be a string", key);
	if (strlen(v->valuestring) >= size)
		return receiver_parse__fail(pc, "%s is longer than %zu characters", key, size - 1);
	if (notify__has_control(v->valuestring))
		return receiver_parse__fail(pc, "%s contains control characters", key);
	snprintf(dst, size, "%s", v->valuestring);
	return 1;
}

int receiver_parse__duration(struct receiver_parse *pc, const cJSON *o, const char *key, __u64 *ms)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	__u64 val;

	if (!v)
		return 0;
	if (duration__from_json(v, &val))
		return receiver_parse__fail(pc, "%s must be a duration such as \"10s\"", key);
	if (!val)
		return receiver_parse__fail(pc, "%s must be more than 0", key);
	*ms = val;
	return 1;
}

bool notify__url_has_scheme(const char *url, const char *const *schemes)
{
	for (; *schemes; schemes++) {
		size_t len = strlen(*schemes);

		if (!strncasecmp(url, *schemes, len) && url[len])
			return true;
	}
	return false;
}

int receiver_parse__http_url(struct receiver_parse *pc, const cJSON *o, struct receiver *r, bool required)
{
	static const char *const schemes[] = { "http://", "https://", NULL };
	int err = o ? receiver_parse__str(pc, o, "url", r->url, sizeof(r->url)) : 1;

	if (err < 0)
		return err;
	if (!err && required)
		return receiver_parse__fail(pc, "url is required");
	if (!notify__url_has_scheme(r->url, schemes))
		return receiver_parse__fail(pc, "url must start with http:// or https://");
	return err;
}

/* Lists the types as "webhook, alertmanager, pagerduty, slack or email". */
static void type_names(char *out, size_t size)
{
	size_t len = 0, n = ARRAY_SIZE(receiver_types);

	out[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? (i + 1 < n ? ", " : " or ") : "",
					receiver_types[i]->type);
}

static bool key_of(const char *const *keys, const char *name)
{
	for (; keys && *keys; keys++)
		if (!strcmp(*keys, name))
			return true;
	return false;
}

static int parse_receiver(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	char type[32] = "", names[128];
	const cJSON *v;
	int err;

	memset(r, 0, sizeof(*r));
	err = receiver_parse__str(pc, o, "name", r->name, sizeof(r->name));
	if (err == 0)
		return receiver_parse__fail(pc, "name is required");
	if (err < 0 && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "name")))
		return receiver_parse__fail(pc, "name must be 1-63 characters of A-Z a-z 0-9 _ . -");
	if (err < 0)
		return err;
	if (!valid_receiver_name(r->name))
		return receiver_parse__fail(pc, "name '%s' must be 1-63 characters of A-Z a-z 0-9 _ . -", r->name);
	snprintf(pc->who, sizeof(pc->who), "%s", r->name);

	type_names(names, sizeof(names));
	err = receiver_parse__str(pc, o, "type", type, sizeof(type));
	if (err < 0)
		return err;
	if (!err)
		return receiver_parse__fail(pc, "type is required (%s)", names);
	for (size_t t = 0; t < ARRAY_SIZE(receiver_types) && !r->ops; t++)
		if (!strcmp(type, receiver_types[t]->type))
			r->ops = receiver_types[t];
	if (!r->ops)
		return receiver_parse__fail(pc, "unknown type '%s' (%s)", type, names);

	r->send_resolved = true;
	r->rate_per_s = r->ops->rate_per_s ? r->ops->rate_per_s : DEFAULT_RATE;
	r->burst = r->ops->burst ? r->ops->burst : DEFAULT_BURST;
	r->timeout_ms = DEFAULT_TIMEOUT_MS;
	r->max_age_ms = DEFAULT_MAX_AGE_MS;
	if (r->ops->defaults)
		r->ops->defaults(r);

	cJSON_ArrayForEach(v, o) {
		const char *key = v->string ? v->string : "";
		bool any_type = false;

		if (key_of(common_keys, key) || key_of(r->ops->keys, key))
			continue;
		for (size_t t = 0; t < ARRAY_SIZE(receiver_types) && !any_type; t++)
			any_type = key_of(receiver_types[t]->keys, key);
		if (!any_type)
			return receiver_parse__fail(pc, "unknown key '%s'", key);
		return receiver_parse__fail(pc, "key '%s' does not apply to %s receivers", key, type);
	}

	err = r->ops->parse(pc, o, r);
	if (err)
		return err;

	v = cJSON_GetObjectItemCaseSensitive(o, "send_resolved");
	if (v && !cJSON_IsBool(v))
		return receiver_parse__fail(pc, "send_resolved must be true or false");
	if (v)
		r->send_resolved = cJSON_IsTrue(v);
	v = cJSON_GetObjectItemCaseSensitive(o, "rate_per_second");
	if (v && (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0))
		return receiver_parse__fail(pc, "rate_per_second must be a number above 0");
	if (v)
		r->rate_per_s = v->valuedouble;
	v = cJSON_GetObjectItemCaseSensitive(o, "burst");
	if (v && (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
		  v->valuedouble < 1 || v->valuedouble > 1000000))
		return receiver_parse__fail(pc, "burst must be a whole number of at least 1");
	if (v)
		r->burst = (int)v->valuedouble;
	err = receiver_parse__duration(pc, o, "timeout", &r->timeout_ms);
	if (err < 0)
		return err;
	/* the sender has one thread: an attempt must not hold the others up for long */
	if (r->timeout_ms > MAX_TIMEOUT_MS)
		return receiver_parse__fail(pc, "timeout must be at most 10m");
	err = receiver_parse__duration(pc, o, "max_age", &r->max_age_ms);
	return err < 0 ? err : 0;
}

int receivers__parse(const cJSON *array, struct receiver *out, int max, char *err, size_t errlen)
{
	struct receiver_parse pc = { .err = err, .errlen = errlen };
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
			return receiver_parse__fail(&pc, "must be an object");
		ret = parse_receiver(&pc, o, &out[n]);
		if (ret)
			return ret;
		if (receivers__find(out, n, out[n].name))
			return receiver_parse__fail(&pc, "name is used by another receiver");
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
	cJSON_AddStringToObject(o, "type", receiver__type_name(r));
	url_without_userinfo(r->url, url, sizeof(url));
	if (r->ops->url_is_secret && (host = strstr(url, "://")) && (path = strchr(host + 3, '/')))
		snprintf(url + (path - url), sizeof(url) - (size_t)(path - url), "/***");
	cJSON_AddStringToObject(o, "url", url);
	if (r->ops->view)
		r->ops->view(r, o);
	cJSON_AddBoolToObject(o, "send_resolved", r->send_resolved);
	cJSON_AddNumberToObject(o, "rate_per_second", r->rate_per_s);
	cJSON_AddNumberToObject(o, "burst", r->burst);
	duration__format(r->timeout_ms, d, sizeof(d));
	cJSON_AddStringToObject(o, "timeout", d);
	duration__format(r->max_age_ms, d, sizeof(d));
	cJSON_AddStringToObject(o, "max_age", d);
	return o;
}
