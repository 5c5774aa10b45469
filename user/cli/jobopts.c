// SPDX-License-Identifier: MIT
/* The options attach and run share to name jobs and bound an orchestrator's, gathered into an API body. */
#include <errno.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/jobopts.h"
#include "lib/labels.h"
#include "lib/log.h"

void jobopts__init(struct jobopts *o)
{
	o->body = cJSON_CreateObject();
	o->boundary = false;
}

void jobopts__free(struct jobopts *o)
{
	cJSON_Delete(o->body);
	o->body = NULL;
}

static cJSON *child_object(cJSON *parent, const char *key)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);

	return c ? c : cJSON_AddObjectToObject(parent, key);
}

static void set_string(cJSON *obj, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddStringToObject(obj, key, value);
}

int jobopts__take(struct jobopts *o, int ch, const char *arg)
{
	cJSON *jobs, *ignore;
	char key[LABEL_NAME_LEN];
	const char *eq;
	__u64 ms;

	switch (ch) {
	case JOBOPT_SESSION:
		set_string(o->body, "session", arg);
		return 0;
	case JOBOPT_AGENT:
		set_string(o->body, "agent", arg);
		return 0;
	case JOBOPT_TASK:
		set_string(o->body, "task", arg);
		return 0;
	case JOBOPT_LABEL:
		eq = strchr(arg, '=');
		if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
			ww_err("--label wants KEY=VALUE, not '%s'", arg);
			return -EINVAL;
		}
		memcpy(key, arg, eq - arg);
		key[eq - arg] = 0;
		set_string(child_object(o->body, "labels"), key, eq + 1);
		return 0;
	}
	o->boundary = true;
	jobs = child_object(o->body, "jobs");
	switch (ch) {
	case JOBOPT_JOBS:
		if (!strcmp(arg, "children")) {
			cJSON_DeleteItemFromObjectCaseSensitive(jobs, "exec");
			return 0;
		}
		if (strncmp(arg, "exec:", 5) || !arg[5]) {
			ww_err("--jobs wants \"children\" or \"exec:REGEX\", not '%s'", arg);
			return -EINVAL;
		}
		set_string(jobs, "exec", arg + 5);
		return 0;
	case JOBOPT_IGNORE:
		ignore = cJSON_GetObjectItemCaseSensitive(jobs, "ignore");
		if (!ignore)
			ignore = cJSON_AddArrayToObject(jobs, "ignore");
		cJSON_AddItemToArray(ignore, cJSON_CreateString(arg));
		return 0;
	case JOBOPT_MIN_DURATION:
		if (duration__parse(arg, &ms)) {
			ww_err("--min-duration wants a duration such as 500ms or 2s, not '%s'", arg);
			return -EINVAL;
		}
		set_string(jobs, "min_duration", arg);
		return 0;
	case JOBOPT_STOPPED_IS_FAILURE:
		cJSON_DeleteItemFromObjectCaseSensitive(jobs, "stopped_is_failure");
		cJSON_AddBoolToObject(jobs, "stopped_is_failure", true);
		return 0;
	}
	return -EINVAL;
}
