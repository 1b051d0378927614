#!/usr/bin/env bash
# Sweep (issue 5, workload 6): LEASES jobs of queue 'lease' claimed with a 1 s lease that expires, then
# cleared by dlq.sweep(batch => 10000) in a loop, one transaction per call (as the background sweeper
# does), while 2 clients run W1c batch 1 on queue 'default'. Reports the time taken and the workers'
# rate meanwhile against their rate without the sweep (same backlog, measured just before).
#   LEASES=1000000 DUR=15 bash bench/workloads/sweep.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
LEASES=${LEASES:-1000000}
BATCH=10000

echo "### Sweep: $LEASES expired leases cleared while 2 workers run W1c on another queue"
echo
reset_sys "$DLQ_SYS"
pb_val "SELECT dlq.create_queue('lease')" >/dev/null
t0=$(now)
pb_psql -v queue=lease -v n="$LEASES" -v delay=0 -f "$SQL/enqueue_bulk.sql" >/dev/null
pb_psql -v queue=lease -v lease='1 second' -f "$SQL/claim_all.sql" >/dev/null
log "sweep: $LEASES leases taken in $(calc "round($(now) - $t0)") s"
sleep 2
pb_val "ANALYZE dlq.job" >/dev/null; pb_val "CHECKPOINT" >/dev/null
expired=$(pb_val "SELECT count(*) FROM dlq.job WHERE lease_expires_at < now()")
cycle=$(cycle_script "$DLQ_SYS" 1)

md_header
m_begin "$DLQ_SYS"
pgb "$DLQ_SYS" 2 "$DUR" "$cycle" > "$WORK/sweep-base.log" 2>&1
m_end sweep-W1c "2 workers, $expired expired leases, no sweep" "$DUR"
base_rate=$M_RATE base_wal=$M_WAL

pgb "$DLQ_SYS" 2 3600 "$cycle" > "$WORK/sweep-during.log" 2>&1 &
workers=$!
sleep 2
m_begin "$DLQ_SYS"
read -r calls rescued dead <<< "$(pb_psql -At -F ' ' -v batch="$BATCH" -f "$SQL/sweep_loop.sql" | tail -1)"
secs=$(calc "round($(now) - $M_T0, 2)")
kill "$workers"; wait "$workers" 2>/dev/null || true
m_end sweep-W1c "2 workers while dlq.sweep(batch => $BATCH) runs" "$secs" "WAL/done includes the sweep's"
during_rate=$M_RATE
left=$(pb_val "SELECT count(*) FROM dlq.job WHERE lease_expires_at < now()")
echo
echo "- Sweep: $calls calls cleared $rescued expired leases (+$dead dead-lettered) in $secs s = $(calc "round(($rescued + $dead) / $secs)") leases/s; $left expired leases left."
echo "  WAL per cleared lease ≈ $(calc "round(($M_WAL_BYTES - $M_DONE * $base_wal) / max($rescued + $dead, 1))") B (the window's WAL minus the workers' share at their WAL/job without the sweep)."
echo "- Workers: $during_rate jobs/s during the sweep vs $base_rate without it = $(calc "round(100 * $during_rate / max($base_rate, 1))") %."
echo
bash "$(dirname "$0")/sweep_backlog.sh"
