#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a command as root: directly when already root, else through sudo.
if [ "$(id -u)" -eq 0 ]; then
	exec "$@"
fi
command -v sudo >/dev/null 2>&1 || { echo "workerwatch needs root and sudo is not installed" >&2; exit 1; }
exec sudo "$@"
