// What a claim does with each entry of the claim index (priority, run_at, id) its scan returns, in claim
// order: the decisions of the claim's scan loop (src/pg/job_claim.cpp), kept free of PostgreSQL.
//
// A claim reads one priority's due range at a time, lowest priority first. Entries come from a scan that
// starts at the queue's claim hint (or the queue's first entry) and may run on into higher priorities.
// The first entry the scan returns, whatever it is, and the first that is not running are what the claim
// reports for the hint (core/claim_hint.hpp). A running job is stepped over. A future entry (run_at after now) ends its priority's
// due range: the jobs after it in that priority are all future too, so the claim descends again to the
// priorities above it instead of reading them. A paused queue is read only for the hint's entry.
#pragma once
#include <cstdint>

#include "core/claim_hint.hpp"

namespace dlq::core {

struct ClaimScan {
	int64_t now;            // the claim's now(), as a PostgreSQL timestamptz
	int32_t batch;          // jobs wanted, at least 1
	bool paused;            // the queue is paused: nothing is taken
	int32_t taken;          // jobs taken so far
	bool seen_first;        // first_visible is set
	ClaimKey first_visible; // the first entry the claim's scans returned
	bool seen_waiting;      // first_waiting is set
	ClaimKey first_waiting; // the first of them not running (due or not)
	int32_t priority;       // the priority of the last entry read
	bool at_future;         // the current scan stopped at a future entry of `priority`
	bool done;              // nothing more to read
};

ClaimScan BeginClaimScan(int64_t now, int32_t batch, bool paused) noexcept;

enum class EntryAction {
	kTry,         // a due waiting job: try to take it (then NoteTaken if taken)
	kSkip,        // a running job: read on
	kEndScan,     // stop this scan (a future entry, or the claim is done); then ask NextDescent
};
EntryAction NextEntry(ClaimScan &scan, const ClaimKey &key, bool running) noexcept;
void NoteTaken(ClaimScan &scan) noexcept;

// After a scan ended (kEndScan, or its entries ran out): whether to descend again, to the priorities
// above *above_priority.
bool NextDescent(ClaimScan &scan, int32_t *above_priority) noexcept;

} // namespace dlq::core

#include "core/no_postgres.hpp"
