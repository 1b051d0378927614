-- What keeps vacuum from removing the rows of finished jobs. Every completion, claim and retry leaves a
-- dead row version in dlq.job, and vacuum may remove one only once no transaction that could still see
-- it remains: the oldest transaction horizon (xmin) among this database's sessions, prepared
-- transactions and replication slots. While one holder keeps that horizon in place (a session idle in
-- a transaction, a long report, a prepared transaction never finished, the slot of a standby that is
-- gone), dlq.job keeps every row version written since and grows. Claims keep their speed (claim hints),
-- so only the table's size shows it; the sweeper logs a warning when the horizon stays put longer than
-- dlq.vacuum_horizon_warning.
CREATE VIEW dlq.vacuum_blockers AS
SELECT h.holder, h.pid, h.name, h.role, h.state, h.since, h.horizon, pg_catalog.age(h.horizon) AS horizon_age,
       h.query
  FROM (
	-- A session holds the horizon with its snapshot (backend_xmin) or with its own transaction id if it
	-- wrote (backend_xid), whichever is older. Walsenders of physical standbys (no database) hold it for
	-- every database; other sessions only for their own.
	SELECT 'session'::text AS holder, a.pid, coalesce(nullif(a.application_name, ''), a.backend_type) AS name,
	       a.usename AS role, a.state, a.xact_start AS since,
	       CASE WHEN a.backend_xmin IS NULL
	              OR a.backend_xid IS NOT NULL AND pg_catalog.age(a.backend_xid) > pg_catalog.age(a.backend_xmin)
	            THEN a.backend_xid ELSE a.backend_xmin END AS horizon,
	       a.query
	  FROM pg_catalog.pg_stat_activity AS a
	 WHERE (a.backend_xmin IS NOT NULL OR a.backend_xid IS NOT NULL)
	   AND (a.datid IS NULL OR a.datname = pg_catalog.current_database())
	   AND a.pid <> pg_catalog.pg_backend_pid()
	UNION ALL
	-- A slot's xmin holds back every table; its catalog_xmin (logical decoding) only the catalogs.
	SELECT 'replication slot', s.active_pid, s.slot_name::text, NULL::name,
	       CASE WHEN s.active THEN 'active' ELSE 'inactive' END, NULL::timestamptz, s.xmin, NULL::text
	  FROM pg_catalog.pg_replication_slots AS s
	 WHERE s.xmin IS NOT NULL AND (s.database IS NULL OR s.database = pg_catalog.current_database())
	UNION ALL
	SELECT 'prepared transaction', NULL::integer, p.gid, p.owner, 'prepared', p.prepared, p.transaction, NULL::text
	  FROM pg_catalog.pg_prepared_xacts AS p
	 WHERE p.database = pg_catalog.current_database()) AS h
 ORDER BY pg_catalog.age(h.horizon) DESC, h.holder, h.pid;
COMMENT ON VIEW dlq.vacuum_blockers IS
	'what holds back vacuum of dlq.job (sessions, prepared transactions, replication slots), oldest first';

-- The oldest holder, described for the sweeper's warning (src/pg/sweeper.cpp): its horizon, who it is,
-- what to do about it, and how many dead rows dlq.job has.
CREATE FUNCTION dlq._oldest_vacuum_blocker(
	OUT horizon text, OUT holder text, OUT hint text, OUT dead_rows bigint, OUT job_table_size text)
RETURNS SETOF record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT b.horizon::text,
	       CASE b.holder
	            WHEN 'session' THEN pg_catalog.format('session pid %s (%s, role %s, %s, transaction started %s)',
	                                       b.pid, b.name, b.role, coalesce(b.state, 'no state'), b.since)
	            WHEN 'replication slot' THEN pg_catalog.format('replication slot %I (%s)', b.name, b.state)
	            ELSE pg_catalog.format('prepared transaction %L (role %s, prepared %s)', b.name, b.role, b.since) END,
	       CASE b.holder
	            WHEN 'session' THEN pg_catalog.format('End that transaction, or SELECT pg_terminate_backend(%s); '
	                                       'idle_in_transaction_session_timeout ends idle ones.', b.pid)
	            WHEN 'replication slot' THEN pg_catalog.format('If its standby is gone, SELECT pg_drop_replication_slot(%L).',
	                                                b.name)
	            ELSE pg_catalog.format('COMMIT PREPARED %L or ROLLBACK PREPARED %L.', b.name, b.name) END,
	       (SELECT s.n_dead_tup FROM pg_catalog.pg_stat_user_tables AS s WHERE s.relid = 'dlq.job'::pg_catalog.regclass),
	       pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size('dlq.job'::pg_catalog.regclass))
	  FROM dlq.vacuum_blockers AS b
	 LIMIT 1
$$;
