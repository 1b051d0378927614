-- Claim lanes (src/core/job_id.hpp). A job id carries its queue (top bits), whether the job was born
-- outside the plain lane (bit 44) and its number from dlq.job_id_seq (low 44 bits). Plain jobs (priority
-- 0, due when enqueued) are claimed through the primary key, in id order, and have no entry in the claim
-- index; the others (scheduled, prioritised, retried, rescued) through the claim index. A claim merges
-- the two in (priority, run_at, id) order.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS amcheck;
RESET client_min_messages;
CREATE EXTENSION dlq;
SELECT dlq.create_queue('lanes');
SELECT dlq.create_queue('other');
SELECT id AS qid FROM dlq.queue WHERE name = 'lanes' \gset

-- The claim index's entries of a queue, read by an index-only scan of it (its predicate is the
-- condition; the plan is shown once).
CREATE FUNCTION pg_temp.claim_index_entries(queue_id integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	SET LOCAL enable_seqscan = off;
	SET LOCAL enable_bitmapscan = off;
	SELECT count(*) INTO n FROM dlq.job AS j
	 WHERE j.queue_id = claim_index_entries.queue_id
	   AND (j.priority <> 0 OR j.run_at <> j.enqueued_at OR (j.id & 17592186044416) <> 0);
	RETURN n;
END
$$;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM dlq.job AS j
 WHERE j.queue_id = 1 AND (j.priority <> 0 OR j.run_at <> j.enqueued_at OR (j.id & 17592186044416) <> 0);
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Four jobs of 'lanes', one of 'other': what their ids carry.
SELECT dlq.enqueue('lanes', 'plain-1') AS plain_1 \gset
SELECT dlq.enqueue('lanes', 'overdue', run_at => now() - interval '1 hour') AS overdue \gset
SELECT dlq.enqueue('lanes', 'urgent', priority => -1) AS urgent \gset
SELECT dlq.enqueue('lanes', 'plain-2') AS plain_2 \gset
SELECT dlq.enqueue('other', 'elsewhere') AS elsewhere \gset
SELECT kind, id >> 45 = queue_id AS carries_queue, (id >> 44) & 1 AS scheduled_bit, id & 17592186044415 AS n
  FROM dlq.job ORDER BY n;
-- Only the two jobs born outside the plain lane have a claim index entry.
SELECT pg_temp.claim_index_entries(:qid) AS claim_index_entries;
-- Claim order across the lanes: the urgent job, the overdue one, then the plain jobs in id order.
SELECT kind FROM dlq.claim('lanes', 'w1', 10);
SELECT dlq.complete_many(ARRAY[:plain_2, :urgent, :overdue], 'w1');

-- A plain job that fails moves to the claim index (its retry time is set); its next claim finds it there.
SELECT dlq.fail(:plain_1, 'w1', 'boom', retry_in => '0');
SELECT pg_temp.claim_index_entries(:qid) AS claim_index_entries;
SELECT kind, attempt FROM dlq.claim('lanes', 'w1');
SELECT dlq.complete(:plain_1, 'w1');

-- Within priority 0 the lanes are merged by run_at: a job scheduled between two plain jobs comes
-- between them.
SELECT dlq.enqueue('lanes', 'first') AS first \gset
SELECT dlq.enqueue('lanes', 'between',
                   run_at => (SELECT enqueued_at FROM dlq.job WHERE id = :first) + interval '1 microsecond');
SELECT pg_sleep(0.01);
SELECT dlq.enqueue('lanes', 'last');
SELECT kind FROM dlq.claim('lanes', 'w2', 3);
-- The plain lane's claim hint (under the queue's id negated) moved past the jobs the claims saw.
SELECT h.job_id >= :first AS plain_hint_moved FROM dlq._claim_hint(-:qid) AS h;
SELECT count(*) AS completed FROM dlq.job AS j, LATERAL dlq.complete(j.id, 'w2') AS c WHERE j.queue_id = :qid AND c;

-- A long-running plain job does not make claims step over the jobs behind it: claims start at the first
-- waiting job they saw (past running ones), while the sweeps' start stays at the running job. Here 200
-- plain jobs fail during an outage and wait an hour in the claim index; their primary key entries lie
-- between the long job and the new jobs, and each is a row to fetch before it can be passed over.
SELECT dlq.create_queue('storm', lease => '1 hour');
SELECT dlq.enqueue('storm', 'long') AS long_job \gset
SELECT count(*) FROM dlq.enqueue_many('storm', (SELECT jsonb_agg(jsonb_build_object('kind', 'r'))
                                                  FROM generate_series(1, 200)));
SELECT kind FROM dlq.claim('storm', 'long-runner');
SELECT count(*) AS retrying FROM dlq.claim('storm', 'w', 200) AS c
 WHERE dlq.fail(c.job_id, 'w', 'outage', retry_in => '1 hour') = 'retrying';
CREATE FUNCTION pg_temp.pkey_entries_read(call text, OUT result text, OUT pkey bigint)
LANGUAGE plpgsql AS $$
DECLARE
	pkey0 bigint := pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass);
BEGIN
	EXECUTE call INTO result;
	pkey := pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass) - pkey0;
END
$$;
SELECT dlq.enqueue('storm', 'fresh-1') IS NOT NULL AS enqueued;
SELECT result, pkey >= 200 AS passed_the_retries FROM pg_temp.pkey_entries_read($$SELECT kind FROM dlq.claim('storm', 'w')$$);
SELECT dlq.enqueue('storm', 'fresh-2') IS NOT NULL AS enqueued;
SELECT result, pkey < 20 AS read_few FROM pg_temp.pkey_entries_read($$SELECT kind FROM dlq.claim('storm', 'w')$$);
SELECT result, pkey < 20 AS read_few FROM pg_temp.pkey_entries_read($$SELECT count(*) FROM dlq.claim('storm', 'w')$$);
-- A bounded sweep still finds the long job when its lease expires: it reads from the sweeps' key, at or
-- below the running job, not from where claims start. (The lease is shortened through a heartbeat: an
-- UPDATE of it by hand would send the next sweep to a full pass.)
SELECT count(*) > 0 AS swept FROM dlq.sweep();
SELECT dlq._sweeps_bounded() AS bounded;
SELECT dlq.heartbeat(:long_job, 'long-runner', lease => '1 millisecond');
SELECT pg_sleep(0.01);
SELECT dlq._sweeps_bounded() AS still_bounded;
SELECT outcome, count FROM dlq.sweep('storm') WHERE outcome = 'rescued';
SELECT attempt, lease_expires_at IS NULL AS waiting, last_error FROM dlq.job WHERE id = :long_job;

-- The queue's jobs are its range of ids, whoever writes them: a row whose id carries another queue is
-- refused.
\set VERBOSITY terse
INSERT INTO dlq.job (id, queue_id, kind, payload, run_at, max_attempts)
VALUES (:elsewhere + 1, :qid, 'forged', '{}', now(), 1);
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
SELECT queue, available FROM dlq.queue_stats ORDER BY queue;
-- The indexes hold exactly what their predicates say.
SELECT bt_index_check('dlq.job_pkey', heapallindexed => true),
       bt_index_check('dlq.job_claim_idx', heapallindexed => true);

-- Bounds: queue ids stop at 262,143 and job numbers at 2^44 - 1, so every id fits a bigint; the id
-- function refuses a queue id out of range.
SELECT seqrelid::regclass AS sequence, seqmax FROM pg_sequence
 WHERE seqrelid IN ('dlq.queue_id_seq'::regclass, 'dlq.job_id_seq'::regclass) ORDER BY 1;
SELECT dlq._new_job_id(0, 0, now());
\echo :LAST_ERROR_SQLSTATE
SELECT dlq._new_job_id(262144, 0, now());
\echo :LAST_ERROR_SQLSTATE
SELECT dlq._new_job_id(NULL, 0, now()) IS NULL AS strict;
-- A job number past the 44 bits (the sequence's maximum raised by hand) is refused, not folded into the
-- scheduled bit or the queue.
ALTER SEQUENCE dlq.job_id_seq MAXVALUE 17592186044416;
SELECT setval('dlq.job_id_seq', 17592186044415) > 0 AS set;
SELECT dlq.enqueue('other', 'too-far');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS too_far FROM dlq.job WHERE kind = 'too-far';
SELECT setval('dlq.job_id_seq', 1000) > 0 AS set_back;
ALTER SEQUENCE dlq.job_id_seq MAXVALUE 17592186044415;
-- Creating a queue whose name is taken draws no queue id (an application may call it at every start).
SELECT last_value AS queue_ids_before FROM dlq.queue_id_seq \gset
SELECT dlq.create_queue('lanes', if_not_exists => true);
SELECT dlq.create_queue('lanes');
\echo :LAST_ERROR_SQLSTATE
SELECT last_value = :queue_ids_before AS no_queue_id_drawn FROM dlq.queue_id_seq;
DROP EXTENSION dlq CASCADE;
DROP EXTENSION amcheck;
