-- enqueued (cumulative), completed (cumulative), bytes of the live-job table with its indexes and toast
SELECT s.enq, s.enq - (SELECT count(*) FROM dlq.job) - (SELECT count(*) FROM dlq.dead_letter) AS done,
       pg_total_relation_size('dlq.job') AS bytes
  FROM (SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS enq FROM dlq.job_id_seq) AS s;
