#!/usr/bin/env bash
# `make demo`: installs what is missing (Debian 12), builds and installs the extension, starts a throwaway
# cluster as an unprivileged OS user, runs the narrated scenario test/demo/demo.sql in psql and stops the
# cluster again (also when the scenario fails or the script is interrupted).
#
# Non-interactive: it reads nothing from standard input, so it runs under CI=true as well. It exits
# non-zero when any step, or any SQL statement of the scenario, fails.
#   DLQ_DEMO_DIR   where the throwaway cluster lives (default /tmp/dlq-demo; it is wiped first)
#   DLQ_DEMO_PORT  its port (default 55450; it listens only on a Unix socket in $DLQ_DEMO_DIR/sock)
#   DLQ_DEMO_KEEP  set to 1 to leave the cluster running afterwards, to explore it with psql
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DEMO_DIR=${DLQ_DEMO_DIR:-/tmp/dlq-demo}
DEMO_PORT=${DLQ_DEMO_PORT:-55450}
DEMO_SQL="$DLQ_ROOT/test/demo/demo.sql"

dlq_install_deps
dlq_build_install
dlq_ensure_user

scenario_cluster "$DEMO_DIR" "$DEMO_PORT" "${DLQ_DEMO_KEEP:-0}" "demo"

say "the scenario (test/demo/demo.sql)"
psql -X -q -v ON_ERROR_STOP=1 -h "$DEMO_DIR/sock" -p "$DEMO_PORT" -U postgres -d postgres \
	-f "$DEMO_SQL" </dev/null

say "demo finished"
