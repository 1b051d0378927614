-- Claim hints (dlq in shared_preload_libraries): a claim starts reading its queue's claim index past the
-- entries of finished jobs, and every way a job can come to wait behind that start (an enqueue or a
-- replay with an earlier run_at or a more urgent priority, a retry, a write outside the API) moves the
-- start back, so no waiting job is ever passed over. dlq._claim_hint shows where claims start (nulls:
-- at the queue's start). Every error is followed by its SQLSTATE.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
SHOW dlq.claim_hints;
SELECT dlq.create_queue('hint', max_attempts => 2, backoff_base => '1 hour', backoff_max => '1 hour');
SELECT id AS hint_queue FROM dlq.queue WHERE name = 'hint' \gset

SELECT count(*) FROM dlq.enqueue_many('hint', (SELECT jsonb_agg(jsonb_build_object('kind', 'k' || i,
       'run_at', '2020-01-01T00:00:00Z')) FROM generate_series(1, 8) AS i));
-- The first claim learns the queue's id, the next ones start at the first entry they see.
SELECT dlq.complete(job_id, 'w1') FROM dlq.claim('hint', 'w1', 2);
SELECT dlq.complete(job_id, 'w1') FROM dlq.claim('hint', 'w1', 2);
SELECT kind FROM dlq.claim('hint', 'w1');
SELECT j.kind AS hint_at, h.open_writers
  FROM dlq._claim_hint(:hint_queue) AS h JOIN dlq.job AS j ON j.id = h.job_id;

-- An enqueue behind the start: earlier run_at, then a more urgent priority. Each moves the start back
-- and is claimed first.
SELECT dlq.enqueue('hint', 'early', run_at => '2019-01-01') > 0 AS enqueued;
SELECT h.run_at = '2019-01-01' AS hint_moved_back FROM dlq._claim_hint(:hint_queue) AS h;
SELECT kind FROM dlq.claim('hint', 'w2');
SELECT dlq.enqueue('hint', 'urgent', priority => -1) > 0 AS enqueued;
SELECT h.priority AS hint_priority FROM dlq._claim_hint(:hint_queue) AS h;
SELECT kind FROM dlq.claim('hint', 'w2');
SELECT count(*) FROM dlq.enqueue_many('hint', '[{"kind": "batch-early", "run_at": "2018-01-01T00:00:00Z"}]');
SELECT kind FROM dlq.claim('hint', 'w2');

-- Claims start past running jobs, but a failed attempt comes back to wait through a write that lowers
-- the start, so it is found again (here an hour later).
SELECT dlq.fail(j.id, 'w1', 'boom') FROM dlq.job AS j WHERE j.kind = 'k5';
SELECT kind, attempt FROM dlq.job WHERE kind = 'k5' AND run_at > now();

-- A writer's transaction counts as open until it ends, and no claim moves the start meanwhile.
BEGIN;
SELECT dlq.enqueue('hint', 'in-transaction', run_at => '2017-01-01') > 0 AS enqueued;
SELECT open_writers FROM dlq._claim_hint(:hint_queue);
SELECT kind FROM dlq.claim('hint', 'w3');
COMMIT;
SELECT open_writers FROM dlq._claim_hint(:hint_queue);
BEGIN;
SELECT dlq.enqueue('hint', 'rolled-back', run_at => '2016-01-01') > 0 AS enqueued;
ROLLBACK;
SELECT open_writers FROM dlq._claim_hint(:hint_queue);

-- A claim in a transaction that already changed jobs does not move the start: the jobs it completed
-- are invisible to it, and a rollback brings them back (t2 waiting again, its claim undone).
SELECT dlq.create_queue('tx');
SELECT count(*) FROM dlq.enqueue_many('tx', '[{"kind": "t1"}, {"kind": "t2"}, {"kind": "t3"}, {"kind": "t4"}]');
SELECT kind FROM dlq.claim('tx', 'w9');
BEGIN;
SELECT dlq.complete(j.id, 'w9') FROM dlq.job AS j WHERE j.kind = 't1';
SELECT dlq.complete(job_id, 'w9') FROM dlq.claim('tx', 'w9');
SELECT kind FROM dlq.claim('tx', 'w9');
ROLLBACK;
SELECT kind FROM dlq.claim('tx', 'w9', 10);

-- Writes outside the API (an INSERT, an UPDATE of run_at) send the start back to the queue's start.
SELECT kind FROM dlq.claim('hint', 'w3', 10);
SELECT h.job_id IS NOT NULL AS hint_set FROM dlq._claim_hint(:hint_queue) AS h;
INSERT INTO dlq.job (id, queue_id, kind, payload, run_at, max_attempts)
VALUES (dlq._new_job_id(:hint_queue, 0, '2015-01-01'), :hint_queue, 'by-hand', '{}', '2015-01-01', 1);
SELECT h.job_id IS NULL AS hint_at_start FROM dlq._claim_hint(:hint_queue) AS h;
SELECT kind FROM dlq.claim('hint', 'w4');
SELECT dlq.enqueue('hint', 'later') > 0 AS enqueued;
SELECT kind FROM dlq.claim('hint', 'w4');
SELECT h.job_id IS NOT NULL AS hint_set FROM dlq._claim_hint(:hint_queue) AS h;
UPDATE dlq.job SET run_at = '2014-01-01', attempt = 0 WHERE kind = 'k5';
SELECT kind FROM dlq.claim('hint', 'w4');
-- Claiming and heartbeats do not change the claim key: they fire no trigger.
SELECT dlq.enqueue('hint', 'last') > 0 AS enqueued;
SELECT kind FROM dlq.claim('hint', 'w5');
SELECT h.job_id IS NOT NULL AS hint_set FROM dlq._claim_hint(:hint_queue) AS h;

-- A replay comes back to wait at the run_at it is given, behind the start too.
SELECT count(*) FROM dlq.enqueue_many('hint', '[{"kind": "doomed"}, {"kind": "filler"}]');
SELECT dlq.dead_letter(j.id, note => 'replay me') IS NOT NULL AS dead FROM dlq.job AS j WHERE j.kind = 'doomed';
SELECT kind FROM dlq.claim('hint', 'w5');
SELECT count(*) AS replayed FROM dlq.reprocess(ARRAY(SELECT id FROM dlq.dead_letter WHERE kind = 'doomed'),
       justification => 'test', run_at => '2013-01-01');
SELECT kind FROM dlq.claim('hint', 'w5');
SELECT count(*) AS left_to_claim FROM dlq.claim('hint', 'w6', 100);

-- A claim that takes nothing moves the start as well, to the first entry it sees: here past a
-- finished job (the queue's first claim only learnt its id) to one that is not due yet. An unknown
-- queue is still an error.
SELECT dlq.create_queue('idle');
SELECT id AS idle_queue FROM dlq.queue WHERE name = 'idle' \gset
SELECT dlq.enqueue('idle', 'due') > 0 AS enqueued;
SELECT dlq.enqueue('idle', 'later', run_at => now() + interval '1 hour') > 0 AS enqueued;
SELECT kind, dlq.complete(job_id, 'w1') FROM dlq.claim('idle', 'w1');
SELECT (SELECT h.job_id FROM dlq._claim_hint(:idle_queue) AS h) IS NULL AS at_queue_start;
SELECT count(*) AS claimed FROM dlq.claim('idle', 'w1');
SELECT j.kind AS hint_at FROM dlq._claim_hint(:idle_queue) AS h JOIN dlq.job AS j ON j.id = h.job_id;
SELECT count(*) FROM dlq.claim('no-such-queue', 'w1');
\echo :LAST_ERROR_SQLSTATE

-- Off: claims read from the queue's start and leave the hint where it is.
SET dlq.claim_hints = off;
SELECT count(*) FROM dlq.enqueue_many('hint', '[{"kind": "x1"}, {"kind": "x2"}, {"kind": "x3"}]');
SELECT h.job_id AS before_off FROM dlq._claim_hint(:hint_queue) AS h \gset
SELECT kind FROM dlq.claim('hint', 'w7');
SELECT dlq.complete(j.id, 'w7') FROM dlq.job AS j WHERE j.kind = 'x1';
SELECT kind FROM dlq.claim('hint', 'w7');
SELECT h.job_id IS NOT DISTINCT FROM :'before_off'::bigint AS unchanged FROM dlq._claim_hint(:hint_queue) AS h;
RESET dlq.claim_hints;

-- A queue dropped and created again under the same name gets a new id: a claim through the name does
-- not use the old queue's hint (past a1..a3), which would pass over b1.
SELECT dlq.create_queue('again');
SELECT count(*) FROM dlq.enqueue_many('again', '[{"kind": "a1"}, {"kind": "a2"}, {"kind": "a3"}]');
SELECT dlq.complete(job_id, 'w8') FROM dlq.claim('again', 'w8');
SELECT dlq.complete(job_id, 'w8') FROM dlq.claim('again', 'w8');
SELECT dlq.complete(job_id, 'w8') FROM dlq.claim('again', 'w8');
-- (Plain jobs: the hint of the queue's plain lane, shown under its id negated.)
SELECT h.job_id IS NOT NULL AS hint_set FROM dlq._claim_hint(-(SELECT id FROM dlq.queue WHERE name = 'again')) AS h;
SELECT dlq.drop_queue('again');
SELECT dlq.create_queue('again');
SELECT dlq.enqueue('again', 'b1', run_at => '2000-01-01') > 0 AS enqueued;
SELECT kind FROM dlq.claim('again', 'w8');

-- A backend whose first API write fails: its writes outside the API still send the start back. (The
-- flag that tells the API's own writes apart was left set when the callbacks that reset it had not been
-- registered yet, and the INSERT by hand below left the hint past its job.)
SELECT kind FROM dlq.claim('hint', 'w6', 10);
SELECT h.job_id IS NOT NULL AS hint_set FROM dlq._claim_hint(:hint_queue) AS h;
\c
CREATE FUNCTION public.refuse_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'refused by a trigger'; END $$;
CREATE TRIGGER refuse_job BEFORE INSERT ON dlq.job FOR EACH ROW WHEN (NEW.kind = 'refused')
	EXECUTE FUNCTION public.refuse_job();
SELECT dlq.enqueue('hint', 'refused');
DROP TRIGGER refuse_job ON dlq.job;
DROP FUNCTION public.refuse_job();
INSERT INTO dlq.job (id, queue_id, kind, payload, run_at, max_attempts)
VALUES (dlq._new_job_id(:hint_queue, 0, '2013-01-01'), :hint_queue, 'by-hand-after-a-failure', '{}', '2013-01-01', 1);
SELECT h.job_id IS NULL AS hint_at_start FROM dlq._claim_hint(:hint_queue) AS h;
SELECT kind FROM dlq.claim('hint', 'w6');

-- A queue without a hint has no row, nor has a null id; the trigger function is only a trigger.
SELECT count(*) FROM dlq._claim_hint(0);
SELECT count(*) FROM dlq._claim_hint(NULL);
SELECT dlq._job_written();
\echo :LAST_ERROR_SQLSTATE
