/* SPDX-License-Identifier: MIT */
/* The daemon's event log: JSON Lines in DIR/events.jsonl, rotated by size and day, gzipped, expired. */
#ifndef EVENTLOG_H
#define EVENTLOG_H

#include <linux/types.h>

#define EVENTLOG_DEFAULT_MAX_BYTES	(100ULL << 20)
#define EVENTLOG_DEFAULT_RETENTION_DAYS	30

struct eventlog;

struct eventlog_opts {
	const char *dir;		/* created 0750, with parents, if missing */
	__u64 max_bytes;		/* rotate before the live file would exceed it; 0: 100 MiB */
	int retention_days;		/* rotated files older than this are deleted; 0: 30 */
	/* Test hook: the wall clock in ns since the epoch; NULL: CLOCK_REALTIME. */
	__u64 (*now_fn)(void *ctx);
	void *now_ctx;
};

/*
 * Opens (appends to) DIR/events.jsonl, compresses rotated files a crash left
 * uncompressed and deletes expired ones. NULL with errno set, and a one-line
 * message already logged, on failure.
 */
struct eventlog *eventlog__open(const struct eventlog_opts *opts);

/*
 * Appends one line {"ts":"<RFC 3339 UTC ms>","event":"<kind>",["host":...,]<fields>}
 * with a single write(2), rotating first when due. kind is [A-Z][A-Z0-9_]* (at most
 * 31 characters), json_object one JSON object on one line (NULL for none)
 * whose keys must not be "ts" or "event". 0, -EINVAL for bad input (nothing
 * written), or -errno of the failed write. A failed rotation or compression
 * is logged, the line still goes to the live file and the rotation is retried
 * on the next write. Safe to call from several threads.
 */
int eventlog__write(struct eventlog *l, const char *kind, const char *json_object);

/*
 * Every line from now on names the host: {"ts":...,"event":...,"host":HOST,...}
 * (NULL: no more). 0 or -ENOMEM. Safe to call from several threads.
 */
int eventlog__set_host(struct eventlog *l, const char *host);

/* fsyncs the live file and the directory; 0 or -errno. */
int eventlog__flush(struct eventlog *l);

/* Closes the log without an fsync (call eventlog__flush first); accepts NULL. */
void eventlog__close(struct eventlog *l);

#endif
