/* SPDX-License-Identifier: MIT */
/* In-process test receivers on 127.0.0.1: an HTTP sink with scripted answers and a tiny SMTP sink. */
#ifndef SINK_H
#define SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* One request the HTTP sink received; body and its strings live until sink__stop(). */
struct sink_request {
	char method[16];
	char path[256];
	char delivery[64];		/* X-Workerwatch-Delivery */
	char signature[160];		/* X-Workerwatch-Signature */
	char content_type[128];
	char user_agent[128];
	const char *body;		/* NUL-terminated */
	size_t body_len;
	int status;			/* what the sink answered */
	__u64 at_us;			/* CLOCK_REALTIME when it was answered, microseconds */
};

struct sink;

/* Listens on 127.0.0.1 at a port the kernel picks; NULL (and a message on stderr) on failure. */
struct sink *sink__start(void);
/* "http://127.0.0.1:PORT" */
const char *sink__url(const struct sink *s);
/*
 * Queues answers, one per request, in order: comma-separated STATUS[:RETRY_AFTER][=BODY],
 * e.g. "503,503,429:1,200" (429 with Retry-After: 1). Then the default: 200 "ok".
 * Returns -EINVAL on a malformed script.
 */
int sink__script(struct sink *s, const char *script);
int sink__count(struct sink *s);
/* The i-th request (0-based); an empty one (method "") when there is none. */
struct sink_request sink__request(struct sink *s, int i);
/* Waits until at least n requests arrived; false after timeout_ms. */
bool sink__wait_count(struct sink *s, int n, int timeout_ms);
void sink__stop(struct sink *s);

/* One message the SMTP sink received. */
struct sink_mail {
	char from[256];			/* MAIL FROM:<...> */
	char rcpt[1024];		/* RCPT TO addresses, comma-separated */
	const char *data;		/* the message, dot-stuffing undone, CRLF kept */
};

struct smtp_sink;

/* Listens on 127.0.0.1 at a port the kernel picks, one connection at a time. */
struct smtp_sink *smtp_sink__start(void);
/* "smtp://127.0.0.1:PORT" */
const char *smtp_sink__url(const struct smtp_sink *s);
int smtp_sink__count(struct smtp_sink *s);
struct sink_mail smtp_sink__mail(struct smtp_sink *s, int i);
bool smtp_sink__wait_count(struct smtp_sink *s, int n, int timeout_ms);
void smtp_sink__stop(struct smtp_sink *s);

#endif
