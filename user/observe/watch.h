/* SPDX-License-Identifier: MIT */
/* Watch rules: which processes become executions or orchestrators at exec, without any integration. */
#ifndef WATCH_H
#define WATCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "workerwatch.h"
#include "observe/jobspec.h"

#define WATCH_NAME_LEN		64
#define WATCH_CGROUP_LEN	256

struct cJSON;

enum watch_action {
	WATCH_TRACK,		/* each selected process tree is one execution */
	WATCH_ORCHESTRATOR,	/* each selected process is an orchestrator */
	WATCH_NONE,		/* only a parent selector for other rules */
};

/*
 * One rule: selectors (all that are given must match: exe, comm, argv, uid,
 * cgroup, parent), an action, and the names (and for an orchestrator the
 * job boundary) of what it selects.
 */
struct watch_rule {
	__u32 id;
	char name[WATCH_NAME_LEN];
	bool from_config;		/* defined in the daemon's config file, not through the API */
	char exe[WW_WATCH_PATH_LEN];
	char comm[WW_COMM_LEN];
	char argv_re[JOB_TMPL_LEN];
	bool has_uid;
	__u32 uid;
	char cgroup[WATCH_CGROUP_LEN];
	char parent[WATCH_NAME_LEN];	/* the name (or id) of the rule the parent process must match */
	enum watch_action action;
	struct job_spec spec;
	regex_t argv_rx;
	bool argv_compiled;
	struct ww_watch_sel sel;	/* the selectors in the kernel's terms */
	__u32 sel_flags;
};

/*
 * Fills r from a JSON object (id and from_config are the caller's) and
 * resolves its paths: the executable (its inode) and the cgroup (hierarchy,
 * controller, depth and id), which must exist. -EINVAL with the reason.
 */
int watch_rule__from_json(struct watch_rule *r, const struct cJSON *obj, char *err, size_t errlen);
/* The rule as the API shows it (and history keeps it). */
struct cJSON *watch_rule__to_json(const struct watch_rule *r);
/* Copies src into dst, recompiling its patterns. */
int watch_rule__copy(struct watch_rule *dst, const struct watch_rule *src);
void watch_rule__release(struct watch_rule *r);

/* Whether the rule's argv pattern (if any) matches argv, its words joined by spaces. */
bool watch_rule__argv_matches(const struct watch_rule *r, const char *const *argv, int argc);

/* The verdict key space of an orchestrator a rule makes: apart from registered orchestrators' ids. */
static inline __u32 watch_rule__jobs_id(__u32 rule_id)
{
	return 0x80000000u | rule_id;
}

/*
 * The kernel's array for rules[0..n): parent names resolved to slots.
 * -EINVAL when a parent names no rule (err says which).
 */
int watch_rules__to_kernel(const struct watch_rule *rules, int n, struct ww_watch_rule *out, char *err,
			   size_t errlen);

#endif
