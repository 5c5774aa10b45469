/* SPDX-License-Identifier: MIT */
/* Turns a live or finished execution into the flat records history stores. */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include "observe/execution.h"
#include "history/record.h"

void snapshot__record(const struct execution *e, struct exec_record *r);
/* The per-syscall summary; returns the row count (rows in *out, free()) or -ENOMEM. */
int snapshot__syscall_rows(const struct execution *e, struct syscall_row **out);
/* A time-series point of a running execution. */
void snapshot__sample(const struct execution *e, __u64 ts_ms, struct sample_row *s);

#endif
