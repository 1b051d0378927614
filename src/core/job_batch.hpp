// Validation of the `jobs` argument of dlq.enqueue_many: a JSON array of job objects.
#pragma once
#include <cstddef>
#include <string_view>

namespace dlq::core {

struct JobBatchSummary {
	std::size_t count = 0;        // number of elements
	bool has_dedup_keys = false;  // some element has a non-null dedup_key
};

// Accepted fields per element: kind (required, non-blank string), payload (any JSON, null = {}),
// run_at (ISO-8601 timestamp string with a time zone, e.g. "2026-11-23T10:00:00Z" or
// "2026-11-23 10:00:00+01:00"), priority (integer in int32 range), max_attempts (integer 1..1000),
// tenant, actor, dedup_key (non-blank strings of at most kMaxNameBytes). null means "default" for every
// field but kind. Throws Error:
//  - 22032 when the text is not JSON;
//  - 22023 when it is not an array, is empty, has more than kMaxBatch elements, or an element is bad;
//    the message names the element and field, e.g. `jobs[3].kind must be a non-empty string`
//    (0-based index) and unknown fields are rejected with a hint listing the accepted ones.
JobBatchSummary ValidateJobBatch(std::string_view json_text);

// True for "YYYY-MM-DD[T ]HH:MM[:SS[.fraction]](Z|±HH[:MM])" with valid ranges for every part.
bool IsIso8601TimestampWithZone(std::string_view text);

} // namespace dlq::core

#include "core/no_postgres.hpp"
