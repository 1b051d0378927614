#include "core/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/validation.hpp"

namespace dlq::core {

namespace {

// Largest double strictly below 1, so a clamped unit_random stays inside [0, 1).
constexpr double kBelowOne = 1.0 - 1.0 / 9007199254740992.0; // 1 - 2^-53

// base * 2^(attempt - 1), saturated at max. base is compared against max >> shift first so the product
// is only formed when it fits under max (and so never overflows). With base >= 1, a shift of 63 or more
// is always above any int64_t max.
int64_t RawDelayUs(int64_t base_us, int64_t max_us, int attempt) {
	const int shift = std::max(attempt, 1) - 1;
	if (shift >= 63 || base_us > (max_us >> shift)) {
		return max_us;
	}
	return base_us << shift;
}

double ClampUnitRandom(double unit_random) {
	// NaN compares false with everything; treat it as 0 rather than letting it poison the delay.
	if (!(unit_random > 0.0)) {
		return 0.0;
	}
	return std::min(unit_random, kBelowOne);
}

} // namespace

void ValidateBackoffPolicy(const BackoffPolicy &policy) {
	if (policy.base_us <= 0) {
		throw Error(sqlstate::kInvalidParameterValue, "backoff_base must be greater than zero",
		            "The value was " + FormatDuration(policy.base_us) + ".");
	}
	if (policy.max_us < policy.base_us) {
		throw Error(sqlstate::kInvalidParameterValue, "backoff_max must not be less than backoff_base",
		            "The base is " + FormatDuration(policy.base_us) + " and the max is " +
		                FormatDuration(policy.max_us) + ".");
	}
	// Written as a negated range test so that NaN is rejected too.
	if (!(policy.jitter >= 0.0 && policy.jitter < 1.0)) {
		throw Error(sqlstate::kInvalidParameterValue, "backoff jitter must be at least 0 and less than 1",
		            "The jitter was " + std::to_string(policy.jitter) + ".");
	}
}

int64_t BackoffDelayUs(const BackoffPolicy &policy, int attempt, double unit_random) {
	// The function does not throw: a policy that slipped past ValidateBackoffPolicy is made sane
	// (base >= 1, max >= base, jitter in [0, 1)) instead of producing a nonsense or negative delay.
	const int64_t base_us = std::max<int64_t>(policy.base_us, 1);
	const int64_t max_us = std::max(policy.max_us, base_us);
	const double jitter = (policy.jitter > 0.0) ? std::min(policy.jitter, kBelowOne) : 0.0;

	const int64_t raw_us = RawDelayUs(base_us, max_us, attempt);
	const double factor = 1.0 - jitter + 2.0 * jitter * ClampUnitRandom(unit_random);
	const double delay = static_cast<double>(raw_us) * factor;

	// Clamp in the double domain first: converting a double at or above 2^63 to int64_t is undefined.
	if (delay >= static_cast<double>(max_us)) {
		return max_us;
	}
	if (delay <= 1.0) {
		return 1;
	}
	return std::min<int64_t>(std::llround(delay), max_us);
}

} // namespace dlq::core
