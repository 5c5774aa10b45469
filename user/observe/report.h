/* SPDX-License-Identifier: MIT */
/* The execution report: JSON (schema 1, docs/REPORT.md) and the human text form. */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>
#include "observe/execution.h"

#define REPORT_SCHEMA 1

struct cJSON;

/* The whole report as a cJSON object; NULL on allocation failure. */
struct cJSON *report__json(const struct execution *e);

/* Writes the JSON report to path; -errno on failure. */
int report__write_json(const struct execution *e, const char *path);

/* A /usr/bin/time -v style summary with bcc-style histograms. */
void report__print_text(FILE *out, const struct execution *e);

/* A log-linear histogram as {count, p50_ns, p90_ns, p99_ns, buckets: [{low_ns, high_ns, count}]}. */
struct cJSON *report__hist_json(const __u64 *hist, __u64 max_ns);

/* Each syscall's latency histogram, keyed by name, as report__hist_json. */
struct cJSON *report__syscall_histograms(const struct execution *e);

/* The OOM kill of a failure with oom_victims: {killer, trigger_pid, trigger_comm, victim_memory_cgroup}. */
struct cJSON *report__oom_kill_json(const struct failure *f);

/* The slow-syscall events: {threshold_ns, events: [...], dropped}. */
struct cJSON *report__slow_json(const struct execution *e);

#endif
