#!/usr/bin/env bash
# Before/after comparisons of dlq builds on the bench cluster (dlq preloaded), runs interleaved so that the
# machine's drift hits every variant alike. Builds live in $PB_ROOT/builds/<name>; switching builds
# installs the library by rename (never overwrite a mapped dlq.so in place) and restarts the cluster.
#   bash bench/ab.sh build NAME [COMMIT]          build COMMIT (default HEAD) as NAME
#   bash bench/ab.sh cycle N SECS BATCH VARIANT... closed loop, 4 clients: jobs/s, WAL B/job, queue table MB
#                                                 and dead tuples after, per run
#   bash bench/ab.sh cpu N TX BATCH VARIANT...     server CPU µs per completed job (TX transactions/client)
#   bash bench/ab.sh drain N SECS VARIANT...       200,000 due jobs, then N windows of claim 1 + complete
#   bash bench/ab.sh fail N SECS VARIANT...        failure path (workloads/sql/fail_cycle.sql), 4 clients:
#                                                 dead letters/s, WAL B and server CPU µs per dead letter
# VARIANT: a build NAME, NAME:off (that build with dlq.claim_hints = off), or floor (the bare SKIP LOCKED
# queue). The cluster must be up: PB_ROOT=/tmp/dlqbench PGPORT=55441 ../shared/bench/peers/cluster.sh init,
# then `source bench/lib.sh; preload_dlq`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
BUILDS=$PB_ROOT/builds
SHARE=$(pg_config --sharedir)/extension LIB=$(pg_config --pkglibdir)
HZ=$(getconf CLK_TCK)
current=""

use_build() {  # name
	[ "$current" = "$1" ] && return
	cp "$BUILDS/$1/dlq.so" "$LIB/dlq.so.new" && mv "$LIB/dlq.so.new" "$LIB/dlq.so"
	cp "$BUILDS/$1/dlq--0.1.0.sql" "$SHARE/"
	"$PEERS/cluster.sh" stop >/dev/null && "$PEERS/cluster.sh" start >/dev/null
	current=$1
}
use_variant() {  # variant -> sets $sys
	if [ "$1" = floor ]; then sys=$FLOOR_SYS; return; fi
	sys=$DLQ_SYS
	use_build "${1%%:*}"
	if [[ $1 == *:off ]]; then pb_val "ALTER DATABASE $PGDATABASE SET dlq.claim_hints = off" >/dev/null
	else pb_val "ALTER DATABASE $PGDATABASE RESET dlq.claim_hints" >/dev/null; fi
}
cluster_cpu_ticks() {  # every process of the cluster, exited children included (postmaster's cutime)
	local pm; pm=$(head -1 "$PGDATA/postmaster.pid")
	{ cat "/proc/$pm/stat"; for p in $(pgrep -P "$pm"); do cat "/proc/$p/stat" 2>/dev/null; done; } |
		awk '{ s += $14 + $15 } $1 == '"$pm"' { s += $16 + $17 } END { print s }'
}

cmd=${1:?usage: see the header of bench/ab.sh}; shift
case $cmd in
build)
	name=${1:?name}; commit=${2:-HEAD}; tree=$PB_ROOT/src-$name
	rm -rf "$tree"; git -C "$DLQ_ROOT" worktree add -f -q --detach "$tree" "$commit"
	make -s -C "$tree" -j2 >/dev/null
	mkdir -p "$BUILDS/$name"; cp "$tree/dlq.so" "$tree/dlq--0.1.0.sql" "$BUILDS/$name/"
	git -C "$DLQ_ROOT" worktree remove --force "$tree"
	echo "built $(git -C "$DLQ_ROOT" rev-parse --short "$commit") as $BUILDS/$name"
	;;
cycle|cpu)
	n=$1 amount=$2 batch=$3; shift 3
	declare -A result wal size dead
	for _ in $(seq "$n"); do for v in "$@"; do
		use_variant "$v"; reset_sys "$sys" >/dev/null 2>&1; settle
		script=$(cycle_script "$sys" "$batch")
		if [ "$cmd" = cycle ]; then
			read -r c0 _ _ l0 _ < <(snap "$sys")
			tps=$(pgb "$sys" 4 "$amount" "$script" | sed -n 's/^tps = \([0-9.]*\).*/\1/p')
			read -r c1 b1 d1 l1 _ < <(snap "$sys")
			r=$(calc "round($tps * $batch)")
			wal[$v]="${wal[$v]:-} $(pb_val "SELECT round(pg_wal_lsn_diff('$l1', '$l0') / greatest($c1 - $c0, 1))")"
			size[$v]="${size[$v]:-} $(calc "round($b1 / 1048576, 1)")" dead[$v]="${dead[$v]:-} $d1"
		else
			t0=$(cluster_cpu_ticks)
			PGOPTIONS="$(conf "$sys" CONSUMER_PGOPTIONS)" pgbench -n -M prepared -c 4 -j 2 -t "$amount" -D drain=0 \
				-f "$script" >/dev/null 2>&1
			sleep 1; t1=$(cluster_cpu_ticks)
			r=$(calc "round(($t1 - $t0) / $HZ * 1e6 / ($amount * 4 * $batch), 1)")
		fi
		result[$v]="${result[$v]:-} $r"; log "$v $r"
	done; done
	unit=$([ "$cmd" = cycle ] && echo "jobs/s" || echo "CPU µs/job")
	for v in "$@"; do
		line="$v: $unit [${result[$v]} ] median $(echo "${result[$v]}" | median)"
		[ "$cmd" = cpu ] || line="$line; WAL B/job [${wal[$v]} ] median $(echo "${wal[$v]}" | median); queue table MB after [${size[$v]} ]; dead tuples after [${dead[$v]} ]"
		echo "$line"
	done
	;;
drain)
	n=$1 secs=$2; shift 2
	for v in "$@"; do
		use_variant "$v"; reset_sys "$DLQ_SYS" >/dev/null 2>&1
		pb_psql -v queue=default -v n=200000 -v delay='0' -f "$SQL/enqueue_bulk.sql" >/dev/null
		pb_val "ANALYZE dlq.job" >/dev/null
		line="$v: jobs/s per $secs s window:"
		for _ in $(seq "$n"); do
			pb_val CHECKPOINT >/dev/null
			a=$(pb_val "SELECT count(*) FROM dlq.job")
			pgb "$DLQ_SYS" 4 "$secs" "$(consume_script "$DLQ_SYS" 1)" >/dev/null 2>&1
			b=$(pb_val "SELECT count(*) FROM dlq.job")
			line="$line $(( (a - b) / secs ))"
		done
		echo "$line"
	done
	;;
fail)
	n=$1 secs=$2; shift 2
	declare -A rate wal cpu
	for _ in $(seq "$n"); do for v in "$@"; do
		[ "$v" = floor ] && { echo "the floor has no failure path" >&2; exit 2; }
		use_variant "$v"; reset_sys "$DLQ_SYS" >/dev/null 2>&1
		pb_val "SELECT dlq.create_queue('fail', max_attempts => 3)" >/dev/null; settle
		l0=$(pb_val "SELECT pg_current_wal_insert_lsn()"); t0=$(cluster_cpu_ticks)
		pgb "$DLQ_SYS" 4 "$secs" "$SQL/fail_cycle.sql" >/dev/null 2>&1
		sleep 1; t1=$(cluster_cpu_ticks)
		read -r dead bytes < <(pb_val "SELECT count(*), pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$l0') FROM dlq.dead_letter" | tr '|' ' ')
		cpu[$v]="${cpu[$v]:-} $(calc "round(($t1 - $t0) / $HZ * 1e6 / max($dead, 1))")"
		rate[$v]="${rate[$v]:-} $(( dead / secs ))"; wal[$v]="${wal[$v]:-} $(calc "round($bytes / max($dead, 1))")"
		log "$v $(( dead / secs ))"
	done; done
	for v in "$@"; do
		echo "$v: dead letters/s [${rate[$v]} ] median $(echo "${rate[$v]}" | median); WAL B/dead letter [${wal[$v]} ] median $(echo "${wal[$v]}" | median); CPU µs/dead letter [${cpu[$v]} ] median $(echo "${cpu[$v]}" | median)"
	done
	;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
