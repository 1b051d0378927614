-- Failure path, closed loop: enqueue one job into queue 'fail' (max_attempts 3), then three times
-- claim one job and fail it with retry_in 0 (due again at once); the third failure of a job
-- dead-letters it. Claims are SKIP LOCKED, so a client may fail another client's job: in steady
-- state every enqueued job is dead-lettered.
\set n random(1, 1000000000)
SELECT dlq.enqueue('fail', 'email', jsonb_build_object('n', (:n)::int, 'kind', 'email', 'to', 'user@example.com'));
SELECT coalesce(min(job_id), 0) AS jid, count(*) AS n FROM dlq.claim('fail', 'w' || :client_id, 1)
\gset
\if :n > 0
SELECT dlq.fail(:jid, 'w' || :client_id, 'smtp 550 mailbox unavailable', retry_in => '0');
\endif
SELECT coalesce(min(job_id), 0) AS jid, count(*) AS n FROM dlq.claim('fail', 'w' || :client_id, 1)
\gset
\if :n > 0
SELECT dlq.fail(:jid, 'w' || :client_id, 'smtp 550 mailbox unavailable', retry_in => '0');
\endif
SELECT coalesce(min(job_id), 0) AS jid, count(*) AS n FROM dlq.claim('fail', 'w' || :client_id, 1)
\gset
\if :n > 0
SELECT dlq.fail(:jid, 'w' || :client_id, 'smtp 550 mailbox unavailable', retry_in => '0');
\endif
