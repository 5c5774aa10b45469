// SPDX-License-Identifier: MIT
/* workerwatch daemon: parses the settings and runs the daemon in the foreground. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cmd.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "lib/log.h"

int cmd_daemon(int argc, char **argv)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return 1;
	config__defaults(&d->cfg);
	err = config__parse(&d->cfg, argc, argv);
	if (err) {
		free(d);
		return err < 0 ? 0 : err;
	}
	if (geteuid() != 0) {
		ww_err("daemon needs root to load BPF programs");
		free(d);
		return 1;
	}
	err = daemon__run(d);
	free(d);
	return err;
}
