// SPDX-License-Identifier: MIT
/* Small cJSON helpers every layer uses: typed reads with fallbacks, and builders that remember a failure. */
#include <stdio.h>
#include <cjson/cJSON.h>
#include "lib/clock.h"
#include "lib/json.h"

__u64 json__u64_of(const cJSON *v)
{
	/* 2^64 is exact as a double; converting what is not below it is undefined */
	return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 18446744073709551616.0 ?
	       (__u64)v->valuedouble : 0;
}

__u64 json__u64(const cJSON *o, const char *key)
{
	return json__u64_of(cJSON_GetObjectItemCaseSensitive(o, key));
}

void json__str(const cJSON *o, const char *key, char *buf, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	snprintf(buf, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

void json__time(cJSON *o, const char *key, __u64 ms)
{
	char ts[40];

	if (!ms) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	clock__rfc3339_ms(ms, ts, sizeof(ts));
	cJSON_AddStringToObject(o, key, ts);
}

cJSON *json__add_u64(cJSON *o, const char *key, __u64 v)
{
	return cJSON_AddNumberToObject(o, key, (double)v);
}

cJSON *json__add(cJSON *obj, const char *key, cJSON *item, bool *ok)
{
	if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		*ok = false;
		return NULL;
	}
	return item;
}

cJSON *json__push(cJSON *arr, cJSON *item, bool *ok)
{
	if (!item || !arr || !cJSON_AddItemToArray(arr, item)) {
		cJSON_Delete(item);
		*ok = false;
		return NULL;
	}
	return item;
}

void json__add_str(cJSON *o, const char *key, const char *v, bool *ok)
{
	json__add(o, key, cJSON_CreateString(v ? v : ""), ok);
}

void json__add_num(cJSON *o, const char *key, double v, bool *ok)
{
	json__add(o, key, cJSON_CreateNumber(v), ok);
}

void json__add_bool(cJSON *o, const char *key, bool v, bool *ok)
{
	json__add(o, key, cJSON_CreateBool(v), ok);
}
