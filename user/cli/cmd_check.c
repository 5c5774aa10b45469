// SPDX-License-Identifier: MIT
/* workerwatch check: a preflight table of what this host gives workerwatch, with an exit status for scripts. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli/cmd.h"
#include "lib/log.h"
#include "observe/preflight.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: workerwatch check [--json] [-v]\n"
		"Checks whether this host can run the workerwatch daemon: kernel BTF, the BPF program\n"
		"and map types, each hook, memlock, bpffs and cgroups. As root it loads and attaches\n"
		"the real programs for a moment. Prints what works and which metrics would be\n"
		"unavailable. Needs Linux %s or later. -v logs the daemon's own messages, -vv\n"
		"libbpf's and the verifier's.\n\n"
		"Exit status: %d ready, %d degraded (runs without the listed metrics), %d unusable,\n"
		"%d incomplete (run as root to probe BPF), 2 usage error.\n",
		PREFLIGHT_MIN_KERNEL, PREFLIGHT_READY, PREFLIGHT_DEGRADED, PREFLIGHT_UNUSABLE,
		PREFLIGHT_INCOMPLETE);
}

/* The distinct metrics the missing rows cost, in order. */
static int unavailable(const struct preflight_row *rows, int n, const char **out)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		bool seen = false;

		if (rows[i].result != PREFLIGHT_MISSING || !rows[i].lost)
			continue;
		for (int j = 0; j < k; j++)
			seen |= !strcmp(out[j], rows[i].lost);
		if (!seen)
			out[k++] = rows[i].lost;
	}
	return k;
}

static int print_json(const struct preflight_row *rows, int n, enum preflight_verdict v,
		      const char **lost, int nlost)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "checks");
	cJSON *un = cJSON_AddArrayToObject(root, "unavailable");
	char *text;

	for (int i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", rows[i].name);
		cJSON_AddStringToObject(o, "result", preflight__result_name(rows[i].result));
		cJSON_AddStringToObject(o, "detail", rows[i].detail);
		if (rows[i].lost)
			cJSON_AddStringToObject(o, "unavailable", rows[i].lost);
		cJSON_AddItemToArray(arr, o);
	}
	for (int i = 0; i < nlost; i++)
		cJSON_AddItemToArray(un, cJSON_CreateString(lost[i]));
	cJSON_AddStringToObject(root, "verdict", preflight__verdict_name(v));
	cJSON_AddNumberToObject(root, "exit_status", v);
	cJSON_AddStringToObject(root, "minimum_kernel", PREFLIGHT_MIN_KERNEL);
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -1;
	printf("%s\n", text);
	free(text);
	return 0;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct preflight_row *rows = NULL;
	const char *lost[64];
	bool json = false;
	int ch, n, nlost;
	enum preflight_verdict v;

	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
		if (ch == 'j') {
			json = true;
		} else if (ch == 'v') {
			log_verbosity++;
		} else if (ch == 'h') {
			usage(stdout);
			return 0;
		} else {
			ww_err("unknown option '%s' (see workerwatch check --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		ww_err("unexpected argument '%s' (see workerwatch check --help)", argv[optind]);
		return 2;
	}
	n = preflight__run(&rows);
	if (n < 0) {
		ww_err("cannot run the checks: %s", strerror(-n));
		return PREFLIGHT_UNUSABLE;
	}
	v = preflight__verdict(rows, n);
	nlost = unavailable(rows, n, lost);
	if (json) {
		print_json(rows, n, v, lost, nlost);
	} else {
		printf("%-36s %-8s %s\n", "CHECK", "RESULT", "DETAIL");
		for (int i = 0; i < n; i++)
			printf("%-36s %-8s %s\n", rows[i].name, preflight__result_name(rows[i].result), rows[i].detail);
		printf("\nUnavailable metrics: ");
		for (int i = 0; i < nlost; i++)
			printf("%s%s", i ? ", " : "", lost[i]);
		printf("%s\n", nlost ? "" : "none");
		printf("Verdict: %s (exit status %d)\n", preflight__verdict_name(v), v);
	}
	free(rows);
	return v;
}
