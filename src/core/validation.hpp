// Validation of scalar SQL arguments, shared by every entry point so messages are uniform.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace dlq::core {

inline constexpr std::size_t kMaxNameBytes = 200;   // queue, kind, worker, tenant, actor, dedup_key
inline constexpr int kMaxBatch = 10000;             // jobs per claim / enqueue_many
inline constexpr int kMaxAttemptsLimit = 1000;

// Each throws Error with a lower-case message naming `field`:
//  - ValidateName: 22023 if blank (only whitespace) or longer than kMaxNameBytes. (NULL is 22004 and is
//    checked by the caller, which knows whether the value is NULL.)
void ValidateName(std::string_view field, std::string_view value);
//  - ValidateBatch: 22023 unless 1 <= batch <= kMaxBatch.
void ValidateBatch(std::string_view field, int64_t batch);
//  - ValidateMaxAttempts: 22023 unless 1 <= value <= kMaxAttemptsLimit.
void ValidateMaxAttempts(std::string_view field, int64_t value);
// Longest lease, recovery window or retention: 100 years (as PostgreSQL counts '100 years': months of 30
// days). Far longer ones would put now() +/- the setting outside the timestamp range, and every claim or
// sweep that computes it would fail.
inline constexpr int64_t kMaxSettingMicros = int64_t{100} * 12 * 30 * 24 * 60 * 60 * 1000000;

// A duration for a message, as PostgreSQL prints an interval: [-][N days ]HH:MM:SS[.fraction]
// (-00:05:00, 1 day 02:00:00, 00:00:00.25). Callers count a month as 30 days, so this shows days.
std::string FormatDuration(int64_t microseconds);

//  - ValidatePositiveDuration: 22023 unless 0 < microseconds <= kMaxSettingMicros.
void ValidatePositiveDuration(std::string_view field, int64_t microseconds);
//  - ValidateNonNegativeDuration: 22023 unless microseconds >= 0.
void ValidateNonNegativeDuration(std::string_view field, int64_t microseconds);
//  - ValidateJustification: 22023 if blank.
void ValidateJustification(std::string_view value);

bool IsBlank(std::string_view value);

} // namespace dlq::core

#include "core/no_postgres.hpp"
