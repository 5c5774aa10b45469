// SPDX-License-Identifier: MIT
/* In-process test receivers on 127.0.0.1: an HTTP sink (libmicrohttpd) with scripted answers and a tiny SMTP sink. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "sink.h"

#define SCRIPT_MAX	64
#define REQUESTS_MAX	1024
#define SMTP_LINE_MAX	4096
#define SMTP_IO_MS	5000

struct answer {
	int status;
	int retry_after;		/* -1: no header */
	char body[128];
};

struct sink {
	struct MHD_Daemon *mhd;
	char url[64];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct answer script[SCRIPT_MAX];
	int nscript, next_answer;
	struct sink_request *reqs[REQUESTS_MAX];
	int nreqs;
};

/* A request's body while it arrives. */
struct upload {
	char *data;
	size_t len, cap;
};

static __u64 real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static struct timespec deadline(int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* A TCP socket listening on 127.0.0.1 at a kernel-picked port. */
static int listen_loopback(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static void copy_header(struct MHD_Connection *conn, const char *name, char *dst, size_t size)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);

	snprintf(dst, size, "%s", v ? v : "");
}

static void next_answer(struct sink *s, struct answer *a)
{
	if (s->next_answer < s->nscript) {
		*a = s->script[s->next_answer++];
		return;
	}
	*a = (struct answer){ .status = 200, .retry_after = -1, .body = "ok" };
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct sink *s = cls;
	struct upload *up = *con_cls;
	struct sink_request *rq;
	struct MHD_Response *resp;
	struct answer a;
	enum MHD_Result ret;
	char ra[16];

	(void)version;
	if (!up) {
		up = calloc(1, sizeof(*up));
		if (!up)
			return MHD_NO;
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		if (up->len + n + 1 > up->cap) {
			size_t cap = (up->len + n + 1) * 2;
			char *d = realloc(up->data, cap);

			if (!d)
				return MHD_NO;
			up->data = d;
			up->cap = cap;
		}
		memcpy(up->data + up->len, upload_data, n);
		up->len += n;
		up->data[up->len] = '\0';
		*upload_data_size = 0;
		return MHD_YES;
	}

	rq = calloc(1, sizeof(*rq));
	if (!rq)
		return MHD_NO;
	snprintf(rq->method, sizeof(rq->method), "%s", method);
	snprintf(rq->path, sizeof(rq->path), "%s", url);
	copy_header(conn, "X-Workerwatch-Delivery", rq->delivery, sizeof(rq->delivery));
	copy_header(conn, "X-Workerwatch-Signature", rq->signature, sizeof(rq->signature));
	copy_header(conn, MHD_HTTP_HEADER_CONTENT_TYPE, rq->content_type, sizeof(rq->content_type));
	copy_header(conn, MHD_HTTP_HEADER_USER_AGENT, rq->user_agent, sizeof(rq->user_agent));
	/* the body moves to the record */
	rq->body = up->data ? up->data : strdup("");
	rq->body_len = up->len;
	up->data = NULL;
	up->len = up->cap = 0;

	pthread_mutex_lock(&s->lock);
	next_answer(s, &a);
	rq->status = a.status;
	rq->at_us = real_us();
	if (s->nreqs < REQUESTS_MAX) {
		s->reqs[s->nreqs++] = rq;
		rq = NULL;
	}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	if (rq) {
		free((char *)rq->body);
		free(rq);
	}

	resp = MHD_create_response_from_buffer(strlen(a.body), a.body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	if (a.retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", a.retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	ret = MHD_queue_response(conn, (unsigned int)a.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct upload *up = *con_cls;

	(void)cls, (void)conn, (void)toe;
	if (up) {
		free(up->data);
		free(up);
		*con_cls = NULL;
	}
}

struct sink *sink__start(void)
{
	struct sink *s = calloc(1, sizeof(*s));
	int fd, port = 0;

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	fd = listen_loopback(&port);
	if (fd < 0) {
		fprintf(stderr, "    sink: cannot listen on 127.0.0.1: %s\n", strerror(-fd));
		goto fail;
	}
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				  on_request, s,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				  MHD_OPTION_END);
	if (!s->mhd) {
		fprintf(stderr, "    sink: cannot start the HTTP server\n");
		close(fd);
		goto fail;
	}
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", port);
	return s;
fail:
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

const char *sink__url(const struct sink *s)
{
	return s->url;
}

int sink__script(struct sink *s, const char *script)
{
	struct answer parsed[SCRIPT_MAX];
	char buf[1024], *save = NULL, *end;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", script);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct answer *a = &parsed[n];
		char *body = strchr(tok, '=');

		if (n == SCRIPT_MAX)
			return -EINVAL;
		if (body)
			*body++ = '\0';
		a->status = (int)strtol(tok, &end, 10);
		a->retry_after = -1;
		if (*end == ':')
			a->retry_after = (int)strtol(end + 1, &end, 10);
		if (*end || a->status < 100 || a->status > 599)
			return -EINVAL;
		snprintf(a->body, sizeof(a->body), "%s", body ? body : a->status < 300 ? "ok" : "error");
		n++;
	}
	pthread_mutex_lock(&s->lock);
	/* appended after what is not used yet */
	memmove(s->script, s->script + s->next_answer, sizeof(s->script[0]) * (size_t)(s->nscript - s->next_answer));
	s->nscript -= s->next_answer;
	s->next_answer = 0;
	for (int i = 0; i < n && s->nscript < SCRIPT_MAX; i++)
		s->script[s->nscript++] = parsed[i];
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int sink__count(struct sink *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->nreqs;
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct sink_request sink__request(struct sink *s, int i)
{
	struct sink_request r = { .body = "" };

	pthread_mutex_lock(&s->lock);
	if (i >= 0 && i < s->nreqs)
		r = *s->reqs[i];
	pthread_mutex_unlock(&s->lock);
	return r;
}

bool sink__wait_count(struct sink *s, int n, int timeout_ms)
{
	struct timespec ts = deadline(timeout_ms);
	bool ok;

	pthread_mutex_lock(&s->lock);
	while (s->nreqs < n)
		if (pthread_cond_timedwait(&s->changed, &s->lock, &ts) == ETIMEDOUT)
			break;
	ok = s->nreqs >= n;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void sink__stop(struct sink *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	for (int i = 0; i < s->nreqs; i++) {
		free((char *)s->reqs[i]->body);
		free(s->reqs[i]);
	}
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- SMTP ---- */

struct smtp_sink {
	int fd;
	char url[64];
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct sink_mail mails[64];
	int nmails;
};

/* A connection's input, read line by line. */
struct smtp_conn {
	int fd;
	char buf[SMTP_LINE_MAX * 2];
	size_t len;
};

/* The next line without its CRLF; false on EOF, error, timeout or an overlong line. */
static bool smtp_line(struct smtp_conn *c, char *line, size_t size)
{
	for (;;) {
		char *eol = memmem(c->buf, c->len, "\r\n", 2);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		if (eol) {
			size_t l = (size_t)(eol - c->buf);

			if (l >= size)
				return false;
			memcpy(line, c->buf, l);
			line[l] = '\0';
			memmove(c->buf, eol + 2, c->len - l - 2);
			c->len -= l + 2;
			return true;
		}
		if (c->len == sizeof(c->buf) || poll(&p, 1, SMTP_IO_MS) <= 0)
			return false;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return false;
		c->len += (size_t)n;
	}
}

static void smtp_say(int fd, const char *text)
{
	size_t len = strlen(text), off = 0;

	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n <= 0)
			return;
		off += (size_t)n;
	}
}

/* The address inside <...> of a MAIL FROM or RCPT TO argument. */
static void smtp_addr(const char *arg, char *out, size_t size)
{
	const char *lt = strchr(arg, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt && gt)
		snprintf(out, size, "%.*s", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(out, size, "%s", arg);
}

static void smtp_session(struct smtp_sink *s, int fd)
{
	struct smtp_conn *c = calloc(1, sizeof(*c));
	struct sink_mail m = {};
	char line[SMTP_LINE_MAX], addr[256];
	char *data = NULL;
	size_t len = 0, cap = 0;

	if (!c)
		return;
	c->fd = fd;
	smtp_say(fd, "220 sink ESMTP\r\n");
	while (smtp_line(c, line, sizeof(line))) {
		if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4)) {
			smtp_say(fd, "250 sink\r\n");
		} else if (!strncasecmp(line, "MAIL FROM:", 10)) {
			smtp_addr(line + 10, m.from, sizeof(m.from));
			m.rcpt[0] = '\0';
			smtp_say(fd, "250 OK\r\n");
		} else if (!strncasecmp(line, "RCPT TO:", 8)) {
			size_t l = strlen(m.rcpt);

			smtp_addr(line + 8, addr, sizeof(addr));
			snprintf(m.rcpt + l, sizeof(m.rcpt) - l, "%s%s", l ? "," : "", addr);
			smtp_say(fd, "250 OK\r\n");
		} else if (!strcasecmp(line, "DATA")) {
			bool done = false;

			smtp_say(fd, "354 go ahead\r\n");
			len = 0;
			while (smtp_line(c, line, sizeof(line))) {
				/* "." alone ends the message; a leading dot of any other line was doubled */
				const char *l = line[0] == '.' ? line + 1 : line;
				size_t n = strlen(l);
				char *d;

				if (!strcmp(line, ".")) {
					done = true;
					break;
				}
				if (len + n + 3 > cap) {
					cap = (len + n + 3) * 2;
					d = realloc(data, cap);
					if (!d)
						break;
					data = d;
				}
				memcpy(data + len, l, n);
				memcpy(data + len + n, "\r\n", 3);
				len += n + 2;
			}
			if (!done)
				break;
			pthread_mutex_lock(&s->lock);
			if (s->nmails < (int)(sizeof(s->mails) / sizeof(s->mails[0]))) {
				m.data = data ? data : strdup("");
				s->mails[s->nmails++] = m;
				data = NULL;
				cap = 0;
			}
			pthread_cond_broadcast(&s->changed);
			pthread_mutex_unlock(&s->lock);
			smtp_say(fd, "250 OK queued\r\n");
		} else if (!strcasecmp(line, "QUIT")) {
			smtp_say(fd, "221 bye\r\n");
			break;
		} else if (!strcasecmp(line, "RSET") || !strcasecmp(line, "NOOP")) {
			smtp_say(fd, "250 OK\r\n");
		} else {
			smtp_say(fd, "502 not implemented\r\n");
		}
	}
	free(data);
	free(c);
}

static void *smtp_main(void *arg)
{
	struct smtp_sink *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int fd;

		/* a short poll, so that stop is seen soon */
		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		smtp_session(s, fd);
		close(fd);
	}
	return NULL;
}

struct smtp_sink *smtp_sink__start(void)
{
	struct smtp_sink *s = calloc(1, sizeof(*s));
	int port = 0;

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	atomic_init(&s->stop, false);
	s->fd = listen_loopback(&port);
	if (s->fd < 0) {
		fprintf(stderr, "    smtp sink: cannot listen on 127.0.0.1: %s\n", strerror(-s->fd));
		goto fail;
	}
	snprintf(s->url, sizeof(s->url), "smtp://127.0.0.1:%d", port);
	if (pthread_create(&s->thread, NULL, smtp_main, s)) {
		close(s->fd);
		goto fail;
	}
	return s;
fail:
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

const char *smtp_sink__url(const struct smtp_sink *s)
{
	return s->url;
}

int smtp_sink__count(struct smtp_sink *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->nmails;
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct sink_mail smtp_sink__mail(struct smtp_sink *s, int i)
{
	struct sink_mail m = { .data = "" };

	pthread_mutex_lock(&s->lock);
	if (i >= 0 && i < s->nmails)
		m = s->mails[i];
	pthread_mutex_unlock(&s->lock);
	return m;
}

bool smtp_sink__wait_count(struct smtp_sink *s, int n, int timeout_ms)
{
	struct timespec ts = deadline(timeout_ms);
	bool ok;

	pthread_mutex_lock(&s->lock);
	while (s->nmails < n)
		if (pthread_cond_timedwait(&s->changed, &s->lock, &ts) == ETIMEDOUT)
			break;
	ok = s->nmails >= n;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void smtp_sink__stop(struct smtp_sink *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->fd);
	for (int i = 0; i < s->nmails; i++)
		free((char *)s->mails[i].data);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
