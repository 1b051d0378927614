-- psql -v seg=20000 : the floor's queue (systems/minimal: bare SKIP LOCKED) on a ring of 8 partitions by
-- id segment, (id / seg) % 8, so that a segment whose jobs are all gone can be truncated instead of
-- vacuumed (bench/workloads/segments_probe.sh). A probe of a storage shape for issue 5, not dlq.
DROP TABLE IF EXISTS seg_jobs, seg_truncations;
DROP SEQUENCE IF EXISTS seg_jobs_id_seq;
CREATE SEQUENCE seg_jobs_id_seq;
CREATE TABLE seg_jobs (
  id        bigint NOT NULL DEFAULT nextval('seg_jobs_id_seq'),
  queue     text NOT NULL,
  payload   jsonb,
  run_at    timestamptz NOT NULL DEFAULT now(),
  attempts  int NOT NULL DEFAULT 0,
  locked_at timestamptz
) PARTITION BY LIST (((id / :seg) % 8));
SELECT format('CREATE TABLE seg_jobs_p%1$s PARTITION OF seg_jobs FOR VALUES IN (%1$s)', k) FROM generate_series(0, 7) AS k
\gexec
CREATE INDEX ON seg_jobs (id);
CREATE INDEX ON seg_jobs (queue, run_at);
CREATE TABLE seg_truncations (at timestamptz NOT NULL DEFAULT clock_timestamp(), part int NOT NULL, dead bigint);

-- Truncates each partition that the current and the previous segment do not use, holds no visible
-- row and is not empty on disk. The lock comes first and the check after it (a statement of its own, so
-- in READ COMMITTED it sees every job committed before the lock), so that no job is lost; lock_timeout
-- keeps it from queueing the workers behind it. A partition still in use is left at once: its
-- subtransaction is rolled back, which releases its lock.
CREATE OR REPLACE FUNCTION seg_rotate(seg bigint) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  cur bigint := (SELECT last_value FROM seg_jobs_id_seq) / seg;
  part text;
  busy boolean;
  k int;
  n int := 0;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'seg_rotate needs READ COMMITTED: its check must see jobs committed after the call began';
  END IF;
  FOR k IN 0..7 LOOP
    CONTINUE WHEN k = cur % 8 OR k = (cur + 7) % 8;
    part := 'seg_jobs_p' || k;
    CONTINUE WHEN pg_relation_size(part) = 0;
    BEGIN
      PERFORM set_config('lock_timeout', '20ms', true);
      EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', part);
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', part) INTO busy;
      IF busy THEN
        RAISE EXCEPTION USING ERRCODE = 'object_in_use';  -- rolls back, releasing the lock
      END IF;
      INSERT INTO seg_truncations (part, dead)
        SELECT k, n_dead_tup FROM pg_stat_user_tables WHERE relname = part;
      EXECUTE format('TRUNCATE %I', part);
      n := n + 1;
    EXCEPTION WHEN lock_not_available OR object_in_use THEN
      NULL;  -- busy: next round
    END;
  END LOOP;
  RETURN n;
END $$;
