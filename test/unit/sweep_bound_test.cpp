#include "core/sweep_bound.hpp"

#include <gtest/gtest.h>

#include "claim_key_helpers.hpp"

namespace dlq::core {
namespace {

using test_support::Key;
using test_support::SameKey;

TEST(LeaseBound, KeepsTheHighestKeyOfEachPriority) {
	LeaseBound bound;
	RaiseLeaseBound(bound, Key(0, 100, 7));
	RaiseLeaseBound(bound, Key(0, 90, 9));  // lower: ignored
	RaiseLeaseBound(bound, Key(0, 100, 8)); // same run_at, higher id
	RaiseLeaseBound(bound, Key(5, 10, 1));
	ClaimKey key;
	ASSERT_TRUE(LeaseBoundOf(bound, 0, &key));
	EXPECT_TRUE(SameKey(key, Key(0, 100, 8)));
	ASSERT_TRUE(LeaseBoundOf(bound, 5, &key));
	EXPECT_TRUE(SameKey(key, Key(5, 10, 1)));
	EXPECT_FALSE(LeaseBoundOf(bound, 1, &key)); // never leased from: no running job there
	EXPECT_EQ(bound.count, 2);
	EXPECT_FALSE(bound.overflow);
}

TEST(LeaseBound, MorePrioritiesThanFitLeaveTheQueueUnbounded) {
	LeaseBound bound;
	for (int32_t priority = 0; priority < kMaxBoundedPriorities; priority++)
		RaiseLeaseBound(bound, Key(priority, 1, 1));
	EXPECT_FALSE(bound.overflow);
	RaiseLeaseBound(bound, Key(3, 2, 2)); // a known priority still fits
	EXPECT_FALSE(bound.overflow);
	RaiseLeaseBound(bound, Key(kMaxBoundedPriorities, 1, 1));
	EXPECT_TRUE(bound.overflow);
	RaiseLeaseBound(bound, Key(-1, 1, 1)); // stays overflowed
	EXPECT_TRUE(bound.overflow);
}

TEST(SweepRangeStart, StartsAtTheHintInItsPriority) {
	ClaimKey from;
	ASSERT_TRUE(SweepRangeStart(Key(2, 500, 9), Key(2, 100, 4), &from));
	EXPECT_TRUE(SameKey(from, Key(2, 100, 4)));
	// A bound equal to the hint: the range holds that one entry.
	ASSERT_TRUE(SweepRangeStart(Key(2, 100, 4), Key(2, 100, 4), &from));
	EXPECT_TRUE(SameKey(from, Key(2, 100, 4)));
}

TEST(SweepRangeStart, StartsAtThePriorityStartAboveTheHint) {
	ClaimKey from;
	ASSERT_TRUE(SweepRangeStart(Key(3, 500, 9), Key(2, 100, 4), &from));
	EXPECT_TRUE(SameKey(from, Key(3, kLowestClaimKey.run_at, kLowestClaimKey.id)));
	// A hint at the queue's start (after a restart or a write outside the API) reads every range whole.
	ASSERT_TRUE(SweepRangeStart(Key(INT32_MIN, 5, 5), kLowestClaimKey, &from));
	EXPECT_TRUE(SameKey(from, kLowestClaimKey));
}

TEST(SweepRangeStart, ReadsNothingBelowTheHint) {
	ClaimKey from = Key(7, 7, 7);
	EXPECT_FALSE(SweepRangeStart(Key(1, 900, 9), Key(2, 100, 4), &from)); // a lower priority
	EXPECT_FALSE(SweepRangeStart(Key(2, 99, 9), Key(2, 100, 4), &from));  // below in the same priority
	EXPECT_FALSE(SweepRangeStart(Key(2, 100, 3), Key(2, 100, 4), &from));
	EXPECT_TRUE(SameKey(from, Key(7, 7, 7))); // untouched
}

TEST(SweepState, TheFirstSweepIsAFullPass) {
	SweepState state; // as after a start: the bounds in memory know nothing of earlier claims
	EXPECT_TRUE(NeedsFullPass(state, 1000, 300));
	EXPECT_TRUE(NeedsFullPass(state, INT64_MAX, INT64_MAX)); // however long the interval
	FullPassBegin begun = BeginFullPass(state, 1000);
	EXPECT_TRUE(begun.may_bound);
	EXPECT_EQ(begun.started, 1000);
	EXPECT_FALSE(state.bounded); // beginning a pass changes nothing
}

TEST(SweepState, AFullPassWithNoWriteOutsideTheApiBoundsTheNextSweeps) {
	SweepState state;
	FullPassBegin begun = BeginFullPass(state, 1000);
	EXPECT_TRUE(FinishFullPass(state, begun));
	EXPECT_FALSE(NeedsFullPass(state, 1000, 300));
	EXPECT_FALSE(NeedsFullPass(state, 1299, 300));
	EXPECT_TRUE(NeedsFullPass(state, 1300, 300)); // the interval has passed
	EXPECT_TRUE(NeedsFullPass(state, 999, 300));  // the clock went back
	EXPECT_TRUE(NeedsFullPass(state, 1000, 0));   // interval 0: every sweep is full
}

TEST(SweepState, AWriteOutsideTheApiUnboundsUntilAFullPassBeganAfterItsEnd) {
	SweepState state;
	ASSERT_TRUE(FinishFullPass(state, BeginFullPass(state, 0)));
	NoteUnknownSweepWrite(state, true);
	EXPECT_TRUE(NeedsFullPass(state, 1, 300));
	// A pass that began while the writer was open: it may not see the writer's jobs.
	FullPassBegin during = BeginFullPass(state, 2);
	EXPECT_FALSE(FinishFullPass(state, during));
	EndUnknownSweepWriter(state);
	EXPECT_TRUE(NeedsFullPass(state, 3, 300));
	// A pass that began after it ended, with a new write meanwhile: still not bounded.
	FullPassBegin after = BeginFullPass(state, 4);
	NoteUnknownSweepWrite(state, true);
	EndUnknownSweepWriter(state);
	EXPECT_FALSE(FinishFullPass(state, after));
	// One with nothing written meanwhile bounds again.
	EXPECT_TRUE(FinishFullPass(state, BeginFullPass(state, 5)));
	EXPECT_FALSE(NeedsFullPass(state, 6, 300));
	EXPECT_EQ(state.last_full_pass, 5);
}

TEST(SweepState, ASecondWriteOfOneTransactionCountsOneOpenWriter) {
	SweepState state;
	NoteUnknownSweepWrite(state, true);
	NoteUnknownSweepWrite(state, false);
	EXPECT_EQ(state.open_unknown_writers, 1);
	EndUnknownSweepWriter(state);
	EndUnknownSweepWriter(state); // never below zero
	EXPECT_EQ(state.open_unknown_writers, 0);
}

} // namespace
} // namespace dlq::core
