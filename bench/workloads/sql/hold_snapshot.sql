-- psql -v secs=300 : hold a REPEATABLE READ snapshot open for :secs seconds (blocks vacuum cleanup of
-- every row version deleted after it was taken, in this database).
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT 1 FROM pg_class LIMIT 1;
SELECT pg_sleep(:secs);
COMMIT;
