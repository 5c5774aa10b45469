/* SPDX-License-Identifier: MIT */
/* Wall-clock time: now, and RFC 3339 UTC text both ways. */
#ifndef CLOCK_H
#define CLOCK_H

#include <stddef.h>
#include <time.h>
#include <linux/types.h>

/* Milliseconds since the epoch (CLOCK_REALTIME). */
__u64 clock__now_ms(void);
/* Nanoseconds of clock clk (CLOCK_MONOTONIC, CLOCK_BOOTTIME, ...). */
__u64 clock__ns(clockid_t clk);

/* RFC 3339 UTC with milliseconds, e.g. 2026-11-21T05:39:20.123Z, of ns since the epoch. */
void clock__rfc3339(__u64 realtime_ns, char *buf, size_t size);
/* The same of milliseconds since the epoch. */
void clock__rfc3339_ms(__u64 ms, char *buf, size_t size);

/*
 * Reads YYYY-MM-DDTHH:MM:SS and an optional fraction of a second (its
 * milliseconds count) as UTC into *ms; returns what follows it (a "Z", say),
 * or NULL when s does not start with such a time.
 */
const char *clock__parse_rfc3339(const char *s, __u64 *ms);

#endif
