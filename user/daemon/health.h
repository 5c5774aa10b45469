/* SPDX-License-Identifier: MIT */
/* /health: the checks behind the daemon's health and the host's CPU, memory, load and pressure. */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdbool.h>

struct cJSON;
struct daemon_status;
/* What a report remembers for the next: when events were last lost, the host's CPU counters. */
struct health;

struct health *health__new(void);
void health__free(struct health *h);
/* The health report; *healthy is false when a check fails. Called with the daemon's lock held. */
struct cJSON *health__report(struct health *h, const struct daemon_status *st, bool *healthy);

#endif
