#!/usr/bin/env bash
# Runs the two example workers (worker.py, worker.mjs) against a throwaway cluster and checks what they
# did: completions, retries, permanent failures, retry_in, heartbeats on a job longer than its lease
# (with the background sweeper taking expired leases away), reconnecting across a server restart, and a
# clean exit on SIGTERM. Ends with "N passed, N failed".
#
#   bash examples/check.sh          # as root on Debian 12 (or a user with sudo)
#
# Installs what is missing (the build dependencies via test/scripts/common.sh, python3-psycopg2, nodejs
# and npm), builds and installs the extension, and installs the npm package pg into a temporary
# directory (never into the repository).
#   DLQ_SKIP_BUILD=1   use the dlq already installed
#   DLQ_PG_BIN=DIR     use the PostgreSQL binaries in DIR (with dlq installed there)
source "$(dirname "${BASH_SOURCE[0]}")/../test/scripts/common.sh"
if [ -n "${DLQ_PG_BIN:-}" ]; then export PATH="$DLQ_PG_BIN:$PATH"; fi

DIR=${DLQ_EXAMPLES_DIR:-/tmp/dlq-examples}
PORT=${DLQ_EXAMPLES_PORT:-55451}
EXAMPLES="$DLQ_ROOT/examples"

dlq_install_deps
[ "${DLQ_SKIP_BUILD:-0}" = 1 ] || dlq_build_install
dlq_ensure_user

missing=()
/usr/bin/python3 -c 'import psycopg2' 2>/dev/null || missing+=(python3-psycopg2)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

NODE_DIR=$(mktemp -d /tmp/dlq-examples-node.XXXXXX)
cluster_started=false
finish() {
	$cluster_started && cluster_stop "$DIR"
	rm -rf "$NODE_DIR"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "installing the npm package pg into $NODE_DIR"
(cd "$NODE_DIR" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error pg >/dev/null)
cp "$EXAMPLES/worker.mjs" "$NODE_DIR/" # ES modules resolve packages from the file's own directory

say "starting a throwaway cluster in $DIR (port $PORT)"
cluster_stop "$DIR"
# The background sweeper runs every half second: a lease that is not kept alive is taken away at once,
# so the heartbeat checks below mean something.
cluster_init "$DIR" "$PORT" <<'EOF'
shared_preload_libraries = 'dlq'
dlq.enabled = on
dlq.sweep_interval = '500ms'
EOF
cluster_started=true
cluster_start "$DIR"
export PGHOST="$DIR/sock" PGPORT="$PORT" PGUSER=postgres PGDATABASE=postgres
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" </dev/null; }
sql "CREATE EXTENSION dlq"

passed=0
failed=0
expect() {  # description expected actual
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1)); echo "ok      $1"
	else
		failed=$((failed + 1)); echo "FAILED  $1"; echo "        expected: $2"; echo "        actual:   $3"
	fi
}

worker() {  # name: runs that example worker with the environment given by the caller
	case $1 in
		python) exec /usr/bin/python3 "$EXAMPLES/worker.py" ;;
		node) cd "$NODE_DIR" && exec node worker.mjs ;;
	esac
}

check_worker() {  # python | node
	local name=$1 queue="$1_jobs" logf="$DIR/$1.log"
	say "$name worker: one batch of everything, with a server restart in the middle"
	sql "SELECT dlq.create_queue('$queue', max_attempts => 2, backoff_base => '0.2 seconds',
	                             backoff_max => '1 second')"
	sql "SELECT count(*) FROM dlq.enqueue_many('$queue', '[
	       {\"kind\": \"log\", \"payload\": {\"message\": \"hello\"}},
	       {\"kind\": \"log\", \"payload\": {\"n\": 2}},
	       {\"kind\": \"sleep\", \"payload\": {\"seconds\": 8}},
	       {\"kind\": \"fail\", \"payload\": {\"message\": \"boom\"}},
	       {\"kind\": \"reject\", \"payload\": {\"message\": \"bad input\"}},
	       {\"kind\": \"throttled\", \"payload\": {\"seconds\": 0.3}},
	       {\"kind\": \"no_such_kind\"}]')" >/dev/null
	# A 4-second lease: the 8-second job only keeps it with heartbeats. One job per claim, so no job
	# waits in a batch behind the long one while its own lease runs out.
	DLQ_QUEUE=$queue DLQ_WORKER="$name-1" DLQ_BATCH=1 DLQ_LEASE=4 DLQ_IDLE_SLEEP=0.2 DLQ_EXIT_IDLE=3 DLQ_LOG=debug \
		worker "$name" >"$logf" 2>&1 </dev/null &
	local pid=$!
	sleep 3
	as_user pg_ctl -D "$DIR/data" -l "$DIR/server.log" -m fast -w restart >/dev/null
	local status=0
	timeout 120 tail --pid="$pid" -f /dev/null || { kill "$pid" 2>/dev/null; status=timeout; }
	wait "$pid" || status=$?
	sed 's/^/        /' "$logf"

	expect "$name: worker exit status" 0 "$status"
	expect "$name: queue empty; 4 dead letters (available|scheduled|running|dead_letters)" "0|0|0|4" \
		"$(sql "SELECT available, scheduled, running, dead_letters FROM dlq.queue_stats WHERE queue = '$queue'")"
	expect "$name: dead letters (kind:reason:attempts)" \
		"fail:RETRIES_EXHAUSTED:2 no_such_kind:PERMANENT_FAILURE:1 reject:PERMANENT_FAILURE:1 throttled:RETRIES_EXHAUSTED:2" \
		"$(sql "SELECT string_agg(kind || ':' || reason || ':' || attempts, ' ' ORDER BY kind)
		          FROM dlq.dead_letters WHERE queue = '$queue'")"
	expect "$name: error history of the retried job: both attempts" "1:boom 2:boom" \
		"$(sql "SELECT string_agg((e->>'attempt') || ':' || regexp_replace(e->>'error', '^\w+: ', ''), ' '
		                          ORDER BY (e->>'attempt')::int)
		          FROM dlq.dead_letters AS d, jsonb_array_elements(d.errors) AS e
		         WHERE d.queue = '$queue' AND d.kind = 'fail'")"
	expect "$name: the worker's details are kept" "t" \
		"$(sql "SELECT bool_and(errors->0->'details' ? 'exception') FROM dlq.dead_letters WHERE queue = '$queue'")"
	expect "$name: 3 jobs completed (2 quick, 1 longer than its lease)" 3 "$(grep -cE ' completed$' "$logf")"
	expect "$name: the long job's lease was extended" yes \
		"$(grep -qE 'job [0-9]+: lease extended' "$logf" && echo yes || echo no)"
	expect "$name: noticed the restart and reconnected" yes \
		"$(grep -qE 'database unavailable|connection lost' "$logf" && echo yes || echo no)"
	expect "$name: no lease was lost" no "$(grep -q 'lease lost\|lease was lost' "$logf" && echo yes || echo no)"

	say "$name worker: a job that waited in its batch gets a fresh lease before it starts"
	queue="$1_batch"
	sql "SELECT dlq.create_queue('$queue')"
	# One claim of 2 jobs with a 6-second lease: the second waits 4.5 s behind the first, then runs 3 s.
	# Extended when it starts, its lease holds; counted from the claim, it would run out at 6 s, before
	# the job's own first heartbeat (a third of the lease into its run, at 6.5 s), and the sweeper
	# (every half second) would take it away: "lease lost".
	sql "SELECT count(*) FROM dlq.enqueue_many('$queue', '[{\"kind\": \"sleep\", \"payload\": {\"seconds\": 4.5}},
	                                                      {\"kind\": \"sleep\", \"payload\": {\"seconds\": 3}}]')" >/dev/null
	DLQ_QUEUE=$queue DLQ_WORKER="$name-3" DLQ_BATCH=2 DLQ_LEASE=6 DLQ_IDLE_SLEEP=0.2 DLQ_EXIT_IDLE=2 DLQ_LOG=debug \
		worker "$name" >"$logf" 2>&1 </dev/null &
	pid=$!
	status=0
	timeout 60 tail --pid="$pid" -f /dev/null || { kill "$pid" 2>/dev/null; status=timeout; }
	wait "$pid" || status=$?
	sed 's/^/        /' "$logf"
	expect "$name: exit status" 0 "$status"
	expect "$name: both jobs of the batch completed (completed lines|lease lost)" "2|no" \
		"$(grep -cE ' completed$' "$logf")|$(grep -q 'lease lost\|lease was lost' "$logf" && echo yes || echo no)"

	say "$name worker: SIGTERM finishes the batch, then exits"
	queue="$1_term"
	sql "SELECT dlq.create_queue('$queue')"
	sql "SELECT count(*) FROM dlq.enqueue_many('$queue', '[{\"kind\": \"sleep\", \"payload\": {\"seconds\": 3}},
	                                                      {\"kind\": \"log\"}]')" >/dev/null
	DLQ_QUEUE=$queue DLQ_WORKER="$name-2" DLQ_IDLE_SLEEP=0.2 worker "$name" >"$logf" 2>&1 </dev/null &
	pid=$!
	sleep 1.5
	kill -TERM "$pid"
	status=0
	timeout 60 tail --pid="$pid" -f /dev/null || { kill -KILL "$pid" 2>/dev/null; status=timeout; }
	wait "$pid" || status=$?
	sed 's/^/        /' "$logf"
	expect "$name: exit status after SIGTERM" 0 "$status"
	expect "$name: both jobs of the batch completed" "0|0|0|0" \
		"$(sql "SELECT available, scheduled, running, dead_letters FROM dlq.queue_stats WHERE queue = '$queue'")"
}

check_worker python
check_worker node

say "summary"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
