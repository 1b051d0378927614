-- dlq.vacuum_blockers: what holds back vacuum of dlq.job; dlq._oldest_vacuum_blocker: the sweeper's
-- description of the oldest holder (the warning itself is tested in test/t/005_vacuum_horizon.pl).
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('holder', format('host=%s port=%s dbname=%s user=%s application_name=report',
                      split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
                      current_database(), current_user));
SELECT pid AS holder_pid FROM dblink('holder', 'SELECT pg_backend_pid()') AS t (pid integer) \gset

-- A session between transactions holds nothing.
SELECT count(*) AS listed FROM dlq.vacuum_blockers WHERE pid = :holder_pid;

-- A REPEATABLE READ snapshot held open: listed with its snapshot's xmin, oldest first.
SELECT dblink_exec('holder', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT x FROM dblink('holder', 'SELECT 1') AS t (x integer);
SELECT holder, name, role = current_user AS role_ok, state, since IS NOT NULL AS has_since,
       horizon IS NOT NULL AS has_horizon, horizon_age >= 0 AS age_ok, query
  FROM dlq.vacuum_blockers WHERE pid = :holder_pid;
-- Oldest first: a snapshot taken later comes after the holder.
SELECT dblink_connect('later', format('host=%s port=%s dbname=%s user=%s application_name=later',
                      split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
                      current_database(), current_user));
SELECT pid AS later_pid FROM dblink('later', 'SELECT pg_backend_pid()') AS t (pid integer) \gset
SELECT txid_current() IS NOT NULL AS moved_on;
SELECT dblink_exec('later', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT x FROM dblink('later', 'SELECT 1') AS t (x integer);
SELECT name, horizon_age > (SELECT b.horizon_age FROM dlq.vacuum_blockers AS b WHERE b.pid = :later_pid) AS older
  FROM dlq.vacuum_blockers WHERE pid IN (:holder_pid, :later_pid) LIMIT 1;
SELECT dblink_exec('later', 'COMMIT');
-- A write gives the holder a transaction id, newer than its snapshot: the snapshot stays its horizon.
SELECT dblink_exec('holder', 'CREATE TEMP TABLE scratch (x integer)');
SELECT b.horizon = a.backend_xmin AND a.backend_xid IS NOT NULL AS snapshot_is_horizon
  FROM dlq.vacuum_blockers AS b JOIN pg_stat_activity AS a USING (pid) WHERE b.pid = :holder_pid;
-- A READ COMMITTED transaction that wrote holds no snapshot between statements: its transaction id is
-- its horizon.
SELECT dblink_exec('later', 'BEGIN');
SELECT dblink_exec('later', 'CREATE TEMP TABLE scratch (x integer)');
SELECT b.horizon = a.backend_xid AND a.backend_xmin IS NULL AS xid_is_horizon
  FROM dlq.vacuum_blockers AS b JOIN pg_stat_activity AS a USING (pid) WHERE b.pid = :later_pid;
SELECT dblink_exec('later', 'COMMIT');
SELECT dblink_disconnect('later');

-- The caller's own snapshot is not a blocker it could do anything about.
SELECT count(*) AS own_session_listed FROM dlq.vacuum_blockers WHERE pid = pg_backend_pid();

-- The sweeper's description of the oldest holder (whichever session that is here; the text of each
-- kind of holder is checked in test/t/005_vacuum_horizon.pl): who, what to do, dlq.job's dead rows.
-- One statement, so the view and the function read the same activity snapshot.
SELECT o.horizon = (SELECT b.horizon::text FROM dlq.vacuum_blockers AS b LIMIT 1) AS is_oldest,
       o.holder ~ '^session pid \d+ \(.*, role .*, transaction started .*\)$' AS holder_ok,
       o.hint ~ '^End that transaction, or SELECT pg_terminate_backend\(\d+\);' AS hint_ok,
       o.dead_rows >= 0 AS dead_rows_known, o.job_table_size ~ '^\d+ (bytes|kB|MB)$' AS size_ok
  FROM dlq._oldest_vacuum_blocker() AS o;

-- Once the transaction ends, the session holds nothing again.
SELECT dblink_exec('holder', 'COMMIT');
SELECT count(*) AS listed FROM dlq.vacuum_blockers WHERE pid = :holder_pid;
SELECT dblink_disconnect('holder');

-- The view is for operators and admins, as the other stats views are.
SELECT r AS role, has_table_privilege(r, 'dlq.vacuum_blockers', 'SELECT') AS can_read
  FROM unnest(ARRAY['dlq_producer', 'dlq_worker', 'dlq_operator', 'dlq_admin']) AS r;
SELECT has_function_privilege('dlq_admin', 'dlq._oldest_vacuum_blocker()', 'EXECUTE') AS admin_runs_internal;
