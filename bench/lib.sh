# shellcheck shell=bash disable=SC2034
# Helpers shared by bench/run.sh and bench/workloads/*.sh. Source it; do not run it.
# Reuses the peer harness beside the repository (../shared/bench/peers: env.sh for paths, pb_psql and
# pb_val; its system folders) and adds what the dlq workloads report: completed jobs/s, WAL bytes and
# commits per completed job, dead tuples and table+index size before and after.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DLQ_ROOT=$(cd "$BENCH_DIR/.." && pwd)
PEERS=$DLQ_ROOT/../shared/bench/peers
if [ ! -f "$PEERS/env.sh" ]; then
	echo "bench: the peer harness is missing: expected $PEERS/env.sh (shared/ beside the repository)" >&2
	exit 1
fi
PEERS=$(cd "$PEERS" && pwd)
# Our own throwaway cluster with the harness's settings, away from its default /tmp/peerbench:55432.
export PB_ROOT=${PB_ROOT:-/tmp/dlqbench} PGPORT=${PGPORT:-55441}
. "$PEERS/env.sh"
DLQ_SYS=$BENCH_DIR/systems/dlq
FLOOR_SYS=$PEERS/systems/minimal
SQL=$BENCH_DIR/workloads/sql
WORK=$PB_ROOT/dlq                        # rendered scripts and pgbench logs of these workloads
EXTRA_TSV=${EXTRA_TSV:-$WORK/extra.tsv}  # one line per measurement of bench/workloads/*.sh
DUR=${DUR:-15}
mkdir -p "$WORK"

# dlq as it runs in production: in shared_preload_libraries, so that its claim hints (shared memory) are
# on. Its background sweeper stays off so that only the sweep workload sweeps. Restarts the cluster.
preload_dlq() {  # [libraries, comma-separated]
	# A list setting takes one quoted name per element: 'dlq', 'pg_stat_statements'.
	local list; list=$(echo "${1:-dlq}" | sed "s/ //g; s/^/'/; s/,/', '/g; s/\$/'/")
	pb_val "ALTER SYSTEM SET shared_preload_libraries = $list" >/dev/null
	"$PEERS/cluster.sh" stop >/dev/null && "$PEERS/cluster.sh" start >/dev/null
	pb_val "ALTER SYSTEM SET dlq.enabled = off" >/dev/null  # known once the library is loaded
	pb_val "SELECT pg_reload_conf()" >/dev/null
}

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
conf() { ( . "$1/system.conf"; eval "echo \${$2:-${3:-}}" ); }   # system folder, key, default
qtable() { [ "$(conf "$1" NAME)" = dlq ] && echo dlq.job || echo jobs; }
reset_sys() { pb_psql -f "$1/reset.sql" >/dev/null; }
# Before a measurement: VACUUM the whole bench database, then CHECKPOINT. The window's WAL is the
# cluster's, so an autovacuum of tables a system measured before left full of dead rows (or of the
# catalogs a reset churned) would otherwise run inside it and count against the system measured:
# 60-150 B per W1c job in the peer harness's rounds, where this cannot be done
# (bench/results/2026-11-24-2cpu-docker-wal-attribution.md).
# SETTLE_VACUUM=0 leaves the VACUUM out (a comparison of builds that must not see a vacuumed empty table).
settle() { [ "${SETTLE_VACUUM:-1}" = 0 ] || pb_val "VACUUM" >/dev/null; pb_val "CHECKPOINT" >/dev/null; }
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }  # of numbers on stdin

# Closed loop script of a system folder: produce_B then consume with :batch as a literal (like run.sh).
cycle_script() {  # dir batch -> path
	local out; out="$WORK/cycle-$(conf "$1" NAME)-$2.sql"
	{ cat "$1/produce_$2.sql"; echo; sed "s/:batch\b/$2/g" "$1/consume.sql"; } > "$out"
	echo "$out"
}
consume_script() {  # dir batch -> path
	local out; out="$WORK/consume-$(conf "$1" NAME)-$2.sql"
	sed "s/:batch\b/$2/g" "$1/consume.sql" > "$out"
	echo "$out"
}
# pgbench as the harness runs it: prepared statements, the system's consumer session options.
pgb() {  # dir clients secs script [drain] ; output goes to the caller
	PGOPTIONS="$(conf "$1" CONSUMER_PGOPTIONS)" pgbench -n -M prepared -c "$2" -j "$(( $2 < 2 ? $2 : 2 ))" \
		-T "$3" -D drain="${5:-0}" -f "$4"
}

# "done bytes dead lsn commits": completed jobs (counters.sql, or what DONE_SQL counts), bytes of the
# queue table with its indexes, its n_dead_tup, the WAL position and the commits of this database.
snap() {  # dir [done_sql]
	local c b
	read -r _ c b < <(pb_psql -At -F ' ' -f "$1/counters.sql")
	[ -z "${2:-}" ] || c=$(pb_val "$2")
	echo "$c $b $(pb_val "SELECT n_dead_tup, pg_current_wal_lsn(), xact_commit FROM pg_stat_user_tables,
		pg_stat_database WHERE relid = '$(qtable "$1")'::regclass AND datname = current_database()" | tr '|' ' ')"
}

md_header() {
	echo "| workload | system | variant | secs | done | per s | WAL B/done | commits/done | dead tuples before → after | MB before → after | note |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
}
# m_begin dir [done_sql], then the work, then m_end workload variant [secs] [note]: prints a markdown
# row, appends the TSV line, and leaves the rate in M_RATE, WAL per done in M_WAL, completed jobs in
# M_DONE and WAL bytes in M_WAL_BYTES.
m_begin() { M_DIR=$1; M_SQL=${2:-}; read -ra M0 < <(snap "$M_DIR" "$M_SQL"); M_T0=$(now); }
m_end() {
	local secs=${3:-$(calc "$(now) - $M_T0")} m1
	sleep 1  # backends flush their statistics when they exit
	read -ra m1 < <(snap "$M_DIR" "$M_SQL")
	local done=$(( m1[0] - M0[0] )) wal
	wal=$(pb_val "SELECT pg_wal_lsn_diff('${m1[3]}', '${M0[3]}')")
	M_DONE=$done M_WAL_BYTES=$wal
	read -r M_RATE M_WAL comj < <(calc "f'{$done / $secs:.0f} {$wal / max($done, 1):.0f} {$(( m1[4] - M0[4] )) / max($done, 1):.2f}'")
	local mb0 mb1; read -r mb0 mb1 < <(calc "f'{${M0[1]} / 2**20:.1f} {${m1[1]} / 2**20:.1f}'")
	[ -f "$EXTRA_TSV" ] || printf 'ts\tworkload\tsystem\tvariant\tsecs\tdone\tper_s\twal_b_per_done\tcommits_per_done\tdead_before\tdead_after\tbytes_before\tbytes_after\tnote\n' > "$EXTRA_TSV"
	printf '%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date +%FT%T)" "$1" "$(conf "$M_DIR" NAME)" "$2" \
		"$secs" "$done" "$M_RATE" "$M_WAL" "$comj" "${M0[2]}" "${m1[2]}" "${M0[1]}" "${m1[1]}" "${4:-}" >> "$EXTRA_TSV"
	printf '| %s | %s | %s | %.1f | %s | %s | %s | %s | %s → %s | %s → %s | %s |\n' "$1" "$(conf "$M_DIR" NAME)" "$2" \
		"$secs" "$done" "$M_RATE" "$M_WAL" "$comj" "${M0[2]}" "${m1[2]}" "$mb0" "$mb1" "${4:-}"
	log "$1 $(conf "$M_DIR" NAME) $2: $done in ${secs}s = $M_RATE/s, WAL/done $M_WAL, commits/done $comj"
}
