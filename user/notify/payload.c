// SPDX-License-Identifier: MIT
/* What every receiver type's payload uses: ids, dedup keys, signatures, times, group summaries, dashboard links. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include "lib/json.h"
#include "notify/notify_int.h"

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Random bytes; when getrandom() cannot (no entropy yet), a hash of time, pid and a counter still differs per call. */
void notify__random(void *buf, size_t n)
{
	static atomic_ulong counter;
	unsigned char md[SHA256_DIGEST_LENGTH];
	struct {
		struct timespec ts;
		pid_t pid;
		unsigned long count;
	} seed;

	if (getrandom(buf, n, GRND_NONBLOCK) == (ssize_t)n)
		return;
	memset(&seed, 0, sizeof(seed));
	clock_gettime(CLOCK_REALTIME, &seed.ts);
	seed.pid = getpid();
	seed.count = atomic_fetch_add(&counter, 1);
	SHA256((const unsigned char *)&seed, sizeof(seed), md);
	memcpy(buf, md, n < sizeof(md) ? n : sizeof(md));
}

void notify__delivery_id(char out[37])
{
	unsigned char b[16];

	notify__random(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

void notify__dedup_key(const char *host, const char *group_key, char *out, size_t size)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char h[2 * SHA256_DIGEST_LENGTH + 1];

	group_key = group_key ? group_key : "";
	SHA256((const unsigned char *)group_key, strlen(group_key), md);
	hex(md, sizeof(md), h);
	snprintf(out, size, "ww-%s-%.32s", host ? host : "", h);
}

/* "sha256=" and the hex HMAC-SHA256 of body with secret. */
void notify__signature(const char *secret, const char *body, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char h[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int len = 0;

	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body), md, &len))
		len = 0;
	hex(md, len, h);
	snprintf(out, size, "sha256=%s", h);
}

/* ---- what the payloads share ---- */

/* RFC 3339 in UTC; milliseconds only when there are some; 0 is Go's zero time, as Alertmanager shows it. */
void notify__time(__u64 ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (!ms || !gmtime_r(&t, &tm)) {
		snprintf(buf, size, "%s", ZERO_TIME);
		return;
	}
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (ms % 1000)
		snprintf(buf + n, size - n, ".%03uZ", (unsigned int)(ms % 1000));
	else
		snprintf(buf + n, size - n, "Z");
}

void notify__json_time(cJSON *o, const char *key, __u64 ms, bool *ok)
{
	char t[40];

	notify__time(ms, t, sizeof(t));
	json__add_str(o, key, t, ok);
}

bool notify_alert__firing(const struct notify_alert *a)
{
	return a->status && !strcmp(a->status, "firing");
}

int notify_group__firing(const struct notify_group *g)
{
	int n = 0;

	for (int i = 0; i < g->nalerts; i++)
		n += notify_alert__firing(&g->alerts[i]);
	return n;
}

const char *notify_group__alertname(const struct notify_group *g)
{
	const char *name = labels__get(&g->group_labels, "alertname");

	if (!name[0] && g->nalerts)
		name = labels__get(&g->alerts[0].labels, "alertname");
	return name[0] ? name : "alert";
}

const struct notify_alert *notify_group__lead(const struct notify_group *g)
{
	for (int i = 0; i < g->nalerts; i++)
		if (notify_alert__firing(&g->alerts[i]))
			return &g->alerts[i];
	return g->nalerts ? &g->alerts[0] : NULL;
}

const char *notify_alert__summary(const struct notify_alert *a)
{
	const char *s = labels__get(&a->annotations, "summary");

	if (!s[0])
		s = labels__get(&a->annotations, "description");
	return s[0] ? s : labels__get(&a->labels, "alertname");
}

void notify__dash_url(const struct notify_group *g, const char *path, const char *id, char *out, size_t size)
{
	const char *ext = g->external_url ? g->external_url : "";
	size_t len = strlen(ext);

	while (len && ext[len - 1] == '/')
		len--;
	if (!len)
		out[0] = '\0';
	else
		snprintf(out, size, "%.*s%s%s", (int)len, ext, path, id ? id : "");
}

void sbuf__addn(struct sbuf *b, const char *s, size_t n)
{
	char *ns;
	size_t ncap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 1024;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		ns = realloc(b->s, ncap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void sbuf__add(struct sbuf *b, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		sbuf__addn(b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	sbuf__addn(b, big, (size_t)n);
	free(big);
}

char *notify__print(cJSON *root, bool ok)
{
	char *body = ok && root ? cJSON_PrintUnformatted(root) : NULL;

	cJSON_Delete(root);
	return body;
}

char *notify__format(const struct receiver *r, const struct notify_group *g, const char *delivery_id)
{
	char *body;

	if (!r || !r->ops || !r->ops->payload || !g || (g->nalerts && !g->alerts)) {
		errno = EINVAL;
		return NULL;
	}
	body = r->ops->payload(r, g, delivery_id);
	if (!body)
		errno = ENOMEM;
	return body;
}

int notify__format_execution(const struct receiver *r, const struct notify_execution *x, struct notify_payload *out,
			     int max)
{
	if (!r || !r->ops || !x || !x->r || !out || max < 0)
		return -EINVAL;
	if (!receiver__can(r, RECEIVER_EXECUTIONS) || !r->ops->exec_payloads)
		return 0;
	return r->ops->exec_payloads(r, x, out, max);
}
