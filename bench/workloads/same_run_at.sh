#!/usr/bin/env bash
# Claims of jobs that share one run_at while a snapshot is held (the case where a claim must start at the
# hint's own entry, not at the first entry of its run_at; see isolation spec claim_hint_same_run_at):
# N jobs from one enqueue_many, a REPEATABLE READ snapshot held in another session, then claim 1 +
# complete N times in one session. Prints ms per claim at the start, middle and end, and the total.
#   N=8000 bash bench/workloads/same_run_at.sh   (bench cluster up, dlq preloaded; see ../ab.sh)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
N=${N:-8000}
pb_val "SELECT dlq.drop_queue('same_run_at', true) FROM dlq.queue WHERE name = 'same_run_at'" >/dev/null
pb_val "SELECT dlq.create_queue('same_run_at')" >/dev/null
pb_val "SELECT count(*) FROM dlq.enqueue_many('same_run_at', (SELECT jsonb_agg(jsonb_build_object('kind', 'k',
	'run_at', '2020-01-01T00:00:00Z')) FROM generate_series(1, $N)))" >/dev/null
pb_psql -c "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM dlq.job; SELECT pg_sleep(600);" >/dev/null 2>&1 &
holder=$!
trap 'kill $holder 2>/dev/null || true' EXIT
sleep 1
{ echo '\timing on'; for _ in $(seq "$N"); do
	echo "SELECT dlq.complete(job_id, 'w') FROM dlq.claim('same_run_at', 'w');"; done; } |
	pb_psql -q 2>&1 | awk '/^Time:/ { print $2 }' > "$WORK/same_run_at.times"
python3 - "$WORK/same_run_at.times" <<'PY'
import sys
t = [float(x) for x in open(sys.argv[1])]
n = len(t)
for name, a, b in [("first 100", 0, 100), ("middle 100", n // 2 - 50, n // 2 + 50), ("last 100", n - 100, n)]:
    s = t[a:b]
    print(f"{name}: {sum(s) / len(s):.3f} ms per claim + complete")
print(f"{n} claims: {sum(t) / 1000:.1f} s")
PY
