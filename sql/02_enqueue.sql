-- Producers: dlq.enqueue and dlq.enqueue_many, deduplication, defaults, scheduling and bad input.
-- Every error is followed by its SQLSTATE.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all
SELECT dlq.create_queue('mail', max_attempts => 4);
SELECT dlq.create_queue('sms');

-- enqueue with only the required arguments: every default applies.
SELECT dlq.enqueue('mail', 'welcome') AS job_id;
SELECT id, kind, payload, run_at = enqueued_at AS run_at_enqueue_time, run_at <= now() AS due, priority,
       max_attempts, tenant, actor, dedup_key, attempt, worker, lease_expires_at IS NULL AS waiting, errors
  FROM dlq.job WHERE id = jid(1);
-- enqueue with every parameter, in named notation; run_at in the future makes it scheduled.
SELECT dlq.enqueue(queue => 'mail', kind => 'invoice', payload => '{"invoice": 1001, "lines": [1, 2]}',
                   run_at => now() + interval '1 hour', priority => -5, max_attempts => 2, tenant => 'acme',
                   actor => 'alice', dedup_key => 'invoice-1001') AS job_id;
SELECT id, kind, payload, run_at > now() + interval '59 minutes' AS in_an_hour, priority, max_attempts, tenant,
       actor, dedup_key, attempt
  FROM dlq.job WHERE id = jid(2);
-- Positional notation works too; NULL for payload, run_at and priority means the default.
SELECT dlq.enqueue('mail', 'receipt', '[1, "two", null]', now() - interval '1 minute', 7, 1, 't', 'a', NULL)
       AS job_id;
SELECT dlq.enqueue('mail', 'ping', payload => NULL, run_at => NULL, priority => NULL, max_attempts => NULL)
       AS job_id;
SELECT id, kind, payload, run_at <= now() AS due, priority, max_attempts, tenant, actor
  FROM dlq.job WHERE id IN (jid(3), jid(4)) ORDER BY id;
-- Any JSON value is a payload.
SELECT dlq.enqueue('sms', 'text', payload => '"hello"') AS job_id;
SELECT dlq.enqueue('sms', 'text', payload => 'null') AS job_id;
SELECT id, payload, jsonb_typeof(payload) FROM dlq.job WHERE id IN (jid(5), jid(6)) ORDER BY id;
SELECT queue, available, scheduled, running FROM dlq.queue_stats ORDER BY queue;

-- enqueue_many: ids come back in element order.
SELECT dlq.create_queue('bulk', max_attempts => 3);
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a"}, {"kind": "b"}, {"kind": "c"}]');
SELECT id, kind FROM dlq.job WHERE kind IN ('a', 'b', 'c') ORDER BY id;
-- ... with every field, and the defaults for fields left out or null.
SELECT * FROM dlq.enqueue_many(queue => 'bulk', jobs => '[
  {"kind": "full", "payload": {"k": [1, 2]}, "run_at": "2999-01-01T00:00:00Z", "priority": -3,
   "max_attempts": 9, "tenant": "acme", "actor": "bob", "dedup_key": "full-1"},
  {"kind": "nulls", "payload": null, "run_at": null, "priority": null, "max_attempts": null, "tenant": null,
   "actor": null, "dedup_key": null},
  {"kind": "offset", "run_at": "2999-06-01 12:30:00+02:00"},
  {"kind": "past", "run_at": "2000-01-01T00:00:00.123456Z"}
]');
SELECT id, kind, payload, priority, max_attempts, tenant, actor, dedup_key,
       run_at = '2999-01-01 00:00:00+00' AS run_at_2999, run_at = '2999-06-01 10:30:00+00' AS run_at_offset,
       run_at = '2000-01-01 00:00:00.123456+00' AS run_at_past, run_at = enqueued_at AS run_at_enqueue_time
  FROM dlq.job WHERE kind IN ('full', 'nulls', 'offset', 'past') ORDER BY id;
SELECT queue, available, scheduled FROM dlq.queue_stats WHERE queue = 'bulk';
-- A batch of one.
SELECT * FROM dlq.enqueue_many('sms', '[{"kind": "single"}]');

-- dedup_key: while a job with the key is live, the same key in the same queue returns that job's id
-- (whatever the other arguments) and adds nothing. (Ids are compared, not printed, from here on: a
-- deduplicated call may use up a sequence value.)
SELECT dlq.enqueue('mail', 'invoice', dedup_key => 'invoice-1001') AS same_job;
SELECT dlq.enqueue('mail', 'something else', payload => '{"x": 1}', run_at => now() + interval '1 year',
                   priority => 100, dedup_key => 'invoice-1001') AS same_job;
SELECT count(*) AS jobs_with_key, min(kind) AS kind, min(payload::text) AS payload, min(priority) AS priority
  FROM dlq.job WHERE dedup_key = 'invoice-1001';
-- Another queue has its own keys.
SELECT dlq.enqueue('sms', 'invoice', dedup_key => 'invoice-1001') <> 2 AS new_job_in_other_queue;
SELECT count(*) AS jobs_with_key FROM dlq.job WHERE dedup_key = 'invoice-1001';
-- The key is held while the job runs, too; once the job has completed the key is free again.
SELECT dlq.create_queue('reports');
SELECT dlq.enqueue('reports', 'report', dedup_key => 'report-7') AS report_job \gset
SELECT dlq.enqueue('reports', 'report', dedup_key => 'report-7') = :report_job AS same_waiting_job;
SELECT job_id = :report_job AS claimed_report, kind, attempt FROM dlq.claim('reports', 'w1');
SELECT dlq.enqueue('reports', 'report', dedup_key => 'report-7') = :report_job AS same_running_job;
SELECT dlq.complete(:report_job, 'w1');
SELECT dlq.enqueue('reports', 'report', dedup_key => 'report-7') AS new_report_job \gset
SELECT :new_report_job > :report_job AS new_id;
SELECT id = :new_report_job AS is_new_job, kind, dedup_key, attempt FROM dlq.job WHERE dedup_key = 'report-7';
-- A job that died frees its key as well.
SELECT job_id = :new_report_job AS claimed_new FROM dlq.claim('reports', 'w1');
SELECT dlq.fail(:new_report_job, 'w1', 'broken', retryable => false);
SELECT dlq.enqueue('reports', 'report', dedup_key => 'report-7') NOT IN (:report_job, :new_report_job)
       AS third_job;

-- Deduplication in enqueue_many, inside the batch (a later element gets the earlier one's id) and
-- against live jobs (the element gets the live job's id).
SELECT dlq.enqueue('bulk', 'live', dedup_key => 'live-1') AS live_job \gset
CREATE TEMP TABLE batch AS
SELECT * FROM dlq.enqueue_many('bulk', '[
  {"kind": "d1", "dedup_key": "batch-1"},
  {"kind": "d2", "dedup_key": "live-1"},
  {"kind": "d3", "dedup_key": "batch-1"},
  {"kind": "d4"},
  {"kind": "d5", "dedup_key": "full-1"}
]') WITH ORDINALITY AS t (job_id, element);
SELECT b.element, j.kind AS job_kind, b.job_id = :live_job AS is_live_job FROM batch AS b
  JOIN dlq.job AS j ON j.id = b.job_id ORDER BY b.element;
SELECT kind FROM dlq.job WHERE kind LIKE 'd_' ORDER BY id;
SELECT count(*) AS distinct_ids FROM (SELECT DISTINCT job_id FROM batch) AS d;

-- Bad input to enqueue.
SELECT dlq.enqueue(NULL, 'welcome');
\echo :LAST_ERROR_SQLSTATE
-- run_at must be a time: -infinity would break dlq.queue_stats' waiting times, infinity never comes.
SELECT dlq.enqueue('mail', 'welcome', run_at => '-infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', 'welcome', run_at => 'infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('nope', 'welcome');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('nope', 'welcome', dedup_key => 'k');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('', 'welcome');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', ' ');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', repeat('k', 201));
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', 'welcome', tenant => '');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', 'welcome', tenant => E'\t');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', 'welcome', actor => ' ');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', 'welcome', dedup_key => '  ');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', 'welcome', tenant => repeat('t', 201));
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', 'welcome', max_attempts => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('mail', 'welcome', max_attempts => 1001);
\echo :LAST_ERROR_SQLSTATE

-- Bad input to enqueue_many: the whole batch is rejected, naming the element (0-based) and field.
SELECT count(*) AS jobs_before FROM dlq.job;
SELECT * FROM dlq.enqueue_many(NULL, '[{"kind": "a"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('nope', '[{"kind": "a"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many(' ', '[{"kind": "a"}]');
\echo :LAST_ERROR_SQLSTATE
-- Not an array.
SELECT * FROM dlq.enqueue_many('bulk', '{"kind": "a"}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '"a"');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', 'null');
\echo :LAST_ERROR_SQLSTATE
-- Empty.
SELECT * FROM dlq.enqueue_many('bulk', '[]');
\echo :LAST_ERROR_SQLSTATE
-- Too many.
SELECT count(*) FROM dlq.enqueue_many('bulk',
  (SELECT jsonb_agg(jsonb_build_object('kind', 'k')) FROM generate_series(1, 10001)));
\echo :LAST_ERROR_SQLSTATE
-- An element that is not an object.
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a"}, "b"]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[[{"kind": "a"}]]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[null]');
\echo :LAST_ERROR_SQLSTATE
-- kind missing, blank, null or not a string.
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a"}, {"kind": "b"}, {"payload": {}}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": ""}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "  "}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": null}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": 7}]');
\echo :LAST_ERROR_SQLSTATE
-- Wrong types and out-of-range values.
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "priority": "high"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "priority": 1.5}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "priority": 2147483648}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "max_attempts": 0}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "max_attempts": 1001}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "max_attempts": "3"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "tenant": 5}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "tenant": ""}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "actor": true}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "dedup_key": 42}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "dedup_key": " "}]');
\echo :LAST_ERROR_SQLSTATE
-- An unknown field (a typo must not be silently ignored).
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "priorty": 1}]');
\echo :LAST_ERROR_SQLSTATE
-- Bad run_at: not a timestamp, no time zone, impossible date, not a string.
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "run_at": "tomorrow"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "run_at": "2030-01-01T00:00:00"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "run_at": "2030-02-30T00:00:00Z"}]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a", "run_at": 1700000000}]');
\echo :LAST_ERROR_SQLSTATE
-- A number past a double's range is valid JSON, but not an integer.
SELECT * FROM dlq.enqueue_many('bulk', '[{"kind": "a"}, {"kind": "b", "priority": 1e400}]');
\echo :LAST_ERROR_SQLSTATE
-- None of the rejected batches added anything.
SELECT count(*) AS jobs_after FROM dlq.job;
-- In a payload it is kept, as jsonb keeps it.
SELECT count(*) AS enqueued FROM dlq.enqueue_many('bulk', '[{"kind": "huge", "payload": {"amount": 1e400}}]');
SELECT (payload ->> 'amount')::numeric = 1e400 AS kept FROM dlq.job WHERE kind = 'huge';
DELETE FROM dlq.job WHERE kind = 'huge';
-- The largest batch is allowed.
SELECT count(*) AS enqueued FROM dlq.enqueue_many('bulk',
  (SELECT jsonb_agg(jsonb_build_object('kind', 'k', 'payload', i)) FROM generate_series(1, 10000) AS i));
SELECT count(*) AS jobs, count(DISTINCT payload) AS payloads FROM dlq.job WHERE kind = 'k';
