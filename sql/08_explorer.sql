-- The operator explorer: dlq.search with every filter (free text and kind prefixes matched literally),
-- dlq.summary patterns, dlq.inspect (replays, what became of them, lineage), reprocess_matching and
-- mark_reviewed_matching (dry runs and real runs), dlq.purge, and the time partitions of the dead
-- letters (pruning shown with EXPLAIN, whole partitions dropped by purge, partitions made ahead by the
-- sweep). Nothing volatile is printed. Every error is followed by its SQLSTATE.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
SELECT dlq.create_queue('mail', max_attempts => 1);
SELECT dlq.create_queue('billing', max_attempts => 1);

-- Kills a new job the way workers do: one claim and one failure per error given (the last one dead-
-- letters it). Returns the dead letter's id. Each call is its own statement, so dead letters made by
-- separate calls have distinct times.
CREATE FUNCTION pg_temp.die(q text, k text, errs text[], p jsonb DEFAULT '{}', t text DEFAULT NULL,
                            permanent boolean DEFAULT false)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	j bigint;
	e text;
	n integer := 0;
BEGIN
	j := dlq.enqueue(q, k, p, max_attempts => cardinality(errs), tenant => t);
	FOREACH e IN ARRAY errs LOOP
		n := n + 1;
		PERFORM 1 FROM dlq.claim(q, 'worker-' || n);
		PERFORM dlq.fail(j, 'worker-' || n, e, retryable => NOT permanent, retry_in => '0');
	END LOOP;
	RETURN (SELECT d.id FROM dlq.dead_letters AS d WHERE d.job_id = j);
END
$$;

SELECT pg_temp.die('mail', 'email.welcome', '{"SMTP 550 mailbox 123 unavailable"}', '{"to": "ann@example.com"}', 'acme');
SELECT pg_temp.die('mail', 'email.welcome', '{"SMTP 550 mailbox 4567 unavailable"}', '{"to": "bob@example.com"}', 'acme');
SELECT pg_temp.die('mail', 'email.digest', '{"SMTP 550 mailbox 89 unavailable"}', '{"to": "cy@example.com"}', 'globex');
SELECT pg_temp.die('mail', 'email_welcome', '{"template \"welcome\" missing"}', t => 'acme', permanent => true);
SELECT pg_temp.die('mail', 'email%promo', '{"template \"promo\" missing"}', permanent => true);
SELECT pg_temp.die('billing', 'charge.card', '{"card declined: order 3f1c2a5e-8b3d-4d6e-9f00-1234567890ab"}',
                   '{"order": 1}', 'acme');
SELECT pg_temp.die('billing', 'charge.card', '{"card declined: order 7a0e1b2c-0000-4000-8000-00000000abcd"}',
                   '{"order": 2}', 'initech');
-- A payload with quotes, a percent sign, an underscore and backslashes, and an earlier attempt whose
-- error is only in the history.
SELECT pg_temp.die('billing', 'refund', ARRAY['gateway said "try later"', 'refund failed'],
                   $${"note": "it's \"quoted\" 100% C:\\temp\\x_y"}$$, 'initech');
-- An error and a payload that look like SQL.
SELECT pg_temp.die('billing', 'refund', ARRAY[$$'; DROP TABLE dlq.queue; --$$],
                   $${"memo": "x' OR '1'='1"}$$, 'acme', permanent => true);
SELECT pg_temp.die('billing', 'charge.card', '{"Card Declined By ISSUER"}', t => 'globex');
SELECT id, queue, kind, tenant, reason, attempts, last_error, jsonb_array_length(errors) AS history
  FROM dlq.dead_letters ORDER BY id;

-- Today's dead letters lie in [since, until).
SELECT now() - interval '1 hour' AS since, now() + interval '1 hour' AS until \gset

-- ---- search ---------------------------------------------------------------------------------------
-- Newest first, everything in the range; total_count is the number of matches.
SELECT id, queue, kind, tenant, reason, attempts, error_snippet, reviewed, replay_count, total_count
  FROM dlq.search(:'since', :'until');
-- max_rows cuts the page, not total_count.
SELECT id, total_count FROM dlq.search(:'since', :'until', max_rows => 3);
SELECT id, total_count FROM dlq.search(:'since', :'until', max_rows => 1);
-- The range is half-open and nothing outside it is found.
SELECT count(*) AS found FROM dlq.search(:'since', (SELECT min(dead_lettered_at) FROM dlq.dead_letters));
SELECT count(*) AS found FROM dlq.search(:'since', (SELECT min(dead_lettered_at) FROM dlq.dead_letters) + interval '1 microsecond');
SELECT count(*) AS found FROM dlq.search(now() - interval '2 days', now() - interval '1 day');
-- Queue, tenant, reason.
SELECT id, queue, total_count FROM dlq.search(:'since', :'until', queue => 'billing');
SELECT id, tenant, total_count FROM dlq.search(:'since', :'until', tenant => 'acme');
SELECT count(*) AS found FROM dlq.search(:'since', :'until', tenant => 'ACME');
SELECT id, reason, total_count FROM dlq.search(:'since', :'until', reason => 'PERMANENT_FAILURE');
SELECT id, total_count FROM dlq.search(:'since', :'until', queue => 'mail', tenant => 'acme', reason => 'RETRIES_EXHAUSTED');
SELECT count(*) AS found FROM dlq.search(:'since', :'until', queue => 'no-such-queue');
-- Kind prefixes: '.', '_' and '%' are ordinary characters.
SELECT id, kind FROM dlq.search(:'since', :'until', kind_prefix => 'email') ORDER BY id;
SELECT id, kind FROM dlq.search(:'since', :'until', kind_prefix => 'email.') ORDER BY id;
SELECT id, kind FROM dlq.search(:'since', :'until', kind_prefix => 'email_') ORDER BY id;
SELECT id, kind FROM dlq.search(:'since', :'until', kind_prefix => 'email%') ORDER BY id;
SELECT id, kind FROM dlq.search(:'since', :'until', kind_prefix => 'email.welcome') ORDER BY id;
SELECT id, kind FROM dlq.search(:'since', :'until', kind_prefix => '%') ORDER BY id;
SELECT id, kind FROM dlq.search(:'since', :'until', kind_prefix => '_mail') ORDER BY id;
SELECT id, kind FROM dlq.search(:'since', :'until', kind_prefix => 'Email') ORDER BY id;
SELECT count(*) AS found FROM dlq.search(:'since', :'until', kind_prefix => '');
-- Free text: case-insensitive, across the last error, the error history and the payload.
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => 'MAILBOX') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => 'declined') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => 'issuer') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => 'TRY LATER') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => 'bob@example') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => '3F1C2A5E') ORDER BY id;
-- ... and literal: quotes, '%', '_' and backslashes match themselves, wherever they are.
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => 'it''s') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => '"quoted"') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => '"welcome"') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => '"try later"') ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => '100%') ORDER BY id;
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => '%');
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => '1%0');
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => 'x_y') ORDER BY id;
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => 'x_Y_');
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => 'email_');
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => 'C:\temp\x_y') ORDER BY id;
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => 'C:\\temp');
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => 'C:temp');
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => '\');
-- SQL fragments are plain text: found where they occur, harmless everywhere.
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => $$'; DROP TABLE dlq.queue; --$$) ORDER BY id;
SELECT id, error_snippet FROM dlq.search(:'since', :'until', text => $$x' OR '1'='1$$) ORDER BY id;
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => $$' OR 1=1; --$$);
SELECT count(*) AS found FROM dlq.search(:'since', :'until', queue => $$mail' OR 'a'='a$$);
SELECT count(*) AS found FROM dlq.search(:'since', :'until', kind_prefix => $$x%' OR true; --$$);
SELECT count(*) AS found FROM dlq.search(:'since', :'until', tenant => $$acme'); DROP TABLE dlq.queue; --$$);
SELECT count(*) AS found FROM dlq.search(:'since', :'until', reason => $$' || (SELECT 'x') || '$$);
SELECT count(*) AS queues FROM dlq.queues;
-- An empty text filter is no filter.
SELECT count(*) AS found FROM dlq.search(:'since', :'until', text => '');
-- The snippet is one line of at most 60 characters.
SELECT pg_temp.die('mail', 'email.welcome', ARRAY[E'line one\n\tline two ' || repeat('x', 100)]);
SELECT id, error_snippet, length(error_snippet) AS len FROM dlq.search(:'since', :'until', max_rows => 1);

-- Bad input.
SELECT * FROM dlq.search(NULL, :'until');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(:'since', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(:'until', :'since');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(:'since', :'since');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(:'since', :'until', max_rows => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(:'since', :'until', max_rows => 10001);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(:'since', :'until', max_rows => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS found FROM dlq.search(:'since', :'until', max_rows => 10000);

-- ---- summary --------------------------------------------------------------------------------------
-- Errors that differ only in numbers, UUIDs or quoted values are one pattern.
SELECT queue, kind, reason, fingerprint, sample_error, dead_letters, unreviewed, tenants,
       first_at <= last_at AS ordered
  FROM dlq.summary(:'since', :'until');
SELECT queue, kind, fingerprint, dead_letters, tenants FROM dlq.summary(:'since', :'until', queue => 'billing');
SELECT queue, kind, fingerprint, dead_letters FROM dlq.summary(:'since', :'until', kind_prefix => 'email_');
SELECT count(*) AS patterns FROM dlq.summary(now() - interval '2 days', now() - interval '1 day');
-- The fingerprint as SQL: e-mail addresses and short hashes are volatile parts too.
SELECT dlq.fingerprint(e) FROM (VALUES ('450 4.2.0 <user1088@greylist.example>: greylisted'),
                                      ('450 4.2.0 <ops.team+alerts@mail.example.org>: greylisted'),
                                      ('build 3f2a9c1 failed at 2026-11-24T10:00:00Z'),
                                      ('build 9e01b7d failed at 2026-11-25T11:30:00Z')) AS x (e);
-- The filters of search narrow a summary too: a tenant, a reason, free text.
SELECT queue, kind, reason, dead_letters, tenants FROM dlq.summary(:'since', :'until', tenant => 'acme');
SELECT queue, kind, reason, dead_letters FROM dlq.summary(:'since', :'until', reason => 'PERMANENT_FAILURE');
SELECT queue, kind, dead_letters FROM dlq.summary(:'since', :'until', text => 'DECLINED');
-- A reason code that is not registered is an error (a typo would otherwise read as "no such failures");
-- a queue that does not exist is a NOTICE (a dropped queue's dead letters keep its name).
SELECT * FROM dlq.summary(:'since', :'until', reason => 'RETRY_EXHAUSTED');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS patterns FROM dlq.summary(:'since', :'until', queue => 'biling');
SELECT * FROM dlq.summary(:'until', :'since');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.summary(NULL, NULL);
\echo :LAST_ERROR_SQLSTATE

-- ---- mark_reviewed_matching ---------------------------------------------------------------------------
-- A dry run counts and changes nothing.
SELECT * FROM dlq.mark_reviewed_matching(:'since', :'until', queue => 'mail', text => 'mailbox', dry_run => true);
SELECT count(*) AS reviewed FROM dlq.dead_letters WHERE reviewed;
-- A real run marks the matches reviewed by the session user, with the notes; max_rows bounds it.
SELECT * FROM dlq.mark_reviewed_matching(:'since', :'until', queue => 'mail', text => 'mailbox',
                                         notes => 'mail server was down', max_rows => 2, dry_run => false);
SELECT * FROM dlq.mark_reviewed_matching(:'since', :'until', queue => 'mail', text => 'mailbox',
                                         notes => 'mail server was down', dry_run => false);
SELECT id, reviewed, reviewed_by = session_user AS by_session_user, reviewed_at IS NOT NULL AS has_reviewed_at, notes
  FROM dlq.dead_letters WHERE reviewed ORDER BY id;
-- Already reviewed ones do not match again.
SELECT * FROM dlq.mark_reviewed_matching(:'since', :'until', queue => 'mail', text => 'mailbox');
-- The reviewed filter of search and the unreviewed count of summary follow.
SELECT id, reviewed, total_count FROM dlq.search(:'since', :'until', reviewed => true);
SELECT count(*) AS unreviewed FROM dlq.search(:'since', :'until', reviewed => false);
SELECT kind, dead_letters, unreviewed FROM dlq.summary(:'since', :'until', queue => 'mail') ORDER BY kind;
SELECT * FROM dlq.mark_reviewed_matching(:'since', :'until', max_rows => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.mark_reviewed_matching(:'since', :'until', dry_run => NULL);
\echo :LAST_ERROR_SQLSTATE

-- ---- reprocess_matching -------------------------------------------------------------------------------
SELECT count(*) AS jobs_before FROM dlq.job;
SELECT count(*) AS replays_before FROM dlq.replays;
-- The dry run (the default) reports what would be replayed and changes nothing.
SELECT replay_id, dry_run, matched, selected, requeued, skipped, actor = session_user AS by_session_user,
       justification, queues, kinds
  FROM dlq.reprocess_matching(:'since', :'until', text => 'declined', justification => 'issuer outage over');
SELECT replay_id, dry_run, matched, selected, queues, kinds
  FROM dlq.reprocess_matching(:'since', :'until', text => 'declined', justification => 'issuer outage over',
                              max_rows => 2);
SELECT count(*) AS jobs, (SELECT count(*) FROM dlq.replays) AS replays,
       (SELECT count(*) FROM dlq.dead_letters WHERE replay_count > 0) AS replayed
  FROM dlq.job;
-- The real run replays through the same path as dlq.reprocess and writes one audit row.
SELECT replay_id, dry_run, matched, selected, requeued, skipped, actor = session_user AS by_session_user,
       justification, queues, kinds
  FROM dlq.reprocess_matching(:'since', :'until', text => 'declined', justification => 'issuer outage over',
                              dry_run => false);
SELECT id, queue_id, kind, payload, tenant, replayed_from, attempt FROM dlq.job ORDER BY id;
SELECT id, reviewed, replay_count, last_replay_job_id IS NOT NULL AS has_replay FROM dlq.dead_letters
 WHERE kind = 'charge.card' ORDER BY id;
SELECT replay_id, actor = session_user AS by_session_user, justification, requested_ids, job_ids, queues, kinds,
       requested, requeued, skipped, forced
  FROM dlq.replays;
-- The audit row keeps the filter that chose the dead letters (context, in the base table).
SELECT context - '{filter}'::text[] AS context, (context -> 'filter') - '{since,until}'::text[] AS filter,
       (context #>> '{filter,since}')::timestamptz = :'since' AS since_ok,
       (context #>> '{filter,until}')::timestamptz = :'until' AS until_ok
  FROM dlq.replay;
-- Run again while those replays are waiting: dead letters whose replay is still live are left out of the
-- match (so repeated runs page through the rest), nothing is replayed, one more audit row says so.
SELECT replay_id, dry_run, matched, selected, requeued, skipped, queues, kinds
  FROM dlq.reprocess_matching(:'since', :'until', text => 'declined', justification => 'again, by mistake',
                              dry_run => false);
SELECT replay_id, requested, requeued, skipped, job_ids FROM dlq.replays ORDER BY replay_id;
SELECT r.replay_id, i.dead_letter_id, i.outcome FROM dlq.replays AS r JOIN dlq.replay_item AS i ON i.replay_id = r.replay_id
 ORDER BY 1, 2;
-- max_rows picks the newest matches among those without a live replay.
SELECT replay_id, dry_run, matched, selected, requeued, skipped, queues, kinds
  FROM dlq.reprocess_matching(:'since', :'until', queue => 'billing', justification => 'billing fixed',
                              max_rows => 3, dry_run => false);
SELECT i.dead_letter_id, i.outcome FROM dlq.replay_item AS i
 WHERE i.replay_id = (SELECT max(replay_id) FROM dlq.replays) ORDER BY 1;
-- No match: nothing to replay, but the attempt is still audited (one row, zero counts), as with reprocess.
SELECT replay_id, dry_run, matched, selected, requeued, skipped, queues, kinds
  FROM dlq.reprocess_matching(:'since', :'until', text => 'no such text', justification => 'nothing',
                              dry_run => false);
SELECT count(*) AS replays FROM dlq.replays;
-- Bad input writes nothing either.
SELECT * FROM dlq.reprocess_matching(:'since', :'until', text => 'declined', dry_run => false);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(:'since', :'until', text => 'declined', justification => NULL, dry_run => false);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(:'since', :'until', text => 'declined', justification => '', dry_run => false);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(:'since', :'until', text => 'declined', justification => E' \t\n', dry_run => false);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(:'since', :'until', justification => 'x', dry_run => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(:'since', :'until', justification => 'x', max_rows => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(:'since', :'until', justification => 'x', max_rows => 100001);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(NULL, :'until', justification => 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(:'until', :'since', justification => 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS replays FROM dlq.replays;

-- ---- inspect --------------------------------------------------------------------------------------
-- One dead letter replayed several times: each replay's job is followed to what became of it.
SELECT dlq.create_queue('lineage', max_attempts => 1);
SELECT pg_temp.die('lineage', 'export', '{"disk full on /var/tmp"}', '{"report": 5}', 'acme') AS first_death \gset
SELECT x -> 'dead_letter' ->> 'id' AS id, x -> 'dead_letter' ->> 'kind' AS kind, x -> 'dead_letter' ->> 'reason' AS reason,
       x -> 'dead_letter' ->> 'tenant' AS tenant, x -> 'dead_letter' -> 'payload' AS payload,
       x -> 'dead_letter' ? 'errors' AS errors_in_record, jsonb_array_length(x -> 'attempts') AS attempts,
       x -> 'attempts' -> 0 ->> 'error' AS error, x -> 'replays' AS replays, x -> 'lineage' AS lineage,
       x -> 'later' AS later
  FROM dlq.inspect(:first_death) AS x;
-- Replay 1: the job waits, then runs, then completes.
SELECT requeued, job_ids FROM dlq.reprocess(ARRAY[:first_death]::bigint[], 'disk cleaned');
SELECT r ->> 'outcome' AS outcome, r ->> 'job_status' AS job_status, r ->> 'justification' AS justification,
       r ->> 'actor' = session_user AS by_session_user, r -> 'dead_letter_id' AS dead_letter_id
  FROM dlq.inspect(:first_death) AS x, jsonb_array_elements(x -> 'replays') AS r;
SELECT job_id FROM dlq.claim('lineage', 'w1');
SELECT r ->> 'job_status' AS job_status FROM dlq.inspect(:first_death) AS x, jsonb_array_elements(x -> 'replays') AS r;
SELECT id, dlq.complete(id, 'w1') AS completed FROM dlq.job WHERE replayed_from = :first_death;
SELECT r ->> 'job_status' AS job_status FROM dlq.inspect(:first_death) AS x, jsonb_array_elements(x -> 'replays') AS r;
-- Replay 2: the job dies again, a new dead letter of the same lineage.
SELECT requeued FROM dlq.reprocess(ARRAY[:first_death]::bigint[], 'one more try', force => true);
SELECT job_id FROM dlq.claim('lineage', 'w2');
SELECT dlq.fail(id, 'w2', 'disk full on /var/tmp') FROM dlq.job WHERE replayed_from = :first_death;
SELECT id AS second_death FROM dlq.dead_letters WHERE replayed_from = :first_death \gset
-- Replay 3 (forced) is still waiting.
SELECT requeued FROM dlq.reprocess(ARRAY[:first_death]::bigint[], 'third time lucky', force => true);
SELECT r ->> 'outcome' AS outcome, r ->> 'job_status' AS job_status, r ->> 'justification' AS justification,
       (r ->> 'forced')::boolean AS forced, (r ->> 'dead_letter_id')::bigint = :second_death AS is_second_death
  FROM dlq.inspect(:first_death) AS x, jsonb_array_elements(x -> 'replays') AS r;
SELECT (SELECT array_agg((l ->> 'id')::bigint) FROM jsonb_array_elements(x -> 'later') AS l) = ARRAY[:second_death]::bigint[]
       AS later_ok, x -> 'lineage' AS lineage
  FROM dlq.inspect(:first_death) AS x;
-- The second dead letter's lineage leads back to the first; the third's to both, nearest first.
SELECT x -> 'dead_letter' ->> 'reason' AS reason, (x -> 'dead_letter' ->> 'replayed_from')::bigint = :first_death AS from_first,
       jsonb_array_length(x -> 'lineage') AS depth, (x -> 'lineage' -> 0 ->> 'id')::bigint = :first_death AS first_ok,
       x -> 'lineage' -> 0 ->> 'last_error' AS lineage_error
  FROM dlq.inspect(:second_death) AS x;
SELECT requeued FROM dlq.reprocess(ARRAY[:second_death]::bigint[], 'and again');
SELECT job_id FROM dlq.claim('lineage', 'w3', 10) ORDER BY job_id;
SELECT dlq.fail(id, 'w3', 'disk full on /var/tmp', retryable => false) FROM dlq.job WHERE replayed_from = :second_death;
SELECT id AS third_death FROM dlq.dead_letters WHERE replayed_from = :second_death \gset
SELECT ARRAY(SELECT (l ->> 'id')::bigint FROM jsonb_array_elements(x -> 'lineage') AS l)
       = ARRAY[:second_death, :first_death]::bigint[] AS lineage_nearest_first,
       x -> 'dead_letter' ->> 'reason' AS reason, x -> 'replays' AS replays, x -> 'later' AS later
  FROM dlq.inspect(:third_death) AS x;
-- The first dead letter's view now shows the running third replay.
SELECT r ->> 'job_status' AS job_status FROM dlq.inspect(:first_death) AS x, jsonb_array_elements(x -> 'replays') AS r;
-- A replay that was skipped has no job.
SELECT requeued, skipped FROM dlq.reprocess(ARRAY[:first_death]::bigint[], 'skipped: still running');
SELECT r ->> 'outcome' AS outcome, r -> 'job_id' AS job_id, r -> 'job_status' AS job_status
  FROM dlq.inspect(:first_death) AS x, jsonb_array_elements(x -> 'replays') AS r;
-- The view dlq.replay_items has the same, per replay and dead letter, without an inspect of each.
SELECT replay_id, outcome, job_id, job_status, job_dead_letter_id = :second_death AS died_as_second
  FROM dlq.replay_items WHERE dead_letter_id = :first_death ORDER BY replay_id;
SELECT job_status, count(*) FROM dlq.replay_items
 WHERE replay_id = (SELECT max(replay_id) FROM dlq.replay_items WHERE dead_letter_id = :first_death AND job_id IS NOT NULL)
 GROUP BY 1;
-- Unknown and NULL ids.
SELECT dlq.inspect(999999);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.inspect(NULL);
\echo :LAST_ERROR_SQLSTATE

-- ---- partitions -----------------------------------------------------------------------------------
-- Dead letters of past days. Test set-up as the superuser: the partitions are made with
-- dlq._ensure_dead_letter_partition and the rows inserted directly into dlq.dead_letter (no API
-- backdates a dead letter). Dates are fixed, so partition names are known: one partition per UTC day.
SELECT count(DISTINCT dlq._ensure_dead_letter_partition(d)) AS partitions_made
  FROM generate_series(timestamptz '2024-01-07 12:00+00', '2024-01-11 12:00+00', interval '1 day') AS d;
-- Asking again makes nothing new.
SELECT count(DISTINCT dlq._ensure_dead_letter_partition(d)) AS partitions_made
  FROM generate_series(timestamptz '2024-01-07 00:00+00', '2024-01-11 23:59:59+00', interval '6 hours') AS d;
SELECT name, range_to - range_from AS span, range_from = timestamptz '2024-01-10 00:00+00' AS starts_jan_10_utc
  FROM dlq.dead_letter_partition WHERE range_from < '2025-01-01' ORDER BY name;
INSERT INTO dlq.dead_letter (job_id, dead_lettered_at, enqueued_at, priority, attempts, max_attempts, queue, kind,
                             reason, detected_by, tenant, last_error, fingerprint, payload, errors, reviewed)
SELECT 9000 + n, at, at - interval '1 minute', 0, 1, 1, q, k, 'RETRIES_EXHAUSTED', 'inline', t, e, dlq.fingerprint(e),
       '{}', jsonb_build_array(dlq._attempt_record(1, 'old-worker', e, NULL)), r
  FROM (VALUES (1, timestamptz '2024-01-08 03:00+00', 'mail', 'email.welcome', 'acme', 'SMTP 421 try again', true),
               (2, '2024-01-08 21:00+00', 'mail', 'email.welcome', 'acme', 'SMTP 421 try again', true),
               (3, '2024-01-09 10:00+00', 'billing', 'charge.card', 'acme', 'card declined: order 11111111-2222-3333-4444-555555555555', true),
               (4, '2024-01-09 11:00+00', 'billing', 'charge.card', 'globex', 'card declined: order 66666666-2222-3333-4444-555555555555', false),
               (5, '2024-01-10 00:00+00', 'billing', 'charge.card', 'acme', 'card declined: order 77777777-2222-3333-4444-555555555555', false),
               (6, '2024-01-10 12:00+00', 'mail', 'email.digest', 'acme', 'SMTP 550 mailbox 12 unavailable', true),
               (7, '2024-01-10 23:59:59.999999+00', 'billing', 'refund', 'initech', 'refund failed', false),
               (8, '2024-01-11 06:00+00', 'mail', 'email.digest', 'globex', 'SMTP 550 mailbox 13 unavailable', true))
       AS v (n, at, q, k, t, e, r);
SELECT p.name, count(d.id) AS rows, count(d.id) FILTER (WHERE NOT d.reviewed) AS unreviewed
  FROM dlq.dead_letter_partition AS p LEFT JOIN dlq.dead_letter AS d
    ON d.dead_lettered_at >= p.range_from AND d.dead_lettered_at < p.range_to
 WHERE p.range_from < '2025-01-01' GROUP BY p.name ORDER BY p.name;
-- The rows are really in their day's partition.
SELECT tableoid::regclass AS partition, count(*) FROM dlq.dead_letter WHERE dead_lettered_at < '2025-01-01'
 GROUP BY 1 ORDER BY 1;

-- The explorer on a past day: [Jan 10 00:00 UTC, Jan 11 00:00 UTC).
SELECT queue, kind, tenant, reviewed, error_snippet, total_count
  FROM dlq.search('2024-01-10 00:00+00', '2024-01-11 00:00+00');
SELECT queue, kind, fingerprint, dead_letters, unreviewed, tenants
  FROM dlq.summary('2024-01-08 00:00+00', '2024-01-12 00:00+00');

-- Pruning: the partitions a search's plan touches (names only, from EXPLAIN (COSTS OFF) of the very
-- query dlq.search runs).
CREATE FUNCTION pg_temp.partitions_scanned(query text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
		IF line ~ 'dead_letter_[0-9]{8}_[0-9]{4}' THEN
			RETURN NEXT substring(line FROM 'dead_letter_[0-9]{8}_[0-9]{4}');
		END IF;
	END LOOP;
END
$$;
SELECT count(*) AS old_partitions FROM dlq.dead_letter_partition WHERE range_from < '2025-01-01';
-- One day, with every filter: that day's partition only.
SELECT DISTINCT p AS scanned
  FROM pg_temp.partitions_scanned(dlq.search_query('2024-01-10 00:00+00', '2024-01-11 00:00+00')) AS p;
SELECT DISTINCT p AS scanned
  FROM pg_temp.partitions_scanned(dlq.search_query('2024-01-10 00:00+00', '2024-01-11 00:00+00', queue => 'billing',
       kind_prefix => 'charge', tenant => 'acme', text => 'declined', reason => 'RETRIES_EXHAUSTED', reviewed => false,
       max_rows => 10)) AS p;
-- A day across midnight UTC: two partitions. Three days: three.
SELECT DISTINCT p AS scanned
  FROM pg_temp.partitions_scanned(dlq.search_query('2024-01-10 12:00+00', '2024-01-11 12:00+00')) AS p ORDER BY 1;
SELECT DISTINCT p AS scanned
  FROM pg_temp.partitions_scanned(dlq.search_query('2024-01-08 00:00+00', '2024-01-11 00:00+00')) AS p ORDER BY 1;
-- The results agree with the plan.
SELECT kind, tenant, dead_lettered_at >= '2024-01-11 00:00+00' AS on_jan_11
  FROM dlq.search('2024-01-10 12:00+00', '2024-01-11 12:00+00');
-- search_query checks its input like search.
SELECT dlq.search_query('2024-01-11', '2024-01-10');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.search_query('2024-01-10', '2024-01-11', max_rows => 0);
\echo :LAST_ERROR_SQLSTATE

-- ---- purge --------------------------------------------------------------------------------------
SELECT count(*) AS old_partitions_before FROM dlq.dead_letter_partition WHERE range_from < '2025-01-01';
-- Reviewed dead letters only, by default. Partitions whose rows all qualify are dropped whole (Jan 7
-- empty, Jan 8 and Jan 11 all reviewed); from the others only the reviewed rows are deleted, the
-- unreviewed ones stay. Today's dead letters are too young.
SELECT dlq.purge('30 days') AS purged;
SELECT name AS kept FROM dlq.dead_letter_partition WHERE range_from < '2025-01-01' ORDER BY name;
SELECT count(*) AS old_partition_tables FROM pg_class
 WHERE relnamespace = 'dlq'::regnamespace AND relname ~ '^dead_letter_20240' AND relkind = 'r';
SELECT job_id, reviewed FROM dlq.dead_letters WHERE dead_lettered_at < '2025-01-01' ORDER BY job_id;
SELECT count(*) AS today FROM dlq.dead_letters WHERE dead_lettered_at >= :'since';
-- Again: nothing more to purge.
SELECT dlq.purge('30 days') AS purged;
-- Nothing is older than the timestamp range: 0, not an out-of-range error.
SELECT dlq.purge('1000000 years', include_unreviewed => true) AS purged;
-- include_unreviewed purges the rest, partitions and all.
SELECT dlq.purge('30 days', include_unreviewed => true) AS purged;
SELECT count(*) AS old_partitions FROM dlq.dead_letter_partition WHERE range_from < '2025-01-01';
SELECT count(*) AS old_dead_letters FROM dlq.dead_letters WHERE dead_lettered_at < '2025-01-01';
SELECT count(*) AS today FROM dlq.dead_letters WHERE dead_lettered_at >= :'since';
-- Recent reviewed dead letters go with a short enough interval, unreviewed ones stay.
SELECT count(*) FILTER (WHERE reviewed) AS reviewed, count(*) FILTER (WHERE NOT reviewed) AS unreviewed FROM dlq.dead_letters;
SELECT dlq.purge('0') AS purged;
SELECT count(*) FILTER (WHERE reviewed) AS reviewed, count(*) FILTER (WHERE NOT reviewed) AS unreviewed FROM dlq.dead_letters;
-- The third death of the lineage above is unreviewed and stays; the dead letter it was replayed from was
-- replayed, so reviewed, and is purged: its lineage says so rather than end as if complete.
SELECT x -> 'lineage' = jsonb_build_array(jsonb_build_object('id', :second_death, 'purged', true))
       AS lineage_marks_purged
  FROM dlq.inspect(:third_death) AS x;
SELECT dlq.inspect(:second_death);
-- Bad input.
SELECT dlq.purge('-1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.purge(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.purge('1 day', NULL);
\echo :LAST_ERROR_SQLSTATE

-- ---- partitions made ahead, and other granularities -------------------------------------------------
-- A sweep makes the partitions of the coming week.
SELECT outcome, count FROM dlq.sweep();
SELECT d AS days_ahead,
       EXISTS (SELECT 1 FROM dlq.dead_letter_partition AS p
                WHERE now() + d * interval '1 day' >= p.range_from AND now() + d * interval '1 day' < p.range_to) AS covered
  FROM generate_series(0, 6) AS d;
-- The partition span is a setting for new partitions (superuser only); a partition is clipped to its
-- neighbours, so ranges never overlap.
SET dlq.dead_letter_partition = 'week';
SELECT dlq._ensure_dead_letter_partition('2023-03-15 12:00+00') = timestamptz '2023-03-20 00:00+00' AS week_ends_monday;
SET dlq.dead_letter_partition = 'month';
SELECT dlq._ensure_dead_letter_partition('2023-05-15 12:00+00') = timestamptz '2023-06-01 00:00+00' AS month_ends;
RESET dlq.dead_letter_partition;
SELECT dlq._ensure_dead_letter_partition('2023-03-12 12:00+00') = timestamptz '2023-03-13 00:00+00' AS day_before_week;
SET dlq.dead_letter_partition = 'week';
SELECT dlq._ensure_dead_letter_partition('2023-03-08 12:00+00') = timestamptz '2023-03-12 00:00+00' AS clipped_week;
RESET dlq.dead_letter_partition;
SELECT name, range_from AT TIME ZONE 'UTC' AS range_from_utc, range_to AT TIME ZONE 'UTC' AS range_to_utc
  FROM dlq.dead_letter_partition WHERE range_from < '2024-01-01' ORDER BY range_from;
-- Overlapping ranges would have been refused by PostgreSQL; the partitions are all attached.
SELECT count(*) = (SELECT count(*) FROM pg_inherits WHERE inhparent = 'dlq.dead_letter'::regclass) AS all_attached
  FROM dlq.dead_letter_partition;
-- Partition bounds and the explorer's time range are written into SQL text. A DateStyle other than ISO
-- names the time zone by its abbreviation, and China's CST reads back as US Central, 14 hours off: the
-- partition would start at 14:00 UTC, and a search would look 14 hours later than asked.
SET DateStyle = 'SQL, DMY';
SET TimeZone = 'Asia/Shanghai';
SELECT dlq._ensure_dead_letter_partition('2023-02-10 12:00+00') IS NOT NULL AS partition;
SELECT count(*) AS found, count(*) = (SELECT count(*) FROM dlq.dead_letters
                                      WHERE dead_lettered_at >= :'since' AND dead_lettered_at < :'until') AS all_found
  FROM dlq.search(:'since', :'until', max_rows => 1000);
SET DateStyle = 'ISO';
SET TimeZone = 'UTC';
SELECT p.range_from, p.range_to, pg_get_expr(c.relpartbound, c.oid) AS bound
  FROM dlq.dead_letter_partition AS p JOIN pg_class AS c ON c.relname = p.name AND c.relnamespace = 'dlq'::regnamespace
 WHERE p.name = 'dead_letter_20230210_0000';
RESET DateStyle;
RESET TimeZone;
-- ---- per-queue retention ---------------------------------------------------------------------------
-- Every sweep applies each queue's retention: reviewed dead letters older than it are deleted,
-- unreviewed ones stay, and a past partition that retention empties is dropped whole.
SELECT dlq.create_queue('kept', retention => '1 day');
SELECT dlq._ensure_dead_letter_partition(t) IS NOT NULL AS partition
  FROM unnest(ARRAY['2023-07-01 12:00+00', '2023-07-02 12:00+00']::timestamptz[]) AS t;
INSERT INTO dlq.dead_letter (job_id, dead_lettered_at, enqueued_at, priority, attempts, max_attempts, queue, kind,
                             reason, detected_by, payload, reviewed)
VALUES (900001, '2023-07-01 12:00+00', '2023-07-01 11:00+00', 0, 1, 1, 'kept', 'k', 'MANUAL', 'manual', '{}', true),
       (900002, '2023-07-01 13:00+00', '2023-07-01 11:00+00', 0, 1, 1, 'kept', 'k', 'MANUAL', 'manual', '{}', true),
       (900003, '2023-07-02 12:00+00', '2023-07-02 11:00+00', 0, 1, 1, 'kept', 'k', 'MANUAL', 'manual', '{}', true),
       (900004, '2023-07-02 13:00+00', '2023-07-02 11:00+00', 0, 1, 1, 'kept', 'k', 'MANUAL', 'manual', '{}', false);
SELECT count(*) AS swept_outcomes FROM dlq.sweep();
SELECT job_id, reviewed FROM dlq.dead_letters WHERE queue = 'kept' ORDER BY job_id;
SELECT (range_from AT TIME ZONE 'UTC')::date AS partition_day_utc FROM dlq.dead_letter_partition
 WHERE range_from >= '2023-07-01' AND range_from < '2023-07-03' ORDER BY 1;
