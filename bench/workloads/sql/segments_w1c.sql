-- W1c batch 1 on seg_jobs (segments_reset.sql): enqueue one job, claim one, complete it. Run with
-- -D seg=<segment size>. The delete names its partition; the claim's update probes each partition's id
-- index (a real implementation would compute the partition).
\set n random(1, 1000000000)
INSERT INTO seg_jobs (queue, payload)
VALUES ('default', jsonb_build_object('n', (:n)::int, 'kind', 'email', 'to', 'user@example.com'));
WITH c AS (
  UPDATE seg_jobs SET locked_at = now(), attempts = attempts + 1
   WHERE id = (SELECT id FROM seg_jobs
                WHERE queue = 'default' AND locked_at IS NULL AND run_at <= now()
                ORDER BY run_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
  RETURNING id)
SELECT coalesce(max(id), 0) AS id, count(*) AS n FROM c
\gset
\if :n > 0
DELETE FROM seg_jobs WHERE id = :id AND (id / :seg) % 8 = (:id::bigint / :seg) % 8;
\else
\sleep 1 ms
\endif
