/* SPDX-License-Identifier: MIT */
/* What workerwatch run and its orchestrator mode share: options, the held child, signals. */
#ifndef RUN_H
#define RUN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/types.h>
#include "cli/jobopts.h"

struct run_opts {
	const char *session;
	const char *agent;
	const char *task;
	const char *json_path;
	const char *server;
	const char *token_file;
	bool no_daemon;
	bool orchestrator;		/* --orchestrator: CMD's jobs are the executions */
	struct jobopts names;		/* the names and job boundary of --orchestrator (an API body) */
	__u64 slow_syscall_ns;
	__u64 timeout_ns;
	char **argv;
};

/* A signal workerwatch got, to pass on to CMD (0: none). */
extern volatile sig_atomic_t run_pending_signal;

/*
 * Forks the child, which waits on go_fd before exec so that it is tracked
 * from its first instruction; an exec failure comes back through err_fd.
 */
pid_t run__spawn_held(char **argv, int *go_fd, int *err_fd);
/* The wait(2) status of a waitid(2) result. */
int run__status_of(const siginfo_t *si);

/* workerwatch run --orchestrator: CMD's jobs, through the daemon when one runs, else in its own report. */
int run__orchestrator(struct run_opts *o);

#endif
