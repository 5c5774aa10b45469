/* SPDX-License-Identifier: MIT */
/* How jobs are named and, for an orchestrator, which of its descendants are jobs: one spec for the API, rules and CLI. */
#ifndef JOBSPEC_H
#define JOBSPEC_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "workerwatch.h"

#define JOB_TMPL_LEN		256
#define JOB_LABELS_MAX		16
#define JOB_IGNORE_MAX		16
#define JOB_LABEL_NAME_LEN	64

struct cJSON;
struct name_source;

struct job_label {
	char name[JOB_LABEL_NAME_LEN];
	char tmpl[JOB_TMPL_LEN];
};

/*
 * Names are templates (lib/name_template.h); empty means the default:
 * session "default", agent "{{program|comm}}", task "".
 */
struct job_spec {
	char session[JOB_TMPL_LEN];
	char agent[JOB_TMPL_LEN];
	char task[JOB_TMPL_LEN];
	struct job_label labels[JOB_LABELS_MAX];
	int nlabels;
	/* an orchestrator's job boundary */
	enum ww_jobs_mode jobs;
	char exec_re[JOB_TMPL_LEN];	/* WW_JOBS_EXEC: the program pattern (POSIX extended regex) */
	char ignore[JOB_IGNORE_MAX][JOB_TMPL_LEN];
	int nignore;
	__u64 min_duration_ms;		/* shorter children count in the orchestrator's own totals */
	bool stopped_is_failure;	/* a job its orchestrator ends is failed, not stopped_by_orchestrator */
	/* compiled by job_spec__compile */
	regex_t exec_rx;
	regex_t ignore_rx[JOB_IGNORE_MAX];
	bool compiled;
};

/*
 * Fills s from a JSON object: "session", "agent", "task" (templates),
 * "labels" (name: template), and with orchestrator "jobs": {"exec": REGEX,
 * "ignore": [REGEX...], "min_duration": "2s", "stopped_is_failure": bool}.
 * Unknown keys are refused unless allowed lists them (NULL-terminated, may
 * be NULL). Compiles it. -EINVAL with a one-line reason in err.
 */
int job_spec__from_json(struct job_spec *s, const struct cJSON *obj, bool orchestrator,
			const char *const *allowed, char *err, size_t errlen);
/* The spec's own keys, as job_spec__from_json reads them (defaults left out). */
void job_spec__to_json(const struct job_spec *s, struct cJSON *obj);
/* Compiles the patterns after the fields were set by hand; -EINVAL with the reason. */
int job_spec__compile(struct job_spec *s, char *err, size_t errlen);
/* Sets the job boundary from --jobs: "children" or "exec:REGEX". */
int job_spec__set_jobs(struct job_spec *s, const char *text, char *err, size_t errlen);
/* Copies src into dst (dst's own patterns freed first, src's recompiled). */
int job_spec__copy(struct job_spec *dst, const struct job_spec *src);
/* Frees the compiled patterns (s itself is the caller's). */
void job_spec__release(struct job_spec *s);

/* Whether a program (the path it was executed by) is one of the spec's jobs: the pattern matches, no ignore does. */
bool job_spec__accepts(const struct job_spec *s, const char *program);
/* Whether a program is on the ignore list. */
bool job_spec__ignores(const struct job_spec *s, const char *program);

/* Renders the names for src; empty results fall back to the defaults. */
void job_spec__names(const struct job_spec *s, const struct name_source *src, char *session, char *agent,
		     char *task, size_t size);
/* Adds the label templates rendered for src to labels (a JSON object), over what it has. */
void job_spec__labels(const struct job_spec *s, const struct name_source *src, struct cJSON *labels);

#endif
