#!/usr/bin/env bash
# A sweep pass over a backlog of due jobs (workers behind): BACKLOG jobs due and waiting, 100 running with
# leases not expired. A full pass reads the whole due range looking for expired leases; a bounded
# sweep reads each priority only up to the highest job a claim has leased (src/core/sweep_bound.hpp).
# Reports the time of each sweep transaction and the claim-index entries it read.
#   BACKLOG=1000000 bash bench/workloads/sweep_backlog.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
BACKLOG=${BACKLOG:-1000000}

echo "### Sweep passes with $BACKLOG due jobs waiting and 100 running (none expired)"
echo
# Sessions of an earlier part (pgbench clients just killed) may still be finishing a transaction, and
# the reset's DROP EXTENSION would deadlock with them: wait for them to go (at most 60 s), then end any left.
for _ in $(seq 60); do
	[ "$(pb_val "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" = 0 ] && break
	sleep 1
done
pb_val "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" >/dev/null
reset_sys "$DLQ_SYS"
pb_psql -v queue=default -v n="$BACKLOG" -v delay=0 -f "$SQL/enqueue_bulk.sql" >/dev/null
pb_val "VACUUM ANALYZE dlq.job" >/dev/null
echo "| sweep | ms | claim-index entries read |"
echo "|---|---|---|"
pb_psql -At -F '|' -f "$SQL/sweep_backlog.sql" | awk -F '|' 'NF == 3 && $1 != "has_bounds" { print "| " $1 " | " $2 " | " $3 " |" }'
