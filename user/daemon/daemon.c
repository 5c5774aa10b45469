// SPDX-License-Identifier: MIT
/* workerwatch daemon: tracks executions, keeps their history and publishes their lifecycle. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "daemon/agent_totals.h"
#include "alerts/alerts.h"
#include "daemon/orchs.h"
#include "observe/jobs.h"
#include "daemon/metric_labels.h"
#include "daemon/alertsrc.h"
#include "daemon/api.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/eventlog.h"
#include "daemon/exports.h"
#include "daemon/health.h"
#include "daemon/http.h"
#include "daemon/metrics.h"
#include "daemon/resume.h"
#include "daemon/status.h"
#include "history/snapshot.h"
#include "history/store.h"
#include "history/views.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/num.h"
#include "notify/notify.h"
#include "observe/probes.h"
#include "observe/report.h"
#include "observe/syscalls.h"
#include "observe/tracker.h"

#define SETTLE_NS	(20 * 1000000ULL)	/* lets a root's final context switch land */
#define PRUNE_EVERY_MS	(3600 * 1000ULL)
#define SWEEP_EVERY_MS	(60 * 1000ULL)
#define GONE_CHECK_MS	1000	/* how often roots are checked for an exit no event told of */
#define GONE_TASKS_MAX	65536

struct daemon {
	struct config cfg;
	pthread_mutex_t lock;		/* everything below; HTTP handlers run on their own threads */
	struct probes *probes;
	struct tracker *tracker;
	struct store *store;
	struct eventlog *log;
	struct http_server *http;
	struct http_server *metrics_http;	/* --metrics-listen; NULL without it */
	struct alertsrc *alertsrc;	/* rules, alert states and notifications */
	struct health *health;
	struct agent_totals *agent_totals;
	char token[65];
	char host[64];			/* the alerts' host label: events and trace ids name it */
	char env_names[CONFIG_MAX_ENV_LABELS][64];
	int nr_env_names;

	struct jobs *jobs;		/* orchestrators, watch rules, how processes become jobs */
	struct metric_labels *metric_labels;	/* the execution labels /metrics shows, NULL: none */

	__u64 executions_started;
	__u64 db_errors;
	bool db_ok;
	__u64 last_poll_ms;
	__u64 last_sample_ms;
	__u64 last_prune_ms;
	__u64 last_sweep_ms;
	__u64 last_gone_check_ms;
	int lock_fd;			/* DB.pid, locked while this daemon runs */
};

/* SIGTERM and SIGINT keep the kernel state for the next start; SIGUSR1 (--detach-all) does not. */
enum { STOP_KEEP = 1, STOP_DETACH_ALL = 2 };
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	stop_requested = sig == SIGUSR1 ? STOP_DETACH_ALL : STOP_KEEP;
}

const struct config *daemon__config(const struct daemon *d)
{
	return &d->cfg;
}

struct store *daemon__store(struct daemon *d)
{
	return d->store;
}

struct tracker *daemon__tracker(struct daemon *d)
{
	return d->tracker;
}

struct probes *daemon__probes(struct daemon *d)
{
	return d->probes;
}

struct alerts *daemon__alerts(struct daemon *d)
{
	return alertsrc__alerts(d->alertsrc);
}

int daemon__foreach_live(struct daemon *d, int (*fn)(struct execution *e, void *ctx), void *ctx)
{
	return tracker__foreach(d->tracker, fn, ctx);
}

/* The same for the alert feed's hand-ins. */
static int foreach_live(void *daemon, int (*fn)(struct execution *e, void *ctx), void *ctx)
{
	return daemon__foreach_live(daemon, fn, ctx);
}

struct find_ctx {
	__u64 db_id;
	struct execution *found;
};

static int match_db_id(struct execution *e, void *ctx)
{
	struct find_ctx *f = ctx;

	if (e->db_id != f->db_id)
		return 0;
	f->found = e;
	return 1;
}

struct execution *daemon__find_live(struct daemon *d, __u64 db_id)
{
	struct find_ctx f = { .db_id = db_id };

	daemon__foreach_live(d, match_db_id, &f);
	return f.found;
}

/* The handles and counters /health and /metrics read. */
static void status_of(struct daemon *d, struct daemon_status *st)
{
	*st = (struct daemon_status){
		.probes = d->probes,
		.tracker = d->tracker,
		.store = d->store,
		.alerts = alertsrc__alerts(d->alertsrc),
		.agents = d->agent_totals,
		.metric_labels = d->metric_labels,
		.db_path = d->cfg.db,
		.orchestrators = jobs__nr_orchs(d->jobs),
		.executions_started = d->executions_started,
		.db_errors = d->db_errors,
		.db_ok = d->db_ok,
		.last_poll_ms = d->last_poll_ms,
	};
}

cJSON *daemon__health(struct daemon *d, bool *healthy)
{
	struct daemon_status st;

	status_of(d, &st);
	return health__report(d->health, &st, healthy);
}

char *daemon__metrics(struct daemon *d)
{
	struct daemon_status st;

	status_of(d, &st);
	return metrics__render(&st);
}

/* Broadcasts a JSON object to stream clients and writes it to the event log. */
static void publish(void *daemon, const char *kind, const char *stream_event, const cJSON *obj)
{
	struct daemon *d = daemon;
	char *text = cJSON_PrintUnformatted(obj);

	if (!text)
		return;
	if (d->log && kind)
		eventlog__write(d->log, kind, text);
	if (d->http && stream_event)
		http__broadcast(d->http, stream_event, text);
	free(text);
}

void daemon__publish(struct daemon *d, const char *kind, const char *stream_event, const cJSON *obj)
{
	publish(d, kind, stream_event, obj);
}

int daemon__save(struct daemon *d, struct execution *e)
{
	struct syscall_row *rows = NULL;
	struct exec_record r;
	int n, err;

	snapshot__record(e, &r);
	n = snapshot__syscall_rows(e, &rows);
	if (n < 0)
		return n;
	/* while it runs, history also says which kernel execution it is: a restart takes it up */
	err = store__upsert_tracked(d->store, &r, rows, n, e->ended ? 0 : e->id);
	free(rows);
	if (err) {
		d->db_errors++;
		d->db_ok = false;
		ww_err("cannot write execution %s/%s to history: %s", e->session, e->agent,
		       store__errmsg(d->store));
		return -EIO;
	}
	d->db_ok = true;
	e->db_id = r.id;
	alertsrc__saved(d->alertsrc, &r);
	return 0;
}

/*
 * A JSON object naming an execution, the start of every event about it: its
 * history id, its OpenTelemetry trace and span ids (the otlp receiver's), its
 * names as known now and its labels, so that a line shipped alone still
 * says whose it is.
 */
static cJSON *exec_ref(const struct daemon *d, const struct execution *e)
{
	cJSON *o = cJSON_CreateObject(), *labels = e->labels[0] ? cJSON_Parse(e->labels) : NULL;
	char trace[NOTIFY_TRACE_ID_HEX], span[NOTIFY_SPAN_ID_HEX];

	notify__trace_ids(e->session, d->host, e->db_id, e->start_realtime_ns / 1000000, trace, span);
	cJSON_AddNumberToObject(o, "execution", (double)e->db_id);
	cJSON_AddStringToObject(o, "trace_id", trace);
	cJSON_AddStringToObject(o, "span_id", span);
	cJSON_AddStringToObject(o, "session", e->session);
	cJSON_AddStringToObject(o, "agent", e->agent);
	cJSON_AddStringToObject(o, "task", e->task);
	cJSON_AddNumberToObject(o, "pid", e->pid);
	/* always an object, {} for none, so that a shipper's schema has it on every line */
	if (!cJSON_IsObject(labels)) {
		cJSON_Delete(labels);
		labels = cJSON_CreateObject();
	}
	cJSON_AddItemToObject(o, "labels", labels);
	if (e->orch_id)
		cJSON_AddNumberToObject(o, "orchestrator", (double)e->orch_id);
	if (e->rule)
		cJSON_AddNumberToObject(o, "watch_rule", e->rule);
	return o;
}

/* Environment variables named in env_labels become labels, merged under the given ones. */
static void read_env_labels(struct daemon *d, pid_t pid, cJSON *labels)
{
	char path[64], *buf;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	buf = malloc(1 << 17);
	n = buf ? read(fd, buf, (1 << 17) - 1) : -1;
	close(fd);
	if (n <= 0) {
		free(buf);
		return;
	}
	buf[n] = 0;
	for (char *v = buf; v < buf + n; v += strlen(v) + 1) {
		char *eq = strchr(v, '=');

		if (!eq)
			continue;
		for (int i = 0; i < d->nr_env_names; i++) {
			size_t len = strlen(d->env_names[i]);

			if ((size_t)(eq - v) == len && !strncmp(v, d->env_names[i], len) &&
			    !cJSON_GetObjectItemCaseSensitive(labels, d->env_names[i]) && strlen(eq + 1) < 256)
				cJSON_AddStringToObject(labels, d->env_names[i], eq + 1);
		}
	}
	free(buf);
}

static void set_labels(struct daemon *d, struct execution *e)
{
	cJSON *labels = e->labels[0] ? cJSON_Parse(e->labels) : cJSON_CreateObject();
	char *text;

	if (!labels)
		labels = cJSON_CreateObject();
	read_env_labels(d, e->pid, labels);
	text = cJSON_PrintUnformatted(labels);
	if (text && strlen(text) < sizeof(e->labels))
		strcpy(e->labels, text);
	free(text);
	cJSON_Delete(labels);
}

int daemon__ensure_attached(struct daemon *d)
{
	return probes__attach(d->probes);
}

static int ensure_attached(struct daemon *d)
{
	return daemon__ensure_attached(d);
}

void daemon__detach_if_idle(struct daemon *d)
{
	if (!tracker__count(d->tracker) && !jobs__busy(d->jobs))
		probes__detach(d->probes);
}

struct jobs *daemon__jobs(struct daemon *d)
{
	return d->jobs;
}

/* Common start of every execution: history row, labels, retries, events. */
void daemon__announce(struct daemon *d, struct execution *e)
{
	cJSON *ev, *cmd;

	set_labels(d, e);
	e->retry_count = store__count_failed(d->store, e->session, e->agent, e->task);
	if (e->retry_count < 0)
		e->retry_count = 0;
	daemon__save(d, e);
	d->executions_started++;
	/* a job is announced once named (observe/jobs.c), so STARTED and its end carry the same names */
	ev = exec_ref(d, e);
	cmd = cJSON_AddArrayToObject(ev, "command");
	for (char **a = e->argv; a && *a; a++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
	publish(d, "STARTED", "execution_start", ev);
	cJSON_Delete(ev);
}

int daemon__start_execution(struct daemon *d, struct execution *e, int pidfd)
{
	int err = ensure_attached(d);

	if (err)
		return err;
	e->start_ns = tracker__now_mono();
	e->start_realtime_ns = tracker__realtime(e->start_ns);
	e->slow_threshold_ns = d->cfg.slow_syscall_ms * 1000000ULL;
	err = tracker__attach(d->tracker, e, pidfd);
	if (err) {
		daemon__detach_if_idle(d);
		return err;
	}
	daemon__announce(d, e);
	return 0;
}

__u64 daemon__start_ticks(pid_t pid)
{
	char path[64], buf[1024], *rp;
	unsigned long long ticks = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	rp = strrchr(buf, ')');	/* comm may hold spaces and parentheses */
	if (!rp || sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			  &ticks) != 1)
		return 0;
	return ticks;
}

char **daemon__cmdline(pid_t pid)
{
	char path[64], buf[4096];
	char **argv = calloc(65, sizeof(*argv));
	ssize_t n = 0;
	int fd, argc = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (!argv)
		return NULL;
	if (n <= 0) {
		snprintf(buf, sizeof(buf), "pid %d", pid);
		n = strlen(buf) + 1;
	}
	buf[n] = 0;
	for (char *w = buf; w < buf + n && argc < 64; w += strlen(w) + 1)
		argv[argc++] = strdup(w);
	return argv;
}

void daemon__renamed(struct daemon *d, struct execution *e)
{
	e->retry_count = store__count_failed(d->store, e->session, e->agent, e->task);
	if (e->retry_count < 0)
		e->retry_count = 0;
	set_labels(d, e);
	daemon__save(d, e);
}

/*
 * The root exited: its outcome goes to history now, in this callback, so the
 * ring buffer hands the event over only once it is committed. The settle
 * that follows (daemon__finalize) only adds the late counters.
 */
void daemon__root_ended(struct daemon *d, struct execution *e, __u64 ts_ns, int exit_status)
{
	e->root_exited = true;
	e->root_exit_ns = ts_ns;
	e->exit_status = exit_status;
	tracker__collect(d->tracker, e);
	e->ended = true;
	e->end_ns = ts_ns;
	e->end_realtime_ns = tracker__realtime(ts_ns);
	daemon__save(d, e);
}

static const char *const event_kinds[] = {
	[WW_EV_FORK] = "FORK", [WW_EV_EXEC] = "EXEC", [WW_EV_EXIT] = "EXIT",
	[WW_EV_SIGNAL] = "SIGNAL", [WW_EV_OOM] = "OOM", [WW_EV_SLOW_SYSCALL] = "SLOW_SYSCALL",
};

static void on_event(void *ctx, struct execution *e, const struct ww_event_hdr *h, const void *data)
{
	struct daemon *d = ctx;
	char buf[32];
	cJSON *ev;

	if (h->type == WW_EV_EXEC && h->pid == (__u32)e->pid && !e->orch_id && !e->rule) {
		/* a wrapper (env, a shell) may have set the variables only now; jobs are named from their exec */
		set_labels(d, e);
		daemon__save(d, e);
	}
	if (h->type == WW_EV_EXIT && h->pid == (__u32)e->pid && !e->root_exited) {
		const struct ww_exit_event *x = data;

		daemon__root_ended(d, e, h->ts_ns, x->exit_status);
	}
	if (h->type == WW_EV_OOM) {
		agent_totals__oom_kill(d->agent_totals, e->agent);
		alertsrc__oom(d->alertsrc, e);
	}
	if (h->type >= sizeof(event_kinds) / sizeof(event_kinds[0]) || !event_kinds[h->type])
		return;
	/* without per-process lines the root's EXIT stays: a start after a crash finishes it from that line */
	if (!d->cfg.log_process_events && (h->type == WW_EV_FORK || h->type == WW_EV_EXEC ||
					   (h->type == WW_EV_EXIT && h->pid != (__u32)e->pid)))
		return;
	ev = exec_ref(d, e);
	cJSON_AddNumberToObject(ev, "process", h->pid);
	cJSON_AddNumberToObject(ev, "parent", h->ppid);
	cJSON_AddStringToObject(ev, "comm", h->comm);
	if (h->type == WW_EV_EXEC) {
		cJSON_AddStringToObject(ev, "filename", ((const struct ww_exec_event *)data)->filename);
	} else if (h->type == WW_EV_EXIT) {
		const struct ww_exit_event *x = data;

		if (WIFEXITED(x->exit_status))
			cJSON_AddNumberToObject(ev, "exit_code", WEXITSTATUS(x->exit_status));
		else
			cJSON_AddNumberToObject(ev, "signal", WTERMSIG(x->exit_status));
	} else if (h->type == WW_EV_SIGNAL) {
		const struct ww_signal_event *s = data;

		cJSON_AddNumberToObject(ev, "signal", s->sig);
		cJSON_AddNumberToObject(ev, "sender_pid", s->sender_pid);
		cJSON_AddStringToObject(ev, "sender_comm", s->sender_comm);
	} else if (h->type == WW_EV_SLOW_SYSCALL) {
		const struct ww_slow_syscall_event *s = data;

		cJSON_AddStringToObject(ev, "syscall", syscall__name(s->nr, buf, sizeof(buf)));
		cJSON_AddNumberToObject(ev, "duration_ns", (double)s->duration_ns);
	}
	publish(d, event_kinds[h->type], NULL, ev);
	cJSON_Delete(ev);
}

/* What has no column in history: the latency histograms and the slow syscalls. */
static void save_extras(struct daemon *d, const struct execution *e)
{
	cJSON *docs[3] = { report__hist_json(e->totals.rq_hist, 0), report__slow_json(e),
			   report__syscall_histograms(e) };
	static const char *const keys[3] = { "runqueue_latency", "slow_syscalls", "syscall_histograms" };

	for (int i = 0; i < 3; i++) {
		char *text = cJSON_PrintUnformatted(docs[i]);

		if (e->db_id && text && store__put_extra(d->store, e->db_id, keys[i], text)) {
			d->db_errors++;
			d->db_ok = false;
		}
		free(text);
		cJSON_Delete(docs[i]);
	}
}

void daemon__finalize(struct daemon *d, struct execution *e)
{
	struct exec_record r;
	struct process *root;
	cJSON *ev;

	tracker__poll(d->tracker, 0);
	tracker__collect(d->tracker, e);
	e->ended = true;
	e->end_ns = e->root_exited ? e->root_exit_ns : tracker__now_mono();
	e->end_realtime_ns = tracker__realtime(e->end_ns);
	root = execution__find_proc(e, e->pid);
	if (root && root->exited)
		e->exit_status = root->exit_status;
	daemon__save(d, e);
	snapshot__record(e, &r);
	/* before the extras are written: a failure page should not wait for them */
	alertsrc__ended(d->alertsrc, e, &r);
	/* its exports are queued with the end of its tracking row: a restart between them cannot lose or repeat them */
	exports__ended(alertsrc__alerts(d->alertsrc), e, &r);
	save_extras(d, e);
	agent_totals__add(d->agent_totals, e, &r);
	metric_labels__finished(d->metric_labels, e->agent, r.status, e->labels);

	ev = exec_ref(d, e);
	cJSON_AddStringToObject(ev, "status", r.status);
	if (r.has_exit_code)
		cJSON_AddNumberToObject(ev, "exit_code", r.exit_code);
	if (r.has_signal)
		cJSON_AddNumberToObject(ev, "signal", r.signal);
	if (r.failure_category[0]) {
		cJSON_AddStringToObject(ev, "failure", r.failure_category);
		cJSON_AddStringToObject(ev, "reason", r.failure_reason);
	}
	cJSON_AddNumberToObject(ev, "duration_ms", (double)r.duration_ms);
	cJSON_AddNumberToObject(ev, "on_cpu_ns", (double)r.on_cpu_ns);
	cJSON_AddNumberToObject(ev, "peak_memory_bytes", (double)r.peak_memory_bytes);
	cJSON_AddNumberToObject(ev, "peak_rss_bytes", (double)r.peak_rss_bytes);
	publish(d, !strcmp(r.status, "failed") ? "FAILED" : "COMPLETED", "execution_end", ev);
	cJSON_Delete(ev);

	store__forget_tracking(d->store, e->db_id);
	tracker__finish(d->tracker, e);
	execution__free(e);
	daemon__detach_if_idle(d);
}

struct sampling {
	struct daemon *d;
	__u64 now_ms;
	struct sample_row *rows;
	int used, cap;
};

static int sample_one(struct execution *e, void *ctx)
{
	struct sampling *x = ctx;
	struct sample_row *row;
	char ts[40];
	cJSON *ev;

	if (e->root_exited || !e->db_id || x->used == x->cap)
		return 0;
	row = &x->rows[x->used++];
	snapshot__sample(e, x->now_ms, row);
	ev = exec_ref(x->d, e);
	clock__rfc3339_ms(x->now_ms, ts, sizeof(ts));
	cJSON_AddStringToObject(ev, "ts", ts);
	for (int m = 0; m < NR_EXEC_METRICS; m++)
		if (exec_metrics[m].in_sample)
			cJSON_AddNumberToObject(ev, exec_metrics[m].name, (double)exec_metric__of_sample(row, m));
	publish(x->d, NULL, "sample", ev);
	cJSON_Delete(ev);
	daemon__save(x->d, e);
	return 0;
}

/* Samples every running execution into history and the stream. */
static void sample_all(struct daemon *d, __u64 now_ms)
{
	struct sampling x = { .d = d, .now_ms = now_ms, .cap = tracker__count(d->tracker) };

	if (!x.cap)
		return;
	x.rows = calloc(x.cap, sizeof(*x.rows));
	if (!x.rows)
		return;
	tracker__collect_live(d->tracker, NULL, NULL, 0);
	daemon__foreach_live(d, sample_one, &x);
	if (x.used && store__add_samples(d->store, x.rows, x.used)) {
		d->db_errors++;
		d->db_ok = false;
	}
	free(x.rows);
}

struct settling {
	struct daemon *d;
	__u64 now;
	__u64 wait_ns;
};

/* Finalizes e once its root's last context switch has landed, else says when it will have. */
static int settle_one(struct execution *e, void *ctx)
{
	struct settling *x = ctx;

	if (!e->root_exited)
		return 0;
	if (x->now - e->root_exit_ns >= SETTLE_NS)
		daemon__finalize(x->d, e);
	else if (e->root_exit_ns + SETTLE_NS - x->now < x->wait_ns)
		x->wait_ns = e->root_exit_ns + SETTLE_NS - x->now;	/* its failure alert waits for it */
	return 0;
}

struct gone_walk {
	struct daemon *d;
	const struct ww_task_info *tasks;
	int ntasks;
	__u64 now;
};

/*
 * Ends e if its root is gone although no exit event told of it (events
 * lost, or a process that exited while it was attached), seen so on two
 * checks in a row so that an exit event on its way wins. A zombie root
 * still shows its exit status; otherwise the outcome is unknown.
 */
static int end_if_gone(struct execution *e, void *ctx)
{
	struct gone_walk *w = ctx;
	const struct ww_task_info *zombie = NULL;

	if (e->root_exited)
		return 0;
	for (int i = 0; i < w->ntasks; i++) {
		const struct ww_task_info *t = &w->tasks[i];

		if (t->exec_id != e->id || t->pid != (__u32)e->pid)
			continue;
		if (!t->exit_state) {
			e->gone_seen_ns = 0;
			return 0;
		}
		if (t->tid == t->pid)
			zombie = t;
	}
	if (!e->gone_seen_ns) {
		e->gone_seen_ns = w->now;
		return 0;
	}
	e->end_unseen = !zombie;
	ww_warn("execution %llu (pid %d) ended without an exit event%s", (unsigned long long)e->db_id, e->pid,
		zombie ? "; its status is the zombie's" : "; its outcome is unknown");
	daemon__root_ended(w->d, e, e->gone_seen_ns, zombie ? (int)zombie->exit_code : 0);
	return 0;
}

static void check_gone(struct daemon *d)
{
	struct gone_walk w = { .d = d, .now = tracker__now_mono() };
	struct ww_task_info *tasks;

	if (!tracker__count(d->tracker))
		return;
	tasks = calloc(GONE_TASKS_MAX, sizeof(*tasks));
	if (!tasks)
		return;
	w.ntasks = probes__tasks(d->probes, tasks, GONE_TASKS_MAX);
	w.tasks = tasks;
	if (w.ntasks >= 0 && w.ntasks < GONE_TASKS_MAX)	/* a full list may miss a live root */
		daemon__foreach_live(d, end_if_gone, &w);
	free(tasks);
}

/* One round of the loop; returns how long the next poll may wait: up to 200 ms, less when an ended execution settles sooner. */
static int tick(struct daemon *d)
{
	__u64 now_ms = clock__now_ms();
	struct settling x = { .d = d, .now = tracker__now_mono(), .wait_ns = 200 * 1000000ULL };
	int wait_ms;

	tracker__poll(d->tracker, 0);
	d->last_poll_ms = now_ms;
	daemon__foreach_live(d, settle_one, &x);
	if (now_ms - d->last_sample_ms >= d->cfg.sample_interval_s * 1000) {
		d->last_sample_ms = now_ms;
		sample_all(d, now_ms);
	}
	if (now_ms - d->last_prune_ms >= PRUNE_EVERY_MS) {
		d->last_prune_ms = now_ms;
		store__prune_samples(d->store, now_ms - d->cfg.sample_retention_days * 86400000ULL);
	}
	if (now_ms - d->last_gone_check_ms >= GONE_CHECK_MS) {
		d->last_gone_check_ms = now_ms;
		check_gone(d);
	}
	if (now_ms - d->last_sweep_ms >= SWEEP_EVERY_MS) {
		d->last_sweep_ms = now_ms;
		tracker__sweep(d->tracker);
	}
	wait_ms = jobs__tick(d->jobs, (int)((x.wait_ns + 999999) / 1000000));
	daemon__detach_if_idle(d);
	alertsrc__tick(d->alertsrc);
	return wait_ms;
}

/* Reads the API token, or creates a random one readable by root only. */
static int load_token(struct daemon *d)
{
	unsigned char raw[32];
	char *slash, dir[CONFIG_PATH_LEN];
	FILE *f = fopen(d->cfg.token_file, "r");
	int fd;

	if (f) {
		int ok = fscanf(f, "%64s", d->token) == 1 && strlen(d->token) >= 16;

		fclose(f);
		if (ok)
			return 0;
		ww_err("token file %s holds no token of at least 16 characters", d->cfg.token_file);
		return -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s", d->cfg.token_file);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -EIO;
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(d->token + 2 * i, "%02x", raw[i]);
	fd = open(d->cfg.token_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, d->token, 64) != 64 || write(fd, "\n", 1) != 1) {
		ww_err("cannot create token file %s: %s", d->cfg.token_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	close(fd);
	ww_info("created API token in %s", d->cfg.token_file);
	return 0;
}

/*
 * Reads the fleet's metrics token, which config management puts there: it is
 * never created here. 0, or -EINVAL after a one-line error.
 */
static int load_metrics_token(const char *path, char *token, size_t size)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f) {
		ww_err("cannot read --metrics-token-file %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	ok = fscanf(f, "%127s", token) == 1 && strlen(token) >= 16 && strlen(token) < size;
	fclose(f);
	if (!ok) {
		ww_err("--metrics-token-file %s holds no token of 16 to 127 characters", path);
		return -EINVAL;
	}
	return 0;
}

/* The /metrics listener of --metrics-listen: open, or behind the fleet's token; 0 or the exit status. */
static int start_metrics_listener(struct daemon *d)
{
	struct http_opts o = {};
	char addr[128], token[128] = "";
	int port, err = 0;

	if (!d->cfg.metrics_listen[0])
		return 0;
	if (config__split_addr(d->cfg.metrics_listen, addr, sizeof(addr), &port)) {
		ww_err("--metrics-listen wants ADDR:PORT, not '%s'", d->cfg.metrics_listen);
		return 2;
	}
	if (d->cfg.metrics_token_file[0] && load_metrics_token(d->cfg.metrics_token_file, token, sizeof(token)))
		return 2;
	o.addr = addr;
	o.port = port;
	o.token = token;
	/* the routes mutate nothing: the token, when there is one, is asked of every request */
	o.read_auth = token[0] ? HTTP_READ_AUTH_ALWAYS : HTTP_READ_AUTH_NEVER;
	o.routes = api_metrics_routes;
	o.nroutes = api_metrics_nroutes;
	o.ctx = d;
	o.lock = &d->lock;
	o.no_stream = true;
	/*
	 * Prometheus scrapes by whatever name its target list holds. A page that
	 * rebinds a name to this listener reads what it serves anyway: /metrics,
	 * open by the operator's choice, or a 401 without the fleet's token.
	 */
	o.allowed_hosts = "*";
	d->metrics_http = http__start(&o);
	if (!d->metrics_http)
		err = 1;
	else
		ww_info("serving /metrics on http://%s:%d (%s)", addr, http__port(d->metrics_http),
		       token[0] ? "bearer token required" : "open");
	explicit_bzero(token, sizeof(token));
	return err;
}

static void parse_env_names(struct daemon *d)
{
	char buf[sizeof(d->cfg.env_labels)], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", d->cfg.env_labels);
	for (char *name = strtok_r(buf, ", ", &save); name && d->nr_env_names < CONFIG_MAX_ENV_LABELS;
	     name = strtok_r(NULL, ", ", &save))
		snprintf(d->env_names[d->nr_env_names++], sizeof(d->env_names[0]), "%s", name);
}

/* An ended execution's outcome from its root's EXIT line, as far as the line tells it. */
static void finish_from_exit_line(struct exec_record *r, const cJSON *line)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(line, "exit_code");
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(line, "signal");
	__u64 end_ms = 0;

	/* the line's "ts", 2026-11-21T06:20:01.123Z; 0 when unreadable */
	if (!clock__parse_rfc3339(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "ts")), &end_ms))
		end_ms = 0;
	r->ended_at_ms = end_ms > r->started_at_ms ? end_ms : r->started_at_ms;
	r->duration_ms = r->ended_at_ms - r->started_at_ms;
	r->failure_category[0] = r->failure_reason[0] = 0;
	snprintf(r->failure_evidence, sizeof(r->failure_evidence), "{}");
	if (cJSON_IsNumber(code)) {
		r->has_exit_code = true;
		r->exit_code = code->valueint;
		snprintf(r->status, sizeof(r->status), "%s", r->exit_code ? "failed" : "completed");
		if (r->exit_code) {
			snprintf(r->failure_category, sizeof(r->failure_category), "exit_nonzero");
			snprintf(r->failure_reason, sizeof(r->failure_reason), "exited with code %d", r->exit_code);
		}
	} else if (cJSON_IsNumber(sig)) {
		int s = sig->valueint;
		bool crash = s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE || s == SIGABRT ||
			     s == SIGSYS || s == SIGTRAP;

		r->has_signal = true;
		r->signal = s;
		snprintf(r->status, sizeof(r->status), "failed");
		snprintf(r->failure_category, sizeof(r->failure_category), "%s", crash ? "crashed" : "killed");
		snprintf(r->failure_reason, sizeof(r->failure_reason), "%s by SIG%s", crash ? "crashed" : "killed",
			 sigabbrev_np(s) ?: "?");
	}
}

int daemon__finish_from_event_log(struct daemon *d)
{
	struct exec_filter f = { .status = "running", .limit = -1 };
	struct exec_record *rows = NULL;
	char path[CONFIG_PATH_LEN + 16], *line = NULL;
	size_t cap = 0;
	int n = 0, done = 0;
	FILE *log;

	if (store__list_executions(d->store, &f, &rows, &n) || !n)
		goto out;
	snprintf(path, sizeof(path), "%s/events.jsonl", d->cfg.log_dir);
	log = fopen(path, "re");
	if (!log)
		goto out;
	while (getline(&line, &cap, log) > 0) {
		cJSON *j;
		double id, pid;

		if (!strstr(line, "\"event\":\"EXIT\""))
			continue;
		j = cJSON_Parse(line);
		id = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "execution"));
		pid = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "process"));
		for (int i = 0; j && i < n; i++) {
			if ((double)rows[i].id != id || (double)rows[i].pid != pid || strcmp(rows[i].status, "running") ||
			    daemon__find_live(d, rows[i].id))
				continue;
			finish_from_exit_line(&rows[i], j);
			if (!store__upsert_execution(d->store, &rows[i], NULL, 0))
				done++;
		}
		cJSON_Delete(j);
	}
	fclose(log);
	if (done)
		ww_info("finished %d executions from their exit in the event log", done);
out:
	free(line);
	free(rows);
	return done;
}

static void shutdown_all(struct daemon *d, bool detach_all)
{
	http__stop(d->metrics_http);
	d->metrics_http = NULL;
	http__stop(d->http);
	d->http = NULL;
	pthread_mutex_lock(&d->lock);
	if (d->tracker && d->jobs)
		resume__stop(d, detach_all);
	else if (detach_all && d->probes && probes__unpin_all(d->probes))
		ww_warn("some pinned state could not be removed");
	alertsrc__stop(d->alertsrc);
	d->alertsrc = NULL;
	health__free(d->health);
	agent_totals__free(d->agent_totals);
	jobs__free(d->jobs);
	orchs__forget_ended();
	d->jobs = NULL;
	metric_labels__free(d->metric_labels);
	tracker__free(d->tracker);
	probes__free(d->probes);
	if (d->log)
		eventlog__flush(d->log);
	eventlog__close(d->log);
	store__close(d->store);
	pthread_mutex_unlock(&d->lock);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

/* DB.pid: the daemon of these settings, locked while it runs so that a second one cannot start. */
static void pid_path(const struct daemon *d, char *buf, size_t size)
{
	snprintf(buf, size, "%s.pid", d->cfg.db);
}

/* The pid DB.pid holds (read from fd), 0 when it holds none. */
static pid_t pid_in(int fd, char *text, size_t size)
{
	ssize_t len = read(fd, text, size - 1);
	__u64 pid;

	text[len > 0 ? len : 0] = 0;
	text[strcspn(text, "\n")] = 0;
	return num__parse_u64(text, 1, INT_MAX, &pid) ? 0 : (pid_t)pid;
}

static int lock_instance(struct daemon *d)
{
	char path[CONFIG_PATH_LEN + 8], text[32];
	int fd, len;

	pid_path(d, path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ww_err("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ww_err("another daemon (pid %d) already uses %s", pid_in(fd, text, sizeof(text)), d->cfg.db);
		close(fd);
		return -EBUSY;
	}
	len = snprintf(text, sizeof(text), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, text, len, 0) != len)
		ww_warn("cannot write %s: %s", path, strerror(errno));
	d->lock_fd = fd;
	return 0;
}

/* --detach-all: a running daemon of these settings is asked to stop and detach everything itself. */
static int stop_running_daemon(struct daemon *d)
{
	char path[CONFIG_PATH_LEN + 8], text[32] = "";
	int fd, pid;

	pid_path(d, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!flock(fd, LOCK_EX | LOCK_NB)) {	/* nobody holds it: no daemon runs */
		close(fd);
		return 0;
	}
	pid = pid_in(fd, text, sizeof(text));
	if (pid <= 1 || kill(pid, SIGUSR1)) {
		ww_err("a daemon holds %s but cannot be told to stop (pid '%s')", path, text);
		close(fd);
		return -ESRCH;
	}
	ww_info("asked the daemon (pid %d) to stop and detach everything", pid);
	for (int i = 0; i < 300 && flock(fd, LOCK_EX | LOCK_NB); i++)
		usleep(100 * 1000);
	close(fd);
	return 0;
}

/* As Jupyter does: the page takes the token from the fragment, which no request carries. */
static void print_dashboard_url(const struct daemon *d, const char *addr)
{
	bool any = !strcmp(addr, "0.0.0.0") || !strcmp(addr, "::");
	bool v6 = !any && strchr(addr, ':');

	ww_info("dashboard: http://%s%s%s:%d/#token=%s", v6 ? "[" : "", any ? "127.0.0.1" : addr,
		v6 ? "]" : "", http__port(d->http), d->token);
}

static enum http_read_auth read_auth_of(const struct config *c)
{
	if (c->reads_need_token || !strcmp(c->read_access, "token"))
		return HTTP_READ_AUTH_ALWAYS;
	if (!strcmp(c->read_access, "loopback"))
		return HTTP_READ_AUTH_REMOTE;
	if (!strcmp(c->read_access, "open"))
		return HTTP_READ_AUTH_NEVER;
	return HTTP_READ_AUTH_PRIVATE;
}

/* The alert engine, fed from the tracker, history and the probes, publishing through the daemon. */
static int start_alerts(struct daemon *d)
{
	struct alertsrc_deps deps = {
		.tracker = d->tracker,
		.store = d->store,
		.probes = d->probes,
		.ctx = d,
		.foreach_live = foreach_live,
		.publish = publish,
	};

	d->alertsrc = alertsrc__start(&deps, d->cfg.config_file, d->cfg.listen);
	return d->alertsrc ? 0 : -EINVAL;
}

int daemon__run(const struct config *cfg)
{
	struct daemon *d = calloc(1, sizeof(*d));
	struct eventlog_opts lopts = {};
	struct probes_opts popts = {};
	struct jobs_opts jopts = {};
	struct jobs_hooks hooks = {};
	struct http_opts hopts = {};
	struct sigaction sa = { .sa_handler = on_stop };
	char addr[128];
	int port, err = 1, wait_ms = 200;
	bool took_up = false;

	if (!d)
		return 1;
	d->cfg = *cfg;
	d->lock_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	parse_env_names(d);
	if (config__listen_addr(&d->cfg, addr, sizeof(addr), &port)) {
		ww_err("--listen wants ADDR:PORT, not '%s'", d->cfg.listen);
		err = 2;
		goto cleanup;
	}
	if (strcmp(d->cfg.read_access, "private") && strcmp(d->cfg.read_access, "loopback") &&
	    strcmp(d->cfg.read_access, "token") && strcmp(d->cfg.read_access, "open")) {
		ww_err("--read-access wants private, loopback, token or open, not '%s'", d->cfg.read_access);
		err = 2;
		goto cleanup;
	}
	if (strcmp(d->cfg.log_format, "text") && strcmp(d->cfg.log_format, "json")) {
		ww_err("--log-format wants text or json, not '%s'", d->cfg.log_format);
		err = 2;
		goto cleanup;
	}
	log_set_json(!strcmp(d->cfg.log_format, "json"));
	if (d->cfg.detach_all && stop_running_daemon(d))
		goto cleanup;
	if (lock_instance(d))
		goto cleanup;
	d->health = health__new();
	d->agent_totals = agent_totals__new();
	if (!d->health || !d->agent_totals)
		goto cleanup;
	d->store = store__open(d->cfg.db, true);
	if (!d->store) {
		ww_err("%s", store__errmsg(NULL));
		goto cleanup;
	}
	d->db_ok = true;
	lopts.dir = d->cfg.log_dir;
	lopts.max_bytes = d->cfg.log_max_mb << 20;
	lopts.retention_days = (int)d->cfg.log_retention_days;
	d->log = eventlog__open(&lopts);
	if (!d->log || load_token(d))
		goto cleanup;
	popts.slow_syscall_ns = d->cfg.slow_syscall_ms * 1000000ULL;
	popts.pin_dir = d->cfg.pin_dir;
	d->probes = probes__load(&popts);
	if (!d->probes)
		goto cleanup;
	/* the kernel times our programs for as long as we hold this; it goes back off when we exit */
	if (d->cfg.bpf_stats && probes__enable_stats(d->probes))
		ww_warn("cannot enable BPF run-time statistics (CAP_SYS_ADMIN): the programs' cost reads 0");
	d->tracker = tracker__new(d->probes);
	if (!d->tracker)
		goto cleanup;
	orchs__hooks(d, &hooks);
	hooks.event = on_event;
	jopts.env_labels = d->cfg.env_labels;
	jopts.slow_threshold_ns = d->cfg.slow_syscall_ms * 1000000ULL;
	d->jobs = jobs__new(d->tracker, d->probes, &jopts, &hooks);
	d->metric_labels = metric_labels__new(d->cfg.metric_labels, (int)d->cfg.metric_label_values);
	if (!d->jobs || start_alerts(d))
		goto cleanup;
	/* the alerts' host names the events too, and the executions' span ids */
	snprintf(d->host, sizeof(d->host), "%s", alerts__host(alertsrc__alerts(d->alertsrc)));
	/* the rules first: events queued while no daemon ran name them */
	if (eventlog__set_host(d->log, d->host) || watches__load(d) || resume__start(d))
		goto cleanup;
	took_up = true;
	jobs__adopt(d->jobs, 0);
	if (d->cfg.detach_all) {
		/* take up what the kernel still tracks, then end it all as detached */
		err = 0;
		stop_requested = STOP_DETACH_ALL;
		goto cleanup;
	}

	hopts.addr = addr;
	hopts.port = port;
	hopts.token = d->token;
	hopts.max_body = d->cfg.max_body_bytes;
	hopts.read_auth = read_auth_of(&d->cfg);
	hopts.allowed_hosts = d->cfg.allowed_hosts;
	hopts.routes = api_routes;
	hopts.nroutes = api_nroutes;
	hopts.ctx = d;
	hopts.lock = &d->lock;
	d->http = http__start(&hopts);
	if (!d->http)
		goto cleanup;
	err = start_metrics_listener(d);
	if (err)
		goto cleanup;
	err = 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ww_info("listening on http://%s:%d (history %s, events %s)", addr,
	       http__port(d->http), d->cfg.db, d->cfg.log_dir);
	print_dashboard_url(d, addr);
	d->last_sample_ms = clock__now_ms();

	while (!stop_requested) {
		struct pollfd p = { .fd = tracker__fd(d->tracker), .events = POLLIN };

		poll(&p, 1, wait_ms);
		pthread_mutex_lock(&d->lock);
		wait_ms = tick(d);
		pthread_mutex_unlock(&d->lock);
	}
	ww_info("stopping%s", stop_requested == STOP_DETACH_ALL ? " and detaching everything" : "");
	err = 0;
cleanup:
	/*
	 * A start that failed before it took anything up (a bad config) leaves
	 * no pin, unless the pins were an earlier daemon's; after, it stops as
	 * SIGTERM does (a port in use must not end tracking or registrations).
	 */
	shutdown_all(d, stop_requested == STOP_DETACH_ALL ||
			(err && !took_up && d->probes && !probes__adopted(d->probes)));
	pthread_mutex_destroy(&d->lock);
	free(d);
	return err;
}
