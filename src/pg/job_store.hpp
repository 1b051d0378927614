// The live-job storage: every statement that inserts, claims, completes, fails or moves a job lives in
// job_store.cpp, behind these functions, so the storage can be redesigned without touching callers.
// All functions but ClaimJobs must be called between SPI_connect() and SPI_finish(); results that come back as rows
// are left in SPI_tuptable.
#pragma once

#include "pg/pg_includes.hpp"

namespace dlq::pg::store {

// Parameters of InsertJob, in this order.
enum NewJobParam {
	kNewQueue, kNewKind, kNewPayload, kNewRunAt, kNewPriority, kNewMaxAttempts, kNewTenant, kNewActor,
	kNewDedupKey, kNewJobParams
};

// Inserts one job. Returns its id; with a dedup key held by a live job of the queue, that job's id.
// Returns 0 when the queue does not exist.
int64 InsertJob(Datum *values, const char *nulls);

// The same without the executor and without SPI (job_insert.cpp), when an INSERT into dlq.job would run
// nothing but dlq's own trigger and the job has no dedup key; otherwise kNotDirect, and the caller runs
// InsertJob / InsertJobBatch.
enum class DirectInsert { kInserted, kUnknownQueue, kNotDirect };
DirectInsert InsertJobDirectly(const Datum *values, const char *nulls, int64 *id);
// A batch validated by core::ValidateJobBatch, of `count` elements and no dedup key: their ids in
// element order in `ids` (room for `count`).
DirectInsert InsertJobBatchDirectly(Datum queue_name, Jsonb *jobs, int count, int64 *ids);

struct QueueInfo {
	int32 id;
	int32 max_attempts;
};
// Looks a queue up by name; false when it does not exist.
bool FindQueue(Datum queue_name, QueueInfo *out);

// Inserts a validated batch (a JSON array, see core/job_batch.hpp) into the queue. Leaves rows
// (ord bigint, id bigint, then columns of the store's own) in SPI_tuptable ordered by ord (1-based),
// one per element.
void InsertJobBatch(const QueueInfo *queue, Datum jobs, bool has_dedup_keys);

// Leases up to `batch` available jobs of the queue to the worker and appends them to `out` (rows of
// `out_desc`: job_id, kind, payload, attempt, max_attempts, tenant, enqueued_at, lease_expires_at) in
// claim order. Returns the count of jobs claimed; when it is 0, *queue_exists tells an unknown queue from
// an empty or paused one. Runs no SQL (job_claim.cpp): needs no SPI connection.
uint64 ClaimJobs(Datum queue_name, Datum worker, int32 batch, Datum lease, bool lease_is_null, Tuplestorestate *out,
                 TupleDesc out_desc, bool *queue_exists);
// Whether the queue exists.
bool QueueExists(Datum queue_name);

bool ExtendLease(Datum job_id, Datum worker, Datum lease, bool lease_is_null);
bool CompleteJob(Datum job_id, Datum worker);
uint64 CompleteJobs(Datum job_ids, Datum worker);

// Records a failed attempt of a job whose lease `worker` holds and that has attempts left, and puts it
// back to wait: until now + retry_in when given, else the queue's backoff for that attempt (unit_random
// in [0, 1) draws its jitter). False when the lease is not held or no attempt is left.
bool RetryJob(Datum job_id, Datum worker, Datum error, Datum details, bool details_is_null, double unit_random,
              Datum retry_in, bool retry_in_is_null);

// The one dead-letter path (inline, sweep and manual detection): moves live jobs to dlq.dead_letter
// in one statement and sends NOTIFY dlq_dead_letter for each. When `error` is given, the attempt that
// ended with it is appended to the history first. Rows (dead_letter_id, job_id) in SPI_tuptable;
// returns the count moved (jobs that no longer exist are skipped).
struct DeadLetterMove {
	Datum job_ids;        // bigint[]
	const char *reason;
	const char *detected_by;
	Datum error;          // text, or null
	bool error_is_null;
	Datum details;        // jsonb, or null
	bool details_is_null;
	Datum metadata;       // jsonb merged into the dead letter's metadata, or null
	bool metadata_is_null;
	Datum notes;          // text, or null
	bool notes_is_null;
	// Set by fail: only jobs whose lease lease_worker (text) holds move, and with only_exhausted only those
	// on their last attempt; the others are skipped like jobs that no longer exist. Unset, jobs move
	// whatever their lease (the sweeper and dlq.dead_letter lock them first).
	bool guard_lease;
	Datum lease_worker;
	bool only_exhausted;
};
uint64 MoveToDeadLetters(const DeadLetterMove *move);
// The dead letter a job became, or 0.
int64 FindDeadLetterOfJob(Datum job_id);

// Recreates dead letters as new jobs (attempt 0, replayed_from = the dead letter). Dead letters whose
// queue no longer exists are skipped. Rows (dead_letter_id, job_id, then columns of the store's own)
// in SPI_tuptable.
uint64 RequeueDeadLetters(Datum dead_letter_ids, Datum run_at);
uint64 DeleteQueueJobs(Datum queue_id);

struct SweepCounts {
	int64 sweep_id;
	int64 rescued;      // expired leases put back to waiting
	int64 stuck;        // expired leases on the last attempt: STUCK_IN_PROGRESS
	int64 unrecovered;  // retries past the queue's recovery window: UNRECOVERED_ERROR
	int64 purged;       // reviewed dead letters past their queue's retention
};
// One bounded sweep in the current transaction: at most `batch` jobs per outcome. queue_id 0 sweeps
// every queue. Safe to run concurrently with workers and with other sweeps (row locks, SKIP LOCKED).
// The dead letters' housekeeping rides along unless this process does it itself (below).
void Sweep(int32 queue_id, int32 batch, SweepCounts *out);

// The dead letters' housekeeping: partitions for the coming week and per-queue retention (returns the
// dead letters it removed). The background sweeper runs it once per pass in a transaction of its own and
// sets sweep_does_housekeeping to false, so that the batches of the pass do not run it again.
int64 MaintainDeadLetters();
extern bool sweep_does_housekeeping;

// Copies the live jobs into new storage of dlq.job and drops the old with its dead row versions
// (job_compact.cpp). The caller holds dlq.job in ACCESS EXCLUSIVE mode. Returns the jobs copied, or -1,
// with nothing changed, when there are more than max_live_rows or they take more than max_live_bytes.
int64 RewriteJobTable(int32 max_live_rows, int64 max_live_bytes);

} // namespace dlq::pg::store
