-- Test helper. A job id carries its queue (src/core/job_id.hpp): the tests name a job by its number, the
-- low 44 bits of its id (dlq.job_id_seq's value, which starts at 1 in each test), and jid() finds the id:
-- of a live job, else of the newest dead letter of that job; the number itself when there is none, so
-- that a missing job still reads as missing.
CREATE OR REPLACE FUNCTION public.jid(n bigint) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found bigint;
BEGIN
	SELECT j.id INTO found FROM dlq.job AS j WHERE j.id & 17592186044415 = n;
	IF found IS NULL THEN
		-- A statement of its own: dlq.dead_letter is locked only when it is read (a lock held by a
		-- test's open transaction would hold up a partition being created).
		SELECT d.job_id INTO found FROM dlq.dead_letter AS d WHERE d.job_id & 17592186044415 = n
		 ORDER BY d.id DESC LIMIT 1;
	END IF;
	RETURN coalesce(found, n);
END
$$;
