// SPDX-License-Identifier: MIT
/* The daemon's HTTP layer on libmicrohttpd: routing, bearer-token auth, body limits and the SSE stream. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "lib/log.h"
#include "lib/num.h"
#include "daemon/http.h"

#define DEFAULT_MAX_BODY	(64 * 1024)
#define DEFAULT_STREAM_CLIENTS	64
#define DEFAULT_KEEPALIVE_MS	15000
#define CONNECTION_TIMEOUT_S	30
/* Events a stream client may lag behind before it is disconnected. */
#define STREAM_QUEUE		256
#define STREAM_BLOCK		(16 * 1024)

/* One formatted event, shared by the queues of every client it went to. */
struct sse_msg {
	unsigned int refs;	/* under http_server.lock; 0 for the static comments, never freed */
	size_t len;
	const char *text;
	char data[];
};

static struct sse_msg connected = { 0, 13, ": connected\n\n" };
static struct sse_msg keepalive = { 0, 13, ": keepalive\n\n" };

struct stream_client {
	struct stream_client *next, **pprev;
	struct http_server *s;
	pthread_cond_t wake;
	int fd;
	struct sse_msg *queue[STREAM_QUEUE];
	unsigned int head, count;
	size_t off;		/* bytes of queue[head] already handed to MHD */
	struct timespec last;	/* CLOCK_MONOTONIC of the last write */
	bool dropped;
};

/* A connection as the slow-client watchdog sees it. */
struct conn_watch {
	struct conn_watch *next, **pprev;
	int fd;
	struct timespec since;	/* CLOCK_MONOTONIC: accepted, or its last answer sent */
	bool busy;		/* a handler or a stream runs: no deadline */
	bool cut;		/* shut down by the watchdog */
};

struct http_server {
	struct MHD_Daemon *mhd;
	int port;
	char *token;
	char listen_addr[64];	/* the literal it listens on, a Host it answers to */
	char *allowed_hosts;	/* comma-separated, or NULL */
	int request_timeout_s;
	pthread_mutex_t watch_lock;	/* the connections below */
	struct conn_watch *watched;
	pthread_t watchdog;
	bool watchdog_running;
	pthread_cond_t watchdog_wake;
	size_t max_body;
	enum http_read_auth read_auth;
	const struct http_route *routes;
	int nroutes;
	void *ctx;
	pthread_mutex_t *handler_lock;	/* the caller's, held around each handler */
	int max_stream_clients;
	bool no_stream;			/* HTTP_STREAM_PATH is not served here */
	int keepalive_ms;

	pthread_mutex_t lock;	/* the stream clients and their queues */
	struct stream_client *clients;
	int nclients;		/* registered, including dropped ones not yet closed */
	bool stopping;
};

/* Per-request state, from the headers to the completion callback. */
struct request_state {
	const struct http_route *route;
	bool stream;
	int status;		/* an error decided before the handler runs; 0 if none */
	const char *extra_header, *extra_value;
	char message[96];
	char allow[64];
	char *body;
	size_t body_len, body_cap;
	bool authorized, from_loopback;
	char param_buf[HTTP_MAX_PARAMS][HTTP_MAX_PARAM_LEN + 1];
	int nparams;
};

static void msg_put(struct sse_msg *m)
{
	if (m->refs && !--m->refs)
		free(m);
}

/* --- JSON error bodies ------------------------------------------------------------------- */

static char *json_escape(const char *in)
{
	size_t n = 0;
	char *out, *p;

	for (const unsigned char *c = (const unsigned char *)in; *c; c++)
		n += *c == '"' || *c == '\\' ? 2 : *c < 0x20 ? 6 : 1;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	p = out;
	for (const unsigned char *c = (const unsigned char *)in; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*p++ = '\\';
			*p++ = *c;
		} else if (*c < 0x20) {
			p += sprintf(p, "\\u%04x", *c);
		} else {
			*p++ = *c;
		}
	}
	*p = 0;
	return out;
}

void http__error(struct http_response *resp, int status, const char *fmt, ...)
{
	char *msg = NULL, *escaped = NULL, *body = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg)
		escaped = json_escape(msg);
	if (escaped && asprintf(&body, "{\"error\": \"%s\", \"status\": %d}\n", escaped, status) < 0)
		body = NULL;
	free(resp->body);
	resp->body = body;	/* NULL on ENOMEM: the status alone still tells */
	resp->status = status;
	resp->content_type = NULL;
	free(escaped);
	free(msg);
}

/* --- requests ----------------------------------------------------------------------------- */

const char *http_request__query(const struct http_request *r, const char *name)
{
	const char *value = NULL;
	size_t len;

	if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name),
					  &value, &len) != MHD_YES)
		return NULL;
	return value ? value : "";
}

const char *http_request__header(const struct http_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* Matches path against a pattern segment by segment, collecting {placeholder} values. */
static bool route_match(const char *pattern, const char *path, struct request_state *rq)
{
	const char *p = pattern, *u = path;
	int n = 0;

	if (*p != '/' || *u != '/')
		return false;
	for (;;) {
		const char *ps = p + 1, *us = u + 1;
		const char *pe = strchrnul(ps, '/'), *ue = strchrnul(us, '/');
		size_t plen = pe - ps, ulen = ue - us;

		if (plen >= 2 && ps[0] == '{' && pe[-1] == '}') {
			if (!ulen || ulen > HTTP_MAX_PARAM_LEN || n >= HTTP_MAX_PARAMS)
				return false;
			if (rq) {
				memcpy(rq->param_buf[n], us, ulen);
				rq->param_buf[n][ulen] = 0;
			}
			n++;
		} else if (plen != ulen || memcmp(ps, us, plen)) {
			return false;
		}
		p = pe;
		u = ue;
		if (!*p || !*u)
			break;
	}
	if (*p || *u)
		return false;
	if (rq)
		rq->nparams = n;
	return true;
}

static bool valid_route(const struct http_route *r)
{
	int n = 0;

	if (!r->method || !*r->method || !r->fn || !r->pattern || r->pattern[0] != '/')
		return false;
	for (const char *c = r->pattern; *c; c++)
		n += *c == '{';
	return n <= HTTP_MAX_PARAMS;
}

static bool addr_is_loopback(const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* Compares in time that depends only on the length of what the client sent. */
static bool token_equal(const char *given, size_t glen, const char *want)
{
	size_t wlen = strlen(want);
	unsigned char diff = glen != wlen;

	for (size_t i = 0; i < glen; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)want[i % wlen];
	return !diff;
}

/* "Authorization: Bearer <token>", the scheme in any case (RFC 7235). */
static bool has_valid_token(const struct http_server *s, struct MHD_Connection *conn)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	size_t len;

	if (!s->token || !h || strncasecmp(h, "Bearer ", 7))
		return false;
	h += 7;
	h += strspn(h, " \t");
	len = strlen(h);
	while (len && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	return len && token_equal(h, len, s->token);
}

static void __attribute__((format(printf, 3, 4)))
set_error(struct request_state *rq, int status, const char *fmt, ...)
{
	va_list ap;

	rq->status = status;
	va_start(ap, fmt);
	vsnprintf(rq->message, sizeof(rq->message), fmt, ap);
	va_end(ap);
}

/* Appends method to the Allow list ("GET, DELETE") unless it is there already. */
static void add_allowed(char *allow, size_t size, const char *method)
{
	size_t len = strlen(allow), mlen = strlen(method);

	for (const char *p = allow; (p = strstr(p, method)); p += mlen)
		if ((p == allow || p[-1] == ' ') && (!p[mlen] || p[mlen] == ','))
			return;
	snprintf(allow + len, size - len, "%s%s", len ? ", " : "", method);
}

static const char *printable(const char *in, char *buf, size_t size)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < size; i++)
		buf[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	buf[i] = 0;
	return buf;
}

/* Whether name is in the operator's --allowed-hosts ("*": any). */
static bool host_configured(const struct http_server *s, const char *name, size_t len)
{
	for (const char *p = s->allowed_hosts; p && *p;) {
		const char *end = strchrnul(p, ',');

		if ((end - p == 1 && *p == '*') || ((size_t)(end - p) == len && !strncasecmp(p, name, len)))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

/*
 * Whether host (a Host or Origin name, without port or brackets) is one this
 * daemon answers to: localhost, an address literal (a page that reached us
 * through a name it controls, DNS rebinding, sends that name instead), the
 * listen address, or a configured name.
 */
static bool host_allowed(const struct http_server *s, const char *host, size_t len)
{
	struct in6_addr a6;
	struct in_addr a4;
	char name[256];

	if (!len || len >= sizeof(name))
		return false;
	memcpy(name, host, len);
	name[len] = 0;
	return !strcasecmp(name, "localhost") || !strcasecmp(name, s->listen_addr) ||
	       inet_pton(AF_INET, name, &a4) == 1 || inet_pton(AF_INET6, name, &a6) == 1 ||
	       host_configured(s, name, len);
}

/* Splits "name", "name:port", "[v6]" or "[v6]:port"; port is NULL when absent. */
static bool split_hostport(const char *hp, const char **name, size_t *len, const char **port)
{
	const char *end;

	*port = NULL;
	if (hp[0] == '[') {
		end = strchr(hp, ']');
		if (!end || (end[1] && end[1] != ':'))
			return false;
		*name = hp + 1;
		*len = end - hp - 1;
		*port = end[1] ? end + 2 : NULL;
		return true;
	}
	end = strchr(hp, ':');
	*name = hp;
	*len = end ? (size_t)(end - hp) : strlen(hp);
	*port = end ? end + 1 : NULL;
	return true;
}

static bool hostport_allowed(const struct http_server *s, const char *hp)
{
	const char *name, *port;
	size_t len;

	return split_hostport(hp, &name, &len, &port) && host_allowed(s, name, len);
}

/*
 * An Origin ("scheme://host[:port]") of a page this daemon served: an
 * allowed host on this daemon's port, or a configured name on any (a proxy).
 */
static bool origin_allowed(const struct http_server *s, const char *origin)
{
	const char *hp = strstr(origin, "://"), *name, *port;
	size_t len;
	__u64 p;

	if (!hp || strncmp(origin, "http", 4))
		return false;	/* "null" (sandboxed frames, file:) and other schemes */
	hp += 3;
	if (strchr(hp, '/') || !split_hostport(hp, &name, &len, &port))
		return false;
	if (host_configured(s, name, len))
		return true;
	return host_allowed(s, name, len) && port && !num__parse_u64(port, 1, 65535, &p) && p == (__u64)s->port;
}

/* Decides, from the request line and headers alone, where the request goes or why it cannot. */
static void classify(struct http_server *s, struct MHD_Connection *conn, const char *url,
		     const char *method, struct request_state *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ORIGIN);
	bool known_path = false, mutating, private, needs_token;
	const char *cl;
	char pbuf[64];

	rq->from_loopback = ci && addr_is_loopback(ci->client_addr);
	rq->authorized = has_valid_token(s, conn);
	/* a page of another site that resolves its name to us (DNS rebinding) sends its own Host */
	if (host && !hostport_allowed(s, host)) {
		set_error(rq, MHD_HTTP_MISDIRECTED_REQUEST, "host '%s' is not one this daemon answers to "
			  "(see --allowed-hosts)", printable(host, pbuf, sizeof(pbuf)));
		return;
	}

	if (!s->no_stream && route_match(HTTP_STREAM_PATH, url, NULL)) {
		known_path = true;
		add_allowed(rq->allow, sizeof(rq->allow), "GET");
		rq->stream = !strcmp(method, "GET");
	}
	for (int i = 0; i < s->nroutes && !rq->stream && !rq->route; i++) {
		const struct http_route *r = &s->routes[i];

		if (!route_match(r->pattern, url, rq))
			continue;
		known_path = true;
		add_allowed(rq->allow, sizeof(rq->allow), r->method);
		if (!strcmp(r->method, method))
			rq->route = r;
	}
	if (!known_path) {
		set_error(rq, MHD_HTTP_NOT_FOUND, "not found");
		return;
	}
	if (!rq->stream && !rq->route) {
		set_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "method %.16s not allowed here", method);
		rq->extra_header = MHD_HTTP_HEADER_ALLOW;
		rq->extra_value = rq->allow;
		return;
	}
	mutating = rq->route && rq->route->mutating;
	/* the stream carries what executions start with: their command lines */
	private = rq->stream || (rq->route && rq->route->private);
	switch (s->read_auth) {
	case HTTP_READ_AUTH_PRIVATE:
		needs_token = mutating || private || !rq->from_loopback;
		break;
	case HTTP_READ_AUTH_REMOTE:
		needs_token = mutating || !rq->from_loopback;
		break;
	case HTTP_READ_AUTH_ALWAYS:
		needs_token = true;
		break;
	default:
		needs_token = mutating;
		break;
	}
	if (needs_token && !rq->authorized) {
		set_error(rq, MHD_HTTP_UNAUTHORIZED, "a valid bearer token is required");
		rq->extra_header = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		rq->extra_value = "Bearer realm=\"workerwatch\"";
		return;
	}
	/* a browser sends its page's Origin: a write from another site's page is refused, token or not */
	if (mutating && origin && !origin_allowed(s, origin)) {
		set_error(rq, MHD_HTTP_FORBIDDEN, "a write from origin '%s' is refused",
			  printable(origin, pbuf, sizeof(pbuf)));
		return;
	}
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		__u64 len;

		if (num__parse_u64(cl, 0, s->max_body, &len))
			set_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %zu bytes", s->max_body);
	}
}

static bool has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strspn(cl, "0") != strlen(cl)) ||
	       MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Keeps at most max_body bytes; past that the rest is read and dropped, and the answer is 413. */
static void take_body(struct http_server *s, struct request_state *rq, const char *data, size_t len)
{
	if (rq->status)
		return;
	if (len > s->max_body - rq->body_len) {
		free(rq->body);
		rq->body = NULL;
		rq->body_len = rq->body_cap = 0;
		set_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %zu bytes", s->max_body);
		return;
	}
	if (rq->body_len + len + 1 > rq->body_cap) {
		size_t cap = rq->body_cap ? rq->body_cap : 4096;
		char *nb;

		while (cap < rq->body_len + len + 1)
			cap *= 2;
		if (cap > s->max_body + 1)
			cap = s->max_body + 1;
		nb = realloc(rq->body, cap);
		if (!nb) {
			set_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
			return;
		}
		rq->body = nb;
		rq->body_cap = cap;
	}
	memcpy(rq->body + rq->body_len, data, len);
	rq->body_len += len;
	rq->body[rq->body_len] = 0;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, const char *method, const char *url,
				     struct http_response *resp, const char *hdr, const char *value)
{
	const char *type = resp->content_type ? resp->content_type : "application/json";
	int status = resp->status;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char pbuf[128];

	if (status < 100 || status > 599) {
		ww_warn("http: handler for %s gave status %d", printable(url, pbuf, sizeof(pbuf)), status);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	if (resp->body)
		r = MHD_create_response_from_buffer(resp->body_len ? resp->body_len : strlen(resp->body),
						    resp->body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(resp->body);
		resp->body = NULL;
		return MHD_NO;
	}
	resp->body = NULL;	/* MHD owns it now */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (!strncmp(type, "application/json", 16))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (hdr)
		MHD_add_response_header(r, hdr, value);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	ww_debug("http: %s %s -> %d", method, printable(url, pbuf, sizeof(pbuf)), status);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, const char *method, const char *url,
				  struct request_state *rq)
{
	struct http_response resp = { 0 };

	http__error(&resp, rq->status, "%s", rq->message);
	return send_response(conn, method, url, &resp, rq->extra_header, rq->extra_value);
}

/* --- the event stream ---------------------------------------------------------------------- */

static void now_mono(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static void client_clear_queue(struct stream_client *c)
{
	for (; c->count; c->count--, c->head = (c->head + 1) % STREAM_QUEUE)
		msg_put(c->queue[c->head]);
	c->off = 0;
}

/* Under s->lock. Wakes the client's thread wherever it waits: in stream_read or in MHD's poll. */
static void client_drop(struct stream_client *c)
{
	c->dropped = true;
	client_clear_queue(c);
	/* the fd stays open until after stream_free unlinks c, which needs this lock */
	shutdown(c->fd, SHUT_RDWR);
	pthread_cond_signal(&c->wake);
}

static void client_push(struct stream_client *c, struct sse_msg *m)
{
	c->queue[(c->head + c->count) % STREAM_QUEUE] = m;
	c->count++;
	if (m->refs)
		m->refs++;
	pthread_cond_signal(&c->wake);
}

/* MHD's content reader: blocks (in this connection's own thread) until there is something to send. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_client *c = cls;
	struct http_server *s = c->s;
	ssize_t ret = 0;
	size_t n = 0;

	(void)pos;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct timespec deadline = c->last;

		if (s->stopping || c->dropped) {
			ret = MHD_CONTENT_READER_END_WITH_ERROR;
			break;
		}
		while (c->count && n < max) {
			struct sse_msg *m = c->queue[c->head];
			size_t chunk = m->len - c->off;

			if (chunk > max - n)
				chunk = max - n;
			memcpy(buf + n, m->text + c->off, chunk);
			n += chunk;
			c->off += chunk;
			if (c->off == m->len) {
				msg_put(m);
				c->head = (c->head + 1) % STREAM_QUEUE;
				c->count--;
				c->off = 0;
			}
		}
		if (n) {
			ret = n;
			now_mono(&c->last);
			break;
		}
		deadline.tv_sec += s->keepalive_ms / 1000;
		deadline.tv_nsec += (s->keepalive_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&c->wake, &s->lock, &deadline) == ETIMEDOUT && !c->count)
			client_push(c, &keepalive);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* MHD frees the response (and with it this) before it closes the socket. */
static void stream_free(void *cls)
{
	struct stream_client *c = cls;
	struct http_server *s = c->s;

	pthread_mutex_lock(&s->lock);
	if (c->pprev) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
		s->nclients--;
	}
	client_clear_queue(c);
	pthread_mutex_unlock(&s->lock);
	pthread_cond_destroy(&c->wake);
	free(c);
}

static enum MHD_Result start_stream(struct http_server *s, struct MHD_Connection *conn, const char *method,
				    const char *url, struct request_state *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct stream_client *c = calloc(1, sizeof(*c));
	pthread_condattr_t attr;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char pbuf[128];

	if (!c || !ci) {
		free(c);
		set_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot start the stream");
		return send_error(conn, method, url, rq);
	}
	c->s = s;
	c->fd = ci->connect_fd;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &attr);
	pthread_condattr_destroy(&attr);
	now_mono(&c->last);
	client_push(c, &connected);

	pthread_mutex_lock(&s->lock);
	if (s->stopping || s->nclients >= s->max_stream_clients) {
		pthread_mutex_unlock(&s->lock);
		stream_free(c);
		set_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, s->stopping ? "shutting down" : "too many stream clients");
		return send_error(conn, method, url, rq);
	}
	c->next = s->clients;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &s->clients;
	s->clients = c;
	s->nclients++;
	pthread_mutex_unlock(&s->lock);

	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, c, stream_free);
	if (!r) {
		stream_free(c);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* nginx would otherwise buffer the stream */
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	ww_debug("http: %s %s -> stream", method, printable(url, pbuf, sizeof(pbuf)));
	return ret;
}

int http__broadcast(struct http_server *s, const char *event, const char *json)
{
	size_t elen = strlen(event), jlen = strlen(json), lines = 1, len;
	struct sse_msg *m;
	char *p;
	int n = 0;

	if (!elen || strpbrk(event, "\r\n"))
		return -EINVAL;
	for (const char *c = json; *c; c++)
		lines += *c == '\n' || (*c == '\r' && c[1] != '\n');
	/* "event: E\n" + "data: L\n" per line of the JSON + "\n" */
	len = 7 + elen + 1 + lines * 7 + jlen + 1;
	m = malloc(sizeof(*m) + len + 1);
	if (!m)
		return -ENOMEM;
	m->text = m->data;
	p = m->data + sprintf(m->data, "event: %s\ndata: ", event);
	for (const char *c = json; *c; c++) {
		if (*c == '\r' && c[1] == '\n')
			continue;
		if (*c == '\n' || *c == '\r') {
			memcpy(p, "\ndata: ", 7);
			p += 7;
		} else {
			*p++ = *c;
		}
	}
	*p++ = '\n';
	*p++ = '\n';
	*p = 0;
	m->len = p - m->data;
	m->refs = 1;

	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		n = -ESHUTDOWN;
	} else {
		for (struct stream_client *c = s->clients; c; c = c->next) {
			if (c->dropped)
				continue;
			if (c->count == STREAM_QUEUE) {
				ww_info("http: dropping a stream client %d events behind", STREAM_QUEUE);
				client_drop(c);
				continue;
			}
			client_push(c, m);
			n++;
		}
	}
	msg_put(m);
	pthread_mutex_unlock(&s->lock);
	return n;
}

int http__stream_clients(struct http_server *s)
{
	int n = 0;

	pthread_mutex_lock(&s->lock);
	for (struct stream_client *c = s->clients; c; c = c->next)
		n += !c->dropped;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* --- slow clients -------------------------------------------------------------------------- */

static struct conn_watch *watch_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* A handler or a stream runs (busy), or the connection waits for its next request. */
static void watch_set_busy(struct http_server *s, struct MHD_Connection *conn, bool busy)
{
	struct conn_watch *w = watch_of(conn);

	if (!w)
		return;
	pthread_mutex_lock(&s->watch_lock);
	w->busy = busy;
	now_mono(&w->since);
	pthread_mutex_unlock(&s->watch_lock);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn_watch *w;

	pthread_mutex_lock(&s->watch_lock);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		w = ci ? calloc(1, sizeof(*w)) : NULL;
		if (w) {
			w->fd = ci->connect_fd;
			now_mono(&w->since);
			w->next = s->watched;
			if (w->next)
				w->next->pprev = &w->next;
			w->pprev = &s->watched;
			s->watched = w;
		}
		*socket_context = w;
	} else if ((w = *socket_context)) {
		/* before MHD closes the fd: the watchdog must never shut down a reused one */
		*w->pprev = w->next;
		if (w->next)
			w->next->pprev = w->pprev;
		free(w);
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&s->watch_lock);
}

/*
 * Closes connections whose request has not arrived whole within the
 * deadline: MHD's own timeout is an idle one, which a client that trickles a
 * header line now and then never reaches, so such clients could hold every
 * connection slot.
 */
static void *watchdog_main(void *arg)
{
	struct http_server *s = arg;
	struct timespec now, tick;

	pthread_mutex_lock(&s->watch_lock);
	while (s->watchdog_running) {
		now_mono(&now);
		for (struct conn_watch *w = s->watched; w; w = w->next) {
			if (w->busy || w->cut || now.tv_sec - w->since.tv_sec < s->request_timeout_s)
				continue;
			w->cut = true;
			shutdown(w->fd, SHUT_RDWR);
		}
		now_mono(&tick);
		tick.tv_nsec += 250 * 1000000L;
		if (tick.tv_nsec >= 1000000000L) {
			tick.tv_sec++;
			tick.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->watchdog_wake, &s->watch_lock, &tick);
	}
	pthread_mutex_unlock(&s->watch_lock);
	return NULL;
}

/* --- MHD callbacks ------------------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	struct request_state *rq = *req_cls;
	struct http_request req;
	struct http_response resp = { .status = MHD_HTTP_OK };

	(void)version;
	if (!rq) {
		/* headers only: decide now, so an unwanted body is refused before it is read */
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*req_cls = rq;
		classify(s, conn, url, method, rq);
		/* answering now makes MHD skip the body and close; without a body, keep the connection */
		if (rq->status && has_body(conn))
			return send_error(conn, method, url, rq);
		return MHD_YES;
	}
	if (*upload_data_size) {
		take_body(s, rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/* an answer cannot be queued mid-body: past the limit, the connection is closed */
		return rq->status == MHD_HTTP_CONTENT_TOO_LARGE ? MHD_NO : MHD_YES;
	}
	if (rq->status)
		return send_error(conn, method, url, rq);
	watch_set_busy(s, conn, true);
	if (rq->stream)
		return start_stream(s, conn, method, url, rq);

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.body = rq->body;
	req.body_len = rq->body_len;
	for (int i = 0; i < rq->nparams; i++)
		req.params[i] = rq->param_buf[i];
	req.authorized = rq->authorized;
	req.from_loopback = rq->from_loopback;
	req.conn = conn;
	if (s->handler_lock)
		pthread_mutex_lock(s->handler_lock);
	rq->route->fn(s->ctx, &req, &resp);
	if (s->handler_lock)
		pthread_mutex_unlock(s->handler_lock);
	return send_response(conn, method, url, &resp, NULL, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request_state *rq = *req_cls;

	(void)toe;
	/* a kept-alive connection's next request has the same deadline */
	watch_set_busy(cls, conn, false);
	if (rq) {
		free(rq->body);
		free(rq);
		*req_cls = NULL;
	}
}

/* MHD's own complaints (malformed requests, resets) are routine: debug level. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t len;

	(void)cls;
	if (LOG_DEBUG > log_verbosity)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && buf[len - 1] == '\n')
		buf[--len] = 0;
	log_write(LOG_DEBUG, "http: %s", buf);
}

/* --- server -------------------------------------------------------------------------------- */

static int parse_addr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len, bool *any6)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t alen = strlen(addr);

	memset(ss, 0, sizeof(*ss));
	*any6 = false;
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	/* "[::1]" as well as "::1" */
	if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']' && alen - 2 < sizeof(buf)) {
		memcpy(buf, addr + 1, alen - 2);
		buf[alen - 2] = 0;
		addr = buf;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		*any6 = IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
		return 0;
	}
	return -EINVAL;
}

/* Binds here rather than in MHD, for a precise error message and the port of port 0. */
static int listen_on(const char *addr, int port, int *port_out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool any6;
	int fd = -1, on = 1, err;

	err = parse_addr(addr, port, &ss, &len, &any6);
	if (err) {
		ww_err("invalid listen address '%s': not an IPv4 or IPv6 literal", addr);
		goto cleanup;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err = -errno;
		ww_err("cannot listen on %s port %d: %s", addr, port, strerror(-err));
		goto cleanup;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ss.ss_family == AF_INET6) {
		/* dual stack only on "::"; "::1" must not also take IPv4 */
		int v6only = !any6;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128)) {
		err = -errno;
		ww_err("cannot listen on %s port %d: %s", addr, port, strerror(-err));
		goto cleanup;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len)) {
		err = -errno;
		ww_err("cannot listen on %s port %d: %s", addr, port, strerror(-err));
		goto cleanup;
	}
	*port_out = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
cleanup:
	if (fd >= 0)
		close(fd);
	return err;
}

static void stop_watchdog(struct http_server *s)
{
	if (!s->watchdog_running)
		return;
	pthread_mutex_lock(&s->watch_lock);
	s->watchdog_running = false;
	pthread_cond_signal(&s->watchdog_wake);
	pthread_mutex_unlock(&s->watch_lock);
	pthread_join(s->watchdog, NULL);
}

struct http_server *http__start(const struct http_opts *o)
{
	const char *addr = o->addr ? o->addr : HTTP_DEFAULT_ADDR;
	struct http_server *s = NULL;
	pthread_condattr_t cattr;
	bool locked = false;
	int fd = -1, err = 0;

	if (o->port < 0 || o->port > 65535 || o->nroutes < 0 || (o->nroutes && !o->routes)) {
		err = -EINVAL;
		ww_err("invalid HTTP options (port %d)", o->port);
		goto cleanup;
	}
	for (int i = 0; i < o->nroutes; i++) {
		if (!valid_route(&o->routes[i])) {
			err = -EINVAL;
			ww_err("invalid HTTP route %d (%s)", i, o->routes[i].pattern ? o->routes[i].pattern : "no pattern");
			goto cleanup;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		err = -ENOMEM;
		ww_err("cannot start the HTTP server: %s", strerror(-err));
		goto cleanup;
	}
	if (o->token && *o->token) {
		s->token = strdup(o->token);
		if (!s->token) {
			err = -ENOMEM;
			ww_err("cannot start the HTTP server: %s", strerror(-err));
			goto cleanup;
		}
	}
	if (o->allowed_hosts && *o->allowed_hosts) {
		s->allowed_hosts = strdup(o->allowed_hosts);
		if (!s->allowed_hosts) {
			err = -ENOMEM;
			ww_err("cannot start the HTTP server: %s", strerror(-err));
			goto cleanup;
		}
	}
	/* the listen address is a Host this daemon answers to ("[::1]" as "::1") */
	snprintf(s->listen_addr, sizeof(s->listen_addr), "%.*s",
		 addr[0] == '[' && strlen(addr) >= 2 ? (int)strlen(addr) - 2 : (int)strlen(addr),
		 addr[0] == '[' ? addr + 1 : addr);
	s->request_timeout_s = o->request_timeout_s > 0 ? o->request_timeout_s : HTTP_REQUEST_TIMEOUT_S;
	s->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
	s->read_auth = o->read_auth;
	s->routes = o->routes;
	s->nroutes = o->nroutes;
	s->ctx = o->ctx;
	s->handler_lock = o->lock;
	s->max_stream_clients = o->max_stream_clients > 0 ? o->max_stream_clients : DEFAULT_STREAM_CLIENTS;
	s->no_stream = o->no_stream;
	s->keepalive_ms = o->stream_keepalive_ms > 0 ? o->stream_keepalive_ms : DEFAULT_KEEPALIVE_MS;
	/* a keepalive must come well within the connection timeout */
	if (s->keepalive_ms > CONNECTION_TIMEOUT_S * 1000 / 2)
		s->keepalive_ms = CONNECTION_TIMEOUT_S * 1000 / 2;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->watch_lock, NULL);
	/* the watchdog's deadlines are CLOCK_MONOTONIC, like the connections' times */
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->watchdog_wake, &cattr);
	pthread_condattr_destroy(&cattr);
	locked = true;
	s->watchdog_running = true;
	err = -pthread_create(&s->watchdog, NULL, watchdog_main, s);
	if (err) {
		s->watchdog_running = false;
		ww_err("cannot start the HTTP server: %s", strerror(-err));
		goto cleanup;
	}

	fd = listen_on(addr, o->port, &s->port);
	if (fd < 0) {
		err = fd;
		goto cleanup;
	}
	if (!s->token)
		ww_info("http: no API token: refusing every mutation%s",
			s->read_auth == HTTP_READ_AUTH_ALWAYS ? " and every read" :
			s->read_auth == HTTP_READ_AUTH_REMOTE ? " and reads from other hosts" : "");

	/* One thread per connection: handlers and stream clients never wait for each other. */
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
				  MHD_USE_POLL | MHD_USE_ERROR_LOG,
				  0, NULL, NULL, on_request, s,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  (unsigned int)(o->per_client_connections > 0 ? o->per_client_connections
									  : HTTP_PER_CLIENT_CONNECTIONS),
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT_S,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
				  MHD_OPTION_END);
	/* MHD owns the socket from here on, and closes it itself if it fails */
	fd = -1;
	if (!s->mhd) {
		err = errno ? -errno : -EIO;
		ww_err("cannot start the HTTP server on %s port %d: %s", addr, s->port, strerror(-err));
		goto cleanup;
	}
	ww_debug("http: listening on %s port %d", addr, s->port);
cleanup:
	if (err) {
		if (fd >= 0)
			close(fd);
		if (s) {
			stop_watchdog(s);
			if (locked) {
				pthread_mutex_destroy(&s->lock);
				pthread_mutex_destroy(&s->watch_lock);
				pthread_cond_destroy(&s->watchdog_wake);
			}
			free(s->allowed_hosts);
			free(s->token);
			free(s);
		}
		errno = -err;
		return NULL;
	}
	return s;
}

int http__port(const struct http_server *s)
{
	return s->port;
}

void http__stop(struct http_server *s)
{
	if (!s)
		return;
	/* wake the stream threads blocked in stream_read, or MHD would wait for them forever */
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	for (struct stream_client *c = s->clients; c; c = c->next)
		pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&s->lock);
	/* closes every connection and joins every connection thread */
	MHD_stop_daemon(s->mhd);
	stop_watchdog(s);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->watch_lock);
	pthread_cond_destroy(&s->watchdog_wake);
	free(s->allowed_hosts);
	if (s->token) {
		explicit_bzero(s->token, strlen(s->token));
		free(s->token);
	}
	free(s);
}
