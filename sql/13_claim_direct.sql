-- The claim runs without the executor (src/pg/job_claim.cpp): it reads the claim index and updates the
-- jobs it takes with a heap_update that does not wait. These cases reach what the other tests do not:
--  - a claimed job whose new version does not fit on its page (not a HOT update) gets entries in every
--    index: amcheck finds every heap tuple in them, the unique dedup index still sees the running job,
--    and complete finds the job by id;
--  - a payload stored out of line (TOAST) comes back whole;
--  - priorities are read lowest first, each one's due range only: future jobs end a priority's range
--    without being read, whatever their number;
--  - a read-only transaction cannot claim (SQLSTATE 25006).
-- (A REPEATABLE READ claim skipping jobs claimed after its snapshot: isolation spec claim_skip_locked.)
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
CREATE EXTENSION IF NOT EXISTS amcheck;

-- Updates of dlq.job by one claim, HOT or not (this backend's statistics, as the difference across the
-- call), and the jobs it returned.
CREATE FUNCTION pg_temp.claim_updates(queue text, batch integer, OUT claimed bigint, OUT kinds text,
                                      OUT hot bigint, OUT not_hot bigint, OUT claim_entries bigint)
LANGUAGE plpgsql AS $$
DECLARE
	updated0 bigint := pg_stat_get_xact_tuples_updated('dlq.job'::regclass);
	hot0 bigint := pg_stat_get_xact_tuples_hot_updated('dlq.job'::regclass);
	entries0 bigint := pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass);
BEGIN
	SELECT count(*), string_agg(c.kind, ' ' ORDER BY c.ord) INTO claimed, kinds
	  FROM dlq.claim(queue, 'w1', batch) WITH ORDINALITY
	       AS c(job_id, kind, payload, attempt, max_attempts, tenant, enqueued_at, lease_expires_at, ord);
	hot := pg_stat_get_xact_tuples_hot_updated('dlq.job'::regclass) - hot0;
	not_hot := pg_stat_get_xact_tuples_updated('dlq.job'::regclass) - updated0 - hot;
	claim_entries := pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass) - entries0;
END
$$;

-- Pages packed full (fillfactor 100, 8 jobs of about 1 kB per page): a claimed job's new version
-- (worker, lease and first attempt set) does not fit beside the old one on most pages.
SELECT dlq.create_queue('full');
ALTER TABLE dlq.job SET (fillfactor = 100);
SELECT count(*) FROM dlq.enqueue_many('full', (
	SELECT jsonb_agg(jsonb_build_object('kind', 'k', 'dedup_key', 'd' || n,
	                                    'payload', jsonb_build_object('pad', repeat(md5(n::text), 28))))
	  FROM generate_series(1, 40) AS n));
SELECT claimed, not_hot > 0 AS some_not_hot, hot + not_hot = claimed AS one_update_each
  FROM pg_temp.claim_updates('full', 40);
ALTER TABLE dlq.job RESET (fillfactor);
-- Every heap tuple (old and new versions) has its entries in every index.
SELECT bt_index_check('dlq.job_pkey', heapallindexed => true),
       bt_index_check('dlq.job_claim_idx', heapallindexed => true),
       bt_index_check('dlq.job_dedup_idx', heapallindexed => true);
-- The dedup index sees the running job: enqueueing its key again returns it.
SELECT dlq.enqueue('full', 'k', dedup_key => 'd7') = (SELECT id FROM dlq.job WHERE dedup_key = 'd7') AS same_job,
       (SELECT count(*) FROM dlq.job WHERE dedup_key = 'd7') AS jobs_with_key;
SELECT count(*) FILTER (WHERE worker = 'w1' AND attempt = 1 AND lease_expires_at IS NOT NULL) AS leased_to_w1
  FROM dlq.job;
-- Found by id (the primary key's new entries): every one completes, and nothing is left to claim.
SELECT count(*) FILTER (WHERE dlq.complete(id, 'w1')) AS completed FROM dlq.job;
SELECT count(*) AS left_over FROM dlq.claim('full', 'w1', 100);

-- A payload stored out of line comes back whole (about 40 kB after compression), even read after the
-- job was completed (and its out-of-line value deleted) in the same statement.
SELECT dlq.create_queue('big');
SELECT dlq.enqueue('big', 'k', jsonb_build_object('blob', string_agg(md5(n::text), '' ORDER BY n))) AS big_job
  FROM generate_series(1, 4000) AS n \gset
SELECT pg_relation_size(reltoastrelid) > 0 AS stored_out_of_line FROM pg_class WHERE oid = 'dlq.job'::regclass;
SELECT job_id = :big_job AS same_job, dlq.complete(job_id, 'w1') AS completed,
       md5(payload ->> 'blob') = (SELECT md5(string_agg(md5(n::text), '' ORDER BY n)) FROM generate_series(1, 4000) AS n)
           AS payload_intact
  FROM (SELECT * FROM dlq.claim('big', 'w1') OFFSET 0) AS c;

-- Priorities lowest first, each one's due range only. Priority -5 holds only future jobs, priority 0 two
-- due jobs and 1,000 future ones, priority 3 two due jobs: a claim of 10 takes the four due jobs in
-- (priority, run_at, id) order and reads a handful of claim-index entries, not the 1,002 future ones.
SELECT dlq.create_queue('prio');
SELECT count(*) FROM (
	SELECT dlq.enqueue('prio', 'later-5', priority => -5, run_at => now() + interval '1 hour') FROM generate_series(1, 2)
	UNION ALL
	SELECT dlq.enqueue('prio', 'later0', priority => 0, run_at => now() + interval '1 hour') FROM generate_series(1, 1000)
) AS jobs;
SELECT dlq.enqueue('prio', 'due3-b', priority => 3, run_at => now() - interval '1 minute');
SELECT dlq.enqueue('prio', 'due0-b', priority => 0, run_at => now() - interval '1 minute');
SELECT dlq.enqueue('prio', 'due3-a', priority => 3, run_at => now() - interval '2 minutes');
SELECT dlq.enqueue('prio', 'due0-a', priority => 0, run_at => now() - interval '2 minutes');
SELECT claimed, kinds, claim_entries <= 10 AS read_few FROM pg_temp.claim_updates('prio', 10);
SELECT count(*) AS left_over FROM dlq.claim('prio', 'w1', 10);

-- A read-only transaction cannot claim, as it could not update.
SELECT dlq.enqueue('prio', 'ro') IS NOT NULL AS enqueued;
BEGIN TRANSACTION READ ONLY;
SELECT * FROM dlq.claim('prio', 'w1');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT count(*) AS still_waiting FROM dlq.job WHERE kind = 'ro' AND lease_expires_at IS NULL;

DROP EXTENSION dlq CASCADE;
DROP EXTENSION amcheck;
