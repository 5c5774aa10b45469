/* SPDX-License-Identifier: MIT */
/* The executions of the recent past, in memory, for agent and session alert rules. */
#ifndef RECENT_H
#define RECENT_H

#include <stdbool.h>
#include <linux/types.h>
#include "history/record.h"

/*
 * Kept up to date from every history write of an execution (start, rename,
 * samples, end), so an evaluation reads memory instead of the history: its
 * cost is the executions in the window, not a query per rule.
 */
struct recent;

/* One execution as the rules see it; the strings live as long as the window. */
struct recent_view {
	const char *agent;
	const char *session;
	const char *category;		/* "" unless it failed */
	__u64 started_ms;
	__u64 duration_ms;
	bool ended;
	bool failed;
	bool retried;			/* retry_count > 0 */
};

struct recent *recent__new(void);
void recent__free(struct recent *w);

/* Adds execution r, or updates it (by id) when it is already there; 0 or -ENOMEM. */
int recent__put(struct recent *w, const struct exec_record *r);

/* Forgets executions started before before_ms. */
void recent__expire(struct recent *w, __u64 before_ms);

/* How far back the window is complete: what was loaded from history, or 0 when nothing was. */
__u64 recent__since(const struct recent *w);
/* Records that the window holds every execution started at or after since_ms. */
void recent__set_since(struct recent *w, __u64 since_ms);

/* Calls cb for each execution started at or after since_ms; a non-zero return stops the walk and is returned. */
int recent__foreach(const struct recent *w, __u64 since_ms,
		    int (*cb)(const struct recent_view *v, void *ctx), void *ctx);

/* How many executions the window holds. */
int recent__count(const struct recent *w);

#endif
