#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the browser tests' pinned npm packages into tests/browser/node_modules when missing or stale.
set -euo pipefail
cd "$(dirname "$0")"

# Chromium comes from Debian (tools/setup.sh test installs it); no browser is ever downloaded.
[ -x /usr/bin/chromium ] || { echo "browser tests: /usr/bin/chromium is missing (tools/setup.sh test installs it)" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "browser tests: node and npm are needed" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "browser tests: playwright-core needs node 20 or later, this is $(node --version)" >&2; exit 1; }

# npm ci writes node_modules/.package-lock.json; an older one means the pin changed since.
if [ -f node_modules/playwright-core/package.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
	exit 0
fi
echo "browser tests: npm ci in tests/browser" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
