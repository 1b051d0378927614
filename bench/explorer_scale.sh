#!/usr/bin/env bash
# Explorer at scale (issue 4): 1,000,000 dead letters spread over 30 days in daily partitions; times a
# one-day search with a kind prefix and a free-text filter, and a one-day summary, and records their
# plans. A benchmark, not a test: it prints figures and writes bench/results/explorer-scale-<date>.md.
#   bash bench/explorer_scale.sh [rows] [days] [runs]
source "$(dirname "${BASH_SOURCE[0]}")/../test/scripts/common.sh"
ROWS=${1:-1000000}
DAYS=${2:-30}
RUNS=${3:-7}
DIR=/tmp/dlq-bench-explorer
PORT=55460
OUT="$DLQ_ROOT/bench/results/explorer-scale-$(date +%F).md"

dlq_install_deps
dlq_build_install
dlq_ensure_user
cluster_stop "$DIR"
cluster_init "$DIR" "$PORT" <<CONF
shared_preload_libraries = 'dlq'
dlq.enabled = off
shared_buffers = 1GB
max_wal_size = 4GB
CONF
cluster_start "$DIR"
trap 'cluster_stop "$DIR"' EXIT
psql_b() { as_user psql -X -q -v ON_ERROR_STOP=1 -h "$DIR/sock" -p "$PORT" -U postgres -d postgres "$@"; }

say "loading $ROWS dead letters over $DAYS days"
t0=$(date +%s)
psql_b <<SQL
CREATE EXTENSION dlq;
-- Partitions for the whole range, then rows spread evenly over it. Ten queues, kinds in families
-- (email.send, email.bounce, billing.charge ...), fifty tenants, and errors that vary by ids and
-- numbers so that they fall into a few dozen fingerprint patterns.
SELECT count(dlq._ensure_dead_letter_partition(d))
  FROM generate_series(date_trunc('day', now() - interval '$DAYS days', 'UTC'), now() + interval '1 day',
                       interval '1 day') AS d;
INSERT INTO dlq.dead_letter (job_id, dead_lettered_at, enqueued_at, priority, attempts, max_attempts, queue, kind,
                             reason, detected_by, tenant, last_error, fingerprint, payload, errors)
SELECT i,
       now() - (i::float8 / $ROWS) * interval '$DAYS days',
       now() - (i::float8 / $ROWS) * interval '$DAYS days' - interval '5 minutes',
       0, 5, 5,
       'queue_' || (i % 10),
       (ARRAY['email.send', 'email.bounce', 'billing.charge', 'billing.refund', 'report.build',
              'sync.crm', 'sync.erp', 'image.resize'])[1 + i % 8],
       (ARRAY['RETRIES_EXHAUSTED', 'PERMANENT_FAILURE', 'STUCK_IN_PROGRESS', 'UNRECOVERED_ERROR'])[1 + i % 4],
       (ARRAY['inline', 'inline', 'sweep', 'sweep'])[1 + i % 4],
       'tenant_' || (i % 50),
       e.msg, dlq.fingerprint(e.msg),
       jsonb_build_object('order_id', i, 'customer', 'cust-' || (i % 5000), 'amount', (i % 997) * 1.5),
       jsonb_build_array(jsonb_build_object('attempt', 5, 'at', now(), 'worker', 'w-' || (i % 16), 'error', e.msg))
  FROM generate_series(1, $ROWS) AS i
 CROSS JOIN LATERAL (SELECT (ARRAY[
       'timeout after ' || (i % 90) || 's calling https://api.example.com/v1/orders/' || i,
       'connection refused: 10.0.' || (i % 255) || '.' || (i % 13) || ':5432',
       'card declined for order ' || i || ' (code ' || (i % 7) || ')',
       'duplicate key value violates unique constraint "orders_pkey" for id ' || i,
       'SMTP 550 mailbox unavailable for user' || (i % 1000) || '@example.com',
       'deadlock detected while updating invoice ' || md5(i::text),
       'rate limited: retry after ' || (i % 60) || ' seconds'])[1 + i % 7] AS msg) AS e;
ANALYZE dlq.dead_letter;
SQL
t1=$(date +%s)
echo "loaded in $((t1 - t0)) s"

# Timed inside the server (clock_timestamp around the call), median of RUNS, after one warm-up run.
time_query() {  # label sql
	psql_b -At <<SQL
DO \$\$
DECLARE t0 timestamptz; ms float8[] := '{}'; n bigint;
BEGIN
	EXECUTE \$q\$SELECT count(*) FROM ($2) AS q\$q\$ INTO n;
	FOR i IN 1 .. $RUNS LOOP
		t0 := clock_timestamp();
		EXECUTE \$q\$SELECT count(*) FROM ($2) AS q\$q\$ INTO n;
		ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
	END LOOP;
	RAISE NOTICE '$1|%|%|%', n,
		(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) AS x)::numeric(10,1),
		(SELECT max(x) FROM unnest(ms) AS x)::numeric(10,1);
END \$\$;
SQL
}

DAY_FROM="date_trunc('day', now() - interval '3 days', 'UTC')"
DAY_TO="date_trunc('day', now() - interval '2 days', 'UTC')"
SEARCH="SELECT * FROM dlq.search($DAY_FROM, $DAY_TO, kind_prefix => 'billing.', text => 'declined')"
TOTAL=$(psql_b -At -c "SELECT max(total_count) FROM ($SEARCH) AS s")
SUMMARY="SELECT * FROM dlq.summary($DAY_FROM, $DAY_TO)"
say "timing (median of $RUNS runs)"
results=$( { time_query "one-day search, kind prefix + free text" "$SEARCH"; time_query "one-day summary" "$SUMMARY"; } 2>&1 | sed -n 's/.*NOTICE:  //p')
echo "$results"
plan_search=$(psql_b -At -c "SELECT format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) %s', dlq.search_query($DAY_FROM, $DAY_TO, kind_prefix => 'billing.', text => 'declined'))" | psql_b -At)
plan_summary=$(psql_b -At -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT d.queue, d.kind, d.reason, d.fingerprint, count(*) FROM dlq.dead_letter AS d WHERE d.dead_lettered_at >= $DAY_FROM AND d.dead_lettered_at < $DAY_TO GROUP BY 1, 2, 3, 4")
sample=$(psql_b -c "$SUMMARY LIMIT 8")
parts=$(psql_b -At -c "SELECT count(*) FROM dlq.dead_letter_partition")
size=$(psql_b -At -c "SELECT pg_size_pretty(sum(pg_total_relation_size(format('dlq.%I', name)::regclass))) FROM dlq.dead_letter_partition")

{
	echo "# Explorer at scale — $(date +%F)"
	echo
	echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r); $(psql_b -At -c 'SELECT version()' | cut -d, -f1)."
	echo "Settings: shared_buffers=1GB, everything else default. Data: $ROWS dead letters over $DAYS days,"
	echo "$parts daily partitions, $size with indexes. Command: \`bash bench/explorer_scale.sh $ROWS $DAYS $RUNS\`."
	echo
	echo "The search returns its first page (max_rows 50) and total_count = $TOTAL matches in that day."
	echo
	echo "| query | rows returned | median ms | max ms |"
	echo "|---|---|---|---|"
	echo "$results" | awk -F'|' '{printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4}'
	echo
	echo "## Plan: one-day search (the exact SQL dlq.search runs, from dlq.search_query)"
	echo '```'; echo "$plan_search"; echo '```'
	echo
	echo "## Plan: one-day summary grouping"
	echo '```'; echo "$plan_summary"; echo '```'
	echo
	echo "## Sample summary output"
	echo '```'; echo "$sample"; echo '```'
} > "$OUT"
say "written $OUT"
