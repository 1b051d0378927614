// Where a sweep must look for expired leases.
//
// A sweep finds expired leases by reading the due range of each priority of a queue's claim index
// (the lease is not indexed: indexing it would make every claim a non-HOT update). With a backlog of
// due jobs waiting, reading the whole range costs every sweep O(backlog). But a claim takes the lowest
// due keys of a priority, and a running job keeps its key until it leaves the running state; so every
// running job of a priority lies at or below the highest key any claim has leased from that priority.
// Claims raise that per-priority bound (before their transaction commits), so a sweep may read each
// priority only up to it:
//  - bounds are kept in shared memory and are lost at a restart, and claims from before it (or writes
//    outside the API, which do not raise them) can leave running jobs above them. A full pass reads
//    every due range, as sweeps always did, and raises the bounds to the highest running job it saw;
//    sweeps are bounded only after a full pass that no write outside the API overlapped;
//  - a full pass also runs at least every dlq.sweep_full_pass_interval, for what no hook sees (a
//    prepared claim committed after a restart, a lease set by hand, a running job written by hand with
//    a run_at still to come);
//  - a queue that has used more priorities than a bound holds is not bounded: every sweep reads it
//    whole, until the server restarts.
// All functions are pure; the caller holds a lock.
#pragma once
#include <cstdint>

#include "core/claim_hint.hpp"

namespace dlq::core {

constexpr int kMaxBoundedPriorities = 16;

// One queue's bound: per priority leased from, the highest key leased.
struct LeaseBound {
	int32_t count = 0;
	bool overflow = false; // more priorities than fit: the queue has no bound
	ClaimKey highest[kMaxBoundedPriorities] = {};
};

// A claim (or a full pass) saw a running job with `key`.
void RaiseLeaseBound(LeaseBound &bound, const ClaimKey &key) noexcept;
// The bound of `priority`; false when no job of that priority was leased.
bool LeaseBoundOf(const LeaseBound &bound, int32_t priority, ClaimKey *out) noexcept;

// Where a bounded sweep starts reading the priority of `bound`: no running job lies below the `start` of
// the queue's claim hint (only its claim_start passes running jobs; core/claim_hint.hpp), so
// the range starts at the hint in the hint's priority, at the priority's start above it, and is empty
// below it or when the bound itself is below the hint. The dead entries of finished jobs before the hint
// (many while a snapshot is held) are not read. Returns false for an empty range.
bool SweepRangeStart(const ClaimKey &bound, const ClaimKey &hint_start, ClaimKey *from) noexcept;

// One database's sweeps.
struct SweepState {
	bool bounded = false;                // a full pass has established the bounds
	int64_t last_full_pass = INT64_MIN;  // when the last full pass began (microseconds)
	uint64_t unknown_writes = 0;         // writes outside the API since the server started
	int32_t open_unknown_writers = 0;    // their transactions still open
};

// A write outside the API (`new_writer`: the transaction's first): bounds may be wrong until a full pass
// that began after the transaction ended.
void NoteUnknownSweepWrite(SweepState &state, bool new_writer) noexcept;
void EndUnknownSweepWriter(SweepState &state) noexcept;

struct FullPassBegin {
	int64_t started;
	uint64_t unknown_writes;
	bool may_bound; // no write outside the API was open: every running job is visible to the pass
};

// Whether a sweep starting at `now` must be a full pass; `interval` <= 0 makes every sweep one.
bool NeedsFullPass(const SweepState &state, int64_t now, int64_t interval) noexcept;
FullPassBegin BeginFullPass(const SweepState &state, int64_t now) noexcept;
// After the full pass has raised the bounds to what it saw: returns whether sweeps are now bounded.
bool FinishFullPass(SweepState &state, const FullPassBegin &begun) noexcept;

} // namespace dlq::core

#include "core/no_postgres.hpp"
