// The claim's scan decisions (core/claim_scan.hpp): what it does with each claim-index entry, in order.
#include <gtest/gtest.h>

#include "claim_key_helpers.hpp"
#include "core/claim_scan.hpp"

namespace dlq::core {
namespace {

using test_support::Key;
using test_support::SameKey;

constexpr int64_t kNow = 1000;

TEST(ClaimScan, TakesDueWaitingJobsAndStepsOverRunningOnes) {
	ClaimScan scan = BeginClaimScan(kNow, 2, false);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 1), true), EntryAction::kSkip);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 2), false), EntryAction::kTry);
	NoteTaken(scan);
	EXPECT_FALSE(scan.done);
	EXPECT_EQ(NextEntry(scan, Key(0, 20, 3), false), EntryAction::kTry);
	NoteTaken(scan);
	EXPECT_TRUE(scan.done); // the batch is full
	EXPECT_EQ(NextEntry(scan, Key(0, 30, 4), false), EntryAction::kEndScan);
	int32_t above = 0;
	EXPECT_FALSE(NextDescent(scan, &above));
	EXPECT_EQ(scan.taken, 2);
}

TEST(ClaimScan, AJobNotTakenLeavesTheBatchOpen) {
	ClaimScan scan = BeginClaimScan(kNow, 1, false);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 1), false), EntryAction::kTry); // busy: not taken, no NoteTaken
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 2), false), EntryAction::kTry);
	NoteTaken(scan);
	EXPECT_TRUE(scan.done);
}

TEST(ClaimScan, AFutureEntryEndsItsPriorityAndDescendsAboveIt) {
	ClaimScan scan = BeginClaimScan(kNow, 10, false);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 1), false), EntryAction::kTry);
	NoteTaken(scan);
	EXPECT_EQ(NextEntry(scan, Key(0, kNow + 1, 2), false), EntryAction::kEndScan);
	int32_t above = 0;
	ASSERT_TRUE(NextDescent(scan, &above));
	EXPECT_EQ(above, 0);
	// The next scan starts above priority 0; its entries run out without a future one: the claim ends.
	EXPECT_EQ(NextEntry(scan, Key(3, 10, 7), false), EntryAction::kTry);
	NoteTaken(scan);
	EXPECT_FALSE(NextDescent(scan, &above));
	EXPECT_EQ(scan.taken, 2);
}

TEST(ClaimScan, AJobDueNowIsDue) {
	ClaimScan scan = BeginClaimScan(kNow, 1, false);
	EXPECT_EQ(NextEntry(scan, Key(0, kNow, 1), false), EntryAction::kTry);
}

TEST(ClaimScan, AScanMayRunOnIntoHigherPriorities) {
	// From the hint, one scan returns priority 0's due jobs, then priority 5's: no new descent is needed.
	ClaimScan scan = BeginClaimScan(kNow, 10, false);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 1), false), EntryAction::kTry);
	EXPECT_EQ(NextEntry(scan, Key(5, 10, 2), false), EntryAction::kTry);
	EXPECT_EQ(NextEntry(scan, Key(5, kNow + 5, 3), false), EntryAction::kEndScan);
	int32_t above = 0;
	ASSERT_TRUE(NextDescent(scan, &above));
	EXPECT_EQ(above, 5);
}

TEST(ClaimScan, TheFirstEntryIsReportedWhateverItIs) {
	ClaimScan running_first = BeginClaimScan(kNow, 1, false);
	NextEntry(running_first, Key(-1, 5, 9), true);
	NextEntry(running_first, Key(-1, 6, 10), false);
	ASSERT_TRUE(running_first.seen_first);
	EXPECT_TRUE(SameKey(running_first.first_visible, Key(-1, 5, 9)));

	ClaimScan future_first = BeginClaimScan(kNow, 1, false);
	EXPECT_EQ(NextEntry(future_first, Key(2, kNow + 60, 4), false), EntryAction::kEndScan);
	EXPECT_TRUE(SameKey(future_first.first_visible, Key(2, kNow + 60, 4)));
	// Later scans do not move it.
	int32_t above = 0;
	ASSERT_TRUE(NextDescent(future_first, &above));
	NextEntry(future_first, Key(3, 1, 1), false);
	EXPECT_TRUE(SameKey(future_first.first_visible, Key(2, kNow + 60, 4)));
}

TEST(ClaimScan, APausedQueueIsReadOnlyForTheHintsEntry) {
	ClaimScan scan = BeginClaimScan(kNow, 5, true);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 1), false), EntryAction::kEndScan);
	EXPECT_TRUE(scan.seen_first);
	EXPECT_TRUE(SameKey(scan.first_visible, Key(0, 10, 1)));
	int32_t above = 0;
	EXPECT_FALSE(NextDescent(scan, &above));
	EXPECT_EQ(scan.taken, 0);
}

TEST(ClaimScan, AnEmptyQueueEndsAtOnce) {
	ClaimScan scan = BeginClaimScan(kNow, 5, false);
	int32_t above = 0;
	EXPECT_FALSE(NextDescent(scan, &above));
	EXPECT_FALSE(scan.seen_first);
}

TEST(ClaimScan, TheHighestPriorityDescendsToNothing) {
	ClaimScan scan = BeginClaimScan(kNow, 5, false);
	EXPECT_EQ(NextEntry(scan, Key(INT32_MAX, kNow + 1, 1), false), EntryAction::kEndScan);
	int32_t above = 0;
	ASSERT_TRUE(NextDescent(scan, &above)); // the pg layer's scan above INT32_MAX returns no entry
	EXPECT_EQ(above, INT32_MAX);
	EXPECT_FALSE(NextDescent(scan, &above));
}

TEST(ClaimScan, NotesTheFirstWaitingEntryPastRunningOnes) {
	ClaimScan scan = BeginClaimScan(kNow, 5, false);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 1), true), EntryAction::kSkip);
	EXPECT_FALSE(scan.seen_waiting);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 2), false), EntryAction::kTry);
	ASSERT_TRUE(scan.seen_waiting);
	EXPECT_TRUE(SameKey(scan.first_visible, Key(0, 10, 1)));
	EXPECT_TRUE(SameKey(scan.first_waiting, Key(0, 10, 2)));
	// A job scheduled for later is waiting too.
	ClaimScan later = BeginClaimScan(kNow, 5, false);
	EXPECT_EQ(NextEntry(later, Key(0, kNow + 60, 3), false), EntryAction::kEndScan);
	EXPECT_TRUE(later.seen_waiting);
}

TEST(ClaimScan, APausedQueueNotesNoWaitingEntryPastARunningOne) {
	ClaimScan scan = BeginClaimScan(kNow, 5, true);
	EXPECT_EQ(NextEntry(scan, Key(0, 10, 1), true), EntryAction::kEndScan);
	EXPECT_TRUE(scan.seen_first);
	EXPECT_FALSE(scan.seen_waiting);
}

} // namespace
} // namespace dlq::core
