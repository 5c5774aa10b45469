// SPDX-License-Identifier: MIT
/* The alerting API: alerts and their acknowledgements, rules, silences, receivers and the outbox. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cjson/cJSON.h>
#include "alerts/alerts.h"
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "lib/clock.h"
#include "history/store.h"

static const char *const states[] = { "pending", "firing", "resolving", "resolved", "active", NULL };
static const char *const outbox_states[] = { "pending", "sent", "dead", NULL };

static bool one_of(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (!strcmp(v, *allowed))
			return true;
	return false;
}

/* The {id} of the path: an alert fingerprint, 16 hex digits. */
static bool alert_id(const struct http_request *req, struct http_response *resp)
{
	const char *id = req->params[0];
	size_t n = strlen(id);

	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
			n = 0;
	if (n != FINGERPRINT_LEN - 1) {
		http__error(resp, 400, "an alert id is 16 lowercase hex digits, not '%.32s'", id);
		return false;
	}
	return true;
}

/* The daemon's alert engine, or NULL after a 404. */
static struct alerts *engine(void *ctx, struct http_response *resp)
{
	struct alerts *a = daemon__alerts(ctx);

	if (!a)
		http__error(resp, 404, "alerting is not running on this daemon");
	return a;
}

static bool query_in(const struct http_request *req, const char *name, const char *const *allowed,
		     const char **out, struct http_response *resp)
{
	*out = http_request__query(req, name);
	if (*out && (*out)[0] && !one_of(*out, allowed)) {
		http__error(resp, 400, "'%s' must be one of %s", name,
			    allowed == states ? "pending, firing, resolving, resolved, active" : "pending, sent, dead");
		return false;
	}
	return true;
}

void api_alerts__list(void *ctx, const struct http_request *req, struct http_response *resp)
{
	static const char *const severities[] = { "info", "warning", "critical", NULL };
	struct alerts *a;
	const char *state, *severity = http_request__query(req, "severity"), *rule = http_request__query(req, "rule");
	cJSON *out;

	if (!query_in(req, "state", states, &state, resp) || !(a = engine(ctx, resp)))
		return;
	if (severity && severity[0] && !one_of(severity, severities)) {
		http__error(resp, 400, "'severity' must be info, warning or critical");
		return;
	}
	if (rule && strlen(rule) >= RULE_ID_LEN) {
		http__error(resp, 400, "'rule' is a rule id of at most %d characters", RULE_ID_LEN - 1);
		return;
	}
	out = alerts__list_json(a, state, severity, rule, clock__now_ms());
	api__reply(resp, 200, out);
}

void api_alerts__get(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct alerts *a;
	cJSON *out;

	if (!alert_id(req, resp) || !(a = engine(ctx, resp)))
		return;
	out = alerts__get_json(a, req->params[0], clock__now_ms());
	if (!out) {
		http__error(resp, 404, "no alert %s", req->params[0]);
		return;
	}
	api__reply(resp, 200, out);
}

/* Answers an operation on one alert: the alert after it, 404 or 409 with the reason. */
static void answer(struct alerts *a, const char *id, int err, const char *why, struct http_response *resp)
{
	cJSON *out;

	if (err == -ENOENT) {
		http__error(resp, 404, "no alert %s", id);
		return;
	}
	if (err) {
		http__error(resp, 409, "%s", why);
		return;
	}
	out = alerts__get_json(a, id, clock__now_ms());
	api__reply(resp, 200, out);
}

/* An optional body: absent or empty is an empty object. */
static cJSON *optional_body(const struct http_request *req, struct http_response *resp, const char *const *allowed)
{
	if (!req->body || !req->body_len)
		return cJSON_CreateObject();
	return api__body_object(req, resp, allowed);
}

void api_alerts__ack(void *ctx, const struct http_request *req, struct http_response *resp)
{
	static const char *const allowed[] = { "by", "comment", "expires", "ttl", NULL };
	struct alerts *a;
	char by[64] = "", comment[256] = "", ttl[32] = "", why[256] = "";
	__u64 ttl_ms = 0, now, expires = 0;
	cJSON *body;
	int err;

	if (!alert_id(req, resp) || !(a = engine(ctx, resp)))
		return;
	body = optional_body(req, resp, allowed);
	if (!body)
		return;
	if (!api__string_field(body, "by", false, by, sizeof(by), resp) ||
	    !api__string_field(body, "comment", false, comment, sizeof(comment), resp) ||
	    !api__string_field(body, "expires", false, ttl, sizeof(ttl), resp) ||
	    (!ttl[0] && !api__string_field(body, "ttl", false, ttl, sizeof(ttl), resp)))
		goto out;
	if (ttl[0] && (duration__parse(ttl, &ttl_ms) || !ttl_ms)) {
		http__error(resp, 400, "'expires' must be a duration such as \"2h\", not '%s'", ttl);
		goto out;
	}
	now = clock__now_ms();
	if (ttl_ms)
		expires = now + ttl_ms;
	err = alerts__ack(a, req->params[0], by, comment, expires, now, why, sizeof(why));
	answer(a, req->params[0], err, why, resp);
out:
	cJSON_Delete(body);
}

void api_alerts__unack(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct alerts *a;
	char why[256] = "";
	int err;

	if (!alert_id(req, resp) || !(a = engine(ctx, resp)))
		return;
	err = alerts__unack(a, req->params[0], clock__now_ms(), why, sizeof(why));
	answer(a, req->params[0], err, why, resp);
}

void api_alerts__resolve(void *ctx, const struct http_request *req, struct http_response *resp)
{
	static const char *const allowed[] = { "by", "comment", NULL };
	struct alerts *a;
	char by[64] = "", comment[256] = "", why[256] = "";
	cJSON *body;
	int err;

	if (!alert_id(req, resp) || !(a = engine(ctx, resp)))
		return;
	body = optional_body(req, resp, allowed);
	if (!body)
		return;
	if (!api__string_field(body, "by", false, by, sizeof(by), resp) ||
	    !api__string_field(body, "comment", false, comment, sizeof(comment), resp))
		goto out;
	err = alerts__resolve(a, req->params[0], by, clock__now_ms(), why, sizeof(why));
	answer(a, req->params[0], err, why, resp);
out:
	cJSON_Delete(body);
}

void api_alerts__get_rules(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct alerts *a = engine(ctx, resp);

	(void)req;
	if (a)
		api__reply(resp, 200, alerts__rules_json(a));
}

/* PUT replaces the rules: an array, or {"rules": [...]} as in the config file. */
void api_alerts__put_rules(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct alerts *a;
	cJSON *body, *rules, *out;
	char why[512] = "";
	int err;

	if (!(a = engine(ctx, resp)))
		return;
	body = req->body ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
	rules = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "rules") : body;
	if (!cJSON_IsArray(rules) || (cJSON_IsObject(body) && cJSON_GetArraySize(body) != 1)) {
		http__error(resp, 400, "the body must be an array of rules, or {\"rules\": [...]}");
		cJSON_Delete(body);
		return;
	}
	err = alerts__set_rules(a, rules, why, sizeof(why));
	out = err ? NULL : alerts__rules_json(a);
	cJSON_Delete(body);
	if (err) {
		http__error(resp, err == -EINVAL ? 400 : 500, "%s", why);
		return;
	}
	api__reply(resp, 200, out);
}

void api_alerts__silences(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct alerts *a = engine(ctx, resp);

	(void)req;
	if (a)
		api__reply(resp, 200, alerts__silences_json(a, clock__now_ms()));
}

void api_alerts__add_silence(void *ctx, const struct http_request *req, struct http_response *resp)
{
	static const char *const allowed[] = { "matchers", "startsAt", "endsAt", "duration", "createdBy",
					       "comment", NULL };
	struct alerts *a;
	char id[40], why[256] = "";
	cJSON *body, *out;
	int err;

	if (!(a = engine(ctx, resp)))
		return;
	body = api__body_object(req, resp, allowed);
	if (!body)
		return;
	err = alerts__add_silence(a, body, clock__now_ms(), id, sizeof(id), why, sizeof(why));
	cJSON_Delete(body);
	if (err) {
		http__error(resp, 400, "%s", why);
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "silenceID", id);
	api__reply(resp, 201, out);
}

void api_alerts__expire_silence(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct alerts *a;
	int err;

	if (!(a = engine(ctx, resp)))
		return;
	err = alerts__expire_silence(a, req->params[0], clock__now_ms());
	if (err) {
		http__error(resp, 404, "no silence %.64s", req->params[0]);
		return;
	}
	resp->status = 204;
}

void api_alerts__receivers(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct alerts *a = engine(ctx, resp);

	(void)req;
	if (a)
		api__reply(resp, 200, alerts__receivers_json(a));
}

void api_alerts__test_receiver(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct alerts *a;
	cJSON *out;
	int err;

	if (!(a = engine(ctx, resp)))
		return;
	err = alerts__test_receiver(a, req->params[0], clock__now_ms());
	if (err) {
		http__error(resp, 404, "no receiver %.64s", req->params[0]);
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "queued", req->params[0]);
	api__reply(resp, 202, out);
}

/* Keys whose values are credentials, in any payload a receiver is sent. */
static bool secret_key(const char *k)
{
	static const char *const secrets[] = { "routing_key", "token", "secret", "password", "authorization",
					       "api_key", "apikey", "service_key", NULL };

	for (int i = 0; k && secrets[i]; i++)
		if (!strcasecmp(k, secrets[i]))
			return true;
	return false;
}

/* Masks credentials in a payload as /api/v1/receivers does: "***" and the last 4 characters. */
static void mask_secrets(cJSON *node)
{
	cJSON *it;

	cJSON_ArrayForEach(it, node) {
		if (cJSON_IsString(it) && secret_key(it->string)) {
			size_t len = strlen(it->valuestring);
			char masked[16];

			snprintf(masked, sizeof(masked), "***%s", len > 12 ? it->valuestring + len - 4 : "");
			cJSON_SetValuestring(it, masked);
		} else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
			mask_secrets(it);
		}
	}
}

void api_alerts__notifications(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct store *store = daemon__store(ctx);
	const char *state, *receiver = http_request__query(req, "receiver");
	struct outbox_row *rows = NULL;
	cJSON *out;
	char ts[40];
	int limit, n = 0, err;

	if (!query_in(req, "state", outbox_states, &state, resp) || !api__limit_param(req, 100, &limit, resp))
		return;
	if (receiver && strlen(receiver) >= RECEIVER_NAME_LEN) {
		http__error(resp, 400, "'receiver' is a receiver name of at most %d characters", RECEIVER_NAME_LEN - 1);
		return;
	}
	err = store__outbox_list(store, state && state[0] ? state : NULL, receiver && receiver[0] ? receiver : NULL,
				 limit, &rows, &n);
	if (err) {
		http__error(resp, 500, "history: %s", store__errmsg(store));
		return;
	}
	out = cJSON_CreateArray();
	for (int i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject(), *payload = cJSON_Parse(rows[i].payload);

		cJSON_AddNumberToObject(o, "id", (double)rows[i].id);
		cJSON_AddStringToObject(o, "receiver", rows[i].receiver);
		cJSON_AddStringToObject(o, "group_key", rows[i].group_key);
		cJSON_AddStringToObject(o, "kind", rows[i].kind);
		cJSON_AddStringToObject(o, "delivery_id", rows[i].delivery_id);
		cJSON_AddStringToObject(o, "state", rows[i].state);
		cJSON_AddNumberToObject(o, "attempts", rows[i].attempts);
		cJSON_AddNumberToObject(o, "last_status", rows[i].last_status);
		cJSON_AddStringToObject(o, "last_error", rows[i].last_error);
		clock__rfc3339_ms(rows[i].created_ms, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "created_at", ts);
		if (rows[i].done_ms) {
			clock__rfc3339_ms(rows[i].done_ms, ts, sizeof(ts));
			cJSON_AddStringToObject(o, "done_at", ts);
		}
		if (payload) {
			mask_secrets(payload);
			cJSON_AddItemToObject(o, "payload", payload);
		} else {
			/* not JSON (an email): it carries no credentials */
			cJSON_AddStringToObject(o, "payload", rows[i].payload);
		}
		cJSON_AddItemToArray(out, o);
	}
	outbox_rows__free(rows, n);
	api__reply(resp, 200, out);
}
