-- The pages an enqueue leaves are pruned once their jobs are done and offered to later enqueues through
-- the free space map (src/pg/job_page_reuse.cpp), rather than the table growing until a vacuum. These
-- cases check:
--  - under enqueue → claim → complete in separate transactions, 3,000 jobs leave dlq.job within 40 pages
--    (20 when this was written; 143 without the reuse). Autovacuum is off for the table here, so only
--    the enqueue's reuse can reclaim anything;
--  - the same in batches of 20 (enqueue_many): 19 pages, 150 without the reuse;
--  - no job is lost or left behind, and the indexes still have an entry for every job (amcheck);
--  - a job a snapshot can still see is never pruned: test/isolation/specs/page_reuse.spec.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT dlq.create_queue('churn');
ALTER TABLE dlq.job SET (autovacuum_enabled = off);

-- One job per transaction: each enqueue, claim and complete commits on its own, as W1c's clients do.
CREATE PROCEDURE pg_temp.churn(jobs int, batch int) LANGUAGE plpgsql AS $$
DECLARE ids bigint[];
BEGIN
	FOR i IN 1 .. jobs / batch LOOP
		IF batch = 1 THEN
			PERFORM dlq.enqueue('churn', 'mail', jsonb_build_object('n', i, 'to', 'user@example.com'));
		ELSE
			PERFORM dlq.enqueue_many('churn', (SELECT jsonb_agg(jsonb_build_object('kind', 'mail',
			        'payload', jsonb_build_object('n', i * batch + k, 'to', 'user@example.com')))
			   FROM generate_series(1, batch) AS k));
		END IF;
		COMMIT;
		SELECT array_agg(job_id) INTO ids FROM dlq.claim('churn', 'w1', batch);
		COMMIT;
		PERFORM dlq.complete_many(ids, 'w1');
		COMMIT;
	END LOOP;
END $$;

CALL pg_temp.churn(3000, 1);
SELECT count(*) AS live_jobs, pg_relation_size('dlq.job') / current_setting('block_size')::int <= 40 AS at_most_40_pages
  FROM dlq.job;
CALL pg_temp.churn(3000, 20);
SELECT count(*) AS live_jobs, pg_relation_size('dlq.job') / current_setting('block_size')::int <= 40 AS at_most_40_pages
  FROM dlq.job;
SELECT bt_index_check('dlq.job_pkey', heapallindexed => true),
       bt_index_check('dlq.job_claim_idx', heapallindexed => true);

-- Every job was enqueued once and completed once.
SELECT last_value AS ids_used FROM dlq.job_id_seq;

ALTER TABLE dlq.job RESET (autovacuum_enabled);
DROP PROCEDURE pg_temp.churn(int, int);
