#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches the pinned uPlot release from the npm registry into DIR (once), with its license.
set -euo pipefail
dir=${1:?usage: fetch-uplot.sh DIR}
version=1.6.32
[ -f "$dir/uPlot.iife.min.js" ] && [ -f "$dir/uPlot.LICENSE" ] && exit 0
command -v npm >/dev/null || { echo "fetch-uplot: npm is needed to fetch uPlot $version" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$version" >/dev/null 2>&1) ||
	{ echo "fetch-uplot: cannot fetch uplot@$version from the npm registry" >&2; exit 1; }
tar -xzf "$tmp"/uplot-$version.tgz -C "$tmp"
mkdir -p "$dir"
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$dir/"
cp "$tmp/package/LICENSE" "$dir/uPlot.LICENSE"
