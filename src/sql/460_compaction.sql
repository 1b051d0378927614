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

-- Whether dlq.job has something a TRUNCATE and a copy would not honour as the jobs' own writes did: a
-- user trigger, a rule, a foreign key pointing at it, a publication, a parent or child table.
CREATE FUNCTION dlq._job_table_not_plain()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = 'dlq.job'::regclass AND NOT tgisinternal AND tgname <> 'job_written')
	    OR EXISTS (SELECT FROM pg_rewrite WHERE ev_class = 'dlq.job'::regclass)
	    OR EXISTS (SELECT FROM pg_constraint WHERE confrelid = 'dlq.job'::regclass)
	    OR EXISTS (SELECT FROM pg_inherits WHERE inhparent = 'dlq.job'::regclass OR inhrelid = 'dlq.job'::regclass)
	    OR EXISTS (SELECT FROM pg_publication_tables WHERE schemaname = 'dlq' AND tablename = 'job')
$$;

-- Outcomes: compacted; busy (a transaction that has held a lock on dlq.job, one of its indexes or its
-- TOAST table for busy_after_ms or more, or a prepared one, would make the wait long); lock_timeout
-- (the locks were not granted within lock_timeout_ms); too_many_live_rows (more than max_live_rows,
-- or more than max_live_bytes); not_plain (dlq._job_table_not_plain(), checked again once locked).
-- Only compacted changes anything. locked_ms: from the lock on dlq.job to the end of the copy (the
-- lock lasts until the caller's transaction ends).
CREATE FUNCTION dlq._compact_jobs(
	max_live_rows integer,
	lock_timeout_ms integer DEFAULT 100,
	max_live_bytes bigint DEFAULT 64 * 1024 * 1024,
	busy_after_ms integer DEFAULT 1000,
	OUT outcome text, OUT live_rows bigint, OUT dead_rows bigint, OUT bytes_before bigint, OUT bytes_after bigint,
	OUT locked_ms double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	job CONSTANT regclass := 'dlq.job'::regclass;
	relations oid[];
	previous_lock_timeout text;
	locked_at timestamptz;
BEGIN
	IF max_live_rows IS NULL OR max_live_rows < 0 OR lock_timeout_ms IS NULL OR lock_timeout_ms < 1
	   OR max_live_bytes IS NULL OR max_live_bytes < 0 OR busy_after_ms IS NULL OR busy_after_ms < 0 THEN
		RAISE EXCEPTION 'max_live_rows, max_live_bytes and busy_after_ms must be at least 0 and lock_timeout_ms at least 1'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('max_live_rows was %s, max_live_bytes %s, busy_after_ms %s, lock_timeout_ms %s.',
			                      coalesce(max_live_rows::text, 'null'), coalesce(max_live_bytes::text, 'null'),
			                      coalesce(busy_after_ms::text, 'null'), coalesce(lock_timeout_ms::text, 'null'));
	END IF;
	dead_rows := pg_stat_get_dead_tuples(job);
	bytes_before := pg_total_relation_size(job);
	IF dlq._job_table_not_plain() THEN
		outcome := 'not_plain';
		RETURN;
	END IF;
	-- TRUNCATE locks the table, its indexes, its TOAST table and that table's index.
	relations := ARRAY(SELECT job::oid
	                   UNION ALL SELECT indexrelid FROM pg_index WHERE indrelid = job
	                   UNION ALL SELECT reltoastrelid FROM pg_class WHERE oid = job AND reltoastrelid <> 0
	                   UNION ALL SELECT i.indexrelid FROM pg_class AS c JOIN pg_index AS i ON i.indrelid = c.reltoastrelid
	                              WHERE c.oid = job);
	-- Waiting for the lock queues every worker behind it: worth it only for locks held briefly. A
	-- prepared transaction's lock has no pid. An autovacuum removes nothing while the horizon is held
	-- and is cancelled below, unless it prevents wraparound (which nothing cancels). The activity is read
	-- afresh (a transaction caches it on first read), after the locks: a lock whose transaction has
	-- ended since has no xact_start, or a newer one.
	PERFORM pg_stat_clear_snapshot();
	IF EXISTS (SELECT FROM pg_locks AS l LEFT JOIN pg_stat_activity AS a ON a.pid = l.pid
	            WHERE l.locktype = 'relation' AND l.relation = ANY (relations)
	              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	              AND l.pid IS DISTINCT FROM pg_backend_pid()
	              AND (a.backend_type = 'autovacuum worker' AND a.query LIKE 'autovacuum: %'
	                   AND a.query NOT LIKE '%to prevent wraparound%') IS NOT TRUE
	              AND (l.pid IS NULL
	                   OR a.xact_start < clock_timestamp() - busy_after_ms * interval '1 millisecond')) THEN
		outcome := 'busy';
		RETURN;
	END IF;
	-- A lock request would cancel such an autovacuum too, but only after deadlock_timeout, with every
	-- worker queued behind the request meanwhile.
	PERFORM pg_stat_clear_snapshot();
	PERFORM pg_cancel_backend(a.pid)
	   FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
	  WHERE l.locktype = 'relation' AND l.relation = ANY (relations) AND l.database = a.datid
	    AND a.datname = current_database() AND a.backend_type = 'autovacuum worker'
	    AND a.query LIKE 'autovacuum: %' AND a.query NOT LIKE '%to prevent wraparound%';
	-- lock_timeout bounds the wait for every lock taken here, TRUNCATE's included.
	previous_lock_timeout := current_setting('lock_timeout');
	PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
	BEGIN
		LOCK TABLE dlq.job IN ACCESS EXCLUSIVE MODE;
		locked_at := clock_timestamp();
		-- Again under the lock: a trigger or a foreign key may have come since the first look.
		IF dlq._job_table_not_plain() THEN
			outcome := 'not_plain';
		ELSE
			live_rows := dlq._rewrite_job_table(max_live_rows, max_live_bytes);
			locked_ms := extract(epoch FROM clock_timestamp() - locked_at) * 1000;
		END IF;
	EXCEPTION WHEN lock_not_available THEN
		outcome := 'lock_timeout';
	END;
	PERFORM set_config('lock_timeout', previous_lock_timeout, true);
	IF outcome IS NOT NULL THEN
		RETURN;
	END IF;
	IF live_rows < 0 THEN
		outcome := 'too_many_live_rows';
		live_rows := NULL;
		RETURN;
	END IF;
	outcome := 'compacted';
	bytes_after := pg_total_relation_size(job);
END
$$;
