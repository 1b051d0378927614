// Claim hints and lease bounds in shared memory (see core/claim_hint.hpp and core/sweep_bound.hpp for
// the protocols): where a claim may start reading a queue's claim index so that it skips the dead
// entries at the head, and how far a sweep must read it to find every running job. Present only when
// dlq is in shared_preload_libraries; without it every claim reads the index from the queue's start,
// and every sweep is a full pass.
#pragma once

#include "core/claim_hint.hpp"
#include "core/sweep_bound.hpp"
#include "pg/pg_includes.hpp"

namespace dlq::pg::hint {

// From _PG_init while shared_preload_libraries is processed.
void InstallSharedMemoryHooks();

// Statements of the API that write jobs run between these two, so that the table's trigger tells them
// from writes outside the API. A write that fails leaves the mark to the (sub)transaction's abort.
void BeginApiWrite();
void EndApiWrite();

// Each queue has a hint and a lease bound per claim lane (core/job_id.hpp): one for its claim index
// entries, one for its plain jobs (whose keys are core::PlainLaneKey). The plain lane's are kept, and
// shown by dlq._claim_hint and dlq._lease_bounds, under the queue's id negated.

// Counts the rows of SPI_tuptable as written waiting jobs, each with its (id, queue_id, priority, run_at,
// enqueued_at) in the columns key_column .. key_column + 4 (1-based; a null id: unknown, below every
// id). Must run before the transaction ends.
void NoteWrittenRows(int key_column);
// The same for jobs written without a statement (job_insert.cpp): the lowest key of those written to
// one lane of one queue.
void NoteWrittenKey(int32 queue_id, bool plain_lane, const core::ClaimKey &lowest);
// A write whose keys are not told (dlq.job compacted, job_compact.cpp), as the table's trigger notes
// writes from outside the API: every hint of the database back to its queue's start.
void NoteUnknownWrite();

// A claim: where to start (the queue's start when hints are off, absent, or the queue's id not yet
// known), read before the claim statement takes its snapshot.
struct ClaimBegin {
	int32 queue_id;    // the id the hint belongs to; 0 when none was read
	int slot;
	core::ClaimStart queue;
	core::ClaimStart unknown;
	bool may_raise;
	bool older_transactions_ended; // every transaction older than the server's first claim had ended
};
// Both claim lanes of the queue at once (core/job_id.hpp).
void BeginClaim(Datum queue_name, ClaimBegin *index_lane, ClaimBegin *plain_lane);
// After the claim statement: `queue_id` is the queue it claimed from, `first_visible` the first entry
// its snapshot saw from the start it was given, `first_waiting` the first of them not running (when
// `seen_waiting`), `snapshot_xmin` that snapshot's xmin (no hint moves while a transaction older than
// the server's first claim runs: a prepared one survives a restart).
void FinishClaim(const ClaimBegin *begun, Datum queue_name, int32 queue_id, const core::ClaimKey &first_visible,
                 bool seen_waiting, const core::ClaimKey &first_waiting, TransactionId snapshot_xmin);

// After a claim: raises the lane's lease bounds to the keys of the jobs it took from it (claim order).
// Must run before the transaction commits.
void NoteLeasedKeys(int32 queue_id, bool plain_lane, const core::ClaimKey *keys, int count);

// A sweep: whether it must be a full pass, decided before its statements take their snapshots.
struct SweepPlan {
	bool full;      // read every due range (and raise the bounds to the running jobs seen)
	bool may_bound; // a full pass may make the next sweeps bounded
	int database;   // -1: no shared state (not preloaded, or no room)
	core::FullPassBegin begun; // begun.started: the full pass reads running jobs due up to this time
};
// A sweep of one queue (queue_id not 0) never bounds the database's sweeps: it reads that queue only.
void BeginSweep(int32 queue_id, int64 full_pass_interval_us, SweepPlan *out);
// A full pass's highest running job of each (queue, priority) it read: rows (queue_id, priority, run_at,
// id) of SPI_tuptable, a null queue_id for none, the queue's id negated for its plain lane.
void NoteRunningRows(const SweepPlan *plan);
// After NoteRunningRows: whether the following sweeps may be bounded.
bool FinishFullPass(const SweepPlan *plan);

// The lease bounds of this database's queues (one queue's when queue_id is not 0): parallel arrays
// (integer[], integer[], timestamptz[], bigint[], then where each range starts: timestamptz[], bigint[])
// of one entry per (queue, priority) leased from that may hold a running job (core::SweepRangeStart),
// the queue's id negated for its plain lane, and the queues without a bound (more priorities than fit),
// which the sweep reads whole.
struct LeaseBounds {
	int count;
	Datum queue_ids;
	Datum priorities;
	Datum run_ats;
	Datum ids;
	Datum from_run_ats;
	Datum from_ids;
	int unbounded_count;
	int32 *unbounded_queue_ids;
};
void CollectLeaseBounds(int32 queue_id, LeaseBounds *out);

// A queue just created (its id is new, or reused after the extension was dropped and created again):
// it has no job yet, so its hint and lease bound start afresh.
void ForgetQueue(int32 queue_id);

} // namespace dlq::pg::hint
