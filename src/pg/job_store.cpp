// The live-job storage. See job_store.hpp. Every statement names its objects with their schema, and the
// hot ones (insert, claim, complete, fail) are prepared once per backend.
#include "core/claim_hint.hpp"
#include "pg/claim_hint.hpp"
#include "pg/job_store.hpp"

#include "pg/guc.hpp"
#include "pg/spi_util.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
}

namespace dlq::pg::store {

// ---- enqueue ----------------------------------------------------------------------------------------

// A new job's id (core/job_id.hpp) from its queue id, priority and run_at.
#define DLQ_NEW_JOB_ID(queue_id, priority, run_at) "dlq._new_job_id(" queue_id ", " priority ", " run_at ")"

#define DLQ_INSERT_JOB_COLUMNS \
	"INSERT INTO dlq.job (id, queue_id, kind, payload, run_at, priority, max_attempts, tenant, actor, dedup_key) " \
	"SELECT " DLQ_NEW_JOB_ID("q.id", "coalesce($5, 0)", "coalesce($4, now())") ", " \
	"       q.id, $2, coalesce($3, '{}'::jsonb), coalesce($4, now()), coalesce($5, 0), " \
	"       coalesce($6, q.max_attempts), $7, $8, $9 " \
	"  FROM dlq.queue AS q WHERE q.name = $1 "

#define DLQ_NEW_JOB_TYPES {TEXTOID, TEXTOID, JSONBOID, TIMESTAMPTZOID, INT4OID, INT4OID, TEXTOID, TEXTOID, TEXTOID}

// Every statement that makes jobs wait returns their (id, queue_id, priority, run_at, enqueued_at) in five
// adjacent columns, from which ExecWrite notes the write for the claim hints of its lane (claim_hint.hpp).
#define DLQ_RETURNING_NEW_JOB "RETURNING id, queue_id, priority, run_at, enqueued_at"

static KeptStatement insert_job = {DLQ_INSERT_JOB_COLUMNS DLQ_RETURNING_NEW_JOB, 9, DLQ_NEW_JOB_TYPES, nullptr};

static KeptStatement insert_job_dedup = {
    DLQ_INSERT_JOB_COLUMNS "ON CONFLICT (queue_id, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING " DLQ_RETURNING_NEW_JOB,
    9, DLQ_NEW_JOB_TYPES, nullptr};

static KeptStatement find_dedup_job = {
    "SELECT j.id FROM dlq.job AS j JOIN dlq.queue AS q ON q.id = j.queue_id "
    " WHERE q.name = $1 AND j.dedup_key = $2",
    2, {TEXTOID, TEXTOID}, nullptr};

static KeptStatement find_queue = {
    "SELECT q.id, q.max_attempts FROM dlq.queue AS q WHERE q.name = $1", 1, {TEXTOID}, nullptr};

// How often a dedup insert is retried when the conflicting job disappears before it can be read.
static constexpr int kDedupAttempts = 5;

// Executes a statement that makes jobs wait, marked as the API's own write for the table's trigger, and
// notes its rows' keys (columns key_column .. key_column + 4) before the transaction can commit.
static uint64
ExecWrite(KeptStatement *statement, Datum *values, const char *nulls, int key_column) {
	hint::BeginApiWrite();
	uint64 rows = ExecKept(statement, values, nulls);
	hint::EndApiWrite();
	hint::NoteWrittenRows(key_column);
	return rows;
}

int64
InsertJob(Datum *values, const char *nulls) {
	bool dedup = nulls[kNewDedupKey] != 'n';
	for (int attempt = 0; attempt < kDedupAttempts; attempt++) {
		bool isnull;
		if (ExecWrite(dedup ? &insert_job_dedup : &insert_job, values, nulls, 1) == 1)
			return SpiInt64(0, 1, &isnull);
		if (!dedup)
			return 0; // no row inserted without a conflict: the queue does not exist
		Datum keys[2] = {values[kNewQueue], values[kNewDedupKey]};
		if (ExecKept(&find_dedup_job, keys, nullptr) == 1)
			return SpiInt64(0, 1, &isnull);
		if (!QueueExists(values[kNewQueue]))
			return 0;
		// The live job holding the key finished between our insert and our read: try again.
	}
	ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
	                errmsg("could not enqueue: the job holding this dedup_key kept changing"),
	                errhint("Retry the transaction.")));
	return 0;
}

bool
FindQueue(Datum queue_name, QueueInfo *out) {
	bool isnull;
	if (ExecKept(&find_queue, &queue_name, nullptr) != 1)
		return false;
	out->id = SpiInt32(0, 1, &isnull);
	out->max_attempts = SpiInt32(0, 2, &isnull);
	return true;
}

// Ids are drawn in a materialized CTE so that every element has one, inserted or not; a dedup conflict
// leaves `inserted` false and the caller's second statement finds the live job holding the key.
#define DLQ_BATCH_INPUT \
	"WITH input AS MATERIALIZED ( " \
	"  SELECT " DLQ_NEW_JOB_ID("$1", "coalesce(x.priority, 0)", "coalesce(x.run_at, now())") " AS id, x.* " \
	"    FROM ROWS FROM (jsonb_to_recordset($3) AS (kind text, payload jsonb, run_at timestamptz, " \
	"         priority integer, max_attempts integer, tenant text, actor text, dedup_key text)) " \
	"         WITH ORDINALITY AS x (kind, payload, run_at, priority, max_attempts, tenant, actor, dedup_key, ord)), " \
	"ins AS ( " \
	"  INSERT INTO dlq.job (id, queue_id, kind, payload, run_at, priority, max_attempts, tenant, actor, dedup_key) " \
	"  SELECT i.id, $1, i.kind, coalesce(i.payload, '{}'::jsonb), coalesce(i.run_at, now()), " \
	"         coalesce(i.priority, 0), coalesce(i.max_attempts, $2), i.tenant, i.actor, i.dedup_key " \
	"    FROM input AS i "

static KeptStatement insert_batch = {
    DLQ_BATCH_INPUT "RETURNING 1) "
    "SELECT i.ord, i.id, $1, coalesce(i.priority, 0), coalesce(i.run_at, now()), now() FROM input AS i ORDER BY i.ord",
    3, {INT4OID, INT4OID, JSONBOID}, nullptr};

static KeptStatement insert_batch_dedup = {
    DLQ_BATCH_INPUT "ON CONFLICT (queue_id, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id) "
    "SELECT i.ord, CASE WHEN ins.id IS NULL THEN NULL ELSE i.id END, $1, coalesce(i.priority, 0), "
    "       coalesce(i.run_at, now()), now(), i.dedup_key "
    "  FROM input AS i LEFT JOIN ins ON ins.id = i.id ORDER BY i.ord",
    3, {INT4OID, INT4OID, JSONBOID}, nullptr};

static KeptStatement resolve_batch_dedup = {
    "SELECT b.ord, coalesce(b.id, j.id) "
    "  FROM unnest($2::bigint[], $3::bigint[], $4::text[]) AS b (ord, id, dedup_key) "
    "  LEFT JOIN dlq.job AS j ON b.id IS NULL AND j.queue_id = $1 AND j.dedup_key = b.dedup_key "
    " ORDER BY b.ord",
    4, {INT4OID, INT8ARRAYOID, INT8ARRAYOID, TEXTARRAYOID}, nullptr};

// Turns the (ord, id-or-null, ..., dedup_key) rows of insert_batch_dedup into arrays for the second statement.
static void
ResolveDedupConflicts(const QueueInfo *queue) {
	uint64 n = SPI_processed;
	Datum *ords = static_cast<Datum *>(palloc(sizeof(Datum) * n));
	Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * n));
	Datum *keys = static_cast<Datum *>(palloc(sizeof(Datum) * n));
	bool *id_nulls = static_cast<bool *>(palloc(sizeof(bool) * n));
	bool *key_nulls = static_cast<bool *>(palloc(sizeof(bool) * n));
	for (uint64 row = 0; row < n; row++) {
		bool isnull;
		ords[row] = Int64GetDatum(SpiInt64(row, 1, &isnull));
		ids[row] = Int64GetDatum(SpiInt64(row, 2, &id_nulls[row]));
		Datum key = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 7, &key_nulls[row]);
		keys[row] = key_nulls[row] ? (Datum)0 : PointerGetDatum(PG_DETOAST_DATUM_COPY(key));
	}
	int dims[1] = {static_cast<int>(n)};
	int lbs[1] = {1};
	Datum args[4] = {
	    Int32GetDatum(queue->id),
	    PointerGetDatum(construct_md_array(ords, nullptr, 1, dims, lbs, INT8OID, 8, true, TYPALIGN_DOUBLE)),
	    PointerGetDatum(construct_md_array(ids, id_nulls, 1, dims, lbs, INT8OID, 8, true, TYPALIGN_DOUBLE)),
	    PointerGetDatum(construct_md_array(keys, key_nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT))};
	ExecKept(&resolve_batch_dedup, args, nullptr);
	for (uint64 row = 0; row < SPI_processed; row++) {
		bool isnull;
		SpiInt64(row, 2, &isnull);
		if (isnull)
			ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			                errmsg("could not enqueue: the job holding a dedup_key of this batch finished meanwhile"),
			                errhint("Retry the transaction.")));
	}
}

void
InsertJobBatch(const QueueInfo *queue, Datum jobs, bool has_dedup_keys) {
	Datum args[3] = {Int32GetDatum(queue->id), Int32GetDatum(queue->max_attempts), jobs};
	ExecWrite(has_dedup_keys ? &insert_batch_dedup : &insert_batch, args, nullptr, 2);
	if (has_dedup_keys)
		ResolveDedupConflicts(queue);
}

// ---- claim, heartbeat, complete ---------------------------------------------------------------------

// The claim itself runs no statement: see job_claim.cpp.

static KeptStatement queue_exists = {"SELECT 1 FROM dlq.queue WHERE name = $1", 1, {TEXTOID}, nullptr};

bool
QueueExists(Datum queue_name) {
	return ExecKept(&queue_exists, &queue_name, nullptr) == 1;
}

// Statements that find a job by id read its queue's row in scalar subqueries, not through a join (nor
// EXISTS, which the planner turns into one): a join clause on j.queue_id would let the planner probe the
// claim index per queue instead of the primary key (job_claim_idx's predicate keeps that index to
// statements that constrain queue_id). DLQ_QUEUE_ROW_EXISTS keeps what the join did when the queue's row
// is gone (a forced drop_queue running): the job matches nothing.
#define DLQ_QUEUE_ROW_EXISTS "coalesce((SELECT true FROM dlq.queue AS q WHERE q.id = j.queue_id), false)"
static KeptStatement extend_lease = {
    "UPDATE dlq.job AS j "
    "   SET lease_expires_at = now() + coalesce($3, (SELECT q.lease FROM dlq.queue AS q WHERE q.id = j.queue_id)) "
    " WHERE j.id = $1 AND j.worker = $2 AND j.lease_expires_at IS NOT NULL AND " DLQ_QUEUE_ROW_EXISTS,
    3, {INT8OID, TEXTOID, INTERVALOID}, nullptr};

// Generic plan, not planned on every call: a pkey probe, as dlq.complete runs it with sequential and bitmap
// scans off (made while dlq.job is empty after a vacuum, it would be a sequential scan, and kept).
static KeptStatement complete_job = {
    "DELETE FROM dlq.job WHERE id = $1 AND worker = $2 AND lease_expires_at IS NOT NULL", 2, {INT8OID, TEXTOID},
    nullptr, true};

static KeptStatement complete_jobs = {
    "DELETE FROM dlq.job WHERE id = ANY ($1) AND worker = $2 AND lease_expires_at IS NOT NULL", 2,
    {INT8ARRAYOID, TEXTOID}, nullptr};

bool
ExtendLease(Datum job_id, Datum worker, Datum lease, bool lease_is_null) {
	Datum args[3] = {job_id, worker, lease};
	char nulls[4] = {' ', ' ', lease_is_null ? 'n' : ' ', '\0'};
	// The API's own write for the job_written trigger (it watches lease_expires_at); a heartbeat keeps the
	// job running, so it moves no hint.
	hint::BeginApiWrite();
	bool extended = ExecKept(&extend_lease, args, nulls) == 1;
	hint::EndApiWrite();
	return extended;
}

bool
CompleteJob(Datum job_id, Datum worker) {
	Datum args[2] = {job_id, worker};
	return ExecKept(&complete_job, args, nullptr) == 1;
}

uint64
CompleteJobs(Datum job_ids, Datum worker) {
	// One id takes the single-job statement: its generic plan is an index probe, while `id = ANY ($1)` keeps
	// a custom plan (its generic one is a bitmap scan sized for 10 ids), planned again on every call.
	ArrayType *ids = DatumGetArrayTypeP(job_ids);
	if (ARR_NDIM(ids) == 1 && ARR_DIMS(ids)[0] == 1 && !ARR_HASNULL(ids))
		return CompleteJob(Int64GetDatum(*reinterpret_cast<const int64 *>(ARR_DATA_PTR(ids))), worker) ? 1 : 0;
	Datum args[2] = {PointerGetDatum(ids), worker};
	return ExecKept(&complete_jobs, args, nullptr);
}

// ---- fail -------------------------------------------------------------------------------------------

// No row lock and no read first: the update checks the lease and the attempts left on the row it changes
// (a concurrent change of the row makes it re-check them on the new version), and computes the retry
// time from that row's attempt and its queue's policy.
static KeptStatement retry_job = {
    "UPDATE dlq.job AS j "
    "   SET run_at = (SELECT dlq._retry_at(j.attempt, q.backoff_base, q.backoff_max, $5, $6) "
    "                   FROM dlq.queue AS q WHERE q.id = j.queue_id), "
    "       lease_expires_at = NULL, last_error = $3, "
    "       errors = coalesce(j.errors, '[]'::jsonb) || jsonb_build_array(dlq._attempt_record(j.attempt, j.worker, $3, $4)), "
    "       first_failed_at = coalesce(j.first_failed_at, now()) "
    " WHERE j.id = $1 AND j.worker = $2 AND j.lease_expires_at IS NOT NULL AND j.attempt < j.max_attempts "
    "   AND " DLQ_QUEUE_ROW_EXISTS " "
    "RETURNING j.id, j.queue_id, j.priority, j.run_at, j.enqueued_at",
    6, {INT8OID, TEXTOID, TEXTOID, JSONBOID, FLOAT8OID, INTERVALOID}, nullptr};

bool
RetryJob(Datum job_id, Datum worker, Datum error, Datum details, bool details_is_null, double unit_random,
         Datum retry_in, bool retry_in_is_null) {
	Datum args[6] = {job_id, worker, error, details, Float8GetDatum(unit_random), retry_in};
	char nulls[7] = {' ', ' ', ' ', details_is_null ? 'n' : ' ', ' ', retry_in_is_null ? 'n' : ' ', '\0'};
	return ExecWrite(&retry_job, args, nulls, 1) == 1;
}

// ---- dead letters -----------------------------------------------------------------------------------

// Kept as a generic plan: planned per call, this statement cost more than it ran (its `id = ANY ($1)`
// keeps custom plans). Its callers (fail, dead_letter, sweep) pin the planner, so the plan is a pkey probe.
// A job whose queue row is gone is not deleted: the insert's join would make no dead letter of it.
static KeptStatement move_to_dead_letters = {
    "WITH moved AS (DELETE FROM dlq.job AS j WHERE j.id = ANY ($1) "
    "  AND ($8::text IS NULL OR j.worker = $8 AND j.lease_expires_at IS NOT NULL "
    "       AND (NOT $9 OR j.attempt >= j.max_attempts)) AND " DLQ_QUEUE_ROW_EXISTS " RETURNING j.*), "
    "dead AS ( "
    "  INSERT INTO dlq.dead_letter (job_id, queue, kind, tenant, actor, payload, priority, attempts, max_attempts, "
    "         reason, detected_by, last_error, fingerprint, errors, metadata, enqueued_at, first_attempted_at, "
    "         notes, replayed_from) "
    "  SELECT m.id, q.name, m.kind, m.tenant, m.actor, m.payload, m.priority, m.attempt, m.max_attempts, "
    "         $2, $3, coalesce($4, m.last_error), dlq.fingerprint(coalesce($4, m.last_error)), "
    "         coalesce(m.errors, '[]'::jsonb) || CASE WHEN $4 IS NULL THEN '[]'::jsonb "
    "              WHEN $3 = 'sweep' THEN jsonb_build_array(dlq._attempt_record(m.attempt, m.worker, $4, "
    "                   coalesce($5, '{}'::jsonb) || jsonb_build_object('lease_expired_at', m.lease_expires_at))) "
    "              ELSE jsonb_build_array(dlq._attempt_record(m.attempt, m.worker, $4, $5)) END, "
    "         jsonb_build_object('last_worker', m.worker) || coalesce($6, '{}'::jsonb), "
    "         m.enqueued_at, m.first_attempted_at, $7, m.replayed_from "
    "    FROM moved AS m JOIN dlq.queue AS q ON q.id = m.queue_id "
    "  RETURNING id, job_id, queue, kind, reason, detected_by) "
    "SELECT d.id, d.job_id, pg_notify('dlq_dead_letter', json_build_object('id', d.id, 'job_id', d.job_id, "
    "       'queue', d.queue, 'kind', d.kind, 'reason', d.reason, 'detected_by', d.detected_by)::text) "
    "  FROM dead AS d ORDER BY d.id",
    9, {INT8ARRAYOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID, TEXTOID, TEXTOID, BOOLOID}, nullptr, true};

static KeptStatement find_dead_letter_of_job = {
    "SELECT id FROM dlq.dead_letter WHERE job_id = $1", 1, {INT8OID}, nullptr};

// The dead letters are partitioned by time; a partition must exist before a row lands in it. The
// backend remembers until when partitions are known to exist, so the check is a comparison on the
// common path. Any abort forgets it: the partition may have been created by the rolled-back work.
static TimestampTz partitions_cover_until = 0;
static Oid partitions_parent = InvalidOid;
static bool partition_callbacks_registered = false;

static void
ForgetPartitionsOnAbort(XactEvent event, void *) {
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		partitions_cover_until = 0;
}

static void
ForgetPartitionsOnSubAbort(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
	if (event == SUBXACT_EVENT_ABORT_SUB)
		partitions_cover_until = 0;
}

static KeptStatement ensure_partition = {"SELECT dlq._ensure_dead_letter_partition(now())", 0, {}, nullptr};

static void
EnsureDeadLetterPartition() {
	if (!partition_callbacks_registered) {
		RegisterXactCallback(ForgetPartitionsOnAbort, nullptr);
		RegisterSubXactCallback(ForgetPartitionsOnSubAbort, nullptr);
		partition_callbacks_registered = true;
	}
	Oid parent = get_relname_relid("dead_letter", get_namespace_oid("dlq", false));
	if (parent == partitions_parent && GetCurrentTransactionStartTimestamp() < partitions_cover_until)
		return;
	bool isnull;
	ExecKept(&ensure_partition, nullptr, nullptr);
	Datum until = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	partitions_parent = parent;
	partitions_cover_until = isnull ? 0 : DatumGetTimestampTz(until);
}

uint64
MoveToDeadLetters(const DeadLetterMove *move) {
	EnsureDeadLetterPartition();
	Datum args[9] = {move->job_ids, CStringGetTextDatum(move->reason), CStringGetTextDatum(move->detected_by),
	                 move->error, move->details, move->metadata, move->notes, move->lease_worker,
	                 BoolGetDatum(move->only_exhausted)};
	char nulls[10] = {' ', ' ', ' ', move->error_is_null ? 'n' : ' ', move->details_is_null ? 'n' : ' ',
	                  move->metadata_is_null ? 'n' : ' ', move->notes_is_null ? 'n' : ' ',
	                  move->guard_lease ? ' ' : 'n', ' ', '\0'};
	return ExecKept(&move_to_dead_letters, args, nulls);
}

int64
FindDeadLetterOfJob(Datum job_id) {
	bool isnull;
	if (ExecKept(&find_dead_letter_of_job, &job_id, nullptr) != 1)
		return 0;
	return SpiInt64(0, 1, &isnull);
}

// ---- replay and queue removal -----------------------------------------------------------------------

// The queue rows are locked (KEY SHARE, as a foreign key check locks them): in REPEATABLE READ, a snapshot
// that predates a drop_queue committed since still shows the queue, and the lock then fails with a
// serialization error instead of requeueing into the dropped queue. (In READ COMMITTED the drop's lock on
// dlq.job held this statement until it committed, so its snapshot no longer shows the queue.)
static KeptStatement requeue_dead_letters = {
    "INSERT INTO dlq.job (id, queue_id, kind, payload, run_at, priority, max_attempts, tenant, actor, replayed_from) "
    "SELECT " DLQ_NEW_JOB_ID("q.id", "d.priority", "$2") ", q.id, d.kind, d.payload, $2, d.priority, d.max_attempts, "
    "       d.tenant, d.actor, d.id "
    "  FROM dlq.dead_letter AS d JOIN dlq.queue AS q ON q.name = d.queue "
    " WHERE d.id = ANY ($1) "
    " ORDER BY d.id FOR KEY SHARE OF q "
    "RETURNING replayed_from, id, queue_id, priority, run_at, enqueued_at",
    2, {INT8ARRAYOID, TIMESTAMPTZOID}, nullptr};

// A queue's jobs are its range of the primary key (job_id_carries_queue).
#define DLQ_QUEUE_ID_RANGE(queue_id) \
	"j.id BETWEEN (" queue_id ")::bigint << 45 AND ((" queue_id ")::bigint << 45) + 35184372088831"
static KeptStatement delete_queue_jobs = {"DELETE FROM dlq.job AS j WHERE " DLQ_QUEUE_ID_RANGE("$1"), 1, {INT4OID},
                                          nullptr};

uint64
RequeueDeadLetters(Datum dead_letter_ids, Datum run_at) {
	Datum args[2] = {dead_letter_ids, run_at};
	return ExecWrite(&requeue_dead_letters, args, nullptr, 2);
}

uint64
DeleteQueueJobs(Datum queue_id) {
	return ExecKept(&delete_queue_jobs, &queue_id, nullptr);
}

// ---- sweep ------------------------------------------------------------------------------------------

// The sweep's probe: the first live entry of a queue's claim index after a condition (one descent; dead
// entries at the head are stepped over here), and the due range of its priority read from that entry, so
// the range scan does not step over them again.
// The claim index's predicate (core::InClaimIndex), written out so that the planner reads that index for
// a statement that has it among its conditions.
#define DLQ_IN_CLAIM_INDEX "(j.priority <> 0 OR j.run_at <> j.enqueued_at OR (j.id & 17592186044416) <> 0)"
// A queue's plain lane: its range of the primary key without the scheduled bit, and no entry in the
// claim index.
#define DLQ_PLAIN_LANE(queue_id, from) \
	"j.id BETWEEN greatest(" from ", (" queue_id ")::bigint << 45) AND ((" queue_id ")::bigint << 45) + 17592186044415 " \
	"AND NOT " DLQ_IN_CLAIM_INDEX " "

#define DLQ_FIRST_ENTRY(queue_id, after) \
	"SELECT j.priority AS pr, j.run_at AS since, j.id AS since_id FROM dlq.job AS j " \
	" WHERE j.queue_id = " queue_id after " AND " DLQ_IN_CLAIM_INDEX " ORDER BY j.priority, j.run_at, j.id LIMIT 1"
#define DLQ_DUE_FROM_PROBE "(j.run_at, j.id) >= (p.since, p.since_id) AND j.run_at <= now() "

// Jobs whose lease expired, without an index on the lease (that would make every claim a non-HOT
// update): for each queue and each of its priorities (found with a loose index scan, as there are
// few), the due range of the claim index is read, where every running job of that lane lies, from the
// probe above (the entries that rescues and completions left dead at the head are stepped over once,
// not twice); and each queue's plain lane, whole.
// One list serves both outcomes (rescue, or dead-letter on the last attempt), so the range is read once
// per sweep; a sweep may then handle fewer than a batch of one outcome, and the next sweep goes on. Each
// lane gives up to that many, and the list keeps the longest expired of them.
// Candidates only: the statements below lock and re-check them.
//
// This is the full pass (core/sweep_bound.hpp). It also returns the highest running job of each priority
// it read, which raises the lease bounds to cover jobs claimed before the server started: rows
// (queue_id, priority, run_at, id, candidates; the queue's id negated and a null run_at for a plain lane),
// or one row of nulls and the candidates. That due range, or the plain lane, is read backwards to its last
// running job (a running job was due when claimed), from $3, the clock when the
// sweep began: not now(), which in a transaction begun earlier would end the range before jobs written
// since (the gate of core/sweep_bound.hpp only sees writers still open when the sweep began).
static KeptStatement find_expired = {
    "WITH RECURSIVE prios AS ( "
    "  SELECT q.id AS queue_id, f.pr, f.since, f.since_id "
    "    FROM dlq.queue AS q CROSS JOIN LATERAL (" DLQ_FIRST_ENTRY("q.id", "") ") AS f "
    "   WHERE $1 = 0 OR q.id = $1 "
    "  UNION ALL "
    "  SELECT p.queue_id, f.pr, f.since, f.since_id FROM prios AS p CROSS JOIN LATERAL ( "
    DLQ_FIRST_ENTRY("p.queue_id", " AND j.priority > p.pr") ") AS f), "
    "plain AS (SELECT q.id AS queue_id FROM dlq.queue AS q WHERE $1 = 0 OR q.id = $1), "
    "candidates AS ( "
    "  SELECT coalesce(array_agg(c.id), '{}') AS ids FROM (SELECT u.id FROM (( "
    "    SELECT e.id, e.lease_expires_at FROM prios AS p CROSS JOIN LATERAL ( "
    "      SELECT j.id, j.lease_expires_at FROM dlq.job AS j "
    "       WHERE j.queue_id = p.queue_id AND j.priority = p.pr "
    "         AND " DLQ_DUE_FROM_PROBE "AND j.lease_expires_at < now() AND " DLQ_IN_CLAIM_INDEX
    "       LIMIT $2) AS e "
    "     LIMIT $2) UNION ALL ( "
    "    SELECT e.id, e.lease_expires_at FROM plain AS p CROSS JOIN LATERAL ( "
    "      SELECT j.id, j.lease_expires_at FROM dlq.job AS j "
    "       WHERE " DLQ_PLAIN_LANE("p.queue_id", "0") "AND j.run_at <= now() AND j.lease_expires_at < now() "
    "       LIMIT $2) AS e "
    "     LIMIT $2)) AS u ORDER BY u.lease_expires_at, u.id LIMIT $2) AS c), "
    "running AS ( "
    "  SELECT p.queue_id, p.pr, r.run_at, r.id FROM prios AS p CROSS JOIN LATERAL ( "
    "    SELECT j.run_at, j.id FROM dlq.job AS j "
    "     WHERE j.queue_id = p.queue_id AND j.priority = p.pr "
    "       AND (j.run_at, j.id) >= (p.since, p.since_id) AND j.run_at <= $3 "
    "       AND j.lease_expires_at IS NOT NULL AND " DLQ_IN_CLAIM_INDEX
    "     ORDER BY j.run_at DESC, j.id DESC LIMIT 1) AS r "
    "  UNION ALL "
    "  SELECT -p.queue_id, 0, NULL::timestamptz, r.id FROM plain AS p CROSS JOIN LATERAL ( "
    "    SELECT j.id FROM dlq.job AS j "
    "     WHERE " DLQ_PLAIN_LANE("p.queue_id", "0") "AND j.run_at <= $3 AND j.lease_expires_at IS NOT NULL "
    "     ORDER BY j.id DESC LIMIT 1) AS r) "
    "SELECT r.queue_id, r.pr, r.run_at, r.id, c.ids FROM candidates AS c LEFT JOIN running AS r ON true",
    3, {INT4OID, INT4OID, TIMESTAMPTZOID}, nullptr};

// A bounded sweep: each priority leased from is read up to its lease bound only, so a backlog of
// waiting due jobs above the bound costs nothing, and from the queue's claim hint in the hint's priority,
// so the dead entries of finished jobs before it are not stepped over either. Priorities never leased
// from hold no running job and are not read. A plain lane (a negated queue id) likewise, by id.
static KeptStatement find_expired_bounded = {
    "SELECT coalesce(array_agg(c.id), '{}') FROM ( "
    "  SELECT e.id FROM unnest($1::integer[], $2::integer[], $3::timestamptz[], $4::bigint[], "
    "                          $6::timestamptz[], $7::bigint[]) AS b(queue_id, pr, run_at, id, from_run_at, from_id) "
    "  CROSS JOIN LATERAL (( "
    "    SELECT j.id FROM dlq.job AS j "
    "     WHERE b.queue_id > 0 AND j.queue_id = b.queue_id AND j.priority = b.pr "
    "       AND (j.run_at, j.id) <= (b.run_at, b.id) AND (j.run_at, j.id) >= (b.from_run_at, b.from_id) "
    "       AND j.run_at <= now() AND j.lease_expires_at < now() AND " DLQ_IN_CLAIM_INDEX
    "     LIMIT $5) UNION ALL ( "
    "    SELECT j.id FROM dlq.job AS j "
    "     WHERE b.queue_id < 0 AND " DLQ_PLAIN_LANE("-b.queue_id", "b.from_id") "AND j.id <= b.id "
    "       AND j.run_at <= now() AND j.lease_expires_at < now() "
    "     LIMIT $5)) AS e "
    "   LIMIT $5) AS c",
    7, {INT4ARRAYOID, INT4ARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID, INT4OID, TIMESTAMPTZARRAYOID, INT8ARRAYOID},
    nullptr};

// Expired leases with attempts left go back to waiting, available at once (run_at = now(), which also
// moves them behind the expired leases still to be found, so a large backlog of expired leases is
// cleared in one pass over the index rather than rescanned per batch). The lost lease is recorded as
// an attempt that ended with "lease expired". SKIP LOCKED leaves alone a job whose worker
// is completing or failing it right now, and the lease is re-checked on the locked row, so a
// heartbeat that just extended it wins. The update finds the locked jobs by `id = ANY (array)`, primary key
// probes whatever the statistics: joined to them instead, a table analyzed nearly empty was read whole.
static KeptStatement rescue_expired = {
    "WITH expired AS ( "
    "  SELECT j.id FROM dlq.job AS j "
    "   WHERE j.id = ANY ($1) AND j.lease_expires_at < now() AND j.attempt < j.max_attempts "
    "   ORDER BY j.lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "UPDATE dlq.job AS j "
    "   SET lease_expires_at = NULL, run_at = now(), last_error = 'lease expired', "
    "       errors = coalesce(j.errors, '[]'::jsonb) || jsonb_build_array(dlq._attempt_record(j.attempt, j.worker, "
    "                'lease expired', jsonb_build_object('sweep_id', $3, 'lease_expired_at', j.lease_expires_at))), "
    "       first_failed_at = coalesce(j.first_failed_at, now()) "
    " WHERE j.id = ANY (ARRAY(SELECT id FROM expired)) "
    "RETURNING j.id, j.queue_id, j.priority, j.run_at, j.enqueued_at",
    3, {INT8ARRAYOID, INT4OID, INT8OID}, nullptr};

static KeptStatement lock_stuck = {
    "SELECT coalesce(array_agg(s.id), '{}') FROM ( "
    "  SELECT j.id FROM dlq.job AS j "
    "   WHERE j.id = ANY ($1) AND j.lease_expires_at < now() AND j.attempt >= j.max_attempts "
    "   ORDER BY j.lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) AS s",
    2, {INT8ARRAYOID, INT4OID}, nullptr};

// Read through job_first_failed_idx. `queue_id + 0`: for a sweep of one queue, the custom plan's
// `queue_id = $1` took the claim index instead and read every entry of the queue, dead ones included.
static KeptStatement lock_unrecovered = {
    "SELECT coalesce(array_agg(s.id), '{}') FROM ( "
    "  SELECT j.id FROM dlq.job AS j JOIN dlq.queue AS q ON q.id = j.queue_id "
    "   WHERE j.first_failed_at < now() - q.recovery_window AND j.lease_expires_at IS NULL "
    "     AND ($1 = 0 OR j.queue_id + 0 = $1) AND j.id <> ALL ($3) "
    "   ORDER BY j.first_failed_at LIMIT $2 FOR UPDATE OF j SKIP LOCKED) AS s",
    3, {INT4OID, INT4OID, INT8ARRAYOID}, nullptr};

static KeptStatement next_sweep_id = {"SELECT nextval('dlq.sweep_id_seq')", 0, {}, nullptr};

// Moves the jobs whose ids the lock statement returns; returns how many moved.
static int64
SweepToDeadLetters(KeptStatement *lock, Datum *lock_args, const char *reason, bool lease_expired, Datum metadata) {
	bool isnull;
	ExecKept(lock, lock_args, nullptr);
	Datum ids = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(ids)), ARR_DIMS(DatumGetArrayTypeP(ids))) == 0)
		return 0;
	DeadLetterMove move = {};
	move.job_ids = ids;
	move.reason = reason;
	move.detected_by = "sweep";
	move.error = lease_expired ? CStringGetTextDatum("lease expired") : (Datum)0;
	move.error_is_null = !lease_expired;
	move.details = metadata;
	move.details_is_null = !lease_expired;
	move.metadata = metadata;
	move.notes_is_null = true;
	return static_cast<int64>(MoveToDeadLetters(&move));
}

static KeptStatement maintain_dead_letters = {"SELECT dlq._maintain_dead_letters()", 0, {}, nullptr};

// A full pass over one queue (every queue: 0); it bounds the sweeps when the plan allows.
static Datum
FullPass(const hint::SweepPlan *plan, int32 queue_id, int32 limit) {
	bool isnull;
	Datum args[3] = {Int32GetDatum(queue_id), Int32GetDatum(limit), TimestampTzGetDatum(plan->begun.started)};
	ExecKept(&find_expired, args, nullptr);
	hint::NoteRunningRows(plan);
	hint::FinishFullPass(plan);
	Datum ids = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull), false, -1);
	SPI_freetuptable(SPI_tuptable); // one per queue without a bound, each sweep
	return ids;
}

// Appends the ids of a bigint[] to `found`.
static void
AppendIds(ArrayBuildState *found, Datum id_array) {
	Datum *elements;
	int n;
	deconstruct_array(DatumGetArrayTypeP(id_array), INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
	                  &elements, nullptr, &n);
	for (int e = 0; e < n; e++)
		accumArrayResult(found, elements[e], false, INT8OID, CurrentMemoryContext);
}

// Candidate ids (bigint[]) of jobs whose lease expired: a full pass reads every due range and raises
// the lease bounds; a bounded sweep reads the due ranges up to them (core/sweep_bound.hpp).
static Datum
FindExpired(int32 queue_id, int32 limit) {
	bool isnull;
	hint::SweepPlan plan;
	hint::BeginSweep(queue_id, static_cast<int64>(guc_sweep_full_pass_interval_s) * USECS_PER_SEC, &plan);
	if (plan.full)
		return FullPass(&plan, queue_id, limit);
	hint::LeaseBounds bounds;
	hint::CollectLeaseBounds(queue_id, &bounds);
	// Queues without a bound are read whole, each by a full pass of its own (which bounds nothing).
	ArrayBuildState *found = initArrayResult(INT8OID, CurrentMemoryContext, false);
	hint::SweepPlan queue_pass = plan;
	queue_pass.may_bound = false;
	for (int i = 0; i < bounds.unbounded_count; i++)
		AppendIds(found, FullPass(&queue_pass, bounds.unbounded_queue_ids[i], limit));
	if (bounds.count > 0) {
		Datum args[7] = {bounds.queue_ids, bounds.priorities, bounds.run_ats, bounds.ids, Int32GetDatum(limit),
		                 bounds.from_run_ats, bounds.from_ids};
		ExecKept(&find_expired_bounded, args, nullptr);
		AppendIds(found, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	return makeArrayResult(found, CurrentMemoryContext);
}

// The first column of SPI_tuptable's rows (bigint) as a bigint[].
static Datum
FirstColumnAsArray() {
	bool isnull;
	Datum *ids = static_cast<Datum *>(palloc(sizeof(Datum) * (SPI_processed + 1)));
	for (uint64 row = 0; row < SPI_processed; row++)
		ids[row] = Int64GetDatum(SpiInt64(row, 1, &isnull));
	return PointerGetDatum(construct_array(ids, static_cast<int>(SPI_processed), INT8OID, sizeof(int64),
	                                       FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

bool sweep_does_housekeeping = true;

int64
MaintainDeadLetters() {
	bool isnull;
	ExecKept(&maintain_dead_letters, nullptr, nullptr);
	return SpiInt64(0, 1, &isnull);
}

void
Sweep(int32 queue_id, int32 batch, SweepCounts *out) {
	bool isnull;
	out->purged = sweep_does_housekeeping ? MaintainDeadLetters() : 0;
	ExecKept(&next_sweep_id, nullptr, nullptr);
	out->sweep_id = SpiInt64(0, 1, &isnull);
	Datum metadata = DirectFunctionCall1(
	    jsonb_in, CStringGetDatum(psprintf("{\"sweep_id\": " INT64_FORMAT "}", out->sweep_id)));
	// Twice the batch in candidates: room for a batch of each outcome, or for a full batch of our own
	// when a concurrent sweep has locked some (we skip those).
	int32 candidates = batch > INT32_MAX / 2 ? INT32_MAX : 2 * batch;

	Datum expired = FindExpired(queue_id, candidates);
	Datum rescue_args[3] = {expired, Int32GetDatum(batch), Int64GetDatum(out->sweep_id)};
	out->rescued = static_cast<int64>(ExecWrite(&rescue_expired, rescue_args, nullptr, 1));
	// A rescued job may also be past its recovery window; it is dead-lettered by the next sweep, with
	// its lost lease in the history, rather than counted twice by this one.
	Datum rescued_ids = FirstColumnAsArray();

	Datum stuck_args[2] = {expired, Int32GetDatum(batch)};
	out->stuck = SweepToDeadLetters(&lock_stuck, stuck_args, "STUCK_IN_PROGRESS", true, metadata);
	Datum unrecovered_args[3] = {Int32GetDatum(queue_id), Int32GetDatum(batch), rescued_ids};
	out->unrecovered = SweepToDeadLetters(&lock_unrecovered, unrecovered_args, "UNRECOVERED_ERROR", false, metadata);
}

} // namespace dlq::pg::store
