// SPDX-License-Identifier: MIT
/* The values alert rules are evaluated on: live executions, finished ones from history, and the host. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "alerts/alerts.h"
#include "alerts/recent.h"
#include "daemon/alertsrc.h"
#include "lib/clock.h"
#include "observe/hist.h"
#include "observe/host.h"
#include "lib/log.h"
#include "observe/probes.h"
#include "history/exec_metrics.h"
#include "history/record.h"
#include "history/store.h"
#include "observe/syscalls.h"
#include "observe/tracker.h"

#define MAX_TASKS	8192
#define PREV_MAX	4096
#define WATCH_MAX	8	/* syscalls rules name one by one, per execution */

/* One syscall a rule names (syscall_p99_seconds{syscall="read"}): its counters at the previous evaluation. */
struct sys_prev {
	char name[32];
	__u64 count, errors;
	__u64 hist[WW_HIST_BUCKETS];
};

/* An execution's counters at the previous evaluation, for rates. */
struct prev {
	__u64 exec_id;			/* db id, 0 = free slot */
	__u64 ts_ms;
	__u64 seen_eval;
	__u64 metric[NR_EXEC_METRICS];	/* the table's metrics with a rule */
	__u64 sys_count, sys_errors;
	__u64 hist[WW_HIST_BUCKETS];
	__u64 mem_limit;		/* bytes; 0 = not read yet */
	struct sys_prev *watch;		/* WATCH_MAX, allocated when a rule names a syscall */
	int nwatch;
};

struct alertsrc {
	struct alertsrc_deps deps;
	struct alerts *alerts;
	struct prev *prev;		/* PREV_MAX slots, by db id */
	__u64 evals;
	struct host_cpu host_cpu;
	__u64 host_prev_ms, lost_prev;
	bool host_primed;
	struct recent *recent;		/* executions of the recent past, kept from history writes */
	__u64 recent_keep_ms;		/* the longest look back a rule asked for */
};

static void point(struct alert_point **pts, int *n, int *cap, const char *metric, const char *param,
		  const struct execution *e, double v)
{
	struct alert_point *p;

	if (!isfinite(v) && !isinf(v))
		return;
	if (*n == *cap) {
		struct alert_point *np = realloc(*pts, (*cap ? *cap * 2 : 64) * sizeof(*np));

		if (!np)
			return;
		*pts = np;
		*cap = *cap ? *cap * 2 : 64;
	}
	p = &(*pts)[(*n)++];
	memset(p, 0, sizeof(*p));
	p->metric = metric;
	snprintf(p->param, sizeof(p->param), "%s", param ? param : "");
	p->value = v;
	p->level = e ? LEVEL_EXECUTION : LEVEL_HOST;
	if (e) {
		snprintf(p->session, sizeof(p->session), "%s", e->session);
		snprintf(p->agent, sizeof(p->agent), "%s", e->agent);
		snprintf(p->task, sizeof(p->task), "%s", e->task);
		p->execution_id = e->db_id;
		snprintf(p->labels, sizeof(p->labels), "%s", e->labels);
	}
}

static bool wants(const struct alert_rule *rules, int n, const char *metric)
{
	for (int i = 0; i < n; i++)
		if (rules[i].enabled && !strcmp(rules[i].metric->name, metric))
			return true;
	return false;
}

static struct prev *prev_of(struct alertsrc *s, __u64 id)
{
	struct prev *free_slot = NULL;
	unsigned h = (unsigned)(id * 2654435761u) % PREV_MAX;

	for (int i = 0; i < PREV_MAX; i++) {
		struct prev *p = &s->prev[(h + i) % PREV_MAX];

		if (p->exec_id == id)
			return p;
		/* slots of executions not seen last evaluation are free again */
		if (!free_slot && (!p->exec_id || p->seen_eval + 1 < s->evals))
			free_slot = p;
	}
	if (free_slot) {
		free(free_slot->watch);
		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->exec_id = id;
	}
	return free_slot;
}

/* Points of the syscalls rules name one by one: latency p99 and error ratio since the last evaluation. */
static void named_syscalls(struct prev *p, const struct execution *e, const struct alert_rule *rules, int nr,
			   bool have_prev, struct alert_point **pts, int *n, int *cap)
{
	char buf[32];

	for (int i = 0; i < nr; i++) {
		const struct alert_rule *r = &rules[i];
		struct sys_prev *w = NULL, now = {};
		__u64 dh[WW_HIST_BUCKETS];

		if (!r->enabled || !r->metric->param || strcmp(r->metric->param, "syscall") || !r->param[0] ||
		    !strcmp(r->param, "*"))
			continue;
		if (!p->watch && !(p->watch = calloc(WATCH_MAX, sizeof(*p->watch))))
			return;
		for (int j = 0; j < p->nwatch && !w; j++)
			if (!strcmp(p->watch[j].name, r->param))
				w = &p->watch[j];
		if (!w) {
			if (p->nwatch == WATCH_MAX)
				continue;
			w = &p->watch[p->nwatch++];
			snprintf(w->name, sizeof(w->name), "%.31s", r->param);
			have_prev = false;
		}
		for (int k = 0; k < e->nr_syscalls; k++) {
			if (strcmp(syscall__name(e->syscalls[k].nr, buf, sizeof(buf)), w->name))
				continue;
			now.count += e->syscalls[k].stats.count;
			now.errors += e->syscalls[k].stats.errors;
			for (int b = 0; b < WW_HIST_BUCKETS; b++)
				now.hist[b] += e->syscalls[k].stats.hist[b];
		}
		/* two rules on the same syscall share the point; emit it once */
		if (have_prev && now.count > w->count) {
			for (int b = 0; b < WW_HIST_BUCKETS; b++)
				dh[b] = now.hist[b] - w->hist[b];
			point(pts, n, cap, "syscall_p99_seconds", w->name, e, hist__quantile(dh, 0.99, 0) / 1e9);
			point(pts, n, cap, "syscall_error_ratio", w->name, e,
			      (double)(now.errors - w->errors) / (now.count - w->count));
		}
		snprintf(now.name, sizeof(now.name), "%s", w->name);
		*w = now;
	}
}

/* The table's metrics with a rule (history/exec_metrics.h): gauges now, rates and growth since the last evaluation. */
static void table_points(struct prev *p, const struct execution *e, double dt, struct alert_point **pts, int *n,
			 int *cap)
{
	for (int m = 0; m < NR_EXEC_METRICS; m++) {
		const struct exec_metric_desc *d = &exec_metrics[m];
		__u64 v;

		if (!d->rule_metric)
			continue;
		v = exec_metric__value(e, m);
		if (d->rule_kind == METRIC_RULE_GAUGE)
			point(pts, n, cap, d->rule_metric, NULL, e, v / d->rule_div);
		else if (p && dt > 0 && d->rule_kind == METRIC_RULE_RATE)
			point(pts, n, cap, d->rule_metric, NULL, e, (v - p->metric[m]) / d->rule_div / dt);
		else if (p && dt > 0 && d->rule_kind == METRIC_RULE_DELTA)
			point(pts, n, cap, d->rule_metric, NULL, e, (v - p->metric[m]) / d->rule_div);
		if (p)
			p->metric[m] = v;
	}
}

static void exec_points(struct alertsrc *s, struct execution *e, const struct ww_task_info *tasks, int ntasks,
			const struct alert_rule *rules, int nr, __u64 now_ms, __u64 now_mono,
			struct alert_point **pts, int *n, int *cap)
{
	__u64 count = execution__syscalls(e), errors = execution__syscall_errors(e);
	__u64 hist[WW_HIST_BUCKETS] = {}, blocked = 0;
	struct prev *p = prev_of(s, e->db_id);
	double dt = p && p->ts_ms && now_ms > p->ts_ms ? (now_ms - p->ts_ms) / 1e3 : 0;

	for (int i = 0; i < e->nr_syscalls; i++)
		for (int b = 0; b < WW_HIST_BUCKETS; b++)
			hist[b] += e->syscalls[i].stats.hist[b];
	for (int i = 0; i < ntasks; i++)
		if (tasks[i].exec_id == e->id && tasks[i].sys_enter_ts && now_mono > tasks[i].sys_enter_ts &&
		    now_mono - tasks[i].sys_enter_ts > blocked)
			blocked = now_mono - tasks[i].sys_enter_ts;

	table_points(p, e, dt, pts, n, cap);
	point(pts, n, cap, "syscall_blocked_seconds", NULL, e, blocked / 1e9);
	point(pts, n, cap, "runtime_seconds", NULL, e, (now_mono - e->start_ns) / 1e9);
	point(pts, n, cap, "progress_stall_seconds", NULL, e,
	      (now_ms - (e->progress_at_ms ? e->progress_at_ms : e->start_realtime_ns / 1000000)) / 1e3);
	if (p && wants(rules, nr, "memory_headroom_bytes")) {
		if (!p->mem_limit)
			p->mem_limit = host__memory_limit(e->pid);
		point(pts, n, cap, "memory_headroom_bytes", NULL, e,
		      (double)p->mem_limit - (double)execution__rss_bytes(e));
	}
	if (!p)
		return;
	p->seen_eval = s->evals;
	if (dt > 0 && count != p->sys_count) {
		__u64 dh[WW_HIST_BUCKETS], dcount = count - p->sys_count;

		for (int b = 0; b < WW_HIST_BUCKETS; b++)
			dh[b] = hist[b] - p->hist[b];
		point(pts, n, cap, "syscall_p99_seconds", "*", e, hist__quantile(dh, 0.99, 0) / 1e9);
		point(pts, n, cap, "syscall_error_ratio", "*", e, (double)(errors - p->sys_errors) / dcount);
	}
	named_syscalls(p, e, rules, nr, dt > 0, pts, n, cap);
	p->ts_ms = now_ms;
	p->sys_count = count;
	p->sys_errors = errors;
	memcpy(p->hist, hist, sizeof(hist));
}

static void host_points(struct alertsrc *s, __u64 now_ms, struct alert_point **pts, int *n, int *cap)
{
	static const char *const psi[][2] = { { "psi_cpu_some", "cpu" }, { "psi_memory_some", "memory" },
					      { "psi_io_some", "io" } };
	__u64 cnt[WW_CNT_MAX] = {}, lost, total, avail;
	struct receiver_stats st[RECEIVERS_MAX];
	double cpu = host__cpu_percent(&s->host_cpu), dead = 0;
	int nst;

	/* the first reading has nothing to compare with */
	if (s->host_primed && cpu >= 0)
		point(pts, n, cap, "host_cpu_percent", NULL, NULL, cpu);
	if (!host__memory(&total, &avail))
		point(pts, n, cap, "host_memory_used_ratio", NULL, NULL, 1.0 - (double)avail / total);
	for (int i = 0; i < 3; i++) {
		struct psi_avg some, full;

		if (!host__pressure(psi[i][1], &some, &full) && some.present)
			point(pts, n, cap, psi[i][0], NULL, NULL, some.avg10);
	}
	probes__counters(s->deps.probes, cnt);
	lost = probes__lost_total(cnt);
	if (s->host_primed && now_ms > s->host_prev_ms)
		point(pts, n, cap, "lost_events_rate", NULL, NULL, (lost - s->lost_prev) * 1e3 / (now_ms - s->host_prev_ms));
	s->lost_prev = lost;
	s->host_prev_ms = now_ms;
	s->host_primed = true;
	nst = alerts__receiver_stats(s->alerts, st, RECEIVERS_MAX);
	for (int i = 0; i < nst; i++)
		dead += st[i].dead;
	point(pts, n, cap, "notifications_dead", NULL, NULL, dead);
}

struct gauge_walk {
	struct alertsrc *s;
	const struct ww_task_info *tasks;
	int ntasks;
	const struct alert_rule *rules;
	int nr;
	__u64 now_ms, now_mono;
	struct alert_point **pts;
	int *n, *cap;
};

static int exec_points_of(struct execution *e, void *ctx)
{
	struct gauge_walk *w = ctx;

	if (!e->root_exited && e->db_id)
		exec_points(w->s, e, w->tasks, w->ntasks, w->rules, w->nr, w->now_ms, w->now_mono,
			    w->pts, w->n, w->cap);
	return 0;
}

static int gauges(void *ctx, __u64 now_ms, const struct alert_rule *rules, int nr, struct alert_point **out)
{
	struct alertsrc *s = ctx;
	struct alert_point *pts = NULL;
	struct ww_task_info *tasks = NULL;
	int n = 0, cap = 0, ntasks = 0;
	bool exec_level = false, host_level = false;
	__u64 now_mono = tracker__now_mono();

	s->evals++;
	for (int i = 0; i < nr; i++) {
		if (!rules[i].enabled || rules[i].metric->event)
			continue;
		exec_level |= rules[i].level == LEVEL_EXECUTION;
		host_level |= rules[i].level == LEVEL_HOST;
	}
	if (exec_level && tracker__count(s->deps.tracker)) {
		struct gauge_walk w = { .s = s, .rules = rules, .nr = nr, .now_ms = now_ms,
					.now_mono = now_mono, .pts = &pts, .n = &n, .cap = &cap };

		/* one pass of the task iterator: uncharged CPU and the threads blocked in a syscall */
		tasks = calloc(MAX_TASKS, sizeof(*tasks));
		ntasks = tracker__collect_live(s->deps.tracker, NULL, tasks, tasks ? MAX_TASKS : 0);
		w.tasks = tasks;
		w.ntasks = ntasks < 0 ? 0 : ntasks;
		s->deps.foreach_live(s->deps.ctx, exec_points_of, &w);
	}
	if (host_level)
		host_points(s, now_ms, &pts, &n, &cap);
	free(tasks);
	*out = pts;
	return n;
}

static int put_recent(const struct exec_record *r, void *ctx)
{
	return recent__put(ctx, r);
}

/*
 * Makes the window hold every execution started in the last need_ms (at
 * least two hours, which covers the default rules): read from history once,
 * then kept up to date by alertsrc__saved.
 */
static void read_recent(struct alertsrc *s, __u64 need_ms, __u64 now_ms)
{
	struct exec_filter f = { .limit = -1 };
	__u64 want = need_ms > 2 * 3600000ULL ? need_ms : 2 * 3600000ULL;
	__u64 since = now_ms > want ? now_ms - want : 1;

	if (want > s->recent_keep_ms)
		s->recent_keep_ms = want;
	if (recent__since(s->recent) && recent__since(s->recent) <= since)
		return;
	f.since_ms = since;
	if (store__foreach_execution(s->deps.store, &f, put_recent, s->recent))
		ww_warn("alerts: cannot read recent executions: %s", store__errmsg(s->deps.store));
	recent__set_since(s->recent, since);
}

struct agg {
	const char *key;
	int started, ended, failed, in_category, retries, earlier;
	__u64 *durations;
	int nd, cap_d;
};

struct agg_walk {
	const struct alert_rule *r;
	const char *metric;
	__u64 now_ms, window_ms;
	struct agg *aggs;
	int na, cap;
};

static int cmp_u64(const void *x, const void *y)
{
	__u64 a = *(const __u64 *)x, b = *(const __u64 *)y;

	return (a > b) - (a < b);
}

static struct agg *agg_of(struct agg_walk *w, const char *key)
{
	struct agg *g;

	for (int j = 0; j < w->na; j++)
		if (!strcmp(w->aggs[j].key, key))
			return &w->aggs[j];
	if (w->na == w->cap) {
		int cap = w->cap ? w->cap * 2 : 16;
		struct agg *n = realloc(w->aggs, cap * sizeof(*n));

		if (!n)
			return NULL;
		w->aggs = n;
		w->cap = cap;
	}
	g = &w->aggs[w->na++];
	memset(g, 0, sizeof(*g));
	g->key = key;
	return g;
}

static int add_duration(struct agg *g, __u64 ms)
{
	if (g->nd == g->cap_d) {
		int cap = g->cap_d ? g->cap_d * 2 : 64;
		__u64 *n = realloc(g->durations, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		g->durations = n;
		g->cap_d = cap;
	}
	g->durations[g->nd++] = ms;
	return 0;
}

static int agg_one(const struct recent_view *x, void *ctx)
{
	struct agg_walk *w = ctx;
	const struct alert_rule *r = w->r;
	bool in_window = x->started_ms + w->window_ms >= w->now_ms;
	struct agg *g = agg_of(w, r->level == LEVEL_SESSION ? x->session : x->agent);

	if (!g)
		return -ENOMEM;
	if (!in_window) {
		g->earlier++;	/* only the rate ratio looks back twice the window */
		return 0;
	}
	g->started++;
	g->retries += x->retried;
	if (!x->ended)
		return 0;
	g->ended++;
	g->failed += x->failed;
	g->in_category += x->failed && (!r->param[0] || !strcmp(r->param, "*") || !strcmp(r->param, x->category));
	return add_duration(g, x->duration_ms);
}

static int aggregate(void *ctx, const struct alert_rule *r, __u64 now_ms, struct alert_point **out)
{
	struct alertsrc *s = ctx;
	const char *m = r->metric->name;
	struct alert_point *pts = NULL;
	__u64 w = r->window_ms ? r->window_ms : 3600000;
	__u64 look_back = strcmp(m, "execution_rate_ratio") ? w : 2 * w;
	struct agg_walk walk = { .r = r, .metric = m, .now_ms = now_ms, .window_ms = w };
	int n = 0, cap = 0;

	*out = NULL;
	read_recent(s, look_back, now_ms);
	recent__foreach(s->recent, now_ms > look_back ? now_ms - look_back : 0, agg_one, &walk);
	for (int j = 0; j < walk.na; j++) {
		struct agg *g = &walk.aggs[j];
		struct alert_point *p;
		double v = NAN;

		if (!strcmp(m, "failure_ratio") && g->ended && (__u64)g->ended >= r->min_count)
			v = (double)g->failed / g->ended;
		else if (!strcmp(m, "failures") && (__u64)g->ended >= r->min_count)
			v = g->in_category;
		else if (!strcmp(m, "retries") && (__u64)g->started >= r->min_count)
			v = g->retries;
		else if (!strcmp(m, "duration_p95_seconds") && g->nd && (__u64)g->nd >= r->min_count) {
			qsort(g->durations, g->nd, sizeof(__u64), cmp_u64);
			v = g->durations[(g->nd * 95 + 99) / 100 - 1] / 1e3;
		} else if (!strcmp(m, "execution_rate_ratio") && g->earlier && (__u64)g->earlier >= r->min_count)
			v = (double)g->started / g->earlier;
		if (isnan(v))
			continue;
		if (n == cap) {
			struct alert_point *np = realloc(pts, (cap ? cap * 2 : 16) * sizeof(*np));

			if (!np)
				break;
			pts = np;
			cap = cap ? cap * 2 : 16;
		}
		p = &pts[n++];
		memset(p, 0, sizeof(*p));
		p->metric = m;
		p->level = r->level;
		snprintf(p->param, sizeof(p->param), "%.63s", r->param);
		if (r->level == LEVEL_SESSION)
			snprintf(p->session, sizeof(p->session), "%s", g->key);
		else
			snprintf(p->agent, sizeof(p->agent), "%s", g->key);
		p->value = v;
	}
	for (int j = 0; j < walk.na; j++)
		free(walk.aggs[j].durations);
	free(walk.aggs);
	*out = pts;
	return n;
}

static void changed(void *ctx, const cJSON *alert)
{
	struct alertsrc *s = ctx;

	s->deps.publish(s->deps.ctx, "ALERT", "alert", alert);
}

struct alertsrc *alertsrc__start(const struct alertsrc_deps *deps, const char *config_file, const char *listen)
{
	struct alert_config *cfg = calloc(1, sizeof(*cfg));
	struct alertsrc *s = calloc(1, sizeof(*s));
	struct alert_source src = { .ctx = s, .gauges = gauges, .aggregate = aggregate, .changed = changed };
	char err[512];

	if (!cfg || !s)
		goto nomem;
	s->deps = *deps;
	s->prev = calloc(PREV_MAX, sizeof(*s->prev));
	s->recent = recent__new();
	if (!s->prev || !s->recent)
		goto nomem;
	if (alert_config__load(config_file, cfg, err, sizeof(err))) {
		ww_err("--config %s: %s", config_file, err);
		goto fail;
	}
	if (!cfg->external_url[0])
		snprintf(cfg->external_url, sizeof(cfg->external_url), "http://%s", listen);
	s->alerts = alerts__new(cfg, deps->store, &src, err, sizeof(err));
	if (!s->alerts) {
		/* the engine has freed cfg's compiled rules and matchers already */
		ww_err("alerts: %s", err);
		goto fail;
	}
	free(cfg);
	return s;
nomem:
	ww_err("alerts: out of memory");
fail:
	free(cfg);
	alertsrc__stop(s);
	return NULL;
}

void alertsrc__stop(struct alertsrc *s)
{
	if (!s)
		return;
	alerts__free(s->alerts);
	for (int i = 0; s->prev && i < PREV_MAX; i++)
		free(s->prev[i].watch);
	free(s->prev);
	recent__free(s->recent);
	free(s);
}

struct alerts *alertsrc__alerts(const struct alertsrc *s)
{
	return s ? s->alerts : NULL;
}

void alertsrc__tick(struct alertsrc *s)
{
	__u64 now = clock__now_ms();

	if (!s)
		return;
	if (s->recent_keep_ms && now > s->recent_keep_ms)
		recent__expire(s->recent, now - s->recent_keep_ms);
	alerts__tick(s->alerts, now);
}

void alertsrc__saved(struct alertsrc *s, const struct exec_record *r)
{
	/* before the first agent rule ran, history itself is read then */
	if (s && recent__since(s->recent))
		recent__put(s->recent, r);
}

static void event_point(struct alert_point *p, const char *metric, const char *param,
			const struct execution *e)
{
	memset(p, 0, sizeof(*p));
	p->metric = metric;
	p->level = LEVEL_EXECUTION;
	snprintf(p->param, sizeof(p->param), "%s", param ? param : "");
	snprintf(p->session, sizeof(p->session), "%s", e->session);
	snprintf(p->agent, sizeof(p->agent), "%s", e->agent);
	snprintf(p->task, sizeof(p->task), "%s", e->task);
	p->execution_id = e->db_id;
	snprintf(p->labels, sizeof(p->labels), "%s", e->labels);
	p->value = 1;
}

void alertsrc__ended(struct alertsrc *s, const struct execution *e, const struct exec_record *r)
{
	struct alert_point p;
	__u64 now = clock__now_ms();
	char sig[32];

	if (!s || strcmp(r->status, "failed"))
		return;
	event_point(&p, "execution_failed", r->failure_category, e);
	p.value = r->has_exit_code ? r->exit_code : r->has_signal ? r->signal : 1;
	alerts__event(s->alerts, now, &p);
	if (r->has_signal) {
		snprintf(sig, sizeof(sig), "SIG%s", sigabbrev_np(r->signal) ? sigabbrev_np(r->signal) : "UNKNOWN");
		event_point(&p, "fatal_signal", sig, e);
		p.value = r->signal;
		alerts__event(s->alerts, now, &p);
	}
}

void alertsrc__oom(struct alertsrc *s, const struct execution *e)
{
	struct alert_point p;

	if (!s)
		return;
	event_point(&p, "oom_kill", NULL, e);
	alerts__event(s->alerts, clock__now_ms(), &p);
}
