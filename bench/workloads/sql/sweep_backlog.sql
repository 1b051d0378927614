-- psql -v n=1000000 : with :n due jobs waiting and 100 running (leases of an hour, so none expired),
-- times three full sweep passes and three bounded sweeps, one transaction each, and counts the index
-- entries each read (the claim index's and the primary key's: plain jobs lie in the latter). A build without lease bounds (no dlq.sweep_full_pass_interval) runs only
-- the first kind: every sweep of it is a full pass.
\set ON_ERROR_STOP on
SELECT count(*) > 0 AS has_bounds FROM pg_settings WHERE name = 'dlq.sweep_full_pass_interval' \gset
CREATE FUNCTION pg_temp.timed_sweep(full_pass boolean, OUT ms numeric, OUT claim_entries bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	e0 bigint := pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass)
	           + pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass);
BEGIN
	IF full_pass AND EXISTS (SELECT FROM pg_settings WHERE name = 'dlq.sweep_full_pass_interval') THEN
		PERFORM set_config('dlq.sweep_full_pass_interval', '0', true);
	END IF;
	t0 := clock_timestamp();
	PERFORM count(*) FROM dlq.sweep();
	ms := round(extract(epoch FROM clock_timestamp() - t0)::numeric * 1000, 1);
	claim_entries := pg_stat_get_xact_tuples_returned('dlq.job_claim_idx'::regclass)
	               + pg_stat_get_xact_tuples_returned('dlq.job_pkey'::regclass) - e0;
END
$$;
SELECT count(*) AS claimed FROM dlq.claim('default', 'w', 100, lease => '1 hour');
\pset footer off
SELECT 'full pass' AS sweep, * FROM pg_temp.timed_sweep(true);
SELECT 'full pass' AS sweep, * FROM pg_temp.timed_sweep(true);
SELECT 'full pass' AS sweep, * FROM pg_temp.timed_sweep(true);
\if :has_bounds
SELECT 'bounded' AS sweep, * FROM pg_temp.timed_sweep(false);
SELECT 'bounded' AS sweep, * FROM pg_temp.timed_sweep(false);
SELECT 'bounded' AS sweep, * FROM pg_temp.timed_sweep(false);
\endif
