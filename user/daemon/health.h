/* SPDX-License-Identifier: MIT */
/* /health: the checks behind the daemon's health and the host's CPU, memory, load and pressure. */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdbool.h>

struct daemon;
struct cJSON;

/* The health report; *healthy is false when a check fails. Called with the lock held. */
struct cJSON *health__report(struct daemon *d, bool *healthy);

#endif
