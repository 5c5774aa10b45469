#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make run: a daemon of its own (own state, port and pins) watching a crew of named agents, until Ctrl-C.
set -uo pipefail
build=${1:?usage: demo.sh BUILD_DIR}
ww="$(cd "$build" && pwd)/workerwatch"
load="$(cd "$build" && pwd)/wwload"
dir=${WORKERWATCH_DEMO_DIR:-/tmp/workerwatch-demo}
port=${WORKERWATCH_DEMO_PORT:-9471}
pins=/sys/fs/bpf/workerwatch-demo
server=http://127.0.0.1:$port
daemon_pid= crew_pid=

# The demo's daemon and every client command talk to each other, never to /var/lib/workerwatch.
export WORKERWATCH_URL=$server WORKERWATCH_TOKEN_FILE=$dir/token

cleanup() {
	trap - INT TERM EXIT
	# first SIGUSR1: the daemon ends what runs as detached (not failed: the demo ends, not the agents)
	# and removes its programs and pins
	[ -n "$daemon_pid" ] && kill -USR1 "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	# then the crew, a process group of its own: all of it at once, so no agent starts after
	[ -n "$crew_pid" ] && kill -TERM -- "-$crew_pid" 2>/dev/null && wait "$crew_pid" 2>/dev/null
	echo
	echo "demo stopped; nothing runs and nothing is left running. Its history stays in $dir:"
	echo "  $ww --db $dir/workerwatch.db list"
	exit 0
}
trap cleanup INT TERM EXIT

mkdir -p "$dir"
if curl -s -o /dev/null "$server/health"; then
	echo "demo: port $port is taken (another demo?); set WORKERWATCH_DEMO_PORT" >&2
	trap - EXIT
	exit 1
fi
# a session of its own: Ctrl-C reaches this script, which stops the daemon with SIGUSR1 itself
setsid "$ww" daemon --listen "127.0.0.1:$port" --db "$dir/workerwatch.db" --log-dir "$dir/log" \
	--token-file "$dir/token" --pin-dir "$pins" --sample-interval-s 1 2> "$dir/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "$server/health" && break
	kill -0 "$daemon_pid" 2>/dev/null || { echo "demo: the daemon did not start: $dir/daemon.log" >&2; daemon_pid=; exit 1; }
	sleep 0.1
done

# The crew: an agent runner that knows nothing of workerwatch. Each round it
# starts its agents with their names in their environment; the planner
# thinks, the coder holds memory, the researcher talks over loopback, the
# tester hammers syscalls (and its flaky suite fails every third round), the
# reviewer waits. Its sleeps are not jobs: only the agents' program is.
cat > "$dir/crew.sh" <<CREW
#!/bin/sh
round=0
while :; do
	round=\$((round + 1))
	AGENT_NAME=planner TASK=plan-round-\$round "$load" cpu 3000 --children 2 > /dev/null &
	AGENT_NAME=coder TASK=implement "$load" mem 256 --hold 6000 > /dev/null &
	AGENT_NAME=researcher TASK=read-docs "$load" demo > /dev/null &
	AGENT_NAME=tester TASK=unit-tests "$load" syscalls 3000000 > /dev/null &
	AGENT_NAME=reviewer TASK=review "$load" sleep 200 30 > /dev/null &
	sleep 3
	if [ \$((round % 3)) -eq 0 ]; then
		AGENT_NAME=tester TASK=flaky-suite "$load" exit 3 > /dev/null
	else
		AGENT_NAME=tester TASK=smoke "$load" exit 0 > /dev/null
	fi
	wait
	sleep 2
done
CREW
chmod +x "$dir/crew.sh"
setsid "$ww" run --orchestrator --session demo --jobs 'exec:/wwload$' --agent '{{env.AGENT_NAME|program}}' \
	--task '{{env.TASK}}' --label 'crew=demo' -- "$dir/crew.sh" 2>> "$dir/daemon.log" &
crew_pid=$!

cat <<MSG

workerwatch is watching a crew of agents (session "demo"), named from their
environment: planner, coder, researcher, tester, reviewer. Its state is in $dir.

  Dashboard:   $server/#token=$(cat "$dir/token")
  Terminal:    WORKERWATCH_URL=$server WORKERWATCH_TOKEN_FILE=$dir/token $ww top
  Orchestrators: WORKERWATCH_URL=$server WORKERWATCH_TOKEN_FILE=$dir/token $ww orchestrators
  Alerts:      WORKERWATCH_URL=$server WORKERWATCH_TOKEN_FILE=$dir/token $ww alerts
  Metrics:     curl -s $server/metrics

Press Ctrl-C to stop.
MSG
wait "$crew_pid"
