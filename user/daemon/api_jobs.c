// SPDX-License-Identifier: MIT
/* The API of orchestrators and watch rules: list, add and remove them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "daemon/api.h"
#include "daemon/daemon.h"
#include "daemon/orchs.h"
#include "observe/jobs.h"

/* The {id} of the path: a positive whole number. */
static bool path_id(const struct http_request *req, const char *what, __u64 *id, struct http_response *resp)
{
	char *end;

	errno = 0;
	*id = strtoull(req->params[0], &end, 10);
	if (errno || end == req->params[0] || *end || !*id || req->params[0][0] == '-') {
		http__error(resp, 400, "'%.32s' is not %s id", req->params[0], what);
		return false;
	}
	return true;
}

static int add_orch(const struct orch *o, void *ctx)
{
	cJSON_AddItemToArray(ctx, orchs__json(o));
	return 0;
}

void api_jobs__orchestrators(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	cJSON *arr = cJSON_CreateArray();

	(void)req;
	jobs__foreach_orch(daemon__jobs(d), add_orch, arr);
	api__reply(resp, 200, arr);
}

void api_jobs__orchestrator(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	const struct orch *o;
	cJSON *out = NULL;
	__u64 id;

	if (!path_id(req, "an orchestrator", &id, resp))
		return;
	o = jobs__find_orch(daemon__jobs(d), id);
	out = o ? orchs__json(o) : orchs__ended_json(id);
	if (out)
		api__reply(resp, 200, out);
	else
		http__error(resp, 404, "no orchestrator %llu", (unsigned long long)id);
}

/* Stops watching it: its running jobs go on and end as they would. */
void api_jobs__delete_orchestrator(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	const struct orch *o;
	cJSON *out = NULL;
	__u64 id;

	if (!path_id(req, "an orchestrator", &id, resp))
		return;
	o = jobs__find_orch(daemon__jobs(d), id);
	if (o) {
		out = orchs__json(o);
		jobs__remove_orch(daemon__jobs(d), id);
		daemon__detach_if_idle(d);
	}
	if (out)
		api__reply(resp, 200, out);
	else
		http__error(resp, 404, "no orchestrator %llu", (unsigned long long)id);
}

void api_jobs__watches(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	cJSON *arr;

	(void)req;
	arr = watches__json(d);
	api__reply(resp, 200, arr);
}

void api_jobs__add_watch(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	cJSON *body, *out = NULL;
	char err[300] = "";
	int ret;

	if (!req->body || !req->body_len) {
		http__error(resp, 400, "a JSON object body is required");
		return;
	}
	body = cJSON_ParseWithLength(req->body, req->body_len);
	if (!cJSON_IsObject(body)) {
		http__error(resp, 400, "the body is not a JSON object");
		cJSON_Delete(body);
		return;
	}
	ret = watches__add(d, body, &out, err, sizeof(err));
	cJSON_Delete(body);
	if (ret)
		http__error(resp, ret == -EINVAL ? 400 : ret == -EEXIST ? 409 : ret == -E2BIG ? 409 : 500, "%s",
			    err[0] ? err : strerror(-ret));
	else
		api__reply(resp, 201, out);
}

void api_jobs__delete_watch(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct daemon *d = ctx;
	char err[300] = "";
	__u64 id;
	int ret;

	if (!path_id(req, "a watch rule", &id, resp))
		return;
	ret = watches__remove(d, id, err, sizeof(err));
	if (!ret) {
		resp->status = 204;
		return;
	}
	http__error(resp, ret == -ENOENT ? 404 : ret == -EPERM || ret == -EBUSY ? 409 : 500, "%s",
		    err[0] ? err : strerror(-ret));
}
