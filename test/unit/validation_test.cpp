#include "core/validation.hpp"

#include <gtest/gtest.h>

#include <string>

#include "expect_error.hpp"

namespace dlq::core {
namespace {

using test_support::CatchError;

TEST(IsBlank, EmptyAndWhitespaceOnlyAreBlank) {
	EXPECT_TRUE(IsBlank(""));
	EXPECT_TRUE(IsBlank(" "));
	EXPECT_TRUE(IsBlank(" \t\r\n\v\f "));
	EXPECT_FALSE(IsBlank("a"));
	EXPECT_FALSE(IsBlank("  a  "));
	EXPECT_FALSE(IsBlank("\xC2\xA0")); // U+00A0 is not ASCII whitespace
}

TEST(ValidateName, AcceptsOrdinaryNamesUpToTheLimit) {
	EXPECT_NO_THROW(ValidateName("queue", "emails"));
	EXPECT_NO_THROW(ValidateName("queue", " padded "));
	EXPECT_NO_THROW(ValidateName("queue", std::string(kMaxNameBytes, 'q')));
}

TEST(ValidateName, RejectsBlankWith22023NamingTheField) {
	EXPECT_CORE_ERROR(ValidateName("queue", ""), "22023", "queue must not be empty or blank");
	EXPECT_CORE_ERROR(ValidateName("worker", " \t "), "22023", "worker must not be empty or blank");
}

TEST(ValidateName, RejectsTooLongWithSizeInDetail) {
	const auto error = CatchError([] { ValidateName("tenant", std::string(kMaxNameBytes + 1, 't')); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->sqlstate, "22023");
	EXPECT_STREQ(error->what(), "tenant is too long");
	EXPECT_EQ(error->detail, "It is 201 bytes; the limit is 200 bytes.");
}

TEST(ValidateBatch, Bounds) {
	EXPECT_NO_THROW(ValidateBatch("batch", 1));
	EXPECT_NO_THROW(ValidateBatch("batch", kMaxBatch));
	EXPECT_CORE_ERROR(ValidateBatch("batch", 0), "22023", "batch must be between 1 and 10000");
	EXPECT_CORE_ERROR(ValidateBatch("batch", -1), "22023", "batch must be between 1 and 10000");
	EXPECT_CORE_ERROR(ValidateBatch("limit", kMaxBatch + 1), "22023", "limit must be between 1 and 10000");
	EXPECT_CORE_ERROR(ValidateBatch("batch", INT64_MIN), "22023", "batch must be between 1 and 10000");
}

TEST(ValidateBatch, DetailGivesTheValue) {
	const auto error = CatchError([] { ValidateBatch("batch", 10001); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->detail, "The value was 10001.");
}

TEST(ValidateMaxAttempts, Bounds) {
	EXPECT_NO_THROW(ValidateMaxAttempts("max_attempts", 1));
	EXPECT_NO_THROW(ValidateMaxAttempts("max_attempts", kMaxAttemptsLimit));
	EXPECT_CORE_ERROR(ValidateMaxAttempts("max_attempts", 0), "22023", "max_attempts must be between 1 and 1000");
	EXPECT_CORE_ERROR(ValidateMaxAttempts("max_attempts", 1001), "22023", "max_attempts must be between 1 and 1000");
}

TEST(ValidateDurations, PositiveAndNonNegative) {
	EXPECT_NO_THROW(ValidatePositiveDuration("lease", 1));
	EXPECT_CORE_ERROR(ValidatePositiveDuration("lease", 0), "22023", "lease must be greater than zero");
	EXPECT_CORE_ERROR(ValidatePositiveDuration("lease", -5), "22023", "lease must be greater than zero");
	EXPECT_NO_THROW(ValidatePositiveDuration("lease", kMaxSettingMicros));
	EXPECT_CORE_ERROR(ValidatePositiveDuration("lease", kMaxSettingMicros + 1), "22023",
	                  "lease must be at most 100 years");
	EXPECT_CORE_ERROR(ValidatePositiveDuration("recovery_window", INT64_MAX), "22023",
	                  "recovery_window must be at most 100 years");
	EXPECT_NO_THROW(ValidateNonNegativeDuration("delay", 0));
	EXPECT_NO_THROW(ValidateNonNegativeDuration("delay", INT64_MAX));
	EXPECT_CORE_ERROR(ValidateNonNegativeDuration("delay", -1), "22023", "delay must not be negative");
}

TEST(ValidateJustification, BlankIsRejectedWithAHint) {
	EXPECT_NO_THROW(ValidateJustification("customer asked for a replay"));
	const auto error = CatchError([] { ValidateJustification("   "); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->sqlstate, "22023");
	EXPECT_STREQ(error->what(), "justification must not be empty or blank");
	EXPECT_FALSE(error->hint.empty());
}

} // namespace
} // namespace dlq::core

namespace dlq::core {
namespace {

TEST(FormatDuration, AsAnInterval) {
	EXPECT_EQ(FormatDuration(0), "00:00:00");
	EXPECT_EQ(FormatDuration(-300000000), "-00:05:00");
	EXPECT_EQ(FormatDuration(250000), "00:00:00.25");
	EXPECT_EQ(FormatDuration(int64_t{86400} * 1000000 + 7200000000), "1 day 02:00:00");
	EXPECT_EQ(FormatDuration(-int64_t{30} * 86400 * 1000000), "-30 days 00:00:00");
	EXPECT_EQ(FormatDuration(INT64_MAX), "106751991 days 04:00:54.775807");
	EXPECT_EQ(FormatDuration(INT64_MIN), "-106751991 days 04:00:54.775808");
}

} // namespace
} // namespace dlq::core
