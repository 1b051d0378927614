-- psql -v batch=10000 : dlq.sweep(batch => :batch) in a loop, one transaction per call, until a call
-- handles less than a full batch of any outcome (as the background sweeper does). Prints one line:
-- calls|rescued|dead-lettered.
SELECT set_config('pb.batch', :'batch', false);
CREATE TEMP TABLE sweep_calls (rescued bigint, dead bigint);
DO $$
DECLARE b int := current_setting('pb.batch')::int; r bigint; d bigint;
BEGIN
  LOOP
    SELECT coalesce(sum(count) FILTER (WHERE outcome = 'rescued'), 0), coalesce(sum(count) FILTER (WHERE outcome <> 'rescued'), 0)
      INTO r, d FROM dlq.sweep(batch => b);
    INSERT INTO sweep_calls VALUES (r, d);
    COMMIT;
    EXIT WHEN r < b AND d < b;
  END LOOP;
END $$;
SELECT count(*), sum(rescued), sum(dead) FROM sweep_calls;
