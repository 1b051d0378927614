-- Base tables. Applications never touch them: everything goes through dlq.* functions and views.

-- A queue id is a job id's top 18 bits (src/core/job_id.hpp): at most 262,143 queues are ever created.
CREATE SEQUENCE dlq.queue_id_seq AS integer MAXVALUE 262143;
CREATE TABLE dlq.queue (
	id              integer PRIMARY KEY DEFAULT pg_catalog.nextval('dlq.queue_id_seq'::pg_catalog.regclass),
	name            text NOT NULL UNIQUE,
	max_attempts    integer NOT NULL,
	lease           interval NOT NULL,
	recovery_window interval NOT NULL,
	backoff_base    interval NOT NULL,
	backoff_max     interval NOT NULL,
	retention       interval,
	paused          boolean NOT NULL DEFAULT false,
	created_at      timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE dlq.queue_id_seq OWNED BY dlq.queue.id;

-- The reason registry. Built-in rows come from the C++ core (dlq._builtin_reasons) and are not dumped:
-- CREATE EXTENSION recreates them.
CREATE TABLE dlq.reason (
	code        text PRIMARY KEY,
	label       text NOT NULL,
	severity    text NOT NULL,
	description text,
	builtin     boolean NOT NULL DEFAULT false,
	created_at  timestamptz NOT NULL DEFAULT now()
);

-- Live jobs: waiting (lease_expires_at IS NULL; available once run_at has come) or running.
-- Completed jobs are deleted; dead jobs move to dlq.dead_letter in the same transaction.
-- Columns are grouped by when they change, fixed-width ones first in each group. An update that keeps
-- the row on its page logs only the bytes between the row's unchanged prefix and suffix, so the columns
-- a claim or heartbeat sets come last: a claim logs them (~30 bytes), not the payload.
-- A job id carries its queue (src/core/job_id.hpp): (queue id << 45) | (scheduled << 44) | n, n from
-- this sequence (2^44 - 1 jobs in all, 55 years at 10,000 jobs a second), so that the primary key holds
-- each queue's jobs together in the order they were enqueued. The writers compute it (dlq._new_job_id).
CREATE SEQUENCE dlq.job_id_seq MAXVALUE 17592186044415;
CREATE TABLE dlq.job (
	-- set at enqueue, never changed
	id                 bigint PRIMARY KEY,
	enqueued_at        timestamptz NOT NULL DEFAULT now(),
	replayed_from      bigint,
	queue_id           integer NOT NULL,
	priority           integer NOT NULL DEFAULT 0,
	max_attempts       integer NOT NULL,
	kind               text NOT NULL,
	tenant             text,
	actor              text,
	dedup_key          text,
	payload            jsonb NOT NULL,
	-- changed by fail and rescue
	run_at             timestamptz NOT NULL,
	first_failed_at    timestamptz,
	last_error         text,
	errors             jsonb,
	-- changed by claim and heartbeat
	first_attempted_at timestamptz,
	attempt            integer NOT NULL DEFAULT 0,
	lease_expires_at   timestamptz,
	worker             text,
	-- So a queue's jobs are exactly its range of the primary key, whoever wrote them.
	CONSTRAINT job_id_carries_queue CHECK (id >> 45 = queue_id)
) WITH (fillfactor = 40, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
        autovacuum_analyze_scale_factor = 0.02, autovacuum_vacuum_cost_delay = 0);
ALTER SEQUENCE dlq.job_id_seq OWNED BY dlq.job.id;
-- Claim order, in two lanes (src/core/job_id.hpp). Plain jobs (enqueued to run at once, priority 0) are
-- claimed through the primary key, in id order: their ids keep each queue's together. Every other job
-- (scheduled, prioritised, retried, rescued) is claimed through this index, whose predicate is
-- core::InClaimIndex; a claim merges the two lanes in (priority, run_at, id) order. A claim changes no
-- indexed column (the lease is not indexed), so with the room that fillfactor 40 leaves on each page
-- (new versions of all of a page's jobs fit beside them) the claim and the heartbeat are HOT updates:
-- no new index entries and little WAL. (Fail and rescue move run_at, so they are not, and move a plain
-- job into this index.) Running jobs stay in their lane and claims step over them; there are at most
-- (workers x batch) of them. The sweeper finds expired leases in the same lanes: a running job was due
-- when claimed, so it lies in the run_at <= now() range of its priority, or in its queue's plain range.
-- A statement reads this index only when its conditions imply the predicate: lookups by id take the
-- primary key.
CREATE INDEX job_claim_idx ON dlq.job (queue_id, priority, run_at, id)
	WHERE priority <> 0 OR run_at <> enqueued_at OR (id & 17592186044416) <> 0;
-- Retries past their recovery window, for the sweeper.
CREATE INDEX job_first_failed_idx ON dlq.job (first_failed_at) WHERE first_failed_at IS NOT NULL;
-- At most one live job per (queue, dedup_key).
CREATE UNIQUE INDEX job_dedup_idx ON dlq.job (queue_id, dedup_key) WHERE dedup_key IS NOT NULL;

-- Dead letters: a job that will not be retried, with everything needed to understand and replay it.
-- The queue is kept by name so a dead letter outlives its queue. Range-partitioned by
-- dead_lettered_at (dlq.dead_letter_partition, daily by default) so that every explorer query prunes
-- to its time range and retention drops whole partitions. Partitions are created ahead of time by the
-- sweeper and on demand by the dead-letter path (dlq._ensure_dead_letter_partition).
CREATE SEQUENCE dlq.dead_letter_id_seq;
CREATE TABLE dlq.dead_letter (
	id                 bigint NOT NULL DEFAULT pg_catalog.nextval('dlq.dead_letter_id_seq'::pg_catalog.regclass),
	job_id             bigint NOT NULL,
	dead_lettered_at   timestamptz NOT NULL DEFAULT now(),
	enqueued_at        timestamptz NOT NULL,
	first_attempted_at timestamptz,
	reviewed_at        timestamptz,
	last_replayed_at   timestamptz,
	last_replay_job_id bigint,
	replayed_from      bigint,
	priority           integer NOT NULL,
	attempts           integer NOT NULL,
	max_attempts       integer NOT NULL,
	replay_count       integer NOT NULL DEFAULT 0,
	reviewed           boolean NOT NULL DEFAULT false,
	queue              text NOT NULL,
	kind               text NOT NULL,
	reason             text NOT NULL,
	detected_by        text NOT NULL CHECK (detected_by IN ('inline', 'sweep', 'manual')),
	tenant             text,
	actor              text,
	reviewed_by        text,
	notes              text,
	last_error         text,
	fingerprint        text,
	payload            jsonb NOT NULL,
	errors             jsonb NOT NULL DEFAULT '[]',
	metadata           jsonb NOT NULL DEFAULT '{}'
) PARTITION BY RANGE (dead_lettered_at);
ALTER SEQUENCE dlq.dead_letter_id_seq OWNED BY dlq.dead_letter.id;
-- A job dies at most once: it leaves dlq.job in the same transaction, under its row lock.

-- The partitions of dlq.dead_letter, so bounds are read without parsing catalog expressions.
CREATE TABLE dlq.dead_letter_partition (
	name       text PRIMARY KEY,
	range_from timestamptz NOT NULL,
	range_to   timestamptz NOT NULL,
	CHECK (range_from < range_to)
);

-- Replay audit: one row per reprocess call, one item per dead letter it was asked to replay.
CREATE SEQUENCE dlq.replay_id_seq;
CREATE TABLE dlq.replay (
	id            bigint PRIMARY KEY DEFAULT pg_catalog.nextval('dlq.replay_id_seq'::pg_catalog.regclass),
	at            timestamptz NOT NULL DEFAULT now(),
	actor         text NOT NULL DEFAULT session_user,
	justification text NOT NULL,
	requested_ids bigint[] NOT NULL,
	job_ids       bigint[] NOT NULL,
	queues        text[] NOT NULL,
	kinds         text[] NOT NULL,
	requested     integer NOT NULL,
	requeued      integer NOT NULL,
	skipped       integer NOT NULL,
	forced        boolean NOT NULL DEFAULT false,
	context       jsonb
);
ALTER SEQUENCE dlq.replay_id_seq OWNED BY dlq.replay.id;
CREATE TABLE dlq.replay_item (
	replay_id      bigint NOT NULL REFERENCES dlq.replay (id),
	dead_letter_id bigint NOT NULL,
	job_id         bigint,
	outcome        text NOT NULL CHECK (outcome IN ('requeued', 'skipped_missing', 'skipped_live_replay', 'skipped_superseded',
	                                               'skipped_replayed', 'skipped_no_queue')),
	PRIMARY KEY (replay_id, dead_letter_id)
);
CREATE INDEX replay_item_dead_letter_idx ON dlq.replay_item (dead_letter_id);

-- pg_dump keeps user data of extension tables only when they are registered.
SELECT pg_catalog.pg_extension_config_dump('dlq.queue', '');
SELECT pg_catalog.pg_extension_config_dump('dlq.queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('dlq.reason', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('dlq.job', '');
SELECT pg_catalog.pg_extension_config_dump('dlq.job_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('dlq.dead_letter_partition', '');
SELECT pg_catalog.pg_extension_config_dump('dlq.dead_letter_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('dlq.replay', '');
SELECT pg_catalog.pg_extension_config_dump('dlq.replay_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('dlq.replay_item', '');
