// Shared assertion for the unit tests: run a callable, require a dlq::core::Error with the given SQLSTATE,
// and hand the error back so the test can check its message, detail and hint.
#pragma once
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/error.hpp"

namespace dlq::core::test_support {

template <typename Callable>
std::optional<Error> CatchError(Callable &&callable) {
	try {
		callable();
	} catch (const Error &e) {
		return e;
	}
	return std::nullopt;
}

// Usage: EXPECT_CORE_ERROR(ValidateBatch("batch", 0), "22023", "batch must be between 1 and 10000");
// The message must match exactly, so wording changes show up in the tests.
#define EXPECT_CORE_ERROR(statement, expected_sqlstate, expected_message)                                              \
	do {                                                                                                               \
		const auto caught_ = ::dlq::core::test_support::CatchError([&] { (void)(statement); });                        \
		ASSERT_TRUE(caught_.has_value()) << "no dlq::core::Error from " #statement;                                    \
		EXPECT_EQ(caught_->sqlstate, expected_sqlstate) << caught_->what();                                            \
		EXPECT_EQ(std::string(caught_->what()), expected_message);                                                     \
	} while (0)

} // namespace dlq::core::test_support
