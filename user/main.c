// SPDX-License-Identifier: MIT
/* workerwatch: kernel-level eBPF observer for orchestration workers; dispatches subcommands. */
#include <stdio.h>
#include <string.h>
#include "cmd.h"
#include "log.h"

#define WORKERWATCH_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: workerwatch COMMAND [OPTIONS]\n"
		"Kernel-level eBPF observer for orchestration workers and all their descendants.\n\n"
		"Commands:\n"
		"  run [OPTIONS] -- CMD [ARGS...]   run CMD tracked and report on it\n"
		"  version                          print the version\n"
		"  help                             this help\n\n"
		"See workerwatch COMMAND --help and man workerwatch(8).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
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
