#!/usr/bin/env bash
# A drained queue analyzed while empty (what autovacuum records when it analyzes a queue that workers
# keep empty): W1c for the floor and for dlq at each batch of BATCHES (1 100: W1c and W2c), 4 clients,
# SECS seconds on a fresh queue, then the table is emptied and analyzed (its indexes keep the pages the
# first run grew), then SECS seconds again. Every plan is made again from statistics that say "no rows"; a statement whose plan then scans
# a whole index shows as a lower rate and more index blocks accessed per completed job.
#   SECS=15 BATCHES="1 100" bash bench/workloads/analyze.sh   (markdown on stdout; SECS defaults to DUR, then 15)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
SECS=${SECS:-${DUR:-15}}
BATCHES=${BATCHES:-1 100}

# "done index_blocks": completed jobs and index blocks accessed (hit or read) in all indexes of the queue table
reads() {  # dir
	local c
	read -r c _ < <(snap "$1")
	echo "$c $(pb_val "SELECT coalesce(sum(idx_blks_hit + idx_blks_read), 0) FROM pg_statio_user_indexes WHERE relid = '$(qtable "$1")'::regclass")"
}

run() {  # dir label -> table row; the rate also goes to $WORK/analyze-rate
	local c0 r0 c1 r1
	read -r c0 r0 < <(reads "$1")
	pgb "$1" 4 "$SECS" "$(cycle_script "$1" "$BATCH")" > "$WORK/analyze-$(conf "$1" NAME).log" 2>&1
	sleep 1  # statistics of the clients' last transactions
	read -r c1 r1 < <(reads "$1")
	echo "| $(conf "$1" NAME) | $2 | $(( (c1 - c0) / SECS )) | $(calc "round(($r1 - $r0) / max($c1 - $c0, 1), 1)") |"
	echo "$(( (c1 - c0) / SECS ))" > "$WORK/analyze-rate"
}

for BATCH in $BATCHES; do
	echo "### A drained queue analyzed empty: batch $BATCH, $SECS s before and $SECS s after"
	echo
	echo "| system | run | jobs/s | index blocks accessed per job |"
	echo "|---|---|---|---|"
	summary=""
	for d in "$FLOOR_SYS" "$DLQ_SYS"; do
		reset_sys "$d"; settle
		run "$d" "fresh queue"; before=$(cat "$WORK/analyze-rate")
		table=$(qtable "$d")
		pb_val "DELETE FROM $table" >/dev/null; pb_val "ANALYZE $table" >/dev/null
		stats=$(pb_val "SELECT c.reltuples::bigint || ' rows, ' || (SELECT string_agg(i.relname || ' ' ||
			pg_relation_size(i.oid) / 8192 || ' pages', ', ' ORDER BY i.relname) FROM pg_index x JOIN pg_class i
			ON i.oid = x.indexrelid WHERE x.indrelid = c.oid) FROM pg_class c WHERE c.oid = '$table'::regclass")
		run "$d" "after DELETE + ANALYZE ($stats)"; after=$(cat "$WORK/analyze-rate")
		summary="$summary- batch $BATCH, $(conf "$d" NAME): $after jobs/s after = $(calc "round(100 * $after / max($before, 1))") % of $before before."$'\n'
	done
	echo
	printf '%s\n' "$summary"
done
