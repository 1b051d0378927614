-- psql -v queue=lease -v lease='1 second' : claim every due job of :queue with a tiny lease, 10,000
-- per claim and per committed transaction, so that the leases expire and wait for the sweeper.
SELECT set_config('pb.queue', :'queue', false), set_config('pb.lease', :'lease', false);
DO $$
DECLARE n int;
BEGIN
  LOOP
    SELECT count(*) INTO n
      FROM dlq.claim(current_setting('pb.queue'), 'bench-lost-worker', 10000, current_setting('pb.lease')::interval);
    COMMIT;
    EXIT WHEN n = 0;
  END LOOP;
END $$;
