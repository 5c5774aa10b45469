// SPDX-License-Identifier: MIT
/* workerwatch top: a live terminal view (ncurses) of the daemon's executions, or a text snapshot. */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curses.h>
#include <cjson/cJSON.h>
#include "cli/client.h"
#include "cli/cmd.h"
#include "history/exec_metrics.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/num.h"

#define TOP_DEFAULT_INTERVAL	2
#define TOP_MIN_INTERVAL	1
#define TOP_MAX_INTERVAL	60
/* Detail requests per refresh: one per running execution, so a busy host stays a bounded load. */
#define TOP_MAX_DETAILS		200
#define TOP_RUNNING_PATH	"/api/v1/executions?status=running&limit=1000"
#define TOP_RECENT_PATH		"/api/v1/executions?limit=20"
/* --once polls twice this far apart, so CPU% and rates have something to compare with. */
#define TOP_ONCE_GAP_MS		1000
/* Keys stay responsive while waiting for the next refresh. */
#define TOP_KEY_POLL_MS		200
#define TOP_ESC_DELAY_MS	25
/* Shorter gaps make CPU% mostly noise. */
#define TOP_MIN_RATE_GAP_S	0.05

#define NAME_LEN	128
#define STATUS_LEN	32	/* "stopped_by_orchestrator" */
#define FILTER_LEN	64
#define CELL_LEN	(NAME_LEN + 8)
#define LINE_LEN	2048
#define COL_GAP		2
#define ELASTIC_MIN	6
#define ELASTIC_MAX	40
#define HEADER_LINES	4

#define CTRL(c)		((c) & 0x1f)
#define KEY_ESC		27

enum { PAIR_RUNNING = 1, PAIR_FAILED, PAIR_ERROR };

enum sort_key { SORT_CPU, SORT_MEM, SORT_DURATION, SORT_NAME };

static const char *const sort_names[] = {
	[SORT_CPU] = "cpu", [SORT_MEM] = "memory", [SORT_DURATION] = "duration", [SORT_NAME] = "name",
};

struct host {
	double cpu_pct, mem_total, mem_avail, load[3], psi[3], lost;	/* NAN when absent */
	char status[STATUS_LEN];
};

struct row {
	unsigned long long id, duration_ms, on_cpu_ns, rss, syscalls, net_bytes;
	double cpu_pct, syscall_rate, net_rate;	/* < 0 until two refreshes read it live */
	double read_at;		/* monotonic seconds when its live metrics were read, 0 without them */
	long pids;
	bool running;
	char session[NAME_LEN], agent[NAME_LEN], task[NAME_LEN], status[STATUS_LEN];
	char command[CELL_LEN];	/* its argv, joined by spaces */
};

struct frame {
	struct host host;
	struct row *rows;	/* running ones in the API's order, then the recent finished ones */
	int n, running, completed, failed, other;
	time_t taken;
};

struct top {
	const char *server, *token_file;
	int interval_s;
	bool interactive, color, quit, help, editing, reverse;
	enum sort_key sort;
	struct frame *cur;	/* the last good frame, NULL before the first */
	char error[512];	/* why the last refresh failed, empty when it worked */
	char filter[FILTER_LEN], edit[FILTER_LEN];
};

enum col {
	COL_ID, COL_SESSION, COL_AGENT, COL_TASK, COL_STATUS, COL_DURATION,
	COL_CPU, COL_RSS, COL_SYSCALLS, COL_NET, COL_PIDS, COL_COMMAND, NR_COLS,
};

static const struct column {
	const char *title;
	bool left, elastic;
} columns[NR_COLS] = {
	[COL_ID] = { "ID", false, false },
	[COL_SESSION] = { "SESSION", true, true },
	[COL_AGENT] = { "AGENT", true, true },
	[COL_TASK] = { "TASK", true, true },
	[COL_STATUS] = { "STATUS", true, false },
	[COL_DURATION] = { "DURATION", false, false },
	[COL_CPU] = { "CPU%", false, false },
	[COL_RSS] = { "MEM", false, false },
	[COL_SYSCALLS] = { "SYSCALLS/s", false, false },
	[COL_NET] = { "NET/s", false, false },
	[COL_PIDS] = { "PIDS", false, false },
	[COL_COMMAND] = { "COMMAND", true, true },
};

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	return clock__ns(CLOCK_MONOTONIC) / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Copies at most size-1 bytes, as printable ASCII: names must not move the cursor or break columns. */
static void copy_name(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || (unsigned char)src[i] >= 0x7f ? '?' : src[i];
	dst[i] = 0;
}

static void set_error(struct top *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_error(struct top *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
	t->error[strcspn(t->error, "\n")] = 0;
}

/* --- JSON --- */

static const cJSON *jget(const cJSON *o, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *key = strtok_r(buf, ".", &save); key && o; key = strtok_r(NULL, ".", &save))
		o = cJSON_GetObjectItemCaseSensitive(o, key);
	return o;
}

static double jnum(const cJSON *o, const char *path, double def)
{
	const cJSON *n = jget(o, path);

	return cJSON_IsNumber(n) ? n->valuedouble : def;
}

static unsigned long long ju64(const cJSON *o, const char *path)
{
	double v = jnum(o, path, 0);

	return v > 0 ? (unsigned long long)v : 0;
}

/* An execution's summary metric m ("metrics" of the API's view), by its name in the table. */
static unsigned long long jmetric(const cJSON *e, enum exec_metric m)
{
	return ju64(jget(e, "metrics"), exec_metrics[m].name);
}

static void jstr(const cJSON *o, const char *key, char *buf, size_t size)
{
	const cJSON *s = jget(o, key);

	copy_name(buf, size, cJSON_IsString(s) ? s->valuestring : "");
}

/* GET path as JSON: 0, -1 when the daemon answered something else, -2 when it cannot be reached. */
static int get_json(struct top *t, const char *path, bool health, cJSON **json)
{
	char *body = NULL, msg[256];
	int status = client__request(t->server, t->token_file, "GET", path, NULL, &body);

	*json = NULL;
	if (status < 0) {
		set_error(t, "cannot reach the daemon at %s: %s", t->server, strerror(-status));
		return -2;
	}
	/* /health answers 503 with the same body when a check fails */
	if (status < 300 || (health && status == 503))
		*json = cJSON_Parse(body);
	if (!*json)
		set_error(t, "GET %s: %d %s", path, status, client__error_text(body, msg, sizeof(msg)));
	free(body);
	return *json ? 0 : -1;
}

/* --- frames --- */

static void frame__free(struct frame *f)
{
	if (!f)
		return;
	free(f->rows);
	free(f);
}

static const struct row *frame__find(const struct frame *f, unsigned long long id)
{
	for (int i = 0; f && i < f->n; i++)
		if (f->rows[i].id == id)
			return &f->rows[i];
	return NULL;
}

static void parse_host(const cJSON *h, struct host *host)
{
	static const char *const psi[] = { "host.pressure.cpu.some.avg10", "host.pressure.memory.some.avg10",
					   "host.pressure.io.some.avg10" };
	const cJSON *load = jget(h, "host.load");

	host->cpu_pct = jnum(h, "host.cpu_percent", NAN);
	if (host->cpu_pct < 0)	/* the daemon could not read /proc/stat */
		host->cpu_pct = NAN;
	host->mem_total = jnum(h, "host.memory.total_bytes", NAN);
	host->mem_avail = jnum(h, "host.memory.available_bytes", NAN);
	for (int i = 0; i < 3; i++) {
		const cJSON *l = cJSON_GetArrayItem(load, i);

		host->load[i] = cJSON_IsNumber(l) ? l->valuedouble : NAN;
		host->psi[i] = jnum(h, psi[i], NAN);
	}
	host->lost = jnum(h, "checks.lost_events.total", NAN);
	jstr(h, "status", host->status, sizeof(host->status));
}

/* The fields every execution object has; the live ones come from its detail. */
static void parse_metrics(const cJSON *e, struct row *r)
{
	const cJSON *procs = jget(e, "processes"), *p, *samples = jget(e, "samples");
	const cJSON *last = cJSON_GetArrayItem(samples, cJSON_GetArraySize(samples) - 1);

	jstr(e, "status", r->status, sizeof(r->status));
	r->running = !strcmp(r->status, "running");
	r->duration_ms = ju64(e, "duration_ms");
	r->on_cpu_ns = jmetric(e, EXEC_METRIC_on_cpu_ns);
	r->syscalls = jmetric(e, EXEC_METRIC_syscalls);
	r->net_bytes = jmetric(e, EXEC_METRIC_net_sent_bytes) + jmetric(e, EXEC_METRIC_net_recv_bytes);
	/*
	 * MEM: the peak so far with shared pages once (docs/REPORT.md); for a
	 * record from before that figure, the newest sample's RSS or the RSS peak
	 */
	r->rss = jmetric(e, EXEC_METRIC_peak_memory_bytes);
	if (!r->rss)
		r->rss = cJSON_IsNumber(jget(last, exec_metrics[EXEC_METRIC_rss_bytes].name)) ?
			 ju64(last, exec_metrics[EXEC_METRIC_rss_bytes].name) : jmetric(e, EXEC_METRIC_peak_rss_bytes);
	r->pids = (long)jmetric(e, EXEC_METRIC_process_count);
	if (cJSON_IsArray(procs)) {
		r->pids = 0;
		cJSON_ArrayForEach(p, procs)
			r->pids += cJSON_IsTrue(jget(p, "running"));
	}
}

/* The command line of an execution's JSON "command" array. */
static void join_command(const cJSON *argv, char *out, size_t size)
{
	const cJSON *w;
	size_t n = 0;

	out[0] = 0;
	cJSON_ArrayForEach(w, argv)
		if (cJSON_IsString(w) && n + 1 < size)
			n += snprintf(out + n, size - n, "%s%s", n ? " " : "", w->valuestring);
}

static void add_row(struct frame *f, const cJSON *e)
{
	struct row *r = &f->rows[f->n++];

	memset(r, 0, sizeof(*r));
	r->id = ju64(e, "id");
	jstr(e, "session", r->session, sizeof(r->session));
	jstr(e, "agent", r->agent, sizeof(r->agent));
	jstr(e, "task", r->task, sizeof(r->task));
	join_command(jget(e, "command"), r->command, sizeof(r->command));
	parse_metrics(e, r);
	r->cpu_pct = r->syscall_rate = r->net_rate = -1;
}

static bool pump_keys(struct top *t);

/* The live metrics of one running execution; -2 when the daemon went away, else 0. */
static int read_live(struct top *t, struct row *r)
{
	char path[64];
	cJSON *j = NULL;
	int err;

	snprintf(path, sizeof(path), "/api/v1/executions/%llu", r->id);
	err = get_json(t, path, false, &j);
	if (err == -2)
		return err;
	if (!err) {
		r->read_at = now_s();
		parse_metrics(j, r);
	}
	cJSON_Delete(j);
	return 0;
}

static double rate(unsigned long long now, unsigned long long before, double dt)
{
	return now >= before ? (double)(now - before) / dt : -1;
}

/*
 * CPU% and rates from the same execution's previous live reading. The wall
 * time between them is the daemon's: duration_ms is taken with the counters,
 * so a request that waited for the daemon (its history writes hold the lock)
 * does not count as time the execution ran. Our clock is the fallback.
 */
static void compute_rates(struct frame *f, const struct frame *prev)
{
	for (int i = 0; i < f->n; i++) {
		struct row *r = &f->rows[i];
		const struct row *p = r->read_at ? frame__find(prev, r->id) : NULL;
		double dt;

		if (!p || !p->read_at)
			continue;
		dt = r->duration_ms > p->duration_ms ? (double)(r->duration_ms - p->duration_ms) / 1000
						     : r->read_at - p->read_at;
		if (dt < TOP_MIN_RATE_GAP_S)
			continue;
		r->cpu_pct = rate(r->on_cpu_ns, p->on_cpu_ns, dt) / 1e7;
		if (r->cpu_pct < 0)
			r->cpu_pct = -1;
		r->syscall_rate = rate(r->syscalls, p->syscalls, dt);
		r->net_rate = rate(r->net_bytes, p->net_bytes, dt);
	}
}

/* One poll of the daemon into a new frame; -1 with t->error set (or t->quit) when it fails. */
static int poll_daemon(struct top *t, const struct frame *prev, struct frame **out)
{
	cJSON *health = NULL, *running = NULL, *recent = NULL, *e;
	struct frame *f = calloc(1, sizeof(*f));
	int err = -1, cap, details = 0;

	*out = NULL;
	if (!f) {
		set_error(t, "out of memory");
		goto cleanup;
	}
	if (get_json(t, "/health", true, &health) || get_json(t, TOP_RUNNING_PATH, false, &running) ||
	    get_json(t, TOP_RECENT_PATH, false, &recent))
		goto cleanup;
	if (!cJSON_IsObject(health) || !cJSON_IsArray(running) || !cJSON_IsArray(recent)) {
		set_error(t, "unexpected answer from the daemon at %s", t->server);
		goto cleanup;
	}
	parse_host(health, &f->host);
	cap = cJSON_GetArraySize(running) + cJSON_GetArraySize(recent);
	f->rows = calloc(cap ? cap : 1, sizeof(*f->rows));
	if (!f->rows) {
		set_error(t, "out of memory");
		goto cleanup;
	}
	cJSON_ArrayForEach(e, running)
		add_row(f, e);
	/* an execution that started or ended between the two lists is shown once */
	cJSON_ArrayForEach(e, recent)
		if (strcmp(cJSON_GetStringValue(jget(e, "status")) ?: "", "running") &&
		    !frame__find(f, ju64(e, "id")))
			add_row(f, e);
	for (int i = 0; i < f->n && details < TOP_MAX_DETAILS; i++) {
		if (!f->rows[i].running)
			continue;
		if (t->interactive && pump_keys(t))
			goto cleanup;
		if (read_live(t, &f->rows[i]))
			goto cleanup;
		details++;
	}
	compute_rates(f, prev);
	for (int i = 0; i < f->n; i++) {
		const char *s = f->rows[i].status;

		if (f->rows[i].running)
			f->running++;
		else if (!strcmp(s, "completed"))
			f->completed++;
		else if (!strcmp(s, "failed"))
			f->failed++;
		else
			f->other++;
	}
	f->taken = time(NULL);
	t->error[0] = 0;
	*out = f;
	f = NULL;
	err = 0;
cleanup:
	frame__free(f);
	cJSON_Delete(health);
	cJSON_Delete(running);
	cJSON_Delete(recent);
	return err;
}

/* --- what is shown --- */

struct sort_ctx {
	const struct row *rows;
	enum sort_key key;
	bool reverse;
};

static int cmp_num(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int compare_rows(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *s = arg;
	const struct row *a = &s->rows[*(const int *)pa], *b = &s->rows[*(const int *)pb];
	int c;

	switch (s->key) {
	case SORT_CPU: c = cmp_num(b->cpu_pct, a->cpu_pct); break;
	case SORT_MEM: c = cmp_num((double)b->rss, (double)a->rss); break;
	case SORT_DURATION: c = cmp_num((double)b->duration_ms, (double)a->duration_ms); break;
	default:
		c = strcasecmp(a->agent, b->agent);
		if (!c)
			c = strcasecmp(a->session, b->session);
		break;
	}
	if (!c)	/* newest first among equals */
		c = cmp_num((double)b->id, (double)a->id);
	return s->reverse ? -c : c;
}

static bool matches(const struct top *t, const struct row *r)
{
	return !t->filter[0] || strcasestr(r->session, t->filter) || strcasestr(r->agent, t->filter) ||
	       strcasestr(r->task, t->filter) || strcasestr(r->command, t->filter);
}

/* Indices of the rows to show: running ones sorted by the key, then the finished ones, newest first. */
static int visible_rows(const struct top *t, const struct frame *f, int *idx)
{
	struct sort_ctx ctx = { f->rows, t->sort, t->reverse };
	int n = 0, running;

	for (int i = 0; i < f->n; i++)
		if (f->rows[i].running && matches(t, &f->rows[i]))
			idx[n++] = i;
	running = n;
	qsort_r(idx, running, sizeof(*idx), compare_rows, &ctx);
	for (int i = 0; i < f->n; i++)
		if (!f->rows[i].running && matches(t, &f->rows[i]))
			idx[n++] = i;
	return n;
}

static void fmt_scaled(double v, double base, const char *units, char *buf, size_t size)
{
	int u = 0, prec;

	while (v >= base && units[u + 1]) {
		v /= base;
		u++;
	}
	prec = !u || v >= 100 ? 0 : v >= 10 ? 1 : 2;
	snprintf(buf, size, "%.*f%.1s", prec, v, units[u] == ' ' ? "" : &units[u]);
}

static void fmt_bytes(double v, char *buf, size_t size)
{
	fmt_scaled(v, 1024, "BKMGTP", buf, size);
}

static void fmt_duration(unsigned long long ms, char *buf, size_t size)
{
	unsigned long long s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, size, "%llums", ms);
	else if (s < 60)
		snprintf(buf, size, "%.1fs", (double)ms / 1000);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lluh%02llum", s / 3600, s / 60 % 60);
	else
		snprintf(buf, size, "%llud%02lluh", s / 86400, s / 3600 % 24);
}

static void row_cells(const struct row *r, char cells[NR_COLS][CELL_LEN])
{
	snprintf(cells[COL_ID], CELL_LEN, "%llu", r->id);
	copy_name(cells[COL_SESSION], CELL_LEN, r->session[0] ? r->session : "-");
	copy_name(cells[COL_AGENT], CELL_LEN, r->agent[0] ? r->agent : "-");
	copy_name(cells[COL_TASK], CELL_LEN, r->task[0] ? r->task : "-");
	copy_name(cells[COL_STATUS], CELL_LEN, r->status);
	fmt_duration(r->duration_ms, cells[COL_DURATION], CELL_LEN);
	if (r->cpu_pct >= 0)
		snprintf(cells[COL_CPU], CELL_LEN, "%.1f", r->cpu_pct);
	else
		strcpy(cells[COL_CPU], "-");
	if (r->rss)
		fmt_bytes((double)r->rss, cells[COL_RSS], CELL_LEN);
	else
		strcpy(cells[COL_RSS], "-");
	if (r->syscall_rate >= 0)
		fmt_scaled(r->syscall_rate, 1000, " kMGT", cells[COL_SYSCALLS], CELL_LEN);
	else
		strcpy(cells[COL_SYSCALLS], "-");
	if (r->net_rate >= 0)
		fmt_bytes(r->net_rate, cells[COL_NET], CELL_LEN);
	else
		strcpy(cells[COL_NET], "-");
	snprintf(cells[COL_PIDS], CELL_LEN, "%ld", r->pids);
	copy_name(cells[COL_COMMAND], CELL_LEN, r->command[0] ? r->command : "-");
}

static void title_cells(char cells[NR_COLS][CELL_LEN])
{
	for (int c = 0; c < NR_COLS; c++)
		snprintf(cells[c], CELL_LEN, "%s", columns[c].title);
}

/*
 * Column widths that fit the content, then narrower names until the line
 * fits avail (0: any). COMMAND, the last, gets what is left over, as in
 * top(1), and is left out when that is too little.
 */
static void layout(const struct frame *f, const int *idx, int n, int avail, int w[NR_COLS])
{
	char cells[NR_COLS][CELL_LEN];
	int total = 0;

	for (int c = 0; c < NR_COLS; c++)
		w[c] = (int)strlen(columns[c].title);
	for (int i = 0; i < n; i++) {
		row_cells(&f->rows[idx[i]], cells);
		for (int c = 0; c < NR_COLS; c++)
			if ((int)strlen(cells[c]) > w[c])
				w[c] = (int)strlen(cells[c]);
	}
	for (int c = 0; c < COL_COMMAND; c++) {
		if (columns[c].elastic && w[c] > ELASTIC_MAX)
			w[c] = ELASTIC_MAX;
		total += w[c] + (c ? COL_GAP : 0);
	}
	while (avail > 0 && total > avail) {
		int widest = -1;

		for (int c = 0; c < COL_COMMAND; c++)
			if (columns[c].elastic && w[c] > ELASTIC_MIN && (widest < 0 || w[c] > w[widest]))
				widest = c;
		if (widest < 0)
			break;
		w[widest]--;
		total--;
	}
	if (avail > 0 && w[COL_COMMAND] > avail - total - COL_GAP)
		w[COL_COMMAND] = avail - total - COL_GAP;
	if (w[COL_COMMAND] < (int)strlen(columns[COL_COMMAND].title))
		w[COL_COMMAND] = 0;	/* no room: not shown */
}

/* One table line; *status_at is where the STATUS cell starts. */
static void format_line(char cells[NR_COLS][CELL_LEN], const int w[NR_COLS], char *out, int *status_at)
{
	int len = 0;

	for (int c = 0; c < NR_COLS && len < LINE_LEN - 1; c++) {
		int cl = (int)strlen(cells[c]), shown = cl < w[c] ? cl : w[c], pad = w[c] - shown;

		if (!w[c])
			continue;	/* a column left out for want of room */
		if (c == COL_STATUS && status_at)
			*status_at = len + (c ? COL_GAP : 0);
		len += snprintf(out + len, LINE_LEN - len, "%*s%*s%.*s%*s", c ? COL_GAP : 0, "",
				columns[c].left ? 0 : pad, "", shown, cells[c], columns[c].left ? pad : 0, "");
	}
	while (len > 0 && out[len - 1] == ' ')	/* no trailing blanks in logs */
		out[--len] = 0;
}

static void fmt_num(double v, const char *fmt, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, fmt, v);
}

static void fmt_time(time_t when, char *buf, size_t size)
{
	struct tm tm;

	if (!localtime_r(&when, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "-");
}

/* The header: daemon and time, host, pressure, counts. Line 1 is the error when there is one. */
static void header_lines(const struct top *t, const struct frame *f, char lines[HEADER_LINES][LINE_LEN])
{
	char when[32], cpu[16], used[16], total[16], mpct[16], load[3][16], psi[3][16], lost[24], other[32] = "";
	const struct host *h = f ? &f->host : NULL;

	fmt_time(f ? f->taken : time(NULL), when, sizeof(when));
	snprintf(lines[0], LINE_LEN, "workerwatch top  %s  daemon %s  %s%s", t->server,
		 h && h->status[0] ? h->status : "unknown", t->error[0] && f ? "last update " : "", when);
	if (!h) {
		snprintf(lines[1], LINE_LEN, "%s", t->error[0] ? t->error : "connecting...");
		lines[2][0] = lines[3][0] = 0;
		return;
	}
	fmt_num(h->cpu_pct, "%.1f%%", cpu, sizeof(cpu));
	fmt_bytes(isnan(h->mem_total) || isnan(h->mem_avail) ? 0 : h->mem_total - h->mem_avail, used, sizeof(used));
	fmt_bytes(isnan(h->mem_total) ? 0 : h->mem_total, total, sizeof(total));
	fmt_num(h->mem_total > 0 && !isnan(h->mem_avail) ? 100 * (h->mem_total - h->mem_avail) / h->mem_total : NAN,
		"%.1f%%", mpct, sizeof(mpct));
	for (int i = 0; i < 3; i++) {
		fmt_num(h->load[i], "%.2f", load[i], sizeof(load[i]));
		fmt_num(h->psi[i], "%.2f%%", psi[i], sizeof(psi[i]));
	}
	fmt_num(h->lost, "%.0f", lost, sizeof(lost));
	if (t->error[0])
		snprintf(lines[1], LINE_LEN, "%s", t->error);
	else
		snprintf(lines[1], LINE_LEN, "Host CPU %s  Mem %s/%s (%s)  Load %s %s %s", cpu, used, total, mpct,
			 load[0], load[1], load[2]);
	snprintf(lines[2], LINE_LEN, "PSI some avg10: cpu %s  memory %s  io %s  Lost events %s", psi[0], psi[1],
		 psi[2], lost);
	if (f->other)
		snprintf(other, sizeof(other), ", %d detached or stopped", f->other);
	snprintf(lines[3], LINE_LEN, "Executions %d running, %d completed, %d failed%s (recent)  Sort: %s%s%s%s%s",
		 f->running, f->completed, f->failed, other, sort_names[t->sort], t->reverse ? " (reversed)" : "",
		 t->filter[0] ? "  Filter: '" : "", t->filter, t->filter[0] ? "'" : "");
}

/* --- --once --- */

static int print_text(const struct top *t, const struct frame *f)
{
	char lines[HEADER_LINES][LINE_LEN], cells[NR_COLS][CELL_LEN], line[LINE_LEN];
	int *idx = calloc(f->n ? f->n : 1, sizeof(*idx)), w[NR_COLS], n;

	if (!idx) {
		ww_err("out of memory");
		return 1;
	}
	n = visible_rows(t, f, idx);
	header_lines(t, f, lines);
	for (int i = 0; i < HEADER_LINES; i++)
		printf("%s\n", lines[i]);
	layout(f, idx, n, 0, w);
	title_cells(cells);
	format_line(cells, w, line, NULL);
	printf("\n%s\n", line);
	for (int i = 0; i < n; i++) {
		row_cells(&f->rows[idx[i]], cells);
		format_line(cells, w, line, NULL);
		printf("%s\n", line);
	}
	free(idx);
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}

static int run_once(struct top *t)
{
	struct frame *first = NULL, *second = NULL;
	int ret = 1;

	if (poll_daemon(t, NULL, &first))
		goto cleanup;
	sleep_ms(TOP_ONCE_GAP_MS);
	if (poll_daemon(t, first, &second))
		goto cleanup;
	ret = print_text(t, second);
cleanup:
	if (t->error[0])
		ww_err("%s", t->error);
	frame__free(first);
	frame__free(second);
	return ret;
}

/* --- the terminal view --- */

static void draw_line(int y, const char *text, attr_t attr)
{
	if (y >= LINES)
		return;
	attrset(attr);
	mvaddnstr(y, 0, text, COLS);
	attrset(A_NORMAL);
}

static void draw(struct top *t)
{
	char lines[HEADER_LINES][LINE_LEN], cells[NR_COLS][CELL_LEN], line[LINE_LEN], bottom[LINE_LEN];
	const struct frame *f = t->cur;
	int w[NR_COLS], n = 0, shown = 0, y = HEADER_LINES + 1, status_at = 0, *idx = NULL;

	erase();
	header_lines(t, f, lines);
	for (int i = 0; i < HEADER_LINES; i++)
		draw_line(i, lines[i], i == 1 && t->error[0] ? (t->color ? COLOR_PAIR(PAIR_ERROR) : 0) | A_BOLD
							      : i == 0 ? A_BOLD : A_NORMAL);
	idx = f ? calloc(f->n ? f->n : 1, sizeof(*idx)) : NULL;
	if (idx) {
		n = visible_rows(t, f, idx);
		layout(f, idx, n, COLS, w);
		title_cells(cells);
		format_line(cells, w, line, NULL);
		snprintf(bottom, sizeof(bottom), "%-*s", COLS < LINE_LEN ? COLS : LINE_LEN - 1, line);
		draw_line(y - 1, bottom, A_REVERSE);
		for (int i = 0; i < n && y < LINES - 1; i++, y++, shown++) {
			const struct row *r = &f->rows[idx[i]];
			bool failed = !strcmp(r->status, "failed");
			attr_t attr = r->running ? A_NORMAL : A_DIM;

			if (failed)
				attr |= t->color ? COLOR_PAIR(PAIR_FAILED) : A_BOLD;
			row_cells(r, cells);
			format_line(cells, w, line, &status_at);
			draw_line(y, line, attr);
			if (r->running && t->color && status_at < COLS) {
				attrset(COLOR_PAIR(PAIR_RUNNING) | A_BOLD);
				mvaddnstr(y, status_at, cells[COL_STATUS], COLS - status_at);
				attrset(A_NORMAL);
			}
		}
	}
	free(idx);
	if (t->editing)
		snprintf(bottom, sizeof(bottom), "Filter (Enter applies, Esc clears): %s_", t->edit);
	else if (t->help)
		snprintf(bottom, sizeof(bottom), "c cpu  m memory  d duration  n name  r reverse  "
			 "/ filter  Esc clear filter  ? close help  q quit");
	else
		snprintf(bottom, sizeof(bottom), "%d of %d shown%s  refresh %d s  ? help  q quit", shown,
			 f ? f->n : 0, shown < n ? " (enlarge the terminal for more)" : "", t->interval_s);
	draw_line(LINES - 1, bottom, t->editing ? A_BOLD : A_NORMAL);
	refresh();
}

static void handle_key(struct top *t, int ch)
{
	size_t len = strlen(t->edit);

	if (t->editing) {
		if (ch == KEY_ESC) {
			t->editing = false;
			t->filter[0] = t->edit[0] = 0;
		} else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			t->editing = false;
			snprintf(t->filter, sizeof(t->filter), "%s", t->edit);
		} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == CTRL('h')) && len) {
			t->edit[len - 1] = 0;
		} else if (ch == CTRL('u')) {
			t->edit[0] = 0;
		} else if (ch == CTRL('c')) {
			t->quit = true;
		} else if (ch >= ' ' && ch < 127 && len + 1 < sizeof(t->edit)) {
			t->edit[len] = (char)ch;
			t->edit[len + 1] = 0;
		}
		return;
	}
	switch (ch) {
	case 'c': case 'C': t->sort = SORT_CPU; break;
	case 'm': case 'M': t->sort = SORT_MEM; break;
	case 'd': case 'D': t->sort = SORT_DURATION; break;
	case 'n': case 'N': t->sort = SORT_NAME; break;
	case 'r': case 'R': t->reverse = !t->reverse; break;
	case '?': case 'h': t->help = !t->help; break;
	case '/':
		t->editing = true;
		snprintf(t->edit, sizeof(t->edit), "%s", t->filter);
		break;
	case KEY_ESC: t->filter[0] = 0; break;
	case 'q': case 'Q': case CTRL('c'): t->quit = true; break;
	default: break;	/* KEY_RESIZE too: ncurses has the new size, the caller redraws */
	}
}

/* Keys that came in meanwhile, so the view answers during a slow refresh; true to stop. */
static bool pump_keys(struct top *t)
{
	bool any = false;
	int ch;

	wtimeout(stdscr, 0);
	while (!t->quit && (ch = wgetch(stdscr)) != ERR) {
		handle_key(t, ch);
		any = true;
	}
	if (stop_requested)
		t->quit = true;
	if (any && !t->quit)
		draw(t);
	return t->quit;
}

static int run_interactive(struct top *t)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_stop }, old[3];
	SCREEN *screen;
	double next = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		ww_err("top needs a terminal (use --once for a text snapshot)");
		return 1;
	}
	setlocale(LC_ALL, "");
	/* ours before ncurses', which only installs its own where the default is in place */
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(signals[i], &sa, &old[i]);
	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		ww_err("cannot use the terminal '%s' (use --once for a text snapshot)", getenv("TERM") ?: "");
		for (int i = 0; i < 3; i++)
			sigaction(signals[i], &old[i], NULL);
		return 1;
	}
	set_escdelay(TOP_ESC_DELAY_MS);	/* Esc alone clears the filter without a one-second wait */
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(PAIR_RUNNING, COLOR_GREEN, -1);
		init_pair(PAIR_FAILED, COLOR_RED, -1);
		init_pair(PAIR_ERROR, COLOR_RED, -1);
		t->color = true;
	}
	t->interactive = true;
	draw(t);
	while (!t->quit && !stop_requested) {
		double now = now_s();
		int ch, wait_ms;

		if (now >= next) {
			struct frame *f = NULL;

			next = now + t->interval_s;
			if (!poll_daemon(t, t->cur, &f)) {
				frame__free(t->cur);
				t->cur = f;
			}
			if (t->quit)
				break;
			draw(t);
			continue;
		}
		wait_ms = (int)((next - now) * 1000) + 1;
		wtimeout(stdscr, wait_ms < TOP_KEY_POLL_MS ? wait_ms : TOP_KEY_POLL_MS);
		ch = wgetch(stdscr);
		if (ch != ERR) {
			handle_key(t, ch);
			draw(t);
		}
	}
	endwin();
	delscreen(screen);
	for (int i = 0; i < 3; i++)
		sigaction(signals[i], &old[i], NULL);
	frame__free(t->cur);
	t->cur = NULL;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: workerwatch top [--once] [--interval SECONDS] [--server URL] [--token-file PATH]\n"
		"A live view of the daemon's executions: running ones first, busiest first, then recent\n"
		"finished ones. CPU%% and the rates compare two readings, so they show '-' until the second.\n\n"
		"Options:\n"
		"  --once               print one plain-text snapshot (two readings %d ms apart) and exit\n"
		"  --interval SECONDS   seconds between refreshes, %d to %d (default %d)\n"
		CLIENT_OPTIONS_HELP
		"  -h, --help           this help\n\n"
		"Keys: c sort by CPU, m by memory, d by duration, n by name, r reverse, / filter on\n"
		"session, agent, task or command (Enter applies, Esc clears), ? help, q or Ctrl-C quit.\n\n"
		"Examples:\n"
		"  workerwatch top\n"
		"  workerwatch top --once | grep builder\n"
		"  WORKERWATCH_URL=http://10.0.0.7:9470 WORKERWATCH_TOKEN_FILE=./ci-7.token workerwatch top --interval 5\n",
		TOP_ONCE_GAP_MS, TOP_MIN_INTERVAL, TOP_MAX_INTERVAL, TOP_DEFAULT_INTERVAL);
}

static int parse_interval(const char *s, int *out)
{
	__u64 v;

	if (num__parse_u64(s, TOP_MIN_INTERVAL, TOP_MAX_INTERVAL, &v)) {
		ww_err("--interval wants a whole number of seconds from %d to %d, not '%s'", TOP_MIN_INTERVAL,
		       TOP_MAX_INTERVAL, s);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' }, { "token-file", required_argument, NULL, 'T' },
		{ "interval", required_argument, NULL, 'i' }, { "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' }, {},
	};
	struct top t = {
		.server = client__server(), .token_file = client__token_file(),
		.interval_s = TOP_DEFAULT_INTERVAL, .sort = SORT_CPU,
	};
	bool once = false;
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S': t.server = optarg; break;
		case 'T': t.token_file = optarg; break;
		case 'i':
			if (parse_interval(optarg, &t.interval_s))
				return 2;
			break;
		case 'o': once = true; break;
		case 'h': usage(stdout); return 0;
		case ':': ww_err("option %s needs a value", argv[optind - 1]); return 2;
		default: ww_err("unknown option '%s' (see workerwatch top --help)", argv[optind - 1]); return 2;
		}
	}
	if (optind < argc) {
		ww_err("top takes no arguments, not '%s' (see workerwatch top --help)", argv[optind]);
		return 2;
	}
	return once ? run_once(&t) : run_interactive(&t);
}
