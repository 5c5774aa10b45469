// SPDX-License-Identifier: MIT
/* workerwatch orchestrators / watches: list and remove the daemon's orchestrators, list, add and remove watch rules. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/client.h"
#include "cli/cmd.h"
#include "lib/log.h"

struct list_opts {
	const char *server;
	const char *token_file;
	bool json;
	bool watches;			/* which command: watches, or orchestrators */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: workerwatch orchestrators [--json]\n"
		"       workerwatch orchestrators remove ID\n"
		"       workerwatch watches [--json]\n"
		"       workerwatch watches add RULE\n"
		"       workerwatch watches remove ID\n\n"
		"orchestrators lists the daemon's orchestrators (registered, or found by a watch rule)\n"
		"with their job boundary and own totals; remove stops watching one (its jobs go on).\n"
		"watches lists the watch rules; RULE is a JSON object such as\n"
		"  '{\"name\": \"runner\", \"comm\": \"runner.sh\", \"action\": \"orchestrator\",\n"
		"    \"agent\": \"{{env.AGENT_NAME|comm}}\", \"jobs\": {\"exec\": \"job\\\\.sh$\"}}'\n"
		"(selectors exe, comm, argv, uid, cgroup, parent; action track, orchestrator or none).\n"
		"Options: --server URL (default $WORKERWATCH_URL or %s),\n"
		"         --token-file PATH (default $WORKERWATCH_TOKEN_FILE or %s)\n",
		CLIENT_DEFAULT_SERVER, CLIENT_DEFAULT_TOKEN);
}

/* One request; the body on success in *out, else an exit status after a one-line error. */
static int call(const struct list_opts *o, const char *method, const char *path, const char *body, char **out)
{
	return client__call(o->server, o->token_file, method, path, body, out);
}

static const char *str(const cJSON *o, const char *key, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : def;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void jobs_text(const cJSON *o, char *buf, size_t size)
{
	const cJSON *jobs = cJSON_GetObjectItemCaseSensitive(o, "jobs");

	if (cJSON_IsObject(jobs) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(jobs, "exec")))
		snprintf(buf, size, "exec:%s", str(jobs, "exec", ""));
	else
		snprintf(buf, size, "children");
}

static void print_orchestrators(const cJSON *arr)
{
	const cJSON *o;

	printf("%-4s  %-8s  %-15s  %-16s  %-24s  %-5s  %-6s  %-8s  %s\n", "ID", "PID", "COMM", "SESSION", "JOBS",
	       "RULE", "EXECS", "ABSORBED", "AGENT");
	cJSON_ArrayForEach(o, arr) {
		const cJSON *own = cJSON_GetObjectItemCaseSensitive(o, "own");
		char jobs[64], rule[16] = "-";

		jobs_text(o, jobs, sizeof(jobs));
		if (num(o, "rule"))
			snprintf(rule, sizeof(rule), "%.0f", num(o, "rule"));
		printf("%-4.0f  %-8.0f  %-15s  %-16s  %-24s  %-5s  %-6.0f  %-8.0f  %s\n", num(o, "id"), num(o, "pid"),
		       str(o, "comm", ""), str(o, "session", "default"), jobs, rule, num(o, "executions_started"),
		       num(own, "absorbed"), str(o, "agent", "{{program|comm}}"));
	}
}

static void print_watches(const cJSON *arr)
{
	static const char *const selectors[] = { "exe", "comm", "argv", "cgroup", "parent" };
	const cJSON *w;

	printf("%-4s  %-16s  %-12s  %-6s  %-40s  %s\n", "ID", "NAME", "ACTION", "SOURCE", "SELECTS", "AGENT");
	cJSON_ArrayForEach(w, arr) {
		char sel[256] = "";
		size_t n = 0;

		for (size_t i = 0; i < sizeof(selectors) / sizeof(selectors[0]) && n < sizeof(sel); i++)
			if (str(w, selectors[i], NULL))
				n += snprintf(sel + n, sizeof(sel) - n, "%s%s=%s", n ? " " : "", selectors[i],
					      str(w, selectors[i], ""));
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(w, "uid")) && n < sizeof(sel))
			snprintf(sel + n, sizeof(sel) - n, "%suid=%.0f", n ? " " : "", num(w, "uid"));
		printf("%-4.0f  %-16s  %-12s  %-6s  %-40s  %s\n", num(w, "id"), str(w, "name", "-"),
		       str(w, "action", "track"), str(w, "source", "api"), sel, str(w, "agent", "{{program|comm}}"));
	}
}

static int parse_id(const char *s, unsigned long long *id)
{
	char *end;

	errno = 0;
	*id = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || !*id) {
		ww_err("ID wants a positive whole number, not '%s'", s);
		return -EINVAL;
	}
	return 0;
}

int cmd_orchs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' }, { "server", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 'T' }, { "help", no_argument, NULL, 'h' }, {},
	};
	struct list_opts o = { client__server(), client__token_file(), false, !strcmp(argv[0], "watches") };
	const char *base = o.watches ? "/api/v1/watches" : "/api/v1/orchestrators";
	unsigned long long id;
	char *out = NULL, path[96];
	cJSON *j;
	int ch, ret;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j': o.json = true; break;
		case 'S': o.server = optarg; break;
		case 'T': o.token_file = optarg; break;
		case 'h': usage(stdout); return 0;
		case ':': ww_err("option %s needs a value", argv[optind - 1]); return 2;
		default: ww_err("unknown option '%s' (see workerwatch %s --help)", argv[optind - 1], argv[0]); return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "remove")) {
		if (optind + 2 != argc || parse_id(argv[optind + 1], &id))
			return 2;
		snprintf(path, sizeof(path), "%s/%llu", base, id);
		ret = call(&o, "DELETE", path, NULL, &out);
		if (!ret)
			printf("%s %llu removed\n", o.watches ? "watch rule" : "orchestrator", id);
		free(out);
		return ret;
	}
	if (optind < argc && !strcmp(argv[optind], "add") && o.watches) {
		if (optind + 2 != argc) {
			ww_err("usage: workerwatch watches add RULE (a JSON object)");
			return 2;
		}
		ret = call(&o, "POST", base, argv[optind + 1], &out);
		if (!ret)
			printf("%s\n", out);
		free(out);
		return ret;
	}
	if (optind < argc) {
		ww_err("unexpected argument '%s' (see workerwatch %s --help)", argv[optind], argv[0]);
		return 2;
	}
	ret = call(&o, "GET", base, NULL, &out);
	if (ret)
		return ret;
	j = cJSON_Parse(out);
	if (!cJSON_IsArray(j)) {
		ww_err("unexpected answer from the daemon at %s", o.server);
		ret = 1;
	} else if (o.json) {
		printf("%s\n", out);
	} else if (o.watches) {
		print_watches(j);
	} else {
		print_orchestrators(j);
	}
	cJSON_Delete(j);
	free(out);
	return ret;
}
