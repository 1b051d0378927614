-- Queue administration.

CREATE FUNCTION dlq.create_queue(
	queue text,
	max_attempts integer DEFAULT NULL,
	lease interval DEFAULT NULL,
	recovery_window interval DEFAULT NULL,
	backoff_base interval DEFAULT '10 seconds',
	backoff_max interval DEFAULT '1 hour',
	if_not_exists boolean DEFAULT false,
	retention interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_null text;
	v_id integer;
BEGIN
	PERFORM dlq._require_read_write('dlq.create_queue');
	IF queue IS NULL THEN
		RAISE EXCEPTION 'queue must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- Name the first NULL argument, so the caller knows which one to leave out.
	v_null := CASE WHEN backoff_base IS NULL THEN 'backoff_base' WHEN backoff_max IS NULL THEN 'backoff_max'
	               WHEN if_not_exists IS NULL THEN 'if_not_exists' END;
	IF v_null IS NOT NULL THEN
		RAISE EXCEPTION '% must not be null', v_null
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'Leave a setting out to get its default.';
	END IF;
	-- Settings left out take the server-wide defaults dlq.default_max_attempts, dlq.default_lease and
	-- dlq.default_recovery_window (5, 15 minutes and 1 hour unless configured).
	SELECT coalesce(create_queue.max_attempts, d.max_attempts), coalesce(create_queue.lease, d.lease),
	       coalesce(create_queue.recovery_window, d.recovery_window)
	  INTO max_attempts, lease, recovery_window
	  FROM dlq._queue_defaults() AS d;
	-- retention at most 100 years, as a lease or a recovery window (src/core/validation.hpp): the sweep
	-- computes now() - retention for every queue, and one out of the timestamp range would stop it for all.
	PERFORM dlq._validate_queue_settings(queue, max_attempts, lease, recovery_window, backoff_base, backoff_max,
	                                     retention);
	IF retention < interval '0' THEN
		RAISE EXCEPTION 'retention must not be negative' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Leave it out (or give 0) to keep reviewed dead letters until dlq.purge() removes them.';
	END IF;
	-- A name already taken is told before the insert, which would draw a queue id before its unique check
	-- failed: there are 262,143 (a job id carries its queue's), and an application that calls this with
	-- if_not_exists at every start would use them up. The handler below still covers a concurrent create.
	IF EXISTS (SELECT FROM dlq.queue AS q WHERE q.name OPERATOR(pg_catalog.=) create_queue.queue) THEN
		RAISE unique_violation;
	END IF;
	INSERT INTO dlq.queue (name, max_attempts, lease, recovery_window, backoff_base, backoff_max, retention)
	VALUES (queue, max_attempts, lease, recovery_window, backoff_base, backoff_max,
	        nullif(retention, interval '0'))
	RETURNING id INTO v_id;
	-- Its id may be an old one's (the extension dropped and created again): no hint or bound of that one.
	PERFORM dlq._forget_queue(v_id);
EXCEPTION WHEN unique_violation THEN
	IF if_not_exists THEN
		RAISE NOTICE 'queue "%" already exists, skipping', queue;
	ELSE
		RAISE EXCEPTION 'queue "%" already exists', queue
			USING ERRCODE = 'duplicate_object',
			      HINT = 'Use dlq.alter_queue() to change its settings, or pass if_not_exists => true.';
	END IF;
END
$$;
COMMENT ON FUNCTION dlq.create_queue(text, integer, interval, interval, interval, interval, boolean, interval) IS
	'create a queue with its retry, lease and recovery settings';

-- Looks a queue up by name; raises undefined_object when it does not exist.
CREATE FUNCTION dlq._queue_id(queue text, lock boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id integer;
BEGIN
	IF queue IS NULL THEN
		RAISE EXCEPTION 'queue must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- A blank or too long name is bad input, reported as dlq.enqueue() reports it, not as an unknown queue.
	PERFORM dlq._validate_queue_settings(queue, NULL, NULL, NULL, NULL, NULL);
	IF lock THEN
		SELECT q.id INTO v_id FROM dlq.queue AS q WHERE q.name OPERATOR(pg_catalog.=) queue FOR UPDATE;
	ELSE
		SELECT q.id INTO v_id FROM dlq.queue AS q WHERE q.name OPERATOR(pg_catalog.=) queue;
	END IF;
	IF v_id IS NULL THEN
		RAISE EXCEPTION 'queue "%" does not exist', queue
			USING ERRCODE = 'undefined_object', HINT = 'Create it with dlq.create_queue().';
	END IF;
	RETURN v_id;
END
$$;

CREATE FUNCTION dlq.alter_queue(
	queue text,
	max_attempts integer DEFAULT NULL,
	lease interval DEFAULT NULL,
	recovery_window interval DEFAULT NULL,
	backoff_base interval DEFAULT NULL,
	backoff_max interval DEFAULT NULL,
	retention interval DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id integer;
	v_old dlq.queue;
BEGIN
	PERFORM dlq._require_read_write('dlq.alter_queue');
	v_id := dlq._queue_id(queue, lock => true);
	SELECT * INTO v_old FROM dlq.queue AS q WHERE q.id OPERATOR(pg_catalog.=) v_id;
	-- Validate the settings as they will be, so base <= max holds whichever of them changed (retention:
	-- at most 100 years, as in create_queue).
	PERFORM dlq._validate_queue_settings(queue,
		coalesce(max_attempts, v_old.max_attempts), coalesce(lease, v_old.lease),
		coalesce(recovery_window, v_old.recovery_window), coalesce(backoff_base, v_old.backoff_base),
		coalesce(backoff_max, v_old.backoff_max), retention);
	IF retention < interval '0' THEN
		RAISE EXCEPTION 'retention must not be negative' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Give 0 to keep reviewed dead letters until dlq.purge() removes them.';
	END IF;
	UPDATE dlq.queue AS q
	   SET max_attempts = coalesce(alter_queue.max_attempts, q.max_attempts),
	       lease = coalesce(alter_queue.lease, q.lease),
	       recovery_window = coalesce(alter_queue.recovery_window, q.recovery_window),
	       backoff_base = coalesce(alter_queue.backoff_base, q.backoff_base),
	       backoff_max = coalesce(alter_queue.backoff_max, q.backoff_max),
	       retention = CASE WHEN alter_queue.retention IS NULL THEN q.retention
	                        ELSE nullif(alter_queue.retention, interval '0') END
	 WHERE q.id OPERATOR(pg_catalog.=) v_id;
END
$$;
COMMENT ON FUNCTION dlq.alter_queue(text, integer, interval, interval, interval, interval, interval) IS
	'change queue settings; a NULL (omitted) setting is left unchanged';

CREATE FUNCTION dlq.pause_queue(queue text)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT dlq._require_read_write('dlq.pause_queue');
	UPDATE dlq.queue SET paused = true WHERE id OPERATOR(pg_catalog.=) dlq._queue_id(pause_queue.queue, true);
END;
COMMENT ON FUNCTION dlq.pause_queue(text) IS 'stop claims from a queue (enqueue still works)';

CREATE FUNCTION dlq.resume_queue(queue text)
RETURNS void
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	SELECT dlq._require_read_write('dlq.resume_queue');
	UPDATE dlq.queue SET paused = false WHERE id OPERATOR(pg_catalog.=) dlq._queue_id(resume_queue.queue, true);
END;
COMMENT ON FUNCTION dlq.resume_queue(text) IS 'let workers claim from a paused queue again';

CREATE FUNCTION dlq.drop_queue(queue text, force boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_id integer;
	v_jobs bigint;
	v_dead bigint;
	v_deleted bigint;
	v_lock_timeout text;
BEGIN
	PERFORM dlq._require_read_write('dlq.drop_queue');
	v_id := dlq._queue_id(queue, lock => true);
	IF force IS NULL THEN
		RAISE EXCEPTION 'force must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- Enqueues, replays and dead-letter moves read the queue's row without locking it (a lock per job
	-- would cost the hot path WAL), so its row lock stops none of them. This lock waits for the
	-- transactions writing dlq.job to end and holds new ones until this one does: the counts below (new
	-- statements, new snapshots) see the jobs of the first, and the second find the queue gone (an
	-- enqueue reads it after taking its own lock on dlq.job). Otherwise a job enqueued meanwhile would
	-- outlive its queue, never claimed, swept or counted (isolation drop_queue_race).
	-- Only in READ COMMITTED: a transaction snapshot would predate the writers waited for.
	IF pg_catalog.current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
		RAISE EXCEPTION 'dlq.drop_queue() must run in a READ COMMITTED transaction'
			USING ERRCODE = 'feature_not_supported',
			      HINT = 'Its transaction must see the jobs written by the transactions it waits for.';
	END IF;
	-- dlq.dead_letter first, as the dead-letter path takes them (a partition made, then a job moved);
	-- SHARE ROW EXCLUSIVE conflicts with itself, so two drops wait for each other rather than deadlock.
	-- Writers of every queue wait behind it: bounded, like compaction's lock.
	BEGIN
		-- For these two statements only (an error undoes it with the block).
		v_lock_timeout := pg_catalog.current_setting('lock_timeout');
		PERFORM pg_catalog.set_config('lock_timeout', '10s', true);
		LOCK TABLE dlq.dead_letter IN ACCESS SHARE MODE;
		LOCK TABLE dlq.job IN SHARE ROW EXCLUSIVE MODE;
		PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
	EXCEPTION WHEN lock_not_available THEN
		RAISE EXCEPTION 'could not lock dlq.job to drop queue "%" within 10 seconds', queue
			USING ERRCODE = 'lock_not_available',
			      DETAIL = 'A queue is dropped once no transaction that wrote jobs (of any queue) is open.',
			      HINT = 'Look for a long transaction in pg_stat_activity or a prepared one in pg_prepared_xacts, then retry.';
	END;
	-- A queue's jobs are its range of ids (job_id_carries_queue), read through the primary key.
	SELECT count(*) INTO v_jobs FROM dlq.job AS j
	 WHERE j.id OPERATOR(pg_catalog.>=) (v_id::bigint OPERATOR(pg_catalog.<<) 45)
	   AND j.id OPERATOR(pg_catalog.<=) ((v_id::bigint OPERATOR(pg_catalog.<<) 45) OPERATOR(pg_catalog.+) 35184372088831);
	SELECT count(*) INTO v_dead FROM dlq.dead_letter AS d WHERE d.queue OPERATOR(pg_catalog.=) drop_queue.queue;
	IF (v_jobs OPERATOR(pg_catalog.>) 0 OR v_dead OPERATOR(pg_catalog.>) 0) AND NOT force THEN
		RAISE EXCEPTION 'queue "%" is not empty', queue
			USING ERRCODE = 'object_not_in_prerequisite_state',
			      DETAIL = pg_catalog.format('It has %s live %s and %s dead %s.',
			                                 v_jobs, CASE WHEN v_jobs OPERATOR(pg_catalog.=) 1 THEN 'job' ELSE 'jobs' END,
			                                 v_dead, CASE WHEN v_dead OPERATOR(pg_catalog.=) 1 THEN 'letter' ELSE 'letters' END),
			      HINT = 'Drain or dead-letter them first, or pass force => true to delete the live jobs '
			             'and keep the dead letters.';
	END IF;
	-- A replay whose job this deletes before it was ever claimed never ran: its dead letter is as if never
	-- replayed, and a replay into a queue of that name created again takes it (it would be skipped as
	-- already replayed). One that was claimed may have done its work: it stays replayed (force replays it).
	UPDATE dlq.dead_letter AS d SET last_replay_job_id = NULL
	  FROM dlq.job AS j
	 WHERE j.id OPERATOR(pg_catalog.>=) (v_id::bigint OPERATOR(pg_catalog.<<) 45)
	   AND j.id OPERATOR(pg_catalog.<=) ((v_id::bigint OPERATOR(pg_catalog.<<) 45) OPERATOR(pg_catalog.+) 35184372088831)
	   AND j.replayed_from IS NOT NULL
	   AND j.attempt OPERATOR(pg_catalog.=) 0
	   AND d.id OPERATOR(pg_catalog.=) j.replayed_from AND d.last_replay_job_id OPERATOR(pg_catalog.=) j.id;
	v_deleted := dlq._delete_queue_jobs(v_id);
	DELETE FROM dlq.queue AS q WHERE q.id OPERATOR(pg_catalog.=) v_id;
	IF v_deleted OPERATOR(pg_catalog.>) 0 THEN
		RAISE NOTICE 'deleted % live % of queue "%"', v_deleted,
			CASE WHEN v_deleted OPERATOR(pg_catalog.=) 1 THEN 'job' ELSE 'jobs' END, queue;
	END IF;
END
$$;
COMMENT ON FUNCTION dlq.drop_queue(text, boolean) IS
	'drop a queue; refuses while it has live jobs or dead letters unless forced (dead letters are kept)';
