-- Reprocessing dead letters: the classic exercise (a job with max_attempts 1 fails, shows up in the dead
-- letters, counts as unreviewed, is reprocessed after a fix and completes), skip counting, force, the
-- dlq.replays audit, lineage, and bad input. Every error is followed by its SQLSTATE.
\set SHOW_CONTEXT never
DROP EXTENSION IF EXISTS dlq CASCADE;
CREATE EXTENSION dlq;
\set ECHO none
\i sql/include/job_ids.sql
\set ECHO all

-- The classic exercise.
SELECT dlq.create_queue('orders', max_attempts => 1);
SELECT dlq.enqueue('orders', 'charge', payload => '{"order": 42, "amount": 1999}', priority => 3, tenant => 'acme',
                   actor => 'checkout') AS job_id;
SELECT job_id, kind, attempt, max_attempts FROM dlq.claim('orders', 'worker-1');
SELECT dlq.fail(jid(1), 'worker-1', 'payment service returned 503', details => '{"status": 503}');
-- It is a dead letter now, with its history, and the queue counts it as unreviewed.
SELECT count(*) AS live_jobs FROM dlq.job;
SELECT id, job_id, queue, kind, payload, tenant, actor, attempts, max_attempts, reason, detected_by, last_error,
       jsonb_array_length(errors) AS history, reviewed, replay_count, last_replayed_at, replayed_from
  FROM dlq.dead_letters;
SELECT queue, available, running, dead_letters, unreviewed FROM dlq.queue_stats;
-- After the fix it is reprocessed, with a justification: a new job, attempts 0, same queue, kind,
-- payload, priority, tenant and actor.
SELECT * FROM dlq.reprocess(ARRAY[1], 'payment service fixed in INC-7');
SELECT id, kind, payload, priority, tenant, actor, attempt, max_attempts, replayed_from, errors,
       run_at <= now() AS due
  FROM dlq.job;
-- The dead letter is marked reviewed (by the session user) and replayed.
SELECT id, reviewed, reviewed_at IS NOT NULL AS has_reviewed_at, reviewed_by = session_user AS by_session_user,
       replay_count, last_replayed_at IS NOT NULL AS has_replayed_at, last_replayed_at <= now() AS replayed_at_ok
  FROM dlq.dead_letters;
SELECT queue, available, running, dead_letters, unreviewed FROM dlq.queue_stats;
-- The audit row.
SELECT replay_id, at <= now() AS at_ok, actor = session_user AS by_session_user, justification, requested_ids,
       job_ids, queues, kinds, requested, requeued, skipped, forced
  FROM dlq.replays;
-- The new job runs and completes.
SELECT job_id, kind, payload, attempt, max_attempts, tenant FROM dlq.claim('orders', 'worker-2');
SELECT dlq.complete(jid(2), 'worker-2');
SELECT count(*) AS live_jobs FROM dlq.job;
SELECT queue, available, running, dead_letters, unreviewed FROM dlq.queue_stats;

-- Skips are counted: an id that does not exist, and a dead letter whose previous replay is still live.
SELECT dlq.enqueue('orders', 'refund', payload => '{"order": 7}') AS job_id;
SELECT job_id FROM dlq.claim('orders', 'worker-1');
SELECT dlq.fail(jid(3), 'worker-1', 'refund api down');
SELECT dlq.enqueue('orders', 'ship') AS job_id;
SELECT dlq.dead_letter(jid(4), note => 'warehouse closed');
SELECT id, job_id, kind, reason FROM dlq.dead_letters ORDER BY id;
-- Replay 2: dead letter 2 is requeued, 999 does not exist.
SELECT * FROM dlq.reprocess(ARRAY[2, 999], 'refund api is back');
-- Replay 3: dead letter 2's replay (job 5) is still waiting, so it is skipped; 3 is requeued; the
-- duplicate id counts once.
SELECT * FROM dlq.reprocess(ARRAY[3, 2, 3], 'warehouse open again');
-- Replay 4: force replays it anyway, and only it.
SELECT * FROM dlq.reprocess(ARRAY[2], 'second copy on purpose', force => true);
SELECT id, kind, attempt, replayed_from FROM dlq.job ORDER BY id;
SELECT id, replay_count, last_replay_job_id FROM dlq.dead_letters ORDER BY id;
-- Nothing to requeue still writes its audit row.
SELECT * FROM dlq.reprocess(ARRAY[998, 999], 'typo in the ids');
SELECT replay_id, actor = session_user AS by_session_user, justification, requested_ids, job_ids, queues, kinds,
       requested, requeued, skipped, forced
  FROM dlq.replays ORDER BY replay_id;
-- Once the replayed job has finished, the work was done: the dead letter is not replayed again (a second
-- charge) unless forced, and the NOTICE says why.
SELECT job_id, kind FROM dlq.claim('orders', 'worker-1', 10) ORDER BY job_id;
SELECT dlq.complete_many(ARRAY[jid(5), jid(6), jid(7)], 'worker-1');
SELECT * FROM dlq.reprocess(ARRAY[2, 3, 997], 'one more time');
SELECT i.dead_letter_id, i.outcome FROM dlq.replay_item AS i
 WHERE i.replay_id = (SELECT max(id) FROM dlq.replay) ORDER BY 1;
-- reprocess_matching leaves them out as well: all three dead letters of the queue have been replayed.
SELECT matched, selected FROM dlq.reprocess_matching(now() - interval '1 hour', now() + interval '1 hour',
                                                     queue => 'orders', justification => 'all of them again?');
SELECT * FROM dlq.reprocess(ARRAY[2, 3], 'one more time, on purpose', force => true);
-- run_at schedules the replay.
SELECT * FROM dlq.reprocess(ARRAY[1], 'replay tomorrow', run_at => now() + interval '1 day', force => true);
SELECT id, kind, replayed_from, run_at > now() + interval '23 hours' AS tomorrow FROM dlq.job ORDER BY id;
SELECT queue, available, scheduled, running, dead_letters, unreviewed FROM dlq.queue_stats;

-- Lineage: a replayed job that dies again records the dead letter it was replayed from.
SELECT job_id, kind FROM dlq.claim('orders', 'worker-1');
SELECT dlq.fail(jid(8), 'worker-1', 'refund api down again', retryable => false);
SELECT id, job_id, kind, reason, replayed_from, reviewed, replay_count FROM dlq.dead_letters ORDER BY id;
SELECT queue, dead_letters, unreviewed FROM dlq.queue_stats;
-- ... and a replay of that dead letter carries the lineage on.
SELECT * FROM dlq.reprocess(ARRAY[4], 'refund api really fixed');
SELECT id, kind, replayed_from FROM dlq.job WHERE kind = 'refund';

-- A dead letter whose queue was dropped is skipped too (there is nowhere to put it).
SELECT dlq.create_queue('gone', max_attempts => 1);
SELECT dlq.enqueue('gone', 'lost') AS job_id;
SELECT dlq.dead_letter(jid(12));
SELECT dlq.drop_queue('gone', force => true);
SELECT * FROM dlq.reprocess(ARRAY[5], 'queue was dropped');
SELECT id, queue, replay_count, last_replay_job_id FROM dlq.dead_letters WHERE id = 5;

-- Bad input. None of it writes an audit row.
SELECT count(*) AS replays_before FROM dlq.replays;
SELECT * FROM dlq.reprocess(ARRAY[1], '');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(ARRAY[1], E'  \t ');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(ARRAY[1], NULL);
\echo :LAST_ERROR_SQLSTATE
-- Left out, it is the same error (not "function does not exist").
SELECT * FROM dlq.reprocess(ARRAY[1]);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess('{}', 'empty list');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(ARRAY[NULL]::bigint[], 'only nulls');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(NULL, 'no list');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(ARRAY[1], 'no time', run_at => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(ARRAY[1], 'never', run_at => 'infinity');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM dlq.reprocess(ARRAY[1], 'no force', force => NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS replays_after FROM dlq.replays;

-- A replay that died again is carried on by the dead letter it became, and that one is the one to
-- replay: replaying the first as well would make two live copies of one job (a charge made twice).
SELECT dlq.create_queue('pay', max_attempts => 1);
SELECT dlq.enqueue('pay', 'charge', '{"charge_id": 42}') AS pay_job \gset
SELECT dlq.fail(job_id, 'w', 'timeout') FROM dlq.claim('pay', 'w');
SELECT id AS first_dl FROM dlq.dead_letters WHERE job_id = :pay_job \gset
SELECT requeued FROM dlq.reprocess(ARRAY[:first_dl], 'retry the charge');
SELECT dlq.fail(job_id, 'w', 'timeout again') FROM dlq.claim('pay', 'w');
SELECT id AS second_dl FROM dlq.dead_letters WHERE replayed_from = :first_dl \gset
-- reprocess_matching over the queue selects only the second.
SELECT matched, selected, requeued, skipped FROM dlq.reprocess_matching(now() - interval '1 hour',
  now() + interval '1 hour', queue => 'pay', justification => 'retry the charges', dry_run => false);
SELECT count(*) AS live_copies FROM dlq.job WHERE payload = '{"charge_id": 42}';
-- Given both by id: the first is superseded, the second's replay is live.
SELECT requested, requeued, skipped FROM dlq.reprocess(ARRAY[:first_dl, :second_dl], 'retry both');
SELECT i.dead_letter_id = :first_dl AS first, i.outcome
  FROM dlq.replay_item AS i WHERE i.replay_id = (SELECT max(id) FROM dlq.replay) ORDER BY 1 DESC;
SELECT count(*) AS live_copies FROM dlq.job WHERE payload = '{"charge_id": 42}';
-- force replays it all the same.
SELECT requeued FROM dlq.reprocess(ARRAY[:first_dl], 'a second charge on purpose', force => true);
SELECT count(*) AS live_copies FROM dlq.job WHERE payload = '{"charge_id": 42}';

-- A forced drop_queue deletes a pending replay's job before it ran: the dead letter is as if never
-- replayed, and once a queue of that name exists again a replay takes it without force.
SELECT dlq.create_queue('redo', max_attempts => 1);
SELECT dlq.enqueue('redo', 'k', '{"redo": 1}') AS redo_job \gset
SELECT dlq.dead_letter(:redo_job) AS redo_dl \gset
SELECT requeued FROM dlq.reprocess(ARRAY[:redo_dl], 'first try');
SELECT dlq.drop_queue('redo', force => true);
SELECT last_replay_job_id IS NULL AS as_never_replayed, replay_count FROM dlq.dead_letters WHERE id = :redo_dl;
SELECT dlq.create_queue('redo', max_attempts => 1);
SELECT requeued, skipped FROM dlq.reprocess(ARRAY[:redo_dl], 'the queue is back');
SELECT count(*) AS live_copies FROM dlq.job WHERE payload = '{"redo": 1}';
-- One whose replay job was claimed may have done its work: it stays replayed (force replays it).
SELECT dlq.create_queue('redo2', max_attempts => 1);
SELECT dlq.enqueue('redo2', 'k', '{"redo": 2}') AS redo2_job \gset
SELECT dlq.dead_letter(:redo2_job) AS redo2_dl \gset
SELECT requeued FROM dlq.reprocess(ARRAY[:redo2_dl], 'first try');
SELECT count(*) AS claimed FROM dlq.claim('redo2', 'w-redo');
SELECT dlq.drop_queue('redo2', force => true);
SELECT dlq.create_queue('redo2', max_attempts => 1);
SELECT requeued, skipped FROM dlq.reprocess(ARRAY[:redo2_dl], 'the queue is back');
