/* SPDX-License-Identifier: MIT */
/* workerwatch daemon: tracks executions, keeps their history and serves the API; its state is private. */
#ifndef DAEMON_H
#define DAEMON_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include "observe/execution.h"

struct alerts;
struct cJSON;
struct config;
struct daemon;
struct jobs;
struct probes;
struct store;
struct tracker;

/*
 * Runs the daemon with cfg in the foreground until SIGTERM or SIGINT (its
 * kernel state stays pinned for the next start) or SIGUSR1 (everything is
 * detached), or at once with cfg->detach_all; returns the exit status.
 */
int daemon__run(const struct config *cfg);

/*
 * For the daemon's own modules: the API's handlers, which the HTTP layer
 * runs with the daemon's lock held (http_opts.lock), and resume.c, which
 * runs at start and stop. Nothing below may be called without the lock.
 */
const struct config *daemon__config(const struct daemon *d);
struct store *daemon__store(struct daemon *d);
struct tracker *daemon__tracker(struct daemon *d);
struct probes *daemon__probes(struct daemon *d);
/* The alert engine, NULL when alerting is not running. */
struct alerts *daemon__alerts(struct daemon *d);
/* Orchestrators, watch rules, how processes become jobs (observe/jobs.h). */
struct jobs *daemon__jobs(struct daemon *d);
/* Calls fn for each live execution; fn may start, adopt and finish executions (tracker__foreach). */
int daemon__foreach_live(struct daemon *d, int (*fn)(struct execution *e, void *ctx), void *ctx);
/* The live execution with this history id, or NULL. */
struct execution *daemon__find_live(struct daemon *d, __u64 db_id);
/* Starts tracking e (filled in by the caller, its root behind pidfd); the tracker owns e on success. */
int daemon__start_execution(struct daemon *d, struct execution *e, int pidfd);
/* Attaches the BPF programs if they are not (something is to be tracked); 0 or -errno. */
int daemon__ensure_attached(struct daemon *d);
/* An announced job's names or labels changed (its root executed its program): history has them now. */
void daemon__renamed(struct daemon *d, struct execution *e);
/* /proc/PID/stat's starttime (clock ticks since boot): with the pid, a process's identity; 0 when gone. */
__u64 daemon__start_ticks(pid_t pid);
/* Broadcasts obj to stream clients (stream_event, NULL: none) and writes it to the event log as kind. */
void daemon__publish(struct daemon *d, const char *kind, const char *stream_event, const struct cJSON *obj);
/* Writes e's first history row and publishes its start. */
void daemon__announce(struct daemon *d, struct execution *e);
/* e's root ended (at ts_ns, with a wait(2) status): its outcome goes to history now. */
void daemon__root_ended(struct daemon *d, struct execution *e, __u64 ts_ns, int exit_status);
/*
 * Executions history still has as running, that no daemon tracks and whose
 * root's EXIT is in the event log (the history write failed), are finished
 * from that line rather than marked lost. Returns how many.
 */
int daemon__finish_from_event_log(struct daemon *d);
/* Detaches the BPF programs when nothing is tracked. */
void daemon__detach_if_idle(struct daemon *d);
/* Ends e now: snapshot, history, event log, stream; frees it. */
void daemon__finalize(struct daemon *d, struct execution *e);
/* Writes e's current snapshot to history; 0 or -EIO. */
int daemon__save(struct daemon *d, struct execution *e);
/* /health's report; *healthy is false when a check fails. */
struct cJSON *daemon__health(struct daemon *d, bool *healthy);
/* /metrics' text, malloc'd, or NULL. */
char *daemon__metrics(struct daemon *d);

/* A process's argv from /proc (NULL-terminated, at most 64 words); "pid N" when unreadable. */
char **daemon__cmdline(pid_t pid);

#endif
