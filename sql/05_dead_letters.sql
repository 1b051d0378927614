-- Dead letters: manual dlq.dead_letter (idempotent), the reason registry (register_reason, dlq.reasons),
-- mark_reviewed, and the dlq.dead_letters view. Every error is followed by its SQLSTATE.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all
SELECT dlq.create_queue('mail', max_attempts => 1);

-- The view has every documented column.
SELECT c AS missing_column
  FROM unnest(ARRAY['id', 'job_id', 'queue', 'kind', 'tenant', 'actor', 'payload', 'attempts', 'max_attempts',
                    'reason', 'detected_by', 'last_error', 'errors', 'enqueued_at', 'first_attempted_at',
                    'dead_lettered_at', 'reviewed', 'reviewed_at', 'reviewed_by', 'notes', 'replay_count',
                    'last_replayed_at', 'replayed_from']) AS c
EXCEPT
SELECT column_name FROM information_schema.columns WHERE table_schema = 'dlq' AND table_name = 'dead_letters';

SELECT dlq.enqueue('mail', 'welcome', payload => '{"to": "ann@example.com"}', tenant => 'acme', actor => 'signup',
                   priority => 2) AS job_1;
SELECT dlq.enqueue('mail', 'digest') AS job_2;
SELECT dlq.enqueue('mail', 'receipt') AS job_3;
SELECT dlq.enqueue('mail', 'invoice') AS job_4;

-- An operator dead-letters a waiting job by hand, with a note: reason MANUAL, detected_by manual.
SELECT dlq.dead_letter(jid(1), note => 'customer unsubscribed');
SELECT count(*) AS live FROM dlq.job WHERE id = jid(1);
SELECT id, job_id, queue, kind, tenant, actor, payload, attempts, max_attempts, reason, detected_by, last_error,
       errors, enqueued_at <= dead_lettered_at AS enqueued_before, first_attempted_at, reviewed, reviewed_at,
       reviewed_by, notes, replay_count, last_replayed_at, replayed_from
  FROM dlq.dead_letters WHERE id = 1;
-- Idempotent: the same job again returns the same dead letter, whatever reason or note is given, and
-- changes nothing.
SELECT dlq.dead_letter(jid(1));
SELECT dlq.dead_letter(jid(1), 'PERMANENT_FAILURE', 'another note');
SELECT count(*) AS dead_letters, min(reason) AS reason, min(notes) AS notes FROM dlq.dead_letters WHERE job_id = jid(1);

-- A running job can be dead-lettered too; its worker then finds it gone.
SELECT job_id, kind FROM dlq.claim('mail', 'w1');
SELECT dlq.dead_letter(job_id => jid(2), reason => 'MANUAL');
SELECT id, job_id, kind, attempts, reason, detected_by, first_attempted_at IS NOT NULL AS attempted, notes
  FROM dlq.dead_letters WHERE job_id = jid(2);
SELECT dlq.complete(jid(2), 'w1');
SELECT dlq.heartbeat(jid(2), 'w1');
SELECT dlq.fail(jid(2), 'w1', 'too late');

-- A job that died inline (its worker failed it): dead_letter() returns that dead letter, which keeps
-- its reason.
SELECT job_id, kind FROM dlq.claim('mail', 'w1');
SELECT dlq.fail(jid(3), 'w1', 'mailbox full');
SELECT dlq.dead_letter(jid(3));
SELECT id, job_id, reason, detected_by, last_error, jsonb_array_length(errors) AS history
  FROM dlq.dead_letters WHERE job_id = jid(3);

-- Unknown reason, unknown job, NULL arguments.
SELECT dlq.dead_letter(jid(4), 'NO_SUCH_REASON');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.dead_letter(jid(4), 'manual');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.dead_letter(jid(999));
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.dead_letter(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.dead_letter(jid(4), NULL);
\echo :LAST_ERROR_SQLSTATE
-- An unknown reason is an error for a job that is already dead, too.
SELECT dlq.dead_letter(jid(1), 'NO_SUCH_REASON');
\echo :LAST_ERROR_SQLSTATE
-- Job 4 is untouched.
SELECT id, kind FROM dlq.job;

-- The reason registry: built-ins plus registered reasons.
SELECT dlq.register_reason('PAYMENT_DECLINED', 'Payment declined', 'error', 'The card issuer refused the charge.');
SELECT dlq.register_reason(code => 'BOUNCED', label => 'Bounced');
SELECT dlq.register_reason('INFO_ONLY', 'Informational', severity => 'info');
SELECT dlq.register_reason('W2', 'Warning', 'warning');
SELECT code, label, severity, description, builtin FROM dlq.reasons ORDER BY builtin DESC, code;
-- Duplicates, of registered and built-in codes.
SELECT dlq.register_reason('PAYMENT_DECLINED', 'Payment declined again');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('MANUAL', 'Manual');
\echo :LAST_ERROR_SQLSTATE
-- Bad codes.
SELECT dlq.register_reason('payment_declined', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('1ST', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('_X', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('BAD-CODE', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('BAD CODE', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason(repeat('A', 64), 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason(NULL, 'x');
\echo :LAST_ERROR_SQLSTATE
-- Bad severities.
SELECT dlq.register_reason('FOO', 'x', 'fatal');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('FOO', 'x', 'ERROR');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('FOO', 'x', NULL);
\echo :LAST_ERROR_SQLSTATE
-- Blank or NULL labels.
SELECT dlq.register_reason('FOO', '');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('FOO', E' \t');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.register_reason('FOO', NULL);
\echo :LAST_ERROR_SQLSTATE
-- The longest code is allowed.
SELECT dlq.register_reason('A' || repeat('9', 62), 'Long');
SELECT count(*) AS reasons, count(*) FILTER (WHERE NOT builtin) AS registered FROM dlq.reasons;
-- A registered reason can be used by dead_letter.
SELECT dlq.dead_letter(jid(4), 'PAYMENT_DECLINED', 'card expired');
SELECT id, job_id, kind, reason, detected_by, notes FROM dlq.dead_letters WHERE job_id = jid(4);

-- mark_reviewed: returns how many dead letters it marked (unknown ids are not counted), records the
-- session user and appends notes to earlier ones.
SELECT id, reviewed, reviewed_at IS NULL AS no_reviewed_at, reviewed_by IS NULL AS no_reviewer, notes
  FROM dlq.dead_letters ORDER BY id;
SELECT queue, dead_letters, unreviewed FROM dlq.queue_stats;
SELECT dlq.mark_reviewed(ARRAY[1, 3, 999], 'checked with the customer');
SELECT id, reviewed, reviewed_at <= now() AS reviewed_at_ok, reviewed_by = session_user AS by_session_user, notes
  FROM dlq.dead_letters ORDER BY id;
SELECT queue, dead_letters, unreviewed FROM dlq.queue_stats;
-- Again, with a second note; without notes the notes stay as they are.
SELECT dlq.mark_reviewed(ids => ARRAY[1], notes => 'second look');
SELECT dlq.mark_reviewed(ARRAY[3]);
SELECT dlq.mark_reviewed(ARRAY[2, 2, NULL]);
-- Blank notes are no notes: no empty line is appended.
SELECT dlq.mark_reviewed(ARRAY[1], E' \n');
SELECT id, reviewed, reviewed_by = session_user AS by_session_user, notes FROM dlq.dead_letters ORDER BY id;
SELECT dlq.mark_reviewed('{}');
SELECT dlq.mark_reviewed(ARRAY[999]);
SELECT dlq.mark_reviewed(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT queue, dead_letters, unreviewed FROM dlq.queue_stats;
