#include "core/validation.hpp"

#include <cstdio>
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

std::string FormatDuration(int64_t microseconds) {
	constexpr uint64_t kSecond = 1000000;
	constexpr uint64_t kDay = 86400 * kSecond;
	const bool negative = microseconds < 0;
	// In unsigned arithmetic, so that the most negative value has a magnitude too.
	uint64_t rest = negative ? uint64_t{0} - static_cast<uint64_t>(microseconds) : static_cast<uint64_t>(microseconds);
	const uint64_t days = rest / kDay;
	rest %= kDay;
	std::string out = negative ? "-" : "";
	if (days > 0) {
		out += std::to_string(days) + (days == 1 ? " day " : " days ");
	}
	char clock[32];
	std::snprintf(clock, sizeof(clock), "%02llu:%02llu:%02llu", static_cast<unsigned long long>(rest / (3600 * kSecond)),
	              static_cast<unsigned long long>(rest / (60 * kSecond) % 60),
	              static_cast<unsigned long long>(rest / kSecond % 60));
	out += clock;
	if (const uint64_t fraction = rest % kSecond; fraction > 0) {
		char digits[16];
		std::snprintf(digits, sizeof(digits), ".%06llu", static_cast<unsigned long long>(fraction));
		std::string trimmed(digits);
		while (trimmed.back() == '0') {
			trimmed.pop_back();
		}
		out += trimmed;
	}
	return out;
}

void ValidatePositiveDuration(std::string_view field, int64_t microseconds) {
	if (microseconds <= 0) {
		throw Error(sqlstate::kInvalidParameterValue, Field(field) + " must be greater than zero",
		            "The value was " + FormatDuration(microseconds) + ".");
	}
	if (microseconds > kMaxSettingMicros) {
		throw Error(sqlstate::kInvalidParameterValue, Field(field) + " must be at most 100 years");
	}
}

void ValidateNonNegativeDuration(std::string_view field, int64_t microseconds) {
	if (microseconds < 0) {
		throw Error(sqlstate::kInvalidParameterValue, Field(field) + " must not be negative",
		            "The value was " + FormatDuration(microseconds) + ".");
	}
}

void ValidateJustification(std::string_view value) {
	if (IsBlank(value)) {
		throw Error(sqlstate::kInvalidParameterValue, "justification must not be empty or blank", {},
		            "Say briefly why the action is needed.");
	}
}

} // namespace dlq::core
