#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench, daemon part: /metrics and API latency, RSS, CPU and /health throughput of workerwatch daemon tracking 1,000 processes; writes BUILD_DIR/bench-daemon.md.
#
# Usage: tools/bench-daemon.sh [BUILD_DIR]   (root; run from anywhere; tools/bench.sh runs it)
# Environment: EXECS (executions, default 50), PROCS (processes per execution, default 20),
# REQS (requests per latency figure, default 50), IDLE_S (CPU window, default 30 s),
# WRK_S (wrk duration, default 10 s).
# A benchmark, not a test: it fails only on real errors, never on the numbers.
set -euo pipefail
export LC_ALL=C	# EPOCHREALTIME and printf must use '.' as the decimal separator

cd "$(dirname "$0")/.."
B=${1:-build}
EXECS=${EXECS:-50}
PROCS=${PROCS:-20}
REQS=${REQS:-50}
IDLE_S=${IDLE_S:-30}
WRK_S=${WRK_S:-10}
SAMPLE_S=5		# the daemon's --sample-interval-s
SETTLE_S=6		# after every process is tracked: at least one sampling round before measuring
MD=$B/bench-daemon.md
LOG=$B/bench-daemon.log
# The issue's targets.
T_METRICS_MS=50
T_RSS_MIB=64
T_CPU_PCT=2

die() {
	echo "bench-daemon: $*" >&2
	exit 1
}

for v in EXECS PROCS REQS IDLE_S WRK_S; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
((PROCS >= 2)) || die "PROCS must be at least 2 (a leader and a worker)"
[ "$(id -u)" -eq 0 ] || die "needs root (BPF); run it through make bench"
for f in workerwatch wwswarm; do
	[ -x "$B/$f" ] || die "$B/$f is missing; run make bench, which builds it"
done
for c in curl wrk bpftool; do
	command -v "$c" >/dev/null || die "$c is not installed (tools/setup.sh bench installs it)"
done

TMP=$(mktemp -d /tmp/wwbench-daemon.XXXXXX)
: >"$LOG"
DAEMON_PID=""
SWARMS=()

# workerwatch BPF programs loaded now, by anyone.
ww_progs() {
	bpftool prog show 2>/dev/null | grep -c 'name ww_' || true
}
WW_PROGS_BEFORE=$(ww_progs)

# Stops whatever this script started, whichever way it ends (error, Ctrl-C, kill).
cleanup() {
	local rc=$? pid i
	trap - EXIT INT TERM
	# The swarms first (each leader ends its whole tree and reaps it), then the daemon.
	for pid in "${SWARMS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${SWARMS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$DAEMON_PID" ]; then
		kill -USR1 "$DAEMON_PID" 2>/dev/null || true	# stop and detach everything
		for ((i = 0; i < 100; i++)); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	# The kernel frees the daemon's programs a moment after it exits.
	for ((i = 0; i < 50; i++)); do
		(($(ww_progs) <= WW_PROGS_BEFORE)) && break
		sleep 0.1
	done
	rm -rf "$TMP"
	case $rc in
	0) ;;
	130 | 143) echo "bench-daemon: interrupted; everything it started is gone" >&2 ;;
	*) echo "bench-daemon: stopped (exit $rc); everything it started is gone; log: $LOG" >&2 ;;
	esac
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

median() {
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# "min p90 max" of a list of numbers.
spread() {
	tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		i = int(NR * 0.9 + 0.999); if (i < 1) i = 1
		printf "%.2f %.2f %.2f\n", v[1], v[i], v[NR] }'
}

# One GET of $1, which must answer 200; sets MS (curl's time_total in ms) and BYTES (body size).
get() {
	local r
	# the API's reads need the token too (private reads private)
	r=$(curl -s -o /dev/null --max-time 10 -H "Authorization: Bearer $TOKEN" \
		-w '%{time_total} %{size_download} %{http_code}' "$URL$1") ||
		die "GET $1 failed (curl exit $?)"
	read -r MS BYTES code <<<"$r"
	[ "$code" = 200 ] || die "GET $1 answered $code"
	MS=$(awk -v t="$MS" 'BEGIN { printf "%.3f", t * 1000 }')
}

# Sum of a Prometheus family's samples in a /metrics body on stdin.
prom_sum() {
	awk -v f="$1" '$1 == f || index($1, f "{") == 1 { s += $NF } END { printf "%d\n", s }'
}

# Total utime+stime of process $1, in clock ticks (all its threads, live and exited).
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# On-CPU ns of every process of the swarms (each is its own process group, led by its leader).
swarm_ns() {
	pgrep -g "$(IFS=,; echo "${SWARMS[*]}")" | sed 's|.*|/proc/&/schedstat|' |
		xargs cat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$SECONDS

# --- the daemon, on temporary paths, the kernel picking its port ---
"$B/workerwatch" daemon --listen 127.0.0.1:0 --db "$TMP/ww.db" --log-dir "$TMP/log" \
	--token-file "$TMP/token" --sample-interval-s "$SAMPLE_S" --pin-dir "/sys/fs/bpf/wwbench_daemon_$$" \
	2>"$TMP/daemon.err" &
DAEMON_PID=$!
PORT=""
for ((i = 0; i < 200; i++)); do
	PORT=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$TMP/daemon.err")
	[ -n "$PORT" ] && break
	kill -0 "$DAEMON_PID" 2>/dev/null || break
	sleep 0.05
done
cat "$TMP/daemon.err" >>"$LOG"
[ -n "$PORT" ] || die "the daemon did not start (see $LOG)"
URL=http://127.0.0.1:$PORT
TOKEN=$(<"$TMP/token")
echo "bench-daemon: daemon $DAEMON_PID on port $PORT; starting $EXECS worker trees of $PROCS processes" >&2

# --- EXECS worker trees, each attached as one execution once all its processes exist ---
for ((i = 0; i < EXECS; i++)); do
	"$B/wwswarm" --pidfile "$TMP/swarm.$i.pid" "$PROCS" 2>>"$LOG" &
	SWARMS+=($!)
done
IDS=()
for ((i = 0; i < EXECS; i++)); do
	for ((k = 0; k < 200; k++)); do
		[ -s "$TMP/swarm.$i.pid" ] && break
		kill -0 "${SWARMS[i]}" 2>/dev/null || die "wwswarm ${SWARMS[i]} failed (see $LOG)"
		sleep 0.05
	done
	[ -s "$TMP/swarm.$i.pid" ] || die "wwswarm ${SWARMS[i]} did not start"
	# Five agents, as a realistic /metrics label set.
	body="{\"pid\": ${SWARMS[i]}, \"session\": \"bench-daemon\", \"agent\": \"agent-$((i % 5))\"}"
	r=$(curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		-d "$body" -w '\n%{http_code}' "$URL/api/v1/executions") || die "POST /api/v1/executions failed"
	[ "${r##*$'\n'}" = 201 ] || die "POST /api/v1/executions $body answered: $r"
	id=$(sed -n 's/^[[:space:]]*"id":[[:space:]]*\([0-9]*\),*$/\1/p' <<<"$r" | head -n 1)
	[ -n "$id" ] || die "no id in the answer to POST /api/v1/executions: $r"
	IDS+=("$id")
done

# --- wait until every process is tracked ---
want=$((EXECS * PROCS))
WANT_FMT=$(sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$want")	# 1000 -> 1,000
for ((i = 0; i < 100; i++)); do
	m=$(curl -s --max-time 10 "$URL/metrics") || die "GET /metrics failed"
	tracked=$(prom_sum workerwatch_running_execution_processes <<<"$m")
	running=$(prom_sum workerwatch_executions_running <<<"$m")
	((tracked == want && running == EXECS)) && break
	sleep 0.1
done
((tracked == want && running == EXECS)) ||
	die "the daemon tracks $tracked processes in $running executions, not $want in $EXECS"
echo "bench-daemon: $tracked processes tracked in $running executions; settling ${SETTLE_S} s" >&2
sleep "$SETTLE_S"

# --- latencies: REQS rounds of the three requests, interleaved ---
L_METRICS="" L_LIST="" L_GET="" SIZES=""
for ((r = 0; r < REQS; r++)); do
	get /metrics
	L_METRICS+=" $MS"
	SIZES+=" $BYTES"
	get "/api/v1/executions?limit=100"
	L_LIST+=" $MS"
	LIST_BYTES=$BYTES
	# A different execution each round; each has PROCS live processes to list.
	get "/api/v1/executions/${IDS[r % EXECS]}"
	L_GET+=" $MS"
	GET_BYTES=$BYTES
done
MED_METRICS=$(median <<<"$L_METRICS")
MED_LIST=$(median <<<"$L_LIST")
MED_GET=$(median <<<"$L_GET")
MED_SIZE=$(median <<<"$SIZES" | awk '{ printf "%d", $1 }')
echo "bench-daemon: /metrics ${MED_METRICS} ms, list ${MED_LIST} ms, one ${MED_GET} ms; wrk ${WRK_S} s" >&2

# --- /health under wrk ---
WRK_CMD="wrk -t2 -c16 -d${WRK_S}s --latency $URL/health"
$WRK_CMD >"$TMP/wrk.out" 2>&1 || die "wrk failed: $(cat "$TMP/wrk.out")"
cat "$TMP/wrk.out" >>"$LOG"
# wrk prints latencies as 12.34us, 1.23ms or 1.02s.
wrk_ms() {
	awk -v k="$1" '$1 == k { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
		if (f > 0) printf "%.2f\n", v * f; exit }' "$TMP/wrk.out"
}
RPS=$(awk '$1 == "Requests/sec:" { printf "%.0f\n", $2 }' "$TMP/wrk.out")
WRK_P50=$(wrk_ms 50%)
WRK_P99=$(wrk_ms 99%)
WRK_REQS=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$TMP/wrk.out")
WRK_BAD=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 }' "$TMP/wrk.out")
WRK_ERR=$(sed -n 's/^ *Socket errors: *//p' "$TMP/wrk.out")
if [ -z "$RPS" ] || [ -z "$WRK_P50" ]; then
	die "cannot parse wrk's output: $(cat "$TMP/wrk.out")"
fi

# --- the idle window: no requests, the tracked processes keep running ---
sleep 2	# wrk's connection threads end
echo "bench-daemon: idle window of ${IDLE_S} s" >&2
HZ=$(getconf CLK_TCK)
RSS=""
c0=$(cpu_ticks "$DAEMON_PID")
s0=$(swarm_ns)
w0=${EPOCHREALTIME/./}
for ((i = 0; i < IDLE_S; i++)); do
	sleep 1
	RSS+=" $(awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status")"
done
c1=$(cpu_ticks "$DAEMON_PID")
w1=${EPOCHREALTIME/./}
s1=$(swarm_ns)
WALL_S=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
CPU_TICKS=$((c1 - c0))
CPU_PCT=$(awk -v t="$CPU_TICKS" -v hz="$HZ" -v w="$WALL_S" 'BEGIN { printf "%.2f", t / hz / w * 100 }')
SWARM_PCT=$(awk -v a="$s0" -v b="$s1" -v w="$WALL_S" 'BEGIN { printf "%.1f", (b - a) / 1e9 / w * 100 }')
MED_RSS_MIB=$(median <<<"$RSS" | awk '{ printf "%.1f", $1 / 1024 }')
read -r RSS_MIN _ RSS_MAX < <(spread <<<"$RSS")
HWM_MIB=$(awk '$1 == "VmHWM:" { printf "%.1f", $2 / 1024 }' "/proc/$DAEMON_PID/status")
THREADS=$(awk '$1 == "Threads:" { print $2 }' "/proc/$DAEMON_PID/status")

# Still all tracked after the window?
m=$(curl -s --max-time 10 "$URL/metrics") || die "GET /metrics failed"
TRACKED_AFTER=$(prom_sum workerwatch_running_execution_processes <<<"$m")
LOST=$(prom_sum workerwatch_lost_events_total <<<"$m")

# --- stop everything: the trees, then the daemon, which must exit cleanly ---
for pid in "${SWARMS[@]}"; do kill -TERM "$pid"; done
for pid in "${SWARMS[@]}"; do wait "$pid" || die "wwswarm $pid exited $?"; done
SWARMS=()
kill -USR1 "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
DAEMON_PID=""
[ "$rc" -eq 0 ] || die "the daemon exited $rc on SIGUSR1 (see $LOG)"
total_s=$((SECONDS - t_start))

# --- the markdown section ---
met() {
	awk -v x="$1" -v lim="$2" 'BEGIN { print (x <= lim ? "met" : "**not met**") }'
}
M_METRICS=$(met "$MED_METRICS" "$T_METRICS_MS")
M_RSS=$(met "$MED_RSS_MIB" "$T_RSS_MIB")
M_CPU=$(met "$CPU_PCT" "$T_CPU_PCT")
NOT_MET=()
[ "$M_METRICS" = met ] || NOT_MET+=("/metrics render time (${MED_METRICS} ms, target ≤ ${T_METRICS_MS} ms)")
[ "$M_RSS" = met ] || NOT_MET+=("daemon RSS (${MED_RSS_MIB} MiB, target ≤ ${T_RSS_MIB} MiB)")
[ "$M_CPU" = met ] || NOT_MET+=("daemon CPU (${CPU_PCT}%, target ≤ ${T_CPU_PCT}%)")

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
CORES=$(nproc)
KERNEL=$(uname -r)
DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain 2>/dev/null)" ] || COMMIT+=" with uncommitted changes"
WW="$B/workerwatch"
CURL="curl -s -o /dev/null -H \"Authorization: Bearer \$(cat \$dir/token)\" -w '%{time_total}'"
read -r LM_MIN LM_P90 LM_MAX < <(spread <<<"$L_METRICS")
read -r LL_MIN LL_P90 LL_MAX < <(spread <<<"$L_LIST")
read -r LG_MIN LG_P90 LG_MAX < <(spread <<<"$L_GET")

{
	cat <<EOF

## Daemon with ${WANT_FMT} tracked processes

\`${WW} daemon\` tracking ${EXECS} executions of ${PROCS} processes each, all running at
once: each execution is a \`wwswarm ${PROCS}\` tree (\`tools/wwswarm.c\`), a leader that only
waits and $((PROCS - 1)) workers in groups of five (a group leader and its four children);
every worker wakes each 100 ms, spins 20 µs, makes three syscalls and sleeps again. Each
tree is attached with \`POST /api/v1/executions\` once all its processes exist; the agents
are agent-0 … agent-4. Measuring starts when \`/metrics\` counts all ${WANT_FMT} processes in
\`workerwatch_running_execution_processes\`, plus ${SETTLE_S} s (one sampling round).

- Machine: ${CPU}, ${CORES} cores, kernel ${KERNEL}; load average before the run: ${LOAD_BEFORE}
- Date: ${DATE}; workerwatch ${COMMIT}
- The swarms used ${SWARM_PCT}% of one core during the idle window (their own work plus
  what workerwatch's BPF programs add to it); the whole daemon benchmark took ${total_s} s.

| Metric | Median | Target | Met? | Command |
|---|---:|---|---|---|
| \`/metrics\` render time | ${MED_METRICS} ms | ≤ ${T_METRICS_MS} ms | ${M_METRICS} | \`${CURL} ${URL}/metrics\`, ${REQS} times |
| \`/metrics\` body size | ${MED_SIZE} bytes | — | — | the same requests' \`%{size_download}\` |
| \`GET /api/v1/executions?limit=100\` | ${MED_LIST} ms | — | — | \`${CURL} '${URL}/api/v1/executions?limit=100'\`, ${REQS} times |
| \`GET /api/v1/executions/ID\` | ${MED_GET} ms | — | — | \`${CURL} ${URL}/api/v1/executions/ID\`, ${REQS} times, ID cycling over the ${EXECS} executions |
| Daemon RSS, steady state | ${MED_RSS_MIB} MiB | ≤ ${T_RSS_MIB} MiB | ${M_RSS} | \`grep VmRSS /proc/\$DAEMON_PID/status\` each second of the idle window |
| Daemon CPU, idle window | ${CPU_PCT}% of one core | ≤ ${T_CPU_PCT}% | ${M_CPU} | fields 14+15 (utime+stime) of \`/proc/\$DAEMON_PID/stat\`, difference over ${WALL_S} s with no requests, ÷ \`getconf CLK_TCK\` (${HZ}) |
| \`/health\` throughput | ${RPS} requests/s | — | — | \`${WRK_CMD}\` |
| \`/health\` latency under wrk | p50 ${WRK_P50} ms, p99 ${WRK_P99} ms | — | — | the same run's latency distribution |

EOF
	if [ ${#NOT_MET[@]} -eq 0 ]; then
		echo "All daemon targets are met."
	else
		joined=$(printf '%s; ' "${NOT_MET[@]}")
		echo "**Daemon targets not met:** ${joined%; }."
	fi
	cat <<EOF

The daemon ran as \`${WW} daemon --listen 127.0.0.1:0 --db \$dir/ww.db --log-dir \$dir/log
--token-file \$dir/token --sample-interval-s ${SAMPLE_S}\` (the kernel picked port ${PORT}), each
tree as \`${B}/wwswarm --pidfile \$dir/swarm.N.pid ${PROCS} &\`, attached with
\`curl -H "Authorization: Bearer \$(cat \$dir/token)" -d '{"pid": PID, "session": "bench-daemon", "agent": "agent-K"}' ${URL}/api/v1/executions\`.
The three kinds of request alternate, one of each per round, so drift hits them alike.
The idle window comes after the requests and wrk (2 s later), so the RSS is that of a
daemon which has served them; the CPU figure includes its $((IDLE_S / SAMPLE_S)) sampling rounds (one each ${SAMPLE_S} s).
\`tools/bench-daemon.sh\` (root) writes this section; \`make bench\` runs it.

### Raw numbers

- \`/metrics\` ms: min ${LM_MIN}, p90 ${LM_P90}, max ${LM_MAX}; all:${L_METRICS}
- \`GET /api/v1/executions?limit=100\` (${LIST_BYTES} bytes, ${EXECS} executions) ms: min ${LL_MIN}, p90 ${LL_P90}, max ${LL_MAX}; all:${L_LIST}
- \`GET /api/v1/executions/ID\` (${GET_BYTES} bytes) ms: min ${LG_MIN}, p90 ${LG_P90}, max ${LG_MAX}; all:${L_GET}
- Daemon VmRSS each second of the idle window, KiB: min ${RSS_MIN%.*}, max ${RSS_MAX%.*}; VmHWM (peak since start) ${HWM_MIB} MiB; ${THREADS} threads at the end
- Daemon CPU: ${CPU_TICKS} ticks of 1/${HZ} s in ${WALL_S} s
- wrk: ${WRK_REQS} requests in ${WRK_S} s; non-2xx answers: ${WRK_BAD:-0}; socket errors: ${WRK_ERR:-none}
- After the idle window: ${TRACKED_AFTER} processes still tracked; lost events (all reasons): ${LOST}
EOF
} >"$TMP/section.md"
mv "$TMP/section.md" "$MD"

echo "bench-daemon: wrote $MD (${total_s} s)" >&2
printf '  %-28s %10s\n' "/metrics ms" "$MED_METRICS" "list ms" "$MED_LIST" "one execution ms" "$MED_GET" \
	"RSS MiB" "$MED_RSS_MIB" "CPU % of a core" "$CPU_PCT" "/health req/s" "$RPS" >&2
[ ${#NOT_MET[@]} -eq 0 ] || printf '  not met: %s\n' "${NOT_MET[@]}" >&2
