-- Median time (ms) of 5 claims of queue 'default' when nothing is due: what an idle worker pays per
-- poll. Printed as a NOTICE "empty_claim_ms=<median>".
DO $$
DECLARE t timestamptz; ms float8[] := '{}';
BEGIN
  FOR i IN 1 .. 5 LOOP
    t := clock_timestamp();
    PERFORM count(*) FROM dlq.claim('default', 'idle-worker', 1);
    ms := ms || extract(epoch FROM clock_timestamp() - t) * 1000;
  END LOOP;
  RAISE NOTICE 'empty_claim_ms=%', (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 2) FROM unnest(ms) AS x);
END $$;
