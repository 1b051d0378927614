#include "core/horizon_watch.hpp"

#include <gtest/gtest.h>

namespace dlq::core {
namespace {

constexpr int64_t kMinute = 60 * 1000000LL;
const HorizonPolicy kPolicy = {10 * kMinute, 1000};

HorizonObservation
At(int64_t minutes, uint32_t horizon, int64_t dead_rows = 5000) {
	return {true, horizon, minutes * kMinute, dead_rows};
}

TEST(HorizonWatch, WarnsOnceTheSameHorizonIsHeldPastTheThreshold) {
	HorizonWatch watch;
	int64_t held = -1;
	EXPECT_FALSE(ObserveHorizon(watch, At(0, 700), kPolicy, &held));
	EXPECT_EQ(held, 0);
	EXPECT_FALSE(ObserveHorizon(watch, At(9, 700), kPolicy, &held));
	EXPECT_EQ(held, 9 * kMinute);
	EXPECT_TRUE(ObserveHorizon(watch, At(10, 700), kPolicy, &held));
	EXPECT_EQ(held, 10 * kMinute);
}

TEST(HorizonWatch, RepeatsOncePerThresholdWhileHeld) {
	HorizonWatch watch;
	int64_t held;
	ObserveHorizon(watch, At(0, 700), kPolicy, &held);
	EXPECT_TRUE(ObserveHorizon(watch, At(11, 700), kPolicy, &held));
	EXPECT_FALSE(ObserveHorizon(watch, At(12, 700), kPolicy, &held));
	EXPECT_FALSE(ObserveHorizon(watch, At(20, 700), kPolicy, &held));
	EXPECT_TRUE(ObserveHorizon(watch, At(21, 700), kPolicy, &held));
	EXPECT_EQ(held, 21 * kMinute);
}

TEST(HorizonWatch, AMovingHorizonNeverWarns) {
	HorizonWatch watch;
	int64_t held;
	for (int minute = 0; minute <= 60; minute++)
		EXPECT_FALSE(ObserveHorizon(watch, At(minute, 700 + minute), kPolicy, &held));
	EXPECT_EQ(held, 0);
}

TEST(HorizonWatch, ANewHorizonStartsOverAndResetsTheRateLimit) {
	HorizonWatch watch;
	int64_t held;
	ObserveHorizon(watch, At(0, 700), kPolicy, &held);
	EXPECT_TRUE(ObserveHorizon(watch, At(10, 700), kPolicy, &held));
	EXPECT_FALSE(ObserveHorizon(watch, At(11, 900), kPolicy, &held)); // the holder ended; another took over
	EXPECT_FALSE(ObserveHorizon(watch, At(20, 900), kPolicy, &held));
	EXPECT_TRUE(ObserveHorizon(watch, At(21, 900), kPolicy, &held));
	EXPECT_EQ(held, 10 * kMinute);
}

TEST(HorizonWatch, NoHolderForgetsTheHorizon) {
	HorizonWatch watch;
	int64_t held;
	ObserveHorizon(watch, At(0, 700), kPolicy, &held);
	EXPECT_FALSE(ObserveHorizon(watch, {false, 0, 5 * kMinute, 5000}, kPolicy, &held));
	EXPECT_FALSE(watch.seen);
	// The same transaction id seen again counts from its new sighting.
	EXPECT_FALSE(ObserveHorizon(watch, At(6, 700), kPolicy, &held));
	EXPECT_FALSE(ObserveHorizon(watch, At(15, 700), kPolicy, &held));
	EXPECT_TRUE(ObserveHorizon(watch, At(16, 700), kPolicy, &held));
}

TEST(HorizonWatch, FewDeadRowsAreNotWorthAWarning) {
	HorizonWatch watch;
	int64_t held;
	ObserveHorizon(watch, At(0, 700, 10), kPolicy, &held);
	EXPECT_FALSE(ObserveHorizon(watch, At(30, 700, 999), kPolicy, &held));
	EXPECT_FALSE(ObserveHorizon(watch, At(31, 700, -1), kPolicy, &held)); // statistics unknown
	EXPECT_EQ(held, 31 * kMinute);
	EXPECT_TRUE(ObserveHorizon(watch, At(32, 700, 1000), kPolicy, &held)); // the queue got busy
}

TEST(HorizonWatch, ZeroThresholdDisablesWarnings) {
	HorizonWatch watch;
	int64_t held;
	const HorizonPolicy off = {0, 1000};
	ObserveHorizon(watch, At(0, 700), off, &held);
	EXPECT_FALSE(ObserveHorizon(watch, At(600, 700), off, &held));
	EXPECT_EQ(held, 600 * kMinute);
}

TEST(HorizonWatch, AClockGoingBackwardsHoldsNothing) {
	HorizonWatch watch;
	int64_t held;
	ObserveHorizon(watch, At(30, 700), kPolicy, &held);
	EXPECT_FALSE(ObserveHorizon(watch, At(5, 700), kPolicy, &held));
	EXPECT_EQ(held, 0);
}

} // namespace
} // namespace dlq::core
