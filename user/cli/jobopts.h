/* SPDX-License-Identifier: MIT */
/* The options attach and run share to name jobs and bound an orchestrator's, gathered into an API body. */
#ifndef JOBOPTS_H
#define JOBOPTS_H

#include <getopt.h>
#include <stdbool.h>

struct cJSON;

/* getopt_long codes of the shared options (above any command's own). */
enum {
	JOBOPT_SESSION = 0x400,
	JOBOPT_AGENT,
	JOBOPT_TASK,
	JOBOPT_LABEL,
	JOBOPT_JOBS,
	JOBOPT_IGNORE,
	JOBOPT_MIN_DURATION,
	JOBOPT_STOPPED_IS_FAILURE,
};

#define JOBOPTS_LONGOPTS									\
	{ "session", required_argument, NULL, JOBOPT_SESSION },				\
	{ "agent", required_argument, NULL, JOBOPT_AGENT },				\
	{ "task", required_argument, NULL, JOBOPT_TASK },					\
	{ "label", required_argument, NULL, JOBOPT_LABEL },				\
	{ "jobs", required_argument, NULL, JOBOPT_JOBS },					\
	{ "ignore", required_argument, NULL, JOBOPT_IGNORE },				\
	{ "min-duration", required_argument, NULL, JOBOPT_MIN_DURATION },			\
	{ "stopped-is-failure", no_argument, NULL, JOBOPT_STOPPED_IS_FAILURE }

/* The help text of the shared options. */
#define JOBOPTS_HELP										\
	"  --session S, --agent A, --task T\n"							\
	"                      names; templates over the job: {{env.NAME}}, {{argv.N}}, {{comm}},\n"	\
	"                      {{program}}, {{exe}}, {{cgroup}}, alternatives {{env.AGENT_NAME|comm}}\n"	\
	"  --label K=V         a label (V may be a template); repeatable\n"			\
	"  --jobs children|exec:REGEX\n"								\
	"                      an orchestrator's jobs: each child (default), or each descendant\n"	\
	"                      that executes a program whose path matches REGEX\n"		\
	"  --ignore REGEX      programs that are never jobs; repeatable\n"			\
	"  --min-duration D    children shorter than D (\"500ms\", \"2s\") count in the\n"		\
	"                      orchestrator's own totals instead\n"				\
	"  --stopped-is-failure\n"									\
	"                      a job its orchestrator ends is failed, not stopped_by_orchestrator\n"

struct jobopts {
	struct cJSON *body;		/* the API body being built: session, agent, task, labels, jobs */
	bool boundary;			/* a job-boundary option was given (only orchestrators take them) */
};

void jobopts__init(struct jobopts *o);
void jobopts__free(struct jobopts *o);
/* Takes option ch (a JOBOPT_*) with its argument; -EINVAL after a one-line error. */
int jobopts__take(struct jobopts *o, int ch, const char *arg);

#endif
