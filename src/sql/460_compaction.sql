-- Compaction of dlq.job: while a transaction horizon is held, vacuum cannot remove the row versions
-- that finished jobs leave behind, and dlq.job grows without bound (450_vacuum_horizon.sql). The
-- sweeper then compacts it once dlq.compact_dead_rows such rows have been added: the live jobs are
-- copied into new storage and the old is dropped, as TRUNCATE drops it (src/pg/job_compact.cpp).
-- Internal: only the sweeper calls it (and tests).

CREATE FUNCTION dlq._rewrite_job_table(max_live_rows integer, max_live_bytes bigint)
RETURNS bigint
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_rewrite_job_table';

-- Outcomes: compacted; busy (a transaction that has held a lock on dlq.job for a second or more, or a
-- prepared one, would make the wait long); lock_timeout (the lock was not granted within
-- lock_timeout_ms); too_many_live_rows (more than max_live_rows, or more than max_live_bytes); not_plain
-- (a user trigger, rule, publication or foreign key on dlq.job, which TRUNCATE and a copy would not
-- honour as the jobs' own writes did). Only compacted changes anything.
CREATE FUNCTION dlq._compact_jobs(
	max_live_rows integer,
	lock_timeout_ms integer DEFAULT 100,
	max_live_bytes bigint DEFAULT 64 * 1024 * 1024,
	OUT outcome text, OUT live_rows bigint, OUT dead_rows bigint, OUT bytes_before bigint, OUT bytes_after bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job CONSTANT regclass := 'dlq.job'::regclass;
	previous_lock_timeout text;
BEGIN
	IF max_live_rows IS NULL OR max_live_rows < 0 OR lock_timeout_ms IS NULL OR lock_timeout_ms < 1
	   OR max_live_bytes IS NULL OR max_live_bytes < 0 THEN
		RAISE EXCEPTION 'max_live_rows and max_live_bytes must be at least 0 and lock_timeout_ms at least 1'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('max_live_rows was %s, max_live_bytes %s, lock_timeout_ms %s.',
			                      coalesce(max_live_rows::text, 'null'), coalesce(max_live_bytes::text, 'null'),
			                      coalesce(lock_timeout_ms::text, 'null'));
	END IF;
	dead_rows := pg_stat_get_dead_tuples(job);
	bytes_before := pg_total_relation_size(job);
	IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = job AND NOT tgisinternal AND tgname <> 'job_written')
	   OR EXISTS (SELECT FROM pg_rewrite WHERE ev_class = job)
	   OR EXISTS (SELECT FROM pg_constraint WHERE confrelid = job)
	   OR EXISTS (SELECT FROM pg_publication_tables WHERE schemaname = 'dlq' AND tablename = 'job') THEN
		outcome := 'not_plain';
		RETURN;
	END IF;
	-- Waiting for the lock queues every worker behind it: worth it only for locks held briefly. A
	-- prepared transaction's lock has no pid. The activity is read afresh (a transaction caches it on
	-- first read), after the locks: a lock whose transaction has ended since has no xact_start, or a
	-- newer one.
	PERFORM pg_stat_clear_snapshot();
	IF EXISTS (SELECT FROM pg_locks AS l LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
	            WHERE l.locktype = 'relation' AND l.relation = job
	              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	              AND l.pid IS DISTINCT FROM pg_backend_pid()
	              AND (l.pid IS NULL OR a.xact_start < clock_timestamp() - interval '1 second')) THEN
		outcome := 'busy';
		RETURN;
	END IF;
	previous_lock_timeout := current_setting('lock_timeout');
	PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
	BEGIN
		LOCK TABLE dlq.job IN ACCESS EXCLUSIVE MODE;
	EXCEPTION WHEN lock_not_available THEN
		outcome := 'lock_timeout';
	END;
	PERFORM set_config('lock_timeout', previous_lock_timeout, true);
	IF outcome IS NOT NULL THEN
		RETURN;
	END IF;
	live_rows := dlq._rewrite_job_table(max_live_rows, max_live_bytes);
	IF live_rows < 0 THEN
		outcome := 'too_many_live_rows';
		live_rows := NULL;
		RETURN;
	END IF;
	outcome := 'compacted';
	bytes_after := pg_total_relation_size(job);
END
$$;
