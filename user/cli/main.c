// SPDX-License-Identifier: MIT
/* workerwatch: kernel-level eBPF observer for orchestration workers; dispatches subcommands through one table. */
#include <stdio.h>
#include <string.h>
#include "cli/cmd.h"
#include "lib/log.h"
#include "lib/version.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

/*
 * Every command: its name, what runs it, its arguments and a one-line
 * summary, which also make the usage. A row without fn is another form of
 * the command above it, shown in the usage only.
 */
static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *summary;
} cmds[] = {
	{ "run", cmd_run, "[OPTIONS] -- CMD [ARGS...]", "run CMD tracked and report on it" },
	{ "run", NULL, "--orchestrator [--jobs exec:REGEX] -- CMD", "run CMD as an orchestrator: each job an execution" },
	{ "daemon", cmd_daemon, "[OPTIONS]", "serve the HTTP API and keep history" },
	{ "attach", cmd_attach, "PID --session S --agent A", "track a running process tree (via the daemon)" },
	{ "attach", NULL, "--orchestrator PID [--jobs exec:REGEX]", "make the jobs of PID executions, named from the job" },
	{ "attach", NULL, "--cgroup PATH", "track every process in a cgroup and every one joining it" },
	{ "detach", cmd_detach, "ID", "stop tracking an execution" },
	{ "orchestrators", cmd_orchs, "[remove ID]", "the daemon's orchestrators and their own totals" },
	{ "watches", cmd_orchs, "[add RULE | remove ID]", "watch rules: what becomes an execution at exec" },
	{ "top", cmd_top, "[--once] [--interval S]", "live view of the daemon's executions (htop-like)" },
	/* alerting, answered by the daemon (cmd_alerts.c) */
	{ "alerts", cmd_alerts, "[--state S]", "the daemon's alerts, firing first" },
	{ "ack", cmd_alerts, "ID [--comment C]", "acknowledge an alert: no repeats or escalation" },
	{ "unack", cmd_alerts, "ID", "undo an ack" },
	{ "resolve", cmd_alerts, "ID", "resolve an alert by hand" },
	{ "silence", cmd_alerts, "MATCHER... --duration D", "mute matching alerts for a while" },
	/* history queries, answered from the database (cmd_query.c) */
	{ "list", cmd_query, "", "orchestrations in the history (--db PATH, --json)" },
	{ "show", cmd_query, "SESSION", "an orchestration and its executions" },
	{ "executions", cmd_query, "SESSION", "its executions with their metrics" },
	{ "agent", cmd_query, "NAME", "an agent's executions and performance" },
	{ "health", cmd_query, "[HOURS]", "outcomes of the last HOURS (default 24)" },
	{ "performance", cmd_query, "", "per agent: success rate, duration percentiles" },
	{ "failures", cmd_query, "[LIMIT]", "the newest failed executions (default 20)" },
	{ "export", cmd_query, "[SESSION]", "the history as JSON" },
	{ "cleanup", cmd_query, "DAYS", "delete orchestrations idle for DAYS days" },
	/* before installing: what this host gives workerwatch (cmd_check.c) */
	{ "check", cmd_check, "[--json]", "can this host run the daemon? exit 0 ready, 1 degraded, 3 unusable" },
	{ "version", cmd_version, "", "print the version" },
	{ "help", cmd_help, "[COMMAND]", "this help, or COMMAND's with examples" },
};

/* Other names of commands, as options. */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "--version", "version" }, { "--help", "help" }, { "-h", "help" },
};

#define NR_CMDS ((int)(sizeof(cmds) / sizeof(cmds[0])))

static void usage(FILE *out)
{
	fprintf(out, "Usage: workerwatch COMMAND [OPTIONS]\n"
		     "Kernel-level eBPF observer for orchestration workers and all their descendants.\n\n"
		     "Commands:\n");
	for (int i = 0; i < NR_CMDS; i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s%s%s", cmds[i].name, cmds[i].args[0] ? " " : "", cmds[i].args);
		/* a long head gets a line of its own */
		if (strlen(head) > 32)
			fprintf(out, "  %s\n  %-32s %s\n", head, "", cmds[i].summary);
		else
			fprintf(out, "  %-32s %s\n", head, cmds[i].summary);
	}
	fprintf(out, "\nClient commands (attach, detach, top, alerts, ack, unack, resolve, silence, run) read\n"
		     "$WORKERWATCH_URL and $WORKERWATCH_TOKEN_FILE when --server and --token-file are not given.\n"
		     "See workerwatch COMMAND --help (examples included) and man workerwatch(8).\n");
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("workerwatch %s\n", WORKERWATCH_VERSION);
	return 0;
}

static const struct cmd *cmd_select(const char *name);

/* workerwatch help [COMMAND]: the command's own --help, or the list of commands. */
static int cmd_help(int argc, char **argv)
{
	const struct cmd *c = argc > 1 ? cmd_select(argv[1]) : NULL;
	char *sub[] = { argc > 1 ? argv[1] : NULL, "--help", NULL };

	if (argc > 1 && (!c || c->fn == cmd_help)) {
		if (!c)
			ww_err("unknown command '%s' (see workerwatch help)", argv[1]);
		usage(c ? stdout : stderr);
		return c ? 0 : 2;
	}
	if (c)
		return c->fn(2, sub);
	usage(stdout);
	return 0;
}

static const struct cmd *cmd_select(const char *name)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(name, aliases[i].alias))
			name = aliases[i].name;
	for (int i = 0; i < NR_CMDS; i++)
		if (cmds[i].fn && !strcmp(name, cmds[i].name))
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* a history query's options may come first: workerwatch --db PATH list */
	if (!strcmp(argv[1], "--json") || !strncmp(argv[1], "--db", 4))
		return cmd_query(argc - 1, argv + 1);
	c = cmd_select(argv[1]);
	if (!c) {
		ww_err("unknown command '%s' (see workerwatch help)", argv[1]);
		return 2;
	}
	return c->fn(argc - 1, argv + 1);
}
