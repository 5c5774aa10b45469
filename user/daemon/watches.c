// SPDX-License-Identifier: MIT
/* Watch rules of the daemon: from its config file and the API, kept in history so that restarts keep them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/orchs.h"
#include "history/store.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "observe/jobs.h"

#define CONFIG_MAX_BYTES (1 << 20)

/* The text history keeps of a rule: its JSON without what history itself assigns. */
static int rule_text(const struct watch_rule *r, char *out, size_t size)
{
	cJSON *j = watch_rule__to_json(r);
	char *text;
	int err = 0;

	cJSON_DeleteItemFromObjectCaseSensitive(j, "id");
	cJSON_DeleteItemFromObjectCaseSensitive(j, "source");
	text = cJSON_PrintUnformatted(j);
	if (!text || strlen(text) >= size)
		err = -E2BIG;
	else
		strcpy(out, text);
	free(text);
	cJSON_Delete(j);
	return err;
}

/* The config file's "watches" array (a new reference), NULL when it has none. */
static cJSON *config_watches(const char *path, int *err)
{
	cJSON *root = NULL, *arr = NULL;
	char *text = NULL;
	long len;
	FILE *f;

	*err = 0;
	if (!path || !path[0])
		return NULL;
	f = fopen(path, "re");
	if (!f) {
		*err = -errno;
		return NULL;
	}
	if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0 && len <= CONFIG_MAX_BYTES && !fseek(f, 0, SEEK_SET) &&
	    (text = calloc(1, len + 1)) && fread(text, 1, len, f) == (size_t)len)
		root = cJSON_Parse(text);
	fclose(f);
	free(text);
	arr = cJSON_DetachItemFromObjectCaseSensitive(root, "watches");
	cJSON_Delete(root);
	if (arr && !cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		*err = -EINVAL;
		return NULL;
	}
	return arr;
}

struct rows {
	struct watch_row *rows;
	int n, cap;
};

static int collect_row(const struct watch_row *w, void *ctx)
{
	struct rows *r = ctx;

	if (r->n == r->cap) {
		int cap = r->cap ? r->cap * 2 : 8;
		struct watch_row *n = realloc(r->rows, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->rows = n;
		r->cap = cap;
	}
	r->rows[r->n++] = *w;
	return 0;
}

/* Config rules replace their namesakes in history (same id, so restarts keep it); gone ones are dropped. */
static int reconcile_config(struct daemon *d, const cJSON *conf, struct rows *rows)
{
	struct store *s = daemon__store(d);
	struct watch_rule r = {};
	struct watch_row *w = calloc(1, sizeof(*w));
	const cJSON *item;
	char err[256];
	int ret = 0;

	if (!w)
		return -ENOMEM;
	cJSON_ArrayForEach(item, conf) {
		ret = watch_rule__from_json(&r, item, err, sizeof(err));
		if (!ret && !r.name[0]) {
			snprintf(err, sizeof(err), "a watch rule of the config file needs a \"name\"");
			ret = -EINVAL;
		}
		if (ret) {
			ww_err("--config %s: watches: %s", daemon__config(d)->config_file, err);
			break;
		}
		memset(w, 0, sizeof(*w));
		for (int i = 0; i < rows->n; i++)
			if (!strcmp(rows->rows[i].name, r.name))
				w->id = rows->rows[i].id;
		snprintf(w->name, sizeof(w->name), "%s", r.name);
		snprintf(w->source, sizeof(w->source), "config");
		w->created_ms = clock__now_ms();
		ret = rule_text(&r, w->rule, sizeof(w->rule));
		if (!ret)
			ret = store__put_watch(s, w);
		if (ret) {
			ww_err("cannot keep watch rule %s: %s", r.name, store__errmsg(s));
			break;
		}
	}
	watch_rule__release(&r);
	/* rules the config file had and no longer has */
	for (int i = 0; !ret && i < rows->n; i++) {
		bool kept = false;

		if (strcmp(rows->rows[i].source, "config"))
			continue;
		cJSON_ArrayForEach(item, conf) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");

			kept |= cJSON_IsString(name) && !strcmp(name->valuestring, rows->rows[i].name);
		}
		if (!kept)
			store__forget_watch(s, rows->rows[i].id);
	}
	free(w);
	return ret;
}

/* Rules from their stored rows; a rule whose file or cgroup is gone now is left out with a warning. */
static int rules_of_rows(const struct rows *rows, struct watch_rule **out)
{
	struct watch_rule *rules = calloc(rows->n ? rows->n : 1, sizeof(*rules));
	char err[256];
	int n = 0;

	if (!rules)
		return -ENOMEM;
	for (int i = 0; i < rows->n; i++) {
		cJSON *j = cJSON_Parse(rows->rows[i].rule);

		if (watch_rule__from_json(&rules[n], j, err, sizeof(err))) {
			ww_warn("watch rule %llu (%s) is not in force: %s", (unsigned long long)rows->rows[i].id,
				rows->rows[i].name[0] ? rows->rows[i].name : "unnamed", err);
			watch_rule__release(&rules[n]);
		} else {
			rules[n].id = (__u32)rows->rows[i].id;
			rules[n].from_config = !strcmp(rows->rows[i].source, "config");
			n++;
		}
		cJSON_Delete(j);
	}
	*out = rules;
	return n;
}

static void free_rules(struct watch_rule *rules, int n)
{
	for (int i = 0; i < n; i++)
		watch_rule__release(&rules[i]);
	free(rules);
}

static int read_rows(struct daemon *d, struct rows *rows)
{
	rows->n = 0;
	if (store__foreach_watch(daemon__store(d), collect_row, rows)) {
		ww_err("cannot read the watch rules: %s", store__errmsg(daemon__store(d)));
		return -EIO;
	}
	return 0;
}

int watches__load(struct daemon *d)
{
	struct rows rows = {};
	struct watch_rule *rules = NULL;
	cJSON *conf;
	char err[256];
	int n = 0, ret;

	conf = config_watches(daemon__config(d)->config_file, &ret);
	if (ret) {
		ww_err("--config %s: \"watches\" must be an array of rules", daemon__config(d)->config_file);
		return ret;
	}
	ret = read_rows(d, &rows);
	if (!ret && conf)
		ret = reconcile_config(d, conf, &rows);
	if (!ret && conf)
		ret = read_rows(d, &rows);
	if (!ret) {
		n = rules_of_rows(&rows, &rules);
		ret = n < 0 ? n : jobs__set_rules(daemon__jobs(d), rules, n, err, sizeof(err));
		if (ret)
			ww_err("watch rules: %s", err);
	}
	if (!ret && n)
		ret = daemon__ensure_attached(d);
	if (!ret && n)
		ww_info("%d watch rules in force", n);
	free_rules(rules, n > 0 ? n : 0);
	free(rows.rows);
	cJSON_Delete(conf);
	return ret;
}

/* The rules in force plus extra (when given), without the one with id without (0: none). */
static int current_with(struct daemon *d, const struct watch_rule *extra, __u32 without, struct watch_rule **out)
{
	int n = 0, have;
	const struct watch_rule *cur = jobs__rules(daemon__jobs(d), &have);
	struct watch_rule *rules = calloc(have + 1, sizeof(*rules));

	if (!rules)
		return -ENOMEM;
	for (int i = 0; i < have; i++)
		if (cur[i].id != without && !watch_rule__copy(&rules[n], &cur[i]))
			n++;
	if (extra && !watch_rule__copy(&rules[n], extra))
		n++;
	*out = rules;
	return n;
}

int watches__add(struct daemon *d, const cJSON *body, cJSON **out, char *err, size_t errlen)
{
	struct watch_rule r = {}, *rules = NULL;
	struct watch_row *w = calloc(1, sizeof(*w));
	int n = 0, ret, adopted;

	if (!w)
		return -ENOMEM;
	ret = watch_rule__from_json(&r, body, err, errlen);
	if (!ret) {
		int have;

		jobs__rules(daemon__jobs(d), &have);
		if (have >= WW_WATCH_RULES_MAX) {
			snprintf(err, errlen, "there are %d watch rules already, the most the kernel matches", have);
			ret = -E2BIG;
		}
	}
	if (!ret) {
		snprintf(w->name, sizeof(w->name), "%s", r.name);
		snprintf(w->source, sizeof(w->source), "api");
		w->created_ms = clock__now_ms();
		ret = rule_text(&r, w->rule, sizeof(w->rule));
		if (ret)
			snprintf(err, errlen, "the rule is too large to keep");
	}
	if (!ret) {
		ret = store__put_watch(daemon__store(d), w);
		if (ret)
			snprintf(err, errlen, "%s", store__errmsg(daemon__store(d)));
	}
	if (ret)
		goto out;
	r.id = (__u32)w->id;
	n = current_with(d, &r, 0, &rules);
	ret = n < 0 ? n : jobs__set_rules(daemon__jobs(d), rules, n, err, errlen);
	if (!ret)
		ret = daemon__ensure_attached(d);
	if (ret) {
		store__forget_watch(daemon__store(d), w->id);
		if (!err[0])
			snprintf(err, errlen, "cannot put the rule in force: %s", strerror(-ret));
		goto out;
	}
	/* what it selects and already runs is taken now */
	adopted = jobs__adopt(daemon__jobs(d), r.id);
	*out = watch_rule__to_json(&r);
	cJSON_AddNumberToObject(*out, "adopted", adopted);
out:
	free_rules(rules, n > 0 ? n : 0);
	watch_rule__release(&r);
	free(w);
	return ret;
}

int watches__remove(struct daemon *d, __u64 id, char *err, size_t errlen)
{
	const struct watch_rule *cur, *found = NULL;
	struct watch_rule *rules = NULL;
	int have, n, ret;

	cur = jobs__rules(daemon__jobs(d), &have);
	for (int i = 0; i < have; i++)
		if (cur[i].id == id)
			found = &cur[i];
	if (!found) {
		/* a stored rule not in force (its file is gone) can still be removed */
		ret = store__forget_watch(daemon__store(d), id);
		if (ret > 0)
			return 0;
		snprintf(err, errlen, "no watch rule %llu", (unsigned long long)id);
		return -ENOENT;
	}
	if (found->from_config) {
		snprintf(err, errlen, "watch rule %llu comes from the config file: remove it there", (unsigned long long)id);
		return -EPERM;
	}
	for (int i = 0; i < have; i++) {
		char idtext[16];

		snprintf(idtext, sizeof(idtext), "%llu", (unsigned long long)id);
		if (cur[i].parent[0] && (!strcmp(cur[i].parent, idtext) || (found->name[0] &&
					 !strcmp(cur[i].parent, found->name)))) {
			snprintf(err, errlen, "watch rule %u names it as its parent", cur[i].id);
			return -EBUSY;
		}
	}
	n = current_with(d, NULL, (__u32)id, &rules);
	ret = n < 0 ? n : jobs__set_rules(daemon__jobs(d), rules, n, err, errlen);
	free_rules(rules, n > 0 ? n : 0);
	if (ret)
		return ret;
	if (store__forget_watch(daemon__store(d), id) < 0) {
		snprintf(err, errlen, "%s", store__errmsg(daemon__store(d)));
		return -EIO;
	}
	daemon__detach_if_idle(d);
	return 0;
}

cJSON *watches__json(struct daemon *d)
{
	int n;
	const struct watch_rule *rules = jobs__rules(daemon__jobs(d), &n);
	cJSON *arr = cJSON_CreateArray();

	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, watch_rule__to_json(&rules[i]));
	return arr;
}
