#!/usr/bin/env bash
# WAL per completed job by record type (issue 5: the WAL targets), dlq beside the floor: W1c (batch 1)
# and W2c (batch 100), 4 clients, then pg_waldump --stats=record over the run's WAL, divided by the
# jobs completed. Shows which records a job costs and which of them a change could remove.
#   DUR=10 bash bench/workloads/wal.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
WALDUMP=$PGBIN/pg_waldump
WALDIR=$(pb_val "SHOW data_directory")/pg_wal

# records of one run: "type count bytes" lines (bytes = record + full-page images)
run_and_dump() {  # system-dir batch
	reset_sys "$1"; pb_val "CHECKPOINT" >/dev/null
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
}

echo "### WAL per completed job by record type"
echo
echo "4 clients, ${DUR} s each, \`pg_waldump --stats=record\` over the run; bytes include full-page images."
for batch in 1 100; do
	declare -A dcount=() dbytes=() fcount=() fbytes=()
	ddone=0 fdone=0
	while read -r t c b; do
		if [ "$t" = done ]; then ddone=$c; else dcount[$t]=$c dbytes[$t]=$b; fi
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
	unset dcount dbytes fcount fbytes
done
