/* SPDX-License-Identifier: MIT */
/* Tracking that outlives the daemon: what a start takes over from the pinned kernel state and history, and what a stop leaves. */
#ifndef RESUME_H
#define RESUME_H

#include <stdbool.h>

struct daemon;

/*
 * At start, before the first event is read: takes up the executions and
 * orchestrators the previous daemon left in the pinned kernel state (their
 * ids are in history), reads the events of the time no daemon ran, makes
 * executions of the children whose events were lost, and finishes or marks
 * lost what the kernel no longer has. 0, or -errno after a one-line error.
 */
int resume__start(struct daemon *d);

/*
 * At stop: leaves every running execution and orchestrator to the kernel and
 * history for the next start, or with detach_all ends them as detached and
 * removes every program, link and pin.
 */
void resume__stop(struct daemon *d, bool detach_all);

#endif
