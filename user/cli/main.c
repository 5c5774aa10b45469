// SPDX-License-Identifier: MIT
/* workerwatch: kernel-level eBPF observer for orchestration workers; dispatches subcommands. */
#include <stdio.h>
#include <string.h>
#include "cli/cmd.h"
#include "lib/log.h"
#include "lib/version.h"


static void usage(FILE *out)
{
	fprintf(out,
		"Usage: workerwatch COMMAND [OPTIONS]\n"
		"Kernel-level eBPF observer for orchestration workers and all their descendants.\n\n"
		"Commands:\n"
		"  run [OPTIONS] -- CMD [ARGS...]   run CMD tracked and report on it\n"
		"  daemon [OPTIONS]                 serve the HTTP API and keep history\n"
		"  attach PID --session S --agent A track a running process tree (via the daemon)\n"
		"  attach --orchestrator PID --session S\n"
		"                                   make each child of PID an execution\n"
		"  detach ID                        stop tracking an execution\n"
		"  top [--once] [--interval S]      live view of the daemon's executions (htop-like)\n"
		"  alerts [--state S]               the daemon's alerts, firing first\n"
		"  ack ID [--comment C]             acknowledge an alert: no repeats or escalation\n"
		"  unack ID, resolve ID             undo an ack; resolve an alert by hand\n"
		"  silence MATCHER... --duration D  mute matching alerts for a while\n"
		"  list                             orchestrations in the history (--db PATH, --json)\n"
		"  show SESSION                     an orchestration and its executions\n"
		"  executions SESSION               its executions with their metrics\n"
		"  agent NAME                       an agent's executions and performance\n"
		"  health [HOURS]                   outcomes of the last HOURS (default 24)\n"
		"  performance                      per agent: success rate, duration percentiles\n"
		"  failures [LIMIT]                 the newest failed executions (default 20)\n"
		"  export [SESSION]                 the history as JSON\n"
		"  cleanup DAYS                     delete orchestrations idle for DAYS days\n"
		"  version                          print the version\n"
		"  help                             this help\n\n"
		"See workerwatch COMMAND --help and man workerwatch(8).\n");
}

int main(int argc, char **argv)
{
	/* history queries, answered from the database */
	static const char *const query_cmds[] = { "list", "show", "executions", "agent", "health",
						  "performance", "failures", "export", "cleanup" };
	/* alerting, answered by the daemon */
	static const char *const alert_cmds[] = { "alerts", "ack", "unack", "resolve", "silence" };

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "daemon"))
		return cmd_daemon(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return cmd_attach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "detach"))
		return cmd_detach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "top"))
		return cmd_top(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(alert_cmds) / sizeof(alert_cmds[0]); i++)
		if (!strcmp(argv[1], alert_cmds[i]))
			return cmd_alerts(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(query_cmds) / sizeof(query_cmds[0]); i++)
		if (!strcmp(argv[1], query_cmds[i]))
			return cmd_query(argc - 1, argv + 1);
	/* query options may come first: workerwatch --db PATH list */
	if (!strcmp(argv[1], "--json") || !strncmp(argv[1], "--db", 4))
		return cmd_query(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("workerwatch %s\n", WORKERWATCH_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	ww_err("unknown command '%s' (see workerwatch help)", argv[1]);
	return 2;
}
