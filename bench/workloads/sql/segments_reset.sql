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
-- row and is not empty on disk. The lock comes first and the check after it, so that no job committed in
-- between is lost; lock_timeout keeps it from queueing the workers behind it.
CREATE OR REPLACE FUNCTION seg_rotate(seg bigint) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  cur bigint := (SELECT last_value FROM seg_jobs_id_seq) / seg;
  part text;
  k int;
  n int := 0;
BEGIN
  FOR k IN 0..7 LOOP
    CONTINUE WHEN k = cur % 8 OR k = (cur + 7) % 8;
    part := 'seg_jobs_p' || k;
    CONTINUE WHEN pg_relation_size(part) = 0;
    BEGIN
      PERFORM set_config('lock_timeout', '20ms', true);
      EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', part);
      CONTINUE WHEN EXISTS (SELECT 1 FROM seg_jobs WHERE (id / seg) % 8 = k);
      INSERT INTO seg_truncations (part, dead)
        SELECT k, n_dead_tup FROM pg_stat_user_tables WHERE relname = part;
      EXECUTE format('TRUNCATE %I', part);
      n := n + 1;
    EXCEPTION WHEN lock_not_available THEN
      NULL;  -- busy: next round
    END;
  END LOOP;
  RETURN n;
END $$;
