// SPDX-License-Identifier: MIT
/* The host's CPU, memory and pressure, from /proc: for /health and for alert rules. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
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

/* Unix time of boot, from /proc/stat's btime; 0 when unreadable. */
static __u64 boot_time(void)
{
	unsigned long long btime = 0;
	char line[256];
	FILE *f = fopen("/proc/stat", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	if (f)
		fclose(f);
	return btime;
}

int host__self(struct process_usage *u)
{
	unsigned long long size = 0, resident = 0, start_ticks = 0;
	long page = sysconf(_SC_PAGESIZE), hz = sysconf(_SC_CLK_TCK);
	struct rusage ru;
	struct rlimit rl;
	struct dirent *de;
	char stat[1024], *p;
	FILE *f;
	DIR *dir;
	int err = 0;

	memset(u, 0, sizeof(*u));
	if (!getrusage(RUSAGE_SELF, &ru)) {
		u->user_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
		u->system_s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		u->max_fds = rl.rlim_cur;
	f = fopen("/proc/self/statm", "re");
	if (f && fscanf(f, "%llu %llu", &size, &resident) == 2) {
		u->virtual_bytes = size * page;
		u->rss_bytes = resident * page;
	} else {
		err = -EIO;
	}
	if (f)
		fclose(f);
	dir = opendir("/proc/self/fd");
	if (dir) {
		while ((de = readdir(dir)))
			u->open_fds += de->d_name[0] != '.';
		u->open_fds--;	/* the directory's own fd */
		closedir(dir);
	} else {
		err = -EIO;
	}
	/* starttime is field 22, after the comm in parentheses, which may hold spaces */
	f = fopen("/proc/self/stat", "re");
	if (f && fgets(stat, sizeof(stat), f) && (p = strrchr(stat, ')')) &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &start_ticks) == 1 && hz > 0)
		u->start_time_s = boot_time() + (double)start_ticks / hz;
	else
		err = -EIO;
	if (f)
		fclose(f);
	return err;
}

static __u64 read_u64_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[64] = "";
	unsigned long long v;

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (sscanf(buf, "%llu", &v) != 1)
		return 0;	/* "max" of cgroup v2: no limit */
	return v;
}

__u64 host__memory_limit(pid_t pid)
{
	char path[64], line[512], file[PATH_MAX + 64];
	__u64 limit, avail;
	FILE *f;

	if (host__memory(&limit, &avail))
		limit = 0;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "r");
	if (!f)
		return limit;
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		bool v1;

		if (!cg)
			continue;
		*cg++ = 0;
		cg[strcspn(cg, "\n")] = 0;
		v1 = strstr(ctrl + 1, "memory") != NULL;
		if (!v1 && ctrl[1])
			continue;
		/* the effective limit is the smallest on the way up */
		for (;;) {
			__u64 v;

			snprintf(file, sizeof(file), v1 ? "/sys/fs/cgroup/memory%s/memory.limit_in_bytes" :
				 "/sys/fs/cgroup%s/memory.max", strcmp(cg, "/") ? cg : "");
			v = read_u64_file(file);
			if (v && v < limit)
				limit = v;
			if (!strcmp(cg, "/") || !cg[0] || !strrchr(cg, '/'))
				break;
			*strrchr(cg, '/') = 0;
			if (!cg[0])
				break;
		}
	}
	fclose(f);
	return limit;
}
