// SPDX-License-Identifier: MIT
/* How jobs are named and, for an orchestrator, which of its descendants are jobs: one spec for the API, rules and CLI. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "lib/labels.h"
#include "lib/name_template.h"
#include "observe/jobspec.h"

#define DEFAULT_SESSION	"default"
#define DEFAULT_AGENT	"{{program|comm}}"

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -EINVAL;
}

/* A template field: a string of at most JOB_TMPL_LEN - 1 characters that parses. */
static int template_field(const cJSON *obj, const char *name, char *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	char why[160];

	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return fail(err, errlen, "'%s' must be a string", name);
	if (strlen(v->valuestring) >= JOB_TMPL_LEN)
		return fail(err, errlen, "'%s' is too long", name);
	for (const char *c = v->valuestring; *c; c++)
		if ((unsigned char)*c < 0x20)
			return fail(err, errlen, "'%s' contains a control character", name);
	if (name_template__check(v->valuestring, why, sizeof(why))) {
		snprintf(err, errlen, "'%s': %s", name, why);
		return -EINVAL;
	}
	strcpy(out, v->valuestring);
	return 0;
}

static int labels_from_json(struct job_spec *s, const cJSON *labels, char *err, size_t errlen)
{
	const cJSON *l;
	char why[160];

	if (!labels)
		return 0;
	if (!cJSON_IsObject(labels))
		return fail(err, errlen, "'%s' must be an object of strings", "labels");
	cJSON_ArrayForEach(l, labels) {
		if (s->nlabels == JOB_LABELS_MAX)
			return fail(err, errlen, "'labels' has more than %s names", "16");
		if (!labels__valid_name(l->string) || strlen(l->string) >= JOB_LABEL_NAME_LEN) {
			snprintf(err, errlen, "label name '%.64s' must be [a-zA-Z_][a-zA-Z0-9_]*, up to %d characters",
				 l->string, JOB_LABEL_NAME_LEN - 1);
			return -EINVAL;
		}
		if (!cJSON_IsString(l) || strlen(l->valuestring) >= JOB_TMPL_LEN)
			return fail(err, errlen, "label '%.64s' must be a string of up to 255 characters", l->string);
		if (name_template__check(l->valuestring, why, sizeof(why))) {
			snprintf(err, errlen, "label '%.64s': %s", l->string, why);
			return -EINVAL;
		}
		snprintf(s->labels[s->nlabels].name, JOB_LABEL_NAME_LEN, "%s", l->string);
		snprintf(s->labels[s->nlabels].tmpl, JOB_TMPL_LEN, "%s", l->valuestring);
		s->nlabels++;
	}
	return 0;
}

static int jobs_from_json(struct job_spec *s, const cJSON *jobs, char *err, size_t errlen)
{
	static const char *const keys[] = { "exec", "ignore", "min_duration", "stopped_is_failure", NULL };
	const cJSON *v, *item;

	if (!jobs)
		return 0;
	if (cJSON_IsString(jobs))
		return job_spec__set_jobs(s, jobs->valuestring, err, errlen);
	if (!cJSON_IsObject(jobs))
		return fail(err, errlen, "'%s' must be an object: {\"exec\": REGEX, \"ignore\": [...], \"min_duration\": \"2s\"}",
			    "jobs");
	cJSON_ArrayForEach(item, jobs) {
		bool known = false;

		for (const char *const *k = keys; *k; k++)
			known |= !strcmp(*k, item->string);
		if (!known)
			return fail(err, errlen, "unknown field 'jobs.%.64s'", item->string);
	}
	v = cJSON_GetObjectItemCaseSensitive(jobs, "exec");
	if (v) {
		if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= JOB_TMPL_LEN)
			return fail(err, errlen, "'%s' must be a regular expression of 1 to 255 characters", "jobs.exec");
		s->jobs = WW_JOBS_EXEC;
		strcpy(s->exec_re, v->valuestring);
	}
	v = cJSON_GetObjectItemCaseSensitive(jobs, "ignore");
	if (v) {
		if (!cJSON_IsArray(v))
			return fail(err, errlen, "'%s' must be an array of regular expressions", "jobs.ignore");
		cJSON_ArrayForEach(item, v) {
			if (s->nignore == JOB_IGNORE_MAX)
				return fail(err, errlen, "'jobs.ignore' has more than %s patterns", "16");
			if (!cJSON_IsString(item) || !item->valuestring[0] || strlen(item->valuestring) >= JOB_TMPL_LEN)
				return fail(err, errlen, "'%s' must hold regular expressions of 1 to 255 characters",
					    "jobs.ignore");
			strcpy(s->ignore[s->nignore++], item->valuestring);
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(jobs, "min_duration");
	if (v && duration__from_json(v, &s->min_duration_ms))
		return fail(err, errlen, "'%s' must be a duration such as \"500ms\" or \"2s\"", "jobs.min_duration");
	v = cJSON_GetObjectItemCaseSensitive(jobs, "stopped_is_failure");
	if (v) {
		if (!cJSON_IsBool(v))
			return fail(err, errlen, "'%s' must be true or false", "jobs.stopped_is_failure");
		s->stopped_is_failure = cJSON_IsTrue(v);
	}
	return 0;
}

int job_spec__from_json(struct job_spec *s, const cJSON *obj, bool orchestrator, const char *const *allowed,
			char *err, size_t errlen)
{
	static const char *const own[] = { "session", "agent", "task", "labels", "jobs", NULL };
	const cJSON *item;
	int ret;

	job_spec__release(s);
	memset(s, 0, sizeof(*s));
	if (!cJSON_IsObject(obj))
		return fail(err, errlen, "%s must be a JSON object", "the body");
	cJSON_ArrayForEach(item, obj) {
		bool known = false;

		for (const char *const *k = own; *k; k++)
			known |= !strcmp(*k, item->string) && (orchestrator || strcmp(*k, "jobs"));
		for (const char *const *k = allowed; k && *k; k++)
			known |= !strcmp(*k, item->string);
		if (!known)
			return fail(err, errlen, "unknown field '%.64s'", item->string);
	}
	ret = template_field(obj, "session", s->session, err, errlen);
	if (!ret)
		ret = template_field(obj, "agent", s->agent, err, errlen);
	if (!ret)
		ret = template_field(obj, "task", s->task, err, errlen);
	if (!ret)
		ret = labels_from_json(s, cJSON_GetObjectItemCaseSensitive(obj, "labels"), err, errlen);
	if (!ret && orchestrator)
		ret = jobs_from_json(s, cJSON_GetObjectItemCaseSensitive(obj, "jobs"), err, errlen);
	if (!ret)
		ret = job_spec__compile(s, err, errlen);
	return ret;
}

void job_spec__to_json(const struct job_spec *s, cJSON *obj)
{
	cJSON *labels, *jobs, *ignore;
	char dur[32];

	if (s->session[0])
		cJSON_AddStringToObject(obj, "session", s->session);
	if (s->agent[0])
		cJSON_AddStringToObject(obj, "agent", s->agent);
	if (s->task[0])
		cJSON_AddStringToObject(obj, "task", s->task);
	if (s->nlabels) {
		labels = cJSON_AddObjectToObject(obj, "labels");
		for (int i = 0; i < s->nlabels; i++)
			cJSON_AddStringToObject(labels, s->labels[i].name, s->labels[i].tmpl);
	}
	if (s->jobs == WW_JOBS_CHILDREN && !s->nignore && !s->min_duration_ms && !s->stopped_is_failure)
		return;
	jobs = cJSON_AddObjectToObject(obj, "jobs");
	if (s->jobs == WW_JOBS_EXEC)
		cJSON_AddStringToObject(jobs, "exec", s->exec_re);
	if (s->nignore) {
		ignore = cJSON_AddArrayToObject(jobs, "ignore");
		for (int i = 0; i < s->nignore; i++)
			cJSON_AddItemToArray(ignore, cJSON_CreateString(s->ignore[i]));
	}
	if (s->min_duration_ms) {
		duration__format(s->min_duration_ms, dur, sizeof(dur));
		cJSON_AddStringToObject(jobs, "min_duration", dur);
	}
	if (s->stopped_is_failure)
		cJSON_AddBoolToObject(jobs, "stopped_is_failure", true);
}

static int compile_one(regex_t *rx, const char *pattern, const char *what, char *err, size_t errlen)
{
	const char *refusal = regex__refusal(pattern);
	char why[128];
	int rc;

	if (refusal) {
		snprintf(err, errlen, "%s '%.64s' %s", what, pattern, refusal);
		return -EINVAL;
	}
	rc = regcomp(rx, pattern, REG_EXTENDED | REG_NOSUB);
	if (!rc)
		return 0;
	regerror(rc, rx, why, sizeof(why));
	snprintf(err, errlen, "%s '%.64s' is not a valid regular expression: %s", what, pattern, why);
	return -EINVAL;
}

int job_spec__compile(struct job_spec *s, char *err, size_t errlen)
{
	int n = 0, ret = 0;

	if (s->compiled)
		return 0;
	if (s->jobs == WW_JOBS_EXEC && !s->exec_re[0])
		return fail(err, errlen, "%s needs a pattern: exec:REGEX", "jobs");
	if (s->jobs == WW_JOBS_EXEC && compile_one(&s->exec_rx, s->exec_re, "jobs.exec", err, errlen))
		return -EINVAL;
	for (; n < s->nignore && !ret; n++)
		ret = compile_one(&s->ignore_rx[n], s->ignore[n], "jobs.ignore", err, errlen);
	if (ret) {
		/* the one that failed has nothing to free */
		for (int i = 0; i < n - 1; i++)
			regfree(&s->ignore_rx[i]);
		if (s->jobs == WW_JOBS_EXEC)
			regfree(&s->exec_rx);
		return ret;
	}
	s->compiled = true;
	return 0;
}

int job_spec__set_jobs(struct job_spec *s, const char *text, char *err, size_t errlen)
{
	if (!strcmp(text, "children")) {
		s->jobs = WW_JOBS_CHILDREN;
		s->exec_re[0] = 0;
		return 0;
	}
	if (strncmp(text, "exec:", 5) || !text[5] || strlen(text + 5) >= JOB_TMPL_LEN)
		return fail(err, errlen, "jobs wants \"children\" or \"exec:REGEX\" (a pattern of 1 to 255 characters), not '%.64s'",
			    text);
	s->jobs = WW_JOBS_EXEC;
	strcpy(s->exec_re, text + 5);
	return 0;
}

void job_spec__release(struct job_spec *s)
{
	if (!s || !s->compiled)
		return;
	if (s->jobs == WW_JOBS_EXEC)
		regfree(&s->exec_rx);
	for (int i = 0; i < s->nignore; i++)
		regfree(&s->ignore_rx[i]);
	s->compiled = false;
}

int job_spec__copy(struct job_spec *dst, const struct job_spec *src)
{
	char err[256];

	job_spec__release(dst);
	memcpy(dst, src, sizeof(*dst));
	dst->compiled = false;
	memset(&dst->exec_rx, 0, sizeof(dst->exec_rx));
	memset(dst->ignore_rx, 0, sizeof(dst->ignore_rx));
	return src->compiled ? job_spec__compile(dst, err, sizeof(err)) : 0;
}

bool job_spec__ignores(const struct job_spec *s, const char *program)
{
	for (int i = 0; s->compiled && program && i < s->nignore; i++)
		if (!regexec(&s->ignore_rx[i], program, 0, NULL, 0))
			return true;
	return false;
}

bool job_spec__accepts(const struct job_spec *s, const char *program)
{
	if (!s->compiled || !program || job_spec__ignores(s, program))
		return false;
	return s->jobs != WW_JOBS_EXEC || !regexec(&s->exec_rx, program, 0, NULL, 0);
}

void job_spec__names(const struct job_spec *s, const struct name_source *src, char *session, char *agent,
		     char *task, size_t size)
{
	name_template__render(s->session[0] ? s->session : DEFAULT_SESSION, src, session, size);
	if (!session[0])
		snprintf(session, size, DEFAULT_SESSION);
	name_template__render(s->agent[0] ? s->agent : DEFAULT_AGENT, src, agent, size);
	if (!agent[0])
		name_template__render(DEFAULT_AGENT, src, agent, size);
	if (!agent[0])
		snprintf(agent, size, "unknown");
	name_template__render(s->task, src, task, size);
}

void job_spec__labels(const struct job_spec *s, const struct name_source *src, cJSON *labels)
{
	char value[LABEL_VALUE_LEN];

	for (int i = 0; i < s->nlabels; i++) {
		name_template__render(s->labels[i].tmpl, src, value, sizeof(value));
		cJSON_DeleteItemFromObjectCaseSensitive(labels, s->labels[i].name);
		if (value[0])
			cJSON_AddStringToObject(labels, s->labels[i].name, value);
	}
}
