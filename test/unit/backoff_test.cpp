#include "core/backoff.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "expect_error.hpp"

namespace dlq::core {
namespace {

constexpr double kAlmostOne = 0.9999999999999999; // largest double below 1

BackoffPolicy NoJitter(int64_t base_us, int64_t max_us) {
	return BackoffPolicy{base_us, max_us, 0.0};
}

TEST(ValidateBackoffPolicy, AcceptsValidPolicies) {
	EXPECT_NO_THROW(ValidateBackoffPolicy({1, 1, 0.0}));
	EXPECT_NO_THROW(ValidateBackoffPolicy({1000, 60000000}));
	EXPECT_NO_THROW(ValidateBackoffPolicy({1000, 60000000, 0.999}));
}

TEST(ValidateBackoffPolicy, RejectsBadPoliciesWith22023) {
	EXPECT_CORE_ERROR(ValidateBackoffPolicy({0, 10}), "22023", "backoff_base must be greater than zero");
	EXPECT_CORE_ERROR(ValidateBackoffPolicy({-1, 10}), "22023", "backoff_base must be greater than zero");
	EXPECT_CORE_ERROR(ValidateBackoffPolicy({10, 9}), "22023", "backoff_max must not be less than backoff_base");
	EXPECT_CORE_ERROR(ValidateBackoffPolicy({10, 20, -0.1}), "22023",
	                  "backoff jitter must be at least 0 and less than 1");
	EXPECT_CORE_ERROR(ValidateBackoffPolicy({10, 20, 1.0}), "22023",
	                  "backoff jitter must be at least 0 and less than 1");
	EXPECT_CORE_ERROR(ValidateBackoffPolicy({10, 20, std::nan("")}), "22023",
	                  "backoff jitter must be at least 0 and less than 1");
}

TEST(ValidateBackoffPolicy, DetailNamesTheValues) {
	const auto error = test_support::CatchError([] { ValidateBackoffPolicy({10, 9}); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->detail, "The base is 00:00:00.00001 and the max is 00:00:00.000009.");
}

TEST(BackoffDelayUs, DoublesFromTheBase) {
	const BackoffPolicy policy = NoJitter(1000, 1000000000);
	EXPECT_EQ(BackoffDelayUs(policy, 1, 0.5), 1000);
	EXPECT_EQ(BackoffDelayUs(policy, 2, 0.5), 2000);
	EXPECT_EQ(BackoffDelayUs(policy, 3, 0.5), 4000);
	EXPECT_EQ(BackoffDelayUs(policy, 11, 0.5), 1024000);
}

TEST(BackoffDelayUs, AttemptsBelowOneCountAsOne) {
	const BackoffPolicy policy = NoJitter(1000, 1000000);
	EXPECT_EQ(BackoffDelayUs(policy, 0, 0.0), 1000);
	EXPECT_EQ(BackoffDelayUs(policy, -7, 0.0), 1000);
	EXPECT_EQ(BackoffDelayUs(policy, std::numeric_limits<int>::min(), 0.0), 1000);
}

TEST(BackoffDelayUs, IsCappedAtMax) {
	const BackoffPolicy policy = NoJitter(1000, 5000);
	EXPECT_EQ(BackoffDelayUs(policy, 3, 0.0), 4000);
	EXPECT_EQ(BackoffDelayUs(policy, 4, 0.0), 5000);
	EXPECT_EQ(BackoffDelayUs(policy, 50, 0.0), 5000);
}

TEST(BackoffDelayUs, HugeAttemptsDoNotOverflow) {
	const BackoffPolicy policy = NoJitter(1000, INT64_MAX);
	EXPECT_EQ(BackoffDelayUs(policy, 54, 0.0), int64_t{1000} << 53); // 9.007e18, still below INT64_MAX
	EXPECT_EQ(BackoffDelayUs(policy, 55, 0.0), INT64_MAX);           // 1000 * 2^54 would overflow
	EXPECT_EQ(BackoffDelayUs(policy, 64, 0.0), INT64_MAX);
	EXPECT_EQ(BackoffDelayUs(policy, 65, 0.0), INT64_MAX);
	EXPECT_EQ(BackoffDelayUs(policy, 1000000, 0.0), INT64_MAX);
	EXPECT_EQ(BackoffDelayUs(policy, std::numeric_limits<int>::max(), kAlmostOne), INT64_MAX);

	const BackoffPolicy unit = NoJitter(1, INT64_MAX);
	EXPECT_EQ(BackoffDelayUs(unit, 63, 0.0), int64_t{1} << 62);
	EXPECT_EQ(BackoffDelayUs(unit, 64, 0.0), INT64_MAX);
}

TEST(BackoffDelayUs, MaxEqualToBase) {
	const BackoffPolicy policy = {7, 7, 0.5};
	EXPECT_EQ(BackoffDelayUs(policy, 1, 0.0), 4); // 7 * 0.5 = 3.5, rounded to nearest
	EXPECT_EQ(BackoffDelayUs(policy, 1, kAlmostOne), 7);
	EXPECT_EQ(BackoffDelayUs(policy, 30, kAlmostOne), 7);
}

TEST(BackoffDelayUs, JitterSpansTheDocumentedRange) {
	const BackoffPolicy policy = {10000, 1000000000, 0.2};
	// attempt 3: raw = 40000, spread over [32000, 48000].
	EXPECT_EQ(BackoffDelayUs(policy, 3, 0.0), 32000);
	EXPECT_EQ(BackoffDelayUs(policy, 3, 0.5), 40000);
	EXPECT_EQ(BackoffDelayUs(policy, 3, 0.25), 36000);
	EXPECT_EQ(BackoffDelayUs(policy, 3, kAlmostOne), 48000);
	for (int step = 0; step < 1000; ++step) {
		const int64_t delay = BackoffDelayUs(policy, 3, step / 1000.0);
		EXPECT_GE(delay, 32000);
		EXPECT_LE(delay, 48000);
	}
}

TEST(BackoffDelayUs, JitterIsMonotonicInUnitRandom) {
	const BackoffPolicy policy = {3333, 1000000000, 0.5};
	int64_t previous = 0;
	for (int step = 0; step < 1000; ++step) {
		const int64_t delay = BackoffDelayUs(policy, 5, step / 1000.0);
		EXPECT_GE(delay, previous);
		previous = delay;
	}
}

TEST(BackoffDelayUs, JitterNeverExceedsTheCap) {
	const BackoffPolicy policy = {1000, 5000, 0.5};
	EXPECT_EQ(BackoffDelayUs(policy, 10, 0.0), 2500);
	EXPECT_EQ(BackoffDelayUs(policy, 10, 0.5), 5000);
	EXPECT_EQ(BackoffDelayUs(policy, 10, kAlmostOne), 5000);
	const BackoffPolicy huge = {1, INT64_MAX, 0.9};
	EXPECT_EQ(BackoffDelayUs(huge, 100, kAlmostOne), INT64_MAX);
	EXPECT_GT(BackoffDelayUs(huge, 100, 0.0), 0);
}

TEST(BackoffDelayUs, ResultIsAtLeastOneMicrosecond) {
	const BackoffPolicy policy = {1, 10, 0.99};
	EXPECT_EQ(BackoffDelayUs(policy, 1, 0.0), 1); // 0.01 is clamped up to 1
}

TEST(BackoffDelayUs, UnitRandomOutsideTheRangeIsClamped) {
	const BackoffPolicy policy = {10000, 1000000000, 0.2};
	EXPECT_EQ(BackoffDelayUs(policy, 1, -5.0), 8000);
	EXPECT_EQ(BackoffDelayUs(policy, 1, std::nan("")), 8000);
	EXPECT_EQ(BackoffDelayUs(policy, 1, 1.0), 12000);
	EXPECT_EQ(BackoffDelayUs(policy, 1, 42.0), 12000);
	EXPECT_EQ(BackoffDelayUs(policy, 1, std::numeric_limits<double>::infinity()), 12000);
}

TEST(BackoffDelayUs, InvalidPolicyIsMadeSaneInsteadOfThrowing) {
	EXPECT_EQ(BackoffDelayUs({0, 0, 0.0}, 1, 0.5), 1);
	EXPECT_EQ(BackoffDelayUs({-100, -5, 0.0}, 5, 0.5), 1);
	EXPECT_EQ(BackoffDelayUs({100, 10, 0.0}, 3, 0.5), 100); // max below base acts as max = base
	EXPECT_EQ(BackoffDelayUs({100, 1000, std::nan("")}, 2, 0.0), 200);
	EXPECT_EQ(BackoffDelayUs({100, 1000, -1.0}, 2, 0.0), 200);
}

} // namespace
} // namespace dlq::core
