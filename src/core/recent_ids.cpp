#include "core/recent_ids.hpp"

namespace dlq::core {

void
RecentIds::Remember(int64_t id) noexcept {
	ids_[next_] = id;
	used_[next_] = true;
	next_ = (next_ + 1) % kCapacity;
}

bool
RecentIds::Forget(int64_t id) noexcept {
	for (int i = 0; i < kCapacity; i++) {
		if (used_[i] && ids_[i] == id) {
			used_[i] = false;
			return true;
		}
	}
	return false;
}

} // namespace dlq::core
