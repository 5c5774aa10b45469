#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates vmlinux/<arch>/vmlinux.h from the running kernel's BTF; replaces it only if it changed.
set -euo pipefail
arch=${1:?usage: gen-vmlinux.sh ARCH}
btf=${BTF:-/sys/kernel/btf/vmlinux}
dir="$(dirname "$0")/../vmlinux/$arch"
[ -r "$btf" ] || { echo "gen-vmlinux: $btf not readable: this kernel has no BTF" >&2; exit 1; }
mkdir -p "$dir"
tmp=$(mktemp "$dir/.vmlinux.h.XXXXXX")
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c > "$tmp"
chmod 644 "$tmp"
if cmp -s "$tmp" "$dir/vmlinux.h"; then
	echo "vmlinux/$arch/vmlinux.h unchanged"
else
	mv "$tmp" "$dir/vmlinux.h"
	echo "vmlinux/$arch/vmlinux.h updated from $btf"
fi
