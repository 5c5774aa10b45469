/* SPDX-License-Identifier: MIT */
/* Entry points of the workerwatch subcommands. */
#ifndef CMD_H
#define CMD_H

/* Exit status workerwatch run uses for its own failures, as timeout(1) and env(1) do. */
#define EXIT_RUN_FAILURE 125

int cmd_run(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_top(int argc, char **argv);
/* Exits with enum preflight_verdict: 0 ready, 1 degraded, 3 unusable, 4 incomplete; 2 usage. */
int cmd_check(int argc, char **argv);
/* orchestrators, watches: argv[0] says which */
int cmd_orchs(int argc, char **argv);
/* alerts, ack, unack, resolve, silence: argv[0] says which */
int cmd_alerts(int argc, char **argv);

#endif
