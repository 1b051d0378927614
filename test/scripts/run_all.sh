#!/usr/bin/env bash
# `make test`: installs what is missing, builds, and runs every test suite:
#   1. C++ core unit tests (GoogleTest via ctest), plain and under AddressSanitizer/UBSan;
#   2. pg_regress (sql/ + expected/) and pg_isolation_regress (test/isolation) on throwaway clusters;
#   3. cluster tests (test/t/*.pl, TAP with PostgreSQL::Test::Cluster): worker, crashes, restarts.
# Ends with one line "N passed, N failed" over all suites; exits non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

passed=0
failed=0
failures=()
count() {  # suite passed failed
	passed=$((passed + $2)); failed=$((failed + $3))
	[ "$3" = 0 ] || failures+=("$1: $3 failed")
	printf '%s: %d passed, %d failed\n' "$1" "$2" "$3"
}

dlq_install_deps
dlq_build_install
dlq_ensure_user

run_ctest() {  # name build-dir [cmake args]
	local name=$1 dir=$2; shift 2
	say "unit tests: $name"
	cmake -S "$DLQ_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Debug "$@" >/dev/null
	cmake --build "$dir" -j2 >/dev/null
	local out; out=$(ctest --test-dir "$dir" --output-on-failure 2>&1) || true
	echo "$out" | tail -n 25
	local line total fails
	line=$(echo "$out" | grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' | tail -1 || true)
	if [ -z "$line" ]; then count "$name" 0 1; return; fi
	fails=$(echo "$line" | sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/')
	total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
	count "$name" $((total - fails)) "$fails"
}
run_ctest "unit" "$DLQ_ROOT/build/unit"
run_ctest "unit (ASan+UBSan)" "$DLQ_ROOT/build/unit-asan" -DDLQ_SANITIZE=ON

# pg_regress prints "All N tests passed." or "M of N tests failed." for each suite.
count_pg_regress() {  # name output
	local line; line=$(echo "$2" | grep -E 'tests? (passed|failed)' | tail -1 || true)
	if [[ $line =~ All\ ([0-9]+)\ tests\ passed ]]; then
		count "$1" "${BASH_REMATCH[1]}" 0
	elif [[ $line =~ ([0-9]+)\ of\ ([0-9]+)\ tests\ failed ]]; then
		count "$1" $((BASH_REMATCH[2] - BASH_REMATCH[1])) "${BASH_REMATCH[1]}"
	else
		count "$1" 0 1
	fi
}

tree=$(dlq_user_tree)
say "pg_regress (throwaway cluster)"
out=$(cd "$tree" && as_user make -s installcheck-regress 2>&1) || true
echo "$out" | grep -vE '^\s*$' | tail -n 60
if [ -f "$tree/regression.diffs" ]; then head -n 200 "$tree/regression.diffs"; fi
count_pg_regress "regress" "$out"

say "isolation (throwaway cluster)"
out=$(cd "$tree" && as_user make -s installcheck-isolation 2>&1) || true
echo "$out" | grep -vE '^\s*$' | tail -n 30
if [ -f "$tree/output_iso/regression.diffs" ]; then head -n 200 "$tree/output_iso/regression.diffs"; fi
count_pg_regress "isolation" "$out"

if compgen -G "$DLQ_ROOT/test/t/*.pl" >/dev/null; then
	say "cluster tests (TAP)"
	out=$(cd "$tree" && as_user make -s installcheck-tap 2>&1) || true
	echo "$out" | tail -n 40
	total=$(echo "$out" | sed -nE 's/^Files=[0-9]+, Tests=([0-9]+),.*/\1/p' | tail -1 || true)
	bad=$(echo "$out" | sed -nE 's/.*Failed ([0-9]+)\/[0-9]+ subtests.*/\1/p' | awk '{s+=$1} END {print s+0}')
	dubious=$(echo "$out" | grep -c 'Dubious' || true)
	# A script that died or was killed counts as a failure even when its finished assertions passed.
	if echo "$out" | grep -q '^Result: FAIL' && [ "$bad" = 0 ] && [ "$dubious" = 0 ]; then
		dubious=$(echo "$out" | grep -cE 'Non-zero (wait|exit) status|Parse errors' || true)
		[ "$dubious" != 0 ] || dubious=1
	fi
	if [ -z "$total" ]; then count "tap" 0 1; else count "tap" $((total - bad)) $((bad + dubious)); fi
	if [ "$bad" != 0 ] || [ "$dubious" != 0 ]; then
		for f in "$tree"/tmp_check/log/regress_log_*; do [ -f "$f" ] && tail -n 40 "$f"; done
	fi
fi

say "summary"
for f in "${failures[@]}"; do echo "FAILED $f"; done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
