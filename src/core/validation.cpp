#include "core/validation.hpp"

#include <string>

#include "core/error.hpp"

namespace dlq::core {

namespace {

std::string Field(std::string_view field) {
	return std::string(field);
}

[[noreturn]] void ThrowOutOfRange(std::string_view field, int64_t low, int64_t high, int64_t value) {
	throw Error(sqlstate::kInvalidParameterValue,
	            Field(field) + " must be between " + std::to_string(low) + " and " + std::to_string(high),
	            "The value was " + std::to_string(value) + ".");
}

} // namespace

bool IsBlank(std::string_view value) {
	// ASCII whitespace only: the check is byte-wise and locale-independent, like the rest of the core.
	for (const char c : value) {
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f') {
			return false;
		}
	}
	return true;
}

void ValidateName(std::string_view field, std::string_view value) {
	if (IsBlank(value)) {
		throw Error(sqlstate::kInvalidParameterValue, Field(field) + " must not be empty or blank");
	}
	if (value.size() > kMaxNameBytes) {
		throw Error(sqlstate::kInvalidParameterValue, Field(field) + " is too long",
		            "It is " + std::to_string(value.size()) + " bytes; the limit is " + std::to_string(kMaxNameBytes) +
		                " bytes.");
	}
}

void ValidateBatch(std::string_view field, int64_t batch) {
	if (batch < 1 || batch > kMaxBatch) {
		ThrowOutOfRange(field, 1, kMaxBatch, batch);
	}
}

void ValidateMaxAttempts(std::string_view field, int64_t value) {
	if (value < 1 || value > kMaxAttemptsLimit) {
		ThrowOutOfRange(field, 1, kMaxAttemptsLimit, value);
	}
}

void ValidatePositiveDuration(std::string_view field, int64_t microseconds) {
	if (microseconds <= 0) {
		throw Error(sqlstate::kInvalidParameterValue, Field(field) + " must be greater than zero",
		            "The value was " + std::to_string(microseconds) + " microseconds.");
	}
	if (microseconds > kMaxSettingMicros) {
		throw Error(sqlstate::kInvalidParameterValue, Field(field) + " must be at most 100 years");
	}
}

void ValidateNonNegativeDuration(std::string_view field, int64_t microseconds) {
	if (microseconds < 0) {
		throw Error(sqlstate::kInvalidParameterValue, Field(field) + " must not be negative",
		            "The value was " + std::to_string(microseconds) + " microseconds.");
	}
}

void ValidateJustification(std::string_view value) {
	if (IsBlank(value)) {
		throw Error(sqlstate::kInvalidParameterValue, "justification must not be empty or blank", {},
		            "Say briefly why the action is needed.");
	}
}

} // namespace dlq::core
