// SPDX-License-Identifier: MIT
/* wwswarm: a worker tree of mostly idle processes that wake periodically to do a little work, for make bench. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GROUP 5		/* processes per sub-tree: a group leader and its helpers */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wwswarm [--pidfile FILE] [--period-ms MS] [--work-us US] PROCS\n"
		"Starts a tree of PROCS processes: this leader, which only waits, and PROCS-1\n"
		"workers in groups of %d (a group leader and its children). Every worker wakes\n"
		"each MS ms (default 100, phases spread), spins US us (default 20), makes a few\n"
		"syscalls and sleeps again. FILE gets the leader's pid once every process exists.\n"
		"SIGTERM, SIGINT or SIGHUP ends the whole tree; the leader exits once all are gone.\n",
		GROUP);
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A worker's life: sleep to the next period, spin, a few cheap syscalls; until its parent dies or it is signalled. */
static void __attribute__((noreturn)) worker(long period_ms, long work_us)
{
	uint64_t period = (uint64_t)period_ms * 1000000ULL, next;
	volatile unsigned int sink = (unsigned int)getpid();
	char buf[64];
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct timespec ts;

	memset(buf, 'w', sizeof(buf));
	/* Spread the phases so the tree does not wake in one burst. */
	next = mono_ns() + (uint64_t)((unsigned int)getpid() * 2654435761u % (unsigned int)(period_ms * 1000)) * 1000ULL;
	for (;;) {
		uint64_t until;

		ts.tv_sec = (time_t)(next / 1000000000ULL);
		ts.tv_nsec = (long)(next % 1000000000ULL);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		until = mono_ns() + (uint64_t)work_us * 1000ULL;
		while (mono_ns() < until)
			sink = sink * 1103515245u + 12345u;
		syscall(SYS_getppid);
		if (null_fd >= 0) {
			if (write(null_fd, buf, sizeof(buf)) < 0 || read(null_fd, buf, sizeof(buf)) < 0)
				sink++;
		}
		next += period;
		/* Fell behind (stopped, starved): skip the missed periods rather than burst. */
		if (next < mono_ns())
			next = mono_ns() + period;
	}
}

/* Forks a child that dies with its parent (no orphans if the tree's leader is killed); 0 in the child. */
static pid_t fork_tied(void)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(1);
	}
	return pid;
}

int main(int argc, char **argv)
{
	const char *pidfile = NULL;
	long procs = 0, period_ms = 100, work_us = 20;
	int ready[2] = { -1, -1 }, groups = 0, err = 0, sig = 0, i;
	sigset_t set;
	char c;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (i + 1 < argc && !strcmp(argv[i], "--pidfile")) {
			pidfile = argv[++i];
		} else if (i + 1 < argc && !strcmp(argv[i], "--period-ms")) {
			if (parse_long(argv[++i], 1, 60000, &period_ms))
				goto bad;
		} else if (i + 1 < argc && !strcmp(argv[i], "--work-us")) {
			if (parse_long(argv[++i], 0, 1000000, &work_us))
				goto bad;
		} else {
			goto bad;
		}
	}
	if (i != argc - 1 || parse_long(argv[i], 1, 100000, &procs))
		goto bad;

	/* The leader waits for signals with sigwait; its children restore the defaults. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* Own process group, so the whole tree can be signalled at once; and reaper of every descendant. */
	if ((setpgid(0, 0) && getpgrp() != getpid()) || prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		fprintf(stderr, "wwswarm: cannot lead a process group: %s\n", strerror(errno));
		return 1;
	}
	if (pipe2(ready, O_CLOEXEC)) {
		err = -errno;
		fprintf(stderr, "wwswarm: cannot create a pipe: %s\n", strerror(-err));
		goto cleanup;
	}

	for (long left = procs - 1; left > 0; left -= GROUP, groups++) {
		long helpers = (left < GROUP ? left : GROUP) - 1;
		pid_t pid = fork_tied();

		if (pid < 0) {
			err = -errno;
			fprintf(stderr, "wwswarm: cannot fork: %s\n", strerror(-err));
			goto cleanup;
		}
		if (pid == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			close(ready[0]);
			for (long h = 0; h < helpers; h++) {
				pid_t hp = fork_tied();

				if (hp < 0)
					_exit(1);
				if (hp == 0) {
					close(ready[1]);
					worker(period_ms, work_us);
				}
			}
			/* This group exists: tell the leader. */
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			close(ready[1]);
			worker(period_ms, work_us);
		}
	}
	close(ready[1]);
	ready[1] = -1;
	for (i = 0; i < groups; i++) {
		if (read(ready[0], &c, 1) != 1) {
			err = -EIO;
			fprintf(stderr, "wwswarm: a group failed to start\n");
			goto cleanup;
		}
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			err = -errno;
			fprintf(stderr, "wwswarm: cannot write %s: %s\n", pidfile, strerror(-err));
			goto cleanup;
		}
	}
	if (sigwait(&set, &sig) == 0)
		err = 0;

cleanup:
	/* The leader has the signals blocked; everything else in its group ends now. */
	kill(-getpgrp(), SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	if (ready[0] >= 0)
		close(ready[0]);
	if (ready[1] >= 0)
		close(ready[1]);
	return err ? 1 : 0;

bad:
	usage(stderr);
	return 2;
}
