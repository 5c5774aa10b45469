// SPDX-License-Identifier: MIT
/* Tests of the HTTP layer: a real server on loopback, real requests through libcurl and raw sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include "harness.h"
#include "daemon/http.h"

#define TOKEN "s3cret-token-0123456789"

/* CHECK_EQ evaluates its arguments twice; a call with effects must run once. */
#define CHECK_RET(call, want) do {							\
		long ret_ = (call);							\
		CHECK(ret_ == (want), "%s = %ld, want %ld", #call, ret_, (long)(want));	\
	} while (0)

__attribute__((constructor)) static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

__attribute__((destructor)) static void curl_fini(void)
{
	curl_global_cleanup();
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* --- handlers ------------------------------------------------------------------------------ */

/* Echoes what the layer made of the request; ctx counts the calls. */
static void echo(void *ctx, const struct http_request *req, struct http_response *resp)
{
	static const char *const names[] = { "a", "b", "empty", "flag", "uni", "missing" };
	cJSON *o = cJSON_CreateObject(), *params = cJSON_AddArrayToObject(o, "params");
	cJSON *query = cJSON_AddObjectToObject(o, "query");
	const char *h = http_request__header(req, "X-Test");

	atomic_fetch_add((atomic_int *)ctx, 1);
	cJSON_AddStringToObject(o, "method", req->method);
	cJSON_AddStringToObject(o, "path", req->path);
	for (int i = 0; i < HTTP_MAX_PARAMS && req->params[i]; i++)
		cJSON_AddItemToArray(params, cJSON_CreateString(req->params[i]));
	cJSON_AddNumberToObject(o, "body_len", req->body_len);
	cJSON_AddBoolToObject(o, "body_terminated", !req->body || !req->body[req->body_len]);
	cJSON_AddBoolToObject(o, "authorized", req->authorized);
	cJSON_AddBoolToObject(o, "from_loopback", req->from_loopback);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = http_request__query(req, names[i]);

		cJSON_AddItemToObject(query, names[i], v ? cJSON_CreateString(v) : cJSON_CreateNull());
	}
	if (h)
		cJSON_AddStringToObject(o, "x_test", h);
	resp->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
}

static void slow(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	(void)req;
	sleep_ms(300);
	resp->body = strdup("{\"slept\": true}");
}

static void text(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	(void)req;
	resp->body = strdup("hello\n");
	resp->content_type = "text/plain; charset=utf-8";
}

static void conflict(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	resp->body = strdup("replaced by the error");
	http__error(resp, 409, "execution \"%s\" is\nbusy\\", req->params[0]);
}

static const struct http_route routes[] = {
	{ "GET", "/api/v1/executions", echo, false, false },
	{ "GET", "/api/v1/executions/{id}", echo, false, false },
	{ "DELETE", "/api/v1/executions/{id}", echo, true, false },
	{ "GET", "/api/v1/executions/{id}/samples/{kind}", echo, false, false },
	{ "POST", "/api/v1/things", echo, true, false },
	{ "GET", "/api/v1/slow", slow, false, false },
	{ "GET", "/api/v1/text", text, false, false },
	{ "GET", "/api/v1/conflict/{id}", conflict, false, false },
	{ "GET", "/", echo, false, false },
	{ "GET", "/api/v1/private", echo, false, true },
};

static atomic_int calls;

static struct http_server *start(struct http_opts *o)
{
	struct http_server *s;

	o->addr = o->addr ? o->addr : "127.0.0.1";
	o->routes = routes;
	o->nroutes = sizeof(routes) / sizeof(routes[0]);
	o->ctx = &calls;
	s = http__start(o);
	CHECK(s != NULL, "http__start on %s: %s", o->addr, strerror(errno));
	return s;
}

/* --- a curl client ------------------------------------------------------------------------- */

struct reply {
	long status;
	CURLcode rc;
	char *body, *headers;
	size_t len, hlen;
	curl_off_t uploaded;
	cJSON *json;
};

static size_t append(char **buf, size_t *len, const char *data, size_t n)
{
	char *nb = realloc(*buf, *len + n + 1);

	if (!nb)
		return 0;
	memcpy(nb + *len, data, n);
	*len += n;
	nb[*len] = 0;
	*buf = nb;
	return n;
}

static size_t on_body(char *data, size_t size, size_t n, void *r_)
{
	struct reply *r = r_;

	return append(&r->body, &r->len, data, size * n);
}

static size_t on_header(char *data, size_t size, size_t n, void *r_)
{
	struct reply *r = r_;

	return append(&r->headers, &r->hlen, data, size * n);
}

/* Value of a response header, in a static buffer. */
static const char *reply_header(const struct reply *r, const char *name)
{
	static char value[256];
	size_t nlen = strlen(name);

	for (const char *p = r->headers; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncasecmp(p, name, nlen) && p[nlen] == ':') {
			size_t vlen;

			p += nlen + 1;
			p += strspn(p, " ");
			vlen = strcspn(p, "\r\n");
			snprintf(value, sizeof(value), "%.*s", (int)vlen, p);
			return value;
		}
	}
	return NULL;
}

static void reply_free(struct reply *r)
{
	free(r->body);
	free(r->headers);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

static const char *url(const char *host, int port, const char *path)
{
	static char bufs[4][1024];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "http://%s:%d%s", host, port, path);
	return b;
}

/* Generates body bytes for uploads that curl streams. */
struct upload {
	size_t left;
};

static size_t on_upload(char *buf, size_t size, size_t n, void *u_)
{
	struct upload *u = u_;
	size_t len = size * n < u->left ? size * n : u->left;

	memset(buf, 'x', len);
	u->left -= len;
	return len;
}

/*
 * One request. body: NULL for none; upload_len > 0 streams that many bytes
 * instead (chunked if chunked). auth: the whole Authorization value or NULL.
 */
static bool request_full(const char *method, const char *u, const char *auth, const char *body,
			 size_t upload_len, bool chunked, struct reply *r)
{
	struct curl_slist *hdrs = NULL;
	struct upload up = { upload_len };
	char auth_hdr[256];
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	if (!c)
		return false;
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (auth) {
		snprintf(auth_hdr, sizeof(auth_hdr), "Authorization: %s", auth);
		hdrs = curl_slist_append(hdrs, auth_hdr);
	}
	hdrs = curl_slist_append(hdrs, "X-Test: header value");
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (upload_len) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
		if (chunked)
			hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
		else
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)upload_len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	r->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &r->uploaded);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (r->body)
		r->json = cJSON_Parse(r->body);
	return r->rc == CURLE_OK;
}

static bool request(const char *method, const char *u, const char *auth, const char *body, struct reply *r)
{
	bool ok = request_full(method, u, auth, body, 0, false, r);

	CHECK(ok, "%s %s: %s", method, u, curl_easy_strerror(r->rc));
	return ok;
}

/* POSTs len generated bytes, with a Content-Length or chunked. */
static bool upload(const char *u, const char *auth, size_t len, bool chunked, struct reply *r)
{
	bool ok = request_full("POST", u, auth, NULL, len, chunked, r);

	CHECK(ok, "POST %zu bytes%s to %s: %s", len, chunked ? " chunked" : "", u, curl_easy_strerror(r->rc));
	return ok;
}

/* The JSON error body the layer promises: {"error": "...", "status": N}. */
static bool is_json_error(const struct reply *r, int status)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(r->json, "status");
	const char *type = reply_header(r, "Content-Type");

	return r->status == status && cJSON_IsString(e) && *e->valuestring && cJSON_IsNumber(st) &&
	       st->valueint == status && type && !strcmp(type, "application/json");
}

static const char *jstr(const struct reply *r, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jtrue(const struct reply *r, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->json, name));
}

/* --- tests --------------------------------------------------------------------------------- */

TEST(http_routes_and_params)
{
	struct http_opts o = {};
	struct http_server *s = start(&o);
	struct reply r;
	char path[512], id[HTTP_MAX_PARAM_LEN + 2];
	int port;

	ASSERT(s, "no server");
	port = http__port(s);
	CHECK(port > 0, "port %d", port);

	if (request("GET", url("127.0.0.1", port, "/api/v1/executions"), NULL, NULL, &r)) {
		CHECK_EQ(r.status, 200);
		CHECK_STR(jstr(&r, "path"), "/api/v1/executions");
		CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "params")), 0);
		CHECK_STR(reply_header(&r, "Content-Type"), "application/json");
		CHECK_STR(reply_header(&r, "Cache-Control"), "no-store");
		CHECK_STR(jstr(&r, "x_test"), "header value");
		CHECK(jtrue(&r, "from_loopback") && !jtrue(&r, "authorized"), "flags: %s", r.body);
	}
	reply_free(&r);
	if (request("GET", url("127.0.0.1", port, "/api/v1/executions/e-42/samples/cpu"), NULL, NULL, &r)) {
		cJSON *params = cJSON_GetObjectItem(r.json, "params");

		CHECK_EQ(r.status, 200);
		CHECK_EQ(cJSON_GetArraySize(params), 2);
		CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(params, 0)), "e-42");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(params, 1)), "cpu");
	}
	reply_free(&r);
	if (request("GET", url("127.0.0.1", port, "/"), NULL, NULL, &r))
		CHECK_STR(jstr(&r, "path"), "/");
	reply_free(&r);
	if (request("GET", url("127.0.0.1", port, "/api/v1/text"), NULL, NULL, &r)) {
		CHECK_EQ(r.status, 200);
		CHECK_STR(r.body, "hello\n");
		CHECK_STR(reply_header(&r, "Content-Type"), "text/plain; charset=utf-8");
	}
	reply_free(&r);

	/* placeholders: up to 128 bytes, not empty, never spanning a '/' (even encoded) */
	memset(id, 'a', HTTP_MAX_PARAM_LEN);
	id[HTTP_MAX_PARAM_LEN] = 0;
	snprintf(path, sizeof(path), "/api/v1/executions/%s", id);
	if (request("GET", url("127.0.0.1", port, path), NULL, NULL, &r)) {
		CHECK_EQ(r.status, 200);
		CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "params"), 0)), id);
	}
	reply_free(&r);
	strcat(id, "a");
	snprintf(path, sizeof(path), "/api/v1/executions/%s", id);
	const char *const not_found[] = {
		path, "/api/v1/executions/", "/api/v1/executions//samples/cpu", "/api/v1/executions/a%2Fb",
		"/api/v1/executions/1/samples", "/api/v1/executionsX", "/api/v1", "/api/v1/executions/1/samples/cpu/x",
		"/API/v1/executions", "/api/v1/stream/x",
	};
	for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
		if (request("GET", url("127.0.0.1", port, not_found[i]), NULL, NULL, &r))
			CHECK(is_json_error(&r, 404), "GET %s: %ld %s", not_found[i], r.status, r.body);
		reply_free(&r);
	}
	http__stop(s);
}

TEST(http_query_decoding)
{
	struct http_opts o = {};
	struct http_server *s = start(&o);
	struct reply r;

	ASSERT(s, "no server");
	if (request("GET", url("127.0.0.1", http__port(s),
			       "/api/v1/executions?a=hello%20world%26more&b=x+y&empty=&flag&uni=%C3%A9t%C3%A9"),
		    NULL, NULL, &r)) {
		cJSON *q = cJSON_GetObjectItem(r.json, "query");

		CHECK_EQ(r.status, 200);
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(q, "a")), "hello world&more");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(q, "b")), "x y");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(q, "empty")), "");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(q, "flag")), "");
		CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(q, "uni")), "\xc3\xa9t\xc3\xa9");
		CHECK(cJSON_IsNull(cJSON_GetObjectItem(q, "missing")), "missing: %s", r.body);
		CHECK_STR(jstr(&r, "path"), "/api/v1/executions");
	}
	reply_free(&r);
	http__stop(s);
}

TEST(http_errors_are_json)
{
	struct http_opts o = { .token = TOKEN };
	struct http_server *s = start(&o);
	struct reply r;
	int port;

	ASSERT(s, "no server");
	port = http__port(s);
	if (request("GET", url("127.0.0.1", port, "/nope"), NULL, NULL, &r)) {
		CHECK(is_json_error(&r, 404), "404: %ld %s", r.status, r.body);
		CHECK_STR(reply_header(&r, "Cache-Control"), "no-store");
	}
	reply_free(&r);
	/* a known path with the wrong method: 405 and every method it has */
	if (request("POST", url("127.0.0.1", port, "/api/v1/executions/7"), "Bearer " TOKEN, "{}", &r)) {
		CHECK(is_json_error(&r, 405), "405: %ld %s", r.status, r.body);
		CHECK_STR(reply_header(&r, "Allow"), "GET, DELETE");
	}
	reply_free(&r);
	if (request("PUT", url("127.0.0.1", port, "/api/v1/stream"), NULL, NULL, &r)) {
		CHECK(is_json_error(&r, 405), "405: %ld %s", r.status, r.body);
		CHECK_STR(reply_header(&r, "Allow"), "GET");
	}
	reply_free(&r);
	/* a handler's own error, with what JSON must escape */
	if (request("GET", url("127.0.0.1", port, "/api/v1/conflict/x1"), NULL, NULL, &r)) {
		CHECK(is_json_error(&r, 409), "409: %ld %s", r.status, r.body);
		CHECK_STR(jstr(&r, "error"), "execution \"x1\" is\nbusy\\");
	}
	reply_free(&r);
	/* the connection stays usable after an error without a body: keep-alive is the norm */
	http__stop(s);
}

TEST(http_bearer_token)
{
	static const char *const refused[] = {
		NULL, "Bearer", "Bearer ", "Bearer wrong", "Basic " TOKEN, "Bearer " TOKEN "x",
		"Bearer s3cret-token-012345678", "Bearer S3CRET-TOKEN-0123456789", "Bearer" TOKEN,
	};
	static const char *const accepted[] = { "Bearer " TOKEN, "bearer " TOKEN, "Bearer   " TOKEN "  " };
	struct http_opts o = { .token = TOKEN };
	struct http_server *s = start(&o);
	struct reply r;
	int port;

	ASSERT(s, "no server");
	port = http__port(s);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (request("DELETE", url("127.0.0.1", port, "/api/v1/executions/1"), refused[i], NULL, &r)) {
			CHECK(is_json_error(&r, 401), "'%s': %ld %s", refused[i] ? refused[i] : "", r.status, r.body);
			CHECK_STR(reply_header(&r, "WWW-Authenticate"), "Bearer realm=\"workerwatch\"");
		}
		reply_free(&r);
	}
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		if (request("DELETE", url("127.0.0.1", port, "/api/v1/executions/1"), accepted[i], NULL, &r)) {
			CHECK_EQ(r.status, 200);
			CHECK(jtrue(&r, "authorized"), "'%s': %s", accepted[i], r.body);
		}
		reply_free(&r);
	}
	/* an unauthorized upload is refused before its body is read */
	if (request("POST", url("127.0.0.1", port, "/api/v1/things"), "Bearer nope", "{\"a\": 1}", &r))
		CHECK(is_json_error(&r, 401), "POST: %ld %s", r.status, r.body);
	reply_free(&r);
	/* reads from loopback need no token by default */
	if (request("GET", url("127.0.0.1", port, "/api/v1/executions/1"), NULL, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	http__stop(s);

	/* unless every read must have it */
	o = (struct http_opts){ .token = TOKEN, .read_auth = HTTP_READ_AUTH_ALWAYS };
	s = start(&o);
	ASSERT(s, "no server");
	port = http__port(s);
	if (request("GET", url("127.0.0.1", port, "/api/v1/executions/1"), NULL, NULL, &r))
		CHECK(is_json_error(&r, 401), "read: %ld %s", r.status, r.body);
	reply_free(&r);
	if (request("GET", url("127.0.0.1", port, "/api/v1/stream"), "Bearer wrong", NULL, &r))
		CHECK(is_json_error(&r, 401), "stream: %ld %s", r.status, r.body);
	reply_free(&r);
	if (request("GET", url("127.0.0.1", port, "/api/v1/executions/1"), "Bearer " TOKEN, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	http__stop(s);

	/* without a configured token nothing that needs one gets through */
	o = (struct http_opts){ .token = "" };
	s = start(&o);
	ASSERT(s, "no server");
	if (request("DELETE", url("127.0.0.1", http__port(s), "/api/v1/executions/1"), "Bearer ", NULL, &r))
		CHECK(is_json_error(&r, 401), "no token: %ld %s", r.status, r.body);
	reply_free(&r);
	http__stop(s);
}

/* A local IPv4 address that is not loopback, if the machine has one. */
static bool non_loopback_ipv4(char *buf, size_t size)
{
	struct ifaddrs *ifs, *i;
	bool found = false;

	if (getifaddrs(&ifs))
		return false;
	for (i = ifs; i && !found; i = i->ifa_next) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)i->ifa_addr;

		if (!in || in->sin_family != AF_INET || (ntohl(in->sin_addr.s_addr) >> 24) == 127)
			continue;
		found = inet_ntop(AF_INET, &in->sin_addr, buf, size) != NULL;
	}
	freeifaddrs(ifs);
	return found;
}

TEST(http_reads_from_elsewhere_need_the_token)
{
	struct http_opts o = { .addr = "0.0.0.0", .token = TOKEN };
	struct http_server *s;
	struct reply r;
	char ip[INET_ADDRSTRLEN];

	if (!non_loopback_ipv4(ip, sizeof(ip))) {
		printf("     (no non-loopback IPv4 address: nothing to test)\n");
		return;
	}
	s = start(&o);
	ASSERT(s, "no server");
	if (request("GET", url(ip, http__port(s), "/api/v1/executions"), NULL, NULL, &r))
		CHECK(is_json_error(&r, 401), "via %s: %ld %s", ip, r.status, r.body);
	reply_free(&r);
	if (request("GET", url(ip, http__port(s), "/api/v1/executions"), "Bearer " TOKEN, NULL, &r)) {
		CHECK_EQ(r.status, 200);
		CHECK(!jtrue(&r, "from_loopback") && jtrue(&r, "authorized"), "via %s: %s", ip, r.body);
	}
	reply_free(&r);
	if (request("GET", url("127.0.0.1", http__port(s), "/api/v1/executions"), NULL, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	http__stop(s);

	/* unless the operator opened reads up */
	o = (struct http_opts){ .addr = "0.0.0.0", .token = TOKEN, .read_auth = HTTP_READ_AUTH_NEVER };
	s = start(&o);
	ASSERT(s, "no server");
	if (request("GET", url(ip, http__port(s), "/api/v1/executions"), NULL, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	if (request("DELETE", url(ip, http__port(s), "/api/v1/executions/1"), NULL, NULL, &r))
		CHECK(is_json_error(&r, 401), "mutation via %s: %ld %s", ip, r.status, r.body);
	reply_free(&r);
	http__stop(s);
}

TEST(http_listen_addresses)
{
	struct http_opts o = {};
	struct http_server *s, *s2;
	struct reply r;

	/* IPv6 loopback, with or without brackets */
	o.addr = "::1";
	s = start(&o);
	if (s) {
		if (request("GET", url("[::1]", http__port(s), "/api/v1/executions"), NULL, NULL, &r))
			CHECK(r.status == 200 && jtrue(&r, "from_loopback"), "[::1]: %ld %s", r.status, r.body);
		reply_free(&r);
		/* "::1" is IPv6 only */
		CHECK(!request_full("GET", url("127.0.0.1", http__port(s), "/"), NULL, NULL, 0, false, &r),
		      "::1 answered on 127.0.0.1");
		reply_free(&r);
		http__stop(s);
	}
	o = (struct http_opts){ .addr = "[::1]" };
	s = start(&o);
	http__stop(s);

	/* "::" takes IPv4 too, and IPv4 loopback (v4-mapped) is still loopback */
	o = (struct http_opts){ .addr = "::" };
	s = start(&o);
	if (s) {
		if (request("GET", url("127.0.0.1", http__port(s), "/api/v1/executions"), NULL, NULL, &r))
			CHECK(r.status == 200 && jtrue(&r, "from_loopback"), "127.0.0.1 on '::': %ld %s",
			      r.status, r.body);
		reply_free(&r);
		if (request("GET", url("[::1]", http__port(s), "/api/v1/executions"), NULL, NULL, &r))
			CHECK_EQ(r.status, 200);
		reply_free(&r);
		http__stop(s);
	}

	/* failures: NULL and errno, no server */
	o = (struct http_opts){ .addr = "localhost", .routes = routes, .nroutes = 1 };
	s = http__start(&o);
	CHECK(!s && errno == EINVAL, "localhost: %p %s", (void *)s, strerror(errno));
	http__stop(s);
	o = (struct http_opts){ .addr = "127.0.0.1", .port = 70000, .routes = routes, .nroutes = 1 };
	s = http__start(&o);
	CHECK(!s && errno == EINVAL, "port 70000: %p %s", (void *)s, strerror(errno));
	o = (struct http_opts){};
	s = start(&o);
	ASSERT(s, "no server");
	o = (struct http_opts){ .port = http__port(s), .routes = routes, .nroutes = 1 };
	s2 = http__start(&o);
	CHECK(!s2 && errno == EADDRINUSE, "second server on port %d: %p %s", o.port, (void *)s2, strerror(errno));
	http__stop(s2);
	http__stop(s);
	/* a bad route table */
	{
		const struct http_route bad[] = { { "GET", "no-slash", echo, false, false } };

		o = (struct http_opts){ .routes = bad, .nroutes = 1 };
		s = http__start(&o);
		CHECK(!s && errno == EINVAL, "bad route: %p", (void *)s);
	}
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

TEST(http_body_limits)
{
	struct http_opts o = { .token = TOKEN, .max_body = 1024 };
	bool ok;
	struct http_server *s = start(&o);
	char body[1026];
	struct reply r;
	int port;

	ASSERT(s, "no server");
	port = http__port(s);
	memset(body, 'b', sizeof(body));
	body[1024] = 0;
	if (request("POST", url("127.0.0.1", port, "/api/v1/things"), "Bearer " TOKEN, body, &r)) {
		CHECK_EQ(r.status, 200);
		CHECK_EQ(harness__num(r.json, "body_len"), 1024);
		CHECK(jtrue(&r, "body_terminated"), "body not NUL-terminated");
	}
	reply_free(&r);
	body[1024] = 'b';
	body[1025] = 0;
	if (request("POST", url("127.0.0.1", port, "/api/v1/things"), "Bearer " TOKEN, body, &r))
		CHECK(is_json_error(&r, 413), "1025 bytes: %ld %s", r.status, r.body);
	reply_free(&r);
	/* without a Content-Length the limit holds while the chunks come in: past it, the connection closes */
	ok = request_full("POST", url("127.0.0.1", port, "/api/v1/things"), "Bearer " TOKEN, NULL, 1025, true, &r);
	CHECK(!ok && r.status < 200, "chunked 1025 bytes: %s, status %ld %s", curl_easy_strerror(r.rc), r.status,
	      r.body ?: "");
	reply_free(&r);
	if (upload(url("127.0.0.1", port, "/api/v1/things"), "Bearer " TOKEN, 1000, true, &r)) {
		CHECK_EQ(r.status, 200);
		CHECK_EQ(harness__num(r.json, "body_len"), 1000);
	}
	reply_free(&r);
	http__stop(s);
}

/* Connects to 127.0.0.1:port; rcvbuf > 0 shrinks the receive buffer first. */
static int raw_connect(int port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool raw_send(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		data += n;
		len -= n;
	}
	return true;
}

/* Reads into *buf until EOF, an error, or timeout_ms of silence; returns bytes read. */
static size_t raw_read_all(int fd, char **buf, int timeout_ms)
{
	size_t len = 0;
	char chunk[65536];

	*buf = NULL;
	append(buf, &len, "", 0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n <= 0)
			break;
		append(buf, &len, chunk, n);
	}
	return len;
}

TEST(http_ten_megabytes_refused_without_buffering)
{
	struct http_opts o = { .token = TOKEN };
	bool ok;
	struct http_server *s = start(&o);
	const size_t big = 10 << 20;
	long rss_before, rss_after;
	int calls_before = atomic_load(&calls), port, fd;
	struct reply r;
	char head[512], *resp = NULL;

	ASSERT(s, "no server");
	port = http__port(s);
	rss_before = rss_kb();
	/* with a Content-Length: refused at the headers; curl's Expect: 100-continue never sends the body */
	if (upload(url("127.0.0.1", port, "/api/v1/things"), "Bearer " TOKEN, big, false, &r)) {
		CHECK(is_json_error(&r, 413), "10 MB: %ld %s", r.status, r.body);
		CHECK((size_t)r.uploaded < big / 10, "curl uploaded %ld bytes", (long)r.uploaded);
	}
	reply_free(&r);
	/* a raw client that does not wait: the answer comes before any of the body is sent */
	fd = raw_connect(port, 0);
	ASSERT(fd >= 0, "connect: %s", strerror(errno));
	snprintf(head, sizeof(head), "POST /api/v1/things HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", TOKEN, big);
	CHECK(raw_send(fd, head, strlen(head)), "send");
	raw_read_all(fd, &resp, 2000);
	CHECK(resp && !strncmp(resp, "HTTP/1.1 413 ", 13) && strstr(resp, "\"status\": 413"), "raw: %s", resp);
	free(resp);
	close(fd);
	/* chunked: cut off once past the limit, not read to its end */
	ok = request_full("POST", url("127.0.0.1", port, "/api/v1/things"), "Bearer " TOKEN, NULL, big, true, &r);
	CHECK(!ok, "chunked 10 MB was read to its end: %ld", r.status);
	CHECK((size_t)r.uploaded < big / 2, "curl uploaded %ld of %zu bytes", (long)r.uploaded, big);
	reply_free(&r);
	rss_after = rss_kb();
	CHECK(rss_after - rss_before < 4096, "RSS grew by %ld kB", rss_after - rss_before);
	CHECK_EQ(atomic_load(&calls), calls_before);
	http__stop(s);
}

TEST(http_malformed_requests_do_not_crash)
{
	static const char *const garbage[] = {
		"\x00\x01\x02\xff\xfe\r\n\r\n",
		"GET\r\n\r\n",
		"GET /api/v1/executions\r\n\r\n",
		"GET /api/v1/executions HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
		"GET /api/v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
		"GET /api/v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"GET /api/v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12abc\r\n\r\n",
		"POST /api/v1/things HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " TOKEN
			"\r\nTransfer-Encoding: chunked\r\n\r\nzzz\r\nxx\r\n\r\n",
		"POST /api/v1/things HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " TOKEN
			"\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
		"GET /api/v1/executions HTTP/1.1\r\nno colon here\r\n\r\n",
		"GET /api/v1/%zz%00%ff HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		"GET http://evil/api/v1/executions?\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		"GET /api/v1/exec",
		"",
	};
	struct http_opts o = { .token = TOKEN };
	struct http_server *s = start(&o);
	char *big, *resp;
	struct reply r;
	int port, fd;

	ASSERT(s, "no server");
	port = http__port(s);
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		size_t len = i == 0 ? 9 : strlen(garbage[i]);

		fd = raw_connect(port, 0);
		ASSERT(fd >= 0, "connect: %s", strerror(errno));
		raw_send(fd, garbage[i], len);
		shutdown(fd, SHUT_WR);
		raw_read_all(fd, &resp, 2000);
		free(resp);
		close(fd);
	}
	/* a header far over MHD's per-connection memory */
	big = malloc(200000);
	ASSERT(big, "malloc");
	strcpy(big, "GET /api/v1/executions HTTP/1.1\r\nX-Big: ");
	memset(big + strlen(big), 'h', 190000);
	strcpy(big + 190000, "\r\n\r\n");
	fd = raw_connect(port, 0);
	ASSERT(fd >= 0, "connect: %s", strerror(errno));
	raw_send(fd, big, strlen(big));
	raw_read_all(fd, &resp, 2000);
	CHECK(resp && !strncmp(resp, "HTTP/1.1 4", 10), "huge header: %.40s", resp);
	free(resp);
	close(fd);
	free(big);

	if (request("GET", url("127.0.0.1", port, "/api/v1/executions"), NULL, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	http__stop(s);
}

TEST(http_handlers_run_concurrently)
{
	struct http_opts o = {};
	struct http_server *s = start(&o);
	CURLM *multi = curl_multi_init();
	struct reply r[8];
	CURL *easy[8];
	int running = 1;
	long t0, took;

	ASSERT(s, "no server");
	for (int i = 0; i < 8; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		easy[i] = curl_easy_init();
		curl_easy_setopt(easy[i], CURLOPT_URL, url("127.0.0.1", http__port(s), "/api/v1/slow"));
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, &r[i]);
		curl_multi_add_handle(multi, easy[i]);
	}
	t0 = now_ms();
	while (running && now_ms() - t0 < 10000) {
		curl_multi_perform(multi, &running);
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	took = now_ms() - t0;
	/* eight 300 ms handlers in well under eight times 300 ms */
	CHECK(!running && took < 1500, "8 slow requests took %ld ms", took);
	for (int i = 0; i < 8; i++) {
		curl_easy_getinfo(easy[i], CURLINFO_RESPONSE_CODE, &r[i].status);
		CHECK_EQ(r[i].status, 200);
		CHECK_STR(r[i].body, "{\"slept\": true}");
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
		reply_free(&r[i]);
	}
	curl_multi_cleanup(multi);
	http__stop(s);
}

/* --- server-sent events -------------------------------------------------------------------- */

/* Parses the stream: comments, "tick" events numbered from 0, and one multi-line event. */
struct sse_reader {
	char *buf;
	size_t len;
	int connected, keepalives, next, multi;
	bool in_order, eof;
	char first_bad[128];
};

static void sse_event(struct sse_reader *rd, const char *ev, size_t len)
{
	static const char tick[] = "event: tick\ndata: {\"i\":";
	static const char multi[] = "event: multi\ndata: {\"a\": 1,\ndata:  \"b\": 2}";

	if (len == 11 && !memcmp(ev, ": connected", 11)) {
		rd->connected++;
	} else if (len == 11 && !memcmp(ev, ": keepalive", 11)) {
		rd->keepalives++;
	} else if (len > sizeof(tick) - 1 && !memcmp(ev, tick, sizeof(tick) - 1)) {
		int i = atoi(ev + sizeof(tick) - 1);

		if (i != rd->next && rd->in_order) {
			rd->in_order = false;
			snprintf(rd->first_bad, sizeof(rd->first_bad), "got %d, expected %d", i, rd->next);
		}
		rd->next = i + 1;
	} else if (len == sizeof(multi) - 1 && !memcmp(ev, multi, len)) {
		rd->multi++;
	} else if (rd->in_order) {
		rd->in_order = false;
		snprintf(rd->first_bad, sizeof(rd->first_bad), "unexpected: %.*s", (int)(len < 80 ? len : 80), ev);
	}
}

static void sse_feed(struct sse_reader *rd, const char *data, size_t n)
{
	char *end;

	append(&rd->buf, &rd->len, data, n);
	while (rd->buf && (end = memmem(rd->buf, rd->len, "\n\n", 2))) {
		size_t elen = end - rd->buf;

		sse_event(rd, rd->buf, elen);
		memmove(rd->buf, end + 2, rd->len - elen - 2);
		rd->len -= elen + 2;
	}
}

static void sse_init(struct sse_reader *rd)
{
	memset(rd, 0, sizeof(*rd));
	rd->in_order = true;
}

/* Opens a stream over HTTP/1.0 (no chunking) and reads up to ": connected". */
static int raw_stream(int port, int rcvbuf, struct sse_reader *rd)
{
	/* the stream carries private data: it takes the token */
	static const char req[] = "GET /api/v1/stream HTTP/1.0\r\nAuthorization: Bearer " TOKEN "\r\n\r\n";
	char *head = NULL, *end, buf[4096];
	size_t hlen = 0;
	long t0 = now_ms();
	int fd = raw_connect(port, rcvbuf);

	sse_init(rd);
	if (fd < 0 || !raw_send(fd, req, sizeof(req) - 1))
		goto fail;
	/* headers first, then the rest to the reader */
	while (!(head && (end = strstr(head, "\r\n\r\n")))) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0 || (n = recv(fd, buf, sizeof(buf), 0)) <= 0)
			goto fail;
		append(&head, &hlen, buf, n);
	}
	if (!CHECK(!strncmp(head, "HTTP/1.1 200 ", 13) && strcasestr(head, "Content-Type: text/event-stream\r\n"),
		   "stream headers: %s", head))
		goto fail;
	sse_feed(rd, end + 4, hlen - (end + 4 - head));
	free(head);
	head = NULL;
	while (!rd->connected && now_ms() - t0 < 3000) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 3000) <= 0 || (n = recv(fd, buf, sizeof(buf), 0)) <= 0)
			goto fail;
		sse_feed(rd, buf, n);
	}
	if (rd->connected)
		return fd;
fail:
	CHECK(false, "cannot open a stream on port %d", port);
	free(head);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Reads the stream until rd->next > want_next (or keepalives >= want_keepalives), EOF or timeout. */
static bool pump(int fd, struct sse_reader *rd, int want_next, int want_keepalives, int timeout_ms)
{
	static char buf[256 * 1024];
	long t0 = now_ms();

	while (rd->next <= want_next || rd->keepalives < want_keepalives) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = timeout_ms - (int)(now_ms() - t0);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			rd->eof = true;
			return false;
		}
		sse_feed(rd, buf, n);
	}
	return true;
}

struct curl_stream {
	int port;
	pthread_mutex_t lock;
	struct sse_reader rd;
	struct reply r;
};

static size_t on_stream(char *data, size_t size, size_t n, void *cs_)
{
	struct curl_stream *cs = cs_;

	pthread_mutex_lock(&cs->lock);
	sse_feed(&cs->rd, data, size * n);
	pthread_mutex_unlock(&cs->lock);
	return size * n;
}

static void *curl_stream_thread(void *cs_)
{
	struct curl_stream *cs = cs_;
	struct curl_slist *hdrs = curl_slist_append(NULL, "Authorization: Bearer " TOKEN);
	CURL *c = curl_easy_init();

	curl_easy_setopt(c, CURLOPT_URL, url("127.0.0.1", cs->port, "/api/v1/stream"));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, cs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &cs->r);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	cs->r.rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &cs->r.status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	return NULL;
}

/* Waits until the curl stream reader satisfies want (a field >= value), up to timeout_ms. */
static bool curl_stream_wait(struct curl_stream *cs, int *field, int value, int timeout_ms)
{
	long t0 = now_ms();
	bool ok;

	for (;;) {
		pthread_mutex_lock(&cs->lock);
		ok = *field >= value;
		pthread_mutex_unlock(&cs->lock);
		if (ok || now_ms() - t0 > timeout_ms)
			return ok;
		sleep_ms(2);
	}
}

TEST(http_stream_delivers_broadcasts_in_order)
{
	struct http_opts o = { .token = TOKEN };
	struct http_server *s = start(&o);
	struct curl_stream cs = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t thread;
	char json[64];
	long t0;

	ASSERT(s, "no server");
	sse_init(&cs.rd);
	cs.port = http__port(s);
	CHECK_RET(http__broadcast(s, "tick", "{}"), 0);
	ASSERT(pthread_create(&thread, NULL, curl_stream_thread, &cs) == 0, "pthread_create");
	if (CHECK(curl_stream_wait(&cs, &cs.rd.connected, 1, 5000), "no ': connected'")) {
		CHECK_EQ(http__stream_clients(s), 1);
		/* in bursts well under the 256 events a client may lag behind */
		for (int i = 0; i < 500; i++) {
			snprintf(json, sizeof(json), "{\"i\":%d}", i);
			CHECK_RET(http__broadcast(s, "tick", json), 1);
			if (i % 100 == 99)
				CHECK(curl_stream_wait(&cs, &cs.rd.next, i + 1, 5000), "stuck before event %d", i);
		}
		/* a JSON with line breaks becomes several data: lines */
		CHECK_RET(http__broadcast(s, "multi", "{\"a\": 1,\n \"b\": 2}"), 1);
		CHECK_RET(http__broadcast(s, "bad\nname", "{}"), -EINVAL);
		CHECK_RET(http__broadcast(s, "", "{}"), -EINVAL);
		CHECK(curl_stream_wait(&cs, &cs.rd.multi, 1, 5000), "events not all received: next %d", cs.rd.next);
		pthread_mutex_lock(&cs.lock);
		CHECK_EQ(cs.rd.next, 500);
		CHECK(cs.rd.in_order, "out of order: %s", cs.rd.first_bad);
		pthread_mutex_unlock(&cs.lock);
		CHECK_STR(reply_header(&cs.r, "Content-Type"), "text/event-stream");
		CHECK_STR(reply_header(&cs.r, "Cache-Control"), "no-store");
	}
	/* stopping with the client connected (its thread waiting for events) is prompt */
	t0 = now_ms();
	http__stop(s);
	CHECK(now_ms() - t0 < 2000, "http__stop took %ld ms", now_ms() - t0);
	pthread_join(thread, NULL);
	CHECK_EQ(cs.r.status, 200);
	free(cs.rd.buf);
	reply_free(&cs.r);
}

TEST(http_stream_keepalive)
{
	struct http_opts o = { .token = TOKEN, .stream_keepalive_ms = 100 };
	struct http_server *s = start(&o);
	struct sse_reader rd;
	int fd;

	ASSERT(s, "no server");
	fd = raw_stream(http__port(s), 0, &rd);
	if (fd >= 0) {
		CHECK(pump(fd, &rd, -1, 2, 2000), "keepalives: %d", rd.keepalives);
		/* and events still come through between them */
		CHECK_RET(http__broadcast(s, "tick", "{\"i\":0}"), 1);
		CHECK(pump(fd, &rd, 0, 0, 2000) && rd.in_order, "event after keepalives: %s", rd.first_bad);
		close(fd);
	}
	free(rd.buf);
	http__stop(s);
}

TEST(http_slow_stream_client_is_dropped)
{
	struct http_opts o = { .token = TOKEN };
	struct http_server *s = start(&o);
	struct sse_reader slow_rd, good_rd;
	int slow_fd = -1, good_fd = -1, dropped_at = -1, i;
	char *json = NULL, *rest = NULL;
	struct reply r;
	long t0;

	ASSERT(s, "no server");
	/* the slow one reads its greeting, then nothing: its small buffer fills at once */
	slow_fd = raw_stream(http__port(s), 4096, &slow_rd);
	good_fd = raw_stream(http__port(s), 0, &good_rd);
	if (slow_fd < 0 || good_fd < 0)
		goto cleanup;
	CHECK_EQ(http__stream_clients(s), 2);
	json = malloc(16 * 1024 + 64);
	ASSERT(json, "malloc");
	for (i = 0; i < 3000 && (dropped_at < 0 || i < dropped_at + 50); i++) {
		int n = sprintf(json, "{\"i\":%d,\"pad\":\"", i);

		memset(json + n, 'p', 16 * 1024);
		strcpy(json + n + 16 * 1024, "\"}");
		http__broadcast(s, "tick", json);
		if (!CHECK(pump(good_fd, &good_rd, i, 0, 5000), "good client stuck before event %d (%s)", i,
			   good_rd.eof ? "closed" : "timeout"))
			break;
		if (dropped_at < 0 && http__stream_clients(s) == 1)
			dropped_at = i;
	}
	CHECK(dropped_at >= 256, "slow client dropped at event %d", dropped_at);
	CHECK(good_rd.in_order && good_rd.next == i, "good client: next %d of %d, %s", good_rd.next, i,
	      good_rd.first_bad);
	/* requests are served all along */
	if (request("GET", url("127.0.0.1", http__port(s), "/api/v1/executions"), NULL, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	/* what the slow client gets: what was in flight, then the end */
	raw_read_all(slow_fd, &rest, 3000);
	sse_feed(&slow_rd, rest, strlen(rest));
	CHECK(slow_rd.in_order && slow_rd.next < dropped_at, "slow client: next %d, %s", slow_rd.next,
	      slow_rd.first_bad);
	/* stopping is prompt with a stream client connected */
	t0 = now_ms();
	http__stop(s);
	s = NULL;
	CHECK(now_ms() - t0 < 2000, "http__stop took %ld ms", now_ms() - t0);
	CHECK(!pump(good_fd, &good_rd, 1 << 30, 0, 2000) && good_rd.eof, "good client not closed by stop");
cleanup:
	free(rest);
	free(json);
	free(slow_rd.buf);
	free(good_rd.buf);
	if (slow_fd >= 0)
		close(slow_fd);
	if (good_fd >= 0)
		close(good_fd);
	http__stop(s);
}

TEST(http_stream_client_limit)
{
	struct http_opts o = { .token = TOKEN, .max_stream_clients = 2 };
	struct http_server *s = start(&o);
	struct sse_reader rd[3];
	int fd[3] = { -1, -1, -1 };
	struct reply r;
	long t0;

	memset(rd, 0, sizeof(rd));
	ASSERT(s, "no server");
	fd[0] = raw_stream(http__port(s), 0, &rd[0]);
	fd[1] = raw_stream(http__port(s), 0, &rd[1]);
	if (request("GET", url("127.0.0.1", http__port(s), "/api/v1/stream"), "Bearer " TOKEN, NULL, &r))
		CHECK(is_json_error(&r, 503), "third client: %ld %s", r.status, r.body);
	reply_free(&r);
	/* a client that leaves is noticed at the next write, and its place is free again */
	close(fd[0]);
	fd[0] = -1;
	t0 = now_ms();
	while (http__stream_clients(s) > 1 && now_ms() - t0 < 5000) {
		http__broadcast(s, "tick", "{\"i\":0}");
		sleep_ms(10);
	}
	CHECK_EQ(http__stream_clients(s), 1);
	fd[2] = raw_stream(http__port(s), 0, &rd[2]);
	CHECK(fd[2] >= 0, "no place for a new client");
	for (int i = 0; i < 3; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		free(rd[i].buf);
	}
	http__stop(s);
}

/* --- Host, Origin, private reads, slow clients ---------------------------------------------------- */

/* One raw request (the whole text); the status of the answer, 0 when none came. */
static int raw_status(int port, const char *text)
{
	char *resp = NULL;
	int status = 0, fd = raw_connect(port, 0);

	if (fd < 0)
		return 0;
	if (raw_send(fd, text, strlen(text)))
		raw_read_all(fd, &resp, 2000);
	if (resp && !strncmp(resp, "HTTP/1.1 ", 9))
		status = atoi(resp + 9);
	free(resp);
	close(fd);
	return status;
}

static int raw_get(int port, const char *path, const char *host)
{
	char req[512];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
	return raw_status(port, req);
}

static int raw_post(int port, const char *origin)
{
	char req[512], org[256] = "";

	if (origin)
		snprintf(org, sizeof(org), "Origin: %s\r\n", origin);
	snprintf(req, sizeof(req), "POST /api/v1/things HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer "
		 TOKEN "\r\n%sContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
		 port, org);
	return raw_status(port, req);
}

TEST(http_host_and_origin_are_checked)
{
	struct http_opts o = { .token = TOKEN, .allowed_hosts = "ww.example,other.example" };
	struct http_server *s = start(&o);
	char hp[64], origin[128];
	int port;

	ASSERT(s, "no server");
	port = http__port(s);
	/* a page whose name resolves to 127.0.0.1 (DNS rebinding) sends its own name */
	CHECK_RET(raw_get(port, "/api/v1/executions", "evil.example"), 421);
	CHECK_RET(raw_get(port, "/api/v1/executions", "evil.example:80"), 421);
	CHECK_RET(raw_get(port, "/", "localhost.evil.example"), 421);
	snprintf(hp, sizeof(hp), "localhost:%d", port);
	CHECK_RET(raw_get(port, "/api/v1/executions", hp), 200);
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", port);
	CHECK_RET(raw_get(port, "/api/v1/executions", hp), 200);
	snprintf(hp, sizeof(hp), "[::1]:%d", port);
	CHECK_RET(raw_get(port, "/api/v1/executions", hp), 200);
	CHECK_RET(raw_get(port, "/api/v1/executions", "ww.example"), 200);
	CHECK_RET(raw_get(port, "/api/v1/executions", "OTHER.example:9470"), 200);

	/* writes from another site's page are refused, token or not; clients without a page send no Origin */
	CHECK_RET(raw_post(port, NULL), 200);
	CHECK_RET(raw_post(port, "http://evil.example"), 403);
	CHECK_RET(raw_post(port, "null"), 403);
	CHECK_RET(raw_post(port, "http://127.0.0.1:1"), 403);
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%d", port);
	CHECK_RET(raw_post(port, origin), 200);
	snprintf(origin, sizeof(origin), "http://localhost:%d", port);
	CHECK_RET(raw_post(port, origin), 200);
	CHECK_RET(raw_post(port, "https://ww.example"), 200);
	http__stop(s);
}

TEST(http_private_reads_need_the_token)
{
	struct http_opts o = { .token = TOKEN };
	struct http_server *s = start(&o);
	struct reply r;
	int port;

	ASSERT(s, "no server");
	port = http__port(s);
	/* the default: private data needs the token even from loopback; public data does not */
	if (request("GET", url("127.0.0.1", port, "/api/v1/private"), NULL, NULL, &r))
		CHECK(is_json_error(&r, 401), "private read without token: %ld %s", r.status, r.body);
	reply_free(&r);
	if (request("GET", url("127.0.0.1", port, "/api/v1/private"), "Bearer " TOKEN, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	if (request("GET", url("127.0.0.1", port, "/api/v1/executions"), NULL, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	CHECK_RET(raw_get(port, HTTP_STREAM_PATH, "127.0.0.1"), 401);
	http__stop(s);

	/* an operator may open private reads on loopback */
	o = (struct http_opts){ .token = TOKEN, .read_auth = HTTP_READ_AUTH_REMOTE };
	s = start(&o);
	ASSERT(s, "no server");
	if (request("GET", url("127.0.0.1", http__port(s), "/api/v1/private"), NULL, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	http__stop(s);
}

/* A socket from 127.0.0.2 (another client than 127.0.0.1) to the server, or -1. */
static int connect_from(const char *src, int port)
{
	struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, src, &from.sin_addr);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) || connect(fd, (struct sockaddr *)&to, sizeof(to))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether the server closed fd (EOF or reset), waiting up to timeout_ms. */
static bool closed_by_server(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];

	for (long end = now_ms() + timeout_ms; now_ms() < end;) {
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return n == 0 || errno != EAGAIN;
	}
	return false;
}

/*
 * 300 connections from one client that send a header line now and then
 * and never finish: another client is still answered, and each of them is
 * closed at the whole-request deadline although it never went idle.
 */
TEST(http_slow_clients_cannot_lock_others_out)
{
	struct http_opts o = { .token = TOKEN, .request_timeout_s = 3, .per_client_connections = 16 };
	struct http_server *s = start(&o);
	enum { SLOW = 300 };
	int fds[SLOW], port, opened = 0, closed = 0;
	struct reply r;

	ASSERT(s, "no server");
	port = http__port(s);
	for (int i = 0; i < SLOW; i++) {
		fds[i] = connect_from("127.0.0.2", port);
		if (fds[i] >= 0 && raw_send(fds[i], "GET /api/v1/executions HTTP/1.1\r\nHost: 127.0.0.1\r\n", 51))
			opened++;
	}
	CHECK_EQ(opened, SLOW);
	sleep_ms(500);
	for (int i = 0; i < SLOW; i++)
		if (fds[i] >= 0)
			raw_send(fds[i], "X-Slow: 1\r\n", 11);	/* not idle: MHD's own timeout would never fire */
	/* a client of its own is answered while they are held */
	if (request("GET", url("127.0.0.1", port, "/api/v1/executions"), NULL, NULL, &r))
		CHECK_EQ(r.status, 200);
	reply_free(&r);
	for (int round = 0; round < 3; round++) {
		sleep_ms(1000);
		for (int i = 0; i < SLOW; i++)
			if (fds[i] >= 0)
				raw_send(fds[i], "X-Slow: 1\r\n", 11);
	}
	for (int i = 0; i < SLOW; i++) {
		if (fds[i] < 0)
			continue;
		closed += closed_by_server(fds[i], closed ? 100 : 3000);
		close(fds[i]);
	}
	CHECK_EQ(closed, SLOW);
	http__stop(s);
}
