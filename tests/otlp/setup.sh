#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the OTLP decoder's pinned npm packages into tests/otlp/node_modules when missing or stale.
set -euo pipefail
cd "$(dirname "$0")"

command -v node >/dev/null && command -v npm >/dev/null ||
	{ echo "otlp tests: node and npm are needed" >&2; exit 1; }
# @opentelemetry/otlp-transformer wants ^18.19.0 || >=20.6.0: Debian 12's nodejs (18.20) will do
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 6) || (a === 18 && b >= 19) ? 0 : 1)' ||
	{ echo "otlp tests: node 18.19 or 20.6 or later is needed, this is $(node --version)" >&2; exit 1; }

# npm ci writes node_modules/.package-lock.json; an older one means the pin changed since.
if [ -f node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js ] &&
   [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
	exit 0
fi
echo "otlp tests: npm ci in tests/otlp" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
