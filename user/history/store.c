// SPDX-License-Identifier: MIT
/* Durable history in SQLite (WAL): executions, syscall summaries, samples; orchestrations by session. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "history/store.h"

#define BUSY_TIMEOUT_MS		5000
#define DEFAULT_LIMIT		100
#define STR_(x)			#x
#define STR(x)			STR_(x)

struct store {
	sqlite3 *db;
	/* Recursive, so that a foreach callback may call back into the store. */
	pthread_mutex_t lock;
	char path[PATH_MAX];
};

/* Per thread, so that a message cannot be overwritten by another thread before its caller reads it. */
static __thread char errbuf[512];

/* Version 1. Orchestrations are a view: a session's status is derived, never stored, so it cannot go stale. */
/* Version 2: JSON documents of an execution that have no columns (histograms, slow syscalls). */
#define EXTRAS_SQL								\
	"CREATE TABLE execution_extras ("					\
	" exec_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,"	\
	" key TEXT NOT NULL,"							\
	" json TEXT NOT NULL,"							\
	" PRIMARY KEY (exec_id, key)"						\
	") WITHOUT ROWID;"

static const char migrate_v2_sql[] = EXTRAS_SQL "PRAGMA user_version = 2;";

/*
 * Version 3: the alert engine's documents and the outbox of notifications,
 * written in one transaction so a state change never loses its notifications.
 * IF NOT EXISTS: a database whose version was lowered by hand may have them.
 */
#define ALERTS_SQL								\
	"CREATE TABLE IF NOT EXISTS alert_docs ("				\
	" kind TEXT,"								\
	" key TEXT,"								\
	" json TEXT NOT NULL,"							\
	" updated_ms INTEGER NOT NULL,"						\
	" PRIMARY KEY (kind, key)"						\
	") WITHOUT ROWID;"							\
	"CREATE TABLE IF NOT EXISTS outbox ("					\
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"				\
	" receiver TEXT NOT NULL,"						\
	" group_key TEXT NOT NULL,"						\
	" kind TEXT NOT NULL,"							\
	" payload TEXT NOT NULL,"						\
	" delivery_id TEXT NOT NULL,"						\
	" created_ms INTEGER NOT NULL,"						\
	" attempts INTEGER NOT NULL DEFAULT 0,"					\
	" next_attempt_ms INTEGER NOT NULL,"					\
	" state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),"	\
	" last_status INTEGER NOT NULL DEFAULT 0,"				\
	" last_error TEXT NOT NULL DEFAULT '',"					\
	" done_ms INTEGER NOT NULL DEFAULT 0"					\
	");"									\
	/* the head of each receiver's queue without a scan of sent rows */	\
	"CREATE INDEX IF NOT EXISTS outbox_queue ON outbox (state, receiver, id);"

static const char migrate_v3_sql[] = ALERTS_SQL "PRAGMA user_version = 3;";

/* Version 4: retry_count at every start counts failures without a scan of the session. */
#define FAILED_INDEX_SQL							\
	"CREATE INDEX IF NOT EXISTS executions_failed ON executions (session, agent, task)"	\
	" WHERE status = 'failed';"

static const char migrate_v4_sql[] = FAILED_INDEX_SQL "PRAGMA user_version = 4;";

/*
 * Version 5: the daemon's tracking state, so that tracking outlives the
 * daemon: the kernel id of each running execution (its entries in the
 * pinned maps) and the orchestrators whose children become executions.
 */
#define TRACKING_SQL								\
	"CREATE TABLE IF NOT EXISTS tracking ("				\
	" exec_id INTEGER PRIMARY KEY REFERENCES executions (id) ON DELETE CASCADE,"	\
	" kernel_id INTEGER NOT NULL"						\
	");"									\
	"CREATE TABLE IF NOT EXISTS orchestrators ("				\
	" id INTEGER PRIMARY KEY,"						\
	" pid INTEGER NOT NULL,"						\
	" start_ticks INTEGER NOT NULL,"	/* /proc/PID/stat starttime: tells a reused pid */	\
	" session TEXT NOT NULL,"						\
	" options TEXT NOT NULL,"		/* JSON object */			\
	" registered_ms INTEGER NOT NULL"					\
	");"

static const char migrate_v5_sql[] = TRACKING_SQL "PRAGMA user_version = 5;";

/*
 * Version 6: watch rules, and stopped_by_orchestrator: a job its own
 * orchestrator ended, an outcome that is neither success nor failure.
 * Orchestrations count it with the completed ones.
 */
#define WATCHES_SQL								\
	"CREATE TABLE IF NOT EXISTS watches ("					\
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"				\
	" name TEXT NOT NULL,"			/* '' when it has none */		\
	" source TEXT NOT NULL CHECK (source IN ('api', 'config')),"		\
	" rule TEXT NOT NULL,"			/* JSON object */			\
	" created_ms INTEGER NOT NULL"						\
	");"									\
	"CREATE UNIQUE INDEX IF NOT EXISTS watches_name ON watches (name) WHERE name != '';"

#define STATUS_CHECK	"status IN ('running', 'completed', 'failed', 'detached', 'stopped_by_orchestrator')"

#define ORCHESTRATIONS_VIEW_SQL							\
	"CREATE VIEW orchestrations AS SELECT"					\
	" session,"								\
	" CASE WHEN SUM(status = 'running') > 0 THEN 'running'"			\
	"  WHEN SUM(status IN ('completed', 'stopped_by_orchestrator')) = COUNT(*) THEN 'completed'"	\
	"  WHEN SUM(status = 'failed') = COUNT(*) THEN 'failed'"			\
	"  ELSE 'partial' END AS status,"					\
	" COUNT(*) AS executions,"						\
	" SUM(status = 'running') AS running,"					\
	" SUM(status = 'completed') AS completed,"				\
	" SUM(status = 'failed') AS failed,"					\
	" MIN(started_at_ms) AS started_at_ms,"					\
	" CASE WHEN SUM(status = 'running') > 0 THEN NULL ELSE MAX(ended_at_ms) END AS ended_at_ms,"	\
	" MAX(started_at_ms) AS last_started_at_ms"				\
	" FROM executions GROUP BY session;"

/*
 * A CHECK constraint that accepts more than before changes nothing stored:
 * SQLite's documented way is to edit the table's text in sqlite_schema
 * (https://www.sqlite.org/lang_altertable.html#otheralter); init_schema
 * bumps schema_version after a migration so that the edit is read back.
 */
static const char migrate_v6_sql[] = WATCHES_SQL
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	" 'status IN (''running'', ''completed'', ''failed'', ''detached'')',"
	" 'status IN (''running'', ''completed'', ''failed'', ''detached'', ''stopped_by_orchestrator'')')"
	" WHERE type = 'table' AND name = 'executions';"
	"PRAGMA writable_schema = OFF;"
	"DROP VIEW IF EXISTS orchestrations;"
	ORCHESTRATIONS_VIEW_SQL
	"PRAGMA user_version = 6;";

/* migrations[v] upgrades version v to v + 1 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	[1] = migrate_v2_sql,
	[2] = migrate_v3_sql,
	[3] = migrate_v4_sql,
	[4] = migrate_v5_sql,
	[5] = migrate_v6_sql,
};

/* SQL text per metric of the table (history/exec_metrics.h): its column definition, name, placeholder and update. */
#define RECORD_COL_DEF(name, in, ...)	IN_RECORD(in, ", " #name " INTEGER NOT NULL")
#define RECORD_COL(name, in, ...)	IN_RECORD(in, ", " #name)
#define RECORD_PARAM(name, in, ...)	IN_RECORD(in, ", ?")
#define RECORD_UPDATE(name, in, ...)	IN_RECORD(in, ", " #name " = excluded." #name)
#define SAMPLE_COL_DEF(name, in, ...)	IN_SAMPLE(in, ", " #name " INTEGER NOT NULL")
#define SAMPLE_COL(name, in, ...)	IN_SAMPLE(in, ", " #name)
#define SAMPLE_PARAM(name, in, ...)	IN_SAMPLE(in, ", ?")

static const char schema_sql[] =
	"CREATE TABLE executions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" session TEXT NOT NULL,"
	" agent TEXT NOT NULL,"
	" task TEXT NOT NULL,"
	" command TEXT NOT NULL,"		/* JSON array */
	" labels TEXT NOT NULL,"		/* JSON object */
	" pid INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK (" STATUS_CHECK "),"
	" exit_code INTEGER,"			/* NULL: none */
	" signal INTEGER,"			/* NULL: none */
	" failure_category TEXT NOT NULL,"	/* '' when it did not fail */
	" failure_reason TEXT NOT NULL,"
	" failure_evidence TEXT NOT NULL,"	/* JSON object */
	" started_at_ms INTEGER NOT NULL,"
	" ended_at_ms INTEGER,"			/* NULL while running */
	" duration_ms INTEGER NOT NULL,"
	" retry_count INTEGER NOT NULL,"
	" completed_steps INTEGER NOT NULL,"	/* -1: unknown */
	" total_steps INTEGER NOT NULL,"
	" current_step TEXT NOT NULL"
	EXEC_METRICS(RECORD_COL_DEF)
	");"
	"CREATE INDEX executions_started ON executions (started_at_ms);"
	"CREATE INDEX executions_status ON executions (status, started_at_ms);"
	"CREATE INDEX executions_session ON executions (session, started_at_ms);"
	"CREATE INDEX executions_agent ON executions (agent, started_at_ms);"
	"CREATE TABLE syscalls ("
	" exec_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" count INTEGER NOT NULL,"
	" errors INTEGER NOT NULL,"
	" total_ns INTEGER NOT NULL,"
	" p50_ns INTEGER NOT NULL,"
	" p90_ns INTEGER NOT NULL,"
	" p99_ns INTEGER NOT NULL,"
	" max_ns INTEGER NOT NULL,"
	" PRIMARY KEY (exec_id, name)"
	") WITHOUT ROWID;"
	"CREATE TABLE samples ("
	" exec_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,"
	" ts_ms INTEGER NOT NULL"
	EXEC_METRICS(SAMPLE_COL_DEF) ","
	" PRIMARY KEY (exec_id, ts_ms)"
	") WITHOUT ROWID;"
	/* for pruning by age without a full scan */
	"CREATE INDEX samples_ts ON samples (ts_ms);"
	EXTRAS_SQL
	ALERTS_SQL
	FAILED_INDEX_SQL
	TRACKING_SQL
	WATCHES_SQL
	ORCHESTRATIONS_VIEW_SQL
	"PRAGMA user_version = " STR(STORE_SCHEMA_VERSION) ";";

/* The columns of struct exec_record, in the order bind_exec() and read_exec() use: the metrics last. */
#define EXEC_COLS							\
	"id, session, agent, task, command, labels, pid, status, exit_code, signal, "	\
	"failure_category, failure_reason, failure_evidence, started_at_ms, ended_at_ms, "	\
	"duration_ms, retry_count, completed_steps, total_steps, current_step"	\
	EXEC_METRICS(RECORD_COL)

static const char upsert_sql[] =
	"INSERT INTO executions (" EXEC_COLS ") VALUES ("
	"?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?" EXEC_METRICS(RECORD_PARAM) ") "
	"ON CONFLICT (id) DO UPDATE SET "
	"session = excluded.session, agent = excluded.agent, task = excluded.task, "
	"command = excluded.command, labels = excluded.labels, pid = excluded.pid, "
	"status = excluded.status, exit_code = excluded.exit_code, signal = excluded.signal, "
	"failure_category = excluded.failure_category, failure_reason = excluded.failure_reason, "
	"failure_evidence = excluded.failure_evidence, started_at_ms = excluded.started_at_ms, "
	"ended_at_ms = excluded.ended_at_ms, duration_ms = excluded.duration_ms, "
	"retry_count = excluded.retry_count, completed_steps = excluded.completed_steps, "
	"total_steps = excluded.total_steps, current_step = excluded.current_step"
	EXEC_METRICS(RECORD_UPDATE) " "
	"RETURNING id";

#define SAMPLE_COLS "exec_id, ts_ms" EXEC_METRICS(SAMPLE_COL)

#define ORCH_COLS "session, status, executions, running, completed, failed, started_at_ms, ended_at_ms"

static void set_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void set_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *store__errmsg(const struct store *s)
{
	(void)s;
	return errbuf[0] ? errbuf : "no error";
}

static int rc_errno(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
	case SQLITE_NOTADB:
		return -EINVAL;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		return sys > 0 ? -sys : -EIO;
	default:
		return -EIO;
	}
}

/* Records what failed with SQLite's explanation; returns the negative errno. */
static int db_fail(struct store *s, int rc, const char *what)
{
	set_msg("%s: %s", what, sqlite3_errmsg(s->db));
	return rc_errno(s->db, rc);
}

static void lock(struct store *s)
{
	pthread_mutex_lock(&s->lock);
}

static void unlock(struct store *s)
{
	pthread_mutex_unlock(&s->lock);
}

/* Statements without values (DDL, PRAGMA, transaction control). */
static int exec_sql(struct store *s, const char *sql, const char *what)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(s, rc, what);
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : db_fail(s, rc, what);
}

/* Locks the store and prepares sql for a call of one statement; end_query() ends it, whatever happened. */
static int begin_query(struct store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
	lock(s);
	return prepare(s, sql, st, what);
}

/* Finalizes st and unlocks the store; returns err. */
static int end_query(struct store *s, sqlite3_stmt *st, int err)
{
	sqlite3_finalize(st);
	unlock(s);
	return err;
}

/* Writers take the write lock at BEGIN, so a busy database is waited for (busy_timeout) instead of failing mid-way. */
static int begin(struct store *s)
{
	return exec_sql(s, "BEGIN IMMEDIATE", "cannot start a transaction");
}

static int commit(struct store *s)
{
	return exec_sql(s, "COMMIT", "cannot commit");
}

static void rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Binds parameters in order, keeping the first error. */
struct binder {
	sqlite3_stmt *st;
	int i;
	int rc;
};

static void b_i64(struct binder *b, sqlite3_int64 v)
{
	int rc = sqlite3_bind_int64(b->st, ++b->i, v);

	if (b->rc == SQLITE_OK)
		b->rc = rc;
}

/* __u64 is stored as its two's complement int64, so every value round-trips. */
static void b_u64(struct binder *b, __u64 v)
{
	b_i64(b, (sqlite3_int64)v);
}

static void b_null(struct binder *b)
{
	int rc = sqlite3_bind_null(b->st, ++b->i);

	if (b->rc == SQLITE_OK)
		b->rc = rc;
}

/* A value that may be absent: NULL when it is. */
static void b_opt(struct binder *b, bool present, sqlite3_int64 v)
{
	if (present)
		b_i64(b, v);
	else
		b_null(b);
}

/* Record strings are fixed arrays: never read past them, even unterminated. */
static void b_text(struct binder *b, const char *str, size_t size)
{
	int rc = sqlite3_bind_text(b->st, ++b->i, str, (int)strnlen(str, size), SQLITE_STATIC);

	if (b->rc == SQLITE_OK)
		b->rc = rc;
}

#define B_TEXT(b, field) b_text((b), (field), sizeof(field))

/* Reads columns in order. */
struct reader {
	sqlite3_stmt *st;
	int i;
};

static bool r_null(struct reader *r)
{
	return sqlite3_column_type(r->st, r->i) == SQLITE_NULL;
}

static __u64 r_u64(struct reader *r)
{
	return (__u64)sqlite3_column_int64(r->st, r->i++);
}

static int r_int(struct reader *r)
{
	return sqlite3_column_int(r->st, r->i++);
}

static void r_text(struct reader *r, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(r->st, r->i++);

	snprintf(buf, size, "%s", t ? (const char *)t : "");
}

#define R_TEXT(r, field) r_text((r), (field), sizeof(field))

static int bind_exec(sqlite3_stmt *st, const struct exec_record *e)
{
	struct binder b = { .st = st };

	b_opt(&b, e->id, (sqlite3_int64)e->id);
	B_TEXT(&b, e->session);
	B_TEXT(&b, e->agent);
	B_TEXT(&b, e->task);
	B_TEXT(&b, e->command);
	B_TEXT(&b, e->labels);
	b_i64(&b, e->pid);
	B_TEXT(&b, e->status);
	b_opt(&b, e->has_exit_code, e->exit_code);
	b_opt(&b, e->has_signal, e->signal);
	B_TEXT(&b, e->failure_category);
	B_TEXT(&b, e->failure_reason);
	B_TEXT(&b, e->failure_evidence);
	b_u64(&b, e->started_at_ms);
	b_opt(&b, e->ended_at_ms, (sqlite3_int64)e->ended_at_ms);
	b_u64(&b, e->duration_ms);
	b_i64(&b, e->retry_count);
	b_i64(&b, e->completed_steps);
	b_i64(&b, e->total_steps);
	B_TEXT(&b, e->current_step);
	for (int m = 0; m < NR_EXEC_METRICS; m++)
		if (exec_metrics[m].in_record)
			b_u64(&b, exec_metric__of_record(e, m));
	return b.rc;
}

static void read_exec(sqlite3_stmt *st, struct exec_record *e)
{
	struct reader r = { .st = st };

	memset(e, 0, sizeof(*e));
	e->id = r_u64(&r);
	R_TEXT(&r, e->session);
	R_TEXT(&r, e->agent);
	R_TEXT(&r, e->task);
	R_TEXT(&r, e->command);
	R_TEXT(&r, e->labels);
	e->pid = r_int(&r);
	R_TEXT(&r, e->status);
	e->has_exit_code = !r_null(&r);
	e->exit_code = r_int(&r);
	e->has_signal = !r_null(&r);
	e->signal = r_int(&r);
	R_TEXT(&r, e->failure_category);
	R_TEXT(&r, e->failure_reason);
	R_TEXT(&r, e->failure_evidence);
	e->started_at_ms = r_u64(&r);
	e->ended_at_ms = r_u64(&r);	/* NULL reads as 0 */
	e->duration_ms = r_u64(&r);
	e->retry_count = r_int(&r);
	e->completed_steps = r_int(&r);
	e->total_steps = r_int(&r);
	R_TEXT(&r, e->current_step);
	for (int m = 0; m < NR_EXEC_METRICS; m++)
		if (exec_metrics[m].in_record)
			exec_metric__set_record(e, m, r_u64(&r));
}

static int read_orch(struct reader *r, void *row)
{
	struct orch_record *o = row;

	R_TEXT(r, o->session);
	R_TEXT(r, o->status);
	o->executions = r_int(r);
	o->running = r_int(r);
	o->completed = r_int(r);
	o->failed = r_int(r);
	o->started_at_ms = r_u64(r);
	o->ended_at_ms = r_u64(r);	/* NULL reads as 0 */
	return 0;
}

/* Makes room for one more element of a growing array. */
static int grow(void **v, int *cap, int n, size_t size)
{
	void *nv;
	int ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	nv = realloc(*v, (size_t)ncap * size);
	if (!nv) {
		set_msg("out of memory");
		return -ENOMEM;
	}
	*v = nv;
	*cap = ncap;
	return 0;
}

/* What a list query reads into each element of its array. */
struct list_def {
	const char *what;			/* for the error message */
	size_t size;				/* of one element */
	/* Reads the current row into row (zeroed); 0 or -errno. */
	int (*read_row)(struct reader *r, void *row);
	/* Frees rows[0..n) and the array, for elements that own memory; NULL: free(). */
	void (*free_rows)(void *rows, int n);
};

/*
 * The one list reader: steps st to its end, each row into a new element of
 * a growing array. On failure it frees what it read and returns -errno with
 * *out NULL and *n 0.
 */
static int read_list(struct store *s, sqlite3_stmt *st, const struct list_def *def, void **out, int *n)
{
	void *v = NULL;
	int err = 0, rc, cnt = 0, cap = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reader r = { .st = st };
		void *row;

		err = grow(&v, &cap, cnt, def->size);
		if (err)
			goto cleanup;
		row = (char *)v + (size_t)cnt++ * def->size;
		memset(row, 0, def->size);
		/* counted even when it fails, so that cleanup frees what it did get */
		err = def->read_row(&r, row);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = db_fail(s, rc, def->what);
cleanup:
	if (err) {
		if (def->free_rows)
			def->free_rows(v, cnt);
		else
			free(v);
		v = NULL;
		cnt = 0;
	}
	*out = v;
	*n = cnt;
	return err;
}

/* ---- opening ---- */

/* mkdir -p of path's directory, each new level 0700 (history holds command lines). */
static int make_parents(const char *path)
{
	char dir[PATH_MAX], *slash;
	struct stat st;
	int err = 0;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		set_msg("database path is too long: %s", path);
		return -ENAMETOOLONG;
	}
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; !err; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		/* Only missing levels: mkdir of an existing one may fail with EROFS or EACCES. */
		if (stat(dir, &st)) {
			if (errno != ENOENT || (mkdir(dir, 0700) && errno != EEXIST))
				err = -errno;
		} else if (!S_ISDIR(st.st_mode)) {
			err = -ENOTDIR;
		}
		if (err)
			set_msg("cannot create directory %s: %s", dir, strerror(-err));
		*p = c;
		if (!c)
			break;
	}
	return err;
}

static int pragma_int(struct store *s, const char *sql, int *v)
{
	sqlite3_stmt *st = NULL;
	char what[PATH_MAX + 32];
	int err, rc;

	snprintf(what, sizeof(what), "cannot read %s", s->path);
	err = prepare(s, sql, &st, what);
	if (err)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int(st, 0);
		err = 0;
	} else {
		err = db_fail(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, what);
	}
	sqlite3_finalize(st);
	return err;
}

static int check_version(struct store *s, int version)
{
	if (version > STORE_SCHEMA_VERSION) {
		set_msg("%s has schema version %d, newer than this workerwatch knows (%d)",
			s->path, version, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	return 0;
}

/* Sets the connection up for the writer: WAL, NORMAL sync (commits survive a process crash), cascading deletes. */
static int setup_writer(struct store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	char what[PATH_MAX + 32];
	int err, rc;

	snprintf(what, sizeof(what), "cannot set up %s", s->path);
	err = prepare(s, "PRAGMA journal_mode = WAL", &st, what);
	if (err)
		return err;
	rc = sqlite3_step(st);
	mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (rc != SQLITE_ROW)
		err = db_fail(s, rc, what);
	else if (!mode || strcmp((const char *)mode, "wal")) {
		set_msg("cannot use %s: its file system does not support WAL mode", s->path);
		err = -ENOTSUP;
	}
	sqlite3_finalize(st);
	if (err)
		return err;
	/* Keep -wal and -shm after the last close: a reader that may not create them in the
	 * directory can then still open the database read-only while no daemon runs. */
	sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){ 1 });
	err = exec_sql(s, "PRAGMA synchronous = NORMAL", what);
	if (!err)
		err = exec_sql(s, "PRAGMA foreign_keys = ON", what);
	/* Truncate the WAL after checkpoints so a big cleanup does not leave a big file. */
	if (!err)
		err = exec_sql(s, "PRAGMA journal_size_limit = 67108864", what);
	return err;
}

/*
 * Adds the columns of metrics the table (history/exec_metrics.h) gained
 * since the database was made, 0 for the rows already there; with
 * missing, only counts them there.
 */
static int add_metric_columns(struct store *s, int *missing)
{
	static const char *const what = "cannot add a metric's column";
	sqlite3_stmt *st = NULL;
	char sql[256];
	int err, rc;

	err = prepare(s, "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2", &st, what);
	for (int m = 0; m < NR_EXEC_METRICS && !err; m++) {
		for (int in_samples = 0; in_samples < 2 && !err; in_samples++) {
			const char *table = in_samples ? "samples" : "executions";

			if (!(in_samples ? exec_metrics[m].in_sample : exec_metrics[m].in_record))
				continue;
			sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, exec_metrics[m].name, -1, SQLITE_STATIC);
			rc = sqlite3_step(st);
			if (rc != SQLITE_ROW) {
				err = db_fail(s, rc, what);
				break;
			}
			if (!sqlite3_column_int(st, 0) && missing) {
				(*missing)++;
			} else if (!sqlite3_column_int(st, 0)) {
				snprintf(sql, sizeof(sql), "ALTER TABLE %s ADD COLUMN %s INTEGER NOT NULL DEFAULT 0",
					 table, exec_metrics[m].name);
				err = exec_sql(s, sql, what);
			}
			sqlite3_reset(st);
		}
	}
	sqlite3_finalize(st);
	return err;
}

/* After a migration edited sqlite_schema itself: every connection reads the schema again. */
static int bump_schema_version(struct store *s)
{
	char sql[64];
	int v = 0, err = pragma_int(s, "PRAGMA schema_version", &v);

	snprintf(sql, sizeof(sql), "PRAGMA schema_version = %d", v + 1);
	return err ?: exec_sql(s, sql, "cannot migrate the schema");
}

/* Creates the schema in one transaction, so a crash leaves either none or all of it. */
static int init_schema(struct store *s)
{
	char what[PATH_MAX + 64];
	int version = 0, tables = 0, err;

	err = begin(s);
	if (err)
		return err;
	err = pragma_int(s, "PRAGMA user_version", &version);
	if (err)
		goto cleanup;
	err = check_version(s, version);
	if (!err && version && version < STORE_SCHEMA_VERSION) {
		/* step by step in this one transaction: a crash leaves the old version intact */
		for (; !err && version < STORE_SCHEMA_VERSION; version++) {
			snprintf(what, sizeof(what), "cannot migrate %s to schema version %d",
				 s->path, version + 1);
			err = exec_sql(s, migrations[version], what);
		}
		if (!err)
			err = bump_schema_version(s);
	}
	if (!err && version)
		err = add_metric_columns(s, NULL);
	if (err || version)
		goto cleanup;
	err = pragma_int(s, "SELECT COUNT(*) FROM sqlite_schema", &tables);
	if (err)
		goto cleanup;
	if (tables) {
		set_msg("%s is a SQLite database, but not workerwatch's", s->path);
		err = -EINVAL;
		goto cleanup;
	}
	snprintf(what, sizeof(what), "cannot create the schema in %s", s->path);
	err = exec_sql(s, schema_sql, what);
	if (err)
		goto cleanup;
	err = commit(s);
cleanup:
	if (err)
		rollback(s);
	else if (!sqlite3_get_autocommit(s->db))
		err = commit(s);
	return err;
}

/* A database to read: 0, 1 when an older workerwatch wrote it (its schema or metric columns lag), or -errno. */
static int check_schema(struct store *s)
{
	int version = 0, missing = 0, err;

	err = pragma_int(s, "PRAGMA user_version", &version);
	if (err)
		return err;
	if (!version) {
		set_msg("%s is not a workerwatch database", s->path);
		return -EINVAL;
	}
	err = check_version(s, version);
	if (!err && version == STORE_SCHEMA_VERSION)
		err = add_metric_columns(s, &missing);
	return err ?: version < STORE_SCHEMA_VERSION || missing;
}

static struct store *store_open(const char *path, bool create, bool create_dirs, bool readonly)
{
	pthread_mutexattr_t attr;
	struct store *s = NULL;
	struct stat st;
	int err = 0, rc, flags, fd;

	errbuf[0] = '\0';
	if (!path || !*path) {
		set_msg("no database path given");
		err = -EINVAL;
		goto cleanup;
	}
	if (create_dirs) {
		err = make_parents(path);
		if (err)
			goto cleanup;
	}
	if (create) {
		/* Create it 0600 (SQLite would use 0644); O_EXCL, since closing an fd of a file
		 * another connection of this process has open would drop its POSIX locks. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			close(fd);
		} else if (errno != EEXIST) {
			err = -errno;
			set_msg("cannot create %s: %s", path, strerror(-err));
			goto cleanup;
		}
	} else if (stat(path, &st)) {
		err = -errno;
		if (err == -ENOENT)
			set_msg("no database at %s", path);
		else
			set_msg("cannot open %s: %s", path, strerror(-err));
		goto cleanup;
	}

	s = calloc(1, sizeof(*s));
	if (!s) {
		set_msg("out of memory");
		err = -ENOMEM;
		goto cleanup;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->lock, &attr);
	pthread_mutexattr_destroy(&attr);

	/* Our own lock serializes the connection, so SQLite's is not needed. */
	flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		int sys = s->db ? sqlite3_system_errno(s->db) : 0;

		err = rc_errno(s->db, rc);
		set_msg("cannot open %s: %s", path, sys > 0 ? strerror(sys) :
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto cleanup;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	if (readonly) {
		err = check_schema(s);
		if (err == 1) {
			/* an older workerwatch wrote it: bring it up to date once, then read it */
			store__close(s);
			s = store_open(path, false, false, false);
			if (!s) {
				char why[400];
				int saved = errno;

				snprintf(why, sizeof(why), "%s", store__errmsg(NULL));
				set_msg("%s was written by an older workerwatch and cannot be brought up to date: %s",
					path, why);
				errno = saved;
				return NULL;
			}
			store__close(s);
			return store_open(path, false, false, true);
		}
	} else {
		err = setup_writer(s);
		if (!err)
			err = init_schema(s);
	}
cleanup:
	if (err) {
		store__close(s);
		errno = -err;
		return NULL;
	}
	return s;
}

struct store *store__open(const char *path, bool create_dirs)
{
	return store_open(path, true, create_dirs, false);
}

struct store *store__open_existing(const char *path, bool readonly)
{
	return store_open(path, false, false, readonly);
}

void store__close(struct store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- writing ---- */

static int replace_syscalls(struct store *s, __u64 id, const struct syscall_row *rows, int nrows)
{
	static const char *const what = "cannot store syscall rows";
	sqlite3_stmt *st = NULL;
	int err, rc;

	err = prepare(s, "DELETE FROM syscalls WHERE exec_id = ?1", &st, what);
	if (err)
		return err;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
	sqlite3_finalize(st);
	if (err || !nrows)
		return err;

	err = prepare(s, "INSERT INTO syscalls (exec_id, name, count, errors, total_ns, "
			 "p50_ns, p90_ns, p99_ns, max_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, what);
	if (err)
		return err;
	for (int i = 0; i < nrows && !err; i++) {
		const struct syscall_row *row = &rows[i];
		struct binder b = { .st = st };

		b_u64(&b, id);
		B_TEXT(&b, row->name);
		b_u64(&b, row->count);
		b_u64(&b, row->errors);
		b_u64(&b, row->total_ns);
		b_u64(&b, row->p50_ns);
		b_u64(&b, row->p90_ns);
		b_u64(&b, row->p99_ns);
		b_u64(&b, row->max_ns);
		rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
		if (rc != SQLITE_DONE)
			err = db_fail(s, rc, what);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return err;
}

/* The upsert itself, inside the caller's transaction; *id is the execution's id. */
static int upsert_in_transaction(struct store *s, const struct exec_record *r, const struct syscall_row *rows,
				 int nrows, __u64 *id)
{
	static const char *const what = "cannot store execution";
	sqlite3_stmt *st = NULL;
	int err = prepare(s, upsert_sql, &st, what), rc;

	if (err)
		return err;
	rc = bind_exec(st, r);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		err = db_fail(s, rc, what);
		goto cleanup;
	}
	*id = (__u64)sqlite3_column_int64(st, 0);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		err = db_fail(s, rc, what);
		goto cleanup;
	}
	/* rows == NULL keeps the stored rows (a progress update of a running execution). */
	if (rows)
		err = replace_syscalls(s, *id, rows, nrows);
cleanup:
	sqlite3_finalize(st);
	return err;
}

static int put_tracking(struct store *s, __u64 exec_id, __u64 kernel_id)
{
	static const char *const what = "cannot store an execution's kernel id";
	sqlite3_stmt *st = NULL;
	int err = prepare(s, "INSERT OR REPLACE INTO tracking (exec_id, kernel_id) VALUES (?1, ?2)", &st, what), rc;

	if (err)
		return err;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)exec_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)kernel_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
	sqlite3_finalize(st);
	return err;
}

int store__upsert_tracked(struct store *s, struct exec_record *r, const struct syscall_row *rows, int nrows,
			  __u64 kernel_id)
{
	__u64 id = 0;
	int err;

	if (!s || !r || nrows < 0 || (nrows && !rows)) {
		set_msg("cannot store execution: invalid arguments");
		return -EINVAL;
	}
	lock(s);
	err = begin(s);
	if (!err)
		err = upsert_in_transaction(s, r, rows, nrows, &id);
	if (!err && kernel_id)
		err = put_tracking(s, id, kernel_id);
	if (!err)
		err = commit(s);
	if (err)
		rollback(s);
	else
		r->id = id;
	unlock(s);
	return err;
}

int store__upsert_execution(struct store *s, struct exec_record *r,
			    const struct syscall_row *rows, int nrows)
{
	return store__upsert_tracked(s, r, rows, nrows, 0);
}

int store__add_samples(struct store *s, const struct sample_row *rows, int n)
{
	static const char *const what = "cannot store samples";
	sqlite3_stmt *st = NULL;
	int err, rc;

	if (!s || n < 0 || (n && !rows)) {
		set_msg("%s: invalid arguments", what);
		return -EINVAL;
	}
	if (!n)
		return 0;
	lock(s);
	err = begin(s);
	if (err)
		goto cleanup;
	err = prepare(s, "INSERT OR REPLACE INTO samples (" SAMPLE_COLS ") VALUES (?, ?"
			 EXEC_METRICS(SAMPLE_PARAM) ")", &st, what);
	for (int i = 0; i < n && !err; i++) {
		struct binder b = { .st = st };

		b_u64(&b, rows[i].exec_id);
		b_u64(&b, rows[i].ts_ms);
		for (int m = 0; m < NR_EXEC_METRICS; m++)
			if (exec_metrics[m].in_sample)
				b_u64(&b, exec_metric__of_sample(&rows[i], m));
		rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
		if (rc != SQLITE_DONE)
			err = db_fail(s, rc, what);
		sqlite3_reset(st);
	}
	if (!err)
		err = commit(s);
cleanup:
	sqlite3_finalize(st);
	if (err)
		rollback(s);
	unlock(s);
	return err;
}

/* Runs a one-statement change with up to one bound integer; returns the rows changed. */
static int change(struct store *s, const char *sql, __u64 arg, const char *what)
{
	sqlite3_stmt *st = NULL;
	int err, rc;

	err = begin_query(s, sql, &st, what);
	if (err)
		goto cleanup;
	if (sqlite3_bind_parameter_count(st))
		sqlite3_bind_int64(st, 1, (sqlite3_int64)arg);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
	else
		err = sqlite3_changes(s->db);
cleanup:
	return end_query(s, st, err);
}

int store__mark_running_as_lost(struct store *s, __u64 now_ms)
{
	/* The last sample is the last time the execution was seen alive. */
	static const char sql[] =
		"UPDATE executions SET status = 'failed',"
		" failure_category = '" STORE_LOST_CATEGORY "',"
		" failure_reason = '" STORE_LOST_REASON "',"
		" ended_at_ms = MAX(started_at_ms, COALESCE("
		"  (SELECT MAX(ts_ms) FROM samples WHERE exec_id = executions.id), ?1)),"
		" duration_ms = MAX(started_at_ms, COALESCE("
		"  (SELECT MAX(ts_ms) FROM samples WHERE exec_id = executions.id), ?1)) - started_at_ms"
		" WHERE status = 'running' AND id NOT IN (SELECT exec_id FROM tracking)";

	return change(s, sql, now_ms, "cannot mark lost executions");
}

int store__prune_samples(struct store *s, __u64 older_than_ms)
{
	return change(s, "DELETE FROM samples WHERE ts_ms < ?1", older_than_ms, "cannot prune samples");
}

int store__cleanup(struct store *s, __u64 older_than_ms)
{
	/* Whole sessions only, so an orchestration never loses part of its history; samples and
	 * syscall rows go by ON DELETE CASCADE. changes() counts only the executions. */
	static const char sql[] =
		"DELETE FROM executions WHERE session IN ("
		" SELECT session FROM executions GROUP BY session"
		" HAVING MAX(started_at_ms) < ?1 AND SUM(status = 'running') = 0)";

	return change(s, sql, older_than_ms, "cannot delete old orchestrations");
}

/* ---- reading ---- */

int store__get_execution(struct store *s, __u64 id, struct exec_record *out)
{
	static const char *const what = "cannot read execution";
	sqlite3_stmt *st = NULL;
	int err, rc;

	err = begin_query(s, "SELECT " EXEC_COLS " FROM executions WHERE id = ?1", &st, what);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_exec(st, out);
	} else if (rc == SQLITE_DONE) {
		set_msg("no execution %llu", (unsigned long long)id);
		err = -ENOENT;
	} else {
		err = db_fail(s, rc, what);
	}
cleanup:
	return end_query(s, st, err);
}

/* Appends a constant SQL fragment; values are never part of it. */
static void sql_add(char *sql, size_t size, const char *frag)
{
	size_t len = strlen(sql);

	snprintf(sql + len, size - len, "%s", frag);
}

static void bind_named_text(sqlite3_stmt *st, const char *name, const char *v, size_t size)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i)
		sqlite3_bind_text(st, i, v, (int)strnlen(v, size), SQLITE_STATIC);
}

static int limit_of(int limit)
{
	return limit == 0 ? DEFAULT_LIMIT : limit < 0 ? -1 : limit;
}

int store__foreach_execution(struct store *s, const struct exec_filter *f, store_exec_cb cb, void *ctx)
{
	static const char *const what = "cannot list executions";
	static const struct exec_filter all = { .limit = -1 };
	struct exec_record *r = NULL;
	sqlite3_stmt *st = NULL;
	char sql[1024] = "SELECT " EXEC_COLS " FROM executions WHERE 1";
	int err, rc;

	if (!f)
		f = &all;
	if (f->status[0])
		sql_add(sql, sizeof(sql), " AND status = :status");
	if (f->session[0])
		sql_add(sql, sizeof(sql), " AND session = :session");
	if (f->agent[0])
		sql_add(sql, sizeof(sql), " AND agent = :agent");
	if (f->since_ms)
		sql_add(sql, sizeof(sql), " AND started_at_ms >= :since");
	sql_add(sql, sizeof(sql), " ORDER BY started_at_ms DESC, id DESC LIMIT :limit");

	r = malloc(sizeof(*r));
	if (!r) {
		set_msg("out of memory");
		return -ENOMEM;
	}
	lock(s);
	err = prepare(s, sql, &st, what);
	if (err)
		goto cleanup;
	bind_named_text(st, ":status", f->status, sizeof(f->status));
	bind_named_text(st, ":session", f->session, sizeof(f->session));
	bind_named_text(st, ":agent", f->agent, sizeof(f->agent));
	if (f->since_ms)
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":since"), (sqlite3_int64)f->since_ms);
	sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":limit"), limit_of(f->limit));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_exec(st, r);
		err = cb(r, ctx);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
cleanup:
	sqlite3_finalize(st);
	unlock(s);
	free(r);
	return err;
}

struct exec_vec {
	struct exec_record *v;
	int n, cap;
};

static int append_exec(const struct exec_record *r, void *ctx)
{
	struct exec_vec *vec = ctx;
	int err = grow((void **)&vec->v, &vec->cap, vec->n, sizeof(*vec->v));

	if (!err)
		vec->v[vec->n++] = *r;
	return err;
}

int store__list_executions(struct store *s, const struct exec_filter *f,
			   struct exec_record **out, int *n)
{
	struct exec_vec vec = {};
	int err = store__foreach_execution(s, f, append_exec, &vec);

	if (err) {
		free(vec.v);
		vec.v = NULL;
		vec.n = 0;
	}
	*out = vec.v;
	*n = vec.n;
	return err;
}

int store__failures(struct store *s, int limit, struct exec_record **out, int *n)
{
	struct exec_filter f = { .status = "failed", .limit = limit };

	return store__list_executions(s, &f, out, n);
}

static int read_syscall(struct reader *r, void *p)
{
	struct syscall_row *row = p;

	R_TEXT(r, row->name);
	row->count = r_u64(r);
	row->errors = r_u64(r);
	row->total_ns = r_u64(r);
	row->p50_ns = r_u64(r);
	row->p90_ns = r_u64(r);
	row->p99_ns = r_u64(r);
	row->max_ns = r_u64(r);
	return 0;
}

/* A list query with up to one bound integer, ?1. */
static int list_query(struct store *s, const char *sql, __u64 arg, const struct list_def *def, void **out, int *n)
{
	sqlite3_stmt *st = NULL;
	int err;

	lock(s);
	err = prepare(s, sql, &st, def->what);
	if (!err) {
		if (sqlite3_bind_parameter_count(st))
			sqlite3_bind_int64(st, 1, (sqlite3_int64)arg);
		err = read_list(s, st, def, out, n);
	} else {
		*out = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	unlock(s);
	return err;
}

int store__syscalls(struct store *s, __u64 id, struct syscall_row **out, int *n)
{
	static const struct list_def def = { "cannot read syscall rows", sizeof(**out), read_syscall, NULL };

	return list_query(s, "SELECT name, count, errors, total_ns, p50_ns, p90_ns, p99_ns, max_ns"
			  " FROM syscalls WHERE exec_id = ?1 ORDER BY total_ns DESC, name", id, &def, (void **)out, n);
}

static int read_sample(struct reader *r, void *p)
{
	struct sample_row *row = p;

	row->exec_id = r_u64(r);
	row->ts_ms = r_u64(r);
	for (int m = 0; m < NR_EXEC_METRICS; m++)
		if (exec_metrics[m].in_sample)
			exec_metric__set_sample(row, m, r_u64(r));
	return 0;
}

int store__samples(struct store *s, __u64 id, struct sample_row **out, int *n)
{
	static const struct list_def def = { "cannot read samples", sizeof(**out), read_sample, NULL };

	return list_query(s, "SELECT " SAMPLE_COLS " FROM samples WHERE exec_id = ?1 ORDER BY ts_ms", id, &def,
			  (void **)out, n);
}

int store__orchestrations(struct store *s, int limit, struct orch_record **out, int *n)
{
	static const struct list_def def = { "cannot list orchestrations", sizeof(**out), read_orch, NULL };

	return list_query(s, "SELECT " ORCH_COLS " FROM orchestrations ORDER BY last_started_at_ms DESC, session"
			  " LIMIT ?1", (__u64)(__s64)limit_of(limit), &def, (void **)out, n);
}

int store__orchestration(struct store *s, const char *session, struct orch_record *out)
{
	static const char *const what = "cannot read orchestration";
	sqlite3_stmt *st = NULL;
	int err, rc;

	err = begin_query(s, "SELECT " ORCH_COLS " FROM orchestrations WHERE session = ?1", &st, what);
	if (err)
		goto cleanup;
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		read_orch(&(struct reader){ .st = st }, out);
	} else if (rc == SQLITE_DONE) {
		set_msg("no orchestration '%s'", session);
		err = -ENOENT;
	} else {
		err = db_fail(s, rc, what);
	}
cleanup:
	return end_query(s, st, err);
}

/* Nearest rank: the ceil(p/100 * n)-th smallest, 1-based. */
static int nearest_rank(int n, int pct)
{
	int rank = (int)(((long long)n * pct + 99) / 100);

	return rank < 1 ? 1 : rank;
}

int store__performance(struct store *s, __u64 since_ms, struct perf_record **out, int *n)
{
	static const char *const what = "cannot compute performance";
	struct perf_record *v = NULL, *p = NULL;
	sqlite3_stmt *st = NULL;
	int err, rc, cnt = 0, cap = 0, k = 0, total = 0;
	__u64 sum = 0;

	lock(s);
	/* Sorted by agent then duration, with each agent's count, so percentiles are picked
	 * on the way without holding the durations. Only executions with an outcome count:
	 * a detached one has none. */
	err = prepare(s, "SELECT agent, status = 'completed', duration_ms, COUNT(*) OVER (PARTITION BY agent)"
			 " FROM executions WHERE status IN ('completed', 'failed') AND started_at_ms >= ?1"
			 " ORDER BY agent, duration_ms", &st, what);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		__u64 d = (__u64)sqlite3_column_int64(st, 2);

		if (k == total) {
			struct reader r = { .st = st };

			err = grow((void **)&v, &cap, cnt, sizeof(*v));
			if (err)
				goto cleanup;
			p = &v[cnt++];
			memset(p, 0, sizeof(*p));
			R_TEXT(&r, p->agent);
			total = sqlite3_column_int(st, 3);
			k = 0;
			sum = 0;
			p->count = total;
			p->min_ms = d;
		}
		k++;
		sum += d;
		p->succeeded += sqlite3_column_int(st, 1);
		if (k == nearest_rank(total, 50))
			p->p50_ms = d;
		if (k == nearest_rank(total, 95))
			p->p95_ms = d;
		if (k == total) {
			p->max_ms = d;
			p->avg_ms = (sum + total / 2) / total;
			p->success_rate = (double)p->succeeded / total;
		}
	}
	if (rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
cleanup:
	sqlite3_finalize(st);
	unlock(s);
	if (err) {
		free(v);
		v = NULL;
		cnt = 0;
	}
	*out = v;
	*n = cnt;
	return err;
}

int store__count_failed(struct store *s, const char *session, const char *agent, const char *task)
{
	static const char *const what = "cannot count failed executions";
	sqlite3_stmt *st = NULL;
	int err, rc;

	err = begin_query(s, "SELECT COUNT(*) FROM executions WHERE session = ?1 AND agent = ?2"
			 " AND task = ?3 AND status = 'failed'", &st, what);
	if (err)
		goto cleanup;
	sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, agent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, task, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = sqlite3_column_int(st, 0);
	else
		err = db_fail(s, rc, what);
cleanup:
	return end_query(s, st, err);
}

int store__integrity_check(struct store *s)
{
	static const char *const what = "cannot check integrity";
	sqlite3_stmt *st = NULL;
	const unsigned char *res;
	int err, rc;

	err = begin_query(s, "PRAGMA integrity_check", &st, what);
	if (err)
		goto cleanup;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		err = db_fail(s, rc, what);
		goto cleanup;
	}
	res = sqlite3_column_text(st, 0);
	if (!res || strcmp((const char *)res, "ok")) {
		set_msg("%s is damaged: %s", s->path, res ? (const char *)res : "unknown problem");
		err = -EIO;
	}
cleanup:
	return end_query(s, st, err);
}

int store__put_extra(struct store *s, __u64 id, const char *key, const char *json)
{
	static const char *const what = "cannot store an execution's extra";
	sqlite3_stmt *st = NULL;
	int err, rc;

	lock(s);
	err = prepare(s, "INSERT OR REPLACE INTO execution_extras (exec_id, key, json) VALUES (?1, ?2, ?3)",
		      &st, what);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
cleanup:
	sqlite3_finalize(st);
	unlock(s);
	return err;
}

int store__get_extra(struct store *s, __u64 id, const char *key, char **json)
{
	static const char *const what = "cannot read an execution's extra";
	sqlite3_stmt *st = NULL;
	int err, rc;

	*json = NULL;
	err = begin_query(s, "SELECT json FROM execution_extras WHERE exec_id = ?1 AND key = ?2", &st, what);
	if (err)
		goto cleanup;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*json = strdup((const char *)sqlite3_column_text(st, 0));
		err = *json ? 0 : -ENOMEM;
	} else if (rc == SQLITE_DONE) {
		err = -ENOENT;
	} else {
		err = db_fail(s, rc, what);
	}
cleanup:
	return end_query(s, st, err);
}

/* ---- alerting: documents and the outbox ---- */

#define OUTBOX_COLS								\
	"id, receiver, group_key, kind, payload, delivery_id, created_ms, attempts, "	\
	"next_attempt_ms, state, last_status, last_error, done_ms"

/* Binds a string that may be NULL: the schema's NOT NULL constraints then reject it inside the transaction. */
static void b_str(struct binder *b, const char *str)
{
	int rc = sqlite3_bind_text(b->st, ++b->i, str, -1, SQLITE_STATIC);

	if (b->rc == SQLITE_OK)
		b->rc = rc;
}

static int step_done(struct store *s, sqlite3_stmt *st, int bind_rc, const char *what)
{
	int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_fail(s, rc, what);
}

/* Documents, outbox rows and, for an execution that ended (forget_id), the end of its tracking row: one transaction. */
static int outbox_commit(struct store *s, const struct store_doc *docs, int ndocs, const struct outbox_new *rows,
			 int nrows, __u64 forget_id, __u64 now_ms, const char *what)
{
	sqlite3_stmt *put = NULL, *del = NULL, *ins = NULL, *forget = NULL;
	int err;

	if (!s || ndocs < 0 || nrows < 0 || (ndocs && !docs) || (nrows && !rows)) {
		set_msg("%s: invalid arguments", what);
		return -EINVAL;
	}
	if (!ndocs && !nrows && !forget_id)
		return 0;
	lock(s);
	err = begin(s);
	if (err)
		goto cleanup;
	if (forget_id) {
		struct binder b = { .st = NULL };

		err = prepare(s, "DELETE FROM tracking WHERE exec_id = ?", &forget, what);
		b.st = forget;
		if (!err) {
			b_u64(&b, forget_id);
			err = step_done(s, forget, b.rc, what);
		}
		if (err)
			goto cleanup;
	}
	err = prepare(s, "INSERT INTO alert_docs (kind, key, json, updated_ms) VALUES (?, ?, ?, ?)"
			 " ON CONFLICT (kind, key) DO UPDATE SET json = excluded.json,"
			 " updated_ms = excluded.updated_ms", &put, what);
	if (!err)
		err = prepare(s, "DELETE FROM alert_docs WHERE kind = ? AND key = ?", &del, what);
	if (!err)
		err = prepare(s, "INSERT INTO outbox (receiver, group_key, kind, payload, delivery_id,"
				 " created_ms, next_attempt_ms, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
			      &ins, what);
	for (int i = 0; i < ndocs && !err; i++) {
		struct binder b = { .st = docs[i].json ? put : del };

		b_str(&b, docs[i].kind);
		b_str(&b, docs[i].key);
		if (docs[i].json) {
			b_str(&b, docs[i].json);
			b_u64(&b, now_ms);
		}
		err = step_done(s, b.st, b.rc, what);
	}
	for (int i = 0; i < nrows && !err; i++) {
		struct binder b = { .st = ins };

		b_str(&b, rows[i].receiver);
		b_str(&b, rows[i].group_key);
		b_str(&b, rows[i].kind);
		b_str(&b, rows[i].payload);
		b_str(&b, rows[i].delivery_id);
		b_u64(&b, now_ms);
		b_u64(&b, now_ms);
		err = step_done(s, ins, b.rc, what);
	}
	if (!err)
		err = commit(s);
cleanup:
	sqlite3_finalize(put);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	sqlite3_finalize(forget);
	if (err)
		rollback(s);
	unlock(s);
	return err;
}

int store__alerts_commit(struct store *s, const struct store_doc *docs, int ndocs,
			 const struct outbox_new *rows, int nrows, __u64 now_ms)
{
	return outbox_commit(s, docs, ndocs, rows, nrows, 0, now_ms, "cannot store alert state");
}

int store__queue_execution_end(struct store *s, __u64 exec_id, const struct outbox_new *rows, int nrows,
			       __u64 now_ms)
{
	if (!exec_id) {
		set_msg("cannot queue an execution's end: invalid arguments");
		return -EINVAL;
	}
	return outbox_commit(s, NULL, 0, rows, nrows, exec_id, now_ms, "cannot queue an execution's end");
}

int store__alert_docs(struct store *s, const char *kind, store_doc_cb cb, void *ctx)
{
	static const char *const what = "cannot read alert state";
	sqlite3_stmt *st = NULL;
	int err, rc;

	err = begin_query(s, "SELECT key, json FROM alert_docs WHERE kind = ?1 ORDER BY key", &st, what);
	if (err)
		goto cleanup;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		err = cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), ctx);
		if (err)
			goto cleanup;
	}
	if (rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
cleanup:
	return end_query(s, st, err);
}

void outbox_rows__free(struct outbox_row *rows, int n)
{
	if (!rows)
		return;
	for (int i = 0; i < n; i++)
		free(rows[i].payload);
	free(rows);
}

static int read_outbox(struct reader *r, void *row)
{
	struct outbox_row *o = row;
	const unsigned char *payload;

	o->id = r_u64(r);
	R_TEXT(r, o->receiver);
	R_TEXT(r, o->group_key);
	R_TEXT(r, o->kind);
	payload = sqlite3_column_text(r->st, r->i++);
	o->payload = strdup(payload ? (const char *)payload : "");
	R_TEXT(r, o->delivery_id);
	o->created_ms = r_u64(r);
	o->attempts = r_int(r);
	o->next_attempt_ms = r_u64(r);
	R_TEXT(r, o->state);
	o->last_status = r_int(r);
	R_TEXT(r, o->last_error);
	o->done_ms = r_u64(r);
	if (!o->payload) {
		set_msg("out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void free_outbox(void *rows, int n)
{
	outbox_rows__free(rows, n);
}

int store__outbox_heads(struct store *s, struct outbox_row **out, int *n)
{
	static const struct list_def def = { "cannot read the outbox", sizeof(**out), read_outbox, free_outbox };

	return list_query(s, "SELECT " OUTBOX_COLS " FROM outbox WHERE id IN"
			  " (SELECT MIN(id) FROM outbox WHERE state = 'pending' GROUP BY receiver)"
			  " ORDER BY id", 0, &def, (void **)out, n);
}

int store__outbox_update(struct store *s, __u64 id, const char *state, int attempts, __u64 next_attempt_ms,
			 int last_status, const char *last_error, __u64 now_ms)
{
	static const char *const what = "cannot record a notification attempt";
	sqlite3_stmt *st = NULL;
	struct binder b;
	int err, rc;

	if (!state || (strcmp(state, "pending") && strcmp(state, "sent") && strcmp(state, "dead"))) {
		set_msg("%s: invalid state '%s'", what, state ? state : "(null)");
		return -EINVAL;
	}
	err = begin_query(s, "UPDATE outbox SET state = ?, attempts = ?, next_attempt_ms = ?, last_status = ?,"
			 " last_error = ?, done_ms = ? WHERE id = ?", &st, what);
	if (err)
		goto cleanup;
	b = (struct binder){ .st = st };
	b_str(&b, state);
	b_i64(&b, attempts);
	b_u64(&b, next_attempt_ms);
	b_i64(&b, last_status);
	b_str(&b, last_error ? last_error : "");
	/* done_ms says when a row left the queue; 0 while it is still in it */
	b_u64(&b, strcmp(state, "pending") ? now_ms : 0);
	b_u64(&b, id);
	rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
	if (rc != SQLITE_DONE) {
		err = db_fail(s, rc, what);
	} else if (!sqlite3_changes(s->db)) {
		set_msg("no notification %llu", (unsigned long long)id);
		err = -ENOENT;
	}
cleanup:
	return end_query(s, st, err);
}

int store__outbox_list(struct store *s, const char *state, const char *receiver, int limit,
		       struct outbox_row **out, int *n)
{
	static const char *const what = "cannot list notifications";
	static const struct list_def def = { what, sizeof(**out), read_outbox, free_outbox };
	sqlite3_stmt *st = NULL;
	char sql[512] = "SELECT " OUTBOX_COLS " FROM outbox WHERE 1";
	int err;

	*out = NULL;
	*n = 0;
	if (state)
		sql_add(sql, sizeof(sql), " AND state = :state");
	if (receiver)
		sql_add(sql, sizeof(sql), " AND receiver = :receiver");
	sql_add(sql, sizeof(sql), " ORDER BY id DESC LIMIT :limit");
	err = begin_query(s, sql, &st, what);
	if (err)
		goto cleanup;
	if (state)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":state"), state, -1, SQLITE_STATIC);
	if (receiver)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":receiver"), receiver, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":limit"), limit_of(limit));
	err = read_list(s, st, &def, (void **)out, n);
cleanup:
	return end_query(s, st, err);
}

static int read_outbox_count(struct reader *r, void *row)
{
	struct outbox_count *c = row;

	R_TEXT(r, c->receiver);
	c->pending = r_u64(r);
	c->sent = r_u64(r);
	c->dead = r_u64(r);
	c->oldest_pending_ms = r_u64(r);	/* NULL reads as 0 */
	return 0;
}

int store__outbox_counts(struct store *s, struct outbox_count **out, int *n)
{
	static const struct list_def def = { "cannot count notifications", sizeof(**out), read_outbox_count, NULL };

	/* Counted on the covering index, so that payloads are not read; the oldest pending row is the head. */
	return list_query(s, "SELECT c.receiver, c.pending, c.sent, c.dead, o.created_ms FROM"
			  " (SELECT receiver, SUM(state = 'pending') AS pending, SUM(state = 'sent') AS sent,"
			  "  SUM(state = 'dead') AS dead, MIN(CASE WHEN state = 'pending' THEN id END) AS head"
			  "  FROM outbox GROUP BY receiver) AS c"
			  " LEFT JOIN outbox AS o ON o.id = c.head ORDER BY c.receiver", 0, &def, (void **)out, n);
}

int store__outbox_prune(struct store *s, __u64 older_than_ms)
{
	return change(s, "DELETE FROM outbox WHERE state IN ('sent', 'dead') AND done_ms < ?1",
		      older_than_ms, "cannot prune notifications");
}

/* ---- tracking state ---- */

int store__forget_tracking(struct store *s, __u64 exec_id)
{
	return change(s, "DELETE FROM tracking WHERE exec_id = ?1", exec_id, "cannot forget an execution's kernel id");
}

int store__foreach_tracking(struct store *s, int (*cb)(__u64 exec_id, __u64 kernel_id, void *ctx), void *ctx)
{
	static const char *const what = "cannot read the tracking state";
	sqlite3_stmt *st = NULL;
	int err, rc;

	err = begin_query(s, "SELECT exec_id, kernel_id FROM tracking ORDER BY exec_id", &st, what);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = cb((__u64)sqlite3_column_int64(st, 0), (__u64)sqlite3_column_int64(st, 1), ctx);
	if (!err && rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
	return end_query(s, st, err);
}

int store__put_orchestrator(struct store *s, const struct orch_registration *o)
{
	static const char *const what = "cannot store an orchestrator";
	sqlite3_stmt *st = NULL;
	int err, rc;

	err = begin_query(s, "INSERT OR REPLACE INTO orchestrators (id, pid, start_ticks, session, options, registered_ms)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, what);
	if (!err) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)o->id);
		sqlite3_bind_int(st, 2, o->pid);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)o->start_ticks);
		sqlite3_bind_text(st, 4, o->session, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, o->options[0] ? o->options : "{}", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)o->registered_ms);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			err = db_fail(s, rc, what);
	}
	return end_query(s, st, err);
}

int store__forget_orchestrator(struct store *s, __u64 id)
{
	return change(s, "DELETE FROM orchestrators WHERE id = ?1", id, "cannot forget an orchestrator");
}

int store__foreach_orchestrator(struct store *s, int (*cb)(const struct orch_registration *o, void *ctx),
				void *ctx)
{
	static const char *const what = "cannot read the orchestrators";
	struct orch_registration o;
	sqlite3_stmt *st = NULL;
	int err, rc;

	lock(s);
	err = prepare(s, "SELECT id, pid, start_ticks, session, options, registered_ms FROM orchestrators ORDER BY id",
		      &st, what);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&o, 0, sizeof(o));
		o.id = (__u64)sqlite3_column_int64(st, 0);
		o.pid = sqlite3_column_int(st, 1);
		o.start_ticks = (__u64)sqlite3_column_int64(st, 2);
		snprintf(o.session, sizeof(o.session), "%s", (const char *)sqlite3_column_text(st, 3) ?: "");
		snprintf(o.options, sizeof(o.options), "%s", (const char *)sqlite3_column_text(st, 4) ?: "{}");
		o.registered_ms = (__u64)sqlite3_column_int64(st, 5);
		err = cb(&o, ctx);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
	sqlite3_finalize(st);
	unlock(s);
	return err;
}

int store__get_orchestrator(struct store *s, __u64 id, struct orch_registration *out)
{
	static const char *const what = "cannot read an orchestrator";
	sqlite3_stmt *st = NULL;
	int err, rc;

	lock(s);
	err = prepare(s, "SELECT id, pid, start_ticks, session, options, registered_ms FROM orchestrators WHERE id = ?1",
		      &st, what);
	if (!err) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			memset(out, 0, sizeof(*out));
			out->id = (__u64)sqlite3_column_int64(st, 0);
			out->pid = sqlite3_column_int(st, 1);
			out->start_ticks = (__u64)sqlite3_column_int64(st, 2);
			snprintf(out->session, sizeof(out->session), "%s", (const char *)sqlite3_column_text(st, 3) ?: "");
			snprintf(out->options, sizeof(out->options), "%s", (const char *)sqlite3_column_text(st, 4) ?: "{}");
			out->registered_ms = (__u64)sqlite3_column_int64(st, 5);
		} else {
			err = rc == SQLITE_DONE ? -ENOENT : db_fail(s, rc, what);
		}
	}
	sqlite3_finalize(st);
	unlock(s);
	return err;
}

int store__put_watch(struct store *s, struct watch_row *w)
{
	static const char *const what = "cannot store a watch rule";
	sqlite3_stmt *st = NULL;
	int err, rc;

	lock(s);
	err = prepare(s, w->id ? "UPDATE watches SET name = ?2, source = ?3, rule = ?4 WHERE id = ?1 RETURNING id"
			       : "INSERT INTO watches (name, source, rule, created_ms) VALUES (?2, ?3, ?4, ?5) RETURNING id",
		      &st, what);
	if (!err) {
		if (w->id)
			sqlite3_bind_int64(st, 1, (sqlite3_int64)w->id);
		sqlite3_bind_text(st, 2, w->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, w->source, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, w->rule, -1, SQLITE_STATIC);
		if (!w->id)
			sqlite3_bind_int64(st, 5, (sqlite3_int64)w->created_ms);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			w->id = (__u64)sqlite3_column_int64(st, 0);
		else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
			set_msg("a watch rule named '%s' exists already", w->name);
			err = -EEXIST;
		} else
			err = db_fail(s, rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc, what);
	}
	sqlite3_finalize(st);
	unlock(s);
	return err;
}

int store__forget_watch(struct store *s, __u64 id)
{
	return change(s, "DELETE FROM watches WHERE id = ?1", id, "cannot forget a watch rule");
}

int store__foreach_watch(struct store *s, int (*cb)(const struct watch_row *w, void *ctx), void *ctx)
{
	static const char *const what = "cannot read the watch rules";
	struct watch_row *w = malloc(sizeof(*w));
	sqlite3_stmt *st = NULL;
	int err, rc = SQLITE_DONE;

	if (!w)
		return -ENOMEM;
	lock(s);
	err = prepare(s, "SELECT id, name, source, rule, created_ms FROM watches ORDER BY id", &st, what);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(w, 0, sizeof(*w));
		w->id = (__u64)sqlite3_column_int64(st, 0);
		snprintf(w->name, sizeof(w->name), "%s", (const char *)sqlite3_column_text(st, 1) ?: "");
		snprintf(w->source, sizeof(w->source), "%s", (const char *)sqlite3_column_text(st, 2) ?: "api");
		snprintf(w->rule, sizeof(w->rule), "%s", (const char *)sqlite3_column_text(st, 3) ?: "{}");
		w->created_ms = (__u64)sqlite3_column_int64(st, 4);
		err = cb(w, ctx);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_fail(s, rc, what);
	sqlite3_finalize(st);
	unlock(s);
	free(w);
	return err;
}
