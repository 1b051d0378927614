-- psql: tables for bench/workloads/byid_partitions.sh, a probe for issue 5's storage question (not dlq):
-- what partitioning costs the statements that find a job by id, when the partition is computed from the
-- id (pruned) or not (every partition probed).
DROP TABLE IF EXISTS byid_plain, byid_seg;
DROP SEQUENCE IF EXISTS byid_seq;
CREATE SEQUENCE byid_seq;
CREATE TABLE byid_plain (id bigint PRIMARY KEY, segment integer NOT NULL, state integer NOT NULL DEFAULT 0,
                         payload jsonb NOT NULL) WITH (fillfactor = 40);
-- Segment 0 stands for the long-lived jobs moved out of a ring segment; 1-4 are the ring.
CREATE TABLE byid_seg (id bigint NOT NULL, segment integer NOT NULL, state integer NOT NULL DEFAULT 0,
                       payload jsonb NOT NULL) PARTITION BY LIST (segment);
SELECT format('CREATE TABLE byid_seg_%1$s PARTITION OF byid_seg FOR VALUES IN (%1$s) WITH (fillfactor = 40)', k)
  FROM generate_series(0, 4) AS k
\gexec
SELECT format('CREATE UNIQUE INDEX ON byid_seg_%1$s (id)', k) FROM generate_series(0, 4) AS k
\gexec
