/* SPDX-License-Identifier: MIT */
/* Execution labels on /metrics: only an allowlist of names, each with a bounded number of values; opt-in. */
#ifndef METRIC_LABELS_H
#define METRIC_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#define METRIC_LABELS_MAX	8	/* allowlisted names */
#define METRIC_LABEL_OTHER	"other"	/* the value past the bound */

struct metric_labels;
struct prom_buf;

/*
 * names: comma-separated label names (empty: none, the default); each keeps
 * at most max_values distinct values, later ones show as "other". NULL when
 * nothing is allowlisted or on allocation failure.
 */
struct metric_labels *metric_labels__new(const char *names, int max_values);
void metric_labels__free(struct metric_labels *m);

/*
 * Appends to pairs (name, value, ...; room for 2 * METRIC_LABELS_MAX) the
 * allowlisted labels of an execution's labels (a JSON object); values point
 * into m or the literal "other". Returns how many pointers it added.
 */
int metric_labels__pairs(struct metric_labels *m, const char *labels_json, const char **pairs);

/* Whether name is allowlisted (false for a NULL m). */
bool metric_labels__allows(const struct metric_labels *m, const char *name);

/* Counts a finished execution by agent, status and its allowlisted labels. */
void metric_labels__finished(struct metric_labels *m, const char *agent, const char *status, const char *labels_json);
/* workerwatch_executions_finished_labeled_total, when anything is allowlisted. */
void metric_labels__render(struct metric_labels *m, struct prom_buf *b);

#endif
