// SPDX-License-Identifier: MIT
/* Silences: Alertmanager-shaped matchers with an expiry that mute matching alerts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "alerts/alerts_int.h"
#include "lib/clock.h"
#include "lib/json.h"

bool silence__active(const struct silence *s, __u64 now_ms)
{
	return s->starts <= now_ms && now_ms < s->ends;
}

cJSON *silence__to_json(const struct silence *s, __u64 now_ms)
{
	cJSON *o = cJSON_CreateObject(), *ms = cJSON_AddArrayToObject(o, "matchers");
	char text[LABEL_NAME_LEN + LABEL_VALUE_LEN + 8];

	cJSON_AddStringToObject(o, "id", s->id);
	for (int i = 0; i < s->nr_match; i++) {
		matcher__format(&s->match[i], text, sizeof(text));
		cJSON_AddItemToArray(ms, cJSON_CreateString(text));
	}
	json__time(o, "startsAt", s->starts);
	json__time(o, "endsAt", s->ends);
	cJSON_AddNumberToObject(o, "starts_at_ms", (double)s->starts);
	cJSON_AddNumberToObject(o, "ends_at_ms", (double)s->ends);
	cJSON_AddStringToObject(o, "createdBy", s->created_by);
	cJSON_AddStringToObject(o, "comment", s->comment);
	cJSON_AddStringToObject(o, "status", silence__active(s, now_ms) ? "active" :
				s->starts > now_ms ? "pending" : "expired");
	return o;
}

/* One matcher: "name=\"v\"" text or Alertmanager's {name, value, isRegex, isEqual}. */
static int parse_silence_matcher(const cJSON *m, struct matcher *out, char *err, size_t errlen)
{
	char text[LABEL_NAME_LEN + LABEL_VALUE_LEN * 2 + 8], quoted[LABEL_VALUE_LEN * 2 + 1], *q = quoted;
	const char *op;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(m, "value");
	bool re = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "isRegex"));
	const cJSON *eq = cJSON_GetObjectItemCaseSensitive(m, "isEqual");

	if (cJSON_IsString(m))
		return matcher__parse(out, m->valuestring, err, errlen);
	if (!cJSON_IsString(name) || !cJSON_IsString(value) || strlen(value->valuestring) >= LABEL_VALUE_LEN) {
		snprintf(err, errlen, "each matcher is \"name=\\\"value\\\"\" or {name, value, isRegex, isEqual}");
		return -EINVAL;
	}
	for (const char *c = value->valuestring; *c; c++) {
		if (*c == '"' || *c == '\\')
			*q++ = '\\';
		*q++ = *c;
	}
	*q = 0;
	/* isEqual false negates: = != =~ !~ */
	op = cJSON_IsFalse(eq) ? (re ? "!~" : "!=") : (re ? "=~" : "=");
	snprintf(text, sizeof(text), "%s%s\"%s\"", name->valuestring, op, quoted);
	return matcher__parse(out, text, err, errlen);
}

static __u64 time_of(const cJSON *v, __u64 fallback)
{
	__u64 ms;

	if (cJSON_IsNumber(v))
		return json__u64_of(v);
	if (!cJSON_IsString(v))
		return fallback;
	return clock__parse_rfc3339(v->valuestring, &ms) ? ms : 0;
}

int silence__parse(const cJSON *body, struct silence *s, __u64 now_ms, char *err, size_t errlen)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(body, "matchers"), *m;
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(body, "duration");
	__u64 d;

	memset(s, 0, sizeof(*s));
	if (!cJSON_IsArray(ms) || !cJSON_GetArraySize(ms) || cJSON_GetArraySize(ms) > RULE_MAX_MATCHERS) {
		snprintf(err, errlen, "matchers must be an array of 1 to %d matchers", RULE_MAX_MATCHERS);
		return -EINVAL;
	}
	cJSON_ArrayForEach(m, ms) {
		if (parse_silence_matcher(m, &s->match[s->nr_match], err, errlen))
			goto fail;
		s->nr_match++;
	}
	s->starts = time_of(cJSON_GetObjectItemCaseSensitive(body, "startsAt"), now_ms);
	if (cJSON_IsString(dur)) {
		if (duration__parse(dur->valuestring, &d) || !d) {
			snprintf(err, errlen, "duration must be a positive duration such as \"2h\"");
			goto fail;
		}
		s->ends = s->starts + d;
	} else {
		s->ends = time_of(cJSON_GetObjectItemCaseSensitive(body, "endsAt"), 0);
	}
	if (!s->starts || !s->ends || s->ends <= s->starts || s->ends <= now_ms) {
		snprintf(err, errlen, "a silence needs endsAt (RFC 3339) or duration, ending after it starts and in the future");
		goto fail;
	}
	json__str(body, "createdBy", s->created_by, sizeof(s->created_by));
	json__str(body, "comment", s->comment, sizeof(s->comment));
	return 0;
fail:
	for (int i = 0; i < s->nr_match; i++)
		matcher__free(&s->match[i]);
	s->nr_match = 0;
	return -EINVAL;
}

char *silence__doc(const struct silence *s)
{
	cJSON *o = silence__to_json(s, 0);
	char *text = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	return text;
}

int silence__restore(const char *key, const char *json, void *ctx)
{
	struct alerts *a = ctx;
	cJSON *o = cJSON_Parse(json);
	struct silence *s = &a->silences[a->nr_silences];
	const cJSON *m;
	char err[160];

	if (!o || a->nr_silences >= SILENCES_MAX)
		goto out;
	memset(s, 0, sizeof(*s));
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(o, "matchers"))
		if (s->nr_match < RULE_MAX_MATCHERS && cJSON_IsString(m) &&
		    !matcher__parse(&s->match[s->nr_match], m->valuestring, err, sizeof(err)))
			s->nr_match++;
	snprintf(s->id, sizeof(s->id), "%s", key);
	s->starts = json__u64(o, "starts_at_ms");
	s->ends = json__u64(o, "ends_at_ms");
	json__str(o, "createdBy", s->created_by, sizeof(s->created_by));
	json__str(o, "comment", s->comment, sizeof(s->comment));
	if (s->nr_match)
		a->nr_silences++;
out:
	cJSON_Delete(o);
	return 0;
}

/* Silences, inhibitions and expired acks, recomputed before each use. */

/* Stores s and gives every alert its silenced flag anew. */
static void silence_changed(struct alerts *a, const struct silence *s, __u64 now_ms)
{
	batch__doc(&a->b, "silence", s->id, silence__doc(s));
	for (int b = 0; b < ALERT_BUCKETS; b++)
		for (struct alert *x = a->tab[b]; x; x = x->next)
			alert__update_flags(a, x, now_ms);
	alerts__commit(a, now_ms);
}

int alerts__add_silence(struct alerts *a, const cJSON *body, __u64 now_ms, char *id_out, size_t idlen,
			char *err, size_t errlen)
{
	struct silence *s;

	if (a->nr_silences >= SILENCES_MAX) {
		snprintf(err, errlen, "there are %d silences already", SILENCES_MAX);
		return -EINVAL;
	}
	s = &a->silences[a->nr_silences];
	if (silence__parse(body, s, now_ms, err, errlen))
		return -EINVAL;
	notify__delivery_id(s->id);
	a->nr_silences++;
	snprintf(id_out, idlen, "%s", s->id);
	silence_changed(a, s, now_ms);
	return 0;
}

int alerts__expire_silence(struct alerts *a, const char *id, __u64 now_ms)
{
	for (int i = 0; i < a->nr_silences; i++) {
		struct silence *s = &a->silences[i];

		if (strcmp(s->id, id))
			continue;
		if (s->ends > now_ms)
			s->ends = now_ms > s->starts ? now_ms : s->starts + 1;
		silence_changed(a, s, now_ms);
		return 0;
	}
	return -ENOENT;
}

/* Points alerts at the rules of the same id in the current set. */
