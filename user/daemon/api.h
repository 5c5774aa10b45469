/* SPDX-License-Identifier: MIT */
/* The daemon's HTTP API: its route table, and the helpers its modules share (JSON replies, validated fields). */
#ifndef API_H
#define API_H

#include <stdbool.h>
#include <stddef.h>
#include "daemon/http.h"

struct cJSON;

/*
 * Every route of the daemon, for http_opts.routes; the handlers take the
 * daemon as their ctx and run with its lock held (http_opts.lock).
 */
extern const struct http_route api_routes[];
extern const int api_nroutes;
/* The routes of the --metrics-listen listener: GET /metrics alone, same handler and lock. */
extern const struct http_route api_metrics_routes[];
extern const int api_metrics_nroutes;

/* Replies with obj (freed) as JSON. */
void api__reply(struct http_response *resp, int status, struct cJSON *obj);
/* The body as a JSON object of only the allowed keys (NULL-terminated), or NULL after a 400. */
struct cJSON *api__body_object(const struct http_request *req, struct http_response *resp,
			       const char *const *allowed);
/* A string field without control characters; false after a 400. */
bool api__string_field(const struct cJSON *obj, const char *name, bool required, char *out, size_t size,
		       struct http_response *resp);
/* ?limit=, 1 to 1000, def when absent; false after a 400. */
bool api__limit_param(const struct http_request *req, int def, int *limit, struct http_response *resp);

/* The alerting routes (api_alerts.c), spliced into api_routes. */
void api_alerts__list(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__get(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__ack(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__unack(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__resolve(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__get_rules(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__put_rules(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__silences(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__add_silence(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__expire_silence(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__receivers(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__test_receiver(void *ctx, const struct http_request *req, struct http_response *resp);
void api_alerts__notifications(void *ctx, const struct http_request *req, struct http_response *resp);

#define API_ALERT_ROUTES								\
	{ "GET", "/api/v1/alerts", api_alerts__list, false, true },				\
	{ "GET", "/api/v1/alerts/{id}", api_alerts__get, false, true },			\
	{ "POST", "/api/v1/alerts/{id}/ack", api_alerts__ack, true, false },			\
	{ "POST", "/api/v1/alerts/{id}/unack", api_alerts__unack, true, false },		\
	{ "POST", "/api/v1/alerts/{id}/resolve", api_alerts__resolve, true, false },		\
	{ "GET", "/api/v1/rules", api_alerts__get_rules, false, false },			\
	{ "PUT", "/api/v1/rules", api_alerts__put_rules, true, false },			\
	{ "GET", "/api/v1/silences", api_alerts__silences, false, false },			\
	{ "POST", "/api/v1/silences", api_alerts__add_silence, true, false },			\
	{ "DELETE", "/api/v1/silences/{id}", api_alerts__expire_silence, true, false },	\
	{ "GET", "/api/v1/receivers", api_alerts__receivers, false, true },			\
	{ "POST", "/api/v1/receivers/{name}/test", api_alerts__test_receiver, true, false },	\
	{ "GET", "/api/v1/notifications", api_alerts__notifications, false, true },

/* Orchestrators and watch rules (api_jobs.c). */
void api_jobs__orchestrators(void *ctx, const struct http_request *req, struct http_response *resp);
void api_jobs__orchestrator(void *ctx, const struct http_request *req, struct http_response *resp);
void api_jobs__delete_orchestrator(void *ctx, const struct http_request *req, struct http_response *resp);
void api_jobs__watches(void *ctx, const struct http_request *req, struct http_response *resp);
void api_jobs__add_watch(void *ctx, const struct http_request *req, struct http_response *resp);
void api_jobs__delete_watch(void *ctx, const struct http_request *req, struct http_response *resp);

#define API_JOB_ROUTES									\
	{ "GET", "/api/v1/orchestrators", api_jobs__orchestrators, false, true },		\
	{ "GET", "/api/v1/orchestrators/{id}", api_jobs__orchestrator, false, true },		\
	{ "DELETE", "/api/v1/orchestrators/{id}", api_jobs__delete_orchestrator, true, false },	\
	{ "GET", "/api/v1/watches", api_jobs__watches, false, true },				\
	{ "POST", "/api/v1/watches", api_jobs__add_watch, true, false },			\
	{ "DELETE", "/api/v1/watches/{id}", api_jobs__delete_watch, true, false },

#endif
