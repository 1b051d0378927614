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
	  FROM dlq.job AS x WHERE x.queue_id = q.id) AS j ON true
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
