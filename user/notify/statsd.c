// SPDX-License-Identifier: MIT
/* The StatsD receiver: each finished execution's duration, CPU, peak memory, syscalls and outcome over UDP, named or DogStatsD-tagged by agent and status. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cjson/cJSON.h>
#include "history/store.h"
#include "notify/notify_int.h"

#define DEFAULT_PREFIX		"workerwatch"
/* What fits an Ethernet frame with IP and UDP headers, so no datagram is fragmented (DogStatsD's advice too). */
#define MAX_PACKET		1432
#define KIND_STATSD		"statsd"

/*
 * A name part or tag value as StatsD takes it: plain names keep [A-Za-z0-9_-]
 * (a dot would be a level of its own), tags lose only what separates tags.
 */
static void clean(const char *in, bool tag, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++) {
		unsigned char c = (unsigned char)*in;
		bool keep = tag ? c > 0x20 && c != 0x7f && !strchr(",|#@", c) :
				  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				  c == '_' || c == '-';

		out[n++] = keep ? (char)c : '_';
	}
	if (!n && size > 1)
		out[n++] = '_';
	out[n] = '\0';
}

/* One line: plain "PREFIX.execution.AGENT.STATUS.LEAF:V|T", or DogStatsD "PREFIX.execution.LEAF:V|T|#tags". */
static void line(struct sbuf *b, const struct receiver *r, const char *name_part, const char *tags,
		 const char *leaf, const char *value, const char *type)
{
	if (r->dogstatsd)
		sbuf__add(b, "%s.execution.%s:%s|%s|#%s\n", r->prefix, leaf, value, type, tags);
	else
		sbuf__add(b, "%s.execution.%s.%s:%s|%s\n", r->prefix, name_part, leaf, value, type);
}

static int exec_payloads(const struct receiver *r, const struct notify_execution *x, struct notify_payload *out,
			 int max)
{
	const struct exec_record *rec = x->r;
	char agent[REC_NAME_LEN], status[32], host[128], failure[32], name_part[REC_NAME_LEN + 40];
	char tags[512], v[32];
	struct sbuf b = {};

	if (max < 1)
		return -EINVAL;
	clean(rec->agent, r->dogstatsd, agent, sizeof(agent));
	clean(rec->status, r->dogstatsd, status, sizeof(status));
	clean(x->host ? x->host : "", true, host, sizeof(host));
	clean(rec->failure_category, true, failure, sizeof(failure));
	snprintf(name_part, sizeof(name_part), "%s.%s", agent, status);
	snprintf(tags, sizeof(tags), "agent:%s,status:%s,host:%s%s%s", agent, status, host,
		 rec->failure_category[0] ? ",failure:" : "", rec->failure_category[0] ? failure : "");
	line(&b, r, name_part, tags, "count", "1", "c");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)rec->duration_ms);
	line(&b, r, name_part, tags, "duration", v, "ms");
	snprintf(v, sizeof(v), "%.3f", (double)rec->on_cpu_ns / 1e6);
	line(&b, r, name_part, tags, "cpu_time", v, "ms");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)rec->peak_rss_bytes);
	line(&b, r, name_part, tags, "peak_rss_bytes", v, "h");
	/* the tree's peak with shared pages counted once (docs/REPORT.md), beside the sum of RSS */
	snprintf(v, sizeof(v), "%llu", (unsigned long long)rec->peak_memory_bytes);
	line(&b, r, name_part, tags, "peak_memory_bytes", v, "h");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)rec->syscalls);
	line(&b, r, name_part, tags, "syscalls", v, "h");
	if (b.oom) {
		free(b.s);
		return -ENOMEM;
	}
	snprintf(out[0].kind, sizeof(out[0].kind), KIND_STATSD);
	out[0].body = b.s;
	return 1;
}

/* udp://HOST:PORT or udp://[V6]:PORT into its host and port; false when it is not one. */
static bool split_url(const char *url, char *host, size_t hsize, char *port, size_t psize)
{
	const char *h = url + strlen("udp://"), *colon, *end;
	char *stop;
	long p;

	if (strncasecmp(url, "udp://", 6))
		return false;
	if (*h == '[') {
		end = strchr(h, ']');
		if (!end || end[1] != ':')
			return false;
		snprintf(host, hsize, "%.*s", (int)(end - h - 1), h + 1);
		colon = end + 1;
	} else {
		colon = strrchr(h, ':');
		if (!colon)
			return false;
		snprintf(host, hsize, "%.*s", (int)(colon - h), h);
	}
	errno = 0;
	p = strtol(colon + 1, &stop, 10);
	if (!host[0] || strchr(host, '/') || errno || *stop || stop == colon + 1 || p < 1 || p > 65535)
		return false;
	snprintf(port, psize, "%ld", p);
	return true;
}

static void defaults(struct receiver *r)
{
	snprintf(r->prefix, sizeof(r->prefix), DEFAULT_PREFIX);
}

static int parse(struct receiver_parse *pc, const cJSON *o, struct receiver *r)
{
	char host[256], port[8];
	const cJSON *v;
	int err = receiver_parse__str(pc, o, "url", r->url, sizeof(r->url));

	if (err < 0)
		return err;
	if (!err)
		return receiver_parse__fail(pc, "url is required (udp://HOST:PORT)");
	if (!split_url(r->url, host, sizeof(host), port, sizeof(port)))
		return receiver_parse__fail(pc, "url must be udp://HOST:PORT");
	err = receiver_parse__str(pc, o, "prefix", r->prefix, sizeof(r->prefix));
	if (err < 0)
		return err;
	for (const char *c = r->prefix; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '_' || *c == '-' || *c == '.'))
			return receiver_parse__fail(pc, "prefix must be made of A-Z a-z 0-9 _ - .");
	if (!r->prefix[0] || r->prefix[0] == '.' || r->prefix[strlen(r->prefix) - 1] == '.')
		return receiver_parse__fail(pc, "prefix must not be empty or start or end with a dot");
	v = cJSON_GetObjectItemCaseSensitive(o, "dogstatsd");
	if (v && !cJSON_IsBool(v))
		return receiver_parse__fail(pc, "dogstatsd must be true or false");
	r->dogstatsd = cJSON_IsTrue(v);
	return 0;
}

static void view(const struct receiver *r, cJSON *o)
{
	cJSON_AddStringToObject(o, "prefix", r->prefix);
	cJSON_AddBoolToObject(o, "dogstatsd", r->dogstatsd);
}

/* Sends the lines in datagrams of at most MAX_PACKET bytes, cut between lines. */
static void deliver(struct notifier *n, const struct receiver *r, const struct outbox_row *row, struct attempt *a)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	const char *p = row->payload, *end = p + strlen(p);
	char host[256], port[8];
	int fd = -1, rc;

	(void)n;
	a->verdict = VERDICT_RETRY;
	a->status = 0;
	if (!split_url(r->url, host, sizeof(host), port, sizeof(port))) {
		a->verdict = VERDICT_DEAD;
		snprintf(a->error, sizeof(a->error), "url is not udp://HOST:PORT");
		return;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(a->error, sizeof(a->error), "cannot resolve %.160s: %s", host, gai_strerror(rc));
		return;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* connected: a closed port's ICMP error comes back as ECONNREFUSED on a later send */
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		snprintf(a->error, sizeof(a->error), "cannot reach %.160s: %s", r->url, strerror(errno));
		goto out;
	}
	while (p < end) {
		const char *cut = p;
		size_t len;

		/* whole lines while the datagram stays within MAX_PACKET; a longer line goes alone */
		for (;;) {
			const char *nl = memchr(cut, '\n', (size_t)(end - cut)), *next = nl ? nl + 1 : end;

			if (cut != p && next - p - 1 > MAX_PACKET)
				break;
			cut = next;
			if (!nl)
				break;
		}
		/* the last line's newline stays out of the datagram, as StatsD clients send it */
		len = (size_t)(cut - p) - (cut[-1] == '\n');
		if (send(fd, p, len, 0) < 0) {
			snprintf(a->error, sizeof(a->error), "cannot send to %.160s: %s", r->url, strerror(errno));
			goto out;
		}
		p = cut;
	}
	a->verdict = VERDICT_SENT;
	a->error[0] = '\0';
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
}

const struct receiver_ops statsd_receiver = {
	.type = "statsd",
	.caps = RECEIVER_EXECUTIONS,
	.keys = (const char *const[]){ "prefix", "dogstatsd", NULL },
	/* a datagram per execution is cheap; a burst of endings should not wait on the bucket */
	.rate_per_s = 100,
	.burst = 50,
	.defaults = defaults,
	.parse = parse,
	.view = view,
	.exec_payloads = exec_payloads,
	.send = deliver,
};
