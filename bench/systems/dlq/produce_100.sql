\set n random(1, 1000000000)
SELECT count(*) FROM dlq.enqueue_many('default', (
  SELECT jsonb_agg(jsonb_build_object('kind', 'email',
                   'payload', jsonb_build_object('n', (:n)::int + i, 'kind', 'email', 'to', 'user@example.com')))
    FROM generate_series(1, 100) AS i));
