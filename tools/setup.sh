#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages workerwatch needs, only those missing; sudo only when not root.
set -euo pipefail

build_pkgs=(make gcc clang bpftool libbpf-dev libelf-dev zlib1g-dev libcjson-dev libsqlite3-dev
	libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libncurses-dev pkg-config)
deb_pkgs=(dpkg-dev debhelper lintian)
# clang's sanitizer and libFuzzer runtimes, for make check-asan and make fuzz
sanitizer_pkgs=(clang libclang-rt-dev)
# util-linux and systemd: the package test's namespaces, setpriv and systemd-analyze verify;
# parallel, python3 and findutils (xargs): the real orchestrators of the job tests;
# linux-perf: perf stat, what the syscall counts are checked against
test_pkgs=("${deb_pkgs[@]}" util-linux systemd iproute2 procps time prometheus prometheus-alertmanager sqlite3 curl
	tmux chromium parallel python3 findutils linux-perf "${sanitizer_pkgs[@]}")
# node and npm: the browser tests (playwright-core) and the OTLP decoder; Debian's only when none is installed
command -v node >/dev/null || test_pkgs+=(nodejs)
command -v npm >/dev/null || test_pkgs+=(npm)
bench_pkgs=(bpftrace wrk)

want=("${build_pkgs[@]}")
case "${1:-build}" in
	build) ;;
	deb) want+=("${deb_pkgs[@]}") ;;
	test) want+=("${test_pkgs[@]}") ;;
	sanitizers) want+=("${sanitizer_pkgs[@]}") ;;
	bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
	*) echo "usage: $0 [build|deb|test|sanitizers|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
