-- Internal helpers implemented by the C++ layer. Not part of the API; never granted to dlq roles.

CREATE FUNCTION dlq._builtin_reasons()
RETURNS TABLE (code text, label text, severity text, description text)
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_builtin_reasons';

CREATE FUNCTION dlq._validate_queue_settings(queue text, max_attempts integer, lease interval,
	recovery_window interval, backoff_base interval, backoff_max interval, retention interval DEFAULT NULL)
RETURNS void
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_validate_queue_settings';

CREATE FUNCTION dlq._validate_reason(code text, severity text)
RETURNS void
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_validate_reason';

-- One attempt of the error history, built by the core so every path writes the same record.
CREATE FUNCTION dlq._attempt_record(attempt integer, worker text, error text, details jsonb)
RETURNS jsonb
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_attempt_record';

-- When fail() retries an attempt: after retry_in, or the queue's backoff (computed by the core).
CREATE FUNCTION dlq._retry_at(attempt integer, backoff_base interval, backoff_max interval,
	unit_random double precision, retry_in interval)
RETURNS timestamptz
LANGUAGE C STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_retry_at';

-- Job-store entry points used by the plpgsql operator functions (statements live in src/pg/job_store.cpp).
CREATE FUNCTION dlq._requeue_dead_letters(ids bigint[], run_at timestamptz)
RETURNS TABLE (dead_letter_id bigint, job_id bigint)
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_requeue_dead_letters';

-- The id of a new job of the queue (src/core/job_id.hpp): its queue, whether it is born plain, and the
-- next value of dlq.job_id_seq.
CREATE FUNCTION dlq._new_job_id(queue_id integer, priority integer, run_at timestamptz)
RETURNS bigint
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_new_job_id';

CREATE FUNCTION dlq._delete_queue_jobs(queue_id integer)
RETURNS bigint
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_delete_queue_jobs';

-- The normalised form of an error message used to group dead letters into patterns.
CREATE FUNCTION dlq.fingerprint(error text)
RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_fingerprint';
COMMENT ON FUNCTION dlq.fingerprint(text) IS
	'error message with volatile parts (numbers, UUIDs, hex ids, quoted values, timestamps) normalised';

INSERT INTO dlq.reason (code, label, severity, description, builtin)
SELECT r.code, r.label, r.severity, r.description, true FROM dlq._builtin_reasons() AS r;

-- Claims start reading a queue's claim index at a hint kept in shared memory (src/pg/claim_hint.cpp).
-- The API notes every job it writes; this trigger catches writes from anywhere else (psql, COPY, a
-- restore) and sends the hints back to their queue's start. ENABLE ALWAYS: it fires under
-- session_replication_role = replica too. Not covered (README, "Claim hints"): a data-only restore with
-- --disable-triggers, logical replication's apply (row triggers only), user triggers writing jobs.
CREATE FUNCTION dlq._job_written()
RETURNS trigger
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_job_written';

CREATE TRIGGER job_written AFTER INSERT OR UPDATE OF id, queue_id, priority, run_at, enqueued_at, lease_expires_at ON dlq.job
	FOR EACH STATEMENT EXECUTE FUNCTION dlq._job_written();
ALTER TABLE dlq.job ENABLE ALWAYS TRIGGER job_written;

-- A queue's claim hint in its claim index lane; under the queue's id negated, in its plain lane (the
-- primary key: job_id is where claims start, src/core/job_id.hpp).
CREATE FUNCTION dlq._claim_hint(queue_id integer)
RETURNS TABLE (priority integer, run_at timestamptz, job_id bigint, writes bigint, open_writers integer)
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_claim_hint';

-- Sweeps read each queue's claim index only up to the highest job a claim has leased, between full
-- passes (src/core/sweep_bound.hpp); under the queue's id negated, its plain lane.
CREATE FUNCTION dlq._lease_bounds(queue_id integer)
RETURNS TABLE (priority integer, run_at timestamptz, job_id bigint)
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_lease_bounds';

CREATE FUNCTION dlq._forget_queue(queue_id integer)
RETURNS void
LANGUAGE C STRICT
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_forget_queue';

CREATE FUNCTION dlq._sweeps_bounded()
RETURNS boolean
LANGUAGE C
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_sweeps_bounded';

-- 25006 naming the dlq function, in a read-only transaction (a standby's, or default_transaction_read_only):
-- the first write inside would be refused all the same, but named as an internal statement ("cannot
-- execute UPDATE", or SELECT for one that locks rows).
CREATE FUNCTION dlq._require_read_write(function_name text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF pg_catalog.current_setting('transaction_read_only')::boolean THEN
		RAISE EXCEPTION 'cannot execute %() in a read-only transaction', function_name
			USING ERRCODE = 'read_only_sql_transaction';
	END IF;
END
$$;
