-- The claim reads a handful of index entries whatever the size of the queue: on a queue of
-- 20,000 due jobs (analyzed, so the planner knows it is big), a claim returns a few entries of the
-- primary key and of the claim index, never a scan of either (a plan that joined the picked jobs by
-- hashing the whole table read all 20,000). Counted in this backend's statistics, as the difference
-- across one call (statistics are not flushed inside a statement).
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
SELECT dlq.create_queue('big');
CREATE PROCEDURE pg_temp.enqueue_jobs(queue text, batches integer, run_at timestamptz DEFAULT now())
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..batches LOOP
		PERFORM count(*) FROM dlq.enqueue_many(queue, (SELECT jsonb_agg(jsonb_build_object('kind', 'k', 'run_at', run_at))
		                                                 FROM generate_series(1, 10000)));
	END LOOP;
END
$$;
CALL pg_temp.enqueue_jobs('big', 2);
SELECT count(*) FROM dlq.job;
ANALYZE dlq.job;

-- Runs one dlq call (a claim, or a failure report) and returns what it did with the index entries
-- it read from job_pkey and from the claim index (entries that met the scan's conditions), the
-- blocks of each it visited (a scan whose condition is on the index's last column alone returns
-- few entries but visits every block), and its sequential scans of dlq.job and the rows they returned.
CREATE FUNCTION pg_temp.entries_read(call text, OUT result text, OUT pkey bigint, OUT claim bigint,
                                     OUT claim_blocks bigint, OUT seq_scans bigint, OUT rows_read bigint,
                                     OUT pkey_blocks bigint)
LANGUAGE plpgsql AS $$
DECLARE
	pkey0 bigint := pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass);
	pkey_blocks0 bigint := pg_stat_get_xact_blocks_fetched('dlq.job_pkey'::regclass);
	claim0 bigint := pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass);
	blocks0 bigint := pg_stat_get_xact_blocks_fetched('dlq.job_claim_idx'::regclass);
	scans0 bigint := pg_stat_get_xact_numscans('dlq.job'::regclass);
	rows0 bigint := pg_stat_get_xact_tuples_returned('dlq.job'::regclass);
BEGIN
	EXECUTE call INTO result;
	pkey := pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass) - pkey0;
	pkey_blocks := pg_stat_get_xact_blocks_fetched('dlq.job_pkey'::regclass) - pkey_blocks0;
	claim := pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass) - claim0;
	claim_blocks := pg_stat_get_xact_blocks_fetched('dlq.job_claim_idx'::regclass) - blocks0;
	seq_scans := pg_stat_get_xact_numscans('dlq.job'::regclass) - scans0;
	rows_read := pg_stat_get_xact_tuples_returned('dlq.job'::regclass) - rows0;
END
$$;

SELECT result AS claimed, pkey <= 10 AS pkey_few, claim <= 10 AS claim_few
  FROM pg_temp.entries_read($$SELECT count(*) FROM dlq.claim('big', 'w1')$$);
SELECT result AS claimed, pkey <= 200 AS pkey_few, claim <= 200 AS claim_few
  FROM pg_temp.entries_read($$SELECT count(*) FROM dlq.claim('big', 'w1', 100)$$);

-- The same for claims that take nothing: from a queue whose jobs are all for later (the claim runs to
-- its end, then the probe), and from a paused queue (only the probe reads). Then failure reports: a
-- retry, then a dead letter.
SELECT dlq.create_queue('later');
SELECT count(*) FROM dlq.enqueue_many('later', (SELECT jsonb_agg(jsonb_build_object('kind', 'k',
                                                    'run_at', now() + interval '1 day')) FROM generate_series(1, 10)));
SELECT result AS claimed, pkey <= 10 AS pkey_few, claim <= 10 AS claim_few
  FROM pg_temp.entries_read($$SELECT count(*) FROM dlq.claim('later', 'w2')$$);
SELECT dlq.pause_queue('big');
SELECT result AS claimed, pkey <= 10 AS pkey_few, claim <= 10 AS claim_few
  FROM pg_temp.entries_read($$SELECT count(*) FROM dlq.claim('big', 'w2')$$);
SELECT dlq.resume_queue('big');
SELECT dlq.enqueue('big', 'urgent', priority => -1) AS failing \gset
SELECT job_id = :failing AS claimed_urgent FROM dlq.claim('big', 'w2');
SELECT result, pkey <= 10 AS pkey_few, claim <= 10 AS claim_few
  FROM pg_temp.entries_read(format($$SELECT dlq.fail(%s, 'w2', 'boom', retry_in => '0')$$, :failing));
SELECT job_id = :failing AS claimed_urgent FROM dlq.claim('big', 'w2');
SELECT result, pkey <= 10 AS pkey_few, claim <= 10 AS claim_few
  FROM pg_temp.entries_read(format($$SELECT dlq.fail(%s, 'w2', 'boom', retryable => false)$$, :failing));
DROP EXTENSION dlq CASCADE;

-- A drained queue, analyzed while empty: the statistics then say the table holds no row whatever its
-- size, and the planner costs a scan of the whole claim index (whose last column is id) like a primary
-- key probe. Lookups by id must still read the primary key only: the claim index serves statements
-- that constrain queue_id (its predicate), so a completion, a heartbeat or a failure report reads none of
-- its entries. (Before the predicate, each of them read the claim index from end to end.)
CREATE EXTENSION dlq;
SELECT dlq.create_queue('drained');
CALL pg_temp.enqueue_jobs('drained', 2);
DELETE FROM dlq.job;
ANALYZE dlq.job;
SELECT reltuples FROM pg_class WHERE oid = 'dlq.job'::regclass;
SELECT count(*) FROM dlq.enqueue_many('drained', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                    FROM generate_series(1, 5)));
-- The claim itself steps over the 20,000 deleted jobs' entries once, from the queue's start: they were
-- plain jobs, so these are entries of the primary key's plain range (a few dozen blocks), and it reads
-- none of the claim index's.
SELECT result, claim <= 10 AS claim_few, pkey_blocks < 200 AS pkey_blocks_few
  FROM pg_temp.entries_read($$SELECT array_agg(job_id ORDER BY job_id) FROM dlq.claim('drained', 'w3', 5)$$) \gset
SELECT :'claim_few' AS claim_few, :'pkey_blocks_few' AS pkey_blocks_few;
SELECT :'result' AS ids \gset
-- (A block or two of the claim index is read when a statement is planned, and when a retry inserts its
-- entry; a scan of it would visit every one of its blocks.)
SELECT result, pkey, claim, claim_blocks < 10 AS claim_blocks_few
  FROM pg_temp.entries_read(format($$SELECT dlq.complete(%s, 'w3')$$, (:'ids'::bigint[])[1]));
SELECT result, pkey, claim, claim_blocks < 10 AS claim_blocks_few
  FROM pg_temp.entries_read(format($$SELECT dlq.complete_many(%L, 'w3')$$, (:'ids'::bigint[])[2:3]));
SELECT result, pkey, claim, claim_blocks < 10 AS claim_blocks_few
  FROM pg_temp.entries_read(format($$SELECT dlq.heartbeat(%s, 'w3')$$, (:'ids'::bigint[])[4]));
SELECT result, pkey, claim, claim_blocks < 10 AS claim_blocks_few
  FROM pg_temp.entries_read(format($$SELECT dlq.fail(%s, 'w3', 'boom', retry_in => '1 hour')$$, (:'ids'::bigint[])[4]));
SELECT result, pkey, claim, claim_blocks < 10 AS claim_blocks_few
  FROM pg_temp.entries_read(format($$SELECT dlq.fail(%s, 'w3', 'boom', retryable => false)$$, (:'ids'::bigint[])[5]));
-- The sweep in the same state, with 20,000 jobs for tomorrow and two expired leases: the rescue probes
-- the primary key for those two only (joined to them, it read the whole table), the claim index is read
-- for the due range only (without its predicate, the lookups by id visited the whole index), and the
-- plain range of the primary key once (the deleted jobs' entries: a few dozen blocks).
CALL pg_temp.enqueue_jobs('drained', 2, now() + interval '1 day');
SELECT count(*) FROM dlq.enqueue_many('drained', '[{"kind": "k"}, {"kind": "k"}]');
SELECT count(*) FROM dlq.claim('drained', 'w3', 2, lease => '1 millisecond');
SELECT pg_sleep(0.05);
SELECT result, pkey_blocks < 200 AS pkey_blocks_few, claim_blocks < 200 AS claim_blocks_few
  FROM pg_temp.entries_read($$SELECT string_agg(outcome || ' ' || count, ', ' ORDER BY outcome) FROM dlq.sweep()$$);
DROP EXTENSION dlq CASCADE;

-- A queue vacuumed while empty: VACUUM truncates dlq.job to no page, and the statistics then say it is
-- empty for sure. The statements of heartbeat, complete and complete_many are planned in that state (the
-- extension was just created) and kept for the session; as jobs arrive they must still probe the primary
-- key, not scan the table (a kept sequential scan read every job on each completion).
CREATE EXTENSION dlq;
SELECT dlq.create_queue('vacuumed');
VACUUM dlq.job;
SELECT relpages, reltuples FROM pg_class WHERE oid = 'dlq.job'::regclass;
SELECT dlq.enqueue('vacuumed', 'k') AS first \gset
SELECT count(*) FROM dlq.claim('vacuumed', 'w4');
SELECT dlq.heartbeat(:first, 'w4'), dlq.complete(:first, 'w4'), dlq.complete_many(ARRAY[:first], 'w4');
SELECT count(*) FROM dlq.enqueue_many('vacuumed', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                     FROM generate_series(1, 2000)));
SELECT array_agg(job_id ORDER BY job_id) AS ids FROM dlq.claim('vacuumed', 'w4', 3) \gset
SELECT result, seq_scans, rows_read FROM pg_temp.entries_read(format($$SELECT dlq.heartbeat(%s, 'w4')$$, (:'ids'::bigint[])[1]));
SELECT result, seq_scans, rows_read FROM pg_temp.entries_read(format($$SELECT dlq.complete(%s, 'w4')$$, (:'ids'::bigint[])[1]));
SELECT result, seq_scans, rows_read
  FROM pg_temp.entries_read(format($$SELECT dlq.complete_many(%L, 'w4')$$, (:'ids'::bigint[])[2:3]));
DROP EXTENSION dlq CASCADE;
