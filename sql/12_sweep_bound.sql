-- Bounded sweeps (src/core/sweep_bound.hpp): a full pass reads every due range of the claim index for
-- expired leases, and raises each queue's lease bounds to the highest running job it saw; claims raise
-- them to what they lease. Later sweeps read each priority only up to its bound, so a backlog of due
-- jobs waiting behind the running ones costs them nothing. A write outside the API sends the next sweep
-- back to a full pass; a lease set by hand is found by the next full pass (at least every
-- dlq.sweep_full_pass_interval). Index entries read (the claim index's and the primary key's: plain jobs
-- lie in the primary key's plain range of their queue, src/core/job_id.hpp) are counted in this
-- backend's statistics, as the difference across one call. The plain lane's lease bound is shown
-- under the queue's id negated.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
SHOW dlq.sweep_full_pass_interval;
SELECT dlq.create_queue('backlog', max_attempts => 5);
SELECT id AS queue_id FROM dlq.queue WHERE name = 'backlog' \gset
SELECT count(*) FROM dlq.enqueue_many('backlog', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                    FROM generate_series(1, 10000)));
SELECT count(*) FROM dlq.enqueue_many('backlog', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                    FROM generate_series(1, 10000)));
ANALYZE dlq.job;

CREATE FUNCTION pg_temp.sweep_read(queue text DEFAULT NULL, OUT outcomes text, OUT entries bigint,
                                   OUT blocks bigint)
LANGUAGE plpgsql AS $$
DECLARE
	entries0 bigint := pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass)
	                 + pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass);
	blocks0 bigint := pg_stat_get_xact_blocks_fetched('dlq.job_claim_idx'::regclass)
	                + pg_stat_get_xact_blocks_fetched('dlq.job_pkey'::regclass);
BEGIN
	SELECT string_agg(s.outcome || ' ' || s.count, ', ' ORDER BY s.outcome) INTO outcomes FROM dlq.sweep(queue) AS s;
	entries := pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass)
	         + pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass) - entries0;
	blocks := pg_stat_get_xact_blocks_fetched('dlq.job_claim_idx'::regclass)
	        + pg_stat_get_xact_blocks_fetched('dlq.job_pkey'::regclass) - blocks0;
END
$$;

-- Two jobs leased for 1 ms, 19,998 due jobs waiting behind them.
SELECT array_agg(job_id ORDER BY job_id) AS first_two FROM dlq.claim('backlog', 'w', 2, lease => '1 millisecond') \gset
SELECT pg_sleep(0.05);
-- A full pass (forced here; the first sweep after a start is one): it rescues both, and reads the whole
-- due range, as every sweep did before bounds.
SET dlq.sweep_full_pass_interval = 0;
SELECT outcomes, entries >= 19998 AS read_the_backlog FROM pg_temp.sweep_read();
RESET dlq.sweep_full_pass_interval;
SELECT dlq._sweeps_bounded() AS bounded;
-- The claim's bound: the second job it leased (the full pass saw no running job above it).
SELECT priority, job_id = (:'first_two'::bigint[])[2] AS second_claimed FROM dlq._lease_bounds(-:queue_id);

-- Two more leases; the bounded sweep rescues them reading a handful of entries (the rescued jobs'
-- moved entries and these two), not the backlog.
SELECT array_agg(job_id ORDER BY job_id) AS next_two FROM dlq.claim('backlog', 'w', 2, lease => '1 millisecond') \gset
SELECT job_id = (:'next_two'::bigint[])[2] AS bound_raised_by_claim FROM dlq._lease_bounds(-:queue_id);
SELECT pg_sleep(0.05);
SELECT outcomes, entries <= 10 AS read_few FROM pg_temp.sweep_read();
SELECT id, attempt, lease_expires_at IS NULL AS waiting, last_error FROM dlq.job
 WHERE id = ANY (:'next_two'::bigint[]) ORDER BY id;
-- Nothing expired: nothing read beyond the bound either.
SELECT outcomes, entries <= 10 AS read_few FROM pg_temp.sweep_read();

-- A job on its last attempt is dead-lettered by a bounded sweep as well.
SELECT dlq.create_queue('once', max_attempts => 1);
-- (Its id was an earlier file's queue's: creating it sends the next sweep to a full pass, this one.)
SELECT outcomes FROM pg_temp.sweep_read();
SELECT count(*) FROM dlq.enqueue_many('once', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                 FROM generate_series(1, 1000)));
SELECT count(*) FROM dlq.claim('once', 'w', 1, lease => '1 millisecond');
SELECT pg_sleep(0.05);
SELECT dlq._sweeps_bounded() AS bounded;
SELECT outcomes, entries <= 10 AS read_few FROM pg_temp.sweep_read();
SELECT reason, detected_by FROM dlq.dead_letter;

-- A lease set by hand on a waiting job above the bound: the UPDATE of lease_expires_at fires the job
-- table's trigger (a lease cleared by hand would make a running job waiting again behind the claims'
-- start), so the next sweep is a full pass, and finds it.
UPDATE dlq.job SET attempt = 1, worker = 'w', lease_expires_at = now() - interval '1 minute'
 WHERE id = (SELECT max(id) FROM dlq.job WHERE queue_id = :queue_id)
RETURNING id AS leased_by_hand \gset
SELECT dlq._sweeps_bounded() AS bounded;
SELECT outcomes, entries >= 19990 AS read_the_backlog FROM pg_temp.sweep_read();
SELECT lease_expires_at IS NULL AS rescued FROM dlq.job WHERE id = :leased_by_hand;

-- A running job written outside the API (an insert: the job table's trigger sees it). The next sweep
-- is a full pass again, and rescues it.
INSERT INTO dlq.job (id, queue_id, kind, payload, run_at, max_attempts, attempt, worker, lease_expires_at,
                     first_attempted_at)
VALUES (dlq._new_job_id(:queue_id, 0, now()), :queue_id, 'by hand', '{}', now(), 5, 1, 'w', now() - interval '1 minute', now()) RETURNING id AS by_hand \gset
SELECT dlq._sweeps_bounded() AS bounded;
-- A sweep of one queue reads only that queue, so it does not bound the database's sweeps.
SELECT * FROM dlq.sweep('once');
SELECT dlq._sweeps_bounded() AS bounded;
SELECT outcomes, entries >= 19990 AS read_the_backlog FROM pg_temp.sweep_read();
SELECT lease_expires_at IS NULL AS rescued FROM dlq.job WHERE id = :by_hand;
SELECT dlq._sweeps_bounded() AS bounded;
-- Bounds only rise (lowering one could miss a claim whose transaction is still open). Both jobs above
-- lay past the waiting backlog and were seen running by the full passes, so the bound now covers the
-- backlog: bounded sweeps read it, as every sweep did before bounds, until the server restarts. Claims
-- alone keep the bound at the claim front: they lease the lowest due jobs first.
SELECT job_id = :by_hand AS bound_at_the_job_by_hand FROM dlq._lease_bounds(-:queue_id);
SELECT outcomes, entries >= 19990 AS read_the_backlog FROM pg_temp.sweep_read();

-- The trigger also sees a job's id changed by hand (the id is part of the claim order).
UPDATE dlq.job SET id = id WHERE false;
SELECT dlq._sweeps_bounded() AS bounded;
SELECT outcomes FROM pg_temp.sweep_read();
SELECT dlq._sweeps_bounded() AS bounded;

-- A queue created again with an id used before (the extension dropped and created again) starts with
-- no hint and no bound of the old one, and the next sweep is a full pass (jobs of the old queue may
-- have outlived it).
DROP EXTENSION dlq CASCADE;
CREATE EXTENSION dlq;
SELECT dlq.create_queue('backlog');
SELECT id = :queue_id AS same_id FROM dlq.queue WHERE name = 'backlog';
SELECT count(*) AS priorities_bounded FROM dlq._lease_bounds(-:queue_id);
SELECT dlq._sweeps_bounded() AS bounded;
SELECT count(*) FROM dlq.enqueue_many('backlog', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                    FROM generate_series(1, 10000)));
SELECT count(*) FROM dlq.enqueue_many('backlog', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                    FROM generate_series(1, 10000)));
SELECT count(*) FROM dlq.claim('backlog', 'w', 2);
SELECT outcomes, entries >= 19998 AS read_the_backlog FROM pg_temp.sweep_read();
SELECT dlq._sweeps_bounded() AS bounded;

-- A queue's bound holds 16 priorities; one leased from more has no bound (until the server restarts):
-- each sweep reads it whole, and stays bounded for the other queues (the backlog is not read).
SELECT dlq.create_queue('many');
SELECT id AS many_id FROM dlq.queue WHERE name = 'many' \gset
SELECT outcomes FROM pg_temp.sweep_read(); -- a full pass: the id was 'once''s
SELECT count(*) FROM dlq.enqueue_many('many', (SELECT jsonb_agg(jsonb_build_object('kind', 'k', 'priority', p))
                                                 FROM generate_series(1, 17) AS p));
SELECT count(*) FROM dlq.claim('many', 'w', 16);
SELECT count(*) AS priorities_bounded FROM dlq._lease_bounds(:many_id);
SELECT count(*) FROM dlq.claim('many', 'w', 1, lease => '1 millisecond');
SELECT count(*) AS priorities_bounded FROM dlq._lease_bounds(:many_id);
SELECT dlq._sweeps_bounded() AS bounded;
SELECT pg_sleep(0.05);
SELECT outcomes, entries <= 100 AS read_few FROM pg_temp.sweep_read();
SELECT lease_expires_at IS NULL AS rescued FROM dlq.job WHERE queue_id = :many_id AND priority = 17;


-- A bounded sweep starts at the queue's claim hint: the entries of finished jobs at the head of the
-- claim order (deleted, not vacuumed yet; many while a snapshot is held) are not read. 10,000 jobs are
-- claimed and completed, 1,000 per transaction (each claim moves the hint past the jobs completed
-- before it), then two more are leased for 1 ms. Index blocks are counted, as the dead entries
-- are returned by no scan (killed) but still fill about 27 pages of the primary key (these are plain
-- jobs); the other queues' share of the two
-- sweeps compared is the same.
SELECT dlq.create_queue('head');
SELECT outcomes FROM pg_temp.sweep_read(); -- a full pass: the id was used before
-- No autovacuum here: it would remove the dead entries this compares reading and not reading.
ALTER TABLE dlq.job SET (autovacuum_enabled = false);
CREATE PROCEDURE pg_temp.claim_and_complete(queue text, rounds integer)
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..rounds LOOP
		PERFORM dlq.complete_many((SELECT array_agg(job_id) FROM dlq.claim(queue, 'w', 1000)), 'w');
		COMMIT;
	END LOOP;
END
$$;
SELECT count(*) FROM dlq.enqueue_many('head', (SELECT jsonb_agg(jsonb_build_object('kind', 'k'))
                                                 FROM generate_series(1, 10000)));
CALL pg_temp.claim_and_complete('head', 10);
SELECT count(*) FROM dlq.enqueue_many('head', '[{"kind": "k"}, {"kind": "k"}]');
SELECT count(*) FROM dlq.claim('head', 'w', 2, lease => '1 millisecond');
SELECT pg_sleep(0.05);
SELECT outcomes, blocks AS hint_blocks FROM pg_temp.sweep_read() \gset
SELECT :'outcomes' AS outcomes;
-- With dlq.claim_hints off (the advice when jobs may be written where no hook sees them), the sweep
-- does not trust the hint and steps over the dead entries from the queue's start.
SELECT count(*) FROM dlq.claim('head', 'w', 2, lease => '1 millisecond');
SELECT pg_sleep(0.05);
SET dlq.claim_hints = off;
SELECT outcomes, blocks AS start_blocks FROM pg_temp.sweep_read() \gset
RESET dlq.claim_hints;
SELECT :'outcomes' AS outcomes, :start_blocks - :hint_blocks >= 20 AS dead_head_read_only_without_hint;
-- A sweep of this queue alone reads no more: its search for retries past their recovery window goes
-- through the index of failed jobs (it used to read every claim-index entry of the queue).
SELECT outcomes, blocks < 20 AS few_blocks FROM pg_temp.sweep_read('head');

-- Bad input.
SET dlq.sweep_full_pass_interval = -1;
SET dlq.sweep_full_pass_interval = '8d';
SELECT * FROM dlq._lease_bounds(NULL);
-- _forget_queue: a null or unknown queue id changes nothing.
SELECT dlq._forget_queue(NULL), dlq._forget_queue(-1);
SELECT dlq._sweeps_bounded() AS still_bounded;
DROP EXTENSION dlq CASCADE;
