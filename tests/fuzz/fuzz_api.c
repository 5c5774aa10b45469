// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: every route of the API (api_routes[], so a new route is
 * fuzzed without touching this file) with any query string and any body, as
 * the HTTP layer hands them over: "METHOD /path?query" on the first line, the
 * body after it. The handlers run on a real history and a real alert engine;
 * only the daemon's live side (the tracker, the jobs module and the kernel)
 * is absent: it tracks nothing, attaching answers that the pid exited, and
 * watch rules are converted to the kernel's form and kept here.
 *
 * What must hold: a JSON answer parses (204 has none), an error is a 4xx with a reason
 * (5xx only for the daemon's own failures, never for what the request said),
 * and nothing crashes, leaks or reads out of bounds.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "fuzz.h"
#include "alerts/alerts.h"
#include "daemon/api.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "workerwatch.h"
#include "history/record.h"
#include "observe/jobs.h"
#include "observe/watch.h"
#include "history/store.h"

/* The daemon the handlers see: the history and the alert engine, nothing live. */
struct daemon {
	struct config cfg;
	struct store *store;
	struct alerts *alerts;
};

/* The jobs module without the kernel: its watch rules, no orchestrators. */
struct jobs {
	struct watch_rule rules[WW_WATCH_RULES_MAX];
	int nr_rules;
};

static struct jobs fake_jobs;

static struct daemon fake;
static char dir[64];

/* What http.c's request would answer from libmicrohttpd: the query of the input. */
struct fuzz_conn {
	char *query;			/* "a=1&b=2", not yet decoded */
};

static const char config_text[] =
	"{\"evaluation_interval\": \"2s\", \"rules\": [{\"id\": \"cpu-hot\", \"alertname\": \"WorkerHighCPU\","
	" \"metric\": \"cpu_percent\", \"op\": \">\", \"threshold\": 50, \"for\": \"10s\"}],"
	" \"receivers\": [{\"name\": \"hook\", \"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/h\"},"
	" {\"name\": \"pd\", \"type\": \"pagerduty\", \"routing_key\": \"0123456789abcdef0123456789abcdef\","
	" \"url\": \"http://127.0.0.1:1/pd\"}],"
	" \"routes\": [{\"receivers\": [\"hook\"], \"group_by\": [\"alertname\"]}]}";

const struct config *daemon__config(const struct daemon *d) { return &d->cfg; }
struct store *daemon__store(struct daemon *d) { return d->store; }
struct tracker *daemon__tracker(struct daemon *d) { (void)d; return NULL; }
struct probes *daemon__probes(struct daemon *d) { (void)d; return NULL; }
struct alerts *daemon__alerts(struct daemon *d) { return d->alerts; }
struct jobs *daemon__jobs(struct daemon *d) { (void)d; return &fake_jobs; }
int daemon__ensure_attached(struct daemon *d) { (void)d; return 0; }
void daemon__detach_if_idle(struct daemon *d) { (void)d; }
void daemon__publish(struct daemon *d, const char *kind, const char *stream_event, const struct cJSON *obj)
{
	(void)d, (void)kind, (void)stream_event, (void)obj;
}
void daemon__announce(struct daemon *d, struct execution *e) { (void)d, (void)e; }
void daemon__renamed(struct daemon *d, struct execution *e) { (void)d, (void)e; }
void daemon__root_ended(struct daemon *d, struct execution *e, __u64 ts_ns, int exit_status)
{
	(void)d, (void)e, (void)ts_ns, (void)exit_status;
}
__u64 daemon__start_ticks(pid_t pid) { (void)pid; return 0; }
struct execution *daemon__find_live(struct daemon *d, __u64 db_id) { (void)d, (void)db_id; return NULL; }
void daemon__finalize(struct daemon *d, struct execution *e) { (void)d, (void)e; }
int daemon__save(struct daemon *d, struct execution *e) { (void)d, (void)e; return 0; }
char *daemon__metrics(struct daemon *d) { (void)d; return strdup("# nothing tracked\n"); }
char **daemon__cmdline(pid_t pid) { (void)pid; return NULL; }

int daemon__start_execution(struct daemon *d, struct execution *e, int pidfd)
{
	(void)d, (void)e, (void)pidfd;
	return -ESRCH;
}

int daemon__add_orchestrator(struct daemon *d, pid_t pid, int pidfd, const char *session, __u64 *id)
{
	(void)d, (void)pid, (void)pidfd, (void)session, (void)id;
	return -ESRCH;
}

const struct orchestrator *daemon__find_orchestrator(struct daemon *d, __u64 id)
{
	(void)d, (void)id;
	return NULL;
}

struct cJSON *daemon__health(struct daemon *d, bool *healthy)
{
	(void)d;
	*healthy = true;
	return cJSON_CreateObject();
}

int jobs__add_orch(struct jobs *j, const struct orch_reg *reg, const struct job_spec *spec, int pidfd, bool tag,
		   const struct orch **out)
{
	(void)j, (void)reg, (void)spec, (void)pidfd, (void)tag, (void)out;
	return -ESRCH;
}

int jobs__remove_orch(struct jobs *j, __u64 id) { (void)j, (void)id; return -ENOENT; }
const struct orch *jobs__find_orch(struct jobs *j, __u64 id) { (void)j, (void)id; return NULL; }
int jobs__adopt(struct jobs *j, __u32 rule_id) { (void)j, (void)rule_id; return 0; }
void jobs__name(struct jobs *j, struct execution *e, const struct job_spec *spec) { (void)j, (void)e, (void)spec; }

int jobs__foreach_orch(struct jobs *j, int (*fn)(const struct orch *o, void *ctx), void *ctx)
{
	(void)j, (void)fn, (void)ctx;
	return 0;
}

const struct watch_rule *jobs__rules(const struct jobs *j, int *n)
{
	*n = j->nr_rules;
	return j->rules;
}

/* As the real one: the kernel's form first (parents resolved), then copies kept. */
int jobs__set_rules(struct jobs *j, const struct watch_rule *rules, int n, char *err, size_t errlen)
{
	struct ww_watch_rule k[WW_WATCH_RULES_MAX];
	int ret;

	if (n > WW_WATCH_RULES_MAX) {
		snprintf(err, errlen, "more than %d watch rules", WW_WATCH_RULES_MAX);
		return -E2BIG;
	}
	ret = watch_rules__to_kernel(rules, n, k, err, errlen);
	if (ret) {
		FUZZ_ASSERT(err[0], "watch rules refused by the kernel conversion without a reason");
		return ret;
	}
	for (int i = 0; i < j->nr_rules; i++)
		watch_rule__release(&j->rules[i]);
	j->nr_rules = 0;
	for (int i = 0; i < n; i++) {
		ret = watch_rule__copy(&j->rules[i], &rules[i]);
		FUZZ_ASSERT(!ret, "watch_rule__copy: %d", ret);
		j->nr_rules++;
	}
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX decoding in place, as libmicrohttpd does for query values. */
static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*out++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			*out++ = *s;
		}
	}
	*out = 0;
}

const char *__wrap_http_request__query(const struct http_request *r, const char *name)
{
	static char value[4][1024];
	static int slot;
	const struct fuzz_conn *c = r->conn;
	const char *p = c->query;

	while (p && *p) {
		const char *end = strchr(p, '&'), *eq = strchr(p, '=');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t klen = eq && eq < p + len ? (size_t)(eq - p) : len;

		if (klen == strlen(name) && !strncmp(p, name, klen)) {
			/* a handler may hold a few values at once, each until the request ends */
			char *v = value[slot++ % 4];
			size_t vlen = klen < len ? len - klen - 1 : 0;

			if (vlen >= sizeof(value[0]))
				vlen = sizeof(value[0]) - 1;
			memcpy(v, p + klen + (klen < len), vlen);
			v[vlen] = 0;
			unescape(v);
			return v;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

const char *__wrap_http_request__header(const struct http_request *r, const char *name)
{
	(void)r, (void)name;
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static struct alert_config ac;
	struct alert_source src = { 0 };
	char db[96], err[512];
	const char *path;

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "%s/ww-fuzz-api.XXXXXX", access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	FUZZ_ASSERT(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(db, sizeof(db), "%s/history.db", dir);
	config__defaults(&fake.cfg);
	fake.store = store__open(db, false);
	FUZZ_ASSERT(fake.store, "cannot open %s: %s", db, store__errmsg(NULL));
	/* a few finished executions, for the views of one and of many */
	for (int i = 0; i < 3; i++) {
		static const char *const status[] = { "completed", "failed", "detached" };
		struct exec_record r = { 0 };

		snprintf(r.session, sizeof(r.session), "sess");
		snprintf(r.agent, sizeof(r.agent), "agent-%d", i);
		snprintf(r.status, sizeof(r.status), "%s", status[i]);
		strcpy(r.command, "[\"/bin/true\"]");
		strcpy(r.labels, "{\"team\": \"x\"}");
		strcpy(r.failure_evidence, "{}");
		r.pid = 4242 + i;
		r.started_at_ms = 1700000000000ULL + i * 1000;
		r.ended_at_ms = r.started_at_ms + 500;
		r.duration_ms = 500;
		r.completed_steps = r.total_steps = -1;
		r.has_exit_code = true;
		r.exit_code = i == 1;
		FUZZ_ASSERT(!store__upsert_execution(fake.store, &r, NULL, 0), "%s", store__errmsg(fake.store));
	}
	path = fuzz__file((const uint8_t *)config_text, sizeof(config_text) - 1);
	FUZZ_ASSERT(!alert_config__load(path, &ac, err, sizeof(err)), "the harness's config: %s", err);
	fake.alerts = alerts__new(&ac, fake.store, &src, err, sizeof(err));
	FUZZ_ASSERT(fake.alerts, "the harness's alert engine: %s", err);
	return 0;
}

__attribute__((destructor)) static void clean_up(void)
{
	char cmd[128];

	for (int i = 0; i < fake_jobs.nr_rules; i++)
		watch_rule__release(&fake_jobs.rules[i]);
	alerts__free(fake.alerts);
	store__close(fake.store);
	fake.alerts = NULL;
	fake.store = NULL;
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "fuzz: cannot remove %s\n", dir);
	}
}

/* Matches path against a route pattern, its {placeholders} into params (pointers into buf). */
static bool route_matches(const char *pattern, const char *path, char *buf, size_t size, const char **params)
{
	int np = 0;
	size_t used = 0;

	while (*pattern && *path) {
		if (*pattern == '{') {
			size_t n = strcspn(path, "/");

			pattern = strchr(pattern, '}');
			if (!pattern || !n || np == HTTP_MAX_PARAMS || n >= HTTP_MAX_PARAM_LEN || used + n + 1 > size)
				return false;
			pattern++;
			memcpy(buf + used, path, n);
			buf[used + n] = 0;
			params[np++] = buf + used;
			used += n + 1;
			path += n;
		} else if (*pattern++ != *path++) {
			return false;
		}
	}
	return !*pattern && !*path;
}

static void check_answer(const char *method, const char *path, const struct http_response *resp)
{
	cJSON *j, *err;

	FUZZ_ASSERT(resp->status >= 200 && resp->status < 600, "%s %s answered %d", method, path, resp->status);
	FUZZ_ASSERT(resp->status < 500 || resp->status == 503, "%s %s answered %d: %s", method, path, resp->status,
		    resp->body ?: "");
	if (resp->content_type)
		return;
	if (resp->status == 204) {
		FUZZ_ASSERT(!resp->body || !resp->body[0], "%s %s answered 204 with a body", method, path);
		return;
	}
	FUZZ_ASSERT(resp->body, "%s %s answered %d without a body", method, path, resp->status);
	j = cJSON_Parse(resp->body);
	FUZZ_ASSERT(j, "%s %s answered %d with a body that is not JSON: %.200s", method, path, resp->status,
		    resp->body);
	if (resp->status >= 400) {
		err = cJSON_GetObjectItemCaseSensitive(j, "error");
		FUZZ_ASSERT(cJSON_IsString(err) && err->valuestring[0], "%s %s answered %d without a reason: %.200s",
			    method, path, resp->status, resp->body);
	}
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz__cstr(data, size), *rest = text, *line, *target, *q;
	char params[HTTP_MAX_PARAMS * HTTP_MAX_PARAM_LEN];
	struct fuzz_conn conn = { 0 };
	struct http_request req = { 0 };
	struct http_response resp;
	const char *method;

	if (!text)
		return 0;
	line = fuzz__line(&rest);
	method = strtok_r(line, " ", &target);
	if (!method || !target || !*target)
		goto out;
	q = strchr(target, '?');
	if (q) {
		*q = 0;
		conn.query = q + 1;
	}
	unescape(target);
	req.method = method;
	req.path = target;
	req.body = rest && *rest ? rest : NULL;
	req.body_len = req.body ? strlen(req.body) : 0;
	req.authorized = true;
	req.from_loopback = true;
	req.conn = &conn;
	for (int i = 0; i < api_nroutes; i++) {
		const struct http_route *r = &api_routes[i];

		if (strcmp(r->method, method) || !route_matches(r->pattern, target, params, sizeof(params), req.params))
			continue;
		memset(&resp, 0, sizeof(resp));
		resp.status = 200;
		r->fn(&fake, &req, &resp);
		fuzz__debug("%s %s: %d %.200s\n", method, target, resp.status, resp.body ?: "");
		check_answer(method, target, &resp);
		free(resp.body);
		break;
	}
out:
	free(text);
	return 0;
}
