/* SPDX-License-Identifier: MIT */
/* Durable history of executions, their syscall summaries and samples, in SQLite (the only user of it). */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <linux/types.h>
#include "history/record.h"

#define STORE_DEFAULT_PATH	"/var/lib/workerwatch/workerwatch.db"
#define STORE_SCHEMA_VERSION	6
/* failure_category and reason given to executions a crashed daemon left running */
#define STORE_LOST_CATEGORY	"lost"
#define STORE_LOST_REASON	"the daemon stopped while it ran"
#define STORE_JSON_LEN		8192	/* a stored rule or registration document */

/*
 * Functions return 0 (or a count) on success and a negative errno on failure
 * (-EIO for database errors without a better match); store__errmsg() then
 * has a one-line explanation. Arrays they return are malloc'ed: free() them.
 * One store may be shared by threads; calls are serialized.
 */
struct store;

/*
 * Opens the database at path read-write, creating it (mode 0600) and its
 * schema when missing, and its parent directories (0700) if create_dirs.
 * Returns NULL with errno set on failure; store__errmsg(NULL) says why.
 */
struct store *store__open(const char *path, bool create_dirs);

/*
 * Opens an existing database without creating anything: read-only (a reader
 * beside a writing daemon, thanks to WAL) or read-write (for cleanup).
 * errno is ENOENT when there is no file at path.
 */
struct store *store__open_existing(const char *path, bool readonly);

void store__close(struct store *s);

/* The last failure of a store function in this thread, one line; s may be NULL. */
const char *store__errmsg(const struct store *s);

/*
 * Inserts r when r->id is 0 (then sets r->id; ids are never reused) or
 * updates execution r->id, and replaces its syscall rows with rows[0..nrows),
 * all in one transaction. rows == NULL keeps the stored syscall rows.
 */
int store__upsert_execution(struct store *s, struct exec_record *r,
			    const struct syscall_row *rows, int nrows);

/* The same, and records in the same transaction that the execution is the kernel's kernel_id (0: none). */
int store__upsert_tracked(struct store *s, struct exec_record *r, const struct syscall_row *rows, int nrows,
			  __u64 kernel_id);

/* Adds samples of stored executions in one transaction; the same (exec_id, ts_ms) replaces the old sample. */
int store__add_samples(struct store *s, const struct sample_row *rows, int n);

/* -ENOENT when there is no execution id. */
int store__get_execution(struct store *s, __u64 id, struct exec_record *out);

/*
 * Calls cb for each execution matching f (NULL: all), newest first, without
 * holding them all in memory. f->limit < 0 means no limit. A non-zero return
 * of cb stops the walk and is returned. cb may call the store's reading functions.
 */
typedef int (*store_exec_cb)(const struct exec_record *r, void *ctx);
int store__foreach_execution(struct store *s, const struct exec_filter *f, store_exec_cb cb, void *ctx);

/* The executions matching f (NULL: all), newest first (started_at, then id). */
int store__list_executions(struct store *s, const struct exec_filter *f,
			   struct exec_record **out, int *n);

/* An execution's syscall rows, by total time, longest first. */
int store__syscalls(struct store *s, __u64 id, struct syscall_row **out, int *n);

/* An execution's samples, oldest first. */
int store__samples(struct store *s, __u64 id, struct sample_row **out, int *n);

/*
 * Orchestrations (executions grouped by session), the most recently active
 * first (latest execution start). limit 0: a default of 100; < 0: all.
 */
int store__orchestrations(struct store *s, int limit, struct orch_record **out, int *n);

/* -ENOENT when no execution has this session. */
int store__orchestration(struct store *s, const char *session, struct orch_record *out);

/* Per agent (by name), over finished executions started at or after since_ms; percentiles by nearest rank. */
int store__performance(struct store *s, __u64 since_ms, struct perf_record **out, int *n);

/* Failed executions, newest first; limit as in struct exec_filter. */
int store__failures(struct store *s, int limit, struct exec_record **out, int *n);

/* How many failed executions have this session, agent and task (for retry_count). */
int store__count_failed(struct store *s, const char *session, const char *agent, const char *task);

/*
 * At daemon start: executions a crash left "running" and no daemon tracks
 * (no tracking row) become failed with STORE_LOST_CATEGORY, ended at their
 * last sample (now_ms when none).
 * Returns how many.
 */
int store__mark_running_as_lost(struct store *s, __u64 now_ms);

/* Deletes samples taken before older_than_ms; returns how many. */
int store__prune_samples(struct store *s, __u64 older_than_ms);

/*
 * Deletes whole sessions whose newest execution started before older_than_ms
 * and none of which still runs, with their samples and syscall rows.
 * Returns how many executions were deleted.
 */
int store__cleanup(struct store *s, __u64 older_than_ms);

/* PRAGMA integrity_check: 0 when ok, -EIO (and the first problem in the message) when not. */
int store__integrity_check(struct store *s);

/*
 * Extra JSON documents of an execution ("runqueue_latency", "slow_syscalls"),
 * deleted with it. put replaces; get returns -ENOENT when absent, the text
 * in *json (malloc'd).
 */
int store__put_extra(struct store *s, __u64 id, const char *key, const char *json);
int store__get_extra(struct store *s, __u64 id, const char *key, char **json);

/*
 * Alerting state (schema 3): documents of the alert engine (kind "instance",
 * "group", "silence", "rules"; key unique within a kind) and the outbox of
 * notifications, written together so that a state change and the
 * notifications it causes are never stored apart.
 */
struct store_doc {
	const char *kind;
	const char *key;
	const char *json;		/* NULL deletes the document */
};

struct outbox_new {
	const char *receiver;
	const char *group_key;
	const char *kind;		/* "firing", "resolved", "acknowledge", "repeat", "escalate", "test";
					 * an execution's: "traces", "metrics", "statsd" */
	const char *payload;
	const char *delivery_id;
};

struct outbox_row {
	__u64 id;			/* increasing: the order rows were queued in */
	char receiver[64];
	char group_key[512];
	char kind[16];
	char *payload;			/* malloc'd; outbox_rows__free() */
	char delivery_id[40];
	__u64 created_ms;
	int attempts;
	__u64 next_attempt_ms;
	char state[8];			/* "pending", "sent", "dead" */
	int last_status;		/* HTTP status of the last attempt, 0 = none */
	char last_error[256];
	__u64 done_ms;			/* when sent or given up, 0 while pending */
};

struct outbox_count {
	char receiver[64];
	__u64 pending, sent, dead;
	__u64 oldest_pending_ms;	/* created_ms of the oldest pending row, 0 = none */
};

/* Writes docs and queues rows (pending, due now) in one transaction. */
int store__alerts_commit(struct store *s, const struct store_doc *docs, int ndocs,
			 const struct outbox_new *rows, int nrows, __u64 now_ms);
/*
 * An execution that ended: queues rows (its notifications to the receivers
 * told of every execution) and forgets its tracking row, in one transaction,
 * so that a start which still finds the tracking row knows the rows were
 * never queued. rows may be none.
 */
int store__queue_execution_end(struct store *s, __u64 exec_id, const struct outbox_new *rows, int nrows,
			       __u64 now_ms);
/* Calls cb for each document of kind, by key; a non-zero return stops the walk and is returned. */
typedef int (*store_doc_cb)(const char *key, const char *json, void *ctx);
int store__alert_docs(struct store *s, const char *kind, store_doc_cb cb, void *ctx);
/* The oldest pending row of each receiver: the heads of the per-receiver queues. */
int store__outbox_heads(struct store *s, struct outbox_row **out, int *n);
/* Records an attempt's result: state "pending" (retry at next_attempt_ms), "sent" or "dead". */
int store__outbox_update(struct store *s, __u64 id, const char *state, int attempts, __u64 next_attempt_ms,
			 int last_status, const char *last_error, __u64 now_ms);
/* Rows of a state and/or receiver (NULL: any), newest first; limit as in struct exec_filter. */
int store__outbox_list(struct store *s, const char *state, const char *receiver, int limit,
		       struct outbox_row **out, int *n);
/* Counts per receiver that has rows. */
int store__outbox_counts(struct store *s, struct outbox_count **out, int *n);
/* Deletes sent and dead rows finished before older_than_ms; returns how many. */
int store__outbox_prune(struct store *s, __u64 older_than_ms);
void outbox_rows__free(struct outbox_row *rows, int n);

/*
 * The daemon's tracking state (schema 5), so that tracking outlives the
 * daemon: which kernel execution id each running execution is (written with
 * store__upsert_tracked, forgotten when it ends), and the orchestrators.
 */
int store__forget_tracking(struct store *s, __u64 exec_id);
int store__foreach_tracking(struct store *s, int (*cb)(__u64 exec_id, __u64 kernel_id, void *ctx), void *ctx);

struct orch_registration {
	__u64 id;
	int pid;
	__u64 start_ticks;		/* /proc/PID/stat starttime, to tell a reused pid */
	char session[REC_NAME_LEN];
	char options[STORE_JSON_LEN];	/* JSON object, "{}" when none: names, job boundary, rule, own totals */
	__u64 registered_ms;
};

int store__put_orchestrator(struct store *s, const struct orch_registration *o);
/* The registration of orchestrator id; -ENOENT when there is none. */
int store__get_orchestrator(struct store *s, __u64 id, struct orch_registration *out);
int store__forget_orchestrator(struct store *s, __u64 id);
int store__foreach_orchestrator(struct store *s, int (*cb)(const struct orch_registration *o, void *ctx),
				void *ctx);

/*
 * Watch rules (schema 6): the API's and the config file's (source), kept so
 * that a restart selects the same processes with the same rule ids.
 */
struct watch_row {
	__u64 id;			/* 0: a new rule (store__put_watch sets it) */
	char name[REC_NAME_LEN];	/* "" when it has none; unique otherwise */
	char source[8];			/* "api" or "config" */
	char rule[STORE_JSON_LEN];	/* JSON object */
	__u64 created_ms;
};

/* Inserts (w->id 0) or replaces a rule; -EEXIST when another rule has its name. */
int store__put_watch(struct store *s, struct watch_row *w);
int store__forget_watch(struct store *s, __u64 id);
int store__foreach_watch(struct store *s, int (*cb)(const struct watch_row *w, void *ctx), void *ctx);

#endif
