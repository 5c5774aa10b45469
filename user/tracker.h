/* SPDX-License-Identifier: MIT */
/* Registers executions in the kernel's maps and turns its lifecycle events into process records. */
#ifndef TRACKER_H
#define TRACKER_H

#include "execution.h"

struct tracker;
struct probes;

struct tracker *tracker__new(struct probes *probes);
void tracker__free(struct tracker *t);

/*
 * Tracks e from now on, rooted at the process behind pidfd (e->pid); its
 * future descendants inherit it in the kernel. e->id is assigned here.
 * held_before_exec: the root is our own child waiting to exec the command,
 * so its memory counts only from the exec on.
 */
int tracker__start(struct tracker *t, struct execution *e, int pidfd, bool held_before_exec);

/* Consumes pending events, waiting up to timeout_ms; returns events handled or -errno. */
int tracker__poll(struct tracker *t, int timeout_ms);
/* An fd that is readable when events are pending, for poll(2). */
int tracker__fd(struct tracker *t);

/* Copies the kernel's current totals of e into it. */
int tracker__collect(struct tracker *t, struct execution *e);
/* Forgets e in the kernel; descendants that outlive it stop being tracked. */
void tracker__finish(struct tracker *t, struct execution *e);

/* Realtime ns of a CLOCK_MONOTONIC timestamp. */
__u64 tracker__realtime(__u64 mono_ns);
__u64 tracker__now_mono(void);

#endif
