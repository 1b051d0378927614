#!/usr/bin/env bash
# How dlq.fingerprint's time grows with the message (it must stay linear: it runs on every dead letter's
# last error, and operators call it on any text). Inputs that would make a backtracking or
# rescanning matcher quadratic, at 100,000 and 1,000,000 repetitions, each the median of 5 calls in the server.
#   bash bench/fingerprint_scaling.sh   (the bench cluster of bench/lib.sh, with dlq installed)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pb_val "CREATE EXTENSION IF NOT EXISTS dlq" >/dev/null 2>&1
echo "| input (n repetitions) | n = 100,000: ms | n = 1,000,000: ms | ratio (10 is linear) |"
echo "|---|---|---|---|"
for input in "repeat(' ''a', %s)" "repeat('deadbeef ', %s)" "repeat('7', %s) || 'g'" "repeat('''', %s)" \
             "repeat(' ', %s) || 'x'" "repeat('a.', %s)" "repeat('a@', %s)" "repeat('a.b@', %s)"; do
	ms=()
	for n in 100000 1000000; do
		expr=$(printf "$input" "$n")
		ms+=("$(pb_val "DO \$\$ DECLARE t timestamptz; d float8[] := '{}'; m text := $expr; BEGIN
		      FOR i IN 1..5 LOOP t := clock_timestamp(); PERFORM dlq.fingerprint(m);
		        d := d || extract(epoch FROM clock_timestamp() - t) * 1000; END LOOP;
		      RAISE NOTICE '%', (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(d) AS x); END \$\$" 2>&1 |
		      sed -n 's/^NOTICE:  //p')")
	done
	awk -v i="${input//%s/n}" -v a="${ms[0]}" -v b="${ms[1]}" \
		'BEGIN { printf "| `%s` | %.2f | %.2f | %.1f |\n", i, a, b, b / (a > 0.001 ? a : 0.001) }'
done
