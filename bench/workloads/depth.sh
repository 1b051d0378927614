#!/usr/bin/env bash
# Depth (issue 5, workload 5): dlq's rate with DEPTH jobs queued for tomorrow (run_at now() + 1 day),
# preloaded with dlq.enqueue_many 10,000 per call. For each depth, on queue 'default':
#   empty    median time of a claim when nothing is due (what an idle worker pays per poll);
#   W1c      4 clients enqueue 1 → claim 1 → complete, beside the future backlog (few jobs due);
#   claim    the jobs due now are brought up to DUE before each round, then 4 clients claim 1 + complete
#            (no enqueue).
# W1c and claim run DEPTH_ROUNDS times each (default 3) and the summary takes their medians: one 10 s run
# on this shared machine varies by ±15%, as much as the 90% target allows.
#   DEPTHS="10000 1000000 10000000" DUE=200000 DUR=15 DEPTH_ROUNDS=3 bash bench/workloads/depth.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
DEPTHS=${DEPTHS:-"10000 1000000 10000000"}
DUE=${DUE:-200000}
DEPTH_ROUNDS=${DEPTH_ROUNDS:-3}

enqueue_bulk() {  # n delay -> seconds taken
	local t0; t0=$(now)
	pb_psql -v queue=default -v n="$1" -v delay="$2" -f "$SQL/enqueue_bulk.sql" >/dev/null
	pb_val "ANALYZE dlq.job" >/dev/null
	calc "round($(now) - $t0, 1)"
}

# DEPTH_ROUNDS measured runs of one pgbench script; their rates, space-separated, in RATES.
rounds() {  # workload variant script log-name note-function [before-round-function]
	local r; RATES=""
	for r in $(seq "$DEPTH_ROUNDS"); do
		[ -z "${6:-}" ] || "$6"
		pb_val "CHECKPOINT" >/dev/null
		m_begin "$DLQ_SYS"
		pgb "$DLQ_SYS" 4 "$DUR" "$3" > "$WORK/depth-$4-$r.log" 2>&1
		m_end "$1" "$2; round $r" "$DUR" "$($5)"
		RATES="$RATES $M_RATE"
	done
}
preload_note() { echo "preload ${pre} s"; }
# Jobs due now in the queue: its plain jobs through the primary key (the queue's id range: a job id
# carries its queue, src/core/job_id.hpp), the others through the claim index (its predicate written out).
due_now() { pb_val "SELECT (SELECT count(*) FROM dlq.job AS j WHERE j.id BETWEEN q.id::bigint << 45 AND (q.id::bigint << 45) + 17592186044415
                             AND j.run_at <= now() AND j.run_at = j.enqueued_at AND j.priority = 0)
                         + (SELECT count(*) FROM dlq.job AS j WHERE j.queue_id = q.id AND j.run_at <= now()
                             AND (j.priority <> 0 OR j.run_at <> j.enqueued_at OR (j.id & 17592186044416) <> 0))
                      FROM dlq.queue AS q WHERE q.name = 'default'"; }
due_left_note() { echo "$(due_now) due left"; }
# Before each claim round: the due jobs back up to DUE, so that no round runs out before its end.
topup_due() { local due; due=$(due_now); [ "$due" -ge "$DUE" ] || enqueue_bulk $(( DUE - due )) '0' >/dev/null; }

echo "### Depth: rate with N jobs queued for tomorrow"
echo
md_header
declare -A w1c claim empty w1c_all claim_all
for n in $DEPTHS; do
	reset_sys "$DLQ_SYS"
	log "depth $n: preloading"
	pre=$(enqueue_bulk "$n" '1 day')
	empty[$n]=$(pb_psql -f "$SQL/empty_claim.sql" 2>&1 | sed -n 's/.*empty_claim_ms=//p')
	rounds depth-W1c "$n future; enqueue → claim → complete, 4 clients" "$(cycle_script "$DLQ_SYS" 1)" \
		"$n-w1c" preload_note
	w1c[$n]=$(echo "$RATES" | median) w1c_all[$n]=$RATES
	rounds depth-claim "$n future + $DUE due; claim 1 → complete, 4 clients" "$(consume_script "$DLQ_SYS" 1)" \
		"$n-claim" due_left_note topup_due
	claim[$n]=$(echo "$RATES" | median) claim_all[$n]=$RATES
done
echo
echo "| jobs for tomorrow | W1c jobs/s (median; runs) | claim+complete jobs/s (median; runs) | claim when nothing is due (ms, median of 5) |"
echo "|---|---|---|---|"
for n in $DEPTHS; do echo "| $n | ${w1c[$n]} (${w1c_all[$n]# }) | ${claim[$n]} (${claim_all[$n]# }) | ${empty[$n]} |"; done
read -ra ds <<< "$DEPTHS"; lo=${ds[0]}; hi=${ds[-1]}
echo
echo "Rate at $hi queued vs $lo (medians): W1c $(calc "round(100 * ${w1c[$hi]} / max(${w1c[$lo]}, 1))") %, claim+complete $(calc "round(100 * ${claim[$hi]} / max(${claim[$lo]}, 1))") % (target ≥ 90 %)."
