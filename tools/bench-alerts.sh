#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench, alert part: a worker's kernel event (exit, OOM kill) to the first byte at a local webhook; writes BUILD_DIR/bench-alerts.md.
#
# Usage: tools/bench-alerts.sh [BUILD_DIR]   (root; tools/bench.sh runs it)
# Environment: ALERT_RUNS (runs per event, default 100).
# A benchmark, not a test: it fails only on real errors, never on the numbers.
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
B=${1:-build}
RUNS=${ALERT_RUNS:-100}
MD=$B/bench-alerts.md
LOG=$B/bench-alerts.log
T_P99_MS=1000	# the issue's target, with group_wait 0

die() {
	echo "bench-alerts: $*" >&2
	exit 1
}

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "ALERT_RUNS must be a positive integer, not '$RUNS'"
[ "$(id -u)" -eq 0 ] || die "needs root (BPF); run it through make bench"
for f in workerwatch wwalertlat; do
	[ -x "$B/$f" ] || die "$B/$f is missing; run make bench, which builds it"
done

TMP=$(mktemp -d /tmp/wwbench-alerts.XXXXXX)
CG=""
DAEMON_PID=""
: >"$LOG"
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# SIGUSR1: stop and detach everything, leaving no pinned state behind
	[ -z "$DAEMON_PID" ] || { kill -USR1 "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null || true; }
	[ -z "$CG" ] || rmdir "$CG" 2>/dev/null || true
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT INT TERM

# A free loopback port for the webhook (the daemon's own port is picked by the kernel).
free_port() {
	local p
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 20000))
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
	die "no free port"
}
HOOK_PORT=$(free_port)

cat >"$TMP/config.json" <<EOF
{"evaluation_interval": "5s",
 "rules": [{"id": "failed", "alertname": "WorkerFailed", "metric": "execution_failed", "severity": "warning"},
           {"id": "agent-error-rate", "enabled": false}, {"id": "execution-rate-drop", "enabled": false}],
 "receivers": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:$HOOK_PORT/hook"}],
 "routes": [{"match": ["agent=\"latency\""], "receivers": ["hook"], "group_by": ["..."], "group_wait": "0s"}]}
EOF
"$B/workerwatch" daemon --config "$TMP/config.json" --listen 127.0.0.1:0 --db "$TMP/history.db" \
	--log-dir "$TMP/log" --token-file "$TMP/token" --pin-dir "/sys/fs/bpf/wwbench_alerts_$$" 2>>"$LOG" &
DAEMON_PID=$!
for ((i = 0; i < 100; i++)); do
	PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
	[ -n "$PORT" ] && break
	sleep 0.1
done
[ -n "$PORT" ] || die "the daemon did not start (see $LOG)"
SERVER=http://127.0.0.1:$PORT

# run MODE [CGROUP]: prints the latencies in µs, one per line
measure() {
	local out
	out=$("$B/wwalertlat" --server "$SERVER" --token-file "$TMP/token" --port "$HOOK_PORT" --runs "$RUNS" \
		--mode "$1" ${2:+--cgroup "$2"} 2>>"$LOG") || die "wwalertlat --mode $1 failed (see $LOG): $out"
	echo "$out" | sed -e 's/.*\[//' -e 's/\].*//' | tr ',' '\n'
}

# percentile P of the numbers on stdin (nearest rank), in ms with 1 decimal
pct() {
	sort -n | awk -v p="$1" '{ v[NR] = $1 } END { r = int((NR * p + 99) / 100); if (r < 1) r = 1; printf "%.1f", v[r] / 1000 }'
}

EXIT_US=$(measure exit)
OOM_NOTE="no cgroup v1 memory controller at /sys/fs/cgroup/memory: not measured"
OOM_US=""
if [ -d /sys/fs/cgroup/memory ]; then
	CG=/sys/fs/cgroup/memory/wwbench-oom-$$
	mkdir "$CG"
	echo 32M >"$CG/memory.limit_in_bytes"
	OOM_US=$(measure oom "$CG")
	OOM_NOTE=""
fi

row() {
	local name=$1 vals=$2 cmd=$3 p99
	[ -n "$vals" ] || { printf '| %s | – | – | – | – | %s |\n' "$name" "$OOM_NOTE"; return; }
	p99=$(pct 99 <<<"$vals")
	printf '| %s | %d | %s | %s | %s | %s | `%s` |\n' "$name" "$(wc -l <<<"$vals")" "$(pct 50 <<<"$vals")" \
		"$p99" "$(pct 100 <<<"$vals")" "$(awk -v p="$p99" -v t="$T_P99_MS" 'BEGIN { print (p < t) ? "met" : "not met" }')" "$cmd"
}

{
	cat <<EOF

## Alerts: kernel event to the first byte at a webhook

A worker's real kernel event, then the daemon's whole path: the lifecycle ring
buffer, the execution's finalization (or the OOM mark-victim event), the event rule,
the state change and its notification written to the outbox in one SQLite
transaction, and the sender thread's HTTP POST to a webhook on loopback
(group_wait 0). The clock starts when the worker records the time just before its
event (for an OOM kill: before each 1 MiB it touches, so that figure is an upper
bound) and stops when the webhook reads the request's first byte. Target: p99 under
${T_P99_MS} ms.

| Event | Runs | Median ms | p99 ms | Max ms | Target | Command |
|---|---:|---:|---:|---:|---|---|
EOF
	row "exit 3 (rule on execution_failed)" "$EXIT_US" "wwalertlat --mode exit --runs $RUNS"
	row "OOM kill in a 32 MiB cgroup (oom-kill rule)" "$OOM_US" "wwalertlat --mode oom --cgroup CG --runs $RUNS"
	cat <<EOF

The daemon ran with \`--config\` routing agent \`latency\` to the webhook with
\`group_by: ["..."]\` (one group per alert) and \`group_wait: "0s"\`; each run forks a
worker, attaches it through \`POST /api/v1/executions\` while it waits, then releases
it (tools/bench-alerts.sh, tools/wwalertlat.c).
EOF
} >"$MD"
echo "bench-alerts: wrote $MD" >&2
