#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make run: the daemon on its defaults with a small demo orchestration, until Ctrl-C.
set -uo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
ww="$build/workerwatch"
load="$(cd "$build" && pwd)/wwload"
server=http://127.0.0.1:9470
token=/var/lib/workerwatch/token
daemon_pid= orch_pid=

# Stops a process and all its descendants, children first found, then the rest.
kill_tree() {
	local child
	for child in $(pgrep -P "$1"); do
		kill_tree "$child"
	done
	kill -TERM "$1" 2>/dev/null
}

cleanup() {
	trap - INT TERM EXIT
	[ -n "$orch_pid" ] && kill_tree "$orch_pid"
	# SIGUSR1: the daemon stops and detaches everything, so nothing of the demo stays in the kernel
	[ -n "$daemon_pid" ] && kill -USR1 "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	echo
	echo "demo stopped; history stays in /var/lib/workerwatch (workerwatch list)"
	exit 0
}
trap cleanup INT TERM EXIT

if curl -sf -o /dev/null "$server/health"; then
	echo "using the daemon already running at $server"
else
	"$ww" daemon --sample-interval-s 1 &
	daemon_pid=$!
	for _ in $(seq 100); do
		curl -sf -o /dev/null "$server/health" && break
		kill -0 "$daemon_pid" 2>/dev/null || { echo "demo: the daemon did not start" >&2; daemon_pid=; exit 1; }
		sleep 0.1
	done
fi

# The orchestrator: every round, workers that compute, allocate, talk over
# loopback and sleep, and one that fails; each child becomes an execution.
orchestrate() {
	read -r _ <&3
	while :; do
		"$load" cpu 4000 --children 2 > /dev/null &
		"$load" mem 256 --hold 6000 > /dev/null &
		"$load" demo > /dev/null &
		"$load" sleep 200 30 > /dev/null &
		"$load" syscalls 3000000 > /dev/null &
		pause 3
		"$load" exit 3 > /dev/null
		wait
		pause 2
	done
}

# A sleep without a child process, which would become an execution of its own.
pause() {
	read -r -t "$1" _ <&3
}
fifo=$(mktemp -u /tmp/workerwatch-demo.XXXXXX)
mkfifo "$fifo"
exec 3<> "$fifo"	# read-write: opening never blocks, and reads wait until timeout
orchestrate &
orch_pid=$!
"$ww" attach --orchestrator "$orch_pid" --session demo --server "$server" --token-file "$token" > /dev/null ||
	{ echo "demo: cannot attach the demo orchestrator" >&2; exit 1; }
echo go >&3
rm -f "$fifo"

cat <<MSG

workerwatch is watching a demo orchestration (session "demo").

  Dashboard:   $server/#token=$(cat "$token")
  Terminal:    $ww top
  Alerts:      $ww alerts
  API:         curl -s $server/api/v1/executions
  Metrics:     curl -s $server/metrics

Press Ctrl-C to stop.
MSG
wait "$orch_pid"
