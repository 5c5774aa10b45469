// SPDX-License-Identifier: MIT
/* workerwatch list, show, executions, agent, health, performance, failures, export, cleanup. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "cli/cmd.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/num.h"
#include "history/store.h"
#include "history/views.h"

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2
#define MAX_CATEGORIES	32
#define HOUR_MS		3600000ULL
#define DAY_MS		(24 * HOUR_MS)

struct query {
	const struct subcmd *cmd;
	const char *db;
	bool json;
	char **args;		/* positional arguments after the subcommand */
	int nargs;
	long long num;		/* the numeric argument, parsed */
};

/* A positional number: what it is, its bounds, its default when optional. */
struct num_arg {
	const char *what;
	long long min, max, def;
};

struct subcmd {
	const char *name;
	const char *args;		/* for messages and the usage: "SESSION", "[HOURS]" */
	int min_args, max_args;
	const struct num_arg *num;	/* the first argument is a number */
	bool writes;
	int (*fn)(struct store *s, struct query *q);
	const char *help;		/* for the usage; a line break continues under it */
	const char *examples;		/* for its --help, one per line */
};

/* ---- formatting ---- */

static const char *fmt_time(__u64 ms, char *buf, size_t size)
{
	time_t secs = ms / 1000;
	struct tm tm;

	if (!ms)
		return "-";
	gmtime_r(&secs, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static const char *fmt_ms(__u64 ms, char *buf, size_t size)
{
	__u64 s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, size, "%llu ms", (unsigned long long)ms);
	else if (ms < 60000)
		snprintf(buf, size, "%.1f s", ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, size, "%llum %02llus", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, size, "%lluh %02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, size, "%llud %02lluh", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600));
	return buf;
}

static const char *fmt_ns(__u64 ns, char *buf, size_t size)
{
	if (ns < 1000)
		snprintf(buf, size, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.1f ms", ns / 1e6);
	else
		return fmt_ms(ns / 1000000, buf, size);
	return buf;
}

static const char *fmt_bytes(__u64 b, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = b;
	int u = -1;

	if (b < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)b);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

static const char *fmt_u64(__u64 v, char *buf, size_t size)
{
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

static const char *fmt_pct(double rate, char *buf, size_t size)
{
	snprintf(buf, size, "%.1f%%", rate * 100);
	return buf;
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

/* How it ended: the exit code, the signal's name, or "-" while running. */
static const char *fmt_exit(const struct exec_record *r, char *buf, size_t size)
{
	const char *abbrev;

	if (r->has_signal) {
		abbrev = sigabbrev_np(r->signal);
		if (abbrev)
			snprintf(buf, size, "SIG%s", abbrev);
		else
			snprintf(buf, size, "signal %d", r->signal);
	} else if (r->has_exit_code) {
		snprintf(buf, size, "%d", r->exit_code);
	} else {
		return "-";
	}
	return buf;
}

/* ---- tables: columns as wide as their widest cell ---- */

struct table {
	int ncols;
	const char *const *heads;
	const char *align;		/* per column: 'l' or 'r' */
	char **cells;
	int nrows, cap;
};

/* Display width of UTF-8 text (code points; good enough for names). */
static int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* A copy safe for a terminal: control characters become '?'. */
static char *cell_dup(const char *s)
{
	char *c = strdup(s ? s : "");

	for (char *p = c; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return c;
}

/* Adds a row of t->ncols cells. */
static int table__add_row(struct table *t, const char *const *cells)
{
	int err = 0;

	if (t->nrows == t->cap) {
		int ncap = t->cap ? t->cap * 2 : 32;
		char **nc = realloc(t->cells, (size_t)ncap * t->ncols * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		t->cells = nc;
		t->cap = ncap;
	}
	for (int c = 0; c < t->ncols; c++) {
		char *cell = cell_dup(cells[c]);

		if (!cell)
			err = -ENOMEM;
		t->cells[t->nrows * t->ncols + c] = cell;
	}
	t->nrows++;
	return err;
}

/* The same with the cells as arguments. */
static int table__add(struct table *t, ...)
{
	const char *cells[t->ncols];
	va_list ap;

	va_start(ap, t);
	for (int c = 0; c < t->ncols; c++)
		cells[c] = va_arg(ap, const char *);
	va_end(ap);
	return table__add_row(t, cells);
}

static void pad(FILE *out, int n)
{
	while (n-- > 0)
		fputc(' ', out);
}

static void print_row(FILE *out, const struct table *t, const int *widths, const char *const *cells)
{
	for (int c = 0; c < t->ncols; c++) {
		const char *cell = cells[c] ? cells[c] : "";
		int gap = widths[c] - text_width(cell);
		bool last = c == t->ncols - 1;

		if (c)
			fputs("  ", out);
		if (t->align[c] == 'r')
			pad(out, gap);
		fputs(cell, out);
		if (t->align[c] != 'r' && !last)
			pad(out, gap);
	}
	fputc('\n', out);
}

static void table__print(FILE *out, const struct table *t)
{
	int widths[t->ncols];

	for (int c = 0; c < t->ncols; c++) {
		widths[c] = text_width(t->heads[c]);
		for (int r = 0; r < t->nrows; r++) {
			const char *cell = t->cells[r * t->ncols + c];
			int w = cell ? text_width(cell) : 0;

			if (w > widths[c])
				widths[c] = w;
		}
	}
	print_row(out, t, widths, t->heads);
	for (int r = 0; r < t->nrows; r++)
		print_row(out, t, widths, (const char *const *)&t->cells[r * t->ncols]);
}

static void table__free(struct table *t)
{
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* ---- output ---- */

static int out_of_memory(void)
{
	ww_err("out of memory");
	return EXIT_RUNTIME;
}

/* Prints and deletes a JSON value. */
static int print_json(cJSON *v)
{
	char *text = v ? cJSON_Print(v) : NULL;

	cJSON_Delete(v);
	if (!text)
		return out_of_memory();
	puts(text);
	free(text);
	return 0;
}

static int store_error(void)
{
	ww_err("%s", store__errmsg(NULL));
	return EXIT_RUNTIME;
}

/* ---- execution listings, as a table or a JSON array ---- */

enum exec_view { VIEW_BRIEF, VIEW_METRICS, VIEW_AGENT, VIEW_FAILURES };

static const char *const brief_heads[] = {
	"ID", "AGENT", "TASK", "STATUS", "STARTED (UTC)", "DURATION", "EXIT", "FAILURE" };
/* The metrics view: these, then a column per metric of the table (history/exec_metrics.h) that has one. */
#define METRICS_FIXED_COLS 5
static const char *const metrics_fixed_heads[METRICS_FIXED_COLS] = { "ID", "AGENT", "TASK", "STATUS", "DURATION" };
static const char *const agent_heads[] = {
	"ID", "SESSION", "TASK", "STATUS", "STARTED (UTC)", "DURATION", "CPU", "PEAK RSS", "FAILURE" };
static const char *const failure_heads[] = {
	"ID", "SESSION", "AGENT", "TASK", "ENDED (UTC)", "CATEGORY", "REASON" };

struct listing {
	enum exec_view view;
	struct table table;
	const char *heads[METRICS_FIXED_COLS + NR_EXEC_METRICS];	/* of the metrics view */
	char align[METRICS_FIXED_COLS + NR_EXEC_METRICS + 1];
	bool as_json;
	cJSON *json;		/* the array, with --json */
	int n;
};

/* The metrics view's headings and alignment; returns the column count. */
static int metrics_heads(const char **heads, char *align)
{
	int n = 0;

	for (; n < METRICS_FIXED_COLS; n++) {
		heads[n] = metrics_fixed_heads[n];
		align[n] = n == 0 || n == METRICS_FIXED_COLS - 1 ? 'r' : 'l';
	}
	for (int m = 0; m < NR_EXEC_METRICS; m++) {
		if (!exec_metrics[m].in_record || exec_metrics[m].cli != METRIC_CLI_COLUMN)
			continue;
		heads[n] = exec_metrics[m].cli_head;
		align[n++] = 'r';
	}
	align[n] = '\0';
	return n;
}

static const char *fmt_metric(enum exec_metric_unit unit, __u64 v, char *buf, size_t size)
{
	return unit == METRIC_UNIT_NS ? fmt_ns(v, buf, size) : unit == METRIC_UNIT_BYTES ? fmt_bytes(v, buf, size)
									      : fmt_u64(v, buf, size);
}

/* A row of the metrics view: the fixed cells, then the metrics' columns as metrics_heads() made them. */
static int add_metrics_row(struct table *t, const struct exec_record *r, const char *const *fixed)
{
	char text[METRICS_FIXED_COLS + NR_EXEC_METRICS][48];
	const char *cells[METRICS_FIXED_COLS + NR_EXEC_METRICS];
	enum exec_metric_unit unit = METRIC_UNIT_COUNT;
	__u64 sum = 0;
	int n = METRICS_FIXED_COLS;

	memcpy(cells, fixed, METRICS_FIXED_COLS * sizeof(*cells));
	for (int m = 0; m < NR_EXEC_METRICS; m++) {
		const struct exec_metric_desc *d = &exec_metrics[m];
		__u64 v;

		if (!d->in_record || d->cli == METRIC_CLI_NONE)
			continue;
		v = exec_metric__of_record(r, m);
		if (d->cli == METRIC_CLI_COLUMN) {
			sum = v;
			unit = d->unit;
			cells[n] = fmt_metric(unit, sum, text[n], sizeof(text[n]));
			n++;
		} else if (d->cli == METRIC_CLI_ADD && n > METRICS_FIXED_COLS) {
			sum += v;
			cells[n - 1] = fmt_metric(unit, sum, text[n - 1], sizeof(text[n - 1]));
		} else if (d->cli == METRIC_CLI_PAIR && n > METRICS_FIXED_COLS) {
			snprintf(text[n - 1], sizeof(text[n - 1]), "%llu/%llu", (unsigned long long)sum,
				 (unsigned long long)v);
			cells[n - 1] = text[n - 1];
		}
	}
	return table__add_row(t, cells);
}

static void listing__init(struct listing *l, enum exec_view view, bool json)
{
	memset(l, 0, sizeof(*l));
	l->view = view;
	l->as_json = json;
	if (json) {
		l->json = cJSON_CreateArray();
		return;
	}
	switch (view) {
	case VIEW_BRIEF:
		l->table = (struct table){ .ncols = 8, .heads = brief_heads, .align = "rllllrrl" };
		break;
	case VIEW_METRICS:
		l->table = (struct table){ .ncols = metrics_heads(l->heads, l->align), .heads = l->heads,
					   .align = l->align };
		break;
	case VIEW_AGENT:
		l->table = (struct table){ .ncols = 9, .heads = agent_heads, .align = "rllllrrrl" };
		break;
	case VIEW_FAILURES:
		l->table = (struct table){ .ncols = 7, .heads = failure_heads, .align = "rllllll" };
		break;
	}
}

static void listing__free(struct listing *l)
{
	table__free(&l->table);
	cJSON_Delete(l->json);
}

static int listing__add(const struct exec_record *r, void *ctx)
{
	struct listing *l = ctx;
	char id[24], started[32], dur[32], cpu[32], rss[32], ended[32], ex[24];

	l->n++;
	if (l->as_json) {
		cJSON *v = views__exec(r);

		return v && cJSON_AddItemToArray(l->json, v) ? 0 : -ENOMEM;
	}
	fmt_u64(r->id, id, sizeof(id));
	fmt_time(r->started_at_ms, started, sizeof(started));
	fmt_ms(r->duration_ms, dur, sizeof(dur));
	fmt_ns(r->on_cpu_ns, cpu, sizeof(cpu));
	fmt_bytes(r->peak_rss_bytes, rss, sizeof(rss));
	switch (l->view) {
	case VIEW_BRIEF:
		return table__add(&l->table, id, r->agent, or_dash(r->task), r->status, started, dur,
				  fmt_exit(r, ex, sizeof(ex)), or_dash(r->failure_category));
	case VIEW_METRICS:
		return add_metrics_row(&l->table, r, (const char *const[]){ id, r->agent, or_dash(r->task), r->status,
									   dur });
	case VIEW_AGENT:
		return table__add(&l->table, id, r->session, or_dash(r->task), r->status, started, dur,
				  cpu, rss, or_dash(r->failure_category));
	case VIEW_FAILURES:
		return table__add(&l->table, id, r->session, r->agent, or_dash(r->task),
				  fmt_time(r->ended_at_ms, ended, sizeof(ended)),
				  r->failure_category, or_dash(r->failure_reason));
	}
	return 0;
}

/* Walks the executions matching f into l; an exit status. */
static int listing__fill(struct listing *l, struct store *s, const struct exec_filter *f)
{
	int err;

	if (l->as_json && !l->json)
		return out_of_memory();
	err = store__foreach_execution(s, f, listing__add, l);
	if (err == -ENOMEM)
		return out_of_memory();
	return err ? store_error() : 0;
}

/* Prints v (deleted) with l's executions as its "executions" member; v NULL: out of memory. */
static int print_with_executions(cJSON *v, struct listing *l)
{
	if (!v || !cJSON_AddItemToObject(v, "executions", l->json)) {
		cJSON_Delete(v);
		return out_of_memory();
	}
	l->json = NULL;
	return print_json(v);
}

/* ---- subcommands ---- */

static const char *const no_history =
	"no executions recorded yet; attach a worker with `workerwatch attach PID`";

static int cmd_list(struct store *s, struct query *q)
{
	static const char *const heads[] = {
		"SESSION", "STATUS", "EXECUTIONS", "RUNNING", "COMPLETED", "FAILED", "STARTED (UTC)", "DURATION" };
	struct table t = { .ncols = 8, .heads = heads, .align = "llrrrrlr" };
	struct orch_record *o = NULL;
	int n = 0, err, ret = 0;

	err = store__orchestrations(s, -1, &o, &n);
	if (err)
		return store_error();
	if (q->json) {
		cJSON *arr = VIEWS_ARRAY(o, n, views__orch);

		free(o);
		return print_json(arr);
	}
	if (!n) {
		puts(no_history);
		free(o);
		return 0;
	}
	for (int i = 0; i < n && !err; i++) {
		char execs[16], running[16], completed[16], failed[16], started[32], dur[32];

		snprintf(execs, sizeof(execs), "%d", o[i].executions);
		snprintf(running, sizeof(running), "%d", o[i].running);
		snprintf(completed, sizeof(completed), "%d", o[i].completed);
		snprintf(failed, sizeof(failed), "%d", o[i].failed);
		err = table__add(&t, o[i].session, o[i].status, execs, running, completed, failed,
				 fmt_time(o[i].started_at_ms, started, sizeof(started)),
				 o[i].ended_at_ms >= o[i].started_at_ms && o[i].ended_at_ms ?
				 fmt_ms(o[i].ended_at_ms - o[i].started_at_ms, dur, sizeof(dur)) : "-");
	}
	if (err)
		ret = out_of_memory();
	else
		table__print(stdout, &t);
	table__free(&t);
	free(o);
	return ret;
}

/* The orchestration named by the first argument; an exit status when there is none. */
static int find_session(struct store *s, struct query *q, struct orch_record *o)
{
	int err = store__orchestration(s, q->args[0], o);

	if (err == -ENOENT) {
		ww_err("no orchestration '%s' in %s (see workerwatch list)", q->args[0], q->db);
		return EXIT_RUNTIME;
	}
	return err ? store_error() : 0;
}

static int cmd_show(struct store *s, struct query *q)
{
	struct exec_filter f = { .limit = -1 };
	struct listing l;
	struct orch_record o;
	char started[32], ended[32], dur[32];
	int ret;

	ret = find_session(s, q, &o);
	if (ret)
		return ret;
	snprintf(f.session, sizeof(f.session), "%s", o.session);
	listing__init(&l, VIEW_BRIEF, q->json);
	ret = listing__fill(&l, s, &f);
	if (ret)
		goto cleanup;
	if (q->json) {
		ret = print_with_executions(views__orch(&o), &l);
		goto cleanup;
	}
	printf("Session:   %s\n", o.session);
	printf("Status:    %s (%d executions: %d running, %d completed, %d failed)\n",
	       o.status, o.executions, o.running, o.completed, o.failed);
	printf("Started:   %s UTC\n", fmt_time(o.started_at_ms, started, sizeof(started)));
	if (o.ended_at_ms >= o.started_at_ms && o.ended_at_ms) {
		printf("Ended:     %s UTC\n", fmt_time(o.ended_at_ms, ended, sizeof(ended)));
		printf("Duration:  %s\n", fmt_ms(o.ended_at_ms - o.started_at_ms, dur, sizeof(dur)));
	} else {
		printf("Ended:     - (still running)\n");
	}
	putchar('\n');
	table__print(stdout, &l.table);
cleanup:
	listing__free(&l);
	return ret;
}

static int cmd_executions(struct store *s, struct query *q)
{
	struct exec_filter f = { .limit = -1 };
	struct orch_record o;
	struct listing l;
	int ret;

	ret = find_session(s, q, &o);
	if (ret)
		return ret;
	snprintf(f.session, sizeof(f.session), "%s", o.session);
	listing__init(&l, VIEW_METRICS, q->json);
	ret = listing__fill(&l, s, &f);
	if (!ret) {
		if (q->json) {
			ret = print_json(l.json);
			l.json = NULL;
		} else {
			table__print(stdout, &l.table);
		}
	}
	listing__free(&l);
	return ret;
}

static int cmd_agent(struct store *s, struct query *q)
{
	struct exec_filter f = { .limit = -1 };
	struct perf_record *perf = NULL, *mine = NULL;
	struct listing l;
	int n = 0, ret;

	if (strlen(q->args[0]) >= sizeof(f.agent)) {
		ww_err("agent name is longer than %zu characters", sizeof(f.agent) - 1);
		return EXIT_USAGE;
	}
	snprintf(f.agent, sizeof(f.agent), "%s", q->args[0]);
	if (store__performance(s, 0, &perf, &n))
		return store_error();
	for (int i = 0; i < n; i++)
		if (!strcmp(perf[i].agent, f.agent))
			mine = &perf[i];
	listing__init(&l, VIEW_AGENT, q->json);
	ret = listing__fill(&l, s, &f);
	if (ret)
		goto cleanup;
	if (!l.n) {
		ww_err("no executions of agent '%s' in %s", f.agent, q->db);
		ret = EXIT_RUNTIME;
		goto cleanup;
	}
	if (q->json) {
		cJSON *v = cJSON_CreateObject(), *p = mine ? views__perf(mine) : cJSON_CreateNull();

		cJSON_AddStringToObject(v, "agent", f.agent);
		if (!cJSON_AddItemToObject(v, "performance", p))
			cJSON_Delete(p);
		if (cJSON_GetArraySize(v) != 2) {
			cJSON_Delete(v);
			v = NULL;
		}
		ret = print_with_executions(v, &l);
		goto cleanup;
	}
	printf("Agent:     %s\n", f.agent);
	if (mine) {
		char rate[16], p50[32], p95[32], max[32];

		printf("Finished:  %d, %d succeeded (%s)\n", mine->count, mine->succeeded,
		       fmt_pct(mine->success_rate, rate, sizeof(rate)));
		printf("Duration:  p50 %s, p95 %s, max %s\n", fmt_ms(mine->p50_ms, p50, sizeof(p50)),
		       fmt_ms(mine->p95_ms, p95, sizeof(p95)), fmt_ms(mine->max_ms, max, sizeof(max)));
	} else {
		printf("Finished:  none yet\n");
	}
	putchar('\n');
	table__print(stdout, &l.table);
cleanup:
	listing__free(&l);
	free(perf);
	return ret;
}

struct category {
	char name[sizeof(((struct exec_record *)0)->failure_category)];
	int n;
};

struct health {
	int total, running, completed, failed;
	struct category cats[MAX_CATEGORIES];
	int ncats;
};

static int health__add(const struct exec_record *r, void *ctx)
{
	struct health *h = ctx;
	int c;

	h->total++;
	if (!strcmp(r->status, "running"))
		h->running++;
	else if (!strcmp(r->status, "completed"))
		h->completed++;
	else
		h->failed++;
	if (!r->failure_category[0])
		return 0;
	for (c = 0; c < h->ncats; c++)
		if (!strcmp(h->cats[c].name, r->failure_category))
			break;
	if (c == h->ncats) {
		/* More categories than we know of: the last slot collects the rest. */
		if (h->ncats == MAX_CATEGORIES)
			c = MAX_CATEGORIES - 1;
		else
			snprintf(h->cats[h->ncats++].name, sizeof(h->cats[0].name), "%s", r->failure_category);
	}
	h->cats[c].n++;
	return 0;
}

/* The most frequent category first, then by name. */
static int by_count(const void *a, const void *b)
{
	const struct category *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmd_health(struct store *s, struct query *q)
{
	struct exec_filter f = { .limit = -1 };
	struct health h = {};
	__u64 now = clock__now_ms();
	int finished, err;
	char since[40], rate[16];

	f.since_ms = now > (__u64)q->num * HOUR_MS ? now - (__u64)q->num * HOUR_MS : 1;
	err = store__foreach_execution(s, &f, health__add, &h);
	if (err)
		return store_error();
	finished = h.completed + h.failed;
	qsort(h.cats, h.ncats, sizeof(h.cats[0]), by_count);
	if (q->json) {
		cJSON *v = cJSON_CreateObject(), *cats;

		clock__rfc3339_ms(f.since_ms, since, sizeof(since));
		cJSON_AddNumberToObject(v, "hours", (double)q->num);
		cJSON_AddStringToObject(v, "since", since);
		cJSON_AddNumberToObject(v, "executions", h.total);
		cJSON_AddNumberToObject(v, "running", h.running);
		cJSON_AddNumberToObject(v, "completed", h.completed);
		cJSON_AddNumberToObject(v, "failed", h.failed);
		if (finished)
			cJSON_AddNumberToObject(v, "success_rate", (double)h.completed / finished);
		else
			cJSON_AddNullToObject(v, "success_rate");
		cats = cJSON_AddObjectToObject(v, "failures_by_category");
		for (int c = 0; c < h.ncats; c++)
			cJSON_AddNumberToObject(cats, h.cats[c].name, h.cats[c].n);
		if (cJSON_GetArraySize(v) != 8 || cJSON_GetArraySize(cats) != h.ncats) {
			cJSON_Delete(v);
			return out_of_memory();
		}
		return print_json(v);
	}
	if (!h.total) {
		printf("no executions in the last %lld hour%s\n", q->num, q->num == 1 ? "" : "s");
		return 0;
	}
	printf("Last %lld hour%s (since %s UTC): %d execution%s\n", q->num, q->num == 1 ? "" : "s",
	       fmt_time(f.since_ms, since, sizeof(since)), h.total, h.total == 1 ? "" : "s");
	printf("  running    %6d\n  completed  %6d\n  failed     %6d\n", h.running, h.completed, h.failed);
	if (finished)
		printf("Success rate: %s of %d finished\n", fmt_pct((double)h.completed / finished, rate, sizeof(rate)),
		       finished);
	else
		printf("Success rate: - (none finished)\n");
	if (h.ncats) {
		struct table t = { .ncols = 2, .heads = (const char *const[]){ "FAILURE CATEGORY", "COUNT" },
				   .align = "lr" };

		err = 0;
		for (int c = 0; c < h.ncats && !err; c++) {
			char n[16];

			snprintf(n, sizeof(n), "%d", h.cats[c].n);
			err = table__add(&t, h.cats[c].name, n);
		}
		putchar('\n');
		if (!err)
			table__print(stdout, &t);
		table__free(&t);
		if (err)
			return out_of_memory();
	}
	return 0;
}

static int cmd_performance(struct store *s, struct query *q)
{
	static const char *const heads[] = {
		"AGENT", "RUNS", "OK", "FAILED", "SUCCESS", "MIN", "AVG", "P50", "P95", "MAX" };
	struct table t = { .ncols = 10, .heads = heads, .align = "lrrrrrrrrr" };
	struct perf_record *p = NULL;
	int n = 0, err, ret = 0;

	if (store__performance(s, 0, &p, &n))
		return store_error();
	if (q->json) {
		cJSON *arr = VIEWS_ARRAY(p, n, views__perf);

		free(p);
		return print_json(arr);
	}
	if (!n) {
		puts("no finished executions recorded yet");
		free(p);
		return 0;
	}
	err = 0;
	for (int i = 0; i < n && !err; i++) {
		char runs[16], ok[16], failed[16], rate[16], mn[32], avg[32], p50[32], p95[32], mx[32];

		snprintf(runs, sizeof(runs), "%d", p[i].count);
		snprintf(ok, sizeof(ok), "%d", p[i].succeeded);
		snprintf(failed, sizeof(failed), "%d", p[i].count - p[i].succeeded);
		err = table__add(&t, p[i].agent, runs, ok, failed, fmt_pct(p[i].success_rate, rate, sizeof(rate)),
				 fmt_ms(p[i].min_ms, mn, sizeof(mn)), fmt_ms(p[i].avg_ms, avg, sizeof(avg)),
				 fmt_ms(p[i].p50_ms, p50, sizeof(p50)), fmt_ms(p[i].p95_ms, p95, sizeof(p95)),
				 fmt_ms(p[i].max_ms, mx, sizeof(mx)));
	}
	if (err)
		ret = out_of_memory();
	else
		table__print(stdout, &t);
	table__free(&t);
	free(p);
	return ret;
}

static int cmd_failures(struct store *s, struct query *q)
{
	struct exec_filter f = { .status = "failed", .limit = (int)q->num };
	struct listing l;
	int ret;

	listing__init(&l, VIEW_FAILURES, q->json);
	ret = listing__fill(&l, s, &f);
	if (!ret) {
		if (q->json) {
			ret = print_json(l.json);
			l.json = NULL;
		} else if (!l.n) {
			puts("no failed executions recorded");
		} else {
			table__print(stdout, &l.table);
		}
	}
	listing__free(&l);
	return ret;
}

/* export: one orchestration at a time, so memory stays bounded by the largest one. */
struct export_ctx {
	struct store *s;
	cJSON *execs;
};

static int export__exec(const struct exec_record *r, void *ctx)
{
	struct export_ctx *x = ctx;
	struct syscall_row *rows = NULL;
	struct sample_row *samples = NULL;
	int nrows = 0, nsamples = 0, err;
	cJSON *v;

	err = store__syscalls(x->s, r->id, &rows, &nrows);
	if (!err)
		err = store__samples(x->s, r->id, &samples, &nsamples);
	if (err)
		goto cleanup;
	v = views__exec(r);
	if (!v || !cJSON_AddItemToArray(x->execs, v)) {
		cJSON_Delete(v);
		err = -ENOMEM;
		goto cleanup;
	}
	if (!cJSON_AddItemToObject(v, "syscalls", views__syscalls(rows, nrows)) ||
	    !cJSON_AddItemToObject(v, "samples", views__samples(samples, nsamples)))
		err = -ENOMEM;
cleanup:
	free(rows);
	free(samples);
	return err;
}

static int export_orch(struct store *s, const struct orch_record *o, bool first)
{
	struct exec_filter f = { .limit = -1 };
	struct export_ctx x = { .s = s };
	cJSON *v = views__orch(o);
	char *text = NULL;
	int err = -ENOMEM;

	if (!v)
		goto cleanup;
	x.execs = cJSON_AddArrayToObject(v, "executions");
	if (!x.execs)
		goto cleanup;
	snprintf(f.session, sizeof(f.session), "%s", o->session);
	err = store__foreach_execution(s, &f, export__exec, &x);
	if (err)
		goto cleanup;
	text = cJSON_PrintUnformatted(v);
	if (!text) {
		err = -ENOMEM;
		goto cleanup;
	}
	printf("%s%s", first ? "\n" : ",\n", text);
cleanup:
	free(text);
	cJSON_Delete(v);
	return err;
}

static int cmd_export(struct store *s, struct query *q)
{
	struct orch_record one, *o = NULL;
	char now[40];
	int n = 0, err, ret;

	if (q->nargs) {
		ret = find_session(s, q, &one);
		if (ret)
			return ret;
		o = &one;
		n = 1;
	} else if (store__orchestrations(s, -1, &o, &n)) {
		return store_error();
	}
	clock__rfc3339_ms(clock__now_ms(), now, sizeof(now));
	printf("{\"schema\":1,\"exported_at\":\"%s\",\"orchestrations\":[", now);
	err = 0;
	for (int i = 0; i < n && !err; i++)
		err = export_orch(s, &o[i], i == 0);
	printf("%s]}\n", n ? "\n" : "");
	if (o != &one)
		free(o);
	if (err == -ENOMEM)
		return out_of_memory();
	return err ? store_error() : 0;
}

static int cmd_cleanup(struct store *s, struct query *q)
{
	__u64 now = clock__now_ms(), age = (__u64)q->num * DAY_MS;
	__u64 cutoff = now > age ? now - age : 0;
	char when[40];
	int n;

	n = store__cleanup(s, cutoff);
	if (n < 0)
		return store_error();
	if (q->json) {
		cJSON *v = cJSON_CreateObject();

		clock__rfc3339_ms(cutoff, when, sizeof(when));
		cJSON_AddNumberToObject(v, "days", (double)q->num);
		cJSON_AddStringToObject(v, "cutoff", when);
		cJSON_AddNumberToObject(v, "deleted_executions", n);
		if (cJSON_GetArraySize(v) != 3) {
			cJSON_Delete(v);
			return out_of_memory();
		}
		return print_json(v);
	}
	printf("deleted %d execution%s of orchestrations whose newest execution started before %s UTC\n",
	       n, n == 1 ? "" : "s", fmt_time(cutoff ? cutoff : 1, when, sizeof(when)));
	return 0;
}

static const struct num_arg hours_arg = { "hours", 1, 24 * 365 * 10, 24 };
static const struct num_arg limit_arg = { "a limit", 1, 1000000, 20 };
static const struct num_arg days_arg = { "days", 0, 365 * 100, 0 };

static const struct subcmd subcmds[] = {
	{ "list", "", 0, 0, NULL, false, cmd_list, "orchestrations (sessions), the most recently active first",
	  "workerwatch list\nworkerwatch list --json | jq -r '.[].session'\nworkerwatch --db /srv/ww/history.db list" },
	{ "show", "SESSION", 1, 1, NULL, false, cmd_show, "an orchestration and its executions",
	  "workerwatch show nightly-17\nworkerwatch show nightly-17 --json" },
	{ "executions", "SESSION", 1, 1, NULL, false, cmd_executions,
	  "the executions of an orchestration with their metrics",
	  "workerwatch executions nightly-17\nworkerwatch executions nightly-17 --json | jq '.[].metrics.on_cpu_ns'" },
	{ "agent", "NAME", 1, 1, NULL, false, cmd_agent, "the executions of an agent and how it performs",
	  "workerwatch agent builder\nworkerwatch agent builder --json" },
	{ "health", "[HOURS]", 0, 1, &hours_arg, false, cmd_health,
	  "outcomes of the executions of the last HOURS (default 24)", "workerwatch health\nworkerwatch health 168" },
	{ "performance", "", 0, 0, NULL, false, cmd_performance, "per agent: runs, success rate, duration percentiles",
	  "workerwatch performance\nworkerwatch performance --json" },
	{ "failures", "[LIMIT]", 0, 1, &limit_arg, false, cmd_failures, "the newest failed executions (default 20)",
	  "workerwatch failures\nworkerwatch failures 100 --json" },
	{ "export", "[SESSION]", 0, 1, NULL, false, cmd_export,
	  "orchestrations with their executions, syscalls and samples (JSON)",
	  "workerwatch export > history.json\nworkerwatch export nightly-17 | gzip > nightly-17.json.gz" },
	{ "cleanup", "DAYS", 1, 1, &days_arg, true, cmd_cleanup,
	  "delete orchestrations whose newest execution started more than\nDAYS days ago (none of their executions running)",
	  "workerwatch cleanup 30\nworkerwatch cleanup 0 --db ./copy.db" },
};

static const int nr_subcmds = sizeof(subcmds) / sizeof(subcmds[0]);

static void usage(FILE *out)
{
	fprintf(out, "Usage: workerwatch COMMAND [ARGS] [--db PATH] [--json]\n"
		     "Reads the history the daemon records, whether or not it runs.\n\n");
	for (int i = 0; i < nr_subcmds; i++) {
		const struct subcmd *c = &subcmds[i];
		char head[32];

		snprintf(head, sizeof(head), "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
		fprintf(out, "  %-20s ", head);
		for (const char *h = c->help; *h; h++) {
			if (*h == '\n')
				fprintf(out, "\n%23s", "");
			else
				fputc(*h, out);
		}
		fputc('\n', out);
	}
	fprintf(out, "\n  --db PATH            the database (default " STORE_DEFAULT_PATH ")\n"
		     "  --json               JSON instead of tables\n"
		     "  -h, --help           this help\n\n"
		     "Exit status: 0 done, 1 runtime error (no database, unknown session), 2 usage error.\n");
}

/* One command's --help: its form, what it does, its options and examples. */
static void usage_of(FILE *out, const struct subcmd *c)
{
	fprintf(out, "Usage: workerwatch %s%s%s [--db PATH] [--json]\n", c->name, c->args[0] ? " " : "", c->args);
	for (const char *h = c->help; *h; h++)
		fputc(*h == '\n' ? ' ' : *h, out);
	fprintf(out, ", read from the history the daemon records, whether or not it runs.\n\n"
		     "  --db PATH            the database (default " STORE_DEFAULT_PATH ")\n"
		     "  --json               JSON instead of a table\n"
		     "  -h, --help           this help\n\nExamples:\n  ");
	for (const char *e = c->examples; *e; e++) {
		if (*e == '\n')
			fputs("\n  ", out);
		else
			fputc(*e, out);
	}
	fprintf(out, "\n\nExit status: 0 done, 1 runtime error (no database, unknown session), 2 usage error.\n");
}

/* Whole decimal numbers within bounds; "12abc", "", "-3", " 3" and overflows are refused. */
static int parse_num(const char *s, const struct num_arg *a, long long *out)
{
	__u64 v;

	if (num__parse_u64(s, (__u64)a->min, (__u64)a->max, &v))
		return -EINVAL;
	*out = (long long)v;
	return 0;
}

/* The subcommand's argument count and number. */
static int check_args(struct query *q)
{
	const struct subcmd *cmd = q->cmd;

	if (q->nargs < cmd->min_args) {
		ww_err("%s needs %s: workerwatch %s %s", cmd->name, cmd->args, cmd->name, cmd->args);
		return EXIT_USAGE;
	}
	if (q->nargs > cmd->max_args) {
		ww_err("too many arguments for %s: workerwatch %s%s%s", cmd->name, cmd->name,
		       cmd->args[0] ? " " : "", cmd->args);
		return EXIT_USAGE;
	}
	if (cmd->num) {
		q->num = cmd->num->def;
		if (q->nargs && parse_num(q->args[0], cmd->num, &q->num)) {
			ww_err("%s wants %s from %lld to %lld, not '%s'", cmd->name, cmd->num->what,
			       cmd->num->min, cmd->num->max, q->args[0]);
			return EXIT_USAGE;
		}
	}
	return 0;
}

static const struct subcmd *find_subcmd(const char *name)
{
	for (int i = 0; i < nr_subcmds; i++)
		if (!strcmp(name, subcmds[i].name))
			return &subcmds[i];
	return NULL;
}

/*
 * Options may come anywhere, before the subcommand too; the first other
 * argument names the subcommand, the rest are its arguments ("--" ends the
 * options). Returns 0, or an exit status for a usage error (2) or --help
 * (-1: exit 0).
 */
static int parse_args(int argc, char **argv, struct query *q)
{
	bool dashdash = false, help = false;

	q->db = STORE_DEFAULT_PATH;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (dashdash || a[0] != '-' || !a[1]) {
			if (q->cmd) {
				q->args[q->nargs++] = argv[i];
				continue;
			}
			q->cmd = find_subcmd(a);
			if (!q->cmd && !help) {
				ww_err("unknown command '%s' (see workerwatch help)", a);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "--")) {
			dashdash = true;
		} else if (!strcmp(a, "--json")) {
			q->json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			help = true;
		} else if (!strcmp(a, "--db") || !strncmp(a, "--db=", 5)) {
			const char *v = a[4] == '=' ? a + 5 : i + 1 < argc ? argv[++i] : NULL;

			if (!v || !*v) {
				ww_err("option --db needs a path");
				return EXIT_USAGE;
			}
			q->db = v;
		} else {
			ww_err("unknown option '%s' (see workerwatch %s --help)", a, q->cmd ? q->cmd->name : "list");
			return EXIT_USAGE;
		}
	}
	/* --help anywhere: the command's own when there is one */
	if (help) {
		if (q->cmd)
			usage_of(stdout, q->cmd);
		else
			usage(stdout);
		return -1;
	}
	if (!q->cmd) {
		ww_err("no command given (see workerwatch help)");
		return EXIT_USAGE;
	}
	return check_args(q);
}

int cmd_query(int argc, char **argv)
{
	struct query q = {};
	struct store *s = NULL;
	int ret;

	q.args = calloc(argc, sizeof(*q.args));
	if (!q.args)
		return out_of_memory();
	ret = parse_args(argc, argv, &q);
	if (ret) {
		ret = ret < 0 ? 0 : ret;
		goto cleanup;
	}
	s = store__open_existing(q.db, !q.cmd->writes);
	if (!s) {
		if (errno == ENOENT)
			ww_err("no database at %s (workerwatch daemon creates it; --db PATH reads another)", q.db);
		else
			ww_err("%s", store__errmsg(NULL));
		ret = EXIT_RUNTIME;
		goto cleanup;
	}
	ret = q.cmd->fn(s, &q);
	if (fflush(stdout) || ferror(stdout)) {
		ww_err("cannot write the output: %s", strerror(errno));
		ret = EXIT_RUNTIME;
	}
cleanup:
	store__close(s);
	free(q.args);
	return ret;
}
