#include "core/reasons.hpp"

#include <string>

#include "core/error.hpp"

namespace dlq::core {

namespace {

constexpr std::size_t kMaxReasonCodeBytes = 63;

bool IsUpperAscii(char c) {
	return c >= 'A' && c <= 'Z';
}

bool IsReasonCodeChar(char c) {
	return IsUpperAscii(c) || (c >= '0' && c <= '9') || c == '_';
}

std::string JoinSeverities() {
	std::string joined;
	for (const std::string &severity : Severities()) {
		joined += joined.empty() ? "" : ", ";
		joined += severity;
	}
	return joined;
}

} // namespace

const std::vector<ReasonInfo> &BuiltinReasons() {
	// Function-local static: built on first use, thread-safe, and free of static-initialisation order issues.
	static const std::vector<ReasonInfo> reasons = {
	    {"RETRIES_EXHAUSTED", "Retries exhausted", "terminal", "The job failed on every allowed attempt."},
	    {"PERMANENT_FAILURE", "Permanent failure", "terminal",
	     "The worker reported an error that retrying cannot fix."},
	    {"STUCK_IN_PROGRESS", "Stuck in progress", "terminal",
	     "The job's lease expired on its last allowed attempt: the worker crashed, hung or lost its connection."},
	    {"UNRECOVERED_ERROR", "Unrecovered error", "terminal",
	     "The job kept failing past its queue's recovery window."},
	    {"MANUAL", "Moved by an operator", "terminal", "An operator dead-lettered the job by hand."},
	};
	return reasons;
}

const std::vector<std::string> &Severities() {
	static const std::vector<std::string> severities = {"info", "warning", "error", "terminal"};
	return severities;
}

void ValidateReasonCode(std::string_view code) {
	static const char *const kRule = "A reason code is 1 to 63 characters of A-Z, 0-9 and _, starting with a letter.";
	if (code.empty()) {
		throw Error(sqlstate::kInvalidParameterValue, "reason code must not be empty", kRule);
	}
	if (code.size() > kMaxReasonCodeBytes) {
		throw Error(sqlstate::kInvalidParameterValue, "reason code is too long",
		            "It is " + std::to_string(code.size()) + " bytes; the limit is " +
		                std::to_string(kMaxReasonCodeBytes) + ".");
	}
	if (!IsUpperAscii(code.front())) {
		throw Error(sqlstate::kInvalidParameterValue, "reason code must start with an upper-case letter", kRule);
	}
	for (const char c : code) {
		if (!IsReasonCodeChar(c)) {
			throw Error(sqlstate::kInvalidParameterValue, "reason code contains an invalid character", kRule,
			            "Use upper case, for example PAYMENT_DECLINED.");
		}
	}
}

void ValidateSeverity(std::string_view severity) {
	for (const std::string &allowed : Severities()) {
		if (severity == allowed) {
			return;
		}
	}
	// Echo the value only when it is short: it is user input and could be arbitrarily long.
	std::string detail;
	if (severity.size() <= kMaxReasonCodeBytes) {
		detail = "The value was \"" + std::string(severity) + "\".";
	}
	throw Error(sqlstate::kInvalidParameterValue, "severity must be one of " + JoinSeverities(), detail);
}

} // namespace dlq::core
