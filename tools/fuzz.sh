#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer harness (make fuzz) for SECONDS: its growing corpus in OUT/corpus/NAME, seeded
# from tests/fuzz/seeds/NAME, with tests/fuzz/NAME.dict when there is one. A crash, a leak, a
# sanitizer report, a broken property (FUZZ_ASSERT) or an input slower than 25 s fails the run and
# leaves the input in OUT/findings/NAME; `OUT/fuzz/NAME FILE` replays it.
set -uo pipefail
out=${1:?usage: fuzz.sh OUT SECONDS NAME...}
seconds=${2:?usage: fuzz.sh OUT SECONDS NAME...}
shift 2
failed=()
for name in "$@"; do
	corpus=$out/corpus/$name findings=$out/findings/$name
	mkdir -p "$corpus" "$findings"
	args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1
	      -close_fd_mask=2 -artifact_prefix="$findings/")
	[ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
	seeds=()
	[ -d "tests/fuzz/seeds/$name" ] && seeds=("tests/fuzz/seeds/$name")
	log=$out/fuzz-$name.log
	# nice: the cores are shared with whatever else runs (the tests, other builds)
	if nice -n 19 "$out/fuzz/$name" "${args[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "  FUZZ     $name: ${runs:-?} inputs in ${seconds}s, no finding (corpus $(ls "$corpus" | wc -l) files)"
	else
		echo "  FUZZ     $name: FAILED, see $log and $findings" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz:|artifact_prefix|Test unit written)' "$log" | head -8 >&2
		failed+=("$name")
	fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: findings in ${failed[*]}" >&2; exit 1; }
