-- Workers: dlq.claim (order, batch, due jobs only, paused queues, lease), heartbeat, complete,
-- complete_many, and bad input. Every error is followed by its SQLSTATE.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all
SELECT dlq.create_queue('work', max_attempts => 3, lease => '5 minutes');
SELECT dlq.create_queue('other');

-- Claim order: lower priority number first, then earlier run_at, then lower id.
SELECT * FROM dlq.enqueue_many('work', '[
  {"kind": "p0-late",   "run_at": "2020-01-01T00:00:02Z"},
  {"kind": "p0-early",  "run_at": "2020-01-01T00:00:01Z"},
  {"kind": "p5-oldest", "run_at": "2019-01-01T00:00:00Z", "priority": 5},
  {"kind": "p-1",       "run_at": "2020-06-01T00:00:00Z", "priority": -1, "payload": {"to": "ann"}, "tenant": "acme"},
  {"kind": "p0-late-b", "run_at": "2020-01-01T00:00:02Z"},
  {"kind": "future",    "run_at": "2999-01-01T00:00:00Z", "priority": -100}
]');
SELECT dlq.enqueue('other', 'elsewhere', run_at => '2000-01-01 00:00:00+00', priority => -1000);
-- A batch of 2: the two first in order, with the queue's lease (5 minutes from the claim).
SELECT job_id, kind, payload, attempt, max_attempts, tenant, enqueued_at <= now() AS enqueued_before,
       lease_expires_at = now() + interval '5 minutes' AS queue_lease
  FROM dlq.claim('work', 'w1', 2);
-- Named arguments and a lease override; only due jobs are claimed (not "future", nor other queues' jobs).
SELECT job_id, kind, attempt, lease_expires_at = now() + interval '30 seconds' AS lease_30s
  FROM dlq.claim(queue => 'work', worker => 'w2', batch => 10, lease => '30 seconds');
-- Nothing left that is due: an empty result, not an error.
SELECT * FROM dlq.claim('work', 'w1', 10);
-- The attempt is counted at claim time, before the worker reports anything.
SELECT id, kind, attempt, worker, lease_expires_at IS NOT NULL AS running, first_attempted_at IS NOT NULL AS attempted
  FROM dlq.job ORDER BY id;
SELECT queue, available, scheduled, running FROM dlq.queue_stats ORDER BY queue;

-- heartbeat: true for the worker holding the lease (which is extended), false otherwise.
BEGIN;
SELECT dlq.heartbeat(jid(4), 'w1');
SELECT lease_expires_at = now() + interval '5 minutes' AS queue_lease FROM dlq.job WHERE id = jid(4);
SELECT dlq.heartbeat(jid(4), 'w1', '1 hour');
SELECT lease_expires_at = now() + interval '1 hour' AS lease_1h FROM dlq.job WHERE id = jid(4);
COMMIT;
SELECT dlq.heartbeat(job_id => jid(4), worker => 'w2');
SELECT dlq.heartbeat(jid(4), 'W1');
SELECT dlq.heartbeat(jid(999), 'w1');
-- A job that is waiting (not claimed) has no lease to extend.
SELECT dlq.heartbeat(jid(6), 'w1');
SELECT dlq.heartbeat(jid(6), 'w2');
-- The failed heartbeats changed nothing.
SELECT id, worker, lease_expires_at > now() + interval '55 minutes' AS lease_1h FROM dlq.job WHERE id IN (jid(4), jid(6)) ORDER BY id;
SELECT dlq.heartbeat(jid(4), 'w1', '0');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.heartbeat(jid(4), 'w1', '-1 minute');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.heartbeat(jid(4), 'w1', '1000000 years');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.heartbeat(NULL, 'w1');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.heartbeat(jid(4), NULL);
\echo :LAST_ERROR_SQLSTATE

-- complete: only the worker holding the lease can finish the job; the job is then gone.
SELECT dlq.complete(jid(4), 'w2');
SELECT count(*) AS still_live FROM dlq.job WHERE id = jid(4);
SELECT dlq.complete(jid(4), 'w1');
SELECT count(*) AS still_live FROM dlq.job WHERE id = jid(4);
SELECT dlq.complete(jid(4), 'w1');
SELECT dlq.complete(jid(999), 'w1');
SELECT dlq.complete(jid(6), 'w1');
SELECT dlq.complete(NULL, 'w1');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.complete(jid(2), NULL);
\echo :LAST_ERROR_SQLSTATE

-- complete_many counts only the jobs the worker holds: w1 holds 2; w2 holds 1, 5 and 3.
SELECT dlq.complete_many(ARRAY[jid(2), jid(1), jid(5), jid(3), jid(4), jid(6), jid(999)], 'w3');
SELECT dlq.complete_many(ARRAY[jid(2), jid(1), jid(5), jid(3), jid(4), jid(6), jid(999)], 'w1');
SELECT dlq.complete_many(job_ids => ARRAY[jid(1), jid(5), jid(5), NULL], worker => 'w2');
SELECT dlq.complete_many('{}', 'w2');
-- One id takes the single-job statement: the same lease rule, whatever the array's bounds.
SELECT dlq.complete_many(ARRAY[jid(3)], 'w1');
SELECT dlq.complete_many(array_fill(jid(3), ARRAY[1], ARRAY[7]), 'w1');
SELECT dlq.complete_many(ARRAY[NULL]::bigint[], 'w2');
SELECT dlq.complete_many(array_fill(jid(3), ARRAY[1], ARRAY[7]), 'w2');
SELECT dlq.complete_many(ARRAY[jid(3)], 'w2');
SELECT id, kind FROM dlq.job ORDER BY id;
SELECT dlq.complete_many(NULL, 'w1');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.complete_many(ARRAY[jid(6)], NULL);
\echo :LAST_ERROR_SQLSTATE

-- Nothing is claimed from a paused queue; enqueue still works, and resuming makes the jobs claimable.
SELECT dlq.pause_queue('work');
SELECT dlq.enqueue('work', 'while-paused') AS paused_job;
SELECT * FROM dlq.claim('work', 'w1', 10);
SELECT queue, available, running FROM dlq.queue_stats WHERE queue = 'work';
SELECT dlq.resume_queue('work');
SELECT job_id, kind, attempt FROM dlq.claim('work', 'w1', 10);
-- A job claimed while its queue was running can still be finished after a pause.
SELECT dlq.pause_queue('work');
SELECT dlq.heartbeat(jid(8), 'w1');
SELECT dlq.complete(jid(8), 'w1');
SELECT dlq.resume_queue('work');

-- Bad input.
SELECT * FROM dlq.claim('work', 'w1', 0);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', 'w1', -1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', 'w1', 10001);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', 'w1', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', '');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', E' \n');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', repeat('w', 201));
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', 'w1', lease => '-1 minute');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', 'w1', lease => '0');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('work', 'w1', lease => '1000000 years');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('nope', 'w1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim(NULL, 'w1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim(' ', 'w1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim(repeat('q', 201), 'w1');
\echo :LAST_ERROR_SQLSTATE
-- The largest batch is allowed; it takes what is due.
SELECT * FROM dlq.enqueue_many('work', '[{"kind": "x"}, {"kind": "y"}]');
SELECT count(*) AS claimed FROM dlq.claim('work', 'w1', 10000);

-- Each priority is read from its first live entry: a running job at the head of the index and jobs
-- scheduled later in a lower priority do not hide what is due behind them.
SELECT dlq.create_queue('probe');
SELECT count(*) FROM dlq.enqueue_many('probe', '[{"kind": "a-running", "run_at": "2020-01-01T00:00:00Z"}]');
SELECT kind FROM dlq.claim('probe', 'w1');
SELECT count(*) FROM dlq.enqueue_many('probe', '[
  {"kind": "b-future", "run_at": "2999-01-01T00:00:00Z"},
  {"kind": "c-due",    "run_at": "2021-01-01T00:00:00Z"},
  {"kind": "d-p1",     "run_at": "2000-01-01T00:00:00Z", "priority": 1},
  {"kind": "e-due",    "run_at": "2020-06-01T00:00:00Z"}
]');
SELECT kind FROM dlq.claim('probe', 'w2', 10);

-- The jobs of one enqueue_many share a run_at: the due scan starts at the probe's (run_at, id), so
-- completed and running jobs of the batch ahead of it are passed over and none after it is missed.
SELECT dlq.create_queue('same_run_at');
SELECT count(*) FROM dlq.enqueue_many('same_run_at', '[{"kind": "j1"}, {"kind": "j2"}, {"kind": "j3"},
  {"kind": "j4"}, {"kind": "j5"}, {"kind": "j6"}]');
SELECT dlq.complete_many(array_agg(job_id), 'w1') FROM dlq.claim('same_run_at', 'w1', 2);
SELECT kind FROM dlq.claim('same_run_at', 'w2');
SELECT kind FROM dlq.claim('same_run_at', 'w3', 10);
SELECT count(*) AS left_to_claim FROM dlq.claim('same_run_at', 'w4');
