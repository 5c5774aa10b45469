// SPDX-License-Identifier: MIT
/* The sender thread: drains the outbox in order per receiver, with backoff, Retry-After, rate limits and dead letters. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/num.h"
#include "notify/notify_int.h"
#include "history/store.h"
#include "lib/version.h"

struct recv_state {
	double tokens;			/* the token bucket */
	__u64 refilled_ms;		/* monotonic */
	struct receiver_stats stats;
};

struct notifier {
	struct store *store;
	const struct receiver *rs;
	int n;
	struct recv_state *st;
	__u64 rng;
	pthread_t thread;
	bool started, curl_ready;
	/* stop is also read by curl's progress callback, without the lock */
	atomic_bool stop;
	bool kicked;
	pthread_mutex_t lock;		/* stats, kicked, the wait */
	pthread_cond_t wake;		/* on CLOCK_MONOTONIC */
};

/* What curl saw of one attempt. */
struct transfer {
	CURLcode rc;
	long status;			/* HTTP status or SMTP reply, 0 = no answer */
	bool has_retry_after;
	__u64 retry_after_ms;
	char body[ERROR_BODY_MAX + 1];	/* the start of the response */
	size_t body_len;
	char curl_err[CURL_ERROR_SIZE];
};

static __u64 clock_ms(clockid_t clk)
{
	return clock__ns(clk) / 1000000;
}

/* Wall-clock milliseconds, rounded up: a delay counted from it is never cut short by the rounding. */
static __u64 real_ms_ceil(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ((__u64)ts.tv_nsec + 999999) / 1000000;
}

/* xorshift64*: jitter needs spread, not secrecy */
static __u64 next_random(struct notifier *n)
{
	n->rng ^= n->rng >> 12;
	n->rng ^= n->rng << 25;
	n->rng ^= n->rng >> 27;
	return n->rng * 0x2545F4914F6CDD1DULL;
}

static __u64 backoff_ms(struct notifier *n, int attempts)
{
	int shift = attempts > 1 ? attempts - 1 : 0;
	__u64 ceiling = shift >= 20 ? BACKOFF_CAP_MS : BACKOFF_BASE_MS << shift, d;

	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	d = next_random(n) % (ceiling + 1);
	return d < BACKOFF_FLOOR_MS ? BACKOFF_FLOOR_MS : d;
}

/* Takes a token of r's bucket; otherwise how long until there is one. */
static bool bucket_take(struct recv_state *st, const struct receiver *r, __u64 *wait_ms)
{
	double rate = r->rate_per_s > 0 ? r->rate_per_s : DEFAULT_RATE;
	double burst = r->burst >= 1 ? r->burst : 1;
	__u64 now = clock_ms(CLOCK_MONOTONIC);

	st->tokens += (double)(now - st->refilled_ms) * rate / 1000.0;
	if (st->tokens > burst)
		st->tokens = burst;
	st->refilled_ms = now;
	if (st->tokens >= 1.0) {
		st->tokens -= 1.0;
		return true;
	}
	*wait_ms = (__u64)ceil((1.0 - st->tokens) * 1000.0 / rate);
	if (!*wait_ms)
		*wait_ms = 1;
	return false;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct transfer *a = ctx;
	size_t n = size * nmemb, room = ERROR_BODY_MAX - a->body_len;

	/* only the start is kept, for the error message; the rest is read and dropped */
	if (room) {
		memcpy(a->body + a->body_len, ptr, n < room ? n : room);
		a->body_len += n < room ? n : room;
		a->body[a->body_len] = '\0';
	}
	return n;
}

/* Retry-After: seconds, or an HTTP date. */
static void parse_retry_after(struct transfer *a, const char *v)
{
	char secs[32], date[128];
	__u64 ms, now;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		snprintf(secs, sizeof(secs), "%.*s", (int)strcspn(v, " \r\n"), v);
		if (num__parse_u64(secs, 0, ~0ULL, &ms))
			return;
		ms = ms > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : ms * 1000;
	} else {
		snprintf(date, sizeof(date), "%.*s", (int)strcspn(v, "\r\n"), v);
		t = curl_getdate(date, NULL);
		if (t < 0)
			return;
		now = clock_ms(CLOCK_REALTIME);
		ms = (__u64)t * 1000 > now ? (__u64)t * 1000 - now : 0;
	}
	a->has_retry_after = true;
	a->retry_after_ms = ms > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : ms;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct transfer *a = ctx;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	char line[256];

	/* a new response (after 100 Continue) starts over */
	if (n >= 5 && !strncmp(ptr, "HTTP/", 5))
		a->has_retry_after = false;
	if (n > sizeof(name) - 1 && n < sizeof(line) && !strncasecmp(ptr, name, sizeof(name) - 1)) {
		memcpy(line, ptr, n);
		line[n] = '\0';
		parse_retry_after(a, line + sizeof(name) - 1);
	}
	return n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct notifier *n = ctx;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(&n->stop) ? 1 : 0;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct upload *u = ctx;
	size_t n = size * nitems;

	if (n > u->len - u->off)
		n = u->len - u->off;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

/* Options of every attempt: bounded in time, no proxy from the environment, no redirects, abortable on stop. */
static void common_options(struct notifier *n, CURL *c, const struct receiver *r, struct transfer *a)
{
	__u64 timeout = r->timeout_ms ? r->timeout_ms : DEFAULT_TIMEOUT_MS;
	__u64 connect = timeout < CONNECT_TIMEOUT_MS ? timeout : CONNECT_TIMEOUT_MS;

	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->curl_err);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
}

/* Appends to a header list, which stays as it was when memory runs out. */
static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = curl_slist_append(*list, line);

	if (l)
		*list = l;
	return l != NULL;
}

static enum verdict http_verdict(const struct transfer *t)
{
	/* a configuration that can never work */
	if (t->rc == CURLE_URL_MALFORMAT || t->rc == CURLE_UNSUPPORTED_PROTOCOL)
		return VERDICT_DEAD;
	if (t->rc != CURLE_OK)
		return VERDICT_RETRY;
	if (t->status >= 200 && t->status < 300)
		return VERDICT_SENT;
	if (t->status == 408 || t->status == 429 || (t->status >= 500 && t->status < 600))
		return VERDICT_RETRY;
	return VERDICT_DEAD;
}

static enum verdict smtp_verdict(const struct transfer *t)
{
	if (t->rc == CURLE_URL_MALFORMAT || t->rc == CURLE_UNSUPPORTED_PROTOCOL)
		return VERDICT_DEAD;
	if (t->rc == CURLE_OK)
		return VERDICT_SENT;
	/* SMTP: 5xx is permanent, 4xx and lost connections are worth another try */
	return t->status >= 500 && t->status < 600 ? VERDICT_DEAD : VERDICT_RETRY;
}

/* The attempt's outcome from what curl saw; for HTTP, a failure says the status and the start of the answer. */
static void conclude(struct notifier *n, const struct transfer *t, enum verdict v, bool http, struct attempt *a)
{
	char body[ERROR_BODY_MAX + 1];
	size_t i;

	a->aborted = t->rc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&n->stop);
	a->verdict = v;
	a->status = (int)t->status;
	a->has_retry_after = t->has_retry_after;
	a->retry_after_ms = t->retry_after_ms;
	a->error[0] = '\0';
	if (v == VERDICT_SENT)
		return;
	if (http && t->rc == CURLE_OK) {
		for (i = 0; i < t->body_len; i++)
			body[i] = (unsigned char)t->body[i] < 0x20 ? ' ' : t->body[i];
		body[i] = '\0';
		snprintf(a->error, sizeof(a->error), "HTTP %ld%s%s", t->status, i ? ": " : "", body);
		return;
	}
	snprintf(a->error, sizeof(a->error), "%s", t->curl_err[0] ? t->curl_err : curl_easy_strerror(t->rc));
	a->error[strcspn(a->error, "\r\n")] = '\0';
}

void notify__send_http(struct notifier *n, const struct receiver *r, const char *url, const struct outbox_row *row,
		       struct attempt *a)
{
	struct curl_slist *headers = NULL;
	struct transfer t = {};
	char line[sizeof(r->headers)], sig[SIGNATURE_LEN + 16];
	CURL *c = curl_easy_init();
	bool ok;

	if (!c) {
		t.rc = CURLE_OUT_OF_MEMORY;
		goto out;
	}
	/* "Expect:" turns off 100-continue, which some receivers do not answer */
	ok = add_header(&headers, "Content-Type: application/json") && add_header(&headers, "Expect:");
	snprintf(line, sizeof(line), "X-Workerwatch-Delivery: %s", row->delivery_id);
	ok = ok && add_header(&headers, line);
	if (ok && r->secret[0]) {
		notify__signature(r->secret, row->payload, sig, sizeof(sig));
		snprintf(line, sizeof(line), "X-Workerwatch-Signature: %s", sig);
		ok = add_header(&headers, line);
	}
	/* the receiver's own headers (a collector's credentials), one per line */
	for (const char *h = r->headers; ok && *h; h += strcspn(h, "\n") + (h[strcspn(h, "\n")] ? 1 : 0)) {
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(h, "\n"), h);
		ok = add_header(&headers, line);
	}
	if (!ok) {
		t.rc = CURLE_OUT_OF_MEMORY;
		goto out;
	}
	common_options(n, c, r, &t);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "workerwatch/" WORKERWATCH_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, row->payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(row->payload));
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
	t.rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.status);
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	conclude(n, &t, http_verdict(&t), true, a);
}

void notify__send_smtp(struct notifier *n, const struct receiver *r, const struct outbox_row *row, struct attempt *a)
{
	struct upload up = { .data = row->payload, .len = strlen(row->payload) };
	struct curl_slist *rcpt = NULL;
	struct transfer t = {};
	char to[sizeof(r->to)], addr[256], line[260], *save = NULL;
	CURL *c = curl_easy_init();

	if (!c) {
		t.rc = CURLE_OUT_OF_MEMORY;
		goto out;
	}
	snprintf(to, sizeof(to), "%s", r->to);
	for (char *tok = strtok_r(to, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!notify__mail_address(tok, addr, sizeof(addr)))
			continue;
		snprintf(line, sizeof(line), "<%s>", addr);
		if (!add_header(&rcpt, line)) {
			t.rc = CURLE_OUT_OF_MEMORY;
			goto out;
		}
	}
	if (!notify__mail_address(r->from, addr, sizeof(addr)))
		addr[0] = '\0';
	snprintf(line, sizeof(line), "<%s>", addr);
	common_options(n, c, r, &t);
	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* STARTTLS when the server offers it */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, line);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &up);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
	t.rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.status);
out:
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	conclude(n, &t, smtp_verdict(&t), false, a);
}

const double notify_latency_bounds[NOTIFY_LATENCY_BOUNDS] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600 };

static void record(struct notifier *n, int idx, enum verdict v, int status, const char *error,
		   const struct outbox_row *row, __u64 now)
{
	struct receiver_stats *s = &n->st[idx].stats;
	double latency = now > row->created_ms ? (double)(now - row->created_ms) / 1000.0 : 0;

	pthread_mutex_lock(&n->lock);
	s->last_status = status;
	if (v == VERDICT_SENT) {
		s->sent++;
		s->last_success_ms = now;
		s->latency_sum_s += latency;
		for (int b = 0; b < NOTIFY_LATENCY_BOUNDS; b++)
			s->latency_buckets[b] += latency <= notify_latency_bounds[b];
		s->last_error[0] = '\0';
	} else {
		if (v == VERDICT_RETRY)
			s->retries++;
		else
			s->dead++;
		s->last_failure_ms = now;
		snprintf(s->last_error, sizeof(s->last_error), "%s", error);
	}
	pthread_mutex_unlock(&n->lock);
}

/* Sends row, the head of receiver idx's queue, once, and records the result; false if the store failed. */
static bool attempt(struct notifier *n, int idx, const struct outbox_row *row)
{
	const struct receiver *r = &n->rs[idx];
	__u64 now, next, max_age = r->max_age_ms ? r->max_age_ms : DEFAULT_MAX_AGE_MS;
	int attempts = row->attempts + 1, err;
	char error[256];
	const char *state;
	struct attempt a = {};
	enum verdict v;

	r->ops->send(n, r, row, &a);
	/* stopping: the row stays as it was, to be sent after the restart */
	if (a.aborted)
		return true;
	now = real_ms_ceil();
	v = a.verdict;
	snprintf(error, sizeof(error), "%s", a.error);
	/* a clock set back leaves created_ms in the future: that row is young, not ancient */
	if (v == VERDICT_RETRY && now > row->created_ms && now - row->created_ms >= max_age) {
		char last[sizeof(error)], age[32];

		snprintf(last, sizeof(last), "%s", error);
		duration__format(max_age, age, sizeof(age));
		snprintf(error, sizeof(error), "older than max_age %.24s; last attempt: %.190s", age, last);
		v = VERDICT_DEAD;
	}
	next = row->next_attempt_ms;
	if (v == VERDICT_RETRY) {
		/* Retry-After is the least the receiver asked for: honour it rather than the jitter */
		if (a.has_retry_after)
			next = now + (a.retry_after_ms > BACKOFF_FLOOR_MS ? a.retry_after_ms : BACKOFF_FLOOR_MS);
		else
			next = now + backoff_ms(n, attempts);
	}
	state = v == VERDICT_SENT ? "sent" : v == VERDICT_RETRY ? "pending" : "dead";
	err = store__outbox_update(n->store, row->id, state, attempts, next, (int)a.status, error, now);
	if (err)
		ww_err("notify: cannot record the delivery of notification %llu: %s",
		       (unsigned long long)row->id, store__errmsg(n->store));
	record(n, idx, v, (int)a.status, error, row, now);
	if (v == VERDICT_SENT)
		ww_debug("notify: %s: notification %llu delivered (attempt %d)", r->name,
			 (unsigned long long)row->id, attempts);
	else if (v == VERDICT_RETRY)
		ww_info("notify: %s: notification %llu failed (attempt %d), retry in %llu ms: %s", r->name,
			(unsigned long long)row->id, attempts, (unsigned long long)(next - now), error);
	else
		ww_warn("notify: %s: notification %llu given up (attempt %d): %s", r->name,
			(unsigned long long)row->id, attempts, error);
	return !err;
}

static int find_receiver(const struct notifier *n, const char *name)
{
	for (int i = 0; i < n->n; i++)
		if (!strcmp(n->rs[i].name, name))
			return i;
	return -1;
}

static void refresh_pending(struct notifier *n)
{
	struct outbox_count *c = NULL;
	int nc = 0;

	if (store__outbox_counts(n->store, &c, &nc)) {
		ww_warn("notify: cannot count the outbox: %s", store__errmsg(n->store));
		return;
	}
	pthread_mutex_lock(&n->lock);
	for (int i = 0; i < n->n; i++) {
		n->st[i].stats.pending = 0;
		for (int k = 0; k < nc; k++)
			if (!strcmp(c[k].receiver, n->rs[i].name))
				n->st[i].stats.pending = c[k].pending;
	}
	pthread_mutex_unlock(&n->lock);
	free(c);
}

/* Sleeps up to ms, or until a kick or stop. */
static void wait_for_work(struct notifier *n, __u64 ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&n->lock);
	while (!n->kicked && !atomic_load(&n->stop))
		if (pthread_cond_timedwait(&n->wake, &n->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&n->lock);
}

static void *sender_main(void *arg)
{
	struct notifier *n = arg;
	__u64 counted = 0;

	while (!atomic_load(&n->stop)) {
		struct outbox_row *heads = NULL;
		__u64 now, wait_ms = POLL_MS, d;
		bool progressed = false, store_ok = true;
		int nheads = 0, idx;

		/* cleared before reading, so that a kick from now on is not missed */
		pthread_mutex_lock(&n->lock);
		n->kicked = false;
		pthread_mutex_unlock(&n->lock);
		if (store__outbox_heads(n->store, &heads, &nheads)) {
			ww_warn("notify: cannot read the outbox: %s", store__errmsg(n->store));
			store_ok = false;
		}
		now = clock_ms(CLOCK_REALTIME);
		for (int i = 0; i < nheads && !atomic_load(&n->stop); i++) {
			const struct outbox_row *h = &heads[i];

			idx = find_receiver(n, h->receiver);
			if (idx < 0) {
				/* the config changed since it was queued */
				ww_warn("notify: notification %llu: receiver %s is not configured",
					(unsigned long long)h->id, h->receiver);
				store_ok &= !store__outbox_update(n->store, h->id, "dead", h->attempts,
								  h->next_attempt_ms, 0, "receiver not configured",
								  now);
				progressed = true;
				continue;
			}
			if (h->next_attempt_ms > now) {
				d = h->next_attempt_ms - now;
				wait_ms = d < wait_ms ? d : wait_ms;
				continue;
			}
			if (!bucket_take(&n->st[idx], &n->rs[idx], &d)) {
				wait_ms = d < wait_ms ? d : wait_ms;
				continue;
			}
			store_ok &= attempt(n, idx, h);
			progressed = true;
			now = clock_ms(CLOCK_REALTIME);
		}
		outbox_rows__free(heads, nheads);
		if (!progressed || clock_ms(CLOCK_MONOTONIC) - counted >= POLL_MS) {
			refresh_pending(n);
			counted = clock_ms(CLOCK_MONOTONIC);
		}
		/* the next heads may be due at once; a failing store is not hammered */
		if (progressed && store_ok)
			continue;
		wait_for_work(n, store_ok ? wait_ms : POLL_MS);
	}
	return NULL;
}

struct notifier *notifier__start(struct store *store, const struct receiver *receivers, int n)
{
	struct notifier *nt = NULL;
	pthread_condattr_t ca;
	bool sync_ready = false;
	int err = 0;

	if (!store || n < 0 || (n && !receivers)) {
		errno = EINVAL;
		return NULL;
	}
	nt = calloc(1, sizeof(*nt));
	if (!nt || !(nt->st = calloc(n ? (size_t)n : 1, sizeof(*nt->st)))) {
		err = -ENOMEM;
		goto cleanup;
	}
	nt->store = store;
	nt->rs = receivers;
	nt->n = n;
	atomic_init(&nt->stop, false);
	for (int i = 0; i < n; i++) {
		struct recv_state *st = &nt->st[i];

		st->tokens = receivers[i].burst >= 1 ? receivers[i].burst : 1;
		st->refilled_ms = clock_ms(CLOCK_MONOTONIC);
		snprintf(st->stats.name, sizeof(st->stats.name), "%s", receivers[i].name);
		st->stats.type = receiver__type_name(&receivers[i]);
	}
	notify__random(&nt->rng, sizeof(nt->rng));
	nt->rng |= 1;	/* xorshift never leaves 0 */
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		err = -EIO;
		goto cleanup;
	}
	nt->curl_ready = true;
	pthread_mutex_init(&nt->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&nt->wake, &ca);
	pthread_condattr_destroy(&ca);
	sync_ready = true;
	err = -pthread_create(&nt->thread, NULL, sender_main, nt);
	if (err)
		goto cleanup;
	nt->started = true;
cleanup:
	if (err) {
		if (sync_ready) {
			pthread_cond_destroy(&nt->wake);
			pthread_mutex_destroy(&nt->lock);
		}
		if (nt && nt->curl_ready)
			curl_global_cleanup();
		if (nt)
			free(nt->st);
		free(nt);
		errno = -err;
		return NULL;
	}
	return nt;
}

void notifier__kick(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->kicked = true;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
}

int notifier__stats(struct notifier *n, struct receiver_stats *out, int max)
{
	int cnt = 0;

	if (!n || !out)
		return 0;
	pthread_mutex_lock(&n->lock);
	for (; cnt < n->n && cnt < max; cnt++)
		out[cnt] = n->st[cnt].stats;
	pthread_mutex_unlock(&n->lock);
	return cnt;
}

void notifier__stop(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	atomic_store(&n->stop, true);
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	if (n->started)
		pthread_join(n->thread, NULL);
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	if (n->curl_ready)
		curl_global_cleanup();
	free(n->st);
	free(n);
}
