// SPDX-License-Identifier: MIT
/* The alerting part of the config file: evaluation interval, rules, receivers, routes and inhibit rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "alerts/alerts.h"

#define DEFAULT_EVAL_MS		5000
#define DEFAULT_RETENTION_MS	(15 * 60 * 1000ULL)

static const char *const route_keys[] = {
	"match", "matchers", "receivers", "group_by", "group_wait", "group_interval", "repeat_interval", "continue",
};

static const char *const inhibit_keys[] = { "source_match", "target_match", "equal",
					     "source_matchers", "target_matchers" };

static bool known(const char *key, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* A duration given as text ("5s") or as a number of seconds. */
static int get_duration(const cJSON *o, const char *key, __u64 *ms, const char *what, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || !duration__from_json(v, ms))
		return 0;
	snprintf(err, errlen, "%s: %s must be a duration such as \"5s\" or \"4h\"", what, key);
	return -EINVAL;
}

static int get_matchers(const cJSON *arr, struct matcher *out, int *n, const char *what, char *err, size_t errlen)
{
	const cJSON *m;
	char why[160];

	*n = 0;
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > RULE_MAX_MATCHERS) {
		snprintf(err, errlen, "%s: matchers must be an array of at most %d strings", what, RULE_MAX_MATCHERS);
		return -EINVAL;
	}
	cJSON_ArrayForEach(m, arr) {
		if (!cJSON_IsString(m) || matcher__parse(&out[*n], m->valuestring, why, sizeof(why))) {
			snprintf(err, errlen, "%s: %s", what, cJSON_IsString(m) ? why : "a matcher must be a string");
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

static int get_names(const cJSON *arr, char (*out)[64], int max, int *n, const char *what, const char *key,
		     char *err, size_t errlen)
{
	const cJSON *s;

	*n = 0;
	if (!arr)
		return 0;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > max) {
		snprintf(err, errlen, "%s: %s must be an array of at most %d strings", what, key, max);
		return -EINVAL;
	}
	cJSON_ArrayForEach(s, arr) {
		if (!cJSON_IsString(s) || !s->valuestring[0] || strlen(s->valuestring) >= 64) {
			snprintf(err, errlen, "%s: %s holds an empty, too long or non-string entry", what, key);
			return -EINVAL;
		}
		snprintf(out[(*n)++], 64, "%s", s->valuestring);
	}
	return 0;
}

static int parse_route(const cJSON *o, int idx, struct alert_config *c, struct route *r, char *err, size_t errlen)
{
	const cJSON *item, *m = cJSON_GetObjectItemCaseSensitive(o, "match");
	char what[32];

	snprintf(what, sizeof(what), "routes[%d]", idx);
	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "%s must be an object", what);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, o)
		if (!known(item->string, route_keys, sizeof(route_keys) / sizeof(route_keys[0]))) {
			snprintf(err, errlen, "%s: unknown key '%s'", what, item->string);
			return -EINVAL;
		}
	if (!m)
		m = cJSON_GetObjectItemCaseSensitive(o, "matchers");
	if (get_matchers(m, r->match, &r->nr_match, what, err, errlen) ||
	    get_names(cJSON_GetObjectItemCaseSensitive(o, "receivers"), r->receivers, 8, &r->nr_receivers, what,
		      "receivers", err, errlen) ||
	    get_names(cJSON_GetObjectItemCaseSensitive(o, "group_by"), r->group_by, 8, &r->nr_group_by, what,
		      "group_by", err, errlen))
		return -EINVAL;
	for (int i = 0; i < r->nr_receivers; i++) {
		const struct receiver *rc = receivers__find(c->receivers, c->nr_receivers, r->receivers[i]);

		if (!rc) {
			snprintf(err, errlen, "%s: no receiver is named '%s'", what, r->receivers[i]);
			return -EINVAL;
		}
		if (!receiver__can(rc, RECEIVER_ALERTS)) {
			snprintf(err, errlen, "%s: receiver '%s' is of type %s, which is told of executions, not alerts",
				 what, rc->name, receiver__type_name(rc));
			return -EINVAL;
		}
	}
	if (!cJSON_GetObjectItemCaseSensitive(o, "group_by")) {
		snprintf(r->group_by[0], LABEL_NAME_LEN, "alertname");
		snprintf(r->group_by[1], LABEL_NAME_LEN, "agent");
		r->nr_group_by = 2;
	}
	for (int i = 0; i < r->nr_group_by; i++) {
		if (!strcmp(r->group_by[i], "...")) {
			r->group_all = true;
		} else if (!labels__valid_name(r->group_by[i])) {
			snprintf(err, errlen, "%s: group_by holds '%s', not a label name", what, r->group_by[i]);
			return -EINVAL;
		}
	}
	r->group_wait_ms = 10000;
	r->group_interval_ms = 60000;
	r->repeat_interval_ms = 4 * 3600 * 1000ULL;
	if (get_duration(o, "group_wait", &r->group_wait_ms, what, err, errlen) ||
	    get_duration(o, "group_interval", &r->group_interval_ms, what, err, errlen) ||
	    get_duration(o, "repeat_interval", &r->repeat_interval_ms, what, err, errlen))
		return -EINVAL;
	if (!r->group_interval_ms || !r->repeat_interval_ms) {
		snprintf(err, errlen, "%s: group_interval and repeat_interval must be above 0", what);
		return -EINVAL;
	}
	item = cJSON_GetObjectItemCaseSensitive(o, "continue");
	if (item && !cJSON_IsBool(item)) {
		snprintf(err, errlen, "%s: continue must be true or false", what);
		return -EINVAL;
	}
	r->cont = cJSON_IsTrue(item);
	return 0;
}

static int parse_inhibit(const cJSON *o, int idx, struct inhibit_rule *ir, char *err, size_t errlen)
{
	const cJSON *item, *src, *dst;
	char what[32];

	snprintf(what, sizeof(what), "inhibit_rules[%d]", idx);
	memset(ir, 0, sizeof(*ir));
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "%s must be an object", what);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, o)
		if (!known(item->string, inhibit_keys, sizeof(inhibit_keys) / sizeof(inhibit_keys[0]))) {
			snprintf(err, errlen, "%s: unknown key '%s'", what, item->string);
			return -EINVAL;
		}
	src = cJSON_GetObjectItemCaseSensitive(o, "source_match");
	dst = cJSON_GetObjectItemCaseSensitive(o, "target_match");
	if (!src)
		src = cJSON_GetObjectItemCaseSensitive(o, "source_matchers");
	if (!dst)
		dst = cJSON_GetObjectItemCaseSensitive(o, "target_matchers");
	if (get_matchers(src, ir->source, &ir->nr_source, what, err, errlen) ||
	    get_matchers(dst, ir->target, &ir->nr_target, what, err, errlen) ||
	    get_names(cJSON_GetObjectItemCaseSensitive(o, "equal"), ir->equal, 8, &ir->nr_equal, what, "equal", err,
		      errlen))
		return -EINVAL;
	if (!ir->nr_source || !ir->nr_target) {
		snprintf(err, errlen, "%s: source_match and target_match need at least one matcher each", what);
		return -EINVAL;
	}
	return 0;
}

/* Critical inhibits warning of the same alert name on the same execution, as the reference proposes. */
static void default_inhibit(struct alert_config *c)
{
	struct inhibit_rule *ir = &c->inhibits[0];
	char err[64];

	memset(ir, 0, sizeof(*ir));
	matcher__parse(&ir->source[ir->nr_source++], "severity=\"critical\"", err, sizeof(err));
	matcher__parse(&ir->target[ir->nr_target++], "severity=\"warning\"", err, sizeof(err));
	snprintf(ir->equal[ir->nr_equal++], LABEL_NAME_LEN, "alertname");
	snprintf(ir->equal[ir->nr_equal++], LABEL_NAME_LEN, "host");
	snprintf(ir->equal[ir->nr_equal++], LABEL_NAME_LEN, "execution_id");
	c->nr_inhibits = 1;
}

static char *read_text(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	long len;

	if (!f) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || len > (1 << 20) || fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: not a regular file under 1 MiB", path);
		goto out;
	}
	text = calloc(1, len + 1);
	if (text && fread(text, 1, len, f) != (size_t)len) {
		free(text);
		text = NULL;
		snprintf(err, errlen, "cannot read %s", path);
	}
out:
	fclose(f);
	return text;
}

static int parse_root(const cJSON *root, struct alert_config *c, char *err, size_t errlen)
{
	const cJSON *item, *arr;
	char why[256];
	int n;

	if (get_duration(root, "evaluation_interval", &c->evaluation_interval_ms, "config", err, errlen) ||
	    get_duration(root, "resolved_retention", &c->resolved_retention_ms, "config", err, errlen))
		return -EINVAL;
	if (c->evaluation_interval_ms < 100 || c->evaluation_interval_ms > 3600000) {
		snprintf(err, errlen, "config: evaluation_interval must be from 100ms to 1h");
		return -EINVAL;
	}
	item = cJSON_GetObjectItemCaseSensitive(root, "external_url");
	if (item && (!cJSON_IsString(item) || strlen(item->valuestring) >= sizeof(c->external_url))) {
		snprintf(err, errlen, "config: external_url must be a URL string");
		return -EINVAL;
	}
	if (item)
		snprintf(c->external_url, sizeof(c->external_url), "%s", item->valuestring);
	item = cJSON_GetObjectItemCaseSensitive(root, "host");
	if (item && (!cJSON_IsString(item) || !item->valuestring[0] || strlen(item->valuestring) >= sizeof(c->host))) {
		snprintf(err, errlen, "config: host must be a non-empty string");
		return -EINVAL;
	}
	if (item)
		snprintf(c->host, sizeof(c->host), "%s", item->valuestring);

	n = rules__parse(cJSON_GetObjectItemCaseSensitive(root, "rules"), c->rules, RULES_MAX, why, sizeof(why));
	if (n < 0)
		goto fail;
	c->nr_rules = n;
	n = receivers__parse(cJSON_GetObjectItemCaseSensitive(root, "receivers"), c->receivers, RECEIVERS_MAX, why,
			     sizeof(why));
	if (n < 0)
		goto fail;
	c->nr_receivers = n;

	arr = cJSON_GetObjectItemCaseSensitive(root, "routes");
	if (arr && (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > ROUTES_MAX)) {
		snprintf(err, errlen, "config: routes must be an array of at most %d routes", ROUTES_MAX);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, arr) {
		int i = c->nr_routes++;	/* counted even when it fails: its matchers are freed with the rest */

		if (parse_route(item, i, c, &c->routes[i], err, errlen))
			return -EINVAL;
	}
	for (int i = 0; !arr && i < c->nr_receivers; i++)
		if (receiver__can(&c->receivers[i], RECEIVER_ALERTS)) {
			/* receivers of alerts but no routes: every alert goes to every one of them */
			struct route *r = &c->routes[c->nr_routes++];
			cJSON *none = cJSON_CreateObject();

			parse_route(none, 0, c, r, err, errlen);
			cJSON_Delete(none);
			for (int k = 0; k < c->nr_receivers && r->nr_receivers < 8; k++)
				if (receiver__can(&c->receivers[k], RECEIVER_ALERTS))
					snprintf(r->receivers[r->nr_receivers++], RECEIVER_NAME_LEN, "%s",
						 c->receivers[k].name);
			break;
		}
	arr = cJSON_GetObjectItemCaseSensitive(root, "inhibit_rules");
	if (!arr) {
		default_inhibit(c);
		return 0;
	}
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > INHIBITS_MAX) {
		snprintf(err, errlen, "config: inhibit_rules must be an array of at most %d rules", INHIBITS_MAX);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, arr) {
		int i = c->nr_inhibits++;

		if (parse_inhibit(item, i, &c->inhibits[i], err, errlen))
			return -EINVAL;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

int alert_config__load(const char *path, struct alert_config *c, char *err, size_t errlen)
{
	cJSON *root = NULL;
	char *text = NULL;
	int ret = -EINVAL;

	memset(c, 0, sizeof(*c));
	c->evaluation_interval_ms = DEFAULT_EVAL_MS;
	c->resolved_retention_ms = DEFAULT_RETENTION_MS;
	if (gethostname(c->host, sizeof(c->host) - 1) || !c->host[0])
		snprintf(c->host, sizeof(c->host), "localhost");
	if (!path || !path[0]) {
		root = cJSON_CreateObject();
	} else {
		text = read_text(path, err, errlen);
		if (!text)
			goto out;
		root = cJSON_Parse(text);
		if (!cJSON_IsObject(root)) {
			snprintf(err, errlen, "%s is not a JSON object", path);
			goto out;
		}
	}
	ret = parse_root(root, c, err, errlen);
out:
	if (ret)
		alert_config__free(c);
	cJSON_Delete(root);
	free(text);
	return ret;
}

void alert_config__free(struct alert_config *c)
{
	for (int i = 0; i < c->nr_rules; i++)
		rule__free(&c->rules[i]);
	for (int i = 0; i < c->nr_routes; i++)
		for (int m = 0; m < c->routes[i].nr_match; m++)
			matcher__free(&c->routes[i].match[m]);
	for (int i = 0; i < c->nr_inhibits; i++) {
		for (int m = 0; m < c->inhibits[i].nr_source; m++)
			matcher__free(&c->inhibits[i].source[m]);
		for (int m = 0; m < c->inhibits[i].nr_target; m++)
			matcher__free(&c->inhibits[i].target[m]);
	}
	c->nr_rules = c->nr_routes = c->nr_inhibits = 0;
}
