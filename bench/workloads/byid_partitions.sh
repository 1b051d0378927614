#!/usr/bin/env bash
# Probe for issue 5's storage question, not a dlq workload: what do partitions cost the statements that
# find a job by id (complete, fail, heartbeat)? A job is inserted, updated and deleted by id, each in its
# own transaction (W1c's three commits, without the claim's SKIP LOCKED scan), on
#   plain:    one table, primary key on id;
#   pruned:   5 list partitions by a segment column (a ring of 4 by id, plus one for long-lived jobs),
#             each statement naming the two partitions the id can be in (segment = ANY (...));
#   pruned, generic: the same with plan_cache_mode = force_generic_plan (pruned when the executor starts,
#             not planned per call);
#   unpruned: the same partitions, found by id alone (every partition's index probed).
# 4 clients, ROUNDS x DUR s alternating. Needs the bench cluster up (see ab.sh).
#   ROUNDS=3 DUR=10 bash bench/workloads/byid_partitions.sh   (markdown on stdout)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
ROUNDS=${ROUNDS:-3}
SEG=1000

script() {  # table, extra condition
	cat <<SQL
INSERT INTO $1 (id, segment, payload) SELECT s, (s / $SEG) % 4 + 1, '{"kind": "email", "n": 1}' FROM nextval('byid_seq') AS s RETURNING id \gset
UPDATE $1 SET state = 1 WHERE id = :id$2;
DELETE FROM $1 WHERE id = :id$2;
SQL
}
script byid_plain "" > "$WORK/byid-plain.sql"
script byid_seg " AND segment = ANY (ARRAY[(:id / $SEG) % 4 + 1, 0])" > "$WORK/byid-pruned.sql"
script byid_seg "" > "$WORK/byid-unpruned.sql"

echo "### By-id statements on partitions: insert, update by id, delete by id, 4 clients, ${DUR} s"
echo
echo "| round | plain jobs/s | pruned jobs/s | pruned, generic jobs/s | unpruned jobs/s |"
echo "|---|---|---|---|---|"
declare -A all
for r in $(seq 1 "$ROUNDS"); do
	line="| $r"
	for v in plain pruned generic unpruned; do
		pb_psql -q -f "$SQL/byid_reset.sql" >/dev/null 2>&1; pb_val "CHECKPOINT" >/dev/null
		opts=""; f=$v
		[ "$v" = generic ] && opts="-c plan_cache_mode=force_generic_plan" f=pruned
		tps=$(PGOPTIONS="$opts" pgbench -n -M prepared -c 4 -j 2 -T "$DUR" -f "$WORK/byid-$f.sql" 2>&1 |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p')
		all[$v]="${all[$v]:-} $(calc "round($tps)")"
		line="$line | $(calc "round($tps)")"
	done
	echo "$line |"
done
echo "| median | $(echo "${all[plain]}" | median) | $(echo "${all[pruned]}" | median) | $(echo "${all[generic]}" | median) | $(echo "${all[unpruned]}" | median) |"
pb_psql -q -c "DROP TABLE byid_plain, byid_seg" -c "DROP SEQUENCE byid_seq" >/dev/null
