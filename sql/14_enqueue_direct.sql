-- The enqueue runs without the executor when nothing but dlq's own trigger watches dlq.job
-- (src/pg/job_insert.cpp): jobs are formed in C and written with heap_insert / heap_multi_insert.
-- These cases check that it writes what the INSERT statement writes:
--  - every column of a new job, defaults and given values, one job and a batch;
--  - the same batch through the statement (a user trigger on dlq.job sends the enqueue there, and the
--    trigger fires) gives the same rows;
--  - a payload stored out of line, and one passed as another table's TOAST pointer, stay whole;
--  - every index has an entry for every job (amcheck), and the primary key's uniqueness is checked;
--  - batches over one write (100 jobs) keep element order; statistics count the inserts; later commands
--    of the transaction see the jobs; a rolled-back savepoint takes them away;
--  - a read-only transaction cannot enqueue (SQLSTATE 25006).
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
CREATE EXTENSION IF NOT EXISTS amcheck;
SELECT dlq.create_queue('direct', max_attempts => 4);
SELECT dlq.create_queue('direct_sql', max_attempts => 4);

-- Defaults: payload {}, run_at and enqueued_at now(), priority 0, the queue's max_attempts, attempt 0.
BEGIN;
SELECT dlq.enqueue('direct', 'plain') AS id \gset
SELECT kind, payload, run_at = now() AS run_at_now, enqueued_at = now() AS enqueued_now, priority,
       max_attempts, attempt,
       num_nulls(tenant, actor, dedup_key, replayed_from, first_failed_at, last_error, errors,
                 first_attempted_at, lease_expires_at, worker) AS null_columns
  FROM dlq.job WHERE id = :id;
COMMIT;

-- Every argument given.
SELECT dlq.enqueue(queue => 'direct', kind => 'full', payload => '[1, "two", {"3": null}]',
                   run_at => '2030-01-02 03:04:05.678+00', priority => -3, max_attempts => 7,
                   tenant => 'acme', actor => 'alice') AS id \gset
SELECT kind, payload, run_at AT TIME ZONE 'UTC' AS run_at_utc, priority, max_attempts, tenant, actor, attempt,
       queue_id = (SELECT id FROM dlq.queue WHERE name = 'direct') AS right_queue
  FROM dlq.job WHERE id = :id;

-- One batch through the direct path, then through the statement: identical rows but for id and queue.
CREATE TABLE batch_input AS SELECT '[
  {"kind": "a"},
  {"kind": "b", "payload": null},
  {"kind": "c", "payload": "just a string"},
  {"kind": "d", "payload": 42.5},
  {"kind": "e", "payload": {"nested": {"deep": [1, 2, {"x": true}]}}},
  {"kind": "f", "run_at": "2031-05-06T07:08:09.5+02:00", "priority": 2147483647},
  {"kind": "g", "run_at": "2031-05-06 07:08:09Z", "priority": -2147483648, "max_attempts": 1},
  {"kind": "h", "tenant": "t1", "actor": "a1", "max_attempts": 1000, "run_at": null, "priority": null},
  {"kind": "i", "payload": [], "tenant": null, "actor": null, "max_attempts": null}
]'::jsonb AS jobs;
CREATE TABLE trigger_saw (job_id bigint);
CREATE FUNCTION pg_temp.note_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.trigger_saw VALUES (NEW.id); -- dlq's functions pin their search_path
	RETURN NULL;
END $$;
BEGIN;
SELECT count(*) AS direct_jobs FROM dlq.enqueue_many('direct', (SELECT jobs FROM batch_input));
SELECT count(*) AS direct_one FROM (SELECT dlq.enqueue('direct', 'one', '{"via": "enqueue"}')) AS e;
CREATE TRIGGER user_trigger AFTER INSERT ON dlq.job FOR EACH ROW EXECUTE FUNCTION pg_temp.note_job();
SELECT count(*) AS statement_jobs FROM dlq.enqueue_many('direct_sql', (SELECT jobs FROM batch_input));
SELECT count(*) AS statement_one FROM (SELECT dlq.enqueue('direct_sql', 'one', '{"via": "enqueue"}')) AS e;
-- The trigger fired for the jobs of the statement path, and only for them.
SELECT count(*) AS trigger_rows, bool_and(j.queue_id = q.id) AS all_statement_path
  FROM trigger_saw AS t JOIN dlq.job AS j ON j.id = t.job_id, dlq.queue AS q WHERE q.name = 'direct_sql';
CREATE TEMP VIEW new_jobs AS
  SELECT q.name AS queue, j.kind, j.payload, j.run_at, j.enqueued_at, j.priority, j.max_attempts, j.tenant,
         j.actor, j.attempt, j.dedup_key, j.replayed_from, j.first_failed_at, j.last_error, j.errors,
         j.first_attempted_at, j.lease_expires_at, j.worker
    FROM dlq.job AS j JOIN dlq.queue AS q ON q.id = j.queue_id
   WHERE q.name IN ('direct', 'direct_sql') AND (j.kind = 'one' OR j.kind < 'j');
SELECT count(*) AS differing_rows FROM (
  (SELECT kind, payload, run_at, enqueued_at, priority, max_attempts, tenant, actor, attempt, dedup_key,
          replayed_from, first_failed_at, last_error, errors, first_attempted_at, lease_expires_at, worker
     FROM new_jobs WHERE queue = 'direct' AND kind IN ('a','b','c','d','e','f','g','h','i','one')
   EXCEPT ALL
   SELECT kind, payload, run_at, enqueued_at, priority, max_attempts, tenant, actor, attempt, dedup_key,
          replayed_from, first_failed_at, last_error, errors, first_attempted_at, lease_expires_at, worker
     FROM new_jobs WHERE queue = 'direct_sql')
  UNION ALL
  (SELECT kind, payload, run_at, enqueued_at, priority, max_attempts, tenant, actor, attempt, dedup_key,
          replayed_from, first_failed_at, last_error, errors, first_attempted_at, lease_expires_at, worker
     FROM new_jobs WHERE queue = 'direct_sql'
   EXCEPT ALL
   SELECT kind, payload, run_at, enqueued_at, priority, max_attempts, tenant, actor, attempt, dedup_key,
          replayed_from, first_failed_at, last_error, errors, first_attempted_at, lease_expires_at, worker
     FROM new_jobs WHERE queue = 'direct' AND kind IN ('a','b','c','d','e','f','g','h','i','one'))) AS d;
SELECT kind, payload, CASE WHEN run_at = now() THEN 'now()' ELSE (run_at AT TIME ZONE 'UTC')::text END AS run_at_utc,
       priority, max_attempts, tenant, actor
  FROM new_jobs WHERE queue = 'direct' AND kind IN ('a','b','c','d','e','f','g','h','i') ORDER BY kind;
ROLLBACK;

-- Payloads stored out of line: a large one given directly, a batch of them, and another table's TOAST
-- pointer (the job keeps its own copy when that table is gone).
CREATE TABLE big_payload (p jsonb);
ALTER TABLE big_payload ALTER COLUMN p SET STORAGE EXTERNAL;
INSERT INTO big_payload SELECT jsonb_build_object('blob', repeat('x', 300000));
SELECT dlq.enqueue('direct', 'from_table', (SELECT p FROM big_payload)) AS from_table_id \gset
DROP TABLE big_payload;
SELECT dlq.enqueue('direct', 'large', jsonb_build_object('blob', repeat(md5('seed'), 50000))) AS large_id \gset
SELECT count(*) AS large_batch FROM dlq.enqueue_many('direct',
  (SELECT jsonb_agg(jsonb_build_object('kind', 'large_many', 'payload', jsonb_build_object('blob', repeat(md5(i::text), 20000))))
     FROM generate_series(1, 3) AS i));
SELECT kind, octet_length(payload->>'blob') AS blob_bytes,
       payload->>'blob' = repeat('x', 300000) OR payload->>'blob' = repeat(md5('seed'), 50000)
       OR payload->>'blob' IN (SELECT repeat(md5(i::text), 20000) FROM generate_series(1, 3) AS i) AS intact
  FROM dlq.job WHERE kind IN ('from_table', 'large', 'large_many') ORDER BY id;
SELECT pg_relation_size(reltoastrelid) > 0 AS job_toast_used FROM pg_class WHERE oid = 'dlq.job'::regclass;

-- Batches larger than one heap_multi_insert (100 jobs): ids in element order, every job written once.
CREATE TEMP TABLE bulk_ids AS
  SELECT e.id, e.ord FROM dlq.enqueue_many('direct', (SELECT jsonb_agg(jsonb_build_object('kind', 'bulk', 'payload', i))
                                                        FROM generate_series(1, 2345) AS i)) WITH ORDINALITY AS e(id, ord);
SELECT count(*) AS ids, bool_and(id = (SELECT min(id) FROM bulk_ids) + ord - 1) AS ids_in_element_order FROM bulk_ids;
SELECT count(*) AS bulk_jobs, count(DISTINCT payload) AS distinct_payloads,
       bool_and(j.payload::int = b.ord) AS payload_of_its_element
  FROM dlq.job AS j JOIN bulk_ids AS b ON b.id = j.id WHERE j.kind = 'bulk';

-- Every index has an entry for every job, and no other (amcheck raises otherwise).
SELECT bt_index_check('dlq.job_pkey', heapallindexed => true),
       bt_index_check('dlq.job_claim_idx', heapallindexed => true),
       bt_index_check('dlq.job_dedup_idx', heapallindexed => true),
       bt_index_check('dlq.job_first_failed_idx', heapallindexed => true);

-- The jobs are claimable in claim order right away: priority first.
SELECT dlq.create_queue('direct_order');
SELECT count(*) FROM dlq.enqueue_many('direct_order',
  '[{"kind": "low", "priority": 5}, {"kind": "high", "priority": -5}, {"kind": "mid"}]');
SELECT dlq.enqueue('direct_order', 'highest', priority => -10) IS NOT NULL AS enqueued;
SELECT kind FROM dlq.claim('direct_order', 'w1', 10);

-- Statistics count the inserts; a later command of the transaction sees the jobs; a rolled-back
-- savepoint takes them away.
BEGIN;
SELECT pg_stat_get_xact_tuples_inserted('dlq.job'::regclass) AS inserted_before \gset
SELECT count(*) FROM dlq.enqueue_many('direct', '[{"kind": "counted"}, {"kind": "counted"}]');
SELECT dlq.enqueue('direct', 'counted') IS NOT NULL AS enqueued;
SELECT pg_stat_get_xact_tuples_inserted('dlq.job'::regclass) - :inserted_before AS inserted_by_these_calls;
DO $$
DECLARE
	v_id bigint := dlq.enqueue('direct', 'seen');
BEGIN
	IF NOT EXISTS (SELECT 1 FROM dlq.job WHERE id = v_id) THEN
		RAISE EXCEPTION 'job % not visible to the next command', v_id;
	END IF;
	RAISE NOTICE 'job enqueued in this block is visible: %', (SELECT kind FROM dlq.job WHERE id = v_id);
END $$;
SAVEPOINT s;
SELECT dlq.enqueue('direct', 'rolled_back') AS rolled_back_id \gset
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS rolled_back_jobs FROM dlq.job WHERE kind = 'rolled_back';
COMMIT;
SELECT count(*) AS counted_jobs FROM dlq.job WHERE kind IN ('counted', 'seen');

-- The primary key's uniqueness is checked: an id drawn twice (the sequence set back by hand) is refused.
-- (The sequence gives an id's low 44 bits: src/core/job_id.hpp.)
SELECT setval('dlq.job_id_seq', (SELECT min(id & 17592186044415) FROM dlq.job WHERE kind = 'bulk') - 1) > 0 AS set_back;
\set VERBOSITY terse
SELECT dlq.enqueue('direct', 'duplicate_id');
SELECT count(*) FROM dlq.enqueue_many('direct', '[{"kind": "duplicate_id"}]');
\set VERBOSITY default
SELECT setval('dlq.job_id_seq', (SELECT max(id & 17592186044415) FROM dlq.job)) > 0 AS set_forward;

-- A batch that fails after its first write (a duplicate id at element 150) leaves nothing behind.
DELETE FROM dlq.job;
SELECT dlq.enqueue('direct', 'in_the_way') AS in_the_way \gset
SELECT setval('dlq.job_id_seq', (:in_the_way & 17592186044415) - 150) > 0 AS set_back;
BEGIN;
SAVEPOINT s;
\set VERBOSITY terse
SELECT count(*) FROM dlq.enqueue_many('direct', (SELECT jsonb_agg(jsonb_build_object('kind', 'partial'))
                                                   FROM generate_series(1, 200)));
\set VERBOSITY default
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS partial_jobs FROM dlq.job WHERE kind = 'partial';
COMMIT;
SELECT setval('dlq.job_id_seq', :in_the_way & 17592186044415) > 0 AS set_forward;
SELECT kind FROM dlq.claim('direct', 'w1');

-- What an INSERT would enforce or apply and the direct path would not sends the enqueue back to the
-- statement: a CHECK constraint, a NOT NULL, a default, a rule, a column of another type (all added by
-- hand). Each is enforced, or applied, as before.
DELETE FROM dlq.job;
\set VERBOSITY terse
ALTER TABLE dlq.job ADD CONSTRAINT no_forbidden CHECK (kind <> 'forbidden');
SELECT dlq.enqueue('direct', 'forbidden');
SELECT dlq.enqueue_many('direct', '[{"kind": "forbidden"}]');
ALTER TABLE dlq.job DROP CONSTRAINT no_forbidden;
ALTER TABLE dlq.job ALTER COLUMN tenant SET NOT NULL;
SELECT dlq.enqueue('direct', 'no_tenant');
SELECT dlq.enqueue_many('direct', '[{"kind": "no_tenant"}]');
\set VERBOSITY default
SELECT dlq.enqueue('direct', 'with_tenant', tenant => 't') IS NOT NULL AS enqueued;
ALTER TABLE dlq.job ALTER COLUMN tenant DROP NOT NULL;
ALTER TABLE dlq.job ALTER COLUMN last_error SET DEFAULT 'set by a default';
SELECT dlq.enqueue('direct', 'defaulted') AS defaulted_id \gset
SELECT last_error FROM dlq.job WHERE id = :defaulted_id;
ALTER TABLE dlq.job ALTER COLUMN last_error DROP DEFAULT;
CREATE TABLE rule_saw (kind text);
CREATE RULE job_audit AS ON INSERT TO dlq.job DO ALSO INSERT INTO public.rule_saw VALUES (NEW.kind);
SELECT dlq.enqueue('direct', 'ruled') IS NOT NULL AS enqueued;
SELECT kind AS rule_saw FROM rule_saw;
DROP RULE job_audit ON dlq.job;
DROP TABLE rule_saw;
ALTER TABLE dlq.job ALTER COLUMN tenant TYPE varchar(3);
SELECT dlq.enqueue('direct', 'narrow', tenant => 'abc') AS narrow_id \gset
SELECT tenant, pg_typeof(tenant) FROM dlq.job WHERE id = :narrow_id;
SELECT dlq.enqueue('direct', 'narrow', tenant => 'abcd');
SELECT dlq.enqueue_many('direct', '[{"kind": "narrow", "tenant": "abcd"}]');
ALTER TABLE dlq.job ALTER COLUMN tenant TYPE text;
-- As created again: the direct path, and every index whole.
SELECT count(*) FROM dlq.enqueue_many('direct', '[{"kind": "after", "priority": 1}, {"kind": "after"}]');
SELECT dlq.enqueue('direct', 'after', priority => 2) IS NOT NULL AS enqueued;
SELECT kind, priority, last_error FROM dlq.job ORDER BY priority, id;
SELECT bt_index_check('dlq.job_pkey', heapallindexed => true),
       bt_index_check('dlq.job_claim_idx', heapallindexed => true);

-- Unknown queue, and read-only transactions.
SELECT dlq.enqueue('no_such_queue', 'x');
SELECT dlq.enqueue_many('no_such_queue', '[{"kind": "x"}]');
BEGIN TRANSACTION READ ONLY;
SELECT dlq.enqueue('direct', 'read_only');
ROLLBACK;
BEGIN TRANSACTION READ ONLY;
SELECT dlq.enqueue_many('direct', '[{"kind": "read_only"}]');
ROLLBACK;
-- The same through the statement path (a dedup key): the same error.
BEGIN TRANSACTION READ ONLY;
SELECT dlq.enqueue('direct', 'read_only', dedup_key => 'ro');
ROLLBACK;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
BEGIN TRANSACTION READ ONLY;
SELECT dlq.enqueue_many('direct', '[{"kind": "read_only", "dedup_key": "ro"}]');
ROLLBACK;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT count(*) AS read_only_jobs FROM dlq.job WHERE kind = 'read_only';

DROP TABLE batch_input, trigger_saw;
DROP EXTENSION amcheck;
