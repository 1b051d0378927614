#!/usr/bin/env bash
# Failure path (issue 5, workload 3): every job fails until it is dead-lettered. Queue 'fail' has
# max_attempts 3 and failures retry at once (retry_in 0). 4 clients run sql/fail_cycle.sql: enqueue 1,
# then three times claim 1 + fail. Reports dead letters per second and WAL per dead letter, against
# the completion rate of W1c batch 1 (same clients and duration) measured right before it. A third run,
# queue 'fail' with max_attempts 1 and the script's first attempt only (enqueue, claim, fail), takes
# three calls per job as W1c does: it shows what the dead-letter call costs apart from the retries.
#   DUR=15 bash bench/workloads/failure.sh     (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

echo "### Failure path: every job fails until dead-lettered (max_attempts 3, retry_in 0)"
echo
md_header
reset_sys "$DLQ_SYS"; settle
m_begin "$DLQ_SYS"
pgb "$DLQ_SYS" 4 "$DUR" "$(cycle_script "$DLQ_SYS" 1)" > "$WORK/failure-w1c.log" 2>&1
m_end W1c "reference: enqueue → claim → complete, 4 clients" "$DUR"
done_rate=$M_RATE

reset_sys "$DLQ_SYS"
pb_val "SELECT dlq.create_queue('fail', max_attempts => 3)" >/dev/null; settle
m_begin "$DLQ_SYS" "SELECT count(*) FROM dlq.dead_letter"
pgb "$DLQ_SYS" 4 "$DUR" "$SQL/fail_cycle.sql" > "$WORK/failure.log" 2>&1
dl_mb=$(pb_val "SELECT round(sum(pg_total_relation_size(relid))::numeric / 1048576, 1) FROM pg_partition_tree('dlq.dead_letter')")
m_end failure "enqueue → 3 × (claim → fail) → dead letter, 4 clients" "$DUR" "done = dead letters; dlq.dead_letter ${dl_mb} MB after"
fail_rate=$M_RATE fail_wal=$M_WAL

reset_sys "$DLQ_SYS"
pb_val "SELECT dlq.create_queue('fail', max_attempts => 1)" >/dev/null; settle
sed -n '1,/^\\endif/p' "$SQL/fail_cycle.sql" > "$WORK/fail_once.sql"   # up to the first attempt's end
m_begin "$DLQ_SYS" "SELECT count(*) FROM dlq.dead_letter"
pgb "$DLQ_SYS" 4 "$DUR" "$WORK/fail_once.sql" > "$WORK/failure-once.log" 2>&1
m_end first-failure "enqueue → claim → fail → dead letter (max_attempts 1), 4 clients" "$DUR" "done = dead letters"
once_rate=$M_RATE
M_RATE=$fail_rate M_WAL=$fail_wal
echo
echo "Dead-letter path: $M_RATE dead letters/s = $(calc "round(100 * $M_RATE / max($done_rate, 1))") % of the W1c completion rate ($done_rate jobs/s) measured just before (target ≥ 50 %); WAL per dead letter $M_WAL B."
echo "Dead-lettered at the first failure (three calls per job, as W1c): $once_rate dead letters/s = $(calc "round(100 * $once_rate / max($done_rate, 1))") % of W1c."
