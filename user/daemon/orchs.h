/* SPDX-License-Identifier: MIT */
/* The daemon's side of jobs: its hooks, orchestrator registrations and watch rules kept in history. */
#ifndef ORCHS_H
#define ORCHS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

struct cJSON;
struct daemon;
struct job_spec;
struct jobs_hooks;
struct orch;
struct orch_registration;

/* The hooks through which the daemon hears of jobs (ctx is d). */
void orchs__hooks(struct daemon *d, struct jobs_hooks *h);

/*
 * Registers the process behind pidfd (pid) as an orchestrator whose jobs
 * follow spec, kept in history; its id in *id. Keeps pidfd on success;
 * -errno as jobs__add_orch.
 */
int orchs__add(struct daemon *d, pid_t pid, int pidfd, const struct job_spec *spec, __u64 *id);
/* Watches a registration from history again if its process still runs; 1 when it does. tagged: the kernel has it. */
int orchs__resume(struct daemon *d, const struct orch_registration *reg, bool tagged);
/* An orchestrator as the API shows it; "state" is "watched". */
struct cJSON *orchs__json(const struct orch *o);
/* The last state of one of the 32 that ended last ("state": "ended", "reason"), or NULL. */
struct cJSON *orchs__ended_json(__u64 id);
/* Frees what orchs__ended_json reads, when the daemon stops. */
void orchs__forget_ended(void);

/*
 * The watch rules: those of the config file's "watches" array (by name) and
 * those added through the API, from history. 0, or -errno after a one-line error.
 */
int watches__load(struct daemon *d);
/* Adds a rule from an API body; 0 with its JSON in *out, -EINVAL/-EEXIST/-E2BIG/-EIO with err. */
int watches__add(struct daemon *d, const struct cJSON *body, struct cJSON **out, char *err, size_t errlen);
/* -ENOENT unknown, -EPERM from the config file, -EBUSY another rule's parent (err says which). */
int watches__remove(struct daemon *d, __u64 id, char *err, size_t errlen);
/* Every rule, as the API shows them. */
struct cJSON *watches__json(struct daemon *d);

#endif
