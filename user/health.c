// SPDX-License-Identifier: MIT
/* /health: the checks behind the daemon's health and the host's CPU, memory, load and pressure. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "alerts.h"
#include "daemon.h"
#include "health.h"
#include "probes.h"
#include "store.h"
#include "tracker.h"
#include "workerwatch.h"

#define POLL_STALE_MS		10000
#define LOST_RECENT_MS		(5 * 60 * 1000)
#define CAPACITY_LIMIT		0.9
#define DELIVERY_STUCK_MS	(5 * 60 * 1000)

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
static void add_notifications(struct daemon *d, cJSON *checks, __u64 now, bool *healthy)
{
	struct receiver_stats st[RECEIVERS_MAX];
	struct outbox_count *counts = NULL;
	int n = alerts__receiver_stats(d->alerts, st, RECEIVERS_MAX), nc = 0;
	bool ok = true;
	cJSON *c, *rs;

	if (store__outbox_counts(d->store, &counts, &nc))
		nc = 0;
	rs = cJSON_CreateObject();
	for (int i = 0; i < n; i++) {
		cJSON *r = cJSON_AddObjectToObject(rs, st[i].name);
		__u64 oldest = 0;

		for (int j = 0; j < nc; j++)
			if (!strcmp(counts[j].receiver, st[i].name))
				oldest = counts[j].oldest_pending_ms;
		ok &= !st[i].dead && (!oldest || now - oldest < DELIVERY_STUCK_MS);
		cJSON_AddNumberToObject(r, "sent", (double)st[i].sent);
		cJSON_AddNumberToObject(r, "pending", (double)st[i].pending);
		cJSON_AddNumberToObject(r, "retries", (double)st[i].retries);
		cJSON_AddNumberToObject(r, "dead", (double)st[i].dead);
		cJSON_AddNumberToObject(r, "oldest_pending_age_ms", oldest ? (double)(now - oldest) : 0);
		cJSON_AddNumberToObject(r, "last_status", st[i].last_status);
		cJSON_AddStringToObject(r, "last_error", st[i].last_error);
	}
	free(counts);
	c = check(checks, "notifications", ok, healthy);
	cJSON_AddItemToObject(c, "receivers", rs);
}

/* CPU busy % since the previous call, from /proc/stat. */
static double host_cpu_percent(struct daemon *d)
{
	unsigned long long v[10] = {}, total = 0, idle, dt, di;
	FILE *f = fopen("/proc/stat", "r");
	double pct = 0;

	if (!f)
		return -1;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) < 8) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (int i = 0; i < 8; i++)
		total += v[i];
	idle = v[3] + v[4];
	dt = total - d->cpu_prev_total;
	di = idle - d->cpu_prev_idle;
	if (d->cpu_prev_total && dt)
		pct = 100.0 * (double)(dt - di) / (double)dt;
	d->cpu_prev_total = total;
	d->cpu_prev_idle = idle;
	return pct;
}

static void add_memory(cJSON *host)
{
	unsigned long long total = 0, avail = 0, kb;
	char key[64];
	FILE *f = fopen("/proc/meminfo", "r");
	cJSON *m;

	if (!f)
		return;
	while (fscanf(f, "%63s %llu kB\n", key, &kb) == 2) {
		if (!strcmp(key, "MemTotal:"))
			total = kb * 1024;
		else if (!strcmp(key, "MemAvailable:"))
			avail = kb * 1024;
	}
	fclose(f);
	m = cJSON_AddObjectToObject(host, "memory");
	cJSON_AddNumberToObject(m, "total_bytes", (double)total);
	cJSON_AddNumberToObject(m, "available_bytes", (double)avail);
	cJSON_AddNumberToObject(m, "used_percent", total ? 100.0 * (double)(total - avail) / (double)total : 0);
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

/* PSI, where the kernel has it: some/full avg10, avg60, avg300 per resource. */
static void add_pressure(cJSON *host)
{
	static const char *const resources[] = { "cpu", "memory", "io" };
	cJSON *psi = cJSON_AddObjectToObject(host, "pressure");

	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		char path[64], kind[8];
		double a10, a60, a300;
		FILE *f;
		cJSON *r;

		snprintf(path, sizeof(path), "/proc/pressure/%s", resources[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		r = cJSON_AddObjectToObject(psi, resources[i]);
		while (fscanf(f, "%7s avg10=%lf avg60=%lf avg300=%lf total=%*u\n", kind, &a10, &a60, &a300) == 4) {
			cJSON *k = cJSON_AddObjectToObject(r, kind);

			cJSON_AddNumberToObject(k, "avg10", a10);
			cJSON_AddNumberToObject(k, "avg60", a60);
			cJSON_AddNumberToObject(k, "avg300", a300);
		}
		fclose(f);
	}
}

cJSON *health__report(struct daemon *d, bool *healthy)
{
	cJSON *out = cJSON_CreateObject(), *checks, *c, *host;
	__u64 cnt[WW_CNT_MAX] = {}, lost = 0, now = daemon__now_ms();
	int running = tracker__count(d->tracker);
	bool recent_loss;

	*healthy = true;
	checks = cJSON_AddObjectToObject(out, "checks");
	c = check(checks, "probes", d->probes != NULL, healthy);
	cJSON_AddBoolToObject(c, "attached", probes__attached(d->probes));

	probes__counters(d->probes, cnt);
	for (int i = 0; i < WW_CNT_MAX; i++)
		if (i != WW_CNT_ORPHAN_TASK)
			lost += cnt[i];
	if (lost != d->lost_at_last_check) {
		d->lost_at_last_check = lost;
		d->lost_changed_ms = now;
	}
	recent_loss = lost && now - d->lost_changed_ms < LOST_RECENT_MS;
	c = check(checks, "lost_events", !recent_loss, healthy);
	cJSON_AddNumberToObject(c, "total", (double)lost);
	cJSON_AddNumberToObject(c, "lifecycle_ring_full", (double)cnt[WW_CNT_LIFECYCLE_LOST]);
	cJSON_AddNumberToObject(c, "slow_syscall_ring_full", (double)cnt[WW_CNT_ANOMALY_LOST]);
	cJSON_AddNumberToObject(c, "maps_full", (double)(cnt[WW_CNT_PROC_MAP_FULL] + cnt[WW_CNT_SYSCALL_MAP_FULL] +
							 cnt[WW_CNT_SOCK_MAP_FULL] + cnt[WW_CNT_EXEC_MAP_FULL]));

	c = check(checks, "map_capacity", running < WW_MAX_EXECS * CAPACITY_LIMIT, healthy);
	cJSON_AddNumberToObject(c, "executions", running);
	cJSON_AddNumberToObject(c, "max_executions", WW_MAX_EXECS);
	cJSON_AddNumberToObject(c, "orchestrators", d->nr_orchs);

	c = check(checks, "database", d->db_ok, healthy);
	cJSON_AddStringToObject(c, "path", d->cfg.db);
	cJSON_AddNumberToObject(c, "write_errors", (double)d->db_errors);

	c = check(checks, "poll", now - d->last_poll_ms < POLL_STALE_MS, healthy);
	cJSON_AddNumberToObject(c, "last_poll_age_ms", (double)(now - d->last_poll_ms));
	if (d->alerts)
		add_notifications(d, checks, now, healthy);

	host = cJSON_AddObjectToObject(out, "host");
	cJSON_AddNumberToObject(host, "cpu_percent", host_cpu_percent(d));
	add_memory(host);
	add_load(host);
	add_pressure(host);
	cJSON_AddStringToObject(out, "status", *healthy ? "healthy" : "unhealthy");
	return out;
}
