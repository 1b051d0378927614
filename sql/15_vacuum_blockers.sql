-- dlq.vacuum_blockers: what holds back vacuum of dlq.job; dlq._oldest_vacuum_blocker: the sweeper's
-- description of the oldest holder (the warning itself is tested in test/t/005_vacuum_horizon.pl).
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE FUNCTION pg_temp.connect(name text, application text, db text DEFAULT current_database())
RETURNS integer LANGUAGE sql AS $$
	SELECT dblink_connect(name, format('host=%s port=%s dbname=%s user=%s application_name=%s',
	                      split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
	                      db, current_user, application));
	SELECT pid FROM dblink(name, 'SELECT pg_backend_pid()') AS t (pid integer);
$$;
SELECT pg_temp.connect('holder', 'report') AS holder_pid \gset

-- A session between transactions holds nothing.
SELECT count(*) AS listed FROM dlq.vacuum_blockers WHERE pid = :holder_pid;

-- A REPEATABLE READ snapshot held open: listed with its snapshot's xmin.
SELECT dblink_exec('holder', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT x FROM dblink('holder', 'SELECT 1') AS t (x integer);
SELECT holder, database = current_database() AS here, name, role = current_user AS role_ok, state,
       since IS NOT NULL AS has_since, horizon = (SELECT backend_xmin FROM pg_stat_activity WHERE pid = :holder_pid)
       AS snapshot_is_horizon, owns_horizon, query
  FROM dlq.vacuum_blockers WHERE pid = :holder_pid;

-- Oldest first: a snapshot taken later comes after the holder.
SELECT pg_temp.connect('later', 'later') AS later_pid \gset
SELECT txid_current() IS NOT NULL AS moved_on;
SELECT dblink_exec('later', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT x FROM dblink('later', 'SELECT 1') AS t (x integer);
SELECT name, horizon_age >= (SELECT b.horizon_age FROM dlq.vacuum_blockers AS b WHERE b.pid = :later_pid) AS not_younger
  FROM dlq.vacuum_blockers WHERE pid IN (:holder_pid, :later_pid) LIMIT 1;
SELECT dblink_exec('later', 'COMMIT');

-- A write gives the holder a transaction id, newer than its snapshot: the snapshot stays its horizon.
SELECT dblink_exec('holder', 'CREATE TEMP TABLE scratch (x integer)');
SELECT b.horizon = a.backend_xmin AND a.backend_xid IS NOT NULL AS snapshot_is_horizon, b.owns_horizon
  FROM dlq.vacuum_blockers AS b JOIN pg_stat_activity AS a USING (pid) WHERE b.pid = :holder_pid;

-- The caller's own snapshot is not a blocker it could do anything about.
SELECT count(*) AS own_session_listed FROM dlq.vacuum_blockers WHERE pid = pg_backend_pid();

-- The sweeper's description of the oldest holder (whichever session that is here; the text of each
-- kind of holder is checked in test/t/005_vacuum_horizon.pl): who, what to do, dlq.job's dead rows.
-- One statement, so the view, the function and the statistics are read from the same snapshots.
-- (The size is only checked for its form: autovacuum may change it meanwhile.)
SELECT o.horizon = (SELECT b.horizon::text FROM dlq.vacuum_blockers AS b LIMIT 1) AS is_oldest,
       o.holder ~ '^session pid \d+ \(.*, role .*, transaction started .*\)$' AS holder_ok,
       o.hint ~ '^End that transaction, or SELECT pg_terminate_backend\(\d+\);' AS hint_ok,
       o.dead_rows = (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = 'dlq.job'::regclass) AS dead_rows_ok,
       o.job_table_size ~ '^\d+ (bytes|kB|MB)$' AS size_ok
  FROM dlq._oldest_vacuum_blocker() AS o;

-- An operator without pg_read_all_stats still sees every holder, with what pg_stat_activity hides
-- from it hidden here too.
CREATE ROLE regress_vacuum_watcher;
GRANT dlq_operator TO regress_vacuum_watcher;
SET ROLE regress_vacuum_watcher;
SELECT holder, database = current_database() AS here, name, role IS NOT NULL AS has_role, state, since, query
  FROM dlq.vacuum_blockers WHERE pid = :holder_pid;
RESET ROLE;
DROP ROLE regress_vacuum_watcher;

-- Once the transaction ends, the session holds nothing again.
SELECT dblink_exec('holder', 'COMMIT');
SELECT count(*) AS listed FROM dlq.vacuum_blockers WHERE pid = :holder_pid;

-- A READ COMMITTED writer idle in its transaction holds its transaction id (no snapshot between
-- statements), and every snapshot taken meanwhile keeps it too. The reader began its transaction first
-- but took its snapshot after the write: of the two, the writer is listed first, as the owner.
SELECT pg_temp.connect('writer', 'writer') AS writer_pid \gset
SELECT dblink_exec('later', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT dblink_exec('writer', 'BEGIN');
SELECT dblink_exec('writer', 'CREATE TEMP TABLE scratch (x integer)');
SELECT x FROM dblink('later', 'SELECT 1') AS t (x integer);
SELECT name, state, owns_horizon, horizon = (SELECT backend_xid FROM pg_stat_activity WHERE pid = :writer_pid) AS xid_is_horizon
  FROM dlq.vacuum_blockers WHERE pid = :writer_pid;
SELECT (SELECT name FROM dlq.vacuum_blockers WHERE pid IN (:writer_pid, :later_pid) LIMIT 1) = 'writer'
       OR (SELECT horizon_age FROM dlq.vacuum_blockers WHERE pid = :later_pid)
          > (SELECT horizon_age FROM dlq.vacuum_blockers WHERE pid = :writer_pid) AS owner_first;
SELECT dblink_exec('writer', 'COMMIT');
SELECT dblink_exec('later', 'COMMIT');

-- A session of another database: its snapshot holds back only its own database, its transaction id
-- every database (through the snapshots taken here while it runs).
CREATE DATABASE dlq_regress_elsewhere;
SELECT pg_temp.connect('elsewhere', 'elsewhere', 'dlq_regress_elsewhere') AS elsewhere_pid \gset
SELECT dblink_exec('elsewhere', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT x FROM dblink('elsewhere', 'SELECT 1') AS t (x integer);
SELECT count(*) AS snapshot_elsewhere_listed FROM dlq.vacuum_blockers WHERE pid = :elsewhere_pid;
SELECT dblink_exec('elsewhere', 'CREATE TEMP TABLE scratch (x integer)');
SELECT holder, database, owns_horizon,
       horizon = (SELECT backend_xid FROM pg_stat_activity WHERE pid = :elsewhere_pid) AS xid_is_horizon
  FROM dlq.vacuum_blockers WHERE pid = :elsewhere_pid;
SELECT dblink_exec('elsewhere', 'COMMIT');
SELECT dblink_disconnect(c) FROM unnest(ARRAY['holder', 'later', 'writer', 'elsewhere']) AS c;
DROP DATABASE dlq_regress_elsewhere WITH (FORCE);

-- The view is for operators and admins, as the other stats views are.
SELECT r AS role, has_table_privilege(r, 'dlq.vacuum_blockers', 'SELECT') AS can_read
  FROM unnest(ARRAY['dlq_producer', 'dlq_worker', 'dlq_operator', 'dlq_admin']) AS r;
SELECT has_function_privilege('dlq_admin', 'dlq._oldest_vacuum_blocker()', 'EXECUTE') AS admin_runs_internal;
