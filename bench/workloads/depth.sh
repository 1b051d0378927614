#!/usr/bin/env bash
# Depth (issue 5, workload 5): dlq's rate with DEPTH jobs queued for tomorrow (run_at now() + 1 day),
# preloaded with dlq.enqueue_many 10,000 per call. For each depth, on queue 'default':
#   empty    median time of a claim when nothing is due (what an idle worker pays per poll);
#   W1c      4 clients enqueue 1 → claim 1 → complete, beside the future backlog (few jobs due);
#   claim    DUE more jobs due now are added, then 4 clients claim 1 + complete (no enqueue).
#   DEPTHS="10000 1000000 10000000" DUE=200000 DUR=15 bash bench/workloads/depth.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
DEPTHS=${DEPTHS:-"10000 1000000 10000000"}
DUE=${DUE:-200000}

enqueue_bulk() {  # n delay -> seconds taken
	local t0; t0=$(now)
	pb_psql -v queue=default -v n="$1" -v delay="$2" -f "$SQL/enqueue_bulk.sql" >/dev/null
	pb_val "ANALYZE dlq.job" >/dev/null
	calc "round($(now) - $t0, 1)"
}

echo "### Depth: rate with N jobs queued for tomorrow"
echo
md_header
declare -A w1c claim empty
for n in $DEPTHS; do
	reset_sys "$DLQ_SYS"
	log "depth $n: preloading"
	pre=$(enqueue_bulk "$n" '1 day')
	empty[$n]=$(pb_psql -f "$SQL/empty_claim.sql" 2>&1 | sed -n 's/.*empty_claim_ms=//p')
	pb_val "CHECKPOINT" >/dev/null
	m_begin "$DLQ_SYS"
	pgb "$DLQ_SYS" 4 "$DUR" "$(cycle_script "$DLQ_SYS" 1)" > "$WORK/depth-$n-w1c.log" 2>&1
	m_end depth-W1c "$n future; enqueue → claim → complete, 4 clients" "$DUR" "preload ${pre} s"
	w1c[$n]=$M_RATE
	pre=$(enqueue_bulk "$DUE" '0')
	pb_val "CHECKPOINT" >/dev/null
	m_begin "$DLQ_SYS"
	pgb "$DLQ_SYS" 4 "$DUR" "$(consume_script "$DLQ_SYS" 1)" > "$WORK/depth-$n-claim.log" 2>&1
	left=$(pb_val "SELECT count(*) FROM dlq.job WHERE run_at <= now()")
	m_end depth-claim "$n future + $DUE due; claim 1 → complete, 4 clients" "$DUR" "$left due left"
	claim[$n]=$M_RATE
done
echo
echo "| jobs for tomorrow | W1c jobs/s | claim+complete jobs/s | claim when nothing is due (ms, median of 5) |"
echo "|---|---|---|---|"
for n in $DEPTHS; do echo "| $n | ${w1c[$n]} | ${claim[$n]} | ${empty[$n]} |"; done
read -ra ds <<< "$DEPTHS"; lo=${ds[0]}; hi=${ds[-1]}
echo
echo "Rate at $hi queued vs $lo: W1c $(calc "round(100 * ${w1c[$hi]} / max(${w1c[$lo]}, 1))") %, claim+complete $(calc "round(100 * ${claim[$hi]} / max(${claim[$lo]}, 1))") % (target ≥ 90 %)."
