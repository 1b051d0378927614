-- Dead letters: the reason registry, manual dead-lettering, review and audited replay.

CREATE FUNCTION dlq.register_reason(code text, label text, severity text DEFAULT 'terminal',
	description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM dlq._require_read_write('dlq.register_reason');
	IF code IS NULL THEN
		RAISE EXCEPTION 'code must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF label IS NULL THEN
		RAISE EXCEPTION 'label must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF severity IS NULL THEN
		RAISE EXCEPTION 'severity must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- Blank means only ASCII whitespace, as for every other name in the API.
	IF pg_catalog.btrim(label, E' \t\n\r\f\x0B') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'label must not be empty or blank' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM dlq._validate_reason(code, severity);
	INSERT INTO dlq.reason (code, label, severity, description)
	VALUES (code, label, severity, description);
EXCEPTION WHEN unique_violation THEN
	RAISE EXCEPTION 'reason "%" already exists', code USING ERRCODE = 'duplicate_object';
END
$$;
COMMENT ON FUNCTION dlq.register_reason(text, text, text, text) IS 'add a dead-letter reason code to the registry';

-- Raises undefined_object unless the reason code is registered.
CREATE FUNCTION dlq._check_reason(reason text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF reason IS NULL THEN
		RAISE EXCEPTION 'reason must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM dlq.reason AS r WHERE r.code OPERATOR(pg_catalog.=) reason) THEN
		RAISE EXCEPTION 'unknown dead-letter reason "%"', reason
			USING ERRCODE = 'undefined_object',
			      HINT = 'See SELECT code FROM dlq.reasons, or add it with dlq.register_reason().';
	END IF;
END
$$;

CREATE FUNCTION dlq.dead_letter(job_id bigint, reason text DEFAULT 'MANUAL', note text DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_bitmapscan = off
SET enable_seqscan = off
SET jit = off
AS 'MODULE_PATHNAME', 'dlq_dead_letter';
COMMENT ON FUNCTION dlq.dead_letter(bigint, text, text) IS
	'move a live job to the dead letters by hand; idempotent (returns the same dead letter id again)';

CREATE FUNCTION dlq.mark_reviewed(ids bigint[], notes text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_count integer;
BEGIN
	PERFORM dlq._require_read_write('dlq.mark_reviewed');
	IF ids IS NULL THEN
		RAISE EXCEPTION 'ids must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- Blank notes are no notes: appended, they would only add an empty line.
	IF pg_catalog.btrim(notes, E' \t\n\r\f\x0B') OPERATOR(pg_catalog.=) '' THEN
		notes := NULL;
	END IF;
	UPDATE dlq.dead_letter AS d
	   SET reviewed = true,
	       reviewed_at = pg_catalog.now(),
	       reviewed_by = session_user,
	       notes = CASE WHEN mark_reviewed.notes IS NULL THEN d.notes
	                    WHEN d.notes IS NULL THEN mark_reviewed.notes
	                    ELSE d.notes OPERATOR(pg_catalog.||) E'\n' OPERATOR(pg_catalog.||) mark_reviewed.notes END
	 WHERE d.id OPERATOR(pg_catalog.=) ANY (ids);
	GET DIAGNOSTICS v_count = ROW_COUNT;
	RETURN v_count;
END
$$;
COMMENT ON FUNCTION dlq.mark_reviewed(bigint[], text) IS
	'mark dead letters reviewed by the session user; notes are appended to earlier notes';

-- The one replay path (dlq.reprocess and dlq.reprocess_matching): recreates dead letters as new jobs,
-- marks them reviewed and replayed, and writes one audit row with its items. Returns the audit row.
CREATE FUNCTION dlq._replay(ids bigint[], justification text, run_at timestamptz, force boolean, context jsonb)
RETURNS dlq.replay
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids bigint[];
	v_eligible bigint[];
	v_requeued_dl bigint[] := '{}';
	v_requeued_job bigint[] := '{}';
	v_chunk_dl bigint[];
	v_chunk_job bigint[];
	v_replay dlq.replay;
	v_skips text;
	v_hint text;
	-- Dead letters requeued per statement, so a large replay does not build one huge statement.
	c_chunk constant integer := 1000;
BEGIN
	SELECT pg_catalog.array_agg(DISTINCT i ORDER BY i) INTO v_ids FROM pg_catalog.unnest(ids) AS i WHERE i IS NOT NULL;
	v_ids := coalesce(v_ids, '{}');

	-- Lock the dead letters in id order (no deadlock between concurrent replays). The eligibility
	-- check below is a new statement, so it sees a concurrent replay that committed while we waited.
	PERFORM 1 FROM dlq.dead_letter AS d WHERE d.id OPERATOR(pg_catalog.=) ANY (v_ids) ORDER BY d.id FOR UPDATE;

	-- Without force, a dead letter is replayed once. Its replay is then still a live job, or it finished
	-- (the work was done: a second replay would do it twice), or it died again as a later dead letter
	-- (replayed_from = this one), which carries the job on and is the one to replay (replaying both would
	-- make two live copies of one job).
	SELECT pg_catalog.array_agg(d.id ORDER BY d.id) INTO v_eligible
	  FROM dlq.dead_letter AS d
	 WHERE d.id OPERATOR(pg_catalog.=) ANY (v_ids)
	   AND (force OR d.last_replay_job_id IS NULL);
	v_eligible := coalesce(v_eligible, '{}');

	FOR i IN 1 .. pg_catalog.cardinality(v_eligible) BY c_chunk LOOP
		SELECT pg_catalog.array_agg(r.dead_letter_id ORDER BY r.dead_letter_id),
		       pg_catalog.array_agg(r.job_id ORDER BY r.dead_letter_id)
		  INTO v_chunk_dl, v_chunk_job
		  FROM dlq._requeue_dead_letters(v_eligible[i : i OPERATOR(pg_catalog.+) c_chunk OPERATOR(pg_catalog.-) 1],
		                                 run_at) AS r;
		v_requeued_dl := v_requeued_dl OPERATOR(pg_catalog.||) coalesce(v_chunk_dl, '{}');
		v_requeued_job := v_requeued_job OPERATOR(pg_catalog.||) coalesce(v_chunk_job, '{}');
	END LOOP;

	UPDATE dlq.dead_letter AS d
	   SET reviewed = true,
	       reviewed_at = coalesce(d.reviewed_at, pg_catalog.now()),
	       reviewed_by = coalesce(d.reviewed_by, session_user),
	       replay_count = d.replay_count OPERATOR(pg_catalog.+) 1,
	       last_replayed_at = pg_catalog.now(),
	       last_replay_job_id = r.job_id
	  FROM ROWS FROM (pg_catalog.unnest(v_requeued_dl), pg_catalog.unnest(v_requeued_job)) AS r (dead_letter_id, job_id)
	 WHERE d.id OPERATOR(pg_catalog.=) r.dead_letter_id;

	INSERT INTO dlq.replay (justification, requested_ids, job_ids, queues, kinds, requested, requeued, skipped, forced,
	                        context)
	SELECT justification, v_ids, v_requeued_job,
	       coalesce(pg_catalog.array_agg(DISTINCT d.queue ORDER BY d.queue), '{}'),
	       coalesce(pg_catalog.array_agg(DISTINCT d.kind ORDER BY d.kind), '{}'),
	       pg_catalog.cardinality(v_ids), pg_catalog.cardinality(v_requeued_job),
	       pg_catalog.cardinality(v_ids) OPERATOR(pg_catalog.-) pg_catalog.cardinality(v_requeued_job), force, context
	  FROM dlq.dead_letter AS d
	 WHERE d.id OPERATOR(pg_catalog.=) ANY (v_requeued_dl)
	RETURNING * INTO v_replay;

	INSERT INTO dlq.replay_item (replay_id, dead_letter_id, job_id, outcome)
	SELECT v_replay.id, i, r.job_id,
	       CASE WHEN r.job_id IS NOT NULL THEN 'requeued'
	            WHEN NOT EXISTS (SELECT 1 FROM dlq.dead_letter AS d WHERE d.id OPERATOR(pg_catalog.=) i)
	                 THEN 'skipped_missing'
	            WHEN i OPERATOR(pg_catalog.=) ANY (v_eligible) THEN 'skipped_no_queue'
	            WHEN EXISTS (SELECT 1 FROM dlq.job AS j, dlq.dead_letter AS d
	                          WHERE d.id OPERATOR(pg_catalog.=) i AND j.id OPERATOR(pg_catalog.=) d.last_replay_job_id)
	                 THEN 'skipped_live_replay'
	            WHEN EXISTS (SELECT 1 FROM dlq.dead_letter AS later WHERE later.replayed_from OPERATOR(pg_catalog.=) i)
	                 THEN 'skipped_superseded'
	            ELSE 'skipped_replayed' END
	  FROM pg_catalog.unnest(v_ids) AS i
	  LEFT JOIN ROWS FROM (pg_catalog.unnest(v_requeued_dl), pg_catalog.unnest(v_requeued_job)) AS r (dead_letter_id, job_id)
	         ON r.dead_letter_id OPERATOR(pg_catalog.=) i;

	-- Say why, so that a skip is never silent: each outcome with its count and first ids.
	IF v_replay.skipped OPERATOR(pg_catalog.>) 0 THEN
		SELECT pg_catalog.string_agg(pg_catalog.format('%s %s (%s%s)', s.n,
		           CASE s.outcome WHEN 'skipped_missing' THEN 'not found'
		                          WHEN 'skipped_no_queue' THEN 'whose queue no longer exists'
		                          WHEN 'skipped_live_replay' THEN 'with a replay still waiting or running'
		                          WHEN 'skipped_superseded' THEN 'superseded by the dead letter its replay became'
		                          ELSE 'already replayed' END,
		           pg_catalog.array_to_string(s.ids[1:5], ', '), CASE WHEN s.n OPERATOR(pg_catalog.>) 5 THEN ', ...' ELSE '' END),
		       '; ' ORDER BY s.outcome),
		       pg_catalog.concat_ws(' ',
		           CASE WHEN pg_catalog.bool_or(s.outcome OPERATOR(pg_catalog.=) 'skipped_missing')
		                THEN 'Find ids with dlq.search().' END,
		           CASE WHEN pg_catalog.bool_or(s.outcome OPERATOR(pg_catalog.=) 'skipped_no_queue')
		                THEN 'A dead letter is replayed into the queue of its name: create the queue again first.' END,
		           CASE WHEN pg_catalog.bool_or(s.outcome OPERATOR(pg_catalog.=) 'skipped_live_replay')
		                THEN 'A replay still waiting or running: dlq.replay_items shows how it ends.' END,
		           CASE WHEN pg_catalog.bool_or(s.outcome OPERATOR(pg_catalog.=) 'skipped_superseded')
		                THEN 'A superseded one: replay the dead letter its replay became (dlq.inspect(id) -> ''later'').' END,
		           CASE WHEN pg_catalog.bool_or(s.outcome OPERATOR(pg_catalog.=) 'skipped_replayed')
		                THEN 'An already replayed one whose replay finished: force => true replays it again.' END)
		  INTO v_skips, v_hint
		  FROM (SELECT i.outcome, pg_catalog.count(*) AS n, pg_catalog.array_agg(i.dead_letter_id ORDER BY i.dead_letter_id) AS ids
		          FROM dlq.replay_item AS i
		         WHERE i.replay_id OPERATOR(pg_catalog.=) v_replay.id AND i.outcome OPERATOR(pg_catalog.<>) 'requeued'
		         GROUP BY i.outcome) AS s;
		RAISE NOTICE 'skipped % of % dead letters: %', v_replay.skipped, v_replay.requested, v_skips USING HINT = v_hint;
	END IF;
	RETURN v_replay;
END
$$;

-- justification has a default only so that leaving it out gets its own message (22004), not "function
-- does not exist".
CREATE FUNCTION dlq.reprocess(ids bigint[], justification text DEFAULT NULL, run_at timestamptz DEFAULT now(),
	force boolean DEFAULT false)
RETURNS TABLE (replay_id bigint, requested integer, requeued integer, skipped integer, job_ids bigint[])
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_replay dlq.replay;
BEGIN
	PERFORM dlq._require_read_write('dlq.reprocess');
	IF justification IS NULL THEN
		RAISE EXCEPTION 'justification must not be null'
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'Say why these dead letters are replayed; it is kept in dlq.replays.';
	END IF;
	IF pg_catalog.btrim(justification, E' \t\n\r\f\x0B') OPERATOR(pg_catalog.=) '' THEN
		RAISE EXCEPTION 'justification must not be empty or blank'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Say why these dead letters are replayed; it is kept in dlq.replays.';
	END IF;
	IF ids IS NULL THEN
		RAISE EXCEPTION 'ids must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- NULL elements are ignored, so an array of nothing but NULLs is as empty as '{}'.
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(ids) AS i WHERE i IS NOT NULL) THEN
		RAISE EXCEPTION 'ids must not be empty' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Pass the ids of the dead letters to replay.';
	END IF;
	IF run_at IS NULL THEN
		RAISE EXCEPTION 'run_at must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT pg_catalog.isfinite(run_at) THEN
		RAISE EXCEPTION 'run_at must be a finite time' USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Leave it out to replay now.';
	END IF;
	IF force IS NULL THEN
		RAISE EXCEPTION 'force must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	v_replay := dlq._replay(ids, justification, run_at, force, NULL);
	RETURN QUERY SELECT v_replay.id, v_replay.requested, v_replay.requeued, v_replay.skipped, v_replay.job_ids;
END
$$;
COMMENT ON FUNCTION dlq.reprocess(bigint[], text, timestamptz, boolean) IS
	'replay dead letters as new jobs, with a required justification; every call is audited in dlq.replays';
