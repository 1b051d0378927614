#!/usr/bin/env bash
# Held snapshot (issue 5, workload 4): W1c batch 1 (4 clients) for the floor and for dlq while another
# session holds a REPEATABLE READ snapshot open for HOLD seconds (vacuum cannot remove anything deleted
# meanwhile). Completed jobs and n_dead_tup are sampled every BUCKET seconds. dlq runs with its
# background sweeper on, at its defaults (as in production): it compacts dlq.job once
# dlq.compact_dead_rows dead rows have been added under the held horizon. Other workloads run without it.
#   DUR is not used; HOLD=300 BUCKET=30 bash bench/workloads/held_snapshot.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
HOLD=${HOLD:-300}
BUCKET=${BUCKET:-30}

# prints "elapsed done dead" every BUCKET seconds until HOLD has passed
sampler() {  # dir
	local t0 i=1 c d
	t0=$(date +%s)
	while (( i * BUCKET <= HOLD )); do
		sleep "$(( t0 + i * BUCKET - $(date +%s) > 0 ? t0 + i * BUCKET - $(date +%s) : 0 ))"
		read -r c _ d _ < <(snap "$1")
		echo "$(( i * BUCKET )) $c $d"
		i=$(( i + 1 ))
	done
}

echo "### Held snapshot: W1c batch 1 while a REPEATABLE READ snapshot is held for $HOLD s"
echo
md_header
sweeper() {  # on|off: dlq's background sweeper for this database
	if [ "$1" = on ]; then
		pb_val "ALTER SYSTEM SET dlq.databases = '$PGDATABASE'" >/dev/null
		pb_val "ALTER SYSTEM SET dlq.enabled = on" >/dev/null
	else
		pb_val "ALTER SYSTEM SET dlq.enabled = off" >/dev/null
	fi
	pb_val "SELECT pg_reload_conf()" >/dev/null
	sleep 2  # the launcher starts or stops the worker within a tick
}
SERVER_LOG=$PB_LOGS/postgres.log
for d in "$FLOOR_SYS" "$DLQ_SYS"; do
	name=$(conf "$d" NAME)
	reset_sys "$d"; settle
	[ "$name" = dlq ] && { sweeper on; log_from=$(stat -c %s "$SERVER_LOG"); }
	PGAPPNAME=dlqbench-hold pb_psql -v secs="$(( HOLD + 60 ))" -f "$SQL/hold_snapshot.sql" > /dev/null 2>&1 &
	holder=$!
	sleep 1
	m_begin "$d"
	sampler "$d" > "$WORK/held-$name.samples" &
	sampler_pid=$!
	pgb "$d" 4 "$HOLD" "$(cycle_script "$d" 1)" > "$WORK/held-$name.log" 2>&1
	wait "$sampler_pid"
	m_end W1c-held "snapshot held ${HOLD} s, 4 clients" "$HOLD" "dead tuples after = while still held"
	pb_val "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'dlqbench-hold'" >/dev/null
	wait "$holder" || true
	if [ "$name" = dlq ]; then
		sweeper off
		hold_log=$(tail -c +"$((log_from + 1))" "$SERVER_LOG")
		compactions=$(grep -c 'compacted dlq.job' <<<"$hold_log" || true)
		skipped=$(grep -o 'did not compact dlq.job[^(]*([a-z_]*)' <<<"$hold_log" | sort | uniq -c | tr '\n' ';' || true)
	fi
	# per-bucket rates: "elapsed rate dead"
	awk -v c0="${M0[0]}" -v b="$BUCKET" '{ printf "%s %.0f %s\n", $1, ($2 - c0) / b, $3; c0 = $2 }' \
		"$WORK/held-$name.samples" > "$WORK/held-$name.buckets"
done
echo
echo "Completed jobs/s and n_dead_tup of the queue table per ${BUCKET} s bucket, snapshot held throughout:"
echo
echo "| bucket end (s) | minimal jobs/s | minimal dead tuples | dlq jobs/s | dlq dead tuples |"
echo "|---|---|---|---|---|"
paste -d ' ' "$WORK/held-minimal.buckets" "$WORK/held-dlq.buckets" | awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $5, $6 }'
echo
for name in minimal dlq; do
	read -r first last < <(awk 'NR == 1 { f = $2 } { l = $2 } END { print f, l }' "$WORK/held-$name.buckets")
	echo "- $name: last bucket $last jobs/s = $(calc "round(100 * $last / max($first, 1))") % of the first ($first jobs/s)."
done
echo "- dlq's sweeper compacted dlq.job $compactions times during the hold${skipped:+ (not compacted: $skipped)}."
echo "(Target for dlq: ≥ 80 % of the clean rate at the end of the 5 minutes, dead tuples bounded.)"
