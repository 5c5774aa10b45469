// SPDX-License-Identifier: MIT
/* Wall-clock time: now, and RFC 3339 UTC text both ways. */
#include <stdio.h>
#include <time.h>
#include "lib/clock.h"

__u64 clock__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__u64 clock__ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void clock__rfc3339(__u64 realtime_ns, char *buf, size_t size)
{
	time_t secs = realtime_ns / 1000000000ULL;
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03lluZ",
		 (unsigned long long)(realtime_ns % 1000000000ULL / 1000000));
}

void clock__rfc3339_ms(__u64 ms, char *buf, size_t size)
{
	clock__rfc3339(ms * 1000000ULL, buf, size);
}

const char *clock__parse_rfc3339(const char *s, __u64 *ms)
{
	struct tm tm = {};
	const char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	unsigned int frac = 0, scale = 1000;

	if (!rest)
		return NULL;
	if (*rest == '.' && rest[1] >= '0' && rest[1] <= '9') {
		/* milliseconds are the first three digits; finer ones are read and dropped */
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			if (scale > 1) {
				scale /= 10;
				frac += (unsigned int)(*rest - '0') * scale;
			}
	}
	*ms = (__u64)timegm(&tm) * 1000 + frac;
	return rest;
}
