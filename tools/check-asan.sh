#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the test suite on the sanitized build (make check-asan): a failed test or any ASan, UBSan or
# LeakSanitizer report, from the tests or from any workerwatch process they start, fails the run.
set -uo pipefail
out=${1:?usage: check-asan.sh BUILD_DIR [TEST_FILTER]}
shift
reports=$(mktemp -d /tmp/ww-sanitizers.XXXXXX)
# Every sanitized process (the test runner, the daemons, the CLI) inherits these. A report stops the
# process with a distinct exit code, and its text goes to a file here, so that a report from a process
# whose exit status no test looks at still fails the run. Leaks are checked when a process exits: the
# daemon must leave none on SIGTERM.
common="log_path=$reports/report:log_exe_name=1:halt_on_error=1"
export ASAN_OPTIONS="$common:exitcode=23:detect_leaks=1:abort_on_error=0:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="$common:exitcode=24:print_stacktrace=1"
export LSAN_OPTIONS="$common:exitcode=23"
"$out/ww_test" --bin "$out" "$@"
status=$?
n=$(find "$reports" -type f | wc -l)
if [ "$n" -gt 0 ]; then
	for f in "$reports"/*; do
		echo "--- $f"
		cat "$f"
	done
	echo "check-asan: $n sanitizer report(s), kept in $reports" >&2
	exit 1
fi
rm -rf "$reports"
[ "$status" -eq 0 ] && echo "check-asan: no sanitizer report"
exit $status
