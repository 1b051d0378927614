-- psql -v queue=default -v n=1000000 -v delay='1 day' : enqueue :n jobs due at now() + :delay through
-- dlq.enqueue_many, 10,000 (its batch limit) per call and per committed transaction.
SELECT set_config('pb.queue', :'queue', false), set_config('pb.n', :'n', false),
       set_config('pb.delay', :'delay', false);
DO $$
DECLARE
  total bigint := current_setting('pb.n')::bigint;
  done bigint := 0;
  k int;
BEGIN
  WHILE done < total LOOP
    k := least(10000, total - done);
    PERFORM count(*) FROM dlq.enqueue_many(current_setting('pb.queue'), (
      SELECT jsonb_agg(jsonb_build_object('kind', 'email', 'run_at', now() + current_setting('pb.delay')::interval,
                       'payload', jsonb_build_object('n', done + i, 'kind', 'email', 'to', 'user@example.com')))
        FROM generate_series(1, k) AS i));
    done := done + k;
    COMMIT;
  END LOOP;
END $$;
