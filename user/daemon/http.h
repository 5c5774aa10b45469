/* SPDX-License-Identifier: MIT */
/* The daemon's HTTP layer: routing, bearer-token auth, body limits and the server-sent event stream. */
#ifndef HTTP_H
#define HTTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Threading model: every connection is served by its own thread (at most
 * HTTP_MAX_CONNECTIONS, idle ones closed after 30 s), so handlers run
 * concurrently with each other and with the caller of http__broadcast();
 * a handler must lock whatever state it shares, or the caller hands the
 * layer its lock (http_opts.lock) to hold around every handler. A handler
 * may block (it only delays its own client, and the others when it holds
 * that lock), and stream clients never hold up requests or each other. http__broadcast() is safe from any thread, handlers too.
 *
 * Before a handler runs, the layer answers with a JSON error itself: 421
 * a Host that is not this daemon's (DNS rebinding), 404 unknown path, 405
 * known path but not this method (with Allow), 401 a token is needed and
 * missing or wrong (see enum http_read_auth), 403 a write from a foreign
 * Origin, 413 body over max_body. A Content-Length over the limit is refused
 * before the body is read; a chunked body is cut off (the connection closed)
 * as soon as it passes the limit.
 *
 * Slow clients: a request must arrive whole (headers and body) within
 * request_timeout_s of its connection, or of the previous answer on a
 * kept-alive connection, or the connection is closed; one client address
 * holds at most per_client_connections connections.
 */

#define HTTP_DEFAULT_ADDR	"127.0.0.1"
#define HTTP_DEFAULT_PORT	9470
#define HTTP_MAX_CONNECTIONS	256
#define HTTP_PER_CLIENT_CONNECTIONS	32
#define HTTP_REQUEST_TIMEOUT_S	10
#define HTTP_MAX_PARAMS		4
#define HTTP_MAX_PARAM_LEN	128
/* Built-in route: GET, server-sent events, same auth rules as any read. */
#define HTTP_STREAM_PATH	"/api/v1/stream"

struct http_request {
	const char *method;
	const char *path;		/* URL-decoded, without the query */
	const char *body;		/* NUL-terminated; NULL when there is none */
	size_t body_len;
	/* Values of the {placeholders} of the route pattern, in order. */
	const char *params[HTTP_MAX_PARAMS];
	bool authorized;		/* a valid bearer token came with it */
	bool from_loopback;
	void *conn;			/* opaque */
};

/* The URL-decoded value of ?name=value ("" for a bare ?name), NULL if absent. */
const char *http_request__query(const struct http_request *r, const char *name);
/* A request header (case-insensitive name), NULL if absent. */
const char *http_request__header(const struct http_request *r, const char *name);

struct http_response {
	int status;			/* 200 unless the handler sets it */
	char *body;			/* NUL-terminated, malloc'd, freed by the layer */
	size_t body_len;		/* 0: strlen(body); set it for binary bodies */
	const char *content_type;	/* NULL: application/json, which gets Cache-Control: no-store */
};

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req, struct http_response *resp);

struct http_route {
	const char *method;		/* "GET", "POST", ... */
	const char *pattern;		/* "/api/v1/executions/{id}": up to HTTP_MAX_PARAMS placeholders */
	http_handler_fn fn;
	bool mutating;			/* always needs the bearer token */
	bool private;			/* a read of private data: command lines, labels, payloads */
};

enum http_read_auth {
	/*
	 * Private reads need the token; public ones (health, metrics, the
	 * dashboard's files) only from other hosts. The default.
	 */
	HTTP_READ_AUTH_PRIVATE = 0,
	/* Reads need the token unless the client is on loopback. */
	HTTP_READ_AUTH_REMOTE,
	/* Every read needs the token. */
	HTTP_READ_AUTH_ALWAYS,
	/* Reads never need it, e.g. a dashboard on a trusted LAN. */
	HTTP_READ_AUTH_NEVER,
};

struct http_opts {
	const char *addr;		/* IPv4 or IPv6 literal ("::" is dual stack); NULL: 127.0.0.1 */
	int port;			/* 0: the kernel picks, see http__port() */
	const char *token;		/* NULL or "": nothing that needs the token is ever allowed */
	size_t max_body;		/* 0: 64 KiB */
	enum http_read_auth read_auth;
	const struct http_route *routes;
	int nroutes;
	void *ctx;			/* passed to every handler */
	pthread_mutex_t *lock;		/* NULL, or held around every handler (not the stream) */
	int max_stream_clients;		/* 0: 64 */
	bool no_stream;			/* true: no HTTP_STREAM_PATH here (404), only the routes */
	int stream_keepalive_ms;	/* 0: 15000; the idle comment that keeps proxies and timeouts at bay */
	/*
	 * Host names (comma-separated) requests may carry besides localhost,
	 * loopback addresses and the listen address itself; "*" allows any.
	 */
	const char *allowed_hosts;
	int request_timeout_s;		/* 0: HTTP_REQUEST_TIMEOUT_S */
	int per_client_connections;	/* 0: HTTP_PER_CLIENT_CONNECTIONS */
};

struct http_server;

/*
 * Listens and serves in background threads. NULL with errno set (and a
 * one-line error logged) when the address is invalid or cannot be bound.
 * opts->routes and opts->ctx must outlive the server; the strings are copied.
 */
struct http_server *http__start(const struct http_opts *opts);
/* The port actually bound. */
int http__port(const struct http_server *s);
/*
 * Queues "event: NAME\ndata: JSON\n\n" for every stream client (a JSON with
 * line breaks becomes several data: lines) and returns without waiting for
 * any: a client with 256 events still queued, because it reads too slowly
 * or a burst outran it, is disconnected. Returns the number of clients it
 * was queued for, or -EINVAL (empty name or a line break in it), -ENOMEM,
 * -ESHUTDOWN.
 */
int http__broadcast(struct http_server *s, const char *event, const char *json);
/* Stream clients currently connected. */
int http__stream_clients(struct http_server *s);
/* Disconnects everyone and returns once no handler runs any more. Accepts NULL. */
void http__stop(struct http_server *s);

/* Sets resp to status with the JSON body {"error": "<message>", "status": N}. */
void http__error(struct http_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
