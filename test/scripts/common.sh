# Shared set-up for the README commands (make test, make demo). Source it; do not run it.
# Installs what a fresh Debian 12 machine lacks, builds and installs the extension, and provides an
# unprivileged OS user for throwaway clusters (PostgreSQL refuses to run as root).
set -euo pipefail

DLQ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
DLQ_OSUSER=${DLQ_OSUSER:-dlqtest}
DLQ_WORK=${DLQ_WORK:-/tmp/dlq-work}
export PATH="$PG_BIN:$PATH"

# Bold headings on a terminal, plain text in CI logs.
say() {
	if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi
}

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Packages a fresh Debian 12 machine needs to build and test dlq.
dlq_install_deps() {
	local pkgs=(postgresql-15 postgresql-server-dev-15 postgresql-contrib nlohmann-json3-dev libgtest-dev
		cmake g++ clang-14 make libipc-run-perl rsync)
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
	# Debian's postgresql package starts a system cluster we do not use; leave it alone.
}

dlq_build_install() {
	say "building and installing the extension"
	make -C "$DLQ_ROOT" -s -j2 DLQ_WERROR=-Werror
	as_root make -C "$DLQ_ROOT" -s install
}

dlq_ensure_user() {
	if ! id "$DLQ_OSUSER" >/dev/null 2>&1; then
		as_root useradd --create-home --shell /bin/bash "$DLQ_OSUSER"
	fi
}

# Runs a command as the unprivileged user (or as ourselves when we are not root).
as_user() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$DLQ_OSUSER" -- env PATH="$PATH" "$@"
	else
		"$@"
	fi
}

# A copy of the source tree the unprivileged user can write test output into.
dlq_user_tree() {
	as_root mkdir -p "$DLQ_WORK"
	as_root rsync -a --delete --exclude .git --exclude build "$DLQ_ROOT/" "$DLQ_WORK/src/"
	as_root chown -R "$DLQ_OSUSER" "$DLQ_WORK"
	echo "$DLQ_WORK/src"
}

# A throwaway cluster under $1 (data dir), port $2, socket dir $1/sock; extra config lines on stdin.
cluster_init() {
	local dir=$1 port=$2
	as_root rm -rf "$dir"
	as_root mkdir -p "$dir/sock"
	as_root chown -R "$DLQ_OSUSER" "$dir"
	as_user initdb -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
	{
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir/sock'"
		cat
	} | as_user tee -a "$dir/data/postgresql.conf" >/dev/null
}
cluster_start() { as_user pg_ctl -D "$1/data" -l "$1/server.log" -w start >/dev/null; }
cluster_stop() { as_user pg_ctl -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true; }

# A throwaway cluster for a scenario script (demo.sh, oncall.sh): dlq preloaded, its background sweeper
# off. Stopped when the script exits (left running after a success with keep = 1), with the end of the
# server log on failure.
scenario_cluster() {  # dir port keep name
	SCENARIO_DIR=$1 SCENARIO_PORT=$2 SCENARIO_KEEP=$3 SCENARIO_NAME=$4 SCENARIO_STARTED=false
	trap scenario_finish EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	say "starting a throwaway cluster in $SCENARIO_DIR (port $SCENARIO_PORT, user $DLQ_OSUSER)"
	cluster_stop "$SCENARIO_DIR" # a cluster left over from an interrupted run
	cluster_init "$SCENARIO_DIR" "$SCENARIO_PORT" <<'EOF'
shared_preload_libraries = 'dlq'
dlq.enabled = off
EOF
	SCENARIO_STARTED=true
	cluster_start "$SCENARIO_DIR"
}

scenario_finish() {
	local status=$?
	if $SCENARIO_STARTED; then
		if [ "$SCENARIO_KEEP" = 1 ] && [ "$status" = 0 ]; then
			say "the cluster is still running"
			echo "  psql -h $SCENARIO_DIR/sock -p $SCENARIO_PORT -U postgres postgres"
			echo "  stop it with: runuser -u $DLQ_OSUSER -- $PG_BIN/pg_ctl -D $SCENARIO_DIR/data stop"
		else
			say "stopping the throwaway cluster"
			cluster_stop "$SCENARIO_DIR"
		fi
	fi
	if [ "$status" != 0 ]; then
		echo >&2
		echo "$SCENARIO_NAME FAILED (exit status $status)" >&2
		if [ -f "$SCENARIO_DIR/server.log" ]; then
			echo "last lines of the server log $SCENARIO_DIR/server.log:" >&2
			tail -n 20 "$SCENARIO_DIR/server.log" >&2
		fi
	fi
}
