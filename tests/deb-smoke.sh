#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs a workerwatch .deb into a throwaway root and runs its unit's ExecStart there, on a private loopback.
# Usage: deb-smoke.sh DEB DIR. Prints key=value lines for the test; nothing outside DIR is changed.
set -eu
deb=$1 dir=$2

if [ "${WW_SMOKE_INSIDE:-}" != 1 ]; then
	rm -rf "$dir/root" "$dir/work"
	dpkg-deb -x "$deb" "$dir/root"
	# a mount namespace (overlays vanish with it) and a network namespace (its own 127.0.0.1:9470)
	exec env WW_SMOKE_INSIDE=1 unshare --mount --net --fork sh "$0" "$@"
fi

unit=$dir/root/lib/systemd/system/workerwatch.service
mount --make-rprivate /
ip link set lo up
# a bpffs of our own: the daemon's pins (pin_dir) go there and vanish with the namespace
mount -t bpf bpf /sys/fs/bpf
# The package's files over the host's, as if installed: writes land in $dir/root, not in /etc, /usr or /var.
for d in etc usr var; do
	mkdir -p "$dir/work/$d" "$dir/root/$d"
	mount -t overlay overlay -o "lowerdir=/$d,upperdir=$dir/root/$d,workdir=$dir/work/$d" "/$d"
done
if systemd-analyze verify --man=no "$unit" > "$dir/verify.log" 2>&1; then
	echo "verify=0"
else
	echo "verify=$?"
fi

exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
# CAP_BPF CAP_SYS_ADMIN ... as setpriv spells them: +bpf,+sys_admin
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed -e 's/cap_/+/g' -e 's/ /,/g')
nnp=
grep -qx 'NoNewPrivileges=yes' "$unit" && nnp=--no-new-privs
echo "exec_start=$exec_start"
echo "bounding_set=$caps"
# shellcheck disable=SC2086 # ExecStart is split into words as systemd does for this simple line
setpriv $nnp --bounding-set "-all,$caps" $exec_start > "$dir/daemon.log" 2>&1 &
pid=$!

up=0
for _ in $(seq 200); do
	if curl -sf -o "$dir/health.json" http://127.0.0.1:9470/health; then up=1; break; fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
echo "health=$up"
if [ $up = 1 ]; then
	# attaching a worker proves the programs attach within the bounding set, not just load
	sleep 30 & worker=$!
	if /usr/bin/workerwatch attach "$worker" --session deb-smoke --agent sleeper \
		--server http://127.0.0.1:9470 --token-file /var/lib/workerwatch/token > "$dir/attach.json" 2>&1; then
		echo "attach=0"
	else
		echo "attach=$?"
	fi
	curl -sf -o "$dir/metrics.txt" http://127.0.0.1:9470/metrics || true
	kill "$worker" 2>/dev/null || true
fi
kill -TERM "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
echo "daemon_exit=$status"
# SIGTERM keeps the kernel state for the next start; --detach-all is how an operator ends it for good
if $exec_start --detach-all > "$dir/detach.log" 2>&1; then
	echo "detach_all=0"
else
	echo "detach_all=$?"
fi
if [ -e /sys/fs/bpf/workerwatch ]; then echo "pins_left=1"; else echo "pins_left=0"; fi
