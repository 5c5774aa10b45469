// SPDX-License-Identifier: MIT
/* workerwatch attach / detach: ask the daemon to track a running process tree, or to stop. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/client.h"
#include "cli/cmd.h"
#include "cli/jobopts.h"
#include "lib/log.h"
#include "lib/num.h"

struct client_opts {
	const char *server;
	const char *token_file;
	bool json;
};

static int parse_id(const char *s, const char *what, unsigned long long max, unsigned long long *v)
{
	__u64 n;

	if (num__parse_u64(s, 1, max, &n)) {
		ww_err("%s wants a positive whole number, not '%s'", what, s);
		return -EINVAL;
	}
	*v = n;
	return 0;
}

static double num(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key)) ?: "";
}

/* One sentence about what the daemon now does, from its answer to method on path. */
static void print_human(const char *method, const char *path, const cJSON *a)
{
	if (!strcmp(method, "DELETE"))
		printf("Detached execution %.0f (pid %.0f, session %s, agent %s): %s, tracking stopped\n",
		       num(a, "id"), num(a, "pid"), str(a, "session"), str(a, "agent"), str(a, "status"));
	else if (strstr(path, "orchestrators"))
		printf("Watching orchestrator %.0f (pid %.0f, session %s): each job it starts becomes an execution\n",
		       num(a, "id"), num(a, "pid"), str(a, "session"));
	else if (strstr(path, "watches"))
		printf("Watching cgroup %s as rule %.0f: every process in it, and every one that joins, is tracked\n",
		       str(a, "cgroup"), num(a, "id"));
	else
		printf("Tracking execution %.0f (pid %.0f, session %s, agent %s%s%s): workerwatch show %s\n",
		       num(a, "id"), num(a, "pid"), str(a, "session"), str(a, "agent"), str(a, "task")[0] ? ", task " : "",
		       str(a, "task"), str(a, "session"));
}

/* Sends the request and prints the answer, as a sentence or (--json) as the daemon's JSON; the exit status. */
static int call(const struct client_opts *c, const char *method, const char *path, const char *body)
{
	char *out = NULL;
	cJSON *answer;

	if (client__call(c->server, c->token_file, method, path, body, &out))
		return 1;
	answer = cJSON_Parse(out);
	if (c->json || !cJSON_IsObject(answer))
		printf("%s\n", out);
	else
		print_human(method, path, answer);
	cJSON_Delete(answer);
	free(out);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: workerwatch attach PID --session S --agent A [--task T] [--label K=V]...\n"
		"       workerwatch attach --orchestrator PID [--session S] [--agent A] [--task T] [--label K=V]...\n"
		"                          [--jobs children|exec:REGEX] [--ignore REGEX]... [--min-duration D]\n"
		"                          [--stopped-is-failure]\n"
		"       workerwatch attach --cgroup PATH [--name N] [--session S] [--agent A] [--task T] [--label K=V]...\n"
		"\nattach PID tracks a running process tree; --orchestrator PID makes its jobs executions;\n"
		"--cgroup PATH tracks every process in a cgroup (v1 or v2) and every one that joins it later\n"
		"(a watch rule: `workerwatch watches` lists it).\n\n"
		JOBOPTS_HELP
		"  --json               print the daemon's JSON answer instead of a sentence\n"
		CLIENT_OPTIONS_HELP
		"  -h, --help           this help\n\n"
		"Examples:\n"
		"  workerwatch attach 4242 --session nightly-17 --agent builder --task compile --label team=ci\n"
		"  workerwatch attach --orchestrator $(pgrep -o gitlab-runner) --session runner-1 --jobs children\n"
		"  workerwatch attach --cgroup /sys/fs/cgroup/unified/ci.slice --name ci --agent ci-job\n"
		"  WORKERWATCH_URL=http://127.0.0.1:9470 workerwatch attach 4242 --session s --agent a --json\n\n"
		"Exit status: 0 tracked, 1 the daemon refused or cannot be reached, 2 usage error.\n");
}

static void usage_detach(FILE *out)
{
	fprintf(out,
		"Usage: workerwatch detach ID [--json]\n"
		"Stops tracking execution ID (as `workerwatch attach` or the API gave it); its history stays,\n"
		"with the status detached.\n\n"
		"  --json               print the daemon's JSON answer instead of a sentence\n"
		CLIENT_OPTIONS_HELP
		"  -h, --help           this help\n\n"
		"Examples:\n"
		"  workerwatch detach 42\n"
		"  WORKERWATCH_TOKEN_FILE=~/.workerwatch-token workerwatch detach 42 --json\n\n"
		"Exit status: 0 detached, 1 the daemon refused (unknown or ended execution) or cannot be reached,\n"
		"2 usage error.\n");
}

int cmd_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		JOBOPTS_LONGOPTS,
		{ "orchestrator", required_argument, NULL, 'o' }, { "cgroup", required_argument, NULL, 'g' },
		{ "name", required_argument, NULL, 'n' }, { "server", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 'T' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, {},
	};
	struct client_opts c = { client__server(), client__token_file(), false };
	const char *orch = NULL, *pid_s = NULL, *cgroup = NULL, *name = NULL, *path;
	struct jobopts jo;
	unsigned long long pid = 0;
	char *text = NULL;
	int ch, ret = 2;

	jobopts__init(&jo);
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': orch = optarg; break;
		case 'g': cgroup = optarg; break;
		case 'n': name = optarg; break;
		case 'S': c.server = optarg; break;
		case 'T': c.token_file = optarg; break;
		case 'j': c.json = true; break;
		case 'h': usage(stdout); ret = 0; goto cleanup;
		case ':': ww_err("attach: option %s needs a value", argv[optind - 1]); goto cleanup;
		case '?': ww_err("attach: unknown option '%s' (see workerwatch attach --help)", argv[optind - 1]); goto cleanup;
		default:
			if (jobopts__take(&jo, ch, optarg))
				goto cleanup;
		}
	}
	pid_s = orch ? orch : !cgroup && optind < argc ? argv[optind++] : NULL;
	if (optind < argc) {
		ww_err("unexpected argument '%s' (see workerwatch attach --help)", argv[optind]);
		goto cleanup;
	}
	if (orch && cgroup) {
		ww_err("--orchestrator and --cgroup are two ways to attach: give one");
		goto cleanup;
	}
	/* no option is accepted and then ignored */
	if (jo.boundary && !orch) {
		ww_err("--jobs, --ignore, --min-duration and --stopped-is-failure are for --orchestrator PID");
		goto cleanup;
	}
	if (name && !cgroup) {
		ww_err("--name names the watch rule of --cgroup");
		goto cleanup;
	}
	if (cgroup) {
		cJSON_AddStringToObject(jo.body, "cgroup", cgroup);
		if (name)
			cJSON_AddStringToObject(jo.body, "name", name);
		path = "/api/v1/watches";
	} else {
		/* name what is missing, the first thing first */
		if (!pid_s) {
			ww_err("attach: missing PID, the process to track, or --orchestrator PID or --cgroup PATH "
			       "(see workerwatch attach --help)");
			goto cleanup;
		}
		if (!orch && !cJSON_GetObjectItemCaseSensitive(jo.body, "session")) {
			ww_err("attach: missing --session S, the orchestration it belongs to");
			goto cleanup;
		}
		if (!orch && !cJSON_GetObjectItemCaseSensitive(jo.body, "agent")) {
			ww_err("attach: missing --agent A, the worker's name");
			goto cleanup;
		}
		if (parse_id(pid_s, "PID", 4194304, &pid))
			goto cleanup;
		cJSON_AddNumberToObject(jo.body, "pid", (double)pid);
		path = orch ? "/api/v1/orchestrators" : "/api/v1/executions";
	}
	text = cJSON_PrintUnformatted(jo.body);
	ret = call(&c, "POST", path, text);
cleanup:
	free(text);
	jobopts__free(&jo);
	return ret;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' }, { "token-file", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, {},
	};
	struct client_opts c = { client__server(), client__token_file(), false };
	unsigned long long id;
	char path[64];
	int ch;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch == 'S') {
			c.server = optarg;
		} else if (ch == 'T') {
			c.token_file = optarg;
		} else if (ch == 'j') {
			c.json = true;
		} else if (ch == 'h') {
			usage_detach(stdout);
			return 0;
		} else if (ch == ':') {
			ww_err("detach: option %s needs a value", argv[optind - 1]);
			return 2;
		} else {
			ww_err("detach: unknown option '%s' (see workerwatch detach --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (optind == argc) {
		ww_err("detach: missing ID, the execution to stop tracking (see workerwatch detach --help)");
		return 2;
	}
	if (optind < argc - 1) {
		ww_err("detach: one ID only, not also '%s'", argv[optind + 1]);
		return 2;
	}
	if (parse_id(argv[optind], "ID", ~0ULL, &id))
		return 2;
	snprintf(path, sizeof(path), "/api/v1/executions/%llu", id);
	return call(&c, "DELETE", path, NULL);
}
