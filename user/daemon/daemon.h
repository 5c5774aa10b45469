/* SPDX-License-Identifier: MIT */
/* workerwatch daemon: the state its main loop and its API handlers share. */
#ifndef DAEMON_H
#define DAEMON_H

#include <pthread.h>
#include <signal.h>
#include "daemon/config.h"
#include "observe/execution.h"
#include "observe/host.h"
#include "daemon/http.h"

#define DAEMON_MAX_ORCHS	64
#define DAEMON_MAX_AGENTS	200	/* bounds /metrics label cardinality */
#define DAEMON_HIST_BOUNDS	12

struct probes;
struct tracker;
struct store;
struct eventlog;
struct alerts;
struct cJSON;

struct orchestrator {
	__u64 id;
	pid_t pid;
	int pidfd;
	char session[EXEC_NAME_LEN];
	__u64 db_started_ms;
};

/* Per-agent roll-up of finished executions since the daemon started, for /metrics. */
struct agent_stats {
	char agent[EXEC_NAME_LEN];
	__u64 by_outcome[FAILURE_MAX + 1];	/* completed, then each failure category, then detached */
	__u64 duration_buckets[DAEMON_HIST_BOUNDS];	/* cumulative at finalization */
	double duration_sum;
	__u64 cpu_buckets[DAEMON_HIST_BOUNDS];
	double cpu_sum;
	__u64 rss_buckets[DAEMON_HIST_BOUNDS];
	double rss_sum;
	__u64 count;
};

struct daemon {
	struct config cfg;
	pthread_mutex_t lock;		/* everything below; HTTP handlers run on their own threads */
	struct probes *probes;
	struct tracker *tracker;
	struct store *store;
	struct eventlog *log;
	struct http_server *http;
	struct alerts *alerts;		/* rules, alert states and notifications */
	char token[65];
	char env_names[CONFIG_MAX_ENV_LABELS][64];
	int nr_env_names;

	struct orchestrator orchs[DAEMON_MAX_ORCHS];
	int nr_orchs;
	__u64 next_orch_id;

	struct agent_stats agents[DAEMON_MAX_AGENTS + 1];	/* the last one is "other" */
	int nr_agents;
	__u64 executions_started;
	__u64 db_errors;
	bool db_ok;
	__u64 last_poll_ms;
	__u64 last_sample_ms;
	__u64 last_prune_ms;
	__u64 last_sweep_ms;
	__u64 last_gone_check_ms;
	__u64 lost_at_last_check;
	__u64 lost_changed_ms;
	struct host_cpu host_cpu;	/* for host CPU % between /health calls */
	int lock_fd;			/* DB.pid, locked while this daemon runs */
};

/* Histogram upper bounds of /metrics: seconds, CPU seconds, bytes. */
extern const double daemon_duration_bounds[DAEMON_HIST_BOUNDS];
extern const double daemon_cpu_bounds[DAEMON_HIST_BOUNDS];
extern const double daemon_rss_bounds[DAEMON_HIST_BOUNDS];

/* Called with the lock held, by the API and the loop. */
struct execution *daemon__find_live(struct daemon *d, __u64 db_id);
/* Calls fn for each live execution; fn may start, adopt and finish executions (tracker__foreach). */
int daemon__foreach_live(struct daemon *d, int (*fn)(struct execution *e, void *ctx), void *ctx);
int daemon__start_execution(struct daemon *d, struct execution *e, int pidfd);
int daemon__add_orchestrator(struct daemon *d, pid_t pid, int pidfd, const char *session, __u64 *id);
struct orch_registration;
/*
 * Watches the orchestrator reg describes (its id kept) through pidfd; tag:
 * mark its tasks in the kernel (false when pinned state still has them).
 */
int daemon__watch_orchestrator(struct daemon *d, const struct orch_registration *reg, int pidfd, bool tag);
/* /proc/PID/stat's starttime (clock ticks since boot): with the pid, a process's identity; 0 when gone. */
__u64 daemon__start_ticks(pid_t pid);
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
/* A process's argv from /proc (NULL-terminated, at most 64 words); "pid N" when unreadable. */
char **daemon__cmdline(pid_t pid);
/* Broadcasts a JSON object to stream clients and writes it to the event log. */
void daemon__publish(struct daemon *d, const char *kind, const char *stream_event, struct cJSON *obj);

/* The HTTP routes (api.c). */
extern const struct http_route daemon_routes[];
extern const int daemon_nroutes;

int daemon__run(struct daemon *d);

#endif
