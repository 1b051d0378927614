-- Queue administration: create_queue, alter_queue, pause/resume, drop_queue, views dlq.queues and
-- dlq.queue_stats, and bad input. Every error is followed by its SQLSTATE.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all

-- create_queue with every default.
SELECT dlq.create_queue('default');
SELECT queue, max_attempts, lease = interval '15 minutes' AS lease_15min,
       recovery_window = interval '1 hour' AS recovery_1h, backoff_base = interval '10 seconds' AS base_10s,
       backoff_max = interval '1 hour' AS max_1h, paused,
       created_at <= now() AND created_at > now() - interval '1 minute' AS created_just_now
  FROM dlq.queues;

-- Named notation, every setting given.
SELECT dlq.create_queue(queue => 'mail', max_attempts => 3, lease => '2 minutes', recovery_window => '30 minutes',
                        backoff_base => '1 second', backoff_max => '5 minutes');
SELECT queue, max_attempts, lease = interval '2 minutes' AS lease_ok,
       recovery_window = interval '30 minutes' AS recovery_ok, backoff_base = interval '1 second' AS base_ok,
       backoff_max = interval '5 minutes' AS max_ok, paused
  FROM dlq.queues WHERE queue = 'mail';

-- A duplicate is an error, unless if_not_exists (then a notice, and the settings are left alone).
SELECT dlq.create_queue('mail');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('mail', max_attempts => 9, if_not_exists => true);
SELECT queue, max_attempts FROM dlq.queues WHERE queue = 'mail';
-- Names are case-sensitive and may hold any characters; 200 bytes is the longest allowed.
SELECT dlq.create_queue('Mail');
SELECT dlq.create_queue('billing.eu-west/1 ü');
SELECT dlq.create_queue(repeat('q', 200));
SELECT left(queue, 20) AS queue, octet_length(queue) AS bytes FROM dlq.queues ORDER BY queue COLLATE "C";
SELECT dlq.drop_queue(repeat('q', 200));

-- Bad names.
SELECT dlq.create_queue(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue(E' \t ');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue(repeat('q', 201));
\echo :LAST_ERROR_SQLSTATE

-- Bad settings.
SELECT dlq.create_queue('bad', max_attempts => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', max_attempts => 1001);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', max_attempts => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', lease => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', lease => '-5 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', recovery_window => '0 seconds');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', recovery_window => '-1 hour');
\echo :LAST_ERROR_SQLSTATE
-- Durations past 100 years: now() plus or minus them would leave the timestamp range, and the claims
-- or the sweep (of every queue) that compute it would fail.
SELECT dlq.create_queue('bad', lease => '100 years 1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', recovery_window => '1000000 years');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', retention => '1000000 years');
\echo :LAST_ERROR_SQLSTATE
-- An hour in all, but now() adds the years first: each field is bounded too.
SELECT dlq.create_queue('bad', lease => '295000 years -106200000 days 1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', retention => '295000 years -106200000 days 1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('long', lease => '100 years', recovery_window => '100 years', retention => '100 years');
SELECT lease, recovery_window, retention FROM dlq.queues WHERE queue = 'long';
SELECT dlq.drop_queue('long');
SELECT dlq.create_queue('bad', backoff_base => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', backoff_base => '-1 second', backoff_max => '1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', backoff_base => '2 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', backoff_base => '1 minute', backoff_max => '59 seconds');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', backoff_base => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', if_not_exists => NULL);
\echo :LAST_ERROR_SQLSTATE
-- Boundaries that are allowed.
SELECT dlq.create_queue('edge', max_attempts => 1000, lease => '1 microsecond', recovery_window => '1 microsecond',
                        backoff_base => '1 hour', backoff_max => '1 hour');
SELECT dlq.create_queue('edge1', max_attempts => 1);
-- None of the bad calls created a queue.
SELECT count(*) AS bad_queues FROM dlq.queues WHERE queue = 'bad';

-- alter_queue: each setting on its own; the others stay as they were (NULL = unchanged).
SELECT dlq.alter_queue('mail', max_attempts => 7);
SELECT dlq.alter_queue('mail', lease => '4 minutes');
SELECT dlq.alter_queue('mail', recovery_window => '2 hours');
SELECT dlq.alter_queue('mail', backoff_base => '2 seconds');
SELECT dlq.alter_queue('mail', backoff_max => '10 minutes');
SELECT queue, max_attempts, lease = interval '4 minutes' AS lease_ok,
       recovery_window = interval '2 hours' AS recovery_ok, backoff_base = interval '2 seconds' AS base_ok,
       backoff_max = interval '10 minutes' AS max_ok
  FROM dlq.queues WHERE queue = 'mail';
-- Nothing given: nothing changes. Explicit NULLs: nothing changes either.
SELECT dlq.alter_queue('mail');
SELECT dlq.alter_queue('mail', max_attempts => NULL, lease => NULL, recovery_window => NULL, backoff_base => NULL,
                       backoff_max => NULL);
SELECT queue, max_attempts, lease = interval '4 minutes' AS lease_ok,
       recovery_window = interval '2 hours' AS recovery_ok, backoff_base = interval '2 seconds' AS base_ok,
       backoff_max = interval '10 minutes' AS max_ok
  FROM dlq.queues WHERE queue = 'mail';
-- backoff_base may not end up above backoff_max, whichever of the two changes.
SELECT dlq.alter_queue('mail', backoff_base => '11 minutes');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('mail', backoff_max => '1 second');
\echo :LAST_ERROR_SQLSTATE
-- ... but both together may move past each other's old value.
SELECT dlq.alter_queue('mail', backoff_base => '1 hour', backoff_max => '2 hours');
SELECT backoff_base = interval '1 hour' AS base_ok, backoff_max = interval '2 hours' AS max_ok
  FROM dlq.queues WHERE queue = 'mail';
-- Bad settings are rejected and change nothing.
SELECT dlq.alter_queue('mail', max_attempts => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('mail', max_attempts => 1001);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('mail', lease => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('mail', recovery_window => '-1 minute');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('mail', backoff_base => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('mail', lease => '1000000 years');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('mail', recovery_window => '101 years');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('mail', retention => '101 years');
\echo :LAST_ERROR_SQLSTATE
SELECT queue, max_attempts, lease = interval '4 minutes' AS lease_ok,
       recovery_window = interval '2 hours' AS recovery_ok FROM dlq.queues WHERE queue = 'mail';
-- Unknown, NULL and blank queue names.
SELECT dlq.alter_queue('nope', max_attempts => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('MAIL', max_attempts => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue(NULL, max_attempts => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue(' ', max_attempts => 2);
\echo :LAST_ERROR_SQLSTATE
-- A name too long to be a queue's is bad input (22023) here too, not an unknown queue.
SELECT dlq.alter_queue(repeat('q', 201), max_attempts => 2);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.pause_queue(repeat('q', 201));
\echo :LAST_ERROR_SQLSTATE

-- pause_queue / resume_queue (both idempotent).
SELECT dlq.pause_queue('mail');
SELECT queue, paused FROM dlq.queues WHERE queue = 'mail';
SELECT dlq.pause_queue('mail');
SELECT queue, paused FROM dlq.queues WHERE queue = 'mail';
SELECT dlq.resume_queue('mail');
SELECT dlq.resume_queue('mail');
SELECT queue, paused FROM dlq.queues WHERE queue = 'mail';
SELECT dlq.pause_queue('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.pause_queue(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.pause_queue('');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.resume_queue('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.resume_queue(NULL);
\echo :LAST_ERROR_SQLSTATE

-- dlq.queue_stats: one row per queue, zero counts when empty.
SELECT queue, available, scheduled, running, dead_letters, unreviewed, oldest_available_age IS NULL AS no_age
  FROM dlq.queue_stats ORDER BY queue COLLATE "C";
-- Two jobs available (one waiting for an hour), one scheduled, one running, one dead letter.
SELECT dlq.enqueue('mail', 'old', run_at => now() - interval '1 hour') AS old_job;
SELECT dlq.enqueue('mail', 'new') AS new_job;
SELECT dlq.enqueue('mail', 'later', run_at => now() + interval '1 day') AS later_job;
SELECT dlq.enqueue('mail', 'busy', priority => -1) AS busy_job;
SELECT dlq.enqueue('mail', 'doomed', priority => -2) AS doomed_job;
SELECT job_id, kind FROM dlq.claim('mail', 'w1', batch => 2);
SELECT dlq.dead_letter(jid(5), note => 'not wanted');
SELECT queue, available, scheduled, running, dead_letters, unreviewed,
       oldest_available_age >= interval '1 hour' AS oldest_waited_1h,
       oldest_available_age < interval '1 hour 5 minutes' AS oldest_not_older
  FROM dlq.queue_stats WHERE queue = 'mail';
SELECT dlq.mark_reviewed(ARRAY[1]);
SELECT queue, dead_letters, unreviewed FROM dlq.queue_stats WHERE queue = 'mail';
-- A paused queue still reports its jobs.
SELECT dlq.pause_queue('mail');
SELECT queue, available, scheduled, running FROM dlq.queue_stats WHERE queue = 'mail';
SELECT dlq.resume_queue('mail');

-- drop_queue refuses while the queue has live jobs or dead letters.
SELECT dlq.drop_queue('mail');
\echo :LAST_ERROR_SQLSTATE
SELECT queue FROM dlq.queues WHERE queue = 'mail';
-- Only dead letters left still refuses.
SELECT dlq.create_queue('archive', max_attempts => 1);
SELECT dlq.enqueue('archive', 'x') AS archive_job;
SELECT dlq.dead_letter(jid(6));
SELECT dlq.drop_queue('archive');
\echo :LAST_ERROR_SQLSTATE
-- force deletes the live jobs (running ones too) and keeps the dead letters.
SELECT dlq.drop_queue('mail', force => true);
SELECT count(*) AS mail_queues FROM dlq.queues WHERE queue = 'mail';
SELECT count(*) AS mail_live_jobs FROM dlq.job WHERE kind IN ('old', 'new', 'later', 'busy');
SELECT id, queue, kind FROM dlq.dead_letters WHERE queue = 'mail';
SELECT dlq.drop_queue('archive', true);
SELECT id, queue, kind FROM dlq.dead_letters ORDER BY id;
-- The workers of a dropped queue find nothing to finish.
SELECT dlq.complete(jid(4), 'w1');
-- An empty queue drops without force; a dropped queue is unknown afterwards.
SELECT dlq.drop_queue('default');
SELECT dlq.drop_queue('default');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('default', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.drop_queue(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.drop_queue('');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('spare');
SELECT dlq.drop_queue('spare', force => NULL);
\echo :LAST_ERROR_SQLSTATE
-- Only in READ COMMITTED: a transaction snapshot would not see the jobs of the writers it waits for.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT dlq.drop_queue('spare');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT dlq.drop_queue('spare');
-- A queue can be recreated under a dropped name; the old dead letters show up in its stats.
SELECT dlq.create_queue('mail');
SELECT queue, available, dead_letters, unreviewed FROM dlq.queue_stats WHERE queue = 'mail';
SELECT queue FROM dlq.queues ORDER BY queue COLLATE "C";
