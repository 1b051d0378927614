-- psql -v n=200000 : enqueue :n jobs in committed batches of 1000
SELECT set_config('pb.n', :'n', false);
DO $$
DECLARE total int := current_setting('pb.n')::int; done int := 0;
BEGIN
  WHILE done < total LOOP
    PERFORM count(*) FROM dlq.enqueue_many('default', (
      SELECT jsonb_agg(jsonb_build_object('kind', 'email',
                       'payload', jsonb_build_object('n', done + i, 'kind', 'email', 'to', 'user@example.com')))
        FROM generate_series(1, least(1000, total - done)) AS i));
    done := done + least(1000, total - done);
    COMMIT;
  END LOOP;
END $$;
