-- Sweep detection: what no worker will ever report (expired leases, retries past the recovery window).

CREATE SEQUENCE dlq.sweep_id_seq;
SELECT pg_catalog.pg_extension_config_dump('dlq.sweep_id_seq', '');

CREATE FUNCTION dlq._queue_defaults()
RETURNS TABLE (max_attempts integer, lease interval, recovery_window interval)
LANGUAGE C STABLE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'dlq_queue_defaults';

CREATE FUNCTION dlq.sweep(queue text DEFAULT NULL, batch integer DEFAULT NULL)
RETURNS TABLE (outcome text, count bigint)
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET enable_bitmapscan = off
SET enable_seqscan = off
SET jit = off
AS 'MODULE_PATHNAME', 'dlq_sweep';
COMMENT ON FUNCTION dlq.sweep(text, integer) IS
	'one bounded sweep (batch jobs per outcome, default dlq.sweep_batch): rescue expired leases, '
	'dead-letter stuck jobs and retries past the recovery window';

CREATE VIEW dlq.dead_letter_rate AS
SELECT d.queue, d.reason,
       count(*) FILTER (WHERE d.dead_lettered_at > now() - interval '1 hour') AS last_hour,
       count(*) AS last_day
  FROM dlq.dead_letter AS d
 WHERE d.dead_lettered_at > now() - interval '1 day'
 GROUP BY d.queue, d.reason;
COMMENT ON VIEW dlq.dead_letter_rate IS 'dead letters per queue and reason over the last hour and the last day';
