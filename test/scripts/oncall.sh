#!/usr/bin/env bash
# The operator session of README "## On call", reproduced: installs what is missing, builds and installs
# the extension, starts a throwaway cluster (dlq preloaded, the background sweeper off), plays the incident
# of test/demo/oncall_incident.sql through the public API (about 20 s), then runs the statements of the
# README's code block as `alice`, a login with dlq_operator only, with psql -a. The counts, the ids and the
# patterns come out as README shows them; clock times, tenants of the newest rows and payload values differ.
#   bash test/scripts/oncall.sh
#   DLQ_ONCALL_DIR   where the cluster lives (default /tmp/dlq-oncall; it is wiped first)
#   DLQ_ONCALL_PORT  its port (default 55451; it listens only on a Unix socket in $DLQ_ONCALL_DIR/sock)
#   DLQ_ONCALL_KEEP  set to 1 to leave the cluster running afterwards
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ONCALL_DIR=${DLQ_ONCALL_DIR:-/tmp/dlq-oncall}
ONCALL_PORT=${DLQ_ONCALL_PORT:-55451}
ONCALL_KEEP=${DLQ_ONCALL_KEEP:-0}
INCIDENT_SQL="$DLQ_ROOT/test/demo/oncall_incident.sql"

dlq_install_deps
dlq_build_install
dlq_ensure_user

scenario_cluster "$ONCALL_DIR" "$ONCALL_PORT" "$ONCALL_KEEP" "the on-call session"

pg() { psql -X -v ON_ERROR_STOP=1 -h "$ONCALL_DIR/sock" -p "$ONCALL_PORT" -d postgres "$@" </dev/null; }

say "extension and the on-call login alice (dlq_operator only)"
pg -q -U postgres -c 'CREATE EXTENSION dlq' -c 'CREATE ROLE alice LOGIN' -c 'GRANT dlq_operator TO alice'

say "playing the incident ($INCIDENT_SQL)"
pg -q -U postgres -f "$INCIDENT_SQL"

say "the operator session (README, On call), as alice, with psql -a"
# The statements of the README's code block, verbatim and in order.
psql -X -a -v ON_ERROR_STOP=1 -h "$ONCALL_DIR/sock" -p "$ONCALL_PORT" -U alice -d postgres <<'SQL' 2>&1 | tee "$ONCALL_DIR/session.out"
-- What is dying, and how fast?
SELECT queue, reason, last_hour, last_day FROM dlq.dead_letter_rate ORDER BY last_hour DESC;
-- Patterns of the last hour: one row per cause, whatever the ids and timeouts in the messages.
SELECT kind, reason, fingerprint, dead_letters AS n, tenants
  FROM dlq.summary(now() - interval '1 hour', now(), queue => 'billing');
-- The timeouts, newest first; total_count says how many match in all.
SELECT id, dead_lettered_at::time(0) AS at, tenant, attempts, error_snippet, total_count
  FROM dlq.search(now() - interval '1 hour', now(), kind_prefix => 'billing.charge',
                  text => 'pay.example.com', max_rows => 5);
-- One of them in full: every attempt timed out, whichever worker ran it.
SELECT a->>'attempt' AS attempt, (a->>'at')::timestamptz::time(0) AS at, a->>'worker' AS worker, a->>'error' AS error
  FROM jsonb_array_elements(dlq.inspect(58) -> 'attempts') AS a;
SELECT dlq.inspect(58) -> 'dead_letter' -> 'payload' AS payload;
-- Fix: the cause is outside the database. pay.example.com confirms an outage, now resolved, and a
-- test charge goes through. The workers send the charge id as idempotency key, so a retry is safe.
-- Dry run (the default): what would be replayed, by whom, from which queues and kinds.
SELECT dry_run, matched, selected, actor, queues, kinds
  FROM dlq.reprocess_matching(now() - interval '1 hour', now(), queue => 'billing', kind_prefix => 'billing.charge',
                              text => 'pay.example.com/charges/', reason => 'RETRIES_EXHAUSTED',
                              justification => 'pay.example.com outage, resolved (INC-4711)');
-- The real run: the same filters, dry_run => false.
SELECT replay_id, dry_run, matched, requeued, skipped
  FROM dlq.reprocess_matching(now() - interval '1 hour', now(), queue => 'billing', kind_prefix => 'billing.charge',
                              text => 'pay.example.com/charges/', reason => 'RETRIES_EXHAUSTED',
                              justification => 'pay.example.com outage, resolved (INC-4711)',
                              dry_run => false);
-- The declined cards are not ours to retry: reviewed, with a note.
SELECT * FROM dlq.mark_reviewed_matching(now() - interval '1 hour', now(), kind_prefix => 'billing.charge',
                                         text => 'card declined',
                                         notes => 'declined cards; support mails the customers');
-- The audit trail, and what became of dead letter 58.
SELECT replay_id, at::time(0) AS at, actor, justification, requested, requeued, skipped FROM dlq.replays;
SELECT r->>'replay_id' AS replay_id, r->>'actor' AS actor, r->>'outcome' AS outcome, r->>'job_id' AS job_id,
       r->>'job_status' AS job_status
  FROM jsonb_array_elements(dlq.inspect(58) -> 'replays') AS r;
SELECT queue, available, running, dead_letters, unreviewed FROM dlq.queue_stats;
SQL
exit "${PIPESTATUS[0]}"
