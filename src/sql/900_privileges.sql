-- Least privilege. Four NOLOGIN roles (created when missing; roles are cluster-wide, so they outlive
-- DROP EXTENSION): grant them to login roles. Nobody but the extension owner touches the base tables:
-- every access goes through SECURITY DEFINER functions (pinned search_path, qualified names) and views.
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['dlq_producer', 'dlq_worker', 'dlq_operator', 'dlq_admin'] LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$$;
COMMENT ON ROLE dlq_producer IS 'dlq: may enqueue jobs';
COMMENT ON ROLE dlq_worker IS 'dlq: may claim, heartbeat, complete and fail jobs';
COMMENT ON ROLE dlq_operator IS 'dlq: may explore, review and replay dead letters and read stats';
COMMENT ON ROLE dlq_admin IS 'dlq: may manage queues and reasons and purge dead letters';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA dlq FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA dlq FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA dlq FROM PUBLIC;
GRANT USAGE ON SCHEMA dlq TO dlq_producer, dlq_worker, dlq_operator, dlq_admin;

GRANT EXECUTE ON FUNCTION dlq.enqueue(text, text, jsonb, timestamptz, integer, integer, text, text, text),
                          dlq.enqueue_many(text, jsonb)
   TO dlq_producer;

GRANT EXECUTE ON FUNCTION dlq.claim(text, text, integer, interval), dlq.heartbeat(bigint, text, interval),
                          dlq.complete(bigint, text), dlq.complete_many(bigint[], text),
                          dlq.fail(bigint, text, text, jsonb, boolean, interval)
   TO dlq_worker;

GRANT EXECUTE ON FUNCTION dlq.search(timestamptz, timestamptz, text, text, text, text, text, boolean, integer),
                          dlq.search_query(timestamptz, timestamptz, text, text, text, text, text, boolean, integer),
                          dlq.summary(timestamptz, timestamptz, text, text, text, text, text), dlq.inspect(bigint),
                          dlq.mark_reviewed(bigint[], text),
                          dlq.mark_reviewed_matching(timestamptz, timestamptz, text, text, text, text, text, text,
                                                     integer, boolean),
                          dlq.reprocess(bigint[], text, timestamptz, boolean),
                          dlq.reprocess_matching(timestamptz, timestamptz, text, text, text, text, text, text, integer,
                                                 boolean, boolean),
                          dlq.dead_letter(bigint, text, text), dlq.fingerprint(text), dlq.sweep(text, integer)
   TO dlq_operator;
GRANT SELECT ON dlq.dead_letters, dlq.queue_stats, dlq.queues, dlq.reasons, dlq.replays, dlq.replay_items, dlq.dead_letter_rate,
                dlq.vacuum_blockers
   TO dlq_operator;

GRANT EXECUTE ON FUNCTION dlq.create_queue(text, integer, interval, interval, interval, interval, boolean, interval),
                          dlq.alter_queue(text, integer, interval, interval, interval, interval, interval),
                          dlq.pause_queue(text), dlq.resume_queue(text), dlq.drop_queue(text, boolean),
                          dlq.register_reason(text, text, text, text), dlq.purge(interval, boolean),
                          dlq.sweep(text, integer)
   TO dlq_admin;
GRANT SELECT ON dlq.queues, dlq.queue_stats, dlq.reasons, dlq.vacuum_blockers TO dlq_admin;

-- The audit trail is append-only: no role, the owner included, may change or remove a replay record.
CREATE FUNCTION dlq._refuse_audit_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'the replay audit trail is append-only'
		USING ERRCODE = 'insufficient_privilege',
		      DETAIL = pg_catalog.format('%s on %s is not allowed.', TG_OP, TG_TABLE_NAME);
END
$$;
-- Created after the blanket REVOKE above, so revoked on its own (a trigger function is internal too).
REVOKE ALL ON FUNCTION dlq._refuse_audit_change() FROM PUBLIC;
CREATE TRIGGER replay_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON dlq.replay
	FOR EACH STATEMENT EXECUTE FUNCTION dlq._refuse_audit_change();
CREATE TRIGGER replay_item_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON dlq.replay_item
	FOR EACH STATEMENT EXECUTE FUNCTION dlq._refuse_audit_change();
