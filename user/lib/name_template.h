/* SPDX-License-Identifier: MIT */
/* Name templates: session, agent, task and label values made of a job's environment, argv, comm and cgroup. */
#ifndef NAME_TEMPLATE_H
#define NAME_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * What a job's names are made of, as it was at exec. Any field may be empty
 * (a process gone before it was read): a placeholder of it is then empty and
 * the next alternative is tried.
 */
struct name_source {
	const char *const *argv;	/* argc words */
	int argc;
	const char *const *env;		/* envc "NAME=value" entries */
	int envc;
	const char *comm;
	const char *cgroup;		/* path in the unified hierarchy, "" when unknown */
	const char *exe;		/* the path it was executed by */
};

/*
 * Whether s holds a placeholder at all: anything else is a plain name.
 * Placeholders: {{env.NAME}}, {{argv.N}} (N from 0; -1 is the last word),
 * {{comm}}, {{program}} (the base name of {{exe}}, the path it was executed
 * by), {{exe}}, {{cgroup}}, {{"literal"}}; alternatives separated by |
 * are tried in turn until one is not empty: {{env.AGENT_NAME|comm}}.
 */
bool name_template__has_placeholders(const char *s);

/* 0 when tmpl is well formed; -EINVAL with a one-line reason in err. */
int name_template__check(const char *tmpl, char *err, size_t errlen);

/*
 * Renders tmpl for src into out (always NUL-terminated, control characters
 * replaced by spaces). Returns the length written.
 */
size_t name_template__render(const char *tmpl, const struct name_source *src, char *out, size_t size);

/* The value of NAME in src's environment, or NULL. */
const char *name_source__env(const struct name_source *src, const char *name);

#endif
