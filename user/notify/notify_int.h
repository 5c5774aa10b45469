/* SPDX-License-Identifier: MIT */
/* What the notification modules share: the receiver types' ops, defaults and limits, payload and delivery helpers. */
#ifndef NOTIFY_INT_H
#define NOTIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include "notify/notify.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define ZERO_TIME		"0001-01-01T00:00:00Z"

#define DEFAULT_RATE		10.0
#define DEFAULT_BURST		5
#define DEFAULT_TIMEOUT_MS	10000ULL
#define MAX_TIMEOUT_MS		600000ULL
#define DEFAULT_MAX_AGE_MS	(24 * 3600 * 1000ULL)
#define CONNECT_TIMEOUT_MS	5000ULL

/* Full-jitter exponential backoff: random(0, min(cap, base * 2^(attempt - 1))), never below the floor. */
#define BACKOFF_BASE_MS		1000ULL
/* a receiver back from an outage hears from us within a minute */
#define BACKOFF_CAP_MS		60000ULL
#define BACKOFF_FLOOR_MS	100ULL
#define RETRY_AFTER_MAX_MS	3600000ULL
/* The sender looks at the outbox at least this often, even without a kick. */
#define POLL_MS			1000ULL
#define ERROR_BODY_MAX		200

struct cJSON;
struct notifier;
struct outbox_row;
struct receiver_parse;

/* What an attempt to send a notification came to. */
enum verdict { VERDICT_SENT, VERDICT_RETRY, VERDICT_DEAD };

struct attempt {
	enum verdict verdict;
	bool aborted;			/* cut short by notifier__stop(): the row stays as it was */
	int status;			/* HTTP status or SMTP reply, 0 = no answer */
	bool has_retry_after;		/* the receiver asked for a delay before the next attempt */
	__u64 retry_after_ms;
	char error[256];		/* one line on what went wrong, "" when sent */
};

/*
 * A receiver type: one file each, listed in RECEIVER_TYPES. Adding a type is
 * that file and its entry (plus fields in struct receiver if it has settings
 * of its own).
 */
struct receiver_ops {
	const char *type;		/* the config's "type" */
	unsigned int caps;		/* enum receiver_cap */
	/* The config keys it takes beyond the common ones (name, type, url, send_resolved, rate_per_second, burst, timeout, max_age), NULL-terminated. */
	const char *const *keys;
	double rate_per_s;		/* its token bucket's defaults; 0: DEFAULT_RATE, DEFAULT_BURST */
	int burst;
	bool url_is_secret;		/* the API shows only the URL's scheme and host */
	/* Its own defaults, after the common ones; NULL when none. */
	void (*defaults)(struct receiver *r);
	/* Reads and checks url and its own keys from o; 0, or -EINVAL from receiver_parse__fail(). */
	int (*parse)(struct receiver_parse *pc, const struct cJSON *o, struct receiver *r);
	/* Adds its own settings to the API's view, secrets masked; NULL when none. */
	void (*view)(const struct receiver *r, struct cJSON *o);
	/* RECEIVER_ALERTS: the body of a notification, malloc'd; NULL on ENOMEM. */
	char *(*payload)(const struct receiver *r, const struct notify_group *g, const char *delivery_id);
	/* RECEIVER_EXECUTIONS: the bodies of a finished execution (see notify__format_execution). */
	int (*exec_payloads)(const struct receiver *r, const struct notify_execution *x, struct notify_payload *out,
			     int max);
	/* Sends row's payload once (notify__send_http, notify__send_smtp or its own) and says how it went. */
	void (*send)(struct notifier *n, const struct receiver *r, const struct outbox_row *row, struct attempt *a);
};

/* The receiver types, in the order the config's messages list them; each notify/NAME.c defines NAME_receiver. */
#define RECEIVER_TYPES(X) X(webhook) X(alertmanager) X(pagerduty) X(slack) X(smtp) X(otlp) X(statsd)
#define RECEIVER_TYPE_DECLARE(name) extern const struct receiver_ops name##_receiver;
RECEIVER_TYPES(RECEIVER_TYPE_DECLARE)
#undef RECEIVER_TYPE_DECLARE

/* ---- parsing a receiver's keys (receivers.c) ---- */

/* Sets the one-line reason "receiver NAME: ..." and returns -EINVAL. */
int receiver_parse__fail(struct receiver_parse *pc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when key is a string without control characters (copied to dst), 0 when absent, -EINVAL otherwise. */
int receiver_parse__str(struct receiver_parse *pc, const struct cJSON *o, const char *key, char *dst, size_t size);
/* A duration ("10s", or seconds) above 0: 1, 0 when absent, -EINVAL otherwise. */
int receiver_parse__duration(struct receiver_parse *pc, const struct cJSON *o, const char *key, __u64 *ms);
/*
 * "url" of o (o NULL: r->url as it is), an http:// or https:// URL; 1, 0 when
 * absent and not required (r->url keeps its default), or -EINVAL.
 */
int receiver_parse__http_url(struct receiver_parse *pc, const struct cJSON *o, struct receiver *r, bool required);
/* Whether url starts with one of schemes (NULL-terminated), with something after it. */
bool notify__url_has_scheme(const char *url, const char *const *schemes);
/* Whether s has a control character, which would split an HTTP or mail header in two. */
bool notify__has_control(const char *s);

/* ---- payloads (payload.c) ---- */

/* Random bytes from getrandom(), for delivery ids and the jitter's seed. */
void notify__random(void *buf, size_t n);
/* "sha256=" and the hex HMAC-SHA256 of body under secret: out needs SIGNATURE_LEN. */
#define SIGNATURE_LEN		(7 + 64 + 1)
void notify__signature(const char *secret, const char *body, char *out, size_t size);
/* The address of "Name <a@b>" or "a@b" into out; false when it is not one. */
bool notify__mail_address(const char *text, char *out, size_t size);
/* The JSON body of root, which it deletes; NULL when !ok (something was left out) or on ENOMEM. */
char *notify__print(struct cJSON *root, bool ok);
/* RFC 3339 in UTC, milliseconds only when there are some; 0 is Go's zero time, as Alertmanager shows it. */
void notify__time(__u64 ms, char *buf, size_t size);
/* The same as a JSON string member; *ok turns false when memory runs out. */
void notify__json_time(struct cJSON *o, const char *key, __u64 ms, bool *ok);
bool notify_alert__firing(const struct notify_alert *a);
/* Its summary annotation, else its description, else its alertname. */
const char *notify_alert__summary(const struct notify_alert *a);
/* How many of the group's alerts fire. */
int notify_group__firing(const struct notify_group *g);
/* The group's alertname ("alert" when it has none). */
const char *notify_group__alertname(const struct notify_group *g);
/* The first firing alert, else the first one; NULL when there are none. */
const struct notify_alert *notify_group__lead(const struct notify_group *g);
/* The dashboard's page at external_url + path + id ("" without an external URL). */
void notify__dash_url(const struct notify_group *g, const char *path, const char *id, char *out, size_t size);

/* A growing string that remembers an allocation failure. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

void sbuf__addn(struct sbuf *b, const char *s, size_t n);
void sbuf__add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- delivery (notify.c) ---- */

/* POSTs row's JSON payload to url (signed when r has a secret); an HTTP verdict. */
void notify__send_http(struct notifier *n, const struct receiver *r, const char *url, const struct outbox_row *row,
		       struct attempt *a);
/* Sends row's message over SMTP (r->url) from r->from to r->to; an SMTP verdict. */
void notify__send_smtp(struct notifier *n, const struct receiver *r, const struct outbox_row *row,
		       struct attempt *a);

#endif
