-- Least privilege: a login in each of dlq_producer, dlq_worker, dlq_operator and dlq_admin can do its
-- job and gets a permission error (42501) for the rest; nobody but the owner reads or changes the base
-- tables; the audit trail records the session user and is append-only, even for the superuser.
-- SET SESSION AUTHORIZATION switches the session user, as a login would. Roles are cluster-wide: the
-- test roles are dropped at the end (and first, in case an earlier run stopped half-way).
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_dlq_producer, regress_dlq_worker, regress_dlq_operator, regress_dlq_admin,
                    regress_dlq_nobody;
RESET client_min_messages;
CREATE ROLE regress_dlq_producer LOGIN IN ROLE dlq_producer;
CREATE ROLE regress_dlq_worker LOGIN IN ROLE dlq_worker;
CREATE ROLE regress_dlq_operator LOGIN IN ROLE dlq_operator;
CREATE ROLE regress_dlq_admin LOGIN IN ROLE dlq_admin;
CREATE ROLE regress_dlq_nobody LOGIN;

-- The four roles exist, cannot log in, and are documented.
SELECT rolname, rolcanlogin, rolsuper, rolinherit, shobj_description(oid, 'pg_authid') AS comment
  FROM pg_roles WHERE rolname LIKE 'dlq\_%' ORDER BY rolname;

-- Who may execute what: every function of the schema, with the dlq roles allowed to call it. Internal
-- functions (_*) belong to the owner alone.
SELECT p.oid::regprocedure AS function,
       concat_ws(' ', CASE WHEN has_function_privilege('dlq_producer', p.oid, 'EXECUTE') THEN 'producer' END,
                      CASE WHEN has_function_privilege('dlq_worker', p.oid, 'EXECUTE') THEN 'worker' END,
                      CASE WHEN has_function_privilege('dlq_operator', p.oid, 'EXECUTE') THEN 'operator' END,
                      CASE WHEN has_function_privilege('dlq_admin', p.oid, 'EXECUTE') THEN 'admin' END,
                      CASE WHEN has_function_privilege('regress_dlq_nobody', p.oid, 'EXECUTE') THEN 'PUBLIC' END)
         AS granted_to,
       p.prosecdef AS security_definer,
       EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\_path=%') AS pinned_search_path
  FROM pg_proc AS p WHERE p.pronamespace = 'dlq'::regnamespace ORDER BY p.proname, p.oid::regprocedure::text;
-- The functions a dlq role may call are all SECURITY DEFINER with a pinned search_path (but
-- dlq.fingerprint, which reads no table).
SELECT count(*) AS callable_but_unsafe
  FROM pg_proc AS p
 WHERE p.pronamespace = 'dlq'::regnamespace
   AND (has_function_privilege('dlq_producer', p.oid, 'EXECUTE') OR has_function_privilege('dlq_worker', p.oid, 'EXECUTE')
        OR has_function_privilege('dlq_operator', p.oid, 'EXECUTE') OR has_function_privilege('dlq_admin', p.oid, 'EXECUTE'))
   AND NOT (p.prosecdef AND EXISTS (SELECT 1 FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\_path=%'))
   AND p.proname <> 'fingerprint';
-- Tables, views and sequences: only views are readable, and only by the roles that need them; nothing is
-- writable by anyone but the owner.
SELECT c.relname, c.relkind,
       concat_ws(' ', CASE WHEN has_table_privilege('dlq_producer', c.oid, 'SELECT') THEN 'producer' END,
                      CASE WHEN has_table_privilege('dlq_worker', c.oid, 'SELECT') THEN 'worker' END,
                      CASE WHEN has_table_privilege('dlq_operator', c.oid, 'SELECT') THEN 'operator' END,
                      CASE WHEN has_table_privilege('dlq_admin', c.oid, 'SELECT') THEN 'admin' END,
                      CASE WHEN has_table_privilege('regress_dlq_nobody', c.oid, 'SELECT') THEN 'PUBLIC' END)
         AS readable_by
  FROM pg_class AS c
 WHERE c.relnamespace = 'dlq'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'S') AND c.relname !~ '^dead_letter_[0-9]'
 ORDER BY c.relkind, c.relname;
SELECT count(*) AS writable
  FROM pg_class AS c, unnest(ARRAY['dlq_producer', 'dlq_worker', 'dlq_operator', 'dlq_admin', 'regress_dlq_nobody']) AS r,
       unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS priv
 WHERE c.relnamespace = 'dlq'::regnamespace AND c.relkind IN ('r', 'p', 'v') AND has_table_privilege(r, c.oid, priv);
SELECT count(*) AS usable_sequences
  FROM pg_class AS c, unnest(ARRAY['dlq_producer', 'dlq_worker', 'dlq_operator', 'dlq_admin', 'regress_dlq_nobody']) AS r
 WHERE c.relnamespace = 'dlq'::regnamespace AND c.relkind = 'S'
   AND (has_sequence_privilege(r, c.oid, 'USAGE') OR has_sequence_privilege(r, c.oid, 'SELECT')
        OR has_sequence_privilege(r, c.oid, 'UPDATE'));

-- ---- dlq_admin: queue settings, reasons, purge ------------------------------------------------------
SET SESSION AUTHORIZATION regress_dlq_admin;
SELECT session_user, current_user;
SELECT dlq.create_queue('jobs', max_attempts => 1);
SELECT dlq.create_queue('spare');
SELECT dlq.alter_queue('jobs', lease => '5 minutes');
SELECT dlq.pause_queue('spare');
SELECT dlq.resume_queue('spare');
SELECT dlq.drop_queue('spare');
SELECT dlq.register_reason('CUSTOMER_GONE', 'customer account closed', 'terminal');
SELECT queue, max_attempts, lease, paused FROM dlq.queues;
SELECT queue, available, dead_letters FROM dlq.queue_stats;
SELECT code, severity, builtin FROM dlq.reasons WHERE code = 'CUSTOMER_GONE';
SELECT outcome, count FROM dlq.sweep();
SELECT dlq.purge('30 days');
-- ... and nothing else.
SELECT dlq.enqueue('jobs', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('jobs', 'admin');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(now() - interval '1 day', now());
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(ARRAY[1], 'admin replays');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM dlq.dead_letters;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM dlq.queue;
\echo :LAST_ERROR_SQLSTATE
UPDATE dlq.queue SET max_attempts = 10;
\echo :LAST_ERROR_SQLSTATE
SELECT dlq._queue_id('jobs');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;

-- ---- dlq_producer: enqueue ----------------------------------------------------------------------------
SET SESSION AUTHORIZATION regress_dlq_producer;
SELECT session_user, current_user;
SELECT dlq.enqueue('jobs', 'resize', payload => '{"image": 1}', tenant => 'acme') AS job_id;
SELECT * FROM dlq.enqueue_many('jobs', '[{"kind": "resize", "payload": {"image": 2}}, {"kind": "resize"}]');
-- ... and nothing else: it cannot claim, look at what it enqueued, or manage queues.
SELECT * FROM dlq.claim('jobs', 'producer');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.complete(jid(1), 'producer');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM dlq.job;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM dlq.queues;
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.create_queue('mine');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(now() - interval '1 day', now());
\echo :LAST_ERROR_SQLSTATE
SELECT nextval('dlq.job_id_seq');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO dlq.job (queue_id, kind, payload, run_at, max_attempts) VALUES (1, 'forged', '{}', now(), 1);
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;

-- ---- dlq_worker: claim, heartbeat, complete, fail -----------------------------------------------------
SET SESSION AUTHORIZATION regress_dlq_worker;
SELECT session_user, current_user;
SELECT job_id, kind, attempt FROM dlq.claim('jobs', 'w1', 3) ORDER BY job_id;
SELECT dlq.heartbeat(jid(1), 'w1');
SELECT dlq.complete(jid(1), 'w1');
SELECT dlq.complete_many(ARRAY[jid(2)], 'w1');
-- Its last failure dead-letters the job (the partition is made as the owner).
SELECT dlq.fail(jid(3), 'w1', 'image 3 is corrupt');
-- ... and nothing else: it cannot see dead letters, replay them, or enqueue.
SELECT count(*) FROM dlq.dead_letters;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(ARRAY[1], 'worker replays');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess_matching(now() - interval '1 day', now(), justification => 'worker replays');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.mark_reviewed(ARRAY[1]);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.enqueue('jobs', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq._replay(ARRAY[1]::bigint[], 'bypass', now(), false, NULL);
\echo :LAST_ERROR_SQLSTATE
UPDATE dlq.job SET attempt = 0;
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
SELECT id, job_id, reason, detected_by, last_error FROM dlq.dead_letters;
-- The partitions of the dead letters (made by the admin's sweep and the worker's failure, as the
-- owner) are the owner's alone, like the other tables.
SELECT count(*) > 0 AS has_partitions,
       count(*) FILTER (WHERE EXISTS (
         SELECT 1 FROM unnest(ARRAY['dlq_producer', 'dlq_worker', 'dlq_operator', 'dlq_admin', 'regress_dlq_nobody']) AS r,
                       unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS priv
          WHERE has_table_privilege(r, i.inhrelid, priv))) AS with_privileges
  FROM pg_inherits AS i WHERE i.inhparent = 'dlq.dead_letter'::regclass;

-- ---- dlq_operator: explore, review, replay, stats -------------------------------------------------
SET SESSION AUTHORIZATION regress_dlq_operator;
SELECT session_user, current_user;
SELECT id, queue, kind, tenant, reason, error_snippet, total_count FROM dlq.search(now() - interval '1 day', now());
SELECT queue, kind, fingerprint, dead_letters FROM dlq.summary(now() - interval '1 day', now());
SELECT x -> 'dead_letter' ->> 'reason' AS reason, jsonb_array_length(x -> 'attempts') AS attempts FROM dlq.inspect(1) AS x;
SELECT dlq.search_query(now() - interval '1 day', now()) LIKE 'SELECT %' AS has_query;
SELECT dlq.fingerprint('image 3 is corrupt');
SELECT id, kind, reason FROM dlq.dead_letters;
SELECT queue, available, dead_letters, unreviewed FROM dlq.queue_stats;
SELECT queue, reason, last_day FROM dlq.dead_letter_rate;
SELECT count(*) AS reasons FROM dlq.reasons WHERE builtin;
SELECT count(*) AS queues FROM dlq.queues;
SELECT * FROM dlq.mark_reviewed_matching(now() - interval '1 day', now(), dry_run => true);
SELECT dlq.mark_reviewed(ARRAY[1], 'looked at it');
SELECT id, reviewed, reviewed_by, reviewed_by = session_user AS by_session_user, notes FROM dlq.dead_letters;
-- A replay is audited under the session user, whatever role is current.
SELECT replay_id, requested, requeued, skipped FROM dlq.reprocess(ARRAY[1], 'image 3 re-uploaded');
SET ROLE dlq_operator;
SELECT session_user, current_user;
SELECT replay_id, dry_run, matched, requeued, skipped
  FROM dlq.reprocess_matching(now() - interval '1 day', now(), justification => 'again under SET ROLE', dry_run => false);
RESET ROLE;
SELECT replay_id, actor, actor = session_user AS by_session_user, justification, requeued, skipped
  FROM dlq.replays ORDER BY replay_id;
-- The operator may dead-letter a live job by hand and sweep.
SELECT dlq.dead_letter(jid(4), note => 'not needed any more');
SELECT outcome, count FROM dlq.sweep('jobs');
-- ... and nothing else. It cannot delete or change dead letters directly, through the base table or the
-- view, ...
DELETE FROM dlq.dead_letter;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dlq.dead_letters;
\echo :LAST_ERROR_SQLSTATE
UPDATE dlq.dead_letters SET reviewed = false;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE dlq.dead_letter;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM dlq.dead_letter;
\echo :LAST_ERROR_SQLSTATE
-- (A partition's name holds its date, so the error is caught and reported without it.)
DO $$
DECLARE
	p regclass := (SELECT i.inhrelid::regclass FROM pg_inherits AS i
	                WHERE i.inhparent = 'dlq.dead_letter'::regclass ORDER BY i.inhrelid LIMIT 1);
BEGIN
	EXECUTE pg_catalog.format('SELECT count(*) FROM %s', p);
	RAISE NOTICE 'a partition of dlq.dead_letter was readable';
EXCEPTION WHEN insufficient_privilege THEN
	RAISE NOTICE 'permission denied for a partition of dlq.dead_letter (%)', SQLSTATE;
END
$$;
-- ... nor touch the audit, ...
UPDATE dlq.replay SET justification = 'forged';
\echo :LAST_ERROR_SQLSTATE
UPDATE dlq.replays SET actor = 'someone else';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dlq.replay;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dlq.replays;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dlq.replay_item;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO dlq.replay (actor, justification, requested_ids, job_ids, queues, kinds, requested, requeued, skipped)
VALUES ('someone else', 'forged', '{}', '{}', '{}', '{}', 0, 0, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM dlq.replay;
\echo :LAST_ERROR_SQLSTATE
-- ... nor bypass the API through internal functions, ...
SELECT dlq._replay(ARRAY[1]::bigint[], 'bypass', now(), true, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq._requeue_dead_letters(ARRAY[1]::bigint[], now());
\echo :LAST_ERROR_SQLSTATE
SELECT dlq._ensure_dead_letter_partition(now() + interval '1 year');
\echo :LAST_ERROR_SQLSTATE
-- ... nor do a producer's, worker's or admin's job.
SELECT dlq.enqueue('jobs', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.claim('jobs', 'operator');
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.purge('0', include_unreviewed => true);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.drop_queue('jobs', force => true);
\echo :LAST_ERROR_SQLSTATE
SELECT dlq.alter_queue('jobs', max_attempts => 100);
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;
-- An operator who is also a producer may enqueue.
GRANT dlq_producer TO regress_dlq_operator;
SET SESSION AUTHORIZATION regress_dlq_operator;
SELECT dlq.enqueue('jobs', 'from-operator') AS job_id;
RESET SESSION AUTHORIZATION;
REVOKE dlq_producer FROM regress_dlq_operator;
SET SESSION AUTHORIZATION regress_dlq_operator;
SELECT dlq.enqueue('jobs', 'from-operator');
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;

-- ---- a login in no dlq role can do nothing --------------------------------------------------------------
SET SESSION AUTHORIZATION regress_dlq_nobody;
SELECT dlq.enqueue('jobs', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM dlq.dead_letters;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.search(now() - interval '1 day', now());
\echo :LAST_ERROR_SQLSTATE
RESET SESSION AUTHORIZATION;

-- ---- the audit trail is append-only, even for the superuser ----------------------------------------
SELECT count(*) AS replays, (SELECT count(*) FROM dlq.replay_item) AS items FROM dlq.replay;
UPDATE dlq.replay SET justification = 'rewritten';
\echo :LAST_ERROR_SQLSTATE
UPDATE dlq.replay SET actor = 'someone else' WHERE false;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dlq.replay;
\echo :LAST_ERROR_SQLSTATE
UPDATE dlq.replay_item SET outcome = 'skipped_missing';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM dlq.replay_item;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE dlq.replay_item;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE dlq.replay, dlq.replay_item;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE dlq.replay CASCADE;
\echo :LAST_ERROR_SQLSTATE
-- (Alone, dlq.replay cannot be truncated anyway: the items refer to it.)
TRUNCATE dlq.replay;
\echo :LAST_ERROR_SQLSTATE
SELECT replay_id, actor, justification FROM dlq.replays ORDER BY replay_id;
SELECT count(*) AS replays, (SELECT count(*) FROM dlq.replay_item) AS items FROM dlq.replay;

-- ---- clean up: the test roles are cluster-wide -------------------------------------------------------
DROP OWNED BY regress_dlq_producer, regress_dlq_worker, regress_dlq_operator, regress_dlq_admin, regress_dlq_nobody;
DROP ROLE regress_dlq_producer, regress_dlq_worker, regress_dlq_operator, regress_dlq_admin, regress_dlq_nobody;
SELECT count(*) AS test_roles_left FROM pg_roles WHERE rolname LIKE 'regress\_dlq\_%';
