-- The claim's plan reads a handful of index entries whatever the size of the queue: on a queue of
-- 20,000 due jobs (analyzed, so the planner knows it is big), a claim returns a few entries of the
-- primary key and of the claim index, never a scan of either (a plan that joined the picked jobs by
-- hashing the whole table read all 20,000). Counted in this backend's statistics, as the difference
-- across each call inside a transaction (statistics are not flushed inside one).
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
SELECT dlq.create_queue('big');
SELECT sum((SELECT count(*) FROM dlq.enqueue_many('big', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                              FROM generate_series(1, 10000)))))
  FROM generate_series(1, 2);
ANALYZE dlq.job;
CREATE FUNCTION pg_temp.index_entries_read() RETURNS TABLE (pkey bigint, claim bigint)
LANGUAGE sql AS $$
	SELECT pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass),
	       pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass)
$$;

BEGIN;
SELECT pkey AS pkey0, claim AS claim0 FROM pg_temp.index_entries_read() \gset
SELECT count(*) AS claimed FROM dlq.claim('big', 'w1');
SELECT pkey - :pkey0 <= 10 AS pkey_entries_few, claim - :claim0 <= 10 AS claim_entries_few
  FROM pg_temp.index_entries_read();
COMMIT;

BEGIN;
SELECT pkey AS pkey0, claim AS claim0 FROM pg_temp.index_entries_read() \gset
SELECT count(*) AS claimed FROM dlq.claim('big', 'w1', 100);
SELECT pkey - :pkey0 <= 200 AS pkey_entries_few, claim - :claim0 <= 200 AS claim_entries_few
  FROM pg_temp.index_entries_read();
COMMIT;

-- The same for a claim that takes nothing (a paused queue) and for failure reports: a retry, then a
-- dead letter.
SELECT dlq.pause_queue('big');
BEGIN;
SELECT pkey AS pkey0, claim AS claim0 FROM pg_temp.index_entries_read() \gset
SELECT count(*) AS claimed FROM dlq.claim('big', 'w2');
SELECT pkey - :pkey0 <= 10 AS pkey_entries_few, claim - :claim0 <= 10 AS claim_entries_few
  FROM pg_temp.index_entries_read();
COMMIT;
SELECT dlq.resume_queue('big');
SELECT dlq.enqueue('big', 'urgent', priority => -1) AS failing \gset
SELECT job_id = :failing AS claimed_urgent FROM dlq.claim('big', 'w2');
BEGIN;
SELECT pkey AS pkey0, claim AS claim0 FROM pg_temp.index_entries_read() \gset
SELECT dlq.fail(:failing, 'w2', 'boom', retry_in => '0');
SELECT pkey - :pkey0 <= 10 AS pkey_entries_few FROM pg_temp.index_entries_read();
COMMIT;
SELECT job_id = :failing AS claimed_urgent FROM dlq.claim('big', 'w2');
BEGIN;
SELECT pkey AS pkey0, claim AS claim0 FROM pg_temp.index_entries_read() \gset
SELECT dlq.fail(:failing, 'w2', 'boom', retryable => false);
SELECT pkey - :pkey0 <= 10 AS pkey_entries_few FROM pg_temp.index_entries_read();
COMMIT;
DROP EXTENSION dlq CASCADE;
