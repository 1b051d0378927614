#!/usr/bin/env bash
# Peak memory of one backend calling dlq.enqueue_many with large payloads (its validation once parsed the
# whole batch, payloads included, into a C++ document outside PostgreSQL's memory contexts: 1 GB for a
# 107 MB batch). Prints the backend's peak resident memory (VmHWM) before and after the call, and the
# anonymous memory it still holds after it, for ELEMENTS jobs of PAYLOAD_BYTES each, in a transaction
# rolled back. Measures the dlq installed in the bench cluster of bench/lib.sh (restart it after an install).
#   ELEMENTS=10000 PAYLOAD_BYTES=10000 bash bench/enqueue_many_memory.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ELEMENTS=${ELEMENTS:-10000} PAYLOAD_BYTES=${PAYLOAD_BYTES:-10000}
pb_val "CREATE EXTENSION IF NOT EXISTS dlq" >/dev/null 2>&1
pb_val "SELECT dlq.create_queue('memory_probe') WHERE NOT EXISTS (SELECT 1 FROM dlq.queues WHERE queue = 'memory_probe')" >/dev/null
# The batch is built by another session, so that building it does not set the peak measured.
pb_psql -X -q <<SQL
DROP TABLE IF EXISTS memory_probe_batch;
CREATE TABLE memory_probe_batch AS
SELECT jsonb_agg(jsonb_build_object('kind', 'k', 'payload', jsonb_build_object('n', i, 'data', repeat(md5(i::text), $PAYLOAD_BYTES / 32))))
       AS jobs
  FROM generate_series(1, $ELEMENTS) AS i;
SELECT pg_size_pretty(pg_column_size(jobs)::bigint) AS batch_jsonb, pg_size_pretty(length(jobs::text)::bigint) AS batch_text
  FROM memory_probe_batch;
SQL
pb_psql -X -q <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
\! echo "before: \$(grep -E '^(VmHWM|RssAnon)' /proc/\$PID/status | tr -s ' \t' ' ' | tr '\n' ' ')"
BEGIN;
SELECT count(*) AS enqueued FROM memory_probe_batch AS b, dlq.enqueue_many('memory_probe', b.jobs);
ROLLBACK;
\! echo "after:  \$(grep -E '^(VmHWM|RssAnon)' /proc/\$PID/status | tr -s ' \t' ' ' | tr '\n' ' ')"
SQL
pb_val "DROP TABLE memory_probe_batch" >/dev/null
