#!/usr/bin/env bash
# WAL per completed job by record type (issue 5: the WAL targets), dlq beside the floor: W1c (batch 1)
# and W2c (batch 100), 4 clients, then pg_waldump --stats=record over the run's WAL, divided by the
# jobs completed. Shows which records a job costs and which of them a change could remove; for dlq also
# by relation (pg_waldump --relation), which tells its two indexes apart.
#   DUR=10 bash bench/workloads/wal.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WALDUMP=$PGBIN/pg_waldump
WALDIR=$(pb_val "SHOW data_directory")/pg_wal

# records of one run: "type count bytes" lines (bytes = record + full-page images)
run_and_dump() {  # system-dir batch
	reset_sys "$1"; settle
	local a b done0 done1
	read -r _ done0 _ < <(pb_psql -At -F ' ' -f "$1/counters.sql")
	a=$(pb_val "SELECT pg_current_wal_lsn()")
	pgb "$1" 4 "$DUR" "$(cycle_script "$1" "$2")" > "$WORK/wal-$(conf "$1" NAME)-$2.log" 2>&1
	sleep 1
	read -r _ done1 _ < <(pb_psql -At -F ' ' -f "$1/counters.sql")
	pb_val "SELECT pg_switch_wal()" >/dev/null
	b=$(pb_val "SELECT pg_current_wal_lsn()")
	echo "done $(( done1 - done0 ))"
	# Only the records written inside [a, b); the switch record closes the segment.
	"$WALDUMP" -p "$WALDIR" -s "$a" -e "$b" --stats=record 2>/dev/null |
		awk '$1 ~ /\// && $2 ~ /^[0-9]+$/ { gsub(/[()]/, ""); print $1, $2, $(NF-1) }'
	[ "$1" = "$DLQ_SYS" ] || return 0
	# dlq.job and its indexes: "rel NAME records bytes" (records that touch a block of the relation)
	local name path
	while read -r name path; do
		"$WALDUMP" -p "$WALDIR" -s "$a" -e "$b" --relation="$path" --stats=record 2>/dev/null |
			awk -v r="$name" '$1 == "Total" { gsub(/[()]/, ""); print "rel", r, $2, $(NF-1) }'
	done < <(pb_psql -At -F ' ' -c "SELECT c.relname, concat_ws('/', CASE c.reltablespace WHEN 0 THEN d.dattablespace
	                                  ELSE c.reltablespace END, d.oid, pg_relation_filenode(c.oid))
	                                  FROM pg_class AS c, pg_database AS d
	                                 WHERE d.datname = current_database() AND c.relnamespace = 'dlq'::regnamespace
	                                   AND (c.relname = 'job' OR c.oid IN (SELECT indexrelid FROM pg_index
	                                                                     WHERE indrelid = 'dlq.job'::regclass))
	                                 ORDER BY c.relname")
}

echo "### WAL per completed job by record type"
echo
echo "4 clients, ${DUR} s each, \`pg_waldump --stats=record\` over the run; bytes include full-page images."
for batch in 1 100; do
	declare -A dcount=() dbytes=() fcount=() fbytes=()
	ddone=0 fdone=0
	declare -A rcount=() rbytes=()
	while read -r t c b r; do
		if [ "$t" = done ]; then ddone=$c
		elif [ "$t" = rel ]; then rcount[$c]=$b rbytes[$c]=$r
		else dcount[$t]=$c dbytes[$t]=$b; fi
	done < <(run_and_dump "$DLQ_SYS" "$batch")
	while read -r t c b; do
		if [ "$t" = done ]; then fdone=$c; else fcount[$t]=$c fbytes[$t]=$b; fi
	done < <(run_and_dump "$FLOOR_SYS" "$batch")
	echo
	echo "Batch $batch: dlq completed $ddone jobs, the floor $fdone."
	echo
	echo "| record | dlq per job | dlq B/record | dlq B/job | floor per job | floor B/record | floor B/job |"
	echo "|---|---|---|---|---|---|---|"
	dtot=0 ftot=0
	for t in $(printf '%s\n' "${!dbytes[@]}" "${!fbytes[@]}" | sort -u); do
		dc=${dcount[$t]:-0} db=${dbytes[$t]:-0} fc=${fcount[$t]:-0} fb=${fbytes[$t]:-0}
		dtot=$(( dtot + db )) ftot=$(( ftot + fb ))
		# records under 1 B per job for both are summed into the total only
		if [ "$(calc "int($db / max($ddone, 1) >= 1 or $fb / max($fdone, 1) >= 1)")" = 1 ]; then
			calc "f'| $t | {$dc / max($ddone, 1):.2f} | {$db / max($dc, 1):.0f} | {$db / max($ddone, 1):.0f} | {$fc / max($fdone, 1):.2f} | {$fb / max($fc, 1):.0f} | {$fb / max($fdone, 1):.0f} |'"
		fi
	done
	calc "f'| **total** | | | **{$dtot / max($ddone, 1):.0f}** | | | **{$ftot / max($fdone, 1):.0f}** |'"
	echo
	echo "dlq at batch $batch by relation (records that touch it; the rest is commits and the sequence):"
	echo
	echo "| relation | records per job | B/job |"
	echo "|---|---|---|"
	rtot=0
	for r in $(printf '%s\n' "${!rbytes[@]}" | sort); do
		rtot=$(( rtot + ${rbytes[$r]} ))
		calc "f'| $r | {${rcount[$r]} / max($ddone, 1):.2f} | {${rbytes[$r]} / max($ddone, 1):.0f} |'"
	done
	calc "f'| everything else | | {($dtot - $rtot) / max($ddone, 1):.0f} |'"
	unset dcount dbytes fcount fbytes rcount rbytes
done
