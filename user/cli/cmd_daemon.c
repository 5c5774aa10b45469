// SPDX-License-Identifier: MIT
/* workerwatch daemon: parses the settings and runs the daemon in the foreground. */
#include <unistd.h>
#include "cli/cmd.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "lib/log.h"

int cmd_daemon(int argc, char **argv)
{
	struct config cfg;
	int err;

	/* a daemon says where it listens and when it stops; -v adds debug output */
	log_verbosity = LOG_INFO;
	config__defaults(&cfg);
	err = config__parse(&cfg, argc, argv);
	if (err)
		return err < 0 ? 0 : err;
	if (geteuid() != 0) {
		ww_err("daemon needs root to load BPF programs");
		return 1;
	}
	return daemon__run(&cfg);
}
