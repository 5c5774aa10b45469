// SPDX-License-Identifier: MIT
/* The mixin (tools/mixin/): promtool on the rules, and a real Prometheus scraping two daemons for every panel and rule. */
#include <arpa/inet.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "harness.h"
#include "sink.h"
#include "wwd.h"

#define PROMETHEUS "/usr/bin/prometheus"
#define PROMTOOL "/usr/bin/promtool"

/* The repository: the current directory under make check, else the parent of --bin. */
static bool mixin_dir(char *out, size_t size)
{
	char bin[PATH_MAX];

	if (getcwd(out, size) && strlen(out) + 20 < size) {
		memcpy(out + strlen(out), "/tools/mixin", sizeof("/tools/mixin"));
		if (!access(out, R_OK))
			return true;
	}
	if (!realpath(harness__bin(), bin))
		return false;
	*strrchr(bin, '/') = 0;
	if (strlen(bin) + sizeof("/tools/mixin") > size)
		return false;
	memcpy(out, bin, strlen(bin));
	memcpy(out + strlen(bin), "/tools/mixin", sizeof("/tools/mixin"));
	return !access(out, R_OK);
}

static int sh(const char *cmd, int timeout_s, struct cmd_result *r)
{
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };

	if (harness__run(argv, timeout_s, r))
		return -1;
	return r->exit_code;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!CHECK(f != NULL, "cannot write %s", path))
		return;
	fputs(text, f);
	fclose(f);
}

/* Every target of every panel, rows' panels included, in order. */
static int each_target(const cJSON *dash, void (*fn)(const cJSON *panel, const cJSON *target, void *ctx), void *ctx)
{
	const cJSON *p, *t;
	int n = 0;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(dash, "panels")) {
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(p, "targets")) {
			fn(p, t, ctx);
			n++;
		}
	}
	return n;
}

static const char *title_of(const cJSON *panel)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(panel, "title")) ?: "?";
}

static void check_target_shape(const cJSON *panel, const cJSON *t, void *ctx)
{
	const char *expr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "expr"));
	const char *uid = cJSON_GetStringValue(harness__get(t, "datasource.uid"));

	(void)ctx;
	CHECK(expr && *expr, "panel '%s' has a target without expr", title_of(panel));
	CHECK(uid && !strcmp(uid, "${datasource}"), "panel '%s' is not on the datasource variable", title_of(panel));
	/* every series selector is scoped to the chosen hosts */
	CHECK(expr && strstr(expr, "instance=~\"$instance\""), "panel '%s' ignores the host variable: %s",
	      title_of(panel), expr ? expr : "");
}

TEST(mixin_rules_pass_promtool_and_their_unit_tests_and_the_dashboard_is_sound)
{
	char dir[PATH_MAX], cmd[PATH_MAX * 2 + 64], path[PATH_MAX + 32];
	const cJSON *p, *v;
	struct cmd_result r;
	int ids[256] = {}, nids = 0, panels = 0;
	bool drill = false, vars[3] = {};
	cJSON *dash;
	char *text;

	SKIP_IF_SANITIZED("promtool and the dashboard's JSON: nothing of this build runs in it");
	if (access(PROMTOOL, X_OK)) {
		harness__skip("%s is not installed (Debian package prometheus; tools/setup.sh test)", PROMTOOL);
		return;
	}
	ASSERT(mixin_dir(dir, sizeof(dir)), "cannot find tools/mixin");
	snprintf(cmd, sizeof(cmd), "%s check rules '%s/rules.yml' 2>&1", PROMTOOL, dir);
	CHECK(sh(cmd, 60, &r) == 0 && strstr(r.out, "SUCCESS"), "promtool check rules:\n%s", r.out);
	harness__free_result(&r);
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s test rules rules_test.yml 2>&1", dir, PROMTOOL);
	CHECK(sh(cmd, 120, &r) == 0 && strstr(r.out, "SUCCESS"), "promtool test rules:\n%s", r.out);
	harness__free_result(&r);

	snprintf(path, sizeof(path), "%s/dashboard.json", dir);
	text = wwd_read_file(path);
	dash = text ? cJSON_Parse(text) : NULL;
	free(text);
	ASSERT(dash, "dashboard.json is not JSON");
	CHECK_STR(harness__str(dash, "uid"), "workerwatch-fleet");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(dash, "panels")) {
		int id = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "id"));
		double x = cJSON_GetNumberValue(harness__get(p, "gridPos.x"));
		double w = cJSON_GetNumberValue(harness__get(p, "gridPos.w"));

		for (int i = 0; i < nids; i++)
			CHECK(ids[i] != id, "panel id %d twice", id);
		if (nids < 256)
			ids[nids++] = id;
		CHECK(x >= 0 && w > 0 && x + w <= 24, "panel '%s' is off the 24-column grid", title_of(p));
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "type")) ?: "", "row")) {
			panels++;
			CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "targets")) > 0,
			      "panel '%s' has no query", title_of(p));
		}
		text = cJSON_PrintUnformatted(p);
		drill |= text && strstr(text, "var-instance=${__value.raw}");
		free(text);
	}
	CHECK(panels >= 30, "only %d panels", panels);
	CHECK(drill, "no panel drills down to a host (var-instance link)");
	cJSON_ArrayForEach(v, harness__get(dash, "templating.list")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "name")) ?: "";

		vars[0] |= !strcmp(name, "job");
		vars[1] |= !strcmp(name, "instance");
		vars[2] |= !strcmp(name, "agent");
	}
	CHECK(vars[0] && vars[1] && vars[2], "the job, instance and agent variables are not all there");
	CHECK(each_target(dash, check_target_shape, NULL) >= 30, "fewer than 30 queries");
	cJSON_Delete(dash);
}

/* ---- a real Prometheus over two daemons ---- */

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The port of the daemon's /metrics listener, from its log. */
static int metrics_port(const struct wwd *d)
{
	static const char *const marker = "serving /metrics on http://127.0.0.1:";
	char path[300];
	char *log, *at;
	int port = 0;

	snprintf(path, sizeof(path), "%s/daemon.log", d->dir);
	log = wwd_read_file(path);
	at = log ? strstr(log, marker) : NULL;
	if (at)
		port = atoi(at + strlen(marker));
	free(log);
	return port;
}

struct prom {
	int pid, port;
	char url[64];
};

/* GET url+path (path already URL-encoded); the parsed body, NULL on failure. */
static cJSON *prom_get(const struct prom *p, const char *path)
{
	char url[8192], *text = NULL;
	cJSON *j = NULL;

	snprintf(url, sizeof(url), "%s%s", p->url, path);
	if (wwd_http("GET", url, NULL, NULL, &text) == 200 && text)
		j = cJSON_Parse(text);
	free(text);
	return j;
}

static void url_encode(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *in && n + 4 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c)) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = 0;
}

/* A range query over the last 40 s: how many series, and how many with a finite value, in *finite. */
static int query_range(const struct prom *p, const char *expr, int *finite, char *err, size_t errsize)
{
	char enc[6000], path[6400];
	const cJSON *s, *v;
	double now = now_s();
	int series = 0;
	cJSON *j;

	*finite = 0;
	url_encode(expr, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/v1/query_range?query=%s&start=%.3f&end=%.3f&step=2", enc, now - 40, now);
	j = prom_get(p, path);
	if (!j || strcmp(harness__str(j, "status") ?: "", "success")) {
		snprintf(err, errsize, "%s", j ? harness__str(j, "error") ?: "?" : "no answer (a bad query is a 400)");
		cJSON_Delete(j);
		return -1;
	}
	cJSON_ArrayForEach(s, harness__get(j, "data.result")) {
		bool any = false;

		series++;
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(s, "values")) {
			const char *val = cJSON_GetStringValue(cJSON_GetArrayItem(v, 1));

			any |= val && isfinite(strtod(val, NULL));
		}
		*finite += any;
	}
	cJSON_Delete(j);
	return series;
}

/* Grafana's variables as a dashboard with every host and agent selected sends them. */
static void expand(const char *expr, char *out, size_t size)
{
	static const struct { const char *var, *value; } vars[] = {
		{ "$__rate_interval", "4s" }, { "$job", ".+" }, { "$instance", ".+" }, { "$agent", ".+" },
	};
	size_t n = 0;

	while (*expr && n + 16 < size) {
		bool done = false;

		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]) && !done; i++)
			if (!strncmp(expr, vars[i].var, strlen(vars[i].var))) {
				n += snprintf(out + n, size - n, "%s", vars[i].value);
				expr += strlen(vars[i].var);
				done = true;
			}
		if (!done)
			out[n++] = *expr++;
	}
	out[n] = 0;
}

struct panel_walk {
	const struct prom *p;
	int queries;
};

static void check_panel_has_data(const cJSON *panel, const cJSON *t, void *ctx)
{
	struct panel_walk *w = ctx;
	const char *expr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "expr")) ?: "";
	char q[4096], err[256];
	int finite, series;

	expand(expr, q, sizeof(q));
	series = query_range(w->p, q, &finite, err, sizeof(err));
	w->queries++;
	CHECK(series > 0 && finite > 0, "panel '%s': %d series, %d with a value (%s): %s", title_of(panel), series,
	      finite, series < 0 ? err : "no data", q);
}

/* A daemon's config: alerting at 1 s, a webhook receiver, and its /metrics listener. */
static void write_config(const char *path, const char *hook, const char *token_file)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "{\"metrics_listen\": \"127.0.0.1:0\", %s%s%s \"evaluation_interval\": \"1s\","
		 " \"receivers\": [{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"%s/hook\"}],"
		 " \"routes\": [{\"match\": [], \"receivers\": [\"hook\"], \"group_wait\": \"0s\","
		 " \"group_interval\": \"1s\", \"repeat_interval\": \"1h\"}]}",
		 token_file ? "\"metrics_token_file\": \"" : "", token_file ?: "", token_file ? "\"," : "", hook);
	write_file(path, text);
}

/*
 * An orchestrator whose children are executions: a sleeper that stays
 * running (in one-second sleeps: never a minute in one syscall, which would
 * be WorkerStuckInSyscall), then 12 short workers, every third failing,
 * spread over a few seconds so that Prometheus sees them end between scrapes.
 */
static int start_workload(struct wwd *d, const char *session)
{
	char fifo[300], script[1024], body[200];
	int orch, status;

	snprintf(fifo, sizeof(fifo), "%s/go", d->dir);
	mkfifo(fifo, 0600);
	snprintf(script, sizeof(script),
		 "read go < %s; (while :; do sleep 1; done) & echo $! > %s/sleeper.pid; i=0; while [ $i -lt 12 ]; do i=$((i+1)); "
		 "if [ $((i %% 3)) = 0 ]; then %s exit 3; else %s cpu 20; fi; sleep 0.4; done",
		 fifo, d->dir, wwd_bin("wwload"), wwd_bin("wwload"));
	orch = harness__spawn((char *[]){ "/bin/sh", "-c", script, NULL }, NULL);
	wwd_sleep_ms(100);
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"%s\"}", orch, session);
	{
		char url[128];

		snprintf(url, sizeof(url), "%s/api/v1/orchestrators", d->url);
		status = wwd_http("POST", url, body, d->token, NULL);
	}
	CHECK(status == 201, "orchestrator answered %d", status);
	wwd_release(fifo);
	return orch;
}

/* The value of a one-sample instant query, or NAN. */
static double instant(const struct prom *p, const char *expr)
{
	char enc[2048], path[2200];
	cJSON *j;
	double v = NAN;

	url_encode(expr, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", enc);
	j = prom_get(p, path);
	if (j && cJSON_GetArraySize(harness__get(j, "data.result")) == 1)
		v = strtod(cJSON_GetStringValue(cJSON_GetArrayItem(harness__get(cJSON_GetArrayItem(harness__get(j, "data.result"), 0), "value"), 1)) ?: "nan", NULL);
	cJSON_Delete(j);
	return v;
}

/* Polls until expr has the value want, up to timeout_s. */
static bool wait_value(const struct prom *p, const char *expr, double want, int timeout_s)
{
	for (int i = 0; i < timeout_s * 5; i++) {
		if (instant(p, expr) == want)
			return true;
		wwd_sleep_ms(200);
	}
	return false;
}

KERNEL_TEST(mixin_prometheus_scrapes_two_daemons_and_every_panel_and_rule_has_data)
{
	char dir[PATH_MAX], yml[PATH_MAX * 2 + 2048], path[PATH_MAX + 32], url[200], cfg[2][640], hostdir[2][300];
	char token_path[300], targets[2][300], a_cfg[700], a_data[700], a_listen[64], *text;
	struct wwd d[2] = {};
	struct prom p = {};
	struct sink *hook = NULL;
	struct panel_walk walk = {};
	const cJSON *g, *rule, *v;
	cJSON *dash = NULL, *j = NULL;
	int mport[2], orch[2] = {}, rules = 0, firing = 0;

	if (access(PROMETHEUS, X_OK)) {
		harness__skip("%s is not installed (Debian package prometheus; tools/setup.sh test)", PROMETHEUS);
		return;
	}
	ASSERT(mixin_dir(dir, sizeof(dir)), "cannot find tools/mixin");
	hook = sink__start();
	ASSERT(hook, "no webhook sink");

	/* host 0: /metrics open on its own listener; host 1: the fleet's token file, as config management puts it */
	snprintf(token_path, sizeof(token_path), "%s", harness__tmp("fleet-metrics.token"));
	write_file(token_path, "0123456789abcdef0123456789abcdef\n");
	chmod(token_path, 0600);
	for (int h = 0; h < 2; h++) {
		snprintf(hostdir[h], sizeof(hostdir[h]), "%s/host%d", harness__tmpdir(), h);
		mkdir(hostdir[h], 0700);
		snprintf(cfg[h], sizeof(cfg[h]), "%s/config.json", hostdir[h]);
		write_config(cfg[h], sink__url(hook), h ? token_path : NULL);
		if (!CHECK(wwd_start_in(&d[h], hostdir[h], cfg[h]), "host %d: no daemon", h))
			goto out;
		mport[h] = metrics_port(&d[h]);
		if (!CHECK(mport[h] > 0, "host %d logs no /metrics listener", h))
			goto out;
	}

	/* the listeners serve /metrics only; the token one refuses a scrape without the token */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", mport[0]);
	CHECK_EQ(wwd_http("GET", url, NULL, NULL, NULL), 200);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/executions", mport[0]);
	CHECK_EQ(wwd_http("GET", url, NULL, NULL, NULL), 404);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v1/stream", mport[0]);
	CHECK_EQ(wwd_http("GET", url, NULL, NULL, NULL), 404);
	/* Prometheus scrapes by the name in its target list, which no daemon can know */
	{
		char cmd[300];
		struct cmd_result r;

		snprintf(cmd, sizeof(cmd), "curl -s -o /dev/null -w '%%{http_code}' -H 'Host: runner-001.example.internal:%d' "
			 "http://127.0.0.1:%d/metrics", mport[0], mport[0]);
		CHECK(sh(cmd, 10, &r) == 0 && !strcmp(r.out, "200"), "a scrape by host name got %s", r.out);
		harness__free_result(&r);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", mport[1]);
	CHECK_EQ(wwd_http("GET", url, NULL, NULL, NULL), 401);
	CHECK_EQ(wwd_http("GET", url, NULL, token_path, NULL), 200);
	/* the API's own per-host token does not open the fleet's listener */
	CHECK_EQ(wwd_http("GET", url, NULL, d[1].token, NULL), 401);

	/* Prometheus with the mixin's rules, file-based discovery, one job per way in */
	for (int h = 0; h < 2; h++) {
		char t[200];

		snprintf(targets[h], sizeof(targets[h]), "%s/targets-%d.json", harness__tmpdir(), h);
		snprintf(t, sizeof(t), "[{\"targets\": [\"127.0.0.1:%d\"], \"labels\": {\"rack\": \"r%d\"}}]\n", mport[h], h);
		write_file(targets[h], t);
	}
	snprintf(yml, sizeof(yml),
		 "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
		 "rule_files: ['%s/rules.yml']\n"
		 "scrape_configs:\n"
		 "  - job_name: workerwatch\n"
		 "    file_sd_configs: [{files: ['%s'], refresh_interval: 1s}]\n"
		 "  - job_name: workerwatch-token\n"
		 "    authorization: {credentials_file: '%s'}\n"
		 "    file_sd_configs: [{files: ['%s'], refresh_interval: 1s}]\n",
		 dir, targets[0], token_path, targets[1]);
	write_file(harness__tmp("prometheus.yml"), yml);
	p.port = free_port();
	snprintf(p.url, sizeof(p.url), "http://127.0.0.1:%d", p.port);
	snprintf(a_cfg, sizeof(a_cfg), "--config.file=%s", harness__tmp("prometheus.yml"));
	snprintf(a_data, sizeof(a_data), "--storage.tsdb.path=%s", harness__tmp("prom-data"));
	snprintf(a_listen, sizeof(a_listen), "--web.listen-address=127.0.0.1:%d", p.port);
	p.pid = harness__spawn((char *[]){ PROMETHEUS, a_cfg, a_data, a_listen, NULL }, harness__tmp("prometheus.log"));
	snprintf(url, sizeof(url), "%s/-/ready", p.url);
	for (int i = 0; i < 150 && wwd_http("GET", url, NULL, NULL, NULL) != 200; i++)
		wwd_sleep_ms(200);
	if (!CHECK(wait_value(&p, "count(up == 1)", 2, 30), "Prometheus does not scrape both hosts: see %s",
		   harness__tmp("prometheus.log")))
		goto out;

	/* the work, on both hosts at once, ending between scrapes */
	for (int h = 0; h < 2; h++)
		orch[h] = start_workload(&d[h], h ? "nightly-b" : "nightly-a");
	for (int h = 0; h < 2; h++)
		CHECK(harness__wait(orch[h], 60) >= 0, "host %d: the orchestrator did not finish", h);
	orch[0] = orch[1] = 0;
	/* both hosts' 12 executions ended, and Prometheus saw it */
	CHECK(wait_value(&p, "sum(workerwatch_execution_duration_seconds_count{agent=\"wwload\"})", 24, 30),
	      "Prometheus did not see 24 ended executions");
	/* the daemons' own rule fired on the 1-in-3 failures (and notified); the central equivalent fires too */
	CHECK(wait_value(&p, "count(workerwatch_alert{alertname=\"AgentHighFailureRate\", alertstate=\"firing\"})", 2, 30),
	      "the daemons' built-in AgentHighFailureRate is not firing on both hosts");
	CHECK(wait_value(&p, "count(ALERTS{alertname=\"AgentHighFailureRate\", alertstate=\"firing\", agent=\"wwload\"})", 2, 30),
	      "the mixin's AgentHighFailureRate does not fire for both hosts as the built-in rule does");
	CHECK(sink__wait_count(hook, 2, 20000), "no notification reached the webhook");
	/* a few more scrapes, so that every rate has two points after the last event */
	wwd_sleep_ms(5000);

	/* no label of ours clashed with a target label, and the alert's host is hostname now */
	CHECK_EQ(instant(&p, "count({__name__=~\"workerwatch_.+|process_.+\", exported_job=~\".+\"} or "
			     "{__name__=~\"workerwatch_.+|process_.+\", exported_instance=~\".+\"}) or vector(0)"), 0);
	CHECK_EQ(instant(&p, "count(workerwatch_alert{host=~\".+\"}) or vector(0)"), 0);
	CHECK(instant(&p, "count(workerwatch_alert{hostname=~\".+\"})") >= 2, "workerwatch_alert has no hostname");

	/* every panel's query has data for both hosts' selection */
	snprintf(path, sizeof(path), "%s/dashboard.json", dir);
	text = wwd_read_file(path);
	dash = text ? cJSON_Parse(text) : NULL;
	free(text);
	ASSERT(dash, "dashboard.json");
	walk.p = &p;
	each_target(dash, check_panel_has_data, &walk);
	CHECK(walk.queries >= 30, "only %d panel queries", walk.queries);
	/* and the variables list both hosts and the agent */
	cJSON_ArrayForEach(v, harness__get(dash, "templating.list")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "name")) ?: "";
		const char *def = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "definition")) ?: "";
		char sel[512], enc[1024], q[1400], label[64];
		const char *open_, *comma;

		/* label_values(SELECTOR, LABEL) */
		if (strncmp(def, "label_values(", 13) || !(comma = strrchr(def, ',')))
			continue;
		open_ = def + 13;
		snprintf(sel, sizeof(sel), "%.*s", (int)(comma - open_), open_);
		expand(sel, q, sizeof(q));
		url_encode(q, enc, sizeof(enc));
		comma += 1 + strspn(comma + 1, " ");
		snprintf(label, sizeof(label), "%.*s", (int)strcspn(comma, ")"), comma);
		snprintf(q, sizeof(q), "/api/v1/label/%s/values?match[]=%s", label, enc);
		j = prom_get(&p, q);
		/* both jobs, both hosts; the one agent */
		CHECK(cJSON_GetArraySize(harness__get(j, "data")) >= (strcmp(name, "agent") ? 2 : 1),
		      "variable %s lists %d values", name, cJSON_GetArraySize(harness__get(j, "data")));
		cJSON_Delete(j);
		j = NULL;
	}

	/* every rule evaluated without error; every recording has data; the alerts that should not fire don't */
	j = prom_get(&p, "/api/v1/rules");
	ASSERT(j, "no /api/v1/rules");
	cJSON_ArrayForEach(g, harness__get(j, "data.groups")) {
		cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(g, "rules")) {
			const char *name = harness__str(rule, "name") ?: "?", *type = harness__str(rule, "type") ?: "";
			char q[300];
			int finite, series;

			rules++;
			CHECK_STR(harness__str(rule, "health"), "ok");
			CHECK(!*(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rule, "lastError")) ?: ""),
			      "rule %s: %s", name, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rule, "lastError")));
			if (!strcmp(type, "recording")) {
				char err[256];

				snprintf(q, sizeof(q), "%s", name);
				series = query_range(&p, q, &finite, err, sizeof(err));
				CHECK(series > 0, "recording rule %s has no data", name);
			} else if (!strcmp(harness__str(rule, "state") ?: "", "firing")) {
				firing++;
				CHECK_STR(name, "AgentHighFailureRate");
			}
		}
	}
	CHECK(rules >= 20, "Prometheus loaded only %d rules", rules);
	CHECK_EQ(firing, 1);

out:
	cJSON_Delete(j);
	cJSON_Delete(dash);
	if (p.pid > 0) {
		kill(p.pid, SIGTERM);
		harness__wait(p.pid, 20);
	}
	for (int h = 0; h < 2; h++) {
		if (orch[h] > 0) {
			kill(orch[h], SIGKILL);
			harness__wait(orch[h], 5);
		}
		snprintf(path, sizeof(path), "%s/sleeper.pid", d[h].dir);
		if (harness__read_long(path) > 0)
			kill((pid_t)harness__read_long(path), SIGKILL);
		wwd_stop(&d[h], SIGTERM);
	}
	sink__stop(hook);
}
