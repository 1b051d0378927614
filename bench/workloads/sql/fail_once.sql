-- Failure path at first failure, closed loop: enqueue one job into queue 'fail1' (max_attempts 1),
-- claim one job and fail it: every failure dead-letters. Three calls per job, as in W1c, so its rate
-- against W1c's is the dead-letter call's cost against the completion's, apart from the retries.
\set n random(1, 1000000000)
SELECT dlq.enqueue('fail1', 'email', jsonb_build_object('n', (:n)::int, 'kind', 'email', 'to', 'user@example.com'));
SELECT coalesce(min(job_id), 0) AS jid, count(*) AS n FROM dlq.claim('fail1', 'w' || :client_id, 1)
\gset
\if :n > 0
SELECT dlq.fail(:jid, 'w' || :client_id, 'smtp 550 mailbox unavailable', retry_in => '0');
\endif
