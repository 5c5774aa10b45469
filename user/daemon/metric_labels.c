// SPDX-License-Identifier: MIT
/* Execution labels on /metrics: only an allowlist of names, each with a bounded number of values; opt-in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "daemon/metric_labels.h"
#include "daemon/prom.h"
#include "lib/labels.h"

#define SERIES_MAX	500	/* finished-execution series; past it they count under "other" */
#define OVERFLOW_MAX	8	/* the "other" series, one per status */
#define NAME_LEN	128

struct name_values {
	char name[LABEL_NAME_LEN];
	char (*values)[LABEL_VALUE_LEN];
	int n;
};

struct series {
	char agent[NAME_LEN];
	char status[32];
	const char *values[METRIC_LABELS_MAX];	/* into the names' tables, or "other" */
	unsigned long long count;
};

struct metric_labels {
	struct name_values names[METRIC_LABELS_MAX];
	int nr_names;
	int max_values;
	struct series *series;		/* SERIES_MAX, then OVERFLOW_MAX "other" ones */
	int nr_series;
	int nr_overflow;
};

struct metric_labels *metric_labels__new(const char *names, int max_values)
{
	struct metric_labels *m;
	char buf[1024], *save = NULL;

	if (!names || !names[strspn(names, ", ")])
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->max_values = max_values > 0 ? max_values : 1;
	m->series = calloc(SERIES_MAX + OVERFLOW_MAX, sizeof(*m->series));
	if (!m->series) {
		free(m);
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", names);
	for (char *n = strtok_r(buf, ", ", &save); n && m->nr_names < METRIC_LABELS_MAX; n = strtok_r(NULL, ", ", &save)) {
		struct name_values *nv = &m->names[m->nr_names];

		if (!labels__valid_name(n))
			continue;
		snprintf(nv->name, sizeof(nv->name), "%s", n);
		nv->values = calloc(m->max_values, sizeof(*nv->values));
		if (nv->values)
			m->nr_names++;
	}
	return m;
}

void metric_labels__free(struct metric_labels *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nr_names; i++)
		free(m->names[i].values);
	free(m->series);
	free(m);
}

bool metric_labels__allows(const struct metric_labels *m, const char *name)
{
	for (int i = 0; m && i < m->nr_names; i++)
		if (!strcmp(m->names[i].name, name))
			return true;
	return false;
}

/* The value as a bounded label value: one of the first max_values seen, or "other". */
static const char *bounded(struct metric_labels *m, struct name_values *nv, const char *v)
{
	for (int i = 0; i < nv->n; i++)
		if (!strcmp(nv->values[i], v))
			return nv->values[i];
	if (nv->n == m->max_values || strlen(v) >= LABEL_VALUE_LEN)
		return METRIC_LABEL_OTHER;
	snprintf(nv->values[nv->n], LABEL_VALUE_LEN, "%s", v);
	return nv->values[nv->n++];
}

/* Each allowlisted name's bounded value in labels ("" when the execution has none). */
static void values_of(struct metric_labels *m, const char *labels_json, const char **values)
{
	cJSON *obj = labels_json && labels_json[0] ? cJSON_Parse(labels_json) : NULL;

	for (int i = 0; i < m->nr_names; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, m->names[i].name);

		values[i] = cJSON_IsString(v) && v->valuestring[0] ? bounded(m, &m->names[i], v->valuestring) : "";
	}
	cJSON_Delete(obj);
}

int metric_labels__pairs(struct metric_labels *m, const char *labels_json, const char **pairs)
{
	const char *values[METRIC_LABELS_MAX];
	int n = 0;

	if (!m)
		return 0;
	values_of(m, labels_json, values);
	for (int i = 0; i < m->nr_names; i++) {
		if (!values[i][0])
			continue;	/* an empty value is an absent label, as in Prometheus */
		pairs[n++] = m->names[i].name;
		pairs[n++] = values[i];
	}
	return n;
}

void metric_labels__finished(struct metric_labels *m, const char *agent, const char *status, const char *labels_json)
{
	const char *values[METRIC_LABELS_MAX];
	struct series *s;

	int total;

	if (!m)
		return;
	values_of(m, labels_json, values);
	if (m->nr_series == SERIES_MAX) {
		/* bounded: what has no series of its own counts as agent and labels "other" */
		agent = METRIC_LABEL_OTHER;
		for (int k = 0; k < m->nr_names; k++)
			values[k] = METRIC_LABEL_OTHER;
	}
	total = m->nr_series + m->nr_overflow;
	for (int i = 0; i < total; i++) {
		s = &m->series[i < m->nr_series ? i : SERIES_MAX + i - m->nr_series];
		if (strcmp(s->agent, agent) || strcmp(s->status, status))
			continue;
		for (int k = 0; k < m->nr_names && s; k++)
			if (strcmp(s->values[k], values[k]))
				s = NULL;
		if (s) {
			s->count++;
			return;
		}
	}
	if (m->nr_series < SERIES_MAX)
		s = &m->series[m->nr_series++];
	else if (m->nr_overflow < OVERFLOW_MAX)
		s = &m->series[SERIES_MAX + m->nr_overflow++];
	else
		return;
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	snprintf(s->status, sizeof(s->status), "%s", status);
	memcpy(s->values, values, sizeof(values));
	s->count++;
}

static void render_one(struct metric_labels *m, struct prom_buf *b, const struct series *s)
{
	const char *labels[2 * (METRIC_LABELS_MAX + 2) + 1];
	int n = 0;

	labels[n++] = "agent";
	labels[n++] = s->agent;
	labels[n++] = "status";
	labels[n++] = s->status;
	for (int i = 0; i < m->nr_names; i++) {
		if (!s->values[i] || !s->values[i][0])
			continue;
		labels[n++] = m->names[i].name;
		labels[n++] = s->values[i];
	}
	labels[n] = NULL;
	prom__sample(b, "workerwatch_executions_finished_labeled_total", labels, (double)s->count);
}

void metric_labels__render(struct metric_labels *m, struct prom_buf *b)
{
	if (!m)
		return;
	prom__family(b, "workerwatch_executions_finished_labeled_total", "counter",
		     "Executions that ended since the daemon started, by agent, status and the allowlisted labels "
		     "(--metric-labels).");
	for (int i = 0; i < m->nr_series; i++)
		render_one(m, b, &m->series[i]);
	for (int i = 0; i < m->nr_overflow; i++)
		render_one(m, b, &m->series[SERIES_MAX + i]);
}
