// Dead-letter reason codes: the built-in registry and the rules for codes users register.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace dlq::core {

struct ReasonInfo {
	std::string code;
	std::string label;
	std::string severity;
	std::string description;
};

// The built-in reasons, in a stable order: RETRIES_EXHAUSTED, PERMANENT_FAILURE, STUCK_IN_PROGRESS,
// UNRECOVERED_ERROR, MANUAL.
const std::vector<ReasonInfo> &BuiltinReasons();

// Allowed severities, least to most severe: "info", "warning", "error", "terminal".
const std::vector<std::string> &Severities();

// A code is 1-63 characters of A-Z, 0-9 and _, starting with a letter. Throws Error 22023 otherwise
// (22004 for an empty code is not used: NULL handling is the caller's).
void ValidateReasonCode(std::string_view code);
// Throws Error 22023 naming the allowed values when the severity is unknown.
void ValidateSeverity(std::string_view severity);

} // namespace dlq::core

#include "core/no_postgres.hpp"
