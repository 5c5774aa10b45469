// SPDX-License-Identifier: MIT
/* Unit tests of failure classification and the shell exit status. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "observe/execution.h"
#include "harness.h"

static struct execution *exec_with_root(int status)
{
	struct execution *e = calloc(1, sizeof(*e));
	struct process *p;

	e->pid = 100;
	e->ended = true;
	e->exit_status = status;
	p = execution__add_proc(e, 100, 1);
	p->exited = true;
	p->exit_status = status;
	return e;
}

TEST(classify_success_and_nonzero_exit)
{
	struct execution *e = exec_with_root(0);
	struct failure f;

	execution__classify(e, &f);
	CHECK_EQ(f.category, FAILURE_NONE);
	CHECK_EQ(execution__shell_status(e), 0);
	e->exit_status = 3 << 8;
	execution__classify(e, &f);
	CHECK_EQ(f.category, FAILURE_EXIT_NONZERO);
	CHECK_STR(f.reason, "exited with code 3");
	CHECK_EQ(execution__shell_status(e), 3);
	execution__free(e);
}

TEST(classify_killed_by_another_process)
{
	struct execution *e = exec_with_root(SIGKILL);
	struct failure f;

	e->procs[0].fatal_sig = SIGKILL;
	e->procs[0].sender_pid = 4242;
	strcpy(e->procs[0].sender_comm, "killer");
	execution__classify(e, &f);
	CHECK_EQ(f.category, FAILURE_KILLED);
	CHECK_EQ(f.signal, SIGKILL);
	CHECK_EQ(f.sender_pid, 4242);
	CHECK_STR(f.sender_comm, "killer");
	CHECK_STR(f.reason, "killed by SIGKILL from pid 4242 (killer)");
	CHECK_EQ(execution__shell_status(e), 128 + SIGKILL);
	execution__free(e);
}

TEST(classify_crash_oom_timeout_and_exec_errors)
{
	struct execution *e = exec_with_root(SIGSEGV | 0x80);
	struct failure f;

	e->procs[0].fatal_sig = SIGSEGV;
	e->procs[0].sender_pid = 100;	/* the fault was its own */
	execution__classify(e, &f);
	CHECK_EQ(f.category, FAILURE_CRASHED);
	CHECK(f.core_dumped, "core dump flag lost");

	e->exit_status = SIGKILL;
	e->procs[0].oom_victim = true;
	execution__classify(e, &f);
	CHECK_EQ(f.category, FAILURE_OOM);
	CHECK_EQ(f.oom_victims, 1);

	e->procs[0].oom_victim = false;
	e->exit_status = SIGTERM;
	e->timed_out = true;
	execution__classify(e, &f);
	CHECK_EQ(f.category, FAILURE_TIMEOUT);

	e->timed_out = false;
	e->exec_errno = ENOENT;
	execution__classify(e, &f);
	CHECK_EQ(f.category, FAILURE_NOT_FOUND);
	CHECK_EQ(execution__shell_status(e), 127);
	e->exec_errno = EACCES;
	execution__classify(e, &f);
	CHECK_EQ(f.category, FAILURE_PERMISSION);
	CHECK_EQ(execution__shell_status(e), 126);
	execution__free(e);
}

TEST(find_proc_prefers_the_live_one_after_pid_reuse)
{
	struct execution *e = exec_with_root(0);
	struct process *old, *young;

	old = execution__add_proc(e, 200, 100);
	old->exited = true;
	young = execution__add_proc(e, 200, 100);
	CHECK(execution__find_proc(e, 200) == young, "found the exited process, not the live one");
	CHECK(execution__find_proc(e, 201) == NULL, "found a pid never seen");
	execution__free(e);
}
