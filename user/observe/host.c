// SPDX-License-Identifier: MIT
/* The host's CPU, memory and pressure, from /proc: for /health and for alert rules. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "observe/host.h"

double host__cpu_percent(struct host_cpu *prev)
{
	unsigned long long v[10] = {}, total = 0, idle;
	FILE *f = fopen("/proc/stat", "r");
	double pct = 0;
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &v[6], &v[7], &v[8], &v[9]);
	fclose(f);
	if (n < 8)
		return -1;
	/* guest time is already in user and nice */
	for (int i = 0; i < 8; i++)
		total += v[i];
	idle = v[3] + v[4];
	if (prev->total && total > prev->total)
		pct = 100.0 * (double)((total - prev->total) - (idle - prev->idle)) / (double)(total - prev->total);
	prev->total = total;
	prev->idle = idle;
	return pct;
}

int host__memory(__u64 *total, __u64 *available)
{
	unsigned long long kb;
	char key[64];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -EIO;
	*total = *available = 0;
	while (fscanf(f, "%63s %llu kB\n", key, &kb) == 2) {
		if (!strcmp(key, "MemTotal:"))
			*total = kb * 1024;
		else if (!strcmp(key, "MemAvailable:"))
			*available = kb * 1024;
	}
	fclose(f);
	return *total ? 0 : -EIO;
}

int host__pressure(const char *resource, struct psi_avg *some, struct psi_avg *full)
{
	char path[64], kind[8];
	struct psi_avg a;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/pressure/%s", resource);
	f = fopen(path, "r");
	if (!f)
		return -ENOENT;
	some->present = full->present = false;
	while (fscanf(f, "%7s avg10=%lf avg60=%lf avg300=%lf total=%*u\n", kind, &a.avg10, &a.avg60, &a.avg300) == 4) {
		a.present = true;
		if (!strcmp(kind, "some"))
			*some = a;
		else if (!strcmp(kind, "full"))
			*full = a;
	}
	fclose(f);
	return 0;
}
