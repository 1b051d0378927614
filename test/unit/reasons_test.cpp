#include "core/reasons.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "expect_error.hpp"

namespace dlq::core {
namespace {

TEST(BuiltinReasons, StableOrderAndContent) {
	const std::vector<ReasonInfo> &reasons = BuiltinReasons();
	ASSERT_EQ(reasons.size(), 5u);
	EXPECT_EQ(reasons[0].code, "RETRIES_EXHAUSTED");
	EXPECT_EQ(reasons[1].code, "PERMANENT_FAILURE");
	EXPECT_EQ(reasons[2].code, "STUCK_IN_PROGRESS");
	EXPECT_EQ(reasons[3].code, "UNRECOVERED_ERROR");
	EXPECT_EQ(reasons[4].code, "MANUAL");

	EXPECT_EQ(reasons[0].label, "Retries exhausted");
	EXPECT_EQ(reasons[1].label, "Permanent failure");
	EXPECT_EQ(reasons[2].label, "Stuck in progress");
	EXPECT_EQ(reasons[3].label, "Unrecovered error");
	EXPECT_EQ(reasons[4].label, "Moved by an operator");

	EXPECT_EQ(reasons[0].description, "The job failed on every allowed attempt.");
	EXPECT_EQ(reasons[1].description, "The worker reported an error that retrying cannot fix.");
	EXPECT_EQ(reasons[2].description,
	          "The job's lease expired on its last allowed attempt: the worker crashed, hung or lost its connection.");
	EXPECT_EQ(reasons[3].description, "The job kept failing past its queue's recovery window.");
	EXPECT_EQ(reasons[4].description, "An operator dead-lettered the job by hand.");

	for (const ReasonInfo &reason : reasons) {
		EXPECT_EQ(reason.severity, "terminal") << reason.code;
	}
}

TEST(BuiltinReasons, ReturnsTheSameInstance) {
	EXPECT_EQ(&BuiltinReasons(), &BuiltinReasons());
	EXPECT_EQ(&Severities(), &Severities());
}

TEST(BuiltinReasons, PassTheirOwnValidation) {
	std::set<std::string> codes;
	for (const ReasonInfo &reason : BuiltinReasons()) {
		EXPECT_NO_THROW(ValidateReasonCode(reason.code)) << reason.code;
		EXPECT_NO_THROW(ValidateSeverity(reason.severity)) << reason.code;
		EXPECT_TRUE(codes.insert(reason.code).second) << "duplicate " << reason.code;
		EXPECT_FALSE(reason.label.empty());
		EXPECT_EQ(reason.description.back(), '.') << reason.code;
	}
}

TEST(Severities, LeastToMostSevere) {
	EXPECT_EQ(Severities(), (std::vector<std::string>{"info", "warning", "error", "terminal"}));
}

TEST(ValidateReasonCode, AcceptsValidCodes) {
	EXPECT_NO_THROW(ValidateReasonCode("A"));
	EXPECT_NO_THROW(ValidateReasonCode("PAYMENT_DECLINED"));
	EXPECT_NO_THROW(ValidateReasonCode("HTTP_410"));
	EXPECT_NO_THROW(ValidateReasonCode("X__"));
	EXPECT_NO_THROW(ValidateReasonCode(std::string(63, 'Z')));
}

TEST(ValidateReasonCode, RejectsInvalidCodesWith22023) {
	EXPECT_CORE_ERROR(ValidateReasonCode(""), "22023", "reason code must not be empty");
	EXPECT_CORE_ERROR(ValidateReasonCode(std::string(64, 'Z')), "22023", "reason code is too long");
	EXPECT_CORE_ERROR(ValidateReasonCode("1ABC"), "22023", "reason code must start with an upper-case letter");
	EXPECT_CORE_ERROR(ValidateReasonCode("_ABC"), "22023", "reason code must start with an upper-case letter");
	EXPECT_CORE_ERROR(ValidateReasonCode("payment"), "22023", "reason code must start with an upper-case letter");
	EXPECT_CORE_ERROR(ValidateReasonCode("PAYMENT-DECLINED"), "22023", "reason code contains an invalid character");
	EXPECT_CORE_ERROR(ValidateReasonCode("Payment"), "22023", "reason code contains an invalid character");
	EXPECT_CORE_ERROR(ValidateReasonCode("A B"), "22023", "reason code contains an invalid character");
	EXPECT_CORE_ERROR(ValidateReasonCode("ÉCHEC"), "22023", "reason code must start with an upper-case letter");
	EXPECT_CORE_ERROR(ValidateReasonCode(std::string("A\0B", 3)), "22023", "reason code contains an invalid character");
}

TEST(ValidateReasonCode, DetailStatesTheRule) {
	const auto error = test_support::CatchError([] { ValidateReasonCode("bad"); });
	ASSERT_TRUE(error.has_value());
	EXPECT_EQ(error->detail, "A reason code is 1 to 63 characters of A-Z, 0-9 and _, starting with a letter.");
}

TEST(ValidateSeverity, AcceptsExactlyTheListedValues) {
	for (const std::string &severity : Severities()) {
		EXPECT_NO_THROW(ValidateSeverity(severity));
	}
	EXPECT_CORE_ERROR(ValidateSeverity("fatal"), "22023", "severity must be one of info, warning, error, terminal");
	EXPECT_CORE_ERROR(ValidateSeverity("ERROR"), "22023", "severity must be one of info, warning, error, terminal");
	EXPECT_CORE_ERROR(ValidateSeverity(""), "22023", "severity must be one of info, warning, error, terminal");
	EXPECT_CORE_ERROR(ValidateSeverity("error "), "22023", "severity must be one of info, warning, error, terminal");
}

TEST(ValidateSeverity, DetailEchoesOnlyShortValues) {
	const auto short_error = test_support::CatchError([] { ValidateSeverity("fatal"); });
	ASSERT_TRUE(short_error.has_value());
	EXPECT_EQ(short_error->detail, "The value was \"fatal\".");
	const auto long_error = test_support::CatchError([] { ValidateSeverity(std::string(1000, 'x')); });
	ASSERT_TRUE(long_error.has_value());
	EXPECT_TRUE(long_error->detail.empty());
}

} // namespace
} // namespace dlq::core
