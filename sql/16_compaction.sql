-- dlq._compact_jobs: the live jobs copied into new storage of dlq.job, the old storage (and its dead
-- row versions) dropped. When the sweeper calls it is tested in test/t/006_compaction.pl, what an older
-- snapshot sees afterwards in test/isolation/specs/compaction.spec.
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
SELECT dlq.create_queue('mail', max_attempts => 3, lease => '10 minutes');
SELECT dlq.create_queue('other');

-- Jobs in every state: waiting, leased, waiting for a retry with its error, scheduled, deduplicated,
-- prioritised, with a payload large enough to live in the TOAST table; and finished jobs' dead rows.
SELECT count(*) AS enqueued FROM (SELECT dlq.enqueue('mail', 'mail.send', jsonb_build_object('n', g)) FROM generate_series(1, 40) AS g) AS e;
SELECT dlq.enqueue('mail', 'mail.big', jsonb_build_object('blob', (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 3000) AS g))) AS big_id \gset
SELECT dlq.enqueue('mail', 'mail.once', '{}', dedup_key => 'once') AS dedup_id \gset
SELECT dlq.enqueue('mail', 'mail.later', '{}', run_at => now() + interval '1 day') AS later_id \gset
SELECT dlq.enqueue('other', 'other.urgent', '{}', priority => -5) AS urgent_id \gset
SELECT count(*) AS finished FROM (SELECT dlq.complete(c.job_id, 'churn') FROM dlq.claim('mail', 'churn', 20) AS c) AS f;
SELECT job_id AS leased_id FROM dlq.claim('mail', 'holder', 1) \gset
SELECT job_id AS failed_id FROM dlq.claim('mail', 'failer', 1) \gset
SELECT dlq.fail(:failed_id, 'failer', 'smtp timeout', retry_in => '1 hour');
CREATE TEMP TABLE before AS SELECT * FROM dlq.job;
SELECT pg_relation_filenode('dlq.job') AS filenode_before \gset
SELECT pg_stat_force_next_flush();
SELECT pg_stat_get_dead_tuples('dlq.job'::regclass) > 0 AS dead_rows_before;

-- (lock_timeout_ms => 10000 throughout: a sweeper may hold a lock on dlq.job for a moment.)
-- More live jobs than allowed: nothing changes.
SELECT outcome, live_rows FROM dlq._compact_jobs(max_live_rows => 10, lock_timeout_ms => 10000);
SELECT outcome, live_rows FROM dlq._compact_jobs(max_live_rows => 1000, max_live_bytes => 1000, lock_timeout_ms => 10000);
SELECT pg_relation_filenode('dlq.job') = :filenode_before AS same_storage;

-- Compacted: new storage, the same jobs, every column the same.
SELECT outcome, live_rows, bytes_before >= bytes_after AS not_larger
  FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);
SELECT pg_relation_filenode('dlq.job') <> :filenode_before AS new_storage;
SELECT count(*) AS missing FROM (SELECT * FROM before EXCEPT ALL SELECT * FROM dlq.job) AS d;
SELECT count(*) AS extra FROM (SELECT * FROM dlq.job EXCEPT ALL SELECT * FROM before) AS d;
SELECT length(payload->>'blob') AS big_payload FROM dlq.job WHERE id = :big_id;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_get_live_tuples('dlq.job'::regclass) AS live_rows, pg_stat_get_dead_tuples('dlq.job'::regclass) AS dead_rows;

-- The jobs work as before: the dedup key holds, the lease holder completes, claims keep their order.
SELECT dlq.enqueue('mail', 'mail.once', '{}', dedup_key => 'once') = :dedup_id AS dedup_kept;
SELECT dlq.heartbeat(:leased_id, 'holder') AS heartbeat_ok, dlq.complete(:leased_id, 'other-worker') AS intruder;
SELECT dlq.complete(:leased_id, 'holder') AS completed;
SELECT job_id = :urgent_id AS urgent_first FROM dlq.claim('other', 'w', 1);
SELECT array_agg(job_id ORDER BY job_id) = (SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM before WHERE queue_id =
       (SELECT id FROM dlq.queue WHERE name = 'mail') AND attempt = 0 AND run_at <= now() ORDER BY priority, run_at, id LIMIT 5) AS f)
       AS claim_order_kept
  FROM dlq.claim('mail', 'w', 5);
SELECT attempt, last_error, first_failed_at IS NOT NULL AS failed_before FROM dlq.job WHERE id = :failed_id;

-- Compacting again (nothing dead) and an empty table.
SELECT outcome, live_rows FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);
CREATE TEMP TABLE kept AS SELECT * FROM dlq.job;
DELETE FROM dlq.job;
SELECT outcome, live_rows FROM dlq._compact_jobs(max_live_rows => 0, lock_timeout_ms => 10000);
INSERT INTO dlq.job SELECT * FROM kept;

-- A column added later keeps its default in the copies.
ALTER TABLE dlq.job ADD COLUMN note text DEFAULT 'from the catalog';
SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);
SELECT count(*) FILTER (WHERE note = 'from the catalog') = count(*) AS defaults_kept FROM dlq.job;
ALTER TABLE dlq.job DROP COLUMN note;

-- Inside a transaction that rolls back, the old storage stays.
SELECT pg_relation_filenode('dlq.job') AS filenode_before \gset
BEGIN;
SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);
ROLLBACK;
SELECT pg_relation_filenode('dlq.job') = :filenode_before AS same_storage, count(*) = (SELECT count(*) FROM kept) AS same_jobs
  FROM dlq.job;

-- Not compacted when TRUNCATE and a copy would bypass something on dlq.job.
CREATE FUNCTION pg_temp.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER audit AFTER DELETE ON dlq.job FOR EACH ROW EXECUTE FUNCTION pg_temp.audit();
SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);
DROP TRIGGER audit ON dlq.job;
CREATE TABLE job_ref (job_id bigint REFERENCES dlq.job (id));
SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);
DROP TABLE job_ref;
CREATE TABLE job_child () INHERITS (dlq.job);
SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);
DROP TABLE job_child;

-- Not compacted while another transaction has held a lock on dlq.job for a second.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('reader', format('host=%s port=%s dbname=%s user=%s',
       split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database(),
       current_user));
SELECT dblink_exec('reader', 'BEGIN');
SELECT n FROM dblink('reader', 'SELECT count(*) FROM dlq.job') AS t (n bigint) WHERE n > 0;
SELECT pg_sleep(1.1);
SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);
SELECT dblink_exec('reader', 'COMMIT');
SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 10000);

-- A lock taken just now: waited for lock_timeout_ms, then given up; lock_timeout is as it was.
SELECT dblink_exec('reader', 'BEGIN');
SELECT dblink_exec('reader', 'LOCK TABLE dlq.job IN ROW EXCLUSIVE MODE');
SELECT outcome FROM dlq._compact_jobs(max_live_rows => 1000, lock_timeout_ms => 20, busy_after_ms => 600000);
SHOW lock_timeout;
SELECT dblink_exec('reader', 'COMMIT');
SELECT dblink_disconnect('reader');

-- Bad input.
SELECT * FROM dlq._compact_jobs(max_live_rows => -1);
SELECT * FROM dlq._compact_jobs(max_live_rows => 10, lock_timeout_ms => 0);
SELECT * FROM dlq._compact_jobs(max_live_rows => NULL);
SELECT * FROM dlq._compact_jobs(max_live_rows => 10, busy_after_ms => -1);
SELECT dlq._rewrite_job_table(10, -1);
-- The rewrite needs the lock that _compact_jobs takes.
SELECT dlq._rewrite_job_table(10, 1000000);

-- Internal: not for the API's roles.
SET ROLE dlq_admin;
SELECT * FROM dlq._compact_jobs(max_live_rows => 10);
RESET ROLE;
