-- Sweep detection (dlq.sweep): expired leases rescued while attempts remain, STUCK_IN_PROGRESS on the
-- last attempt, UNRECOVERED_ERROR for retries past the recovery window; per-queue sweeps, the batch
-- bound, late reports after a rescue, heartbeats, the queue-default GUCs, the dlq.dead_letter_rate
-- view and the dlq_dead_letter notification. Leases and windows are tiny (milliseconds) and the test
-- sleeps past them; nothing volatile (timestamps, pids) is printed. Every error is followed by its
-- SQLSTATE.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all
-- lease 10 ms: a claimed job's lease has expired after pg_sleep(0.05).
SELECT dlq.create_queue('fast', max_attempts => 2, lease => '10 milliseconds', recovery_window => '1 hour');
SELECT dlq.create_queue('other', max_attempts => 1, lease => '10 milliseconds', recovery_window => '1 hour');

-- Nothing to do: all outcomes are counted, at zero.
SELECT * FROM dlq.sweep();

-- ---- rescued: the lease expired and attempts remain ----------------------------------------------
SELECT dlq.enqueue('fast', 'resize', payload => '{"image": 1}', tenant => 'acme') AS job_1;
SELECT job_id, attempt, max_attempts FROM dlq.claim('fast', 'w1');
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep();
-- The job is waiting again (no lease), available at once, with the lost lease recorded as attempt 1
-- ending with 'lease expired' and the sweep's id in the details.
SELECT id, attempt, lease_expires_at IS NULL AS waiting, run_at <= now() AS available, last_error,
       first_failed_at IS NOT NULL AS failed_once, jsonb_array_length(errors) AS history
  FROM dlq.job WHERE id = jid(1);
SELECT e.value ->> 'attempt' AS attempt, e.value ->> 'worker' AS worker, e.value ->> 'error' AS error,
       (e.value -> 'details' ->> 'sweep_id')::bigint = currval('dlq.sweep_id_seq') AS this_sweep,
       (e.value -> 'details' ->> 'lease_expired_at')::timestamptz < (e.value ->> 'at')::timestamptz
         AS expired_before_rescue
  FROM dlq.job AS j, jsonb_array_elements(j.errors) AS e (value) WHERE j.id = jid(1);
SELECT queue, available, scheduled, running, dead_letters FROM dlq.queue_stats WHERE queue = 'fast';
-- A second sweep finds nothing more to do.
SELECT * FROM dlq.sweep();
-- The worker that lost the lease reports late: its complete, heartbeat and fail are refused, and change
-- nothing.
SELECT dlq.complete(jid(1), 'w1');
SELECT dlq.heartbeat(jid(1), 'w1');
SELECT dlq.fail(jid(1), 'w1', 'finished after all');
SELECT id, attempt, lease_expires_at IS NULL AS waiting, jsonb_array_length(errors) AS history
  FROM dlq.job WHERE id = jid(1);

-- ---- STUCK_IN_PROGRESS: the lease of the last attempt expired ------------------------------------
-- Another worker claims it (attempt 2 of 2) and vanishes too. The old worker still cannot complete it.
SELECT job_id, attempt, max_attempts FROM dlq.claim('fast', 'w2');
SELECT dlq.complete(jid(1), 'w1');
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep();
SELECT count(*) AS live FROM dlq.job WHERE id = jid(1);
SELECT id, job_id, queue, kind, tenant, payload, attempts, max_attempts, reason, detected_by, last_error,
       fingerprint, jsonb_array_length(errors) AS history, reviewed,
       (metadata ->> 'sweep_id')::bigint = currval('dlq.sweep_id_seq') AS this_sweep,
       metadata ->> 'last_worker' AS last_worker,
       (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(metadata) AS k) AS metadata_keys
  FROM dlq.dead_letters WHERE job_id = jid(1);
-- Both lost leases are in the history, oldest first; the last one carries this sweep's id.
SELECT e.ord, e.value ->> 'attempt' AS attempt, e.value ->> 'worker' AS worker, e.value ->> 'error' AS error,
       e.value -> 'details' -> 'sweep_id' = d.metadata -> 'sweep_id' AS same_sweep_as_metadata,
       (e.value ->> 'at')::timestamptz <= d.dead_lettered_at AS at_ok
  FROM dlq.dead_letters AS d, jsonb_array_elements(d.errors) WITH ORDINALITY AS e (value, ord)
 WHERE d.job_id = jid(1) ORDER BY e.ord;
-- The worker that held the last lease is too late as well.
SELECT dlq.complete(jid(1), 'w2');
SELECT dlq.fail(jid(1), 'w2', 'done at last');

-- A sweep dead letter is the same record as an inline one (only detected_by and the sweep metadata
-- differ): same columns set, and history entries with the same keys.
SELECT dlq.enqueue('other', 'inline-death') AS job_2;
SELECT job_id, attempt FROM dlq.claim('other', 'w3', lease => '1 hour');
SELECT dlq.fail(jid(2), 'w3', 'boom', details => '{"code": 7}');
SELECT d.job_id, d.reason, d.detected_by, d.metadata - 'sweep_id' AS metadata, d.metadata ? 'sweep_id' AS has_sweep_id,
       d.last_error, d.attempts,
       (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(d.errors -> -1) AS k) AS entry_keys,
       jsonb_typeof(d.errors -> -1 -> 'details') AS details_type
  FROM dlq.dead_letters AS d WHERE d.job_id IN (jid(1), jid(2)) ORDER BY d.job_id;
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(i.errors -> -1) AS k)
     = (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(s.errors -> -1) AS k) AS same_entry_keys,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(to_jsonb(i) - 'metadata') AS k)
     = (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(to_jsonb(s) - 'metadata') AS k) AS same_columns,
       i.detected_by AS inline_by, s.detected_by AS sweep_by
  FROM dlq.dead_letters AS i, dlq.dead_letters AS s WHERE i.job_id = jid(2) AND s.job_id = jid(1);

-- ---- a heartbeat keeps a job from being rescued --------------------------------------------------
SELECT dlq.create_queue('beat', max_attempts => 3, lease => '1 hour');
SELECT dlq.enqueue('beat', 'long-running') AS job_3;
SELECT job_id, attempt FROM dlq.claim('beat', 'w4', lease => '10 milliseconds');
SELECT pg_sleep(0.05);
-- The lease has run out, but the worker heartbeats before any sweep: its lease becomes the queue's hour.
SELECT dlq.heartbeat(jid(3), 'w4');
SELECT * FROM dlq.sweep();
SELECT id, attempt, worker, lease_expires_at > now() + interval '59 minutes' AS leased_an_hour, errors
  FROM dlq.job WHERE id = jid(3);
SELECT dlq.complete(jid(3), 'w4');
-- Without the heartbeat the same job would have been rescued.
SELECT dlq.enqueue('beat', 'no-heartbeat') AS job_4;
SELECT job_id, attempt FROM dlq.claim('beat', 'w4', lease => '10 milliseconds');
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep();
SELECT id, attempt, lease_expires_at IS NULL AS waiting, last_error FROM dlq.job WHERE id = jid(4);
-- A job whose lease has not expired is left alone.
SELECT job_id, attempt FROM dlq.claim('beat', 'w5');
SELECT * FROM dlq.sweep();
SELECT id, attempt, worker, lease_expires_at IS NOT NULL AS running FROM dlq.job WHERE id = jid(4);
SELECT dlq.complete(jid(4), 'w5');

-- ---- UNRECOVERED_ERROR: retries past the recovery window -----------------------------------------
SELECT dlq.create_queue('window', max_attempts => 10, lease => '1 hour', recovery_window => '10 milliseconds');
SELECT dlq.create_queue('patient', max_attempts => 10, lease => '1 hour', recovery_window => '1 hour');
SELECT dlq.enqueue('window', 'sync', payload => '{"account": 9}') AS job_5;
SELECT dlq.enqueue('patient', 'sync') AS job_6;
SELECT dlq.enqueue('window', 'never-failed') AS job_7;
SELECT job_id, attempt FROM dlq.claim('window', 'w6');
SELECT dlq.fail(jid(5), 'w6', 'upstream 502 for account 9', details => '{"status": 502}', retry_in => '1 hour');
SELECT job_id, attempt FROM dlq.claim('patient', 'w6');
SELECT dlq.fail(jid(6), 'w6', 'upstream 502', retry_in => '0');
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep();
-- Job 5 failed first more than its window ago and waits for a retry: dead-lettered with its history as it
-- was (the last error is the worker's, no entry is added). Job 6 is within its window (and available
-- again); job 7 never failed.
SELECT id, queue_id, attempt, last_error FROM dlq.job WHERE id IN (jid(5), jid(6), jid(7)) ORDER BY id;
SELECT id, job_id, queue, kind, payload, attempts, reason, detected_by, last_error, fingerprint,
       jsonb_array_length(errors) AS history, errors -> 0 ->> 'error' AS first_error, metadata ->> 'last_worker' AS last_worker,
       (metadata ->> 'sweep_id')::bigint = currval('dlq.sweep_id_seq') AS this_sweep
  FROM dlq.dead_letters WHERE job_id = jid(5);
-- A job past its window that is running again is a worker's business, not the sweep's.
-- (A shorter window applies to the jobs already in the queue.)
SELECT job_id, attempt FROM dlq.claim('patient', 'w7');
SELECT dlq.alter_queue('patient', recovery_window => '10 milliseconds');
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep();
SELECT id, attempt, worker, lease_expires_at IS NOT NULL AS running FROM dlq.job WHERE id = jid(6);
-- ... until it fails again and waits.
SELECT dlq.fail(jid(6), 'w7', 'upstream 502 again', retry_in => '1 hour');
SELECT * FROM dlq.sweep();
SELECT job_id, reason, attempts, last_error, jsonb_array_length(errors) AS history, metadata ->> 'last_worker' AS last_worker
  FROM dlq.dead_letters WHERE job_id = jid(6);
SELECT dlq.dead_letter(jid(7), note => 'clean up');

-- ---- per queue: queue => 'x' touches only x -------------------------------------------------------
SELECT dlq.create_queue('q1', max_attempts => 1, lease => '10 milliseconds');
SELECT dlq.create_queue('q2', max_attempts => 1, lease => '10 milliseconds');
SELECT dlq.enqueue('q1', 'a') AS job_8;
SELECT dlq.enqueue('q2', 'b') AS job_9;
SELECT job_id FROM dlq.claim('q1', 'w8');
SELECT job_id FROM dlq.claim('q2', 'w8');
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep(queue => 'q1');
SELECT id, lease_expires_at IS NOT NULL AS still_running FROM dlq.job WHERE id IN (jid(8), jid(9)) ORDER BY id;
SELECT job_id, queue, reason FROM dlq.dead_letters WHERE job_id IN (jid(8), jid(9)) ORDER BY job_id;
SELECT * FROM dlq.sweep(queue => 'q2');
SELECT job_id, queue, reason FROM dlq.dead_letters WHERE job_id IN (jid(8), jid(9)) ORDER BY job_id;

-- ---- batch bounds the work of one call (per outcome) ----------------------------------------------
SELECT dlq.create_queue('backlog', max_attempts => 1, lease => '10 milliseconds');
SELECT count(*) AS enqueued FROM generate_series(1, 5) AS i, LATERAL dlq.enqueue('backlog', 'stuck-' || i);
SELECT count(*) AS claimed FROM dlq.claim('backlog', 'w9', 10);
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep(batch => 2);
SELECT * FROM dlq.sweep(batch => 2);
SELECT * FROM dlq.sweep(batch => 2);
SELECT * FROM dlq.sweep(batch => 2);
SELECT count(*) AS stuck_dead_letters FROM dlq.dead_letters WHERE queue = 'backlog' AND reason = 'STUCK_IN_PROGRESS';
-- The bound applies to each outcome; one sweep reads at most 2 x batch expired leases (here the 4 that
-- expired first, from both claim lanes), so 3 to rescue and 3 stuck with batch 2 are handled over two
-- sweeps. (Full passes here, whatever the sweeps of earlier files left bounded.)
SET dlq.sweep_full_pass_interval = 0;
SELECT dlq.create_queue('mixed', max_attempts => 2, lease => '10 milliseconds');
SELECT count(*) AS enqueued FROM generate_series(1, 6) AS i, LATERAL dlq.enqueue('mixed', 'm-' || i);
SELECT count(*) AS claimed FROM dlq.claim('mixed', 'w10', 3);
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep('mixed', 10);
SELECT count(*) AS claimed FROM dlq.claim('mixed', 'w10', 6);
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep('mixed', 2);
SELECT * FROM dlq.sweep('mixed', 2);
SELECT * FROM dlq.sweep('mixed', 2);
RESET dlq.sweep_full_pass_interval;

-- ---- the dlq.dead_letter_rate view ----------------------------------------------------------------
SELECT queue, reason, last_hour, last_day FROM dlq.dead_letter_rate ORDER BY queue, reason;
-- A dead letter older than an hour counts for the day only; older than a day, not at all.
-- (Test set-up as the superuser: the rows are moved back in time directly, into a partition made for
-- them.)
-- Both times get their partition: two hours ago is yesterday's partition in the first two hours of a UTC day.
SELECT dlq._ensure_dead_letter_partition(now() - interval '2 days') > now() - interval '2 days'
       AND dlq._ensure_dead_letter_partition(now() - interval '2 hours') > now() - interval '2 hours' AS partition_made;
UPDATE dlq.dead_letter SET dead_lettered_at = now() - interval '2 hours' WHERE job_id = jid(8);
UPDATE dlq.dead_letter SET dead_lettered_at = now() - interval '2 days' WHERE job_id = jid(9);
SELECT queue, reason, last_hour, last_day FROM dlq.dead_letter_rate WHERE queue IN ('q1', 'q2') ORDER BY queue, reason;

-- ---- the dlq_dead_letter notification ---------------------------------------------------------------
-- psql would print the listener's pid with every notification, so a second session (dblink) listens
-- and the test prints the channel and payload it received. Notifications are sent at commit: a rolled
-- back dead-lettering sends none.
CREATE EXTENSION dblink;
SELECT dblink_connect('listener', format('host=%s port=%s dbname=%s user=%s',
                      split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
                      current_database(), current_user));
SELECT dblink_exec('listener', 'LISTEN dlq_dead_letter');
SELECT dlq.create_queue('notify', max_attempts => 1, lease => '10 milliseconds');
SELECT dlq.enqueue('notify', 'rolled-back') AS job_21;
SELECT dlq.enqueue('notify', 'inline') AS job_22;
SELECT dlq.enqueue('notify', 'swept') AS job_23;
SELECT job_id FROM dlq.claim('notify', 'w11', 2, lease => '1 hour') ORDER BY job_id;
SELECT job_id FROM dlq.claim('notify', 'w12');
BEGIN;
SELECT dlq.fail(jid(21), 'w11', 'rolled back');
ROLLBACK;
SELECT dlq.fail(jid(22), 'w11', 'inline failure');
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep('notify');
-- A round trip lets the listener's backend deliver what it was sent.
SELECT x FROM dblink('listener', 'SELECT 1') AS t (x integer);
SELECT notify_name, extra::jsonb - 'id' AS payload,
       (extra::jsonb ->> 'id')::bigint = (SELECT d.id FROM dlq.dead_letters AS d
                                         WHERE d.job_id = (extra::jsonb ->> 'job_id')::bigint) AS id_ok
  FROM dblink_get_notify('listener') ORDER BY (extra::jsonb ->> 'job_id')::bigint;
SELECT dblink_disconnect('listener');
DROP EXTENSION dblink;
SELECT dlq.complete(jid(21), 'w11');

-- ---- queue defaults from the GUCs -------------------------------------------------------------------
SHOW dlq.default_max_attempts;
SHOW dlq.default_lease;
SHOW dlq.default_recovery_window;
SELECT dlq.create_queue('built-in-defaults');
SET dlq.default_max_attempts = 3;
SET dlq.default_lease = '30s';
SET dlq.default_recovery_window = '2min';
SELECT dlq.create_queue('staging');
-- Settings that are given still win.
SELECT dlq.create_queue('explicit', max_attempts => 7, lease => '5 minutes', recovery_window => '1 day');
SELECT dlq.create_queue('partly', lease => '1 minute');
SELECT queue, max_attempts, lease, recovery_window FROM dlq.queues
 WHERE queue IN ('built-in-defaults', 'staging', 'explicit', 'partly') ORDER BY queue;
-- The defaults only apply when a queue is created; a job takes its queue's max_attempts at enqueue.
SELECT dlq.enqueue('staging', 'x') AS job_24;
SELECT max_attempts FROM dlq.job WHERE id = jid(24);
RESET dlq.default_max_attempts;
RESET dlq.default_lease;
RESET dlq.default_recovery_window;
SELECT * FROM dlq._queue_defaults();
-- Bad values are refused by the GUC machinery.
SET dlq.default_max_attempts = 0;
\echo :LAST_ERROR_SQLSTATE
SET dlq.default_max_attempts = 1001;
\echo :LAST_ERROR_SQLSTATE
SET dlq.default_lease = 0;
\echo :LAST_ERROR_SQLSTATE
SET dlq.default_lease = '-5s';
\echo :LAST_ERROR_SQLSTATE
SET dlq.default_lease = 'forever';
\echo :LAST_ERROR_SQLSTATE
SET dlq.default_recovery_window = '10ms';
\echo :LAST_ERROR_SQLSTATE
SET dlq.dead_letter_partition = 'hour';
\echo :LAST_ERROR_SQLSTATE
SET dlq.no_such_setting = 1;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq._queue_defaults();
-- The sweeper's settings are server-wide (PGC_SIGHUP): SET is refused even to a superuser, whatever the
-- value, and ALTER SYSTEM checks the value before writing anything.
SHOW dlq.sweep_batch;
SET dlq.sweep_batch = 0;
\echo :LAST_ERROR_SQLSTATE
SET dlq.sweep_batch = 10;
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('dlq.sweep_batch', '10', false);
\echo :LAST_ERROR_SQLSTATE
SET dlq.sweep_interval = '1s';
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET dlq.sweep_batch = 0;
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET dlq.sweep_batch = 100001;
\echo :LAST_ERROR_SQLSTATE
ALTER SYSTEM SET dlq.sweep_interval = '10ms';
\echo :LAST_ERROR_SQLSTATE
SHOW dlq.sweep_batch;

-- ---- bad input ------------------------------------------------------------------------------------
-- An unknown queue is undefined_object; a blank or too long name is bad input, reported as dlq.enqueue
-- and dlq.claim report it.
SELECT * FROM dlq.sweep('no-such-queue');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.sweep('');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.sweep(E' \t');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.sweep(repeat('q', 201));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.sweep(batch => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.sweep(batch => 100001);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.sweep(batch => -1);
\echo :LAST_ERROR_SQLSTATE
-- The bounds themselves are accepted; no queue and no batch mean every queue and dlq.sweep_batch.
SELECT * FROM dlq.sweep(NULL, NULL);
SELECT * FROM dlq.sweep(batch => 1);
SELECT * FROM dlq.sweep(batch => 100000);
-- Bad queue settings are refused too.
SELECT dlq.create_queue('bad', lease => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', lease => '-10 milliseconds');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', recovery_window => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('bad', max_attempts => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('fast', recovery_window => '-1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT queue FROM dlq.queues WHERE queue = 'bad';
-- A job past its recovery window whose new lease also expired is handled once per sweep: this sweep
-- rescues it (recording the lost lease), the next one dead-letters it as UNRECOVERED_ERROR.
SELECT dlq.create_queue('lapsed', max_attempts => 5, lease => '10 milliseconds',
                        recovery_window => '20 milliseconds');
SELECT dlq.enqueue('lapsed', 'twice') AS twice_id \gset
SELECT count(*) FROM dlq.claim('lapsed', 'w1');
SELECT dlq.fail(:twice_id, 'w1', 'first failure', retry_in => '0');
SELECT pg_sleep(0.05);
SELECT count(*) FROM dlq.claim('lapsed', 'w2');
SELECT pg_sleep(0.05);
SELECT * FROM dlq.sweep('lapsed');
SELECT * FROM dlq.sweep('lapsed');
SELECT reason, detected_by, attempts, errors -> -1 ->> 'error' AS last_attempt_error
  FROM dlq.dead_letters WHERE job_id = :twice_id;
-- A rescued job queues at run_at = now(): behind a job that became due while it was running, so a
-- job that keeps killing its workers does not hold the head of the queue.
SELECT dlq.create_queue('order', lease => '10 milliseconds');
SELECT dlq.enqueue('order', 'first') AS first_id \gset
SELECT kind FROM dlq.claim('order', 'w1');
SELECT dlq.enqueue('order', 'second') AS second_id \gset
SELECT pg_sleep(0.05);
SELECT outcome, count FROM dlq.sweep('order') WHERE count > 0;
SELECT kind, attempt FROM dlq.claim('order', 'w2', batch => 2);
