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
		"       workerwatch attach --orchestrator PID --session S\n"
		"       workerwatch detach ID\n"
		"Options: --server URL (default %s), --token-file PATH (default %s)\n",
		CLIENT_DEFAULT_SERVER, CLIENT_DEFAULT_TOKEN);
}

int cmd_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "session", required_argument, NULL, 's' }, { "agent", required_argument, NULL, 'a' },
		{ "task", required_argument, NULL, 't' }, { "label", required_argument, NULL, 'l' },
		{ "orchestrator", required_argument, NULL, 'o' }, { "server", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 'T' }, { "help", no_argument, NULL, 'h' }, {},
	};
	struct client_opts c = { CLIENT_DEFAULT_SERVER, CLIENT_DEFAULT_TOKEN };
	const char *session = NULL, *agent = NULL, *task = NULL, *orch = NULL, *pid_s = NULL;
	cJSON *body = cJSON_CreateObject(), *labels = cJSON_CreateObject();
	unsigned long long pid;
	char *text = NULL;
	int ch, ret = 2;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': session = optarg; break;
		case 'a': agent = optarg; break;
		case 't': task = optarg; break;
		case 'o': orch = optarg; break;
		case 'S': c.server = optarg; break;
		case 'T': c.token_file = optarg; break;
		case 'l': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg) {
				ww_err("--label wants KEY=VALUE, not '%s'", optarg);
				goto cleanup;
			}
			*eq = 0;
			cJSON_AddStringToObject(labels, optarg, eq + 1);
			break;
		}
		case 'h': usage(stdout); ret = 0; goto cleanup;
		case ':': ww_err("option %s needs a value", argv[optind - 1]); goto cleanup;
		default: ww_err("unknown option '%s' (see workerwatch attach --help)", argv[optind - 1]); goto cleanup;
		}
	}
	pid_s = orch ? orch : optind < argc ? argv[optind++] : NULL;
	if (!pid_s || optind < argc || !session || (!orch && !agent)) {
		ww_err(orch ? "usage: workerwatch attach --orchestrator PID --session S"
			    : "usage: workerwatch attach PID --session S --agent A [--task T]");
		goto cleanup;
	}
	if (parse_id(pid_s, "PID", 4194304, &pid))
		goto cleanup;
	cJSON_AddNumberToObject(body, "pid", (double)pid);
	cJSON_AddStringToObject(body, "session", session);
	if (!orch) {
		cJSON_AddStringToObject(body, "agent", agent);
		if (task)
			cJSON_AddStringToObject(body, "task", task);
		cJSON_AddItemToObject(body, "labels", labels);
		labels = NULL;
	}
	text = cJSON_PrintUnformatted(body);
	ret = call(&c, "POST", orch ? "/api/v1/orchestrators" : "/api/v1/executions", text);
cleanup:
	free(text);
	cJSON_Delete(body);
	cJSON_Delete(labels);
	return ret;
}

int cmd_detach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' }, { "token-file", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' }, {},
	};
	struct client_opts c = { CLIENT_DEFAULT_SERVER, CLIENT_DEFAULT_TOKEN };
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
