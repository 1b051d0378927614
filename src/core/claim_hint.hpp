// Where a claim may start reading a queue's claim index, and the protocol that keeps that start safe.
//
// The claim index is ordered by (priority, run_at, id). Completed jobs leave entries at its head that
// vacuum has not removed yet, or cannot remove while an old snapshot is held; a claim that reads from
// the head steps over every one of them. A queue's hint is a key below which no job can be claimable:
//  - a claim that read the index from the hint learns the first entry its snapshot can see; every entry
//    before it is dead to that snapshot, so the hint may move up to it, provided no job written before
//    that snapshot was still invisible to it (no writer transaction open when the claim began) and
//    none was written meanwhile (the write count did not change);
//  - every statement that makes a job waiting with some key (enqueue, retry, rescue, replay) lowers the
//    hint to that key before its transaction commits, counts a write, and keeps its transaction
//    registered as an open writer until it has ended.
// Running jobs stay visible entries, so they keep `start` at or below them; a job returns to waiting
// only through a write, which lowers the hint again. So claims read from a second key, `claim_start`,
// which a claim raises to the first *waiting* entry it saw, past running jobs: a job leaves running only
// by a write that lowers both keys, or by a delete. A long-running job then costs claims nothing, while
// `start` stays below it for the sweeps (core/sweep_bound.hpp), which look for running jobs; a claim
// raises `start` only when it read from it: when claim_start has come down to start, and one claim in
// kClaimsPerStartRead otherwise, so that `start` follows the jobs that stopped running (the sweeps read
// from it) at the cost of one longer claim now and then.
// All functions are pure; the caller holds a lock.
#pragma once
#include <cstdint>

namespace dlq::core {

struct ClaimKey {
	int32_t priority;
	int64_t run_at; // PostgreSQL timestamptz: microseconds, INT64_MIN is -infinity
	int64_t id;
};

// Below every job: the start of a queue's range in the index.
constexpr ClaimKey kLowestClaimKey = {INT32_MIN, INT64_MIN, INT64_MIN};

bool KeyBefore(const ClaimKey &a, const ClaimKey &b) noexcept;

struct ClaimHint {
	ClaimKey start = kLowestClaimKey;       // no running or waiting job before it (sweeps)
	ClaimKey claim_start = kLowestClaimKey; // no waiting job before it (claims); never below start
	uint32_t claims = 0;                    // claims begun while claim_start was past start
	uint64_t writes = 0;       // writes counted so far
	int32_t open_writers = 0;  // transactions that counted a write and have not ended
};

// A write of a waiting job with key `key`; `new_writer` is true for the transaction's first write.
void NoteWrite(ClaimHint &hint, const ClaimKey &key, bool new_writer) noexcept;
// A write whose keys are unknown (outside the API): the hint goes back to the start of the queue.
void NoteUnknownWrite(ClaimHint &hint, bool new_writer) noexcept;
// The end (commit or abort) of a transaction that counted writes.
void EndWriter(ClaimHint &hint) noexcept;

// A hint back at the start of its queue (a write whose keys are unknown, a queue created anew).
void ResetHint(ClaimHint &hint) noexcept;

// What a claim reads before its snapshot is taken.
struct ClaimStart {
	ClaimKey start;  // where the claim reads from: the hint's claim_start, or its start when at_start
	uint64_t writes;
	bool may_raise;  // no writer was open: every job written so far is visible to the coming snapshot
	bool at_start;   // the claim reads from the hint's start (the keys were equal, or its turn came)
};
constexpr uint32_t kClaimsPerStartRead = 256;
ClaimStart BeginClaim(ClaimHint &hint) noexcept;
// After the claim: `first_visible` is the first index entry at or after `begun.start` that the claim's
// snapshot saw, `first_waiting` the first of them that was not running (when `seen_waiting`). Returns
// whether the hint moved.
bool FinishClaim(ClaimHint &hint, const ClaimStart &begun, const ClaimKey &first_visible, bool seen_waiting,
                 const ClaimKey &first_waiting) noexcept;
// The same when the first entry seen was waiting.
bool FinishClaim(ClaimHint &hint, const ClaimStart &begun, const ClaimKey &first_visible) noexcept;

} // namespace dlq::core

#include "core/no_postgres.hpp"
