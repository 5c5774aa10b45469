// SPDX-License-Identifier: MIT
/* workerwatch attach / detach: ask the daemon to track a running process tree, or to stop. */
#include <errno.h>
#include <getopt.h>
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

/* Sends the request and prints the answer; the exit status of the command. */
static int call(const struct client_opts *c, const char *method, const char *path, const char *body)
{
	char *out = NULL, msg[512];
	int status = client__request(c->server, c->token_file, method, path, body, &out);

	if (status < 0) {
		ww_err("cannot reach the daemon at %s: %s (is `workerwatch daemon` running?)", c->server,
		       strerror(-status));
		return 1;
	}
	if (status >= 300) {
		ww_err("%s %s: %d %s", method, path, status, client__error_text(out, msg, sizeof(msg)));
		free(out);
		return 1;
	}
	printf("%s\n", out);
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
		"       workerwatch detach ID\n\n"
		"attach PID tracks a running process tree; --orchestrator PID makes its jobs executions;\n"
		"--cgroup PATH tracks every process in a cgroup (v1 or v2) and every one that joins it later\n"
		"(a watch rule: `workerwatch watches` lists it).\n\n"
		JOBOPTS_HELP
		"  --server URL        the daemon (default $WORKERWATCH_URL or %s)\n"
		"  --token-file PATH   its token (default $WORKERWATCH_TOKEN_FILE or %s)\n",
		CLIENT_DEFAULT_SERVER, CLIENT_DEFAULT_TOKEN);
}

int cmd_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		JOBOPTS_LONGOPTS,
		{ "orchestrator", required_argument, NULL, 'o' }, { "cgroup", required_argument, NULL, 'g' },
		{ "name", required_argument, NULL, 'n' }, { "server", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 'T' }, { "help", no_argument, NULL, 'h' }, {},
	};
	struct client_opts c = { client__server(), client__token_file() };
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
		case 'h': usage(stdout); ret = 0; goto cleanup;
		case ':': ww_err("option %s needs a value", argv[optind - 1]); goto cleanup;
		case '?': ww_err("unknown option '%s' (see workerwatch attach --help)", argv[optind - 1]); goto cleanup;
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
		if (!pid_s || (!orch && (!cJSON_GetObjectItemCaseSensitive(jo.body, "session") ||
					 !cJSON_GetObjectItemCaseSensitive(jo.body, "agent")))) {
			ww_err(orch ? "usage: workerwatch attach --orchestrator PID [--session S] [--jobs ...]"
				    : "usage: workerwatch attach PID --session S --agent A [--task T]");
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
		{ "help", no_argument, NULL, 'h' }, {},
	};
	struct client_opts c = { client__server(), client__token_file() };
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
		} else if (ch == 'h') {
			usage(stdout);
			return 0;
		} else {
			ww_err("unknown option or missing value '%s' (see workerwatch detach --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc - 1) {
		ww_err("usage: workerwatch detach ID");
		return 2;
	}
	if (parse_id(argv[optind], "ID", ~0ULL, &id))
		return 2;
	snprintf(path, sizeof(path), "/api/v1/executions/%llu", id);
	return call(&c, "DELETE", path, NULL);
}
