// Retry delay policy: exponential growth from a base, capped, with bounded jitter so that a burst of
// failures does not come back as a burst of retries.
#pragma once
#include <cstdint>

namespace dlq::core {

struct BackoffPolicy {
	int64_t base_us;      // delay after the first failed attempt, > 0
	int64_t max_us;       // cap, >= base_us
	double jitter = 0.2;  // fraction in [0, 1): the delay is spread over raw * [1 - jitter, 1 + jitter]
};

// Throws Error (22023) when the policy is invalid: base <= 0, max < base, jitter outside [0, 1).
void ValidateBackoffPolicy(const BackoffPolicy &policy);

// Delay before the retry that follows failed attempt number `attempt` (1-based; values < 1 count as 1).
// raw = min(max, base * 2^(attempt - 1)), computed without overflow; the result is
// raw * (1 - jitter + 2 * jitter * unit_random), clamped to [1 µs, max]. unit_random is in [0, 1)
// (values outside are clamped), so the caller decides where randomness comes from and tests are exact.
int64_t BackoffDelayUs(const BackoffPolicy &policy, int attempt, double unit_random);

} // namespace dlq::core

#include "core/no_postgres.hpp"
