// Claim hints in shared memory (see core/claim_hint.hpp for the protocol): where a claim may start
// reading a queue's claim index so that it skips the dead entries at the head. Present only when dlq
// is in shared_preload_libraries; without it every claim reads the index from the queue's start.
#pragma once

#include "core/claim_hint.hpp"
#include "pg/pg_includes.hpp"

namespace dlq::pg::hint {

// From _PG_init while shared_preload_libraries is processed.
void InstallSharedMemoryHooks();

// Statements of the API that write jobs run between these two, so that the table's trigger tells them
// from writes outside the API. A write that fails leaves the mark to the (sub)transaction's abort.
void BeginApiWrite();
void EndApiWrite();

// Counts the rows of SPI_tuptable as written waiting jobs, each with its (id, queue_id, priority, run_at)
// in the columns key_column .. key_column + 3 (1-based; a null id: unknown, below every id). Must run
// before the transaction ends.
void NoteWrittenRows(int key_column);

// A claim: where to start (the queue's start when hints are off, absent, or the queue's id not yet
// known), read before the claim statement takes its snapshot.
struct ClaimBegin {
	int32 queue_id;    // the id the hint belongs to; 0 when none was read
	int slot;
	core::ClaimStart queue;
	core::ClaimStart unknown;
	bool may_raise;
};
void BeginClaim(Datum queue_name, ClaimBegin *out);
// After the claim statement: `queue_id` is the queue it claimed from, `first_visible` the first entry
// its snapshot saw from the start it was given.
void FinishClaim(const ClaimBegin *begun, Datum queue_name, int32 queue_id, const core::ClaimKey &first_visible);

} // namespace dlq::pg::hint
