-- psql -v n=12 : the top :n statements of this database by total execution time, as markdown rows.
-- With pg_stat_statements.track = all the statements dlq's functions run (SPI) have their own rows;
-- their time is also included in the row of the calling statement.
SELECT format('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |',
              CASE WHEN s.toplevel THEN 'top' ELSE 'nested' END,
              replace(left(regexp_replace(s.query, '\s+', ' ', 'g'), 220), '|', '\|'),
              s.calls, round(s.total_exec_time), round(s.mean_exec_time::numeric, 3), s.rows,
              s.shared_blks_hit + s.shared_blks_read, s.shared_blks_dirtied, s.wal_bytes,
              round(s.wal_bytes / greatest(s.calls, 1)))
  FROM pg_stat_statements AS s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY s.total_exec_time DESC
 LIMIT :n;
