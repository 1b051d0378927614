#include <gtest/gtest.h>

#include <cstdint>

#include "core/job_id.hpp"

namespace dlq::core {
namespace {

TEST(JobIdTest, CarriesQueueLaneAndNumber) {
	int64_t plain = MakeJobId(3, true, 7);
	EXPECT_EQ(QueueOfJobId(plain), 3);
	EXPECT_EQ(plain & kMaxJobSequence, 7);
	EXPECT_EQ(plain & kScheduledBit, 0);
	int64_t scheduled = MakeJobId(3, false, 8);
	EXPECT_EQ(QueueOfJobId(scheduled), 3);
	EXPECT_NE(scheduled & kScheduledBit, 0);
	EXPECT_EQ(scheduled & kMaxJobSequence, 8);
}

TEST(JobIdTest, LargestIdsStayPositive) {
	int64_t largest = MakeJobId(kMaxQueueId, false, kMaxJobSequence);
	EXPECT_GT(largest, 0);
	EXPECT_EQ(QueueOfJobId(largest), kMaxQueueId);
	EXPECT_EQ(kMaxQueueId, 262143);
	EXPECT_EQ(kMaxJobSequence, (int64_t{1} << 44) - 1);
}

TEST(JobIdTest, PlainRangeHoldsOnlyPlainIdsOfItsQueue) {
	EXPECT_EQ(PlainLaneFirst(2), MakeJobId(2, true, 0));
	EXPECT_EQ(PlainLaneLast(2), MakeJobId(2, true, kMaxJobSequence));
	EXPECT_LT(PlainLaneLast(2), MakeJobId(2, false, 1)); // the scheduled ids come after
	EXPECT_LT(MakeJobId(1, false, kMaxJobSequence), PlainLaneFirst(2));
	// The primary key orders a queue's plain jobs by number.
	EXPECT_LT(MakeJobId(2, true, 5), MakeJobId(2, true, 6));
}

TEST(JobIdTest, BornPlainOnlyAtPriorityZeroDueAtEnqueue) {
	EXPECT_TRUE(BornPlain(0, 100, 100));
	EXPECT_FALSE(BornPlain(1, 100, 100));
	EXPECT_FALSE(BornPlain(-1, 100, 100));
	EXPECT_FALSE(BornPlain(0, 101, 100)); // later
	EXPECT_FALSE(BornPlain(0, 99, 100));  // earlier: claimed by run_at, through the claim index
}

TEST(JobIdTest, EveryVersionIsInExactlyOneLane) {
	int64_t plain = MakeJobId(1, true, 1);
	int64_t scheduled = MakeJobId(1, false, 2);
	EXPECT_FALSE(InClaimIndex(plain, 0, 100, 100));
	EXPECT_TRUE(InClaimIndex(plain, 0, 200, 100)); // retried: run_at moved
	EXPECT_TRUE(InClaimIndex(plain, 5, 100, 100));
	// A job born scheduled stays in the claim index even if a retry sets its run_at back to enqueued_at
	// (the plain lane's range does not hold its id).
	EXPECT_TRUE(InClaimIndex(scheduled, 0, 100, 100));
}

TEST(JobIdTest, MergeTakesTheEarlierKey) {
	ClaimKey index_job{0, 50, MakeJobId(1, false, 9)};
	ClaimKey plain_job{0, 40, MakeJobId(1, true, 10)};
	EXPECT_TRUE(TakePlainLaneNext(true, index_job, true, plain_job));
	EXPECT_FALSE(TakePlainLaneNext(true, ClaimKey{-1, 90, 1}, true, plain_job)); // a lower priority first
	EXPECT_FALSE(TakePlainLaneNext(true, index_job, false, plain_job));
	EXPECT_TRUE(TakePlainLaneNext(false, index_job, true, plain_job));
	EXPECT_FALSE(TakePlainLaneNext(false, index_job, false, plain_job));
	// Same run_at: the lower id.
	EXPECT_FALSE(TakePlainLaneNext(true, ClaimKey{0, 40, 3}, true, ClaimKey{0, 40, 4}));
}

} // namespace
} // namespace dlq::core
