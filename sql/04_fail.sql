-- Workers reporting failures: dlq.fail retries with the queue's backoff (checked against its jitter
-- bounds, never printed), retry_in, permanent failures, exhausted attempts, the error history, and
-- lease_lost. Every error is followed by its SQLSTATE.
--
-- The backoff after failed attempt n is raw = min(backoff_max, backoff_base * 2^(n-1)), spread by
-- +/-20% jitter and never above backoff_max; run_at = the failing transaction's now() + that delay.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all
SELECT dlq.create_queue('retry', max_attempts => 4, backoff_base => '10 seconds', backoff_max => '1 hour');
SELECT dlq.create_queue('capped', max_attempts => 5, backoff_base => '10 seconds', backoff_max => '15 seconds');

SELECT dlq.enqueue('retry', 'a1-backoff', payload => '{"n": 1}') AS job_a;
SELECT dlq.enqueue('retry', 'a2-backoff') AS job_b;
SELECT dlq.enqueue('retry', 'a3-backoff') AS job_c;
SELECT dlq.enqueue('capped', 'capped') AS job_d;
SELECT dlq.enqueue('retry', 'override') AS job_e;

-- Attempt 1 fails: retrying after base = 10 s, i.e. within [8 s, 12 s]. The job's lease is released, it
-- keeps its attempt count, and the error is recorded.
SELECT job_id, attempt FROM dlq.claim('retry', 'w1', 10) ORDER BY job_id;
BEGIN;
SELECT dlq.fail(jid(1), 'w1', 'timeout talking to smtp', details => '{"http": 504}');
SELECT run_at >= now() + interval '8 seconds' AS after_min, run_at <= now() + interval '12 seconds' AS before_max,
       lease_expires_at IS NULL AS released, attempt, last_error, jsonb_array_length(errors) AS history,
       (errors -> 0 ->> 'at')::timestamptz = now() AS at_is_now
  FROM dlq.job WHERE id = jid(1);
COMMIT;
-- It is scheduled, not available: claiming finds nothing of it.
SELECT queue, available, scheduled, running FROM dlq.queue_stats WHERE queue = 'retry';

-- retry_in overrides the backoff: 0 retries at once, 5 minutes exactly 5 minutes later.
BEGIN;
SELECT dlq.fail(jid(2), 'w1', 'first', retry_in => '0');
SELECT dlq.fail(jid(3), 'w1', 'first', retry_in => '0');
SELECT dlq.fail(jid(5), 'w1', 'later please', retry_in => '5 minutes');
SELECT id, run_at = now() AS run_now, run_at = now() + interval '5 minutes' AS run_in_5min FROM dlq.job
 WHERE id IN (jid(2), jid(3), jid(5)) ORDER BY id;
COMMIT;
-- Attempt 2 fails (claimed by another worker): backoff 20 s, within [16 s, 24 s].
SELECT job_id, attempt FROM dlq.claim('retry', 'w2', 10) ORDER BY job_id;
BEGIN;
SELECT dlq.fail(jid(2), 'w2', 'second');
SELECT dlq.fail(jid(3), 'w2', 'second', retry_in => '0');
SELECT run_at >= now() + interval '16 seconds' AS after_min, run_at <= now() + interval '24 seconds' AS before_max
  FROM dlq.job WHERE id = jid(2);
COMMIT;
-- Attempt 3 fails: backoff 40 s, within [32 s, 48 s].
SELECT job_id, attempt FROM dlq.claim('retry', 'w1', 10) ORDER BY job_id;
BEGIN;
SELECT dlq.fail(jid(3), 'w1', 'third');
SELECT run_at >= now() + interval '32 seconds' AS after_min, run_at <= now() + interval '48 seconds' AS before_max
  FROM dlq.job WHERE id = jid(3);
COMMIT;
-- The history has one entry per failed attempt, oldest first: {attempt, at, worker, error, details}.
SELECT e.ord, e.value - 'at' AS entry, (e.value ->> 'at')::timestamptz <= now() AS at_ok,
       (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(e.value) AS k) AS keys
  FROM dlq.job AS j, jsonb_array_elements(j.errors) WITH ORDINALITY AS e (value, ord)
 WHERE j.id = jid(3) ORDER BY e.ord;
SELECT id, attempt, last_error FROM dlq.job WHERE id IN (jid(1), jid(2), jid(3)) ORDER BY id;

-- The cap: with base 10 s and max 15 s, attempt 2 waits within [12 s, 15 s], never above the max.
SELECT job_id, attempt FROM dlq.claim('capped', 'w1');
SELECT dlq.fail(jid(4), 'w1', 'one', retry_in => '0');
SELECT job_id, attempt FROM dlq.claim('capped', 'w1');
BEGIN;
SELECT dlq.fail(jid(4), 'w1', 'two');
SELECT run_at >= now() + interval '12 seconds' AS after_min, run_at <= now() + interval '15 seconds' AS at_most_max
  FROM dlq.job WHERE id = jid(4);
COMMIT;

-- lease_lost: another worker's job, a job that is waiting, a job that does not exist. Nothing changes.
SELECT dlq.enqueue('retry', 'held') AS job_f;
SELECT job_id, attempt FROM dlq.claim('retry', 'w1');
SELECT dlq.fail(jid(6), 'w2', 'not mine');
SELECT dlq.fail(jid(6), 'W1', 'not mine either');
SELECT dlq.fail(jid(1), 'w1', 'waiting, not running');
SELECT dlq.fail(jid(999), 'w1', 'no such job');
SELECT dlq.fail(jid(6), 'w2', 'not mine', retryable => false);
SELECT id, attempt, worker, lease_expires_at IS NOT NULL AS running, errors, last_error FROM dlq.job WHERE id = jid(6);
SELECT id, attempt, jsonb_array_length(errors) AS history, last_error FROM dlq.job WHERE id = jid(1);
SELECT count(*) AS dead_letters FROM dlq.dead_letters;
-- After the job completed, a late failure report is lease_lost too.
SELECT dlq.complete(jid(6), 'w1');
SELECT dlq.fail(jid(6), 'w1', 'too late');

-- retryable => false: dead-lettered at once with PERMANENT_FAILURE, although attempts remain.
SELECT dlq.enqueue('retry', 'bad-address', payload => '{"to": "nobody@"}', tenant => 'acme', actor => 'signup')
       AS job_g;
SELECT job_id, attempt, max_attempts FROM dlq.claim('retry', 'w1');
SELECT dlq.fail(jid(7), 'w1', 'invalid address', details => '{"field": "to"}', retryable => false);
SELECT count(*) AS live FROM dlq.job WHERE id = jid(7);
SELECT id, job_id, queue, kind, tenant, actor, payload, attempts, max_attempts, reason, detected_by, last_error,
       (errors -> 0) - 'at' AS error_entry, jsonb_array_length(errors) AS history
  FROM dlq.dead_letters WHERE job_id = jid(7);
-- Reporting again for a dead job is lease_lost.
SELECT dlq.fail(jid(7), 'w1', 'again');

-- Attempts exhausted: the job's own max_attempts (2) wins over the queue's (4); the last failure
-- dead-letters it with RETRIES_EXHAUSTED even when retry_in is given. The full history moves with it.
SELECT dlq.enqueue('retry', 'flaky', max_attempts => 2) AS job_h;
SELECT job_id, attempt, max_attempts FROM dlq.claim('retry', 'w1');
SELECT dlq.fail(jid(8), 'w1', 'flaky 1', details => '{"try": 1}', retry_in => '0');
SELECT job_id, attempt, max_attempts FROM dlq.claim('retry', 'w2');
SELECT dlq.fail(jid(8), 'w2', 'flaky 2', details => '[2]', retry_in => '1 minute');
SELECT count(*) AS live FROM dlq.job WHERE id = jid(8);
SELECT id, job_id, kind, attempts, max_attempts, reason, detected_by, last_error,
       first_attempted_at <= dead_lettered_at AS attempted_before_death
  FROM dlq.dead_letters WHERE job_id = jid(8);
SELECT e.ord, e.value - 'at' AS entry, (e.value ->> 'at')::timestamptz <= now() AS at_ok
  FROM dlq.dead_letters AS d, jsonb_array_elements(d.errors) WITH ORDINALITY AS e (value, ord)
 WHERE d.job_id = jid(8) ORDER BY e.ord;
SELECT queue, available, scheduled, running, dead_letters, unreviewed FROM dlq.queue_stats ORDER BY queue;

-- The move is atomic: rolled back, the job is exactly as it was and there is no dead letter.
SELECT dlq.enqueue('retry', 'atomic', max_attempts => 1) AS job_i;
SELECT job_id, attempt FROM dlq.claim('retry', 'w1');
BEGIN;
SELECT dlq.fail(jid(9), 'w1', 'boom');
SELECT count(*) AS live, (SELECT count(*) FROM dlq.dead_letters WHERE job_id = jid(9)) AS dead FROM dlq.job WHERE id = jid(9);
ROLLBACK;
SELECT id, attempt, worker, lease_expires_at IS NOT NULL AS running, errors FROM dlq.job WHERE id = jid(9);
SELECT count(*) AS dead FROM dlq.dead_letters WHERE job_id = jid(9);
SELECT dlq.complete(jid(9), 'w1');

-- Bad input.
SELECT dlq.enqueue('retry', 'input') AS job_j;
SELECT job_id FROM dlq.claim('retry', 'w1');
SELECT dlq.fail(jid(10), 'w1', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.fail(jid(10), 'w1', 'e', retry_in => '-1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.fail(jid(10), 'w1', 'e', retryable => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.fail(NULL, 'w1', 'e');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.fail(jid(10), NULL, 'e');
\echo :LAST_ERROR_SQLSTATE
-- None of them touched the job.
SELECT id, attempt, worker, errors FROM dlq.job WHERE id = jid(10);

-- A very long error message is cut in the history (at most 8192 bytes, marked as truncated).
SELECT dlq.fail(jid(10), 'w1', repeat('x', 10000), retry_in => '0');
SELECT octet_length(errors -> 0 ->> 'error') <= 8192 AS cut, right(errors -> 0 ->> 'error', 11) AS mark
  FROM dlq.job WHERE id = jid(10);

-- Only the lease holder ends a job's last attempt: another worker's report is lease_lost, whether
-- retryable or not, and the job keeps running; the holder's report dead-letters it.
SELECT dlq.create_queue('edges', max_attempts => 1);
SELECT dlq.enqueue('edges', 'last-attempt') AS job_k \gset
SELECT job_id = :job_k AS claimed, attempt, max_attempts FROM dlq.claim('edges', 'w1');
SELECT dlq.fail(:job_k, 'w2', 'not mine');
SELECT dlq.fail(:job_k, 'w2', 'not mine', retryable => false);
SELECT attempt, worker, lease_expires_at IS NOT NULL AS running, errors FROM dlq.job WHERE id = :job_k;
SELECT dlq.fail(:job_k, 'w1', 'mine');
SELECT reason, detected_by, last_error FROM dlq.dead_letters WHERE job_id = :job_k;

-- A retry too far to be a timestamp waits forever (run_at infinity) rather than failing the report.
SELECT dlq.enqueue('edges', 'far', max_attempts => 2) AS job_l \gset
SELECT job_id = :job_l AS claimed FROM dlq.claim('edges', 'w1');
SELECT dlq.fail(:job_l, 'w1', 'come back much later', retry_in => '1000000 years');
SELECT run_at FROM dlq.job WHERE id = :job_l;

-- dlq._retry_at, the retry time fail() computes in its update. With unit_random 0.5 the jitter
-- factor is exactly 1: attempt 3 of base 10 s waits 40 s, capped by the max; retry_in wins.
BEGIN;
SELECT dlq._retry_at(3, '10 seconds', '1 hour', 0.5, NULL) - now() AS third_attempt,
       dlq._retry_at(9, '10 seconds', '1 minute', 0.5, NULL) - now() AS capped,
       dlq._retry_at(9, '10 seconds', '1 minute', 0.999, NULL) - now() AS capped_high_jitter,
       dlq._retry_at(1, '10 seconds', '1 minute', 0, NULL) - now() AS low_jitter,
       dlq._retry_at(3, '10 seconds', '1 hour', 0.5, '2 minutes') - now() AS retry_in;
-- Just past the last valid timestamp (an hour beyond it, short of overflowing the arithmetic) is
-- infinity too; an hour before it is a valid time.
SELECT extract(epoch FROM now() - '2000-01-01 00:00:00+00') AS since_2000 \gset
SELECT dlq._retry_at(1, '1 second', '1 second', 0.5,
                     make_interval(secs => 9223371331200 - :since_2000 + 3600)) AS past_the_end,
       dlq._retry_at(1, '1 second', '1 second', 0.5,
                     make_interval(secs => 9223371331200 - :since_2000 - 3600)) < 'infinity' AS before_the_end;
COMMIT;
SELECT dlq._retry_at(1, '10 seconds', '1 minute', 0.5, '-1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq._retry_at(NULL, '10 seconds', '1 minute', 0.5, NULL);
\echo :LAST_ERROR_SQLSTATE

-- A running job whose queue's row is gone (an enqueue and a claim that raced a forced drop_queue): the
-- heartbeat does not extend it (the job keeps its lease) and a failure report finds no lease to honour.
SELECT dlq.create_queue('orphan');
SELECT dlq.enqueue('orphan', 'k') AS job_o \gset
SELECT job_id = :job_o AS claimed FROM dlq.claim('orphan', 'w1');
DELETE FROM dlq.queue WHERE name = 'orphan';
SELECT dlq.heartbeat(:job_o, 'w1');
SELECT lease_expires_at IS NOT NULL AS still_leased FROM dlq.job WHERE id = :job_o;
SELECT dlq.fail(:job_o, 'w1', 'boom');

-- A last attempt whose lease expired and that a sweep dead-lettered: the holder's late report is
-- lease_lost.
SELECT dlq.create_queue('last', max_attempts => 1, lease => '10 milliseconds');
SELECT dlq.enqueue('last', 'expired') AS job_p \gset
SELECT job_id = :job_p AS claimed, attempt, max_attempts FROM dlq.claim('last', 'w1');
SELECT pg_sleep(0.05);
SELECT outcome, count FROM dlq.sweep('last') WHERE count > 0;
SELECT dlq.fail(:job_p, 'w1', 'late report');
-- A last attempt's report rolled back, then made again: dead-lettered, once.
SELECT dlq.enqueue('last', 'reported twice') AS job_q \gset
SELECT job_id = :job_q AS claimed FROM dlq.claim('last', 'w1', lease => '1 hour');
BEGIN;
SELECT dlq.fail(:job_q, 'w1', 'first report');
ROLLBACK;
SELECT dlq.fail(:job_q, 'w1', 'second report');
SELECT job_id = :job_p AS expired_job, reason, detected_by, last_error
  FROM dlq.dead_letter WHERE job_id IN (:job_p, :job_q) ORDER BY job_id;

-- Details may hold any JSON number, also one past a double's range: jsonb keeps it as a numeric, and
-- so does the error history, on a retry and on the dead letter.
SELECT dlq.create_queue('bignum', max_attempts => 2);
SELECT dlq.enqueue('bignum', 'k') AS job_r \gset
SELECT job_id = :job_r AS claimed FROM dlq.claim('bignum', 'w1');
SELECT dlq.fail(:job_r, 'w1', 'amount too large', details => jsonb_build_object('amount', 1e400::numeric),
                retry_in => '0');
SELECT job_id = :job_r AS claimed FROM dlq.claim('bignum', 'w1');
SELECT dlq.fail(:job_r, 'w1', 'amount too large', details => '[-1E999, 1e400]');
SELECT (errors -> 0 -> 'details' ->> 'amount')::numeric = 1e400 AS first_kept,
       (errors -> 1 -> 'details' ->> 0)::numeric = -1e999 AS second_kept
  FROM dlq.dead_letter WHERE job_id = :job_r;
