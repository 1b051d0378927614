-- claim :batch (one transaction), then complete them (a second transaction), like the floor queue.
-- :batch is replaced by a literal by run.sh; -D drain=1 ends the client when the queue is empty.
SELECT coalesce(array_agg(job_id), '{}') AS ids, count(*) AS n FROM dlq.claim('default', 'w' || :client_id, :batch)
\gset
\if :n > 0
SELECT dlq.complete_many(:ids::bigint[], 'w' || :client_id);
\elif :drain = 1
SELECT 1/0 AS queue_drained;
\else
\sleep 1 ms
\endif
