// Shared helpers for the unit tests of claim keys (claim hints, lease bounds).
#pragma once
#include "core/claim_hint.hpp"

namespace dlq::core::test_support {

constexpr ClaimKey Key(int32_t priority, int64_t run_at, int64_t id) {
	return ClaimKey{priority, run_at, id};
}

inline bool SameKey(const ClaimKey &a, const ClaimKey &b) {
	return !KeyBefore(a, b) && !KeyBefore(b, a);
}

} // namespace dlq::core::test_support
