// Error fingerprints: an error message with its volatile parts normalised, so that failures of the
// same cause group together ("timeout after 30s on order 1234" and "... 5678" share one pattern).
#pragma once
#include <string>
#include <string_view>

namespace dlq::core {

// Longest fingerprint kept, in bytes (cut on a UTF-8 boundary).
inline constexpr std::size_t kMaxFingerprintBytes = 200;

// Normalises, in this order: e-mail addresses -> "<email>", UUIDs -> "<uuid>", ISO-8601 timestamps/dates ->
// "<ts>", quoted values ('...', "...") -> "<str>", hex ids (0x..., or runs of >= 7 hex digits mixing digits
// and letters a-f) -> "<hex>",
// numbers (integers, decimals, with sign) -> "<n>"; then collapses whitespace runs to one space and
// trims. An empty or blank message gives "". Deterministic and locale-independent.
std::string Fingerprint(std::string_view error_message);

} // namespace dlq::core

#include "core/no_postgres.hpp"
