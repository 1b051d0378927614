\set n random(1, 1000000000)
SELECT dlq.enqueue('default', 'email', jsonb_build_object('n', (:n)::int, 'kind', 'email', 'to', 'user@example.com'));
