-- What keeps vacuum from removing the rows of finished jobs. Every completion, claim and retry leaves a
-- dead row version in dlq.job, and vacuum may remove one only once no transaction that could still see
-- it remains: the oldest transaction horizon (xmin) that vacuum of this database must respect. While one
-- holder keeps it in place (a session idle in a transaction, a long report, a prepared transaction never
-- finished, the slot of a standby that is gone), dlq.job keeps every row version written since and
-- grows. Claims keep their speed (claim hints), so only the table's size shows it; the sweeper logs a
-- warning when the horizon stays put longer than dlq.vacuum_horizon_warning (src/pg/sweeper.cpp).
--
-- Who holds it (PostgreSQL 15, ComputeXidHorizons and GetSnapshotData):
--  - a session of this database, with its snapshot (backend_xmin) or its own transaction id
--    (backend_xid), whichever is older; a physical standby's walsender (hot_standby_feedback) likewise,
--    for every database;
--  - a session or a prepared transaction of any database, with its transaction id: every snapshot taken
--    here while it runs keeps it, so it holds the horizon through whoever takes one;
--  - a replication slot, with its xmin (its catalog_xmin holds only the catalogs);
--  - not a VACUUM's own snapshot, nor a logical walsender's: the horizon ignores them.
-- Ties (a writer's transaction id kept by the snapshots of others) list its owner first.
CREATE VIEW dlq.vacuum_blockers AS
SELECT h.holder, h.pid, h.database, h.name, h.role, h.state, h.since, h.horizon,
       pg_catalog.age(h.horizon) AS horizon_age, h.owns_horizon, h.query
  FROM (
	SELECT 'session'::text AS holder, a.pid, a.datname AS database,
	       coalesce(nullif(a.application_name, ''), a.backend_type) AS name, a.usename AS role, a.state,
	       a.xact_start AS since, x.horizon, coalesce(x.horizon = a.backend_xid, false) AS owns_horizon, a.query
	  FROM pg_catalog.pg_stat_activity AS a
	 CROSS JOIN LATERAL (
		SELECT CASE WHEN (a.datname = pg_catalog.current_database()
		                  OR a.datid IS NULL AND a.backend_type = 'walsender') IS NOT TRUE
		              OR a.backend_xmin IS NULL
		              OR a.backend_xid IS NOT NULL AND pg_catalog.age(a.backend_xid) > pg_catalog.age(a.backend_xmin)
		            THEN a.backend_xid ELSE a.backend_xmin END AS horizon) AS x
	 WHERE x.horizon IS NOT NULL
	   AND a.pid <> pg_catalog.pg_backend_pid()
	   AND (a.backend_type = 'walsender' AND a.datid IS NOT NULL) IS NOT TRUE  -- NULL: hidden from the caller
	   -- a parallel VACUUM's workers are not in pg_stat_progress_vacuum, their leader is
	   AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_progress_vacuum AS v WHERE v.pid = coalesce(a.leader_pid, a.pid))
	UNION ALL
	SELECT 'prepared transaction', NULL::integer, p.database, p.gid, p.owner, 'prepared', p.prepared,
	       p.transaction, true, NULL::text
	  FROM pg_catalog.pg_prepared_xacts AS p
	UNION ALL
	SELECT 'replication slot', s.active_pid, s.database, s.slot_name::text, NULL::name,
	       CASE WHEN s.active THEN 'active' ELSE 'inactive' END, NULL::timestamptz, s.xmin, false, NULL::text
	  FROM pg_catalog.pg_replication_slots AS s
	 WHERE s.xmin IS NOT NULL) AS h
 ORDER BY pg_catalog.age(h.horizon) DESC, h.owns_horizon DESC, h.since NULLS LAST, h.holder, h.pid;
COMMENT ON VIEW dlq.vacuum_blockers IS
	'what holds back vacuum of dlq.job (sessions, prepared transactions, replication slots), oldest first';

-- The oldest holder, described for the sweeper's warning: its horizon, who it is, what to do about it,
-- and how many dead rows dlq.job has. Ordered as the view is.
CREATE FUNCTION dlq._oldest_vacuum_blocker(
	OUT horizon text, OUT holder text, OUT hint text, OUT dead_rows bigint, OUT job_table_size text)
RETURNS SETOF record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT b.horizon::text,
	       CASE WHEN b.holder = 'session' AND b.database IS NULL
	                 THEN pg_catalog.format('the walsender pid %s of standby %s (role %s)', b.pid,
	                      coalesce(b.name, 'name not visible'), coalesce(b.role::text, 'not visible'))
	            WHEN b.holder = 'session' THEN pg_catalog.format('session pid %s%s (%s, role %s, %s, transaction started %s)',
	                 b.pid, b.elsewhere, coalesce(b.name, 'name not visible'), coalesce(b.role::text, 'not visible'),
	                 coalesce(b.state, 'state not visible'), coalesce(b.since::text, 'at a time not visible'))
	            WHEN b.holder = 'prepared transaction' THEN pg_catalog.format('prepared transaction %L%s (role %s, prepared %s)',
	                 b.name, b.elsewhere, b.role, b.since)
	            ELSE pg_catalog.format('replication slot %I (%s)', b.name, b.state) END,
	       CASE WHEN b.holder = 'session' AND b.database IS NULL
	                 THEN 'A standby holds it through hot_standby_feedback: end the long query there, or turn '
	                      'hot_standby_feedback off.'
	            WHEN b.holder = 'session' THEN pg_catalog.format('End that transaction, or SELECT pg_terminate_backend(%s); '
	                 'idle_in_transaction_session_timeout ends idle ones.', b.pid)
	            WHEN b.holder = 'prepared transaction' THEN pg_catalog.format('COMMIT PREPARED %L or ROLLBACK PREPARED %L%s.',
	                 b.name, b.name, CASE WHEN b.elsewhere = '' THEN '' ELSE ' in database ' || pg_catalog.quote_ident(b.database) END)
	            ELSE pg_catalog.format('If its standby is gone, SELECT pg_drop_replication_slot(%L).', b.name) END,
	       (SELECT s.n_dead_tup FROM pg_catalog.pg_stat_user_tables AS s WHERE s.relid = 'dlq.job'::pg_catalog.regclass),
	       pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size('dlq.job'::pg_catalog.regclass))
	  FROM (SELECT v.*, CASE WHEN v.database IS NULL OR v.database = pg_catalog.current_database() THEN ''
	                         ELSE pg_catalog.format(' of database %I', v.database) END AS elsewhere
	          FROM dlq.vacuum_blockers AS v) AS b
	 ORDER BY b.horizon_age DESC, b.owns_horizon DESC, b.since NULLS LAST, b.holder, b.pid
	 LIMIT 1
$$;
