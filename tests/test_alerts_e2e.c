// SPDX-License-Identifier: MIT
/* Alerting end to end: the real daemon and kernel, real workers, Alertmanager and in-process receivers. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include "harness.h"
#include "sink.h"
#include "wwd.h"

#define POLL_MS		100
#define SECRET		"e2e-s3cret"
#define ROUTING_KEY	"0123456789abcdef0123456789abcdef"
#define AM_BIN		"/usr/bin/prometheus-alertmanager"
#define CGROUP_V1_MEM	"/sys/fs/cgroup/memory"
#define MAX_PIDS	8
#define MAX_CGROUPS	2

/* Everything a test starts, so that it is all stopped however the test ends. */
struct fixture {
	struct wwd d;
	bool daemon;
	struct sink *hook, *pd, *am_hook;
	int am_pid, am_port;
	int pids[MAX_PIDS];		/* workers and `workerwatch run`s; 0 once reaped */
	int npids;
	char cgroups[MAX_CGROUPS][300];
	int ncgroups;
	char config[300];
};

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* The sink stamps requests with CLOCK_REALTIME microseconds. */
static __u64 real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static const char *jstr(const cJSON *o, const char *path)
{
	const cJSON *v = harness__get(o, path);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *path)
{
	const cJSON *v = harness__get(o, path);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* --- processes --- */

static void track(struct fixture *f, int pid)
{
	if (pid > 0 && f->npids < MAX_PIDS)
		f->pids[f->npids++] = pid;
}

/* Waits for a tracked process; its wait status, or -1 (then it was killed). */
static int reap(struct fixture *f, int pid, int timeout_s)
{
	for (int i = 0; i < f->npids; i++)
		if (f->pids[i] == pid)
			f->pids[i] = 0;
	return harness__wait(pid, timeout_s);
}

static void fixture_cleanup(struct fixture *f)
{
	/* SIGTERM: `workerwatch run` passes it on to its worker, which SIGKILL would orphan */
	for (int i = 0; i < f->npids; i++)
		if (f->pids[i] > 0)
			kill(f->pids[i], SIGTERM);
	for (int i = 0; i < f->npids; i++)
		if (f->pids[i] > 0)
			reap(f, f->pids[i], 10);
	if (f->daemon)
		wwd_stop(&f->d, SIGTERM);
	f->daemon = false;
	if (f->am_pid > 0) {
		kill(f->am_pid, SIGTERM);
		harness__wait(f->am_pid, 10);
		f->am_pid = 0;
	}
	sink__stop(f->hook);
	sink__stop(f->pd);
	sink__stop(f->am_hook);
	f->hook = f->pd = f->am_hook = NULL;
	/* a memory cgroup can only go once its processes are gone, which takes the kernel a moment */
	for (int i = 0; i < f->ncgroups; i++) {
		int tries = 0;

		while (rmdir(f->cgroups[i]) && errno == EBUSY && tries++ < 50)
			wwd_sleep_ms(POLL_MS);
		CHECK(access(f->cgroups[i], F_OK), "cannot remove the cgroup %s: %s", f->cgroups[i], strerror(errno));
	}
	f->ncgroups = 0;
}

/* --- HTTP --- */

/* A port nobody listens on now: the kernel picks it for a socket that is closed again. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = 0;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* --- the daemon, its config and its workers --- */

static void write_file(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void write_file(const char *path, const char *fmt, ...)
{
	FILE *fp = fopen(path, "w");
	va_list ap;

	if (!CHECK(fp != NULL, "cannot write %s: %s", path, strerror(errno)))
		return;
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	CHECK(fclose(fp) == 0, "cannot write %s", path);
}

/*
 * The test rule on CPU use, short enough for a test: a 2 s average above
 * threshold for 1 s. match is the JSON array's content; extra more keys.
 * The workers spin: a low threshold keeps them above it even when other
 * work starves them of a core (these tests are about delivery, not CPU).
 */
#define CPU_THRESHOLD 5	/* % of a core */

static void cpu_rule(char *buf, size_t size, const char *match, int threshold, const char *extra)
{
	snprintf(buf, size,
		 "{\"id\": \"cpu-hot\", \"alertname\": \"WorkerHighCPU\", \"metric\": \"cpu_percent\","
		 " \"scope\": {\"level\": \"execution\", \"match\": [%s]}, \"window\": \"2s\", \"reduce\": \"avg\","
		 " \"op\": \">\", \"threshold\": %d, \"for\": \"1s\", \"severity\": \"warning\","
		 " \"annotations\": {\"summary\": \"CPU {{value}}%% on {{labels.agent}}\"}%s}",
		 match, threshold, extra ? extra : "");
}

/* The daemon's config: fast evaluation, the given rules, receivers and routes (JSON array contents). */
static bool start_daemon(struct fixture *f, const char *rules, const char *receivers, const char *routes)
{
	bool started;

	snprintf(f->config, sizeof(f->config), "%s", harness__tmp("config.json"));
	write_file(f->config, "{\"evaluation_interval\": \"1s\",\n \"rules\": [%s],\n \"receivers\": [%s],\n"
		   " \"routes\": [%s]}\n", rules, receivers, routes);
	started = wwd_start_opts(&f->d, f->config);
	/* one that hangs before listening is stopped at the end too */
	f->daemon = started || (f->d.pid > 0 && kill(f->d.pid, 0) == 0);
	return started;
}

/* A webhook receiver "hook" on the fixture's sink (and a secret when given). */
static void hook_receiver(struct fixture *f, char *buf, size_t size, const char *secret)
{
	snprintf(buf, size, "{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"%s/hook\"%s%s%s}",
		 sink__url(f->hook), secret ? ", \"secret\": \"" : "", secret ? secret : "", secret ? "\"" : "");
}

#define FAST_ROUTE(receivers) \
	"{\"receivers\": [" receivers "], \"group_wait\": \"0s\", \"group_interval\": \"1s\"}"

/* `workerwatch run` of a CPU burner for ms milliseconds, registered with the daemon. */
static int run_cpu_worker(struct fixture *f, const char *session, const char *agent, const char *ms)
{
	char out[64];
	int pid;

	snprintf(out, sizeof(out), "run-%s.log", agent);
	pid = harness__spawn((char *[]){ (char *)wwd_bin("workerwatch"), "run", "--server", f->d.url, "--token-file",
					 f->d.token, "--session", (char *)session, "--agent", (char *)agent, "--",
					 (char *)wwd_bin("wwload"), "cpu", (char *)ms, NULL },
			     harness__tmp(out));
	track(f, pid);
	return pid;
}

/*
 * A worker running cmd, held until it is attached as agent (after its pid
 * went into cgroup, when given); its execution id in *id. Its pid, or -1.
 */
static int held_worker(struct fixture *f, const char *agent, const char *cmd, const char *cgroup, double *id)
{
	char fifo[300], body[300], procs[400], pidtext[16];
	cJSON *j = NULL;
	int pid, status;

	snprintf(fifo, sizeof(fifo), "%s", harness__tmp(agent));
	pid = wwd_spawn_held(fifo, cmd);
	track(f, pid);
	if (!CHECK(pid > 0, "cannot start %s", cmd))
		return -1;
	wwd_sleep_ms(100);
	if (cgroup) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
		snprintf(pidtext, sizeof(pidtext), "%d", pid);
		write_file(procs, "%s\n", pidtext);
	}
	snprintf(body, sizeof(body), "{\"pid\": %d, \"session\": \"e2e\", \"agent\": \"%s\"}", pid, agent);
	status = wwd_api(&f->d, "POST", "/api/v1/executions", body, true, &j);
	*id = jnum(j, "id");
	cJSON_Delete(j);
	if (!CHECK(status == 201, "attaching %s answered %d", agent, status))
		return -1;
	/* a held shell that died would block the release forever */
	if (!CHECK(kill(pid, 0) == 0, "the held worker %s died", agent))
		return -1;
	wwd_release(fifo);
	return pid;
}

/* --- alerts as the API shows them --- */

/* The first alert with this name, label value and state (NULL: any): a copy to free, or NULL. */
static cJSON *find_alert(struct fixture *f, const char *alertname, const char *label, const char *value,
			 const char *state)
{
	cJSON *list = NULL, *a, *found = NULL;
	char path[64];

	snprintf(path, sizeof(path), "labels.%s", label);
	if (wwd_api(&f->d, "GET", "/api/v1/alerts", NULL, true, &list) == 200)
		cJSON_ArrayForEach(a, list)
			if (!strcmp(jstr(a, "alertname"), alertname) && !strcmp(jstr(a, path), value) &&
			    (!state || !strcmp(jstr(a, "state"), state))) {
				found = cJSON_Duplicate(a, true);
				break;
			}
	cJSON_Delete(list);
	return found;
}

static cJSON *wait_alert(struct fixture *f, const char *alertname, const char *label, const char *value,
			 const char *state, int timeout_ms)
{
	for (__u64 end = mono_ms() + timeout_ms;; wwd_sleep_ms(POLL_MS)) {
		cJSON *a = find_alert(f, alertname, label, value, state);

		if (a || mono_ms() > end)
			return a;
	}
}

/* GET /api/v1/alerts/ID until its state is state; the last answer (to free), or NULL. */
static cJSON *wait_alert_state(struct fixture *f, const char *id, const char *state, int timeout_ms)
{
	char path[64];
	cJSON *a = NULL;

	snprintf(path, sizeof(path), "/api/v1/alerts/%s", id);
	for (__u64 end = mono_ms() + timeout_ms;; wwd_sleep_ms(POLL_MS)) {
		cJSON_Delete(a);
		a = NULL;
		if (wwd_api(&f->d, "GET", path, NULL, true, &a) == 200 && !strcmp(jstr(a, "state"), state))
			return a;
		if (mono_ms() > end)
			return a;
	}
}

/* The outbox rows of a receiver (and state, when given). */
static cJSON *notifications(struct fixture *f, const char *receiver, const char *state)
{
	char path[128];
	cJSON *j = NULL;

	snprintf(path, sizeof(path), "/api/v1/notifications?receiver=%s%s%s", receiver, state ? "&state=" : "",
		 state ? state : "");
	CHECK(wwd_api(&f->d, "GET", path, NULL, true, &j) == 200 && cJSON_IsArray(j), "GET %s failed", path);
	return j;
}

/* --- what the receivers got --- */

static bool delivered(const struct sink_request *rq)
{
	return rq->status >= 200 && rq->status < 300;
}

/* Whether a webhook body (ours or Alertmanager's) of this status (NULL: any) holds the alert fp. */
static bool hook_about(const struct sink_request *rq, const char *fp, const char *status)
{
	cJSON *body = cJSON_Parse(rq->body);
	const cJSON *a;
	bool found = false;

	if (!status || !strcmp(jstr(body, "status"), status))
		cJSON_ArrayForEach(a, harness__get(body, "alerts"))
			found |= !strcmp(jstr(a, "fingerprint"), fp);
	cJSON_Delete(body);
	return found;
}

/* Delivered webhook notifications about fp, of status (NULL: any), answered after after_us. */
static int hook_count(struct sink *s, const char *fp, const char *status, __u64 after_us)
{
	int n = 0;

	for (int i = 0; i < sink__count(s); i++) {
		struct sink_request rq = sink__request(s, i);

		n += delivered(&rq) && rq.at_us > after_us && hook_about(&rq, fp, status);
	}
	return n;
}

static bool wait_hook(struct sink *s, const char *fp, const char *status, int n, int timeout_ms)
{
	for (__u64 end = mono_ms() + timeout_ms; hook_count(s, fp, status, 0) < n; wwd_sleep_ms(POLL_MS))
		if (mono_ms() > end)
			return false;
	return true;
}

/* PagerDuty events of this action with this dedup_key (NULL: any) about fp (NULL: any; triggers only). */
static int pd_count(struct sink *s, const char *action, const char *dedup, const char *fp)
{
	int n = 0;

	for (int i = 0; i < sink__count(s); i++) {
		struct sink_request rq = sink__request(s, i);
		cJSON *body = cJSON_Parse(rq.body);
		const cJSON *a;
		bool about = !fp;

		cJSON_ArrayForEach(a, harness__get(body, "payload.custom_details.alerts"))
			about |= fp && !strcmp(jstr(a, "fingerprint"), fp);
		n += delivered(&rq) && about && !strcmp(jstr(body, "event_action"), action) &&
		     (!dedup || !strcmp(jstr(body, "dedup_key"), dedup));
		cJSON_Delete(body);
	}
	return n;
}

/* "sha256=" and the hex HMAC-SHA256 of body under key, as a receiver checks it. */
static void hmac_signature(const char *key, const char *body, size_t len, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t n;

	n = (size_t)snprintf(out, size, "sha256=");
	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len, md, &mdlen);
	for (unsigned int i = 0; i < mdlen && n + 3 <= size; i++)
		n += (size_t)snprintf(out + n, size - n, "%02x", md[i]);
}

/* The PagerDuty dedup_key of an escalation of alert id: "ww-" host "-" 32 hex digits of sha256(group key). */
static void escalation_dedup(const char *host, const char *id, char *out, size_t size)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char key[128];
	size_t n;

	snprintf(key, sizeof(key), "{}/{escalation=\"1\"}:{fingerprint=\"%s\"}", id);
	SHA256((const unsigned char *)key, strlen(key), md);
	n = (size_t)snprintf(out, size, "ww-%s-", host);
	for (int i = 0; i < 16 && n + 3 <= size; i++)
		n += (size_t)snprintf(out + n, size - n, "%02x", md[i]);
}

/* A counter of /metrics by its exact series text; -1 when absent. */
static double metric_value(struct fixture *f, const char *series)
{
	char url[128], *text = NULL, *at;
	double v = -1;

	snprintf(url, sizeof(url), "%s/metrics", f->d.url);
	if (wwd_http("GET", url, NULL, NULL, &text) == 200 && text && (at = strstr(text, series)))
		v = strtod(at + strlen(series), NULL);
	free(text);
	return v;
}

/* Whether /metrics has the series workerwatch_alert{alertstate="STATE",...} of the alert with this label value. */
static bool alert_series(struct fixture *f, const char *state, const char *label, const char *value)
{
	char url[128], want_state[64], want_label[192], *text = NULL, *line, *save = NULL;
	bool found = false;

	snprintf(url, sizeof(url), "%s/metrics", f->d.url);
	snprintf(want_state, sizeof(want_state), "alertstate=\"%s\"", state);
	snprintf(want_label, sizeof(want_label), "%s=\"%s\"", label, value);
	if (wwd_http("GET", url, NULL, NULL, &text) == 200 && text)
		for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
			found = !strncmp(line, "workerwatch_alert{", 18) && strstr(line, want_state) &&
				strstr(line, want_label);
	free(text);
	return found;
}

/* The states alert id went through by the ALERT lines of the event log: "pending firing resolved". */
static void logged_states(struct fixture *f, const char *id, char *out, size_t size)
{
	char path[400], *text, *line, *save = NULL, last[32] = "";
	size_t n = 0;

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/log/events.jsonl", f->d.dir);
	text = wwd_read_file(path);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *ev = cJSON_Parse(line);
		const char *state = jstr(ev, "state");

		/* an ack or a flag change is logged too, in the same state */
		if (!strcmp(jstr(ev, "event"), "ALERT") && !strcmp(jstr(ev, "id"), id) && strcmp(state, last) &&
		    n + strlen(state) + 2 < size) {
			snprintf(last, sizeof(last), "%s", state);
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? " " : "", state);
		}
		cJSON_Delete(ev);
	}
	free(text);
}

/* --- Alertmanager --- */

/* Alertmanager on a free loopback port, sending every group to a webhook on f->am_hook. */
static bool am_start(struct fixture *f)
{
	char yml[300], data[300], a_cfg[340], a_data[340], a_listen[64], a_url[80], ready[80];
	int status = 0;

	f->am_hook = sink__start();
	f->am_port = free_port();
	if (!CHECK(f->am_hook && f->am_port > 0, "no sink or port for Alertmanager"))
		return false;
	snprintf(yml, sizeof(yml), "%s", harness__tmp("am.yml"));
	snprintf(data, sizeof(data), "%s", harness__tmp("am-data"));
	mkdir(data, 0700);
	write_file(yml,
		   "route:\n"
		   "  receiver: sink\n"
		   "  group_by: ['alertname', 'agent']\n"
		   "  group_wait: 1s\n"
		   "  group_interval: 2s\n"
		   "  repeat_interval: 1h\n"
		   "receivers:\n"
		   "  - name: sink\n"
		   "    webhook_configs:\n"
		   "      - url: '%s/hook'\n"
		   "        send_resolved: true\n", sink__url(f->am_hook));
	snprintf(a_cfg, sizeof(a_cfg), "--config.file=%s", yml);
	snprintf(a_data, sizeof(a_data), "--storage.path=%s", data);
	snprintf(a_listen, sizeof(a_listen), "--web.listen-address=127.0.0.1:%d", f->am_port);
	snprintf(a_url, sizeof(a_url), "--web.external-url=http://127.0.0.1:%d", f->am_port);
	/* no cluster: it would listen on every address and wait for peers */
	f->am_pid = harness__spawn((char *[]){ AM_BIN, a_cfg, a_data, a_listen, "--cluster.listen-address=", a_url,
					       NULL }, harness__tmp("alertmanager.log"));
	snprintf(ready, sizeof(ready), "http://127.0.0.1:%d/-/ready", f->am_port);
	for (__u64 end = mono_ms() + 15000; mono_ms() < end; wwd_sleep_ms(POLL_MS)) {
		if (wwd_http("GET", ready, NULL, NULL, NULL) == 200)
			return true;
		if (waitpid(f->am_pid, &status, WNOHANG) == f->am_pid) {
			f->am_pid = 0;
			break;
		}
	}
	return CHECK(false, "Alertmanager is not ready: see %s", harness__tmp("alertmanager.log"));
}

/* GET /api/v2/alerts?filter=alertname="NAME" of the test's Alertmanager. */
static cJSON *am_alerts(struct fixture *f, const char *alertname)
{
	char url[200], *text = NULL;
	cJSON *j = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v2/alerts?filter=alertname%%3D%%22%s%%22", f->am_port,
		 alertname);
	if (wwd_http("GET", url, NULL, NULL, &text) == 200 && text)
		j = cJSON_Parse(text);
	free(text);
	return j;
}

static bool same_labels(const cJSON *x, const cJSON *y)
{
	const cJSON *l;

	if (cJSON_GetArraySize(x) != cJSON_GetArraySize(y))
		return false;
	cJSON_ArrayForEach(l, x)
		if (!cJSON_IsString(l) || strcmp(l->valuestring, jstr(y, l->string)))
			return false;
	return true;
}

static void alertmanager_body(struct fixture *f)
{
	char rule[1024], receivers[300], id[32], states[128];
	cJSON *alert = NULL, *am = NULL, *a;
	int run, status;
	bool gone = false;

	if (access(AM_BIN, X_OK)) {
		printf("    skip: %s is not installed\n", AM_BIN);
		return;
	}
	ASSERT(am_start(f), "no Alertmanager");
	cpu_rule(rule, sizeof(rule), "\"agent=\\\"builder\\\"\"", CPU_THRESHOLD, NULL);
	snprintf(receivers, sizeof(receivers),
		 "{\"name\": \"am\", \"type\": \"alertmanager\", \"url\": \"http://127.0.0.1:%d\"}", f->am_port);
	ASSERT(start_daemon(f, rule, receivers, FAST_ROUTE("\"am\"")), "no daemon");
	run = run_cpu_worker(f, "am-1", "builder", "6000");

	alert = wait_alert(f, "WorkerHighCPU", "agent", "builder", "firing", 20000);
	ASSERT(alert, "WorkerHighCPU did not fire for builder");
	snprintf(id, sizeof(id), "%s", jstr(alert, "id"));
	for (__u64 end = mono_ms() + 10000; mono_ms() < end; wwd_sleep_ms(POLL_MS)) {
		cJSON_Delete(am);
		am = am_alerts(f, "WorkerHighCPU");
		if (cJSON_GetArraySize(am) > 0)
			break;
	}
	CHECK_EQ(cJSON_GetArraySize(am), 1);
	a = cJSON_GetArrayItem(am, 0);
	CHECK_STR(jstr(a, "fingerprint"), id);
	CHECK(same_labels(harness__get(a, "labels"), harness__get(alert, "labels")),
	      "Alertmanager's labels differ from the daemon's");
	CHECK_STR(jstr(a, "status.state"), "active");
	cJSON_Delete(am);
	am = NULL;
	CHECK(alert_series(f, "firing", "execution_id", jstr(alert, "labels.execution_id")),
	      "no workerwatch_alert{alertstate=\"firing\"} series in /metrics");

	status = reap(f, run, 60);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "workerwatch run: status %d", status);
	cJSON_Delete(alert);
	alert = wait_alert_state(f, id, "resolved", 15000);
	CHECK_STR(jstr(alert, "state"), "resolved");
	CHECK_STR(jstr(alert, "resolve_reason"), "execution_ended");
	for (__u64 end = mono_ms() + 10000; !gone && mono_ms() < end; wwd_sleep_ms(POLL_MS)) {
		cJSON_Delete(am);
		am = am_alerts(f, "WorkerHighCPU");
		gone = cJSON_IsArray(am) && cJSON_GetArraySize(am) == 0;
	}
	CHECK(gone, "Alertmanager still lists the resolved alert");

	/* Alertmanager's own webhook: one firing, then one resolved, of the same group */
	CHECK(wait_hook(f->am_hook, id, "resolved", 1, 10000), "Alertmanager sent no resolved notification");
	CHECK_EQ(hook_count(f->am_hook, id, "firing", 0), 1);
	CHECK_EQ(hook_count(f->am_hook, id, "resolved", 0), 1);
	for (int i = 0; i < sink__count(f->am_hook); i++) {
		struct sink_request rq = sink__request(f->am_hook, i);
		cJSON *body = cJSON_Parse(rq.body);

		CHECK(strstr(jstr(body, "groupKey"), "alertname=\"WorkerHighCPU\""), "group key %s",
		      jstr(body, "groupKey"));
		cJSON_Delete(body);
	}
	for (__u64 end = mono_ms() + 5000; mono_ms() < end; wwd_sleep_ms(POLL_MS)) {
		logged_states(f, id, states, sizeof(states));
		if (!strcmp(states, "pending firing resolved"))
			break;
	}
	CHECK(!strcmp(states, "pending firing resolved"), "the event log shows the alert going through '%s'", states);
	cJSON_Delete(am);
	cJSON_Delete(alert);
}

KERNEL_TEST(alerting_e2e_alertmanager_gets_the_same_fingerprint_and_the_resolve)
{
	struct fixture f = {};

	alertmanager_body(&f);
	fixture_cleanup(&f);
}

static void outage_body(struct fixture *f)
{
	char rule[1024], receivers[300], id[32], firing_id[64] = "", want[160];
	struct sink_request ok[2];
	cJSON *alert = NULL, *rows, *row;
	int run, nok = 0, n, same = 0, i429 = -1;
	double retries;

	f->hook = sink__start();
	ASSERT(f->hook, "no sink");
	ASSERT(sink__script(f->hook, "503,503,503,429:1") == 0, "bad script");
	cpu_rule(rule, sizeof(rule), "\"agent=\\\"builder\\\"\"", CPU_THRESHOLD, NULL);
	hook_receiver(f, receivers, sizeof(receivers), SECRET);
	ASSERT(start_daemon(f, rule, receivers, FAST_ROUTE("\"hook\"")), "no daemon");
	run = run_cpu_worker(f, "outage", "builder", "6000");

	alert = wait_alert(f, "WorkerHighCPU", "agent", "builder", "firing", 20000);
	ASSERT(alert, "WorkerHighCPU did not fire for builder");
	snprintf(id, sizeof(id), "%s", jstr(alert, "id"));
	reap(f, run, 60);
	cJSON_Delete(alert);
	alert = wait_alert_state(f, id, "resolved", 15000);
	CHECK_STR(jstr(alert, "state"), "resolved");
	cJSON_Delete(alert);

	/* 503 x3 and 429 are retried; the resolve waits behind the firing */
	for (__u64 end = mono_ms() + 30000; mono_ms() < end && hook_count(f->hook, id, NULL, 0) < 2;)
		wwd_sleep_ms(POLL_MS);
	n = sink__count(f->hook);
	for (int i = 0; i < n; i++) {
		struct sink_request rq = sink__request(f->hook, i);

		if (delivered(&rq) && nok < 2)
			ok[nok] = rq;
		nok += delivered(&rq);
		if (rq.status == 429 && i429 < 0)
			i429 = i;
		hmac_signature(SECRET, rq.body, rq.body_len, want, sizeof(want));
		CHECK(!strcmp(rq.signature, want), "request %d: signature '%s', wanted '%s'", i, rq.signature, want);
	}
	ASSERT(nok == 2, "%d notifications delivered, wanted a firing and a resolved", nok);
	CHECK(hook_about(&ok[0], id, "firing"), "the first delivered is not the firing");
	CHECK(hook_about(&ok[1], id, "resolved"), "the second delivered is not the resolved");
	snprintf(firing_id, sizeof(firing_id), "%s", ok[0].delivery);
	for (int i = 0; i < n; i++)
		same += !strcmp(sink__request(f->hook, i).delivery, firing_id);
	CHECK(n >= 6, "%d requests: the failed attempts were not retried", n);
	CHECK_EQ(same, 5);
	ASSERT(i429 >= 0 && i429 + 1 < n, "no attempt after the 429");
	CHECK(sink__request(f->hook, i429 + 1).at_us - sink__request(f->hook, i429).at_us >= 1000000,
	      "the attempt after 'Retry-After: 1' came %.3f s later",
	      (sink__request(f->hook, i429 + 1).at_us - sink__request(f->hook, i429).at_us) / 1e6);

	rows = notifications(f, "hook", NULL);
	CHECK_EQ(cJSON_GetArraySize(rows), 2);
	cJSON_ArrayForEach(row, rows) {
		CHECK_STR(jstr(row, "state"), "sent");
		if (!strcmp(jstr(row, "delivery_id"), firing_id)) {
			CHECK_STR(jstr(row, "kind"), "firing");
			CHECK(jnum(row, "attempts") > 1, "the firing was sent at the first attempt");
			CHECK_EQ(jnum(row, "attempts"), same);
		} else {
			CHECK_STR(jstr(row, "kind"), "resolved");
			CHECK_EQ(jnum(row, "attempts"), 1);
		}
	}
	cJSON_Delete(rows);
	retries = metric_value(f, "workerwatch_notifications_total"
				  "{receiver=\"hook\",type=\"webhook\",result=\"retry\"}");
	CHECK(retries >= 4, "workerwatch_notifications_total of retries is %g", retries);
}

KERNEL_TEST(alerting_e2e_webhook_outage_is_retried_in_order_and_signed)
{
	struct fixture f = {};

	outage_body(&f);
	fixture_cleanup(&f);
}

static void crash_body(struct fixture *f)
{
	char rule[1024], receivers[300], id[32], path[64], delivery[64] = "", fired_at[64], script[256] = "";
	cJSON *alert = NULL, *rows = NULL;
	int worker, firings = 0;
	double exec_id;
	bool sent = false;

	/* more 503s than the outage lasts: the rest are drained by hand below */
	for (int i = 0; i < 20; i++)
		strcat(script, i ? ",503" : "503");
	f->hook = sink__start();
	ASSERT(f->hook, "no sink");
	ASSERT(sink__script(f->hook, script) == 0, "bad script");
	cpu_rule(rule, sizeof(rule), "\"agent=\\\"builder\\\"\"", CPU_THRESHOLD, NULL);
	hook_receiver(f, receivers, sizeof(receivers), NULL);
	ASSERT(start_daemon(f, rule, receivers, FAST_ROUTE("\"hook\"")), "no daemon");
	snprintf(path, sizeof(path), "%s cpu 60000", wwd_bin("wwload"));
	worker = held_worker(f, "builder", path, NULL, &exec_id);
	ASSERT(worker > 0, "no worker");

	alert = wait_alert(f, "WorkerHighCPU", "agent", "builder", "firing", 20000);
	ASSERT(alert, "WorkerHighCPU did not fire for builder");
	snprintf(id, sizeof(id), "%s", jstr(alert, "id"));
	snprintf(fired_at, sizeof(fired_at), "%s", jstr(alert, "fired_at"));
	cJSON_Delete(alert);
	/* mid-outage: the firing notification failed at least once and waits for its next attempt */
	for (__u64 end = mono_ms() + 10000; !delivery[0] && mono_ms() < end; wwd_sleep_ms(POLL_MS)) {
		const cJSON *row;

		cJSON_Delete(rows);
		rows = notifications(f, "hook", "pending");
		cJSON_ArrayForEach(row, rows)
			if (!strcmp(jstr(row, "kind"), "firing") && jnum(row, "attempts") >= 1)
				snprintf(delivery, sizeof(delivery), "%s", jstr(row, "delivery_id"));
	}
	cJSON_Delete(rows);
	ASSERT(delivery[0], "no pending firing notification that failed");

	wwd_stop(&f->d, SIGKILL);
	f->daemon = false;
	kill(worker, SIGKILL);
	reap(f, worker, 10);
	/* the receiver is back: use up its remaining 503s */
	for (int i = 0; i < 64; i++) {
		char url[128];

		snprintf(url, sizeof(url), "%s/drain", sink__url(f->hook));
		if (wwd_http("POST", url, "{}", NULL, NULL) == 200)
			break;
	}
	ASSERT(start_daemon(f, rule, receivers, FAST_ROUTE("\"hook\"")), "no daemon after kill -9");

	snprintf(path, sizeof(path), "/api/v1/alerts/%s", id);
	CHECK(wwd_api(&f->d, "GET", path, NULL, true, &alert) == 200, "the alert is gone after the restart");
	CHECK_STR(jstr(alert, "fired_at"), fired_at);
	cJSON_Delete(alert);
	for (__u64 end = mono_ms() + 15000; !sent && mono_ms() < end; wwd_sleep_ms(POLL_MS))
		for (int i = 0; i < sink__count(f->hook) && !sent; i++) {
			struct sink_request rq = sink__request(f->hook, i);

			sent = delivered(&rq) && !strcmp(rq.delivery, delivery) && hook_about(&rq, id, "firing");
		}
	CHECK(sent, "the firing notification %s was not delivered after the restart", delivery);
	alert = wait_alert_state(f, id, "resolved", 15000);
	CHECK_STR(jstr(alert, "state"), "resolved");
	CHECK_STR(jstr(alert, "resolve_reason"), "execution_ended");
	cJSON_Delete(alert);
	CHECK(wait_hook(f->hook, id, "resolved", 1, 15000), "the resolved notification was not delivered");
	/* no second page for the same episode, not even a little later */
	wwd_sleep_ms(2000);
	CHECK_EQ(hook_count(f->hook, id, "firing", 0), 1);
	CHECK_EQ(hook_count(f->hook, id, "resolved", 0), 1);
	rows = notifications(f, "hook", NULL);
	{
		const cJSON *row;

		cJSON_ArrayForEach(row, rows) {
			CHECK_STR(jstr(row, "state"), "sent");
			firings += strcmp(jstr(row, "kind"), "resolved") != 0;
			if (!strcmp(jstr(row, "delivery_id"), delivery))
				CHECK(jnum(row, "attempts") >= 2, "attempts %g", jnum(row, "attempts"));
		}
	}
	CHECK_EQ(firings, 1);
	cJSON_Delete(rows);
}

KERNEL_TEST(alerting_e2e_kill_9_mid_outage_loses_no_notification)
{
	struct fixture f = {};

	crash_body(&f);
	fixture_cleanup(&f);
}

/* The ACK column of `workerwatch alerts` for alert id; "" when it is not listed. */
static void cli_ack_column(struct fixture *f, const char *id, char *ack, size_t size)
{
	struct cmd_result r;
	char *line, *save = NULL;

	ack[0] = 0;
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "alerts", "--server", f->d.url, "--token-file",
				 f->d.token, NULL }, 30, &r);
	CHECK(r.exit_code == 0, "workerwatch alerts: %d %s", r.exit_code, r.err);
	for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char lid[32], state[32], sev[32], col[8];

		if (sscanf(line, "%31s %31s %31s %7s", lid, state, sev, col) == 4 && !strcmp(lid, id))
			snprintf(ack, size, "%s", col);
	}
	harness__free_result(&r);
}

/* The "repeat" notifications queued to the webhook for the group of agent. */
static int repeats(struct fixture *f, const char *agent)
{
	cJSON *rows = notifications(f, "hook", NULL);
	const cJSON *row;
	char want[96];
	int n = 0;

	snprintf(want, sizeof(want), "agent=\"%s\"", agent);
	cJSON_ArrayForEach(row, rows)
		n += !strcmp(jstr(row, "kind"), "repeat") && strstr(jstr(row, "group_key"), want);
	cJSON_Delete(rows);
	return n;
}

static void ack_body(struct fixture *f)
{
	char rule[1536], receivers[600], hook[300], cmd[300], acked[32], control[32], host[64];
	char acked_dedup[128], control_dedup[128], col[8];
	struct cmd_result r;
	cJSON *a = NULL, *b = NULL, *rows;
	const cJSON *row;
	double id1, id2;
	int control_repeats = 0, acked_repeats = 0, acked_escalations = 0;
	__u64 t_ack;

	f->hook = sink__start();
	f->pd = sink__start();
	ASSERT(f->hook && f->pd, "no sinks");
	/* both agents stay far above the threshold, even on a loaded machine */
	cpu_rule(rule, sizeof(rule), "\"agent=~\\\"builder|control\\\"\"", CPU_THRESHOLD,
		 ", \"escalate\": [{\"after\": \"3s\", \"receivers\": [\"pd\"]}]");
	hook_receiver(f, hook, sizeof(hook), NULL);
	snprintf(receivers, sizeof(receivers), "%s,\n {\"name\": \"pd\", \"type\": \"pagerduty\", \"routing_key\": \""
		 ROUTING_KEY "\", \"url\": \"%s/v2/enqueue\"}", hook, sink__url(f->pd));
	ASSERT(start_daemon(f, rule, receivers,
			    "{\"receivers\": [\"hook\"], \"group_wait\": \"0s\", \"group_interval\": \"1s\","
			    " \"repeat_interval\": \"2s\"}"), "no daemon");
	snprintf(cmd, sizeof(cmd), "%s cpu 30000", wwd_bin("wwload"));
	ASSERT(held_worker(f, "builder", cmd, NULL, &id1) > 0, "no worker");
	ASSERT(held_worker(f, "control", cmd, NULL, &id2) > 0, "no control worker");

	/* ack the first as soon as it fires, long before its escalation is due */
	a = wait_alert(f, "WorkerHighCPU", "agent", "builder", "firing", 20000);
	ASSERT(a, "WorkerHighCPU did not fire for builder");
	snprintf(acked, sizeof(acked), "%s", jstr(a, "id"));
	snprintf(host, sizeof(host), "%s", jstr(a, "labels.host"));
	/* its first page is out before the ack, so that anything after the ack is a repeat or an escalation */
	CHECK(wait_hook(f->hook, acked, "firing", 1, 2500), "the firing did not reach the webhook");
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "ack", acked, "--comment", "x", "--server", f->d.url,
				 "--token-file", f->d.token, NULL }, 30, &r);
	t_ack = real_us();
	CHECK(r.exit_code == 0, "workerwatch ack: %d %s", r.exit_code, r.err);
	CHECK(strstr(r.out, "acknowledged") != NULL, "workerwatch ack printed: %s", r.out);
	harness__free_result(&r);
	cJSON_Delete(a);
	a = wait_alert_state(f, acked, "firing", 1000);
	CHECK(cJSON_IsTrue(harness__get(a, "acknowledged")), "the alert is not acknowledged");
	CHECK_STR(jstr(a, "ack.comment"), "x");
	ASSERT(jnum(a, "escalations") == 0, "the alert escalated before the ack");
	cli_ack_column(f, acked, col, sizeof(col));
	CHECK(!strcmp(col, "yes"), "workerwatch alerts shows ACK '%s' for the acknowledged alert", col);

	b = wait_alert(f, "WorkerHighCPU", "agent", "control", "firing", 20000);
	ASSERT(b, "WorkerHighCPU did not fire for control");
	snprintf(control, sizeof(control), "%s", jstr(b, "id"));
	cli_ack_column(f, control, col, sizeof(col));
	CHECK(!strcmp(col, "no"), "workerwatch alerts shows ACK '%s' for the control alert", col);

	/*
	 * The control alert repeats every 2 s and escalates after 3 s; by its
	 * third repeat the acknowledged one, which fired about as early, would
	 * have done both too.
	 */
	escalation_dedup(host, acked, acked_dedup, sizeof(acked_dedup));
	escalation_dedup(host, control, control_dedup, sizeof(control_dedup));
	for (__u64 end = mono_ms() + 20000; mono_ms() < end; wwd_sleep_ms(POLL_MS)) {
		control_repeats = repeats(f, "control");
		if (control_repeats >= 3 && pd_count(f->pd, "trigger", control_dedup, control) >= 1)
			break;
	}
	acked_repeats = repeats(f, "builder");
	rows = notifications(f, "pd", NULL);
	cJSON_ArrayForEach(row, rows)
		acked_escalations += strstr(jstr(row, "group_key"), acked) != NULL;
	cJSON_Delete(rows);
	CHECK_EQ(acked_repeats, 0);
	CHECK_EQ(acked_escalations, 0);
	CHECK_EQ(hook_count(f->hook, acked, NULL, t_ack), 0);
	CHECK_EQ(pd_count(f->pd, "trigger", acked_dedup, NULL), 0);
	CHECK_EQ(pd_count(f->pd, "trigger", NULL, acked), 0);
	CHECK(control_repeats >= 3, "the unacknowledged alert was repeated %d times", control_repeats);
	CHECK(hook_count(f->hook, control, "firing", 0) >= 4, "the repeats did not reach the webhook");
	CHECK_EQ(pd_count(f->pd, "trigger", control_dedup, control), 1);

	/* the workers end: both resolve */
	for (int i = 0; i < f->npids; i++)
		if (f->pids[i] > 0) {
			kill(f->pids[i], SIGKILL);
			reap(f, f->pids[i], 10);
		}
	cJSON_Delete(a);
	a = wait_alert_state(f, acked, "resolved", 15000);
	CHECK_STR(jstr(a, "state"), "resolved");
	CHECK(wait_hook(f->hook, acked, "resolved", 1, 10000), "no resolved notification for the acknowledged alert");
	CHECK(wait_hook(f->hook, control, "resolved", 1, 10000), "no resolved notification for the control alert");
	CHECK_EQ(pd_count(f->pd, "trigger", NULL, acked), 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

KERNEL_TEST(alerting_e2e_ack_stops_repeats_and_escalation)
{
	struct fixture f = {};

	ack_body(&f);
	fixture_cleanup(&f);
}

/* Waits for a PagerDuty event of this action and dedup_key; the count of them. */
static int wait_pd(struct sink *s, const char *action, const char *dedup, int timeout_ms)
{
	for (__u64 end = mono_ms() + timeout_ms; !pd_count(s, action, dedup, NULL); wwd_sleep_ms(POLL_MS))
		if (mono_ms() > end)
			break;
	return pd_count(s, action, dedup, NULL);
}

/* The outbox's view shows PagerDuty payloads with the routing key masked, as /api/v1/receivers does. */
static void pd_payloads_are_masked(struct fixture *f)
{
	cJSON *rows = notifications(f, "pd", NULL);
	const cJSON *row;
	char *text = cJSON_PrintUnformatted(rows);
	int n = 0;

	cJSON_ArrayForEach(row, rows) {
		const char *key = jstr(row, "payload.routing_key");

		n++;
		CHECK(!strcmp(key, "***cdef"), "notification %.0f shows routing_key '%s'", jnum(row, "id"), key);
	}
	CHECK(n >= 3, "%d PagerDuty notifications in the outbox", n);
	CHECK(text && !strstr(text, ROUTING_KEY), "the routing key shows in GET /api/v1/notifications");
	free(text);
	cJSON_Delete(rows);
}

static void incident_body(struct fixture *f)
{
	char rule[1536], receivers[600], hook[300], cmd[300], id[32], dedup[128];
	struct cmd_result r;
	cJSON *a = NULL;
	double exec_id;
	int worker;

	f->hook = sink__start();
	f->pd = sink__start();
	ASSERT(f->hook && f->pd, "no sinks");
	cpu_rule(rule, sizeof(rule), "\"agent=\\\"builder\\\"\"", CPU_THRESHOLD,
		 ", \"escalate\": [{\"after\": \"1s\", \"receivers\": [\"pd\"]}]");
	hook_receiver(f, hook, sizeof(hook), NULL);
	snprintf(receivers, sizeof(receivers), "%s,\n {\"name\": \"pd\", \"type\": \"pagerduty\", \"routing_key\": \""
		 ROUTING_KEY "\", \"url\": \"%s/v2/enqueue\"}", hook, sink__url(f->pd));
	ASSERT(start_daemon(f, rule, receivers, FAST_ROUTE("\"hook\"")), "no daemon");
	snprintf(cmd, sizeof(cmd), "%s cpu 30000", wwd_bin("wwload"));
	worker = held_worker(f, "builder", cmd, NULL, &exec_id);
	ASSERT(worker > 0, "no worker");

	a = wait_alert(f, "WorkerHighCPU", "agent", "builder", "firing", 20000);
	ASSERT(a, "WorkerHighCPU did not fire for builder");
	snprintf(id, sizeof(id), "%s", jstr(a, "id"));
	escalation_dedup(jstr(a, "labels.host"), id, dedup, sizeof(dedup));
	cJSON_Delete(a);
	ASSERT(wait_pd(f->pd, "trigger", dedup, 10000) == 1, "the alert did not escalate to PagerDuty");

	/* the escalation opened an incident: the ack acknowledges it, the resolve resolves it */
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "ack", id, "--server", f->d.url, "--token-file",
				 f->d.token, NULL }, 30, &r);
	CHECK(r.exit_code == 0, "workerwatch ack: %d %s", r.exit_code, r.err);
	harness__free_result(&r);
	CHECK(wait_pd(f->pd, "acknowledge", dedup, 5000) == 1, "PagerDuty got no acknowledge for %s", dedup);
	kill(worker, SIGKILL);
	reap(f, worker, 10);
	a = wait_alert_state(f, id, "resolved", 15000);
	CHECK_STR(jstr(a, "state"), "resolved");
	cJSON_Delete(a);
	CHECK(wait_hook(f->hook, id, "resolved", 1, 10000), "no resolved notification to the webhook");
	CHECK(wait_pd(f->pd, "resolve", dedup, 5000) == 1, "PagerDuty got no resolve for %s", dedup);
	CHECK_EQ(pd_count(f->pd, "trigger", dedup, NULL), 1);
	pd_payloads_are_masked(f);
}

KERNEL_TEST(alerting_e2e_escalated_pagerduty_incident_is_acknowledged_and_resolved)
{
	struct fixture f = {};

	incident_body(&f);
	fixture_cleanup(&f);
}

static void stuck_body(struct fixture *f)
{
	static const char *const rule =
		"{\"id\": \"syscall-stuck\", \"alertname\": \"WorkerStuckInSyscall\","
		" \"metric\": \"syscall_blocked_seconds\", \"scope\": {\"level\": \"execution\"}, \"window\": \"0\","
		" \"op\": \">\", \"threshold\": 2, \"for\": \"0\","
		" \"severity\": \"warning\", \"annotations\": {\"summary\": \"inside one syscall for {{value}}s\"}}";
	char receivers[300], cmd[300], exec[32], id[32];
	cJSON *alert = NULL;
	double exec_id;
	int worker;

	f->hook = sink__start();
	ASSERT(f->hook, "no sink");
	hook_receiver(f, receivers, sizeof(receivers), NULL);
	ASSERT(start_daemon(f, rule, receivers, FAST_ROUTE("\"hook\"")), "no daemon");
	snprintf(cmd, sizeof(cmd), "%s block-read", wwd_bin("wwload"));
	worker = held_worker(f, "reader", cmd, NULL, &exec_id);
	ASSERT(worker > 0, "no worker");
	snprintf(exec, sizeof(exec), "%.0f", exec_id);

	alert = wait_alert(f, "WorkerStuckInSyscall", "execution_id", exec, "firing", 15000);
	ASSERT(alert, "WorkerStuckInSyscall did not fire for execution %s", exec);
	snprintf(id, sizeof(id), "%s", jstr(alert, "id"));
	CHECK(jnum(alert, "value") >= 2, "value %g", jnum(alert, "value"));
	CHECK_STR(jstr(alert, "labels.agent"), "reader");
	CHECK(wait_hook(f->hook, id, "firing", 1, 10000), "the alert did not reach the webhook");

	kill(worker, SIGKILL);
	reap(f, worker, 10);
	cJSON_Delete(alert);
	alert = wait_alert_state(f, id, "resolved", 15000);
	CHECK_STR(jstr(alert, "state"), "resolved");
	CHECK_STR(jstr(alert, "resolve_reason"), "execution_ended");
	CHECK(wait_hook(f->hook, id, "resolved", 1, 10000), "the resolve did not reach the webhook");
	cJSON_Delete(alert);
}

KERNEL_TEST(alerting_e2e_stuck_syscall_fires_and_resolves)
{
	struct fixture f = {};

	stuck_body(&f);
	fixture_cleanup(&f);
}

/* A cgroup v1 memory cgroup of its own, limited to limit; its path, or NULL. */
static const char *memory_cgroup(struct fixture *f, const char *name, const char *limit)
{
	char *path = f->cgroups[f->ncgroups], file[400];

	if (f->ncgroups >= MAX_CGROUPS)
		return NULL;
	snprintf(path, sizeof(f->cgroups[0]), "%s/ww-e2e-%d-%s", CGROUP_V1_MEM, getpid(), name);
	if (!CHECK(mkdir(path, 0755) == 0, "cannot create %s: %s", path, strerror(errno)))
		return NULL;
	f->ncgroups++;
	snprintf(file, sizeof(file), "%s/memory.limit_in_bytes", path);
	write_file(file, "%s\n", limit);
	return path;
}

static void oom_body(struct fixture *f)
{
	static const char *const rule =
		"{\"id\": \"oom-forecast\", \"alertname\": \"WorkerMemoryLimitForecast\","
		" \"metric\": \"memory_headroom_bytes\","
		" \"scope\": {\"level\": \"execution\"}, \"window\": \"6s\", \"transform\": \"time_to_zero\","
		" \"op\": \"<\", \"threshold\": 600, \"for\": \"2s\", \"severity\": \"critical\","
		" \"annotations\": {\"summary\": \"limit in {{value}}s\"}}";
	char receivers[300], cmd[300], exec[32], id[32], path[64];
	const char *cg_forecast, *cg_kill;
	cJSON *alert = NULL, *ex = NULL;
	double exec_id, v;
	int worker, status;
	bool ended = false;

	if (access(CGROUP_V1_MEM, F_OK)) {
		printf("    skip: no cgroup v1 memory controller at %s\n", CGROUP_V1_MEM);
		return;
	}
	cg_forecast = memory_cgroup(f, "forecast", "128M");
	cg_kill = memory_cgroup(f, "kill", "48M");
	ASSERT(cg_forecast && cg_kill, "no memory cgroups");
	f->hook = sink__start();
	ASSERT(f->hook, "no sink");
	hook_receiver(f, receivers, sizeof(receivers), NULL);
	ASSERT(start_daemon(f, rule, receivers, FAST_ROUTE("\"hook\"")), "no daemon");

	/* 4 MiB/s towards 128 MiB: the limit is about 30 s away */
	snprintf(cmd, sizeof(cmd), "%s leak 4 40", wwd_bin("wwload"));
	worker = held_worker(f, "leaker", cmd, cg_forecast, &exec_id);
	ASSERT(worker > 0, "no leaking worker");
	snprintf(exec, sizeof(exec), "%.0f", exec_id);
	alert = wait_alert(f, "WorkerMemoryLimitForecast", "execution_id", exec, "firing", 20000);
	ASSERT(alert, "WorkerMemoryLimitForecast did not fire for execution %s", exec);
	v = jnum(alert, "value");
	CHECK(v > 0 && v < 600, "seconds to the limit: %g", v);
	snprintf(id, sizeof(id), "%s", jstr(alert, "id"));
	CHECK(wait_hook(f->hook, id, "firing", 1, 10000), "the forecast did not reach the webhook");
	kill(worker, SIGKILL);
	reap(f, worker, 10);
	cJSON_Delete(alert);
	alert = NULL;

	/* 200 MiB in 48 MiB: the kernel's OOM killer ends it */
	snprintf(cmd, sizeof(cmd), "%s mem 200", wwd_bin("wwload"));
	worker = held_worker(f, "oomer", cmd, cg_kill, &exec_id);
	ASSERT(worker > 0, "no worker to OOM-kill");
	snprintf(exec, sizeof(exec), "%.0f", exec_id);
	status = reap(f, worker, 30);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the worker was not OOM-killed: status %d", status);
	alert = wait_alert(f, "WorkerOOMKilled", "execution_id", exec, "firing", 15000);
	ASSERT(alert, "WorkerOOMKilled did not fire for execution %s", exec);
	snprintf(id, sizeof(id), "%s", jstr(alert, "id"));
	CHECK_STR(jstr(alert, "labels.agent"), "oomer");
	CHECK_STR(jstr(alert, "labels.session"), "e2e");
	CHECK_STR(jstr(alert, "severity"), "critical");
	CHECK(wait_hook(f->hook, id, "firing", 1, 10000), "WorkerOOMKilled did not reach the webhook");
	for (int i = 0; i < sink__count(f->hook); i++) {
		struct sink_request rq = sink__request(f->hook, i);
		cJSON *body = cJSON_Parse(rq.body);
		const cJSON *a;

		cJSON_ArrayForEach(a, harness__get(body, "alerts"))
			if (!strcmp(jstr(a, "fingerprint"), id)) {
				CHECK_STR(jstr(a, "labels.execution_id"), exec);
				CHECK_STR(jstr(a, "labels.agent"), "oomer");
				CHECK_STR(jstr(a, "labels.alertname"), "WorkerOOMKilled");
			}
		cJSON_Delete(body);
	}
	snprintf(path, sizeof(path), "/api/v1/executions/%s", exec);
	for (__u64 end = mono_ms() + 15000; !ended && mono_ms() < end; wwd_sleep_ms(POLL_MS)) {
		cJSON_Delete(ex);
		ex = NULL;
		ended = wwd_api(&f->d, "GET", path, NULL, true, &ex) == 200 && strcmp(jstr(ex, "status"), "running");
	}
	CHECK_STR(jstr(ex, "status"), "failed");
	CHECK_STR(jstr(ex, "failure.category"), "oom");
	cJSON_Delete(ex);
	cJSON_Delete(alert);
}

KERNEL_TEST(alerting_e2e_oom_forecast_and_oom_kill_in_a_memory_cgroup)
{
	struct fixture f = {};

	oom_body(&f);
	fixture_cleanup(&f);
}

static void expect_error(struct fixture *f, const char *method, const char *path, const char *body, bool token,
			 int want, const char *mention)
{
	cJSON *j = NULL;
	int status = wwd_api(&f->d, method, path, body, token, &j);

	CHECK(status == want, "%s %s: %d, wanted %d", method, path, status, want);
	CHECK(cJSON_IsString(harness__get(j, "error")), "%s %s: no JSON error", method, path);
	if (mention)
		CHECK(strstr(jstr(j, "error"), mention) != NULL, "%s %s: the error '%s' does not name %s", method,
		      path, jstr(j, "error"), mention);
	cJSON_Delete(j);
}

static void errors_body(struct fixture *f)
{
	static const char *const bad_rule =
		"{\"id\": \"bad-rule\", \"alertname\": \"WorkerHighCPU\", \"metric\": \"cpu_percent\","
		" \"window\": \"2s\", \"op\": \"~\", \"threshold\": 50}";
	char db[300], logdir[300], token[300], body[400], *line, *save = NULL;
	struct cmd_result r;
	cJSON *rules = NULL;
	int lines = 0;

	/* a bad rule in the config file: the daemon does not start, and says which rule in one line */
	snprintf(f->config, sizeof(f->config), "%s", harness__tmp("bad.json"));
	write_file(f->config, "{\"evaluation_interval\": \"1s\", \"rules\": [%s]}\n", bad_rule);
	snprintf(db, sizeof(db), "%s", harness__tmp("bad.db"));
	snprintf(logdir, sizeof(logdir), "%s", harness__tmp("bad-log"));
	snprintf(token, sizeof(token), "%s", harness__tmp("bad-token"));
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "daemon", "--listen", "127.0.0.1:0", "--db", db,
				 "--log-dir", logdir, "--token-file", token, "--config", f->config, NULL }, 30, &r);
	CHECK(r.exit_code > 0, "the daemon with a bad rule exited %d", r.exit_code);
	for (line = strtok_r(r.err, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		lines += strstr(line, "bad-rule") != NULL;
	CHECK(lines == 1, "%d lines name the bad rule in:\n%s", lines, r.err);
	harness__free_result(&r);

	ASSERT(start_daemon(f, "", "", ""), "no daemon");
	snprintf(body, sizeof(body), "[%s]", bad_rule);
	expect_error(f, "PUT", "/api/v1/rules", body, true, 400, "bad-rule");
	expect_error(f, "PUT", "/api/v1/rules", "{\"rules\": 1}", true, 400, NULL);
	expect_error(f, "PUT", "/api/v1/rules", "[]", false, 401, NULL);
	expect_error(f, "POST", "/api/v1/alerts/0123456789abcdef/ack", "{\"by\": \"me\"}", true, 404, NULL);
	expect_error(f, "POST", "/api/v1/alerts/0123456789abcdef/ack", NULL, false, 401, NULL);
	expect_error(f, "POST", "/api/v1/alerts/not-an-alert-id/ack", NULL, true, 400, NULL);
	expect_error(f, "POST", "/api/v1/alerts/0123456789ABCDEF/ack", NULL, true, 400, NULL);
	expect_error(f, "POST", "/api/v1/alerts/0123456789abcdef/resolve", NULL, true, 404, NULL);
	expect_error(f, "GET", "/api/v1/alerts/0123456789abcdef", NULL, true, 404, NULL);
	expect_error(f, "GET", "/api/v1/alerts?state=burning", NULL, true, 400, NULL);
	/* the rules stayed as they were */
	CHECK(wwd_api(&f->d, "GET", "/api/v1/rules", NULL, false, &rules) == 200, "GET /api/v1/rules failed");
	{
		const cJSON *x;
		bool bad = false, stuck = false;

		cJSON_ArrayForEach(x, rules) {
			bad |= !strcmp(jstr(x, "id"), "bad-rule");
			stuck |= !strcmp(jstr(x, "id"), "syscall-stuck");
		}
		CHECK(!bad && stuck, "the rules changed after a bad PUT");
	}
	cJSON_Delete(rules);
	/* the CLI: a malformed id is a usage error, an unknown one the daemon's 404 */
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "ack", "xyz", "--server", f->d.url, "--token-file",
				 f->d.token, NULL }, 30, &r);
	CHECK(r.exit_code == 2, "workerwatch ack xyz exited %d", r.exit_code);
	harness__free_result(&r);
	harness__run((char *[]){ (char *)wwd_bin("workerwatch"), "ack", "0123456789abcdef", "--server", f->d.url,
				 "--token-file", f->d.token, NULL }, 30, &r);
	CHECK(r.exit_code == 1 && strstr(r.err, "404"), "workerwatch ack of an unknown id: %d %s", r.exit_code, r.err);
	harness__free_result(&r);
}

KERNEL_TEST(alerting_e2e_config_and_api_errors)
{
	struct fixture f = {};

	errors_body(&f);
	fixture_cleanup(&f);
}
