/* SPDX-License-Identifier: MIT */
/* What the notification modules share (receivers.c, payload.c, notify.c): defaults, limits, helpers. */
#ifndef NOTIFY_INT_H
#define NOTIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include "notify/notify.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define PAGERDUTY_URL		"https://events.pagerduty.com/v2/enqueue"
#define ZERO_TIME		"0001-01-01T00:00:00Z"
#define PD_SUMMARY_MAX		1024		/* characters, PagerDuty's limit */
#define PD_BODY_MAX		512000		/* bytes, PagerDuty's limit */
#define PD_LINKS_MAX		10
#define SLACK_SUMMARIES_MAX	5

#define DEFAULT_RATE		10.0
#define DEFAULT_BURST		5
#define SLACK_RATE		1.0		/* Slack allows about one message per second */
#define SLACK_BURST		1
#define DEFAULT_TIMEOUT_MS	10000ULL
#define MAX_TIMEOUT_MS		600000ULL
#define DEFAULT_MAX_AGE_MS	(24 * 3600 * 1000ULL)
#define DEFAULT_RESEND_MS	60000ULL
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

/* Random bytes from getrandom(), for delivery ids and the jitter's seed. */
void notify__random(void *buf, size_t n);
/* "sha256=" and the hex HMAC-SHA256 of body under secret: out needs SIGNATURE_LEN. */
#define SIGNATURE_LEN		(7 + 64 + 1)
void notify__signature(const char *secret, const char *body, char *out, size_t size);
/* The address of "Name <a@b>" or "a@b" into out; false when it is not one. */
bool notify__mail_address(const char *text, char *out, size_t size);

#endif
