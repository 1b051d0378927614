-- The narrated scenario of `make demo`, run by test/scripts/demo.sh as
--   psql -X -q -v ON_ERROR_STOP=1 -f test/demo/demo.sql
-- on a fresh database. One queue of e-mail jobs: most succeed, one is retried and then succeeds, one is
-- rejected for good, one runs out of attempts. The dead letters are inspected and reviewed, the cause of
-- one is fixed and it is replayed. Every statement that matters is echoed before its result; the
-- plumbing that only keeps job ids in psql variables (\gset) runs with ECHO none.
\pset footer off
\pset null '-'
\set ECHO queries

\echo
\echo '== 1. Install the extension and create a queue'
\echo '   Everything lives in the database: tables, functions and views in schema dlq.'
\echo
CREATE EXTENSION dlq;
\set ECHO none
\echo 'SELECT dlq.create_queue(''emails'', max_attempts => 3, backoff_base => ''2 seconds'', backoff_max => ''1 minute'');'
SELECT dlq.create_queue('emails', max_attempts => 3, backoff_base => '2 seconds', backoff_max => '1 minute') \gset
\set ECHO queries
SELECT queue, max_attempts, lease, backoff_base, backoff_max, paused FROM dlq.queues;
\set ECHO none
CREATE TABLE email_templates (name text PRIMARY KEY);
INSERT INTO email_templates VALUES ('welcome_v1'), ('receipt_v1'), ('invoice_v1');
\echo '   (The application also has a table email_templates: welcome_v1, receipt_v1, invoice_v1.)'

\echo
\echo '== 2. A producer enqueues five jobs'
\echo '   One with dlq.enqueue, four with one call to dlq.enqueue_many (a JSON array).'
\echo '   The invoice job allows only 2 attempts instead of the queue''s 3.'
\echo
\echo 'SELECT dlq.enqueue(''emails'', ''welcome'', ''{"to": "ada@example.com", "template": "welcome_v1"}'');'
SELECT dlq.enqueue('emails', 'welcome', '{"to": "ada@example.com", "template": "welcome_v1"}') AS welcome \gset
\echo '   -> job' :welcome
\echo
\echo 'SELECT dlq.enqueue_many(''emails'', ''['
\echo '  {"kind": "receipt", "payload": {"to": "bob@example.com",   "order": 1001, "template": "receipt_v1"}},'
\echo '  {"kind": "receipt", "payload": {"to": "carol@example.com", "order": 1002, "template": "receipt_v1"}},'
\echo '  {"kind": "welcome", "payload": {"to": "not-an-address",    "template": "welcome_v1"}},'
\echo '  {"kind": "invoice", "payload": {"to": "dave@example.com",  "order": 1003, "template": "invoice_v2"},'
\echo '   "max_attempts": 2}]'');'
SELECT ids[1] AS receipt_bob, ids[2] AS receipt_carol, ids[3] AS bad_address, ids[4] AS invoice
  FROM (SELECT array_agg(id ORDER BY n) AS ids
          FROM dlq.enqueue_many('emails', '[
                 {"kind": "receipt", "payload": {"to": "bob@example.com",   "order": 1001, "template": "receipt_v1"}},
                 {"kind": "receipt", "payload": {"to": "carol@example.com", "order": 1002, "template": "receipt_v1"}},
                 {"kind": "welcome", "payload": {"to": "not-an-address",    "template": "welcome_v1"}},
                 {"kind": "invoice", "payload": {"to": "dave@example.com",  "order": 1003, "template": "invoice_v2"},
                  "max_attempts": 2}]') WITH ORDINALITY AS t (id, n)) AS batch \gset
\echo '   -> jobs' :receipt_bob, :receipt_carol, :bad_address, :invoice '(one id per element, in order)'
\echo
\set ECHO queries
SELECT queue, available, scheduled, running, dead_letters, unreviewed FROM dlq.queue_stats;

\echo
\echo '== 3. worker-1 claims a batch of three jobs'
\echo '   The jobs are leased to worker-1 (FOR UPDATE SKIP LOCKED: concurrent workers never get the'
\echo '   same job). Each claim counts as an attempt.'
\echo
SELECT job_id, kind, payload->>'to' AS "to", attempt, max_attempts
  FROM dlq.claim('emails', 'worker-1', batch => 3) ORDER BY job_id;

\echo '   Two e-mails go out: worker-1 completes them.'
SELECT dlq.complete_many(ARRAY[:welcome, :receipt_bob]::bigint[], 'worker-1');
\echo '   The mail server answers "try again later" for carol: the job fails and will be retried.'
SELECT dlq.fail(:receipt_carol, 'worker-1', 'SMTP 451 4.3.0 mailbox temporarily unavailable',
                details => '{"smtp_code": 451}');
\echo '   Only the lease holder can finish a job: worker-2 cannot complete one it never claimed.'
SELECT dlq.complete(:receipt_carol, 'worker-2');

\echo
\echo '== 4. worker-2 claims what is available'
\echo '   Carol''s retry is not due yet (the queue''s backoff: about 2 seconds), so only the last two'
\echo '   jobs come back.'
\echo
SELECT job_id, kind, payload->>'to' AS "to", attempt, max_attempts
  FROM dlq.claim('emails', 'worker-2', batch => 10) ORDER BY job_id;

\echo '   "not-an-address" can never be delivered and no retry can fix that: retryable => false.'
SELECT dlq.fail(:bad_address, 'worker-2', 'invalid recipient address "not-an-address"',
                details => '{"smtp_code": 550}', retryable => false);
\echo '   The template "invoice_v2" does not exist (a bad deploy). The worker reports the error.'
SELECT dlq.fail(:invoice, 'worker-2', 'template "invoice_v2" not found',
                details => '{"template": "invoice_v2"}');
SELECT queue, available, scheduled, running, dead_letters, unreviewed FROM dlq.queue_stats;

\echo
\echo '== 5. Three seconds later both retries are due; worker-1 claims them'
\echo
\set ECHO none
SELECT pg_sleep(3) \gset
\set ECHO queries
SELECT job_id, kind, payload->>'to' AS "to", attempt, max_attempts
  FROM dlq.claim('emails', 'worker-1', batch => 10) ORDER BY job_id;

\echo '   The mail server is back: carol''s receipt goes out on its second attempt.'
SELECT dlq.complete(:receipt_carol, 'worker-1');
\echo '   The template is still missing, and this was the invoice''s last attempt.'
SELECT dlq.fail(:invoice, 'worker-1', 'template "invoice_v2" not found',
                details => '{"template": "invoice_v2"}');
SELECT queue, available, scheduled, running, dead_letters, unreviewed FROM dlq.queue_stats;

\echo
\echo '== 6. An operator looks at the dead letters'
\echo '   A dead letter keeps the job (queue, kind, payload), why and how it died, and every error.'
\echo
SELECT id, kind, reason, detected_by, attempts, last_error, reviewed FROM dlq.dead_letters ORDER BY id;
\set ECHO none
SELECT id AS dead_invoice FROM dlq.dead_letters WHERE job_id = :invoice \gset
SELECT id AS dead_address FROM dlq.dead_letters WHERE job_id = :bad_address \gset
\set ECHO queries
\echo '   The reasons come from a registry, dlq.reasons:'
SELECT code, label, description FROM dlq.reasons
 WHERE code IN ('PERMANENT_FAILURE', 'RETRIES_EXHAUSTED') ORDER BY code;
\echo '   The error history of the invoice, one element per failed attempt:'
SELECT e->>'attempt' AS attempt, to_char((e->>'at')::timestamptz, 'HH24:MI:SS') AS at,
       e->>'worker' AS worker, e->>'error' AS error, e->'details' AS details
  FROM dlq.dead_letters AS d, jsonb_array_elements(d.errors) AS e
 WHERE d.id = :dead_invoice;

\echo
\echo '== 7. Triage: both are reviewed, with notes (the reviewer is the session user)'
\echo
SELECT dlq.mark_reviewed(ARRAY[:dead_address]::bigint[],
                         notes => 'typo in the sign-up form; support contacted the user. Not replaying.');
SELECT dlq.mark_reviewed(ARRAY[:dead_invoice]::bigint[],
                         notes => 'template invoice_v2 was missing from release 2026.11.1');
SELECT id, kind, reviewed, reviewed_by, notes FROM dlq.dead_letters ORDER BY id;

\echo
\echo '== 8. Fix the cause, then reprocess the invoice with a justification'
\echo '   The fix: the missing template is deployed.'
INSERT INTO email_templates VALUES ('invoice_v2');
\echo
\echo '   The dead letter becomes a new job (attempts start again at 0); the call is audited.'
SELECT * FROM dlq.reprocess(ARRAY[:dead_invoice]::bigint[],
                            justification => 'invoice_v2 template deployed in release 2026.11.2');
\echo '   Asking again while the replayed job is still queued creates no duplicate: it is skipped.'
SELECT * FROM dlq.reprocess(ARRAY[:dead_invoice]::bigint[], justification => 'clicked twice');

\echo
\echo '== 9. worker-2 claims the replayed job; the template is there now, and the job completes'
\echo
SELECT job_id, kind, payload->>'template' AS template, attempt, max_attempts,
       EXISTS (SELECT 1 FROM email_templates AS t WHERE t.name = payload->>'template') AS template_found
  FROM dlq.claim('emails', 'worker-2', batch => 10);
\set ECHO none
SELECT last_replay_job_id AS replayed FROM dlq.dead_letters WHERE id = :dead_invoice \gset
\set ECHO queries
SELECT dlq.complete(:replayed, 'worker-2');

\echo
\echo '== 10. The record'
\echo '   Nothing left to do; two dead letters, both reviewed; the invoice was replayed once.'
\echo
SELECT queue, available, scheduled, running, dead_letters, unreviewed FROM dlq.queue_stats;
SELECT id, job_id, kind, reason, reviewed, replay_count, last_replay_job_id,
       to_char(last_replayed_at, 'HH24:MI:SS') AS last_replayed
  FROM dlq.dead_letters ORDER BY id;
\echo '   The replay audit, dlq.replays: when, who, why and what, for every reprocess call.'
SELECT replay_id, to_char(at, 'HH24:MI:SS') AS at, actor, justification, requested_ids, job_ids, skipped
  FROM dlq.replays ORDER BY replay_id;
