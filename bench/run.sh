#!/usr/bin/env bash
# `make bench`: dlq side by side with the peer queues (issue 5), then dlq's own workloads, on a throwaway
# cluster started by the peer harness (../shared/bench/peers, beside the repository) with its settings.
# A benchmark, never a test: it prints figures and writes bench/results/<date>-<host-kind>[-label].md.
#
#   bench/run.sh [-r ROUNDS] [-d SECONDS] [-q] [-S PEERS] [-W WORKLOADS] [-p PARTS] [-l LABEL]
#     -r  rounds of the peer workloads (3)           -d  seconds per steady-state run (15)
#     -q  quick smoke run: 1 round, 5 s, small preloads, the floor as the only peer, label "smoke"
#     -S  peer systems of the harness ("minimal pgq pgboss graphile"); dlq is always added
#     -W  peer workloads ("W1c W2c W3")
#     -p  parts ("peers failure wal held depth sweep stats pgss"; pgss restarts the cluster, so it runs last)
#     -l  label for the results file and its title (for example "noisy")
#   Environment: HOLD=300 (held snapshot, s), BUCKET=30, DEPTHS="10000 1000000 10000000", DUE=200000,
#   LEASES=1000000, PRELOAD=200000 (W3), BACKLOG=1000000 (sweep), PB_ROOT=/tmp/dlqbench, PGPORT=55441, KEEP_CLUSTER=1.
source "$(dirname "${BASH_SOURCE[0]}")/../test/scripts/common.sh"
CMDLINE="bench/run.sh$(printf ' %q' "$@")"

ROUNDS="" DUR="" QUICK=0 PEER_SYSTEMS="" WORKLOADS="W1c W2c W3" LABEL="" PARTS="peers failure wal held depth sweep stats pgss"
while getopts "r:d:qS:W:p:l:" o; do
	case $o in r) ROUNDS=$OPTARG;; d) DUR=$OPTARG;; q) QUICK=1;; S) PEER_SYSTEMS=$OPTARG;; W) WORKLOADS=$OPTARG;;
		p) PARTS=$OPTARG;; l) LABEL=$OPTARG;; *) sed -n '5,13p' "$0" >&2; exit 2;; esac
done
if [ "$QUICK" = 1 ]; then
	: "${ROUNDS:=1}" "${DUR:=5}" "${PEER_SYSTEMS:=minimal}" "${LABEL:=smoke}"
	: "${HOLD:=30}" "${BUCKET:=10}" "${DEPTHS:=10000 100000}" "${DUE:=20000}" "${LEASES:=50000}" "${PRELOAD:=20000}" "${BACKLOG:=50000}"
fi
ROUNDS=${ROUNDS:-3} DUR=${DUR:-15} PEER_SYSTEMS=${PEER_SYSTEMS:-minimal pgq pgboss graphile}
export DUR HOLD=${HOLD:-300} BUCKET=${BUCKET:-30} DEPTHS=${DEPTHS:-10000 1000000 10000000} DUE=${DUE:-200000}
export LEASES=${LEASES:-1000000} PRELOAD=${PRELOAD:-200000} BACKLOG=${BACKLOG:-1000000}
source "$DLQ_ROOT/bench/lib.sh"   # exits when ../shared/bench/peers is missing

STAMP=$(date +%Y%m%d-%H%M%S)
virt=$(systemd-detect-virt 2>/dev/null) || virt=bare
NAME="$(date +%F)-$(nproc)cpu-$virt${LABEL:+-$LABEL}"
OUT="$DLQ_ROOT/bench/results/$NAME.md"
RAW="$PB_ROOT/results/raw-$STAMP-dlq.tsv"
export EXTRA_TSV="$WORK/extra-$STAMP.tsv"
mkdir -p "$DLQ_ROOT/bench/results"

dlq_install_deps
dlq_build_install
"$PEERS/cluster.sh" init
preload_dlq
[ "${KEEP_CLUSTER:-0}" = 1 ] || trap '"$PEERS/cluster.sh" stop >/dev/null 2>&1 || true' EXIT
if [ "$PEER_SYSTEMS" = minimal ]; then
	peer_versions="floor only (systems/minimal of the harness)"
else
	# the harness copies its read-only package.json and *.mjs into $PB_NODE; a second copy would fail
	rm -f "$PB_NODE"/package.json "$PB_NODE"/*.mjs
	peer_versions=$("$PEERS/setup_peers.sh" | tee /dev/stderr | grep -E '^(pg-boss|graphile-worker|pg|pgq) [0-9]' | paste -sd,)
fi

{
	echo "# dlq benchmark — $(date '+%F %H:%M') — $(nproc) CPU ($virt)${LABEL:+ — ${LABEL^^}}"
	echo
	case $LABEL in
		smoke*) printf '> **SMOKE run** (`-q`): validates the scripts at tiny sizes and short runs; the figures mean little.\n\n' ;;
		noisy*) printf '> **NOISY run**: measured on a shared machine while other jobs ran; ratios only, not the final figures.\n\n' ;;
	esac
	echo "- Machine: $(nproc) CPU ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/Mem:/{print $2}') GiB RAM, kernel $(uname -r), virtualization $virt; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- PostgreSQL: $(pb_val 'SELECT version()'); $(pgbench --version)"
	echo "- dlq: commit $(git -C "$DLQ_ROOT" rev-parse --short HEAD)$(git -C "$DLQ_ROOT" status --porcelain -- src dlq.control Makefile | awk '$2 !~ /\.(o|bc)$/' | awk 'NR == 1 { printf " + uncommitted:" } { printf " %s", $2 }'), extension $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$DLQ_ROOT/dlq.control")"
	echo "- Peers: $peer_versions"
	echo "- Cluster: \`$PEERS/cluster.sh init\` (PB_ROOT=$PB_ROOT, PGPORT=$PGPORT); settings (\`cluster.sh settings\`):"
	echo "  $("$PEERS/cluster.sh" settings | tr '\n' ' ')"
	echo "- dlq preloaded: $(pb_val "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_preload_libraries', 'dlq.claim_hints', 'dlq.enabled')") (the peers do not use it)"
	echo "- Command: \`$CMDLINE\` (rounds $ROUNDS, $DUR s runs; HOLD=$HOLD BUCKET=$BUCKET DEPTHS=\"$DEPTHS\" DUE=$DUE LEASES=$LEASES PRELOAD=$PRELOAD BACKLOG=$BACKLOG)"
	echo "- Raw TSV: peers \`$RAW\`, dlq workloads \`$EXTRA_TSV\` (copied to \`bench/results/$NAME-peers.tsv\` and \`-extra.tsv\`)"
} > "$OUT"

FAILED=()
part() {  # name command...: runs one part, appends its markdown to the results, keeps going on failure
	local name=$1; shift
	[[ " $PARTS " == *" $name "* ]] || return 0
	say "$name"
	echo >> "$OUT"
	if ! "$@" | tee -a "$OUT"; then
		FAILED+=("$name"); echo "**part $name failed** (see the log on the terminal)" >> "$OUT"
	fi
}
peers() {
	echo "## Peer workloads: $WORKLOADS, dlq and the peers in the same run (synchronous_commit=off)"
	echo
	echo "Harness: \`$PEERS/run.sh -s off -r $ROUNDS -d $DUR -n $PRELOAD -S \"$PEER_SYSTEMS $DLQ_SYS\" -W \"$WORKLOADS\" -o $RAW\`"
	"$PEERS/run.sh" -s off -r "$ROUNDS" -d "$DUR" -n "$PRELOAD" -S "$PEER_SYSTEMS $DLQ_SYS" -W "$WORKLOADS" -o "$RAW" >/dev/null || return 1
	python3 "$PEERS/summarize.py" "$RAW"
	echo
	echo "### dlq against the issue-5 targets from these workloads"
	echo
	python3 "$BENCH_DIR/targets.py" "$RAW"
}
dlq_part() {  # workload script
	echo "## dlq workload: $1"
	echo
	bash "$BENCH_DIR/workloads/$1.sh"
}
part peers peers
part failure dlq_part failure
part wal dlq_part wal
part held dlq_part held_snapshot
part depth dlq_part depth
part sweep dlq_part sweep
part stats dlq_part analyze
part pgss dlq_part pgss

echo >> "$OUT"
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)." >> "$OUT"
[ ! -f "$RAW" ] || cp "$RAW" "$DLQ_ROOT/bench/results/$NAME-peers.tsv"
[ ! -f "$EXTRA_TSV" ] || cp "$EXTRA_TSV" "$DLQ_ROOT/bench/results/$NAME-extra.tsv"
say "results: $OUT"
if [ ${#FAILED[@]} -gt 0 ]; then echo "failed parts: ${FAILED[*]}" >&2; exit 1; fi
