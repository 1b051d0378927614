#!/usr/bin/env bash
# Where the server's CPU goes, per completed job of W1c (4 clients), for dlq and the floor side by side:
# perf samples every process of the machine for SECS, and for each function of the list below this
# prints the µs per completed job spent inside it (inclusive). It shows what pg_stat_statements cannot:
# that counts a nested statement's run, not its executor start-up (which was a third of dlq's claim).
# Needs perf (Debian: linux-perf) and the bench cluster up with dlq preloaded (see ab.sh). Frames inside
# dlq.so show only when dlq is built with frame pointers:
#   make DLQ_CXXFLAGS='-fno-omit-frame-pointer -g' install   (then restart the cluster)
#   bash bench/profile.sh [SECS] [SYSTEM...]   (default 8 s; dlq floor)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
secs=${1:-8}; shift || true
[ $# -gt 0 ] || set -- dlq floor
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
FUNCS="PostgresMain PortalStart PortalRun GetCachedPlan standard_ExecutorStart ExecInitNode standard_ExecutorRun
standard_ExecutorFinish standard_ExecutorEnd CommitTransactionCommand pq_getbyte fmgr_security_definer
ProcessGUCArray AtEOXact_GUC ExecMakeTableFunctionResult SPI_execute_plan heap_insert heap_update heap_delete
heap_lock_tuple ExecInsertIndexTuples XLogInsert dlq_enqueue dlq_claim dlq_complete_many dlq_fail index_getnext_slot"

for s in "$@"; do
	case $s in dlq) sys=$DLQ_SYS ;; floor) sys=$FLOOR_SYS ;; *) echo "unknown system $s" >&2; exit 2 ;; esac
	reset_sys "$sys" >/dev/null 2>&1; pb_val CHECKPOINT >/dev/null
	pgb "$sys" 4 $(( secs + 4 )) "$(cycle_script "$sys" 1)" > "$WORK/profile-$s.log" 2>&1 &
	sleep 2
	read -r d0 _ < <(snap "$sys")
	perf record -q -o "$WORK/perf-$s.data" -a -g -F 999 -- sleep "$secs" >/dev/null 2>&1
	read -r d1 _ < <(snap "$sys")
	wait
	# perf's clock: 999 samples per second and CPU, so one sample is about 1/999 s of one CPU.
	perf script -i "$WORK/perf-$s.data" -F comm,ip,sym 2>/dev/null |
		awk -v jobs=$(( d1 - d0 )) -v funcs="$FUNCS" -v name="$s" 'BEGIN { RS = ""; n = split(funcs, F, /[ \n]+/) }
		{ split($0, L, "\n"); sub(/^[ \t]*/, "", L[1]); split(L[1], C, /[ \t]+/); if (C[1] != "postgres") next
		  total++; delete seen
		  for (i = 2; i <= length(L); i++) { split(L[i], P, /[ \t]+/); f = P[3]; if (!(f in seen)) { seen[f] = 1; hit[f]++ } } }
		END { us = 1e6 / 999 / jobs
		      printf "%s: %d jobs completed while sampled; server processes %.1f µs/job\n", name, jobs, total * us
		      for (i = 1; i <= n; i++) if (F[i] != "") printf "  %-30s %7.1f µs/job\n", F[i], hit[F[i]] * us }'
done
