// SPDX-License-Identifier: MIT
/* workerwatch alerts / ack / unack / resolve / silence: the daemon's alerts from the command line. */
#include <ctype.h>
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

struct alert_opts {
	const char *server;
	const char *token_file;
	const char *state;
	const char *by;
	const char *comment;
	const char *expires;
	const char *duration;
	bool json;
};

/* Each command's --help: its forms, what it does, its options and examples. */
static const struct {
	const char *name, *text;
} helps[] = {
	{ "alerts",
	  "Usage: workerwatch alerts [--state pending|firing|resolving|resolved|active] [--json]\n"
	  "The daemon's alerts, firing first: ID, state, severity, acknowledged, name, since (UTC, to the\n"
	  "millisecond), value and summary.\n\n"
	  "  --state S            only alerts in state S (active: pending, firing or resolving)\n"
	  "  --json               the daemon's JSON instead of a table\n"
	  "%s"
	  "Examples:\n"
	  "  workerwatch alerts\n"
	  "  workerwatch alerts --state firing --json | jq -r '.[].labels.agent'\n" },
	{ "ack",
	  "Usage: workerwatch ack ID [--comment TEXT] [--by NAME] [--expires DURATION] [--json]\n"
	  "Acknowledges alert ID: no repeats and no escalation while it stays acknowledged.\n\n"
	  "  --comment TEXT       why, for the others on call\n"
	  "  --by NAME            who (default: the daemon records \"cli\")\n"
	  "  --expires DURATION   the ack ends by itself after DURATION (e.g. 30m, 4h)\n"
	  "  --json               the alert as JSON instead of a sentence\n"
	  "%s"
	  "Examples:\n"
	  "  workerwatch ack 3f2a9c0d1e4b5a69 --comment 'rebuilding the cache' --expires 2h\n" },
	{ "unack",
	  "Usage: workerwatch unack ID [--json]\n"
	  "Undoes an ack: repeats and escalation resume.\n\n"
	  "  --json               the alert as JSON instead of a sentence\n"
	  "%s"
	  "Examples:\n"
	  "  workerwatch unack 3f2a9c0d1e4b5a69\n" },
	{ "resolve",
	  "Usage: workerwatch resolve ID [--by NAME] [--json]\n"
	  "Resolves an alert by hand; it fires again if its rule still holds.\n\n"
	  "  --by NAME            who resolved it\n"
	  "  --json               the alert as JSON instead of a sentence\n"
	  "%s"
	  "Examples:\n"
	  "  workerwatch resolve 3f2a9c0d1e4b5a69 --by alice\n" },
	{ "silence",
	  "Usage: workerwatch silence MATCHER... --duration DURATION [--comment TEXT] [--by NAME] [--json]\n"
	  "Mutes the alerts that match every MATCHER for DURATION; prints the silence's id.\n"
	  "A MATCHER is like agent=\"builder\", severity!=\"info\" or alertname=~\"Worker.*\".\n\n"
	  "  --duration DURATION  how long (e.g. 90m, 2h, 1d)\n"
	  "  --comment TEXT       why\n"
	  "  --by NAME            who (default cli)\n"
	  "  --json               the daemon's JSON answer instead of the id\n"
	  "%s"
	  "Examples:\n"
	  "  workerwatch silence agent=builder --duration 2h --comment 'deploying'\n"
	  "  workerwatch silence 'alertname=~\"Worker.*\"' host=ci-7 --duration 30m\n" },
};

static void usage(FILE *out, const char *cmd)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (!strcmp(cmd, helps[i].name)) {
			fprintf(out, helps[i].text, CLIENT_OPTIONS_HELP "  -h, --help           this help\n\n");
			break;
		}
	fprintf(out, "\nAn ID is the alert's fingerprint (16 hex digits) as `workerwatch alerts` shows it.\n"
		     "Exit status: 0 done, 1 the daemon refused (unknown alert) or cannot be reached, 2 usage error.\n");
}

/* Sends the request; on success *out holds the body. The exit status of the command otherwise. */
static int call(const struct alert_opts *o, const char *method, const char *path, const char *body, char **out)
{
	return client__call(o->server, o->token_file, method, path, body, out);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static void print_table(const cJSON *alerts)
{
	const cJSON *a;

	printf("%-16s  %-9s  %-8s  %-3s  %-26s  %-24s  %-12s  %s\n", "ID", "STATE", "SEVERITY", "ACK",
	       "ALERTNAME", "SINCE (UTC)", "VALUE", "SUMMARY");
	cJSON_ArrayForEach(a, alerts) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "value");
		const cJSON *ann = cJSON_GetObjectItemCaseSensitive(a, "annotations");
		char value[32] = "-";

		if (cJSON_IsNumber(v))
			snprintf(value, sizeof(value), "%.4g", v->valuedouble);
		/* the whole RFC 3339 time, milliseconds and zone included */
		printf("%-16s  %-9s  %-8s  %-3s  %-26s  %-24s  %-12s  %s\n", str(a, "id"), str(a, "state"),
		       str(a, "severity"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "acknowledged")) ? "yes" : "no",
		       str(a, "alertname"), str(a, "started_at"), value, str(ann, "summary"));
	}
	if (!cJSON_GetArraySize(alerts))
		printf("(no alerts)\n");
}

static bool valid_id(const char *id)
{
	size_t n = strlen(id);

	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
			return false;
	return n == 16;
}

static int list(const struct alert_opts *o)
{
	char path[128], *out = NULL;
	cJSON *arr;
	int ret;

	snprintf(path, sizeof(path), "/api/v1/alerts%s%s", o->state ? "?state=" : "", o->state ? o->state : "");
	ret = call(o, "GET", path, NULL, &out);
	if (ret)
		return ret;
	arr = cJSON_Parse(out);
	if (!cJSON_IsArray(arr)) {
		ww_err("the daemon answered something that is not a list of alerts");
		ret = 1;
	} else if (o->json) {
		printf("%s\n", out);
	} else {
		print_table(arr);
	}
	cJSON_Delete(arr);
	free(out);
	return ret;
}

/* ack, unack, resolve: POST /api/v1/alerts/ID/VERB with the options as the body. */
static int act(const struct alert_opts *o, const char *verb, const char *id)
{
	cJSON *body = cJSON_CreateObject(), *alert;
	char path[128], *text, *out = NULL;
	int ret;

	if (!valid_id(id)) {
		ww_err("an alert id is 16 lowercase hex digits, not '%s'", id);
		cJSON_Delete(body);
		return 2;
	}
	if (o->by)
		cJSON_AddStringToObject(body, "by", o->by);
	if (o->comment)
		cJSON_AddStringToObject(body, "comment", o->comment);
	if (o->expires)
		cJSON_AddStringToObject(body, "expires", o->expires);
	text = cJSON_PrintUnformatted(body);
	snprintf(path, sizeof(path), "/api/v1/alerts/%s/%s", id, verb);
	ret = call(o, "POST", path, text, &out);
	if (!ret) {
		alert = cJSON_Parse(out);
		if (o->json)
			printf("%s\n", out);
		else
			printf("%s %s: %s%s\n", id, str(alert, "alertname"), str(alert, "state"),
			       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(alert, "acknowledged")) ?
			       ", acknowledged" : "");
		cJSON_Delete(alert);
	}
	free(out);
	free(text);
	cJSON_Delete(body);
	return ret;
}

static int silence(const struct alert_opts *o, char **matchers, int n)
{
	cJSON *body = cJSON_CreateObject(), *ms = cJSON_AddArrayToObject(body, "matchers"), *res;
	char *text, *out = NULL;
	int ret;

	if (!n || !o->duration) {
		ww_err(!n ? "silence: missing MATCHER, e.g. agent=builder (see workerwatch silence --help)"
			  : "silence: missing --duration DURATION, e.g. --duration 2h");
		cJSON_Delete(body);
		return 2;
	}
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(ms, cJSON_CreateString(matchers[i]));
	cJSON_AddStringToObject(body, "duration", o->duration);
	cJSON_AddStringToObject(body, "createdBy", o->by ? o->by : "cli");
	cJSON_AddStringToObject(body, "comment", o->comment ? o->comment : "");
	text = cJSON_PrintUnformatted(body);
	ret = call(o, "POST", "/api/v1/silences", text, &out);
	if (!ret && o->json) {
		printf("%s\n", out);
	} else if (!ret) {
		res = cJSON_Parse(out);
		printf("%s\n", str(res, "silenceID"));
		cJSON_Delete(res);
	}
	free(out);
	free(text);
	cJSON_Delete(body);
	return ret;
}

int cmd_alerts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "by", required_argument, NULL, 'b' }, { "comment", required_argument, NULL, 'c' },
		{ "expires", required_argument, NULL, 'e' }, { "duration", required_argument, NULL, 'd' },
		{ "server", required_argument, NULL, 'S' }, { "token-file", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' }, {},
	};
	static const char *const states[] = { "pending", "firing", "resolving", "resolved", "active" };
	struct alert_opts o = { .server = client__server(), .token_file = client__token_file() };
	const char *cmd = argv[0];
	bool state_ok = false;
	int ch, npos;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o.state = optarg; break;
		case 'j': o.json = true; break;
		case 'b': o.by = optarg; break;
		case 'c': o.comment = optarg; break;
		case 'e': o.expires = optarg; break;
		case 'd': o.duration = optarg; break;
		case 'S': o.server = optarg; break;
		case 'T': o.token_file = optarg; break;
		case 'h': usage(stdout, cmd); return 0;
		case ':': ww_err("%s: option %s needs a value", cmd, argv[optind - 1]); return 2;
		default: ww_err("%s: unknown option '%s' (see workerwatch %s --help)", cmd, argv[optind - 1], cmd); return 2;
		}
	}
	npos = argc - optind;
	for (size_t i = 0; o.state && i < sizeof(states) / sizeof(states[0]); i++)
		state_ok |= !strcmp(o.state, states[i]);
	if (o.state && !state_ok) {
		ww_err("--state wants pending, firing, resolving, resolved or active, not '%s'", o.state);
		return 2;
	}
	if (!strcmp(cmd, "alerts")) {
		if (npos) {
			ww_err("alerts takes no arguments, not '%s' (see workerwatch alerts --help)", argv[optind]);
			return 2;
		}
		return list(&o);
	}
	if (!strcmp(cmd, "silence"))
		return silence(&o, argv + optind, npos);
	if (npos != 1) {
		ww_err(npos ? "%s: one alert ID only (see workerwatch %s --help)"
			    : "%s: missing ID, the alert's 16 hex digits as `workerwatch alerts` shows them (see workerwatch %s --help)",
		       cmd, cmd);
		return 2;
	}
	return act(&o, !strcmp(cmd, "ack") ? "ack" : cmd, argv[optind]);
}
