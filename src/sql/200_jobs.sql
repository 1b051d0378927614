-- Producer and worker API (implemented in C++: src/pg/fn_jobs.cpp over src/pg/job_store.cpp).

CREATE FUNCTION dlq.enqueue(
	queue text,
	kind text,
	payload jsonb DEFAULT '{}',
	run_at timestamptz DEFAULT now(),
	priority integer DEFAULT 0,
	max_attempts integer DEFAULT NULL,
	tenant text DEFAULT NULL,
	actor text DEFAULT NULL,
	dedup_key text DEFAULT NULL)
RETURNS bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_enqueue';
COMMENT ON FUNCTION dlq.enqueue(text, text, jsonb, timestamptz, integer, integer, text, text, text) IS
	'add a job; a dedup_key equal to a live job''s in the same queue returns that job''s id';

CREATE FUNCTION dlq.enqueue_many(queue text, jobs jsonb)
RETURNS SETOF bigint
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_enqueue_many';
COMMENT ON FUNCTION dlq.enqueue_many(text, jsonb) IS
	'add a batch of jobs given as a JSON array of objects; returns their ids in order';

-- The claim runs no SQL statement (src/pg/job_claim.cpp), so no planner setting can change how it reads.
CREATE FUNCTION dlq.claim(queue text, worker text, batch integer DEFAULT 1, lease interval DEFAULT NULL)
RETURNS TABLE (job_id bigint, kind text, payload jsonb, attempt integer, max_attempts integer, tenant text,
               enqueued_at timestamptz, lease_expires_at timestamptz)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_claim';
COMMENT ON FUNCTION dlq.claim(text, text, integer, interval) IS
	'lease up to batch available jobs to a worker (SKIP LOCKED); each claim counts an attempt';

-- heartbeat, complete, complete_many and fail find jobs by id and run with sequential and bitmap scans off.
-- Their statements are kept for the session, and so is a generic plan once the plan cache uses one
-- (complete's from the first call). Made while dlq.job was empty after a vacuum (which truncates it to
-- no page: the statistics then say it is empty for sure) or unanalyzed, that plan is a sequential scan,
-- kept while the table fills up again, each call reading every job (regress 11_claim_plan).
CREATE FUNCTION dlq.heartbeat(job_id bigint, worker text, lease interval DEFAULT NULL)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_bitmapscan = off
AS 'MODULE_PATHNAME', 'dlq_heartbeat';
COMMENT ON FUNCTION dlq.heartbeat(bigint, text, interval) IS
	'extend the lease of a running job; false when the worker does not hold it';

CREATE FUNCTION dlq.complete(job_id bigint, worker text)
RETURNS boolean
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_bitmapscan = off
AS 'MODULE_PATHNAME', 'dlq_complete';
COMMENT ON FUNCTION dlq.complete(bigint, text) IS
	'finish a running job; false when the worker does not hold its lease';

CREATE FUNCTION dlq.complete_many(job_ids bigint[], worker text)
RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET enable_bitmapscan = off
AS 'MODULE_PATHNAME', 'dlq_complete_many';
COMMENT ON FUNCTION dlq.complete_many(bigint[], text) IS
	'finish several running jobs; returns how many this worker held';

-- fail is pinned as heartbeat is (above); its dead-letter move deletes by id = ANY($1).
CREATE FUNCTION dlq.fail(
	job_id bigint,
	worker text,
	error text,
	details jsonb DEFAULT NULL,
	retryable boolean DEFAULT true,
	retry_in interval DEFAULT NULL)
RETURNS text
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_bitmapscan = off
SET enable_seqscan = off
SET jit = off
AS 'MODULE_PATHNAME', 'dlq_fail';
COMMENT ON FUNCTION dlq.fail(bigint, text, text, jsonb, boolean, interval) IS
	'report a failed attempt: returns retrying, dead_lettered or lease_lost';
