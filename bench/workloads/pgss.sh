#!/usr/bin/env bash
# Hot statements of dlq (issue 5): restarts the bench cluster with pg_stat_statements preloaded (beside dlq) and
# pg_stat_statements.track = all (statements run inside dlq's functions get their own rows), then for
# W1c (batch 1), W2c (batch 100) and the failure path (sql/fail_cycle.sql), 4 clients each: fresh
# queue, statistics reset, run, top statements by total time. Run it last: the other measurements
# use the peer harness settings, without pg_stat_statements.
#   DUR=15 TOP=12 bash bench/workloads/pgss.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
TOP=${TOP:-12}

preload_dlq 'dlq, pg_stat_statements'
pb_val "ALTER SYSTEM SET pg_stat_statements.track = 'all'" >/dev/null  # known once the module is loaded
pb_val "SELECT pg_reload_conf()" >/dev/null; sleep 0.5
pb_val "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

echo "### pg_stat_statements: dlq's hot statements"
echo
echo "Cluster restarted with shared_preload_libraries = 'dlq, pg_stat_statements', pg_stat_statements.track = all"
echo "(rates here carry its overhead). \`nested\` rows are the statements dlq's C functions run through SPI;"
echo "their time is also counted in the \`top\` row of the SQL call that ran them. blocks = shared hit + read."
for w in W1c W2c failure; do
	reset_sys "$DLQ_SYS"; settle
	case $w in
		W1c) script=$(cycle_script "$DLQ_SYS" 1) what="batch 1" done_sql="" ;;
		W2c) script=$(cycle_script "$DLQ_SYS" 100) what="batch 100" done_sql="" ;;
		failure) script=$SQL/fail_cycle.sql what="fail ×3 → dead letter" done_sql="SELECT count(*) FROM dlq.dead_letter"
			pb_val "SELECT dlq.create_queue('fail', max_attempts => 3)" >/dev/null ;;
	esac
	pb_val "SELECT pg_stat_statements_reset()" >/dev/null
	echo; md_header
	m_begin "$DLQ_SYS" "$done_sql"
	pgb "$DLQ_SYS" 4 "$DUR" "$script" > "$WORK/pgss-$w.log" 2>&1
	m_end "$w" "$what, 4 clients, pg_stat_statements on" "$DUR"
	echo
	echo "Top $TOP statements by total time during $w:"
	echo
	echo "| level | statement | calls | total ms | mean ms | rows | blocks | dirtied | WAL bytes | WAL B/call |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	pb_psql -At -v n="$TOP" -f "$SQL/pgss_top.sql"
done
