// SPDX-License-Identifier: MIT
/* /health: the checks behind the daemon's health and the host's CPU, memory, load and pressure. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "alerts/alerts.h"
#include "daemon/health.h"
#include "daemon/status.h"
#include "history/store.h"
#include "lib/clock.h"
#include "observe/host.h"
#include "observe/probes.h"
#include "observe/tracker.h"
#include "workerwatch.h"

#define POLL_STALE_MS		10000
#define LOST_RECENT_MS		(5 * 60 * 1000)
#define CAPACITY_LIMIT		0.9
#define DELIVERY_STUCK_MS	(5 * 60 * 1000)

/* What one report remembers for the next. */
struct health {
	__u64 lost_at_last_check;
	__u64 lost_changed_ms;
	struct host_cpu host_cpu;	/* for host CPU % between reports */
};

struct health *health__new(void)
{
	return calloc(1, sizeof(struct health));
}

void health__free(struct health *h)
{
	free(h);
}

static cJSON *check(cJSON *checks, const char *name, bool ok, bool *healthy)
{
	cJSON *c = cJSON_AddObjectToObject(checks, name);

	cJSON_AddBoolToObject(c, "ok", ok);
	*healthy &= ok;
	return c;
}

/*
 * Notifications fail the check when one was given up (dead letter) since the
 * daemon started, or when one has waited in the outbox over 5 minutes.
 */
static void add_notifications(const struct daemon_status *st, cJSON *checks, __u64 now, bool *healthy)
{
	struct receiver_stats stats[RECEIVERS_MAX];
	struct outbox_count *counts = NULL;
	int n = alerts__receiver_stats(st->alerts, stats, RECEIVERS_MAX), nc = 0;
	bool ok = true;
	cJSON *c, *rs;

	if (store__outbox_counts(st->store, &counts, &nc))
		nc = 0;
	rs = cJSON_CreateObject();
	for (int i = 0; i < n; i++) {
		cJSON *r = cJSON_AddObjectToObject(rs, stats[i].name);
		__u64 oldest = 0;

		for (int j = 0; j < nc; j++)
			if (!strcmp(counts[j].receiver, stats[i].name))
				oldest = counts[j].oldest_pending_ms;
		ok &= !stats[i].dead && (!oldest || now - oldest < DELIVERY_STUCK_MS);
		cJSON_AddNumberToObject(r, "sent", (double)stats[i].sent);
		cJSON_AddNumberToObject(r, "pending", (double)stats[i].pending);
		cJSON_AddNumberToObject(r, "retries", (double)stats[i].retries);
		cJSON_AddNumberToObject(r, "dead", (double)stats[i].dead);
		cJSON_AddNumberToObject(r, "oldest_pending_age_ms", oldest ? (double)(now - oldest) : 0);
		cJSON_AddNumberToObject(r, "last_status", stats[i].last_status);
		cJSON_AddStringToObject(r, "last_error", stats[i].last_error);
	}
	free(counts);
	c = check(checks, "notifications", ok, healthy);
	cJSON_AddItemToObject(c, "receivers", rs);
}

static void add_memory(cJSON *host)
{
	__u64 total, avail;
	cJSON *m;

	if (host__memory(&total, &avail))
		return;
	m = cJSON_AddObjectToObject(host, "memory");
	cJSON_AddNumberToObject(m, "total_bytes", (double)total);
	cJSON_AddNumberToObject(m, "available_bytes", (double)avail);
	cJSON_AddNumberToObject(m, "used_percent", 100.0 * (double)(total - avail) / (double)total);
}

static void add_load(cJSON *host)
{
	double l[3];
	FILE *f = fopen("/proc/loadavg", "r");

	if (!f)
		return;
	if (fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) == 3)
		cJSON_AddItemToObject(host, "load", cJSON_CreateDoubleArray(l, 3));
	fclose(f);
}

static void add_psi(cJSON *r, const char *kind, const struct psi_avg *p)
{
	cJSON *k;

	if (!p->present)
		return;
	k = cJSON_AddObjectToObject(r, kind);
	cJSON_AddNumberToObject(k, "avg10", p->avg10);
	cJSON_AddNumberToObject(k, "avg60", p->avg60);
	cJSON_AddNumberToObject(k, "avg300", p->avg300);
}

/* PSI, where the kernel has it: some/full avg10, avg60, avg300 per resource. */
static void add_pressure(cJSON *host)
{
	static const char *const resources[] = { "cpu", "memory", "io" };
	cJSON *psi = cJSON_AddObjectToObject(host, "pressure");

	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		struct psi_avg some, full;
		cJSON *r;

		if (host__pressure(resources[i], &some, &full))
			continue;
		r = cJSON_AddObjectToObject(psi, resources[i]);
		add_psi(r, "some", &some);
		add_psi(r, "full", &full);
	}
}

cJSON *health__report(struct health *h, const struct daemon_status *st, bool *healthy)
{
	cJSON *out = cJSON_CreateObject(), *checks, *c, *host;
	__u64 cnt[WW_CNT_MAX] = {}, lost, now = clock__now_ms();
	int running = tracker__count(st->tracker);
	bool recent_loss;

	*healthy = true;
	checks = cJSON_AddObjectToObject(out, "checks");
	c = check(checks, "probes", st->probes != NULL, healthy);
	cJSON_AddBoolToObject(c, "attached", probes__attached(st->probes));

	probes__counters(st->probes, cnt);
	lost = probes__lost_total(cnt);
	if (lost != h->lost_at_last_check) {
		h->lost_at_last_check = lost;
		h->lost_changed_ms = now;
	}
	recent_loss = lost && now - h->lost_changed_ms < LOST_RECENT_MS;
	c = check(checks, "lost_events", !recent_loss, healthy);
	cJSON_AddNumberToObject(c, "total", (double)lost);
	cJSON_AddNumberToObject(c, "lifecycle_ring_full", (double)cnt[WW_CNT_LIFECYCLE_LOST]);
	cJSON_AddNumberToObject(c, "slow_syscall_ring_full", (double)cnt[WW_CNT_ANOMALY_LOST]);
	cJSON_AddNumberToObject(c, "maps_full", (double)(cnt[WW_CNT_PROC_MAP_FULL] + cnt[WW_CNT_SYSCALL_MAP_FULL] +
							 cnt[WW_CNT_SOCK_MAP_FULL] + cnt[WW_CNT_EXEC_MAP_FULL] +
							 cnt[WW_CNT_ORCH_MAP_FULL]));

	c = check(checks, "map_capacity", running < WW_MAX_EXECS * CAPACITY_LIMIT, healthy);
	cJSON_AddNumberToObject(c, "executions", running);
	cJSON_AddNumberToObject(c, "max_executions", WW_MAX_EXECS);
	cJSON_AddNumberToObject(c, "orchestrators", st->orchestrators);

	c = check(checks, "database", st->db_ok, healthy);
	cJSON_AddStringToObject(c, "path", st->db_path);
	cJSON_AddNumberToObject(c, "write_errors", (double)st->db_errors);

	c = check(checks, "poll", now - st->last_poll_ms < POLL_STALE_MS, healthy);
	cJSON_AddNumberToObject(c, "last_poll_age_ms", (double)(now - st->last_poll_ms));
	if (st->alerts)
		add_notifications(st, checks, now, healthy);

	host = cJSON_AddObjectToObject(out, "host");
	cJSON_AddNumberToObject(host, "cpu_percent", host__cpu_percent(&h->host_cpu));
	add_memory(host);
	add_load(host);
	add_pressure(host);
	cJSON_AddStringToObject(out, "status", *healthy ? "healthy" : "unhealthy");
	return out;
}
