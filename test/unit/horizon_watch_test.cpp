#include "core/horizon_watch.hpp"

#include <gtest/gtest.h>

namespace dlq::core {
namespace {

constexpr int64_t kMinute = 60 * 1000000LL;
const HorizonPolicy kPolicy = {10 * kMinute, 1000};

// A queue at work: 1,000 more dead rows every minute unless told otherwise.
HorizonObservation
At(int64_t minutes, uint32_t horizon, int64_t dead_rows = -2) {
	return {true, horizon, minutes * kMinute, dead_rows == -2 ? 1000 * minutes : dead_rows};
}

// Observes and returns whether a warning is due; the held time and added dead rows go to the fixture.
struct Watch {
	HorizonWatch watch;
	int64_t held = -1;
	int64_t added = -1;
	bool operator()(const HorizonObservation &seen, const HorizonPolicy &policy = kPolicy) {
		return ObserveHorizon(watch, seen, policy, &held, &added);
	}
};

TEST(HorizonWatch, WarnsOnceTheSameHorizonIsHeldPastTheThreshold) {
	Watch observe;
	EXPECT_FALSE(observe(At(0, 700)));
	EXPECT_EQ(observe.held, 0);
	EXPECT_FALSE(observe(At(9, 700)));
	EXPECT_EQ(observe.held, 9 * kMinute);
	EXPECT_TRUE(observe(At(10, 700)));
	EXPECT_EQ(observe.held, 10 * kMinute);
	EXPECT_EQ(observe.added, 10000);
}

TEST(HorizonWatch, RepeatsOncePerThresholdWhileHeld) {
	Watch observe;
	observe(At(0, 700));
	EXPECT_TRUE(observe(At(11, 700)));
	EXPECT_FALSE(observe(At(12, 700)));
	EXPECT_FALSE(observe(At(20, 700)));
	EXPECT_TRUE(observe(At(21, 700)));
	EXPECT_EQ(observe.held, 21 * kMinute);
}

TEST(HorizonWatch, AMovingHorizonNeverWarns) {
	Watch observe;
	for (int minute = 0; minute <= 60; minute++)
		EXPECT_FALSE(observe(At(minute, 700 + minute)));
	EXPECT_EQ(observe.held, 0);
}

TEST(HorizonWatch, ANewHorizonStartsOverAndResetsTheRateLimit) {
	Watch observe;
	observe(At(0, 700));
	EXPECT_TRUE(observe(At(10, 700)));
	EXPECT_FALSE(observe(At(11, 900))); // the holder ended; another took over
	EXPECT_FALSE(observe(At(20, 900)));
	EXPECT_TRUE(observe(At(21, 900)));
	EXPECT_EQ(observe.held, 10 * kMinute);
	EXPECT_EQ(observe.added, 10000); // counted from when 900 was first seen
}

TEST(HorizonWatch, NoHolderForgetsTheHorizon) {
	Watch observe;
	observe(At(0, 700));
	EXPECT_FALSE(observe({false, 0, 5 * kMinute, 5000}));
	EXPECT_FALSE(observe.watch.seen);
	// The same transaction id seen again counts from its new sighting.
	EXPECT_FALSE(observe(At(6, 700)));
	EXPECT_FALSE(observe(At(15, 700)));
	EXPECT_TRUE(observe(At(16, 700)));
}

TEST(HorizonWatch, OnlyDeadRowsAddedWhileHeldCount) {
	Watch observe;
	// 50,000 dead rows left from before (autovacuum has not come by), then an idle queue: a horizon
	// that does not move because nothing writes holds nothing back.
	observe(At(0, 700, 50000));
	EXPECT_FALSE(observe(At(30, 700, 50000)));
	EXPECT_EQ(observe.added, 0);
	EXPECT_FALSE(observe(At(31, 700, 50999)));
	EXPECT_TRUE(observe(At(32, 700, 51000))); // the queue got busy
	EXPECT_EQ(observe.added, 1000);
}

TEST(HorizonWatch, DeadRowsThatVacuumRemovedDoNotHideNewOnes) {
	Watch observe;
	observe(At(0, 700, 50000));
	EXPECT_FALSE(observe(At(5, 700, 200))); // vacuum removed the rows older than the horizon
	EXPECT_FALSE(observe(At(11, 700, 1100)));
	EXPECT_TRUE(observe(At(12, 700, 1200)));
	EXPECT_EQ(observe.added, 1000);
}

TEST(HorizonWatch, UnknownDeadRowsNeverWarn) {
	Watch observe;
	observe(At(0, 700, -1));
	EXPECT_FALSE(observe(At(20, 700, -1)));
	EXPECT_EQ(observe.held, 20 * kMinute);
	EXPECT_FALSE(observe(At(21, 700, 7000))); // the first count known starts the tally
	EXPECT_TRUE(observe(At(22, 700, 8000)));
}

TEST(HorizonWatch, ZeroThresholdDisablesWarnings) {
	Watch observe;
	const HorizonPolicy off = {0, 1000};
	observe(At(0, 700), off);
	EXPECT_FALSE(observe(At(600, 700), off));
	EXPECT_EQ(observe.held, 600 * kMinute);
}

TEST(HorizonWatch, AClockGoingBackwardsHoldsNothing) {
	Watch observe;
	observe(At(30, 700));
	EXPECT_FALSE(observe(At(5, 700, 90000)));
	EXPECT_EQ(observe.held, 0);
}

// Compaction: 1,000 dead rows a minute, compaction due at 5,000 added, 3 minutes' pause after a miss.
const CompactionPolicy kCompact = {5000, 3 * kMinute};

bool
Due(Watch &observe, const HorizonObservation &seen, const CompactionPolicy &policy = kCompact) {
	observe(seen);
	return CompactionDue(observe.watch, seen.now_us, observe.held, observe.added, policy);
}

TEST(HorizonWatch, CompactsOnceEnoughDeadRowsAreAddedWhileHeld) {
	Watch observe;
	EXPECT_FALSE(Due(observe, At(0, 700, 900000))); // dead rows from before: not counted
	EXPECT_FALSE(Due(observe, At(4, 700, 904000)));
	EXPECT_TRUE(Due(observe, At(5, 700, 905000)));
}

TEST(HorizonWatch, ACompactionRestartsTheCount) {
	Watch observe;
	Due(observe, At(0, 700, 0));
	ASSERT_TRUE(Due(observe, At(5, 700, 5000)));
	NoteCompaction(observe.watch, CompactionResult::kCompacted, 5 * kMinute, kCompact);
	EXPECT_EQ(observe.watch.compactions, 1);
	// Whatever is seen next was added since the truncation, even work done before the first look.
	EXPECT_FALSE(Due(observe, At(6, 700, 4000)));
	EXPECT_EQ(observe.added, 4000);
	EXPECT_TRUE(Due(observe, At(7, 700, 5000)));
	NoteCompaction(observe.watch, CompactionResult::kCompacted, 7 * kMinute, kCompact);
	EXPECT_EQ(observe.watch.compactions, 2);
	EXPECT_FALSE(Due(observe, At(8, 700, 1000)));
}

TEST(HorizonWatch, ACompactionRefusedAtAGlanceIsTriedNextPass) {
	Watch observe;
	Due(observe, At(0, 700, 0));
	ASSERT_TRUE(Due(observe, At(5, 700, 5000)));
	NoteCompaction(observe.watch, CompactionResult::kRefused, 5 * kMinute, kCompact);
	EXPECT_EQ(observe.watch.compactions, 0);
	EXPECT_TRUE(Due(observe, At(6, 700, 6000)));
}

TEST(HorizonWatch, ACompactionThatGaveUpPausesTheTries) {
	Watch observe;
	Due(observe, At(0, 700, 0));
	ASSERT_TRUE(Due(observe, At(5, 700, 5000)));
	NoteCompaction(observe.watch, CompactionResult::kGaveUp, 5 * kMinute, kCompact);
	EXPECT_EQ(observe.watch.compactions, 0);
	EXPECT_FALSE(Due(observe, At(6, 700, 6000)));
	EXPECT_FALSE(Due(observe, At(7, 700, 7000)));
	EXPECT_TRUE(Due(observe, At(8, 700, 8000)));
}

TEST(HorizonWatch, NoCompactionWithoutAHeldHorizonOrWhenOff) {
	Watch observe;
	EXPECT_FALSE(Due(observe, At(0, 700, 0)));
	EXPECT_FALSE(Due(observe, At(5, 701, 50000))); // a new horizon: vacuum may still reach those rows
	EXPECT_FALSE(Due(observe, {false, 0, 6 * kMinute, 90000}));
	Watch off;
	Due(off, At(0, 700, 0), {0, kMinute});
	EXPECT_FALSE(Due(off, At(60, 700, 10000000), {0, kMinute}));
	Watch unknown;
	Due(unknown, At(0, 700, -1));
	EXPECT_FALSE(Due(unknown, At(60, 700, -1)));
}

TEST(HorizonWatch, ANewHorizonForgetsCompactions) {
	Watch observe;
	Due(observe, At(0, 700, 0));
	ASSERT_TRUE(Due(observe, At(5, 700, 5000)));
	NoteCompaction(observe.watch, CompactionResult::kGaveUp, 5 * kMinute, kCompact);
	observe(At(6, 800, 6000));
	EXPECT_EQ(observe.watch.compact_not_before_us, 0);
	EXPECT_TRUE(Due(observe, At(11, 800, 11000)));
}

} // namespace
} // namespace dlq::core
