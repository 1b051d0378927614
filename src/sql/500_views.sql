-- Read-only views for operators and dashboards.

CREATE VIEW dlq.queues AS
SELECT q.name AS queue, q.max_attempts, q.lease, q.recovery_window, q.backoff_base, q.backoff_max, q.retention,
       q.paused, q.created_at
  FROM dlq.queue AS q;
COMMENT ON VIEW dlq.queues IS 'queue configuration';

CREATE VIEW dlq.queue_stats AS
SELECT q.name AS queue,
       coalesce(j.available, 0) AS available,
       coalesce(j.scheduled, 0) AS scheduled,
       coalesce(j.running, 0) AS running,
       coalesce(d.dead_letters, 0) AS dead_letters,
       coalesce(d.unreviewed, 0) AS unreviewed,
       now() - j.oldest_available_at AS oldest_available_age
  FROM dlq.queue AS q
  LEFT JOIN LATERAL (
	SELECT count(*) FILTER (WHERE x.lease_expires_at IS NULL AND x.run_at <= now()) AS available,
	       count(*) FILTER (WHERE x.lease_expires_at IS NULL AND x.run_at > now()) AS scheduled,
	       count(*) FILTER (WHERE x.lease_expires_at IS NOT NULL) AS running,
	       min(x.run_at) FILTER (WHERE x.lease_expires_at IS NULL AND x.run_at <= now()) AS oldest_available_at
	  FROM dlq.job AS x
	 WHERE x.id BETWEEN q.id::bigint << 45 AND (q.id::bigint << 45) + 35184372088831) AS j ON true -- the queue's ids
  LEFT JOIN LATERAL (
	SELECT count(*) AS dead_letters, count(*) FILTER (WHERE NOT y.reviewed) AS unreviewed
	  FROM dlq.dead_letter AS y WHERE y.queue = q.name) AS d ON true;
COMMENT ON VIEW dlq.queue_stats IS 'per queue: jobs available, scheduled, running; dead letters and unreviewed';

CREATE VIEW dlq.dead_letters AS
SELECT d.id, d.job_id, d.queue, d.kind, d.tenant, d.actor, d.payload, d.attempts, d.max_attempts, d.reason,
       d.detected_by, d.last_error, d.errors, d.enqueued_at, d.first_attempted_at, d.dead_lettered_at,
       d.reviewed, d.reviewed_at, d.reviewed_by, d.notes, d.replay_count, d.last_replayed_at, d.replayed_from,
       d.last_replay_job_id, d.fingerprint, d.priority, d.metadata
  FROM dlq.dead_letter AS d;
COMMENT ON VIEW dlq.dead_letters IS 'dead letters with their full attempt history, review state and replays';

CREATE VIEW dlq.reasons AS
SELECT r.code, r.label, r.severity, r.description, r.builtin FROM dlq.reason AS r;
COMMENT ON VIEW dlq.reasons IS 'the dead-letter reason registry';

CREATE VIEW dlq.replays AS
SELECT r.id AS replay_id, r.at, r.actor, r.justification, r.requested_ids, r.job_ids, r.queues, r.kinds,
       r.requested, r.requeued, r.skipped, r.forced, r.context
  FROM dlq.replay AS r;
COMMENT ON VIEW dlq.replays IS 'audit trail of every reprocess call';

-- What each replay did with each dead letter asked for, and what became of the job it made: "what did
-- replay 6 become?" is SELECT job_status, count(*) FROM dlq.replay_items WHERE replay_id = 6 GROUP BY 1.
-- A job that is gone with no dead letter of it left is `completed` (or deleted by a forced drop_queue,
-- or its dead letter was purged).
CREATE VIEW dlq.replay_items AS
SELECT i.replay_id, i.dead_letter_id, i.outcome, i.job_id,
       CASE WHEN i.job_id IS NULL THEN NULL
            WHEN j.id IS NOT NULL AND j.lease_expires_at IS NOT NULL THEN 'running'
            WHEN j.id IS NOT NULL THEN 'waiting'
            WHEN dead.id IS NOT NULL THEN 'dead_lettered'
            ELSE 'completed' END AS job_status,
       dead.id AS job_dead_letter_id
  FROM dlq.replay_item AS i
  LEFT JOIN dlq.job AS j ON j.id = i.job_id
  LEFT JOIN dlq.dead_letter AS dead ON dead.job_id = i.job_id;
COMMENT ON VIEW dlq.replay_items IS
	'each dead letter of each replay: its outcome, the job it became and that job''s status';
