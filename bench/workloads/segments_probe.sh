#!/usr/bin/env bash
# Probe for issue 5's storage question, not a dlq workload: can truncated segments bound the dead tuples
# that a held snapshot leaves, and what do partitions cost? The floor's queue (systems/minimal, bare SKIP
# LOCKED) is run as is and on a ring of 8 partitions by id segment (sql/segments_reset.sql), where a loop
# truncates every partition whose jobs are all gone (seg_rotate, every 0.2 s).
#   1. W1c batch 1, 4 clients, ROUNDS x DUR s alternating the plain table and the segments: jobs/s, WAL;
#   2. the same while a REPEATABLE READ snapshot is held HOLD s: jobs/s and dead tuples per BUCKET s.
# Needs the bench cluster up (KEEP_CLUSTER=1 bench/run.sh, or ../shared/bench/peers/cluster.sh start).
#   SEG=20000 HOLD=300 BUCKET=30 ROUNDS=3 DUR=10 bash bench/workloads/segments_probe.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
SEG=${SEG:-20000}
HOLD=${HOLD:-300}
BUCKET=${BUCKET:-30}
ROUNDS=${ROUNDS:-3}

rot="" bench="" holder=""
trap 'kill $rot $bench $holder 2>/dev/null || true' EXIT  # the rotation loop must not outlive a failure

plain_script=$(cycle_script "$FLOOR_SYS" 1)
seg_script=$WORK/segments-w1c.sql
sed "s/:seg\b/$SEG/g" "$SQL/segments_w1c.sql" > "$seg_script"
reset_seg() { pb_psql -q -v seg="$SEG" -f "$SQL/segments_reset.sql" >/dev/null; }
seg_dead() { pb_val "SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables WHERE relname LIKE 'seg\_jobs\_p%'"; }
seg_done() { pb_val "SELECT (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM seg_jobs_id_seq) - (SELECT count(*) FROM seg_jobs)"; }
seg_bytes() { pb_val "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname LIKE 'seg\_jobs\_p%' AND c.relkind = 'r'"; }
rotator() { while :; do pb_val "SELECT seg_rotate($SEG)" >/dev/null 2>&1 || true; sleep 0.2; done; }
lsn() { pb_val "SELECT pg_current_wal_lsn()"; }
walb() { pb_val "SELECT pg_wal_lsn_diff('$2', '$1')"; }

echo "### Segments probe: the floor's queue on 8 truncated partitions (segment $SEG ids)"
echo
echo "W1c batch 1, 4 clients, $ROUNDS × ${DUR} s, alternating (no snapshot held):"
echo
echo "| round | plain jobs/s | plain WAL B/job | segments jobs/s | segments WAL B/job | truncations |"
echo "|---|---|---|---|---|---|"
for r in $(seq 1 "$ROUNDS"); do
	reset_sys "$FLOOR_SYS"; pb_val "CHECKPOINT" >/dev/null
	l0=$(lsn); pgb "$FLOOR_SYS" 4 "$DUR" "$plain_script" > "$WORK/seg-plain.log" 2>&1; l1=$(lsn)
	read -r pd < <(pb_psql -At -F ' ' -f "$FLOOR_SYS/counters.sql" | awk '{print $2}')
	reset_seg; pb_val "CHECKPOINT" >/dev/null
	rotator & rot=$!
	s0=$(lsn); pgb "$FLOOR_SYS" 4 "$DUR" "$seg_script" > "$WORK/seg-seg.log" 2>&1; s1=$(lsn)
	kill "$rot"; wait "$rot" 2>/dev/null || true; rot=""
	sd=$(seg_done); tr=$(pb_val "SELECT count(*) FROM seg_truncations")
	echo "| $r | $(calc "round($pd / $DUR)") | $(calc "round($(walb "$l0" "$l1") / max($pd, 1))") | $(calc "round($sd / $DUR)") | $(calc "round($(walb "$s0" "$s1") / max($sd, 1))") | $tr |"
done
echo

echo "W1c batch 1, 4 clients, while a REPEATABLE READ snapshot is held $HOLD s (segments):"
echo
reset_seg; pb_val "CHECKPOINT" >/dev/null
PGAPPNAME=dlqbench-hold pb_psql -v secs="$(( HOLD + 60 ))" -f "$SQL/hold_snapshot.sql" > /dev/null 2>&1 &
holder=$!
sleep 1
rotator & rot=$!
pgb "$FLOOR_SYS" 4 "$HOLD" "$seg_script" > "$WORK/seg-held.log" 2>&1 &
bench=$!
echo "| bucket end (s) | jobs/s | dead tuples | table+indexes MB | truncations so far |"
echo "|---|---|---|---|---|"
t0=$(date +%s) c0=0 i=1
while (( i * BUCKET <= HOLD )); do
	sleep "$(( t0 + i * BUCKET - $(date +%s) > 0 ? t0 + i * BUCKET - $(date +%s) : 0 ))"
	c=$(seg_done)
	echo "| $(( i * BUCKET )) | $(( (c - c0) / BUCKET )) | $(seg_dead) | $(calc "round($(seg_bytes) / 2**20, 1)") | $(pb_val "SELECT count(*) FROM seg_truncations") |"
	c0=$c i=$(( i + 1 ))
done
wait "$bench" || true; bench=""
kill "$rot"; wait "$rot" 2>/dev/null || true; rot=""
pb_val "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'dlqbench-hold'" >/dev/null
wait "$holder" || true; holder=""
echo
echo "Dead tuples per truncated partition: $(pb_val "SELECT format('median %s, max %s over %s truncations', percentile_disc(0.5) WITHIN GROUP (ORDER BY dead), max(dead), count(*)) FROM seg_truncations")."
echo "Longest gap between truncations: $(pb_val "SELECT coalesce(max(gap)::text, 'n/a') FROM (SELECT at - lag(at) OVER (ORDER BY at) AS gap FROM seg_truncations) g")."
