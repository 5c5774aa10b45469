/* SPDX-License-Identifier: MIT */
/* Finished executions handed to the receivers told of every one (OTLP traces and metrics, StatsD). */
#ifndef EXPORTS_H
#define EXPORTS_H

struct alerts;
struct execution;
struct exec_record;

/*
 * e ended and r, its final record, is stored: its processes and numbers are
 * queued for those receivers, and its tracking row forgotten, in one
 * transaction. a may be NULL (no alerting): then only the row goes.
 */
void exports__ended(struct alerts *a, const struct execution *e, const struct exec_record *r);
/* One a start finds ended in history but still tracked (the daemon stopped before it settled): from r alone. */
void exports__ended_stored(struct alerts *a, const struct exec_record *r);

#endif
