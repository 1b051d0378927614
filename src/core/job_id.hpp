// What a job id carries, and which of the two claim lanes holds a job.
//
// A job id is (queue id << 45) | (scheduled << 44) | n, n from dlq.job_id_seq: the primary key then keeps
// each queue's jobs together, in the order they were enqueued. A job enqueued to run at once at
// priority 0 (a plain job: most jobs) is claimed through the primary key, in id order, and has no entry
// in the claim index, which holds only the others (scheduled for later or earlier, prioritised,
// retried, rescued): one index entry per plain job instead of two, the largest record a job wrote
// after its own row. The scheduled bit keeps the jobs born scheduled out of the primary key's plain
// range, so that a million jobs scheduled for tomorrow are not stepped over by claims there.
//
// A row version is in the claim index exactly when InClaimIndex holds (the index predicate,
// src/sql/010_tables.sql); the plain lane takes only the versions for which it does not.
#pragma once
#include <cstdint>

#include "core/claim_hint.hpp"

namespace dlq::core {

constexpr int kQueueIdShift = 45;
constexpr int64_t kScheduledBit = int64_t{1} << 44;
constexpr int64_t kMaxJobSequence = kScheduledBit - 1;            // dlq.job_id_seq's MAXVALUE
constexpr int32_t kMaxQueueId = (int32_t{1} << (63 - kQueueIdShift)) - 1; // dlq.queue_id_seq's MAXVALUE

// Whether a job with these values at enqueue is plain (claimed through the primary key).
constexpr bool
BornPlain(int32_t priority, int64_t run_at, int64_t enqueued_at) noexcept {
	return priority == 0 && run_at == enqueued_at;
}

// The id of a new job of `queue_id` (1 .. kMaxQueueId) with sequence value `n` (1 .. kMaxJobSequence).
constexpr int64_t
MakeJobId(int32_t queue_id, bool born_plain, int64_t n) noexcept {
	return (static_cast<int64_t>(queue_id) << kQueueIdShift) | (born_plain ? 0 : kScheduledBit) | n;
}

constexpr int32_t
QueueOfJobId(int64_t id) noexcept {
	return static_cast<int32_t>(id >> kQueueIdShift);
}

// The claim index's predicate on one row version.
constexpr bool
InClaimIndex(int64_t id, int32_t priority, int64_t run_at, int64_t enqueued_at) noexcept {
	return priority != 0 || run_at != enqueued_at || (id & kScheduledBit) != 0;
}

// The primary key range [first, last] where a queue's plain jobs lie.
constexpr int64_t
PlainLaneFirst(int32_t queue_id) noexcept {
	return static_cast<int64_t>(queue_id) << kQueueIdShift;
}
constexpr int64_t
PlainLaneLast(int32_t queue_id) noexcept {
	return PlainLaneFirst(queue_id) | kMaxJobSequence;
}

// A plain-lane position as a claim key (the hint and lease bound protocols work on ClaimKeys): the lane
// is one priority ordered by id.
constexpr ClaimKey
PlainLaneKey(int64_t id) noexcept {
	return ClaimKey{0, 0, id};
}

// The claim's merge of its two lanes: whether the plain lane's next job (key: priority 0, its run_at, its
// id) comes before the claim index's next one.
bool TakePlainLaneNext(bool have_index_job, const ClaimKey &index_job, bool have_plain_job,
                    const ClaimKey &plain_job) noexcept;

} // namespace dlq::core

#include "core/no_postgres.hpp"
