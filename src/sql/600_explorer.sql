-- Operator explorer: partitions and retention of the dead letters, search, patterns, inspect, and
-- filtered bulk review and replay. Every query takes a time range, which prunes partitions first.

-- The partition of dlq.dead_letter holding `at`, created when missing; returns its upper bound.
-- Boundaries are in UTC, sized by dlq.dead_letter_partition (day, week or month), and clipped to
-- neighbouring partitions when the granularity was changed.
-- DateStyle ISO: the bounds are written into the CREATE TABLE as text, and only ISO output carries a
-- numeric UTC offset. Other styles name the zone by an abbreviation that may read back as another zone
-- (CST: China or US Central), which would misplace the partition (regress 08_explorer).
CREATE FUNCTION dlq._ensure_dead_letter_partition(at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
	v_unit text := coalesce(nullif(current_setting('dlq.dead_letter_partition', true), ''), 'day');
	v_from timestamptz;
	v_to timestamptz;
	v_name text;
BEGIN
	SELECT p.range_to INTO v_to FROM dlq.dead_letter_partition AS p WHERE at >= p.range_from AND at < p.range_to;
	IF FOUND THEN
		RETURN v_to;
	END IF;
	-- Serialise creators; the winner's partition is visible to the others once they get the lock.
	PERFORM pg_catalog.pg_advisory_xact_lock(7283941, 1);
	SELECT p.range_to INTO v_to FROM dlq.dead_letter_partition AS p WHERE at >= p.range_from AND at < p.range_to;
	IF FOUND THEN
		RETURN v_to;
	END IF;
	v_from := pg_catalog.date_trunc(v_unit, at, 'UTC');
	-- Added in UTC: timestamptz + interval would count days and months in the session's time zone,
	-- making a day 23 or 25 hours long across a daylight saving change and a month end on the wrong day.
	v_to := ((v_from AT TIME ZONE 'UTC') + pg_catalog.concat('1 ', v_unit)::interval) AT TIME ZONE 'UTC';
	v_from := greatest(v_from, (SELECT max(p.range_to) FROM dlq.dead_letter_partition AS p
	                             WHERE p.range_to > v_from AND p.range_to <= at));
	v_to := least(v_to, (SELECT min(p.range_from) FROM dlq.dead_letter_partition AS p
	                      WHERE p.range_from > at AND p.range_from < v_to));
	v_name := 'dead_letter_' || pg_catalog.to_char(v_from AT TIME ZONE 'UTC', 'YYYYMMDD"_"HH24MI');
	-- The catalogs are read with a fresh snapshot: a partition committed by the creator we waited for
	-- is seen even by a REPEATABLE READ transaction, whose snapshot predates it.
	IF pg_catalog.to_regclass(pg_catalog.format('dlq.%I', v_name)) IS NOT NULL THEN
		RETURN v_to;
	END IF;
	EXECUTE pg_catalog.format('CREATE TABLE dlq.%I PARTITION OF dlq.dead_letter FOR VALUES FROM (%L) TO (%L)',
	                          v_name, v_from, v_to);
	-- Keys, indexes and the reason FK belong to each partition, not to the extension-owned parent:
	-- pg_dump then restores a partition with its own indexes after the data (and after dlq.reason's),
	-- and ATTACH PARTITION creates nothing that the dump creates again.
	EXECUTE pg_catalog.format('ALTER TABLE dlq.%1$I ADD PRIMARY KEY (id);'
		'ALTER TABLE dlq.%1$I ADD FOREIGN KEY (reason) REFERENCES dlq.reason (code);'
		'CREATE INDEX ON dlq.%1$I (job_id);'
		'CREATE INDEX ON dlq.%1$I (dead_lettered_at);'
		'CREATE INDEX ON dlq.%1$I (queue, kind text_pattern_ops, dead_lettered_at);'
		'CREATE INDEX ON dlq.%1$I (queue, kind, reason, fingerprint);'
		'CREATE INDEX ON dlq.%1$I (queue) WHERE NOT reviewed;'
		'CREATE INDEX ON dlq.%1$I (replayed_from) WHERE replayed_from IS NOT NULL;', v_name);
	INSERT INTO dlq.dead_letter_partition (name, range_from, range_to) VALUES (v_name, v_from, v_to);
	RETURN v_to;
END
$$;

-- Housekeeping run by every sweep: partitions for the coming week, and per-queue retention of
-- reviewed dead letters (unreviewed ones are never dropped by retention). Returns rows removed.
-- Creating or dropping a partition takes an ACCESS EXCLUSIVE lock on dlq.dead_letter, and while it waits
-- for one, every dead-lettering (fail, the sweep) and every read of the dead letters queues behind it: a
-- pg_dump or a session idle in a transaction that read them would stop all dead-lettering. So this work
-- waits at most 100 ms for its locks, and what it could not do is done by a later sweep (the partitions
-- are made a week ahead; a warning comes only when the one still missing starts within a day).
CREATE FUNCTION dlq._maintain_dead_letters()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_at timestamptz := pg_catalog.now();
	v_removed bigint := 0;
	v_count bigint;
	v_empty boolean;
	v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
	q record;
	p record;
BEGIN
	PERFORM pg_catalog.set_config('lock_timeout', '100ms', true);
	WHILE v_at < pg_catalog.now() + interval '7 days' LOOP
		BEGIN
			v_at := dlq._ensure_dead_letter_partition(v_at);
		EXCEPTION WHEN lock_not_available THEN
			IF v_at < pg_catalog.now() + interval '1 day' THEN
				RAISE WARNING 'dlq: could not create the dead letters'' partition for %: dlq.dead_letter stays locked',
					v_at
					USING HINT = 'A later sweep tries again. SELECT * FROM pg_locks WHERE relation = ''dlq.dead_letter''::regclass shows who holds it.';
			END IF;
			EXIT;
		END;
	END LOOP;
	FOR q IN SELECT x.name, x.retention FROM dlq.queue AS x WHERE x.retention IS NOT NULL LOOP
		BEGIN
			DELETE FROM dlq.dead_letter AS d
			 WHERE d.queue = q.name AND d.reviewed AND d.dead_lettered_at < pg_catalog.now() - q.retention;
			GET DIAGNOSTICS v_count = ROW_COUNT;
			v_removed := v_removed + v_count;
		EXCEPTION WHEN lock_not_available THEN
			NULL; -- a dead letter of this queue is locked (being reviewed or replayed): a later sweep
		END;
	END LOOP;
	-- Partitions in the past that retention emptied are dropped whole, leaving no dead tuples.
	IF v_removed > 0 THEN
		FOR p IN SELECT x.name FROM dlq.dead_letter_partition AS x WHERE x.range_to <= pg_catalog.now() LOOP
			BEGIN
				EXECUTE pg_catalog.format('SELECT NOT EXISTS (SELECT 1 FROM dlq.%I)', p.name) INTO v_empty;
				IF v_empty THEN
					EXECUTE pg_catalog.format('DROP TABLE dlq.%I', p.name);
					DELETE FROM dlq.dead_letter_partition AS x WHERE x.name = p.name;
				END IF;
			EXCEPTION WHEN lock_not_available THEN
				NULL; -- empty, it can wait for a later sweep
			END;
		END LOOP;
	END IF;
	PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
	RETURN v_removed;
END
$$;

CREATE FUNCTION dlq.purge(older_than interval, include_unreviewed boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_cutoff timestamptz;
	v_removed bigint := 0;
	v_count bigint;
	v_blocked boolean;
	v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
	p record;
BEGIN
	PERFORM dlq._require_read_write('dlq.purge');
	IF older_than IS NULL OR include_unreviewed IS NULL THEN
		RAISE EXCEPTION 'older_than and include_unreviewed must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF older_than < interval '0' THEN
		RAISE EXCEPTION 'older_than must not be negative' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Nothing is older than the timestamp range: a cutoff beyond it (older_than of a million years) is
	-- -infinity, and removes nothing, rather than failing.
	v_cutoff := CASE WHEN older_than > interval '1000 years' THEN '-infinity'::timestamptz
	                 ELSE pg_catalog.now() - older_than END;
	-- Whole partitions first: dropping is cheap and leaves no dead tuples behind. A drop takes an ACCESS
	-- EXCLUSIVE lock on dlq.dead_letter, and every dead-lettering queues behind a request for it: behind a
	-- reader (pg_dump, a session idle in a transaction) a purge would stop all of them. So a drop waits at
	-- most 100 ms; a partition it could not drop is emptied by the DELETE below instead.
	PERFORM pg_catalog.set_config('lock_timeout', '100ms', true);
	FOR p IN SELECT x.name FROM dlq.dead_letter_partition AS x WHERE x.range_to <= v_cutoff ORDER BY x.range_from LOOP
		EXECUTE pg_catalog.format('SELECT count(*), bool_or(NOT reviewed) FROM dlq.%I', p.name) INTO v_count, v_blocked;
		IF include_unreviewed OR NOT coalesce(v_blocked, false) THEN
			BEGIN
				EXECUTE pg_catalog.format('DROP TABLE dlq.%I', p.name);
				DELETE FROM dlq.dead_letter_partition AS x WHERE x.name = p.name;
				v_removed := v_removed + v_count;
			EXCEPTION WHEN lock_not_available THEN
				NULL; -- its rows go with the DELETE below
			END;
		END IF;
	END LOOP;
	PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
	DELETE FROM dlq.dead_letter AS d
	 WHERE d.dead_lettered_at < v_cutoff AND (include_unreviewed OR d.reviewed);
	GET DIAGNOSTICS v_count = ROW_COUNT;
	RETURN v_removed + v_count;
END
$$;
COMMENT ON FUNCTION dlq.purge(interval, boolean) IS
	'delete dead letters older than older_than (reviewed ones only unless include_unreviewed); returns the count';

-- The explorer's checks of its filters, made by each explorer function before anything else, so that an
-- error names no internal statement in its CONTEXT: a range given and in order, a registered reason, and
-- a NOTICE for a queue no queue is named.
CREATE FUNCTION dlq._check_filter(since timestamptz, until timestamptz, queue text, reason text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF since IS NULL OR until IS NULL THEN
		RAISE EXCEPTION 'since and until must not be null'
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'Give a time range, e.g. since => now() - interval ''1 day'', until => now().';
	END IF;
	IF since >= until THEN
		RAISE EXCEPTION 'since must be earlier than until' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- A mistyped filter must not read as "nothing is wrong". Reason codes are a registry: an unknown one is
	-- an error, as everywhere. A queue name is only noted: dead letters keep the name of a dropped queue.
	IF reason IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dlq.reason AS r WHERE r.code = reason) THEN
		RAISE EXCEPTION 'unknown reason code "%"', reason
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Known codes: ' || (SELECT pg_catalog.string_agg(r.code, ', ' ORDER BY r.code) FROM dlq.reason AS r) || '.';
	END IF;
	IF queue IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dlq.queue AS q WHERE q.name = queue) THEN
		RAISE NOTICE 'no queue is named "%": only dead letters of a dropped queue of that name can match', queue
			USING HINT = 'dlq.queues lists the queues.';
	END IF;
END
$$;

-- The WHERE clause shared by search, summary and the *_matching functions, with every value quoted
-- as a literal. Literal values let the planner prune partitions by the time range at plan time.
-- Free text is matched case-insensitively and literally (no LIKE metacharacters) against the last
-- error, the error history and the payload.
CREATE FUNCTION dlq._filter_sql(since timestamptz, until timestamptz, queue text, kind_prefix text, tenant text,
	text text, reason text, reviewed boolean)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET DateStyle = 'ISO, YMD'  -- since and until go into the text with their UTC offset, as partition bounds do
AS $$
DECLARE
	v_sql text;
	v_json_text text;
BEGIN
	-- The explorer's functions check their filters first (dlq._check_filter); these are run again here
	-- only so that no caller gets a WHERE clause for a range that is not one.
	IF since IS NULL OR until IS NULL OR since >= until THEN
		PERFORM dlq._check_filter(since, until, NULL, NULL);
	END IF;
	v_sql := pg_catalog.format('d.dead_lettered_at >= %L::timestamptz AND d.dead_lettered_at < %L::timestamptz',
	                           since, until);
	IF queue IS NOT NULL THEN
		v_sql := v_sql || pg_catalog.format(' AND d.queue = %L', queue);
	END IF;
	IF kind_prefix IS NOT NULL THEN
		v_sql := v_sql || pg_catalog.format(' AND d.kind LIKE %L',
			pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(kind_prefix, E'\\', E'\\\\'), '%', E'\\%'), '_', E'\\_')
			|| '%');
	END IF;
	IF tenant IS NOT NULL THEN
		v_sql := v_sql || pg_catalog.format(' AND d.tenant = %L', tenant);
	END IF;
	IF reason IS NOT NULL THEN
		v_sql := v_sql || pg_catalog.format(' AND d.reason = %L', reason);
	END IF;
	IF reviewed IS NOT NULL THEN
		v_sql := v_sql || pg_catalog.format(' AND d.reviewed = %L', reviewed);
	END IF;
	IF text IS NOT NULL AND text <> '' THEN
		-- The history and the payload are searched in their JSON text, where a quote or a backslash of a
		-- value is escaped (\" and \\): there the text is looked for escaped the same way, so that it
		-- matches itself literally in the values, as it does in the plain last error.
		v_json_text := pg_catalog.to_json(text)::text;
		v_json_text := pg_catalog.substr(v_json_text, 2, pg_catalog.length(v_json_text) - 2);
		v_sql := v_sql || pg_catalog.format(
			' AND (pg_catalog.strpos(pg_catalog.lower(coalesce(d.last_error, '''')), pg_catalog.lower(%L)) > 0'
			' OR pg_catalog.strpos(pg_catalog.lower(d.errors::text || '' '' || d.payload::text), pg_catalog.lower(%L)) > 0)',
			text, v_json_text);
	END IF;
	RETURN v_sql;
END
$$;

-- Raises 22004 for a NULL max_rows and 22023 outside 1..upper.
CREATE FUNCTION dlq._check_max_rows(max_rows integer, upper integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF max_rows IS NULL THEN
		RAISE EXCEPTION 'max_rows must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF max_rows < 1 OR max_rows > upper THEN
		RAISE EXCEPTION 'max_rows must be between 1 and %', upper USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;

-- The query dlq.search runs for these filters (checked by the caller).
CREATE FUNCTION dlq._search_sql(since timestamptz, until timestamptz, queue text, kind_prefix text, tenant text,
	text text, reason text, reviewed boolean, max_rows integer)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM dlq._check_max_rows(max_rows, 10000);
	RETURN pg_catalog.format(
		'SELECT d.id, d.dead_lettered_at, d.queue, d.kind, d.tenant, d.reason, d.attempts, '
		'       pg_catalog.left(pg_catalog.regexp_replace(coalesce(d.last_error, ''''), ''[[:space:]]+'', '' '', ''g''), 60), '
		'       d.reviewed, d.replay_count, pg_catalog.count(*) OVER () '
		'  FROM dlq.dead_letter AS d WHERE %s '
		' ORDER BY d.dead_lettered_at DESC, d.id DESC LIMIT %s',
		dlq._filter_sql(since, until, queue, kind_prefix, tenant, text, reason, reviewed), max_rows);
END
$$;

-- The query dlq.search runs, exposed so its plan can be examined (EXPLAIN) exactly as it executes.
-- SECURITY DEFINER like the rest of the operator API: it calls internal functions.
CREATE FUNCTION dlq.search_query(since timestamptz, until timestamptz, queue text DEFAULT NULL,
	kind_prefix text DEFAULT NULL, tenant text DEFAULT NULL, text text DEFAULT NULL, reason text DEFAULT NULL,
	reviewed boolean DEFAULT NULL, max_rows integer DEFAULT 50)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT dlq._check_filter($1, $2, $3, $7); SELECT dlq._search_sql($1, $2, $3, $4, $5, $6, $7, $8, $9) $$;
COMMENT ON FUNCTION dlq.search_query(timestamptz, timestamptz, text, text, text, text, text, boolean, integer) IS
	'the SQL text dlq.search runs for these filters (for EXPLAIN)';

-- PL/pgSQL forbids an output column named like an input parameter, which the explorer's API needs
-- (queue, reason, ... are both filters and columns): the public functions are SQL wrappers over
-- PL/pgSQL implementations whose output columns carry an o_ prefix.
CREATE FUNCTION dlq._search(since timestamptz, until timestamptz, queue text, kind_prefix text, tenant text,
	text text, reason text, reviewed boolean, max_rows integer)
RETURNS TABLE (o_id bigint, o_dead_lettered_at timestamptz, o_queue text, o_kind text, o_tenant text,
               o_reason text, o_attempts integer, o_error_snippet text, o_reviewed boolean, o_replay_count integer,
               o_total_count bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY EXECUTE dlq._search_sql(since, until, queue, kind_prefix, tenant, text, reason, reviewed, max_rows);
END
$$;

CREATE FUNCTION dlq.search(since timestamptz, until timestamptz, queue text DEFAULT NULL,
	kind_prefix text DEFAULT NULL, tenant text DEFAULT NULL, text text DEFAULT NULL, reason text DEFAULT NULL,
	reviewed boolean DEFAULT NULL, max_rows integer DEFAULT 50)
RETURNS TABLE (id bigint, dead_lettered_at timestamptz, queue text, kind text, tenant text, reason text,
               attempts integer, error_snippet text, reviewed boolean, replay_count integer, total_count bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT dlq._check_filter($1, $2, $3, $7); SELECT * FROM dlq._search($1, $2, $3, $4, $5, $6, $7, $8, $9) $$;
COMMENT ON FUNCTION dlq.search(timestamptz, timestamptz, text, text, text, text, text, boolean, integer) IS
	'find dead letters in a time range by queue, kind prefix, tenant, free text, reason and review state; newest first';

CREATE FUNCTION dlq._summary(since timestamptz, until timestamptz, queue text, kind_prefix text, tenant text,
	text text, reason text)
RETURNS TABLE (o_queue text, o_kind text, o_reason text, o_fingerprint text, o_sample_error text,
               o_dead_letters bigint, o_unreviewed bigint, o_tenants bigint, o_first_at timestamptz,
               o_last_at timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RETURN QUERY EXECUTE pg_catalog.format(
		'SELECT d.queue, d.kind, d.reason, d.fingerprint, '
		'       pg_catalog.left(pg_catalog.regexp_replace(pg_catalog.max(d.last_error), ''[[:space:]]+'', '' '', ''g''), 60), '
		'       pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE NOT d.reviewed), '
		'       pg_catalog.count(DISTINCT d.tenant), pg_catalog.min(d.dead_lettered_at), '
		'       pg_catalog.max(d.dead_lettered_at) '
		'  FROM dlq.dead_letter AS d WHERE %s '
		' GROUP BY d.queue, d.kind, d.reason, d.fingerprint '
		' ORDER BY 6 DESC, 1, 2, 3, 4',
		dlq._filter_sql(since, until, queue, kind_prefix, tenant, text, reason, NULL));
END
$$;
CREATE FUNCTION dlq.summary(since timestamptz, until timestamptz, queue text DEFAULT NULL,
	kind_prefix text DEFAULT NULL, tenant text DEFAULT NULL, text text DEFAULT NULL, reason text DEFAULT NULL)
RETURNS TABLE (queue text, kind text, reason text, fingerprint text, sample_error text, dead_letters bigint,
               unreviewed bigint, tenants bigint, first_at timestamptz, last_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT dlq._check_filter($1, $2, $3, $7); SELECT * FROM dlq._summary($1, $2, $3, $4, $5, $6, $7) $$;
COMMENT ON FUNCTION dlq.summary(timestamptz, timestamptz, text, text, text, text, text) IS
	'dead letters in a time range grouped into patterns by queue, kind, reason and error fingerprint';

CREATE FUNCTION dlq.inspect(id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_dead dlq.dead_letter;
BEGIN
	IF id IS NULL THEN
		RAISE EXCEPTION 'id must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT * INTO v_dead FROM dlq.dead_letter AS d WHERE d.id = inspect.id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'dead letter % does not exist', id
			USING ERRCODE = 'undefined_object',
			      HINT = 'Find ids with dlq.search(). A dead letter that dlq.purge or a queue''s retention removed is gone.';
	END IF;
	RETURN pg_catalog.jsonb_build_object(
		'dead_letter', pg_catalog.to_jsonb(v_dead) - 'errors',
		'attempts', v_dead.errors,
		'replays', coalesce((
			SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
				'replay_id', r.id, 'at', r.at, 'actor', r.actor, 'justification', r.justification,
				'forced', r.forced, 'outcome', i.outcome, 'job_id', i.job_id, 'job_status', i.job_status,
				'dead_letter_id', i.job_dead_letter_id)
				ORDER BY r.id)
			  FROM dlq.replay_items AS i JOIN dlq.replay AS r ON r.id = i.replay_id
			 WHERE i.dead_letter_id = v_dead.id), '[]'::jsonb),
		-- The chain of replayed_from ids; one that purge or retention removed ends it, marked as such
		-- rather than left out (the lineage would look complete).
		'lineage', coalesce((
			WITH RECURSIVE chain AS (
				SELECT v_dead.replayed_from AS id, 1 AS depth WHERE v_dead.replayed_from IS NOT NULL
				UNION ALL
				SELECT x.replayed_from, c.depth + 1
				  FROM chain AS c JOIN dlq.dead_letter AS x ON x.id = c.id
				 WHERE x.replayed_from IS NOT NULL AND c.depth < 100)
			SELECT pg_catalog.jsonb_agg(CASE WHEN x.id IS NULL
				THEN pg_catalog.jsonb_build_object('id', c.id, 'purged', true)
				ELSE pg_catalog.jsonb_build_object('id', x.id, 'job_id', x.job_id, 'reason', x.reason,
					'dead_lettered_at', x.dead_lettered_at, 'last_error', x.last_error) END
				ORDER BY c.depth)
			  FROM chain AS c LEFT JOIN dlq.dead_letter AS x ON x.id = c.id), '[]'::jsonb),
		'later', coalesce((
			SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', x.id, 'job_id', x.job_id,
				'reason', x.reason, 'dead_lettered_at', x.dead_lettered_at) ORDER BY x.id)
			  FROM dlq.dead_letter AS x WHERE x.replayed_from = v_dead.id), '[]'::jsonb));
END
$$;
COMMENT ON FUNCTION dlq.inspect(bigint) IS
	'everything about one dead letter: record, attempts, replays and what became of them, lineage';

-- Ids matching the explorer filters, newest first, at most max_rows; and how many matched in all.
-- With unreplayed_only, dead letters already replayed (which a replay without force skips: dlq._replay)
-- are left out, so a second run of reprocess_matching goes on to the next rows instead of skipping the
-- same ones again.
CREATE FUNCTION dlq._matching_ids(since timestamptz, until timestamptz, queue text, kind_prefix text, tenant text,
	text text, reason text, reviewed boolean, max_rows integer, unreplayed_only boolean,
	OUT ids bigint[], OUT matched bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM dlq._check_max_rows(max_rows, 100000);
	EXECUTE pg_catalog.format(
		'SELECT coalesce(pg_catalog.array_agg(s.id ORDER BY s.at DESC, s.id DESC) FILTER (WHERE s.n <= %s), ''{}''), '
		'       pg_catalog.count(*) '
		'  FROM (SELECT d.id, d.dead_lettered_at AS at, '
		'               pg_catalog.row_number() OVER (ORDER BY d.dead_lettered_at DESC, d.id DESC) AS n '
		'          FROM dlq.dead_letter AS d WHERE %s%s) AS s',
		max_rows, dlq._filter_sql(since, until, queue, kind_prefix, tenant, text, reason, reviewed),
		CASE WHEN unreplayed_only THEN ' AND d.last_replay_job_id IS NULL' ELSE '' END)
	INTO ids, matched;
END
$$;

CREATE FUNCTION dlq._reprocess_matching(since timestamptz, until timestamptz, queue text, kind_prefix text,
	tenant text, text text, reason text, justification text, max_rows integer, dry_run boolean, reviewed boolean)
RETURNS TABLE (o_replay_id bigint, o_dry_run boolean, o_matched bigint, o_selected integer, o_requeued integer,
               o_skipped integer, o_actor text, o_justification text, o_queues text[], o_kinds text[])
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids bigint[];
	v_matched bigint;
	v_replay dlq.replay;
BEGIN
	IF _reprocess_matching.justification IS NULL THEN
		RAISE EXCEPTION 'justification must not be null'
			USING ERRCODE = 'null_value_not_allowed',
			      HINT = 'Say why these dead letters are replayed; it is kept in dlq.replays.';
	END IF;
	IF pg_catalog.btrim(_reprocess_matching.justification, E' \t\n\r\f\x0B') = '' THEN
		RAISE EXCEPTION 'justification must not be empty or blank'
			USING ERRCODE = 'invalid_parameter_value',
			      HINT = 'Say why these dead letters are replayed; it is kept in dlq.replays.';
	END IF;
	IF _reprocess_matching.dry_run IS NULL THEN
		RAISE EXCEPTION 'dry_run must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT _reprocess_matching.dry_run THEN
		PERFORM dlq._require_read_write('dlq.reprocess_matching');
	END IF;
	SELECT m.ids, m.matched INTO v_ids, v_matched
	  FROM dlq._matching_ids(since, until, _reprocess_matching.queue, kind_prefix, tenant, _reprocess_matching.text,
	                         _reprocess_matching.reason, _reprocess_matching.reviewed, max_rows, true) AS m;
	IF _reprocess_matching.dry_run THEN
		RETURN QUERY
		SELECT NULL::bigint, true, v_matched, pg_catalog.cardinality(v_ids), 0, 0, session_user::text,
		       _reprocess_matching.justification,
		       coalesce(pg_catalog.array_agg(DISTINCT d.queue ORDER BY d.queue), '{}'),
		       coalesce(pg_catalog.array_agg(DISTINCT d.kind ORDER BY d.kind), '{}')
		  FROM dlq.dead_letter AS d
		 WHERE d.id = ANY (v_ids) AND d.dead_lettered_at >= since AND d.dead_lettered_at < until;
		RETURN;
	END IF;
	v_replay := dlq._replay(v_ids, _reprocess_matching.justification, pg_catalog.now(), false,
		pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('filter', pg_catalog.jsonb_build_object(
			'since', since, 'until', until, 'queue', _reprocess_matching.queue, 'kind_prefix', kind_prefix,
			'tenant', tenant, 'text', _reprocess_matching.text, 'reason', _reprocess_matching.reason,
			'reviewed', _reprocess_matching.reviewed, 'max_rows', max_rows), 'matched', v_matched)));
	RETURN QUERY SELECT v_replay.id, false, v_matched, v_replay.requested, v_replay.requeued, v_replay.skipped,
	                    v_replay.actor, v_replay.justification, v_replay.queues, v_replay.kinds;
END
$$;
CREATE FUNCTION dlq.reprocess_matching(since timestamptz, until timestamptz, queue text DEFAULT NULL,
	kind_prefix text DEFAULT NULL, tenant text DEFAULT NULL, text text DEFAULT NULL, reason text DEFAULT NULL,
	justification text DEFAULT NULL, max_rows integer DEFAULT 1000, dry_run boolean DEFAULT true,
	reviewed boolean DEFAULT NULL)
RETURNS TABLE (replay_id bigint, dry_run boolean, matched bigint, selected integer, requeued integer,
               skipped integer, actor text, justification text, queues text[], kinds text[])
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT dlq._check_filter($1, $2, $3, $7);
      SELECT * FROM dlq._reprocess_matching($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) $$;
COMMENT ON FUNCTION dlq.reprocess_matching(timestamptz, timestamptz, text, text, text, text, text, text, integer, boolean, boolean) IS
	'replay the dead letters matching the explorer filters (dry run by default); one audit row per real run';

CREATE FUNCTION dlq._mark_reviewed_matching(since timestamptz, until timestamptz, queue text, kind_prefix text,
	tenant text, text text, reason text, notes text, max_rows integer, dry_run boolean)
RETURNS TABLE (o_matched bigint, o_marked integer, o_dry_run boolean)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_ids bigint[];
	v_matched bigint;
BEGIN
	IF _mark_reviewed_matching.dry_run IS NULL THEN
		RAISE EXCEPTION 'dry_run must not be null' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT _mark_reviewed_matching.dry_run THEN
		PERFORM dlq._require_read_write('dlq.mark_reviewed_matching');
	END IF;
	SELECT m.ids, m.matched INTO v_ids, v_matched
	  FROM dlq._matching_ids(since, until, _mark_reviewed_matching.queue, kind_prefix, tenant,
	                         _mark_reviewed_matching.text, _mark_reviewed_matching.reason, false, max_rows,
	                         false) AS m;
	IF _mark_reviewed_matching.dry_run THEN
		RETURN QUERY SELECT v_matched, pg_catalog.cardinality(v_ids), true;
		RETURN;
	END IF;
	RETURN QUERY SELECT v_matched, dlq.mark_reviewed(v_ids, _mark_reviewed_matching.notes), false;
END
$$;
CREATE FUNCTION dlq.mark_reviewed_matching(since timestamptz, until timestamptz, queue text DEFAULT NULL,
	kind_prefix text DEFAULT NULL, tenant text DEFAULT NULL, text text DEFAULT NULL, reason text DEFAULT NULL,
	notes text DEFAULT NULL, max_rows integer DEFAULT 1000, dry_run boolean DEFAULT false)
RETURNS TABLE (matched bigint, marked integer, dry_run boolean)
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT dlq._check_filter($1, $2, $3, $7);
      SELECT * FROM dlq._mark_reviewed_matching($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) $$;
COMMENT ON FUNCTION dlq.mark_reviewed_matching(timestamptz, timestamptz, text, text, text, text, text, text, integer, boolean) IS
	'mark the unreviewed dead letters matching the explorer filters reviewed, with notes';
