// One entry of a job's attempt history, as JSON text ({attempt, at, worker, error, details}).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace dlq::core {

// Error messages longer than this are cut (on a UTF-8 boundary) and end with "...[truncated]".
inline constexpr std::size_t kMaxErrorBytes = 8192;

struct AttemptRecord {
	int attempt;
	std::string at;                     // timestamp text, already formatted by the caller
	std::string worker;
	std::string error;
	std::optional<std::string> details; // JSON text of the caller's details, or none (JSON null)
};

// Serialises one record as a compact JSON object with keys in the order above. Throws Error 22032
// when details is not valid JSON text.
std::string AttemptRecordJson(const AttemptRecord &record);

// Cuts a message to at most max_bytes on a UTF-8 boundary, marking the cut (the mark itself counts
// toward max_bytes, and is left out when max_bytes is too small to hold it).
std::string TruncateMessage(std::string_view message, std::size_t max_bytes = kMaxErrorBytes);

} // namespace dlq::core

#include "core/no_postgres.hpp"
